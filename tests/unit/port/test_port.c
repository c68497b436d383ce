/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Port set-up on real DPDK vdevs (no NIC here): per-driver settings,
 * queue/RSS refusal, TSC fallback on net_null, and net_pcap's file
 * timestamps read through the RX timestamp dynfield.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "wl_eal.h"
#include "wl_port.h"
#include "wl_test_eal.h"

static char drivers[1024];
static struct rte_mempool *mp;

static int
setup(void **state)
{
	const char *src = getenv("WL_SRC");

	(void)state;
	assert_int_equal(wl_test_eal_init(), 0);
	snprintf(drivers, sizeof(drivers), "%s/drivers-config",
		src != NULL ? src : "..");
	if (mp == NULL)
		mp = rte_pktmbuf_pool_create("wl_port_test", 1023, 0, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	assert_non_null(mp);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_driver_conf(void **state)
{
	struct wl_driver_conf dc;
	char dir[] = "/tmp/wl-drivers-XXXXXX", path[256], err[512];

	(void)state;
	assert_int_equal(wl_driver_conf_load(drivers, "net_pcap", &dc, err,
		sizeof(err)), 0);
	assert_int_equal(dc.ts_source, WL_TS_PCAP);
	assert_int_equal(dc.ts_unit_ns, 1000);
	assert_true(dc.offline);
	assert_int_equal(dc.idle_exit_ms, 500);
	/* A driver without a file gets default.json: calibrated hw. */
	assert_int_equal(wl_driver_conf_load(drivers, "net_nosuch", &dc, err,
		sizeof(err)), 0);
	assert_string_equal(dc.driver, "net_nosuch");
	assert_int_equal(dc.ts_source, WL_TS_HW);
	assert_true(dc.ts_calibrate);
	assert_false(dc.offline);

	assert_non_null(mkdtemp(dir));
	/* No file at all: built-in defaults. */
	assert_int_equal(wl_driver_conf_load(dir, "net_x", &dc, err,
		sizeof(err)), 0);
	assert_int_equal(dc.ts_source, WL_TS_HW);
	/* Broken files are errors that name the file. */
	snprintf(path, sizeof(path), "%s/net_x.json", dir);
	write_file(path, "{\"rss_key_len\": 40,");
	assert_int_equal(wl_driver_conf_load(dir, "net_x", &dc, err,
		sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path));
	write_file(path, "{\"timestamp\": {\"source\": \"gps\"}}");
	assert_int_equal(wl_driver_conf_load(dir, "net_x", &dc, err,
		sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "timestamp.source"));
	unlink(path);
	rmdir(dir);
}

static uint16_t
vdev_port(const char *name, const char *args)
{
	uint16_t pid;

	/* Hot-plug through the EAL: no link to the vdev bus library. */
	assert_int_equal(rte_eal_hotplug_add("vdev", name,
		args != NULL ? args : ""), 0);
	assert_int_equal(rte_eth_dev_get_port_by_name(name, &pid), 0);
	return pid;
}

static void
test_null_port(void **state)
{
	struct rte_mbuf *m[32];
	struct wl_port p;
	char err[512];
	uint16_t n, i;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.port_id = vdev_port("net_null_t0", NULL);
	/* Two queues without the NIC hash: refused, naming the port. */
	assert_int_equal(wl_port_setup(&p, 2, 256, mp, 1, 1, drivers, err,
		sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "net_null_t0"));
	memset(&p, 0, sizeof(p));
	p.port_id = vdev_port("net_null_t1", NULL);
	assert_int_equal(wl_port_setup(&p, 1, 256, mp, 1, 0, drivers, err,
		sizeof(err)), 0);
	assert_string_equal(p.driver, "net_null");
	assert_int_equal(p.nb_rxq, 1);
	/* No timestamps to offer: TSC at RX, and no dynfield read. */
	assert_int_equal(p.ts_source, WL_TS_TSC);
	assert_int_equal(p.ts_dynfield, -1);
	n = rte_eth_rx_burst(p.port_id, 0, m, 32);
	assert_true(n > 0);
	for (i = 0; i < n; i++)
		assert_int_equal(wl_port_rx_ts(&p, m[i]), 0);
	rte_pktmbuf_free_bulk(m, n);
	wl_port_close(&p);
}

/* A classic µs pcap of three 60-byte frames at known times. */
static void
write_pcap(const char *path)
{
	static const uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0,
		65535, 1 };
	uint8_t frame[60];
	uint32_t rec[4];
	FILE *f = fopen(path, "wb");
	unsigned int i;

	assert_non_null(f);
	fwrite(hdr, sizeof(hdr), 1, f);
	memset(frame, 0, sizeof(frame));
	frame[12] = 0x08;       /* IPv4 ethertype, no IP header: not parsed */
	for (i = 0; i < 3; i++) {
		rec[0] = 1700000000 + i;
		rec[1] = 123456 + i;
		rec[2] = rec[3] = sizeof(frame);
		fwrite(rec, sizeof(rec), 1, f);
		fwrite(frame, sizeof(frame), 1, f);
	}
	fclose(f);
}

static void
test_pcap_port(void **state)
{
	char path[] = "/tmp/wl-port-XXXXXX", args[128], err[512];
	struct rte_mbuf *m[8];
	struct wl_port p;
	unsigned int got = 0, tries;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_pcap(path);
	snprintf(args, sizeof(args), "rx_pcap=%s", path);
	memset(&p, 0, sizeof(p));
	p.port_id = vdev_port("net_pcap_t0", args);
	assert_int_equal(wl_port_setup(&p, 1, 256, mp, 1, 0, drivers, err,
		sizeof(err)), 0);
	/* net_pcap fills the dynfield from the file, in µs. */
	assert_int_equal(p.ts_source, WL_TS_PCAP);
	assert_true(p.ts_dynfield >= 0);
	assert_true(p.dconf.offline);
	for (tries = 0; got < 3 && tries < 1000; tries++) {
		uint16_t n = rte_eth_rx_burst(p.port_id, 0, m, 8), i;

		for (i = 0; i < n; i++, got++) {
			assert_true(got < 3);
			assert_int_equal(wl_port_rx_ts(&p, m[i]),
				(1700000000ULL + got) * 1000000000ULL +
				(123456ULL + got) * 1000ULL);
		}
		rte_pktmbuf_free_bulk(m, n);
	}
	assert_int_equal(got, 3);
	/* ... and without hw_timestamp the dynfield is not trusted. */
	wl_port_close(&p);
	memset(&p, 0, sizeof(p));
	p.port_id = vdev_port("net_pcap_t1", args);
	assert_int_equal(wl_port_setup(&p, 1, 256, mp, 0, 0, drivers, err,
		sizeof(err)), 0);
	assert_int_equal(p.ts_source, WL_TS_TSC);
	wl_port_close(&p);
	unlink(path);
}

/* Device ticks to epoch ns with a calibrated clock: before and after the
 * calibration point, and a packet without the flag is left to the TSC. */
static void
test_hw_ts_conversion(void **state)
{
	struct wl_port p;
	struct rte_mbuf *m;
	int off, bit;

	(void)state;
	assert_int_equal(rte_mbuf_dyn_rx_timestamp_register(&off, NULL), 0);
	bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME,
		NULL);
	assert_true(bit >= 0);
	memset(&p, 0, sizeof(p));
	p.ts_source = WL_TS_HW;
	p.ts_dynfield = off;
	p.ts_dynflag = 1ULL << bit;
	p.clock.ticks0 = 1000000;
	p.clock.ns0 = 1700000000000000000ULL;
	p.clock.ns_per_tick = 0.8;              /* a 1.25 GHz device clock */
	m = rte_pktmbuf_alloc(mp);
	assert_non_null(m);
	*RTE_MBUF_DYNFIELD(m, off, uint64_t *) = 1000000 + 2500;
	assert_int_equal(wl_port_rx_ts(&p, m), 0);      /* flag not set */
	m->ol_flags |= p.ts_dynflag;
	assert_true(wl_port_rx_ts(&p, m) == 1700000000000002000ULL);
	*RTE_MBUF_DYNFIELD(m, off, uint64_t *) = 1000000 - 1250;
	assert_true(wl_port_rx_ts(&p, m) == 1700000000000000000ULL - 1000);
	/* A unit from drivers-config means epoch time already. */
	p.dconf.ts_unit_ns = 1000;
	*RTE_MBUF_DYNFIELD(m, off, uint64_t *) = 1700000000123456ULL;
	assert_true(wl_port_rx_ts(&p, m) == 1700000000123456000ULL);
	rte_pktmbuf_free(m);
}

/* eal.memory_mb 0 sizes memory by the lcores an --lcores list names. */
static void
test_lcores_count(void **state)
{
	(void)state;
	assert_int_equal(wl_eal_lcores_count("0@2,1@3"), 2);
	assert_int_equal(wl_eal_lcores_count("0-3"), 4);
	assert_int_equal(wl_eal_lcores_count("0,2-4,7@1"), 5);
	assert_int_equal(wl_eal_lcores_count("(0-1)@(2,3),(4,6-7)@5,9"), 6);
	assert_int_equal(wl_eal_lcores_count(""), -EINVAL);
	assert_int_equal(wl_eal_lcores_count("0,,1"), -EINVAL);
	assert_int_equal(wl_eal_lcores_count("3-1"), -EINVAL);
	assert_int_equal(wl_eal_lcores_count("x@1"), -EINVAL);
	assert_int_equal(wl_eal_lcores_count("(0-1@2"), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_driver_conf, setup),
		cmocka_unit_test_setup(test_null_port, setup),
		cmocka_unit_test_setup(test_pcap_port, setup),
		cmocka_unit_test_setup(test_hw_ts_conversion, setup),
		cmocka_unit_test(test_lcores_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
