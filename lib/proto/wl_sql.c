/* SPDX-License-Identifier: BSD-3-Clause */

/* SQL text normalisation for the SQL protocols (wl_sql.h). */

#include <string.h>

#include "wl_common.h"
#include "wl_sql.h"

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
		c == '\v' || c == '\0';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		is_digit(c) || c == '_' || c == '$';
}

/* Is q[i] the start of a comment? @return its end, or i if not one. */
static uint32_t
skip_comment(const char *q, uint32_t n, uint32_t i, enum wl_sql_dialect d)
{
	if (q[i] == '/' && i + 1 < n && q[i + 1] == '*') {
		for (i += 2; i + 1 < n && !(q[i] == '*' && q[i + 1] == '/'); i++)
			;
		return WL_MIN(i + 2, n);
	}
	/* MySQL wants a blank after "--": "1--1" is arithmetic there. */
	if ((q[i] == '-' && i + 1 < n && q[i + 1] == '-' &&
			(d == WL_SQL_POSTGRESQL || i + 2 == n ||
			is_space(q[i + 2]))) ||
			(q[i] == '#' && d == WL_SQL_MYSQL)) {
		while (i < n && q[i] != '\n')
			i++;
	}
	return i;
}

/* End of the string quoted by q[i]: doubled quotes, \ escapes if esc. */
static uint32_t
skip_string(const char *q, uint32_t n, uint32_t i, int esc)
{
	char c = q[i];

	for (i++; i < n; i++) {
		if (esc && q[i] == '\\') {
			i++;
		} else if (q[i] == c) {
			if (i + 1 < n && q[i + 1] == c)
				i++;
			else
				return i + 1;
		}
	}
	return n;
}

/* End of a dollar-quoted string opened at q[i] ($tag$), or 0 if none. */
static uint32_t
skip_dollar(const char *q, uint32_t n, uint32_t i)
{
	uint32_t t = i + 1, tl, k;

	while (t < n && is_ident(q[t]) && q[t] != '$' && !is_digit(q[t]))
		t++;
	if (t >= n || q[t] != '$')
		return 0;
	tl = t - i + 1;         /* "$tag$" */
	for (k = t + 1; k + tl <= n; k++)
		if (memcmp(q + k, q + i, tl) == 0)
			return k + tl;
	return n;
}

/* End of the number at q[i]: digits, dots, an exponent, or 0x... */
static uint32_t
skip_number(const char *q, uint32_t n, uint32_t i)
{
	if (q[i] == '0' && i + 1 < n && (q[i + 1] == 'x' || q[i + 1] == 'X')) {
		for (i += 2; i < n && is_ident(q[i]); i++)
			;
		return i;
	}
	while (i < n && (is_digit(q[i]) || q[i] == '.' || q[i] == '_'))
		i++;
	if (i < n && (q[i] == 'e' || q[i] == 'E')) {
		uint32_t j = i + 1;

		if (j < n && (q[j] == '+' || q[j] == '-'))
			j++;
		if (j < n && is_digit(q[j]))
			for (i = j; i < n && is_digit(q[i]); i++)
				;
	}
	return i;
}

/* Copy a token kept as written, its odd bytes as '?'. */
static void
put_token(char *out, size_t *o, const char *tok, uint32_t tl)
{
	uint32_t k;

	for (k = 0; k < tl; k++) {
		unsigned char c = (unsigned char)tok[k];

		out[(*o)++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
}

static void
verb_of(const char *s, char *verb, size_t vsize)
{
	size_t v = 0;

	if (vsize == 0)
		return;
	while (*s == '(' || *s == ' ')
		s++;
	for (; v + 1 < vsize && ((*s >= 'a' && *s <= 'z') ||
			(*s >= 'A' && *s <= 'Z') || *s == '_'); s++)
		verb[v++] = *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
	verb[v] = '\0';
}

int
wl_sql_normalize(const char *q, uint32_t n, enum wl_sql_dialect d,
	char *out, size_t size, char *verb, size_t vsize)
{
	int pg = d == WL_SQL_POSTGRESQL, space = 0, cut = 0;
	uint32_t i = 0, j;
	size_t o = 0;

	if (size == 0)
		return 1;
	while (i < n) {
		const char *tok = q + i;
		unsigned char c = (unsigned char)q[i];
		uint32_t tl = 1;
		int lit = 0;

		j = skip_comment(q, n, i, d);
		if (j != i || is_space(q[i])) {
			space = 1;
			i = j != i ? j : i + 1;
			continue;
		}
		if (c == '\'' || (c == '"' && !pg)) {
			/* PostgreSQL: \ escapes only in E'...'. */
			int esc = !pg || (i > 0 && (q[i - 1] == 'E' ||
				q[i - 1] == 'e') && (i < 2 || !is_ident(q[i - 2])));

			if (pg && esc && o > 0 && !space)
				o--;    /* the E of E'...' goes with it */
			i = skip_string(q, n, i, esc);
			lit = 1;
		} else if (pg && c == '$' && i + 1 < n && is_digit(q[i + 1])) {
			for (j = i + 1; j < n && is_digit(q[j]); j++)
				;
			tl = j - i;     /* $n parameter */
			i = j;
		} else if (pg && c == '$' && (j = skip_dollar(q, n, i)) != 0) {
			i = j;
			lit = 1;
		} else if (is_digit((char)c) && (i == 0 || !is_ident(q[i - 1]))) {
			i = skip_number(q, n, i);
			lit = 1;
		} else if (c == (pg ? '"' : '`')) {
			j = WL_MIN(skip_string(q, n, i, 0), n);
			tl = j - i;     /* quoted identifier, kept */
			i = j;
		} else if (is_ident((char)c)) {
			for (j = i; j < n && is_ident(q[j]); j++)
				;
			tl = j - i;
			i = j;
		} else if (c < 0x20 || c >= 0x7f) {
			/* One '?' for a run: UTF-8 names, binary. */
			for (j = i; j < n && ((unsigned char)q[j] >= 0x7f ||
					((unsigned char)q[j] < 0x20 &&
					!is_space(q[j]))); j++)
				;
			i = j;
			lit = 1;
		} else {
			i++;
		}
		if (lit) {
			tok = "?";
			tl = 1;
		}
		space = space && o > 0;
		if (o + (size_t)space + tl >= size) {
			cut = 1;
			break;
		}
		if (space)
			out[o++] = ' ';
		space = 0;
		put_token(out, &o, tok, tl);
	}
	out[o] = '\0';
	verb_of(out, verb, vsize);
	return cut;
}

int
wl_sql_verb_id(const char *verb)
{
	static const char *const names[] = {
		[WL_SQL_V_SELECT] = "SELECT", [WL_SQL_V_INSERT] = "INSERT",
		[WL_SQL_V_UPDATE] = "UPDATE", [WL_SQL_V_DELETE] = "DELETE",
		[WL_SQL_V_REPLACE] = "REPLACE", [WL_SQL_V_LISTEN] = "LISTEN",
	};
	int id;

	/* No two verbs share a first letter. */
	switch (verb[0]) {
	case 'S':
		id = WL_SQL_V_SELECT;
		break;
	case 'I':
		id = WL_SQL_V_INSERT;
		break;
	case 'U':
		id = WL_SQL_V_UPDATE;
		break;
	case 'D':
		id = WL_SQL_V_DELETE;
		break;
	case 'R':
		id = WL_SQL_V_REPLACE;
		break;
	case 'L':
		id = WL_SQL_V_LISTEN;
		break;
	default:
		return WL_SQL_V_OTHER;
	}
	return strcmp(verb, names[id]) == 0 ? id : WL_SQL_V_OTHER;
}
