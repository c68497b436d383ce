/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Any bytes as a config file: parse, apply, validate (wirelat's checks
 * and wirelat-export's of the export block) and print back. Whatever was
 * accepted must print and re-apply to the same struct.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wl_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const protos[] = {"tcp", "http", NULL};
	static struct wl_config c, d;
	char err[512];
	json_error_t je;
	json_t *j, *out;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		return 0;
	wl_config_defaults(&c);
	if (wl_config_apply_json(&c, j, err, sizeof(err)) == 0) {
		wl_config_validate(&c, protos, err, sizeof(err));
		if (wl_config_validate_export(&c, err, sizeof(err)) != 0 &&
				memchr(err, '\n', strnlen(err, sizeof(err))) != NULL)
			abort();
		out = wl_config_to_json(&c);
		wl_config_defaults(&d);
		if (wl_config_apply_json(&d, out, err, sizeof(err)) != 0 ||
				memcmp(&c, &d, sizeof(c)) != 0)
			abort();
		json_decref(out);
	} else if (memchr(err, '\n', strnlen(err, sizeof(err))) != NULL) {
		abort();        /* errors are one line */
	}
	json_decref(j);
	return 0;
}
