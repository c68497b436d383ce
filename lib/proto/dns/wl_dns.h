/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_DNS_H
#define WL_DNS_H

/* DNS fields of a transaction, in struct wl_txn's area. */

#include <stdint.h>

#include "wl_txn.h"

struct wl_dns_txn {
	uint16_t id;
	uint16_t qtype;
	uint16_t qclass;
	uint16_t rcode;         /* with EDNS0's extended bits */
	uint16_t answers;       /* answer section records */
	uint16_t edns_size;     /* answer's OPT payload size, 0 without */
	uint8_t tcp;
	uint8_t tc;             /* answer truncated: client retries on TCP */
	uint8_t edns;           /* query carried an OPT record */
	uint8_t edns_do;        /* query set DNSSEC OK */
	uint8_t retransmits;    /* query sent again before the answer */
	uint8_t rsvd[3];
};

_Static_assert(sizeof(struct wl_dns_txn) <= WL_TXN_AREA_MAX,
	"wl_dns_txn must fit the area");

#endif /* WL_DNS_H */
