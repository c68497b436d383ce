/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The streaming JSON writer against jansson itself: the logs' contract
 * is that a line is byte for byte what json_dumpb(JSON_COMPACT) gave for
 * the same object, so every case renders both ways and compares.
 */

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "wl_jw.h"

static char big[1 << 16];

/* ---- references ---- */

/* jansson's rendering, freed by the caller. */
static char *
ref_dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	json_decref(j);
	assert_non_null(s);
	return s;
}

/* What the logs did before the writer: wl_proto_json_str(). */
static json_t *
ref_wire(const char *s)
{
	char buf[256];
	size_t i;
	json_t *j = json_string(s);

	if (j != NULL)
		return j;
	for (i = 0; s[i] != '\0' && i + 1 < sizeof(buf); i++)
		buf[i] = (s[i] & 0x80) ? '?' : s[i];
	buf[i] = '\0';
	return json_string(buf);
}

/* {"k":<wire s>,"s":<strict s>} both ways. */
static void
check_str(const char *s)
{
	json_t *o = json_object();
	struct wl_jw w;
	char *ref;

	json_object_set_new(o, "k", ref_wire(s));
	json_object_set_new(o, "s", json_string(s));  /* NULL: left out */
	ref = ref_dump(o);
	wl_jw_init(&w, big, sizeof(big), NULL, NULL);
	wl_jw_obj_open(&w, NULL);
	wl_jw_str_wire(&w, "k", s);
	wl_jw_str(&w, "s", s);
	wl_jw_obj_close(&w);
	assert_int_equal(w.err, 0);
	big[w.len] = '\0';
	assert_string_equal(big, ref);
	free(ref);
}

/* ---- strings ---- */

static void
test_every_byte(void **state)
{
	char s[8];
	unsigned int c;

	(void)state;
	/* Alone and between ASCII: every control character, '"', '\\',
	 * DEL, and every lone high byte (invalid UTF-8: '?'). */
	for (c = 1; c < 256; c++) {
		s[0] = (char)c;
		s[1] = '\0';
		check_str(s);
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'b';
		s[3] = '\0';
		check_str(s);
	}
	check_str("");
	check_str("\"quoted\" \\back\\slash\\ /slash/");
	check_str("\x01\x1f\b\f\n\r\t\x7f");
}

static void
test_utf8(void **state)
{
	static const char *const cases[] = {
		"caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",   /* valid */
		"\xef\xbb\xbf", "\xf4\x8f\xbf\xbf",                 /* BOM, max */
		"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf",             /* overlong */
		"\xf0\x80\x80\xaf",
		"\xed\xa0\x80", "\xed\xbf\xbf",                     /* surrogates */
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80",             /* > 10FFFF */
		"\xc3", "\xe2\x82", "\xf0\x9f\x98", "x\xc3",        /* cut */
		"\xc3\x28", "\xe2\x28\xa1", "\x80", "\xbf\xbf",      /* bad */
		"\xc3\xa9\n\xff\"",                                 /* mixed */
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_str(cases[i]);
}

/* Random bytes, biased towards what trips a writer: high bytes, escapes,
 * real sequences; longer than the 255 bytes kept of invalid text. */
static void
test_random_strings(void **state)
{
	static const char *const frag[] = {
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\"", "\\",
		"\n", "\x01", "\xff", "\xc3", "abc",
	};
	char s[600];
	unsigned int seed = 1, i, n, k;
	size_t len;

	(void)state;
	for (i = 0; i < 20000; i++) {
		n = (unsigned int)rand_r(&seed) % 300;
		len = 0;
		for (k = 0; k < n && len + 5 < sizeof(s); k++) {
			if (rand_r(&seed) % 3 == 0) {
				const char *f = frag[rand_r(&seed) % 10];

				memcpy(s + len, f, strlen(f));
				len += strlen(f);
			} else {
				s[len] = (char)(1 + rand_r(&seed) % 255);
				len++;
			}
		}
		s[len] = '\0';
		check_str(s);
	}
}

/* ---- numbers ---- */

static void
check_ints(int64_t v)
{
	json_t *o = json_object();
	struct wl_jw w;
	char *ref;

	json_object_set_new(o, "i", json_integer((json_int_t)v));
	json_object_set_new(o, "u", json_integer((json_int_t)v));
	ref = ref_dump(o);
	wl_jw_init(&w, big, sizeof(big), NULL, NULL);
	wl_jw_obj_open(&w, NULL);
	wl_jw_i64(&w, "i", v);
	wl_jw_i64(&w, "u", (int64_t)(uint64_t)v);
	wl_jw_obj_close(&w);
	big[w.len] = '\0';
	assert_string_equal(big, ref);
	free(ref);
}

static void
test_integers(void **state)
{
	unsigned int seed = 7, i, d;
	struct wl_jw w;
	int64_t v;

	(void)state;
	check_ints(0);
	check_ints(INT64_MAX);
	check_ints(INT64_MIN);
	check_ints(-1);
	/* 10^0 .. 10^18: the next power does not fit an int64_t. */
	for (d = 0, v = 1;; d++, v *= 10) {
		check_ints(v);
		check_ints(v - 1);
		check_ints(-v);
		check_ints(-v + 1);
		if (d == 18)
			break;
	}
	for (i = 0; i < 100000; i++) {
		v = (int64_t)(((uint64_t)rand_r(&seed) << 42) ^
			((uint64_t)rand_r(&seed) << 21) ^ (uint64_t)rand_r(&seed));
		check_ints(v >> (rand_r(&seed) % 63));
	}
	/* Unsigned, past what jansson could hold. */
	wl_jw_init(&w, big, sizeof(big), NULL, NULL);
	wl_jw_u64(&w, NULL, UINT64_MAX);
	wl_jw_raw(&w, " ", 1);
	wl_jw_u64(&w, NULL, 0);
	wl_jw_raw(&w, " ", 1);
	wl_jw_u64(&w, NULL, (uint64_t)INT64_MAX + 1);
	big[w.len] = '\0';
	assert_string_equal(big, "18446744073709551615 0 9223372036854775808");
}

static void
test_reals(void **state)
{
	static const double v[] = {
		0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 100.0, 1e15, 1e16, 1e17,
		1e21, 1e100, 1e300, 1.7976931348623157e308, 1e-5, 1e-7, 1e-300,
		5e-324, 2.2250738585072014e-308, 123456789012345678.0,
		3.141592653589793, 1.0 / 3.0, 2e10, 12345.678,
	};
	unsigned int i;
	struct wl_jw w;
	json_t *a = json_array();
	char *ref;

	(void)state;
	wl_jw_init(&w, big, sizeof(big), NULL, NULL);
	wl_jw_arr_open(&w, NULL);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_array_append_new(a, json_real(v[i]));
		json_array_append_new(a, json_real(-v[i] * 3));
		wl_jw_real(&w, NULL, v[i]);
		wl_jw_real(&w, NULL, -v[i] * 3);
	}
	/* json_real() refuses them: nothing written. */
	wl_jw_real(&w, NULL, NAN);
	wl_jw_real(&w, NULL, INFINITY);
	wl_jw_real(&w, NULL, -INFINITY);
	wl_jw_arr_close(&w);
	big[w.len] = '\0';
	ref = ref_dump(a);
	assert_string_equal(big, ref);
	free(ref);
}

/* ---- structure ---- */

/* A record like the logs' with every kind of value, both ways. */
static void
render(struct wl_jw *w, unsigned int i)
{
	wl_jw_obj_open(w, NULL);
	wl_jw_str(w, "proto", "http");
	wl_jw_u64(w, "n", i);
	wl_jw_str_wire(w, "resource", "/a\xff\"b\"\n");
	wl_jw_arr_open(w, "flags");
	wl_jw_arr_close(w);
	wl_jw_arr_open(w, "more");
	wl_jw_str(w, NULL, "x");
	wl_jw_str(w, NULL, NULL);            /* left out */
	wl_jw_obj_open(w, NULL);
	wl_jw_obj_close(w);
	wl_jw_i64(w, NULL, -5);
	wl_jw_arr_close(w);
	wl_jw_obj_open(w, "ipg");
	wl_jw_bool(w, "t", 1);
	wl_jw_bool(w, "f", 0);
	wl_jw_null(w, "z");
	wl_jw_real(w, "r", 0.25);
	wl_jw_obj_close(w);
	wl_jw_str(w, "bad", "\xc3");          /* left out */
	wl_jw_str(w, "last", "\xe2\x82\xac");
	wl_jw_obj_close(w);
}

static void
test_structure(void **state)
{
	json_t *o = json_object(), *m = json_array(), *g = json_object();
	struct wl_jw w;
	char *ref;

	(void)state;
	json_object_set_new(o, "proto", json_string("http"));
	json_object_set_new(o, "n", json_integer(3));
	json_object_set_new(o, "resource", ref_wire("/a\xff\"b\"\n"));
	json_object_set_new(o, "flags", json_array());
	json_array_append_new(m, json_string("x"));
	json_array_append_new(m, json_string(NULL));
	json_array_append_new(m, json_object());
	json_array_append_new(m, json_integer(-5));
	json_object_set_new(o, "more", m);
	json_object_set_new(g, "t", json_true());
	json_object_set_new(g, "f", json_false());
	json_object_set_new(g, "z", json_null());
	json_object_set_new(g, "r", json_real(0.25));
	json_object_set_new(o, "ipg", g);
	json_object_set_new(o, "bad", json_string("\xc3"));
	json_object_set_new(o, "last", json_string("\xe2\x82\xac"));
	ref = ref_dump(o);
	wl_jw_init(&w, big, sizeof(big), NULL, NULL);
	render(&w, 3);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.depth, 0);
	big[w.len] = '\0';
	assert_string_equal(big, ref);
	free(ref);
	/* Records side by side at the top level take no comma. */
	wl_jw_init(&w, big, sizeof(big), NULL, NULL);
	wl_jw_obj_open(&w, NULL);
	wl_jw_obj_close(&w);
	wl_jw_obj_open(&w, NULL);
	wl_jw_obj_close(&w);
	big[w.len] = '\0';
	assert_string_equal(big, "{}{}");
}

static void
test_errors(void **state)
{
	struct wl_jw w;
	char small[WL_JW_MIN_CAP];
	unsigned int i;

	(void)state;
	wl_jw_init(&w, small, sizeof(small) - 1, NULL, NULL);
	assert_int_equal(w.err, -EINVAL);
	wl_jw_init(&w, big, sizeof(big), NULL, NULL);
	wl_jw_obj_close(&w);
	assert_int_equal(w.err, -EINVAL);
	wl_jw_init(&w, big, sizeof(big), NULL, NULL);
	for (i = 0; i < WL_JW_DEPTH; i++)
		wl_jw_arr_open(&w, NULL);
	assert_int_equal(w.err, -EINVAL);
	/* Full without a flush: -ENOBUFS, what fitted kept, then nothing. */
	wl_jw_init(&w, small, sizeof(small), NULL, NULL);
	for (i = 0; i < 100; i++)
		wl_jw_str(&w, NULL, "0123456789");
	assert_int_equal(w.err, -ENOBUFS);
	assert_true(w.len <= sizeof(small));
	wl_jw_u64(&w, NULL, 1);
	assert_true(w.len <= sizeof(small));
	assert_int_equal(wl_jw_flush(&w), -ENOBUFS);
}

/* ---- flushing ---- */

struct sink {
	char *p;
	size_t len, cap;
	unsigned int calls, fail_at;
};

static int
sink_flush(struct wl_jw *w, void *arg)
{
	struct sink *s = arg;

	if (++s->calls == s->fail_at)
		return -ENOSPC;
	assert_true(s->len + w->len <= s->cap);
	memcpy(s->p + s->len, w->buf, w->len);
	s->len += w->len;
	w->len = 0;
	return 0;
}

/* Records and strings longer than the buffer: whatever the buffer size,
 * the flushed bytes are the same as with one big buffer. */
static void
test_flush_boundaries(void **state)
{
	static char want[1 << 16], got[1 << 16], buf[1024];
	char longs[700];
	struct wl_jw w;
	struct sink s;
	size_t n, cap;
	unsigned int i;

	(void)state;
	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	for (i = 0; i < sizeof(longs) - 1; i += 37)
		longs[i] = (i % 2) ? '\n' : '"';
	wl_jw_init(&w, want, sizeof(want), NULL, NULL);
	for (i = 0; i < 20; i++) {
		render(&w, i * 1000003u);
		wl_jw_str(&w, NULL, longs);
		wl_jw_raw(&w, "\n", 1);
	}
	assert_int_equal(w.err, 0);
	n = w.len;
	for (cap = WL_JW_MIN_CAP; cap <= sizeof(buf); cap += (cap < 200 ?
			1 : 61)) {
		memset(&s, 0, sizeof(s));
		s.p = got;
		s.cap = sizeof(got);
		wl_jw_init(&w, buf, cap, sink_flush, &s);
		for (i = 0; i < 20; i++) {
			render(&w, i * 1000003u);
			wl_jw_str(&w, NULL, longs);
			wl_jw_raw(&w, "\n", 1);
		}
		assert_int_equal(wl_jw_flush(&w), 0);
		assert_int_equal(s.len, n);
		assert_memory_equal(got, want, n);
	}
	/* A flush that fails: the error sticks and nothing more is
	 * written. */
	memset(&s, 0, sizeof(s));
	s.p = got;
	s.cap = sizeof(got);
	s.fail_at = 3;
	wl_jw_init(&w, buf, WL_JW_MIN_CAP, sink_flush, &s);
	for (i = 0; i < 20; i++)
		render(&w, i);
	assert_int_equal(w.err, -ENOSPC);
	assert_int_equal(s.calls, 3);
	assert_int_equal(wl_jw_flush(&w), -ENOSPC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_random_strings),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_reals),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_flush_boundaries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
