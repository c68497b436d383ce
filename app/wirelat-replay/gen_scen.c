/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The hand-made scenarios of wirelat-replay gen (--scenario): captures
 * that each test one thing, with the truth of every connection (and for
 * l7 every transaction) to the ns.
 *
 *   handshake   connections to four servers (one IPv6): 10% refused
 *               (RST), 5% unanswered (the SYN sent three times), 5%
 *               without the client's last ACK; the rest one request
 *   sample      connections over 10 s to five servers (one IPv6, Redis
 *               on 6379, HTTP on the others), lognormal RTTs, sizes and
 *               think times, 20% tagged VLAN 100 (Ethernet), statuses as
 *               handshake's at 8/4/4%: the bundled tests/data/sample.pcap
 *   tcp-impair  the first response of 4 or more segments is damaged: one
 *               segment sent again later, two swapped, one lost, or
 *               resegmented to overlap; every fifth connection is clean
 *   l7          scripted HTTP and Redis conversations: pipelining,
 *               messages over many segments and several in one,
 *               100-continue, servers on non-standard ports
 *   syn-flood   long-lived HTTP and Redis connections, eight requests
 *               each about a second apart, while --packets SYNs from
 *               sources of their own (none answered) flood the same two
 *               servers for 9 s: what a full flow table must survive
 *
 * A connection is built whole into one frame buffer: SYN, the SYN-ACK a
 * server RTT later, the ACK a client RTT after that; per exchange the
 * request in MSS segments a few us apart, the server's ACK, the response
 * after a think time, the client's ACK; then the client closes. Every
 * frame's time is rounded to the capture's resolution when it is built
 * (the microsecond in --format pcap), and later times follow from the
 * rounded ones, so the truth is exact in every format. All frames are then
 * sorted by time (ties keep their emission order) and written.
 * Requests and responses are gen_msg.c's; only l7's are scripted here.
 * A flood's SYNs are not kept: each is made as the writer reaches its
 * time, between the sorted frames (1.5 million would take 150 MB).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

#define MSS 1448
#define SYN_MSS 1460            /* the SYNs' MSS option */
#define SYN_WSCALE 7
#define MAX_EX 8                /* exchanges per connection */
#define MSG_MAX (16384 + 256)   /* largest message: 15000 body + headers */

/* Connection statuses: enum value, name; servers count each. */
#define foreach_sc_status \
	_(ESTABLISHED, "established") \
	_(REFUSED, "refused") \
	_(UNANSWERED, "unanswered") \
	_(NO_ACK, "no_ack")

enum sc_status {
#define _(n, s) ST_##n,
	foreach_sc_status
#undef _
	ST_N
};

static const char *const status_name[ST_N] = {
#define _(n, s) s,
	foreach_sc_status
#undef _
};

#define foreach_sc_impair \
	_(NONE, NULL) \
	_(RETRANS, "retrans") \
	_(OOO, "ooo") \
	_(LOST, "lost") \
	_(OVERLAP, "overlap")

enum sc_impair {
#define _(n, s) IM_##n,
	foreach_sc_impair
#undef _
	IM_N
};

static const char *const impair_name[IM_N] = {
#define _(n, s) s,
	foreach_sc_impair
#undef _
};

/* One frame in the buffer. */
struct sc_frame {
	uint64_t ts, n;         /* time; emission order breaks ties */
	uint64_t off;
	uint32_t len, iplen;
};

/* A connection's truth; -1 stands for null. */
struct sc_rec {
	char ip[2][INET6_ADDRSTRLEN];   /* client, server */
	uint16_t port[2];
	int vlan;
	enum sc_status status;
	enum sc_impair impair;
	int64_t syn, synack, ack, rst;
	uint32_t syn_retrans, retrans, ooo;
	uint64_t packets[2], bytes[2], payload[2], lost;
};

struct sc_server {
	const char *ip;
	uint16_t port;
	uint64_t count[ST_N];
};

/* syn-flood: its servers, in turn the connections', at random the SYNs';
 * when the SYNs come (evenly over the span) and how many a connection's
 * requests are. */
#define FLOOD_NSRV 2
#define FLOOD_START_NS 500000000ULL
#define FLOOD_SPAN_NS 9000000000ULL
#define FLOOD_SECS 11           /* seconds the span touches, at most */
#define FLOOD_EX 8

static const char *const flood_ip[FLOOD_NSRV] = { "10.0.0.1", "10.0.0.2" };
static const uint16_t flood_port[FLOOD_NSRV] = { 80, 6379 };

/* The flood being written: its own random stream, so the connections'
 * draws do not depend on --packets; SYNs per server and second. */
struct sc_flood {
	struct rng r;
	uint8_t addr[FLOOD_NSRV][4];
	uint8_t mac[FLOOD_NSRV][6];
	uint64_t count[FLOOD_NSRV][FLOOD_SECS];
	uint64_t first, last;
};

/* A transaction of l7's, times already rounded. */
struct sc_txn {
	const char *proto, *method, *resource, *status;
	uint16_t cport;
	uint64_t t[4];
};

struct sc {
	const struct opts *o;
	struct rng r;
	uint64_t quantum;       /* 1000 for pcap (us), else 1 */
	struct sc_frame *fr;
	uint64_t nfr, fr_cap;
	uint8_t *buf;           /* the frames, back to back */
	uint64_t blen, bcap;
	struct sc_rec *rec;
	uint64_t nrec, rec_cap;
	struct sc_server srv[5];
	uint32_t nsrv;
	struct sc_txn *tx;
	uint64_t ntx, tx_cap;
	uint8_t msg[MSG_MAX];
	struct sc_flood flood;
	int err;
};

/* A connection being built: its addressing and sequence state. */
struct sc_conn {
	struct sc_rec *rec;
	int v6;
	uint8_t addr[2][16];    /* client, server */
	uint8_t mac[2][6];
	int vlan;
	uint16_t ipid[2];
	uint32_t isn[2], nxt[2];
	uint32_t flowlabel;
};

/* What a modelled connection does. */
struct sc_ex {
	uint32_t req, rsp;      /* payload sizes */
	uint64_t think, gap;    /* server think time; client idle after */
	int write;
};

struct sc_spec {
	char cip[48];
	const char *sip;
	uint16_t cport, sport;
	uint64_t start, srtt, crtt;
	enum sc_status status;
	enum sc_impair impair;
	int vlan;
	enum proto proto;
	uint32_t nex;
	struct sc_ex ex[MAX_EX];
};

/* ---- growing arrays ---- */

/* Room for need elements of size sz in *a, doubling. @return 0 or
 * -ENOMEM. */
static int
reserve(void **a, uint64_t *cap, uint64_t need, size_t sz)
{
	uint64_t nc = *cap ? *cap : 256;
	void *p;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	p = realloc(*a, nc * sz);
	if (p == NULL)
		return -ENOMEM;
	*a = p;
	*cap = nc;
	return 0;
}

static uint64_t
q(const struct sc *s, uint64_t ts)
{
	return (ts + s->quantum / 2) / s->quantum * s->quantum;
}

static uint64_t
draw(struct sc *s, uint64_t lo, uint64_t hi)
{
	return gen_rng_range(&s->r, lo, hi);
}

/* A lognormal draw around median, clamped to [lo, hi]. */
static uint64_t
lognorm(struct sc *s, uint64_t median, double sigma, uint64_t lo,
	uint64_t hi)
{
	struct dist d = { .kind = D_LOGNORMAL, .a = median, .sigma = sigma };
	uint64_t v = gen_dist_draw(&d, &s->r);

	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- frames ---- */

/*
 * A locally administered MAC per address, from the seed and the address
 * only: the main stream (and so all timing) does not depend on the link.
 */
static void
mac_of(const struct sc *s, const char *ip, uint8_t *mac)
{
	uint64_t h = 0xcbf29ce484222325ULL;     /* FNV-1a */
	struct rng r;
	uint64_t v;
	int i;

	for (; *ip; ip++)
		h = (h ^ (uint8_t)*ip) * 0x100000001b3ULL;
	gen_rng_seed(&r, s->o->seed, h);
	v = gen_rng_next(&r);
	mac[0] = 0x02;
	for (i = 1; i < 6; i++)
		mac[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Frame of c in direction dir (0: client to server) with seq, ack and
 * len payload bytes, at ts rounded. @return the rounded time.
 */
static uint64_t
put(struct sc *s, struct sc_conn *c, uint64_t ts, int dir, uint8_t flags,
	uint32_t seq, uint32_t ack, const uint8_t *pl, uint32_t len)
{
	struct sc_frame *f;
	uint8_t *b;
	uint32_t l2, ipl, thl = flags & GEN_F_SYN ? 20 + GEN_SYN_OPT_LEN : 20;

	ts = q(s, ts);
	if (reserve((void **)&s->fr, &s->fr_cap, s->nfr + 1,
			sizeof(*s->fr)) != 0 ||
			reserve((void **)&s->buf, &s->bcap, s->blen +
				GEN_L2_MAX + 40 + thl + len, 1) != 0) {
		s->err = -ENOMEM;
		return ts;
	}
	b = s->buf + s->blen;
	l2 = gen_l2_put(b, s->o->link, c->v6, c->mac[dir], c->mac[!dir],
		dir == 0, c->vlan);
	ipl = gen_ip_put(b + l2, c->v6, c->addr[dir], c->addr[!dir], 6,
		thl + len, 64, c->v6 ? c->flowlabel : ++c->ipid[dir]);
	gen_tcp_put(b + l2 + ipl, c->rec->port[dir], c->rec->port[!dir], seq,
		ack, flags, flags & GEN_F_SYN ? 64240 : 502, SYN_MSS,
		SYN_WSCALE);
	if (len > 0)
		memcpy(b + l2 + ipl + thl, pl, len);
	gen_l4_csum_set(b + l2, thl + len);
	f = &s->fr[s->nfr];
	*f = (struct sc_frame){ .ts = ts, .n = s->nfr, .off = s->blen,
		.len = l2 + ipl + thl + len, .iplen = ipl + thl + len };
	s->nfr++;
	s->blen += f->len;
	c->rec->packets[dir]++;
	c->rec->bytes[dir] += f->iplen;
	return ts;
}

/* A segment at seq: ACKs what the peer sent; moves the sequence on. */
static uint64_t
send_at(struct sc *s, struct sc_conn *c, uint64_t ts, int dir,
	uint8_t flags, uint32_t seq, const uint8_t *pl, uint32_t len)
{
	uint32_t ack = flags & GEN_F_ACK ? c->nxt[!dir] : 0;
	uint32_t end = seq + len + (flags & (GEN_F_SYN | GEN_F_FIN) ? 1 : 0);

	ts = put(s, c, ts, dir, flags, seq, ack, pl, len);
	if (end - c->nxt[dir] < 0x80000000u)
		c->nxt[dir] = end;
	return ts;
}

static uint64_t
send_seg(struct sc *s, struct sc_conn *c, uint64_t ts, int dir,
	uint8_t flags, const uint8_t *pl, uint32_t len)
{
	return send_at(s, c, ts, dir, flags, c->nxt[dir], pl, len);
}

/* ---- connections ---- */

/* A new connection and its record. @return 0, -EINVAL (address) or
 * -ENOMEM, also kept in s->err. */
static int
conn_open(struct sc *s, struct sc_conn *c, const char *cip, uint16_t cport,
	const char *sip, uint16_t sport, int vlan)
{
	const char *ip[2] = { cip, sip };
	struct sc_rec *r;
	int d;

	if (reserve((void **)&s->rec, &s->rec_cap, s->nrec + 1,
			sizeof(*s->rec)) != 0)
		return s->err = -ENOMEM;
	memset(c, 0, sizeof(*c));
	c->v6 = strchr(cip, ':') != NULL;
	c->vlan = s->o->link == GEN_LINK_ETHER ? vlan : -1;
	r = &s->rec[s->nrec++];
	*r = (struct sc_rec){ .vlan = c->vlan, .syn = -1, .synack = -1,
		.ack = -1, .rst = -1 };
	for (d = 0; d < 2; d++) {
		if (inet_pton(c->v6 ? AF_INET6 : AF_INET, ip[d],
				c->addr[d]) != 1)
			return s->err = -EINVAL;
		/* The canonical text, as wirelat prints addresses. */
		inet_ntop(c->v6 ? AF_INET6 : AF_INET, c->addr[d], r->ip[d],
			sizeof(r->ip[d]));
		mac_of(s, r->ip[d], c->mac[d]);
	}
	r->port[0] = cport;
	r->port[1] = sport;
	c->rec = r;
	for (d = 0; d < 2; d++) {
		c->ipid[d] = (uint16_t)draw(s, 0, 0xffff);
		c->isn[d] = (uint32_t)draw(s, 0, 0xffffffff);
		c->nxt[d] = c->isn[d];
	}
	c->flowlabel = (uint32_t)draw(s, 0, 0xfffff);
	return 0;
}

/* The handshake's first two steps; @return the SYN-ACK's time. */
static uint64_t
syn_synack(struct sc *s, struct sc_conn *c, uint64_t start, uint64_t srtt)
{
	uint64_t t = send_seg(s, c, start, 0, GEN_F_SYN, NULL, 0);

	c->rec->syn = (int64_t)t;
	t = send_seg(s, c, t + srtt, 1, GEN_F_SYN | GEN_F_ACK, NULL, 0);
	c->rec->synack = (int64_t)t;
	return t;
}

/* The client's FIN, the server's, the last ACK. */
static void
close_conn(struct sc *s, struct sc_conn *c, uint64_t t, uint64_t srtt,
	uint64_t crtt)
{
	t = send_seg(s, c, t, 0, GEN_F_FIN | GEN_F_ACK, NULL, 0);
	t = send_seg(s, c, t + srtt, 1, GEN_F_FIN | GEN_F_ACK, NULL, 0);
	send_seg(s, c, t + crtt, 0, GEN_F_ACK, NULL, 0);
}

/*
 * The response of one exchange, from tresp, damaged as kind says at
 * segment k. @return the time of its last frame.
 */
static uint64_t
response(struct sc *s, struct sc_conn *c, uint64_t tresp, uint64_t rtt,
	const uint8_t *data, uint32_t len, enum sc_impair kind)
{
	struct sc_rec *r = c->rec;
	uint32_t off[MSG_MAX / MSS + 4], sz[MSG_MAX / MSS + 4];
	uint64_t ts[MSG_MAX / MSS + 4], last = tresp, tmp;
	uint32_t n = 0, o, i, k = 0, base = c->nxt[1], lost = 0;
	int dup = -1;

	for (o = 0; o < len; o += sz[n++]) {
		off[n] = o;
		sz[n] = len - o < MSS ? len - o : MSS;
	}
	if (kind != IM_NONE)
		k = (uint32_t)draw(s, 1, n - 3);
	if (kind == IM_OVERLAP) {
		/* Resegmented after k: the next segment starts inside k. */
		uint32_t ov = sz[k] / 2 < 400 ? sz[k] / 2 : 400;

		o = off[k] + sz[k] - ov;
		for (n = k + 1; o < len; o += sz[n++]) {
			off[n] = o;
			sz[n] = len - o < MSS ? len - o : MSS;
		}
		r->retrans++;
	}
	for (i = 0, tmp = tresp; i < n; i++) {
		ts[i] = tmp;
		tmp += draw(s, 2000, 6000);
	}
	if (kind == IM_OOO) {
		tmp = ts[k];
		ts[k] = ts[k + 1];
		ts[k + 1] = tmp;
		r->ooo++;
	}
	for (i = 0; i < n; i++) {
		uint8_t fl = GEN_F_ACK;

		if (kind == IM_LOST && i == k) {
			lost = sz[i];
			continue;
		}
		if (off[i] + sz[i] >= len)
			fl |= GEN_F_PSH;
		tmp = send_at(s, c, ts[i], 1, fl, base + off[i], data + off[i],
			sz[i]);
		if (kind == IM_RETRANS && i == k)
			dup = (int)i;
		last = tmp > last ? tmp : last;
	}
	/* A lost segment must not leave nxt short: the sender did send it. */
	c->nxt[1] = base + len;
	if (dup >= 0) {
		/* Later than one full RTT, so analyzers call it a
		 * retransmission rather than reordering, and later than a
		 * capture's copy of the same frame could be
		 * (flow.dedup_window_us); sent again, it has a new IP ID. */
		uint8_t fl = off[dup] + sz[dup] >= len ? GEN_F_ACK | GEN_F_PSH :
			GEN_F_ACK;

		last += rtt + draw(s, 1200000, 3000000);
		last = send_at(s, c, last, 1, fl, base + off[dup],
			data + off[dup], sz[dup]);
		r->retrans++;
	}
	r->lost += lost;
	r->payload[1] += len - lost;
	return last;
}

/*
 * One modelled connection (spec): its handshake as spec's status says,
 * then the exchanges, the first response of 4 or more segments damaged
 * as spec's impairment says, then the close.
 */
static int
tcp_conn(struct sc *s, const struct sc_spec *sp, uint32_t id)
{
	struct txn tx[MAX_EX];
	struct conn m = { .id = id, .proto = sp->proto, .sport = sp->sport,
		.tx = tx, .ntx = sp->nex };
	struct sc_conn c;
	struct msg_text mt;
	char host[40];
	uint64_t t, tnext;
	uint32_t k, off, len;
	int rc, impair_done = sp->impair == IM_NONE;

	rc = conn_open(s, &c, sp->cip, sp->cport, sp->sip, sp->sport,
		sp->vlan);
	if (rc != 0)
		return rc;
	c.rec->status = sp->status;
	snprintf(host, sizeof(host), "svc%u.example.test", sp->sport);
	m.host = host;
	if (sp->status == ST_UNANSWERED) {
		t = send_seg(s, &c, sp->start, 0, GEN_F_SYN, NULL, 0);
		c.rec->syn = (int64_t)t;
		/* The client's retransmission timer: 1 s, then 2 s more. */
		put(s, &c, sp->start + 1000000000, 0, GEN_F_SYN, c.isn[0], 0,
			NULL, 0);
		put(s, &c, sp->start + 3000000000ULL, 0, GEN_F_SYN, c.isn[0], 0,
			NULL, 0);
		c.rec->syn_retrans = 2;
		return s->err;
	}
	if (sp->status == ST_REFUSED) {
		t = send_seg(s, &c, sp->start, 0, GEN_F_SYN, NULL, 0);
		c.rec->syn = (int64_t)t;
		t = put(s, &c, t + sp->srtt, 1, GEN_F_RST | GEN_F_ACK, 0,
			c.nxt[0], NULL, 0);
		c.rec->rst = (int64_t)t;
		return s->err;
	}
	t = syn_synack(s, &c, sp->start, sp->srtt);
	if (sp->status == ST_NO_ACK)
		return s->err;
	t = send_seg(s, &c, t + sp->crtt, 0, GEN_F_ACK, NULL, 0);
	c.rec->ack = (int64_t)t;

	tnext = t + draw(s, 5000, 50000);
	for (k = 0; k < sp->nex; k++) {
		const struct sc_ex *x = &sp->ex[k];
		enum sc_impair kind = IM_NONE;

		memset(&tx[k], 0, sizeof(tx[k]));
		gen_txn_set(&tx[k], sp->proto, x->write, x->req, x->rsp);
		gen_msg_build(&m, k, 0, &mt);
		len = gen_msg_flat(&mt, s->msg);
		/* The request: segments back to back, a few us apart. */
		for (off = 0; off < len; off += MSS) {
			uint32_t n = len - off < MSS ? len - off : MSS;

			t = send_seg(s, &c, tnext, 0, off + n >= len ?
				GEN_F_ACK | GEN_F_PSH : GEN_F_ACK,
				s->msg + off, n);
			tnext = t + draw(s, 1000, 4000);
		}
		c.rec->payload[0] += len;
		t = send_seg(s, &c, t + sp->srtt, 1, GEN_F_ACK, NULL, 0);
		gen_msg_build(&m, k, 1, &mt);
		len = gen_msg_flat(&mt, s->msg);
		if (!impair_done && (len + MSS - 1) / MSS >= 4) {
			kind = sp->impair;
			impair_done = 1;
			c.rec->impair = kind;
		}
		t = response(s, &c, t + x->think, sp->srtt + sp->crtt, s->msg,
			len, kind);
		t = send_seg(s, &c, t + sp->crtt, 0, GEN_F_ACK, NULL, 0);
		tnext = t + x->gap;
	}
	close_conn(s, &c, tnext, sp->srtt, sp->crtt);
	return s->err;
}

/* ---- scenarios ---- */

static void
add_server(struct sc *s, const char *ip, uint16_t port)
{
	s->srv[s->nsrv++] = (struct sc_server){ .ip = ip, .port = port };
}

/* n statuses, fractions of them refused, unanswered, no_ack, shuffled. */
static int
pick_statuses(struct sc *s, uint32_t n, double refused, double unanswered,
	double no_ack, enum sc_status **out)
{
	const double frac[ST_N] = { 0, refused, unanswered, no_ack };
	enum sc_status *st = calloc(n, sizeof(*st));
	uint32_t i = 0, j, m;
	int k;

	if (st == NULL)
		return -ENOMEM;
	for (k = ST_REFUSED; k < ST_N; k++)
		for (m = (uint32_t)llround(n * frac[k]); m > 0 && i < n; m--)
			st[i++] = (enum sc_status)k;
	for (i = n; i > 1; i--) {
		enum sc_status x;

		j = (uint32_t)draw(s, 0, i - 1);
		x = st[i - 1];
		st[i - 1] = st[j];
		st[j] = x;
	}
	*out = st;
	return 0;
}

static int
scen_handshake(struct sc *s)
{
	static const char *const ips[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3",
		"fd00::1" };
	static const uint16_t ports[] = { 80, 5432, 8080, 443 };
	enum sc_status *st = NULL;
	uint32_t i, n = (uint32_t)s->o->conns;
	int rc;

	for (i = 0; i < 4; i++)
		add_server(s, ips[i], ports[i]);
	rc = pick_statuses(s, n, 0.10, 0.05, 0.05, &st);
	for (i = 0; rc == 0 && i < n; i++) {
		struct sc_spec sp = { .sip = ips[i % 4], .sport = ports[i % 4],
			.cport = (uint16_t)(30000 + i), .status = st[i],
			.vlan = -1, .proto = P_HTTP, .nex = 1 };

		if (i % 4 == 3)
			snprintf(sp.cip, sizeof(sp.cip), "fd00::1:%x",
				i % 16 + 1);
		else
			snprintf(sp.cip, sizeof(sp.cip), "10.1.%u.%u",
				i / 200, i % 200 + 1);
		sp.start = s->o->start + draw(s, 0, 999999999);
		sp.srtt = draw(s, 50000, 5000000);
		sp.crtt = draw(s, 10000, 2000000);
		sp.ex[0] = (struct sc_ex){ .req = (uint32_t)draw(s, 60, 300),
			.rsp = (uint32_t)draw(s, 100, 1400),
			.think = draw(s, 10000, 500000),
			.gap = draw(s, 10000, 200000) };
		rc = tcp_conn(s, &sp, i);
	}
	free(st);
	return rc;
}

/*
 * --connections connections to 10.0.0.1:80 (HTTP) and 10.0.0.2:6379
 * (Redis) in turn, starting within the first second from 10.1.x.y; each
 * makes FLOOD_EX requests with 0.8..1.2 s of client think time after
 * each answer, then closes. The flood (write_out) starts half a second
 * in, so some handshakes happen in it.
 */
static int
scen_syn_flood(struct sc *s)
{
	uint32_t i, k, n = (uint32_t)s->o->conns;
	int rc = 0;

	for (i = 0; i < FLOOD_NSRV; i++)
		add_server(s, flood_ip[i], flood_port[i]);
	for (i = 0; rc == 0 && i < n; i++) {
		struct sc_spec sp = { .sip = flood_ip[i % FLOOD_NSRV],
			.sport = flood_port[i % FLOOD_NSRV],
			.cport = (uint16_t)(30000 + i),
			.status = ST_ESTABLISHED, .vlan = -1,
			.proto = i % FLOOD_NSRV ? P_REDIS : P_HTTP,
			.nex = FLOOD_EX };

		snprintf(sp.cip, sizeof(sp.cip), "10.1.%u.%u", i / 200,
			i % 200 + 1);
		sp.start = s->o->start + draw(s, 0, 999999999);
		sp.srtt = draw(s, 50000, 500000);
		sp.crtt = draw(s, 10000, 200000);
		for (k = 0; k < FLOOD_EX; k++)
			sp.ex[k] = (struct sc_ex){
				.req = (uint32_t)draw(s, 60, 300),
				.rsp = (uint32_t)draw(s, 100, 1400),
				.think = draw(s, 100000, 2000000),
				.gap = draw(s, 800000000, 1200000000),
				.write = k % 4 == 3 };
		rc = tcp_conn(s, &sp, i);
	}
	return rc;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
scen_sample(struct sc *s)
{
	static const char *const ips[] = { "10.0.0.1", "10.0.0.2", "fd00::1",
		"10.0.0.3", "10.0.0.4" };
	static const uint16_t ports[] = { 80, 5432, 443, 8888, 6379 };
	/* median server RTT per server */
	static const uint64_t med[] = { 80000, 400000, 2000000, 15000000,
		120000 };
	uint16_t port[50] = { 0 };      /* last port: 40 IPv4, 10 IPv6 hosts */
	uint32_t i, k, n = (uint32_t)s->o->conns;
	enum sc_status *st = NULL;
	uint64_t *start = calloc(n, sizeof(*start));
	int rc = start == NULL ? -ENOMEM : 0;

	for (i = 0; i < 5; i++)
		add_server(s, ips[i], ports[i]);
	for (i = 0; rc == 0 && i < n; i++)
		start[i] = draw(s, 0, 9999999999ULL);
	if (rc == 0) {
		qsort(start, n, sizeof(*start), u64_cmp);
		rc = pick_statuses(s, n, 0.08, 0.04, 0.04, &st);
	}
	for (i = 0; rc == 0 && i < n; i++) {
		uint32_t v = (uint32_t)draw(s, 0, 4), h;
		struct sc_spec sp = { .sip = ips[v], .sport = ports[v],
			.status = st[i], .start = s->o->start + start[i],
			.proto = ports[v] == 6379 ? P_REDIS : P_HTTP };

		if (strchr(sp.sip, ':') != NULL) {
			h = (uint32_t)draw(s, 1, 10);
			snprintf(sp.cip, sizeof(sp.cip), "fd00::1:%x", h);
			h += 39;
		} else {
			h = (uint32_t)draw(s, 1, 40);
			snprintf(sp.cip, sizeof(sp.cip), "10.1.0.%u", h);
			h -= 1;
		}
		/* Each client host counts its ports up from a random one. */
		if (port[h] == 0)
			port[h] = (uint16_t)(30000 + draw(s, 0, 999));
		sp.cport = ++port[h];
		sp.srtt = lognorm(s, med[v], 0.35, 10000, 200000000);
		sp.crtt = lognorm(s, 300000, 0.6, 10000, 20000000);
		sp.nex = (uint32_t)draw(s, 1, 3);
		for (k = 0; k < sp.nex; k++) {
			struct sc_ex *x = &sp.ex[k];

			/* One request in 20 spans segments. */
			x->req = (uint32_t)(gen_rng_unit(&s->r) <= 0.05 ?
				draw(s, 2000, 4000) : draw(s, 80, 400));
			x->rsp = (uint32_t)lognorm(s, 350, 0.9, 60, 8000);
			x->think = lognorm(s, 100000, 1.0, 5000, 20000000);
			x->gap = draw(s, 50000, 5000000);
			/* Redis: GET or SET; HTTP reads (a POST when large) */
			x->write = sp.proto == P_REDIS && draw(s, 0, 1);
		}
		sp.vlan = gen_rng_unit(&s->r) <= 0.2 ? 100 : -1;
		rc = tcp_conn(s, &sp, i);
	}
	free(st);
	free(start);
	return rc;
}

static int
scen_impair(struct sc *s)
{
	static const char *const ips[] = { "10.0.0.1", "fd00::1" };
	static const uint16_t ports[] = { 80, 443 };
	static const enum sc_impair kinds[] = { IM_RETRANS, IM_OOO, IM_LOST,
		IM_OVERLAP, IM_NONE };
	uint32_t i, k, n = (uint32_t)s->o->conns;
	int rc = 0;

	for (i = 0; i < 2; i++)
		add_server(s, ips[i], ports[i]);
	for (i = 0; rc == 0 && i < n; i++) {
		struct sc_spec sp = { .sip = ips[i % 2], .sport = ports[i % 2],
			.cport = (uint16_t)(30000 + i),
			.status = ST_ESTABLISHED, .impair = kinds[i % 5],
			.vlan = -1, .proto = P_HTTP };

		if (i % 2)
			snprintf(sp.cip, sizeof(sp.cip), "fd00::1:%x", i + 1);
		else
			snprintf(sp.cip, sizeof(sp.cip), "10.1.%u.%u",
				i / 250, i % 250 + 1);
		sp.start = s->o->start + i * 50000000ULL +
			draw(s, 0, 9999999);
		sp.srtt = draw(s, 100000, 3000000);
		sp.crtt = draw(s, 20000, 1000000);
		sp.nex = (uint32_t)draw(s, 1, 2);
		/* Responses of 5 to 11 segments: room for every kind. */
		for (k = 0; k < sp.nex; k++)
			sp.ex[k] = (struct sc_ex){
				.req = (uint32_t)draw(s, 80, 300),
				.rsp = (uint32_t)draw(s, 6000, 15000),
				.think = draw(s, 20000, 300000),
				.gap = draw(s, 50000, 500000) };
		rc = tcp_conn(s, &sp, i);
	}
	return rc;
}

/* ---- l7: scripted conversations, every transaction's times known ---- */

/* One data segment of a script. */
struct sc_seg {
	int dir;
	uint64_t ts;
	const uint8_t *p;
	uint32_t len;
};

/*
 * Handshake from start (50 us server, 20 us client RTT), the script's
 * segments, then a close 1 ms after the last. Failures go to s->err.
 */
static void
l7_conn(struct sc *s, const char *cip, uint16_t cport, const char *sip,
	uint16_t sport, uint64_t start, const struct sc_seg *seg, uint32_t n)
{
	struct sc_conn c;
	uint64_t t;
	uint32_t i;

	if (conn_open(s, &c, cip, cport, sip, sport, -1) != 0)
		return;
	c.rec->status = ST_ESTABLISHED;
	t = syn_synack(s, &c, start, 50000);
	t = send_seg(s, &c, t + 20000, 0, GEN_F_ACK, NULL, 0);
	c.rec->ack = (int64_t)t;
	for (i = 0; i < n; i++) {
		send_seg(s, &c, seg[i].ts, seg[i].dir, GEN_F_ACK | GEN_F_PSH,
			seg[i].p, seg[i].len);
		c.rec->payload[seg[i].dir] += seg[i].len;
		t = seg[i].ts > t ? seg[i].ts : t;
	}
	close_conn(s, &c, t + 1000000, 50000, 20000);
}

/* A transaction of the truth, its times rounded as the frames'. */
static void
l7_txn(struct sc *s, const char *proto, uint16_t cport, const char *method,
	const char *resource, const char *status, uint64_t a, uint64_t b,
	uint64_t c, uint64_t d)
{
	if (reserve((void **)&s->tx, &s->tx_cap, s->ntx + 1,
			sizeof(*s->tx)) != 0) {
		s->err = -ENOMEM;
		return;
	}
	s->tx[s->ntx++] = (struct sc_txn){ .proto = proto, .method = method,
		.resource = resource, .status = status, .cport = cport,
		.t = { q(s, a), q(s, b), q(s, c), q(s, d) } };
}

/* A RESP array of the n bulk strings in a (lengths in l) at out. */
static uint32_t
resp_cmd(uint8_t *out, uint32_t n, const char *const *a, const uint32_t *l)
{
	uint32_t i, len = (uint32_t)sprintf((char *)out, "*%u\r\n", n);

	for (i = 0; i < n; i++) {
		len += (uint32_t)sprintf((char *)out + len, "$%u\r\n", l[i]);
		memcpy(out + len, a[i], l[i]);
		len += l[i];
		memcpy(out + len, "\r\n", 2);
		len += 2;
	}
	return len;
}

/* times[0] = t, then n more, each 1 to 900 us after the one before. */
static void
jitter(struct sc *s, uint64_t *ts, uint64_t t, uint32_t n)
{
	uint32_t i;

	ts[0] = t;
	for (i = 1; i <= n; i++)
		ts[i] = ts[i - 1] + draw(s, 1000, 900000);
}

#define S_(x) (const uint8_t *)(x), (uint32_t)(sizeof(x) - 1)

/*
 * 1. HTTP on 9090 (found by content): three pipelined GETs in one
 * segment; the first response over three segments, the other two
 * together in one.
 */
static void
l7_http_pipe(struct sc *s, uint64_t base, uint16_t cp)
{
	static const char r2[] = "HTTP/1.1 404 Not Found\r\n"
		"Content-Length: 3\r\n\r\nno!";
	static const char r3[] = "HTTP/1.1 200 OK\r\n"
		"Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n";
	uint8_t *b = s->msg, *reqs = b, *r1, *r23;
	uint32_t nreq = 0, n1, i;
	uint64_t ts[5];

	for (i = 0; i < 3; i++)
		nreq += (uint32_t)sprintf((char *)reqs + nreq,
			"GET /p%u?x=%u HTTP/1.1\r\nHost: h\r\n\r\n", i, i);
	r1 = reqs + nreq;
	n1 = (uint32_t)sprintf((char *)r1, "HTTP/1.1 200 OK\r\n"
		"Content-Length: %u\r\n\r\n", 256 * 12);
	for (i = 0; i < 256 * 12; i++)
		r1[n1++] = (uint8_t)i;
	r23 = r1 + n1;
	memcpy(r23, r2, sizeof(r2) - 1);
	memcpy(r23 + sizeof(r2) - 1, r3, sizeof(r3) - 1);
	jitter(s, ts, base + 200000, 4);
	{
		const struct sc_seg seg[] = {
			{ 0, ts[0], reqs, nreq },
			{ 1, ts[1], r1, 700 },
			{ 1, ts[2], r1 + 700, 1400 },
			{ 1, ts[3], r1 + 2100, n1 - 2100 },
			{ 1, ts[4], r23, sizeof(r2) + sizeof(r3) - 2 },
		};

		l7_conn(s, "10.2.0.1", cp, "10.0.0.9", 9090, base, seg, 5);
	}
	l7_txn(s, "http", cp, "GET", "/p0", "200", ts[0], ts[0], ts[1], ts[3]);
	l7_txn(s, "http", cp, "GET", "/p1", "404", ts[0], ts[0], ts[4], ts[4]);
	l7_txn(s, "http", cp, "GET", "/p2", "200", ts[0], ts[0], ts[4], ts[4]);
}

/* 2. HTTP 100-continue, the body over three segments; the final
 * response in two. */
static void
l7_http_continue(struct sc *s, uint64_t t, uint16_t cp)
{
	static const char hdr[] = "PUT /up HTTP/1.1\r\nHost: h\r\n"
		"Expect: 100-continue\r\nContent-Length: 3000\r\n\r\n";
	static const char fin[] = "HTTP/1.1 201 Created\r\n"
		"Content-Length: 10\r\n\r\n0123456789";
	uint8_t *body = s->msg;
	uint64_t ts[7];

	memset(body, 'u', 3000);
	jitter(s, ts, t, 6);
	{
		const struct sc_seg seg[] = {
			{ 0, ts[0], S_(hdr) },
			{ 1, ts[1], S_("HTTP/1.1 100 Continue\r\n\r\n") },
			{ 0, ts[2], body, 1000 },
			{ 0, ts[3], body + 1000, 1000 },
			{ 0, ts[4], body + 2000, 1000 },
			{ 1, ts[5], (const uint8_t *)fin, 20 },
			{ 1, ts[6], (const uint8_t *)fin + 20,
				sizeof(fin) - 21 },
		};

		l7_conn(s, "10.2.0.2", cp, "10.0.0.9", 80, t - 100000, seg, 7);
	}
	l7_txn(s, "http", cp, "PUT", "/up", "201", ts[0], ts[4], ts[5], ts[6]);
}

/* 3. Redis on 7000 (found by content): four commands in one segment;
 * a 13 kB reply over ten segments, then the last two together. */
static void
l7_redis_pipe(struct sc *s, uint64_t t, uint16_t cp)
{
	static const char *const a1[] = { "SET", "k1", "v" };
	static const char *const a2[] = { "GET", "big" };
	static const char *const a3[] = { "LRANGE", "l", "0", "-1" };
	static const char *const a4[] = { "INCR", "n" };
	static const uint32_t l1[] = { 3, 2, 1 }, l2[] = { 3, 3 },
		l3[] = { 6, 1, 1, 2 }, l4[] = { 4, 1 };
	uint8_t *cmds = s->msg, *big;
	uint32_t nc = 0, nb, i;
	uint64_t ts[13], tail;
	struct sc_seg seg[13];

	nc += resp_cmd(cmds + nc, 3, a1, l1);
	nc += resp_cmd(cmds + nc, 2, a2, l2);
	nc += resp_cmd(cmds + nc, 4, a3, l3);
	nc += resp_cmd(cmds + nc, 2, a4, l4);
	big = cmds + nc;
	nb = (uint32_t)sprintf((char *)big, "$13000\r\n");
	memset(big + nb, 'b', 13000);
	nb += 13000;
	memcpy(big + nb, "\r\n", 2);
	nb += 2;
	ts[0] = t;
	jitter(s, ts + 1, t + draw(s, 1000, 900000), 11);
	tail = ts[12];
	seg[0] = (struct sc_seg){ 0, ts[0], cmds, nc };
	seg[1] = (struct sc_seg){ 1, ts[1], S_("+OK\r\n") };
	/* nine parts of 1300 bytes, the rest (1310) the tenth */
	for (i = 0; i < 10; i++)
		seg[2 + i] = (struct sc_seg){ 1, ts[2 + i], big + i * 1300,
			i < 9 ? 1300 : nb - 9 * 1300 };
	seg[12] = (struct sc_seg){ 1, tail,
		S_("*2\r\n$1\r\na\r\n$1\r\nb\r\n:7\r\n") };
	l7_conn(s, "10.2.0.3", cp, "10.0.0.10", 7000, t - 100000, seg, 13);
	l7_txn(s, "redis", cp, "SET", "k1", "OK", ts[0], ts[0], ts[1], ts[1]);
	l7_txn(s, "redis", cp, "GET", "big", "OK", ts[0], ts[0], ts[2], ts[11]);
	l7_txn(s, "redis", cp, "LRANGE", "l", "OK", ts[0], ts[0], tail, tail);
	l7_txn(s, "redis", cp, "INCR", "n", "OK", ts[0], ts[0], tail, tail);
}

/* 4. Redis: a command over two segments, an error reply. */
static void
l7_redis_error(struct sc *s, uint64_t t, uint16_t cp)
{
	static const uint32_t l[] = { 4, 1, 1, 2000 };
	uint8_t *cmd = s->msg, *v = s->msg + 4096;
	const char *a[] = { "HSET", "h", "f", (const char *)v };
	uint32_t n;
	uint64_t ts[3];

	memset(v, 'v', 2000);
	n = resp_cmd(cmd, 4, a, l);
	jitter(s, ts, t, 2);
	{
		const struct sc_seg seg[] = {
			{ 0, ts[0], cmd, 1000 },
			{ 0, ts[1], cmd + 1000, n - 1000 },
			{ 1, ts[2],
				S_("-WRONGTYPE Operation against a key\r\n") },
		};

		l7_conn(s, "10.2.0.4", cp, "10.0.0.10", 6379, t - 100000,
			seg, 3);
	}
	l7_txn(s, "redis", cp, "HSET", "h", "WRONGTYPE", ts[0], ts[1], ts[2],
		ts[2]);
}

/* --connections rounds of the four conversations, one second apart. */
static int
scen_l7(struct sc *s)
{
	uint64_t rep, base;

	add_server(s, "10.0.0.9", 9090);
	add_server(s, "10.0.0.9", 80);
	add_server(s, "10.0.0.10", 7000);
	add_server(s, "10.0.0.10", 6379);
	for (rep = 0; s->err == 0 && rep < s->o->conns; rep++) {
		uint16_t cp = (uint16_t)(40000 + rep * 10);

		base = s->o->start + 1000000 + rep * NS_PER_S;
		l7_http_pipe(s, base, cp);
		l7_http_continue(s, base + 300000000, cp + 1);
		l7_redis_pipe(s, base + 600000000, cp + 2);
		l7_redis_error(s, base + 800000000, cp + 3);
	}
	return s->err;
}

/* ---- output ---- */

static int
frame_cmp(const void *a, const void *b)
{
	const struct sc_frame *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* "ip:port", "[ip]:port" for IPv6. */
static void
ip_key(char *out, size_t n, const char *ip, uint16_t port)
{
	snprintf(out, n, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
}

static void
num_or_null(FILE *f, const char *key, int64_t v, const char *sep)
{
	if (v < 0)
		fprintf(f, "\"%s\": null%s", key, sep);
	else
		fprintf(f, "\"%s\": %" PRId64 "%s", key, v, sep);
}

static void
str_or_null(FILE *f, const char *key, const char *v, const char *sep)
{
	if (v == NULL)
		fprintf(f, "\"%s\": null%s", key, sep);
	else
		fprintf(f, "\"%s\": \"%s\"%s", key, v, sep);
}

static void
rec_json(FILE *f, const struct sc_rec *r)
{
	fprintf(f, "    {\"client_ip\": \"%s\", \"client_port\": %u, "
		"\"server_ip\": \"%s\", \"server_port\": %u, ", r->ip[0],
		r->port[0], r->ip[1], r->port[1]);
	num_or_null(f, "vlan", r->vlan, ", ");
	fprintf(f, "\"status\": \"%s\", ", status_name[r->status]);
	num_or_null(f, "syn_ns", r->syn, ", ");
	num_or_null(f, "synack_ns", r->synack, ", ");
	num_or_null(f, "ack_ns", r->ack, ", ");
	num_or_null(f, "rst_ns", r->rst, ", ");
	num_or_null(f, "server_rtt_ns", r->synack < 0 ? -1 :
		r->synack - r->syn, ", ");
	num_or_null(f, "client_rtt_ns", r->ack < 0 ? -1 :
		r->ack - r->synack, ", ");
	fprintf(f, "\"syn_retrans\": %u, \"c2s_packets\": %" PRIu64 ", "
		"\"s2c_packets\": %" PRIu64 ", \"c2s_bytes\": %" PRIu64 ", "
		"\"s2c_bytes\": %" PRIu64 ", \"c2s_payload\": %" PRIu64 ", "
		"\"s2c_payload\": %" PRIu64 ", ", r->syn_retrans,
		r->packets[0], r->packets[1], r->bytes[0], r->bytes[1],
		r->payload[0], r->payload[1]);
	str_or_null(f, "impairment", impair_name[r->impair], ", ");
	fprintf(f, "\"lost_bytes\": %" PRIu64 ", \"retrans_segments\": %u, "
		"\"ooo_segments\": %u}", r->lost, r->retrans, r->ooo);
}

void
gen_truth_head(FILE *f, const struct opts *o, uint64_t packets,
	uint64_t bytes, uint64_t ip_bytes)
{
	fprintf(f, "{\n  \"generator\": \"wirelat-replay gen\",\n"
		"  \"scenario\": \"%s\",\n  \"format\": \"%s\",\n"
		"  \"link\": \"%s\",\n  \"linktype\": %u,\n"
		"  \"seed\": %" PRIu64 ",\n  \"snaplen\": %" PRIu64 ",\n"
		"  \"packets\": %" PRIu64 ",\n  \"bytes\": %" PRIu64 ",\n"
		"  \"ip_bytes\": %" PRIu64, gen_scen_name[o->scen],
		gen_format_name[o->fmt], gen_link_name[o->link],
		gen_linktype[o->link], o->seed, o->snaplen, packets, bytes,
		ip_bytes);
}

/*
 * The truth: what was asked, the totals, per server how many
 * connections ended how, l7's transactions, one connection a line.
 */
static int
write_truth(struct sc *s, FILE *f, uint64_t packets, uint64_t bytes,
	uint64_t ip_bytes)
{
	const struct opts *o = s->o;
	char key[64];
	uint32_t i, j;
	int k;

	for (i = 0; i < s->nrec; i++)
		for (j = 0; j < s->nsrv; j++)
			if (strcmp(s->rec[i].ip[1], s->srv[j].ip) == 0 &&
					s->rec[i].port[1] == s->srv[j].port)
				s->srv[j].count[s->rec[i].status]++;
	gen_truth_head(f, o, packets, bytes, ip_bytes);
	fprintf(f, ",\n  \"connections_count\": %" PRIu64 ",\n"
		"  \"servers\": {", s->nrec);
	for (j = 0; j < s->nsrv; j++) {
		ip_key(key, sizeof(key), s->srv[j].ip, s->srv[j].port);
		fprintf(f, "%s\"%s\": {", j ? ", " : "", key);
		for (k = 0; k < ST_N; k++)
			fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "",
				status_name[k], s->srv[j].count[k]);
		fputc('}', f);
	}
	fputs("},\n", f);
	if (o->scen == GS_SYN_FLOOD) {
		const struct sc_flood *fl = &s->flood;

		fprintf(f, "  \"flood\": {\"syns\": %" PRIu64 ", "
			"\"first_ns\": %" PRIu64 ", \"last_ns\": %" PRIu64 ", "
			"\"requests_per_connection\": %u,\n    \"servers\": {",
			o->packets, fl->first, fl->last, FLOOD_EX);
		for (j = 0; j < FLOOD_NSRV; j++) {
			int sep = 0;

			ip_key(key, sizeof(key), flood_ip[j], flood_port[j]);
			fprintf(f, "%s\"%s\": {", j ? ", " : "", key);
			for (k = 0; k < FLOOD_SECS; k++) {
				if (fl->count[j][k] == 0)
					continue;
				fprintf(f, "%s\"%" PRIu64 "\": %" PRIu64,
					sep++ ? ", " : "",
					(uint64_t)(o->start / NS_PER_S + k),
					fl->count[j][k]);
			}
			fputc('}', f);
		}
		fputs("}},\n", f);
	}
	if (o->scen == GS_L7) {
		fputs("  \"transactions\": [\n", f);
		for (i = 0; i < s->ntx; i++) {
			const struct sc_txn *t = &s->tx[i];

			fprintf(f, "    {\"proto\": \"%s\", "
				"\"client_port\": %u, \"method\": \"%s\", "
				"\"resource\": \"%s\", \"status\": \"%s\", "
				"\"req_start_ns\": %" PRIu64 ", "
				"\"req_end_ns\": %" PRIu64 ", "
				"\"rsp_start_ns\": %" PRIu64 ", "
				"\"rsp_end_ns\": %" PRIu64 "}%s\n",
				t->proto, t->cport, t->method, t->resource,
				t->status, t->t[0], t->t[1], t->t[2], t->t[3],
				i + 1 < s->ntx ? "," : "");
		}
		fputs("  ],\n", f);
	}
	fputs("  \"connections\": [\n", f);
	for (i = 0; i < s->nrec; i++) {
		rec_json(f, &s->rec[i]);
		fputs(i + 1 < s->nrec ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
	return ferror(f) ? -EIO : 0;
}

/* ---- the flood's SYNs ---- */

static void
flood_init(struct sc *s)
{
	struct sc_flood *fl = &s->flood;
	unsigned int i;

	memset(fl, 0, sizeof(*fl));
	gen_rng_seed(&fl->r, s->o->seed, 1);
	for (i = 0; i < FLOOD_NSRV; i++) {
		inet_pton(AF_INET, flood_ip[i], fl->addr[i]);
		mac_of(s, flood_ip[i], fl->mac[i]);
	}
}

/* When SYN j of the flood is sent: evenly over the span. */
static uint64_t
flood_ts(const struct sc *s, uint64_t j)
{
	return q(s, s->o->start + FLOOD_START_NS +
		j * FLOOD_SPAN_NS / s->o->packets);
}

/*
 * Write SYN j of the flood to one of the servers, from a source of its
 * own: j's image by an odd multiplier (a bijection of 32 bits) gives
 * the address in 100.64.0.0/10 and picks the port, so no two SYNs share
 * a 4-tuple. @return 0 or -EIO.
 */
static int
flood_put(struct sc *s, struct gen_cap *w, uint64_t j, uint64_t *ip_bytes)
{
	static const uint8_t smac[6] = { 0x02, 0x5f, 0x10, 0x0d, 0, 1 };
	struct sc_flood *fl = &s->flood;
	uint32_t x = (uint32_t)j * 0x9e3779b1u, l2, ipl;
	uint32_t thl = 20 + GEN_SYN_OPT_LEN;
	uint32_t v = gen_rng_range(&fl->r, 0, FLOOD_NSRV * 63 - 1);
	uint32_t srv = v % FLOOD_NSRV;
	uint64_t ts = flood_ts(s, j), sec;
	uint8_t src[4], *b = s->msg;
	uint16_t sport = (uint16_t)(1024 + (x & 1023) * 63 + v / FLOOD_NSRV);

	gen_put32(src, 0x64400000u | x >> 10);
	l2 = gen_l2_put(b, s->o->link, 0, smac, fl->mac[srv], 1, -1);
	ipl = gen_ip_put(b + l2, 0, src, fl->addr[srv], 6, thl, 64,
		(uint32_t)gen_rng_next(&fl->r) & 0xffff);
	gen_tcp_put(b + l2 + ipl, sport, flood_port[srv],
		(uint32_t)gen_rng_next(&fl->r), 0, GEN_F_SYN, 64240, SYN_MSS,
		SYN_WSCALE);
	gen_l4_csum_set(b + l2, thl);
	*ip_bytes += ipl + thl;
	sec = (uint64_t)(ts / NS_PER_S - s->o->start / NS_PER_S);
	fl->count[srv][sec < FLOOD_SECS ? sec : FLOOD_SECS - 1]++;
	if (j == 0)
		fl->first = ts;
	fl->last = ts;
	return gen_cap_put(w, ts, b, l2 + ipl + thl);
}

/* Sort the frames, write the capture and the truth. @return 0 or -EIO. */
static int
write_out(struct sc *s)
{
	const struct opts *o = s->o;
	struct gen_cap w;
	uint64_t i, j = 0, ip_bytes = 0;
	uint64_t nflood = o->scen == GS_SYN_FLOOD ? o->packets : 0;
	FILE *f = fopen(o->out, "wb");
	int rc;

	if (f == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", o->out, strerror(errno));
		return -errno;
	}
	qsort(s->fr, s->nfr, sizeof(*s->fr), frame_cmp);
	if (nflood != 0)
		flood_init(s);
	rc = gen_cap_start(&w, f, o->fmt, o->link, (uint32_t)o->snaplen);
	for (i = 0; rc == 0 && i < s->nfr; i++) {
		/* The flood's SYNs due by then go first. */
		for (; rc == 0 && j < nflood && flood_ts(s, j) <= s->fr[i].ts;
				j++)
			rc = flood_put(s, &w, j, &ip_bytes);
		if (rc != 0)
			break;
		rc = gen_cap_put(&w, s->fr[i].ts, s->buf + s->fr[i].off,
			s->fr[i].len);
		ip_bytes += s->fr[i].iplen;
	}
	for (; rc == 0 && j < nflood; j++)
		rc = flood_put(s, &w, j, &ip_bytes);
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	if (rc != 0) {
		fprintf(stderr, PROG ": %s: writing failed\n", o->out);
		return rc;
	}
	if (o->truth != NULL) {
		f = fopen(o->truth, "w");
		if (f == NULL) {
			fprintf(stderr, PROG ": %s: %s\n", o->truth,
				strerror(errno));
			return -errno;
		}
		rc = write_truth(s, f, w.packets, w.bytes, ip_bytes);
		if (fclose(f) != 0 && rc == 0)
			rc = -EIO;
		if (rc != 0) {
			fprintf(stderr, PROG ": %s: writing failed\n",
				o->truth);
			return rc;
		}
	}
	fprintf(stderr, PROG ": scenario %s: %" PRIu64 " packets, %" PRIu64
		" bytes, %" PRIu64 " connections -> %s\n",
		gen_scen_name[o->scen], w.packets, w.bytes, s->nrec, o->out);
	return 0;
}

int
gen_scen_main(const struct opts *o)
{
	struct sc *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	s->o = o;
	s->quantum = o->fmt == GEN_FMT_PCAP ? 1000 : 1;
	gen_rng_seed(&s->r, o->seed, 0);
	switch (o->scen) {
	case GS_HANDSHAKE:
		rc = scen_handshake(s);
		break;
	case GS_SAMPLE:
		rc = scen_sample(s);
		break;
	case GS_TCP_IMPAIR:
		rc = scen_impair(s);
		break;
	case GS_L7:
		rc = scen_l7(s);
		break;
	case GS_SYN_FLOOD:
		rc = scen_syn_flood(s);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	if (rc == 0)
		rc = s->err;
	if (rc == -ENOMEM)
		fprintf(stderr, PROG ": out of memory\n");
	else if (rc != 0)
		fprintf(stderr, PROG ": scenario %s: %s\n",
			gen_scen_name[o->scen], strerror(-rc));
	else
		rc = write_out(s);
	free(s->fr);
	free(s->buf);
	free(s->rec);
	free(s->tx);
	free(s);
	return rc == 0 ? 0 : 1;
}
