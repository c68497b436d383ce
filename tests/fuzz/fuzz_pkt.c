/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer target for lib/pkt: the first byte picks the link type
 * (modulo WL_LINK_MAX), the rest is the frame. The frame is copied into
 * a buffer of exactly its size so ASan flags any read past len. Every
 * outcome is checked for the invariants wl_pkt.h promises (pointers
 * inside the frame, payload only on success, caller fields untouched),
 * the payload is touched byte by byte, and a successful decode is hashed
 * in both directions, which must agree.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "wl_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct wl_pkt *p, const uint8_t *b, uint32_t len,
	enum wl_pkt_err e)
{
	struct wl_pkt r;
	volatile uint8_t sink = 0;
	uint32_t i;

	if ((unsigned int)e >= WL_PKT_ERR_MAX)
		abort();
	if (p->ts_ns != 1 || p->port != 2 || p->hash != 3 || p->wire_len != 4)
		abort();
	if (p->nvlan > 2 || p->nsack > WL_PKT_MAX_SACK)
		abort();
	if (p->l3 != NULL && (p->l3 < b || p->l3 >= b + len))
		abort();
	if (p->l4 != NULL && (p->l4 < b || p->l4 > b + len))
		abort();
	if (p->frag_l4 != NULL && (e != WL_PKT_ERR_FRAGMENT ||
			p->frag_l4 <= p->l3 || p->frag_l4 > b + len))
		abort();
	if (e != WL_PKT_OK) {
		if (p->payload != NULL || p->payload_len != 0)
			abort();
		return;
	}
	if (p->l3 == NULL || p->l4 == NULL || p->payload == NULL)
		abort();
	if (p->l4 <= p->l3 || p->payload <= p->l4 || p->payload > b + len ||
			p->payload_len > (uint32_t)(b + len - p->payload))
		abort();
	if (p->ip_version != 4 && p->ip_version != 6)
		abort();
	if (p->l4proto != IPPROTO_TCP && p->l4proto != IPPROTO_UDP)
		abort();
	if (p->tcp_wscale != 0xff && p->tcp_wscale > 14)
		abort();
	for (i = 0; i < p->payload_len; i++)
		sink ^= p->payload[i];
	(void)sink;

	r = *p;
	r.src = p->dst;
	r.dst = p->src;
	r.sport = p->dport;
	r.dport = p->sport;
	if (wl_pkt_hash_sym(p) != wl_pkt_hash_sym(&r))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum wl_link link;
	enum wl_pkt_err e;
	struct wl_pkt p;
	uint8_t *b;
	uint32_t len;

	if (size < 1 || size - 1 > UINT32_MAX)
		return 0;
	link = (enum wl_link)(data[0] % WL_LINK_MAX);
	len = (uint32_t)(size - 1);
	/* ASan's malloc(0) is a valid zero-byte block: any read is caught. */
	b = malloc(len);
	if (b == NULL)
		return 0;
	memcpy(b, data + 1, len);
	memset(&p, 0xa5, sizeof(p));
	p.ts_ns = 1;
	p.port = 2;
	p.hash = 3;
	p.wire_len = 4;
	e = wl_pkt_decode(&p, b, len, link);
	check(&p, b, len, e);
	free(b);
	return 0;
}
