/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * L2-L4 decode of one contiguous frame into struct wl_pkt.
 *
 * The decoder walks the frame with a single offset and a limit. Invariants:
 *   - nothing is read at or past len: every header is bounds-checked
 *     against the bytes actually present before any of its fields is
 *     loaded, and all offset arithmetic is done in 32 bits on values that
 *     were already checked to be <= len, so it cannot wrap;
 *   - nothing is allocated or copied: l3, l4 and payload point into data;
 *   - the fields the caller owns (ts_ns, ts_source, port, hash, wire_len)
 *     are never written; every other field is reset first, so a struct
 *     reused across packets never carries stale values;
 *   - once the IP header is decoded, the addresses, ip_version, l4proto,
 *     ttl and ip_id are valid even when decode then fails (FRAGMENT,
 *     OTHER_L4, TRUNC_L4, BAD_TCP), so the caller may still count or hash
 *     by address; l4 is set on OK and OTHER_L4, payload only on OK;
 *     frag_l4 only on FRAGMENT, for a first fragment (its L4 header is
 *     there, so a rewriter can fix ports and checksums).
 * The L3 end is the IP total/payload length clamped to the bytes present:
 * Ethernet padding is dropped, a snaplen-cut packet keeps what it has.
 */

#include <string.h>

#include <netinet/in.h>

#include "wl_common.h"
#include "wl_pkt.h"

#define ETH_HDR_LEN 14u
#define VLAN_TAG_LEN 4u
#define SLL_HDR_LEN 16u
#define SLL2_HDR_LEN 20u
#define NULL_HDR_LEN 4u
#define IP4_HDR_LEN 20u
#define IP6_HDR_LEN 40u
#define TCP_HDR_LEN 20u
#define UDP_HDR_LEN 8u

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_PPPOE_SESS 0x8864
#define PPPOE_HDR_LEN 6         /* ver/type, code, session id, length */
#define ETHERTYPE_QINQ_OLD 0x9100

/* BSD address families as found in DLT_NULL / DLT_LOOP headers. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24     /* NetBSD, OpenBSD */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30

#define PPP_ADDRESS 0xff
#define PPP_CONTROL 0x03
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

#define IP4_MF 0x2000
#define IP4_OFFSET_MASK 0x1fff
#define IP6_FRAG_OFFSET_MASK 0xfff8
#define IP6_FRAG_MF 0x0001

#define IP6_NH_HOPOPTS 0
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_AH 51
#define IP6_NH_DSTOPTS 60
/*
 * Real traffic carries at most a handful of extension headers; the bound
 * caps the work a hostile chain can cause (each step is >= 8 bytes anyway).
 */
#define IP6_MAX_EXT 8

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACK 5
#define TCPOPT_TS 8
/* RFC 7323 2.3: a larger shift count is used as 14. */
#define TCP_MAX_WSCALE 14

static const char *const link_names[] = {
#define _(e, n) [WL_LINK_ ## e] = n,
	foreach_wl_link
#undef _
};

static const char *const err_names[] = {
	[WL_PKT_OK] = "ok",
#define _(e, n) [WL_PKT_ERR_ ## e] = n,
	foreach_wl_pkt_err
#undef _
};

/* ---- helpers ---- */

/* Byte-wise big-endian loads: no alignment or aliasing assumptions. */
static inline uint16_t
rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t
rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		(uint32_t)b[2] << 8 | b[3];
}

static inline void
addr_v4(struct wl_addr *a, const uint8_t *b)
{
	memset(a->a, 0, 10);
	a->a[10] = 0xff;
	a->a[11] = 0xff;
	memcpy(&a->a[12], b, 4);
}

/* Reset everything decode owns; the caller's fields stay as they are. */
static inline void
pkt_reset(struct wl_pkt *p)
{
	p->l3 = NULL;
	p->l4 = NULL;
	p->payload = NULL;
	p->frag_l4 = NULL;
	p->payload_len = 0;
	p->seg_len = 0;
	p->vlan[0] = 0;
	p->vlan[1] = 0;
	p->nvlan = 0;
	p->ip_version = 0;
	p->l4proto = 0;
	p->ttl = 0;
	p->ip_id = 0;
	memset(&p->src, 0, sizeof(p->src));
	memset(&p->dst, 0, sizeof(p->dst));
	p->sport = 0;
	p->dport = 0;
	p->seq = 0;
	p->ack = 0;
	p->tcp_window = 0;
	p->tcp_flags = 0;
	p->tcp_wscale = 0xff;
	p->tcp_mss = 0;
	p->nsack = 0;
	p->has_tsopt = 0;
	p->tsval = 0;
	p->tsecr = 0;
}

/* ---- L4 ---- */

/*
 * TCP options. A malformed option (length < 2 or past the option area)
 * ends parsing: what was found before it is kept and the segment is
 * still delivered, because its sequence space is what matters. A known
 * option with the wrong length is skipped, not trusted.
 */
static void
tcp_options(struct wl_pkt *p, const uint8_t *o, uint32_t n)
{
	uint32_t i = 0, olen, k;

	while (i < n) {
		if (o[i] == TCPOPT_EOL)
			break;
		if (o[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (n - i < 2)
			break;
		olen = o[i + 1];
		if (olen < 2 || olen > n - i)
			break;
		switch (o[i]) {
		case TCPOPT_MSS:
			if (olen == 4)
				p->tcp_mss = rd16(&o[i + 2]);
			break;
		case TCPOPT_WSCALE:
			if (olen == 3)
				p->tcp_wscale = WL_MIN(o[i + 2],
					TCP_MAX_WSCALE);
			break;
		case TCPOPT_SACK:
			if (olen < 10 || (olen - 2) % 8 != 0)
				break;
			p->nsack = 0;
			for (k = i + 2; k + 8 <= i + olen &&
					p->nsack < WL_PKT_MAX_SACK; k += 8) {
				p->sack[p->nsack][0] = rd32(&o[k]);
				p->sack[p->nsack][1] = rd32(&o[k + 4]);
				p->nsack++;
			}
			break;
		case TCPOPT_TS:
			if (olen == 10) {
				p->has_tsopt = 1;
				p->tsval = rd32(&o[i + 2]);
				p->tsecr = rd32(&o[i + 6]);
			}
			break;
		default:
			break;
		}
		i += olen;
	}
}

/*
 * l4 has avail bytes present out of decl bytes the IP header announced
 * (avail <= decl). Running out of present bytes is truncation; a header
 * that claims more than IP announced is malformed.
 */
static enum wl_pkt_err
decode_l4(struct wl_pkt *p, const uint8_t *l4, uint32_t avail, uint32_t decl)
{
	uint32_t hlen, ulen;

	p->l4 = l4;
	switch (p->l4proto) {
	case IPPROTO_TCP:
		if (avail < TCP_HDR_LEN) {
			p->l4 = NULL;
			return WL_PKT_ERR_TRUNC_L4;
		}
		hlen = (uint32_t)(l4[12] >> 4) * 4;
		if (hlen < TCP_HDR_LEN || hlen > decl) {
			p->l4 = NULL;
			return WL_PKT_ERR_BAD_TCP;
		}
		if (hlen > avail) {
			p->l4 = NULL;
			return WL_PKT_ERR_TRUNC_L4;
		}
		p->sport = rd16(l4);
		p->dport = rd16(l4 + 2);
		p->seq = rd32(l4 + 4);
		p->ack = rd32(l4 + 8);
		p->tcp_flags = l4[13];
		p->tcp_window = rd16(l4 + 14);
		if (hlen > TCP_HDR_LEN)
			tcp_options(p, l4 + TCP_HDR_LEN, hlen - TCP_HDR_LEN);
		p->payload = l4 + hlen;
		p->payload_len = avail - hlen;
		p->seg_len = decl - hlen;
		return WL_PKT_OK;
	case IPPROTO_UDP:
		if (avail < UDP_HDR_LEN) {
			p->l4 = NULL;
			return WL_PKT_ERR_TRUNC_L4;
		}
		p->sport = rd16(l4);
		p->dport = rd16(l4 + 2);
		/*
		 * The UDP length only trims further when it is sane; 0
		 * (IPv6 jumbogram) or nonsense falls back to the IP length.
		 */
		ulen = rd16(l4 + 4);
		if (ulen >= UDP_HDR_LEN && ulen < avail)
			avail = ulen;
		p->payload = l4 + UDP_HDR_LEN;
		p->payload_len = avail - UDP_HDR_LEN;
		p->seg_len = p->payload_len;
		return WL_PKT_OK;
	default:
		return WL_PKT_ERR_OTHER_L4;
	}
}

/* ---- L3 ---- */

static enum wl_pkt_err
decode_ipv4(struct wl_pkt *p, const uint8_t *b, uint32_t len)
{
	uint32_t ihl, tot, end;
	uint16_t frag;

	if (len < IP4_HDR_LEN)
		return WL_PKT_ERR_TRUNC_L3;
	if (b[0] >> 4 != 4)
		return WL_PKT_ERR_BAD_IP;
	ihl = (uint32_t)(b[0] & 0x0f) * 4;
	tot = rd16(b + 2);
	if (ihl < IP4_HDR_LEN || (tot != 0 && tot < ihl))
		return WL_PKT_ERR_BAD_IP;
	if (ihl > len)
		return WL_PKT_ERR_TRUNC_L3;
	/*
	 * A total length of 0 is what TSO super-packets captured on the
	 * sending host carry: take the captured length, as Wireshark does.
	 */
	if (tot == 0)
		tot = len;
	/* Beyond tot is padding; short of it, the capture was cut. */
	end = WL_MIN(tot, len);

	p->l3 = b;
	p->ip_version = 4;
	p->ip_id = rd16(b + 4);
	p->ttl = b[8];
	p->l4proto = b[9];
	addr_v4(&p->src, b + 12);
	addr_v4(&p->dst, b + 16);
	frag = rd16(b + 6);
	if ((frag & IP4_MF) != 0 || (frag & IP4_OFFSET_MASK) != 0) {
		if ((frag & IP4_OFFSET_MASK) == 0)
			p->frag_l4 = b + ihl;
		return WL_PKT_ERR_FRAGMENT;
	}
	return decode_l4(p, b + ihl, end - ihl, tot - ihl);
}

/*
 * An extension header at off must lie within the payload length (else the
 * chain is broken) and within the captured bytes (else truncated).
 */
static inline enum wl_pkt_err
ip6_ext_check(uint32_t off, uint32_t need, uint32_t end, uint32_t decl)
{
	if (need > decl - off)
		return WL_PKT_ERR_BAD_IP6_EXT;
	if (need > end - off)
		return WL_PKT_ERR_TRUNC_L3;
	return WL_PKT_OK;
}

static enum wl_pkt_err
decode_ipv6(struct wl_pkt *p, const uint8_t *b, uint32_t len)
{
	uint32_t plen, decl, end, off, hlen;
	enum wl_pkt_err e;
	uint16_t frag;
	uint8_t nh;
	int n;

	if (len < IP6_HDR_LEN)
		return WL_PKT_ERR_TRUNC_L3;
	if (b[0] >> 4 != 6)
		return WL_PKT_ERR_BAD_IP;
	plen = rd16(b + 4);
	/* 0: jumbogram or a GSO capture; trust the captured length. */
	decl = plen == 0 ? len : IP6_HDR_LEN + plen;
	end = WL_MIN(decl, len);

	p->l3 = b;
	p->ip_version = 6;
	p->ttl = b[7];
	memcpy(p->src.a, b + 8, 16);
	memcpy(p->dst.a, b + 24, 16);

	nh = b[6];
	off = IP6_HDR_LEN;
	for (n = 0; ; n++) {
		switch (nh) {
		case IP6_NH_HOPOPTS:
		case IP6_NH_ROUTING:
		case IP6_NH_DSTOPTS:
		case IP6_NH_AH:
		case IP6_NH_FRAGMENT:
			break;
		default:
			/* No-next-header (59) lands here as OTHER_L4 too. */
			p->l4proto = nh;
			return decode_l4(p, b + off, end - off, decl - off);
		}
		/* RFC 8200 4.1: hop-by-hop only right after the header. */
		if (n == IP6_MAX_EXT || (nh == IP6_NH_HOPOPTS && n != 0)) {
			p->l4proto = nh;
			return WL_PKT_ERR_BAD_IP6_EXT;
		}
		e = ip6_ext_check(off, 2, end, decl);
		if (e != WL_PKT_OK) {
			p->l4proto = nh;
			return e;
		}
		if (nh == IP6_NH_AH)
			hlen = ((uint32_t)b[off + 1] + 2) * 4;
		else if (nh == IP6_NH_FRAGMENT)
			hlen = 8;
		else
			hlen = ((uint32_t)b[off + 1] + 1) * 8;
		e = ip6_ext_check(off, hlen, end, decl);
		if (e != WL_PKT_OK) {
			p->l4proto = nh;
			return e;
		}
		if (nh == IP6_NH_FRAGMENT) {
			/*
			 * Offset 0 without M is an atomic fragment (RFC 6946):
			 * the whole packet, decoded as if unfragmented.
			 */
			frag = rd16(b + off + 2) &
				(IP6_FRAG_OFFSET_MASK | IP6_FRAG_MF);
			if (frag != 0) {
				p->l4proto = b[off];
				if ((frag & IP6_FRAG_OFFSET_MASK) == 0)
					p->frag_l4 = b + off + hlen;
				return WL_PKT_ERR_FRAGMENT;
			}
		}
		nh = b[off];
		off += hlen;
	}
}

/* ---- L2 ---- */

/*
 * type is the ethertype found at data + off - 2. Up to two VLAN tags may
 * follow (also after a Linux cooked header, where libpcap reinserts
 * stripped tags); then the frame must be IPv4 or IPv6.
 */
static enum wl_pkt_err
decode_ethertype(struct wl_pkt *p, const uint8_t *data, uint32_t len,
	uint32_t off, uint16_t type)
{
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
			type == ETHERTYPE_QINQ_OLD) {
		if (p->nvlan == WL_ARRAY_SIZE(p->vlan))
			return WL_PKT_ERR_TOO_MANY_TAGS;
		if (len - off < VLAN_TAG_LEN)
			return WL_PKT_ERR_TRUNC_L2;
		p->vlan[p->nvlan++] = rd16(data + off) & 0x0fff;
		type = rd16(data + off + 2);
		off += VLAN_TAG_LEN;
	}
	/* Broadband access links carry IP in PPPoE sessions. */
	if (type == ETHERTYPE_PPPOE_SESS) {
		if (len - off < PPPOE_HDR_LEN + 2)
			return WL_PKT_ERR_TRUNC_L2;
		if (data[off] != 0x11 || data[off + 1] != 0)
			return WL_PKT_ERR_NOT_IP;       /* not a session packet */
		switch (rd16(data + off + PPPOE_HDR_LEN)) {
		case PPP_IPV4:
			type = ETHERTYPE_IPV4;
			break;
		case PPP_IPV6:
			type = ETHERTYPE_IPV6;
			break;
		default:
			return WL_PKT_ERR_NOT_IP;       /* LCP, IPCP, ... */
		}
		off += PPPOE_HDR_LEN + 2;
	}
	switch (type) {
	case ETHERTYPE_IPV4:
		return decode_ipv4(p, data + off, len - off);
	case ETHERTYPE_IPV6:
		return decode_ipv6(p, data + off, len - off);
	default:
		return WL_PKT_ERR_NOT_IP;
	}
}

static enum wl_pkt_err
decode_raw(struct wl_pkt *p, const uint8_t *b, uint32_t len)
{
	if (len < 1)
		return WL_PKT_ERR_TRUNC_L3;
	switch (b[0] >> 4) {
	case 4:
		return decode_ipv4(p, b, len);
	case 6:
		return decode_ipv6(p, b, len);
	default:
		return WL_PKT_ERR_BAD_IP;
	}
}

static enum wl_pkt_err
decode_bsd_af(struct wl_pkt *p, const uint8_t *data, uint32_t len,
	uint32_t af)
{
	switch (af) {
	case BSD_AF_INET:
		return decode_ipv4(p, data + NULL_HDR_LEN, len - NULL_HDR_LEN);
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return decode_ipv6(p, data + NULL_HDR_LEN, len - NULL_HDR_LEN);
	default:
		return WL_PKT_ERR_NOT_IP;
	}
}

static enum wl_pkt_err
decode_null(struct wl_pkt *p, const uint8_t *data, uint32_t len)
{
	uint32_t af;

	if (len < NULL_HDR_LEN)
		return WL_PKT_ERR_TRUNC_L2;
	memcpy(&af, data, sizeof(af));
	/*
	 * Host order of the capturing machine, which need not be ours. AF
	 * values are small, so a value with only high bits set is swapped
	 * (what tcpdump does).
	 */
	if ((af & 0xffff0000u) != 0 && (af & 0x0000ffffu) == 0)
		af = __builtin_bswap32(af);
	return decode_bsd_af(p, data, len, af);
}

static enum wl_pkt_err
decode_ppp(struct wl_pkt *p, const uint8_t *data, uint32_t len)
{
	uint32_t off = 0;
	uint16_t proto;

	if (len >= 1 && data[0] == PPP_ADDRESS) {
		if (len < 2)
			return WL_PKT_ERR_TRUNC_L2;
		if (data[1] == PPP_CONTROL)
			off = 2;
	}
	if (len - off < 1)
		return WL_PKT_ERR_TRUNC_L2;
	/* RFC 1661 6.5: an odd first byte is a compressed 1-byte protocol. */
	if (data[off] & 1) {
		proto = data[off];
		off += 1;
	} else {
		if (len - off < 2)
			return WL_PKT_ERR_TRUNC_L2;
		proto = rd16(data + off);
		off += 2;
	}
	switch (proto) {
	case PPP_IPV4:
		return decode_ipv4(p, data + off, len - off);
	case PPP_IPV6:
		return decode_ipv6(p, data + off, len - off);
	default:
		return WL_PKT_ERR_NOT_IP;
	}
}

/* ---- API ---- */

enum wl_pkt_err
wl_pkt_decode(struct wl_pkt *p, const uint8_t *data, uint32_t len,
	enum wl_link link)
{
	pkt_reset(p);
	switch (link) {
	case WL_LINK_ETHER:
		if (len < ETH_HDR_LEN)
			return WL_PKT_ERR_TRUNC_L2;
		return decode_ethertype(p, data, len, ETH_HDR_LEN,
			rd16(data + 12));
	case WL_LINK_SLL:
		if (len < SLL_HDR_LEN)
			return WL_PKT_ERR_TRUNC_L2;
		return decode_ethertype(p, data, len, SLL_HDR_LEN,
			rd16(data + 14));
	case WL_LINK_SLL2:
		if (len < SLL2_HDR_LEN)
			return WL_PKT_ERR_TRUNC_L2;
		return decode_ethertype(p, data, len, SLL2_HDR_LEN,
			rd16(data));
	case WL_LINK_NULL:
		return decode_null(p, data, len);
	case WL_LINK_LOOP:
		if (len < NULL_HDR_LEN)
			return WL_PKT_ERR_TRUNC_L2;
		return decode_bsd_af(p, data, len, rd32(data));
	case WL_LINK_RAW:
		return decode_raw(p, data, len);
	case WL_LINK_IPV4:
		return decode_ipv4(p, data, len);
	case WL_LINK_IPV6:
		return decode_ipv6(p, data, len);
	case WL_LINK_PPP:
		return decode_ppp(p, data, len);
	default:
		return WL_PKT_ERR_UNSUPP_LINK;
	}
}

const char *
wl_pkt_err_name(enum wl_pkt_err e)
{
	if ((unsigned int)e >= WL_ARRAY_SIZE(err_names))
		return "unknown";
	return err_names[e];
}

const char *
wl_link_name(enum wl_link l)
{
	if ((unsigned int)l >= WL_ARRAY_SIZE(link_names))
		return "unknown";
	return link_names[l];
}
