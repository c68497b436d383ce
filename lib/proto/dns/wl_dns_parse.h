/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_DNS_PARSE_H
#define WL_DNS_PARSE_H

/*
 * DNS message decoding (RFC 1035, EDNS0 RFC 6891) and the two-byte length
 * framing of DNS over TCP. Wire decoding only: pairing lives in wl_dns.c.
 */

#include <stddef.h>
#include <stdint.h>

#define WL_DNS_HDR 12
#define WL_DNS_NAME 128         /* presentation name kept, NUL included */
/* Bytes of a TCP message kept: header and the longest question fit. */
#define WL_DNS_TCP_BUF (WL_DNS_HDR + 255 + 4 + 17)

/* Header flag bits. */
#define WL_DNS_QR 0x8000
#define WL_DNS_TC 0x0200
#define WL_DNS_OPCODE(f) (((f) >> 11) & 0xf)
#define WL_DNS_RCODE(f) ((f) & 0xf)

struct wl_dns_msg {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount;
	uint16_t ancount;
	uint16_t nscount;
	uint16_t arcount;
	uint16_t qtype;
	uint16_t qclass;
	uint16_t rcode;         /* 12 bits once an OPT record adds its part */
	uint16_t edns_size;     /* OPT's UDP payload size, 0 without EDNS0 */
	uint8_t edns;           /* OPT record seen */
	uint8_t edns_do;        /* DNSSEC OK bit */
	uint8_t partial;        /* sections after the question not decoded */
	uint8_t name_cut;       /* qname longer than WL_DNS_NAME */
	uint8_t malformed;      /* a record after the question is not */
	uint8_t rsvd[7];
	uint64_t qhash;         /* case-insensitive hash of the question */
	char qname[WL_DNS_NAME];        /* lower case, "." for the root */
};

/**
 * Decode a message: header, the first question, and the additional
 * section's OPT record. have bytes of a len-byte message are present
 * (have < len for a long TCP message kept in part): what lies beyond is
 * not decoded and m->partial is set. A record after the question that
 * does not decode sets m->malformed: header and question still stand.
 * @return 0, -ENODATA when have ends inside the question, or -EBADMSG
 * when the bytes are not a DNS message.
 */
int wl_dns_decode(const uint8_t *d, uint32_t have, uint32_t len,
	struct wl_dns_msg *m);

/**
 * Does d hold a DNS query (is_resp 0) or answer (1)? With tcp set the
 * message follows a two-byte length. @return 2 yes, 1 too short to tell,
 * 0 no.
 */
int wl_dns_check(const uint8_t *d, uint32_t len, int is_resp, int tcp);

/** Mnemonic of a record type ("AAAA"), or "TYPE<n>" written to buf. */
const char *wl_dns_type_name(uint16_t type, char *buf, size_t size);

/** Name of an RCODE ("NXDOMAIN"), or "RCODE<n>" written to buf. */
const char *wl_dns_rcode_name(uint16_t rcode, char *buf, size_t size);

/** Name of a non-QUERY opcode ("NOTIFY"), or "OPCODE<n>" in buf. */
const char *wl_dns_opcode_name(uint16_t opcode, char *buf, size_t size);

#endif /* WL_DNS_PARSE_H */
