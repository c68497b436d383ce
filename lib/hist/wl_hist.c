/* SPDX-License-Identifier: BSD-3-Clause */
#include <math.h>
#include <string.h>

#include "wl_hist.h"

void
wl_hist_init(struct wl_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void
wl_hist_merge(struct wl_hist *dst, const struct wl_hist *src)
{
	unsigned int i;

	if (src->count == 0)
		return;
	dst->count += src->count;
	dst->overflow += src->overflow;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	for (i = 0; i < WL_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

uint64_t
wl_hist_bucket_low(unsigned int idx)
{
	unsigned int shift;

	if (idx < 2 * WL_HIST_SUB)
		return idx;
	shift = idx / WL_HIST_SUB - 1;
	return (uint64_t)(idx - shift * WL_HIST_SUB) << shift;
}

uint64_t
wl_hist_bucket_high(unsigned int idx)
{
	unsigned int shift;

	if (idx < 2 * WL_HIST_SUB)
		return idx;
	shift = idx / WL_HIST_SUB - 1;
	return wl_hist_bucket_low(idx) + (UINT64_C(1) << shift) - 1;
}

uint64_t
wl_hist_quantile(const struct wl_hist *h, double q)
{
	uint64_t rank, seen = 0, v;
	unsigned int i;

	if (h->count == 0)
		return 0;
	if (!(q > 0))
		return h->min;
	if (q >= 1)
		return h->max;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank == 0)
		rank = 1;
	for (i = 0; i < WL_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			break;
	}
	if (i == WL_HIST_BUCKETS)
		return h->max;          /* the rank is among the overflow */
	v = wl_hist_bucket_low(i) +
		(wl_hist_bucket_high(i) - wl_hist_bucket_low(i)) / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

double
wl_hist_mean(const struct wl_hist *h)
{
	return h->count == 0 ? 0 : h->sum / (double)h->count;
}
