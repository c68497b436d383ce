/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * A transaction as one line of the transaction log (docs/output.md): the
 * fields every protocol has, in a fixed order, then the protocol's own
 * through its ops->txn_write hook (a protocol alone knows the layout of
 * its area), written through the streaming writer (wl_jw.h) with
 * no allocation. Runs on the collector lcore. The same line parsed back
 * into jansson serves the tests: one renderer, not two.
 */

#include "wl_export.h"
#include "wl_jw.h"
#include "wl_proto.h"
#include "wl_time.h"

/* ---- the log line ---- */

/* Unsigned fields go out as jansson's json_int_t did: "%lld" of the
 * value cast to signed, so an impossible value above 2^63 reads back
 * negative rather than changing the format. */
static inline void
jw_u64(struct wl_jw *w, const char *key, uint64_t v)
{
	wl_jw_i64(w, key, (int64_t)v);
}

void
wl_export_txn_write(const struct wl_txn *t, struct wl_jw *w)
{
	char cli[64], srv[64];
	unsigned int b;

	wl_addr_format(&t->cli, cli, sizeof(cli));
	wl_addr_format(&t->srv, srv, sizeof(srv));
	wl_jw_obj_open(w, NULL);
	wl_jw_str(w, "proto", wl_proto_name(t->proto));
	wl_jw_str(w, "client_ip", cli);
	wl_jw_i64(w, "client_port", t->cli_port);
	wl_jw_str(w, "server_ip", srv);
	wl_jw_i64(w, "server_port", t->srv_port);
	if (t->vlan != 0)
		wl_jw_i64(w, "vlan", t->vlan);
	wl_jw_str_wire(w, "method", wl_txn_method(t));
	wl_jw_str_wire(w, "resource", wl_txn_resource(t));
	wl_jw_str_wire(w, "status", wl_txn_status(t));
	wl_jw_i64(w, "status_code", t->status_code);
	wl_jw_str(w, "status_class", wl_status_class_name(t->status_class));
	jw_u64(w, "req_start_ns", t->req_start_ns);
	jw_u64(w, "req_end_ns", t->req_end_ns);
	jw_u64(w, "rsp_start_ns", t->rsp_start_ns);
	jw_u64(w, "rsp_end_ns", t->rsp_end_ns);
	jw_u64(w, "duration_ns", wl_txn_duration(t));
	jw_u64(w, "ttfb_ns", wl_txn_ttfb(t));
	jw_u64(w, "req_bytes", t->req_bytes);
	jw_u64(w, "rsp_bytes", t->rsp_bytes);
	wl_jw_arr_open(w, "flags");
	for (b = 0; b < WL_TXN_F_BIT_MAX; b++)
		if (t->flags & (1u << b))
			wl_jw_str(w, NULL, wl_txn_flag_name(b));
	wl_jw_arr_close(w);
	wl_jw_str(w, "ts_source", wl_ts_source_name(t->ts_source));
	wl_jw_i64(w, "lcore", t->lcore);
	jw_u64(w, "flow_id", t->flow_id);
	if (t->proto < WL_PROTO_MAX && wl_protos[t->proto]->txn_write != NULL)
		wl_protos[t->proto]->txn_write(t, w);
	wl_jw_obj_close(w);
}

/* ---- parsed back, for tests and tools ---- */

json_t *
wl_export_txn_json(const struct wl_txn *t)
{
	char buf[WL_EXPORT_LINE_MAX];
	struct wl_jw w;

	wl_jw_init(&w, buf, sizeof(buf), NULL, NULL);
	wl_export_txn_write(t, &w);
	if (w.err != 0)
		return NULL;
	return json_loadb(buf, w.len, 0, NULL);
}
