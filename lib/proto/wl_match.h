/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_MATCH_H
#define WL_MATCH_H

/*
 * The request/response matcher every protocol pairs with.
 *
 * A protocol decodes; this file decides which request a response
 * answers, and says so only when it can prove it. Requests wait in a
 * per-flow list of records drawn from one per-lcore pool (so one deep
 * pipeline is measured whole, and the bound is per core), each record a
 * transaction in the making. Responses answer requests in order (Redis,
 * HTTP/1, memcached, PostgreSQL, MySQL): the n-th response
 * answers the n-th request, quiet requests aside (enum
 * wl_match_expect). Protocols whose answers carry their question (DNS:
 * id and question) pair by key instead: they find the request
 * themselves (wl_match_next) and answer it (wl_match_answer); the
 * matcher keeps the records, their bound and their end.
 *
 * The proof is TCP's. Every message has a stream offset and
 * the ACK its first packet carried (struct wl_stream_pos), and:
 *   C1  a response is sent after its server received (the start of) its
 *       request: request.off < response.peer_ack;
 *   C2  a request is sent before its client received its response:
 *       request.peer_ack <= response.off.
 * While no bytes are lost, each response goes to the oldest request,
 * and C1/C2 only check it (a response failing them answers a request
 * the tap never saw, and is reported unmatched). A loss that hides
 * message boundaries opens a "hole": how many responses (server side)
 * or requests (client side) it held is one unknown integer, at least 1
 * when a message surely began in it. Up to WL_MATCH_HOLES holes are
 * open at once. While one is open, responses are held with their
 * positions; each hypothesis (a count per hole) pairs the requests,
 * seen and lost, with the responses, held and lost, in order, and is
 * feasible when every pair passes C1/C2 (and the protocol's rsp_fits).
 * What every feasible hypothesis pairs alike, from the first held
 * response on, is proven and emitted; a hole passed by a proven pair is
 * settled. When the connection closes cleanly (the client closed first,
 * having received every byte the server sent, and every request asked
 * for exactly one answer), answers and requests add up: only the
 * hypotheses that use every held response and every request remain.
 * A fifth hole, more held than HOLD_MAX, no feasible hypothesis, or an
 * unclean end give up: what was held is emitted flagged "unpaired",
 * with its own times and status but never another's, kept out of the
 * duration histograms, and the flow goes on blind (as one picked up
 * mid-stream: one client-side hole of unknown count) until its close
 * settles it. docs/timing.md, "Pairing after loss".
 *
 * Threading: parser lcore of the flow only; no allocation after
 * wl_mpool_create(), no syscall.
 */

#include <stddef.h>
#include <stdint.h>

#include "wl_txn.h"
#include "wl_proto.h"

/* Pool index meaning "none". */
#define WL_MATCH_NIL UINT32_MAX
/* Runs of requests without a record remembered per flow. */
#define WL_MATCH_OVF 4

/*
 * What a request asks for (struct wl_mrec expect; the protocol sets it
 * after wl_match_req_add()). A quiet request (memcached meta q, binary
 * GETQ...) is answered or not, by its outcome: a response goes to the
 * first waiting request it fits (ops->rsp_fits), the quiet ones before
 * that were answered by silence (counted as messages, not emitted). A
 * response that fits several quiet ones is reported unpaired; one that
 * fits a quiet one and the loud one after it gives pairing up (whether
 * the loud one is answered yet is unknown). Loss with quiet requests
 * waiting cannot be counted out: pairing is given up.
 */
enum wl_match_expect {
	WL_EXPECT_ONE = 0,      /* exactly one response */
	WL_EXPECT_MAYBE = 1,    /* one or none (quiet commands) */
};

/*
 * A request or a held response: the transaction in the making. The
 * protocol fills t (request fields at the request, response fields at
 * the response) and may keep its own framing facts in aux.
 */
struct wl_mrec {
	uint32_t next;          /* list link, pool index */
	uint32_t seq;           /* requests: number in the flow */
	uint64_t off;           /* stream offset of the first byte */
	uint64_t peer_ack;      /* the other stream's offset its packet acked */
	uint64_t aux;           /* the protocol's own */
	uint8_t done;           /* requests: last byte seen */
	uint8_t expect;         /* enum wl_match_expect */
	uint8_t answered;       /* requests: a response is attached */
	uint8_t rsvd[5];
	/* On a cache line of its own: a record is its header's line and
	 * the lines of t it uses (wl_txn_size()), about four for a Redis
	 * command and its reply. */
	struct wl_txn t __attribute__((aligned(64)));
};

/* The per-lcore pool of records. */
struct wl_mpool;

/**
 * Create a pool of n records on a NUMA socket.
 * @return the pool, or NULL with rte_errno set (EINVAL, ENOMEM).
 * Control path.
 */
struct wl_mpool *wl_mpool_create(uint32_t n, int socket);

/** The bytes wl_mpool_create(n) reserves. */
size_t wl_mpool_bytes(uint32_t n);

/** Free a pool. NULL is fine. */
void wl_mpool_free(struct wl_mpool *p);

/** Records in use (for tests and gauges). */
uint32_t wl_mpool_used(const struct wl_mpool *p);

/*
 * A loss that hid message boundaries: how many messages of its side it
 * held is one unknown in [lo, hi] (wl_match.c).
 */
struct wl_hole {
	uint64_t gap_a;         /* lost region [gap_a, gap_b) of its stream */
	uint64_t gap_b;
	uint64_t ack_lo;        /* client side: ACK of the request before */
	uint32_t at;            /* number of the first message after it */
	int16_t lo;
	int16_t hi;
	uint8_t side;           /* enum wl_dir */
	uint8_t rsvd[7];
};

/* Holes open at once in one flow; one more gives pairing up. */
#define WL_MATCH_HOLES 4

/*
 * Per-flow matcher state; lives in the protocol's flow state (zeroed
 * memory), set up by wl_match_init().
 */
struct wl_match {
	uint32_t rq_head;       /* pending requests, oldest first */
	uint32_t rq_tail;
	uint32_t hr_head;       /* responses held while a hole is open */
	uint32_t hr_tail;
	uint32_t n_rq;
	uint32_t n_hr;
	uint32_t req_seq;       /* requests added in the flow */
	uint32_t rsp_seq;       /* responses seen in the flow */
	uint8_t unsolicited;    /* the server also sends unasked messages */
	uint8_t n_holes;
	uint8_t overflow;       /* a request found no record */
	uint8_t quit;           /* the last request asked the server to close */
	uint8_t rsvd[4];
	/* Open holes, in the order they were lost. */
	struct wl_hole hole[WL_MATCH_HOLES];
	/* Requests that found no record (pool empty), as runs of request
	 * numbers: their answers are reported, flagged "overflow", and
	 * never given to another request. */
	uint32_t ovf_seq[WL_MATCH_OVF];
	uint32_t ovf_n[WL_MATCH_OVF];
	uint32_t n_ovf;
	uint32_t rsvd3;
};

/* What every message reads of a flow's struct wl_match: the lists'
 * heads and counts, not the holes. */
#define WL_MATCH_HEAD offsetof(struct wl_match, hole)

/*
 * struct wl_proto_ops hot and match_at of a state whose packets of each
 * direction read c2s and s2c first (WL_PROTO_HOT()), and either way its
 * own fields from member first to its struct wl_match m, which follows
 * them.
 */
#define WL_MATCH_OPS_HOT(type, c2s, s2c, first, m) \
	.hot = { \
		[WL_DIR_C2S] = c2s, \
		[WL_DIR_S2C] = s2c, \
		[2] = { offsetof(type, first), offsetof(type, m) + \
			WL_MATCH_HEAD - offsetof(type, first) }, \
	}, \
	.match_at = offsetof(type, m) + 1

/**
 * Prefetch the oldest waiting request of the matcher at m (the state
 * line holding its head must be in cache: lib/flow, ahead of a
 * response).
 */
void wl_match_prefetch(const struct wl_match *m, struct wl_mpool *p);

/**
 * Set up a flow's matcher (in the protocol's init: ctx->midstream says
 * whether questions may have been asked before it looked).
 * @param unsolicited  the server also sends messages nobody asked for
 *        (pushes, notices), so lost server bytes need not hold a response.
 */
void wl_match_init(struct wl_match *m, const struct wl_proto_ctx *ctx,
	int unsolicited);

/**
 * The protocol knows the message just begun on side dir (enum wl_dir)
 * is that side's first (a login, a greeting): nothing came before it,
 * whatever wl_match_init() assumed of a flow picked up late.
 */
void wl_match_start(struct wl_match *m, int dir);

/**
 * Set up a flow's matcher for pairing by key (wl_match_next,
 * wl_match_answer, wl_match_drop): no order, no holes.
 */
void wl_match_init_keyed(struct wl_match *m);

/**
 * Keyed pairing: the request after r in arrival order (r NULL: the
 * oldest), or NULL.
 */
struct wl_mrec *wl_match_next(struct wl_match *m, struct wl_proto_ctx *ctx,
	const struct wl_mrec *r);

/**
 * Keyed pairing: r (complete) is answered by rsp, whose fields the
 * caller set (times, status, rsp_bytes, the protocol's): emitted, its
 * record freed.
 */
void wl_match_answer(struct wl_match *m, struct wl_proto_ctx *ctx,
	struct wl_mrec *r, const struct wl_txn *rsp);

/**
 * Keyed pairing: r gets no answer (flags say why: timeout...): emitted
 * no_response, its record freed.
 */
void wl_match_drop(struct wl_match *m, struct wl_proto_ctx *ctx,
	struct wl_mrec *r, uint32_t flags);

/**
 * A request that began at `at` (its first byte's position) at start_ts.
 * Protocols add it once they know it asks for an answer.
 * @return its record, t initialised with the flow's endpoints and
 * req_start_ns; the protocol fills method, resource and its own fields.
 * NULL when the lcore's pool is empty: the request is counted
 * (pending_overflow) and its answer is reported unpaired, flagged
 * "overflow", never given to another request.
 */
struct wl_mrec *wl_match_req_add(struct wl_match *m,
	struct wl_proto_ctx *ctx, const struct wl_stream_pos *at,
	uint64_t start_ts);

/**
 * The request's last byte so far came at ts; bytes: its size so far.
 * done: it is complete (call again as a body after an early answer
 * grows). A complete request whose answer is complete is emitted.
 */
void wl_match_req_end(struct wl_match *m, struct wl_proto_ctx *ctx,
	struct wl_mrec *r, uint64_t ts, uint64_t bytes, int done);

/** The latest request added and not complete, or NULL. */
struct wl_mrec *wl_match_req_open(struct wl_match *m,
	struct wl_proto_ctx *ctx);

/**
 * The request a response beginning at `at` answers, when that is proven
 * now (protocols frame a response by its request: HEAD, SUBSCRIBE...),
 * else NULL. Changes nothing.
 */
struct wl_mrec *wl_match_rsp_peek(struct wl_match *m,
	struct wl_proto_ctx *ctx, const struct wl_stream_pos *at);

/* How a response ended (wl_match_rsp). */
enum wl_rsp_end {
	WL_RSP_COMPLETE = 0,    /* its last byte came at end_ts */
	WL_RSP_END_LOST = 1,    /* its end was lost (gap): no end time */
	WL_RSP_CUT = 2,         /* the capture or the flow ended first */
};

/**
 * A response began at `at` at start_ts and ended at end_ts (how). rsp
 * holds its fields (status, status_code, status_class, rsp_bytes, flags,
 * the protocol's response fields, endpoints from wl_proto_txn_init);
 * the times are set here. The pair is emitted (once its request is
 * complete too), held, or the response reported unmatched.
 */
void wl_match_rsp(struct wl_match *m, struct wl_proto_ctx *ctx,
	const struct wl_stream_pos *at, uint64_t start_ts,
	struct wl_txn *rsp, uint64_t end_ts, enum wl_rsp_end how);

/* Position of byte k of the current data call. */
static inline struct wl_stream_pos
wl_match_pos(const struct wl_stream_pos *call, uint32_t k)
{
	struct wl_stream_pos p = { call->off + k, call->peer_ack };

	return p;
}

/* What a gap did to the message stream of its direction. */
enum wl_gap_kind {
	WL_GAP_INSIDE = 0,      /* inside a message of known length: skipped */
	WL_GAP_AT_START = 1,    /* between messages: one starts in it */
	WL_GAP_IN_MSG = 2,      /* in a message of unknown end: maybe more */
};

/**
 * len bytes of dir (enum wl_dir) were lost at ctx->pos. The protocol
 * says what it knows of the boundaries (enum wl_gap_kind), having ended
 * a response in progress first (WL_RSP_END_LOST). A lost boundary opens
 * a hole (above; next to one of its side with no message between, it
 * adds to it); one more than WL_MATCH_HOLES gives pairing up for the
 * flow.
 */
void wl_match_gap(struct wl_match *m, struct wl_proto_ctx *ctx,
	int dir, uint64_t len, enum wl_gap_kind kind);

/**
 * The protocol cannot tell how many messages something it lost held
 * (a framing it cannot trust): what is held goes out unpaired and the
 * flow goes on blind, as after a fifth hole.
 */
void wl_match_give_up(struct wl_match *m, struct wl_proto_ctx *ctx);

/**
 * The client's message just seen asks the server to close (MySQL
 * COM_QUIT, PostgreSQL Terminate), answered or not: until another request
 * comes, a close the server begins after reading it (struct wl_proto_ctx
 * close_srv_first) proves every request before was answered, as a clean
 * close does (wl_match_clean_close()).
 */
void wl_match_quit(struct wl_match *m);

/**
 * Does the flow's close settle the count: a clean close, or one the
 * server began after the client asked it to (wl_match_quit())?
 */
int wl_match_clean_close(const struct wl_match *m,
	const struct wl_proto_ctx *ctx);

/**
 * The flow ends: resolve what can be, emit every pending request
 * (no_response, with flags: closed, timeout, end_of_capture...) and every
 * held response.
 * Open holes are settled by counting when the close is clean
 * (wl_match_clean_close()) and every unanswered request asked for
 * exactly one answer.
 */
void wl_match_close(struct wl_match *m, struct wl_proto_ctx *ctx,
	uint32_t flags, uint64_t ts);

#endif /* WL_MATCH_H */
