/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * wirelat-export: serve the shared memory of wirelat instances to
 * Prometheus (a scrape endpoint) and push it by Prometheus remote write,
 * without DPDK and without privileges beyond reading the segments (the
 * collector.shm_group). It only ever reads the shared memory, so a slow
 * receiver or a crash here cannot touch a wirelat's data path.
 *
 * Threads: libmicrohttpd's (scrapes), one sender per remote-write URL,
 * and this one, which wakes every 100 ms to take the snapshots that are
 * due for remote write. Every snapshot is built under model_lock.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "export.h"
#include "wl_build_config.h"
#include "wl_common.h"
#include "wl_export_prom.h"
#include "wl_shm.h"

static volatile sig_atomic_t quit;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

void
wl_export_log(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&log_lock);
	fputs("wirelat-export: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * WL_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t
wl_export_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t
wl_export_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static void
model_log(void *arg, const char *line)
{
	(void)arg;
	wl_export_log("%s", line);
}

static int
health(struct wl_export_app *app, struct wl_exp_snap *s)
{
	const struct wl_export_health *h = &app->health;
	unsigned int i;
	int fam, ret;

	fam = wl_exp_snap_family(s, "wirelat_export_scrapes_total",
		WL_EXP_COUNTER, "Scrapes of /metrics served");
	ret = fam < 0 ? fam : wl_exp_snap_sample_u64(s, fam, WL_EXP_SFX_NONE,
		-1, NULL, NULL, h->scrapes);
	if (ret == 0) {
		fam = wl_exp_snap_family(s,
			"wirelat_export_scrape_duration_seconds", WL_EXP_GAUGE,
			"Time the last scrape took to build and render");
		ret = fam < 0 ? fam : wl_exp_snap_sample(s, fam,
			WL_EXP_SFX_NONE, -1, NULL, NULL, h->scrape_seconds);
	}
	if (ret == 0) {
		fam = wl_exp_snap_family(s, "wirelat_export_instances_attached",
			WL_EXP_GAUGE, "Watched instances whose segment is "
			"mapped (wirelat_up says which run)");
		ret = fam < 0 ? fam : wl_exp_snap_sample_u64(s, fam,
			WL_EXP_SFX_NONE, -1, NULL, NULL,
			(uint64_t)(h->instances_attached > 0 ?
			h->instances_attached : 0));
	}
	for (i = 0; i < app->n_rw && ret == 0; i++)
		ret = wl_rw_health(app->rw[i], s);
	return ret;
}

int
wl_export_snapshot(struct wl_export_app *app, struct wl_exp_snap *s)
{
	uint64_t now = wl_export_now_ns();
	int n, ret;

	pthread_mutex_lock(&app->model_lock);
	wl_exp_snap_set_time(s, (int64_t)(now / WL_NS_PER_MS));
	n = wl_exp_model_read(app->model, s, now, model_log, NULL);
	if (n >= 0)
		app->health.instances_attached = n;
	ret = n < 0 ? n : health(app, s);
	pthread_mutex_unlock(&app->model_lock);
	return ret;
}

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: wirelat-export [--config FILE] [--instance NAME ...] [options]\n"
"\n"
"Serves the shared memory of wirelat instances to Prometheus (scrape\n"
"endpoint) and by Prometheus remote write (docs/export.md). Reads the\n"
"\"export\" block of the config file; options override it.\n"
"  -c, --config FILE          JSON configuration (docs/config.md)\n"
"  -n, --instance NAME        an instance to export (repeatable; default:\n"
"                             export.instances, else the config's instance)\n"
"  -L, --listen ADDR:PORT     scrape endpoint (default 127.0.0.1:9477);\n"
"                             \"\" serves none\n"
"  -b, --buckets KIND         le, vmrange or both (default le)\n"
"      --stale SECONDS        a running writer silent this long is down\n"
"                             (default 10)\n"
"  -w, --remote-write URL     push to URL (repeatable; replaces the\n"
"                             file's export.remote_write); the options\n"
"                             below apply to these URLs\n"
"      --interval SECONDS     remote-write interval (default 15)\n"
"      --timeout SECONDS      remote-write request timeout (default 10)\n"
"      --queue-samples N      queue bound in samples (default: 10 minutes)\n"
"      --queue-minutes N      queue bound in minutes of samples\n"
"      --bearer-token-file F  Authorization: Bearer <first line of F>\n"
"      --basic-auth-user U    basic auth user, with:\n"
"      --basic-auth-password-file F\n"
"  -l, --label NAME=VALUE     an extra label on every remote-written series\n"
"                             (repeatable; all receivers)\n"
"  -h, --help                 this text\n"
"  -V, --version              version\n");
}

enum {
	OPT_STALE = 256,
	OPT_INTERVAL,
	OPT_TIMEOUT,
	OPT_QUEUE_SAMPLES,
	OPT_QUEUE_MINUTES,
	OPT_BEARER,
	OPT_BASIC_USER,
	OPT_BASIC_PW,
};

static const struct option long_opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"instance", required_argument, NULL, 'n'},
	{"listen", required_argument, NULL, 'L'},
	{"buckets", required_argument, NULL, 'b'},
	{"stale", required_argument, NULL, OPT_STALE},
	{"remote-write", required_argument, NULL, 'w'},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"queue-samples", required_argument, NULL, OPT_QUEUE_SAMPLES},
	{"queue-minutes", required_argument, NULL, OPT_QUEUE_MINUTES},
	{"bearer-token-file", required_argument, NULL, OPT_BEARER},
	{"basic-auth-user", required_argument, NULL, OPT_BASIC_USER},
	{"basic-auth-password-file", required_argument, NULL, OPT_BASIC_PW},
	{"label", required_argument, NULL, 'l'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static int
parse_u32(const char *opt, const char *s, long long min, long long max,
	uint32_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		wl_export_log("--%s: expected an integer in [%lld, %lld], got "
			"\"%s\"", opt, min, max, s);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Command-line settings of the remote writes, applied after parsing. */
struct cli_rw {
	unsigned int n_url;
	const char *url[WL_CFG_MAX_RW];
	struct wl_cfg_rw tmpl;          /* defaults + the options */
	unsigned int n_labels;
	struct wl_cfg_label labels[WL_CFG_MAX_LABELS];
};

static int
add_label(struct cli_rw *cr, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct wl_cfg_label *l;

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(l->name)) {
		wl_export_log("--label: expected NAME=VALUE, got \"%s\"", arg);
		return -EINVAL;
	}
	if (cr->n_labels >= WL_CFG_MAX_LABELS) {
		wl_export_log("--label: at most %d", WL_CFG_MAX_LABELS);
		return -EINVAL;
	}
	l = &cr->labels[cr->n_labels++];
	memset(l, 0, sizeof(*l));
	wl_strncpy_buf(l->name, sizeof(l->name), arg, (size_t)(eq - arg));
	wl_strlcpy(l->value, eq + 1, sizeof(l->value));
	return 0;
}

/* @return 0, 1 (exit 0: --help, --version), or -EINVAL (exit 2). */
static int
parse_args(struct wl_export_app *app, int argc, char **argv)
{
	static const char *short_opts = ":c:n:L:b:w:l:hV";
	struct wl_config *c = &app->cfg;
	unsigned int cli_inst = 0, i, j, k;
	struct cli_rw cr = {0};
	char err[512];
	int opt;

	wl_config_rw_defaults(&cr.tmpl);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, short_opts, long_opts,
			NULL)) != -1)
		if (opt == 'c' && wl_config_load_file(c, optarg, err,
				sizeof(err)) != 0) {
			wl_export_log("%s", err);
			return -EINVAL;
		}
	optind = 1;
	while ((opt = getopt_long(argc, argv, short_opts, long_opts,
			NULL)) != -1) {
		switch (opt) {
		case 'c':
			break;
		case 'n':
			/* Command-line instances replace the file's. */
			if (cli_inst++ == 0)
				c->n_export_instances = 0;
			if (c->n_export_instances >= WL_CFG_MAX_EXPORT_INSTANCES) {
				wl_export_log("--instance: at most %d",
					WL_CFG_MAX_EXPORT_INSTANCES);
				return -EINVAL;
			}
			if (strlen(optarg) >= sizeof(c->export_instances[0])) {
				wl_export_log("--instance: \"%s\" is too long",
					optarg);
				return -EINVAL;
			}
			wl_strlcpy(c->export_instances[c->n_export_instances++],
				optarg, sizeof(c->export_instances[0]));
			break;
		case 'L':
			if (strlen(optarg) >= sizeof(c->export_listen)) {
				wl_export_log("--listen: too long");
				return -EINVAL;
			}
			wl_strlcpy(c->export_listen, optarg,
				sizeof(c->export_listen));
			break;
		case 'b':
			if (strcmp(optarg, "le") == 0)
				c->export_buckets = WL_CFG_BUCKETS_LE;
			else if (strcmp(optarg, "vmrange") == 0)
				c->export_buckets = WL_CFG_BUCKETS_VMRANGE;
			else if (strcmp(optarg, "both") == 0)
				c->export_buckets = WL_CFG_BUCKETS_BOTH;
			else {
				wl_export_log("--buckets: expected le, vmrange or "
					"both, got \"%s\"", optarg);
				return -EINVAL;
			}
			break;
		case OPT_STALE:
			if (parse_u32("stale", optarg, 1, 86400,
					&c->export_stale_s) != 0)
				return -EINVAL;
			break;
		case 'w':
			if (cr.n_url >= WL_CFG_MAX_RW) {
				wl_export_log("--remote-write: at most %d URLs",
					WL_CFG_MAX_RW);
				return -EINVAL;
			}
			if (strlen(optarg) >= sizeof(cr.tmpl.url)) {
				wl_export_log("--remote-write: URL too long");
				return -EINVAL;
			}
			cr.url[cr.n_url++] = optarg;
			break;
		case OPT_INTERVAL:
			if (parse_u32("interval", optarg, 1, 86400,
					&cr.tmpl.interval_s) != 0)
				return -EINVAL;
			break;
		case OPT_TIMEOUT:
			if (parse_u32("timeout", optarg, 1, 3600,
					&cr.tmpl.timeout_s) != 0)
				return -EINVAL;
			break;
		case OPT_QUEUE_SAMPLES:
			if (parse_u32("queue-samples", optarg, 1, 1LL << 30,
					&cr.tmpl.queue_samples) != 0)
				return -EINVAL;
			break;
		case OPT_QUEUE_MINUTES:
			if (parse_u32("queue-minutes", optarg, 1, 10080,
					&cr.tmpl.queue_minutes) != 0)
				return -EINVAL;
			cr.tmpl.queue_samples = 0;
			break;
		case OPT_BEARER:
			wl_strlcpy(cr.tmpl.bearer_token_file, optarg,
				sizeof(cr.tmpl.bearer_token_file));
			break;
		case OPT_BASIC_USER:
			wl_strlcpy(cr.tmpl.basic_auth_user, optarg,
				sizeof(cr.tmpl.basic_auth_user));
			break;
		case OPT_BASIC_PW:
			wl_strlcpy(cr.tmpl.basic_auth_password_file, optarg,
				sizeof(cr.tmpl.basic_auth_password_file));
			break;
		case 'l':
			if (add_label(&cr, optarg) != 0)
				return -EINVAL;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("wirelat-export %s (shm layout %u)\n", WL_VERSION,
				WL_SHM_VERSION);
			return 1;
		case ':':
			wl_export_log("option %s needs an argument",
				argv[optind - 1]);
			return -EINVAL;
		default:
			wl_export_log("unknown option %s (see --help)",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		wl_export_log("unexpected argument \"%s\"", argv[optind]);
		return -EINVAL;
	}
	if (cr.n_url > 0) {
		c->n_rw = cr.n_url;
		for (i = 0; i < cr.n_url; i++) {
			c->rw[i] = cr.tmpl;
			wl_strlcpy(c->rw[i].url, cr.url[i], sizeof(c->rw[i].url));
		}
	}
	/* --label: on every receiver, replacing a file label's value. */
	for (i = 0; i < c->n_rw; i++)
		for (k = 0; k < cr.n_labels; k++) {
			struct wl_cfg_rw *rw = &c->rw[i];

			for (j = 0; j < rw->n_labels; j++)
				if (strcmp(rw->labels[j].name,
						cr.labels[k].name) == 0)
					break;
			if (j == rw->n_labels) {
				if (rw->n_labels >= WL_CFG_MAX_LABELS) {
					wl_export_log("--label: at most %d labels "
						"per receiver", WL_CFG_MAX_LABELS);
					return -EINVAL;
				}
				rw->n_labels++;
			}
			rw->labels[j] = cr.labels[k];
		}
	return 0;
}

/* Label names the file checks; the command line's are checked here. */
static int
labels_ok(const struct wl_config *c)
{
	unsigned int i, k;
	size_t j;

	for (i = 0; i < c->n_rw; i++)
		for (k = 0; k < c->rw[i].n_labels; k++) {
			const char *n = c->rw[i].labels[k].name;
			int ok = strncmp(n, "__", 2) != 0 && n[0] != '\0';

			for (j = 0; n[j] != '\0' && ok; j++)
				ok = (n[j] >= 'a' && n[j] <= 'z') ||
					(n[j] >= 'A' && n[j] <= 'Z') ||
					n[j] == '_' ||
					(j > 0 && n[j] >= '0' && n[j] <= '9');
			if (!ok) {
				wl_export_log("--label: \"%s\" is not a label "
					"name ([a-zA-Z_][a-zA-Z0-9_]*, not "
					"starting with __)", n);
				return -EINVAL;
			}
		}
	return 0;
}

static int
model_create(struct wl_export_app *app)
{
	const struct wl_config *c = &app->cfg;
	const char *names[WL_CFG_MAX_EXPORT_INSTANCES];
	struct wl_exp_opts o = {0};
	unsigned int i, n = c->n_export_instances;

	for (i = 0; i < n; i++)
		names[i] = c->export_instances[i];
	if (n == 0) {
		names[0] = c->instance;
		n = 1;
	}
	o.buckets = c->export_buckets == WL_CFG_BUCKETS_LE ? WL_EXP_BUCKETS_LE :
		c->export_buckets == WL_CFG_BUCKETS_VMRANGE ?
		WL_EXP_BUCKETS_VMRANGE :
		WL_EXP_BUCKETS_LE | WL_EXP_BUCKETS_VMRANGE;
	for (i = 0; i < WL_EXP_UNITS; i++) {
		o.le[i] = c->le[i];
		o.n_le[i] = c->n_le[i];
	}
	o.stale_ns = (uint64_t)c->export_stale_s * WL_NS_PER_S;
	app->model = wl_exp_model_create(&o, names, n);
	if (app->model == NULL) {
		wl_export_log("cannot set up the export model: %s",
			strerror(errno));
		return -errno;
	}
	for (i = 0; i < n; i++)
		wl_export_log("exporting instance \"%s\"", names[i]);
	return 0;
}

static void
run(struct wl_export_app *app)
{
	struct timespec tick = {0, 100 * 1000 * 1000};
	unsigned int i;

	while (!quit) {
		uint64_t now = wl_export_mono_ns();

		for (i = 0; i < app->n_rw; i++) {
			struct wl_rw_sender *r = app->rw[i];
			struct wl_exp_snap *s = wl_rw_snap(r);
			int ret;

			/* The first tick (0) is at once. */
			if (wl_rw_next_tick(r) > now)
				continue;
			wl_exp_snap_reset(s);
			ret = wl_export_snapshot(app, s);
			if (ret == 0)
				ret = wl_rw_enqueue(r, s, now);
			if (ret != 0)
				wl_export_log("remote write: snapshot not "
					"queued: %s", strerror(-ret));
		}
		nanosleep(&tick, NULL);
	}
}

int
main(int argc, char **argv)
{
	static struct wl_export_app app;
	struct MHD_Daemon *http = NULL;
	char err[512];
	unsigned int i, k;
	int ret, status = 1;

	wl_config_defaults(&app.cfg);
	ret = parse_args(&app, argc, argv);
	if (ret != 0)
		return ret > 0 ? 0 : 2;
	if (wl_config_validate_export(&app.cfg, err, sizeof(err)) != 0) {
		wl_export_log("%s", err);
		return 2;
	}
	if (labels_ok(&app.cfg) != 0)
		return 2;
	pthread_mutex_init(&app.model_lock, NULL);
	pthread_mutex_init(&app.scrape_lock, NULL);
	app.scrape_snap = wl_exp_snap_create();
	if (app.scrape_snap == NULL) {
		wl_export_log("out of memory");
		return 1;
	}
	if (model_create(&app) != 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		wl_export_log("libcurl initialisation failed");
		goto out;
	}
	for (i = 0; i < app.cfg.n_rw; i++) {
		const struct wl_cfg_rw *rw = &app.cfg.rw[i];

		for (k = 0; k < rw->n_labels; k++)
			app.ext_labels[i][k] = (struct wl_exp_label){
				rw->labels[k].name, rw->labels[k].value};
		app.rw[i] = wl_rw_start(&app, rw, app.ext_labels[i],
			rw->n_labels);
		if (app.rw[i] == NULL)
			goto out;
		app.n_rw = i + 1;
		wl_export_log("remote write to %s every %u s", rw->url,
			rw->interval_s);
	}
	if (app.cfg.export_listen[0] != '\0') {
		http = wl_export_http_start(&app);
		if (http == NULL)
			goto out;
		wl_export_log("serving http://%s/metrics", app.cfg.export_listen);
	} else if (app.n_rw == 0) {
		wl_export_log("nothing to do: no --listen and no --remote-write");
		status = 2;
		goto out;
	}
	run(&app);
	status = 0;
out:
	wl_export_http_stop(http);
	for (i = 0; i < app.n_rw; i++)
		wl_rw_stop(app.rw[i]);
	curl_global_cleanup();
	wl_exp_model_free(app.model);
	wl_exp_snap_free(app.scrape_snap);
	return status;
}
