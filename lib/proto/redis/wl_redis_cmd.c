/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The tables of wl_redis_cmd.h's list, by command id; the lookup itself
 * is generated (wl_redis_cmd_kw.c).
 */

#include <stddef.h>

#include "wl_redis_cmd.h"

const uint8_t wl_redis_cmd_flags[WL_REDIS_CMD_MAX] = {
#define _(e, n, f, t) [WL_REDIS_CMD_ ## e] = (f),
	foreach_wl_redis_cmd
#undef _
};

const char *const wl_redis_cmd_types[WL_REDIS_CMD_MAX] = {
#define _(e, n, f, t) [WL_REDIS_CMD_ ## e] = (t),
	foreach_wl_redis_cmd
#undef _
};

const char *const wl_redis_cmd_names[WL_REDIS_CMD_MAX] = {
#define _(e, n, f, t) [WL_REDIS_CMD_ ## e] = (n),
	foreach_wl_redis_cmd
#undef _
};
