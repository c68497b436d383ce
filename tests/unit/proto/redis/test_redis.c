/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Redis (RESP2/RESP3) through the protocol ops: each conversation whole,
 * split at every byte offset and byte by byte (wl_test_conv.h).
 */

#include "redis/wl_redis.h"
#include "redis/wl_redis_cmd.h"
#include "wl_proto.h"
#include "../wl_test_conv.h"
#include "../wl_test_kw.h"

#define SET_A "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
#define GET_A "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
#define OK "+OK\r\n"
/* A command whose reply may be of any type. */
#define ECHO_A "*2\r\n$4\r\nECHO\r\n$1\r\na\r\n"

static const struct conv convs[] = {
	{ "set-get", {
		{ C, 10, "*3\r\n$3\r\nset\r\n$3\r\nkey\r\n$5\r\nvalue\r\n" },
		{ S, 20, OK },
		{ C, 30, "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n" },
		{ S, 40, "$5\r\nvalue\r\n" },
		{ 0 } }, {
		{ "SET", "key", "OK", 10, 10, 20, 20, 0, NULL },
		{ "GET", "key", "OK", 30, 30, 40, 40, 0, NULL },
		{ 0 } } },
	{ "pipelined", {
		{ C, 10, SET_A GET_A "*1\r\n$4\r\nPING\r\n" },
		{ S, 20, OK },
		{ S, 30, "$1\r\n1\r\n+PONG\r\n" },
		{ 0 } }, {
		{ "SET", "a", "OK", 10, 10, 20, 20, 0, NULL },
		{ "GET", "a", "OK", 10, 10, 30, 30, 0, NULL },
		{ "PING", "", "OK", 10, 10, 30, 30, 0, NULL },
		{ 0 } } },
	{ "big-bulk-over-segments", {
		{ C, 10, "*2\r\n$3\r\nGET\r\n" },
		{ C, 11, "$3\r\nbig\r\n" },
		{ S, 20, "$20\r\n0123456789" },
		{ S, 21, "abcdefghij" },
		{ S, 22, "\r\n" },
		{ 0 } }, {
		{ "GET", "big", "OK", 10, 11, 20, 22, 0, NULL },
		{ 0 } } },
	{ "resp3-types", {
		{ C, 10, ECHO_A ECHO_A ECHO_A ECHO_A ECHO_A ECHO_A },
		{ S, 20, "*2\r\n*2\r\n:1\r\n$1\r\na\r\n%1\r\n+k\r\n_\r\n" },
		{ S, 21, "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:1\r\n:2\r\n" },
		{ S, 22, "$?\r\n;4\r\nHell\r\n;1\r\no\r\n;0\r\n" },
		{ S, 23, "*?\r\n:1\r\n~2\r\n#t\r\n(12345678901234567890\r\n.\r\n" },
		{ S, 24, "=15\r\ntxt:Some string\r\n" },
		{ S, 25, "*-1\r\n" },
		{ 0 } }, {
		{ "ECHO", "", "OK", 10, 10, 20, 20, 0, NULL },
		{ "ECHO", "", "OK", 10, 10, 21, 21, 0, NULL },
		{ "ECHO", "", "OK", 10, 10, 22, 22, 0, NULL },
		{ "ECHO", "", "OK", 10, 10, 23, 23, 0, NULL },
		{ "ECHO", "", "OK", 10, 10, 24, 24, 0, NULL },
		{ "ECHO", "", "OK", 10, 10, 25, 25, 0, NULL },
		{ 0 } } },
	{ "errors", {
		{ C, 10, "*2\r\n$4\r\nLLEN\r\n$1\r\ns\r\n*1\r\n$3\r\nFOO\r\n" },
		{ S, 20, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" },
		{ S, 30, "!21\r\nSYNTAX invalid syntax\r\n" },
		{ 0 } }, {
		{ "LLEN", "s", "WRONGTYPE", 10, 10, 20, 20, 0, NULL },
		{ "FOO", "", "SYNTAX", 10, 10, 30, 30, 0, NULL },
		{ 0 } } },
	{ "inline-and-subcommands", {
		{ C, 10, "PING\r\n" },
		{ S, 20, "+PONG\r\n" },
		{ C, 30, "*3\r\n$6\r\nCONFIG\r\n$3\r\nget\r\n$9\r\nmaxmemory\r\n" },
		{ S, 40, "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n" },
		{ 0 } }, {
		{ "PING", "", "OK", 10, 10, 20, 20, 0, NULL },
		{ "CONFIG GET", "maxmemory", "OK", 30, 30, 40, 40, 0, NULL },
		{ 0 } } },
	{ "pubsub-resp2", {
		{ C, 10, "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n" },
		{ S, 20, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n" },
		{ S, 30, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n" },
		{ S, 31, "*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$2\r\nyo\r\n" },
		{ C, 40, "*1\r\n$11\r\nUNSUBSCRIBE\r\n" },
		{ S, 50, "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n" },
		{ C, 60, GET_A },
		{ S, 70, "$-1\r\n" },
		{ 0 } }, {
		{ "SUBSCRIBE", "", "OK", 10, 10, 20, 20, 0, NULL },
		{ "UNSUBSCRIBE", "", "OK", 40, 40, 50, 50, 0, NULL },
		{ "GET", "a", "OK", 60, 60, 70, 70, 0, NULL },
		{ 0 } }, 0, 0, 4 },
	{ "resp3-push", {
		{ C, 10, GET_A },
		{ S, 20, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n" },
		{ S, 30, "$1\r\n1\r\n" },
		{ 0 } }, {
		{ "GET", "a", "OK", 10, 10, 30, 30, 0, NULL },
		{ 0 } }, 0, 0, 1 },
	{ "monitor", {
		{ C, 10, "*1\r\n$7\r\nMONITOR\r\n" },
		{ S, 20, OK },
		{ S, 30, "+1339518083.107412 [0 127.0.0.1:60866] \"keys\" \"*\"\r\n" },
		{ S, 31, "+1339518087.877697 [0 127.0.0.1:60866] \"dbsize\"\r\n" },
		{ 0 } }, {
		{ "MONITOR", "", "OK", 10, 10, 20, 20, 0, NULL },
		{ 0 } }, 0, 0, 2 },
	{ "client-reply", {
		{ C, 10, "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n" SET_A },
		{ C, 20, "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n" },
		{ S, 30, OK },
		{ C, 40, "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n" SET_A GET_A },
		{ S, 50, "$1\r\n1\r\n" },
		{ 0 } }, {
		{ "CLIENT REPLY", "ON", "OK", 20, 20, 30, 30, 0, NULL },
		{ "GET", "a", "OK", 40, 40, 50, 50, 0, NULL },
		{ 0 } }, 0, 0, 2 },
	{ "psync-stops", {
		{ C, 10, "*3\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n" },
		{ S, 20, OK },
		{ C, 30, "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n" },
		{ S, 40, "+FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 0\r\n$10\r\nREDIS0011\n" },
		{ S, 50, "*1\r\n$4\r\nPING\r\n" },
		{ C, 60, "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$1\r\n0\r\n" },
		{ 0 } }, {
		{ "REPLCONF", "", "OK", 10, 10, 20, 20, 0, NULL },
		{ "PSYNC", "", "OK", 30, 30, 40, 40, 0, NULL },
		{ 0 } } },
	/* 50 bytes of commands lost between two: a command began in them
	 * and comes before the GET, so the next answer is its (reported
	 * alone, proven); the GET's never came, and whether more commands
	 * were lost stays unknown (no clean close to count on). */
	{ "gap-resync", {
		{ C, 10, SET_A },
		{ S, 20, OK },
		{ -1, 0, NULL, 50 },
		{ C, 30, "xx\r\n" GET_A },
		{ S, 40, "$1\r\n1\r\n" },
		{ 0 } }, {
		{ "SET", "a", "OK", 10, 10, 20, 20, 0, NULL },
		{ "", "", "OK", 0, 0, 40, 40,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_GAP, NULL },
		{ "GET", "a", "no_response", 30, 30, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_UNPAIRED, NULL },
		{ 0 } } },
	/* An answer that came before anything was asked answers a command
	 * the tap never saw: reported with its status, no request. */
	{ "reply-first-then-unanswered", {
		{ S, 5, OK },
		{ C, 10, GET_A },
		{ 0 } }, {
		{ "", "", "OK", 0, 0, 5, 5, WL_TXN_F_NO_REQUEST, NULL },
		{ "GET", "a", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_CLOSED, NULL },
		{ 0 } }, WL_TXN_F_CLOSED },
	/* One answer lost, one request at a time: the next command's ACK
	 * shows the client had the lost answer, so the next answer is the
	 * next command's (proven at once, no close needed). */
	{ "lost-reply-sequential", {
		{ C, 10, SET_A },
		{ S, 20, OK },
		{ C, 30, "*2\r\n$3\r\nGET\r\n$1\r\nx\r\n" },
		{ -1, 1, NULL, 7 },
		{ C, 50, GET_A },
		{ S, 60, "$2\r\n22\r\n" },
		{ 0 } }, {
		{ "SET", "a", "OK", 10, 10, 20, 20, 0, NULL },
		{ "GET", "x", "no_response", 30, 30, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_GAP, NULL },
		{ "GET", "a", "OK", 50, 50, 60, 60, 0, NULL },
		{ 0 } } },
	/* Three pipelined; the first two answers lost in one gap: the one
	 * left may be the second's or the third's until the clean close
	 * counts: three commands, one answer seen, two lost. */
	{ "lost-replies-pipelined-close", {
		{ C, 10, GET_A GET_A GET_A },
		{ -1, 1, NULL, 14 },
		{ S, 40, "$2\r\n33\r\n" },
		{ 0 } }, {
		{ "GET", "a", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_GAP, NULL },
		{ "GET", "a", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_GAP, NULL },
		{ "GET", "a", "OK", 10, 10, 40, 40, 0, NULL },
		{ 0 } }, WL_TXN_F_CLOSED, 0, 0, 1 },
	/* The same without a clean close: the first answer was surely
	 * lost (a reply began in the lost bytes); nothing proves more. */
	{ "lost-replies-pipelined-unclean", {
		{ C, 10, GET_A GET_A GET_A },
		{ -1, 1, NULL, 14 },
		{ S, 40, "$2\r\n33\r\n" },
		{ 0 } }, {
		{ "GET", "a", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_GAP, NULL },
		{ "", "", "OK", 0, 0, 40, 40,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_UNPAIRED, NULL },
		{ "GET", "a", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_UNPAIRED, NULL },
		{ "GET", "a", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_UNPAIRED, NULL },
		{ 0 } }, WL_TXN_F_TIMEOUT },
	/* A command lost, one at a time: its answer is reported alone
	 * (proven: nothing seen was waiting); the next answer may still be
	 * for another lost command until the clean close counts. */
	{ "lost-command-sequential", {
		{ C, 10, SET_A },
		{ S, 20, OK },
		{ -1, 0, NULL, 23 },
		{ S, 40, "$1\r\nx\r\n" },
		{ C, 50, GET_A },
		{ S, 60, "$2\r\n22\r\n" },
		{ 0 } }, {
		{ "SET", "a", "OK", 10, 10, 20, 20, 0, NULL },
		{ "", "", "OK", 0, 0, 40, 40,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_GAP, NULL },
		{ "GET", "a", "OK", 50, 50, 60, 60, 0, NULL },
		{ 0 } }, WL_TXN_F_CLOSED, 0, 0, 1 },
	/* Two commands lost, one at a time: two unknowns, and each lost
	 * region held a command; the clean close counts one command lost
	 * in all, so the first region held the one already answered. */
	{ "lost-commands-twice-close", {
		{ C, 10, SET_A },
		{ S, 20, OK },
		{ -1, 0, NULL, 23 },
		{ S, 40, OK },
		{ C, 50, GET_A },
		{ S, 60, "$2\r\n22\r\n" },
		{ -1, 0, NULL, 23 },
		{ S, 80, OK },
		{ C, 90, GET_A },
		{ S, 100, "$1\r\n1\r\n" },
		{ 0 } }, {
		{ "SET", "a", "OK", 10, 10, 20, 20, 0, NULL },
		{ "", "", "OK", 0, 0, 40, 40,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_GAP, NULL },
		{ "GET", "a", "OK", 50, 50, 60, 60, 0, NULL },
		{ "", "", "OK", 0, 0, 80, 80,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_GAP, NULL },
		{ "GET", "a", "OK", 90, 90, 100, 100, 0, NULL },
		{ 0 } }, WL_TXN_F_CLOSED, 0, 0, 1 },
	/* Two answers of a pipeline lost apart: the first is surely the
	 * second command's; the next command's answer (its client had
	 * every byte) then settles both. */
	{ "lost-replies-twice", {
		{ C, 10, GET_A GET_A GET_A GET_A },
		{ S, 20, "$1\r\n1\r\n" },
		{ -1, 1, NULL, 7 },
		{ S, 40, "$1\r\n3\r\n" },
		{ -1, 1, NULL, 7 },
		{ C, 50, GET_A },
		{ S, 60, "$1\r\n5\r\n" },
		{ 0 } }, {
		{ "GET", "a", "OK", 10, 10, 20, 20, 0, NULL },
		{ "GET", "a", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_GAP, NULL },
		{ "GET", "a", "OK", 10, 10, 40, 40, 0, NULL },
		{ "GET", "a", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_GAP, NULL },
		{ "GET", "a", "OK", 50, 50, 60, 60, 0, NULL },
		{ 0 } } },
	/* A gap inside a bulk reply of known length: the reply is whole
	 * but for it, its times certain. */
	{ "gap-inside-bulk", {
		{ C, 10, GET_A },
		{ S, 20, "$20\r\n0123" },
		{ -1, 1, NULL, 10 },
		{ S, 22, "efghij\r\n" },
		{ C, 30, GET_A },
		{ S, 40, "$1\r\n1\r\n" },
		{ 0 } }, {
		{ "GET", "a", "OK", 10, 10, 20, 22, WL_TXN_F_GAP, NULL },
		{ "GET", "a", "OK", 30, 30, 40, 40, 0, NULL },
		{ 0 } } },
	/* The end of a bulk reply lost: its start and status stay. */
	{ "gap-ends-bulk", {
		{ C, 10, GET_A },
		{ S, 20, "$20\r\n0123" },
		{ -1, 1, NULL, 30 },
		{ C, 30, GET_A },
		{ S, 40, "$1\r\n1\r\n" },
		{ 0 } }, {
		{ "GET", "a", "OK", 10, 10, 20, 0, WL_TXN_F_GAP, NULL },
		{ "GET", "a", "OK", 30, 30, 40, 40, 0, NULL },
		{ 0 } } },
	/* A reply the capture's end cut: its start and type stay. */
	{ "reply-cut-by-end", {
		{ C, 10, GET_A },
		{ S, 20, "$20\r\n0123" },
		{ 0 } }, {
		{ "GET", "a", "OK", 10, 10, 20, 0,
			WL_TXN_F_TRUNCATED | WL_TXN_F_END_OF_CAPTURE, NULL },
		{ 0 } }, WL_TXN_F_END_OF_CAPTURE },
};

static void
test_conversations(void **state)
{
	(void)state;
	conv_proto = WL_PROTO_REDIS;
	conv_all(convs, sizeof(convs) / sizeof(convs[0]), NULL);
}

static void
test_probe(void **state)
{
	const struct wl_proto_ops *o = wl_protos[WL_PROTO_REDIS];

	(void)state;
	assert_int_equal(o->probe((const uint8_t *)GET_A, 16, C),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"*2\r", 3, C),
		WL_PROBE_MAYBE);
	assert_int_equal(o->probe((const uint8_t *)"GET / HTTP/1.1", 14, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"*x", 2, C), WL_PROBE_NO);
	/* Inline commands, but never an HTTP request line. */
	assert_int_equal(o->probe((const uint8_t *)"PING\r\n", 6, C),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"SET k \"v w\"\r\n", 13, C),
		WL_PROBE_YES);
	/* Lower case is memcached's text protocol. */
	assert_int_equal(o->probe((const uint8_t *)"set k 0 0 1\r\n", 13, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"SE", 2, C), WL_PROBE_MAYBE);
	assert_int_equal(o->probe((const uint8_t *)"GET k", 5, C),
		WL_PROBE_MAYBE);
	assert_int_equal(o->probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16,
		C), WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"HELO mail\r\n", 11, C),
		WL_PROBE_NO);
	/* Only the commands people type inline (not PSYNC), in full. */
	assert_int_equal(o->probe((const uint8_t *)"HGETALL h\r\n", 11, C),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"PIN", 3, C),
		WL_PROBE_MAYBE);
	assert_int_equal(o->probe((const uint8_t *)"PINGS\r\n", 7, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"PSYNC ? -1\r\n", 12, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe((const uint8_t *)"ZRANGEBYSCORE k", 15, C),
		WL_PROBE_NO);
	/* Replies alone never claim a flow ("+OK" is POP3 too). */
	assert_int_equal(o->probe((const uint8_t *)OK, 5, S), WL_PROBE_NO);
}

/* The command lookup: every name, any case; near misses none. */
static void
test_cmd_lookup(void **state)
{
	static const struct kw cmds[] = {
#define _(e, n, f, t) { n, WL_REDIS_CMD_ ## e },
		foreach_wl_redis_cmd
#undef _
	};

	(void)state;
	kw_check(wl_redis_cmd_lookup, cmds, WL_ARRAY_SIZE(cmds), 1);
	assert_int_equal(wl_redis_cmd_lookup("get", 3), WL_REDIS_CMD_GET);
	assert_int_equal(wl_redis_cmd_lookup("cLiEnT", 6),
		WL_REDIS_CMD_CLIENT);
	assert_int_equal(wl_redis_cmd_lookup("GETX", 4), -1);
	assert_int_equal(wl_redis_cmd_lookup("GE", 2), -1);
	assert_int_equal(wl_redis_cmd_lookup("G\xc3\x89T", 4), -1);
	assert_int_equal(wl_redis_cmd_lookup("GET\0", 4), -1);
	/* Only letters fold: "EVAL_RO" is not "EVAL\x7fRO". */
	assert_int_equal(wl_redis_cmd_lookup("eval_ro", 7),
		WL_REDIS_CMD_EVAL_RO);
	assert_int_equal(wl_redis_cmd_lookup("EVAL\x7fRO", 7), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_cmd_lookup),
		cmocka_unit_test(test_conversations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
