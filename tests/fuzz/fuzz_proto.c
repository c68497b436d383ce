/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An L7 protocol (FUZZ_PROTO, set by meson per target) through its ops:
 * after a first byte choosing the transport and an answer timeout, the
 * input is cut into chunks by a length byte and a direction bit, with
 * gaps now and then (datagrams for UDP). Each call carries its stream
 * position and the other direction's (as ACK), as the flow layer gives
 * them; the first byte also picks a mid-stream start and a clean close,
 * so the matcher (wl_match.h) opens, settles and gives up its epochs.
 * Checks: no crash, no read out of bounds, every transaction's
 * timestamps in order (no response before its request), every
 * transaction's log line (the streaming writer, wire text and all) read
 * back by jansson, and every request record back in the pool after the
 * close.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sanitizer/asan_interface.h>

#include <rte_eal.h>
#include <rte_memory.h>

#include "wl_common.h"
#include "wl_export.h"
#include "wl_match.h"
#include "wl_proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small: deep pipelines run out and overflow. */
static struct wl_mpool *pool;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz", "--no-huge", "-m", "64", "--no-pci",
		"--no-shconf", "-l", "0", "--log-level", "*:error", NULL };

	(void)argc;
	(void)argv;
	/* meson builds this only for protocols that parse (proto_parsers). */
	if (wl_protos[FUZZ_PROTO]->data == NULL)
		abort();
	if (rte_eal_init(10, eal) < 0)
		abort();
	pool = wl_mpool_create(48, SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	return 0;
}

static void
check(void *arg, struct wl_txn *t)
{
	json_t *j;

	(void)arg;
	if (wl_txn_check(t) != 0)
		abort();
	if (t->req_end_ns < t->req_start_ns)
		abort();
	if (t->rsp_end_ns != 0 && (t->rsp_start_ns < t->req_start_ns ||
			t->rsp_end_ns < t->rsp_start_ns))
		abort();
	j = wl_export_txn_json(t);
	if (j == NULL)
		abort();
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t state[4096] __attribute__((aligned(16)));
	static const struct wl_txn_sink sink = { check, NULL };
	const struct wl_proto_ops *o = wl_protos[FUZZ_PROTO];
	uint64_t ctr[WL_PROTO_CTR_MAX] = { 0 };
	struct wl_proto_ctx ctx;
	uint64_t ts = 1000, pos[2] = { 0, 0 };
	size_t off = 0;
	uint32_t ssize;
	int done = 0, udp = 0, clean = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.ctr = ctr;
	ctx.sink = &sink;
	ctx.proto = FUZZ_PROTO;
	ctx.l4proto = o->l4proto;
	ctx.mpool = pool;
	ctx.ops = o;
	/* For datagram protocols the first byte picks the transport and an
	 * answer timeout (the stream ones keep their seeds' meaning). */
	if (size > 0 && (o->l4proto2 != 0 || o->l4proto == IPPROTO_UDP)) {
		if (o->l4proto2 != 0 && (data[0] & 1))
			ctx.l4proto = o->l4proto2;
		ctx.rsp_timeout_ns = (data[0] & 2) ? 50 : 0;
		off = 1;
	}
	/* The last byte: mid-stream start, clean close. */
	if (size > 1) {
		ctx.midstream = data[size - 1] & 1;
		clean = (data[size - 1] >> 1) & 1;
	}
	udp = ctx.l4proto == IPPROTO_UDP;
	/* The state is this transport's size (DNS over UDP has no TCP
	 * buffers): a byte past it is a report. */
	ssize = wl_proto_state_size(o, ctx.l4proto);
	ASAN_UNPOISON_MEMORY_REGION(state, sizeof(state));
	ASAN_POISON_MEMORY_REGION(state + ssize, sizeof(state) - ssize);
	memset(state, 0, ssize);
	if (o->init != NULL)
		o->init(state, &ctx);
	while (off < size && !done) {
		uint8_t h = data[off++];
		/* Datagrams are whole messages: let them be longer. */
		size_t n = WL_MIN(((size_t)(h & 0x3f) + 1) << (udp ? 2 : 0),
			size - off);
		enum wl_dir dir = (h & 0x40) ? WL_DIR_S2C : WL_DIR_C2S;

		ts += 10;
		ctx.pos.off = pos[dir];
		ctx.pos.peer_ack = udp ? UINT64_MAX : pos[!dir];
		if ((h & 0xc0) == 0xc0 && n < 4) {
			done = o->gap(state, &ctx, dir, (uint32_t)n * 100, ts);
			pos[dir] += n * 100;
		} else {
			done = o->data(state, &ctx, dir, data + off,
				(uint32_t)n, ts);
			pos[dir] += udp ? 1 : n;
		}
		off += n;
	}
	ctx.close_clean = (uint8_t)clean;
	o->close(state, &ctx, WL_TXN_F_END_OF_CAPTURE, ts + 1);
	if (wl_mpool_used(pool) != 0)
		abort();
	return 0;
}
