/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * memcached text and binary protocols through the ops: each conversation
 * whole, split at every byte offset and byte by byte (wl_test_conv.h).
 */

#include "memcached/wl_mc.h"
#include "wl_proto.h"
#include "../wl_test_conv.h"

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
		{ "bogus", "", "ERROR", 50, 50, 60, 60, 0, NULL },
		{ 0 } }, 0, 0, 3 },
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
	assert_int_equal(o->probe((const uint8_t *)"STORED\r\n", 8, S),
		WL_PROBE_NO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_conversations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
