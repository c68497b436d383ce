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
#include "wl_match.h"
#include "wl_proto.h"

/* struct wl_mrec aux of a request: how its answer is framed. */
#define AUX_HEAD 0x1            /* HEAD: the response has no body */
#define AUX_CONNECT 0x2         /* CONNECT: 2xx opens a tunnel */

/* The fields every packet reads sit together before the matcher's head
 * (ops hot[2]), each direction's parser apart (hot[dir]). */
struct http_state {
	struct wl_http_parser req;
	struct wl_http_parser rsp;
	struct wl_stream_pos req_pos;   /* the request being parsed began */
	struct wl_stream_pos rsp_pos;   /* the final response being parsed */
	uint64_t req_begin_ns;
	uint64_t rsp_start_ns;          /* the final response's first byte */
	uint64_t rsp_last_ns;           /* latest response byte (read to close) */
	uint8_t rsp_tail_lost;          /* ... and bytes after it were lost */
	uint16_t interim;               /* 1xx seen for the response due */
	uint8_t req_gap;                /* bytes of the open request lost */
	uint8_t rsp_gap;                /* ... of the response */
	struct wl_match m;
};

static enum wl_probe
http_probe(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	return wl_probe_of(wl_http_start_check(d, len, dir == WL_DIR_S2C));
}

static void
http_init(void *state, struct wl_proto_ctx *ctx)
{
	struct http_state *s = state;

	wl_http_parser_init(&s->req, 0);
	wl_http_parser_init(&s->rsp, 1);
	/* Lost server bytes hold an answer, unless the flow showed 1xx
	 * responses or asked for one (Expect): then they may hold only a
	 * 1xx (responses()). */
	wl_match_init(&s->m, ctx, 0);
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

/* The final response's fields into a transaction of its own. */
static void
response_txn(struct http_state *s, struct wl_proto_ctx *ctx,
	const struct wl_http_msg *m, struct wl_txn *t)
{
	struct wl_http_txn *x;
	char d[4];

	wl_proto_txn_init(ctx, t);
	x = wl_txn_area(t);
	t->rsp_bytes = m->hdr_bytes + m->body_bytes;
	x->rsp_hdr_bytes = m->hdr_bytes;
	x->rsp_body_bytes = m->body_bytes;
	x->minor = m->minor;
	if (m->status != 0) {
		/* Three digits: the parser read them. */
		d[0] = (char)('0' + m->status / 100 % 10);
		d[1] = (char)('0' + m->status / 10 % 10);
		d[2] = (char)('0' + m->status % 10);
		d[3] = '\0';
		t->status_code = m->status;
		wl_txn_set_status(t, d);
		t->status_class = status_class(m->status);
	} else {
		/* Its start line was lost: an answer, status unknown. */
		t->status_class = WL_SC_ERROR;
	}
	if (s->interim != 0) {
		x->interim_status = s->interim;
		t->flags |= WL_TXN_F_INTERIM;
	}
	if (m->truncated)
		t->flags |= WL_TXN_F_TRUNCATED;
	if (s->rsp_gap)
		t->flags |= WL_TXN_F_GAP;
}

/* The final response ended at ts (or its end is lost or cut: how). */
static void
response_done(struct http_state *s, struct wl_proto_ctx *ctx, uint64_t ts,
	enum wl_rsp_end how, uint32_t flags)
{
	struct wl_txn t;

	response_txn(s, ctx, &s->rsp.msg, &t);
	t.flags |= flags;
	wl_match_rsp(&s->m, ctx, &s->rsp_pos, s->rsp_start_ns, &t, ts, how);
	s->interim = 0;
	s->rsp_gap = 0;
}

/* The request in progress: its end so far, or its end. */
static void
request_progress(struct http_state *s, struct wl_proto_ctx *ctx,
	uint64_t ts, int done)
{
	struct wl_mrec *r = wl_match_req_open(&s->m, ctx);
	const struct wl_http_msg *m = &s->req.msg;
	struct wl_http_txn *x;

	if (r == NULL)
		return;
	x = wl_txn_area(&r->t);
	x->req_hdr_bytes = m->hdr_bytes;
	x->req_body_bytes = m->body_bytes;
	if (m->truncated)
		r->t.flags |= WL_TXN_F_TRUNCATED;
	if (s->req_gap)
		r->t.flags |= WL_TXN_F_GAP;
	wl_match_req_end(&s->m, ctx, r, ts, m->hdr_bytes + m->body_bytes,
		done);
}

static int
requests(struct http_state *s, struct wl_proto_ctx *ctx, const uint8_t *d,
	uint32_t len, uint64_t ts)
{
	struct wl_http_parser *p = &s->req;
	const struct wl_http_msg *m = &p->msg;
	enum wl_http_ev ev;
	struct wl_mrec *r;
	uint32_t k, at = 0;

	for (;;) {
		k = wl_http_feed(p, d, len, &ev);
		d += k;
		len -= k;
		at += k;
		switch (ev) {
		case WL_HTTP_EV_NONE:
			/* Body bytes of a request that may be answered
			 * already: its end moves on. */
			if (k > 0)
				request_progress(s, ctx, ts, 0);
			return WL_PROTO_CONTINUE;
		case WL_HTTP_EV_BEGIN:
			/* Only a request once its headers parse: until
			 * then it may be garbage. */
			s->req_begin_ns = ts;
			s->req_pos = wl_match_pos(&ctx->pos, at - 1);
			s->req_gap = 0;
			break;
		case WL_HTTP_EV_HEADERS:
			if (m->expect_continue)
				s->m.unsolicited = 1;
			r = wl_match_req_add(&s->m, ctx, &s->req_pos,
				s->req_begin_ns);
			if (r == NULL)
				break;
			wl_txn_set_method(&r->t, m->method);
			wl_txn_set_resource(&r->t, m->target);
			wl_txn_str_set(&r->t, WL_HTTP_S_QUERY, m->query,
				WL_HTTP_QUERY);
			wl_txn_str_set(&r->t, WL_HTTP_S_HOST, m->host,
				WL_HTTP_HOST);
			r->aux = (strcmp(m->method, "HEAD") == 0 ? AUX_HEAD : 0) |
				(strcmp(m->method, "CONNECT") == 0 ?
				AUX_CONNECT : 0);
			request_progress(s, ctx, ts, 0);
			break;
		case WL_HTTP_EV_END:
			ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
			request_progress(s, ctx, ts, 1);
			break;
		case WL_HTTP_EV_ERROR:
		case WL_HTTP_EV_ABORT:
			if (ev == WL_HTTP_EV_ERROR)
				ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
			/* A request broken in its body still waits for its
			 * answer (likely a 400); it just ended here. */
			request_progress(s, ctx, ts, 1);
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
	const struct wl_mrec *r;
	enum wl_http_ev ev;
	uint32_t k, at = 0;

	if (len > 0) {
		s->rsp_last_ns = ts;
		s->rsp_tail_lost = 0;
	}
	for (;;) {
		k = wl_http_feed(p, d, len, &ev);
		d += k;
		len -= k;
		at += k;
		switch (ev) {
		case WL_HTTP_EV_NONE:
			return WL_PROTO_CONTINUE;
		case WL_HTTP_EV_BEGIN:
			/* Interim or final: the final one's is kept. */
			s->rsp_start_ns = ts;
			s->rsp_pos = wl_match_pos(&ctx->pos, at - 1);
			/* Framing of a response depends on its request. */
			r = wl_match_rsp_peek(&s->m, ctx, &s->rsp_pos);
			p->no_body = r != NULL && (r->aux & AUX_HEAD);
			p->connect = r != NULL && (r->aux & AUX_CONNECT);
			break;
		case WL_HTTP_EV_HEADERS:
			break;
		case WL_HTTP_EV_END:
			if (p->msg.status < 200 && p->msg.status != 101) {
				/* Interim: the final answer is still due,
				 * and its first byte starts the response. */
				s->interim = p->msg.status;
				s->m.unsolicited = 1;
				ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
				break;
			}
			response_done(s, ctx, ts, WL_RSP_COMPLETE, 0);
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

	wl_http_segment(dir == WL_DIR_C2S ? &s->req : &s->rsp);
	if (dir == WL_DIR_C2S)
		return requests(s, ctx, d, len, ts);
	return responses(s, ctx, d, len, ts);
}

/*
 * Lost bytes inside a body of known length are skipped: the message is
 * whole but for them (flag gap). Otherwise the message in progress is
 * lost from here: a response whose start was seen is reported with its
 * status when its headers were read (no end time); a request whose
 * headers were read was recorded and waits for its answer; one whose
 * headers were not is lost like any request in the gap. The matcher
 * learns whether message boundaries were lost.
 */
static int
http_gap(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir, uint32_t len,
	uint64_t ts)
{
	struct http_state *s = state;
	struct wl_http_parser *p = dir == WL_DIR_C2S ? &s->req : &s->rsp;
	enum wl_gap_kind kind = WL_GAP_AT_START;

	(void)ts;
	if (wl_http_skip(p, len)) {
		if (dir == WL_DIR_C2S) {
			s->req_gap = 1;
		} else {
			/* Read to close: if nothing follows, when the last
			 * byte came is lost with it. */
			s->rsp_gap = 1;
			s->rsp_tail_lost = 1;
		}
		return WL_PROTO_CONTINUE;
	}
	ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
	if (dir == WL_DIR_C2S) {
		struct wl_mrec *r = wl_match_req_open(&s->m, ctx);

		if (wl_http_in_msg(p) && !wl_http_in_headers(p) && r != NULL) {
			/* Its end is lost: it ends at its last byte seen. */
			s->req_gap = 1;
			request_progress(s, ctx, r->t.req_end_ns, 1);
			kind = WL_GAP_IN_MSG;
		}
	} else if (wl_http_in_msg(p)) {
		s->rsp_gap = 1;
		response_done(s, ctx, 0, WL_RSP_END_LOST, 0);
		kind = WL_GAP_IN_MSG;
	}
	s->req_gap = dir == WL_DIR_C2S ? 0 : s->req_gap;
	wl_http_resync(p);
	wl_match_gap(&s->m, ctx, dir, len, kind);
	return WL_PROTO_CONTINUE;
}

static void
http_close(void *state, struct wl_proto_ctx *ctx, uint32_t flags, uint64_t ts)
{
	struct http_state *s = state;

	/* A response delimited by the connection's end ends here; one the
	 * end cut short keeps its start. */
	if (wl_http_eof(&s->rsp))
		response_done(s, ctx, s->rsp_last_ns, s->rsp_tail_lost ?
			WL_RSP_END_LOST : WL_RSP_COMPLETE, 0);
	else if (wl_http_in_msg(&s->rsp))
		response_done(s, ctx, 0, WL_RSP_CUT, flags);
	wl_match_close(&s->m, ctx, flags, ts);
}

/* The response part of an HTTP transaction's fields. */
static void
http_txn_merge(struct wl_txn *req, const struct wl_txn *rsp)
{
	struct wl_http_txn *q = wl_txn_area(req);
	const struct wl_http_txn *a = wl_txn_area_c(rsp);

	q->rsp_hdr_bytes = a->rsp_hdr_bytes;
	q->rsp_body_bytes = a->rsp_body_bytes;
	q->interim_status = a->interim_status;
	q->minor = a->minor;
}

static void
http_txn_write(const struct wl_txn *t, struct wl_jw *w)
{
	const struct wl_http_txn *x = wl_txn_area_c(t);

	wl_jw_str_wire(w, "query", wl_txn_str(t, WL_HTTP_S_QUERY));
	wl_jw_str_wire(w, "host", wl_txn_str(t, WL_HTTP_S_HOST));
	wl_jw_i64(w, "req_header_bytes", (int64_t)x->req_hdr_bytes);
	wl_jw_i64(w, "req_body_bytes", (int64_t)x->req_body_bytes);
	wl_jw_i64(w, "rsp_header_bytes", (int64_t)x->rsp_hdr_bytes);
	wl_jw_i64(w, "rsp_body_bytes", (int64_t)x->rsp_body_bytes);
	if (x->interim_status != 0)
		wl_jw_i64(w, "interim_status", x->interim_status);
	if (t->rsp_start_ns != 0)
		wl_jw_str(w, "http_version", x->minor == 0 ? "1.0" : "1.1");
}

/*
 * Detection signatures (wl_probe.h): a method of wl_http_kw.h and a
 * space; a status line's "HTTP/1.x ".
 */
static const struct wl_probe_sig http_sigs[] = {
	{ "^(?:GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE|"
		"PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK|REPORT|"
		"SEARCH|PURGE|QUERY) ", WL_SIG_C2S, 0 },
	{ "^HTTP/1\\.[0-9] ", WL_SIG_S2C, 0 },
	{ NULL, 0, 0 },
};

const struct wl_proto_ops wl_proto_http_ops = {
	.name = "http",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 80, 8080, 8000, 8008, 8888 },
	.state_size = sizeof(struct http_state),
	.txn_area = sizeof(struct wl_http_txn),
	WL_MATCH_OPS_HOT(struct http_state,
		WL_PROTO_HOT(struct http_state, req),
		WL_PROTO_HOT(struct http_state, rsp),
		req_pos, m),
	.probe = http_probe,
	.probe_sigs = http_sigs,
	.init = http_init,
	.data = http_data,
	.gap = http_gap,
	.close = http_close,
	.txn_write = http_txn_write,
	.txn_merge = http_txn_merge,
};
