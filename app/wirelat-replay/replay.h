/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WR_REPLAY_H
#define WR_REPLAY_H

/*
 * wirelat-replay: main.c reads the command line, checks every input file
 * before the EAL starts, preloads packets into mbufs and sets up the
 * ports; send.c is the send lcore, waiting on the TSC for each packet's
 * time from the schedule (lib/pace); report.c prints and writes the
 * result. gen.c is the "gen" subcommand (gen.h).
 */

#include <stdint.h>

#include <rte_mbuf.h>

#include "wl_hist.h"
#include "wl_pace.h"
#include "wl_pkt.h"
#include "wl_replay.h"
#include "wl_source.h"

#define WR_MAX_PORTS 2
#define WR_MAX_FILES 64
#define WR_BURST 32

/* mbuf data rooms: a packet takes the smallest that holds it whole;
 * only frames above WR_JUMBO_MAX are chained (multi-segment TX). */
#define WR_SMALL_DATA 256
#define WR_LARGE_DATA 2048
#define WR_JUMBO_MAX (UINT16_MAX - RTE_PKTMBUF_HEADROOM - 63)

/* One input file, as the check before the EAL found it. */
struct wr_file {
	const char *path;
	struct wl_source *src;
	uint64_t packets;
	uint64_t bytes;         /* captured bytes: what is sent */
	uint64_t first_ts_ns;
	uint64_t last_ts_ns;
	uint64_t truncated;     /* caplen < wire length: sent as captured */
	uint64_t small;         /* packets up to WR_SMALL_DATA */
	uint64_t large;         /* up to WR_LARGE_DATA */
	uint64_t jumbo_segs;    /* jumbo mbufs the rest need */
	uint32_t max_caplen;
};

/* One packet, ready to send (preloaded, or just read when streaming). */
struct wr_pkt {
	struct rte_mbuf *m;
	uint64_t ts_ns;
	uint32_t len;           /* bytes sent: the captured length */
	uint16_t file;
	uint8_t port;           /* output index: 0, or 1 for S2C in a split */
	uint8_t pad;
	struct wl_dir_info dir;
};

/* Written by the send lcore, read by the main lcore for progress. */
struct wr_progress {
	volatile uint64_t packets;
	volatile uint64_t bytes;
	volatile uint64_t loop;
	volatile int done;
};

/* One sent packet of --schedule-log: its schedule time and when the port
 * took it, both in ns after time 0. */
struct wr_sched_rec {
	uint64_t due_ns;
	uint64_t sent_ns;
	uint32_t len;
	uint8_t port;
	uint8_t pad[3];
};

struct wr_port_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t tx_full;       /* bursts that found the ring full */
};

/* Everything the send lcore needs; filled by main.c. */
struct wr_run {
	/* schedule */
	struct wl_pace_conf pace;
	uint64_t loop_gap_ns;
	uint64_t loops;                 /* 0 = forever */
	uint64_t limit_pkts;            /* 0 = none */
	uint64_t limit_ns;              /* 0 = none: schedule time limit */
	uint64_t max_late_ns;           /* --max-late: 0 = catch up */
	int unique_ip;
	int bench_bare;                 /* scripts/bench-replay's baseline */
	struct wr_sched_rec *sched;     /* --schedule-log: one per packet */
	uint64_t sched_cap;
	/* input */
	uint16_t n_files;
	struct wr_file *files;
	int preload;
	struct wr_pkt *pkts;            /* preload: every packet in order */
	uint64_t n_pkts;
	struct wl_dir_table *dirs;      /* streaming: flow directions */
	/* output */
	uint16_t n_ports;
	uint16_t port_ids[WR_MAX_PORTS];
	char port_names[WR_MAX_PORTS][64];
	struct rte_mempool *pool;       /* streaming mbufs, unique-ip copies */
	struct rte_mempool *jpool;      /* the same for frames > 2 kB */
	volatile int stop;
	/* results (send lcore) */
	uint64_t hz;
	uint64_t start_tsc;             /* schedule time 0 */
	uint64_t first_tsc, last_tsc;   /* first and last handed to a port */
	uint64_t last_due_ns;           /* schedule time of the last sent */
	uint64_t packets, bytes;
	uint64_t bits_l1;               /* line bits of every sent packet */
	uint64_t last_len;              /* length of the last sent */
	uint64_t loops_done;
	uint64_t alloc_fail;            /* no mbuf for a copy: waited */
	uint64_t unsent;                /* dropped when stopped */
	uint64_t tx_call_max;           /* longest tx_burst call, TSC */
	uint64_t slips;                 /* --max-late: schedule moved later */
	uint64_t slip_tsc;              /* by this much in all */
	struct wr_port_stats port[WR_MAX_PORTS];
	struct wl_dir_stats dir_stats;  /* copied at the end */
	struct wl_hist err;             /* send time - due time, ns */
	struct wr_progress prog;
	char error[256];                /* set when the send lcore failed */
};

/** The send lcore (rte_eal_remote_launch). @return 0 or -errno. */
int wr_send_main(void *arg);

/** Data room of the jumbo mbufs for frames up to max_caplen. */
static inline uint32_t
wr_jumbo_room(uint32_t max_caplen)
{
	uint32_t r = (max_caplen + 63) & ~63u;

	return r < WR_JUMBO_MAX ? r : WR_JUMBO_MAX;
}

/**
 * A packet of input file `file` into a fresh mbuf (chained only when it
 * exceeds one data room of mp), its direction and output port decided.
 * Preloading and streaming both load packets this way.
 * @return 0, or -ENOBUFS when mp is dry (nothing kept).
 */
int wr_pkt_load(struct wr_run *r, struct wr_pkt *p,
	const struct wl_source_pkt *sp, uint16_t file, struct rte_mempool *mp);

#endif /* WR_REPLAY_H */
