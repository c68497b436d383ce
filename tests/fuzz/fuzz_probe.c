/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Detection through the signature database (wl_probe.h): on any bytes,
 * each transport and direction, every protocol whose probe does not say
 * no is a candidate, and wl_probe_detect() answers as it does running
 * every probe (protocol and "too short to tell"), with no port hint and
 * with each protocol hinted. The first input byte picks how much of the
 * rest is offered (all of it, or a prefix: starts cut short).
 */
#include <stdint.h>
#include <stdlib.h>

#include <netinet/in.h>

#include "wl_probe.h"
#include "wl_proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wl_probe_db *db;
static struct wl_probe_scratch *scr;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	db = wl_probe_db_create(wl_protos, WL_PROTO_MAX, err, sizeof(err));
	scr = db != NULL ? wl_probe_scratch_create(db) : NULL;
	if (scr == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t l4s[] = { IPPROTO_TCP, IPPROTO_UDP };
	unsigned int t, dir, id, h;
	uint32_t len;

	if (size < 2)
		return 0;
	len = (uint32_t)(size - 1);
	if (data[0] != 0 && data[0] < len)
		len = data[0];
	data++;
	for (t = 0; t < 2; t++) {
		for (dir = 0; dir < 2; dir++) {
			uint32_t cand = wl_probe_candidates(db, scr, l4s[t],
				dir, data, len), usable = 0;

			for (id = 0; id < WL_PROTO_MAX; id++) {
				const struct wl_proto_ops *o = wl_protos[id];
				enum wl_probe (*fn)(const uint8_t *, uint32_t,
					enum wl_dir) = o->l4proto == l4s[t] ?
					o->probe : o->l4proto2 == l4s[t] ?
					o->probe2 : NULL;

				if (fn == NULL)
					continue;
				usable |= 1u << id;
				if (fn(data, len, dir) != WL_PROBE_NO &&
						!(cand & (1u << id)))
					abort();
			}
			for (h = 0; h <= WL_PROTO_MAX; h++) {
				uint32_t hint = h < WL_PROTO_MAX ? 1u << h : 0;
				int m1 = 0, m2 = 0;

				if (wl_probe_detect(NULL, NULL, wl_protos, usable,
						hint, l4s[t], dir, data, len, &m1) !=
						wl_probe_detect(db, scr, wl_protos,
						usable, hint, l4s[t], dir, data, len,
						&m2) || m1 != m2)
					abort();
			}
		}
	}
	return 0;
}
