/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <string.h>

#include "wl_parse.h"

int
wl_parse_duration_ns(const char *s, uint64_t *out)
{
	static const struct {
		const char *u;
		uint64_t mul;
	} units[] = {
		{ "", 1 }, { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000ULL },
	};
	uint64_t whole = 0, frac = 0, fdiv = 1;
	const char *p = s;
	unsigned int i;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > 1000000000000000ULL)
			return -EINVAL;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (fdiv < 1000000000ULL) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				fdiv *= 10;
			}
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].u) != 0)
			continue;
		if (whole > 1000000000000000ULL / units[i].mul)
			return -EINVAL;
		*out = whole * units[i].mul + frac * units[i].mul / fdiv;
		return 0;
	}
	return -EINVAL;
}
