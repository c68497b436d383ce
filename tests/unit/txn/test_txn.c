/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wl_txn.h"

static void
test_addr_format(void **state)
{
	static const uint8_t v4[4] = { 192, 0, 2, 33 };
	static const char *const v6[] = {
		"2001:db8::1", "::1", "fe80::1:2:3:4", "2a03:2880:1010:3f20:face:b00c:0:25de",
	};
	struct wl_addr a;
	char buf[64];
	unsigned int i;

	(void)state;
	wl_addr_from_v4(&a, v4);
	assert_true(wl_addr_is_v4(&a));
	wl_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.33");
	/* IPv6 in RFC 5952 form: no "::" for a single zero group. */
	for (i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, v6[i], a.a), 1);
		assert_false(wl_addr_is_v4(&a));
		wl_addr_format(&a, buf, sizeof(buf));
		assert_string_equal(buf, v6[i]);
	}
}

static void
test_names(void **state)
{
	static const char *const sc[] = { "ok", "client_error",
		"server_error", "error" };
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_string_equal(wl_status_class_name(i), sc[i]);
	assert_string_equal(wl_txn_flag_name(0), "no_response");
	for (i = 0; wl_txn_flag_name(i) != NULL; i++)
		assert_true(strlen(wl_txn_flag_name(i)) > 0);
	assert_int_equal(i, WL_TXN_F_BIT_MAX);
}

static void
test_durations(void **state)
{
	struct wl_txn t;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.req_start_ns = 1000;
	t.req_end_ns = 1500;
	assert_int_equal(wl_txn_duration(&t), 0);       /* no response */
	assert_int_equal(wl_txn_ttfb(&t), 0);
	t.rsp_start_ns = 1700;
	t.rsp_end_ns = 2600;
	assert_int_equal(wl_txn_duration(&t), 1600);
	assert_int_equal(wl_txn_ttfb(&t), 200);
	/* Timestamps going backwards (merged captures) never wrap. */
	t.rsp_start_ns = 1400;
	t.rsp_end_ns = 900;
	assert_int_equal(wl_txn_duration(&t), 0);
	assert_int_equal(wl_txn_ttfb(&t), 0);
	assert_int_equal(sizeof(struct wl_txn), WL_TXN_SIZE);
}

/* Every text of a record, compared with what it should say. */
static void
texts_are(const struct wl_txn *t, const char *const want[WL_TXN_S_MAX])
{
	unsigned int k, n = WL_TXN_FIXED + t->area_q * 8u;

	assert_int_equal(wl_txn_check(t), 0);
	for (k = 0; k < WL_TXN_S_MAX; k++) {
		assert_string_equal(wl_txn_str(t, k), want[k]);
		assert_int_equal(t->slen[k], strlen(want[k]));
		n += want[k][0] != '\0' ? strlen(want[k]) + 1 : 0;
	}
	assert_int_equal(wl_txn_size(t), n);
}

/*
 * The texts of a compact record: set in any order, replaced by longer
 * and shorter ones, they stay packed after the area in the order of
 * enum wl_txn_str, and a copy of wl_txn_size() bytes is the record.
 */
static void
test_texts(void **state)
{
	const char *want[WL_TXN_S_MAX] = { "", "", "", "", "", "" };
	static char big[400];
	struct wl_txn t, u;
	uint64_t *area;

	(void)state;
	memset(&t, 0xa5, sizeof(t));
	wl_txn_reset(&t, 12);
	assert_int_equal(t.area_q, 2);
	area = wl_txn_area(&t);
	assert_true(area[0] == 0 && area[1] == 0);
	texts_are(&t, want);
	assert_int_equal(wl_txn_size(&t), WL_TXN_FIXED + 16);
	/* Response first, then request: later texts move. */
	wl_txn_set_status(&t, "OK");
	want[WL_TXN_S_STATUS] = "OK";
	texts_are(&t, want);
	wl_txn_str_set(&t, WL_TXN_S_PROTO2, "ERR wrong", 64);
	want[WL_TXN_S_PROTO2] = "ERR wrong";
	wl_txn_set_method(&t, "GET");
	want[WL_TXN_S_METHOD] = "GET";
	wl_txn_set_resource(&t, "key:1");
	want[WL_TXN_S_RESOURCE] = "key:1";
	texts_are(&t, want);
	/* Replaced: longer, shorter, emptied. */
	wl_txn_set_method(&t, "CLIENT TRACKING");
	want[WL_TXN_S_METHOD] = "CLIENT TRACKING";
	texts_are(&t, want);
	wl_txn_set_resource(&t, "k");
	want[WL_TXN_S_RESOURCE] = "k";
	texts_are(&t, want);
	wl_txn_set_status(&t, "");
	want[WL_TXN_S_STATUS] = "";
	texts_are(&t, want);
	/* Cut as wl_strlcpy() into the old char arrays was. */
	wl_txn_set_status(&t, "0123456789abcdefXYZ");
	want[WL_TXN_S_STATUS] = "0123456789abcde";
	texts_are(&t, want);
	wl_txn_str_setn(&t, WL_TXN_S_PROTO0, "ab\0cd", 5);
	want[WL_TXN_S_PROTO0] = "ab";
	texts_are(&t, want);
	/* From a text of the same record, which moves. */
	wl_txn_str_setn(&t, WL_TXN_S_PROTO1, wl_txn_str(&t, WL_TXN_S_PROTO2),
		t.slen[WL_TXN_S_PROTO2]);
	want[WL_TXN_S_PROTO1] = "ERR wrong";
	texts_are(&t, want);
	/* The last text, shortened from itself. */
	wl_txn_str_setn(&t, WL_TXN_S_PROTO2, wl_txn_str(&t, WL_TXN_S_PROTO2), 3);
	want[WL_TXN_S_PROTO2] = "ERR";
	texts_are(&t, want);
	/* From another record. */
	memset(&u, 0, sizeof(u));
	wl_txn_reset(&u, 0);
	wl_txn_str_copy(&u, &t, WL_TXN_S_STATUS);
	assert_string_equal(wl_txn_status(&u), want[WL_TXN_S_STATUS]);
	assert_int_equal(wl_txn_size(&u), WL_TXN_FIXED + 16);
	/* The copy: its size, and the same texts. */
	memset(&u, 0, sizeof(u));
	wl_txn_copy(&u, &t);
	texts_are(&u, want);
	assert_memory_equal(&u, &t, wl_txn_size(&t));
	/* Never past the room, however long the texts. */
	memset(big, 'x', sizeof(big) - 1);
	wl_txn_str_set(&t, WL_TXN_S_PROTO0, big, sizeof(big));
	assert_int_equal(t.slen[WL_TXN_S_PROTO0], WL_TXN_STR_MAX);
	wl_txn_str_set(&t, WL_TXN_S_PROTO2, big, sizeof(big));
	assert_int_equal(wl_txn_check(&t), 0);
	assert_true(wl_txn_size(&t) <= WL_TXN_SIZE);
	assert_string_equal(wl_txn_method(&t), "CLIENT TRACKING");
	assert_string_equal(wl_txn_str(&t, WL_TXN_S_PROTO1), "ERR wrong");
	/* A broken record is seen as such. */
	t.slen[WL_TXN_S_METHOD]++;
	assert_int_equal(wl_txn_check(&t), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_format),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
