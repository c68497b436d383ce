/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The built-in "tcp" protocol: it never claims a flow (no probe); the
 * flow layer emits its handshake transactions. Only the JSON rendering
 * of its area lives here.
 */

#include <netinet/in.h>

#include "wl_proto.h"
#include "wl_tcp.h"

static void
tcp_txn_write(const struct wl_txn *t, struct wl_jw *w)
{
	const struct wl_tcp_txn *x = wl_txn_area_c(t);

	if (x->client_rtt_ns != 0)
		wl_jw_i64(w, "client_rtt_ns", (int64_t)x->client_rtt_ns);
	wl_jw_i64(w, "syn_retrans", x->syn_retrans);
	wl_jw_i64(w, "synack_retrans", x->synack_retrans);
}

static const struct wl_metric_def tcp_metrics[] = {
	{ "server_rtt", "tcp_server_rtt_seconds", "method", WL_UNIT_NS,
		"TCP handshake: the answered SYN to its SYN/ACK (or RST, "
		"class error), the server side of the tap" },
	{ "client_rtt", "tcp_client_rtt_seconds", "method", WL_UNIT_NS,
		"TCP handshake: SYN/ACK to the client's ACK, the client side "
		"of the tap" },
	{ NULL, NULL, NULL, 0, NULL },
};

/*
 * The handshake's two sides of the tap. server_rtt is the RTT of the
 * SYN that was answered; a SYN retransmission shows in the log's
 * duration_ns, not here. Two clocks in one flow prove no RTT.
 */
static unsigned int
tcp_txn_series(const struct wl_txn *t, struct wl_metric_val *out,
	enum wl_txn_verdict *verdict)
{
	const struct wl_tcp_txn *x = wl_txn_area_c(t);
	unsigned int n = 0;

	if (t->rsp_end_ns == 0) {
		*verdict = WL_TXN_V_NO_RESPONSE;
		return 0;
	}
	if (t->flags & WL_TXN_F_CLOCK_MIXED) {
		*verdict = WL_TXN_V_UNPROVEN;
		return 0;
	}
	out[n++] = (struct wl_metric_val){ &tcp_metrics[0], wl_txn_method(t),
		t->status_class, wl_txn_ttfb(t) };
	if (x->client_rtt_ns != 0)
		out[n++] = (struct wl_metric_val){ &tcp_metrics[1], wl_txn_method(t),
			t->status_class, x->client_rtt_ns };
	*verdict = WL_TXN_V_TIMED;
	return n;
}

const struct wl_proto_ops wl_proto_tcp_ops = {
	.name = "tcp",
	.l4proto = IPPROTO_TCP,
	.txn_area = sizeof(struct wl_tcp_txn),
	.txn_write = tcp_txn_write,
	.metrics = tcp_metrics,
	.txn_series = tcp_txn_series,
};
