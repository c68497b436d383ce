/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_EXPORT_MODEL_H
#define WL_EXPORT_MODEL_H

/*
 * The export model: one snapshot of every watched wirelat instance as
 * families of samples (name, type, help; each sample a sorted label set,
 * at most one extra bucket label, a value). Both renderings read it: the
 * Prometheus text (wl_export_prom.h) and remote write (wl_export_rw.h),
 * so a name, a label or a bucket cannot differ between them.
 *
 * Names come from the shared memory (each series family's export name,
 * unit, method label and help: struct wl_shm_metric) and from the flat
 * counter names; docs/export.md and docs/metrics.md ("Prometheus and
 * remote write") list the result.
 *
 * No DPDK: wirelat-export links this. Nothing here is thread-safe: one
 * thread builds a snapshot, then any number may render it read-only.
 */

#include <stdint.h>
#include <stddef.h>

#include "wl_shm.h"

/* Prometheus metric types (the text format's TYPE words). */
#define foreach_wl_exp_type \
	_(COUNTER, "counter") \
	_(GAUGE, "gauge") \
	_(HISTOGRAM, "histogram") \
	_(UNTYPED, "untyped")

enum wl_exp_type {
#define _(e, n) WL_EXP_ ## e,
	foreach_wl_exp_type
#undef _
	WL_EXP_TYPE_MAX
};

/* What follows a family's name in a sample's name. */
#define foreach_wl_exp_sfx \
	_(NONE, "") \
	_(BUCKET, "_bucket") \
	_(SUM, "_sum") \
	_(COUNT, "_count")

enum wl_exp_sfx {
#define _(e, n) WL_EXP_SFX_ ## e,
	foreach_wl_exp_sfx
#undef _
	WL_EXP_SFX_MAX
};

/* --buckets: which bucket labels a histogram gets. */
#define WL_EXP_BUCKETS_LE 1u            /* cumulative le, +Inf */
#define WL_EXP_BUCKETS_VMRANGE 2u       /* VictoriaMetrics vmrange */

/* The units a series family declares (enum wl_metric_unit). */
#define WL_EXP_UNITS 3
#define WL_EXP_MAX_LE 64

/* VictoriaMetrics' histogram: 18 log-spaced buckets per decade from
 * 1e-9 to 1e18, plus one below and one above. */
#define WL_EXP_VM_PER_DECADE 18
#define WL_EXP_VM_E10_MIN (-9)
#define WL_EXP_VM_E10_MAX 18
#define WL_EXP_VM_BUCKETS \
	((WL_EXP_VM_E10_MAX - WL_EXP_VM_E10_MIN) * WL_EXP_VM_PER_DECADE + 2)

struct wl_exp_label {
	const char *name;
	const char *value;
};

struct wl_exp_snap;
struct wl_exp_model;

/* ---- snapshot: families of samples ---- */

/** An empty snapshot. NULL when out of memory. */
struct wl_exp_snap *wl_exp_snap_create(void);

/** Empty it again, keeping its memory for the next one. */
void wl_exp_snap_reset(struct wl_exp_snap *s);

void wl_exp_snap_free(struct wl_exp_snap *s);

/** Time of the snapshot (ms since the epoch), used by remote write. */
void wl_exp_snap_set_time(struct wl_exp_snap *s, int64_t ms);
int64_t wl_exp_snap_time(const struct wl_exp_snap *s);

/**
 * The family named name, added with type and help when new (both are
 * copied; an existing family keeps its first type and help).
 * @return its index, -EINVAL for a name Prometheus refuses, -ENOMEM.
 */
int wl_exp_snap_family(struct wl_exp_snap *s, const char *name,
	enum wl_exp_type type, const char *help);

/**
 * A label set for samples: copied, sorted by name, values made valid
 * UTF-8 (an invalid byte becomes '?').
 * @return its id, -EINVAL for a bad label name, -ENOMEM.
 */
int wl_exp_snap_labels(struct wl_exp_snap *s, const struct wl_exp_label *l,
	unsigned int n);

/**
 * One sample of family fam with the label set lset (an id from
 * wl_exp_snap_labels, or -1: none) and, when xname is not NULL, one more
 * label; xname and xvalue are not copied and must outlive the snapshot
 * (the bucket bound tables do). An integer value is kept exact (a u64
 * counter is printed as it is, not through a double).
 * @return 0, -EINVAL (bad family or set), -ENOMEM.
 */
int wl_exp_snap_sample(struct wl_exp_snap *s, int fam, enum wl_exp_sfx sfx,
	int lset, const char *xname, const char *xvalue, double value);
int wl_exp_snap_sample_u64(struct wl_exp_snap *s, int fam,
	enum wl_exp_sfx sfx, int lset, const char *xname, const char *xvalue,
	uint64_t value);

/**
 * One plain sample (no suffix) of the family name, added with type and
 * help when new, with the labels l: wl_exp_snap_family, _labels and
 * _sample(_u64) in one call. @return 0 or their error.
 */
int wl_exp_snap_add(struct wl_exp_snap *s, const char *name,
	enum wl_exp_type type, const char *help, const struct wl_exp_label *l,
	unsigned int n, double v, int is_u64);

/** Samples in the snapshot. */
size_t wl_exp_snap_samples(const struct wl_exp_snap *s);

/* ---- the model: watched instances and bucket tables ---- */

struct wl_exp_opts {
	unsigned int buckets;           /* WL_EXP_BUCKETS_* bits, not 0 */
	/* le bounds per unit, in the exported unit (seconds, bytes, count),
	 * ascending; +Inf is implied. The defaults are the configuration's
	 * (export.le_seconds, ...: lib/config). */
	const double *le[WL_EXP_UNITS];
	unsigned int n_le[WL_EXP_UNITS];
	/* A running writer silent this long is stale: wirelat_up 0. */
	uint64_t stale_ns;
};

/* What an instance is, as said by wirelat_up and docs/export.md. */
#define foreach_wl_exp_state \
	_(GONE, "gone")         /* no segment */ \
	_(RUNNING, "running")   /* writer alive, published recently */ \
	_(STALE, "stale")       /* writer alive, silent past stale_ns */ \
	_(STOPPED, "stopped")   /* writer died without finishing */ \
	_(FINISHED, "finished") /* writer exited normally */

enum wl_exp_state {
#define _(e, n) WL_EXP_STATE_ ## e,
	foreach_wl_exp_state
#undef _
	WL_EXP_STATE_MAX
};

const char *wl_exp_state_name(enum wl_exp_state st);

/**
 * A model watching instances (names are copied). Nothing is attached
 * yet: each snapshot (re)attaches what it finds.
 * @return the model, or NULL with errno (EINVAL: bad name, le list not
 * ascending or longer than WL_EXP_MAX_LE; ENOMEM).
 */
struct wl_exp_model *wl_exp_model_create(const struct wl_exp_opts *o,
	const char *const *instances, unsigned int n);

void wl_exp_model_free(struct wl_exp_model *m);

/**
 * Read every instance into s (appending to what s holds): wirelat_up,
 * wirelat_info, the traffic span, every counter and every histogram
 * series. An instance whose segment was replaced (a new run: another
 * inode, created_ns or pid) is attached again. A change of an instance's
 * availability is reported once through log (may be NULL) as one line.
 * @return instances attached (0 .. n), or -ENOMEM.
 */
int wl_exp_model_read(struct wl_exp_model *m, struct wl_exp_snap *s,
	uint64_t now_ns, void (*log)(void *arg, const char *line), void *arg);

/** State of instance i after the last read. */
enum wl_exp_state wl_exp_model_state(const struct wl_exp_model *m,
	unsigned int i);

/* ---- bucket conversion (exposed for the unit tests) ---- */

/**
 * The le bucket a hist bucket counts in: the first bound >= its upper
 * edge (in the exported unit), or n_le (+Inf only).
 */
unsigned int wl_exp_le_index(const struct wl_exp_model *m, unsigned int unit,
	unsigned int hist_idx);

/** The vmrange bucket of a value in the exported unit: 0 is
 * "0...1.000e-09", WL_EXP_VM_BUCKETS - 1 "1.000e+18...+Inf". */
unsigned int wl_exp_vm_index(double v);

/** The vmrange label of bucket i ("1.000e-03...1.136e-03"). */
const char *wl_exp_vm_range(unsigned int i);

/** The le label of bound k of unit (k == n_le: "+Inf"). */
const char *wl_exp_le_label(const struct wl_exp_model *m, unsigned int unit,
	unsigned int k);

#endif /* WL_EXPORT_MODEL_H */
