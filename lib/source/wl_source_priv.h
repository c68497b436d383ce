/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_SOURCE_PRIV_H
#define WL_SOURCE_PRIV_H

/*
 * Body of struct wl_source, private to lib/source. Everything a reader
 * needs is allocated at open (the chunk ring and the spare buffer
 * included); nothing is allocated while packets are read (pcapng
 * interfaces go into a fixed table), but for a file's block larger than
 * WL_SOURCE_STREAM_BUF, for which the spare buffer grows.
 */

#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "wl_source.h"

/* s->cur when base is not a chunk (the spare buffer, or nothing yet). */
#define WL_SOURCE_NO_CHUNK UINT32_MAX

/*
 * One buffer of the ring. sh.refcnt counts the mbufs attached to packets
 * in it, plus 1 while it is the reader's current chunk (the reader may
 * attach more); at 0 the chunk is free and only the reader touches it.
 * Own cache line: parsers free mbufs of one chunk while the reader adds
 * to another.
 */
struct wl_source_chunk {
	struct rte_mbuf_ext_shared_info sh;
	uint8_t *buf;           /* chunk_size bytes */
} __rte_cache_aligned;

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
	const uint8_t *base;    /* whole input, or the buffer being parsed */
	size_t len;             /* bytes at base */
	size_t pos;             /* next record or block */
	size_t first;           /* input offset of the first record or block */
	void *map;              /* wl_source_open()'s mapping, or NULL */
	/*
	 * Read input (wl_source_open_stream(), _open_reader()): base is buf,
	 * a chunk (cur) or the spare buffer, holding the input from offset
	 * shift on, cap bytes at most.
	 */
	wl_source_read_t rd;    /* NULL: the whole input is at base */
	void *rd_arg;
	uint8_t *buf;           /* base, writable; NULL: nothing yet */
	size_t cap;
	size_t shift;           /* input offset of base[0] */
	uint32_t cur;           /* chunk at base, or WL_SOURCE_NO_CHUNK */
	uint32_t pend;          /* mbufs attached to cur, not counted yet */
	struct wl_source_chunk *chunks;
	uint8_t *chunk_mem;     /* n_chunks * chunk_size bytes */
	uint32_t n_chunks;
	uint32_t chunk_size;
	uint8_t *spare;         /* records larger than a chunk */
	size_t spare_cap;
	int released;           /* wl_source_release() gave the pages back */
	int eof;                /* rd said the input ended */
	int seekable;           /* a regular file, read with pread(2) */
	uint64_t file_off;      /* next pread(2) offset */
	uint64_t file_end;      /* size at open: never read past it */
	int fd;                 /* our descriptor (file or stream), -1 */
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
