/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The streaming JSON writer (wl_jw.h): jansson's compact output without
 * building a tree. Invariants: the buffer always holds whole items
 * except across a flush (a long string may be split between two
 * flushes, never an escape or a number); after an error the writer is
 * full (cap == len), so every later item takes the slow path and writes
 * nothing.
 * What jansson does and this file copies, from jansson 2.14: dump.c
 * (dump_string: escapes '"', '\\' and the control characters, "\\u%04X"
 * for those without a short form, nothing else), utf8.c (which strings
 * json_string() accepts) and strconv.c (jsonp_dtostr: the real format).
 * tests/unit/common/test_jw.c checks it against jansson itself.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wl_jw.h"

/* ---- the buffer ---- */

static void
jw_fail(struct wl_jw *w, int err)
{
	if (w->err == 0)
		w->err = err;
	/* Full from here on: what it holds stays for the caller to see. */
	w->cap = w->len;
}

/* Make n contiguous bytes free (n <= WL_JW_MIN_CAP). @return 0 when it
 * cannot (the writer has failed). */
static int
jw_make_room(struct wl_jw *w, size_t n)
{
	int ret;

	if (w->err != 0)
		return 0;
	if (w->flush == NULL) {
		jw_fail(w, -ENOBUFS);
		return 0;
	}
	ret = w->flush(w, w->arg);
	if (ret != 0) {
		jw_fail(w, ret);
		return 0;
	}
	if (w->cap - w->len < n) {
		jw_fail(w, -ENOBUFS);
		return 0;
	}
	return 1;
}

static inline int
jw_room(struct wl_jw *w, size_t n)
{
	if (w->cap - w->len >= n)
		return 1;
	return jw_make_room(w, n);
}

/* Any length: split across flushes when it does not fit. */
static void
jw_put(struct wl_jw *w, const char *p, size_t n)
{
	size_t k;

	while (n > w->cap - w->len) {
		k = w->cap - w->len;
		memcpy(w->buf + w->len, p, k);
		w->len += k;
		p += k;
		n -= k;
		if (!jw_make_room(w, 1))
			return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static inline void
jw_putc(struct wl_jw *w, char c)
{
	if (jw_room(w, 1))
		w->buf[w->len++] = c;
}

void
wl_jw_init(struct wl_jw *w, char *buf, size_t cap, wl_jw_flush_t flush,
	void *arg)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	w->flush = flush;
	w->arg = arg;
	if (buf == NULL || cap < WL_JW_MIN_CAP)
		jw_fail(w, -EINVAL);
}

int
wl_jw_flush(struct wl_jw *w)
{
	int ret;

	if (w->err != 0 || w->flush == NULL)
		return w->err;
	ret = w->flush(w, w->arg);
	if (ret != 0)
		jw_fail(w, ret);
	return w->err;
}

void
wl_jw_raw(struct wl_jw *w, const char *p, size_t n)
{
	jw_put(w, p, n);
}

/* ---- structure ---- */

/* The comma before an item after the first of its container, then its
 * key. At the top level items are whole records: no comma. */
static void
jw_item(struct wl_jw *w, const char *key, size_t k)
{
	uint32_t bit = 1u << w->depth;
	char *p;

	/* One room check for the comma and the key: a key is short. */
	if (k + 4 <= WL_JW_MIN_CAP && jw_room(w, k + 4)) {
		p = w->buf + w->len;
		if (w->more & bit)
			*p++ = ',';
		else if (w->depth > 0)
			w->more |= bit;
		if (key != NULL) {
			*p++ = '"';
			memcpy(p, key, k);
			p += k;
			*p++ = '"';
			*p++ = ':';
		}
		w->len = (size_t)(p - w->buf);
		return;
	}
	if (w->more & bit)
		jw_putc(w, ',');
	else if (w->depth > 0)
		w->more |= bit;
	if (key == NULL)
		return;
	jw_putc(w, '"');
	jw_put(w, key, k);
	jw_putc(w, '"');
	jw_putc(w, ':');
}

static void
jw_open(struct wl_jw *w, const char *key, size_t k, char c)
{
	jw_item(w, key, k);
	if (w->depth + 1 >= WL_JW_DEPTH) {
		jw_fail(w, -EINVAL);
		return;
	}
	jw_putc(w, c);
	w->depth++;
	w->more &= ~(1u << w->depth);
}

static void
jw_close(struct wl_jw *w, char c)
{
	if (w->depth == 0) {
		jw_fail(w, -EINVAL);
		return;
	}
	w->more &= ~(1u << w->depth);
	w->depth--;
	jw_putc(w, c);
}

void
wl_jw_obj_open_k(struct wl_jw *w, const char *key, size_t k)
{
	jw_open(w, key, k, '{');
}

void
wl_jw_obj_close(struct wl_jw *w)
{
	jw_close(w, '}');
}

void
wl_jw_arr_open_k(struct wl_jw *w, const char *key, size_t k)
{
	jw_open(w, key, k, '[');
}

void
wl_jw_arr_close(struct wl_jw *w)
{
	jw_close(w, ']');
}

/* ---- strings ---- */

/* Bytes dump_string escapes (without JSON_ESCAPE_SLASH/ENSURE_ASCII). */
static const uint8_t jw_esc[256] = {
	[0x00 ... 0x1f] = 1,
	['"'] = 1,
	['\\'] = 1,
};

static void
jw_escape(struct wl_jw *w, uint8_t c)
{
	static const char hex[] = "0123456789ABCDEF";
	char *p;

	if (!jw_room(w, 6))
		return;
	p = w->buf + w->len;
	p[0] = '\\';
	w->len += 2;
	switch (c) {
	case '\\': p[1] = '\\'; return;
	case '"': p[1] = '"'; return;
	case '\b': p[1] = 'b'; return;
	case '\f': p[1] = 'f'; return;
	case '\n': p[1] = 'n'; return;
	case '\r': p[1] = 'r'; return;
	case '\t': p[1] = 't'; return;
	}
	p[1] = 'u';
	p[2] = '0';
	p[3] = '0';
	p[4] = hex[c >> 4];
	p[5] = hex[c & 0xf];
	w->len += 4;
}

/* "s[0, n)": runs without escapes copied whole. */
static void
jw_quoted(struct wl_jw *w, const char *s, size_t n)
{
	const char *run = s, *end = s + n;

	jw_putc(w, '"');
	for (; s < end; s++) {
		if (!jw_esc[(uint8_t)*s])
			continue;
		jw_put(w, run, (size_t)(s - run));
		jw_escape(w, (uint8_t)*s);
		run = s + 1;
	}
	jw_put(w, run, (size_t)(end - run));
	jw_putc(w, '"');
}

/* Length of s, and whether a byte has its high bit set. */
static size_t
jw_scan(const char *s, unsigned int *hi)
{
	const uint8_t *p = (const uint8_t *)s;
	unsigned int acc = 0;

	while (*p != 0)
		acc |= *p++;
	*hi = acc & 0x80;
	return (size_t)((const char *)p - s);
}

/* jansson's utf8_check_first(): the length of the sequence a byte
 * starts, 0 when it cannot start one. */
static size_t
utf8_first(uint8_t u)
{
	if (u < 0x80)
		return 1;
	if (u < 0xc2)           /* continuation, or overlong C0/C1 */
		return 0;
	if (u <= 0xdf)
		return 2;
	if (u <= 0xef)
		return 3;
	if (u <= 0xf4)
		return 4;
	return 0;
}

int
wl_jw_utf8_ok(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i, k, c;
	uint32_t v;

	for (i = 0; i < n; i += c) {
		c = utf8_first(p[i]);
		if (c == 0 || c > n - i)
			return 0;
		if (c == 1)
			continue;
		v = p[i] & (c == 2 ? 0x1f : c == 3 ? 0x0f : 0x07);
		for (k = 1; k < c; k++) {
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return 0;
			v = (v << 6) | (p[i + k] & 0x3f);
		}
		/* Out of range, a surrogate half, overlong. */
		if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ||
				(c == 2 && v < 0x80) || (c == 3 && v < 0x800) ||
				(c == 4 && v < 0x10000))
			return 0;
	}
	return 1;
}

void
wl_jw_str_k(struct wl_jw *w, const char *key, size_t k, const char *s)
{
	unsigned int hi;
	size_t n;

	if (s == NULL)
		return;
	n = jw_scan(s, &hi);
	if (hi && !wl_jw_utf8_ok(s, n))
		return;
	jw_item(w, key, k);
	jw_quoted(w, s, n);
}

/* The size of wl_proto_json_str()'s buffer before this writer: what it
 * kept of a string that was not UTF-8 (the log's contract). */
#define WIRE_KEEP 256

void
wl_jw_str_wire_k(struct wl_jw *w, const char *key, size_t k, const char *s)
{
	char buf[WIRE_KEEP];
	unsigned int hi;
	size_t i, n;

	n = jw_scan(s, &hi);
	if (hi && !wl_jw_utf8_ok(s, n)) {
		for (i = 0; i < n && i + 1 < sizeof(buf); i++)
			buf[i] = (s[i] & 0x80) ? '?' : s[i];
		s = buf;
		n = i;
	}
	jw_item(w, key, k);
	jw_quoted(w, s, n);
}

/* ---- numbers and constants ---- */

static const char jw_pairs[201] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

static const uint64_t jw_pow10[20] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
	100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL,
	10000000000000000000ULL,
};

/* Decimal digits of v (1 for 0): log10 from its bit length, corrected
 * by one compare. */
static inline unsigned int
jw_dec_len(uint64_t v)
{
	unsigned int t = ((64u - (unsigned int)__builtin_clzll(v | 1)) *
		1233u) >> 12;

	return t + (v >= jw_pow10[t]) + (t == 0 && v == 0);
}

/* v in decimal, minus first when neg: written in place, from its last
 * digit back (no copy: most numbers of a log line are 19-digit times). */
static void
jw_num(struct wl_jw *w, uint64_t v, int neg)
{
	unsigned int n = jw_dec_len(v), d;
	char *p;

	if (!jw_room(w, n + 1))
		return;
	p = w->buf + w->len;
	if (neg)
		*p++ = '-';
	p += n;
	w->len = (size_t)(p - w->buf);
	while (v >= 100) {
		d = (unsigned int)(v % 100) * 2;
		v /= 100;
		*--p = jw_pairs[d + 1];
		*--p = jw_pairs[d];
	}
	if (v >= 10) {
		d = (unsigned int)v * 2;
		*--p = jw_pairs[d + 1];
		*--p = jw_pairs[d];
	} else {
		*--p = (char)('0' + v);
	}
}

void
wl_jw_u64_k(struct wl_jw *w, const char *key, size_t k, uint64_t v)
{
	jw_item(w, key, k);
	jw_num(w, v, 0);
}

void
wl_jw_i64_k(struct wl_jw *w, const char *key, size_t k, int64_t v)
{
	jw_item(w, key, k);
	/* (0 - (uint64_t)v): INT64_MIN too */
	jw_num(w, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
}

void
wl_jw_bool_k(struct wl_jw *w, const char *key, size_t k, int v)
{
	jw_item(w, key, k);
	if (v)
		jw_put(w, "true", 4);
	else
		jw_put(w, "false", 5);
}

void
wl_jw_null_k(struct wl_jw *w, const char *key, size_t k)
{
	jw_item(w, key, k);
	jw_put(w, "null", 4);
}

void
wl_jw_real_k(struct wl_jw *w, const char *key, size_t k, double v)
{
	char b[40], *s, *e;
	int n;

	if (!isfinite(v))
		return;
	n = snprintf(b, sizeof(b), "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof(b) - 3)
		return;
	/* A real must not read back as an integer. */
	if (strchr(b, '.') == NULL && strchr(b, 'e') == NULL) {
		memcpy(b + n, ".0", 3);
		n += 2;
	}
	/* No '+' and no leading zeros in the exponent. */
	s = strchr(b, 'e');
	if (s != NULL) {
		s++;
		e = s + 1;
		if (*s == '-')
			s++;
		while (*e == '0')
			e++;
		if (e != s) {
			memmove(s, e, (size_t)(n - (e - b)) + 1);
			n -= (int)(e - s);
		}
	}
	jw_item(w, key, k);
	jw_put(w, b, (size_t)n);
}
