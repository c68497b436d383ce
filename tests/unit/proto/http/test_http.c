/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * HTTP/1.x through the protocol ops, as the flow layer drives them. Each
 * conversation is a list of (direction, timestamp, bytes) segments with
 * the transactions it must give; it is run whole, with every segment
 * split at every byte offset, and one byte at a time, and every run must
 * give exactly the same transactions.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/wl_http.h"
#include "wl_proto.h"

#define C WL_DIR_C2S
#define S WL_DIR_S2C
#define MAXT 16

struct seg {
	int dir;                /* C, S; -1 = gap of len bytes */
	uint64_t ts;
	const char *data;
	uint32_t gap;
};

struct want {
	const char *method;
	const char *resource;
	uint16_t status;        /* 0: no response */
	uint64_t req_start, req_end, rsp_start, rsp_end;
	uint32_t flags;         /* all of these must be set */
	const char *query;
};

struct conv {
	const char *name;
	struct seg seg[12];
	struct want want[6];
	uint32_t close_flags;
	uint64_t parse_errors;
};

static struct wl_txn got[MAXT];
static unsigned int ngot;
static uint64_t ctr[WL_PROTO_CTR_MAX];
static uint8_t state[4096] __attribute__((aligned(16)));

static void
sink_emit(void *arg, const struct wl_txn *t)
{
	(void)arg;
	assert_true(ngot < MAXT);
	got[ngot++] = *t;
}

static const struct wl_txn_sink sink = { sink_emit, NULL };

static const struct wl_proto_ops *
ops(void)
{
	return wl_protos[WL_PROTO_HTTP];
}

static void
ctx_make(struct wl_proto_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->proto = WL_PROTO_HTTP;
	ctx->ctr = ctr;
	ctx->sink = &sink;
}

/* mode 0: whole; 1: segment `which` split at `at`; 2: byte by byte. */
static int
run(const struct conv *cv, int mode, unsigned int which, uint32_t at)
{
	struct wl_proto_ctx ctx;
	unsigned int i;
	int done = 0;

	ngot = 0;
	memset(ctr, 0, sizeof(ctr));
	memset(state, 0, sizeof(state));
	assert_true(ops()->state_size <= sizeof(state));
	ctx_make(&ctx);
	ops()->init(state, &ctx);
	for (i = 0; cv->seg[i].data != NULL || cv->seg[i].gap != 0; i++) {
		const struct seg *sg = &cv->seg[i];
		const uint8_t *d = (const uint8_t *)sg->data;
		uint32_t n = sg->data ? (uint32_t)strlen(sg->data) : 0, k;

		if (done)
			break;
		if (sg->dir < 0) {
			ops()->gap(state, &ctx, sg->ts == 0 ? C : S, sg->gap, 0);
			continue;
		}
		if (mode == 0 || (mode == 1 && (i != which || at == 0 ||
				at >= n))) {
			done = ops()->data(state, &ctx, sg->dir, d, n, sg->ts);
		} else if (mode == 1) {
			done = ops()->data(state, &ctx, sg->dir, d, at, sg->ts);
			if (!done)
				done = ops()->data(state, &ctx, sg->dir, d + at,
					n - at, sg->ts);
		} else {
			for (k = 0; k < n && !done; k++)
				done = ops()->data(state, &ctx, sg->dir, d + k,
					1, sg->ts);
		}
	}
	ops()->close(state, &ctx, cv->close_flags, 999);
	return done;
}

static void
check_want(const struct conv *cv)
{
	const struct wl_http_txn *x;
	unsigned int i, n;

	for (n = 0; cv->want[n].method != NULL; n++)
		;
	if (ngot != n)
		fail_msg("%s: %u transactions, want %u", cv->name, ngot, n);
	for (i = 0; i < n; i++) {
		const struct want *w = &cv->want[i];
		const struct wl_txn *t = &got[i];

		x = (const void *)t->proto_area;
		assert_string_equal(t->method, w->method);
		assert_string_equal(t->resource, w->resource);
		if (w->query != NULL)
			assert_string_equal(x->query, w->query);
		assert_int_equal(t->status_code, w->status);
		if (t->req_start_ns != w->req_start || t->req_end_ns != w->req_end ||
				t->rsp_start_ns != w->rsp_start ||
				t->rsp_end_ns != w->rsp_end)
			fail_msg("%s txn %u: times %llu %llu %llu %llu, want "
				"%llu %llu %llu %llu", cv->name, i,
				(unsigned long long)t->req_start_ns,
				(unsigned long long)t->req_end_ns,
				(unsigned long long)t->rsp_start_ns,
				(unsigned long long)t->rsp_end_ns,
				(unsigned long long)w->req_start,
				(unsigned long long)w->req_end,
				(unsigned long long)w->rsp_start,
				(unsigned long long)w->rsp_end);
		if ((t->flags & w->flags) != w->flags)
			fail_msg("%s txn %u: flags %#x lack %#x", cv->name, i,
				t->flags, w->flags);
	}
	assert_int_equal(ctr[WL_PROTO_CTR_PARSE_ERRORS], cv->parse_errors);
}

static const struct conv convs[] = {
	{ "get", {
		{ C, 10, "GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: x.test\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" },
		{ 0 } }, {
		{ "GET", "/index.html", 200, 10, 10, 20, 20, 0, "a=1&b=2" },
		{ 0 } } },
	{ "pipelined-one-packet", {
		{ C, 10, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nAA" },
		{ S, 30, "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nBBBHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/a", 200, 10, 10, 20, 20, 0, NULL },
		{ "GET", "/b", 404, 10, 10, 30, 30, 0, NULL },
		{ "HEAD", "/c", 200, 10, 10, 30, 30, 0, NULL },
		{ 0 } } },
	{ "multi-segment-response", {
		{ C, 10, "GET /big HTTP/1.1\r\n" },
		{ C, 11, "Host: h\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n" },
		{ S, 21, "0123" },
		{ S, 22, "4567" },
		{ S, 23, "89ab" },
		{ 0 } }, {
		{ "GET", "/big", 200, 10, 11, 20, 23, 0, NULL },
		{ 0 } } },
	{ "chunked-trailers", {
		{ C, 10, "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n" },
		{ C, 11, "0\r\nX-Sum: 1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nxyz\r\n" },
		{ S, 21, "A\r\n0123456789\r\n0\r\n\r\n" },
		{ 0 } }, {
		{ "POST", "/up", 201, 10, 11, 20, 21, 0, NULL },
		{ 0 } } },
	{ "no-body-statuses", {
		{ C, 10, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n" },
		{ S, 30, "HTTP/1.1 304 Not Modified\r\n\r\n" },
		{ S, 40, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/a", 204, 10, 10, 20, 20, 0, NULL },
		{ "GET", "/b", 304, 10, 10, 30, 30, 0, NULL },
		{ "GET", "/c", 503, 10, 10, 40, 40, 0, NULL },
		{ 0 } } },
	{ "100-continue", {
		{ C, 10, "PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n" },
		{ S, 20, "HTTP/1.1 100 Continue\r\n\r\n" },
		{ C, 30, "data" },
		{ S, 40, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" },
		{ S, 50, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ 0 } }, {
		{ "PUT", "/f", 200, 10, 30, 50, 50, WL_TXN_F_INTERIM, NULL },
		{ 0 } } },
	{ "read-until-close", {
		{ C, 10, "GET /old HTTP/1.0\r\n\r\n" },
		{ S, 20, "HTTP/1.0 200 OK\r\n\r\nsome" },
		{ S, 21, " body" },
		{ 0 } }, {
		{ "GET", "/old", 200, 10, 10, 20, 21, 0, NULL },
		{ 0 } } },
	{ "upgrade", {
		{ C, 10, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" },
		{ S, 20, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello" },
		{ C, 30, "GET /not-http HTTP/1.1\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/ws", 101, 10, 10, 20, 20, 0, NULL },
		{ 0 } } },
	{ "garbage-then-request", {
		{ C, 10, "\x16\x03\x01 junk junk\r\nGET /ok HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/ok", 200, 10, 10, 20, 20, 0, NULL },
		{ 0 } }, 0, 1 },
	{ "unanswered-at-close", {
		{ C, 10, "GET /a HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ C, 30, "GET /b HTTP/1.1\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/a", 200, 10, 10, 20, 20, 0, NULL },
		{ "GET", "/b", 0, 30, 30, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_END_OF_CAPTURE, NULL },
		{ 0 } }, WL_TXN_F_END_OF_CAPTURE },
	{ "conflicting-lengths", {
		{ C, 10, "POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nab\r\n" },
		{ C, 20, "GET /y HTTP/1.1\r\n\r\n" },
		{ S, 30, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/y", 200, 20, 20, 30, 30, 0, NULL },
		{ 0 } }, 0, 2 },     /* the header, then the body line */
	{ "response-before-any-request", {
		{ S, 5, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nxy" },
		{ C, 10, "GET /a HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/a", 200, 10, 10, 20, 20, 0, NULL },
		{ 0 } } },
	{ "gap-in-response", {
		{ C, 10, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123" },
		{ -1, 1, NULL, 96 },
		{ S, 30, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nZ" },
		{ 0 } }, {
		{ "GET", "/a", 0, 10, 10, 0, 0,
			WL_TXN_F_GAP | WL_TXN_F_NO_RESPONSE, NULL },
		{ "GET", "/b", 200, 10, 10, 30, 30, WL_TXN_F_GAP, NULL },
		{ 0 } } },
};

static void
test_conversations(void **state_)
{
	static struct wl_txn ref[MAXT];
	unsigned int c, i, nref;
	uint32_t at, n;

	(void)state_;
	for (c = 0; c < sizeof(convs) / sizeof(convs[0]); c++) {
		const struct conv *cv = &convs[c];

		run(cv, 0, 0, 0);
		check_want(cv);
		memcpy(ref, got, sizeof(ref));
		nref = ngot;
		/* Same transactions whatever the packetization. */
		for (i = 0; cv->seg[i].data != NULL || cv->seg[i].gap; i++) {
			n = cv->seg[i].data ? (uint32_t)strlen(cv->seg[i].data) : 0;
			for (at = 1; at < n; at++) {
				run(cv, 1, i, at);
				if (ngot != nref || memcmp(got, ref,
						nref * sizeof(ref[0])) != 0)
					fail_msg("%s: split of segment %u at %u "
						"differs", cv->name, i, at);
			}
		}
		run(cv, 2, 0, 0);
		if (ngot != nref || memcmp(got, ref, nref * sizeof(ref[0])) != 0)
			fail_msg("%s: byte by byte differs", cv->name);
	}
}

static void
test_probe(void **state_)
{
	const struct wl_proto_ops *o = ops();

	(void)state_;
	assert_int_equal(o->probe((const uint8_t *)"GET / HTTP/1.1", 14, C),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"GE", 2, C), WL_PROBE_MAYBE);
	assert_int_equal(o->probe((const uint8_t *)"OPTIONS ", 8, C),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"GETX / ", 7, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"*2\r\n$3\r\nGET", 11, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"HTTP/1.1 200", 12, S),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"HTTP/", 5, S),
		WL_PROBE_MAYBE);
	assert_int_equal(o->probe((const uint8_t *)"HTTP/2 200", 10, S),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"+OK\r\n", 5, S),
		WL_PROBE_NO);
}

/* Pipelining deeper than the pending ring: counted, pairing kept. */
static void
test_deep_pipeline(void **state_)
{
	struct wl_proto_ctx ctx;
	static const char req[] = "GET /p HTTP/1.1\r\n\r\n";
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	unsigned int i;

	(void)state_;
	ngot = 0;
	memset(ctr, 0, sizeof(ctr));
	memset(state, 0, sizeof(state));
	ctx_make(&ctx);
	ops()->init(state, &ctx);
	for (i = 0; i < 12; i++)
		ops()->data(state, &ctx, C, (const uint8_t *)req,
			sizeof(req) - 1, 100 + i);
	for (i = 0; i < 12; i++)
		ops()->data(state, &ctx, S, (const uint8_t *)rsp,
			sizeof(rsp) - 1, 200 + i);
	ops()->close(state, &ctx, 0, 999);
	/* Eight were kept and paired in order; four overflowed. */
	assert_int_equal(ngot, 8);
	for (i = 0; i < 8; i++) {
		assert_int_equal(got[i].req_start_ns, 100 + i);
		assert_int_equal(got[i].rsp_end_ns, 200 + i);
	}
	assert_int_equal(ctr[WL_PROTO_CTR_PENDING_OVERFLOW], 4);
	assert_int_equal(ctr[WL_PROTO_CTR_UNMATCHED_RSP], 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_conversations),
		cmocka_unit_test(test_deep_pipeline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
