/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_MC_H
#define WL_MC_H

/* memcached fields of a transaction: in struct wl_txn's area, and texts. */

#include <stdint.h>

#include "wl_txn.h"
#include "wl_mc_parse.h"

struct wl_mc_txn {
	uint8_t binary;
	uint8_t quiet;          /* meta q, binary GETQ...: maybe no answer */
	uint16_t keys;          /* keys asked (get/gets/gat/gats) */
	uint32_t hits;          /* values returned */
	uint32_t opaque;        /* binary */
	uint8_t opcode;         /* binary */
	uint8_t ret_key;        /* meta request: flag k */
	uint8_t bad;            /* unknown or malformed text command */
	uint8_t rsvd;
};

_Static_assert(sizeof(struct wl_mc_txn) <= WL_TXN_AREA_MAX,
	"wl_mc_txn must fit the area");

/* Pairing evidence, either side: the meta O token (cut to WL_MC_OTOK -
 * 1 bytes), the reply's first word (WL_MC_CMD - 1) and its k key
 * (WL_MC_KEY - 1). */
#define WL_MC_S_OTOK WL_TXN_S_PROTO0
#define WL_MC_S_WORD WL_TXN_S_PROTO1
#define WL_MC_S_RKEY WL_TXN_S_PROTO2

#endif /* WL_MC_H */
