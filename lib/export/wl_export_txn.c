/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * A transaction as one line of the transaction log (docs/output.md): the
 * fields every protocol has, in a fixed order, then the protocol's own
 * through its ops->txn_json hook (a protocol alone knows the layout of
 * its proto_area). Runs on the collector lcore: it allocates.
 */

#include "wl_export.h"
#include "wl_proto.h"
#include "wl_time.h"

static json_t *
json_u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

json_t *
wl_export_txn_json(const struct wl_txn *t)
{
	char cli[64], srv[64];
	json_t *o, *flags;
	unsigned int b;

	o = json_object();
	flags = json_array();
	if (o == NULL || flags == NULL) {
		json_decref(o);
		json_decref(flags);
		return NULL;
	}
	wl_addr_format(&t->cli, cli, sizeof(cli));
	wl_addr_format(&t->srv, srv, sizeof(srv));
	json_object_set_new(o, "proto", json_string(wl_proto_name(t->proto)));
	json_object_set_new(o, "client_ip", json_string(cli));
	json_object_set_new(o, "client_port", json_integer(t->cli_port));
	json_object_set_new(o, "server_ip", json_string(srv));
	json_object_set_new(o, "server_port", json_integer(t->srv_port));
	if (t->vlan != 0)
		json_object_set_new(o, "vlan", json_integer(t->vlan));
	json_object_set_new(o, "method", wl_proto_json_str(t->method));
	json_object_set_new(o, "resource", wl_proto_json_str(t->resource));
	json_object_set_new(o, "status", wl_proto_json_str(t->status));
	json_object_set_new(o, "status_code", json_integer(t->status_code));
	json_object_set_new(o, "status_class",
		json_string(wl_status_class_name(t->status_class)));
	json_object_set_new(o, "req_start_ns", json_u64(t->req_start_ns));
	json_object_set_new(o, "req_end_ns", json_u64(t->req_end_ns));
	json_object_set_new(o, "rsp_start_ns", json_u64(t->rsp_start_ns));
	json_object_set_new(o, "rsp_end_ns", json_u64(t->rsp_end_ns));
	json_object_set_new(o, "duration_ns", json_u64(wl_txn_duration(t)));
	json_object_set_new(o, "ttfb_ns", json_u64(wl_txn_ttfb(t)));
	json_object_set_new(o, "req_bytes", json_u64(t->req_bytes));
	json_object_set_new(o, "rsp_bytes", json_u64(t->rsp_bytes));
	for (b = 0; b < WL_TXN_F_BIT_MAX; b++)
		if (t->flags & (1u << b))
			json_array_append_new(flags,
				json_string(wl_txn_flag_name(b)));
	json_object_set_new(o, "flags", flags);
	json_object_set_new(o, "ts_source",
		json_string(wl_ts_source_name(t->ts_source)));
	json_object_set_new(o, "lcore", json_integer(t->lcore));
	json_object_set_new(o, "flow_id", json_u64(t->flow_id));
	if (t->proto < WL_PROTO_MAX && wl_protos[t->proto]->txn_json != NULL)
		wl_protos[t->proto]->txn_json(t, o);
	return o;
}
