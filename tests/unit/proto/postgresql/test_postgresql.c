/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * PostgreSQL v3 through the ops: each conversation whole, split at every
 * byte offset and byte by byte (wl_test_conv.h); the normaliser and the
 * probe on their own.
 *
 * Segments are built at run time: sg(dir, ts, M(type, body)..., E_)
 * frames each body with its type byte and length, so the tests spell
 * out bodies only. M(0, ...) is an untyped startup-phase message (body
 * starting with the code), M(RAW, ...) bytes as they are.
 */

#include <stdarg.h>
#include <stdlib.h>

#include "postgresql/wl_pg.h"
#include "postgresql/wl_pg_parse.h"
#include "wl_proto.h"
#include "wl_sql.h"
#include "../wl_test_conv.h"

#define RAW (-1)
#define E_ (-2)
#define M(t, lit) (int)(t), (const char *)(lit), (uint32_t)(sizeof(lit) - 1)

static char pool[32768];
static uint32_t pool_n;

static struct seg
sg(int dir, uint64_t ts, ...)
{
	struct seg s = { dir, ts, pool + pool_n, 0, 0 };
	va_list ap;
	int t;

	va_start(ap, ts);
	while ((t = va_arg(ap, int)) != E_) {
		const char *b = va_arg(ap, const char *);
		uint32_t n = va_arg(ap, uint32_t), l = n + 4;

		assert_true(pool_n + n + 5 < sizeof(pool));
		if (t != RAW) {
			if (t != 0)
				pool[pool_n++] = (char)t;
			pool[pool_n++] = (char)(l >> 24);
			pool[pool_n++] = (char)(l >> 16);
			pool[pool_n++] = (char)(l >> 8);
			pool[pool_n++] = (char)l;
		}
		memcpy(pool + pool_n, b, n);
		pool_n += n;
	}
	va_end(ap);
	s.len = (uint32_t)(pool + pool_n - s.data);
	return s;
}

static const struct seg gap_s2c = { -1, 1, NULL, 100, 0 };

/* Message bodies. */
#define STARTUP "\x00\x03\x00\x00" "user\0bob\0database\0shop\0\0"
#define SSLREQ "\x04\xd2\x16\x2f"
#define CANCEL "\x04\xd2\x16\x2e" "\x00\x00\x00\x07" "\x01\x02\x03\x04"
#define AUTH_OK "\0\0\0\0"
#define AUTH_MD5 "\0\0\0\x05" "salt"
#define PASSWORD "md50123456789abcdef0123456789abcdef\0"
#define PARAM "server_version\0" "16.1\0"
#define KEY "\0\0\0\x01" "\0\0\0\x02"
#define ROWDESC "\x00\x01" "id\0" "\0\0\0\0" "\0\0" "\0\0\0\x17" "\0\x04" \
	"\xff\xff\xff\xff" "\0\0"
#define ROW "\x00\x01" "\x00\x00\x00\x01" "1"
#define IDLE "I"
#define ERR(code) "SERROR\0VERROR\0C" code "\0Mboom\0\0"
#define BIND_UNNAMED "\0\0" "\0\0" "\0\0" "\0\0"
#define EXEC_UNNAMED "\0" "\0\0\0\0"
#define COPY_FMT "\0" "\0\x01" "\0\0"

#define Z_I M('Z', IDLE)
#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10

static struct conv convs[32];
static unsigned int nconvs;

static void
build(void)
{
	unsigned int i = 0;

	pool_n = 0;
	convs[i++] = (struct conv){ "startup-trust", {
		sg(C, 10, M(0, STARTUP), E_),
		sg(S, 20, M('R', AUTH_OK), M('S', PARAM), M('K', KEY), Z_I, E_),
		{ 0 } }, {
		{ "startup", "shop", "OK", 10, 10, 20, 20, 0, "rows=0 user=bob" },
		{ 0 } } };
	convs[i++] = (struct conv){ "ssl-refused", {
		sg(C, 10, M(0, SSLREQ), E_),
		sg(S, 20, M(RAW, "N"), E_),
		sg(C, 30, M(0, STARTUP), E_),
		sg(S, 40, M('R', AUTH_OK), Z_I, E_),
		{ 0 } }, {
		{ "startup", "shop", "OK", 10, 30, 40, 40, 0, "user=bob" },
		{ 0 } } };
	convs[i++] = (struct conv){ "ssl-accepted", {
		sg(C, 10, M(0, SSLREQ), E_),
		sg(S, 20, M(RAW, "S"), E_),
		sg(C, 30, M(RAW, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
			E_),
		sg(S, 40, M(RAW, "\x16\x03\x03\x00\x7a\x02"), E_),
		{ 0 } }, {
		{ 0 } } };
	convs[i++] = (struct conv){ "startup-md5", {
		sg(C, 10, M(0, STARTUP), E_),
		sg(S, 20, M('R', AUTH_MD5), E_),
		sg(C, 30, M('p', PASSWORD), E_),
		sg(S, 40, M('R', AUTH_OK), M('S', PARAM), M('K', KEY), E_),
		sg(S, 41, Z_I, E_),
		{ 0 } }, {
		{ "startup", "shop", "OK", 10, 30, 20, 41, 0, "user=bob" },
		{ 0 } } };
	convs[i++] = (struct conv){ "startup-refused", {
		sg(C, 10, M(0, STARTUP), E_),
		sg(S, 20, M('R', AUTH_MD5), E_),
		sg(C, 30, M('p', PASSWORD), E_),
		sg(S, 40, M('E', ERR("28P01")), E_),
		{ 0 } }, {
		{ "startup", "shop", "28P01", 10, 30, 20, 40, 0, "user=bob" },
		{ 0 } } };
	convs[i++] = (struct conv){ "cancel", {
		sg(C, 10, M(0, CANCEL), E_),
		{ 0 } }, {
		{ "cancel", "", "OK", 10, 10, 0, 0, 0, NULL },
		{ 0 } } };
	convs[i++] = (struct conv){ "simple-select", {
		sg(C, 10, M('Q', "SELECT *  FROM t\n WHERE id = 42\0"), E_),
		sg(S, 20, M('T', ROWDESC), M('D', ROW), M('D', ROW), E_),
		sg(S, 21, M('D', ROW), M('C', "SELECT 3\0"), Z_I, E_),
		{ 0 } }, {
		{ "SELECT", "SELECT * FROM t WHERE id = ?", "OK", 10, 10, 20, 21,
			0, "rows=3 tag=3 ext=0" },
		{ 0 } } };
	convs[i++] = (struct conv){ "multi-statement", {
		sg(C, 10, M('Q', "BEGIN; UPDATE t SET a = 'x' WHERE id = 7; "
			"COMMIT\0"), E_),
		sg(S, 20, M('C', "BEGIN\0"), M('C', "UPDATE 1\0"), E_),
		sg(S, 21, M('C', "COMMIT\0"), Z_I, E_),
		{ 0 } }, {
		{ "BEGIN", "BEGIN; UPDATE t SET a = ? WHERE id = ?; COMMIT",
			"OK", 10, 10, 20, 21, 0, "rows=0 notag" },
		{ 0 } } };
	convs[i++] = (struct conv){ "query-error", {
		sg(C, 10, M('Q', "select * from nope\0"), E_),
		sg(S, 20, M('E', ERR("42P01")), Z_I, E_),
		{ 0 } }, {
		{ "SELECT", "select * from nope", "42P01", 10, 10, 20, 20, 0,
			NULL },
		{ 0 } } };
	convs[i++] = (struct conv){ "extended", {
		sg(C, 10, M('P', "\0SELECT * FROM t WHERE id = $1\0\0\0"),
			M('B', BIND_UNNAMED), M('D', "P\0"), E_),
		sg(C, 11, M('E', EXEC_UNNAMED), M('S', ""), E_),
		sg(S, 20, M('1', ""), M('2', ""), M('T', ROWDESC), E_),
		sg(S, 21, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		{ 0 } }, {
		{ "SELECT", "SELECT * FROM t WHERE id = $1", "OK", 10, 11, 20,
			21, 0, "rows=1 tag=1 ext=1" },
		{ 0 } } };
	convs[i++] = (struct conv){ "two-executes", {
		sg(C, 10, M('P', "\0INSERT INTO t VALUES ($1)\0\0\0"),
			M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED), E_),
		sg(C, 11, M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED),
			M('S', ""), E_),
		sg(S, 20, M('1', ""), M('2', ""), M('C', "INSERT 0 1\0"), E_),
		sg(S, 30, M('2', ""), M('C', "INSERT 0 1\0"), Z_I, E_),
		{ 0 } }, {
		{ "INSERT", "INSERT INTO t VALUES ($1)", "OK", 10, 10, 20, 20,
			0, "tag=1" },
		{ "INSERT", "INSERT INTO t VALUES ($1)", "OK", 11, 11, 30, 30,
			0, "tag=1" },
		{ 0 } } };
	convs[i++] = (struct conv){ "pipelined", {
		sg(C, 10, M('P', "\0SELECT a FROM t1\0\0\0"),
			M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED), M('S', ""),
			E_),
		sg(C, 11, M('P', "\0SELECT b FROM t2\0\0\0"),
			M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED), M('S', ""),
			E_),
		sg(S, 20, M('1', ""), M('2', ""), M('D', ROW),
			M('C', "SELECT 1\0"), Z_I, E_),
		sg(S, 21, M('1', ""), M('2', ""), M('C', "SELECT 0\0"), Z_I,
			E_),
		{ 0 } }, {
		{ "SELECT", "SELECT a FROM t1", "OK", 10, 10, 20, 20, 0,
			"rows=1" },
		{ "SELECT", "SELECT b FROM t2", "OK", 11, 11, 21, 21, 0,
			"rows=0 tag=0" },
		{ 0 } } };
	convs[i++] = (struct conv){ "error-skips", {
		sg(C, 10, M('P', "\0UPDATE t SET a = $1\0\0\0"),
			M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED), E_),
		sg(C, 11, M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED),
			M('S', ""), E_),
		sg(S, 20, M('1', ""), M('2', ""), M('E', ERR("23505")), E_),
		sg(S, 21, Z_I, E_),
		sg(C, 30, M('Q', "SELECT 1\0"), E_),
		sg(S, 40, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		{ 0 } }, {
		{ "UPDATE", "UPDATE t SET a = $1", "23505", 10, 10, 20, 20, 0,
			NULL },
		{ "UPDATE", "UPDATE t SET a = $1", "skipped", 11, 11, 0, 0, 0,
			NULL },
		{ "SELECT", "SELECT ?", "OK", 30, 30, 40, 40, 0, "rows=1" },
		{ 0 } } };
	convs[i++] = (struct conv){ "named-reuse", {
		sg(C, 10, M('P', "s1\0SELECT v FROM kv WHERE k = $1\0\0\0"),
			M('S', ""), E_),
		sg(S, 20, M('1', ""), Z_I, E_),
		sg(C, 30, M('B', "\0s1\0" "\0\0" "\0\0" "\0\0"),
			M('E', EXEC_UNNAMED), M('S', ""), E_),
		sg(S, 40, M('2', ""), M('D', ROW), M('C', "SELECT 1\0"), Z_I,
			E_),
		{ 0 } }, {
		{ "PREPARE", "SELECT v FROM kv WHERE k = $1", "OK", 10, 10, 20,
			20, 0, "stmt=s1 ext=1" },
		{ "SELECT", "SELECT v FROM kv WHERE k = $1", "OK", 30, 30, 40,
			40, 0, "stmt=s1 rows=1" },
		{ 0 } } };
	convs[i++] = (struct conv){ "notice-notify", {
		sg(C, 10, M('Q', "LISTEN c\0"), E_),
		sg(S, 20, M('C', "LISTEN\0"), Z_I, E_),
		sg(S, 25, M('A', "\0\0\0\x09" "c\0" "hello\0"), E_),
		sg(C, 30, M('Q', "DO $$BEGIN RAISE NOTICE 'x'; END$$\0"), E_),
		sg(S, 40, M('N', "SNOTICE\0C00000\0Mx\0\0"), E_),
		sg(S, 41, M('C', "DO\0"), Z_I, E_),
		{ 0 } }, {
		{ "LISTEN", "LISTEN c", "OK", 10, 10, 20, 20, 0, NULL },
		{ "DO", "DO ?", "OK", 30, 30, 41, 41, 0, NULL },
		{ 0 } }, 0, 0, 2 };
	convs[i++] = (struct conv){ "copy-in", {
		sg(C, 10, M('Q', "COPY t FROM STDIN\0"), E_),
		sg(S, 20, M('G', COPY_FMT), E_),
		sg(C, 30, M('d', "1\tx\n"), M('d', "2\ty\n"), E_),
		sg(C, 31, M('c', ""), E_),
		sg(S, 40, M('C', "COPY 2\0"), Z_I, E_),
		{ 0 } }, {
		{ "COPY", "COPY t FROM STDIN", "OK", 10, 31, 20, 40, 0,
			"tag=2" },
		{ 0 } } };
	convs[i++] = (struct conv){ "copy-out", {
		sg(C, 10, M('Q', "COPY t TO STDOUT\0"), E_),
		sg(S, 20, M('H', COPY_FMT), E_),
		sg(S, 21, M('d', "1\tx\n"), M('d', "2\ty\n"), M('c', ""),
			M('C', "COPY 2\0"), Z_I, E_),
		{ 0 } }, {
		{ "COPY", "COPY t TO STDOUT", "OK", 10, 10, 20, 21, 0,
			"tag=2 rows=0" },
		{ 0 } } };
	convs[i++] = (struct conv){ "function-call-terminate", {
		sg(C, 10, M('F', "\0\0\x04\xd2" "\0\0" "\0\0" "\0\0"), E_),
		sg(S, 20, M('V', "\xff\xff\xff\xff"), Z_I, E_),
		sg(C, 30, M('X', ""), E_),
		{ 0 } }, {
		{ "FUNCTION_CALL", "", "OK", 10, 10, 20, 20, 0, NULL },
		{ 0 } }, 0, 0, 1 };
	convs[i++] = (struct conv){ "mid-stream", {
		sg(S, 5, M('D', ROW), M('C', "SELECT 7\0"), Z_I, E_),
		sg(C, 10, M('Q', "SELECT 2\0"), E_),
		sg(S, 20, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		{ 0 } }, {
		/* An answer to a query the tap did not see: its status. */
		{ "", "", "OK", 0, 0, 5, 5, WL_TXN_F_NO_REQUEST, NULL },
		{ "SELECT", "SELECT ?", "OK", 10, 10, 20, 20, 0, "rows=1" },
		{ 0 } } };
	convs[i++] = (struct conv){ "gap-in-response", {
		sg(C, 10, M('Q', "SELECT * FROM big\0"), E_),
		sg(S, 20, M('T', ROWDESC), M('D', ROW), E_),
		gap_s2c,
		sg(S, 30, M(RAW, "xyz\0\0\0"), M('D', ROW),
			M('C', "SELECT 900\0"), Z_I, E_),
		sg(C, 40, M('Q', "SELECT 1\0"), E_),
		sg(S, 50, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		{ 0 } }, {
		/* Its answer keeps its start; its status is not known (an
		 * error may have been lost). */
		{ "SELECT", "SELECT * FROM big", "", 10, 10, 20, 0,
			WL_TXN_F_GAP, NULL },
		{ "SELECT", "SELECT ?", "OK", 40, 40, 50, 50, 0, "rows=1" },
		{ 0 } } };
	convs[i++] = (struct conv){ "gap-in-request", {
		sg(C, 10, M('P', "\0SELECT a FROM t\0\0\0"),
			M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED), E_),
		{ -1, 0, NULL, 5, 0 },
		sg(C, 11, M(RAW, "\0\0"), M('Q', "SELECT 1\0"), E_),
		sg(S, 30, M('1', ""), M('2', ""), M('C', "SELECT 0\0"), Z_I,
			E_),
		sg(S, 31, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		sg(C, 40, M('Q', "SELECT 2\0"), E_),
		sg(S, 50, M('C', "SELECT 0\0"), Z_I, E_),
		{ 0 } }, {
		/* Lost inside a group (its Sync?): how many units the lost
		 * bytes held cannot be counted, pairing is given up. The
		 * first answer was sent before the server had the next
		 * query (its ACK): it answers an earlier request. */
		{ "SELECT", "SELECT a FROM t", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_UNPAIRED, "ext=1" },
		{ "", "", "OK", 0, 0, 30, 30,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_GAP, "tag=0" },
		{ "", "", "OK", 0, 0, 31, 31,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_UNPAIRED, "rows=1" },
		{ "", "", "OK", 0, 0, 50, 50,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_UNPAIRED, NULL },
		{ "SELECT", "SELECT ?", "no_response", 11, 11, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_UNPAIRED, NULL },
		{ "SELECT", "SELECT ?", "no_response", 40, 40, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_UNPAIRED, "ext=0" },
		{ 0 } } };
	/* The ErrorResponse is final: the capture's end before its
	 * ReadyForQuery leaves the SQLSTATE and first byte known. */
	convs[i++] = (struct conv){ "error-then-end", {
		sg(C, 10, M('Q', "SELECT * FROM nope\0"), E_),
		sg(S, 20, M('E', ERR("42P01")), E_),
		{ 0 } }, {
		{ "SELECT", "SELECT * FROM nope", "42P01", 10, 10, 20, 0,
			WL_TXN_F_TRUNCATED | WL_TXN_F_END_OF_CAPTURE, NULL },
		{ 0 } }, WL_TXN_F_END_OF_CAPTURE };
	/* ... and so does a loss of the rest of the answer. */
	convs[i++] = (struct conv){ "error-then-gap", {
		sg(C, 10, M('Q', "SELECT * FROM nope\0"), E_),
		sg(S, 20, M('E', ERR("42P01")), E_),
		gap_s2c,
		sg(S, 30, Z_I, E_),
		sg(C, 40, M('Q', "SELECT 1\0"), E_),
		sg(S, 50, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		{ 0 } }, {
		{ "SELECT", "SELECT * FROM nope", "42P01", 10, 10, 20, 0,
			WL_TXN_F_GAP, NULL },
		{ "SELECT", "SELECT ?", "OK", 40, 40, 50, 50, 0, "rows=1" },
		{ 0 } } };
	convs[i++] = (struct conv){ "unanswered", {
		sg(C, 10, M('Q', "SELECT pg_sleep(100)\0"), E_),
		{ 0 } }, {
		{ "SELECT", "SELECT pg_sleep(?)", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_TIMEOUT, NULL },
		{ 0 } }, WL_TXN_F_TIMEOUT };
	/* A whole answer lost between two queries: the parser finds its
	 * way again at the next ReadyForQuery, so the next answer is lost
	 * to it too; a clean close counts them: both queries' answers were
	 * in the lost region. */
	convs[i++] = (struct conv){ "lost-answer", {
		sg(C, 10, M('Q', "SELECT 1\0"), E_),
		sg(S, 20, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		sg(C, 30, M('Q', "SELECT 2\0"), E_),
		{ -1, 1, NULL, 30, 0 },
		sg(C, 40, M('Q', "SELECT 3\0"), E_),
		sg(S, 50, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		sg(C, 60, M('Q', "SELECT 4\0"), E_),
		sg(S, 70, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		{ 0 } }, {
		{ "SELECT", "SELECT ?", "OK", 10, 10, 20, 20, 0, "rows=1" },
		{ "SELECT", "SELECT ?", "no_response", 30, 30, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_GAP, NULL },
		{ "SELECT", "SELECT ?", "no_response", 40, 40, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_GAP, NULL },
		{ "SELECT", "SELECT ?", "OK", 60, 60, 70, 70, 0, "rows=1" },
		{ 0 } }, .clean = 1 };
	/* Bytes lost inside a DataRow only cost bytes. */
	convs[i++] = (struct conv){ "gap-inside-row", {
		sg(C, 10, M('Q', "SELECT v FROM big\0"), E_),
		sg(S, 20, M('T', ROWDESC), M(RAW, "D\0\0\x03\xe8" "\0\x01"
			"\0\0\x03\xde" X100), E_),
		{ -1, 1, NULL, 500, 0 },
		sg(S, 30, M(RAW, X100 X100 X100 X10 X10 X10 X10 X10 X10 X10
			X10 X10), M('C', "SELECT 1\0"), Z_I, E_),
		{ 0 } }, {
		{ "SELECT", "SELECT v FROM big", "OK", 10, 10, 20, 30,
			WL_TXN_F_GAP, "rows=1" },
		{ 0 } } };
	/* Flush: the Execute is answered before its Sync is sent; the
	 * group's ReadyForQuery then answers nothing. */
	convs[i++] = (struct conv){ "flush-before-sync", {
		sg(C, 10, M('P', "\0SELECT a FROM t\0\0\0"),
			M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED), M('H', ""),
			E_),
		sg(S, 20, M('1', ""), M('2', ""), M('C', "SELECT 0\0"), E_),
		sg(C, 30, M('S', ""), E_),
		sg(S, 40, Z_I, E_),
		sg(C, 50, M('Q', "SELECT 1\0"), E_),
		sg(S, 60, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		{ 0 } }, {
		{ "SELECT", "SELECT a FROM t", "OK", 10, 30, 20, 20, 0,
			"tag=0" },
		{ "SELECT", "SELECT ?", "OK", 50, 50, 60, 60, 0, "rows=1" },
		{ 0 } }, .messages = 1 };
	/* A group lost whole between groups: the one after the loss might
	 * be the rest of one begun in it, so it joins the lost region; the
	 * two answers sent before the next group was had (their ACKs)
	 * answer those; which holds the next group's answer, the clean
	 * close counts. */
	convs[i++] = (struct conv){ "lost-group", {
		sg(C, 10, M('P', "\0SELECT a FROM t\0\0\0"),
			M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED), M('S', ""),
			E_),
		sg(S, 20, M('1', ""), M('2', ""), M('C', "SELECT 0\0"), Z_I,
			E_),
		{ -1, 0, NULL, 40, 0 },
		sg(C, 30, M('P', "\0SELECT b FROM t\0\0\0"),
			M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED), M('S', ""),
			E_),
		sg(S, 40, M('1', ""), M('2', ""), M('C', "SELECT 0\0"), Z_I,
			E_),
		sg(S, 41, M('1', ""), M('2', ""), M('C', "SELECT 0\0"), Z_I,
			E_),
		sg(C, 50, M('P', "\0SELECT c FROM t\0\0\0"),
			M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED), M('S', ""),
			E_),
		sg(S, 60, M('1', ""), M('2', ""), M('C', "SELECT 0\0"), Z_I,
			E_),
		{ 0 } }, {
		{ "SELECT", "SELECT a FROM t", "OK", 10, 10, 20, 20, 0,
			"ext=1" },
		{ "", "", "OK", 0, 0, 40, 40,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_GAP, "tag=0" },
		{ "", "", "OK", 0, 0, 41, 41,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_GAP, "tag=0" },
		{ "SELECT", "SELECT c FROM t", "OK", 50, 50, 60, 60, 0,
			"ext=1" },
		{ 0 } }, .clean = 1 };
	/* Two losses with only part of a group between them: one lost
	 * region, whose count the clean close settles. */
	convs[i++] = (struct conv){ "two-gaps-one-region", {
		sg(C, 10, M('Q', "SELECT 1\0"), E_),
		sg(S, 20, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		{ -1, 0, NULL, 40, 0 },
		sg(C, 30, M('B', BIND_UNNAMED), M('E', EXEC_UNNAMED), E_),
		{ -1, 0, NULL, 20, 0 },
		sg(C, 31, M('S', ""), E_),
		sg(C, 40, M('Q', "SELECT 4\0"), E_),
		sg(S, 50, M('1', ""), M('2', ""), M('C', "SELECT 0\0"), Z_I,
			E_),
		sg(S, 51, M('2', ""), M('C', "SELECT 0\0"), Z_I, E_),
		sg(S, 60, M('D', ROW), M('C', "SELECT 1\0"), Z_I, E_),
		{ 0 } }, {
		{ "SELECT", "SELECT ?", "OK", 10, 10, 20, 20, 0, "rows=1" },
		{ "", "", "OK", 0, 0, 50, 50,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_GAP, "tag=0" },
		{ "", "", "OK", 0, 0, 51, 51,
			WL_TXN_F_NO_REQUEST | WL_TXN_F_GAP, "tag=0" },
		{ "SELECT", "SELECT ?", "OK", 40, 40, 60, 60, 0, "rows=1" },
		{ 0 } }, .clean = 1 };
	nconvs = i;
	assert_true(nconvs <= WL_ARRAY_SIZE(convs));
}

/* "rows=3 tag=3 notag user=bob stmt=s1 ext=1" against the proto area. */
static void
pg_extra(const struct conv *cv)
{
	unsigned int i;

	for (i = 0; i < ngot && cv->want[i].method != NULL; i++) {
		const struct wl_pg_txn *x = wl_txn_area_c(&got[i]);
		char buf[128], *tok, *save = NULL;

		if (cv->want[i].extra == NULL)
			continue;
		wl_strlcpy(buf, cv->want[i].extra, sizeof(buf));
		for (tok = strtok_r(buf, " ", &save); tok != NULL;
				tok = strtok_r(NULL, " ", &save)) {
			if (strncmp(tok, "rows=", 5) == 0)
				assert_int_equal(x->rows, atoi(tok + 5));
			else if (strncmp(tok, "tag=", 4) == 0) {
				assert_true(x->has_tag);
				assert_int_equal(x->tag_rows, atoi(tok + 4));
			} else if (strcmp(tok, "notag") == 0)
				assert_false(x->has_tag);
			else if (strncmp(tok, "user=", 5) == 0)
				assert_string_equal(wl_txn_str(&got[i],
					WL_PG_S_USER), tok + 5);
			else if (strncmp(tok, "stmt=", 5) == 0)
				assert_string_equal(wl_txn_str(&got[i],
					WL_PG_S_STMT), tok + 5);
			else if (strncmp(tok, "ext=", 4) == 0)
				assert_int_equal(x->extended, atoi(tok + 4));
			else
				fail_msg("%s: bad extra %s", cv->name, tok);
		}
	}
}

static void
test_conversations(void **state)
{
	(void)state;
	conv_proto = WL_PROTO_POSTGRESQL;
	build();
	conv_all(convs, nconvs, pg_extra);
}

static void
test_counters(void **state)
{
	(void)state;
	conv_proto = WL_PROTO_POSTGRESQL;
	build();
	/* mid-stream: the first answer had no request. */
	conv_run(&convs[18], 0, 0, 0);
	assert_string_equal(convs[18].name, "mid-stream");
	assert_int_equal(ctr[WL_PROTO_CTR_UNMATCHED_RSP], 1);
	assert_int_equal(ctr[WL_PROTO_CTR_REQUESTS], 1);
	assert_int_equal(ctr[WL_PROTO_CTR_RESPONSES], 2);
	conv_run(&convs[19], 0, 0, 0);
	assert_string_equal(convs[19].name, "gap-in-response");
	assert_int_equal(ctr[WL_PROTO_CTR_RESYNCS], 1);
	/* The first answer's end was lost, not the answer. */
	assert_int_equal(ctr[WL_PROTO_CTR_UNMATCHED_REQ], 0);
	assert_int_equal(ctr[WL_PROTO_CTR_RESPONSES], 2);
}

static void
norm(const char *in, const char *want, int cut, uint32_t size)
{
	char out[WL_TXN_RESOURCE_LEN], verb[WL_TXN_METHOD_LEN];

	assert_true(size <= sizeof(out));
	assert_int_equal(wl_sql_normalize(in, (uint32_t)strlen(in),
		WL_SQL_POSTGRESQL, out, size, verb, sizeof(verb)), cut);
	assert_string_equal(out, want);
}

static void
test_normalize(void **state)
{
	char v[16], o[64];

	(void)state;
	norm("SELECT * FROM t WHERE id = 42", "SELECT * FROM t WHERE id = ?",
		0, 128);
	norm("  select\n\t a,b  from t1 where x='it''s' and y=-3.5e10 ",
		"select a,b from t1 where x=? and y=-?", 0, 128);
	norm("/* hi */ INSERT INTO t VALUES ($1, 'x', E'a\\'b', 0x1f) -- c\n",
		"INSERT INTO t VALUES ($1, ?, ?, ?)", 0, 128);
	norm("SELECT $tag$ a 'b' $tag$, $$x$$, \"Col 1\" FROM t2",
		"SELECT ?, ?, \"Col 1\" FROM t2", 0, 128);
	norm("SELECT col1 FROM table_2", "SELECT col1 FROM table_2", 0, 128);
	norm("SELECT 1, 2, 3", "SELECT ?, ?,", 1, 13);
	norm("", "", 0, 128);
	wl_sql_normalize(" -- x\n /* y */ (select 1)", 25, WL_SQL_POSTGRESQL,
		o, sizeof(o), v, sizeof(v));
	assert_string_equal(v, "SELECT");
	wl_sql_normalize("with x as (select 1) select * from x", 36,
		WL_SQL_POSTGRESQL, o, sizeof(o), v, sizeof(v));
	assert_string_equal(v, "WITH");
	wl_sql_normalize("   ", 3, WL_SQL_POSTGRESQL, o, sizeof(o), v,
		sizeof(v));
	assert_string_equal(v, "");
	/* Not ASCII: one '?' per run, whatever the encoding. */
	norm("SELECT * FROM caf\xc3\xa9 WHERE x = 1",
		"SELECT * FROM caf? WHERE x = ?", 0, 128);
}

static enum wl_probe
probe(const char *d, uint32_t len, enum wl_dir dir)
{
	return wl_protos[WL_PROTO_POSTGRESQL]->probe((const uint8_t *)d, len,
		dir);
}

#define P(lit, dir) probe(lit, sizeof(lit) - 1, dir)

static void
test_probe(void **state)
{
	(void)state;
	/* Startup phase. */
	assert_int_equal(P("\0\0\0\x08" SSLREQ, C), WL_PROBE_YES);
	assert_int_equal(P("\0\0\0\x20" STARTUP, C), WL_PROBE_YES);
	assert_int_equal(P("\0\0\0\x20" "\x00\x03\x00\x00" "user", C),
		WL_PROBE_MAYBE);
	assert_int_equal(P("\0\0\0\x10" CANCEL, C), WL_PROBE_YES);
	assert_int_equal(P("\0\0", C), WL_PROBE_MAYBE);
	assert_int_equal(P("\0\0\0\x08" "\x04\xd2\x16\x31", C), WL_PROBE_NO);
	/* Typed, client. */
	assert_int_equal(P("Q\0\0\0\x0d" "SELECT 1\0", C), WL_PROBE_YES);
	assert_int_equal(P("Q\0\0\0\x0d" "SELE", C), WL_PROBE_MAYBE);
	assert_int_equal(P("Q\0\0\0\x0d" "SELECT 1X", C), WL_PROBE_NO);
	assert_int_equal(P("P\0\0\0\x10" "\0SELECT 1\0\0\0" "S\0\0\0\x04", C),
		WL_PROBE_YES);
	assert_int_equal(P("B\0\0\0\x0c" BIND_UNNAMED "E\0\0\0\x09"
		EXEC_UNNAMED "S\0\0\0\x04", C), WL_PROBE_YES);
	assert_int_equal(P("Q", C), WL_PROBE_MAYBE);
	/* Other protocols. */
	assert_int_equal(P("GET / HTTP/1.1\r\nHost: x\r\n\r\n", C),
		WL_PROBE_NO);
	assert_int_equal(P("*1\r\n$4\r\nPING\r\n", C), WL_PROBE_NO);
	assert_int_equal(P("get k\r\n", C), WL_PROBE_NO);
	assert_int_equal(P("PING\r\n", C), WL_PROBE_NO);
	assert_int_equal(P("QUIT\r\n", C), WL_PROBE_NO);
	assert_int_equal(P("\x4a\x00\x00\x00\x0a" "5.5.5-10.11.6-MariaDB\0"
		"\x08\0\0\0", S), WL_PROBE_NO);
	assert_int_equal(P("\x4a\x00\x00\x00\x0a" "5.5.5-10.11.6-MariaDB\0",
		C), WL_PROBE_NO);
	assert_int_equal(P("HTTP/1.1 200 OK\r\n\r\n", S), WL_PROBE_NO);
	assert_int_equal(P("+PONG\r\n", S), WL_PROBE_NO);
	assert_int_equal(P("STORED\r\n", S), WL_PROBE_NO);
	assert_int_equal(P("\x00\x1d\x12\x34\x01\x00\x00\x01", C),
		WL_PROBE_NO);   /* DNS over TCP */
	/* Server. */
	assert_int_equal(P("R\0\0\0\x08" AUTH_OK, S), WL_PROBE_YES);
	assert_int_equal(P("R\0\0\0\x0c" AUTH_MD5, S), WL_PROBE_YES);
	assert_int_equal(P("R\0\0\0\x0c" "\0\0\0\x05", S), WL_PROBE_MAYBE);
	assert_int_equal(P("R\0\0\0\x08" "\0\0\0\x63", S), WL_PROBE_NO);
	assert_int_equal(P("N", S), WL_PROBE_MAYBE);
	assert_int_equal(P("NR\0\0\0\x08" AUTH_OK, S), WL_PROBE_YES);
	assert_int_equal(P("NOTICE: x\r\n", S), WL_PROBE_NO);
	assert_int_equal(P("C\0\0\0\x0d" "SELECT 1\0" "Z\0\0\0\x05" "I", S),
		WL_PROBE_YES);
	assert_int_equal(P("Z\0\0\0\x05" "X", S), WL_PROBE_NO);
	assert_int_equal(P("E\0\0\0\x1d" ERR("42P01"), S), WL_PROBE_NO);
	assert_int_equal(P("E\0\0\0\x20" ERR("42P01"), S), WL_PROBE_YES);
	assert_int_equal(P("D\0\0\0\x0b" ROW, S), WL_PROBE_YES);
	assert_int_equal(P("1\0\0\0\x04", S), WL_PROBE_MAYBE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_conversations),
		cmocka_unit_test(test_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
