/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * TCP sequence tracking and reassembly, and the order in which the two
 * directions reach L7.
 *
 * Per direction, three marks in sequence space:
 *
 *     dlv_seq <= next_seq <= (held out-of-order segments)
 *
 * Bytes below dlv_seq were handed to L7 exactly once, or reported lost
 * in a gap event. Bytes in [dlv_seq, next_seq) are in order but wait in
 * the direction's queue (dq) for the other direction: a segment whose
 * ACK covers bytes of the other direction that L7 has not had yet was
 * sent after them, so L7 gets it after them, whatever order the tap
 * delivered the two in. Segments above next_seq wait for the hole
 * before them (ooo list). Held segments live in slots of a per-lcore
 * pool; nothing here allocates.
 *
 * A hole that the other side's ACK passes was, or will be, seen by the
 * tap: it is given a reorder window (flow.reorder_pkts packets of the
 * flow or flow.reorder_ms, whichever comes first) to arrive before it
 * is declared lost. A segment that does not fit in the pool is dropped
 * (counted) and surfaces later as a gap; a queue that cannot take a
 * segment is released at once, out of order (counted).
 *
 * The lists, queues, window and dlv_seq live in a reorder part the flow
 * takes when it first holds, queues or waits, and gives back when none
 * of those is left (at the end of a packet); without one, dlv_seq is
 * next_seq (nothing is queued). With no part left in the pool a flow
 * has no window: as with flow.reorder_ms 0 (flow_reorder_full).
 */

#include <string.h>

#include "wl_flow_priv.h"

#define CTR(ft, x) ((ft)->st->c[WL_FLOW_CTR_ ## x])

/* ---- slots and the reorder part ---- */

static void
slot_put(struct wl_flow_table *ft, uint32_t idx)
{
	wl_pool_put(&ft->ooo_pool, idx);
}

static struct wl_ooo_seg *
slot_take(struct wl_flow_table *ft, uint32_t *idx)
{
	*idx = wl_pool_take(&ft->ooo_pool);
	return *idx == WL_NIL ? NULL : wl_ooo_get(ft, *idx);
}

/* The flow's reorder part, taken now if it has none (dlv_seq then is
 * next_seq both ways); NULL when the pool is empty. */
static struct wl_flow_ro *
ro_get(struct wl_flow_table *ft, struct wl_flow *f)
{
	struct wl_flow_ro *r;
	unsigned int i;

	if (f->ro != WL_NIL)
		return wl_ro(ft, f);
	f->ro = wl_pool_take(&ft->ro_pool);
	if (f->ro == WL_NIL) {
		CTR(ft, REORDER_FULL)++;
		return NULL;
	}
	ft->st->c[WL_FLOW_CTR_REORDER_PEAK] = ft->ro_pool.peak;
	r = wl_ro(ft, f);
	memset(r, 0, sizeof(*r));
	for (i = 0; i < 2; i++) {
		r->ooo_head[i] = r->dq_head[i] = r->dq_tail[i] = WL_NIL;
		r->dlv_seq[i] = f->s[i].next_seq;
	}
	r->prev = r->next = WL_NIL;
	return r;
}

/* Give the reorder part back once nothing is held, queued or waited
 * for (then dlv_seq is next_seq both ways). */
static void
ro_trim(struct wl_flow_table *ft, struct wl_flow *f)
{
	const struct wl_flow_ro *r;

	if (f->ro == WL_NIL)
		return;
	r = wl_ro(ft, f);
	if (r->on || r->dq_n[0] != 0 || r->dq_n[1] != 0 || r->ooo_n[0] != 0 ||
			r->ooo_n[1] != 0)
		return;
	wl_pool_put(&ft->ro_pool, f->ro);
	f->ro = WL_NIL;
}

static inline uint16_t
dq_n(struct wl_flow_table *ft, const struct wl_flow *f, unsigned int dir)
{
	return f->ro != WL_NIL ? wl_ro(ft, f)->dq_n[dir] : 0;
}

static inline uint32_t
ooo_head(struct wl_flow_table *ft, const struct wl_flow *f, unsigned int dir)
{
	return f->ro != WL_NIL ? wl_ro(ft, f)->ooo_head[dir] : WL_NIL;
}

/* ---- accounting ---- */

static void
count_retrans(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint32_t len)
{
	CTR(ft, RETRANS_SEGS)++;
	CTR(ft, RETRANS_BYTES) += len;
	wl_flow_retrans(ft, f, dir, len);
}

/* A segment that resends old bytes along with new ones: the old part is
 * retransmitted data, only the segment is counted apart. */
static void
count_overlap(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint32_t old)
{
	CTR(ft, OVERLAP_SEGS)++;
	CTR(ft, RETRANS_BYTES) += old;
	wl_flow_retrans(ft, f, dir, old);
}

/* ---- to L7, in causal order ---- */

/* Stream offset of seq in direction dir (near its delivery point). */
static inline uint64_t
seq_off(struct wl_flow_table *ft, const struct wl_flow *f, unsigned int dir,
	uint32_t seq)
{
	return f->dlv_off[dir] +
		(uint64_t)(int64_t)(int32_t)(seq - wl_dlv_seq(ft, f, dir));
}

static void
fin_check(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir)
{
	struct wl_seq *s = &f->s[dir];

	if ((f->dfl[dir] & (WL_FD_FIN_SEEN | WL_FD_FIN_DONE)) ==
			WL_FD_FIN_SEEN && s->next_seq == s->fin_seq) {
		s->next_seq++;
		f->dfl[dir] |= WL_FD_FIN_DONE;
	}
	/* The FIN takes a sequence number but carries no byte for L7
	 * (without a reorder part dlv_seq is next_seq already). */
	if (f->ro != WL_NIL && (f->dfl[dir] & WL_FD_FIN_DONE)) {
		struct wl_flow_ro *r = wl_ro(ft, f);

		if (r->dq_n[dir] == 0 && r->dlv_seq[dir] == s->fin_seq)
			r->dlv_seq[dir]++;
	}
}

/* Hand a queued or direct chunk to L7. ack: the carrying packet's, 0 with
 * ack_ok clear when it had none (or the other side is unknown). */
static void
to_l7(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const uint8_t *data, uint32_t len, uint64_t ts, uint32_t ack,
	int ack_ok, int gap)
{
	struct wl_stream_pos pos;

	pos.off = f->dlv_off[dir];
	pos.peer_ack = ack_ok && (f->dfl[!dir] & WL_FD_SEQ_VALID) ?
		seq_off(ft, f, !dir, ack) : UINT64_MAX;
	if (f->ro != WL_NIL)
		wl_ro(ft, f)->dlv_seq[dir] += len;
	f->dlv_off[dir] += len;
	if (gap)
		wl_flow_gap(ft, f, dir, len, ts, &pos);
	else
		wl_flow_deliver(ft, f, dir, data, len, ts, &pos);
	fin_check(ft, f, dir);
}

/* May bytes carrying this ACK reach L7 now: has L7 had every byte of the
 * other direction that their sender had? */
static inline int
causal_ok(struct wl_flow_table *ft, const struct wl_flow *f, enum wl_dir dir,
	uint32_t ack, int ack_ok)
{
	uint32_t o;

	if (!ack_ok || !(f->dfl[!dir] & WL_FD_SEQ_VALID))
		return 1;
	o = wl_dlv_seq(ft, f, !dir);
	return SEQ_LEQ(ack, o) || (uint32_t)(ack - o) > WL_SEQ_SANE;
}

static void release(struct wl_flow_table *ft, struct wl_flow *f, int force);
static void ro_start(struct wl_flow_table *ft, struct wl_flow *f,
	uint64_t ts);

/* Append to dir's queue; -1 when the pool is dry. */
static int
dq_push(struct wl_flow_table *ft, struct wl_flow *f, struct wl_flow_ro *r,
	enum wl_dir dir, const uint8_t *data, uint32_t len, uint64_t ts,
	uint32_t ack, int ack_ok, int gap)
{
	struct wl_ooo_seg *s;
	uint32_t idx;

	s = slot_take(ft, &idx);
	if (s == NULL)
		return -1;
	/* informative: queued bytes are in order */
	s->seq = f->s[dir].next_seq;
	s->len = len;
	s->ack = ack;
	s->ts_ns = ts;
	s->kind = (uint8_t)((gap ? WL_SEG_GAP : 0) | (ack_ok ? WL_SEG_ACK : 0));
	s->arrival = r->arrivals++;
	s->next = WL_NIL;
	if (!gap)
		memcpy(s + 1, data, len);
	if (r->dq_tail[dir] != WL_NIL)
		wl_ooo_get(ft, r->dq_tail[dir])->next = idx;
	else
		r->dq_head[dir] = idx;
	r->dq_tail[dir] = idx;
	r->dq_n[dir]++;
	return 0;
}

/*
 * In-order bytes of dir (next_seq already past them): to L7 now when
 * nothing of dir waits and causality allows, else queued behind. Too big
 * for a slot: queued slot by slot. No slot left: everything queued goes
 * to L7 now, then this (counted: order not kept).
 */
static void
accept(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const uint8_t *data, uint32_t len, uint64_t ts, uint32_t ack,
	int ack_ok, int gap)
{
	uint16_t queued = dq_n(ft, f, dir);
	struct wl_flow_ro *r;
	uint32_t k, n;

	/* Nobody parses the flow: no order to keep. */
	if (queued == 0 && (f->l7_off || causal_ok(ft, f, dir, ack, ack_ok))) {
		to_l7(ft, f, dir, data, len, ts, ack, ack_ok, gap);
		return;
	}
	if (queued == 0)
		CTR(ft, CAUSAL_HELD)++;
	if (f->ro == WL_NIL) {
		r = ro_get(ft, f);
		/* L7 had the bytes before these (dlv_seq). */
		if (r != NULL)
			r->dlv_seq[dir] -= len;
	} else {
		r = wl_ro(ft, f);
	}
	for (k = 0; k < len; k += n) {
		/* A gap has no bytes: no pointer arithmetic on NULL. */
		const uint8_t *p = data != NULL ? data + k : NULL;

		n = gap ? len : WL_MIN(len - k, ft->conf.ooo_seg_bytes);
		if (r == NULL || dq_push(ft, f, r, dir, p, n, ts, ack, ack_ok,
				gap) != 0) {
			CTR(ft, CAUSAL_FORCED)++;
			release(ft, f, 1);
			to_l7(ft, f, dir, p, len - k, ts, ack, ack_ok, gap);
			return;
		}
	}
	ro_start(ft, f, ts);
}

/* Is the head of dir's queue free to go? */
static int
dq_ready(struct wl_flow_table *ft, const struct wl_flow *f,
	const struct wl_flow_ro *r, enum wl_dir dir)
{
	const struct wl_ooo_seg *s;

	if (r->dq_n[dir] == 0)
		return 0;
	s = wl_ooo_get(ft, r->dq_head[dir]);
	return causal_ok(ft, f, dir, s->ack, (s->kind & WL_SEG_ACK) != 0);
}

static void
dq_pop_deliver(struct wl_flow_table *ft, struct wl_flow *f,
	struct wl_flow_ro *r, enum wl_dir dir)
{
	uint32_t idx = r->dq_head[dir];
	struct wl_ooo_seg *s = wl_ooo_get(ft, idx);

	r->dq_head[dir] = s->next;
	if (r->dq_head[dir] == WL_NIL)
		r->dq_tail[dir] = WL_NIL;
	r->dq_n[dir]--;
	to_l7(ft, f, dir, (const uint8_t *)(s + 1), s->len, s->ts_ns, s->ack,
		(s->kind & WL_SEG_ACK) != 0, (s->kind & WL_SEG_GAP) != 0);
	slot_put(ft, idx);
}

/*
 * Hand queued bytes to L7 while causality allows, the earlier-captured
 * head first when both may go. force: when neither may (the bytes they
 * wait for never came, or ACKs that contradict each other), the
 * earlier-captured head goes anyway.
 */
static void
release(struct wl_flow_table *ft, struct wl_flow *f, int force)
{
	struct wl_flow_ro *r;
	int r0, r1;
	enum wl_dir dir;

	if (f->ro == WL_NIL)
		return;
	r = wl_ro(ft, f);
	while (r->dq_n[0] != 0 || r->dq_n[1] != 0) {
		r0 = dq_ready(ft, f, r, WL_DIR_C2S);
		r1 = dq_ready(ft, f, r, WL_DIR_S2C);
		if (!r0 && !r1) {
			if (!force)
				return;
			r0 = r->dq_n[0] != 0;
			r1 = r->dq_n[1] != 0;
		}
		if (r0 && r1)
			dir = (int32_t)(wl_ooo_get(ft, r->dq_head[0])->arrival -
				wl_ooo_get(ft, r->dq_head[1])->arrival) < 0 ?
				WL_DIR_C2S : WL_DIR_S2C;
		else
			dir = r0 ? WL_DIR_C2S : WL_DIR_S2C;
		dq_pop_deliver(ft, f, r, dir);
	}
}

/* ---- held out-of-order segments ---- */

/*
 * Deliver held segments that the stream has reached. filled_ns: time of
 * the packet that closed the hole before them (0: none did, a gap was
 * declared). The receiver had those bytes only from then on, and each
 * byte only once every byte before it that was not lost had come: its
 * time is the latest of its own packet's, the filler's and those of the
 * held bytes before it.
 */
static void
drain(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint64_t filled_ns)
{
	struct wl_seq *d = &f->s[dir];

	while (ooo_head(ft, f, dir) != WL_NIL) {
		struct wl_flow_ro *r = wl_ro(ft, f);
		uint32_t idx = r->ooo_head[dir];
		struct wl_ooo_seg *s = wl_ooo_get(ft, idx);
		uint32_t end = s->seq + s->len;

		if (SEQ_GT(s->seq, d->next_seq))
			break;
		r->ooo_head[dir] = s->next;
		r->ooo_n[dir]--;
		if (SEQ_GT(end, d->next_seq)) {
			uint32_t off = d->next_seq - s->seq;

			if (off != 0)
				count_overlap(ft, f, dir, off);
			d->next_seq = end;
			filled_ns = WL_MAX(s->ts_ns, filled_ns);
			accept(ft, f, dir, (const uint8_t *)(s + 1) + off,
				s->len - off, filled_ns, s->ack,
				(s->kind & WL_SEG_ACK) != 0, 0);
		} else {
			count_retrans(ft, f, dir, s->len);
		}
		slot_put(ft, idx);
	}
	fin_check(ft, f, dir);
}

/* The hole before the first held segment (or up to `to`, when there is
 * none before it) is lost: report it in order and go on past it. An ACK
 * does not move the stream past its FIN (fin_cap); a held segment does. */
static void
declare_lost(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint32_t to, uint64_t ts, int fin_cap)
{
	struct wl_seq *d = &f->s[dir];
	uint32_t head = ooo_head(ft, f, dir);

	if (head != WL_NIL && SEQ_LT(wl_ooo_get(ft, head)->seq, to))
		to = wl_ooo_get(ft, head)->seq;
	if (fin_cap && (f->dfl[dir] & WL_FD_FIN_SEEN) && SEQ_GT(to, d->fin_seq))
		to = d->fin_seq;
	if (SEQ_GT(to, d->next_seq)) {
		uint32_t len = to - d->next_seq;

		d->next_seq = to;
		accept(ft, f, dir, NULL, len, ts, 0, 0, 1);
	}
	drain(ft, f, dir, 0);
}

/* Give up on the first hole: report it lost and deliver what follows.
 * Always consumes at least the first held segment. */
static void
skip_hole(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint64_t ts_ns)
{
	uint32_t head = ooo_head(ft, f, dir);

	declare_lost(ft, f, dir, wl_ooo_get(ft, head)->seq, ts_ns, 0);
	if (ooo_head(ft, f, dir) == head) {
		/* Held past a FIN already delivered: nothing to hand on. */
		struct wl_flow_ro *r = wl_ro(ft, f);
		struct wl_ooo_seg *s = wl_ooo_get(ft, head);

		r->ooo_head[dir] = s->next;
		r->ooo_n[dir]--;
		count_retrans(ft, f, dir, s->len);
		slot_put(ft, head);
	}
}

/*
 * Hold one slot's worth of a segment that starts above next_seq.
 * @return 0 when held, 2 when already held, 1 when a hole was skipped to
 * make room (first piece only), -1 when there is no room.
 */
static int
hold_piece(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const struct wl_pkt *p, uint32_t seq, const uint8_t *data,
	uint32_t len, int first)
{
	struct wl_flow_ro *r = ro_get(ft, f);
	uint32_t *link = NULL, idx = WL_NIL;
	struct wl_ooo_seg *s = NULL;

	if (r != NULL) {
		for (link = &r->ooo_head[dir]; *link != WL_NIL;
				link = &s->next) {
			s = wl_ooo_get(ft, *link);
			if (s->seq == seq && s->len >= len) {
				count_retrans(ft, f, dir, len);
				return 2;
			}
			if (SEQ_GT(s->seq, seq))
				break;
		}
		s = r->ooo_n[dir] < ft->conf.ooo_max_segs ?
			slot_take(ft, &idx) : NULL;
	}
	if (s == NULL) {
		/*
		 * Out of room: a one-sided capture never sees the ACK that
		 * would resolve the hole, so skip it rather than stall.
		 */
		if (first && ooo_head(ft, f, dir) != WL_NIL) {
			skip_hole(ft, f, dir, p->ts_ns);
			return 1;
		}
		return -1;
	}
	s->seq = seq;
	s->len = len;
	s->ts_ns = p->ts_ns;
	s->ack = p->ack;
	s->kind = (p->tcp_flags & WL_TCP_ACK) ? WL_SEG_ACK : 0;
	s->arrival = 0;
	memcpy(s + 1, data, len);
	s->next = *link;
	*link = idx;
	r->ooo_n[dir]++;
	return 0;
}

/*
 * Hold a segment that starts above next_seq, in consecutive slots when it
 * is bigger than one (jumbo frames; loopback and offloaded captures carry
 * 64 kB segments, and those get reordered too).
 * @return 0 when held or dropped, 1 when a hole was skipped to make room
 * (the caller classifies the segment again: it may be in order now).
 */
static int
hold(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const struct wl_pkt *p, uint32_t seq, const uint8_t *data,
	uint32_t len)
{
	uint32_t k, n;
	int rc, held = 0;

	for (k = 0; k < len; k += n) {
		n = WL_MIN(len - k, ft->conf.ooo_seg_bytes);
		rc = hold_piece(ft, f, dir, p, seq + k, data + k, n, k == 0);
		if (rc == 1)
			return 1;
		if (rc < 0) {
			/* The rest surfaces as a gap later. */
			CTR(ft, OOO_DROPPED)++;
			break;
		}
		held |= rc == 0;
	}
	if (held) {
		CTR(ft, OOO_SEGS)++;
		wl_flow_ooo(ft, f, dir);
	}
	return 0;
}

/* ---- reorder window ---- */

static int
ro_pending(struct wl_flow_table *ft, const struct wl_flow *f)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		const struct wl_seq *d = &f->s[i];

		if (dq_n(ft, f, i) != 0 || ((f->dfl[i] & (WL_FD_WANT_VALID |
				WL_FD_FIN_DONE)) == WL_FD_WANT_VALID &&
				SEQ_GT(d->want_seq, d->next_seq)))
			return 1;
	}
	return 0;
}

/* The window is over: what the ACKs said exists and never came is lost;
 * everything queued goes to L7. */
static void
ro_expire(struct wl_flow_table *ft, struct wl_flow *f, uint64_t ts)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct wl_seq *d = &f->s[i];

		if ((f->dfl[i] & (WL_FD_WANT_VALID | WL_FD_SEQ_VALID)) ==
				(WL_FD_WANT_VALID | WL_FD_SEQ_VALID))
			while (!(f->dfl[i] & WL_FD_FIN_DONE) &&
					SEQ_LT(d->next_seq, d->want_seq)) {
				uint32_t before = d->next_seq;

				declare_lost(ft, f, (enum wl_dir)i, d->want_seq,
					ts, 1);
				if (d->next_seq == before)
					break;
			}
	}
	release(ft, f, 1);
}

/* Something waits for bytes that may still come: open the window; with
 * no reorder part to keep it, they are lost now. */
static void
ro_start(struct wl_flow_table *ft, struct wl_flow *f, uint64_t ts)
{
	struct wl_flow_ro *r = ro_get(ft, f);

	if (r == NULL) {
		ro_expire(ft, f, ts);
		return;
	}
	if (r->on)
		return;
	r->on = 1;
	r->since_ns = ts;
	r->pkts = 0;
	wl_flow_ro_link(ft, f);
}

void
wl_tcp_ro_check(struct wl_flow_table *ft, struct wl_flow *f, uint64_t now,
	int timer)
{
	struct wl_flow_ro *r;

	if (f->ro == WL_NIL || !wl_ro(ft, f)->on)
		return;
	r = wl_ro(ft, f);
	if (!timer)
		r->pkts++;
	if (ro_pending(ft, f) && r->pkts <= ft->conf.reorder_pkts &&
			now < r->since_ns + ft->reorder_ns)
		return;
	if (ro_pending(ft, f)) {
		CTR(ft, REORDER_EXPIRED)++;
		ro_expire(ft, f, now);
	}
	r = wl_ro(ft, f);
	r->on = 0;
	wl_flow_ro_unlink(ft, f);
	/* Bytes released may have opened a new wait. */
	if (ro_pending(ft, f))
		ro_start(ft, f, now);
	ro_trim(ft, f);
}

/* ---- per segment ---- */

void
wl_tcp_segment(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const struct wl_pkt *p)
{
	struct wl_seq *d = &f->s[dir];
	const uint8_t *data = p->payload;
	uint32_t len = p->payload_len;
	uint32_t seq = p->seq;
	uint32_t cut = p->seg_len > len ? p->seg_len - len : 0;
	int fin = (p->tcp_flags & WL_TCP_FIN) != 0;
	int ack_ok = (p->tcp_flags & WL_TCP_ACK) != 0;
	int32_t rel;

	if (len == 0 && !fin)
		return;
	if (!(f->dfl[dir] & WL_FD_SEQ_VALID))
		/* Mid-stream: the first byte we see is where we start. */
		wl_seq_start(ft, f, dir, seq);
	rel = (int32_t)(seq - d->next_seq);
	if (rel > (int32_t)WL_SEQ_SANE || rel < -(int32_t)WL_SEQ_SANE) {
		CTR(ft, BAD_SEQ)++;
		return;
	}
	if (fin && !(f->dfl[dir] & WL_FD_FIN_SEEN)) {
		f->dfl[dir] |= WL_FD_FIN_SEEN;
		d->fin_seq = seq + WL_MAX(len, p->seg_len);
	}
	if (f->dfl[dir] & WL_FD_FIN_DONE) {
		if (len != 0)
			count_retrans(ft, f, dir, len);
		return;
	}
	while (len != 0) {
		rel = (int32_t)(seq - d->next_seq);
		if (rel < 0) {
			uint32_t old = (uint32_t)-rel;

			if (old >= len) {
				count_retrans(ft, f, dir, len);
				break;
			}
			count_overlap(ft, f, dir, old);
			seq += old;
			data += old;
			len -= old;
			rel = 0;
		}
		if (rel == 0) {
			d->next_seq = seq + len;
			accept(ft, f, dir, data, len, p->ts_ns, p->ack, ack_ok, 0);
			if (cut != 0 && d->next_seq == p->seq + p->payload_len) {
				/* The snap length cut the segment short. */
				d->next_seq += cut;
				accept(ft, f, dir, NULL, cut, p->ts_ns, p->ack,
					ack_ok, 1);
			}
			drain(ft, f, dir, p->ts_ns);
			return;
		}
		if (hold(ft, f, dir, p, seq, data, len) == 0)
			break;
	}
	fin_check(ft, f, dir);
}

void
wl_tcp_acked(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint32_t ack, uint64_t ts_ns)
{
	struct wl_seq *d = &f->s[dir];

	if (!(f->dfl[dir] & WL_FD_SEQ_VALID))
		return;
	if ((uint32_t)(ack - d->next_seq) > WL_SEQ_SANE)
		return;
	if (!(f->dfl[dir] & WL_FD_WANT_VALID) || SEQ_GT(ack, d->want_seq)) {
		d->want_seq = ack;
		f->dfl[dir] |= WL_FD_WANT_VALID;
	}
	if ((f->dfl[dir] & WL_FD_FIN_DONE) || !SEQ_LT(d->next_seq, ack))
		return;
	/* No window: lost now, as the ACK shows. */
	if (ft->conf.reorder_pkts == 0 || ft->reorder_ns == 0) {
		ro_expire(ft, f, ts_ns);
		return;
	}
	ro_start(ft, f, ts_ns);
}

void
wl_tcp_release(struct wl_flow_table *ft, struct wl_flow *f)
{
	release(ft, f, 0);
	ro_trim(ft, f);
}

void
wl_tcp_flush(struct wl_flow_table *ft, struct wl_flow *f, uint64_t ts_ns)
{
	unsigned int i;

	ro_expire(ft, f, ts_ns);
	for (i = 0; i < 2; i++)
		while (ooo_head(ft, f, i) != WL_NIL)
			skip_hole(ft, f, (enum wl_dir)i, ts_ns);
	release(ft, f, 1);
	if (f->ro != WL_NIL && wl_ro(ft, f)->on) {
		wl_ro(ft, f)->on = 0;
		wl_flow_ro_unlink(ft, f);
	}
	ro_trim(ft, f);
}

void
wl_tcp_free(struct wl_flow_table *ft, struct wl_flow *f)
{
	struct wl_flow_ro *r;
	unsigned int i;

	if (f->ro == WL_NIL)
		return;
	r = wl_ro(ft, f);
	for (i = 0; i < 2; i++) {
		while (r->ooo_head[i] != WL_NIL) {
			uint32_t idx = r->ooo_head[i];

			r->ooo_head[i] = wl_ooo_get(ft, idx)->next;
			slot_put(ft, idx);
		}
		while (r->dq_head[i] != WL_NIL) {
			uint32_t idx = r->dq_head[i];

			r->dq_head[i] = wl_ooo_get(ft, idx)->next;
			slot_put(ft, idx);
		}
		r->dq_tail[i] = WL_NIL;
		r->dq_n[i] = 0;
		r->ooo_n[i] = 0;
	}
	if (r->on) {
		r->on = 0;
		wl_flow_ro_unlink(ft, f);
	}
	ro_trim(ft, f);
}
