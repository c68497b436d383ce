/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * wirelat-replay: send capture files through DPDK ports at a rate it is
 * told, and report how well it kept it (docs/replay.md). Everything that
 * can be checked before the EAL starts is: options, then every input
 * file read through once (format, corruption, link type, frame sizes,
 * counts that size the mbuf pools). A bad option or file costs one line
 * on stderr and exit status 2 (usage) or 1 (input, runtime).
 */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "wl_build_config.h"
#include "wl_common.h"
#include "wl_eal.h"
#include "wl_log.h"
#include "wl_parse.h"
#include "wl_port.h"
#include "wl_source.h"
#include "gen.h"
#include "replay.h"
#include "report.h"

#define EXIT_USAGE 2
#define NS 1000000000ULL

/* Streaming and --unique-ip copies: more than two full TX rings and
 * their bursts can hold, so the pools never run dry for good. */
#define WR_POOL_MBUFS 16383
#define WR_JPOOL_MBUFS (4 * WR_TXD - 1)
#define WR_TXD 1024
#define WR_DIR_FLOWS (1u << 20)

struct wr_output {
	int is_pci;
	const char *spec;
};

struct wr_opts {
	struct wl_pace_conf pace;
	int mode_set;
	int l1;
	uint64_t loops;
	uint64_t limit;
	double duration;
	int preload;
	int unique_ip;
	int bench_bare;
	int quiet;
	double stats_interval;
	double link_wait;
	double linger;
	uint64_t max_late_ns;            /* --max-late: 0 = catch up */
	uint32_t max_frame;
	const char *stats_json;
	const char *sched_log;
	const char *lcores;
	int huge;                       /* -1 auto, 0 off, 1 on */
	uint32_t memory_mb;             /* 0: computed */
	const char *file_prefix;
	unsigned int n_out;
	struct wr_output out[WR_MAX_PORTS];
	unsigned int n_files;
	struct wr_file files[WR_MAX_FILES];
	int eal_argc;
	char **eal_argv;
};

static struct wr_run *g_run;

enum {
	OPT_VDEV = 256,
	OPT_PORT,
	OPT_STATS_JSON,
	OPT_L1,
	OPT_BURST,
	OPT_BURST_INTERVAL,
	OPT_MAX_LATE,
	OPT_DURATION,
	OPT_PRELOAD,
	OPT_STREAM,
	OPT_UNIQUE_IP,
	OPT_STATS,
	OPT_MAX_FRAME,
	OPT_HUGE,
	OPT_MEMORY,
	OPT_FILE_PREFIX,
	OPT_BENCH_BARE,
	OPT_LINK_WAIT,
	OPT_LINGER,
	OPT_SCHED_LOG,
};

static const struct option long_opts[] = {
	{"multiplier", required_argument, NULL, 'x'},
	{"pps", required_argument, NULL, 'p'},
	{"mbps", required_argument, NULL, 'M'},
	{"l1", no_argument, NULL, OPT_L1},
	{"topspeed", no_argument, NULL, 't'},
	{"burst", required_argument, NULL, OPT_BURST},
	{"burst-interval", required_argument, NULL, OPT_BURST_INTERVAL},
	{"max-late", required_argument, NULL, OPT_MAX_LATE},
	{"loop", required_argument, NULL, 'l'},
	{"limit", required_argument, NULL, 'L'},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"preload", no_argument, NULL, OPT_PRELOAD},
	{"stream", no_argument, NULL, OPT_STREAM},
	{"unique-ip", no_argument, NULL, OPT_UNIQUE_IP},
	{"vdev", required_argument, NULL, OPT_VDEV},
	{"port", required_argument, NULL, OPT_PORT},
	{"stats-json", required_argument, NULL, OPT_STATS_JSON},
	{"schedule-log", required_argument, NULL, OPT_SCHED_LOG},
	{"stats", required_argument, NULL, OPT_STATS},
	{"quiet", no_argument, NULL, 'q'},
	{"max-frame", required_argument, NULL, OPT_MAX_FRAME},
	{"lcores", required_argument, NULL, 'c'},
	{"huge", required_argument, NULL, OPT_HUGE},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"file-prefix", required_argument, NULL, OPT_FILE_PREFIX},
	{"bench-bare", no_argument, NULL, OPT_BENCH_BARE},
	{"link-wait", required_argument, NULL, OPT_LINK_WAIT},
	{"linger", required_argument, NULL, OPT_LINGER},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: wirelat-replay [OPTIONS] FILE... [-- EAL-ARGS]\n"
"       wirelat-replay gen [OPTIONS]     write a synthetic workload pcap\n"
"\n"
"Sends pcap, pcap-ns and pcapng files (Ethernet) through DPDK ports on an\n"
"absolute TSC schedule, then reports the rate achieved and each packet's\n"
"send-time error (docs/replay.md).\n"
"\n"
"Output (one, or two for a client/server flow split):\n"
"      --vdev SPEC          DPDK vdev: net_pcap0,tx_pcap=out.pcap, net_null0,\n"
"                           net_ring0, net_memif0,..., net_tap0,iface=x, ...\n"
"      --port PCI           DPDK port by PCI address\n"
"                           With two outputs, client->server packets go to\n"
"                           the first and server->client to the second.\n"
"Speed (one; default: original timing):\n"
"  -x, --multiplier X       original timing, X times as fast\n"
"  -p, --pps N              packets per second (k, M suffixes)\n"
"  -M, --mbps N             megabits per second of frames (L2)\n"
"      --l1                 count --mbps on the line: + FCS, preamble, gap\n"
"  -t, --topspeed           as fast as the port takes them\n"
"      --burst N            N packets at once, every --burst-interval\n"
"      --burst-interval T   e.g. 100us, 1ms (ns without a unit)\n"
"      --max-late T         a packet more than T late moves the rest of\n"
"                           the schedule later instead of being caught\n"
"                           up at top speed (default: caught up)\n"
"Amount:\n"
"  -l, --loop N             send the files N times (0 = until Ctrl-C)\n"
"  -L, --limit N            stop after N packets\n"
"      --duration S         stop at S seconds of schedule\n"
"Input:\n"
"      --preload            read every packet into memory first (default)\n"
"      --stream             read while sending: files larger than memory\n"
"      --unique-ip          each loop L adds L to the client address\n"
"      --max-frame N        refuse frames above N bytes (default: the port's)\n"
"      --link-wait S        wait up to S seconds for every output's link\n"
"                           before time 0 (default 10)\n"
"      --linger S           keep the ports up S seconds after the report\n"
"                           (default 0.1): TX rings drain, peers read\n"
"Report:\n"
"      --stats-json FILE    the final report as JSON\n"
"      --schedule-log FILE  one line per packet sent: its schedule time\n"
"                           and when the port took it (a finite run:\n"
"                           --loop N or --limit N)\n"
"      --stats S            progress line on stderr every S seconds (1)\n"
"  -q, --quiet              no progress line\n"
"Other:\n"
"  -c, --lcores LIST        EAL lcores: main (progress), then the sender\n"
"      --huge auto|on|off   hugepages (auto: use them if free)\n"
"      --memory MB          EAL memory without hugepages (default: sized\n"
"                           from the files)\n"
"      --file-prefix NAME   EAL runtime prefix (default wirelat-replay-PID)\n"
"      --bench-bare         hand preloaded packets to the first port with no\n"
"                           schedule: the baseline of scripts/bench-replay\n"
"  -h, --help               this text\n"
"  -V, --version            version\n");
}

/* "10k", "2.5M", "1e6": a positive finite number. */
static int
parse_num(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0)
		return -EINVAL;
	if (*end == 'k' || *end == 'K') {
		v *= 1e3;
		end++;
	} else if (*end == 'M') {
		v *= 1e6;
		end++;
	} else if (*end == 'G') {
		v *= 1e9;
		end++;
	}
	if (*end != '\0' || !isfinite(v) || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	double v;

	if (parse_num(s, &v) != 0 || v != floor(v) || v > 1.8e19)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

static int
bad(const char *opt, const char *arg, const char *why)
{
	wl_err("%s %s: %s", opt, arg, why);
	return -EINVAL;
}

static int
set_mode(struct wr_opts *o, enum wl_pace_mode m, const char *opt)
{
	if (o->mode_set && o->pace.mode != m) {
		wl_err("%s: only one speed mode (--multiplier, --pps, --mbps, "
			"--topspeed, --burst) at a time", opt);
		return -EINVAL;
	}
	o->mode_set = 1;
	o->pace.mode = m;
	return 0;
}

static int
parse_args(struct wr_opts *o, int argc, char **argv)
{
	double v;
	uint64_t u;
	int c;

	o->pace.mode = WL_PACE_ORIGINAL;
	o->pace.multiplier_ppm = 1000000;
	o->loops = 1;
	o->preload = 1;
	o->stats_interval = 1;
	o->link_wait = 10;
	o->linger = 0.1;
	o->huge = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+x:p:M:tl:L:qc:hV", long_opts,
			NULL)) != -1) {
		switch (c) {
		case 'x':
			if (parse_num(optarg, &v) != 0 || v <= 0 || v > 1e9)
				return bad("--multiplier", optarg,
					"not a number above 0");
			o->pace.multiplier_ppm = (uint64_t)llround(v * 1e6);
			if (o->pace.multiplier_ppm == 0)
				return bad("--multiplier", optarg,
					"below 0.000001");
			if (set_mode(o, WL_PACE_ORIGINAL, "--multiplier") != 0)
				return -EINVAL;
			break;
		case 'p':
			if (parse_u64(optarg, &u) != 0 || u == 0)
				return bad("--pps", optarg,
					"not a whole number above 0");
			o->pace.pps = u;
			if (set_mode(o, WL_PACE_PPS, "--pps") != 0)
				return -EINVAL;
			break;
		case 'M':
			if (parse_num(optarg, &v) != 0 || v <= 0 || v > 1e9)
				return bad("--mbps", optarg,
					"not a number above 0");
			o->pace.bps = (uint64_t)llround(v * 1e6);
			if (o->pace.bps == 0)
				return bad("--mbps", optarg, "below 1 bit/s");
			if (set_mode(o, WL_PACE_BPS_L2, "--mbps") != 0)
				return -EINVAL;
			break;
		case OPT_L1:
			o->l1 = 1;
			break;
		case 't':
			if (set_mode(o, WL_PACE_TOPSPEED, "--topspeed") != 0)
				return -EINVAL;
			break;
		case OPT_BURST:
			if (parse_u64(optarg, &u) != 0 || u == 0 ||
					u > UINT32_MAX)
				return bad("--burst", optarg,
					"not a whole number above 0");
			o->pace.burst = (uint32_t)u;
			if (set_mode(o, WL_PACE_BURST, "--burst") != 0)
				return -EINVAL;
			break;
		case OPT_BURST_INTERVAL:
			if (wl_parse_duration_ns(optarg, &u) != 0 || u == 0)
				return bad("--burst-interval", optarg,
					"not a duration above 0 (100us, 1ms)");
			o->pace.interval_ns = u;
			break;
		case OPT_MAX_LATE:
			if (wl_parse_duration_ns(optarg, &u) != 0 || u == 0)
				return bad("--max-late", optarg,
					"not a duration above 0 (100us, 1ms)");
			o->max_late_ns = u;
			break;
		case 'l':
			if (parse_u64(optarg, &o->loops) != 0)
				return bad("--loop", optarg,
					"not a whole number (0 = forever)");
			break;
		case 'L':
			if (parse_u64(optarg, &o->limit) != 0 || o->limit == 0)
				return bad("--limit", optarg,
					"not a whole number above 0");
			break;
		case OPT_DURATION:
			if (parse_num(optarg, &o->duration) != 0 ||
					o->duration <= 0 || o->duration > 1e9)
				return bad("--duration", optarg,
					"not a number of seconds above 0");
			break;
		case OPT_PRELOAD:
			o->preload = 1;
			break;
		case OPT_STREAM:
			o->preload = 0;
			break;
		case OPT_UNIQUE_IP:
			o->unique_ip = 1;
			break;
		case OPT_VDEV:
		case OPT_PORT:
			if (o->n_out == WR_MAX_PORTS) {
				wl_err("%s %s: at most two outputs (client "
					"and server side)", c == OPT_VDEV ?
					"--vdev" : "--port", optarg);
				return -EINVAL;
			}
			o->out[o->n_out].is_pci = c == OPT_PORT;
			o->out[o->n_out].spec = optarg;
			o->n_out++;
			break;
		case OPT_STATS_JSON:
			o->stats_json = optarg;
			break;
		case OPT_SCHED_LOG:
			o->sched_log = optarg;
			break;
		case OPT_STATS:
			if (parse_num(optarg, &o->stats_interval) != 0 ||
					o->stats_interval > 1e6)
				return bad("--stats", optarg,
					"not a number of seconds");
			break;
		case 'q':
			o->quiet = 1;
			break;
		case OPT_MAX_FRAME:
			if (parse_u64(optarg, &u) != 0 || u < 14 ||
					u > WL_SOURCE_MAX_CAPLEN)
				return bad("--max-frame", optarg,
					"not a frame size from 14 to 262144");
			o->max_frame = (uint32_t)u;
			break;
		case 'c':
			o->lcores = optarg;
			break;
		case OPT_HUGE:
			if (strcmp(optarg, "auto") == 0)
				o->huge = -1;
			else if (strcmp(optarg, "on") == 0)
				o->huge = 1;
			else if (strcmp(optarg, "off") == 0)
				o->huge = 0;
			else
				return bad("--huge", optarg,
					"expected auto, on or off");
			break;
		case OPT_MEMORY:
			if (parse_u64(optarg, &u) != 0 || u < 64 ||
					u > 1u << 24)
				return bad("--memory", optarg,
					"not a size in MB from 64");
			o->memory_mb = (uint32_t)u;
			break;
		case OPT_FILE_PREFIX:
			o->file_prefix = optarg;
			break;
		case OPT_LINK_WAIT:
			if (parse_num(optarg, &o->link_wait) != 0 ||
					o->link_wait > 3600)
				return bad("--link-wait", optarg,
					"not a number of seconds up to 3600");
			break;
		case OPT_LINGER:
			if (parse_num(optarg, &o->linger) != 0 ||
					o->linger > 3600)
				return bad("--linger", optarg,
					"not a number of seconds up to 3600");
			break;
		case OPT_BENCH_BARE:
			o->bench_bare = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("wirelat-replay %s\n", WL_VERSION);
			exit(0);
		case ':':
			wl_err("%s: needs an argument", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt != 0)
				wl_err("-%c: unknown option (see --help)",
					optopt);
			else
				wl_err("%s: unknown option (see --help)",
					argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (o->l1) {
		if (o->pace.mode != WL_PACE_BPS_L2) {
			wl_err("--l1: only with --mbps");
			return -EINVAL;
		}
		o->pace.mode = WL_PACE_BPS_L1;
	}
	if (o->pace.mode == WL_PACE_BURST && o->pace.interval_ns == 0) {
		wl_err("--burst: needs --burst-interval");
		return -EINVAL;
	}
	if (o->pace.interval_ns != 0 && o->pace.mode != WL_PACE_BURST) {
		wl_err("--burst-interval: only with --burst");
		return -EINVAL;
	}
	/* Files, then "--" and raw EAL arguments. */
	while (optind < argc && strcmp(argv[optind], "--") != 0) {
		if (argv[optind][0] == '-' && argv[optind][1] != '\0') {
			wl_err("%s: options go before the files (see --help)",
				argv[optind]);
			return -EINVAL;
		}
		if (o->n_files == WR_MAX_FILES) {
			wl_err("%s: at most %u input files", argv[optind],
				WR_MAX_FILES);
			return -EINVAL;
		}
		o->files[o->n_files++].path = argv[optind++];
	}
	if (optind < argc)
		optind++;
	o->eal_argc = argc - optind;
	o->eal_argv = argv + optind;
	if (o->n_files == 0) {
		wl_err("no input file (see --help)");
		return -EINVAL;
	}
	if (o->n_out == 0) {
		wl_err("no output: give --vdev SPEC or --port PCI");
		return -EINVAL;
	}
	if (o->bench_bare && (!o->preload || o->pace.mode != WL_PACE_TOPSPEED ||
			o->unique_ip || o->n_out != 1 || o->sched_log != NULL)) {
		wl_err("--bench-bare: only with --topspeed, one output and "
			"preloaded packets, no --schedule-log");
		return -EINVAL;
	}
	if (o->sched_log != NULL && o->loops == 0 && o->limit == 0) {
		wl_err("--schedule-log %s: needs a finite run (--loop N or "
			"--limit N)", o->sched_log);
		return -EINVAL;
	}
	return 0;
}

/* ---- input check, before the EAL ---- */

/* Read a file through once: errors, link type, sizes, pool needs. */
static int
scan_file(struct wr_file *f, uint32_t max_frame)
{
	char err[WL_SOURCE_ERR_LEN];
	struct wl_source_pkt p;
	int ret;

	f->src = wl_source_open(f->path, err, sizeof(err));
	if (f->src == NULL) {
		wl_err("%s", err);
		return -EINVAL;
	}
	while ((ret = wl_source_next(f->src, &p)) == 1) {
		if (p.link != WL_LINK_ETHER) {
			wl_err("%s: packet %" PRIu64 ": link type %s is not "
				"supported (wirelat-replay sends Ethernet "
				"frames)", f->path, f->packets + 1,
				wl_link_name(p.link));
			return -ENOTSUP;
		}
		if (max_frame != 0 && p.caplen > max_frame) {
			wl_err("%s: packet %" PRIu64 " is %u bytes, above "
				"--max-frame %u", f->path, f->packets + 1,
				p.caplen, max_frame);
			return -EMSGSIZE;
		}
		if (p.caplen < 14) {
			wl_err("%s: packet %" PRIu64 " is %u bytes, shorter "
				"than an Ethernet header", f->path,
				f->packets + 1, p.caplen);
			return -EINVAL;
		}
		if (f->packets == 0)
			f->first_ts_ns = p.ts_ns;
		f->last_ts_ns = p.ts_ns;
		f->packets++;
		f->bytes += p.caplen;
		if (p.caplen < p.wire_len)
			f->truncated++;
		if (p.caplen > f->max_caplen)
			f->max_caplen = p.caplen;
		/* The jumbo room (wr_jumbo_room()) holds any frame up to
		 * WR_JUMBO_MAX whole, and is WR_JUMBO_MAX itself when a
		 * frame is larger: segments are known without it. */
		if (p.caplen <= WR_SMALL_DATA)
			f->small++;
		else if (p.caplen <= WR_LARGE_DATA)
			f->large++;
		else
			f->jumbo_segs += (p.caplen + WR_JUMBO_MAX - 1) /
				WR_JUMBO_MAX;
	}
	if (ret < 0) {
		wl_err("%s", wl_source_error(f->src));
		return ret;
	}
	if (f->packets == 0) {
		wl_err("%s: no packets", f->path);
		return -ENODATA;
	}
	wl_source_rewind(f->src);
	return 0;
}

/*
 * Bytes one mbuf of this data room takes from EAL memory without
 * hugepages: mempool header, mbuf, headroom and data, and then whole
 * 4 kB pages, since the pool falls back to page-by-page memory (no
 * object across a page) when it cannot get one IOVA-contiguous block.
 * Counting the 10% slack alone fell short: 320 716 packets of a `gen`
 * capture needed 900 MB where 791 were given.
 */
static uint64_t
mbuf_obj_size(uint32_t data)
{
	const uint64_t pg = 4096;
	uint64_t obj = 64 + sizeof(struct rte_mbuf) + RTE_PKTMBUF_HEADROOM +
		data;

	if (obj <= pg)
		return pg / (pg / obj);
	return (obj + pg - 1) / pg * pg;
}

static uint32_t
memory_needed_mb(const struct wr_opts *o, uint32_t jroom)
{
	uint64_t small = 0, large = 0, jumbo = 0, b;
	unsigned int i;

	for (i = 0; o->preload && i < o->n_files; i++) {
		small += o->files[i].small;
		large += o->files[i].large;
		jumbo += o->files[i].jumbo_segs;
	}
	b = small * mbuf_obj_size(WR_SMALL_DATA) +
		large * mbuf_obj_size(WR_LARGE_DATA) +
		jumbo * mbuf_obj_size(jroom) +
		(uint64_t)(WR_POOL_MBUFS + 1) * mbuf_obj_size(WR_LARGE_DATA);
	if (jroom > WR_LARGE_DATA)
		b += (uint64_t)(WR_JPOOL_MBUFS + 1) * mbuf_obj_size(jroom);
	/* EAL, ethdev and driver allocations on top. */
	return (uint32_t)(b * 11 / 10 / (1 << 20)) + 192;
}

static void
build_eal_args(const struct wr_opts *o, struct wl_eal_args *a, uint32_t jroom)
{
	char lcores[256];
	unsigned int i;
	int has_pci = 0;

	wl_eal_add(a, "wirelat-replay");
	if (o->lcores != NULL)
		wl_strlcpy(lcores, o->lcores, sizeof(lcores));
	else
		wl_eal_default_lcores(lcores, sizeof(lcores));
	wl_eal_add(a, "--lcores=%s", lcores);
	if (o->file_prefix != NULL)
		wl_eal_add(a, "--file-prefix=%s", o->file_prefix);
	else
		wl_eal_add(a, "--file-prefix=wirelat-replay-%d", (int)getpid());
	/* No notice without hugepages: vdevs do not need them. */
	wl_eal_add_memory(a, o->huge, o->memory_mb != 0 ? o->memory_mb :
		memory_needed_mb(o, jroom), NULL);
	for (i = 0; i < o->n_out; i++) {
		if (o->out[i].is_pci) {
			wl_eal_add(a, "-a");
			wl_eal_add(a, "%s", o->out[i].spec);
			has_pci = 1;
		} else {
			wl_eal_add(a, "--vdev=%s", o->out[i].spec);
		}
	}
	if (!has_pci)
		wl_eal_add(a, "--no-pci");
	wl_eal_add_quiet(a);
	for (i = 0; i < (unsigned int)o->eal_argc; i++)
		wl_eal_add(a, "%s", o->eal_argv[i]);
}

/* ---- set-up, after the EAL ---- */

static int
find_port(const struct wr_output *out, uint16_t *port_id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	const char *comma = strchr(out->spec, ',');
	size_t n = comma != NULL ? (size_t)(comma - out->spec) :
		strlen(out->spec);

	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, out->spec, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	if (out->is_pci) {
		/* "01:00.0" is probed as "0000:01:00.0". */
		char full[RTE_ETH_NAME_MAX_LEN + 8];

		snprintf(full, sizeof(full), "0000:%s", name);
		if (rte_eth_dev_get_port_by_name(full, port_id) == 0)
			return 0;
	}
	wl_err("%s %s: no such DPDK port (driver not loaded, or device not "
		"bound to a DPDK driver)", out->is_pci ? "--port" : "--vdev",
		out->spec);
	return -ENODEV;
}

static struct rte_mempool *
pool_create(const char *name, uint64_t n, uint32_t data)
{
	struct rte_mempool *mp;

	if (n == 0)
		return NULL;
	mp = rte_pktmbuf_pool_create(name, (unsigned int)n,
		n > 4096 ? 256 : 0, 0,
		(uint16_t)(data + RTE_PKTMBUF_HEADROOM), (int)rte_socket_id());
	if (mp == NULL)
		wl_err("cannot create %" PRIu64 " mbufs of %u bytes: %s "
			"(--memory, --huge on, or --stream)", n, data,
			rte_strerror(rte_errno));
	return mp;
}

/* Every packet into mbufs, with its output port decided. */
static int
preload(struct wr_run *r, struct wr_file *files, unsigned int n_files,
	uint32_t jroom)
{
	struct rte_mempool *small, *large, *jumbo, *mp;
	uint64_t n_small = 0, n_large = 0, n_jumbo = 0, n = 0;
	struct wl_source_pkt sp;
	unsigned int fi;

	for (fi = 0; fi < n_files; fi++) {
		n_small += files[fi].small;
		n_large += files[fi].large;
		n_jumbo += files[fi].jumbo_segs;
		n += files[fi].packets;
	}
	small = pool_create("wr_small", n_small, WR_SMALL_DATA);
	large = pool_create("wr_large", n_large, WR_LARGE_DATA);
	jumbo = pool_create("wr_jumbo", n_jumbo, jroom);
	if ((n_small > 0 && small == NULL) || (n_large > 0 && large == NULL) ||
			(n_jumbo > 0 && jumbo == NULL))
		return -ENOMEM;
	r->pkts = calloc(n, sizeof(*r->pkts));
	if (r->pkts == NULL) {
		wl_err("cannot allocate %" PRIu64 " packet descriptors", n);
		return -ENOMEM;
	}
	for (fi = 0; fi < n_files; fi++) {
		while (wl_source_next(files[fi].src, &sp) == 1) {
			struct wr_pkt *p = &r->pkts[r->n_pkts];

			mp = sp.caplen <= WR_SMALL_DATA ? small :
				sp.caplen <= WR_LARGE_DATA ? large : jumbo;
			if (wr_pkt_load(r, p, &sp, (uint16_t)fi, mp) != 0) {
				wl_err("%s: out of mbufs while preloading",
					files[fi].path);
				return -ENOMEM;
			}
			r->n_pkts++;
		}
	}
	return 0;
}

/*
 * A NIC takes seconds to bring its link up, a memif its peer to connect:
 * the schedule starts once every output can send, or the wait is over
 * (then one line says so and sending starts anyway).
 */
static void
wait_links(struct wr_run *r, double secs)
{
	uint64_t end = rte_rdtsc() + (uint64_t)(secs * (double)r->hz);
	struct rte_eth_link link;
	unsigned int i, up;

	do {
		for (i = 0, up = 0; i < r->n_ports; i++) {
			memset(&link, 0, sizeof(link));
			if (rte_eth_link_get_nowait(r->port_ids[i], &link) != 0 ||
					link.link_status == RTE_ETH_LINK_UP)
				up++;
		}
		if (up == r->n_ports || r->stop)
			return;
		usleep(10000);
	} while (rte_rdtsc() < end);
	for (i = 0; i < r->n_ports; i++) {
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(r->port_ids[i], &link);
		if (link.link_status != RTE_ETH_LINK_UP)
			fprintf(stderr, "wirelat-replay: notice: %s: link still "
				"down after %g s (--link-wait), sending anyway\n",
				r->port_names[i], secs);
	}
}

static void
signal_handler(int sig)
{
	(void)sig;
	if (g_run != NULL)
		g_run->stop = 1;
}

/* ---- --schedule-log ---- */

/* At most this many packets: 24 bytes each, kept until the end. */
#define WR_SCHED_MAX (64ULL << 20)

/* One record per packet the run can send: the files times the loops,
 * or the limit if it is lower. Allocated before sending starts. */
static int
sched_alloc(const struct wr_opts *o, struct wr_run *r)
{
	uint64_t n = 0, cap;
	unsigned int i;

	for (i = 0; i < o->n_files; i++)
		n += o->files[i].packets;
	cap = o->loops == 0 || n > UINT64_MAX / o->loops ? UINT64_MAX :
		n * o->loops;
	if (o->limit != 0 && o->limit < cap)
		cap = o->limit;
	if (cap > WR_SCHED_MAX) {
		wl_err("--schedule-log %s: %" PRIu64 " packets to log, at most "
			"%llu (--limit)", o->sched_log, cap, WR_SCHED_MAX);
		return -E2BIG;
	}
	r->sched = calloc(cap, sizeof(*r->sched));
	if (r->sched == NULL) {
		wl_err("--schedule-log %s: cannot allocate %" PRIu64
			" records", o->sched_log, cap);
		return -ENOMEM;
	}
	r->sched_cap = cap;
	return 0;
}

/* "index port bytes due_ns sent_ns" per packet sent (docs/replay.md). */
static int
sched_write(const struct wr_run *r, const char *path)
{
	const struct wr_sched_rec *x;
	uint64_t i;
	FILE *f;
	int bad;

	f = fopen(path, "w");
	if (f == NULL) {
		wl_err("--schedule-log %s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "# index port bytes due_ns sent_ns\n");
	for (i = 0; i < r->packets && i < r->sched_cap; i++) {
		x = &r->sched[i];
		fprintf(f, "%" PRIu64 " %u %u %" PRIu64 " %" PRIu64 "\n", i,
			x->port, x->len, x->due_ns, x->sent_ns);
	}
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		wl_err("--schedule-log %s: write failed", path);
		return -EIO;
	}
	return 0;
}

/* Mean gap of original timing, over every file: sum of spans / gaps. */
static uint64_t
mean_gap_ns(const struct wr_opts *o)
{
	uint64_t span = 0, gaps = 0;
	unsigned int i;

	for (i = 0; i < o->n_files; i++) {
		const struct wr_file *f = &o->files[i];

		if (f->last_ts_ns > f->first_ts_ns)
			span += f->last_ts_ns - f->first_ts_ns;
		gaps += f->packets - 1;
	}
	return gaps > 0 ? span / gaps : 0;
}

static void
progress(const struct wr_run *r, double secs, int tty)
{
	uint64_t pk = __atomic_load_n(&r->prog.packets, __ATOMIC_RELAXED);
	uint64_t by = __atomic_load_n(&r->prog.bytes, __ATOMIC_RELAXED);
	uint64_t lp = __atomic_load_n(&r->prog.loop, __ATOMIC_RELAXED);

	fprintf(stderr, "%swirelat-replay: %.1f s, %" PRIu64 " packets, "
		"%.3f Mpps, %.1f Mbps, loop %" PRIu64 "%s", tty ? "\r" : "",
		secs, pk, secs > 0 ? pk / secs / 1e6 : 0,
		secs > 0 ? by * 8 / secs / 1e6 : 0, lp + 1, tty ? "" : "\n");
	fflush(stderr);
}

/* Main lcore while the sender runs: progress line, Ctrl-C. */
static void
watch(struct wr_run *r, const struct wr_opts *o)
{
	uint64_t t0 = rte_rdtsc(), next, step;
	int tty = isatty(STDERR_FILENO), shown = 0;

	step = (uint64_t)(o->stats_interval * (double)r->hz);
	next = t0 + step;
	while (!__atomic_load_n(&r->prog.done, __ATOMIC_ACQUIRE)) {
		usleep(10000);
		if (o->quiet || step == 0 || rte_rdtsc() < next)
			continue;
		next += step;
		progress(r, (double)(rte_rdtsc() - t0) / (double)r->hz, tty);
		shown = 1;
	}
	if (shown && tty)
		fputc('\n', stderr);
}

int
main(int argc, char **argv)
{
	static struct wr_opts opts;
	static struct wl_eal_args eal;
	static struct wr_run run;
	struct wr_opts *o = &opts;
	struct wr_run *r = &run;
	struct rte_mempool *mp;
	uint32_t max_caplen = 0, jroom;
	unsigned int i, send_lcore;
	int need_multi = 0, ret;
	const char *why;
	char err[512];

	wl_prog_name = "wirelat-replay";
	if (argc > 1 && strcmp(argv[1], "gen") == 0)
		return wr_gen_main(argc - 1, argv + 1);
	if (parse_args(o, argc, argv) != 0)
		return EXIT_USAGE;
	if (wl_pace_check(&o->pace, &why) != 0) {
		wl_err("%s", why);
		return EXIT_USAGE;
	}
	for (i = 0; i < o->n_files; i++) {
		if (scan_file(&o->files[i], o->max_frame) != 0)
			return 1;
		max_caplen = RTE_MAX(max_caplen, o->files[i].max_caplen);
	}
	jroom = wr_jumbo_room(max_caplen);
	need_multi = max_caplen > jroom;
	if (o->sched_log != NULL && sched_alloc(o, r) != 0)
		return 1;

	build_eal_args(o, &eal, jroom);
	ret = rte_eal_init(eal.argc, eal.argv);
	if (ret < 0) {
		wl_err("EAL initialisation failed: %s (raw EAL arguments go "
			"after --)", rte_strerror(rte_errno));
		return 1;
	}
	g_run = r;
	signal(SIGINT, signal_handler);
	signal(SIGTERM, signal_handler);
	r->hz = rte_get_tsc_hz();
	r->pace = o->pace;
	r->max_late_ns = o->max_late_ns;
	r->loop_gap_ns = mean_gap_ns(o);
	r->loops = o->loops;
	r->limit_pkts = o->limit;
	r->limit_ns = o->duration > 0 ? (uint64_t)(o->duration * 1e9) : 0;
	r->unique_ip = o->unique_ip;
	r->bench_bare = o->bench_bare;
	r->files = o->files;
	r->n_files = (uint16_t)o->n_files;
	r->preload = o->preload;
	r->n_ports = (uint16_t)o->n_out;
	r->dirs = wl_dir_table_create(WR_DIR_FLOWS);
	if (r->dirs == NULL) {
		wl_err("cannot allocate the flow direction table");
		goto fail;
	}
	mp = pool_create("wr_pool", WR_POOL_MBUFS, WR_LARGE_DATA);
	if (mp == NULL)
		goto fail;
	r->pool = mp;
	if (max_caplen > WR_LARGE_DATA) {
		r->jpool = pool_create("wr_jpool", WR_JPOOL_MBUFS, jroom);
		if (r->jpool == NULL)
			goto fail;
	}
	for (i = 0; i < o->n_out; i++) {
		struct wl_tx_port tp = { 0 };

		if (find_port(&o->out[i], &tp.port_id) != 0)
			goto fail;
		ret = wl_port_setup_tx(&tp, WR_TXD, max_caplen, need_multi,
			mp, err, sizeof(err));
		if (ret != 0) {
			wl_err("%s", err);
			goto fail;
		}
		if (max_caplen > tp.max_frame) {
			wl_err("%s: a %u-byte frame is larger than the port "
				"takes (%u)", tp.name, max_caplen,
				tp.max_frame);
			goto fail;
		}
		r->port_ids[i] = tp.port_id;
		wl_strlcpy(r->port_names[i], tp.name,
			sizeof(r->port_names[i]));
	}
	if (o->preload && preload(r, o->files, o->n_files, jroom) != 0)
		goto fail;

	wait_links(r, o->link_wait);
	send_lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	if (send_lcore >= RTE_MAX_LCORE) {
		/* One lcore: send on it, no progress line. */
		ret = wr_send_main(r);
	} else {
		rte_eal_remote_launch(wr_send_main, r, send_lcore);
		watch(r, o);
		ret = rte_eal_wait_lcore(send_lcore);
	}
	if (r->error[0] != '\0')
		wl_err("%s", r->error);
	wl_dir_stats_get(r->dirs, &r->dir_stats);
	ret = wr_report(r, o->files, o->n_files, o->stats_json) != 0 ||
		ret != 0;
	if (o->sched_log != NULL && sched_write(r, o->sched_log) != 0)
		ret = 1;
	/* Stopping a port may drop what its TX ring still holds, and a
	 * memif peer that is still polling should see an orderly end. */
	if (o->linger > 0)
		usleep((useconds_t)(o->linger * 1e6));
	for (i = 0; i < o->n_out; i++) {
		rte_eth_dev_stop(r->port_ids[i]);
		rte_eth_dev_close(r->port_ids[i]);
	}
	rte_eal_cleanup();
	free(r->sched);
	return ret;
fail:
	rte_eal_cleanup();
	free(r->sched);
	return 1;
}
