/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Remote write 1.0 of an export snapshot: WriteRequest protobufs, snappy
 * block compression (what Prometheus and VictoriaMetrics expect with
 * Content-Encoding: snappy).
 *
 * The messages are those of wl_export_rw.proto, compiled with protoc-c;
 * their field numbers are read from the generated descriptors at the
 * first use, so the .proto stays the one definition. The bytes are
 * written here rather than through protobuf_c_message_pack(): a snapshot
 * of 10,000 series is 200,000 TimeSeries that share most of their labels,
 * and packing each Label once per snapshot (then copying its bytes into
 * every series that has it) costs a fraction of building and walking
 * 200,000 message trees twice (size, then pack). The unit test decodes the
 * output with the generated protobuf-c code.
 *
 * Every sample is its own TimeSeries: its labels sorted by name
 * (__name__, the sample's set, its bucket label, the external ones it
 * lacks), one Sample at the snapshot's time. A request holds at most
 * max_samples samples.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "wl_common.h"
#include "wl_export_priv.h"
#include "wl_export_rw.h"
#include "wl_export_rw.pb-c.h"

#define MAX_LABELS_PER_SERIES 32
#define XCACHE 4096             /* bucket labels of a snapshot, hashed */

/* Protobuf wire types. */
#define WT_VARINT 0
#define WT_I64 1
#define WT_LEN 2

/* Tag bytes of the fields we write (field numbers below 16). */
static struct {
	uint8_t req_timeseries, ts_labels, ts_samples;
	uint8_t label_name, label_value, sample_value, sample_timestamp;
} tag;
static pthread_once_t tag_once = PTHREAD_ONCE_INIT;

static uint8_t
field_tag(const ProtobufCMessageDescriptor *d, const char *name, int wt)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(d, name);

	/* Our .proto's numbers are all below 16: one byte. */
	return (uint8_t)((f->id << 3) | (unsigned int)wt);
}

static void
tag_init(void)
{
	tag.req_timeseries = field_tag(&wl_rw__write_request__descriptor,
		"timeseries", WT_LEN);
	tag.ts_labels = field_tag(&wl_rw__time_series__descriptor, "labels",
		WT_LEN);
	tag.ts_samples = field_tag(&wl_rw__time_series__descriptor, "samples",
		WT_LEN);
	tag.label_name = field_tag(&wl_rw__label__descriptor, "name", WT_LEN);
	tag.label_value = field_tag(&wl_rw__label__descriptor, "value",
		WT_LEN);
	tag.sample_value = field_tag(&wl_rw__sample__descriptor, "value",
		WT_I64);
	tag.sample_timestamp = field_tag(&wl_rw__sample__descriptor,
		"timestamp", WT_VARINT);
}

/* A Label packed as a TimeSeries.labels entry (tag, length, message). */
struct lab {
	const char *name;
	uint32_t off;           /* into e->lb */
	uint32_t len;
};

struct xent {
	const char *xname, *xvalue;
	int32_t lab;            /* into e->xl, -1 empty */
};

struct wl_exp_rw {
	uint8_t *lb;            /* packed labels of this snapshot */
	size_t n_lb, cap_lb;
	struct lab *lab;        /* one per snapshot label */
	size_t cap_lab;
	struct lab *names;      /* __name__ per family and suffix */
	size_t cap_names;
	struct lab *ext;
	size_t cap_ext;
	struct lab *xl;         /* bucket labels met so far */
	size_t n_xl, cap_xl;
	struct xent xcache[XCACHE];
	uint8_t *pb;            /* the request being written */
	size_t n_pb, cap_pb;
	char *z;
	size_t cap_z;
	/* The last sample's labels in order, for the next one with the same
	 * names (__name__, label set, bucket label name); 0: none. */
	const struct lab *ord[MAX_LABELS_PER_SERIES];
	size_t ord_n;
	const struct lab *ord_name;
	int32_t ord_lset;
	const char *ord_xname;
	int ord_xpos;           /* the bucket label's place, -1 none */
};

struct wl_exp_rw *
wl_exp_rw_create(void)
{
	pthread_once(&tag_once, tag_init);
	return calloc(1, sizeof(struct wl_exp_rw));
}

void
wl_exp_rw_free(struct wl_exp_rw *e)
{
	if (e == NULL)
		return;
	free(e->lb);
	free(e->lab);
	free(e->names);
	free(e->ext);
	free(e->xl);
	free(e->pb);
	free(e->z);
	free(e);
}

static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *
put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Pack name=value as a TimeSeries.labels entry into e->lb. */
static int
pack_label(struct wl_exp_rw *e, struct lab *l, const char *name,
	const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), msg, all;
	uint8_t *p;

	msg = 1 + varint_len(nl) + nl + 1 + varint_len(vl) + vl;
	all = 1 + varint_len(msg) + msg;
	if (all > UINT32_MAX || e->n_lb + all > UINT32_MAX ||
			wl_exp_grow((void **)&e->lb, &e->cap_lb, e->n_lb + all, 1) != 0)
		return -ENOMEM;
	p = e->lb + e->n_lb;
	*p++ = tag.ts_labels;
	p = put_varint(p, msg);
	*p++ = tag.label_name;
	p = put_varint(p, nl);
	memcpy(p, name, nl);
	p += nl;
	*p++ = tag.label_value;
	p = put_varint(p, vl);
	memcpy(p, value, vl);
	l->name = name;
	l->off = (uint32_t)e->n_lb;
	l->len = (uint32_t)all;
	e->n_lb += all;
	return 0;
}

/* The labels every request of this snapshot shares, packed once. */
static int
prepare(struct wl_exp_rw *e, const struct wl_exp_snap *s,
	const struct wl_exp_label *extra, unsigned int n_extra)
{
	char name[256];
	size_t i;
	unsigned int k;
	int ret = 0;

	e->n_lb = 0;
	e->n_xl = 0;
	for (i = 0; i < XCACHE; i++)
		e->xcache[i].xname = NULL;
	if (wl_exp_grow((void **)&e->lab, &e->cap_lab, s->n_labels + 1,
			sizeof(*e->lab)) != 0 ||
			wl_exp_grow((void **)&e->names, &e->cap_names,
			(size_t)s->n_fam * WL_EXP_SFX_MAX + 1,
			sizeof(*e->names)) != 0 ||
			wl_exp_grow((void **)&e->ext, &e->cap_ext, n_extra + 1,
			sizeof(*e->ext)) != 0)
		return -ENOMEM;
	for (i = 0; i < s->n_labels && ret == 0; i++)
		ret = pack_label(e, &e->lab[i], s->labels[i].name,
			s->labels[i].value);
	for (k = 0; k < n_extra && ret == 0; k++)
		ret = pack_label(e, &e->ext[k], extra[k].name, extra[k].value);
	for (i = 0; i < s->n_fam && ret == 0; i++)
		for (k = 0; k < WL_EXP_SFX_MAX && ret == 0; k++) {
			snprintf(name, sizeof(name), "%s%s", s->fam[i].name,
				wl_exp_sfx_names[k]);
			ret = pack_label(e, &e->names[i * WL_EXP_SFX_MAX + k],
				"__name__", name);
		}
	return ret;
}

/* The packed bucket label of a sample: a few hundred distinct ones per
 * snapshot (the le and vmrange tables), found by their addresses. */
static const struct lab *
xlabel(struct wl_exp_rw *e, const char *xname, const char *xvalue)
{
	uintptr_t h = ((uintptr_t)xvalue >> 3) * 2654435761u;
	struct xent *x;
	unsigned int i;

	for (i = 0; i < XCACHE; i++) {
		x = &e->xcache[(h + i) % XCACHE];
		if (x->xname == NULL)
			break;
		if (x->xname == xname && x->xvalue == xvalue)
			return &e->xl[x->lab];
	}
	if (wl_exp_grow((void **)&e->xl, &e->cap_xl, e->n_xl + 1,
			sizeof(*e->xl)) != 0 ||
			pack_label(e, &e->xl[e->n_xl], xname, xvalue) != 0)
		return NULL;
	if (i < XCACHE) {
		x->xname = xname;
		x->xvalue = xvalue;
		x->lab = (int32_t)e->n_xl;
	}
	return &e->xl[e->n_xl++];
}

/* One TimeSeries appended to the request. */
static int
put_series(struct wl_exp_rw *e, const struct wl_exp_snap *s,
	const struct wl_exp_sample *x, unsigned int n_extra)
{
	const struct lab *p[MAX_LABELS_PER_SERIES], *t;
	size_t n = 0, i, j, own, ts_len = 0, smp_len;
	double v = x->is_u64 ? (double)x->v.u : x->v.d;
	uint64_t ts = (uint64_t)(s->ts_ms > 0 ? s->ts_ms : 0);
	uint8_t *o;

	p[n++] = &e->names[x->family * WL_EXP_SFX_MAX + x->sfx];
	/* A series' buckets differ only in the bucket label's value: the
	 * order sorted for the first is reused (the sort was a tenth of
	 * remote write's CPU). */
	if (e->ord_n > 0 && e->ord_name == p[0] && e->ord_lset == x->lset &&
			e->ord_xname == x->xname) {
		memcpy(p, e->ord, e->ord_n * sizeof(p[0]));
		n = e->ord_n;
		if (e->ord_xpos >= 0) {
			t = xlabel(e, x->xname, x->xvalue);
			if (t == NULL)
				return -ENOMEM;
			p[e->ord_xpos] = t;
		}
		goto sorted;
	}
	if (x->lset >= 0) {
		const struct wl_exp_lset *ls = &s->lsets[x->lset];

		for (i = 0; i < ls->n && n < MAX_LABELS_PER_SERIES - 1; i++)
			p[n++] = &e->lab[ls->first + i];
	}
	t = NULL;
	if (x->xname != NULL) {
		t = xlabel(e, x->xname, x->xvalue);
		if (t == NULL)
			return -ENOMEM;
		p[n++] = t;
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
			const struct lab *tmp = p[j];

			p[j] = p[j - 1];
			p[j - 1] = tmp;
		}
	memcpy(e->ord, p, n * sizeof(p[0]));
	e->ord_n = n;
	e->ord_name = &e->names[x->family * WL_EXP_SFX_MAX + x->sfx];
	e->ord_lset = x->lset;
	e->ord_xname = x->xname;
	e->ord_xpos = -1;
	for (i = 0; t != NULL && i < n; i++)
		if (p[i] == t)
			e->ord_xpos = (int)i;
sorted:
	for (i = 0; i < n; i++)
		ts_len += p[i]->len;
	smp_len = 1 + 8 + 1 + varint_len(ts);
	ts_len += 1 + varint_len(smp_len) + smp_len;
	if (wl_exp_grow((void **)&e->pb, &e->cap_pb, e->n_pb + 1 +
			varint_len(ts_len) + ts_len, 1) != 0)
		return -ENOMEM;
	o = e->pb + e->n_pb;
	*o++ = tag.req_timeseries;
	o = put_varint(o, ts_len);
	for (i = 0; i < n; i++) {
		memcpy(o, e->lb + p[i]->off, p[i]->len);
		o += p[i]->len;
	}
	*o++ = tag.ts_samples;
	o = put_varint(o, smp_len);
	*o++ = tag.sample_value;
	memcpy(o, &v, 8);       /* little-endian, as the wire wants */
	o += 8;
	*o++ = tag.sample_timestamp;
	o = put_varint(o, ts);
	e->n_pb = (size_t)(o - e->pb);
	return 0;
}

static int
flush(struct wl_exp_rw *e, size_t n, int raw, wl_exp_rw_emit_t emit,
	void *arg)
{
	size_t zlen;

	if (n == 0)
		return 0;
	if (raw)
		return emit(arg, e->pb, e->n_pb, n);
	zlen = snappy_max_compressed_length(e->n_pb);
	if (wl_exp_grow((void **)&e->z, &e->cap_z, zlen + 1, 1) != 0)
		return -ENOMEM;
	if (snappy_compress((const char *)e->pb, e->n_pb, e->z, &zlen) !=
			SNAPPY_OK)
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
	e->n_pb = 0;
	e->ord_n = 0;
	for (f = 0; f < s->n_fam && ret == 0; f++) {
		const struct wl_exp_family *fam = &s->fam[f];

		for (k = 0; k < fam->n_samples && ret == 0; k++) {
			ret = put_series(e, s, &s->smp[s->order[fam->first + k]],
				n_extra);
			if (ret == 0 && ++n == max_samples) {
				ret = flush(e, n, raw, emit, arg);
				n = 0;
				e->n_pb = 0;
			}
		}
	}
	if (ret == 0)
		ret = flush(e, n, raw, emit, arg);
	return ret;
}
