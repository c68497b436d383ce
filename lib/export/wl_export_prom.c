/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Prometheus text exposition 0.0.4 of an export snapshot.
 *
 * A scrape of 10,000 histogram series is some 200,000 lines, so the hot
 * part is plain memcpy: each label set is rendered (escaped) once into a
 * side buffer and copied into every line that uses it, integers are
 * written by hand, and only the few doubles (sums, timestamps) go
 * through printf. Invariant: every byte appended goes through buf_need(),
 * which grows the buffer geometrically.
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

static size_t
fmt_u64(char *buf, uint64_t v)
{
	char t[24];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = t[n - 1 - i];
	return n;
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

static int
render_sample(const struct lset_text *t, const struct wl_exp_sample *x,
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
	put(b, " ", 1);
	if (x->is_u64)
		b->len += fmt_u64(b->p + b->len, x->v.u);
	else
		b->len += fmt_double(b->p + b->len, 32, x->v.d);
	put(b, "\n", 1);
	return 0;
}

int
wl_exp_prom_render(struct wl_exp_snap *s, struct wl_exp_buf *b)
{
	struct lset_text t = {{0}};
	uint32_t i, k;
	int ret;

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
		for (k = 0; k < f->n_samples && ret == 0; k++)
			ret = render_sample(&t, &s->smp[s->order[f->first + k]],
				f->name, nlen, b);
	}
	free(t.off);
	wl_exp_buf_free(&t.text);
	return ret;
}
