/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer target for the flow table and TCP tracking. Raw frames would
 * spend the fuzzer's effort on checksums of headers the decoder already
 * has its own target for, so the input is a list of 12-byte segment
 * descriptions over a handful of endpoints: the tracker sees SYNs,
 * retransmissions, overlaps, holes, FINs and RSTs in every order, with
 * every registered protocol plus a probing one behind it. One table
 * lives across inputs (the EAL cannot be re-initialised); each input
 * ends with a flush, which must leave it empty.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include "wl_export.h"
#include "wl_flow.h"
#include "wl_flow_priv.h"
#include "wl_proto.h"

static uint8_t payload[2048];

static enum wl_probe
fz_probe(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	(void)dir;
	if (len == 0)
		return WL_PROBE_MAYBE;
	return d[0] == 'F' ? WL_PROBE_YES :
		d[0] == 'f' ? WL_PROBE_MAYBE : WL_PROBE_NO;
}

static int
fz_data(void *st, struct wl_proto_ctx *ctx, enum wl_dir dir,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	uint32_t i, sum = 0;

	(void)ctx;
	(void)dir;
	(void)ts;
	for (i = 0; i < len; i++)       /* touches every byte (ASan) */
		sum += d[i];
	*(uint32_t *)st += sum;
	return (sum & 0xff) == 0x42 ? WL_PROTO_DONE : WL_PROTO_CONTINUE;
}

static int
fz_gap(void *st, struct wl_proto_ctx *ctx, enum wl_dir dir, uint32_t len,
	uint64_t ts)
{
	(void)st;
	(void)ctx;
	(void)dir;
	(void)ts;
	return len == 7 ? WL_PROTO_DONE : WL_PROTO_CONTINUE;
}

static void
fz_close(void *st, struct wl_proto_ctx *ctx, uint32_t flags, uint64_t ts)
{
	(void)st;
	(void)ctx;
	(void)flags;
	(void)ts;
}

static const struct wl_proto_ops fz_ops = {
	.name = "fz",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 80 },
	.state_size = 32,
	.probe = fz_probe,
	.data = fz_data,
	.gap = fz_gap,
	.close = fz_close,
};

static const struct wl_proto_ops *protos[WL_PROTO_MAX + 1];
static struct wl_flow_table *ft;
static struct wl_flow_stats st;
static uint64_t pctr[(WL_PROTO_MAX + 1) * WL_PROTO_CTR_MAX];
static uint8_t port_proto[65536];
static uint64_t server_bits[1024];

/* Transactions and connection records render (the writer's lines read
 * back by jansson), and connections' durations fit the connection. */
static void
sink_emit(void *arg, struct wl_txn *t)
{
	const struct wl_conn *c = wl_txn_area_c(t);
	uint64_t span;
	json_t *j;
	int i;

	(void)arg;
	if (wl_txn_check(t) != 0)
		abort();
	if (t->kind != WL_TXN_KIND_CONN) {
		j = wl_export_txn_json(t);
		if (j == NULL)
			abort();
		json_decref(j);
		return;
	}
	span = t->rsp_end_ns >= t->req_start_ns ?
		t->rsp_end_ns - t->req_start_ns : 0;
	for (i = 0; i < 2; i++)
		if (c->d[i].stall_max_ns > span || c->d[i].zero_win_ns > span)
			abort();
	j = wl_export_conn_json(t);
	if (j == NULL)
		abort();
	json_decref(j);
}

static const struct wl_txn_sink sink = { sink_emit, NULL };
static struct wl_probe_db *probe_db;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz", "--no-huge", "-m", "128", "--no-pci",
		"--no-shconf", "-l", "0", "--log-level", "*:error", NULL };
	struct wl_flow_conf c;
	char err[256];
	unsigned int i;

	(void)argc;
	(void)argv;
	if (rte_eal_init(10, eal) < 0)
		abort();
	for (i = 0; i < WL_PROTO_MAX; i++)
		protos[i] = wl_protos[i];
	protos[WL_PROTO_MAX] = &fz_ops;
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i % 7 == 0 ? 'F' : i);
	memset(port_proto, WL_PROTO_NONE, sizeof(port_proto));
	port_proto[9] = WL_PROTO_MAX;
	server_bits[0] = 1ULL << 21;
	memset(&c, 0, sizeof(c));
	c.max_flows = 6;                /* small: eviction happens */
	c.unproven_pct = 50;            /* both eviction rules */
	c.tcp_idle_ms = 5;
	c.tcp_closed_ms = 2;
	c.tcp_syn_ms = 3;
	c.udp_idle_ms = 4;
	c.ooo_max_segs = 3;
	c.ooo_pool_segs = 8;
	c.ooo_seg_bytes = 600;
	c.l7_state_max = 3;
	c.probe_max_bytes = 900;
	c.server_ports = server_bits;
	c.port_proto = port_proto;
	c.protos = protos;
	c.n_protos = WL_PROTO_MAX + 1;
	/* Detection through the signature database, as wirelat runs it
	 * (kept here: the table's memory is not the heap LSan scans). */
	probe_db = wl_probe_db_create(protos, c.n_protos, err, sizeof(err));
	if (probe_db == NULL)
		abort();
	c.probe_db = probe_db;
	c.conn_records = 1;
	c.conn_analytics = 1;
	c.stall_ms = 1;
	c.reorder_pkts = 3;             /* causal holds, windows that expire */
	c.reorder_ms = 2;
	c.dedup_window_us = 500;
	ft = wl_flow_table_create(&c, &sink, &st, pctr, 0, SOCKET_ID_ANY);
	if (ft == NULL)
		abort();
	return 0;
}

/*
 * Record: [0] endpoint pair and direction, [1] TCP flags, [2..5] seq
 * offset, [6..9] ack offset, [10..11] payload length and offset. Pairs
 * 2 and 3 are IPv6 (their addresses in a part of the flow).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[] = { 80, 9, 21, 5555, 40000, 40001 };
	/* Packets go in bursts (the RX path's way), cut by the input. */
	static struct wl_pkt burst[2 * WL_FLOW_BURST + 3];
	uint64_t ts = 1000000;
	unsigned int nb = 0;
	struct wl_pkt p;
	size_t off;

	for (off = 0; off + 12 <= size; off += 12) {
		const uint8_t *r = data + off;
		unsigned int pair = r[0] & 3, rev = (r[0] >> 2) & 1;
		uint8_t a[4] = { 10, 0, 0, (uint8_t)(1 + pair) };
		uint8_t b[4] = { 10, 0, 1, 1 };
		uint16_t cport = ports[4 + (pair & 1)];
		uint16_t sport = ports[(r[0] >> 3) & 3];
		uint32_t len = ((uint32_t)r[10] << 8 | r[11]) % 1500;

		memset(&p, 0, sizeof(p));
		ts += (r[0] >> 5) * 1000000ULL;         /* up to 7 ms steps */
		p.ts_ns = ts;
		p.l4proto = (r[0] & 0xe0) == 0xe0 ? IPPROTO_UDP : IPPROTO_TCP;
		wl_addr_from_v4(rev ? &p.dst : &p.src, a);
		wl_addr_from_v4(rev ? &p.src : &p.dst, b);
		if (pair & 2) {
			/* 2001:db8::<pair> and 2001:db8::101 */
			static const uint8_t v6[4] = { 0x20, 0x01, 0x0d, 0xb8 };

			memset(p.src.a + 10, 0, 2);
			memset(p.dst.a + 10, 0, 2);
			memcpy(p.src.a, v6, 4);
			memcpy(p.dst.a, v6, 4);
		}
		p.sport = rev ? sport : cport;
		p.dport = rev ? cport : sport;
		p.tcp_flags = r[1];
		p.seq = 1000u + ((uint32_t)r[2] << 24 | (uint32_t)r[3] << 16 |
			(uint32_t)r[4] << 8 | r[5]);
		p.ack = 1000u + ((uint32_t)r[6] << 24 | (uint32_t)r[7] << 16 |
			(uint32_t)r[8] << 8 | r[9]);
		if (len > sizeof(payload) - (r[11] % 64))
			len = sizeof(payload) - (r[11] % 64);
		p.payload = payload + (r[11] % 64);
		p.payload_len = len;
		p.wire_len = 54 + len;
		burst[nb++] = p;
		if (nb == sizeof(burst) / sizeof(burst[0]) || r[1] == 0xff ||
				(r[0] & 0x1f) == 0x1f) {
			wl_flow_input_burst(ft, burst, nb);
			nb = 0;
		}
		if (r[1] == 0xff)
			wl_flow_advance(ft, ts);
	}
	wl_flow_input_burst(ft, burst, nb);
	wl_flow_flush(ft, ts);
	/* Empty, and the first rank's count (kept by hand) agrees. */
	if (wl_flow_count(ft) != 0 || ft->unproven != 0 ||
			ft->v6_pool.used != 0 || ft->ev_pool.used != 0 ||
			ft->extra_pool.used != 0 || ft->hs_pool.used != 0)
		abort();
	/* Every eviction is counted in exactly one rank. */
	if (st.c[WL_FLOW_CTR_EVICTED] != st.c[WL_FLOW_CTR_EVICTED_UNPROVEN] +
			st.c[WL_FLOW_CTR_EVICTED_CLOSED] +
			st.c[WL_FLOW_CTR_EVICTED_ESTABLISHED])
		abort();
	return 0;
}
