/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Names for the transaction enums, address formatting, and the texts of
 * a compact record (wl_txn.h): stored one after the other, each with its
 * length, so that a record is as long as what it says.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "wl_txn.h"

static const char *const sc_names[] = {
#define _(e, n) [WL_SC_ ## e] = n,
	foreach_wl_status_class
#undef _
};

static const char *const flag_names[] = {
#define _(e, n) [WL_TXN_F_BIT_ ## e] = n,
	foreach_wl_txn_flag
#undef _
};

const char *
wl_status_class_name(enum wl_status_class sc)
{
	if ((unsigned int)sc >= WL_SC_MAX)
		return "error";
	return sc_names[sc];
}

const char *
wl_txn_flag_name(unsigned int b)
{
	if (b >= WL_TXN_F_BIT_MAX)
		return NULL;
	return flag_names[b];
}

void
wl_txn_str_move(struct wl_txn *t, unsigned int k, const char *s, size_t n)
{
	char *heap = (char *)t->var + t->area_q * 8u;
	unsigned int i, off = 0, tail = 0, old, room, used;
	char tmp[WL_TXN_STR_MAX];

	if (k >= WL_TXN_S_MAX)
		return;
	for (i = 0; i < k; i++)
		off += wl_txn_str_room(t->slen[i]);
	for (i = k + 1; i < WL_TXN_S_MAX; i++)
		tail += wl_txn_str_room(t->slen[i]);
	old = wl_txn_str_room(t->slen[k]);
	if (n > WL_TXN_STR_MAX)
		n = WL_TXN_STR_MAX;
	/* What the record has room for once the old text is gone. */
	used = t->area_q * 8u + off + tail;
	room = used + 1 < WL_TXN_VAR ? WL_TXN_VAR - used - 1 : 0;
	if (n > room)
		n = room;
	/* A text of this record (copied from one field to another) may
	 * move below. */
	if ((uintptr_t)s >= (uintptr_t)t &&
			(uintptr_t)s < (uintptr_t)t + sizeof(*t)) {
		memcpy(tmp, s, n);
		s = tmp;
	}
	if (tail != 0 && wl_txn_str_room((uint8_t)n) != old)
		memmove(heap + off + wl_txn_str_room((uint8_t)n),
			heap + off + old, tail);
	if (n != 0) {
		memcpy(heap + off, s, n);
		heap[off + n] = '\0';
	}
	t->slen[k] = (uint8_t)n;
}

int
wl_txn_check(const struct wl_txn *t)
{
	unsigned int i, off = t->area_q * 8u;
	const char *p;

	for (i = 0; i < WL_TXN_S_MAX; i++) {
		if (t->slen[i] == 0)
			continue;
		if (off + t->slen[i] + 1u > WL_TXN_VAR)
			return -EINVAL;
		p = (const char *)t->var + off;
		if (p[t->slen[i]] != '\0' || memchr(p, '\0', t->slen[i]))
			return -EINVAL;
		off += t->slen[i] + 1u;
	}
	return off <= WL_TXN_VAR ? 0 : -EINVAL;
}

void
wl_addr_from_v4(struct wl_addr *a, const uint8_t v4[4])
{
	memset(a->a, 0, 10);
	a->a[10] = 0xff;
	a->a[11] = 0xff;
	memcpy(&a->a[12], v4, 4);
}

void
wl_addr_format(const struct wl_addr *a, char *buf, size_t size)
{
	char *p = buf;
	unsigned int i, v;

	if (!wl_addr_is_v4(a) || size < INET_ADDRSTRLEN) {
		inet_ntop(wl_addr_is_v4(a) ? AF_INET : AF_INET6,
			wl_addr_is_v4(a) ? &a->a[12] : a->a, buf, size);
		return;
	}
	/* What inet_ntop() writes, without its sprintf (a log line
	 * formats two addresses: it was a tenth of the line's cost). */
	for (i = 12; i < 16; i++) {
		v = a->a[i];
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 15 ? '.' : '\0';
	}
}
