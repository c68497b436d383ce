/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The export model: what wirelat-export serves, built once per scrape or
 * remote-write tick from the shared memory of every watched instance.
 *
 * A snapshot is families (name, type, help) of samples (a label set, at
 * most one bucket label, a value). Strings live in an arena of chunks that
 * never move, so a label points into it for the snapshot's life; reset
 * keeps the memory for the next snapshot (no allocation in steady state).
 *
 * Histograms: each shm series (a 1 % log-linear wl_hist) becomes le and/or
 * vmrange buckets. A hist bucket is attributed at its upper edge: it
 * counts in the first le bound at or above that edge, and in the vmrange
 * holding it. A value near a bound may thus be counted one bucket higher
 * than its own, never lower; the error is at most one hist bucket, under
 * 0.8 % of the value (exact below 256 ns, bytes or segments). The bucket
 * holding the series' max ends at that max (exact), and values over the
 * hist's range (overflow) are attributed at it too.
 * The le and vmrange index of every hist bucket is precomputed per unit,
 * and so are the runs of hist buckets that share both (both only grow
 * with the index): a series is folded where it lies in the shm, under
 * its sequence counter, by summing each run between its min's and max's
 * bucket (a loop without branches) and adding the sum to the run's
 * buckets; no bucket is copied.
 *
 * An instance is (re)attached whenever its segment's inode changes (a new
 * run unlinks and recreates it) and detached when it is gone; its state
 * follows wirelat-stat's rule (finished flag, writer pid alive) plus a
 * staleness limit on the last publication (docs/export.md, "Staleness").
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wl_common.h"
#include "wl_export.h"
#include "wl_export_priv.h"
#include "wl_hist.h"
#include "wl_proto_list.h"
#include "wl_shm.h"
#include "wl_txn.h"

const char *const wl_exp_type_names[WL_EXP_TYPE_MAX] = {
#define _(e, n) n,
	foreach_wl_exp_type
#undef _
};

const char *const wl_exp_sfx_names[WL_EXP_SFX_MAX] = {
#define _(e, n) n,
	foreach_wl_exp_sfx
#undef _
};

static const char *const state_names[WL_EXP_STATE_MAX] = {
#define _(e, n) n,
	foreach_wl_exp_state
#undef _
};

/* Counter prefixes that name a protocol: <proto>_<name>. */
static const char *const proto_names[] = {
#define _(e, n) #n,
	foreach_wl_proto
#undef _
};

/*
 * Counters documented as gauges in docs/metrics.md (the e2e test
 * test_export_scrape checks this list against the document).
 */
static const char *const gauge_counters[] = {
	"flow_active",
	"flow_active_peak",
	"flow_mem_bytes",
	"flow_handshake_peak",
	"flow_extra_peak",
	"flow_ipv6_peak",
	"flow_events_peak",
	"flow_probing_peak",
	"flow_stash_peak",
	"flow_reorder_peak",
};

const char *
wl_exp_state_name(enum wl_exp_state st)
{
	return (unsigned int)st < WL_EXP_STATE_MAX ? state_names[st] : "?";
}

/* ---- arena ---- */

#define CHUNK_SIZE 65536

struct wl_exp_chunk {
	struct wl_exp_chunk *next;
	size_t used, size;
	char data[];
};

/*
 * Copy len bytes and a NUL into the snapshot's arena: arena_head is the
 * first chunk, arena the one being filled; reset rewinds to the head and
 * refills the same chunks in order.
 */
static char *
arena_dup(struct wl_exp_snap *s, const char *str, size_t len)
{
	struct wl_exp_chunk *c = s->arena;
	char *p;

	if (c == NULL || c->size - c->used < len + 1) {
		if (c != NULL && c->next != NULL && c->next->size >= len + 1) {
			c = c->next;
		} else {
			size_t size = WL_MAX((size_t)CHUNK_SIZE, len + 1);
			struct wl_exp_chunk *n = malloc(sizeof(*n) + size);

			if (n == NULL)
				return NULL;
			n->size = size;
			if (c != NULL) {
				n->next = c->next;
				c->next = n;
			} else {
				n->next = NULL;
				s->arena_head = n;
			}
			c = n;
		}
		c->used = 0;
		s->arena = c;
	}
	p = c->data + c->used;
	memcpy(p, str, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

/* ---- snapshot ---- */

int
wl_exp_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n;
	void *q;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (q == NULL)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

struct wl_exp_snap *
wl_exp_snap_create(void)
{
	struct wl_exp_snap *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->fam_hash_mask = 1023;
	s->fam_hash = malloc((s->fam_hash_mask + 1) * sizeof(*s->fam_hash));
	if (s->fam_hash == NULL) {
		free(s);
		return NULL;
	}
	memset(s->fam_hash, 0xff, (s->fam_hash_mask + 1) *
		sizeof(*s->fam_hash));
	return s;
}

void
wl_exp_snap_reset(struct wl_exp_snap *s)
{
	struct wl_exp_chunk *c = s->arena_head;

	s->n_fam = 0;
	s->n_smp = 0;
	s->n_labels = 0;
	s->n_lsets = 0;
	s->ordered = 0;
	s->ts_ms = 0;
	memset(s->fam_hash, 0xff, (s->fam_hash_mask + 1) *
		sizeof(*s->fam_hash));
	if (c != NULL)
		c->used = 0;
	s->arena = c;
}

void
wl_exp_snap_free(struct wl_exp_snap *s)
{
	struct wl_exp_chunk *c, *n;

	if (s == NULL)
		return;
	for (c = s->arena_head; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	free(s->fam);
	free(s->fam_hash);
	free(s->smp);
	free(s->labels);
	free(s->lsets);
	free(s->order);
	free(s);
}

void
wl_exp_snap_set_time(struct wl_exp_snap *s, int64_t ms)
{
	s->ts_ms = ms;
}

int64_t
wl_exp_snap_time(const struct wl_exp_snap *s)
{
	return s->ts_ms;
}

size_t
wl_exp_snap_samples(const struct wl_exp_snap *s)
{
	return s->n_smp;
}

static uint32_t
str_hash(const char *p)
{
	uint32_t h = 2166136261u;

	for (; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (colons only for metric names). */
static int
name_ok(const char *p, int metric)
{
	size_t i;

	for (i = 0; p[i] != '\0'; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				c == '_' || (metric && c == ':') ||
				(i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	return i > 0;
}

static int
fam_rehash(struct wl_exp_snap *s)
{
	uint32_t mask = s->fam_hash_mask * 2 + 1, i, h;
	int32_t *t = malloc((mask + 1) * sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	memset(t, 0xff, (mask + 1) * sizeof(*t));
	for (i = 0; i < s->n_fam; i++) {
		for (h = str_hash(s->fam[i].name) & mask; t[h] >= 0;
				h = (h + 1) & mask)
			;
		t[h] = (int32_t)i;
	}
	free(s->fam_hash);
	s->fam_hash = t;
	s->fam_hash_mask = mask;
	return 0;
}

int
wl_exp_snap_family(struct wl_exp_snap *s, const char *name,
	enum wl_exp_type type, const char *help)
{
	struct wl_exp_family *f;
	size_t cap = s->cap_fam;
	uint32_t h;
	int32_t i;

	for (h = str_hash(name) & s->fam_hash_mask;
			(i = s->fam_hash[h]) >= 0; h = (h + 1) & s->fam_hash_mask)
		if (strcmp(s->fam[i].name, name) == 0)
			return i;
	if (!name_ok(name, 1) || (unsigned int)type >= WL_EXP_TYPE_MAX)
		return -EINVAL;
	if (wl_exp_grow((void **)&s->fam, &cap, s->n_fam + 1, sizeof(*s->fam)) != 0)
		return -ENOMEM;
	s->cap_fam = (uint32_t)cap;
	f = &s->fam[s->n_fam];
	f->name = arena_dup(s, name, strlen(name));
	f->help = arena_dup(s, help != NULL ? help : "", help != NULL ?
		strlen(help) : 0);
	if (f->name == NULL || f->help == NULL)
		return -ENOMEM;
	f->type = type;
	f->n_samples = 0;
	f->first = 0;
	s->fam_hash[h] = (int32_t)s->n_fam;
	i = (int32_t)s->n_fam++;
	/* Keep the table at most half full. */
	if (s->n_fam * 2 > s->fam_hash_mask && fam_rehash(s) != 0)
		return -ENOMEM;
	return i;
}

/* Length of the valid UTF-8 sequence at p, 0 when invalid. */
static size_t
utf8_len(const uint8_t *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xe0 && p[1] < 0xa0) ||
				(p[0] == 0xed && p[1] >= 0xa0))
			return 0;       /* overlong, surrogates */
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
				(p[3] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xf0 && p[1] < 0x90) ||
				(p[0] == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* A copy of a label value that Prometheus accepts (valid UTF-8). */
static const char *
value_dup(struct wl_exp_snap *s, const char *v)
{
	size_t i = 0, n, len = strlen(v);
	char *p;

	while (i < len && (n = utf8_len((const uint8_t *)v + i)) != 0)
		i += n;
	p = arena_dup(s, v, len);
	if (p == NULL || i == len)
		return p;
	while (i < len) {
		n = utf8_len((const uint8_t *)p + i);
		if (n == 0) {
			p[i] = '?';
			n = 1;
		}
		i += n;
	}
	return p;
}

int
wl_exp_snap_labels(struct wl_exp_snap *s, const struct wl_exp_label *l,
	unsigned int n)
{
	struct wl_exp_label *d, t;
	struct wl_exp_lset *ls;
	unsigned int i, j;

	for (i = 0; i < n; i++)
		if (!name_ok(l[i].name, 0) ||
				strncmp(l[i].name, "__", 2) == 0)
			return -EINVAL;
	if (wl_exp_grow((void **)&s->labels, &s->cap_labels, s->n_labels + n,
			sizeof(*s->labels)) != 0 ||
			wl_exp_grow((void **)&s->lsets, &s->cap_lsets, s->n_lsets + 1,
			sizeof(*s->lsets)) != 0)
		return -ENOMEM;
	d = &s->labels[s->n_labels];
	for (i = 0; i < n; i++) {
		/* Names are ours (static tables): values are copied. */
		d[i].name = l[i].name;
		d[i].value = value_dup(s, l[i].value);
		if (d[i].value == NULL)
			return -ENOMEM;
		for (j = i; j > 0 && strcmp(d[j - 1].name, d[j].name) > 0;
				j--) {
			t = d[j];
			d[j] = d[j - 1];
			d[j - 1] = t;
		}
	}
	ls = &s->lsets[s->n_lsets];
	ls->first = (uint32_t)s->n_labels;
	ls->n = n;
	s->n_labels += n;
	return (int)s->n_lsets++;
}

static struct wl_exp_sample *
sample_new(struct wl_exp_snap *s, int fam, enum wl_exp_sfx sfx, int lset,
	const char *xname, const char *xvalue)
{
	struct wl_exp_sample *x;

	if (fam < 0 || (uint32_t)fam >= s->n_fam || lset < -1 ||
			(lset >= 0 && (size_t)lset >= s->n_lsets) ||
			(unsigned int)sfx >= WL_EXP_SFX_MAX)
		return NULL;
	if (wl_exp_grow((void **)&s->smp, &s->cap_smp, s->n_smp + 1,
			sizeof(*s->smp)) != 0)
		return NULL;
	x = &s->smp[s->n_smp++];
	x->family = (uint32_t)fam;
	x->lset = lset;
	x->sfx = (uint8_t)sfx;
	x->xname = xname;
	x->xvalue = xvalue;
	s->fam[fam].n_samples++;
	s->ordered = 0;
	return x;
}

int
wl_exp_snap_sample(struct wl_exp_snap *s, int fam, enum wl_exp_sfx sfx,
	int lset, const char *xname, const char *xvalue, double value)
{
	struct wl_exp_sample *x = sample_new(s, fam, sfx, lset, xname, xvalue);

	if (x == NULL)
		return fam < 0 || (uint32_t)fam >= s->n_fam ? -EINVAL : -ENOMEM;
	x->is_u64 = 0;
	x->v.d = value;
	return 0;
}

int
wl_exp_snap_sample_u64(struct wl_exp_snap *s, int fam, enum wl_exp_sfx sfx,
	int lset, const char *xname, const char *xvalue, uint64_t value)
{
	struct wl_exp_sample *x = sample_new(s, fam, sfx, lset, xname, xvalue);

	if (x == NULL)
		return fam < 0 || (uint32_t)fam >= s->n_fam ? -EINVAL : -ENOMEM;
	x->is_u64 = 1;
	x->v.u = value;
	return 0;
}

int
wl_exp_snap_finish(struct wl_exp_snap *s)
{
	uint32_t i, pos = 0;
	size_t k;

	if (s->ordered)
		return 0;
	if (wl_exp_grow((void **)&s->order, &s->cap_order, s->n_smp ? s->n_smp : 1,
			sizeof(*s->order)) != 0)
		return -ENOMEM;
	/* Counting sort by family: stable, linear. */
	for (i = 0; i < s->n_fam; i++) {
		s->fam[i].first = pos;
		pos += s->fam[i].n_samples;
		s->fam[i].n_samples = 0;
	}
	for (k = 0; k < s->n_smp; k++) {
		struct wl_exp_family *f = &s->fam[s->smp[k].family];

		s->order[f->first + f->n_samples++] = (uint32_t)k;
	}
	s->ordered = 1;
	return 0;
}

size_t
wl_exp_sample_name(const struct wl_exp_snap *s, const struct wl_exp_sample *x,
	char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s", s->fam[x->family].name,
		wl_exp_sfx_names[x->sfx]);

	return n < 0 ? 0 : WL_MIN((size_t)n, size - 1);
}

/* ---- bucket tables ---- */

static char vm_ranges[WL_EXP_VM_BUCKETS][40];
static double vm_mult;
static pthread_once_t vm_once = PTHREAD_ONCE_INIT;

/*
 * The ranges as VictoriaMetrics' histogram (github.com/VictoriaMetrics/
 * metrics, histogram.go) names them: each bound the previous one times
 * 10^(1/18), starting from 1e-9, printed "%.3e"; the lower and upper
 * buckets catch what is outside 1e-9 .. 1e18.
 */
static void
vm_init(void)
{
	double v = pow(10, WL_EXP_VM_E10_MIN), end;
	unsigned int i;

	vm_mult = pow(10, 1.0 / WL_EXP_VM_PER_DECADE);
	snprintf(vm_ranges[0], sizeof(vm_ranges[0]), "0...%.3e", v);
	for (i = 1; i < WL_EXP_VM_BUCKETS - 1; i++) {
		end = v * vm_mult;
		snprintf(vm_ranges[i], sizeof(vm_ranges[i]), "%.3e...%.3e", v,
			end);
		v = end;
	}
	snprintf(vm_ranges[i], sizeof(vm_ranges[i]), "%.3e...+Inf",
		pow(10, WL_EXP_VM_E10_MAX));
}

const char *
wl_exp_vm_range(unsigned int i)
{
	pthread_once(&vm_once, vm_init);
	return i < WL_EXP_VM_BUCKETS ? vm_ranges[i] : NULL;
}

/*
 * As VictoriaMetrics' Histogram.Update places a value: bucket
 * floor((log10(v) + 9) * 18), an exact bound going to the bucket below
 * (it ends there: le semantics), plus the lower and upper buckets.
 */
unsigned int
wl_exp_vm_index(double v)
{
	double x;
	unsigned int i;

	if (!(v >= 1e-9))
		return 0;
	x = (log10(v) - WL_EXP_VM_E10_MIN) * WL_EXP_VM_PER_DECADE;
	if (x >= WL_EXP_VM_BUCKETS - 2)
		return WL_EXP_VM_BUCKETS - 1;
	i = (unsigned int)x;
	if ((double)i == x && i > 0)
		i--;
	return i + 1;
}

/* Raw unit per exported unit: ns per second, else 1. */
static double
unit_scale(unsigned int unit)
{
	return unit == WL_UNIT_NS ? 1e9 : 1;
}

/* Shortest text that reads back as the same double; whole numbers
 * without an exponent ("10", not "1e+01"). */
static void
fmt_double(char *buf, size_t size, double v)
{
	int p;

	if (v >= 1 && v < 1e15 && v == floor(v)) {
		snprintf(buf, size, "%.0f", v);
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(buf, size, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* ---- the model ---- */

struct inst {
	char name[WL_SHM_INSTANCE_LEN];
	struct wl_shm *shm;
	dev_t dev;
	ino_t ino;
	uint64_t created_ns;
	int32_t pid;
	enum wl_exp_state state;
	int reported;           /* state last logged, -1 none */
	char (*cnames)[WL_SHM_COUNTER_NAME];
	uint64_t *cvalues;
	uint32_t max_counters;
};

/* A series converted, until its samples are made. Series whose exported
 * labels are the same (a family without a method label) are merged. */
struct rec {
	int fam;
	int lset;
	uint8_t unit;
	uint32_t hash;
	uint64_t count;
	double sum;             /* raw unit */
	uint32_t le;            /* into m->le_pool: n_le[unit] + 1 counts */
	uint32_t vm, n_vm;      /* into m->vm_pool: (index, count) pairs */
};

struct vm_cnt {
	uint32_t idx;
	uint64_t n;
};

/* Runs of hist buckets counting in the same le (and, with vmrange, the
 * same vmrange) bucket. */
struct runs {
	uint16_t of[WL_HIST_BUCKETS];           /* the run of hist bucket i */
	uint16_t start[WL_HIST_BUCKETS + 1];    /* run j: start[j] .. start[j+1] */
	uint8_t le[WL_HIST_BUCKETS];
	uint16_t vm[WL_HIST_BUCKETS];
};

/*
 * One series as read from the shm, before it joins its rec. vm[] is all
 * zero outside vm_lo .. vm_hi (kept so: only that range is cleared).
 */
struct fold {
	const struct wl_exp_model *m;
	const struct wl_shm_metric *defs;
	const int *fams;
	int nd;
	int d;                  /* the series' family in defs, nd: none */
	uint64_t le[WL_EXP_MAX_LE + 1];
	uint64_t vm[WL_EXP_VM_BUCKETS];
	unsigned int vm_lo, vm_hi;
};

struct wl_exp_model {
	unsigned int buckets;
	uint64_t stale_ns;
	unsigned int n_le[WL_EXP_UNITS];
	uint64_t le_raw[WL_EXP_UNITS][WL_EXP_MAX_LE];   /* bound, raw unit */
	char le_text[WL_EXP_UNITS][WL_EXP_MAX_LE + 1][32];
	uint8_t le_map[WL_EXP_UNITS][WL_HIST_BUCKETS];
	uint16_t vm_map[WL_EXP_UNITS][WL_HIST_BUCKETS];
	struct runs runs[WL_EXP_UNITS];
	unsigned int n_inst;
	struct inst *inst;
	struct wl_shm_series *ser;                      /* read buffer */
	/* Per instance while reading, reused. */
	struct rec *recs;
	size_t n_recs, cap_recs;
	int32_t *rhash;
	uint32_t rhash_mask;
	uint64_t *le_pool;
	size_t n_le_pool, cap_le_pool;
	struct vm_cnt *vm_pool;
	size_t n_vm_pool, cap_vm_pool;
	struct fold fold;
};

static unsigned int
le_first_at_or_above(const struct wl_exp_model *m, unsigned int unit,
	uint64_t v)
{
	unsigned int k;

	for (k = 0; k < m->n_le[unit]; k++)
		if (v <= m->le_raw[unit][k])
			return k;
	return m->n_le[unit];
}

unsigned int
wl_exp_le_index(const struct wl_exp_model *m, unsigned int unit,
	unsigned int hist_idx)
{
	if (unit >= WL_EXP_UNITS || hist_idx >= WL_HIST_BUCKETS)
		return 0;
	return m->le_map[unit][hist_idx];
}

const char *
wl_exp_le_label(const struct wl_exp_model *m, unsigned int unit,
	unsigned int k)
{
	if (unit >= WL_EXP_UNITS || k > m->n_le[unit])
		return NULL;
	return m->le_text[unit][k];
}

static void
runs_init(struct wl_exp_model *m, unsigned int u)
{
	int vm = (m->buckets & WL_EXP_BUCKETS_VMRANGE) != 0;
	struct runs *r = &m->runs[u];
	unsigned int i, j = 0;

	for (i = 0; i < WL_HIST_BUCKETS; i++) {
		if (i == 0 || m->le_map[u][i] != m->le_map[u][i - 1] ||
				(vm && m->vm_map[u][i] != m->vm_map[u][i - 1])) {
			if (i > 0)
				j++;
			r->start[j] = (uint16_t)i;
			r->le[j] = m->le_map[u][i];
			r->vm[j] = m->vm_map[u][i];
		}
		r->of[i] = (uint16_t)j;
	}
	r->start[j + 1] = WL_HIST_BUCKETS;
}

static int
tables_init(struct wl_exp_model *m, const struct wl_exp_opts *o)
{
	unsigned int u, k, i;

	pthread_once(&vm_once, vm_init);
	for (u = 0; u < WL_EXP_UNITS; u++) {
		if (o->n_le[u] > WL_EXP_MAX_LE ||
				(o->n_le[u] > 0 && o->le[u] == NULL))
			return -EINVAL;
		m->n_le[u] = o->n_le[u];
		for (k = 0; k < o->n_le[u]; k++) {
			double b = o->le[u][k];

			if (!(b >= 0 && b < 1e12) ||
					(k > 0 && !(b > o->le[u][k - 1])))
				return -EINVAL;
			/* A bound holds the integers at or below it. */
			m->le_raw[u][k] = (uint64_t)floor(b * unit_scale(u) +
				1e-6);
			fmt_double(m->le_text[u][k], sizeof(m->le_text[u][k]),
				b);
		}
		wl_strlcpy(m->le_text[u][k], "+Inf", sizeof(m->le_text[u][k]));
		for (i = 0; i < WL_HIST_BUCKETS; i++) {
			uint64_t hi = wl_hist_bucket_high(i);

			m->le_map[u][i] = (uint8_t)le_first_at_or_above(m, u,
				hi);
			m->vm_map[u][i] = (uint16_t)wl_exp_vm_index(
				(double)hi / unit_scale(u));
		}
		runs_init(m, u);
	}
	return 0;
}

struct wl_exp_model *
wl_exp_model_create(const struct wl_exp_opts *o, const char *const *instances,
	unsigned int n)
{
	struct wl_exp_model *m;
	unsigned int i;

	if (o->buckets == 0 || (o->buckets & ~(WL_EXP_BUCKETS_LE |
			WL_EXP_BUCKETS_VMRANGE)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (wl_shm_instance_check(instances[i]) != 0) {
			errno = EINVAL;
			return NULL;
		}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto nomem;
	m->buckets = o->buckets;
	m->stale_ns = o->stale_ns;
	if (tables_init(m, o) != 0) {
		free(m);
		errno = EINVAL;
		return NULL;
	}
	m->inst = calloc(n ? n : 1, sizeof(*m->inst));
	m->ser = malloc(sizeof(*m->ser));
	m->fold.m = m;
	m->fold.vm_lo = WL_EXP_VM_BUCKETS;
	m->rhash_mask = 4095;
	m->rhash = malloc((m->rhash_mask + 1) * sizeof(*m->rhash));
	if (m->inst == NULL || m->ser == NULL || m->rhash == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		wl_strlcpy(m->inst[i].name, instances[i],
			sizeof(m->inst[i].name));
		m->inst[i].state = WL_EXP_STATE_GONE;
		m->inst[i].reported = -1;
	}
	m->n_inst = n;
	return m;
nomem:
	wl_exp_model_free(m);
	errno = ENOMEM;
	return NULL;
}

static void
detach(struct inst *in)
{
	wl_shm_close(in->shm);
	in->shm = NULL;
	free(in->cnames);
	free(in->cvalues);
	in->cnames = NULL;
	in->cvalues = NULL;
	in->max_counters = 0;
}

void
wl_exp_model_free(struct wl_exp_model *m)
{
	unsigned int i;

	if (m == NULL)
		return;
	for (i = 0; m->inst != NULL && i < m->n_inst; i++)
		detach(&m->inst[i]);
	free(m->inst);
	free(m->ser);
	free(m->recs);
	free(m->rhash);
	free(m->le_pool);
	free(m->vm_pool);
	free(m);
}

enum wl_exp_state
wl_exp_model_state(const struct wl_exp_model *m, unsigned int i)
{
	return i < m->n_inst ? m->inst[i].state : WL_EXP_STATE_GONE;
}

static void
logf_(void (*log)(void *, const char *), void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
logf_(void (*log)(void *, const char *), void *arg, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log(arg, line);
}


/*
 * Attach or re-attach an instance when its segment is new; say when it
 * is gone. @return 0 attached, -errno gone (err says why).
 */
static int
inst_refresh(struct inst *in, char *err, size_t errlen)
{
	struct wl_shm_hdr *h;
	char name[80];
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "/wirelat-%s", in->name);
	fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0) {
		int e = errno;

		detach(in);
		snprintf(err, errlen, "%s%s", strerror(e), e == ENOENT ?
			" (no segment: wirelat has not run with this instance, "
			"or it was removed)" : "");
		return -e;
	}
	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		detach(in);
		snprintf(err, errlen, "fstat: %s", strerror(e));
		return -e;
	}
	close(fd);
	if (in->shm != NULL && st.st_dev == in->dev && st.st_ino == in->ino)
		return 0;
	/* A new run unlinked the old segment and created another. */
	detach(in);
	in->shm = wl_shm_attach(in->name, err, errlen);
	if (in->shm == NULL)
		return -EINVAL;
	in->dev = st.st_dev;
	in->ino = st.st_ino;
	h = malloc(sizeof(*h));
	if (h == NULL || wl_shm_read_hdr(in->shm, h) != 0) {
		free(h);
		detach(in);
		snprintf(err, errlen, "writer too busy for a consistent read");
		return -EAGAIN;
	}
	in->max_counters = h->max_counters;
	in->created_ns = h->created_ns;
	in->pid = h->pid;
	free(h);
	in->cnames = calloc(in->max_counters ? in->max_counters : 1,
		sizeof(*in->cnames));
	in->cvalues = calloc(in->max_counters ? in->max_counters : 1,
		sizeof(*in->cvalues));
	if (in->cnames == NULL || in->cvalues == NULL) {
		detach(in);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* ---- counters ---- */

static int
is_proto(const char *p, size_t n)
{
	unsigned int i;

	for (i = 0; i < WL_ARRAY_SIZE(proto_names); i++)
		if (strlen(proto_names[i]) == n &&
				strncmp(proto_names[i], p, n) == 0)
			return 1;
	return 0;
}

static int
is_gauge(const char *name)
{
	return wl_str_in(name, gauge_counters, WL_ARRAY_SIZE(gauge_counters));
}

/* "<prefix><digits>." at the start of name: the digits' value, and
 * where the rest starts; -1 when it is not there. */
static long
indexed(const char *name, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);
	const char *p = name + n;
	long v = 0;

	if (strncmp(name, prefix, n) != 0 || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9' && v < 1000000; p++)
		v = v * 10 + (*p - '0');
	if (*p != '.' || p[1] == '\0')
		return -1;
	*rest = p + 1;
	return v;
}

/* The inputs, in the order the collector publishes them: pcap sources,
 * then interfaces ("lo (af_packet)"), then DPDK ports. */
struct inputs {
	const struct wl_shm_hdr *h;
	unsigned int n_src, n_iface;
};

static void
inputs_scan(struct inputs *is, const struct wl_shm_hdr *h)
{
	static const char afp[] = " (af_packet)";
	unsigned int i;

	is->h = h;
	is->n_src = 0;
	is->n_iface = 0;
	for (i = 0; i < h->n_inputs; i++) {
		const char *nm = h->inputs[i].name;
		size_t l = strnlen(nm, sizeof(h->inputs[i].name));

		if (strncmp(h->inputs[i].ts_source, "pcap", 8) == 0 &&
				is->n_iface == 0)
			is->n_src++;
		else if (l > sizeof(afp) - 1 &&
				memcmp(nm + l - (sizeof(afp) - 1), afp,
				sizeof(afp) - 1) == 0)
			is->n_iface++;
	}
}

/* The name of input N of a kind (0 source, 1 iface, 2 port). */
static void
input_name(const struct inputs *is, int kind, long n, char *buf, size_t size)
{
	static const char afp[] = " (af_packet)";
	unsigned long idx = (unsigned long)n;
	size_t l;

	if (kind >= 1)
		idx += is->n_src;
	if (kind == 2)
		idx += is->n_iface;
	if (idx >= is->h->n_inputs || (kind == 0 && (unsigned long)n >=
			is->n_src) || (kind == 1 && (unsigned long)n >=
			is->n_iface)) {
		snprintf(buf, size, "%ld", n);
		return;
	}
	wl_strncpy_buf(buf, size, is->h->inputs[idx].name,
		sizeof(is->h->inputs[idx].name));
	l = strlen(buf);
	if (kind == 1 && l > sizeof(afp) - 1)
		buf[l - (sizeof(afp) - 1)] = '\0';
}

static int
counter_sample(struct wl_exp_snap *s, const char *fname, int gauge,
	const char *help, struct wl_exp_label *l, unsigned int nl,
	uint64_t v)
{
	int fam, ls;

	fam = wl_exp_snap_family(s, fname, gauge ? WL_EXP_GAUGE :
		WL_EXP_COUNTER, help);
	if (fam == -EINVAL)
		return 0;       /* a name Prometheus refuses: skipped */
	if (fam < 0)
		return fam;
	ls = wl_exp_snap_labels(s, l, nl);
	if (ls < 0)
		return ls == -EINVAL ? 0 : ls;
	return wl_exp_snap_sample_u64(s, fam, WL_EXP_SFX_NONE, ls, NULL,
		NULL, v);
}

/*
 * One shm counter as the family and labels docs/metrics.md ("Prometheus
 * and remote write") gives it.
 */
static int
export_counter(struct wl_exp_snap *s, const struct inputs *is,
	const char *inst, const char *name, uint64_t v)
{
	static const char *const kinds[] = {"source", "iface", "port"};
	struct wl_exp_label l[3] = {{"instance_name", inst}};
	char fname[160], val[160];
	const char *rest, *us;
	unsigned int k;
	long n;
	int g;

	if ((n = indexed(name, "lcore", &rest)) >= 0) {
		g = is_gauge(rest);
		snprintf(fname, sizeof(fname), "wirelat_lcore_%s%s", rest,
			g ? "" : "_total");
		snprintf(val, sizeof(val), "%ld", n);
		l[1] = (struct wl_exp_label){"lcore", val};
		return counter_sample(s, fname, g, "Per-lcore copy of a "
			"wirelat counter (docs/metrics.md)", l, 2, v);
	}
	for (k = 0; k < WL_ARRAY_SIZE(kinds); k++) {
		if ((n = indexed(name, kinds[k], &rest)) < 0)
			continue;
		snprintf(fname, sizeof(fname), "wirelat_%s_%s_total", kinds[k],
			rest);
		input_name(is, (int)k, n, val, sizeof(val));
		l[1] = (struct wl_exp_label){kinds[k], val};
		return counter_sample(s, fname, 0, "Per-input wirelat counter "
			"(docs/metrics.md, Collector and inputs)", l, 2, v);
	}
	/* The sums of the parts below are not exported: sum() them. */
	if (strcmp(name, "drops") == 0 || strcmp(name, "drops_packets") == 0)
		return 0;
	if (strncmp(name, "drops_", 6) == 0) {
		l[1] = (struct wl_exp_label){"where", name + 6};
		return counter_sample(s, "wirelat_drops_total", 0, "Packets, "
			"flow states and transactions lost, by where "
			"(docs/metrics.md, Drops)", l, 2, v);
	}
	us = strchr(name, '_');
	if (us != NULL && us[1] != '\0' && is_proto(name, (size_t)(us - name))) {
		snprintf(val, sizeof(val), "%.*s", (int)(us - name), name);
		snprintf(fname, sizeof(fname), "wirelat_proto_%s_total", us + 1);
		l[1] = (struct wl_exp_label){"proto", val};
		return counter_sample(s, fname, 0, "Protocol counter "
			"(docs/metrics.md, Protocols)", l, 2, v);
	}
	g = is_gauge(name);
	snprintf(fname, sizeof(fname), "wirelat_%s%s", name, g ? "" : "_total");
	return counter_sample(s, fname, g, "wirelat counter (docs/metrics.md)",
		l, 1, v);
}

/* ---- histograms ---- */

static int
rec_grow(struct wl_exp_model *m)
{
	if (wl_exp_grow((void **)&m->recs, &m->cap_recs, m->n_recs + 1,
			sizeof(*m->recs)) != 0)
		return -ENOMEM;
	if (m->n_recs * 2 >= m->rhash_mask) {
		uint32_t mask = m->rhash_mask * 2 + 1;
		int32_t *t = malloc((mask + 1) * sizeof(*t));
		size_t i;
		uint32_t h;

		if (t == NULL)
			return -ENOMEM;
		memset(t, 0xff, (mask + 1) * sizeof(*t));
		for (i = 0; i < m->n_recs; i++) {
			for (h = m->recs[i].hash & mask; t[h] >= 0;
					h = (h + 1) & mask)
				;
			t[h] = (int32_t)i;
		}
		free(m->rhash);
		m->rhash = t;
		m->rhash_mask = mask;
	}
	return 0;
}

static uint32_t
lset_hash(const struct wl_exp_snap *s, int fam, int lset)
{
	const struct wl_exp_lset *ls = &s->lsets[lset];
	uint32_t h = 2166136261u ^ (uint32_t)fam, i;

	for (i = 0; i < ls->n; i++)
		h = (h * 16777619u) ^ str_hash(s->labels[ls->first + i].name) ^
			(str_hash(s->labels[ls->first + i].value) * 31u);
	return h;
}

static int
lset_equal(const struct wl_exp_snap *s, int a, int b)
{
	const struct wl_exp_lset *x = &s->lsets[a], *y = &s->lsets[b];
	uint32_t i;

	if (x->n != y->n)
		return 0;
	for (i = 0; i < x->n; i++)
		if (strcmp(s->labels[x->first + i].name,
				s->labels[y->first + i].name) != 0 ||
				strcmp(s->labels[x->first + i].value,
				s->labels[y->first + i].value) != 0)
			return 0;
	return 1;
}

/*
 * wl_shm_fold_series()'s callback: series x (head copied, buckets b in
 * the shm) into f's counts. Called again from scratch when the writer
 * changed the series meanwhile, so x may be torn: every index derived
 * from it is checked before use.
 */
static void
fold_series(void *arg, const struct wl_shm_series *x, const uint64_t *b)
{
	struct fold *f = arg;
	const struct wl_exp_model *m = f->m;
	const struct wl_hist *h = &x->h;
	unsigned int u, i, j, end, lo, hi, nle;
	const struct runs *r;
	int vm = (m->buckets & WL_EXP_BUCKETS_VMRANGE) != 0;
	uint64_t n;

	if (f->vm_lo <= f->vm_hi)
		memset(&f->vm[f->vm_lo], 0, (f->vm_hi - f->vm_lo + 1) *
			sizeof(f->vm[0]));
	f->vm_lo = WL_EXP_VM_BUCKETS;
	f->vm_hi = 0;
	for (f->d = 0; f->d < f->nd; f->d++)
		if (strcmp(f->defs[f->d].name, x->key.metric) == 0)
			break;
	if (f->d == f->nd || f->fams[f->d] < 0)
		return;
	u = f->defs[f->d].unit;
	nle = m->n_le[u];
	r = &m->runs[u];
	memset(f->le, 0, (nle + 1) * sizeof(f->le[0]));
	if (h->count > h->overflow) {
		/* Only the buckets between min and max can be non-empty. */
		lo = wl_hist_index(WL_MIN(h->min, WL_HIST_MAX_VALUE));
		hi = wl_hist_index(WL_MIN(h->max, WL_HIST_MAX_VALUE));
		if (lo <= hi && hi < WL_HIST_BUCKETS) {
			if (vm && lo < hi) {
				f->vm_lo = r->vm[r->of[lo]];
				f->vm_hi = r->vm[r->of[hi - 1]];
			}
			for (i = lo, j = r->of[lo]; i < hi; i = end, j++) {
				end = WL_MIN((unsigned int)r->start[j + 1], hi);
				for (n = 0; i < end; i++)
					n += b[i];
				f->le[r->le[j]] += n;
				if (vm)
					f->vm[r->vm[j]] += n;
			}
			/* The bucket of max ends at max, which is exact: a
			 * series of one value lands in its own le bucket. */
			n = b[hi];
			if (n != 0) {
				uint64_t top = WL_MIN(h->max,
					wl_hist_bucket_high(hi));

				f->le[le_first_at_or_above(m, u, top)] += n;
				if (vm) {
					i = wl_exp_vm_index((double)top /
						unit_scale(u));
					f->vm[i] += n;
					f->vm_lo = WL_MIN(f->vm_lo, i);
					f->vm_hi = WL_MAX(f->vm_hi, i);
				}
			}
		}
	}
	if (h->overflow > 0) {
		/* Past the hist's range: at the exact max. */
		f->le[le_first_at_or_above(m, u, h->max)] += h->overflow;
		if (vm) {
			i = wl_exp_vm_index((double)h->max / unit_scale(u));
			f->vm[i] += h->overflow;
			f->vm_lo = WL_MIN(f->vm_lo, i);
			f->vm_hi = WL_MAX(f->vm_hi, i);
		}
	}
}

/* Add a folded series to r (already holding some when merged). */
static int
rec_add(struct wl_exp_model *m, struct rec *r, const struct wl_hist *h,
	int fresh)
{
	unsigned int nle = m->n_le[r->unit], i;
	struct fold *f = &m->fold;
	uint64_t *le;
	size_t k;

	if (fresh) {
		if (wl_exp_grow((void **)&m->le_pool, &m->cap_le_pool, m->n_le_pool +
				nle + 1, sizeof(*m->le_pool)) != 0)
			return -ENOMEM;
		r->le = (uint32_t)m->n_le_pool;
		m->n_le_pool += nle + 1;
		memset(&m->le_pool[r->le], 0, (nle + 1) * sizeof(uint64_t));
		r->n_vm = 0;
	}
	le = &m->le_pool[r->le];
	for (i = 0; i <= nle; i++)
		le[i] += f->le[i];
	r->count += h->count;
	r->sum += h->sum;
	if ((m->buckets & WL_EXP_BUCKETS_VMRANGE) == 0)
		return 0;
	for (k = 0; k < r->n_vm; k++) {
		i = m->vm_pool[r->vm + k].idx;
		f->vm[i] += m->vm_pool[r->vm + k].n;
		f->vm_lo = WL_MIN(f->vm_lo, i);
		f->vm_hi = WL_MAX(f->vm_hi, i);
	}
	/* Store the non-empty vmrange buckets, ascending; f->vm is left
	 * zero. */
	r->vm = (uint32_t)m->n_vm_pool;
	r->n_vm = 0;
	for (i = f->vm_lo; i <= f->vm_hi; i++) {
		if (f->vm[i] == 0)
			continue;
		if (wl_exp_grow((void **)&m->vm_pool, &m->cap_vm_pool,
				m->n_vm_pool + 1, sizeof(*m->vm_pool)) != 0)
			return -ENOMEM;
		m->vm_pool[m->n_vm_pool++] = (struct vm_cnt){i, f->vm[i]};
		f->vm[i] = 0;
		r->n_vm++;
	}
	f->vm_lo = WL_EXP_VM_BUCKETS;
	f->vm_hi = 0;
	return 0;
}

static int
series_rec(struct wl_exp_model *m, struct wl_exp_snap *s, const char *inst,
	const struct wl_shm_metric *def, int fam, const struct wl_shm_series *x)
{
	struct wl_exp_label l[5];
	char ip[64], srv[80];
	unsigned int nl = 0;
	struct rec *r;
	uint32_t h, slot;
	int ls, ret;
	int32_t i;

	wl_addr_format(&x->key.server, ip, sizeof(ip));
	snprintf(srv, sizeof(srv), wl_addr_is_v4(&x->key.server) ? "%s:%u" :
		"[%s]:%u", ip, x->key.server_port);
	l[nl++] = (struct wl_exp_label){"instance_name", inst};
	l[nl++] = (struct wl_exp_label){"proto", x->key.proto};
	l[nl++] = (struct wl_exp_label){"server", srv};
	if (def->method_label[0] != '\0')
		l[nl++] = (struct wl_exp_label){def->method_label,
			x->key.method};
	l[nl++] = (struct wl_exp_label){"status_class",
		wl_status_class_name(x->key.status_class)};
	ls = wl_exp_snap_labels(s, l, nl);
	if (ls < 0)
		return ls == -EINVAL ? 0 : ls;  /* a bad method label name */
	h = lset_hash(s, fam, ls);
	for (slot = h & m->rhash_mask; (i = m->rhash[slot]) >= 0;
			slot = (slot + 1) & m->rhash_mask) {
		r = &m->recs[i];
		if (r->hash == h && r->fam == fam && lset_equal(s, r->lset, ls))
			return rec_add(m, r, &x->h, 0);
	}
	ret = rec_grow(m);      /* may rehash: find the slot again */
	if (ret != 0)
		return ret;
	for (slot = h & m->rhash_mask; m->rhash[slot] >= 0;
			slot = (slot + 1) & m->rhash_mask)
		;
	m->rhash[slot] = (int32_t)m->n_recs;
	r = &m->recs[m->n_recs++];
	memset(r, 0, sizeof(*r));
	r->fam = fam;
	r->lset = ls;
	r->unit = def->unit;
	r->hash = h;
	return rec_add(m, r, &x->h, 1);
}

static int
rec_samples(struct wl_exp_model *m, struct wl_exp_snap *s, const struct rec *r)
{
	unsigned int k, nle = m->n_le[r->unit];
	uint64_t cum = 0;
	int ret = 0;
	size_t j;

	if (m->buckets & WL_EXP_BUCKETS_LE) {
		for (k = 0; k < nle && ret == 0; k++) {
			cum += m->le_pool[r->le + k];
			ret = wl_exp_snap_sample_u64(s, r->fam,
				WL_EXP_SFX_BUCKET, r->lset, "le",
				m->le_text[r->unit][k], cum);
		}
		if (ret == 0)
			ret = wl_exp_snap_sample_u64(s, r->fam,
				WL_EXP_SFX_BUCKET, r->lset, "le",
				m->le_text[r->unit][nle], r->count);
	}
	if (m->buckets & WL_EXP_BUCKETS_VMRANGE)
		for (j = 0; j < r->n_vm && ret == 0; j++)
			ret = wl_exp_snap_sample_u64(s, r->fam,
				WL_EXP_SFX_BUCKET, r->lset, "vmrange",
				vm_ranges[m->vm_pool[r->vm + j].idx],
				m->vm_pool[r->vm + j].n);
	if (ret == 0)
		ret = wl_exp_snap_sample(s, r->fam, WL_EXP_SFX_SUM, r->lset,
			NULL, NULL, r->sum / unit_scale(r->unit));
	if (ret == 0)
		ret = wl_exp_snap_sample_u64(s, r->fam, WL_EXP_SFX_COUNT,
			r->lset, NULL, NULL, r->count);
	return ret;
}

static int
export_series(struct wl_exp_model *m, struct wl_exp_snap *s, struct inst *in,
	uint32_t n_series)
{
	struct wl_shm_metric defs[WL_SHM_MAX_METRICS];
	int fams[WL_SHM_MAX_METRICS];
	char fname[96];
	unsigned int i;
	size_t k;
	int nd, d, ret;

	nd = wl_shm_read_metrics(in->shm, defs, WL_SHM_MAX_METRICS);
	for (d = 0; d < nd; d++) {
		fams[d] = -1;
		if (defs[d].unit >= WL_EXP_UNITS)
			continue;
		snprintf(fname, sizeof(fname), "wirelat_%s", defs[d].export_name);
		/* A histogram has le buckets: vmrange alone is untyped, as
		 * VictoriaMetrics' own histograms say. */
		fams[d] = wl_exp_snap_family(s, fname, m->buckets &
			WL_EXP_BUCKETS_LE ? WL_EXP_HISTOGRAM : WL_EXP_UNTYPED,
			defs[d].help);
		if (fams[d] == -ENOMEM)
			return -ENOMEM;
		if (defs[d].method_label[0] != '\0' &&
				(!name_ok(defs[d].method_label, 0) ||
				strncmp(defs[d].method_label, "__", 2) == 0))
			fams[d] = -1;
	}
	m->n_recs = 0;
	m->n_le_pool = 0;
	m->n_vm_pool = 0;
	memset(m->rhash, 0xff, (m->rhash_mask + 1) * sizeof(*m->rhash));
	m->fold.defs = defs;
	m->fold.fams = fams;
	m->fold.nd = nd;
	for (i = 0; i < n_series; i++) {
		if (wl_shm_fold_series(in->shm, i, m->ser, fold_series,
				&m->fold) != 0)
			continue;
		/* A series of no declared family has no name: skipped. */
		d = m->fold.d;
		if (d == nd || fams[d] < 0)
			continue;
		ret = series_rec(m, s, in->name, &defs[d], fams[d], m->ser);
		if (ret != 0)
			return ret;
	}
	for (k = 0; k < m->n_recs; k++) {
		ret = rec_samples(m, s, &m->recs[k]);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* ---- one read of every instance ---- */

int
wl_exp_snap_add(struct wl_exp_snap *s, const char *name, enum wl_exp_type type,
	const char *help, const struct wl_exp_label *l, unsigned int n,
	double v, int is_u64)
{
	int fam = wl_exp_snap_family(s, name, type, help), ls;

	if (fam < 0)
		return fam;
	ls = wl_exp_snap_labels(s, l, n);
	if (ls < 0)
		return ls;
	return is_u64 ? wl_exp_snap_sample_u64(s, fam, WL_EXP_SFX_NONE, ls,
		NULL, NULL, (uint64_t)v) : wl_exp_snap_sample(s, fam,
		WL_EXP_SFX_NONE, ls, NULL, NULL, v);
}

static int
inst_gauge(struct wl_exp_snap *s, const char *fname, const char *help,
	const struct wl_exp_label *l, unsigned int nl, double v, int is_u64)
{
	return wl_exp_snap_add(s, fname, WL_EXP_GAUGE, help, l, nl, v, is_u64);
}

static int
read_instance(struct wl_exp_model *m, struct wl_exp_snap *s, struct inst *in,
	uint64_t now_ns, void (*log)(void *, const char *), void *arg)
{
	struct wl_exp_label l[2] = {{"instance_name", in->name}};
	struct wl_shm_hdr *h = NULL;
	enum wl_exp_state st;
	struct inputs is;
	char err[256];
	int ret, n, i;

	ret = inst_refresh(in, err, sizeof(err));
	if (ret == 0) {
		h = malloc(sizeof(*h));
		if (h == NULL)
			return -ENOMEM;
		if (wl_shm_read_hdr(in->shm, h) != 0) {
			snprintf(err, sizeof(err), "writer too busy for a "
				"consistent read");
			ret = -EAGAIN;
		}
	}
	if (ret != 0) {
		st = WL_EXP_STATE_GONE;
	} else if (h->finished) {
		st = WL_EXP_STATE_FINISHED;
	} else if (!wl_export_writer_alive(h->pid)) {
		st = WL_EXP_STATE_STOPPED;
	} else {
		st = now_ns > h->updated_ns && now_ns - h->updated_ns >
			m->stale_ns ? WL_EXP_STATE_STALE : WL_EXP_STATE_RUNNING;
	}
	if ((int)st != in->reported) {
		if (st == WL_EXP_STATE_GONE)
			logf_(log, arg, "instance \"%s\": not exported: %s",
				in->name, err);
		else
			logf_(log, arg, "instance \"%s\": %s (pid %d, wirelat "
				"%s)%s", in->name, wl_exp_state_name(st),
				(int)h->pid, h->wirelat_version,
				st == WL_EXP_STATE_RUNNING ? "" :
				": wirelat_up 0, last values still exported");
		in->reported = (int)st;
	}
	in->state = st;
	ret = inst_gauge(s, "wirelat_up", "1 while the instance's wirelat "
		"runs and publishes; 0 when it finished, stopped, went silent "
		"or has no segment (docs/export.md)", l, 1,
		st == WL_EXP_STATE_RUNNING, 1);
	if (ret != 0 || st == WL_EXP_STATE_GONE)
		goto out;
	l[1] = (struct wl_exp_label){"version", h->wirelat_version};
	ret = inst_gauge(s, "wirelat_info", "Always 1: the instance's wirelat "
		"version", l, 2, 1, 1);
	if (ret == 0)
		ret = inst_gauge(s, "wirelat_last_update_timestamp_seconds",
			"When the instance last published its counters "
			"(CLOCK_REALTIME)", l, 1, (double)h->updated_ns / 1e9, 0);
	if (ret == 0)
		ret = inst_gauge(s, "wirelat_start_timestamp_seconds",
			"When the instance's run created its segment", l, 1,
			(double)h->created_ns / 1e9, 0);
	if (ret == 0)
		ret = inst_gauge(s, "wirelat_traffic_first_timestamp_seconds",
			"Timestamp of the earliest packet seen", l, 1,
			(double)h->first_ns / 1e9, 0);
	if (ret == 0)
		ret = inst_gauge(s, "wirelat_traffic_last_timestamp_seconds",
			"Timestamp of the latest packet seen", l, 1,
			(double)h->last_ns / 1e9, 0);
	if (ret != 0)
		goto out;
	n = wl_shm_read_counters(in->shm, in->cnames, in->cvalues,
		in->max_counters);
	inputs_scan(&is, h);
	for (i = 0; i < n && ret == 0; i++)
		ret = export_counter(s, &is, in->name, in->cnames[i],
			in->cvalues[i]);
	if (ret == 0)
		ret = export_series(m, s, in, h->n_series);
out:
	free(h);
	return ret;
}

int
wl_exp_model_read(struct wl_exp_model *m, struct wl_exp_snap *s,
	uint64_t now_ns, void (*log)(void *arg, const char *line), void *arg)
{
	unsigned int i;
	int ret, n = 0;

	for (i = 0; i < m->n_inst; i++) {
		ret = read_instance(m, s, &m->inst[i], now_ns, log, arg);
		if (ret != 0)
			return ret;
		n += m->inst[i].state != WL_EXP_STATE_GONE;
	}
	return n;
}
