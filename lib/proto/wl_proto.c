/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The protocol table, built from wl_proto_list.h, and helpers shared by
 * all protocols.
 */

#include <errno.h>
#include <string.h>

#include <rte_common.h>

#include "wl_match.h"
#include "wl_proto.h"

#define _(e, n) extern const struct wl_proto_ops wl_proto_ ## n ## _ops;
foreach_wl_proto
#undef _

const struct wl_proto_ops *const wl_protos[WL_PROTO_MAX] = {
#define _(e, n) [WL_PROTO_ ## e] = &wl_proto_ ## n ## _ops,
	foreach_wl_proto
#undef _
};

/* Bounds the per-lcore state pools; a bigger state is a design smell. */
#define WL_PROTO_STATE_MAX 4096

const char *
wl_proto_name(unsigned int id)
{
	if (id >= WL_PROTO_MAX)
		return "unknown";
	return wl_protos[id]->name;
}

int
wl_proto_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < WL_PROTO_MAX; i++)
		if (strcmp(wl_protos[i]->name, name) == 0)
			return i;
	return -ENOENT;
}

int
wl_proto_check(const char **bad)
{
	unsigned int i, h;
	uint32_t big, small;

	for (i = 0; i < WL_PROTO_MAX; i++) {
		const struct wl_proto_ops *o = wl_protos[i];

		*bad = o->name;
		if (o->name == NULL || o->name[0] == '\0')
			return -EINVAL;
		if (o->probe != NULL && (o->data == NULL || o->close == NULL ||
				o->gap == NULL))
			return -EINVAL;
		big = RTE_MAX(o->state_size, o->state_size2);
		small = o->state_size2 != 0 ? RTE_MIN(o->state_size,
			o->state_size2) : o->state_size;
		if (big > WL_PROTO_STATE_MAX ||
				o->txn_area > WL_TXN_AREA_MAX ||
				(o->state_size2 != 0 && o->l4proto2 == 0))
			return -EINVAL;
		/* Prefetch hints stay inside the larger state (lib/flow
		 * clamps them to a flow's own); the matcher is in both. */
		for (h = 0; h < RTE_DIM(o->hot); h++)
			if ((uint32_t)o->hot[h].off + o->hot[h].len > big)
				return -EINVAL;
		if (o->match_at != 0 && o->match_at - 1u +
				sizeof(struct wl_match) > small)
			return -EINVAL;
	}
	*bad = NULL;
	return 0;
}

void
wl_proto_txn_init(const struct wl_proto_ctx *ctx, struct wl_txn *t)
{
	const struct wl_proto_ops *o = ctx->ops != NULL ? ctx->ops :
		ctx->proto < WL_PROTO_MAX ? wl_protos[ctx->proto] : NULL;

	/* The area of the protocol that will write it. */
	wl_txn_reset(t, o != NULL ? o->txn_area : 0);
	t->cli = ctx->cli;
	t->srv = ctx->srv;
	t->cli_port = ctx->cli_port;
	t->srv_port = ctx->srv_port;
	t->vlan = ctx->vlan;
	t->proto = ctx->proto;
	t->ts_source = ctx->ts_source;
	t->lcore = ctx->lcore;
	t->flow_id = ctx->flow_id;
}

const struct wl_metric_def wl_proto_l7_metrics[] = {
	{ "duration", "request_duration_seconds", "method", WL_UNIT_NS,
		"Request first byte to response last byte of proven pairs" },
	{ "responses", "response_size_bytes", "method", WL_UNIT_BYTES,
		"Size of every response, paired or not" },
	{ NULL, NULL, NULL, 0, NULL },
};

const struct wl_metric_def *
wl_proto_metrics(unsigned int id)
{
	if (id < WL_PROTO_MAX && wl_protos[id]->metrics != NULL)
		return wl_protos[id]->metrics;
	return wl_proto_l7_metrics;
}

/* Every response seen counts by status, proven or not; only a proven
 * pair's duration is timed. */
static unsigned int
l7_series(const struct wl_txn *t, struct wl_metric_val *out,
	enum wl_txn_verdict *verdict)
{
	unsigned int n = 0;

	if (t->rsp_start_ns == 0 && t->rsp_end_ns == 0) {
		*verdict = WL_TXN_V_NO_RESPONSE;
		return 0;
	}
	out[n++] = (struct wl_metric_val){ &wl_proto_l7_metrics[1],
		wl_txn_method(t), t->status_class, t->rsp_bytes };
	if (!wl_txn_timed(t)) {
		*verdict = WL_TXN_V_UNPROVEN;
		return n;
	}
	out[n++] = (struct wl_metric_val){ &wl_proto_l7_metrics[0],
		wl_txn_method(t), t->status_class, wl_txn_duration(t) };
	*verdict = WL_TXN_V_TIMED;
	return n;
}

unsigned int
wl_proto_txn_series(const struct wl_txn *t, struct wl_metric_val *out,
	enum wl_txn_verdict *verdict)
{
	if (t->proto < WL_PROTO_MAX && wl_protos[t->proto]->txn_series != NULL)
		return wl_protos[t->proto]->txn_series(t, out, verdict);
	return l7_series(t, out, verdict);
}
