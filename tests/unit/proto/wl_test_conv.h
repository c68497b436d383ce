/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_TEST_CONV_H
#define WL_TEST_CONV_H

/*
 * Protocol conversations for unit tests, driven through the ops the way
 * the flow layer drives them. A conversation is a list of (direction,
 * timestamp, bytes) segments and the transactions it must give; it is run
 * whole, with every segment split at every byte offset, and one byte at a
 * time, and every run must give exactly the same transactions.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <cmocka.h>
#include <rte_memory.h>

#include "wl_match.h"
#include "wl_proto.h"
#include "wl_test_eal.h"

#define C WL_DIR_C2S
#define S WL_DIR_S2C
#define MAXT 128

struct seg {
	int dir;                /* C, S; -1 = gap of `gap` bytes */
	uint64_t ts;            /* for a gap: 0 = C2S, else S2C */
	const char *data;
	uint32_t gap;
	uint32_t len;           /* 0: strlen(data) */
};

struct want {
	const char *method;
	const char *resource;
	const char *status;
	uint64_t req_start, req_end, rsp_start, rsp_end;
	uint32_t flags;         /* all of these must be set */
	const char *extra;      /* protocol-specific, checked by the test */
};

struct conv {
	const char *name;
	struct seg seg[16];
	struct want want[16];
	uint32_t close_flags;
	uint64_t parse_errors;
	uint64_t messages;      /* not request/response, e.g. pub/sub */
	/* The close is clean (struct wl_proto_ctx close_clean): the client
	 * closed first, having had every byte the server sent. */
	uint8_t clean;
	/* Picked up mid-stream (struct wl_proto_ctx midstream). */
	uint8_t midstream;
	/* The server closed first, after every byte the client sent
	 * (struct wl_proto_ctx close_srv_first). */
	uint8_t srv_first;
};

static struct wl_txn got[MAXT];
static unsigned int ngot;
static uint64_t ctr[WL_PROTO_CTR_MAX];
static uint8_t conv_state[4096] __attribute__((aligned(16)));
static unsigned int conv_proto;
/* Transport of the flow (0: TCP); datagrams are never split. */
static uint8_t conv_l4proto;
static uint64_t conv_timeout_ns;
static uint8_t conv_midstream;
/* Request records (wl_match.h), one pool for every run. */
static struct wl_mpool *conv_pool;
/* Stream offsets of the run: bytes each way so far, lost ones too. Each
 * segment acknowledges everything the other side sent before it. */
static uint64_t conv_off[2];

/* The record's bytes alone, the rest zero: runs compare with memcmp. */
static void
conv_sink(void *arg, struct wl_txn *t)
{
	(void)arg;
	assert_true(ngot < MAXT);
	assert_int_equal(wl_txn_check(t), 0);
	memset(&got[ngot], 0, sizeof(got[ngot]));
	wl_txn_copy(&got[ngot++], t);
}

static const struct wl_txn_sink conv_sink_ = { conv_sink, NULL };

static const struct wl_proto_ops *
conv_ops(void)
{
	return wl_protos[conv_proto];
}

static void
conv_ctx(struct wl_proto_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->proto = (uint8_t)conv_proto;
	ctx->l4proto = conv_l4proto != 0 ? conv_l4proto : IPPROTO_TCP;
	ctx->rsp_timeout_ns = conv_timeout_ns;
	ctx->ctr = ctr;
	ctx->sink = &conv_sink_;
	ctx->mpool = conv_pool;
	ctx->ops = wl_protos[conv_proto];
	ctx->pos.peer_ack = UINT64_MAX;
}

/* Position of the next call of direction dir. */
static void
conv_pos(struct wl_proto_ctx *ctx, int dir)
{
	ctx->pos.off = conv_off[dir];
	ctx->pos.peer_ack = conv_l4proto == IPPROTO_UDP ? UINT64_MAX :
		conv_off[!dir];
}

static void
conv_begin(struct wl_proto_ctx *ctx)
{
	ngot = 0;
	memset(ctr, 0, sizeof(ctr));
	memset(conv_state, 0, sizeof(conv_state));
	conv_off[0] = conv_off[1] = 0;
	if (conv_pool == NULL) {
		assert_int_equal(wl_test_eal_init(), 0);
		conv_pool = wl_mpool_create(256, SOCKET_ID_ANY);
		assert_non_null(conv_pool);
	}
	assert_true(conv_ops()->state_size <= sizeof(conv_state));
	assert_true(conv_ops()->state_size2 <= sizeof(conv_state));
	conv_ctx(ctx);
	ctx->midstream = conv_midstream;
	if (conv_ops()->init != NULL)
		conv_ops()->init(conv_state, ctx);
}

static uint32_t
seg_len(const struct seg *sg)
{
	return sg->len != 0 ? sg->len : sg->data ? (uint32_t)strlen(sg->data) : 0;
}

/* mode 0: whole; 1: segment `which` split at `at`; 2: byte by byte. */
static void
conv_run(const struct conv *cv, int mode, unsigned int which, uint32_t at)
{
	const struct wl_proto_ops *o = conv_ops();
	struct wl_proto_ctx ctx;
	unsigned int i;
	int done = 0;

	conv_midstream = cv->midstream;
	conv_begin(&ctx);
	for (i = 0; !done && (cv->seg[i].data != NULL || cv->seg[i].gap); i++) {
		const struct seg *sg = &cv->seg[i];
		const uint8_t *d = (const uint8_t *)sg->data;
		uint32_t n = seg_len(sg), k;

		if (sg->dir < 0) {
			int gd = sg->ts == 0 ? C : S;

			conv_pos(&ctx, gd);
			done = o->gap(conv_state, &ctx, gd, sg->gap, 0);
			conv_off[gd] += sg->gap;
		} else if (mode == 0 || (mode == 1 && (i != which || at == 0 ||
				at >= n))) {
			conv_pos(&ctx, sg->dir);
			done = o->data(conv_state, &ctx, sg->dir, d, n, sg->ts);
			conv_off[sg->dir] += n;
		} else if (mode == 1) {
			conv_pos(&ctx, sg->dir);
			done = o->data(conv_state, &ctx, sg->dir, d, at, sg->ts);
			conv_off[sg->dir] += at;
			if (!done) {
				conv_pos(&ctx, sg->dir);
				done = o->data(conv_state, &ctx, sg->dir, d + at,
					n - at, sg->ts);
			}
			conv_off[sg->dir] += n - at;
		} else {
			for (k = 0; k < n && !done; k++) {
				conv_pos(&ctx, sg->dir);
				done = o->data(conv_state, &ctx, sg->dir, d + k,
					1, sg->ts);
				conv_off[sg->dir]++;
			}
			conv_off[sg->dir] += n - k;
		}
	}
	ctx.close_clean = cv->clean;
	ctx.close_srv_first = cv->srv_first;
	o->close(conv_state, &ctx, cv->close_flags, 999);
	/* Every record the protocol took is back. */
	if (wl_mpool_used(conv_pool) != 0)
		fail_msg("%s: %u request records left after close", cv->name,
			wl_mpool_used(conv_pool));
}

static void
conv_check(const struct conv *cv)
{
	unsigned int i, n;

	for (n = 0; cv->want[n].method != NULL; n++)
		;
	if (ngot != n || getenv("WL_CONV_DUMP") != NULL) {
		for (i = 0; i < ngot; i++)
			print_message("  got %s %s %s %llu %llu %llu %llu "
				"flags %#x\n", wl_txn_method(&got[i]),
				wl_txn_resource(&got[i]), wl_txn_status(&got[i]),
				(unsigned long long)got[i].req_start_ns,
				(unsigned long long)got[i].req_end_ns,
				(unsigned long long)got[i].rsp_start_ns,
				(unsigned long long)got[i].rsp_end_ns,
				got[i].flags);
		if (ngot != n)
			fail_msg("%s: %u transactions, want %u", cv->name,
				ngot, n);
	}
	for (i = 0; i < n; i++) {
		const struct want *w = &cv->want[i];
		const struct wl_txn *t = &got[i];

		if (strcmp(wl_txn_method(t), w->method) != 0 ||
				strcmp(wl_txn_resource(t), w->resource) != 0 ||
				strcmp(wl_txn_status(t), w->status) != 0)
			fail_msg("%s txn %u: %s %s %s, want %s %s %s", cv->name,
				i, wl_txn_method(t), wl_txn_resource(t),
				wl_txn_status(t), w->method, w->resource,
				w->status);
		if (t->req_start_ns != w->req_start || t->req_end_ns != w->req_end ||
				t->rsp_start_ns != w->rsp_start ||
				t->rsp_end_ns != w->rsp_end)
			fail_msg("%s txn %u: times %llu %llu %llu %llu, want "
				"%llu %llu %llu %llu", cv->name, i,
				(unsigned long long)t->req_start_ns,
				(unsigned long long)t->req_end_ns,
				(unsigned long long)t->rsp_start_ns,
				(unsigned long long)t->rsp_end_ns,
				(unsigned long long)w->req_start,
				(unsigned long long)w->req_end,
				(unsigned long long)w->rsp_start,
				(unsigned long long)w->rsp_end);
		if ((t->flags & w->flags) != w->flags)
			fail_msg("%s txn %u: flags %#x lack %#x", cv->name, i,
				t->flags, w->flags);
	}
	if (ctr[WL_PROTO_CTR_PARSE_ERRORS] != cv->parse_errors)
		fail_msg("%s: %llu parse errors, want %llu", cv->name,
			(unsigned long long)ctr[WL_PROTO_CTR_PARSE_ERRORS],
			(unsigned long long)cv->parse_errors);
	if (ctr[WL_PROTO_CTR_MESSAGES] != cv->messages)
		fail_msg("%s: %llu messages, want %llu", cv->name,
			(unsigned long long)ctr[WL_PROTO_CTR_MESSAGES],
			(unsigned long long)cv->messages);
}

/* Run every conversation whole, split everywhere, byte by byte; the
 * callback checks protocol fields of the whole run (may be NULL). */
static void
conv_all(const struct conv *cv, unsigned int n,
	void (*extra)(const struct conv *cv))
{
	static struct wl_txn ref[MAXT];
	unsigned int c, i, nref;
	uint32_t at, len;

	for (c = 0; c < n; c++, cv++) {
		conv_run(cv, 0, 0, 0);
		conv_check(cv);
		if (extra != NULL)
			extra(cv);
		memcpy(ref, got, sizeof(ref));
		nref = ngot;
		if (conv_l4proto == IPPROTO_UDP)
			continue;
		for (i = 0; cv->seg[i].data != NULL || cv->seg[i].gap; i++) {
			len = seg_len(&cv->seg[i]);
			for (at = 1; at < len; at++) {
				conv_run(cv, 1, i, at);
				if (ngot != nref || memcmp(got, ref,
						nref * sizeof(ref[0])) != 0)
					fail_msg("%s: split of segment %u at %u "
						"differs", cv->name, i, at);
			}
		}
		conv_run(cv, 2, 0, 0);
		if (ngot != nref || memcmp(got, ref, nref * sizeof(ref[0])) != 0)
			fail_msg("%s: byte by byte differs", cv->name);
	}
}

#endif /* WL_TEST_CONV_H */
