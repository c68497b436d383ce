/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * A connection that ended as one line of the connection log
 * (docs/output.md), from lib/flow's public struct wl_conn in the conn
 * area of a WL_TXN_KIND_CONN record. The collector adds the line's
 * "requests". TCP-only fields are left out of UDP flows' lines rather
 * than written as zeros. Runs on the collector lcore: it allocates.
 */

#include <netinet/in.h>
#include <stdio.h>

#include "wl_export.h"
#include "wl_flow.h"
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

/* Summary of the server-to-client burst gaps; the median is the middle
 * of its log2 bucket, clamped to what was seen. */
static json_t *
ipg_json(const struct wl_conn *c)
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
	return json_pack("{s:I, s:I, s:I, s:I, s:I}",
		"count", (json_int_t)c->ipg_count,
		"min_ns", (json_int_t)c->ipg_min_ns,
		"median_ns", (json_int_t)med,
		"max_ns", (json_int_t)max,
		"above_threshold", (json_int_t)c->d[WL_DIR_S2C].stalls);
}

json_t *
wl_export_conn_json(const struct wl_txn *t)
{
	const struct wl_conn *c = (const void *)t->conn_area;
	char cli[64], srv[64], key[32];
	json_t *o, *fl;
	unsigned int b;

	o = json_object();
	fl = json_array();
	if (o == NULL || fl == NULL) {
		json_decref(o);
		json_decref(fl);
		return NULL;
	}
	wl_addr_format(&t->cli, cli, sizeof(cli));
	wl_addr_format(&t->srv, srv, sizeof(srv));
	json_object_set_new(o, "type", json_string("connection"));
	json_object_set_new(o, "l4", json_string(c->l4proto == IPPROTO_TCP ?
		"tcp" : "udp"));
	json_object_set_new(o, "proto", c->l7proto == WL_PROTO_NONE ?
		json_null() : json_string(wl_proto_name(c->l7proto)));
	json_object_set_new(o, "client_ip", json_string(cli));
	json_object_set_new(o, "client_port", json_integer(t->cli_port));
	json_object_set_new(o, "server_ip", json_string(srv));
	json_object_set_new(o, "server_port", json_integer(t->srv_port));
	json_object_set_new(o, "vlan", json_integer(t->vlan));
	json_object_set_new(o, "start_ns", json_integer(
		(json_int_t)t->req_start_ns));
	json_object_set_new(o, "end_ns", json_integer(
		(json_int_t)t->rsp_end_ns));
	json_object_set_new(o, "duration_ns", json_integer(
		(json_int_t)(t->rsp_end_ns - t->req_start_ns)));
	if (c->server_rtt_ns != 0)
		json_object_set_new(o, "server_rtt_ns",
			json_integer((json_int_t)c->server_rtt_ns));
	if (c->client_rtt_ns != 0)
		json_object_set_new(o, "client_rtt_ns",
			json_integer((json_int_t)c->client_rtt_ns));
	if (c->l4proto == IPPROTO_TCP) {
		json_object_set_new(o, "syn_retrans",
			json_integer(c->syn_retrans));
		json_object_set_new(o, "synack_retrans",
			json_integer(c->synack_retrans));
	}
	/* One field per direction: <name>_c2s, <name>_s2c. */
#define DIRS(name, expr) do { \
		unsigned int i_; \
		for (i_ = 0; i_ < 2; i_++) { \
			const struct wl_conn_dir *d = &c->d[i_]; \
			snprintf(key, sizeof(key), "%s_%s", name, \
				i_ == 0 ? "c2s" : "s2c"); \
			json_object_set_new(o, key, \
				json_integer((json_int_t)(expr))); \
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
		json_object_set_new(o, "ipg_s2c", ipg_json(c));
	json_object_set_new(o, "close", json_string(wl_flow_conn_close(c)));
	json_object_set_new(o, "end", json_string(c->end < WL_CONN_END_MAX ?
		conn_end_names[c->end] : "unknown"));
	for (b = 0; b < WL_CONN_F_BIT_MAX; b++)
		if (c->flags & (1u << b))
			json_array_append_new(fl, json_string(conn_flag_names[b]));
	json_object_set_new(o, "flags", fl);
	json_object_set_new(o, "ts_source", json_string(
		wl_ts_source_name(t->ts_source)));
	json_object_set_new(o, "lcore", json_integer(t->lcore));
	json_object_set_new(o, "flow_id", json_integer((json_int_t)t->flow_id));
	return o;
}
