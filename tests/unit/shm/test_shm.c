/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "wl_export.h"
#include "wl_shm.h"

static char inst[48];

static void
key_make(struct wl_shm_key *k, const char *metric, uint16_t port)
{
	static const uint8_t v4[4] = {10, 0, 0, 1};

	memset(k, 0, sizeof(*k));
	snprintf(k->metric, sizeof(k->metric), "%s", metric);
	snprintf(k->proto, sizeof(k->proto), "tcp");
	snprintf(k->method, sizeof(k->method), "handshake");
	wl_addr_from_v4(&k->server, v4);
	k->server_port = port;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(inst, sizeof(inst), "unit-shm-%d", (int)getpid());
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	wl_shm_remove(inst);
	return 0;
}

static void
test_create_find_json(void **state)
{
	struct wl_shm *w, *r;
	struct wl_shm_key k;
	struct wl_shm_input in = {"x.pcap", "pcap", "ether"};
	char err[256], names[2][WL_SHM_COUNTER_NAME] = {"packets", "bytes"};
	uint64_t vals[2] = {10, 600};
	json_t *j, *s;
	struct stat st;
	int a, b, i;

	(void)state;
	w = wl_shm_create(inst, 4, 8, NULL, err, sizeof(err));
	assert_non_null(w);
	key_make(&k, "duration", 80);
	a = wl_shm_series_find(w, &k);
	assert_int_equal(a, 0);
	assert_int_equal(wl_shm_series_find(w, &k), a);
	key_make(&k, "duration", 81);
	b = wl_shm_series_find(w, &k);
	assert_int_equal(b, 1);
	for (i = 1; i <= 100; i++)
		wl_shm_series_record(w, a, (uint64_t)i * 1000);
	wl_shm_series_record(w, b, 5);
	wl_shm_counters_publish(w, (const char (*)[WL_SHM_COUNTER_NAME])names,
		vals, 2);
	wl_shm_set_inputs(w, &in, 1);
	wl_shm_set_span(w, 1000000000, 3000000000);
	/* Bounded: the fifth key has no room, and says so. */
	key_make(&k, "duration", 82);
	assert_true(wl_shm_series_find(w, &k) >= 0);
	key_make(&k, "duration", 83);
	assert_true(wl_shm_series_find(w, &k) >= 0);
	key_make(&k, "duration", 84);
	assert_int_equal(wl_shm_series_find(w, &k), -ENOSPC);
	wl_shm_set_finished(w);
	wl_shm_close(w);

	/* Stays after the writer is gone, readable by its group only. */
	snprintf(err, sizeof(err), "/dev/shm/wirelat-%s", inst);
	assert_int_equal(stat(err, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);

	r = wl_shm_attach(inst, err, sizeof(err));
	assert_non_null(r);
	j = wl_export_stats_json(r);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "instance")),
		inst);
	assert_true(json_is_true(json_object_get(j, "finished")));
	assert_int_equal(json_integer_value(json_object_get(j, "span_ns")),
		2000000000);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(j, "counters"), "bytes")), 600);
	assert_int_equal(json_array_size(json_object_get(j, "series")), 4);
	s = json_array_get(json_object_get(j, "series"), 0);
	assert_string_equal(json_string_value(json_object_get(s, "server_ip")),
		"10.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(s, "server_port")),
		80);
	assert_int_equal(json_integer_value(json_object_get(s, "count")), 100);
	assert_int_equal(json_integer_value(json_object_get(s, "max_ns")),
		100000);
	assert_true(llabs(json_integer_value(json_object_get(s, "p50_ns")) -
		50000) <= 500);
	assert_true(llabs(json_integer_value(json_object_get(s, "p99_ns")) -
		99000) <= 990);
	assert_true(fabs(json_real_value(json_object_get(s, "rate_per_s")) -
		50.0) < 1e-9);
	json_decref(j);
	wl_shm_close(r);

	assert_int_equal(wl_shm_remove(inst), 0);
	assert_null(wl_shm_attach(inst, err, sizeof(err)));
	assert_non_null(strstr(err, inst));
	assert_int_equal(wl_shm_remove(inst), -ENOENT);
}

static void
test_bad_segments(void **state)
{
	char err[256], path[128];
	struct wl_shm *r;
	int fd;

	(void)state;
	assert_null(wl_shm_create("a/b", 4, 4, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "instance"));
	assert_null(wl_shm_attach("", err, sizeof(err)));
	/* Garbage, and a truncated copy of a real header: both refused. */
	snprintf(path, sizeof(path), "/wirelat-%s", inst);
	fd = shm_open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 32768), 0);
	assert_int_equal(pwrite(fd, "garbage!", 8, 0), 8);
	close(fd);
	r = wl_shm_attach(inst, err, sizeof(err));
	assert_null(r);
	assert_non_null(strstr(err, "not a wirelat layout"));
	wl_shm_close(wl_shm_create(inst, 64, 64, NULL, err, sizeof(err)));
	fd = shm_open(path, O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8192), 0);
	close(fd);
	assert_null(wl_shm_attach(inst, err, sizeof(err)));
	wl_shm_remove(inst);
}

/* Header fields written by someone else: offsets and bounds whose sums
 * wrap, or that point outside the mapping, are refused at attach. */
static void
test_crafted(void **state)
{
	static const struct {
		size_t off;     /* in struct wl_shm_hdr */
		uint64_t v;
		int width;
	} cases[] = {
		{ offsetof(struct wl_shm_hdr, counters_off), UINT64_MAX - 100, 8 },
		{ offsetof(struct wl_shm_hdr, counters_off), 1u << 30, 8 },
		{ offsetof(struct wl_shm_hdr, series_off), UINT64_MAX - 4095, 8 },
		{ offsetof(struct wl_shm_hdr, series_off), 4096, 8 },
		{ offsetof(struct wl_shm_hdr, max_counters), 0xffffffffu, 4 },
		{ offsetof(struct wl_shm_hdr, max_series), 0x7fffffffu, 4 },
		{ offsetof(struct wl_shm_hdr, max_series), 1u << 20, 4 },
	};
	char err[256], path[128];
	struct wl_shm *r;
	unsigned int i;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/wirelat-%s", inst);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wl_shm_close(wl_shm_create(inst, 64, 64, NULL, err, sizeof(err)));
		fd = shm_open(path, O_RDWR, 0);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, &cases[i].v, (size_t)cases[i].width,
			(off_t)cases[i].off), cases[i].width);
		close(fd);
		r = wl_shm_attach(inst, err, sizeof(err));
		if (r != NULL)
			fail_msg("case %u: a crafted header was accepted", i);
		assert_non_null(strstr(err, "not a wirelat layout"));
	}
}

/* One writer per instance: a second is refused, naming the first's pid,
 * and the first goes on, readable; once it is gone, a new one may. */
static void
test_one_writer(void **state)
{
	char err[256], pid[32], names[1][WL_SHM_COUNTER_NAME] = {"packets"};
	char rn[4][WL_SHM_COUNTER_NAME];
	struct wl_shm *w1, *w2, *r;
	uint64_t v = 7, rv[4];

	(void)state;
	w1 = wl_shm_create(inst, 8, 8, NULL, err, sizeof(err));
	assert_non_null(w1);
	w2 = wl_shm_create(inst, 8, 8, NULL, err, sizeof(err));
	assert_null(w2);
	snprintf(pid, sizeof(pid), "pid %d", (int)getpid());
	assert_non_null(strstr(err, "in use"));
	assert_non_null(strstr(err, pid));
	assert_int_equal(wl_shm_remove(inst), -EBUSY);
	wl_shm_counters_publish(w1, (const char (*)[WL_SHM_COUNTER_NAME])names,
		&v, 1);
	r = wl_shm_attach(inst, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(wl_shm_read_counters(r, rn, rv, 4), 1);
	assert_int_equal(rv[0], 7);
	wl_shm_close(r);
	wl_shm_close(w1);
	w2 = wl_shm_create(inst, 8, 8, NULL, err, sizeof(err));
	assert_non_null(w2);
	wl_shm_close(w2);
	assert_int_equal(wl_shm_remove(inst), 0);
}

/* One writer thread, one reader with its own read-only mapping: every
 * snapshot the reader gets must be internally consistent. */
static struct wl_shm *gw;
static volatile int stop;

#define ROUNDS 400000

/* Families: declared once each, bounded, read back whole by a reader. */
static void
test_metrics(void **state)
{
	static const struct wl_metric_def d[] = {
		{ "duration", "request_duration_seconds", "method", WL_UNIT_NS,
			"help text" },
		{ "conn_retrans", "tcp_connection_retransmitted_segments", NULL,
			WL_UNIT_COUNT, NULL },
		{ "a_name_that_is_far_too_long", "x", NULL, 0, NULL },
	};
	struct wl_shm_metric m[WL_SHM_MAX_METRICS + 1];
	struct wl_metric_def many = d[1];
	struct wl_shm *w, *r;
	char err[256], name[24];
	int i;

	(void)state;
	w = wl_shm_create(inst, 4, 8, NULL, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(wl_shm_metric_add(w, &d[0]), 0);
	assert_int_equal(wl_shm_metric_add(w, &d[1]), 0);
	assert_int_equal(wl_shm_metric_add(w, &d[0]), 0);
	assert_int_equal(wl_shm_metric_add(w, &d[2]), -EINVAL);
	r = wl_shm_attach(inst, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(wl_shm_read_metrics(r, m, WL_SHM_MAX_METRICS), 2);
	assert_string_equal(m[0].name, "duration");
	assert_string_equal(m[0].export_name, "request_duration_seconds");
	assert_string_equal(m[0].method_label, "method");
	assert_string_equal(m[0].help, "help text");
	assert_int_equal(m[0].unit, WL_UNIT_NS);
	assert_string_equal(m[1].method_label, "");
	assert_int_equal(m[1].unit, WL_UNIT_COUNT);
	assert_int_equal(wl_shm_read_metrics(r, m, 1), 1);
	for (i = 2; i < WL_SHM_MAX_METRICS; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		many.name = name;
		assert_int_equal(wl_shm_metric_add(w, &many), 0);
	}
	many.name = "one_more";
	assert_int_equal(wl_shm_metric_add(w, &many), -ENOSPC);
	assert_int_equal(wl_shm_read_metrics(r, m, WL_SHM_MAX_METRICS + 1),
		WL_SHM_MAX_METRICS);
	wl_shm_close(r);
	wl_shm_close(w);
	assert_int_equal(wl_shm_remove(inst), 0);
}

static void *
writer(void *arg)
{
	char names[2][WL_SHM_COUNTER_NAME] = {"a", "twice_a"};
	uint64_t v[2];
	uint64_t i;

	(void)arg;
	for (i = 1; i <= ROUNDS; i++) {
		/* Values i: count == n, sum == n(n+1)/2, max == n. */
		wl_shm_series_record(gw, 0, i);
		wl_shm_series_record(gw, 1, 7);
		if ((i & 63) == 0) {
			v[0] = i;
			v[1] = 2 * i;
			wl_shm_counters_publish(gw,
				(const char (*)[WL_SHM_COUNTER_NAME])names, v, 2);
		}
	}
	stop = 1;
	return NULL;
}

/* wl_shm_fold_series()'s callback: every bucket summed in place. */
static void
fold_sum(void *arg, const struct wl_shm_series *head, const uint64_t *b)
{
	uint64_t *sum = arg;
	unsigned int i;

	(void)head;
	for (*sum = 0, i = 0; i < WL_HIST_BUCKETS; i++)
		*sum += b[i];
}

static void
test_writer_reader(void **state)
{
	static struct wl_shm_series s;
	char names[4][WL_SHM_COUNTER_NAME];
	uint64_t v[4], last = 0, sum_b, sum_f;
	struct wl_shm_key k;
	struct wl_shm *r;
	pthread_t t;
	char err[256];
	unsigned int reads = 0, folds = 0, b;
	int n;

	(void)state;
	gw = wl_shm_create(inst, 2, 4, NULL, err, sizeof(err));
	assert_non_null(gw);
	key_make(&k, "duration", 1);
	assert_int_equal(wl_shm_series_find(gw, &k), 0);
	key_make(&k, "duration", 2);
	assert_int_equal(wl_shm_series_find(gw, &k), 1);
	r = wl_shm_attach(inst, err, sizeof(err));
	assert_non_null(r);
	stop = 0;
	assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
	while (!stop || reads < 10) {
		if (wl_shm_read_series(r, 0, &s) != 0)
			continue;
		reads++;
		/* Monotonic, and every field from the same instant. */
		assert_true(s.h.count >= last);
		last = s.h.count;
		if (s.h.count > 0) {
			assert_int_equal(s.h.max, s.h.count);
			assert_true(s.h.sum == (double)s.h.count *
				(double)(s.h.count + 1) / 2);
		}
		for (b = 0, sum_b = 0; b < WL_HIST_BUCKETS; b++)
			sum_b += s.h.b[b];
		assert_int_equal(sum_b + s.h.overflow, s.h.count);
		n = wl_shm_read_counters(r, names, v, 4);
		if (n == 2)
			assert_int_equal(v[1], 2 * v[0]);
		/* A fold in place sees the buckets of the head's instant. */
		if (wl_shm_fold_series(r, 0, &s, fold_sum, &sum_f) == 0) {
			folds++;
			assert_int_equal(sum_f + s.h.overflow, s.h.count);
			if (s.h.count > 0)
				assert_int_equal(s.h.max, s.h.count);
		}
	}
	pthread_join(t, NULL);
	assert_int_equal(wl_shm_read_series(r, 0, &s), 0);
	assert_int_equal(s.h.count, ROUNDS);
	assert_int_equal(wl_shm_read_series(r, 1, &s), 0);
	assert_int_equal(s.h.count, ROUNDS);
	assert_int_equal(wl_shm_read_series(r, 2, &s), -ERANGE);
	assert_int_equal(wl_shm_fold_series(r, 2, &s, fold_sum, &sum_f),
		-ERANGE);
	print_message("%u consistent snapshots and %u folds during %d "
		"writes\n", reads, folds, 2 * ROUNDS);
	wl_shm_close(r);
	wl_shm_close(gw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_find_json, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_bad_segments, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_writer_reader, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_crafted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_writer, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
