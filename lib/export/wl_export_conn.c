/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * A connection that ended as one line of the connection log
 * (docs/output.md), from lib/flow's public struct wl_conn in the conn
 * area of a WL_TXN_KIND_CONN record. The collector adds the line's
 * "requests". TCP-only fields are left out of UDP flows' lines rather
 * than written as zeros. Written through the streaming writer (wl_jw.h),
 * no allocation; runs on the collector lcore. Parsed back into jansson
 * for the tests (wl_export_conn_json()).
 */

#include <netinet/in.h>
#include <stdio.h>

#include "wl_export.h"
#include "wl_flow.h"
#include "wl_jw.h"
#include "wl_proto.h"
#include "wl_time.h"

static const char *const conn_end_names[WL_CONN_END_MAX] = {
#define _(e, n) [WL_CONN_END_ ## e] = n,
	foreach_wl_conn_end
#undef _
};

static const char *const conn_flag_names[WL_CONN_F_BIT_MAX] = {
#define _(e, n) [WL_CONN_F_BIT_ ## e] = n,
	foreach_wl_conn_flag
#undef _
};

/* Fields that were json_int_t: "%lld" of the value cast to signed. */
static inline void
jw_u64(struct wl_jw *w, const char *key, uint64_t v)
{
	wl_jw_i64(w, key, (int64_t)v);
}

/* Summary of the server-to-client burst gaps; the median is the middle
 * of its log2 bucket, clamped to what was seen. */
static void
ipg_write(const struct wl_conn *c, struct wl_jw *w)
{
	uint64_t seen = 0, half = (c->ipg_count + 1) / 2, med = 0;
	uint64_t max = c->d[WL_DIR_S2C].stall_max_ns;
	unsigned int b;

	for (b = 0; b < WL_CONN_IPG_BUCKETS; b++) {
		seen += c->ipg_hist[b];
		if (seen >= half) {
			/* [2^b, 2^(b+1)) us: its geometric middle */
			med = (uint64_t)((double)(1ULL << b) * 1.41421356 *
				WL_NS_PER_US);
			break;
		}
	}
	med = WL_MAX(med, c->ipg_min_ns);
	med = WL_MIN(med, max);
	wl_jw_obj_open(w, "ipg_s2c");
	jw_u64(w, "count", c->ipg_count);
	jw_u64(w, "min_ns", c->ipg_min_ns);
	jw_u64(w, "median_ns", med);
	jw_u64(w, "max_ns", max);
	jw_u64(w, "above_threshold", c->d[WL_DIR_S2C].stalls);
	wl_jw_obj_close(w);
}

void
wl_export_conn_write(const struct wl_txn *t, struct wl_jw *w)
{
	const struct wl_conn *c = wl_txn_area_c(t);
	char cli[64], srv[64], key[32];
	unsigned int b;

	wl_addr_format(&t->cli, cli, sizeof(cli));
	wl_addr_format(&t->srv, srv, sizeof(srv));
	wl_jw_obj_open(w, NULL);
	wl_jw_str(w, "type", "connection");
	wl_jw_str(w, "l4", c->l4proto == IPPROTO_TCP ? "tcp" : "udp");
	if (c->l7proto == WL_PROTO_NONE)
		wl_jw_null(w, "proto");
	else
		wl_jw_str(w, "proto", wl_proto_name(c->l7proto));
	wl_jw_str(w, "client_ip", cli);
	wl_jw_i64(w, "client_port", t->cli_port);
	wl_jw_str(w, "server_ip", srv);
	wl_jw_i64(w, "server_port", t->srv_port);
	wl_jw_i64(w, "vlan", t->vlan);
	jw_u64(w, "start_ns", t->req_start_ns);
	jw_u64(w, "end_ns", t->rsp_end_ns);
	jw_u64(w, "duration_ns", t->rsp_end_ns - t->req_start_ns);
	if (c->server_rtt_ns != 0)
		jw_u64(w, "server_rtt_ns", c->server_rtt_ns);
	if (c->client_rtt_ns != 0)
		jw_u64(w, "client_rtt_ns", c->client_rtt_ns);
	if (c->l4proto == IPPROTO_TCP) {
		wl_jw_i64(w, "syn_retrans", c->syn_retrans);
		wl_jw_i64(w, "synack_retrans", c->synack_retrans);
	}
	/* One field per direction: <name>_c2s, <name>_s2c. */
#define DIRS(name, expr) do { \
		unsigned int i_; \
		for (i_ = 0; i_ < 2; i_++) { \
			const struct wl_conn_dir *d = &c->d[i_]; \
			snprintf(key, sizeof(key), "%s_%s", name, \
				i_ == 0 ? "c2s" : "s2c"); \
			jw_u64(w, key, (expr)); \
		} \
	} while (0)
	DIRS("pkts", d->pkts);
	DIRS("bytes", c->l4proto == IPPROTO_TCP ? d->delivered : d->payload);
	DIRS("wire_bytes", d->bytes);
	DIRS("payload_bytes", d->payload);
	DIRS("gap_bytes", d->gap_bytes);
	if (c->l4proto == IPPROTO_TCP) {
		DIRS("retrans", d->retrans);
		DIRS("retrans_bytes", d->retrans_bytes);
		DIRS("ooo", d->ooo);
		DIRS("dup_acks", d->dup_acks);
		DIRS("sack_blocks", d->sack_blocks);
		DIRS("zero_window", d->zero_win);
		DIRS("zero_window_ns", d->zero_win_ns);
		DIRS("ipid_gaps", d->ipid_gaps);
		DIRS("ipid_missing", d->ipid_missing);
		DIRS("stall_max_ns", d->stall_max_ns);
		DIRS("stalls", d->stalls);
	}
#undef DIRS
	if (c->ipg_count > 0)
		ipg_write(c, w);
	wl_jw_str(w, "close", wl_flow_conn_close(c));
	wl_jw_str(w, "end", c->end < WL_CONN_END_MAX ?
		conn_end_names[c->end] : "unknown");
	wl_jw_arr_open(w, "flags");
	for (b = 0; b < WL_CONN_F_BIT_MAX; b++)
		if (c->flags & (1u << b))
			wl_jw_str(w, NULL, conn_flag_names[b]);
	wl_jw_arr_close(w);
	wl_jw_str(w, "ts_source", wl_ts_source_name(t->ts_source));
	wl_jw_i64(w, "lcore", t->lcore);
	jw_u64(w, "flow_id", t->flow_id);
}

json_t *
wl_export_conn_json(const struct wl_txn *t)
{
	char buf[WL_EXPORT_LINE_MAX];
	struct wl_jw w;

	wl_jw_init(&w, buf, sizeof(buf), NULL, NULL);
	wl_export_conn_write(t, &w);
	wl_jw_obj_close(&w);
	if (w.err != 0)
		return NULL;
	return json_loadb(buf, w.len, 0, NULL);
}
