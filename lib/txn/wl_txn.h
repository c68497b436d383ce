/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_TXN_H
#define WL_TXN_H

/*
 * The transaction record: one fixed-size struct per request/response pair
 * (or per TCP handshake), produced on parser lcores and consumed by the
 * collector. Fixed size so that it travels through an rte_ring of elements
 * without allocation. Common fields first; the tail is a per-protocol area
 * whose layout only the protocol that wrote it knows (it writes it into
 * the log line through its ops->txn_write callback).
 */

#include <stdint.h>

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

#define WL_TXN_METHOD_LEN 24
#define WL_TXN_RESOURCE_LEN 128
#define WL_TXN_STATUS_LEN 16
#define WL_TXN_PROTO_AREA 216
#define WL_TXN_CONN_AREA (WL_TXN_METHOD_LEN + WL_TXN_RESOURCE_LEN + \
	WL_TXN_STATUS_LEN + WL_TXN_PROTO_AREA)

struct wl_txn {
	struct wl_addr cli;
	struct wl_addr srv;
	uint16_t cli_port;
	uint16_t srv_port;
	uint16_t vlan;          /* outer VLAN id, 0 if none */
	uint8_t proto;          /* enum wl_proto_id */
	uint8_t status_class;   /* enum wl_status_class */
	uint8_t ts_source;      /* enum wl_ts_source */
	uint8_t lcore;          /* parser lcore that produced it */
	uint16_t method_id;     /* protocol-defined, 0 = unknown */
	uint32_t flags;         /* WL_TXN_F_* */
	uint32_t status_code;   /* numeric status where the protocol has one */
	uint8_t kind;           /* enum wl_txn_kind */
	uint8_t rsvd[3];
	uint64_t flow_id;       /* per-parser connection number */
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
	union {
		struct {
			char method[WL_TXN_METHOD_LEN];
			char resource[WL_TXN_RESOURCE_LEN];
			char status[WL_TXN_STATUS_LEN];
			/* Per-protocol data, rendered by the protocol's
			 * txn_write callback. */
			uint8_t proto_area[WL_TXN_PROTO_AREA]
				__attribute__((aligned(8)));
		};
		/* WL_TXN_KIND_CONN: the connection summary (lib/flow's
		 * struct wl_conn), which has no text fields. */
		uint8_t conn_area[WL_TXN_CONN_AREA] __attribute__((aligned(8)));
	};
};

_Static_assert(sizeof(struct wl_txn) == 512, "wl_txn must stay 512 bytes");

/* Where transactions go: a parser's ring, or a test's array. */
struct wl_txn_sink {
	void (*emit)(void *arg, const struct wl_txn *t);
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

/** True when the address is v4-mapped. */
static inline int
wl_addr_is_v4(const struct wl_addr *a)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	int i;

	for (i = 0; i < 12; i++)
		if (a->a[i] != pfx[i])
			return 0;
	return 1;
}

#endif /* WL_TXN_H */
