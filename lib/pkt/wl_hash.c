/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Software symmetric RSS: the Toeplitz hash a NIC computes with the
 * 0x6d5a key, bit for bit, so that software-hashed input (pcap, af_packet,
 * --sw-hash) and NIC-hashed input spread flows the same way. The result
 * equals rte_softrss() on the rte_ipv4_tuple / rte_ipv6_tuple layout:
 * the input is src addr, dst addr, sport, dport in network byte order.
 *
 * Toeplitz XORs, for every set input bit at stream position n, the 32 key
 * bits starting at key bit n. A byte at an even offset of the input
 * therefore contributes a value that depends only on the byte and on the
 * key window at its offset. The key repeats every 16 bits, so that window
 * is the same for every even offset and the same for every odd one: two
 * 256-entry tables (2 KiB, L1-resident) replace the bit loop, and every
 * field (4- or 16-byte addresses, 2-byte ports) starts at an even offset.
 * The same periodicity makes the hash symmetric: h = A(src) ^ A(dst) ^
 * P(sport) ^ P(dport). The tables are built once, before main().
 */

#include <netinet/in.h>

#include <rte_common.h>

#include "wl_pkt.h"

const uint8_t wl_rss_sym_key[52] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a,
};

/* tbl[o][v]: contribution of byte value v at an input offset of parity o. */
static uint32_t tbl[2][256] __rte_cache_aligned;

/* The 32 key bits starting at bit n (n < 8 * (sizeof(key) - 8)). */
static uint32_t
key_window(unsigned int n)
{
	uint64_t w = 0;
	unsigned int i;

	for (i = 0; i < 8; i++)
		w = w << 8 | wl_rss_sym_key[n / 8 + i];
	return (uint32_t)(w >> (32 - n % 8));
}

RTE_INIT(wl_hash_init)
{
	unsigned int o, v, b;
	uint32_t h;

	for (o = 0; o < 2; o++) {
		for (v = 0; v < 256; v++) {
			h = 0;
			for (b = 0; b < 8; b++)
				if (v & (0x80u >> b))
					h ^= key_window(8 * o + b);
			tbl[o][v] = h;
		}
	}
}

/* A field of n bytes (n even) starting at an even offset. */
static inline uint32_t
hash_bytes(const uint8_t *b, unsigned int n)
{
	uint32_t h = 0;
	unsigned int i;

	for (i = 0; i < n; i += 2)
		h ^= tbl[0][b[i]] ^ tbl[1][b[i + 1]];
	return h;
}

static inline uint32_t
hash_port(uint16_t port)
{
	return tbl[0][port >> 8] ^ tbl[1][port & 0xff];
}

uint32_t
wl_pkt_hash_sym(const struct wl_pkt *p)
{
	uint32_t h;

	if (p->ip_version == 4)
		h = hash_bytes(&p->src.a[12], 4) ^ hash_bytes(&p->dst.a[12], 4);
	else if (p->ip_version == 6)
		h = hash_bytes(p->src.a, 16) ^ hash_bytes(p->dst.a, 16);
	else
		return 0;
	/*
	 * Ports only when decode reached them (payload set): a fragment or
	 * a truncated header hashes on addresses, as a NIC hashes them.
	 */
	if ((p->l4proto == IPPROTO_TCP || p->l4proto == IPPROTO_UDP) &&
			p->payload != NULL)
		h ^= hash_port(p->sport) ^ hash_port(p->dport);
	return h;
}
