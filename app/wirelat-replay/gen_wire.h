/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WR_GEN_WIRE_H
#define WR_GEN_WIRE_H

/*
 * Frames and capture files for the gen subcommand: link headers of every
 * link type wirelat reads, IPv4 and IPv6 headers, TCP and UDP headers with
 * their checksums, and a writer of pcap (us), pcap (ns) and pcapng
 * (if_tsresol 9). Pure byte work: no allocation, no state but the
 * writer's totals. Used by the workload (gen.c), the scenarios
 * (gen_scen.c) and the throughput capture (gen_bench.c) alike.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GEN_F_FIN 0x01
#define GEN_F_SYN 0x02
#define GEN_F_RST 0x04
#define GEN_F_PSH 0x08
#define GEN_F_ACK 0x10

#define GEN_SYN_OPT_LEN 12      /* MSS, NOP NOP SACK-permitted, NOP WS */
#define GEN_L2_MAX 20           /* longest link header: Linux SLL2 */

/* Capture file formats: enum value, name. */
#define foreach_gen_format \
	_(PCAP, "pcap") \
	_(PCAP_NS, "pcap-ns") \
	_(PCAPNG, "pcapng")

enum gen_format {
#define _(n, s) GEN_FMT_##n,
	foreach_gen_format
#undef _
	GEN_N_FMT
};

/* Link types: enum value, name, LINKTYPE_ number, header bytes (the
 * Ethernet header grows by 4 with a VLAN tag). */
#define foreach_gen_link \
	_(ETHER, "ether", 1, 14) \
	_(SLL, "sll", 113, 16) \
	_(SLL2, "sll2", 276, 20) \
	_(NUL, "null", 0, 4) \
	_(LOOP, "loop", 108, 4) \
	_(RAW, "raw", 101, 0)

enum gen_link {
#define _(n, s, t, l) GEN_LINK_##n,
	foreach_gen_link
#undef _
	GEN_N_LINK
};

extern const char *const gen_format_name[GEN_N_FMT];
extern const char *const gen_link_name[GEN_N_LINK];
extern const uint32_t gen_linktype[GEN_N_LINK];

/* A capture file being written and its totals. */
struct gen_cap {
	FILE *f;
	enum gen_format fmt;
	uint32_t snaplen;
	uint64_t packets;
	uint64_t bytes;         /* frame lengths on the wire */
	uint64_t first_ns, last_ns;
};

static inline void
gen_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
gen_put32(uint8_t *p, uint32_t v)
{
	gen_put16(p, v >> 16);
	gen_put16(p + 2, v & 0xffff);
}

static inline void
gen_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/** The Internet checksum's folded 16-bit sum of n bytes, added to sum. */
uint32_t gen_csum_add(uint32_t sum, const uint8_t *p, size_t n);

/** The checksum field for the folded sum s: its one's complement. */
uint16_t gen_csum_fold(uint32_t s);

/** Link header bytes of link, with a VLAN tag when vlan >= 0 (Ethernet). */
uint32_t gen_l2_len(enum gen_link link, int vlan);

/**
 * The link header of a frame from src_mac to dst_mac at f. The capture
 * host is the server: SLL's packet type says "to us" for to_server,
 * "outgoing" otherwise.
 * @param vlan
 *   802.1Q VLAN id (Ethernet only), or -1 for none.
 * @return the header's length, as gen_l2_len.
 */
uint32_t gen_l2_put(uint8_t *f, enum gen_link link, int v6,
	const uint8_t *src_mac, const uint8_t *dst_mac, int to_server,
	int vlan);

/**
 * An IPv4 header (20 bytes, DF, checksum set) or IPv6 header (40 bytes)
 * at ip, for l4len bytes of protocol l4proto.
 * @param src, dst
 *   4 or 16 address bytes.
 * @param id
 *   IPv4: the identification field; IPv6: the flow label.
 * @return the header's length.
 */
uint32_t gen_ip_put(uint8_t *ip, int v6, const uint8_t *src,
	const uint8_t *dst, uint8_t l4proto, uint32_t l4len, uint8_t ttl,
	uint32_t id);

/**
 * A TCP header at tcp, checksum 0 (gen_l4_csum_set sets it once the
 * payload is in place); a SYN carries MSS mss, SACK-permitted and window
 * scale wscale (GEN_SYN_OPT_LEN bytes).
 * @return the header's length.
 */
uint32_t gen_tcp_put(uint8_t *tcp, uint16_t sport, uint16_t dport,
	uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win, uint16_t mss,
	uint8_t wscale);

/** A UDP header at udp for len bytes of payload, checksum 0. */
void gen_udp_put(uint8_t *udp, uint16_t sport, uint16_t dport,
	uint32_t len);

/**
 * Set the TCP or UDP checksum of the l4len bytes after the IPv4 or IPv6
 * header at ip (UDP's 0 becomes 0xffff: 0 means none).
 */
void gen_l4_csum_set(uint8_t *ip, uint32_t l4len);

/**
 * Write the file header of fmt to f and start the totals.
 * @return 0 or -EIO.
 */
int gen_cap_start(struct gen_cap *w, FILE *f, enum gen_format fmt,
	enum gen_link link, uint32_t snaplen);

/**
 * One record: frame's len bytes at ts ns, cut to the snaplen. In
 * GEN_FMT_PCAP the time is kept in microseconds: callers that want exact
 * truth round their times first.
 * @return 0 or -EIO.
 */
int gen_cap_put(struct gen_cap *w, uint64_t ts, const uint8_t *frame,
	uint32_t len);

#endif /* WR_GEN_WIRE_H */
