/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * memcached text and binary framing, byte at a time for lines and headers,
 * by length for data blocks and bodies.
 */

#include <stdlib.h>
#include <string.h>

#include "wl_common.h"
#include "wl_mc_kw.h"
#include "wl_mc_parse.h"

enum {
	ST_START,
	ST_LINE,
	ST_DATA,                /* text data block, CRLF included */
	ST_BHDR,                /* binary header */
	ST_BBODY,
	ST_END,                 /* END to report */
	ST_RESYNC,
};

#define BIN_REQ 0x80
#define BIN_RSP 0x81
#define MAX_DATA (1ULL << 30)

static const char *const cmd_names[] = {
#define _(e, n, r) n,
	foreach_wl_mc_cmd
#undef _
};

int
wl_mc_start_check(const uint8_t *d, uint32_t len, int is_resp)
{
	unsigned int i;
	uint32_t w, k;

	if (is_resp || len == 0)
		return len == 0 ? 1 : 0;
	if (d[0] == BIN_REQ) {
		if (len < 24)
			return 1;
		/* Key and extras fit the body; data type 0. */
		return d[5] == 0 && (uint32_t)d[4] + ((uint32_t)d[2] << 8 |
			d[3]) <= ((uint32_t)d[8] << 24 | (uint32_t)d[9] << 16 |
			(uint32_t)d[10] << 8 | d[11]) ? 2 : 0;
	}
	for (w = 0; w < len && d[w] >= 'a' && d[w] <= 'z'; w++)
		;
	if (w == 0 || w > 9)
		return 0;
	if (w == len) {
		/* The word may go on: a prefix of a command so far? (Short
		 * data only: a walk of the list is fine; d holds letters,
		 * no NUL, so strncmp() compares all w of them.) */
		for (i = 0; i < WL_ARRAY_SIZE(cmd_names); i++)
			if (strncmp(cmd_names[i], (const char *)d, w) == 0)
				return 1;
		return 0;
	}
	if (wl_mc_cmd_lookup((const char *)d, w) < 0 ||
			(d[w] != ' ' && d[w] != '\r'))
		return 0;
	/* "get " is also HTTP's "GET " in lower case: not that. */
	for (k = w; k + 5 <= len; k++)
		if (memcmp(d + k, "HTTP/", 5) == 0)
			return 0;
	return 2;
}

void
wl_mc_parser_init(struct wl_mc_parser *p, int is_resp)
{
	memset(p, 0, sizeof(*p));
	p->is_resp = (uint8_t)is_resp;
}

void
wl_mc_resync(struct wl_mc_parser *p)
{
	int r = p->is_resp;

	wl_mc_parser_init(p, r);
	p->st = ST_RESYNC;
	p->fresh = 1;
	p->at_gap = 1;
}

int
wl_mc_idle(const struct wl_mc_parser *p)
{
	return p->st == ST_START;
}

int
wl_mc_in_msg(const struct wl_mc_parser *p)
{
	return p->st != ST_START && p->st != ST_RESYNC;
}

int
wl_mc_skip(struct wl_mc_parser *p, uint64_t len)
{
	/* Strictly inside: the block's end (and what follows) is seen.
	 * Binary key bytes still to come would be lost from the key. */
	if ((p->st != ST_DATA && p->st != ST_BBODY) || len >= p->remain ||
			(p->st == ST_BBODY && p->line_len > 0))
		return 0;
	p->remain -= len;
	p->msg.bytes += len;
	return 1;
}

/* Words of the line (in place), at most n. */
static unsigned int
words(char *l, uint32_t len, char **w, unsigned int n)
{
	unsigned int k = 0;
	uint32_t i = 0;

	while (i < len && k < n) {
		while (i < len && l[i] == ' ')
			i++;
		if (i == len)
			break;
		w[k++] = l + i;
		while (i < len && l[i] != ' ')
			i++;
		if (i < len)
			l[i++] = '\0';
	}
	if (i >= len && k > 0)
		l[len] = '\0';
	return k;
}

static int
num(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	*v = strtoull(s, &end, 10);
	return *end == '\0' && *v <= MAX_DATA ? 0 : -1;
}

static int
has_flag(char **w, unsigned int n, unsigned int from, char f)
{
	unsigned int i;

	for (i = from; i < n; i++)
		if (w[i][0] == f)
			return 1;
	return 0;
}

/* Meta flags from word `from` on: O<token> and k, either way. */
static void
meta_flags(struct wl_mc_msg *m, char **w, unsigned int n, unsigned int from,
	int is_resp)
{
	unsigned int i;

	for (i = from; i < n; i++) {
		if (w[i][0] == 'O')
			wl_strlcpy(m->otok, w[i] + 1, sizeof(m->otok));
		else if (w[i][0] == 'k' && !is_resp)
			m->ret_key = 1;
		else if (w[i][0] == 'k' && w[i][1] != '\0')
			wl_strlcpy(m->key, w[i] + 1, sizeof(m->key));
	}
}


/* A known command (id), well formed. Same return values as
 * request_line(). */
static int
command(struct wl_mc_parser *p, int id, char **w, unsigned int k)
{
	struct wl_mc_msg *m = &p->msg;
	unsigned int nw = 5;
	uint64_t v;

	if (k > 1)
		wl_strlcpy(m->key, w[1], sizeof(m->key));
	switch (id) {
	case WL_MC_CMD_GET:
	case WL_MC_CMD_GETS:
		m->nkeys = (uint16_t)(k - 1);
		return k > 1 ? 1 : -1;
	case WL_MC_CMD_GAT:
	case WL_MC_CMD_GATS:
		if (k < 3)
			return -1;
		wl_strlcpy(m->key, w[2], sizeof(m->key));
		m->nkeys = (uint16_t)(k - 2);
		return 1;
	case WL_MC_CMD_CAS:
		nw = 6;
		/* fall through */
	case WL_MC_CMD_SET:
	case WL_MC_CMD_ADD:
	case WL_MC_CMD_REPLACE:
	case WL_MC_CMD_APPEND:
	case WL_MC_CMD_PREPEND:
		if (k < nw || num(w[4], &v) != 0)
			return -1;
		m->noreply = k > nw && !strcmp(w[nw], "noreply");
		p->remain = v + 2;
		return 0;
	case WL_MC_CMD_MS:
		if (k < 3 || num(w[2], &v) != 0)
			return -1;
		m->noreply = (uint8_t)has_flag(w, k, 3, 'q');
		meta_flags(m, w, k, 3, 0);
		p->remain = v + 2;
		return 0;
	case WL_MC_CMD_MG:
	case WL_MC_CMD_MD:
	case WL_MC_CMD_MA:
		m->noreply = (uint8_t)has_flag(w, k, 2, 'q');
		meta_flags(m, w, k, 2, 0);
		return k > 1 ? 1 : -1;
	case WL_MC_CMD_INCR:
	case WL_MC_CMD_DECR:
	case WL_MC_CMD_TOUCH:
		m->noreply = k > 3 && !strcmp(w[3], "noreply");
		return 1;
	case WL_MC_CMD_DELETE:
		m->noreply = k > 2 && !strcmp(w[k - 1], "noreply");
		return 1;
	case WL_MC_CMD_FLUSH_ALL:
	case WL_MC_CMD_VERBOSITY:
		m->noreply = !strcmp(w[k - 1], "noreply");
		return 1;
	case WL_MC_CMD_QUIT:
		m->noreply = 1;         /* the server closes, never answers */
		/* fall through */
	case WL_MC_CMD_MN:
	case WL_MC_CMD_VERSION:
	case WL_MC_CMD_STATS:
		m->key[0] = '\0';
		return 1;
	default:
		return 1;
	}
}

/*
 * A complete request line. @return 1 ends the message, 0 data follows,
 * -1 error (the line is not a request). The server answers every line
 * it reads, an unknown or malformed command with an error: such a line
 * is a request (bad), lest its error answer the next one. Right after
 * a resync the first line may be the tail of a lost message: only a
 * well-formed command counts there.
 */
static int
request_line(struct wl_mc_parser *p, char *l, uint32_t n)
{
	struct wl_mc_msg *m = &p->msg;
	char *w[12];
	unsigned int k = words(l, n, w, WL_ARRAY_SIZE(w));
	int r, id;

	if (k == 0)
		return -1;
	id = wl_mc_cmd_lookup(w[0], (uint32_t)strlen(w[0]));
	if (id >= 0) {
		wl_strlcpy(m->cmd, w[0], sizeof(m->cmd));
		r = command(p, id, w, k);
		if (r >= 0) {
			p->fresh = 0;
			return r;
		}
		/* The server reads no data block after a malformed line. */
		p->remain = 0;
		m->noreply = 0;
	} else {
		wl_strlcpy(m->cmd, "unknown", sizeof(m->cmd));
	}
	if (p->fresh)
		return -1;
	m->key[0] = '\0';
	m->bad = 1;
	return 1;
}

/*
 * A complete response line. Same return values. Right after a resync
 * only a line starting with a reply's word counts (the first may be the
 * tail of a lost value), and not END, STAT or a number: those also end
 * or go on a multi-line reply whose start was lost, or are a line of a
 * value, and a phantom reply would be counted as an answer.
 */
static int
response_line(struct wl_mc_parser *p, char *l, uint32_t n)
{
	struct wl_mc_msg *m = &p->msg;
	char *w[8];
	unsigned int k = words(l, n, w, WL_ARRAY_SIZE(w));
	uint64_t v;
	int id;

	if (k == 0)
		return -1;
	id = wl_mc_rsp_lookup(w[0], (uint32_t)strlen(w[0]));
	if (p->fresh && (id < 0 || id == WL_MC_RSP_END ||
			id == WL_MC_RSP_STAT))
		return -1;
	p->fresh = 0;
	if (m->cmd[0] == '\0')
		wl_strlcpy(m->cmd, w[0], sizeof(m->cmd));
	if (id == WL_MC_RSP_VALUE) {
		if (k < 4 || num(w[3], &v) != 0)
			return -1;
		m->values++;
		p->multi = 1;
		p->remain = v + 2;
		return 0;
	}
	if (id == WL_MC_RSP_VA) {
		if (k < 2 || num(w[1], &v) != 0)
			return -1;
		m->values++;
		p->multi = 0;
		meta_flags(m, w, k, 2, 1);
		p->remain = v + 2;
		return 0;
	}
	if (strlen(w[0]) == 2 && w[0][0] >= 'A' && w[0][0] <= 'Z' &&
			w[0][1] >= 'A' && w[0][1] <= 'Z' && !p->multi)
		meta_flags(m, w, k, 1, 1);      /* HD, EN, NF, NS, EX, MN */
	if (id == WL_MC_RSP_STAT) {
		p->multi = 1;
		return 2;               /* more lines */
	}
	if (p->multi && id != WL_MC_RSP_END)
		return -1;
	p->multi = 0;
	return 1;
}

/* The quiet binary opcodes (GETQ, GETKQ, SETQ ... GATKQ), all below
 * 64: a mask. */
#define QUIET_OPS (1ull << 0x09 | 1ull << 0x0d | 1ull << 0x11 | \
	1ull << 0x12 | 1ull << 0x13 | 1ull << 0x14 | 1ull << 0x15 | \
	1ull << 0x16 | 1ull << 0x17 | 1ull << 0x18 | 1ull << 0x19 | \
	1ull << 0x1a | 1ull << 0x1e | 1ull << 0x24)

static int
bin_header(struct wl_mc_parser *p)
{
	struct wl_mc_msg *m = &p->msg;
	const uint8_t *h = p->hdr;

	if (h[0] != (p->is_resp ? BIN_RSP : BIN_REQ) || h[5] != 0)
		return -1;
	m->binary = 1;
	m->opcode = h[1];
	m->status = (uint16_t)(h[6] << 8 | h[7]);
	m->opaque = (uint32_t)h[12] << 24 | (uint32_t)h[13] << 16 |
		(uint32_t)h[14] << 8 | h[15];
	p->remain = (uint64_t)h[8] << 24 | (uint64_t)h[9] << 16 |
		(uint64_t)h[10] << 8 | h[11];
	if (p->remain > MAX_DATA || (uint32_t)h[4] + (uint32_t)(h[2] << 8 |
			h[3]) > p->remain)
		return -1;
	/* Where the key is in the body, kept in line[]: extras, key. */
	p->ext_left = h[4];
	p->line_len = (uint16_t)(h[2] << 8 | h[3]);
	if (!p->is_resp && m->opcode < 64 && ((QUIET_OPS >> m->opcode) & 1))
		m->noreply = 1;
	return 0;
}

_Static_assert(sizeof(struct wl_mc_msg) == 144,
	"msg_reset() must set every field");

/* A message starts (its first byte counted). Kept texts are read up to
 * their NUL only: emptying them is enough, and cheaper than clearing
 * the whole message at every one of a pipeline. */
static inline void
msg_reset(struct wl_mc_msg *m)
{
	m->binary = m->noreply = m->opcode = m->bad = 0;
	m->status = 0;
	m->nkeys = 0;
	m->opaque = 0;
	m->values = 0;
	m->bytes = 1;
	m->cmd[0] = m->key[0] = m->otok[0] = '\0';
	m->ret_key = 0;
}

uint32_t
wl_mc_feed(struct wl_mc_parser *p, const uint8_t *d, uint32_t len,
	enum wl_mc_ev *ev)
{
	struct wl_mc_msg *m = &p->msg;
	uint32_t i = 0, n;
	int r;

	*ev = WL_MC_EV_NONE;
	for (;;) {
		if (p->st == ST_END) {
			p->st = ST_START;
			*ev = WL_MC_EV_END;
			return i;
		}
		if (i == len)
			return i;
		if (p->st == ST_DATA || p->st == ST_BBODY) {
			n = (uint32_t)WL_MIN((uint64_t)(len - i), p->remain);
			if (p->st == ST_BBODY && p->line_len > 0) {
				/* Binary key bytes, after the extras. */
				uint32_t k;

				for (k = 0; k < n && p->line_len > 0; k++) {
					if (p->ext_left > 0) {
						p->ext_left--;
						continue;
					}
					size_t kl = strlen(m->key);

					if (kl + 1 < sizeof(m->key)) {
						m->key[kl] = (char)d[i + k];
						m->key[kl + 1] = '\0';
					}
					p->line_len--;
				}
			}
			p->remain -= n;
			m->bytes += n;
			i += n;
			if (p->remain != 0)
				return i;
			if (p->st == ST_BBODY || !p->multi) {
				p->st = ST_END;
				continue;
			}
			p->st = ST_LINE;        /* more VALUE ... END lines */
			p->line_len = 0;
			continue;
		}
		{
			uint8_t c = d[i++];

			m->bytes++;
			switch (p->st) {
			case ST_START:
				if (c == '\r' || c == '\n')
					continue;
				msg_reset(m);
				p->multi = 0;
				p->line_len = 0;
				if (c == BIN_REQ || c == BIN_RSP) {
					p->hdr[0] = c;
					p->hdr_len = 1;
					p->st = ST_BHDR;
				} else {
					p->line[0] = (char)c;
					p->line_len = 1;
					p->st = ST_LINE;
				}
				*ev = WL_MC_EV_BEGIN;
				return i;
			case ST_BHDR:
				p->hdr[p->hdr_len++] = c;
				if (p->hdr_len < 24)
					continue;
				if (bin_header(p) != 0)
					goto error;
				p->st = p->remain == 0 ? ST_END : ST_BBODY;
				continue;
			case ST_LINE:
				if (c != '\n') {
					if (p->line_len < WL_MC_LINE - 1)
						p->line[p->line_len++] = (char)c;
					continue;
				}
				n = p->line_len;
				if (n > 0 && p->line[n - 1] == '\r')
					n--;
				p->line[n] = '\0';
				p->line_len = 0;
				r = p->is_resp ? response_line(p, p->line, n) :
					request_line(p, p->line, n);
				if (r < 0)
					goto error;
				if (r == 0)
					p->st = ST_DATA;
				else if (r == 1)
					p->st = ST_END;
				continue;
			case ST_RESYNC:
				/* Right after the gap a message may start:
				 * tried; its first line proves it (fresh). */
				if (p->at_gap && c != '\n' && c != '\r') {
					p->at_gap = 0;
					i--;
					m->bytes--;
					p->st = ST_START;
					continue;
				}
				p->at_gap = 0;
				if (c == '\n')
					p->st = ST_START;
				continue;
			default:
				continue;
			}
error:
			p->st = c == '\n' ? ST_START : ST_RESYNC;
			/* Still finding a boundary after a gap: no error. */
			if (p->fresh)
				continue;
			*ev = WL_MC_EV_ERROR;
			return i;
		}
	}
}
