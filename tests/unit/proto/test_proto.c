/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The protocol registry (the X-macro list is the only place a protocol
 * is registered) and the transaction JSON every protocol shares: the
 * field names of docs/output.md are a contract.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/wl_tcp.h"
#include "wl_export.h"
#include "wl_proto.h"
#include "wl_time.h"

static void
test_registry(void **state)
{
	const char *bad = "x";
	unsigned int i;

	(void)state;
	assert_int_equal(wl_proto_check(&bad), 0);
	assert_null(bad);
	assert_true(WL_PROTO_MAX >= 1);
	for (i = 0; i < WL_PROTO_MAX; i++) {
		assert_non_null(wl_protos[i]);
		assert_int_equal(wl_proto_by_name(wl_proto_name(i)), (int)i);
	}
	assert_string_equal(wl_proto_name(WL_PROTO_TCP), "tcp");
	assert_int_equal(wl_proto_by_name("gopher"), -ENOENT);
}

static void
test_txn_json(void **state)
{
	static const uint8_t c4[4] = { 10, 1, 0, 5 }, s4[4] = { 10, 0, 0, 1 };
	static const char *const contract[] = {
		"proto", "client_ip", "client_port", "server_ip", "server_port",
		"method", "resource", "status", "status_class", "req_start_ns",
		"req_end_ns", "rsp_start_ns", "rsp_end_ns", "duration_ns",
		"ttfb_ns", "req_bytes", "rsp_bytes", "flags", "ts_source",
	};
	struct wl_tcp_txn *x;
	struct wl_txn t;
	json_t *j, *fl;
	unsigned int i;

	(void)state;
	wl_txn_reset(&t, sizeof(*x));
	wl_addr_from_v4(&t.cli, c4);
	wl_addr_from_v4(&t.srv, s4);
	t.cli_port = 30001;
	t.srv_port = 80;
	t.proto = WL_PROTO_TCP;
	t.ts_source = WL_TS_PCAP;
	t.status_class = WL_SC_OK;
	t.flags = WL_TXN_F_GAP | WL_TXN_F_END_OF_CAPTURE;
	wl_txn_set_method(&t, "handshake");
	wl_txn_set_status(&t, "established");
	t.req_start_ns = 1700000000000000001ULL;
	t.req_end_ns = t.req_start_ns;
	t.rsp_start_ns = t.req_start_ns + 250;
	t.rsp_end_ns = t.rsp_start_ns;
	x = wl_txn_area(&t);
	x->client_rtt_ns = 77;
	x->syn_retrans = 2;

	j = wl_export_txn_json(&t);
	assert_non_null(j);
	for (i = 0; i < sizeof(contract) / sizeof(contract[0]); i++)
		if (json_object_get(j, contract[i]) == NULL)
			fail_msg("field %s missing", contract[i]);
	assert_string_equal(json_string_value(json_object_get(j, "client_ip")),
		"10.1.0.5");
	/* Full 64-bit ns, not a double. */
	assert_true(json_integer_value(json_object_get(j, "req_start_ns")) ==
		(json_int_t)1700000000000000001LL);
	assert_int_equal(json_integer_value(json_object_get(j, "duration_ns")),
		250);
	assert_string_equal(json_string_value(json_object_get(j, "ts_source")),
		"pcap");
	assert_null(json_object_get(j, "vlan"));        /* only when tagged */
	fl = json_object_get(j, "flags");
	assert_int_equal(json_array_size(fl), 2);
	assert_string_equal(json_string_value(json_array_get(fl, 0)), "gap");
	/* The protocol's own fields come from its txn_write callback. */
	assert_int_equal(json_integer_value(json_object_get(j,
		"client_rtt_ns")), 77);
	assert_int_equal(json_integer_value(json_object_get(j, "syn_retrans")),
		2);
	json_decref(j);

	t.vlan = 100;
	x->client_rtt_ns = 0;
	j = wl_export_txn_json(&t);
	assert_int_equal(json_integer_value(json_object_get(j, "vlan")), 100);
	assert_null(json_object_get(j, "client_rtt_ns"));  /* ACK not seen */
	json_decref(j);

	/* Wire text that is not UTF-8 (here a sequence cut in two) keeps
	 * its field, the odd bytes as '?'; UTF-8 stays as it is. */
	wl_txn_set_resource(&t, "/caf\xc3");
	wl_txn_set_method(&t, "G\xc3\xa9T");
	j = wl_export_txn_json(&t);
	assert_string_equal(json_string_value(json_object_get(j, "resource")),
		"/caf?");
	assert_string_equal(json_string_value(json_object_get(j, "method")),
		"G\xc3\xa9T");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_txn_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
