/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_SQL_H
#define WL_SQL_H

/*
 * SQL statement text as a transaction's resource, shared by the SQL
 * protocols: the same query with other values gives the same text, so
 * literals become '?', comments go, whitespace runs become one space and
 * bytes outside printable ASCII become '?'. Only the quoting rules differ
 * between dialects.
 */

#include <stddef.h>
#include <stdint.h>

enum wl_sql_dialect {
	/* '' strings (E'' with \ escapes), $tag$ strings, "identifiers",
	 * $n parameters, -- and slash-star comments */
	WL_SQL_POSTGRESQL,
	/* '' and "" strings with \ escapes, `identifiers`, #, "-- " and
	 * slash-star comments */
	WL_SQL_MYSQL,
};

/**
 * Normalise n bytes of SQL into out (at most size - 1 characters, whole
 * tokens only) and its verb -- the first word in upper case, past any
 * '(' -- into verb (vsize - 1 at most; "" when there is none).
 * @return 1 when out holds less than the whole text, else 0.
 */
int wl_sql_normalize(const char *q, uint32_t n, enum wl_sql_dialect d,
	char *out, size_t size, char *verb, size_t vsize);

/* Verbs the SQL protocols act on (wl_sql_verb_id()). */
enum wl_sql_verb {
	WL_SQL_V_OTHER = 0,
	WL_SQL_V_SELECT,
	WL_SQL_V_INSERT,
	WL_SQL_V_UPDATE,
	WL_SQL_V_DELETE,
	WL_SQL_V_REPLACE,
	WL_SQL_V_LISTEN,
};

/**
 * Which of enum wl_sql_verb a verb (as wl_sql_normalize() gives it, upper
 * case) is: a switch on its first letter and one compare.
 * @return the verb, WL_SQL_V_OTHER for any other.
 */
int wl_sql_verb_id(const char *verb);

#endif /* WL_SQL_H */
