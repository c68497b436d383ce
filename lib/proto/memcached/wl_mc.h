/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_MC_H
#define WL_MC_H

/* memcached fields of a transaction, in struct wl_txn's proto_area. */

#include <stdint.h>

#include "wl_txn.h"

struct wl_mc_txn {
	uint8_t binary;
	uint8_t rsvd;
	uint16_t keys;          /* keys asked (get/gets/gat/gats) */
	uint32_t hits;          /* values returned */
	uint32_t opaque;        /* binary */
	uint32_t rsvd2;
};

_Static_assert(sizeof(struct wl_mc_txn) <= WL_TXN_PROTO_AREA,
	"wl_mc_txn must fit the proto area");

#endif /* WL_MC_H */
