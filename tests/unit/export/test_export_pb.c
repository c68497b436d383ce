/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The remote-write encoding, decoded back with protobuf-c: one TimeSeries
 * per sample, labels sorted by name with __name__, the bucket label in
 * place, external labels added unless the series has the name, the
 * snapshot's timestamp, requests cut at max_samples, snappy round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <snappy-c.h>

#include "wl_export_model.h"
#include "wl_export_rw.h"
#include "wl_export_rw.pb-c.h"

struct got {
	int n_req;
	size_t n_samples;
	WlRw__WriteRequest *req[8];
	int raw;
};

static int
emit(void *arg, const uint8_t *data, size_t len, size_t n)
{
	struct got *g = arg;
	char *plain = (char *)data;
	size_t plen = len;

	assert_true(g->n_req < 8);
	if (!g->raw) {
		assert_int_equal(snappy_uncompressed_length((const char *)data,
			len, &plen), SNAPPY_OK);
		plain = malloc(plen);
		assert_int_equal(snappy_uncompress((const char *)data, len,
			plain, &plen), SNAPPY_OK);
	}
	g->req[g->n_req] = wl_rw__write_request__unpack(NULL, plen,
		(const uint8_t *)plain);
	assert_non_null(g->req[g->n_req]);
	assert_int_equal(g->req[g->n_req]->n_timeseries, n);
	g->n_req++;
	g->n_samples += n;
	if (!g->raw)
		free(plain);
	return 0;
}

static struct wl_exp_snap *
snap(void)
{
	struct wl_exp_snap *s = wl_exp_snap_create();
	struct wl_exp_label l[3] = {
		{"status_class", "ok"}, {"instance_name", "i1"},
		{"method", "GET"},
	};
	int f, ls;

	wl_exp_snap_set_time(s, 1700000000123);
	f = wl_exp_snap_family(s, "wirelat_request_duration_seconds",
		WL_EXP_HISTOGRAM, "h");
	ls = wl_exp_snap_labels(s, l, 3);
	wl_exp_snap_sample_u64(s, f, WL_EXP_SFX_BUCKET, ls, "le", "0.1", 2);
	wl_exp_snap_sample_u64(s, f, WL_EXP_SFX_BUCKET, ls, "le", "+Inf", 3);
	wl_exp_snap_sample(s, f, WL_EXP_SFX_SUM, ls, NULL, NULL, 0.25);
	wl_exp_snap_sample_u64(s, f, WL_EXP_SFX_COUNT, ls, NULL, NULL, 3);
	f = wl_exp_snap_family(s, "wirelat_up", WL_EXP_GAUGE, "u");
	ls = wl_exp_snap_labels(s, l + 1, 1);
	wl_exp_snap_sample_u64(s, f, WL_EXP_SFX_NONE, ls, NULL, NULL, 1);
	return s;
}

static void
check_sorted(const WlRw__TimeSeries *ts)
{
	size_t i;

	for (i = 1; i < ts->n_labels; i++)
		assert_true(strcmp(ts->labels[i - 1]->name,
			ts->labels[i]->name) < 0);
}

static const char *
label(const WlRw__TimeSeries *ts, const char *name)
{
	size_t i;

	for (i = 0; i < ts->n_labels; i++)
		if (strcmp(ts->labels[i]->name, name) == 0)
			return ts->labels[i]->value;
	return NULL;
}

static void
test_encode(void **state)
{
	struct wl_exp_label ext[2] = {{"site", "par1"}, {"method", "EXT"}};
	struct wl_exp_snap *s = snap();
	struct wl_exp_rw *e = wl_exp_rw_create();
	struct got g = {0};
	WlRw__TimeSeries *ts;
	int i, raw;

	(void)state;
	for (raw = 1; raw >= 0; raw--) {
		memset(&g, 0, sizeof(g));
		g.raw = raw;
		assert_int_equal(wl_exp_rw_encode(e, s, ext, 2, 1000, raw,
			emit, &g), 0);
		assert_int_equal(g.n_req, 1);
		assert_int_equal(g.n_samples, 5);
		ts = g.req[0]->timeseries[0];
		check_sorted(ts);
		assert_int_equal(ts->n_labels, 6);
		assert_string_equal(label(ts, "__name__"),
			"wirelat_request_duration_seconds_bucket");
		assert_string_equal(label(ts, "le"), "0.1");
		/* The series' own method wins over the external label. */
		assert_string_equal(label(ts, "method"), "GET");
		assert_string_equal(label(ts, "site"), "par1");
		assert_int_equal(ts->n_samples, 1);
		assert_true(ts->samples[0]->value == 2);
		assert_int_equal(ts->samples[0]->timestamp, 1700000000123);
		ts = g.req[0]->timeseries[2];
		check_sorted(ts);
		assert_string_equal(label(ts, "__name__"),
			"wirelat_request_duration_seconds_sum");
		assert_null(label(ts, "le"));
		assert_true(ts->samples[0]->value == 0.25);
		ts = g.req[0]->timeseries[4];
		check_sorted(ts);
		assert_string_equal(label(ts, "__name__"), "wirelat_up");
		assert_string_equal(label(ts, "method"), "EXT");
		assert_int_equal(ts->n_labels, 4);
		for (i = 0; i < g.n_req; i++)
			wl_rw__write_request__free_unpacked(g.req[i], NULL);
	}
	/* Cut at 2 samples a request: 2 + 2 + 1. */
	memset(&g, 0, sizeof(g));
	g.raw = 0;
	assert_int_equal(wl_exp_rw_encode(e, s, NULL, 0, 2, 0, emit, &g), 0);
	assert_int_equal(g.n_req, 3);
	assert_int_equal(g.n_samples, 5);
	assert_int_equal(g.req[2]->n_timeseries, 1);
	assert_int_equal(g.req[0]->timeseries[0]->n_labels, 5);
	for (i = 0; i < g.n_req; i++)
		wl_rw__write_request__free_unpacked(g.req[i], NULL);
	wl_exp_rw_free(e);
	wl_exp_snap_free(s);
}

static int
stop_emit(void *arg, const uint8_t *data, size_t len, size_t n)
{
	(void)arg;
	(void)data;
	(void)len;
	(void)n;
	return -42;
}

static void
test_emit_error(void **state)
{
	struct wl_exp_snap *s = snap();
	struct wl_exp_rw *e = wl_exp_rw_create();

	(void)state;
	assert_int_equal(wl_exp_rw_encode(e, s, NULL, 0, 1, 0, stop_emit,
		NULL), -42);
	wl_exp_rw_free(e);
	wl_exp_snap_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_emit_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
