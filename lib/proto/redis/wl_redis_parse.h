/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_REDIS_PARSE_H
#define WL_REDIS_PARSE_H

/*
 * RESP2/RESP3 framing on one direction of a stream: wire decoding only.
 * A top-level message (a command, or a reply with any nesting, RESP3
 * attributes and streamed strings/aggregates included) is reported by
 * where it begins and ends; the first few string elements are kept so the
 * caller can name commands and recognise pub/sub and replication replies.
 */

#include <stdint.h>

#define WL_REDIS_ARGS 4         /* leading string elements kept */
#define WL_REDIS_ARG 40         /* bytes kept of each */
#define WL_REDIS_DEPTH 16       /* aggregate nesting */
#define WL_REDIS_LINE 64        /* header line bytes kept */

enum wl_redis_ev {
	WL_REDIS_EV_NONE = 0,
	WL_REDIS_EV_BEGIN,      /* the byte consumed last starts a message */
	WL_REDIS_EV_END,        /* ... ends it */
	WL_REDIS_EV_ERROR,      /* not RESP: resynchronising */
	WL_REDIS_EV_ABORT,      /* after a gap: the start tried was wrong */
};

struct wl_redis_msg {
	uint8_t type;           /* top-level type byte ('*', '+', '-', ...),
				 * 'i' for an inline command */
	uint8_t nargs;          /* string elements kept in arg[] */
	uint8_t truncated;      /* an element kept was cut */
	uint8_t rsvd;
	int64_t top_n;          /* top-level aggregate length, -1 unknown */
	int64_t integer;        /* last integer element of the top level */
	uint64_t bytes;
	char arg[WL_REDIS_ARGS][WL_REDIS_ARG];
};

struct wl_redis_parser {
	uint8_t st;
	uint8_t is_reply;
	uint8_t depth;
	uint8_t resync;
	uint8_t rdb;            /* caller: the next bulk is an RDB payload */
	uint8_t in_attr;        /* top-level attribute seen, reply follows */
	uint8_t streamed;       /* current bulk string is streamed ($?) */
	uint8_t keep;           /* current bulk is kept in arg[nargs] */
	uint16_t line_len;
	uint16_t rsvd;
	uint32_t keep_len;
	uint64_t remain;        /* bulk bytes (+CRLF) left */
	int64_t left[WL_REDIS_DEPTH];   /* elements left per level, -1 streamed */
	struct wl_redis_msg msg;
	char line[WL_REDIS_LINE];
};

void wl_redis_parser_init(struct wl_redis_parser *p, int is_reply);

/** Like wl_http_feed(): bytes consumed up to and including an event. */
uint32_t wl_redis_feed(struct wl_redis_parser *p, const uint8_t *d,
	uint32_t len, enum wl_redis_ev *ev);

/** Lost bytes: drop the message in progress, look for the next start. */
void wl_redis_resync(struct wl_redis_parser *p);

/**
 * len bytes were lost inside the message in progress: skip them when
 * they fall inside a bulk payload of known length (the framing is
 * intact). @return 1 when skipped, 0 when the frame is lost (resync).
 */
int wl_redis_skip(struct wl_redis_parser *p, uint64_t len);

/** 1 when between messages. */
int wl_redis_idle(const struct wl_redis_parser *p);

/** Does data start a RESP command (is_reply 0) or reply? 2/1/0. */
int wl_redis_start_check(const uint8_t *d, uint32_t len, int is_reply);

#endif /* WL_REDIS_PARSE_H */
