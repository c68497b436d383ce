/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WIRELAT_H
#define WIRELAT_H

/*
 * The wirelat application context: what main() sets up and the lcore
 * loops read. Everything a data-path lcore writes lives in its own
 * cache-aligned struct wl_lcore; the collector only reads those counters
 * (64-bit aligned loads, so a torn value is impossible on x86-64).
 */

#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "wl_afpacket.h"
#include "wl_config.h"
#include "wl_flow.h"
#include "wl_jw.h"
#include "wl_pkt.h"
#include "wl_port.h"
#include "wl_proto.h"
#include "wl_shm.h"
#include "wl_source.h"
#include "wl_time.h"

#define WL_MAX_RXQ_PER_LCORE 16
/* Largest chained packet a parser linearises (loopback/TSO captures carry
 * 64 KB frames; a NIC with scatter gives 9 KB jumbos). */
#define WL_SCRATCH_LEN (256 * 1024)
#define WL_MAX_SOURCES WL_CFG_MAX_INPUTS
#define WL_MAX_PORTS WL_CFG_MAX_INPUTS

/* _(ENUM, "name") -- per-lcore data-path counters, exported as lcoreN.<name>. */
#define foreach_wl_lcore_ctr \
	_(PACKETS, "packets") \
	_(BYTES, "bytes") \
	_(MULTISEG, "multiseg")           /* chained mbuf, linearised */ \
	_(TOO_LONG, "too_long")           /* over WL_SCRATCH_LEN: first segment only */ \
	_(PARSER_RING_FULL, "parser_ring_full") /* RX->parser drops */ \
	_(TXN_RING_FULL, "txn_ring_full") /* parser->collector drops */ \
	_(BACKPRESSURE, "backpressure")   /* lossless waits (offline) */ \
	_(BACKPRESSURE_CYCLES, "backpressure_cycles") /* TSC cycles of those */ \
	_(RX_BURSTS, "rx_bursts") \
	_(RX_EMPTY, "rx_empty") \
	_(BUSY_CYCLES, "busy_cycles")     /* TSC from first packet to done */ \
	_(CPU_NS, "cpu_ns")               /* thread CPU time, same span */ \
	_(TS_JUMP, "ts_jump")             /* timestamps far off the clock */ \
	_(RX_WAIT_MAX_NS, "rx_wait_max_ns") /* bound on queue wait (max) */

enum wl_lcore_ctr {
#define _(e, n) WL_LC_ ## e,
	foreach_wl_lcore_ctr
#undef _
	WL_LC_MAX
};

struct wl_lcore_stats {
	uint64_t c[WL_LC_MAX];
	uint64_t pkt_err[WL_PKT_ERR_MAX];
	uint64_t first_ts;              /* first packet timestamp seen */
	uint64_t last_ts;               /* latest packet timestamp seen */
	struct wl_flow_stats flow;
	uint64_t proto[WL_PROTO_MAX * WL_PROTO_CTR_MAX];
} __rte_cache_aligned;

enum wl_rxq_kind {
	WL_RXQ_PORT,
	WL_RXQ_AFP,                     /* a kernel interface's socket */
};

struct wl_rxq {
	enum wl_rxq_kind kind;
	uint16_t port_id;
	uint16_t queue_id;
	struct wl_port *port;
	struct wl_afp *afp;
	struct rte_mempool *mp;         /* AF_PACKET: mbufs of its socket */
	uint64_t last_rx_tsc;           /* for the idle exit of file ports */
	uint64_t drained_tsc;           /* start of the last poll that
					 * emptied the queue (0: none yet) */
	int done;
};

/*
 * The ring slots a parser has reserved and not yet published (rx.c): a
 * batch of transactions is written in place, then handed over at once.
 */
struct wl_txn_stage {
	struct rte_ring_zc_data zcd;    /* the reserved slots */
	unsigned int n;                 /* slots reserved, 0: none */
	unsigned int used;              /* of them written */
};

struct wl_app;

struct wl_lcore {
	struct wl_app *app;
	unsigned int lcore_id;
	int is_rx;
	int is_parser;
	int parser_idx;                 /* -1 when not a parser */
	unsigned int n_rxq;
	struct wl_rxq rxq[WL_MAX_RXQ_PER_LCORE];
	int reads_sources;              /* this RX lcore reads the files */
	struct wl_flow_table *ft;
	struct rte_ring *txn_ring;      /* to the collector */
	struct rte_ring *pkt_ring;      /* from RX lcores (pipeline) */
	struct wl_txn_sink sink;
	struct wl_txn_stage stage;      /* the sink's batch */
	struct wl_lcore_stats *st;
	struct wl_pkt_clock clock;      /* packet time for timers and span */
	uint64_t jump_ns;               /* flow.ts_jump_ms */
	uint64_t rx_wait_max_tsc;       /* rx_wait_max_ns, in TSC ticks */
	uint8_t *scratch;               /* WL_SCRATCH_LEN, for chained mbufs */
	volatile int rx_done;
	volatile int parser_done;
} __rte_cache_aligned;

/*
 * A JSON-lines output (output.c): its own buffer, which the streaming
 * writer formats into, every write checked; after a failure its lines
 * are counted, not written.
 */
struct wl_out {
	int fd;                 /* -1: none */
	int failed;             /* errno of the failure, 0 */
	const char *what;       /* "transaction log" */
	char name[WL_CFG_PATH];
	char *buf;
	struct wl_jw jw;        /* over buf: jw.len bytes in it */
	uint64_t pending;       /* whole lines in buf */
	uint64_t written;       /* lines the kernel took */
	uint64_t dropped;       /* lines not written: it had failed */
};

/*
 * Unanswered SYNs of the connection log, one line per server and second
 * (syn_log.c). Collector only.
 */
struct wl_syn_ent;

struct wl_syn_log {
	int on;                         /* output.syn_unanswered per_second */
	struct wl_out *out;             /* the connection log, else --log */
	struct wl_syn_ent *slot;        /* open addressing, the entries */
	struct wl_syn_ent *spare;       /* as big: a sweep's survivors */
	uint32_t n;                     /* entries in use */
	uint64_t clock_ns;              /* latest left_ns read (live: or now) */
	uint64_t swept_s;               /* second of clock_ns at the last sweep */
	uint64_t syns;                  /* records folded into lines */
	uint64_t lines;                 /* lines written */
	uint64_t early;                 /* of those, because the table was full */
};

struct wl_app {
	struct wl_config cfg;
	struct wl_flow_conf fconf;
	/* Every protocol's detection signatures, compiled once; each
	 * parser's flow table scans it with its own scratch. */
	struct wl_probe_db *probe_db;
	struct wl_tsc_clock tsc;
	int offline;                    /* every input ends by itself */
	int lossless;
	unsigned int n_lcores;
	unsigned int lcore_ids[RTE_MAX_LCORE];
	struct wl_lcore *lc[RTE_MAX_LCORE];
	unsigned int n_parsers;
	struct wl_lcore *parsers[RTE_MAX_LCORE];
	unsigned int n_rx;
	struct wl_lcore *rx[RTE_MAX_LCORE];
	unsigned int n_sources;
	struct wl_source *sources[WL_MAX_SOURCES];
	char source_names[WL_MAX_SOURCES][WL_CFG_PATH];
	unsigned int n_ports;
	struct wl_port ports[WL_MAX_PORTS];
	unsigned int n_ifaces;          /* --iface: AF_PACKET rings */
	struct wl_afp *ifaces[WL_MAX_PORTS];
	int exit_code;                  /* non-zero: an input failed live */
	struct rte_mempool *mp;         /* sources': the socket of rx[0] */
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES]; /* by socket */
	struct wl_shm *shm;
	struct wl_out log;              /* --log */
	struct wl_out conn_log;         /* --connections */
	struct wl_syn_log syn_log;
	uint8_t port_proto[65536];
	uint64_t server_port_bits[65536 / 64];
	char drivers_dir[1024];
	int bench_bare;                 /* --bench-bare: RX then free only */
	volatile int force_quit;
	uint64_t conn_requests_dropped; /* past output.connection_requests */
	uint64_t series_full;
	uint64_t no_response;
	uint64_t unproven;              /* answered, no duration: flags */
	uint64_t conns;
	uint64_t txn_log_syn_folded;    /* unanswered SYNs not logged one each */
};

/* output.c */
int wl_out_open(struct wl_out *o, const char *path, const char *what);
/**
 * Start a line: the writer to render it with (one JSON value), or NULL
 * when the output is off or has failed (the line is counted dropped).
 */
struct wl_jw *wl_out_begin(struct wl_out *o);
/** End the line wl_out_begin() started. */
void wl_out_end(struct wl_out *o);
int wl_out_flush(struct wl_out *o);
int wl_out_close(struct wl_out *o);

static inline int
wl_out_on(const struct wl_out *o)
{
	return o->fd >= 0;
}

/* syn_log.c */
/** Allocate the table and turn folding on. @return 0 or -ENOMEM. */
int wl_syn_log_init(struct wl_syn_log *s);
void wl_syn_log_free(struct wl_syn_log *s);
/**
 * Fold a connection record of SYNs alone into its server's second.
 * @return 1 if it was folded (write nothing else for it), 0 if not.
 */
int wl_syn_log_add(struct wl_app *app, const struct wl_txn *t);
/** The collector's clock is at least now_ns: write the quiet entries. */
void wl_syn_log_tick(struct wl_app *app, uint64_t now_ns);
/** Write every entry (end of the run). */
void wl_syn_log_flush(struct wl_app *app);

/* rx.c */
int wl_lcore_main(void *arg);
void wl_lcore_sink_init(struct wl_lcore *lc);
/** Publish the transactions the sink holds (end of a burst, of the run). */
void wl_lcore_sink_flush(struct wl_lcore *lc);

/* collector.c */
int wl_collector_init(struct wl_app *app);
int wl_collector_run(struct wl_app *app);
int wl_collector_finish(struct wl_app *app);

#endif /* WIRELAT_H */
