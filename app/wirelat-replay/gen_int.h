/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WR_GEN_INT_H
#define WR_GEN_INT_H

/*
 * Private to the gen subcommand. gen.c reads the command line and makes
 * the workload (a discrete-event model per connection); gen_msg.c builds
 * every protocol's messages; gen_scen.c makes the hand-made scenarios
 * (handshake outcomes, TCP damage, scripted L7 timing, the bundled
 * sample); gen_bench.c the large throughput capture of scripts/bench;
 * gen_wire.c (gen_wire.h) the frames and capture files of all of them.
 * The output is a function of the options alone: every random draw comes
 * from the PRNG below, seeded by --seed.
 */

#include <stdint.h>
#include <stdio.h>

#include "gen_wire.h"

#define PROG "wirelat-replay gen"
#define NS_PER_S 1000000000ULL
#define GEN_BASE_NS 1700000000000000000ULL  /* --start's default */

#define HTTP_PAD_MAX 1024       /* larger GET payloads become POST bodies */
#define PG_VALUE_MAX 160        /* SQL INSERT value bytes at most */
#define MY_VALUE_MAX 0xfffff0u  /* MySQL: a row in one packet */

enum proto { P_HTTP = 0, P_REDIS = 1, P_MC = 2, P_PG = 3, P_MY = 4, P_DNS = 5 };
#define N_PROTO 6

extern const char *const proto_name[N_PROTO];

/*
 * Scenarios (--scenario): enum value, name, default and largest
 * --connections. NONE is the workload, shaped by the other options.
 */
#define foreach_gen_scen \
	_(NONE, "workload", 16, 10000000) \
	_(SAMPLE, "sample", 300, 20000) \
	_(HANDSHAKE, "handshake", 50, 35000) \
	_(TCP_IMPAIR, "tcp-impair", 20, 35000) \
	_(L7, "l7", 1, 2000) \
	_(BENCH, "bench", 10000, 16000000) \
	_(SYN_FLOOD, "syn-flood", 40, 10000)

enum gen_scen {
#define _(n, s, d, m) GS_##n,
	foreach_gen_scen
#undef _
	GS_N
};

extern const char *const gen_scen_name[GS_N];

/* ---- options ---- */

enum dist_kind { D_FIXED, D_UNIFORM, D_LOGNORMAL, D_EXP };

struct dist {
	enum dist_kind kind;
	uint64_t a, b;          /* fixed; uniform min, max; median; mean */
	double sigma;
	const char *text;       /* as given, for the truth's options */
};

struct range {
	uint32_t min, max;
};

struct opts {
	const char *out, *truth;
	/* Connection n speaks protos[n % n_protos]. */
	enum proto protos[N_PROTO];
	uint32_t n_protos;
	char proto_text[64];    /* as given, for the truth's options */
	uint64_t conns, requests, pipeline, mss, seed, start, snaplen;
	uint64_t rtt, mbps, clients, writes;
	uint16_t port[N_PROTO];  /* server port per protocol */
	struct range req, rsp;
	struct dist lat, gap, interval;
	enum gen_scen scen;
	enum gen_format fmt;
	enum gen_link link;
	uint64_t packets;       /* bench: records; syn-flood: its SYNs */
};

/* ---- PRNG: splitmix64 seeds xoshiro256** ---- */

struct rng {
	uint64_t s[4];
};

/** Seed stream `stream` of seed: streams are independent. */
void gen_rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t gen_rng_next(struct rng *r);
/** Uniform in [lo, hi]. */
uint64_t gen_rng_range(struct rng *r, uint64_t lo, uint64_t hi);
/** Uniform in (0, 1]. */
double gen_rng_unit(struct rng *r);
/** A draw of d; each kind draws a fixed number of values. */
uint64_t gen_dist_draw(const struct dist *d, struct rng *r);

/* ---- messages (gen_msg.c) ---- */

/*
 * A message is head text, fill bytes (filler pattern) and tail text:
 *   HTTP GET:   "GET /r/C/I?rsp=N HTTP/1.1\r\nHost: H\r\n[X-Pad: "
 *               fill "\r\n]" "\r\n"
 *   HTTP POST:  "POST ... Content-Length: N\r\n\r\n" fill
 *   HTTP rsp:   "HTTP/1.1 200 OK\r\nContent-Length: N\r\n\r\n" fill
 *               (201 Created for a write)
 *   Redis GET:  "*2\r\n$3\r\nGET\r\n$L\r\nkey:C:I\r\n"
 *   Redis SET:  "*3\r\n$3\r\nSET\r\n$L\r\nkey:C:I\r\n$N\r\n" fill "\r\n"
 *   Redis rsp:  "$N\r\n" fill "\r\n" (GET) or "+OK\r\n" (SET)
 *   memcached:  "get key:C:I\r\n", "set key:C:I 0 0 N\r\n" fill "\r\n";
 *               "VALUE key:C:I 0 N\r\n" fill "\r\nEND\r\n", "STORED\r\n"
 *   PostgreSQL: Q "SELECT v FROM kv_C_I"; answered by T (one text
 *               column v), D (its value: fill), C "SELECT 1", Z 'I'.
 *               Q "INSERT INTO kv_C_I VALUES ('" fill "')"; answered by
 *               C "INSERT 0 1", Z 'I'.
 * Head and tail are bytes (PostgreSQL's hold NULs): hlen and tlen count
 * them.
 */
struct msg_text {
	char head[192];
	uint32_t hlen, flen, tlen;
	char tail[32];
};

#define FILL_PERIOD 62
#define FILL_CHUNK 65536
/* The fill pattern, FILL_CHUNK + FILL_PERIOD bytes (gen_fill_init). */
extern char gen_fill_buf[FILL_CHUNK + FILL_PERIOD];

struct txn {
	uint64_t off[2];        /* stream offset of request (0), response (1) */
	uint64_t lat, gap;      /* server think time; client gap after it */
	uint64_t t[4];          /* req start, req end, rsp start, rsp end */
	uint32_t len[2];        /* message bytes */
	uint32_t size[2];       /* drawn payload sizes */
	uint8_t write;          /* POST / SET */
	uint8_t post;           /* HTTP: carried as a POST body */
};

struct pkt {
	uint64_t ts;
	uint32_t seq, ack;
	uint16_t len;           /* TCP payload */
	uint8_t flags;
	uint8_t dir;            /* 0 client to server */
};

/* A connection of the workload; the message builders read id, proto,
 * sip, sport, host, isn[0] and tx. */
struct conn {
	uint32_t id;
	enum proto proto;
	uint32_t cip, sip;
	uint16_t cport, sport;
	const char *host;       /* HTTP Host; NULL: the server's address */
	uint32_t isn[2];
	uint32_t ntx;
	uint32_t first;         /* first request of the workload (MySQL: 2) */
	struct txn *tx;
	struct pkt *pk;
	uint64_t npk, cap, next;
	uint64_t syn_ns, synack_ns, ack_ns, fin_ns, end_ns;
	uint64_t packets[2], ip_bytes[2], payload[2];
	/* writer state */
	uint16_t ipid[2];
	uint32_t cur[2];        /* message the cursor is in */
	uint64_t pos[2];        /* stream offset of the next payload byte */
	uint32_t cached[2];     /* message whose text is in text[] */
	struct msg_text text[2];
};

#define DNS_MAX_RR 40
#define DNS_MSG_MAX 1400

/** Fill gen_fill_buf; once, before any message is rendered. */
void gen_fill_init(void);

/**
 * Transaction x of a connection speaking proto: a write or a read of
 * req and rsp payload bytes, cut to what the protocol's messages hold.
 */
void gen_txn_set(struct txn *x, enum proto proto, int write, uint32_t req,
	uint32_t rsp);

/** Message k of c in direction dir (0 request, 1 response); not DNS. */
void gen_msg_build(const struct conn *c, uint32_t k, int dir,
	struct msg_text *m);

/** m's bytes, head, fill and tail, at out. @return their count. */
uint32_t gen_msg_flat(const struct msg_text *m, uint8_t *out);

/** DNS message k of c (a query, or its answer for dir 1) at out, at most
 * DNS_MSG_MAX bytes. @return its length. */
uint32_t gen_dns_build(const struct conn *c, uint32_t k, int dir,
	uint8_t *out);

/** Answer records of DNS transaction t (0: NXDOMAIN). */
uint32_t gen_dns_rrs(const struct txn *t);

/* ---- the other makers: exit status 0, or 1 (cannot write) ---- */

int gen_scen_main(const struct opts *o);
int gen_bench_main(const struct opts *o);

/** A scenario truth's opening: "{", what was asked and the totals, the
 * last line without its comma. */
void gen_truth_head(FILE *f, const struct opts *o, uint64_t packets,
	uint64_t bytes, uint64_t ip_bytes);

#endif /* WR_GEN_INT_H */
