/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Protocol detection through one Hyperscan database of every protocol's
 * signatures (wl_probe.h). Invariant: wl_probe_candidates() holds every
 * protocol whose probe would not refuse the bytes, so filtering by it
 * never changes what wl_probe_detect() returns.
 *
 * A signature's pattern id is (protocol << 2 | transport << 1 | dir);
 * one scan reports the matches of every transport and direction, the
 * callback keeps those asked for. Patterns are anchored and at most
 * maxw bytes wide, so a scan reads min(len, maxw) bytes: what lies
 * beyond cannot change a match. A protocol whose signature is wider
 * than len is a candidate whatever the scan says (more bytes may match).
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <hs.h>
#include <rte_common.h>
#include <rte_errno.h>

#include "wl_common.h"
#include "wl_probe.h"

struct wl_probe_db {
	hs_database_t *hs;              /* NULL: no signatures at all */
	struct wl_probe_scratch *scr;   /* the lcores', freed with it */
	uint32_t maxw;                  /* bytes a scan reads */
	uint32_t nosig;                 /* protocols without signatures */
	/* [transport][dir][len]: protocols with a signature wider than
	 * len bytes (len up to maxw) */
	uint32_t wide[2][2][WL_PROBE_SIG_MAXW + 1];
};

struct wl_probe_scratch {
	hs_scratch_t *hs;
	struct wl_probe_scratch *next;
};

struct scan {
	uint32_t mask;
	uint32_t want;                  /* transport << 1 | dir */
};

/* Transport index of an IP protocol, -1 for one without signatures. */
static int
transport(uint8_t l4proto)
{
	return l4proto == IPPROTO_TCP ? 0 : l4proto == IPPROTO_UDP ? 1 : -1;
}

/* Check one signature; its width into *w. @return 0 or -EINVAL. */
static int
sig_check(const struct wl_proto_ops *o, const struct wl_probe_sig *sig,
	uint32_t *w, char *err, size_t err_size)
{
	hs_compile_error_t *ce = NULL;
	hs_expr_info_t *info = NULL;
	uint8_t l4 = sig->l4 == 0 ? o->l4proto : o->l4proto2;
	const char *why = NULL;

	if (sig->re[0] != '^')
		why = "not anchored at the start (^)";
	else if (sig->dirs == 0 || (sig->dirs & ~(WL_SIG_C2S | WL_SIG_S2C)))
		why = "no direction";
	else if (sig->l4 > 1 || transport(l4) < 0 ||
			(sig->l4 == 0 ? o->probe : o->probe2) == NULL)
		why = "no probe on that transport";
	else if (hs_expression_info(sig->re, HS_FLAG_DOTALL, &info, &ce) !=
			HS_SUCCESS)
		why = ce != NULL ? ce->message : "not an expression";
	else if (info->max_width == UINT_MAX ||
			info->max_width > WL_PROBE_SIG_MAXW)
		why = "unbounded or too wide";
	else if (info->matches_at_eod || info->matches_only_at_eod)
		why = "anchored at the end";
	if (why != NULL)
		snprintf(err, err_size, "%s: signature \"%s\": %s", o->name,
			sig->re, why);
	else
		*w = info->max_width;
	free(info);
	if (ce != NULL)
		hs_free_compile_error(ce);
	return why != NULL ? -EINVAL : 0;
}

struct wl_probe_db *
wl_probe_db_create(const struct wl_proto_ops *const *protos, unsigned int n,
	char *err, size_t err_size)
{
	hs_compile_error_t *ce = NULL;
	struct wl_probe_db *db = NULL;
	const char **re = NULL;
	unsigned int *flags = NULL, *ids = NULL;
	unsigned int i, k, np = 0, max = 0;
	uint32_t w, len;
	int e = ENOMEM;

	snprintf(err, err_size, "out of memory");
	if (n > 32) {
		snprintf(err, err_size, "more than 32 protocols");
		e = EINVAL;
		goto fail;
	}
	for (i = 0; i < n; i++)
		for (k = 0; protos[i] != NULL && protos[i]->probe_sigs != NULL &&
				protos[i]->probe_sigs[k].re != NULL; k++)
			max += 2;
	db = calloc(1, sizeof(*db));
	re = calloc(max + 1, sizeof(*re));
	flags = calloc(max + 1, sizeof(*flags));
	ids = calloc(max + 1, sizeof(*ids));
	if (db == NULL || re == NULL || flags == NULL || ids == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		const struct wl_proto_ops *o = protos[i];
		const struct wl_probe_sig *sig;

		if (o == NULL)
			continue;
		if (o->probe_sigs == NULL) {
			if (o->probe != NULL || o->probe2 != NULL)
				db->nosig |= 1u << i;
			continue;
		}
		for (sig = o->probe_sigs; sig->re != NULL; sig++) {
			int tr = transport(sig->l4 == 0 ? o->l4proto :
				o->l4proto2);
			unsigned int dir;

			if (sig_check(o, sig, &w, err, err_size) != 0) {
				e = EINVAL;
				goto fail;
			}
			db->maxw = RTE_MAX(db->maxw, w);
			for (dir = 0; dir < 2; dir++) {
				if (!(sig->dirs & (1u << dir)))
					continue;
				re[np] = sig->re;
				/* Each match sets the same bit: no need
				 * for (costlier) HS_FLAG_SINGLEMATCH. */
				flags[np] = HS_FLAG_DOTALL;
				ids[np++] = i << 2 | (unsigned int)tr << 1 | dir;
				for (len = 0; len < w; len++)
					db->wide[tr][dir][len] |= 1u << i;
			}
		}
	}
	if (np > 0 && hs_compile_multi(re, flags, ids, np, HS_MODE_BLOCK, NULL,
			&db->hs, &ce) != HS_SUCCESS) {
		snprintf(err, err_size, "signature %d: %s", ce->expression,
			ce->message);
		hs_free_compile_error(ce);
		e = EINVAL;
		goto fail;
	}
	free(re);
	free(flags);
	free(ids);
	err[0] = '\0';
	return db;
fail:
	free(re);
	free(flags);
	free(ids);
	free(db);
	rte_errno = e;
	return NULL;
}

void
wl_probe_db_free(struct wl_probe_db *db)
{
	struct wl_probe_scratch *s, *next;

	if (db == NULL)
		return;
	for (s = db->scr; s != NULL; s = next) {
		next = s->next;
		hs_free_scratch(s->hs);
		free(s);
	}
	hs_free_database(db->hs);
	free(db);
}

struct wl_probe_scratch *
wl_probe_scratch_create(struct wl_probe_db *db)
{
	struct wl_probe_scratch *s = calloc(1, sizeof(*s));

	if (s == NULL || (db->hs != NULL &&
			hs_alloc_scratch(db->hs, &s->hs) != HS_SUCCESS)) {
		free(s);
		rte_errno = ENOMEM;
		return NULL;
	}
	s->next = db->scr;
	db->scr = s;
	return s;
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to,
	unsigned int flags, void *arg)
{
	struct scan *sc = arg;

	(void)from;
	(void)to;
	(void)flags;
	if ((id & 3) == sc->want)
		sc->mask |= 1u << (id >> 2);
	return 0;
}

uint32_t
wl_probe_candidates(const struct wl_probe_db *db, struct wl_probe_scratch *s,
	uint8_t l4proto, enum wl_dir dir, const uint8_t *d, uint32_t len)
{
	int tr = transport(l4proto);
	uint32_t n = RTE_MIN(len, db->maxw);
	struct scan sc;

	if (tr < 0)
		return UINT32_MAX;
	sc.mask = db->nosig | db->wide[tr][dir][n];
	sc.want = (uint32_t)tr << 1 | dir;
	/* An error (none is expected) must not hide a protocol. */
	if (db->hs != NULL && n > 0 && hs_scan(db->hs, (const char *)d, n, 0,
			s->hs, on_match, &sc) != HS_SUCCESS)
		return UINT32_MAX;
	return sc.mask;
}

int
wl_probe_detect(const struct wl_probe_db *db, struct wl_probe_scratch *s,
	const struct wl_proto_ops *const *protos, uint32_t usable,
	uint32_t hinted, uint8_t l4proto, enum wl_dir dir, const uint8_t *d,
	uint32_t len, int *maybe)
{
	uint32_t m;
	unsigned int pass, id;

	for (pass = 0; pass < 2; pass++) {
		m = pass == 0 ? usable & hinted : usable & ~hinted;
		/* A scan to rule out a single probe costs more than it. */
		if (pass == 1 && (m & (m - 1)) != 0 && db != NULL && s != NULL)
			m &= wl_probe_candidates(db, s, l4proto, dir, d, len);
		for (; m != 0; m &= m - 1) {
			const struct wl_proto_ops *o;
			enum wl_probe (*fn)(const uint8_t *, uint32_t,
				enum wl_dir);
			enum wl_probe r;

			id = rte_bsf32(m);
			o = protos[id];
			fn = o->l4proto == l4proto ? o->probe : o->probe2;
			if (fn == NULL)
				continue;
			r = fn(d, len, dir);
			if (r == WL_PROBE_YES)
				return (int)id;
			if (r == WL_PROBE_MAYBE)
				*maybe = 1;
		}
	}
	return -1;
}
