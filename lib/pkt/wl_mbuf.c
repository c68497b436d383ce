/* SPDX-License-Identifier: BSD-3-Clause */

/* The wirelat per-mbuf metadata dynamic field; copying into mbufs. */

#include <errno.h>

#include <rte_errno.h>
#include <rte_memcpy.h>

#include "wl_mbuf.h"

int wl_mbuf_meta_offset = -1;

int
wl_mbuf_meta_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "wirelat_meta",
		.size = sizeof(struct wl_mbuf_meta),
		.align = __alignof__(struct wl_mbuf_meta),
	};
	int off;

	off = rte_mbuf_dynfield_register(&desc);
	if (off < 0)
		return -rte_errno;
	wl_mbuf_meta_offset = off;
	return 0;
}

int
wl_mbuf_copy_in(struct rte_mempool *mp, struct rte_mbuf *m,
	const uint8_t *data, uint32_t len, uint16_t max_segs)
{
	struct rte_mbuf *last = m, *seg;
	uint32_t room = rte_pktmbuf_tailroom(m), n = RTE_MIN(len, room);

	rte_memcpy(rte_pktmbuf_mtod(m, void *), data, n);
	m->data_len = (uint16_t)n;
	m->pkt_len = n;
	while (m->pkt_len < len) {
		if (m->nb_segs >= max_segs ||
				(seg = rte_pktmbuf_alloc(mp)) == NULL)
			return -ENOBUFS;
		n = RTE_MIN(len - m->pkt_len, rte_pktmbuf_tailroom(seg));
		rte_memcpy(rte_pktmbuf_mtod(seg, void *), data + m->pkt_len, n);
		seg->data_len = (uint16_t)n;
		last->next = seg;
		last = seg;
		m->nb_segs++;
		m->pkt_len += n;
	}
	return 0;
}
