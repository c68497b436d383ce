/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_HTTP_KW_H
#define WL_HTTP_KW_H

/*
 * The request methods detection knows (a connection is HTTP once its
 * first bytes are one of these and a space; after that any method token
 * will do: extension methods exist). Looked up by a perfect hash
 * generated at build time from this list (scripts/wl-kwgen). Methods are
 * case-sensitive (RFC 9110, 9.1). Each entry starts a line.
 */

#include <stdint.h>

#define foreach_wl_http_method \
	_(GET, "GET") \
	_(HEAD, "HEAD") \
	_(POST, "POST") \
	_(PUT, "PUT") \
	_(DELETE, "DELETE") \
	_(OPTIONS, "OPTIONS") \
	_(PATCH, "PATCH") \
	_(CONNECT, "CONNECT") \
	_(TRACE, "TRACE") \
	_(PROPFIND, "PROPFIND") \
	_(PROPPATCH, "PROPPATCH") \
	_(MKCOL, "MKCOL") \
	_(COPY, "COPY") \
	_(MOVE, "MOVE") \
	_(LOCK, "LOCK") \
	_(UNLOCK, "UNLOCK") \
	_(REPORT, "REPORT") \
	_(SEARCH, "SEARCH") \
	_(PURGE, "PURGE") \
	_(QUERY, "QUERY")

enum wl_http_method {
#define _(e, n) WL_HTTP_M_ ## e,
	foreach_wl_http_method
#undef _
	WL_HTTP_M_MAX
};

/** The method of the n bytes at s. @return enum wl_http_method or -1. */
int wl_http_method_lookup(const char *s, uint32_t n);

#endif /* WL_HTTP_KW_H */
