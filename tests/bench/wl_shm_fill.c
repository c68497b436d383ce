/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * wl-shm-fill: write a wirelat shared-memory segment with many series
 * through the writer API, for scripts/bench-export (a wirelat with 10,000
 * live series would need 10,000 servers' worth of traffic). Declares the
 * L7 and TCP families as wirelat does, records a spread of values in
 * every series, publishes a set of counters, then keeps publishing every
 * 100 ms (a running writer) until SIGINT/SIGTERM, and marks it finished.
 *
 *   wl-shm-fill INSTANCE N_SERIES [VALUES_PER_SERIES]
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wl_common.h"
#include "wl_shm.h"

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static const struct wl_metric_def defs[] = {
	{"duration", "request_duration_seconds", "method", WL_UNIT_NS,
		"Request first byte to response last byte of proven pairs"},
	{"responses", "response_size_bytes", "method", WL_UNIT_BYTES,
		"Size of every response, paired or not"},
	{"server_rtt", "tcp_server_rtt_seconds", "method", WL_UNIT_NS,
		"TCP handshake: SYN to SYN/ACK"},
};

int
main(int argc, char **argv)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
	static char names[256][WL_SHM_COUNTER_NAME];
	static uint64_t values[256];
	unsigned int n, per, i, k, nc = 0;
	struct timespec tick = {0, 100 * 1000 * 1000};
	uint64_t x = 88172645463325252ull;
	struct wl_shm *shm;
	char err[256];

	if (argc < 3) {
		fprintf(stderr, "usage: wl-shm-fill INSTANCE N_SERIES "
			"[VALUES_PER_SERIES]\n");
		return 2;
	}
	n = (unsigned int)strtoul(argv[2], NULL, 10);
	per = argc > 3 ? (unsigned int)strtoul(argv[3], NULL, 10) : 200;
	shm = wl_shm_create(argv[1], n, 256, NULL, err, sizeof(err));
	if (shm == NULL) {
		fprintf(stderr, "wl-shm-fill: %s\n", err);
		return 1;
	}
	for (i = 0; i < WL_ARRAY_SIZE(defs); i++)
		wl_shm_metric_add(shm, &defs[i]);
	for (i = 0; i < n; i++) {
		struct wl_shm_key key;
		uint8_t v4[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8),
			(uint8_t)i};
		int idx;

		memset(&key, 0, sizeof(key));
		/* Mostly request durations: the widest histograms. */
		wl_strlcpy(key.metric, defs[i % 5 == 0 ? 1 : i % 7 == 0 ? 2 :
			0].name, sizeof(key.metric));
		wl_strlcpy(key.proto, i % 7 == 0 ? "tcp" : "http",
			sizeof(key.proto));
		wl_addr_from_v4(&key.server, v4);
		key.server_port = (uint16_t)(80 + i % 3);
		key.status_class = (uint8_t)(i % 4);
		wl_strlcpy(key.method, i % 7 == 0 ? "handshake" :
			methods[i % 4], sizeof(key.method));
		idx = wl_shm_series_find(shm, &key);
		if (idx < 0)
			break;
		for (k = 0; k < per; k++) {
			/* xorshift: 50 us .. ~200 ms, log-spread */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			wl_shm_series_record(shm, idx, 50000ull <<
				(x % 12) | (x >> 40) % 50000);
		}
	}
	for (i = 0; i < 64; i++, nc++) {
		snprintf(names[nc], sizeof(names[nc]), "bench_counter_%u", i);
		values[nc] = i * 1000;
	}
	for (i = 0; i < 40; i++, nc++) {
		snprintf(names[nc], sizeof(names[nc]), "lcore%u.packets", i);
		values[nc] = i;
	}
	wl_shm_set_span(shm, 1, 2);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready %u series\n", n);
	fflush(stdout);
	while (!quit) {
		values[0]++;
		wl_shm_counters_publish(shm, names, values, nc);
		nanosleep(&tick, NULL);
	}
	wl_shm_set_finished(shm);
	wl_shm_close(shm);
	return 0;
}
