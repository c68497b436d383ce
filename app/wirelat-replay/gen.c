/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * wirelat-replay gen: a workload generator. It writes a capture of
 * synthetic HTTP/1.1, Redis, memcached, PostgreSQL, MySQL (TCP) and DNS
 * (UDP) conversations and, optionally, the ground truth: every
 * transaction's four capture timestamps, as wirelat should report them.
 * This file reads the command line and makes that workload; --scenario
 * hands over to the hand-made captures of gen_scen.c and gen_bench.c
 * (gen_int.h says which file does what).
 *
 * Each connection is simulated on its own as a small discrete-event model
 * (handshake, requests, server think time, responses, ACKs, FIN close)
 * seen from a tap at the server; its packets are kept as 24-byte records
 * and its message table as one record per transaction. Payload bytes are
 * never stored: a frame's payload is rendered from the message table when
 * the frame is written. Connections start in time order, so every packet
 * earlier than the next connection's SYN is final: those are merged
 * (heap over connections, key = time, connection, emission order) and
 * written before the next connection is generated. Memory thus follows
 * the connections alive at one time, not the capture's length.
 *
 * Invariants: within a connection packets are emitted in time order and
 * in causal order at equal times; every pure ACK advances the ACK number
 * (no duplicate ACKs); a sender never has more than the receive window in
 * flight (checked once against --pipeline and the sizes); the output is a
 * function of the options and --seed alone.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gen.h"
#include "gen_int.h"
#include "wl_parse.h"

#define MAX_SIZE (16u << 20)    /* largest --req-size / --rsp-size */
#define WSCALE 9                /* both sides' window scale */
#define WIN_FIELD 65535         /* window field after the handshake */
#define WIN_BYTES ((uint64_t)WIN_FIELD << WSCALE)
#define MSG_OVERHEAD 256        /* headers and framing, upper bound */
#define TURN_NS 2000            /* server stack turnaround: SYN-ACK, ACK, FIN */
#define DELACK_NS 40000000ULL   /* delayed ACK timer (Linux' minimum) */
#define L1_EXTRA 24             /* preamble, inter-frame gap, FCS */
#define PORT_LO 32768
#define PORT_SPAN 28232         /* 32768..60999, Linux' ephemeral range */

/* TCP flags, short for the model below */
#define F_FIN GEN_F_FIN
#define F_SYN GEN_F_SYN
#define F_PSH GEN_F_PSH
#define F_ACK GEN_F_ACK

const char *const gen_scen_name[GS_N] = {
#define _(n, s, d, m) s,
	foreach_gen_scen
#undef _
};

static const uint64_t scen_conns[GS_N][2] = {
#define _(n, s, d, m) { d, m },
	foreach_gen_scen
#undef _
};

/* ---- PRNG: splitmix64 seeds xoshiro256** ---- */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
gen_rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
gen_rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform in [lo, hi], without modulo bias worth mentioning (128-bit). */
uint64_t
gen_rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1;

	if (span == 0)
		return gen_rng_next(r);
	return lo + (uint64_t)(((unsigned __int128)gen_rng_next(r) * span) >>
		64);
}

/* Uniform in (0, 1]: never 0, so log() is finite. */
double
gen_rng_unit(struct rng *r)
{
	return ((gen_rng_next(r) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

static uint64_t
clamp_ns(double v)
{
	if (!(v > 0))
		return 0;
	if (v > 1e15)           /* some 11 days: keeps sums far from 2^64 */
		return 1000000000000000ULL;
	return (uint64_t)llround(v);
}

/* Each kind draws a fixed number of values, so streams stay aligned. */
uint64_t
gen_dist_draw(const struct dist *d, struct rng *r)
{
	double u1, u2;

	switch (d->kind) {
	case D_FIXED:
		return d->a;
	case D_UNIFORM:
		return gen_rng_range(r, d->a, d->b);
	case D_LOGNORMAL:
		u1 = gen_rng_unit(r);
		u2 = gen_rng_unit(r);
		return clamp_ns((double)d->a * exp(d->sigma *
			sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2)));
	case D_EXP:
		return clamp_ns(-(double)d->a * log(gen_rng_unit(r)));
	}
	return 0;
}

/* ---- parsing ---- */

/* A decimal integer in [lo, hi]. @return 0 or -EINVAL. */
static int
parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * fixed:D | uniform:MIN:MAX | lognormal:MEDIAN:SIGMA | exp:MEAN, or a bare
 * duration (fixed). @return 0 or -EINVAL with *why set.
 */
static int
parse_dist(const char *s, struct dist *d, const char **why)
{
	char buf[128], *a, *b, *end;

	d->text = s;
	d->sigma = 0;
	if (strchr(s, ':') == NULL) {
		d->kind = D_FIXED;
		*why = "want a duration (e.g. 200us) or KIND:ARGS";
		return wl_parse_duration_ns(s, &d->a);
	}
	if (strlen(s) >= sizeof(buf)) {
		*why = "too long";
		return -EINVAL;
	}
	strcpy(buf, s);
	a = strchr(buf, ':');
	*a++ = '\0';
	b = strchr(a, ':');
	if (b != NULL)
		*b++ = '\0';
	if (strcmp(buf, "fixed") == 0 || strcmp(buf, "exp") == 0) {
		d->kind = buf[0] == 'f' ? D_FIXED : D_EXP;
		*why = d->kind == D_FIXED ? "want fixed:DURATION" :
			"want exp:MEAN with MEAN > 0";
		if (b != NULL || wl_parse_duration_ns(a, &d->a) != 0)
			return -EINVAL;
		return d->kind == D_EXP && d->a == 0 ? -EINVAL : 0;
	}
	if (strcmp(buf, "uniform") == 0) {
		d->kind = D_UNIFORM;
		*why = "want uniform:MIN:MAX with MIN <= MAX";
		if (b == NULL || wl_parse_duration_ns(a, &d->a) != 0 ||
				wl_parse_duration_ns(b, &d->b) != 0 || d->a > d->b)
			return -EINVAL;
		return 0;
	}
	if (strcmp(buf, "lognormal") == 0) {
		d->kind = D_LOGNORMAL;
		*why = "want lognormal:MEDIAN:SIGMA with SIGMA in [0, 10]";
		if (b == NULL || wl_parse_duration_ns(a, &d->a) != 0 || *b == '\0')
			return -EINVAL;
		errno = 0;
		d->sigma = strtod(b, &end);
		if (errno != 0 || *end != '\0' || !(d->sigma >= 0) ||
				d->sigma > 10)
			return -EINVAL;
		return 0;
	}
	*why = "unknown distribution (fixed, uniform, lognormal, exp)";
	return -EINVAL;
}

/* MIN[:MAX] byte sizes up to MAX_SIZE. @return 0 or -EINVAL. */
static int
parse_range(const char *s, struct range *r)
{
	char buf[64], *c;
	uint64_t lo, hi;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	c = strchr(buf, ':');
	if (c != NULL)
		*c++ = '\0';
	if (parse_u64(buf, 0, MAX_SIZE, &lo) != 0)
		return -EINVAL;
	hi = lo;
	if (c != NULL && parse_u64(c, 0, MAX_SIZE, &hi) != 0)
		return -EINVAL;
	if (lo > hi)
		return -EINVAL;
	r->min = (uint32_t)lo;
	r->max = (uint32_t)hi;
	return 0;
}

/*
 * A binary min-heap of fixed-size elements, for the events of a
 * connection and for the connections being written. The orders are
 * strict and total (ties broken by a sequence number or an id), so what
 * leaves first never depends on how elements went in.
 */
#define HEAP_ELEM_MAX 64

struct heap {
	uint8_t *a;
	size_t size;            /* bytes per element, <= HEAP_ELEM_MAX */
	uint32_t n, cap;
	int (*less)(const void *x, const void *y);
};

static void *
heap_at(const struct heap *h, uint32_t i)
{
	return h->a + (size_t)i * h->size;
}

/* Move element i down to its place (it was replaced or grew). */
static void
heap_down(struct heap *h, uint32_t i)
{
	uint8_t x[HEAP_ELEM_MAX];

	memcpy(x, heap_at(h, i), h->size);
	for (;;) {
		uint32_t l = 2 * i + 1, s = i;
		const void *best = x;

		if (l < h->n && h->less(heap_at(h, l), best)) {
			s = l;
			best = heap_at(h, l);
		}
		if (l + 1 < h->n && h->less(heap_at(h, l + 1), best))
			s = l + 1;
		if (s == i)
			break;
		memcpy(heap_at(h, i), heap_at(h, s), h->size);
		i = s;
	}
	memcpy(heap_at(h, i), x, h->size);
}

/* @return 0 or -ENOMEM; the heap doubles when full. */
static int
heap_push(struct heap *h, const void *e)
{
	uint32_t i;

	if (h->n == h->cap) {
		uint32_t ncap = h->cap ? h->cap * 2 : 64;
		uint8_t *na = realloc(h->a, (size_t)ncap * h->size);

		if (na == NULL)
			return -ENOMEM;
		h->a = na;
		h->cap = ncap;
	}
	i = h->n++;
	while (i > 0 && h->less(e, heap_at(h, (i - 1) / 2))) {
		memcpy(heap_at(h, i), heap_at(h, (i - 1) / 2), h->size);
		i = (i - 1) / 2;
	}
	memcpy(heap_at(h, i), e, h->size);
	return 0;
}

/* Take the smallest element out, into out unless NULL. */
static void
heap_pop(struct heap *h, void *out)
{
	if (out != NULL)
		memcpy(out, h->a, h->size);
	if (--h->n > 0) {
		memcpy(h->a, heap_at(h, h->n), h->size);
		heap_down(h, 0);
	}
}

struct gen {
	struct opts o;
	FILE *pcap, *truth, *conns_tmp;
	struct gen_cap cap;     /* packets, bytes, first and last time */
	uint64_t ip_bytes, txns;
	uint64_t ntxn_proto[N_PROTO];
	uint16_t port_base;
	struct heap conns;      /* connections with packets left to write,
				 * by (next packet time, id) */
	uint8_t *frame;
	int truth_first;
	int conn_first;         /* no connection record written yet */
};


/* ---- connection model ---- */

/*
 * Times are capture times at the server-side tap. The server acts at the
 * tap; the client is rtt away: a server segment captured at T reaches the
 * client, and whatever the client sends in reaction is captured at T +
 * rtt. So the client is simulated in that shifted clock and its segments
 * carry their capture times directly.
 */

enum ev_type { EV_CWRITE, EV_SWRITE, EV_TX, EV_RCV, EV_DELACK, EV_CLOSE };

struct ev {
	uint64_t t, seq;
	uint64_t arg;
	uint8_t type, side, fin;
};

struct side {
	uint64_t wr_end;        /* stream bytes the application wrote */
	uint64_t snd_nxt;       /* stream bytes sent */
	uint64_t rcv_nxt;       /* peer stream bytes received */
	uint64_t ack_sent;      /* rcv_nxt + peer FIN, as last acknowledged */
	uint64_t link_free;     /* when this side's link is idle again */
	uint64_t delack_at;     /* armed delayed-ACK time, 0 none */
	uint64_t tx_at;         /* scheduled transmit time, 0 none */
	uint32_t nwritten;      /* messages written */
	uint32_t rx_done;       /* peer messages complete */
	uint32_t nstart, nend;  /* own messages whose first/last byte went */
	uint8_t ack_now, fin_pending, fin_sent, peer_fin;
};

struct sim {
	struct gen *g;
	struct conn *c;
	struct heap evq;        /* struct ev by (time, seq) */
	uint64_t evseq;
	struct side s[2];
	uint64_t srv_free;      /* when the server finished the last request */
	uint64_t cli_next;      /* the client's last request write */
	int err;
};

static int
ev_less(const void *x, const void *y)
{
	const struct ev *a = x, *b = y;

	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void
ev_push(struct sim *m, uint64_t t, uint8_t type, uint8_t side, uint64_t arg,
	uint8_t fin)
{
	struct ev e = { .t = t, .seq = m->evseq++, .arg = arg, .type = type,
		.side = side, .fin = fin };

	if (heap_push(&m->evq, &e) != 0)
		m->err = -ENOMEM;
}

static uint64_t
ser_ns(const struct gen *g, uint32_t frame_len)
{
	return ((uint64_t)(frame_len + L1_EXTRA) * 8000 + g->o.mbps - 1) /
		g->o.mbps;
}

/* Record one segment; @return its frame length. */
static uint32_t
emit(struct sim *m, int dir, uint64_t t, uint8_t flags, uint64_t off,
	uint32_t len)
{
	struct conn *c = m->c;
	struct side *me = &m->s[dir];
	struct pkt *p;
	uint32_t seq, iplen;

	if (c->npk == c->cap) {
		uint64_t ncap = c->cap ? c->cap * 2 : 256;
		struct pkt *n = realloc(c->pk, ncap * sizeof(*n));

		if (n == NULL) {
			m->err = -ENOMEM;
			return 0;
		}
		c->pk = n;
		c->cap = ncap;
	}
	seq = flags & F_SYN ? c->isn[dir] : c->isn[dir] + 1 + (uint32_t)off;
	p = &c->pk[c->npk++];
	*p = (struct pkt){ .ts = t, .seq = seq, .len = (uint16_t)len,
		.flags = flags, .dir = (uint8_t)dir };
	if (flags & F_ACK) {
		uint64_t a = me->rcv_nxt + me->peer_fin;

		p->ack = c->isn[!dir] + 1 + (uint32_t)a;
		me->ack_sent = a;
		me->ack_now = 0;
		me->delack_at = 0;
	}
	iplen = 40 + len + (flags & F_SYN ? 12 : 0);
	c->packets[dir]++;
	c->ip_bytes[dir] += iplen;
	c->payload[dir] += len;
	c->end_ns = t;
	return iplen + 14;
}

static void
kick(struct sim *m, int side, uint64_t t)
{
	struct side *s = &m->s[side];

	if (s->tx_at != 0 && s->tx_at <= t)
		return;
	s->tx_at = t;
	ev_push(m, t, EV_TX, (uint8_t)side, 0, 0);
}

/* The application of side `side` writes its next message. */
static void
app_write(struct sim *m, int side, uint64_t t)
{
	struct conn *c = m->c;
	struct side *s = &m->s[side];
	uint32_t k = s->nwritten;
	struct txn *x = &c->tx[k];
	struct msg_text mt;

	gen_msg_build(c, k, side, &mt);
	x->off[side] = s->wr_end;
	x->len[side] = mt.hlen + mt.flen + mt.tlen;
	s->wr_end += x->len[side];
	s->nwritten++;
	kick(m, side, t);
}

/* Data segment [off, off + len) of side `dir` captured at t. */
static void
mark_times(struct sim *m, int dir, uint64_t t, uint64_t off, uint32_t len)
{
	struct side *s = &m->s[dir];
	struct txn *tx = m->c->tx;

	while (s->nstart < s->nwritten && tx[s->nstart].off[dir] < off + len)
		tx[s->nstart++].t[2 * dir] = t;
	while (s->nend < s->nwritten && tx[s->nend].off[dir] +
			tx[s->nend].len[dir] <= off + len)
		tx[s->nend++].t[2 * dir + 1] = t;
}

static void
tx(struct sim *m, int side, uint64_t t)
{
	struct side *s = &m->s[side];
	uint64_t deliver = side == 1 ? t + m->g->o.rtt : t;
	uint32_t flen;

	if (s->tx_at != t)
		return;         /* superseded by an earlier kick */
	s->tx_at = 0;
	if (t < s->link_free) {
		kick(m, side, s->link_free);
		return;
	}
	if (s->snd_nxt < s->wr_end) {
		uint64_t len = s->wr_end - s->snd_nxt;
		uint8_t fl = F_ACK;

		if (len > m->g->o.mss)
			len = m->g->o.mss;
		if (s->snd_nxt + len == s->wr_end)
			fl |= F_PSH;
		flen = emit(m, side, t, fl, s->snd_nxt, (uint32_t)len);
		mark_times(m, side, t, s->snd_nxt, (uint32_t)len);
		s->snd_nxt += len;
		ev_push(m, deliver, EV_RCV, (uint8_t)!side, s->snd_nxt, 0);
	} else if (s->fin_pending && !s->fin_sent) {
		flen = emit(m, side, t, F_FIN | F_ACK, s->snd_nxt, 0);
		s->fin_sent = 1;
		if (side == 0)
			m->c->fin_ns = t;
		ev_push(m, deliver, EV_RCV, (uint8_t)!side, s->snd_nxt, 1);
	} else if (s->ack_now && s->rcv_nxt + s->peer_fin > s->ack_sent) {
		flen = emit(m, side, t, F_ACK, s->snd_nxt + s->fin_sent, 0);
	} else {
		s->ack_now = 0;
		return;
	}
	s->link_free = t + ser_ns(m->g, flen);
	if (s->snd_nxt < s->wr_end || (s->fin_pending && !s->fin_sent) ||
			s->ack_now)
		kick(m, side, s->link_free);
}

static void
rcv(struct sim *m, int side, uint64_t t, uint64_t end, int fin)
{
	const struct opts *o = &m->g->o;
	struct conn *c = m->c;
	struct side *s = &m->s[side];
	uint64_t turn = side == 1 ? TURN_NS : 0;

	if (end > s->rcv_nxt)
		s->rcv_nxt = end;
	if (fin)
		s->peer_fin = 1;
	/* The application reads every message now complete. */
	while (s->rx_done < m->s[!side].nwritten) {
		uint32_t k = s->rx_done;
		struct txn *x = &c->tx[k];

		if (x->off[!side] + x->len[!side] > s->rcv_nxt)
			break;
		s->rx_done++;
		if (side == 1) {
			/* One request at a time, in order (Redis, and HTTP/1.1
			 * pipelining): a request waits for the one before. */
			uint64_t ready = (t > m->srv_free ? t : m->srv_free) +
				x->lat;

			m->srv_free = ready;
			ev_push(m, ready, EV_SWRITE, 1, k, 0);
		} else {
			/* Requests leave in order even when several answers
			 * arrive at once with different think times. */
			uint64_t w = t + x->gap > m->cli_next ? t + x->gap :
				m->cli_next;
			uint32_t j, from = k + (uint32_t)o->pipeline;
			uint32_t to = from + 1;

			if (k + 1 < c->first) {
				/* handshake: one message answers the other */
				from = k + 1;
				to = from + 1;
			} else if (k + 1 == c->first) {
				/* handshake done: the pipeline fills */
				from = k + 1;
				to = from + (uint32_t)o->pipeline;
			}
			for (j = from; j < to && j < c->ntx; j++) {
				m->cli_next = w;
				ev_push(m, w, EV_CWRITE, 0, j, 0);
			}
			if (k + 1 == c->ntx)
				ev_push(m, t + x->gap, EV_CLOSE, 0, 0, 0);
		}
	}
	if (fin) {
		/* The server closes as soon as the client has. */
		if (side == 1)
			s->fin_pending = 1;
		s->ack_now = 1;
		kick(m, side, t + turn);
	} else if (s->rcv_nxt - s->ack_sent >= 2 * o->mss) {
		/* Every second full segment is acknowledged at once. */
		s->ack_now = 1;
		kick(m, side, t + turn);
	} else if (s->delack_at == 0 && s->rcv_nxt > s->ack_sent) {
		s->delack_at = t + DELACK_NS;
		ev_push(m, s->delack_at, EV_DELACK, (uint8_t)side, 0, 0);
	}
}

static void
txn_draw(const struct opts *o, struct conn *c, struct rng *r)
{
	uint32_t k;

	for (k = 0; k < c->ntx; k++) {
		struct txn *x = &c->tx[k];

		int w = gen_rng_range(r, 0, 99) < o->writes;
		uint32_t req = (uint32_t)gen_rng_range(r, o->req.min,
			o->req.max);
		uint32_t rsp = (uint32_t)gen_rng_range(r, o->rsp.min,
			o->rsp.max);

		memset(x, 0, sizeof(*x));
		gen_txn_set(x, c->proto, w, req, rsp);
		x->lat = gen_dist_draw(&o->lat, r);
		x->gap = gen_dist_draw(&o->gap, r);
	}
}

static int
pkt_less(const void *x, const void *y)
{
	const struct pkt *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	/* Same time: a query before its own answer, then by number. */
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return a->dir - b->dir;
}

/*
 * A DNS client socket: D queries out at once, each answered after its
 * think time (a DNS server answers queries concurrently), the client's
 * next query rtt + gap after an answer leaves the server. Datagrams of
 * one direction are spaced by their serialisation on the link.
 */
static int
dns_run(struct gen *g, struct conn *c, uint64_t start)
{
	const struct opts *o = &g->o;
	uint64_t free_at[2] = { start, start };
	uint64_t *next = calloc(o->pipeline, sizeof(*next));
	struct sim m = { .g = g, .c = c };
	uint8_t msg[DNS_MSG_MAX];
	uint32_t k;

	if (next == NULL)
		return -ENOMEM;
	for (k = 0; k < o->pipeline; k++)
		next[k] = start;
	c->syn_ns = start;
	for (k = 0; k < c->ntx; k++) {
		struct txn *x = &c->tx[k];
		uint64_t *slot = &next[k % o->pipeline];
		uint64_t tq = *slot > free_at[0] ? *slot : free_at[0];
		uint64_t ta;
		int dir;

		x->len[0] = gen_dns_build(c, k, 0, msg);
		x->len[1] = gen_dns_build(c, k, 1, msg);
		free_at[0] = tq + ser_ns(g, 42 + x->len[0]);
		ta = tq + x->lat > free_at[1] ? tq + x->lat : free_at[1];
		free_at[1] = ta + ser_ns(g, 42 + x->len[1]);
		x->t[0] = x->t[1] = tq;
		x->t[2] = x->t[3] = ta;
		*slot = ta + o->rtt + x->gap;
		for (dir = 0; dir < 2; dir++) {
			emit(&m, dir, dir ? ta : tq, 0, 0, x->len[dir]);
			c->pk[c->npk - 1].seq = k;
		}
		if (m.err != 0)
			break;
	}
	free(next);
	if (m.err == 0 && c->npk > 1)
		qsort(c->pk, c->npk, sizeof(*c->pk), pkt_less);
	return m.err;
}

/* Simulate connection c from its SYN at start. @return 0 or -ENOMEM. */
static int
conn_run(struct gen *g, struct conn *c, uint64_t start)
{
	const struct opts *o = &g->o;
	struct sim m = { .g = g, .c = c, .evq = { .size = sizeof(struct ev),
		.less = ev_less } };
	struct rng r;
	uint32_t k, h;
	uint64_t t;

	gen_rng_seed(&r, o->seed, 1 + c->id);
	c->proto = o->protos[c->id % o->n_protos];
	h = (uint32_t)(c->id % o->clients) + 1;
	c->cip = (10u << 24) | (1u << 16) | h;
	c->cport = (uint16_t)(PORT_LO + (g->port_base + c->id / o->clients) %
		PORT_SPAN);
	c->sip = 0x0a000001 + (uint32_t)c->proto;
	c->sport = o->port[c->proto];
	c->isn[0] = (uint32_t)gen_rng_next(&r);
	c->isn[1] = (uint32_t)gen_rng_next(&r);
	if (c->proto == P_DNS) {
		c->first = 0;
		c->ntx = (uint32_t)o->requests;
		c->tx = calloc(c->ntx ? c->ntx : 1, sizeof(*c->tx));
		if (c->tx == NULL)
			return -ENOMEM;
		txn_draw(o, c, &r);
		return dns_run(g, c, start);
	}
	/* MySQL: the greeting and the handshake come first. */
	c->first = c->proto == P_MY ? 2 : 0;
	c->ntx = (uint32_t)o->requests + c->first;
	c->tx = calloc(c->ntx ? c->ntx : 1, sizeof(*c->tx));
	if (c->tx == NULL)
		return -ENOMEM;
	txn_draw(o, c, &r);

	/* Handshake: the server answers after its turnaround, the client's
	 * ACK arrives one rtt later. */
	t = start;
	c->syn_ns = t;
	m.s[0].link_free = t + ser_ns(g, emit(&m, 0, t, F_SYN, 0, 0));
	t += TURN_NS;
	c->synack_ns = t;
	m.s[1].link_free = t + ser_ns(g, emit(&m, 1, t, F_SYN | F_ACK, 0, 0));
	t += o->rtt;
	c->ack_ns = t;
	m.s[0].link_free = t + ser_ns(g, emit(&m, 0, t, F_ACK, 0, 0));
	if (c->first > 0) {
		/* The server speaks first: message 0 has no request. */
		app_write(&m, 0, t);
		m.s[1].rx_done = 1;
		m.srv_free = t + c->tx[0].lat;
		ev_push(&m, m.srv_free, EV_SWRITE, 1, 0, 0);
	}
	for (k = 0; c->first == 0 && k < c->ntx && k < o->pipeline; k++)
		ev_push(&m, t, EV_CWRITE, 0, k, 0);
	if (c->ntx == 0)
		ev_push(&m, t, EV_CLOSE, 0, 0, 0);

	while (m.evq.n > 0 && m.err == 0) {
		struct ev e;

		heap_pop(&m.evq, &e);
		switch (e.type) {
		case EV_CWRITE:
			app_write(&m, 0, e.t);
			break;
		case EV_SWRITE:
			app_write(&m, 1, e.t);
			break;
		case EV_TX:
			tx(&m, e.side, e.t);
			break;
		case EV_RCV:
			rcv(&m, e.side, e.t, e.arg, e.fin);
			break;
		case EV_DELACK:
			if (m.s[e.side].delack_at == e.t) {
				m.s[e.side].delack_at = 0;
				m.s[e.side].ack_now = 1;
				kick(&m, e.side, e.t);
			}
			break;
		case EV_CLOSE:
			m.s[0].fin_pending = 1;
			kick(&m, 0, e.t);
			break;
		}
	}
	free(m.evq.a);
	return m.err;
}

/* ---- capture writing ---- */

/* Copy len payload bytes of direction dir from the cursor into out. */
static void
render(struct conn *c, int dir, uint8_t *out, uint32_t len)
{
	while (len > 0) {
		struct txn *x = &c->tx[c->cur[dir]];
		struct msg_text *mt = &c->text[dir];
		uint64_t in, n;

		if (c->pos[dir] >= x->off[dir] + x->len[dir]) {
			c->cur[dir]++;
			continue;
		}
		if (c->cached[dir] != c->cur[dir] + 1) {
			gen_msg_build(c, c->cur[dir], dir, mt);
			c->cached[dir] = c->cur[dir] + 1;
		}
		in = c->pos[dir] - x->off[dir];
		if (in < mt->hlen) {
			n = mt->hlen - in;
			n = n < len ? n : len;
			memcpy(out, mt->head + in, n);
		} else if (in < mt->hlen + mt->flen) {
			uint64_t f = in - mt->hlen;

			n = mt->flen - f;
			n = n < len ? n : len;
			n = n < FILL_CHUNK ? n : FILL_CHUNK;
			memcpy(out, gen_fill_buf + f % FILL_PERIOD, n);
		} else {
			uint64_t tt = in - mt->hlen - mt->flen;

			n = mt->tlen - tt;
			n = n < len ? n : len;
			memcpy(out, mt->tail + tt, n);
		}
		out += n;
		len -= (uint32_t)n;
		c->pos[dir] += n;
	}
}

static const uint8_t srv_mac[N_PROTO][6] = {
	{ 0x02, 0x00, 0x0a, 0x00, 0x00, 0x01 },
	{ 0x02, 0x00, 0x0a, 0x00, 0x00, 0x02 },
	{ 0x02, 0x00, 0x0a, 0x00, 0x00, 0x03 },
	{ 0x02, 0x00, 0x0a, 0x00, 0x00, 0x04 },
	{ 0x02, 0x00, 0x0a, 0x00, 0x00, 0x05 },
	{ 0x02, 0x00, 0x0a, 0x00, 0x00, 0x06 },
};
static const uint8_t gw_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x00, 0xfe };

/*
 * Link and IPv4 headers of a frame of c in direction dir carrying l4len
 * bytes of protocol l4proto, at g->frame. The tap is at the server:
 * clients are behind a gateway. @return the L4 header's offset.
 */
static uint32_t
ip_put(struct gen *g, struct conn *c, int dir, uint8_t l4proto,
	uint32_t l4len)
{
	const uint8_t *smac = srv_mac[c->proto];
	uint8_t a[2][4];
	uint32_t l2;

	gen_put32(a[0], c->cip);
	gen_put32(a[1], c->sip);
	l2 = gen_l2_put(g->frame, g->o.link, 0, dir ? smac : gw_mac,
		dir ? gw_mac : smac, dir == 0, -1);
	return l2 + gen_ip_put(g->frame + l2, 0, a[dir], a[!dir], l4proto,
		l4len, dir ? 64 : 61, ++c->ipid[dir]);
}

/* The frame's record at ts, cut to --snaplen; the totals. */
static int
record(struct gen *g, uint64_t ts, uint32_t l4off, uint32_t l4len)
{
	uint32_t l2 = l4off - 20;

	gen_l4_csum_set(g->frame + l2, l4len);
	g->ip_bytes += 20 + l4len;
	return gen_cap_put(&g->cap, ts, g->frame, l4off + l4len);
}

static int
write_udp(struct gen *g, struct conn *c, const struct pkt *p)
{
	int dir = p->dir;
	uint32_t off = gen_l2_len(g->o.link, -1) + 20;
	uint32_t len = gen_dns_build(c, p->seq, dir, g->frame + off + 8);

	ip_put(g, c, dir, 17, 8 + len);
	gen_udp_put(g->frame + off, dir ? c->sport : c->cport,
		dir ? c->cport : c->sport, len);
	return record(g, p->ts, off, 8 + len);
}

static int
write_pkt(struct gen *g, struct conn *c, const struct pkt *p)
{
	int dir = p->dir;
	uint32_t thl = p->flags & F_SYN ? 20 + GEN_SYN_OPT_LEN : 20, off;

	if (c->proto == P_DNS)
		return write_udp(g, c, p);
	off = ip_put(g, c, dir, 6, thl + p->len);
	gen_tcp_put(g->frame + off, dir ? c->sport : c->cport,
		dir ? c->cport : c->sport, p->seq, p->ack, p->flags,
		p->flags & F_SYN ? (dir ? 65160 : 64240) : WIN_FIELD,
		g->o.mss > 65535 ? 65535 : (uint16_t)g->o.mss, WSCALE);
	if (p->len)
		render(c, dir, g->frame + off + thl, p->len);
	return record(g, p->ts, off, thl + p->len);
}

/* Connections by (next packet time, id). */
static int
conn_less(const void *x, const void *y)
{
	const struct conn *a = *(struct conn *const *)x;
	const struct conn *b = *(struct conn *const *)y;
	uint64_t ta = a->pk[a->next].ts, tb = b->pk[b->next].ts;

	return ta < tb || (ta == tb && a->id < b->id);
}

static void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	free(c->tx);
	free(c->pk);
	free(c);
}

/* Write every packet earlier than limit, in (time, connection) order. */
static int
flush(struct gen *g, uint64_t limit)
{
	while (g->conns.n > 0) {
		struct conn *c = *(struct conn **)heap_at(&g->conns, 0);
		int rc;

		if (c->pk[c->next].ts >= limit)
			return 0;
		rc = write_pkt(g, c, &c->pk[c->next]);
		if (rc != 0)
			return rc;
		if (++c->next == c->npk) {
			heap_pop(&g->conns, NULL);
			conn_free(c);
		} else {
			heap_down(&g->conns, 0);  /* its key grew */
		}
	}
	return 0;
}

/* ---- ground truth ---- */

static const char *
ip_str(uint32_t a, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		(a >> 8) & 255, a & 255);
	return buf;
}

static int
dump(json_t *o, FILE *f)
{
	int rc;

	if (o == NULL)
		return -ENOMEM;
	rc = json_dumpf(o, f, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(o);
	return rc == 0 ? 0 : -EIO;
}

static int
truth_conn(struct gen *g, const struct conn *c)
{
	char cip[16], sip[16], method[8], res[48], status[16];
	const char *proto = proto_name[c->proto];
	uint32_t k;

	ip_str(c->cip, cip, sizeof(cip));
	ip_str(c->sip, sip, sizeof(sip));
	for (k = c->first > 0; k < c->ntx; k++) {
		const struct txn *x = &c->tx[k];
		uint64_t t0 = x->t[0];
		uint32_t rb = x->len[1];

		if (c->proto == P_DNS) {
			strcpy(method, x->write ? "AAAA" : "A");
			snprintf(res, sizeof(res), "q%u.c%u.wlgen.test", k,
				c->id);
			strcpy(status, gen_dns_rrs(x) ? "NOERROR" : "NXDOMAIN");
		} else if (c->proto == P_MY && k == 1) {
			/* As wirelat times a handshake: from the greeting's
			 * first byte; the greeting is in its response bytes. */
			strcpy(method, "connect");
			snprintf(res, sizeof(res), "db_%u", c->id);
			strcpy(status, "OK");
			t0 = c->tx[0].t[2];
			rb += c->tx[0].len[1];
		} else if (c->proto == P_HTTP) {
			strcpy(method, x->post ? "POST" : "GET");
			snprintf(res, sizeof(res), "/r/%u/%u", c->id, k);
			strcpy(status, x->write ? "201" : "200");
		} else if (c->proto == P_REDIS) {
			strcpy(method, x->write ? "SET" : "GET");
			snprintf(res, sizeof(res), "key:%u:%u", c->id, k);
			strcpy(status, "OK");
		} else if (c->proto == P_MC) {
			strcpy(method, x->write ? "set" : "get");
			snprintf(res, sizeof(res), "key:%u:%u", c->id, k);
			strcpy(status, x->write ? "STORED" : "HIT");
		} else {
			/* As wirelat normalises the statement: the table
			 * name tells transactions apart. */
			/* MySQL too. */
			strcpy(method, x->write ? "INSERT" : "SELECT");
			snprintf(res, sizeof(res), x->write ?
				"INSERT INTO kv_%u_%u VALUES (?)" :
				"SELECT v FROM kv_%u_%u", c->id, k);
			strcpy(status, "OK");
		}
		if (fputs(g->truth_first ? "\n" : ",\n", g->truth) == EOF)
			return -EIO;
		g->truth_first = 0;
		/* printf, not jansson: a million transactions cost 7 s
		 * as objects and well under one this way; no field here
		 * needs escaping (addresses, digits, fixed words). */
		if (fprintf(g->truth, "{\"proto\":\"%s\",\"client_ip\":\"%s\","
			"\"client_port\":%u,\"server_ip\":\"%s\","
			"\"server_port\":%u,\"method\":\"%s\","
			"\"resource\":\"%s\",\"status\":\"%s\","
			"\"req_start_ns\":%" PRIu64 ",\"req_end_ns\":%" PRIu64
			",\"rsp_start_ns\":%" PRIu64 ",\"rsp_end_ns\":%" PRIu64
			",\"req_bytes\":%u,\"rsp_bytes\":%u,\"conn\":%u,"
			"\"index\":%u,\"req_size\":%u,\"rsp_size\":%u",
			proto, cip, c->cport, sip, c->sport, method, res,
			status, t0, x->t[1], x->t[2], x->t[3],
			x->len[0], rb, c->id, k, x->size[0],
			x->size[1]) < 0)
			return -EIO;
		/* The greeting leads a handshake's response bytes. */
		if (c->proto == P_MY && k == 1 &&
				fprintf(g->truth, ",\"greeting_bytes\":%u",
					c->tx[0].len[1]) < 0)
			return -EIO;
		if (fputc('}', g->truth) == EOF)
			return -EIO;
	}
	/* UDP has no connection to record. */
	if (c->proto == P_DNS)
		return 0;
	if (fputs(g->conn_first ? "\n" : ",\n", g->conns_tmp) == EOF)
		return -EIO;
	g->conn_first = 0;
	return dump(json_pack("{s:i, s:s, s:s, s:i, s:s, s:i, s:s,"
		" s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
		" s:I, s:I, s:i}",
		"conn", (int)c->id, "proto", proto, "client_ip", cip,
		"client_port", (int)c->cport, "server_ip", sip,
		"server_port", (int)c->sport, "status", "established",
		"syn_ns", (json_int_t)c->syn_ns,
		"synack_ns", (json_int_t)c->synack_ns,
		"ack_ns", (json_int_t)c->ack_ns,
		"fin_ns", (json_int_t)c->fin_ns,
		"end_ns", (json_int_t)c->end_ns,
		"server_rtt_ns", (json_int_t)(c->synack_ns - c->syn_ns),
		"client_rtt_ns", (json_int_t)(c->ack_ns - c->synack_ns),
		"c2s_packets", (json_int_t)c->packets[0],
		"s2c_packets", (json_int_t)c->packets[1],
		"c2s_bytes", (json_int_t)c->ip_bytes[0],
		"s2c_bytes", (json_int_t)c->ip_bytes[1],
		"c2s_payload", (json_int_t)c->payload[0],
		"s2c_payload", (json_int_t)c->payload[1],
		"requests", (int)(c->ntx - (c->first > 0))), g->conns_tmp);
}

static json_t *
opts_json(const struct opts *o)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:[I,I], s:[I,I], s:I, s:s,"
		" s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:i, s:i,"
		" s:i, s:i, s:I, s:s, s:s}",
		"proto", o->proto_text,
		"connections", (json_int_t)o->conns,
		"requests", (json_int_t)o->requests,
		"pipeline", (json_int_t)o->pipeline,
		"req_size", (json_int_t)o->req.min, (json_int_t)o->req.max,
		"rsp_size", (json_int_t)o->rsp.min, (json_int_t)o->rsp.max,
		"mss", (json_int_t)o->mss, "latency", o->lat.text,
		"rtt_ns", (json_int_t)o->rtt, "gap", o->gap.text,
		"conn_interval", o->interval.text,
		"start_ns", (json_int_t)o->start,
		"snaplen", (json_int_t)o->snaplen,
		"link_mbps", (json_int_t)o->mbps,
		"clients", (json_int_t)o->clients,
		"writes_pct", (json_int_t)o->writes,
		"http_port", (int)o->port[P_HTTP],
		"redis_port", (int)o->port[P_REDIS],
		"memcached_port", (int)o->port[P_MC],
		"postgresql_port", (int)o->port[P_PG],
		"mysql_port", (int)o->port[P_MY],
		"dns_port", (int)o->port[P_DNS],
		"seed", (json_int_t)o->seed,
		"format", gen_format_name[o->fmt],
		"link", gen_link_name[o->link]);
}

/* Copy the connection records into the truth and close it. */
static int
truth_finish(struct gen *g)
{
	char buf[65536];
	size_t n;
	int rc;

	if (fputs("\n],\n\"connections\": [", g->truth) == EOF)
		return -EIO;
	rewind(g->conns_tmp);
	while ((n = fread(buf, 1, sizeof(buf), g->conns_tmp)) > 0)
		if (fwrite(buf, 1, n, g->truth) != n)
			return -EIO;
	if (ferror(g->conns_tmp))
		return -EIO;
	fprintf(g->truth, "\n],\n\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64
		", \"ip_bytes\": %" PRIu64 ", \"transactions_count\": %" PRIu64
		", \"http_transactions\": %" PRIu64
		", \"redis_transactions\": %" PRIu64
		", \"memcached_transactions\": %" PRIu64
		", \"postgresql_transactions\": %" PRIu64
		", \"mysql_transactions\": %" PRIu64
		", \"dns_transactions\": %" PRIu64
		", \"first_ns\": %" PRIu64 ", \"last_ns\": %" PRIu64 "}\n",
		g->cap.packets, g->cap.bytes, g->ip_bytes, g->txns,
		g->ntxn_proto[P_HTTP], g->ntxn_proto[P_REDIS],
		g->ntxn_proto[P_MC], g->ntxn_proto[P_PG], g->ntxn_proto[P_MY],
		g->ntxn_proto[P_DNS], g->cap.first_ns, g->cap.last_ns);
	rc = ferror(g->truth) ? -EIO : 0;
	if (fclose(g->truth) != 0)
		rc = -EIO;
	g->truth = NULL;
	return rc;
}

static int
truth_start(struct gen *g)
{
	json_t *o = opts_json(&g->o);
	int rc;

	if (o == NULL)
		return -ENOMEM;
	fprintf(g->truth, "{\"generator\": \"wirelat-replay gen\", "
		"\"seed\": %" PRIu64 ",\n\"options\": ", g->o.seed);
	rc = dump(o, g->truth);
	if (rc == 0 && fputs(",\n\"transactions\": [", g->truth) == EOF)
		rc = -EIO;
	g->truth_first = 1;
	g->conn_first = 1;
	return rc;
}

/* ---- command line ---- */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: wirelat-replay gen -o FILE.pcap [options]\n"
"       wirelat-replay gen --scenario S -o FILE.pcap [options]\n"
"  -o, --out FILE          capture to write (required)\n"
"  -t, --truth FILE        ground-truth JSON to write\n"
"  --proto P[,P...]        http, redis, memcached (text), postgresql (simple\n"
"                          queries), mysql (COM_QUERY, after a handshake),\n"
"                          dns (UDP), in turn per connection; mix is\n"
"                          http,redis, all every one [mix]\n"
"  --connections N         connections [16]\n"
"  --requests N            requests per connection [100]\n"
"  --pipeline D            requests in flight per connection [1]\n"
"  --req-size MIN[:MAX]    request payload bytes [16:256]\n"
"  --rsp-size MIN[:MAX]    response body bytes [64:4096]\n"
"  --writes PCT            %% of requests that write (POST, SET, set, INSERT) [20]\n"
"  --mss N                 TCP segment payload bytes [1448]\n"
"  --latency DIST          server think time [lognormal:200us:0.5]\n"
"                          fixed:D | uniform:MIN:MAX | lognormal:MEDIAN:SIGMA\n"
"                          | exp:MEAN; durations take ns, us, ms, s\n"
"  --rtt D                 network round trip, tap at the server [100us]\n"
"  --gap DIST              client think time after a response [0]\n"
"  --conn-interval DIST    time between connection starts [1ms]\n"
"  --link-mbps N           link speed, spaces segments [10000]\n"
"  --clients N             client hosts 10.1.x.y [16]\n"
"  --http-port N, --redis-port N, --memcached-port N, --postgresql-port N,\n"
"  --mysql-port N, --dns-port N\n"
"                          server ports [80, 6379, 11211, 5432, 3306, 53]\n"
"  --seed N                PRNG seed [1]\n"
"  --start NS              first SYN, ns since the epoch [1700000000000000000]\n"
"  --snaplen N             bytes kept per packet [65535]\n"
"  --format F              pcap-ns, pcapng, or pcap (microseconds; scenarios\n"
"                          only) [pcap-ns]\n"
"  --link L                ether, sll, sll2, null, loop, raw [ether]\n"
"  --scenario S            a hand-made capture instead of the workload\n"
"                          (docs/replay.md): sample, handshake, tcp-impair,\n"
"                          l7, bench, syn-flood; each takes -o, -t,\n"
"                          --connections, --seed, --format, --link,\n"
"                          --snaplen; bench also --proto P (one),\n"
"                          --pipeline D, --packets N; syn-flood --packets N\n"
"  --packets N             bench: packets to write [1000000];\n"
"                          syn-flood: SYNs of the flood [1500000]\n");
}

enum {
	O_PROTO = 256, O_CONNS, O_REQS, O_PIPE, O_REQSZ, O_RSPSZ, O_WRITES,
	O_MSS, O_LAT, O_RTT, O_GAP, O_IVAL, O_MBPS, O_CLIENTS, O_HPORT,
	O_RPORT, O_MPORT, O_PPORT, O_YPORT, O_DPORT, O_SEED, O_START, O_SNAP,
	O_FMT, O_LINK, O_SCEN, O_PKTS,
};

#define GIVEN(opt) (1ULL << ((opt) - O_PROTO))

static const struct option long_opts[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "truth", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ "proto", required_argument, NULL, O_PROTO },
	{ "connections", required_argument, NULL, O_CONNS },
	{ "requests", required_argument, NULL, O_REQS },
	{ "pipeline", required_argument, NULL, O_PIPE },
	{ "req-size", required_argument, NULL, O_REQSZ },
	{ "rsp-size", required_argument, NULL, O_RSPSZ },
	{ "writes", required_argument, NULL, O_WRITES },
	{ "mss", required_argument, NULL, O_MSS },
	{ "latency", required_argument, NULL, O_LAT },
	{ "rtt", required_argument, NULL, O_RTT },
	{ "gap", required_argument, NULL, O_GAP },
	{ "conn-interval", required_argument, NULL, O_IVAL },
	{ "link-mbps", required_argument, NULL, O_MBPS },
	{ "clients", required_argument, NULL, O_CLIENTS },
	{ "http-port", required_argument, NULL, O_HPORT },
	{ "redis-port", required_argument, NULL, O_RPORT },
	{ "memcached-port", required_argument, NULL, O_MPORT },
	{ "postgresql-port", required_argument, NULL, O_PPORT },
	{ "mysql-port", required_argument, NULL, O_YPORT },
	{ "dns-port", required_argument, NULL, O_DPORT },
	{ "seed", required_argument, NULL, O_SEED },
	{ "start", required_argument, NULL, O_START },
	{ "snaplen", required_argument, NULL, O_SNAP },
	{ "format", required_argument, NULL, O_FMT },
	{ "link", required_argument, NULL, O_LINK },
	{ "scenario", required_argument, NULL, O_SCEN },
	{ "packets", required_argument, NULL, O_PKTS },
	{ NULL, 0, NULL, 0 },
};

static const char *
opt_name(int opt)
{
	const struct option *l;

	for (l = long_opts; l->name != NULL; l++)
		if (l->val == opt)
			return l->name;
	return "?";
}

static int
bad(int opt, const char *why)
{
	if (opt < 256)
		fprintf(stderr, PROG ": -%c/--%s: %s\n", opt, opt_name(opt),
			why);
	else
		fprintf(stderr, PROG ": --%s: %s\n", opt_name(opt), why);
	return 2;
}

/*
 * --proto: a comma list of protocols, each once, or "mix" (http,redis)
 * or "all" (every one). @return 0 or -EINVAL.
 */
static int
proto_list(struct opts *o, const char *a)
{
	char buf[sizeof(o->proto_text)], *tok, *save = NULL;
	const char *given = a;
	uint32_t i, j, n = 0;

	if (strcmp(a, "mix") == 0)
		a = "http,redis";
	else if (strcmp(a, "all") == 0)
		a = "http,redis,memcached,postgresql,mysql,dns";
	if (strlen(a) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, a);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
			tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < N_PROTO && strcmp(tok, proto_name[i]) != 0;
				i++)
			;
		if (i == N_PROTO || n == N_PROTO)
			return -EINVAL;
		o->protos[n++] = (enum proto)i;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (o->protos[i] == o->protos[j])
				return -EINVAL;
	if (n == 0)
		return -EINVAL;
	o->n_protos = n;
	strcpy(o->proto_text, given);
	return 0;
}

/* The index of a in names[0..n), or -1. */
static int
name_index(const char *const *names, int n, const char *a)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], a) == 0)
			return i;
	return -1;
}

/*
 * What a scenario takes of the options given (bit GIVEN(opt) each), and
 * its defaults. @return 0 or 2 (one line on stderr).
 */
static int
scen_opts(struct opts *o, uint64_t given)
{
	uint64_t ok = GIVEN(O_CONNS) | GIVEN(O_SEED) | GIVEN(O_FMT) |
		GIVEN(O_LINK) | GIVEN(O_SNAP) | GIVEN(O_SCEN);
	const char *name = gen_scen_name[o->scen];
	char why[96];
	int opt;

	if (o->scen == GS_BENCH)
		ok |= GIVEN(O_PROTO) | GIVEN(O_PIPE) | GIVEN(O_PKTS);
	if (o->scen == GS_SYN_FLOOD) {
		ok |= GIVEN(O_PKTS);
		if (!(given & GIVEN(O_PKTS)))
			o->packets = 1500000;
	}
	for (opt = O_PROTO; opt <= O_PKTS; opt++) {
		if (!(given & GIVEN(opt) & ~ok))
			continue;
		snprintf(why, sizeof(why), "not used by --scenario %s", name);
		return bad(opt, why);
	}
	if (!(given & GIVEN(O_CONNS)))
		o->conns = scen_conns[o->scen][0];
	if (o->conns > scen_conns[o->scen][1]) {
		snprintf(why, sizeof(why), "want 1..%" PRIu64 " with "
			"--scenario %s", scen_conns[o->scen][1], name);
		return bad(O_CONNS, why);
	}
	if (o->scen != GS_BENCH)
		return 0;
	/* Whole messages of one packet, each under the MTU. */
	if (o->pipeline > 64)
		return bad(O_PIPE, "want 1..64 with --scenario bench");
	if (!(given & GIVEN(O_PROTO))) {
		o->protos[0] = P_HTTP;
		o->n_protos = 1;
		strcpy(o->proto_text, "http");
	} else if (o->n_protos != 1) {
		return bad(O_PROTO, "--scenario bench takes one protocol");
	}
	if (o->link != GEN_LINK_ETHER)
		return bad(O_LINK, "--scenario bench writes ether only");
	return 0;
}

/* @return 0, 1 (help printed) or 2 (one line on stderr). */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	uint64_t v, given = 0;
	const char *why;
	uint32_t i, j;
	int opt, k;

	*o = (struct opts){
		.protos = { P_HTTP, P_REDIS }, .n_protos = 2,
		.proto_text = "mix",
		.conns = 16, .requests = 100, .pipeline = 1,
		.mss = 1448, .seed = 1, .start = GEN_BASE_NS,
		.snaplen = 65535, .rtt = 100000, .mbps = 10000, .clients = 16,
		.writes = 20, .port = { 80, 6379, 11211, 5432, 3306, 53 },
		.req = { 16, 256 }, .rsp = { 64, 4096 },
		.lat = { D_LOGNORMAL, 200000, 0, 0.5, "lognormal:200us:0.5" },
		.gap = { D_FIXED, 0, 0, 0, "0" },
		.interval = { D_FIXED, 1000000, 0, 0, "1ms" },
		.scen = GS_NONE, .fmt = GEN_FMT_PCAP_NS, .link = GEN_LINK_ETHER,
		.packets = 1000000,
	};
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:t:h", long_opts,
			NULL)) != -1) {
		const char *a = optarg;

		if (opt >= O_PROTO && opt <= O_PKTS)
			given |= GIVEN(opt);
		switch (opt) {
		case 'o':
			if (*a == '\0')
				return bad(opt, "needs a file name");
			o->out = a;
			break;
		case 't':
			if (*a == '\0')
				return bad(opt, "needs a file name");
			o->truth = a;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case O_PROTO:
			if (proto_list(o, a) != 0)
				return bad(opt, "want a list of http, redis, "
					"memcached, postgresql, mysql, dns; mix "
					"or all");
			break;
		case O_CONNS:
			if (parse_u64(a, 1, 10000000, &o->conns) != 0)
				return bad(opt, "want an integer in 1..10000000");
			break;
		case O_REQS:
			if (parse_u64(a, 0, 100000000, &o->requests) != 0)
				return bad(opt, "want an integer in 0..100000000");
			break;
		case O_PIPE:
			if (parse_u64(a, 1, 65536, &o->pipeline) != 0)
				return bad(opt, "want an integer in 1..65536");
			break;
		case O_REQSZ:
		case O_RSPSZ:
			if (parse_range(a, opt == O_REQSZ ? &o->req :
					&o->rsp) != 0)
				return bad(opt, "want MIN[:MAX] bytes, "
					"MIN <= MAX <= 16777216");
			break;
		case O_WRITES:
			if (parse_u64(a, 0, 100, &o->writes) != 0)
				return bad(opt, "want a percentage 0..100");
			break;
		case O_MSS:
			if (parse_u64(a, 8, 65000, &o->mss) != 0)
				return bad(opt, "want an integer in 8..65000");
			break;
		case O_LAT:
		case O_GAP:
		case O_IVAL:
			if (parse_dist(a, opt == O_LAT ? &o->lat : opt == O_GAP ?
					&o->gap : &o->interval, &why) != 0)
				return bad(opt, why);
			break;
		case O_RTT:
			if (wl_parse_duration_ns(a, &o->rtt) != 0)
				return bad(opt, "want a duration, e.g. 100us");
			break;
		case O_MBPS:
			if (parse_u64(a, 1, 100000000, &o->mbps) != 0)
				return bad(opt, "want Mbit/s in 1..100000000");
			break;
		case O_CLIENTS:
			if (parse_u64(a, 1, 65000, &o->clients) != 0)
				return bad(opt, "want an integer in 1..65000");
			break;
		case O_HPORT:
		case O_RPORT:
		case O_MPORT:
		case O_PPORT:
		case O_YPORT:
		case O_DPORT:
			if (parse_u64(a, 1, 65535, &v) != 0)
				return bad(opt, "want a port in 1..65535");
			o->port[opt - O_HPORT] = (uint16_t)v;
			break;
		case O_SEED:
			if (parse_u64(a, 0, INT64_MAX, &o->seed) != 0)
				return bad(opt, "want an integer in 0..2^63-1");
			break;
		case O_START:
			if (parse_u64(a, 0, 4000000000ULL * NS_PER_S,
					&o->start) != 0)
				return bad(opt, "want ns since the epoch, "
					"below 4e18");
			break;
		case O_SNAP:
			if (parse_u64(a, 54, 262144, &o->snaplen) != 0)
				return bad(opt, "want an integer in 54..262144");
			break;
		case O_FMT:
			k = name_index(gen_format_name, GEN_N_FMT, a);
			if (k < 0)
				return bad(opt, "want pcap, pcap-ns or pcapng");
			o->fmt = (enum gen_format)k;
			break;
		case O_LINK:
			k = name_index(gen_link_name, GEN_N_LINK, a);
			if (k < 0)
				return bad(opt, "want ether, sll, sll2, null, "
					"loop or raw");
			o->link = (enum gen_link)k;
			break;
		case O_SCEN:
			k = name_index(gen_scen_name, GS_N, a);
			if (k <= GS_NONE)
				return bad(opt, "want sample, handshake, "
					"tcp-impair, l7, bench or syn-flood");
			o->scen = (enum gen_scen)k;
			break;
		case O_PKTS:
			if (parse_u64(a, 1, 1000000000, &o->packets) != 0)
				return bad(opt, "want an integer in "
					"1..1000000000");
			break;
		case ':':
			if (optopt >= 256 || optopt == 'o' || optopt == 't')
				return bad(optopt, "needs a value");
			fprintf(stderr, PROG ": %s: needs a value\n",
				argv[optind - 1]);
			return 2;
		default:
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				fprintf(stderr, PROG ": %.*s: unknown option "
					"or no value allowed\n",
					(int)strcspn(argv[optind - 1], "="),
					argv[optind - 1]);
			else if (optopt != 0 && optopt < 256)
				fprintf(stderr, PROG ": -%c: unknown option\n",
					optopt);
			else
				fprintf(stderr, PROG ": %s: unknown option\n",
					argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": %s: unexpected argument\n",
			argv[optind]);
		return 2;
	}
	if (o->out == NULL)
		return bad('o', "required: the pcap to write");
	if (o->scen != GS_NONE)
		return scen_opts(o, given);
	if (given & GIVEN(O_PKTS))
		return bad(O_PKTS, "only with --scenario bench or syn-flood");
	/* The workload's times are ns: microseconds would move them. */
	if (o->fmt == GEN_FMT_PCAP)
		return bad(O_FMT, "pcap keeps microseconds: the workload "
			"wants pcap-ns or pcapng");
	for (i = 0; i < o->n_protos; i++)
		for (j = 0; j < i; j++)
			if (o->port[o->protos[i]] == o->port[o->protos[j]])
				return bad(O_HPORT + (int)o->protos[i],
					"must differ from the other protocols' "
					"ports");
	/* No flow control is modelled: what may be in flight must fit the
	 * receive window, or analyzers would see a full window. */
	if (o->pipeline * ((uint64_t)o->req.max + MSG_OVERHEAD) >= WIN_BYTES ||
			o->pipeline * ((uint64_t)o->rsp.max + MSG_OVERHEAD) >=
			WIN_BYTES)
		return bad(O_PIPE, "pipeline x largest message exceeds the "
			"32 MiB receive window");
	if ((o->conns - 1) / o->clients >= PORT_SPAN)
		return bad(O_CONNS, "more than 28232 per client host: "
			"raise --clients");
	return 0;
}

int
wr_gen_main(int argc, char **argv)
{
	struct gen g = { 0 };
	struct rng r;
	uint64_t c, start;
	int rc;

	rc = parse_opts(argc, argv, &g.o);
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	gen_fill_init();
	if (g.o.scen == GS_BENCH)
		return gen_bench_main(&g.o);
	if (g.o.scen != GS_NONE)
		return gen_scen_main(&g.o);
	gen_rng_seed(&r, g.o.seed, 0);
	g.port_base = (uint16_t)gen_rng_range(&r, 0, PORT_SPAN - 1);
	g.frame = malloc(GEN_L2_MAX + 20 + 20 + GEN_SYN_OPT_LEN + 65536);
	g.conns = (struct heap){ .size = sizeof(struct conn *),
		.less = conn_less };
	g.pcap = fopen(g.o.out, "wb");
	if (g.frame == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (g.pcap == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", g.o.out, strerror(errno));
		rc = -errno;
		goto out;
	}
	setvbuf(g.pcap, NULL, _IOFBF, 1 << 20);
	if (g.o.truth != NULL) {
		g.truth = fopen(g.o.truth, "w");
		if (g.truth == NULL) {
			fprintf(stderr, PROG ": %s: %s\n", g.o.truth,
				strerror(errno));
			rc = -errno;
			goto out;
		}
		g.conns_tmp = tmpfile();
		if (g.conns_tmp == NULL) {
			fprintf(stderr, PROG ": temporary file: %s\n",
				strerror(errno));
			rc = -errno;
			goto out;
		}
		rc = truth_start(&g);
		if (rc != 0)
			goto io;
	}
	rc = gen_cap_start(&g.cap, g.pcap, g.o.fmt, g.o.link,
		(uint32_t)g.o.snaplen);
	if (rc != 0)
		goto io;

	start = g.o.start;
	for (c = 0; c < g.o.conns; c++) {
		struct conn *cn;

		if (c > 0)
			start += gen_dist_draw(&g.o.interval, &r);
		/* Nothing a later connection sends precedes its SYN. */
		rc = flush(&g, start);
		if (rc != 0)
			goto io;
		cn = calloc(1, sizeof(*cn));
		if (cn == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		cn->id = (uint32_t)c;
		rc = conn_run(&g, cn, start);
		if (rc == 0 && g.truth != NULL)
			rc = truth_conn(&g, cn);
		if (rc != 0) {
			conn_free(cn);
			goto io;
		}
		/* MySQL's greeting and handshake are one transaction. */
		g.txns += cn->ntx - (cn->first > 0);
		g.ntxn_proto[cn->proto] += cn->ntx - (cn->first > 0);
		if (cn->npk == 0) {
			/* DNS without a query: nothing to write. */
			conn_free(cn);
			continue;
		}
		/* The message table stays for rendering; the packets go. */
		if (heap_push(&g.conns, &cn) != 0) {
			conn_free(cn);
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = flush(&g, UINT64_MAX);
	if (rc != 0)
		goto io;
	if (fflush(g.pcap) != 0 || ferror(g.pcap)) {
		rc = -EIO;
		goto io;
	}
	if (g.truth != NULL) {
		rc = truth_finish(&g);
		if (rc != 0)
			goto io;
	}
	fprintf(stderr, PROG ": %" PRIu64 " packets, %" PRIu64 " bytes, %"
		PRIu64 " transactions (%" PRIu64 " http, %" PRIu64
		" redis, %" PRIu64 " memcached, %" PRIu64 " postgresql, %"
		PRIu64 " mysql, %" PRIu64 " dns), %.6f s"
		" of capture -> %s\n",
		g.cap.packets, g.cap.bytes, g.txns, g.ntxn_proto[P_HTTP],
		g.ntxn_proto[P_REDIS], g.ntxn_proto[P_MC], g.ntxn_proto[P_PG],
		g.ntxn_proto[P_MY], g.ntxn_proto[P_DNS],
		(double)(g.cap.last_ns - g.cap.first_ns) / 1e9, g.o.out);
	goto out;
io:
	if (rc == -ENOMEM)
		goto out;
	fprintf(stderr, PROG ": writing the output failed: %s\n",
		strerror(-rc));
out:
	if (rc == -ENOMEM)
		fprintf(stderr, PROG ": out of memory\n");
	while (g.conns.n > 0)
		conn_free(*(struct conn **)heap_at(&g.conns, --g.conns.n));
	if (g.pcap != NULL && fclose(g.pcap) != 0 && rc == 0) {
		fprintf(stderr, PROG ": %s: %s\n", g.o.out, strerror(errno));
		rc = -EIO;
	}
	if (g.truth != NULL)
		fclose(g.truth);
	if (g.conns_tmp != NULL)
		fclose(g.conns_tmp);
	free(g.conns.a);
	free(g.frame);
	return rc == 0 ? 0 : 1;
}
