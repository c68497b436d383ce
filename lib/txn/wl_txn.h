/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_TXN_H
#define WL_TXN_H

/*
 * The transaction record: one per request/response pair (or per TCP
 * handshake, or per ended connection), produced on parser lcores and
 * consumed by the collector.
 *
 * Compact: a fixed part of two cache lines (endpoints, ids, flags, the
 * four times, sizes, the lengths of the texts), then a variable part:
 * the protocol's area (a struct only the protocol that wrote it knows,
 * ops->txn_area bytes, rendered by its ops->txn_write) and the texts
 * (method, resource, status and up to three of the protocol's), each
 * stored with its length, one after the other in the order of enum
 * wl_txn_str. wl_txn_size() is what a record really holds: a Redis
 * command and its reply is about 160 bytes. struct wl_txn is WL_TXN_SIZE bytes, the room for
 * the largest record (a ring slot, a pending request's record, a
 * record on the stack); only the first wl_txn_size() bytes are written,
 * copied (wl_txn_copy()) and read.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wl_common.h"

/* _(ENUM, "name") -- transaction flags, rendered as strings in JSON. */
#define foreach_wl_txn_flag \
	_(NO_RESPONSE, "no_response")   /* request never answered */ \
	_(NO_REQUEST, "no_request")     /* response whose request was not seen */ \
	_(GAP, "gap")                   /* capture lost bytes inside it */ \
	_(TIMEOUT, "timeout")           /* closed by the idle timeout */ \
	_(EVICTED, "evicted")           /* flow evicted from a full table */ \
	_(END_OF_CAPTURE, "end_of_capture") /* input ended first */ \
	_(RETRANS, "retrans")           /* retransmissions seen inside it */ \
	_(INTERIM, "interim")           /* preceded by an interim response */ \
	_(TRUNCATED, "truncated")       /* cut: text fields, or the response by the end */ \
	_(CLOSED, "closed")             /* connection closed before the end */ \
	_(UNPAIRED, "unpaired")         /* pairing could not be proven (loss) */ \
	_(OVERFLOW, "overflow")         /* the lcore's pending pool was full */ \
	_(REORDERED, "reordered")       /* its packets' times run backwards */ \
	_(CLOCK_MIXED, "clock_mixed")   /* its flow's packets came from two clocks */

enum wl_txn_flag_bit {
#define _(e, n) WL_TXN_F_BIT_ ## e,
	foreach_wl_txn_flag
#undef _
	WL_TXN_F_BIT_MAX
};

#define _(e, n) static const uint32_t WL_TXN_F_ ## e = 1u << WL_TXN_F_BIT_ ## e;
foreach_wl_txn_flag
#undef _

/*
 * Hints from a transaction's producer to its consumers, from the top bit
 * down, never rendered (wl_txn_flag_name() does not name them): what only
 * the producer can tell, for a collector that reads no protocol's area.
 *
 * SYN_ONLY: a TCP handshake never answered, of a connection that was its
 * SYNs alone (what wl_flow_conn_syn_only() says of its record; what a SYN
 * flood leaves): its log line may be folded into its server's count.
 */
static const uint32_t WL_TXN_F_SYN_ONLY = 1u << 31;

_Static_assert(WL_TXN_F_BIT_MAX <= 31, "transaction flags overlap the hints");

/* _(ENUM, "name") -- status classes; the histogram key uses these. */
#define foreach_wl_status_class \
	_(OK, "ok") \
	_(CLIENT_ERROR, "client_error") \
	_(SERVER_ERROR, "server_error") \
	_(ERROR, "error")

enum wl_status_class {
#define _(e, n) WL_SC_ ## e,
	foreach_wl_status_class
#undef _
	WL_SC_MAX
};

/*
 * What a record on the transaction ring is: a request/response pair, or
 * the summary of a connection that ended (lib/flow, struct wl_conn in
 * the proto area), so both travel the same ring in order.
 */
enum wl_txn_kind {
	WL_TXN_KIND_TXN = 0,
	WL_TXN_KIND_CONN = 1,
};

/* An IPv4 address is stored v4-mapped (::ffff:a.b.c.d) so keys have one size. */
struct wl_addr {
	uint8_t a[16];
};

/*
 * The texts of a record, in the order they are stored: the request's
 * first (they come first), then the response's. A protocol names the
 * PROTO ones it uses in its header (wl_http.h: query, host).
 */
enum wl_txn_str {
	WL_TXN_S_METHOD = 0,
	WL_TXN_S_RESOURCE = 1,
	WL_TXN_S_PROTO0 = 2,    /* the protocol's, request side */
	WL_TXN_S_PROTO1 = 3,
	WL_TXN_S_STATUS = 4,
	WL_TXN_S_PROTO2 = 5,    /* the protocol's, response side */
	WL_TXN_S_MAX
};

/* Longest texts, their NUL included (longer ones are cut). */
#define WL_TXN_METHOD_LEN 24
#define WL_TXN_RESOURCE_LEN 128
#define WL_TXN_STATUS_LEN 16
/* A text's bytes in a record, at most (its NUL not included). */
#define WL_TXN_STR_MAX 255

/* The room of a record, its fixed part, and what follows it. */
#define WL_TXN_SIZE 512
#define WL_TXN_FIXED 128
#define WL_TXN_VAR (WL_TXN_SIZE - WL_TXN_FIXED)
/* A protocol's area, at most (ops->txn_area): its texts need the rest. */
#define WL_TXN_AREA_MAX 64

struct wl_txn {
	/* ---- fixed part, first cache line ---- */
	struct wl_addr cli;
	struct wl_addr srv;
	uint16_t cli_port;
	uint16_t srv_port;
	uint16_t vlan;          /* outer VLAN id, 0 if none */
	uint8_t proto;          /* enum wl_proto_id */
	uint8_t status_class;   /* enum wl_status_class */
	uint8_t ts_source;      /* enum wl_ts_source */
	uint8_t lcore;          /* parser lcore that produced it */
	uint8_t kind;           /* enum wl_txn_kind */
	uint8_t area_q;         /* the area's size in 8-byte words */
	uint16_t status_code;   /* numeric status where the protocol has one */
	uint8_t slen[WL_TXN_S_MAX]; /* each text's length, 0: none */
	uint32_t flags;         /* WL_TXN_F_* */
	uint64_t flow_id;       /* per-parser connection number */
	/* ---- second cache line ---- */
	uint64_t req_start_ns;
	uint64_t req_end_ns;
	uint64_t rsp_start_ns;  /* 0 when there is no response */
	uint64_t rsp_end_ns;
	uint64_t req_bytes;
	uint64_t rsp_bytes;
	/* What the connection did while this answer came (lib/flow, L7
	 * transactions): the longest gap inside a server-to-client burst
	 * and the server's retransmitted and out-of-order segments, since
	 * the connection's previous transaction. */
	uint64_t rsp_stall_ns;
	uint32_t rsp_retrans;
	uint32_t rsp_ooo;
	/* ---- variable part: area_q * 8 bytes of area, then the texts,
	 * each one's bytes and a NUL (none for an empty one) ---- */
	uint8_t var[WL_TXN_VAR] __attribute__((aligned(8)));
};

_Static_assert(sizeof(struct wl_txn) == WL_TXN_SIZE, "wl_txn room");
_Static_assert(offsetof(struct wl_txn, req_start_ns) == 64,
	"wl_txn: times in the second cache line");
_Static_assert(offsetof(struct wl_txn, var) == WL_TXN_FIXED,
	"wl_txn fixed part: two cache lines");

/* The area of t: the protocol's struct (WL_TXN_KIND_CONN: lib/flow's
 * struct wl_conn). */
static inline void *
wl_txn_area(struct wl_txn *t)
{
	return t->var;
}

static inline const void *
wl_txn_area_c(const struct wl_txn *t)
{
	return t->var;
}

/* Bytes a text takes in the record. */
static inline unsigned int
wl_txn_str_room(uint8_t len)
{
	return len != 0 ? len + 1u : 0;
}

/* Where text k of t starts, from the start of the variable part. */
static inline unsigned int
wl_txn_str_off(const struct wl_txn *t, unsigned int k)
{
	unsigned int i, off = t->area_q * 8u;

	for (i = 0; i < k; i++)
		off += wl_txn_str_room(t->slen[i]);
	return off;
}

/** Text k of t (enum wl_txn_str), "" when it has none. */
static inline const char *
wl_txn_str(const struct wl_txn *t, unsigned int k)
{
	if (t->slen[k] == 0)
		return "";
	return (const char *)t->var + wl_txn_str_off(t, k);
}

static inline const char *
wl_txn_method(const struct wl_txn *t)
{
	return wl_txn_str(t, WL_TXN_S_METHOD);
}

static inline const char *
wl_txn_resource(const struct wl_txn *t)
{
	return wl_txn_str(t, WL_TXN_S_RESOURCE);
}

static inline const char *
wl_txn_status(const struct wl_txn *t)
{
	return wl_txn_str(t, WL_TXN_S_STATUS);
}

/** Bytes t holds: what a copy of it must take. */
static inline unsigned int
wl_txn_size(const struct wl_txn *t)
{
	return WL_TXN_FIXED + wl_txn_str_off(t, WL_TXN_S_MAX);
}

/** Copy the record src into dst (wl_txn_size() bytes). */
static inline void
wl_txn_copy(struct wl_txn *dst, const struct wl_txn *src)
{
	memcpy(dst, src, wl_txn_size(src));
}

/**
 * Start a record: the fixed part zeroed, then an area of area bytes
 * (rounded up to 8), zeroed, and no text. Every byte wl_txn_size()
 * covers is written: a record's bytes are the same however it was made.
 */
static inline void
wl_txn_reset(struct wl_txn *t, unsigned int area)
{
	unsigned int i, q = (area + 7) / 8;
	uint64_t *a = (uint64_t *)(void *)t->var;

	memset(t, 0, WL_TXN_FIXED);
	for (i = 0; i < q; i++)
		a[i] = 0;
	t->area_q = (uint8_t)q;
}

/** Give a record that has no text yet an area of area bytes, zeroed. */
static inline void
wl_txn_reset_area(struct wl_txn *t, unsigned int area)
{
	unsigned int q = (area + 7) / 8;

	memset(t->var, 0, q * 8);
	t->area_q = (uint8_t)q;
}

/* wl_txn_str_put() when a text after k is set: they move. */
void wl_txn_str_move(struct wl_txn *t, unsigned int k, const char *s,
	size_t n);

/**
 * Set text k of t to the n bytes at s, none of them a NUL (fewer when n
 * exceeds WL_TXN_STR_MAX or the room left: a record never overflows;
 * protocols size their texts so that it cannot happen). Texts after k
 * move when its length changes; usually there are none (texts are set
 * in their order), and this is a copy at the end.
 */
static inline void
wl_txn_str_put(struct wl_txn *t, unsigned int k, const char *s, size_t n)
{
	unsigned int i, off, max, later = 0;
	char *p;

	for (i = k + 1; i < WL_TXN_S_MAX; i++)
		later |= t->slen[i];
	if (later != 0) {
		wl_txn_str_move(t, k, s, n);
		return;
	}
	off = wl_txn_str_off(t, k);
	max = off + 1 < WL_TXN_VAR ? WL_TXN_VAR - off - 1 : 0;
	if (max > WL_TXN_STR_MAX)
		max = WL_TXN_STR_MAX;
	if (n > max)
		n = max;
	if (n == 0) {
		t->slen[k] = 0;
		return;
	}
	/* s may be this very text, shortened. (The record as bytes: gcc
	 * 12 takes t->var for the protocol's struct of the area.) */
	p = (char *)t + WL_TXN_FIXED + off;
	memmove(p, s, n);
	p[n] = '\0';
	t->slen[k] = (uint8_t)n;
}

/**
 * Set text k of t to the first n bytes of s, or fewer when s has a NUL
 * before (wl_txn_str_put()).
 */
static inline void
wl_txn_str_setn(struct wl_txn *t, unsigned int k, const char *s, size_t n)
{
	wl_txn_str_put(t, k, s, strnlen(s, n));
}

/**
 * Set text k of t to the string s as wl_strlcpy() into a char[cap]
 * would: at most cap - 1 bytes.
 */
static inline void
wl_txn_str_set(struct wl_txn *t, unsigned int k, const char *s, size_t cap)
{
	size_t n = strlen(s);

	wl_txn_str_put(t, k, s, n < cap ? n : cap > 0 ? cap - 1 : 0);
}

/** Text k of src into text k of dst. */
static inline void
wl_txn_str_copy(struct wl_txn *dst, const struct wl_txn *src, unsigned int k)
{
	wl_txn_str_put(dst, k, wl_txn_str(src, k), src->slen[k]);
}

static inline void
wl_txn_set_method(struct wl_txn *t, const char *s)
{
	wl_txn_str_set(t, WL_TXN_S_METHOD, s, WL_TXN_METHOD_LEN);
}

static inline void
wl_txn_set_resource(struct wl_txn *t, const char *s)
{
	wl_txn_str_set(t, WL_TXN_S_RESOURCE, s, WL_TXN_RESOURCE_LEN);
}

static inline void
wl_txn_set_status(struct wl_txn *t, const char *s)
{
	wl_txn_str_set(t, WL_TXN_S_STATUS, s, WL_TXN_STATUS_LEN);
}

/**
 * Is t a well-formed record: its area and texts within its room, each
 * text as long as its length says and NUL-terminated (tests, fuzzing).
 * @return 0, or -EINVAL.
 */
int wl_txn_check(const struct wl_txn *t);

/*
 * Where transactions go: a parser's ring, or a test's array. The sink
 * copies the record (wl_txn_copy()); it may amend it first (lib/flow
 * adds what the connection did), so t is not const; it is the caller's
 * again when emit returns.
 */
struct wl_txn_sink {
	void (*emit)(void *arg, struct wl_txn *t);
	void *arg;
};

/* What a series' values are: exporters convert and name them by it. */
enum wl_metric_unit {
	WL_UNIT_NS = 0,         /* exported in seconds */
	WL_UNIT_BYTES = 1,
	WL_UNIT_COUNT = 2,
};

/*
 * A family of histogram series a transaction can feed, declared by its
 * owner (a protocol's ops->metrics, lib/flow's connection series) and
 * published in the shared memory, so readers need no protocol code.
 */
struct wl_metric_def {
	const char *name;           /* the series key's metric: "server_rtt" */
	const char *export_name;    /* after "wirelat_": "tcp_server_rtt_seconds" */
	const char *method_label;   /* label the key's method becomes; NULL: none */
	uint8_t unit;               /* enum wl_metric_unit */
	const char *help;           /* one line for HELP */
};

/* One value a transaction gives one series of a family. */
struct wl_metric_val {
	const struct wl_metric_def *def;
	const char *method;         /* the key's method: the transaction's, a close reason, "" */
	uint8_t status_class;       /* enum wl_status_class */
	uint64_t v;                 /* in def->unit */
};

/* What a transaction's timing came to, beside the values it gave. */
enum wl_txn_verdict {
	WL_TXN_V_TIMED = 0,         /* its time is in a histogram */
	WL_TXN_V_UNPROVEN = 1,      /* answered, but its time is not proven */
	WL_TXN_V_NO_RESPONSE = 2,   /* never answered */
};

#define WL_METRIC_VALS_MAX 4

/** Name of a status class ("ok", ...). */
const char *wl_status_class_name(enum wl_status_class sc);

/** Name of flag bit b ("gap", ...), NULL past the last. */
const char *wl_txn_flag_name(unsigned int b);

/* Flags that say a transaction's duration is not proven: kept out of
 * the duration histograms (docs/timing.md). */
#define WL_TXN_F_UNTIMED (WL_TXN_F_NO_RESPONSE | WL_TXN_F_NO_REQUEST | \
	WL_TXN_F_UNPAIRED | WL_TXN_F_OVERFLOW | WL_TXN_F_REORDERED | \
	WL_TXN_F_CLOCK_MIXED)

/** Is the pairing of the transaction's request and response proven? */
static inline int
wl_txn_paired(const struct wl_txn *t)
{
	return t->req_start_ns != 0 && (t->flags & (WL_TXN_F_NO_REQUEST |
		WL_TXN_F_UNPAIRED | WL_TXN_F_OVERFLOW)) == 0;
}

/**
 * duration_ns = rsp_end - req_start: 0 without a proven pair or the
 * response's end.
 */
static inline uint64_t
wl_txn_duration(const struct wl_txn *t)
{
	if (!wl_txn_paired(t) || t->rsp_end_ns == 0 ||
			t->rsp_end_ns < t->req_start_ns ||
			(t->flags & WL_TXN_F_CLOCK_MIXED))
		return 0;
	return t->rsp_end_ns - t->req_start_ns;
}

/** ttfb_ns = rsp_start - req_end: 0 without a proven pair or response. */
static inline uint64_t
wl_txn_ttfb(const struct wl_txn *t)
{
	if (!wl_txn_paired(t) || t->rsp_start_ns == 0 ||
			t->rsp_start_ns < t->req_end_ns ||
			(t->flags & WL_TXN_F_CLOCK_MIXED))
		return 0;
	return t->rsp_start_ns - t->req_end_ns;
}

/**
 * Does the transaction's duration go into a histogram: its request and
 * the end of its response are known and their pairing proven.
 */
static inline int
wl_txn_timed(const struct wl_txn *t)
{
	return wl_txn_paired(t) && t->rsp_end_ns != 0 &&
		t->rsp_end_ns >= t->req_start_ns &&
		(t->flags & WL_TXN_F_UNTIMED) == 0;
}

/** Format an address as text (dotted quad for v4-mapped). */
void wl_addr_format(const struct wl_addr *a, char *buf, size_t size);

/** Store an IPv4 address (network order bytes) v4-mapped. */
void wl_addr_from_v4(struct wl_addr *a, const uint8_t v4[4]);

/** True when the address is v4-mapped. Two word compares: the flow
 * table asks it of both addresses of every packet (key_make()). */
static inline int
wl_addr_is_v4(const struct wl_addr *a)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint64_t x, px;
	uint32_t y, py;

	memcpy(&x, a->a, sizeof(x));
	memcpy(&px, pfx, sizeof(px));
	memcpy(&y, a->a + 8, sizeof(y));
	memcpy(&py, pfx + 8, sizeof(py));
	return x == px && y == py;
}

#endif /* WL_TXN_H */
