/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Detection through the signature database (wl_probe.h) against running
 * every probe: on each start of wl_test_starts.h, every prefix of it,
 * every byte of its head changed, random bytes and every keyword of the
 * protocols' lists, each transport and direction, every protocol whose
 * probe does not say no must be a candidate, and wl_probe_detect() must
 * answer as without the database (the protocol and "too short to
 * tell"), with no port hint and with each protocol hinted. And the
 * database must rule protocols out (else it would be no filter), and
 * refuse signatures it cannot use.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <cmocka.h>

#include "wl_common.h"
#include "wl_probe.h"
#include "wl_proto.h"
#include "http/wl_http_kw.h"
#include "memcached/wl_mc_kw.h"
#include "redis/wl_redis_cmd.h"
#include "wl_test_starts.h"

static struct wl_probe_db *db;
static struct wl_probe_scratch *scr;
static unsigned long checked;

static const uint8_t l4s[] = { IPPROTO_TCP, IPPROTO_UDP };

static enum wl_probe (*probe_of(const struct wl_proto_ops *o,
	uint8_t l4))(const uint8_t *, uint32_t, enum wl_dir)
{
	if (o->l4proto == l4)
		return o->probe;
	if (o->l4proto2 == l4)
		return o->probe2;
	return NULL;
}

/* d[0..len) on every transport and direction. */
static void
check(const uint8_t *d, uint32_t len)
{
	unsigned int t, dir, id;

	if (len == 0)
		return;
	for (t = 0; t < WL_ARRAY_SIZE(l4s); t++) {
		for (dir = 0; dir < 2; dir++) {
			uint32_t cand = wl_probe_candidates(db, scr, l4s[t],
				dir, d, len), usable = 0;
			unsigned int h;

			for (id = 0; id < WL_PROTO_MAX; id++) {
				enum wl_probe (*fn)(const uint8_t *, uint32_t,
					enum wl_dir) = probe_of(wl_protos[id],
					l4s[t]);

				if (fn == NULL)
					continue;
				usable |= 1u << id;
				if (fn(d, len, dir) != WL_PROBE_NO &&
						!(cand & (1u << id)))
					fail_msg("%s (l4 %u dir %u): probe says "
						"%d to %u bytes, no candidate",
						wl_protos[id]->name, l4s[t], dir,
						fn(d, len, dir), len);
			}
			for (h = 0; h <= WL_PROTO_MAX; h++) {
				uint32_t hint = h < WL_PROTO_MAX ? 1u << h : 0;
				int m1 = 0, m2 = 0;
				int a = wl_probe_detect(NULL, NULL, wl_protos,
					usable, hint, l4s[t], dir, d, len, &m1);
				int b = wl_probe_detect(db, scr, wl_protos,
					usable, hint, l4s[t], dir, d, len, &m2);

				assert_int_equal(a, b);
				assert_int_equal(m1, m2);
			}
			checked++;
		}
	}
}

/* s, every prefix, and every byte of its first 24 changed. */
static void
mutate(const uint8_t *s, uint32_t n)
{
	static const uint8_t v[] = {
		0x00, 0x01, 0x0a, 0x0d, ' ', '$', '*', 'A', 'N', 'Q', 'a',
		0x7f, 0x80, 0x81, 0xff,
	};
	uint8_t b[256];
	uint32_t len, i, k;

	if (n > sizeof(b))
		n = sizeof(b);
	for (len = 1; len <= n; len++)
		check(s, len);
	for (i = 0; i < n && i < 24; i++) {
		for (k = 0; k < WL_ARRAY_SIZE(v) + 3; k++) {
			memcpy(b, s, n);
			b[i] = k == 0 ? (uint8_t)(s[i] + 1) : k == 1 ?
				(uint8_t)(s[i] - 1) : k == 2 ?
				(uint8_t)(s[i] ^ 0x20) : v[k - 3];
			for (len = i + 1; len <= n && len <= i + 6; len++)
				check(b, len);
			check(b, n);
		}
	}
}

/* w then tail, and every prefix of it. */
static void
word_then(const char *w, const char *tail)
{
	char b[96];
	uint32_t len, n;

	snprintf(b, sizeof(b), "%s%s", w, tail);
	n = (uint32_t)strlen(b);
	for (len = 1; len <= n; len++)
		check((const uint8_t *)b, len);
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	db = wl_probe_db_create(wl_protos, WL_PROTO_MAX, err, sizeof(err));
	if (db == NULL)
		fprintf(stderr, "%s\n", err);
	assert_non_null(db);
	scr = wl_probe_scratch_create(db);
	assert_non_null(scr);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	wl_probe_db_free(db);
	return 0;
}

static void
test_starts(void **state)
{
	unsigned int i, j;

	(void)state;
	for (i = 0; i < WL_ARRAY_SIZE(wl_test_starts); i++)
		mutate((const uint8_t *)wl_test_starts[i].d,
			wl_test_starts[i].len);
	/* Two starts glued (a segment that carries both). */
	for (i = 0; i < WL_ARRAY_SIZE(wl_test_starts); i++) {
		for (j = 0; j < WL_ARRAY_SIZE(wl_test_starts); j++) {
			uint8_t b[512];
			uint32_t a = wl_test_starts[i].len;
			uint32_t c = wl_test_starts[j].len;

			memcpy(b, wl_test_starts[i].d, a);
			memcpy(b + a, wl_test_starts[j].d, c);
			check(b, a + c);
		}
	}
}

/* Every keyword of the lists the probes read, as typed and in the other
 * case, then what may follow it, cut anywhere. */
static void
test_keywords(void **state)
{
	static const char *const words[] = {
#define _(e, n, f, t) n,
		foreach_wl_redis_cmd
#undef _
#define _(e, n, r) n,
		foreach_wl_mc_cmd
#undef _
#define _(e, n) n,
		foreach_wl_mc_rsp
		foreach_wl_http_method
#undef _
		"HTTP/1.1", "HTTP/1.0", "HTTP/2", "flush_all",
	};
	static const char *const tails[] = {
		"", " ", "\r", "\r\n", " k\r\n", " / HTTP/1.1\r\n",
		" k 0 0 1\r\nv\r\n", "X k\r\n", " HTTP/1.0 200 OK\r\n",
		" 200 OK\r\n", " key with a rather long value after it\r\n",
	};
	unsigned int i, j, k;
	char low[64];

	(void)state;
	for (i = 0; i < WL_ARRAY_SIZE(words); i++) {
		for (k = 0; words[i][k] != '\0' && k + 1 < sizeof(low); k++)
			low[k] = (char)(words[i][k] ^ (((words[i][k] | 0x20) >=
				'a' && (words[i][k] | 0x20) <= 'z') ? 0x20 : 0));
		low[k] = '\0';
		for (j = 0; j < WL_ARRAY_SIZE(tails); j++) {
			word_then(words[i], tails[j]);
			word_then(low, tails[j]);
		}
	}
}

static void
test_random(void **state)
{
	uint8_t b[64];
	unsigned int r, k, len;

	(void)state;
	srand(3);
	for (r = 0; r < 100000; r++) {
		const struct wl_test_start *s = &wl_test_starts[(unsigned int)
			rand() % WL_ARRAY_SIZE(wl_test_starts)];

		len = 1 + (unsigned int)rand() % sizeof(b);
		for (k = 0; k < len; k++)
			b[k] = rand() % 3 ? (uint8_t)s->d[(unsigned int)rand() %
				s->len] : (uint8_t)rand();
		if (rand() % 2)
			memcpy(b, s->d, WL_MIN(s->len, (uint32_t)rand() % 8));
		check(b, len);
	}
	assert_true(checked > 500000);
}

/* The database rules out: bytes of no protocol leave no candidate, a
 * protocol's start leaves its own (and few others). */
static void
test_filters(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < WL_ARRAY_SIZE(wl_test_starts); i++) {
		const struct wl_test_start *s = &wl_test_starts[i];
		uint32_t c = wl_probe_candidates(db, scr, s->l4proto, s->dir,
			(const uint8_t *)s->d, s->len);

		if (s->proto < 0)
			assert_int_equal(c, 0);
		if (s->proto >= 0)
			assert_true(c & (1u << s->proto));
		/* Longer than any signature: only those that match. */
		if (s->len >= 16 && __builtin_popcount(c) > 2)
			fail_msg("%s: candidates %#x", s->what, c);
	}
	/* Too short to tell: every protocol with a signature wider. */
	assert_true(wl_probe_candidates(db, scr, IPPROTO_TCP, WL_DIR_C2S,
		(const uint8_t *)"G", 1) & (1u << WL_PROTO_HTTP));
	assert_false(wl_probe_candidates(db, scr, IPPROTO_TCP, WL_DIR_C2S,
		(const uint8_t *)"GETX / HTTP/1.1", 15) &
		(1u << WL_PROTO_HTTP));
}

/* Signatures the database cannot use are refused, naming them. */
static void
test_bad_sigs(void **state)
{
	static const char *const bad[] = {
		"abc",          /* not anchored */
		"^a.*",         /* unbounded */
		"^a{100}",      /* too wide */
		"^ab$",         /* end anchored */
		"^(ab",         /* no expression */
	};
	struct wl_probe_sig sigs[2];
	struct wl_proto_ops o;
	const struct wl_proto_ops *tab[1] = { &o };
	struct wl_probe_db *d;
	char err[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < WL_ARRAY_SIZE(bad) + 2; i++) {
		o = *wl_protos[WL_PROTO_HTTP];
		o.name = "fake";
		memset(sigs, 0, sizeof(sigs));
		sigs[0].re = i < WL_ARRAY_SIZE(bad) ? bad[i] : "^a";
		sigs[0].dirs = i == WL_ARRAY_SIZE(bad) ? 0 : WL_SIG_C2S;
		sigs[0].l4 = i == WL_ARRAY_SIZE(bad) + 1 ? 1 : 0;
		o.probe_sigs = sigs;
		d = wl_probe_db_create(tab, 1, err, sizeof(err));
		assert_null(d);
		assert_non_null(strstr(err, "fake"));
	}
	/* Without signatures a protocol is always a candidate. */
	o = *wl_protos[WL_PROTO_HTTP];
	o.probe_sigs = NULL;
	d = wl_probe_db_create(tab, 1, err, sizeof(err));
	assert_non_null(d);
	{
		struct wl_probe_scratch *s = wl_probe_scratch_create(d);

		assert_non_null(s);
		assert_int_equal(wl_probe_candidates(d, s, IPPROTO_TCP,
			WL_DIR_C2S, (const uint8_t *)"\x16\x03\x01", 3), 1);
	}
	wl_probe_db_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_bad_sigs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
