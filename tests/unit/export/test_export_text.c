/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text exposition of a snapshot built by hand: label
 * value and HELP escaping, invalid UTF-8, u64 printed exactly, doubles
 * that read back the same, families grouped, bad names refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wl_export_model.h"
#include "wl_export_prom.h"

static char *
render(struct wl_exp_snap *s)
{
	struct wl_exp_buf b = {0};
	char *t;

	assert_int_equal(wl_exp_prom_render(s, &b), 0);
	/* Nothing rendered allocates nothing. */
	t = b.p != NULL ? strndup(b.p, b.len) : strdup("");
	wl_exp_buf_free(&b);
	return t;
}

static void
test_escape(void **state)
{
	struct wl_exp_snap *s = wl_exp_snap_create();
	struct wl_exp_label l[2] = {
		{"method", "a\"b\\c\nd"},
		{"bad", "x\xff\xc3\xa9y"},
	};
	int f, ls;
	char *t;

	(void)state;
	f = wl_exp_snap_family(s, "wirelat_x_total", WL_EXP_COUNTER,
		"Help with \\ and\nnewline and \"quotes\"");
	assert_true(f >= 0);
	ls = wl_exp_snap_labels(s, l, 2);
	assert_true(ls >= 0);
	assert_int_equal(wl_exp_snap_sample_u64(s, f, WL_EXP_SFX_NONE, ls,
		NULL, NULL, UINT64_MAX), 0);
	t = render(s);
	assert_string_equal(t,
		"# HELP wirelat_x_total Help with \\\\ and\\nnewline and "
		"\"quotes\"\n"
		"# TYPE wirelat_x_total counter\n"
		"wirelat_x_total{bad=\"x?\xc3\xa9y\",method=\"a\\\"b\\\\c\\nd\"} "
		"18446744073709551615\n");
	free(t);
	wl_exp_snap_free(s);
}

static void
test_values_and_grouping(void **state)
{
	struct wl_exp_snap *s = wl_exp_snap_create();
	int a, b;
	char *t;

	(void)state;
	a = wl_exp_snap_family(s, "wirelat_a", WL_EXP_GAUGE, "A");
	b = wl_exp_snap_family(s, "wirelat_b_seconds", WL_EXP_HISTOGRAM, "B");
	/* Interleaved: rendered grouped, in order of first use. */
	assert_int_equal(wl_exp_snap_sample(s, a, WL_EXP_SFX_NONE, -1, NULL,
		NULL, 0.1), 0);
	assert_int_equal(wl_exp_snap_sample_u64(s, b, WL_EXP_SFX_BUCKET, -1,
		"le", "+Inf", 3), 0);
	assert_int_equal(wl_exp_snap_family(s, "wirelat_a", WL_EXP_COUNTER,
		"ignored"), a);
	assert_int_equal(wl_exp_snap_sample(s, a, WL_EXP_SFX_NONE, -1, NULL,
		NULL, 1.0 / 3), 0);
	assert_int_equal(wl_exp_snap_sample(s, b, WL_EXP_SFX_SUM, -1, NULL,
		NULL, 1e-9), 0);
	t = render(s);
	assert_string_equal(t,
		"# HELP wirelat_a A\n# TYPE wirelat_a gauge\n"
		"wirelat_a 0.1\nwirelat_a 0.33333333333333331\n"
		"# HELP wirelat_b_seconds B\n"
		"# TYPE wirelat_b_seconds histogram\n"
		"wirelat_b_seconds_bucket{le=\"+Inf\"} 3\n"
		"wirelat_b_seconds_sum 1e-09\n");
	free(t);
	assert_int_equal(wl_exp_snap_samples(s), 4);
	/* Reset keeps nothing. */
	wl_exp_snap_reset(s);
	t = render(s);
	assert_string_equal(t, "");
	free(t);
	wl_exp_snap_free(s);
}

static void
test_bad_names(void **state)
{
	struct wl_exp_snap *s = wl_exp_snap_create();
	struct wl_exp_label bad[] = {{"__x", "v"}}, bad2[] = {{"1a", "v"}};

	(void)state;
	assert_int_equal(wl_exp_snap_family(s, "wirelat-x", WL_EXP_GAUGE, ""),
		-EINVAL);
	assert_int_equal(wl_exp_snap_family(s, "", WL_EXP_GAUGE, ""), -EINVAL);
	assert_int_equal(wl_exp_snap_family(s, "0x", WL_EXP_GAUGE, ""),
		-EINVAL);
	assert_true(wl_exp_snap_family(s, "a:b_c1", WL_EXP_GAUGE, "") >= 0);
	assert_int_equal(wl_exp_snap_labels(s, bad, 1), -EINVAL);
	assert_int_equal(wl_exp_snap_labels(s, bad2, 1), -EINVAL);
	assert_int_equal(wl_exp_snap_sample(s, 7, WL_EXP_SFX_NONE, -1, NULL,
		NULL, 1), -EINVAL);
	wl_exp_snap_free(s);
}

/* Many families and labels: the hash and the arena grow. */
static void
test_many(void **state)
{
	struct wl_exp_snap *s = wl_exp_snap_create();
	char name[64], val[64];
	struct wl_exp_label l = {"k", val};
	int i, f, ls;
	char *t;

	(void)state;
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "wirelat_f%d", i % 1500);
		snprintf(val, sizeof(val), "%0*d", 40, i);
		f = wl_exp_snap_family(s, name, WL_EXP_GAUGE, "h");
		assert_true(f >= 0 && f < 1500);
		ls = wl_exp_snap_labels(s, &l, 1);
		assert_int_equal(wl_exp_snap_sample_u64(s, f, WL_EXP_SFX_NONE,
			ls, NULL, NULL, (uint64_t)i), 0);
	}
	t = render(s);
	assert_non_null(strstr(t, "\nwirelat_f7{k=\"" 
		"0000000000000000000000000000000000001507\"} 1507\n"));
	free(t);
	wl_exp_snap_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_values_and_grouping),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
