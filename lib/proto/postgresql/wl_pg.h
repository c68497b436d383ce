/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_PG_H
#define WL_PG_H

/* PostgreSQL fields of a transaction: in struct wl_txn's area, and texts. */

#include <stdint.h>

#include "wl_txn.h"

#define WL_PG_NAME 32

struct wl_pg_txn {
	uint64_t tag_rows;      /* CommandComplete count, if has_tag */
	uint32_t rows;          /* DataRow messages */
	uint8_t has_tag;
	uint8_t extended;       /* extended query protocol */
	uint8_t startup;        /* user is set */
	/* Pairing facts (wl_pg.c, pg_rsp_fits); not in the log. Request:
	 * its unit kind and whether it ends at ReadyForQuery / opens its
	 * group; response: how it was framed and its end messages. */
	uint8_t unit;
	uint8_t at_z;
	uint8_t first;
	uint8_t frame;
	uint8_t nterm;
	uint8_t cut;
	uint8_t rsvd[7];
};

_Static_assert(sizeof(struct wl_pg_txn) <= WL_TXN_AREA_MAX,
	"wl_pg_txn must fit the area");

/* Startup: the "user" parameter; a named prepared statement (each cut to
 * WL_PG_NAME - 1 bytes). */
#define WL_PG_S_USER WL_TXN_S_PROTO0
#define WL_PG_S_STMT WL_TXN_S_PROTO1

#endif /* WL_PG_H */
