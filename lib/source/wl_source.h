/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_SOURCE_H
#define WL_SOURCE_H

/*
 * Offline packet source: a pcap or pcapng reader that keeps nanosecond
 * timestamps end to end (DPDK's net_pcap truncates them to microseconds).
 *
 * A file is mapped read-only and walked record by record; packets are
 * handed out as pointers into the mapping (wl_source_next()) or copied
 * into mbufs (wl_source_rx_burst()). Formats, link types, timestamp
 * rules and error messages are described in docs/pcap.md.
 *
 * A struct wl_source is not thread-safe: one lcore (or thread) uses it
 * at a time. Different sources are independent.
 */

#include <stddef.h>
#include <stdint.h>

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

/* _(field, "name", "description") -- counters, all cumulative. */
#define foreach_wl_source_counter \
	_(packets, "packets", "packets delivered") \
	_(bytes, "bytes", "captured bytes delivered (sum of caplen)") \
	_(oversize, "oversize", "packets cut short: the mbuf pool ran dry while chaining") \
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
	const uint8_t *data;    /* into the mapping; valid until close */
	uint32_t caplen;        /* bytes at data */
	uint32_t wire_len;      /* original length (never below caplen) */
	uint64_t ts_ns;         /* ns since the Unix epoch */
	enum wl_link link;
	uint32_t if_id;         /* pcapng interface id, 0 for pcap */
};

/**
 * Open a capture file: map it read-only and check its file header.
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
 * Same as wl_source_open() over a memory buffer (tests, fuzzing).
 * The buffer is not copied and must outlive the source.
 *
 * @param name
 *   Name used in error messages (e.g. "<mem>").
 */
struct wl_source *wl_source_open_mem(const void *buf, size_t len,
	const char *name, char *err, size_t errlen);

/** Unmap and free. Accepts NULL. */
void wl_source_close(struct wl_source *s);

/**
 * Next packet, zero-copy.
 *
 * @param out
 *   Filled when 1 is returned.
 * @return
 *   1 packet delivered, 0 end of file, or on a corrupt file -EINVAL (bad
 *   pcapng block, caplen above WL_SOURCE_MAX_CAPLEN or above its block,
 *   undefined interface), -ENODATA (truncated record), -ENOTSUP
 *   (unsupported pcapng version in a later section), -E2BIG (too many
 *   interfaces). Errors are sticky: later calls return the same value
 *   and wl_source_error() describes it. Packets before the corruption
 *   are delivered normally.
 */
int wl_source_next(struct wl_source *s, struct wl_source_pkt *out);

/**
 * Read up to n packets into freshly allocated mbufs, one segment each.
 * Each mbuf gets data_len = pkt_len = caplen and the wl_mbuf_meta
 * dynamic field (ts_ns, link, ts_source = WL_TS_PCAP), so
 * wl_mbuf_meta_register() must have been called. A packet larger than
 * one mbuf data room is chained over several mbufs; if the pool runs
 * dry meanwhile it is cut short and counted in "oversize".
 *
 * @return
 *   Number of mbufs stored in pkts. 0 at end of file, on error, or when
 *   the pool is empty: tell them apart with wl_source_done() and
 *   wl_source_error() (neither set: retry once mbufs are freed).
 */
uint16_t wl_source_rx_burst(struct wl_source *s, struct rte_mempool *mp,
	struct rte_mbuf **pkts, uint16_t n);

/**
 * Go back to the first packet and clear end-of-file and error state.
 * Counters keep accumulating. @return 0 (cannot fail on a source that
 * opened, since the file header was checked then).
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
