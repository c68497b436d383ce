/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_SOURCE_PRIV_H
#define WL_SOURCE_PRIV_H

/*
 * Body of struct wl_source, private to lib/source. Everything a reader
 * needs is allocated at open (a stream's buffer included); nothing is
 * allocated while packets are read (pcapng interfaces go into a fixed
 * table).
 */

#include <stddef.h>
#include <stdint.h>

#include "wl_source.h"

/* How an interface's raw timestamp becomes ns. */
enum wl_source_ts_kind {
	WL_SOURCE_TS_MUL = 0,   /* ns = ts * mult (10^-n, n <= 9) */
	WL_SOURCE_TS_DIV = 1,   /* ns = ts / div (10^-n, 9 < n <= 28) */
	WL_SOURCE_TS_ZERO = 2,  /* 10^-n, n > 28: every 64-bit ts is < 1 ns */
	WL_SOURCE_TS_SHIFT = 3, /* ns = ts * 10^9 >> n (2^-n) */
};

struct wl_source_iface {
	uint64_t factor;        /* mult or div, by kind */
	int64_t offset_s;       /* if_tsoffset */
	uint32_t snaplen;       /* 0: unlimited */
	uint8_t kind;           /* enum wl_source_ts_kind */
	uint8_t shift;          /* for WL_SOURCE_TS_SHIFT */
	uint8_t link;           /* enum wl_link, valid if supported */
	uint8_t supported;
};

struct wl_source {
	const uint8_t *base;    /* whole file, or a stream's buffer */
	size_t len;             /* bytes at base */
	size_t pos;             /* next record or block */
	size_t first;           /* offset of the first record or block */
	void *map;              /* NULL for memory sources and streams */
	/* Stream: base is buf, holding the input from offset shift on. */
	wl_source_read_t rd;    /* NULL: the whole input is at base */
	void *rd_arg;
	uint8_t *buf;           /* WL_SOURCE_STREAM_BUF bytes */
	size_t shift;           /* input offset of base[0]; 0 for files */
	int eof;                /* rd said the input ended */
	int fd;                 /* stream descriptor, -1 */
	int fd_flags;           /* stdin's flags to restore; -1: close fd */
	int err;                /* 0 or the sticky negative errno */
	int done;
	enum wl_source_format fmt;
	int swap;               /* file (or section) byte order != host */
	/* classic pcap */
	uint32_t rec_hdr_len;   /* 16, or 24 for the Kuznetzov format */
	uint32_t frac_mult;     /* 1000 (us) or 1 (ns) */
	enum wl_link link;
	/* pcapng */
	uint32_t n_ifaces;
	uint64_t last_ts;       /* for Simple Packet Blocks */
	struct wl_source_stats st;
	char *name;
	char errmsg[WL_SOURCE_ERR_LEN];
	struct wl_source_iface ifaces[WL_SOURCE_MAX_IFACES];
};

#endif /* WL_SOURCE_PRIV_H */
