/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_TEST_PCAP_H
#define WL_TEST_PCAP_H

/*
 * Builders for pcap and pcapng byte images, written field by field in
 * either byte order, so tests describe a file instead of embedding hex.
 * Each helper returns the offset where the thing it wrote starts, which
 * tests use to predict error offsets.
 */

#include <stdint.h>
#include <string.h>

#define IMG_MAX (1 << 20)

struct img {
	size_t len;
	int be;                 /* write multi-byte fields big-endian */
	uint8_t b[IMG_MAX];
};

static inline void
img_reset(struct img *im, int be)
{
	im->len = 0;
	im->be = be;
}

static inline void
img_put_at(struct img *im, size_t off, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		unsigned int sh = im->be ? 8 * (n - 1 - i) : 8 * i;

		im->b[off + i] = (uint8_t)(v >> sh);
	}
}

static inline void
img_put(struct img *im, uint64_t v, unsigned int n)
{
	img_put_at(im, im->len, v, n);
	im->len += n;
}

static inline void
img_bytes(struct img *im, const void *p, size_t n)
{
	memcpy(im->b + im->len, p, n);
	im->len += n;
}

static inline void
img_zero(struct img *im, size_t n)
{
	memset(im->b + im->len, 0, n);
	im->len += n;
}

static inline void
img_pad4(struct img *im)
{
	while (im->len & 3)
		im->b[im->len++] = 0;
}

/* Deterministic payload: depends on seed and position only. */
static inline void
payload_fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

/* ---- classic pcap ---- */

static inline size_t
pcap_file_hdr(struct img *im, uint32_t magic, uint32_t linkword,
	uint32_t snaplen)
{
	size_t off = im->len;

	img_put(im, magic, 4);
	img_put(im, 2, 2);
	img_put(im, 4, 2);
	img_put(im, 0, 4);      /* thiszone */
	img_put(im, 0, 4);      /* sigfigs */
	img_put(im, snaplen, 4);
	img_put(im, linkword, 4);
	return off;
}

/* kuz: the modified format's 8 extra header bytes. */
static inline size_t
pcap_rec(struct img *im, uint32_t sec, uint32_t frac, uint32_t caplen,
	uint32_t orig, unsigned int seed, int kuz)
{
	size_t off = im->len;

	img_put(im, sec, 4);
	img_put(im, frac, 4);
	img_put(im, caplen, 4);
	img_put(im, orig, 4);
	if (kuz) {
		img_put(im, 3, 4);      /* ifindex */
		img_put(im, 0x0800, 2); /* protocol */
		img_put(im, 0, 1);      /* pkt_type */
		img_put(im, 0, 1);
	}
	payload_fill(im->b + im->len, caplen, seed);
	im->len += caplen;
	return off;
}

/* ---- pcapng ---- */

static inline size_t
ng_begin(struct img *im, uint32_t type)
{
	size_t off = im->len;

	img_put(im, type, 4);
	img_put(im, 0, 4);      /* patched by ng_end() */
	return off;
}

static inline void
ng_end(struct img *im, size_t off)
{
	uint32_t len;

	img_pad4(im);
	len = (uint32_t)(im->len + 4 - off);
	img_put_at(im, off + 4, len, 4);
	img_put(im, len, 4);
}

static inline size_t
ng_shb(struct img *im)
{
	size_t off = ng_begin(im, 0x0a0d0d0a);

	img_put(im, 0x1a2b3c4d, 4);
	img_put(im, 1, 2);
	img_put(im, 0, 2);
	img_put(im, UINT64_MAX, 8);     /* section length unknown */
	ng_end(im, off);
	return off;
}

/* tsresol < 0: option absent. has_off: write if_tsoffset. */
static inline size_t
ng_idb(struct img *im, uint16_t linktype, uint32_t snaplen, int tsresol,
	int has_off, int64_t tsoffset)
{
	size_t off = ng_begin(im, 1);

	img_put(im, linktype, 2);
	img_put(im, 0, 2);
	img_put(im, snaplen, 4);
	/* an option we ignore, to check option walking */
	img_put(im, 2, 2);              /* if_name */
	img_put(im, 5, 2);
	img_bytes(im, "eth0x", 5);
	img_pad4(im);
	if (tsresol >= 0) {
		img_put(im, 9, 2);
		img_put(im, 1, 2);
		img_put(im, (uint8_t)tsresol, 1);
		img_pad4(im);
	}
	if (has_off) {
		img_put(im, 14, 2);
		img_put(im, 8, 2);
		img_put(im, (uint64_t)tsoffset, 8);
	}
	img_put(im, 0, 2);              /* opt_endofopt */
	img_put(im, 0, 2);
	ng_end(im, off);
	return off;
}

static inline size_t
ng_epb(struct img *im, uint32_t if_id, uint64_t ts, uint32_t caplen,
	uint32_t orig, unsigned int seed)
{
	size_t off = ng_begin(im, 6);

	img_put(im, if_id, 4);
	img_put(im, ts >> 32, 4);
	img_put(im, ts & 0xffffffffu, 4);
	img_put(im, caplen, 4);
	img_put(im, orig, 4);
	payload_fill(im->b + im->len, caplen, seed);
	im->len += caplen;
	ng_end(im, off);
	return off;
}

/* Obsolete Packet Block: 16-bit interface id and drops count. */
static inline size_t
ng_pb(struct img *im, uint16_t if_id, uint64_t ts, uint32_t caplen,
	uint32_t orig, unsigned int seed)
{
	size_t off = ng_begin(im, 2);

	img_put(im, if_id, 2);
	img_put(im, 0, 2);
	img_put(im, ts >> 32, 4);
	img_put(im, ts & 0xffffffffu, 4);
	img_put(im, caplen, 4);
	img_put(im, orig, 4);
	payload_fill(im->b + im->len, caplen, seed);
	im->len += caplen;
	ng_end(im, off);
	return off;
}

static inline size_t
ng_spb(struct img *im, uint32_t orig, uint32_t stored, unsigned int seed)
{
	size_t off = ng_begin(im, 3);

	img_put(im, orig, 4);
	payload_fill(im->b + im->len, stored, seed);
	im->len += stored;
	ng_end(im, off);
	return off;
}

static inline size_t
ng_other(struct img *im, uint32_t type, size_t body)
{
	size_t off = ng_begin(im, type);

	img_zero(im, body);
	ng_end(im, off);
	return off;
}

#endif /* WL_TEST_PCAP_H */
