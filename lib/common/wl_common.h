/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_COMMON_H
#define WL_COMMON_H

/*
 * Small helpers shared by every wirelat library. Nothing here touches
 * DPDK so that libraries used by wirelat-stat (hist, shm) can include it.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/*
 * 1 when s is one of the first n strings of l (a NULL entry ends l
 * early: fixed-size tables of lists shorter than their row).
 */
static inline int
wl_str_in(const char *s, const char *const *l, size_t n)
{
	size_t i;

	for (i = 0; i < n && l[i] != NULL; i++)
		if (strcmp(l[i], s) == 0)
			return 1;
	return 0;
}

/*
 * A hash of n bytes (n a multiple of 8) a word at a time: for fixed keys
 * hashed often, where a byte loop of multiplies is a chain as long as
 * the key. The high bits are the best mixed.
 */
static inline uint64_t
wl_hash_words(const void *p, size_t n)
{
	uint64_t w, h = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i + sizeof(w) <= n; i += sizeof(w)) {
		memcpy(&w, (const char *)p + i, sizeof(w));
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
	}
	return h;
}

/* Instance names end up in a shm name and a file prefix: keep them tame. */
#define WL_INSTANCE_LEN 48

/* 1 when s is 1 to WL_INSTANCE_LEN - 1 of [A-Za-z0-9_.-]. */
static inline int
wl_instance_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i == WL_INSTANCE_LEN - 1 ||
				!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') || c == '_' || c == '-' ||
				c == '.'))
			return 0;
	}
	return i > 0;
}

#endif /* WL_COMMON_H */
