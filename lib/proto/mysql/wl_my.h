/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_MY_H
#define WL_MY_H

/* MySQL fields of a transaction: in struct wl_txn's area, and a text. */

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
	uint8_t cmd;            /* request: command byte, 0xff connect */
	char sqlstate[6];       /* ERR packet, "" if none */
	uint8_t kind;           /* request: how its answer is shaped */
	uint8_t rseq;           /* request: sequence id its answer begins with */
	/* What an answer was, for pairing it after a loss (wl_my.c). */
	uint8_t a_first;        /* first payload byte */
	uint8_t a_last;         /* first payload byte of its last packet */
	uint8_t a_seq;          /* sequence id of its first packet */
	uint8_t a_npk;          /* packets, at most 255 */
	uint8_t a_rset;         /* a column count and definitions */
	uint8_t a_cut;          /* its end was not seen */
	uint8_t a_stmt;         /* a prepare's answer: stmt_id is its */
	uint8_t rsvd;
};

_Static_assert(sizeof(struct wl_my_txn) <= WL_TXN_AREA_MAX,
	"wl_my_txn must fit the area");

/* connect, COM_CHANGE_USER: the user (cut to WL_MY_USER - 1 bytes). */
#define WL_MY_S_USER WL_TXN_S_PROTO0

#endif /* WL_MY_H */
