/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * wl-flow-bench: cycles per packet of decode and the flow layer (flow table,
 * TCP tracking, connection analytics, L7 parsing and pairing; no RX, no
 * copy, no collector: transactions are only counted) over a capture
 * held in memory, decoded burst by burst as the RX path does (so the
 * frame headers are in cache when the flow layer reads them), run again
 * and again through one table with
 * wirelat's default configuration, so its memory is warm after the first
 * run. The TSC is read around each burst of 32 packets; a burst that the
 * machine interrupted (another process on the CPU) is an outlier, so the
 * median burst is printed besides the best run's mean: on a shared
 * machine, the figure to compare two builds by (docs/benchmarks.md).
 * Only the public API is used, so the same file builds against an older
 * tree.
 *
 *   wl-flow-bench FILE.pcap [RUNS [MAX_FLOWS]]    (Ethernet, pcap or pcap-ns)
 */

#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>

#include "wl_flow.h"
#include "wl_pkt.h"
#include "wl_proto.h"
#include "wl_time.h"

static uint64_t ntxn;

static void
count(void *arg, struct wl_txn *t)
{
	(void)arg;
	(void)t;
	ntxn++;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A frame of the capture. */
struct frame {
	const uint8_t *data;
	uint32_t len;
	uint32_t wire_len;
	uint64_t ts_ns;
};

/* The capture's frames; *n their count. */
static struct frame *
load(const char *path, uint32_t *n)
{
	const uint8_t *d, *end;
	struct frame *fr;
	struct stat st;
	uint32_t magic, cap = 1024;
	int fd, ns;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 24) {
		perror(path);
		return NULL;
	}
	d = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE |
		MAP_POPULATE, fd, 0);
	if (d == MAP_FAILED) {
		perror("mmap");
		return NULL;
	}
	end = d + st.st_size;
	memcpy(&magic, d, 4);
	if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
		fprintf(stderr, "%s: not a little-endian pcap\n", path);
		return NULL;
	}
	ns = magic == 0xa1b23c4d;
	fr = malloc(cap * sizeof(*fr));
	*n = 0;
	for (d += 24; fr != NULL && d + 16 <= end;) {
		uint32_t h[4];

		memcpy(h, d, sizeof(h));
		d += 16;
		if (d + h[2] > end)
			break;
		if (*n == cap) {
			cap *= 2;
			fr = realloc(fr, cap * sizeof(*fr));
			if (fr == NULL)
				break;
		}
		fr[*n] = (struct frame){ d, h[2], h[3],
			(uint64_t)h[0] * WL_NS_PER_S +
			(uint64_t)h[1] * (ns ? 1 : 1000) };
		(*n)++;
		d += h[2];
	}
	return fr;
}

int
main(int argc, char **argv)
{
	char *eal[] = { "wl-flow-bench", "--no-huge", "-m", "4096",
		"--no-pci", "--no-shconf", "-l", "0", "--log-level", "*:error",
		NULL };
	static uint8_t port_proto[65536];
	const struct wl_txn_sink sink = { count, NULL };
	static uint64_t pctr[WL_PROTO_MAX * WL_PROTO_CTR_MAX];
	static struct wl_flow_stats fst;
	struct wl_flow_conf c;
	struct wl_flow_table *ft;
	struct wl_pkt p[WL_FLOW_BURST];
	struct frame *fr;
	uint32_t n, i, j, k, nb = 0, *burst;
	unsigned int runs, r;
	uint64_t span, off = 0, best = UINT64_MAX, hz;

	if (argc < 2) {
		fprintf(stderr, "usage: wl-flow-bench FILE.pcap [RUNS "
			"[MAX_FLOWS]]\n");
		return 2;
	}
	runs = argc > 2 ? (unsigned int)atoi(argv[2]) : 5;
	if (rte_eal_init(10, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	fr = load(argv[1], &n);
	if (fr == NULL || n == 0)
		return 1;
	span = fr[n - 1].ts_ns - fr[0].ts_ns + WL_NS_PER_S;
	/* wirelat's defaults (lib/config, app/wirelat flow_conf_init) */
	memset(&c, 0, sizeof(c));
	memset(port_proto, WL_PROTO_NONE, sizeof(port_proto));
	c.max_flows = argc > 3 ? (uint32_t)atoi(argv[3]) : 65536;
	c.tcp_idle_ms = 300000;
	c.tcp_closed_ms = 10000;
	c.tcp_syn_ms = 30000;
	c.udp_idle_ms = 30000;
	c.ooo_max_segs = 256;
	c.ooo_pool_segs = 8192;
	c.ooo_seg_bytes = 1600;
	c.l7_state_max = 16384;
	c.probe_max_bytes = 4096;
	c.port_proto = port_proto;
	c.rsp_timeout_ms[WL_PROTO_DNS] = 5000;
	c.conn_records = 1;
	c.conn_analytics = 1;
	c.stall_ms = 200;
	c.dedup_window_us = 1000;
	c.reorder_pkts = 32;
	c.reorder_ms = 10;
	c.pending_max = 32768;
	c.unproven_pct = 25;
	ft = wl_flow_table_create(&c, &sink, &fst, pctr, 1, SOCKET_ID_ANY);
	burst = malloc(((size_t)n / WL_FLOW_BURST + 1) * runs *
		sizeof(*burst));
	if (ft == NULL || burst == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	hz = rte_get_tsc_hz();
	for (r = 0; r < runs; r++) {
		uint64_t t0, t1, tot = 0, last = 0;

		/* Each run later in packet time: the table is empty then. */
		for (i = 0; i < n; i += WL_FLOW_BURST) {
			t0 = rte_rdtsc();
			for (j = i, k = 0; j < n && j < i + WL_FLOW_BURST; j++) {
				if (wl_pkt_decode(&p[k], fr[j].data, fr[j].len,
						WL_LINK_ETHER) != WL_PKT_OK ||
						(p[k].l4proto != IPPROTO_TCP &&
						p[k].l4proto != IPPROTO_UDP))
					continue;
				p[k].ts_ns = last = fr[j].ts_ns + off;
				p[k].ts_source = WL_TS_PCAP;
				p[k].wire_len = fr[j].wire_len;
				k++;
			}
			wl_flow_input_burst(ft, p, k);
			wl_flow_advance(ft, last);
			t1 = rte_rdtsc();
			tot += t1 - t0;
			/* the first run fills memory: not in the median */
			if (r > 0 && j > i)
				burst[nb++] = (uint32_t)((t1 - t0) * 16 /
					(j - i));
		}
		wl_flow_flush(ft, last + span / 2);
		off += span;
		printf("run %u: %.1f cycles/packet\n", r, (double)tot / n);
		if (r > 0 && tot < best)
			best = tot;
	}
	qsort(burst, nb, sizeof(*burst), cmp_u32);
	printf("%" PRIu32 " packets, %u runs, TSC %.3f GHz, %" PRIu64
		" transactions a run, %" PRIu64 " flows a run\n", n, runs,
		hz / 1e9, ntxn / runs, fst.c[WL_FLOW_CTR_CREATED] / runs);
	if (nb > 0)
		printf("best warm run %.1f cycles/packet; median burst %.1f, "
			"p25 %.1f\n", (double)best / n, burst[nb / 2] / 16.0,
			burst[nb / 4] / 16.0);
	wl_flow_table_free(ft);
	free(burst);
	free(fr);
	return 0;
}
