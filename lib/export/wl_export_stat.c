/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Renderings of a shared-memory segment: the stats JSON (docs/shm.md,
 * wirelat-stat --json and wirelat --stats-json) and the stat table
 * (wirelat-stat, wirelat's report). They read the segment only through
 * the reader API of wl_shm.h (consistent copies, bounds as checked at
 * attach), so a segment made by anyone cannot make them read outside
 * the mapping (tests/fuzz/fuzz_shm.c). No DPDK: wirelat-stat links this.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wl_common.h"
#include "wl_export.h"
#include "wl_hist.h"
#include "wl_shm.h"

/* ---- the writer's state ---- */

/* kill 0: EPERM means the process exists but is not ours (an
 * unprivileged reader), which /proc may hide from it (hidepid). */
int
wl_export_writer_alive(int32_t pid)
{
	if (pid <= 0)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

const char *
wl_export_run_state(const struct wl_shm_hdr *h)
{
	if (h->finished)
		return "finished";
	return wl_export_writer_alive(h->pid) ? "running" : "stopped";
}

/* ---- stats JSON ---- */

static json_t *
series_json(const struct wl_shm_series *s, double span_s)
{
	const struct wl_hist *h = &s->h;
	char ip[64];
	json_t *o;

	wl_addr_format(&s->key.server, ip, sizeof(ip));
	o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:I}",
		"metric", s->key.metric,
		"proto", s->key.proto,
		"server_ip", ip,
		"server_port", (int)s->key.server_port,
		"method", s->key.method,
		"status_class", wl_status_class_name(s->key.status_class),
		"count", (json_int_t)h->count);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "rate_per_s", json_real(span_s > 0 ?
		(double)h->count / span_s : 0));
	json_object_set_new(o, "min_ns", json_integer(
		(json_int_t)(h->count ? h->min : 0)));
	json_object_set_new(o, "mean_ns", json_integer(
		(json_int_t)llround(wl_hist_mean(h))));
	json_object_set_new(o, "p50_ns", json_integer(
		(json_int_t)wl_hist_quantile(h, 0.50)));
	json_object_set_new(o, "p90_ns", json_integer(
		(json_int_t)wl_hist_quantile(h, 0.90)));
	json_object_set_new(o, "p99_ns", json_integer(
		(json_int_t)wl_hist_quantile(h, 0.99)));
	json_object_set_new(o, "p999_ns", json_integer(
		(json_int_t)wl_hist_quantile(h, 0.999)));
	json_object_set_new(o, "max_ns", json_integer((json_int_t)h->max));
	json_object_set_new(o, "overflow", json_integer(
		(json_int_t)h->overflow));
	return o;
}

json_t *
wl_export_stats_json(const struct wl_shm *shm)
{
	static char names[1u << 16][WL_SHM_COUNTER_NAME];
	static uint64_t values[1u << 16];
	static struct wl_shm_series s;
	struct wl_shm_hdr h;
	json_t *root, *arr, *cnt;
	double span_s;
	unsigned int i;
	int n;

	if (wl_shm_read_hdr(shm, &h) != 0)
		return NULL;
	n = wl_shm_read_counters(shm, names, values, WL_ARRAY_SIZE(values));
	if (n < 0)
		return NULL;
	span_s = h.last_ns > h.first_ns ?
		(double)(h.last_ns - h.first_ns) / 1e9 : 0;
	root = json_pack("{s:s, s:i, s:s, s:i, s:s, s:I, s:I, s:I, s:I}",
		"instance", h.instance,
		"layout_version", (int)h.version,
		"wirelat_version", h.wirelat_version,
		"pid", (int)h.pid,
		"state", wl_export_run_state(&h),
		"updated_ns", (json_int_t)h.updated_ns,
		"first_ns", (json_int_t)h.first_ns,
		"last_ns", (json_int_t)h.last_ns,
		"span_ns", (json_int_t)(h.last_ns > h.first_ns ?
			h.last_ns - h.first_ns : 0));
	if (root == NULL)
		return NULL;
	json_object_set_new(root, "finished", json_boolean(h.finished));
	arr = json_array();
	for (i = 0; i < h.n_inputs; i++) {
		struct wl_shm_input *in = &h.inputs[i];

		in->name[sizeof(in->name) - 1] = '\0';
		in->ts_source[sizeof(in->ts_source) - 1] = '\0';
		in->link[sizeof(in->link) - 1] = '\0';
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}",
			"name", in->name, "ts_source", in->ts_source,
			"link", in->link));
	}
	json_object_set_new(root, "inputs", arr);
	cnt = json_object();
	for (i = 0; i < (unsigned int)n; i++)
		json_object_set_new(cnt, names[i],
			json_integer((json_int_t)values[i]));
	json_object_set_new(root, "counters", cnt);
	arr = json_array();
	for (i = 0; i < h.n_series; i++) {
		if (wl_shm_read_series(shm, i, &s) != 0)
			continue;
		json_array_append_new(arr, series_json(&s, span_s));
	}
	json_object_set_new(root, "series", arr);
	return root;
}

/* ---- the stat table ---- */

/* 1234 -> "1.23us": 3 significant digits, unit chosen by size. */
static void
fmt_ns(char *buf, size_t size, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, size, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, size, "%.3gus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, "%.3gms", (double)ns / 1e6);
	else
		snprintf(buf, size, "%.3gs", (double)ns / 1e9);
}

static int
series_cmp(const void *a, const void *b)
{
	const struct wl_shm_series *x = *(const struct wl_shm_series *const *)a;
	const struct wl_shm_series *y = *(const struct wl_shm_series *const *)b;
	int c;

	if ((c = strcmp(x->key.proto, y->key.proto)) != 0)
		return c;
	if ((c = strcmp(x->key.metric, y->key.metric)) != 0)
		return c;
	if ((c = memcmp(&x->key.server, &y->key.server,
			sizeof(x->key.server))) != 0)
		return c;
	if (x->key.server_port != y->key.server_port)
		return x->key.server_port < y->key.server_port ? -1 : 1;
	if ((c = strcmp(x->key.method, y->key.method)) != 0)
		return c;
	return (int)x->key.status_class - (int)y->key.status_class;
}

static uint64_t
ctr(char (*names)[WL_SHM_COUNTER_NAME], const uint64_t *values, int n,
	const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return values[i];
	return 0;
}

/* What was seen and the one drop figure, with where it came from. */
static void
print_counters(const struct wl_shm *shm, const struct wl_shm_hdr *h,
	FILE *f)
{
	static const char *const parts[] = {
		"nic", "kernel", "ring", "flows", "txns",
	};
	char (*names)[WL_SHM_COUNTER_NAME];
	char name[WL_SHM_COUNTER_NAME];
	const char *sep = " (";
	uint64_t *values;
	unsigned int k;
	int n;

	/* Sized by the header as read: the bound checked at attach. */
	names = calloc(h->max_counters ? h->max_counters : 1, sizeof(*names));
	values = calloc(h->max_counters ? h->max_counters : 1,
		sizeof(*values));
	n = names != NULL && values != NULL ? wl_shm_read_counters(shm, names,
		values, h->max_counters) : -ENOMEM;
	if (n > 0) {
		fprintf(f, "  packets %" PRIu64 ", transactions %" PRIu64
			" (unproven %" PRIu64 ", no response %" PRIu64
			"), connections %" PRIu64 "\n",
			ctr(names, values, n, "packets"),
			ctr(names, values, n, "txn_received"),
			ctr(names, values, n, "txn_unproven"),
			ctr(names, values, n, "txn_no_response"),
			ctr(names, values, n, "connections"));
		fprintf(f, "  drops %" PRIu64, ctr(names, values, n, "drops"));
		for (k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
			uint64_t v;

			snprintf(name, sizeof(name), "drops_%s", parts[k]);
			v = ctr(names, values, n, name);
			if (v == 0)
				continue;
			fprintf(f, "%s%s %" PRIu64, sep, parts[k], v);
			sep = ", ";
		}
		fprintf(f, "%s\n", sep[0] == ',' ? ")" : "");
	}
	free(names);
	free(values);
}

void
wl_export_stats_table(const struct wl_shm *shm, FILE *f)
{
	struct wl_shm_series **v;
	struct wl_shm_hdr h;
	char srv[80], ip[64], q[6][16];
	double span_s;
	unsigned int i, n = 0;

	if (wl_shm_read_hdr(shm, &h) != 0) {
		fprintf(f, "instance busy, try again\n");
		return;
	}
	span_s = h.last_ns > h.first_ns ?
		(double)(h.last_ns - h.first_ns) / 1e9 : 0;
	fprintf(f, "wirelat instance \"%s\" (%s, pid %d), traffic span %.3f s\n",
		h.instance, wl_export_run_state(&h), (int)h.pid, span_s);
	for (i = 0; i < h.n_inputs; i++)
		fprintf(f, "  input %.128s: timestamps %.8s, link %.16s\n",
			h.inputs[i].name, h.inputs[i].ts_source,
			h.inputs[i].link);
	print_counters(shm, &h, f);
	v = calloc(h.n_series ? h.n_series : 1, sizeof(*v));
	if (v == NULL)
		return;
	for (i = 0; i < h.n_series; i++) {
		v[n] = malloc(sizeof(**v));
		if (v[n] != NULL && wl_shm_read_series(shm, i, v[n]) == 0)
			n++;
		else
			free(v[n]);
	}
	qsort(v, n, sizeof(*v), series_cmp);
	fprintf(f, "%-6s %-16s %-28s %-14s %-12s %9s %9s %8s %8s %8s %8s %8s\n",
		"proto", "metric", "server", "method", "class", "count",
		"rate/s", "p50", "p90", "p99", "p99.9", "max");
	for (i = 0; i < n; i++) {
		const struct wl_shm_series *s = v[i];

		wl_addr_format(&s->key.server, ip, sizeof(ip));
		snprintf(srv, sizeof(srv), wl_addr_is_v4(&s->key.server) ?
			"%s:%u" : "[%s]:%u", ip, s->key.server_port);
		fmt_ns(q[0], sizeof(q[0]), wl_hist_quantile(&s->h, 0.50));
		fmt_ns(q[1], sizeof(q[1]), wl_hist_quantile(&s->h, 0.90));
		fmt_ns(q[2], sizeof(q[2]), wl_hist_quantile(&s->h, 0.99));
		fmt_ns(q[3], sizeof(q[3]), wl_hist_quantile(&s->h, 0.999));
		fmt_ns(q[4], sizeof(q[4]), s->h.max);
		fprintf(f, "%-6s %-16s %-28s %-14s %-12s %9" PRIu64
			" %9.1f %8s %8s %8s %8s %8s\n", s->key.proto,
			s->key.metric, srv, s->key.method,
			wl_status_class_name(s->key.status_class), s->h.count,
			span_s > 0 ? (double)s->h.count / span_s : 0, q[0], q[1],
			q[2], q[3], q[4]);
		free(v[i]);
	}
	if (n == 0)
		fprintf(f, "(no series yet)\n");
	free(v);
}

/* ---- at exit: attach, render, detach ---- */

int
wl_export_stats_write_json(const char *instance, const char *path)
{
	struct wl_shm *shm;
	char err[256];
	json_t *j;
	int ret;

	shm = wl_shm_attach(instance, err, sizeof(err));
	if (shm == NULL)
		return -ENOENT;
	j = wl_export_stats_json(shm);
	wl_shm_close(shm);
	if (j == NULL)
		return -EAGAIN;
	if (strcmp(path, "-") == 0) {
		ret = json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		ret = json_dump_file(j, path, JSON_INDENT(2));
	}
	json_decref(j);
	return ret == 0 ? 0 : -EIO;
}

int
wl_export_stats_report(const char *instance, FILE *f)
{
	struct wl_shm *shm;
	char err[256];

	shm = wl_shm_attach(instance, err, sizeof(err));
	if (shm == NULL)
		return -ENOENT;
	wl_export_stats_table(shm, f);
	wl_shm_close(shm);
	return 0;
}
