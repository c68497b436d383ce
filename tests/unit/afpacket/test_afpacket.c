/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Kernel interfaces through TPACKET_V3, on real interfaces of a network
 * namespace of the test's own (unshare): loopback seen once per frame
 * with kernel nanosecond stamps, a flow on one fanout queue, the kernel's
 * drops counted exactly, VLAN tags put back, link down and gone.
 */

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <rte_mbuf.h>

#include "wl_afpacket.h"
#include "wl_mbuf.h"
#include "wl_test_eal.h"

static struct rte_mempool *mp;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int
if_set_up(const char *name, int up)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (ret == 0) {
		ifr.ifr_flags = (short)(up ? ifr.ifr_flags | IFF_UP :
			ifr.ifr_flags & ~IFF_UP);
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

static struct wl_afp *
open_if(const char *name, unsigned int nq, uint32_t ring_kb)
{
	struct wl_afp_conf c = {
		.ifname = name, .n_queues = nq, .ring_kb = ring_kb,
		.block_kb = 64, .block_ms = 1, .promisc = 1,
	};
	char err[WL_AFP_ERR_LEN];
	struct wl_afp *a = wl_afp_open(&c, err, sizeof(err));

	if (a == NULL)
		print_error("%s\n", err);
	assert_non_null(a);
	return a;
}

static void
udp_send(uint16_t sport, unsigned int n, size_t len)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = src;
	char buf[2048];
	unsigned int i;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int sink = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0 && sink >= 0);
	/* A listener: no ICMP port unreachable joins the capture. */
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dst.sin_port = htons(9);
	assert_int_equal(bind(sink, (struct sockaddr *)&dst, sizeof(dst)), 0);
	src.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	src.sin_port = htons(sport);
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < n; i++) {
		memcpy(buf, &i, sizeof(i));
		assert_int_equal(sendto(fd, buf, len, 0,
			(struct sockaddr *)&dst, sizeof(dst)), (ssize_t)len);
	}
	close(fd);
	close(sink);
}

/* Read queue q until want frames came or 2 s passed; frees them. */
static unsigned int
read_n(struct wl_afp *a, unsigned int q, unsigned int want, uint64_t lo,
	uint16_t sport)
{
	struct rte_mbuf *m[64];
	uint64_t end = now_ns() + 2000000000ULL, prev = 0;

	if (want == 0)
		return 0;
	unsigned int got = 0, i, n;

	while (got < want && now_ns() < end) {
		n = wl_afp_rx_burst(a, q, mp, m, 64);
		for (i = 0; i < n; i++) {
			const struct wl_mbuf_meta *meta = wl_mbuf_meta(m[i]);
			const uint8_t *d = rte_pktmbuf_mtod(m[i], uint8_t *);
			uint32_t idx;

			/* Ethernet 14 + IPv4 20 + UDP 8, then our index. */
			assert_true(m[i]->pkt_len >= 46);
			assert_int_equal(d[34] << 8 | d[35], sport);
			memcpy(&idx, d + 42, sizeof(idx));
			/* Each datagram once (lo: not out and in) and in
			 * order. */
			assert_int_equal(idx, got);
			assert_int_equal(meta->ts_source, WL_TS_KERNEL);
			/* Stamped after the send began, before we read it. */
			assert_true(meta->ts_ns >= lo && meta->ts_ns <= now_ns());
			assert_true(meta->ts_ns >= prev);
			prev = meta->ts_ns;
			got++;
		}
		rte_pktmbuf_free_bulk(m, n);
	}
	return got;
}

static void
test_open_errors(void **state)
{
	struct wl_afp_conf c = {
		.ifname = "nosuch0", .n_queues = 1, .ring_kb = 256,
		.block_kb = 64, .block_ms = 1,
	};
	char err[WL_AFP_ERR_LEN];

	(void)state;
	assert_null(wl_afp_open(&c, err, sizeof(err)));
	assert_int_equal(errno, ENODEV);
	assert_string_equal(err, "nosuch0: no such interface");
	c.ifname = "lo";
	c.block_kb = 6;         /* not a whole number of pages */
	assert_null(wl_afp_open(&c, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	c.block_kb = 64;
	c.n_queues = WL_AFP_MAX_QUEUES + 1;
	assert_null(wl_afp_open(&c, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
}

static void
test_loopback(void **state)
{
	struct wl_afp *a = open_if("lo", 2, 1024);
	struct wl_afp_stats st;
	uint64_t t0;
	unsigned int q0, q1;

	(void)state;
	assert_int_equal(wl_afp_link_type(a), WL_LINK_ETHER);
	assert_int_equal(wl_afp_ts_source(a), WL_TS_KERNEL);
	assert_int_equal(wl_afp_poll(a), WL_AFP_LINK_UP);
	t0 = now_ns();
	udp_send(40000, 100, 64);
	/* One flow: all of it on one queue of the fanout group. */
	q0 = read_n(a, 0, 100, t0, 40000);
	q1 = read_n(a, 1, q0 == 100 ? 0 : 100, t0, 40000);
	assert_true((q0 == 100 && q1 == 0) || (q0 == 0 && q1 == 100));
	wl_afp_poll(a);
	wl_afp_stats_get(a, &st);
	assert_int_equal(st.packets, 100);
	/* Linux before 6.9 gives a fanout group lo's outgoing copies too:
	 * skipped by the reader, counted. */
	assert_true(st.outgoing_skipped == 0 || st.outgoing_skipped == 100);
	assert_int_equal(st.kernel_packets, 100 + st.outgoing_skipped);
	assert_int_equal(st.kernel_drops, 0);
	assert_int_equal(st.ts_kernel, 100);
	wl_afp_close(a);
}

static void
test_kernel_drops(void **state)
{
	struct wl_afp *a = open_if("lo", 1, 64);  /* one 64 KB block */
	struct wl_afp_stats st;
	struct rte_mbuf *m[64];
	uint64_t end;
	unsigned int n;

	(void)state;
	/* Nothing read while 500 frames of ~1 KB come: most are dropped. */
	udp_send(40001, 500, 1000);
	usleep(20000);
	end = now_ns() + 1000000000ULL;
	do {
		n = wl_afp_rx_burst(a, 0, mp, m, 64);
		rte_pktmbuf_free_bulk(m, n);
	} while (n > 0 || now_ns() < end);
	wl_afp_poll(a);
	wl_afp_stats_get(a, &st);
	assert_int_equal(st.kernel_packets, 500);
	assert_true(st.kernel_drops > 0);
	assert_int_equal(st.packets + st.kernel_drops, st.kernel_packets);
	wl_afp_close(a);
}

/* The kernel's link watch updates IFF_RUNNING a moment later. */
static enum wl_afp_link
poll_until(struct wl_afp *a, enum wl_afp_link want)
{
	enum wl_afp_link st = wl_afp_poll(a);
	unsigned int i;

	for (i = 0; i < 300 && st != want; i++) {
		usleep(10000);
		st = wl_afp_poll(a);
	}
	return st;
}

static void
test_link_and_vlan(void **state)
{
	static const uint8_t frame[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1,
		0x81, 0x00, 0x20, 0x2a,         /* VLAN 42, priority 1 */
		0x08, 0x00, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0,
		10, 0, 0, 1, 10, 0, 0, 2,
	};
	struct sockaddr_ll sll;
	struct rte_mbuf *m[4];
	struct wl_afp *a;
	uint64_t end;
	unsigned int n = 0;
	int fd;

	(void)state;
	if (system("ip link add wlt0 type veth peer name wlt1") != 0) {
		print_message("no veth here: link and VLAN not checked\n");
		return;
	}
	assert_int_equal(if_set_up("wlt0", 1), 0);
	assert_int_equal(if_set_up("wlt1", 1), 0);
	a = open_if("wlt0", 1, 256);
	/* A tagged frame into wlt1 comes out of wlt0; the kernel moves the
	 * tag out of the frame, the reader puts it back. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	assert_true(fd >= 0);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex("wlt1");
	sll.sll_halen = 6;
	memset(sll.sll_addr, 0xff, 6);
	for (end = 0; end < 50 && n == 0; end++) {
		/* Until the veth carrier is up. */
		assert_int_equal(sendto(fd, frame, sizeof(frame), 0,
			(struct sockaddr *)&sll, sizeof(sll)),
			(ssize_t)sizeof(frame));
		usleep(20000);
		n = wl_afp_rx_burst(a, 0, mp, m, 4);
	}
	close(fd);
	assert_true(n >= 1);
	assert_int_equal(m[0]->pkt_len, sizeof(frame));
	assert_memory_equal(rte_pktmbuf_mtod(m[0], uint8_t *), frame,
		sizeof(frame));
	rte_pktmbuf_free_bulk(m, n);
	assert_int_equal(wl_afp_poll(a), WL_AFP_LINK_UP);
	assert_int_equal(if_set_up("wlt1", 0), 0);     /* peer down: no carrier */
	assert_int_equal(poll_until(a, WL_AFP_LINK_DOWN), WL_AFP_LINK_DOWN);
	assert_int_equal(if_set_up("wlt1", 1), 0);
	assert_int_equal(if_set_up("wlt0", 0), 0);
	assert_int_equal(poll_until(a, WL_AFP_LINK_DOWN), WL_AFP_LINK_DOWN);
	assert_int_equal(system("ip link del wlt0"), 0);
	assert_int_equal(wl_afp_poll(a), WL_AFP_LINK_GONE);
	wl_afp_close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_kernel_drops),
		cmocka_unit_test(test_link_and_vlan),
	};

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		printf("SKIP: AF_PACKET in a namespace of its own needs root\n");
		return 77;
	}
	if (if_set_up("lo", 1) != 0 || wl_test_eal_init() != 0 ||
			wl_mbuf_meta_register() != 0)
		return 1;
	mp = rte_pktmbuf_pool_create("wl_afp_test", 4095, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
