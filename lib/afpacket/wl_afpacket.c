/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * AF_PACKET TPACKET_V3 capture (wl_afpacket.h). Each queue is a socket
 * with its own mapped ring of blocks; the kernel fills a block with
 * frames and hands it over (block_status TP_STATUS_USER) when it is full
 * or block_ms has passed; we copy the frames out and give the block back.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "wl_afpacket.h"
#include "wl_common.h"
#include "wl_mbuf.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
/* Linux 6.9: the fanout group's own copy of PACKET_IGNORE_OUTGOING. */
#ifndef PACKET_FANOUT_FLAG_IGNORE_OUTGOING
#define PACKET_FANOUT_FLAG_IGNORE_OUTGOING 0x4000
#endif

#define FRAME_SIZE 2048u
/* Chained mbufs for one frame: 64 KB loopback frames in 2 KB rooms. */
#define MAX_SEGS 64
#define VLAN_LEN 4

struct afp_queue {
	int fd;
	uint8_t *map;
	size_t map_len;
	uint32_t blk;                   /* block being read */
	uint32_t left;                  /* its frames not read yet */
	struct tpacket3_hdr *h;         /* next frame of the block */
	/* RX lcore's */
	uint64_t packets, bytes, ts_hw, ts_kernel, vlan_restored,
		truncated, oversize, outgoing_skipped;
	/* control thread's */
	uint64_t k_packets, k_drops;
} __rte_cache_aligned;

struct wl_afp {
	char name[IF_NAMESIZE];
	unsigned int ifindex;
	enum wl_link link;
	enum wl_ts_source ts_source;
	uint32_t block_size;
	uint32_t n_blocks;
	unsigned int n_queues;
	int loopback;
	int skip_outgoing;              /* loopback: outgoing copies skipped */
	int no_fanout_ignore;           /* kernel refused the fanout flag */
	int hw_set;                     /* we changed the NIC's config */
	struct hwtstamp_config hw_old;
	struct afp_queue q[WL_AFP_MAX_QUEUES];
};

const char *const wl_afp_counter_names[] = {
#define _(f, n, d) n,
	foreach_wl_afp_counter
#undef _
};

static int __attribute__((format(printf, 4, 5), cold))
fail(int err, char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	errno = err;
	return -err;
}

static int
if_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int fd, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	wl_strlcpy(ifr->ifr_name, name, sizeof(ifr->ifr_name));
	ret = ioctl(fd, req, ifr);
	if (ret != 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Ask the NIC to stamp every received frame. Its previous setting is
 * kept to be put back at close: PTP daemons share it.
 * @return 1 when the NIC stamps every frame now, else 0.
 */
static int
hw_ts_enable(struct wl_afp *a)
{
	struct hwtstamp_config hc;
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memset(&hc, 0, sizeof(hc));
	ifr.ifr_data = (void *)&hc;
	if (if_ioctl(a->name, SIOCGHWTSTAMP, &ifr) != 0)
		return 0;
	if (hc.rx_filter == HWTSTAMP_FILTER_ALL)
		return 1;
	a->hw_old = hc;
	hc.rx_filter = HWTSTAMP_FILTER_ALL;
	if (if_ioctl(a->name, SIOCSHWTSTAMP, &ifr) != 0)
		return 0;
	a->hw_set = 1;
	return hc.rx_filter == HWTSTAMP_FILTER_ALL;
}

static void
hw_ts_restore(struct wl_afp *a)
{
	struct ifreq ifr;

	if (!a->hw_set)
		return;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&a->hw_old;
	(void)if_ioctl(a->name, SIOCSHWTSTAMP, &ifr);
}

/* A filter that takes nothing: a socket stays quiet until its fanout
 * group is complete, so no flow starts on the wrong queue. */
static int
filter_none(int fd, int on)
{
	static struct sock_filter drop[] = {
		{ BPF_RET | BPF_K, 0, 0, 0 },
	};
	struct sock_fprog prog = { .len = 1, .filter = drop };
	int dummy = 0;

	if (on)
		return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			sizeof(prog));
	return setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy,
		sizeof(dummy));
}

static int
queue_open(struct wl_afp *a, const struct wl_afp_conf *c, unsigned int qi,
	uint32_t *fanout_id, char *err, size_t errlen)
{
	struct afp_queue *q = &a->q[qi];
	struct tpacket_req3 req;
	struct sockaddr_ll sll;
	struct packet_mreq mr;
	int v, fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(errno, err, errlen, "%s: cannot open a packet "
			"socket: %s (needs CAP_NET_RAW)", a->name,
			strerror(errno));
	q->fd = fd;
	v = TPACKET_V3;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) != 0)
		return fail(errno, err, errlen, "%s: TPACKET_V3: %s", a->name,
			strerror(errno));
	v = a->ts_source == WL_TS_HW ? SOF_TIMESTAMPING_RAW_HARDWARE : 0;
	if (v != 0 && setsockopt(fd, SOL_PACKET, PACKET_TIMESTAMP, &v,
			sizeof(v)) != 0)
		return fail(errno, err, errlen, "%s: PACKET_TIMESTAMP: %s",
			a->name, strerror(errno));
	/* Stamps taken as the frame enters the stack, not when the
	 * socket's turn comes. */
	v = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &v, sizeof(v));
	memset(&req, 0, sizeof(req));
	req.tp_block_size = a->block_size;
	req.tp_block_nr = a->n_blocks;
	req.tp_frame_size = FRAME_SIZE;
	req.tp_frame_nr = a->block_size / FRAME_SIZE * a->n_blocks;
	req.tp_retire_blk_tov = c->block_ms;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) != 0)
		return fail(errno, err, errlen, "%s: cannot set up a %u x %u KB "
			"ring: %s", a->name, a->n_blocks, a->block_size / 1024,
			strerror(errno));
	q->map_len = (size_t)a->block_size * a->n_blocks;
	q->map = mmap(NULL, q->map_len, PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_POPULATE, fd, 0);
	if (q->map == MAP_FAILED) {
		q->map = NULL;
		return fail(errno, err, errlen, "%s: cannot map the ring: %s",
			a->name, strerror(errno));
	}
	/* On loopback every frame passes twice, out and in. A fanout
	 * group has its own setting, which kernels before 6.9 may take
	 * and ignore: with a group the reader also skips them itself. */
	v = 1;
	if (a->loopback && (a->n_queues > 1 || setsockopt(fd, SOL_PACKET,
			PACKET_IGNORE_OUTGOING, &v, sizeof(v)) != 0))
		a->skip_outgoing = 1;
	if (a->n_queues > 1 && filter_none(fd, 1) != 0)
		return fail(errno, err, errlen, "%s: SO_ATTACH_FILTER: %s",
			a->name, strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)a->ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		return fail(errno, err, errlen, "%s: cannot bind: %s", a->name,
			strerror(errno));
	if (c->promisc) {
		memset(&mr, 0, sizeof(mr));
		mr.mr_ifindex = (int)a->ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
				sizeof(mr)) != 0)
			return fail(errno, err, errlen, "%s: cannot enter "
				"promiscuous mode: %s", a->name,
				strerror(errno));
	}
	if (a->n_queues > 1) {
		uint32_t arg;
		socklen_t len = sizeof(arg);

		/* The first socket gets a group id no one else has; the
		 * others join it. */
		uint32_t type = PACKET_FANOUT_HASH;
		int ret;

		if (a->loopback && !a->no_fanout_ignore)
			type |= PACKET_FANOUT_FLAG_IGNORE_OUTGOING;
		arg = qi == 0 ? (type | PACKET_FANOUT_FLAG_UNIQUEID) << 16 :
			*fanout_id | type << 16;
		ret = setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg,
			sizeof(arg));
		if (ret != 0 && errno == EINVAL && qi == 0 &&
				type != PACKET_FANOUT_HASH) {
			a->no_fanout_ignore = 1;
			arg = (uint32_t)(PACKET_FANOUT_HASH |
				PACKET_FANOUT_FLAG_UNIQUEID) << 16;
			ret = setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg,
				sizeof(arg));
		}
		if (ret != 0)
			return fail(errno, err, errlen, "%s: PACKET_FANOUT: %s",
				a->name, strerror(errno));
		if (qi == 0) {
			if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg,
					&len) != 0)
				return fail(errno, err, errlen, "%s: "
					"PACKET_FANOUT: %s", a->name,
					strerror(errno));
			*fanout_id = arg & 0xffff;
		}
	}
	return 0;
}

struct wl_afp *
wl_afp_open(const struct wl_afp_conf *c, char *err, size_t errlen)
{
	struct wl_afp *a;
	struct ifreq ifr;
	uint32_t fanout_id = 0;
	unsigned int i;
	int ret;

	if (c->ifname == NULL || strlen(c->ifname) >= IF_NAMESIZE) {
		fail(EINVAL, err, errlen, "%s: not an interface name",
			c->ifname != NULL ? c->ifname : "(null)");
		return NULL;
	}
	if (c->n_queues == 0 || c->n_queues > WL_AFP_MAX_QUEUES ||
			c->block_kb == 0 || c->block_kb % 4 != 0 ||
			c->ring_kb < c->block_kb) {
		fail(EINVAL, err, errlen, "%s: bad ring (%u queues, %u KB "
			"ring, %u KB blocks)", c->ifname, c->n_queues,
			c->ring_kb, c->block_kb);
		return NULL;
	}
	a = rte_zmalloc("wl_afp", sizeof(*a), RTE_CACHE_LINE_SIZE);
	if (a == NULL) {
		fail(ENOMEM, err, errlen, "%s: out of memory", c->ifname);
		return NULL;
	}
	wl_strlcpy(a->name, c->ifname, sizeof(a->name));
	for (i = 0; i < WL_AFP_MAX_QUEUES; i++)
		a->q[i].fd = -1;
	a->n_queues = c->n_queues;
	a->block_size = c->block_kb * 1024;
	a->n_blocks = c->ring_kb / c->block_kb;
	a->ifindex = if_nametoindex(c->ifname);
	if (a->ifindex == 0) {
		fail(ENODEV, err, errlen, "%s: no such interface", c->ifname);
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	ret = if_ioctl(a->name, SIOCGIFHWADDR, &ifr);
	if (ret != 0) {
		fail(-ret, err, errlen, "%s: %s", c->ifname, strerror(-ret));
		goto out;
	}
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_LOOPBACK:
		a->loopback = 1;
		/* fall through */
	case ARPHRD_ETHER:
		a->link = WL_LINK_ETHER;
		break;
	case ARPHRD_NONE:       /* tun: IP with no link header */
		a->link = WL_LINK_RAW;
		break;
	default:
		fail(ENOTSUP, err, errlen, "%s: link type %u not supported "
			"(Ethernet, loopback and IP tunnels are)", c->ifname,
			ifr.ifr_hwaddr.sa_family);
		goto out;
	}
	a->ts_source = c->hw_timestamp && hw_ts_enable(a) ? WL_TS_HW :
		WL_TS_KERNEL;
	for (i = 0; i < a->n_queues; i++)
		if (queue_open(a, c, i, &fanout_id, err, errlen) != 0)
			goto out;
	for (i = 0; a->n_queues > 1 && i < a->n_queues; i++)
		if (filter_none(a->q[i].fd, 0) != 0) {
			fail(errno, err, errlen, "%s: SO_DETACH_FILTER: %s",
				a->name, strerror(errno));
			goto out;
		}
	return a;
out:
	ret = errno;
	wl_afp_close(a);
	errno = ret;
	return NULL;
}

void
wl_afp_close(struct wl_afp *a)
{
	unsigned int i;

	if (a == NULL)
		return;
	for (i = 0; i < WL_AFP_MAX_QUEUES; i++) {
		if (a->q[i].map != NULL)
			munmap(a->q[i].map, a->q[i].map_len);
		if (a->q[i].fd >= 0)
			close(a->q[i].fd);
	}
	hw_ts_restore(a);
	rte_free(a);
}

static inline struct tpacket_block_desc *
block(const struct wl_afp *a, const struct afp_queue *q, uint32_t i)
{
	return (struct tpacket_block_desc *)(q->map +
		(size_t)i * a->block_size);
}

/*
 * One frame into m. The kernel took a VLAN tag out into the frame header
 * (a NIC's VLAN offload): put it back, the decoder keys flows by it.
 */
static inline void
frame_copy(struct rte_mempool *mp, struct afp_queue *q, struct rte_mbuf *m,
	const struct tpacket3_hdr *h, enum wl_link link)
{
	const uint8_t *data = (const uint8_t *)h + h->tp_mac;
	uint32_t len = h->tp_snaplen;
	uint8_t *d;

	if (unlikely((h->tp_status & TP_STATUS_VLAN_VALID) &&
			link == WL_LINK_ETHER && len >= 12)) {
		uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ?
			h->hv1.tp_vlan_tpid : ETH_P_8021Q;

		q->vlan_restored++;
		if (len + VLAN_LEN <= rte_pktmbuf_tailroom(m)) {
			d = (uint8_t *)rte_pktmbuf_append(m,
				(uint16_t)(len + VLAN_LEN));
			memcpy(d, data, 12);
			d[12] = (uint8_t)(tpid >> 8);
			d[13] = (uint8_t)tpid;
			d[14] = (uint8_t)(h->hv1.tp_vlan_tci >> 8);
			d[15] = (uint8_t)h->hv1.tp_vlan_tci;
			memcpy(d + 16, data + 12, len - 12);
			return;
		}
		/* A jumbo frame: left untagged rather than copied twice. */
	}
	if (unlikely(wl_mbuf_copy_in(mp, m, data, len, MAX_SEGS) != 0))
		q->oversize++;
}

/* The frame after h, giving its block back after its last frame. */
static inline void
frame_next(const struct wl_afp *a, struct afp_queue *q,
	const struct tpacket3_hdr *h)
{
	if (--q->left != 0) {
		q->h = (struct tpacket3_hdr *)((const uint8_t *)h +
			h->tp_next_offset);
		return;
	}
	__atomic_store_n(&block(a, q, q->blk)->hdr.bh1.block_status,
		TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	q->blk = (q->blk + 1) % a->n_blocks;
}

/* Loopback on a kernel that cannot leave out a fanout group's outgoing
 * copies: each frame's second pass is skipped here. */
static inline int
frame_outgoing(const struct tpacket3_hdr *h)
{
	const struct sockaddr_ll *sll = (const void *)((const uint8_t *)h +
		TPACKET_ALIGN(sizeof(*h)));

	return sll->sll_pkttype == PACKET_OUTGOING;
}

uint16_t
wl_afp_rx_burst(struct wl_afp *a, unsigned int qi, struct rte_mempool *mp,
	struct rte_mbuf **pkts, uint16_t n)
{
	struct afp_queue *q = &a->q[qi];
	struct tpacket_block_desc *bd = block(a, q, q->blk);
	uint16_t i = 0;

	if (q->left == 0 && !(__atomic_load_n(&bd->hdr.bh1.block_status,
			__ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return 0;       /* the common idle case: no allocation */
	if (rte_pktmbuf_alloc_bulk(mp, pkts, n) != 0)
		return 0;
	while (i < n) {
		const struct tpacket3_hdr *h;
		struct wl_mbuf_meta *meta;
		struct rte_mbuf *m;

		if (q->left == 0) {
			bd = block(a, q, q->blk);
			if (!(__atomic_load_n(&bd->hdr.bh1.block_status,
					__ATOMIC_ACQUIRE) & TP_STATUS_USER))
				break;
			q->left = bd->hdr.bh1.num_pkts;
			q->h = (struct tpacket3_hdr *)((uint8_t *)bd +
				bd->hdr.bh1.offset_to_first_pkt);
			if (q->left == 0) {
				q->left = 1;    /* an empty block: give it back */
				frame_next(a, q, q->h);
				continue;
			}
		}
		h = q->h;
		if (unlikely(a->skip_outgoing) && frame_outgoing(h)) {
			q->outgoing_skipped++;
			frame_next(a, q, h);
			continue;
		}
		m = pkts[i++];
		frame_copy(mp, q, m, h, a->link);
		m->hash.rss = 0;
		meta = wl_mbuf_meta(m);
		meta->ts_ns = (uint64_t)h->tp_sec * 1000000000ULL + h->tp_nsec;
		meta->link = (uint8_t)a->link;
		if (h->tp_status & TP_STATUS_TS_RAW_HARDWARE) {
			meta->ts_source = WL_TS_HW;
			q->ts_hw++;
		} else {
			meta->ts_source = WL_TS_KERNEL;
			q->ts_kernel++;
		}
		meta->wire_len = 0;
		if (h->tp_snaplen < h->tp_len) {
			meta->wire_len = h->tp_len;
			q->truncated++;
		}
		q->packets++;
		q->bytes += h->tp_snaplen;
		frame_next(a, q, h);
	}
	if (i < n)
		rte_pktmbuf_free_bulk(&pkts[i], n - i);
	return i;
}

enum wl_afp_link
wl_afp_poll(struct wl_afp *a)
{
	struct tpacket_stats_v3 ks;
	struct ifreq ifr;
	unsigned int i;
	socklen_t len;

	for (i = 0; i < a->n_queues; i++) {
		len = sizeof(ks);
		memset(&ks, 0, sizeof(ks));
		/* Counts since the previous read, dropped frames in
		 * tp_packets too. */
		if (getsockopt(a->q[i].fd, SOL_PACKET, PACKET_STATISTICS, &ks,
				&len) != 0)
			continue;
		a->q[i].k_packets += ks.tp_packets;
		a->q[i].k_drops += ks.tp_drops;
	}
	if (if_nametoindex(a->name) != a->ifindex)
		return WL_AFP_LINK_GONE;
	memset(&ifr, 0, sizeof(ifr));
	if (if_ioctl(a->name, SIOCGIFFLAGS, &ifr) != 0)
		return WL_AFP_LINK_GONE;
	if (!(ifr.ifr_flags & IFF_UP) || !(ifr.ifr_flags & IFF_RUNNING))
		return WL_AFP_LINK_DOWN;
	return WL_AFP_LINK_UP;
}

void
wl_afp_stats_get(const struct wl_afp *a, struct wl_afp_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < a->n_queues; i++) {
		const struct afp_queue *q = &a->q[i];

		st->packets += q->packets;
		st->bytes += q->bytes;
		st->kernel_packets += q->k_packets;
		st->kernel_drops += q->k_drops;
		st->ts_hw += q->ts_hw;
		st->ts_kernel += q->ts_kernel;
		st->vlan_restored += q->vlan_restored;
		st->truncated += q->truncated;
		st->oversize += q->oversize;
		st->outgoing_skipped += q->outgoing_skipped;
	}
}

const char *
wl_afp_name(const struct wl_afp *a)
{
	return a->name;
}

enum wl_link
wl_afp_link_type(const struct wl_afp *a)
{
	return a->link;
}

enum wl_ts_source
wl_afp_ts_source(const struct wl_afp *a)
{
	return a->ts_source;
}

unsigned int
wl_afp_queues(const struct wl_afp *a)
{
	return a->n_queues;
}
