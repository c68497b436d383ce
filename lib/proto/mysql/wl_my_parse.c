/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * MySQL packet framing, a byte at a time for headers, by count for
 * payloads (only a bounded prefix is copied), and the stateless decoders
 * the pairing layer and the probe share.
 *
 *   | len (3, LE) | seq (1) | payload (len) |
 *
 * A payload of exactly 0xffffff bytes continues in the next packet (seq
 * + 1); the logical packet ends at the first shorter one, possibly empty.
 */

#include <string.h>

#include "wl_common.h"
#include "wl_my_parse.h"

enum {
	ST_HDR = 0,             /* header bytes */
	ST_BODY = 1,            /* payload bytes, counted */
	ST_END = 2,             /* END to report */
	ST_SCAN = 3,            /* looking for a command header */
};

void
wl_my_framer_init(struct wl_my_framer *f)
{
	memset(f, 0, sizeof(*f));
}

void
wl_my_framer_reset(struct wl_my_framer *f)
{
	f->st = ST_HDR;
	f->hlen = 0;
	f->cont = 0;
}

void
wl_my_framer_scan(struct wl_my_framer *f)
{
	wl_my_framer_reset(f);
	f->st = ST_SCAN;
}

void
wl_my_framer_rescan(struct wl_my_framer *f)
{
	/* The header just read was not one: its last 3 bytes may start
	 * the real one. */
	memmove(f->hdr, f->hdr + 1, 3);
	memmove(f->wts, f->wts + 1, 3 * sizeof(f->wts[0]));
	f->hlen = 3;
	f->cont = 0;
	f->st = ST_SCAN;
}

int
wl_my_framer_idle(const struct wl_my_framer *f)
{
	return f->st == ST_HDR && f->hlen == 0 && !f->cont;
}

int
wl_my_cmd_ok(uint8_t cmd, uint64_t len)
{
	switch (cmd) {
	case WL_MY_COM_QUIT:
	case WL_MY_COM_PING:
	case WL_MY_COM_STATISTICS:
	case WL_MY_COM_RESET_CONNECTION:
		return len == 1;
	case WL_MY_COM_INIT_DB:
		return len >= 2 && len <= 257;
	case WL_MY_COM_QUERY:
	case WL_MY_COM_STMT_PREPARE:
		return len >= 2;
	case WL_MY_COM_FIELD_LIST:
		return len >= 2 && len < 1024;
	case WL_MY_COM_CHANGE_USER:
		return len >= 2 && len < 4096;
	case WL_MY_COM_STMT_EXECUTE:
		return len >= 10;
	case WL_MY_COM_STMT_SEND_LONG_DATA:
		return len >= 7;
	case WL_MY_COM_STMT_CLOSE:
	case WL_MY_COM_STMT_RESET:
		return len == 5;
	case WL_MY_COM_SET_OPTION:
		return len == 3;
	case WL_MY_COM_STMT_FETCH:
		return len == 9;
	case WL_MY_COM_BINLOG_DUMP:
	case WL_MY_COM_BINLOG_DUMP_GTID:
		return len >= 11 && len < 65536;
	default:
		return 0;
	}
}

/* A new logical packet begins with this header byte. */
static void
begin(struct wl_my_framer *f, uint64_t ts)
{
	f->begin_ns = ts;
	f->len = 0;
	f->wire = 0;
	f->blen = 0;
}

static void
body(struct wl_my_framer *f, const uint8_t *d, uint32_t n)
{
	uint32_t k = WL_MIN(n, (uint32_t)WL_MY_PREFIX - f->blen);

	memcpy(f->buf + f->blen, d, k);
	f->blen += k;
	f->left -= n;
	f->len += n;
	f->wire += n;
}

int
wl_my_framer_skip(struct wl_my_framer *f, uint64_t n)
{
	/* Only inside a payload, past the kept prefix, with bytes of it
	 * still to come: then no boundary was in the lost bytes. */
	if (f->st != ST_BODY || n >= f->left || f->blen < WL_MY_PREFIX)
		return 0;
	f->left -= (uint32_t)n;
	f->len += n;
	f->wire += n;
	return 1;
}

/* Scan mode: one more byte in the window; 1 when it holds a header. */
static int
scan_byte(struct wl_my_framer *f, uint8_t c, uint64_t ts)
{
	uint32_t plen;

	if (f->hlen == 5) {
		memmove(f->hdr, f->hdr + 1, 4);
		memmove(f->wts, f->wts + 1, 4 * sizeof(f->wts[0]));
		f->hlen = 4;
	}
	f->hdr[f->hlen] = c;
	f->wts[f->hlen++] = ts;
	if (f->hlen < 5)
		return 0;
	plen = (uint32_t)f->hdr[0] | (uint32_t)f->hdr[1] << 8 |
		(uint32_t)f->hdr[2] << 16;
	if (f->hdr[3] != 0 || plen >= WL_MY_MAX_PKT ||
			!wl_my_cmd_ok(f->hdr[4], plen))
		return 0;
	begin(f, f->wts[0]);
	f->seq = f->last_seq = 0;
	f->plen = plen;
	f->left = plen;
	f->wire = 4;
	body(f, f->hdr + 4, 1);
	f->hlen = 0;
	f->cont = 0;
	f->st = f->left > 0 ? ST_BODY : ST_END;
	return 1;
}

uint32_t
wl_my_feed(struct wl_my_framer *f, const uint8_t *d, uint32_t len,
	uint64_t ts, enum wl_my_ev *ev)
{
	uint32_t i = 0, n;

	*ev = WL_MY_EV_NONE;
	for (;;) {
		if (f->st == ST_END) {
			f->st = ST_HDR;
			*ev = WL_MY_EV_END;
			return i;
		}
		if (i == len)
			return i;
		switch (f->st) {
		case ST_SCAN:
			if (scan_byte(f, d[i++], ts)) {
				*ev = WL_MY_EV_HDR;
				return i;
			}
			continue;
		case ST_HDR:
			if (f->hlen == 0 && !f->cont)
				begin(f, ts);
			f->wts[f->hlen] = ts;
			f->hdr[f->hlen++] = d[i++];
			f->wire++;
			if (f->hlen < 4)
				continue;
			f->hlen = 0;
			f->plen = (uint32_t)f->hdr[0] | (uint32_t)f->hdr[1] << 8 |
				(uint32_t)f->hdr[2] << 16;
			f->left = f->plen;
			f->st = f->plen > 0 ? ST_BODY : ST_END;
			if (f->cont) {
				f->cont = 0;
				if (f->hdr[3] != (uint8_t)(f->last_seq + 1)) {
					f->st = ST_HDR;
					*ev = WL_MY_EV_ERROR;
					return i;
				}
				f->last_seq = f->hdr[3];
				continue;
			}
			f->seq = f->last_seq = f->hdr[3];
			*ev = WL_MY_EV_HDR;
			return i;
		case ST_BODY:
			n = WL_MIN(len - i, f->left);
			body(f, d + i, n);
			i += n;
			if (f->left > 0)
				return i;
			if (f->plen == WL_MY_MAX_PKT) {
				f->cont = 1;
				f->st = ST_HDR;
			} else {
				f->st = ST_END;
			}
			continue;
		default:
			f->st = ST_HDR;
			continue;
		}
	}
}

int
wl_my_lenenc(const uint8_t *p, uint32_t n, uint64_t *v)
{
	uint32_t k, i;

	if (n < 1 || p[0] == 0xfb || p[0] == 0xff)
		return -1;
	if (p[0] < 0xfb) {
		*v = p[0];
		return 1;
	}
	k = p[0] == 0xfc ? 2 : p[0] == 0xfd ? 3 : 8;
	if (n < k + 1)
		return -1;
	*v = 0;
	for (i = k; i > 0; i--)
		*v = *v << 8 | p[i];
	return (int)k + 1;
}

int
wl_my_text(const uint8_t *s, uint32_t n, char *out, size_t size)
{
	uint32_t i;
	size_t o = 0;

	for (i = 0; i < n && s[i] != '\0'; i++) {
		if (o + 1 >= size) {
			out[o] = '\0';
			return 1;
		}
		out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	}
	out[o] = '\0';
	return 0;
}

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
		c == '\v';
}

/* ---- probe ---- */

static uint32_t
u24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* Client's first bytes: a command (seq 0) or a HandshakeResponse41 /
 * SSLRequest (seq 1). */
static int
client_check(const uint8_t *d, uint32_t len)
{
	uint32_t plen = u24(d), i, end;

	if (d[3] == 1) {
		/* caps(4) max_packet(4) charset(1) 19 zero bytes, then
		 * MariaDB's extended capabilities (4) or 4 more zeros */
		if (plen < 32 || plen > 4096)
			return 0;
		if (len >= 6 && !(wl_my_u16(d + 4) &
				WL_MY_CLIENT_PROTOCOL_41))
			return 0;
		for (i = 13; i < WL_MIN(len, 32u); i++)
			if (d[i] != 0)
				return 0;
		return len >= 36 ? 2 : 1;
	}
	if (d[3] != 0)
		return 0;
	if (len < 5)
		return 1;
	if (plen >= WL_MY_MAX_PKT || !wl_my_cmd_ok(d[4], plen))
		return 0;
	end = WL_MIN(len, plen + 4);
	if (d[4] == WL_MY_COM_QUERY || d[4] == WL_MY_COM_STMT_PREPARE) {
		for (i = 5; i < end; i++)
			if ((d[i] < 0x20 && !is_space(d[i])) || d[i] == 0x7f)
				return 0;
	}
	return len >= plen + 4 ? 2 : 1;
}

/* Initial Handshake v10: version string printable, NUL-terminated. */
static int
greeting_check(const uint8_t *d, uint32_t len)
{
	uint32_t plen = u24(d), i, end;

	if (plen < 20 || plen > 1024)
		return 0;
	if (len < 5)
		return 1;
	if (d[4] != 10)
		return 0;
	end = WL_MIN(len, plen + 4);
	for (i = 5; i < end; i++) {
		if (d[i] == '\0')
			return i > 5 && len >= plen + 4 ? 2 : i > 5 ? 1 : 0;
		if (d[i] < 0x20 || d[i] >= 0x7f)
			return 0;
	}
	return len >= plen + 4 ? 0 : 1;
}

/* The first packet of a response (seq 1): OK, ERR, EOF or a column
 * count, with a length that fits what it is. */
static int
first_reply_ok(const uint8_t *p, uint32_t plen, uint32_t have)
{
	uint64_t v;
	int k;

	if (plen == 0 || have == 0)
		return plen > 0;
	switch (p[0]) {
	case 0x00:
		return plen >= 7 && plen < 65536;
	case 0xff:
		return plen >= 3 && plen < 65536 &&
			(have < 4 || plen < 9 || p[3] == '#');
	case 0xfe:
		return plen == 5 || (plen >= 7 && plen < 9);
	case 0xfb:
		return plen < 4096;     /* LOCAL INFILE file name */
	default:
		if (have < plen)
			return plen <= 9;
		/* MariaDB may add a "metadata follows" byte */
		k = wl_my_lenenc(p, plen, &v);
		return k > 0 && (uint32_t)k + 1 >= plen && v > 0 && v < 4096;
	}
}

/* Server packets chained with consecutive sequence ids from 1. */
static int
reply_chain_check(const uint8_t *d, uint32_t len)
{
	uint32_t off = 0, plen;
	uint8_t seq = 1;

	if (len >= 4 && !first_reply_ok(d + 4, u24(d), len - 4))
		return 0;
	while (off < len) {
		if (len - off < 4)
			return 1;
		plen = u24(d + off);
		if (d[off + 3] != seq)
			return 0;
		if (len - off - 4 < plen)
			return plen < 65536 ? 1 : 0;
		off += 4 + plen;
		seq++;
	}
	return 2;
}

int
wl_my_start_check(const uint8_t *d, uint32_t len, int is_resp)
{
	if (len < 4)
		return 1;
	if (!is_resp)
		return client_check(d, len);
	if (d[3] == 0)
		return greeting_check(d, len);
	if (d[3] == 1)
		return reply_chain_check(d, len);
	return 0;
}
