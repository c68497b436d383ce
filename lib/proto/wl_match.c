/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The request/response matcher (wl_match.h). It lives in lib/proto, not
 * lib/txn, because it counts and emits through the protocol context.
 *
 * Invariants: a flow's requests sit in rq in arrival order; those with
 * a response attached (answered) precede all unanswered ones, because
 * responses are given out in order. While no hole is open, hr is
 * empty. Holes of one side are in the order of their place (at), which
 * is that of their loss. A record is owned by exactly one list; a
 * request's stays in rq until it is emitted.
 */

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "wl_match.h"
#include "wl_proto.h"

/* Responses held while holes are open before pairing is given up on. */
#define HOLD_MAX 512

/* What a response answers, besides a request (rsp_target()). */
#define CUR_NONE (WL_MATCH_NIL - 1)     /* unmatched: no request */
#define CUR_HELD (WL_MATCH_NIL - 2)     /* a hole is open: held */
#define CUR_OVF (WL_MATCH_NIL - 3)      /* a request without a record */
#define CUR_AMBIG (WL_MATCH_NIL - 4)    /* one of several quiet ones */
#define CUR_LOST (WL_MATCH_NIL - 5)     /* quiet ones or the next: unknown */

/* The solver's bounds (holes_try()): requests waiting it spans, pairs
 * in one hypothesis, pairs tried per attempt (beyond: nothing proven
 * yet, pairing given up at the end). */
#define WL_SOLVE_U 1024
#define WL_SOLVE_PATH 2048
#define WL_SOLVE_STEPS 16384

struct wl_mpair {
	uint32_t rq;
	uint32_t rs;
};

/* The solver's scratch: per lcore, in the pool. */
struct wl_solver {
	struct wl_match *m;
	const struct wl_proto_ctx *ctx;
	uint32_t nseen[2];      /* per side (enum wl_dir): u[], h[] */
	uint32_t steps;
	uint32_t leaves;        /* feasible hypotheses walked */
	uint32_t common;        /* pairs they all share, from the start */
	uint32_t nfirst;
	int32_t v[WL_MATCH_HOLES];      /* each hole's count, this walk */
	/* Server side: the ACK of the first response after the hole, which
	 * no lost response's exceeds (a sender's ACKs never go back). */
	uint64_t ack_hi[WL_MATCH_HOLES];
	uint8_t hs[2][WL_MATCH_HOLES];  /* each side's holes, in order */
	uint8_t n_hs[2];
	uint8_t close;
	uint8_t stop;
	uint8_t aborted;
	uint32_t u[WL_SOLVE_U];
	uint32_t h[HOLD_MAX];
	struct wl_mpair path[WL_SOLVE_PATH];
	struct wl_mpair first[WL_SOLVE_PATH];
};

struct wl_mpool {
	uint32_t n;
	uint32_t free;
	uint32_t used;
	uint32_t fresh;         /* records below were handed out once */
	struct wl_solver sv;
	struct wl_mrec rec[];
};

/* ---- pool ---- */

void
wl_match_prefetch(const struct wl_match *m, struct wl_mpool *p)
{
	const struct wl_mrec *r;

	if (m->rq_head == WL_MATCH_NIL)
		return;
	r = &p->rec[m->rq_head];
	rte_prefetch0(r);
	rte_prefetch0(&r->t);
}

size_t
wl_mpool_bytes(uint32_t n)
{
	return sizeof(struct wl_mpool) + (size_t)n * sizeof(struct wl_mrec);
}

struct wl_mpool *
wl_mpool_create(uint32_t n, int socket)
{
	struct wl_mpool *p;

	if (n == 0 || n >= WL_MATCH_NIL - 8) {
		rte_errno = EINVAL;
		return NULL;
	}
	p = rte_zmalloc_socket("wl_mpool", wl_mpool_bytes(n),
		RTE_CACHE_LINE_SIZE, socket);
	if (p == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	p->n = n;
	p->free = WL_MATCH_NIL;
	return p;
}

void
wl_mpool_free(struct wl_mpool *p)
{
	rte_free(p);
}

uint32_t
wl_mpool_used(const struct wl_mpool *p)
{
	return p != NULL ? p->used : 0;
}

static inline struct wl_mrec *
rec(struct wl_mpool *p, uint32_t i)
{
	return &p->rec[i];
}

static uint32_t
rec_get(struct wl_mpool *p)
{
	uint32_t i = p->free;

	/* Records never used are taken in order, not threaded at create:
	 * memory a run never needs is never touched. */
	if (i == WL_MATCH_NIL) {
		if (p->fresh == p->n)
			return i;
		i = p->fresh++;
	} else {
		p->free = p->rec[i].next;
	}
	p->used++;
	p->rec[i].next = WL_MATCH_NIL;
	return i;
}

static void
rec_put(struct wl_mpool *p, uint32_t i)
{
	p->rec[i].next = p->free;
	p->free = i;
	p->used--;
}

/* ---- lists ---- */

static void
append(struct wl_mpool *p, uint32_t *head, uint32_t *tail, uint32_t i)
{
	rec(p, i)->next = WL_MATCH_NIL;
	if (*tail != WL_MATCH_NIL)
		rec(p, *tail)->next = i;
	else
		*head = i;
	*tail = i;
}

/* Remove i from rq (usually its head). */
static void
rq_unlink(struct wl_match *m, struct wl_mpool *p, uint32_t i)
{
	uint32_t *link = &m->rq_head, prev = WL_MATCH_NIL;

	while (*link != i) {
		prev = *link;
		link = &rec(p, *link)->next;
	}
	*link = rec(p, i)->next;
	if (m->rq_tail == i)
		m->rq_tail = prev;
	m->n_rq--;
}

/* Take the oldest held response off hr (there is one). */
static uint32_t
hr_pop(struct wl_match *m, struct wl_mpool *p)
{
	uint32_t h = m->hr_head;

	m->hr_head = rec(p, h)->next;
	if (m->hr_head == WL_MATCH_NIL)
		m->hr_tail = WL_MATCH_NIL;
	m->n_hr--;
	return h;
}

/* The oldest request without a response, or NIL. */
static uint32_t
first_unanswered(const struct wl_match *m, struct wl_mpool *p)
{
	uint32_t i = m->rq_head;

	while (i != WL_MATCH_NIL && rec(p, i)->answered)
		i = rec(p, i)->next;
	return i;
}

/*
 * Does every request still waiting ask for exactly one answer? Lost
 * answers (or requests) can be counted only then: a quiet one may have
 * been answered by silence.
 */
static int
countable(const struct wl_match *m, struct wl_mpool *p)
{
	uint32_t i;

	for (i = first_unanswered(m, p); i != WL_MATCH_NIL;
			i = rec(p, i)->next)
		if (rec(p, i)->expect != WL_EXPECT_ONE)
			return 0;
	return 1;
}

static uint32_t
count_from(struct wl_mpool *p, uint32_t i)
{
	uint32_t n = 0;

	for (; i != WL_MATCH_NIL; i = rec(p, i)->next)
		n++;
	return n;
}

/* ---- emission ---- */

static void
emit_free(struct wl_proto_ctx *ctx, uint32_t i)
{
	struct wl_txn *t = &rec(ctx->mpool, i)->t;

	/*
	 * Bytes in order, times not: the tap saw a message's packets out
	 * of order (a segment that came after later ones carries its late
	 * capture time), so neither end is the one that was sent.
	 */
	if ((t->req_end_ns != 0 && t->req_end_ns < t->req_start_ns) ||
			(t->rsp_start_ns != 0 && t->req_start_ns != 0 &&
			t->rsp_start_ns < t->req_start_ns) ||
			(t->rsp_end_ns != 0 && t->rsp_end_ns < t->rsp_start_ns))
		t->flags |= WL_TXN_F_REORDERED;
	wl_proto_emit(ctx, t);
	rec_put(ctx->mpool, i);
}

/* A request that gets no answer from us: why is in flags. */
static void
req_unanswered(struct wl_match *m, struct wl_proto_ctx *ctx, uint32_t i,
	uint32_t flags)
{
	struct wl_txn *t = &rec(ctx->mpool, i)->t;

	rq_unlink(m, ctx->mpool, i);
	t->flags |= flags | wl_proto_unanswered(ctx, t);
	if (flags & WL_TXN_F_UNPAIRED)
		ctx->ctr[WL_PROTO_CTR_UNPAIRED]++;
	emit_free(ctx, i);
}

/*
 * A quiet request the server answered by silence (or closed on): not a
 * transaction, counted with the messages.
 */
static void
quiet_silent(struct wl_match *m, struct wl_proto_ctx *ctx, uint32_t i)
{
	rq_unlink(m, ctx->mpool, i);
	ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
	rec_put(ctx->mpool, i);
}

/* A response that answers no request we hold. */
static void
rsp_unmatched(struct wl_proto_ctx *ctx, struct wl_txn *rsp, uint32_t flags)
{
	rsp->flags |= flags | WL_TXN_F_NO_REQUEST;
	ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
	if (flags & WL_TXN_F_UNPAIRED)
		ctx->ctr[WL_PROTO_CTR_UNPAIRED]++;
	wl_proto_emit(ctx, rsp);
}

/* The response fields of rsp into the request's transaction. */
static void
merge(struct wl_proto_ctx *ctx, struct wl_txn *req, const struct wl_txn *rsp)
{
	unsigned int k;

	req->status_class = rsp->status_class;
	req->status_code = rsp->status_code;
	wl_txn_str_copy(req, rsp, WL_TXN_S_STATUS);
	req->rsp_start_ns = rsp->rsp_start_ns;
	req->rsp_end_ns = rsp->rsp_end_ns;
	req->rsp_bytes = rsp->rsp_bytes;
	req->flags |= rsp->flags;
	if (ctx->ops != NULL && ctx->ops->txn_merge != NULL) {
		ctx->ops->txn_merge(req, rsp);
		return;
	}
	/* Both areas are the protocol's: the same size. */
	memcpy(wl_txn_area(req), wl_txn_area_c(rsp),
		RTE_MIN(req->area_q, rsp->area_q) * 8u);
	for (k = WL_TXN_S_PROTO0; k < WL_TXN_S_MAX; k++)
		if (k != WL_TXN_S_STATUS && (req->slen[k] | rsp->slen[k]) != 0)
			wl_txn_str_copy(req, rsp, k);
}

/* Request i gets response rsp; emitted once both are complete. */
static void
answer(struct wl_match *m, struct wl_proto_ctx *ctx, uint32_t i,
	const struct wl_txn *rsp)
{
	struct wl_mrec *r = rec(ctx->mpool, i);

	merge(ctx, &r->t, rsp);
	r->answered = 1;
	if (r->done) {
		rq_unlink(m, ctx->mpool, i);
		emit_free(ctx, i);
	}
}

/* ---- proof ---- */

/*
 * C1 and C2 (wl_match.h), and the protocol's own rules (ops->rsp_fits):
 * may the response rsp, at (off, ack), answer r? Unknown positions
 * (UINT64_MAX) prove nothing either way.
 */
static int
consistent(const struct wl_proto_ctx *ctx, const struct wl_mrec *r,
	uint64_t off, uint64_t ack, const struct wl_txn *rsp)
{
	if (ack != UINT64_MAX && r->off >= ack)
		return 0;
	if (r->peer_ack != UINT64_MAX && off != UINT64_MAX &&
			r->peer_ack > off)
		return 0;
	if (rsp != NULL && ctx->ops != NULL && ctx->ops->rsp_fits != NULL &&
			!ctx->ops->rsp_fits(&r->t, rsp))
		return 0;
	return 1;
}

/*
 * Each open hole hides an unknown number of messages of its side. A
 * hypothesis gives each its count; the requests (seen ones and lost
 * ones, in order) then pair with the responses (held ones and lost
 * ones) one by one, and it is feasible when every pair passes C1/C2 as
 * far as positions are known. The solver walks every feasible
 * hypothesis up to the last held response, depth first, branching only
 * at holes; what all of them pair alike, from the start, is proven.
 *
 * A lost request answered by a lost response changes no other pair: of
 * hypotheses that differ only by such pairs, the walk keeps the one
 * with the fewest (it never adds one when both holes' counts are above
 * their least), so the rest need not be walked.
 */

/*
 * Where a walk is, per side (enum wl_dir: requests, responses): the
 * next seen message (u[] or h[] index), lost ones still due from the
 * hole reached last, the next hole (hs[] index); n pairs so far, dis
 * where the path first differs from the first hypothesis (UINT32_MAX:
 * not yet).
 */
struct wl_wpos {
	uint32_t i[2];
	int32_t lost[2];
	uint32_t h[2];
	uint32_t n;
	uint32_t dis;
};

/* Does message number seq of hole x's side come after it? */
static inline int
after_hole(const struct wl_hole *x, uint32_t seq)
{
	return (int32_t)(seq - x->at) >= 0;
}

/* An id in a pairing: an index into the solver's u[] or h[], or a
 * message lost in hole j. */
#define LOST(j) (0x80000000u | (uint32_t)(j))
#define IS_LOST(x) (((x) & 0x80000000u) != 0)
#define HOLE_OF(x) ((x) & 0xffu)

/*
 * Pair i of the path as hypotheses are compared: at the end, which hole
 * a lost message was in, and lost pairs, no longer matter (0: skip it).
 */
static int
pair_at(const struct wl_solver *s, uint32_t i, struct wl_mpair *x)
{
	*x = s->path[i];
	if (!s->close)
		return 1;
	if (IS_LOST(x->rq) && IS_LOST(x->rs))
		return 0;
	if (IS_LOST(x->rq))
		x->rq = LOST(0);
	if (IS_LOST(x->rs))
		x->rs = LOST(0);
	return 1;
}

/* A path that used every held response: pairs path[0..n). */
static void
leaf(struct wl_solver *s, const struct wl_wpos *w)
{
	const struct wl_match *m = s->m;
	struct wl_mpair x;
	uint32_t i, k, j, n = w->n;

	if (s->close) {
		/* Every request answered, every hole's count spent. */
		if (w->i[WL_DIR_C2S] != s->nseen[WL_DIR_C2S] ||
				w->lost[WL_DIR_C2S] != 0)
			return;
		for (j = w->h[WL_DIR_C2S]; j < s->n_hs[WL_DIR_C2S]; j++)
			if (m->hole[s->hs[WL_DIR_C2S][j]].lo > 0)
				return;
	}
	if (s->leaves++ == 0) {
		for (i = 0, k = 0; i < n; i++)
			if (pair_at(s, i, &x))
				s->first[k++] = x;
		s->nfirst = k;
		s->common = k;
		return;
	}
	for (i = 0, k = 0; i < n && k < s->common; i++) {
		if (!pair_at(s, i, &x))
			continue;
		if (x.rq != s->first[k].rq || x.rs != s->first[k].rs)
			break;
		k++;
	}
	/* At the end, more pairs than the first: not the same pairing. */
	for (; s->close && k == s->common && i < n; i++)
		if (pair_at(s, i, &x))
			k = 0;
	s->common = k;
}

/* May request rq (u[] index or lost) answer with response rs? */
static int
pair_ok(const struct wl_solver *s, uint32_t rq, uint32_t rs)
{
	const struct wl_match *m = s->m;
	struct wl_mpool *p = s->ctx->mpool;
	const struct wl_mrec *r = IS_LOST(rq) ? NULL : rec(p, s->u[rq]);
	const struct wl_mrec *h = IS_LOST(rs) ? NULL : rec(p, s->h[rs]);

	if (r != NULL && r->expect != WL_EXPECT_ONE)
		return 0;       /* answers or silence: cannot be counted */
	if (r != NULL && h != NULL)
		return consistent(s->ctx, r, h->off, h->peer_ack, &h->t);
	if (h != NULL) {
		/* A lost request: sent after the one before the hole, and
		 * received (in part) before its answer. */
		const struct wl_hole *j = &m->hole[HOLE_OF(rq)];

		return !(h->peer_ack != UINT64_MAX && j->gap_a >= h->peer_ack) &&
			!(h->off != UINT64_MAX && j->ack_lo > h->off);
	}
	/* A lost response began inside its hole, after its request was
	 * sent, and was sent after its request was received: before the
	 * first response after the hole, whose ACK bounds its own. (That
	 * response's own C1 implies it further on: this cuts the walk
	 * short.) */
	if (r != NULL)
		return !(r->peer_ack != UINT64_MAX &&
			r->peer_ack > m->hole[HOLE_OF(rs)].gap_b) &&
			r->off < s->ack_hi[HOLE_OF(rs)];
	return m->hole[HOLE_OF(rq)].ack_lo <= m->hole[HOLE_OF(rs)].gap_b &&
		m->hole[HOLE_OF(rq)].gap_a < s->ack_hi[HOLE_OF(rs)];
}

static void walk(struct wl_solver *s, struct wl_wpos w);

/*
 * Pair rq with rs at path[w->n]. @return 0 when the path ends here:
 * infeasible, too long, or alike where all so far are (it can prove
 * nothing less than they do).
 */
static int
push(struct wl_solver *s, uint32_t rq, uint32_t rs, struct wl_wpos *w)
{
	const struct wl_match *m = s->m;
	uint32_t n = w->n;

	if (++s->steps > WL_SOLVE_STEPS || n == WL_SOLVE_PATH) {
		s->stop = s->aborted = 1;
		return 0;
	}
	if (IS_LOST(rq) && IS_LOST(rs) &&
			s->v[HOLE_OF(rq)] > m->hole[HOLE_OF(rq)].lo &&
			s->v[HOLE_OF(rs)] > m->hole[HOLE_OF(rs)].lo)
		return 0;       /* one with a lost pair fewer is walked */
	if (!pair_ok(s, rq, rs))
		return 0;
	s->path[n].rq = rq;
	s->path[n].rs = rs;
	if (s->leaves > 0 && w->dis == UINT32_MAX && (n >= s->nfirst ||
			s->first[n].rq != rq || s->first[n].rs != rs))
		w->dis = n;
	w->n = ++n;
	return s->close || s->leaves == 0 || (w->dis == UINT32_MAX ?
		n < s->common : w->dis < s->common);
}

/* Is side d's next hole reached, its next seen message i? */
static int
at_hole(const struct wl_solver *s, const struct wl_wpos *w, int d)
{
	uint32_t i = w->i[d], j = w->h[d];
	const struct wl_mrec *r;

	if (j >= s->n_hs[d])
		return 0;
	if (i == s->nseen[d])   /* past the last held: only at the end */
		return d == WL_DIR_C2S || s->close;
	r = rec(s->ctx->mpool, d == WL_DIR_C2S ? s->u[i] : s->h[i]);
	return after_hole(&s->m->hole[s->hs[d][j]], r->seq);
}

/*
 * Side d's next hole reached: each count from its least on. A count one
 * more than the last extends its path by one lost message, paired with
 * the other side's next, while that is a seen one (no walk again from
 * the hole); past that, each count is walked from the hole.
 */
static void
hole(struct wl_solver *s, struct wl_wpos w, int d)
{
	const struct wl_match *m = s->m;
	int o = !d;
	uint32_t k = s->hs[d][w.h[d]], i;
	const struct wl_hole *x = &m->hole[k];
	int32_t v, c, cap = x->lo + (int32_t)(s->nseen[o] - w.i[o]) +
		w.lost[o];
	struct wl_wpos t;

	for (i = w.h[o]; i < s->n_hs[o]; i++)
		cap += m->hole[s->hs[o][i]].lo;
	cap = RTE_MIN(cap, (int32_t)x->hi);
	w.h[d]++;
	for (v = 0; v <= cap && !s->stop; v++) {
		if (v >= x->lo) {
			s->v[k] = v;
			walk(s, w);
		}
		if (v == cap || s->stop)
			return;
		if (w.lost[o] > 0 || at_hole(s, &w, o)) {
			/* The other side's next is a lost one. */
			for (c = RTE_MAX(v + 1, (int32_t)x->lo); c <= cap &&
					!s->stop; c++) {
				s->v[k] = c;
				t = w;
				t.lost[d] = c - v;
				walk(s, t);
			}
			return;
		}
		if (w.i[o] == s->nseen[o]) {
			/* Requests left without an answer: at the end none
			 * may be; else one more count stands for all. No
			 * question for one more response. */
			c = RTE_MAX(v + 1, (int32_t)x->lo);
			if (d == WL_DIR_C2S && !s->close && v < x->lo &&
					c <= cap) {
				s->v[k] = c;
				t = w;
				t.lost[d] = c - v;
				walk(s, t);
			}
			return;
		}
		s->v[k] = v + 1;
		if (!(d == WL_DIR_C2S ? push(s, LOST(k), w.i[o], &w) :
				push(s, w.i[o], LOST(k), &w)))
			return;
		w.i[o]++;
	}
}

/* The lost message due from side d's hole reached last, or seen i. */
static inline uint32_t
next_id(const struct wl_solver *s, const struct wl_wpos *w, int d)
{
	return w->lost[d] > 0 ? LOST(s->hs[d][w->h[d] - 1]) : w->i[d];
}

/* Walk on from w: pair the next request with the next response. */
static void
walk(struct wl_solver *s, struct wl_wpos w)
{
	int d;

	for (;;) {
		if (s->stop)
			return;
		/* The next response, then the request it answers: a hole's
		 * lost ones come first. */
		if (w.lost[WL_DIR_S2C] == 0 && at_hole(s, &w, WL_DIR_S2C)) {
			hole(s, w, WL_DIR_S2C);
			return;
		}
		if (w.lost[WL_DIR_S2C] == 0 &&
				w.i[WL_DIR_S2C] == s->nseen[WL_DIR_S2C]) {
			leaf(s, &w);
			/* Two pairings that differ from the first pair on:
			 * nothing can be proven now. */
			if (!s->close && s->leaves > 1 && s->common == 0)
				s->stop = 1;
			return;
		}
		if (w.lost[WL_DIR_C2S] == 0 && at_hole(s, &w, WL_DIR_C2S)) {
			hole(s, w, WL_DIR_C2S);
			return;
		}
		if (w.lost[WL_DIR_C2S] == 0 &&
				w.i[WL_DIR_C2S] == s->nseen[WL_DIR_C2S])
			return;         /* an answer to no question */
		if (!push(s, next_id(s, &w, WL_DIR_C2S),
				next_id(s, &w, WL_DIR_S2C), &w))
			return;
		for (d = 0; d < 2; d++) {
			if (w.lost[d] > 0)
				w.lost[d]--;
			else
				w.i[d]++;
		}
	}
}

/*
 * Walk every hypothesis (close: the flow ended cleanly, so every request
 * has its answer). @return 0, or -E2BIG when the walk was cut short
 * (too much to walk: nothing proven), -ENOENT when none is feasible.
 */
static int
solve(struct wl_match *m, const struct wl_proto_ctx *ctx, int close)
{
	struct wl_mpool *p = ctx->mpool;
	struct wl_solver *s = &p->sv;
	struct wl_wpos w = { { 0, 0 }, { 0, 0 }, { 0, 0 }, 0, 0 };
	uint32_t i;

	memset(s, 0, offsetof(struct wl_solver, u));
	s->m = m;
	s->ctx = ctx;
	s->close = close;
	for (i = first_unanswered(m, p); i != WL_MATCH_NIL;
			i = rec(p, i)->next) {
		if (s->nseen[WL_DIR_C2S] == WL_SOLVE_U)
			return -E2BIG;
		s->u[s->nseen[WL_DIR_C2S]++] = i;
	}
	for (i = m->hr_head; i != WL_MATCH_NIL; i = rec(p, i)->next)
		s->h[s->nseen[WL_DIR_S2C]++] = i;
	for (i = 0; i < m->n_holes; i++) {
		const struct wl_hole *x = &m->hole[i];
		uint32_t k;

		s->hs[x->side][s->n_hs[x->side]++] = (uint8_t)i;
		if (x->side == WL_DIR_C2S)
			continue;
		s->ack_hi[i] = UINT64_MAX;
		for (k = 0; k < s->nseen[WL_DIR_S2C]; k++)
			if (after_hole(x, rec(p, s->h[k])->seq)) {
				s->ack_hi[i] = rec(p, s->h[k])->peer_ack;
				break;
			}
	}
	w.dis = UINT32_MAX;
	walk(s, w);
	if (s->aborted)
		return -E2BIG;
	return s->leaves == 0 ? -ENOENT : 0;
}

static void
hole_drop(struct wl_match *m, uint32_t i)
{
	memmove(&m->hole[i], &m->hole[i + 1],
		sizeof(m->hole[0]) * (m->n_holes - i - 1));
	m->n_holes--;
}

/*
 * The first np pairs of the solver's first hypothesis are proven: emit
 * them, and count off what they took from each hole. A hole passed (a
 * message seen after it is paired) is settled.
 */
static void
apply(struct wl_match *m, struct wl_proto_ctx *ctx, uint32_t np)
{
	struct wl_mpool *p = ctx->mpool;
	struct wl_solver *s = &p->sv;
	int32_t took[WL_MATCH_HOLES] = { 0 };
	uint8_t passed[WL_MATCH_HOLES] = { 0 };
	uint32_t k, j;

	for (k = 0; k < np; k++) {
		struct wl_mpair x = s->first[k];
		uint32_t seq, side, h;

		if (IS_LOST(x.rq))
			took[HOLE_OF(x.rq)]++;
		if (IS_LOST(x.rs))
			took[HOLE_OF(x.rs)]++;
		for (j = 0; j < m->n_holes; j++) {
			side = m->hole[j].side;
			if (side == WL_DIR_C2S && !IS_LOST(x.rq))
				seq = rec(p, s->u[x.rq])->seq;
			else if (side == WL_DIR_S2C && !IS_LOST(x.rs))
				seq = rec(p, s->h[x.rs])->seq;
			else
				continue;
			if (after_hole(&m->hole[j], seq))
				passed[j] = 1;
		}
		if (IS_LOST(x.rs)) {
			if (!IS_LOST(x.rq))     /* its answer was lost */
				req_unanswered(m, ctx, s->u[x.rq], WL_TXN_F_GAP);
			continue;
		}
		/* Held responses are paired in order: this is the first. */
		h = hr_pop(m, p);
		if (IS_LOST(x.rq))      /* proven: it answers a lost request */
			rsp_unmatched(ctx, &rec(p, h)->t, WL_TXN_F_GAP);
		else
			answer(m, ctx, s->u[x.rq], &rec(p, h)->t);
		rec_put(p, h);
	}
	for (j = m->n_holes; j-- > 0;) {
		struct wl_hole *x = &m->hole[j];

		if (s->close || passed[j] || x->hi - took[j] <= 0) {
			ctx->ctr[WL_PROTO_CTR_LOSS_RESOLVED]++;
			hole_drop(m, j);
			continue;
		}
		x->lo = (int16_t)RTE_MAX(x->lo - took[j], 0);
		x->hi = (int16_t)(x->hi - took[j]);
	}
}

static void give_up(struct wl_match *m, struct wl_proto_ctx *ctx);

/* Emit what every feasible hypothesis pairs alike. */
static void
holes_try(struct wl_match *m, struct wl_proto_ctx *ctx)
{
	struct wl_solver *s = &ctx->mpool->sv;
	int rc;

	while (m->n_holes > 0 || m->n_hr > 0) {
		rc = solve(m, ctx, 0);
		if (rc == -ENOENT) {
			give_up(m, ctx);
			return;
		}
		if (rc != 0 || s->common == 0)
			return;
		apply(m, ctx, s->common);
		if (m->n_holes > 0)
			return;
		/* Every hole passed: what is still held pairs in order. */
	}
}

/*
 * What is held cannot be proven: say so for every held answer and every
 * complete request waiting, and go on blind: one client-side hole before
 * the first request still waiting, of unknown count (answers still due
 * to questions already reported), that only a clean close can settle.
 */
static void
give_up(struct wl_match *m, struct wl_proto_ctx *ctx)
{
	struct wl_mpool *p = ctx->mpool;
	struct wl_hole *x = &m->hole[0];
	uint32_t h;

	ctx->ctr[WL_PROTO_CTR_LOSS_UNRESOLVED]++;
	while (m->n_hr > 0) {
		h = hr_pop(m, p);
		rsp_unmatched(ctx, &rec(p, h)->t, WL_TXN_F_UNPAIRED |
			(m->overflow ? WL_TXN_F_OVERFLOW : 0));
		rec_put(p, h);
	}
	while ((h = first_unanswered(m, p)) != WL_MATCH_NIL &&
			rec(p, h)->done)
		req_unanswered(m, ctx, h, WL_TXN_F_UNPAIRED |
			(m->overflow ? WL_TXN_F_OVERFLOW : 0));
	m->n_ovf = 0;
	memset(x, 0, sizeof(*x));
	x->side = WL_DIR_C2S;
	x->at = h != WL_MATCH_NIL ? rec(p, h)->seq : m->req_seq;
	x->hi = HOLD_MAX;
	m->n_holes = 1;
}

/* Must a response now wait for a hole to be settled? */
static int
must_hold(const struct wl_match *m, struct wl_mpool *p)
{
	uint32_t q, i;

	if (m->n_hr > 0)
		return 1;       /* after those held */
	if (m->n_holes == 0)
		return 0;
	q = first_unanswered(m, p);
	if (q == WL_MATCH_NIL)
		return 1;
	for (i = 0; i < m->n_holes; i++)
		if (m->hole[i].side == WL_DIR_S2C ||
				after_hole(&m->hole[i], rec(p, q)->seq))
			return 1;
	return 0;
}

/* ---- API ---- */

void
wl_match_init(struct wl_match *m, const struct wl_proto_ctx *ctx,
	int unsolicited)
{
	memset(m, 0, sizeof(*m));
	m->rq_head = m->rq_tail = WL_MATCH_NIL;
	m->hr_head = m->hr_tail = WL_MATCH_NIL;
	m->unsolicited = (uint8_t)(unsolicited != 0);
	if (ctx->midstream) {
		/* Questions asked before we looked may be answered after:
		 * how many is the unknown of a client-side hole. */
		m->hole[0].side = WL_DIR_C2S;
		m->hole[0].hi = HOLD_MAX;
		m->n_holes = 1;
	}
	/* (Server bytes missed before: sent before any request seen, so
	 * they answer none of them; a protocol that skips server bytes
	 * after them says so with wl_match_gap().) */
}

void
wl_match_start(struct wl_match *m, int dir)
{
	uint32_t i, n = dir == WL_DIR_C2S ? m->req_seq : m->rsp_seq;

	if (n != 0)
		return;
	for (i = 0; i < m->n_holes; i++)
		if (m->hole[i].side == dir && m->hole[i].at == 0)
			break;
	if (i == m->n_holes)
		return;
	memmove(&m->hole[i], &m->hole[i + 1],
		(m->n_holes - i - 1) * sizeof(m->hole[0]));
	m->n_holes--;
}

void
wl_match_init_keyed(struct wl_match *m)
{
	memset(m, 0, sizeof(*m));
	m->rq_head = m->rq_tail = WL_MATCH_NIL;
	m->hr_head = m->hr_tail = WL_MATCH_NIL;
}

struct wl_mrec *
wl_match_next(struct wl_match *m, struct wl_proto_ctx *ctx,
	const struct wl_mrec *r)
{
	uint32_t i = r == NULL ? m->rq_head : r->next;

	return i == WL_MATCH_NIL ? NULL : rec(ctx->mpool, i);
}

void
wl_match_answer(struct wl_match *m, struct wl_proto_ctx *ctx,
	struct wl_mrec *r, const struct wl_txn *rsp)
{
	answer(m, ctx, (uint32_t)(r - ctx->mpool->rec), rsp);
}

void
wl_match_drop(struct wl_match *m, struct wl_proto_ctx *ctx,
	struct wl_mrec *r, uint32_t flags)
{
	req_unanswered(m, ctx, (uint32_t)(r - ctx->mpool->rec), flags);
}

struct wl_mrec *
wl_match_req_add(struct wl_match *m, struct wl_proto_ctx *ctx,
	const struct wl_stream_pos *at, uint64_t start_ts)
{
	struct wl_mpool *p = ctx->mpool;
	struct wl_mrec *r;
	uint32_t i;

	m->quit = 0;            /* a request after the close's */
	i = rec_get(p);
	if (i == WL_MATCH_NIL) {
		/* No record: its answer must still not go to the next
		 * request. Runs of such requests are remembered by number;
		 * beyond WL_MATCH_OVF runs, or with a hole open, pairing
		 * stops. */
		uint32_t k = m->n_ovf;

		ctx->ctr[WL_PROTO_CTR_PENDING_OVERFLOW]++;
		m->overflow = 1;
		if (m->n_holes > 0) {
			/* Its answer is one of the holes' unknowns, whose
			 * count no longer adds up: start blind. */
			give_up(m, ctx);
		} else if (k > 0 && m->ovf_seq[k - 1] + m->ovf_n[k - 1] ==
				m->req_seq) {
			m->ovf_n[k - 1]++;
		} else if (k < WL_MATCH_OVF) {
			m->ovf_seq[k] = m->req_seq;
			m->ovf_n[k] = 1;
			m->n_ovf++;
		} else {
			give_up(m, ctx);
		}
		m->req_seq++;
		return NULL;
	}
	r = rec(p, i);
	memset(r, 0, offsetof(struct wl_mrec, t));
	wl_proto_txn_init(ctx, &r->t);
	r->t.kind = WL_TXN_KIND_TXN;
	r->t.req_start_ns = start_ts;
	r->t.req_end_ns = start_ts;
	r->seq = m->req_seq++;
	r->off = at->off;
	r->peer_ack = at->peer_ack;
	r->expect = WL_EXPECT_ONE;
	append(p, &m->rq_head, &m->rq_tail, i);
	m->n_rq++;
	return r;
}

struct wl_mrec *
wl_match_req_open(struct wl_match *m, struct wl_proto_ctx *ctx)
{
	if (m->rq_tail == WL_MATCH_NIL || rec(ctx->mpool, m->rq_tail)->done)
		return NULL;
	return rec(ctx->mpool, m->rq_tail);
}

void
wl_match_req_end(struct wl_match *m, struct wl_proto_ctx *ctx,
	struct wl_mrec *r, uint64_t ts, uint64_t bytes, int done)
{
	struct wl_mpool *p = ctx->mpool;
	uint32_t i = (uint32_t)(r - p->rec);

	r->t.req_end_ns = ts;
	r->t.req_bytes = bytes;
	if (!done || r->done)
		return;
	r->done = 1;
	if (r->answered) {
		rq_unlink(m, p, i);
		emit_free(ctx, i);
	}
}

/*
 * Quiet requests from q on, then the first request that must be
 * answered: the response answers the first of them it fits (those
 * before were answered by silence). It is proven only when it fits one
 * of them alone; fitting several quiet ones, it answers one of them
 * (which, unknown: the others stay candidates); fitting a quiet one and
 * the next loud one, whether that one is answered is unknown.
 */
static uint32_t
quiet_target(const struct wl_match *m, const struct wl_proto_ctx *ctx,
	uint32_t q, const struct wl_stream_pos *at, const struct wl_txn *rsp)
{
	struct wl_mpool *p = ctx->mpool;
	uint32_t i, first = WL_MATCH_NIL, n = 0;

	(void)m;
	for (i = q; i != WL_MATCH_NIL; i = rec(p, i)->next) {
		if (consistent(ctx, rec(p, i), at->off, at->peer_ack, rsp)) {
			if (n++ == 0)
				first = i;
			else if (rec(p, i)->expect == WL_EXPECT_ONE)
				return CUR_LOST;
		}
		if (rec(p, i)->expect == WL_EXPECT_ONE)
			break;
	}
	return n == 0 ? CUR_NONE : n == 1 ? first : CUR_AMBIG;
}

/* What a response at `at` answers, as far as is known now. */
static uint32_t
rsp_target(struct wl_match *m, const struct wl_proto_ctx *ctx,
	const struct wl_stream_pos *at, const struct wl_txn *rsp)
{
	struct wl_mpool *p = ctx->mpool;
	uint32_t q;

	if (must_hold(m, p))
		return CUR_HELD;
	q = first_unanswered(m, p);
	/* A request that found no record comes before q: this answer is
	 * its. */
	if (m->n_ovf > 0 && (q == WL_MATCH_NIL ||
			(int32_t)(m->ovf_seq[0] - rec(p, q)->seq) < 0))
		return CUR_OVF;
	if (q != WL_MATCH_NIL && rec(p, q)->expect == WL_EXPECT_MAYBE)
		return quiet_target(m, ctx, q, at, rsp);
	if (q == WL_MATCH_NIL || !consistent(ctx, rec(p, q), at->off,
			at->peer_ack, rsp))
		return CUR_NONE;        /* it answers a request never seen */
	return q;
}

struct wl_mrec *
wl_match_rsp_peek(struct wl_match *m, struct wl_proto_ctx *ctx,
	const struct wl_stream_pos *at)
{
	uint32_t q = rsp_target(m, ctx, at, NULL);

	return q < CUR_OVF ? rec(ctx->mpool, q) : NULL;
}

void
wl_match_rsp(struct wl_match *m, struct wl_proto_ctx *ctx,
	const struct wl_stream_pos *at, uint64_t start_ts,
	struct wl_txn *rsp, uint64_t end_ts, enum wl_rsp_end how)
{
	struct wl_mpool *p = ctx->mpool;
	uint32_t q, h, seq = m->rsp_seq++;

	rsp->kind = WL_TXN_KIND_TXN;
	rsp->rsp_start_ns = start_ts;
	rsp->rsp_end_ns = how == WL_RSP_COMPLETE ? end_ts : 0;
	q = rsp_target(m, ctx, at, rsp);
	if (how == WL_RSP_END_LOST)
		rsp->flags |= WL_TXN_F_GAP;
	else if (how == WL_RSP_CUT)
		rsp->flags |= WL_TXN_F_TRUNCATED;
	ctx->ctr[WL_PROTO_CTR_RESPONSES]++;
	switch (q) {
	case CUR_NONE:
		rsp_unmatched(ctx, rsp, 0);
		return;
	case CUR_OVF:
		/* The answer of a request that had no record. */
		rsp_unmatched(ctx, rsp, WL_TXN_F_OVERFLOW);
		m->ovf_seq[0]++;
		if (--m->ovf_n[0] == 0) {
			memmove(m->ovf_seq, m->ovf_seq + 1,
				sizeof(m->ovf_seq[0]) * (WL_MATCH_OVF - 1));
			memmove(m->ovf_n, m->ovf_n + 1,
				sizeof(m->ovf_n[0]) * (WL_MATCH_OVF - 1));
			m->n_ovf--;
		}
		return;
	case CUR_AMBIG:
		rsp_unmatched(ctx, rsp, WL_TXN_F_UNPAIRED);
		return;
	case CUR_LOST:
		give_up(m, ctx);
		rsp_unmatched(ctx, rsp, WL_TXN_F_UNPAIRED);
		return;
	case CUR_HELD:
		h = m->n_hr < HOLD_MAX ? rec_get(p) : WL_MATCH_NIL;
		if (h == WL_MATCH_NIL) {
			/* No room to hold more: what is held, and this,
			 * go unproven; blind from here. */
			give_up(m, ctx);
			rsp_unmatched(ctx, rsp, WL_TXN_F_UNPAIRED);
			return;
		}
		memset(rec(p, h), 0, offsetof(struct wl_mrec, t));
		rec(p, h)->seq = seq;
		wl_txn_copy(&rec(p, h)->t, rsp);
		rec(p, h)->off = at->off;
		rec(p, h)->peer_ack = at->peer_ack;
		append(p, &m->hr_head, &m->hr_tail, h);
		m->n_hr++;
		holes_try(m, ctx);
		return;
	default:
		/* Quiet requests before q were answered by silence. */
		while ((h = first_unanswered(m, p)) != q)
			quiet_silent(m, ctx, h);
		answer(m, ctx, q, rsp);
		return;
	}
}

void
wl_match_gap(struct wl_match *m, struct wl_proto_ctx *ctx, int dir,
	uint64_t len, enum wl_gap_kind kind)
{
	struct wl_mpool *p = ctx->mpool;
	struct wl_hole *x;
	uint32_t at, i;
	int16_t lo;

	if (kind == WL_GAP_INSIDE)
		return;
	if (m->n_ovf > 0 || !countable(m, p)) {
		/* Answers or silence, or answers to requests without a
		 * record: lost ones cannot be counted. */
		give_up(m, ctx);
		return;
	}
	/* A message started in the lost bytes unless one was under way
	 * (the protocol ended it, its end unknown) or, server side, the
	 * server may send unasked ones. */
	lo = kind == WL_GAP_IN_MSG || (dir == WL_DIR_S2C && m->unsolicited) ?
		0 : 1;
	at = dir == WL_DIR_C2S ? m->req_seq : m->rsp_seq;
	for (i = m->n_holes; i-- > 0;) {
		x = &m->hole[i];
		if (x->side != dir)
			continue;
		if (x->at == at) {
			/* No message between: one hole, the counts add. */
			x->gap_b = ctx->pos.off + len;
			x->lo = (int16_t)RTE_MIN(x->lo + lo, HOLD_MAX);
			x->hi = HOLD_MAX;
			return;
		}
		break;
	}
	if (m->n_holes == WL_MATCH_HOLES) {
		/* Too many unknowns at once: blind from here. */
		give_up(m, ctx);
		return;
	}
	if (dir == WL_DIR_S2C && lo > (int32_t)count_from(p,
			first_unanswered(m, p))) {
		for (i = 0; i < m->n_holes; i++)
			if (m->hole[i].side == WL_DIR_C2S)
				break;
		if (i == m->n_holes) {
			/* More lost answers than requests: theirs were
			 * lost too, unseen. */
			give_up(m, ctx);
			return;
		}
	}
	x = &m->hole[m->n_holes++];
	memset(x, 0, sizeof(*x));
	x->side = (uint8_t)dir;
	x->at = at;
	x->lo = lo;
	x->hi = HOLD_MAX;
	x->gap_a = ctx->pos.off;
	x->gap_b = ctx->pos.off + len;
	if (dir == WL_DIR_C2S && m->rq_tail != WL_MATCH_NIL)
		x->ack_lo = rec(p, m->rq_tail)->peer_ack;
}

void
wl_match_give_up(struct wl_match *m, struct wl_proto_ctx *ctx)
{
	give_up(m, ctx);
}

void
wl_match_quit(struct wl_match *m)
{
	m->quit = 1;
}

int
wl_match_clean_close(const struct wl_match *m, const struct wl_proto_ctx *ctx)
{
	/* The server reads requests in order and answers each before the
	 * next: having read the one asking it to close, it answered all
	 * before. */
	return ctx->close_clean || (m->quit && ctx->close_srv_first);
}

void
wl_match_close(struct wl_match *m, struct wl_proto_ctx *ctx, uint32_t flags,
	uint64_t ts)
{
	struct wl_mpool *p = ctx->mpool;
	uint32_t i, once = 1;

	(void)ts;
	if (m->n_holes > 0 || m->n_hr > 0) {
		/* Clean close: every request had exactly one answer, so
		 * the answers add up to the requests. */
		int32_t nu = 0, k;

		for (i = first_unanswered(m, p); i != WL_MATCH_NIL;
				i = rec(p, i)->next) {
			once &= rec(p, i)->expect == WL_EXPECT_ONE &&
				rec(p, i)->done;
			nu += !rec(p, i)->answered;
		}
		/* One hole: the count is what makes them add up (a long
		 * blind connection is then one walk, not one per count). */
		if (m->n_holes == 1 && !(m->hole[0].side == WL_DIR_S2C &&
				m->unsolicited)) {
			struct wl_hole *x = &m->hole[0];

			k = x->side == WL_DIR_C2S ? (int32_t)m->n_hr - nu :
				nu - (int32_t)m->n_hr;
			if (k >= x->lo && k <= x->hi)
				x->lo = x->hi = (int16_t)k;
		}
		if (wl_match_clean_close(m, ctx) && once &&
				solve(m, ctx, 1) == 0 &&
				p->sv.common == p->sv.nfirst)
			apply(m, ctx, p->sv.nfirst);
		else
			give_up(m, ctx);
	}
	/* Answered but incomplete requests end here. */
	while ((i = m->rq_head) != WL_MATCH_NIL) {
		struct wl_mrec *r = rec(p, i);

		if (r->answered) {
			r->t.flags |= flags;
			rq_unlink(m, p, i);
			emit_free(ctx, i);
		} else if (r->expect == WL_EXPECT_MAYBE && r->done) {
			quiet_silent(m, ctx, i);
		} else {
			req_unanswered(m, ctx, i, flags);
		}
	}
}
