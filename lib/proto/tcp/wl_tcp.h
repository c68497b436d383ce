/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_TCP_H
#define WL_TCP_H

/*
 * The TCP handshake transaction (proto "tcp", method "handshake"):
 *
 *   client            tap             server
 *     | ---- SYN ------>|--------------->|   req_start = req_end = SYN
 *     |                 |<-- SYN/ACK ----|   rsp_start = rsp_end = SYN/ACK
 *     | ---- ACK ------>|--------------->|   client_rtt = ACK - SYN/ACK
 *
 * duration_ns (SYN -> SYN/ACK) is the server-side RTT as seen from the
 * tap; client_rtt_ns is the client-side RTT. The flow layer fills it.
 */

#include <stdint.h>

#include "wl_txn.h"

struct wl_tcp_txn {
	uint64_t client_rtt_ns;     /* 0 when the final ACK was not seen */
	uint32_t syn_retrans;       /* SYNs seen beyond the first */
	uint32_t synack_retrans;
};

_Static_assert(sizeof(struct wl_tcp_txn) <= WL_TXN_AREA_MAX,
	"wl_tcp_txn must fit the area");

#endif /* WL_TCP_H */
