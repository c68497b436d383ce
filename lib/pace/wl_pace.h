/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_PACE_H
#define WL_PACE_H

/*
 * The send schedule of wirelat-replay: when each packet goes out, in ns
 * after the first one, computed from the start and never from the
 * previous packet, in integer arithmetic, so no error accumulates over
 * any number of packets or loops. A sender waits for each time on its
 * own clock (TSC) and measures how late it actually was.
 */

#include <stdint.h>

enum wl_pace_mode {
	WL_PACE_TOPSPEED = 0,   /* every packet at 0: as fast as the port takes */
	WL_PACE_ORIGINAL,       /* capture timing divided by a multiplier */
	WL_PACE_PPS,            /* packets per second */
	WL_PACE_BPS_L2,         /* frame bits per second */
	WL_PACE_BPS_L1,         /* line bits: + FCS, preamble, inter-frame gap */
	WL_PACE_BURST,          /* burst packets every interval_ns */
};

/* Line bytes around an Ethernet frame as captured (no FCS): FCS 4,
 * preamble and start delimiter 8, inter-frame gap 12. */
#define WL_PACE_L1_EXTRA 24
/* Shortest frame on the line without FCS: shorter ones are padded. */
#define WL_PACE_MIN_FRAME 60

/** Line bits of a frame of wire_len bytes (no FCS): padded, + 24 bytes. */
static inline uint64_t
wl_pace_l1_bits(uint32_t wire_len)
{
	return ((uint64_t)(wire_len < WL_PACE_MIN_FRAME ? WL_PACE_MIN_FRAME :
		wire_len) + WL_PACE_L1_EXTRA) * 8;
}

struct wl_pace_conf {
	enum wl_pace_mode mode;
	uint64_t multiplier_ppm;        /* ORIGINAL: 1000000 = real time */
	uint64_t pps;                   /* PPS */
	uint64_t bps;                   /* BPS_L2, BPS_L1 */
	uint32_t burst;                 /* BURST */
	uint64_t interval_ns;           /* BURST */
};

struct wl_pace {
	struct wl_pace_conf c;
	uint64_t n;             /* packets scheduled */
	uint64_t bits;          /* bits of those packets (BPS modes) */
	/* ORIGINAL */
	uint64_t loop_base_ns;  /* schedule time where this loop starts */
	uint64_t first_ts_ns;   /* capture time of the loop's first packet */
	uint64_t last_ns;       /* schedule time of the latest packet */
	uint64_t loop_gap_ns;   /* between one loop's last packet and the next */
	uint32_t loop;          /* loop of the latest packet */
	uint8_t started;
};

/**
 * Check a configuration. @return 0, or -EINVAL with *why set to a short
 * reason ("--pps must be more than 0").
 */
int wl_pace_check(const struct wl_pace_conf *c, const char **why);

/**
 * Start a schedule. loop_gap_ns (ORIGINAL only): the pause after each
 * loop's last packet before the next loop's first, so that looping does
 * not change the rate; callers pass the file's mean gap, span / (n - 1).
 */
void wl_pace_init(struct wl_pace *p, const struct wl_pace_conf *c,
	uint64_t loop_gap_ns);

/**
 * Send time, in ns after the first packet, of the next packet: its
 * length on the wire (link header included, no FCS), its capture time
 * and which loop over the input it belongs to (0, 1, ...).
 */
uint64_t wl_pace_next(struct wl_pace *p, uint32_t wire_len, uint64_t ts_ns,
	uint32_t loop);

/** a * b / c without overflow for a * b up to 2^128, rounded down. */
uint64_t wl_pace_muldiv(uint64_t a, uint64_t b, uint64_t c);

#endif /* WL_PACE_H */
