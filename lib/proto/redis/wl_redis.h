/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_REDIS_H
#define WL_REDIS_H

/* Redis fields of a transaction, in struct wl_txn's proto_area. */

#include <stdint.h>

#include "wl_txn.h"

struct wl_redis_txn {
	uint8_t reply_type;             /* RESP type byte of the reply */
	uint8_t rsvd[7];
	int64_t reply_len;              /* aggregate length, -1 if none */
	char error[64];                 /* error reply text, cut */
};

_Static_assert(sizeof(struct wl_redis_txn) <= WL_TXN_PROTO_AREA,
	"wl_redis_txn must fit the proto area");

#endif /* WL_REDIS_H */
