/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * wl-log-fmt: how many transactions per second one core formats into
 * transaction-log lines (wl_export_txn_write) and writes to a file with
 * 1 MiB write(2)s, as the collector does with --log (issue 15; the
 * figures are in docs/benchmarks.md). The records: 1,024 Redis and HTTP
 * transactions with varying ports, times, ids and resources, in turn.
 *
 *   wl-log-fmt FILE [N]        (FILE on tmpfs: /dev/shm/x.jsonl)
 */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wl_export.h"
#include "wl_jw.h"
#include "wl_proto.h"
#include "wl_txn.h"

#define NREC 1024

static int
flush_fd(struct wl_jw *w, void *arg)
{
	int fd = *(int *)arg;

	if (write(fd, w->buf, w->len) != (ssize_t)w->len)
		return -1;
	w->len = 0;
	return 0;
}

int
main(int argc, char **argv)
{
	static const uint8_t cli[4] = { 10, 1, 2, 3 }, srv[4] = { 10, 0, 0, 1 };
	static char buf[1 << 20];
	uint64_t i, n = argc > 2 ? strtoull(argv[2], NULL, 0) : 5000000;
	static struct wl_txn t[NREC];
	struct timespec a, b;
	struct wl_jw w;
	double s;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: wl-log-fmt FILE [N]\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	/* The records are made before the clock starts: what is timed is
	 * the formatting and the writes. */
	for (i = 0; i < NREC; i++) {
		struct wl_txn *x = &t[i];
		char key[32];

		x->proto = (i & 1) ? WL_PROTO_HTTP : WL_PROTO_REDIS;
		wl_txn_reset(x, wl_protos[x->proto]->txn_area);
		wl_addr_from_v4(&x->cli, cli);
		wl_addr_from_v4(&x->srv, srv);
		x->cli_port = (uint16_t)(30000 + i);
		x->kind = WL_TXN_KIND_TXN;
		x->status_class = WL_SC_OK;
		x->proto = (i & 1) ? WL_PROTO_HTTP : WL_PROTO_REDIS;
		x->srv_port = (i & 1) ? 80 : 6379;
		wl_txn_set_method(x, "GET");
		x->status_code = (i & 1) ? 200 : 0;
		x->req_start_ns = 1700000000000000000ULL + i * 1000;
		x->req_end_ns = x->req_start_ns + 300;
		x->rsp_start_ns = x->req_end_ns + 150000 + (i % 977) * 13;
		x->rsp_end_ns = x->rsp_start_ns + 2000;
		x->req_bytes = 40 + i % 200;
		x->rsp_bytes = 100 + i % 4000;
		x->flow_id = 281474976710657ULL + i / 100;
		snprintf(key, sizeof(key), "key:%08" PRIu64, i * 7919);
		wl_txn_set_resource(x, key);
		wl_txn_set_status(x, (i & 1) ? "200" : "+");
	}
	wl_jw_init(&w, buf, sizeof(buf), flush_fd, &fd);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		wl_export_txn_write(&t[i % NREC], &w);
		wl_jw_raw(&w, "\n", 1);
		if (w.cap - w.len < (64u << 10) && wl_jw_flush(&w) != 0)
			break;
	}
	if (wl_jw_flush(&w) != 0) {
		perror("write");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	close(fd);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%" PRIu64 " transactions in %.3f s: %.0f txn/s, %.0f ns/txn\n",
		n, s, (double)n / s, s * 1e9 / (double)n);
	return 0;
}
