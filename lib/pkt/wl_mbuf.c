/* SPDX-License-Identifier: BSD-3-Clause */

/* Registration of the wirelat per-mbuf metadata dynamic field. */

#include <rte_errno.h>

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
