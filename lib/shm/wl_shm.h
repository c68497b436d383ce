/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_SHM_H
#define WL_SHM_H

/*
 * The shared-memory segment "/wirelat-<instance>": latency histograms per
 * series and the instance's counters, written by the collector lcore and
 * read by any process (wirelat-stat) without DPDK. Layout and consistency
 * rules are in docs/shm.md; WL_SHM_VERSION changes with any change here.
 * This is the segment only: its renderings (stats JSON, the stat table)
 * are in lib/export.
 *
 * One writer. Each series and the header's dynamic part are guarded by a
 * sequence counter (odd while written): a reader copies, then retries
 * when the counter moved. The segment stays after the writer exits, so
 * an offline run can be read afterwards, until the next run of the same
 * instance replaces it or wl_shm_remove() unlinks it.
 */

#include <stdint.h>

#include "wl_common.h"
#include "wl_hist.h"
#include "wl_txn.h"

#define WL_SHM_MAGIC 0x4d534c57u        /* "WLSM" little endian */
#define WL_SHM_VERSION 2u
#define WL_SHM_INSTANCE_LEN WL_INSTANCE_LEN
#define WL_SHM_COUNTER_NAME 56
#define WL_SHM_MAX_INPUTS 16

/* What a series is keyed by. Unused bytes must be zero (keys are compared
 * and hashed as bytes). */
struct wl_shm_key {
	char metric[24];                /* "duration", "client_rtt", ... */
	char proto[16];                 /* "tcp", "http", ... */
	struct wl_addr server;          /* v4-mapped for IPv4 */
	uint16_t server_port;
	uint8_t status_class;           /* enum wl_status_class */
	uint8_t rsvd[5];
	char method[32];                /* a transaction's method, cut to fit */
};

#define WL_SHM_MAX_METRICS 32

/* A family of series (struct wl_metric_def), for readers that export
 * them: by the key's metric, the name, unit and help to give it. */
struct wl_shm_metric {
	char name[24];                  /* the key's metric */
	char export_name[48];           /* after "wirelat_" */
	char method_label[16];          /* the key's method as label, "" none */
	uint8_t unit;                   /* enum wl_metric_unit */
	uint8_t rsvd[7];
	char help[160];
};

struct wl_shm_input {
	char name[128];                 /* file path or port name (driver) */
	char ts_source[8];              /* "hw", "pcap", "tsc" */
	char link[16];                  /* "ether", "sll", ... */
};

/* Page 0 of the segment. Offsets are from the segment start. */
struct wl_shm_hdr {
	uint32_t magic;
	uint32_t version;
	uint32_t hdr_size;              /* sizeof(struct wl_shm_hdr) */
	uint32_t series_size;           /* sizeof(struct wl_shm_series) */
	uint64_t total_size;            /* bytes mapped */
	uint64_t counters_off;          /* names, then values */
	uint64_t series_off;
	uint32_t max_series;
	uint32_t max_counters;
	uint32_t n_series;              /* published with release order */
	int32_t pid;                    /* writer */
	uint64_t created_ns;            /* CLOCK_REALTIME at create */
	char instance[WL_SHM_INSTANCE_LEN];
	char wirelat_version[16];
	/* Series families: written once each, then n_metrics published
	 * with release order. */
	uint32_t n_metrics;
	uint32_t rsvd_m;
	struct wl_shm_metric metrics[WL_SHM_MAX_METRICS];
	/* Dynamic part, guarded by seq. */
	uint32_t seq;
	uint32_t finished;              /* writer exited cleanly */
	uint64_t updated_ns;            /* CLOCK_REALTIME at last publish */
	uint64_t first_ns;              /* earliest packet timestamp */
	uint64_t last_ns;               /* latest packet timestamp */
	uint32_t n_counters;
	uint32_t n_inputs;
	struct wl_shm_input inputs[WL_SHM_MAX_INPUTS];
} __attribute__((aligned(64)));

struct wl_shm_series {
	uint32_t seq;
	uint32_t rsvd;
	struct wl_shm_key key;
	struct wl_hist h;
} __attribute__((aligned(64)));

struct wl_shm;

/* ---- writer (the collector) ---- */

/**
 * Create (replacing any old one) the segment of an instance, mode 0640:
 * readable by the members of group (NULL or "": the writer's own). Refused
 * while another writer has the instance (its lock, held until
 * wl_shm_close() or its exit).
 * @return the handle, or NULL with a one-line reason in err.
 */
struct wl_shm *wl_shm_create(const char *instance, uint32_t max_series,
	uint32_t max_counters, const char *group, char *err, size_t errlen);

/** Series index for a key, added when new. -ENOSPC when full. */
int wl_shm_series_find(struct wl_shm *shm, const struct wl_shm_key *key);

/**
 * Declare a family of series (before its first series). A name already
 * declared is left as it was. -ENOSPC past WL_SHM_MAX_METRICS, -EINVAL
 * for a name or export name that does not fit.
 */
int wl_shm_metric_add(struct wl_shm *shm, const struct wl_metric_def *def);

/** Record one value (ns) in a series. */
void wl_shm_series_record(struct wl_shm *shm, int idx, uint64_t v);

/** Replace the counters (n <= max_counters; the rest are dropped). */
void wl_shm_counters_publish(struct wl_shm *shm, const char (*names)[WL_SHM_COUNTER_NAME],
	const uint64_t *values, unsigned int n);

void wl_shm_set_span(struct wl_shm *shm, uint64_t first_ns, uint64_t last_ns);
void wl_shm_set_inputs(struct wl_shm *shm, const struct wl_shm_input *in,
	unsigned int n);
void wl_shm_set_finished(struct wl_shm *shm);

/** Unmap; the segment itself stays. */
void wl_shm_close(struct wl_shm *shm);

/* ---- readers (any process) ---- */

/** Map an instance's segment read-only. NULL with err when absent/bad. */
struct wl_shm *wl_shm_attach(const char *instance, char *err, size_t errlen);

/** Consistent copies of the header and of series idx. -EAGAIN if the
 * writer kept it busy for too long, -ERANGE past n_series. */
int wl_shm_read_hdr(const struct wl_shm *shm, struct wl_shm_hdr *hdr);
int wl_shm_read_series(const struct wl_shm *shm, unsigned int idx,
	struct wl_shm_series *out);

/**
 * Read series idx without copying its buckets, for readers that fold
 * many series into a few counts (wirelat-export): its head (key and the
 * hist fields before b[]) is copied into out (out->h.b is not touched),
 * then fold(arg, out, b) reads what it needs of the buckets b in place
 * (in the segment, while the writer may be changing them). When the
 * writer changed the series meanwhile, both are done again: fold must
 * start over on every call and its result is consistent only once this
 * returns 0.
 * @return 0, -EAGAIN or -ERANGE as wl_shm_read_series().
 */
int wl_shm_fold_series(const struct wl_shm *shm, unsigned int idx,
	struct wl_shm_series *out,
	void (*fold)(void *arg, const struct wl_shm_series *head,
		const uint64_t *b),
	void *arg);

/** The families declared: fills up to max, returns how many. */
int wl_shm_read_metrics(const struct wl_shm *shm, struct wl_shm_metric *out,
	unsigned int max);

/** Consistent counters: fills up to max names/values, returns count. */
int wl_shm_read_counters(const struct wl_shm *shm,
	char (*names)[WL_SHM_COUNTER_NAME], uint64_t *values, unsigned int max);

/**
 * Unlink an instance's segment and its lock. 0 or -errno (-EBUSY: its
 * writer is running).
 */
int wl_shm_remove(const char *instance);

/** Check an instance name ([A-Za-z0-9_.-], 1..47 chars). 0 or -EINVAL. */
int wl_shm_instance_check(const char *instance);

#endif /* WL_SHM_H */
