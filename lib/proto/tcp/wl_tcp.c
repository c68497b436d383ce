/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The built-in "tcp" protocol: it never claims a flow (no probe); the
 * flow layer emits its handshake transactions. Only the JSON rendering
 * of its proto area lives here.
 */

#include <netinet/in.h>

#include "wl_proto.h"
#include "wl_tcp.h"

static void
tcp_txn_json(const struct wl_txn *t, json_t *obj)
{
	const struct wl_tcp_txn *x = (const void *)t->proto_area;

	if (x->client_rtt_ns != 0)
		json_object_set_new(obj, "client_rtt_ns",
			json_integer((json_int_t)x->client_rtt_ns));
	json_object_set_new(obj, "syn_retrans", json_integer(x->syn_retrans));
	json_object_set_new(obj, "synack_retrans",
		json_integer(x->synack_retrans));
}

const struct wl_proto_ops wl_proto_tcp_ops = {
	.name = "tcp",
	.l4proto = IPPROTO_TCP,
	.txn_json = tcp_txn_json,
};
