/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_PG_H
#define WL_PG_H

/* PostgreSQL fields of a transaction, in struct wl_txn's proto_area. */

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
	char user[WL_PG_NAME];  /* startup: the "user" parameter */
	char stmt[WL_PG_NAME];  /* named prepared statement */
};

_Static_assert(sizeof(struct wl_pg_txn) <= WL_TXN_PROTO_AREA,
	"wl_pg_txn must fit the proto area");

#endif /* WL_PG_H */
