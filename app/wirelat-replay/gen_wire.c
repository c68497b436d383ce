/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Frames and capture files of wirelat-replay gen (gen_wire.h). Every
 * header is written whole, checksums included, so a frame built here
 * is what a real stack would have sent; the capture writer keeps the
 * totals a truth file states (records, wire bytes, first and last time).
 */

#include <errno.h>
#include <string.h>

#include "gen_wire.h"

#define NS_PER_S 1000000000ULL

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define BSD_AF_INET 2
#define BSD_AF_INET6 24         /* DLT_NULL's value on the BSDs, as pcap */
#define SLL_HOST 0              /* packet types: to us, */
#define SLL_OUTGOING 4          /* sent by us */

const char *const gen_format_name[GEN_N_FMT] = {
#define _(n, s) s,
	foreach_gen_format
#undef _
};

const char *const gen_link_name[GEN_N_LINK] = {
#define _(n, s, t, l) s,
	foreach_gen_link
#undef _
};

const uint32_t gen_linktype[GEN_N_LINK] = {
#define _(n, s, t, l) t,
	foreach_gen_link
#undef _
};

static const uint32_t link_len[GEN_N_LINK] = {
#define _(n, s, t, l) l,
	foreach_gen_link
#undef _
};

/* ---- checksums ---- */

uint32_t
gen_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t
gen_csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* ---- headers ---- */

uint32_t
gen_l2_len(enum gen_link link, int vlan)
{
	return link_len[link] + (link == GEN_LINK_ETHER && vlan >= 0 ? 4 : 0);
}

uint32_t
gen_l2_put(uint8_t *f, enum gen_link link, int v6, const uint8_t *src_mac,
	const uint8_t *dst_mac, int to_server, int vlan)
{
	uint16_t proto = v6 ? ETH_P_IPV6 : ETH_P_IPV4;
	uint32_t af = v6 ? BSD_AF_INET6 : BSD_AF_INET;
	uint8_t pkttype = to_server ? SLL_HOST : SLL_OUTGOING;

	switch (link) {
	case GEN_LINK_ETHER:
		memcpy(f, dst_mac, 6);
		memcpy(f + 6, src_mac, 6);
		if (vlan < 0) {
			gen_put16(f + 12, proto);
			return 14;
		}
		gen_put16(f + 12, ETH_P_8021Q);
		gen_put16(f + 14, (uint32_t)vlan & 0x0fff);
		gen_put16(f + 16, proto);
		return 18;
	case GEN_LINK_SLL:
		gen_put16(f, pkttype);
		gen_put16(f + 2, 1);            /* ARPHRD_ETHER */
		gen_put16(f + 4, 6);
		memcpy(f + 6, src_mac, 6);
		memset(f + 12, 0, 2);
		gen_put16(f + 14, proto);
		return 16;
	case GEN_LINK_SLL2:
		gen_put16(f, proto);
		gen_put16(f + 2, 0);
		gen_put32(f + 4, 1);            /* interface index */
		gen_put16(f + 8, 1);            /* ARPHRD_ETHER */
		f[10] = pkttype;
		f[11] = 6;
		memcpy(f + 12, src_mac, 6);
		memset(f + 18, 0, 2);
		return 20;
	case GEN_LINK_NUL:
		gen_le32(f, af);                /* host order: little endian */
		return 4;
	case GEN_LINK_LOOP:
		gen_put32(f, af);               /* always big endian */
		return 4;
	case GEN_LINK_RAW:
	case GEN_N_LINK:
		break;
	}
	return 0;
}

uint32_t
gen_ip_put(uint8_t *ip, int v6, const uint8_t *src, const uint8_t *dst,
	uint8_t l4proto, uint32_t l4len, uint8_t ttl, uint32_t id)
{
	if (v6) {
		gen_put32(ip, 0x60000000u | (id & 0xfffff));
		gen_put16(ip + 4, l4len);
		ip[6] = l4proto;
		ip[7] = ttl;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		return 40;
	}
	ip[0] = 0x45;
	ip[1] = 0;
	gen_put16(ip + 2, 20 + l4len);
	gen_put16(ip + 4, id & 0xffff);
	gen_put16(ip + 6, 0x4000);              /* DF */
	ip[8] = ttl;
	ip[9] = l4proto;
	gen_put16(ip + 10, 0);
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	gen_put16(ip + 10, gen_csum_fold(gen_csum_add(0, ip, 20)));
	return 20;
}

uint32_t
gen_tcp_put(uint8_t *tcp, uint16_t sport, uint16_t dport, uint32_t seq,
	uint32_t ack, uint8_t flags, uint16_t win, uint16_t mss,
	uint8_t wscale)
{
	uint32_t thl = flags & GEN_F_SYN ? 20 + GEN_SYN_OPT_LEN : 20;

	gen_put16(tcp, sport);
	gen_put16(tcp + 2, dport);
	gen_put32(tcp + 4, seq);
	gen_put32(tcp + 8, ack);
	tcp[12] = (uint8_t)((thl / 4) << 4);
	tcp[13] = flags;
	gen_put16(tcp + 14, win);
	gen_put32(tcp + 16, 0);                 /* checksum, urgent */
	if (flags & GEN_F_SYN) {
		uint8_t *op = tcp + 20;

		op[0] = 2;                      /* MSS */
		op[1] = 4;
		gen_put16(op + 2, mss);
		op[4] = 1;                      /* NOP NOP SACK-permitted */
		op[5] = 1;
		op[6] = 4;
		op[7] = 2;
		op[8] = 1;                      /* NOP window scale */
		op[9] = 3;
		op[10] = 3;
		op[11] = wscale;
	}
	return thl;
}

void
gen_udp_put(uint8_t *udp, uint16_t sport, uint16_t dport, uint32_t len)
{
	gen_put16(udp, sport);
	gen_put16(udp + 2, dport);
	gen_put16(udp + 4, 8 + len);
	gen_put16(udp + 6, 0);
}

void
gen_l4_csum_set(uint8_t *ip, uint32_t l4len)
{
	int v6 = ip[0] >> 4 == 6;
	uint8_t proto = v6 ? ip[6] : ip[9];
	uint8_t *l4 = ip + (v6 ? 40 : 20);
	uint8_t *field = l4 + (proto == 17 ? 6 : 16);
	uint8_t ph[8];
	uint32_t s;
	uint16_t sum;

	/* The pseudo header: addresses, then L4 length and protocol (as
	 * IPv6 writes them; the sum is the same as IPv4's order). */
	s = v6 ? gen_csum_add(0, ip + 8, 32) : gen_csum_add(0, ip + 12, 8);
	gen_put32(ph, l4len);
	gen_put32(ph + 4, proto);
	s = gen_csum_add(s, ph, 8);
	gen_put16(field, 0);
	sum = gen_csum_fold(gen_csum_add(s, l4, l4len));
	gen_put16(field, proto == 17 && sum == 0 ? 0xffff : sum);
}

/* ---- capture files ---- */

int
gen_cap_start(struct gen_cap *w, FILE *f, enum gen_format fmt,
	enum gen_link link, uint32_t snaplen)
{
	uint8_t h[28 + 32];
	uint32_t n;

	*w = (struct gen_cap){ .f = f, .fmt = fmt, .snaplen = snaplen };
	if (fmt == GEN_FMT_PCAPNG) {
		/* SHB, no options, section length unknown (-1) */
		gen_le32(h, 0x0a0d0d0a);
		gen_le32(h + 4, 28);
		gen_le32(h + 8, 0x1a2b3c4d);
		h[12] = 1;
		h[13] = 0;
		h[14] = 0;
		h[15] = 0;
		memset(h + 16, 0xff, 8);
		gen_le32(h + 24, 28);
		/* IDB: if_tsresol 9 (ns), opt_endofopt */
		gen_le32(h + 28, 1);
		gen_le32(h + 32, 32);
		h[36] = (uint8_t)gen_linktype[link];
		h[37] = (uint8_t)(gen_linktype[link] >> 8);
		h[38] = 0;
		h[39] = 0;
		gen_le32(h + 40, snaplen);
		gen_le32(h + 44, 9 | 1u << 16);
		gen_le32(h + 48, 9);
		gen_le32(h + 52, 0);
		gen_le32(h + 56, 32);
		n = 60;
	} else {
		gen_le32(h, fmt == GEN_FMT_PCAP ? 0xa1b2c3d4 : 0xa1b23c4d);
		h[4] = 2;
		h[5] = 0;
		h[6] = 4;
		h[7] = 0;
		gen_le32(h + 8, 0);             /* thiszone */
		gen_le32(h + 12, 0);            /* sigfigs */
		gen_le32(h + 16, snaplen);
		gen_le32(h + 20, gen_linktype[link]);
		n = 24;
	}
	return fwrite(h, n, 1, f) == 1 ? 0 : -EIO;
}

int
gen_cap_put(struct gen_cap *w, uint64_t ts, const uint8_t *frame,
	uint32_t len)
{
	static const uint8_t zero[4];
	uint32_t cap = len < w->snaplen ? len : w->snaplen;
	uint32_t pad = -cap & 3, n = 16;
	uint8_t h[28];

	if (w->fmt == GEN_FMT_PCAPNG) {
		gen_le32(h, 6);                 /* EPB */
		gen_le32(h + 4, 32 + cap + pad);
		gen_le32(h + 8, 0);
		gen_le32(h + 12, (uint32_t)(ts >> 32));
		gen_le32(h + 16, (uint32_t)ts);
		gen_le32(h + 20, cap);
		gen_le32(h + 24, len);
		n = 28;
	} else {
		gen_le32(h, (uint32_t)(ts / NS_PER_S));
		gen_le32(h + 4, (uint32_t)(ts % NS_PER_S /
			(w->fmt == GEN_FMT_PCAP ? 1000 : 1)));
		gen_le32(h + 8, cap);
		gen_le32(h + 12, len);
	}
	if (fwrite(h, n, 1, w->f) != 1 ||
			(cap > 0 && fwrite(frame, cap, 1, w->f) != 1))
		return -EIO;
	if (w->fmt == GEN_FMT_PCAPNG) {
		gen_le32(h, 32 + cap + pad);
		if ((pad > 0 && fwrite(zero, pad, 1, w->f) != 1) ||
				fwrite(h, 4, 1, w->f) != 1)
			return -EIO;
	}
	if (w->packets == 0)
		w->first_ns = ts;
	w->last_ns = ts;
	w->packets++;
	w->bytes += len;
	return 0;
}
