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
	_(TSC, "tsc", "TSC read at RX, converted to ns") \
	_(KERNEL, "kernel", "kernel RX timestamp (AF_PACKET)")

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

/*
 * Packet time that one absurd timestamp cannot move. Timers run on the
 * latest packet time; a frame stamped a day ahead (a bad NIC clock, a
 * merged capture) would expire every flow at once. A timestamp more
 * than `bound` ns away from the clock is a jump: counted once per run
 * of such timestamps, and the clock stays, unless WL_CLOCK_CONFIRM
 * consecutive packets agree within `bound` on the new time (the capture
 * really resumed later): then the clock moves there. Backward jumps never
 * move it: the clock only goes forward.
 */
#define WL_CLOCK_CONFIRM 8

struct wl_pkt_clock {
	uint64_t now;           /* 0 until the first packet */
	uint64_t cand;          /* latest timestamp of the current jump run */
	uint32_t run;           /* its length */
	uint64_t jumps;         /* runs of jumping timestamps seen */
};

/** Feed a packet timestamp. @return the clock after it. */
static inline uint64_t
wl_pkt_clock_see(struct wl_pkt_clock *c, uint64_t ts, uint64_t bound)
{
	if (c->now == 0 || (ts <= c->now + bound && ts + bound >= c->now)) {
		if (ts > c->now)
			c->now = ts;
		c->run = 0;
		return c->now;
	}
	if (c->run == 0 || ts > c->cand + bound || ts + bound < c->cand) {
		if (c->run == 0)
			c->jumps++;
		c->run = 0;
	}
	c->cand = ts;
	if (++c->run >= WL_CLOCK_CONFIRM && ts > c->now) {
		c->now = ts;
		c->run = 0;
	}
	return c->now;
}

/** CLOCK_REALTIME in ns (control path only: it is a vDSO call). */
uint64_t wl_realtime_ns(void);

#endif /* WL_TIME_H */
