/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_TEST_STARTS_H
#define WL_TEST_STARTS_H

/*
 * First bytes of directions, for detection tests and benchmarks: a start
 * of every protocol each way (several where a probe has branches) and
 * bytes of no protocol (TLS, SSH, SMTP, HTTP/2, binary noise).
 */

#include <stdint.h>

#include <netinet/in.h>

#include "wl_proto.h"

struct wl_test_start {
	const char *what;
	int proto;              /* enum wl_proto_id, -1 none */
	uint8_t l4proto;        /* IPPROTO_TCP, IPPROTO_UDP */
	uint8_t dir;            /* enum wl_dir */
	const char *d;
	uint32_t len;
};

#define WL_TS(w, p, l4, dir, lit) \
	{ w, p, l4, dir, lit, (uint32_t)(sizeof(lit) - 1) }
#define WL_TS_TCP IPPROTO_TCP
#define WL_TS_UDP IPPROTO_UDP

static const struct wl_test_start wl_test_starts[] = {
	WL_TS("http-get", WL_PROTO_HTTP, WL_TS_TCP, WL_DIR_C2S,
		"GET /index.html HTTP/1.1\r\nHost: example.com\r\n"
		"User-Agent: curl/8.0\r\nAccept: */*\r\n\r\n"),
	WL_TS("http-propfind", WL_PROTO_HTTP, WL_TS_TCP, WL_DIR_C2S,
		"PROPFIND /d/ HTTP/1.1\r\nDepth: 1\r\n\r\n"),
	WL_TS("http-200", WL_PROTO_HTTP, WL_TS_TCP, WL_DIR_S2C,
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
	WL_TS("redis-resp", WL_PROTO_REDIS, WL_TS_TCP, WL_DIR_C2S,
		"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"),
	WL_TS("redis-inline", WL_PROTO_REDIS, WL_TS_TCP, WL_DIR_C2S,
		"PING\r\n"),
	WL_TS("redis-inline-long", WL_PROTO_REDIS, WL_TS_TCP, WL_DIR_C2S,
		"HGETALL user:1000:profile:settings\r\n"),
	WL_TS("memcached-get", WL_PROTO_MEMCACHED, WL_TS_TCP, WL_DIR_C2S,
		"get user:1000\r\n"),
	WL_TS("memcached-set", WL_PROTO_MEMCACHED, WL_TS_TCP, WL_DIR_C2S,
		"set k 0 0 5\r\nvalue\r\n"),
	WL_TS("memcached-meta", WL_PROTO_MEMCACHED, WL_TS_TCP, WL_DIR_C2S,
		"mg foo v t\r\n"),
	WL_TS("memcached-binary", WL_PROTO_MEMCACHED, WL_TS_TCP, WL_DIR_C2S,
		"\x80\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01"
		"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00k"),
	WL_TS("pg-startup", WL_PROTO_POSTGRESQL, WL_TS_TCP, WL_DIR_C2S,
		"\x00\x00\x00\x20\x00\x03\x00\x00"
		"user\0bob\0database\0shop\0\0"),
	WL_TS("pg-ssl", WL_PROTO_POSTGRESQL, WL_TS_TCP, WL_DIR_C2S,
		"\x00\x00\x00\x08\x04\xd2\x16\x2f"),
	WL_TS("pg-query", WL_PROTO_POSTGRESQL, WL_TS_TCP, WL_DIR_C2S,
		"Q\x00\x00\x00\x0eSELECT 1;\0"),
	WL_TS("pg-auth", WL_PROTO_POSTGRESQL, WL_TS_TCP, WL_DIR_S2C,
		"R\x00\x00\x00\x08\x00\x00\x00\x00"
		"S\x00\x00\x00\x18server_version\0" "16.1\0"
		"Z\x00\x00\x00\x05I"),
	WL_TS("pg-ssl-refused", WL_PROTO_POSTGRESQL, WL_TS_TCP, WL_DIR_S2C,
		"NR\x00\x00\x00\x08\x00\x00\x00\x00"),
	WL_TS("mysql-greeting", WL_PROTO_MYSQL, WL_TS_TCP, WL_DIR_S2C,
		"\x53\x00\x00\x00\x0a\x31\x30\x2e\x31\x31\x2e\x36\x2d\x4d\x61"
		"\x72\x69\x61\x44\x42\x00\x2a\x00\x00\x00\x61\x62\x63\x64\x65"
		"\x66\x67\x68\x00\x09\xa2\x21\x02\x00\x08\x01\x15\x00\x00\x00"
		"\x00\x00\x00\x00\x00\x00\x00\x69\x6a\x6b\x6c\x6d\x6e\x6f\x70"
		"\x71\x72\x73\x74\x00\x6d\x79\x73\x71\x6c\x5f\x6e\x61\x74\x69"
		"\x76\x65\x5f\x70\x61\x73\x73\x77\x6f\x72\x64\x00"),
	WL_TS("mysql-query", WL_PROTO_MYSQL, WL_TS_TCP, WL_DIR_C2S,
		"\x09\x00\x00\x00\x03SELECT 1"),
	WL_TS("mysql-ok", WL_PROTO_MYSQL, WL_TS_TCP, WL_DIR_S2C,
		"\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"),
	WL_TS("mysql-login", WL_PROTO_MYSQL, WL_TS_TCP, WL_DIR_C2S,
		"\x20\x00\x00\x01\x05\xa6\x0f\x00\x00\x00\x00\x01\x21\x00\x00"
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		"\x00\x00\x00\x00\x00\x00"),
	WL_TS("dns-query", WL_PROTO_DNS, WL_TS_UDP, WL_DIR_C2S,
		"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03\x77\x77"
		"\x77\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x63\x6f\x6d\x00\x00"
		"\x01\x00\x01"),
	WL_TS("dns-answer", WL_PROTO_DNS, WL_TS_UDP, WL_DIR_S2C,
		"\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x03\x77\x77"
		"\x77\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x63\x6f\x6d\x00\x00"
		"\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04"
		"\xc0\x00\x02\x01"),
	WL_TS("dns-tcp-query", WL_PROTO_DNS, WL_TS_TCP, WL_DIR_C2S,
		"\x00\x21\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03"
		"\x77\x77\x77\x07\x65\x78\x61\x6d\x70\x6c\x65\x03\x63\x6f\x6d"
		"\x00\x00\x01\x00\x01"),
	WL_TS("tls-hello", -1, WL_TS_TCP, WL_DIR_C2S,
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x5a\x1e\x8c\x11"
		"\x42\x9b\x77\x01\xd3\x88\x6a\x0f\x20\x41\xc7\x55\x19\x3e\x08"),
	WL_TS("tls-server-hello", -1, WL_TS_TCP, WL_DIR_S2C,
		"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03\x11\x22\x33\x44"),
	WL_TS("ssh-banner", -1, WL_TS_TCP, WL_DIR_S2C,
		"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
	WL_TS("smtp-banner", -1, WL_TS_TCP, WL_DIR_S2C,
		"220 mail.example.com ESMTP Postfix\r\n"),
	WL_TS("smtp-ehlo", -1, WL_TS_TCP, WL_DIR_C2S,
		"EHLO client.example.com\r\n"),
	WL_TS("http2-preface", -1, WL_TS_TCP, WL_DIR_C2S,
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
	WL_TS("binary", -1, WL_TS_TCP, WL_DIR_C2S,
		"\xe3\x7a\x91\x04\xbe\x58\x0c\x33\xf1\x6d\x2a\x97\x40\x1b\xc8"),
	WL_TS("quic", -1, WL_TS_UDP, WL_DIR_C2S,
		"\xc3\x00\x00\x00\x01\x08\x9a\x3b\x51\x7e\x02\x44\xd0\x1c\x00"),
	WL_TS("ntp", -1, WL_TS_UDP, WL_DIR_C2S,
		"\xe3\x00\x06\xec\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
};

#endif /* WL_TEST_STARTS_H */
