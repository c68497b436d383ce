/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Remote write 1.0 of an export snapshot: protobuf-c WriteRequests,
 * snappy block compression (what Prometheus and VictoriaMetrics expect
 * with Content-Encoding: snappy).
 *
 * Every sample is its own TimeSeries. Labels are shared where they can
 * be: one Label per label of the snapshot and one __name__ Label per
 * family and suffix; only the pointer arrays (sorted per series) and the
 * bucket label are per sample. A request holds at most max_samples
 * samples, so the per-request arrays stay bounded whatever the snapshot.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "wl_common.h"
#include "wl_export_priv.h"
#include "wl_export_rw.h"
#include "wl_export_rw.pb-c.h"

#define MAX_LABELS_PER_SERIES 32

struct wl_exp_rw {
	WlRw__Label *lab;              /* one per snapshot label */
	size_t cap_lab;
	WlRw__Label *names;            /* __name__ per family and suffix */
	char *name_text;
	size_t cap_names, cap_name_text;
	WlRw__Label *xlab;             /* bucket labels of a request */
	WlRw__Label *ext;              /* external labels */
	size_t cap_ext;
	WlRw__TimeSeries *ts;
	WlRw__TimeSeries **tsp;
	WlRw__Sample *smp;
	WlRw__Sample **smpp;
	WlRw__Label **labp;            /* MAX_LABELS_PER_SERIES per series */
	size_t cap_req;
	uint8_t *pb;
	size_t cap_pb;
	char *z;
	size_t cap_z;
};

struct wl_exp_rw *
wl_exp_rw_create(void)
{
	return calloc(1, sizeof(struct wl_exp_rw));
}

void
wl_exp_rw_free(struct wl_exp_rw *e)
{
	if (e == NULL)
		return;
	free(e->lab);
	free(e->names);
	free(e->name_text);
	free(e->xlab);
	free(e->ext);
	free(e->ts);
	free(e->tsp);
	free(e->smp);
	free(e->smpp);
	free(e->labp);
	free(e->pb);
	free(e->z);
	free(e);
}

static int
ensure(void **p, size_t *cap, size_t need, size_t elem)
{
	void *q;

	if (need <= *cap)
		return 0;
	q = realloc(*p, need * elem);
	if (q == NULL)
		return -ENOMEM;
	*p = q;
	*cap = need;
	return 0;
}

static void
label_set(WlRw__Label *l, const char *name, const char *value)
{
	wl_rw__label__init(l);
	l->name = (char *)(uintptr_t)name;
	l->value = (char *)(uintptr_t)value;
}

/* The labels and names every request of this snapshot shares. */
static int
prepare(struct wl_exp_rw *e, const struct wl_exp_snap *s,
	const struct wl_exp_label *extra, unsigned int n_extra)
{
	size_t i, text = 0, pos = 0;
	unsigned int k;

	if (ensure((void **)&e->lab, &e->cap_lab, s->n_labels + 1,
			sizeof(*e->lab)) != 0 ||
			ensure((void **)&e->names, &e->cap_names,
			(size_t)s->n_fam * WL_EXP_SFX_MAX + 1,
			sizeof(*e->names)) != 0 ||
			ensure((void **)&e->ext, &e->cap_ext, n_extra + 1,
			sizeof(*e->ext)) != 0)
		return -ENOMEM;
	for (i = 0; i < s->n_labels; i++)
		label_set(&e->lab[i], s->labels[i].name, s->labels[i].value);
	for (k = 0; k < n_extra; k++)
		label_set(&e->ext[k], extra[k].name, extra[k].value);
	for (i = 0; i < s->n_fam; i++)
		text += WL_EXP_SFX_MAX * (strlen(s->fam[i].name) + 8);
	if (ensure((void **)&e->name_text, &e->cap_name_text, text + 1, 1) != 0)
		return -ENOMEM;
	for (i = 0; i < s->n_fam; i++) {
		for (k = 0; k < WL_EXP_SFX_MAX; k++) {
			char *p = e->name_text + pos;

			pos += (size_t)sprintf(p, "%s%s", s->fam[i].name,
				wl_exp_sfx_names[k]) + 1;
			label_set(&e->names[i * WL_EXP_SFX_MAX + k], "__name__",
				p);
		}
	}
	return 0;
}

static int
req_room(struct wl_exp_rw *e, size_t n)
{
	size_t cap = e->cap_req, c;

	if (n <= cap)
		return 0;
	c = cap;
	if (ensure((void **)&e->ts, &c, n, sizeof(*e->ts)) != 0)
		return -ENOMEM;
	c = cap;
	if (ensure((void **)&e->tsp, &c, n, sizeof(*e->tsp)) != 0)
		return -ENOMEM;
	c = cap;
	if (ensure((void **)&e->smp, &c, n, sizeof(*e->smp)) != 0)
		return -ENOMEM;
	c = cap;
	if (ensure((void **)&e->smpp, &c, n, sizeof(*e->smpp)) != 0)
		return -ENOMEM;
	c = cap;
	if (ensure((void **)&e->xlab, &c, n, sizeof(*e->xlab)) != 0)
		return -ENOMEM;
	c = cap * MAX_LABELS_PER_SERIES;
	if (ensure((void **)&e->labp, &c, n * MAX_LABELS_PER_SERIES,
			sizeof(*e->labp)) != 0)
		return -ENOMEM;
	e->cap_req = n;
	return 0;
}

/* One series' labels: __name__, its set, its bucket label, then the
 * external ones it does not have; sorted by name. @return how many. */
static size_t
series_labels(struct wl_exp_rw *e, const struct wl_exp_snap *s,
	const struct wl_exp_sample *x, size_t slot, unsigned int n_extra)
{
	WlRw__Label **p = &e->labp[slot * MAX_LABELS_PER_SERIES], *t;
	size_t n = 0, i, j, own;

	p[n++] = &e->names[x->family * WL_EXP_SFX_MAX + x->sfx];
	if (x->lset >= 0) {
		const struct wl_exp_lset *ls = &s->lsets[x->lset];

		for (i = 0; i < ls->n && n < MAX_LABELS_PER_SERIES - 1; i++)
			p[n++] = &e->lab[ls->first + i];
	}
	if (x->xname != NULL) {
		label_set(&e->xlab[slot], x->xname, x->xvalue);
		p[n++] = &e->xlab[slot];
	}
	own = n;
	for (i = 0; i < n_extra && n < MAX_LABELS_PER_SERIES; i++) {
		for (j = 0; j < own; j++)
			if (strcmp(p[j]->name, e->ext[i].name) == 0)
				break;
		if (j == own)
			p[n++] = &e->ext[i];
	}
	/* Insertion sort: a dozen labels at most, mostly in order. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(p[j - 1]->name, p[j]->name) > 0;
				j--) {
			t = p[j];
			p[j] = p[j - 1];
			p[j - 1] = t;
		}
	return n;
}

static int
flush(struct wl_exp_rw *e, size_t n, int raw, wl_exp_rw_emit_t emit,
	void *arg)
{
	WlRw__WriteRequest req = WL_RW__WRITE_REQUEST__INIT;
	size_t len, zlen;

	if (n == 0)
		return 0;
	req.n_timeseries = n;
	req.timeseries = e->tsp;
	len = wl_rw__write_request__get_packed_size(&req);
	if (ensure((void **)&e->pb, &e->cap_pb, len + 1, 1) != 0)
		return -ENOMEM;
	wl_rw__write_request__pack(&req, e->pb);
	if (raw)
		return emit(arg, e->pb, len, n);
	zlen = snappy_max_compressed_length(len);
	if (ensure((void **)&e->z, &e->cap_z, zlen + 1, 1) != 0)
		return -ENOMEM;
	if (snappy_compress((const char *)e->pb, len, e->z, &zlen) != SNAPPY_OK)
		return -EIO;
	return emit(arg, (const uint8_t *)e->z, zlen, n);
}

int
wl_exp_rw_encode(struct wl_exp_rw *e, struct wl_exp_snap *s,
	const struct wl_exp_label *extra, unsigned int n_extra,
	size_t max_samples, int raw, wl_exp_rw_emit_t emit, void *arg)
{
	size_t k, n = 0;
	uint32_t f;
	int ret;

	if (max_samples == 0)
		max_samples = 1;
	ret = wl_exp_snap_finish(s);
	if (ret == 0)
		ret = prepare(e, s, extra, n_extra);
	if (ret == 0)
		ret = req_room(e, WL_MIN(max_samples, s->n_smp + 1));
	for (f = 0; f < s->n_fam && ret == 0; f++) {
		const struct wl_exp_family *fam = &s->fam[f];

		for (k = 0; k < fam->n_samples && ret == 0; k++) {
			const struct wl_exp_sample *x =
				&s->smp[s->order[fam->first + k]];
			WlRw__TimeSeries *ts = &e->ts[n];
			WlRw__Sample *sm = &e->smp[n];

			wl_rw__time_series__init(ts);
			wl_rw__sample__init(sm);
			sm->value = x->is_u64 ? (double)x->v.u : x->v.d;
			sm->timestamp = s->ts_ms;
			e->smpp[n] = sm;
			ts->n_samples = 1;
			ts->samples = &e->smpp[n];
			ts->labels = &e->labp[n * MAX_LABELS_PER_SERIES];
			ts->n_labels = series_labels(e, s, x, n, n_extra);
			e->tsp[n] = ts;
			if (++n == max_samples) {
				ret = flush(e, n, raw, emit, arg);
				n = 0;
			}
		}
	}
	if (ret == 0)
		ret = flush(e, n, raw, emit, arg);
	return ret;
}
