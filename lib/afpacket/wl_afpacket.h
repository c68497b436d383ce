/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_AFPACKET_H
#define WL_AFPACKET_H

/*
 * Live capture from a kernel interface through AF_PACKET TPACKET_V3
 * rings: one socket per RX queue, joined in one PACKET_FANOUT_HASH
 * group (the kernel's flow hash is symmetric, so both directions of a
 * connection reach the same queue). Every frame carries the kernel's own
 * nanosecond timestamp, or the NIC's when the driver offers hardware RX
 * timestamps (SO_TIMESTAMPING), and says which; the kernel's per-socket
 * counters (PACKET_STATISTICS: frames given, frames dropped because the
 * ring was full) are read and accumulated. docs/capture.md says why this
 * is not DPDK's net_af_packet.
 *
 * Threads: wl_afp_rx_burst() on queue q from one lcore at a time (each
 * queue its own); wl_afp_poll() and wl_afp_stats_get() from one control
 * thread (the collector). Nothing on the RX path makes a system call.
 */

#include <stddef.h>
#include <stdint.h>

#include "wl_pkt.h"
#include "wl_time.h"

struct rte_mbuf;
struct rte_mempool;
struct wl_afp;

#define WL_AFP_MAX_QUEUES 64
#define WL_AFP_ERR_LEN 512

struct wl_afp_conf {
	const char *ifname;
	unsigned int n_queues;  /* sockets in the fanout group, >= 1 */
	uint32_t ring_kb;       /* ring size of each socket */
	uint32_t block_kb;      /* TPACKET_V3 block; largest frame kept */
	uint32_t block_ms;      /* a part-filled block is handed over after */
	int hw_timestamp;       /* ask the NIC for RX timestamps */
	int promisc;            /* PACKET_MR_PROMISC: undone at close */
};

/* _(field, "name", "description") -- counters, all cumulative. */
#define foreach_wl_afp_counter \
	_(packets, "packets", "frames handed to wirelat") \
	_(bytes, "bytes", "captured bytes handed to wirelat") \
	_(kernel_packets, "kernel_packets", \
		"frames the kernel gave the sockets, dropped ones included") \
	_(kernel_drops, "kernel_drops", \
		"frames the kernel dropped: a socket's ring was full") \
	_(ts_hw, "ts_hw", "frames stamped by the NIC") \
	_(ts_kernel, "ts_kernel", "frames stamped by the kernel") \
	_(vlan_restored, "vlan_restored", \
		"frames whose VLAN tag the kernel had taken out, put back") \
	_(truncated, "truncated", \
		"frames larger than a ring block, cut (wire length kept)") \
	_(oversize, "oversize", \
		"frames cut short: the mbuf pool ran dry while chaining") \
	_(outgoing_skipped, "outgoing_skipped", \
		"loopback frames' outgoing copies skipped (kernels before 6.9)")

struct wl_afp_stats {
#define _(f, n, d) uint64_t f;
	foreach_wl_afp_counter
#undef _
};

extern const char *const wl_afp_counter_names[];

/* What the interface is doing, as seen by wl_afp_poll(). */
enum wl_afp_link {
	WL_AFP_LINK_UP,
	WL_AFP_LINK_DOWN,       /* administratively down or no carrier */
	WL_AFP_LINK_GONE,       /* deleted, or its name is another's now */
};

/**
 * Open the interface: n_queues sockets, rings mapped, bound, in one
 * fanout group; promiscuous if asked; hardware timestamps if asked and
 * offered. Frames are captured from here on.
 *
 * @return
 *   The handle, or NULL with err holding one line naming the problem
 *   ("eth9: no such interface", "eth0: link type 772 not supported")
 *   and errno set.
 */
struct wl_afp *wl_afp_open(const struct wl_afp_conf *c, char *err,
	size_t errlen);

/** Close the sockets (the kernel undoes promiscuous mode). NULL is ok. */
void wl_afp_close(struct wl_afp *a);

/**
 * Copy up to n frames of queue q into mbufs from mp. Each gets the
 * wl_mbuf_meta field (ts_ns, ts_source hw or kernel, link, wire_len when
 * cut) and hash.rss 0 (parsers hash in software). A VLAN tag the kernel
 * stripped is put back into the frame. Frames stay in the ring when the
 * pool is empty (the kernel counts its drops if it fills).
 *
 * @return number of mbufs stored in pkts.
 */
uint16_t wl_afp_rx_burst(struct wl_afp *a, unsigned int q,
	struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t n);

/**
 * Control thread, about once a second: accumulate the kernel's socket
 * counters (they reset on each read) and look at the interface.
 *
 * @return the link state now.
 */
enum wl_afp_link wl_afp_poll(struct wl_afp *a);

/** Counters summed over the queues (kernel ones as of the last poll). */
void wl_afp_stats_get(const struct wl_afp *a, struct wl_afp_stats *st);

/** Interface name. */
const char *wl_afp_name(const struct wl_afp *a);

/** Link type of the frames (ether, or raw IP for tun-like devices). */
enum wl_link wl_afp_link_type(const struct wl_afp *a);

/** WL_TS_HW when the NIC stamps RX frames, else WL_TS_KERNEL. */
enum wl_ts_source wl_afp_ts_source(const struct wl_afp *a);

/** Number of queues. */
unsigned int wl_afp_queues(const struct wl_afp *a);

#endif /* WL_AFPACKET_H */
