/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The messages of wirelat-replay gen (gen_int.h has their table): each
 * protocol's request and response for a transaction, built from the
 * transaction's drawn sizes and its connection and request numbers, so
 * that a message can be rebuilt whenever its bytes are needed and never
 * has to be stored. The workload renders them piece by piece into
 * segments, the scenarios and the throughput capture whole
 * (gen_msg_flat). The same transaction always gives the same bytes.
 */

#include <stdio.h>
#include <string.h>

#include "gen_int.h"

#define FILL_PATTERN "0123456789abcdefghijklmnopqrstuvwxyz" \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ"

const char *const proto_name[N_PROTO] = {
	"http", "redis", "memcached", "postgresql", "mysql", "dns",
};

char gen_fill_buf[FILL_CHUNK + FILL_PERIOD];

void
gen_fill_init(void)
{
	int i;

	for (i = 0; i < FILL_CHUNK + FILL_PERIOD; i++)
		gen_fill_buf[i] = FILL_PATTERN[i % FILL_PERIOD];
}

void
gen_txn_set(struct txn *x, enum proto proto, int write, uint32_t req,
	uint32_t rsp)
{
	x->write = (uint8_t)(write != 0);
	x->size[0] = req;
	x->size[1] = rsp;
	x->post = proto == P_HTTP && (write || req > HTTP_PAD_MAX);
	/* wirelat keeps a query's first 256 bytes: the INSERT's whole text
	 * fits them. */
	if ((proto == P_PG || proto == P_MY) && x->size[0] > PG_VALUE_MAX)
		x->size[0] = PG_VALUE_MAX;
	if (proto == P_MY && x->size[1] > MY_VALUE_MAX)
		x->size[1] = MY_VALUE_MAX;
}

uint32_t
gen_msg_flat(const struct msg_text *m, uint8_t *out)
{
	uint32_t n = 0, f;

	memcpy(out, m->head, m->hlen);
	n += m->hlen;
	for (f = 0; f < m->flen; ) {
		uint32_t k = m->flen - f < FILL_CHUNK ? m->flen - f :
			FILL_CHUNK;

		memcpy(out + n, gen_fill_buf + f % FILL_PERIOD, k);
		n += k;
		f += k;
	}
	memcpy(out + n, m->tail, m->tlen);
	return n + m->tlen;
}

/* ---- protocols ---- */

/* Append a PostgreSQL message header (type, length of body + 4). */
static uint32_t
pg_hdr(char *out, char type, uint32_t body)
{
	uint32_t l = body + 4;

	out[0] = type;
	out[1] = (char)(l >> 24);
	out[2] = (char)(l >> 16);
	out[3] = (char)(l >> 8);
	out[4] = (char)l;
	return 5;
}

static uint32_t
pg_put(char *out, const void *b, uint32_t n)
{
	memcpy(out, b, n);
	return n;
}

static void
pg_build(const struct conn *c, uint32_t k, int dir, struct msg_text *m)
{
	/* RowDescription of one text column "v". */
	static const char rowdesc[] = "\0\1" "v\0" "\0\0\0\0" "\0\0"
		"\0\0\0\x19" "\xff\xff" "\xff\xff\xff\xff" "\0\0";
	static const char sel[] = "SELECT 1", ins[] = "INSERT 0 1";
	const struct txn *t = &c->tx[k];
	char q[96];
	uint32_t n = 0, ql, v = t->size[1];
	int w;

	m->flen = 0;
	m->tlen = 0;
	if (dir == 0 && t->write) {
		w = snprintf(q, sizeof(q), "INSERT INTO kv_%u_%u VALUES ('",
			c->id, k);
		ql = (uint32_t)w;
		n += pg_hdr(m->head, 'Q', ql + t->size[0] + 3);
		n += pg_put(m->head + n, q, ql);
		m->flen = t->size[0];
		m->tlen = pg_put(m->tail, "')", 3);
	} else if (dir == 0) {
		w = snprintf(q, sizeof(q), "SELECT v FROM kv_%u_%u", c->id,
			k);
		ql = (uint32_t)w + 1;
		n += pg_hdr(m->head, 'Q', ql);
		n += pg_put(m->head + n, q, ql);
	} else if (t->write) {
		n += pg_hdr(m->head, 'C', sizeof(ins));
		n += pg_put(m->head + n, ins, sizeof(ins));
		n += pg_hdr(m->head + n, 'Z', 1);
		n += pg_put(m->head + n, "I", 1);
	} else {
		n += pg_hdr(m->head, 'T', sizeof(rowdesc) - 1);
		n += pg_put(m->head + n, rowdesc, sizeof(rowdesc) - 1);
		n += pg_hdr(m->head + n, 'D', 6 + v);
		m->head[n++] = 0;
		m->head[n++] = 1;
		m->head[n++] = (char)(v >> 24);
		m->head[n++] = (char)(v >> 16);
		m->head[n++] = (char)(v >> 8);
		m->head[n++] = (char)v;
		m->flen = v;
		m->tlen = pg_hdr(m->tail, 'C', sizeof(sel));
		m->tlen += pg_put(m->tail + m->tlen, sel, sizeof(sel));
		m->tlen += pg_hdr(m->tail + m->tlen, 'Z', 1);
		m->tlen += pg_put(m->tail + m->tlen, "I", 1);
	}
	m->hlen = n;
}

/* Append a MySQL packet header: payload length, sequence id. */
static uint32_t
my_hdr(char *out, uint32_t len, uint8_t seq)
{
	out[0] = (char)len;
	out[1] = (char)(len >> 8);
	out[2] = (char)(len >> 16);
	out[3] = (char)seq;
	return 4;
}

/* A length-encoded integer. */
static uint32_t
my_lenenc(char *out, uint32_t v)
{
	if (v < 251) {
		out[0] = (char)v;
		return 1;
	}
	if (v < 65536) {
		out[0] = (char)0xfc;
		out[1] = (char)v;
		out[2] = (char)(v >> 8);
		return 3;
	}
	out[0] = (char)0xfd;
	out[1] = (char)v;
	out[2] = (char)(v >> 8);
	out[3] = (char)(v >> 16);
	return 4;
}

/* Capabilities of both sides: 4.1 protocol, secure connection, plugin
 * auth, connect with a database; EOF packets kept (no DEPRECATE_EOF). */
#define MY_CAPS 0x000fa20fu
#define MY_PLUGIN "mysql_native_password"

/*
 * MySQL: message 0 is the server's greeting (no request), message 1 the
 * HandshakeResponse41 and its OK ("connect"), then COM_QUERY commands,
 * as pg_build's.
 */
static void
my_build(const struct conn *c, uint32_t k, int dir, struct msg_text *m)
{
	static const char ok_ins[] = "\0\1\0\2\0\0\0";
	static const char ok_auth[] = "\0\0\0\2\0\0\0";
	static const char eof[] = "\xfe\0\0\2\0";
	const struct txn *t = &c->tx[k];
	char *h = m->head, q[96];
	uint32_t n = 0, b, v = t->size[1];
	int w;

	m->flen = 0;
	m->tlen = 0;
	if (k == 0 && dir == 0) {
		/* nothing: the server speaks first */
	} else if (k == 0) {
		/* protocol 10, version, thread id, 8 + 13 bytes of scramble,
		 * capabilities, utf8mb4, status, plugin */
		b = 1 + 13 + 4 + 9 + 2 + 1 + 2 + 2 + 1 + 10 + 13 +
			sizeof(MY_PLUGIN);
		n += my_hdr(h, b, 0);
		h[n++] = 10;
		n += pg_put(h + n, "8.0.36-wlgen", 13);
		gen_le32((uint8_t *)h + n, c->id + 1);
		n += 4;
		n += pg_put(h + n, "abcdefgh", 9);
		h[n++] = (char)(MY_CAPS & 0xff);
		h[n++] = (char)((MY_CAPS >> 8) & 0xff);
		h[n++] = 0x2d;
		h[n++] = 2;
		h[n++] = 0;
		h[n++] = (char)((MY_CAPS >> 16) & 0xff);
		h[n++] = (char)(MY_CAPS >> 24);
		h[n++] = 21;
		memset(h + n, 0, 10);
		n += 10;
		n += pg_put(h + n, "ijklmnopqrst", 13);
		n += pg_put(h + n, MY_PLUGIN, sizeof(MY_PLUGIN));
	} else if (k == 1 && dir == 0) {
		char db[16];
		int dl = snprintf(db, sizeof(db), "db_%u", c->id) + 1;

		b = 4 + 4 + 1 + 23 + 6 + 1 + 20 + (uint32_t)dl +
			sizeof(MY_PLUGIN);
		n += my_hdr(h, b, 1);
		gen_le32((uint8_t *)h + n, MY_CAPS);
		n += 4;
		gen_le32((uint8_t *)h + n, 1u << 24);
		n += 4;
		h[n++] = 0x2d;
		memset(h + n, 0, 23);
		n += 23;
		n += pg_put(h + n, "wlgen", 6);
		h[n++] = 20;
		n += pg_put(h + n, "0123456789abcdefghij", 20);
		n += pg_put(h + n, db, (uint32_t)dl);
		n += pg_put(h + n, MY_PLUGIN, sizeof(MY_PLUGIN));
	} else if (k == 1) {
		n += my_hdr(h, sizeof(ok_auth) - 1, 2);
		n += pg_put(h + n, ok_auth, sizeof(ok_auth) - 1);
	} else if (dir == 0 && t->write) {
		w = snprintf(q, sizeof(q), "INSERT INTO kv_%u_%u VALUES ('",
			c->id, k);
		n += my_hdr(h, 1 + (uint32_t)w + t->size[0] + 2, 0);
		h[n++] = 3;     /* COM_QUERY */
		n += pg_put(h + n, q, (uint32_t)w);
		m->flen = t->size[0];
		m->tlen = pg_put(m->tail, "')", 2);
	} else if (dir == 0) {
		w = snprintf(q, sizeof(q), "SELECT v FROM kv_%u_%u", c->id,
			k);
		n += my_hdr(h, 1 + (uint32_t)w, 0);
		h[n++] = 3;
		n += pg_put(h + n, q, (uint32_t)w);
	} else if (t->write) {
		n += my_hdr(h, sizeof(ok_ins) - 1, 1);
		n += pg_put(h + n, ok_ins, sizeof(ok_ins) - 1);
	} else {
		/* One text column "v" of kv_C_K in db_C, one row. */
		char def[128];
		uint32_t dl = 0;
		char tbl[32], db[16];
		int tl = snprintf(tbl, sizeof(tbl), "kv_%u_%u", c->id, k);
		int bl = snprintf(db, sizeof(db), "db_%u", c->id);

		dl += my_lenenc(def + dl, 3);
		dl += pg_put(def + dl, "def", 3);
		dl += my_lenenc(def + dl, (uint32_t)bl);
		dl += pg_put(def + dl, db, (uint32_t)bl);
		dl += my_lenenc(def + dl, (uint32_t)tl);
		dl += pg_put(def + dl, tbl, (uint32_t)tl);
		dl += my_lenenc(def + dl, (uint32_t)tl);
		dl += pg_put(def + dl, tbl, (uint32_t)tl);
		dl += my_lenenc(def + dl, 1);
		dl += pg_put(def + dl, "v", 1);
		dl += my_lenenc(def + dl, 1);
		dl += pg_put(def + dl, "v", 1);
		/* fixed fields: utf8mb4, length, BLOB type, flags, decimals */
		dl += pg_put(def + dl, "\x0c\x2d\0\xff\xff\xff\xff\xfc"
			"\x10\0\0\0\0", 13);
		n += my_hdr(h, 1, 1);
		h[n++] = 1;
		n += my_hdr(h + n, dl, 2);
		n += pg_put(h + n, def, dl);
		n += my_hdr(h + n, sizeof(eof) - 1, 3);
		n += pg_put(h + n, eof, sizeof(eof) - 1);
		n += my_hdr(h + n, my_lenenc(q, v) + v, 4);
		n += my_lenenc(h + n, v);
		m->flen = v;
		m->tlen = my_hdr(m->tail, sizeof(eof) - 1, 5);
		m->tlen += pg_put(m->tail + m->tlen, eof, sizeof(eof) - 1);
	}
	m->hlen = n;
}

/*
 * DNS over UDP: query k of connection c is "q<k>.c<c>.wlgen.test", type A
 * (AAAA for a write), recursion desired, with an EDNS OPT record (1232);
 * its answer holds rsp-size / 16 records (at most DNS_MAX_RR; none is
 * NXDOMAIN), names compressed to the question.
 */
uint32_t
gen_dns_rrs(const struct txn *t)
{
	return t->size[1] / 16 < DNS_MAX_RR ? t->size[1] / 16 : DNS_MAX_RR;
}

static uint16_t
dns_id(const struct conn *c, uint32_t k)
{
	return (uint16_t)(c->isn[0] + k);
}

uint32_t
gen_dns_build(const struct conn *c, uint32_t k, int dir, uint8_t *out)
{
	static const uint8_t opt[] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0,
		0, 0 };
	const struct txn *t = &c->tx[k];
	uint32_t n = 12, rrs = dir ? gen_dns_rrs(t) : 0, i, j;
	uint16_t type = t->write ? 28 : 1;
	char name[64];
	int len = snprintf(name, sizeof(name), "q%u.c%u.wlgen.test", k,
		c->id);
	const char *lab = name;

	gen_put16(out, dns_id(c, k));
	gen_put16(out + 2, dir ? (rrs ? 0x8180 : 0x8183) : 0x0100);
	gen_put16(out + 4, 1);
	gen_put16(out + 6, rrs);
	gen_put16(out + 8, 0);
	gen_put16(out + 10, 1);
	while (lab < name + len) {
		const char *dot = strchr(lab, '.');
		uint32_t l = dot ? (uint32_t)(dot - lab) :
			(uint32_t)strlen(lab);

		out[n++] = (uint8_t)l;
		memcpy(out + n, lab, l);
		n += l;
		lab += l + 1;
	}
	out[n++] = 0;
	gen_put16(out + n, type);
	gen_put16(out + n + 2, 1);
	n += 4;
	for (i = 0; i < rrs; i++) {
		gen_put16(out + n, 0xc00c);
		gen_put16(out + n + 2, type);
		gen_put16(out + n + 4, 1);
		gen_put32(out + n + 6, 300);
		gen_put16(out + n + 10, type == 1 ? 4 : 16);
		n += 12;
		for (j = 0; j < (type == 1 ? 4u : 16u); j++)
			out[n++] = (uint8_t)(j == 0 ? (type == 1 ? 192 : 0x20) :
				j == 1 ? (type == 1 ? 0 : 0x01) : i + 1);
	}
	memcpy(out + n, opt, sizeof(opt));
	return n + (uint32_t)sizeof(opt);
}

void
gen_msg_build(const struct conn *c, uint32_t k, int dir, struct msg_text *m)
{
	const struct txn *t = &c->tx[k];
	char host[64];
	int n;

	m->flen = 0;
	m->tlen = 0;
	m->tail[0] = '\0';
	if (c->proto == P_HTTP && dir == 0) {
		if (c->host != NULL)
			snprintf(host, sizeof(host), "%s", c->host);
		else if (c->sport == 80)
			snprintf(host, sizeof(host), "%u.%u.%u.%u",
				c->sip >> 24, (c->sip >> 16) & 255,
				(c->sip >> 8) & 255, c->sip & 255);
		else
			snprintf(host, sizeof(host), "%u.%u.%u.%u:%u",
				c->sip >> 24, (c->sip >> 16) & 255,
				(c->sip >> 8) & 255, c->sip & 255, c->sport);
		if (t->post) {
			n = snprintf(m->head, sizeof(m->head),
				"POST /r/%u/%u?rsp=%u HTTP/1.1\r\nHost: %s\r\n"
				"Content-Length: %u\r\n\r\n", c->id, k,
				t->size[1], host, t->size[0]);
			m->flen = t->size[0];
		} else {
			n = snprintf(m->head, sizeof(m->head),
				"GET /r/%u/%u?rsp=%u HTTP/1.1\r\nHost: %s\r\n%s",
				c->id, k, t->size[1], host,
				t->size[0] ? "X-Pad: " : "");
			m->flen = t->size[0];
			strcpy(m->tail, t->size[0] ? "\r\n\r\n" : "\r\n");
		}
	} else if (c->proto == P_HTTP) {
		n = snprintf(m->head, sizeof(m->head),
			"HTTP/1.1 %s\r\nContent-Length: %u\r\n\r\n",
			t->write ? "201 Created" : "200 OK", t->size[1]);
		m->flen = t->size[1];
	} else if (c->proto == P_PG) {
		pg_build(c, k, dir, m);
		return;
	} else if (c->proto == P_MY) {
		my_build(c, k, dir, m);
		return;
	} else if (c->proto == P_MC) {
		/* Text protocol: get answered by VALUE ... END, set by
		 * STORED. */
		if (dir == 0 && t->write) {
			n = snprintf(m->head, sizeof(m->head),
				"set key:%u:%u 0 0 %u\r\n", c->id, k,
				t->size[0]);
			m->flen = t->size[0];
			strcpy(m->tail, "\r\n");
		} else if (dir == 0) {
			n = snprintf(m->head, sizeof(m->head),
				"get key:%u:%u\r\n", c->id, k);
		} else if (t->write) {
			n = snprintf(m->head, sizeof(m->head), "STORED\r\n");
		} else {
			n = snprintf(m->head, sizeof(m->head),
				"VALUE key:%u:%u 0 %u\r\n", c->id, k,
				t->size[1]);
			m->flen = t->size[1];
			strcpy(m->tail, "\r\nEND\r\n");
		}
	} else if (dir == 0) {
		char key[40];
		int kl = snprintf(key, sizeof(key), "key:%u:%u", c->id, k);

		if (t->write) {
			n = snprintf(m->head, sizeof(m->head),
				"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%u\r\n", kl,
				key, t->size[0]);
			m->flen = t->size[0];
			strcpy(m->tail, "\r\n");
		} else {
			n = snprintf(m->head, sizeof(m->head),
				"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", kl, key);
		}
	} else if (t->write) {
		n = snprintf(m->head, sizeof(m->head), "+OK\r\n");
	} else {
		n = snprintf(m->head, sizeof(m->head), "$%u\r\n", t->size[1]);
		m->flen = t->size[1];
		strcpy(m->tail, "\r\n");
	}
	m->hlen = (uint32_t)n;
	m->tlen = (uint32_t)strlen(m->tail);
}
