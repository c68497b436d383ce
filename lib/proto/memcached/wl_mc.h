/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_MC_H
#define WL_MC_H

/* memcached fields of a transaction, in struct wl_txn's proto_area. */

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
	/* Pairing evidence, either side: meta O token, the reply's first
	 * word and its k key. */
	char otok[WL_MC_OTOK];
	char word[WL_MC_CMD];
	char rkey[WL_MC_KEY];
};

_Static_assert(sizeof(struct wl_mc_txn) <= WL_TXN_PROTO_AREA,
	"wl_mc_txn must fit the proto area");

#endif /* WL_MC_H */
