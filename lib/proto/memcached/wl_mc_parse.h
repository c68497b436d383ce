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
	uint8_t rsvd;
	uint16_t status;        /* binary response status */
	uint16_t nkeys;         /* text get/gets: keys asked */
	uint32_t opaque;        /* binary */
	uint32_t values;        /* text response: VALUE/VA blocks seen */
	uint64_t bytes;
	char cmd[WL_MC_CMD];    /* text command or first reply word */
	char key[WL_MC_KEY];    /* first key */
};

struct wl_mc_parser {
	uint8_t st;
	uint8_t is_resp;
	uint8_t hdr_len;        /* binary header bytes gathered */
	uint8_t multi;          /* text response: VALUE/STAT ... END */
	uint16_t line_len;
	uint16_t rsvd;
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
/* Does data start a memcached request (is_resp 0)? 2/1/0. */
int wl_mc_start_check(const uint8_t *d, uint32_t len, int is_resp);

#endif /* WL_MC_PARSE_H */
