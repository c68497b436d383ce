/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * memcached text and binary protocols through the ops: each conversation
 * whole, split at every byte offset and byte by byte (wl_test_conv.h).
 */

#include "memcached/wl_mc.h"
#include "memcached/wl_mc_kw.h"
#include "wl_proto.h"
#include "../wl_test_conv.h"
#include "../wl_test_kw.h"

/* Binary header: magic, opcode, key length, extras length, data type 0,
 * vbucket or status, body length, opaque, cas 0. */
#define BH(mg, op, kl, el, st, bl, op4) \
	mg op "\x00" kl el "\x00" "\x00" st "\x00\x00\x00" bl \
	"\x00\x00\x00" op4 "\x00\x00\x00\x00\x00\x00\x00\x00"

/* GET "k" (opaque 1), GETQ "a" (2), GETQ "b" (3), NOOP (4). */
#define BIN_REQS \
	BH("\x80", "\x00", "\x01", "\x00", "\x00", "\x01", "\x01") "k" \
	BH("\x80", "\x09", "\x01", "\x00", "\x00", "\x01", "\x02") "a" \
	BH("\x80", "\x09", "\x01", "\x00", "\x00", "\x01", "\x03") "b" \
	BH("\x80", "\x0a", "\x00", "\x00", "\x00", "\x00", "\x04")
#define BIN_REQS_LEN (4 * 24 + 3)
/* GET k: hit with 4 bytes extras (flags) + "v"; GETQ b: hit; NOOP. */
#define BIN_RSP1 BH("\x81", "\x00", "\x00", "\x04", "\x00", "\x05", "\x01") \
	"\x00\x00\x00\x00" "v"
#define BIN_RSP1_LEN (24 + 5)
#define BIN_RSP2 BH("\x81", "\x09", "\x00", "\x04", "\x00", "\x05", "\x03") \
	"\x00\x00\x00\x00" "w" \
	BH("\x81", "\x0a", "\x00", "\x00", "\x00", "\x00", "\x04")
#define BIN_RSP2_LEN (24 + 5 + 24)

static const struct conv convs[] = {
	{ "multi-get", {
		{ C, 10, "get a b c\r\n" },
		{ S, 20, "VALUE a 0 1\r\nx\r\nVALUE c 0 2\r\n" },
		{ S, 21, "yy\r\nEND\r\n" },
		{ C, 30, "get zz\r\n" },
		{ S, 40, "END\r\n" },
		{ 0 } }, {
		{ "get", "a", "HIT", 10, 10, 20, 21, 0, NULL },
		{ "get", "zz", "MISS", 30, 30, 40, 40, 0, NULL },
		{ 0 } } },
	/* A reply that began before the request with its opaque was sent
	 * is not that request's reply. */
	{ "reply-before-its-opaque", {
		{ C, 10, BH("\x80", "\x00", "\x01", "\x00", "\x00", "\x01",
			"\x07") "k", 0, 25 },
		{ S, 20, BH("\x81", "\x00", "\x00", "\x00", "\x01", "\x00",
			"\x09"), 0, 12 },
		{ C, 30, BH("\x80", "\x00", "\x01", "\x00", "\x00", "\x01",
			"\x09") "k", 0, 25 },
		{ S, 40, &(BH("\x81", "\x00", "\x00", "\x00", "\x01", "\x00",
			"\x09"))[12], 0, 12 },
		{ 0 } }, {
		{ "", "", "KEY_ENOENT", 0, 0, 20, 40, WL_TXN_F_NO_REQUEST,
			NULL },
		{ "get", "k", "no_response", 10, 10, 0, 0, WL_TXN_F_NO_RESPONSE,
			NULL },
		{ "get", "k", "no_response", 30, 30, 0, 0, WL_TXN_F_NO_RESPONSE,
			NULL },
		{ 0 } } },
	{ "storage-and-noreply", {
		{ C, 10, "set k 0 0 10\r\n01234" },
		{ C, 11, "56789\r\nset q 0 0 1 noreply\r\nz\r\ndelete q noreply\r\n" },
		{ S, 20, "STORED\r\n" },
		{ C, 30, "incr n 5\r\nincr missing 1\r\nadd k 0 0 1\r\nz\r\n" },
		{ S, 40, "6\r\nNOT_FOUND\r\nNOT_STORED\r\n" },
		{ C, 50, "bogus\r\n" },
		{ S, 60, "ERROR\r\n" },
		{ C, 70, "quit\r\n" },
		{ 0 } }, {
		{ "set", "k", "STORED", 10, 11, 20, 20, 0, NULL },
		{ "incr", "n", "OK", 30, 30, 40, 40, 0, NULL },
		{ "incr", "missing", "NOT_FOUND", 30, 30, 40, 40, 0, NULL },
		{ "add", "k", "NOT_STORED", 30, 30, 40, 40, 0, NULL },
		{ "unknown", "", "ERROR", 50, 50, 60, 60, 0, NULL },
		{ 0 } }, 0, 1, 3 },
	/* The server answers every line it reads: an unknown command and a
	 * malformed one get an error each, which must not answer the next
	 * request. */
	{ "unknown-and-malformed", {
		{ C, 10, "GET k\r\nset k\r\nget a\r\n" },
		{ S, 20, "ERROR\r\nERROR\r\nEND\r\n" },
		{ 0 } }, {
		{ "unknown", "", "ERROR", 10, 10, 20, 20, 0, NULL },
		{ "set", "", "ERROR", 10, 10, 20, 20, 0, NULL },
		{ "get", "a", "MISS", 10, 10, 20, 20, 0, NULL },
		{ 0 } }, 0, 2 },
	/* Meta quiet mode: a miss is silent, a hit answered, mn always.
	 * Without a key or token the hit could be either mg's: unpaired,
	 * never given to one. */
	{ "meta-quiet-anonymous", {
		{ C, 10, "mg missing v q\r\nmg hit v q\r\nmn\r\n" },
		{ S, 20, "VA 2\r\nhi\r\nMN\r\n" },
		{ 0 } }, {
		{ "", "", "HIT", 0, 0, 20, 20,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_UNPAIRED, NULL },
		{ "mn", "", "MN", 10, 10, 20, 20, 0, NULL },
		{ 0 } }, 0, 0, 2 },
	{ "meta-quiet-keys", {
		{ C, 10, "mg missing v k q\r\nmg hit v k q\r\nmn\r\n" },
		{ S, 20, "VA 2 khit\r\nhi\r\nMN\r\n" },
		{ 0 } }, {
		{ "mg", "hit", "HIT", 10, 10, 20, 20, 0, NULL },
		{ "mn", "", "MN", 10, 10, 20, 20, 0, NULL },
		{ 0 } }, 0, 0, 1 },
	{ "meta-quiet-opaque", {
		{ C, 10, "mg a v q O1\r\nmg b v q O2\r\nms c 1 q O3\r\nx\r\n"
			"mn\r\n" },
		{ S, 20, "VA 1 O2\r\ny\r\nNS O3\r\nMN\r\n" },
		{ 0 } }, {
		{ "mg", "b", "HIT", 10, 10, 20, 20, 0, NULL },
		{ "ms", "c", "NS", 10, 10, 20, 20, 0, NULL },
		{ "mn", "", "MN", 10, 10, 20, 20, 0, NULL },
		{ 0 } }, 0, 0, 1 },
	/* EN is what q hides: it answers the loud mg after the quiet one. */
	{ "meta-quiet-then-loud", {
		{ C, 10, "mg a v q\r\nmg b v\r\n" },
		{ S, 20, "EN\r\n" },
		{ 0 } }, {
		{ "mg", "b", "MISS", 10, 10, 20, 20, 0, NULL },
		{ 0 } }, 0, 0, 1 },
	/* A hit fits both: whether the loud one is answered yet is
	 * unknown, and so is every pairing after. */
	{ "meta-quiet-then-loud-ambiguous", {
		{ C, 10, "mg a v q\r\nmg b v\r\n" },
		{ S, 20, "VA 1\r\nx\r\n" },
		{ 0 } }, {
		{ "mg", "a", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_UNPAIRED, NULL },
		{ "mg", "b", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_UNPAIRED, NULL },
		{ "", "", "HIT", 0, 0, 20, 20,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_UNPAIRED, NULL },
		{ 0 } } },
	/* Bytes lost inside a value of known length: the reply's end is
	 * still seen, its times are certain. */
	{ "gap-inside-value", {
		{ C, 10, "get a\r\n" },
		{ S, 20, "VALUE a 0 10\r\n01" },
		{ -1, 1, NULL, 4 },
		{ S, 30, "6789\r\nEND\r\n" },
		{ C, 40, "get b\r\n" },
		{ S, 50, "END\r\n" },
		{ 0 } }, {
		{ "get", "a", "HIT", 10, 10, 20, 30, WL_TXN_F_GAP, NULL },
		{ "get", "b", "MISS", 40, 40, 50, 50, 0, NULL },
		{ 0 } } },
	/* The end of a's value lost: the END after the gap may end a
	 * multi-value reply, so it starts none; b's reply does. */
	{ "gap-then-end-tail", {
		{ C, 10, "get a\r\nget b\r\n" },
		{ S, 20, "VALUE a 0 4\r\nab" },
		{ -1, 1, NULL, 4 },
		{ S, 30, "END\r\nVALUE b 0 1\r\nx\r\nEND\r\n" },
		{ 0 } }, {
		{ "get", "a", "HIT", 10, 10, 20, 0, WL_TXN_F_GAP, NULL },
		{ "get", "b", "HIT", 10, 10, 30, 30, 0, NULL },
		{ 0 } } },
	/* The head of b's reply lost: its value's tail is a line of
	 * digits, which is no incr answer there, then its END; then c's
	 * reply. */
	{ "gap-then-digits-tail", {
		{ C, 10, "get a\r\nget b\r\nget c\r\n" },
		{ S, 20, "VALUE a 0 1\r\n1\r\nEND\r\n" },
		{ -1, 1, NULL, 14 },
		{ S, 30, "0123456789\r\nEND\r\n" },
		{ S, 40, "VALUE c 0 1\r\n3\r\nEND\r\n" },
		{ 0 } }, {
		{ "get", "a", "HIT", 10, 10, 20, 20, 0, NULL },
		{ "get", "b", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_GAP, NULL },
		{ "get", "c", "HIT", 10, 10, 40, 40, 0, NULL },
		{ 0 } } },
	/* Picked up mid-stream: the server's first bytes are the tail of a
	 * value (a line that would be a reply anywhere else, then END);
	 * the next reply answers a request asked before the capture or
	 * the one seen, which the clean close settles. */
	{ "midstream-value-tail", {
		{ S, 10, "tored?\r\nEND\r\n" },
		{ C, 20, "get b\r\n" },
		{ S, 30, "VALUE b 0 1\r\n2\r\nEND\r\n" },
		{ 0 } }, {
		{ "get", "b", "HIT", 20, 20, 30, 30, 0, NULL },
		{ 0 } }, WL_TXN_F_CLOSED, 0, 0, 1, 1 },
	/* A lost reply: the next reply's word tells whose it is. */
	{ "lost-reply", {
		{ C, 10, "set k 0 0 1\r\nz\r\n" },
		{ -1, 1, NULL, 8 },
		{ C, 30, "get k\r\n" },
		{ S, 40, "VALUE k 0 1\r\nz\r\nEND\r\n" },
		{ 0 } }, {
		{ "set", "k", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_GAP, NULL },
		{ "get", "k", "HIT", 30, 30, 40, 40, 0, NULL },
		{ 0 } } },
	{ "meta-and-stats", {
		{ C, 10, "mg k v\r\nms k 2 q\r\nhi\r\nmd k\r\nmn\r\n" },
		{ S, 20, "VA 2\r\nhi\r\nHD\r\nMN\r\n" },
		{ C, 30, "stats\r\n" },
		{ S, 40, "STAT pid 1\r\nSTAT uptime 2\r\nEND\r\n" },
		{ 0 } }, {
		{ "mg", "k", "HIT", 10, 10, 20, 20, 0, NULL },
		{ "md", "k", "HD", 10, 10, 20, 20, 0, NULL },
		{ "mn", "", "MN", 10, 10, 20, 20, 0, NULL },
		{ "stats", "", "STAT", 30, 30, 40, 40, 0, NULL },
		{ 0 } }, 0, 0, 1 },
	{ "binary-quiet", {
		{ C, 10, BIN_REQS, 0, BIN_REQS_LEN },
		{ S, 20, BIN_RSP1, 0, BIN_RSP1_LEN },
		{ S, 30, BIN_RSP2, 0, BIN_RSP2_LEN },
		{ 0 } }, {
		{ "get", "k", "OK", 10, 10, 20, 20, 0, NULL },
		{ "getq", "b", "OK", 10, 10, 30, 30, 0, NULL },
		{ "noop", "", "OK", 10, 10, 30, 30, 0, NULL },
		{ 0 } }, 0, 0, 1 },     /* GETQ a: a silent miss */
	{ "unanswered", {
		{ C, 10, "get a\r\n" },
		{ 0 } }, {
		{ "get", "a", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_TIMEOUT, NULL },
		{ 0 } }, WL_TXN_F_TIMEOUT },
};

static void
test_conversations(void **state)
{
	(void)state;
	conv_proto = WL_PROTO_MEMCACHED;
	conv_all(convs, sizeof(convs) / sizeof(convs[0]), NULL);
}

static void
test_probe(void **state)
{
	const struct wl_proto_ops *o = wl_protos[WL_PROTO_MEMCACHED];

	(void)state;
	assert_int_equal(o->probe((const uint8_t *)"get k\r\n", 7, C),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"ge", 2, C),
		WL_PROBE_MAYBE);
	assert_int_equal(o->probe((const uint8_t *)"get / HTTP/1.0\r\n", 16,
		C), WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"GET k\r\n", 7, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)BIN_REQS, 24, C),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"verbosity 1\r\n", 13, C),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"gets a b\r\n", 10, C),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"getsx a\r\n", 9, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"mn\r\n", 4, C),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"flush", 5, C),
		WL_PROBE_MAYBE);
	assert_int_equal(o->probe((const uint8_t *)"fetch k\r\n", 9, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"STORED\r\n", 8, S),
		WL_PROBE_NO);
}

/* The command and reply-word lookups: exact bytes (memcached's own
 * parser does not fold case); near misses none. */
static void
test_lookups(void **state)
{
	static const struct kw cmds[] = {
#define _(e, n, r) { n, WL_MC_CMD_ ## e },
		foreach_wl_mc_cmd
#undef _
	};
	static const struct kw rsps[] = {
#define _(e, n) { n, WL_MC_RSP_ ## e },
		foreach_wl_mc_rsp
#undef _
	};

	(void)state;
	kw_check(wl_mc_cmd_lookup, cmds, WL_ARRAY_SIZE(cmds), 0);
	kw_check(wl_mc_rsp_lookup, rsps, WL_ARRAY_SIZE(rsps), 0);
	assert_int_equal(wl_mc_cmd_lookup("gets", 4), WL_MC_CMD_GETS);
	assert_int_equal(wl_mc_cmd_lookup("GET", 3), -1);
	assert_int_equal(wl_mc_cmd_lookup("flush_all", 9), WL_MC_CMD_FLUSH_ALL);
	assert_int_equal(wl_mc_cmd_lookup("flush", 5), -1);
	assert_int_equal(wl_mc_rsp_lookup("NOT_FOUND", 9), WL_MC_RSP_NOT_FOUND);
	assert_int_equal(wl_mc_rsp_lookup("not_found", 9), -1);
	assert_int_equal(wl_mc_rsp_lookup("EN", 2), WL_MC_RSP_EN);
	assert_int_equal(wl_mc_rsp_lookup("E", 1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_conversations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
