/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * PostgreSQL v3 framing: headers byte at a time into a small buffer,
 * bodies by count, keeping at most WL_PG_KEEP bytes of each body. After
 * a gap or a violation the parser is "lost" and slides a window over the
 * bytes until it sees a header it believes: a ReadyForQuery from the
 * server ('Z', length 5, status I/T/E), a Query, Parse, Bind or Execute
 * with a sane length from the client.
 */

#include <errno.h>
#include <string.h>

#include "wl_common.h"
#include "wl_pg_parse.h"

enum {
	ST_START = 0,           /* between messages */
	ST_THDR = 1,            /* typed: length bytes */
	ST_UHDR = 2,            /* untyped: length and code */
	ST_BODY = 3,
	ST_ANS = 4,             /* one bare byte answering SSLRequest */
	ST_LOST = 5,            /* sliding a window to find a boundary */
};

#define PROBE_MAX_LEN (1u << 20)

/* Type bytes of frontend messages: a table, one load per message. */
static const uint8_t fe_types[256] = {
	['Q'] = 1, ['P'] = 1, ['B'] = 1, ['D'] = 1, ['E'] = 1, ['S'] = 1,
	['H'] = 1, ['C'] = 1, ['X'] = 1, ['F'] = 1, ['d'] = 1, ['c'] = 1,
	['f'] = 1, ['p'] = 1,
};

/* ... and of backend messages. */
static const uint8_t be_types[256] = {
	['R'] = 1, ['K'] = 1, ['S'] = 1, ['Z'] = 1, ['T'] = 1, ['D'] = 1,
	['C'] = 1, ['I'] = 1, ['E'] = 1, ['N'] = 1, ['A'] = 1, ['1'] = 1,
	['2'] = 1, ['3'] = 1, ['n'] = 1, ['t'] = 1, ['s'] = 1, ['G'] = 1,
	['H'] = 1, ['W'] = 1, ['d'] = 1, ['c'] = 1, ['v'] = 1, ['V'] = 1,
};

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int
known(int is_resp, uint8_t t)
{
	return is_resp ? be_types[t] : fe_types[t];
}

static int
startup_code(uint32_t code)
{
	return code == WL_PG_CODE_SSL || code == WL_PG_CODE_GSSENC ||
		code == WL_PG_CODE_CANCEL || code >> 16 == 3;
}

void
wl_pg_parser_init(struct wl_pg_parser *p, int is_resp)
{
	memset(p, 0, sizeof(*p));
	p->is_resp = (uint8_t)is_resp;
	p->untyped_ok = !is_resp;
}

void
wl_pg_lose(struct wl_pg_parser *p)
{
	p->st = ST_LOST;
	p->hdr_len = 0;
	p->untyped_ok = 0;
}

void
wl_pg_expect_answer(struct wl_pg_parser *p)
{
	if (p->st == ST_START)
		p->st = ST_ANS;
}

int
wl_pg_skip(struct wl_pg_parser *p, uint32_t len)
{
	const struct wl_pg_msg *m = &p->msg;
	uint32_t body = m->len - (m->type == WL_PG_T_UNTYPED ? 8 : 4);

	/* Only past what is kept of the body (or where nothing is), and
	 * only if the message's last byte is still to come. */
	if (p->st != ST_BODY || m->type == WL_PG_T_SSLANS ||
			p->remain <= len)
		return 0;
	if (!((p->is_resp && m->type == 'D') || m->type == 'd') &&
			body - p->remain < WL_PG_KEEP)
		return 0;
	p->remain -= len;
	return 1;
}

int
wl_pg_idle(const struct wl_pg_parser *p)
{
	return p->st == ST_START || p->st == ST_ANS;
}

int
wl_pg_lost(const struct wl_pg_parser *p)
{
	return p->st == ST_LOST;
}

static uint32_t
error(struct wl_pg_parser *p, enum wl_pg_ev *ev, uint32_t used)
{
	wl_pg_lose(p);
	*ev = WL_PG_EV_ERROR;
	return used;
}

static uint32_t
end(struct wl_pg_parser *p, enum wl_pg_ev *ev, uint32_t used)
{
	const struct wl_pg_msg *m = &p->msg;

	p->st = ST_START;
	/* Only SSLRequest and GSSENCRequest are followed by more untyped. */
	p->untyped_ok = m->type == WL_PG_T_UNTYPED &&
		(m->code == WL_PG_CODE_SSL || m->code == WL_PG_CODE_GSSENC);
	*ev = WL_PG_EV_END;
	return used;
}

/* A client header worth resynchronising on (each has a body). */
static int
resync_req(uint8_t t, uint32_t ml)
{
	if (ml > PROBE_MAX_LEN)
		return 0;
	return (t == 'Q' && ml >= 5) || (t == 'P' && ml >= 8) ||
		(t == 'B' && ml >= 12) || (t == 'E' && ml >= 9);
}

static uint32_t
lost_byte(struct wl_pg_parser *p, uint8_t b, enum wl_pg_ev *ev, uint32_t used)
{
	struct wl_pg_msg *m = &p->msg;
	uint8_t want = p->is_resp ? 6 : 5;

	if (p->hdr_len == want) {
		memmove(p->hdr, p->hdr + 1, want - 1);
		p->hdr_len--;
	}
	p->hdr[p->hdr_len++] = b;
	if (p->hdr_len < want)
		return used;
	if (p->is_resp) {
		if (p->hdr[0] != 'Z' || be32(p->hdr + 1) != 5 ||
				(b != 'I' && b != 'T' && b != 'E'))
			return used;
		m->type = 'Z';
		m->len = 5;
		m->kept = 1;
		m->body[0] = b;
		p->st = ST_START;
	} else {
		if (!resync_req(p->hdr[0], be32(p->hdr + 1)))
			return used;
		m->type = p->hdr[0];
		m->len = be32(p->hdr + 1);
		m->kept = 0;
		p->remain = m->len - 4;
		p->st = ST_BODY;
	}
	p->hdr_len = 0;
	*ev = WL_PG_EV_RESYNC;
	return used;
}

uint32_t
wl_pg_feed(struct wl_pg_parser *p, const uint8_t *d, uint32_t len,
	enum wl_pg_ev *ev)
{
	struct wl_pg_msg *m = &p->msg;
	uint32_t i = 0, k;
	uint8_t b;

	*ev = WL_PG_EV_NONE;
	while (i < len) {
		b = d[i];
		switch (p->st) {
		case ST_ANS:
			p->st = ST_START;
			if (b == 'N' || b == 'S' || b == 'G') {
				m->type = WL_PG_T_SSLANS;
				m->ans = b;
				m->len = 1;
				m->kept = 0;
				*ev = WL_PG_EV_BEGIN;
				/* BEGIN and END on the same byte: END next. */
				p->st = ST_BODY;
				p->remain = 0;
				return i + 1;
			}
			/* Not a bare answer (an old server's ErrorResponse). */
			break;
		case ST_START:
			m->code = 0;
			m->ans = 0;
			m->len = 0;
			m->kept = 0;
			p->hdr_len = 0;
			if (!p->is_resp && p->untyped_ok && b == 0) {
				m->type = WL_PG_T_UNTYPED;
				p->hdr[p->hdr_len++] = b;
				p->st = ST_UHDR;
			} else if (known(p->is_resp, b)) {
				m->type = b;
				p->st = ST_THDR;
			} else {
				return error(p, ev, i + 1);
			}
			*ev = WL_PG_EV_BEGIN;
			return i + 1;
		case ST_THDR:
			p->hdr[p->hdr_len++] = b;
			i++;
			if (p->hdr_len < 4)
				break;
			m->len = be32(p->hdr);
			if (m->len < 4 || m->len > WL_PG_MAX_LEN)
				return error(p, ev, i);
			p->remain = m->len - 4;
			if (p->remain == 0)
				return end(p, ev, i);
			p->st = ST_BODY;
			break;
		case ST_UHDR:
			p->hdr[p->hdr_len++] = b;
			i++;
			if (p->hdr_len < 8)
				break;
			m->len = be32(p->hdr);
			m->code = be32(p->hdr + 4);
			if (m->len < 8 || m->len > WL_PG_STARTUP_MAX ||
					!startup_code(m->code))
				return error(p, ev, i);
			p->remain = m->len - 8;
			if (p->remain == 0)
				return end(p, ev, i);
			p->st = ST_BODY;
			break;
		case ST_BODY:
			k = WL_MIN(len - i, p->remain);
			if (m->kept < WL_PG_KEEP && !(p->is_resp &&
					m->type == 'D') && m->type != 'd') {
				uint32_t c = WL_MIN(k, WL_PG_KEEP - m->kept);

				memcpy(m->body + m->kept, d + i, c);
				m->kept += c;
			}
			i += k;
			p->remain -= k;
			if (p->remain == 0)
				return end(p, ev, i);
			break;
		case ST_LOST:
			i = lost_byte(p, b, ev, i + 1);
			if (*ev != WL_PG_EV_NONE)
				return i;
			break;
		default:
			return error(p, ev, i);
		}
	}
	/* The bare answer's END, which consumes nothing more. */
	if (p->st == ST_BODY && p->remain == 0 && m->type == WL_PG_T_SSLANS)
		return end(p, ev, i);
	return i;
}

/* ---- fields ---- */

int
wl_pg_cstr(const struct wl_pg_msg *m, uint32_t off, const char **s,
	uint32_t *n)
{
	uint32_t i;

	*s = (const char *)m->body + WL_MIN(off, m->kept);
	for (i = off; i < m->kept && m->body[i] != 0; i++)
		;
	*n = i > off ? i - off : 0;
	return i < m->kept ? (int)i + 1 : -1;
}

int
wl_pg_param(const struct wl_pg_msg *m, const char *key, char *out,
	uint32_t size)
{
	const char *k, *v;
	uint32_t kn, vn;
	int off = 0;

	/* Startup body: int32 code already in the header; pairs follow. */
	for (;;) {
		off = wl_pg_cstr(m, (uint32_t)off, &k, &kn);
		if (off < 0 || kn == 0)
			return -ENOENT;
		off = wl_pg_cstr(m, (uint32_t)off, &v, &vn);
		if (kn == strlen(key) && memcmp(k, key, kn) == 0) {
			wl_strncpy_buf(out, size, v, vn);
			return 0;
		}
		if (off < 0)
			return -ENOENT;
	}
}

int
wl_pg_sqlstate(const struct wl_pg_msg *m, char *out)
{
	const char *v;
	uint32_t off = 0, vn;
	int next;

	while (off < m->kept && m->body[off] != 0) {
		uint8_t code = m->body[off];

		next = wl_pg_cstr(m, off + 1, &v, &vn);
		if (code == 'C' && next >= 0) {
			wl_strncpy_buf(out, 6, v, vn);
			return 0;
		}
		if (next < 0)
			break;
		off = (uint32_t)next;
	}
	return -ENOENT;
}

int
wl_pg_tag_rows(const struct wl_pg_msg *m, uint64_t *rows)
{
	const char *s;
	uint32_t n, i;
	uint64_t v = 0;

	if (wl_pg_cstr(m, 0, &s, &n) < 0)
		return -ENOENT;
	for (i = n; i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9'; i--)
		;
	if (i == n || i == 0 || s[i - 1] != ' ' || n - i > 19)
		return -ENOENT;
	for (; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	*rows = v;
	return 0;
}

/* ---- probe ---- */

/* Printable SQL-ish text (UTF-8 allowed), no NUL. */
static int
text_ok(const uint8_t *s, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

/* Length of the C string at s[0..n) with its NUL, or 0 if none. */
static uint32_t
cstr_len(const uint8_t *s, uint32_t n)
{
	const uint8_t *z = memchr(s, 0, n);

	return z == NULL ? 0 : (uint32_t)(z - s) + 1;
}

/*
 * One client message body b[0..n) (complete unless part): 1 when it
 * checks out, 0 when not. Only what can be told from the body is checked.
 */
static int
fe_body_ok(uint8_t t, const uint8_t *b, uint32_t n, int part)
{
	uint32_t a, c;

	switch (t) {
	case 'Q':
		if (part)
			return text_ok(b, n);
		return n >= 1 && b[n - 1] == 0 && text_ok(b, n - 1);
	case 'P':
		a = cstr_len(b, n);
		if (part)
			return a > 0 || text_ok(b, n);
		c = a == 0 ? 0 : cstr_len(b + a, n - a);
		if (a == 0 || c == 0 || !text_ok(b + a, c - 1) ||
				n - a - c < 2)
			return 0;
		return n - a - c - 2 == 4u * be16(b + a + c);
	case 'B':
		if (part)
			return 1;
		a = cstr_len(b, n);
		return a > 0 && cstr_len(b + a, n - a) > 0;
	case 'E':
		if (part)
			return 1;
		a = cstr_len(b, n);
		return a > 0 && n - a == 4;
	case 'D':
	case 'C':
		if (n == 0)
			return 1;
		if (b[0] != 'S' && b[0] != 'P')
			return 0;
		return part || (cstr_len(b + 1, n - 1) == n - 1);
	default:
		return 1;
	}
}

/* Sane length for a client message type. */
static int
fe_len_ok(uint8_t t, uint32_t ml)
{
	if (ml < 4 || ml > PROBE_MAX_LEN)
		return 0;
	switch (t) {
	case 'S': case 'H': case 'X': case 'c':
		return ml == 4;
	case 'Q':
		return ml >= 5;
	case 'P':
		return ml >= 8;
	case 'B':
		return ml >= 12;
	case 'E':
		return ml >= 9;
	case 'D': case 'C':
		return ml >= 6;
	default:
		return ml >= 5;
	}
}

/* Error/notice fields: (code byte, cstring)*, then a NUL. */
static int
fields_ok(const uint8_t *b, uint32_t n)
{
	uint32_t i = 0, k;

	while (i < n && b[i] != 0) {
		if (!((b[i] >= 'A' && b[i] <= 'Z') || (b[i] >= 'a' && b[i] <= 'z')))
			return 0;
		k = cstr_len(b + i + 1, n - i - 1);
		if (k == 0 || !text_ok(b + i + 1, k - 1))
			return 0;
		i += 1 + k;
	}
	return i + 1 == n;
}

/* DataRow: int16 n, n x (int32 len or -1, bytes), exactly n bytes. */
static int
datarow_ok(const uint8_t *b, uint32_t n)
{
	uint32_t i = 2, k, c;

	if (n < 2)
		return 0;
	for (c = be16(b); c > 0; c--) {
		if (n - i < 4)
			return 0;
		k = be32(b + i);
		i += 4;
		if (k == 0xffffffffu)
			continue;
		if (k > n - i)
			return 0;
		i += k;
	}
	return i == n;
}

/* RowDescription: int16 n, n x (name, 18 bytes). */
static int
rowdesc_ok(const uint8_t *b, uint32_t n)
{
	uint32_t i = 2, k, c;

	if (n < 2)
		return 0;
	for (c = be16(b); c > 0; c--) {
		k = cstr_len(b + i, n - i);
		if (k == 0 || n - i - k < 18)
			return 0;
		i += k + 18;
	}
	return i == n;
}

/* AuthenticationXXX codes (ok, passwords, GSS, SSPI, SASL). */
static int
auth_code_ok(uint32_t a)
{
	return a <= 12 && a != 1 && a != 4;
}

/*
 * One server message: 2 when its body says it is PostgreSQL, 1 when it
 * passes but proves little (fixed-size bodies), 0 when it fails.
 */
static int
be_msg_ok(uint8_t t, const uint8_t *b, uint32_t n)
{
	uint32_t a;

	switch (t) {
	case 'R':
		if (n < 4 || n > 2000 - 4)
			return 0;
		a = be32(b);
		if (a == 0 || a == 2 || a == 3 || a == 6 || a == 7 || a == 9)
			return n == 4 ? 2 : 0;
		if (a == 5)
			return n == 8 ? 2 : 0;
		return auth_code_ok(a) ? 2 : 0;
	case 'Z':
		return n == 1 && (b[0] == 'I' || b[0] == 'T' || b[0] == 'E') ?
			2 : 0;
	case 'K':
		return n >= 8 && n <= 260 ? 1 : 0;
	case '1': case '2': case '3': case 'n': case 'I': case 's': case 'c':
		return n == 0 ? 1 : 0;
	case 'E': case 'N':
		return fields_ok(b, n) ? 2 : 0;
	case 'C':
		return n >= 2 && cstr_len(b, n) == n && text_ok(b, n - 1) ?
			2 : 0;
	case 'S':
		a = cstr_len(b, n);
		return a > 1 && cstr_len(b + a, n - a) == n - a &&
			text_ok(b, a - 1) ? 2 : 0;
	case 'D':
		return datarow_ok(b, n) ? 2 : 0;
	case 'T':
		return rowdesc_ok(b, n) ? 2 : 0;
	default:
		return 1;
	}
}

static int
check_untyped(const uint8_t *d, uint32_t len)
{
	uint32_t ml, code;

	if (len < 8) {
		/* The length's top bytes are zero for any sane length. */
		if (len >= 2 && d[1] != 0)
			return 0;
		return 1;
	}
	ml = be32(d);
	code = be32(d + 4);
	if (code == WL_PG_CODE_SSL || code == WL_PG_CODE_GSSENC)
		return ml == 8 && len == 8 ? 2 : 0;
	if (code == WL_PG_CODE_CANCEL)
		return ml >= 16 && ml <= 264 ? (len >= ml ? 2 : 1) : 0;
	if (code >> 16 != 3 || (code & 0xffff) > 16 || ml < 9 ||
			ml > WL_PG_STARTUP_MAX)
		return 0;
	if (len < ml)
		return 1;
	/* Pairs of C strings ending with an empty one. */
	return d[ml - 1] == 0 && d[ml - 2] == 0 && d[8] != 0 &&
		text_ok(d + 8, 1) ? 2 : 0;
}

static int
chain_check(const uint8_t *d, uint32_t len, int is_resp)
{
	uint32_t off = 0, ml, n;
	int strong = 0, r;

	while (off < len) {
		uint8_t t = d[off];

		if (!known(is_resp, t))
			return 0;
		if (len - off < 5) {
			/* Lengths above 16 MB are not worth waiting for. */
			return len - off >= 2 && d[off + 1] != 0 ? 0 :
				strong ? 2 : 1;
		}
		ml = be32(d + off + 1);
		if (is_resp ? ml < 4 || ml > PROBE_MAX_LEN : !fe_len_ok(t, ml))
			return 0;
		n = ml - 4;
		if (n > len - off - 5) {
			n = len - off - 5;
			if (!is_resp && !fe_body_ok(t, d + off + 5, n, 1))
				return 0;
			if (is_resp && t == 'R' && (ml > 2000 || (n >= 4 &&
					!auth_code_ok(be32(d + off + 5)))))
				return 0;
			return strong ? 2 : 1;
		}
		if (is_resp) {
			r = be_msg_ok(t, d + off + 5, n);
			if (r == 0)
				return 0;
			strong |= r == 2;
		} else {
			if (!fe_body_ok(t, d + off + 5, n, 0))
				return 0;
			strong = 1;
		}
		off += 5 + n;
	}
	return strong ? 2 : 1;
}

int
wl_pg_start_check(const uint8_t *d, uint32_t len, int is_resp)
{
	int r;

	if (len == 0)
		return 1;
	if (!is_resp && d[0] == 0)
		return check_untyped(d, len);
	if (is_resp && len == 1 && (d[0] == 'N' || d[0] == 'S'))
		return 1;       /* maybe the bare answer to SSLRequest */
	r = chain_check(d, len, is_resp);
	/* SSLRequest refused: 'N', then the answer to the StartupMessage. */
	if (r == 0 && is_resp && d[0] == 'N')
		r = chain_check(d + 1, len - 1, is_resp);
	return r;
}
