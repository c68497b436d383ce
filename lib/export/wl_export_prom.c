/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Prometheus text exposition 0.0.4 of an export snapshot.
 *
 * A scrape of 10,000 histogram series is some 200,000 lines, so the hot
 * part is plain memcpy: each label set is rendered (escaped) once into a
 * side buffer; the start of a line ("name_bucket{labels,") is built once
 * for the run of samples sharing it (a series' buckets) and the extra
 * label ('le="0.1"') once per bound (a small cache keyed by its value's
 * address: the bound tables are static); integers are written by hand,
 * and only the few doubles (sums, timestamps) go through printf.
 * Invariant: every byte appended goes through buf_need(), which grows the
 * buffer geometrically.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl_common.h"
#include "wl_export_priv.h"
#include "wl_export_prom.h"

void
wl_exp_buf_free(struct wl_exp_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

static int
buf_need(struct wl_exp_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->len + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 65536;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static inline void
put(struct wl_exp_buf *b, const char *s, size_t n)
{
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Worst case of an escaped string: every byte doubled. */
static size_t
escape(char *dst, const char *s, int quote)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\\':
			dst[n++] = '\\';
			dst[n++] = '\\';
			break;
		case '\n':
			dst[n++] = '\\';
			dst[n++] = 'n';
			break;
		case '"':
			if (quote)
				dst[n++] = '\\';
			dst[n++] = '"';
			break;
		default:
			dst[n++] = *s;
		}
	}
	return n;
}

static int
put_escaped(struct wl_exp_buf *b, const char *s, int quote)
{
	if (buf_need(b, 2 * strlen(s)) != 0)
		return -ENOMEM;
	b->len += escape(b->p + b->len, s, quote);
	return 0;
}

static const char digits2[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233"
	"34353637383940414243444546474849505152535455565758596061626364656667"
	"6869707172737475767778798081828384858687888990919293949596979899";

/* Two digits at a time, from the end. */
static size_t
fmt_u64(char *buf, uint64_t v)
{
	char t[24];
	size_t n = sizeof(t);

	while (v >= 100) {
		unsigned int r = (unsigned int)(v % 100);

		v /= 100;
		n -= 2;
		memcpy(&t[n], &digits2[2 * r], 2);
	}
	if (v >= 10) {
		n -= 2;
		memcpy(&t[n], &digits2[2 * v], 2);
	} else {
		t[--n] = (char)('0' + v);
	}
	memcpy(buf, &t[n], sizeof(t) - n);
	return sizeof(t) - n;
}

/* Go's ParseFloat reads it back to the same double. */
static size_t
fmt_double(char *buf, size_t size, double v)
{
	int n;

	if (isnan(v))
		return (size_t)snprintf(buf, size, "NaN");
	if (isinf(v))
		return (size_t)snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
	n = snprintf(buf, size, "%.15g", v);
	if (strtod(buf, NULL) != v)
		n = snprintf(buf, size, "%.17g", v);
	return (size_t)n;
}

/* 'name="value",...' of every label set, each rendered once. */
struct lset_text {
	struct wl_exp_buf text;
	size_t *off;            /* n_lsets + 1 offsets */
};

static int
lsets_render(const struct wl_exp_snap *s, struct lset_text *t)
{
	size_t i;
	uint32_t j;

	t->off = malloc((s->n_lsets + 1) * sizeof(*t->off));
	if (t->off == NULL)
		return -ENOMEM;
	for (i = 0; i < s->n_lsets; i++) {
		const struct wl_exp_lset *ls = &s->lsets[i];

		t->off[i] = t->text.len;
		for (j = 0; j < ls->n; j++) {
			const struct wl_exp_label *l = &s->labels[ls->first + j];
			size_t nl = strlen(l->name);

			if (buf_need(&t->text, nl + 4) != 0)
				return -ENOMEM;
			if (j > 0)
				put(&t->text, ",", 1);
			put(&t->text, l->name, nl);
			put(&t->text, "=\"", 2);
			if (put_escaped(&t->text, l->value, 1) != 0 ||
					buf_need(&t->text, 1) != 0)
				return -ENOMEM;
			put(&t->text, "\"", 1);
		}
	}
	t->off[i] = t->text.len;
	return 0;
}

/* A line's start: name, suffix, '{', the label set and ',' when an
 * extra label follows; shared by the run of samples with the same key. */
struct line_start {
	int32_t lset;
	uint8_t sfx;
	uint8_t has_x;
	uint8_t braces;
	size_t n;
	char p[1024];
};

/* The extra label 'name="value"' (escaped), by its strings' addresses. */
#define XCACHE_SIZE 256
#define XCACHE_TEXT 56

struct xcache_ent {
	const char *name, *value;
	uint32_t n;
	char text[XCACHE_TEXT];
};

struct render_ctx {
	const struct lset_text *t;
	struct line_start ls;
	struct xcache_ent xc[XCACHE_SIZE];
};

/* 'name="value"' of an extra label, escaped; 0 when it does not fit. */
static size_t
xlabel(char *dst, size_t size, const char *name, const char *value)
{
	size_t nn = strlen(name), nv = strlen(value), n;

	if (nn + 2 * nv + 3 > size)
		return 0;
	memcpy(dst, name, nn);
	memcpy(dst + nn, "=\"", 2);
	n = nn + 2 + escape(dst + nn + 2, value, 1);
	dst[n++] = '"';
	return n;
}

static const struct xcache_ent *
xcache_get(struct render_ctx *c, const char *name, const char *value)
{
	struct xcache_ent *e = &c->xc[((uintptr_t)value >> 3) %
		XCACHE_SIZE];

	if (e->value == value && e->name == name)
		return e;
	e->n = (uint32_t)xlabel(e->text, sizeof(e->text), name, value);
	if (e->n == 0) {
		e->value = NULL;
		return NULL;
	}
	e->name = name;
	e->value = value;
	return e;
}

/* Build c->ls for x; 0 when it does not fit (the slow path renders it). */
static int
line_start(struct render_ctx *c, const struct wl_exp_sample *x,
	const char *name, size_t nlen)
{
	const struct lset_text *t = c->t;
	const char *sfx = wl_exp_sfx_names[x->sfx];
	size_t nsfx = strlen(sfx), nls = 0, n;
	struct line_start *ls = &c->ls;

	ls->lset = x->lset;
	ls->sfx = x->sfx;
	ls->has_x = x->xname != NULL;
	ls->n = 0;
	if (x->lset >= 0)
		nls = t->off[x->lset + 1] - t->off[x->lset];
	if (nlen + nsfx + nls + 2 > sizeof(ls->p)) {
		ls->lset = -2;  /* matches no sample */
		return 0;
	}
	memcpy(ls->p, name, nlen);
	memcpy(ls->p + nlen, sfx, nsfx);
	n = nlen + nsfx;
	ls->braces = nls > 0 || ls->has_x;
	if (ls->braces)
		ls->p[n++] = '{';
	if (nls > 0) {
		memcpy(ls->p + n, t->text.p + t->off[x->lset], nls);
		n += nls;
		if (ls->has_x)
			ls->p[n++] = ',';
	}
	ls->n = n;
	return 1;
}

/* The general case: any length, nothing cached. */
/* " value\n": room for it was asked for by the caller (40 bytes). */
static void
put_value(struct wl_exp_buf *b, const struct wl_exp_sample *x)
{
	put(b, " ", 1);
	if (x->is_u64)
		b->len += fmt_u64(b->p + b->len, x->v.u);
	else
		b->len += fmt_double(b->p + b->len, 32, x->v.d);
	put(b, "\n", 1);
}

static int
render_sample_slow(const struct lset_text *t, const struct wl_exp_sample *x,
	const char *name, size_t nlen, struct wl_exp_buf *b)
{
	const char *sfx = wl_exp_sfx_names[x->sfx];
	size_t nsfx = strlen(sfx), nls = 0;

	if (x->lset >= 0)
		nls = t->off[x->lset + 1] - t->off[x->lset];
	if (buf_need(b, nlen + nsfx + nls + 2 + 40) != 0)
		return -ENOMEM;
	put(b, name, nlen);
	put(b, sfx, nsfx);
	if (nls > 0 || x->xname != NULL) {
		put(b, "{", 1);
		if (nls > 0)
			put(b, t->text.p + t->off[x->lset], nls);
		if (x->xname != NULL) {
			size_t n = strlen(x->xname);

			if (buf_need(b, n + 4) != 0)
				return -ENOMEM;
			if (nls > 0)
				put(b, ",", 1);
			put(b, x->xname, n);
			put(b, "=\"", 2);
			if (put_escaped(b, x->xvalue, 1) != 0 ||
					buf_need(b, 2) != 0)
				return -ENOMEM;
			put(b, "\"", 1);
		}
		put(b, "}", 1);
	}
	if (buf_need(b, 40) != 0)
		return -ENOMEM;
	put_value(b, x);
	return 0;
}

static int
render_sample(struct render_ctx *c, const struct wl_exp_sample *x,
	const char *name, size_t nlen, struct wl_exp_buf *b)
{
	const struct xcache_ent *xe = NULL;
	struct line_start *ls = &c->ls;

	if (x->lset != ls->lset || x->sfx != ls->sfx ||
			(x->xname != NULL) != ls->has_x) {
		if (!line_start(c, x, name, nlen))
			return render_sample_slow(c->t, x, name, nlen, b);
	}
	if (x->xname != NULL) {
		xe = xcache_get(c, x->xname, x->xvalue);
		if (xe == NULL)
			return render_sample_slow(c->t, x, name, nlen, b);
	}
	if (buf_need(b, ls->n + XCACHE_TEXT + 2 + 40) != 0)
		return -ENOMEM;
	put(b, ls->p, ls->n);
	if (xe != NULL)
		put(b, xe->text, xe->n);
	if (ls->braces)
		put(b, "}", 1);
	put_value(b, x);
	return 0;
}

int
wl_exp_prom_render(struct wl_exp_snap *s, struct wl_exp_buf *b)
{
	struct lset_text t = {{0}};
	struct render_ctx *c;
	uint32_t i, k;
	int ret;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->t = &t;
	ret = wl_exp_snap_finish(s);
	if (ret == 0)
		ret = lsets_render(s, &t);
	for (i = 0; i < s->n_fam && ret == 0; i++) {
		const struct wl_exp_family *f = &s->fam[i];
		size_t nlen = strlen(f->name);

		if (f->n_samples == 0)
			continue;
		ret = buf_need(b, 2 * nlen + 40);
		if (ret != 0)
			break;
		put(b, "# HELP ", 7);
		put(b, f->name, nlen);
		put(b, " ", 1);
		ret = put_escaped(b, f->help, 0);
		if (ret == 0)
			ret = buf_need(b, nlen + 40);
		if (ret != 0)
			break;
		put(b, "\n# TYPE ", 8);
		put(b, f->name, nlen);
		put(b, " ", 1);
		put(b, wl_exp_type_names[f->type],
			strlen(wl_exp_type_names[f->type]));
		put(b, "\n", 1);
		c->ls.lset = -2;        /* a new name: nothing cached */
		for (k = 0; k < f->n_samples && ret == 0; k++)
			ret = render_sample(c, &s->smp[s->order[f->first + k]],
				f->name, nlen, b);
	}
	free(c);
	free(t.off);
	wl_exp_buf_free(&t.text);
	return ret;
}
