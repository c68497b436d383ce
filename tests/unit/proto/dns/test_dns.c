/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * DNS over UDP (each segment one datagram, never split) and over TCP
 * (length-prefixed; whole, split at every offset, byte by byte) through
 * the ops (wl_test_conv.h); plus the decoder and the probes.
 */

#include <errno.h>

#include "dns/wl_dns.h"
#include "dns/wl_dns_parse.h"
#include "wl_proto.h"
#include "../wl_test_conv.h"

/*
 * Messages (T_ prefix: with the TCP length in front):
 * Q_A/R_A        id 0x1234 www.Example.com A, EDNS0 (DO) / answer 192.0.2.1
 * Q_AAAA/R_NX    id 1 nope.example.org AAAA / NXDOMAIN with an SOA
 * R_OTHER        id 1 but another question (not an answer to Q_AAAA)
 * Q_TXT/R_TC     id 7 big.test TXT / truncated answer (TC)
 * Q_MX/R_FORMERR id 9 mail.test MX / FORMERR without a question
 * Q_SRV/R_BADVERS id 10 _x._tcp.test SRV / EDNS0 extended RCODE 16
 * Q_UPD/R_UPD    id 17 UPDATE zone.test / REFUSED
 */
#define Q_A "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x03\x77\x77\x77\x07\x45\x78\x61\x6d\x70\x6c\x65\x03\x63\x6f\x6d\x00\x00\x01\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00"
#define Q_A_LEN 44
#define T_Q_A "\x00\x2c\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x03\x77\x77\x77\x07\x45\x78\x61\x6d\x70\x6c\x65\x03\x63\x6f\x6d\x00\x00\x01\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00"
#define T_Q_A_LEN 46
#define R_A "\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x01\x03\x77\x77\x77\x07\x45\x78\x61\x6d\x70\x6c\x65\x03\x63\x6f\x6d\x00\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x01\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
#define R_A_LEN 60
#define T_R_A "\x00\x3c\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x01\x03\x77\x77\x77\x07\x45\x78\x61\x6d\x70\x6c\x65\x03\x63\x6f\x6d\x00\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x01\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
#define T_R_A_LEN 62
#define Q_AAAA "\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04\x6e\x6f\x70\x65\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x6f\x72\x67\x00\x00\x1c\x00\x01"
#define Q_AAAA_LEN 34
#define T_Q_AAAA "\x00\x22\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04\x6e\x6f\x70\x65\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x6f\x72\x67\x00\x00\x1c\x00\x01"
#define T_Q_AAAA_LEN 36
#define R_NX "\x00\x01\x81\x83\x00\x01\x00\x00\x00\x01\x00\x00\x04\x6e\x6f\x70\x65\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x6f\x72\x67\x00\x00\x1c\x00\x01\xc0\x0c\x00\x06\x00\x01\x00\x00\x01\x2c\x00\x33\x02\x6e\x73\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x6f\x72\x67\x00\x01\x68\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x6f\x72\x67\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05"
#define R_NX_LEN 97
#define T_R_NX "\x00\x61\x00\x01\x81\x83\x00\x01\x00\x00\x00\x01\x00\x00\x04\x6e\x6f\x70\x65\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x6f\x72\x67\x00\x00\x1c\x00\x01\xc0\x0c\x00\x06\x00\x01\x00\x00\x01\x2c\x00\x33\x02\x6e\x73\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x6f\x72\x67\x00\x01\x68\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x6f\x72\x67\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05"
#define T_R_NX_LEN 99
#define Q_TXT "\x00\x07\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03\x62\x69\x67\x04\x74\x65\x73\x74\x00\x00\x10\x00\x01"
#define Q_TXT_LEN 26
#define T_Q_TXT "\x00\x1a\x00\x07\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03\x62\x69\x67\x04\x74\x65\x73\x74\x00\x00\x10\x00\x01"
#define T_Q_TXT_LEN 28
#define R_TC "\x00\x07\x83\x80\x00\x01\x00\x00\x00\x00\x00\x00\x03\x62\x69\x67\x04\x74\x65\x73\x74\x00\x00\x10\x00\x01"
#define R_TC_LEN 26
#define T_R_TC "\x00\x1a\x00\x07\x83\x80\x00\x01\x00\x00\x00\x00\x00\x00\x03\x62\x69\x67\x04\x74\x65\x73\x74\x00\x00\x10\x00\x01"
#define T_R_TC_LEN 28
#define Q_MX "\x00\x09\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04\x6d\x61\x69\x6c\x04\x74\x65\x73\x74\x00\x00\x0f\x00\x01"
#define Q_MX_LEN 27
#define T_Q_MX "\x00\x1b\x00\x09\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04\x6d\x61\x69\x6c\x04\x74\x65\x73\x74\x00\x00\x0f\x00\x01"
#define T_Q_MX_LEN 29
#define R_FORMERR "\x00\x09\x81\x81\x00\x00\x00\x00\x00\x00\x00\x00"
#define R_FORMERR_LEN 12
#define T_R_FORMERR "\x00\x0c\x00\x09\x81\x81\x00\x00\x00\x00\x00\x00\x00\x00"
#define T_R_FORMERR_LEN 14
#define Q_SRV "\x00\x0a\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x02\x5f\x78\x04\x5f\x74\x63\x70\x04\x74\x65\x73\x74\x00\x00\x21\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
#define Q_SRV_LEN 41
#define T_Q_SRV "\x00\x29\x00\x0a\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x02\x5f\x78\x04\x5f\x74\x63\x70\x04\x74\x65\x73\x74\x00\x00\x21\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
#define T_Q_SRV_LEN 43
#define R_BADVERS "\x00\x0a\x81\x80\x00\x01\x00\x00\x00\x00\x00\x01\x02\x5f\x78\x04\x5f\x74\x63\x70\x04\x74\x65\x73\x74\x00\x00\x21\x00\x01\x00\x00\x29\x04\xd0\x01\x00\x00\x00\x00\x00"
#define R_BADVERS_LEN 41
#define T_R_BADVERS "\x00\x29\x00\x0a\x81\x80\x00\x01\x00\x00\x00\x00\x00\x01\x02\x5f\x78\x04\x5f\x74\x63\x70\x04\x74\x65\x73\x74\x00\x00\x21\x00\x01\x00\x00\x29\x04\xd0\x01\x00\x00\x00\x00\x00"
#define T_R_BADVERS_LEN 43
#define R_OTHER "\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x05\x6f\x74\x68\x65\x72\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x6f\x72\x67\x00\x00\x1c\x00\x01"
#define R_OTHER_LEN 35
#define T_R_OTHER "\x00\x23\x00\x01\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x05\x6f\x74\x68\x65\x72\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x6f\x72\x67\x00\x00\x1c\x00\x01"
#define T_R_OTHER_LEN 37
#define Q_UPD "\x00\x11\x28\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04\x7a\x6f\x6e\x65\x04\x74\x65\x73\x74\x00\x00\x06\x00\x01"
#define Q_UPD_LEN 27
#define T_Q_UPD "\x00\x1b\x00\x11\x28\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04\x7a\x6f\x6e\x65\x04\x74\x65\x73\x74\x00\x00\x06\x00\x01"
#define T_Q_UPD_LEN 29
#define R_UPD "\x00\x11\xa8\x05\x00\x01\x00\x00\x00\x00\x00\x00\x04\x7a\x6f\x6e\x65\x04\x74\x65\x73\x74\x00\x00\x06\x00\x01"
#define R_UPD_LEN 27
#define T_R_UPD "\x00\x1b\x00\x11\xa8\x05\x00\x01\x00\x00\x00\x00\x00\x00\x04\x7a\x6f\x6e\x65\x04\x74\x65\x73\x74\x00\x00\x06\x00\x01"
#define T_R_UPD_LEN 29

#define M(x) x, 0, x ## _LEN

static const struct conv udp_convs[] = {
	{ "a-with-edns", {
		{ C, 10, M(Q_A) },
		{ S, 20, M(R_A) },
		{ 0 } }, {
		{ "A", "www.example.com", "NOERROR", 10, 10, 20, 20, 0,
			"answers=1 edns=1" },
		{ 0 } } },
	{ "retransmit-and-duplicate", {
		{ C, 10, M(Q_AAAA) },
		{ C, 15, M(Q_AAAA) },
		{ S, 20, M(R_OTHER) },
		{ S, 21, M(R_NX) },
		{ S, 22, M(R_NX) },
		{ 0 } }, {
		{ "AAAA", "nope.example.org", "NXDOMAIN", 10, 10, 21, 21,
			WL_TXN_F_RETRANS, "retrans=1 dup=1 unmatched=1" },
		{ 0 } } },
	{ "answers-out-of-order", {
		{ C, 10, M(Q_A) },
		{ C, 11, M(Q_TXT) },
		{ C, 12, M(Q_MX) },
		{ S, 20, M(R_FORMERR) },
		{ S, 21, M(R_TC) },
		{ S, 22, M(R_A) },
		{ 0 } }, {
		{ "MX", "mail.test", "FORMERR", 12, 12, 20, 20, 0, NULL },
		{ "TXT", "big.test", "NOERROR", 11, 11, 21, 21, 0, "tc=1" },
		{ "A", "www.example.com", "NOERROR", 10, 10, 22, 22, 0, NULL },
		{ 0 } } },
	{ "extended-rcode-and-update", {
		{ C, 10, M(Q_SRV) },
		{ S, 20, M(R_BADVERS) },
		{ C, 30, M(Q_UPD) },
		{ S, 40, M(R_UPD) },
		{ 0 } }, {
		{ "SRV", "_x._tcp.test", "BADVERS", 10, 10, 20, 20, 0, NULL },
		{ "UPDATE", "zone.test", "REFUSED", 30, 30, 40, 40, 0, NULL },
		{ 0 } } },
	{ "unanswered-and-garbage", {
		{ C, 10, M(Q_A) },
		{ C, 11, "GET / HTTP/1.1\r\n" },
		{ S, 12, M(Q_TXT) },    /* a query from the server's side */
		{ 0 } }, {
		{ "A", "www.example.com", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_END_OF_CAPTURE, NULL },
		{ 0 } }, WL_TXN_F_END_OF_CAPTURE, 2 },
};

/* With a 100 ns timeout: a query 510 ns old when the next datagram comes
 * is unanswered, and its late answer is unmatched. */
static const struct conv timeout_convs[] = {
	{ "timeout", {
		{ C, 10, M(Q_A) },
		{ C, 500, M(Q_TXT) },
		{ S, 520, M(R_TC) },
		{ S, 700, M(R_A) },
		{ 0 } }, {
		{ "A", "www.example.com", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE | WL_TXN_F_TIMEOUT, NULL },
		{ "TXT", "big.test", "NOERROR", 500, 500, 520, 520, 0,
			"unmatched=1" },
		{ 0 } } },
};

static const struct conv tcp_convs[] = {
	{ "tcp-pipelined-any-order", {
		{ C, 10, T_Q_A T_Q_AAAA, 0, T_Q_A_LEN + T_Q_AAAA_LEN },
		{ C, 11, M(T_Q_TXT) },
		{ S, 20, M(T_R_NX) },
		{ S, 21, T_R_TC T_R_A, 0, 30 },
		{ S, 22, &(T_R_TC T_R_A)[30], 0, T_R_TC_LEN + T_R_A_LEN - 30 },
		{ 0 } }, {
		{ "AAAA", "nope.example.org", "NXDOMAIN", 10, 10, 20, 20, 0,
			NULL },
		{ "TXT", "big.test", "NOERROR", 11, 11, 21, 21, 0, "tc=1" },
		{ "A", "www.example.com", "NOERROR", 10, 10, 21, 22, 0,
			NULL },
		{ 0 } } },
	{ "tcp-gap-resync", {
		{ C, 10, M(T_Q_A) },
		{ -1, 1, NULL, 40 },
		{ C, 30, M(T_Q_TXT) },
		{ S, 40, M(T_R_TC) },
		{ 0 } }, {
		{ "TXT", "big.test", "NOERROR", 30, 30, 40, 40, 0,
			"resyncs=1" },
		{ "A", "www.example.com", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE, NULL },
		{ 0 } } },
	{ "tcp-bad-length-stops", {
		{ C, 10, M(T_Q_TXT) },
		{ C, 11, "\x00\x03" "abc", 0, 5 },
		{ S, 30, M(T_R_TC) },
		{ 0 } }, {
		{ "TXT", "big.test", "no_response", 10, 10, 0, 0,
			WL_TXN_F_NO_RESPONSE, NULL },
		{ 0 } }, 0, 1 },
};

/* "key=value ..." of a want's extra against the run's fields/counters. */
static void
check_extra(const struct conv *cv)
{
	unsigned int i;

	for (i = 0; cv->want[i].method != NULL; i++) {
		const struct wl_dns_txn *x = wl_txn_area_c(&got[i]);
		const char *e = cv->want[i].extra;
		char key[16];
		unsigned int v;
		int n;

		while (e != NULL && sscanf(e, "%15[a-z]=%u%n", key, &v, &n) == 2) {
			uint64_t have = !strcmp(key, "answers") ? x->answers :
				!strcmp(key, "edns") ? x->edns :
				!strcmp(key, "tc") ? x->tc :
				!strcmp(key, "retrans") ?
				ctr[WL_PROTO_CTR_RETRANSMITS] :
				!strcmp(key, "dup") ? ctr[WL_PROTO_CTR_DUPLICATES] :
				!strcmp(key, "resyncs") ? ctr[WL_PROTO_CTR_RESYNCS] :
				!strcmp(key, "unmatched") ?
				ctr[WL_PROTO_CTR_UNMATCHED_RSP] : UINT64_MAX;

			if (have != v)
				fail_msg("%s txn %u: %s %llu, want %u", cv->name,
					i, key, (unsigned long long)have, v);
			e += n;
			while (*e == ' ')
				e++;
		}
	}
}

static void
test_udp(void **state)
{
	(void)state;
	conv_proto = WL_PROTO_DNS;
	conv_l4proto = IPPROTO_UDP;
	conv_timeout_ns = 0;
	conv_all(udp_convs, WL_ARRAY_SIZE(udp_convs), check_extra);
	conv_timeout_ns = 100;
	conv_all(timeout_convs, WL_ARRAY_SIZE(timeout_convs), check_extra);
	conv_timeout_ns = 0;
}

static void
test_tcp(void **state)
{
	(void)state;
	conv_proto = WL_PROTO_DNS;
	conv_l4proto = IPPROTO_TCP;
	conv_all(tcp_convs, WL_ARRAY_SIZE(tcp_convs), check_extra);
}

static void
test_decode(void **state)
{
	struct wl_dns_msg m;
	uint8_t loop[] = {
		0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1,
	};
	uint8_t longname[12 + 5 * 64 + 4] = { 0, 2, 1, 0, 0, 1 };
	unsigned int i;
	char buf[16];

	(void)state;
	assert_int_equal(wl_dns_decode((const uint8_t *)R_A, R_A_LEN,
		R_A_LEN, &m), 0);
	assert_int_equal(m.id, 0x1234);
	assert_string_equal(m.qname, "www.example.com");
	assert_int_equal(m.qtype, 1);
	assert_int_equal(m.edns, 1);
	assert_int_equal(m.edns_size, 1232);
	assert_int_equal(m.partial, 0);
	/* Cut after the question: what was decoded stands. */
	assert_int_equal(wl_dns_decode((const uint8_t *)R_A, 33, R_A_LEN, &m),
		0);
	assert_int_equal(m.partial, 1);
	assert_string_equal(m.qname, "www.example.com");
	/* A datagram that ends inside the answers: malformed, but its
	 * header and question still pair... */
	assert_int_equal(wl_dns_decode((const uint8_t *)R_A, 33, 33, &m), 0);
	assert_int_equal(m.malformed, 1);
	assert_int_equal(wl_dns_check((const uint8_t *)R_A, 33, 1, 0), 0);
	/* ...one that ends inside the question does not. */
	assert_int_equal(wl_dns_decode((const uint8_t *)R_A, 25, 25, &m),
		-EBADMSG);
	/* A compression pointer to itself. */
	assert_int_equal(wl_dns_decode(loop, sizeof(loop), sizeof(loop), &m),
		-EBADMSG);
	/* Labels of 63 bytes past 255 in all: malformed. */
	for (i = 0; i < 5; i++) {
		longname[12 + i * 64] = 63;
		memset(longname + 13 + i * 64, 'a', 63);
	}
	assert_int_equal(wl_dns_decode(longname, sizeof(longname),
		sizeof(longname), &m), -EBADMSG);
	/* 63, 63, 63 and 61: 255 bytes on the wire, 253 characters. */
	longname[12 + 3 * 64] = 61;
	longname[12 + 3 * 64 + 62] = 0;
	assert_int_equal(wl_dns_decode(longname, 12 + 255 + 4, 12 + 255 + 4,
		&m), 0);
	assert_int_equal(m.name_cut, 1);
	assert_true(strlen(m.qname) < WL_DNS_NAME);
	assert_string_equal(wl_dns_type_name(65, buf, sizeof(buf)), "HTTPS");
	assert_string_equal(wl_dns_type_name(999, buf, sizeof(buf)),
		"TYPE999");
	assert_string_equal(wl_dns_rcode_name(3, buf, sizeof(buf)),
		"NXDOMAIN");
	assert_string_equal(wl_dns_rcode_name(12, buf, sizeof(buf)),
		"RCODE12");
}

static void
test_probe(void **state)
{
	const struct wl_proto_ops *o = wl_protos[WL_PROTO_DNS];
	const uint8_t *qa = (const uint8_t *)Q_A, *ta = (const uint8_t *)T_Q_A;

	(void)state;
	assert_int_equal(o->probe(qa, Q_A_LEN, C), WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)R_A, R_A_LEN, S),
		WL_PROBE_YES);
	assert_int_equal(o->probe(qa, Q_A_LEN, S), WL_PROBE_NO);
	assert_int_equal(o->probe(qa, Q_A_LEN - 1, C), WL_PROBE_NO);
	assert_int_equal(o->probe(qa, 8, C), WL_PROBE_NO);
	assert_int_equal(o->probe2(ta, T_Q_A_LEN, C), WL_PROBE_YES);
	assert_int_equal(o->probe2(ta, 20, C), WL_PROBE_MAYBE);
	assert_int_equal(o->probe2(ta, 1, C), WL_PROBE_MAYBE);
	assert_int_equal(o->probe2((const uint8_t *)T_R_NX, T_R_NX_LEN, S),
		WL_PROBE_YES);
	assert_int_equal(o->probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16,
		C), WL_PROBE_NO);
	assert_int_equal(o->probe2((const uint8_t *)"GET / HTTP/1.1\r\n", 16,
		C), WL_PROBE_NO);
	assert_int_equal(o->probe2((const uint8_t *)"*1\r\n$4\r\nPING\r\n",
		14, C), WL_PROBE_NO);
	assert_int_equal(o->probe2((const uint8_t *)"get k\r\n", 7, C),
		WL_PROBE_NO);
	assert_int_equal(o->probe2((const uint8_t *)
		"\x00\x00\x00\x08\x04\xd2\x16\x2f", 8, C), WL_PROBE_NO);
}

/* RR type names by value: a table, the same names the list had, TYPEn
 * for the others (RFC 3597), every value. */
static void
test_type_names(void **state)
{
	char buf[16], want[16];
	const char *seen[258] = { 0 };
	unsigned int v, k, named = 0;

	(void)state;
	assert_string_equal(wl_dns_type_name(1, buf, sizeof(buf)), "A");
	assert_string_equal(wl_dns_type_name(28, buf, sizeof(buf)), "AAAA");
	assert_string_equal(wl_dns_type_name(51, buf, sizeof(buf)),
		"NSEC3PARAM");
	assert_string_equal(wl_dns_type_name(65, buf, sizeof(buf)), "HTTPS");
	assert_string_equal(wl_dns_type_name(255, buf, sizeof(buf)), "ANY");
	assert_string_equal(wl_dns_type_name(257, buf, sizeof(buf)), "CAA");
	for (v = 0; v <= 65535; v++) {
		const char *n = wl_dns_type_name((uint16_t)v, buf, sizeof(buf));

		snprintf(want, sizeof(want), "TYPE%u", v);
		if (strcmp(n, want) == 0)
			continue;
		/* Named: below the table's end, each name once. */
		assert_true(v < 258);
		assert_true(n != buf && n[0] >= 'A' && n[0] <= 'Z');
		for (k = 0; k < v; k++)
			assert_true(seen[k] == NULL || strcmp(seen[k], n) != 0);
		seen[v] = n;
		named++;
	}
	assert_int_equal(named, 51);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
