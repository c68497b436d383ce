/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * wirelat-stat: read a wirelat instance's shared memory from another
 * process (no DPDK, no privileges beyond read access to the segment)
 * and print its histograms as a table or as JSON.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wl_build_config.h"
#include "wl_export.h"
#include "wl_shm.h"

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: wirelat-stat [--instance NAME] [--json] [--watch SECONDS]\n"
"       wirelat-stat [--instance NAME] --remove\n"
"\n"
"Reads the shared memory of a running or finished wirelat instance.\n"
"  -n, --instance NAME   instance (default \"default\")\n"
"  -j, --json            one JSON snapshot (docs/shm.md)\n"
"  -w, --watch SECONDS   repeat every SECONDS until interrupted\n"
"  -c, --count N         with --watch: stop after N snapshots\n"
"      --remove          unlink the instance's segment\n"
"  -h, --help            this text\n"
"  -V, --version         version\n");
}

static int
parse_num(const char *opt, const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max)) {
		fprintf(stderr, "wirelat-stat: --%s: expected a number in "
			"[%g, %g], got \"%s\"\n", opt, min, max, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
snapshot(const char *instance, int json)
{
	struct wl_shm *shm;
	char err[256];
	json_t *j;

	shm = wl_shm_attach(instance, err, sizeof(err));
	if (shm == NULL) {
		fprintf(stderr, "wirelat-stat: %s\n", err);
		return 1;
	}
	if (json) {
		j = wl_export_stats_json(shm);
		if (j == NULL) {
			fprintf(stderr, "wirelat-stat: instance \"%s\": writer "
				"too busy for a consistent read\n", instance);
			wl_shm_close(shm);
			return 1;
		}
		json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		wl_export_stats_table(shm, stdout);
	}
	fflush(stdout);
	wl_shm_close(shm);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"instance", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"watch", required_argument, NULL, 'w'},
		{"count", required_argument, NULL, 'c'},
		{"remove", no_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *instance = "default";
	double watch = 0, count = 0;
	int opt, json = 0, remove = 0, ret, n = 0;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "n:jw:c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			instance = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'w':
			if (parse_num("watch", optarg, 0.01, 86400, &watch))
				return 2;
			break;
		case 'c':
			if (parse_num("count", optarg, 1, 1e9, &count))
				return 2;
			break;
		case 'R':
			remove = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("wirelat-stat %s (shm layout %u)\n", WL_VERSION,
				WL_SHM_VERSION);
			return 0;
		default:
			if (optopt != 0 && optopt < 256 &&
					strchr("nwc", optopt) != NULL)
				fprintf(stderr, "wirelat-stat: option -%c needs "
					"an argument\n", optopt);
			else
				fprintf(stderr, "wirelat-stat: unknown option "
					"%s (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wirelat-stat: unexpected argument \"%s\"\n",
			argv[optind]);
		return 2;
	}
	if (wl_shm_instance_check(instance) != 0) {
		fprintf(stderr, "wirelat-stat: --instance: \"%s\" is not a "
			"valid name ([A-Za-z0-9_.-], 1-47 characters)\n",
			instance);
		return 2;
	}
	if (remove) {
		ret = wl_shm_remove(instance);
		if (ret != 0) {
			fprintf(stderr, "wirelat-stat: instance \"%s\": %s\n",
				instance, ret == -EBUSY ? "its wirelat is running "
				"(stop it first)" : strerror(-ret));
			return 1;
		}
		return 0;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (;;) {
		ret = snapshot(instance, json);
		if (ret != 0 || watch == 0 || quit)
			return ret;
		if (count > 0 && ++n >= (int)count)
			return 0;
		if (!json)
			printf("\n");
		{
			struct timespec ts = {
				.tv_sec = (time_t)watch,
				.tv_nsec = (long)((watch - (double)(time_t)watch) *
					1e9),
			};

			nanosleep(&ts, NULL);
		}
		if (quit)
			return 0;
	}
}
