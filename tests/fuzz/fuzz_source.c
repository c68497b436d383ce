/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer target for lib/source: open the input as a pcap/pcapng image
 * from memory, read every packet (touching its bytes so ASan sees any
 * out-of-bounds pointer), then rewind and read again, which must give
 * the same packets and the same outcome. No EAL: the mbuf path is not
 * exercised here.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "wl_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
walk(struct wl_source *s, uint64_t *n, uint64_t *sum)
{
	struct wl_source_pkt p;
	uint32_t i;
	int r;

	*n = 0;
	*sum = 0;
	while ((r = wl_source_next(s, &p)) == 1) {
		if (p.caplen > WL_SOURCE_MAX_CAPLEN || p.wire_len < p.caplen ||
				p.link >= WL_LINK_MAX)
			abort();
		for (i = 0; i < p.caplen; i++)
			*sum += p.data[i];
		*sum += p.ts_ns;
		(*n)++;
	}
	if ((r < 0) != (wl_source_error(s) != NULL))
		abort();
	if ((r == 0) != (wl_source_done(s) != 0))
		abort();
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[WL_SOURCE_ERR_LEN];
	uint64_t n1, n2, s1, s2;
	struct wl_source *s;
	int r1, r2;

	s = wl_source_open_mem(data, size, "fuzz", err, sizeof(err));
	if (s == NULL)
		return 0;
	r1 = walk(s, &n1, &s1);
	wl_source_rewind(s);
	r2 = walk(s, &n2, &s2);
	if (r1 != r2 || n1 != n2 || s1 != s2)
		abort();
	wl_source_close(s);
	return 0;
}
