/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_EXPORT_APP_H
#define WL_EXPORT_APP_H

/*
 * wirelat-export's parts: the scrape endpoint (http.c), the remote-write
 * queues and senders (rw.c), and main.c, which owns the model and builds
 * every snapshot under model_lock (the scrape handler and the remote-write
 * ticks run on different threads).
 */

#include <pthread.h>
#include <stdint.h>

#include "wl_config.h"
#include "wl_export_model.h"

struct wl_rw_sender;

/* Exporter health, read into every snapshot (wirelat_export_*). */
struct wl_export_health {
	uint64_t scrapes;
	double scrape_seconds;          /* the last one */
	int instances_attached;
};

struct wl_export_app {
	struct wl_config cfg;
	struct wl_exp_model *model;
	pthread_mutex_t model_lock;     /* model, health, log */
	struct wl_export_health health;
	/* The scrape's snapshot and text size, kept from one scrape to the
	 * next (no allocation, no page faults in steady state). */
	pthread_mutex_t scrape_lock;
	struct wl_exp_snap *scrape_snap;
	size_t scrape_len;
	unsigned int n_rw;
	struct wl_rw_sender *rw[WL_CFG_MAX_RW];
	struct wl_exp_label ext_labels[WL_CFG_MAX_RW][WL_CFG_MAX_LABELS];
	volatile int quit;
};

/* One line on stderr, "wirelat-export: ..."; thread-safe. */
void wl_export_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_REALTIME / CLOCK_MONOTONIC in ns. */
uint64_t wl_export_now_ns(void);
uint64_t wl_export_mono_ns(void);

/**
 * Fill s with every instance and the exporter's health (takes
 * model_lock). @return 0 or -ENOMEM.
 */
int wl_export_snapshot(struct wl_export_app *app, struct wl_exp_snap *s);

/* ---- http.c ---- */

struct MHD_Daemon;

/** Serve /metrics on cfg.export_listen. NULL with a logged line. */
struct MHD_Daemon *wl_export_http_start(struct wl_export_app *app);
void wl_export_http_stop(struct MHD_Daemon *d);

/* ---- rw.c ---- */

/** A remote-write queue and its sender thread. NULL with a logged line. */
struct wl_rw_sender *wl_rw_start(struct wl_export_app *app,
	const struct wl_cfg_rw *cfg, const struct wl_exp_label *labels,
	unsigned int n_labels);

/** The snapshot r's ticks are built in (reused). */
struct wl_exp_snap *wl_rw_snap(struct wl_rw_sender *r);

/** Time (mono ns) the sender wants its next snapshot; 0: now. */
uint64_t wl_rw_next_tick(const struct wl_rw_sender *r);

/** Encode snapshot s into r's queue (dropping the oldest past its
 * bound) and schedule the next tick. @return 0 or -errno. */
int wl_rw_enqueue(struct wl_rw_sender *r, struct wl_exp_snap *s,
	uint64_t mono_ns);

/** Add r's health families (wirelat_export_remote_write_*) to s. */
int wl_rw_health(struct wl_rw_sender *r, struct wl_exp_snap *s);

/** Stop the thread and free the queue (what is queued is lost). */
void wl_rw_stop(struct wl_rw_sender *r);

#endif /* WL_EXPORT_APP_H */
