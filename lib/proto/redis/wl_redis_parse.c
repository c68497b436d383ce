/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * RESP2/RESP3 framing as a byte-at-a-time state machine: any split of
 * the stream gives the same events at the same bytes. Aggregates keep a
 * bounded stack of element counts; bulk payloads are skipped, not kept,
 * except the first bytes of the leading string elements.
 */

#include <string.h>

#include "wl_common.h"
#include "wl_redis_cmd.h"
#include "wl_redis_parse.h"

enum {
	ST_START,               /* between messages */
	ST_TYPE,                /* inside a message: an element's type byte */
	ST_HDR,                 /* rest of a type line, until LF */
	ST_BULK,                /* bulk payload and its CRLF */
	ST_STREAM,              /* streamed string: ';' chunk header expected */
	ST_INLINE,              /* inline command line */
	ST_RESYNC,              /* skipping to a line end */
};

#define MAX_BULK (512ULL << 20)         /* Redis' own proto-max-bulk-len */
#define MAX_AGG (1LL << 32)

/* RESP type bytes: a table, one load per element. */
static const uint8_t type_bytes[256] = {
	['+'] = 1, ['-'] = 1, [':'] = 1, ['$'] = 1, ['*'] = 1, ['_'] = 1,
	['#'] = 1, [','] = 1, ['('] = 1, ['!'] = 1, ['='] = 1, ['%'] = 1,
	['~'] = 1, ['>'] = 1, ['|'] = 1, ['.'] = 1, [';'] = 1,
};

static int
is_type(uint8_t c)
{
	return type_bytes[c];
}

/*
 * An inline command: a command people type inline (telnet, nc, scripts;
 * WL_RC_INL in wl_redis_cmd.h) in upper case, then space or CR, and not
 * an HTTP request line ("GET / HTTP/1.1" is HTTP's).
 */
static int
inline_check(const uint8_t *d, uint32_t len)
{
	uint32_t w, k;
	int id;

	/* Upper case only: lower-case "get k" is memcached's. */
	for (w = 0; w < len && d[w] != ' ' && d[w] != '\r'; w++)
		if (w == 12 || d[w] < 'A' || d[w] > 'Z')
			return 0;
	if (w == len) {
		/* The word may go on: a prefix of one so far? (Short
		 * data only: a walk of the list is fine.) */
		for (id = 0; id < WL_REDIS_CMD_MAX; id++)
			if ((wl_redis_cmd_flags[id] & WL_RC_INL) &&
					strlen(wl_redis_cmd_names[id]) >= w &&
					memcmp(wl_redis_cmd_names[id], d, w) == 0)
				return 1;
		return 0;
	}
	id = wl_redis_cmd_lookup((const char *)d, w);
	if (id < 0 || !(wl_redis_cmd_flags[id] & WL_RC_INL))
		return 0;
	for (k = w; k + 5 <= len; k++)
		if (memcmp(d + k, "HTTP/", 5) == 0)
			return 0;
	/* Sure once the line ended, or long enough without HTTP/. */
	for (k = w; k < len && d[k] != '\n'; k++)
		;
	return k < len || len >= 40 ? 2 : 1;
}

int
wl_redis_start_check(const uint8_t *d, uint32_t len, int is_reply)
{
	uint32_t i = 1;

	if (is_reply || len == 0)
		return len == 0 ? 1 : 0;        /* replies never claim a flow */
	if (d[0] != '*')
		return inline_check(d, len);
	/* "*<n>\r\n$<m>\r\n<name>" */
	while (i < len && d[i] >= '0' && d[i] <= '9' && i < 8)
		i++;
	if (i == len)
		return 1;
	if (i == 1 || d[i] != '\r')
		return 0;
	if (++i == len)
		return 1;
	if (d[i] != '\n')
		return 0;
	if (++i == len)
		return 1;
	return d[i] == '$' ? 2 : 0;
}

void
wl_redis_parser_init(struct wl_redis_parser *p, int is_reply)
{
	memset(p, 0, sizeof(*p));
	p->is_reply = (uint8_t)is_reply;
	p->st = ST_START;
}

void
wl_redis_resync(struct wl_redis_parser *p)
{
	uint8_t is_reply = p->is_reply;

	wl_redis_parser_init(p, is_reply);
	p->resync = 1;
}

int
wl_redis_idle(const struct wl_redis_parser *p)
{
	return p->st == ST_START;
}

int
wl_redis_skip(struct wl_redis_parser *p, uint64_t len)
{
	/* Inside a bulk payload whose length is known, with at least its
	 * CRLF still to come: the frame is intact. */
	if (p->st != ST_BULK || p->resync || len >= p->remain)
		return 0;
	p->remain -= len;
	p->msg.bytes += len;
	if (p->keep && p->keep_len < WL_REDIS_ARG - 1)
		p->msg.truncated = 1;   /* what was kept misses bytes */
	p->keep = 0;
	return 1;
}

/* Parse a signed decimal or "?" (returns -2) from the header line. */
static int64_t
line_int(const struct wl_redis_parser *p, int *ok)
{
	const char *l = p->line;
	uint32_t n = p->line_len, i = 0;
	int64_t v = 0;
	int neg = 0;

	*ok = 0;
	if (n > 0 && l[n - 1] == '\r')
		n--;
	if (n == 1 && l[0] == '?') {
		*ok = 1;
		return -2;
	}
	if (n > 0 && l[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n || n - i > 18)
		return 0;
	for (; i < n; i++) {
		if (l[i] < '0' || l[i] > '9')
			return 0;
		v = v * 10 + (l[i] - '0');
	}
	*ok = 1;
	return neg ? -v : v;
}

/* Keep a string element of the top-level aggregate (or the top-level
 * simple string itself) in msg.arg. */
static void
keep_str(struct wl_redis_parser *p, const char *s, uint32_t n)
{
	struct wl_redis_msg *m = &p->msg;

	if (m->nargs >= WL_REDIS_ARGS)
		return;
	if (n >= WL_REDIS_ARG)
		m->truncated = 1;
	wl_strncpy_buf(m->arg[m->nargs++], WL_REDIS_ARG, s, n);
}

/* Should the element starting now be kept? */
static int
keepable(const struct wl_redis_parser *p)
{
	return p->depth <= 1 && p->msg.nargs < WL_REDIS_ARGS;
}

/* An element is complete. @return 1 when the whole message is. */
static int
elem_done(struct wl_redis_parser *p)
{
	uint8_t lv;

	for (;;) {
		if (p->depth == 0) {
			if (p->in_attr == 2) {
				p->in_attr = 0; /* attribute over: reply next */
				return 0;
			}
			return 1;
		}
		lv = (uint8_t)(p->depth - 1);
		if (p->left[lv] < 0)
			return 0;               /* streamed: ends with '.' */
		if (--p->left[lv] > 0)
			return 0;
		p->depth--;
		if (p->depth == 0 && p->in_attr == 1) {
			p->in_attr = 2;         /* the top-level attribute ended */
			continue;
		}
	}
}

/* Open an aggregate of n elements (-2: streamed). @return 1 if complete. */
static int
agg_open(struct wl_redis_parser *p, uint8_t type, int64_t n)
{
	if (p->depth == 0 && type == '|')
		p->in_attr = 1;
	if (p->depth == 0 && type != '|')
		p->msg.top_n = n;
	if (n == 0 || n == -1)          /* empty, or RESP2 null array */
		return elem_done(p);
	if (p->depth == WL_REDIS_DEPTH)
		return -1;
	if (n > 0 && (type == '%' || type == '|'))
		n *= 2;
	p->left[p->depth++] = n < 0 ? -1 : n;
	return 0;
}

static int
header_done(struct wl_redis_parser *p, uint8_t type)
{
	struct wl_redis_msg *m = &p->msg;
	uint32_t n = p->line_len;
	int64_t v;
	int ok;

	if (n > 0 && p->line[n - 1] == '\r')
		n--;
	switch (type) {
	case '+':
	case '-':
		if (keepable(p))
			keep_str(p, p->line, n);
		return elem_done(p);
	case ':':
	case ',':
	case '(':
	case '#':
	case '_':
		if (type == ':') {
			v = line_int(p, &ok);
			if (!ok)
				return -1;
			if (p->depth <= 1)
				m->integer = v;
		}
		return elem_done(p);
	case '$':
	case '!':
	case '=':
		v = line_int(p, &ok);
		if (!ok || v < -2 || v > (int64_t)MAX_BULK)
			return -1;
		if (v == -1)
			return elem_done(p);    /* null bulk */
		p->keep = (uint8_t)keepable(p);
		p->keep_len = 0;
		if (p->keep)
			m->arg[m->nargs][0] = '\0';
		if (v == -2) {
			p->streamed = 1;
			p->st = ST_STREAM;
			return 0;
		}
		p->remain = (uint64_t)v + 2;
		p->st = ST_BULK;
		return 0;
	case ';':               /* chunk of a streamed string */
		v = line_int(p, &ok);
		if (!ok || v < 0 || v > (int64_t)MAX_BULK)
			return -1;
		if (v == 0) {
			p->streamed = 0;
			if (p->keep)
				p->msg.nargs++;
			return elem_done(p);
		}
		p->remain = (uint64_t)v + 2;
		p->st = ST_BULK;
		return 0;
	case '.':               /* end of a streamed aggregate */
		if (p->depth == 0 || p->left[p->depth - 1] >= 0)
			return -1;
		p->depth--;
		p->left[p->depth] = 0;
		if (p->depth == 0 && p->in_attr == 1) {
			p->in_attr = 2;
			return elem_done(p);
		}
		return elem_done(p);
	default:                /* aggregates */
		v = line_int(p, &ok);
		if (!ok || v < -2 || v > MAX_AGG)
			return -1;
		return agg_open(p, type, v);
	}
}

/* Inline command: words separated by spaces. */
static void
inline_done(struct wl_redis_parser *p)
{
	uint32_t n = p->line_len, i = 0, s;

	if (n > 0 && p->line[n - 1] == '\r')
		n--;
	while (i < n) {
		while (i < n && p->line[i] == ' ')
			i++;
		s = i;
		while (i < n && p->line[i] != ' ')
			i++;
		if (i > s)
			keep_str(p, p->line + s, i - s);
	}
}

_Static_assert(sizeof(struct wl_redis_msg) == 192,
	"msg_reset() must set every field");

/* A message starts (its first byte counted). Kept strings are read up
 * to their NUL only: emptying them is enough, and cheaper than clearing
 * the 192 bytes at every message of a pipeline. */
static inline void
msg_reset(struct wl_redis_msg *m)
{
	unsigned int k;

	m->type = 0;
	m->nargs = 0;
	m->truncated = 0;
	m->top_n = -1;
	m->integer = 0;
	m->bytes = 1;
	for (k = 0; k < WL_REDIS_ARGS; k++)
		m->arg[k][0] = '\0';
}

uint32_t
wl_redis_feed(struct wl_redis_parser *p, const uint8_t *d, uint32_t len,
	enum wl_redis_ev *ev)
{
	struct wl_redis_msg *m = &p->msg;
	uint32_t i = 0, n, k;
	int r;

	*ev = WL_REDIS_EV_NONE;
	while (i < len) {
		if ((p->st == ST_HDR || p->st == ST_INLINE) && d[i] != '\n') {
			/* The line up to its LF in one step. */
			const uint8_t *lf = memchr(d + i, '\n', len - i);
			uint32_t room = WL_REDIS_LINE - p->line_len;

			n = lf != NULL ? (uint32_t)(lf - (d + i)) : len - i;
			if (n > room && p->st == ST_HDR && p->rsvd != '+' &&
					p->rsvd != '-') {
				i += n;
				m->bytes += n;
				goto error_span;        /* a number that long */
			}
			memcpy(p->line + p->line_len, d + i, WL_MIN(n, room));
			p->line_len = (uint16_t)(p->line_len + WL_MIN(n, room));
			m->bytes += n;
			i += n;
			continue;
		}
		if (p->st == ST_BULK) {
			n = (uint32_t)WL_MIN((uint64_t)(len - i), p->remain);
			if (p->keep && p->remain > 2) {
				/* Keep the head of the payload, not its CRLF. */
				k = (uint32_t)WL_MIN((uint64_t)n, p->remain - 2);
				k = WL_MIN(k, WL_REDIS_ARG - 1 - p->keep_len);
				memcpy(m->arg[m->nargs] + p->keep_len, d + i, k);
				p->keep_len += k;
				m->arg[m->nargs][p->keep_len] = '\0';
				if (p->remain - 2 > (uint64_t)n &&
						p->keep_len == WL_REDIS_ARG - 1)
					m->truncated = 1;
			}
			p->remain -= n;
			m->bytes += n;
			i += n;
			if (p->remain != 0)
				return i;
			if (p->streamed) {
				p->st = ST_STREAM;
				continue;
			}
			if (p->keep)
				m->nargs++;
			p->st = ST_TYPE;
			if (elem_done(p)) {
				p->st = ST_START;
				*ev = WL_REDIS_EV_END;
				return i;
			}
			continue;
		}
		{
			uint8_t c = d[i++];

			m->bytes++;
			switch (p->st) {
			case ST_START:
				if (c == '\r' || c == '\n')
					continue;
				msg_reset(m);
				p->depth = 0;
				p->in_attr = 0;
				p->line_len = 0;
				if (!p->is_reply && c != '*') {
					/* Inline commands, but never while
					 * resynchronising: text is too easy. */
					if (c < 'A' || c > 'z' || p->resync)
						goto error;
					m->type = 'i';
					p->line[0] = (char)c;
					p->line_len = 1;
					p->st = ST_INLINE;
				} else {
					if (!is_type(c) || c == '.' || c == ';')
						goto error;
					m->type = c;
					p->line_len = 0;
					p->rsvd = c;
					p->st = ST_HDR;
				}
				*ev = WL_REDIS_EV_BEGIN;
				return i;
			case ST_TYPE:
			case ST_STREAM:
				if (!is_type(c) || (p->st == ST_STREAM &&
						c != ';') || (p->st == ST_TYPE &&
						c == ';'))
					goto error;
				p->rsvd = c;
				p->line_len = 0;
				p->st = ST_HDR;
				continue;
			case ST_HDR:
				if (c != '\n') {
					if (p->line_len < WL_REDIS_LINE)
						p->line[p->line_len++] = (char)c;
					else if (p->rsvd != '+' && p->rsvd != '-')
						goto error;     /* a number that long */
					continue;
				}
				p->st = ST_TYPE;
				r = header_done(p, (uint8_t)p->rsvd);
				if (r < 0)
					goto error;
				if (r == 1) {
					p->st = ST_START;
					p->resync = 0;
					*ev = WL_REDIS_EV_END;
					return i;
				}
				if (p->st == ST_TYPE || p->st == ST_BULK ||
						p->st == ST_STREAM)
					p->resync = 0;
				continue;
			case ST_INLINE:
				if (c != '\n') {
					if (p->line_len < WL_REDIS_LINE)
						p->line[p->line_len++] = (char)c;
					continue;
				}
				inline_done(p);
				p->st = ST_START;
				*ev = WL_REDIS_EV_END;
				return i;
			case ST_RESYNC:
				if (c == '\n')
					p->st = ST_START;
				continue;
			default:
				continue;
			}
error:
			p->st = c == '\n' ? ST_START : ST_RESYNC;
			p->depth = 0;
			*ev = p->resync ? WL_REDIS_EV_ABORT : WL_REDIS_EV_ERROR;
			return i;
		}
	}
	return i;
error_span:
	p->st = ST_RESYNC;
	p->depth = 0;
	*ev = p->resync ? WL_REDIS_EV_ABORT : WL_REDIS_EV_ERROR;
	return i;
}
