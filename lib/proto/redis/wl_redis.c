/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Redis transactions: commands paired with replies first in, first out,
 * each timed by its own first and last bytes (pipelining, replies over
 * many segments). Not request/response traffic, never paired: pub/sub
 * and RESP3 push messages, MONITOR output, replication streams after
 * PSYNC/SYNC, and commands whose replies CLIENT REPLY OFF/SKIP suppress.
 */

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "wl_common.h"
#include "wl_proto.h"
#include "wl_match.h"
#include "wl_redis.h"
#include "wl_redis_cmd.h"
#include "wl_redis_parse.h"

enum req_kind {
	K_PLAIN,
	K_SUB,          /* (P|S)SUBSCRIBE: one confirmation per channel */
	K_UNSUB,
	K_MONITOR,
	K_SYNC,         /* PSYNC / SYNC: replication follows the reply */
};

/* struct wl_mrec aux of a command: its kind and subscribed channels. */
#define AUX_KIND(a) ((uint8_t)((a) & 0xff))
#define AUX_NSUB(a) ((uint16_t)((a) >> 8))

/* The fields every packet reads sit together before the matcher's head
 * (ops hot[2]), each direction's parser apart (hot[dir]). */
struct redis_state {
	struct wl_redis_parser req;
	struct wl_redis_parser rsp;
	struct wl_stream_pos req_pos;   /* where the message in progress began */
	struct wl_stream_pos rsp_pos;
	uint64_t req_begin_ns;
	uint64_t rsp_begin_ns;
	uint32_t extra_confirms;        /* more subscribe confirmations due */
	uint8_t subscribed;             /* RESP2 subscribed state */
	uint8_t monitor;
	uint8_t reply_off;              /* CLIENT REPLY OFF */
	uint8_t reply_skip;             /* CLIENT REPLY SKIP: next one */
	uint8_t req_gap;                /* bytes of the command were lost */
	uint8_t rsp_gap;                /* ... of the reply */
	struct wl_match m;
};

static void
upper(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 'a' && src[i] <= 'z') ?
			(char)(src[i] - 32) : src[i];
	dst[i] = '\0';
}

static enum wl_probe
redis_probe(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	return wl_probe_of(wl_redis_start_check(d, len, dir == WL_DIR_S2C));
}

static void
redis_init(void *state, struct wl_proto_ctx *ctx)
{
	struct redis_state *s = state;

	wl_redis_parser_init(&s->req, 0);
	wl_redis_parser_init(&s->rsp, 1);
	/* Unasked messages (pushes, pub/sub) only once a command asks
	 * for them (command_done). */
	wl_match_init(&s->m, ctx, 0);
}

/* The reply's fields into a transaction of its own (wl_match_rsp). */
static void
reply_txn(struct wl_proto_ctx *ctx, const struct wl_redis_msg *m,
	struct wl_txn *t)
{
	struct wl_redis_txn *x;
	size_t i;

	wl_proto_txn_init(ctx, t);
	x = wl_txn_area(t);
	t->rsp_bytes = m->bytes;
	x->reply_type = m->type;
	x->reply_len = m->top_n;
	if (m->type == '-' || m->type == '!') {
		/* The error's first word: ERR, WRONGTYPE, NOAUTH... */
		for (i = 0; i < WL_TXN_STATUS_LEN - 1 && m->arg[0][i] != '\0' &&
				m->arg[0][i] != ' '; i++)
			;
		wl_txn_str_setn(t, WL_TXN_S_STATUS, m->arg[0], i);
		wl_txn_str_set(t, WL_REDIS_S_ERROR, m->arg[0],
			WL_REDIS_ERROR_LEN);
		t->status_class = WL_SC_ERROR;
	} else {
		wl_txn_set_status(t, "OK");
		t->status_class = WL_SC_OK;
	}
}

static void
command_done(struct redis_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_redis_msg *m = &s->req.msg;
	char a1[WL_REDIS_ARG], method[WL_TXN_METHOD_LEN];
	struct wl_mrec *r;
	const char *key = "";
	uint8_t kind = K_PLAIN, flags = 0;
	uint16_t nsub = 0;
	int id;

	ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
	if (m->nargs == 0)
		return;
	/* One lookup, any case (every name is shorter than method, so
	 * the upper-case copy below names the same command). */
	id = wl_redis_cmd_lookup(m->arg[0], (uint32_t)strlen(m->arg[0]));
	if (id >= 0)
		flags = wl_redis_cmd_flags[id];
	/* The subcommand, for the commands that read it. */
	if (id == WL_REDIS_CMD_CLIENT || (flags & WL_RC_CONT))
		upper(a1, sizeof(a1), m->nargs > 1 ? m->arg[1] : "");
	else
		a1[0] = '\0';
	/* CLIENT REPLY OFF/SKIP: no reply to come, nothing to pair. */
	if (id == WL_REDIS_CMD_CLIENT && strcmp(a1, "REPLY") == 0 &&
			m->nargs > 2) {
		if (strcasecmp(m->arg[2], "OFF") == 0) {
			s->reply_off = 1;
			return;
		}
		if (strcasecmp(m->arg[2], "SKIP") == 0) {
			if (!s->reply_off)
				s->reply_skip = 1;
			return;
		}
		s->reply_off = 0;       /* ON: answered with +OK */
	} else if (s->reply_off || s->reply_skip) {
		s->reply_skip = 0;
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		return;
	}
	upper(method, sizeof(method), m->arg[0]);
	if ((flags & WL_RC_CONT) && m->nargs > 1) {
		size_t l = strlen(method);

		if (l + 1 < sizeof(method)) {
			method[l] = ' ';
			upper(method + l + 1, sizeof(method) - l - 1, a1);
		}
		key = m->nargs > 2 ? m->arg[2] : "";
	} else if (!(flags & WL_RC_NOKEY)) {
		key = m->nargs > 1 ? m->arg[1] : "";
	}
	if (flags & WL_RC_SUB) {
		kind = K_SUB;
		nsub = (uint16_t)(m->top_n > 1 ? m->top_n - 1 : 1);
	} else if (flags & WL_RC_UNSUB) {
		kind = K_UNSUB;
	} else if (flags & WL_RC_MONITOR) {
		kind = K_MONITOR;
	} else if (flags & WL_RC_SYNC) {
		kind = K_SYNC;
	}
	/* From here the server may speak unasked: lost bytes of its
	 * stream need not hold an answer. */
	if (kind != K_PLAIN || (flags & WL_RC_PUSH) ||
			(id == WL_REDIS_CMD_CLIENT && m->nargs > 1 &&
			strcmp(a1, "TRACKING") == 0))
		s->m.unsolicited = 1;
	r = wl_match_req_add(&s->m, ctx, &s->req_pos, s->req_begin_ns);
	if (r == NULL)
		return;
	wl_txn_set_method(&r->t, method);
	wl_txn_set_resource(&r->t, key);
	((struct wl_redis_txn *)wl_txn_area(&r->t))->cmd = (uint16_t)(id + 1);
	r->aux = kind | (uint64_t)nsub << 8;
	if (s->req_gap || m->truncated)
		r->t.flags |= s->req_gap ? WL_TXN_F_GAP : WL_TXN_F_TRUNCATED;
	wl_match_req_end(&s->m, ctx, r, ts, m->bytes, 1);
}

/* "message", "pmessage" or "smessage", any case: a published message. */
static int
is_message(const char *kind)
{
	if (kind[0] == 'p' || kind[0] == 'P' || kind[0] == 's' ||
			kind[0] == 'S')
		kind++;
	return strcasecmp(kind, "message") == 0;
}

/* Pub/sub traffic: @return 1 when m was a message, not a reply. r: the
 * command it would answer, when known. */
static int
pubsub(struct redis_state *s, const struct wl_redis_msg *m,
	const struct wl_mrec *r)
{
	const char *kind = m->arg[0];
	uint8_t rk = r != NULL ? AUX_KIND(r->aux) : K_PLAIN;

	if (m->nargs == 0 || (m->type != '*' && m->type != '>'))
		return m->type == '>';
	if (is_message(kind))
		return 1;
	if (strcasestr(kind, "subscribe") == NULL)
		return m->type == '>';  /* "pong" in subscribed mode pairs */
	/* A confirmation, carrying the subscription count. */
	s->subscribed = m->integer > 0;
	if (rk == K_SUB || rk == K_UNSUB) {
		s->extra_confirms = rk == K_SUB ? AUX_NSUB(r->aux) - 1u : 0;
		return 0;               /* pairs with its command */
	}
	if (s->extra_confirms > 0)
		s->extra_confirms--;
	return 1;
}

static int
reply_done(struct redis_state *s, struct wl_proto_ctx *ctx, uint64_t ts,
	enum wl_rsp_end how, uint32_t flags)
{
	const struct wl_redis_msg *m = &s->rsp.msg;
	const struct wl_mrec *r = wl_match_rsp_peek(&s->m, ctx, &s->rsp_pos);
	uint8_t kind = r != NULL ? AUX_KIND(r->aux) : K_PLAIN;
	struct wl_txn t;

	if (how == WL_RSP_COMPLETE && (s->monitor ||
			((s->subscribed || m->type == '>' || kind == K_SUB ||
			kind == K_UNSUB) && pubsub(s, m, r)))) {
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		return WL_PROTO_CONTINUE;
	}
	reply_txn(ctx, m, &t);
	t.flags |= flags;
	if (s->rsp_gap)
		t.flags |= WL_TXN_F_GAP;
	s->rsp_gap = 0;
	wl_match_rsp(&s->m, ctx, &s->rsp_pos, s->rsp_begin_ns, &t, ts, how);
	if (how != WL_RSP_COMPLETE)
		return WL_PROTO_CONTINUE;
	if (kind == K_MONITOR && m->type == '+')
		s->monitor = 1;
	if (kind == K_SYNC && m->type == '+') {
		/* An RDB payload and the master's command stream follow:
		 * replication, not requests and replies. */
		return WL_PROTO_DONE;
	}
	return WL_PROTO_CONTINUE;
}

/* Both directions: the parser's events, then the bookkeeping. */
static int
feed(struct redis_state *s, struct wl_proto_ctx *ctx,
	struct wl_redis_parser *p, const uint8_t *d, uint32_t len, uint64_t ts)
{
	enum wl_redis_ev ev;
	uint32_t k, at = 0;

	for (;;) {
		k = wl_redis_feed(p, d, len, &ev);
		d += k;
		len -= k;
		at += k;
		switch (ev) {
		case WL_REDIS_EV_NONE:
			return WL_PROTO_CONTINUE;
		case WL_REDIS_EV_BEGIN:
			/* The byte consumed last starts the message. */
			if (!p->is_reply) {
				s->req_begin_ns = ts;
				s->req_pos = wl_match_pos(&ctx->pos, at - 1);
				s->req_gap = 0;
			} else {
				s->rsp_begin_ns = ts;
				s->rsp_pos = wl_match_pos(&ctx->pos, at - 1);
				s->rsp_gap = 0;
			}
			break;
		case WL_REDIS_EV_END:
			if (!p->is_reply)
				command_done(s, ctx, ts);
			else if (reply_done(s, ctx, ts, WL_RSP_COMPLETE, 0) ==
					WL_PROTO_DONE)
				return WL_PROTO_DONE;
			break;
		case WL_REDIS_EV_ERROR:
			ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
			break;
		case WL_REDIS_EV_ABORT:
			break;
		}
	}
}

static int
redis_data(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	struct redis_state *s = state;

	return feed(s, ctx, dir == WL_DIR_C2S ? &s->req : &s->rsp, d, len, ts);
}

/*
 * Lost bytes inside a bulk of known length are skipped: the message is
 * intact but for them (flag gap). Otherwise the message in progress is
 * lost from here: a reply is reported with what is known of it (its
 * start and type, no end), a command never is; and the matcher learns
 * that message boundaries were lost.
 */
static int
redis_gap(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir,
	uint32_t len, uint64_t ts)
{
	struct redis_state *s = state;
	struct wl_redis_parser *p = dir == WL_DIR_C2S ? &s->req : &s->rsp;
	enum wl_gap_kind kind = WL_GAP_AT_START;

	(void)ts;
	if (wl_redis_skip(p, len)) {
		if (dir == WL_DIR_C2S)
			s->req_gap = 1;
		else
			s->rsp_gap = 1;
		return WL_PROTO_CONTINUE;
	}
	ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
	if (dir == WL_DIR_S2C && !wl_redis_idle(p) && !s->monitor &&
			!s->subscribed) {
		/* Its command was answered; where the answer ends, and
		 * whether more followed, is lost. */
		reply_done(s, ctx, 0, WL_RSP_END_LOST, 0);
		kind = WL_GAP_IN_MSG;
	}
	/* A command in progress is lost whole: an answer will come for it,
	 * as for any other lost command. */
	wl_redis_resync(p);
	wl_match_gap(&s->m, ctx, dir, len, kind);
	return WL_PROTO_CONTINUE;
}

static void
redis_close(void *state, struct wl_proto_ctx *ctx, uint32_t flags,
	uint64_t ts)
{
	struct redis_state *s = state;

	/* A reply the end cut short keeps its start. */
	if (!wl_redis_idle(&s->rsp) && !s->rsp.resync && !s->monitor &&
			!s->subscribed)
		reply_done(s, ctx, 0, WL_RSP_CUT, flags);
	wl_match_close(&s->m, ctx, flags, ts);
}

static int
redis_rsp_fits(const struct wl_txn *req, const struct wl_txn *rsp)
{
	const struct wl_redis_txn *x = wl_txn_area_c(rsp);
	unsigned int cmd = ((const struct wl_redis_txn *)
		wl_txn_area_c(req))->cmd;

	/* Errors answer anything; an attribute hides the type after it. */
	if (x->reply_type == '-' || x->reply_type == '!' ||
			x->reply_type == '|' || x->reply_type == 0)
		return 1;
	/* The reply types the Redis documentation fixes for the command
	 * (wl_redis_cmd.h), if it does. */
	if (cmd == 0 || wl_redis_cmd_types[cmd - 1] == NULL)
		return 1;
	return strchr(wl_redis_cmd_types[cmd - 1], x->reply_type) != NULL;
}

static void
redis_txn_write(const struct wl_txn *t, struct wl_jw *w)
{
	const struct wl_redis_txn *x = wl_txn_area_c(t);
	char ty[2] = { (char)x->reply_type, '\0' };

	if (t->rsp_start_ns == 0)
		return;
	wl_jw_str(w, "reply_type", ty);
	if (x->reply_len >= 0)
		wl_jw_i64(w, "reply_len", (int64_t)x->reply_len);
	if (t->slen[WL_REDIS_S_ERROR] != 0)
		wl_jw_str_wire(w, "error", wl_txn_str(t, WL_REDIS_S_ERROR));
}

/*
 * Detection signatures (wl_probe.h): a command's "*<n>\\r\\n$", or an
 * inline command (WL_RC_INL in wl_redis_cmd.h) in upper case and a space
 * or CR. Replies never start a flow: none for them.
 */
static const struct wl_probe_sig redis_sigs[] = {
	{ "^\\*[0-9]{1,7}\\r\\n\\$", WL_SIG_C2S, 0 },
	{ "^(?:APPEND|AUTH|CLIENT|CONFIG|DBSIZE|DECR|DEL|ECHO|EXISTS|EXPIRE|"
		"FLUSHALL|FLUSHDB|GET|HELLO|HGET|HGETALL|HSET|INCR|INFO|KEYS|"
		"LPUSH|LRANGE|MGET|MONITOR|MSET|PING|PSUBSCRIBE|PUBLISH|QUIT|"
		"RESET|RPUSH|SADD|SCAN|SELECT|SET|SMEMBERS|SUBSCRIBE|TTL|TYPE|"
		"XADD|XRANGE|ZADD|ZRANGE)[ \\r]", WL_SIG_C2S, 0 },
	{ NULL, 0, 0 },
};

const struct wl_proto_ops wl_proto_redis_ops = {
	.name = "redis",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 6379, 6380 },
	.state_size = sizeof(struct redis_state),
	.txn_area = sizeof(struct wl_redis_txn),
	WL_MATCH_OPS_HOT(struct redis_state,
		WL_PROTO_HOT(struct redis_state, req),
		WL_PROTO_HOT(struct redis_state, rsp),
		req_pos, m),
	.probe = redis_probe,
	.probe_sigs = redis_sigs,
	.init = redis_init,
	.data = redis_data,
	.gap = redis_gap,
	.close = redis_close,
	.txn_write = redis_txn_write,
	.rsp_fits = redis_rsp_fits,
};
