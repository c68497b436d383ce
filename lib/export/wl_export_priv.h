/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_EXPORT_PRIV_H
#define WL_EXPORT_PRIV_H

/*
 * The snapshot's body, shared by the model and its renderings (not by
 * their users: they go through wl_export_model.h).
 */

#include "wl_export_model.h"

struct wl_exp_family {
	const char *name;               /* in the arena */
	const char *help;
	enum wl_exp_type type;
	uint32_t n_samples;
	uint32_t first;                 /* into order[], after finish */
};

struct wl_exp_lset {
	uint32_t first;                 /* into labels[] */
	uint32_t n;
};

struct wl_exp_sample {
	uint32_t family;
	int32_t lset;                   /* -1: none */
	uint8_t sfx;                    /* enum wl_exp_sfx */
	uint8_t is_u64;
	const char *xname;              /* one more label, or NULL */
	const char *xvalue;
	union {
		double d;
		uint64_t u;
	} v;
};

struct wl_exp_chunk;

struct wl_exp_snap {
	int64_t ts_ms;
	struct wl_exp_family *fam;
	uint32_t n_fam, cap_fam;
	int32_t *fam_hash;              /* open addressing, -1 empty */
	uint32_t fam_hash_mask;
	struct wl_exp_sample *smp;
	size_t n_smp, cap_smp;
	struct wl_exp_label *labels;
	size_t n_labels, cap_labels;
	struct wl_exp_lset *lsets;
	size_t n_lsets, cap_lsets;
	uint32_t *order;                /* sample indices grouped by family */
	size_t cap_order;
	int ordered;
	struct wl_exp_chunk *arena_head; /* strings, never moved */
	struct wl_exp_chunk *arena;     /* the chunk being filled */
};

/**
 * Make *p hold at least need elements of elem bytes (doubling, from 64).
 * 0 or -ENOMEM (*p left as it was).
 */
int wl_exp_grow(void **p, size_t *cap, size_t need, size_t elem);

/** Group the samples by family (stable), for the renderings. */
int wl_exp_snap_finish(struct wl_exp_snap *s);

/** Name of a family's sample with a suffix, into buf; its length. */
size_t wl_exp_sample_name(const struct wl_exp_snap *s,
	const struct wl_exp_sample *x, char *buf, size_t size);

extern const char *const wl_exp_type_names[WL_EXP_TYPE_MAX];
extern const char *const wl_exp_sfx_names[WL_EXP_SFX_MAX];

#endif /* WL_EXPORT_PRIV_H */
