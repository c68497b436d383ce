/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * HTTP/1.x transactions: requests and responses paired first in, first
 * out on a connection (pipelining included), each timed by the packets
 * that carried its first and last bytes. Framing is wl_http_parse.c's;
 * this file only does the bookkeeping.
 */

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "wl_common.h"
#include "wl_http.h"
#include "wl_proto.h"
#include "wl_proto_fifo.h"

#define PENDING 8               /* requests in flight per connection */

struct http_req {
	uint64_t start_ns;
	uint64_t end_ns;                /* last byte seen so far */
	uint64_t hdr_bytes;
	uint64_t body_bytes;
	uint32_t seq;
	uint8_t done;                   /* its last byte was seen */
	uint8_t gap;
	uint8_t head;                   /* HEAD: the response has no body */
	uint8_t connect;
	uint8_t truncated;
	uint8_t rsvd[7];
	char method[WL_HTTP_METHOD];
	char target[WL_HTTP_TARGET];
	char query[WL_HTTP_QUERY];
	char host[WL_HTTP_HOST];
};

struct http_state {
	struct wl_http_parser req;
	struct wl_http_parser rsp;
	struct http_req pend[PENDING];
	struct wl_fifo q;               /* pending requests, oldest first */
	uint32_t req_seq;               /* requests begun */
	uint32_t rsp_seq;               /* seq of the request answered next */
	uint32_t cur_req;               /* seq of the request being parsed */
	uint8_t req_stored;             /* ... and it has a pending slot */
	uint8_t suspect;                /* a gap: pairs may be off */
	uint8_t rsp_owned;              /* the response began after its request */
	uint16_t interim;               /* 1xx seen for the response due */
	uint64_t rsp_start_ns;          /* the final response's first byte */
	uint64_t req_begin_ns;          /* first byte of the request parsed */
	uint64_t rsp_last_ns;           /* latest response byte (read to close) */
};

static struct http_req *
pend_at(struct http_state *s, uint32_t i)
{
	return &s->pend[wl_fifo_at(&s->q, PENDING, i)];
}

/* The pending request with this seq, or NULL (not stored). */
static struct http_req *
pend_seq(struct http_state *s, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < s->q.n; i++)
		if (pend_at(s, i)->seq == seq)
			return pend_at(s, i);
	return NULL;
}

static void
pend_pop(struct http_state *s)
{
	wl_fifo_pop(&s->q, PENDING);
}

static enum wl_probe
http_probe(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	return wl_probe_of(wl_http_start_check(d, len, dir == WL_DIR_S2C));
}

static void
http_init(void *state, struct wl_proto_ctx *ctx)
{
	struct http_state *s = state;

	(void)ctx;
	wl_http_parser_init(&s->req, 0);
	wl_http_parser_init(&s->rsp, 1);
}

static uint8_t
status_class(uint16_t st)
{
	if (st >= 500)
		return WL_SC_SERVER_ERROR;
	if (st >= 400)
		return WL_SC_CLIENT_ERROR;
	return WL_SC_OK;
}

/* One transaction for request r; m is its final response, or NULL. */
static void
emit(struct http_state *s, struct wl_proto_ctx *ctx, const struct http_req *r,
	const struct wl_http_msg *m, uint64_t rsp_end_ns, uint32_t flags)
{
	struct wl_http_txn *x;
	struct wl_txn t;

	wl_proto_txn_init(ctx, &t);
	x = (struct wl_http_txn *)t.proto_area;
	wl_strlcpy(t.method, r->method, sizeof(t.method));
	wl_strlcpy(t.resource, r->target, sizeof(t.resource));
	wl_strlcpy(x->query, r->query, sizeof(x->query));
	wl_strlcpy(x->host, r->host, sizeof(x->host));
	t.req_start_ns = r->start_ns;
	t.req_end_ns = r->end_ns;
	t.req_bytes = r->hdr_bytes + r->body_bytes;
	x->req_hdr_bytes = r->hdr_bytes;
	x->req_body_bytes = r->body_bytes;
	if (r->gap || s->suspect)
		flags |= WL_TXN_F_GAP;
	if (r->truncated || (m != NULL && m->truncated))
		flags |= WL_TXN_F_TRUNCATED;
	if (m != NULL) {
		t.rsp_start_ns = s->rsp_start_ns;
		t.rsp_end_ns = rsp_end_ns;
		t.rsp_bytes = m->hdr_bytes + m->body_bytes;
		x->rsp_hdr_bytes = m->hdr_bytes;
		x->rsp_body_bytes = m->body_bytes;
		x->minor = m->minor;
		t.status_code = m->status;
		snprintf(t.status, sizeof(t.status), "%u", m->status);
		t.status_class = status_class(m->status);
		if (s->interim != 0) {
			x->interim_status = s->interim;
			flags |= WL_TXN_F_INTERIM;
		}
	} else {
		flags |= wl_proto_unanswered(ctx, &t);
	}
	t.flags = flags;
	wl_proto_emit(ctx, &t);
}

/* The final response ended at ts: pair it with the oldest request. */
static void
response_done(struct http_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	struct http_req *r = s->q.n > 0 ? pend_at(s, 0) : NULL;

	ctx->ctr[WL_PROTO_CTR_RESPONSES]++;
	if (!s->rsp_owned) {
		/* No request was waiting when it began (capture picked up
		 * mid-stream): never paired with a later request. */
		ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
	} else {
		if (r != NULL && r->seq == s->rsp_seq) {
			emit(s, ctx, r, &s->rsp.msg, ts, 0);
			pend_pop(s);
		} else {
			ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
		}
		s->rsp_seq++;
	}
	s->interim = 0;
	if (s->q.n == 0 && wl_http_idle(&s->req))
		s->suspect = 0;         /* nothing in flight: in step again */
}

static int
requests(struct http_state *s, struct wl_proto_ctx *ctx, const uint8_t *d,
	uint32_t len, uint64_t ts)
{
	struct wl_http_parser *p = &s->req;
	const struct wl_http_msg *m = &p->msg;
	enum wl_http_ev ev;
	struct http_req *r;
	uint32_t k;

	for (;;) {
		k = wl_http_feed(p, d, len, &ev);
		d += k;
		len -= k;
		r = s->req_stored ? pend_seq(s, s->cur_req) : NULL;
		if (r != NULL && !r->done)
			r->end_ns = ts;
		switch (ev) {
		case WL_HTTP_EV_NONE:
			return WL_PROTO_CONTINUE;
		case WL_HTTP_EV_BEGIN:
			/* Only a request once its headers parse: until
			 * then it may be garbage, and must not take a seq. */
			s->req_begin_ns = ts;
			s->req_stored = 0;
			break;
		case WL_HTTP_EV_HEADERS:
			s->cur_req = s->req_seq++;
			s->req_stored = s->q.n < PENDING;
			if (!s->req_stored) {
				ctx->ctr[WL_PROTO_CTR_PENDING_OVERFLOW]++;
				break;
			}
			r = pend_at(s, s->q.n++);
			memset(r, 0, sizeof(*r));
			r->seq = s->cur_req;
			r->start_ns = s->req_begin_ns;
			r->end_ns = ts;
			wl_strlcpy(r->method, m->method, sizeof(r->method));
			wl_strlcpy(r->target, m->target, sizeof(r->target));
			wl_strlcpy(r->query, m->query, sizeof(r->query));
			wl_strlcpy(r->host, m->host, sizeof(r->host));
			r->head = strcmp(m->method, "HEAD") == 0;
			r->connect = strcmp(m->method, "CONNECT") == 0;
			break;
		case WL_HTTP_EV_END:
			ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
			if (r == NULL)
				break;
			r->done = 1;
			r->hdr_bytes = m->hdr_bytes;
			r->body_bytes = m->body_bytes;
			r->truncated = m->truncated;
			break;
		case WL_HTTP_EV_ERROR:
		case WL_HTTP_EV_ABORT:
			if (ev == WL_HTTP_EV_ERROR)
				ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
			/* A request broken in its body still waits for its
			 * answer (likely a 400); it just ended here. */
			if (r != NULL)
				r->done = 1;
			s->req_stored = 0;
			break;
		case WL_HTTP_EV_TUNNEL:
			break;
		}
	}
}

static int
responses(struct http_state *s, struct wl_proto_ctx *ctx, const uint8_t *d,
	uint32_t len, uint64_t ts)
{
	struct wl_http_parser *p = &s->rsp;
	struct http_req *r;
	enum wl_http_ev ev;
	uint32_t k;

	if (len > 0)
		s->rsp_last_ns = ts;
	for (;;) {
		k = wl_http_feed(p, d, len, &ev);
		d += k;
		len -= k;
		switch (ev) {
		case WL_HTTP_EV_NONE:
			return WL_PROTO_CONTINUE;
		case WL_HTTP_EV_BEGIN:
			/* Framing of a response depends on its request. */
			r = s->q.n > 0 ? pend_at(s, 0) : NULL;
			if (r != NULL && r->seq != s->rsp_seq)
				r = NULL;
			p->no_body = r != NULL && r->head;
			p->connect = r != NULL && r->connect;
			if (s->interim == 0)
				s->rsp_owned = s->rsp_seq != s->req_seq;
			/* Interim or final: the final one's is kept. */
			s->rsp_start_ns = ts;
			break;
		case WL_HTTP_EV_HEADERS:
			break;
		case WL_HTTP_EV_END:
			if (p->msg.status < 200 && p->msg.status != 101) {
				/* Interim: the final answer is still due,
				 * and its first byte starts the response. */
				s->interim = p->msg.status;
				ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
				break;
			}
			response_done(s, ctx, ts);
			break;
		case WL_HTTP_EV_ERROR:
			ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
			break;
		case WL_HTTP_EV_ABORT:
			break;
		case WL_HTTP_EV_TUNNEL:
			/* 101 Switching Protocols, CONNECT 2xx: not HTTP now. */
			return WL_PROTO_DONE;
		}
	}
}

static int
http_data(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	struct http_state *s = state;

	if (dir == WL_DIR_C2S)
		return requests(s, ctx, d, len, ts);
	return responses(s, ctx, d, len, ts);
}

static int
http_gap(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir, uint32_t len,
	uint64_t ts)
{
	struct http_state *s = state;
	struct http_req *r;

	(void)len;
	(void)ts;
	ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
	s->suspect = 1;
	if (dir == WL_DIR_C2S) {
		/* The request in progress stays: the server may answer it. */
		r = s->req_stored ? pend_seq(s, s->cur_req) : NULL;
		if (r != NULL && !wl_http_idle(&s->req))
			r->gap = 1;
		s->req_stored = 0;
		wl_http_resync(&s->req);
		return WL_PROTO_CONTINUE;
	}
	/* The response in progress is lost with its end. */
	if (!wl_http_idle(&s->rsp) && s->rsp_owned) {
		r = s->q.n > 0 ? pend_at(s, 0) : NULL;
		if (r != NULL && r->seq == s->rsp_seq) {
			r->gap = 1;
			emit(s, ctx, r, NULL, 0, 0);
			pend_pop(s);
		}
		s->rsp_seq++;
	}
	s->interim = 0;
	wl_http_resync(&s->rsp);
	return WL_PROTO_CONTINUE;
}

static void
http_close(void *state, struct wl_proto_ctx *ctx, uint32_t flags, uint64_t ts)
{
	struct http_state *s = state;

	(void)ts;
	/* A response delimited by the connection's end ends here. */
	if (wl_http_eof(&s->rsp))
		response_done(s, ctx, s->rsp_last_ns);
	while (s->q.n > 0) {
		emit(s, ctx, pend_at(s, 0), NULL, 0, flags);
		pend_pop(s);
	}
}

static void
http_txn_json(const struct wl_txn *t, json_t *o)
{
	const struct wl_http_txn *x = (const void *)t->proto_area;

	json_object_set_new(o, "query", wl_proto_json_str(x->query));
	json_object_set_new(o, "host", wl_proto_json_str(x->host));
	json_object_set_new(o, "req_header_bytes",
		json_integer((json_int_t)x->req_hdr_bytes));
	json_object_set_new(o, "req_body_bytes",
		json_integer((json_int_t)x->req_body_bytes));
	json_object_set_new(o, "rsp_header_bytes",
		json_integer((json_int_t)x->rsp_hdr_bytes));
	json_object_set_new(o, "rsp_body_bytes",
		json_integer((json_int_t)x->rsp_body_bytes));
	if (x->interim_status != 0)
		json_object_set_new(o, "interim_status",
			json_integer(x->interim_status));
	if (t->rsp_end_ns != 0)
		json_object_set_new(o, "http_version",
			json_string(x->minor == 0 ? "1.0" : "1.1"));
}

const struct wl_proto_ops wl_proto_http_ops = {
	.name = "http",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 80, 8080, 8000, 8008, 8888 },
	.state_size = sizeof(struct http_state),
	.probe = http_probe,
	.init = http_init,
	.data = http_data,
	.gap = http_gap,
	.close = http_close,
	.txn_json = http_txn_json,
};
