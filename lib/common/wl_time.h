/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_TIME_H
#define WL_TIME_H

/*
 * Clocks. Every packet carries a timestamp in ns since the Unix epoch and
 * the port it came from says which source produced it (enum wl_ts_source).
 *
 * The TSC clock maps rte_rdtsc() to epoch ns with one (tsc, realtime)
 * anchor taken at start-up and the EAL's measured TSC frequency. It is
 * monotonic and cheap (one multiply-shift) and is the fallback source.
 */

#include <stdint.h>

/* _(ENUM, "name", "description") */
#define foreach_wl_ts_source \
	_(NONE, "none", "no timestamp") \
	_(HW, "hw", "NIC hardware RX timestamp") \
	_(PCAP, "pcap", "capture file timestamp") \
	_(TSC, "tsc", "TSC read at RX, converted to ns")

enum wl_ts_source {
#define _(e, n, d) WL_TS_ ## e,
	foreach_wl_ts_source
#undef _
	WL_TS_MAX
};

/** Name of a timestamp source ("hw", "pcap", "tsc"). */
const char *wl_ts_source_name(enum wl_ts_source s);

struct wl_tsc_clock {
	uint64_t tsc0;     /* TSC at the anchor */
	uint64_t ns0;      /* CLOCK_REALTIME ns at the anchor */
	uint64_t hz;
	uint64_t mult;     /* ns = (dtsc * mult) >> shift */
	unsigned int shift;
};

/**
 * Anchor the TSC clock now. Needs rte_get_tsc_hz(), i.e. after EAL init.
 * Not thread-safe; call once on the main lcore, then share read-only.
 */
void wl_tsc_clock_init(struct wl_tsc_clock *c);

/** Convert a TSC value (taken after the anchor) to epoch ns. */
static inline uint64_t
wl_tsc_to_ns(const struct wl_tsc_clock *c, uint64_t tsc)
{
	uint64_t d = tsc - c->tsc0;

	/* Split to keep the product in 64 bits for very long runs. */
	return c->ns0 + (d / c->hz) * 1000000000ULL +
		(((d % c->hz) * c->mult) >> c->shift);
}

/** CLOCK_REALTIME in ns (control path only: it is a vDSO call). */
uint64_t wl_realtime_ns(void);

#endif /* WL_TIME_H */
