/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_TEST_READER_H
#define WL_TEST_READER_H

/*
 * A read function for wl_source_open_reader() over a memory buffer, for
 * the unit tests and the fuzz target: reads of at most chunk bytes; with
 * again, -EAGAIN between them once the source is open (a non-blocking
 * pipe not written to yet); with fail_errno, that error once pos reaches
 * fail_at.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

struct wl_test_reader {
	const uint8_t *b;
	size_t len;
	size_t pos;
	size_t chunk;
	int again;
	int opened;
	unsigned int calls;
	int fail_errno;
	size_t fail_at;
};

static inline ssize_t
wl_test_reader_read(void *arg, void *buf, size_t len)
{
	struct wl_test_reader *r = arg;
	size_t n;

	r->calls++;
	if (r->again && r->opened && (r->calls & 1))
		return -EAGAIN;
	if (r->fail_errno != 0 && r->pos >= r->fail_at)
		return -r->fail_errno;
	n = r->len - r->pos;
	if (n > r->chunk)
		n = r->chunk;
	if (n > len)
		n = len;
	memcpy(buf, r->b + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

#endif /* WL_TEST_READER_H */
