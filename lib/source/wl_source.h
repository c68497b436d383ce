/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_SOURCE_H
#define WL_SOURCE_H

/*
 * Offline packet source: a pcap or pcapng reader that keeps nanosecond
 * timestamps end to end (DPDK's net_pcap truncates them to microseconds).
 *
 * wl_source_open() maps a file read-only and walks it record by record;
 * packets are pointers into the mapping (wirelat-replay reads a file
 * twice and keeps them). wl_source_open_stream(), wirelat's --pcap,
 * maps nothing: a regular file is read with pread(2), a stream
 * (standard input, a FIFO, a pipe, a character device, or a caller's
 * read function) with read(2), into a fixed ring of chunk buffers
 * allocated at open (WL_SOURCE_CHUNKS of WL_SOURCE_CHUNK_SIZE bytes),
 * so memory is bounded whatever the input's size. wl_source_rx_burst()
 * hands packets out as mbufs attached to their chunk (no copy); a chunk
 * is read into again only once no mbuf references it. When a record
 * does not fit in the rest of a chunk, its bytes read so far are copied
 * to the front of a free chunk and reading goes on behind them; a record
 * larger than a chunk is read into one spare buffer and copied into
 * mbufs. Formats, link types, timestamp rules, buffering and error
 * messages are described in docs/pcap.md.
 *
 * From such a source a packet (wl_source_next()) points into a buffer
 * of the source and is valid until the next call on it. After its file
 * header a stream never blocks: when no complete record is buffered and
 * nothing more can be read yet, wl_source_next() returns -EAGAIN
 * (wl_source_rx_burst() 0) and the source is neither done nor failed.
 * A stream cannot be rewound; a file can.
 *
 * A struct wl_source is not thread-safe: one lcore (or thread) uses it
 * at a time (mbufs from wl_source_rx_burst() excepted: any lcore may
 * free them). Different sources are independent.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wl_pkt.h"

struct rte_mbuf;
struct rte_mempool;
struct wl_source;

/* Largest capture length accepted in a record; larger is corruption. */
#define WL_SOURCE_MAX_CAPLEN 262144u

/* Size of an error buffer that always holds a full message. */
#define WL_SOURCE_ERR_LEN 512

/* Most pcapng interfaces per section; more is reported as an error. */
#define WL_SOURCE_MAX_IFACES 256

/*
 * Largest block a stream can carry (its records larger than a chunk go
 * through one spare buffer of this size). A pcapng block larger than
 * this cannot be read from a stream (-E2BIG); from a file it can (the
 * spare buffer grows to it).
 */
#define WL_SOURCE_STREAM_BUF (1u << 20)

/*
 * The chunk ring of wl_source_open_stream(): WL_SOURCE_CHUNKS buffers of
 * WL_SOURCE_CHUNK_SIZE bytes. The size was measured (docs/benchmarks.md):
 * a read(2) serves hundreds of packets, and two chunks stay in cache
 * while one lcore reads and parses. The count bounds how far the reader
 * runs ahead of parsers on other lcores: 16 MiB, more than the default
 * 16384 mbufs hold, so the mbuf pool and the parser rings limit as
 * before; a chunk is resident only once a backlog needed it. A chunk's
 * reference count is 16 bits and an attached packet takes 17 bytes at
 * least, hence WL_SOURCE_CHUNK_MAX.
 */
#define WL_SOURCE_CHUNK_SIZE (256u << 10)
#define WL_SOURCE_CHUNKS 64u
#define WL_SOURCE_CHUNK_MIN 64u
#define WL_SOURCE_CHUNK_MAX (1u << 20)
#define WL_SOURCE_CHUNKS_MAX 1024u

/* _(field, "name", "description") -- counters, all cumulative. */
#define foreach_wl_source_counter \
	_(packets, "packets", "packets delivered") \
	_(bytes, "bytes", "captured bytes delivered (sum of caplen)") \
	_(oversize, "oversize", "packets cut short: the mbuf pool ran dry while chaining") \
	_(chunk_waits, "chunk_waits", \
		"reads deferred: every chunk still held by mbufs") \
	_(unsupported_link, "unsupported_link", \
		"pcapng packets skipped: interface link type not supported") \
	_(skipped_blocks, "skipped_blocks", \
		"pcapng blocks of other types skipped")

struct wl_source_stats {
#define _(f, n, d) uint64_t f;
	foreach_wl_source_counter
#undef _
};

/* Counter names in struct order, for exporters. */
extern const char *const wl_source_counter_names[];

/* _(ENUM, "name") -- file formats. */
#define foreach_wl_source_format \
	_(PCAP_US, "pcap")              /* classic, microseconds */ \
	_(PCAP_NS, "pcap-ns")           /* classic, nanoseconds */ \
	_(PCAP_KUZNETZOV, "pcap-kuznetzov") /* modified pcap, microseconds */ \
	_(PCAPNG, "pcapng")

enum wl_source_format {
#define _(e, n) WL_SOURCE_FMT_ ## e,
	foreach_wl_source_format
#undef _
	WL_SOURCE_FMT_MAX
};

/* One packet, zero-copy. */
struct wl_source_pkt {
	/* From wl_source_open() or _open_mem(): into the mapping or the
	 * caller's buffer, valid until close. From _open_stream() or
	 * _open_reader(): into a buffer of the source, valid until the
	 * next call on it. */
	const uint8_t *data;
	uint32_t caplen;        /* bytes at data */
	uint32_t wire_len;      /* original length (never below caplen) */
	uint64_t ts_ns;         /* ns since the Unix epoch */
	enum wl_link link;
	uint32_t if_id;         /* pcapng interface id, 0 for pcap */
};

/**
 * Open a capture file: map it read-only and check its file header.
 * Regular files only: a FIFO or device is refused without waiting for
 * a writer (wl_source_open_stream() reads those).
 *
 * @param path
 *   File to read; it is also the name used in error messages.
 * @param err
 *   Filled with a one-line message on failure
 *   ("foo.pcap: not a pcap or pcapng file"); may be NULL.
 * @param errlen
 *   Size of err (WL_SOURCE_ERR_LEN always suffices).
 * @return
 *   The source, or NULL with rte_errno set: ENOENT/EACCES/... from open,
 *   EINVAL for a bad or truncated header, ENOTSUP for an unsupported
 *   link type or version, ENOMEM.
 */
struct wl_source *wl_source_open(const char *path, char *err, size_t errlen);

/**
 * Open a capture that may be a stream, for wl_source_rx_burst(). "-" is
 * standard input. A regular file (named, or standard input redirected
 * from one, at its start) is read with pread(2) into the chunk ring (see
 * the top of this file), up to the size it had at open; it can be
 * rewound. A FIFO, pipe, socket or character device is read as a
 * stream into the same ring: this call
 * blocks until a FIFO has a writer and until the file header has
 * arrived, and a signal handler installed without SA_RESTART interrupts
 * either wait. The descriptor is then made non-blocking; standard
 * input gets its flags back at wl_source_close().
 * Main thread only: it may block.
 *
 * @param path
 *   File, FIFO or device, or "-"; errors name it ("stdin" for "-").
 * @return
 *   The source, or NULL with rte_errno set: as wl_source_open() (a
 *   pread(2) errno instead of an mmap(2) one), plus EINTR (interrupted
 *   while waiting for a writer or for the header),
 *   EINVAL for a terminal (a capture is never typed in), a directory or
 *   a block device, E2BIG for a section header larger than
 *   WL_SOURCE_STREAM_BUF, or the errno of a failed read(2).
 */
struct wl_source *wl_source_open_stream(const char *path, char *err,
	size_t errlen);

/**
 * Reader of a stream source: read(2) with a -errno return.
 *
 * @return
 *   Bytes stored in buf (1..len), 0 at the end of the input, -EAGAIN
 *   when nothing can be read now, -EINTR when interrupted, or another
 *   -errno, which ends the source with that error.
 */
typedef ssize_t (*wl_source_read_t)(void *arg, void *buf, size_t len);

/**
 * Same as wl_source_open_stream() over a read function (tests, fuzzing,
 * inputs that are no file descriptor): packets come through the chunk
 * ring, a wl_source_next() packet is valid until the next call.
 *
 * @param rd
 *   Called with arg until the file header is complete, then whenever
 *   the buffer holds no complete record; it must not block after the
 *   header (return -EAGAIN).
 * @param name
 *   Name used in error messages (e.g. "<stream>").
 * @return
 *   The source, or NULL with rte_errno set: as wl_source_open_mem(),
 *   or EAGAIN / EINTR when rd returned that before the file header was
 *   complete, E2BIG, or the errno rd returned.
 */
struct wl_source *wl_source_open_reader(wl_source_read_t rd, void *arg,
	const char *name, char *err, size_t errlen);

/* Geometry of a chunk ring. */
struct wl_source_ring {
	uint32_t chunk_size;    /* WL_SOURCE_CHUNK_MIN..WL_SOURCE_CHUNK_MAX */
	uint32_t n_chunks;      /* 2..WL_SOURCE_CHUNKS_MAX */
};

/**
 * wl_source_open_reader() with a ring of another geometry (tests use
 * small chunks to put records across chunk boundaries).
 *
 * @param ring
 *   NULL for WL_SOURCE_CHUNKS of WL_SOURCE_CHUNK_SIZE bytes.
 * @return
 *   As wl_source_open_reader(), and EINVAL for a geometry out of range.
 */
struct wl_source *wl_source_open_reader_ring(wl_source_read_t rd, void *arg,
	const char *name, const struct wl_source_ring *ring, char *err,
	size_t errlen);

/**
 * Same as wl_source_open() over a memory buffer (tests, fuzzing).
 * The buffer is not copied and must outlive the source.
 *
 * @param name
 *   Name used in error messages (e.g. "<mem>").
 */
struct wl_source *wl_source_open_mem(const void *buf, size_t len,
	const char *name, char *err, size_t errlen);

/**
 * Unmap or close, and free. A source's own descriptor is closed,
 * standard input's file status flags restored. Accepts NULL. Every mbuf
 * wl_source_rx_burst() gave out must have been freed before (or never be
 * touched again): they point into the source's chunks.
 */
void wl_source_close(struct wl_source *s);

/**
 * Next packet, zero-copy. From a source of wl_source_open_stream() or
 * _open_reader(), out->data is valid until the next call on s; a call
 * reads the input at most when its chunk holds no complete record (one
 * read(2) or pread(2) into the rest of the chunk, or into the next one).
 *
 * @param out
 *   Filled when 1 is returned.
 * @return
 *   1 packet delivered, 0 end of file, -EAGAIN (not sticky, call again
 *   later: a stream has no complete record yet and nothing to read now,
 *   or mbufs from wl_source_rx_burst() hold every chunk), or on a
 *   corrupt file -EINVAL (bad pcapng block, caplen above
 *   WL_SOURCE_MAX_CAPLEN or above its block, undefined interface),
 *   -ENODATA (truncated record, also a stream that ends inside one),
 *   -ENOTSUP (unsupported pcapng version in a later section), -E2BIG
 *   (too many interfaces; on a stream, a block larger than
 *   WL_SOURCE_STREAM_BUF), or a stream's read(2) errno. Errors are
 *   sticky: later calls return the same value and wl_source_error()
 *   describes it. Packets before the corruption are delivered normally.
 */
int wl_source_next(struct wl_source *s, struct wl_source_pkt *out);

/**
 * Read up to n packets into freshly allocated mbufs, one segment each.
 * Each mbuf gets data_len = pkt_len = caplen and the wl_mbuf_meta
 * dynamic field (ts_ns, link, ts_source = WL_TS_PCAP), so
 * wl_mbuf_meta_register() must have been called.
 *
 * From a source of wl_source_open_stream() or _open_reader(), a packet
 * that fits one mbuf data room is not copied: the mbuf is attached to
 * its bytes in the chunk (RTE_MBUF_F_EXTERNAL, buf_iova RTE_BAD_IOVA,
 * no headroom), which is not read into again before every such mbuf is
 * freed; they may be freed on any lcore. When every chunk is still held
 * the call returns what it has (0 at worst) and counts "chunk_waits".
 * Other packets, and every packet of wl_source_open() and _open_mem()
 * sources, are copied; one larger than a data room is chained over
 * several mbufs, and if the pool runs dry meanwhile it is cut short and
 * counted in "oversize".
 *
 * @return
 *   Number of mbufs stored in pkts. 0 at end of file, on error, when
 *   the pool is empty, every chunk is held, or a stream has no complete
 *   record yet: tell them apart with wl_source_done() and
 *   wl_source_error() (neither set: retry later). Never blocks.
 */
uint16_t wl_source_rx_burst(struct wl_source *s, struct rte_mempool *mp,
	struct rte_mbuf **pkts, uint16_t n);

/**
 * Give the memory of an ended source's chunk ring back to the system,
 * once no mbuf references a chunk any more: a source read to its end
 * then keeps its counters only, so inputs read one after another do not
 * add up. Reading again after wl_source_rewind() takes pages anew. No
 * packet of s is valid after it. Call it on the lcore that reads s, as
 * often as needed: after the first success it only returns 0.
 *
 * @return 0 released (or nothing to release: a wl_source_open() or
 *   _open_mem() source), -EBUSY while the source has not ended or a
 *   chunk is still referenced by an mbuf (call again later).
 */
int wl_source_release(struct wl_source *s);

/**
 * Go back to the first packet and clear end-of-file and error state.
 * Counters keep accumulating. A file read into chunks is read again
 * from its start (mbufs still held keep their chunks).
 * @return 0 (the file header was checked at open), or -ESPIPE on a
 *   stream, which is left as it was.
 */
int wl_source_rewind(struct wl_source *s);

/** 1 once wl_source_next() has returned 0 (clean end of file), else 0. */
int wl_source_done(const struct wl_source *s);

/** The error message after a negative return, else NULL. */
const char *wl_source_error(const struct wl_source *s);

/** Copy the counters. */
void wl_source_stats_get(const struct wl_source *s,
	struct wl_source_stats *st);

/** Format of the file. */
enum wl_source_format wl_source_format(const struct wl_source *s);

/** Name of a format ("pcap", "pcap-ns", "pcapng", ...). */
const char *wl_source_format_name(enum wl_source_format f);

/**
 * Link type of a classic pcap file, or of the first interface of a
 * pcapng file once it is known (WL_LINK_MAX if none yet).
 */
enum wl_link wl_source_link(const struct wl_source *s);

/**
 * Map a DLT/LINKTYPE number to enum wl_link.
 * @return 0 and *link set, or -ENOTSUP.
 */
int wl_source_link_from_dlt(uint32_t dlt, enum wl_link *link);

#endif /* WL_SOURCE_H */
