/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * TCP sequence tracking and reassembly, one direction at a time.
 *
 * Invariants per direction: next_seq is the first byte not yet handed to
 * L7; every byte below it was delivered exactly once or reported in a gap
 * event; held out-of-order segments all start above next_seq and are
 * kept in ascending order, at most conf.ooo_max_segs of them, in slots of
 * a per-lcore pool. Nothing here allocates: a segment that does not fit
 * is dropped (counted) and surfaces later as a gap, when the peer's ACK
 * shows the bytes existed, or when the flow ends.
 */

#include <string.h>

#include "wl_flow_priv.h"

#define CTR(ft, x) ((ft)->st->c[WL_FLOW_CTR_ ## x])

/* ---- held segments ---- */

static void
ooo_put(struct wl_flow_table *ft, uint32_t idx)
{
	wl_ooo_get(ft, idx)->next = ft->ooo_free;
	ft->ooo_free = idx;
}

static void
fin_check(struct wl_flow_dir *d)
{
	if (d->fin_seen && !d->fin_done && d->next_seq == d->fin_seq) {
		d->next_seq++;
		d->fin_done = 1;
	}
}

static void
count_retrans(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint32_t len)
{
	CTR(ft, RETRANS_SEGS)++;
	CTR(ft, RETRANS_BYTES) += len;
	f->conn.d[dir].retrans_bytes += len;
	f->conn.d[dir].retrans++;
	f->conn.flags |= 1u << WL_CONN_F_BIT_RETRANS;
}

/* A segment that resends old bytes along with new ones: the old part is
 * retransmitted data, only the segment is counted apart. */
static void
count_overlap(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint32_t old)
{
	CTR(ft, OVERLAP_SEGS)++;
	CTR(ft, RETRANS_BYTES) += old;
	f->conn.d[dir].retrans_bytes += old;
	f->conn.d[dir].retrans++;
	f->conn.flags |= 1u << WL_CONN_F_BIT_RETRANS;
}

/*
 * Deliver held segments that the stream has reached. filled_ns: time of
 * the packet that closed the hole before them (0: none did, a gap was
 * declared). The receiver had those bytes only from then on, so that is
 * their time, not the earlier one they were captured at.
 */
static void
drain(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint64_t filled_ns)
{
	struct wl_flow_dir *d = &f->d[dir];

	while (d->ooo_head != WL_NIL) {
		uint32_t idx = d->ooo_head;
		struct wl_ooo_seg *s = wl_ooo_get(ft, idx);
		uint32_t end = s->seq + s->len;

		if (SEQ_GT(s->seq, d->next_seq))
			break;
		d->ooo_head = s->next;
		d->ooo_n--;
		if (SEQ_GT(end, d->next_seq)) {
			uint32_t off = d->next_seq - s->seq;

			if (off != 0)
				count_overlap(ft, f, dir, off);
			d->next_seq = end;
			wl_flow_deliver(ft, f, dir, (const uint8_t *)(s + 1) + off,
				s->len - off, WL_MAX(s->ts_ns, filled_ns));
		} else {
			count_retrans(ft, f, dir, s->len);
		}
		ooo_put(ft, idx);
	}
	fin_check(d);
}

/* Give up on the first hole: report it lost and deliver what follows. */
static void
skip_hole(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint64_t ts_ns)
{
	struct wl_flow_dir *d = &f->d[dir];
	struct wl_ooo_seg *s = wl_ooo_get(ft, d->ooo_head);

	if (SEQ_GT(s->seq, d->next_seq)) {
		uint32_t len = s->seq - d->next_seq;

		d->next_seq = s->seq;
		wl_flow_gap(ft, f, dir, len, ts_ns);
	}
	drain(ft, f, dir, 0);
}

/*
 * Hold one slot's worth of a segment that starts above next_seq.
 * @return 0 when held, 2 when already held, 1 when a hole was skipped to
 * make room (first piece only), -1 when there is no room.
 */
static int
hold_piece(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint32_t seq, const uint8_t *data, uint32_t len, uint64_t ts_ns,
	int first)
{
	struct wl_flow_dir *d = &f->d[dir];
	uint32_t *link, idx;
	struct wl_ooo_seg *s;

	for (link = &d->ooo_head; *link != WL_NIL; link = &s->next) {
		s = wl_ooo_get(ft, *link);
		if (s->seq == seq && s->len >= len) {
			count_retrans(ft, f, dir, len);
			return 2;
		}
		if (SEQ_GT(s->seq, seq))
			break;
	}
	if (d->ooo_n >= ft->conf.ooo_max_segs || ft->ooo_free == WL_NIL) {
		/*
		 * Out of room: a one-sided capture never sees the ACK that
		 * would resolve the hole, so skip it rather than stall.
		 */
		if (first && d->ooo_head != WL_NIL) {
			skip_hole(ft, f, dir, ts_ns);
			return 1;
		}
		return -1;
	}
	idx = ft->ooo_free;
	s = wl_ooo_get(ft, idx);
	ft->ooo_free = s->next;
	s->seq = seq;
	s->len = len;
	s->ts_ns = ts_ns;
	memcpy(s + 1, data, len);
	s->next = *link;
	*link = idx;
	d->ooo_n++;
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
	uint32_t seq, const uint8_t *data, uint32_t len, uint64_t ts_ns)
{
	uint32_t k, n;
	int rc, held = 0;

	for (k = 0; k < len; k += n) {
		n = WL_MIN(len - k, ft->conf.ooo_seg_bytes);
		rc = hold_piece(ft, f, dir, seq + k, data + k, n, ts_ns, k == 0);
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
		f->conn.d[dir].ooo++;
		f->conn.flags |= 1u << WL_CONN_F_BIT_OOO;
	}
	return 0;
}

/* ---- per segment ---- */

void
wl_tcp_segment(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const struct wl_pkt *p)
{
	struct wl_flow_dir *d = &f->d[dir];
	const uint8_t *data = p->payload;
	uint32_t len = p->payload_len;
	uint32_t seq = p->seq;
	uint32_t cut = p->seg_len > len ? p->seg_len - len : 0;
	int fin = (p->tcp_flags & WL_TCP_FIN) != 0;
	int32_t rel;

	if (len == 0 && !fin)
		return;
	if (!d->seq_valid) {
		/* Mid-stream: the first byte we see is where we start. */
		d->next_seq = seq;
		d->seq_valid = 1;
	}
	rel = (int32_t)(seq - d->next_seq);
	if (rel > (int32_t)WL_SEQ_SANE || rel < -(int32_t)WL_SEQ_SANE) {
		CTR(ft, BAD_SEQ)++;
		return;
	}
	if (fin && !d->fin_seen) {
		d->fin_seen = 1;
		d->fin_seq = seq + WL_MAX(len, p->seg_len);
	}
	if (d->fin_done) {
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
			wl_flow_deliver(ft, f, dir, data, len, p->ts_ns);
			if (cut != 0 && d->next_seq == p->seq + p->payload_len) {
				/* The snap length cut the segment short. */
				d->next_seq += cut;
				wl_flow_gap(ft, f, dir, cut, p->ts_ns);
			}
			drain(ft, f, dir, p->ts_ns);
			return;
		}
		if (hold(ft, f, dir, seq, data, len, p->ts_ns) == 0)
			break;
	}
	fin_check(d);
}

void
wl_tcp_acked(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint32_t ack, uint64_t ts_ns)
{
	struct wl_flow_dir *d = &f->d[dir];

	if (!d->seq_valid)
		return;
	if ((uint32_t)(ack - d->next_seq) > WL_SEQ_SANE)
		return;
	while (!d->fin_done && SEQ_LT(d->next_seq, ack)) {
		uint32_t end = ack, before = d->next_seq;

		if (d->fin_seen && SEQ_GT(end, d->fin_seq))
			end = d->fin_seq;
		if (d->ooo_head != WL_NIL &&
				SEQ_LT(wl_ooo_get(ft, d->ooo_head)->seq, end))
			end = wl_ooo_get(ft, d->ooo_head)->seq;
		if (SEQ_GT(end, d->next_seq)) {
			d->next_seq = end;
			wl_flow_gap(ft, f, dir, end - before, ts_ns);
		}
		drain(ft, f, dir, 0);
		if (d->next_seq == before)
			break;
	}
}

void
wl_tcp_flush_dir(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint64_t ts_ns)
{
	while (f->d[dir].ooo_head != WL_NIL)
		skip_hole(ft, f, dir, ts_ns);
}
