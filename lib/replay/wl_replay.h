/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_REPLAY_H
#define WL_REPLAY_H

/*
 * Per-packet helpers of wirelat-replay, on raw frame bytes (no mbufs, no
 * DPDK calls):
 *
 *   - flow direction: every packet is client->server (C2S) or
 *     server->client (S2C). The decision is taken once per flow, at the
 *     flow's first packet, and remembered in a bounded table, so a file
 *     can be streamed; C2S goes to the first port and S2C to the second.
 *   - per-loop client rewrite: on loop L the client address of a flow is
 *     L higher, so each loop looks like new connections to an analyzer;
 *     checksums are fixed incrementally.
 *
 * The rules are described exactly in docs/replay.md, "Flow split and
 * per-loop rewrite". Nothing here allocates, logs or makes a system call
 * after wl_dir_table_create(). A table is not thread-safe: one thread
 * uses it at a time. wl_rewrite_client() has no state and may be called
 * from any thread.
 */

#include <stdint.h>

#include "wl_pkt.h"

struct wl_dir_table;

enum wl_dir {
	WL_DIR_C2S = 0,         /* client to server (and non-flow packets) */
	WL_DIR_S2C = 1,         /* server to client */
};

/* _(ENUM, "name") -- how a flow's direction was decided. */
#define foreach_wl_dir_how \
	_(NONE, "none")         /* not a flow: ARP, ICMP, later fragment */ \
	_(SYN, "syn")           /* first packet SYN: its sender is client */ \
	_(SYNACK, "synack")     /* first packet SYN+ACK: sender is server */ \
	_(PORT, "port")         /* port rule (also when the table is full) */

enum wl_dir_how {
#define _(e, n) WL_DIR_HOW_ ## e,
	foreach_wl_dir_how
#undef _
	WL_DIR_HOW_MAX
};

/* What wl_dir_classify() found; wl_rewrite_client() reuses it. */
struct wl_dir_info {
	uint8_t dir;            /* enum wl_dir */
	uint8_t how;            /* enum wl_dir_how of the flow's decision */
	uint8_t is_flow;        /* TCP/UDP over IP with ports (a first
				 * fragment counts when its whole fixed L4
				 * header was captured) */
	uint8_t ip_version;     /* 4 or 6; 0 when not IP */
	uint8_t l4proto;        /* IPPROTO_TCP / IPPROTO_UDP when is_flow */
	uint16_t l3_off;        /* IP header offset in the frame (is_flow) */
	uint16_t l4_off;        /* TCP/UDP header offset (is_flow) */
};

/* Largest max_flows accepted by wl_dir_table_create(). */
#define WL_DIR_MAX_FLOWS (1u << 24)

/*
 * Longest probe sequence in the table. A new flow whose run of occupied
 * slots is longer is handled as if the table were full, so the cost per
 * packet is bounded even for a capture crafted to collide.
 */
#define WL_DIR_MAX_PROBE 64

/* _(field, "name", "description") -- counters, all cumulative. */
#define foreach_wl_dir_counter \
	_(flows, "flows", "flows decided and stored in the table") \
	_(by_syn, "by_syn", "flows decided by a first SYN") \
	_(by_synack, "by_synack", "flows decided by a first SYN+ACK") \
	_(by_port, "by_port", "flows decided by the port rule") \
	_(table_full, "table_full", \
		"packets of unstored flows: port rule, not remembered") \
	_(non_flow, "non_flow", \
		"packets that are not TCP/UDP with ports: sent C2S") \
	_(c2s_pkts, "c2s_pkts", "packets classified client to server") \
	_(s2c_pkts, "s2c_pkts", "packets classified server to client")

struct wl_dir_stats {
#define _(f, n, d) uint64_t f;
	foreach_wl_dir_counter
#undef _
};

/* Counter names in struct order, for exporters. */
extern const char *const wl_dir_counter_names[];

/** Name of a decision ("syn", ...); "unknown" when out of range. */
const char *wl_dir_how_name(enum wl_dir_how how);

/**
 * Create a direction table.
 *
 * @param max_flows
 *   Flows remembered at most: a power of two, 1 to WL_DIR_MAX_FLOWS. The
 *   table holds twice as many slots (48 bytes each) so probes stay short.
 * @return
 *   The table, or NULL with errno set: EINVAL (max_flows not a power of
 *   two or out of range), ENOMEM.
 */
struct wl_dir_table *wl_dir_table_create(uint32_t max_flows);

/** Free a table. Accepts NULL. */
void wl_dir_table_free(struct wl_dir_table *t);

/**
 * Forget every flow (e.g. before a new file); the counters are kept,
 * they are cumulative. Touches the whole table: not for the packet path.
 */
void wl_dir_table_reset(struct wl_dir_table *t);

/**
 * Classify one frame: decode it with wl_pkt_decode(), look its flow up,
 * decide and store the flow's direction if it is new, update counters.
 *
 * @param frame
 *   The frame, link header included; only read.
 * @param caplen
 *   Bytes at frame.
 * @param link
 *   Link type of the frame.
 * @param out
 *   Filled on success. Non-flow packets get is_flow 0, dir C2S, how NONE.
 * @return
 *   0, or -EINVAL when t, frame (with caplen > 0) or out is NULL.
 */
int wl_dir_classify(struct wl_dir_table *t, const uint8_t *frame,
	uint32_t caplen, enum wl_link link, struct wl_dir_info *out);

/** Copy the counters. */
void wl_dir_stats_get(const struct wl_dir_table *t, struct wl_dir_stats *st);

/**
 * Add loop to the client address of a flow packet in place: the source
 * address of a C2S packet, the destination of an S2C one. IPv4: the
 * address as a host-order 32-bit integer, wrapping; IPv6: its last 32
 * bits, wrapping within them. The IPv4 header checksum and the TCP/UDP
 * checksum (pseudo-header) are fixed incrementally (RFC 1624), so they
 * are as right or as wrong as before, also when the payload was cut by
 * the snap length or the packet is a first fragment. A UDP checksum of 0
 * ("none") stays 0. Ports, the server address and the length never
 * change. Non-flow packets and loop 0 are left untouched.
 *
 * @param frame
 *   The frame wl_dir_classify() saw (or a copy of it).
 * @param caplen
 *   Bytes at frame.
 * @param info
 *   What wl_dir_classify() returned for this frame.
 * @param loop
 *   Loop number, 0 for the first pass.
 * @return
 *   0, or -EINVAL (nothing written) when frame or info is NULL, info is
 *   inconsistent, or the addresses or checksum fields are not all inside
 *   caplen.
 */
int wl_rewrite_client(uint8_t *frame, uint32_t caplen,
	const struct wl_dir_info *info, uint32_t loop);

#endif /* WL_REPLAY_H */
