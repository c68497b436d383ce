/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The collector, on the main lcore: drains every parser's transaction
 * ring, merges each transaction into its histogram series in shared
 * memory, writes the JSON log, and periodically publishes every counter
 * (per lcore, per port, per protocol, and their totals) to the segment.
 * It is the only writer of the segment. It stops when every parser has
 * finished and its ring is empty, so nothing a parser emitted is lost.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_ring_elem.h>

#include "wirelat.h"
#include "wl_export.h"
#include "wl_log.h"

#define DRAIN_BURST 64
/* Empty polls before the collector sleeps collector.idle_sleep_us. */
#define WL_COLLECTOR_IDLE_POLLS 256
#define MAX_COUNTERS 4096

struct counter_dir {
	unsigned int n;
	char names[MAX_COUNTERS][WL_SHM_COUNTER_NAME];
	uint64_t values[MAX_COUNTERS];
};

static struct counter_dir cdir;
static uint64_t txn_received;
static uint64_t status_prev_pkts;
static uint64_t status_prev_txns;
static uint64_t status_prev_tsc;

static const char *const lc_names[] = {
#define _(e, n) [WL_LC_ ## e] = n,
	foreach_wl_lcore_ctr
#undef _
};

static const char *const pkt_err_names[] = {
#define _(e, n) [WL_PKT_ERR_ ## e] = n,
	foreach_wl_pkt_err
#undef _
};

static const char *const proto_ctr_names[] = {
#define _(e, n) [WL_PROTO_CTR_ ## e] = n,
	foreach_wl_proto_ctr
#undef _
};

/* ---- counters ---- */

static void
cdir_add(const char *prefix, const char *name, uint64_t v)
{
	unsigned int i = cdir.n;

	if (i >= MAX_COUNTERS)
		return;
	/* Names are built from short fixed tables: never truncated. */
	if (prefix != NULL)
		snprintf(cdir.names[i], sizeof(cdir.names[i]), "%.15s.%.38s",
			prefix, name);
	else
		wl_strlcpy(cdir.names[i], name, sizeof(cdir.names[i]));
	cdir.values[i] = v;
	cdir.n++;
}

/*
 * The one drop figure (metrics.md, "Drops"): every place a packet, a
 * flow's state or a transaction is lost, added up.
 */
#define foreach_wl_drop \
	_(NIC, "nic")           /* imissed + ierrors + rx_nombuf */ \
	_(KERNEL, "kernel")     /* AF_PACKET ring full, unread at exit */ \
	_(RING, "ring")         /* RX -> parser ring full */ \
	_(FLOWS, "flows")       /* open flow evicted, L7 state pool empty */ \
	_(TXNS, "txns")         /* parser -> collector ring full, pending
				 * requests past pending_max */

enum wl_drop {
#define _(e, n) WL_DROP_ ## e,
	foreach_wl_drop
#undef _
	WL_DROP_MAX
};

static const char *const drop_names[] = {
#define _(e, n) [WL_DROP_ ## e] = n,
	foreach_wl_drop
#undef _
};

struct wl_drops {
	uint64_t d[WL_DROP_MAX];
	uint64_t packets;       /* nic + kernel + ring */
	uint64_t total;
};

/* AF_PACKET frames the kernel counted that were neither read nor
 * dropped: only meaningful once RX has stopped (finish). */
static int rx_stopped;

static void
drops_get(const struct wl_app *app, struct wl_drops *dr)
{
	unsigned int i, k;

	memset(dr, 0, sizeof(*dr));
	for (i = 0; i < app->n_lcores; i++) {
		const struct wl_lcore_stats *st = app->lc[app->lcore_ids[i]]->st;

		dr->d[WL_DROP_RING] += st->c[WL_LC_PARSER_RING_FULL];
		dr->d[WL_DROP_TXNS] += st->c[WL_LC_TXN_RING_FULL];
		/* A closed flow evicted while it lingered lost nothing. */
		dr->d[WL_DROP_FLOWS] +=
			st->flow.c[WL_FLOW_CTR_EVICTED_UNPROVEN] +
			st->flow.c[WL_FLOW_CTR_EVICTED_ESTABLISHED] +
			st->flow.c[WL_FLOW_CTR_L7_STATE_FULL] +
			st->flow.c[WL_FLOW_CTR_PROBING_FULL] +
			st->flow.c[WL_FLOW_CTR_HASH_FULL] +
			st->flow.c[WL_FLOW_CTR_V6_FULL];
		for (k = 0; k < WL_PROTO_MAX; k++)
			dr->d[WL_DROP_TXNS] += st->proto[k * WL_PROTO_CTR_MAX +
				WL_PROTO_CTR_PENDING_OVERFLOW];
	}
	for (i = 0; i < app->n_ports; i++) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(app->ports[i].port_id, &es) == 0)
			dr->d[WL_DROP_NIC] += es.imissed + es.ierrors +
				es.rx_nombuf;
	}
	for (i = 0; i < app->n_ifaces; i++) {
		struct wl_afp_stats as;
		uint64_t read;

		wl_afp_stats_get(app->ifaces[i], &as);
		dr->d[WL_DROP_KERNEL] += as.kernel_drops;
		read = as.packets + as.outgoing_skipped;
		if (rx_stopped && as.kernel_packets > as.kernel_drops + read)
			dr->d[WL_DROP_KERNEL] += as.kernel_packets -
				as.kernel_drops - read;
	}
	dr->packets = dr->d[WL_DROP_NIC] + dr->d[WL_DROP_KERNEL] +
		dr->d[WL_DROP_RING];
	for (k = 0; k < WL_DROP_MAX; k++)
		dr->total += dr->d[k];
}

/*
 * Every per-lcore counter is published per lcore ("lcore1.packets") and
 * as a total ("packets"); the totals come first.
 */
static void
collect_counters(struct wl_app *app)
{
	uint64_t tot_lc[WL_LC_MAX] = {0}, tot_err[WL_PKT_ERR_MAX] = {0};
	uint64_t tot_flow[WL_FLOW_CTR_MAX] = {0}, wait_max = 0;
	static uint64_t tot_proto[WL_PROTO_MAX * WL_PROTO_CTR_MAX];
	char pfx[32], name[WL_SHM_COUNTER_NAME];
	struct wl_drops dr;
	unsigned int i, j, k;

	memset(tot_proto, 0, sizeof(tot_proto));
	cdir.n = 0;
	for (i = 0; i < app->n_lcores; i++) {
		const struct wl_lcore_stats *st = app->lc[app->lcore_ids[i]]->st;

		for (j = 0; j < WL_LC_MAX; j++)
			tot_lc[j] += st->c[j];
		wait_max = RTE_MAX(wait_max, st->c[WL_LC_RX_WAIT_MAX_NS]);
		for (j = 1; j < WL_PKT_ERR_MAX; j++)
			tot_err[j] += st->pkt_err[j];
		for (j = 0; j < WL_FLOW_CTR_MAX; j++)
			tot_flow[j] += st->flow.c[j];
		for (j = 0; j < WL_PROTO_MAX * WL_PROTO_CTR_MAX; j++)
			tot_proto[j] += st->proto[j];
	}
	/* A bound, not an amount: the total is the largest. */
	tot_lc[WL_LC_RX_WAIT_MAX_NS] = wait_max;
	for (j = 0; j < WL_LC_MAX; j++)
		cdir_add(NULL, lc_names[j], tot_lc[j]);
	for (j = 1; j < WL_PKT_ERR_MAX; j++) {
		snprintf(name, sizeof(name), "pkt_%s", pkt_err_names[j]);
		cdir_add(NULL, name, tot_err[j]);
	}
	for (j = 0; j < WL_FLOW_CTR_MAX; j++)
		cdir_add(NULL, wl_flow_ctr_names[j], tot_flow[j]);
	for (k = 0; k < WL_PROTO_MAX; k++)
		for (j = 0; j < WL_PROTO_CTR_MAX; j++) {
			snprintf(name, sizeof(name), "%s_%s", wl_proto_name(k),
				proto_ctr_names[j]);
			cdir_add(NULL, name,
				tot_proto[k * WL_PROTO_CTR_MAX + j]);
		}
	drops_get(app, &dr);
	cdir_add(NULL, "drops", dr.total);
	cdir_add(NULL, "drops_packets", dr.packets);
	for (j = 0; j < WL_DROP_MAX; j++) {
		snprintf(name, sizeof(name), "drops_%s", drop_names[j]);
		cdir_add(NULL, name, dr.d[j]);
	}
	cdir_add(NULL, "txn_received", txn_received);
	cdir_add(NULL, "txn_logged", app->log.written + app->log.pending);
	cdir_add(NULL, "txn_log_dropped", app->log.dropped);
	cdir_add(NULL, "txn_log_syn_folded", app->txn_log_syn_folded);
	cdir_add(NULL, "conn_log_dropped", app->conn_log.dropped);
	cdir_add(NULL, "output_errors", (app->log.failed != 0) +
		(app->conn_log.failed != 0));
	cdir_add(NULL, "conn_requests_dropped", app->conn_requests_dropped);
	cdir_add(NULL, "conn_syn_unanswered", app->syn_log.syns);
	cdir_add(NULL, "conn_syn_lines", app->syn_log.lines);
	cdir_add(NULL, "conn_syn_early", app->syn_log.early);
	cdir_add(NULL, "txn_no_response", app->no_response);
	cdir_add(NULL, "txn_unproven", app->unproven);
	cdir_add(NULL, "series_full", app->series_full);
	cdir_add(NULL, "tsc_hz", rte_get_tsc_hz());
	cdir_add(NULL, "connections", app->conns);
	for (i = 0; i < app->n_sources; i++) {
		struct wl_source_stats ss;

		wl_source_stats_get(app->sources[i], &ss);
		snprintf(pfx, sizeof(pfx), "source%u", i);
		cdir_add(pfx, "packets", ss.packets);
		cdir_add(pfx, "bytes", ss.bytes);
		cdir_add(pfx, "oversize", ss.oversize);
		cdir_add(pfx, "chunk_waits", ss.chunk_waits);
		cdir_add(pfx, "unsupported_link", ss.unsupported_link);
	}
	for (i = 0; i < app->n_ports; i++) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(app->ports[i].port_id, &es) != 0)
			continue;
		snprintf(pfx, sizeof(pfx), "port%u", app->ports[i].port_id);
		cdir_add(pfx, "ipackets", es.ipackets);
		cdir_add(pfx, "ibytes", es.ibytes);
		cdir_add(pfx, "imissed", es.imissed);
		cdir_add(pfx, "ierrors", es.ierrors);
		cdir_add(pfx, "rx_nombuf", es.rx_nombuf);
	}
	for (i = 0; i < app->n_ifaces; i++) {
		struct wl_afp_stats as;
		const uint64_t *v = (const uint64_t *)&as;

		wl_afp_stats_get(app->ifaces[i], &as);
		snprintf(pfx, sizeof(pfx), "iface%u", i);
		for (j = 0; j < sizeof(as) / sizeof(*v); j++)
			cdir_add(pfx, wl_afp_counter_names[j], v[j]);
	}
	for (i = 0; i < app->n_lcores; i++) {
		const struct wl_lcore_stats *st = app->lc[app->lcore_ids[i]]->st;

		snprintf(pfx, sizeof(pfx), "lcore%u", app->lcore_ids[i]);
		for (j = 0; j < WL_LC_MAX; j++)
			cdir_add(pfx, lc_names[j], st->c[j]);
		for (j = 0; j < WL_FLOW_CTR_MAX; j++)
			cdir_add(pfx, wl_flow_ctr_names[j], st->flow.c[j]);
	}
}

/* Observed time span: packet time offline, wall time live. */
static void
time_span(struct wl_app *app, uint64_t *first, uint64_t *last)
{
	unsigned int i;

	*first = 0;
	*last = 0;
	for (i = 0; i < app->n_lcores; i++) {
		const struct wl_lcore_stats *st = app->lc[app->lcore_ids[i]]->st;

		if (st->first_ts != 0 && (*first == 0 || st->first_ts < *first))
			*first = st->first_ts;
		if (st->last_ts > *last)
			*last = st->last_ts;
	}
}

/* Inputs and their timestamp source. Republished with the counters:
 * a pcapng file's link type is known only once its first IDB is read. */
static void
publish_inputs(struct wl_app *app)
{
	struct wl_shm_input in[WL_MAX_SOURCES + 2 * WL_MAX_PORTS];
	unsigned int i, n = 0;

	memset(in, 0, sizeof(in));
	for (i = 0; i < app->n_sources; i++, n++) {
		wl_strlcpy(in[n].name, app->source_names[i], sizeof(in[n].name));
		wl_strlcpy(in[n].ts_source, wl_ts_source_name(WL_TS_PCAP),
			sizeof(in[n].ts_source));
		wl_strlcpy(in[n].link, wl_link_name(wl_source_link(app->sources[i])),
			sizeof(in[n].link));
	}
	for (i = 0; i < app->n_ifaces; i++, n++) {
		snprintf(in[n].name, sizeof(in[n].name), "%.60s (af_packet)",
			wl_afp_name(app->ifaces[i]));
		wl_strlcpy(in[n].ts_source,
			wl_ts_source_name(wl_afp_ts_source(app->ifaces[i])),
			sizeof(in[n].ts_source));
		wl_strlcpy(in[n].link,
			wl_link_name(wl_afp_link_type(app->ifaces[i])),
			sizeof(in[n].link));
	}
	for (i = 0; i < app->n_ports; i++, n++) {
		snprintf(in[n].name, sizeof(in[n].name), "%.60s (%.60s)",
			app->ports[i].name, app->ports[i].driver);
		wl_strlcpy(in[n].ts_source,
			wl_ts_source_name(app->ports[i].ts_source),
			sizeof(in[n].ts_source));
		wl_strlcpy(in[n].link, wl_link_name(app->ports[i].link),
			sizeof(in[n].link));
	}
	wl_shm_set_inputs(app->shm, in, n);
}

static void
publish(struct wl_app *app)
{
	uint64_t first, last;
	unsigned int i;

	for (i = 0; i < app->n_ports; i++)
		wl_port_calibrate(&app->ports[i]);
	collect_counters(app);
	wl_shm_counters_publish(app->shm, cdir.names, cdir.values, cdir.n);
	time_span(app, &first, &last);
	wl_shm_set_span(app->shm, first, last);
	publish_inputs(app);
}

/* ---- transactions ---- */

/*
 * series_key()'s answers, direct-mapped: every value of every transaction
 * needs its series, a run repeats a few hundred keys, and building and
 * finding a shared-memory key (96 bytes) costs far more than this. The
 * method is cut as the key cuts it, so equal keys are equal here.
 */
#define SERIES_CACHE 1024

struct series_ckey {
	const char *metric;             /* static strings: by address */
	const char *proto;
	struct wl_addr server;
	uint16_t server_port;
	uint8_t status_class;
	uint8_t rsvd[5];
	char method[RTE_SIZEOF_FIELD(struct wl_shm_key, method)];
};

struct series_cent {
	struct series_ckey k;
	int32_t idx;                    /* -1: empty */
};

static struct series_cent series_cache[SERIES_CACHE];

static void
series_cache_clear(void)
{
	unsigned int i;

	for (i = 0; i < SERIES_CACHE; i++)
		series_cache[i].idx = -1;
}

static uint32_t
series_ckey_hash(const struct series_ckey *k)
{
	RTE_BUILD_BUG_ON(sizeof(*k) % sizeof(uint64_t) != 0);
	return (uint32_t)(wl_hash_words(k, sizeof(*k)) >> 40) % SERIES_CACHE;
}

/* The series of metric for t's server, with this method and class. */
static int
series_key(struct wl_app *app, const struct wl_txn *t, const char *metric,
	const char *proto, const char *method, unsigned int status_class)
{
	struct series_ckey ck;
	struct series_cent *e;
	struct wl_shm_key k;
	int idx;

	memset(&ck, 0, sizeof(ck));
	ck.metric = metric;
	ck.proto = proto;
	ck.server = t->srv;
	ck.server_port = t->srv_port;
	ck.status_class = (uint8_t)status_class;
	wl_strlcpy(ck.method, method, sizeof(ck.method));
	e = &series_cache[series_ckey_hash(&ck)];
	if (e->idx >= 0 && memcmp(&e->k, &ck, sizeof(ck)) == 0)
		return e->idx;

	memset(&k, 0, sizeof(k));
	wl_strlcpy(k.metric, metric, sizeof(k.metric));
	wl_strlcpy(k.proto, proto, sizeof(k.proto));
	k.server = t->srv;
	k.server_port = t->srv_port;
	memcpy(k.method, ck.method, sizeof(k.method));
	k.status_class = (uint8_t)status_class;
	idx = wl_shm_series_find(app->shm, &k);
	if (idx < 0) {
		app->series_full++;
		return idx;
	}
	e->k = ck;
	e->idx = idx;
	return idx;
}

/* Every family a series may belong to, in the segment before any series:
 * readers (wirelat-export) name and convert series by them. */
static int
declare_metrics(struct wl_app *app)
{
	const struct wl_metric_def *d;
	unsigned int p;
	int ret;

	for (p = 0; p <= WL_PROTO_MAX; p++) {
		d = p < WL_PROTO_MAX ? wl_proto_metrics(p) : wl_flow_conn_metrics;
		for (; d->name != NULL; d++) {
			ret = wl_shm_metric_add(app->shm, d);
			if (ret != 0) {
				wl_err("shm: metric \"%s\": %s", d->name,
					strerror(-ret));
				return ret;
			}
		}
	}
	return 0;
}

/* Record what a transaction gives its families' series. */
static void
series_record(struct wl_app *app, const struct wl_txn *t, const char *proto,
	const struct wl_metric_val *v, unsigned int n)
{
	unsigned int i;
	int idx;

	for (i = 0; i < n; i++) {
		idx = series_key(app, t, v[i].def->name, proto, v[i].method,
			v[i].status_class);
		if (idx >= 0)
			wl_shm_series_record(app->shm, idx, v[i].v);
	}
}

/*
 * Requests of connections still open, for their connection record: the
 * parser emits a connection's transactions before its record on the same
 * ring, so they are gathered here by flow id (only with --connections),
 * already rendered: the record copies the text into its "requests".
 * Chained hash on the flow id, grown when it holds more entries than
 * buckets; an entry's text grows by doubling and is bounded by
 * output.connection_requests.
 */
struct open_reqs {
	struct open_reqs *next;
	uint64_t flow_id;
	uint32_t n;             /* requests in txt */
	size_t len, cap;
	char *txt;              /* {...},{...}: the array's items */
};

static struct open_reqs **reqs_tab;
static uint32_t reqs_mask;
static uint32_t reqs_count;

static uint32_t
reqs_bucket(uint64_t flow_id, uint32_t mask)
{
	return (uint32_t)((flow_id * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

static int
reqs_init(uint32_t buckets)
{
	reqs_tab = calloc(buckets, sizeof(*reqs_tab));
	if (reqs_tab == NULL)
		return -ENOMEM;
	reqs_mask = buckets - 1;
	reqs_count = 0;
	return 0;
}

static void
reqs_free_all(void)
{
	struct open_reqs *r, *next;
	uint32_t i;

	for (i = 0; reqs_tab != NULL && i <= reqs_mask; i++)
		for (r = reqs_tab[i]; r != NULL; r = next) {
			next = r->next;
			free(r->txt);
			free(r);
		}
	free(reqs_tab);
	reqs_tab = NULL;
}

/* Twice the buckets; on ENOMEM the chains just get longer. */
static void
reqs_grow(void)
{
	uint32_t i, mask = reqs_mask * 2 + 1;
	struct open_reqs **tab, *r, *next;

	tab = calloc((size_t)mask + 1, sizeof(*tab));
	if (tab == NULL)
		return;
	for (i = 0; i <= reqs_mask; i++)
		for (r = reqs_tab[i]; r != NULL; r = next) {
			next = r->next;
			r->next = tab[reqs_bucket(r->flow_id, mask)];
			tab[reqs_bucket(r->flow_id, mask)] = r;
		}
	free(reqs_tab);
	reqs_tab = tab;
	reqs_mask = mask;
}

static struct open_reqs *
reqs_find(uint64_t flow_id)
{
	struct open_reqs *r = reqs_tab[reqs_bucket(flow_id, reqs_mask)];

	while (r != NULL && r->flow_id != flow_id)
		r = r->next;
	return r;
}

static struct open_reqs *
reqs_add(uint64_t flow_id)
{
	struct open_reqs *r = calloc(1, sizeof(*r));
	uint32_t b;

	if (r == NULL)
		return NULL;
	if (reqs_count > reqs_mask)
		reqs_grow();
	b = reqs_bucket(flow_id, reqs_mask);
	r->flow_id = flow_id;
	r->next = reqs_tab[b];
	reqs_tab[b] = r;
	reqs_count++;
	return r;
}

static void
reqs_del(struct open_reqs *d)
{
	struct open_reqs **p = &reqs_tab[reqs_bucket(d->flow_id, reqs_mask)];

	while (*p != d)
		p = &(*p)->next;
	*p = d->next;
	reqs_count--;
	free(d->txt);
	free(d);
}

/* Append n bytes, a comma first after the first request. */
static int
reqs_append(struct open_reqs *r, const char *p, size_t n)
{
	size_t need = r->len + n + 1, cap;
	char *txt;

	if (need > r->cap) {
		cap = WL_MAX(r->cap * 2, WL_MAX(need, (size_t)1024));
		txt = realloc(r->txt, cap);
		if (txt == NULL)
			return -ENOMEM;
		r->txt = txt;
		r->cap = cap;
	}
	if (r->n > 0)
		r->txt[r->len++] = ',';
	memcpy(r->txt + r->len, p, n);
	r->len += n;
	r->n++;
	return 0;
}

/* One request of a connection: when its answer's first and last bytes
 * came after the request ended, how big it was, how fast it came. */
static void
conn_request(struct wl_app *app, const struct wl_txn *t)
{
	char buf[1024];
	struct open_reqs *r;
	struct wl_jw w;

	r = reqs_find(t->flow_id);
	if (r == NULL) {
		r = reqs_add(t->flow_id);
		if (r == NULL)
			return;
	}
	if (r->n >= app->cfg.conn_requests_max) {
		app->conn_requests_dropped++;
		return;
	}
	/* What jansson refused (the record has been kept without it). */
	if (!wl_jw_utf8_ok(wl_txn_method(t), t->slen[WL_TXN_S_METHOD]) ||
			!wl_jw_utf8_ok(wl_txn_status(t),
			t->slen[WL_TXN_S_STATUS]))
		return;
	wl_jw_init(&w, buf, sizeof(buf), NULL, NULL);
	wl_jw_obj_open(&w, NULL);
	wl_jw_str(&w, "method", wl_txn_method(t));
	wl_jw_str(&w, "status", wl_txn_status(t));
	wl_jw_i64(&w, "start_ns", (int64_t)t->req_start_ns);
	wl_jw_i64(&w, "req_bytes", (int64_t)t->req_bytes);
	wl_jw_i64(&w, "rsp_bytes", (int64_t)t->rsp_bytes);
	if (t->flags & WL_TXN_F_NO_REQUEST)
		wl_jw_bool(&w, "no_request", 1);
	if (t->rsp_start_ns != 0) {
		/* Times across the pair only when it is proven; the
		 * response's own when its end is known. */
		if (wl_txn_paired(t))
			wl_jw_i64(&w, "ttfb_ns", (int64_t)wl_txn_ttfb(t));
		if (wl_txn_paired(t) && t->rsp_end_ns != 0)
			wl_jw_i64(&w, "ttlb_ns", (int64_t)
				(t->rsp_end_ns >= t->req_end_ns ?
				t->rsp_end_ns - t->req_end_ns : 0));
		if (t->rsp_end_ns != 0) {
			uint64_t xfer = t->rsp_end_ns - t->rsp_start_ns;

			wl_jw_i64(&w, "transfer_ns", (int64_t)xfer);
			if (xfer > 0)
				wl_jw_i64(&w, "rate_bps", (int64_t)
					((double)t->rsp_bytes * 8e9 /
					(double)xfer));
		}
		wl_jw_i64(&w, "stall_ns", (int64_t)t->rsp_stall_ns);
		wl_jw_i64(&w, "retrans", t->rsp_retrans);
		wl_jw_i64(&w, "ooo", t->rsp_ooo);
	} else {
		wl_jw_bool(&w, "no_response", 1);
	}
	wl_jw_obj_close(&w);
	if (w.err == 0)
		reqs_append(r, buf, w.len);
}

/*
 * A connection that ended: one JSON line in the connections log, or a
 * SYN never answered counted in its server's line for that second
 * (syn_log.c).
 */
static void
conn_record(struct wl_app *app, const struct wl_txn *t)
{
	struct open_reqs *reqs = NULL;
	struct wl_jw *w;

	struct wl_metric_val v[WL_METRIC_VALS_MAX];

	app->conns++;
	series_record(app, t, "tcp", v, wl_flow_conn_series(t, v));
	if (wl_out_on(&app->conn_log))
		reqs = reqs_find(t->flow_id);
	/* A protocol pinned to the port may have logged a request: such a
	 * connection keeps its own line. */
	if (reqs == NULL && wl_syn_log_add(app, t))
		return;
	wl_syn_log_tick(app, ((const struct wl_conn *)wl_txn_area_c(t))->
		left_ns);
	if (!wl_out_on(&app->conn_log))
		return;
	w = wl_out_begin(&app->conn_log);
	if (w != NULL) {
		wl_export_conn_write(t, w);
		wl_jw_arr_open(w, "requests");
		if (reqs != NULL)
			wl_jw_raw(w, reqs->txt, reqs->len);
		wl_jw_arr_close(w);
		wl_jw_obj_close(w);
		wl_out_end(&app->conn_log);
	}
	if (reqs != NULL)
		reqs_del(reqs);
}

/*
 * An unanswered handshake of a connection that was SYNs alone (a flood's):
 * its line in the transaction log is left out, the connection counted in
 * its server's syn_unanswered line (output.syn_unanswered per_second).
 */
static int
syn_folded(const struct wl_app *app, const struct wl_txn *t)
{
	return app->syn_log.on && (t->flags & WL_TXN_F_SYN_ONLY) != 0;
}

static void
txn_record(struct wl_app *app, const struct wl_txn *t)
{
	struct wl_metric_val v[WL_METRIC_VALS_MAX];
	enum wl_txn_verdict verdict;
	unsigned int n;

	if (t->kind == WL_TXN_KIND_CONN) {
		conn_record(app, t);
		return;
	}
	txn_received++;
	if (wl_out_on(&app->conn_log) && t->proto != WL_PROTO_TCP)
		conn_request(app, t);
	n = wl_proto_txn_series(t, v, &verdict);
	series_record(app, t, wl_proto_name(t->proto), v, n);
	if (verdict == WL_TXN_V_NO_RESPONSE)
		app->no_response++;
	else if (verdict == WL_TXN_V_UNPROVEN)
		app->unproven++;
	if (wl_out_on(&app->log) && syn_folded(app, t)) {
		app->txn_log_syn_folded++;
	} else if (wl_out_on(&app->log)) {
		struct wl_jw *w = wl_out_begin(&app->log);

		if (w != NULL) {
			wl_export_txn_write(t, w);
			wl_out_end(&app->log);
		}
	}
}

/*
 * Records are read where the parser wrote them (zero-copy dequeue), a
 * burst at a time: their slots go back to the parser once read.
 */
static unsigned int
drain(struct wl_app *app)
{
	struct rte_ring_zc_data zcd;
	unsigned int i, j, n, total = 0;

	for (i = 0; i < app->n_parsers; i++) {
		struct rte_ring *r = app->parsers[i]->txn_ring;

		n = rte_ring_dequeue_zc_burst_elem_start(r,
			sizeof(struct wl_txn), DRAIN_BURST, &zcd, NULL);
		for (j = 0; j < n; j++)
			txn_record(app, j < zcd.n1 ?
				(const struct wl_txn *)zcd.ptr1 + j :
				(const struct wl_txn *)zcd.ptr2 + (j - zcd.n1));
		if (n > 0)
			rte_ring_dequeue_zc_elem_finish(r, n);
		total += n;
	}
	return total;
}

static int
parsers_done(const struct wl_app *app)
{
	unsigned int i;

	for (i = 0; i < app->n_parsers; i++)
		if (!__atomic_load_n(&app->parsers[i]->parser_done,
				__ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

/* "1234 drops (kernel 1200, ring 34)": the figure and where it came from. */
static void
drops_text(const struct wl_drops *dr, char *buf, size_t len)
{
	size_t o;
	unsigned int k;
	const char *sep = " (";

	o = (size_t)snprintf(buf, len, "%" PRIu64 " drops", dr->total);
	for (k = 0; k < WL_DROP_MAX && o < len; k++) {
		if (dr->d[k] == 0)
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%s%s %" PRIu64, sep,
			drop_names[k], dr->d[k]);
		sep = ", ";
	}
	if (dr->total != 0 && o < len)
		snprintf(buf + o, len - o, ")");
}

/* Rates since the previous status line. */
static void
status_line(struct wl_app *app)
{
	uint64_t now = rte_rdtsc();
	double secs = (double)(now - status_prev_tsc) /
		(double)rte_get_tsc_hz();
	struct wl_drops dr;
	char dtext[160];
	uint64_t pkts = 0;
	unsigned int i;

	for (i = 0; i < app->n_lcores; i++)
		pkts += app->lc[app->lcore_ids[i]]->st->c[WL_LC_PACKETS];
	drops_get(app, &dr);
	drops_text(&dr, dtext, sizeof(dtext));
	fprintf(stderr, "wirelat: %.0f pps, %.0f txns/s, %" PRIu64
		" packets, %" PRIu64 " txns, %s\n",
		(double)(pkts - status_prev_pkts) / secs,
		(double)(txn_received - status_prev_txns) / secs, pkts,
		txn_received, dtext);
	status_prev_pkts = pkts;
	status_prev_txns = txn_received;
	status_prev_tsc = now;
}

/*
 * Once a second, live: a notice when drops start and when they stop (a
 * second without one), when a link goes down or up; an interface that
 * is gone ends the run with an error.
 */
static uint64_t watch_drops;
static uint64_t watch_drops_start;
static uint64_t watch_drops_start_total;
static int watch_dropping;
static uint8_t port_up[WL_MAX_PORTS];
static uint8_t iface_state[WL_MAX_PORTS];

static void
watch_links(struct wl_app *app, int first)
{
	unsigned int i;

	for (i = 0; i < app->n_ports; i++) {
		struct rte_eth_link l;
		uint8_t up;

		if (rte_eth_link_get_nowait(app->ports[i].port_id, &l) != 0)
			continue;
		up = l.link_status == RTE_ETH_LINK_UP;
		if (!first && up != port_up[i])
			wl_notice("port %s: link %s", app->ports[i].name,
				up ? "up" : "down");
		port_up[i] = up;
	}
	for (i = 0; i < app->n_ifaces; i++) {
		enum wl_afp_link st = wl_afp_poll(app->ifaces[i]);
		const char *name = wl_afp_name(app->ifaces[i]);

		if (st == WL_AFP_LINK_GONE) {
			wl_err("interface %s is gone: stopping", name);
			app->exit_code = 1;
			app->force_quit = 1;
		} else if ((!first || st != WL_AFP_LINK_UP) &&
				st != iface_state[i]) {
			wl_notice("interface %s: link %s", name,
				st == WL_AFP_LINK_UP ? "up" : "down");
		}
		iface_state[i] = (uint8_t)st;
	}
}

static void
watch_drops_tick(struct wl_app *app, uint64_t now_tsc)
{
	struct wl_drops dr;
	char dtext[160];
	uint64_t hz = rte_get_tsc_hz();

	drops_get(app, &dr);
	if (dr.total > watch_drops && !watch_dropping) {
		drops_text(&dr, dtext, sizeof(dtext));
		wl_notice("drops started: %s so far", dtext);
		watch_dropping = 1;
		watch_drops_start = now_tsc;
	} else if (dr.total == watch_drops && watch_dropping) {
		wl_notice("drops stopped: %" PRIu64 " in the last %.1f s, %"
			PRIu64 " in all", dr.total - watch_drops_start_total,
			(double)(now_tsc - watch_drops_start) / (double)hz,
			dr.total);
		watch_dropping = 0;
	}
	if (!watch_dropping)
		watch_drops_start_total = dr.total;
	watch_drops = dr.total;
}

/* ---- lifecycle ---- */

int
wl_collector_init(struct wl_app *app)
{
	char err[256];

	if (reqs_init(1024) != 0)
		return -ENOMEM;
	series_cache_clear();
	/* The lines go to the connection log, or without one to the
	 * transaction log, which then leaves out its per-SYN lines. */
	if ((wl_out_on(&app->conn_log) || wl_out_on(&app->log)) &&
			app->cfg.syn_log == WL_SYN_LOG_PER_SECOND) {
		if (wl_syn_log_init(&app->syn_log) != 0)
			return -ENOMEM;
		app->syn_log.out = wl_out_on(&app->conn_log) ? &app->conn_log :
			&app->log;
	}
	app->shm = wl_shm_create(app->cfg.instance, app->cfg.max_series,
		MAX_COUNTERS, app->cfg.shm_group, err, sizeof(err));
	if (app->shm == NULL) {
		wl_err("%s", err);
		return -EINVAL;
	}
	if (declare_metrics(app) != 0)
		return -EINVAL;
	publish(app);
	return 0;
}

int
wl_collector_run(struct wl_app *app)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t pub_every = hz / 1000 * app->cfg.publish_ms;
	uint64_t status_every = hz * app->cfg.status_interval_s;
	uint64_t now, last_pub = rte_rdtsc(), last_watch = last_pub;
	struct timespec idle = {
		.tv_nsec = (long)app->cfg.idle_sleep_us * 1000,
	};
	unsigned int n, empty = 0;

	status_prev_tsc = last_pub;
	if (!app->offline)
		watch_links(app, 1);

	for (;;) {
		int done = parsers_done(app);

		n = drain(app);
		now = rte_rdtsc();
		if (now - last_pub >= pub_every) {
			/* Live, the logs are written as they go (a tail
			 * sees them; a failure shows now, not at exit). */
			if (!app->offline) {
				/* Quiet seconds go out even when no
				 * record comes. */
				wl_syn_log_tick(app, wl_tsc_to_ns(&app->tsc,
					now));
				wl_out_flush(&app->log);
				wl_out_flush(&app->conn_log);
			}
			publish(app);
			last_pub = now;
		}
		if (!app->offline && now - last_watch >= hz) {
			watch_links(app, 0);
			watch_drops_tick(app, now);
			last_watch = now;
		}
		if (!app->offline && status_every != 0 &&
				now - status_prev_tsc >= status_every)
			status_line(app);
		if (done && n == 0)
			break;          /* rings were empty after parsers ended */
		if (n != 0) {
			empty = 0;
		} else if (++empty < WL_COLLECTOR_IDLE_POLLS ||
				idle.tv_nsec == 0) {
			rte_pause();
		} else {
			/* Nothing for a while: give the CPU back (on a small
			 * box it is shared with RX or a sender); the rings
			 * hold far more than a sleep's worth of records. */
			nanosleep(&idle, NULL);
		}
	}
	return 0;
}

int
wl_collector_finish(struct wl_app *app)
{
	int ret = 0;
	unsigned int i;

	while (drain(app) != 0)
		;
	wl_syn_log_flush(app);
	wl_syn_log_free(&app->syn_log);
	/* RX has stopped: the kernel's last counts, and what it kept
	 * that was never read is a drop too. */
	rx_stopped = 1;
	for (i = 0; i < app->n_ifaces; i++)
		(void)wl_afp_poll(app->ifaces[i]);
	if (!app->offline) {
		watch_drops_tick(app, rte_rdtsc());
		/* The run's last word: its final counts and drop figure. */
		status_line(app);
	}
	/* The logs first: what they wrote, or lost, is in the counters. */
	if (wl_out_close(&app->log) != 0)
		ret = 1;
	if (wl_out_close(&app->conn_log) != 0)
		ret = 1;
	publish(app);
	wl_shm_set_finished(app->shm);
	reqs_free_all();
	if (app->cfg.stats_json[0] != '\0' &&
			wl_export_stats_write_json(app->cfg.instance,
			app->cfg.stats_json) != 0) {
		wl_err("%s: cannot write the stats JSON", app->cfg.stats_json);
		ret = 1;
	}
	if (app->cfg.report)
		wl_export_stats_report(app->cfg.instance, stdout);
	for (i = 0; i < app->n_sources; i++) {
		const char *e = wl_source_error(app->sources[i]);

		if (e != NULL) {
			wl_err("%s", e);
			ret = 1;
		}
	}
	return ret != 0 ? ret : app->exit_code;
}
