/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * TSC to wall-clock conversion. The anchor is taken as the midpoint of a
 * TSC read before and after clock_gettime(), which bounds the anchor error
 * by half the duration of one vDSO call.
 */

#include <time.h>

#include <rte_cycles.h>

#include "wl_time.h"

static const char *const ts_names[] = {
#define _(e, n, d) [WL_TS_ ## e] = n,
	foreach_wl_ts_source
#undef _
};

const char *
wl_ts_source_name(enum wl_ts_source s)
{
	if ((unsigned int)s >= WL_TS_MAX)
		return "unknown";
	return ts_names[s];
}

uint64_t
wl_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
wl_tsc_clock_init(struct wl_tsc_clock *c)
{
	uint64_t t1, t2, ns;

	t1 = rte_rdtsc();
	ns = wl_realtime_ns();
	t2 = rte_rdtsc();
	c->tsc0 = t1 + (t2 - t1) / 2;
	c->ns0 = ns;
	c->hz = rte_get_tsc_hz();
	if (c->hz == 0)
		c->hz = 1;
	/* mult/shift such that (x * mult) >> shift == x * 1e9 / hz for x < hz */
	c->shift = 32;
	c->mult = (1000000000ULL << c->shift) / c->hz;
}
