/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Flow direction for wirelat-replay: which end of each flow is the
 * client, decided once at the flow's first packet (SYN, SYN+ACK, else a
 * port rule) and remembered in a bounded open-addressing table.
 *
 * Invariants:
 *   - the key is the canonical 5-tuple plus both VLAN ids: the lower
 *     (address, port) endpoint first, so both directions share one slot;
 *   - the table never grows and never evicts: a flow either is stored at
 *     its first packet or, table full, is never stored (until a reset),
 *     so each of its packets takes the same stateless port rule;
 *   - at most max_flows entries in 2 * max_flows slots, and a probe stops
 *     after WL_DIR_MAX_PROBE slots: bounded work per packet;
 *   - no allocation, logging or system call after create.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "wl_common.h"
#include "wl_pkt.h"
#include "wl_replay.h"

#define TCP_HDR_LEN 20u
#define UDP_HDR_LEN 8u

/* Canonical flow key: endpoint 0 is the lower (address, port). */
struct dir_key {
	uint8_t addr[2][16];    /* v4 as v4-mapped, as wl_pkt stores it */
	uint16_t port[2];
	uint16_t vlan[2];
	uint8_t proto;
};

#define DIR_USED 0x01
#define DIR_CLIENT_1 0x02       /* endpoint 1 is the client, else 0 */

struct dir_entry {
	struct dir_key key;     /* 42 bytes */
	uint8_t flags;          /* DIR_* */
	uint8_t how;            /* enum wl_dir_how */
	uint32_t hash;
};

/* The size wl_replay.h and docs/replay.md promise per slot. */
_Static_assert(sizeof(struct dir_entry) == 48, "dir_entry is 48 bytes");

struct wl_dir_table {
	struct dir_entry *slots;
	uint32_t mask;          /* slots - 1 */
	uint32_t max_flows;
	uint32_t nflows;
	uint32_t max_probe;
	struct wl_dir_stats st;
};

const char *const wl_dir_counter_names[] = {
#define _(f, n, d) n,
	foreach_wl_dir_counter
#undef _
};

static const char *const how_names[] = {
#define _(e, n) [WL_DIR_HOW_ ## e] = n,
	foreach_wl_dir_how
#undef _
};

/*
 * Ports that are servers although they are not below 1024: databases,
 * caches, brokers, search engines, HTTP alternates. All are below the
 * Linux (32768) and IANA (49152) ephemeral ranges, so a client port
 * rarely is one. Sorted; see docs/replay.md for the names.
 */
static const uint16_t well_known[] = {
	1433,   /* MS SQL */
	1521,   /* Oracle */
	1883,   /* MQTT */
	2049,   /* NFS */
	2181,   /* ZooKeeper */
	2379,   /* etcd */
	3306,   /* MySQL */
	4222,   /* NATS */
	5432,   /* PostgreSQL */
	5601,   /* Kibana */
	5672,   /* AMQP */
	5984,   /* CouchDB */
	6379,   /* Redis */
	6443,   /* Kubernetes API */
	8000,   /* HTTP alternate */
	8080,   /* HTTP alternate */
	8081,   /* HTTP alternate */
	8086,   /* InfluxDB */
	8443,   /* HTTPS alternate */
	8883,   /* MQTT over TLS */
	9042,   /* Cassandra CQL */
	9092,   /* Kafka */
	9093,   /* Kafka over TLS */
	9200,   /* Elasticsearch HTTP */
	9300,   /* Elasticsearch transport */
	11211,  /* memcached */
	15672,  /* RabbitMQ management */
	26257,  /* CockroachDB */
	27017,  /* MongoDB */
};

/* ---- decision rules ---- */

static int
is_well_known(uint16_t port)
{
	unsigned int i;

	for (i = 0; i < WL_ARRAY_SIZE(well_known); i++)
		if (well_known[i] == port)
			return 1;
	return 0;
}

/*
 * The port rule: 1 when the destination is the server. Equal ports make
 * the destination the server; stateless callers (table full) pass
 * tie_dst = 0 when the source is the higher endpoint of the key, so
 * that both directions of such a flow still agree.
 */
static int
port_rule_dst_is_server(uint16_t sport, uint16_t dport, int tie_dst)
{
	int s, d;

	s = sport < 1024;
	d = dport < 1024;
	if (s != d)
		return d;
	s = is_well_known(sport);
	d = is_well_known(dport);
	if (s != d)
		return d;
	if (sport != dport)
		return dport < sport;
	return tie_dst;
}

/* ---- table ---- */

/*
 * The Toeplitz hash is symmetric but its low bits are not well mixed for
 * small tuples; VLAN ids and the protocol are folded in, then a 32-bit
 * finalizer spreads everything over the slot index.
 */
static inline uint32_t
key_hash(uint32_t h, const struct dir_key *k)
{
	h ^= (uint32_t)k->vlan[0] << 16 ^ k->vlan[1] ^ (uint32_t)k->proto << 8;
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

static inline int
key_eq(const struct dir_key *a, const struct dir_key *b)
{
	return memcmp(a->addr, b->addr, sizeof(a->addr)) == 0 &&
		a->port[0] == b->port[0] && a->port[1] == b->port[1] &&
		a->vlan[0] == b->vlan[0] && a->vlan[1] == b->vlan[1] &&
		a->proto == b->proto;
}

/* Build the canonical key; returns the endpoint (0 or 1) of the sender. */
static int
key_make(struct dir_key *k, const struct wl_pkt *p)
{
	int c, sender;

	c = memcmp(p->src.a, p->dst.a, sizeof(p->src.a));
	if (c == 0)
		c = p->sport < p->dport ? -1 : p->sport > p->dport;
	sender = c > 0;
	memcpy(k->addr[sender], p->src.a, 16);
	memcpy(k->addr[!sender], p->dst.a, 16);
	k->port[sender] = p->sport;
	k->port[!sender] = p->dport;
	k->vlan[0] = p->vlan[0];
	k->vlan[1] = p->vlan[1];
	k->proto = p->l4proto;
	return sender;
}

struct wl_dir_table *
wl_dir_table_create(uint32_t max_flows)
{
	struct wl_dir_table *t;
	uint32_t nslots;

	if (max_flows == 0 || max_flows > WL_DIR_MAX_FLOWS ||
			(max_flows & (max_flows - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	nslots = max_flows * 2;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto fail;
	t->slots = calloc(nslots, sizeof(*t->slots));
	if (t->slots == NULL)
		goto fail;
	t->mask = nslots - 1;
	t->max_flows = max_flows;
	t->max_probe = WL_MIN(nslots, WL_DIR_MAX_PROBE);
	return t;
fail:
	wl_dir_table_free(t);
	errno = ENOMEM;
	return NULL;
}

void
wl_dir_table_free(struct wl_dir_table *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

void
wl_dir_table_reset(struct wl_dir_table *t)
{
	if (t == NULL)
		return;
	memset(t->slots, 0, ((size_t)t->mask + 1) * sizeof(*t->slots));
	t->nflows = 0;
}

void
wl_dir_stats_get(const struct wl_dir_table *t, struct wl_dir_stats *st)
{
	if (t == NULL || st == NULL)
		return;
	*st = t->st;
}

const char *
wl_dir_how_name(enum wl_dir_how how)
{
	if ((unsigned int)how >= WL_ARRAY_SIZE(how_names))
		return "unknown";
	return how_names[how];
}

/* ---- classify ---- */

/*
 * A first fragment carries the L4 header but decode stops at FRAGMENT:
 * read the ports and TCP flags here, into the caller's local wl_pkt, and
 * only when the whole fixed header was captured (so the checksum field
 * is there for the rewrite). payload is pointed past the header so that
 * wl_pkt_hash_sym() includes the ports, as for the flow's other packets.
 */
static const uint8_t *
first_fragment_l4(struct wl_pkt *p, const uint8_t *frame, uint32_t caplen)
{
	const uint8_t *l4 = p->frag_l4;
	uint32_t need, avail;

	if (l4 == NULL)
		return NULL;
	if (p->l4proto == IPPROTO_TCP)
		need = TCP_HDR_LEN;
	else if (p->l4proto == IPPROTO_UDP)
		need = UDP_HDR_LEN;
	else
		return NULL;
	avail = caplen - (uint32_t)(l4 - frame);
	if (avail < need)
		return NULL;
	p->sport = (uint16_t)(l4[0] << 8 | l4[1]);
	p->dport = (uint16_t)(l4[2] << 8 | l4[3]);
	if (p->l4proto == IPPROTO_TCP)
		p->tcp_flags = l4[13];
	p->payload = l4 + need;
	return l4;
}

/* Sender is the client: 1, server: 0, for a new flow's first packet. */
static int
first_packet_rule(const struct wl_pkt *p, uint8_t *how)
{
	uint8_t f = p->tcp_flags & (WL_TCP_SYN | WL_TCP_ACK);

	if (p->l4proto == IPPROTO_TCP && f == WL_TCP_SYN) {
		*how = WL_DIR_HOW_SYN;
		return 1;
	}
	if (p->l4proto == IPPROTO_TCP && f == (WL_TCP_SYN | WL_TCP_ACK)) {
		*how = WL_DIR_HOW_SYNACK;
		return 0;
	}
	*how = WL_DIR_HOW_PORT;
	/* Equal ports: the first packet's destination is the server. */
	return port_rule_dst_is_server(p->sport, p->dport, 1);
}

static void
set_dir(struct wl_dir_table *t, struct wl_dir_info *out, int sender_is_client)
{
	if (sender_is_client) {
		out->dir = WL_DIR_C2S;
		t->st.c2s_pkts++;
	} else {
		out->dir = WL_DIR_S2C;
		t->st.s2c_pkts++;
	}
}

int
wl_dir_classify(struct wl_dir_table *t, const uint8_t *frame,
	uint32_t caplen, enum wl_link link, struct wl_dir_info *out)
{
	struct dir_entry *e, *empty = NULL;
	const uint8_t *l4;
	struct dir_key k;
	struct wl_pkt p;
	uint32_t h, i, idx;
	int sender, client;
	uint8_t how;

	if (t == NULL || out == NULL || (frame == NULL && caplen != 0))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->dir = WL_DIR_C2S;
	out->how = WL_DIR_HOW_NONE;
	if (frame == NULL)
		goto non_flow;

	switch (wl_pkt_decode(&p, frame, caplen, link)) {
	case WL_PKT_OK:
		l4 = p.l4;
		break;
	case WL_PKT_ERR_FRAGMENT:
		l4 = first_fragment_l4(&p, frame, caplen);
		break;
	default:
		l4 = NULL;
		break;
	}
	out->ip_version = p.ip_version;
	/* Offsets are stored in 16 bits; deeper headers are not flows. */
	if (l4 == NULL || l4 - frame > UINT16_MAX)
		goto non_flow;
	out->is_flow = 1;
	out->l4proto = p.l4proto;
	out->l3_off = (uint16_t)(p.l3 - frame);
	out->l4_off = (uint16_t)(l4 - frame);

	sender = key_make(&k, &p);
	h = key_hash(wl_pkt_hash_sym(&p), &k);
	for (i = 0; i < t->max_probe; i++) {
		idx = (h + i) & t->mask;
		e = &t->slots[idx];
		if ((e->flags & DIR_USED) == 0) {
			empty = e;
			break;
		}
		if (e->hash == h && key_eq(&e->key, &k)) {
			out->how = e->how;
			client = (e->flags & DIR_CLIENT_1) != 0;
			set_dir(t, out, sender == client);
			return 0;
		}
	}

	if (empty == NULL || t->nflows == t->max_flows) {
		/* Not remembered: the same stateless answer every time. */
		t->st.table_full++;
		out->how = WL_DIR_HOW_PORT;
		set_dir(t, out, port_rule_dst_is_server(p.sport, p.dport,
			sender == 0));
		return 0;
	}

	client = first_packet_rule(&p, &how) ? sender : !sender;
	empty->key = k;
	empty->hash = h;
	empty->flags = DIR_USED | (client ? DIR_CLIENT_1 : 0);
	empty->how = how;
	t->nflows++;
	t->st.flows++;
	if (how == WL_DIR_HOW_SYN)
		t->st.by_syn++;
	else if (how == WL_DIR_HOW_SYNACK)
		t->st.by_synack++;
	else
		t->st.by_port++;
	out->how = how;
	set_dir(t, out, sender == client);
	return 0;

non_flow:
	t->st.non_flow++;
	t->st.c2s_pkts++;
	return 0;
}
