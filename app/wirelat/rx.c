/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The data-path lcore loops. An lcore may be an RX lcore, a parser, or
 * both (run-to-completion: the queue is the parser). RX stamps every
 * mbuf with (ts_ns, ts_source, link) in the wirelat dynfield and makes
 * sure mbuf->hash.rss holds the symmetric flow hash; a parser decodes,
 * feeds its own flow table and sends transactions to the collector
 * through its own single-producer ring.
 *
 * Offline (every input ends by itself) the rings apply backpressure
 * instead of dropping, so a file gives the same result every run; live,
 * a full ring drops and counts and nothing ever waits.
 */

#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring_elem.h>

#include "wirelat.h"
#include "wl_mbuf.h"

#define PREFETCH_OFFSET 4

/* ---- transaction sink ---- */

/*
 * Transactions go to the collector in batches: slots are reserved on the
 * ring (zero-copy API) a batch at a time, each record is written in its
 * slot once, and the batch is published at the end of the burst that
 * made it (wl_lcore_sink_flush). Reserving reads the ring's consumer
 * tail, a line the collector keeps writing: once per batch, not once per
 * transaction. A transaction finds a slot, or it is dropped (live:
 * txn_ring_full) or waits (offline: backpressure), as with one enqueue
 * per record: slots reserved and not yet published count as used.
 */
#define SINK_BATCH 64

static inline struct wl_txn *
stage_slot(struct wl_txn_stage *s, unsigned int i)
{
	return i < s->zcd.n1 ? (struct wl_txn *)s->zcd.ptr1 + i :
		(struct wl_txn *)s->zcd.ptr2 + (i - s->zcd.n1);
}

static void
stage_publish(struct wl_lcore *lc)
{
	struct wl_txn_stage *s = &lc->stage;

	if (s->n == 0)
		return;
	/* Unused reserved slots go back to the ring with this. */
	rte_ring_enqueue_zc_elem_finish(lc->txn_ring, s->used);
	s->n = 0;
	s->used = 0;
}

/* @return 0 when a slot is free in the stage, -ENOBUFS: dropped. */
static int
stage_refill(struct wl_lcore *lc)
{
	struct wl_txn_stage *s = &lc->stage;
	uint64_t t0 = 0;

	stage_publish(lc);
	while ((s->n = rte_ring_enqueue_zc_burst_elem_start(lc->txn_ring,
			sizeof(struct wl_txn), SINK_BATCH, &s->zcd,
			NULL)) == 0) {
		if (!lc->app->lossless) {
			lc->st->c[WL_LC_TXN_RING_FULL]++;
			return -ENOBUFS;
		}
		if (t0 == 0)
			t0 = rte_rdtsc();
		lc->st->c[WL_LC_BACKPRESSURE]++;
		rte_pause();
	}
	if (t0 != 0)
		lc->st->c[WL_LC_BACKPRESSURE_CYCLES] += rte_rdtsc() - t0;
	return 0;
}

static void
sink_emit(void *arg, struct wl_txn *t)
{
	struct wl_lcore *lc = arg;
	struct wl_txn_stage *s = &lc->stage;

	if (s->used == s->n && stage_refill(lc) != 0)
		return;
	/* What the record holds, not its room (wl_txn.h). */
	wl_txn_copy(stage_slot(s, s->used), t);
	s->used++;
}

void
wl_lcore_sink_init(struct wl_lcore *lc)
{
	lc->sink.emit = sink_emit;
	lc->sink.arg = lc;
	lc->stage.n = 0;
	lc->stage.used = 0;
}

void
wl_lcore_sink_flush(struct wl_lcore *lc)
{
	stage_publish(lc);
}

/* ---- parser ---- */

/* Per-packet fields the flow layer needs. @return 0 unless TCP/UDP. */
static inline int
pkt_fill(struct wl_lcore *lc, struct rte_mbuf *m, struct wl_pkt *p)
{
	struct wl_lcore_stats *st = lc->st;
	struct wl_mbuf_meta *meta = wl_mbuf_meta(m);

	/* Timers and the traffic span follow the packet clock, which one
	 * absurd timestamp does not move (wl_time.h). */
	st->last_ts = wl_pkt_clock_see(&lc->clock, meta->ts_ns, lc->jump_ns);
	if (st->first_ts == 0)
		st->first_ts = meta->ts_ns;
	if (p->l4proto != IPPROTO_TCP && p->l4proto != IPPROTO_UDP)
		return 0;
	p->ts_ns = meta->ts_ns;
	p->ts_source = meta->ts_source;
	p->port = m->port;
	p->hash = m->hash.rss;
	p->wire_len = meta->wire_len != 0 ? meta->wire_len : m->pkt_len;
	return 1;
}

/*
 * Decode one mbuf; counts the packet and the decode error if any.
 * @return 0 when p holds a decoded packet.
 */
static inline int
decode_one(struct wl_lcore *lc, struct rte_mbuf *m, struct wl_pkt *p)
{
	struct wl_lcore_stats *st = lc->st;
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = m->data_len;
	enum wl_pkt_err e;

	st->c[WL_LC_PACKETS]++;
	st->c[WL_LC_BYTES] += m->pkt_len;
	if (unlikely(m->nb_segs > 1)) {
		/* The payload must be contiguous for L7: copy it once into
		 * this lcore's scratch area, valid until the next packet. */
		st->c[WL_LC_MULTISEG]++;
		if (m->pkt_len <= WL_SCRATCH_LEN) {
			data = rte_pktmbuf_read(m, 0, m->pkt_len, lc->scratch);
			len = m->pkt_len;
		} else {
			st->c[WL_LC_TOO_LONG]++;
		}
	}
	e = wl_pkt_decode(p, data, len, (enum wl_link)wl_mbuf_meta(m)->link);
	if (e != WL_PKT_OK) {
		st->pkt_err[e]++;
		return -1;
	}
	return 0;
}

/*
 * Decode a burst and hand it to the flow table WL_FLOW_BURST packets at a
 * time (one bulk flow lookup each). A chained mbuf is linearised into the
 * lcore's one scratch area, so it goes alone, after the packets before it.
 */
static void
parse_burst(struct wl_lcore *lc, struct rte_mbuf **m, unsigned int n)
{
	struct wl_pkt p[WL_FLOW_BURST];
	unsigned int i, k = 0;

	for (i = 0; i < n && i < PREFETCH_OFFSET; i++)
		rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));
	for (i = 0; i < n; i++) {
		if (i + PREFETCH_OFFSET < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + PREFETCH_OFFSET],
				void *));
		if (decode_one(lc, m[i], &p[k]) != 0 ||
				!pkt_fill(lc, m[i], &p[k]))
			continue;
		if (unlikely(m[i]->nb_segs > 1)) {
			wl_flow_input_burst(lc->ft, p, k);
			wl_flow_input(lc->ft, &p[k]);
			k = 0;
		} else if (++k == WL_FLOW_BURST) {
			wl_flow_input_burst(lc->ft, p, k);
			k = 0;
		}
	}
	if (k != 0)
		wl_flow_input_burst(lc->ft, p, k);
	rte_pktmbuf_free_bulk(m, n);
	if (n > 0) {
		lc->st->c[WL_LC_TS_JUMP] = lc->clock.jumps;
		wl_flow_advance(lc->ft, lc->st->last_ts);
	}
	/* What this burst made goes to the collector now. */
	wl_lcore_sink_flush(lc);
}

/* ---- RX ---- */

/* @return the TSC read for the last frame stamped by it, 0 if none was. */
static inline uint64_t
stamp_port_burst(struct wl_lcore *lc, struct wl_port *port,
	struct rte_mbuf **m, unsigned int n)
{
	uint64_t tsc = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct wl_mbuf_meta *meta = wl_mbuf_meta(m[i]);
		uint64_t ts = wl_port_rx_ts(port, m[i]);

		meta->link = port->link;
		meta->wire_len = 0;
		if (ts != 0) {
			meta->ts_ns = ts;
			meta->ts_source = port->ts_source;
		} else {
			/* Read for each packet: one read per burst gave a
			 * request and its answer in one burst 0 ns. */
			tsc = rte_rdtsc();
			meta->ts_ns = wl_tsc_to_ns(&lc->app->tsc, tsc);
			meta->ts_source = WL_TS_TSC;
		}
		if (!port->hw_rss || !(m[i]->ol_flags & RTE_MBUF_F_RX_RSS_HASH))
			m[i]->hash.rss = 0;
	}
	return tsc;
}

/*
 * The bound behind rx_wait_max_ns (docs/timing.md, "How long a frame
 * waited"): a poll that returns fewer frames than asked took everything
 * the queue held when it looked, after t0, the TSC read before the call.
 * So every frame a later poll returns arrived after that t0, and was
 * stamped no later than the last frame of its own poll: its wait in the
 * queue is at most last - t0. Per poll, not per frame; a new maximum is
 * rare, so its conversion to ns costs nothing that matters.
 */
static inline void
rx_wait_note(struct wl_lcore *lc, struct wl_rxq *rq, uint64_t t0,
	uint64_t last, unsigned int n, unsigned int burst)
{
	if (n > 0 && last != 0 && rq->drained_tsc != 0 &&
			last - rq->drained_tsc > lc->rx_wait_max_tsc) {
		lc->rx_wait_max_tsc = last - rq->drained_tsc;
		/* Rounded up: a bound must not shrink in the conversion. */
		lc->st->c[WL_LC_RX_WAIT_MAX_NS] = wl_tsc_to_ns(&lc->app->tsc,
			lc->app->tsc.tsc0 + lc->rx_wait_max_tsc) -
			lc->app->tsc.ns0 + 1;
	}
	if (n < burst)
		rq->drained_tsc = t0;
}

/*
 * Run-to-completion: decode once, hash in software when the NIC did not,
 * parse. Pipeline: decode to hash, hand the mbuf to its parser.
 */
static void
rx_dispatch(struct wl_lcore *lc, struct rte_mbuf **m, unsigned int n)
{
	struct wl_app *app = lc->app;
	struct wl_lcore_stats *st = lc->st;
	struct wl_pkt p;
	unsigned int i;
	uint64_t t0;

	if (unlikely(app->bench_bare)) {
		/* The baseline of scripts/bench: what RX alone costs. */
		st->c[WL_LC_PACKETS] += n;
		for (i = 0; i < n; i++)
			st->c[WL_LC_BYTES] += m[i]->pkt_len;
		rte_pktmbuf_free_bulk(m, n);
		return;
	}
	if (lc->is_parser) {
		/* Run to completion: this queue's flows are all ours. */
		parse_burst(lc, m, n);
		return;
	}

	for (i = 0; i < n; i++) {
		struct wl_lcore *pl;
		uint32_t h = m[i]->hash.rss;

		if (h == 0) {
			enum wl_pkt_err e = wl_pkt_decode(&p,
				rte_pktmbuf_mtod(m[i], const uint8_t *),
				m[i]->data_len,
				(enum wl_link)wl_mbuf_meta(m[i])->link);

			h = e == WL_PKT_OK ? wl_pkt_hash_sym(&p) : 0;
			m[i]->hash.rss = h;
		}
		pl = app->parsers[h % app->n_parsers];
		t0 = 0;
		while (rte_ring_mp_enqueue(pl->pkt_ring, m[i]) != 0) {
			if (!app->lossless || app->force_quit) {
				st->c[WL_LC_PARSER_RING_FULL]++;
				rte_pktmbuf_free(m[i]);
				break;
			}
			if (t0 == 0)
				t0 = rte_rdtsc();
			st->c[WL_LC_BACKPRESSURE]++;
			rte_pause();
		}
		if (t0 != 0)
			st->c[WL_LC_BACKPRESSURE_CYCLES] += rte_rdtsc() - t0;
	}
}

/* A source that failed (corrupt file) has ended too: what it gave before
 * the damage is analysed, and the error is reported at exit. */
static inline int
source_ended(const struct wl_source *src)
{
	return wl_source_done(src) || wl_source_error(src) != NULL;
}

static unsigned int
rx_sources(struct wl_lcore *lc, struct rte_mbuf **m, unsigned int burst)
{
	struct wl_app *app = lc->app;
	unsigned int s;
	uint16_t n;

	for (s = 0; s < app->n_sources; s++) {
		struct wl_source *src = app->sources[s];

		if (source_ended(src)) {
			/* Its chunks go back to the system once the parsers
			 * have freed its mbufs (a no-op after that). */
			(void)wl_source_release(src);
			continue;
		}
		n = wl_source_rx_burst(src, app->mp, m, burst);
		if (n > 0)
			return n;
		/* Out of mbufs, or a stream (pcap.md) has nothing yet:
		 * try again on the next poll; never wait here. */
		if (!source_ended(src))
			return 0;
	}
	return 0;
}

static int
sources_done(const struct wl_app *app)
{
	unsigned int s;

	for (s = 0; s < app->n_sources; s++)
		if (!source_ended(app->sources[s]))
			return 0;
	return 1;
}

/* One pass over this lcore's inputs. @return 1 when all ended. */
static int
rx_poll(struct wl_lcore *lc)
{
	struct wl_app *app = lc->app;
	struct rte_mbuf *m[256];
	unsigned int burst = RTE_MIN(app->cfg.burst, RTE_DIM(m));
	uint64_t now_tsc = 0, t0;
	unsigned int q, n;
	int all_done = 1;

	if (lc->reads_sources) {
		n = rx_sources(lc, m, burst);
		if (n > 0)
			rx_dispatch(lc, m, n);
		if (!sources_done(app))
			all_done = 0;
	}
	for (q = 0; q < lc->n_rxq; q++) {
		struct wl_rxq *rq = &lc->rxq[q];

		if (rq->kind == WL_RXQ_AFP) {
			n = wl_afp_rx_burst(rq->afp, rq->queue_id, rq->mp, m,
				burst);
			lc->st->c[WL_LC_RX_BURSTS]++;
			if (n > 0)
				rx_dispatch(lc, m, n);
			else
				lc->st->c[WL_LC_RX_EMPTY]++;
			all_done = 0;   /* live: ends on a signal */
			continue;
		}
		if (rq->done)
			continue;
		t0 = rte_rdtsc();
		n = rte_eth_rx_burst(rq->port_id, rq->queue_id, m, burst);
		lc->st->c[WL_LC_RX_BURSTS]++;
		if (n > 0) {
			rx_wait_note(lc, rq, t0, stamp_port_burst(lc, rq->port,
				m, n), n, burst);
			rx_dispatch(lc, m, n);
			rq->last_rx_tsc = 0;
		} else {
			rx_wait_note(lc, rq, t0, 0, 0, burst);
			lc->st->c[WL_LC_RX_EMPTY]++;
			if (rq->port->dconf.offline) {
				/* File-backed port: ends after a quiet spell. */
				if (now_tsc == 0)
					now_tsc = rte_rdtsc();
				if (rq->last_rx_tsc == 0)
					rq->last_rx_tsc = now_tsc;
				else if (now_tsc - rq->last_rx_tsc >
						rte_get_tsc_hz() / 1000 *
						rq->port->dconf.idle_exit_ms)
					rq->done = 1;
			}
		}
		if (!rq->done)
			all_done = 0;
	}
	return all_done;
}

/*
 * Stopping: what the kernel already put in the rings is read, so that at
 * exit every frame it counted was either analysed or counted dropped.
 */
static void
rx_drain_ifaces(struct wl_lcore *lc)
{
	struct wl_app *app = lc->app;
	struct rte_mbuf *m[256];
	unsigned int q, n, burst = RTE_MIN(app->cfg.burst, RTE_DIM(m));

	for (q = 0; q < lc->n_rxq; q++) {
		struct wl_rxq *rq = &lc->rxq[q];

		if (rq->kind != WL_RXQ_AFP)
			continue;
		while ((n = wl_afp_rx_burst(rq->afp, rq->queue_id, rq->mp, m,
				burst)) > 0)
			rx_dispatch(lc, m, n);
	}
}

/* ---- lcore main ---- */

static void
parser_finish(struct wl_lcore *lc)
{
	uint64_t now = lc->st->last_ts;

	if (!lc->app->offline) {
		uint64_t wall = wl_tsc_to_ns(&lc->app->tsc, rte_rdtsc());

		if (wall > now)
			now = wall;
	}
	wl_flow_flush(lc->ft, now);
	wl_lcore_sink_flush(lc);
	__atomic_store_n(&lc->parser_done, 1, __ATOMIC_RELEASE);
}

static int
all_rx_done(const struct wl_app *app)
{
	unsigned int i;

	for (i = 0; i < app->n_rx; i++)
		if (!__atomic_load_n(&app->rx[i]->rx_done, __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

/* This thread's CPU time: unlike busy_cycles, not the time it was
 * descheduled (read twice a run: a syscall). */
static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
wl_lcore_main(void *arg)
{
	struct wl_lcore *lc = arg;
	struct wl_app *app = lc->app;
	struct rte_mbuf *m[256];
	uint64_t idle_tsc = rte_get_tsc_hz() / 10;
	uint64_t last_adv = rte_rdtsc();
	uint64_t start_tsc = 0, start_cpu = 0;
	int rx_ended = !lc->is_rx;

	for (;;) {
		if (start_tsc == 0 && lc->st->c[WL_LC_PACKETS] != 0) {
			start_tsc = rte_rdtsc();
			start_cpu = thread_cpu_ns();
		}
		if (lc->is_rx && !rx_ended) {
			if (rx_poll(lc) || app->force_quit) {
				rx_drain_ifaces(lc);
				rx_ended = 1;
				__atomic_store_n(&lc->rx_done, 1, __ATOMIC_RELEASE);
			}
		}
		if (lc->is_parser && lc->pkt_ring != NULL) {
			unsigned int n = rte_ring_sc_dequeue_burst(lc->pkt_ring,
				(void **)m, RTE_MIN(app->cfg.burst, RTE_DIM(m)),
				NULL);

			if (n > 0)
				parse_burst(lc, m, n);
			else if (all_rx_done(app) &&
					rte_ring_empty(lc->pkt_ring))
				break;
		} else if (rx_ended) {
			break;
		}
		/* Live: let idle flows expire even when no packet comes. */
		if (lc->is_parser && !app->offline) {
			uint64_t now = rte_rdtsc();

			if (now - last_adv > idle_tsc) {
				last_adv = now;
				wl_flow_advance(lc->ft,
					wl_tsc_to_ns(&app->tsc, now));
				wl_lcore_sink_flush(lc);
			}
		}
	}
	if (lc->is_parser)
		parser_finish(lc);
	if (start_tsc != 0) {
		lc->st->c[WL_LC_BUSY_CYCLES] = rte_rdtsc() - start_tsc;
		lc->st->c[WL_LC_CPU_NS] = thread_cpu_ns() - start_cpu;
	}
	return 0;
}
