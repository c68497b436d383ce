/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_EAL_H
#define WL_EAL_H

/*
 * EAL command lines built from our own options, shared by wirelat and
 * wirelat-replay: the lcore list, hugepages or not, memory, file prefix.
 * Control path only, before rte_eal_init().
 */

#include <stddef.h>
#include <stdint.h>

#define WL_EAL_MAX_ARGS 128
#define WL_EAL_ARG_LEN 1100    /* a path (1024) and an option name */

struct wl_eal_args {
	int argc;
	char *argv[WL_EAL_MAX_ARGS];
	char store[WL_EAL_MAX_ARGS][WL_EAL_ARG_LEN];
};

/** Append one printf-formatted argument (silently full at 127). */
void wl_eal_add(struct wl_eal_args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** 1 if /proc/meminfo shows free hugepages, else 0. */
int wl_eal_hugepages_free(void);

/** Two lcores on the first two CPUs of our affinity ("0@c0,1@c1"). */
void wl_eal_default_lcores(char *buf, size_t size);

/**
 * Lcores an EAL --lcores list names ("0@2,1@3", "0-3", "(0-1)@(2,3)").
 * @return how many, or -EINVAL.
 */
int wl_eal_lcores_count(const char *list);

/**
 * Memory arguments: hugepages (--in-memory) when want_huge is 1, or when
 * it is -1 (auto) and free ones exist; else --no-huge --no-shconf
 * -m memory_mb. @return 1 if hugepages are used, 0 if not.
 * prog names the program in the "no free hugepages" notice (NULL: none).
 */
int wl_eal_add_memory(struct wl_eal_args *a, int want_huge,
	uint32_t memory_mb, const char *prog);

/** The log-level and telemetry arguments both programs use. */
void wl_eal_add_quiet(struct wl_eal_args *a);

#endif /* WL_EAL_H */
