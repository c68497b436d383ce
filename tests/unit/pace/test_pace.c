/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The send schedule: every mode's times are exact functions of the
 * packet's position, whatever came before -- no drift after billions of
 * packets, no distortion at the first packet or at loop boundaries, and
 * bit rates paced by the packets already sent (tcpreplay paces packet N
 * with the length of packet N+1).
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wl_pace.h"

#define NS 1000000000ULL

static void
test_pps_exact(void **state)
{
	struct wl_pace_conf c = { .mode = WL_PACE_PPS, .pps = 150000 };
	struct wl_pace p;
	uint64_t i, t = 0;

	(void)state;
	wl_pace_init(&p, &c, 0);
	for (i = 0; i < 1000000; i++) {
		t = wl_pace_next(&p, 60, 0, 0);
		/* floor(i * 1e9 / 150000): never drifts from the ideal */
		assert_int_equal(t, i * NS / 150000);
	}
	assert_int_equal(t, 6666660000ULL);
	/* Ten billion packets on: still the exact time. */
	p.n = 10000000000ULL;
	assert_int_equal(wl_pace_next(&p, 60, 0, 0),
		(uint64_t)((unsigned __int128)10000000000ULL * NS / 150000));
}

static void
test_bps_paced_by_predecessors(void **state)
{
	struct wl_pace_conf c = { .mode = WL_PACE_BPS_L2, .bps = 8000000 };
	const uint32_t len[] = { 1500, 64, 64, 1000 };
	struct wl_pace p;
	uint64_t bits = 0;
	unsigned int i;

	(void)state;
	wl_pace_init(&p, &c, 0);
	/* 8 Mbit/s = 1 byte per us: packet n leaves when the bytes of
	 * packets 0..n-1 are out, whatever its own size. */
	for (i = 0; i < 4; i++) {
		assert_int_equal(wl_pace_next(&p, len[i], 0, 0), bits * 1000);
		bits += len[i];
	}
	/* A large first packet delays the second by its own length only. */
	c.mode = WL_PACE_BPS_L1;
	wl_pace_init(&p, &c, 0);
	assert_int_equal(wl_pace_next(&p, 1500, 0, 0), 0);
	assert_int_equal(wl_pace_next(&p, 40, 0, 0),
		(1500 + WL_PACE_L1_EXTRA) * 1000ULL);
	/* Runts are padded to the minimum frame on the line. */
	assert_int_equal(wl_pace_next(&p, 64, 0, 0),
		(1500 + WL_PACE_L1_EXTRA + WL_PACE_MIN_FRAME +
		WL_PACE_L1_EXTRA) * 1000ULL);
}

static void
test_original_and_loops(void **state)
{
	struct wl_pace_conf c = { .mode = WL_PACE_ORIGINAL,
		.multiplier_ppm = 2000000 };
	const uint64_t ts[] = { 1000, 1400, 2200, 2600 };
	struct wl_pace p;
	unsigned int loop, i;
	uint64_t t, want;

	(void)state;
	/* 4 packets over 1600 ns: mean gap 1600 / 3; twice as fast. */
	wl_pace_init(&p, &c, 1600 / 3);
	for (loop = 0; loop < 10000; loop++)
		for (i = 0; i < 4; i++) {
			t = wl_pace_next(&p, 100, ts[i], loop);
			/* each loop lasts (1600 + 533) / 2 = 800 + 266 */
			want = loop * (800 + 266) + (ts[i] - ts[0]) / 2;
			assert_int_equal(t, want);
		}
	/* Real time: the capture's own gaps. */
	c.multiplier_ppm = 1000000;
	wl_pace_init(&p, &c, 0);
	assert_int_equal(wl_pace_next(&p, 100, 5000, 0), 0);
	assert_int_equal(wl_pace_next(&p, 100, 5700, 0), 700);
	/* A capture going back in time sends at once, not in 2^64 ns. */
	assert_int_equal(wl_pace_next(&p, 100, 4000, 0), 0);
}

static void
test_topspeed_burst_and_checks(void **state)
{
	struct wl_pace_conf c = { .mode = WL_PACE_BURST, .burst = 32,
		.interval_ns = 10000 };
	const char *why = NULL;
	struct wl_pace p;
	unsigned int i;

	(void)state;
	wl_pace_init(&p, &c, 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(wl_pace_next(&p, 60, 0, 0), (i / 32) * 10000);
	c.mode = WL_PACE_TOPSPEED;
	wl_pace_init(&p, &c, 0);
	assert_int_equal(wl_pace_next(&p, 60, 123, 5), 0);
	assert_int_equal(wl_pace_check(&c, &why), 0);
	c.mode = WL_PACE_PPS;
	c.pps = 0;
	assert_int_equal(wl_pace_check(&c, &why), -EINVAL);
	assert_string_equal(why, "--pps must be more than 0");
	c.mode = WL_PACE_BURST;
	c.burst = 0;
	assert_int_equal(wl_pace_check(&c, &why), -EINVAL);
	assert_int_equal(wl_pace_muldiv(UINT64_MAX, 1000, 1000), UINT64_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pps_exact),
		cmocka_unit_test(test_bps_paced_by_predecessors),
		cmocka_unit_test(test_original_and_loops),
		cmocka_unit_test(test_topspeed_burst_and_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
