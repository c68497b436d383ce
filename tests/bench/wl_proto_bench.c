/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * wl-proto-bench: cycles per transaction of a protocol's own work, its
 * ops driven as the flow layer drives them on one connection: a request
 * in one data call, its answer in the next, each message whole, and the
 * transaction emitted to a sink that only counts. No packets, no flow
 * table: what parsing, naming and pairing cost (docs/benchmarks.md).
 * The requests cycle through varied commands (Redis: 12 names, subcommands
 * and an unknown one; memcached: 6 commands; HTTP: 4 methods; DNS: 6
 * query types), so a lookup by name is exercised as traffic would.
 * Best of R windows of N transactions each.
 *
 *   wl-proto-bench [N] [R]
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include "wl_match.h"
#include "wl_proto.h"

struct msg {
	const char *d;
	uint32_t len;
};

#define M(lit) { lit, (uint32_t)(sizeof(lit) - 1) }

struct work {
	const char *name;
	unsigned int proto;
	uint8_t l4proto;
	const struct msg *req;
	const struct msg *rsp;
	unsigned int n;
};

static const struct msg redis_req[] = {
	M("*2\r\n$3\r\nGET\r\n$8\r\nuser:100\r\n"),
	M("*3\r\n$3\r\nSET\r\n$8\r\nuser:100\r\n$5\r\nvalue\r\n"),
	M("*2\r\n$7\r\nHGETALL\r\n$9\r\nprofile:7\r\n"),
	M("*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$9\r\nmaxmemory\r\n"),
	M("*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n"),
	M("*4\r\n$6\r\nLRANGE\r\n$4\r\nlist\r\n$1\r\n0\r\n$2\r\n10\r\n"),
	M("*3\r\n$6\r\nEXPIRE\r\n$8\r\nuser:100\r\n$2\r\n60\r\n"),
	M("*2\r\n$6\r\nMYCMD1\r\n$1\r\nx\r\n"),
	M("*4\r\n$4\r\nZADD\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\na\r\n"),
	M("*1\r\n$4\r\nPING\r\n"),
	M("*2\r\n$3\r\nget\r\n$8\r\nuser:200\r\n"),
	M("*3\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n"),
};
static const struct msg redis_rsp[] = {
	M("$5\r\nhello\r\n"), M("+OK\r\n"), M("*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
	M("*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"), M(":42\r\n"),
	M("*1\r\n$1\r\nx\r\n"), M(":1\r\n"), M("-ERR unknown command\r\n"),
	M(":1\r\n"), M("+PONG\r\n"), M("$-1\r\n"), M(":1\r\n"),
};

static const struct msg mc_req[] = {
	M("get user:100\r\n"), M("set user:100 0 0 5\r\nhello\r\n"),
	M("delete user:100\r\n"), M("incr counter 1\r\n"),
	M("mg user:100 v k\r\n"), M("touch user:100 60\r\n"),
};
static const struct msg mc_rsp[] = {
	M("VALUE user:100 0 5\r\nhello\r\nEND\r\n"), M("STORED\r\n"),
	M("DELETED\r\n"), M("43\r\n"), M("VA 5 kuser:100\r\nhello\r\n"),
	M("TOUCHED\r\n"),
};

static const struct msg http_req[] = {
	M("GET /api/v1/items?id=7 HTTP/1.1\r\nHost: example.com\r\n"
		"User-Agent: bench/1.0\r\nAccept: */*\r\n\r\n"),
	M("POST /api/v1/items HTTP/1.1\r\nHost: example.com\r\n"
		"Content-Type: application/json\r\nContent-Length: 13\r\n\r\n"
		"{\"name\":\"x\"}\n"),
	M("PUT /api/v1/items/7 HTTP/1.1\r\nHost: example.com\r\n"
		"Content-Length: 2\r\n\r\nok"),
	M("DELETE /api/v1/items/7 HTTP/1.1\r\nHost: example.com\r\n"
		"Connection: keep-alive\r\n\r\n"),
};
static const struct msg http_rsp[] = {
	M("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Content-Length: 12\r\nServer: bench\r\n\r\n{\"id\":7,\"a\"}"),
	M("HTTP/1.1 201 Created\r\nLocation: /api/v1/items/8\r\n"
		"Content-Length: 0\r\n\r\n"),
	M("HTTP/1.1 204 No Content\r\n\r\n"),
	M("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"),
};

/* www.example.com, types A, AAAA, MX, TXT, HTTPS, TYPE99 (SPF). */
#define DNS_Q(id, t) "\x12" id "\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" \
	"\x03www\x07" "example\x03" "com\x00\x00" t "\x00\x01"
#define DNS_R(id, t) "\x12" id "\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00" \
	"\x03www\x07" "example\x03" "com\x00\x00" t "\x00\x01"
static const struct msg dns_req[] = {
	M(DNS_Q("\x01", "\x01")), M(DNS_Q("\x02", "\x1c")),
	M(DNS_Q("\x03", "\x0f")), M(DNS_Q("\x04", "\x10")),
	M(DNS_Q("\x05", "\x41")), M(DNS_Q("\x06", "\x63")),
};
static const struct msg dns_rsp[] = {
	M(DNS_R("\x01", "\x01")), M(DNS_R("\x02", "\x1c")),
	M(DNS_R("\x03", "\x0f")), M(DNS_R("\x04", "\x10")),
	M(DNS_R("\x05", "\x41")), M(DNS_R("\x06", "\x63")),
};

#define W(nm, p, l4, a, b) { nm, p, l4, a, b, sizeof(a) / sizeof(a[0]) }

static const struct work works[] = {
	W("redis", WL_PROTO_REDIS, IPPROTO_TCP, redis_req, redis_rsp),
	W("memcached", WL_PROTO_MEMCACHED, IPPROTO_TCP, mc_req, mc_rsp),
	W("http", WL_PROTO_HTTP, IPPROTO_TCP, http_req, http_rsp),
	W("dns", WL_PROTO_DNS, IPPROTO_UDP, dns_req, dns_rsp),
};

static uint64_t emitted;
static uint64_t ctr[WL_PROTO_CTR_MAX];
static uint8_t state[4096] __attribute__((aligned(64)));

static void
count(void *arg, struct wl_txn *t)
{
	(void)arg;
	(void)t;
	emitted++;
}

static const struct wl_txn_sink sink = { count, NULL };

/* Cycles per transaction over n transactions on one connection. */
static double
run(const struct work *w, struct wl_mpool *mp, unsigned int n)
{
	const struct wl_proto_ops *o = wl_protos[w->proto];
	struct wl_proto_ctx ctx;
	uint64_t off[2] = { 0, 0 }, ts = 1000, t0, t1;
	unsigned int i, k;

	memset(state, 0, sizeof(state));
	memset(&ctx, 0, sizeof(ctx));
	ctx.proto = (uint8_t)w->proto;
	ctx.l4proto = w->l4proto;
	ctx.ctr = ctr;
	ctx.sink = &sink;
	ctx.mpool = mp;
	ctx.ops = o;
	if (o->init != NULL)
		o->init(state, &ctx);
	t0 = rte_rdtsc_precise();
	for (i = 0; i < n; i++) {
		k = i % w->n;
		ctx.pos.off = w->l4proto == IPPROTO_UDP ? i : off[0];
		ctx.pos.peer_ack = w->l4proto == IPPROTO_UDP ? UINT64_MAX :
			off[1];
		o->data(state, &ctx, WL_DIR_C2S, (const uint8_t *)w->req[k].d,
			w->req[k].len, ts++);
		off[0] += w->req[k].len;
		ctx.pos.off = w->l4proto == IPPROTO_UDP ? i : off[1];
		ctx.pos.peer_ack = w->l4proto == IPPROTO_UDP ? UINT64_MAX :
			off[0];
		o->data(state, &ctx, WL_DIR_S2C, (const uint8_t *)w->rsp[k].d,
			w->rsp[k].len, ts++);
		off[1] += w->rsp[k].len;
	}
	t1 = rte_rdtsc_precise();
	o->close(state, &ctx, 0, ts);
	return (double)(t1 - t0) / n;
}

int
main(int argc, char **argv)
{
	char *eal[] = { "wl-proto-bench", "--no-huge", "-m", "256",
		"--no-pci", "--no-shconf", "-l", "0", "--log-level", "*:error",
		NULL };
	unsigned int n = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 0) :
		2000;
	unsigned int rounds = argc > 2 ? (unsigned int)strtoul(argv[2], NULL,
		0) : 101;
	struct wl_mpool *mp;
	unsigned int i, r;

	if (rte_eal_init(10, eal) < 0)
		return 1;
	mp = wl_mpool_create(4096, SOCKET_ID_ANY);
	if (mp == NULL)
		return 1;
	printf("%-10s %14s %10s\n", "protocol", "cycles/txn", "txns");
	for (i = 0; i < sizeof(works) / sizeof(works[0]); i++) {
		double best = 1e18, c;

		emitted = 0;
		for (r = 0; r < rounds; r++) {
			c = run(&works[i], mp, n);
			best = c < best ? c : best;
		}
		printf("%-10s %14.1f %10" PRIu64 "\n", works[i].name, best,
			emitted / rounds);
	}
	wl_mpool_free(mp);
	rte_eal_cleanup();
	return 0;
}
