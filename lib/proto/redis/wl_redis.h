/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_REDIS_H
#define WL_REDIS_H

/* Redis fields of a transaction: in struct wl_txn's area, and a text. */

#include <stdint.h>

#include "wl_txn.h"

struct wl_redis_txn {
	uint8_t reply_type;             /* RESP type byte of the reply */
	uint8_t rsvd;
	/* A request's command id + 1 (0: not in wl_redis_cmd.h), for its
	 * reply's check (rsp_fits); a reply's area replaces it. */
	uint16_t cmd;
	uint32_t rsvd2;
	int64_t reply_len;              /* aggregate length, -1 if none */
};

_Static_assert(sizeof(struct wl_redis_txn) <= WL_TXN_AREA_MAX,
	"wl_redis_txn must fit the area");

/* The error reply's text (cut to WL_REDIS_ERROR_LEN - 1 bytes). */
#define WL_REDIS_S_ERROR WL_TXN_S_PROTO2
#define WL_REDIS_ERROR_LEN 64

#endif /* WL_REDIS_H */
