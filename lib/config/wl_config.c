/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * One table describes every scalar key: its JSON path, type, bounds and
 * where it lives in struct wl_config. Applying, printing and documenting
 * all walk that table, so a key cannot exist in one and not the others.
 * The few structured keys (inputs, lists, protocol ports) have their own
 * small handlers.
 */

#include <grp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl_common.h"
#include "wl_config.h"

enum cfg_type {
	T_U32,          /* integer in [min, max] */
	T_INT,          /* signed integer in [min, max] */
	T_BOOL,
	T_STR,          /* fixed char array of size */
	T_ENUM,         /* string, index into names stored as int */
	T_TRI,          /* "auto" | false | true stored as -1 / 0 / 1 */
	T_POW2,         /* power of two in [min, max] */
	T_SPECIAL,      /* handled by its own function */
};

struct cfg_key {
	const char *path;
	enum cfg_type type;
	size_t off;
	size_t size;
	long long min;
	long long max;
	const char *const *names;       /* T_ENUM, NULL-ended */
};

#define OFF(f) offsetof(struct wl_config, f)
#define SZ(f) sizeof(((struct wl_config *)0)->f)

static const char *const huge_names[] = {"auto", "on", "off", NULL};
static const char *const mode_names[] = {"rtc", "pipeline", NULL};
static const char *const syn_log_names[] = {"per_second", "each", NULL};
static const char *const bucket_names[] = {"le", "vmrange", "both", NULL};

static const struct cfg_key keys[] = {
	{"instance", T_STR, OFF(instance), SZ(instance), 0, 0, NULL},
	{"eal.lcores", T_STR, OFF(lcores), SZ(lcores), 0, 0, NULL},
	{"eal.huge", T_ENUM, OFF(huge), 0, 0, 0, huge_names},
	{"eal.memory_mb", T_U32, OFF(memory_mb), 0, 0, 1 << 20, NULL},
	{"eal.file_prefix", T_STR, OFF(file_prefix), SZ(file_prefix), 0, 0, NULL},
	{"eal.args", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"inputs", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"cores.mode", T_ENUM, OFF(mode), 0, 0, 0, mode_names},
	{"cores.rx", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"cores.parsers", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"cores.collector", T_INT, OFF(collector_lcore), 0, -1,
		WL_CFG_MAX_LCORES - 1, NULL},
	{"rx.burst", T_U32, OFF(burst), 0, 1, 512, NULL},
	{"rx.mbufs", T_U32, OFF(mbufs), 0, 1024, 1 << 24, NULL},
	{"rx.mbuf_size", T_U32, OFF(mbuf_size), 0, 256, 65000, NULL},
	{"rx.descriptors", T_U32, OFF(rxd), 0, 64, 32768, NULL},
	{"rx.parser_ring", T_POW2, OFF(parser_ring), 0, 64, 1 << 24, NULL},
	{"rx.sw_hash", T_BOOL, OFF(sw_hash), 0, 0, 0, NULL},
	{"rx.hw_timestamp", T_BOOL, OFF(hw_timestamp), 0, 0, 0, NULL},
	{"rx.kernel_ring_kb", T_U32, OFF(kernel_ring_kb), 0, 64, 1 << 22, NULL},
	{"rx.kernel_block_kb", T_U32, OFF(kernel_block_kb), 0, 64, 1 << 16,
		NULL},
	{"rx.kernel_block_ms", T_U32, OFF(kernel_block_ms), 0, 1, 1000, NULL},
	{"flow.max_flows", T_U32, OFF(max_flows), 0, 1, 1 << 24, NULL},
	{"flow.tcp_idle_ms", T_U32, OFF(tcp_idle_ms), 0, 1, 86400000, NULL},
	{"flow.tcp_closed_ms", T_U32, OFF(tcp_closed_ms), 0, 1, 86400000, NULL},
	{"flow.tcp_syn_ms", T_U32, OFF(tcp_syn_ms), 0, 1, 86400000, NULL},
	{"flow.udp_idle_ms", T_U32, OFF(udp_idle_ms), 0, 1, 86400000, NULL},
	{"flow.ooo_max_segs", T_U32, OFF(ooo_max_segs), 0, 0, 4096, NULL},
	{"flow.ooo_pool_segs", T_U32, OFF(ooo_pool_segs), 0, 0, 1 << 22, NULL},
	{"flow.ooo_seg_bytes", T_U32, OFF(ooo_seg_bytes), 0, 64, 65535, NULL},
	{"flow.l7_state_max", T_U32, OFF(l7_state_max), 0, 1, 1 << 24, NULL},
	{"flow.probe_max_bytes", T_U32, OFF(probe_max_bytes), 0, 1, 65536, NULL},
	{"flow.probe_signatures", T_BOOL, OFF(probe_signatures), 0, 0, 0, NULL},
	{"flow.stall_ms", T_U32, OFF(stall_ms), 0, 1, 3600000, NULL},
	{"flow.conn_analytics", T_BOOL, OFF(conn_analytics), 0, 0, 0, NULL},
	{"flow.dedup_window_us", T_U32, OFF(dedup_window_us), 0, 0, 1000000,
		NULL},
	{"flow.ts_jump_ms", T_U32, OFF(ts_jump_ms), 0, 1, 86400000, NULL},
	{"flow.reorder_pkts", T_U32, OFF(reorder_pkts), 0, 0, 65536, NULL},
	{"flow.reorder_ms", T_U32, OFF(reorder_ms), 0, 0, 60000, NULL},
	{"flow.pending_max", T_U32, OFF(pending_max), 0, 64, 1 << 22, NULL},
	{"flow.unproven_pct", T_U32, OFF(unproven_pct), 0, 0, 100, NULL},
	{"flow.handshake_max", T_U32, OFF(handshake_max), 0, 0, 1 << 24, NULL},
	{"flow.extra_max", T_U32, OFF(extra_max), 0, 0, 1 << 24, NULL},
	{"flow.ipv6_max", T_U32, OFF(ipv6_max), 0, 0, 1 << 24, NULL},
	{"flow.events_max", T_U32, OFF(events_max), 0, 0, 1 << 24, NULL},
	{"flow.probing_max", T_U32, OFF(probing_max), 0, 0, 1 << 24, NULL},
	{"flow.stash_max", T_U32, OFF(stash_max), 0, 0, 1 << 24, NULL},
	{"flow.reorder_max", T_U32, OFF(reorder_max), 0, 0, 1 << 24, NULL},
	{"flow.dedup_entries", T_U32, OFF(dedup_entries), 0, 0, 1 << 26, NULL},
	{"protocols.ports", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"protocols.server_ports", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"protocols.disabled", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"protocols.state_max", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"protocols.dns_timeout_ms", T_U32, OFF(dns_timeout_ms), 0, 0, 86400000,
		NULL},
	{"collector.txn_ring", T_POW2, OFF(txn_ring), 0, 64, 1 << 22, NULL},
	{"collector.max_series", T_U32, OFF(max_series), 0, 1, 1 << 20, NULL},
	{"collector.shm_group", T_STR, OFF(shm_group), SZ(shm_group), 0, 0,
		NULL},
	{"collector.publish_ms", T_U32, OFF(publish_ms), 0, 1, 60000, NULL},
	{"collector.lossless", T_TRI, OFF(lossless), 0, 0, 0, NULL},
	{"collector.idle_sleep_us", T_U32, OFF(idle_sleep_us), 0, 0, 10000,
		NULL},
	{"output.log", T_STR, OFF(log_path), SZ(log_path), 0, 0, NULL},
	{"output.connections", T_STR, OFF(conn_path), SZ(conn_path), 0, 0, NULL},
	{"output.connection_requests", T_U32, OFF(conn_requests_max), 0, 0,
		1 << 20, NULL},
	{"output.syn_unanswered", T_ENUM, OFF(syn_log), 0, 0, 0, syn_log_names},
	{"output.stats_json", T_STR, OFF(stats_json), SZ(stats_json), 0, 0, NULL},
	{"output.status_interval_s", T_U32, OFF(status_interval_s), 0, 0, 3600,
		NULL},
	{"output.report", T_BOOL, OFF(report), 0, 0, 0, NULL},
	{"export.listen", T_STR, OFF(export_listen), SZ(export_listen), 0, 0,
		NULL},
	{"export.buckets", T_ENUM, OFF(export_buckets), 0, 0, 0, bucket_names},
	{"export.le_seconds", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"export.le_bytes", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"export.le_count", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"export.instances", T_SPECIAL, 0, 0, 0, 0, NULL},
	{"export.stale_s", T_U32, OFF(export_stale_s), 0, 1, 86400, NULL},
	{"export.remote_write", T_SPECIAL, 0, 0, 0, 0, NULL},
};

/* export.le_*: the le bounds of each unit, in the exported unit. */
static const char *const le_keys[3] = {
	"export.le_seconds", "export.le_bytes", "export.le_count",
};
static const double le_defaults_s[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};
static const double le_defaults_bytes[] = {
	64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
	16777216, 67108864,
};
static const double le_defaults_count[] = {
	1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024,
};

static const char *const input_names[] = {
#define _(e, n) n,
	foreach_wl_input_type
#undef _
};

const char *
wl_input_type_name(enum wl_input_type t)
{
	return (unsigned int)t < WL_INPUT_MAX ? input_names[t] : "?";
}

int
wl_input_type_parse(const char *name)
{
	unsigned int i;

	for (i = 0; i < WL_INPUT_MAX; i++)
		if (strcmp(name, input_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

void
wl_config_defaults(struct wl_config *c)
{
	memset(c, 0, sizeof(*c));
	wl_strlcpy(c->instance, "default", sizeof(c->instance));
	c->huge = WL_HUGE_AUTO;
	c->memory_mb = 0;       /* sized from the flow tables */
	c->mode = WL_MODE_RTC;
	c->collector_lcore = -1;
	c->burst = 32;
	c->mbufs = 16384;
	c->mbuf_size = 2048;
	c->rxd = 1024;
	c->parser_ring = 4096;
	c->hw_timestamp = 1;
	c->kernel_ring_kb = 32768;
	c->kernel_block_kb = 256;
	c->kernel_block_ms = 2;
	c->max_flows = 65536;
	c->tcp_idle_ms = 300000;
	c->tcp_closed_ms = 10000;
	c->tcp_syn_ms = 30000;
	c->udp_idle_ms = 30000;
	c->dns_timeout_ms = 5000;
	c->ooo_max_segs = 256;         /* six 64 kB segments in 1600-byte slots */
	c->ooo_pool_segs = 8192;
	c->ooo_seg_bytes = 1600;
	c->l7_state_max = 16384;
	c->stall_ms = 200;
	c->dedup_window_us = 1000;
	c->ts_jump_ms = 60000;
	c->reorder_pkts = 32;
	c->reorder_ms = 10;
	c->pending_max = 32768;
	c->unproven_pct = 25;
	c->conn_requests_max = 256;
	c->syn_log = WL_SYN_LOG_PER_SECOND;
	c->conn_analytics = 1;
	c->probe_signatures = 0;
	c->probe_max_bytes = 4096;
	c->txn_ring = 8192;
	c->max_series = 1024;
	c->publish_ms = 100;
	c->lossless = -1;
	c->idle_sleep_us = 100;
	c->status_interval_s = 1;
	c->report = 1;
	wl_strlcpy(c->export_listen, "127.0.0.1:9477",
		sizeof(c->export_listen));
	c->export_buckets = WL_CFG_BUCKETS_LE;
	c->export_stale_s = 10;
	c->n_le[0] = WL_ARRAY_SIZE(le_defaults_s);
	memcpy(c->le[0], le_defaults_s, sizeof(le_defaults_s));
	c->n_le[1] = WL_ARRAY_SIZE(le_defaults_bytes);
	memcpy(c->le[1], le_defaults_bytes, sizeof(le_defaults_bytes));
	c->n_le[2] = WL_ARRAY_SIZE(le_defaults_count);
	memcpy(c->le[2], le_defaults_count, sizeof(le_defaults_count));
}

void
wl_config_rw_defaults(struct wl_cfg_rw *rw)
{
	memset(rw, 0, sizeof(*rw));
	rw->interval_s = 15;
	rw->timeout_s = 10;
	rw->queue_minutes = 10;
	rw->samples_per_request = 5000;
}

/* An error is one line, whatever the file's keys and strings hold. */
static int __attribute__((format(printf, 3, 4)))
err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (i = 0; i < errlen && err[i] != '\0'; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			err[i] = '?';
	return -EINVAL;
}

#define ERR(...) err_set(err, errlen, __VA_ARGS__)

static const char *
json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

static int
get_int(const char *path, const json_t *v, long long min, long long max,
	long long *out, char *err, size_t errlen)
{
	long long x;

	if (!json_is_integer(v))
		return ERR("%s: must be an integer in [%lld, %lld], got %s",
			path, min, max, json_type_name(v));
	x = json_integer_value(v);
	if (x < min || x > max)
		return ERR("%s: must be an integer in [%lld, %lld], got %lld",
			path, min, max, x);
	*out = x;
	return 0;
}

static int
set_lcore_list(const char *path, const json_t *v, unsigned int *ids,
	unsigned int *n, char *err, size_t errlen)
{
	size_t i;
	json_t *e;
	long long x;

	if (!json_is_array(v))
		return ERR("%s: must be an array of lcore ids, got %s", path,
			json_type_name(v));
	if (json_array_size(v) > WL_CFG_MAX_LCORES)
		return ERR("%s: at most %d lcores", path, WL_CFG_MAX_LCORES);
	json_array_foreach(v, i, e) {
		if (get_int(path, e, 0, WL_CFG_MAX_LCORES - 1, &x, err,
				errlen) != 0)
			return -EINVAL;
		ids[i] = (unsigned int)x;
	}
	*n = (unsigned int)json_array_size(v);
	return 0;
}

static int
set_string_into(const char *path, const json_t *v, char *dst, size_t size,
	char *err, size_t errlen)
{
	if (!json_is_string(v))
		return ERR("%s: must be a string, got %s", path,
			json_type_name(v));
	if (json_string_length(v) >= size)
		return ERR("%s: longer than %zu characters", path, size - 1);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return ERR("%s: contains a NUL character", path);
	wl_strlcpy(dst, json_string_value(v), size);
	return 0;
}

static int
set_inputs(struct wl_config *c, const json_t *v, char *err, size_t errlen)
{
	char path[64];
	const char *k;
	json_t *e, *x;
	size_t i;
	long long q;
	int t;

	if (!json_is_array(v))
		return ERR("inputs: must be an array of {\"type\", \"arg\"}, "
			"got %s", json_type_name(v));
	if (json_array_size(v) > WL_CFG_MAX_INPUTS)
		return ERR("inputs: at most %d", WL_CFG_MAX_INPUTS);
	json_array_foreach(v, i, e) {
		struct wl_cfg_input *in = &c->inputs[i];

		snprintf(path, sizeof(path), "inputs[%zu]", i);
		if (!json_is_object(e))
			return ERR("%s: must be an object, got %s", path,
				json_type_name(e));
		memset(in, 0, sizeof(*in));
		in->type = WL_INPUT_MAX;
		json_object_foreach(e, k, x) {
			if (strcmp(k, "type") == 0) {
				if (!json_is_string(x) || (t = wl_input_type_parse(
						json_string_value(x))) < 0)
					return ERR("%s.type: must be one of pcap, "
						"iface, port, vdev", path);
				in->type = (enum wl_input_type)t;
			} else if (strcmp(k, "arg") == 0) {
				snprintf(path, sizeof(path), "inputs[%zu].arg", i);
				if (set_string_into(path, x, in->arg,
						sizeof(in->arg), err, errlen) != 0)
					return -EINVAL;
			} else if (strcmp(k, "rx_queues") == 0) {
				snprintf(path, sizeof(path), "inputs[%zu].rx_queues",
					i);
				if (get_int(path, x, 0, 128, &q, err, errlen))
					return -EINVAL;
				in->rx_queues = (uint16_t)q;
			} else {
				return ERR("inputs[%zu].%s: unknown key (known: "
					"type, arg, rx_queues)", i, k);
			}
		}
		if (in->type == WL_INPUT_MAX || in->arg[0] == '\0')
			return ERR("inputs[%zu]: needs \"type\" and \"arg\"", i);
	}
	c->n_inputs = (unsigned int)json_array_size(v);
	return 0;
}

/* path = sec.k, a key that names a protocol (checked by name later,
 * in wl_config_validate()). */
static int
proto_key(char *path, size_t size, const char *sec, const char *k, char *err,
	size_t errlen)
{
	snprintf(path, size, "%s.%.40s", sec, k);
	if (strlen(k) == 0 || strlen(k) >= WL_CFG_PROTO_NAME)
		return ERR("%s: bad protocol name", path);
	return 0;
}

static int
set_pins(struct wl_config *c, const json_t *v, char *err, size_t errlen)
{
	char path[96];
	const char *k;
	json_t *ports, *p;
	unsigned int n = 0;
	size_t i;
	long long x;

	if (!json_is_object(v))
		return ERR("protocols.ports: must be an object like "
			"{\"http\": [8080]}, got %s", json_type_name(v));
	json_object_foreach((json_t *)v, k, ports) {
		if (proto_key(path, sizeof(path), "protocols.ports", k, err,
				errlen) != 0)
			return -EINVAL;
		if (!json_is_array(ports))
			return ERR("%s: must be an array of ports, got %s", path,
				json_type_name(ports));
		json_array_foreach(ports, i, p) {
			if (get_int(path, p, 1, 65535, &x, err, errlen) != 0)
				return -EINVAL;
			if (n >= WL_CFG_MAX_PINS)
				return ERR("protocols.ports: at most %d pins",
					WL_CFG_MAX_PINS);
			wl_strlcpy(c->pins[n].proto, k, sizeof(c->pins[n].proto));
			c->pins[n++].port = (uint16_t)x;
		}
	}
	c->n_pins = n;
	return 0;
}

static int
set_state_max(struct wl_config *c, const json_t *v, char *err, size_t errlen)
{
	char path[96];
	const char *k;
	json_t *e;
	unsigned int n = 0;
	long long x;

	if (!json_is_object(v))
		return ERR("protocols.state_max: must be an object like "
			"{\"dns\": 250000}, got %s", json_type_name(v));
	json_object_foreach((json_t *)v, k, e) {
		if (proto_key(path, sizeof(path), "protocols.state_max", k,
				err, errlen) != 0)
			return -EINVAL;
		if (get_int(path, e, 1, 1 << 24, &x, err, errlen) != 0)
			return -EINVAL;
		if (n >= WL_CFG_MAX_PINS)
			return ERR("protocols.state_max: at most %d protocols",
				WL_CFG_MAX_PINS);
		wl_strlcpy(c->state_max[n].proto, k,
			sizeof(c->state_max[n].proto));
		c->state_max[n++].n = (uint32_t)x;
	}
	c->n_state_max = n;
	return 0;
}

static int
set_le(struct wl_config *c, unsigned int u, const json_t *v, char *err,
	size_t errlen)
{
	const char *path = le_keys[u];
	double x, prev = 0;
	size_t i;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) == 0 ||
			json_array_size(v) > WL_CFG_MAX_LE)
		return ERR("%s: must be an array of 1 to %d ascending numbers "
			"above 0", path, WL_CFG_MAX_LE);
	json_array_foreach(v, i, e) {
		if (!json_is_number(e))
			return ERR("%s[%zu]: must be a number, got %s", path, i,
				json_type_name(e));
		x = json_number_value(e);
		if (!(x > 0 && x < 1e12) || (i > 0 && !(x > prev)))
			return ERR("%s[%zu]: %g must be above 0, below 1e12 and "
				"above the bound before it", path, i, x);
		c->le[u][i] = x;
		prev = x;
	}
	c->n_le[u] = (unsigned int)json_array_size(v);
	for (i = c->n_le[u]; i < WL_CFG_MAX_LE; i++)
		c->le[u][i] = 0;
	return 0;
}

/* [a-zA-Z_][a-zA-Z0-9_]*, not "__" first (Prometheus reserves it). */
static int
label_name_ok(const char *p)
{
	size_t i;

	if (strncmp(p, "__", 2) == 0)
		return 0;
	for (i = 0; p[i] != '\0'; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' &&
				p[i] <= 'Z') || p[i] == '_' ||
				(i > 0 && p[i] >= '0' && p[i] <= '9')))
			return 0;
	return i > 0;
}

static int
set_labels(const char *path, const json_t *v, struct wl_cfg_label *l,
	unsigned int *n, char *err, size_t errlen)
{
	char p[160];
	const char *k;
	json_t *x;

	if (!json_is_object(v))
		return ERR("%s: must be an object of label names to values, "
			"got %s", path, json_type_name(v));
	if (json_object_size(v) > WL_CFG_MAX_LABELS)
		return ERR("%s: at most %d labels", path, WL_CFG_MAX_LABELS);
	*n = 0;
	json_object_foreach((json_t *)v, k, x) {
		snprintf(p, sizeof(p), "%s.%.60s", path, k);
		if (strlen(k) >= sizeof(l->name) || !label_name_ok(k))
			return ERR("%s: not a label name ([a-zA-Z_][a-zA-Z0-9_]*, "
				"not starting with __)", p);
		memset(&l[*n], 0, sizeof(l[*n]));
		wl_strlcpy(l[*n].name, k, sizeof(l[*n].name));
		if (set_string_into(p, x, l[*n].value, sizeof(l[*n].value),
				err, errlen) != 0)
			return -EINVAL;
		(*n)++;
	}
	return 0;
}

/* One export.remote_write[i] object. */
static int
set_rw(struct wl_cfg_rw *rw, size_t idx, const json_t *v, char *err,
	size_t errlen)
{
	static const struct {
		const char *key;
		size_t off;
		long long min, max;
	} nums[] = {
		{"interval_s", offsetof(struct wl_cfg_rw, interval_s), 1, 86400},
		{"timeout_s", offsetof(struct wl_cfg_rw, timeout_s), 1, 3600},
		{"queue_samples", offsetof(struct wl_cfg_rw, queue_samples), 0,
			1LL << 30},
		{"queue_minutes", offsetof(struct wl_cfg_rw, queue_minutes), 1,
			10080},
		{"samples_per_request", offsetof(struct wl_cfg_rw,
			samples_per_request), 1, 1000000},
	};
	static const struct {
		const char *key;
		size_t off, size;
	} strs[] = {
		{"url", offsetof(struct wl_cfg_rw, url), WL_CFG_PATH},
		{"basic_auth_user", offsetof(struct wl_cfg_rw, basic_auth_user),
			WL_CFG_STR},
		{"basic_auth_password_file", offsetof(struct wl_cfg_rw,
			basic_auth_password_file), WL_CFG_PATH},
		{"bearer_token_file", offsetof(struct wl_cfg_rw,
			bearer_token_file), WL_CFG_PATH},
	};
	char path[96];
	const char *k;
	json_t *x;
	long long n;
	unsigned int i;

	if (!json_is_object(v))
		return ERR("export.remote_write[%zu]: must be an object, got %s",
			idx, json_type_name(v));
	wl_config_rw_defaults(rw);
	json_object_foreach((json_t *)v, k, x) {
		snprintf(path, sizeof(path), "export.remote_write[%zu].%.40s",
			idx, k);
		for (i = 0; i < WL_ARRAY_SIZE(nums); i++)
			if (strcmp(k, nums[i].key) == 0)
				break;
		if (i < WL_ARRAY_SIZE(nums)) {
			if (get_int(path, x, nums[i].min, nums[i].max, &n, err,
					errlen) != 0)
				return -EINVAL;
			*(uint32_t *)((char *)rw + nums[i].off) = (uint32_t)n;
			continue;
		}
		for (i = 0; i < WL_ARRAY_SIZE(strs); i++)
			if (strcmp(k, strs[i].key) == 0)
				break;
		if (i < WL_ARRAY_SIZE(strs)) {
			if (set_string_into(path, x, (char *)rw + strs[i].off,
					strs[i].size, err, errlen) != 0)
				return -EINVAL;
			continue;
		}
		if (strcmp(k, "labels") == 0) {
			if (set_labels(path, x, rw->labels, &rw->n_labels, err,
					errlen) != 0)
				return -EINVAL;
			continue;
		}
		return ERR("%s: unknown key (known: url, interval_s, timeout_s, "
			"queue_samples, queue_minutes, samples_per_request, "
			"basic_auth_user, basic_auth_password_file, "
			"bearer_token_file, labels)", path);
	}
	if (rw->url[0] == '\0')
		return ERR("export.remote_write[%zu]: needs \"url\"", idx);
	return 0;
}

static int
set_export_special(struct wl_config *c, const char *path, const json_t *v,
	char *err, size_t errlen)
{
	unsigned int u;
	size_t i;
	json_t *e;

	for (u = 0; u < 3; u++)
		if (strcmp(path, le_keys[u]) == 0)
			return set_le(c, u, v, err, errlen);
	if (!json_is_array(v))
		return ERR("%s: must be an array, got %s", path,
			json_type_name(v));
	if (strcmp(path, "export.instances") == 0) {
		if (json_array_size(v) > WL_CFG_MAX_EXPORT_INSTANCES)
			return ERR("%s: at most %d instances", path,
				WL_CFG_MAX_EXPORT_INSTANCES);
		memset(c->export_instances, 0, sizeof(c->export_instances));
		json_array_foreach(v, i, e)
			if (set_string_into(path, e, c->export_instances[i],
					sizeof(c->export_instances[i]), err,
					errlen) != 0)
				return -EINVAL;
		c->n_export_instances = (unsigned int)json_array_size(v);
		return 0;
	}
	/* export.remote_write */
	if (json_array_size(v) > WL_CFG_MAX_RW)
		return ERR("%s: at most %d receivers", path, WL_CFG_MAX_RW);
	memset(c->rw, 0, sizeof(c->rw));
	json_array_foreach(v, i, e)
		if (set_rw(&c->rw[i], i, e, err, errlen) != 0)
			return -EINVAL;
	c->n_rw = (unsigned int)json_array_size(v);
	return 0;
}

static int
set_special(struct wl_config *c, const char *path, const json_t *v,
	char *err, size_t errlen)
{
	size_t i;
	json_t *e;
	long long x;

	if (strncmp(path, "export.", 7) == 0)
		return set_export_special(c, path, v, err, errlen);

	if (strcmp(path, "inputs") == 0)
		return set_inputs(c, v, err, errlen);
	if (strcmp(path, "cores.rx") == 0)
		return set_lcore_list(path, v, c->rx_lcores, &c->n_rx, err,
			errlen);
	if (strcmp(path, "cores.parsers") == 0)
		return set_lcore_list(path, v, c->parser_lcores,
			&c->n_parsers, err, errlen);
	if (strcmp(path, "protocols.ports") == 0)
		return set_pins(c, v, err, errlen);
	if (strcmp(path, "protocols.state_max") == 0)
		return set_state_max(c, v, err, errlen);
	if (!json_is_array(v))
		return ERR("%s: must be an array, got %s", path,
			json_type_name(v));
	if (strcmp(path, "eal.args") == 0) {
		if (json_array_size(v) > WL_CFG_MAX_EAL_ARGS)
			return ERR("%s: at most %d arguments", path,
				WL_CFG_MAX_EAL_ARGS);
		json_array_foreach(v, i, e)
			if (set_string_into(path, e, c->eal_args[i],
					sizeof(c->eal_args[i]), err, errlen))
				return -EINVAL;
		c->n_eal_args = (unsigned int)json_array_size(v);
		return 0;
	}
	if (strcmp(path, "protocols.server_ports") == 0) {
		if (json_array_size(v) > WL_CFG_MAX_SERVER_PORTS)
			return ERR("%s: at most %d ports", path,
				WL_CFG_MAX_SERVER_PORTS);
		json_array_foreach(v, i, e) {
			if (get_int(path, e, 1, 65535, &x, err, errlen) != 0)
				return -EINVAL;
			c->server_ports[i] = (uint16_t)x;
		}
		c->n_server_ports = (unsigned int)json_array_size(v);
		return 0;
	}
	/* protocols.disabled */
	if (json_array_size(v) > WL_CFG_MAX_PINS)
		return ERR("%s: at most %d names", path, WL_CFG_MAX_PINS);
	json_array_foreach(v, i, e)
		if (set_string_into(path, e, c->disabled[i],
				sizeof(c->disabled[i]), err, errlen) != 0)
			return -EINVAL;
	c->n_disabled = (unsigned int)json_array_size(v);
	return 0;
}

static int
set_key(struct wl_config *c, const struct cfg_key *k, const json_t *v,
	char *err, size_t errlen)
{
	char *base = (char *)c + k->off;
	long long x;
	unsigned int i;

	switch (k->type) {
	case T_U32:
	case T_POW2:
		if (get_int(k->path, v, k->min, k->max, &x, err, errlen) != 0)
			return -EINVAL;
		if (k->type == T_POW2 && (x & (x - 1)) != 0)
			return ERR("%s: must be a power of two in [%lld, %lld], "
				"got %lld", k->path, k->min, k->max, x);
		*(uint32_t *)base = (uint32_t)x;
		return 0;
	case T_INT:
		if (get_int(k->path, v, k->min, k->max, &x, err, errlen) != 0)
			return -EINVAL;
		*(int *)base = (int)x;
		return 0;
	case T_BOOL:
		if (!json_is_boolean(v))
			return ERR("%s: must be true or false, got %s", k->path,
				json_type_name(v));
		*(int *)base = json_is_true(v);
		return 0;
	case T_TRI:
		if (json_is_boolean(v)) {
			*(int *)base = json_is_true(v);
			return 0;
		}
		if (json_is_string(v) &&
				strcmp(json_string_value(v), "auto") == 0) {
			*(int *)base = -1;
			return 0;
		}
		return ERR("%s: must be \"auto\", true or false", k->path);
	case T_STR:
		return set_string_into(k->path, v, base, k->size, err, errlen);
	case T_ENUM:
		if (json_is_string(v))
			for (i = 0; k->names[i] != NULL; i++)
				if (strcmp(json_string_value(v), k->names[i]) == 0) {
					*(int *)base = (int)i;
					return 0;
				}
		if (k->names[2] == NULL)
			return ERR("%s: must be \"%s\" or \"%s\"", k->path,
				k->names[0], k->names[1]);
		return ERR("%s: must be \"%s\", \"%s\" or \"%s\"", k->path,
			k->names[0], k->names[1], k->names[2]);
	case T_SPECIAL:
		return set_special(c, k->path, v, err, errlen);
	}
	return -EINVAL;
}

/* Is path a section holding keys ("flow" for "flow.max_flows")? */
static int
is_section(const char *path)
{
	size_t n = strlen(path);
	unsigned int i;

	for (i = 0; i < WL_ARRAY_SIZE(keys); i++)
		if (strncmp(keys[i].path, path, n) == 0 &&
				keys[i].path[n] == '.')
			return 1;
	return 0;
}

static int
apply_obj(struct wl_config *c, const json_t *obj, const char *prefix,
	char *err, size_t errlen)
{
	char path[128];
	const char *k;
	json_t *v;
	unsigned int i;

	json_object_foreach((json_t *)obj, k, v) {
		if (snprintf(path, sizeof(path), "%s%s%s", prefix,
				prefix[0] ? "." : "", k) >= (int)sizeof(path))
			return ERR("%.60s...: unknown key", path);
		for (i = 0; i < WL_ARRAY_SIZE(keys); i++)
			if (strcmp(keys[i].path, path) == 0)
				break;
		if (i < WL_ARRAY_SIZE(keys)) {
			if (set_key(c, &keys[i], v, err, errlen) != 0)
				return -EINVAL;
		} else if (is_section(path)) {
			if (!json_is_object(v))
				return ERR("%s: must be an object, got %s",
					path, json_type_name(v));
			if (apply_obj(c, v, path, err, errlen) != 0)
				return -EINVAL;
		} else {
			return ERR("%s: unknown key (see `wirelat config` and "
				"docs/config.md)", path);
		}
	}
	return 0;
}

int
wl_config_apply_json(struct wl_config *c, const json_t *root, char *err,
	size_t errlen)
{
	if (!json_is_object(root))
		return ERR("configuration must be a JSON object, got %s",
			json_type_name(root));
	return apply_obj(c, root, "", err, errlen);
}

int
wl_config_load_file(struct wl_config *c, const char *path, char *err,
	size_t errlen)
{
	json_error_t je;
	json_t *root;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (f == NULL) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret == -ENOENT ? -ENOENT : -EIO;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (root == NULL) {
		snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column,
			je.text);
		return -EINVAL;
	}
	ret = wl_config_apply_json(c, root, err, errlen);
	if (ret != 0) {
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		wl_strlcpy(err, tmp, errlen);
	}
	json_decref(root);
	return ret;
}

static int
lcore_listed(const unsigned int *ids, unsigned int n, unsigned int id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static int
proto_known(const char *const *protos, const char *name)
{
	for (; protos != NULL && *protos != NULL; protos++)
		if (strcmp(*protos, name) == 0)
			return 1;
	return protos == NULL;
}

int
wl_config_validate(const struct wl_config *c, const char *const *protos,
	char *err, size_t errlen)
{
	unsigned int i, j;

	if (!wl_instance_name_ok(c->instance))
		return ERR("instance: \"%s\" must be 1 to %d of [A-Za-z0-9_.-]",
			c->instance, WL_INSTANCE_LEN - 1);
	if (c->shm_group[0] != '\0' && getgrnam(c->shm_group) == NULL)
		return ERR("collector.shm_group: no group \"%s\"",
			c->shm_group);
	if (c->memory_mb != 0 && c->memory_mb < 64)
		return ERR("eal.memory_mb: %u is below 64 (0: sized from the "
			"flow tables)", c->memory_mb);
	if (c->n_inputs == 0)
		return ERR("no input: give --pcap, --iface, --port or --vdev "
			"(or \"inputs\" in the config)");
	for (i = 0; i < c->n_rx; i++)
		for (j = i + 1; j < c->n_rx; j++)
			if (c->rx_lcores[i] == c->rx_lcores[j])
				return ERR("cores.rx: lcore %u listed twice",
					c->rx_lcores[i]);
	for (i = 0; i < c->n_parsers; i++) {
		for (j = i + 1; j < c->n_parsers; j++)
			if (c->parser_lcores[i] == c->parser_lcores[j])
				return ERR("cores.parsers: lcore %u listed "
					"twice", c->parser_lcores[i]);
		if (lcore_listed(c->rx_lcores, c->n_rx, c->parser_lcores[i]))
			return ERR("cores.parsers: lcore %u is also an RX "
				"lcore", c->parser_lcores[i]);
	}
	if (c->kernel_block_kb % 4 != 0 ||
			c->kernel_ring_kb % c->kernel_block_kb != 0)
		return ERR("rx.kernel_ring_kb (%u) must be a multiple of "
			"rx.kernel_block_kb (%u), itself a multiple of 4",
			c->kernel_ring_kb, c->kernel_block_kb);
	if (c->mode == WL_MODE_RTC && c->n_parsers > 0)
		return ERR("cores.parsers: only with cores.mode \"pipeline\" "
			"(in rtc every RX lcore parses)");
	if (c->collector_lcore >= 0 &&
			(lcore_listed(c->rx_lcores, c->n_rx,
				(unsigned int)c->collector_lcore) ||
			 lcore_listed(c->parser_lcores, c->n_parsers,
				(unsigned int)c->collector_lcore)))
		return ERR("cores.collector: lcore %d already has a role",
			c->collector_lcore);
	for (i = 0; i < c->n_pins; i++) {
		if (!proto_known(protos, c->pins[i].proto))
			return ERR("protocols.ports.%s: unknown protocol",
				c->pins[i].proto);
		for (j = 0; j < i; j++)
			if (c->pins[j].port == c->pins[i].port &&
					strcmp(c->pins[j].proto,
						c->pins[i].proto) != 0)
				return ERR("protocols.ports: port %u pinned to "
					"both %s and %s", c->pins[i].port,
					c->pins[j].proto, c->pins[i].proto);
	}
	for (i = 0; i < c->n_disabled; i++)
		if (!proto_known(protos, c->disabled[i]))
			return ERR("protocols.disabled: unknown protocol \"%s\"",
				c->disabled[i]);
	for (i = 0; i < c->n_state_max; i++)
		if (!proto_known(protos, c->state_max[i].proto))
			return ERR("protocols.state_max.%s: unknown protocol",
				c->state_max[i].proto);
	if (c->ooo_max_segs > c->ooo_pool_segs)
		return ERR("flow.ooo_max_segs: %u is more than "
			"flow.ooo_pool_segs (%u)", c->ooo_max_segs,
			c->ooo_pool_segs);
	if (c->burst > c->mbufs / 4)
		return ERR("rx.burst: %u is too large for rx.mbufs %u",
			c->burst, c->mbufs);
	return 0;
}

/* "ADDR:PORT" or "[ADDR6]:PORT" with a port in 1..65535. */
static int
listen_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (colon == NULL || colon == s)
		return 0;
	if (s[0] == '[' && colon[-1] != ']')
		return 0;
	port = strtol(colon + 1, &end, 10);
	return *end == '\0' && colon[1] != '\0' && port >= 1 && port <= 65535;
}

int
wl_config_validate_export(const struct wl_config *c, char *err,
	size_t errlen)
{
	unsigned int i, j;

	if (c->export_listen[0] != '\0' && !listen_ok(c->export_listen))
		return ERR("export.listen: \"%s\" must be ADDR:PORT "
			"(127.0.0.1:9477, [::1]:9477) or \"\" (no endpoint)",
			c->export_listen);
	for (i = 0; i < c->n_export_instances; i++) {
		if (!wl_instance_name_ok(c->export_instances[i]))
			return ERR("export.instances[%u]: \"%s\" must be 1 to "
				"%d of [A-Za-z0-9_.-]", i,
				c->export_instances[i], WL_INSTANCE_LEN - 1);
		for (j = 0; j < i; j++)
			if (strcmp(c->export_instances[i],
					c->export_instances[j]) == 0)
				return ERR("export.instances: \"%s\" listed "
					"twice", c->export_instances[i]);
	}
	if (c->n_export_instances == 0 && !wl_instance_name_ok(c->instance))
		return ERR("instance: \"%s\" must be 1 to %d of "
			"[A-Za-z0-9_.-]", c->instance, WL_INSTANCE_LEN - 1);
	for (i = 0; i < c->n_rw; i++) {
		const struct wl_cfg_rw *rw = &c->rw[i];

		if (strncmp(rw->url, "http://", 7) != 0 &&
				strncmp(rw->url, "https://", 8) != 0)
			return ERR("export.remote_write[%u].url: \"%s\" must "
				"start with http:// or https://", i, rw->url);
		if (rw->bearer_token_file[0] != '\0' &&
				(rw->basic_auth_user[0] != '\0' ||
				rw->basic_auth_password_file[0] != '\0'))
			return ERR("export.remote_write[%u]: basic auth and a "
				"bearer token exclude each other", i);
		if ((rw->basic_auth_user[0] != '\0') !=
				(rw->basic_auth_password_file[0] != '\0'))
			return ERR("export.remote_write[%u]: basic_auth_user "
				"and basic_auth_password_file go together", i);
		if (rw->timeout_s > rw->interval_s * 10)
			return ERR("export.remote_write[%u].timeout_s: %u is "
				"more than 10 intervals (%u s)", i,
				rw->timeout_s, rw->interval_s * 10);
		for (j = 0; j < i; j++)
			if (strcmp(c->rw[j].url, rw->url) == 0)
				return ERR("export.remote_write[%u].url: \"%s\" "
					"listed twice", i, rw->url);
	}
	return 0;
}

static json_t *
section(json_t *root, const char *path, const char **leaf)
{
	char name[64];
	const char *dot;
	json_t *o = root, *sub;

	while ((dot = strchr(path, '.')) != NULL) {
		wl_strncpy_buf(name, sizeof(name), path, (size_t)(dot - path));
		sub = json_object_get(o, name);
		if (sub == NULL) {
			sub = json_object();
			json_object_set_new(o, name, sub);
		}
		o = sub;
		path = dot + 1;
	}
	*leaf = path;
	return o;
}

static json_t *
export_json(const struct wl_config *c, const char *path)
{
	json_t *a = json_array(), *o, *l;
	unsigned int i, u, k;

	for (u = 0; u < 3; u++)
		if (strcmp(path, le_keys[u]) == 0) {
			for (i = 0; i < c->n_le[u]; i++)
				json_array_append_new(a, json_real(c->le[u][i]));
			return a;
		}
	if (strcmp(path, "export.instances") == 0) {
		for (i = 0; i < c->n_export_instances; i++)
			json_array_append_new(a,
				json_string(c->export_instances[i]));
		return a;
	}
	for (i = 0; i < c->n_rw; i++) {
		const struct wl_cfg_rw *rw = &c->rw[i];

		o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:s}",
			"url", rw->url,
			"interval_s", (int)rw->interval_s,
			"timeout_s", (int)rw->timeout_s,
			"queue_samples", (int)rw->queue_samples,
			"queue_minutes", (int)rw->queue_minutes,
			"samples_per_request", (int)rw->samples_per_request,
			"basic_auth_user", rw->basic_auth_user,
			"basic_auth_password_file",
			rw->basic_auth_password_file,
			"bearer_token_file", rw->bearer_token_file);
		l = json_object();
		for (k = 0; k < rw->n_labels; k++)
			json_object_set_new(l, rw->labels[k].name,
				json_string(rw->labels[k].value));
		json_object_set_new(o, "labels", l);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
special_json(const struct wl_config *c, const char *path)
{
	json_t *a;
	unsigned int i;

	if (strncmp(path, "export.", 7) == 0)
		return export_json(c, path);

	if (strcmp(path, "inputs") == 0) {
		a = json_array();
		for (i = 0; i < c->n_inputs; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:i}",
				"type", wl_input_type_name(c->inputs[i].type),
				"arg", c->inputs[i].arg,
				"rx_queues", (int)c->inputs[i].rx_queues));
		return a;
	}
	if (strcmp(path, "protocols.state_max") == 0) {
		a = json_object();
		for (i = 0; i < c->n_state_max; i++)
			json_object_set_new(a, c->state_max[i].proto,
				json_integer(c->state_max[i].n));
		return a;
	}
	if (strcmp(path, "protocols.ports") == 0) {
		a = json_object();
		for (i = 0; i < c->n_pins; i++) {
			json_t *l = json_object_get(a, c->pins[i].proto);

			if (l == NULL) {
				l = json_array();
				json_object_set_new(a, c->pins[i].proto, l);
			}
			json_array_append_new(l, json_integer(c->pins[i].port));
		}
		return a;
	}
	a = json_array();
	if (strcmp(path, "eal.args") == 0)
		for (i = 0; i < c->n_eal_args; i++)
			json_array_append_new(a, json_string(c->eal_args[i]));
	else if (strcmp(path, "cores.rx") == 0)
		for (i = 0; i < c->n_rx; i++)
			json_array_append_new(a, json_integer(c->rx_lcores[i]));
	else if (strcmp(path, "cores.parsers") == 0)
		for (i = 0; i < c->n_parsers; i++)
			json_array_append_new(a,
				json_integer(c->parser_lcores[i]));
	else if (strcmp(path, "protocols.server_ports") == 0)
		for (i = 0; i < c->n_server_ports; i++)
			json_array_append_new(a,
				json_integer(c->server_ports[i]));
	else
		for (i = 0; i < c->n_disabled; i++)
			json_array_append_new(a, json_string(c->disabled[i]));
	return a;
}

json_t *
wl_config_to_json(const struct wl_config *c)
{
	json_t *root = json_object(), *o, *v = NULL;
	const char *leaf;
	unsigned int i;

	for (i = 0; i < WL_ARRAY_SIZE(keys); i++) {
		const struct cfg_key *k = &keys[i];
		const char *base = (const char *)c + k->off;

		o = section(root, k->path, &leaf);
		switch (k->type) {
		case T_U32:
		case T_POW2:
			v = json_integer(*(const uint32_t *)base);
			break;
		case T_INT:
			v = json_integer(*(const int *)base);
			break;
		case T_BOOL:
			v = json_boolean(*(const int *)base);
			break;
		case T_TRI:
			v = *(const int *)base < 0 ? json_string("auto") :
				json_boolean(*(const int *)base);
			break;
		case T_STR:
			v = json_string(base);
			break;
		case T_ENUM:
			v = json_string(k->names[*(const int *)base]);
			break;
		case T_SPECIAL:
			v = special_json(c, k->path);
			break;
		}
		json_object_set_new(o, leaf, v);
	}
	return root;
}
