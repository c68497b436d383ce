/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_MBUF_H
#define WL_MBUF_H

/*
 * What every mbuf carries from RX to the parser, in one dynamic field:
 * the timestamp in ns since the epoch, its source, and the link type
 * (a pcapng file may mix link types, so it is per packet).
 */

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

struct wl_mbuf_meta {
	uint64_t ts_ns;
	uint8_t link;           /* enum wl_link */
	uint8_t ts_source;      /* enum wl_ts_source */
	uint8_t pad[2];
	uint32_t wire_len;      /* frame length on the wire when the input
				 * kept less (pcap snap length), else 0 */
};

extern int wl_mbuf_meta_offset;

/**
 * Register the dynamic field. Call once after rte_eal_init(), before
 * creating mempools. @return 0 or -rte_errno.
 */
int wl_mbuf_meta_register(void);

/**
 * Copy len bytes into m, whose data room starts empty, chaining more
 * mbufs from mp when they do not fit, up to max_segs segments in all.
 * @return 0, or -ENOBUFS when the pool ran dry or max_segs was reached:
 * m then holds the packet cut short (pkt_len says how much).
 */
int wl_mbuf_copy_in(struct rte_mempool *mp, struct rte_mbuf *m,
	const uint8_t *data, uint32_t len, uint16_t max_segs);

static inline struct wl_mbuf_meta *
wl_mbuf_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, wl_mbuf_meta_offset, struct wl_mbuf_meta *);
}

#endif /* WL_MBUF_H */
