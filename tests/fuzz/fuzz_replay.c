/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer target for lib/replay: the first byte picks the link type
 * (modulo WL_LINK_MAX) and the loop number (the rest of the byte picks
 * one of a few interesting values), the rest is the frame, copied into a
 * buffer of exactly its size so ASan flags any access past caplen.
 *
 * Checked: classify's answer is consistent (and the same on a second
 * look, from the table); the rewrite keeps the length and writes only the
 * client address (exactly + loop, in its last 32 bits) and the IPv4 and
 * TCP/UDP checksum fields; and the one's-complement sums those checksums
 * protect are unchanged (modulo 0xffff), over whatever bytes were
 * captured: the IPv4 header, and the addresses plus the L4 bytes.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "wl_replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t loops[] = {
	0, 1, 2, 3, 255, 256, 0xffff, 0x10000, 0x7fffffff, 0xfffffffe,
	0xffffffff, 12345,
};

static uint32_t
sum_bytes(uint32_t s, const uint8_t *b, uint32_t n)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

/* One's-complement sum folded, with 0xffff and 0 identified. */
static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff ? 0 : (uint16_t)s;
}

static uint16_t
l4_sum(const struct wl_dir_info *in, const uint8_t *b, uint32_t len)
{
	uint32_t s;

	if (in->ip_version == 4)
		s = sum_bytes(0, b + in->l3_off + 12, 8);
	else
		s = sum_bytes(0, b + in->l3_off + 8, 32);
	return fold(sum_bytes(s, b + in->l4_off, len - in->l4_off));
}

static uint16_t
rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t
rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		(uint32_t)b[2] << 8 | b[3];
}

static void
check(const struct wl_dir_info *in, const uint8_t *b, const uint8_t *c,
	uint32_t len, uint32_t loop)
{
	uint32_t addr = 0, ipc = 0, l4c = 0, i, ihl = 0;
	int v4;

	if (!in->is_flow || loop == 0) {
		if (memcmp(b, c, len) != 0)
			abort();
		return;
	}
	v4 = in->ip_version == 4;
	addr = in->l3_off + (v4 ? 12 : 8 + 12);
	if (in->dir == WL_DIR_S2C)
		addr += v4 ? 4 : 16;
	if (v4) {
		ipc = in->l3_off + 10;
		ihl = (uint32_t)(b[in->l3_off] & 0xf) * 4;
	}
	l4c = in->l4_off + (in->l4proto == IPPROTO_TCP ? 16 : 6);
	for (i = 0; i < len; i++) {
		if (b[i] == c[i])
			continue;
		if (i >= addr && i < addr + 4)
			continue;
		if (v4 && (i == ipc || i == ipc + 1))
			continue;
		if (i == l4c || i == l4c + 1)
			continue;
		abort();
	}
	if (rd32(c + addr) != rd32(b + addr) + loop)
		abort();
	if (v4 && fold(sum_bytes(0, b + in->l3_off, ihl)) !=
			fold(sum_bytes(0, c + in->l3_off, ihl)))
		abort();
	if (in->l4proto == IPPROTO_UDP && rd16(b + l4c) == 0) {
		if (rd16(c + l4c) != 0)
			abort();
		return;
	}
	/* A UDP checksum that comes out 0 is sent as 0xffff (RFC 768). */
	if (in->l4proto == IPPROTO_UDP && rd16(c + l4c) == 0)
		abort();
	if (l4_sum(in, b, len) != l4_sum(in, c, len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wl_dir_info in, again;
	struct wl_dir_table *t;
	enum wl_link link;
	uint8_t *b, *c;
	uint32_t len, loop, hdr;

	if (size < 1 || size - 1 > UINT32_MAX)
		return 0;
	link = (enum wl_link)(data[0] % WL_LINK_MAX);
	loop = loops[(data[0] / WL_LINK_MAX) % (sizeof(loops) /
		sizeof(loops[0]))];
	len = (uint32_t)(size - 1);
	b = malloc(len);
	c = malloc(len);
	t = wl_dir_table_create(4);
	if (b == NULL || c == NULL || t == NULL)
		abort();
	memcpy(b, data + 1, len);
	memcpy(c, data + 1, len);

	if (wl_dir_classify(t, b, len, link, &in) != 0)
		abort();
	if (in.dir > WL_DIR_S2C || in.how >= WL_DIR_HOW_MAX)
		abort();
	if (!in.is_flow) {
		if (in.dir != WL_DIR_C2S || in.how != WL_DIR_HOW_NONE)
			abort();
	} else {
		if (in.ip_version != 4 && in.ip_version != 6)
			abort();
		if (in.l4proto != IPPROTO_TCP && in.l4proto != IPPROTO_UDP)
			abort();
		hdr = in.l4proto == IPPROTO_TCP ? 20 : 8;
		if (in.l4_off < in.l3_off + (in.ip_version == 4 ? 20 : 40) ||
				in.l4_off + hdr > len ||
				in.how == WL_DIR_HOW_NONE)
			abort();
	}
	/* The second look comes from the table (or the same fallback). */
	if (wl_dir_classify(t, b, len, link, &again) != 0 ||
			again.dir != in.dir || again.how != in.how ||
			again.is_flow != in.is_flow ||
			again.l3_off != in.l3_off || again.l4_off != in.l4_off)
		abort();

	if (wl_rewrite_client(c, len, &in, loop) != 0)
		abort();
	check(&in, b, c, len, loop);

	wl_dir_table_free(t);
	free(b);
	free(c);
	return 0;
}
