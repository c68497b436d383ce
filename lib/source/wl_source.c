/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pcap / pcapng reader with nanosecond timestamps.
 *
 * The parsers walk s->base with a single cursor, s->pos, that always
 * points at the start of the next record (pcap) or block (pcapng).
 * Invariants:
 *   - nothing is read past s->len: every length is checked against the
 *     bytes left before it is used;
 *   - nothing is allocated or logged after open, and nothing is
 *     system-called per packet: pcapng interfaces live in a fixed table
 *     inside struct wl_source;
 *   - the first error is sticky: s->err and s->errmsg keep it until
 *     wl_source_rewind(), and every packet before it was delivered;
 *   - timestamps are computed in 128 bits and clamped to [0, 2^64-1] ns,
 *     so no resolution or offset in a file can overflow them.
 *
 * wl_source_open() maps a file, wl_source_open_mem() takes the caller's
 * bytes: base is the whole input. Everything else (wirelat's --pcap) is
 * read: a regular file with pread(2), a stream with read(2), into a ring
 * of chunk buffers allocated at open; base is the chunk being parsed,
 * holding the input from offset s->shift on. Where the input at base
 * ends inside a record the parsers call need(), which, before the end
 * of the input, returns -EAGAIN with nothing consumed; source_fill()
 * then reads more behind the bytes at base, or, when the chunk is full,
 * copies the incomplete record to the front of a free chunk and reads
 * behind it. A parse that returns -EAGAIN only recomputes what it had
 * set (byte order, format), so parsing again over more bytes gives what
 * a mapping gives: same packets, same errors at the same offsets.
 *
 * Zero copy: wl_source_rx_burst() attaches each mbuf to its packet's
 * bytes in the chunk, through the chunk's rte_mbuf_ext_shared_info,
 * whose count is the number of such mbufs plus 1 while the reader is in
 * the chunk. Bytes in a chunk never change while its count is above 0:
 * the reader only appends behind them, and reads into a chunk from its
 * front only once the count has gone to 0 (every mbuf freed, the reader
 * gone). With every chunk held, reading waits (-EAGAIN, "chunk_waits").
 * A record larger than a chunk goes through one spare buffer and is
 * copied. Formats and messages are documented in docs/pcap.md.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "wl_common.h"
#include "wl_mbuf.h"
#include "wl_source.h"
#include "wl_source_priv.h"
#include "wl_time.h"

/* ---- format constants ---- */

/* Chained mbufs per packet: 256 KB (the snap length cap) in 2 KB rooms. */
#define WL_SOURCE_MAX_SEGS 160
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_MAGIC_KUZ 0xa1b2cd34u
#define PCAP_FILE_HDR_LEN 24u
/* Upper bits of the link type word carry FCS information. */
#define PCAP_LINKTYPE_MASK 0x03ffffffu

#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_PB 0x00000002u      /* obsolete Packet Block */
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_BOM 0x1a2b3c4du
/* type + length + trailing length */
#define PCAPNG_BLOCK_OVERHEAD 12u
#define PCAPNG_SHB_MIN 28u
#define PCAPNG_IDB_MIN 20u
#define PCAPNG_EPB_MIN 32u
#define PCAPNG_PB_MIN 32u
#define PCAPNG_SPB_MIN 16u

#define PCAPNG_OPT_END 0
#define PCAPNG_IF_TSRESOL 9
#define PCAPNG_IF_TSOFFSET 14

const char *const wl_source_counter_names[] = {
#define _(f, n, d) n,
	foreach_wl_source_counter
#undef _
};

static const char *const format_names[] = {
#define _(e, n) [WL_SOURCE_FMT_ ## e] = n,
	foreach_wl_source_format
#undef _
};

/* ---- helpers ---- */

static inline uint16_t
rd16(const struct wl_source *s, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return s->swap ? rte_bswap16(v) : v;
}

static inline uint32_t
rd32(const struct wl_source *s, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return s->swap ? rte_bswap32(v) : v;
}

static inline uint64_t
rd64(const struct wl_source *s, const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return s->swap ? rte_bswap64(v) : v;
}

static inline uint32_t
align4(uint32_t v)
{
	return (v + 3u) & ~3u;
}

static int __attribute__((format(printf, 3, 0), cold))
vfail(struct wl_source *s, int err, const char *fmt, va_list ap)
{
	size_t n;

	/* A very long name is truncated; the message then is too. */
	n = (size_t)snprintf(s->errmsg, sizeof(s->errmsg), "%s: ", s->name);
	if (n < sizeof(s->errmsg))
		vsnprintf(s->errmsg + n, sizeof(s->errmsg) - n, fmt, ap);
	s->err = err;
	return err;
}

/*
 * Record an error as "<name>: <message>" and make it sticky.
 * Cold path only: called once per source at most between rewinds.
 */
static int __attribute__((format(printf, 3, 4), cold))
fail(struct wl_source *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(s, err, fmt, ap);
	va_end(ap);
	return err;
}

/* All of the input is at base: a file, memory, or a stream at its end. */
static inline int
input_ended(const struct wl_source *s)
{
	return s->rd == NULL || s->eof;
}

/*
 * The input ends inside what starts at the cursor: the error err for a
 * file, -EAGAIN (more bytes may come; nothing consumed) for a stream.
 * Cold: once per file at its end, once per buffer refill for a stream.
 */
static int __attribute__((format(printf, 3, 4), cold))
need(struct wl_source *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (!input_ended(s))
		return -EAGAIN;
	va_start(ap, fmt);
	vfail(s, err, fmt, ap);
	va_end(ap);
	return err;
}

int
wl_source_link_from_dlt(uint32_t dlt, enum wl_link *link)
{
	switch (dlt) {
	case 1:
		*link = WL_LINK_ETHER;
		return 0;
	case 113:
		*link = WL_LINK_SLL;
		return 0;
	case 276:
		*link = WL_LINK_SLL2;
		return 0;
	case 0:
		*link = WL_LINK_NULL;
		return 0;
	case 108:
		*link = WL_LINK_LOOP;
		return 0;
	case 101:       /* LINKTYPE_RAW */
	case 12:        /* DLT_RAW on most BSDs */
	case 14:        /* DLT_RAW on OpenBSD */
		*link = WL_LINK_RAW;
		return 0;
	case 228:
		*link = WL_LINK_IPV4;
		return 0;
	case 229:
		*link = WL_LINK_IPV6;
		return 0;
	case 9:         /* PPP */
	case 50:        /* PPP in HDLC-like framing: decoded the same way */
		*link = WL_LINK_PPP;
		return 0;
	default:
		return -ENOTSUP;
	}
}

/*
 * Raw interface timestamp -> epoch ns. The product is done in 128 bits
 * and the result clamped, so a hostile resolution or offset saturates
 * instead of wrapping.
 */
static inline uint64_t
iface_ts_ns(const struct wl_source_iface *ifc, uint64_t ts)
{
	unsigned __int128 ns;
	__int128 r;

	switch (ifc->kind) {
	case WL_SOURCE_TS_MUL:
		ns = (unsigned __int128)ts * ifc->factor;
		break;
	case WL_SOURCE_TS_DIV:
		ns = ts / ifc->factor;
		break;
	case WL_SOURCE_TS_SHIFT:
		ns = ((unsigned __int128)ts * WL_NS_PER_S) >> ifc->shift;
		break;
	default:
		ns = 0;
		break;
	}
	if (ns > UINT64_MAX)
		ns = UINT64_MAX;
	r = (__int128)ns + (__int128)ifc->offset_s * (__int128)WL_NS_PER_S;
	if (r < 0)
		return 0;
	if (r > (__int128)UINT64_MAX)
		return UINT64_MAX;
	return (uint64_t)r;
}

/* Decode the one-byte if_tsresol value into a conversion rule. */
static void
iface_set_tsresol(struct wl_source_iface *ifc, uint8_t v)
{
	unsigned int n = v & 0x7f;
	uint64_t f = 1;
	unsigned int i;

	if (v & 0x80) {
		ifc->kind = WL_SOURCE_TS_SHIFT;
		ifc->shift = (uint8_t)n;        /* <= 127: defined for 128 bits */
		return;
	}
	if (n <= 9) {
		for (i = n; i < 9; i++)
			f *= 10;
		ifc->kind = WL_SOURCE_TS_MUL;
		ifc->factor = f;
		return;
	}
	/* A 64-bit ts is below 2^64 < 10^20: beyond 10^-(9+19) it is 0 ns. */
	if (n - 9 > 19) {
		ifc->kind = WL_SOURCE_TS_ZERO;
		return;
	}
	for (i = 9; i < n; i++)
		f *= 10;
	ifc->kind = WL_SOURCE_TS_DIV;
	ifc->factor = f;
}

/* ---- classic pcap ---- */

static int
pcap_open(struct wl_source *s, uint32_t magic)
{
	uint16_t major, minor;
	uint32_t dlt;

	s->swap = 0;
	switch (magic) {
	case PCAP_MAGIC_US:
	case PCAP_MAGIC_NS:
	case PCAP_MAGIC_KUZ:
		break;
	default:
		s->swap = 1;
		magic = rte_bswap32(magic);
		break;
	}
	s->rec_hdr_len = 16;
	s->frac_mult = 1000;
	if (magic == PCAP_MAGIC_NS) {
		s->fmt = WL_SOURCE_FMT_PCAP_NS;
		s->frac_mult = 1;
	} else if (magic == PCAP_MAGIC_KUZ) {
		/* Same as us pcap plus ifindex(4) protocol(2) type(1) pad(1). */
		s->fmt = WL_SOURCE_FMT_PCAP_KUZNETZOV;
		s->rec_hdr_len = 24;
	} else {
		s->fmt = WL_SOURCE_FMT_PCAP_US;
	}
	if (s->len < PCAP_FILE_HDR_LEN)
		return need(s, -EINVAL, "truncated file header");
	major = rd16(s, s->base + 4);
	minor = rd16(s, s->base + 6);
	if (major != 2)
		return fail(s, -ENOTSUP, "unsupported pcap version %u.%u",
			major, minor);
	dlt = rd32(s, s->base + 20) & PCAP_LINKTYPE_MASK;
	if (wl_source_link_from_dlt(dlt, &s->link) != 0)
		return fail(s, -ENOTSUP, "unsupported link type %u", dlt);
	s->first = PCAP_FILE_HDR_LEN;
	return 0;
}

static int
pcap_next(struct wl_source *s, struct wl_source_pkt *out)
{
	size_t off = s->pos;
	size_t rem = s->len - off;
	const uint8_t *h = s->base + off;
	uint32_t caplen, orig;
	uint64_t ns;

	if (rem == 0)
		return input_ended(s) ? 0 : -EAGAIN;
	if (rem < s->rec_hdr_len)
		return need(s, -ENODATA,
			"truncated packet record header at offset %zu",
			s->shift + off);
	caplen = rd32(s, h + 8);
	orig = rd32(s, h + 12);
	if (caplen > WL_SOURCE_MAX_CAPLEN)
		return fail(s, -EINVAL,
			"caplen %u above %u at offset %zu",
			caplen, WL_SOURCE_MAX_CAPLEN, s->shift + off);
	if (caplen > rem - s->rec_hdr_len)
		return need(s, -ENODATA,
			"truncated packet record at offset %zu",
			s->shift + off);
	/* Both fields are unsigned 32 bits: the sum cannot exceed 2^64. */
	ns = (uint64_t)rd32(s, h) * WL_NS_PER_S +
		(uint64_t)rd32(s, h + 4) * s->frac_mult;
	out->data = h + s->rec_hdr_len;
	out->caplen = caplen;
	out->wire_len = WL_MAX(orig, caplen);
	out->ts_ns = ns;
	out->link = s->link;
	out->if_id = 0;
	s->pos = off + s->rec_hdr_len + caplen;
	return 1;
}

/* ---- pcapng ---- */

/*
 * Section Header Block at off: sets the byte order, checks the version
 * and forgets the previous section's interfaces. Returns its length.
 */
static int
shb_parse(struct wl_source *s, size_t off, uint32_t *blen)
{
	const uint8_t *b = s->base + off;
	size_t rem = s->len - off;
	uint32_t bom, len;
	uint16_t major, minor;

	if (rem < PCAPNG_SHB_MIN)
		return need(s, -ENODATA,
			"truncated section header block at offset %zu",
			s->shift + off);
	memcpy(&bom, b + 8, sizeof(bom));
	if (bom == PCAPNG_BOM)
		s->swap = 0;
	else if (bom == rte_bswap32(PCAPNG_BOM))
		s->swap = 1;
	else
		return fail(s, -EINVAL,
			"bad byte-order magic in section header at offset %zu",
			s->shift + off);
	len = rd32(s, b + 4);
	if (len < PCAPNG_SHB_MIN || (len & 3) != 0)
		return fail(s, -EINVAL,
			"bad block length %u at offset %zu", len,
			s->shift + off);
	if (len > rem)
		return need(s, -ENODATA,
			"truncated section header block at offset %zu",
			s->shift + off);
	if (rd32(s, b + len - 4) != len)
		return fail(s, -EINVAL,
			"block length mismatch (%u vs trailing %u) at offset %zu",
			len, rd32(s, b + len - 4), s->shift + off);
	major = rd16(s, b + 12);
	minor = rd16(s, b + 14);
	if (major != 1)
		return fail(s, -ENOTSUP,
			"unsupported pcapng version %u.%u at offset %zu",
			major, minor, s->shift + off);
	s->n_ifaces = 0;
	*blen = len;
	return 0;
}

static int
idb_parse(struct wl_source *s, const uint8_t *body, uint32_t body_len,
	size_t off)
{
	struct wl_source_iface *ifc;
	enum wl_link link;
	uint32_t p, code, olen;

	if (s->n_ifaces >= WL_SOURCE_MAX_IFACES)
		return fail(s, -E2BIG,
			"more than %u interfaces in a section at offset %zu",
			WL_SOURCE_MAX_IFACES, s->shift + off);
	ifc = &s->ifaces[s->n_ifaces++];
	memset(ifc, 0, sizeof(*ifc));
	ifc->supported = wl_source_link_from_dlt(rd16(s, body), &link) == 0;
	ifc->link = ifc->supported ? (uint8_t)link : 0;
	ifc->snaplen = rd32(s, body + 4);
	iface_set_tsresol(ifc, 6);
	/*
	 * Options. A malformed option list ends the parsing but is not
	 * fatal: the packets are still usable with default resolution.
	 */
	for (p = 8; p + 4 <= body_len; p += 4 + align4(olen)) {
		code = rd16(s, body + p);
		olen = rd16(s, body + p + 2);
		if (code == PCAPNG_OPT_END || olen > body_len - p - 4)
			break;
		if (code == PCAPNG_IF_TSRESOL && olen >= 1)
			iface_set_tsresol(ifc, body[p + 4]);
		else if (code == PCAPNG_IF_TSOFFSET && olen >= 8)
			ifc->offset_s = (int64_t)rd64(s, body + p + 4);
	}
	return 0;
}

static int
pcapng_open(struct wl_source *s)
{
	uint32_t blen;
	int ret;

	s->fmt = WL_SOURCE_FMT_PCAPNG;
	if (s->len < PCAPNG_SHB_MIN)
		return need(s, -EINVAL, "truncated file header");
	ret = shb_parse(s, 0, &blen);
	if (ret < 0)
		return ret;
	s->first = 0;   /* next() re-reads the SHB: one code path */
	return 0;
}

/*
 * Timestamped packet (EPB or obsolete PB). The fixed part is if_id (32
 * or 16 bits + 16 bits drops), ts high, ts low, caplen, orig len.
 * Returns 1 packet, 0 skipped (unsupported link), or -errno.
 */
static int
tpkt_parse(struct wl_source *s, const uint8_t *body, uint32_t body_len,
	size_t off, int obsolete, struct wl_source_pkt *out)
{
	const struct wl_source_iface *ifc;
	uint32_t if_id, caplen, orig;
	uint64_t ts;

	if_id = obsolete ? rd16(s, body) : rd32(s, body);
	if (if_id >= s->n_ifaces)
		return fail(s, -EINVAL,
			"packet for undefined interface %u at offset %zu",
			if_id, s->shift + off);
	ifc = &s->ifaces[if_id];
	ts = ((uint64_t)rd32(s, body + 4) << 32) | rd32(s, body + 8);
	caplen = rd32(s, body + 12);
	orig = rd32(s, body + 16);
	if (caplen > WL_SOURCE_MAX_CAPLEN)
		return fail(s, -EINVAL, "caplen %u above %u at offset %zu",
			caplen, WL_SOURCE_MAX_CAPLEN, s->shift + off);
	if (caplen > body_len - 20)
		return fail(s, -EINVAL,
			"caplen %u exceeds its block at offset %zu",
			caplen, s->shift + off);
	s->last_ts = iface_ts_ns(ifc, ts);
	if (!ifc->supported) {
		s->st.unsupported_link++;
		return 0;
	}
	out->data = body + 20;
	out->caplen = caplen;
	out->wire_len = WL_MAX(orig, caplen);
	out->ts_ns = s->last_ts;
	out->link = (enum wl_link)ifc->link;
	out->if_id = if_id;
	return 1;
}

/* Simple Packet Block: no timestamp, interface 0, caplen implied. */
static int
spb_parse(struct wl_source *s, const uint8_t *body, uint32_t body_len,
	size_t off, struct wl_source_pkt *out)
{
	const struct wl_source_iface *ifc;
	uint32_t caplen, orig;

	if (s->n_ifaces == 0)
		return fail(s, -EINVAL,
			"simple packet block without interface at offset %zu",
			s->shift + off);
	ifc = &s->ifaces[0];
	orig = rd32(s, body);
	caplen = WL_MIN(orig, body_len - 4);
	if (ifc->snaplen != 0)
		caplen = WL_MIN(caplen, ifc->snaplen);
	if (caplen > WL_SOURCE_MAX_CAPLEN)
		return fail(s, -EINVAL, "caplen %u above %u at offset %zu",
			caplen, WL_SOURCE_MAX_CAPLEN, s->shift + off);
	if (!ifc->supported) {
		s->st.unsupported_link++;
		return 0;
	}
	out->data = body + 4;
	out->caplen = caplen;
	out->wire_len = WL_MAX(orig, caplen);
	out->ts_ns = s->last_ts;
	out->link = (enum wl_link)ifc->link;
	out->if_id = 0;
	return 1;
}

static int
pcapng_next(struct wl_source *s, struct wl_source_pkt *out)
{
	const uint8_t *b, *body;
	uint32_t type, blen, body_len;
	size_t off, rem;
	int ret;

	for (;;) {
		off = s->pos;
		rem = s->len - off;
		if (rem == 0)
			return input_ended(s) ? 0 : -EAGAIN;
		if (rem < PCAPNG_BLOCK_OVERHEAD)
			return need(s, -ENODATA,
				"truncated block header at offset %zu",
				s->shift + off);
		b = s->base + off;
		type = rd32(s, b);      /* SHB type reads the same either way */
		if (type == PCAPNG_SHB) {
			ret = shb_parse(s, off, &blen);
			if (ret < 0)
				return ret;
			s->pos = off + blen;
			continue;
		}
		blen = rd32(s, b + 4);
		if (blen < PCAPNG_BLOCK_OVERHEAD || (blen & 3) != 0)
			return fail(s, -EINVAL,
				"bad block length %u at offset %zu", blen,
				s->shift + off);
		if (blen > rem)
			return need(s, -ENODATA,
				"truncated block at offset %zu",
				s->shift + off);
		if (rd32(s, b + blen - 4) != blen)
			return fail(s, -EINVAL,
				"block length mismatch (%u vs trailing %u) at offset %zu",
				blen, rd32(s, b + blen - 4), s->shift + off);
		body = b + 8;
		body_len = blen - PCAPNG_BLOCK_OVERHEAD;
		s->pos = off + blen;
		switch (type) {
		case PCAPNG_EPB:
		case PCAPNG_PB:
			if (blen < PCAPNG_EPB_MIN)
				return fail(s, -EINVAL,
					"block length %u too small for a packet block at offset %zu",
					blen, s->shift + off);
			ret = tpkt_parse(s, body, body_len, off,
				type == PCAPNG_PB, out);
			break;
		case PCAPNG_SPB:
			if (blen < PCAPNG_SPB_MIN)
				return fail(s, -EINVAL,
					"block length %u too small for a simple packet block at offset %zu",
					blen, s->shift + off);
			ret = spb_parse(s, body, body_len, off, out);
			break;
		case PCAPNG_IDB:
			if (blen < PCAPNG_IDB_MIN)
				return fail(s, -EINVAL,
					"block length %u too small for an interface block at offset %zu",
					blen, s->shift + off);
			ret = idb_parse(s, body, body_len, off);
			break;
		default:
			s->st.skipped_blocks++;
			ret = 0;
			break;
		}
		if (ret != 0)
			return ret;
	}
}

/* ---- open / close ---- */

static struct wl_source *
source_new(const void *buf, size_t len, const char *name)
{
	struct wl_source *s;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->name = strdup(name != NULL ? name : "<mem>");
	if (s->name == NULL) {
		free(s);
		return NULL;
	}
	s->base = buf;
	s->len = len;
	s->fd = -1;
	s->fd_flags = -1;
	s->cur = WL_SOURCE_NO_CHUNK;
	return s;
}

/*
 * Memory for the ring and the spare buffer: anonymous pages, resident
 * only once touched (a source reading one chunk at a time touches few),
 * page-aligned for wl_source_release().
 */
static uint8_t *
pages_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
pages_free(uint8_t *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}

static void
source_free(struct wl_source *s)
{
	if (s == NULL)
		return;
	if (s->map != NULL)
		munmap(s->map, s->len);
	if (s->fd >= 0) {
		if (s->fd_flags >= 0)
			(void)fcntl(s->fd, F_SETFL, s->fd_flags);
		else
			close(s->fd);
	}
	free(s->chunks);
	pages_free(s->chunk_mem, (size_t)s->n_chunks * s->chunk_size);
	pages_free(s->spare, s->spare_cap);
	free(s->name);
	free(s);
}

/* Recognise the format and check the file header. */
static int
source_start(struct wl_source *s)
{
	uint32_t magic;
	int ret;

	if (s->len == 0)
		return need(s, -EINVAL, "empty file");
	if (s->len < 4)
		return need(s, -EINVAL, "truncated file header");
	memcpy(&magic, s->base, sizeof(magic));
	switch (magic) {
	case PCAP_MAGIC_US:
	case PCAP_MAGIC_NS:
	case PCAP_MAGIC_KUZ:
	case RTE_STATIC_BSWAP32(PCAP_MAGIC_US):
	case RTE_STATIC_BSWAP32(PCAP_MAGIC_NS):
	case RTE_STATIC_BSWAP32(PCAP_MAGIC_KUZ):
		ret = pcap_open(s, magic);
		break;
	case PCAPNG_SHB:
		ret = pcapng_open(s);
		break;
	default:
		if (s->base[0] == 0x1f && s->base[1] == 0x8b)
			return fail(s, -EINVAL,
				"gzip-compressed file: decompress it first");
		return fail(s, -EINVAL, "not a pcap or pcapng file");
	}
	if (ret < 0)
		return ret;
	s->pos = s->first;
	return 0;
}

/* Hand the error to the caller's buffer and rte_errno, free s. */
static struct wl_source *
open_failed(struct wl_source *s, int ret, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		wl_strlcpy(err, s->errmsg, errlen);
	source_free(s);
	rte_errno = -ret;
	return NULL;
}

static void
nomem(const char *name, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: out of memory", name);
	rte_errno = ENOMEM;
}

struct wl_source *
wl_source_open_mem(const void *buf, size_t len, const char *name,
	char *err, size_t errlen)
{
	struct wl_source *s;
	int ret;

	if (name == NULL)
		name = "<mem>";
	s = source_new(buf, len, name);
	if (s == NULL) {
		nomem(name, err, errlen);
		return NULL;
	}
	ret = source_start(s);
	if (ret < 0)
		return open_failed(s, ret, err, errlen);
	return s;
}

/* Map the regular file behind fd (left open for the caller to close). */
static int
file_map(struct wl_source *s, int fd, const struct stat *st)
{
	void *map;
	int ret;

	if (st->st_size > 0) {
		/* The kernel pages the file in as we walk it: no read(). */
		map = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE,
			fd, 0);
		if (map == MAP_FAILED) {
			ret = -errno;
			return fail(s, ret, "mmap: %s", strerror(-ret));
		}
		madvise(map, (size_t)st->st_size, MADV_SEQUENTIAL);
		s->map = map;
		s->base = map;
		s->len = (size_t)st->st_size;
	}
	return source_start(s);
}

struct wl_source *
wl_source_open(const char *path, char *err, size_t errlen)
{
	struct wl_source *s;
	struct stat st;
	int fd, ret;

	s = source_new(NULL, 0, path);
	if (s == NULL) {
		nomem(path, err, errlen);
		return NULL;
	}
	/* O_NONBLOCK: a FIFO is refused below, not waited on for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		fail(s, ret, "%s", strerror(-ret));
		return open_failed(s, ret, err, errlen);
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		fail(s, ret, "%s", strerror(-ret));
	} else if (!S_ISREG(st.st_mode)) {
		ret = fail(s, -EINVAL, "not a regular file");
	} else {
		ret = file_map(s, fd, &st);
	}
	close(fd);
	if (ret < 0)
		return open_failed(s, ret, err, errlen);
	return s;
}

/* ---- read input: the chunk ring ---- */

/*
 * Called by DPDK, on whatever lcore freed it, when the last mbuf attached
 * to a chunk the reader has left goes. Nothing to do: the reader sees the
 * count at 0 when it looks for a chunk to read into.
 */
static void
chunk_free_cb(void *addr __rte_unused, void *opaque __rte_unused)
{
}

/*
 * Leave the current chunk: count the mbufs attached to it since the last
 * count and drop the reader's hold, in one atomic add. The hold kept the
 * count above 0 until then, so no mbuf free could see it reach 0 early,
 * and DPDK's free takes its non-atomic path (count 1) only when no one
 * else holds the chunk.
 */
static void
chunk_leave(struct wl_source *s)
{
	if (s->cur != WL_SOURCE_NO_CHUNK)
		__atomic_add_fetch(&s->chunks[s->cur].sh.refcnt,
			(uint16_t)(s->pend - 1), __ATOMIC_ACQ_REL);
	s->pend = 0;
	s->cur = WL_SOURCE_NO_CHUNK;
}

/*
 * The first chunk no mbuf references, or WL_SOURCE_NO_CHUNK. Lowest
 * first: when the parsers keep up (one lcore reads and parses) two
 * chunks alternate and stay in cache, and only the chunks a backlog
 * needs are ever touched (resident). The acquire pairs with the release
 * of the free that dropped the count: the parser has finished reading
 * the bytes the reader is about to overwrite.
 */
static uint32_t
chunk_find_free(const struct wl_source *s)
{
	uint32_t c;

	for (c = 0; c < s->n_chunks; c++)
		if (__atomic_load_n(&s->chunks[c].sh.refcnt,
				__ATOMIC_ACQUIRE) == 0)
			return c;
	return WL_SOURCE_NO_CHUNK;
}

/*
 * The buffer at base is full (or there is none yet) and the record at the
 * cursor incomplete: move the tail (the bytes from the cursor on) to the
 * front of a buffer with room behind it. A tail that fits a chunk goes to
 * a free chunk; a record larger than a chunk to the spare buffer, whose
 * packets are copied into mbufs, never attached. The spare buffer has
 * WL_SOURCE_STREAM_BUF bytes; for a file it doubles when one record fills
 * it, as a mapping would have held any block.
 * @return 0; -EAGAIN when every chunk is held by mbufs (counted); or a
 *   sticky -E2BIG (a stream's block larger than the spare buffer) or
 *   -ENOMEM.
 */
static int
buf_switch(struct wl_source *s)
{
	size_t tail = s->len - s->pos;
	uint8_t *to;
	uint32_t c;

	if (tail < s->chunk_size) {
		c = chunk_find_free(s);
		if (c == WL_SOURCE_NO_CHUNK) {
			s->st.chunk_waits++;
			return -EAGAIN;
		}
		/* Free: only the reader can change its count now. */
		__atomic_store_n(&s->chunks[c].sh.refcnt, 1, __ATOMIC_RELAXED);
		to = s->chunks[c].buf;
		memcpy(to, s->base + s->pos, tail);
		chunk_leave(s);
		s->cur = c;
		s->cap = s->chunk_size;
	} else if (s->buf != s->spare) {
		/* A full chunk holding one incomplete record. */
		memcpy(s->spare, s->base + s->pos, tail);
		chunk_leave(s);
		to = s->spare;
		s->cap = s->spare_cap;
	} else if (s->pos > 0) {
		to = s->spare;
		memmove(to, to + s->pos, tail);
	} else if (!s->seekable) {
		/* The record at the cursor needs more than the whole buffer. */
		return fail(s, -E2BIG,
			"block at offset %zu larger than the stream buffer "
			"(%u bytes)", s->shift, WL_SOURCE_STREAM_BUF);
	} else {
		to = pages_alloc(s->spare_cap * 2);
		if (to == NULL)
			return fail(s, -ENOMEM, "out of memory");
		memcpy(to, s->spare, tail);
		pages_free(s->spare, s->spare_cap);
		s->spare = to;
		s->spare_cap *= 2;
		s->cap = s->spare_cap;
	}
	s->shift += s->pos;
	s->buf = to;
	s->base = to;
	s->len = tail;
	s->pos = 0;
	return 0;
}

/*
 * Read once into the room behind the buffer at base, after moving to
 * another buffer if it is full (or is the spare buffer, no longer
 * needed). Bytes already in a buffer never move or change: mbufs may be
 * attached to them.
 * @return 1 bytes added or end of input seen; -EAGAIN nothing to read
 *   now, or no chunk free; -EINTR interrupted (the caller decides: an
 *   error while opening, nothing new after); another -errno, recorded
 *   as the sticky error.
 */
static int
source_fill(struct wl_source *s)
{
	size_t room;
	ssize_t n;
	int ret;

	/* Out of the spare buffer once no record larger than a chunk is
	 * at the cursor: the packets behind it are attached again. */
	if (s->len == s->cap || (s->buf == s->spare &&
			s->len - s->pos < s->chunk_size)) {
		ret = buf_switch(s);
		if (ret < 0)
			return ret;
	}
	room = s->cap - s->len;
	/* Into the spare buffer, a chunk at a time: what follows the big
	 * record is read into it (and copied) for at most one chunk. */
	if (s->buf == s->spare && room > s->chunk_size)
		room = s->chunk_size;
	n = s->rd(s->rd_arg, s->buf + s->len, room);
	if (n > 0) {
		s->len += (size_t)n;
		return 1;
	}
	if (n == 0) {
		s->eof = 1;
		return 1;
	}
	if (n == -EAGAIN || n == -EINTR)
		return (int)n;
	return fail(s, (int)n, "read: %s", strerror((int)-n));
}

/* Read until the file header is complete (the reader may block). */
static int
stream_start(struct wl_source *s)
{
	int ret;

	while ((ret = source_start(s)) == -EAGAIN) {
		ret = source_fill(s);
		if (ret == -EINTR)
			return fail(s, -EINTR,
				"interrupted while waiting for the file "
				"header");
		if (ret == -EAGAIN)
			return fail(s, -EAGAIN,
				"no data for the file header yet");
		if (ret < 0)
			return ret;
	}
	return ret;
}

/*
 * Read s through rd, into a chunk ring of the given geometry (NULL: the
 * default), and check its file header. @return 0 or -errno (message set).
 */
static int
ring_init(struct wl_source *s, const struct wl_source_ring *ring,
	wl_source_read_t rd, void *arg)
{
	uint32_t size = ring != NULL ? ring->chunk_size : WL_SOURCE_CHUNK_SIZE;
	uint32_t n = ring != NULL ? ring->n_chunks : WL_SOURCE_CHUNKS;
	uint32_t i;

	/* Bounded so a chunk's 16-bit count holds the reader's hold and
	 * one mbuf per packet of 17 bytes or more (empty ones are copied). */
	RTE_BUILD_BUG_ON(WL_SOURCE_CHUNK_MAX / 17 + 1 >= UINT16_MAX);
	RTE_BUILD_BUG_ON(WL_SOURCE_CHUNK_MAX > WL_SOURCE_STREAM_BUF);
	if (size < WL_SOURCE_CHUNK_MIN || size > WL_SOURCE_CHUNK_MAX ||
			n < 2 || n > WL_SOURCE_CHUNKS_MAX)
		return fail(s, -EINVAL, "chunk ring of %u x %u bytes out of "
			"range", n, size);
	s->chunks = calloc(n, sizeof(*s->chunks));
	if (s->chunks == NULL)
		return fail(s, -ENOMEM, "out of memory");
	s->chunk_mem = pages_alloc((size_t)n * size);
	if (s->chunk_mem == NULL)
		return fail(s, -ENOMEM, "out of memory");
	s->n_chunks = n;
	s->chunk_size = size;
	/* Not touched until a record larger than a chunk comes. */
	s->spare = pages_alloc(WL_SOURCE_STREAM_BUF);
	if (s->spare == NULL)
		return fail(s, -ENOMEM, "out of memory");
	s->spare_cap = WL_SOURCE_STREAM_BUF;
	for (i = 0; i < n; i++) {
		s->chunks[i].buf = s->chunk_mem + (size_t)i * size;
		s->chunks[i].sh.free_cb = chunk_free_cb;
		s->chunks[i].sh.fcb_opaque = s;
	}
	/* Empty and without room: the first read takes a chunk. */
	s->buf = s->spare;
	s->base = s->spare;
	s->len = 0;
	s->cap = 0;
	s->rd = rd;
	s->rd_arg = arg;
	return stream_start(s);
}

struct wl_source *
wl_source_open_reader_ring(wl_source_read_t rd, void *arg, const char *name,
	const struct wl_source_ring *ring, char *err, size_t errlen)
{
	struct wl_source *s;
	int ret;

	if (name == NULL)
		name = "<stream>";
	s = source_new(NULL, 0, name);
	if (s == NULL) {
		nomem(name, err, errlen);
		return NULL;
	}
	ret = ring_init(s, ring, rd, arg);
	if (ret < 0)
		return open_failed(s, ret, err, errlen);
	return s;
}

struct wl_source *
wl_source_open_reader(wl_source_read_t rd, void *arg, const char *name,
	char *err, size_t errlen)
{
	return wl_source_open_reader_ring(rd, arg, name, NULL, err, errlen);
}

/* A regular file, through pread(2) up to its size at open. */
static ssize_t
file_read(void *arg, void *buf, size_t len)
{
	struct wl_source *s = arg;
	ssize_t n;

	if (len > s->file_end - s->file_off)
		len = (size_t)(s->file_end - s->file_off);
	if (len == 0)
		return 0;
	n = pread(s->fd, buf, len, (off_t)s->file_off);
	if (n < 0)
		return -errno;
	s->file_off += (uint64_t)n;
	return n;
}

/*
 * Read the regular file behind fd into the chunk ring. keep: fd is not
 * ours (stdin), it is left open at close.
 */
static int
file_init(struct wl_source *s, int fd, const struct stat *st, int keep)
{
	int ret;

	if (keep) {
		s->fd_flags = fcntl(fd, F_GETFL);
		if (s->fd_flags < 0) {
			ret = -errno;
			return fail(s, ret, "%s", strerror(-ret));
		}
	}
	s->fd = fd;
	s->seekable = 1;
	s->file_end = (uint64_t)st->st_size;
	/* Read-ahead for a file not in the page cache; advice only. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return ring_init(s, NULL, file_read, s);
}

static ssize_t
fd_read(void *arg, void *buf, size_t len)
{
	ssize_t n = read((int)(intptr_t)arg, buf, len);

	if (n >= 0)
		return n;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

/*
 * Read the pipe, FIFO or device fd as a stream. keep: fd is not ours
 * (stdin): its flags are restored at close instead of closing it.
 */
static int
fd_stream(struct wl_source *s, int fd, int keep)
{
	int fl, ret;

	if (isatty(fd))
		return fail(s, -EINVAL, "a terminal, not a capture: pipe one "
			"in (tcpdump -w - | wirelat --pcap -)");
	fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		ret = -errno;
		return fail(s, ret, "%s", strerror(-ret));
	}
	if (keep) {
		s->fd = fd;
		s->fd_flags = fl;
	}
	/* A larger pipe lets the writer run ahead of a busy reader; best
	 * effort (the limit is /proc/sys/fs/pipe-max-size), never smaller. */
	ret = fcntl(fd, F_GETPIPE_SZ);
	if (ret >= 0 && ret < (int)WL_SOURCE_STREAM_BUF)
		(void)fcntl(fd, F_SETPIPE_SZ, WL_SOURCE_STREAM_BUF);
	/* The header is read blocking (main thread, at start-up) ... */
	if ((fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		ret = -errno;
		return fail(s, ret, "%s", strerror(-ret));
	}
	ret = ring_init(s, NULL, fd_read, (void *)(intptr_t)fd);
	if (ret < 0)
		return ret;
	/* ... the packets never: the RX lcore polls, it must not sleep. */
	if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = -errno;
		return fail(s, ret, "%s", strerror(-ret));
	}
	return 0;
}

struct wl_source *
wl_source_open_stream(const char *path, char *err, size_t errlen)
{
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "stdin" : path;
	struct wl_source *s;
	struct stat st;
	int fd, ret;

	s = source_new(NULL, 0, name);
	if (s == NULL) {
		nomem(name, err, errlen);
		return NULL;
	}
	if (is_stdin) {
		fd = STDIN_FILENO;
	} else {
		/* A FIFO: blocks until a writer opens it, or a signal. */
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			if (ret == -EINTR)
				fail(s, ret, "interrupted while waiting for a "
					"writer");
			else
				fail(s, ret, "%s", strerror(-ret));
			return open_failed(s, ret, err, errlen);
		}
		s->fd = fd;     /* closed by source_free() */
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		fail(s, ret, "%s", strerror(-ret));
	} else if (S_ISREG(st.st_mode) &&
			(!is_stdin || lseek(fd, 0, SEEK_CUR) == 0)) {
		ret = file_init(s, fd, &st, is_stdin);
	} else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) ||
			S_ISSOCK(st.st_mode) || S_ISREG(st.st_mode)) {
		/* The last: stdin from a file that was read part-way,
		 * read on from where it is. */
		ret = fd_stream(s, fd, is_stdin);
	} else {
		ret = fail(s, -EINVAL,
			"not a regular file, FIFO or character device");
	}
	if (ret < 0)
		return open_failed(s, ret, err, errlen);
	return s;
}

void
wl_source_close(struct wl_source *s)
{
	source_free(s);
}

/* ---- reading ---- */

static inline int
parse_next(struct wl_source *s, struct wl_source_pkt *out)
{
	if (s->fmt == WL_SOURCE_FMT_PCAPNG)
		return pcapng_next(s, out);
	return pcap_next(s, out);
}

/*
 * The parser ran out of buffered bytes: refill until a record is whole.
 * Out of line: once per chunk (or per read of a stream).
 */
static int __attribute__((noinline))
stream_next(struct wl_source *s, struct wl_source_pkt *out)
{
	int ret;

	for (;;) {
		ret = source_fill(s);
		if (ret == -EINTR)
			return -EAGAIN;         /* nothing blocks: try again */
		if (ret < 0)
			return ret;
		ret = parse_next(s, out);
		if (ret != -EAGAIN)
			return ret;
	}
}

int
wl_source_next(struct wl_source *s, struct wl_source_pkt *out)
{
	int ret;

	if (unlikely(s->err != 0))
		return s->err;
	if (unlikely(s->done))
		return 0;
	ret = parse_next(s, out);
	if (unlikely(ret == -EAGAIN))
		ret = stream_next(s, out);
	if (ret == 1) {
		s->st.packets++;
		s->st.bytes += out->caplen;
	} else if (ret == 0) {
		s->done = 1;
		chunk_leave(s); /* nothing more is attached */
	} else if (ret != -EAGAIN) {
		chunk_leave(s);
	}
	return ret;
}

uint16_t
wl_source_rx_burst(struct wl_source *s, struct rte_mempool *mp,
	struct rte_mbuf **pkts, uint16_t n)
{
	struct wl_source_pkt p;
	struct wl_mbuf_meta *meta;
	struct rte_mbuf *m;
	uint16_t i;

	if (n == 0 || s->err != 0 || s->done)
		return 0;
	if (rte_pktmbuf_alloc_bulk(mp, pkts, n) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (wl_source_next(s, &p) != 1)
			break;
		m = pkts[i];
		if (s->cur != WL_SOURCE_NO_CHUNK && p.caplen != 0 &&
				p.caplen <= rte_pktmbuf_tailroom(m)) {
			/* In place: the chunk is the buffer, counted below.
			 * No IOVA: nothing DMAs from offline input. */
			s->pend++;
			rte_pktmbuf_attach_extbuf(m, (void *)(uintptr_t)p.data,
				RTE_BAD_IOVA, (uint16_t)p.caplen,
				&s->chunks[s->cur].sh);
			m->data_len = (uint16_t)p.caplen;
			m->pkt_len = p.caplen;
		} else if (unlikely(wl_mbuf_copy_in(mp, m, p.data, p.caplen,
				WL_SOURCE_MAX_SEGS) != 0)) {
			/* Larger than one data room (64 KB loopback frames):
			 * chained, as a NIC with scatter RX would. */
			s->st.oversize++;
		}
		m->hash.rss = 0;        /* no NIC hash: RX hashes in software */
		meta = wl_mbuf_meta(m);
		meta->ts_ns = p.ts_ns;
		meta->link = (uint8_t)p.link;
		meta->ts_source = WL_TS_PCAP;
		meta->wire_len = p.wire_len;
	}
	if (i < n)
		rte_pktmbuf_free_bulk(&pkts[i], n - i);
	/* The burst's references in one atomic add, before any of its
	 * mbufs can reach another lcore; the hold covered them so far. */
	if (s->pend != 0) {
		__atomic_add_fetch(&s->chunks[s->cur].sh.refcnt,
			(uint16_t)s->pend, __ATOMIC_ACQ_REL);
		s->pend = 0;
	}
	return i;
}

/* Drop the whole pages inside [p, p + len) from the process: their
 * memory goes back to the system, and reads as zeros if touched again. */
static void
pages_release(uint8_t *p, size_t len)
{
	uintptr_t pg = (uintptr_t)getpagesize();
	uintptr_t lo = RTE_ALIGN_CEIL((uintptr_t)p, pg);
	uintptr_t hi = RTE_ALIGN_FLOOR((uintptr_t)p + len, pg);

	/* Advice: a failure only leaves them resident. */
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

int
wl_source_release(struct wl_source *s)
{
	uint32_t c;

	if (s->chunks == NULL || s->released)
		return 0;
	if (!s->done && s->err == 0)
		return -EBUSY;
	/* The reader left its chunk at the end: a count above 0 is an mbuf
	 * a parser has not freed yet. */
	for (c = 0; c < s->n_chunks; c++)
		if (__atomic_load_n(&s->chunks[c].sh.refcnt,
				__ATOMIC_ACQUIRE) != 0)
			return -EBUSY;
	pages_release(s->chunk_mem, (size_t)s->n_chunks * s->chunk_size);
	pages_release(s->spare, s->spare_cap);
	s->released = 1;
	return 0;
}

int
wl_source_rewind(struct wl_source *s)
{
	if (s->rd != NULL && !s->seekable)
		return -ESPIPE;         /* what was read is gone */
	if (s->rd != NULL) {
		/* Read again from the first record, into a free chunk: held
		 * mbufs keep theirs. */
		chunk_leave(s);
		s->buf = s->spare;
		s->base = s->spare;
		s->len = 0;
		s->cap = 0;
		s->shift = s->first;
		s->file_off = s->first;
		s->eof = 0;
		s->pos = 0;
		s->released = 0;
	} else {
		s->pos = s->first;
	}
	s->err = 0;
	s->done = 0;
	s->errmsg[0] = '\0';
	s->n_ifaces = 0;
	s->last_ts = 0;
	return 0;
}

int
wl_source_done(const struct wl_source *s)
{
	return s->done;
}

const char *
wl_source_error(const struct wl_source *s)
{
	return s->err != 0 ? s->errmsg : NULL;
}

void
wl_source_stats_get(const struct wl_source *s, struct wl_source_stats *st)
{
	*st = s->st;
}

enum wl_source_format
wl_source_format(const struct wl_source *s)
{
	return s->fmt;
}

const char *
wl_source_format_name(enum wl_source_format f)
{
	if ((unsigned int)f >= WL_SOURCE_FMT_MAX)
		return "unknown";
	return format_names[f];
}

enum wl_link
wl_source_link(const struct wl_source *s)
{
	if (s->fmt != WL_SOURCE_FMT_PCAPNG)
		return s->link;
	if (s->n_ifaces == 0 || !s->ifaces[0].supported)
		return WL_LINK_MAX;
	return (enum wl_link)s->ifaces[0].link;
}
