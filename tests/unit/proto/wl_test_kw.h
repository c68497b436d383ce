/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_TEST_KW_H
#define WL_TEST_KW_H

/*
 * Checks of a generated keyword lookup (scripts/wl-kwgen) against a walk
 * of its list: every keyword gives its enum value; with fold, every case
 * variant too; and near misses -- every prefix, the keyword one byte
 * longer (before or after), each byte changed to a neighbour, its other
 * case (without fold), a non-ASCII byte, NUL or a space, two keywords
 * glued, and random strings -- give what the walk gives (-1 unless the
 * miss is itself a keyword). The walk is the reference: a lookup wrong
 * for any string tried fails.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct kw {
	const char *name;
	int id;
};

typedef int (*kw_lookup_fn)(const char *s, uint32_t n);

static int
kw_fold(int c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

/* The reference: a walk of the list. */
static int
kw_walk(const struct kw *kw, unsigned int n, int fold, const char *s,
	uint32_t len)
{
	unsigned int i;
	uint32_t k;

	for (i = 0; i < n; i++) {
		if (strlen(kw[i].name) != len)
			continue;
		for (k = 0; k < len; k++) {
			int a = (uint8_t)s[k], b = (uint8_t)kw[i].name[k];

			if (fold ? kw_fold(a) != kw_fold(b) : a != b)
				break;
		}
		if (k == len)
			return kw[i].id;
	}
	return -1;
}

/* s (len bytes) must give what the walk gives. */
static void
kw_try(kw_lookup_fn lookup, const struct kw *kw, unsigned int n, int fold,
	const char *s, uint32_t len)
{
	int want = kw_walk(kw, n, fold, s, len), got = lookup(s, len);

	if (got != want)
		fail_msg("lookup(\"%.*s\", %u) = %d, the list says %d",
			(int)len, s, len, got, want);
}

static void
kw_check(kw_lookup_fn lookup, const struct kw *kw, unsigned int n, int fold)
{
	static const uint8_t subst[] = {
		0, ' ', '_', '-', '0', 'A', 'z', 0x7f, 0x80, 0xc3, 0xff,
	};
	char buf[80], up[80];
	unsigned int i, j, r;
	uint32_t len, k;

	for (i = 0; i < n; i++) {
		len = (uint32_t)strlen(kw[i].name);
		assert_true(len + 2 < sizeof(buf));
		/* The keyword itself, and (with fold) in other cases. */
		assert_int_equal(lookup(kw[i].name, len), kw[i].id);
		for (k = 0; k < len; k++) {
			char c = kw[i].name[k];

			buf[k] = c >= 'A' && c <= 'Z' ? (char)(c + 32) :
				c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
			up[k] = (char)(k % 2 ? buf[k] : c);
		}
		if (fold) {
			assert_int_equal(lookup(buf, len), kw[i].id);
			assert_int_equal(lookup(up, len), kw[i].id);
		}
		kw_try(lookup, kw, n, fold, buf, len);
		kw_try(lookup, kw, n, fold, up, len);
		/* Prefixes, and one byte more after or before. */
		for (k = 0; k < len; k++)
			kw_try(lookup, kw, n, fold, kw[i].name, k);
		for (j = 0; j < sizeof(subst); j++) {
			memcpy(buf, kw[i].name, len);
			buf[len] = (char)subst[j];
			kw_try(lookup, kw, n, fold, buf, len + 1);
			buf[0] = (char)subst[j];
			memcpy(buf + 1, kw[i].name, len);
			kw_try(lookup, kw, n, fold, buf, len + 1);
		}
		/* Each byte one off, or replaced. */
		for (k = 0; k < len; k++) {
			for (j = 0; j < sizeof(subst) + 2; j++) {
				memcpy(buf, kw[i].name, len);
				buf[k] = j == 0 ? (char)(buf[k] + 1) :
					j == 1 ? (char)(buf[k] - 1) :
					(char)subst[j - 2];
				kw_try(lookup, kw, n, fold, buf, len);
			}
		}
		/* Two keywords glued, with and without a space. */
		for (j = 0; j < n; j++) {
			uint32_t l2 = (uint32_t)strlen(kw[j].name);

			if (len + 1 + l2 > sizeof(buf))
				continue;
			memcpy(buf, kw[i].name, len);
			memcpy(buf + len, kw[j].name, l2);
			kw_try(lookup, kw, n, fold, buf, len + l2);
			buf[len] = ' ';
			memcpy(buf + len + 1, kw[j].name, l2);
			kw_try(lookup, kw, n, fold, buf, len + 1 + l2);
		}
	}
	/* Random strings of the keywords' letters and others. */
	srand(1);
	for (r = 0; r < 200000; r++) {
		const char *from = kw[(unsigned int)rand() % n].name;

		len = (uint32_t)rand() % 14;
		for (k = 0; k < len; k++)
			buf[k] = rand() % 4 ? from[(unsigned int)rand() %
				strlen(from)] : (char)(rand() & 0xff);
		kw_try(lookup, kw, n, fold, buf, len);
	}
}

#endif /* WL_TEST_KW_H */
