/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_MY_H
#define WL_MY_H

/* MySQL fields of a transaction, in struct wl_txn's proto_area. */

#include <stdint.h>

#include "wl_txn.h"

#define WL_MY_USER 48

struct wl_my_txn {
	uint64_t rows;          /* row packets, summed over result sets */
	uint64_t affected_rows; /* OK packets' affected rows, summed */
	uint32_t stmt_id;       /* prepared statement (PREPARE, EXECUTE, ...) */
	uint16_t result_sets;
	uint16_t err_code;      /* ERR packet, 0 if none */
	uint8_t prepared;       /* COM_STMT_EXECUTE */
	uint8_t has_stmt;       /* stmt_id is set */
	uint8_t is_err;
	uint8_t rsvd;
	char sqlstate[6];       /* ERR packet, "" if none */
	uint8_t rsvd2[2];
	char user[WL_MY_USER];  /* connect, COM_CHANGE_USER */
};

_Static_assert(sizeof(struct wl_my_txn) <= WL_TXN_PROTO_AREA,
	"wl_my_txn must fit the proto area");

#endif /* WL_MY_H */
