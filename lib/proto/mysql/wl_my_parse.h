/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_MY_PARSE_H
#define WL_MY_PARSE_H

/*
 * MySQL / MariaDB client/server protocol, wire decoding only: packet
 * framing on one direction (3-byte little-endian length, 1-byte sequence
 * id; a payload of 0xffffff continues in the next packet), a bounded
 * prefix of each payload kept for the pairing layer, length-encoded
 * integers, command codes, statement normalisation and the probes.
 */

#include <stddef.h>
#include <stdint.h>

#define WL_MY_MAX_PKT 0xffffffu         /* longest physical payload */
#define WL_MY_PREFIX 256                /* payload bytes kept per packet */

/* Command bytes (first payload byte of a seq 0 client packet). */
#define WL_MY_COM_QUIT 0x01
#define WL_MY_COM_INIT_DB 0x02
#define WL_MY_COM_QUERY 0x03
#define WL_MY_COM_FIELD_LIST 0x04
#define WL_MY_COM_STATISTICS 0x09
#define WL_MY_COM_PING 0x0e
#define WL_MY_COM_CHANGE_USER 0x11
#define WL_MY_COM_BINLOG_DUMP 0x12
#define WL_MY_COM_STMT_PREPARE 0x16
#define WL_MY_COM_STMT_EXECUTE 0x17
#define WL_MY_COM_STMT_SEND_LONG_DATA 0x18
#define WL_MY_COM_STMT_CLOSE 0x19
#define WL_MY_COM_STMT_RESET 0x1a
#define WL_MY_COM_SET_OPTION 0x1b
#define WL_MY_COM_STMT_FETCH 0x1c
#define WL_MY_COM_BINLOG_DUMP_GTID 0x1e
#define WL_MY_COM_RESET_CONNECTION 0x1f

/* Capability flags. */
#define WL_MY_CLIENT_CONNECT_WITH_DB 0x00000008u
#define WL_MY_CLIENT_COMPRESS 0x00000020u
#define WL_MY_CLIENT_PROTOCOL_41 0x00000200u
#define WL_MY_CLIENT_SSL 0x00000800u
#define WL_MY_CLIENT_SECURE_CONN 0x00008000u
#define WL_MY_CLIENT_PLUGIN_AUTH 0x00080000u
#define WL_MY_CLIENT_LENENC_AUTH 0x00200000u
#define WL_MY_CLIENT_DEPRECATE_EOF 0x01000000u

#define WL_MY_SERVER_MORE_RESULTS 0x0008u
#define WL_MY_SERVER_CURSOR_EXISTS 0x0040u
/* MariaDB progress report: an ERR packet with this code, sent while a
 * long command runs (client capability MARIADB_CLIENT_PROGRESS). */
#define WL_MY_ERR_PROGRESS 0xffffu

enum wl_my_ev {
	WL_MY_EV_NONE = 0,
	WL_MY_EV_HDR,           /* header of a logical packet's first part */
	WL_MY_EV_END,           /* a logical packet is complete */
	WL_MY_EV_ERROR,         /* continuation with a wrong sequence id */
};

/* Bytes a scan looks at before it decides (an answer's start shows in
 * its first 14: header, first byte, and a column count's next header
 * and "def"). */
#define WL_MY_WIN 16

/*
 * One direction's framer. A logical packet is one or more physical ones:
 * it ends at the first physical payload shorter than 0xffffff. Only the
 * first WL_MY_PREFIX payload bytes are kept; the rest is counted.
 * In scan mode (after a gap or garbage) it slides a window until it
 * holds a plausible command header (seq 0, known command, fitting
 * length) or, server side, an answer's start (seq 1 and a well-formed
 * OK, ERR, or column count followed by a column definition); the
 * window's bytes are then framed as if they came again.
 *
 * The caller sets off (stream offset of the next byte it feeds) and tag
 * (anything it wants back, its peer ACK) before each feed; each packet
 * reports them for its first header byte.
 */
struct wl_my_framer {
	uint8_t st;
	uint8_t hlen;           /* header (or scan window) bytes held */
	uint8_t seq;            /* sequence id of the first part */
	uint8_t last_seq;       /* sequence id of the latest part */
	uint8_t cont;           /* next header continues the packet */
	/* scan for an answer's start, not a command; 2: a login's too */
	uint8_t rsp_scan;
	uint8_t rp_n;           /* window bytes to frame again */
	uint8_t rp_i;
	uint32_t plen;          /* payload length of the current part */
	uint32_t left;          /* payload bytes of the current part to come */
	uint32_t blen;          /* bytes in buf */
	uint32_t rsvd;
	uint64_t len;           /* logical payload length so far */
	uint64_t wire;          /* wire bytes of the logical packet */
	uint64_t begin_ns;      /* ts of the first header byte */
	uint64_t begin_off;     /* its stream offset */
	uint64_t begin_tag;     /* the tag it came with */
	uint64_t off;           /* set by the caller: offset of the next byte */
	uint64_t tag;           /* set by the caller */
	uint64_t woff;          /* offset of hdr[0] (scan) */
	uint64_t rpoff;         /* offset of rp[0] */
	uint8_t hdr[WL_MY_WIN];
	uint64_t wts[WL_MY_WIN];        /* ts of each header / window byte */
	uint64_t wtag[WL_MY_WIN];       /* tag of each */
	/* What every packet reads ends here, in the first bytes of buf
	 * (WL_MY_FRAMER_HOT: the flow layer prefetches up to there). */
	uint8_t buf[WL_MY_PREFIX];
	/* Bytes to frame again, oldest first (window, then what was left
	 * of an earlier replay). */
	uint8_t rp[2 * WL_MY_WIN];
	uint64_t rpts[2 * WL_MY_WIN];
	uint64_t rptag[2 * WL_MY_WIN];
};

/* A framer's bytes a packet reads first: its fields, header window and
 * the first line of the payload kept. */
#define WL_MY_FRAMER_HOT (offsetof(struct wl_my_framer, buf) + 64)

void wl_my_framer_init(struct wl_my_framer *f);

/* Forget any partial packet and look for a command header (client). */
void wl_my_framer_scan(struct wl_my_framer *f);

/* Forget any partial packet and look for an answer's first header. */
void wl_my_framer_rsp_scan(struct wl_my_framer *f);

/* Scan from the second byte of the header just reported (EV_HDR): the
 * scan of the client's or the server's (rsp 1) kind. */
void wl_my_framer_rescan(struct wl_my_framer *f, int rsp);


/* Forget any partial packet; the next byte starts a header. */
void wl_my_framer_reset(struct wl_my_framer *f);

/*
 * n bytes of the stream were lost here. @return 1 when they lay inside
 * the current packet's payload, past its kept prefix, and that packet
 * goes on after them: they are counted and framing goes on; else 0 and
 * nothing changes.
 */
int wl_my_framer_skip(struct wl_my_framer *f, uint64_t n);

/* True between packets. */
int wl_my_framer_idle(const struct wl_my_framer *f);

/*
 * Consume bytes until an event. @return bytes consumed; *ev is NONE only
 * when all len bytes were consumed. Fed one byte at a time, each byte is
 * looked at once (scan mode: at most five times).
 */
uint32_t wl_my_feed(struct wl_my_framer *f, const uint8_t *d, uint32_t len,
	uint64_t ts, enum wl_my_ev *ev);

/*
 * Length-encoded integer at p (n bytes available).
 * @return bytes used, or -1 (short, or 0xff / 0xfb first byte).
 */
int wl_my_lenenc(const uint8_t *p, uint32_t n, uint64_t *v);

static inline uint32_t
wl_my_u16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static inline uint32_t
wl_my_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

/* Is cmd a command this parser knows, with a plausible payload length? */
int wl_my_cmd_ok(uint8_t cmd, uint64_t len);

/*
 * Is the logical packet f holds (found by an answer scan) a well-formed
 * first packet of an answer: an OK (its fields within its length, a text
 * or length-prefixed info after them) or a prepare OK, an ERR (with '#'
 * and a five-character SQLSTATE), or a column count? Looks at the whole
 * kept prefix (the scan's window saw its first bytes only).
 * @return 1 yes, 0 no.
 */
int wl_my_rsp_first(const struct wl_my_framer *f);


/* Copy the printable ASCII of s (n bytes, stops at NUL) to out; other
 * bytes become '?'. @return 1 when cut, else 0. */
int wl_my_text(const uint8_t *s, uint32_t n, char *out, size_t size);

/* Does data start a MySQL stream in this direction (is_resp: server)?
 * 2 yes, 1 too short to tell, 0 no. */
int wl_my_start_check(const uint8_t *d, uint32_t len, int is_resp);

#endif /* WL_MY_PARSE_H */
