/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * wirelat: command line and configuration, EAL arguments built from our
 * own options, input and lcore set-up, then the lcore loops (rx.c) and
 * the collector (collector.c) on the main lcore. Everything that can be
 * checked before the EAL starts is checked first, so a bad flag, config
 * or capture file costs one line on stderr and exit status 2 (usage,
 * config) or 1 (input/runtime).
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "wirelat.h"
#include "wl_build_config.h"
#include "wl_eal.h"
#include "wl_log.h"
#include "wl_mbuf.h"

#define EXIT_USAGE 2

static struct wl_app *g_app;

/* ---- command line ---- */

enum {
	OPT_VDEV = 256,
	OPT_STATS_JSON,
	OPT_INSTANCE,
	OPT_MODE,
	OPT_RX_LCORES,
	OPT_PARSER_LCORES,
	OPT_RX_QUEUES,
	OPT_NO_REPORT,
	OPT_STATUS_INTERVAL,
	OPT_MAX_FLOWS,
	OPT_SERVER_PORT,
	OPT_PROTO_PORT,
	OPT_HUGE,
	OPT_DRIVERS_DIR,
	OPT_SW_HASH,
	OPT_BENCH_BARE,
	OPT_CONNECTIONS,
	OPT_SYN_UNANSWERED,
};

static const struct option long_opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"pcap", required_argument, NULL, 'r'},
	{"iface", required_argument, NULL, 'i'},
	{"port", required_argument, NULL, 'p'},
	{"vdev", required_argument, NULL, OPT_VDEV},
	{"lcores", required_argument, NULL, 'l'},
	{"log", required_argument, NULL, 'o'},
	{"stats-json", required_argument, NULL, OPT_STATS_JSON},
	{"connections", required_argument, NULL, OPT_CONNECTIONS},
	{"syn-unanswered", required_argument, NULL, OPT_SYN_UNANSWERED},
	{"instance", required_argument, NULL, OPT_INSTANCE},
	{"mode", required_argument, NULL, OPT_MODE},
	{"rx-lcores", required_argument, NULL, OPT_RX_LCORES},
	{"parser-lcores", required_argument, NULL, OPT_PARSER_LCORES},
	{"rx-queues", required_argument, NULL, OPT_RX_QUEUES},
	{"no-report", no_argument, NULL, OPT_NO_REPORT},
	{"status-interval", required_argument, NULL, OPT_STATUS_INTERVAL},
	{"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
	{"server-port", required_argument, NULL, OPT_SERVER_PORT},
	{"proto-port", required_argument, NULL, OPT_PROTO_PORT},
	{"huge", required_argument, NULL, OPT_HUGE},
	{"drivers-dir", required_argument, NULL, OPT_DRIVERS_DIR},
	{"sw-hash", no_argument, NULL, OPT_SW_HASH},
	{"bench-bare", no_argument, NULL, OPT_BENCH_BARE},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: wirelat [OPTIONS] [-- EAL-ARGS]\n"
"       wirelat config [--config FILE]   print the complete configuration\n"
"\n"
"Measures per-request server latency from packets: TCP handshakes and the\n"
"transactions of HTTP/1.x, Redis, memcached, PostgreSQL, MySQL/MariaDB and\n"
"DNS, recognised on any port. See docs/timing.md for definitions.\n"
"\n"
"Inputs (repeatable, all feed the same RX path):\n"
"  -r, --pcap FILE|-        pcap/pcapng file, read with ns timestamps;\n"
"                           several are read one after the other. - is\n"
"                           standard input; - or a FIFO is read as a\n"
"                           stream (tcpdump -w - | wirelat --pcap -)\n"
"  -i, --iface NAME         live kernel interface (AF_PACKET, kernel or NIC\n"
"                           timestamps: docs/capture.md)\n"
"  -p, --port PCI           DPDK port by PCI address\n"
"      --vdev SPEC          any DPDK vdev, e.g. net_pcap0,rx_pcap=f.pcap\n"
"Cores:\n"
"  -l, --lcores LIST        EAL lcore list/map; the first is the main lcore\n"
"                           (collector). Default: two CPUs of our affinity\n"
"      --mode rtc|pipeline  queue == parser, or RX -> ring -> parser\n"
"      --rx-lcores LIST     RX lcores (default: every worker in rtc)\n"
"      --parser-lcores LIST parser lcores (pipeline)\n"
"      --rx-queues N        RX queues per port (default: one per RX lcore)\n"
"      --sw-hash            ignore the NIC RSS hash, hash in software\n"
"Flows and protocols:\n"
"      --max-flows N        flow table size per parser lcore\n"
"      --server-port P      treat P as a server port (mid-stream pickup)\n"
"      --proto-port NAME:P  pin protocol NAME to port P\n"
"Output:\n"
"  -o, --log FILE|-         one JSON line per transaction\n"
"      --stats-json FILE    final histograms, as wirelat-stat --json\n"
"      --connections FILE|- one JSON line per connection when it ends\n"
"      --syn-unanswered per_second|each\n"
"                           SYNs never answered: one line per server and\n"
"                           second (default), or a connection line each\n"
"      --instance NAME      shared-memory instance (default \"default\")\n"
"      --status-interval S  live status line period on stderr (0 = off)\n"
"      --no-report          no final report on stdout\n"
"Other:\n"
"  -c, --config FILE        JSON configuration (docs/config.md);\n"
"                           command-line options override it\n"
"      --huge auto|on|off   hugepages (auto: use them if free)\n"
"      --drivers-dir DIR    per-driver settings (drivers-config/)\n"
"      --bench-bare         RX and free only: the baseline of scripts/bench\n"
"  -h, --help               this text\n"
"  -V, --version            version\n");
}

static int
parse_uint(const char *opt, const char *s, unsigned long min,
	unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
			v < min || v > max) {
		wl_err("--%s: expected an integer in [%lu, %lu], got \"%s\"",
			opt, min, max, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* "1,2,4-6" into ids; @return count or -EINVAL. */
static int
parse_lcore_list(const char *opt, const char *s, unsigned int *ids,
	unsigned int max)
{
	unsigned int n = 0;
	const char *p = s;

	while (*p != '\0') {
		char *end;
		unsigned long a, b;

		errno = 0;
		a = strtoul(p, &end, 10);
		if (end == p || errno != 0)
			goto bad;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || b < a)
				goto bad;
		}
		for (; a <= b; a++) {
			if (n >= max || a >= WL_CFG_MAX_LCORES)
				goto bad;
			ids[n++] = (unsigned int)a;
		}
		if (*end == ',')
			end++;
		else if (*end != '\0')
			goto bad;
		p = end;
	}
	if (n == 0)
		goto bad;
	return (int)n;
bad:
	wl_err("--%s: expected a list of lcore ids like 1,2,4-6, got \"%s\"",
		opt, s);
	return -EINVAL;
}

static int
add_input(struct wl_config *c, enum wl_input_type t, const char *arg)
{
	struct wl_cfg_input *in;

	if (c->n_inputs >= WL_CFG_MAX_INPUTS) {
		wl_err("too many inputs (at most %d)", WL_CFG_MAX_INPUTS);
		return -EINVAL;
	}
	in = &c->inputs[c->n_inputs++];
	memset(in, 0, sizeof(*in));
	in->type = t;
	wl_strlcpy(in->arg, arg, sizeof(in->arg));
	return 0;
}

/*
 * Two passes: the first finds --config (the file is applied first), the
 * second applies every other option on top.
 */
static int
parse_args(struct wl_app *app, int argc, char **argv, int *eal_argc,
	char ***eal_argv)
{
	struct wl_config *c = &app->cfg;
	static const char *short_opts = ":c:r:i:p:l:o:hV";
	char err[512];
	unsigned long v;
	int opt, ret, cli_inputs = 0;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, short_opts, long_opts,
			NULL)) != -1) {
		if (opt == 'c') {
			ret = wl_config_load_file(c, optarg, err, sizeof(err));
			if (ret != 0) {
				wl_err("%s", err);
				return -EINVAL;
			}
		}
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, short_opts, long_opts,
			NULL)) != -1) {
		switch (opt) {
		case 'c':
			break;
		case 'r':
		case 'i':
		case 'p':
		case OPT_VDEV:
			/* Command-line inputs replace the config file's. */
			if (cli_inputs++ == 0)
				c->n_inputs = 0;
			if (add_input(c, opt == 'r' ? WL_INPUT_PCAP :
					opt == 'i' ? WL_INPUT_IFACE :
					opt == 'p' ? WL_INPUT_PORT :
					WL_INPUT_VDEV, optarg) != 0)
				return -EINVAL;
			break;
		case 'l':
			wl_strlcpy(c->lcores, optarg, sizeof(c->lcores));
			break;
		case 'o':
			wl_strlcpy(c->log_path, optarg, sizeof(c->log_path));
			break;
		case OPT_CONNECTIONS:
			wl_strlcpy(c->conn_path, optarg, sizeof(c->conn_path));
			break;
		case OPT_SYN_UNANSWERED:
			if (strcmp(optarg, "per_second") == 0)
				c->syn_log = WL_SYN_LOG_PER_SECOND;
			else if (strcmp(optarg, "each") == 0)
				c->syn_log = WL_SYN_LOG_EACH;
			else {
				wl_err("--syn-unanswered: expected \"per_second\" "
					"or \"each\", got \"%s\"", optarg);
				return -EINVAL;
			}
			break;
		case OPT_STATS_JSON:
			wl_strlcpy(c->stats_json, optarg, sizeof(c->stats_json));
			break;
		case OPT_INSTANCE:
			if (optarg[0] == '\0' || strchr(optarg, '/') != NULL ||
					strlen(optarg) >= sizeof(c->instance)) {
				wl_err("--instance: expected a name without '/', "
					"at most %zu characters",
					sizeof(c->instance) - 1);
				return -EINVAL;
			}
			wl_strlcpy(c->instance, optarg, sizeof(c->instance));
			break;
		case OPT_MODE:
			if (strcmp(optarg, "rtc") == 0)
				c->mode = WL_MODE_RTC;
			else if (strcmp(optarg, "pipeline") == 0)
				c->mode = WL_MODE_PIPELINE;
			else {
				wl_err("--mode: expected \"rtc\" or \"pipeline\", "
					"got \"%s\"", optarg);
				return -EINVAL;
			}
			break;
		case OPT_RX_LCORES:
			ret = parse_lcore_list("rx-lcores", optarg, c->rx_lcores,
				WL_CFG_MAX_LCORES);
			if (ret < 0)
				return ret;
			c->n_rx = (unsigned int)ret;
			break;
		case OPT_PARSER_LCORES:
			ret = parse_lcore_list("parser-lcores", optarg,
				c->parser_lcores, WL_CFG_MAX_LCORES);
			if (ret < 0)
				return ret;
			c->n_parsers = (unsigned int)ret;
			break;
		case OPT_RX_QUEUES:
			if (parse_uint("rx-queues", optarg, 1, 128, &v) != 0)
				return -EINVAL;
			for (ret = 0; ret < (int)c->n_inputs; ret++)
				c->inputs[ret].rx_queues = (uint16_t)v;
			break;
		case OPT_NO_REPORT:
			c->report = 0;
			break;
		case OPT_STATUS_INTERVAL:
			if (parse_uint("status-interval", optarg, 0, 3600, &v))
				return -EINVAL;
			c->status_interval_s = (uint32_t)v;
			break;
		case OPT_MAX_FLOWS:
			if (parse_uint("max-flows", optarg, 1, 1 << 24, &v))
				return -EINVAL;
			c->max_flows = (uint32_t)v;
			break;
		case OPT_SERVER_PORT:
			if (parse_uint("server-port", optarg, 1, 65535, &v))
				return -EINVAL;
			if (c->n_server_ports >= WL_CFG_MAX_SERVER_PORTS) {
				wl_err("--server-port: at most %d",
					WL_CFG_MAX_SERVER_PORTS);
				return -EINVAL;
			}
			c->server_ports[c->n_server_ports++] = (uint16_t)v;
			break;
		case OPT_PROTO_PORT: {
			const char *colon = strchr(optarg, ':');

			if (colon == NULL || colon == optarg ||
					(size_t)(colon - optarg) >= 32) {
				wl_err("--proto-port: expected NAME:PORT, got \"%s\"",
					optarg);
				return -EINVAL;
			}
			if (parse_uint("proto-port", colon + 1, 1, 65535, &v))
				return -EINVAL;
			if (c->n_pins >= WL_CFG_MAX_PINS) {
				wl_err("--proto-port: at most %d", WL_CFG_MAX_PINS);
				return -EINVAL;
			}
			wl_strncpy_buf(c->pins[c->n_pins].proto,
				sizeof(c->pins[0].proto), optarg,
				(size_t)(colon - optarg));
			c->pins[c->n_pins++].port = (uint16_t)v;
			break;
		}
		case OPT_HUGE:
			if (strcmp(optarg, "auto") == 0)
				c->huge = WL_HUGE_AUTO;
			else if (strcmp(optarg, "on") == 0)
				c->huge = WL_HUGE_ON;
			else if (strcmp(optarg, "off") == 0)
				c->huge = WL_HUGE_OFF;
			else {
				wl_err("--huge: expected auto, on or off, got \"%s\"",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_DRIVERS_DIR:
			wl_strlcpy(app->drivers_dir, optarg,
				sizeof(app->drivers_dir));
			break;
		case OPT_SW_HASH:
			c->sw_hash = 1;
			break;
		case OPT_BENCH_BARE:
			app->bench_bare = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("wirelat %s\n", WL_VERSION);
			exit(0);
		case ':':
			wl_err("option %s needs an argument", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt != 0 && optopt < 256)
				wl_err("unknown option -%c (see --help)", optopt);
			else
				wl_err("unknown option %s (see --help)",
					argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		wl_err("unexpected argument \"%s\" (see --help)", argv[optind]);
		return -EINVAL;
	}
	*eal_argc = argc - optind;
	*eal_argv = argv + optind;
	return 0;
}

/* ---- EAL arguments ---- */

/*
 * eal.memory_mb 0: room for a flow table on every lcore but the main one
 * (an upper bound: RX lcores of a pipeline have none) and 256 MB for the
 * rest (mbufs, rings). Without hugepages it is address space: pages
 * count only once touched.
 */
static uint32_t
memory_auto(const struct wl_app *app, const char *lcores)
{
	int n = wl_eal_lcores_count(lcores);
	uint64_t mb = (wl_flow_table_mem(&app->fconf) + (1u << 20) - 1) >> 20;

	return (uint32_t)RTE_MIN(256 + (n > 1 ? n - 1 : 1) * mb,
		(uint64_t)1 << 20);
}

static void
build_eal_args(struct wl_app *app, struct wl_eal_args *a, int extra_argc,
	char **extra_argv)
{
	struct wl_config *c = &app->cfg;
	char lcores[WL_CFG_STR];
	int has_pci = 0;
	unsigned int i;

	wl_eal_add(a, "wirelat");
	if (c->lcores[0] != '\0')
		wl_strlcpy(lcores, c->lcores, sizeof(lcores));
	else
		wl_eal_default_lcores(lcores, sizeof(lcores));
	wl_eal_add(a, "--lcores=%s", lcores);
	if (c->file_prefix[0] != '\0')
		wl_eal_add(a, "--file-prefix=%s", c->file_prefix);
	else
		wl_eal_add(a, "--file-prefix=wirelat-%s", c->instance);
	wl_eal_add_memory(a, c->huge == WL_HUGE_ON ? 1 :
		c->huge == WL_HUGE_AUTO ? -1 : 0, c->memory_mb != 0 ?
		c->memory_mb : memory_auto(app, lcores), "wirelat");
	for (i = 0; i < c->n_inputs; i++) {
		const struct wl_cfg_input *in = &c->inputs[i];

		switch (in->type) {
		case WL_INPUT_PORT:
			wl_eal_add(a, "-a");
			wl_eal_add(a, "%s", in->arg);
			has_pci = 1;
			break;
		case WL_INPUT_VDEV:
			wl_eal_add(a, "--vdev=%s", in->arg);
			break;
		default:
			break;
		}
	}
	if (!has_pci)
		wl_eal_add(a, "--no-pci");
	wl_eal_add_quiet(a);
	for (i = 0; i < c->n_eal_args; i++)
		wl_eal_add(a, "%s", c->eal_args[i]);
	for (i = 0; i < (unsigned int)extra_argc; i++)
		wl_eal_add(a, "%s", extra_argv[i]);
}

/* ---- set-up ---- */

static const char *const *
proto_names(void)
{
	static const char *names[WL_PROTO_MAX + 1];
	unsigned int i;

	for (i = 0; i < WL_PROTO_MAX; i++)
		names[i] = wl_protos[i]->name;
	names[WL_PROTO_MAX] = NULL;
	return names;
}

/* At exit: a stream gives standard input its flags back. */
static void
close_sources(struct wl_app *app)
{
	unsigned int i;

	for (i = 0; i < app->n_sources; i++)
		wl_source_close(app->sources[i]);
	app->n_sources = 0;
}

/*
 * "-" (stdin), a FIFO or a pipe is read as a stream: opening waits for
 * a writer and the file header, in this thread, interruptibly (see
 * catch_signals()). The stream then never blocks the RX lcore, and it
 * ends by itself, so it is offline input like a file.
 */
static int
open_sources(struct wl_app *app)
{
	struct wl_config *c = &app->cfg;
	char err[512];
	unsigned int i;

	for (i = 0; i < c->n_inputs; i++) {
		struct wl_source *s;

		if (c->inputs[i].type != WL_INPUT_PCAP)
			continue;
		s = wl_source_open_stream(c->inputs[i].arg, err, sizeof(err));
		if (s == NULL) {
			wl_err("%s", err);
			close_sources(app);
			return -EINVAL;
		}
		wl_strlcpy(app->source_names[app->n_sources],
			strcmp(c->inputs[i].arg, "-") == 0 ? "stdin" :
			c->inputs[i].arg, sizeof(app->source_names[0]));
		app->sources[app->n_sources++] = s;
	}
	return 0;
}

static void
flow_conf_init(struct wl_app *app)
{
	struct wl_config *c = &app->cfg;
	struct wl_flow_conf *f = &app->fconf;
	unsigned int i;

	memset(app->port_proto, WL_PROTO_NONE, sizeof(app->port_proto));
	for (i = 0; i < c->n_pins; i++)
		app->port_proto[c->pins[i].port] =
			(uint8_t)wl_proto_by_name(c->pins[i].proto);
	for (i = 0; i < c->n_server_ports; i++)
		app->server_port_bits[c->server_ports[i] / 64] |=
			1ULL << (c->server_ports[i] % 64);
	memset(f, 0, sizeof(*f));
	f->max_flows = c->max_flows;
	f->tcp_idle_ms = c->tcp_idle_ms;
	f->tcp_closed_ms = c->tcp_closed_ms;
	f->tcp_syn_ms = c->tcp_syn_ms;
	f->udp_idle_ms = c->udp_idle_ms;
	f->ooo_max_segs = c->ooo_max_segs;
	f->ooo_pool_segs = c->ooo_pool_segs;
	f->ooo_seg_bytes = c->ooo_seg_bytes;
	f->l7_state_max = c->l7_state_max;
	f->probe_max_bytes = c->probe_max_bytes;
	/* TCP connections always feed the per-server aggregates; every
	 * flow goes to the connection log when there is one. */
	f->conn_records = c->conn_path[0] != '\0' ? 2 : 1;
	f->conn_analytics = (uint8_t)c->conn_analytics;
	f->stall_ms = c->stall_ms;
	f->dedup_window_us = c->dedup_window_us;
	f->reorder_pkts = c->reorder_pkts;
	f->reorder_ms = c->reorder_ms;
	f->pending_max = c->pending_max;
	f->unproven_pct = c->unproven_pct;
	f->handshake_max = c->handshake_max;
	f->extra_max = c->extra_max;
	f->ipv6_max = c->ipv6_max;
	f->events_max = c->events_max;
	f->probing_max = c->probing_max;
	f->stash_max = c->stash_max;
	f->reorder_max = c->reorder_max;
	f->dedup_entries = c->dedup_entries;
	f->server_ports = app->server_port_bits;
	f->port_proto = app->port_proto;
	f->rsp_timeout_ms[WL_PROTO_DNS] = c->dns_timeout_ms;
	for (i = 0; i < c->n_disabled; i++) {
		int id = wl_proto_by_name(c->disabled[i]);

		if (id >= 0)
			f->proto_disabled |= 1u << id;
	}
	for (i = 0; i < c->n_state_max; i++) {
		int id = wl_proto_by_name(c->state_max[i].proto);

		if (id >= 0)
			f->l7_state_proto[id] = c->state_max[i].n;
	}
}

static int
contains(const unsigned int *ids, unsigned int n, unsigned int id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static struct wl_lcore *
lcore_get(struct wl_app *app, unsigned int id)
{
	struct wl_lcore *lc = app->lc[id];

	if (lc != NULL)
		return lc;
	lc = rte_zmalloc("wl_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE);
	if (lc == NULL)
		return NULL;
	lc->st = rte_zmalloc("wl_lcore_stats", sizeof(*lc->st),
		RTE_CACHE_LINE_SIZE);
	lc->scratch = rte_malloc("wl_scratch", WL_SCRATCH_LEN,
		RTE_CACHE_LINE_SIZE);
	if (lc->st == NULL || lc->scratch == NULL) {
		rte_free(lc->st);
		rte_free(lc->scratch);
		rte_free(lc);
		return NULL;
	}
	lc->app = app;
	lc->lcore_id = id;
	lc->parser_idx = -1;
	lc->jump_ns = (uint64_t)app->cfg.ts_jump_ms * 1000000;
	app->lc[id] = lc;
	app->lcore_ids[app->n_lcores++] = id;
	return lc;
}

/* Assign RX and parser roles to worker lcores (main = collector). */
static int
assign_roles(struct wl_app *app)
{
	struct wl_config *c = &app->cfg;
	unsigned int rx[RTE_MAX_LCORE], pr[RTE_MAX_LCORE];
	unsigned int n_rx = 0, n_pr = 0, id, i;

	RTE_LCORE_FOREACH_WORKER(id) {
		if (c->n_rx > 0 && !contains(c->rx_lcores, c->n_rx, id))
			continue;
		if (c->mode == WL_MODE_PIPELINE && c->n_rx == 0 && n_rx == 1)
			continue;     /* default pipeline: one RX lcore */
		if (c->mode == WL_MODE_PIPELINE &&
				contains(c->parser_lcores, c->n_parsers, id))
			continue;
		rx[n_rx++] = id;
	}
	if (c->mode == WL_MODE_PIPELINE) {
		RTE_LCORE_FOREACH_WORKER(id) {
			if (contains(rx, n_rx, id))
				continue;
			if (c->n_parsers > 0 &&
					!contains(c->parser_lcores, c->n_parsers, id))
				continue;
			pr[n_pr++] = id;
		}
	}
	for (i = 0; i < c->n_rx; i++)
		if (!rte_lcore_is_enabled(c->rx_lcores[i]) ||
				c->rx_lcores[i] == rte_get_main_lcore()) {
			wl_err("cores.rx: lcore %u is not a worker lcore of "
				"--lcores", c->rx_lcores[i]);
			return -EINVAL;
		}
	for (i = 0; i < c->n_parsers; i++)
		if (!rte_lcore_is_enabled(c->parser_lcores[i]) ||
				c->parser_lcores[i] == rte_get_main_lcore()) {
			wl_err("cores.parsers: lcore %u is not a worker lcore "
				"of --lcores", c->parser_lcores[i]);
			return -EINVAL;
		}
	if (n_rx == 0) {
		wl_err("no RX lcore: --lcores needs at least two lcores "
			"(main = collector, one worker)");
		return -EINVAL;
	}
	if (c->mode == WL_MODE_PIPELINE && n_pr == 0) {
		wl_err("pipeline mode needs parser lcores besides the RX "
			"lcores (e.g. --lcores '0@0,1@1,2@1')");
		return -EINVAL;
	}
	for (i = 0; i < n_rx; i++) {
		struct wl_lcore *lc = lcore_get(app, rx[i]);

		if (lc == NULL)
			return -ENOMEM;
		lc->is_rx = 1;
		lc->is_parser = c->mode == WL_MODE_RTC;
		app->rx[app->n_rx++] = lc;
	}
	for (i = 0; i < n_pr; i++) {
		struct wl_lcore *lc = lcore_get(app, pr[i]);

		if (lc == NULL)
			return -ENOMEM;
		lc->is_parser = 1;
	}
	for (i = 0; i < app->n_lcores; i++) {
		struct wl_lcore *lc = app->lc[app->lcore_ids[i]];

		if (lc->is_parser) {
			lc->parser_idx = (int)app->n_parsers;
			app->parsers[app->n_parsers++] = lc;
		}
	}
	app->rx[0]->reads_sources = app->n_sources > 0;
	return 0;
}

/* The next RX queue slot of RX lcore (n % n_rx): queues go round-robin. */
static struct wl_rxq *
rxq_add(struct wl_app *app, unsigned int n)
{
	struct wl_lcore *lc = app->rx[n % app->n_rx];

	if (lc->n_rxq >= WL_MAX_RXQ_PER_LCORE) {
		wl_err("too many RX queues for lcore %u", lc->lcore_id);
		return NULL;
	}
	return &lc->rxq[lc->n_rxq++];
}

/* ---- NUMA ---- */

static inline int
lcore_socket(const struct wl_lcore *lc)
{
	return (int)rte_lcore_to_socket_id(lc->lcore_id);
}

/*
 * The RX mbuf pool of a socket, made at first use. A NIC writes its
 * packets into mbufs by DMA, so a port's pool sits on the port's socket;
 * what an lcore alone touches (flow table, rings, matcher pool) sits on
 * the lcore's (setup_parsers). One pool of rx.mbufs per socket used.
 */
static struct rte_mempool *
pool_of(struct wl_app *app, int socket)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;
	uint16_t room = (uint16_t)(app->cfg.mbuf_size + RTE_PKTMBUF_HEADROOM);

	if (socket < 0 || socket >= RTE_MAX_NUMA_NODES)
		socket = (int)rte_socket_id();
	if (app->pools[socket] != NULL)
		return app->pools[socket];
	snprintf(name, sizeof(name), "wl_rx_%d", socket);
	mp = rte_pktmbuf_pool_create(name, app->cfg.mbufs, 256, 0, room,
		socket);
	if (mp == NULL && rte_errno == ENOMEM) {
		/* No hugepages reserved on that socket: still run. */
		WL_LOG(WARNING, "no memory on socket %d for the RX pool: taken "
			"from any socket, so packets may cross sockets "
			"(reserve hugepages on node %d)", socket,
			socket);
		mp = rte_pktmbuf_pool_create(name, app->cfg.mbufs, 256, 0,
			room, SOCKET_ID_ANY);
	}
	if (mp == NULL) {
		wl_err("cannot create the mbuf pool (%u mbufs of %u bytes): %s",
			app->cfg.mbufs, app->cfg.mbuf_size,
			rte_strerror(rte_errno));
		return NULL;
	}
	app->pools[socket] = mp;
	return mp;
}

/* The socket a kernel interface's device sits on, -1 if unknown. */
static int
iface_socket(const char *ifname)
{
	char path[128];
	FILE *f;
	int node = -1;

	snprintf(path, sizeof(path), "/sys/class/net/%s/device/numa_node",
		ifname);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%d", &node) != 1)
		node = -1;
	fclose(f);
	return node;
}

/* Say so when an input's device and the lcore reading it are on
 * different sockets: every packet then crosses the interconnect. */
static void
numa_check(const char *what, int dev_socket, const struct wl_lcore *lc)
{
	int ls = lcore_socket(lc);

	if (dev_socket >= 0 && dev_socket != ls)
		WL_LOG(WARNING, "%s is on socket %d but read by lcore %u on "
			"socket %d: every packet crosses sockets (give it "
			"lcores of socket %d in --lcores)", what, dev_socket,
			lc->lcore_id, ls, dev_socket);
}

/*
 * Kernel interfaces: one AF_PACKET socket per RX lcore (or rx_queues),
 * in one fanout group, handed out round-robin like a port's queues.
 */
static int
setup_ifaces(struct wl_app *app)
{
	const struct wl_config *c = &app->cfg;
	struct wl_afp_conf ac;
	char err[WL_AFP_ERR_LEN];
	unsigned int i, q;
	int dev_socket;

	for (i = 0; i < c->n_inputs; i++) {
		const struct wl_cfg_input *in = &c->inputs[i];
		struct wl_afp *a;

		if (in->type != WL_INPUT_IFACE)
			continue;
		memset(&ac, 0, sizeof(ac));
		ac.ifname = in->arg;
		ac.n_queues = in->rx_queues != 0 ? in->rx_queues : app->n_rx;
		ac.ring_kb = c->kernel_ring_kb;
		ac.block_kb = c->kernel_block_kb;
		ac.block_ms = c->kernel_block_ms;
		ac.hw_timestamp = c->hw_timestamp;
		ac.promisc = 1;
		a = wl_afp_open(&ac, err, sizeof(err));
		if (a == NULL) {
			wl_err("--iface %s", err);
			return -EINVAL;
		}
		app->ifaces[app->n_ifaces++] = a;
		dev_socket = iface_socket(in->arg);
		for (q = 0; q < ac.n_queues; q++) {
			unsigned int n = app->n_ifaces - 1 + q;
			struct wl_rxq *rq = rxq_add(app, n);

			if (rq == NULL)
				return -EINVAL;
			rq->kind = WL_RXQ_AFP;
			rq->afp = a;
			rq->queue_id = (uint16_t)q;
			/* The kernel copies into them on the reading lcore. */
			rq->mp = pool_of(app, lcore_socket(app->rx[n % app->n_rx]));
			if (rq->mp == NULL)
				return -ENOMEM;
			numa_check(in->arg, dev_socket, app->rx[n % app->n_rx]);
		}
		WL_LOG(INFO, "interface %s: %u sockets, %u KB ring each, "
			"timestamps: %s", in->arg, ac.n_queues, ac.ring_kb,
			wl_ts_source_name(wl_afp_ts_source(a)));
	}
	return 0;
}

static int
setup_ports(struct wl_app *app)
{
	char err[512];
	uint16_t pid;
	unsigned int i = 0;

	RTE_ETH_FOREACH_DEV(pid) {
		struct rte_mempool *mp;
		struct wl_port *p;
		uint16_t nq = 1, q;
		int dev_socket, ret;

		if (app->n_ports >= WL_MAX_PORTS)
			break;
		p = &app->ports[app->n_ports++];
		p->port_id = pid;
		/* One queue per RX lcore unless the input says otherwise. */
		for (i = 0; i < app->cfg.n_inputs; i++)
			if ((app->cfg.inputs[i].type == WL_INPUT_PORT ||
					app->cfg.inputs[i].type == WL_INPUT_VDEV) &&
					app->cfg.inputs[i].rx_queues != 0)
				nq = app->cfg.inputs[i].rx_queues;
		if (nq == 1 && app->n_rx > 1)
			nq = (uint16_t)app->n_rx;
		/* A vdev has no socket: that of its first queue's lcore. */
		dev_socket = rte_eth_dev_socket_id(pid);
		mp = pool_of(app, dev_socket >= 0 ? dev_socket :
			lcore_socket(app->rx[(app->n_ports - 1) % app->n_rx]));
		if (mp == NULL)
			return -ENOMEM;
		ret = wl_port_setup(p, nq, (uint16_t)app->cfg.rxd, mp,
			app->cfg.hw_timestamp, app->cfg.sw_hash,
			app->drivers_dir, err, sizeof(err));
		if (ret == -ENOTSUP && nq > 1) {
			/* No RSS: one queue, the other RX lcores idle. */
			nq = 1;
			ret = wl_port_setup(p, nq, (uint16_t)app->cfg.rxd,
				mp, app->cfg.hw_timestamp,
				app->cfg.sw_hash, app->drivers_dir, err,
				sizeof(err));
		}
		if (ret != 0) {
			wl_err("%s", err);
			return ret;
		}
		if (p->dconf.offline)
			app->offline = app->offline || app->n_sources == 0;
		else
			app->offline = 0;
		for (q = 0; q < nq; q++) {
			struct wl_rxq *rq = rxq_add(app, app->n_ports - 1 + q);

			if (rq == NULL)
				return -EINVAL;
			rq->kind = WL_RXQ_PORT;
			rq->port_id = pid;
			rq->queue_id = q;
			rq->port = p;
			numa_check(p->name, dev_socket,
				app->rx[(app->n_ports - 1 + q) % app->n_rx]);
		}
		WL_LOG(INFO, "port %s (%s): %u RX queues, %s hash, "
			"timestamps: %s", p->name, p->driver, nq,
			p->hw_rss ? "NIC symmetric" : "software",
			wl_ts_source_name(p->ts_source));
	}
	return 0;
}

static void
ifaces_close(struct wl_app *app)
{
	unsigned int i;

	for (i = 0; i < app->n_ifaces; i++)
		wl_afp_close(app->ifaces[i]);
	app->n_ifaces = 0;
}

static int
setup_parsers(struct wl_app *app)
{
	unsigned int i;
	char name[64];

	for (i = 0; i < app->n_parsers; i++) {
		struct wl_lcore *lc = app->parsers[i];
		int socket = (int)rte_lcore_to_socket_id(lc->lcore_id);

		snprintf(name, sizeof(name), "wl_txn_%u", lc->lcore_id);
		lc->txn_ring = rte_ring_create_elem(name, sizeof(struct wl_txn),
			app->cfg.txn_ring, socket,
			RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (lc->txn_ring == NULL) {
			wl_err("cannot create ring %s: %s", name,
				rte_strerror(rte_errno));
			return -ENOMEM;
		}
		if (app->cfg.mode == WL_MODE_PIPELINE) {
			snprintf(name, sizeof(name), "wl_pkt_%u", lc->lcore_id);
			lc->pkt_ring = rte_ring_create(name, app->cfg.parser_ring,
				socket, RING_F_SC_DEQ);
			if (lc->pkt_ring == NULL) {
				wl_err("cannot create ring %s: %s", name,
					rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
		wl_lcore_sink_init(lc);
		lc->ft = wl_flow_table_create(&app->fconf, &lc->sink,
			&lc->st->flow, lc->st->proto, lc->lcore_id, socket);
		if (lc->ft == NULL) {
			wl_err("cannot create the flow table of lcore %u (%s): "
				"lower flow.max_flows or flow.l7_state_max, or raise "
				"eal.memory_mb",
				lc->lcore_id, rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	return 0;
}

static void
signal_handler(int sig)
{
	(void)sig;
	if (g_app != NULL)
		g_app->force_quit = 1;
}

/*
 * SIGINT and SIGTERM set force_quit. flags 0 (no SA_RESTART) while the
 * inputs are opened: a blocking open() of a FIFO without a writer, or
 * read() of a stream's header, then fails with EINTR instead of
 * resuming, so Ctrl-C ends the wait. old: the previous actions, or NULL.
 */
static void
catch_signals(int flags, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = signal_handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, old != NULL ? &old[0] : NULL);
	sigaction(SIGTERM, &sa, old != NULL ? &old[1] : NULL);
}

static int
print_config(struct wl_app *app)
{
	json_t *j = wl_config_to_json(&app->cfg);

	if (j == NULL)
		return 1;
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct wl_app app_storage;
	struct wl_app *app = &app_storage;
	static struct wl_eal_args eal;
	struct sigaction old_sig[2];
	const char *bad;
	char err[512];
	char **extra;
	int extra_n, ret, config_cmd = 0;
	unsigned int i, nlive, n_stdin = 0;

	g_app = app;
	wl_config_defaults(&app->cfg);
	wl_strlcpy(app->drivers_dir, access(WL_DRIVERS_CONFIG_DIR, R_OK) == 0 ?
		WL_DRIVERS_CONFIG_DIR : WL_DRIVERS_CONFIG_SRCDIR,
		sizeof(app->drivers_dir));
	if (argc > 1 && strcmp(argv[1], "config") == 0) {
		config_cmd = 1;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (parse_args(app, argc, argv, &extra_n, &extra) != 0)
		return EXIT_USAGE;
	if (config_cmd)
		return print_config(app);
	if (wl_proto_check(&bad) != 0) {
		wl_err("protocol %s: invalid ops", bad ? bad : "?");
		return 1;
	}
	if (wl_config_validate(&app->cfg, proto_names(), err,
			sizeof(err)) != 0) {
		wl_err("%s", err);
		return EXIT_USAGE;
	}
	for (i = 0; i < app->cfg.n_inputs; i++)
		if (app->cfg.inputs[i].type == WL_INPUT_PCAP &&
				strcmp(app->cfg.inputs[i].arg, "-") == 0 &&
				n_stdin++ > 0) {
			wl_err("--pcap -: standard input can be read only "
				"once");
			return EXIT_USAGE;
		}
	/* An interface that does not exist is an error, whatever else
	 * is read (EAL would only log its failed probe). */
	for (i = 0; i < app->cfg.n_inputs; i++)
		if (app->cfg.inputs[i].type == WL_INPUT_IFACE &&
				if_nametoindex(app->cfg.inputs[i].arg) == 0) {
			wl_err("--iface %s: no such interface",
				app->cfg.inputs[i].arg);
			return 1;
		}
	catch_signals(0, old_sig);
	ret = open_sources(app);
	/* Until the EAL is up, a signal acts as it did before us. */
	sigaction(SIGINT, &old_sig[0], NULL);
	sigaction(SIGTERM, &old_sig[1], NULL);
	if (ret != 0)
		return 1;
	if (app->force_quit) {
		wl_err("interrupted while opening the inputs");
		goto fail_sources;
	}
	/* Files and streams end by themselves (offline, lossless unless
	 * configured otherwise); a live port does not. */
	app->offline = app->n_sources > 0;
	for (i = 0; i < app->cfg.n_inputs; i++)
		if (app->cfg.inputs[i].type == WL_INPUT_IFACE ||
				app->cfg.inputs[i].type == WL_INPUT_PORT)
			app->offline = 0;
	if (wl_out_open(&app->log, app->cfg.log_path,
			"transaction log") != 0 ||
			wl_out_open(&app->conn_log, app->cfg.conn_path,
			"connection log") != 0)
		goto fail_sources;

	/* Before the EAL: its memory is sized by the flow tables. */
	flow_conf_init(app);
	build_eal_args(app, &eal, extra_n, extra);
	ret = rte_eal_init(eal.argc, eal.argv);
	if (ret < 0) {
		wl_err("EAL initialisation failed: %s (arguments: see --help; "
			"raw EAL arguments go after --)", rte_strerror(rte_errno));
		goto fail_sources;
	}
	catch_signals(SA_RESTART, NULL);
	/* A reader that closed its pipe stops that output (EPIPE), not the
	 * run: the stats still go out. */
	signal(SIGPIPE, SIG_IGN);
	wl_tsc_clock_init(&app->tsc);
	if (wl_mbuf_meta_register() != 0) {
		wl_err("cannot register the mbuf dynamic field");
		goto fail;
	}
	/* Compiled only when used: about 100 ms (docs/benchmarks.md). */
	if (app->cfg.probe_signatures) {
		app->probe_db = wl_probe_db_create(wl_protos, WL_PROTO_MAX,
			err, sizeof(err));
		if (app->probe_db == NULL) {
			wl_err("protocol detection signatures: %s", err);
			goto fail;
		}
		app->fconf.probe_db = app->probe_db;
	}
	if (assign_roles(app) != 0)
		goto fail;
	/* Files are read by the first RX lcore: their mbufs on its socket. */
	app->mp = pool_of(app, lcore_socket(app->rx[0]));
	if (app->mp == NULL || setup_ports(app) != 0 || setup_ifaces(app) != 0)
		goto fail;
	/* Every --port and --vdev came up as a port (a device EAL could
	 * not probe is only logged by it). */
	for (i = 0, nlive = 0; i < app->cfg.n_inputs; i++)
		nlive += app->cfg.inputs[i].type == WL_INPUT_PORT ||
			app->cfg.inputs[i].type == WL_INPUT_VDEV;
	if (app->n_ports < nlive) {
		wl_err("%u of %u DPDK inputs (--port, --vdev) could "
			"not be opened (see the EAL lines above)",
			nlive - app->n_ports, nlive);
		goto fail;
	}
	if (app->n_sources == 0 && app->n_ports == 0 && app->n_ifaces == 0) {
		wl_err("no input: give --pcap, --iface, --port or --vdev");
		goto fail;
	}
	app->lossless = app->cfg.lossless < 0 ? app->offline :
		app->cfg.lossless;
	if (setup_parsers(app) != 0)
		goto fail;
	ret = wl_collector_init(app);
	if (ret != 0)
		goto fail;
	for (i = 0; i < app->n_lcores; i++)
		rte_eal_remote_launch(wl_lcore_main,
			app->lc[app->lcore_ids[i]], app->lcore_ids[i]);
	ret = wl_collector_run(app);
	rte_eal_mp_wait_lcore();
	ret = wl_collector_finish(app);
	for (i = 0; i < app->n_ports; i++)
		wl_port_close(&app->ports[i]);
	ifaces_close(app);
	/* The flow tables are not rte_free()d: DPDK clears memory it frees,
	 * which would touch every page of tables sized for max_flows (an
	 * exit of 0.5 s and 130 MB more RSS at the defaults). The EAL's
	 * cleanup unmaps them. */
	rte_eal_cleanup();
	close_sources(app);
	wl_probe_db_free(app->probe_db);
	return ret;
fail:
	ifaces_close(app);
	/* The flow tables are not rte_free()d: DPDK clears memory it frees,
	 * which would touch every page of tables sized for max_flows (an
	 * exit of 0.5 s and 130 MB more RSS at the defaults). The EAL's
	 * cleanup unmaps them. */
	rte_eal_cleanup();
	wl_probe_db_free(app->probe_db);
fail_sources:
	close_sources(app);
	return 1;
}
