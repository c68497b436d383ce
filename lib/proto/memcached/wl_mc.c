/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * memcached transactions, paired by the matcher (wl_match.h): replies
 * come in the requests' order. Text "noreply" commands and quit get
 * none and are not queued. Quiet ones (meta q, binary GETQ, SETQ...)
 * are answered only by some outcomes: they wait as quiet requests, and
 * a reply goes to the first request it fits (mc_rsp_fits: the reply's
 * word, binary opcode and opaque, meta O token and k key). A line the
 * server cannot read is answered with an error: it is a request too.
 */

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "wl_common.h"
#include "wl_mc.h"
#include "wl_mc_kw.h"
#include "wl_mc_parse.h"
#include "wl_proto.h"
#include "wl_match.h"

/* The fields every packet reads sit together before the matcher's head
 * (ops hot[2]), each direction's parser apart (hot[dir]). */
struct mc_state {
	struct wl_mc_parser req;
	struct wl_mc_parser rsp;
	struct wl_stream_pos req_pos;   /* where the message in progress began */
	struct wl_stream_pos rsp_pos;
	uint64_t req_begin_ns;
	uint64_t rsp_begin_ns;
	uint8_t req_gap;                /* bytes of the request were lost */
	uint8_t rsp_gap;                /* ... of the reply */
	struct wl_match m;
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

static enum wl_probe
mc_probe(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	return wl_probe_of(wl_mc_start_check(d, len, dir == WL_DIR_S2C));
}

static void
mc_init(void *state, struct wl_proto_ctx *ctx)
{
	struct mc_state *s = state;

	wl_mc_parser_init(&s->req, 0);
	wl_mc_parser_init(&s->rsp, 1);
	/* The first bytes may be the middle of a value: as after a gap,
	 * only a command's or a reply's word starts one. */
	if (ctx->midstream)
		wl_mc_resync(&s->req);
	if (ctx->midstream || ctx->rsp_midstream)
		wl_mc_resync(&s->rsp);
	wl_match_init(&s->m, ctx, 0);
}

static int
is_meta(const char *c)
{
	return c[0] == 'm' && c[1] != '\0' && c[2] == '\0';
}

/* Status text and class of a reply, from the reply alone. */
static void
status_of(const struct wl_mc_msg *m, struct wl_txn *t)
{
	const char *w = m->cmd;
	int id;

	if (m->binary) {
		t->status_code = m->status;
		t->status_class = m->status == 0 || m->status == 1 ||
			m->status == 2 || m->status == 5 ? WL_SC_OK :
			m->status >= 0x80 && m->status < 0x84 ?
			WL_SC_CLIENT_ERROR : WL_SC_SERVER_ERROR;
		wl_txn_set_status(t, m->status == 0 ?
			"OK" : m->status == 1 ? "KEY_ENOENT" : m->status == 2 ?
			"KEY_EEXISTS" : m->status == 5 ? "NOT_STORED" :
			"ERROR");
		return;
	}
	id = wl_mc_rsp_lookup(w, (uint32_t)strlen(w));
	t->status_class = id == WL_MC_RSP_ERROR ? WL_SC_ERROR :
		id == WL_MC_RSP_CLIENT_ERROR ? WL_SC_CLIENT_ERROR :
		id == WL_MC_RSP_SERVER_ERROR ? WL_SC_SERVER_ERROR : WL_SC_OK;
	/* VALUE and VA carry a value; END or EN alone answer only a
	 * retrieval that found nothing. */
	if (id == WL_MC_RSP_VALUE || id == WL_MC_RSP_END ||
			id == WL_MC_RSP_VA || id == WL_MC_RSP_EN)
		w = m->values > 0 ? "HIT" : "MISS";
	else if (w[0] >= '0' && w[0] <= '9')
		w = "OK";               /* incr/decr result */
	wl_txn_set_status(t, w);
}

static void
request_done(struct mc_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_mc_msg *m = &s->req.msg;
	struct wl_mc_txn *x;
	struct wl_mrec *r;
	char op[8];
	int quiet = m->noreply && (m->binary || is_meta(m->cmd));

	ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
	if (m->bad)
		ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
	/* Text noreply (and quit): nothing will come back. */
	if (m->noreply && !quiet) {
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		return;
	}
	r = wl_match_req_add(&s->m, ctx, &s->req_pos, s->req_begin_ns);
	if (r == NULL)
		return;
	if (quiet)
		r->expect = WL_EXPECT_MAYBE;
	x = wl_txn_area(&r->t);
	x->binary = m->binary;
	x->quiet = (uint8_t)quiet;
	x->keys = m->nkeys;
	x->opaque = m->opaque;
	x->opcode = m->opcode;
	x->ret_key = m->ret_key;
	x->bad = m->bad;
	if (m->binary) {
		if (m->opcode < WL_ARRAY_SIZE(bin_ops) && bin_ops[m->opcode]) {
			wl_txn_set_method(&r->t, bin_ops[m->opcode]);
		} else {
			snprintf(op, sizeof(op), "op_%02x", m->opcode);
			wl_txn_set_method(&r->t, op);
		}
	} else {
		wl_txn_set_method(&r->t, m->cmd);
	}
	wl_txn_set_resource(&r->t, m->key);
	wl_txn_str_set(&r->t, WL_MC_S_OTOK, m->otok, WL_MC_OTOK);
	if (s->req_gap)
		r->t.flags |= WL_TXN_F_GAP;
	wl_match_req_end(&s->m, ctx, r, ts, m->bytes, 1);
}

static void
reply_done(struct mc_state *s, struct wl_proto_ctx *ctx, uint64_t ts,
	enum wl_rsp_end how, uint32_t flags)
{
	const struct wl_mc_msg *m = &s->rsp.msg;
	struct wl_mc_txn *x;
	struct wl_txn t;

	wl_proto_txn_init(ctx, &t);
	x = wl_txn_area(&t);
	t.rsp_bytes = m->bytes;
	x->binary = m->binary;
	x->hits = m->values;
	x->opaque = m->opaque;
	x->opcode = m->opcode;
	/* In the order of their places in the record. */
	wl_txn_str_set(&t, WL_MC_S_OTOK, m->otok, WL_MC_OTOK);
	wl_txn_str_set(&t, WL_MC_S_WORD, m->cmd, WL_MC_CMD);
	status_of(m, &t);
	wl_txn_str_set(&t, WL_MC_S_RKEY, m->key, WL_MC_KEY);
	t.flags |= flags;
	if (s->rsp_gap)
		t.flags |= WL_TXN_F_GAP;
	s->rsp_gap = 0;
	wl_match_rsp(&s->m, ctx, &s->rsp_pos, s->rsp_begin_ns, &t, ts, how);
}

static int
feed(struct mc_state *s, struct wl_proto_ctx *ctx, struct wl_mc_parser *p,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	enum wl_mc_ev ev;
	uint32_t k, at = 0;

	for (;;) {
		k = wl_mc_feed(p, d, len, &ev);
		d += k;
		len -= k;
		at += k;
		switch (ev) {
		case WL_MC_EV_NONE:
			return WL_PROTO_CONTINUE;
		case WL_MC_EV_BEGIN:
			/* The byte consumed last starts the message. */
			if (p->is_resp) {
				s->rsp_begin_ns = ts;
				s->rsp_pos = wl_match_pos(&ctx->pos, at - 1);
				s->rsp_gap = 0;
			} else {
				s->req_begin_ns = ts;
				s->req_pos = wl_match_pos(&ctx->pos, at - 1);
				s->req_gap = 0;
			}
			break;
		case WL_MC_EV_END:
			if (p->is_resp)
				reply_done(s, ctx, ts, WL_RSP_COMPLETE, 0);
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

/*
 * Lost bytes inside a data block or binary body of known length are
 * skipped: the message is intact but for them (flag gap). Otherwise the
 * message in progress is lost from here: a reply is reported with what
 * is known of it (its start and first word, no end), a request never
 * is; and the matcher learns that message boundaries were lost.
 */
static int
mc_gap(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir, uint32_t len,
	uint64_t ts)
{
	struct mc_state *s = state;
	struct wl_mc_parser *p = dir == WL_DIR_C2S ? &s->req : &s->rsp;
	enum wl_gap_kind kind = WL_GAP_AT_START;

	(void)ts;
	if (wl_mc_skip(p, len)) {
		if (dir == WL_DIR_C2S)
			s->req_gap = 1;
		else
			s->rsp_gap = 1;
		return WL_PROTO_CONTINUE;
	}
	ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
	if (dir == WL_DIR_S2C && wl_mc_in_msg(p)) {
		reply_done(s, ctx, 0, WL_RSP_END_LOST, 0);
		kind = WL_GAP_IN_MSG;
	}
	wl_mc_resync(p);
	wl_match_gap(&s->m, ctx, dir, len, kind);
	return WL_PROTO_CONTINUE;
}

static void
mc_close(void *state, struct wl_proto_ctx *ctx, uint32_t flags, uint64_t ts)
{
	struct mc_state *s = state;

	/* A reply the end cut short keeps its start. */
	if (wl_mc_in_msg(&s->rsp))
		reply_done(s, ctx, 0, WL_RSP_CUT, flags);
	wl_match_close(&s->m, ctx, flags, ts);
}

/* Replies each text command can get besides errors (0: any). */
static const uint32_t cmd_replies[WL_MC_CMD_MAX] = {
#define _(e, n, r) [WL_MC_CMD_ ## e] = (r),
	foreach_wl_mc_cmd
#undef _
};

/*
 * May rsp answer req? Binary: same opcode and opaque. Text: errors
 * answer anything; otherwise the reply's word must be one the command
 * gets (a quiet meta command never gets the one q hides: EN for mg, HD
 * for the others), and meta O tokens and k keys must agree.
 */
static int
mc_rsp_fits(const struct wl_txn *req, const struct wl_txn *rsp)
{
	const struct wl_mc_txn *q = wl_txn_area_c(req);
	const struct wl_mc_txn *a = wl_txn_area_c(rsp);
	const char *w = wl_txn_str(rsp, WL_MC_S_WORD);
	const char *method = wl_txn_method(req);
	int cmd, word;

	if (q->binary != a->binary)
		return 0;
	if (a->binary)
		return q->opcode == a->opcode && q->opaque == a->opaque;
	word = wl_mc_rsp_lookup(w, rsp->slen[WL_MC_S_WORD]);
	if (word == WL_MC_RSP_ERROR || word == WL_MC_RSP_CLIENT_ERROR ||
			word == WL_MC_RSP_SERVER_ERROR)
		return 1;
	if (q->bad)
		return 0;
	if (strcmp(wl_txn_str(req, WL_MC_S_OTOK),
			wl_txn_str(rsp, WL_MC_S_OTOK)) != 0 && is_meta(method))
		return 0;
	if (q->ret_key && rsp->slen[WL_MC_S_RKEY] != 0 &&
			strcmp(wl_txn_resource(req),
			wl_txn_str(rsp, WL_MC_S_RKEY)) != 0)
		return 0;
	cmd = wl_mc_cmd_lookup(method, req->slen[WL_TXN_S_METHOD]);
	if (q->quiet && word == (cmd == WL_MC_CMD_MG ? WL_MC_RSP_EN :
			WL_MC_RSP_HD))
		return 0;
	if (cmd < 0 || cmd_replies[cmd] == 0)
		return 1;
	/* A number answers incr/decr ("#" too, as the lists had it). */
	if ((w[0] >= '0' && w[0] <= '9') || strcmp(w, "#") == 0)
		word = WL_MC_RSP_NUM;
	return word >= 0 && (cmd_replies[cmd] & (1u << word)) != 0;
}

/* The reply's facts into the request's transaction. */
static void
mc_txn_merge(struct wl_txn *req, const struct wl_txn *rsp)
{
	struct wl_mc_txn *q = wl_txn_area(req);
	const struct wl_mc_txn *a = wl_txn_area_c(rsp);

	q->hits = a->hits;
	wl_txn_str_copy(req, rsp, WL_MC_S_WORD);
	wl_txn_str_copy(req, rsp, WL_MC_S_RKEY);
}

static void
mc_txn_write(const struct wl_txn *t, struct wl_jw *w)
{
	const struct wl_mc_txn *x = wl_txn_area_c(t);

	wl_jw_bool(w, "binary", x->binary);
	if (x->keys > 0)
		wl_jw_i64(w, "keys", x->keys);
	if (x->quiet)
		wl_jw_bool(w, "quiet", 1);
	if (t->rsp_end_ns != 0)
		wl_jw_i64(w, "hits", x->hits);
}

/*
 * Detection signatures (wl_probe.h): the binary request magic; a text
 * command of wl_mc_kw.h (but flush_all: detection reads [a-z] words) and
 * a space or CR. Replies never start a flow: none for them.
 */
static const struct wl_probe_sig mc_sigs[] = {
	{ "^\\x80", WL_SIG_C2S, 0 },
	{ "^(?:get|gets|gat|gats|set|add|replace|append|prepend|cas|incr|"
		"decr|delete|touch|mg|ms|md|ma|mn|me|version|stats|verbosity|"
		"quit)[ \\r]", WL_SIG_C2S, 0 },
	{ NULL, 0, 0 },
};

const struct wl_proto_ops wl_proto_memcached_ops = {
	.name = "memcached",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 11211 },
	.state_size = sizeof(struct mc_state),
	.txn_area = sizeof(struct wl_mc_txn),
	WL_MATCH_OPS_HOT(struct mc_state,
		WL_PROTO_HOT(struct mc_state, req),
		WL_PROTO_HOT(struct mc_state, rsp),
		req_pos, m),
	.probe = mc_probe,
	.probe_sigs = mc_sigs,
	.init = mc_init,
	.data = mc_data,
	.gap = mc_gap,
	.close = mc_close,
	.txn_write = mc_txn_write,
	.txn_merge = mc_txn_merge,
	.rsp_fits = mc_rsp_fits,
};
