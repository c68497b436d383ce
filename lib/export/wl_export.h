/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_EXPORT_H
#define WL_EXPORT_H

/*
 * Every rendering of wirelat's results: the transaction and connection
 * log lines (docs/output.md), the stats JSON (docs/shm.md) and the stat
 * table. Renderers read only public structs (struct wl_txn, lib/flow's
 * struct wl_conn) and the shm reader API; they keep no state between
 * calls, and what they print is part of the contract: a change is a
 * change of the documented output.
 *
 * Two libraries implement this header (lib/export/meson.build):
 * wl_export (the shared-memory readers, no DPDK: wirelat-stat links it)
 * and wl_export_log (the log lines: they need lib/proto and lib/flow).
 * The header itself includes no DPDK header.
 *
 * None of these functions is thread-safe with respect to the others
 * unless stated: the *_json() renderers allocate (jansson), the log
 * writers write into the caller's writer and the shm renderers use
 * static buffers. Call them from one thread, off the
 * packet path (in wirelat: the collector lcore).
 */

#include <stdio.h>

#include <jansson.h>

/* Declared, not included: each library includes only what it reads. */
struct wl_shm;                  /* wl_shm.h */
struct wl_shm_hdr;              /* wl_shm.h */
struct wl_txn;                  /* wl_txn.h */
struct wl_jw;                   /* wl_jw.h */

/* ---- log lines (wl_export_log) ---- */

/*
 * The hot path writes lines through the streaming writer (wl_jw.h) into
 * the output's buffer; the *_json() variants parse the same text back
 * for tests and tools, so there is one renderer.
 */

/* Largest line the *_json() variants render (escapes included). */
#define WL_EXPORT_LINE_MAX 16384

/**
 * A transaction as one JSON object of the transaction log
 * (docs/output.md): the common fields, then the protocol's own through
 * its ops->txn_write hook. No newline. Allocates nothing.
 *
 * @param t
 *   A WL_TXN_KIND_TXN record.
 * @param w
 *   A writer at the top level; errors are in w->err.
 */
void wl_export_txn_write(const struct wl_txn *t, struct wl_jw *w);

/**
 * wl_export_txn_write() parsed back with jansson, for tests and tools.
 *
 * @return
 *   A new reference, or NULL when jansson cannot allocate or the line
 *   is longer than WL_EXPORT_LINE_MAX.
 */
json_t *wl_export_txn_json(const struct wl_txn *t);

/**
 * A connection that ended as one JSON object of the connection log
 * (docs/output.md), left open: the caller adds its "requests" (the
 * collector gathers those) and closes it with wl_jw_obj_close().
 * Allocates nothing.
 *
 * @param t
 *   A WL_TXN_KIND_CONN record: lib/flow's struct wl_conn in its
 *   area (wl_txn_area()).
 * @param w
 *   A writer at the top level; errors are in w->err.
 */
void wl_export_conn_write(const struct wl_txn *t, struct wl_jw *w);

/**
 * wl_export_conn_write(), closed without "requests", parsed back with
 * jansson, for tests and tools.
 *
 * @return
 *   A new reference, or NULL when jansson cannot allocate.
 */
json_t *wl_export_conn_json(const struct wl_txn *t);

/* ---- the shared memory (wl_export, no DPDK) ---- */

/**
 * What the writer of a segment is doing, as the stats JSON's "state":
 * "finished" (it exited cleanly), "running" (its pid is alive) or
 * "stopped" (it is gone without finishing).
 *
 * @param hdr
 *   A header read by wl_shm_read_hdr().
 * @return
 *   A static string.
 */
const char *wl_export_run_state(const struct wl_shm_hdr *hdr);

/** Does the writer process pid exist (in this PID namespace)? */
int wl_export_writer_alive(int32_t pid);

/**
 * One consistent snapshot of a segment as the stats JSON of docs/shm.md
 * (wirelat-stat --json, wirelat --stats-json). Not reentrant: it reads
 * the counters into static buffers.
 *
 * @param shm
 *   A segment from wl_shm_attach() (or wl_shm_create()).
 * @return
 *   A new reference, or NULL when the writer kept the segment busy for
 *   too long (try again) or jansson cannot allocate.
 */
json_t *wl_export_stats_json(const struct wl_shm *shm);

/**
 * The stat table (wirelat-stat, wirelat's final report): the instance,
 * its inputs, the key counters and one line per series, sorted by
 * protocol, metric, server, method and status class. When the writer
 * keeps the header busy, one line saying so.
 *
 * @param shm
 *   A segment from wl_shm_attach() (or wl_shm_create()).
 * @param f
 *   Where to print.
 */
void wl_export_stats_table(const struct wl_shm *shm, FILE *f);

/**
 * wl_export_stats_json() of an instance, attached for the call, written
 * indented to a file ("-": stdout). For wirelat's --stats-json at exit.
 *
 * @return
 *   0, -ENOENT (no such segment, or not a readable one), -EAGAIN (the
 *   writer kept it busy) or -EIO (the file could not be written).
 */
int wl_export_stats_write_json(const char *instance, const char *path);

/**
 * wl_export_stats_table() of an instance, attached for the call. For
 * wirelat's report at exit.
 *
 * @return
 *   0, or -ENOENT (no such segment, or not a readable one).
 */
int wl_export_stats_report(const char *instance, FILE *f);

#endif /* WL_EXPORT_H */
