/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Per-loop client rewrite for wirelat-replay: on loop L the client
 * address of every flow packet is L higher, so each pass over a capture
 * looks like new connections to an analyzer while the servers and all
 * ports stay the same.
 *
 * Checksums are updated, never recomputed (RFC 1624, eqn. 3:
 * HC' = ~(~HC + ~m + m')): only the changed 32 bits enter, so the result
 * is right whether or not the payload was captured (snap length, first
 * fragment), and a checksum that was wrong stays exactly as wrong. Both
 * IPv4 and IPv6 addresses are part of the TCP/UDP pseudo-header. Only
 * the address and the two checksum fields are ever written, and only
 * after every field was found inside caplen.
 */

#include <errno.h>

#include <netinet/in.h>

#include "wl_replay.h"

#define IP4_HDR_LEN 20u
#define IP6_HDR_LEN 40u
#define IP4_CSUM_OFF 10
#define IP4_SRC_OFF 12
#define IP4_DST_OFF 16
/* The last 32 bits of the IPv6 source and destination addresses. */
#define IP6_SRC_LOW_OFF (8 + 12)
#define IP6_DST_LOW_OFF (24 + 12)
#define TCP_CSUM_OFF 16
#define UDP_CSUM_OFF 6

static inline uint32_t
rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		(uint32_t)b[2] << 8 | b[3];
}

static inline void
wr32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static inline uint16_t
rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline void
wr16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* RFC 1624 eqn. 3 for a 32-bit field that changed from m to n. */
static inline uint16_t
csum_update32(uint16_t hc, uint32_t m, uint32_t n)
{
	uint32_t s;

	s = (uint16_t)~hc;
	s += (uint16_t)~(m >> 16) + (uint16_t)~(m & 0xffff);
	s += (n >> 16) + (n & 0xffff);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int
wl_rewrite_client(uint8_t *frame, uint32_t caplen,
	const struct wl_dir_info *info, uint32_t loop)
{
	uint32_t l3, l4, addr_off, csum_off, m, n;
	uint16_t c;

	if (frame == NULL || info == NULL)
		return -EINVAL;
	if (!info->is_flow || loop == 0)
		return 0;
	l3 = info->l3_off;
	l4 = info->l4_off;
	if (info->dir > WL_DIR_S2C)
		return -EINVAL;

	/* Find and check every field before writing any. */
	switch (info->ip_version) {
	case 4:
		if (l4 < l3 + IP4_HDR_LEN || l4 > caplen ||
				frame[l3] >> 4 != 4)
			return -EINVAL;
		addr_off = l3 + (info->dir == WL_DIR_C2S ?
			IP4_SRC_OFF : IP4_DST_OFF);
		break;
	case 6:
		if (l4 < l3 + IP6_HDR_LEN || l4 > caplen ||
				frame[l3] >> 4 != 6)
			return -EINVAL;
		addr_off = l3 + (info->dir == WL_DIR_C2S ?
			IP6_SRC_LOW_OFF : IP6_DST_LOW_OFF);
		break;
	default:
		return -EINVAL;
	}
	switch (info->l4proto) {
	case IPPROTO_TCP:
		csum_off = l4 + TCP_CSUM_OFF;
		break;
	case IPPROTO_UDP:
		csum_off = l4 + UDP_CSUM_OFF;
		break;
	default:
		return -EINVAL;
	}
	/* csum_off < l4 + 17 <= caplen + 17: no wrap in 32 bits. */
	if (csum_off + 2 > caplen)
		return -EINVAL;

	m = rd32(frame + addr_off);
	n = m + loop;           /* wraps: IPv4 whole, IPv6 low 32 bits */
	wr32(frame + addr_off, n);
	if (info->ip_version == 4) {
		c = rd16(frame + l3 + IP4_CSUM_OFF);
		wr16(frame + l3 + IP4_CSUM_OFF, csum_update32(c, m, n));
	}
	c = rd16(frame + csum_off);
	/*
	 * UDP 0 is "no checksum" (IPv4); in IPv6 it is only allowed for
	 * tunnels (RFC 6935) and otherwise invalid: either way there is no
	 * checksum to keep right, and updating would invent one.
	 */
	if (info->l4proto == IPPROTO_UDP && c == 0)
		return 0;
	c = csum_update32(c, m, n);
	/* A computed UDP checksum of 0 is sent as all ones (RFC 768). */
	if (info->l4proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	wr16(frame + csum_off, c);
	return 0;
}
