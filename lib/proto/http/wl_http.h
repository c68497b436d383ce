/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_HTTP_H
#define WL_HTTP_H

/* HTTP fields of a transaction: in struct wl_txn's area, and texts. */

#include <stdint.h>

#include "wl_http_parse.h"
#include "wl_txn.h"

struct wl_http_txn {
	uint64_t req_hdr_bytes;
	uint64_t req_body_bytes;
	uint64_t rsp_hdr_bytes;
	uint64_t rsp_body_bytes;
	uint16_t interim_status;        /* last 1xx before the final answer */
	uint8_t minor;                  /* HTTP/1.<minor> of the response */
	uint8_t rsvd[5];
};

_Static_assert(sizeof(struct wl_http_txn) <= WL_TXN_AREA_MAX,
	"wl_http_txn must fit the area");

/* The request's query (after '?', without it; cut to WL_HTTP_QUERY - 1
 * bytes) and Host header (WL_HTTP_HOST - 1). */
#define WL_HTTP_S_QUERY WL_TXN_S_PROTO0
#define WL_HTTP_S_HOST WL_TXN_S_PROTO1

#endif /* WL_HTTP_H */
