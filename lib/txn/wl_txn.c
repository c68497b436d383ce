/* SPDX-License-Identifier: BSD-3-Clause */

/* Names for the transaction enums and address formatting. */

#include <arpa/inet.h>
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
