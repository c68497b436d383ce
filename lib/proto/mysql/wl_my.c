/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * MySQL / MariaDB transactions. The server answers commands in order:
 * each command is a request, each answer a response, paired by the
 * shared matcher (wl_match.h); a client that sends the next command
 * early (or many) is paired the same way.
 *
 *   client                         server
 *                 <-- greeting (seq 0)          \
 *   HandshakeResponse41 (1) -->                 | "connect"
 *                 <-- [AuthSwitch / MoreData]   |
 *   [auth data]  -->                            |
 *                 <-- OK / ERR                  /
 *   COM_QUERY (0) -->
 *                 <-- column count (1), column defs, [EOF], rows, EOF/OK
 *
 * Timing (docs/timing.md): req_start / req_end are the timestamps of the
 * command's first and last bytes, rsp_start / rsp_end of the answer's
 * first and last. "connect" runs from the greeting's first byte (the
 * HandshakeResponse's when the greeting was not seen) to the end of the
 * HandshakeResponse, then from the server's first answer to the final
 * OK/ERR. LOCAL INFILE: the file packets count in req_bytes, req_end
 * stays the end of the query. MariaDB progress reports (ERR 0xffff, to
 * clients with MARIADB_CLIENT_PROGRESS, e.g. during LOAD DATA or ALTER
 * TABLE) are neither the answer nor its start: counted in rsp_bytes and
 * as messages. COM_STMT_EXECUTE that opens a cursor is answered by the
 * column definitions alone (EOF/OK with SERVER_STATUS_CURSOR_EXISTS); the
 * rows come with COM_STMT_FETCH.
 *
 * Where an answer ends depends on the command that asked (a prepare's
 * answer goes on after its first packet, a cursor's execute ends after
 * the columns), which the matcher names while the order is proven
 * (wl_match_rsp_peek). While it is not (a loss left a hole), an answer
 * is read as a query's would be, and its end is taken only when the
 * next packet shows it: one that continues its sequence ids extends it
 * (then it ends where they stop), one that does not begins the next
 * answer. Each answer carries what it was (first and last bytes,
 * sequence id, packets), and my_rsp_fits() refuses only what the
 * protocol rules out.
 *
 * Sequence ids: a command starts at 0, everything after it in the
 * exchange continues +1 mod 256. Lost server bytes that hid a packet
 * boundary: framing is found again at an answer's first packet (seq 1,
 * a well-formed OK or ERR, or a column count followed by a column
 * definition), and the bytes passed over join the lost region. The
 * client side scans for a plausible command header the same way.
 */

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "wl_common.h"
#include "wl_match.h"
#include "wl_my.h"
#include "wl_my_parse.h"
#include "wl_proto.h"
#include "wl_sql.h"

#define STMTS 16
#define STMT_TEXT 64
#define CMD_CONNECT 0xff        /* pseudo command of the handshake */
#define NONE UINT64_MAX

enum phase {
	PH_INIT = 0,            /* nothing recognised yet */
	PH_GREETED = 1,         /* server greeting seen */
	PH_AUTH = 2,            /* HandshakeResponse seen, awaiting OK/ERR */
	PH_CMD = 3,             /* command phase */
};

/* Server side framing. */
enum smode {
	S_START = 0,            /* no byte yet */
	S_GREET = 1,            /* the first packet must be a greeting */
	S_SYNC = 2,
	S_SCAN = 3,             /* looking for an answer's first packet */
	S_TENT = 4,             /* one found, being checked */
};

/* How the answer to a command is shaped (struct wl_my_txn kind). */
enum kind {
	K_ONE = 0,              /* one packet: OK, ERR or other */
	K_QUERY = 1,            /* OK / ERR / result sets / LOCAL INFILE */
	K_PREPARE = 2,          /* OK_prepare, param defs, column defs */
	K_FIELDS = 3,           /* column defs until EOF */
	K_FETCH = 4,            /* rows until EOF */
	K_AUTH = 5,             /* auth exchange until OK / ERR */
	K_RUN = 6,              /* unknown: packets while seq ids continue */
};

enum rst {
	R_FIRST = 0,            /* first packet of a result */
	R_COLS = 1,             /* column definitions */
	R_COLEOF = 2,           /* EOF after them (or the first row) */
	R_ROWS = 3,
	R_INFILE = 4,           /* client sends the file */
	R_PDEFS = 5,            /* prepare: parameter definitions */
	R_PEOF = 6,
	R_CDEFS = 7,            /* prepare: column definitions */
	R_CEOF = 8,
};

enum eof_mode {
	EOF_NO = 0,             /* EOF packets after column definitions */
	EOF_YES = 1,            /* CLIENT_DEPRECATE_EOF agreed */
	EOF_UNKNOWN = 2,        /* handshake not seen: learned per result */
};

/* An answer that may be complete, decided by the next packet. */
enum defer {
	D_NO = 0,
	D_DONE = 1,             /* complete by its shape, unless continued */
	D_MAYBE = 2,            /* complete unless continued */
};

/* The answer in progress. */
struct my_ans {
	struct wl_stream_pos pos;       /* its first byte */
	/* The command it answers, when the matcher named it (named: its
	 * cmd and rseq). The record is used only while the matcher still
	 * names it (live_req()): a loss may have given pairing up. */
	struct wl_mrec *req;
	uint64_t start_ns;      /* first packet but progress reports */
	uint64_t last_ns;       /* last packet so far */
	uint64_t bytes;
	uint64_t rows;
	uint64_t affected;
	uint64_t left;          /* definitions to come */
	uint32_t stmt_id;
	uint16_t sets;
	uint16_t err;
	uint16_t pcols;         /* prepare: column defs after the params */
	uint8_t on;
	uint8_t named;
	uint8_t cmd;            /* the named command's */
	uint8_t rseq;
	uint8_t kind;           /* enum kind */
	uint8_t rst;            /* enum rst */
	uint8_t defer;          /* enum defer */
	uint8_t started;        /* start_ns set */
	uint8_t is_err;
	uint8_t gap;            /* bytes inside it were lost */
	uint8_t cgap;           /* client bytes of its exchange were lost */
	uint8_t first;
	uint8_t last;
	uint8_t fseq;
	uint8_t npk;
	uint8_t rset;
	uint8_t has_stmt;
	char sqlstate[6];
};

struct my_stmt {
	uint32_t id;
	uint32_t age;           /* 0: free slot */
	uint8_t trunc;
	char text[STMT_TEXT];
};

/* The fields every packet reads sit together before the matcher's head
 * (ops hot[2]), each direction's framer apart (hot[dir]: its head and
 * the first line of the payload it keeps, WL_MY_FRAMER_HOT, not its
 * replay buffers); prepared statements first, out of the way. */
struct my_state {
	struct wl_my_framer cf;
	struct wl_my_framer sf;
	struct my_stmt stmts[STMTS];
	char user[WL_MY_USER];
	struct my_ans a;
	uint64_t greet_ns;
	uint64_t greet_bytes;
	/* Where framing was lost and not yet found again: the bytes from
	 * there join the lost region (NONE: in sync). */
	uint64_t c_lost;
	uint64_t s_lost;
	uint32_t stmt_clock;
	uint32_t caps_srv;
	uint32_t caps_cli;
	uint8_t phase;
	uint8_t smode;
	uint8_t seq;            /* next sequence id of the exchange */
	uint8_t eof;            /* enum eof_mode */
	uint8_t greeted;
	uint8_t cstarted;       /* a client header was seen */
	uint8_t midstream;      /* struct wl_proto_ctx rsp_midstream */
	uint8_t req_gap;        /* bytes of the command in progress lost */
	struct wl_match m;
};

_Static_assert(sizeof(struct my_state) <= 4096, "mysql state too big");

static struct wl_my_txn *
area(struct wl_txn *t)
{
	return wl_txn_area(t);
}

/* ---- statements ---- */

static struct my_stmt *
stmt_find(struct my_state *s, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < STMTS; i++)
		if (s->stmts[i].age != 0 && s->stmts[i].id == id)
			return &s->stmts[i];
	return NULL;
}

static void
stmt_put(struct my_state *s, struct wl_proto_ctx *ctx, uint32_t id,
	const struct wl_txn *t)
{
	struct my_stmt *st = stmt_find(s, id), *old = &s->stmts[0];
	unsigned int i;

	for (i = 0; st == NULL && i < STMTS; i++) {
		if (s->stmts[i].age == 0) {
			st = &s->stmts[i];
			break;
		}
		if (s->stmts[i].age < old->age)
			old = &s->stmts[i];
	}
	if (st == NULL) {
		/* Table full: the oldest prepared statement is forgotten. */
		ctx->ctr[WL_PROTO_CTR_PENDING_OVERFLOW]++;
		st = old;
	}
	st->id = id;
	st->age = ++s->stmt_clock;
	st->trunc = (t->flags & WL_TXN_F_TRUNCATED) ||
		t->slen[WL_TXN_S_RESOURCE] >= sizeof(st->text);
	wl_strlcpy(st->text, wl_txn_resource(t), sizeof(st->text));
}

/* SQL verb of a normalised statement, "QUERY" when it has none. */
static void
verb_of(const char *text, char *verb, size_t size)
{
	char tmp[STMT_TEXT];

	wl_sql_normalize(text, (uint32_t)strlen(text), WL_SQL_MYSQL, tmp,
		sizeof(tmp), verb, size);
	if (verb[0] == '\0')
		wl_strlcpy(verb, "QUERY", size);
}

/*
 * Class of an ERR: the server's own trouble (resources, locks,
 * connection, shutdown, timeouts) is a server error, everything the
 * client could fix (syntax, access, unknown objects, constraints) a
 * client error.
 */
static enum wl_status_class
err_class(uint32_t code, const char *sqlstate)
{
	/* SQLSTATE classes: connection, transaction rollback (deadlock),
	 * resources, operator intervention, system, internal. */
	if (sqlstate[0] != '\0') {
		switch ((uint8_t)sqlstate[0] << 8 | (uint8_t)sqlstate[1]) {
		case '0' << 8 | '8': case '4' << 8 | '0':
		case '5' << 8 | '3': case '5' << 8 | '7':
		case '5' << 8 | '8': case 'X' << 8 | 'X':
			return WL_SC_SERVER_ERROR;
		default:
			break;
		}
	}
	switch (code) {
	case 1021: case 1037: case 1038: case 1040: case 1041: case 1053:
	case 1077: case 1078: case 1079: case 1080:
	case 1152: case 1153: case 1154: case 1155: case 1156: case 1157:
	case 1158: case 1159: case 1160: case 1161:
	case 1205: case 1213: case 1317: case 1927: case 1969: case 3024:
		return WL_SC_SERVER_ERROR;
	default:
		break;
	}
	if (code >= 2000 && code < 3000)
		return WL_SC_SERVER_ERROR;     /* client library / proxy */
	return WL_SC_CLIENT_ERROR;
}

/*
 * Bytes of dir from `from` to `to` hid message boundaries (lost, or
 * passed over until framing was found again): to the matcher.
 */
static void
lost(struct my_state *s, struct wl_proto_ctx *ctx, int dir, uint64_t from,
	uint64_t to, enum wl_gap_kind kind)
{
	uint64_t off = ctx->pos.off;

	ctx->pos.off = from;
	wl_match_gap(&s->m, ctx, dir, to > from ? to - from : 0, kind);
	ctx->pos.off = off;
}

/*
 * Framing of dir was lost at `from` (a packet that makes no sense): what
 * it and the bytes up to where framing is found again held is unknown.
 * The hole opens now, so that nothing is named by an order no longer
 * proven; the bytes passed over join it when framing is found again.
 */
static void
lose(struct my_state *s, struct wl_proto_ctx *ctx, int dir, uint64_t from)
{
	uint64_t *at = dir == WL_DIR_C2S ? &s->c_lost : &s->s_lost;

	if (*at != NONE)
		return;
	*at = from;
	lost(s, ctx, dir, from, from, WL_GAP_IN_MSG);
}

/* Look for the next answer's start (a login's too while one runs). */
static void
srv_scan(struct my_state *s)
{
	wl_my_framer_rsp_scan(&s->sf);
	if (s->phase == PH_AUTH)
		s->sf.rsp_scan = 2;
}

/* ---- answers ---- */

static void
ans_reset(struct my_state *s)
{
	memset(&s->a, 0, sizeof(s->a));
}

/* The named command's record, if the matcher still names it. */
static struct wl_mrec *
live_req(struct my_state *s, struct wl_proto_ctx *ctx)
{
	if (!s->a.named || wl_match_rsp_peek(&s->m, ctx, &s->a.pos) !=
			s->a.req)
		return NULL;
	return s->a.req;
}

/*
 * The answer in progress ends (how) at its last packet, to the matcher.
 * What it tells of its command (a prepared statement's id, a new user,
 * compression from here) is taken when the matcher named the command.
 * @return WL_PROTO_DONE when nothing more can be parsed.
 */
static int
ans_end(struct my_state *s, struct wl_proto_ctx *ctx, enum wl_rsp_end how,
	uint32_t flags)
{
	struct my_ans *a = &s->a;
	struct wl_mrec *r = live_req(s, ctx);
	struct wl_my_txn *x;
	struct wl_txn t;
	char status[WL_TXN_STATUS_LEN];
	int done = 0;

	wl_proto_txn_init(ctx, &t);
	x = area(&t);
	t.rsp_bytes = a->bytes;
	x->rows = a->rows;
	x->affected_rows = a->affected;
	x->result_sets = a->sets;
	x->a_first = a->first;
	x->a_last = a->last;
	x->a_seq = a->fseq;
	x->a_npk = a->npk;
	x->a_rset = a->rset;
	x->a_cut = how != WL_RSP_COMPLETE;
	x->a_stmt = a->has_stmt;
	x->stmt_id = a->stmt_id;
	if (a->is_err) {
		t.status_code = a->err;
		x->is_err = 1;
		x->err_code = a->err;
		memcpy(x->sqlstate, a->sqlstate, sizeof(x->sqlstate));
		snprintf(status, sizeof(status), "%u", a->err);
		wl_txn_set_status(&t, status);
		t.status_class = err_class(a->err, a->sqlstate);
	} else if (how == WL_RSP_COMPLETE) {
		wl_txn_set_status(&t, "OK");
		t.status_class = WL_SC_OK;
	}
	t.flags |= flags | (a->gap ? WL_TXN_F_GAP : 0);
	if (a->named && how == WL_RSP_COMPLETE) {
		if (r != NULL && a->cmd == WL_MY_COM_CHANGE_USER && !a->is_err)
			wl_strlcpy(s->user, wl_txn_resource(&r->t),
				sizeof(s->user));
		if (a->cmd == CMD_CONNECT) {
			s->phase = PH_CMD;
			/* Compressed packets from here on: not parsed. */
			done = !a->is_err && (s->caps_cli & s->caps_srv &
				WL_MY_CLIENT_COMPRESS);
		}
	}
	wl_match_rsp(&s->m, ctx, &a->pos, a->started ? a->start_ns : 0, &t,
		a->last_ns, how);
	ans_reset(s);
	return done ? WL_PROTO_DONE : WL_PROTO_CONTINUE;
}

/*
 * The answer is complete by its shape (certain: nothing of it can
 * follow). One framed by its command ends now; one framed without it
 * (or that may go on) ends when the next packet shows it does not.
 */
static int
complete(struct my_state *s, struct wl_proto_ctx *ctx, int certain)
{
	if (s->a.named && certain)
		return ans_end(s, ctx, WL_RSP_COMPLETE, 0);
	s->a.defer = certain ? D_DONE : D_MAYBE;
	return WL_PROTO_CONTINUE;
}

/* The answer began at the header just read (f): name its command. */
static void
ans_begin(struct my_state *s, struct wl_proto_ctx *ctx,
	const struct wl_my_framer *f)
{
	struct my_ans *a = &s->a;
	struct wl_stream_pos at = { f->begin_off, f->begin_tag };
	const struct wl_my_txn *q;

	ans_reset(s);
	a->on = 1;
	a->pos = at;
	a->fseq = f->seq;
	a->kind = K_QUERY;
	s->seq = f->seq;
	a->req = wl_match_rsp_peek(&s->m, ctx, &at);
	if (a->req == NULL)
		return;
	q = area(&a->req->t);
	a->named = 1;
	a->cmd = q->cmd;
	a->rseq = q->rseq;
	a->kind = q->kind;
	/* The greeting's bytes are the server's part of the login. */
	if (q->cmd == CMD_CONNECT)
		a->bytes = s->greet_bytes;
}

/* Server framing lost at `from` (a packet that makes no sense here):
 * what it and the bytes up to the next answer found held is unknown. */
static void
server_lost(struct my_state *s, struct wl_proto_ctx *ctx, uint64_t from)
{
	ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
	/* An answer begun with proper packets ends there, its end lost. */
	if (s->a.on && s->smode == S_SYNC && s->a.npk > 0)
		ans_end(s, ctx, WL_RSP_END_LOST, 0);
	ans_reset(s);
	lose(s, ctx, WL_DIR_S2C, from);
	s->smode = S_SCAN;
	srv_scan(s);
}

/* Client framing lost at the packet just read (it makes no sense here):
 * what it and the bytes up to the next command found held is unknown. */
static void
client_lost(struct my_state *s, struct wl_proto_ctx *ctx)
{
	ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
	lose(s, ctx, WL_DIR_C2S, s->cf.begin_off);
	s->req_gap = 0;
	wl_my_framer_scan(&s->cf);
}

/*
 * A packet breaks the shape of the answer read so far: an error when
 * its command framed it, else its shape was not what it seemed: it ends
 * where its sequence ids stop.
 */
static void
bad(struct my_state *s, struct wl_proto_ctx *ctx)
{
	if (s->a.named) {
		server_lost(s, ctx, s->sf.begin_off);
		return;
	}
	s->a.kind = K_RUN;
	s->a.defer = D_MAYBE;
}

static void
set_err(struct my_state *s, const uint8_t *p, uint32_t n)
{
	s->a.is_err = 1;
	s->a.err = n >= 3 ? (uint16_t)wl_my_u16(p + 1) : 0;
	s->a.sqlstate[0] = '\0';
	if (n >= 9 && p[3] == '#')
		wl_my_text(p + 4, 5, s->a.sqlstate, sizeof(s->a.sqlstate));
}

/* OK packet (0x00 or 0xfe header): affected rows summed, status flags
 * returned (0 when cut). */
static uint32_t
ok_packet(struct my_state *s, const uint8_t *p, uint32_t n)
{
	uint64_t aff = 0, id;
	int k1, k2;

	k1 = wl_my_lenenc(p + 1, n - 1, &aff);
	if (k1 < 0)
		return 0;
	s->a.affected += aff;
	k2 = wl_my_lenenc(p + 1 + k1, n - 1 - (uint32_t)k1, &id);
	if (k2 < 0 || 1u + (uint32_t)(k1 + k2) + 2 > n)
		return 0;
	return wl_my_u16(p + 1 + k1 + k2);
}

/* Status flags of a result's terminator: EOF (5 bytes) or OK (0xfe). */
static uint32_t
terminator(struct my_state *s, const struct wl_my_framer *f)
{
	if (f->len < 7)
		return f->blen >= 5 ? wl_my_u16(f->buf + 3) : 0;
	return ok_packet(s, f->buf, f->blen);
}

static int
is_eof(const struct wl_my_framer *f)
{
	return f->blen > 0 && f->buf[0] == 0xfe && f->len < 9;
}

/* A prepare's first answer packet, not known to be one: an OK that
 * definitions may follow. */
static int
prepare_shaped(const struct wl_my_framer *f)
{
	return f->len == 12 && f->blen == 12 && f->buf[9] == 0 &&
		(wl_my_u16(f->buf + 5) != 0 || wl_my_u16(f->buf + 7) != 0);
}

/* A result ended with these status flags: more, or the end. */
static int
result_end(struct my_state *s, struct wl_proto_ctx *ctx, uint32_t status)
{
	if (status & WL_MY_SERVER_MORE_RESULTS) {
		s->a.rst = R_FIRST;
		return WL_PROTO_CONTINUE;
	}
	return complete(s, ctx, 1);
}

static uint8_t
ans_cmd(const struct my_state *s)
{
	return s->a.named ? s->a.cmd : 0;
}

static int
query_packet(struct my_state *s, struct wl_proto_ctx *ctx,
	const struct wl_my_framer *f)
{
	struct my_ans *a = &s->a;
	const uint8_t *p = f->buf;
	uint8_t cmd = ans_cmd(s);
	uint64_t v;
	int k;

	switch (a->rst) {
	case R_FIRST:
		a->sets++;
		if (p[0] == 0x00) {
			if (!a->named && prepare_shaped(f))
				return complete(s, ctx, 0);
			return result_end(s, ctx, ok_packet(s, p, f->blen));
		} else if (p[0] == 0xff) {
			set_err(s, p, f->blen);
			return complete(s, ctx, 1);
		} else if (p[0] == 0xfb && (!a->named ||
				cmd == WL_MY_COM_QUERY)) {
			a->sets--;
			a->rst = R_INFILE;
		} else if (is_eof(f) && a->named) {
			return result_end(s, ctx, terminator(s, f));
		} else {
			/* MariaDB (CLIENT_CACHE_METADATA) adds a "metadata
			 * follows" byte; 0: no column definitions. */
			k = wl_my_lenenc(p, f->blen, &v);
			if (k < 0 || (uint64_t)k + 1 < f->len || v == 0) {
				bad(s, ctx);
				return WL_PROTO_CONTINUE;
			}
			a->left = v;
			a->rset = 1;
			a->rst = R_COLS;
			if ((uint64_t)k < f->len && p[k] == 0)
				a->rst = s->eof == EOF_YES ? R_ROWS : R_COLEOF;
		}
		return WL_PROTO_CONTINUE;
	case R_COLS:
		if (--a->left == 0)
			a->rst = s->eof == EOF_YES ? R_ROWS : R_COLEOF;
		return WL_PROTO_CONTINUE;
	case R_COLEOF:
		if (is_eof(f)) {
			/* EOF is 5 bytes, the OK that replaces it at least 7:
			 * an empty result set without DEPRECATE_EOF. */
			if (s->eof == EOF_UNKNOWN && f->len >= 7) {
				s->eof = EOF_YES;
				return result_end(s, ctx, terminator(s, f));
			}
			if (s->eof == EOF_UNKNOWN)
				s->eof = EOF_NO;
			a->rst = R_ROWS;
			/* COM_STMT_EXECUTE that opened a cursor: no rows
			 * follow, they come with COM_STMT_FETCH. */
			if ((!a->named || cmd == WL_MY_COM_STMT_EXECUTE) &&
					(terminator(s, f) &
					WL_MY_SERVER_CURSOR_EXISTS))
				return complete(s, ctx, 1);
		} else if (p[0] == 0xff) {
			set_err(s, p, f->blen);
			return complete(s, ctx, 1);
		} else {
			if (s->eof == EOF_UNKNOWN)
				s->eof = EOF_YES;
			a->rows++;
			a->rst = R_ROWS;
		}
		return WL_PROTO_CONTINUE;
	case R_ROWS:
		/* A text row starts with 0xfe only when its first value is
		 * >= 16 MB long: the packet is then a continued one. */
		if (p[0] == 0xfe && f->len < WL_MY_MAX_PKT)
			return result_end(s, ctx, terminator(s, f));
		if (p[0] == 0xff) {
			set_err(s, p, f->blen);
			return complete(s, ctx, 1);
		}
		a->rows++;
		return WL_PROTO_CONTINUE;
	default:
		bad(s, ctx);
		return WL_PROTO_CONTINUE;
	}
}

/* Prepare: after the parameter definitions (and their EOF). */
static int
prepare_columns(struct my_state *s, struct wl_proto_ctx *ctx)
{
	if (s->a.pcols == 0)
		return complete(s, ctx, 1);
	s->a.left = s->a.pcols;
	s->a.pcols = 0;
	s->a.rst = R_CDEFS;
	return WL_PROTO_CONTINUE;
}

static int
prepare_packet(struct my_state *s, struct wl_proto_ctx *ctx,
	const struct wl_my_framer *f)
{
	struct my_ans *a = &s->a;
	const uint8_t *p = f->buf;
	struct wl_mrec *r;
	uint32_t params;

	switch (a->rst) {
	case R_FIRST:
		if (p[0] == 0xff) {
			set_err(s, p, f->blen);
			return complete(s, ctx, 1);
		}
		if (p[0] != 0x00 || f->blen < 9) {
			bad(s, ctx);
			return WL_PROTO_CONTINUE;
		}
		a->stmt_id = wl_my_u32(p + 1);
		a->has_stmt = 1;
		r = live_req(s, ctx);
		if (r != NULL) {
			area(&r->t)->stmt_id = a->stmt_id;
			area(&r->t)->has_stmt = 1;
			stmt_put(s, ctx, a->stmt_id, &r->t);
		}
		a->pcols = (uint16_t)wl_my_u16(p + 5);
		params = wl_my_u16(p + 7);
		if (params == 0)
			return prepare_columns(s, ctx);
		a->left = params;
		a->rst = R_PDEFS;
		return WL_PROTO_CONTINUE;
	case R_PDEFS:
		if (--a->left > 0)
			return WL_PROTO_CONTINUE;
		if (s->eof == EOF_YES)
			return prepare_columns(s, ctx);
		a->rst = R_PEOF;
		/* Without the handshake, an EOF may follow or not. */
		if (s->eof == EOF_UNKNOWN && a->pcols == 0)
			return complete(s, ctx, 0);
		return WL_PROTO_CONTINUE;
	case R_PEOF:
		if (is_eof(f)) {
			if (s->eof == EOF_UNKNOWN)
				s->eof = EOF_NO;
			return prepare_columns(s, ctx);
		}
		if (s->eof != EOF_UNKNOWN || a->pcols == 0) {
			bad(s, ctx);
			return WL_PROTO_CONTINUE;
		}
		/* No EOF after the params: this is the first column. */
		s->eof = EOF_YES;
		prepare_columns(s, ctx);
		/* fall through */
	case R_CDEFS:
		if (--a->left > 0)
			return WL_PROTO_CONTINUE;
		if (s->eof == EOF_YES)
			return complete(s, ctx, 1);
		a->rst = R_CEOF;
		if (s->eof == EOF_UNKNOWN)
			return complete(s, ctx, 0);
		return WL_PROTO_CONTINUE;
	case R_CEOF:
		if (!is_eof(f)) {
			bad(s, ctx);
			return WL_PROTO_CONTINUE;
		}
		if (s->eof == EOF_UNKNOWN)
			s->eof = EOF_NO;
		return complete(s, ctx, 1);
	default:
		bad(s, ctx);
		return WL_PROTO_CONTINUE;
	}
}

static void
greeting(struct my_state *s, const struct wl_my_framer *f)
{
	const uint8_t *p = f->buf;
	uint32_t n = f->blen, i;

	for (i = 1; i < n && p[i] != '\0'; i++)
		;
	i += 1 + 4 + 9;
	s->greeted = 1;
	s->phase = PH_GREETED;
	/* The server's first message: no answer came before it. */
	wl_match_start(&s->m, WL_DIR_S2C);
	s->greet_ns = f->begin_ns;
	s->greet_bytes = f->wire;
	/* caps lower(2) charset(1) status(2) caps upper(2) */
	if (i + 2 <= n)
		s->caps_srv = wl_my_u16(p + i);
	if (i + 7 <= n)
		s->caps_srv |= wl_my_u16(p + i + 5) << 16;
}

/* A candidate answer after a scan passed its checks: in sync again; the
 * bytes passed over join the lost region. */
static void
tent_accept(struct my_state *s, struct wl_proto_ctx *ctx)
{
	s->smode = S_SYNC;
	if (s->s_lost != NONE)
		lost(s, ctx, WL_DIR_S2C, s->s_lost, s->a.pos.off,
			WL_GAP_IN_MSG);
	s->s_lost = NONE;
	ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
}

/* It did not: scan on from the byte after it. */
static void
tent_reject(struct my_state *s)
{
	ans_reset(s);
	s->smode = S_SCAN;
	srv_scan(s);
}

/* A server header: where it stands against the answer in progress. */
static void
server_header(struct my_state *s, struct wl_proto_ctx *ctx)
{
	const struct wl_my_framer *f = &s->sf;
	struct my_ans *a = &s->a;

	switch (s->smode) {
	case S_GREET:
		if (f->seq != 0 || f->plen < 20 || f->plen > 1024) {
			/* Not a greeting: picked up later than it. */
			s->smode = S_SCAN;
			wl_my_framer_rescan(&s->sf, s->phase == PH_AUTH ? 2 : 1);
		}
		return;
	case S_SCAN:
		s->smode = S_TENT;
		ans_begin(s, ctx, f);
		return;
	case S_SYNC:
		break;
	default:
		return;
	}
	if (a->on && a->defer != D_NO) {
		/* Continued (sequence ids go on, and a new answer's would
		 * not be 1 here): not complete after all. */
		if (f->seq == s->seq && !(a->defer == D_DONE && f->seq == 1)) {
			if (!a->named || a->defer == D_DONE)
				a->kind = K_RUN;
			a->defer = D_NO;
			return;
		}
		/* A prepare whose EOF did not come: none will. */
		if (a->named && (a->rst == R_CEOF || a->rst == R_PEOF))
			s->eof = EOF_YES;
		ans_end(s, ctx, WL_RSP_COMPLETE, 0);
	}
	if (!a->on)
		ans_begin(s, ctx, f);
}

static int
server_packet(struct my_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_my_framer *f = &s->sf;
	const uint8_t *p = f->buf;
	struct my_ans *a = &s->a;

	if (s->smode == S_GREET) {
		if (f->blen > 0 && p[0] == 10) {
			greeting(s, f);
			s->smode = S_SYNC;
		} else {
			server_lost(s, ctx, f->begin_off);
		}
		return WL_PROTO_CONTINUE;
	}
	if (s->smode == S_TENT) {
		/* The scan's window checked its first bytes (and a column
		 * count's definition); now the whole kept packet. */
		if (!wl_my_rsp_first(f)) {
			tent_reject(s);
			return WL_PROTO_CONTINUE;
		}
		tent_accept(s, ctx);
	}
	/* The answer to the command named starts with the id after its. */
	if (a->named && a->fseq != a->rseq) {
		server_lost(s, ctx, f->begin_off);
		return WL_PROTO_CONTINUE;
	}
	if (a->cgap) {
		/* Client bytes of the exchange were lost: its sequence ids
		 * and whether the file ended are not known. */
		a->cgap = 0;
		s->seq = f->seq;
		if (a->rst == R_INFILE)
			a->rst = R_FIRST;
	}
	if (f->seq != s->seq || a->rst == R_INFILE) {
		if (a->named || a->npk == 0) {
			server_lost(s, ctx, f->begin_off);
			return WL_PROTO_CONTINUE;
		}
		a->kind = K_RUN;
	}
	s->seq = (uint8_t)(f->last_seq + 1);
	if (a->kind != K_AUTH && f->blen >= 3 && p[0] == 0xff &&
			wl_my_u16(p + 1) == WL_MY_ERR_PROGRESS) {
		/* MariaDB progress report: not the answer, and not its
		 * start (the command is still running). */
		a->bytes += f->wire;
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		return WL_PROTO_CONTINUE;
	}
	if (!a->started) {
		a->started = 1;
		a->start_ns = f->begin_ns;
		a->first = f->blen > 0 ? p[0] : 0;
	}
	a->bytes += f->wire;
	a->last_ns = ts;
	a->last = f->blen > 0 ? p[0] : 0;
	if (a->npk < UINT8_MAX)
		a->npk++;
	if (f->blen == 0 && a->kind != K_ONE && a->kind != K_RUN) {
		bad(s, ctx);
		return WL_PROTO_CONTINUE;
	}
	switch (a->kind) {
	case K_QUERY:
		return query_packet(s, ctx, f);
	case K_PREPARE:
		return prepare_packet(s, ctx, f);
	case K_FIELDS:
	case K_FETCH:
		if (p[0] == 0xff) {
			set_err(s, p, f->blen);
			return complete(s, ctx, 1);
		}
		if (is_eof(f))
			return complete(s, ctx, 1);
		if (a->kind == K_FETCH)
			a->rows++;
		return WL_PROTO_CONTINUE;
	case K_AUTH:
		/* 0xfe AuthSwitchRequest, 0x01 AuthMoreData: go on. */
		if (p[0] != 0x00 && p[0] != 0xff)
			return WL_PROTO_CONTINUE;
		if (p[0] == 0xff)
			set_err(s, p, f->blen);
		return complete(s, ctx, 1);
	case K_RUN:
		if (a->npk == 1 && f->blen > 0 && p[0] == 0xff)
			set_err(s, p, f->blen);
		a->defer = D_MAYBE;
		return WL_PROTO_CONTINUE;
	default:
		if (f->blen > 0 && p[0] == 0xff)
			set_err(s, p, f->blen);
		return complete(s, ctx, 1);
	}
}

/* ---- commands ---- */

static void
set_eof_mode(struct my_state *s)
{
	if (!(s->caps_cli & WL_MY_CLIENT_DEPRECATE_EOF))
		s->eof = EOF_NO;
	else if (s->greeted)
		s->eof = s->caps_srv & WL_MY_CLIENT_DEPRECATE_EOF ? EOF_YES :
			EOF_NO;
	else
		s->eof = EOF_UNKNOWN;
}

/* Offset past a NUL-terminated string at p[i], or n when cut. */
static uint32_t
past_cstr(const uint8_t *p, uint32_t n, uint32_t i)
{
	while (i < n && p[i] != '\0')
		i++;
	return i < n ? i + 1 : n;
}

/* A request for the matcher: the packet f, sent up to ts. */
static struct wl_mrec *
req_add(struct my_state *s, struct wl_proto_ctx *ctx,
	const struct wl_my_framer *f, uint64_t start_ns, uint8_t cmd,
	uint8_t kind)
{
	struct wl_stream_pos at = { f->begin_off, f->begin_tag };
	struct wl_mrec *r;
	struct wl_my_txn *q;

	r = wl_match_req_add(&s->m, ctx, &at, start_ns);
	if (r == NULL)
		return NULL;
	q = area(&r->t);
	q->cmd = cmd;
	q->kind = kind;
	q->rseq = (uint8_t)(f->last_seq + 1);
	if (s->req_gap)
		r->t.flags |= WL_TXN_F_GAP;
	s->req_gap = 0;
	return r;
}

static void
handshake_response(struct my_state *s, struct wl_proto_ctx *ctx,
	const struct wl_my_framer *f, uint64_t ts)
{
	const uint8_t *p = f->buf;
	uint32_t n = f->blen, caps = wl_my_u32(p), i;
	char db[WL_TXN_RESOURCE_LEN];
	struct wl_mrec *r;
	uint64_t alen = 0;
	int k;

	/* SSLRequest: TLS follows, nothing more to read. */
	if ((caps & WL_MY_CLIENT_SSL) && f->len == 32)
		return;
	ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
	s->caps_cli = caps;
	set_eof_mode(s);
	s->phase = PH_AUTH;
	/* Looking for an answer after lost bytes: the login's counts. */
	if (s->sf.rsp_scan)
		s->sf.rsp_scan = 2;
	wl_my_text(p + 32, n - 32, s->user, sizeof(s->user));
	/* The client's first message: no command came before it. */
	wl_match_start(&s->m, WL_DIR_C2S);
	/* The greeting (which came first) was not seen: when the login
	 * began is not known (no duration). */
	r = req_add(s, ctx, f, s->greeted ? s->greet_ns : 0, CMD_CONNECT,
		K_AUTH);
	if (r == NULL)
		return;
	wl_txn_set_method(&r->t, "connect");
	if (!s->greeted)
		r->t.flags |= WL_TXN_F_GAP;
	i = past_cstr(p, n, 32);
	if (caps & WL_MY_CLIENT_LENENC_AUTH) {
		k = wl_my_lenenc(p + i, n - i, &alen);
		i = k < 0 ? n : i + (uint32_t)k;
	} else if (caps & WL_MY_CLIENT_SECURE_CONN) {
		alen = i < n ? p[i] : 0;
		i++;
	} else {
		i = past_cstr(p, n, i);
	}
	i = (uint32_t)WL_MIN((uint64_t)n, (uint64_t)i + alen);
	if ((caps & WL_MY_CLIENT_CONNECT_WITH_DB) && i < n) {
		if (wl_my_text(p + i, n - i, db, sizeof(db)))
			r->t.flags |= WL_TXN_F_TRUNCATED;
		wl_txn_set_resource(&r->t, db);
	}
	wl_txn_str_set(&r->t, WL_MY_S_USER, s->user, WL_MY_USER);
	wl_match_req_end(&s->m, ctx, r, ts, f->wire, 1);
}

/* The method of each command (those without one are not answered). */
static const char *const cmd_names[] = {
	[WL_MY_COM_INIT_DB] = "INIT_DB",
	[WL_MY_COM_FIELD_LIST] = "FIELD_LIST",
	[WL_MY_COM_STATISTICS] = "STATISTICS",
	[WL_MY_COM_PING] = "PING",
	[WL_MY_COM_CHANGE_USER] = "CHANGE_USER",
	[WL_MY_COM_STMT_PREPARE] = "PREPARE",
	[WL_MY_COM_STMT_EXECUTE] = "EXECUTE",
	[WL_MY_COM_STMT_RESET] = "STMT_RESET",
	[WL_MY_COM_SET_OPTION] = "SET_OPTION",
	[WL_MY_COM_STMT_FETCH] = "STMT_FETCH",
	[WL_MY_COM_RESET_CONNECTION] = "RESET_CONNECTION",
};

/* How the answer to cmd is shaped. */
static uint8_t
kind_of(uint8_t cmd)
{
	switch (cmd) {
	case WL_MY_COM_QUERY:
	case WL_MY_COM_STMT_EXECUTE:
		return K_QUERY;
	case WL_MY_COM_STMT_PREPARE:
		return K_PREPARE;
	case WL_MY_COM_FIELD_LIST:
		return K_FIELDS;
	case WL_MY_COM_STMT_FETCH:
		return K_FETCH;
	case WL_MY_COM_CHANGE_USER:
		return K_AUTH;
	default:
		return K_ONE;
	}
}

/* A command's method, resource and statement into its transaction. */
static void
command_fields(struct my_state *s, struct wl_txn *t,
	const struct wl_my_framer *f)
{
	const uint8_t *p = f->buf + 1;
	uint32_t n = f->blen - 1;
	struct wl_my_txn *q = area(t);
	const struct my_stmt *st;
	char verb[WL_TXN_METHOD_LEN], method[WL_TXN_METHOD_LEN];
	char res[WL_TXN_RESOURCE_LEN];
	uint8_t cmd = f->buf[0];
	int cut = f->len > f->blen, user = 0;

	/* Made here, then stored in the order of their places. */
	res[0] = '\0';
	if (cmd < WL_ARRAY_SIZE(cmd_names) && cmd_names[cmd] != NULL)
		wl_strlcpy(method, cmd_names[cmd], sizeof(method));
	else
		snprintf(method, sizeof(method), "COM_0x%02x", cmd);
	switch (cmd) {
	case WL_MY_COM_QUERY:
	case WL_MY_COM_STMT_PREPARE:
		cut |= wl_sql_normalize((const char *)p, n, WL_SQL_MYSQL,
			res, sizeof(res), verb, sizeof(verb));
		if (cut)
			t->flags |= WL_TXN_F_TRUNCATED;
		if (cmd == WL_MY_COM_QUERY)
			wl_strlcpy(method, verb[0] ? verb : "QUERY",
				sizeof(method));
		break;
	case WL_MY_COM_STMT_EXECUTE:
		q->prepared = 1;
		q->has_stmt = 1;
		q->stmt_id = wl_my_u32(p);
		st = stmt_find(s, q->stmt_id);
		if (st != NULL) {
			wl_strlcpy(res, st->text, sizeof(res));
			if (st->trunc)
				t->flags |= WL_TXN_F_TRUNCATED;
			verb_of(st->text, method, sizeof(method));
		}
		break;
	case WL_MY_COM_STMT_RESET:
	case WL_MY_COM_STMT_FETCH:
		q->has_stmt = 1;
		q->stmt_id = wl_my_u32(p);
		break;
	case WL_MY_COM_INIT_DB:
		if (wl_my_text(p, n, res, sizeof(res)) | cut)
			t->flags |= WL_TXN_F_TRUNCATED;
		break;
	case WL_MY_COM_FIELD_LIST:
		wl_my_text(p, n, res, sizeof(res));
		break;
	case WL_MY_COM_CHANGE_USER:
		wl_my_text(p, n, res, sizeof(res));
		user = 1;
		break;
	}
	wl_txn_set_method(t, method);
	wl_txn_set_resource(t, res);
	if (user)
		wl_txn_str_set(t, WL_MY_S_USER, res, WL_MY_USER);
}

static int
command(struct my_state *s, struct wl_proto_ctx *ctx,
	const struct wl_my_framer *f, uint64_t ts)
{
	uint8_t cmd = f->buf[0];
	struct my_stmt *st;
	struct wl_mrec *r;

	if (f->len == 0 || !wl_my_cmd_ok(cmd, f->len)) {
		/* What it was, and whether the server answers it, is not
		 * known: it joins a lost region. */
		client_lost(s, ctx);
		return WL_PROTO_CONTINUE;
	}
	ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
	if (s->phase != PH_CMD) {
		/* Commands before the handshake ended: it was cut. */
		if (s->phase < PH_AUTH)
			s->eof = EOF_UNKNOWN;
		s->phase = PH_CMD;
		if (s->sf.rsp_scan)
			s->sf.rsp_scan = 1;
	}
	switch (cmd) {
	case WL_MY_COM_STMT_CLOSE:
		st = stmt_find(s, wl_my_u32(f->buf + 1));
		if (st != NULL)
			st->age = 0;
		/* fall through */
	case WL_MY_COM_QUIT:
	case WL_MY_COM_STMT_SEND_LONG_DATA:
		/* No response: nothing to pair. */
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		s->req_gap = 0;
		if (cmd == WL_MY_COM_QUIT)
			wl_match_quit(&s->m);
		return WL_PROTO_CONTINUE;
	case WL_MY_COM_BINLOG_DUMP:
	case WL_MY_COM_BINLOG_DUMP_GTID:
		return WL_PROTO_DONE;   /* a replication stream follows */
	default:
		break;
	}
	r = req_add(s, ctx, f, f->begin_ns, cmd, kind_of(cmd));
	if (r == NULL)
		return WL_PROTO_CONTINUE;
	command_fields(s, &r->t, f);
	wl_match_req_end(&s->m, ctx, r, ts, f->wire, 1);
	return WL_PROTO_CONTINUE;
}

/* Does a seq 1 packet look like a HandshakeResponse41? */
static int
is_handshake_response(const struct wl_my_framer *f)
{
	uint32_t i;

	if (f->len < 32 || f->blen < 32 ||
			!(wl_my_u32(f->buf) & WL_MY_CLIENT_PROTOCOL_41))
		return 0;
	/* 19 zero bytes; MariaDB's extended capabilities follow. */
	for (i = 9; i < 28; i++)
		if (f->buf[i] != 0)
			return 0;
	return 1;
}

static int
client_packet(struct my_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_my_framer *f = &s->cf;
	struct my_ans *a = &s->a;
	struct wl_mrec *r = live_req(s, ctx);

	/* Data the exchange asked for: auth data, LOCAL INFILE content
	 * (a command is seq 0, these go on from the server's). */
	if (a->on && f->seq != 0 && f->seq == s->seq && !a->cgap) {
		if (r != NULL)
			wl_match_req_end(&s->m, ctx, r, r->t.req_end_ns,
				r->t.req_bytes + f->wire, 1);
		s->seq = (uint8_t)(f->last_seq + 1);
		if (a->rst == R_INFILE && f->len == 0)
			a->rst = R_FIRST;       /* the file ended */
		s->req_gap = 0;
		return WL_PROTO_CONTINUE;
	}
	if (f->seq == 0)
		return command(s, ctx, f, ts);
	if (f->seq == 1 && s->phase < PH_AUTH && is_handshake_response(f)) {
		/* SSLRequest: TLS from here on. */
		if ((wl_my_u32(f->buf) & WL_MY_CLIENT_SSL) && f->len == 32)
			return WL_PROTO_DONE;
		handshake_response(s, ctx, f, ts);
		return WL_PROTO_CONTINUE;
	}
	client_lost(s, ctx);
	return WL_PROTO_CONTINUE;
}

/* A client header arrived. */
static void
client_header(struct my_state *s, struct wl_proto_ctx *ctx)
{
	struct wl_my_framer *f = &s->cf;

	if (!s->cstarted && f->seq > 1) {
		/* The capture began inside a packet. */
		s->cstarted = 1;
		lose(s, ctx, WL_DIR_C2S, f->begin_off);
		wl_my_framer_rescan(f, 0);
		return;
	}
	s->cstarted = 1;
	if (s->c_lost != NONE) {
		/* Found again by the scan: what was passed over held an
		 * unknown number of commands. */
		lost(s, ctx, WL_DIR_C2S, s->c_lost, f->begin_off,
			WL_GAP_IN_MSG);
		s->c_lost = NONE;
		ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
	}
}

/* ---- ops ---- */

static enum wl_probe
my_probe(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	return wl_probe_of(wl_my_start_check(d, len, dir == WL_DIR_S2C));
}

static void
my_init(void *state, struct wl_proto_ctx *ctx)
{
	struct my_state *s = state;

	wl_my_framer_init(&s->cf);
	wl_my_framer_init(&s->sf);
	s->eof = EOF_UNKNOWN;
	s->c_lost = NONE;
	s->s_lost = NONE;
	s->midstream = ctx->rsp_midstream;
	wl_match_init(&s->m, ctx, 0);
}

static int
my_data(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	struct my_state *s = state;
	struct wl_my_framer *f = dir == WL_DIR_C2S ? &s->cf : &s->sf;
	enum wl_my_ev ev;
	uint32_t k;
	int r;

	if (dir == WL_DIR_S2C && s->smode == S_START) {
		if (s->midstream) {
			/* What comes before the first answer found may hold
			 * answers to commands seen (a login's). */
			s->smode = S_SCAN;
			srv_scan(s);
			lose(s, ctx, WL_DIR_S2C, ctx->pos.off);
		} else {
			s->smode = s->m.req_seq == 0 ? S_GREET : S_SYNC;
		}
	}
	f->off = ctx->pos.off;
	f->tag = ctx->pos.peer_ack;
	for (;;) {
		k = wl_my_feed(f, d, len, ts, &ev);
		d += k;
		len -= k;
		switch (ev) {
		case WL_MY_EV_NONE:
			return WL_PROTO_CONTINUE;
		case WL_MY_EV_HDR:
			if (dir == WL_DIR_C2S)
				client_header(s, ctx);
			else
				server_header(s, ctx);
			break;
		case WL_MY_EV_END:
			r = dir == WL_DIR_C2S ? client_packet(s, ctx, ts) :
				server_packet(s, ctx, ts);
			if (r == WL_PROTO_DONE)
				return r;
			break;
		case WL_MY_EV_ERROR:
			if (dir == WL_DIR_S2C) {
				if (s->smode == S_TENT)
					tent_reject(s);
				else
					server_lost(s, ctx, f->begin_off);
			} else {
				client_lost(s, ctx);
			}
			break;
		}
	}
}

/*
 * Lost bytes inside a packet past its kept prefix only cost bytes (flag
 * gap). Otherwise the packet in progress is lost from there: an answer
 * is reported with what is known of it (its start; no end), a command
 * never is; the matcher learns that boundaries were lost, and framing
 * is looked for again.
 */
static int
my_gap(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir, uint32_t len,
	uint64_t ts)
{
	struct my_state *s = state;
	struct my_ans *a = &s->a;
	enum wl_gap_kind kind = WL_GAP_AT_START;
	uint64_t from = ctx->pos.off, to = ctx->pos.off + len;
	struct wl_mrec *r;
	int exch;

	(void)ts;
	if (dir == WL_DIR_S2C) {
		if (s->smode == S_SYNC && wl_my_framer_skip(&s->sf, len)) {
			a->gap = a->on;
			return WL_PROTO_CONTINUE;
		}
		if (s->smode != S_SYNC) {
			/* Already lost, or the greeting: not an answer. */
			kind = WL_GAP_IN_MSG;
		} else if (a->on && a->defer == D_DONE &&
				wl_my_framer_idle(&s->sf)) {
			/* It was complete: an answer began in them. */
			ans_end(s, ctx, WL_RSP_COMPLETE, 0);
		} else if (a->on) {
			ans_end(s, ctx, WL_RSP_END_LOST, 0);
			kind = WL_GAP_IN_MSG;
		} else if (!wl_my_framer_idle(&s->sf)) {
			kind = WL_GAP_IN_MSG;
		}
		ans_reset(s);
		if (s->s_lost != NONE)
			from = s->s_lost;
		s->s_lost = to;
		s->smode = S_SCAN;
		srv_scan(s);
		lost(s, ctx, dir, from, to, kind);
		return WL_PROTO_CONTINUE;
	}
	/* Client bytes an exchange was waiting for (auth data, a file)? */
	exch = a->on && (a->rst == R_INFILE || a->kind == K_AUTH ||
		a->kind == K_RUN);
	if (s->c_lost == NONE && wl_my_framer_skip(&s->cf, len)) {
		s->req_gap = 1;
		return WL_PROTO_CONTINUE;
	}
	if (s->c_lost != NONE) {
		kind = WL_GAP_IN_MSG;
		from = s->c_lost;
	} else if (exch) {
		kind = WL_GAP_IN_MSG;
	}
	if (exch) {
		r = live_req(s, ctx);
		a->cgap = 1;
		if (r != NULL)
			r->t.flags |= WL_TXN_F_GAP;
	}
	s->req_gap = 0;
	s->c_lost = to;
	wl_my_framer_scan(&s->cf);
	lost(s, ctx, dir, from, to, kind);
	return WL_PROTO_CONTINUE;
}

static void
my_close(void *state, struct wl_proto_ctx *ctx, uint32_t flags, uint64_t ts)
{
	struct my_state *s = state;
	struct my_ans *a = &s->a;

	(void)ts;
	/* An answer complete by its shape, or one whose server said all
	 * it had (a clean close), ended; else the end cut it short. */
	if (a->on && s->smode == S_SYNC) {
		if (a->defer == D_DONE || (a->defer == D_MAYBE &&
				wl_match_clean_close(&s->m, ctx)))
			ans_end(s, ctx, WL_RSP_COMPLETE, 0);
		else
			ans_end(s, ctx, WL_RSP_CUT, flags);
	}
	ans_reset(s);
	wl_match_close(&s->m, ctx, flags, ts);
}

/*
 * What a statement's text rules out, when all of it is known and it is
 * one statement: a SELECT (but SELECT ... INTO) answers with a result
 * set, never a bare OK; an INSERT, UPDATE, DELETE or REPLACE (but with
 * RETURNING) with an OK, never a result set.
 */
static int
sql_fits(const struct wl_txn *req, const struct wl_my_txn *a)
{
	const char *text = wl_txn_resource(req);
	int verb;

	if ((req->flags & WL_TXN_F_TRUNCATED) || text[0] == '\0' ||
			strchr(text, ';') != NULL)
		return 1;
	verb = wl_sql_verb_id(wl_txn_method(req));
	if (a->a_first == 0x00 && verb == WL_SQL_V_SELECT)
		return strcasestr(text, " INTO ") != NULL;
	if (a->a_rset && (verb == WL_SQL_V_INSERT || verb == WL_SQL_V_UPDATE ||
			verb == WL_SQL_V_DELETE || verb == WL_SQL_V_REPLACE))
		return strcasestr(text, "RETURNING") != NULL;
	return 1;
}

/*
 * May answer rsp answer command req? The solver takes a "no" as proof,
 * so it is said only when the protocol rules it out: an answer begins
 * with the sequence id after its command's; an ERR answers anything;
 * otherwise its first packet must be one the command's answers begin
 * with (a result set only for a query or execute, an OK-shaped packet
 * not for a field list), and a fetch's ends with an EOF.
 */
static int
my_rsp_fits(const struct wl_txn *req, const struct wl_txn *rsp)
{
	const struct wl_my_txn *q = wl_txn_area_c(req);
	const struct wl_my_txn *a = wl_txn_area_c(rsp);

	if (a->a_npk == 0)
		return 1;
	if (a->a_seq != q->rseq)
		return 0;
	if (a->a_first == 0xff)
		return 1;
	switch (q->kind) {
	case K_QUERY:
		if (a->a_first == 0xfe || !(a->a_first == 0x00 ||
				a->a_first == 0xfb || a->a_rset || a->a_cut))
			return 0;
		return sql_fits(req, a);
	case K_PREPARE:
		return a->a_first == 0x00;
	case K_FIELDS:
		return a->a_first != 0x00;
	case K_FETCH:
		return a->a_first != 0xfb && (a->a_last == 0xfe || a->a_cut);
	case K_ONE:
		return a->a_npk == 1 && !a->a_rset;
	default:
		return 1;
	}
}

/* The answer's fields into the command's transaction (its own stay). */
static void
my_txn_merge(struct wl_txn *req, const struct wl_txn *rsp)
{
	struct wl_my_txn *q = area(req);
	const struct wl_my_txn *a = wl_txn_area_c(rsp);

	q->rows = a->rows;
	q->affected_rows = a->affected_rows;
	q->result_sets = a->result_sets;
	q->err_code = a->err_code;
	q->is_err = a->is_err;
	memcpy(q->sqlstate, a->sqlstate, sizeof(q->sqlstate));
	if (a->a_stmt && !q->has_stmt) {
		q->stmt_id = a->stmt_id;
		q->has_stmt = 1;
	}
}

static void
my_txn_write(const struct wl_txn *t, struct wl_jw *w)
{
	const struct wl_my_txn *x = wl_txn_area_c(t);

	if (t->rsp_end_ns != 0 && !x->is_err) {
		wl_jw_i64(w, "rows", (int64_t)x->rows);
		wl_jw_i64(w, "affected_rows", (int64_t)x->affected_rows);
	}
	if (x->result_sets > 1)
		wl_jw_i64(w, "result_sets", x->result_sets);
	if (x->is_err && x->sqlstate[0] != '\0')
		wl_jw_str_wire(w, "sqlstate", x->sqlstate);
	wl_jw_bool(w, "prepared", x->prepared);
	if (x->has_stmt)
		wl_jw_i64(w, "stmt_id", x->stmt_id);
	if (t->slen[WL_MY_S_USER] != 0)
		wl_jw_str_wire(w, "user", wl_txn_str(t, WL_MY_S_USER));
}

/*
 * Detection signatures (wl_probe.h), on the 4-byte packet header (length,
 * sequence id): a HandshakeResponse or SSLRequest (sequence 1, 32 to 4096
 * bytes); a command (sequence 0, a command byte wl_my_cmd_ok() knows);
 * the server's greeting (sequence 0, 20 to 1024 bytes, protocol 10) or a
 * reply (sequence 1).
 */
static const struct wl_probe_sig my_sigs[] = {
	{ "^[\\x00-\\xff][\\x00-\\x10]\\x00\\x01", WL_SIG_C2S, 0 },
	{ "^[\\x00-\\xff]{3}\\x00[\\x01-\\x04\\x09\\x0e\\x11\\x12\\x16-\\x1c"
		"\\x1e\\x1f]", WL_SIG_C2S, 0 },
	{ "^[\\x00-\\xff][\\x00-\\x04]\\x00\\x00\\x0a", WL_SIG_S2C, 0 },
	{ "^[\\x00-\\xff]{3}\\x01", WL_SIG_S2C, 0 },
	{ NULL, 0, 0 },
};

const struct wl_proto_ops wl_proto_mysql_ops = {
	.name = "mysql",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 3306 },
	.state_size = sizeof(struct my_state),
	.txn_area = sizeof(struct wl_my_txn),
	WL_MATCH_OPS_HOT(struct my_state,
		WL_PROTO_HOT_LEN(struct my_state, cf, WL_MY_FRAMER_HOT),
		WL_PROTO_HOT_LEN(struct my_state, sf, WL_MY_FRAMER_HOT),
		a, m),
	.probe = my_probe,
	.probe_sigs = my_sigs,
	.init = my_init,
	.data = my_data,
	.gap = my_gap,
	.close = my_close,
	.txn_write = my_txn_write,
	.rsp_fits = my_rsp_fits,
	.txn_merge = my_txn_merge,
};
