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
#include "wl_proto_fifo.h"
#include "wl_redis.h"
#include "wl_redis_parse.h"

#define PENDING 16

enum req_kind {
	K_PLAIN,
	K_SUB,          /* (P|S)SUBSCRIBE: one confirmation per channel */
	K_UNSUB,
	K_MONITOR,
	K_SYNC,         /* PSYNC / SYNC: replication follows the reply */
};

struct redis_req {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t bytes;
	uint32_t seq;
	uint8_t kind;
	uint8_t confirmed;
	uint16_t nsub;
	char method[WL_TXN_METHOD_LEN];
	char key[WL_REDIS_ARG];
};

struct redis_state {
	struct wl_redis_parser req;
	struct wl_redis_parser rsp;
	struct redis_req pend[PENDING];
	struct wl_fifo q;               /* pending commands, oldest first */
	uint32_t req_seq;
	uint32_t rsp_seq;
	uint64_t req_begin_ns;
	uint64_t rsp_begin_ns;
	uint32_t extra_confirms;        /* more subscribe confirmations due */
	uint8_t subscribed;             /* RESP2 subscribed state */
	uint8_t monitor;
	uint8_t reply_off;              /* CLIENT REPLY OFF */
	uint8_t reply_skip;             /* CLIENT REPLY SKIP: next one */
	uint8_t rsp_owned;
	uint8_t suspect;
};

/* Commands whose second word is a subcommand ("CONFIG GET"). */
static const char *const containers[] = {
	"ACL", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "DEBUG", "FUNCTION",
	"LATENCY", "MEMORY", "MODULE", "OBJECT", "PUBSUB", "SCRIPT",
	"SLOWLOG", "XGROUP", "XINFO",
};

/* Commands without a key in their first argument. */
static const char *const keyless[] = {
	"AUTH", "BGREWRITEAOF", "BGSAVE", "DBSIZE", "DISCARD", "ECHO", "EVAL",
	"EVALSHA", "EVAL_RO", "EVALSHA_RO", "EXEC", "FCALL", "FLUSHALL",
	"FLUSHDB", "HELLO", "INFO", "KEYS", "LASTSAVE", "MONITOR", "MULTI",
	"PING", "PSUBSCRIBE", "PSYNC", "PUBLISH", "PUNSUBSCRIBE", "QUIT",
	"RANDOMKEY", "READONLY", "READWRITE", "REPLCONF", "REPLICAOF", "RESET",
	"ROLE", "SAVE", "SCAN", "SELECT", "SHUTDOWN", "SLAVEOF", "SPUBLISH",
	"SSUBSCRIBE", "SUBSCRIBE", "SUNSUBSCRIBE", "SWAPDB", "SYNC", "TIME",
	"UNSUBSCRIBE", "UNWATCH", "WAIT",
};

static int
in_list(const char *const *l, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return 1;
	return 0;
}

static void
upper(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 'a' && src[i] <= 'z') ?
			(char)(src[i] - 32) : src[i];
	dst[i] = '\0';
}

static struct redis_req *
pend_at(struct redis_state *s, uint32_t i)
{
	return &s->pend[wl_fifo_at(&s->q, PENDING, i)];
}

static void
pend_pop(struct redis_state *s)
{
	wl_fifo_pop(&s->q, PENDING);
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

	(void)ctx;
	wl_redis_parser_init(&s->req, 0);
	wl_redis_parser_init(&s->rsp, 1);
}

static void
emit(struct redis_state *s, struct wl_proto_ctx *ctx, const struct redis_req *r,
	const struct wl_redis_msg *m, uint64_t rsp_end, uint32_t flags)
{
	struct wl_redis_txn *x;
	struct wl_txn t;
	size_t i;

	wl_proto_txn_init(ctx, &t);
	x = (struct wl_redis_txn *)t.proto_area;
	wl_strlcpy(t.method, r->method, sizeof(t.method));
	wl_strlcpy(t.resource, r->key, sizeof(t.resource));
	t.req_start_ns = r->start_ns;
	t.req_end_ns = r->end_ns;
	t.req_bytes = r->bytes;
	if (s->suspect)
		flags |= WL_TXN_F_GAP;
	x->reply_len = -1;
	if (m != NULL) {
		t.rsp_start_ns = s->rsp_begin_ns;
		t.rsp_end_ns = rsp_end;
		t.rsp_bytes = m->bytes;
		x->reply_type = m->type;
		x->reply_len = m->top_n;
		if (m->type == '-' || m->type == '!') {
			/* The error's first word: ERR, WRONGTYPE, NOAUTH... */
			for (i = 0; i < sizeof(t.status) - 1 &&
					m->arg[0][i] != '\0' &&
					m->arg[0][i] != ' '; i++)
				t.status[i] = m->arg[0][i];
			t.status[i] = '\0';
			wl_strlcpy(x->error, m->arg[0], sizeof(x->error));
			t.status_class = WL_SC_ERROR;
		} else {
			wl_strlcpy(t.status, "OK", sizeof(t.status));
			t.status_class = WL_SC_OK;
		}
	} else {
		flags |= wl_proto_unanswered(ctx, &t);
	}
	t.flags = flags;
	wl_proto_emit(ctx, &t);
}

static void
command_done(struct redis_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_redis_msg *m = &s->req.msg;
	char a1[WL_REDIS_ARG];
	struct redis_req *r;
	const char *key = "";

	ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
	if (m->nargs == 0)
		return;
	upper(a1, sizeof(a1), m->nargs > 1 ? m->arg[1] : "");
	/* CLIENT REPLY OFF/SKIP: no reply to come, nothing to pair. */
	if (strcasecmp(m->arg[0], "CLIENT") == 0 && strcmp(a1, "REPLY") == 0 &&
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
	if (s->q.n == PENDING) {
		ctx->ctr[WL_PROTO_CTR_PENDING_OVERFLOW]++;
		s->req_seq++;
		return;
	}
	r = pend_at(s, s->q.n++);
	memset(r, 0, sizeof(*r));
	r->seq = s->req_seq++;
	r->start_ns = s->req_begin_ns;
	r->end_ns = ts;
	r->bytes = m->bytes;
	upper(r->method, sizeof(r->method), m->arg[0]);
	if (in_list(containers, WL_ARRAY_SIZE(containers), r->method) &&
			m->nargs > 1) {
		size_t l = strlen(r->method);

		if (l + 1 < sizeof(r->method)) {
			r->method[l] = ' ';
			upper(r->method + l + 1, sizeof(r->method) - l - 1, a1);
		}
		key = m->nargs > 2 ? m->arg[2] : "";
	} else if (!in_list(keyless, WL_ARRAY_SIZE(keyless), r->method)) {
		key = m->nargs > 1 ? m->arg[1] : "";
	}
	wl_strlcpy(r->key, key, sizeof(r->key));
	if (strcmp(r->method, "SUBSCRIBE") == 0 ||
			strcmp(r->method, "PSUBSCRIBE") == 0 ||
			strcmp(r->method, "SSUBSCRIBE") == 0) {
		r->kind = K_SUB;
		r->nsub = (uint16_t)(m->top_n > 1 ? m->top_n - 1 : 1);
	} else if (strcmp(r->method, "UNSUBSCRIBE") == 0 ||
			strcmp(r->method, "PUNSUBSCRIBE") == 0 ||
			strcmp(r->method, "SUNSUBSCRIBE") == 0) {
		r->kind = K_UNSUB;
	} else if (strcmp(r->method, "MONITOR") == 0) {
		r->kind = K_MONITOR;
	} else if (strcmp(r->method, "PSYNC") == 0 ||
			strcmp(r->method, "SYNC") == 0) {
		r->kind = K_SYNC;
	}
}

/* Pub/sub traffic: @return 1 when m was a message, not a reply. */
static int
pubsub(struct redis_state *s, const struct wl_redis_msg *m,
	struct redis_req *r)
{
	const char *kind = m->arg[0];

	if (m->nargs == 0 || (m->type != '*' && m->type != '>'))
		return m->type == '>';
	if (strcasecmp(kind, "message") == 0 ||
			strcasecmp(kind, "pmessage") == 0 ||
			strcasecmp(kind, "smessage") == 0)
		return 1;
	if (strcasestr(kind, "subscribe") == NULL)
		return m->type == '>';  /* "pong" in subscribed mode pairs */
	/* A confirmation, carrying the subscription count. */
	s->subscribed = m->integer > 0;
	if (r != NULL && (r->kind == K_SUB || r->kind == K_UNSUB) &&
			!r->confirmed) {
		r->confirmed = 1;
		s->extra_confirms = r->kind == K_SUB ? r->nsub - 1u : 0;
		return 0;               /* pairs with its command */
	}
	if (s->extra_confirms > 0)
		s->extra_confirms--;
	return 1;
}

static int
reply_done(struct redis_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_redis_msg *m = &s->rsp.msg;
	struct redis_req *r = s->q.n > 0 ? pend_at(s, 0) : NULL;
	int kind;

	if (r != NULL && r->seq != s->rsp_seq)
		r = NULL;
	if (s->monitor || ((s->subscribed || m->type == '>' ||
			(r != NULL && (r->kind == K_SUB || r->kind == K_UNSUB))) &&
			pubsub(s, m, r))) {
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		return WL_PROTO_CONTINUE;
	}
	ctx->ctr[WL_PROTO_CTR_RESPONSES]++;
	if (!s->rsp_owned) {
		ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
		return WL_PROTO_CONTINUE;
	}
	s->rsp_seq++;
	if (r == NULL) {
		ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
		return WL_PROTO_CONTINUE;
	}
	kind = r->kind;
	emit(s, ctx, r, m, ts, 0);
	pend_pop(s);
	if (s->q.n == 0 && wl_redis_idle(&s->req))
		s->suspect = 0;
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
	uint32_t k;

	for (;;) {
		k = wl_redis_feed(p, d, len, &ev);
		d += k;
		len -= k;
		switch (ev) {
		case WL_REDIS_EV_NONE:
			return WL_PROTO_CONTINUE;
		case WL_REDIS_EV_BEGIN:
			if (!p->is_reply) {
				s->req_begin_ns = ts;
				break;
			}
			s->rsp_begin_ns = ts;
			/* A reply that begins with nothing asked is not an
			 * answer to what is asked later. */
			s->rsp_owned = s->rsp_seq != s->req_seq;
			break;
		case WL_REDIS_EV_END:
			if (!p->is_reply)
				command_done(s, ctx, ts);
			else if (reply_done(s, ctx, ts) == WL_PROTO_DONE)
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

static int
redis_gap(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir,
	uint32_t len, uint64_t ts)
{
	struct redis_state *s = state;

	(void)len;
	(void)ts;
	ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
	s->suspect = 1;
	if (dir == WL_DIR_C2S) {
		wl_redis_resync(&s->req);
		return WL_PROTO_CONTINUE;
	}
	/* The reply in progress is lost: its command gets none. */
	if (!wl_redis_idle(&s->rsp) && s->rsp_owned && s->q.n > 0 &&
			pend_at(s, 0)->seq == s->rsp_seq) {
		emit(s, ctx, pend_at(s, 0), NULL, 0, WL_TXN_F_GAP);
		pend_pop(s);
		s->rsp_seq++;
	}
	wl_redis_resync(&s->rsp);
	return WL_PROTO_CONTINUE;
}

static void
redis_close(void *state, struct wl_proto_ctx *ctx, uint32_t flags,
	uint64_t ts)
{
	struct redis_state *s = state;

	(void)ts;
	while (s->q.n > 0) {
		emit(s, ctx, pend_at(s, 0), NULL, 0, flags);
		pend_pop(s);
	}
}

static void
redis_txn_json(const struct wl_txn *t, json_t *o)
{
	const struct wl_redis_txn *x = (const void *)t->proto_area;
	char ty[2] = { (char)x->reply_type, '\0' };

	if (t->rsp_end_ns == 0)
		return;
	json_object_set_new(o, "reply_type", json_string(ty));
	if (x->reply_len >= 0)
		json_object_set_new(o, "reply_len",
			json_integer((json_int_t)x->reply_len));
	if (x->error[0] != '\0')
		json_object_set_new(o, "error", wl_proto_json_str(x->error));
}

const struct wl_proto_ops wl_proto_redis_ops = {
	.name = "redis",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 6379, 6380 },
	.state_size = sizeof(struct redis_state),
	.probe = redis_probe,
	.init = redis_init,
	.data = redis_data,
	.gap = redis_gap,
	.close = redis_close,
	.txn_json = redis_txn_json,
};
