/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_CONFIG_H
#define WL_CONFIG_H

/*
 * wirelat configuration: one plain struct, filled with defaults, then
 * from a JSON file (jansson), then from the command line, validated once
 * and immutable afterwards. docs/config.md documents every key; the
 * JSON keys are the struct paths below ("flow.max_flows", ...).
 * No DPDK here: the command line is parsed before the EAL starts.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define WL_CFG_MAX_INPUTS 8
#define WL_CFG_MAX_LCORES 64
#define WL_CFG_MAX_EAL_ARGS 32
#define WL_CFG_MAX_PINS 64
#define WL_CFG_MAX_SERVER_PORTS 64
#define WL_CFG_STR 256
#define WL_CFG_PATH 1024

/* _(ENUM, "name") */
#define foreach_wl_input_type \
	_(PCAP, "pcap")     /* file, FIFO or - (stdin): lib/source, ns */ \
	_(IFACE, "iface")   /* kernel interface through net_af_packet */ \
	_(PORT, "port")     /* DPDK port by PCI address */ \
	_(VDEV, "vdev")     /* any DPDK vdev spec */

enum wl_input_type {
#define _(e, n) WL_INPUT_ ## e,
	foreach_wl_input_type
#undef _
	WL_INPUT_MAX
};

struct wl_cfg_input {
	enum wl_input_type type;
	char arg[WL_CFG_PATH];          /* path, ifname, PCI address, vdev spec */
	uint16_t rx_queues;             /* ports: RX queues (0 = one per RX lcore) */
};

/* "rtc": each RX lcore parses what it reads (queue == parser).
 * "pipeline": RX lcores hash and enqueue to parser lcores by ring. */
enum wl_core_mode {
	WL_MODE_RTC = 0,
	WL_MODE_PIPELINE = 1,
};

/* "auto": hugepages if free ones exist, else --no-huge with a notice. */
enum wl_huge {
	WL_HUGE_AUTO = 0,
	WL_HUGE_ON = 1,
	WL_HUGE_OFF = 2,
};

/* How the connection log writes unanswered SYNs (output.syn_unanswered). */
enum wl_syn_log_mode {
	WL_SYN_LOG_PER_SECOND = 0,      /* one line per server and second */
	WL_SYN_LOG_EACH = 1,            /* one connection line each */
};

/* Bytes of a protocol name in the configuration, its NUL included. */
#define WL_CFG_PROTO_NAME 32

struct wl_cfg_pin {
	char proto[WL_CFG_PROTO_NAME];
	uint16_t port;
};

/* A protocol's own number of states (protocols.state_max). */
struct wl_cfg_state_max {
	char proto[WL_CFG_PROTO_NAME];
	uint32_t n;
};

/* wirelat-export's "export" block (docs/config.md, docs/export.md). */
#define WL_CFG_MAX_LE 64
#define WL_CFG_MAX_RW 8
#define WL_CFG_MAX_EXPORT_INSTANCES 16
#define WL_CFG_MAX_LABELS 16

/* export.buckets: which bucket labels histograms get. */
enum wl_cfg_buckets {
	WL_CFG_BUCKETS_LE = 0,
	WL_CFG_BUCKETS_VMRANGE = 1,
	WL_CFG_BUCKETS_BOTH = 2,
};

struct wl_cfg_label {
	char name[64];
	char value[WL_CFG_STR];
};

/* One export.remote_write entry. */
struct wl_cfg_rw {
	char url[WL_CFG_PATH];
	uint32_t interval_s;
	uint32_t timeout_s;
	uint32_t queue_samples;         /* 0: queue_minutes decides */
	uint32_t queue_minutes;
	uint32_t samples_per_request;
	char basic_auth_user[WL_CFG_STR];
	char basic_auth_password_file[WL_CFG_PATH];
	char bearer_token_file[WL_CFG_PATH];
	unsigned int n_labels;
	struct wl_cfg_label labels[WL_CFG_MAX_LABELS];
};

struct wl_config {
	char instance[64];              /* "instance": shm name suffix */

	/* "eal" */
	char lcores[WL_CFG_STR];        /* eal.lcores: EAL -l list, "" = all */
	enum wl_huge huge;              /* eal.huge: "auto" | "on" | "off" */
	uint32_t memory_mb;             /* eal.memory_mb: -m when no hugepages */
	char file_prefix[64];           /* eal.file_prefix: "" = "wirelat-<instance>" */
	unsigned int n_eal_args;        /* eal.args: raw EAL arguments (after --) */
	char eal_args[WL_CFG_MAX_EAL_ARGS][WL_CFG_STR];

	/* "inputs": array of {"type": ..., "arg": ..., "rx_queues": n} */
	unsigned int n_inputs;
	struct wl_cfg_input inputs[WL_CFG_MAX_INPUTS];

	/* "cores" */
	enum wl_core_mode mode;         /* cores.mode: "rtc" | "pipeline" */
	unsigned int n_rx;              /* cores.rx: lcore ids, [] = automatic */
	unsigned int rx_lcores[WL_CFG_MAX_LCORES];
	unsigned int n_parsers;         /* cores.parsers: lcore ids (pipeline) */
	unsigned int parser_lcores[WL_CFG_MAX_LCORES];
	int collector_lcore;            /* cores.collector: -1 = main lcore */

	/* "rx" */
	uint32_t burst;                 /* rx.burst: packets per rx burst */
	uint32_t mbufs;                 /* rx.mbufs: mbufs per RX pool */
	uint32_t mbuf_size;             /* rx.mbuf_size: data room bytes */
	uint32_t rxd;                   /* rx.descriptors: per RX queue */
	uint32_t parser_ring;           /* rx.parser_ring: RX->parser ring size */
	int sw_hash;                    /* rx.sw_hash: force software hash */
	int hw_timestamp;               /* rx.hw_timestamp: use if offered */
	uint32_t kernel_ring_kb;        /* rx.kernel_ring_kb: per --iface socket */
	uint32_t kernel_block_kb;       /* rx.kernel_block_kb: TPACKET_V3 block */
	uint32_t kernel_block_ms;       /* rx.kernel_block_ms: block timeout */

	/* "flow" -- see struct wl_flow_conf */
	uint32_t max_flows;             /* flow.max_flows (per parser lcore) */
	uint32_t tcp_idle_ms;           /* flow.tcp_idle_ms */
	uint32_t tcp_closed_ms;         /* flow.tcp_closed_ms */
	uint32_t tcp_syn_ms;            /* flow.tcp_syn_ms */
	uint32_t udp_idle_ms;           /* flow.udp_idle_ms */
	uint32_t ooo_max_segs;          /* flow.ooo_max_segs */
	uint32_t ooo_pool_segs;         /* flow.ooo_pool_segs */
	uint32_t ooo_seg_bytes;         /* flow.ooo_seg_bytes */
	uint32_t l7_state_max;          /* flow.l7_state_max */
	uint32_t probe_max_bytes;       /* flow.probe_max_bytes */
	int probe_signatures;           /* flow.probe_signatures */
	uint32_t stall_ms;              /* flow.stall_ms */
	int conn_analytics;             /* flow.conn_analytics */
	uint32_t dedup_window_us;       /* flow.dedup_window_us: 0 = off */
	uint32_t ts_jump_ms;            /* flow.ts_jump_ms */
	uint32_t reorder_pkts;          /* flow.reorder_pkts */
	uint32_t reorder_ms;            /* flow.reorder_ms */
	uint32_t pending_max;           /* flow.pending_max */
	uint32_t unproven_pct;          /* flow.unproven_pct */
	/* Part pools per parser lcore (docs/flow.md, "Memory"); 0: default */
	uint32_t handshake_max;         /* flow.handshake_max */
	uint32_t extra_max;             /* flow.extra_max */
	uint32_t ipv6_max;              /* flow.ipv6_max */
	uint32_t events_max;            /* flow.events_max */
	uint32_t probing_max;           /* flow.probing_max */
	uint32_t stash_max;             /* flow.stash_max */
	uint32_t reorder_max;           /* flow.reorder_max */
	uint32_t dedup_entries;         /* flow.dedup_entries */

	/* "protocols" */
	unsigned int n_pins;            /* protocols.ports: {"http": [8080], ...} */
	struct wl_cfg_pin pins[WL_CFG_MAX_PINS];
	unsigned int n_server_ports;    /* protocols.server_ports: [port, ...] */
	uint16_t server_ports[WL_CFG_MAX_SERVER_PORTS];
	unsigned int n_disabled;        /* protocols.disabled: ["redis", ...] */
	char disabled[WL_CFG_MAX_PINS][WL_CFG_PROTO_NAME];
	/* protocols.state_max: {"dns": 250000, ...}, else flow.l7_state_max */
	unsigned int n_state_max;
	struct wl_cfg_state_max state_max[WL_CFG_MAX_PINS];
	uint32_t dns_timeout_ms;        /* protocols.dns_timeout_ms: 0 = none */

	/* "collector" */
	uint32_t txn_ring;              /* collector.txn_ring: per parser */
	uint32_t max_series;            /* collector.max_series */
	char shm_group[32];             /* collector.shm_group: readers */
	uint32_t publish_ms;            /* collector.publish_ms: counters to shm */
	int lossless;                   /* collector.lossless: -1 auto, 0, 1 */
	uint32_t idle_sleep_us;         /* collector.idle_sleep_us: 0 = spin */

	/* "output" */
	char log_path[WL_CFG_PATH];     /* output.log: "" none, "-" stdout */
	char stats_json[WL_CFG_PATH];   /* output.stats_json */
	char conn_path[WL_CFG_PATH];    /* output.connections: per-connection log */
	uint32_t conn_requests_max;     /* output.connection_requests */
	enum wl_syn_log_mode syn_log;   /* output.syn_unanswered */
	uint32_t status_interval_s;     /* output.status_interval_s: 0 = off */
	int report;                     /* output.report: final table on stdout */

	/* "export" (wirelat-export only) */
	char export_listen[WL_CFG_STR]; /* export.listen: ADDR:PORT, "" none */
	enum wl_cfg_buckets export_buckets; /* export.buckets */
	unsigned int n_le[3];           /* export.le_seconds, _bytes, _count */
	double le[3][WL_CFG_MAX_LE];
	unsigned int n_export_instances; /* export.instances: [] = instance */
	char export_instances[WL_CFG_MAX_EXPORT_INSTANCES][64];
	uint32_t export_stale_s;        /* export.stale_s */
	unsigned int n_rw;              /* export.remote_write */
	struct wl_cfg_rw rw[WL_CFG_MAX_RW];
};

/** Fill every field with its default. */
void wl_config_defaults(struct wl_config *c);

/**
 * Apply a JSON object on top of c. Unknown keys and bad values are
 * rejected; err receives one line naming the key (e.g.
 * "flow.max_flows: must be an integer in [1, 16777216]").
 * @return 0 or -EINVAL.
 */
int wl_config_apply_json(struct wl_config *c, const json_t *root,
	char *err, size_t errlen);

/** Load a JSON file and apply it. @return 0, -ENOENT/-EIO, or -EINVAL. */
int wl_config_load_file(struct wl_config *c, const char *path,
	char *err, size_t errlen);

/**
 * Cross-field checks (inputs present, lcores distinct, ring sizes powers
 * of two, pinned protocols exist, ...). @return 0 or -EINVAL with err.
 * Protocol names are checked against the names passed in (NULL-ended).
 */
int wl_config_validate(const struct wl_config *c, const char *const *protos,
	char *err, size_t errlen);

/**
 * Checks of the export block alone (wirelat-export: no inputs needed).
 * @return 0 or -EINVAL with one line in err naming the key.
 */
int wl_config_validate_export(const struct wl_config *c, char *err,
	size_t errlen);

/** A remote_write entry with its defaults (a --remote-write URL's). */
void wl_config_rw_defaults(struct wl_cfg_rw *rw);

/** The complete configuration as JSON (`wirelat config`). New reference. */
json_t *wl_config_to_json(const struct wl_config *c);

/** Name of an input type, and the type for a name (-EINVAL if none). */
const char *wl_input_type_name(enum wl_input_type t);
int wl_input_type_parse(const char *name);

#endif /* WL_CONFIG_H */
