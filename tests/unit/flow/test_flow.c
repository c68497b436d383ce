/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Flow table and TCP tracking, driven with hand-built struct wl_pkt
 * (decode is tested in tests/unit/pkt). Two recording protocols stand in
 * for L7: "rec" (TCP, probe: payload starts with "REC") and "urec" (UDP,
 * probe: starts with 'U'); they log every callback into one string so a
 * test can assert the exact byte stream, gaps and close flags L7 saw.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <rte_malloc.h>

#include "wl_export.h"
#include "wl_flow.h"
#include "wl_flow_priv.h"
#include "wl_proto.h"
#include "tcp/wl_tcp.h"
#include "wl_test_eal.h"
#include "wl_time.h"

/* ---- recording protocols ---- */

static char plog[8192];
static uint64_t rec_last_ts;    /* time of the last bytes delivered */

static void
logf_(const char *fmt, ...)
{
	size_t n = strlen(plog);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(plog + n, sizeof(plog) - n, fmt, ap);
	va_end(ap);
}

static enum wl_probe
rec_probe(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	(void)dir;
	if (len < 3)
		return memcmp(d, "REC", len) == 0 ? WL_PROBE_MAYBE : WL_PROBE_NO;
	return memcmp(d, "REC", 3) == 0 ? WL_PROBE_YES : WL_PROBE_NO;
}

static int
rec_data(void *st, struct wl_proto_ctx *ctx, enum wl_dir dir,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	(void)ctx;
	rec_last_ts = ts;
	*(uint32_t *)st += len;
	logf_("d%d:%.*s|", dir, (int)len, (const char *)d);
	return WL_PROTO_CONTINUE;
}

static int
rec_gap(void *st, struct wl_proto_ctx *ctx, enum wl_dir dir, uint32_t len,
	uint64_t ts)
{
	(void)st;
	(void)ctx;
	(void)ts;
	logf_("g%d:%u|", dir, len);
	return WL_PROTO_CONTINUE;
}

static void
rec_close(void *st, struct wl_proto_ctx *ctx, uint32_t flags, uint64_t ts)
{
	(void)st;
	(void)ctx;
	(void)ts;
	logf_("c:%x|", flags);
}

static const struct wl_proto_ops rec_ops = {
	.name = "rec",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 7777 },
	.state_size = 64,
	.probe = rec_probe,
	.data = rec_data,
	.gap = rec_gap,
	.close = rec_close,
};

static enum wl_probe
urec_probe(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	(void)dir;
	return len > 0 && d[0] == 'U' ? WL_PROBE_YES : WL_PROBE_NO;
}

static const struct wl_proto_ops urec_ops = {
	.name = "urec",
	.l4proto = IPPROTO_UDP,
	.state_size = 16,
	.probe = urec_probe,
	.data = rec_data,
	.gap = rec_gap,
	.close = rec_close,
};

extern const struct wl_proto_ops wl_proto_tcp_ops;
enum { P_TCP, P_REC, P_UREC, P_MAX };
static const struct wl_proto_ops *const test_protos[P_MAX] = {
	&wl_proto_tcp_ops, &rec_ops, &urec_ops,
};

/* ---- fixture ---- */

static struct wl_txn txns[256];
static unsigned int ntxn, nconn;
static struct wl_flow_stats fst;
static uint64_t pctr[P_MAX * WL_PROTO_CTR_MAX];
static uint64_t server_bits[1024];
static uint8_t port_proto[65536];
static struct wl_flow_conf conf;
static struct wl_flow_table *ft;

/* The record's bytes alone, the rest zero: runs compare with memcmp. */
static void
sink_emit(void *arg, struct wl_txn *t)
{
	(void)arg;
	if (t->kind == WL_TXN_KIND_CONN)
		nconn++;
	assert_true(ntxn < 256);
	assert_int_equal(wl_txn_check(t), 0);
	memset(&txns[ntxn], 0, sizeof(txns[ntxn]));
	wl_txn_copy(&txns[ntxn++], t);
}

static const struct wl_txn_sink sink = { sink_emit, NULL };

static void
conf_default(void)
{
	memset(&conf, 0, sizeof(conf));
	conf.max_flows = 64;
	conf.tcp_idle_ms = 60000;
	conf.tcp_closed_ms = 1000;
	conf.tcp_syn_ms = 5000;
	conf.udp_idle_ms = 30000;
	conf.ooo_max_segs = 8;
	conf.ooo_pool_segs = 64;
	conf.ooo_seg_bytes = 1500;
	conf.conn_analytics = 1;
	conf.stall_ms = 200;
	conf.l7_state_max = 16;
	conf.probe_max_bytes = 1024;
	conf.server_ports = server_bits;
	conf.port_proto = port_proto;
	conf.protos = test_protos;
	conf.n_protos = P_MAX;
}

static void
table_new(void)
{
	memset(&fst, 0, sizeof(fst));
	memset(pctr, 0, sizeof(pctr));
	memset(txns, 0, sizeof(txns));
	ntxn = nconn = 0;
	plog[0] = '\0';
	ft = wl_flow_table_create(&conf, &sink, &fst, pctr, 3, SOCKET_ID_ANY);
	assert_non_null(ft);
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(wl_test_eal_init(), 0);
	memset(server_bits, 0, sizeof(server_bits));
	memset(port_proto, WL_PROTO_NONE, sizeof(port_proto));
	conf_default();
	table_new();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	wl_flow_table_free(ft);
	ft = NULL;
	return 0;
}

#define CLI 0x0a000001u
#define SRV 0x0a000002u

static void
addr4(struct wl_addr *a, uint32_t ip)
{
	uint8_t b[4] = { ip >> 24, ip >> 16, ip >> 8, ip };

	wl_addr_from_v4(a, b);
}

/* 2001:db8::<h>, or ::ffff:0.0.0.<h> when h is 0x100 and more (an IPv6
 * packet with v4-mapped addresses) */
static void
addr6(struct wl_addr *a, unsigned int h)
{
	static const uint8_t pfx[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	memset(a, 0, sizeof(*a));
	if (h >= 0x100) {
		a->a[10] = a->a[11] = 0xff;
		a->a[15] = (uint8_t)h;
		return;
	}
	memcpy(a->a, pfx, sizeof(pfx));
	a->a[15] = (uint8_t)h;
}

/* A TCP segment from (sip, sp) to (dip, dp), window 1000. */
static void
tcp_fill(struct wl_pkt *p, uint64_t ts, uint32_t sip, uint16_t sp,
	uint32_t dip, uint16_t dp, uint8_t flags, uint32_t seq, uint32_t ack,
	const char *data)
{
	memset(p, 0, sizeof(*p));
	p->ts_ns = ts;
	p->ts_source = 2;
	addr4(&p->src, sip);
	addr4(&p->dst, dip);
	p->sport = sp;
	p->dport = dp;
	p->ip_version = 4;
	p->l4proto = IPPROTO_TCP;
	p->tcp_flags = flags;
	p->seq = seq;
	p->ack = ack;
	p->payload = (const uint8_t *)data;
	p->payload_len = data != NULL ? (uint32_t)strlen(data) : 0;
	p->wire_len = 54 + p->payload_len;
	p->tcp_window = 1000;
}

static void
seg(uint64_t ts, uint32_t sip, uint16_t sp, uint32_t dip, uint16_t dp,
	uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
	struct wl_pkt p;

	tcp_fill(&p, ts, sip, sp, dip, dp, flags, seq, ack, data);
	wl_flow_input(ft, &p);
}

/* An IPv6 TCP segment between hosts 2001:db8::<sh> and 2001:db8::<dh>. */
static void
seg6(uint64_t ts, unsigned int sh, uint16_t sp, unsigned int dh, uint16_t dp,
	uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
	struct wl_pkt p;

	tcp_fill(&p, ts, 0, sp, 0, dp, flags, seq, ack, data);
	addr6(&p.src, sh);
	addr6(&p.dst, dh);
	p.ip_version = 6;
	wl_flow_input(ft, &p);
}

/* A segment of the client (c2s) or the server of port 7777 with window,
 * IP ID and SACK blocks set. */
static void
segw(uint64_t ts, int c2s, uint8_t flags, uint32_t seq, uint32_t ack,
	const char *data, uint32_t win, uint16_t ipid, uint8_t nsack)
{
	struct wl_pkt p;

	if (c2s)
		tcp_fill(&p, ts, CLI, 40000, SRV, 7777, flags, seq, ack, data);
	else
		tcp_fill(&p, ts, SRV, 7777, CLI, 40000, flags, seq, ack, data);
	p.ip_id = ipid;
	p.tcp_window = win;
	p.nsack = nsack;
	wl_flow_input(ft, &p);
}

/* A segment whose capture kept only data of its wire_len bytes. */
static void
seg_cut(uint64_t ts, uint16_t dp, uint32_t seq, uint32_t ack,
	const char *data, uint32_t wire_len)
{
	struct wl_pkt p;

	tcp_fill(&p, ts, CLI, 40000, SRV, dp, WL_TCP_ACK, seq, ack, data);
	p.seg_len = wire_len;
	wl_flow_input(ft, &p);
}

static void
udp(uint64_t ts, uint32_t sip, uint16_t sp, uint32_t dip, uint16_t dp,
	const char *data)
{
	struct wl_pkt p;

	memset(&p, 0, sizeof(p));
	p.ts_ns = ts;
	addr4(&p.src, sip);
	addr4(&p.dst, dip);
	p.sport = sp;
	p.dport = dp;
	p.l4proto = IPPROTO_UDP;
	p.payload = (const uint8_t *)data;
	p.payload_len = (uint32_t)strlen(data);
	p.wire_len = 42 + p.payload_len;
	wl_flow_input(ft, &p);
}

#define ISN_C 1000u
#define ISN_S 5000u
#define F(x) WL_TCP_ ## x
#define C2S(ts, fl, seq, ack, d) seg(ts, CLI, 40000, SRV, port, fl, seq, ack, d)
#define S2C(ts, fl, seq, ack, d) seg(ts, SRV, port, CLI, 40000, fl, seq, ack, d)

/* SYN at t, SYN/ACK at t+srtt, ACK at t+srtt+crtt. */
static void
handshake(uint16_t port, uint64_t t, uint64_t srtt, uint64_t crtt)
{
	C2S(t, F(SYN), ISN_C, 0, NULL);
	S2C(t + srtt, F(SYN) | F(ACK), ISN_S, ISN_C + 1, NULL);
	C2S(t + srtt + crtt, F(ACK), ISN_C + 1, ISN_S + 1, NULL);
}

static const struct wl_txn *
find_hs(unsigned int nth)
{
	unsigned int i;

	for (i = 0; i < ntxn; i++)
		if (txns[i].kind == WL_TXN_KIND_TXN &&
				strcmp(wl_txn_method(&txns[i]), "handshake") == 0 &&
				nth-- == 0)
			return &txns[i];
	return NULL;
}

static uint64_t
ctr(enum wl_flow_ctr c)
{
	return fst.c[c];
}

/* ---- handshake ---- */

static void
test_handshake_exact(void **state)
{
	const uint16_t port = 8080;
	const struct wl_txn *t;
	const struct wl_tcp_txn *x;
	struct wl_addr a;

	(void)state;
	handshake(port, 1000000000123ULL, 123456, 7890);
	t = find_hs(0);
	assert_non_null(t);
	x = wl_txn_area_c(t);
	assert_int_equal(t->proto, WL_PROTO_TCP);
	assert_int_equal(t->req_start_ns, 1000000000123ULL);
	assert_int_equal(wl_txn_duration(t), 123456);
	assert_int_equal(x->client_rtt_ns, 7890);
	assert_int_equal(t->status_class, WL_SC_OK);
	assert_int_equal(t->cli_port, 40000);
	assert_int_equal(t->srv_port, port);
	addr4(&a, SRV);
	assert_memory_equal(&t->srv, &a, sizeof(a));
	assert_int_equal(t->lcore, 3);
	assert_int_equal(ctr(WL_FLOW_CTR_HANDSHAKES), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_TXNS), 1);
	assert_int_equal(pctr[P_TCP * WL_PROTO_CTR_MAX + WL_PROTO_CTR_TXNS], 1);
	assert_int_equal(wl_flow_count(ft), 1);
}

/* A flow whose packets come from two clocks (a NIC that stamped some
 * frames, the kernel the others): no duration, flagged, counted. */
static void
test_clock_mixed(void **state)
{
	const uint16_t port = 8080;
	const struct wl_txn *t;
	struct wl_pkt p;

	(void)state;
	C2S(1000000, F(SYN), ISN_C, 0, NULL);
	tcp_fill(&p, 1000500, SRV, port, CLI, 40000, F(SYN) | F(ACK), ISN_S,
		ISN_C + 1, NULL);
	p.ts_source = 4;        /* another clock than the SYN's */
	wl_flow_input(ft, &p);
	C2S(1000900, F(ACK), ISN_C + 1, ISN_S + 1, NULL);
	t = find_hs(0);
	assert_non_null(t);
	assert_true(t->flags & WL_TXN_F_CLOCK_MIXED);
	assert_int_equal(wl_txn_duration(t), 0);
	assert_int_equal(wl_txn_ttfb(t), 0);
	assert_false(wl_txn_timed(t));
	assert_int_equal(ctr(WL_FLOW_CTR_CLOCK_MIXED), 1);
	/* One clock: timed as ever. */
	handshake(port + 1, 2000000, 100, 10);
	t = find_hs(1);
	assert_non_null(t);
	assert_false(t->flags & WL_TXN_F_CLOCK_MIXED);
	assert_int_equal(wl_txn_duration(t), 100);
	assert_int_equal(ctr(WL_FLOW_CTR_CLOCK_MIXED), 1);
}

static void
test_syn_retrans(void **state)
{
	const uint16_t port = 8080;
	const struct wl_txn *t;

	(void)state;
	C2S(1000, F(SYN), ISN_C, 0, NULL);
	C2S(1000 + 1000000000ULL, F(SYN), ISN_C, 0, NULL);
	S2C(1000 + 1000000500ULL, F(SYN) | F(ACK), ISN_S, ISN_C + 1, NULL);
	S2C(1000 + 1000000900ULL, F(SYN) | F(ACK), ISN_S, ISN_C + 1, NULL);
	C2S(1000 + 1000001000ULL, F(ACK), ISN_C + 1, ISN_S + 1, NULL);
	t = find_hs(0);
	assert_non_null(t);
	/* First SYN to last SYN/ACK; the answered SYN's RTT is 500 ns. */
	assert_int_equal(t->req_start_ns, 1000);
	assert_int_equal(t->req_end_ns, 1000 + 1000000000ULL);
	assert_int_equal(t->rsp_start_ns, 1000 + 1000000500ULL);
	assert_int_equal(t->rsp_end_ns, 1000 + 1000000900ULL);
	assert_int_equal(wl_txn_duration(t), 1000000900ULL);
	assert_int_equal(wl_txn_ttfb(t), 500);
	assert_int_equal(((const struct wl_tcp_txn *)wl_txn_area_c(t))->syn_retrans,
		1);
	assert_int_equal(((const struct wl_tcp_txn *)wl_txn_area_c(t))->synack_retrans, 1);
	assert_int_equal(((const struct wl_tcp_txn *)wl_txn_area_c(t))->client_rtt_ns, 100);
}

static void
test_syn_unanswered(void **state)
{
	const uint16_t port = 8080;
	const struct wl_txn *t;

	(void)state;
	C2S(1000, F(SYN), ISN_C, 0, NULL);
	wl_flow_advance(ft, 1000 + 4999 * WL_NS_PER_MS);
	assert_int_equal(wl_flow_count(ft), 1);
	wl_flow_advance(ft, 1000 + 5000 * WL_NS_PER_MS);
	assert_int_equal(wl_flow_count(ft), 0);
	t = find_hs(0);
	assert_non_null(t);
	assert_true(t->flags & WL_TXN_F_NO_RESPONSE);
	assert_true(t->flags & WL_TXN_F_TIMEOUT);
	assert_int_equal(t->rsp_end_ns, 0);
	assert_int_equal(ctr(WL_FLOW_CTR_SYN_UNANSWERED), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_EXPIRED), 1);
}

static void
test_refused(void **state)
{
	const uint16_t port = 8080;
	const struct wl_txn *t;

	(void)state;
	C2S(1000, F(SYN), ISN_C, 0, NULL);
	S2C(1300, F(RST) | F(ACK), 0, ISN_C + 1, NULL);
	t = find_hs(0);
	assert_non_null(t);
	assert_string_equal(wl_txn_status(t), "refused");
	assert_int_equal(t->status_class, WL_SC_ERROR);
	assert_int_equal(wl_txn_duration(t), 300);
	assert_int_equal(ctr(WL_FLOW_CTR_REFUSED), 1);
	/* A late RST of nothing is stray, not a new flow. */
	seg(2000, CLI, 1, SRV, 2, F(RST), 1, 0, NULL);
	assert_int_equal(ctr(WL_FLOW_CTR_STRAY), 1);
	assert_int_equal(wl_flow_count(ft), 1);
}

/* ---- reassembly ---- */

static void
test_in_order_and_reorder(void **state)
{
	const uint16_t port = 7777;

	(void)state;
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK) | F(PSH), ISN_C + 1, ISN_S + 1, "REC-a");
	C2S(2100, F(ACK) | F(PSH), ISN_C + 10, ISN_S + 1, "cccc");
	C2S(2200, F(ACK) | F(PSH), ISN_C + 6, ISN_S + 1, "bbbb");
	/* "cccc" was captured at 2100 but the stream had it at 2200. */
	assert_int_equal(rec_last_ts, 2200);
	S2C(2300, F(ACK) | F(PSH), ISN_S + 1, ISN_C + 14, "ok");
	assert_string_equal(plog, "d0:REC-a|d0:bbbb|d0:cccc|d1:ok|");
	assert_int_equal(ctr(WL_FLOW_CTR_OOO_SEGS), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_L7_DETECTED), 1);
	assert_int_equal(pctr[P_REC * WL_PROTO_CTR_MAX + WL_PROTO_CTR_FLOWS], 1);
}

static void
test_retrans_and_overlap(void **state)
{
	const uint16_t port = 7777;

	(void)state;
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "REC0123456");
	C2S(2100, F(ACK), ISN_C + 1, ISN_S + 1, "REC0123456");
	C2S(2200, F(ACK), ISN_C + 6, ISN_S + 1, "23456789");
	C2S(2300, F(ACK), ISN_C + 1, ISN_S + 1, "REC");
	assert_string_equal(plog, "d0:REC0123456|d0:789|");
	assert_int_equal(ctr(WL_FLOW_CTR_RETRANS_SEGS), 2);
	assert_int_equal(ctr(WL_FLOW_CTR_RETRANS_BYTES), 13 + 5);  /* + the overlap's old part */
	assert_int_equal(ctr(WL_FLOW_CTR_OVERLAP_SEGS), 1);
}

static void
test_gap_from_ack(void **state)
{
	const uint16_t port = 7777;

	(void)state;
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "REC4567890");
	/* ISN_C + 11 .. + 21 lost by the capture */
	C2S(2200, F(ACK), ISN_C + 21, ISN_S + 1, "0123456789");
	assert_string_equal(plog, "d0:REC4567890|");
	S2C(2300, F(ACK), ISN_S + 1, ISN_C + 31, "ok");
	assert_string_equal(plog,
		"d0:REC4567890|g0:10|d0:0123456789|d1:ok|");
	assert_int_equal(ctr(WL_FLOW_CTR_GAPS), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_GAP_BYTES), 10);
	/* An ACK past everything with nothing held is a gap too. */
	S2C(2400, F(ACK), ISN_S + 3, ISN_C + 36, NULL);
	assert_int_equal(ctr(WL_FLOW_CTR_GAP_BYTES), 15);
}

static void
test_snaplen_cut(void **state)
{
	const uint16_t port = 7777;

	(void)state;
	handshake(port, 1000, 10, 10);
	seg_cut(2000, port, ISN_C + 1, ISN_S + 1, "REC", 10);
	C2S(2100, F(ACK), ISN_C + 11, ISN_S + 1, "next");
	assert_string_equal(plog, "d0:REC|g0:7|d0:next|");
	assert_int_equal(ctr(WL_FLOW_CTR_GAP_BYTES), 7);
}

static void
test_gap_from_ooo_overflow(void **state)
{
	const uint16_t port = 7777;
	unsigned int i;
	char d[8];

	(void)state;
	teardown(NULL);
	conf.ooo_max_segs = 2;
	table_new();
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "REC1");
	/* ISN_C + 5 .. + 9 lost; one-sided: no ACK will tell */
	for (i = 0; i < 3; i++) {
		snprintf(d, sizeof(d), "seg%u", i);
		C2S(2100 + i, F(ACK), ISN_C + 9 + 4 * i, ISN_S + 1, d);
	}
	assert_string_equal(plog, "d0:REC1|g0:4|d0:seg0|d0:seg1|d0:seg2|");
	assert_int_equal(ctr(WL_FLOW_CTR_OOO_SEGS), 2);
}

/* A reordered segment bigger than a slot takes several (64 kB segments of
 * loopback captures get reordered across CPUs). */
static void
test_big_segment_reordered(void **state)
{
	static char big[2001], want[8192];
	const uint16_t port = 7777;

	(void)state;
	memset(big, 'b', sizeof(big) - 1);
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "REC4");
	/* 2000 bytes lost for now; "nnnn" and 2000 more come first. */
	C2S(2100, F(ACK), ISN_C + 5 + 2000, ISN_S + 1, "nnnn");
	C2S(2200, F(ACK), ISN_C + 5 + 2004, ISN_S + 1, big);
	C2S(2250, F(ACK), ISN_C + 5 + 2004, ISN_S + 1, big);
	C2S(2300, F(ACK), ISN_C + 5, ISN_S + 1, big);
	assert_int_equal(ctr(WL_FLOW_CTR_GAPS), 0);
	assert_int_equal(ctr(WL_FLOW_CTR_OOO_DROPPED), 0);
	assert_int_equal(ctr(WL_FLOW_CTR_OOO_SEGS), 2);
	/* Held again while held: retransmitted, both of its slots. */
	assert_int_equal(ctr(WL_FLOW_CTR_RETRANS_SEGS), 2);
	/* Held in 1500-byte slots, delivered slot by slot. */
	snprintf(want, sizeof(want), "d0:REC4|d0:%s|d0:nnnn|d0:%.1500s|"
		"d0:%.500s|", big, big, big);
	assert_string_equal(plog, want);
}

/* Loss and disorder of one connection, in ms, against struct wl_conn. */
static void
test_conn_analytics(void **state)
{
	const uint64_t ms = WL_NS_PER_MS;
	const uint32_t s0 = ISN_S + 1, c0 = ISN_C + 1;
	const struct wl_conn *c;
	json_t *j, *ipg;
	uint64_t med;

	(void)state;
	teardown(NULL);
	conf.conn_records = 1;
	table_new();
	segw(1000 * ms, 1, F(SYN), ISN_C, 0, NULL, 1000, 1, 0);
	segw(1010 * ms, 0, F(SYN) | F(ACK), ISN_S, c0, NULL, 1000, 499, 0);
	segw(1030 * ms, 1, F(ACK), c0, s0, NULL, 1000, 2, 0);
	segw(2000 * ms, 1, F(ACK), c0, s0, "REC-get", 1000, 3, 0);
	segw(3000 * ms, 0, F(ACK), s0, c0 + 7, "aaaa", 1000, 500, 0);
	segw(3100 * ms, 0, F(ACK), s0 + 4, c0 + 7, "bbbb", 1000, 501, 0);
	segw(3300 * ms, 0, F(ACK), s0 + 8, c0 + 7, "cccc", 1000, 502, 0);
	segw(3350 * ms, 0, F(ACK), s0 + 12, c0 + 7, "dddd", 1000, 503, 0);
	segw(3400 * ms, 0, F(ACK), s0 + 16, c0 + 7, "eeee", 1000, 504, 0);
	/* "ffff" is late: "gggg" comes ahead of it, two IDs later */
	segw(4400 * ms, 0, F(ACK), s0 + 24, c0 + 7, "gggg", 1000, 507, 0);
	segw(4410 * ms, 1, F(ACK), c0 + 7, s0 + 20, NULL, 1000, 4, 1);
	segw(4420 * ms, 1, F(ACK), c0 + 7, s0 + 20, NULL, 1000, 5, 0);
	segw(4500 * ms, 0, F(ACK), s0 + 20, c0 + 7, "ffff", 1000, 508, 0);
	segw(4600 * ms, 1, F(ACK), c0 + 7, s0 + 28, NULL, 0, 6, 0);
	segw(4900 * ms, 1, F(ACK), c0 + 7, s0 + 28, NULL, 1000, 7, 0);
	segw(5000 * ms, 0, F(ACK), s0 + 24, c0 + 7, "gggg", 1000, 509, 0);
	segw(5100 * ms, 1, F(FIN) | F(ACK), c0 + 7, s0 + 28, NULL, 1000, 8, 0);
	segw(5200 * ms, 0, F(FIN) | F(ACK), s0 + 28, c0 + 8, NULL, 1000, 510,
		0);
	segw(5300 * ms, 1, F(ACK), c0 + 8, s0 + 29, NULL, 1000, 9, 0);
	wl_flow_flush(ft, 6000 * ms);
	assert_int_equal(nconn, 1);
	c = wl_txn_area_c(&txns[ntxn - 1]);
	assert_int_equal(txns[ntxn - 1].kind, WL_TXN_KIND_CONN);
	assert_int_equal(c->server_rtt_ns, 10 * ms);
	assert_int_equal(c->client_rtt_ns, 20 * ms);
	assert_int_equal(c->d[1].retrans, 1);
	assert_int_equal(c->d[1].retrans_bytes, 4);
	assert_int_equal(c->d[1].ooo, 1);
	assert_int_equal(c->d[1].delivered, 28);
	assert_int_equal(c->d[0].dup_acks, 1);
	assert_int_equal(c->d[1].dup_acks, 0);
	assert_int_equal(c->d[0].sack_blocks, 1);
	assert_int_equal(c->d[0].zero_win, 1);
	assert_int_equal(c->d[0].zero_win_ns, 300 * ms);
	assert_int_equal(c->d[1].ipid_gaps, 1);
	assert_int_equal(c->d[1].ipid_missing, 2);
	assert_int_equal(c->d[0].ipid_gaps, 0);
	/* Burst gaps: 100 200 50 50 1000 100 500 ms; ACKs do not break it. */
	assert_int_equal(c->d[1].stall_max_ns, 1000 * ms);
	assert_int_equal(c->d[1].stalls, 3);
	assert_int_equal(c->ipg_count, 7);
	assert_int_equal(c->ipg_min_ns, 50 * ms);
	assert_int_equal(c->fin_side, WL_CONN_SIDE_CLIENT);
	j = wl_export_conn_json(&txns[ntxn - 1]);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "close")),
		"fin_client");
	assert_int_equal(json_integer_value(json_object_get(j,
		"server_rtt_ns")), 10 * ms);
	assert_int_equal(json_integer_value(json_object_get(j, "bytes_s2c")),
		28);
	assert_int_equal(json_integer_value(json_object_get(j, "retrans_s2c")),
		1);
	assert_int_equal(json_integer_value(json_object_get(j, "ooo_s2c")), 1);
	ipg = json_object_get(j, "ipg_s2c");
	/* median 100 ms: the middle of its bucket [65.5, 131) ms */
	med = (uint64_t)json_integer_value(json_object_get(ipg, "median_ns"));
	assert_true(med > 65 * ms && med < 131 * ms);
	assert_int_equal(json_integer_value(json_object_get(ipg,
		"above_threshold")), 3);
	json_decref(j);
}

/* Picked up mid-stream: no handshake, so no RTT fields at all. */
static void
test_conn_midstream_no_rtt(void **state)
{
	const uint16_t port = 7777;
	json_t *j;

	(void)state;
	teardown(NULL);
	conf.conn_records = 1;
	table_new();
	C2S(1000, F(ACK), 100, 200, "REC-x");
	S2C(1100, F(ACK), 200, 105, "ok");
	wl_flow_flush(ft, 2000);
	assert_int_equal(nconn, 1);
	j = wl_export_conn_json(&txns[ntxn - 1]);
	assert_null(json_object_get(j, "server_rtt_ns"));
	assert_null(json_object_get(j, "client_rtt_ns"));
	assert_string_equal(json_string_value(json_object_get(j, "close")),
		"end_of_capture");
	json_decref(j);
}

static void
test_seq_wrap_and_fin(void **state)
{
	const uint16_t port = 7777;
	const uint32_t c = 0xfffffffau;

	(void)state;
	C2S(1000, F(SYN), c, 0, NULL);
	S2C(1100, F(SYN) | F(ACK), ISN_S, c + 1, NULL);
	C2S(1200, F(ACK), c + 1, ISN_S + 1, NULL);
	C2S(1300, F(ACK), c + 11, ISN_S + 1, "wrapped");
	C2S(1400, F(ACK), c + 1, ISN_S + 1, "REC4567890");
	C2S(1500, F(ACK) | F(FIN), c + 18, ISN_S + 1, NULL);
	assert_int_equal(ctr(WL_FLOW_CTR_CLOSED), 0);
	S2C(1600, F(ACK) | F(FIN), ISN_S + 1, c + 19, NULL);
	assert_int_equal(ctr(WL_FLOW_CTR_CLOSED), 1);
	C2S(1700, F(ACK), c + 19, ISN_S + 2, NULL);
	assert_string_equal(plog, "d0:REC4567890|d0:wrapped|c:200|");
	assert_int_equal(ctr(WL_FLOW_CTR_CLOSED), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_GAPS), 0);
	/* Lingers for tcp_closed_ms, then leaves without another close. */
	wl_flow_advance(ft, 1700 + 999 * WL_NS_PER_MS);
	assert_int_equal(wl_flow_count(ft), 1);
	wl_flow_advance(ft, 1700 + 1000 * WL_NS_PER_MS);
	assert_int_equal(wl_flow_count(ft), 0);
	assert_string_equal(plog, "d0:REC4567890|d0:wrapped|c:200|");
	assert_int_equal(ctr(WL_FLOW_CTR_EXPIRED), 0);
}

/* ---- roles and detection ---- */

static void
test_midstream_roles(void **state)
{
	const uint16_t port = 7777;
	const struct wl_txn *t;

	(void)state;
	teardown(NULL);
	conf.conn_records = 1;
	table_new();
	/* First packet is the server's: the default port decides. */
	S2C(1000, F(ACK), 9000, 2000, "REC-response");
	C2S(1100, F(ACK), 2000, 9012, "REC-request");
	assert_string_equal(plog, "d1:REC-response|d0:REC-request|");
	assert_int_equal(ctr(WL_FLOW_CTR_MIDSTREAM), 1);
	/* Configured server port beats the lower port. */
	server_bits[50000 / 64] |= 1ULL << (50000 % 64);
	seg(1200, CLI, 1234, SRV, 50000, F(ACK), 1, 1, "x");
	seg(1300, CLI, 60001, SRV, 60000, F(ACK), 1, 1, "y");
	seg(1400, SRV, 50000, CLI, 1235, F(ACK), 1, 1, "z");
	server_bits[50000 / 64] = 0;
	wl_flow_flush(ft, 2000);
	assert_int_equal(nconn, 4);
	assert_int_equal(wl_flow_count(ft), 0);
	for (t = txns; t < txns + ntxn; t++) {
		const struct wl_conn *c = wl_txn_area_c(t);

		assert_int_equal(t->kind, WL_TXN_KIND_CONN);
		assert_int_equal(c->end, WL_CONN_END_END_OF_CAPTURE);
		assert_true(c->flags & (1u << WL_CONN_F_BIT_MIDSTREAM));
		if (t->cli_port == 40000) {
			assert_int_equal(t->srv_port, 7777);
			assert_int_equal(c->d[0].pkts, 1);
			assert_int_equal(c->d[1].bytes, 54 + 12);
			assert_int_equal(c->d[0].payload, 11);
		} else if (t->cli_port == 1234 || t->cli_port == 1235) {
			assert_int_equal(t->srv_port, 50000);
		} else {
			assert_int_equal(t->cli_port, 60001);
			assert_int_equal(t->srv_port, 60000);
		}
	}
}

static void
test_probe_any_port_and_unknown(void **state)
{
	const uint16_t port = 5555;

	(void)state;
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "REC on an odd port");
	assert_string_equal(plog, "d0:REC on an odd port|");
	seg(3000, CLI, 40001, SRV, 5556, F(SYN), 1, 0, NULL);
	seg(3001, SRV, 5556, CLI, 40001, F(SYN) | F(ACK), 1, 2, NULL);
	seg(3002, CLI, 40001, SRV, 5556, F(ACK), 2, 2, "nope");
	assert_int_equal(ctr(WL_FLOW_CTR_L7_UNKNOWN), 0);
	seg(3003, SRV, 5556, CLI, 40001, F(ACK), 2, 6, "nah");
	assert_int_equal(ctr(WL_FLOW_CTR_L7_UNKNOWN), 1);
	seg(3004, CLI, 40001, SRV, 5556, F(ACK), 6, 5, "REC too late");
	assert_string_equal(plog, "d0:REC on an odd port|");
}

/*
 * Picked up mid-stream, the server's long answer first: it uses up its
 * own share of probe bytes, not its client's, whose request is what
 * probes know.
 */
static void
test_probe_share_per_direction(void **state)
{
	const uint16_t port = 7777;
	char big[1201];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	S2C(1000, F(ACK), 9000, 2000, big);
	assert_int_equal(ctr(WL_FLOW_CTR_L7_UNKNOWN), 0);
	C2S(1100, F(ACK), 2000, 9000 + 1200, "REC late");
	assert_string_equal(plog, "d0:REC late|");
	assert_int_equal(ctr(WL_FLOW_CTR_L7_UNKNOWN), 0);
}

static void
test_probe_byte_at_a_time(void **state)
{
	const uint16_t port = 5555;

	(void)state;
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "R");
	C2S(2001, F(ACK), ISN_C + 2, ISN_S + 1, "E");
	assert_string_equal(plog, "");
	C2S(2002, F(ACK), ISN_C + 3, ISN_S + 1, "C!");
	C2S(2003, F(ACK), ISN_C + 5, ISN_S + 1, "x");
	assert_string_equal(plog, "d0:RE|d0:C!|d0:x|");
}

static void
test_pinned_port(void **state)
{
	const uint16_t port = 9999;

	(void)state;
	port_proto[9999] = P_REC;
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "not a REC start");
	port_proto[9999] = WL_PROTO_NONE;
	assert_string_equal(plog, "d0:not a REC start|");
	/* Disabled protocols are neither pinned nor probed. */
	teardown(NULL);
	conf.proto_disabled = 1u << P_REC;
	table_new();
	handshake(7777, 1000, 10, 10);
	seg(2000, CLI, 40000, SRV, 7777, F(ACK), ISN_C + 1, ISN_S + 1, "REC");
	assert_string_equal(plog, "");
}

/* ---- burst input ---- */

/* Deterministic pseudo-random stream, independent of libc. */
static uint32_t
rnd32(uint64_t *st)
{
	*st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*st >> 33);
}

/*
 * wl_flow_input_burst() must give exactly what wl_flow_input() gives one
 * packet at a time, with flows created, closed and evicted inside a burst
 * (a freed slot reused by a later packet of the same burst).
 */
static void
test_burst_equivalence(void **state)
{
	enum { NP = 400, NF = 20 };
	static const char *const data[] = { NULL, "REC1", "REC22", "xyz" };
	static struct wl_pkt pk[NP];
	static char log_a[sizeof(plog)];
	static struct wl_txn txn_a[256];
	uint32_t seqs[NF][2];
	struct wl_flow_stats fst_a;
	uint64_t pctr_a[P_MAX * WL_PROTO_CTR_MAX], st = 42;
	unsigned int i, n, ntxn_a;

	(void)state;
	for (i = 0; i < NF; i++)
		seqs[i][0] = seqs[i][1] = 1000 * i;
	for (i = 0; i < NP; i++) {
		struct wl_pkt *p = &pk[i];
		unsigned int f = rnd32(&st) % NF, dir = rnd32(&st) & 1;
		uint32_t r = rnd32(&st) % 16;

		memset(p, 0, sizeof(*p));
		p->ts_ns = 1000 + i * 1000ULL;
		addr4(&p->src, dir ? SRV : CLI + f);
		addr4(&p->dst, dir ? CLI + f : SRV);
		p->sport = dir ? 7777 : (uint16_t)(30000 + f);
		p->dport = dir ? (uint16_t)(30000 + f) : 7777;
		p->l4proto = (f % 7 == 6) ? IPPROTO_UDP : IPPROTO_TCP;
		p->tcp_flags = r == 0 ? F(SYN) : r == 1 ? F(SYN) | F(ACK) :
			r == 2 ? F(RST) : r == 3 ? F(FIN) | F(ACK) : F(ACK);
		p->seq = seqs[f][dir];
		p->ack = seqs[f][!dir];
		p->payload = (const uint8_t *)data[r % 4];
		p->payload_len = data[r % 4] ? (uint32_t)strlen(data[r % 4]) : 0;
		seqs[f][dir] += p->payload_len + (p->tcp_flags & F(SYN) ? 1 : 0);
		p->wire_len = 54 + p->payload_len;
	}

	teardown(NULL);
	conf.max_flows = 8;
	table_new();
	for (i = 0; i < NP; i++)
		wl_flow_input(ft, &pk[i]);
	wl_flow_flush(ft, 2000000);
	memcpy(log_a, plog, sizeof(plog));
	memcpy(txn_a, txns, sizeof(txns));
	ntxn_a = ntxn;
	fst_a = fst;
	memcpy(pctr_a, pctr, sizeof(pctr));
	assert_true(fst.c[WL_FLOW_CTR_EVICTED] > 0);

	teardown(NULL);
	table_new();
	for (i = 0; i < NP; i += n) {
		n = 1 + rnd32(&st) % (2 * WL_FLOW_BURST + 5);
		if (n > NP - i)
			n = NP - i;
		wl_flow_input_burst(ft, &pk[i], n);
	}
	wl_flow_flush(ft, 2000000);
	assert_string_equal(plog, log_a);
	assert_int_equal(ntxn, ntxn_a);
	assert_memory_equal(txns, txn_a, sizeof(txns));
	assert_memory_equal(&fst, &fst_a, sizeof(fst));
	assert_memory_equal(pctr, pctr_a, sizeof(pctr));

	/* Targeted: a full table of two; one burst where the first packet
	 * evicts flow A and reuses its slot, the next is A's again. */
	for (i = 0; i < 3; i++) {
		struct wl_pkt *p = &pk[i];

		memset(p, 0, sizeof(*p));
		addr4(&p->src, CLI + i);
		addr4(&p->dst, SRV);
		p->sport = 30000;
		p->dport = 7777;
		p->l4proto = IPPROTO_TCP;
		p->tcp_flags = F(SYN);
		p->ts_ns = 1000 + i;
		p->wire_len = 60;
	}
	pk[3] = pk[0];
	pk[3].ts_ns = 2000;
	pk[3].tcp_flags = F(ACK);
	teardown(NULL);
	conf.max_flows = 2;
	table_new();
	wl_flow_input_burst(ft, pk, 2);         /* A, B */
	wl_flow_input_burst(ft, &pk[2], 2);     /* C evicts A; A again */
	wl_flow_flush(ft, 3000);
	/* A came back as a new (mid-stream) flow and pushed B out; C kept
	 * its own packet only. */
	assert_int_equal(fst.c[WL_FLOW_CTR_CREATED], 4);
	assert_int_equal(fst.c[WL_FLOW_CTR_EVICTED], 2);
	assert_int_equal(fst.c[WL_FLOW_CTR_MIDSTREAM], 1);
}

/* ---- table bounds ---- */

static void
test_eviction(void **state)
{
	unsigned int i;

	(void)state;
	teardown(NULL);
	conf.max_flows = 4;
	table_new();
	for (i = 0; i < 10; i++)
		seg(1000 + i, CLI, (uint16_t)(10000 + i), SRV, 80, F(SYN), 1, 0,
			NULL);
	assert_int_equal(wl_flow_count(ft), 4);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED), 6);
	assert_int_equal(ctr(WL_FLOW_CTR_CREATED), 10);
	assert_int_equal(ctr(WL_FLOW_CTR_ACTIVE), 4);
	/* The six oldest went, each reported as an evicted unanswered SYN. */
	assert_int_equal(ntxn, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(txns[i].cli_port, 10000 + i);
		assert_true(txns[i].flags & WL_TXN_F_EVICTED);
	}
	/* Activity refreshes: flow 6 survives the next eviction. */
	seg(2000, CLI, 10006, SRV, 80, F(SYN), 1, 0, NULL);
	seg(2001, CLI, 20000, SRV, 80, F(SYN), 1, 0, NULL);
	assert_int_equal(txns[6].cli_port, 10007);
}

/* The connection record of client port cport, the nth if several. */
static const struct wl_conn *
find_conn(uint16_t cport, unsigned int nth)
{
	unsigned int i;

	for (i = 0; i < ntxn; i++)
		if (txns[i].kind == WL_TXN_KIND_CONN &&
				txns[i].cli_port == cport && nth-- == 0)
			return wl_txn_area_c(&txns[i]);
	return NULL;
}

/* Each handshake says what its connection's record will: the collector
 * folds by the transaction's flag, the syn_unanswered lines by the
 * record. */
static void
assert_hs_syn_only(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < ntxn; i++) {
		const struct wl_txn *t = &txns[i];
		const struct wl_conn *c;

		if (t->kind != WL_TXN_KIND_TXN || t->proto != WL_PROTO_TCP)
			continue;
		c = find_conn(t->cli_port, 0);
		if (c == NULL)
			continue;       /* still in the table */
		assert_int_equal((t->flags & WL_TXN_F_SYN_ONLY) != 0,
			wl_flow_conn_syn_only(c));
		n += (t->flags & WL_TXN_F_SYN_ONLY) != 0;
	}
	assert_true(n > 0);
}

static void
assert_ranks_add_up(void)
{
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED),
		ctr(WL_FLOW_CTR_EVICTED_UNPROVEN) +
		ctr(WL_FLOW_CTR_EVICTED_CLOSED) +
		ctr(WL_FLOW_CTR_EVICTED_ESTABLISHED));
}

/*
 * A full table evicts flows that never proved a conversation (half-open,
 * one way only) and closed ones before those that carried traffic both
 * ways, each rank least recently active first: a SYN flood does not push
 * out idle established connections.
 */
static void
test_evict_rank(void **state)
{
	const uint16_t port = 7777;
	unsigned int i;

	(void)state;
	teardown(NULL);
	conf.max_flows = 4;
	conf.conn_records = 2;
	table_new();
	/* E: established, then idle with a request waiting for its answer. */
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "REC q");
	/* M: picked up mid-stream; proven by the server's packet. */
	seg(3000, CLI, 40001, SRV, port, F(ACK), 1, 1, "REC a");
	seg(3001, SRV, port, CLI, 40001, F(ACK), 1, 6, NULL);
	/* A flood, every SYN newer than both: only SYNs go. */
	for (i = 0; i < 10; i++)
		seg(10000 + i, CLI, (uint16_t)(10000 + i), SRV, 80, F(SYN), 1,
			0, NULL);
	assert_int_equal(wl_flow_count(ft), 4);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED), 8);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_UNPROVEN), 8);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_ESTABLISHED), 0);
	for (i = 0; i < 8; i++) {
		const struct wl_conn *c = find_conn((uint16_t)(10000 + i), 0);

		assert_non_null(c);
		assert_int_equal(c->end, WL_CONN_END_EVICTED);
		assert_true(c->flags & (1u << WL_CONN_F_BIT_UNANSWERED));
		assert_true(wl_flow_conn_syn_only(c));
		/* Left the table when the SYN that took its place came. */
		assert_int_equal(c->left_ns, 10002 + i);
	}
	assert_hs_syn_only();
	assert_null(find_conn(40000, 0));
	assert_null(find_conn(40001, 0));

	/* O: one way only (no answer yet); R: refused, closed. The first
	 * rank is one LRU across half-open, one-way and closed flows. */
	seg(20000, CLI, 40002, SRV, port, F(ACK), 1, 1, "REC o");
	seg(20100, CLI, 40003, SRV, 8080, F(SYN), ISN_C, 0, NULL);
	seg(20200, SRV, 8080, CLI, 40003, F(RST) | F(ACK), 0, ISN_C + 1,
		NULL);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_UNPROVEN), 10);
	seg(30000, CLI, 40004, SRV, 80, F(SYN), ISN_C, 0, NULL);
	assert_non_null(find_conn(40002, 0));   /* O, the oldest */
	assert_false(wl_flow_conn_syn_only(find_conn(40002, 0)));
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_UNPROVEN), 11);
	seg(30001, CLI, 40005, SRV, 80, F(SYN), ISN_C, 0, NULL);
	assert_non_null(find_conn(40003, 0));   /* R */
	assert_int_equal(find_conn(40003, 0)->end, WL_CONN_END_RESET);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_CLOSED), 1);

	/* Both SYNs answered: every flow proven, the least recently active
	 * goes, its L7 closed as evicted. That is M: E saw a packet since
	 * it was queued, which buys it a second chance (oldest()). */
	for (i = 0; i < 2; i++) {
		uint16_t cp = (uint16_t)(40004 + i);

		seg(30100 + i, SRV, 80, CLI, cp, F(SYN) | F(ACK), ISN_S,
			ISN_C + 1, NULL);
		seg(30200 + i, CLI, cp, SRV, 80, F(ACK), ISN_C + 1, ISN_S + 1,
			NULL);
	}
	plog[0] = '\0';
	seg(40000, CLI, 40006, SRV, 80, F(SYN), ISN_C, 0, NULL);
	assert_non_null(find_conn(40001, 0));   /* M */
	assert_int_equal(find_conn(40001, 0)->end, WL_CONN_END_EVICTED);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_ESTABLISHED), 1);
	{
		char want[32];

		snprintf(want, sizeof(want), "c:%x|", WL_TXN_F_EVICTED);
		assert_string_equal(plog, want);
	}
	/* The new SYN is the first rank again: E stays. */
	seg(40001, CLI, 40007, SRV, 80, F(SYN), ISN_C, 0, NULL);
	assert_non_null(find_conn(40006, 0));
	assert_null(find_conn(40000, 0));
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_ESTABLISHED), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED), 14);
	assert_ranks_add_up();
}

/*
 * flow.unproven_pct: below their share of the table, unproven flows do
 * not push each other out (young handshakes and queries waiting for
 * their answer); the least recently active flow goes, whatever its rank.
 * Past it, only they go.
 */
static void
test_evict_share(void **state)
{
	unsigned int i;

	(void)state;
	teardown(NULL);
	conf.max_flows = 8;
	conf.unproven_pct = 50;         /* 4 flows */
	conf.conn_records = 2;
	table_new();
	/* Six established connections, idle since. */
	for (i = 0; i < 6; i++) {
		uint16_t cp = (uint16_t)(40000 + i);

		seg(1000 + i, CLI, cp, SRV, 80, F(SYN), ISN_C, 0, NULL);
		seg(1100 + i, SRV, 80, CLI, cp, F(SYN) | F(ACK), ISN_S,
			ISN_C + 1, NULL);
		seg(1200 + i, CLI, cp, SRV, 80, F(ACK), ISN_C + 1, ISN_S + 1,
			NULL);
	}
	/* SYNs: two fill the table; while the unproven are at most 4 the
	 * three oldest connections go, then only SYNs. */
	for (i = 0; i < 8; i++)
		seg(2000 + i, CLI, (uint16_t)(10000 + i), SRV, 80, F(SYN),
			ISN_C, 0, NULL);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_ESTABLISHED), 3);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_UNPROVEN), 3);
	for (i = 0; i < 6; i++)
		assert_true((find_conn((uint16_t)(40000 + i), 0) != NULL) ==
			(i < 3));
	for (i = 0; i < 8; i++)
		assert_true((find_conn((uint16_t)(10000 + i), 0) != NULL) ==
			(i < 3));
	assert_int_equal(wl_flow_count(ft), 8);
	assert_ranks_add_up();
}

/* UDP answered outranks UDP one way; a SYN/ACK seen first is proven by
 * the client's ACK, like a flow picked up mid-stream. */
static void
test_evict_rank_udp_synack(void **state)
{
	(void)state;
	teardown(NULL);
	conf.max_flows = 2;
	conf.conn_records = 2;
	table_new();
	udp(1000, CLI, 5353, SRV, 9000, "Uquery");
	udp(1100, SRV, 9000, CLI, 5353, "Uanswer");
	udp(2000, CLI, 5354, SRV, 9000, "Uquery");
	udp(3000, CLI, 5355, SRV, 9000, "Uquery");
	assert_non_null(find_conn(5354, 0));
	assert_null(find_conn(5353, 0));
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_UNPROVEN), 1);

	teardown(NULL);
	table_new();
	seg(1000, SRV, 80, CLI, 40000, F(SYN) | F(ACK), ISN_S, ISN_C + 1,
		NULL);
	seg(1010, CLI, 40000, SRV, 80, F(ACK), ISN_C + 1, ISN_S + 1, NULL);
	seg(2000, CLI, 40001, SRV, 80, F(SYN), ISN_C, 0, NULL);
	seg(2001, CLI, 40002, SRV, 80, F(SYN), ISN_C, 0, NULL);
	seg(2002, CLI, 40003, SRV, 80, F(SYN), ISN_C, 0, NULL);
	assert_null(find_conn(40000, 0));
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_UNPROVEN), 2);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_ESTABLISHED), 0);
	/* Unanswered so far, but no SYN alone: not a flood's. */
	assert_int_equal(ft->unproven, 1);      /* 40003 */
	wl_flow_flush(ft, 3000);
	assert_int_equal(ft->unproven, 0);
	assert_false(wl_flow_conn_syn_only(find_conn(40000, 0)));
	assert_true(wl_flow_conn_syn_only(find_conn(40003, 0)));
	assert_hs_syn_only();
	assert_ranks_add_up();
}

static void
test_idle_timeout(void **state)
{
	const uint16_t port = 7777;

	(void)state;
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "REC");
	wl_flow_advance(ft, 2000 + 59999 * WL_NS_PER_MS);
	assert_int_equal(wl_flow_count(ft), 1);
	wl_flow_advance(ft, 2000 + 60000 * WL_NS_PER_MS);
	assert_int_equal(wl_flow_count(ft), 0);
	assert_string_equal(plog, "d0:REC|c:8|");
	assert_int_equal(ctr(WL_FLOW_CTR_EXPIRED), 1);
}

static void
test_l7_state_pool(void **state)
{
	(void)state;
	teardown(NULL);
	conf.l7_state_max = 1;
	table_new();
	seg(1000, CLI, 1, SRV, 7777, F(ACK), 1, 1, "REC a");
	seg(1001, CLI, 2, SRV, 7777, F(ACK), 1, 1, "REC b");
	assert_string_equal(plog, "d0:REC a|");
	assert_int_equal(ctr(WL_FLOW_CTR_L7_STATE_FULL), 1);
	/* The slot comes back when its flow ends. */
	seg(1002, CLI, 1, SRV, 7777, F(RST), 6, 1, NULL);
	seg(1003, CLI, 3, SRV, 7777, F(ACK), 1, 1, "REC c");
	assert_string_equal(plog, "d0:REC a|c:200|d0:REC c|");
}

/* Each protocol has its own pool, its slots the size of its state:
 * one protocol's full pool does not stop another's flows. */
static void
test_l7_pool_per_proto(void **state)
{
	(void)state;
	teardown(NULL);
	conf.l7_state_max = 1;
	table_new();
	assert_int_equal(ft->l7_pool[P_REC].slot, RTE_CACHE_LINE_SIZE);
	assert_int_equal(ft->l7_pool[P_UREC].slot, RTE_CACHE_LINE_SIZE);
	assert_int_equal(ft->l7_pool[P_TCP].n, 0);
	seg(1000, CLI, 1, SRV, 7777, F(ACK), 1, 1, "REC a");
	udp(1001, CLI, 2, SRV, 9999, "U1");
	seg(1002, CLI, 3, SRV, 7777, F(ACK), 1, 1, "REC b");
	assert_string_equal(plog, "d0:REC a|d0:U1|");
	assert_int_equal(ft->l7_pool[P_REC].used, 1);
	assert_int_equal(ft->l7_pool[P_UREC].used, 1);
	assert_int_equal(ctr(WL_FLOW_CTR_L7_STATE_FULL), 1);
	/* A disabled protocol has no pool. */
	teardown(NULL);
	conf.proto_disabled = 1u << P_UREC;
	table_new();
	assert_int_equal(ft->l7_pool[P_UREC].n, 0);
	assert_int_equal(ft->l7_pool[P_REC].n, 1);
	/* A protocol's own count (protocols.state_max) sizes its pool. */
	teardown(NULL);
	conf.proto_disabled = 0;
	conf.l7_state_proto[P_UREC] = 5;
	table_new();
	assert_int_equal(ft->l7_pool[P_UREC].n, 5);
	assert_int_equal(ft->l7_pool[P_REC].n, 1);
	assert_int_equal(wl_flow_table_mem(&conf) - 4 * RTE_CACHE_LINE_SIZE,
		wl_flow_table_mem(&(struct wl_flow_conf){ .max_flows =
		conf.max_flows, .ooo_pool_segs = conf.ooo_pool_segs,
		.ooo_seg_bytes = conf.ooo_seg_bytes, .conn_analytics = 1,
		.l7_state_max = 1, .protos = conf.protos,
		.n_protos = conf.n_protos }));
}

static enum wl_probe
drec_probe(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	(void)dir;
	return len > 0 && d[0] == 'D' ? WL_PROBE_YES : WL_PROBE_NO;
}

/* UDP first, TCP second, with a larger state on TCP (as DNS). */
static const struct wl_proto_ops drec_ops = {
	.name = "drec",
	.l4proto = IPPROTO_UDP,
	.l4proto2 = IPPROTO_TCP,
	.state_size = 16,
	.state_size2 = 200,
	.probe = drec_probe,
	.probe2 = drec_probe,
	.data = rec_data,
	.gap = rec_gap,
	.close = rec_close,
};

/* A protocol on two transports has a pool for each, each slot the size
 * of that transport's state. */
static void
test_l7_pool_two_transports(void **state)
{
	static const struct wl_proto_ops *const protos[] = {
		&wl_proto_tcp_ops, &drec_ops,
	};

	(void)state;
	teardown(NULL);
	conf.protos = protos;
	conf.n_protos = RTE_DIM(protos);
	table_new();
	assert_int_equal(ft->l7_pool[1].slot, 64);
	assert_int_equal(ft->l7_pool[WL_FLOW_PROTOS + 1].slot, 256);
	assert_int_equal(ft->l7_pool[WL_FLOW_PROTOS].n, 0);
	udp(1000, CLI, 40001, SRV, 9999, "D1");
	seg(1001, CLI, 40002, SRV, 9998, F(ACK), 1, 1, "D2");
	assert_string_equal(plog, "d0:D1|d0:D2|");
	assert_int_equal(ft->l7_pool[1].used, 1);
	assert_int_equal(ft->l7_pool[WL_FLOW_PROTOS + 1].used, 1);
	assert_int_equal(wl_flow_table_mem(&conf) - sizeof(*ft) -
		(ft->l7_pool[1].n * 64 + ft->l7_pool[WL_FLOW_PROTOS + 1].n *
		256), wl_flow_table_mem(&(struct wl_flow_conf){
		.max_flows = conf.max_flows, .ooo_pool_segs = conf.ooo_pool_segs,
		.ooo_seg_bytes = conf.ooo_seg_bytes,
		.conn_analytics = conf.conn_analytics,
		.protos = protos, .n_protos = RTE_DIM(protos),
		.pending_max = conf.pending_max }) - sizeof(*ft));
}

/* wl_flow_table_mem() is what creating the table takes from the heap:
 * eal.memory_mb is sized by it. */
static void
test_table_mem(void **state)
{
	struct rte_malloc_socket_stats a, b;
	struct wl_flow_table *t;
	uint64_t want;
	int sock = rte_socket_id_by_idx(0);

	(void)state;
	conf.max_flows = 10000;
	conf.l7_state_max = 1000;
	conf.dedup_window_us = 1000;
	conf.pending_max = 500;
	want = wl_flow_table_mem(&conf);
	assert_int_equal(rte_malloc_get_socket_stats(sock, &a), 0);
	t = wl_flow_table_create(&conf, &sink, &fst, pctr, 4, sock);
	assert_non_null(t);
	assert_int_equal(rte_malloc_get_socket_stats(sock, &b), 0);
	/* Each allocation adds its header and alignment: 20 of them. */
	assert_true(b.heap_allocsz_bytes - a.heap_allocsz_bytes >= want);
	assert_true(b.heap_allocsz_bytes - a.heap_allocsz_bytes <=
		want + 20 * 256);
	/* Every enabled protocol's pool counts. */
	conf.proto_disabled = 1u << P_REC;
	assert_int_equal(want - wl_flow_table_mem(&conf),
		(uint64_t)conf.l7_state_max * RTE_CACHE_LINE_SIZE);
	wl_flow_table_free(t);
}

static void
test_port_reuse(void **state)
{
	const uint16_t port = 8080;

	(void)state;
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK) | F(FIN), ISN_C + 1, ISN_S + 1, NULL);
	S2C(2001, F(ACK) | F(FIN), ISN_S + 1, ISN_C + 2, NULL);
	C2S(3000, F(SYN), ISN_C + 99999, 0, NULL);
	S2C(3050, F(SYN) | F(ACK), ISN_S, ISN_C + 100000, NULL);
	C2S(3060, F(ACK), ISN_C + 100000, ISN_S + 1, NULL);
	assert_int_equal(ctr(WL_FLOW_CTR_PORT_REUSE), 1);
	assert_non_null(find_hs(1));
	assert_int_equal(wl_txn_duration(find_hs(1)), 50);
}

static void
test_udp(void **state)
{
	(void)state;
	teardown(NULL);
	conf.conn_records = 2;    /* every flow, UDP too */
	table_new();
	udp(1000, CLI, 5353, SRV, 9000, "Uquery");
	udp(1100, SRV, 9000, CLI, 5353, "Uanswer");
	udp(1200, CLI, 5353, SRV, 9000, "Uquery2");
	assert_string_equal(plog, "d0:Uquery|d1:Uanswer|d0:Uquery2|");
	wl_flow_advance(ft, 1200 + 30000 * WL_NS_PER_MS);
	assert_int_equal(wl_flow_count(ft), 0);
	assert_int_equal(nconn, 1);
	assert_int_equal(txns[0].srv_port, 9000);
	assert_int_equal(((const struct wl_conn *)wl_txn_area_c(&txns[0]))->d[0].pkts,
		2);
	assert_int_equal(ctr(WL_FLOW_CTR_UDP), 1);
}

/* ---- reorder window and causal order ---- */

static void
window_on(uint32_t pkts, uint32_t ms)
{
	teardown(NULL);
	conf.reorder_pkts = pkts;
	conf.reorder_ms = ms;
	table_new();
}

/* The answer and the next request trade places at the tap: the request's
 * ACK shows the client had the answer, so L7 gets the answer first. */
static void
test_causal_swap(void **state)
{
	const uint16_t port = 7777;

	(void)state;
	window_on(32, 10);
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "REC1");
	C2S(2100, F(ACK), ISN_C + 5, ISN_S + 4, "req2");
	assert_string_equal(plog, "d0:REC1|");
	assert_int_equal(ctr(WL_FLOW_CTR_CAUSAL_HELD), 1);
	S2C(2200, F(ACK), ISN_S + 1, ISN_C + 5, "ok1");
	/* Each at its own capture time, in the order causality says. */
	assert_string_equal(plog, "d0:REC1|d1:ok1|d0:req2|");
	assert_int_equal(rec_last_ts, 2100);
	assert_int_equal(ctr(WL_FLOW_CTR_GAPS), 0);
	assert_int_equal(ctr(WL_FLOW_CTR_REORDER_EXPIRED), 0);
	assert_int_equal(ctr(WL_FLOW_CTR_RETRANS_SEGS), 0);
}

/* A hole the peer acknowledged waits for the window, then is lost; what
 * waited behind it follows. By packets, then by time with no packet. */
static void
test_reorder_window_expires(void **state)
{
	const uint16_t port = 7777;
	unsigned int i;

	(void)state;
	window_on(4, 10);
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "REC1");
	/* "ok1" (3 bytes) never reaches the tap. */
	C2S(2100, F(ACK), ISN_C + 5, ISN_S + 4, "req2");
	for (i = 0; i < 4; i++) {
		assert_string_equal(plog, "d0:REC1|");
		S2C(2200 + i, F(ACK), ISN_S + 4, ISN_C + 5, NULL);
	}
	assert_string_equal(plog, "d0:REC1|g1:3|d0:req2|");
	assert_int_equal(ctr(WL_FLOW_CTR_REORDER_EXPIRED), 1);
	/* The same with no packet after: the timer list ends it. */
	C2S(3000, F(ACK), ISN_C + 9, ISN_S + 10, "req3");
	assert_string_equal(plog, "d0:REC1|g1:3|d0:req2|");
	wl_flow_advance(ft, 3000 + 10 * WL_NS_PER_MS - 1);
	assert_string_equal(plog, "d0:REC1|g1:3|d0:req2|");
	wl_flow_advance(ft, 3000 + 10 * WL_NS_PER_MS);
	assert_string_equal(plog, "d0:REC1|g1:3|d0:req2|g1:6|d0:req3|");
	assert_int_equal(ctr(WL_FLOW_CTR_REORDER_EXPIRED), 2);
	/* Nothing left waiting: the end of the flow adds nothing. */
	wl_flow_flush(ft, 4000);
	assert_string_equal(plog,
		"d0:REC1|g1:3|d0:req2|g1:6|d0:req3|c:20|");
}

/* A hole filled inside the window is no gap, with or without a window
 * (the window only delays the verdict). */
static void
test_reorder_window_filled(void **state)
{
	const uint16_t port = 7777;

	(void)state;
	window_on(32, 10);
	handshake(port, 1000, 10, 10);
	C2S(2000, F(ACK), ISN_C + 1, ISN_S + 1, "REC1");
	S2C(2050, F(ACK), ISN_S + 1, ISN_C + 5, "ok");
	/* The client's ACK passes "more", which comes after it. */
	C2S(2100, F(ACK), ISN_C + 5, ISN_S + 7, NULL);
	S2C(2200, F(ACK), ISN_S + 3, ISN_C + 5, "more");
	assert_string_equal(plog, "d0:REC1|d1:ok|d1:more|");
	wl_flow_flush(ft, 3000);
	assert_int_equal(ctr(WL_FLOW_CTR_GAPS), 0);
	assert_int_equal(ctr(WL_FLOW_CTR_REORDER_EXPIRED), 0);
}

/* ---- capture duplicates ---- */

static void
test_dedup(void **state)
{
	const uint16_t port = 7777;

	(void)state;
	teardown(NULL);
	conf.dedup_window_us = 1000;
	conf.conn_records = 1;
	table_new();
	handshake(port, 1000, 10, 10);
	/* Each frame twice, the copy 500 ns later: the SYN copy is no SYN
	 * retransmission, the data copy no retransmission. */
	segw(2000, 1, F(ACK), ISN_C + 1, ISN_S + 1, "REC1", 1000, 7, 0);
	segw(2500, 1, F(ACK), ISN_C + 1, ISN_S + 1, "REC1", 1000, 7, 0);
	assert_string_equal(plog, "d0:REC1|");
	assert_int_equal(ctr(WL_FLOW_CTR_DUPLICATE), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_RETRANS_SEGS), 0);
	/* Resent with a new IP ID: a retransmission, however soon. */
	segw(2600, 1, F(ACK), ISN_C + 1, ISN_S + 1, "REC1", 1000, 8, 0);
	assert_int_equal(ctr(WL_FLOW_CTR_RETRANS_SEGS), 1);
	/* The same frame outside the window: a retransmission too. */
	segw(2600 + 1000 * 1024 + 1, 1, F(ACK), ISN_C + 1, ISN_S + 1, "REC1",
		1000, 8, 0);
	assert_int_equal(ctr(WL_FLOW_CTR_RETRANS_SEGS), 2);
	assert_int_equal(ctr(WL_FLOW_CTR_DUPLICATE), 1);
	wl_flow_flush(ft, 9000000);
	assert_int_equal(((const struct wl_conn *)wl_txn_area_c(&txns[ntxn - 1]))->
		d[0].pkts, 5);
}

/* ---- memory: the table at its size, and the part pools ---- */

static unsigned long nemit;

static void
count_only(void *arg, struct wl_txn *t)
{
	(void)arg;
	(void)t;
	nemit++;
}

static const struct wl_txn_sink count_sink = { count_only, NULL };

/* Client i of many: its own address and port. */
static void
many_seg(uint64_t ts, unsigned int i, int c2s, uint8_t flags, uint32_t seq,
	uint32_t ack)
{
	uint32_t ip = CLI + 16 + (i >> 8);
	uint16_t cp = (uint16_t)(20000 + (i & 255));

	if (c2s)
		seg(ts, ip, cp, SRV, 9999, flags, seq, ack, NULL);
	else
		seg(ts, SRV, 9999, ip, cp, flags, seq, ack, NULL);
}

/* Every part pool is back to empty. */
static void
assert_pools_empty(void)
{
	unsigned int i;

	assert_int_equal(ft->hs_pool.used, 0);
	assert_int_equal(ft->extra_pool.used, 0);
	assert_int_equal(ft->v6_pool.used, 0);
	assert_int_equal(ft->ev_pool.used, 0);
	assert_int_equal(ft->probe_pool.used, 0);
	assert_int_equal(ft->stash_pool.used, 0);
	assert_int_equal(ft->ro_pool.used, 0);
	for (i = 0; i < RTE_DIM(ft->l7_pool); i++)
		assert_int_equal(ft->l7_pool[i].used, 0);
	assert_int_equal(ft->ooo_pool.used, 0);
}

/*
 * A table filled to flow.max_flows takes every flow (85% of the buckets'
 * ways: cuckoo moves make the room) and finds each again; entries freed
 * and reused keep the buckets right.
 */
static void
test_table_full_load(void **state)
{
	enum { N = 30000 };
	unsigned int i;

	(void)state;
	teardown(NULL);
	conf.max_flows = N;
	memset(&fst, 0, sizeof(fst));
	nemit = 0;
	ft = wl_flow_table_create(&conf, &count_sink, &fst, pctr, 3,
		SOCKET_ID_ANY);
	assert_non_null(ft);
	for (i = 0; i < N; i++)
		many_seg(1000 + i, i, 1, F(SYN), 100 * i, 0);
	assert_int_equal(ctr(WL_FLOW_CTR_CREATED), N);
	assert_int_equal(ctr(WL_FLOW_CTR_HASH_FULL), 0);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED), 0);
	assert_int_equal(ctr(WL_FLOW_CTR_ACTIVE_PEAK), N);
	assert_int_equal(ctr(WL_FLOW_CTR_HANDSHAKE_PEAK), N);
	/* Each found again: the handshakes complete, no flow is added. */
	for (i = 0; i < N; i++) {
		many_seg(50000 + i, i, 0, F(SYN) | F(ACK), 7, 100 * i + 1);
		many_seg(90000 + i, i, 1, F(ACK), 100 * i + 1, 8);
	}
	assert_int_equal(ctr(WL_FLOW_CTR_CREATED), N);
	assert_int_equal(ctr(WL_FLOW_CTR_HANDSHAKES), N);
	assert_int_equal(ft->hs_pool.used, 0);
	/* Half close and leave; as many new ones take their entries. */
	for (i = 0; i < N; i += 2)
		many_seg(130000 + i, i, 1, F(RST), 100 * i + 1, 8);
	/* A bounded number of expiries per call. */
	for (i = 0; i < N / WL_EXPIRE_BUDGET + 1; i++)
		wl_flow_advance(ft, 130000 + N + 1001 * WL_NS_PER_MS);
	assert_int_equal(wl_flow_count(ft), N / 2);
	for (i = N; i < N + N / 2; i++)
		many_seg(2000 * WL_NS_PER_MS + i, i, 1, F(SYN), 100 * i, 0);
	assert_int_equal(wl_flow_count(ft), N);
	assert_int_equal(ctr(WL_FLOW_CTR_HASH_FULL), 0);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED), 0);
	for (i = 1; i < N + N / 2; i += (i < N ? 2 : 1))
		many_seg(3000 * WL_NS_PER_MS + i, i, 1, F(ACK), 100 * i + 1, 8);
	assert_int_equal(ctr(WL_FLOW_CTR_CREATED), N + N / 2);
	wl_flow_flush(ft, 4000 * WL_NS_PER_MS);
	assert_int_equal(wl_flow_count(ft), 0);
	assert_pools_empty();
	/* One handshake each: established, or unanswered at the end. */
	assert_int_equal(nemit, N + N / 2);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 2001:db9::/64, the interface id from i: 64 bits that differ (a CRC
 * tells apart any two keys that differ within 32 bits). */
static void
twin_addr(struct wl_addr *a, uint32_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	addr6(a, 0);
	a->a[3] = 0xb9;
	memcpy(a->a + 8, &x, 8);
}

/*
 * Two IPv6 flows whose keys hash alike (found by a birthday search over
 * the table's own hash): the lookup must tell them apart by the
 * addresses in their parts, not by the hash the entry keeps.
 */
static void
test_ipv6_hash_twins(void **state)
{
	enum { N = 1 << 18 };
	uint64_t *hv = malloc(N * sizeof(*hv));
	struct wl_flow_key k;
	struct wl_pkt p;
	uint32_t a = 0, b = 0;
	unsigned int i, side, j;

	(void)state;
	assert_non_null(hv);
	/* Host twin_addr(i) (above 2001:db8::2: key side 1) port 40000
	 * to 2001:db8::2 port 80. */
	memset(&k, 0, sizeof(k));
	addr6(&k.addr[0], 2);
	k.port[0] = 80;
	k.port[1] = 40000;
	k.l4proto = IPPROTO_TCP;
	for (i = 0; i < N; i++) {
		twin_addr(&k.addr[1], i);
		hv[i] = (uint64_t)wl_flow_words_hash(&k, sizeof(k) / 8) << 32 | i;
	}
	qsort(hv, N, sizeof(*hv), cmp_u64);
	for (i = 1; i < N && a == b; i++)
		if (hv[i] >> 32 == hv[i - 1] >> 32) {
			a = (uint32_t)hv[i - 1];
			b = (uint32_t)hv[i];
		}
	free(hv);
	assert_true(a != b);
	teardown(NULL);
	conf_default();
	conf.conn_records = 1;
	table_new();
	for (j = 0; j < 2; j++)
		for (side = 0; side < 2; side++) {
			uint32_t host = side == 0 ? a : b;

			tcp_fill(&p, 1000 + j * 10 + side, 0, 0, 0, 0, F(ACK),
				7, 9, j == 0 ? "x" : "yy");
			twin_addr(&p.src, host);
			addr6(&p.dst, 2);
			p.sport = 40000;
			p.dport = 80;
			p.ip_version = 6;
			if (j == 1) {
				struct wl_addr t = p.src;

				p.src = p.dst;
				p.dst = t;
				p.sport = 80;
				p.dport = 40000;
			}
			wl_flow_input(ft, &p);
		}
	assert_int_equal(wl_flow_count(ft), 2);
	wl_flow_flush(ft, 5000);
	assert_int_equal(nconn, 2);
	for (i = 0; i < ntxn; i++) {
		const struct wl_conn *c = wl_txn_area_c(&txns[i]);

		if (txns[i].kind != WL_TXN_KIND_CONN)
			continue;
		assert_int_equal(c->d[0].pkts, 1);
		assert_int_equal(c->d[1].pkts, 1);
		assert_int_equal(c->d[1].payload, 2);
	}
	assert_pools_empty();
}

/* A connection record of the last emitted ones, by client port. */
static const struct wl_conn *
conn_of(uint16_t cport)
{
	return find_conn(cport, 0);
}

/*
 * IPv6 flows keep their addresses in a part: both directions find the
 * flow, flows that differ only in an address stay apart, records carry
 * the addresses; an IPv6 packet with v4-mapped addresses is the IPv4
 * flow of those addresses, as before the entry had a compact key.
 */
static void
test_ipv6_key(void **state)
{
	static const uint8_t host1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t host2[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	const struct wl_conn *c;
	unsigned int i, n = 0;

	(void)state;
	teardown(NULL);
	conf_default();
	conf.conn_records = 1;
	table_new();
	seg6(1000, 1, 40000, 2, 80, F(SYN), 100, 0, NULL);
	seg6(2000, 2, 80, 1, 40000, F(SYN) | F(ACK), 500, 101, NULL);
	seg6(3000, 1, 40000, 2, 80, F(ACK), 101, 501, "GET");
	seg6(4000, 2, 80, 1, 40000, F(ACK), 501, 104, "200");
	assert_int_equal(wl_flow_count(ft), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_HANDSHAKES), 1);
	/* The same ports from the other host: a flow of its own; and
	 * many flows whose keys differ in a host byte alone. */
	for (i = 3; i < 63; i++)
		seg6(5000 + i, i, 40000, 2, 80, F(ACK), 7, 9, "x");
	for (i = 3; i < 63; i++)
		seg6(6000 + i, 2, 80, i, 40000, F(ACK), 9, 8, "y");
	assert_int_equal(wl_flow_count(ft), 61);
	assert_int_equal(ft->v6_pool.used, 61);
	/* v4-mapped: one flow with the IPv4 packets of those addresses. */
	seg(7000, 0x01, 50000, 0x02, 80, F(ACK), 1, 1, "a");
	seg6(7001, 0x101, 50000, 0x102, 80, F(ACK), 2, 1, "b");
	seg6(7002, 0x102, 80, 0x101, 50000, F(ACK), 1, 3, "c");
	assert_int_equal(wl_flow_count(ft), 62);
	assert_int_equal(ft->v6_pool.used, 61);
	wl_flow_flush(ft, 10000);
	for (i = 0; i < ntxn; i++) {
		if (txns[i].kind != WL_TXN_KIND_CONN)
			continue;
		c = wl_txn_area_c(&txns[i]);
		if (txns[i].cli_port == 50000) {
			assert_int_equal(c->d[0].pkts, 2);
			assert_int_equal(c->d[1].pkts, 1);
			assert_true(wl_addr_is_v4(&txns[i].cli));
			continue;
		}
		assert_int_equal(c->d[0].pkts, txns[i].srv.a[15] == 2 &&
			txns[i].cli.a[15] == 1 ? 2 : 1);
		assert_int_equal(c->d[1].pkts, txns[i].cli.a[15] == 1 ? 2 : 1);
		assert_memory_equal(txns[i].srv.a, host2, 16);
		assert_memory_equal(txns[i].cli.a, host1, 15);
		n++;
	}
	assert_int_equal(n, 61);
	for (i = 0; i < ntxn; i++)
		if (txns[i].kind == WL_TXN_KIND_TXN && txns[i].cli.a[15] == 1)
			assert_memory_equal(txns[i].cli.a, host1, 16);
	assert_pools_empty();
}

/*
 * Each pool's empty case: defined, counted, flagged, never a wrong
 * number in place of a missing one.
 */
static void
test_pools_empty(void **state)
{
	const struct wl_conn *c;
	unsigned int i;

	(void)state;
	/* Handshakes: the oldest half-open flow makes room. */
	teardown(NULL);
	conf_default();
	conf.handshake_max = 2;
	table_new();
	for (i = 0; i < 3; i++)
		seg(1000 + i, CLI, (uint16_t)(10000 + i), SRV, 80, F(SYN), 1, 0,
			NULL);
	assert_int_equal(wl_flow_count(ft), 2);
	assert_int_equal(ctr(WL_FLOW_CTR_HANDSHAKE_FULL), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_EVICTED_UNPROVEN), 1);
	assert_int_equal(txns[0].cli_port, 10000);
	assert_true(txns[0].flags & WL_TXN_F_EVICTED);
	wl_flow_flush(ft, 5000);
	assert_pools_empty();

	/* IPv6 addresses: the second flow is not created, counted; an
	 * IPv4 one does not need a part; a part freed serves again. */
	teardown(NULL);
	conf_default();
	conf.ipv6_max = 1;
	conf.conn_records = 1;
	table_new();
	for (i = 0; i < 2; i++)
		seg6(1000 + i, 1, (uint16_t)(30000 + i), 2, 8080, F(ACK), 100,
			200, NULL);
	seg(1003, CLI, 30002, SRV, 8080, F(ACK), 100, 200, NULL);
	assert_int_equal(wl_flow_count(ft), 2);
	assert_int_equal(ctr(WL_FLOW_CTR_V6_FULL), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_V6_PEAK), 1);
	wl_flow_flush(ft, 5000);
	assert_non_null(conn_of(30000));
	assert_null(conn_of(30001));
	assert_non_null(conn_of(30002));
	assert_pools_empty();
	seg6(6000, 1, 30001, 2, 8080, F(ACK), 100, 200, NULL);
	assert_int_equal(wl_flow_count(ft), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_V6_FULL), 1);
	wl_flow_flush(ft, 7000);
	assert_non_null(conn_of(30001));
	assert_pools_empty();

	/* Rare counts: the second retransmitting flow's are partial. */
	teardown(NULL);
	conf_default();
	conf.extra_max = 1;
	conf.conn_records = 1;
	table_new();
	for (i = 0; i < 2; i++) {
		uint16_t p = (uint16_t)(31000 + i);

		seg(1000, CLI, p, SRV, 8080, F(ACK), 100, 200, "abcd");
		seg(2000, CLI, p, SRV, 8080, F(ACK), 100, 200, "abcd");
	}
	assert_int_equal(ctr(WL_FLOW_CTR_RETRANS_SEGS), 2);
	assert_int_equal(ctr(WL_FLOW_CTR_EXTRA_FULL), 1);
	wl_flow_flush(ft, 5000);
	c = conn_of(31000);
	assert_int_equal(c->d[0].retrans, 1);
	assert_false(c->flags & (1u << WL_CONN_F_BIT_PARTIAL));
	c = conn_of(31001);
	assert_true(c->flags & (1u << WL_CONN_F_BIT_PARTIAL));
	assert_true(c->flags & (1u << WL_CONN_F_BIT_RETRANS));
	assert_pools_empty();

	/* Analytics events: the second flow's duplicate ACKs are missing,
	 * flagged. */
	teardown(NULL);
	conf_default();
	conf.events_max = 1;
	conf.conn_records = 1;
	table_new();
	for (i = 0; i < 2; i++) {
		uint16_t p = (uint16_t)(32000 + i);

		seg(1000, SRV, 8080, CLI, p, F(ACK), 500, 100, "abcdefgh");
		seg(1001, CLI, p, SRV, 8080, F(ACK), 100, 504, NULL);
		seg(1002, CLI, p, SRV, 8080, F(ACK), 100, 504, NULL);
	}
	assert_int_equal(ctr(WL_FLOW_CTR_EVENTS_FULL), 1);
	wl_flow_flush(ft, 5000);
	assert_int_equal(conn_of(32000)->d[0].dup_acks, 1);
	assert_true(conn_of(32001)->flags & (1u << WL_CONN_F_BIT_PARTIAL));
	assert_pools_empty();

	/* Probing: a second undecided flow is not probed further. */
	teardown(NULL);
	conf_default();
	conf.probing_max = 1;
	table_new();
	for (i = 0; i < 2; i++)
		seg(1000 + i, CLI, (uint16_t)(33000 + i), SRV, 7777, F(ACK), 1,
			1, "RE");
	assert_int_equal(ctr(WL_FLOW_CTR_PROBING_FULL), 1);
	for (i = 0; i < 2; i++)
		seg(2000 + i, CLI, (uint16_t)(33000 + i), SRV, 7777, F(ACK), 3,
			1, "C go");
	/* The first, stashed, is recognised from its first byte. */
	assert_string_equal(plog, "d0:RE|d0:C go|");
	wl_flow_flush(ft, 5000);
	assert_pools_empty();

	/* Stash: bytes a probe answered MAYBE to, with no stash left, are
	 * taken as refused: the second flow is not recognised. */
	teardown(NULL);
	conf_default();
	conf.stash_max = 1;
	table_new();
	for (i = 0; i < 2; i++)
		seg(1000 + i, CLI, (uint16_t)(33500 + i), SRV, 7777, F(ACK), 1,
			1, "RE");
	assert_int_equal(ctr(WL_FLOW_CTR_STASH_FULL), 1);
	for (i = 0; i < 2; i++)
		seg(2000 + i, CLI, (uint16_t)(33500 + i), SRV, 7777, F(ACK), 3,
			1, "C go");
	assert_string_equal(plog, "d0:RE|d0:C go|");
	assert_int_equal(ctr(WL_FLOW_CTR_L7_DETECTED), 1);
	wl_flow_flush(ft, 5000);
	assert_pools_empty();

	/* Reorder: with no part left, a flow holds nothing: the segment
	 * ahead of a hole is dropped (a gap if anything follows). */
	teardown(NULL);
	conf_default();
	conf.reorder_max = 1;
	table_new();
	for (i = 0; i < 2; i++) {
		uint16_t p = (uint16_t)(34000 + i);

		seg(1000, CLI, p, SRV, 7777, F(ACK), 100, 1, "REC1");
		seg(1001, CLI, p, SRV, 7777, F(ACK), 108, 1, "ahead");
	}
	assert_int_equal(ctr(WL_FLOW_CTR_OOO_SEGS), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_OOO_DROPPED), 1);
	assert_int_equal(ctr(WL_FLOW_CTR_REORDER_FULL), 1);
	wl_flow_flush(ft, 5000);
	assert_string_equal(plog, "d0:REC1|d0:REC1|g0:4|d0:ahead|c:20|c:20|");
	assert_pools_empty();
}

/* Counters past 4 GiB carry into the extra part; a port reuse's SYN
 * taken back borrows from it. */
static void
test_counter_carry(void **state)
{
	const struct wl_conn *c;
	struct wl_pkt p;

	(void)state;
	teardown(NULL);
	conf.conn_records = 1;
	table_new();
	tcp_fill(&p, 1000, CLI, 40000, SRV, 8080, F(ACK), 100, 200, NULL);
	p.wire_len = 0xfffffff0u;
	wl_flow_input(ft, &p);
	p.ts_ns = 1001;
	p.wire_len = 0x20;
	wl_flow_input(ft, &p);          /* carries */
	/* A new connection on the same ports: its SYN leaves this one. */
	tcp_fill(&p, 2000, CLI, 40000, SRV, 8080, F(SYN), 9999, 0, NULL);
	p.wire_len = 0x30;
	wl_flow_input(ft, &p);          /* counted, then taken back: borrows */
	assert_int_equal(ctr(WL_FLOW_CTR_PORT_REUSE), 1);
	c = conn_of(40000);
	assert_non_null(c);
	assert_int_equal(c->d[0].pkts, 2);
	assert_int_equal(c->d[0].bytes, 0xfffffff0ull + 0x20);
	assert_false(c->flags & (1u << WL_CONN_F_BIT_PARTIAL));
	wl_flow_flush(ft, 5000);
	assert_pools_empty();
}

/* More frames inside the window than the duplicate check holds: the
 * ones it forgets too soon are counted. */
static void
test_dedup_overflow(void **state)
{
	unsigned int i;

	(void)state;
	teardown(NULL);
	conf.dedup_window_us = 1000;
	conf.dedup_entries = WL_DD_WAYS;        /* one bucket */
	table_new();
	for (i = 0; i < WL_DD_WAYS + 3; i++)
		segw(1000 + i, 1, F(ACK), ISN_C + 1, ISN_S + 1, NULL, 1000,
			(uint16_t)i, 0);
	assert_int_equal(ctr(WL_FLOW_CTR_DEDUP_OVERFLOW), 3);
	assert_int_equal(ctr(WL_FLOW_CTR_DUPLICATE), 0);
	/* The latest are still known. */
	segw(2000, 1, F(ACK), ISN_C + 1, ISN_S + 1, NULL, 1000,
		WL_DD_WAYS + 2, 0);
	assert_int_equal(ctr(WL_FLOW_CTR_DUPLICATE), 1);
}

static void
test_pkt_clock(void **state)
{
	struct wl_pkt_clock c;
	const uint64_t b = 1000;
	unsigned int i;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(wl_pkt_clock_see(&c, 5000, b), 5000);
	assert_int_equal(wl_pkt_clock_see(&c, 5500, b), 5500);
	/* One frame far ahead, one far behind: counted, the clock stays. */
	assert_int_equal(wl_pkt_clock_see(&c, 5000000, b), 5500);
	assert_int_equal(wl_pkt_clock_see(&c, 5600, b), 5600);
	assert_int_equal(wl_pkt_clock_see(&c, 100, b), 5600);
	assert_int_equal(c.jumps, 2);
	/* Off the clock twice in a row: one run, one jump. */
	assert_int_equal(wl_pkt_clock_see(&c, 7000000, b), 5600);
	assert_int_equal(c.jumps, 2);
	assert_int_equal(wl_pkt_clock_see(&c, 5700, b), 5700);
	/* A capture that resumes later: the clock follows after 8. */
	for (i = 0; i < WL_CLOCK_CONFIRM - 1; i++)
		assert_int_equal(wl_pkt_clock_see(&c, 9000000 + i, b), 5700);
	assert_int_equal(wl_pkt_clock_see(&c, 9000000 + i, b), 9000000 + i);
	assert_int_equal(c.jumps, 3);
	assert_int_equal(wl_pkt_clock_see(&c, 9000100, b), 9000100);
}

static void
test_create_errors(void **state)
{
	struct wl_flow_conf c = conf;

	(void)state;
	c.max_flows = 0;
	assert_null(wl_flow_table_create(&c, &sink, &fst, pctr, 0,
		SOCKET_ID_ANY));
	assert_null(wl_flow_table_create(&conf, NULL, &fst, pctr, 0,
		SOCKET_ID_ANY));
	wl_flow_table_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
		T(test_ipv6_key),
		T(test_ipv6_hash_twins),
		T(test_handshake_exact),
		T(test_l7_pool_per_proto),
		T(test_l7_pool_two_transports),
		T(test_table_mem),
		T(test_clock_mixed),
		T(test_syn_retrans),
		T(test_syn_unanswered),
		T(test_refused),
		T(test_in_order_and_reorder),
		T(test_retrans_and_overlap),
		T(test_gap_from_ack),
		T(test_snaplen_cut),
		T(test_gap_from_ooo_overflow),
		T(test_big_segment_reordered),
		T(test_conn_analytics),
		T(test_conn_midstream_no_rtt),
		T(test_seq_wrap_and_fin),
		T(test_midstream_roles),
		T(test_probe_any_port_and_unknown),
		T(test_probe_share_per_direction),
		T(test_probe_byte_at_a_time),
		T(test_pinned_port),
		T(test_eviction),
		T(test_evict_rank),
		T(test_evict_rank_udp_synack),
		T(test_evict_share),
		T(test_burst_equivalence),
		T(test_idle_timeout),
		T(test_l7_state_pool),
		T(test_port_reuse),
		T(test_udp),
		T(test_causal_swap),
		T(test_reorder_window_expires),
		T(test_reorder_window_filled),
		T(test_dedup),
		T(test_table_full_load),
		T(test_pools_empty),
		T(test_counter_carry),
		T(test_dedup_overflow),
		T(test_pkt_clock),
		T(test_create_errors),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
