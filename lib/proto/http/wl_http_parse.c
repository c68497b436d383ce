/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * HTTP/1.x framing (RFC 9112) as a byte-at-a-time state machine, so that
 * any split of the stream gives the same events at the same bytes.
 */

#include <string.h>

#include "wl_common.h"
#include "wl_http_kw.h"
#include "wl_http_parse.h"

enum {
	ST_START,               /* between messages: CRLF tolerated */
	ST_START_LINE,
	ST_HEADER,
	ST_BODY_CL,
	ST_CHUNK_SIZE,
	ST_CHUNK_DATA,
	ST_CHUNK_CRLF,
	ST_TRAILER,
	ST_BODY_CLOSE,          /* response delimited by the connection end */
	ST_END,                 /* END to report, no byte needed */
	ST_END_TUNNEL,          /* END, then TUNNEL, to report */
	ST_TUNNEL,              /* END reported; TUNNEL to report */
	ST_DEAD,                /* not HTTP any more: swallow */
	ST_RESYNC,              /* skipping to the next line start */
};

#define CUT_TAIL 16             /* bytes kept at the end of a cut line */
#define WL_HTTP_METHOD_MAX 9    /* the longest of wl_http_kw.h, PROPPATCH */

static const char *const methods[] = {
#define _(e, n) n,
	foreach_wl_http_method
#undef _
};

/*
 * Once a connection is HTTP, any method token will do (extension
 * methods exist); only detection insists on a known one. 2/1/0 as
 * wl_http_start_check().
 */
static int
method_check(const uint8_t *d, uint32_t len)
{
	uint32_t k;

	for (k = 0; k < len && k < WL_HTTP_METHOD; k++) {
		if (d[k] == ' ')
			return k > 0 ? 2 : 0;
		if (!((d[k] >= 'A' && d[k] <= 'Z') || d[k] == '-' ||
				d[k] == '_'))
			return 0;
	}
	return k < WL_HTTP_METHOD ? 1 : 0;
}

static int
line_start_check(const struct wl_http_parser *p)
{
	if (p->is_resp)
		return wl_http_start_check((const uint8_t *)p->line,
			p->line_len, 1);
	return method_check((const uint8_t *)p->line, p->line_len);
}

static inline int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
name_is(const char *s, uint32_t n, const char *lit)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (lit[i] == '\0' || lower((unsigned char)s[i]) != lit[i])
			return 0;
	return lit[n] == '\0';
}

/* Does the value contain the token (case-insensitive substring)? */
static int
value_has(const char *v, uint32_t n, const char *tok)
{
	uint32_t i, k, tl = (uint32_t)strlen(tok);

	for (i = 0; i + tl <= n; i++) {
		for (k = 0; k < tl; k++)
			if (lower((unsigned char)v[i + k]) != tok[k])
				break;
		if (k == tl)
			return 1;
	}
	return 0;
}

static void
copy_field(struct wl_http_msg *m, char *dst, size_t size, const char *src,
	uint32_t n)
{
	if (n >= size)
		m->truncated = 1;
	wl_strncpy_buf(dst, size, src, n);
}

int
wl_http_start_check(const uint8_t *d, uint32_t len, int is_resp)
{
	static const char ver[] = "HTTP/1.";
	unsigned int i;
	uint32_t k;

	if (is_resp) {
		for (k = 0; k < len && k < 7; k++)
			if (d[k] != (uint8_t)ver[k])
				return 0;
		if (len <= 7)
			return 1;
		if (d[7] < '0' || d[7] > '9')
			return 0;
		if (len == 8)
			return 1;
		return d[8] == ' ' ? 2 : 0;
	}
	/* The method's end, within a method's length of the start. */
	for (k = 0; k < len && k <= WL_HTTP_METHOD_MAX && d[k] != ' '; k++)
		;
	if (k < len && d[k] == ' ')
		return wl_http_method_lookup((const char *)d, k) >= 0 ? 2 : 0;
	if (k < len)
		return 0;               /* longer than any method */
	/* The method may go on: a prefix of one so far? (Short data
	 * only: a walk of the list is fine.) */
	for (i = 0; i < WL_ARRAY_SIZE(methods); i++)
		if (strlen(methods[i]) >= len &&
				memcmp(methods[i], d, len) == 0)
			return 1;
	return 0;
}

/* A start line, CR stripped. @return 0 or -1. */
static int
start_line(struct wl_http_parser *p, const char *l, uint32_t n)
{
	struct wl_http_msg *m = &p->msg;
	uint32_t i, sp, q, end;

	if (p->is_resp) {
		if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' ||
				l[7] > '9' || l[8] != ' ')
			return -1;
		for (i = 9; i < 12; i++)
			if (l[i] < '0' || l[i] > '9')
				return -1;
		if (n > 12 && l[12] != ' ')
			return -1;
		m->minor = (uint8_t)(l[7] - '0');
		m->status = (uint16_t)((l[9] - '0') * 100 + (l[10] - '0') * 10 +
			(l[11] - '0'));
		return m->status >= 100 ? 0 : -1;
	}
	if (method_check((const uint8_t *)l, n) != 2)
		return -1;
	if (p->rsvd)
		m->truncated = 1;       /* the target was cut */
	for (sp = 0; l[sp] != ' '; sp++)
		;
	/* "... HTTP/1.x" at the end. */
	if (n < sp + 2 + 8 || memcmp(l + n - 8, "HTTP/1.", 7) != 0 ||
			l[n - 1] < '0' || l[n - 1] > '9' || l[n - 9] != ' ')
		return -1;
	m->minor = (uint8_t)(l[n - 1] - '0');
	copy_field(m, m->method, sizeof(m->method), l, sp);
	end = n - 9;
	for (q = sp + 1; q < end && l[q] != '?'; q++)
		;
	copy_field(m, m->target, sizeof(m->target), l + sp + 1, q - sp - 1);
	if (q < end)
		copy_field(m, m->query, sizeof(m->query), l + q + 1,
			end - q - 1);
	return q > sp + 1 ? 0 : -1;
}

/* A header line, CR stripped. @return 0 or -1. */
static int
header_line(struct wl_http_parser *p, const char *l, uint32_t n)
{
	struct wl_http_msg *m = &p->msg;
	uint32_t c, v, e;
	uint64_t x = 0;

	/* A line that is no header (no colon, a space in the name, an
	 * obs-fold continuation) is ignored, as servers mostly do. */
	for (c = 0; c < n && l[c] != ':'; c++)
		if (l[c] == ' ' || l[c] == '\t')
			return 0;
	if (c == n || c == 0)
		return 0;
	for (v = c + 1; v < n && (l[v] == ' ' || l[v] == '\t'); v++)
		;
	for (e = n; e > v && (l[e - 1] == ' ' || l[e - 1] == '\t'); e--)
		;
	/* The names we read have lengths of their own: one compare. */
	switch (c) {
	case 14:
		if (!name_is(l, c, "content-length"))
			break;
		if (e == v || e - v > 18)
			return -1;
		for (; v < e; v++) {
			if (l[v] < '0' || l[v] > '9')
				return -1;
			x = x * 10 + (uint64_t)(l[v] - '0');
		}
		if (m->has_cl && m->content_length != x)
			return -1;      /* conflicting lengths: smuggling */
		m->has_cl = 1;
		m->content_length = x;
		break;
	case 17:
		if (name_is(l, c, "transfer-encoding"))
			m->chunked = value_has(l + v, e - v, "chunked");
		break;
	case 10:
		if (name_is(l, c, "connection"))
			m->conn_close |= value_has(l + v, e - v, "close");
		break;
	case 4:
		if (!name_is(l, c, "host"))
			break;
		copy_field(m, m->host, sizeof(m->host), l + v, e - v);
		m->truncated |= p->rsvd;
		break;
	case 6:
		if (name_is(l, c, "expect"))
			m->expect_continue = value_has(l + v, e - v,
				"100-continue");
		break;
	default:
		break;
	}
	return 0;
}

/* How the body is framed, once the headers are known. */
static uint8_t
body_state(struct wl_http_parser *p)
{
	struct wl_http_msg *m = &p->msg;

	if (p->is_resp) {
		if (m->status == 101 || (p->connect && m->status / 100 == 2))
			return ST_END_TUNNEL;
		if (m->status < 200 || m->status == 204 || m->status == 304 ||
				p->no_body)
			return ST_END;
		if (m->chunked)
			return ST_CHUNK_SIZE;
		if (m->has_cl)
			goto cl;
		return ST_BODY_CLOSE;
	}
	if (m->chunked)
		return ST_CHUNK_SIZE;
	if (!m->has_cl)
		return ST_END;
cl:
	p->remain = m->content_length;
	return p->remain == 0 ? ST_END : ST_BODY_CL;
}

_Static_assert(sizeof(struct wl_http_msg) == 240,
	"msg_reset() must set every field");

/* Kept texts are read up to their NUL only: emptying them is enough,
 * and cheaper than clearing 240 bytes at every message of a pipeline. */
static void
msg_reset(struct wl_http_parser *p)
{
	struct wl_http_msg *m = &p->msg;

	m->method[0] = m->target[0] = m->query[0] = m->host[0] = '\0';
	m->status = 0;
	m->minor = m->chunked = m->has_cl = m->conn_close = 0;
	m->expect_continue = m->truncated = 0;
	m->content_length = m->hdr_bytes = m->body_bytes = 0;
	p->line_len = 0;
	p->rsvd = 0;
}

void
wl_http_parser_init(struct wl_http_parser *p, int is_resp)
{
	memset(p, 0, sizeof(*p));
	p->is_resp = (uint8_t)is_resp;
	p->st = ST_START;
}

void
wl_http_resync(struct wl_http_parser *p)
{
	/* The byte after a gap may well start a message: try it first. */
	msg_reset(p);
	p->st = ST_START;
	p->resync = 1;
}

void
wl_http_segment(struct wl_http_parser *p)
{
	/* A body need not end with a line end, so the next message may
	 * not start a line; it often starts a segment. A try still
	 * plausible (a start line cut by the segment) goes on. */
	if (p->resync && (p->st == ST_RESYNC || (p->st == ST_START_LINE &&
			line_start_check(p) == 0))) {
		msg_reset(p);
		p->st = ST_START;
	}
}

int
wl_http_idle(const struct wl_http_parser *p)
{
	return p->st == ST_START;
}

int
wl_http_skip(struct wl_http_parser *p, uint64_t len)
{
	switch (p->st) {
	case ST_BODY_CL:
	case ST_CHUNK_DATA:
		/* Inside a body or chunk of known length, ending after the
		 * lost bytes: the framing goes on. */
		if (p->resync || len >= p->remain)
			return 0;
		p->remain -= len;
		break;
	case ST_BODY_CLOSE:
		break;
	default:
		return 0;
	}
	p->msg.body_bytes += len;
	return 1;
}

int
wl_http_in_headers(const struct wl_http_parser *p)
{
	return p->st == ST_START_LINE || p->st == ST_HEADER;
}

int
wl_http_in_msg(const struct wl_http_parser *p)
{
	return p->st != ST_START && p->st != ST_DEAD && p->st != ST_RESYNC &&
		p->st != ST_TUNNEL && p->st != ST_END_TUNNEL && !p->resync;
}

int
wl_http_eof(struct wl_http_parser *p)
{
	if (p->st != ST_BODY_CLOSE)
		return 0;
	p->st = ST_START;
	return 1;
}

/* Append bytes to the line; a long line keeps its head and its tail
 * (the start line's version is at its end). */
static void
line_append(struct wl_http_parser *p, const uint8_t *s, uint32_t k)
{
	uint32_t room;

	if (p->line_len == 0)
		p->rsvd = 0;            /* a new line, not cut yet */
	room = WL_HTTP_LINE - p->line_len;
	if (k <= room) {
		memcpy(p->line + p->line_len, s, k);
		p->line_len = (uint16_t)(p->line_len + k);
		return;
	}
	memcpy(p->line + p->line_len, s, room);
	p->line_len = WL_HTTP_LINE;
	s += room;
	k -= room;
	p->rsvd = 1;            /* cut */
	if (k >= CUT_TAIL) {
		memcpy(p->line + WL_HTTP_LINE - CUT_TAIL, s + k - CUT_TAIL,
			CUT_TAIL);
	} else {
		memmove(p->line + WL_HTTP_LINE - CUT_TAIL,
			p->line + WL_HTTP_LINE - CUT_TAIL + k, CUT_TAIL - k);
		memcpy(p->line + WL_HTTP_LINE - k, s, k);
	}
}

static inline void
line_put(struct wl_http_parser *p, uint8_t c)
{
	line_append(p, &c, 1);
}

/* The line ended (LF consumed): its length without CR. */
static inline uint32_t
line_end(struct wl_http_parser *p)
{
	uint32_t n = p->line_len;

	if (n > 0 && p->line[n - 1] == '\r')
		n--;
	p->line_len = 0;        /* p->rsvd still says whether it was cut */
	return n;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)lower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

uint32_t
wl_http_feed(struct wl_http_parser *p, const uint8_t *d, uint32_t len,
	enum wl_http_ev *ev)
{
	uint32_t i = 0, n, k;
	uint64_t x;
	int h;

	*ev = WL_HTTP_EV_NONE;
	for (;;) {
		switch (p->st) {
		case ST_END:
			p->st = ST_START;
			*ev = WL_HTTP_EV_END;
			return i;
		case ST_END_TUNNEL:
			p->st = ST_TUNNEL;
			*ev = WL_HTTP_EV_END;
			return i;
		case ST_TUNNEL:
			p->st = ST_DEAD;
			*ev = WL_HTTP_EV_TUNNEL;
			return i;
		case ST_DEAD:
			return len;
		case ST_BODY_CL:
			n = (uint32_t)WL_MIN((uint64_t)(len - i), p->remain);
			p->remain -= n;
			p->msg.body_bytes += n;
			i += n;
			if (p->remain == 0) {
				*ev = WL_HTTP_EV_END;
				p->st = ST_START;
				return i;
			}
			return i;
		case ST_CHUNK_DATA:
			n = (uint32_t)WL_MIN((uint64_t)(len - i), p->remain);
			p->remain -= n;
			p->msg.body_bytes += n;
			i += n;
			if (p->remain != 0)
				return i;
			p->st = ST_CHUNK_CRLF;
			continue;
		case ST_BODY_CLOSE:
			p->msg.body_bytes += len - i;
			return len;
		case ST_HEADER:
			/* A header line whole in this segment (most are) is
			 * read where it lies: no copy into p->line. A longer
			 * one than the line keeps, or the rest of one begun
			 * in an earlier segment, goes the copying way. */
			while (p->line_len == 0 && i < len) {
				const uint8_t *lf = memchr(d + i, '\n', len - i);
				const char *l = (const char *)(d + i);

				if (lf == NULL ||
					(n = (uint32_t)(lf - (d + i))) > WL_HTTP_LINE)
					break;
				p->msg.hdr_bytes += n + 1;
				i += n + 1;
				p->rsvd = 0;
				if (n > 0 && l[n - 1] == '\r')
					n--;
				if (n == 0) {
					p->st = body_state(p);
					*ev = WL_HTTP_EV_HEADERS;
					return i;
				}
				if (header_line(p, l, n) != 0) {
					msg_reset(p);
					p->st = ST_START;
					*ev = p->resync ? WL_HTTP_EV_ABORT :
						WL_HTTP_EV_ERROR;
					return i;
				}
			}
			/* fall through */
		case ST_CHUNK_SIZE:
		case ST_CHUNK_CRLF:
		case ST_TRAILER:
			/* Whole spans up to the LF: most bytes of a message
			 * are in header lines nobody reads. */
			if (i < len && d[i] != '\n') {
				const uint8_t *lf = memchr(d + i, '\n', len - i);

				n = lf != NULL ? (uint32_t)(lf - (d + i)) : len - i;
				line_append(p, d + i, n);
				if (p->st == ST_HEADER)
					p->msg.hdr_bytes += n;
				else
					p->msg.body_bytes += n;
				i += n;
			}
			break;
		case ST_START_LINE:
			/* The bytes the loop below would check one by one up
			 * to the 12th, at once: a prefix passes the check only
			 * if every shorter one did, so one check of the longest
			 * says the same; if it fails, the loop finds where. */
			if (p->line_len < 12 && i < len) {
				uint32_t old = p->line_len;
				const uint8_t *lf;

				n = WL_MIN(12 - old, len - i);
				lf = memchr(d + i, '\n', n);
				if (lf != NULL)
					n = (uint32_t)(lf - (d + i));
				if (n > 1) {
					line_append(p, d + i, n);
					if (line_start_check(p) != 0) {
						p->msg.hdr_bytes += n;
						i += n;
					} else {
						p->line_len = (uint16_t)old;
					}
				}
			}
			if (p->line_len > 12 && i < len && d[i] != '\n') {
				const uint8_t *lf = memchr(d + i, '\n', len - i);

				n = lf != NULL ? (uint32_t)(lf - (d + i)) : len - i;
				line_append(p, d + i, n);
				p->msg.hdr_bytes += n;
				i += n;
			}
			break;
		default:
			break;
		}
		if (i == len)
			return i;

		/* Line-oriented states: one byte at a time. */
		{
			uint8_t c = d[i++];

			switch (p->st) {
			case ST_START:
				if (c == '\r' || c == '\n')
					continue;
				msg_reset(p);
				p->msg.hdr_bytes = 1;
				line_put(p, c);
				p->st = ST_START_LINE;
				*ev = WL_HTTP_EV_BEGIN;
				return i;
			case ST_RESYNC:
				if (c != '\n')
					continue;
				/* A line starts here: try it as a message. */
				p->st = ST_START;
				continue;
			case ST_START_LINE:
				p->msg.hdr_bytes++;
				if (c != '\n') {
					line_put(p, c);
					/* Refuse garbage early: a method or
					 * "HTTP/1.x " is at most 12 bytes. */
					if (p->line_len > 12 ||
						line_start_check(p) != 0)
						continue;
					goto error;     /* not a start line */
				}
				n = line_end(p);
				if (start_line(p, p->line, n) != 0)
					goto error;
				p->st = ST_HEADER;
				p->resync = 0;
				continue;
			case ST_HEADER:
				p->msg.hdr_bytes++;
				if (c != '\n') {
					line_put(p, c);
					continue;
				}
				n = line_end(p);
				if (n == 0) {
					p->st = body_state(p);
					*ev = WL_HTTP_EV_HEADERS;
					return i;
				}
				if (header_line(p, p->line, n) != 0)
					goto error;
				continue;
			case ST_CHUNK_SIZE:
				p->msg.body_bytes++;
				if (c != '\n') {
					line_put(p, c);
					continue;
				}
				n = line_end(p);
				for (k = 0, x = 0; k < n && (h = hexval(
						p->line[k])) >= 0; k++) {
					if (k >= 15)
						goto error;
					x = x * 16 + (uint64_t)h;
				}
				if (k == 0 || (k < n && p->line[k] != ';' &&
						p->line[k] != ' ' &&
						p->line[k] != '\t'))
					goto error;
				p->remain = x;
				p->st = x == 0 ? ST_TRAILER : ST_CHUNK_DATA;
				continue;
			case ST_CHUNK_CRLF:
				p->msg.body_bytes++;
				if (c != '\n') {
					line_put(p, c);
					continue;
				}
				if (line_end(p) != 0)
					goto error;
				p->st = ST_CHUNK_SIZE;
				continue;
			case ST_TRAILER:
				p->msg.body_bytes++;
				if (c != '\n') {
					line_put(p, c);
					continue;
				}
				if (line_end(p) == 0) {
					p->st = ST_START;
					*ev = WL_HTTP_EV_END;
					return i;
				}
				continue;
			default:
				continue;
			}
error:
			msg_reset(p);
			p->st = c == '\n' ? ST_START : ST_RESYNC;
			/* While resynchronising, failed tries are expected. */
			*ev = p->resync ? WL_HTTP_EV_ABORT : WL_HTTP_EV_ERROR;
			return i;
		}
	}
}
