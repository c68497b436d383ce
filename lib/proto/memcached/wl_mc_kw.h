/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_MC_KW_H
#define WL_MC_KW_H

/*
 * The words of the memcached text protocol, looked up by perfect hashes
 * generated at build time from these lists (scripts/wl-kwgen): one hash
 * and one compare per line instead of walking the lists. Case matters
 * (memcached's own parser compares bytes). Each entry starts a line.
 */

#include <stdint.h>

/* Words a reply line can start with (an incr/decr answer, a number,
 * aside). */
#define foreach_wl_mc_rsp \
	_(VALUE, "VALUE") \
	_(END, "END") \
	_(STORED, "STORED") \
	_(NOT_STORED, "NOT_STORED") \
	_(EXISTS, "EXISTS") \
	_(NOT_FOUND, "NOT_FOUND") \
	_(DELETED, "DELETED") \
	_(TOUCHED, "TOUCHED") \
	_(OK, "OK") \
	_(ERROR, "ERROR") \
	_(CLIENT_ERROR, "CLIENT_ERROR") \
	_(SERVER_ERROR, "SERVER_ERROR") \
	_(STAT, "STAT") \
	_(VERSION, "VERSION") \
	_(VA, "VA") \
	_(HD, "HD") \
	_(EN, "EN") \
	_(NF, "NF") \
	_(NS, "NS") \
	_(EX, "EX") \
	_(MN, "MN") \
	_(ME, "ME") \
	_(RESET, "RESET")

enum wl_mc_rsp {
#define _(e, n) WL_MC_RSP_ ## e,
	foreach_wl_mc_rsp
#undef _
	WL_MC_RSP_MAX,
	WL_MC_RSP_NUM = WL_MC_RSP_MAX   /* not a word: a number (incr/decr) */
};

/* A set of replies (enum wl_mc_rsp) as a mask. */
#define WL_MC_R(e) (1u << WL_MC_RSP_ ## e)

/*
 * Text commands and the replies each can get besides errors (0: quit
 * gets none).
 */
#define foreach_wl_mc_cmd \
	_(GET, "get", WL_MC_R(VALUE) | WL_MC_R(END)) \
	_(GETS, "gets", WL_MC_R(VALUE) | WL_MC_R(END)) \
	_(GAT, "gat", WL_MC_R(VALUE) | WL_MC_R(END)) \
	_(GATS, "gats", WL_MC_R(VALUE) | WL_MC_R(END)) \
	_(SET, "set", WL_MC_R(STORED) | WL_MC_R(NOT_STORED)) \
	_(ADD, "add", WL_MC_R(STORED) | WL_MC_R(NOT_STORED)) \
	_(REPLACE, "replace", WL_MC_R(STORED) | WL_MC_R(NOT_STORED)) \
	_(APPEND, "append", WL_MC_R(STORED) | WL_MC_R(NOT_STORED)) \
	_(PREPEND, "prepend", WL_MC_R(STORED) | WL_MC_R(NOT_STORED)) \
	_(CAS, "cas", WL_MC_R(STORED) | WL_MC_R(EXISTS) | \
		WL_MC_R(NOT_FOUND)) \
	_(INCR, "incr", WL_MC_R(NUM) | WL_MC_R(NOT_FOUND)) \
	_(DECR, "decr", WL_MC_R(NUM) | WL_MC_R(NOT_FOUND)) \
	_(DELETE, "delete", WL_MC_R(DELETED) | WL_MC_R(NOT_FOUND)) \
	_(TOUCH, "touch", WL_MC_R(TOUCHED) | WL_MC_R(NOT_FOUND)) \
	_(MG, "mg", WL_MC_R(VA) | WL_MC_R(HD) | WL_MC_R(EN)) \
	_(MS, "ms", WL_MC_R(HD) | WL_MC_R(NS) | WL_MC_R(EX) | WL_MC_R(NF)) \
	_(MD, "md", WL_MC_R(HD) | WL_MC_R(NF) | WL_MC_R(EX)) \
	_(MA, "ma", WL_MC_R(HD) | WL_MC_R(VA) | WL_MC_R(NF) | \
		WL_MC_R(NS) | WL_MC_R(EX)) \
	_(MN, "mn", WL_MC_R(MN)) \
	_(ME, "me", WL_MC_R(ME) | WL_MC_R(EN)) \
	_(VERSION, "version", WL_MC_R(VERSION)) \
	_(STATS, "stats", WL_MC_R(STAT) | WL_MC_R(END)) \
	_(FLUSH_ALL, "flush_all", WL_MC_R(OK)) \
	_(VERBOSITY, "verbosity", WL_MC_R(OK)) \
	_(QUIT, "quit", 0)

enum wl_mc_cmd {
#define _(e, n, r) WL_MC_CMD_ ## e,
	foreach_wl_mc_cmd
#undef _
	WL_MC_CMD_MAX
};

/** The text command of the n bytes at s. @return enum wl_mc_cmd or -1. */
int wl_mc_cmd_lookup(const char *s, uint32_t n);

/** The reply word of the n bytes at s. @return enum wl_mc_rsp or -1. */
int wl_mc_rsp_lookup(const char *s, uint32_t n);

#endif /* WL_MC_KW_H */
