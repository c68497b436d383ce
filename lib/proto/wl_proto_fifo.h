/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_PROTO_FIFO_H
#define WL_PROTO_FIFO_H

/*
 * Index arithmetic of a bounded first-in first-out ring of pending
 * requests, shared by the protocols that pair replies in order. The
 * protocol keeps the slots (an array of its own request type); this only
 * says which slot is where.
 */

#include <stdint.h>

struct wl_fifo {
	uint32_t first;         /* slot of the oldest entry */
	uint32_t n;             /* entries */
};

/* Slot of the i-th oldest entry of a ring of cap slots. */
static inline uint32_t
wl_fifo_at(const struct wl_fifo *f, uint32_t cap, uint32_t i)
{
	return (f->first + i) % cap;
}

/* Slot for a new newest entry, or UINT32_MAX when the ring is full. */
static inline uint32_t
wl_fifo_push(struct wl_fifo *f, uint32_t cap)
{
	if (f->n == cap)
		return UINT32_MAX;
	return wl_fifo_at(f, cap, f->n++);
}

static inline void
wl_fifo_pop(struct wl_fifo *f, uint32_t cap)
{
	f->first = (f->first + 1) % cap;
	f->n--;
}

#endif /* WL_PROTO_FIFO_H */
