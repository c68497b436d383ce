/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "wl_eal.h"

void
wl_eal_add(struct wl_eal_args *a, const char *fmt, ...)
{
	va_list ap;

	if (a->argc >= WL_EAL_MAX_ARGS - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(a->store[a->argc], sizeof(a->store[0]), fmt, ap);
	va_end(ap);
	a->argv[a->argc] = a->store[a->argc];
	a->argc++;
	a->argv[a->argc] = NULL;
}

int
wl_eal_hugepages_free(void)
{
	char line[256];
	FILE *f;
	long v = 0;

	f = fopen("/proc/meminfo", "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "HugePages_Free: %ld", &v) == 1)
			break;
	fclose(f);
	return v > 0;
}

void
wl_eal_default_lcores(char *buf, size_t size)
{
	cpu_set_t set;
	int cpus[2], n = 0, i;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (i = 0; i < CPU_SETSIZE && n < 2; i++)
			if (CPU_ISSET(i, &set))
				cpus[n++] = i;
	if (n == 0)
		cpus[n++] = 0;
	/* One CPU: two lcores share it rather than failing. */
	snprintf(buf, size, "0@%d,1@%d", cpus[0], cpus[n - 1]);
}

int
wl_eal_add_memory(struct wl_eal_args *a, int want_huge, uint32_t memory_mb,
	const char *prog)
{
	int use_huge = want_huge == 1 ||
		(want_huge < 0 && wl_eal_hugepages_free());

	if (use_huge) {
		wl_eal_add(a, "--in-memory");
		return 1;
	}
	if (want_huge < 0 && prog != NULL)
		fprintf(stderr, "%s: notice: no free hugepages, running with "
			"--no-huge (see scripts/setup-hugepages)\n", prog);
	/* --in-memory implies legacy memory, which --no-huge refuses; no
	 * shared config is needed either way. */
	wl_eal_add(a, "--no-huge");
	wl_eal_add(a, "--no-shconf");
	wl_eal_add(a, "-m");
	wl_eal_add(a, "%u", memory_mb);
	return 0;
}

void
wl_eal_add_quiet(struct wl_eal_args *a)
{
	wl_eal_add(a, "--log-level=*:warning");
	/* "No free 1048576 kB hugepages" and the like: not our user's concern. */
	wl_eal_add(a, "--log-level=lib.eal:error");
	wl_eal_add(a, "--no-telemetry");
}

/* Lcore ids in "a", "a-b" or "(a,b-c)": the left of one --lcores item. */
static int
ids_count(const char *s, const char *end)
{
	int n = 0;

	if (s < end && *s == '(') {
		s++;
		if (end[-1] != ')')
			return -EINVAL;
		end--;
	}
	while (s < end) {
		char *e;
		long a = strtol(s, &e, 10), b = a;

		if (e == s || a < 0)
			return -EINVAL;
		s = e;
		if (s < end && *s == '-') {
			b = strtol(s + 1, &e, 10);
			if (e == s + 1 || b < a)
				return -EINVAL;
			s = e;
		}
		n += (int)(b - a + 1);
		if (s < end && *s != ',')
			return -EINVAL;
		if (s < end)
			s++;
	}
	return n;
}

int
wl_eal_lcores_count(const char *list)
{
	const char *s = list, *item = list;
	int n = 0, depth = 0;

	for (;; s++) {
		if (*s == '(') {
			depth++;
		} else if (*s == ')') {
			depth--;
		} else if ((*s == ',' && depth == 0) || *s == '\0') {
			const char *at = item;
			int k;

			/* "ids@cpus": only the ids count. */
			while (at < s && *at != '@')
				at++;
			k = ids_count(item, at);
			if (k <= 0)
				return -EINVAL;
			n += k;
			if (*s == '\0')
				return n;
			item = s + 1;
		}
	}
}
