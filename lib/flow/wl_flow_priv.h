/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_FLOW_PRIV_H
#define WL_FLOW_PRIV_H

/*
 * Flow table internals, shared by wl_flow.c (table, timers, L7 dispatch)
 * and wl_tcp_track.c (sequence tracking and reassembly).
 */

#include <stdint.h>

#include "wl_flow.h"

#define WL_NIL UINT32_MAX
/* Bytes kept per direction while every probe still says MAYBE. */
#define WL_PROBE_STASH 48
/* A sequence jump this big is not a hole, it is garbage. */
#define WL_SEQ_SANE (1u << 30)
/* Timer-list entries closed per wl_flow_advance() call and list. */
#define WL_EXPIRE_BUDGET 64
/* Signatures of a flow's latest packets kept to spot capture copies. */
#define WL_DUP_RING 8

/* Sequence-space comparisons, modulo 2^32. */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

/*
 * Timer lists: members of one list share one timeout, so each is LRU.
 * They also rank flows for eviction: a flow with no proof that its
 * server talks to its client (a handshake not completed, packets one
 * way only) or that is closed goes before one that carried traffic both
 * ways and is open, once such flows fill their share of the table
 * (docs/flow.md, "Full table").
 */
enum wl_flow_list {
	WL_FL_SYN = 0,          /* handshake not completed */
	WL_FL_ONEWAY = 1,       /* TCP without a handshake, one side seen */
	WL_FL_EST = 2,          /* established, or both sides seen */
	WL_FL_CLOSED = 3,       /* FIN both ways or RST: linger */
	WL_FL_UDP1 = 4,         /* UDP, one side seen */
	WL_FL_UDP = 5,          /* UDP, both sides seen */
	WL_FL_MAX
};

/* One-way lists: the first packet of the other side moves a flow to the
 * next list (WL_FL_ONEWAY -> WL_FL_EST, WL_FL_UDP1 -> WL_FL_UDP). */
#define WL_FL_ONEWAY_MASK ((1u << WL_FL_ONEWAY) | (1u << WL_FL_UDP1))
/* Unproven or closed: evicted first once they fill their share. */
#define WL_FL_EVICT_FIRST ((1u << WL_FL_SYN) | WL_FL_ONEWAY_MASK | \
	(1u << WL_FL_CLOSED))

/* Handshake progress of a TCP flow. */
enum wl_hs {
	WL_HS_NONE = 0,         /* mid-stream: no handshake to measure */
	WL_HS_SYN = 1,          /* SYN seen */
	WL_HS_SYNACK = 2,       /* SYN/ACK seen, waiting for the ACK */
	WL_HS_DONE = 3,         /* handshake transaction emitted */
};

/* Canonical key: the lower (address, port) side first. */
struct wl_flow_key {
	struct wl_addr addr[2];
	uint16_t port[2];
	uint16_t vlan;
	uint8_t l4proto;
	uint8_t pad[9];         /* 48 bytes: rte_hash compares those with SIMD */
};

_Static_assert(sizeof(struct wl_flow_key) == 48, "flow key must stay 48 bytes");

/* Probe progress of one direction. */
enum wl_probe_st {
	WL_PS_UNSEEN = 0,
	WL_PS_MAYBE = 1,        /* stash holds the first bytes */
	WL_PS_NO = 2,           /* no protocol recognised this direction */
};

/* One direction of a flow (sequence marks: wl_tcp_track.c). */
struct wl_flow_dir {
	uint32_t next_seq;      /* next in-order byte */
	uint32_t dlv_seq;       /* handed to L7 or reported lost up to here */
	uint32_t want_seq;      /* the peer acknowledged up to here */
	uint32_t fin_seq;       /* sequence number of the FIN */
	uint32_t ooo_head;      /* held segments, ascending seq, or WL_NIL */
	uint32_t dq_head;       /* in order, waiting for the other way */
	uint32_t dq_tail;
	uint16_t ooo_n;
	uint16_t dq_n;
	uint64_t dlv_off;       /* stream offset of dlv_seq */
	uint8_t seq_valid;
	uint8_t want_valid;
	uint8_t fin_seen;
	uint8_t fin_done;       /* FIN delivered in order */
	uint8_t probe_st;       /* enum wl_probe_st */
	uint8_t stash_len;
	uint8_t stash[WL_PROBE_STASH];
	uint64_t stash_ts;      /* packet time of the first stashed byte */
	struct wl_stream_pos stash_pos; /* and its position */
	/* connection analytics of this side's packets (struct wl_conn_dir) */
	uint64_t last_data_ns;  /* its latest data packet */
	uint64_t zero_since_ns; /* its window closed then, while zero_now */
	uint32_t last_ack;
	uint32_t high_seq;      /* end of its highest data seen */
	uint16_t last_win;
	uint16_t last_ipid;
	uint8_t ipid_run;       /* consecutive +1 IP ID steps, saturating */
	uint8_t ack_seen;
	uint8_t zero_now;
	uint8_t in_burst;       /* last data this way, none the other way since */
	/* since the flow's last L7 transaction (struct wl_txn rsp_*) */
	uint64_t stall_txn_ns;
	uint32_t retrans_txn;   /* conn retrans then */
	uint32_t ooo_txn;
};

struct wl_flow {
	struct wl_flow_key key;
	uint32_t prev;          /* timer list links, flow indexes */
	uint32_t next;
	uint8_t list;           /* enum wl_flow_list */
	uint8_t cli_side;       /* key side (0/1) of the client */
	uint8_t proto;          /* enum wl_proto_id, WL_PROTO_NONE if none */
	uint8_t hs;             /* enum wl_hs */
	uint8_t closed;         /* L7 closed, lingering */
	uint8_t l7_off;         /* L7 not fed: done, unknown or no state */
	uint8_t ts_source;      /* of the first packet */
	uint8_t clock_mixed;    /* a packet of another timestamp source */
	uint32_t l7_state;      /* pool slot or WL_NIL */
	uint32_t probed[2];     /* bytes offered to probes, per direction */
	uint32_t syn_retrans;
	uint32_t synack_retrans;
	uint32_t cli_isn;
	uint64_t flow_id;
	uint64_t conn_first_ns;  /* first packet */
	uint64_t last_ns;
	uint64_t list_ns;       /* last_ns when queued on its timer list */
	uint64_t syn_first_ns;  /* first SYN: the client started here */
	uint64_t syn_ns;        /* latest SYN before the SYN/ACK */
	uint64_t synack_first_ns; /* the server's answer to the latest SYN */
	uint64_t synack_ns;     /* latest SYN/ACK before the ACK */
	struct wl_conn conn;
	struct wl_flow_dir d[2]; /* enum wl_dir */
	/* The latest packets (either way), to drop the copies a span
	 * session or a multi-interface capture makes: a signature of
	 * each, and its time in 1.024 us units (wrapping). */
	uint32_t dup_sig[WL_DUP_RING];
	uint32_t dup_ts[WL_DUP_RING];
	uint8_t dup_next;
	/* Reorder window (wl_tcp_track.c): open while bytes an ACK showed,
	 * or bytes queued behind them, wait; flows with one open are on
	 * the table's reorder list, oldest first. */
	uint8_t ro_on;
	uint32_t ro_pkts;       /* packets of the flow since it opened */
	uint64_t ro_since_ns;
	uint32_t ro_prev;
	uint32_t ro_next;
	uint32_t arrivals;      /* queued chunks so far: capture order */
	uint32_t cli_fin_ack;   /* the ACK of the client's FIN */
	uint32_t srv_fin_ack;   /* that of the first FIN, when the server's */
	uint8_t cli_fin_first;  /* the client's FIN came first */
};

/* A held segment (out of order, or queued in order); its bytes follow
 * in the pool. */
struct wl_ooo_seg {
	uint32_t seq;
	uint32_t len;
	uint32_t next;
	uint32_t ack;           /* the ACK of the packet that carried it */
	uint64_t ts_ns;
	uint32_t arrival;       /* queued: capture order within the flow */
	uint8_t kind;           /* WL_SEG_* */
	uint8_t rsvd[3];
};

#define WL_SEG_ACK 0x01         /* ack is valid */
#define WL_SEG_GAP 0x02         /* queued: len bytes lost, no data */

struct wl_flow_table {
	uint64_t del_gen;        /* flows freed so far: stale bulk lookups */
	struct wl_flow *cur;     /* the flow whose protocol runs now */
	struct wl_flow_conf conf;
	const struct wl_txn_sink *sink;
	struct wl_txn_sink count_sink;  /* counts, then forwards to sink */
	struct wl_flow_stats *st;
	uint64_t *proto_ctr;
	struct rte_hash *hash;
	struct wl_flow *flows;          /* indexed by hash position */
	uint32_t n_slots;
	uint32_t count;
	uint32_t head[WL_FL_MAX];
	uint32_t tail[WL_FL_MAX];
	uint32_t unproven;       /* flows on WL_FL_EVICT_FIRST lists */
	uint32_t unproven_max;   /* their share: conf.unproven_pct */
	uint64_t timeout_ns[WL_FL_MAX];
	uint64_t requeue_ns[WL_FL_MAX];  /* timeout / 16: lazy LRU step */
	uint64_t next_id;
	uint32_t dup_window;     /* conf.dedup_window_us in 1.024 us units */
	uint64_t reorder_ns;     /* conf.reorder_ms */
	uint32_t ro_head;        /* flows with an open reorder window */
	uint32_t ro_tail;
	unsigned int lcore;
	/* L7 states: fixed slots, free list threaded through the slots;
	 * slots from l7_fresh on were never used (so never touched). */
	uint8_t *l7_pool;
	uint32_t l7_slot;
	uint32_t l7_free;
	uint32_t l7_fresh;
	/* Requests waiting for their answers (wl_match.h), all flows. */
	struct wl_mpool *mpool;
	/* Out-of-order segments: fixed slots, free list, never-used
	 * slots from ooo_fresh on. */
	uint8_t *ooo_pool;
	uint32_t ooo_slot;
	uint32_t ooo_free;
	uint32_t ooo_fresh;
	/* Detection: this lcore's scan scratch (conf.probe_db's, freed
	 * with it), and the protocols enabled on TCP and UDP (bit per id). */
	struct wl_probe_scratch *probe_scr;
	uint32_t usable_tcp;
	uint32_t usable_udp;
};

static inline struct wl_ooo_seg *
wl_ooo_get(struct wl_flow_table *ft, uint32_t i)
{
	return (struct wl_ooo_seg *)(ft->ooo_pool + (size_t)i * ft->ooo_slot);
}

/* ---- wl_flow.c, used by the TCP tracker ---- */

/* Hand in-order bytes of direction dir to L7 (probing first if needed);
 * pos: where they sit in the stream. */
void wl_flow_deliver(struct wl_flow_table *ft, struct wl_flow *f,
	enum wl_dir dir, const uint8_t *data, uint32_t len, uint64_t ts_ns,
	const struct wl_stream_pos *pos);

/* Tell L7 that len bytes of direction dir are lost. */
void wl_flow_gap(struct wl_flow_table *ft, struct wl_flow *f,
	enum wl_dir dir, uint32_t len, uint64_t ts_ns,
	const struct wl_stream_pos *pos);

/* The table's reorder list (flows with an open reorder window). */
void wl_flow_ro_link(struct wl_flow_table *ft, struct wl_flow *f);
void wl_flow_ro_unlink(struct wl_flow_table *ft, struct wl_flow *f);

/* ---- wl_tcp_track.c ---- */

/*
 * Sequence tracking of one segment's payload and FIN in direction dir:
 * suppresses retransmissions, trims overlaps, holds or releases
 * out-of-order data and delivers in-order bytes.
 */
void wl_tcp_segment(struct wl_flow_table *ft, struct wl_flow *f,
	enum wl_dir dir, const struct wl_pkt *p);

/*
 * The peer of direction dir acknowledged up to ack: bytes of dir below
 * it that have not reached us are due within the reorder window, and
 * lost after it.
 */
void wl_tcp_acked(struct wl_flow_table *ft, struct wl_flow *f,
	enum wl_dir dir, uint32_t ack, uint64_t ts_ns);

/* Hand queued bytes to L7 as far as causal order allows (per packet). */
void wl_tcp_release(struct wl_flow_table *ft, struct wl_flow *f);

/*
 * The reorder window of f: a packet of the flow came (timer 0), or the
 * timer list reached it (timer 1). Past the window, bytes still missing
 * are lost and everything queued goes to L7.
 */
void wl_tcp_ro_check(struct wl_flow_table *ft, struct wl_flow *f,
	uint64_t now, int timer);

/* Deliver everything held, with gaps for the holes (flow end). */
void wl_tcp_flush(struct wl_flow_table *ft, struct wl_flow *f,
	uint64_t ts_ns);

/* Return every slot f holds to the pool (flow freed). */
void wl_tcp_free(struct wl_flow_table *ft, struct wl_flow *f);

#endif /* WL_FLOW_PRIV_H */
