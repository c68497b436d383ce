/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Port set-up for a passive tap, in the manner of l3fwd: start from a
 * template rte_eth_conf, AND the requested RSS hash functions and
 * offloads with what rte_eth_dev_info_get() reports, and say what was
 * dropped. Invariants after wl_port_setup() returns 0:
 *  - p->ts_source says where packet timestamps of this port come from;
 *  - p->hw_rss is set only when the NIC hashes with the symmetric key, so
 *    both directions of a connection land on the same queue;
 *  - the port is started and promiscuous (a span port carries other
 *    hosts' traffic).
 */

#define ALLOW_EXPERIMENTAL_API 1 /* rte_eth_read_clock() */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>

#include "wl_common.h"
#include "wl_log.h"
#include "wl_pkt.h"
#include "wl_port.h"

/* ---- driver settings ---- */

static void
driver_conf_builtin(struct wl_driver_conf *dc, const char *driver)
{
	memset(dc, 0, sizeof(*dc));
	wl_strlcpy(dc->driver, driver, sizeof(dc->driver));
	dc->ts_source = WL_TS_HW;
	dc->ts_calibrate = 1;
}

static int
driver_conf_parse(const char *path, const char *driver,
	struct wl_driver_conf *dc, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *ts;
	const char *src;
	json_t *v;

	root = json_load_file(path, 0, &jerr);
	if (root == NULL) {
		if (jerr.line < 0)      /* no such file: not an error */
			return -ENOENT;
		snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line,
			jerr.column, jerr.text);
		return -EINVAL;
	}
	driver_conf_builtin(dc, driver);
	v = json_object_get(root, "rss_key_len");
	if (json_is_integer(v))
		dc->rss_key_len = (uint32_t)json_integer_value(v);
	ts = json_object_get(root, "timestamp");
	if (json_is_object(ts)) {
		src = json_string_value(json_object_get(ts, "source"));
		if (src != NULL && strcmp(src, "pcap") == 0)
			dc->ts_source = WL_TS_PCAP;
		else if (src != NULL && strcmp(src, "none") == 0)
			dc->ts_source = WL_TS_NONE;
		else if (src != NULL && strcmp(src, "hw") != 0) {
			snprintf(err, errlen, "%s: timestamp.source: expected "
				"\"hw\", \"pcap\" or \"none\"", path);
			json_decref(root);
			return -EINVAL;
		}
		v = json_object_get(ts, "unit_ns");
		if (json_is_integer(v))
			dc->ts_unit_ns = (uint32_t)json_integer_value(v);
		dc->ts_calibrate = json_is_true(json_object_get(ts, "calibrate"));
	}
	dc->offline = json_is_true(json_object_get(root, "offline"));
	v = json_object_get(root, "idle_exit_ms");
	if (json_is_integer(v))
		dc->idle_exit_ms = (uint32_t)json_integer_value(v);
	json_decref(root);
	return 0;
}

int
wl_driver_conf_load(const char *dir, const char *driver,
	struct wl_driver_conf *dc, char *err, size_t errlen)
{
	char path[1024];
	int ret;

	snprintf(path, sizeof(path), "%s/%s.json", dir, driver);
	ret = driver_conf_parse(path, driver, dc, err, errlen);
	if (ret != -ENOENT)
		return ret;
	snprintf(path, sizeof(path), "%s/default.json", dir);
	ret = driver_conf_parse(path, driver, dc, err, errlen);
	if (ret != -ENOENT)
		return ret;
	driver_conf_builtin(dc, driver);
	return 0;
}

/* ---- clock calibration ---- */

static int
clock_read_pair(uint16_t port_id, uint64_t *ticks, uint64_t *ns)
{
	uint64_t t1, t2;

	*ns = wl_realtime_ns();
	if (rte_eth_read_clock(port_id, &t1) != 0)
		return -ENOTSUP;
	*ns = wl_realtime_ns();
	if (rte_eth_read_clock(port_id, &t2) != 0)
		return -ENOTSUP;
	/* Midpoint of two reads around the wall clock read. */
	*ticks = t1 + (t2 - t1) / 2;
	return 0;
}

void
wl_port_calibrate(struct wl_port *p)
{
	struct wl_port_clock *c = &p->clock;
	uint64_t ticks, ns;
	double npt;

	if (p->ts_source != WL_TS_HW || p->dconf.ts_unit_ns != 0)
		return;
	if (clock_read_pair(p->port_id, &ticks, &ns) != 0)
		return;
	/* Rate over the whole run: the longer the baseline, the better. */
	if (ticks > c->first_ticks && ns > c->first_ns)
		npt = (double)(ns - c->first_ns) / (double)(ticks - c->first_ticks);
	else
		npt = c->ns_per_tick;
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
	c->ticks0 = ticks;
	c->ns0 = ns;
	c->ns_per_tick = npt;
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
	c->calibrations++;
}

/* First calibration: two pairs 10 ms apart give a first rate. */
static int
clock_init(struct wl_port *p)
{
	struct wl_port_clock *c = &p->clock;
	uint64_t t2, n2;

	if (clock_read_pair(p->port_id, &c->first_ticks, &c->first_ns) != 0)
		return -ENOTSUP;
	rte_delay_ms(10);
	if (clock_read_pair(p->port_id, &t2, &n2) != 0 ||
			t2 <= c->first_ticks)
		return -ENOTSUP;
	c->ns_per_tick = (double)(n2 - c->first_ns) /
		(double)(t2 - c->first_ticks);
	c->ticks0 = t2;
	c->ns0 = n2;
	c->calibrations = 1;
	return 0;
}

/* ---- set-up ---- */

static const struct rte_eth_conf port_conf_template = {
	.rxmode = {
		.mq_mode = RTE_ETH_MQ_RX_RSS,
	},
	.rx_adv_conf = {
		.rss_conf = {
			.rss_hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP |
				RTE_ETH_RSS_UDP,
		},
	},
	.txmode = {
		.mq_mode = RTE_ETH_MQ_TX_NONE,
	},
};

/*
 * After rte_eth_dev_configure(): descriptor counts the device accepts,
 * nb_rxq RX queues on mp, one TX queue, start. Messages start with who
 * ("port net_pcap0").
 */
static int
queues_start(uint16_t port_id, const char *who, uint16_t nb_rxq,
	uint16_t *nb_rxd, uint16_t *nb_txd, struct rte_mempool *mp,
	char *err, size_t errlen)
{
	int socket = rte_eth_dev_socket_id(port_id);
	uint16_t q;
	int ret;

	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, nb_rxd, nb_txd);
	if (ret != 0) {
		snprintf(err, errlen, "%s: descriptors: %s", who,
			strerror(-ret));
		return ret;
	}
	for (q = 0; q < nb_rxq; q++) {
		ret = rte_eth_rx_queue_setup(port_id, q, *nb_rxd, socket, NULL,
			mp);
		if (ret != 0) {
			snprintf(err, errlen, "%s: RX queue %u: %s", who, q,
				strerror(-ret));
			return ret;
		}
	}
	ret = rte_eth_tx_queue_setup(port_id, 0, *nb_txd, socket, NULL);
	if (ret != 0) {
		snprintf(err, errlen, "%s: TX queue: %s", who, strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_start(port_id);
	if (ret != 0) {
		snprintf(err, errlen, "%s: start failed: %s", who,
			strerror(-ret));
		return ret;
	}
	return 0;
}

int
wl_port_setup(struct wl_port *p, uint16_t nb_rxq, uint16_t nb_rxd,
	struct rte_mempool *mp, int want_hw_ts, int force_sw_hash,
	const char *drivers_dir, char *err, size_t errlen)
{
	uint8_t key[sizeof(wl_rss_sym_key)];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	char who[sizeof(p->name) + 8];
	uint16_t txd = 64;
	uint32_t keylen;
	int ret;

	p->ts_dynfield = -1;
	p->link = WL_LINK_ETHER;
	rte_eth_dev_get_name_by_port(p->port_id, p->name);
	ret = rte_eth_dev_info_get(p->port_id, &info);
	if (ret != 0) {
		snprintf(err, errlen, "port %u: cannot get device info: %s",
			p->port_id, strerror(-ret));
		return ret;
	}
	wl_strlcpy(p->driver, info.driver_name, sizeof(p->driver));
	ret = wl_driver_conf_load(drivers_dir, p->driver, &p->dconf, err,
		errlen);
	if (ret != 0)
		return ret;

	conf = port_conf_template;
	conf.rx_adv_conf.rss_conf.rss_hf &= info.flow_type_rss_offloads;
	if (force_sw_hash || conf.rx_adv_conf.rss_conf.rss_hf == 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
		conf.rx_adv_conf.rss_conf.rss_hf = 0;
		if (nb_rxq > 1) {
			snprintf(err, errlen, "port %s: %u RX queues need RSS, "
				"which %s does not offer", p->name, nb_rxq,
				p->driver);
			return -ENOTSUP;
		}
	} else {
		keylen = p->dconf.rss_key_len != 0 ? p->dconf.rss_key_len :
			info.hash_key_size;
		if (keylen == 0 || keylen > sizeof(key))
			keylen = 40;
		memcpy(key, wl_rss_sym_key, sizeof(key));
		conf.rx_adv_conf.rss_conf.rss_key = key;
		conf.rx_adv_conf.rss_conf.rss_key_len = (uint8_t)keylen;
		p->hw_rss = 1;
		p->rss_hf = conf.rx_adv_conf.rss_conf.rss_hf;
		if (p->rss_hf != port_conf_template.rx_adv_conf.rss_conf.rss_hf)
			WL_LOG(NOTICE, "port %s: RSS hash functions 0x%" PRIx64
				" reduced to 0x%" PRIx64 " by the device",
				p->name, port_conf_template.rx_adv_conf.rss_conf.rss_hf,
				p->rss_hf);
	}
	if (nb_rxq > info.max_rx_queues) {
		snprintf(err, errlen, "port %s: %u RX queues asked, device has %u",
			p->name, nb_rxq, info.max_rx_queues);
		return -EINVAL;
	}
	if (want_hw_ts && p->dconf.ts_source != WL_TS_NONE &&
			(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;

	ret = rte_eth_dev_configure(p->port_id, nb_rxq, 1, &conf);
	if (ret != 0) {
		snprintf(err, errlen, "port %s: configure failed: %s", p->name,
			strerror(-ret));
		return ret;
	}
	snprintf(who, sizeof(who), "port %s", p->name);
	ret = queues_start(p->port_id, who, nb_rxq, &nb_rxd, &txd, mp, err,
		errlen);
	if (ret != 0)
		return ret;
	/* Some PMDs (net_ring, net_pcap files) have no promiscuous mode. */
	rte_eth_promiscuous_enable(p->port_id);
	p->nb_rxq = nb_rxq;

	/* Timestamps: the PMD registers the dynfield when the offload is on. */
	p->ts_source = WL_TS_TSC;
	/*
	 * net_pcap (22.11) fills the timestamp dynfield of every mbuf from
	 * the file without offering the offload; the driver config says so
	 * with a fixed unit. The per-mbuf flag still guards each read.
	 */
	if ((conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TIMESTAMP) ||
			(want_hw_ts && p->dconf.ts_unit_ns != 0 &&
			 p->dconf.ts_source != WL_TS_NONE)) {
		int off = rte_mbuf_dynfield_lookup(
			RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
		int bit = rte_mbuf_dynflag_lookup(
			RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);

		if (off >= 0 && bit >= 0) {
			p->ts_dynfield = off;
			p->ts_dynflag = 1ULL << bit;
			if (p->dconf.ts_unit_ns != 0)
				p->ts_source = p->dconf.ts_source;
			else if (p->dconf.ts_calibrate && clock_init(p) == 0)
				p->ts_source = WL_TS_HW;
			else
				p->ts_dynfield = -1;
		}
		if (p->ts_dynfield < 0)
			WL_LOG(NOTICE, "port %s: RX timestamps offered but not "
				"convertible to ns (no read_clock): using TSC",
				p->name);
	}
	return 0;
}

void
wl_port_close(struct wl_port *p)
{
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
}

int
wl_port_setup_tx(struct wl_tx_port *p, uint16_t nb_txd, uint32_t max_frame,
	int need_multi_seg, struct rte_mempool *mp, char *err, size_t errlen)
{
	char who[sizeof(p->name) + sizeof(p->driver) + 8];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxq = 0, txd = nb_txd, rxd = 64;
	uint32_t mtu = RTE_ETHER_MTU;
	int ret;

	ret = rte_eth_dev_info_get(p->port_id, &info);
	if (ret != 0) {
		snprintf(err, errlen, "port %u: cannot read device info: %s",
			p->port_id, rte_strerror(-ret));
		return ret;
	}
	rte_eth_dev_get_name_by_port(p->port_id, p->name);
	wl_strlcpy(p->driver, info.driver_name, sizeof(p->driver));
	memset(&conf, 0, sizeof(conf));
	/* The MTU a frame of max_frame bytes needs (counting a VLAN tag as
	 * payload: conservative by 4 bytes for tagged frames). */
	if (max_frame > RTE_ETHER_HDR_LEN + RTE_ETHER_MTU)
		mtu = max_frame - RTE_ETHER_HDR_LEN;
	if (info.max_mtu != 0 && mtu > info.max_mtu &&
			info.max_mtu < UINT16_MAX) {
		snprintf(err, errlen, "port %s (%s): a %u-byte frame needs MTU "
			"%u, the device allows %u", p->name, p->driver,
			max_frame, mtu, info.max_mtu);
		return -EMSGSIZE;
	}
	if (mtu > RTE_ETHER_MTU)
		conf.rxmode.mtu = mtu;
	p->multi_seg = (info.tx_offload_capa &
		RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	if (need_multi_seg && !p->multi_seg) {
		snprintf(err, errlen, "port %s (%s): a %u-byte frame spans "
			"several mbufs and the device has no multi-segment TX",
			p->name, p->driver, max_frame);
		return -ENOTSUP;
	}
	if (need_multi_seg)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* Some drivers refuse to start without an RX queue. */
	ret = rte_eth_dev_configure(p->port_id, 0, 1, &conf);
	if (ret != 0 && info.max_rx_queues > 0) {
		nb_rxq = 1;
		ret = rte_eth_dev_configure(p->port_id, 1, 1, &conf);
	}
	if (ret != 0) {
		snprintf(err, errlen, "port %s (%s): configure failed: %s",
			p->name, p->driver, rte_strerror(-ret));
		return ret;
	}
	snprintf(who, sizeof(who), "port %s (%s)", p->name, p->driver);
	ret = queues_start(p->port_id, who, nb_rxq, &rxd, &txd, mp, err,
		errlen);
	if (ret != 0)
		return ret;
	p->nb_txd = txd;
	p->max_frame = info.max_mtu != 0 && info.max_mtu < UINT16_MAX ?
		(uint32_t)info.max_mtu + RTE_ETHER_HDR_LEN : UINT16_MAX;
	return 0;
}
