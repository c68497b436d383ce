/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_JW_H
#define WL_JW_H

/*
 * A streaming JSON writer for the hot logs (the transaction and
 * connection logs): it formats straight into a caller-owned buffer and
 * hands the buffer to a flush callback when it is full, so a record
 * costs no allocation and a large buffer goes out in one write(2). Its
 * output is byte for byte what jansson's json_dumpb(JSON_COMPACT) gives
 * for the same object built in the same order (docs/output.md): same
 * escaping, "%lld" integers, "%.17g" reals with ".0" appended, and a
 * value jansson would refuse (a NULL or invalid UTF-8 string, a NaN)
 * leaves its key out, as json_object_set_new() does.
 *
 * It lives in lib/common, not lib/export, because the protocols
 * (lib/proto, below lib/export in lib/meson.build) write their own
 * fields through it. jansson stays for the configuration, the stats
 * JSON and the tests, which parse the writer's lines back.
 *
 * Every value function takes the key it is written under, NULL inside
 * an array. Keys are written as given: ASCII without '"', '\\' or
 * control characters. Nesting is at most WL_JW_DEPTH deep.
 *
 * Not thread-safe: one writer per thread (in wirelat: the collector's).
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WL_JW_DEPTH 32
/* Smallest buffer: the longest item written without a flush in between
 * (an escape, a number) must fit. */
#define WL_JW_MIN_CAP 64

struct wl_jw;

/*
 * Write w->buf[0, w->len) somewhere and set w->len to what is left (0).
 * @return 0, or -errno: the writer then drops everything after.
 */
typedef int (*wl_jw_flush_t)(struct wl_jw *w, void *arg);

struct wl_jw {
	char *buf;
	size_t len;             /* bytes in buf */
	size_t cap;
	wl_jw_flush_t flush;    /* NULL: a full buffer is an error */
	void *arg;
	int err;                /* first error, -errno; then no output */
	unsigned int depth;
	uint32_t more;          /* bit d: depth d has an item: comma next */
};

/**
 * Start a writer on buf.
 *
 * @param cap
 *   At least WL_JW_MIN_CAP, else (or buf NULL) w->err is -EINVAL and the
 *   writer writes nothing.
 * @param flush
 *   Called when the next item does not fit, and by wl_jw_flush(); NULL
 *   when a full buffer is an error (-ENOBUFS in w->err).
 */
void wl_jw_init(struct wl_jw *w, char *buf, size_t cap, wl_jw_flush_t flush,
	void *arg);

/**
 * Hand what the buffer holds to the flush callback.
 *
 * @return
 *   0, or w->err (-ENOBUFS without a callback, else the callback's).
 */
int wl_jw_flush(struct wl_jw *w);

/*
 * Each function with a key is an inline wrapper of a _k one that takes
 * the key's length: keys are literals, so the length is known when the
 * caller is compiled, not taken with strlen() for every item.
 */
static inline size_t
wl_jw_klen(const char *key)
{
	return key != NULL ? strlen(key) : 0;
}

/** Open an object (key NULL: at the top level or in an array). */
void wl_jw_obj_open_k(struct wl_jw *w, const char *key, size_t klen);
void wl_jw_obj_close(struct wl_jw *w);
void wl_jw_arr_open_k(struct wl_jw *w, const char *key, size_t klen);
void wl_jw_arr_close(struct wl_jw *w);

static inline void
wl_jw_obj_open(struct wl_jw *w, const char *key)
{
	wl_jw_obj_open_k(w, key, wl_jw_klen(key));
}

static inline void
wl_jw_arr_open(struct wl_jw *w, const char *key)
{
	wl_jw_arr_open_k(w, key, wl_jw_klen(key));
}

/**
 * A string, escaped as jansson does. s NULL or not UTF-8 (jansson's
 * json_string() refuses it): nothing written, key included.
 */
void wl_jw_str_k(struct wl_jw *w, const char *key, size_t klen,
	const char *s);

static inline void
wl_jw_str(struct wl_jw *w, const char *key, const char *s)
{
	wl_jw_str_k(w, key, wl_jw_klen(key), s);
}

/**
 * A string of text taken from the wire: as wl_jw_str() when it is UTF-8,
 * else its first 255 bytes with every non-ASCII byte as '?' (a field
 * must not vanish from the log because a capture cut a sequence).
 */
void wl_jw_str_wire_k(struct wl_jw *w, const char *key, size_t klen,
	const char *s);

static inline void
wl_jw_str_wire(struct wl_jw *w, const char *key, const char *s)
{
	wl_jw_str_wire_k(w, key, wl_jw_klen(key), s);
}

/** 1 when s is UTF-8 as jansson checks it (json_string() accepts s). */
int wl_jw_utf8_ok(const char *s, size_t n);

void wl_jw_u64_k(struct wl_jw *w, const char *key, size_t klen,
	uint64_t v);
void wl_jw_i64_k(struct wl_jw *w, const char *key, size_t klen,
	int64_t v);
void wl_jw_bool_k(struct wl_jw *w, const char *key, size_t klen, int v);
void wl_jw_null_k(struct wl_jw *w, const char *key, size_t klen);
/** jansson's format: "%.17g", ".0" when that looks like an integer; a
 * NaN or an infinity (json_real() refuses them): nothing written. */
void wl_jw_real_k(struct wl_jw *w, const char *key, size_t klen, double v);

static inline void
wl_jw_u64(struct wl_jw *w, const char *key, uint64_t v)
{
	wl_jw_u64_k(w, key, wl_jw_klen(key), v);
}

static inline void
wl_jw_i64(struct wl_jw *w, const char *key, int64_t v)
{
	wl_jw_i64_k(w, key, wl_jw_klen(key), v);
}

static inline void
wl_jw_bool(struct wl_jw *w, const char *key, int v)
{
	wl_jw_bool_k(w, key, wl_jw_klen(key), v);
}

static inline void
wl_jw_null(struct wl_jw *w, const char *key)
{
	wl_jw_null_k(w, key, wl_jw_klen(key));
}

static inline void
wl_jw_real(struct wl_jw *w, const char *key, double v)
{
	wl_jw_real_k(w, key, wl_jw_klen(key), v);
}

/**
 * n bytes as they are: no separator, no escaping (a newline between
 * records, or items rendered earlier by a writer of their own).
 */
void wl_jw_raw(struct wl_jw *w, const char *p, size_t n);

#endif /* WL_JW_H */
