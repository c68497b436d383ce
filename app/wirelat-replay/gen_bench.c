/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * --scenario bench: the large capture scripts/bench measures wirelat's
 * data path on. --connections connections are open at any time; each
 * packet goes to one of them, picked at random, which sends its next
 * packet: SYN, SYN-ACK, ACK, then 2 to 30 times a request, its response
 * and the client's ACK, then FIN, FIN and the last ACK; a connection that
 * is done is replaced by a new one in its slot. So the flow table sees
 * many connections interleaved, as on a busy link, and every packet is
 * work. A request is --pipeline messages of --proto (gen_msg.c's), whole
 * in one packet, and the response their answers in the next: one of 8
 * such pairs per connection, built once. DNS (UDP): each client socket
 * sends 1 to 4 queries, each answered in the socket's next packet, then
 * the slot takes a new socket.
 *
 * IPv4 over Ethernet, checksums right, records 1 us apart from
 * 1700000000 s (exact in every format). --packets records are written as they are
 * made: memory is the slots and the 8 pairs.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

#define N_PAIR 8                /* request/response pairs */
#define N_SRV 4
#define N_CLIENTS 4000          /* client hosts at most */
#define N_DNS 64                /* DNS query/answer templates */
#define FRAME_MAX (14 + 20 + 20 + GEN_SYN_OPT_LEN + 65536)

struct pair {
	uint8_t *msg[2];        /* request, response */
	uint32_t len[2];
};

/* One open connection (or DNS socket). */
struct slot {
	uint32_t ci;            /* client host */
	uint16_t cport;
	uint8_t srv, pair;
	uint16_t step, nstep;   /* next packet; packets in all */
	uint32_t seq[2];
	uint16_t ipid[2];
	uint16_t dns_id;
};

struct bench {
	const struct opts *o;
	struct rng r;
	enum proto proto;
	uint16_t sport[N_SRV];
	struct pair pair[N_DNS];        /* N_PAIR of them for TCP */
	struct slot *slot;
	uint16_t *cport;        /* per client host: its last port */
	uint32_t nclients;
	uint64_t syn[N_SRV], estab[N_SRV];
	uint64_t ip_bytes;
	uint8_t frame[FRAME_MAX];
};

static const uint8_t cmac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };

static void
srv_mac(uint8_t srv, uint8_t *mac)
{
	static const uint8_t base[6] = { 0x02, 0, 0, 0, 0, 0 };

	memcpy(mac, base, 6);
	mac[5] = (uint8_t)(srv + 1);
}

/* A new connection in slot j: the next port of its client host. */
static void
slot_new(struct bench *b, uint32_t j, uint16_t first_port)
{
	struct slot *s = &b->slot[j];
	uint32_t ci = j % b->nclients;

	b->cport[ci] = b->cport[ci] < 65535 ? b->cport[ci] + 1 :
		first_port + 1;
	*s = (struct slot){ .ci = ci, .cport = b->cport[ci] };
	s->srv = (uint8_t)gen_rng_range(&b->r, 0, N_SRV - 1);
	if (b->proto == P_DNS) {
		s->nstep = (uint16_t)(2 * gen_rng_range(&b->r, 1, 4));
		return;
	}
	/* handshake, 2 to 30 exchanges, close */
	s->nstep = (uint16_t)(6 + 3 * gen_rng_range(&b->r, 2, 30));
	s->pair = (uint8_t)gen_rng_range(&b->r, 0, N_PAIR - 1);
	s->seq[0] = (uint32_t)gen_rng_next(&b->r);
	s->seq[1] = (uint32_t)gen_rng_next(&b->r);
	s->ipid[0] = (uint16_t)gen_rng_next(&b->r);
	s->ipid[1] = (uint16_t)gen_rng_next(&b->r);
}

/*
 * Ethernet and IPv4 headers of slot s's next frame in direction dir
 * (0: client to server), l4len bytes of l4proto after them.
 * @return the L4 header's offset.
 */
static uint32_t
frame_head(struct bench *b, const struct slot *s, int dir, uint8_t l4proto,
	uint32_t l4len, uint16_t ipid)
{
	uint8_t smac[6], a[2][4] = {
		{ 10, 1, (uint8_t)(s->ci / 250), (uint8_t)(s->ci % 250 + 1) },
		{ 10, 0, 0, (uint8_t)(s->srv + 1) },
	};
	uint32_t l2;

	srv_mac(s->srv, smac);
	l2 = gen_l2_put(b->frame, GEN_LINK_ETHER, 0, dir ? smac : cmac,
		dir ? cmac : smac, dir == 0, -1);
	return l2 + gen_ip_put(b->frame + l2, 0, a[dir], a[!dir], l4proto,
		l4len, 64, ipid);
}

/* Slot s's next TCP packet into b->frame. @return its length. */
static uint32_t
tcp_step(struct bench *b, struct slot *s)
{
	const struct pair *p = &b->pair[s->pair];
	uint32_t i = s->step, len = 0, off, thl, ack;
	uint8_t fl = GEN_F_ACK;
	const uint8_t *pl = NULL;
	int dir = 0;

	if (i == 0) {
		fl = GEN_F_SYN;
	} else if (i == 1) {
		fl = GEN_F_SYN | GEN_F_ACK;
		dir = 1;
	} else if (i + 3 == s->nstep || i + 2 == s->nstep) {
		fl = GEN_F_FIN | GEN_F_ACK;
		dir = i + 2 == s->nstep;
	} else if (i >= 3 && (i - 3) % 3 < 2) {
		/* request, then its response */
		dir = (i - 3) % 3;
		fl = GEN_F_ACK | GEN_F_PSH;
		pl = p->msg[dir];
		len = p->len[dir];
	}
	thl = fl & GEN_F_SYN ? 20 + GEN_SYN_OPT_LEN : 20;
	ack = fl & GEN_F_ACK ? s->seq[!dir] : 0;
	off = frame_head(b, s, dir, 6, thl + len, ++s->ipid[dir]);
	gen_tcp_put(b->frame + off, dir ? b->sport[s->srv] : s->cport,
		dir ? s->cport : b->sport[s->srv], s->seq[dir], ack, fl,
		fl & GEN_F_SYN ? (dir ? 65160 : 64240) : 502, 1460, 7);
	if (len > 0)
		memcpy(b->frame + off + thl, pl, len);
	gen_l4_csum_set(b->frame + off - 20, thl + len);
	s->seq[dir] += len + (fl & (GEN_F_SYN | GEN_F_FIN) ? 1 : 0);
	if (i == 0)
		b->syn[s->srv]++;
	else if (i == 2)
		b->estab[s->srv]++;
	return off + thl + len;
}

/* Slot s's next DNS datagram: a query, or the answer to the last one. */
static uint32_t
dns_step(struct bench *b, struct slot *s)
{
	const struct pair *p;
	int dir = s->step % 2;
	uint32_t len, off;

	if (dir == 0) {
		s->pair = (uint8_t)gen_rng_range(&b->r, 0, N_DNS - 1);
		s->dns_id = (uint16_t)gen_rng_next(&b->r);
	}
	p = &b->pair[s->pair];
	len = p->len[dir];
	off = frame_head(b, s, dir, 17, 8 + len, ++s->ipid[dir]);
	gen_udp_put(b->frame + off, dir ? b->sport[s->srv] : s->cport,
		dir ? s->cport : b->sport[s->srv], len);
	memcpy(b->frame + off + 8, p->msg[dir], len);
	gen_put16(b->frame + off + 8, s->dns_id);
	gen_l4_csum_set(b->frame + off - 20, 8 + len);
	return off + 8 + len;
}

/*
 * The pairs: 8 of --pipeline messages each way for TCP, 64 single
 * query/answer templates for DNS (A or AAAA, 0 to 3 records; the id is
 * set per query). @return 0 or -ENOMEM.
 */
static int
build_pairs(struct bench *b)
{
	uint32_t pl = (uint32_t)b->o->pipeline;
	uint32_t first = b->proto == P_MY ? 2 : 0;     /* after MySQL's login */
	uint32_t n = b->proto == P_DNS ? N_DNS : N_PAIR * pl, k, i, d;
	struct txn *tx = calloc(first + n, sizeof(*tx));
	struct conn c = { .proto = b->proto, .sip = 0x0a000001,
		.sport = b->sport[0], .host = "bench.test", .tx = tx,
		.ntx = first + n, .first = first };
	struct msg_text mt;
	int rc = tx == NULL ? -ENOMEM : 0;

	for (k = first; rc == 0 && k < first + n; k++) {
		uint32_t m = k - first;

		if (b->proto == P_DNS)
			/* one query in four for an AAAA record */
			gen_txn_set(&tx[k], P_DNS,
				gen_rng_range(&b->r, 0, 3) == 1, 0,
				16 * (uint32_t)gen_rng_range(&b->r, 0, 3));
		else
			gen_txn_set(&tx[k], b->proto, b->proto != P_HTTP &&
				m % 2 == 0,
				(uint32_t)gen_rng_range(&b->r, 0, 1000 / pl),
				(uint32_t)gen_rng_range(&b->r, 10, 1000 / pl));
	}
	for (i = 0; rc == 0 && i < (b->proto == P_DNS ? N_DNS : N_PAIR); i++)
		for (d = 0; rc == 0 && d < 2; d++) {
			struct pair *p = &b->pair[i];

			p->msg[d] = malloc(b->proto == P_DNS ? DNS_MSG_MAX :
				pl * (sizeof(mt.head) + 1000 / pl + 10 +
					sizeof(mt.tail)));
			if (p->msg[d] == NULL) {
				rc = -ENOMEM;
				break;
			}
			if (b->proto == P_DNS) {
				p->len[d] = gen_dns_build(&c, first + i, d,
					p->msg[d]);
				continue;
			}
			for (k = first + i * pl; k < first + (i + 1) * pl;
					k++) {
				gen_msg_build(&c, k, d, &mt);
				p->len[d] += gen_msg_flat(&mt,
					p->msg[d] + p->len[d]);
			}
		}
	free(tx);
	return rc;
}

static int
write_truth(const struct bench *b, const struct gen_cap *w)
{
	const struct opts *o = b->o;
	FILE *f = fopen(o->truth, "w");
	uint64_t conns = 0;
	int rc, k;

	if (f == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", o->truth, strerror(errno));
		return -errno;
	}
	gen_truth_head(f, o, w->packets, w->bytes, b->ip_bytes);
	for (k = 0; k < N_SRV; k++)
		conns += b->syn[k];
	/* UDP: no connections to count */
	if (b->proto != P_DNS) {
		fprintf(f, ",\n  \"connections_count\": %" PRIu64 ",\n"
			"  \"servers\": {", conns);
		for (k = 0; k < N_SRV; k++)
			fprintf(f, "%s\"10.0.0.%d:%u\": {\"syn\": %" PRIu64
				", \"established\": %" PRIu64 "}",
				k ? ", " : "", k + 1, b->sport[k], b->syn[k],
				b->estab[k]);
		fputc('}', f);
	}
	fputs("\n}\n", f);
	rc = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	if (rc != 0)
		fprintf(stderr, PROG ": %s: writing failed\n", o->truth);
	return rc;
}

/* Servers per protocol: standard and other ports (found by content). */
static void
bench_ports(struct bench *b)
{
	static const uint16_t http[N_SRV] = { 80, 5432, 8080, 8888 };
	static const uint16_t redis[N_SRV] = { 6379, 7000, 6380, 6390 };
	int k;

	for (k = 0; k < N_SRV; k++)
		b->sport[k] = b->proto == P_HTTP ? http[k] :
			b->proto == P_REDIS ? redis[k] : b->o->port[b->proto];
}

int
gen_bench_main(const struct opts *o)
{
	struct bench *b = calloc(1, sizeof(*b));
	const uint16_t first_port = o->protos[0] == P_DNS ? 20000 : 30000;
	struct gen_cap w;
	FILE *f = NULL;
	uint64_t i, j;
	uint32_t len;
	int rc = 0;

	if (b == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	b->o = o;
	b->proto = o->protos[0];
	gen_rng_seed(&b->r, o->seed, 0);
	bench_ports(b);
	b->nclients = o->conns < N_CLIENTS ? (uint32_t)o->conns : N_CLIENTS;
	b->slot = calloc(o->conns, sizeof(*b->slot));
	b->cport = malloc(b->nclients * sizeof(*b->cport));
	if (b->slot == NULL || b->cport == NULL || build_pairs(b) != 0) {
		fprintf(stderr, PROG ": out of memory\n");
		rc = -ENOMEM;
		goto out;
	}
	for (j = 0; j < b->nclients; j++)
		b->cport[j] = first_port;
	for (j = 0; j < o->conns; j++)
		slot_new(b, (uint32_t)j, first_port);
	f = fopen(o->out, "wb");
	if (f == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", o->out, strerror(errno));
		rc = -errno;
		goto out;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	rc = gen_cap_start(&w, f, o->fmt, GEN_LINK_ETHER,
		(uint32_t)o->snaplen);
	for (i = 0; rc == 0 && i < o->packets; i++) {
		struct slot *s;

		j = gen_rng_range(&b->r, 0, o->conns - 1);
		s = &b->slot[j];
		len = b->proto == P_DNS ? dns_step(b, s) : tcp_step(b, s);
		b->ip_bytes += len - 14;
		rc = gen_cap_put(&w, o->start + i * 1000, b->frame, len);
		if (++s->step == s->nstep)
			slot_new(b, (uint32_t)j, first_port);
	}
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	if (rc != 0) {
		fprintf(stderr, PROG ": %s: writing failed\n", o->out);
		goto out;
	}
	if (o->truth != NULL)
		rc = write_truth(b, &w);
	if (rc == 0)
		fprintf(stderr, PROG ": scenario bench: %" PRIu64 " packets, %"
			PRIu64 " bytes, %s -> %s\n", w.packets, w.bytes,
			proto_name[b->proto], o->out);
out:
	for (j = 0; j < N_DNS; j++) {
		free(b->pair[j].msg[0]);
		free(b->pair[j].msg[1]);
	}
	free(b->slot);
	free(b->cport);
	free(b);
	return rc == 0 ? 0 : 1;
}
