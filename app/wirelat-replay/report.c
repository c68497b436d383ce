/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The report. Rates are measured over the run's span, from the moment
 * the first packet was handed to a port to the moment the last one was:
 * packets - 1 intervals, and the bits of every packet but the last (the
 * last one's own transmission lies after the span). rate_error compares
 * that span with the schedule's, so it is the relative rate error in
 * every timed mode: +0.001 means 0.1% fast, -0.001 0.1% slow.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "wl_log.h"
#include "report.h"

#define NS 1000000000.0

struct wr_result {
	double seconds;
	double pps, bps_l2, bps_l1;
	double target;          /* pps or bps, 0 for top speed */
	const char *target_key; /* "target_pps" or "target_bps" */
	double sched_seconds;
	int timed;
	double rate_error;
};

static const char *
mode_name(enum wl_pace_mode m)
{
	switch (m) {
	case WL_PACE_TOPSPEED: return "topspeed";
	case WL_PACE_ORIGINAL: return "multiplier";
	case WL_PACE_PPS: return "pps";
	case WL_PACE_BPS_L2: return "mbps";
	case WL_PACE_BPS_L1: return "mbps-l1";
	case WL_PACE_BURST: return "burst";
	}
	return "?";
}

static void
compute(const struct wr_run *r, struct wr_result *x)
{
	memset(x, 0, sizeof(*x));
	x->target_key = "target_pps";
	if (r->packets >= 2 && r->last_tsc > r->first_tsc)
		x->seconds = (double)(r->last_tsc - r->first_tsc) /
			(double)r->hz;
	if (x->seconds > 0) {
		x->pps = (double)(r->packets - 1) / x->seconds;
		x->bps_l2 = (double)(r->bytes - r->last_len) * 8 / x->seconds;
		x->bps_l1 = (double)(r->bits_l1 - wl_pace_l1_bits(r->last_len)) /
			x->seconds;
	}
	x->sched_seconds = (double)r->last_due_ns / NS;
	switch (r->pace.mode) {
	case WL_PACE_TOPSPEED:
		return;
	case WL_PACE_PPS:
		x->target = (double)r->pace.pps;
		break;
	case WL_PACE_BPS_L2:
	case WL_PACE_BPS_L1:
		x->target = (double)r->pace.bps;
		x->target_key = "target_bps";
		break;
	case WL_PACE_BURST:
		x->target = (double)r->pace.burst * NS /
			(double)r->pace.interval_ns;
		break;
	case WL_PACE_ORIGINAL:
		if (x->sched_seconds > 0)
			x->target = (double)(r->packets - 1) /
				x->sched_seconds;
		break;
	}
	x->timed = 1;
	if (x->seconds > 0 && x->sched_seconds > 0)
		x->rate_error = x->sched_seconds / x->seconds - 1;
}

static json_t *
error_json(const struct wr_run *r, int timed)
{
	const struct wl_hist *h = &r->err;

	if (!timed || h->count == 0)
		return json_pack("{s:n,s:n,s:n,s:n,s:n,s:n}", "p50", "p90",
			"p99", "p999", "max", "mean");
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:f}",
		"p50", (json_int_t)wl_hist_quantile(h, 0.5),
		"p90", (json_int_t)wl_hist_quantile(h, 0.9),
		"p99", (json_int_t)wl_hist_quantile(h, 0.99),
		"p999", (json_int_t)wl_hist_quantile(h, 0.999),
		"max", (json_int_t)h->max, "mean", wl_hist_mean(h));
}

static json_t *
to_json(const struct wr_run *r, const struct wr_result *x,
	const struct wr_file *files, unsigned int n_files)
{
	json_t *o, *a, *d;
	unsigned int i;

	o = json_pack("{s:s,s:I,s:I,s:f,s:f,s:f,s:f,s:f}",
		"mode", mode_name(r->pace.mode),
		"packets", (json_int_t)r->packets,
		"bytes", (json_int_t)r->bytes,
		"seconds", x->seconds, "schedule_seconds", x->sched_seconds,
		"pps", x->pps, "bps_l2", x->bps_l2, "bps_l1", x->bps_l1);
	if (x->timed) {
		json_object_set_new(o, x->target_key, json_real(x->target));
		json_object_set_new(o, "rate_error", x->sched_seconds > 0 &&
			x->seconds > 0 ? json_real(x->rate_error) :
			json_null());
	} else {
		json_object_set_new(o, "rate_error", json_null());
	}
	if (r->pace.mode == WL_PACE_ORIGINAL)
		json_object_set_new(o, "multiplier", json_real(
			(double)r->pace.multiplier_ppm / 1e6));
	json_object_set_new(o, "send_error_ns", error_json(r, x->timed));
	json_object_set_new(o, "loops", json_integer(
		(json_int_t)r->loops_done));
	json_object_set_new(o, "loops_requested", json_integer(
		(json_int_t)r->loops));
	json_object_set_new(o, "stopped", json_boolean(r->stop));
	json_object_set_new(o, "unsent", json_integer((json_int_t)r->unsent));
	json_object_set_new(o, "copy_waits", json_integer(
		(json_int_t)r->alloc_fail));
	json_object_set_new(o, "tx_call_max_ns", json_integer(r->hz == 0 ? 0 :
		(json_int_t)wl_pace_muldiv(r->tx_call_max, 1000000000ULL,
		r->hz)));
	json_object_set_new(o, "slips", json_integer((json_int_t)r->slips));
	json_object_set_new(o, "slipped_ns", json_integer(r->hz == 0 ? 0 :
		(json_int_t)wl_pace_muldiv(r->slip_tsc, 1000000000ULL,
		r->hz)));
	json_object_set_new(o, "clock", json_string("tsc"));
	json_object_set_new(o, "tsc_hz", json_integer((json_int_t)r->hz));
	a = json_array();
	for (i = 0; i < n_files; i++)
		json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I}",
			"path", files[i].path,
			"packets", (json_int_t)files[i].packets,
			"bytes", (json_int_t)files[i].bytes,
			"truncated", (json_int_t)files[i].truncated));
	json_object_set_new(o, "files", a);
	a = json_array();
	for (i = 0; i < r->n_ports; i++)
		json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I}",
			"name", r->port_names[i],
			"packets", (json_int_t)r->port[i].packets,
			"bytes", (json_int_t)r->port[i].bytes,
			"tx_full", (json_int_t)r->port[i].tx_full));
	json_object_set_new(o, "ports", a);
	d = json_object();
#define _(f, n, desc) json_object_set_new(d, n, \
	json_integer((json_int_t)r->dir_stats.f));
	foreach_wl_dir_counter
#undef _
	json_object_set_new(o, "flows", d);
	return o;
}

int
wr_report(const struct wr_run *r, const struct wr_file *files,
	unsigned int n_files, const char *json_path)
{
	struct wr_result x;
	json_t *o;
	int ret = 0;

	compute(r, &x);
	printf("wirelat-replay: %" PRIu64 " packets, %" PRIu64 " bytes in "
		"%.6f s: %.1f pps, %.3f Mbps L2, %.3f Mbps L1\n",
		r->packets, r->bytes, x.seconds, x.pps, x.bps_l2 / 1e6,
		x.bps_l1 / 1e6);
	if (x.timed && r->err.count > 0)
		printf("  target %.1f %s, rate error %+.5f%%; send error p50 %"
			PRIu64 " ns, p99 %" PRIu64 " ns, max %" PRIu64 " ns\n",
			x.target, x.target_key[7] == 'p' ?
			"pps" : "bit/s", x.rate_error * 100,
			wl_hist_quantile(&r->err, 0.5),
			wl_hist_quantile(&r->err, 0.99), r->err.max);
	if (r->slips > 0)
		printf("  schedule moved later %" PRIu64 " times, %.6f s in "
			"all (--max-late)\n", r->slips,
			(double)r->slip_tsc / (double)r->hz);
	if (r->n_ports > 1)
		printf("  split: %" PRIu64 " packets client->server on %s, %"
			PRIu64 " server->client on %s\n", r->port[0].packets,
			r->port_names[0], r->port[1].packets,
			r->port_names[1]);
	if (r->stop)
		printf("  stopped after %" PRIu64 " complete loops\n",
			r->loops_done);
	fflush(stdout);
	if (json_path == NULL)
		return 0;
	o = to_json(r, &x, files, n_files);
	if (o == NULL || json_dump_file(o, json_path, JSON_INDENT(2) |
			JSON_REAL_PRECISION(17)) != 0) {
		wl_err("%s: cannot write the report", json_path);
		ret = -EIO;
	}
	json_decref(o);
	return ret;
}
