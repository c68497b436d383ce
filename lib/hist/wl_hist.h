/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_HIST_H
#define WL_HIST_H

/*
 * Log-linear latency histogram (ns), fixed memory, mergeable.
 *
 * Values below 2 * WL_HIST_SUB are counted exactly, one bucket per ns.
 * Above, each power of two ("octave") is cut into WL_HIST_SUB equal
 * buckets, so a bucket is at most 1/WL_HIST_SUB of its lower bound wide:
 * reporting the bucket middle is within 0.4% of any value in it, well
 * inside the 1% promised from 1 ns to 100 s. Values of 2^WL_HIST_OCTAVES
 * ns (~18 min) and more are counted as overflow and still set max.
 *
 * No DPDK, no allocation: it lives inside the shared-memory segment and
 * is read by wirelat-stat, which does not link DPDK.
 */

#include <stdint.h>

#define WL_HIST_SUB_BITS 7
#define WL_HIST_SUB (1u << WL_HIST_SUB_BITS)      /* 128 per octave */
#define WL_HIST_OCTAVES 40                          /* up to 2^40 ns */
#define WL_HIST_BUCKETS \
	((WL_HIST_OCTAVES - WL_HIST_SUB_BITS + 1) * WL_HIST_SUB)
#define WL_HIST_MAX_VALUE ((UINT64_C(1) << WL_HIST_OCTAVES) - 1)

struct wl_hist {
	uint64_t count;         /* every recorded value, overflow included */
	uint64_t overflow;      /* values above WL_HIST_MAX_VALUE */
	uint64_t min;           /* UINT64_MAX while empty */
	uint64_t max;
	double sum;             /* for the mean; a u64 would wrap */
	uint64_t b[WL_HIST_BUCKETS];
};

/* Bucket of a value <= WL_HIST_MAX_VALUE. */
static inline unsigned int
wl_hist_index(uint64_t v)
{
	unsigned int e, shift;

	if (v < 2 * WL_HIST_SUB)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);
	shift = e - WL_HIST_SUB_BITS;
	return shift * WL_HIST_SUB + (unsigned int)(v >> shift);
}

static inline void
wl_hist_record_n(struct wl_hist *h, uint64_t v, uint64_t n)
{
	h->count += n;
	h->sum += (double)v * (double)n;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	if (v > WL_HIST_MAX_VALUE)
		h->overflow += n;
	else
		h->b[wl_hist_index(v)] += n;
}

static inline void
wl_hist_record(struct wl_hist *h, uint64_t v)
{
	wl_hist_record_n(h, v, 1);
}

void wl_hist_init(struct wl_hist *h);

/** Add every count of src into dst. */
void wl_hist_merge(struct wl_hist *dst, const struct wl_hist *src);

/** Lowest and highest value that fall in bucket idx. */
uint64_t wl_hist_bucket_low(unsigned int idx);
uint64_t wl_hist_bucket_high(unsigned int idx);

/**
 * Value at quantile q in [0, 1]: the bucket holding rank ceil(q * count)
 * (rank 1 for q = 0), reported as the bucket middle clamped to
 * [min, max]; 0 when empty. q = 1 returns max exactly.
 */
uint64_t wl_hist_quantile(const struct wl_hist *h, double q);

/** Mean of recorded values, 0 when empty. */
double wl_hist_mean(const struct wl_hist *h);

#endif /* WL_HIST_H */
