/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * wl-probe-bench: the cost of one detection call (wl_probe_detect, what
 * the flow layer runs on the first bytes of a direction) with every
 * probe run in turn ("chain") and with the signature database filtering
 * them ("hs", wl_probe.h), per start of tests/unit/proto/wl_test_starts.h
 * (each protocol's, and bytes of no protocol), with no port hint and,
 * for a protocol's start, its own port. The two run alternately, each
 * timed over N calls, best of R rounds (docs/benchmarks.md); the answers
 * are checked equal first.
 *
 *   wl-probe-bench [N] [R]
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>

#include <rte_cycles.h>

#include "wl_common.h"
#include "wl_probe.h"
#include "wl_proto.h"
#include "wl_test_starts.h"

static struct wl_probe_db *g_db;
static struct wl_probe_scratch *g_scr;

static uint32_t
usable_on(uint8_t l4)
{
	uint32_t m = 0;
	unsigned int id;

	for (id = 0; id < WL_PROTO_MAX; id++) {
		const struct wl_proto_ops *o = wl_protos[id];

		if ((o->l4proto == l4 && o->probe != NULL) ||
				(o->l4proto2 == l4 && o->probe2 != NULL))
			m |= 1u << id;
	}
	return m;
}

/* Cycles per call of n calls on s, with (hs 1) or without the db. */
static double
run(const struct wl_test_start *s, uint32_t hint, int hs, unsigned int n,
	volatile int *sink)
{
	uint32_t use = usable_on(s->l4proto);
	uint64_t t0, t1;
	unsigned int i;
	int maybe = 0, r = 0;

	t0 = rte_rdtsc_precise();
	for (i = 0; i < n; i++)
		r += wl_probe_detect(hs ? g_db : NULL, hs ? g_scr : NULL,
			wl_protos, use, hint, s->l4proto, s->dir,
			(const uint8_t *)s->d, s->len, &maybe);
	t1 = rte_rdtsc_precise();
	*sink = r + maybe;
	return (double)(t1 - t0) / n;
}

int
main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 0) :
		200000;
	unsigned int rounds = argc > 2 ? (unsigned int)strtoul(argv[2], NULL,
		0) : 7;
	volatile int sink;
	struct timespec t0, t1;
	struct wl_probe_db *db;
	char err[256];
	unsigned int i, k, h;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	db = wl_probe_db_create(wl_protos, WL_PROTO_MAX, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (db == NULL) {
		fprintf(stderr, "wl-probe-bench: %s\n", err);
		return 1;
	}
	printf("signature database compiled in %.1f ms\n",
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	g_db = db;
	g_scr = wl_probe_scratch_create(db);
	if (g_scr == NULL)
		return 1;
	printf("%-20s %-6s %10s %10s %7s\n", "start", "hint", "chain cyc",
		"hs cyc", "hs/ch");
	for (i = 0; i < WL_ARRAY_SIZE(wl_test_starts); i++) {
		const struct wl_test_start *s = &wl_test_starts[i];

		for (h = 0; h < (s->proto >= 0 ? 2u : 1u); h++) {
			uint32_t hint = h ? 1u << s->proto : 0;
			uint32_t use = usable_on(s->l4proto);
			double best[2] = { 1e18, 1e18 };
			int m0 = 0, m1 = 0, a, b;

			a = wl_probe_detect(NULL, NULL, wl_protos, use, hint,
				s->l4proto, s->dir, (const uint8_t *)s->d,
				s->len, &m0);
			b = wl_probe_detect(db, g_scr, wl_protos, use, hint,
				s->l4proto, s->dir, (const uint8_t *)s->d,
				s->len, &m1);
			if (a != b || m0 != m1 || a != s->proto) {
				fprintf(stderr, "wl-probe-bench: %s: chain %d/%d "
					"hs %d/%d, expected %d\n", s->what, a, m0,
					b, m1, s->proto);
				return 1;
			}
			for (k = 0; k < rounds; k++) {
				best[0] = WL_MIN(best[0], run(s, hint, 0, n,
					&sink));
				best[1] = WL_MIN(best[1], run(s, hint, 1, n,
					&sink));
			}
			printf("%-20s %-6s %10.1f %10.1f %7.2f\n", s->what,
				h ? "port" : "none", best[0], best[1],
				best[1] / best[0]);
		}
	}
	wl_probe_db_free(db);
	return 0;
}
