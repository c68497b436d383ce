/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An L7 protocol (FUZZ_PROTO, set by meson per target) through its ops:
 * after a first byte choosing the transport and an answer timeout, the
 * input is cut into chunks by a length byte and a direction bit, with
 * gaps now and then (datagrams for UDP). Checks: no crash, no read out
 * of bounds, and every transaction's timestamps in order (no response
 * before its request).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "wl_common.h"
#include "wl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(void *arg, const struct wl_txn *t)
{
	(void)arg;
	if (t->req_end_ns < t->req_start_ns)
		abort();
	if (t->rsp_end_ns != 0 && (t->rsp_start_ns < t->req_start_ns ||
			t->rsp_end_ns < t->rsp_start_ns))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t state[4096] __attribute__((aligned(16)));
	static const struct wl_txn_sink sink = { check, NULL };
	const struct wl_proto_ops *o = wl_protos[FUZZ_PROTO];
	uint64_t ctr[WL_PROTO_CTR_MAX] = { 0 };
	struct wl_proto_ctx ctx;
	uint64_t ts = 1000;
	size_t off = 0;
	int done = 0, udp = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.ctr = ctr;
	ctx.sink = &sink;
	ctx.l4proto = o->l4proto;
	/* For datagram protocols the first byte picks the transport and an
	 * answer timeout (the stream ones keep their seeds' meaning). */
	if (size > 0 && (o->l4proto2 != 0 || o->l4proto == IPPROTO_UDP)) {
		if (o->l4proto2 != 0 && (data[0] & 1))
			ctx.l4proto = o->l4proto2;
		ctx.rsp_timeout_ns = (data[0] & 2) ? 50 : 0;
		off = 1;
	}
	udp = ctx.l4proto == IPPROTO_UDP;
	memset(state, 0, o->state_size);
	if (o->init != NULL)
		o->init(state, &ctx);
	while (off < size && !done) {
		uint8_t h = data[off++];
		/* Datagrams are whole messages: let them be longer. */
		size_t n = WL_MIN(((size_t)(h & 0x3f) + 1) << (udp ? 2 : 0),
			size - off);
		enum wl_dir dir = (h & 0x40) ? WL_DIR_S2C : WL_DIR_C2S;

		ts += 10;
		if ((h & 0xc0) == 0xc0 && n < 4)
			done = o->gap(state, &ctx, dir, (uint32_t)n * 100, ts);
		else
			done = o->data(state, &ctx, dir, data + off,
				(uint32_t)n, ts);
		off += n;
	}
	o->close(state, &ctx, WL_TXN_F_END_OF_CAPTURE, ts + 1);
	return 0;
}
