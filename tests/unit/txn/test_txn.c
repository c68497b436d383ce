/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
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
	assert_int_equal(sizeof(struct wl_txn), 512);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_format),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
