/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bucket conversion: le and vmrange edges as docs/export.md states
 * them (a hist bucket counted at its upper edge, the max's bucket ending
 * at the exact max), VictoriaMetrics' range labels, and a whole series
 * written through the shm writer API and read back by the model.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wl_export_model.h"
#include "wl_export_prom.h"
#include "wl_hist.h"
#include "wl_shm.h"

static const double le_s[] = {0.001, 0.01, 1};
static const double le_b[] = {1024, 4096};
static const double le_c[] = {1, 2, 4};

static struct wl_exp_model *
model(const char *inst, unsigned int buckets)
{
	struct wl_exp_opts o = {
		.buckets = buckets,
		.le = {le_s, le_b, le_c},
		.n_le = {3, 2, 3},
		.stale_ns = 10ull * 1000000000ull,
	};
	const char *names[] = {inst};

	return wl_exp_model_create(&o, names, 1);
}

static void
test_le_edges(void **state)
{
	struct wl_exp_model *m = model("edges", WL_EXP_BUCKETS_LE);
	unsigned int i;

	(void)state;
	assert_non_null(m);
	/* Every hist bucket: counted in the first bound >= its upper edge. */
	for (i = 0; i < WL_HIST_BUCKETS; i++) {
		uint64_t hi = wl_hist_bucket_high(i);
		unsigned int k = wl_exp_le_index(m, 0, i);

		if (k < 3)
			assert_true(hi <= (uint64_t)(le_s[k] * 1e9));
		if (k > 0)
			assert_true(hi > (uint64_t)(le_s[k - 1] * 1e9));
	}
	/* Exact below 256: a count of 2 is in le="2", 3 in le="4". */
	assert_int_equal(wl_exp_le_index(m, 2, 2), 1);
	assert_int_equal(wl_exp_le_index(m, 2, 3), 2);
	assert_int_equal(wl_exp_le_index(m, 2, 200), 3);       /* +Inf */
	/* 1 ms: the bucket holding 1,000,000 ns straddles the bound. */
	assert_true(wl_hist_bucket_high(wl_hist_index(1000000)) > 1000000);
	assert_int_equal(wl_exp_le_index(m, 0, wl_hist_index(1000000)), 1);
	assert_int_equal(wl_exp_le_index(m, 0, wl_hist_index(990000)), 0);
	assert_string_equal(wl_exp_le_label(m, 0, 0), "0.001");
	assert_string_equal(wl_exp_le_label(m, 0, 2), "1");
	assert_string_equal(wl_exp_le_label(m, 0, 3), "+Inf");
	assert_string_equal(wl_exp_le_label(m, 1, 0), "1024");
	wl_exp_model_free(m);
}

static void
test_vmrange(void **state)
{
	(void)state;
	assert_string_equal(wl_exp_vm_range(0), "0...1.000e-09");
	assert_string_equal(wl_exp_vm_range(1), "1.000e-09...1.136e-09");
	assert_string_equal(wl_exp_vm_range(WL_EXP_VM_BUCKETS - 1),
		"1.000e+18...+Inf");
	assert_null(wl_exp_vm_range(WL_EXP_VM_BUCKETS));
	assert_int_equal(wl_exp_vm_index(0), 0);
	assert_int_equal(wl_exp_vm_index(5e-10), 0);
	assert_int_equal(wl_exp_vm_index(1e-9), 1);
	/* A power of ten ends the range below it (le semantics). */
	assert_string_equal(wl_exp_vm_range(wl_exp_vm_index(1e-3)),
		"8.799e-04...1.000e-03");
	assert_string_equal(wl_exp_vm_range(wl_exp_vm_index(1.001e-3)),
		"1.000e-03...1.136e-03");
	assert_string_equal(wl_exp_vm_range(wl_exp_vm_index(1.1e-3)),
		"1.000e-03...1.136e-03");
	assert_string_equal(wl_exp_vm_range(wl_exp_vm_index(1.2e-3)),
		"1.136e-03...1.292e-03");
	assert_int_equal(wl_exp_vm_index(1e18), WL_EXP_VM_BUCKETS - 1);
	assert_int_equal(wl_exp_vm_index(NAN), 0);
}

/* The model over a real segment: one series, values known. */
static char *
scrape(const char *inst, unsigned int buckets)
{
	struct wl_exp_model *m = model(inst, buckets);
	struct wl_exp_snap *s = wl_exp_snap_create();
	struct wl_exp_buf b = {0};
	int n;

	assert_non_null(m);
	assert_non_null(s);
	n = wl_exp_model_read(m, s, 0, NULL, NULL);
	assert_int_equal(n, 1);
	assert_int_equal(wl_exp_prom_render(s, &b), 0);
	wl_exp_snap_free(s);
	wl_exp_model_free(m);
	{
		char *t = strndup(b.p, b.len);

		wl_exp_buf_free(&b);
		return t;
	}
}

static const struct wl_metric_def defs[] = {
	{"duration", "request_duration_seconds", "method", WL_UNIT_NS,
		"Request \\ duration"},
	{"responses", "response_size_bytes", "method", WL_UNIT_BYTES,
		"Sizes"},
	{"conn_retrans", "tcp_connection_retransmitted_segments", NULL,
		WL_UNIT_COUNT, "Retransmitted"},
};

static int
series(struct wl_shm *shm, const char *metric, const char *method,
	uint16_t port)
{
	static const uint8_t v4[4] = {10, 0, 0, 1};
	struct wl_shm_key k;

	memset(&k, 0, sizeof(k));
	strcpy(k.metric, metric);
	strcpy(k.proto, "http");
	wl_addr_from_v4(&k.server, v4);
	k.server_port = port;
	strcpy(k.method, method);
	return wl_shm_series_find(shm, &k);
}

/* fmt, with one %s (the instance), must be a whole line of text. */
static void
check_fmt(const char *text, const char *fmt, const char *arg)
{
	char line[512], buf[520];

	snprintf(line, sizeof(line), fmt, arg);
	snprintf(buf, sizeof(buf), "\n%s\n", line);
	if (strstr(text, buf) == NULL) {
		print_error("missing line: %s\n", line);
		fail();
	}
}

static void
test_series(void **state)
{
	static char names[8][WL_SHM_COUNTER_NAME] = {"packets",
		"lcore1.packets", "http_requests", "drops", "drops_nic",
		"flow_active", "drops_packets"};
	static const uint64_t values[8] = {5, 5, 3, 0, 0, 2,
		18446744073709551615ull};
	char inst[64], err[256], *t;
	struct wl_shm *shm;
	unsigned int i;
	int a, b, c, d, e;

	(void)state;
	snprintf(inst, sizeof(inst), "ut-export-%d", (int)getpid());
	shm = wl_shm_create(inst, 16, 16, NULL, err, sizeof(err));
	assert_non_null(shm);
	for (i = 0; i < 3; i++)
		assert_int_equal(wl_shm_metric_add(shm, &defs[i]), 0);
	a = series(shm, "duration", "GET", 80);
	b = series(shm, "duration", "PUT", 80);
	c = series(shm, "responses", "GET", 80);
	d = series(shm, "conn_retrans", "x", 80);
	e = series(shm, "conn_retrans", "y", 80);
	/* 1 ms three times: its hist bucket straddles le 0.001, so with a
	 * larger max the three count from le 0.01 (the stated error). */
	for (i = 0; i < 3; i++)
		wl_shm_series_record(shm, a, 1000000);
	wl_shm_series_record(shm, a, 5000000);
	/* Alone, the bucket of the max ends at the max: exact. */
	wl_shm_series_record(shm, b, 1000000);
	wl_shm_series_record(shm, b, 1000000);
	wl_shm_series_record(shm, c, 100);
	wl_shm_series_record(shm, c, 1024);
	/* No method label: x and y are one series, merged. */
	wl_shm_series_record(shm, d, 2);
	wl_shm_series_record(shm, e, 3);
	wl_shm_counters_publish(shm, names, values, 7);
	wl_shm_set_finished(shm);

	t = scrape(inst, WL_EXP_BUCKETS_LE);
	check_fmt(t, "wirelat_up{instance_name=\"%s\"} 0", inst);
	check_fmt(t, "# TYPE wirelat_request_duration_seconds histogram%s", "");
	check_fmt(t, "# HELP wirelat_request_duration_seconds Request "
		"\\\\ duration%s", "");
#define L(m) "{instance_name=\"%s\",method=\"" m "\",proto=\"http\"," \
	"server=\"10.0.0.1:80\",status_class=\"ok\""
	check_fmt(t, "wirelat_request_duration_seconds_bucket" L("GET")
		",le=\"0.001\"} 0", inst);
	check_fmt(t, "wirelat_request_duration_seconds_bucket" L("GET")
		",le=\"0.01\"} 4", inst);
	check_fmt(t, "wirelat_request_duration_seconds_bucket" L("GET")
		",le=\"+Inf\"} 4", inst);
	check_fmt(t, "wirelat_request_duration_seconds_count" L("GET") "} 4",
		inst);
	check_fmt(t, "wirelat_request_duration_seconds_sum" L("GET")
		"} 0.008", inst);
	check_fmt(t, "wirelat_request_duration_seconds_bucket" L("PUT")
		",le=\"0.001\"} 2", inst);
	check_fmt(t, "wirelat_response_size_bytes_bucket" L("GET")
		",le=\"1024\"} 2", inst);
	/* Merged: no method label, both values. */
	check_fmt(t, "wirelat_tcp_connection_retransmitted_segments_bucket"
		"{instance_name=\"%s\",proto=\"http\",server=\"10.0.0.1:80\","
		"status_class=\"ok\",le=\"2\"} 1", inst);
	check_fmt(t, "wirelat_tcp_connection_retransmitted_segments_count"
		"{instance_name=\"%s\",proto=\"http\",server=\"10.0.0.1:80\","
		"status_class=\"ok\"} 2", inst);
	/* Counters: names, labels, gauges, the sums left out. */
	check_fmt(t, "wirelat_packets_total{instance_name=\"%s\"} 5", inst);
	check_fmt(t, "wirelat_lcore_packets_total{instance_name=\"%s\","
		"lcore=\"1\"} 5", inst);
	check_fmt(t, "wirelat_proto_requests_total{instance_name=\"%s\","
		"proto=\"http\"} 3", inst);
	check_fmt(t, "wirelat_drops_total{instance_name=\"%s\",where=\"nic\"} 0",
		inst);
	check_fmt(t, "wirelat_flow_active{instance_name=\"%s\"} 2", inst);
	check_fmt(t, "# TYPE wirelat_flow_active gauge%s", "");
	assert_null(strstr(t, "drops_packets"));
	/* drops (the sum) is not exported: the one drops_total is nic's. */
	assert_non_null(strstr(t, "where=\"nic\""));
	assert_null(strstr(strstr(t, "where=\"nic\"") + 1,
		"\nwirelat_drops_total"));
	free(t);

	t = scrape(inst, WL_EXP_BUCKETS_VMRANGE);
	check_fmt(t, "# TYPE wirelat_request_duration_seconds untyped%s", "");
	check_fmt(t, "wirelat_request_duration_seconds_bucket" L("PUT")
		",vmrange=\"8.799e-04...1.000e-03\"} 2", inst);
	assert_null(strstr(t, "le=\""));
	free(t);
#undef L
	wl_shm_close(shm);
	wl_shm_remove(inst);
}

static void
on_log(void *arg, const char *line)
{
	(*(int *)arg)++;
	assert_non_null(strstr(line, "not exported"));
}

static void
test_gone(void **state)
{
	struct wl_exp_model *m = model("ut-export-none", WL_EXP_BUCKETS_LE);
	struct wl_exp_snap *s = wl_exp_snap_create();
	int logged = 0;

	(void)state;
	assert_int_equal(wl_exp_model_read(m, s, 0, on_log, &logged), 0);
	assert_int_equal(wl_exp_model_read(m, s, 0, on_log, &logged), 0);
	assert_int_equal(logged, 1);            /* said once */
	assert_int_equal(wl_exp_model_state(m, 0), WL_EXP_STATE_GONE);
	wl_exp_snap_free(s);
	wl_exp_model_free(m);
}

static void
test_bad_opts(void **state)
{
	static const double down[] = {1, 0.5};
	struct wl_exp_opts o = {.buckets = WL_EXP_BUCKETS_LE,
		.le = {down}, .n_le = {2}};
	const char *names[] = {"x"}, *bad[] = {"a/b"};

	(void)state;
	assert_null(wl_exp_model_create(&o, names, 1));
	o.n_le[0] = 1;
	assert_null(wl_exp_model_create(&o, bad, 1));
	o.buckets = 0;
	assert_null(wl_exp_model_create(&o, names, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_le_edges),
		cmocka_unit_test(test_vmrange),
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_gone),
		cmocka_unit_test(test_bad_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
