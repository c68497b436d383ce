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
	ST_SCAN = 3,            /* looking for a command / answer header */
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
	f->rp_n = f->rp_i = 0;
}

void
wl_my_framer_scan(struct wl_my_framer *f)
{
	wl_my_framer_reset(f);
	f->st = ST_SCAN;
	f->rsp_scan = 0;
}

void
wl_my_framer_rsp_scan(struct wl_my_framer *f)
{
	wl_my_framer_scan(f);
	f->rsp_scan = 1;
}

/*
 * Frame window bytes hdr[from, from + n) (from stream offset woff +
 * from) again, before what was left of a replay in progress.
 */
static void
replay(struct wl_my_framer *f, uint32_t from, uint32_t n)
{
	uint32_t rem = f->rp_n - f->rp_i;

	memmove(f->rp + n, f->rp + f->rp_i, rem);
	memmove(f->rpts + n, f->rpts + f->rp_i, rem * sizeof(f->rpts[0]));
	memmove(f->rptag + n, f->rptag + f->rp_i, rem * sizeof(f->rptag[0]));
	memcpy(f->rp, f->hdr + from, n);
	memcpy(f->rpts, f->wts + from, n * sizeof(f->rpts[0]));
	memcpy(f->rptag, f->wtag + from, n * sizeof(f->rptag[0]));
	f->rpoff = f->woff + from;
	f->rp_n = (uint8_t)(n + rem);
	f->rp_i = 0;
	f->hlen = 0;
}

void
wl_my_framer_rescan(struct wl_my_framer *f, int rsp)
{
	/* The header just read was not one: its last 3 bytes may start
	 * the real one. */
	f->woff = f->begin_off;
	replay(f, 1, 3);
	f->cont = 0;
	f->st = ST_SCAN;
	f->rsp_scan = (uint8_t)rsp;
}

int
wl_my_framer_idle(const struct wl_my_framer *f)
{
	return f->st == ST_HDR && f->hlen == 0 && !f->cont && f->rp_n == 0;
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

static int
is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		(c >= 'a' && c <= 'z');
}

static uint32_t
u24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* An ERR's first bytes (have of them): code, '#', SQLSTATE. */
static int
err_shape(const uint8_t *p, uint32_t have)
{
	uint32_t i;

	if (have < 9 || p[3] != '#' || wl_my_u16(p + 1) == WL_MY_ERR_PROGRESS)
		return 0;
	for (i = 4; i < 9; i++)
		if (!is_alnum(p[i]))
			return 0;
	return 1;
}

/*
 * An OK's first bytes (have of its plen): affected rows, insert id,
 * status flags and warnings within its length, then info: text, or a
 * length and text (CLIENT_SESSION_TRACK). Or a prepare's OK.
 */
static int
ok_shape(const uint8_t *p, uint32_t have, uint32_t plen)
{
	uint64_t v;
	uint32_t i, j;
	int k;

	if (plen == 12 && have >= 10 && p[9] == 0)
		return 1;       /* id, columns, params, a zero filler */
	k = wl_my_lenenc(p + 1, have - 1, &v);
	if (k < 0)
		return 0;
	i = 1 + (uint32_t)k;
	k = wl_my_lenenc(p + i, have - i, &v);
	if (k < 0)
		return 0;
	i += (uint32_t)k;
	if (i + 4 > plen || (i + 2 <= have && (p[i + 1] & 0x80)))
		return 0;       /* (status flags end at 0x4000) */
	for (j = i + 4; j < have; j++)
		if ((p[j] < 0x20 && j != i + 4) || p[j] >= 0x7f)
			return 0;
	return 1;
}

/*
 * Could an answer begin at w[0] (n window bytes)? 1 yes, 0 no, -1 not
 * known before more bytes.
 */
static int
rsp_start(const uint8_t *w, uint32_t n, int login)
{
	uint32_t plen = u24(w), i, m;

	if (n < 5)
		return -1;
	/* (a login's OK or ERR comes at seq 2) */
	if (w[3] != 1 && !(login && w[3] == 2 && (w[4] == 0x00 ||
			w[4] == 0xff)))
		return 0;
	switch (w[4]) {
	case 0xff:
	case 0x00:
		/* OK and ERR are short: a longer one would keep the scan
		 * waiting for its end. */
		if (plen < (w[4] == 0 ? 7u : 9u) || plen > 1024)
			return 0;
		m = WL_MIN(plen, WL_MY_WIN - 4);
		if (n < 4 + m)
			return -1;
		return w[4] == 0 ? ok_shape(w + 4, m, plen) :
			err_shape(w + 4, m);
	case 0xfb:
	case 0xfc:
	case 0xfd:
	case 0xfe:
		return 0;
	default:
		/* A column count (MariaDB may add a metadata byte), then a
		 * column definition, seq 2, that begins with "def". */
		if (plen != 1 && plen != 2)
			return 0;
		if (plen == 2 && w[5] > 1)
			return 0;
		i = 4 + plen;
		if (n < i + 8)
			return -1;
		return u24(w + i) >= 4 && w[i + 3] == 2 &&
			memcmp(w + i + 4, "\003def", 4) == 0;
	}
}

int
wl_my_rsp_first(const struct wl_my_framer *f)
{
	const uint8_t *p = f->buf;
	uint32_t n = f->blen;
	uint64_t v;
	int k;

	/* (only the kept prefix of a long ERR or OK is looked at) */
	if (n == 0 || (f->seq != 1 && !(f->rsp_scan == 2 && f->seq == 2 &&
			(p[0] == 0x00 || p[0] == 0xff))))
		return 0;
	if (p[0] == 0xff)
		return err_shape(p, n);
	if (p[0] == 0x00)
		return f->len >= 7 && ok_shape(p, n, (uint32_t)f->len);
	k = wl_my_lenenc(p, n, &v);
	return k > 0 && (uint32_t)k + 1 >= n && v > 0 && v < 4096 &&
		(n == (uint32_t)k || p[k] <= 1);
}

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

/*
 * Scan mode: byte c (stream offset off) joins the window. When the
 * window holds a start, its bytes are framed again (replay).
 */
static void
scan_byte(struct wl_my_framer *f, uint8_t c, uint64_t ts, uint64_t off)
{
	int r;

	if (f->hlen == 0)
		f->woff = off;
	f->hdr[f->hlen] = c;
	f->wtag[f->hlen] = f->tag;
	f->wts[f->hlen++] = ts;
	for (;;) {
		if (f->rsp_scan)
			r = rsp_start(f->hdr, f->hlen, f->rsp_scan == 2);
		else if (f->hlen < 5)
			r = -1;
		else
			r = f->hdr[3] == 0 && u24(f->hdr) < WL_MY_MAX_PKT &&
				wl_my_cmd_ok(f->hdr[4], u24(f->hdr));
		if (r == -1 && f->hlen < WL_MY_WIN)
			return;
		if (r == 1) {
			f->st = ST_HDR;
			replay(f, 0, f->hlen);
			return;
		}
		/* Not here: from the next byte on. */
		memmove(f->hdr, f->hdr + 1, f->hlen - 1u);
		memmove(f->wts, f->wts + 1, (f->hlen - 1u) * sizeof(f->wts[0]));
		memmove(f->wtag, f->wtag + 1,
			(f->hlen - 1u) * sizeof(f->wtag[0]));
		f->hlen--;
		f->woff++;
		if (f->hlen == 0)
			return;
	}
}

static uint32_t
feed(struct wl_my_framer *f, const uint8_t *d, uint32_t len, uint64_t ts,
	enum wl_my_ev *ev)
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
			scan_byte(f, d[i], ts, f->off + i);
			i++;
			/* A start found: its bytes come again. */
			if (f->rp_n > 0)
				return i;
			continue;
		case ST_HDR:
			if (f->hlen == 0 && !f->cont) {
				begin(f, ts);
				f->begin_off = f->off + i;
				f->begin_tag = f->tag;
			}
			f->wts[f->hlen] = ts;
			f->wtag[f->hlen] = f->tag;
			f->hdr[f->hlen++] = d[i++];
			f->wire++;
			if (f->hlen < 4)
				continue;
			f->hlen = 0;
			f->plen = u24(f->hdr);
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

uint32_t
wl_my_feed(struct wl_my_framer *f, const uint8_t *d, uint32_t len,
	uint64_t ts, enum wl_my_ev *ev)
{
	uint32_t k, i, used = 0;
	uint64_t off, tag;
	uint8_t c;

	for (;;) {
		/* Bytes framed again first, each with its own time, tag
		 * and offset. */
		while (f->rp_i < f->rp_n) {
			off = f->off;
			tag = f->tag;
			i = f->rp_i;
			c = f->rp[i];
			f->off = f->rpoff + i;
			f->tag = f->rptag[i];
			f->rp_i = (uint8_t)(i + 1);
			k = feed(f, &c, 1, f->rpts[i], ev);
			f->off = off;
			f->tag = tag;
			if (k == 0)
				f->rp_i = (uint8_t)i;   /* an event first */
			if (f->rp_i >= f->rp_n)
				f->rp_n = f->rp_i = 0;
			if (*ev != WL_MY_EV_NONE)
				return used;
		}
		k = feed(f, d + used, len - used, ts, ev);
		f->off += k;
		used += k;
		/* (a start found by a scan is framed again first) */
		if (*ev != WL_MY_EV_NONE || (used == len && f->rp_n == 0))
			return used;
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
