/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_LOG_H
#define WL_LOG_H

/*
 * Logging for control paths only: never call these per packet.
 * Before the EAL is up (command-line and config errors) messages go to
 * stderr directly; afterwards through rte_log with the wirelat log type.
 */

#include <stdio.h>

extern int wl_logtype;

/* Program name that starts every message ("wirelat" by default). */
extern const char *wl_prog_name;

/**
 * Print "<wl_prog_name>: <msg>" on one line to stderr.
 * Used for fatal start-up errors: one line naming the problem.
 */
void wl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Print "<wl_prog_name>: notice: <msg>" on one line to stderr: a change
 * a live run's operator must see (drops started, link down).
 */
void wl_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Log at the given rte_log level with the "wirelat" log type. */
void wl_log(unsigned int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define WL_LOG(level, ...) wl_log(RTE_LOG_ ## level, __VA_ARGS__)

#endif /* WL_LOG_H */
