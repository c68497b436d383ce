/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_PROBE_H
#define WL_PROBE_H

/*
 * Protocol detection: which protocol, if any, starts in the first bytes
 * of a direction.
 *
 * Every protocol has a precise probe (ops->probe, ops->probe2: yes / too
 * short to tell / no). Run one after the other, they cost as many calls
 * as there are protocols for bytes nobody claims. So each protocol also
 * declares signatures (ops->probe_sigs): regular expressions anchored at
 * the first byte, of bounded width, that every start its probe does not
 * refuse matches. At start-up all of them are compiled into one Hyperscan
 * block-mode database (wl_probe_db_create); per probe, one scan of the
 * first bytes gives the candidates, and only their precise probes run.
 * A protocol whose signature is wider than the bytes seen so far stays a
 * candidate (it may match once more bytes come: "too short to tell"
 * keeps working), and one that declares no signatures is always one.
 * The result is the same as running every probe: a signature only ever
 * rules out a protocol whose probe would have said no.
 *
 * Threading: the database is read-only once its scratches are made (one
 * per lcore, at start-up: wl_probe_scratch_create) and shared by every
 * lcore, each scanning with its own scratch. wl_probe_detect() runs per packet on a parser lcore: no
 * allocation, lock or syscall.
 */

#include <stdint.h>

#include "wl_proto.h"

struct wl_probe_db;
struct wl_probe_scratch;

/* Signatures are this wide at most (bytes a scan reads). */
#define WL_PROBE_SIG_MAXW 64

/**
 * Compile the signatures of protos[0..n) (n <= 32; NULL entries and
 * protocols without probe_sigs skipped) into one database. Start-up only.
 * @param err on failure, why: the protocol, the signature and what is
 *   wrong with it (not anchored, unbounded or wider than
 *   WL_PROBE_SIG_MAXW, end-anchored, Hyperscan's compile error).
 * @return the database, or NULL (rte_errno EINVAL: a bad signature,
 *   ENOMEM).
 */
struct wl_probe_db *wl_probe_db_create(
	const struct wl_proto_ops *const *protos, unsigned int n,
	char *err, size_t err_size);

/** Free a database and its scratches (NULL is fine). */
void wl_probe_db_free(struct wl_probe_db *db);

/**
 * One more lcore's scan scratch for db, which keeps it (and frees it
 * with itself). Start-up only, one thread at a time.
 * @return the scratch, or NULL (rte_errno ENOMEM).
 */
struct wl_probe_scratch *wl_probe_scratch_create(struct wl_probe_db *db);

/**
 * The protocols (bit per id) that may start in d[0..len) in direction
 * dir over l4proto (IPPROTO_TCP or IPPROTO_UDP; any other: all): one
 * Hyperscan scan. Every protocol whose probe would not say no is in it.
 */
uint32_t wl_probe_candidates(const struct wl_probe_db *db,
	struct wl_probe_scratch *s, uint8_t l4proto, enum wl_dir dir,
	const uint8_t *d, uint32_t len);

/**
 * Detect the protocol starting in d[0..len) (len > 0): the probes of the
 * protocols in `usable` (bit per id of protos) that `hinted` holds (the
 * server port is theirs) first, in id order, then the others'. With db
 * and s, the others run only if wl_probe_candidates() has them; the
 * hinted ones run without a scan (usually one of them answers), and so
 * does a single other (a scan costs more than one probe).
 * @param maybe set to 1 when a probe found too few bytes to tell.
 * @return the first protocol whose probe says yes, or -1.
 */
int wl_probe_detect(const struct wl_probe_db *db, struct wl_probe_scratch *s,
	const struct wl_proto_ops *const *protos, uint32_t usable,
	uint32_t hinted, uint8_t l4proto, enum wl_dir dir, const uint8_t *d,
	uint32_t len, int *maybe);

#endif /* WL_PROBE_H */
