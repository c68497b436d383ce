/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Unit tests for lib/pkt. Every frame is assembled byte by byte here, so
 * expected offsets and field values come from what the test wrote, not
 * from the decoder. Every decode runs on a copy that ends exactly at a
 * PROT_NONE page: a read past len faults instead of passing silently.
 * The hash is checked against DPDK's own rte_softrss() (header-only).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <netinet/in.h>

#include <cmocka.h>

#include <rte_thash.h>

#include "wl_pkt.h"

/* ---- frame builder ---- */

struct frame {
	uint8_t b[2048];
	uint32_t len;
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
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static void
put32(struct frame *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void
putn(struct frame *f, const uint8_t *d, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		put8(f, d[i]);
}

static void
set16(struct frame *f, uint32_t off, uint16_t v)
{
	f->b[off] = v >> 8;
	f->b[off + 1] = v & 0xff;
}

static const uint8_t src4[4] = { 10, 0, 0, 1 };
static const uint8_t dst4[4] = { 192, 168, 1, 2 };
static const uint8_t src6[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t dst6[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0, 0x02 };

#define T_SPORT 40000
#define T_DPORT 80
#define T_SEQ 0x11223344u
#define T_ACK 0x55667788u
#define T_FLAGS (WL_TCP_SYN | WL_TCP_ACK)
#define T_WIN 0xfedc
#define U_SPORT 5353
#define U_DPORT 53
#define IP_ID 0x1234
#define TTL 61

/* Ethernet II with ntags tags (TPIDs tpid[], VLAN id 100 + i). */
static void
eth(struct frame *f, unsigned int ntags, const uint16_t *tpid, uint16_t type)
{
	unsigned int i;

	for (i = 0; i < 6; i++)
		put8(f, 0x02);
	for (i = 0; i < 6; i++)
		put8(f, 0x04);
	for (i = 0; i < ntags; i++) {
		put16(f, tpid[i]);
		put16(f, (uint16_t)(0xe000 | (100 + i)));  /* PCP 7 masked */
	}
	put16(f, type);
}

/* Returns the header offset; ip4_end() patches the total length. */
static uint32_t
ip4_begin(struct frame *f, uint8_t proto, uint32_t optlen, uint16_t frag)
{
	uint32_t off = f->len, i;

	put8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(f, 0);
	put16(f, 0);
	put16(f, IP_ID);
	put16(f, frag);
	put8(f, TTL);
	put8(f, proto);
	put16(f, 0);
	putn(f, src4, 4);
	putn(f, dst4, 4);
	/* Record-route-like option bytes then NOPs: never parsed. */
	for (i = 0; i < optlen; i++)
		put8(f, i + 1 == optlen ? 0 : 1);
	return off;
}

static void
ip4_end(struct frame *f, uint32_t off)
{
	set16(f, off + 2, (uint16_t)(f->len - off));
}

static uint32_t
ip6_begin(struct frame *f, uint8_t nh)
{
	uint32_t off = f->len;

	put32(f, 0x60012345);
	put16(f, 0);
	put8(f, nh);
	put8(f, TTL);
	putn(f, src6, 16);
	putn(f, dst6, 16);
	return off;
}

static void
ip6_end(struct frame *f, uint32_t off)
{
	set16(f, off + 4, (uint16_t)(f->len - off - 40));
}

/* HBH / routing / dest-opts header of (units + 1) * 8 bytes, PadN filled. */
static void
ip6_opt_ext(struct frame *f, uint8_t nh, uint8_t units)
{
	uint32_t n = ((uint32_t)units + 1) * 8 - 2, i;

	put8(f, nh);
	put8(f, units);
	put8(f, 1);
	put8(f, (uint8_t)(n - 2));
	for (i = 2; i < n; i++)
		put8(f, 0);
}

static void
ip6_frag(struct frame *f, uint8_t nh, uint16_t offset8, int more)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	put32(f, 0xdeadbeef);
}

/* AH with a 12-byte ICV: 24 bytes, length field 24/4 - 2 = 4. */
static void
ip6_ah(struct frame *f, uint8_t nh)
{
	uint32_t i;

	put8(f, nh);
	put8(f, 4);
	put16(f, 0);
	put32(f, 0x1000);
	put32(f, 7);
	for (i = 0; i < 12; i++)
		put8(f, 0xaa);
}

/* TCP header; opts padded with EOL to a multiple of 4; dlen data bytes. */
static uint32_t
tcp(struct frame *f, const uint8_t *opts, uint32_t optlen, uint32_t dlen)
{
	uint32_t off = f->len, padded = (optlen + 3) & ~3u, i;

	put16(f, T_SPORT);
	put16(f, T_DPORT);
	put32(f, T_SEQ);
	put32(f, T_ACK);
	put8(f, (uint8_t)((5 + padded / 4) << 4));
	put8(f, T_FLAGS);
	put16(f, T_WIN);
	put16(f, 0);
	put16(f, 0);
	putn(f, opts, optlen);
	for (i = optlen; i < padded; i++)
		put8(f, 0);
	for (i = 0; i < dlen; i++)
		put8(f, (uint8_t)(0x30 + i));
	return off;
}

static uint32_t
udp(struct frame *f, uint32_t dlen)
{
	uint32_t off = f->len, i;

	put16(f, U_SPORT);
	put16(f, U_DPORT);
	put16(f, (uint16_t)(8 + dlen));
	put16(f, 0);
	for (i = 0; i < dlen; i++)
		put8(f, (uint8_t)i);
	return off;
}

/* ---- guarded decode ---- */

static uint8_t *guard;
static size_t pagesz;
static const uint8_t *cur;      /* start of the frame last decoded */

static int
setup_guard(void **state)
{
	(void)state;
	pagesz = (size_t)sysconf(_SC_PAGESIZE);
	guard = mmap(NULL, 2 * pagesz, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard == MAP_FAILED)
		return -1;
	return mprotect(guard + pagesz, pagesz, PROT_NONE);
}

static int
teardown_guard(void **state)
{
	(void)state;
	return munmap(guard, 2 * pagesz);
}

/*
 * Structural checks that hold for every outcome: pointers inside the
 * frame, payload only on OK, the caller's fields untouched.
 */
static void
check_consistent(const struct wl_pkt *p, const uint8_t *b, uint32_t len,
	enum wl_pkt_err e)
{
	assert_true((unsigned int)e < WL_PKT_ERR_MAX);
	assert_int_equal(p->ts_ns, 0x0123456789abcdefULL);
	assert_int_equal(p->ts_source, 0xa5);
	assert_int_equal(p->port, 0x5a5a);
	assert_int_equal(p->hash, 0xcafef00d);
	assert_int_equal(p->wire_len, 0xfeedbeef);
	assert_true(p->nvlan <= 2);
	if (e == WL_PKT_OK) {
		assert_non_null(p->l3);
		assert_non_null(p->l4);
		assert_non_null(p->payload);
		assert_true(p->l3 >= b && p->l3 < p->l4);
		assert_true(p->l4 < p->payload);
		assert_true(p->payload <= b + len);
		assert_true(p->payload_len <= (uint32_t)(b + len - p->payload));
		assert_true(p->ip_version == 4 || p->ip_version == 6);
		assert_true(p->l4proto == IPPROTO_TCP ||
			p->l4proto == IPPROTO_UDP);
		assert_true(p->nsack <= WL_PKT_MAX_SACK);
		assert_true(p->tcp_wscale == 0xff || p->tcp_wscale <= 14);
	} else {
		assert_null(p->payload);
		assert_int_equal(p->payload_len, 0);
		if (e != WL_PKT_ERR_OTHER_L4)
			assert_null(p->l4);
	}
	if (e != WL_PKT_ERR_FRAGMENT)
		assert_null(p->frag_l4);
	if (p->frag_l4 != NULL)
		assert_true(p->frag_l4 > p->l3 && p->frag_l4 <= b + len);
	if (p->l3 != NULL)
		assert_true(p->l3 >= b && p->l3 < b + len);
	if (p->l4 != NULL)
		assert_true(p->l4 >= b && p->l4 <= b + len);
}

/* Decode the first len bytes of b from a copy that ends at the guard. */
static enum wl_pkt_err
decode_n(struct wl_pkt *p, const uint8_t *b, uint32_t len, enum wl_link link)
{
	enum wl_pkt_err e;
	uint8_t *c;

	assert_true(len <= pagesz);
	c = guard + pagesz - len;
	memcpy(c, b, len);
	cur = c;
	memset(p, 0x77, sizeof(*p));
	p->ts_ns = 0x0123456789abcdefULL;
	p->ts_source = 0xa5;
	p->port = 0x5a5a;
	p->hash = 0xcafef00d;
	p->wire_len = 0xfeedbeef;
	e = wl_pkt_decode(p, c, len, link);
	check_consistent(p, c, len, e);
	return e;
}

static enum wl_pkt_err
decode(struct wl_pkt *p, const struct frame *f, enum wl_link link)
{
	return decode_n(p, f->b, f->len, link);
}

static uint32_t
off_of(const uint8_t *ptr)
{
	return (uint32_t)(ptr - cur);
}

static void
check_addr4(const struct wl_addr *a, const uint8_t *v4)
{
	static const uint8_t pre[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	assert_memory_equal(a->a, pre, 12);
	assert_memory_equal(&a->a[12], v4, 4);
}

static void
check_l3(const struct wl_pkt *p, int v, uint32_t l3off)
{
	assert_int_equal(p->ip_version, v);
	assert_int_equal(off_of(p->l3), l3off);
	assert_int_equal(p->ttl, TTL);
	if (v == 4) {
		check_addr4(&p->src, src4);
		check_addr4(&p->dst, dst4);
		assert_int_equal(p->ip_id, IP_ID);
	} else {
		assert_memory_equal(p->src.a, src6, 16);
		assert_memory_equal(p->dst.a, dst6, 16);
		assert_int_equal(p->ip_id, 0);
	}
}

static void
check_tcp(const struct wl_pkt *p, uint32_t l4off, uint32_t hlen, uint32_t dlen)
{
	uint32_t i;

	assert_int_equal(p->l4proto, IPPROTO_TCP);
	assert_int_equal(off_of(p->l4), l4off);
	assert_int_equal(off_of(p->payload), l4off + hlen);
	assert_int_equal(p->payload_len, dlen);
	assert_int_equal(p->sport, T_SPORT);
	assert_int_equal(p->dport, T_DPORT);
	assert_int_equal(p->seq, T_SEQ);
	assert_int_equal(p->ack, T_ACK);
	assert_int_equal(p->tcp_flags, T_FLAGS);
	assert_int_equal(p->tcp_window, T_WIN);
	for (i = 0; i < dlen; i++)
		assert_int_equal(p->payload[i], (uint8_t)(0x30 + i));
}

static void
check_udp(const struct wl_pkt *p, uint32_t l4off, uint32_t dlen)
{
	assert_int_equal(p->l4proto, IPPROTO_UDP);
	assert_int_equal(off_of(p->l4), l4off);
	assert_int_equal(off_of(p->payload), l4off + 8);
	assert_int_equal(p->payload_len, dlen);
	assert_int_equal(p->sport, U_SPORT);
	assert_int_equal(p->dport, U_DPORT);
}

/* Append an IPv4/TCP packet with dlen data bytes; returns the IP offset. */
static uint32_t
tcp4(struct frame *f, uint32_t dlen)
{
	uint32_t ip = ip4_begin(f, IPPROTO_TCP, 0, 0x4000);

	tcp(f, NULL, 0, dlen);
	ip4_end(f, ip);
	return ip;
}

static uint32_t
tcp6(struct frame *f, uint32_t dlen)
{
	uint32_t ip = ip6_begin(f, IPPROTO_TCP);

	tcp(f, NULL, 0, dlen);
	ip6_end(f, ip);
	return ip;
}

/* ---- link layers ---- */

static void
sll_hdr(struct frame *f, uint16_t proto)
{
	unsigned int i;

	put16(f, 0);            /* packet type: to us */
	put16(f, 1);            /* ARPHRD_ETHER */
	put16(f, 6);
	for (i = 0; i < 8; i++)
		put8(f, i < 6 ? 0x02 : 0);
	put16(f, proto);
}

static void
sll2_hdr(struct frame *f, uint16_t proto)
{
	unsigned int i;

	put16(f, proto);
	put16(f, 0);
	put32(f, 3);            /* ifindex */
	put16(f, 1);            /* ARPHRD_ETHER */
	put8(f, 4);             /* outgoing */
	put8(f, 6);
	for (i = 0; i < 8; i++)
		put8(f, i < 6 ? 0x02 : 0);
}

/* DLT_NULL stores the AF in the writer's byte order: little-endian here. */
static void
null_hdr(struct frame *f, uint32_t af, int big_endian)
{
	if (big_endian) {
		put32(f, af);
	} else {
		put8(f, af & 0xff);
		put8(f, (af >> 8) & 0xff);
		put8(f, (af >> 16) & 0xff);
		put8(f, af >> 24);
	}
}

static void
test_link_ether(void **state)
{
	struct frame f = { .len = 0 };
	struct wl_pkt p;
	uint32_t ip;

	(void)state;
	eth(&f, 0, NULL, 0x0800);
	ip = tcp4(&f, 10);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
	check_l3(&p, 4, ip);
	check_tcp(&p, ip + 20, 20, 10);
	assert_int_equal(p.nvlan, 0);
	assert_int_equal(p.tcp_wscale, 0xff);
	assert_int_equal(p.tcp_mss, 0);
	assert_int_equal(p.nsack, 0);
	assert_int_equal(p.has_tsopt, 0);

	f.len = 0;
	eth(&f, 0, NULL, 0x86dd);
	ip = tcp6(&f, 100);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
	check_l3(&p, 6, ip);
	check_tcp(&p, ip + 40, 20, 100);

	/* ARP, LLDP, an 802.3 length field: not IP. */
	f.len = 0;
	eth(&f, 0, NULL, 0x0806);
	tcp4(&f, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_ERR_NOT_IP);
	set16(&f, 12, 0x88cc);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_ERR_NOT_IP);
	set16(&f, 12, 0x0040);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_ERR_NOT_IP);

	assert_int_equal(decode_n(&p, f.b, 13, WL_LINK_ETHER),
		WL_PKT_ERR_TRUNC_L2);
	assert_int_equal(decode_n(&p, f.b, 0, WL_LINK_ETHER),
		WL_PKT_ERR_TRUNC_L2);
	set16(&f, 12, 0x0800);
	assert_int_equal(decode_n(&p, f.b, 14, WL_LINK_ETHER),
		WL_PKT_ERR_TRUNC_L3);
}

static void
test_link_sll(void **state)
{
	struct frame f = { .len = 0 };
	struct wl_pkt p;
	uint32_t ip;

	(void)state;
	sll_hdr(&f, 0x0800);
	ip = tcp4(&f, 3);
	assert_int_equal(ip, 16);
	assert_int_equal(decode(&p, &f, WL_LINK_SLL), WL_PKT_OK);
	check_l3(&p, 4, ip);
	check_tcp(&p, ip + 20, 20, 3);
	assert_int_equal(decode_n(&p, f.b, 15, WL_LINK_SLL),
		WL_PKT_ERR_TRUNC_L2);

	f.len = 0;
	sll_hdr(&f, 0x86dd);
	ip = tcp6(&f, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_SLL), WL_PKT_OK);
	check_l3(&p, 6, ip);
	check_tcp(&p, ip + 40, 20, 0);

	f.len = 0;
	sll_hdr(&f, 0x0806);
	tcp4(&f, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_SLL), WL_PKT_ERR_NOT_IP);

	/* libpcap reinserts a stripped tag after the cooked header. */
	f.len = 0;
	sll_hdr(&f, 0x8100);
	put16(&f, 42);
	put16(&f, 0x0800);
	ip = tcp4(&f, 1);
	assert_int_equal(decode(&p, &f, WL_LINK_SLL), WL_PKT_OK);
	assert_int_equal(p.nvlan, 1);
	assert_int_equal(p.vlan[0], 42);
	check_l3(&p, 4, ip);
	check_tcp(&p, ip + 20, 20, 1);
}

static void
test_link_sll2(void **state)
{
	struct frame f = { .len = 0 };
	struct wl_pkt p;
	uint32_t ip;

	(void)state;
	sll2_hdr(&f, 0x0800);
	ip = tcp4(&f, 7);
	assert_int_equal(ip, 20);
	assert_int_equal(decode(&p, &f, WL_LINK_SLL2), WL_PKT_OK);
	check_l3(&p, 4, ip);
	check_tcp(&p, ip + 20, 20, 7);
	assert_int_equal(decode_n(&p, f.b, 19, WL_LINK_SLL2),
		WL_PKT_ERR_TRUNC_L2);

	f.len = 0;
	sll2_hdr(&f, 0x86dd);
	ip = tcp6(&f, 7);
	assert_int_equal(decode(&p, &f, WL_LINK_SLL2), WL_PKT_OK);
	check_l3(&p, 6, ip);
	check_tcp(&p, ip + 40, 20, 7);

	f.len = 0;
	sll2_hdr(&f, 0x88cc);
	tcp4(&f, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_SLL2), WL_PKT_ERR_NOT_IP);
}

static void
test_link_null_loop(void **state)
{
	static const uint32_t v6af[] = { 24, 28, 30 };
	struct frame f = { .len = 0 };
	struct wl_pkt p;
	unsigned int i;
	uint32_t ip;

	(void)state;
	null_hdr(&f, 2, 0);
	ip = tcp4(&f, 5);
	assert_int_equal(decode(&p, &f, WL_LINK_NULL), WL_PKT_OK);
	check_l3(&p, 4, ip);
	check_tcp(&p, ip + 20, 20, 5);
	/* Written by a big-endian host: still recognised. */
	f.len = 0;
	null_hdr(&f, 2, 1);
	ip = tcp4(&f, 5);
	assert_int_equal(decode(&p, &f, WL_LINK_NULL), WL_PKT_OK);
	check_l3(&p, 4, ip);

	for (i = 0; i < 3; i++) {
		f.len = 0;
		null_hdr(&f, v6af[i], 0);
		ip = tcp6(&f, 2);
		assert_int_equal(decode(&p, &f, WL_LINK_NULL), WL_PKT_OK);
		check_l3(&p, 6, ip);
		check_tcp(&p, ip + 40, 20, 2);

		f.len = 0;
		null_hdr(&f, v6af[i], 1);
		ip = tcp6(&f, 2);
		assert_int_equal(decode(&p, &f, WL_LINK_LOOP), WL_PKT_OK);
		check_l3(&p, 6, ip);
		check_tcp(&p, ip + 40, 20, 2);
	}

	f.len = 0;
	null_hdr(&f, 2, 1);
	ip = tcp4(&f, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_LOOP), WL_PKT_OK);
	check_l3(&p, 4, ip);
	/* LOOP is network order only: a little-endian AF is not IP. */
	f.len = 0;
	null_hdr(&f, 2, 0);
	tcp4(&f, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_LOOP), WL_PKT_ERR_NOT_IP);

	f.len = 0;
	null_hdr(&f, 7, 0);     /* AF_OSI, say */
	tcp4(&f, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_NULL), WL_PKT_ERR_NOT_IP);
	assert_int_equal(decode_n(&p, f.b, 3, WL_LINK_NULL),
		WL_PKT_ERR_TRUNC_L2);
	assert_int_equal(decode_n(&p, f.b, 3, WL_LINK_LOOP),
		WL_PKT_ERR_TRUNC_L2);
}

static void
test_link_raw(void **state)
{
	struct frame f = { .len = 0 };
	struct wl_pkt p;

	(void)state;
	tcp4(&f, 4);
	assert_int_equal(decode(&p, &f, WL_LINK_RAW), WL_PKT_OK);
	check_l3(&p, 4, 0);
	check_tcp(&p, 20, 20, 4);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);
	check_tcp(&p, 20, 20, 4);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_ERR_BAD_IP);

	f.len = 0;
	tcp6(&f, 4);
	assert_int_equal(decode(&p, &f, WL_LINK_RAW), WL_PKT_OK);
	check_l3(&p, 6, 0);
	check_tcp(&p, 40, 20, 4);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_OK);
	check_tcp(&p, 40, 20, 4);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_BAD_IP);

	f.b[0] = 0x55;
	assert_int_equal(decode(&p, &f, WL_LINK_RAW), WL_PKT_ERR_BAD_IP);
	assert_int_equal(decode_n(&p, f.b, 0, WL_LINK_RAW),
		WL_PKT_ERR_TRUNC_L3);
	assert_int_equal(decode_n(&p, f.b, 0, WL_LINK_IPV4),
		WL_PKT_ERR_TRUNC_L3);
	assert_int_equal(decode_n(&p, f.b, 39, WL_LINK_IPV6),
		WL_PKT_ERR_TRUNC_L3);
}

static void
test_link_ppp(void **state)
{
	struct frame f = { .len = 0 };
	struct wl_pkt p;
	uint32_t ip;

	(void)state;
	put8(&f, 0xff);
	put8(&f, 0x03);
	put16(&f, 0x0021);
	ip = tcp4(&f, 6);
	assert_int_equal(decode(&p, &f, WL_LINK_PPP), WL_PKT_OK);
	check_l3(&p, 4, ip);
	check_tcp(&p, ip + 20, 20, 6);

	f.len = 0;
	put16(&f, 0x0021);
	ip = tcp4(&f, 6);
	assert_int_equal(ip, 2);
	assert_int_equal(decode(&p, &f, WL_LINK_PPP), WL_PKT_OK);
	check_l3(&p, 4, ip);

	f.len = 0;
	put8(&f, 0xff);
	put8(&f, 0x03);
	put16(&f, 0x0057);
	ip = tcp6(&f, 6);
	assert_int_equal(decode(&p, &f, WL_LINK_PPP), WL_PKT_OK);
	check_l3(&p, 6, ip);
	check_tcp(&p, ip + 40, 20, 6);

	f.len = 0;
	put16(&f, 0x0057);
	ip = tcp6(&f, 6);
	assert_int_equal(decode(&p, &f, WL_LINK_PPP), WL_PKT_OK);
	check_l3(&p, 6, ip);

	/* Protocol-field compression (RFC 1661 6.5). */
	f.len = 0;
	put8(&f, 0x21);
	ip = tcp4(&f, 6);
	assert_int_equal(decode(&p, &f, WL_LINK_PPP), WL_PKT_OK);
	check_l3(&p, 4, ip);

	f.len = 0;
	put8(&f, 0xff);
	put8(&f, 0x03);
	put16(&f, 0xc021);      /* LCP */
	put32(&f, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_PPP), WL_PKT_ERR_NOT_IP);
	assert_int_equal(decode_n(&p, f.b, 3, WL_LINK_PPP),
		WL_PKT_ERR_TRUNC_L2);
	assert_int_equal(decode_n(&p, f.b, 2, WL_LINK_PPP),
		WL_PKT_ERR_TRUNC_L2);
	assert_int_equal(decode_n(&p, f.b, 0, WL_LINK_PPP),
		WL_PKT_ERR_TRUNC_L2);
}

static void
test_link_unsupported(void **state)
{
	struct frame f = { .len = 0 };
	struct wl_pkt p;

	(void)state;
	tcp4(&f, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_MAX), WL_PKT_ERR_UNSUPP_LINK);
	assert_int_equal(decode(&p, &f, (enum wl_link)200),
		WL_PKT_ERR_UNSUPP_LINK);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(wl_link_name(WL_LINK_ETHER), "ether");
	assert_string_equal(wl_link_name(WL_LINK_NULL), "null");
	assert_string_equal(wl_link_name(WL_LINK_PPP), "ppp");
	assert_string_equal(wl_link_name(WL_LINK_MAX), "unknown");
	assert_string_equal(wl_pkt_err_name(WL_PKT_OK), "ok");
	assert_string_equal(wl_pkt_err_name(WL_PKT_ERR_TRUNC_L2), "trunc_l2");
	assert_string_equal(wl_pkt_err_name(WL_PKT_ERR_UNSUPP_LINK),
		"unsupported_link");
	assert_string_equal(wl_pkt_err_name(WL_PKT_ERR_MAX), "unknown");
}

/* ---- VLAN ---- */

static void
test_vlan(void **state)
{
	static const uint16_t tpids[][3] = {
		{ 0x8100, 0x8100, 0x8100 },
		{ 0x88a8, 0x8100, 0x8100 },
		{ 0x9100, 0x88a8, 0x9100 },
	};
	struct frame f;
	struct wl_pkt p;
	unsigned int t, n;
	uint32_t ip;

	(void)state;
	for (t = 0; t < 3; t++) {
		for (n = 0; n <= 3; n++) {
			f.len = 0;
			eth(&f, n, tpids[t], 0x0800);
			ip = tcp4(&f, 9);
			assert_int_equal(ip, 14 + 4 * n);
			if (n == 3) {
				assert_int_equal(decode(&p, &f, WL_LINK_ETHER),
					WL_PKT_ERR_TOO_MANY_TAGS);
				continue;
			}
			assert_int_equal(decode(&p, &f, WL_LINK_ETHER),
				WL_PKT_OK);
			assert_int_equal(p.nvlan, n);
			if (n > 0)
				assert_int_equal(p.vlan[0], 100);
			if (n > 1)
				assert_int_equal(p.vlan[1], 101);
			check_l3(&p, 4, ip);
			check_tcp(&p, ip + 20, 20, 9);
			/* Cut inside the last tag or its inner type. */
			if (n > 0)
				assert_int_equal(decode_n(&p, f.b, ip - 1,
					WL_LINK_ETHER), WL_PKT_ERR_TRUNC_L2);
		}
	}

	/* Tagged non-IP. */
	f.len = 0;
	eth(&f, 1, tpids[0], 0x0806);
	put32(&f, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_ERR_NOT_IP);
	assert_int_equal(p.nvlan, 1);
}

/* IP in a PPPoE session, behind two tags as broadband access links have. */
static void
test_pppoe(void **state)
{
	static const uint16_t ppp[] = { 0x0021, 0x0057, 0xc021 };
	struct frame f;
	struct wl_pkt p;
	unsigned int i;
	uint32_t ip;

	(void)state;
	for (i = 0; i < WL_ARRAY_SIZE(ppp); i++) {
		f.len = 0;
		eth(&f, 2, (const uint16_t[]){ 0x8100, 0x8100 }, 0x8864);
		put8(&f, 0x11);
		put8(&f, 0);
		put16(&f, 0x1234);      /* session */
		put16(&f, 0);           /* length, not trusted */
		put16(&f, ppp[i]);
		ip = i == 1 ? tcp6(&f, 5) : tcp4(&f, 5);
		assert_int_equal(ip, 14 + 8 + 8);
		if (i == 2) {
			assert_int_equal(decode(&p, &f, WL_LINK_ETHER),
				WL_PKT_ERR_NOT_IP);
			continue;
		}
		assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
		assert_int_equal(p.nvlan, 2);
		check_l3(&p, i == 1 ? 6 : 4, ip);
		assert_int_equal(decode_n(&p, f.b, 14 + 8 + 7, WL_LINK_ETHER),
			WL_PKT_ERR_TRUNC_L2);
	}
	/* Discovery stage (code != 0) is not IP. */
	f.b[14 + 8 + 1] = 0x09;
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_ERR_NOT_IP);
}

/* ---- IPv4 ---- */

static void
test_ipv4_options(void **state)
{
	struct frame f;
	struct wl_pkt p;
	uint32_t opt, ip;

	(void)state;
	for (opt = 4; opt <= 40; opt += 4) {
		f.len = 0;
		eth(&f, 0, NULL, 0x0800);
		ip = ip4_begin(&f, IPPROTO_TCP, opt, 0);
		tcp(&f, NULL, 0, 11);
		ip4_end(&f, ip);
		assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
		check_l3(&p, 4, ip);
		check_tcp(&p, ip + 20 + opt, 20, 11);
		/* Header cut inside the options. */
		assert_int_equal(decode_n(&p, f.b, ip + 20 + opt - 1,
			WL_LINK_ETHER), WL_PKT_ERR_TRUNC_L3);
	}
}

static void
test_ipv4_bad(void **state)
{
	struct frame f = { .len = 0 };
	struct wl_pkt p;
	uint32_t ip, l4;

	(void)state;
	ip = tcp4(&f, 8);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);

	f.b[ip] = 0x45 | 0x70;          /* version 7 */
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_BAD_IP);
	f.b[ip] = 0x44;                 /* IHL 16 bytes */
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_BAD_IP);
	f.b[ip] = 0x40;
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_BAD_IP);
	f.b[ip] = 0x45;

	/* Total length below the header length. */
	set16(&f, ip + 2, 19);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_BAD_IP);
	f.b[ip] = 0x4f;
	set16(&f, ip + 2, 59);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_BAD_IP);
	/* IHL 60 but only 48 bytes captured. */
	set16(&f, ip + 2, 60);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_TRUNC_L3);

	/* Total length leaves less than a TCP header. */
	f.b[ip] = 0x45;
	set16(&f, ip + 2, 20 + 19);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_TRUNC_L4);
	assert_int_equal(p.ip_version, 4);
	check_addr4(&p.src, src4);

	/* Total length 0 (TSO capture): the captured length is used. */
	set16(&f, ip + 2, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);
	check_tcp(&p, 20, 20, 8);

	/* A non TCP/UDP protocol: addresses still decoded. */
	f.len = 0;
	ip = ip4_begin(&f, IPPROTO_ICMP, 0, 0);
	l4 = f.len;
	put32(&f, 0x08000000);
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_OTHER_L4);
	assert_int_equal(p.l4proto, IPPROTO_ICMP);
	assert_int_equal(off_of(p.l4), l4);
	check_l3(&p, 4, ip);
}

static void
test_ipv4_lengths(void **state)
{
	struct frame f = { .len = 0 };
	struct wl_pkt p;
	uint32_t ip, tot;

	(void)state;
	/* Minimum Ethernet frame: 2 data bytes and 4 bytes of padding. */
	eth(&f, 0, NULL, 0x0800);
	ip = tcp4(&f, 2);
	while (f.len < 60)
		put8(&f, 0xee);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
	check_tcp(&p, ip + 20, 20, 2);

	/* Same with UDP and no data at all. */
	f.len = 0;
	eth(&f, 0, NULL, 0x0800);
	ip = ip4_begin(&f, IPPROTO_UDP, 0, 0);
	udp(&f, 0);
	ip4_end(&f, ip);
	while (f.len < 60)
		put8(&f, 0xee);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
	check_udp(&p, ip + 20, 0);

	/* Snaplen: total length says 1000 data bytes, 100 captured. */
	f.len = 0;
	eth(&f, 0, NULL, 0x0800);
	ip = tcp4(&f, 1000);
	tot = f.len - ip;
	assert_int_equal(tot, 1040);
	assert_int_equal(decode_n(&p, f.b, ip + 40 + 100, WL_LINK_ETHER),
		WL_PKT_OK);
	check_tcp(&p, ip + 20, 20, 100);
	assert_int_equal(decode_n(&p, f.b, ip + 40, WL_LINK_ETHER), WL_PKT_OK);
	check_tcp(&p, ip + 20, 20, 0);
}

static void
test_fragments(void **state)
{
	static const uint16_t frags[] = { 0x2000, 0x0001, 0x20b9, 0x1fff,
		0x6000 };
	struct frame f;
	struct wl_pkt p;
	unsigned int i;
	uint32_t ip;

	(void)state;
	for (i = 0; i < WL_ARRAY_SIZE(frags); i++) {
		f.len = 0;
		ip = ip4_begin(&f, IPPROTO_TCP, 0, frags[i]);
		tcp(&f, NULL, 0, 16);
		ip4_end(&f, ip);
		assert_int_equal(decode(&p, &f, WL_LINK_IPV4),
			WL_PKT_ERR_FRAGMENT);
		check_l3(&p, 4, 0);
		assert_int_equal(p.l4proto, IPPROTO_TCP);
		assert_int_equal(p.sport, 0);
		/* Only a first fragment (offset 0) shows its L4 header. */
		if ((frags[i] & 0x1fff) == 0)
			assert_int_equal(off_of(p.frag_l4), 20);
		else
			assert_null(p.frag_l4);
	}
	/* DF and the reserved bit alone are not fragmentation. */
	f.len = 0;
	ip = ip4_begin(&f, IPPROTO_TCP, 0, 0xc000);
	tcp(&f, NULL, 0, 16);
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);

	/* IPv6: first fragment, middle, last. */
	for (i = 0; i < 3; i++) {
		f.len = 0;
		ip = ip6_begin(&f, 44);
		ip6_frag(&f, IPPROTO_UDP, i == 0 ? 0 : 100, i != 2);
		udp(&f, 30);
		ip6_end(&f, ip);
		assert_int_equal(decode(&p, &f, WL_LINK_IPV6),
			WL_PKT_ERR_FRAGMENT);
		check_l3(&p, 6, 0);
		assert_int_equal(p.l4proto, IPPROTO_UDP);
		if (i == 0)
			assert_int_equal(off_of(p.frag_l4), 48);
		else
			assert_null(p.frag_l4);
	}
	/* Atomic fragment (RFC 6946): a whole packet. */
	f.len = 0;
	ip = ip6_begin(&f, 44);
	ip6_frag(&f, IPPROTO_UDP, 0, 0);
	udp(&f, 30);
	ip6_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_OK);
	check_udp(&p, 48, 30);
	assert_null(p.frag_l4);
	/* Fragment header cut short. */
	assert_int_equal(decode_n(&p, f.b, 47, WL_LINK_IPV6),
		WL_PKT_ERR_TRUNC_L3);
}

/* ---- IPv6 extension headers ---- */

static void
test_ipv6_ext(void **state)
{
	struct frame f;
	struct wl_pkt p;
	uint32_t ip, l4, i;

	(void)state;
	/* HBH, routing, fragment (atomic), AH, dest opts, TCP. */
	f.len = 0;
	eth(&f, 0, NULL, 0x86dd);
	ip = ip6_begin(&f, 0);
	ip6_opt_ext(&f, 43, 0);
	ip6_opt_ext(&f, 44, 2);
	ip6_frag(&f, 51, 0, 0);
	ip6_ah(&f, 60);
	ip6_opt_ext(&f, IPPROTO_TCP, 1);
	l4 = f.len;
	assert_int_equal(l4, ip + 40 + 8 + 24 + 8 + 24 + 16);
	tcp(&f, NULL, 0, 20);
	ip6_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
	check_l3(&p, 6, ip);
	check_tcp(&p, l4, 20, 20);
	/* Every cut inside the chain is truncation, not a broken chain. */
	for (i = ip + 40; i < l4; i++)
		assert_int_equal(decode_n(&p, f.b, i, WL_LINK_ETHER),
			WL_PKT_ERR_TRUNC_L3);

	/* Payload length ends inside the chain: broken. */
	set16(&f, ip + 4, 8 + 10);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER),
		WL_PKT_ERR_BAD_IP6_EXT);
	set16(&f, ip + 4, 1);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER),
		WL_PKT_ERR_BAD_IP6_EXT);

	/* Hop-by-hop not first. */
	f.len = 0;
	ip = ip6_begin(&f, 60);
	ip6_opt_ext(&f, 0, 0);
	ip6_opt_ext(&f, IPPROTO_TCP, 0);
	tcp(&f, NULL, 0, 0);
	ip6_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_ERR_BAD_IP6_EXT);
	check_l3(&p, 6, 0);

	/* Header length running past the end of the packet. */
	f.len = 0;
	ip = ip6_begin(&f, 60);
	ip6_opt_ext(&f, IPPROTO_TCP, 0);
	tcp(&f, NULL, 0, 0);
	ip6_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_OK);
	f.b[41] = 200;
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_ERR_BAD_IP6_EXT);

	/* 8 extension headers are fine, 9 are too many. */
	for (i = 8; i <= 9; i++) {
		uint32_t k;

		f.len = 0;
		ip = ip6_begin(&f, 60);
		for (k = 0; k < i; k++)
			ip6_opt_ext(&f, k + 1 == i ? IPPROTO_UDP : 60, 0);
		udp(&f, 4);
		ip6_end(&f, ip);
		if (i == 8) {
			assert_int_equal(decode(&p, &f, WL_LINK_IPV6),
				WL_PKT_OK);
			check_udp(&p, 40 + 8 * i, 4);
		} else {
			assert_int_equal(decode(&p, &f, WL_LINK_IPV6),
				WL_PKT_ERR_BAD_IP6_EXT);
		}
	}

	/* No next header, ICMPv6, ESP: other L4. */
	f.len = 0;
	ip = ip6_begin(&f, 60);
	ip6_opt_ext(&f, 59, 0);
	ip6_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_ERR_OTHER_L4);
	assert_int_equal(p.l4proto, 59);
	check_l3(&p, 6, 0);
	f.b[40] = 58;
	put32(&f, 0x80000000);
	ip6_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_ERR_OTHER_L4);
	assert_int_equal(p.l4proto, 58);
	assert_int_equal(off_of(p.l4), 48);
	f.b[40] = 50;
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_ERR_OTHER_L4);

	/* Payload length beyond the capture: keep what is there. */
	f.len = 0;
	ip = tcp6(&f, 500);
	assert_int_equal(decode_n(&p, f.b, 40 + 20 + 33, WL_LINK_IPV6),
		WL_PKT_OK);
	check_tcp(&p, 40, 20, 33);
	/* Payload length 0 (jumbogram / GSO): the captured length. */
	set16(&f, ip + 4, 0);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_OK);
	check_tcp(&p, 40, 20, 500);
	/* Payload length shorter than the capture: trailing bytes dropped. */
	set16(&f, ip + 4, 20 + 5);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_OK);
	check_tcp(&p, 40, 20, 5);
}

/* ---- TCP ---- */

static void
test_tcp_options(void **state)
{
	static const uint8_t syn[] = {
		2, 4, 0x05, 0xb4,               /* MSS 1460 */
		4, 2,                           /* SACK permitted */
		8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0,    /* TS */
		1,                              /* NOP */
		3, 3, 7,                        /* WS 7 */
	};
	static const uint8_t sack4[] = {
		1, 1, 5, 34,
		0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
		0, 0, 0, 5, 0, 0, 0, 6, 0xff, 0xff, 0xff, 0xf0,
		0xff, 0xff, 0xff, 0xff,
	};
	static const uint8_t sack_ts[] = {
		1, 1, 8, 10, 0xa, 0xb, 0xc, 0xd, 1, 2, 3, 4,
		1, 1, 5, 18, 0x10, 0, 0, 0, 0x10, 0, 0x10, 0,
		0x20, 0, 0, 0, 0x20, 0, 0x20, 0,
	};
	static const uint8_t ws_big[] = { 3, 3, 20 };
	static const uint8_t eol[] = { 2, 4, 0, 100, 0, 3, 3, 5 };
	/* Known kinds, wrong lengths: skipped. */
	static const uint8_t badlen[] = {
		2, 3, 1,                        /* MSS, length 3 */
		3, 2,                           /* WS, length 2 */
		8, 9, 1, 2, 3, 4, 5, 6, 7,      /* TS, length 9 */
		5, 4, 0, 0,                     /* SACK, no whole block */
		3, 3, 2,                        /* WS 2: fine */
	};
	/* A length of 0, 1 or past the end stops parsing, packet kept. */
	static const uint8_t zero[] = { 2, 4, 0, 200, 30, 0, 3, 3, 4 };
	static const uint8_t one[] = { 2, 4, 0, 200, 30, 1, 3, 3, 4 };
	static const uint8_t past[] = { 3, 3, 2, 8, 10, 1, 2, 3, 4, 5, 6 };
	static const uint8_t lone[] = { 1, 1, 1, 2 };
	struct frame f;
	struct wl_pkt p;
	uint32_t ip;

	(void)state;
	f.len = 0;
	ip = ip4_begin(&f, IPPROTO_TCP, 0, 0);
	tcp(&f, syn, sizeof(syn), 0);
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);
	check_tcp(&p, 20, 40, 0);
	assert_int_equal(p.tcp_mss, 1460);
	assert_int_equal(p.tcp_wscale, 7);
	assert_int_equal(p.has_tsopt, 1);
	assert_int_equal(p.tsval, 0x1234);
	assert_int_equal(p.tsecr, 0);
	assert_int_equal(p.nsack, 0);

	f.len = 0;
	ip = ip6_begin(&f, IPPROTO_TCP);
	tcp(&f, sack4, sizeof(sack4), 3);
	ip6_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_OK);
	check_tcp(&p, 40, 20 + 36, 3);
	assert_int_equal(p.nsack, 4);
	assert_int_equal(p.sack[0][0], 1);
	assert_int_equal(p.sack[0][1], 2);
	assert_int_equal(p.sack[1][0], 3);
	assert_int_equal(p.sack[2][1], 6);
	assert_int_equal(p.sack[3][0], 0xfffffff0u);
	assert_int_equal(p.sack[3][1], 0xffffffffu);
	assert_int_equal(p.has_tsopt, 0);
	assert_int_equal(p.tcp_wscale, 0xff);

	/* Reusing the struct: nothing left over from the previous packet. */
	f.len = 0;
	ip = ip6_begin(&f, IPPROTO_TCP);
	tcp(&f, sack_ts, sizeof(sack_ts), 0);
	ip6_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_OK);
	assert_int_equal(p.nsack, 2);
	assert_int_equal(p.sack[0][0], 0x10000000u);
	assert_int_equal(p.sack[0][1], 0x10001000u);
	assert_int_equal(p.sack[1][0], 0x20000000u);
	assert_int_equal(p.has_tsopt, 1);
	assert_int_equal(p.tsval, 0x0a0b0c0du);
	assert_int_equal(p.tsecr, 0x01020304u);
	assert_int_equal(p.tcp_mss, 0);

	f.len = 0;
	ip = ip4_begin(&f, IPPROTO_TCP, 0, 0);
	tcp(&f, ws_big, sizeof(ws_big), 0);
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);
	assert_int_equal(p.tcp_wscale, 14);

	f.len = 0;
	ip = ip4_begin(&f, IPPROTO_TCP, 0, 0);
	tcp(&f, eol, sizeof(eol), 0);
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);
	assert_int_equal(p.tcp_mss, 100);
	assert_int_equal(p.tcp_wscale, 0xff);

	f.len = 0;
	ip = ip4_begin(&f, IPPROTO_TCP, 0, 0);
	tcp(&f, badlen, sizeof(badlen), 2);
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);
	check_tcp(&p, 20, 44, 2);
	assert_int_equal(p.tcp_mss, 0);
	assert_int_equal(p.has_tsopt, 0);
	assert_int_equal(p.nsack, 0);
	assert_int_equal(p.tcp_wscale, 2);

	f.len = 0;
	ip = ip4_begin(&f, IPPROTO_TCP, 0, 0);
	tcp(&f, zero, sizeof(zero), 1);
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);
	check_tcp(&p, 20, 32, 1);
	assert_int_equal(p.tcp_mss, 200);
	assert_int_equal(p.tcp_wscale, 0xff);

	f.len = 0;
	ip = ip4_begin(&f, IPPROTO_TCP, 0, 0);
	tcp(&f, one, sizeof(one), 1);
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);
	assert_int_equal(p.tcp_mss, 200);
	assert_int_equal(p.tcp_wscale, 0xff);

	f.len = 0;
	ip = ip4_begin(&f, IPPROTO_TCP, 0, 0);
	tcp(&f, past, sizeof(past), 1);
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);
	check_tcp(&p, 20, 32, 1);
	assert_int_equal(p.tcp_wscale, 2);
	assert_int_equal(p.has_tsopt, 0);

	/* Kind with no room for its length byte. */
	f.len = 0;
	ip = ip4_begin(&f, IPPROTO_TCP, 0, 0);
	tcp(&f, lone, sizeof(lone), 0);
	f.b[ip + 20 + 20 + 3] = 3;
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);
	assert_int_equal(p.tcp_wscale, 0xff);
}

static void
test_tcp_bad(void **state)
{
	struct frame f = { .len = 0 };
	struct wl_pkt p;
	uint32_t ip, t;

	(void)state;
	ip = ip4_begin(&f, IPPROTO_TCP, 0, 0);
	t = tcp(&f, NULL, 0, 30);
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);

	f.b[t + 12] = 0x40;     /* data offset 4 */
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_BAD_TCP);
	f.b[t + 12] = 0x00;
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_BAD_TCP);
	/* 60 bytes of header, 50 in the segment: past the end. */
	f.b[t + 12] = 0xf0;
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_ERR_BAD_TCP);
	check_l3(&p, 4, 0);
	/* 48 bytes of header fits the segment but not the capture. */
	f.b[t + 12] = 0xc0;
	assert_int_equal(decode(&p, &f, WL_LINK_IPV4), WL_PKT_OK);
	assert_int_equal(off_of(p.payload), 20 + 48);
	assert_int_equal(p.payload_len, 2);
	assert_int_equal(decode_n(&p, f.b, 20 + 47, WL_LINK_IPV4),
		WL_PKT_ERR_TRUNC_L4);
	f.b[t + 12] = 0x50;
	assert_int_equal(decode_n(&p, f.b, 20 + 19, WL_LINK_IPV4),
		WL_PKT_ERR_TRUNC_L4);
	assert_int_equal(decode_n(&p, f.b, 20 + 20, WL_LINK_IPV4), WL_PKT_OK);
	check_tcp(&p, 20, 20, 0);
}

static void
test_udp(void **state)
{
	struct frame f = { .len = 0 };
	struct wl_pkt p;
	uint32_t ip, u;

	(void)state;
	eth(&f, 0, NULL, 0x0800);
	ip = ip4_begin(&f, IPPROTO_UDP, 8, 0);
	u = udp(&f, 100);
	ip4_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
	check_l3(&p, 4, ip);
	check_udp(&p, u, 100);
	assert_int_equal(p.payload[99], 99);
	assert_int_equal(p.tcp_wscale, 0xff);
	assert_int_equal(p.seq, 0);

	/* A shorter UDP length trims; a nonsense one is ignored. */
	set16(&f, u + 4, 8 + 10);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
	check_udp(&p, u, 10);
	set16(&f, u + 4, 3);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
	check_udp(&p, u, 100);
	set16(&f, u + 4, 60000);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
	check_udp(&p, u, 100);

	assert_int_equal(decode_n(&p, f.b, u + 7, WL_LINK_ETHER),
		WL_PKT_ERR_TRUNC_L4);
	assert_int_equal(decode_n(&p, f.b, u + 8, WL_LINK_ETHER), WL_PKT_OK);
	check_udp(&p, u, 0);

	f.len = 0;
	ip = ip6_begin(&f, IPPROTO_UDP);
	udp(&f, 1);
	ip6_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_RAW), WL_PKT_OK);
	check_l3(&p, 6, 0);
	check_udp(&p, 40, 1);
}

/* ---- truncation at every offset ---- */

/*
 * Decode every prefix of f: the outcome must be the truncation error of
 * the layer the cut falls in, or OK once the L4 header is complete, with
 * the header fields of the full frame and the payload that is present.
 */
static void
check_every_prefix(const struct frame *f, enum wl_link link, uint32_t l3off,
	uint32_t l4off, uint32_t payoff)
{
	struct wl_pkt full, p;
	enum wl_pkt_err want;
	uint32_t k;

	assert_int_equal(decode(&full, f, link), WL_PKT_OK);
	for (k = 0; k <= f->len; k++) {
		if (k < l3off)
			want = WL_PKT_ERR_TRUNC_L2;
		else if (k < l4off)
			want = WL_PKT_ERR_TRUNC_L3;
		else if (k < payoff)
			want = WL_PKT_ERR_TRUNC_L4;
		else
			want = WL_PKT_OK;
		assert_int_equal(decode_n(&p, f->b, k, link), want);
		if (want != WL_PKT_OK)
			continue;
		assert_int_equal(off_of(p.payload), payoff);
		assert_int_equal(p.payload_len, k - payoff);
		assert_memory_equal(&p.src, &full.src, sizeof(p.src));
		assert_memory_equal(&p.dst, &full.dst, sizeof(p.dst));
		assert_int_equal(p.sport, full.sport);
		assert_int_equal(p.dport, full.dport);
		assert_int_equal(p.seq, full.seq);
		assert_int_equal(p.ack, full.ack);
		assert_int_equal(p.tcp_mss, full.tcp_mss);
		assert_int_equal(p.tcp_wscale, full.tcp_wscale);
		assert_int_equal(p.nsack, full.nsack);
		assert_int_equal(p.has_tsopt, full.has_tsopt);
		assert_int_equal(p.tsval, full.tsval);
		assert_int_equal(p.nvlan, full.nvlan);
	}
}

static void
test_truncation(void **state)
{
	static const uint8_t opts[] = {
		1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8,
		1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
		2, 4, 1, 0,
	};
	static const uint16_t tpid[] = { 0x88a8, 0x8100 };
	struct frame f = { .len = 0 };
	struct wl_pkt p;
	uint32_t ip, l4;

	(void)state;
	/* QinQ, IPv6 with HBH + dest opts, TCP with 36 option bytes. */
	eth(&f, 2, tpid, 0x86dd);
	ip = ip6_begin(&f, 0);
	ip6_opt_ext(&f, 60, 1);
	ip6_opt_ext(&f, IPPROTO_TCP, 0);
	l4 = tcp(&f, opts, sizeof(opts), 64);
	ip6_end(&f, ip);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
	assert_int_equal(p.nsack, 2);
	assert_int_equal(p.tcp_mss, 256);
	check_every_prefix(&f, WL_LINK_ETHER, ip, l4, l4 + 56);

	/* IPv4 with options behind SLL2. */
	f.len = 0;
	sll2_hdr(&f, 0x0800);
	ip = ip4_begin(&f, IPPROTO_TCP, 12, 0);
	l4 = tcp(&f, opts, sizeof(opts), 64);
	ip4_end(&f, ip);
	check_every_prefix(&f, WL_LINK_SLL2, ip, l4, l4 + 56);

	/* Every other link type with a plain packet. */
	f.len = 0;
	sll_hdr(&f, 0x86dd);
	ip = tcp6(&f, 10);
	check_every_prefix(&f, WL_LINK_SLL, ip, ip + 40, ip + 60);
	f.len = 0;
	null_hdr(&f, 2, 0);
	ip = tcp4(&f, 10);
	check_every_prefix(&f, WL_LINK_NULL, ip, ip + 20, ip + 40);
	f.len = 0;
	null_hdr(&f, 30, 1);
	ip = tcp6(&f, 10);
	check_every_prefix(&f, WL_LINK_LOOP, ip, ip + 40, ip + 60);
	f.len = 0;
	put16(&f, 0xff03);
	put16(&f, 0x0021);
	ip = tcp4(&f, 10);
	check_every_prefix(&f, WL_LINK_PPP, ip, ip + 20, ip + 40);
	f.len = 0;
	ip = tcp6(&f, 10);
	check_every_prefix(&f, WL_LINK_IPV6, 0, 40, 60);
	/* RAW: an empty buffer has no version nibble, hence TRUNC_L3. */
	check_every_prefix(&f, WL_LINK_RAW, 0, 40, 60);
}

/* ---- hash ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		(uint32_t)b[2] << 8 | b[3];
}

/* What rte_softrss() gives for p, tuple filled as its docs require. */
static uint32_t
ref_hash(const struct wl_pkt *p, int ports)
{
	union rte_thash_tuple t;
	unsigned int i;

	memset(&t, 0, sizeof(t));
	if (p->ip_version == 4) {
		t.v4.src_addr = be32(&p->src.a[12]);
		t.v4.dst_addr = be32(&p->dst.a[12]);
		t.v4.sport = p->sport;
		t.v4.dport = p->dport;
		return rte_softrss((uint32_t *)&t.v4, ports ?
			RTE_THASH_V4_L4_LEN : RTE_THASH_V4_L3_LEN,
			wl_rss_sym_key);
	}
	for (i = 0; i < 4; i++) {
		uint32_t s = be32(&p->src.a[4 * i]);
		uint32_t d = be32(&p->dst.a[4 * i]);

		memcpy(&t.v6.src_addr[4 * i], &s, 4);
		memcpy(&t.v6.dst_addr[4 * i], &d, 4);
	}
	t.v6.sport = p->sport;
	t.v6.dport = p->dport;
	return rte_softrss((uint32_t *)&t.v6, ports ?
		RTE_THASH_V6_L4_LEN : RTE_THASH_V6_L3_LEN, wl_rss_sym_key);
}

static void
random_pkt(struct wl_pkt *p, int v, uint8_t proto)
{
	static const uint8_t dummy;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->ip_version = v;
	p->l4proto = proto;
	if (v == 4) {
		p->src.a[10] = p->src.a[11] = 0xff;
		p->dst.a[10] = p->dst.a[11] = 0xff;
		for (i = 12; i < 16; i++) {
			p->src.a[i] = rnd();
			p->dst.a[i] = rnd();
		}
	} else {
		for (i = 0; i < 16; i++) {
			p->src.a[i] = rnd();
			p->dst.a[i] = rnd();
		}
	}
	p->sport = rnd();
	p->dport = rnd();
	p->payload = &dummy;
}

static void
swap_dir(struct wl_pkt *r, const struct wl_pkt *p)
{
	*r = *p;
	r->src = p->dst;
	r->dst = p->src;
	r->sport = p->dport;
	r->dport = p->sport;
}

static void
test_hash_key(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(wl_rss_sym_key); i++)
		assert_int_equal(wl_rss_sym_key[i], i % 2 ? 0x5a : 0x6d);
}

static void
test_hash_ref(void **state)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP,
		IPPROTO_ICMP };
	struct wl_pkt p, r;
	unsigned int i, v, k;
	uint32_t h;

	(void)state;
	for (i = 0; i < 20000; i++) {
		v = i % 2 ? 6 : 4;
		k = i % 3;
		random_pkt(&p, v, protos[k]);
		h = wl_pkt_hash_sym(&p);
		assert_int_equal(h, ref_hash(&p, k != 2));
		swap_dir(&r, &p);
		assert_int_equal(wl_pkt_hash_sym(&r), h);
		/* Not decoded to L4 (fragment): addresses only. */
		p.payload = NULL;
		assert_int_equal(wl_pkt_hash_sym(&p), ref_hash(&p, 0));
	}
	/* Edge values. */
	random_pkt(&p, 4, IPPROTO_TCP);
	memset(&p.src.a[12], 0xff, 4);
	memset(&p.dst.a[12], 0, 4);
	p.sport = 0xffff;
	p.dport = 0;
	assert_int_equal(wl_pkt_hash_sym(&p), ref_hash(&p, 1));
	memset(&p.src.a[12], 0, 4);
	p.sport = 0;
	assert_int_equal(wl_pkt_hash_sym(&p), 0);
	random_pkt(&p, 6, IPPROTO_UDP);
	memset(p.src.a, 0xff, 16);
	p.sport = 0xffff;
	assert_int_equal(wl_pkt_hash_sym(&p), ref_hash(&p, 1));
	/* Not IP at all. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(wl_pkt_hash_sym(&p), 0);
}

/* Both directions of a decoded flow hash alike, v4 and v6. */
static void
test_hash_decoded(void **state)
{
	struct frame f = { .len = 0 }, g = { .len = 0 };
	struct wl_pkt p, q;
	uint32_t ip, h;
	uint8_t tmp[16];

	(void)state;
	eth(&f, 0, NULL, 0x0800);
	ip = tcp4(&f, 0);
	g = f;
	memcpy(tmp, &g.b[ip + 12], 4);
	memcpy(&g.b[ip + 12], &g.b[ip + 16], 4);
	memcpy(&g.b[ip + 16], tmp, 4);
	set16(&g, ip + 20, T_DPORT);
	set16(&g, ip + 22, T_SPORT);
	assert_int_equal(decode(&p, &f, WL_LINK_ETHER), WL_PKT_OK);
	h = wl_pkt_hash_sym(&p);
	assert_int_equal(h, ref_hash(&p, 1));
	assert_int_equal(decode(&q, &g, WL_LINK_ETHER), WL_PKT_OK);
	assert_int_equal(q.sport, T_DPORT);
	assert_int_equal(wl_pkt_hash_sym(&q), h);

	f.len = 0;
	ip = tcp6(&f, 0);
	g = f;
	memcpy(tmp, &g.b[8], 16);
	memcpy(&g.b[8], &g.b[24], 16);
	memcpy(&g.b[24], tmp, 16);
	set16(&g, 40, T_DPORT);
	set16(&g, 42, T_SPORT);
	assert_int_equal(decode(&p, &f, WL_LINK_IPV6), WL_PKT_OK);
	h = wl_pkt_hash_sym(&p);
	assert_int_equal(h, ref_hash(&p, 1));
	assert_int_equal(decode(&q, &g, WL_LINK_IPV6), WL_PKT_OK);
	assert_int_equal(wl_pkt_hash_sym(&q), h);
	(void)ip;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_ether),
		cmocka_unit_test(test_link_sll),
		cmocka_unit_test(test_link_sll2),
		cmocka_unit_test(test_link_null_loop),
		cmocka_unit_test(test_link_raw),
		cmocka_unit_test(test_link_ppp),
		cmocka_unit_test(test_link_unsupported),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_pppoe),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_bad),
		cmocka_unit_test(test_ipv4_lengths),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_ipv6_ext),
		cmocka_unit_test(test_tcp_options),
		cmocka_unit_test(test_tcp_bad),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_hash_key),
		cmocka_unit_test(test_hash_ref),
		cmocka_unit_test(test_hash_decoded),
	};

	return cmocka_run_group_tests(tests, setup_guard, teardown_guard);
}
