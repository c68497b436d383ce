/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_COMMON_H
#define WL_COMMON_H

/*
 * Small helpers shared by every wirelat library. Nothing here touches
 * DPDK so that libraries used by wirelat-stat (hist, shm) can include it.
 */

#include <stddef.h>
#include <stdint.h>

#define WL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define WL_MAX(a, b) ((a) > (b) ? (a) : (b))
#define WL_CACHE_LINE 64
#define WL_CACHE_ALIGNED __attribute__((aligned(WL_CACHE_LINE)))

#define WL_NS_PER_S 1000000000ULL
#define WL_NS_PER_MS 1000000ULL
#define WL_NS_PER_US 1000ULL

/* Copy a string into a fixed field, always NUL-terminated, truncating. */
static inline void
wl_strlcpy(char *dst, const char *src, size_t size)
{
	size_t i;

	if (size == 0)
		return;
	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/* Copy at most n bytes of a non-terminated buffer into a fixed field. */
static inline void
wl_strncpy_buf(char *dst, size_t size, const void *src, size_t n)
{
	const char *s = src;
	size_t i;

	if (size == 0)
		return;
	for (i = 0; i + 1 < size && i < n; i++)
		dst[i] = s[i];
	dst[i] = '\0';
}

#endif /* WL_COMMON_H */
