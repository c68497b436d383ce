/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The per-lcore flow table: lookup and creation, client/server roles,
 * timer lists, eviction, the TCP handshake transaction and L7 dispatch
 * (port pinning, probing, state pool). Sequence tracking is in
 * wl_tcp_track.c.
 *
 * Invariants: a flow lives in the rte_hash and in exactly one timer list
 * while it is in the table; every list is ordered by last activity
 * because its members share one timeout, so expiry and eviction look at
 * list heads only. The list also says what a flow is worth keeping: once
 * flows not proven (no completed handshake, or one side only) and closed
 * ones fill their share of the table, a full table evicts from their
 * lists only, so a SYN flood cannot push out idle established
 * connections. Every resource a flow holds (L7 state slot, held
 * segments) is returned when it leaves. All memory is allocated at
 * creation; the data path only moves indexes around.
 */

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_prefetch.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "wl_flow_priv.h"
#include "wl_match.h"
#include "tcp/wl_tcp.h"
#include "wl_time.h"

#define CTR(ft, x) ((ft)->st->c[WL_FLOW_CTR_ ## x])

const char *const wl_flow_ctr_names[WL_FLOW_CTR_MAX] = {
#define _(e, n) [WL_FLOW_CTR_ ## e] = n,
	foreach_wl_flow_ctr
#undef _
};

static inline uint64_t *
proto_ctr(struct wl_flow_table *ft, unsigned int id)
{
	return ft->proto_ctr + (size_t)id * WL_PROTO_CTR_MAX;
}

static inline uint32_t
flow_idx(const struct wl_flow_table *ft, const struct wl_flow *f)
{
	return (uint32_t)(f - ft->flows);
}

/* ---- timer lists ---- */

static void
list_unlink(struct wl_flow_table *ft, struct wl_flow *f)
{
	if (f->prev != WL_NIL)
		ft->flows[f->prev].next = f->next;
	else
		ft->head[f->list] = f->next;
	if (f->next != WL_NIL)
		ft->flows[f->next].prev = f->prev;
	else
		ft->tail[f->list] = f->prev;
	ft->unproven -= (WL_FL_EVICT_FIRST >> f->list) & 1;
}

static void
list_append(struct wl_flow_table *ft, struct wl_flow *f, unsigned int list)
{
	uint32_t i = flow_idx(ft, f);

	f->list = (uint8_t)list;
	f->list_ns = f->last_ns;
	ft->unproven += (WL_FL_EVICT_FIRST >> list) & 1;
	f->next = WL_NIL;
	f->prev = ft->tail[list];
	if (f->prev != WL_NIL)
		ft->flows[f->prev].next = i;
	else
		ft->head[list] = i;
	ft->tail[list] = i;
}

static void
list_move(struct wl_flow_table *ft, struct wl_flow *f, unsigned int list)
{
	if (f->list == list && f->next == WL_NIL)
		return;
	list_unlink(ft, f);
	list_append(ft, f, list);
}

/* ---- L7 ---- */

static void
ctx_init(struct wl_flow_table *ft, struct wl_flow *f, unsigned int proto,
	struct wl_proto_ctx *ctx)
{
	ctx->cli = f->key.addr[f->cli_side];
	ctx->srv = f->key.addr[!f->cli_side];
	ctx->cli_port = f->key.port[f->cli_side];
	ctx->srv_port = f->key.port[!f->cli_side];
	ctx->vlan = f->key.vlan;
	ctx->l4proto = f->key.l4proto;
	ctx->ts_source = f->ts_source;
	ctx->lcore = (uint8_t)ft->lcore;
	ctx->proto = (uint8_t)proto;
	ctx->flow_id = f->flow_id;
	ft->cur = f;    /* whose transactions count_emit annotates */
	ctx->rsp_timeout_ns = (uint64_t)ft->conf.rsp_timeout_ms[proto] *
		WL_NS_PER_MS;
	ctx->ctr = proto_ctr(ft, proto);
	ctx->sink = &ft->count_sink;
	ctx->mpool = ft->mpool;
	ctx->ops = ft->conf.protos[proto];
	ctx->close_clean = 0;
	ctx->close_srv_first = 0;
	ctx->midstream = 0;
	ctx->rsp_midstream = 0;
	ctx->pos.off = 0;
	ctx->pos.peer_ack = UINT64_MAX;
}

static void *
l7_state(struct wl_flow_table *ft, const struct wl_flow *f)
{
	if (f->l7_state == WL_NIL)
		return NULL;
	return ft->l7_pool + (size_t)f->l7_state * ft->l7_slot;
}

/*
 * Claim f for protocol id. mid: bit d (1u << enum wl_dir) set when L7
 * does not see direction d from its first byte (picked up without a
 * handshake, bytes lost or left unparsed before this one): answers may
 * come to questions it never saw (struct wl_proto_ctx midstream), or
 * answers it never saw have been sent (rsp_midstream).
 */
static int
l7_claim(struct wl_flow_table *ft, struct wl_flow *f, unsigned int id,
	unsigned int mid)
{
	const struct wl_proto_ops *ops = ft->conf.protos[id];
	struct wl_proto_ctx ctx;
	int nosyn = (f->conn.flags & (1u << WL_CONN_F_BIT_MIDSTREAM)) != 0;

	if (ops->state_size > 0) {
		uint8_t *slot;

		if (ft->l7_free != WL_NIL) {
			f->l7_state = ft->l7_free;
			slot = l7_state(ft, f);
			memcpy(&ft->l7_free, slot, sizeof(ft->l7_free));
		} else if (ft->l7_fresh < ft->conf.l7_state_max) {
			f->l7_state = ft->l7_fresh++;
			slot = l7_state(ft, f);
		} else {
			CTR(ft, L7_STATE_FULL)++;
			f->l7_off = 1;
			return -ENOSPC;
		}
		memset(slot, 0, ft->l7_slot);
	}
	f->proto = (uint8_t)id;
	f->conn.l7proto = (uint8_t)id;
	CTR(ft, L7_DETECTED)++;
	proto_ctr(ft, id)[WL_PROTO_CTR_FLOWS]++;
	if (ops->init != NULL) {
		ctx_init(ft, f, id, &ctx);
		ctx.midstream = (uint8_t)((mid & 1u << WL_DIR_C2S) || nosyn ||
			f->conn.d[WL_DIR_C2S].gap_bytes != 0);
		ctx.rsp_midstream = (uint8_t)((mid & 1u << WL_DIR_S2C) ||
			nosyn || f->conn.d[WL_DIR_S2C].gap_bytes != 0);
		ops->init(l7_state(ft, f), &ctx);
	}
	return 0;
}

static void
l7_release(struct wl_flow_table *ft, struct wl_flow *f)
{
	if (f->l7_state == WL_NIL)
		return;
	memcpy(l7_state(ft, f), &ft->l7_free, sizeof(ft->l7_free));
	ft->l7_free = f->l7_state;
	f->l7_state = WL_NIL;
}

static void
l7_feed(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const uint8_t *data, uint32_t len, uint64_t ts_ns,
	const struct wl_stream_pos *pos)
{
	const struct wl_proto_ops *ops = ft->conf.protos[f->proto];
	struct wl_proto_ctx ctx;

	ctx_init(ft, f, f->proto, &ctx);
	ctx.pos = *pos;
	if (ops->data(l7_state(ft, f), &ctx, dir, data, len, ts_ns) ==
			WL_PROTO_DONE) {
		f->l7_off = 1;
		ctx.ctr[WL_PROTO_CTR_STOPPED]++;
	}
}

static int
has_port(const struct wl_proto_ops *ops, uint16_t port)
{
	unsigned int i;

	for (i = 0; i < WL_ARRAY_SIZE(ops->default_ports) &&
			ops->default_ports[i] != 0; i++)
		if (ops->default_ports[i] == port)
			return 1;
	return 0;
}

static int
usable(const struct wl_flow_table *ft, unsigned int id, uint8_t l4proto)
{
	const struct wl_proto_ops *ops = ft->conf.protos[id];

	return ops != NULL && ops->data != NULL && (ops->l4proto == l4proto ||
		(ops->l4proto2 != 0 && ops->l4proto2 == l4proto)) &&
		(ft->conf.proto_disabled & (1u << id)) == 0;
}

/*
 * Run the probes, protocols whose default ports match the server port
 * first (a hint: any port works); the others only when the detection
 * signatures leave them in (wl_probe.h).
 * @return the protocol id, or -1 (*maybe set if one wants more bytes).
 */
static int
probe_all(struct wl_flow_table *ft, const struct wl_flow *f, enum wl_dir dir,
	const uint8_t *data, uint32_t len, int *maybe)
{
	uint16_t srv_port = f->key.port[!f->cli_side];
	uint8_t l4 = f->key.l4proto;
	uint32_t use, hinted = 0, m;

	use = l4 == IPPROTO_TCP ? ft->usable_tcp : l4 == IPPROTO_UDP ?
		ft->usable_udp : 0;
	for (m = use; m != 0; m &= m - 1)
		if (has_port(ft->conf.protos[rte_bsf32(m)], srv_port))
			hinted |= m & -m;
	return wl_probe_detect(ft->conf.probe_db, ft->probe_scr,
		ft->conf.protos, use, hinted, l4, dir, data, len, maybe);
}

/*
 * Detection on the first bytes of a direction. With a handshake seen,
 * the first bytes are a message start, so a direction that every probe
 * refuses is settled; mid-stream (or after a gap) each chunk gets a
 * chance until probe_max_bytes. Bytes held while a probe says MAYBE are
 * fed to the protocol first once it claims the flow.
 */
static void
probe(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const uint8_t *data, uint32_t len, uint64_t ts_ns,
	const struct wl_stream_pos *pos)
{
	struct wl_flow_dir *d = &f->d[dir];
	uint8_t buf[WL_PROBE_STASH + 512];
	const uint8_t *pd = data;
	uint32_t pl = len, k;
	int id, maybe = 0, tcp = f->key.l4proto == IPPROTO_TCP;

	/* A direction that had its share, or was refused at a message
	 * start, is settled. */
	if ((d->probe_st == WL_PS_NO && f->hs != WL_HS_NONE && tcp) ||
			f->probed[dir] >= ft->conf.probe_max_bytes)
		return;
	if (d->stash_len > 0) {
		memcpy(buf, d->stash, d->stash_len);
		k = WL_MIN(len, (uint32_t)sizeof(buf) - d->stash_len);
		memcpy(buf + d->stash_len, data, k);
		pd = buf;
		pl = d->stash_len + k;
	}
	f->probed[dir] += len;
	id = probe_all(ft, f, dir, pd, pl, &maybe);
	if (id >= 0) {
		/* L7 starts here: anything before, either way, it never
		 * parsed. */
		uint64_t start = d->stash_len > 0 ? d->stash_pos.off : pos->off;

		if (l7_claim(ft, f, (unsigned int)id,
				(start != 0 ? 1u << dir : 0) |
				(f->conn.d[!dir].delivered != 0 ?
				1u << !dir : 0)) != 0)
			return;
		if (d->stash_len > 0) {
			/* Held bytes keep their own packet's time (a
			 * message's first byte may have come earlier) and
			 * position. */
			struct wl_stream_pos sp = d->stash_pos;

			memcpy(buf, d->stash, d->stash_len);
			k = d->stash_len;
			d->stash_len = 0;
			l7_feed(ft, f, dir, buf, k, d->stash_ts, &sp);
		}
		if (!f->l7_off)
			l7_feed(ft, f, dir, data, len, ts_ns, pos);
		return;
	}
	if (tcp && f->hs == WL_HS_NONE && d->stash_len == 0) {
		/*
		 * Picked up mid-stream or after a gap: the chunk need not
		 * start a message, the next line may. A protocol that
		 * recognises one claims the flow there.
		 */
		const uint8_t *nl = data;
		uint32_t j;

		while ((nl = memchr(nl, '\n', len - (uint32_t)(nl - data))) !=
				NULL && ++nl < data + len) {
			int m2 = 0;

			j = (uint32_t)(nl - data);
			id = probe_all(ft, f, dir, nl, len - j, &m2);
			if (id < 0)
				continue;
			if (l7_claim(ft, f, (unsigned int)id, 3) == 0) {
				struct wl_stream_pos sp = *pos;

				sp.off += j;
				l7_feed(ft, f, dir, nl, len - j, ts_ns, &sp);
			}
			return;
		}
	}
	if (maybe && tcp && d->stash_len + len <= WL_PROBE_STASH) {
		if (d->stash_len == 0) {
			d->stash_ts = ts_ns;
			d->stash_pos = *pos;
		}
		memcpy(d->stash + d->stash_len, data, len);
		d->stash_len = (uint8_t)(d->stash_len + len);
		d->probe_st = WL_PS_MAYBE;
	} else {
		d->stash_len = 0;
		d->probe_st = WL_PS_NO;
	}
	/* Each direction has its share: a server's long answers do not use
	 * up what its client's request (all that probes know) needs. */
	if ((tcp && f->hs != WL_HS_NONE && f->d[0].probe_st == WL_PS_NO &&
			f->d[1].probe_st == WL_PS_NO) ||
			(f->probed[0] >= ft->conf.probe_max_bytes &&
			f->probed[1] >= ft->conf.probe_max_bytes)) {
		f->l7_off = 1;
		CTR(ft, L7_UNKNOWN)++;
	}
}

void
wl_flow_deliver(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const uint8_t *data, uint32_t len, uint64_t ts_ns,
	const struct wl_stream_pos *pos)
{
	f->conn.d[dir].delivered += len;
	if (f->l7_off || len == 0)
		return;
	if (f->proto == WL_PROTO_NONE)
		probe(ft, f, dir, data, len, ts_ns, pos);
	else
		l7_feed(ft, f, dir, data, len, ts_ns, pos);
}

void
wl_flow_gap(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint32_t len, uint64_t ts_ns, const struct wl_stream_pos *pos)
{
	const struct wl_proto_ops *ops;
	struct wl_proto_ctx ctx;

	CTR(ft, GAPS)++;
	CTR(ft, GAP_BYTES) += len;
	f->conn.d[dir].gap_bytes += len;
	f->conn.flags |= 1u << WL_CONN_F_BIT_GAP;
	if (f->l7_off)
		return;
	if (f->proto == WL_PROTO_NONE) {
		/* What follows starts mid-message: probe afresh. */
		f->d[dir].stash_len = 0;
		f->d[dir].probe_st = WL_PS_UNSEEN;
		f->hs = f->hs == WL_HS_DONE ? WL_HS_NONE : f->hs;
		return;
	}
	ops = ft->conf.protos[f->proto];
	ctx_init(ft, f, f->proto, &ctx);
	ctx.pos = *pos;
	ctx.ctr[WL_PROTO_CTR_GAPS]++;
	if (ops->gap(l7_state(ft, f), &ctx, dir, len, ts_ns) == WL_PROTO_DONE) {
		f->l7_off = 1;
		ctx.ctr[WL_PROTO_CTR_STOPPED]++;
	}
}

/* ---- reorder list ---- */

void
wl_flow_ro_link(struct wl_flow_table *ft, struct wl_flow *f)
{
	uint32_t i = flow_idx(ft, f);

	f->ro_next = WL_NIL;
	f->ro_prev = ft->ro_tail;
	if (f->ro_prev != WL_NIL)
		ft->flows[f->ro_prev].ro_next = i;
	else
		ft->ro_head = i;
	ft->ro_tail = i;
}

void
wl_flow_ro_unlink(struct wl_flow_table *ft, struct wl_flow *f)
{
	if (f->ro_prev != WL_NIL)
		ft->flows[f->ro_prev].ro_next = f->ro_next;
	else
		ft->ro_head = f->ro_next;
	if (f->ro_next != WL_NIL)
		ft->flows[f->ro_next].ro_prev = f->ro_prev;
	else
		ft->ro_tail = f->ro_prev;
	f->ro_prev = f->ro_next = WL_NIL;
}

/* ---- transactions ---- */

static void
count_emit(void *arg, const struct wl_txn *t)
{
	struct wl_flow_table *ft = arg;
	struct wl_flow *f = ft->cur;
	struct wl_flow_dir *d;
	struct wl_txn x;

	if (t->kind == WL_TXN_KIND_TXN)
		CTR(ft, TXNS)++;
	if (t->kind != WL_TXN_KIND_TXN || f == NULL ||
			f->flow_id != t->flow_id ||
			(t->proto == WL_PROTO_TCP && !f->clock_mixed)) {
		ft->sink->emit(ft->sink->arg, t);
		return;
	}
	x = *t;
	if (unlikely(f->clock_mixed))
		x.flags |= WL_TXN_F_CLOCK_MIXED;
	if (t->proto == WL_PROTO_TCP) {
		ft->sink->emit(ft->sink->arg, &x);
		return;
	}
	/* An L7 answer: what the server side did since the last one. */
	d = &f->d[WL_DIR_S2C];
	x.rsp_stall_ns = d->stall_txn_ns;
	x.rsp_retrans = f->conn.d[WL_DIR_S2C].retrans - d->retrans_txn;
	x.rsp_ooo = f->conn.d[WL_DIR_S2C].ooo - d->ooo_txn;
	d->stall_txn_ns = 0;
	d->retrans_txn = f->conn.d[WL_DIR_S2C].retrans;
	d->ooo_txn = f->conn.d[WL_DIR_S2C].ooo;
	ft->sink->emit(ft->sink->arg, &x);
}

/*
 * The handshake transaction: request = the SYN answered, response = the
 * SYN/ACK (or the RST refusing it), client_rtt = SYN/ACK -> ACK.
 */
static void
hs_emit(struct wl_flow_table *ft, struct wl_flow *f, uint64_t rsp_ns,
	uint64_t client_rtt, const char *status, enum wl_status_class sc,
	uint32_t flags)
{
	struct wl_proto_ctx ctx;
	struct wl_tcp_txn *x;
	struct wl_txn t;

	memset(&t, 0, sizeof(t));
	ctx_init(ft, f, WL_PROTO_TCP, &ctx);
	wl_proto_txn_init(&ctx, &t);
	t.proto = WL_PROTO_TCP;
	t.kind = WL_TXN_KIND_TXN;
	wl_strlcpy(t.method, "handshake", sizeof(t.method));
	wl_strlcpy(t.status, status, sizeof(t.status));
	t.status_class = (uint8_t)sc;
	t.flags = flags;
	/* First SYN to latest SYN is the request: duration_ns is the connect
	 * time the client saw, ttfb_ns the RTT of the SYN that was answered. */
	t.req_start_ns = f->syn_first_ns;
	t.req_end_ns = f->syn_ns;
	/* A retransmitted SYN/ACK: the first one answered, the last one is
	 * what the client's ACK answers (client_rtt). */
	t.rsp_start_ns = f->synack_first_ns != 0 && f->synack_first_ns < rsp_ns ?
		f->synack_first_ns : rsp_ns;
	t.rsp_end_ns = rsp_ns;
	x = (struct wl_tcp_txn *)t.proto_area;
	x->client_rtt_ns = client_rtt;
	x->syn_retrans = f->syn_retrans;
	x->synack_retrans = f->synack_retrans;
	/* What wl_flow_conn_syn_only() will say of its record. */
	if ((f->conn.flags & (1u << WL_CONN_F_BIT_UNANSWERED)) &&
			f->conn.d[WL_DIR_S2C].pkts == 0 &&
			f->conn.d[WL_DIR_C2S].pkts ==
				(uint64_t)f->syn_retrans + 1)
		t.flags |= WL_TXN_F_SYN_ONLY;
	if (sc == WL_SC_OK) {
		f->conn.server_rtt_ns = wl_txn_ttfb(&t);
		f->conn.client_rtt_ns = client_rtt;
	}
	f->hs = WL_HS_DONE;
	CTR(ft, HANDSHAKES)++;
	wl_proto_emit(&ctx, &t);
}

static void
conn_emit(struct wl_flow_table *ft, struct wl_flow *f, uint64_t now)
{
	struct wl_proto_ctx ctx;
	struct wl_flow_dir *d;
	struct wl_txn t;
	unsigned int i;

	if (ft->conf.conn_records == 0 || (ft->conf.conn_records == 1 &&
			f->key.l4proto != IPPROTO_TCP))
		return;
	memset(&t, 0, sizeof(t));
	ctx_init(ft, f, WL_PROTO_TCP, &ctx);
	wl_proto_txn_init(&ctx, &t);
	t.kind = WL_TXN_KIND_CONN;
	t.proto = f->proto;
	t.req_start_ns = f->syn_first_ns != 0 &&
		f->syn_first_ns < f->conn_first_ns ?
		f->syn_first_ns : f->conn_first_ns;
	t.rsp_end_ns = f->last_ns;
	for (i = 0; i < 2; i++) {
		d = &f->d[i];
		/* A window still closed at the end was closed until then. */
		if (d->zero_now && f->last_ns > d->zero_since_ns)
			f->conn.d[i].zero_win_ns += f->last_ns - d->zero_since_ns;
		d->zero_now = 0;
	}
	f->conn.syn_retrans = f->syn_retrans;
	f->conn.synack_retrans = f->synack_retrans;
	f->conn.left_ns = now;
	memcpy(t.conn_area, &f->conn, sizeof(f->conn));
	ft->count_sink.emit(ft->count_sink.arg, &t);
}

/* ---- flow life ---- */

/* End the L7 side: flush held data, settle the handshake, close. */
static void
close_l7(struct wl_flow_table *ft, struct wl_flow *f, uint32_t flags,
	uint64_t now)
{
	struct wl_proto_ctx ctx;

	if (f->closed)
		return;
	f->closed = 1;
	if (f->key.l4proto == IPPROTO_TCP) {
		wl_tcp_flush(ft, f, now);
		if (f->hs == WL_HS_SYN) {
			CTR(ft, SYN_UNANSWERED)++;
			f->conn.flags |= 1u << WL_CONN_F_BIT_UNANSWERED;
			hs_emit(ft, f, 0, 0, "unanswered", WL_SC_ERROR,
				flags | WL_TXN_F_NO_RESPONSE);
		} else if (f->hs == WL_HS_SYNACK) {
			hs_emit(ft, f, f->synack_ns, 0, "no_ack", WL_SC_OK,
				flags);
		}
	}
	if (f->proto != WL_PROTO_NONE) {
		const struct wl_flow_dir *s2c = &f->d[WL_DIR_S2C];
		const struct wl_flow_dir *c2s = &f->d[WL_DIR_C2S];

		ctx_init(ft, f, f->proto, &ctx);
		/* Closed both ways, the client first, after every byte the
		 * server sent: a count settles an open loss (wl_match.h). */
		ctx.close_clean = f->conn.end == WL_CONN_END_CLOSED &&
			f->cli_fin_first && s2c->seq_valid &&
			SEQ_GEQ(f->cli_fin_ack, s2c->fin_seen ? s2c->fin_seq :
			s2c->next_seq);
		/* Or the server first, after every byte the client sent. */
		ctx.close_srv_first = f->conn.end == WL_CONN_END_CLOSED &&
			!f->cli_fin_first &&
			f->conn.fin_side == WL_CONN_SIDE_SERVER &&
			c2s->seq_valid && SEQ_GEQ(f->srv_fin_ack,
			c2s->fin_seen ? c2s->fin_seq : c2s->next_seq);
		ft->conf.protos[f->proto]->close(l7_state(ft, f), &ctx, flags,
			now);
	}
	l7_release(ft, f);
}

/* Close what is open, report the connection and drop the flow. */
static void
finish(struct wl_flow_table *ft, struct wl_flow *f, enum wl_conn_end end,
	uint32_t flags, uint64_t now)
{
	if (!f->closed) {
		f->conn.end = (uint8_t)end;
		close_l7(ft, f, flags, now);
	}
	conn_emit(ft, f, now);
	wl_tcp_free(ft, f);
	list_unlink(ft, f);
	rte_hash_del_key(ft->hash, &f->key);
	ft->del_gen++;
	ft->count--;
	CTR(ft, ACTIVE) = ft->count;
}

/*
 * The least recently active flow of the lists in mask (bit per enum
 * wl_flow_list), NULL if they are empty. Lists are ordered by the time a
 * flow was queued, not by its last packet (moving a flow on every packet
 * costs two cache misses on its neighbours): a head that saw packets
 * since it was queued gets a second chance at the tail.
 */
static struct wl_flow *
oldest(struct wl_flow_table *ft, uint32_t mask)
{
	struct wl_flow *best = NULL;
	unsigned int l, tries;

	for (l = 0; l < WL_FL_MAX; l++) {
		struct wl_flow *f;

		if (!((mask >> l) & 1))
			continue;
		for (tries = 0; tries < 8 && ft->head[l] != WL_NIL; tries++) {
			f = &ft->flows[ft->head[l]];
			if (f->last_ns == f->list_ns)
				break;
			list_move(ft, f, l);
		}
		if (ft->head[l] == WL_NIL)
			continue;
		f = &ft->flows[ft->head[l]];
		if (best == NULL || f->last_ns < best->last_ns)
			best = f;
	}
	return best;
}

/*
 * Make room for one flow: the least recently active one. But flows that
 * never proved a conversation (a handshake not completed: a SYN flood's;
 * packets one way only) and closed ones go alone once they fill more
 * than their share of the table: then a flood evicts its own flows, not
 * the established connections idle in their think time. Below that
 * share, young flows waiting for their answer (handshakes, DNS queries
 * in flight) are not evicted by each other while idle established ones
 * fill the table: a plain rank made the DNS benchmark 2.8 times slower.
 */
static void
evict(struct wl_flow_table *ft, uint64_t now)
{
	struct wl_flow *f = ft->unproven > ft->unproven_max ?
		oldest(ft, WL_FL_EVICT_FIRST) : oldest(ft, UINT32_MAX);

	CTR(ft, EVICTED)++;
	if (f->list == WL_FL_CLOSED)
		CTR(ft, EVICTED_CLOSED)++;
	else if ((WL_FL_EVICT_FIRST >> f->list) & 1)
		CTR(ft, EVICTED_UNPROVEN)++;
	else
		CTR(ft, EVICTED_ESTABLISHED)++;
	finish(ft, f, WL_CONN_END_EVICTED, WL_TXN_F_EVICTED, now);
}

/* ---- roles ---- */

static int
port_bit(const uint64_t *bits, uint16_t port)
{
	return bits != NULL && (bits[port / 64] >> (port % 64)) & 1;
}

static int
pinned(const struct wl_flow_table *ft, uint16_t port)
{
	return ft->conf.port_proto != NULL &&
		ft->conf.port_proto[port] != WL_PROTO_NONE;
}

static int
default_port(const struct wl_flow_table *ft, uint16_t port, uint8_t l4proto)
{
	unsigned int id;

	for (id = 0; id < ft->conf.n_protos; id++)
		if (usable(ft, id, l4proto) &&
				has_port(ft->conf.protos[id], port))
			return 1;
	return 0;
}

/*
 * Which end of a packet is the server when no handshake says so: a port
 * pinned to a protocol, then a configured server port, then a protocol's
 * default port, then (TCP) the lower port; for UDP the first datagram's
 * destination.
 * @return 1 when the destination is the server.
 */
static int
dst_is_server(const struct wl_flow_table *ft, const struct wl_pkt *p)
{
	int rule;

	for (rule = 0; rule < 3; rule++) {
		int s, d;

		switch (rule) {
		case 0:
			s = pinned(ft, p->sport);
			d = pinned(ft, p->dport);
			break;
		case 1:
			s = port_bit(ft->conf.server_ports, p->sport);
			d = port_bit(ft->conf.server_ports, p->dport);
			break;
		default:
			s = default_port(ft, p->sport, p->l4proto);
			d = default_port(ft, p->dport, p->l4proto);
			break;
		}
		if (s != d)
			return d;
	}
	if (p->l4proto == IPPROTO_TCP)
		return p->dport <= p->sport;
	return 1;
}

/* ---- lookup ---- */

/* Canonical key; *src_side is the key side of the packet's source. */
static void
key_make(struct wl_flow_key *k, const struct wl_pkt *p, unsigned int *src_side)
{
	int c = memcmp(&p->src, &p->dst, sizeof(p->src));

	memset(k, 0, sizeof(*k));
	if (c == 0)
		c = (int)p->sport - (int)p->dport;
	*src_side = c > 0;
	k->addr[*src_side] = p->src;
	k->port[*src_side] = p->sport;
	k->addr[!*src_side] = p->dst;
	k->port[!*src_side] = p->dport;
	k->vlan = p->nvlan != 0 ? p->vlan[0] : 0;
	k->l4proto = p->l4proto;
}

static struct wl_flow *
flow_new(struct wl_flow_table *ft, const struct wl_flow_key *k, hash_sig_t sig,
	const struct wl_pkt *p, unsigned int src_side)
{
	struct wl_flow *f;
	int pos, client_is_src;
	unsigned int id, i;

	if (ft->count >= ft->conf.max_flows)
		evict(ft, p->ts_ns);
	pos = rte_hash_add_key_with_hash(ft->hash, k, sig);
	if (pos < 0) {
		CTR(ft, EVICTED)++;     /* cannot happen with the ext table */
		return NULL;
	}
	f = &ft->flows[pos];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->proto = WL_PROTO_NONE;
	f->conn.l7proto = WL_PROTO_NONE;
	f->conn.l4proto = p->l4proto;
	f->l7_state = WL_NIL;
	for (i = 0; i < 2; i++) {
		f->d[i].ooo_head = WL_NIL;
		f->d[i].dq_head = WL_NIL;
		f->d[i].dq_tail = WL_NIL;
	}
	f->ro_prev = f->ro_next = WL_NIL;
	f->flow_id = ft->next_id++;
	f->ts_source = p->ts_source;
	f->conn_first_ns = p->ts_ns;
	f->last_ns = p->ts_ns;
	ft->count++;
	CTR(ft, CREATED)++;
	CTR(ft, ACTIVE) = ft->count;

	if (p->l4proto == IPPROTO_TCP) {
		CTR(ft, TCP)++;
		if (p->tcp_flags & WL_TCP_SYN)
			client_is_src = !(p->tcp_flags & WL_TCP_ACK);
		else
			client_is_src = dst_is_server(ft, p);
		if (!(p->tcp_flags & WL_TCP_SYN)) {
			CTR(ft, MIDSTREAM)++;
			f->conn.flags |= 1u << WL_CONN_F_BIT_MIDSTREAM;
		}
		/* A SYN/ACK seen first has no handshake to complete: like a
		 * flow picked up mid-stream, the client's answer proves it. */
		list_append(ft, f, (p->tcp_flags & (WL_TCP_SYN | WL_TCP_ACK)) ==
			WL_TCP_SYN ? WL_FL_SYN : WL_FL_ONEWAY);
	} else {
		CTR(ft, UDP)++;
		client_is_src = dst_is_server(ft, p);
		list_append(ft, f, WL_FL_UDP1);
	}
	f->cli_side = (uint8_t)(client_is_src ? src_side : !src_side);

	if (ft->conf.port_proto != NULL) {
		id = ft->conf.port_proto[f->key.port[!f->cli_side]];
		if (id < ft->conf.n_protos && usable(ft, id, p->l4proto))
			l7_claim(ft, f, id, 0);
	}
	return f;
}

/* ---- TCP ---- */

static void
tcp_input(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const struct wl_pkt *p);

/* A SYN on a finished flow: the 4-tuple was reused for a new connection. */
static void
port_reuse(struct wl_flow_table *ft, struct wl_flow *f, const struct wl_pkt *p)
{
	CTR(ft, PORT_REUSE)++;
	/* The SYN belongs to the new connection, not to this one. */
	f->conn.d[WL_DIR_C2S].pkts--;
	f->conn.d[WL_DIR_C2S].bytes -= p->wire_len;
	finish(ft, f, WL_CONN_END_PORT_REUSE, WL_TXN_F_CLOSED, p->ts_ns);
	wl_flow_input(ft, p);
}

static void
tcp_syn(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const struct wl_pkt *p)
{
	uint64_t npkts = f->conn.d[0].pkts + f->conn.d[1].pkts;

	if (!(p->tcp_flags & WL_TCP_ACK)) {
		if (dir != WL_DIR_C2S)
			return;         /* simultaneous open: not measured */
		if (f->hs == WL_HS_NONE && npkts == 1) {
			f->hs = WL_HS_SYN;
			f->syn_first_ns = p->ts_ns;
		} else if (f->hs == WL_HS_SYN && p->seq == f->cli_isn) {
			f->syn_retrans++;
		} else if (f->hs == WL_HS_SYNACK && p->seq == f->cli_isn) {
			f->syn_retrans++;
			return;
		} else {
			port_reuse(ft, f, p);
			return;
		}
		/* The server answers the latest SYN it got. */
		f->syn_ns = p->ts_ns;
		f->cli_isn = p->seq;
		f->d[WL_DIR_C2S].next_seq = p->seq + 1;
		f->d[WL_DIR_C2S].dlv_seq = p->seq + 1;
		f->d[WL_DIR_C2S].seq_valid = 1;
		return;
	}
	if (dir != WL_DIR_S2C)
		return;
	if (f->hs == WL_HS_SYN || f->hs == WL_HS_SYNACK) {
		if (p->ack != f->cli_isn + 1) {
			CTR(ft, BAD_SEQ)++;
			return;
		}
		if (f->hs == WL_HS_SYNACK)
			f->synack_retrans++;
		else
			f->synack_first_ns = p->ts_ns;
		f->synack_ns = p->ts_ns;
		f->hs = WL_HS_SYNACK;
	} else if (f->d[WL_DIR_S2C].seq_valid) {
		return;
	}
	f->d[WL_DIR_S2C].next_seq = p->seq + 1;
	f->d[WL_DIR_S2C].dlv_seq = p->seq + 1;
	f->d[WL_DIR_S2C].seq_valid = 1;
	if (!f->d[WL_DIR_C2S].seq_valid) {
		/* The client's SYN was not seen: the SYN/ACK says where its
		 * stream starts, so bytes lost before the first seen are a
		 * gap, not a stream that seems to start later. */
		f->cli_isn = p->ack - 1;
		f->d[WL_DIR_C2S].next_seq = p->ack;
		f->d[WL_DIR_C2S].dlv_seq = p->ack;
		f->d[WL_DIR_C2S].seq_valid = 1;
	}
}

/*
 * Connection analytics of one TCP packet (struct wl_conn_dir): IP ID
 * continuity, window, duplicate ACKs, SACK, and the gaps between data
 * packets inside a burst. Counters and compares only.
 */
static void
tcp_analytics(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const struct wl_pkt *p)
{
	struct wl_conn_dir *c = &f->conn.d[dir];
	struct wl_flow_dir *d = &f->d[dir];
	uint32_t len = WL_MAX(p->payload_len, p->seg_len);
	uint8_t fl = p->tcp_flags;
	uint64_t gap;

	if (p->ip_version == 4) {
		uint16_t step = (uint16_t)(p->ip_id - d->last_ipid);

		/* Sequential senders (Linux per-socket IDs) step by one; a
		 * jump after a run of such steps is packets the tap missed. */
		if (step == 1) {
			d->ipid_run += d->ipid_run < UINT8_MAX;
		} else if (d->ipid_run >= 4 && step > 1 && step < 1024) {
			c->ipid_gaps++;
			c->ipid_missing += step - 1u;
			d->ipid_run = 1;
		} else if (step != 0) {
			d->ipid_run = 0;
		}
		d->last_ipid = p->ip_id;
	}
	if (fl & (WL_TCP_SYN | WL_TCP_RST))
		return;
	c->sack_blocks += p->nsack;
	if (p->tcp_window == 0 && !d->zero_now) {
		c->zero_win++;
		d->zero_now = 1;
		d->zero_since_ns = p->ts_ns;
	} else if (p->tcp_window != 0 && d->zero_now) {
		c->zero_win_ns += p->ts_ns - d->zero_since_ns;
		d->zero_now = 0;
	}
	if (fl & WL_TCP_ACK) {
		/* RFC 5681: same ACK, same window, no data, data in flight. */
		if (d->ack_seen && p->ack == d->last_ack &&
				p->tcp_window == d->last_win && len == 0 &&
				!(fl & WL_TCP_FIN) && f->d[!dir].seq_valid &&
				SEQ_LT(p->ack, f->d[!dir].high_seq))
			c->dup_acks++;
		d->ack_seen = 1;
		d->last_ack = p->ack;
		d->last_win = (uint16_t)p->tcp_window;
	}
	if (len == 0)
		return;
	if (!d->seq_valid || SEQ_GT(p->seq + len, d->high_seq))
		d->high_seq = p->seq + len;
	if (d->in_burst && p->ts_ns > d->last_data_ns) {
		gap = p->ts_ns - d->last_data_ns;
		if (gap > c->stall_max_ns)
			c->stall_max_ns = gap;
		if (gap > d->stall_txn_ns)
			d->stall_txn_ns = gap;
		if (gap >= (uint64_t)ft->conf.stall_ms * WL_NS_PER_MS)
			c->stalls++;
		if (dir == WL_DIR_S2C) {
			uint64_t us = gap / WL_NS_PER_US;
			unsigned int b = us == 0 ? 0 :
				WL_MIN(63u - (unsigned int)__builtin_clzll(us),
				WL_CONN_IPG_BUCKETS - 1u);

			if (f->conn.ipg_count == 0 || gap < f->conn.ipg_min_ns)
				f->conn.ipg_min_ns = gap;
			f->conn.ipg_count++;
			f->conn.ipg_hist[b] += f->conn.ipg_hist[b] < UINT16_MAX;
		}
	}
	d->in_burst = 1;
	d->last_data_ns = p->ts_ns;
	f->d[!dir].in_burst = 0;
}

static void
tcp_input(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const struct wl_pkt *p)
{
	uint8_t fl = p->tcp_flags;

	if (ft->conf.conn_analytics)
		tcp_analytics(ft, f, dir, p);
	if ((fl & WL_TCP_FIN) && f->conn.fin_side == WL_CONN_SIDE_NONE) {
		f->conn.fin_side = dir == WL_DIR_C2S ? WL_CONN_SIDE_CLIENT :
			WL_CONN_SIDE_SERVER;
		f->cli_fin_first = dir == WL_DIR_C2S && (fl & WL_TCP_ACK);
		f->cli_fin_ack = p->ack;
		f->srv_fin_ack = p->ack;
	} else if ((fl & WL_TCP_FIN) && (fl & WL_TCP_ACK) && dir == WL_DIR_C2S &&
			f->conn.fin_side == WL_CONN_SIDE_SERVER &&
			SEQ_GT(f->srv_fin_ack, p->seq + p->seg_len)) {
		/* The server's FIN, seen first, had this one: the client
		 * closed first (the tap saw the two out of order). */
		f->cli_fin_first = 1;
		f->cli_fin_ack = p->ack;
	}
	if ((fl & WL_TCP_RST) && f->conn.rst_side == WL_CONN_SIDE_NONE)
		f->conn.rst_side = dir == WL_DIR_C2S ? WL_CONN_SIDE_CLIENT :
			WL_CONN_SIDE_SERVER;
	if (fl & WL_TCP_SYN) {
		tcp_syn(ft, f, dir, p);
		return;
	}
	if (f->closed)
		return;
	if (fl & WL_TCP_RST) {
		if (f->hs == WL_HS_SYN && dir == WL_DIR_S2C) {
			CTR(ft, REFUSED)++;
			f->conn.flags |= 1u << WL_CONN_F_BIT_REFUSED;
			hs_emit(ft, f, p->ts_ns, 0, "refused", WL_SC_ERROR, 0);
		}
		f->conn.end = WL_CONN_END_RESET;
		close_l7(ft, f, WL_TXN_F_CLOSED, p->ts_ns);
		CTR(ft, CLOSED)++;
		list_move(ft, f, WL_FL_CLOSED);
		return;
	}
	if (f->hs == WL_HS_SYNACK && dir == WL_DIR_C2S && (fl & WL_TCP_ACK)) {
		hs_emit(ft, f, f->synack_ns, p->ts_ns - f->synack_ns,
			"established", WL_SC_OK, 0);
		list_move(ft, f, WL_FL_EST);
	}
	if (fl & WL_TCP_ACK)
		wl_tcp_acked(ft, f, !dir, p->ack, p->ts_ns);
	wl_tcp_segment(ft, f, dir, p);
	/* What this packet brought may free bytes of the other direction
	 * that waited for it. */
	if (f->d[0].dq_n != 0 || f->d[1].dq_n != 0)
		wl_tcp_release(ft, f);
	if (f->ro_on)
		wl_tcp_ro_check(ft, f, p->ts_ns, 0);
	if (f->d[0].fin_done && f->d[1].fin_done && f->d[0].dq_n == 0 &&
			f->d[1].dq_n == 0) {
		f->conn.end = WL_CONN_END_CLOSED;
		close_l7(ft, f, WL_TXN_F_CLOSED, p->ts_ns);
		CTR(ft, CLOSED)++;
		list_move(ft, f, WL_FL_CLOSED);
	}
}

/* ---- public ---- */

#define FLOW_PREFETCH_AHEAD 4

/* Every line a packet touches: key and timers, counters, both directions. */
static inline void
flow_prefetch(const struct wl_flow *f)
{
	const char *c = (const char *)f;
	unsigned int off;

	for (off = 0; off < sizeof(*f); off += RTE_CACHE_LINE_SIZE)
		rte_prefetch0(c + off);
}

static inline void
l7_prefetch(struct wl_flow_table *ft, const struct wl_flow *f)
{
	const char *st = l7_state(ft, f);
	unsigned int off;

	if (st == NULL)
		return;
	for (off = 0; off < 8 * RTE_CACHE_LINE_SIZE && off < ft->l7_slot;
			off += RTE_CACHE_LINE_SIZE)
		rte_prefetch0(st + off);
}

/* ---- capture duplicates ---- */

/*
 * What makes a frame this frame and not a resent one: the direction,
 * the IP ID (a resending stack gives it a new one; IPv6 has none), the
 * length and the whole L4 header. A TCP header tells segments apart by
 * sequence and ACK numbers; UDP ones differ in the payload, whose
 * checksum a capture on the sending host (checksum offload) does not
 * hold, so the first bytes of a datagram are hashed too. TTL and link
 * header are left out: a routed copy differs there.
 */
static inline uint32_t
dup_sig(const struct wl_pkt *p, unsigned int src_side)
{
	uint32_t h = ((uint32_t)p->ip_id << 16) ^ (p->seg_len << 1) ^
		src_side;

	if (p->l4 == NULL) {
		/* Built by hand (tests): the decoded fields. */
		h = rte_hash_crc_4byte(p->seq, h);
		h = rte_hash_crc_4byte(p->ack, h);
		h = rte_hash_crc_4byte(p->payload_len, h);
		return rte_hash_crc_4byte(p->tcp_flags |
			(uint32_t)p->tcp_window << 8, h);
	}
	{
		/* Copied to aligned words: the frame's are not. */
		uint64_t b[5] = { 0 };

		if (p->l4proto == IPPROTO_TCP) {
			memcpy(b, p->l4, 20);
		} else {
			memcpy(b, p->l4, 8);
			memcpy((uint8_t *)b + 8, p->payload,
				WL_MIN(p->payload_len, 32u));
		}
		return rte_hash_crc(b, sizeof(b), h);
	}
}

static inline void
dup_note(struct wl_flow *f, uint32_t sig, uint32_t ts)
{
	f->dup_sig[f->dup_next] = sig;
	f->dup_ts[f->dup_next] = ts;
	f->dup_next = (uint8_t)((f->dup_next + 1) % WL_DUP_RING);
}

/* A copy of one of the flow's latest packets, seen within the window
 * (before or after it: merged captures need not be in time order)? */
static inline int
dup_seen(const struct wl_flow_table *ft, const struct wl_flow *f,
	uint32_t sig, uint32_t ts)
{
	unsigned int i;

	for (i = 0; i < WL_DUP_RING; i++) {
		int32_t dt = (int32_t)(ts - f->dup_ts[i]);

		if (f->dup_sig[i] == sig && (uint32_t)(dt < 0 ? -dt : dt) <=
				ft->dup_window)
			return 1;
	}
	return 0;
}

/* Account a packet to the flow at pos (-ENOENT: none yet). */
static void
flow_input_at(struct wl_flow_table *ft, const struct wl_pkt *p,
	const struct wl_flow_key *k, hash_sig_t sig, unsigned int src_side,
	int pos)
{
	struct wl_flow *f;
	enum wl_dir dir;
	uint32_t dsig = 0, dts = 0;
	int dedup = 0;

	/* A host answers every segment that reaches a closed socket with
	 * the same RST (IP ID 0 on many stacks): no copy to tell apart,
	 * and a copied RST changes nothing but a count. */
	if (ft->dup_window != 0 && !(p->l4proto == IPPROTO_TCP &&
			(p->tcp_flags & WL_TCP_RST))) {
		dsig = dup_sig(p, src_side);
		dts = (uint32_t)(p->ts_ns >> 10);
		dedup = 1;
	}
	if (pos >= 0) {
		f = &ft->flows[pos];
		if (dedup) {
			if (dup_seen(ft, f, dsig, dts)) {
				CTR(ft, DUPLICATE)++;
				return;
			}
			dup_note(f, dsig, dts);
		}
	} else {
		if (p->l4proto == IPPROTO_TCP && (p->tcp_flags & WL_TCP_RST)) {
			CTR(ft, STRAY)++;
			return;
		}
		f = flow_new(ft, k, sig, p, src_side);
		if (f == NULL)
			return;
		if (dedup)
			dup_note(f, dsig, dts);
	}
	dir = src_side == f->cli_side ? WL_DIR_C2S : WL_DIR_S2C;
	if (unlikely(p->ts_source != f->ts_source) && !f->clock_mixed) {
		/* Two clocks (a NIC's and the kernel's) do not subtract:
		 * what this flow emits from now on has no duration. */
		f->clock_mixed = 1;
		CTR(ft, CLOCK_MIXED)++;
	}
	if (p->ts_ns > f->last_ns)
		f->last_ns = p->ts_ns;
	/* The other side's first packet proves a one-way flow (evict());
	 * otherwise requeued lazily: see oldest() and wl_flow_advance(). */
	if (((WL_FL_ONEWAY_MASK >> f->list) & 1) && f->conn.d[!dir].pkts != 0)
		list_move(ft, f, f->list + 1u);
	else if (f->last_ns - f->list_ns >= ft->requeue_ns[f->list])
		list_move(ft, f, f->list);
	f->conn.d[dir].pkts++;
	f->conn.d[dir].bytes += p->wire_len;
	f->conn.d[dir].payload += p->payload_len;
	if (p->l4proto == IPPROTO_TCP)
		tcp_input(ft, f, dir, p);
	else if (!f->closed) {
		struct wl_stream_pos pos = {
			.off = f->conn.d[dir].pkts - 1,
			.peer_ack = UINT64_MAX,
		};

		wl_flow_deliver(ft, f, dir, p->payload, p->payload_len,
			p->ts_ns, &pos);
	}
}

void
wl_flow_input(struct wl_flow_table *ft, const struct wl_pkt *p)
{
	struct wl_flow_key k;
	unsigned int src_side;
	hash_sig_t sig;

	if (p->l4proto != IPPROTO_TCP && p->l4proto != IPPROTO_UDP)
		return;
	key_make(&k, p, &src_side);
	sig = rte_hash_crc(&k, sizeof(k), 0);
	flow_input_at(ft, p, &k, sig, src_side,
		rte_hash_lookup_with_hash(ft->hash, &k, sig));
}

void
wl_flow_input_burst(struct wl_flow_table *ft, const struct wl_pkt *p,
	unsigned int n)
{
	struct wl_flow_key k[WL_FLOW_BURST];
	const void *kp[WL_FLOW_BURST];
	hash_sig_t sig[WL_FLOW_BURST];
	int32_t pos[WL_FLOW_BURST];
	unsigned int side[WL_FLOW_BURST];
	uint16_t idx[WL_FLOW_BURST];
	unsigned int i, m = 0;
	uint64_t gen;

	for (; n > WL_FLOW_BURST; n -= WL_FLOW_BURST, p += WL_FLOW_BURST)
		wl_flow_input_burst(ft, p, WL_FLOW_BURST);
	for (i = 0; i < n; i++) {
		if (p[i].l4proto != IPPROTO_TCP && p[i].l4proto != IPPROTO_UDP)
			continue;
		key_make(&k[m], &p[i], &side[m]);
		sig[m] = rte_hash_crc(&k[m], sizeof(k[m]), 0);
		kp[m] = &k[m];
		idx[m++] = (uint16_t)i;
	}
	if (m == 0)
		return;
	/* One bulk lookup overlaps the bucket and key cache misses of the
	 * whole burst; the flows found are prefetched the same way. */
	if (rte_hash_lookup_with_hash_bulk(ft->hash, kp, sig, m, pos) != 0)
		for (i = 0; i < m; i++)
			pos[i] = -ENOENT;
	for (i = 0; i < m && i < FLOW_PREFETCH_AHEAD; i++)
		if (pos[i] >= 0)
			flow_prefetch(&ft->flows[pos[i]]);
	gen = ft->del_gen;
	for (i = 0; i < m; i++) {
		int32_t ps = pos[i];

		/* The next packet's flow is in cache by now: fetch the
		 * head of its protocol state (parser and oldest request). */
		if (i + 1 < m && pos[i + 1] >= 0 && ft->del_gen == gen)
			l7_prefetch(ft, &ft->flows[pos[i + 1]]);
		/* A few flows ahead: more would overflow the fill buffers. */
		if (i + FLOW_PREFETCH_AHEAD < m &&
				pos[i + FLOW_PREFETCH_AHEAD] >= 0)
			flow_prefetch(&ft->flows[pos[i + FLOW_PREFETCH_AHEAD]]);

		/* A flow created by an earlier packet of the burst, or any
		 * flow freed meanwhile (its slot may be reused): look again. */
		if (ps < 0 || ft->del_gen != gen)
			ps = rte_hash_lookup_with_hash(ft->hash, &k[i], sig[i]);
		flow_input_at(ft, &p[idx[i]], &k[i], sig[i], side[i], ps);
	}
}

void
wl_flow_advance(struct wl_flow_table *ft, uint64_t now_ns)
{
	unsigned int l, budget;

	/* Reorder windows that ran out with no packet of their flow. */
	for (budget = WL_EXPIRE_BUDGET; budget > 0 && ft->ro_head != WL_NIL;
			budget--) {
		struct wl_flow *f = &ft->flows[ft->ro_head];

		if (f->ro_since_ns + ft->reorder_ns > now_ns)
			break;
		wl_tcp_ro_check(ft, f, now_ns, 1);
		if (f->d[0].fin_done && f->d[1].fin_done && !f->closed) {
			f->conn.end = WL_CONN_END_CLOSED;
			close_l7(ft, f, WL_TXN_F_CLOSED, now_ns);
			CTR(ft, CLOSED)++;
			list_move(ft, f, WL_FL_CLOSED);
		}
	}

	for (l = 0; l < WL_FL_MAX; l++) {
		for (budget = WL_EXPIRE_BUDGET; budget > 0; budget--) {
			struct wl_flow *f;

			if (ft->head[l] == WL_NIL)
				break;
			f = &ft->flows[ft->head[l]];
			/* Queued in order: nothing behind can be due yet. */
			if (f->list_ns + ft->timeout_ns[l] > now_ns)
				break;
			/* Active since it was queued: back to the tail. */
			if (f->last_ns + ft->timeout_ns[l] > now_ns) {
				list_move(ft, f, l);
				continue;
			}
			if (!f->closed)
				CTR(ft, EXPIRED)++;
			finish(ft, f, WL_CONN_END_TIMEOUT, WL_TXN_F_TIMEOUT,
				now_ns);
		}
	}
}

void
wl_flow_flush(struct wl_flow_table *ft, uint64_t now_ns)
{
	struct wl_flow *f;

	while ((f = oldest(ft, UINT32_MAX)) != NULL) {
		/*
		 * No packet will fill a hole now: a reorder window still
		 * open ends, and a close it held back (FIN both ways) is
		 * what ended the connection, not the capture's end.
		 */
		if (f->ro_on && !f->closed) {
			wl_tcp_ro_check(ft, f, RTE_MAX(now_ns, f->ro_since_ns +
				ft->reorder_ns), 1);
			if (f->d[0].fin_done && f->d[1].fin_done) {
				f->conn.end = WL_CONN_END_CLOSED;
				close_l7(ft, f, WL_TXN_F_CLOSED, now_ns);
				CTR(ft, CLOSED)++;
			}
		}
		finish(ft, f, WL_CONN_END_END_OF_CAPTURE,
			WL_TXN_F_END_OF_CAPTURE, now_ns);
	}
}

uint32_t
wl_flow_count(const struct wl_flow_table *ft)
{
	return ft->count;
}

void
wl_flow_table_free(struct wl_flow_table *ft)
{
	if (ft == NULL)
		return;
	rte_hash_free(ft->hash);
	rte_free(ft->flows);
	rte_free(ft->l7_pool);
	rte_free(ft->ooo_pool);
	wl_mpool_free(ft->mpool);
	rte_free(ft);
}

struct wl_flow_table *
wl_flow_table_create(const struct wl_flow_conf *conf,
	const struct wl_txn_sink *sink, struct wl_flow_stats *stats,
	uint64_t *proto_ctr_, unsigned int lcore, int socket)
{
	static uint32_t seq;
	struct rte_hash_parameters hp;
	struct wl_flow_table *ft;
	char name[RTE_HASH_NAMESIZE];
	uint32_t i, maxstate = 0;

	if (conf == NULL || sink == NULL || stats == NULL ||
			proto_ctr_ == NULL || conf->max_flows == 0 ||
			conf->n_protos > 32 || (conf->protos != NULL &&
			conf->n_protos == 0)) {
		rte_errno = EINVAL;
		return NULL;
	}
	ft = rte_zmalloc_socket("wl_flow", sizeof(*ft), RTE_CACHE_LINE_SIZE,
		socket);
	if (ft == NULL)
		goto nomem;
	ft->conf = *conf;
	if (ft->conf.protos == NULL) {
		ft->conf.protos = wl_protos;
		ft->conf.n_protos = WL_PROTO_MAX;
	}
	ft->sink = sink;
	ft->count_sink.emit = count_emit;
	ft->count_sink.arg = ft;
	ft->st = stats;
	ft->proto_ctr = proto_ctr_;
	ft->lcore = lcore;
	/* Unique per run across parser lcores (docs/output.md). */
	ft->next_id = (uint64_t)lcore << 48;
	for (i = 0; i < WL_FL_MAX; i++)
		ft->head[i] = ft->tail[i] = WL_NIL;
	ft->ro_head = ft->ro_tail = WL_NIL;
	ft->unproven_max = (uint32_t)((uint64_t)conf->max_flows *
		RTE_MIN(conf->unproven_pct, 100u) / 100);
	ft->reorder_ns = (uint64_t)conf->reorder_ms * WL_NS_PER_MS;
	ft->timeout_ns[WL_FL_SYN] = conf->tcp_syn_ms * WL_NS_PER_MS;
	ft->timeout_ns[WL_FL_ONEWAY] = conf->tcp_idle_ms * WL_NS_PER_MS;
	ft->timeout_ns[WL_FL_EST] = conf->tcp_idle_ms * WL_NS_PER_MS;
	ft->timeout_ns[WL_FL_CLOSED] = conf->tcp_closed_ms * WL_NS_PER_MS;
	ft->timeout_ns[WL_FL_UDP1] = conf->udp_idle_ms * WL_NS_PER_MS;
	ft->timeout_ns[WL_FL_UDP] = conf->udp_idle_ms * WL_NS_PER_MS;
	for (i = 0; i < WL_FL_MAX; i++)
		ft->requeue_ns[i] = ft->timeout_ns[i] / 16;
	/* 1.024 us units, at least one so a window of 1 us is not 0. */
	ft->dup_window = conf->dedup_window_us == 0 ? 0 :
		RTE_MAX(1u, (uint32_t)(((uint64_t)conf->dedup_window_us * 1000) >>
		10));

	/* Extendable buckets: max_flows keys always fit. */
	ft->n_slots = RTE_MAX(conf->max_flows, 8u);
	memset(&hp, 0, sizeof(hp));
	snprintf(name, sizeof(name), "wlflow%u_%u", lcore,
		__atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	hp.name = name;
	hp.entries = ft->n_slots;
	hp.key_len = sizeof(struct wl_flow_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = socket;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	ft->hash = rte_hash_create(&hp);
	if (ft->hash == NULL)
		goto nomem;
	ft->flows = rte_zmalloc_socket("wl_flows",
		(size_t)ft->n_slots * sizeof(struct wl_flow),
		RTE_CACHE_LINE_SIZE, socket);
	if (ft->flows == NULL)
		goto nomem;

	for (i = 0; i < ft->conf.n_protos; i++) {
		if (ft->conf.protos[i] != NULL &&
				ft->conf.protos[i]->state_size > maxstate)
			maxstate = ft->conf.protos[i]->state_size;
		if (usable(ft, i, IPPROTO_TCP))
			ft->usable_tcp |= 1u << i;
		if (usable(ft, i, IPPROTO_UDP))
			ft->usable_udp |= 1u << i;
	}
	if (conf->probe_db != NULL) {
		ft->probe_scr = wl_probe_scratch_create(conf->probe_db);
		if (ft->probe_scr == NULL)
			goto nomem;
	}
	ft->l7_free = WL_NIL;
	if (maxstate > 0 && conf->l7_state_max > 0) {
		ft->l7_slot = RTE_ALIGN_CEIL(RTE_MAX(maxstate,
			(uint32_t)sizeof(uint32_t)), 16u);
		ft->l7_pool = rte_zmalloc_socket("wl_l7",
			(size_t)ft->l7_slot * conf->l7_state_max,
			RTE_CACHE_LINE_SIZE, socket);
		if (ft->l7_pool == NULL)
			goto nomem;
	}

	ft->mpool = wl_mpool_create(conf->pending_max != 0 ?
		conf->pending_max : 4096, socket);
	if (ft->mpool == NULL)
		goto nomem;

	ft->ooo_free = WL_NIL;
	ft->ooo_slot = RTE_ALIGN_CEIL((uint32_t)sizeof(struct wl_ooo_seg) +
		conf->ooo_seg_bytes, 8u);
	if (conf->ooo_pool_segs > 0) {
		ft->ooo_pool = rte_zmalloc_socket("wl_ooo",
			(size_t)ft->ooo_slot * conf->ooo_pool_segs,
			RTE_CACHE_LINE_SIZE, socket);
		if (ft->ooo_pool == NULL)
			goto nomem;
	}
	return ft;

nomem:
	wl_flow_table_free(ft);
	rte_errno = ENOMEM;
	return NULL;
}

/* ---- JSON (collector side) ---- */

const char *
wl_flow_conn_close(const struct wl_conn *c)
{
	if (c->rst_side != WL_CONN_SIDE_NONE)
		return c->rst_side == WL_CONN_SIDE_CLIENT ? "rst_client" :
			"rst_server";
	if (c->fin_side != WL_CONN_SIDE_NONE)
		return c->fin_side == WL_CONN_SIDE_CLIENT ? "fin_client" :
			"fin_server";
	switch (c->end) {
	case WL_CONN_END_EVICTED:
		return "evicted";
	case WL_CONN_END_END_OF_CAPTURE:
		return "end_of_capture";
	default:
		/* idle timeout, or superseded by a new SYN on its ports */
		return "timeout";
	}
}

int
wl_flow_conn_syn_only(const struct wl_conn *c)
{
	return c->l4proto == IPPROTO_TCP &&
		(c->flags & (1u << WL_CONN_F_BIT_UNANSWERED)) != 0 &&
		c->d[WL_DIR_S2C].pkts == 0 &&
		c->d[WL_DIR_C2S].pkts == (uint64_t)c->syn_retrans + 1;
}

const struct wl_metric_def wl_flow_conn_metrics[] = {
	{ "conn_duration", "tcp_connection_duration_seconds", "close",
		WL_UNIT_NS, "TCP connections that ended: first SYN (or "
		"packet) to last packet, by how they closed" },
	{ "conn_retrans", "tcp_connection_retransmitted_segments", NULL,
		WL_UNIT_COUNT, "TCP connections that retransmitted: their "
		"retransmitted segments, both ways" },
	{ "conn_zero_window", "tcp_connection_zero_window_seconds", NULL,
		WL_UNIT_NS, "TCP connections where a side advertised a zero "
		"window: how long the windows stayed zero" },
	{ NULL, NULL, NULL, 0, NULL },
};

unsigned int
wl_flow_conn_series(const struct wl_txn *t, struct wl_metric_val *out)
{
	const struct wl_conn *c = (const void *)t->conn_area;
	const char *close = wl_flow_conn_close(c);
	unsigned int n = 0;

	if (c->l4proto != IPPROTO_TCP)
		return 0;
	out[n++] = (struct wl_metric_val){ &wl_flow_conn_metrics[0], close,
		strncmp(close, "rst_", 4) == 0 ? WL_SC_ERROR : WL_SC_OK,
		t->rsp_end_ns - t->req_start_ns };
	if ((uint64_t)c->d[0].retrans + c->d[1].retrans != 0)
		out[n++] = (struct wl_metric_val){ &wl_flow_conn_metrics[1], "",
			WL_SC_OK, (uint64_t)c->d[0].retrans + c->d[1].retrans };
	if (c->d[0].zero_win + c->d[1].zero_win != 0)
		out[n++] = (struct wl_metric_val){ &wl_flow_conn_metrics[2], "",
			WL_SC_OK, c->d[0].zero_win_ns + c->d[1].zero_win_ns };
	return n;
}
