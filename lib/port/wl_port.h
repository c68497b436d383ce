/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_PORT_H
#define WL_PORT_H

/*
 * DPDK port set-up for a passive tap: RX queues only (one TX queue because
 * some PMDs insist), promiscuous, symmetric RSS where the device has it,
 * RX timestamps where it offers them, and the per-driver settings of
 * drivers-config/. Also the conversion of device timestamp ticks to
 * epoch ns by periodic calibration against rte_eth_read_clock().
 */

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>

#include "wl_time.h"

struct wl_driver_conf {
	char driver[64];
	uint32_t rss_key_len;       /* 0 = device's hash_key_size */
	uint8_t ts_source;          /* enum wl_ts_source the dynfield holds */
	uint32_t ts_unit_ns;        /* dynfield is epoch time in this unit */
	int ts_calibrate;
	int offline;
	uint32_t idle_exit_ms;
};

/*
 * Device clock -> epoch ns: ns = ns0 + (ticks - ticks0) * 1e9 / hz, with
 * (ticks0, ns0, hz) refreshed by wl_port_calibrate() on the control lcore.
 * A seqlock lets RX lcores read a consistent triple without locking.
 */
struct wl_port_clock {
	volatile uint32_t seq;
	uint64_t ticks0;
	uint64_t ns0;
	double ns_per_tick;
	uint64_t first_ticks;       /* calibration start */
	uint64_t first_ns;
	uint64_t calibrations;
};

struct wl_port {
	uint16_t port_id;
	uint16_t nb_rxq;
	char name[64];
	char driver[64];
	struct wl_driver_conf dconf;
	uint8_t ts_source;          /* enum wl_ts_source actually in use */
	uint8_t link;               /* enum wl_link (Ethernet for ports) */
	int hw_rss;                 /* NIC delivers a symmetric RSS hash */
	uint64_t rss_hf;
	int ts_dynfield;            /* RX timestamp dynfield offset or -1 */
	uint64_t ts_dynflag;
	struct wl_port_clock clock;
};

/**
 * Load the settings for a driver from dir/<driver>.json, falling back to
 * dir/default.json, then to built-in defaults.
 * @return 0, or -EINVAL with err naming the file and key.
 */
int wl_driver_conf_load(const char *dir, const char *driver,
	struct wl_driver_conf *dc, char *err, size_t errlen);

/**
 * Configure and start a port for capture.
 *
 * @param p        port_id set by the caller; the rest is filled.
 * @param nb_rxq   RX queues (RSS spreads over them; 1 without RSS).
 * @param nb_rxd   descriptors per RX queue.
 * @param mp       mbuf pool for every queue.
 * @param want_hw_ts  enable RX timestamp offload when offered.
 * @param force_sw_hash  ignore the NIC hash.
 * @param drivers_dir  drivers-config directory.
 * @return 0 or -errno with err set (one line naming the port).
 * Control path, main lcore.
 */
int wl_port_setup(struct wl_port *p, uint16_t nb_rxq, uint16_t nb_rxd,
	struct rte_mempool *mp, int want_hw_ts, int force_sw_hash,
	const char *drivers_dir, char *err, size_t errlen);

/** Refresh the device clock calibration (control lcore, periodic). */
void wl_port_calibrate(struct wl_port *p);

/**
 * Convert the RX timestamp dynfield of m to epoch ns; 0 when the mbuf
 * carries none (then the caller uses the TSC). RX lcore, per packet.
 */
static inline uint64_t
wl_port_rx_ts(const struct wl_port *p, struct rte_mbuf *m)
{
	const struct wl_port_clock *c = &p->clock;
	uint64_t ticks, ns;
	uint32_t s;

	if (p->ts_dynfield < 0 || (m->ol_flags & p->ts_dynflag) == 0)
		return 0;
	ticks = *RTE_MBUF_DYNFIELD(m, p->ts_dynfield, uint64_t *);
	if (p->dconf.ts_unit_ns != 0)
		return ticks * p->dconf.ts_unit_ns;
	do {
		s = c->seq;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		ns = c->ns0 + (int64_t)((double)(int64_t)(ticks - c->ticks0) *
			c->ns_per_tick);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((s & 1) || s != c->seq);
	return ns;
}

/* A port wirelat-replay sends on: one TX queue, no RX. */
struct wl_tx_port {
	uint16_t port_id;
	char name[64];
	char driver[64];
	uint32_t max_frame;         /* largest frame it takes (no FCS) */
	uint16_t nb_txd;
	int multi_seg;              /* chained mbufs accepted */
};

/**
 * Configure and start a port for sending: one TX queue of nb_txd
 * descriptors, no RX queue unless the driver needs one (then one, on mp,
 * never polled), MTU raised to carry max_frame bytes (frame without FCS)
 * and multi-segment TX enabled when need_multi_seg.
 * @return 0 or -errno with err set (one line naming the port and the
 * problem: frame too large for it, no multi-segment TX, ...).
 * Control path, main lcore.
 */
int wl_port_setup_tx(struct wl_tx_port *p, uint16_t nb_txd,
	uint32_t max_frame, int need_multi_seg, struct rte_mempool *mp,
	char *err, size_t errlen);

/** Stop and close a port (control path). */
void wl_port_close(struct wl_port *p);

#endif /* WL_PORT_H */
