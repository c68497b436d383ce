/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_PKT_H
#define WL_PKT_H

/*
 * L2-L4 view of one frame. wl_pkt_decode() fills a struct wl_pkt from a
 * contiguous buffer without allocating or copying: pointers point into
 * the frame. Everything the flow layer needs is here, so it never looks
 * at raw headers itself.
 */

#include <stdint.h>

#include "wl_txn.h"

/* _(ENUM, "name") -- link layers a source can deliver. */
#define foreach_wl_link \
	_(ETHER, "ether")       /* Ethernet II, 802.1Q/802.1ad tags */ \
	_(SLL, "linux-sll")     /* Linux cooked v1 */ \
	_(SLL2, "linux-sll2")   /* Linux cooked v2 */ \
	_(NULL, "null")         /* BSD loopback, AF in host byte order */ \
	_(LOOP, "loop")         /* OpenBSD loopback, AF in network order */ \
	_(RAW, "raw")           /* raw IPv4 or IPv6, version nibble decides */ \
	_(IPV4, "ipv4") \
	_(IPV6, "ipv6") \
	_(PPP, "ppp")           /* PPP in HDLC-like framing or bare protocol */

enum wl_link {
#define _(e, n) WL_LINK_ ## e,
	foreach_wl_link
#undef _
	WL_LINK_MAX
};

/*
 * _(ENUM, "name") -- why a frame was not decoded to L4. Each one is a
 * per-core counter (pkt_<name>); WL_PKT_OK is not a counter.
 */
#define foreach_wl_pkt_err \
	_(TRUNC_L2, "trunc_l2")         /* shorter than its link header */ \
	_(NOT_IP, "not_ip")             /* ARP, LLDP, ... (not an error) */ \
	_(TRUNC_L3, "trunc_l3")         /* shorter than its IP header */ \
	_(BAD_IP, "bad_ip")             /* version, IHL or length wrong */ \
	_(BAD_IP6_EXT, "bad_ip6_ext")   /* extension header chain broken */ \
	_(FRAGMENT, "fragment")         /* IP fragment: counted, skipped */ \
	_(TRUNC_L4, "trunc_l4")         /* shorter than its TCP/UDP header */ \
	_(BAD_TCP, "bad_tcp")           /* data offset < 5 or past the end */ \
	_(OTHER_L4, "other_l4")         /* ICMP, SCTP, ... (not an error) */ \
	_(TOO_MANY_TAGS, "too_many_tags") /* more than 2 VLAN tags */ \
	_(UNSUPP_LINK, "unsupported_link")

enum wl_pkt_err {
	WL_PKT_OK = 0,
#define _(e, n) WL_PKT_ERR_ ## e,
	foreach_wl_pkt_err
#undef _
	WL_PKT_ERR_MAX
};

/* TCP flags as on the wire. */
#define WL_TCP_FIN 0x01
#define WL_TCP_SYN 0x02
#define WL_TCP_RST 0x04
#define WL_TCP_PSH 0x08
#define WL_TCP_ACK 0x10
#define WL_TCP_URG 0x20
#define WL_TCP_ECE 0x40
#define WL_TCP_CWR 0x80

#define WL_PKT_MAX_SACK 4

struct wl_pkt {
	uint64_t ts_ns;         /* set by the caller, not by decode */
	uint8_t ts_source;      /* enum wl_ts_source, set by the caller */
	uint16_t port;          /* input port, set by the caller */
	uint32_t hash;          /* symmetric flow hash, set by the caller */
	const uint8_t *l3;
	const uint8_t *l4;
	const uint8_t *payload;
	const uint8_t *frag_l4; /* first fragment (offset 0, more to come):
				 * start of its L4 header, within the
				 * captured bytes but possibly cut; NULL
				 * otherwise (decode then says FRAGMENT) */
	uint32_t payload_len;   /* L4 payload bytes present in the buffer */
	uint32_t seg_len;       /* L4 payload bytes the IP length announces:
				 * more than payload_len when the capture's
				 * snap length cut the frame */
	uint32_t wire_len;      /* frame length on the wire (caller sets) */
	uint16_t vlan[2];       /* outer first; 12-bit ids */
	uint8_t nvlan;
	uint8_t ip_version;     /* 4 or 6 */
	uint8_t l4proto;        /* IPPROTO_TCP / IPPROTO_UDP */
	uint8_t ttl;
	uint16_t ip_id;         /* IPv4 identification (0 for IPv6) */
	struct wl_addr src;
	struct wl_addr dst;
	uint16_t sport;         /* host byte order */
	uint16_t dport;
	/* TCP only */
	uint32_t seq;
	uint32_t ack;
	uint32_t tcp_window;    /* raw window field (not scaled) */
	uint8_t tcp_flags;
	uint8_t tcp_wscale;     /* window-scale option, 0xff if absent */
	uint16_t tcp_mss;       /* MSS option, 0 if absent */
	uint8_t nsack;          /* SACK blocks in this segment */
	uint8_t has_tsopt;
	uint32_t tsval;
	uint32_t tsecr;
	uint32_t sack[WL_PKT_MAX_SACK][2];
};

/**
 * Decode a frame down to its L4 payload.
 *
 * @param p
 *   Output; ts_ns, ts_source, port, hash and wire_len are left untouched (the
 *   caller sets them).
 * @param data
 *   Start of the frame (link header included).
 * @param len
 *   Bytes of the frame in the buffer (capture length).
 * @param link
 *   Link type of the source the frame came from.
 * @return
 *   WL_PKT_OK, or a WL_PKT_ERR_* reason; the payload is trimmed to the IP
 *   total length (Ethernet padding is not payload). Never reads past len.
 */
enum wl_pkt_err wl_pkt_decode(struct wl_pkt *p, const uint8_t *data,
	uint32_t len, enum wl_link link);

/** Name of a decode error ("trunc_l2", ...). */
const char *wl_pkt_err_name(enum wl_pkt_err e);

/** Name of a link type ("ether", ...). */
const char *wl_link_name(enum wl_link l);

/**
 * Symmetric Toeplitz hash of the 5-tuple with the 0x6d5a key, the same
 * value a NIC computes with that key for the same fields (IPv4/IPv6
 * addresses then ports), so both directions of a flow hash alike.
 * For non-TCP/UDP packets only the addresses are hashed.
 */
uint32_t wl_pkt_hash_sym(const struct wl_pkt *p);

/** The symmetric RSS key (0x6d5a repeated; devices take 40 or 52 bytes). */
extern const uint8_t wl_rss_sym_key[52];

#endif /* WL_PKT_H */
