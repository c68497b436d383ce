/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_MC_PARSE_H
#define WL_MC_PARSE_H

/*
 * memcached framing on one direction: the text protocol (classic and meta
 * commands) and the binary protocol, told apart by the first byte of each
 * message (0x80 request / 0x81 response magic). Wire decoding only.
 */

#include <stdint.h>

#define WL_MC_CMD 16
#define WL_MC_KEY 64
#define WL_MC_LINE 128
#define WL_MC_OTOK 33           /* meta opaque token, 32 bytes + NUL */

enum wl_mc_ev {
	WL_MC_EV_NONE = 0,
	WL_MC_EV_BEGIN,
	WL_MC_EV_END,
	WL_MC_EV_ERROR,
};

struct wl_mc_msg {
	uint8_t binary;
	uint8_t noreply;        /* text "noreply", meta 'q' */
	uint8_t opcode;         /* binary */
	/* Text request the server can only answer with an error: an
	 * unknown command or a malformed one (cmd "unknown" or its name). */
	uint8_t bad;
	uint16_t status;        /* binary response status */
	uint16_t nkeys;         /* text get/gets: keys asked */
	uint32_t opaque;        /* binary */
	uint32_t values;        /* text response: VALUE/VA blocks seen */
	uint64_t bytes;
	char cmd[WL_MC_CMD];    /* text command or first reply word */
	char key[WL_MC_KEY];    /* first key; meta reply: its k flag's */
	/* Meta: the request asks for its key back (flag k). */
	uint8_t ret_key;
	char otok[WL_MC_OTOK];  /* meta O flag, either way ("" none) */
};

struct wl_mc_parser {
	uint8_t st;
	uint8_t is_resp;
	uint8_t hdr_len;        /* binary header bytes gathered */
	uint8_t multi;          /* text response: VALUE/STAT ... END */
	uint16_t line_len;
	uint8_t fresh;          /* no valid line since a resync */
	uint8_t at_gap;         /* resynced, no byte since */
	uint8_t ext_left;       /* binary extras before the key */
	uint8_t rsvd[3];
	uint64_t remain;        /* data block / binary body left */
	struct wl_mc_msg msg;
	uint8_t hdr[24];
	char line[WL_MC_LINE];
};

void wl_mc_parser_init(struct wl_mc_parser *p, int is_resp);
uint32_t wl_mc_feed(struct wl_mc_parser *p, const uint8_t *d, uint32_t len,
	enum wl_mc_ev *ev);
void wl_mc_resync(struct wl_mc_parser *p);
int wl_mc_idle(const struct wl_mc_parser *p);
/* A message is under way (begun, not resyncing). */
int wl_mc_in_msg(const struct wl_mc_parser *p);
/*
 * len bytes were lost. @return 1 when they fall inside a data block or
 * binary body whose length is known (skipped, the message goes on),
 * else 0 (the caller resyncs).
 */
int wl_mc_skip(struct wl_mc_parser *p, uint64_t len);
/* Does data start a memcached request (is_resp 0)? 2/1/0. */
int wl_mc_start_check(const uint8_t *d, uint32_t len, int is_resp);

#endif /* WL_MC_PARSE_H */
