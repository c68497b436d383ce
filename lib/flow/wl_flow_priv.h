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

/* Sequence-space comparisons, modulo 2^32. */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

/* Timer lists: members of one list share one timeout, so each is LRU. */
enum wl_flow_list {
	WL_FL_SYN = 0,          /* handshake not completed */
	WL_FL_EST = 1,          /* established or picked up mid-stream */
	WL_FL_CLOSED = 2,       /* FIN both ways or RST: linger */
	WL_FL_UDP = 3,
	WL_FL_MAX
};

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

/* One direction of a flow. */
struct wl_flow_dir {
	uint32_t next_seq;      /* next in-order byte */
	uint32_t fin_seq;       /* sequence number of the FIN */
	uint32_t ooo_head;      /* held segments, ascending seq, or WL_NIL */
	uint16_t ooo_n;
	uint8_t seq_valid;
	uint8_t fin_seen;
	uint8_t fin_done;       /* FIN delivered in order */
	uint8_t probe_st;       /* enum wl_probe_st */
	uint8_t stash_len;
	uint8_t rsvd;
	uint8_t stash[WL_PROBE_STASH];
	uint64_t stash_ts;      /* packet time of the first stashed byte */
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
	uint8_t ts_source;
	uint8_t rsvd;
	uint32_t l7_state;      /* pool slot or WL_NIL */
	uint32_t probed;        /* bytes offered to probes */
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
};

/* A held out-of-order segment; its bytes follow in the pool. */
struct wl_ooo_seg {
	uint32_t seq;
	uint32_t len;
	uint32_t next;
	uint32_t rsvd;
	uint64_t ts_ns;
};

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
	uint64_t timeout_ns[WL_FL_MAX];
	uint64_t requeue_ns[WL_FL_MAX];  /* timeout / 16: lazy LRU step */
	uint64_t next_id;
	unsigned int lcore;
	/* L7 states: fixed slots, free list threaded through the slots. */
	uint8_t *l7_pool;
	uint32_t l7_slot;
	uint32_t l7_free;
	/* Out-of-order segments: fixed slots, free list. */
	uint8_t *ooo_pool;
	uint32_t ooo_slot;
	uint32_t ooo_free;
};

static inline struct wl_ooo_seg *
wl_ooo_get(struct wl_flow_table *ft, uint32_t i)
{
	return (struct wl_ooo_seg *)(ft->ooo_pool + (size_t)i * ft->ooo_slot);
}

/* ---- wl_flow.c, used by the TCP tracker ---- */

/* Hand in-order bytes of direction dir to L7 (probing first if needed). */
void wl_flow_deliver(struct wl_flow_table *ft, struct wl_flow *f,
	enum wl_dir dir, const uint8_t *data, uint32_t len, uint64_t ts_ns);

/* Tell L7 that len bytes of direction dir are lost. */
void wl_flow_gap(struct wl_flow_table *ft, struct wl_flow *f,
	enum wl_dir dir, uint32_t len, uint64_t ts_ns);

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
 * it that never reached us were lost by the capture.
 */
void wl_tcp_acked(struct wl_flow_table *ft, struct wl_flow *f,
	enum wl_dir dir, uint32_t ack, uint64_t ts_ns);

/* Deliver everything held in dir, with gaps for the holes (flow end). */
void wl_tcp_flush_dir(struct wl_flow_table *ft, struct wl_flow *f,
	enum wl_dir dir, uint64_t ts_ns);

#endif /* WL_FLOW_PRIV_H */
