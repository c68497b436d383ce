/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_PARSE_H
#define WL_PARSE_H

/* Command-line values shared by the programs (no DPDK). */

#include <stdint.h>

/**
 * A duration: decimal with an optional fraction and unit ns, us, ms or s
 * (none = ns), e.g. "1500", "200us", "1.5ms". Exact: no floating point;
 * digits beyond the ns are dropped.
 * @return 0 or -EINVAL (not a duration, or above about 11 days in s).
 */
int wl_parse_duration_ns(const char *s, uint64_t *out);

#endif /* WL_PARSE_H */
