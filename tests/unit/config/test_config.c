/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wl_config.h"

static const char *const protos[] = {"tcp", "http", "redis", "dns", "mysql",
	NULL};

static int
apply(struct wl_config *c, const char *text, char *err, size_t len)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	int ret;

	assert_non_null(j);
	ret = wl_config_apply_json(c, j, err, len);
	json_decref(j);
	return ret;
}

static void
test_defaults_roundtrip(void **state)
{
	struct wl_config a, b;
	char err[256] = "";
	json_t *j;

	(void)state;
	wl_config_defaults(&a);
	assert_string_equal(a.instance, "default");
	/* Printing then applying the output gives the same config back. */
	j = wl_config_to_json(&a);
	assert_non_null(j);
	wl_config_defaults(&b);
	memset(&b, 0x5a, sizeof(b));
	wl_config_defaults(&b);
	b.max_flows = 7;
	assert_int_equal(wl_config_apply_json(&b, j, err, sizeof(err)), 0);
	assert_int_equal(b.max_flows, a.max_flows);
	assert_memory_equal(&a, &b, sizeof(a));
	json_decref(j);
}

static void
test_every_key_roundtrips(void **state)
{
	static const char *text =
		"{\"instance\": \"edge-1\","
		" \"eal\": {\"lcores\": \"0-3\", \"huge\": \"off\","
		"  \"memory_mb\": 1024, \"file_prefix\": \"x\","
		"  \"args\": [\"--log-level=8\"]},"
		" \"inputs\": [{\"type\": \"pcap\", \"arg\": \"a.pcap\"},"
		"  {\"type\": \"port\", \"arg\": \"0000:3b:00.0\", \"rx_queues\": 4}],"
		" \"cores\": {\"mode\": \"pipeline\", \"rx\": [1], \"parsers\": [2, 3],"
		"  \"collector\": -1},"
		" \"rx\": {\"burst\": 64, \"parser_ring\": 1024, \"sw_hash\": true},"
		" \"flow\": {\"max_flows\": 1000, \"ooo_max_segs\": 4},"
		" \"protocols\": {\"ports\": {\"http\": [8080, 8888], \"redis\": [6380]},"
		"  \"server_ports\": [9000], \"disabled\": [\"redis\"],"
		"  \"state_max\": {\"dns\": 250000, \"mysql\": 100}},"
		" \"collector\": {\"lossless\": true, \"max_series\": 50},"
		" \"output\": {\"log\": \"-\", \"connections\": \"c.jsonl\","
		"  \"report\": false}}";
	struct wl_config c, d;
	char err[256] = "";
	json_t *j;

	(void)state;
	wl_config_defaults(&c);
	assert_int_equal(apply(&c, text, err, sizeof(err)), 0);
	assert_string_equal(c.instance, "edge-1");
	assert_int_equal(c.huge, WL_HUGE_OFF);
	assert_int_equal(c.n_eal_args, 1);
	assert_int_equal(c.n_inputs, 2);
	assert_int_equal(c.inputs[1].type, WL_INPUT_PORT);
	assert_int_equal(c.inputs[1].rx_queues, 4);
	assert_int_equal(c.mode, WL_MODE_PIPELINE);
	assert_int_equal(c.n_parsers, 2);
	assert_int_equal(c.parser_lcores[1], 3);
	assert_int_equal(c.burst, 64);
	assert_int_equal(c.sw_hash, 1);
	assert_int_equal(c.n_pins, 3);
	assert_string_equal(c.pins[2].proto, "redis");
	assert_int_equal(c.pins[2].port, 6380);
	assert_int_equal(c.n_state_max, 2);
	assert_string_equal(c.state_max[0].proto, "dns");
	assert_int_equal(c.state_max[0].n, 250000);
	assert_int_equal(c.lossless, 1);
	assert_string_equal(c.conn_path, "c.jsonl");
	assert_int_equal(c.report, 0);
	assert_int_equal(wl_config_validate(&c, protos, err, sizeof(err)), 0);
	j = wl_config_to_json(&c);
	wl_config_defaults(&d);
	assert_int_equal(wl_config_apply_json(&d, j, err, sizeof(err)), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	json_decref(j);
}

/* Every rejection names the key path in one line. */
static void
test_errors_name_the_key(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"{\"flow\": {\"max_flow\": 3}}", "flow.max_flow: unknown key"},
		{"{\"bogus\": 1}", "bogus: unknown key"},
		{"{\"flow\": {\"max_flows\": 0}}", "flow.max_flows: must be an integer in [1, 16777216], got 0"},
		{"{\"flow\": {\"max_flows\": \"10\"}}", "flow.max_flows: must be an integer"},
		{"{\"flow\": 3}", "flow: must be an object"},
		{"{\"rx\": {\"parser_ring\": 1000}}", "rx.parser_ring: must be a power of two"},
		{"{\"rx\": {\"sw_hash\": 1}}", "rx.sw_hash: must be true or false"},
		{"{\"eal\": {\"huge\": \"maybe\"}}", "eal.huge: must be \"auto\", \"on\" or \"off\""},
		{"{\"cores\": {\"mode\": \"x\"}}", "cores.mode: must be \"rtc\" or \"pipeline\""},
		{"{\"inputs\": [{\"type\": \"tape\", \"arg\": \"x\"}]}", "inputs[0].type: must be one of"},
		{"{\"inputs\": [{\"type\": \"pcap\"}]}", "inputs[0]: needs \"type\" and \"arg\""},
		{"{\"inputs\": [{\"type\": \"pcap\", \"arg\": \"x\", \"speed\": 1}]}", "inputs[0].speed: unknown key"},
		{"{\"protocols\": {\"ports\": {\"http\": [0]}}}", "protocols.ports.http: must be an integer in [1, 65535]"},
		{"{\"protocols\": {\"ports\": {\"http\": 80}}}", "protocols.ports.http: must be an array"},
		{"{\"protocols\": {\"state_max\": {\"dns\": 0}}}", "protocols.state_max.dns: must be an integer in [1, 16777216]"},
		{"{\"protocols\": {\"state_max\": [1]}}", "protocols.state_max: must be an object"},
		{"{\"cores\": {\"rx\": [1, 99]}}", "cores.rx: must be an integer in [0, 63], got 99"},
		{"{\"collector\": {\"lossless\": \"yes\"}}", "collector.lossless: must be \"auto\", true or false"},
		{"{\"instance\": 5}", "instance: must be a string"},
		{"[1]", "configuration must be a JSON object"},
		/* a key of the file is quoted in one line */
		{"{\"export\": {\"le_sec\\nds\": [1]}}", "export.le_sec?ds: unknown key"},
		{"{\"flow\\r\": 1}", "flow?: unknown key"},
	};
	struct wl_config c;
	char err[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wl_config_defaults(&c);
		err[0] = '\0';
		assert_int_equal(apply(&c, cases[i].text, err, sizeof(err)),
			-EINVAL);
		if (strstr(err, cases[i].want) != err)
			fail_msg("%s: got \"%s\", want prefix \"%s\"",
				cases[i].text, err, cases[i].want);
		assert_null(strchr(err, '\n'));
	}
}

static void
test_validate(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"{}", "no input"},
		{"{\"instance\": \"a/b\"}", "instance:"},
		{"{\"protocols\": {\"ports\": {\"gopher\": [70]}}}", "protocols.ports.gopher: unknown protocol"},
		{"{\"protocols\": {\"ports\": {\"http\": [70], \"redis\": [70]}}}", "protocols.ports: port 70 pinned to both"},
		{"{\"protocols\": {\"disabled\": [\"nope\"]}}", "protocols.disabled: unknown protocol"},
		{"{\"protocols\": {\"state_max\": {\"nope\": 5}}}", "protocols.state_max.nope: unknown protocol"},
		{"{\"cores\": {\"rx\": [1, 1]}}", "cores.rx: lcore 1 listed twice"},
		{"{\"cores\": {\"parsers\": [2]}}", "cores.parsers: only with"},
		{"{\"cores\": {\"mode\": \"pipeline\", \"rx\": [1], \"parsers\": [1]}}", "cores.parsers: lcore 1 is also"},
		{"{\"flow\": {\"ooo_max_segs\": 100, \"ooo_pool_segs\": 10}}", "flow.ooo_max_segs"},
	};
	struct wl_config c;
	char err[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wl_config_defaults(&c);
		assert_int_equal(apply(&c, cases[i].text, err, sizeof(err)), 0);
		if (i > 0) {
			c.n_inputs = 1;
			c.inputs[0].type = WL_INPUT_PCAP;
		}
		err[0] = '\0';
		assert_int_equal(wl_config_validate(&c, protos, err,
			sizeof(err)), -EINVAL);
		if (strstr(err, cases[i].want) != err)
			fail_msg("%s: got \"%s\", want prefix \"%s\"",
				cases[i].text, err, cases[i].want);
	}
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/wl-config-XXXXXX", err[512];
	struct wl_config c;
	FILE *f;
	int fd;

	(void)state;
	wl_config_defaults(&c);
	assert_int_equal(wl_config_load_file(&c, "/nonexistent/x.json", err,
		sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.json"));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("{\"flow\": {\"max_flows\": 5,}}", f);
	fclose(f);
	assert_int_equal(wl_config_load_file(&c, path, err, sizeof(err)),
		-EINVAL);
	/* JSON syntax errors give file:line:column. */
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_non_null(strstr(err, ":1:"));
	f = fopen(path, "w");
	fputs("{\"flow\": {\"max_flows\": 5, \"max_flows\": 6}}", f);
	fclose(f);
	assert_int_equal(wl_config_load_file(&c, path, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "duplicate"));
	f = fopen(path, "w");
	fputs("{\"flow\": {\"max_flows\": 5}}", f);
	fclose(f);
	assert_int_equal(wl_config_load_file(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.max_flows, 5);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_roundtrip),
		cmocka_unit_test(test_every_key_roundtrips),
		cmocka_unit_test(test_errors_name_the_key),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
