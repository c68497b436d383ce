/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_EXPORT_RW_H
#define WL_EXPORT_RW_H

/*
 * Prometheus remote write 1.0 of an export snapshot: WriteRequest
 * protobufs (wl_export_rw.proto, compiled with protoc-c), snappy block
 * compressed, cut into requests of at most max_samples samples. Each
 * sample is one TimeSeries: its labels sorted by name, __name__ among
 * them, one Sample at the snapshot's time. The HTTP side (headers,
 * retries) is the caller's (app/wirelat-export).
 */

#include <stddef.h>
#include <stdint.h>

#include "wl_export_model.h"

struct wl_exp_rw;

/** An encoder; its buffers are reused from one snapshot to the next. */
struct wl_exp_rw *wl_exp_rw_create(void);
void wl_exp_rw_free(struct wl_exp_rw *e);

/**
 * Called once per request made: data (len bytes, snappy-compressed
 * WriteRequest) is valid during the call only. A non-zero return stops
 * the encoding and is returned by wl_exp_rw_encode().
 */
typedef int (*wl_exp_rw_emit_t)(void *arg, const uint8_t *data, size_t len,
	size_t n_samples);

/**
 * Encode snapshot s. extra are labels added to every series (a remote
 * write's external labels, names checked by the caller); a sample's own
 * label of the same name wins, as Prometheus does with external labels.
 * raw != 0: the protobuf without compression (tests).
 * @return 0, -ENOMEM, -EIO (compression failed), or emit's return.
 */
int wl_exp_rw_encode(struct wl_exp_rw *e, struct wl_exp_snap *s,
	const struct wl_exp_label *extra, unsigned int n_extra,
	size_t max_samples, int raw, wl_exp_rw_emit_t emit, void *arg);

#endif /* WL_EXPORT_RW_H */
