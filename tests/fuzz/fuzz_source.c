/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer target for lib/source: open the input as a pcap/pcapng image
 * from memory, read every packet (touching its bytes so ASan sees any
 * out-of-bounds pointer), then rewind and read again, which must give
 * the same packets and the same outcome. Then read the same bytes as a
 * stream, in reads of 1 to 64 bytes (the input's last byte picks the
 * size, and whether -EAGAIN comes between reads), once through the
 * default chunk ring and once through a ring of 2 or 3 chunks of 64 to
 * 1080 bytes (the byte before picks it), so records cross chunk
 * boundaries and outgrow chunks everywhere: packets, outcome and error
 * message must be those of memory, as docs/pcap.md promises. No EAL:
 * the mbuf path is not exercised here.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include "wl_source.h"
#include "wl_test_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
walk(struct wl_source *s, uint64_t *n, uint64_t *sum)
{
	struct wl_source_pkt p;
	uint32_t i;
	int r;

	*n = 0;
	*sum = 0;
	for (;;) {
		r = wl_source_next(s, &p);
		if (r == -EAGAIN) {
			/* Streams only, and never an end or an error. */
			if (wl_source_done(s) || wl_source_error(s) != NULL)
				abort();
			continue;
		}
		if (r != 1)
			break;
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

static int
same_error(const struct wl_source *a, const struct wl_source *b)
{
	const char *ea = wl_source_error(a), *eb = wl_source_error(b);

	if (ea == NULL || eb == NULL)
		return ea == eb;
	return strcmp(ea, eb) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[WL_SOURCE_ERR_LEN], err2[WL_SOURCE_ERR_LEN];
	struct wl_test_reader c = { .b = data, .len = size, .chunk = 1 };
	struct wl_source_ring ring = { .chunk_size = 64, .n_chunks = 2 };
	uint64_t n1, n2, s1, s2;
	struct wl_source *s, *st;
	int r1, r2, e1;

	if (size > 0) {
		c.chunk = 1 + (data[size - 1] & 63);
		c.again = data[size - 1] >> 7;
	}
	if (size > 1) {
		ring.chunk_size = WL_SOURCE_CHUNK_MIN +
			8u * (data[size - 2] & 0x7f);
		ring.n_chunks = 2 + (data[size - 2] >> 7);
	}
	s = wl_source_open_mem(data, size, "fuzz", err, sizeof(err));
	e1 = rte_errno;
	st = wl_source_open_reader(wl_test_reader_read, &c, "fuzz", err2,
		sizeof(err2));
	if (s == NULL) {
		/* Same refusal, same words. */
		if (st != NULL || rte_errno != e1 || strcmp(err, err2) != 0)
			abort();
		return 0;
	}
	if (st == NULL)
		abort();
	c.opened = 1;
	r1 = walk(s, &n1, &s1);
	r2 = walk(st, &n2, &s2);
	/* A block larger than the stream buffer is the one difference. */
	if (!(r2 == -E2BIG && size > WL_SOURCE_STREAM_BUF) &&
			(r1 != r2 || n1 != n2 || s1 != s2 ||
			!same_error(s, st)))
		abort();
	if (wl_source_rewind(st) != -ESPIPE)
		abort();
	wl_source_close(st);
	c.pos = 0;
	c.calls = 0;
	c.opened = 0;
	st = wl_source_open_reader_ring(wl_test_reader_read, &c, "fuzz", &ring,
		err2, sizeof(err2));
	if (st == NULL)
		abort();
	c.opened = 1;
	r2 = walk(st, &n2, &s2);
	if (!(r2 == -E2BIG && size > WL_SOURCE_STREAM_BUF) &&
			(r1 != r2 || n1 != n2 || s1 != s2 ||
			!same_error(s, st)))
		abort();
	wl_source_close(st);
	wl_source_rewind(s);
	r2 = walk(s, &n2, &s2);
	if (r1 != r2 || n1 != n2 || s1 != s2)
		abort();
	wl_source_close(s);
	return 0;
}
