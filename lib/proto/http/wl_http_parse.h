/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_HTTP_PARSE_H
#define WL_HTTP_PARSE_H

/*
 * HTTP/1.x message framing on one direction of a stream: wire decoding
 * only, no pairing. Bytes may arrive split anywhere; the parser keeps one
 * line (truncated at WL_HTTP_LINE) and the few header values wirelat
 * reports, never a whole message. It reports where messages begin, where
 * their headers end and where they end, so the caller can take the
 * timestamp of the packet that carried each of those bytes.
 */

#include <stdint.h>

#define WL_HTTP_LINE 256
#define WL_HTTP_METHOD 12
#define WL_HTTP_TARGET 96
#define WL_HTTP_QUERY 48
#define WL_HTTP_HOST 48

enum wl_http_ev {
	WL_HTTP_EV_NONE = 0,    /* everything consumed, nothing happened */
	WL_HTTP_EV_BEGIN,       /* the byte consumed last is a message's first */
	WL_HTTP_EV_HEADERS,     /* start line and headers complete */
	WL_HTTP_EV_END,         /* the byte consumed last is the message's last */
	WL_HTTP_EV_ERROR,       /* not HTTP here: resynchronising */
	WL_HTTP_EV_ABORT,       /* after a gap: what BEGIN started was not a
				 * message; still resynchronising (no error) */
	WL_HTTP_EV_TUNNEL,      /* 101 / CONNECT 2xx: the rest is not HTTP */
};

/* What the current message's headers said. */
struct wl_http_msg {
	char method[WL_HTTP_METHOD];    /* requests */
	char target[WL_HTTP_TARGET];    /* path, without the query */
	char query[WL_HTTP_QUERY];      /* after '?', without it */
	char host[WL_HTTP_HOST];
	uint16_t status;                /* responses */
	uint8_t minor;                  /* HTTP/1.<minor> */
	uint8_t chunked;
	uint8_t has_cl;
	uint8_t conn_close;
	uint8_t expect_continue;
	uint8_t truncated;              /* a kept field was cut */
	uint64_t content_length;
	uint64_t hdr_bytes;             /* start line + headers + CRLF */
	uint64_t body_bytes;            /* as on the wire (chunk framing too) */
};

struct wl_http_parser {
	uint8_t st;                     /* enum in wl_http_parse.c */
	uint8_t is_resp;                /* direction: responses */
	uint8_t no_body;                /* response to HEAD: set by caller */
	uint8_t connect;                /* response to CONNECT: set by caller */
	uint8_t resync;                 /* looking for a message after a gap */
	uint8_t rsvd2[7];
	uint16_t line_len;
	uint16_t rsvd;                  /* the current line was cut */
	uint64_t remain;                /* body or chunk bytes left */
	struct wl_http_msg msg;
	char line[WL_HTTP_LINE];
};

/** Parser for requests (is_resp 0) or responses (1). */
void wl_http_parser_init(struct wl_http_parser *p, int is_resp);

/**
 * Consume bytes up to and including the next event.
 * @return bytes consumed; *ev is WL_HTTP_EV_NONE only when all len bytes
 *   were consumed without an event. Call again with the rest (also with
 *   len 0: an END may follow HEADERS without another byte).
 */
uint32_t wl_http_feed(struct wl_http_parser *p, const uint8_t *d,
	uint32_t len, enum wl_http_ev *ev);

/**
 * The stream ended (FIN, end of capture). @return 1 when this ends the
 * message in progress (a response read until close), else 0.
 */
int wl_http_eof(struct wl_http_parser *p);

/** Lost bytes: drop the message in progress, find the next start line. */
void wl_http_resync(struct wl_http_parser *p);

/*
 * The next bytes begin a TCP segment: while resynchronising, try the
 * first as a message start too (not only the byte after a line end).
 */
void wl_http_segment(struct wl_http_parser *p);

/**
 * len bytes were lost inside the message in progress: skip them when
 * they fall inside a body or chunk of known length that goes on after
 * them, or a body read until the connection ends. @return 1 when
 * skipped (the framing is intact), 0 when the caller must resync.
 */
int wl_http_skip(struct wl_http_parser *p, uint64_t len);

/** 1 while a message (not a tunnel, not garbage) is being read. */
int wl_http_in_msg(const struct wl_http_parser *p);

/** 1 while the start line or headers of a message are being read. */
int wl_http_in_headers(const struct wl_http_parser *p);

/** 1 when between messages (nothing of the next one consumed yet). */
int wl_http_idle(const struct wl_http_parser *p);

/** Does data (len bytes, maybe partial) start an HTTP request/response?
 * @return 2 yes, 1 maybe (too short), 0 no. */
int wl_http_start_check(const uint8_t *d, uint32_t len, int is_resp);

#endif /* WL_HTTP_PARSE_H */
