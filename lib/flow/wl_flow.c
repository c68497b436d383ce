/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The per-lcore flow table: lookup and creation, client/server roles,
 * timer lists, eviction, the TCP handshake transaction and L7 dispatch
 * (port pinning, probing, state pool). Sequence tracking is in
 * wl_tcp_track.c.
 *
 * Invariants: a flow lives in the table's buckets and in exactly one
 * timer list while it is in the table; every list is ordered by last
 * activity because its members share one timeout, so expiry and eviction
 * look at list heads only. The list also says what a flow is worth
 * keeping: once flows not proven (no completed handshake, or one side
 * only) and closed ones fill their share of the table, a full table
 * evicts from their lists only, so a SYN flood cannot push out idle
 * established connections. A flow is a three-line entry plus parts taken
 * from per-lcore pools while it needs them (wl_flow_priv.h); every part
 * and slot a flow holds is returned when it leaves, and a flow holds a
 * handshake part exactly while it is on the handshake list. All memory
 * is allocated at creation; the data path only moves indexes around.
 */

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_byteorder.h>
#include <rte_vect.h>
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

/* ---- parts ---- */

/* A zeroed slot of pool p, or NULL; peak: the pool's gauge. */
static void *
part_take(struct wl_flow_table *ft, struct wl_pool *p, uint32_t *idx,
	enum wl_flow_ctr peak)
{
	void *s;

	*idx = wl_pool_take(p);
	if (*idx == WL_NIL)
		return NULL;
	ft->st->c[peak] = p->peak;
	s = wl_pool_at(p, *idx);
	memset(s, 0, p->slot);
	return s;
}

struct wl_flow_extra *
wl_flow_extra_get(struct wl_flow_table *ft, struct wl_flow *f)
{
	struct wl_flow_extra *x;

	if (f->extra != WL_NIL)
		return wl_pool_at(&ft->extra_pool, f->extra);
	if (f->extra_failed)
		return NULL;
	x = part_take(ft, &ft->extra_pool, &f->extra,
		WL_FLOW_CTR_EXTRA_PEAK);
	if (x == NULL) {
		/* Counts from now on are missing: say so, once. */
		f->extra_failed = 1;
		f->cflags |= 1u << WL_CONN_F_BIT_PARTIAL;
		CTR(ft, EXTRA_FULL)++;
	}
	return x;
}

/* Connection analytics run on f: a TCP flow, with them configured. */
static inline int
an_on(const struct wl_flow_table *ft, const struct wl_flow *f)
{
	return ft->conf.conn_analytics && f->key.l4proto == IPPROTO_TCP;
}

static inline struct wl_flow_ev *
ev_peek(struct wl_flow_table *ft, const struct wl_flow *f)
{
	return f->ev == WL_NIL ? NULL : wl_pool_at(&ft->ev_pool, f->ev);
}

/* The analytics events of f, taken at the first; NULL (the flow flagged
 * partial, once) when the pool is empty. */
static struct wl_flow_ev *
ev_get(struct wl_flow_table *ft, struct wl_flow *f)
{
	struct wl_flow_ev *e;

	if (f->ev != WL_NIL)
		return wl_pool_at(&ft->ev_pool, f->ev);
	if (f->ev_failed)
		return NULL;
	e = part_take(ft, &ft->ev_pool, &f->ev, WL_FLOW_CTR_EVENTS_PEAK);
	if (e == NULL) {
		f->ev_failed = 1;
		f->cflags |= 1u << WL_CONN_F_BIT_PARTIAL;
		CTR(ft, EVENTS_FULL)++;
	}
	return e;
}

static inline struct wl_flow_hs *
hs_get(struct wl_flow_table *ft, const struct wl_flow *f)
{
	return wl_pool_at(&ft->hs_pool, f->hsp);
}

static inline struct wl_flow_probe *
probe_get(struct wl_flow_table *ft, const struct wl_flow *f)
{
	return f->l7 == WL_NIL ? NULL : wl_pool_at(&ft->probe_pool, f->l7);
}

static inline struct wl_flow_stash *
stash_get(struct wl_flow_table *ft, const struct wl_flow_probe *pr)
{
	return pr == NULL || pr->stash == WL_NIL ? NULL :
		wl_pool_at(&ft->stash_pool, pr->stash);
}

/* The stash goes back once neither direction holds bytes. */
static void
stash_trim(struct wl_flow_table *ft, struct wl_flow_probe *pr)
{
	const struct wl_flow_stash *st = stash_get(ft, pr);

	if (st == NULL || st->len[0] != 0 || st->len[1] != 0)
		return;
	wl_pool_put(&ft->stash_pool, pr->stash);
	pr->stash = WL_NIL;
}

/* Detection is over (a protocol claims the flow, or none will). */
static void
probe_put(struct wl_flow_table *ft, struct wl_flow *f)
{
	struct wl_flow_probe *pr = probe_get(ft, f);

	if (pr == NULL)
		return;
	if (pr->stash != WL_NIL)
		wl_pool_put(&ft->stash_pool, pr->stash);
	wl_pool_put(&ft->probe_pool, f->l7);
	f->l7 = WL_NIL;
}

static inline unsigned int
probe_st(const struct wl_flow *f, unsigned int dir)
{
	return (f->dfl[dir] & WL_FD_PROBE) >> WL_FD_PROBE_SHIFT;
}

static inline void
probe_st_set(struct wl_flow *f, unsigned int dir, unsigned int st)
{
	f->dfl[dir] = (uint8_t)((f->dfl[dir] & ~WL_FD_PROBE) |
		st << WL_FD_PROBE_SHIFT);
}

/* The parts a leaving flow still holds (L7 and handshake ones went when
 * L7 closed, reorder ones with its segments). */
static void
parts_put(struct wl_flow_table *ft, struct wl_flow *f)
{
	if (f->ev != WL_NIL) {
		wl_pool_put(&ft->ev_pool, f->ev);
		f->ev = WL_NIL;
	}
	if (f->extra != WL_NIL) {
		wl_pool_put(&ft->extra_pool, f->extra);
		f->extra = WL_NIL;
	}
}

/* ---- counts ---- */

static inline uint64_t
npkts(struct wl_flow_table *ft, const struct wl_flow *f, unsigned int dir)
{
	return wl_ctr(ft, f, WL_C_PKTS, dir);
}

/* Bytes of dir handed to L7 in order, each once (struct wl_conn_dir). */
static uint64_t
delivered(struct wl_flow_table *ft, const struct wl_flow *f, unsigned int dir)
{
	const struct wl_flow_extra *x = wl_extra(ft, f);

	if (f->key.l4proto != IPPROTO_TCP)
		return wl_ctr(ft, f, WL_C_PAYLOAD, dir);
	return f->dlv_off[dir] - (x != NULL ? x->gap_bytes[dir] : 0);
}

void
wl_flow_retrans(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	uint32_t bytes)
{
	struct wl_flow_extra *x = wl_flow_extra_get(ft, f);

	if (x != NULL) {
		x->retrans_bytes[dir] += bytes;
		x->retrans[dir]++;
	}
	f->cflags |= 1u << WL_CONN_F_BIT_RETRANS;
}

void
wl_flow_ooo(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir)
{
	struct wl_flow_extra *x = wl_flow_extra_get(ft, f);

	if (x != NULL)
		x->ooo[dir]++;
	f->cflags |= 1u << WL_CONN_F_BIT_OOO;
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

/* The address of key side `side` of f (IPv4 ones v4-mapped, as struct
 * wl_addr keeps them). One 16-byte store: a record's copy of it loads
 * all 16 bytes at once, which pieces still in the store buffer would
 * not forward (wl_proto_txn_init, which copies it, went from 7.8 to
 * 4.8 % of redis-p16's parser samples). */
static inline void
flow_addr(const struct wl_flow_table *ft, const struct wl_flow *f,
	unsigned int side, struct wl_addr *a)
{
	int32_t v4;

	if (f->key.v6) {
		const struct wl_flow_v6 *v = wl_pool_at(&ft->v6_pool,
			f->key.a[1]);

		*a = v->addr[side];
		return;
	}
	memcpy(&v4, &f->key.a[side], sizeof(v4));
	_mm_storeu_si128((__m128i *)(void *)a->a, _mm_set_epi32(v4,
		(int32_t)rte_cpu_to_be_32(0xffff), 0, 0));
}

static void
ctx_init(struct wl_flow_table *ft, struct wl_flow *f, unsigned int proto,
	struct wl_proto_ctx *ctx)
{
	flow_addr(ft, f, f->cli_side, &ctx->cli);
	flow_addr(ft, f, !f->cli_side, &ctx->srv);
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

/* The pool of protocol id's states on transport l4proto. */
static inline struct wl_pool *
l7_pool(struct wl_flow_table *ft, unsigned int id, uint8_t l4proto)
{
	return &ft->l7_pool[id + (l4proto != ft->conf.protos[id]->l4proto ?
		WL_FLOW_PROTOS : 0)];
}

static void *
l7_state(struct wl_flow_table *ft, const struct wl_flow *f)
{
	if (f->proto == WL_PROTO_NONE || f->l7 == WL_NIL)
		return NULL;
	return wl_pool_at(l7_pool(ft, f->proto, f->key.l4proto), f->l7);
}

/*
 * Claim f for protocol id (its probing part already given back). mid:
 * bit d (1u << enum wl_dir) set when L7 does not see direction d from
 * its first byte (picked up without a handshake, bytes lost or left
 * unparsed before this one): answers may come to questions it never saw
 * (struct wl_proto_ctx midstream), or answers it never saw have been
 * sent (rsp_midstream).
 */
static int
l7_claim(struct wl_flow_table *ft, struct wl_flow *f, unsigned int id,
	unsigned int mid)
{
	const struct wl_proto_ops *ops = ft->conf.protos[id];
	struct wl_proto_ctx ctx;
	int nosyn = (f->cflags & (1u << WL_CONN_F_BIT_MIDSTREAM)) != 0;
	uint32_t size = wl_proto_state_size(ops, f->key.l4proto);

	if (size > 0) {
		struct wl_pool *pool = l7_pool(ft, id, f->key.l4proto);
		uint32_t i = wl_pool_take(pool);

		if (i == WL_NIL) {
			CTR(ft, L7_STATE_FULL)++;
			f->l7_off = 1;
			return -ENOSPC;
		}
		f->l7 = i;
		memset(wl_pool_at(pool, i), 0, size);
	}
	f->proto = (uint8_t)id;
	CTR(ft, L7_DETECTED)++;
	proto_ctr(ft, id)[WL_PROTO_CTR_FLOWS]++;
	if (ops->init != NULL) {
		ctx_init(ft, f, id, &ctx);
		ctx.midstream = (uint8_t)((mid & 1u << WL_DIR_C2S) || nosyn ||
			(f->dfl[WL_DIR_C2S] & WL_FD_GAP));
		ctx.rsp_midstream = (uint8_t)((mid & 1u << WL_DIR_S2C) ||
			nosyn || (f->dfl[WL_DIR_S2C] & WL_FD_GAP));
		ops->init(l7_state(ft, f), &ctx);
	}
	return 0;
}

/* The flow's L7 state slot, or its probing part, back to its pool. */
static void
l7_release(struct wl_flow_table *ft, struct wl_flow *f)
{
	if (f->proto == WL_PROTO_NONE) {
		probe_put(ft, f);
		return;
	}
	if (f->l7 == WL_NIL)
		return;
	wl_pool_put(l7_pool(ft, f->proto, f->key.l4proto), f->l7);
	f->l7 = WL_NIL;
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
 * fed to the protocol first once it claims the flow. What the next
 * chunks need is kept in parts taken when a chunk does not settle the
 * flow: the bytes offered so far (a probing part; with none left,
 * detection stops: flow_probing_full) and held bytes (a stash; with
 * none left, MAYBE is taken as NO: flow_stash_full).
 */
static void
probe(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const uint8_t *data, uint32_t len, uint64_t ts_ns,
	const struct wl_stream_pos *pos)
{
	struct wl_flow_probe *pr = probe_get(ft, f);
	struct wl_flow_stash *st = stash_get(ft, pr);
	uint8_t buf[WL_PROBE_STASH + 512];
	const uint8_t *pd = data;
	uint32_t pl = len, k, probed = pr != NULL ? pr->probed[dir] : 0;
	uint32_t stash_len = st != NULL ? st->len[dir] : 0;
	int id, maybe = 0, tcp = f->key.l4proto == IPPROTO_TCP;

	/* A direction that had its share, or was refused at a message
	 * start, is settled. */
	if ((probe_st(f, dir) == WL_PS_NO && f->hs != WL_HS_NONE && tcp) ||
			probed >= ft->conf.probe_max_bytes)
		return;
	if (stash_len > 0) {
		memcpy(buf, st->data[dir], stash_len);
		k = WL_MIN(len, (uint32_t)sizeof(buf) - stash_len);
		memcpy(buf + stash_len, data, k);
		pd = buf;
		pl = stash_len + k;
	}
	probed += len;
	id = probe_all(ft, f, dir, pd, pl, &maybe);
	if (id >= 0) {
		/* L7 starts here: anything before, either way, it never
		 * parsed. Held bytes keep their own packet's time (a
		 * message's first byte may have come earlier) and
		 * position. */
		struct wl_stream_pos sp = stash_len > 0 ? st->pos[dir] : *pos;
		uint64_t sts = stash_len > 0 ? st->ts[dir] : 0;
		unsigned int mid = (sp.off != 0 ? 1u << dir : 0) |
			((f->dfl[!dir] & WL_FD_DLV) ? 1u << !dir : 0);

		if (stash_len > 0)
			memcpy(buf, st->data[dir], stash_len);
		probe_put(ft, f);
		if (l7_claim(ft, f, (unsigned int)id, mid) != 0)
			return;
		if (stash_len > 0)
			l7_feed(ft, f, dir, buf, stash_len, sts, &sp);
		if (!f->l7_off)
			l7_feed(ft, f, dir, data, len, ts_ns, pos);
		return;
	}
	if (tcp && f->hs == WL_HS_NONE && stash_len == 0) {
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
			probe_put(ft, f);
			if (l7_claim(ft, f, (unsigned int)id, 3) == 0) {
				struct wl_stream_pos sp = *pos;

				sp.off += j;
				l7_feed(ft, f, dir, nl, len - j, ts_ns, &sp);
			}
			return;
		}
	}
	/* Not settled by this chunk: keep what the next ones need. */
	if (pr == NULL) {
		uint32_t i;

		pr = part_take(ft, &ft->probe_pool, &i,
			WL_FLOW_CTR_PROBING_PEAK);
		if (pr == NULL) {
			f->l7_off = 1;
			CTR(ft, PROBING_FULL)++;
			return;
		}
		pr->stash = WL_NIL;
		f->l7 = i;
	}
	pr->probed[dir] = probed;
	if (maybe && tcp && stash_len + len <= WL_PROBE_STASH && st == NULL) {
		st = part_take(ft, &ft->stash_pool, &pr->stash,
			WL_FLOW_CTR_STASH_PEAK);
		if (st == NULL)
			CTR(ft, STASH_FULL)++;
	}
	if (maybe && tcp && stash_len + len <= WL_PROBE_STASH && st != NULL) {
		if (stash_len == 0) {
			st->ts[dir] = ts_ns;
			st->pos[dir] = *pos;
		}
		memcpy(st->data[dir] + stash_len, data, len);
		st->len[dir] = (uint8_t)(stash_len + len);
		probe_st_set(f, dir, WL_PS_MAYBE);
	} else {
		if (st != NULL) {
			st->len[dir] = 0;
			stash_trim(ft, pr);
		}
		probe_st_set(f, dir, WL_PS_NO);
	}
	/* Each direction has its share: a server's long answers do not use
	 * up what its client's request (all that probes know) needs. */
	if ((tcp && f->hs != WL_HS_NONE && probe_st(f, 0) == WL_PS_NO &&
			probe_st(f, 1) == WL_PS_NO) ||
			(pr->probed[0] >= ft->conf.probe_max_bytes &&
			pr->probed[1] >= ft->conf.probe_max_bytes)) {
		f->l7_off = 1;
		CTR(ft, L7_UNKNOWN)++;
		probe_put(ft, f);
	}
}

void
wl_flow_deliver(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const uint8_t *data, uint32_t len, uint64_t ts_ns,
	const struct wl_stream_pos *pos)
{
	if (len == 0)
		return;
	f->dfl[dir] |= WL_FD_DLV;
	if (f->l7_off)
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
	if (len != 0) {
		struct wl_flow_extra *x = wl_flow_extra_get(ft, f);

		if (x != NULL)
			x->gap_bytes[dir] += len;
		f->dfl[dir] |= WL_FD_GAP;
	}
	f->cflags |= 1u << WL_CONN_F_BIT_GAP;
	if (f->l7_off)
		return;
	if (f->proto == WL_PROTO_NONE) {
		/* What follows starts mid-message: probe afresh. */
		struct wl_flow_probe *pr = probe_get(ft, f);
		struct wl_flow_stash *st = stash_get(ft, pr);

		if (st != NULL) {
			st->len[dir] = 0;
			stash_trim(ft, pr);
		}
		probe_st_set(f, dir, WL_PS_UNSEEN);
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
	struct wl_flow_ro *r = wl_ro(ft, f);
	uint32_t i = flow_idx(ft, f);

	r->next = WL_NIL;
	r->prev = ft->ro_tail;
	if (r->prev != WL_NIL)
		wl_ro(ft, &ft->flows[r->prev])->next = i;
	else
		ft->ro_head = i;
	ft->ro_tail = i;
}

void
wl_flow_ro_unlink(struct wl_flow_table *ft, struct wl_flow *f)
{
	struct wl_flow_ro *r = wl_ro(ft, f);

	if (r->prev != WL_NIL)
		wl_ro(ft, &ft->flows[r->prev])->next = r->next;
	else
		ft->ro_head = r->next;
	if (r->next != WL_NIL)
		wl_ro(ft, &ft->flows[r->next])->prev = r->prev;
	else
		ft->ro_tail = r->prev;
	r->prev = r->next = WL_NIL;
}

/* ---- transactions ---- */

/* Counts, and adds what only the flow knows, in place (wl_txn_sink). */
static void
count_emit(void *arg, struct wl_txn *t)
{
	struct wl_flow_table *ft = arg;
	struct wl_flow *f = ft->cur;
	struct wl_flow_extra *xe;
	struct wl_flow_ev *ev;

	if (t->kind == WL_TXN_KIND_TXN)
		CTR(ft, TXNS)++;
	if (t->kind != WL_TXN_KIND_TXN || f == NULL ||
			f->flow_id != t->flow_id) {
		ft->sink->emit(ft->sink->arg, t);
		return;
	}
	if (unlikely(f->clock_mixed))
		t->flags |= WL_TXN_F_CLOCK_MIXED;
	if (t->proto != WL_PROTO_TCP) {
		/* An L7 answer: what the server side did since the last
		 * one. */
		xe = wl_extra(ft, f);
		ev = ev_peek(ft, f);
		t->rsp_stall_ns = ev != NULL ? ev->stall_txn_ns : 0;
		t->rsp_retrans = xe != NULL ? xe->retrans[WL_DIR_S2C] -
			xe->retrans_txn : 0;
		t->rsp_ooo = xe != NULL ? xe->ooo[WL_DIR_S2C] - xe->ooo_txn : 0;
		if (ev != NULL)
			ev->stall_txn_ns = 0;
		if (xe != NULL) {
			xe->retrans_txn = xe->retrans[WL_DIR_S2C];
			xe->ooo_txn = xe->ooo[WL_DIR_S2C];
		}
	}
	ft->sink->emit(ft->sink->arg, t);
}

/*
 * The handshake transaction: request = the SYN answered, response = the
 * SYN/ACK (or the RST refusing it), client_rtt = SYN/ACK -> ACK. The
 * handshake part goes back; what the connection record needs of it
 * stays (the RTTs in the entry, retransmissions in the extra part).
 */
static void
hs_emit(struct wl_flow_table *ft, struct wl_flow *f, uint64_t rsp_ns,
	uint64_t client_rtt, const char *status, enum wl_status_class sc,
	uint32_t flags)
{
	const struct wl_flow_hs *h = hs_get(ft, f);
	struct wl_proto_ctx ctx;
	struct wl_tcp_txn *x;
	uint64_t rtt[2] = { 0, 0 };
	struct wl_txn t;
	unsigned int i;

	ctx_init(ft, f, WL_PROTO_TCP, &ctx);
	wl_proto_txn_init(&ctx, &t);
	wl_txn_reset_area(&t, sizeof(*x));
	t.proto = WL_PROTO_TCP;
	t.kind = WL_TXN_KIND_TXN;
	wl_txn_set_method(&t, "handshake");
	wl_txn_set_status(&t, status);
	t.status_class = (uint8_t)sc;
	t.flags = flags;
	/* First SYN to latest SYN is the request: duration_ns is the connect
	 * time the client saw, ttfb_ns the RTT of the SYN that was answered.
	 * The first SYN was the flow's first packet. */
	t.req_start_ns = f->first_ns;
	t.req_end_ns = h->syn_ns;
	/* A retransmitted SYN/ACK: the first one answered, the last one is
	 * what the client's ACK answers (client_rtt). */
	t.rsp_start_ns = h->synack_first_ns != 0 &&
		h->synack_first_ns < rsp_ns ? h->synack_first_ns : rsp_ns;
	t.rsp_end_ns = rsp_ns;
	x = wl_txn_area(&t);
	x->client_rtt_ns = client_rtt;
	x->syn_retrans = h->syn_retrans;
	x->synack_retrans = h->synack_retrans;
	/* What wl_flow_conn_syn_only() will say of its record. */
	if ((f->cflags & (1u << WL_CONN_F_BIT_UNANSWERED)) &&
			npkts(ft, f, WL_DIR_S2C) == 0 &&
			npkts(ft, f, WL_DIR_C2S) ==
			(uint64_t)h->syn_retrans + 1)
		t.flags |= WL_TXN_F_SYN_ONLY;
	if (sc == WL_SC_OK) {
		rtt[0] = wl_txn_ttfb(&t);
		rtt[1] = client_rtt;
	}
	if (h->syn_retrans != 0 || h->synack_retrans != 0) {
		struct wl_flow_extra *xe = wl_flow_extra_get(ft, f);

		if (xe != NULL) {
			xe->syn_retrans = h->syn_retrans;
			xe->synack_retrans = h->synack_retrans;
		}
	}
	wl_pool_put(&ft->hs_pool, f->hsp);
	/* 4.29 s and longer: the high word in the extra part, or no RTT
	 * (the flow is flagged partial) rather than a wrong one. */
	for (i = 0; i < 2; i++) {
		if (rtt[i] > UINT32_MAX) {
			struct wl_flow_extra *xe = wl_flow_extra_get(ft, f);

			if (xe != NULL)
				xe->rtt_hi[i] = (uint32_t)(rtt[i] >> 32);
			else
				rtt[i] = 0;
		}
		f->rtt[i] = (uint32_t)rtt[i];
	}
	f->hs = WL_HS_DONE;
	CTR(ft, HANDSHAKES)++;
	wl_proto_emit(&ctx, &t);
}

/* The connection record of f: the entry's counts and its parts'. */
static void
conn_fill(struct wl_flow_table *ft, struct wl_flow *f, uint64_t now,
	struct wl_conn *c)
{
	const struct wl_flow_extra *xe = wl_extra(ft, f);
	const struct wl_flow_ev *ev = ev_peek(ft, f);
	unsigned int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < 2; i++) {
		struct wl_conn_dir *d = &c->d[i];

		d->pkts = wl_ctr(ft, f, WL_C_PKTS, i);
		d->bytes = wl_ctr(ft, f, WL_C_BYTES, i);
		d->payload = wl_ctr(ft, f, WL_C_PAYLOAD, i);
		d->delivered = delivered(ft, f, i);
		if (xe != NULL) {
			d->gap_bytes = xe->gap_bytes[i];
			d->retrans_bytes = xe->retrans_bytes[i];
			d->retrans = xe->retrans[i];
			d->ooo = xe->ooo[i];
		}
		if (ev != NULL) {
			d->zero_win_ns = ev->d[i].zero_win_ns;
			d->stall_max_ns = ev->d[i].stall_max_ns;
			d->dup_acks = ev->d[i].dup_acks;
			d->sack_blocks = ev->d[i].sack_blocks;
			d->zero_win = ev->d[i].zero_win;
			d->ipid_gaps = ev->d[i].ipid_gaps;
			d->ipid_missing = ev->d[i].ipid_missing;
			d->stalls = ev->d[i].stalls;
		}
		/* A window still closed at the end was closed until then. */
		if (ev != NULL && (f->an_fl[i] & WL_AN_ZERO_NOW) &&
				f->last_ns > ev->zero_since_ns[i])
			d->zero_win_ns += f->last_ns - ev->zero_since_ns[i];
	}
	if (f->hs == WL_HS_NONE || f->hs == WL_HS_DONE) {
		c->server_rtt_ns = f->rtt[0] |
			(xe != NULL ? (uint64_t)xe->rtt_hi[0] << 32 : 0);
		c->client_rtt_ns = f->rtt[1] |
			(xe != NULL ? (uint64_t)xe->rtt_hi[1] << 32 : 0);
	}
	if (ev != NULL) {
		c->ipg_min_ns = ev->ipg_min_ns;
		c->ipg_count = ev->ipg_count;
		memcpy(c->ipg_hist, ev->ipg_hist, sizeof(c->ipg_hist));
	}
	if (xe != NULL) {
		c->syn_retrans = xe->syn_retrans;
		c->synack_retrans = xe->synack_retrans;
	}
	c->flags = f->cflags;
	c->end = f->end;
	c->l4proto = f->key.l4proto;
	c->l7proto = f->proto;
	c->fin_side = f->fin_side;
	c->rst_side = f->rst_side;
	c->left_ns = now;
}

static void
conn_emit(struct wl_flow_table *ft, struct wl_flow *f, uint64_t now)
{
	struct wl_proto_ctx ctx;
	struct wl_conn c;
	struct wl_txn t;

	if (ft->conf.conn_records == 0 || (ft->conf.conn_records == 1 &&
			f->key.l4proto != IPPROTO_TCP))
		return;
	ctx_init(ft, f, WL_PROTO_TCP, &ctx);
	wl_proto_txn_init(&ctx, &t);
	wl_txn_reset_area(&t, sizeof(c));
	t.kind = WL_TXN_KIND_CONN;
	t.proto = f->proto;
	t.req_start_ns = f->first_ns;
	t.rsp_end_ns = f->last_ns;
	conn_fill(ft, f, now, &c);
	memcpy(wl_txn_area(&t), &c, sizeof(c));
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
			f->cflags |= 1u << WL_CONN_F_BIT_UNANSWERED;
			hs_emit(ft, f, 0, 0, "unanswered", WL_SC_ERROR,
				flags | WL_TXN_F_NO_RESPONSE);
		} else if (f->hs == WL_HS_SYNACK) {
			hs_emit(ft, f, hs_get(ft, f)->synack_ns, 0, "no_ack",
				WL_SC_OK, flags);
		}
	}
	if (f->proto != WL_PROTO_NONE) {
		const struct wl_seq *s2c = &f->s[WL_DIR_S2C];
		const struct wl_seq *c2s = &f->s[WL_DIR_C2S];
		uint8_t fs2c = f->dfl[WL_DIR_S2C], fc2s = f->dfl[WL_DIR_C2S];

		ctx_init(ft, f, f->proto, &ctx);
		/* Closed both ways, the client first, after every byte the
		 * server sent: a count settles an open loss (wl_match.h). */
		ctx.close_clean = f->end == WL_CONN_END_CLOSED &&
			f->cli_fin_first && (fs2c & WL_FD_SEQ_VALID) &&
			SEQ_GEQ(f->fin_ack, fs2c & WL_FD_FIN_SEEN ?
			s2c->fin_seq : s2c->next_seq);
		/* Or the server first, after every byte the client sent. */
		ctx.close_srv_first = f->end == WL_CONN_END_CLOSED &&
			!f->cli_fin_first &&
			f->fin_side == WL_CONN_SIDE_SERVER &&
			(fc2s & WL_FD_SEQ_VALID) && SEQ_GEQ(f->fin_ack,
			fc2s & WL_FD_FIN_SEEN ? c2s->fin_seq : c2s->next_seq);
		ft->conf.protos[f->proto]->close(l7_state(ft, f), &ctx, flags,
			now);
	}
	l7_release(ft, f);
}

/* ---- table ---- */

/* A packet's key and what its lookup and duplicate check need. */
struct flow_in {
	struct wl_flow_ckey k;  /* IPv6: a[1] 0 (the part is the flow's) */
	uint32_t h;             /* key hash */
	uint32_t dsig;          /* dup_sig(), when dedup */
	uint32_t ddb;           /* its bucket */
	uint8_t side;           /* key side of the source */
	uint8_t dedup;
};

/* The hash of an entry's key: an IPv6 one keeps it. */
static inline uint32_t
ckey_hash(const struct wl_flow_ckey *k)
{
	return k->v6 ? k->a[0] : wl_flow_words_hash(k, 2);
}

/* Does f have the key of in (packet p)? Two word compares for IPv4 (no
 * memcmp() call: a 40-byte one once took 11% of the lcore), and the
 * addresses in the part for IPv6. */
static inline int
key_eq(const struct wl_flow_table *ft, const struct wl_flow *f,
	const struct flow_in *in, const struct wl_pkt *p)
{
	const struct wl_flow_v6 *v;
	uint64_t x[2], y[2];

	memcpy(x, &f->key, sizeof(x));
	memcpy(y, &in->k, sizeof(y));
	if (!f->key.v6)
		return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
	if (f->key.a[0] != in->k.a[0] || x[1] != y[1])
		return 0;
	v = wl_pool_at(&ft->v6_pool, f->key.a[1]);
	return memcmp(&v->addr[in->side], &p->src, sizeof(p->src)) == 0 &&
		memcmp(&v->addr[!in->side], &p->dst, sizeof(p->dst)) == 0;
}

/* A flow's first bucket: h scaled to the bucket count. */
static inline uint32_t
bkt_first(const struct wl_flow_table *ft, uint32_t h)
{
	return (uint32_t)(((uint64_t)h * ft->n_bkt) >> 32);
}

/* The other bucket of a flow in bucket b with signature sig: each is the
 * other's, c - b modulo the count for a c that only sig decides. */
static inline uint32_t
bkt_alt(const struct wl_flow_table *ft, uint32_t b, uint16_t sig)
{
	uint32_t c = (uint32_t)(((uint64_t)((sig + 1u) * 0x9e3779b1u) *
		ft->n_bkt) >> 32);

	return c >= b ? c - b : c + ft->n_bkt - b;
}

static inline int
bkt_free_way(const struct wl_ft_bucket *b)
{
	unsigned int w;

	for (w = 0; w < WL_FT_WAYS; w++)
		if (b->idx[w] == 0)
			return (int)w;
	return -1;
}

/* The first flow of bucket b with signature sig after way *w (in
 * order), WL_NIL when none. */
static inline uint32_t
bkt_scan(const struct wl_ft_bucket *b, uint16_t sig, unsigned int *w)
{
	for (; *w < WL_FT_WAYS; (*w)++)
		if (b->sig[*w] == sig && b->idx[*w] != 0)
			return b->idx[(*w)++] - 1;
	return WL_NIL;
}

/* The flow of in (packet p), or -ENOENT. */
static int32_t
tbl_find(struct wl_flow_table *ft, const struct flow_in *in,
	const struct wl_pkt *p)
{
	uint16_t sig = (uint16_t)in->h;
	uint32_t b = bkt_first(ft, in->h), i;
	unsigned int j, w;

	for (j = 0; j < 2; j++, b = bkt_alt(ft, b, sig))
		for (w = 0; (i = bkt_scan(&ft->bkt[b], sig, &w)) != WL_NIL;)
			if (key_eq(ft, &ft->flows[i], in, p))
				return (int32_t)i;
	return -ENOENT;
}

/* The first flow whose signature matches h (its key not compared yet),
 * WL_NIL if none: a burst prefetches it. */
static inline uint32_t
tbl_cand(const struct wl_flow_table *ft, uint32_t h)
{
	uint16_t sig = (uint16_t)h;
	uint32_t b = bkt_first(ft, h), i;
	unsigned int w = 0;

	i = bkt_scan(&ft->bkt[b], sig, &w);
	if (i != WL_NIL)
		return i;
	w = 0;
	return bkt_scan(&ft->bkt[bkt_alt(ft, b, sig)], sig, &w);
}

/* Breadth-first search for room, as cuckoo hashing does: a node is a
 * full bucket reached by moving the flow in way `way` of its parent's
 * bucket to its other bucket. */
#define WL_CUCKOO_NODES 256

struct cuckoo_node {
	uint32_t b;
	int16_t parent;
	uint8_t way;
};

static inline void
bkt_move(struct wl_flow_table *ft, uint32_t fb, unsigned int fw, uint32_t tb,
	unsigned int tw)
{
	ft->bkt[tb].sig[tw] = ft->bkt[fb].sig[fw];
	ft->bkt[tb].idx[tw] = ft->bkt[fb].idx[fw];
}

/* Is bucket b on the path from the root to node n? */
static int
on_path(const struct cuckoo_node *q, int n, uint32_t b)
{
	for (; n >= 0; n = q[n].parent)
		if (q[n].b == b)
			return 1;
	return 0;
}

/*
 * Put flow i (hash h) in one of its two buckets, moving flows to their
 * other bucket to make room if both are full.
 * @return 0, or -ENOSPC when no room was found (nothing moved).
 */
static int
tbl_add(struct wl_flow_table *ft, uint32_t h, uint32_t i)
{
	struct cuckoo_node q[WL_CUCKOO_NODES];
	uint16_t sig = (uint16_t)h;
	uint32_t b1 = bkt_first(ft, h), b2 = bkt_alt(ft, b1, sig);
	int n = 0, k, w;

	q[n++] = (struct cuckoo_node){ b1, -1, 0 };
	if (b2 != b1)
		q[n++] = (struct cuckoo_node){ b2, -1, 0 };
	for (k = 0; k < n; k++) {
		uint32_t cb = q[k].b;

		w = bkt_free_way(&ft->bkt[cb]);
		if (w >= 0) {
			/* Room at node k: shift the path's flows down it,
			 * the last moved first. */
			int node = k;

			while (q[node].parent >= 0) {
				int p = q[node].parent;

				bkt_move(ft, q[p].b, q[node].way, cb,
					(unsigned int)w);
				cb = q[p].b;
				w = q[node].way;
				node = p;
			}
			ft->bkt[cb].sig[w] = sig;
			ft->bkt[cb].idx[w] = i + 1;
			return 0;
		}
		for (w = 0; w < WL_FT_WAYS && n < WL_CUCKOO_NODES; w++) {
			uint32_t a = bkt_alt(ft, cb, ft->bkt[cb].sig[w]);

			if (!on_path(q, k, a))
				q[n++] = (struct cuckoo_node){ a,
					(int16_t)k, (uint8_t)w };
		}
	}
	return -ENOSPC;
}

static void
tbl_del(struct wl_flow_table *ft, const struct wl_flow *f)
{
	uint32_t h = ckey_hash(&f->key), i = flow_idx(ft, f) + 1;
	uint32_t b = bkt_first(ft, h);
	unsigned int j, w;

	for (j = 0; j < 2; j++, b = bkt_alt(ft, b, (uint16_t)h))
		for (w = 0; w < WL_FT_WAYS; w++)
			if (ft->bkt[b].idx[w] == i) {
				ft->bkt[b].idx[w] = 0;
				return;
			}
}

/* Close what is open, report the connection and drop the flow. */
static void
finish(struct wl_flow_table *ft, struct wl_flow *f, enum wl_conn_end end,
	uint32_t flags, uint64_t now)
{
	if (!f->closed) {
		f->end = end;
		close_l7(ft, f, flags, now);
	}
	conn_emit(ft, f, now);
	wl_tcp_free(ft, f);
	parts_put(ft, f);
	list_unlink(ft, f);
	tbl_del(ft, f);
	if (f->key.v6)
		wl_pool_put(&ft->v6_pool, f->key.a[1]);
	f->next = ft->flow_free;
	ft->flow_free = flow_idx(ft, f);
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

static void
evict_flow(struct wl_flow_table *ft, struct wl_flow *f, uint64_t now)
{
	CTR(ft, EVICTED)++;
	if (f->list == WL_FL_CLOSED)
		CTR(ft, EVICTED_CLOSED)++;
	else if ((WL_FL_EVICT_FIRST >> f->list) & 1)
		CTR(ft, EVICTED_UNPROVEN)++;
	else
		CTR(ft, EVICTED_ESTABLISHED)++;
	finish(ft, f, WL_CONN_END_EVICTED, WL_TXN_F_EVICTED, now);
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
	evict_flow(ft, ft->unproven > ft->unproven_max ?
		oldest(ft, WL_FL_EVICT_FIRST) : oldest(ft, UINT32_MAX), now);
}

/*
 * Room for one more handshake: with flow.handshake_max below max_flows,
 * the oldest half-open flow goes (every handshake part is held by a
 * flow on the handshake list).
 */
static void
hs_room(struct wl_flow_table *ft, uint64_t now)
{
	struct wl_pool *p = &ft->hs_pool;

	while (p->free == WL_NIL && p->fresh >= p->n) {
		struct wl_flow *f = oldest(ft, 1u << WL_FL_SYN);

		if (f == NULL)
			return;
		CTR(ft, HANDSHAKE_FULL)++;
		evict_flow(ft, f, now);
	}
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

/* The canonical key of p, its hash, and the key side of its source. */
static void
key_make(struct flow_in *in, const struct wl_pkt *p)
{
	struct wl_flow_ckey *k = &in->k;
	int c = memcmp(&p->src, &p->dst, sizeof(p->src));
	unsigned int s;

	memset(k, 0, sizeof(*k));
	if (c == 0)
		c = (int)p->sport - (int)p->dport;
	s = c > 0;
	in->side = (uint8_t)s;
	k->port[s] = p->sport;
	k->port[!s] = p->dport;
	k->vlan = p->nvlan != 0 ? p->vlan[0] : 0;
	k->l4proto = p->l4proto;
	if (wl_addr_is_v4(&p->src) && wl_addr_is_v4(&p->dst)) {
		memcpy(&k->a[s], p->src.a + 12, 4);
		memcpy(&k->a[!s], p->dst.a + 12, 4);
		in->h = wl_flow_words_hash(k, 2);
	} else {
		struct wl_flow_key fk;

		memset(&fk, 0, sizeof(fk));
		fk.addr[s] = p->src;
		fk.addr[!s] = p->dst;
		memcpy(fk.port, k->port, sizeof(fk.port));
		fk.vlan = k->vlan;
		fk.l4proto = k->l4proto;
		in->h = wl_flow_words_hash(&fk, sizeof(fk) / 8);
		k->a[0] = in->h;
		k->v6 = 1;
	}
}

static struct wl_flow *
flow_new(struct wl_flow_table *ft, const struct flow_in *in,
	const struct wl_pkt *p)
{
	unsigned int src_side = in->side;
	uint32_t v6 = WL_NIL;
	struct wl_flow *f;
	int client_is_src, syn = p->l4proto == IPPROTO_TCP &&
		(p->tcp_flags & (WL_TCP_SYN | WL_TCP_ACK)) == WL_TCP_SYN;
	unsigned int id;
	uint32_t i;

	if (ft->count >= ft->conf.max_flows)
		evict(ft, p->ts_ns);
	if (syn)
		hs_room(ft, p->ts_ns);
	if (in->k.v6) {
		v6 = wl_pool_take(&ft->v6_pool);
		if (v6 == WL_NIL) {
			CTR(ft, V6_FULL)++;
			return NULL;
		}
		ft->st->c[WL_FLOW_CTR_V6_PEAK] = ft->v6_pool.peak;
	}
	if (ft->flow_free != WL_NIL) {
		i = ft->flow_free;
		ft->flow_free = ft->flows[i].next;
	} else {
		/* count < max_flows: a never-used entry is left */
		i = ft->flow_fresh++;
	}
	if (tbl_add(ft, in->h, i) != 0) {
		ft->flows[i].next = ft->flow_free;
		ft->flow_free = i;
		if (v6 != WL_NIL)
			wl_pool_put(&ft->v6_pool, v6);
		CTR(ft, HASH_FULL)++;
		return NULL;
	}
	f = &ft->flows[i];
	memset(f, 0, sizeof(*f));
	f->key = in->k;
	if (v6 != WL_NIL) {
		struct wl_flow_v6 *a = wl_pool_at(&ft->v6_pool, v6);

		a->addr[src_side] = p->src;
		a->addr[!src_side] = p->dst;
		f->key.a[1] = v6;
	}
	f->proto = WL_PROTO_NONE;
	f->l7 = f->ro = f->extra = f->ev = WL_NIL;
	f->flow_id = ft->next_id++;
	f->ts_source = p->ts_source;
	f->first_ns = p->ts_ns;
	f->last_ns = p->ts_ns;
	ft->count++;
	CTR(ft, CREATED)++;
	CTR(ft, ACTIVE) = ft->count;
	if (ft->count > CTR(ft, ACTIVE_PEAK))
		CTR(ft, ACTIVE_PEAK) = ft->count;

	if (p->l4proto == IPPROTO_TCP) {
		CTR(ft, TCP)++;
		if (p->tcp_flags & WL_TCP_SYN)
			client_is_src = !(p->tcp_flags & WL_TCP_ACK);
		else
			client_is_src = dst_is_server(ft, p);
		if (!(p->tcp_flags & WL_TCP_SYN)) {
			CTR(ft, MIDSTREAM)++;
			f->cflags |= 1u << WL_CONN_F_BIT_MIDSTREAM;
		}
		/* A SYN/ACK seen first has no handshake to complete: like a
		 * flow picked up mid-stream, the client's answer proves it. */
		list_append(ft, f, syn ? WL_FL_SYN : WL_FL_ONEWAY);
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
	struct wl_flow_extra *x;

	CTR(ft, PORT_REUSE)++;
	/* The SYN belongs to the new connection, not to this one (the
	 * counts hold at least its own packet: a borrow has a high word,
	 * unless the extra pool was empty, which flagged them partial). */
	x = wl_extra(ft, f);
	if (f->c32[WL_C_PKTS][WL_DIR_C2S] == 0 && x != NULL)
		x->hi[WL_C_PKTS * 2 + WL_DIR_C2S]--;
	f->c32[WL_C_PKTS][WL_DIR_C2S]--;
	if (f->c32[WL_C_BYTES][WL_DIR_C2S] < p->wire_len && x != NULL)
		x->hi[WL_C_BYTES * 2 + WL_DIR_C2S]--;
	f->c32[WL_C_BYTES][WL_DIR_C2S] -= p->wire_len;
	finish(ft, f, WL_CONN_END_PORT_REUSE, WL_TXN_F_CLOSED, p->ts_ns);
	wl_flow_input(ft, p);
}

static void
tcp_syn(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const struct wl_pkt *p)
{
	uint64_t n = npkts(ft, f, 0) + npkts(ft, f, 1);
	struct wl_flow_hs *h;

	if (!(p->tcp_flags & WL_TCP_ACK)) {
		if (dir != WL_DIR_C2S)
			return;         /* simultaneous open: not measured */
		if (f->hs == WL_HS_NONE && n == 1) {
			uint32_t i;

			/* flow_new made room (hs_room) */
			h = part_take(ft, &ft->hs_pool, &i,
				WL_FLOW_CTR_HANDSHAKE_PEAK);
			if (h == NULL) {
				wl_seq_start(ft, f, WL_DIR_C2S, p->seq + 1);
				return;
			}
			f->hsp = i;
			f->hs = WL_HS_SYN;
		} else if ((f->hs == WL_HS_SYN || f->hs == WL_HS_SYNACK) &&
				p->seq == hs_get(ft, f)->cli_isn) {
			h = hs_get(ft, f);
			h->syn_retrans++;
			if (f->hs == WL_HS_SYNACK)
				return;
		} else {
			port_reuse(ft, f, p);
			return;
		}
		/* The server answers the latest SYN it got. */
		h->syn_ns = p->ts_ns;
		h->cli_isn = p->seq;
		wl_seq_start(ft, f, WL_DIR_C2S, p->seq + 1);
		return;
	}
	if (dir != WL_DIR_S2C)
		return;
	if (f->hs == WL_HS_SYN || f->hs == WL_HS_SYNACK) {
		h = hs_get(ft, f);
		if (p->ack != h->cli_isn + 1) {
			CTR(ft, BAD_SEQ)++;
			return;
		}
		if (f->hs == WL_HS_SYNACK)
			h->synack_retrans++;
		else
			h->synack_first_ns = p->ts_ns;
		h->synack_ns = p->ts_ns;
		f->hs = WL_HS_SYNACK;
	} else if (f->dfl[WL_DIR_S2C] & WL_FD_SEQ_VALID) {
		return;
	}
	wl_seq_start(ft, f, WL_DIR_S2C, p->seq + 1);
	if (!(f->dfl[WL_DIR_C2S] & WL_FD_SEQ_VALID))
		/* The client's SYN was not seen: the SYN/ACK says where its
		 * stream starts, so bytes lost before the first seen are a
		 * gap, not a stream that seems to start later. */
		wl_seq_start(ft, f, WL_DIR_C2S, p->ack);
}

/*
 * Connection analytics of one TCP packet (struct wl_conn_dir): IP ID
 * continuity, window, duplicate ACKs, SACK, and the gaps between data
 * packets inside a burst. Counters and compares only; results other
 * than zero go to the events part.
 */
static void
tcp_analytics(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const struct wl_pkt *p)
{
	uint32_t len = WL_MAX(p->payload_len, p->seg_len);
	uint8_t fl = p->tcp_flags, afl = f->an_fl[dir];
	struct wl_flow_ev *ev;
	uint64_t gap;

	if (p->ip_version == 4) {
		uint16_t step = (uint16_t)(p->ip_id - f->an_ipid[dir]);
		uint8_t *run = &f->an_ipid_run[dir];

		/* Sequential senders (Linux per-socket IDs) step by one; a
		 * jump after a run of such steps is packets the tap missed. */
		if (step == 1) {
			*run += *run < UINT8_MAX;
		} else if (*run >= 4 && step > 1 && step < 1024) {
			ev = ev_get(ft, f);
			if (ev != NULL) {
				ev->d[dir].ipid_gaps++;
				ev->d[dir].ipid_missing += step - 1u;
			}
			*run = 1;
		} else if (step != 0) {
			*run = 0;
		}
		f->an_ipid[dir] = p->ip_id;
	}
	if (fl & (WL_TCP_SYN | WL_TCP_RST))
		return;
	if (p->nsack != 0 && (ev = ev_get(ft, f)) != NULL)
		ev->d[dir].sack_blocks += p->nsack;
	if (p->tcp_window == 0 && !(afl & WL_AN_ZERO_NOW)) {
		/* Timed in the events part: no room there, no time. */
		ev = ev_get(ft, f);
		if (ev != NULL) {
			ev->d[dir].zero_win++;
			ev->zero_since_ns[dir] = p->ts_ns;
		}
		afl |= WL_AN_ZERO_NOW;
	} else if (p->tcp_window != 0 && (afl & WL_AN_ZERO_NOW)) {
		ev = ev_peek(ft, f);
		if (ev != NULL)
			ev->d[dir].zero_win_ns += p->ts_ns -
				ev->zero_since_ns[dir];
		afl &= (uint8_t)~WL_AN_ZERO_NOW;
	}
	if (fl & WL_TCP_ACK) {
		/* RFC 5681: same ACK, same window, no data, data in flight. */
		if ((afl & WL_AN_ACK_SEEN) && p->ack == f->an_ack[dir] &&
				p->tcp_window == f->an_win[dir] && len == 0 &&
				!(fl & WL_TCP_FIN) &&
				(f->dfl[!dir] & WL_FD_SEQ_VALID) &&
				SEQ_LT(p->ack, f->an_high[!dir]) &&
				(ev = ev_get(ft, f)) != NULL)
			ev->d[dir].dup_acks++;
		afl |= WL_AN_ACK_SEEN;
		f->an_ack[dir] = p->ack;
		f->an_win[dir] = (uint16_t)p->tcp_window;
	}
	f->an_fl[dir] = afl;
	if (len == 0)
		return;
	if (!(f->dfl[dir] & WL_FD_SEQ_VALID) ||
			SEQ_GT(p->seq + len, f->an_high[dir]))
		f->an_high[dir] = p->seq + len;
	/* Only the side of the latest data packet can be in a burst, so
	 * one time serves both. */
	if ((afl & WL_AN_IN_BURST) && p->ts_ns > f->last_data_ns &&
			(ev = ev_get(ft, f)) != NULL) {
		gap = p->ts_ns - f->last_data_ns;
		if (gap > ev->d[dir].stall_max_ns)
			ev->d[dir].stall_max_ns = gap;
		if (gap >= (uint64_t)ft->conf.stall_ms * WL_NS_PER_MS)
			ev->d[dir].stalls++;
		if (dir == WL_DIR_S2C) {
			uint64_t us = gap / WL_NS_PER_US;
			unsigned int b = us == 0 ? 0 :
				WL_MIN(63u - (unsigned int)__builtin_clzll(us),
				WL_CONN_IPG_BUCKETS - 1u);

			if (gap > ev->stall_txn_ns)
				ev->stall_txn_ns = gap;
			if (ev->ipg_count == 0 || gap < ev->ipg_min_ns)
				ev->ipg_min_ns = gap;
			ev->ipg_count++;
			ev->ipg_hist[b] += ev->ipg_hist[b] < UINT16_MAX;
		}
	}
	f->an_fl[dir] = afl | WL_AN_IN_BURST;
	f->last_data_ns = p->ts_ns;
	f->an_fl[!dir] &= (uint8_t)~WL_AN_IN_BURST;
}

/* FIN both ways reached L7, nothing queued: the connection closed. */
static int
tcp_done(struct wl_flow_table *ft, const struct wl_flow *f)
{
	if (!(f->dfl[0] & f->dfl[1] & WL_FD_FIN_DONE))
		return 0;
	if (f->ro != WL_NIL) {
		const struct wl_flow_ro *r = wl_ro(ft, f);

		return r->dq_n[0] == 0 && r->dq_n[1] == 0;
	}
	return 1;
}

static void
tcp_input(struct wl_flow_table *ft, struct wl_flow *f, enum wl_dir dir,
	const struct wl_pkt *p)
{
	uint8_t fl = p->tcp_flags;

	if (an_on(ft, f))
		tcp_analytics(ft, f, dir, p);
	if ((fl & WL_TCP_FIN) && f->fin_side == WL_CONN_SIDE_NONE) {
		f->fin_side = dir == WL_DIR_C2S ? WL_CONN_SIDE_CLIENT :
			WL_CONN_SIDE_SERVER;
		f->cli_fin_first = dir == WL_DIR_C2S && (fl & WL_TCP_ACK);
		f->fin_ack = p->ack;
	} else if ((fl & WL_TCP_FIN) && (fl & WL_TCP_ACK) && dir == WL_DIR_C2S &&
			f->fin_side == WL_CONN_SIDE_SERVER &&
			(f->cli_fin_first ||
			SEQ_GT(f->fin_ack, p->seq + p->seg_len))) {
		/* The server's FIN, seen first, had this one: the client
		 * closed first (the tap saw the two out of order). Its
		 * copies keep the first FIN's sequence: so the answer. */
		f->cli_fin_first = 1;
		f->fin_ack = p->ack;
	}
	if ((fl & WL_TCP_RST) && f->rst_side == WL_CONN_SIDE_NONE)
		f->rst_side = dir == WL_DIR_C2S ? WL_CONN_SIDE_CLIENT :
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
			f->cflags |= 1u << WL_CONN_F_BIT_REFUSED;
			hs_emit(ft, f, p->ts_ns, 0, "refused", WL_SC_ERROR, 0);
		}
		f->end = WL_CONN_END_RESET;
		close_l7(ft, f, WL_TXN_F_CLOSED, p->ts_ns);
		CTR(ft, CLOSED)++;
		list_move(ft, f, WL_FL_CLOSED);
		return;
	}
	if (f->hs == WL_HS_SYNACK && dir == WL_DIR_C2S && (fl & WL_TCP_ACK)) {
		uint64_t sa = hs_get(ft, f)->synack_ns;

		hs_emit(ft, f, sa, p->ts_ns - sa, "established", WL_SC_OK, 0);
		list_move(ft, f, WL_FL_EST);
	}
	if (fl & WL_TCP_ACK)
		wl_tcp_acked(ft, f, !dir, p->ack, p->ts_ns);
	wl_tcp_segment(ft, f, dir, p);
	/* What this packet brought may free bytes of the other direction
	 * that waited for it; a reorder window counts the packet. */
	if (f->ro != WL_NIL) {
		wl_tcp_release(ft, f);
		if (f->ro != WL_NIL && wl_ro(ft, f)->on)
			wl_tcp_ro_check(ft, f, p->ts_ns, 0);
	}
	if (tcp_done(ft, f)) {
		f->end = WL_CONN_END_CLOSED;
		close_l7(ft, f, WL_TXN_F_CLOSED, p->ts_ns);
		CTR(ft, CLOSED)++;
		list_move(ft, f, WL_FL_CLOSED);
	}
}

/* ---- public ---- */

#define FLOW_PREFETCH_AHEAD 4
/* Parts two packets ahead: a response's request is read from its state
 * one packet ahead, once that state has arrived. */
#define PARTS_PREFETCH_AHEAD 2

/* The entry's lines (a packet touches all three). */
static inline void
flow_prefetch(const struct wl_flow *f)
{
	const char *c = (const char *)f;

	rte_prefetch0(c);
	rte_prefetch0(c + RTE_CACHE_LINE_SIZE);
	rte_prefetch0(c + 2 * RTE_CACHE_LINE_SIZE);
}

/* Prefetch len bytes from p (some lines at most: the fill buffers are
 * shared with the packets ahead). */
static inline void
lines_prefetch(const char *p, unsigned int len)
{
	const char *end = p + RTE_MIN(len, 8u * RTE_CACHE_LINE_SIZE);

	for (p = RTE_PTR_ALIGN_FLOOR(p, RTE_CACHE_LINE_SIZE); p < end;
			p += RTE_CACHE_LINE_SIZE)
		rte_prefetch0(p);
}

/* What the entry points to (read from it: the entry must be in cache
 * already): what a packet of direction dir reads of the protocol state
 * first (struct wl_proto_ops hot). */
static inline void
parts_prefetch(struct wl_flow_table *ft, const struct wl_flow *f,
	unsigned int side)
{
	const char *st = l7_state(ft, f);
	const struct wl_proto_ops *ops;
	unsigned int dir, slot, h;

	if (st == NULL)
		return;
	ops = ft->conf.protos[f->proto];
	dir = side == f->cli_side ? WL_DIR_C2S : WL_DIR_S2C;
	slot = l7_pool(ft, f->proto, f->key.l4proto)->slot;
	if (ops->hot[dir].len == 0 && ops->hot[2].len == 0) {
		lines_prefetch(st, slot);
		return;
	}
	/* A flow's state may be the smaller of its protocol's two. */
	for (h = 0; h < 2; h++) {
		const struct wl_proto_hot *r = &ops->hot[h == 0 ? dir : 2];

		if (r->off < slot)
			lines_prefetch(st + r->off,
				RTE_MIN((unsigned int)r->len, slot - r->off));
	}
}

/* A response's request: the state's matcher head is in cache (parts
 * prefetched a packet before). */
static inline void
req_prefetch(struct wl_flow_table *ft, const struct wl_flow *f,
	unsigned int side)
{
	const char *st = l7_state(ft, f);
	const struct wl_proto_ops *ops;

	if (st == NULL || side == f->cli_side)
		return;
	ops = ft->conf.protos[f->proto];
	if (ops->match_at != 0)
		wl_match_prefetch((const struct wl_match *)(st +
			ops->match_at - 1), ft->mpool);
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

/*
 * The recent frames of all flows: a frame's bucket follows from its
 * flow's key and its own signature (so a burst can prefetch it before
 * the flow is looked up), and it is stored under a signature of the
 * flow instance too (flow_id), never 0 (an empty way).
 */
static inline uint32_t
dd_bucket(const struct wl_flow_table *ft, uint32_t key_h, uint32_t dsig)
{
	return (uint32_t)(((uint64_t)rte_hash_crc_4byte(dsig, key_h) *
		ft->n_dd) >> 32);
}

static inline uint32_t
dd_sig(const struct wl_flow *f, uint32_t dsig)
{
	uint32_t s = rte_hash_crc_8byte(f->flow_id, dsig);

	return s != 0 ? s : 1;
}

/* Remember a frame: in an empty way, else over the oldest one (a copy
 * of which, still inside the window, would be missed: counted). */
static void
dd_note(struct wl_flow_table *ft, struct wl_dd_bucket *b, uint32_t sig,
	uint32_t ts)
{
	unsigned int i, v = 0;
	int32_t age = INT32_MIN;

	for (i = 0; i < WL_DD_WAYS; i++) {
		int32_t a = (int32_t)(ts - b->ts[i]);

		if (b->sig[i] == 0) {
			v = i;
			break;
		}
		if (a > age) {
			age = a;
			v = i;
		}
	}
	if (b->sig[v] != 0 && (uint32_t)(age < 0 ? -age : age) <=
			ft->dup_window)
		CTR(ft, DEDUP_OVERFLOW)++;
	b->sig[v] = sig;
	b->ts[v] = ts;
}

/* A copy of one of the flow's recent frames, seen within the window
 * (before or after it: merged captures need not be in time order)? */
static inline int
dd_seen(const struct wl_flow_table *ft, const struct wl_dd_bucket *b,
	uint32_t sig, uint32_t ts)
{
	unsigned int i;

	for (i = 0; i < WL_DD_WAYS; i++) {
		int32_t dt = (int32_t)(ts - b->ts[i]);

		if (b->sig[i] == sig && (uint32_t)(dt < 0 ? -dt : dt) <=
				ft->dup_window)
			return 1;
	}
	return 0;
}

/* ---- packets in ---- */

static inline void
flow_in_make(const struct wl_flow_table *ft, const struct wl_pkt *p,
	struct flow_in *in)
{
	key_make(in, p);
	/* A host answers every segment that reaches a closed socket with
	 * the same RST (IP ID 0 on many stacks): no copy to tell apart,
	 * and a copied RST changes nothing but a count. */
	in->dedup = ft->dup_window != 0 && !(p->l4proto == IPPROTO_TCP &&
		(p->tcp_flags & WL_TCP_RST));
	if (in->dedup) {
		in->dsig = dup_sig(p, in->side);
		in->ddb = dd_bucket(ft, in->h, in->dsig);
	}
}

/* Account a packet to the flow at pos (-ENOENT: none yet). */
static void
flow_input_at(struct wl_flow_table *ft, const struct wl_pkt *p,
	const struct flow_in *in, int32_t pos)
{
	struct wl_flow *f;
	enum wl_dir dir;
	uint32_t dts = (uint32_t)(p->ts_ns >> 10);

	if (pos >= 0) {
		f = &ft->flows[pos];
		if (in->dedup) {
			struct wl_dd_bucket *b = &ft->dd[in->ddb];
			uint32_t sig = dd_sig(f, in->dsig);

			if (dd_seen(ft, b, sig, dts)) {
				CTR(ft, DUPLICATE)++;
				return;
			}
			dd_note(ft, b, sig, dts);
		}
	} else {
		if (p->l4proto == IPPROTO_TCP && (p->tcp_flags & WL_TCP_RST)) {
			CTR(ft, STRAY)++;
			return;
		}
		f = flow_new(ft, in, p);
		if (f == NULL)
			return;
		if (in->dedup)
			dd_note(ft, &ft->dd[in->ddb], dd_sig(f, in->dsig), dts);
	}
	dir = in->side == f->cli_side ? WL_DIR_C2S : WL_DIR_S2C;
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
	if (((WL_FL_ONEWAY_MASK >> f->list) & 1) && npkts(ft, f, !dir) != 0)
		list_move(ft, f, f->list + 1u);
	else if (f->last_ns - f->list_ns >= ft->requeue_ns[f->list])
		list_move(ft, f, f->list);
	wl_ctr_add(ft, f, WL_C_PKTS, dir, 1);
	wl_ctr_add(ft, f, WL_C_BYTES, dir, p->wire_len);
	wl_ctr_add(ft, f, WL_C_PAYLOAD, dir, p->payload_len);
	if (p->l4proto == IPPROTO_TCP) {
		tcp_input(ft, f, dir, p);
	} else if (!f->closed) {
		struct wl_stream_pos pos = {
			.off = npkts(ft, f, dir) - 1,
			.peer_ack = UINT64_MAX,
		};

		wl_flow_deliver(ft, f, dir, p->payload, p->payload_len,
			p->ts_ns, &pos);
	}
}

void
wl_flow_input(struct wl_flow_table *ft, const struct wl_pkt *p)
{
	struct flow_in in;

	if (p->l4proto != IPPROTO_TCP && p->l4proto != IPPROTO_UDP)
		return;
	flow_in_make(ft, p, &in);
	flow_input_at(ft, p, &in, tbl_find(ft, &in, p));
}

void
wl_flow_input_burst(struct wl_flow_table *ft, const struct wl_pkt *p,
	unsigned int n)
{
	struct flow_in in[WL_FLOW_BURST];
	uint32_t cand[WL_FLOW_BURST];
	int32_t pos[WL_FLOW_BURST];
	uint16_t idx[WL_FLOW_BURST];
	unsigned int i, m = 0;
	uint64_t gen;

	for (; n > WL_FLOW_BURST; n -= WL_FLOW_BURST, p += WL_FLOW_BURST)
		wl_flow_input_burst(ft, p, WL_FLOW_BURST);
	/* Keys and hashes first, and the buckets they need on their way
	 * (both of a flow's, and its duplicate-check one). */
	for (i = 0; i < n; i++) {
		struct flow_in *x = &in[m];
		uint32_t b;

		if (p[i].l4proto != IPPROTO_TCP && p[i].l4proto != IPPROTO_UDP)
			continue;
		flow_in_make(ft, &p[i], x);
		b = bkt_first(ft, x->h);
		rte_prefetch0(&ft->bkt[b]);
		rte_prefetch0(&ft->bkt[bkt_alt(ft, b, (uint16_t)x->h)]);
		if (x->dedup)
			rte_prefetch0(&ft->dd[x->ddb]);
		idx[m++] = (uint16_t)i;
	}
	if (m == 0)
		return;
	/* The signatures: a flow's entry is fetched while the others'
	 * buckets arrive, then keys are compared. */
	for (i = 0; i < m; i++) {
		cand[i] = tbl_cand(ft, in[i].h);
		if (cand[i] != WL_NIL)
			rte_prefetch0(&ft->flows[cand[i]]);
	}
	for (i = 0; i < m; i++)
		pos[i] = cand[i] == WL_NIL ? -ENOENT :
			key_eq(ft, &ft->flows[cand[i]], &in[i], &p[idx[i]]) ?
			(int32_t)cand[i] : tbl_find(ft, &in[i], &p[idx[i]]);
	for (i = 0; i < m && i < FLOW_PREFETCH_AHEAD; i++)
		if (pos[i] >= 0)
			flow_prefetch(&ft->flows[pos[i]]);
	gen = ft->del_gen;
	for (i = 0; i < m; i++) {
		int32_t ps = pos[i];

		/* Flows a few packets ahead are in cache by now: fetch
		 * their analytics and protocol state, then a response's
		 * request. */
		if (i + PARTS_PREFETCH_AHEAD < m &&
				pos[i + PARTS_PREFETCH_AHEAD] >= 0 &&
				ft->del_gen == gen)
			parts_prefetch(ft,
				&ft->flows[pos[i + PARTS_PREFETCH_AHEAD]],
				in[i + PARTS_PREFETCH_AHEAD].side);
		if (i + 1 < m && pos[i + 1] >= 0 && ft->del_gen == gen)
			req_prefetch(ft, &ft->flows[pos[i + 1]], in[i + 1].side);
		/* A few flows ahead: more would overflow the fill buffers. */
		if (i + FLOW_PREFETCH_AHEAD < m &&
				pos[i + FLOW_PREFETCH_AHEAD] >= 0)
			flow_prefetch(&ft->flows[pos[i + FLOW_PREFETCH_AHEAD]]);

		/* A flow created by an earlier packet of the burst, or any
		 * flow freed meanwhile (its entry may be reused): look
		 * again. */
		if (ps < 0 || ft->del_gen != gen)
			ps = tbl_find(ft, &in[i], &p[idx[i]]);
		flow_input_at(ft, &p[idx[i]], &in[i], ps);
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

		if (wl_ro(ft, f)->since_ns + ft->reorder_ns > now_ns)
			break;
		wl_tcp_ro_check(ft, f, now_ns, 1);
		if ((f->dfl[0] & f->dfl[1] & WL_FD_FIN_DONE) && !f->closed) {
			f->end = WL_CONN_END_CLOSED;
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
		if (f->ro != WL_NIL && wl_ro(ft, f)->on && !f->closed) {
			wl_tcp_ro_check(ft, f, RTE_MAX(now_ns,
				wl_ro(ft, f)->since_ns + ft->reorder_ns), 1);
			if (f->dfl[0] & f->dfl[1] & WL_FD_FIN_DONE) {
				f->end = WL_CONN_END_CLOSED;
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
	unsigned int i;

	if (ft == NULL)
		return;
	rte_free(ft->flows);
	rte_free(ft->bkt);
	rte_free(ft->dd);
	rte_free(ft->hs_pool.base);
	rte_free(ft->extra_pool.base);
	rte_free(ft->v6_pool.base);
	rte_free(ft->ev_pool.base);
	rte_free(ft->probe_pool.base);
	rte_free(ft->stash_pool.base);
	rte_free(ft->ro_pool.base);
	for (i = 0; i < RTE_DIM(ft->l7_pool); i++)
		rte_free(ft->l7_pool[i].base);
	rte_free(ft->ooo_pool.base);
	wl_mpool_free(ft->mpool);
	rte_free(ft);
}

/* ---- table life ---- */

/* Bytes of a pool slot holding size bytes (and the free-list link). */
static uint32_t
slot_bytes(uint32_t size)
{
	return RTE_ALIGN_CEIL(RTE_MAX(size, (uint32_t)sizeof(uint32_t)), 8u);
}

/* n slots of size bytes (none when n is 0). */
static int
pool_init(struct wl_pool *p, const char *name, uint32_t size, uint32_t n,
	int socket)
{
	p->slot = slot_bytes(size);
	p->n = n;
	p->free = WL_NIL;
	if (n == 0)
		return 0;
	p->base = rte_zmalloc_socket(name, (size_t)p->slot * n,
		RTE_CACHE_LINE_SIZE, socket);
	return p->base == NULL ? -ENOMEM : 0;
}

/* A pool's size: conf's, or max_flows divided by div (at least 64). */
static uint32_t
pool_size(uint32_t conf, uint32_t max_flows, uint32_t div)
{
	return conf != 0 ? conf : RTE_MAX(max_flows / div, RTE_MIN(64u,
		max_flows));
}

/* A part pool of the table: where it sits, its slot and count. */
struct part_plan {
	size_t off;             /* of its struct wl_pool in the table */
	const char *name;
	uint32_t size;
	uint32_t n;
};

#define PART(field, type, count) \
	{ offsetof(struct wl_flow_table, field), "wl_" #field, \
	  sizeof(struct type), (count) }

/* The part pools conf asks for: wl_flow_table_create() makes them,
 * wl_flow_table_mem() counts them. @return how many. */
static unsigned int
parts_plan(const struct wl_flow_conf *c, struct part_plan *pl)
{
	uint32_t mf = c->max_flows, an = c->conn_analytics;
	const struct part_plan p[] = {
		PART(hs_pool, wl_flow_hs, pool_size(c->handshake_max, mf, 1)),
		PART(extra_pool, wl_flow_extra, pool_size(c->extra_max, mf, 1)),
		PART(v6_pool, wl_flow_v6, pool_size(c->ipv6_max, mf, 1)),
		PART(ev_pool, wl_flow_ev,
			an ? pool_size(c->events_max, mf, 1) : 0),
		PART(probe_pool, wl_flow_probe,
			pool_size(c->probing_max, mf, 1)),
		PART(stash_pool, wl_flow_stash, pool_size(c->stash_max, mf, 8)),
		PART(ro_pool, wl_flow_ro, pool_size(c->reorder_max, mf, 8)),
	};

	memcpy(pl, p, sizeof(p));
	return RTE_DIM(p);
}

#define PARTS_MAX 8

/* States of protocol id per lcore (each of its transports). */
static inline uint32_t
l7_count(const struct wl_flow_conf *c, unsigned int id)
{
	return id < RTE_DIM(c->l7_state_proto) && c->l7_state_proto[id] != 0 ?
		c->l7_state_proto[id] : c->l7_state_max;
}

/* Slot size of L7 pool i (struct wl_flow_table l7_pool: protocol
 * i % WL_FLOW_PROTOS, its second transport from WL_FLOW_PROTOS on), 0
 * when there is none: disabled protocols never claim a flow (c's
 * protocol table set: conf_protos()). A state starts on a cache line,
 * so its first lines are the ones prefetched. */
static uint32_t
l7_slot(const struct wl_flow_conf *c, unsigned int i)
{
	unsigned int id = i % WL_FLOW_PROTOS;
	const struct wl_proto_ops *o = id < c->n_protos ? c->protos[id] : NULL;
	uint32_t size;

	if (o == NULL || (c->proto_disabled & (1u << id)) ||
			l7_count(c, id) == 0)
		return 0;
	if (i >= WL_FLOW_PROTOS && o->l4proto2 == 0)
		return 0;
	size = wl_proto_state_size(o, i >= WL_FLOW_PROTOS ? o->l4proto2 :
		o->l4proto);
	return RTE_ALIGN_CEIL(size, (uint32_t)RTE_CACHE_LINE_SIZE);
}

/* Buckets for 85% of their ways at most: cuckoo moves find room up to
 * about 98%. */
static uint32_t
n_buckets(uint32_t max_flows)
{
	return (uint32_t)(((uint64_t)max_flows * 100 + WL_FT_WAYS * 85 - 1) /
		(WL_FT_WAYS * 85));
}

/* Duplicate-check buckets, 0 without the check. */
static uint32_t
n_dd(const struct wl_flow_conf *c)
{
	if (c->dedup_window_us == 0)
		return 0;
	return RTE_MAX(1u, (c->dedup_entries != 0 ? c->dedup_entries :
		65536) / WL_DD_WAYS);
}

/* What flow_mem_bytes reports: entries, buckets, duplicate check and
 * part pools (not L7 states, held segments or waiting requests). */
static uint64_t
table_bytes(const struct wl_flow_conf *c)
{
	struct part_plan pl[PARTS_MAX];
	unsigned int i, n = parts_plan(c, pl);
	uint64_t b = (uint64_t)c->max_flows * sizeof(struct wl_flow) +
		(uint64_t)n_buckets(c->max_flows) * sizeof(struct wl_ft_bucket) +
		(uint64_t)n_dd(c) * sizeof(struct wl_dd_bucket);

	for (i = 0; i < n; i++)
		b += (uint64_t)slot_bytes(pl[i].size) * pl[i].n;
	return b;
}

/* Requests waiting for their answers, all flows (struct wl_mpool). */
static uint32_t
pending_n(const struct wl_flow_conf *c)
{
	return c->pending_max != 0 ? c->pending_max : 4096;
}

/* No protocol table given: the registered protocols. */
static void
conf_protos(struct wl_flow_conf *c)
{
	if (c->protos == NULL) {
		c->protos = wl_protos;
		c->n_protos = WL_PROTO_MAX;
	}
}

uint64_t
wl_flow_table_mem(const struct wl_flow_conf *conf)
{
	struct wl_flow_conf cf = *conf, *c = &cf;
	unsigned int i;
	uint64_t b;

	conf_protos(c);
	b = sizeof(struct wl_flow_table) + table_bytes(c) +
		wl_mpool_bytes(pending_n(c)) +
		(uint64_t)slot_bytes((uint32_t)sizeof(struct wl_ooo_seg) +
		c->ooo_seg_bytes) * c->ooo_pool_segs;

	for (i = 0; i < 2 * WL_FLOW_PROTOS; i++)
		b += (uint64_t)l7_slot(c, i) * l7_count(c, i % WL_FLOW_PROTOS);
	return b;
}

struct wl_flow_table *
wl_flow_table_create(const struct wl_flow_conf *conf,
	const struct wl_txn_sink *sink, struct wl_flow_stats *stats,
	uint64_t *proto_ctr_, unsigned int lcore, int socket)
{
	struct wl_flow_table *ft;
	struct part_plan pl[PARTS_MAX];
	uint32_t i, np, mf;

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
	conf_protos(&ft->conf);
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

	/* Entries, touched only as flows need them (free list first, then
	 * never-used ones). */
	mf = conf->max_flows;
	ft->flow_free = WL_NIL;
	ft->flows = rte_zmalloc_socket("wl_flows",
		(size_t)mf * sizeof(struct wl_flow), RTE_CACHE_LINE_SIZE,
		socket);
	if (ft->flows == NULL)
		goto nomem;
	ft->n_bkt = n_buckets(mf);
	ft->bkt = rte_zmalloc_socket("wl_flow_bkt",
		(size_t)ft->n_bkt * sizeof(struct wl_ft_bucket),
		RTE_CACHE_LINE_SIZE, socket);
	if (ft->bkt == NULL)
		goto nomem;
	ft->n_dd = n_dd(conf);
	if (ft->n_dd != 0) {
		ft->dd = rte_zmalloc_socket("wl_flow_dd",
			(size_t)ft->n_dd * sizeof(struct wl_dd_bucket),
			RTE_CACHE_LINE_SIZE, socket);
		if (ft->dd == NULL)
			goto nomem;
	}
	np = parts_plan(conf, pl);
	for (i = 0; i < np; i++)
		if (pool_init((struct wl_pool *)((char *)ft + pl[i].off),
				pl[i].name, pl[i].size, pl[i].n, socket) != 0)
			goto nomem;
	CTR(ft, MEM_BYTES) = table_bytes(conf);

	for (i = 0; i < ft->conf.n_protos; i++) {
		if (usable(ft, i, IPPROTO_TCP))
			ft->usable_tcp |= 1u << i;
		if (usable(ft, i, IPPROTO_UDP))
			ft->usable_udp |= 1u << i;
	}
	for (i = 0; i < RTE_DIM(ft->l7_pool); i++) {
		uint32_t slot = l7_slot(&ft->conf, i);

		ft->l7_pool[i].free = WL_NIL;
		if (slot != 0 && pool_init(&ft->l7_pool[i], "wl_l7", slot,
				l7_count(conf, i % WL_FLOW_PROTOS), socket) != 0)
			goto nomem;
	}
	if (conf->probe_db != NULL) {
		ft->probe_scr = wl_probe_scratch_create(conf->probe_db);
		if (ft->probe_scr == NULL)
			goto nomem;
	}

	ft->mpool = wl_mpool_create(pending_n(conf), socket);
	if (ft->mpool == NULL)
		goto nomem;

	if (pool_init(&ft->ooo_pool, "wl_ooo",
			(uint32_t)sizeof(struct wl_ooo_seg) + conf->ooo_seg_bytes,
			conf->ooo_pool_segs, socket) != 0)
		goto nomem;
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
	const struct wl_conn *c = wl_txn_area_c(t);
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
