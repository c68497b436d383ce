/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_PG_PARSE_H
#define WL_PG_PARSE_H

/*
 * PostgreSQL frontend/backend protocol v3 framing on one direction, and
 * the field extraction and SQL normalisation the pairing needs. Wire
 * decoding only: no per-flow pairing state here.
 *
 * Framing: the client's first messages may be untyped (int32 length,
 * int32 code: StartupMessage, SSLRequest, GSSENCRequest, CancelRequest);
 * the server answers SSLRequest/GSSENCRequest with one bare byte. Every
 * other message is 1 type byte + int32 length (counting itself), big
 * endian. The parser keeps the header and a bounded prefix of the body
 * (WL_PG_KEEP bytes) and skips the rest by counting.
 */

#include <stdint.h>

#define WL_PG_KEEP 256          /* body prefix kept (Query text, Parse, E) */
#define WL_PG_MAX_LEN (1u << 30)
#define WL_PG_STARTUP_MAX 10000

/* Untyped message codes (the int32 after the length). */
#define WL_PG_CODE_SSL 80877103u
#define WL_PG_CODE_GSSENC 80877104u
#define WL_PG_CODE_CANCEL 80877102u
#define WL_PG_CODE_V3 196608u   /* 3.0; any 3.x is a StartupMessage */

/* msg.type values that are not type bytes. */
#define WL_PG_T_UNTYPED 0       /* startup-phase message, see msg.code */
#define WL_PG_T_SSLANS 1        /* the server's one-byte answer, msg.ans */

enum wl_pg_ev {
	WL_PG_EV_NONE = 0,      /* all input consumed, need more */
	WL_PG_EV_BEGIN,         /* first byte of a message consumed */
	WL_PG_EV_END,           /* last byte consumed: msg is complete */
	WL_PG_EV_ERROR,         /* protocol violation: now lost */
	WL_PG_EV_RESYNC,        /* lost, found a boundary again (msg.type) */
};

struct wl_pg_msg {
	uint8_t type;           /* type byte or WL_PG_T_* */
	uint8_t ans;            /* WL_PG_T_SSLANS: 'N', 'S' or 'G' */
	uint16_t rsvd;
	uint32_t code;          /* WL_PG_T_UNTYPED */
	uint32_t len;           /* length field (typed: without type byte) */
	uint32_t kept;          /* body bytes in body[] */
	uint8_t body[WL_PG_KEEP];
};

struct wl_pg_parser {
	uint8_t st;
	uint8_t is_resp;
	uint8_t hdr_len;
	uint8_t untyped_ok;     /* client: startup-phase messages still allowed */
	uint32_t remain;        /* body bytes left */
	uint8_t hdr[8];
	struct wl_pg_msg msg;
};

/** Start a parser for one direction; the client's may see startup. */
void wl_pg_parser_init(struct wl_pg_parser *p, int is_resp);

/**
 * Consume bytes up to the next event.
 * @return bytes consumed; *ev says what happened (NONE: all consumed).
 * Fed one byte at a time, no byte is looked at more than once.
 */
uint32_t wl_pg_feed(struct wl_pg_parser *p, const uint8_t *d, uint32_t len,
	enum wl_pg_ev *ev);

/** Bytes were lost: refuse data until a message boundary validates. */
void wl_pg_lose(struct wl_pg_parser *p);

/**
 * len bytes were lost inside the body of the message in progress, past
 * the prefix the parser keeps (anywhere in a DataRow or CopyData), its
 * end still to come: skip them. @return 1 if so (framing kept), else 0
 * (the caller calls wl_pg_lose()).
 */
int wl_pg_skip(struct wl_pg_parser *p, uint32_t len);

/** Server parser: the next byte is the bare answer to an SSLRequest. */
void wl_pg_expect_answer(struct wl_pg_parser *p);

/** True between messages. */
int wl_pg_idle(const struct wl_pg_parser *p);

/** True after an error or gap, until resynchronised. */
int wl_pg_lost(const struct wl_pg_parser *p);

/** True when the body was longer than what was kept. */
static inline int
wl_pg_cut(const struct wl_pg_msg *m)
{
	return m->type != WL_PG_T_SSLANS &&
		m->len - (m->type == WL_PG_T_UNTYPED ? 8 : 4) > m->kept;
}

/**
 * The NUL-terminated string at body offset off.
 * @return offset after its NUL, or -1 when no NUL within the kept bytes
 *   (*n is then the bytes up to the end of what was kept).
 */
int wl_pg_cstr(const struct wl_pg_msg *m, uint32_t off, const char **s,
	uint32_t *n);

/** StartupMessage parameter `key` into out. @return 0 or -ENOENT. */
int wl_pg_param(const struct wl_pg_msg *m, const char *key, char *out,
	uint32_t size);

/** SQLSTATE (field 'C') of an ErrorResponse into out[6]. @return 0/-ENOENT. */
int wl_pg_sqlstate(const struct wl_pg_msg *m, char *out);

/** Row count of a CommandComplete tag (its last number). @return 0/-ENOENT */
int wl_pg_tag_rows(const struct wl_pg_msg *m, uint64_t *rows);

/** Does data start PostgreSQL traffic in this direction? 2/1/0. */
int wl_pg_start_check(const uint8_t *d, uint32_t len, int is_resp);

#endif /* WL_PG_PARSE_H */
