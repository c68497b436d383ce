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
#include "http/wl_http_parse.h"
#include "http/wl_http_kw.h"
#include "wl_proto.h"
#include "../wl_test_conv.h"
#include "../wl_test_kw.h"

static const struct conv convs[] = {
	{ "get", {
		{ C, 10, "GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: x.test\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" },
		{ 0 } }, {
		{ "GET", "/index.html", "200", 10, 10, 20, 20, 0, "a=1&b=2" },
		{ 0 } } },
	{ "pipelined-one-packet", {
		{ C, 10, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nAA" },
		{ S, 30, "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nBBBHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/a", "200", 10, 10, 20, 20, 0, NULL },
		{ "GET", "/b", "404", 10, 10, 30, 30, 0, NULL },
		{ "HEAD", "/c", "200", 10, 10, 30, 30, 0, NULL },
		{ 0 } } },
	{ "multi-segment-response", {
		{ C, 10, "GET /big HTTP/1.1\r\n" },
		{ C, 11, "Host: h\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n" },
		{ S, 21, "0123" },
		{ S, 22, "4567" },
		{ S, 23, "89ab" },
		{ 0 } }, {
		{ "GET", "/big", "200", 10, 11, 20, 23, 0, NULL },
		{ 0 } } },
	{ "chunked-trailers", {
		{ C, 10, "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n" },
		{ C, 11, "0\r\nX-Sum: 1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nxyz\r\n" },
		{ S, 21, "A\r\n0123456789\r\n0\r\n\r\n" },
		{ 0 } }, {
		{ "POST", "/up", "201", 10, 11, 20, 21, 0, NULL },
		{ 0 } } },
	{ "no-body-statuses", {
		{ C, 10, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n" },
		{ S, 30, "HTTP/1.1 304 Not Modified\r\n\r\n" },
		{ S, 40, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/a", "204", 10, 10, 20, 20, 0, NULL },
		{ "GET", "/b", "304", 10, 10, 30, 30, 0, NULL },
		{ "GET", "/c", "503", 10, 10, 40, 40, 0, NULL },
		{ 0 } } },
	{ "100-continue", {
		{ C, 10, "PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n" },
		{ S, 20, "HTTP/1.1 100 Continue\r\n\r\n" },
		{ C, 30, "data" },
		{ S, 40, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" },
		{ S, 50, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ 0 } }, {
		{ "PUT", "/f", "200", 10, 30, 50, 50, WL_TXN_F_INTERIM, NULL },
		{ 0 } }, 0, 0, 2 },  /* the two interim responses */
	{ "read-until-close", {
		{ C, 10, "GET /old HTTP/1.0\r\n\r\n" },
		{ S, 20, "HTTP/1.0 200 OK\r\n\r\nsome" },
		{ S, 21, " body" },
		{ 0 } }, {
		{ "GET", "/old", "200", 10, 10, 20, 21, 0, NULL },
		{ 0 } } },
	{ "upgrade", {
		{ C, 10, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" },
		{ S, 20, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello" },
		{ C, 30, "GET /not-http HTTP/1.1\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/ws", "101", 10, 10, 20, 20, 0, NULL },
		{ 0 } } },
	{ "connect-tunnel", {
		{ C, 10, "CONNECT db.test:5432 HTTP/1.1\r\nHost: db.test:5432\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 Connection established\r\n\r\n" },
		{ C, 30, "\x16\x03\x01\x00\x05hello" },
		{ S, 40, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ 0 } }, {
		{ "CONNECT", "db.test:5432", "200", 10, 10, 20, 20, 0, NULL },
		{ 0 } } },
	{ "head-then-get", {
		{ C, 10, "HEAD /f HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" },
		{ S, 30, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" },
		{ 0 } }, {
		{ "HEAD", "/f", "200", 10, 10, 20, 20, 0, NULL },
		{ "GET", "/g", "200", 10, 10, 30, 30, 0, NULL },
		{ 0 } } },
	{ "garbage-then-request", {
		{ C, 10, "\x16\x03\x01 junk junk\r\nGET /ok HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/ok", "200", 10, 10, 20, 20, 0, NULL },
		{ 0 } }, 0, 1 },
	{ "unanswered-at-close", {
		{ C, 10, "GET /a HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ C, 30, "GET /b HTTP/1.1\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/a", "200", 10, 10, 20, 20, 0, NULL },
		{ "GET", "/b", "no_response", 30, 30, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_END_OF_CAPTURE, NULL },
		{ 0 } }, WL_TXN_F_END_OF_CAPTURE },
	{ "conflicting-lengths", {
		{ C, 10, "POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nab\r\n" },
		{ C, 20, "GET /y HTTP/1.1\r\n\r\n" },
		{ S, 30, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ 0 } }, {
		{ "GET", "/y", "200", 20, 20, 30, 30, 0, NULL },
		{ 0 } }, 0, 2 },     /* the header, then the body line */
	{ "response-before-any-request", {
		{ S, 5, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nxy" },
		{ C, 10, "GET /a HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ 0 } }, {
		{ "", "", "200", 0, 0, 5, 5, WL_TXN_F_NO_REQUEST, NULL },
		{ "GET", "/a", "200", 10, 10, 20, 20, 0, NULL },
		{ 0 } } },
	/* The end of the first body lost: /a keeps its status and first
	 * byte; the next answer can only be /b's (nothing else waits). */
	{ "gap-in-response", {
		{ C, 10, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123" },
		{ -1, 1, NULL, 96 },
		{ S, 30, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nZ" },
		{ 0 } }, {
		{ "GET", "/a", "200", 10, 10, 20, 0, WL_TXN_F_GAP, NULL },
		{ "GET", "/b", "200", 10, 10, 30, 30, 0, NULL },
		{ 0 } } },
	/*
	 * /b's head lost: its body's tail has no line end, so /c's answer
	 * does not start a line; it starts a segment, where the parser
	 * tries too. The clean close then counts the lost answer out.
	 */
	{ "gap-next-at-segment-start", {
		{ C, 10, "GET /a HTTP/1.1\r\n\r\n" },
		{ S, 20, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" },
		{ C, 30, "GET /b HTTP/1.1\r\n\r\n" },
		{ -1, 1, NULL, 40 },
		{ S, 40, "0123456789" },
		{ C, 50, "GET /c HTTP/1.1\r\n\r\n" },
		{ S, 60, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nZ" },
		{ 0 } }, {
		{ "GET", "/a", "200", 10, 10, 20, 20, 0, NULL },
		{ "GET", "/b", "no_response", 30, 30, 0, 0,
			WL_TXN_F_GAP | WL_TXN_F_NO_RESPONSE, NULL },
		{ "GET", "/c", "200", 50, 50, 60, 60, 0, NULL },
		{ 0 } }, WL_TXN_F_CLOSED, 0, 0, 1 },
	/* Lost bytes in the middle of a body: skipped, both ends known. */
	{ "gap-inside-body", {
		{ C, 10, "POST /u HTTP/1.1\r\nContent-Length: 20\r\n\r\n0123" },
		{ -1, 0, NULL, 10 },
		{ C, 12, "456789" },
		{ S, 20, "HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\n01234" },
		{ -1, 1, NULL, 3 },
		{ S, 22, "89" },
		{ 0 } }, {
		{ "POST", "/u", "201", 10, 12, 20, 22, WL_TXN_F_GAP, NULL },
		{ 0 } } },
	/* Read to close: lost bytes with data after them leave the end
	 * known (the close ends it); lost last bytes take it with them. */
	{ "gap-inside-read-until-close", {
		{ C, 10, "GET /old HTTP/1.0\r\n\r\n" },
		{ S, 20, "HTTP/1.0 200 OK\r\n\r\nsome" },
		{ -1, 1, NULL, 5 },
		{ S, 22, "more" },
		{ 0 } }, {
		{ "GET", "/old", "200", 10, 10, 20, 22, WL_TXN_F_GAP, NULL },
		{ 0 } } },
	{ "gap-ends-read-until-close", {
		{ C, 10, "GET /old HTTP/1.0\r\n\r\n" },
		{ S, 20, "HTTP/1.0 200 OK\r\n\r\nsome" },
		{ -1, 1, NULL, 5 },
		{ 0 } }, {
		{ "GET", "/old", "200", 10, 10, 20, 0, WL_TXN_F_GAP, NULL },
		{ 0 } } },
	/* An answer that comes while the request body still arrives (a
	 * server refusing an upload early): each keeps its own end. */
	{ "early-answer", {
		{ C, 10, "POST /big HTTP/1.1\r\nContent-Length: 8\r\n\r\n01" },
		{ S, 20, "HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n" },
		{ C, 30, "2345" },
		{ C, 40, "67" },
		{ 0 } }, {
		{ "POST", "/big", "413", 10, 40, 20, 20, 0, "" },
		{ 0 } } },
};

/* HTTP's own fields of the whole run: the query kept apart. */
static void
http_extra(const struct conv *cv)
{
	unsigned int i;

	for (i = 0; i < ngot; i++) {
		if (cv->want[i].extra != NULL)
			assert_string_equal(wl_txn_str(&got[i], WL_HTTP_S_QUERY),
				cv->want[i].extra);
	}
}

static void
test_conversations(void **state_)
{
	(void)state_;
	conv_proto = WL_PROTO_HTTP;
	conv_all(convs, sizeof(convs) / sizeof(convs[0]), http_extra);
}

static void
test_probe(void **state_)
{
	const struct wl_proto_ops *o = wl_protos[WL_PROTO_HTTP];

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
	/* A method of the list, whole, then a space; a prefix waits. */
	assert_int_equal(o->probe((const uint8_t *)"PROPPATCH /", 11, C),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"PROPPATCH", 9, C),
		WL_PROBE_MAYBE);
	assert_int_equal(o->probe((const uint8_t *)"PROP", 4, C),
		WL_PROBE_MAYBE);
	assert_int_equal(o->probe((const uint8_t *)"PROPPATCHX", 10, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"GET\0", 4, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"get / HTTP/1.1", 14, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"BREW / HTTP/1.1", 15, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"+OK\r\n", 5, S),
		WL_PROBE_NO);
}

/* A pipeline of depth n on a pool of `pool` records: the requests that
 * find a record are paired with their own answers, the answers of the
 * others are reported flagged overflow, never given to another. */
static void
pipeline(unsigned int n, unsigned int pool)
{
	static const char req[] = "GET /p HTTP/1.1\r\n\r\n";
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct wl_mpool *mp = wl_mpool_create(pool, SOCKET_ID_ANY);
	struct wl_proto_ctx ctx;
	unsigned int i, kept = n < pool ? n : pool;

	assert_non_null(mp);
	conv_proto = WL_PROTO_HTTP;
	conv_begin(&ctx);
	ctx.mpool = mp;
	for (i = 0; i < n; i++) {
		conv_pos(&ctx, C);
		conv_ops()->data(conv_state, &ctx, C, (const uint8_t *)req,
			sizeof(req) - 1, 100 + i);
		conv_off[C] += sizeof(req) - 1;
	}
	for (i = 0; i < n; i++) {
		conv_pos(&ctx, S);
		conv_ops()->data(conv_state, &ctx, S, (const uint8_t *)rsp,
			sizeof(rsp) - 1, 100000 + i);
		conv_off[S] += sizeof(rsp) - 1;
	}
	conv_ops()->close(conv_state, &ctx, 0, 999999);
	assert_int_equal(ngot, n);
	for (i = 0; i < kept; i++) {
		assert_int_equal(got[i].req_start_ns, 100 + i);
		assert_int_equal(got[i].rsp_end_ns, 100000 + i);
		assert_int_equal(got[i].flags, 0);
	}
	for (; i < n; i++) {
		assert_int_equal(got[i].req_start_ns, 0);
		assert_int_equal(got[i].rsp_end_ns, 100000 + i);
		assert_true(got[i].flags & WL_TXN_F_OVERFLOW);
	}
	assert_int_equal(ctr[WL_PROTO_CTR_PENDING_OVERFLOW], n - kept);
	assert_int_equal(wl_mpool_used(mp), 0);
	wl_mpool_free(mp);
}

/* Pending requests are bounded per lcore, not per connection. */
static void
test_deep_pipeline(void **state_)
{
	(void)state_;
	pipeline(60, 64);
	pipeline(12, 8);
}

/* Events of the parser alone over d: each with the stream offset it
 * came at, and the message's fields at HEADERS and END. */
struct ev_log {
	unsigned int n;
	struct {
		uint32_t off;
		enum wl_http_ev ev;
		struct wl_http_msg msg;
	} e[256];
};

static void
feed_all(const uint8_t *d, uint32_t len, int is_resp, uint32_t chunk,
	struct ev_log *log)
{
	struct wl_http_parser p;
	uint32_t off = 0, end;

	wl_http_parser_init(&p, is_resp);
	log->n = 0;
	while (off < len) {
		end = off + chunk < len ? off + chunk : len;
		wl_http_segment(&p);
		while (off < end || (off == end && log->n < 256)) {
			enum wl_http_ev ev;
			uint32_t n = wl_http_feed(&p, d + off, end - off, &ev);

			off += n;
			if (ev == WL_HTTP_EV_NONE)
				break;
			assert_true(log->n < 256);
			log->e[log->n].off = off;
			log->e[log->n].ev = ev;
			memset(&log->e[log->n].msg, 0, sizeof(p.msg));
			if (ev == WL_HTTP_EV_HEADERS || ev == WL_HTTP_EV_END)
				log->e[log->n].msg = p.msg;
			log->n++;
			if (ev == WL_HTTP_EV_TUNNEL)
				return;
		}
	}
}

/*
 * The parser's shortcuts over whole lines (a header line read where it
 * lies, a start line's first bytes checked at once) must say what its
 * byte loop says: messages with random bytes replaced (line ends,
 * spaces, colons, letters and digits: the characters that decide), fed
 * whole and one byte at a time, give the same events at the same
 * offsets and the same fields.
 */
#define LONG30 "abcdefghijklmnopqrstuvwxyz0123"
#define LONG300 LONG30 LONG30 LONG30 LONG30 LONG30 LONG30 LONG30 LONG30 \
	LONG30 LONG30

static void
test_feed_shortcuts(void **state)
{
	static const char *const base[2] = {
		"GET /a?q=1 HTTP/1.1\r\nHost: x.test\r\nContent-Length: 3\r\n"
		"X-Long: " LONG300 "\r\n"
		"\r\nabcPOST /b HTTP/1.0\r\nHost: " LONG300 "\r\n"
		"Transfer-Encoding: chunked\r\n\r\n"
		"3\r\nxyz\r\n0\r\n\r\nDELETE /c HTTP/1.1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Long: " LONG300
		"\r\n\r\nokHTTP/1.1 404 "
		"Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
		"HTTP/1.0 204 No Content\r\n\r\n",
	};
	static const char alphabet[] = "\r\n :/HTTP1.GETa-0\t;";
	static struct ev_log whole, bytes;
	uint32_t seed = 12345;
	unsigned int round, k, m;

	(void)state;
	for (round = 0; round < 4000; round++) {
		uint8_t d[1024];
		int is_resp = round & 1;
		uint32_t len = (uint32_t)strlen(base[is_resp]);

		memcpy(d, base[is_resp], len);
		for (m = 0; m < 1 + round % 4; m++) {
			seed = seed * 1103515245u + 12345u;
			k = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			d[k] = (uint8_t)alphabet[(seed >> 8) %
				(sizeof(alphabet) - 1)];
		}
		feed_all(d, len, is_resp, len, &whole);
		feed_all(d, len, is_resp, 1, &bytes);
		assert_int_equal(whole.n, bytes.n);
		for (k = 0; k < whole.n; k++) {
			assert_int_equal(whole.e[k].off, bytes.e[k].off);
			assert_int_equal(whole.e[k].ev, bytes.e[k].ev);
			assert_memory_equal(&whole.e[k].msg, &bytes.e[k].msg,
				sizeof(whole.e[k].msg));
		}
	}
}

/* The method lookup of detection: case-sensitive, near misses none. */
static void
test_method_lookup(void **state)
{
	static const struct kw methods[] = {
#define _(e, n) { n, WL_HTTP_M_ ## e },
		foreach_wl_http_method
#undef _
	};

	(void)state;
	kw_check(wl_http_method_lookup, methods, WL_ARRAY_SIZE(methods), 0);
	assert_int_equal(wl_http_method_lookup("PROPPATCH", 9),
		WL_HTTP_M_PROPPATCH);
	assert_int_equal(wl_http_method_lookup("PROPPATC", 8), -1);
	assert_int_equal(wl_http_method_lookup("get", 3), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_method_lookup),
		cmocka_unit_test(test_conversations),
		cmocka_unit_test(test_deep_pipeline),
		cmocka_unit_test(test_feed_shortcuts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
