/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_EXPORT_PROM_H
#define WL_EXPORT_PROM_H

/*
 * The Prometheus text exposition format 0.0.4 of an export snapshot:
 * per family "# HELP", "# TYPE", then its samples. Label values escape
 * \, " and newline; HELP escapes \ and newline. Thread-safe for distinct
 * buffers over a finished snapshot.
 */

#include <stddef.h>

#include "wl_export_model.h"

#define WL_EXP_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A growing output buffer; zero it before first use. */
struct wl_exp_buf {
	char *p;
	size_t len;
	size_t cap;
};

void wl_exp_buf_free(struct wl_exp_buf *b);

/**
 * Append the text of snapshot s to b (families in the order they were
 * added, samples grouped under their family).
 * @return 0 or -ENOMEM.
 */
int wl_exp_prom_render(struct wl_exp_snap *s, struct wl_exp_buf *b);

#endif /* WL_EXPORT_PROM_H */
