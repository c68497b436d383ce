/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Unanswered SYNs in the connection log, one line per server and second
 * (output.syn_unanswered "per_second", docs/output.md): a SYN flood's
 * every SYN would otherwise be a connection line of its own (a 116 MB
 * flood capture made a 722 MB log). The collector folds each record of
 * a connection that was SYNs alone (wl_flow_conn_syn_only) into the
 * count of its (server address, port, VLAN, second of its first SYN).
 *
 * When a line is written: records come when their flows leave a parser's
 * table (evicted, timed out, at the end of input), not in SYN order, so
 * a second is never known to be complete. An entry is written once no
 * record has joined it for WL_SYN_QUIET_NS of the collector's clock: the
 * latest left_ns of the connection records it has read (the packet clock
 * of their parsers when they sent them, so ring lag does not matter),
 * and live also the wall clock. The entries are swept when that clock
 * enters a new second. A flood's SYNs of one second are evicted within
 * about that second and so make one line; SYNs of a second that leave
 * later (their timeout, after flow.tcp_syn_ms) make another for the same
 * second: the counts of the lines of a key add up, never overlap.
 *
 * Bounded: WL_SYN_LOG_MAX entries in an open-addressing table of twice
 * as many slots, allocated at start-up. A record of a new key finding it
 * full writes every entry out at once (counted as early lines, nothing
 * lost) and starts again; a sweep rebuilds the table from the survivors.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash_crc.h>

#include "wirelat.h"

#define WL_SYN_LOG_MAX 4096
#define WL_SYN_LOG_SLOTS (2 * WL_SYN_LOG_MAX)   /* power of two */
#define WL_SYN_QUIET_NS WL_NS_PER_S

/* 32 bytes, hashed whole: no padding left unset. */
struct syn_key {
	struct wl_addr srv;
	uint16_t port;
	uint16_t vlan;
	uint32_t rsvd;
	uint64_t second;        /* of the first SYN, since the epoch */
};

struct wl_syn_ent {
	struct syn_key k;
	uint64_t count;
	uint64_t syn_retrans;
	uint64_t evicted;
	uint64_t first_ns;      /* earliest first SYN */
	uint64_t last_ns;       /* latest SYN */
	uint64_t touched_ns;    /* the clock when a record last joined */
	uint8_t used;
};

_Static_assert(sizeof(struct syn_key) == 32, "syn_key is hashed whole");

int
wl_syn_log_init(struct wl_syn_log *s)
{
	memset(s, 0, sizeof(*s));
	s->slot = calloc(WL_SYN_LOG_SLOTS, sizeof(*s->slot));
	s->spare = calloc(WL_SYN_LOG_SLOTS, sizeof(*s->spare));
	if (s->slot == NULL || s->spare == NULL) {
		wl_syn_log_free(s);
		return -ENOMEM;
	}
	s->on = 1;
	return 0;
}

void
wl_syn_log_free(struct wl_syn_log *s)
{
	free(s->slot);
	free(s->spare);
	s->slot = s->spare = NULL;
	s->on = 0;
}

/* The slot of k in tab: its entry, or the free slot where it goes. */
static struct wl_syn_ent *
slot_of(struct wl_syn_ent *tab, const struct syn_key *k)
{
	uint32_t i = rte_hash_crc(k, sizeof(*k), 0) & (WL_SYN_LOG_SLOTS - 1);

	/* Never full: at most half the slots are used. */
	while (tab[i].used && memcmp(&tab[i].k, k, sizeof(*k)) != 0)
		i = (i + 1) & (WL_SYN_LOG_SLOTS - 1);
	return &tab[i];
}

static void
write_line(struct wl_app *app, const struct wl_syn_ent *e)
{
	struct wl_jw *w = wl_out_begin(app->syn_log.out);
	char srv[64];

	/* Counted as a line even when the output has failed, as before. */
	app->syn_log.lines++;
	if (w == NULL)
		return;
	wl_addr_format(&e->k.srv, srv, sizeof(srv));
	wl_jw_obj_open(w, NULL);
	wl_jw_str(w, "type", "syn_unanswered");
	wl_jw_str(w, "server_ip", srv);
	wl_jw_i64(w, "server_port", (int)e->k.port);
	wl_jw_i64(w, "vlan", (int)e->k.vlan);
	wl_jw_i64(w, "second", (int64_t)e->k.second);
	wl_jw_i64(w, "count", (int64_t)e->count);
	wl_jw_i64(w, "syn_retrans", (int64_t)e->syn_retrans);
	wl_jw_i64(w, "evicted", (int64_t)e->evicted);
	wl_jw_i64(w, "first_ns", (int64_t)e->first_ns);
	wl_jw_i64(w, "last_ns", (int64_t)e->last_ns);
	wl_jw_obj_close(w);
	wl_out_end(app->syn_log.out);
}

/* Write every entry; early: before its second went quiet. */
static void
write_all(struct wl_app *app, int early)
{
	struct wl_syn_log *s = &app->syn_log;
	uint32_t i;

	for (i = 0; i < WL_SYN_LOG_SLOTS && s->n > 0; i++) {
		if (!s->slot[i].used)
			continue;
		write_line(app, &s->slot[i]);
		s->slot[i].used = 0;
		s->n--;
		s->early += early != 0;
	}
}

/* Write the entries quiet for WL_SYN_QUIET_NS; keep the others. */
static void
sweep(struct wl_app *app)
{
	struct wl_syn_log *s = &app->syn_log;
	struct wl_syn_ent *tab = s->spare;
	uint32_t i, n = 0;

	for (i = 0; i < WL_SYN_LOG_SLOTS; i++) {
		struct wl_syn_ent *e = &s->slot[i];

		if (!e->used)
			continue;
		if (s->clock_ns - e->touched_ns >= WL_SYN_QUIET_NS) {
			write_line(app, e);
		} else {
			*slot_of(tab, &e->k) = *e;
			n++;
		}
		e->used = 0;
	}
	s->spare = s->slot;
	s->slot = tab;
	s->n = n;
}

void
wl_syn_log_tick(struct wl_app *app, uint64_t now_ns)
{
	struct wl_syn_log *s = &app->syn_log;

	if (now_ns > s->clock_ns)
		s->clock_ns = now_ns;
	if (s->clock_ns / WL_NS_PER_S == s->swept_s)
		return;
	s->swept_s = s->clock_ns / WL_NS_PER_S;
	if (s->n > 0)
		sweep(app);
}

int
wl_syn_log_add(struct wl_app *app, const struct wl_txn *t)
{
	const struct wl_conn *c = wl_txn_area_c(t);
	struct wl_syn_log *s = &app->syn_log;
	struct wl_syn_ent *e;
	struct syn_key k;

	if (!s->on || !wl_flow_conn_syn_only(c))
		return 0;
	wl_syn_log_tick(app, c->left_ns);
	memset(&k, 0, sizeof(k));
	k.srv = t->srv;
	k.port = t->srv_port;
	k.vlan = t->vlan;
	k.second = t->req_start_ns / WL_NS_PER_S;
	e = slot_of(s->slot, &k);
	if (!e->used && s->n >= WL_SYN_LOG_MAX) {
		write_all(app, 1);
		e = slot_of(s->slot, &k);
	}
	if (!e->used) {
		memset(e, 0, sizeof(*e));
		e->k = k;
		e->used = 1;
		e->first_ns = t->req_start_ns;
		s->n++;
	}
	e->count++;
	e->syn_retrans += c->syn_retrans;
	e->evicted += c->end == WL_CONN_END_EVICTED;
	if (t->req_start_ns < e->first_ns)
		e->first_ns = t->req_start_ns;
	if (t->rsp_end_ns > e->last_ns)
		e->last_ns = t->rsp_end_ns;
	e->touched_ns = s->clock_ns;
	s->syns++;
	return 1;
}

void
wl_syn_log_flush(struct wl_app *app)
{
	if (app->syn_log.on)
		write_all(app, 0);
}
