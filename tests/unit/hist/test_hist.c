/* SPDX-License-Identifier: BSD-3-Clause */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wl_hist.h"

static struct wl_hist h1, h2, h3;

/* xorshift64*: reproducible samples without libc rand() quirks. */
static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Exact nearest-rank quantile of sorted values. */
static uint64_t
exact_q(const uint64_t *v, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n);

	if (rank == 0)
		rank = 1;
	return v[rank - 1];
}

static void
check_rel(uint64_t got, uint64_t want, double bound)
{
	double err = want == 0 ? (double)got :
		fabs((double)got - (double)want) / (double)want;

	if (err > bound)
		fail_msg("got %llu want %llu: relative error %.5f > %.5f",
			(unsigned long long)got, (unsigned long long)want, err,
			bound);
}

/* Every bucket boundary: contiguous, and every bucket narrower than 1/128
 * of its lower bound. */
static void
test_buckets_contiguous(void **state)
{
	unsigned int i;

	(void)state;
	assert_int_equal(wl_hist_bucket_low(0), 0);
	for (i = 1; i < WL_HIST_BUCKETS; i++) {
		uint64_t lo = wl_hist_bucket_low(i);
		uint64_t hi = wl_hist_bucket_high(i);

		assert_int_equal(lo, wl_hist_bucket_high(i - 1) + 1);
		assert_true(hi >= lo);
		assert_int_equal(wl_hist_index(lo), i);
		assert_int_equal(wl_hist_index(hi), i);
		assert_true((double)(hi - lo + 1) <= (double)lo / 128.0 ||
			hi == lo);
	}
	assert_int_equal(wl_hist_bucket_high(WL_HIST_BUCKETS - 1),
		WL_HIST_MAX_VALUE);
}

static void
test_exact_small(void **state)
{
	uint64_t v;

	(void)state;
	wl_hist_init(&h1);
	assert_int_equal(wl_hist_quantile(&h1, 0.5), 0);
	for (v = 1; v <= 100; v++)
		wl_hist_record(&h1, v);
	assert_int_equal(h1.count, 100);
	assert_int_equal(h1.min, 1);
	assert_int_equal(h1.max, 100);
	assert_int_equal(wl_hist_quantile(&h1, 0.5), 50);
	assert_int_equal(wl_hist_quantile(&h1, 0.99), 99);
	assert_int_equal(wl_hist_quantile(&h1, 1.0), 100);
	assert_int_equal(wl_hist_quantile(&h1, 0.0), 1);
	assert_true(fabs(wl_hist_mean(&h1) - 50.5) < 1e-9);
}

/* Random samples spread log-uniformly over 1 ns .. 100 s: every quantile
 * within 1% of the exact one, for several distributions. */
static void
test_error_bound_random(void **state)
{
	static const double qs[] = {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9,
		0.95, 0.99, 0.999, 0.9999};
	enum { N = 200000 };
	static uint64_t v[N];
	int dist;
	size_t i, k;

	(void)state;
	for (dist = 0; dist < 3; dist++) {
		wl_hist_init(&h1);
		for (i = 0; i < N; i++) {
			double u = (double)(rnd() >> 11) / 9007199254740992.0;

			if (dist == 0)          /* log-uniform 1 ns .. 100 s */
				v[i] = (uint64_t)exp(u * log(1e11));
			else if (dist == 1)     /* narrow: 200 us +- 10% */
				v[i] = 180000 + (uint64_t)(u * 40000);
			else                    /* bimodal, 5 us and 20 ms */
				v[i] = (rnd() & 1) ? 5000 + rnd() % 500 :
					20000000 + rnd() % 2000000;
			if (v[i] == 0)
				v[i] = 1;
			wl_hist_record(&h1, v[i]);
		}
		qsort(v, N, sizeof(v[0]), cmp_u64);
		for (k = 0; k < sizeof(qs) / sizeof(qs[0]); k++)
			check_rel(wl_hist_quantile(&h1, qs[k]),
				exact_q(v, N, qs[k]), 0.01);
		assert_int_equal(h1.min, v[0]);
		assert_int_equal(h1.max, v[N - 1]);
		assert_int_equal(wl_hist_quantile(&h1, 1.0), v[N - 1]);
	}
}

/* Every single value from 1 ns to 100 s (stepping by ~0.1%) comes back
 * within 1% as the only sample. */
static void
test_error_bound_sweep(void **state)
{
	double x;

	(void)state;
	for (x = 1; x <= 1e11; x *= 1.001) {
		uint64_t v = (uint64_t)x;

		wl_hist_init(&h1);
		wl_hist_record(&h1, v);
		wl_hist_record(&h1, v);
		wl_hist_record(&h1, 2 * v + 10);  /* keeps max away */
		check_rel(wl_hist_quantile(&h1, 0.5), v, 0.01);
	}
}

static void
test_merge(void **state)
{
	size_t i;
	unsigned int b;

	(void)state;
	wl_hist_init(&h1);
	wl_hist_init(&h2);
	wl_hist_init(&h3);
	for (i = 0; i < 50000; i++) {
		uint64_t v = rnd() % 1000000000ULL + 1;

		wl_hist_record(i & 1 ? &h1 : &h2, v);
		wl_hist_record(&h3, v);
	}
	wl_hist_merge(&h1, &h2);
	assert_int_equal(h1.count, h3.count);
	assert_int_equal(h1.min, h3.min);
	assert_int_equal(h1.max, h3.max);
	for (b = 0; b < WL_HIST_BUCKETS; b++)
		assert_int_equal(h1.b[b], h3.b[b]);
	assert_int_equal(wl_hist_quantile(&h1, 0.99),
		wl_hist_quantile(&h3, 0.99));
	/* Merging an empty one changes nothing, min included. */
	wl_hist_init(&h2);
	wl_hist_merge(&h1, &h2);
	assert_int_equal(h1.min, h3.min);
}

static void
test_overflow(void **state)
{
	(void)state;
	wl_hist_init(&h1);
	wl_hist_record(&h1, 1000);
	wl_hist_record(&h1, WL_HIST_MAX_VALUE + 1);
	wl_hist_record(&h1, UINT64_MAX);
	assert_int_equal(h1.count, 3);
	assert_int_equal(h1.overflow, 2);
	assert_int_equal(h1.max, UINT64_MAX);
	/* A quantile among the overflow reports max, never a bucket. */
	assert_int_equal(wl_hist_quantile(&h1, 0.9), UINT64_MAX);
	check_rel(wl_hist_quantile(&h1, 0.3), 1000, 0.01);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_contiguous),
		cmocka_unit_test(test_exact_small),
		cmocka_unit_test(test_error_bound_random),
		cmocka_unit_test(test_error_bound_sweep),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
