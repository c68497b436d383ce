/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Unit tests for lib/replay. Frames are assembled byte by byte here with
 * checksums computed from scratch by the test's own one's-complement sum,
 * and every rewrite is verified by recomputing those checksums over the
 * whole packet, never by repeating the library's incremental arithmetic.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <cmocka.h>

#include "wl_common.h"
#include "wl_replay.h"

/* ---- frame builder ---- */

struct frame {
	uint8_t b[2048];
	uint32_t len;
	uint32_t l3, l4;        /* offsets the builder wrote */
};

static void
put8(struct frame *f, uint8_t v)
{
	assert_true(f->len < sizeof(f->b));
	f->b[f->len++] = v;
}

static void
put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void
put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void
putn(struct frame *f, const uint8_t *d, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		put8(f, d[i]);
}

static uint16_t
get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		(uint32_t)b[2] << 8 | b[3];
}

static void
set16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* One's-complement sum of n bytes, big-endian words, odd byte padded. */
static uint32_t
sum_bytes(uint32_t s, const uint8_t *b, uint32_t n)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += get16(b + i);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/*
 * Full sum over pseudo-header and segment (checksum field included):
 * 0xffff when the checksum is right.
 */
static uint16_t
l4_sum(int v, const uint8_t *l3, uint8_t proto, const uint8_t *l4,
	uint32_t l4len)
{
	uint32_t s = 0;

	if (v == 4) {
		s = sum_bytes(s, l3 + 12, 8);
	} else {
		s = sum_bytes(s, l3 + 8, 32);
		s += l4len >> 16;
	}
	s += proto;
	s += l4len & 0xffff;
	s = sum_bytes(s, l4, l4len);
	return fold(s);
}

static uint16_t
ip4_sum(const uint8_t *l3)
{
	return fold(sum_bytes(0, l3, (uint32_t)(l3[0] & 0xf) * 4));
}

enum { FRAG_NONE, FRAG_FIRST, FRAG_LATER };

struct spec {
	int v;                  /* 4 or 6 */
	uint8_t proto;          /* TCP, UDP or ICMP */
	uint8_t src[16];        /* IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport, dport;
	uint8_t flags;          /* TCP */
	uint8_t nvlan;
	uint16_t vlan[2];
	uint32_t dlen;          /* payload bytes */
	int frag;               /* FRAG_*: header only, lengths stay full */
	int udp_nocsum;         /* leave the UDP checksum 0 */
};

static const uint8_t cli4[4] = { 10, 0, 0, 1 };
static const uint8_t srv4[4] = { 192, 168, 1, 2 };
static const uint8_t cli6[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44 };
static const uint8_t srv6[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0, 0x02 };

static struct spec
spec4(uint8_t proto, uint16_t sport, uint16_t dport, uint8_t flags)
{
	struct spec s;

	memset(&s, 0, sizeof(s));
	s.v = 4;
	s.proto = proto;
	memcpy(s.src, cli4, 4);
	memcpy(s.dst, srv4, 4);
	s.sport = sport;
	s.dport = dport;
	s.flags = flags;
	s.dlen = 37;
	return s;
}

static struct spec
spec6(uint8_t proto, uint16_t sport, uint16_t dport, uint8_t flags)
{
	struct spec s = spec4(proto, sport, dport, flags);

	s.v = 6;
	memcpy(s.src, cli6, 16);
	memcpy(s.dst, srv6, 16);
	return s;
}

/* The same packet the other way. */
static struct spec
rev(struct spec s)
{
	uint8_t a[16];
	uint16_t p;

	memcpy(a, s.src, 16);
	memcpy(s.src, s.dst, 16);
	memcpy(s.dst, a, 16);
	p = s.sport;
	s.sport = s.dport;
	s.dport = p;
	return s;
}

/*
 * Ethernet (+ VLAN tags), IP, TCP/UDP/ICMP, payload; IP and L4 checksums
 * right for the whole datagram (also for fragments, as their sender saw
 * it).
 */
static void
build(struct frame *f, const struct spec *s)
{
	uint32_t i, l4len;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < 12; i++)
		put8(f, (uint8_t)(0x02 + i));
	for (i = 0; i < s->nvlan; i++) {
		put16(f, i == 0 && s->nvlan == 2 ? 0x88a8 : 0x8100);
		put16(f, s->vlan[i]);
	}
	put16(f, s->v == 4 ? 0x0800 : 0x86dd);
	f->l3 = f->len;
	if (s->v == 4) {
		put8(f, 0x45);
		put8(f, 0);
		put16(f, 0);            /* total length, below */
		put16(f, 0x1234);
		put16(f, s->frag == FRAG_FIRST ? 0x2000 :
			s->frag == FRAG_LATER ? 0x2010 : 0x4000);
		put8(f, 64);
		put8(f, s->proto);
		put16(f, 0);
		putn(f, s->src, 4);
		putn(f, s->dst, 4);
	} else {
		put32(f, 0x60000000);
		put16(f, 0);            /* payload length, below */
		put8(f, s->frag != FRAG_NONE ? 44 : s->proto);
		put8(f, 64);
		putn(f, s->src, 16);
		putn(f, s->dst, 16);
		if (s->frag != FRAG_NONE) {
			put8(f, s->proto);
			put8(f, 0);
			put16(f, s->frag == FRAG_FIRST ? 0x0001 : 0x0101);
			put32(f, 0xcafe);
		}
	}
	f->l4 = f->len;
	if (s->proto == IPPROTO_TCP) {
		put16(f, s->sport);
		put16(f, s->dport);
		put32(f, 0x01020304);
		put32(f, s->flags & 0x10 ? 0x0a0b0c0d : 0);
		put8(f, 0x50);
		put8(f, s->flags);
		put16(f, 0xffff);
		put16(f, 0);
		put16(f, 0);
	} else if (s->proto == IPPROTO_UDP) {
		put16(f, s->sport);
		put16(f, s->dport);
		put16(f, (uint16_t)(8 + s->dlen));
		put16(f, 0);
	} else {
		put8(f, 8);             /* ICMP echo request */
		put8(f, 0);
		put16(f, 0);
		put32(f, 0x00010001);
	}
	for (i = 0; i < s->dlen; i++)
		put8(f, (uint8_t)(i * 7 + 1));
	l4len = f->len - f->l4;
	if (s->v == 4) {
		set16(f->b + f->l3 + 2, (uint16_t)(f->len - f->l3));
		set16(f->b + f->l3 + 10, (uint16_t)~ip4_sum(f->b + f->l3));
	} else {
		set16(f->b + f->l3 + 4, (uint16_t)(f->len - f->l3 - 40));
	}
	if (s->proto == IPPROTO_TCP)
		set16(f->b + f->l4 + 16, (uint16_t)~l4_sum(s->v, f->b + f->l3,
			s->proto, f->b + f->l4, l4len));
	else if (s->proto == IPPROTO_UDP && !s->udp_nocsum)
		set16(f->b + f->l4 + 6, (uint16_t)~l4_sum(s->v, f->b + f->l3,
			s->proto, f->b + f->l4, l4len));
}

/* Offset of the checksum field of a built TCP/UDP frame. */
static uint32_t
csum_off(const struct frame *f, uint8_t proto)
{
	return f->l4 + (proto == IPPROTO_TCP ? 16 : 6);
}

/* ---- classification helpers ---- */

static struct wl_dir_info
classify(struct wl_dir_table *t, const struct spec *s)
{
	struct wl_dir_info in;
	struct frame f;

	build(&f, s);
	assert_int_equal(wl_dir_classify(t, f.b, f.len, WL_LINK_ETHER, &in), 0);
	return in;
}

static void
expect(struct wl_dir_table *t, const struct spec *s, int dir, int how)
{
	struct wl_dir_info in = classify(t, s);

	assert_int_equal(in.is_flow, 1);
	if (in.dir != dir)
		print_message("dir %d want %d: v%d p%u %u->%u\n", in.dir, dir,
			s->v, s->proto, s->sport, s->dport);
	assert_int_equal(in.dir, dir);
	assert_int_equal(in.how, how);
}

/*
 * A new flow in its own table: first packet s gives dir/how, then the
 * reverse and a repeat keep the same decision.
 */
static void
expect_flow(const struct spec *s, int dir, int how)
{
	struct wl_dir_table *t = wl_dir_table_create(64);
	struct spec r = rev(*s), later = *s;

	assert_non_null(t);
	expect(t, s, dir, how);
	/* Later packets of the flow carry other flags: no new decision. */
	later.flags = 0x10;
	r.flags = s->flags == 0x02 ? 0x12 : 0x10;
	expect(t, &r, !dir, how);
	expect(t, &later, dir, how);
	expect(t, &r, !dir, how);
	wl_dir_table_free(t);
}

#define TH_SYN 0x02
#define TH_ACK 0x10
#define TH_PSH 0x08

/* ---- direction rules ---- */

static void
test_syn(void **state)
{
	struct spec s;

	(void)state;
	/* A SYN wins over the port rule (port 80 would be the server). */
	s = spec4(IPPROTO_TCP, 80, 40000, TH_SYN);
	expect_flow(&s, WL_DIR_C2S, WL_DIR_HOW_SYN);
	s = spec4(IPPROTO_TCP, 40000, 80, TH_SYN);
	expect_flow(&s, WL_DIR_C2S, WL_DIR_HOW_SYN);
	s = spec6(IPPROTO_TCP, 3306, 50000, TH_SYN);
	expect_flow(&s, WL_DIR_C2S, WL_DIR_HOW_SYN);
}

static void
test_synack(void **state)
{
	struct spec s;

	(void)state;
	/* SYN+ACK first (SYN not captured): its sender is the server. */
	s = spec4(IPPROTO_TCP, 40000, 443, TH_SYN | TH_ACK);
	expect_flow(&s, WL_DIR_S2C, WL_DIR_HOW_SYNACK);
	s = spec4(IPPROTO_TCP, 443, 40000, TH_SYN | TH_ACK);
	expect_flow(&s, WL_DIR_S2C, WL_DIR_HOW_SYNACK);
	s = spec6(IPPROTO_TCP, 50000, 6379, TH_SYN | TH_ACK);
	expect_flow(&s, WL_DIR_S2C, WL_DIR_HOW_SYNACK);
}

static void
test_port_rules(void **state)
{
	static const struct {
		uint16_t sport, dport;
		int dir;
	} c[] = {
		{ 40000, 22, WL_DIR_C2S },      /* one below 1024 */
		{ 22, 40000, WL_DIR_S2C },
		{ 1023, 1024, WL_DIR_S2C },     /* 1023 is below, 1024 not */
		{ 1024, 1023, WL_DIR_C2S },
		{ 1024, 5432, WL_DIR_C2S },     /* 1024 is not below */
		{ 5432, 1024, WL_DIR_S2C },
		{ 443, 80, WL_DIR_C2S },        /* both below: lower wins */
		{ 80, 443, WL_DIR_S2C },
		{ 50000, 3306, WL_DIR_C2S },    /* well-known list */
		{ 3306, 50000, WL_DIR_S2C },
		{ 5432, 1500, WL_DIR_S2C },     /* list beats lower port */
		{ 1500, 5432, WL_DIR_C2S },
		{ 40000, 9042, WL_DIR_C2S },
		{ 27017, 40000, WL_DIR_S2C },
		{ 11211, 2000, WL_DIR_S2C },
		{ 8080, 3306, WL_DIR_C2S },     /* both listed: lower wins */
		{ 3306, 8080, WL_DIR_S2C },
		{ 27017, 9042, WL_DIR_C2S },
		{ 40000, 30000, WL_DIR_C2S },   /* neither: lower port */
		{ 30000, 40000, WL_DIR_S2C },
		{ 5000, 5000, WL_DIR_C2S },     /* equal: destination */
		{ 0, 0, WL_DIR_C2S },
	};
	struct wl_dir_table *t;
	struct spec s;
	unsigned int i;

	(void)state;
	for (i = 0; i < WL_ARRAY_SIZE(c); i++) {
		/* Mid-stream TCP (ACK, PSH+ACK) and UDP alike. */
		s = spec4(IPPROTO_TCP, c[i].sport, c[i].dport, TH_ACK);
		expect_flow(&s, c[i].dir, WL_DIR_HOW_PORT);
		s.flags = TH_ACK | TH_PSH;
		expect_flow(&s, c[i].dir, WL_DIR_HOW_PORT);
		s = spec4(IPPROTO_UDP, c[i].sport, c[i].dport, 0);
		expect_flow(&s, c[i].dir, WL_DIR_HOW_PORT);
		s = spec6(IPPROTO_UDP, c[i].sport, c[i].dport, 0);
		expect_flow(&s, c[i].dir, WL_DIR_HOW_PORT);
		s = spec6(IPPROTO_TCP, c[i].sport, c[i].dport, 0);
		expect_flow(&s, c[i].dir, WL_DIR_HOW_PORT);
	}
	/*
	 * Same address and port both ends: the two directions are the same
	 * packet, both C2S.
	 */
	t = wl_dir_table_create(4);
	assert_non_null(t);
	s = spec4(IPPROTO_UDP, 7000, 7000, 0);
	memcpy(s.dst, s.src, 4);
	expect(t, &s, WL_DIR_C2S, WL_DIR_HOW_PORT);
	expect(t, &s, WL_DIR_C2S, WL_DIR_HOW_PORT);
	wl_dir_table_free(t);
}

static void
test_info(void **state)
{
	struct wl_dir_table *t = wl_dir_table_create(16);
	struct wl_dir_info in;
	struct frame f;
	struct spec s;

	(void)state;
	assert_non_null(t);
	s = spec4(IPPROTO_TCP, 40000, 80, TH_SYN);
	build(&f, &s);
	assert_int_equal(wl_dir_classify(t, f.b, f.len, WL_LINK_ETHER, &in), 0);
	assert_int_equal(in.ip_version, 4);
	assert_int_equal(in.l4proto, IPPROTO_TCP);
	assert_int_equal(in.l3_off, 14);
	assert_int_equal(in.l4_off, 34);
	/* The same packet without link header. */
	assert_int_equal(wl_dir_classify(t, f.b + 14, f.len - 14,
		WL_LINK_IPV4, &in), 0);
	assert_int_equal(in.is_flow, 1);
	assert_int_equal(in.dir, WL_DIR_C2S);
	assert_int_equal(in.l3_off, 0);
	assert_int_equal(in.l4_off, 20);

	s = spec6(IPPROTO_UDP, 40000, 53, 0);
	s.nvlan = 2;
	s.vlan[0] = 10;
	s.vlan[1] = 20;
	build(&f, &s);
	assert_int_equal(wl_dir_classify(t, f.b, f.len, WL_LINK_ETHER, &in), 0);
	assert_int_equal(in.ip_version, 6);
	assert_int_equal(in.l4proto, IPPROTO_UDP);
	assert_int_equal(in.l3_off, 22);
	assert_int_equal(in.l4_off, 62);
	wl_dir_table_free(t);
}

static void
test_vlan(void **state)
{
	struct wl_dir_table *t = wl_dir_table_create(16);
	struct wl_dir_stats st;
	struct spec a, b;

	(void)state;
	assert_non_null(t);
	/* One 5-tuple in two VLANs: two flows, each with its own client. */
	a = spec4(IPPROTO_TCP, 40000, 50000, TH_SYN);
	a.nvlan = 1;
	a.vlan[0] = 100;
	b = rev(a);
	b.vlan[0] = 200;
	expect(t, &a, WL_DIR_C2S, WL_DIR_HOW_SYN);
	expect(t, &b, WL_DIR_C2S, WL_DIR_HOW_SYN);
	a.flags = b.flags = TH_ACK;
	expect(t, &a, WL_DIR_C2S, WL_DIR_HOW_SYN);
	expect(t, &b, WL_DIR_C2S, WL_DIR_HOW_SYN);
	a = rev(a);
	b = rev(b);
	expect(t, &a, WL_DIR_S2C, WL_DIR_HOW_SYN);
	expect(t, &b, WL_DIR_S2C, WL_DIR_HOW_SYN);
	/* Untagged: a third flow, decided by the port rule. */
	a.nvlan = 0;
	expect(t, &a, WL_DIR_C2S, WL_DIR_HOW_PORT);
	/* Q-in-Q: the inner id is part of the key. */
	a.nvlan = 2;
	a.vlan[0] = 100;
	a.vlan[1] = 1;
	a.flags = TH_SYN | TH_ACK;
	expect(t, &a, WL_DIR_S2C, WL_DIR_HOW_SYNACK);
	a.vlan[1] = 2;
	a.flags = TH_SYN;
	expect(t, &a, WL_DIR_C2S, WL_DIR_HOW_SYN);
	wl_dir_stats_get(t, &st);
	assert_int_equal(st.flows, 5);
	assert_int_equal(st.by_syn, 3);
	assert_int_equal(st.by_synack, 1);
	assert_int_equal(st.by_port, 1);
	wl_dir_table_free(t);
}

static void
test_non_flow(void **state)
{
	static const uint8_t arp[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 2, 2, 2, 2, 2, 0x08, 0x06,
		0, 1, 0x08, 0, 6, 4, 0, 1, 2, 2, 2, 2, 2, 2, 10, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 10, 0, 0, 2 };
	static const uint8_t lldp[20] = {
		0x01, 0x80, 0xc2, 0, 0, 0x0e, 2, 2, 2, 2, 2, 2, 0x88, 0xcc,
		0x02, 0x07, 0x04, 2, 2, 2 };
	struct wl_dir_table *t = wl_dir_table_create(16);
	struct wl_dir_info in;
	struct wl_dir_stats st;
	struct frame f, g;
	struct spec s;

	(void)state;
	assert_non_null(t);
	assert_int_equal(wl_dir_classify(t, arp, sizeof(arp), WL_LINK_ETHER,
		&in), 0);
	assert_int_equal(in.is_flow, 0);
	assert_int_equal(in.dir, WL_DIR_C2S);
	assert_int_equal(in.how, WL_DIR_HOW_NONE);
	assert_int_equal(wl_dir_classify(t, lldp, sizeof(lldp), WL_LINK_ETHER,
		&in), 0);
	assert_int_equal(in.is_flow, 0);
	/* ICMP, both ways. */
	s = spec4(IPPROTO_ICMP, 0, 0, 0);
	in = classify(t, &s);
	assert_int_equal(in.is_flow, 0);
	assert_int_equal(in.dir, WL_DIR_C2S);
	assert_int_equal(in.ip_version, 4);
	s = rev(s);
	in = classify(t, &s);
	assert_int_equal(in.is_flow, 0);
	assert_int_equal(in.dir, WL_DIR_C2S);
	s = spec6(IPPROTO_ICMP, 0, 0, 0);
	in = classify(t, &s);
	assert_int_equal(in.is_flow, 0);
	/* Later fragments have no ports. */
	s = spec4(IPPROTO_TCP, 22, 40000, TH_ACK);
	s.frag = FRAG_LATER;
	in = classify(t, &s);
	assert_int_equal(in.is_flow, 0);
	assert_int_equal(in.dir, WL_DIR_C2S);
	s = spec6(IPPROTO_UDP, 53, 40000, 0);
	s.frag = FRAG_LATER;
	in = classify(t, &s);
	assert_int_equal(in.is_flow, 0);
	/* A TCP header cut short is not a flow packet either. */
	s = spec4(IPPROTO_TCP, 22, 40000, TH_ACK);
	build(&f, &s);
	assert_int_equal(wl_dir_classify(t, f.b, f.l4 + 10, WL_LINK_ETHER,
		&in), 0);
	assert_int_equal(in.is_flow, 0);
	/* Empty frame. */
	assert_int_equal(wl_dir_classify(t, f.b, 0, WL_LINK_ETHER, &in), 0);
	assert_int_equal(in.is_flow, 0);

	/* First fragments are flows: the L4 header is there. */
	s = spec4(IPPROTO_UDP, 53, 40000, 0);
	s.frag = FRAG_FIRST;
	in = classify(t, &s);
	assert_int_equal(in.is_flow, 1);
	assert_int_equal(in.dir, WL_DIR_S2C);
	assert_int_equal(in.l4_off, 34);
	/* ... and the same flow as its unfragmented packets. */
	s.frag = FRAG_NONE;
	s = rev(s);
	s.sport = 40000;
	expect(t, &s, WL_DIR_C2S, WL_DIR_HOW_PORT);
	s = spec6(IPPROTO_TCP, 40000, 8080, TH_SYN);
	s.frag = FRAG_FIRST;
	in = classify(t, &s);
	assert_int_equal(in.is_flow, 1);
	assert_int_equal(in.how, WL_DIR_HOW_SYN);
	assert_int_equal(in.l4_off, 14 + 48);
	/* A first fragment with its L4 header cut: not a flow packet. */
	build(&g, &s);
	assert_int_equal(wl_dir_classify(t, g.b, g.l4 + 19, WL_LINK_ETHER,
		&in), 0);
	assert_int_equal(in.is_flow, 0);

	wl_dir_stats_get(t, &st);
	assert_int_equal(st.non_flow, 10);
	assert_int_equal(st.flows, 2);
	assert_int_equal(st.c2s_pkts, 12);
	assert_int_equal(st.s2c_pkts, 1);
	wl_dir_table_free(t);
}

static void
test_table_full(void **state)
{
	struct wl_dir_table *t = wl_dir_table_create(4);
	struct wl_dir_stats st;
	struct spec s[4], x, y;
	unsigned int i;

	(void)state;
	assert_non_null(t);
	/* Four SYN-decided flows against the port rule: server port high. */
	for (i = 0; i < 4; i++) {
		s[i] = spec4(IPPROTO_TCP, (uint16_t)(100 + i), 40000, TH_SYN);
		expect(t, &s[i], WL_DIR_C2S, WL_DIR_HOW_SYN);
	}
	/* A fifth: the SYN is not remembered, the port rule answers. */
	x = spec4(IPPROTO_TCP, 80, 40000, TH_SYN);
	expect(t, &x, WL_DIR_S2C, WL_DIR_HOW_PORT);
	x.flags = TH_ACK;
	expect(t, &x, WL_DIR_S2C, WL_DIR_HOW_PORT);
	x = rev(x);
	expect(t, &x, WL_DIR_C2S, WL_DIR_HOW_PORT);
	y = spec4(IPPROTO_UDP, 6000, 6000, 0);
	/* Unstored equal ports: the higher address is the server. */
	expect(t, &y, WL_DIR_C2S, WL_DIR_HOW_PORT);
	y = rev(y);
	expect(t, &y, WL_DIR_S2C, WL_DIR_HOW_PORT);
	/* The stored flows keep their SYN decision, both ways. */
	for (i = 0; i < 4; i++) {
		s[i].flags = TH_ACK;
		expect(t, &s[i], WL_DIR_C2S, WL_DIR_HOW_SYN);
		s[i] = rev(s[i]);
		expect(t, &s[i], WL_DIR_S2C, WL_DIR_HOW_SYN);
	}
	wl_dir_stats_get(t, &st);
	assert_int_equal(st.flows, 4);
	assert_int_equal(st.by_syn, 4);
	assert_int_equal(st.table_full, 5);
	assert_int_equal(st.c2s_pkts, 4 + 2 + 4);
	assert_int_equal(st.s2c_pkts, 2 + 1 + 4);

	/* Reset forgets the flows, keeps the counters. */
	wl_dir_table_reset(t);
	x = spec4(IPPROTO_TCP, 80, 40000, TH_SYN);
	expect(t, &x, WL_DIR_C2S, WL_DIR_HOW_SYN);
	s[0] = rev(s[0]);
	s[0].flags = TH_ACK;
	expect(t, &s[0], WL_DIR_S2C, WL_DIR_HOW_PORT);
	wl_dir_stats_get(t, &st);
	assert_int_equal(st.flows, 6);
	assert_int_equal(st.table_full, 5);
	wl_dir_table_free(t);
}

/* Many flows in a small table: every stored flow is found again. */
static void
test_many_flows(void **state)
{
	struct wl_dir_table *t = wl_dir_table_create(256);
	struct wl_dir_stats st;
	struct spec s;
	unsigned int i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 1000; i++) {
		s = spec4(IPPROTO_TCP, (uint16_t)(20000 + i), 40000, TH_SYN);
		s.src[2] = (uint8_t)(i & 7);
		/* Unstored: the lower port 20000 + i is the server. */
		if (i < 256)
			expect(t, &s, WL_DIR_C2S, WL_DIR_HOW_SYN);
		else
			expect(t, &s, WL_DIR_S2C, WL_DIR_HOW_PORT);
	}
	wl_dir_stats_get(t, &st);
	assert_int_equal(st.flows, 256);
	assert_int_equal(st.table_full, 1000 - 256);
	for (i = 0; i < 256; i++) {
		s = spec4(IPPROTO_TCP, (uint16_t)(20000 + i), 40000, TH_ACK);
		s.src[2] = (uint8_t)(i & 7);
		s = rev(s);
		expect(t, &s, WL_DIR_S2C, WL_DIR_HOW_SYN);
	}
	wl_dir_table_free(t);
}

static void
test_args(void **state)
{
	struct wl_dir_table *t;
	struct wl_dir_info in;
	struct wl_dir_stats st;
	uint8_t b[64] = { 0 };

	(void)state;
	errno = 0;
	assert_null(wl_dir_table_create(0));
	assert_int_equal(errno, EINVAL);
	assert_null(wl_dir_table_create(3));
	assert_null(wl_dir_table_create(WL_DIR_MAX_FLOWS * 2));
	t = wl_dir_table_create(1);
	assert_non_null(t);
	assert_int_equal(wl_dir_classify(NULL, b, sizeof(b), WL_LINK_ETHER,
		&in), -EINVAL);
	assert_int_equal(wl_dir_classify(t, NULL, 10, WL_LINK_ETHER, &in),
		-EINVAL);
	assert_int_equal(wl_dir_classify(t, b, sizeof(b), WL_LINK_ETHER, NULL),
		-EINVAL);
	assert_int_equal(wl_dir_classify(t, b, sizeof(b), WL_LINK_MAX, &in),
		0);
	assert_int_equal(in.is_flow, 0);
	wl_dir_stats_get(t, &st);
	assert_int_equal(st.non_flow, 1);
	assert_string_equal(wl_dir_counter_names[0], "flows");
	assert_string_equal(wl_dir_counter_names[7], "s2c_pkts");
	assert_string_equal(wl_dir_how_name(WL_DIR_HOW_SYNACK), "synack");
	assert_string_equal(wl_dir_how_name(WL_DIR_HOW_MAX), "unknown");
	wl_dir_table_free(t);
	wl_dir_table_free(NULL);
	wl_dir_table_reset(NULL);
}

/* ---- rewrite ---- */

/* Classify f in a fresh table and rewrite it (or a prefix) for loop. */
static struct wl_dir_info
do_rewrite(struct frame *f, uint32_t caplen, uint32_t loop)
{
	struct wl_dir_table *t = wl_dir_table_create(16);
	struct wl_dir_info in;

	assert_non_null(t);
	assert_int_equal(wl_dir_classify(t, f->b, caplen, WL_LINK_ETHER, &in),
		0);
	wl_dir_table_free(t);
	assert_int_equal(wl_rewrite_client(f->b, caplen, &in, loop), 0);
	return in;
}

/*
 * Check a rewritten full frame against its original: client address
 * exactly +loop, everything else but the checksums unchanged, and the
 * checksums right when recomputed from scratch.
 */
static void
check_rewritten(const struct frame *o, const struct frame *f,
	const struct spec *s, int client_is_src, uint32_t loop)
{
	uint32_t aoff, alen, coff, i;
	uint8_t want[16];
	uint32_t lo;

	assert_int_equal(f->len, o->len);
	alen = s->v == 4 ? 4 : 16;
	aoff = f->l3 + (s->v == 4 ? 12 : 8) + (client_is_src ? 0 : alen);
	memcpy(want, o->b + aoff, alen);
	lo = get32(want + alen - 4) + loop;
	want[alen - 4] = (uint8_t)(lo >> 24);
	want[alen - 3] = (uint8_t)(lo >> 16);
	want[alen - 2] = (uint8_t)(lo >> 8);
	want[alen - 1] = (uint8_t)lo;
	assert_memory_equal(f->b + aoff, want, alen);
	coff = csum_off(f, s->proto);
	for (i = 0; i < f->len; i++) {
		if (i >= aoff && i < aoff + alen)
			continue;
		if (i == coff || i == coff + 1)
			continue;
		if (s->v == 4 && (i == f->l3 + 10 || i == f->l3 + 11))
			continue;
		assert_int_equal(f->b[i], o->b[i]);
	}
	if (s->v == 4)
		assert_int_equal(ip4_sum(f->b + f->l3), 0xffff);
	if (s->proto == IPPROTO_UDP && s->udp_nocsum) {
		assert_int_equal(get16(f->b + coff), 0);
		return;
	}
	assert_int_equal(l4_sum(s->v, f->b + f->l3, s->proto, f->b + f->l4,
		f->len - f->l4), 0xffff);
}

static void
rewrite_case(const struct spec *s, int client_is_src)
{
	static const uint32_t loops[] = { 1, 2, 7, 255, 256, 65537,
		0x7fffffff, 0xffffffff };
	struct wl_dir_info in;
	struct frame o, f;
	unsigned int i;

	build(&o, s);
	/* The builder's checksums are right to begin with. */
	if (s->v == 4)
		assert_int_equal(ip4_sum(o.b + o.l3), 0xffff);
	if (!s->udp_nocsum)
		assert_int_equal(l4_sum(s->v, o.b + o.l3, s->proto,
			o.b + o.l4, o.len - o.l4), 0xffff);
	for (i = 0; i < WL_ARRAY_SIZE(loops); i++) {
		f = o;
		in = do_rewrite(&f, f.len, loops[i]);
		assert_int_equal(in.dir, client_is_src ? WL_DIR_C2S :
			WL_DIR_S2C);
		check_rewritten(&o, &f, s, client_is_src, loops[i]);
	}
	/* Loop 0 leaves the frame as it was. */
	f = o;
	do_rewrite(&f, f.len, 0);
	assert_memory_equal(f.b, o.b, o.len);
}

static void
test_rewrite(void **state)
{
	struct spec s;

	(void)state;
	s = spec4(IPPROTO_TCP, 40000, 80, TH_SYN);
	rewrite_case(&s, 1);
	s = rev(s);
	s.flags = TH_ACK;
	rewrite_case(&s, 0);
	s = spec4(IPPROTO_UDP, 40000, 53, 0);
	rewrite_case(&s, 1);
	s = rev(s);
	rewrite_case(&s, 0);
	s = spec6(IPPROTO_TCP, 40000, 443, TH_SYN);
	rewrite_case(&s, 1);
	s = rev(s);
	s.flags = TH_ACK | TH_PSH;
	rewrite_case(&s, 0);
	s = spec6(IPPROTO_UDP, 40000, 53, 0);
	rewrite_case(&s, 1);
	s = rev(s);
	rewrite_case(&s, 0);
	/* Odd payload length, VLAN-tagged. */
	s = spec4(IPPROTO_TCP, 40000, 3306, TH_ACK);
	s.dlen = 1001;
	s.nvlan = 2;
	s.vlan[0] = 5;
	s.vlan[1] = 6;
	rewrite_case(&s, 1);
	s = spec6(IPPROTO_UDP, 5353, 40000, 0);
	s.dlen = 0;
	rewrite_case(&s, 0);
}

static void
test_rewrite_udp_nocsum(void **state)
{
	struct spec s;

	(void)state;
	s = spec4(IPPROTO_UDP, 40000, 53, 0);
	s.udp_nocsum = 1;
	rewrite_case(&s, 1);
	s = rev(s);
	rewrite_case(&s, 0);
}

static void
test_rewrite_wrap(void **state)
{
	static const uint8_t top4[4] = { 255, 255, 255, 255 };
	static const uint8_t low6[4] = { 0xff, 0xff, 0xff, 0xff };
	struct spec s;
	struct frame o, f;

	(void)state;
	s = spec4(IPPROTO_TCP, 40000, 80, TH_SYN);
	memcpy(s.src, top4, 4);
	build(&o, &s);
	f = o;
	do_rewrite(&f, f.len, 1);
	assert_int_equal(get32(f.b + f.l3 + 12), 0);
	check_rewritten(&o, &f, &s, 1, 1);
	rewrite_case(&s, 1);
	s = spec4(IPPROTO_UDP, 40000, 80, 0);
	memcpy(s.src, top4, 4);
	rewrite_case(&s, 1);

	/* IPv6: only the last 32 bits wrap, the prefix stays. */
	s = spec6(IPPROTO_TCP, 40000, 80, TH_SYN);
	memcpy(s.src + 12, low6, 4);
	build(&o, &s);
	f = o;
	do_rewrite(&f, f.len, 2);
	assert_memory_equal(f.b + f.l3 + 8, cli6, 12);
	assert_int_equal(get32(f.b + f.l3 + 8 + 12), 1);
	check_rewritten(&o, &f, &s, 1, 2);
	rewrite_case(&s, 1);
}

/*
 * A snapped copy is rewritten to the same checksums as the full packet:
 * the fields are compared, and the full packet's are right.
 */
static void
snapped_case(const struct spec *s, int client_is_src)
{
	struct frame o, full, cut;
	uint32_t cap, coff, loop;

	build(&o, s);
	coff = csum_off(&o, s->proto);
	for (loop = 1; loop < 300; loop += 37) {
		full = o;
		do_rewrite(&full, full.len, loop);
		check_rewritten(&o, &full, s, client_is_src, loop);
		for (cap = o.l4 + (s->proto == IPPROTO_TCP ? 20 : 8);
				cap < o.len; cap += 13) {
			cut = o;
			do_rewrite(&cut, cap, loop);
			assert_memory_equal(cut.b, full.b, cap);
			assert_memory_equal(cut.b + cap, o.b + cap,
				o.len - cap);
		}
	}
	/* Checksum field itself cut: not a flow packet, nothing written. */
	cut = o;
	do_rewrite(&cut, coff + 1, 3);
	assert_memory_equal(cut.b, o.b, o.len);
}

static void
test_rewrite_snapped(void **state)
{
	struct spec s;

	(void)state;
	s = spec4(IPPROTO_TCP, 40000, 80, TH_ACK);
	s.dlen = 300;
	snapped_case(&s, 1);
	s = rev(s);
	snapped_case(&s, 0);
	s = spec4(IPPROTO_UDP, 40000, 53, 0);
	s.dlen = 300;
	snapped_case(&s, 1);
	s = spec6(IPPROTO_TCP, 40000, 80, TH_ACK);
	s.dlen = 300;
	snapped_case(&s, 1);
	s = spec6(IPPROTO_UDP, 53, 40000, 0);
	s.dlen = 300;
	snapped_case(&s, 0);
}

/*
 * A first fragment (header and the first 8 * k payload bytes) gets the
 * same L4 checksum as the whole datagram: its checksum covers the whole
 * datagram through the same pseudo-header.
 */
static void
fragment_case(struct spec s, int client_is_src)
{
	struct frame whole, o, f;
	uint32_t fraglen, coff, loop = 42;
	struct wl_dir_info in;

	s.dlen = 200;
	s.frag = FRAG_NONE;
	build(&whole, &s);
	s.frag = FRAG_FIRST;
	build(&o, &s);
	/* Cut to a fragment of 64 L4 bytes and fix the IP length fields. */
	fraglen = o.l4 + 64;
	o.len = fraglen;
	if (s.v == 4) {
		set16(o.b + o.l3 + 2, (uint16_t)(fraglen - o.l3));
		set16(o.b + o.l3 + 10, 0);
		set16(o.b + o.l3 + 10, (uint16_t)~ip4_sum(o.b + o.l3));
	} else {
		set16(o.b + o.l3 + 4, (uint16_t)(fraglen - o.l3 - 40));
	}
	memset(o.b + fraglen, 0, sizeof(o.b) - fraglen);

	f = o;
	in = do_rewrite(&f, f.len, loop);
	assert_int_equal(in.is_flow, 1);
	assert_int_equal(in.dir, client_is_src ? WL_DIR_C2S : WL_DIR_S2C);
	do_rewrite(&whole, whole.len, loop);
	coff = csum_off(&o, s.proto);
	assert_int_equal(get16(f.b + coff), get16(whole.b +
		csum_off(&whole, s.proto)));
	/* The addresses match the whole datagram's too. */
	assert_memory_equal(f.b + f.l3 + (s.v == 4 ? 12 : 8),
		whole.b + whole.l3 + (s.v == 4 ? 12 : 8), s.v == 4 ? 8 : 32);
	if (s.v == 4)
		assert_int_equal(ip4_sum(f.b + f.l3), 0xffff);
}

static void
test_rewrite_fragment(void **state)
{
	(void)state;
	fragment_case(spec4(IPPROTO_UDP, 40000, 53, 0), 1);
	fragment_case(rev(spec4(IPPROTO_UDP, 40000, 53, 0)), 0);
	fragment_case(spec4(IPPROTO_TCP, 40000, 80, TH_ACK), 1);
	fragment_case(spec6(IPPROTO_UDP, 40000, 53, 0), 1);
	fragment_case(rev(spec6(IPPROTO_UDP, 40000, 53, 0)), 0);
	fragment_case(spec6(IPPROTO_TCP, 40000, 80, TH_ACK), 1);
}

/* The UDP checksum that comes out 0 is sent as 0xffff (RFC 768). */
static void
test_rewrite_udp_zero(void **state)
{
	struct frame o, f;
	struct spec s;
	uint32_t sum, w, coff;

	(void)state;
	s = spec4(IPPROTO_UDP, 40000, 53, 0);
	s.dlen = 10;
	build(&o, &s);
	coff = csum_off(&o, s.proto);
	/* Sum of the rewritten packet without its checksum ... */
	f = o;
	do_rewrite(&f, f.len, 5);
	set16(f.b + coff, 0);
	sum = l4_sum(4, f.b + f.l3, s.proto, f.b + f.l4, f.len - f.l4);
	/* ... made 0xffff by changing one payload word of the original. */
	w = get16(o.b + o.l4 + 8) + (uint16_t)~sum;
	set16(o.b + o.l4 + 8, fold(w));
	set16(o.b + coff, 0);
	set16(o.b + coff, (uint16_t)~l4_sum(4, o.b + o.l3, s.proto,
		o.b + o.l4, o.len - o.l4));
	assert_int_equal(l4_sum(4, o.b + o.l3, s.proto, o.b + o.l4,
		o.len - o.l4), 0xffff);
	f = o;
	do_rewrite(&f, f.len, 5);
	assert_int_equal(get16(f.b + coff), 0xffff);
	check_rewritten(&o, &f, &s, 1, 5);
}

static void
test_rewrite_untouched(void **state)
{
	struct wl_dir_info in;
	struct frame o, f;
	struct spec s;

	(void)state;
	/* Non-flow packets. */
	s = spec4(IPPROTO_ICMP, 0, 0, 0);
	build(&o, &s);
	f = o;
	in = do_rewrite(&f, f.len, 9);
	assert_int_equal(in.is_flow, 0);
	assert_memory_equal(f.b, o.b, sizeof(o.b));
	s = spec4(IPPROTO_UDP, 53, 40000, 0);
	s.frag = FRAG_LATER;
	build(&o, &s);
	f = o;
	do_rewrite(&f, f.len, 9);
	assert_memory_equal(f.b, o.b, sizeof(o.b));

	/* Bad arguments: -EINVAL and nothing written. */
	s = spec4(IPPROTO_TCP, 40000, 80, TH_ACK);
	build(&o, &s);
	f = o;
	in = do_rewrite(&f, f.len, 0);
	assert_int_equal(wl_rewrite_client(NULL, f.len, &in, 1), -EINVAL);
	assert_int_equal(wl_rewrite_client(f.b, f.len, NULL, 1), -EINVAL);
	assert_int_equal(wl_rewrite_client(f.b, f.l4 + 17, &in, 1), -EINVAL);
	in.ip_version = 6;
	assert_int_equal(wl_rewrite_client(f.b, f.len, &in, 1), -EINVAL);
	in.ip_version = 4;
	in.l4_off = (uint16_t)(in.l3_off + 19);
	assert_int_equal(wl_rewrite_client(f.b, f.len, &in, 1), -EINVAL);
	in.l4_off = (uint16_t)f.l4;
	in.l4proto = IPPROTO_ICMP;
	assert_int_equal(wl_rewrite_client(f.b, f.len, &in, 1), -EINVAL);
	in.l4proto = IPPROTO_TCP;
	in.dir = 2;
	assert_int_equal(wl_rewrite_client(f.b, f.len, &in, 1), -EINVAL);
	assert_memory_equal(f.b, o.b, sizeof(o.b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn),
		cmocka_unit_test(test_synack),
		cmocka_unit_test(test_port_rules),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_non_flow),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_many_flows),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_rewrite_udp_nocsum),
		cmocka_unit_test(test_rewrite_wrap),
		cmocka_unit_test(test_rewrite_snapped),
		cmocka_unit_test(test_rewrite_fragment),
		cmocka_unit_test(test_rewrite_udp_zero),
		cmocka_unit_test(test_rewrite_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
