/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_FLOW_PRIV_H
#define WL_FLOW_PRIV_H

/*
 * Flow table internals, shared by wl_flow.c (table, timers, L7 dispatch)
 * and wl_tcp_track.c (sequence tracking and reassembly).
 *
 * A flow is a 192-byte entry (three cache lines: what every packet
 * touches) plus parts it takes from per-lcore pools only while it needs
 * them: handshake timing, rare counts, analytics, detection state,
 * reorder state (docs/flow.md, "Memory"). Parts are referenced by pool
 * index (WL_NIL: none).
 */

#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_hash_crc.h>

#include "wl_flow.h"

#define WL_NIL UINT32_MAX
/* Bytes kept per direction while every probe still says MAYBE. */
#define WL_PROBE_STASH 48
/* A sequence jump this big is not a hole, it is garbage. */
#define WL_SEQ_SANE (1u << 30)
/* Timer-list entries closed per wl_flow_advance() call and list. */
#define WL_EXPIRE_BUDGET 64
/* Protocol ids a table knows (struct wl_flow_conf n_protos). */
#define WL_FLOW_PROTOS 32

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

/* Canonical key: the lower (address, port) side first. A packet's, for
 * its hash and for an IPv6 flow's addresses; the entry keeps struct
 * wl_flow_ckey. */
struct wl_flow_key {
	struct wl_addr addr[2];
	uint16_t port[2];
	uint16_t vlan;
	uint8_t l4proto;
	uint8_t pad;            /* 0: compared with the rest */
};

_Static_assert(sizeof(struct wl_flow_key) == 40, "flow key must stay 40 bytes");

/* CRC32-C of the first n 8-byte words of k (a key), as rte_hash_crc()
 * would give it; the words are copied out first: read through another
 * type right after they were written, the compiler may load them before
 * the stores land (strict aliasing). */
static inline uint32_t
wl_flow_words_hash(const void *k, unsigned int n)
{
	uint64_t w[sizeof(struct wl_flow_key) / 8];
	uint32_t h = 0;
	unsigned int i;

	memcpy(w, k, n * 8);
	for (i = 0; i < n; i++)
		h = rte_hash_crc_8byte(w[i], h);
	return h;
}

/*
 * The key in the entry: 16 bytes, IPv4 addresses inline. An IPv6 flow
 * keeps its addresses in a part (struct wl_flow_v6) and, in their place,
 * its key hash (what a lookup compares before it reads the part) and the
 * part's index: IPv4 flows do not carry 24 bytes of IPv6 room.
 */
struct wl_flow_ckey {
	uint32_t a[2];          /* IPv4: addresses (network order); IPv6:
	                         * key hash, struct wl_flow_v6 index */
	uint16_t port[2];
	uint16_t vlan;
	uint8_t l4proto;
	uint8_t v6;
};

_Static_assert(sizeof(struct wl_flow_ckey) == 16, "compact key size");

/* The addresses of an IPv6 flow, key side 0 then 1. */
struct wl_flow_v6 {
	struct wl_addr addr[2];
};

/* Probe progress of one direction (WL_FD_PROBE bits). */
enum wl_probe_st {
	WL_PS_UNSEEN = 0,
	WL_PS_MAYBE = 1,        /* stash holds the first bytes */
	WL_PS_NO = 2,           /* no protocol recognised this direction */
};

/* Per-direction flags (struct wl_flow dfl[]). */
#define WL_FD_SEQ_VALID 0x01    /* next_seq is known */
#define WL_FD_WANT_VALID 0x02   /* want_seq is known */
#define WL_FD_FIN_SEEN 0x04
#define WL_FD_FIN_DONE 0x08     /* FIN delivered in order */
#define WL_FD_GAP 0x10          /* bytes lost (a gap reached L7) */
#define WL_FD_DLV 0x20          /* bytes reached L7 */
#define WL_FD_PROBE_SHIFT 6     /* enum wl_probe_st, two bits */
#define WL_FD_PROBE (3u << WL_FD_PROBE_SHIFT)

/* Sequence marks of one TCP direction (wl_tcp_track.c). */
struct wl_seq {
	uint32_t next_seq;      /* next in-order byte */
	uint32_t want_seq;      /* the peer acknowledged up to here */
	uint32_t fin_seq;       /* sequence number of the FIN */
};

/* Counters kept as 32-bit low words in the entry; a carry goes to the
 * extra part (struct wl_flow_extra hi[]), index WL_C_x * 2 + dir. */
enum wl_ctr32 {
	WL_C_PKTS = 0,
	WL_C_BYTES = 1,
	WL_C_PAYLOAD = 2,
	WL_C_MAX
};

/* Connection analytics state (struct wl_conn_dir), per direction. */
#define WL_AN_ACK_SEEN 0x01     /* an ACK seen: last_ack, last_win */
#define WL_AN_ZERO_NOW 0x02     /* the window is closed */
#define WL_AN_IN_BURST 0x04     /* last data this way, none the other since */

/*
 * The entry: what every packet of a flow reads or writes, and the
 * indexes of its parts. Line 0 is all that lookup, eviction and expiry
 * touch; lines 1 and 2 what a TCP packet does, its connection analytics
 * included (inline: a part would be one more line to fetch per packet
 * and an index to keep). 192 bytes and 7.5 of buckets a flow, whatever
 * its kind (flow.md, "Bytes per flow").
 */
struct wl_flow {
	/* line 0: lookup, timers, identity */
	struct wl_flow_ckey key;
	uint32_t prev;          /* timer list links, flow indexes */
	uint32_t next;          /* (the free list's too) */
	uint64_t last_ns;
	uint64_t list_ns;       /* last_ns when queued on its timer list */
	uint64_t flow_id;
	uint64_t first_ns;      /* first packet (a SYN when hs != NONE) */
	/* L7 state slot when proto != WL_PROTO_NONE, else the probing
	 * part (struct wl_flow_probe) or WL_NIL. */
	uint32_t l7;
	uint32_t ro;            /* struct wl_flow_ro or WL_NIL */
	/* line 1: state, sequence tracking, counters */
	uint32_t extra;         /* struct wl_flow_extra or WL_NIL */
	uint32_t ev;            /* struct wl_flow_ev or WL_NIL */
	uint8_t list;           /* enum wl_flow_list */
	uint8_t proto;          /* enum wl_proto_id, WL_PROTO_NONE if none */
	uint8_t ts_source;      /* of the first packet */
	uint8_t cflags;         /* 1 << WL_CONN_F_BIT_* */
	uint8_t hs : 2;         /* enum wl_hs */
	uint8_t cli_side : 1;   /* key side (0/1) of the client */
	uint8_t closed : 1;     /* L7 closed, lingering */
	uint8_t l7_off : 1;     /* L7 not fed: done, unknown or no state */
	uint8_t clock_mixed : 1; /* a packet of another timestamp source */
	uint8_t cli_fin_first : 1; /* the client's FIN came first */
	uint8_t extra_failed : 1; /* the extra pool was empty once */
	uint8_t end : 3;        /* enum wl_conn_end */
	uint8_t fin_side : 2;   /* enum wl_conn_side */
	uint8_t rst_side : 2;   /* enum wl_conn_side */
	uint8_t ev_failed : 1;  /* the events pool was empty once */
	uint8_t dfl[2];         /* WL_FD_*, enum wl_dir */
	struct wl_seq s[2];     /* enum wl_dir */
	uint32_t c32[WL_C_MAX][2]; /* low words: pkts, bytes, payload */
	/* line 2: delivery, close, handshake, analytics */
	uint64_t dlv_off[2];    /* stream offset of what L7 had (or lost) */
	uint64_t last_data_ns;  /* analytics: latest data packet, either way */
	/* The ACK of the first FIN; of the client's, when the server's came
	 * first but did not acknowledge it (cli_fin_first). */
	uint32_t fin_ack;
	union {
		/* hs SYN or SYNACK: struct wl_flow_hs index */
		uint32_t hsp;
		/* otherwise: server_rtt_ns, client_rtt_ns (struct wl_conn);
		 * the high words in the extra part (rtt_hi) when not 0 */
		uint32_t rtt[2];
	};
	/* Analytics of each direction (enum wl_dir). */
	uint32_t an_ack[2];     /* its last ACK */
	uint32_t an_high[2];    /* end of its highest data seen */
	uint16_t an_win[2];     /* its last window */
	uint16_t an_ipid[2];    /* its last IP ID */
	uint8_t an_ipid_run[2]; /* consecutive +1 IP ID steps, saturating */
	uint8_t an_fl[2];       /* WL_AN_* */
} __rte_cache_aligned;

_Static_assert(sizeof(struct wl_flow) == 3 * RTE_CACHE_LINE_MIN_SIZE,
	"the flow entry must stay three cache lines");
_Static_assert(offsetof(struct wl_flow, extra) == RTE_CACHE_LINE_MIN_SIZE,
	"lookup, timers and identity must stay in the first line");

/* Handshake timing, while hs is SYN or SYNACK. */
struct wl_flow_hs {
	uint64_t syn_ns;        /* latest SYN before the SYN/ACK */
	uint64_t synack_first_ns; /* the server's answer to the latest SYN */
	uint64_t synack_ns;     /* latest SYN/ACK before the ACK */
	uint32_t cli_isn;
	uint32_t syn_retrans;
	uint32_t synack_retrans;
	uint32_t rsvd;
};

_Static_assert(sizeof(struct wl_flow_hs) == 40, "handshake part size");

/* What most flows never count: taken at the first such event. */
struct wl_flow_extra {
	uint32_t hi[WL_C_MAX * 2];      /* high words of c32 */
	uint64_t gap_bytes[2];
	uint64_t retrans_bytes[2];
	uint32_t retrans[2];
	uint32_t ooo[2];
	/* the S2C side's retrans and ooo at the flow's last L7 answer */
	uint32_t retrans_txn;
	uint32_t ooo_txn;
	uint32_t syn_retrans;
	uint32_t synack_retrans;
	uint32_t rtt_hi[2];     /* high words of the entry's rtt[] */
};

_Static_assert(sizeof(struct wl_flow_extra) == 96, "extra part size");

/* Analytics events: taken at the first nonzero result. */
struct wl_flow_ev {
	struct {
		uint64_t zero_win_ns;
		uint64_t stall_max_ns;
		uint32_t dup_acks;
		uint32_t sack_blocks;
		uint32_t zero_win;
		uint32_t ipid_gaps;
		uint32_t ipid_missing;
		uint32_t stalls;
	} d[2];
	uint64_t ipg_min_ns;
	uint64_t stall_txn_ns;  /* S2C: longest since the last L7 answer */
	uint32_t ipg_count;
	uint16_t ipg_hist[WL_CONN_IPG_BUCKETS];
	uint64_t zero_since_ns[2]; /* the window closed then (WL_AN_ZERO_NOW) */
};

_Static_assert(sizeof(struct wl_flow_ev) == 168, "events part size");

/* Detection in progress: a flow whose first bytes did not settle it. */
struct wl_flow_probe {
	uint32_t probed[2];     /* bytes offered to probes, per direction */
	uint32_t stash;         /* struct wl_flow_stash or WL_NIL */
	uint32_t rsvd;
};

_Static_assert(sizeof(struct wl_flow_probe) == 16, "probing part size");

/* Bytes held while every probe of a direction still says MAYBE. */
struct wl_flow_stash {
	uint8_t len[2];
	uint8_t data[2][WL_PROBE_STASH];
	uint64_t ts[2];         /* packet time of the first stashed byte */
	struct wl_stream_pos pos[2]; /* and its position */
};

_Static_assert(sizeof(struct wl_flow_stash) == 152, "stash part size");

/* Reorder state: held and queued segments, the reorder window. */
struct wl_flow_ro {
	uint32_t ooo_head[2];   /* held segments, ascending seq, or WL_NIL */
	uint32_t dq_head[2];    /* in order, waiting for the other way */
	uint32_t dq_tail[2];
	uint16_t ooo_n[2];
	uint16_t dq_n[2];
	uint32_t dlv_seq[2];    /* wl_dlv_seq() */
	/* Reorder window: open while bytes an ACK showed, or bytes queued
	 * behind them, wait; flows with one open are on the table's
	 * reorder list, oldest first. */
	uint32_t pkts;          /* packets of the flow since it opened */
	uint64_t since_ns;
	uint32_t prev;
	uint32_t next;
	uint32_t arrivals;      /* queued chunks so far: capture order */
	uint8_t on;
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

/*
 * A pool of fixed slots: a free list threaded through the slots' first
 * four bytes, and slots from fresh on that were never used (so never
 * touched: without hugepages they cost no memory until needed).
 */
struct wl_pool {
	uint8_t *base;
	uint32_t slot;          /* bytes per slot */
	uint32_t n;
	uint32_t free;
	uint32_t fresh;
	uint32_t used;
	uint32_t peak;
};

static inline void *
wl_pool_at(const struct wl_pool *p, uint32_t i)
{
	return p->base + (size_t)i * p->slot;
}

/* A slot (contents undefined), or WL_NIL when the pool is empty. */
static inline uint32_t
wl_pool_take(struct wl_pool *p)
{
	uint32_t i;

	if (p->free != WL_NIL) {
		i = p->free;
		memcpy(&p->free, wl_pool_at(p, i), sizeof(p->free));
	} else if (p->fresh < p->n) {
		i = p->fresh++;
	} else {
		return WL_NIL;
	}
	if (++p->used > p->peak)
		p->peak = p->used;
	return i;
}

static inline void
wl_pool_put(struct wl_pool *p, uint32_t i)
{
	memcpy(wl_pool_at(p, i), &p->free, sizeof(p->free));
	p->free = i;
	p->used--;
}

/* Flow table buckets: 10 flows each, a 16-bit signature and the flow
 * index + 1 (0: empty), one cache line. */
#define WL_FT_WAYS 10

struct wl_ft_bucket {
	uint16_t sig[WL_FT_WAYS];
	uint32_t idx[WL_FT_WAYS];
	uint32_t rsvd;
} __rte_cache_aligned;

_Static_assert(sizeof(struct wl_ft_bucket) == RTE_CACHE_LINE_MIN_SIZE,
	"a bucket is one cache line");

/* Recent frames of all flows, for the duplicate check: 8 per bucket. */
#define WL_DD_WAYS 8

struct wl_dd_bucket {
	uint32_t sig[WL_DD_WAYS];       /* 0: empty */
	uint32_t ts[WL_DD_WAYS];        /* 1.024 us units, wrapping */
} __rte_cache_aligned;

struct wl_flow_table {
	uint64_t del_gen;        /* flows freed so far: stale bulk lookups */
	struct wl_flow *cur;     /* the flow whose protocol runs now */
	struct wl_flow_conf conf;
	const struct wl_txn_sink *sink;
	struct wl_txn_sink count_sink;  /* counts, then forwards to sink */
	struct wl_flow_stats *st;
	uint64_t *proto_ctr;
	struct wl_flow *flows;          /* max_flows entries */
	uint32_t flow_free;      /* free entries, threaded through next */
	uint32_t flow_fresh;     /* entries never used from here on */
	struct wl_ft_bucket *bkt;
	uint32_t n_bkt;
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
	struct wl_dd_bucket *dd;
	uint32_t n_dd;
	/* Part pools (struct wl_flow_*), L7 states, held segments. */
	struct wl_pool hs_pool;
	struct wl_pool extra_pool;
	struct wl_pool v6_pool;
	struct wl_pool ev_pool;
	struct wl_pool probe_pool;
	struct wl_pool stash_pool;
	struct wl_pool ro_pool;
	struct wl_pool ooo_pool;
	/* L7 states, a pool per protocol sized to its own state (one slot
	 * size for all would give every flow the largest, MySQL's), and
	 * from WL_FLOW_PROTOS on one per protocol for its second transport
	 * (struct wl_proto_ops l4proto2). */
	struct wl_pool l7_pool[2 * WL_FLOW_PROTOS];
	/* Requests waiting for their answers (wl_match.h), all flows. */
	struct wl_mpool *mpool;
	/* Detection: this lcore's scan scratch (conf.probe_db's, freed
	 * with it), and the protocols enabled on TCP and UDP (bit per id). */
	struct wl_probe_scratch *probe_scr;
	uint32_t usable_tcp;
	uint32_t usable_udp;
};

static inline struct wl_ooo_seg *
wl_ooo_get(struct wl_flow_table *ft, uint32_t i)
{
	return wl_pool_at(&ft->ooo_pool, i);
}

static inline struct wl_flow_ro *
wl_ro(struct wl_flow_table *ft, const struct wl_flow *f)
{
	return wl_pool_at(&ft->ro_pool, f->ro);
}

static inline struct wl_flow_extra *
wl_extra(struct wl_flow_table *ft, const struct wl_flow *f)
{
	return f->extra == WL_NIL ? NULL :
		wl_pool_at(&ft->extra_pool, f->extra);
}

/* The flow's extra part, taken now if it has none; NULL (and the flow
 * flagged partial) when the pool is empty. */
struct wl_flow_extra *wl_flow_extra_get(struct wl_flow_table *ft,
	struct wl_flow *f);

/* Add v to a counter's low word c32[c][dir]; a carry goes to the high
 * word in the extra part. */
static inline void
wl_ctr_add(struct wl_flow_table *ft, struct wl_flow *f, enum wl_ctr32 c,
	unsigned int dir, uint32_t v)
{
	uint32_t o = f->c32[c][dir];

	f->c32[c][dir] = o + v;
	if (unlikely(f->c32[c][dir] < o)) {
		struct wl_flow_extra *x = wl_flow_extra_get(ft, f);

		if (x != NULL)
			x->hi[c * 2 + dir]++;
	}
}

/* A counter's value (struct wl_conn_dir pkts, bytes, payload). */
static inline uint64_t
wl_ctr(struct wl_flow_table *ft, const struct wl_flow *f, enum wl_ctr32 c,
	unsigned int dir)
{
	const struct wl_flow_extra *x = wl_extra(ft, f);

	return (x != NULL ? (uint64_t)x->hi[c * 2 + dir] << 32 : 0) |
		f->c32[c][dir];
}

/*
 * L7 had up to here in direction dir (or was told it was lost): bytes
 * queued for the other way sit between it and next_seq. With nothing
 * queued it is next_seq; the reorder part keeps it while it exists
 * (wl_tcp_track.c).
 */
static inline uint32_t
wl_dlv_seq(struct wl_flow_table *ft, const struct wl_flow *f,
	unsigned int dir)
{
	return f->ro != WL_NIL ? wl_ro(ft, f)->dlv_seq[dir] :
		f->s[dir].next_seq;
}

/* Direction dir's stream starts (again) at seq. */
static inline void
wl_seq_start(struct wl_flow_table *ft, struct wl_flow *f, unsigned int dir,
	uint32_t seq)
{
	f->s[dir].next_seq = seq;
	f->dfl[dir] |= WL_FD_SEQ_VALID;
	if (f->ro != WL_NIL)
		wl_ro(ft, f)->dlv_seq[dir] = seq;
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

/* Count a retransmitted (or overlapping: old bytes only) segment. */
void wl_flow_retrans(struct wl_flow_table *ft, struct wl_flow *f,
	enum wl_dir dir, uint32_t bytes);

/* Count a segment held ahead of a hole. */
void wl_flow_ooo(struct wl_flow_table *ft, struct wl_flow *f,
	enum wl_dir dir);

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

/* Hand queued bytes to L7 as far as causal order allows (per packet),
 * and give the reorder part back when nothing needs it. */
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

/* Return every slot f holds to the pool, and its reorder part. */
void wl_tcp_free(struct wl_flow_table *ft, struct wl_flow *f);

#endif /* WL_FLOW_PRIV_H */
