/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * DNS transactions over UDP (one message per datagram) and TCP (two-byte
 * length framing, several queries in flight, answers in any order). A
 * flow is one (client endpoint, server endpoint) pair, so within it an
 * answer pairs with the pending query of the same id and question (the
 * matcher's keyed mode, wl_match.h: queries wait in the lcore's pool). A
 * query sent again before its answer is a retransmission: the first
 * transmission starts the transaction, the first answer ends it, and a
 * second answer is a duplicate. A query unanswered after the configured
 * time is a "no_response" transaction, and an answer that comes later is
 * unmatched, whatever else happens on the flow meanwhile.
 */

#include <netinet/in.h>
#include <string.h>

#include "wl_common.h"
#include "wl_dns.h"
#include "wl_dns_parse.h"
#include "wl_proto.h"
#include "wl_match.h"

#define RECENT 8

/* Recently answered queries, to tell a duplicate answer from a stray. */
struct dns_recent {
	uint64_t qhash;
	uint16_t id;
	uint8_t used;
};

struct dns_tcp_dir {
	uint8_t lenb[2];
	uint8_t nlen;           /* length bytes gathered, 2 = in a message */
	uint8_t lost;           /* after a gap: wait for a message start */
	uint16_t len;           /* message length */
	uint16_t got;           /* message bytes seen */
	uint64_t begin_ns;
	uint8_t buf[WL_DNS_TCP_BUF];
};

/*
 * Queries wait in the matcher's records (the lcore's pool, wl_match.h),
 * paired by key: struct wl_mrec aux holds the question's hash, the
 * transaction's proto area the id.
 */
struct dns_state {
	struct wl_match m;
	struct dns_recent recent[RECENT];
	uint8_t recent_next;
	struct dns_tcp_dir t[2];
};

static enum wl_probe
dns_probe_udp(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	return wl_probe_of(wl_dns_check(d, len, dir == WL_DIR_S2C, 0));
}

static enum wl_probe
dns_probe_tcp(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	return wl_probe_of(wl_dns_check(d, len, dir == WL_DIR_S2C, 1));
}

static void
dns_init(void *state, struct wl_proto_ctx *ctx)
{
	struct dns_state *s = state;

	(void)ctx;
	wl_match_init_keyed(&s->m);
}

static const struct wl_dns_txn *
dns_of(const struct wl_mrec *r)
{
	return wl_txn_area_c(&r->t);
}

/* Queries older than the timeout at time now get no answer, oldest first. */
static void
expire(struct dns_state *s, struct wl_proto_ctx *ctx, uint64_t now)
{
	struct wl_mrec *r;

	if (ctx->rsp_timeout_ns == 0)
		return;
	while ((r = wl_match_next(&s->m, ctx, NULL)) != NULL &&
			now > r->t.req_start_ns &&
			now - r->t.req_start_ns > ctx->rsp_timeout_ns)
		wl_match_drop(&s->m, ctx, r, WL_TXN_F_TIMEOUT);
}

/* The pending query m is about, sent by `before` (a reply that began
 * before a query was sent is not its answer). */
static struct wl_mrec *
find(struct dns_state *s, struct wl_proto_ctx *ctx,
	const struct wl_dns_msg *m, uint64_t before)
{
	struct wl_mrec *r = NULL;

	while ((r = wl_match_next(&s->m, ctx, r)) != NULL) {
		/* An answer without a question (FORMERR) pairs by id. */
		if (dns_of(r)->id == m->id && r->t.req_start_ns <= before &&
				(r->aux == m->qhash || m->qdcount == 0))
			return r;
	}
	return NULL;
}

static void
query(struct dns_state *s, struct wl_proto_ctx *ctx,
	const struct wl_dns_msg *m, uint64_t start, uint64_t end,
	uint32_t bytes)
{
	struct wl_stream_pos at = { ctx->pos.off, UINT64_MAX };
	struct wl_dns_txn *x;
	struct wl_mrec *r;
	char buf[16];
	uint8_t opcode = (uint8_t)WL_DNS_OPCODE(m->flags);

	ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
	r = find(s, ctx, m, UINT64_MAX);
	if (r != NULL) {
		ctx->ctr[WL_PROTO_CTR_RETRANSMITS]++;
		x = wl_txn_area(&r->t);
		if (x->retransmits < UINT8_MAX)
			x->retransmits++;
		r->t.flags |= WL_TXN_F_RETRANS;
		return;
	}
	r = wl_match_req_add(&s->m, ctx, &at, start);
	if (r == NULL)
		return;
	r->aux = m->qhash;
	x = wl_txn_area(&r->t);
	wl_txn_set_method(&r->t, opcode == 0 ?
		wl_dns_type_name(m->qtype, buf, sizeof(buf)) :
		wl_dns_opcode_name(opcode, buf, sizeof(buf)));
	wl_txn_set_resource(&r->t, m->qname);
	if (m->name_cut)
		r->t.flags |= WL_TXN_F_TRUNCATED;
	x->id = m->id;
	x->qtype = m->qtype;
	x->qclass = m->qclass;
	x->tcp = ctx->l4proto == IPPROTO_TCP;
	x->edns = m->edns;
	x->edns_do = m->edns_do;
	wl_match_req_end(&s->m, ctx, r, end, bytes, 1);
}

static void
answer(struct dns_state *s, struct wl_proto_ctx *ctx,
	const struct wl_dns_msg *m, uint64_t start, uint64_t end,
	uint32_t bytes)
{
	struct dns_recent *d;
	struct wl_dns_txn *x;
	struct wl_mrec *r;
	struct wl_txn t;
	char buf[16];
	unsigned int i;

	ctx->ctr[WL_PROTO_CTR_RESPONSES]++;
	r = find(s, ctx, m, start);
	if (r != NULL) {
		d = &s->recent[s->recent_next];
		s->recent_next = (uint8_t)((s->recent_next + 1) % RECENT);
		d->used = 1;
		d->id = dns_of(r)->id;
		d->qhash = r->aux;
		wl_proto_txn_init(ctx, &t);
		x = wl_txn_area(&t);
		t.rsp_start_ns = start;
		t.rsp_end_ns = end;
		t.rsp_bytes = bytes;
		t.status_code = m->rcode;
		wl_txn_set_status(&t, wl_dns_rcode_name(m->rcode, buf,
			sizeof(buf)));
		t.status_class = m->rcode == 0 ? WL_SC_OK :
			m->rcode == 2 ? WL_SC_SERVER_ERROR : m->rcode <= 10 ?
			WL_SC_CLIENT_ERROR : WL_SC_ERROR;
		x->rcode = m->rcode;
		x->answers = m->ancount;
		x->tc = (m->flags & WL_DNS_TC) != 0;
		x->edns_size = m->edns_size;
		wl_match_answer(&s->m, ctx, r, &t);
		return;
	}
	for (i = 0; i < RECENT; i++) {
		d = &s->recent[i];
		if (d->used && d->id == m->id && d->qhash == m->qhash) {
			ctx->ctr[WL_PROTO_CTR_DUPLICATES]++;
			return;
		}
	}
	ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
}

/* The answer's fields into the query's transaction. */
static void
dns_txn_merge(struct wl_txn *req, const struct wl_txn *rsp)
{
	struct wl_dns_txn *q = wl_txn_area(req);
	const struct wl_dns_txn *a = wl_txn_area_c(rsp);

	q->rcode = a->rcode;
	q->answers = a->answers;
	q->tc = a->tc;
	q->edns_size = a->edns_size;
}

/* A whole message of len bytes, the first have of them at d. */
static void
message(struct dns_state *s, struct wl_proto_ctx *ctx, enum wl_dir dir,
	const uint8_t *d, uint32_t have, uint32_t len, uint64_t start,
	uint64_t end, uint32_t bytes)
{
	struct wl_dns_msg m;

	expire(s, ctx, end);
	if (wl_dns_decode(d, have, len, &m) != 0 ||
			!!(m.flags & WL_DNS_QR) != (dir == WL_DIR_S2C)) {
		ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
		return;
	}
	/* Counted, but a good header and question still pair. */
	if (m.malformed)
		ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
	if (dir == WL_DIR_C2S)
		query(s, ctx, &m, start, end, bytes);
	else
		answer(s, ctx, &m, start, end, bytes);
}

static int
tcp_data(struct dns_state *s, struct wl_proto_ctx *ctx, enum wl_dir dir,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	struct dns_tcp_dir *t = &s->t[dir];
	uint32_t k;

	if (t->lost) {
		/* Segments often start messages: take the first that
		 * looks like one. */
		if (t->nlen != 0 || wl_dns_check(d, len, dir == WL_DIR_S2C,
				1) == 0)
			return WL_PROTO_CONTINUE;
		t->lost = 0;
		ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
	}
	while (len > 0) {
		if (t->nlen < 2) {
			if (t->nlen == 0)
				t->begin_ns = ts;
			t->lenb[t->nlen++] = *d++;
			len--;
			if (t->nlen == 2) {
				t->len = (uint16_t)(t->lenb[0] << 8 | t->lenb[1]);
				t->got = 0;
				/* Not DNS framing: nothing after it can
				 * be trusted to be, stop the flow. */
				if (t->len < WL_DNS_HDR) {
					ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
					return WL_PROTO_DONE;
				}
			}
			continue;
		}
		k = WL_MIN(len, (uint32_t)(t->len - t->got));
		if (t->got < WL_DNS_TCP_BUF)
			memcpy(t->buf + t->got, d, WL_MIN(k,
				(uint32_t)WL_DNS_TCP_BUF - t->got));
		t->got = (uint16_t)(t->got + k);
		d += k;
		len -= k;
		if (t->got == t->len) {
			t->nlen = 0;
			message(s, ctx, dir, t->buf, WL_MIN((uint32_t)t->len,
				(uint32_t)WL_DNS_TCP_BUF), t->len,
				t->begin_ns, ts, t->len + 2u);
		}
	}
	return WL_PROTO_CONTINUE;
}

static int
dns_data(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	struct dns_state *s = state;

	if (ctx->l4proto == IPPROTO_TCP)
		return tcp_data(s, ctx, dir, d, len, ts);
	message(s, ctx, dir, d, len, len, ts, ts, len);
	return WL_PROTO_CONTINUE;
}

static int
dns_gap(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir, uint32_t len,
	uint64_t ts)
{
	struct dns_state *s = state;

	(void)len;
	(void)ts;
	/* Lost queries are never seen; lost answers leave their queries
	 * to the timeout. Only the framing has to be found again (TCP: a
	 * UDP flow's state ends before t[]). */
	if (ctx->l4proto != IPPROTO_TCP)
		return WL_PROTO_CONTINUE;
	s->t[dir].nlen = 0;
	s->t[dir].lost = 1;
	return WL_PROTO_CONTINUE;
}

static void
dns_close(void *state, struct wl_proto_ctx *ctx, uint32_t flags, uint64_t ts)
{
	struct dns_state *s = state;

	expire(s, ctx, ts);
	wl_match_close(&s->m, ctx, flags, ts);
}

static void
dns_txn_write(const struct wl_txn *t, struct wl_jw *w)
{
	const struct wl_dns_txn *x = wl_txn_area_c(t);

	wl_jw_i64(w, "id", x->id);
	wl_jw_i64(w, "qtype", x->qtype);
	if (x->qclass != 1)
		wl_jw_i64(w, "qclass", x->qclass);
	wl_jw_str(w, "transport", x->tcp ? "tcp" : "udp");
	wl_jw_bool(w, "edns", x->edns);
	if (x->edns_do)
		wl_jw_bool(w, "dnssec_ok", 1);
	if (x->retransmits > 0)
		wl_jw_i64(w, "retransmits", x->retransmits);
	if (t->rsp_end_ns == 0)
		return;
	wl_jw_i64(w, "rcode", x->rcode);
	wl_jw_i64(w, "answers", x->answers);
	wl_jw_bool(w, "tc", x->tc);
	if (x->edns_size != 0)
		wl_jw_i64(w, "edns_size", x->edns_size);
}

/*
 * Detection signatures (wl_probe.h), on the header: a query (QR 0, an
 * opcode of QUERY, IQUERY, STATUS, NOTIFY or UPDATE, RCODE 0, one
 * question), an answer (QR 1, such an opcode, at most one question);
 * over TCP after a length (a query's below 16 KB). The TCP probe waits
 * for the whole header before it reads RCODE and the counts, so its
 * signatures span the header: shorter, they are no verdict.
 */
#define DNS_Q_FLAGS "[\\x00-\\x17\\x20-\\x2f][\\x00\\x10\\x20\\x30\\x40\\x50" \
	"\\x60\\x70\\x80\\x90\\xa0\\xb0\\xc0\\xd0\\xe0\\xf0]\\x00\\x01"
#define DNS_R_FLAGS "[\\x80-\\x97\\xa0-\\xaf][\\x00-\\xff]\\x00[\\x00\\x01]"

static const struct wl_probe_sig dns_sigs[] = {
	{ "^[\\x00-\\xff]{2}" DNS_Q_FLAGS, WL_SIG_C2S, 0 },
	{ "^[\\x00-\\xff]{2}" DNS_R_FLAGS, WL_SIG_S2C, 0 },
	{ "^[\\x00-\\x40][\\x00-\\xff]{3}" DNS_Q_FLAGS "[\\x00-\\xff]{6}",
		WL_SIG_C2S, 1 },
	{ "^[\\x00-\\xff]{4}" DNS_R_FLAGS "[\\x00-\\xff]{6}", WL_SIG_S2C, 1 },
	{ NULL, 0, 0 },
};

const struct wl_proto_ops wl_proto_dns_ops = {
	.name = "dns",
	.l4proto = IPPROTO_UDP,
	.l4proto2 = IPPROTO_TCP,
	.default_ports = { 53 },
	/* A datagram flow never reads the TCP framing buffers. */
	.state_size = offsetof(struct dns_state, t),
	.state_size2 = sizeof(struct dns_state),
	.txn_area = sizeof(struct wl_dns_txn),
	/* A datagram reads the matcher and the recent answers; a TCP
	 * segment its direction's buffer too. */
	.hot = {
		[WL_DIR_C2S] = { offsetof(struct dns_state, t), 64 },
		[WL_DIR_S2C] = { offsetof(struct dns_state, t) +
			sizeof(struct dns_tcp_dir), 64 },
		[2] = { 0, offsetof(struct dns_state, recent_next) + 1 },
	},
	.match_at = offsetof(struct dns_state, m) + 1,
	.probe = dns_probe_udp,
	.probe_sigs = dns_sigs,
	.probe2 = dns_probe_tcp,
	.init = dns_init,
	.data = dns_data,
	.gap = dns_gap,
	.close = dns_close,
	.txn_write = dns_txn_write,
	.txn_merge = dns_txn_merge,
};
