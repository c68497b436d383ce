/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The request/response matcher (wl_match.h). It lives in lib/proto, not
 * lib/txn, because it counts and emits through the protocol context.
 *
 * Invariants: a flow's requests sit in rq in arrival order; those with
 * a response attached (answered) precede all unanswered ones, because
 * responses are given out in order. Outside an epoch, hr is empty. In a
 * server-side epoch the held responses hr[n] answer the unanswered
 * requests U[n + u] for one unknown u in [lo, hi] (u answers lost);
 * in a client-side epoch, hr[n] answers a lost request for n < c and
 * U[n - c] after, for one unknown c in [lo, hi] (c requests lost). A
 * record is owned by exactly one list; a request's stays in rq until it
 * is emitted.
 */

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "wl_match.h"
#include "wl_proto.h"

/* Responses held in one epoch before pairing is given up on. */
#define HOLD_MAX 512

/* What a response answers, besides a request (rsp_target()). */
#define CUR_NONE (WL_MATCH_NIL - 1)     /* unmatched: no request */
#define CUR_HELD (WL_MATCH_NIL - 2)     /* an epoch is open: held */
#define CUR_OVF (WL_MATCH_NIL - 3)      /* a request without a record */
#define CUR_AMBIG (WL_MATCH_NIL - 4)    /* one of several quiet ones */
#define CUR_LOST (WL_MATCH_NIL - 5)     /* quiet ones or the next: unknown */

/* enum of struct wl_match epoch */
enum wl_epoch {
	EP_NONE = 0,
	EP_SERVER = 1,          /* responses lost: unknown u */
	EP_CLIENT = 2,          /* requests lost: unknown c */
};

struct wl_mpool {
	uint32_t n;
	uint32_t free;
	uint32_t used;
	uint32_t rsvd;
	struct wl_mrec rec[];
};

/* ---- pool ---- */

struct wl_mpool *
wl_mpool_create(uint32_t n, int socket)
{
	struct wl_mpool *p;
	uint32_t i;

	if (n == 0 || n >= WL_MATCH_NIL - 8) {
		rte_errno = EINVAL;
		return NULL;
	}
	p = rte_zmalloc_socket("wl_mpool", sizeof(*p) +
		(size_t)n * sizeof(struct wl_mrec), RTE_CACHE_LINE_SIZE,
		socket);
	if (p == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	p->n = n;
	p->free = WL_MATCH_NIL;
	for (i = n; i-- > 0;) {
		p->rec[i].next = p->free;
		p->free = i;
	}
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

	if (i == WL_MATCH_NIL)
		return i;
	p->free = p->rec[i].next;
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
	wl_proto_emit(ctx, &rec(ctx->mpool, i)->t);
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
	req->status_class = rsp->status_class;
	req->status_code = rsp->status_code;
	memcpy(req->status, rsp->status, sizeof(req->status));
	req->rsp_start_ns = rsp->rsp_start_ns;
	req->rsp_end_ns = rsp->rsp_end_ns;
	req->rsp_bytes = rsp->rsp_bytes;
	req->flags |= rsp->flags;
	if (ctx->ops != NULL && ctx->ops->txn_merge != NULL)
		ctx->ops->txn_merge(req, rsp);
	else
		memcpy(req->proto_area, rsp->proto_area,
			sizeof(req->proto_area));
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
 * Does value v of the epoch's unknown fit every held response? Counting
 * needs one answer per request: a quiet request (WL_EXPECT_MAYBE) in
 * the way fits no value.
 */
static int
fits(const struct wl_match *m, const struct wl_proto_ctx *ctx, int32_t v)
{
	struct wl_mpool *p = ctx->mpool;
	uint32_t u0 = first_unanswered(m, p), h = m->hr_head, i, n;

	if (!countable(m, p))
		return 0;

	if (m->epoch == EP_SERVER) {
		/* Lost answers go to U[0..v-1]: each began inside the lost
		 * region, after its request was sent. */
		for (i = u0, n = 0; n < (uint32_t)v; n++, i = rec(p, i)->next) {
			if (i == WL_MATCH_NIL)
				return 0;
			if (rec(p, i)->peer_ack != UINT64_MAX &&
					rec(p, i)->peer_ack > m->gap_b)
				return 0;
		}
		for (; h != WL_MATCH_NIL; h = rec(p, h)->next) {
			if (i == WL_MATCH_NIL || !consistent(ctx, rec(p, i),
					rec(p, h)->off, rec(p, h)->peer_ack,
					&rec(p, h)->t))
				return 0;
			i = rec(p, i)->next;
		}
		return 1;
	}
	/* Client side: the first v held answer lost requests, sent after
	 * the request before the hole and received in part by then. */
	for (n = 0, i = u0; h != WL_MATCH_NIL; h = rec(p, h)->next, n++) {
		const struct wl_mrec *s = rec(p, h);

		if (n < (uint32_t)v) {
			if ((s->peer_ack != UINT64_MAX && m->gap_a >= s->peer_ack) ||
					(s->off != UINT64_MAX &&
					m->hole_ack_lo != UINT64_MAX &&
					m->hole_ack_lo > s->off))
				return 0;
			continue;
		}
		if (i == WL_MATCH_NIL || !consistent(ctx, rec(p, i), s->off,
				s->peer_ack, &s->t))
			return 0;
		i = rec(p, i)->next;
	}
	return 1;
}

static void epoch_give_up(struct wl_match *m, struct wl_proto_ctx *ctx);

/* The unknown is v: emit what it settles, close the epoch. */
static void
epoch_apply(struct wl_match *m, struct wl_proto_ctx *ctx, int32_t v)
{
	struct wl_mpool *p = ctx->mpool;
	uint32_t h, n;

	ctx->ctr[WL_PROTO_CTR_LOSS_RESOLVED]++;
	if (m->epoch == EP_SERVER) {
		/* Their answers were in the lost bytes. */
		for (n = 0; n < (uint32_t)v; n++)
			req_unanswered(m, ctx, first_unanswered(m, p),
				WL_TXN_F_GAP);
	}
	n = 0;
	while ((h = m->hr_head) != WL_MATCH_NIL) {
		m->hr_head = rec(p, h)->next;
		m->n_hr--;
		if (m->epoch == EP_CLIENT && n < (uint32_t)v) {
			/* Proven: it answers a request the tap lost. */
			rsp_unmatched(ctx, &rec(p, h)->t, WL_TXN_F_GAP);
		} else {
			answer(m, ctx, first_unanswered(m, p), &rec(p, h)->t);
		}
		rec_put(p, h);
		n++;
	}
	m->hr_tail = WL_MATCH_NIL;
	m->epoch = EP_NONE;
}

/*
 * Try to settle the epoch on what is held: one value of the unknown
 * fits, or (client side) every held response answers a lost request
 * whatever the value.
 */
static void
epoch_try(struct wl_match *m, struct wl_proto_ctx *ctx)
{
	struct wl_mpool *p = ctx->mpool;
	int32_t v, found = -1, hi = m->hi, nfit = 0;

	if (m->epoch == EP_CLIENT && hi > (int32_t)m->n_hr)
		hi = (int32_t)m->n_hr;  /* c >= held: one case */
	if (m->epoch == EP_SERVER) {
		/* No more lost answers than requests unanswered. */
		int32_t nu = (int32_t)count_from(p, first_unanswered(m, p));

		if (hi > nu)
			hi = nu;
	}
	for (v = m->lo; v <= hi; v++) {
		if (fits(m, ctx, v)) {
			nfit++;
			found = v;
		}
	}
	if (nfit == 0) {
		epoch_give_up(m, ctx);
		return;
	}
	if (nfit > 1)
		return;
	if (m->epoch == EP_CLIENT && found == (int32_t)m->n_hr &&
			m->hi > found) {
		/* All held answer lost requests; more may be lost still. */
		uint32_t h;

		while ((h = m->hr_head) != WL_MATCH_NIL) {
			m->hr_head = rec(p, h)->next;
			m->n_hr--;
			rsp_unmatched(ctx, &rec(p, h)->t, WL_TXN_F_GAP);
			rec_put(p, h);
		}
		m->hr_tail = WL_MATCH_NIL;
		m->lo = 0;
		m->hi -= found;
		return;
	}
	epoch_apply(m, ctx, found);
}

/*
 * What is held cannot be proven: say so for every held answer and every
 * complete request waiting, and go on blind: a client-side epoch whose
 * unknown (answers still due to questions already reported) only a
 * clean close can settle.
 */
static void
epoch_give_up(struct wl_match *m, struct wl_proto_ctx *ctx)
{
	struct wl_mpool *p = ctx->mpool;
	uint32_t h;

	ctx->ctr[WL_PROTO_CTR_LOSS_UNRESOLVED]++;
	while ((h = m->hr_head) != WL_MATCH_NIL) {
		m->hr_head = rec(p, h)->next;
		m->n_hr--;
		rsp_unmatched(ctx, &rec(p, h)->t, WL_TXN_F_UNPAIRED |
			(m->overflow ? WL_TXN_F_OVERFLOW : 0));
		rec_put(p, h);
	}
	m->hr_tail = WL_MATCH_NIL;
	while ((h = first_unanswered(m, p)) != WL_MATCH_NIL &&
			rec(p, h)->done)
		req_unanswered(m, ctx, h, WL_TXN_F_UNPAIRED |
			(m->overflow ? WL_TXN_F_OVERFLOW : 0));
	m->n_ovf = 0;
	m->epoch = EP_CLIENT;
	m->hole_at = 0;
	m->lo = 0;
	m->hi = HOLD_MAX;
	m->gap_a = 0;
	m->hole_ack_lo = 0;
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
		 * how many is the unknown of a client-side epoch. */
		m->epoch = EP_CLIENT;
		m->lo = 0;
		m->hi = HOLD_MAX;
		m->hole_ack_lo = 0;
	}
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

	i = rec_get(p);
	if (i == WL_MATCH_NIL) {
		/* No record: its answer must still not go to the next
		 * request. Runs of such requests are remembered by number;
		 * beyond WL_MATCH_OVF runs, or in an epoch, pairing stops. */
		uint32_t k = m->n_ovf;

		ctx->ctr[WL_PROTO_CTR_PENDING_OVERFLOW]++;
		m->overflow = 1;
		if (m->epoch != EP_NONE) {
			/* Its answer is one of the epoch's unknowns, whose
			 * count no longer adds up: start blind. */
			epoch_give_up(m, ctx);
		} else if (k > 0 && m->ovf_seq[k - 1] + m->ovf_n[k - 1] ==
				m->req_seq) {
			m->ovf_n[k - 1]++;
		} else if (k < WL_MATCH_OVF) {
			m->ovf_seq[k] = m->req_seq;
			m->ovf_n[k] = 1;
			m->n_ovf++;
		} else {
			epoch_give_up(m, ctx);
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

	if (m->epoch == EP_SERVER || (m->epoch == EP_CLIENT &&
			m->hole_at == 0))
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
	uint32_t q, h;

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
		epoch_give_up(m, ctx);
		rsp_unmatched(ctx, rsp, WL_TXN_F_UNPAIRED);
		return;
	case CUR_HELD:
		h = m->n_hr < HOLD_MAX ? rec_get(p) : WL_MATCH_NIL;
		if (h == WL_MATCH_NIL) {
			/* No room to hold more: what is held, and this,
			 * go unproven; blind from here. */
			epoch_give_up(m, ctx);
			rsp_unmatched(ctx, rsp, WL_TXN_F_UNPAIRED);
			return;
		}
		memset(rec(p, h), 0, offsetof(struct wl_mrec, t));
		rec(p, h)->t = *rsp;
		rec(p, h)->off = at->off;
		rec(p, h)->peer_ack = at->peer_ack;
		append(p, &m->hr_head, &m->hr_tail, h);
		m->n_hr++;
		epoch_try(m, ctx);
		return;
	default:
		/* Quiet requests before q were answered by silence. */
		while ((h = first_unanswered(m, p)) != q)
			quiet_silent(m, ctx, h);
		if (m->epoch == EP_CLIENT)
			m->hole_at--;
		answer(m, ctx, q, rsp);
		return;
	}
}

void
wl_match_gap(struct wl_match *m, struct wl_proto_ctx *ctx, int dir,
	uint64_t len, enum wl_gap_kind kind)
{
	struct wl_mpool *p = ctx->mpool;
	uint32_t u0;

	if (kind == WL_GAP_INSIDE)
		return;
	if (m->epoch != EP_NONE || m->n_ovf > 0) {
		/* Two unknowns at once: what is held cannot be proven;
		 * blind from here (one unknown again). */
		epoch_give_up(m, ctx);
		return;
	}
	if (!countable(m, p)) {
		/* Answers or silence: lost ones cannot be counted. */
		epoch_give_up(m, ctx);
		return;
	}
	u0 = first_unanswered(m, p);
	m->gap_a = ctx->pos.off;
	m->gap_b = ctx->pos.off + len;
	if (dir == WL_DIR_S2C) {
		/* A message started in the lost bytes unless one was under
		 * way (the protocol ended it, its end unknown) or the server
		 * may send unasked ones. */
		m->epoch = EP_SERVER;
		m->lo = m->unsolicited || kind == WL_GAP_IN_MSG ? 0 : 1;
		m->hi = HOLD_MAX;
		/* More lost answers than requests: theirs were lost too. */
		if (m->lo > (int32_t)count_from(p, u0)) {
			epoch_give_up(m, ctx);
			return;
		}
	} else {
		struct wl_mrec *last = m->rq_tail != WL_MATCH_NIL ?
			rec(p, m->rq_tail) : NULL;

		m->epoch = EP_CLIENT;
		m->hole_at = count_from(p, u0);
		m->lo = kind == WL_GAP_IN_MSG ? 0 : 1;
		m->hi = HOLD_MAX;
		m->hole_ack_lo = last != NULL ? last->peer_ack : 0;
	}
}

void
wl_match_close(struct wl_match *m, struct wl_proto_ctx *ctx, uint32_t flags,
	uint64_t ts)
{
	struct wl_mpool *p = ctx->mpool;
	uint32_t i;

	(void)ts;
	if (m->epoch != EP_NONE) {
		int32_t v = -1;
		uint32_t nu = count_from(p, first_unanswered(m, p)), once = 1;

		/* Clean close: every request had exactly one answer. */
		for (i = first_unanswered(m, p); i != WL_MATCH_NIL;
				i = rec(p, i)->next)
			once &= rec(p, i)->expect == WL_EXPECT_ONE &&
				rec(p, i)->done;
		if (ctx->close_clean && once) {
			if (m->epoch == EP_SERVER && nu >= m->n_hr)
				v = (int32_t)(nu - m->n_hr);
			else if (m->epoch == EP_CLIENT && m->n_hr >= nu &&
					m->hole_at == 0)
				v = (int32_t)(m->n_hr - nu);
		}
		if (v >= m->lo && v <= m->hi && fits(m, ctx, v))
			epoch_apply(m, ctx, v);
		else
			epoch_give_up(m, ctx);
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
