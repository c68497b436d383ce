/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The single place a protocol is registered.
 *   _(ENUM, name)   ->  WL_PROTO_<ENUM>, "name", wl_proto_<name>_ops
 * Order is the probe order for flows whose port gives no hint.
 * TCP is the built-in connection "protocol" (handshake transactions); it
 * has no probe and never claims a flow.
 * Meson reads these lines too (lib/proto/meson.build) for the protocol's
 * directory, unit test, fuzz target and e2e test: keep one _(ENUM, name)
 * per line, each but the last ending in a backslash.
 */
#define foreach_wl_proto \
	_(TCP, tcp) \
	_(HTTP, http) \
	_(REDIS, redis) \
	_(MEMCACHED, memcached) \
	_(POSTGRESQL, postgresql) \
	_(MYSQL, mysql) \
	_(DNS, dns)
