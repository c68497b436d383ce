/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The send schedule (wl_pace.h). Packet n of a rate mode goes out when
 * the packets before it are done at that rate, t(n) = n / pps or
 * bits(0..n-1) / bps -- paced by its predecessors' lengths, not by its
 * own or the next one's. Each time is computed whole from the start.
 */

#include <errno.h>

#include "wl_pace.h"

#define NS 1000000000ULL

uint64_t
wl_pace_muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	return (uint64_t)((unsigned __int128)a * b / c);
}

int
wl_pace_check(const struct wl_pace_conf *c, const char **why)
{
	switch (c->mode) {
	case WL_PACE_TOPSPEED:
		return 0;
	case WL_PACE_ORIGINAL:
		*why = "--multiplier must be more than 0";
		return c->multiplier_ppm > 0 ? 0 : -EINVAL;
	case WL_PACE_PPS:
		*why = "--pps must be more than 0";
		return c->pps > 0 ? 0 : -EINVAL;
	case WL_PACE_BPS_L2:
	case WL_PACE_BPS_L1:
		*why = "--mbps must be more than 0";
		return c->bps > 0 ? 0 : -EINVAL;
	case WL_PACE_BURST:
		*why = "a burst needs a size and an interval above 0";
		return c->burst > 0 && c->interval_ns > 0 ? 0 : -EINVAL;
	}
	*why = "unknown speed mode";
	return -EINVAL;
}

void
wl_pace_init(struct wl_pace *p, const struct wl_pace_conf *c,
	uint64_t loop_gap_ns)
{
	*p = (struct wl_pace){ .c = *c, .loop_gap_ns = loop_gap_ns };
}

static uint64_t
line_bits(const struct wl_pace *p, uint32_t wire_len)
{
	if (p->c.mode == WL_PACE_BPS_L1)
		return wl_pace_l1_bits(wire_len);
	return (uint64_t)wire_len * 8;
}

/* Capture timing: each loop starts one mean gap after the previous
 * loop's last packet, so a looped file keeps its rate. */
static uint64_t
original(struct wl_pace *p, uint64_t ts_ns, uint32_t loop)
{
	uint64_t rel;

	if (!p->started || loop != p->loop) {
		if (p->started)
			p->loop_base_ns = p->last_ns + wl_pace_muldiv(
				p->loop_gap_ns, 1000000, p->c.multiplier_ppm);
		p->first_ts_ns = ts_ns;
		p->loop = loop;
		p->started = 1;
	}
	/* Capture time going backwards (merged files): no waiting. */
	rel = ts_ns > p->first_ts_ns ? ts_ns - p->first_ts_ns : 0;
	p->last_ns = p->loop_base_ns + wl_pace_muldiv(rel, 1000000,
		p->c.multiplier_ppm);
	return p->last_ns;
}

uint64_t
wl_pace_next(struct wl_pace *p, uint32_t wire_len, uint64_t ts_ns,
	uint32_t loop)
{
	uint64_t t = 0;

	switch (p->c.mode) {
	case WL_PACE_TOPSPEED:
		break;
	case WL_PACE_ORIGINAL:
		t = original(p, ts_ns, loop);
		break;
	case WL_PACE_PPS:
		t = wl_pace_muldiv(p->n, NS, p->c.pps);
		break;
	case WL_PACE_BPS_L2:
	case WL_PACE_BPS_L1:
		t = wl_pace_muldiv(p->bits, NS, p->c.bps);
		p->bits += line_bits(p, wire_len);
		break;
	case WL_PACE_BURST:
		t = (p->n / p->c.burst) * p->c.interval_ns;
		break;
	}
	p->n++;
	return t;
}
