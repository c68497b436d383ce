/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_PROTO_H
#define WL_PROTO_H

/*
 * The L7 plugin interface. A protocol is one const struct wl_proto_ops in
 * lib/proto/<name>/, registered by one line in wl_proto_list.h.
 *
 * The flow layer (lib/flow) owns connections and TCP reassembly; it hands
 * a protocol in-order stream bytes per direction, each chunk with the
 * timestamp of the packet that carried it, plus explicit gap events when
 * the capture lost bytes. The protocol decodes (its <name>_parse.c), pairs
 * requests with responses and emits struct wl_txn through the context
 * (its own fields in the record's area, ops->txn_area bytes, and in up
 * to three texts, WL_TXN_S_PROTO*).
 * Per-flow protocol state is opaque to the core: the core allocates
 * ops->state_size bytes (state_size2 for a flow of l4proto2:
 * wl_proto_state_size()) from a per-lcore bounded pool when the protocol
 * claims a flow, zeroed, and frees it after ops->close.
 *
 * Threading: every callback runs on the parser lcore that owns the flow;
 * none may block, allocate, log or make a syscall (they run per packet).
 * txn_write runs on the collector lcore.
 */

#include <stdint.h>

#include "wl_jw.h"
#include "wl_txn.h"
#include "wl_proto_list.h"

enum wl_proto_id {
#define _(e, n) WL_PROTO_ ## e,
	foreach_wl_proto
#undef _
	WL_PROTO_MAX,
	WL_PROTO_NONE = 0xff
};

/* Direction of a stream relative to the connection's roles. */
enum wl_dir {
	WL_DIR_C2S = 0,
	WL_DIR_S2C = 1,
};

enum wl_probe {
	WL_PROBE_NO = 0,    /* certainly not this protocol */
	WL_PROBE_MAYBE = 1, /* too few bytes to tell */
	WL_PROBE_YES = 2,
};

/* A wire check's 2 / 1 / 0 (yes, too short to tell, no) as a probe answer. */
static inline enum wl_probe
wl_probe_of(int tri)
{
	return tri >= 2 ? WL_PROBE_YES : tri == 1 ? WL_PROBE_MAYBE : WL_PROBE_NO;
}

/* Return values of ops->data and ops->gap. */
#define WL_PROTO_CONTINUE 0
#define WL_PROTO_DONE 1     /* stop feeding this flow (TLS, upgrade, ...) */

/*
 * _(ENUM, "name") -- counters every protocol has, per parser lcore.
 * Exported as <proto>_<name>.
 */
#define foreach_wl_proto_ctr \
	_(FLOWS, "flows")                 /* flows claimed */ \
	_(REQUESTS, "requests") \
	_(RESPONSES, "responses") \
	_(TXNS, "txns")                   /* transactions emitted */ \
	_(MESSAGES, "messages")           /* not request/response: push, notice */ \
	_(UNMATCHED_REQ, "unmatched_requests") \
	_(UNMATCHED_RSP, "unmatched_responses") \
	_(PARSE_ERRORS, "parse_errors")   /* protocol violations */ \
	_(GAPS, "gaps")                   /* gap events received */ \
	_(RESYNCS, "resyncs")             /* resynchronised after gap/garbage */ \
	_(PENDING_OVERFLOW, "pending_overflow") /* too many in flight */ \
	_(STOPPED, "stopped")             /* flows no longer parsed */ \
	_(RETRANSMITS, "retransmits")     /* request sent again before its answer */ \
	_(DUPLICATES, "duplicates")       /* answer to an answered request */ \
	_(UNPAIRED, "unpaired")           /* emitted flagged: pairing unproven */ \
	_(LOSS_RESOLVED, "loss_resolved") /* losses whose pairing was proven */ \
	_(LOSS_UNRESOLVED, "loss_unresolved") /* ... and those given up on */

enum wl_proto_ctr {
#define _(e, n) WL_PROTO_CTR_ ## e,
	foreach_wl_proto_ctr
#undef _
	WL_PROTO_CTR_MAX
};

struct wl_proto_stats {
	uint64_t c[WL_PROTO_MAX][WL_PROTO_CTR_MAX];
};

/*
 * Where the bytes of a data or gap call sit. off: stream offset of the
 * first byte (bytes of this direction before it, lost ones included;
 * TCP) or datagrams before it (UDP). peer_ack: for TCP, the offset in
 * the other direction's stream up to which the packet that carried the
 * first byte acknowledged (what its sender had received when it sent
 * it), UINT64_MAX when unknown. Message boundaries and these offsets are
 * what lets a matcher prove which request a response answers.
 */
struct wl_stream_pos {
	uint64_t off;
	uint64_t peer_ack;
};

/* What a protocol knows about the connection it is parsing. */
struct wl_proto_ctx {
	struct wl_addr cli;
	struct wl_addr srv;
	uint16_t cli_port;
	uint16_t srv_port;
	uint16_t vlan;
	uint8_t l4proto;
	uint8_t ts_source;
	uint8_t lcore;
	uint8_t proto;              /* enum wl_proto_id of the flow */
	uint64_t flow_id;
	uint64_t rsp_timeout_ns;    /* no answer after this: no_response, 0 = none */
	uint64_t *ctr;              /* this protocol's counters on this lcore */
	const struct wl_txn_sink *sink;
	struct wl_stream_pos pos;   /* of this data or gap call */
	struct wl_mpool *mpool;     /* the lcore's request records (wl_match.h) */
	const struct wl_proto_ops *ops; /* this protocol's */
	/* close: the client closed first, having received every byte the
	 * server sent (an open loss is settled by counting: wl_match.h) */
	uint8_t close_clean;
	/* close: the server closed first, having received every byte the
	 * client sent; a protocol whose client asked it to close (MySQL
	 * COM_QUIT, PostgreSQL Terminate) knows every request before was
	 * answered, and may then close as close_clean */
	uint8_t close_srv_first;
	/* init: the protocol does not see the client's stream from its
	 * start (picked up mid-stream, bytes lost or unparsed before):
	 * answers may come to questions it never saw */
	uint8_t midstream;
	/* init: nor the server's: answers it never saw were sent */
	uint8_t rsp_midstream;
};

/*
 * A detection signature (wl_probe.h): a Hyperscan regular expression
 * (compiled with HS_FLAG_DOTALL) anchored with ^, of bounded width (at
 * most WL_PROBE_SIG_MAXW bytes) and not anchored at the end.
 */
struct wl_probe_sig {
	const char *re;
	uint8_t dirs;               /* WL_SIG_C2S | WL_SIG_S2C */
	uint8_t l4;                 /* 0: probe's transport, 1: probe2's */
};

#define WL_SIG_C2S (1u << WL_DIR_C2S)
#define WL_SIG_S2C (1u << WL_DIR_S2C)

struct wl_proto_ops {
	const char *name;           /* "http", also the JSON "proto" value */
	uint8_t l4proto;            /* IPPROTO_TCP, IPPROTO_UDP */
	uint8_t l4proto2;           /* a second transport (DNS: TCP), 0 none */
	uint16_t default_ports[8];  /* hints, 0-terminated */
	uint32_t state_size;        /* per-flow state bytes, 0 for none */
	/* those of a flow of l4proto2, when they differ (0: state_size):
	 * DNS over UDP keeps no TCP framing buffers */
	uint32_t state_size2;
	/* bytes of its transactions' area (sizeof its struct, at most
	 * WL_TXN_AREA_MAX), 0 for none */
	uint16_t txn_area;
	/*
	 * optional, only to prefetch a flow's state ahead of its packet
	 * (lib/flow): the bytes a packet of each direction reads first
	 * (hot[enum wl_dir]: its parser's), those either direction reads
	 * (hot[2]: the protocol's own fields and the matcher's head), and
	 * where the state's struct wl_match is plus 1 (0: none): a
	 * response reads its oldest waiting request. All len 0: the
	 * state's first lines.
	 */
	struct wl_proto_hot {
		uint16_t off;
		uint16_t len;
	} hot[3];
	uint16_t match_at;

	/*
	 * Does this byte string start a message of this protocol in
	 * direction dir? Sees the first bytes of a direction (or the first
	 * datagram). Must not read past len.
	 */
	enum wl_probe (*probe)(const uint8_t *data, uint32_t len,
		enum wl_dir dir);
	/* the probe for flows of l4proto2 */
	enum wl_probe (*probe2)(const uint8_t *data, uint32_t len,
		enum wl_dir dir);
	/*
	 * optional: the probes' signatures (re NULL ends them). Whatever a
	 * probe does not refuse in a direction matches a signature of that
	 * direction and transport, or is shorter than the widest of them;
	 * a protocol with signatures but none for a direction never starts
	 * there. Without signatures (NULL) the probes always run.
	 */
	const struct wl_probe_sig *probe_sigs;

	/* optional: state is zeroed already */
	void (*init)(void *state, struct wl_proto_ctx *ctx);

	/*
	 * In-order bytes of one direction (TCP) or one datagram (UDP).
	 * ts_ns is the timestamp of the packet that carried them.
	 * @return WL_PROTO_CONTINUE or WL_PROTO_DONE.
	 */
	int (*data)(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir,
		const uint8_t *data, uint32_t len, uint64_t ts_ns);

	/*
	 * len bytes of direction dir were lost by the capture. The protocol
	 * must resynchronise on its own message boundary before pairing
	 * again. @return WL_PROTO_CONTINUE or WL_PROTO_DONE.
	 */
	int (*gap)(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir,
		uint32_t len, uint64_t ts_ns);

	/*
	 * The flow ends (FIN/RST seen both ways, timeout, eviction, end of
	 * capture; txn_flags says which). Emit what is pending, flagged.
	 */
	void (*close)(void *state, struct wl_proto_ctx *ctx,
		uint32_t txn_flags, uint64_t ts_ns);

	/*
	 * optional: write the protocol fields of t (its area) into the
	 * open object of its log line, after the common ones.
	 */
	void (*txn_write)(const struct wl_txn *t, struct wl_jw *w);

	/*
	 * optional, for protocols pairing with wl_match: copy the response
	 * fields of rsp's area and texts into req's, which holds the
	 * request's (default: rsp's area and WL_TXN_S_PROTO* texts replace
	 * req's).
	 */
	void (*txn_merge)(struct wl_txn *req, const struct wl_txn *rsp);

	/*
	 * optional, for wl_match: 0 when rsp (a response's fields) cannot
	 * answer the request whose transaction is req by the protocol's own
	 * rules (a bulk string never answers SET), else 1. Never guesses:
	 * unknown requests fit any response.
	 */
	int (*rsp_fits)(const struct wl_txn *req, const struct wl_txn *rsp);

	/*
	 * optional: the histogram families this protocol's transactions
	 * feed (name NULL ends the array) and the values one transaction
	 * gives them, at most WL_METRIC_VALS_MAX, each def one of metrics.
	 * Default: request duration (proven pairs) and response size
	 * (every response), wl_proto_l7_metrics. Collector lcore.
	 */
	const struct wl_metric_def *metrics;
	unsigned int (*txn_series)(const struct wl_txn *t,
		struct wl_metric_val *out, enum wl_txn_verdict *verdict);
};

/* struct wl_proto_ops hot[]: member m of type, or len bytes from it. */
#define WL_PROTO_HOT(type, m) \
	{ offsetof(type, m), sizeof(((type *)0)->m) }
#define WL_PROTO_HOT_LEN(type, m, len) \
	{ offsetof(type, m), (len) }

/* The state bytes of a flow of transport l4proto (struct wl_proto_ops
 * state_size2). */
static inline uint32_t
wl_proto_state_size(const struct wl_proto_ops *o, uint8_t l4proto)
{
	return o->l4proto2 != 0 && l4proto == o->l4proto2 &&
		o->state_size2 != 0 ? o->state_size2 : o->state_size;
}

/* The default families of a request/response protocol. */
extern const struct wl_metric_def wl_proto_l7_metrics[];

/** Every registered protocol, indexed by enum wl_proto_id. */
extern const struct wl_proto_ops *const wl_protos[WL_PROTO_MAX];

/*
 * A request that got no answer: status "no_response", class error,
 * counted unmatched. @return the flag to add to the transaction's flags.
 */
static inline uint32_t
wl_proto_unanswered(struct wl_proto_ctx *ctx, struct wl_txn *t)
{
	wl_txn_set_status(t, "no_response");
	t->status_class = WL_SC_ERROR;
	ctx->ctr[WL_PROTO_CTR_UNMATCHED_REQ]++;
	return WL_TXN_F_NO_RESPONSE;
}

/** Name of a protocol id, "unknown" when out of range. */
const char *wl_proto_name(unsigned int id);

/** Protocol id for a name, or -ENOENT. */
int wl_proto_by_name(const char *name);

/**
 * Check every registered ops struct once at start-up (name set, data
 * and close set where probe is set, state_size bounded).
 * @return 0, or -EINVAL naming the protocol through *bad.
 */
int wl_proto_check(const char **bad);

/** The histogram families of protocol id, name NULL ending them. */
const struct wl_metric_def *wl_proto_metrics(unsigned int id);

/**
 * The values transaction t gives its protocol's histogram families
 * (ops->txn_series or the default), and what its timing came to.
 * @return how many of out (WL_METRIC_VALS_MAX) are filled.
 */
unsigned int wl_proto_txn_series(const struct wl_txn *t,
	struct wl_metric_val *out, enum wl_txn_verdict *verdict);

/**
 * Start a transaction of the flow (wl_txn_reset() with the area of
 * ctx->ops, else of ctx->proto) and fill its endpoint fields from the
 * context.
 */
void wl_proto_txn_init(const struct wl_proto_ctx *ctx, struct wl_txn *t);

/**
 * Hand a finished transaction to the lcore's sink and count it. The sink
 * may amend t (struct wl_txn_sink).
 */
static inline void
wl_proto_emit(struct wl_proto_ctx *ctx, struct wl_txn *t)
{
	ctx->ctr[WL_PROTO_CTR_TXNS]++;
	ctx->sink->emit(ctx->sink->arg, t);
}

#endif /* WL_PROTO_H */
