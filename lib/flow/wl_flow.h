/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_FLOW_H
#define WL_FLOW_H

/*
 * Per-lcore flow table and TCP tracking.
 *
 * One table per parser lcore, never shared: no locks. Bounded by
 * conf->max_flows; when full a flow is evicted (counted): the least
 * recently active one, but while flows not proven (handshake not
 * completed, packets one way only) and closed ones fill more than
 * conf->unproven_pct of the table, the least recently active of those
 * (a SYN flood evicts its own). Time comes only from packet timestamps
 * and from the caller's wl_flow_advance(now), so offline runs are
 * deterministic.
 *
 * For TCP it assigns client/server roles (from the handshake; mid-stream
 * from the configured server ports, then the lower port), tracks
 * sequence numbers per direction, suppresses retransmissions and
 * duplicates, trims overlaps, holds out-of-order segments in a bounded
 * per-lcore buffer and delivers in-order bytes to the flow's L7 protocol,
 * with an explicit gap event when bytes are lost. It emits the TCP
 * handshake transaction (proto "tcp", see lib/proto/tcp/wl_tcp.h).
 *
 * L7 detection: a port pinned by configuration decides; otherwise every
 * protocol's probe runs over the first bytes of each direction (protocols
 * whose default ports match are tried first).
 */

#include <stdint.h>

#include "wl_pkt.h"
#include "wl_probe.h"
#include "wl_proto.h"
#include "wl_txn.h"

/* _(ENUM, "flow_name") -- per-lcore flow counters, exported as flow_<name>. */
#define foreach_wl_flow_ctr \
	_(CREATED, "flow_created") \
	_(ACTIVE, "flow_active")               /* gauge */ \
	_(EXPIRED, "flow_expired")             /* idle timeout */ \
	_(EVICTED, "flow_evicted")             /* table full: the three below */ \
	_(EVICTED_UNPROVEN, "flow_evicted_unproven") /* half-open or one way */ \
	_(EVICTED_CLOSED, "flow_evicted_closed")     /* lingering after close */ \
	_(EVICTED_ESTABLISHED, "flow_evicted_established") /* both ways, open */ \
	_(CLOSED, "flow_closed")               /* FIN both ways or RST */ \
	_(TCP, "flow_tcp") \
	_(UDP, "flow_udp") \
	_(MIDSTREAM, "flow_midstream")         /* picked up without a handshake */ \
	_(HANDSHAKES, "flow_handshakes")       /* handshake transactions */ \
	_(SYN_UNANSWERED, "flow_syn_unanswered") \
	_(REFUSED, "flow_refused")             /* RST answering a SYN */ \
	_(RETRANS_SEGS, "flow_retrans_segs")   /* wholly old data */ \
	_(RETRANS_BYTES, "flow_retrans_bytes") \
	_(OVERLAP_SEGS, "flow_overlap_segs")   /* partly old data, trimmed */ \
	_(OOO_SEGS, "flow_ooo_segs")           /* arrived ahead of a hole */ \
	_(OOO_DROPPED, "flow_ooo_dropped")     /* no room in the OOO buffer */ \
	_(GAPS, "flow_gaps")                   /* gap events delivered */ \
	_(GAP_BYTES, "flow_gap_bytes") \
	_(BAD_SEQ, "flow_bad_seq")             /* outside any sane window */ \
	_(L7_DETECTED, "flow_l7_detected") \
	_(L7_UNKNOWN, "flow_l7_unknown")       /* probes gave up */ \
	_(L7_STATE_FULL, "flow_l7_state_full") /* protocol state pool empty */ \
	_(TXNS, "flow_txns")                   /* all transactions emitted */ \
	_(STRAY, "flow_stray")                 /* RST of no known flow */ \
	_(PORT_REUSE, "flow_port_reuse")       /* new SYN on a finished flow */ \
	_(DUPLICATE, "pkt_duplicate")     /* capture copy of a frame: dropped */ \
	_(CAUSAL_HELD, "flow_causal_held") /* bytes held for the other way */ \
	_(CAUSAL_FORCED, "flow_causal_forced") /* no room: released out of order */ \
	_(REORDER_EXPIRED, "flow_reorder_expired") /* windows run out: lost */ \
	_(CLOCK_MIXED, "flow_clock_mixed") /* two timestamp sources: untimed */ \
	_(ACTIVE_PEAK, "flow_active_peak")     /* gauge: most flows at once */ \
	_(MEM_BYTES, "flow_mem_bytes")         /* gauge: the table's memory */ \
	_(HASH_FULL, "flow_hash_full")   /* no bucket room: not created */ \
	_(HANDSHAKE_FULL, "flow_handshake_full") /* half-open evicted */ \
	_(HANDSHAKE_PEAK, "flow_handshake_peak") /* gauge: parts at once */ \
	_(EXTRA_FULL, "flow_extra_full")       /* flows with partial counts */ \
	_(EXTRA_PEAK, "flow_extra_peak")       /* gauge */ \
	_(V6_FULL, "flow_ipv6_full")     /* no IPv6 part: not created */ \
	_(V6_PEAK, "flow_ipv6_peak")     /* gauge */ \
	_(EVENTS_FULL, "flow_events_full")     /* analytics partial */ \
	_(EVENTS_PEAK, "flow_events_peak")     /* gauge */ \
	_(PROBING_FULL, "flow_probing_full")   /* detection stopped */ \
	_(PROBING_PEAK, "flow_probing_peak")   /* gauge */ \
	_(STASH_FULL, "flow_stash_full")       /* MAYBE bytes not kept */ \
	_(STASH_PEAK, "flow_stash_peak")       /* gauge */ \
	_(REORDER_FULL, "flow_reorder_full")   /* no reorder window */ \
	_(REORDER_PEAK, "flow_reorder_peak")   /* gauge */ \
	_(DEDUP_OVERFLOW, "pkt_dedup_overflow") /* frames forgotten too soon */

enum wl_flow_ctr {
#define _(e, n) WL_FLOW_CTR_ ## e,
	foreach_wl_flow_ctr
#undef _
	WL_FLOW_CTR_MAX
};

struct wl_flow_stats {
	uint64_t c[WL_FLOW_CTR_MAX];
};

struct wl_flow_conf {
	uint32_t max_flows;             /* per lcore, > 0 */
	uint32_t tcp_idle_ms;           /* established, no packets */
	uint32_t tcp_closed_ms;         /* linger after FIN both ways/RST */
	uint32_t tcp_syn_ms;            /* handshake not completed */
	uint32_t udp_idle_ms;
	uint32_t ooo_max_segs;          /* held per direction */
	uint32_t ooo_pool_segs;         /* held per lcore, all flows */
	uint32_t ooo_seg_bytes;         /* bytes per held segment (MSS) */
	uint32_t l7_state_max;          /* protocol states per lcore */
	/* a protocol's own (by id), 0: l7_state_max */
	uint32_t l7_state_proto[32];
	uint32_t probe_max_bytes;       /* give up detection after this */
	/* 65536 bits: ports treated as servers for mid-stream pickup. */
	const uint64_t *server_ports;
	/* 65536 entries: protocol pinned to a port, WL_PROTO_NONE if none. */
	const uint8_t *port_proto;
	uint32_t proto_disabled;        /* bit per protocol id */
	/* Per protocol id: a request unanswered this long has no answer
	 * (protocols that pair by id: DNS); 0 = wait for the flow's end. */
	uint32_t rsp_timeout_ms[32];
	/*
	 * Protocol table indexed by protocol id; NULL means wl_protos with
	 * WL_PROTO_MAX entries. Tests pass their own recording protocols.
	 */
	const struct wl_proto_ops *const *protos;
	uint32_t n_protos;
	/*
	 * Detection signatures of protos compiled at start-up
	 * (wl_probe_db_create, shared by every table; each table adds its
	 * scratch to it when created): only the probes of candidates run.
	 * NULL: every probe runs (the same answers).
	 */
	struct wl_probe_db *probe_db;
	/* Emit a WL_TXN_KIND_CONN record when a flow ends: 0 never, 1 for
	 * TCP connections (the per-server aggregates), 2 for every flow
	 * (the connection log). */
	uint8_t conn_records;
	/* Per-connection analytics (struct wl_conn_dir); off only to
	 * measure their cost (scripts/bench). */
	uint8_t conn_analytics;
	uint32_t stall_ms;              /* burst gaps counted as stalls */
	/* Capture duplicates: a frame identical to one of the flow's
	 * latest (IP ID, L4 header, length) within this many us is a copy
	 * the tap made, dropped before anything counts it; 0 = keep all. */
	uint32_t dedup_window_us;
	/* Reorder window: bytes an ACK showed, and bytes that wait for
	 * them, wait this many packets of the flow or ms of packet time,
	 * whichever comes first; then the missing ones are lost. Either 0:
	 * lost at once. */
	uint32_t reorder_pkts;
	uint32_t reorder_ms;
	/* Requests waiting for answers, all flows of the lcore (records of
	 * wl_match.h, about 600 bytes each); 0: 4096. */
	uint32_t pending_max;
	/*
	 * Per-lcore pools of the parts a flow takes only while it needs
	 * them (docs/flow.md, "Memory"); 0 picks the default. Handshake
	 * timing (default max_flows; empty: the oldest half-open flow is
	 * evicted), rare counts: retransmissions, gaps, out-of-order,
	 * SYN retransmissions, counters past 4 GiB, RTTs of 4.29 s and
	 * more (default max_flows; empty: the flow's counts are partial,
	 * flagged), the addresses of IPv6 flows (default max_flows; empty:
	 * the flow is not created, counted), analytics events: stalls,
	 * bursts, zero windows, duplicate ACKs, SACK, IP ID gaps (default
	 * max_flows; empty: partial, flagged),
	 * detection of flows whose first bytes did not settle it (default
	 * max_flows; empty: detection stops, counted), bytes kept while
	 * probes say MAYBE (default max_flows / 8; empty: taken as NO,
	 * counted) and reorder state: held or queued segments, reorder
	 * windows (default max_flows / 8; empty: as with no window,
	 * counted).
	 */
	uint32_t handshake_max;
	uint32_t extra_max;
	uint32_t ipv6_max;
	uint32_t events_max;
	uint32_t probing_max;
	uint32_t stash_max;
	uint32_t reorder_max;
	/* Frames the duplicate check remembers, all flows; 0: 65536. */
	uint32_t dedup_entries;
	/* Percent of max_flows that flows not proven (a handshake not
	 * completed, packets one way only) and closed ones may fill before
	 * a full table evicts only them; up to that, the least recently
	 * active flow of any kind. 0: only them whenever there is one. */
	uint32_t unproven_pct;
};

/* _(ENUM, "name") -- why a flow ended (struct wl_conn end). */
#define foreach_wl_conn_end \
	_(CLOSED, "closed")             /* FIN both ways */ \
	_(RESET, "reset") \
	_(TIMEOUT, "timeout") \
	_(EVICTED, "evicted") \
	_(END_OF_CAPTURE, "end_of_capture") \
	_(PORT_REUSE, "port_reuse")

enum wl_conn_end {
#define _(e, n) WL_CONN_END_ ## e,
	foreach_wl_conn_end
#undef _
	WL_CONN_END_MAX
};

/* _(ENUM, "name") -- connection flags (struct wl_conn flags). */
#define foreach_wl_conn_flag \
	_(MIDSTREAM, "midstream")       /* handshake not seen */ \
	_(GAP, "gap")                   /* capture lost bytes */ \
	_(REFUSED, "refused")           /* RST answered the SYN */ \
	_(UNANSWERED, "unanswered")     /* SYN never answered */ \
	_(OOO, "ooo")                   /* out-of-order segments seen */ \
	_(RETRANS, "retrans")           /* retransmissions seen */ \
	_(PARTIAL, "partial")           /* a pool was empty: counts partial */

enum wl_conn_flag_bit {
#define _(e, n) WL_CONN_F_BIT_ ## e,
	foreach_wl_conn_flag
#undef _
	WL_CONN_F_BIT_MAX
};

/* One direction of a connection (struct wl_conn d[], 0 = client to server). */
struct wl_conn_dir {
	uint64_t pkts;
	uint64_t bytes;         /* frame bytes on the wire, link header incl. */
	uint64_t payload;       /* L4 payload bytes */
	uint64_t delivered;     /* in-order stream bytes (TCP), each once */
	uint64_t gap_bytes;     /* bytes the tap never saw */
	uint64_t retrans_bytes;
	uint64_t zero_win_ns;   /* time this side advertised a zero window */
	uint64_t stall_max_ns;  /* longest gap between data packets of a burst */
	uint32_t retrans;       /* retransmitted segments (whole or overlapping) */
	uint32_t ooo;           /* segments that arrived ahead of a hole */
	uint32_t dup_acks;
	uint32_t sack_blocks;
	uint32_t zero_win;      /* times this side's window closed */
	uint32_t ipid_gaps;     /* jumps in this side's sequential IP IDs */
	uint32_t ipid_missing;  /* IDs those jumps skipped */
	uint32_t stalls;        /* burst gaps of flow.stall_ms or more */
};

/* Log2 buckets of server-to-client gaps inside bursts: [2^i, 2^(i+1)) us. */
#define WL_CONN_IPG_BUCKETS 24

/* Which side did something first (struct wl_conn fin_side, rst_side). */
enum wl_conn_side {
	WL_CONN_SIDE_NONE = 0,
	WL_CONN_SIDE_CLIENT,
	WL_CONN_SIDE_SERVER,
};

/*
 * Summary of an ended flow, in the area of a WL_TXN_KIND_CONN record
 * (req_start_ns = first SYN or packet, rsp_end_ns = last packet).
 * A burst is a run of data packets one way with none the other way: the
 * gaps inside it are the sender's stalls, not think time.
 */
struct wl_conn {
	struct wl_conn_dir d[2];
	uint64_t server_rtt_ns; /* SYN -> SYN/ACK, 0 when not seen */
	uint64_t client_rtt_ns; /* SYN/ACK -> ACK, 0 when not seen */
	uint64_t ipg_min_ns;    /* server-to-client burst gaps */
	uint32_t ipg_count;
	uint16_t ipg_hist[WL_CONN_IPG_BUCKETS];
	uint32_t syn_retrans;
	uint32_t synack_retrans;
	uint32_t flags;         /* 1 << WL_CONN_F_BIT_* */
	uint8_t end;            /* enum wl_conn_end */
	uint8_t l4proto;
	uint8_t l7proto;        /* enum wl_proto_id or WL_PROTO_NONE */
	uint8_t fin_side;       /* enum wl_conn_side of the first FIN */
	uint8_t rst_side;       /* enum wl_conn_side of the first RST */
	uint8_t rsvd[7];
	/* The parser's packet clock when the flow left the table (its
	 * timeout, eviction or the end of input): records of ended flows
	 * carry it, so their reader knows how far their producer got. */
	uint64_t left_ns;
};

_Static_assert(sizeof(struct wl_conn) <= WL_TXN_VAR,
	"wl_conn must fit a transaction record's area");

struct wl_flow_table;

/**
 * Create a flow table. Allocates everything it will ever use.
 *
 * @param conf   copied.
 * @param sink   where transactions go (kept by pointer).
 * @param stats  flow counters, kept by pointer, written only by this table.
 * @param proto_ctr protocol counters, likewise: n_protos * WL_PROTO_CTR_MAX
 *        entries, [id * WL_PROTO_CTR_MAX + ctr].
 * @param lcore  stored in every transaction.
 * @param socket NUMA socket for the memory (SOCKET_ID_ANY is fine).
 * @return the table, or NULL with rte_errno set (EINVAL, ENOMEM).
 * Call on the control path.
 */
struct wl_flow_table *wl_flow_table_create(const struct wl_flow_conf *conf,
	const struct wl_txn_sink *sink, struct wl_flow_stats *stats,
	uint64_t *proto_ctr, unsigned int lcore, int socket);

/**
 * The bytes wl_flow_table_create(conf) reserves, all included: entries,
 * buckets, part pools, L7 states, held segments, waiting requests (what
 * eal.memory_mb must hold per parser lcore without hugepages).
 */
uint64_t wl_flow_table_mem(const struct wl_flow_conf *conf);

/** Free a table (after wl_flow_flush if transactions matter). NULL ok. */
void wl_flow_table_free(struct wl_flow_table *ft);

/**
 * Account one decoded TCP or UDP packet (p->l4proto). p->ts_ns must be
 * set. Only the owning lcore may call this.
 */
void wl_flow_input(struct wl_flow_table *ft, const struct wl_pkt *p);

/* Packets per bulk hash lookup (RTE_HASH_LOOKUP_BULK_MAX at most). */
#define WL_FLOW_BURST 32

/**
 * wl_flow_input() for n packets in order, with one bulk flow lookup per
 * WL_FLOW_BURST of them: the result is the same, the cache misses of the
 * lookups overlap. p[i].payload must stay valid for the whole call.
 */
void wl_flow_input_burst(struct wl_flow_table *ft, const struct wl_pkt *p,
	unsigned int n);

/**
 * Advance time to now_ns: close flows idle past their timeout, oldest
 * first, doing a bounded amount of work per call. Call once per burst.
 */
void wl_flow_advance(struct wl_flow_table *ft, uint64_t now_ns);

/** Close every flow (end of input) with the END_OF_CAPTURE flag. */
void wl_flow_flush(struct wl_flow_table *ft, uint64_t now_ns);

/** Number of flows in the table. */
uint32_t wl_flow_count(const struct wl_flow_table *ft);

/**
 * How a connection ended, as the connection log's "close": the first
 * RST's side ("rst_client"), else the first FIN's ("fin_server"), else
 * "timeout", "evicted" or "end_of_capture".
 */
const char *wl_flow_conn_close(const struct wl_conn *c);

/**
 * Whether c is a TCP connection of SYNs alone, none answered: the
 * client's SYN and its retransmissions, nothing from the server, no
 * other packet (what a SYN flood leaves; a one-sided capture of a real
 * connection has more).
 */
int wl_flow_conn_syn_only(const struct wl_conn *c);

/* The connection series (metrics.md), name NULL ending them. */
extern const struct wl_metric_def wl_flow_conn_metrics[];

/**
 * The values a WL_TXN_KIND_CONN record gives wl_flow_conn_metrics: how a
 * TCP connection ended and lasted, and, when it had them, its
 * retransmissions and zero-window time (at most WL_METRIC_VALS_MAX).
 */
unsigned int wl_flow_conn_series(const struct wl_txn *t,
	struct wl_metric_val *out);

/** Counter names, indexed by enum wl_flow_ctr. */
extern const char *const wl_flow_ctr_names[WL_FLOW_CTR_MAX];

#endif /* WL_FLOW_H */
