/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * memcached transactions. Text protocol: replies come in order, paired
 * first in, first out; "noreply" commands (and quiet meta commands, and
 * quit) get none and are not queued, so they never shift the pairing.
 * Binary protocol: paired by opaque; quiet commands (GETQ, SETQ, ...) are
 * answered only when they fail (or, for GETQ, hit): a later answer to a
 * newer request means they succeeded silently.
 */

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "wl_common.h"
#include "wl_mc.h"
#include "wl_mc_parse.h"
#include "wl_proto.h"
#include "wl_proto_fifo.h"

#define PENDING 16

struct mc_req {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t bytes;
	uint32_t opaque;
	uint16_t nkeys;
	uint8_t binary;
	uint8_t quiet;
	char method[WL_MC_CMD];
	char key[WL_MC_KEY];
};

struct mc_state {
	struct wl_mc_parser req;
	struct wl_mc_parser rsp;
	struct mc_req pend[PENDING];
	struct wl_fifo q;
	uint64_t req_begin_ns;
	uint64_t rsp_begin_ns;
	uint8_t rsp_owned;
	uint8_t suspect;
};

static const char *const bin_ops[] = {
	[0x00] = "get", [0x01] = "set", [0x02] = "add", [0x03] = "replace",
	[0x04] = "delete", [0x05] = "incr", [0x06] = "decr", [0x07] = "quit",
	[0x08] = "flush", [0x09] = "getq", [0x0a] = "noop", [0x0b] = "version",
	[0x0c] = "getk", [0x0d] = "getkq", [0x0e] = "append",
	[0x0f] = "prepend", [0x10] = "stat", [0x11] = "setq", [0x12] = "addq",
	[0x13] = "replaceq", [0x14] = "deleteq", [0x15] = "incrq",
	[0x16] = "decrq", [0x17] = "quitq", [0x18] = "flushq",
	[0x19] = "appendq", [0x1a] = "prependq", [0x1c] = "touch",
	[0x1d] = "gat", [0x1e] = "gatq", [0x23] = "gatk", [0x24] = "gatkq",
};

static struct mc_req *
pend_at(struct mc_state *s, uint32_t i)
{
	return &s->pend[wl_fifo_at(&s->q, PENDING, i)];
}

static enum wl_probe
mc_probe(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	return wl_probe_of(wl_mc_start_check(d, len, dir == WL_DIR_S2C));
}

static void
mc_init(void *state, struct wl_proto_ctx *ctx)
{
	struct mc_state *s = state;

	(void)ctx;
	wl_mc_parser_init(&s->req, 0);
	wl_mc_parser_init(&s->rsp, 1);
}

/* Status text and class of a reply to r. */
static void
status_of(const struct mc_req *r, const struct wl_mc_msg *m,
	struct wl_txn *t)
{
	const char *w = m->cmd;

	if (m->binary) {
		t->status_code = m->status;
		t->status_class = m->status == 0 || m->status == 1 ||
			m->status == 2 || m->status == 5 ? WL_SC_OK :
			m->status >= 0x80 && m->status < 0x84 ?
			WL_SC_CLIENT_ERROR : WL_SC_SERVER_ERROR;
		snprintf(t->status, sizeof(t->status), "%s", m->status == 0 ?
			"OK" : m->status == 1 ? "KEY_ENOENT" : m->status == 2 ?
			"KEY_EEXISTS" : m->status == 5 ? "NOT_STORED" :
			"ERROR");
		return;
	}
	t->status_class = WL_SC_OK;
	if (!strcmp(w, "ERROR"))
		t->status_class = WL_SC_ERROR;
	else if (!strcmp(w, "CLIENT_ERROR"))
		t->status_class = WL_SC_CLIENT_ERROR;
	else if (!strcmp(w, "SERVER_ERROR"))
		t->status_class = WL_SC_SERVER_ERROR;
	if (t->status_class == WL_SC_OK && (!strcmp(w, "VALUE") ||
			!strcmp(w, "END") || !strcmp(w, "VA") || !strcmp(w, "EN")) &&
			r->nkeys + (r->method[0] == 'm') > 0)
		w = m->values > 0 ? "HIT" : "MISS";
	else if (w[0] >= '0' && w[0] <= '9')
		w = "OK";               /* incr/decr result */
	wl_strlcpy(t->status, w, sizeof(t->status));
}

static void
emit(struct mc_state *s, struct wl_proto_ctx *ctx, const struct mc_req *r,
	const struct wl_mc_msg *m, uint64_t rsp_end, uint32_t flags)
{
	struct wl_mc_txn *x;
	struct wl_txn t;

	wl_proto_txn_init(ctx, &t);
	x = (struct wl_mc_txn *)t.proto_area;
	wl_strlcpy(t.method, r->method, sizeof(t.method));
	wl_strlcpy(t.resource, r->key, sizeof(t.resource));
	t.req_start_ns = r->start_ns;
	t.req_end_ns = r->end_ns;
	t.req_bytes = r->bytes;
	x->binary = r->binary;
	x->keys = r->nkeys;
	x->opaque = r->opaque;
	if (s->suspect)
		flags |= WL_TXN_F_GAP;
	if (m != NULL) {
		t.rsp_start_ns = s->rsp_begin_ns;
		t.rsp_end_ns = rsp_end;
		t.rsp_bytes = m->bytes;
		x->hits = m->values;
		status_of(r, m, &t);
	} else {
		flags |= wl_proto_unanswered(ctx, &t);
	}
	t.flags = flags;
	wl_proto_emit(ctx, &t);
}

static void
request_done(struct mc_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_mc_msg *m = &s->req.msg;
	struct mc_req *r;
	uint32_t slot;

	ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
	/* Text noreply: nothing will come back. Binary quiet: maybe. */
	if (m->noreply && !m->binary) {
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		return;
	}
	slot = wl_fifo_push(&s->q, PENDING);
	if (slot == UINT32_MAX) {
		ctx->ctr[WL_PROTO_CTR_PENDING_OVERFLOW]++;
		return;
	}
	r = &s->pend[slot];
	memset(r, 0, sizeof(*r));
	r->start_ns = s->req_begin_ns;
	r->end_ns = ts;
	r->bytes = m->bytes;
	r->binary = m->binary;
	r->quiet = m->noreply;
	r->opaque = m->opaque;
	r->nkeys = m->nkeys;
	wl_strlcpy(r->key, m->key, sizeof(r->key));
	if (m->binary) {
		if (m->opcode < WL_ARRAY_SIZE(bin_ops) && bin_ops[m->opcode])
			wl_strlcpy(r->method, bin_ops[m->opcode],
				sizeof(r->method));
		else
			snprintf(r->method, sizeof(r->method), "op_%02x",
				m->opcode);
	} else {
		wl_strlcpy(r->method, m->cmd, sizeof(r->method));
	}
}

static void
reply_done(struct mc_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_mc_msg *m = &s->rsp.msg;
	uint32_t i;

	ctx->ctr[WL_PROTO_CTR_RESPONSES]++;
	if (!s->rsp_owned || s->q.n == 0) {
		ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
		return;
	}
	/* A reply that began before a request was sent is not its reply
	 * (a reused opaque, garbage after a gap). */
	if (!m->binary) {
		if (pend_at(s, 0)->start_ns > s->rsp_begin_ns) {
			ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
			return;
		}
		emit(s, ctx, pend_at(s, 0), m, ts, 0);
		wl_fifo_pop(&s->q, PENDING);
		goto out;
	}
	for (i = 0; i < s->q.n && (pend_at(s, i)->opaque != m->opaque ||
			pend_at(s, i)->start_ns > s->rsp_begin_ns); i++)
		;
	if (i == s->q.n) {
		ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
		return;
	}
	/* Older quiet requests succeeded silently; older loud ones were
	 * never answered. */
	while (i-- > 0) {
		if (!pend_at(s, 0)->quiet)
			emit(s, ctx, pend_at(s, 0), NULL, 0, 0);
		else
			ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		wl_fifo_pop(&s->q, PENDING);
	}
	emit(s, ctx, pend_at(s, 0), m, ts, 0);
	wl_fifo_pop(&s->q, PENDING);
out:
	if (s->q.n == 0 && wl_mc_idle(&s->req))
		s->suspect = 0;
}

static int
feed(struct mc_state *s, struct wl_proto_ctx *ctx, struct wl_mc_parser *p,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	enum wl_mc_ev ev;
	uint32_t k;

	for (;;) {
		k = wl_mc_feed(p, d, len, &ev);
		d += k;
		len -= k;
		switch (ev) {
		case WL_MC_EV_NONE:
			return WL_PROTO_CONTINUE;
		case WL_MC_EV_BEGIN:
			if (p->is_resp) {
				s->rsp_begin_ns = ts;
				s->rsp_owned = s->q.n > 0;
			} else {
				s->req_begin_ns = ts;
			}
			break;
		case WL_MC_EV_END:
			if (p->is_resp)
				reply_done(s, ctx, ts);
			else
				request_done(s, ctx, ts);
			break;
		case WL_MC_EV_ERROR:
			ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
			break;
		}
	}
}

static int
mc_data(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	struct mc_state *s = state;

	return feed(s, ctx, dir == WL_DIR_C2S ? &s->req : &s->rsp, d, len, ts);
}

static int
mc_gap(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir, uint32_t len,
	uint64_t ts)
{
	struct mc_state *s = state;

	(void)len;
	(void)ts;
	ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
	s->suspect = 1;
	if (dir == WL_DIR_S2C && !wl_mc_idle(&s->rsp) && s->rsp_owned &&
			s->q.n > 0) {
		emit(s, ctx, pend_at(s, 0), NULL, 0, WL_TXN_F_GAP);
		wl_fifo_pop(&s->q, PENDING);
	}
	wl_mc_resync(dir == WL_DIR_C2S ? &s->req : &s->rsp);
	return WL_PROTO_CONTINUE;
}

static void
mc_close(void *state, struct wl_proto_ctx *ctx, uint32_t flags, uint64_t ts)
{
	struct mc_state *s = state;

	(void)ts;
	while (s->q.n > 0) {
		if (!pend_at(s, 0)->quiet)
			emit(s, ctx, pend_at(s, 0), NULL, 0, flags);
		wl_fifo_pop(&s->q, PENDING);
	}
}

static void
mc_txn_json(const struct wl_txn *t, json_t *o)
{
	const struct wl_mc_txn *x = (const void *)t->proto_area;

	json_object_set_new(o, "binary", json_boolean(x->binary));
	if (x->keys > 0)
		json_object_set_new(o, "keys", json_integer(x->keys));
	if (t->rsp_end_ns != 0)
		json_object_set_new(o, "hits", json_integer(x->hits));
}

const struct wl_proto_ops wl_proto_memcached_ops = {
	.name = "memcached",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 11211 },
	.state_size = sizeof(struct mc_state),
	.probe = mc_probe,
	.init = mc_init,
	.data = mc_data,
	.gap = mc_gap,
	.close = mc_close,
	.txn_json = mc_txn_json,
};
