/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The send lcore. For each packet: its time from the schedule (lib/pace,
 * ns after time 0), converted once to an absolute TSC value; packets that
 * are due are gathered into bursts per port; a packet not yet due first
 * flushes what is gathered, then spins on the TSC until its time. Each
 * packet's error is the TSC when the port accepted it minus its due
 * time, so waits never add up: a late packet makes the next one no
 * later. No allocation, lock, syscall or log line per packet.
 */

#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "wl_mbuf.h"
#include "wl_source.h"
#include "replay.h"

#define NS 1000000000ULL
#define WR_PREFETCH 16

struct wr_tx {
	struct rte_mbuf *m[WR_BURST];
	uint64_t due[WR_BURST];
	uint64_t idx[WR_BURST];        /* packet number, for --schedule-log */
	uint16_t n;
};

struct wr_send {
	struct wr_run *r;
	struct wl_pace pace;
	struct wr_tx tx[WR_MAX_PORTS];
	uint64_t ns_mult;       /* ns = (ticks * ns_mult) >> 32, small ticks */
	uint64_t tk_int;        /* ticks = ns * tk_int + (ns * tk_frac) >> 64 */
	uint64_t tk_frac;
	uint64_t max_late;      /* --max-late in TSC ticks, 0 = off */
	uint64_t now;           /* latest TSC read: packets due before it
				 * need no new read (top speed, catching up) */
	int timed;              /* not top speed: errors mean something */
};

int
wr_pkt_load(struct wr_run *r, struct wr_pkt *p,
	const struct wl_source_pkt *sp, uint16_t file, struct rte_mempool *mp)
{
	p->m = rte_pktmbuf_alloc(mp);
	if (p->m == NULL)
		return -ENOBUFS;
	if (wl_mbuf_copy_in(mp, p->m, sp->data, sp->caplen, UINT16_MAX) != 0) {
		rte_pktmbuf_free(p->m);
		p->m = NULL;
		return -ENOBUFS;
	}
	p->ts_ns = sp->ts_ns;
	p->len = sp->caplen;
	p->file = file;
	wl_dir_classify(r->dirs, sp->data, sp->caplen, sp->link, &p->dir);
	p->port = r->n_ports > 1 ? p->dir.dir : 0;
	return 0;
}

static inline uint64_t
ticks_ns(const struct wr_send *s, uint64_t ticks)
{
	if (likely(ticks < (1ULL << 32)))
		return (ticks * s->ns_mult) >> 32;
	return wl_pace_muldiv(ticks, NS, s->r->hz);
}

/*
 * Schedule ns to the TSC tick a packet may leave, without a division.
 * The product is below the exact ns * hz / 1e9 by less than 1 + 1/16
 * tick (tk_frac rounds down, for ns < 2^60); two ticks more make it
 * never below, so no packet leaves before its time (< 1 ns late).
 */
static inline uint64_t
ns_ticks(const struct wr_send *s, uint64_t ns)
{
	return ns * s->tk_int +
		(uint64_t)(((unsigned __int128)ns * s->tk_frac) >> 64) + 2;
}

/*
 * Hand a port what is gathered for it. A full TX ring is waited out; a
 * port that takes nothing for a second (link down, peer gone) ends the
 * run with an error rather than a silent hang.
 */
static void
flush(struct wr_send *s, unsigned int pi)
{
	struct wr_run *r = s->r;
	struct wr_tx *t = &s->tx[pi];
	uint16_t done = 0, k, j;
	uint64_t now, after, stuck = 0;
	int full = 0;

	while (done < t->n) {
		now = rte_rdtsc();
		s->now = now;
		k = rte_eth_tx_burst(r->port_ids[pi], 0, t->m + done,
			t->n - done);
		/* A frame may reach the peer as late as the call's return:
		 * the report's bound on that (tx_call_max_ns). */
		after = rte_rdtsc();
		if (after - now > r->tx_call_max)
			r->tx_call_max = after - now;
		if (k < t->n - done)
			full = 1;
		if (k == 0) {
			if (stuck == 0)
				stuck = now;
			if (now - stuck > r->hz && r->error[0] == '\0')
				snprintf(r->error, sizeof(r->error), "%s took "
					"no packet for 1 s (link down?)",
					r->port_names[pi]);
			if (r->stop || r->error[0] != '\0') {
				for (j = done; j < t->n; j++) {
					uint32_t len = t->m[j]->pkt_len;

					/* Counted when gathered: uncount. */
					r->packets--;
					r->bytes -= len;
					r->bits_l1 -= wl_pace_l1_bits(len);
					r->port[pi].packets--;
					r->port[pi].bytes -= len;
					rte_pktmbuf_free(t->m[j]);
				}
				r->unsent += t->n - done;
				r->stop = 1;
				break;
			}
			continue;
		}
		stuck = 0;
		if (r->first_tsc == 0)
			r->first_tsc = now;
		if (s->timed)
			for (j = done; j < done + k; j++)
				wl_hist_record(&r->err, now > t->due[j] ?
					ticks_ns(s, now - t->due[j]) : 0);
		/* Exact ns (a division, only when logging): the fast
		 * conversion may read up to 2 ns low. */
		if (r->sched != NULL)
			for (j = done; j < done + k; j++)
				r->sched[t->idx[j]].sent_ns = wl_pace_muldiv(
					now - r->start_tsc, NS, r->hz);
		r->last_tsc = now;
		done += k;
	}
	/* One wait for a full ring, however many tries it took. */
	if (full)
		r->port[pi].tx_full++;
	t->n = 0;
	__atomic_store_n(&r->prog.packets, r->packets, __ATOMIC_RELAXED);
	__atomic_store_n(&r->prog.bytes, r->bytes, __ATOMIC_RELAXED);
}

static void
flush_all(struct wr_send *s)
{
	unsigned int i;

	for (i = 0; i < s->r->n_ports; i++)
		if (s->tx[i].n > 0)
			flush(s, i);
}

/*
 * The pool for copies (or streamed packets) is dry: its mbufs sit in TX
 * rings until the driver frees them, which many do only when asked or
 * when the ring runs low. Hand over what is gathered, ask for the sent
 * ones back; a second of this ends the run with an error, never a hang.
 * @return 1 to stop.
 */
static int
pool_dry(struct wr_send *s, uint64_t *since)
{
	struct wr_run *r = s->r;
	uint64_t now = rte_rdtsc();
	unsigned int i;

	if (*since == 0) {
		*since = now;
		r->alloc_fail++;
	} else if (now - *since > r->hz && r->error[0] == '\0') {
		snprintf(r->error, sizeof(r->error), "no free mbuf for 1 s: "
			"the ports keep every copy (TX rings larger than the "
			"pool?)");
		r->stop = 1;
	}
	flush_all(s);
	for (i = 0; i < r->n_ports; i++)
		rte_eth_tx_done_cleanup(r->port_ids[i], 0, 0);
	return r->stop;
}

/* Every segment gains a reference: the port frees one, we keep ours. */
static inline void
pkt_ref(struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		rte_mbuf_refcnt_update(m, 1);
}

/*
 * The mbuf to send for p in this loop: the preloaded one itself, or a
 * copy with the client address of loop L when --unique-ip rewrites it
 * (never the preloaded data: a NIC may still be sending it).
 * NULL when the copy pool is dry (stop requested meanwhile).
 */
static struct rte_mbuf *
take(struct wr_send *s, const struct wr_pkt *p, uint64_t loop)
{
	struct wr_run *r = s->r;
	struct rte_mbuf *c;
	uint64_t since = 0;

	if (!r->unique_ip || loop == 0 || !p->dir.is_flow) {
		if (r->preload)
			pkt_ref(p->m);
		return p->m;
	}
	if (r->preload) {
		while ((c = rte_pktmbuf_copy(p->m, p->len > WR_LARGE_DATA ?
				r->jpool : r->pool, 0, UINT32_MAX)) == NULL)
			if (pool_dry(s, &since))
				return NULL;
	} else {
		c = p->m;
	}
	wl_rewrite_client(rte_pktmbuf_mtod(c, uint8_t *), c->data_len,
		&p->dir, (uint32_t)loop);
	return c;
}

/* Schedule p, wait for its time, gather it. @return 0, or 1 to stop. */
static int
send_one(struct wr_send *s, const struct wr_pkt *p, uint64_t loop)
{
	struct wr_run *r = s->r;
	struct wr_tx *t;
	struct rte_mbuf *m;
	uint64_t t_ns, due;
	uint32_t seg;

	if (r->limit_pkts != 0 && r->packets >= r->limit_pkts)
		return 1;
	/* Files and loops are segments of original timing (docs/replay.md). */
	seg = (uint32_t)(loop * r->n_files + p->file);
	t_ns = wl_pace_next(&s->pace, p->len, p->ts_ns, seg);
	if (r->limit_ns != 0 && t_ns > r->limit_ns)
		return 1;
	due = r->start_tsc + r->slip_tsc + ns_ticks(s, t_ns);
	if (due > s->now && (s->now = rte_rdtsc()) < due) {
		flush_all(s);
		while ((s->now = rte_rdtsc()) < due)
			if (unlikely(r->stop))
				return 1;
	} else if (s->max_late != 0 && s->now - due > s->max_late) {
		/* Late past --max-late (the lcore was off its CPU): the
		 * rest of the schedule moves later, rather than what is
		 * due going out in one burst at top speed. */
		r->slips++;
		r->slip_tsc += s->now - due;
		due = s->now;
	}
	if (unlikely(r->stop))
		return 1;
	m = take(s, p, loop);
	if (m == NULL)
		return 1;
	t = &s->tx[p->port];
	t->m[t->n] = m;
	t->due[t->n] = due;
	t->idx[t->n] = r->packets;
	t->n++;
	if (r->sched != NULL) {
		r->sched[r->packets].due_ns = t_ns;
		r->sched[r->packets].len = p->len;
		r->sched[r->packets].port = p->port;
	}
	r->packets++;
	r->bytes += p->len;
	r->bits_l1 += wl_pace_l1_bits(p->len);
	r->last_len = p->len;
	r->last_due_ns = t_ns;
	r->port[p->port].packets++;
	r->port[p->port].bytes += p->len;
	if (t->n == WR_BURST)
		flush(s, p->port);
	return 0;
}

/* Streaming: read the next packet of a file into a fresh mbuf. */
static int
stream_next(struct wr_send *s, uint16_t fi, struct wr_pkt *p)
{
	struct wr_run *r = s->r;
	struct wl_source_pkt sp;
	uint64_t since = 0;
	int ret;

	ret = wl_source_next(r->files[fi].src, &sp);
	if (ret <= 0)
		return ret;
	while (wr_pkt_load(r, p, &sp, fi, sp.caplen > WR_LARGE_DATA ?
			r->jpool : r->pool) != 0)
		if (pool_dry(s, &since))
			return 0;
	return 1;
}

static int
run_stream(struct wr_send *s, uint64_t loop)
{
	struct wr_run *r = s->r;
	struct wr_pkt p;
	uint16_t fi;
	int ret;

	for (fi = 0; fi < r->n_files; fi++) {
		wl_source_rewind(r->files[fi].src);
		while ((ret = stream_next(s, fi, &p)) == 1) {
			if (send_one(s, &p, loop) != 0) {
				rte_pktmbuf_free(p.m);
				return 1;
			}
		}
		if (ret < 0) {
			snprintf(r->error, sizeof(r->error), "%s",
				wl_source_error(r->files[fi].src));
			return 1;
		}
		if (r->stop)
			return 1;
	}
	return 0;
}

/*
 * The baseline of scripts/bench-replay: preloaded packets handed to the
 * port 32 at a time, no schedule, no per-packet bookkeeping. What top
 * speed costs on top of it is the price of the schedule and the report.
 */
static void
run_bare(struct wr_run *r)
{
	struct rte_mbuf *b[WR_BURST];
	uint64_t loop, i, n;
	uint16_t k, done;

	r->first_tsc = rte_rdtsc();
	for (loop = 0; !r->stop && (r->loops == 0 || loop < r->loops);
			loop++) {
		for (i = 0; i < r->n_pkts && !r->stop; i += n) {
			n = RTE_MIN((uint64_t)WR_BURST, r->n_pkts - i);
			for (k = 0; k < n; k++) {
				if (i + k + WR_PREFETCH < r->n_pkts)
					rte_prefetch0(
						r->pkts[i + k + WR_PREFETCH].m);
				b[k] = r->pkts[i + k].m;
				pkt_ref(b[k]);
				r->bytes += r->pkts[i + k].len;
				r->bits_l1 += wl_pace_l1_bits(r->pkts[i + k].len);
			}
			for (done = 0; done < n && !r->stop; done += k)
				k = rte_eth_tx_burst(r->port_ids[0], 0,
					b + done, (uint16_t)(n - done));
			r->packets += n;
		}
		r->loops_done++;
		__atomic_store_n(&r->prog.packets, r->packets,
			__ATOMIC_RELAXED);
	}
	r->last_tsc = rte_rdtsc();
	r->last_len = 0;
}

int
wr_send_main(void *arg)
{
	struct wr_run *r = arg;
	struct wr_send s;
	uint64_t loop, i;
	int stop = 0;

	memset(&s, 0, sizeof(s));
	s.r = r;
	s.timed = r->pace.mode != WL_PACE_TOPSPEED;
	s.ns_mult = (NS << 32) / r->hz;
	s.tk_int = r->hz / NS;
	s.tk_frac = (uint64_t)(((unsigned __int128)(r->hz % NS) << 64) / NS);
	wl_pace_init(&s.pace, &r->pace, r->loop_gap_ns);
	s.max_late = r->max_late_ns == 0 ? 0 :
		RTE_MAX(1u, ns_ticks(&s, r->max_late_ns));
	wl_hist_init(&r->err);
	if (r->bench_bare) {
		run_bare(r);
		__atomic_store_n(&r->prog.done, 1, __ATOMIC_RELEASE);
		return 0;
	}
	/* Time 0 a little ahead, so the first packet is not late already. */
	r->start_tsc = rte_rdtsc() + r->hz / 1000;
	for (loop = 0; !stop && (r->loops == 0 || loop < r->loops); loop++) {
		__atomic_store_n(&r->prog.loop, loop, __ATOMIC_RELAXED);
		if (r->preload) {
			for (i = 0; i < r->n_pkts && !stop; i++) {
				/* The mbuf header (refcnt) is a cache miss
				 * per packet on a large file: ask early. */
				if (i + WR_PREFETCH < r->n_pkts)
					rte_prefetch0(r->pkts[i + WR_PREFETCH].m);
				stop = send_one(&s, &r->pkts[i], loop);
			}
		} else {
			stop = run_stream(&s, loop);
		}
		if (!stop)
			r->loops_done++;
	}
	flush_all(&s);
	__atomic_store_n(&r->prog.done, 1, __ATOMIC_RELEASE);
	return r->error[0] != '\0' ? -EIO : 0;
}
