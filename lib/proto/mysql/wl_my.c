/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * MySQL / MariaDB transactions. Strict request/response: one command in
 * flight, its response recognised by the command that asked (OK, ERR,
 * result set, prepare answer, LOCAL INFILE exchange); a client that sends
 * the next command early is paired in order from a bounded FIFO.
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
 * command's first and last bytes, rsp_start / rsp_end of the response's
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
 * Invariants: every packet's sequence id is checked (a command starts at
 * 0, everything after it in the exchange continues +1 mod 256); a wrong
 * one is a parse error and the direction resynchronises: the client side
 * by scanning for a plausible command header, the server side by dropping
 * bytes until the client's next command (its answer starts at a packet).
 */

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "wl_common.h"
#include "wl_my.h"
#include "wl_my_parse.h"
#include "wl_proto.h"
#include "wl_sql.h"
#include "wl_proto_fifo.h"

#define PENDING 8
#define STMTS 16
#define STMT_TEXT 64
#define METHOD 16
#define CMD_CONNECT 0xff        /* pseudo command of the handshake */

enum phase {
	PH_INIT = 0,            /* nothing recognised yet */
	PH_GREETED = 1,         /* server greeting seen */
	PH_AUTH = 2,            /* HandshakeResponse seen, awaiting OK/ERR */
	PH_CMD = 3,             /* command phase */
};

enum mode {
	M_START = 0,            /* no byte yet */
	M_TENT = 1,             /* server: first packet must be a greeting */
	M_SYNC = 2,
	M_LOST = 3,             /* client: scanning; server: dropping */
};

/* How the response to a command is shaped. */
enum kind {
	K_ONE = 0,              /* one packet: OK, ERR or other */
	K_QUERY = 1,            /* OK / ERR / result sets / LOCAL INFILE */
	K_PREPARE = 2,          /* OK_prepare, param defs, column defs */
	K_FIELDS = 3,           /* column defs until EOF */
	K_FETCH = 4,            /* rows until EOF */
	K_AUTH = 5,             /* auth exchange until OK / ERR */
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

struct my_req {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t bytes;
	uint32_t stmt_id;
	uint8_t cmd;
	uint8_t kind;
	uint8_t rseq;           /* sequence id of the response's start */
	uint8_t prepared;
	uint8_t has_stmt;
	uint8_t trunc;
	uint8_t rsvd[6];
	char method[METHOD];
	char resource[WL_TXN_RESOURCE_LEN];
};

struct my_stmt {
	uint32_t id;
	uint32_t age;           /* 0: free slot */
	uint8_t trunc;
	char text[STMT_TEXT];
};

struct my_state {
	struct wl_my_framer cf;
	struct wl_my_framer sf;
	struct my_req pend[PENDING];
	struct wl_fifo q;
	struct my_stmt stmts[STMTS];
	uint32_t stmt_clock;
	uint32_t caps_srv;
	uint32_t caps_cli;
	uint8_t phase;
	uint8_t cmode;
	uint8_t smode;
	uint8_t seq;            /* next sequence id of the exchange */
	uint8_t eof;            /* enum eof_mode */
	uint8_t rst;            /* enum rst of the head's response */
	uint8_t rsp_started;
	uint8_t greeted;
	uint8_t is_err;
	uint8_t rsp_gap;        /* bytes inside the head's answer were lost */
	uint8_t blind;          /* pairing no longer proven: logged apart */
	uint8_t sure;           /* commands queued before blind: still paired */
	uint16_t sets;
	uint16_t err;
	uint16_t pcols;         /* prepare: column defs after the params */
	uint64_t left;          /* definitions to come */
	uint64_t greet_ns;
	uint64_t greet_bytes;
	uint64_t rsp_start_ns;
	uint64_t rsp_last_ns;   /* end of the latest response packet */
	uint64_t rsp_bytes;
	uint64_t rows;
	uint64_t affected;
	char sqlstate[6];
	char user[WL_MY_USER];
};

_Static_assert(sizeof(struct my_state) <= 4096, "mysql state too big");

/* ---- helpers ---- */

static struct my_req *
head(struct my_state *s)
{
	return s->q.n > 0 ? &s->pend[wl_fifo_at(&s->q, PENDING, 0)] : NULL;
}

static void
rsp_reset(struct my_state *s)
{
	s->rst = R_FIRST;
	s->rsp_started = 0;
	s->is_err = 0;
	s->sets = 0;
	s->rsp_gap = 0;
	s->err = 0;
	s->pcols = 0;
	s->left = 0;
	s->rsp_bytes = 0;
	s->rows = 0;
	s->affected = 0;
	s->sqlstate[0] = '\0';
}

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
	const struct my_req *r)
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
	st->trunc = r->trunc || strlen(r->resource) >= sizeof(st->text);
	wl_strlcpy(st->text, r->resource, sizeof(st->text));
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
	static const uint16_t server[] = {
		1021, 1037, 1038, 1040, 1041, 1053, 1077, 1078, 1079, 1080,
		1152, 1153, 1154, 1155, 1156, 1157, 1158, 1159, 1160, 1161,
		1205, 1213, 1317, 1927, 1969, 3024,
	};
	unsigned int i;

	if (sqlstate[0] != '\0' && (!strncmp(sqlstate, "08", 2) ||
			!strncmp(sqlstate, "40", 2) ||
			!strncmp(sqlstate, "53", 2) ||
			!strncmp(sqlstate, "57", 2) ||
			!strncmp(sqlstate, "58", 2) ||
			!strncmp(sqlstate, "XX", 2)))
		return WL_SC_SERVER_ERROR;
	for (i = 0; i < WL_ARRAY_SIZE(server); i++)
		if (server[i] == code)
			return WL_SC_SERVER_ERROR;
	if (code >= 2000 && code < 3000)
		return WL_SC_SERVER_ERROR;     /* client library / proxy */
	return WL_SC_CLIENT_ERROR;
}

/* A transaction with r's request fields. */
static void
req_fields(const struct my_state *s, struct wl_proto_ctx *ctx,
	const struct my_req *r, struct wl_txn *t)
{
	struct wl_my_txn *x;

	wl_proto_txn_init(ctx, t);
	x = (struct wl_my_txn *)t->proto_area;
	wl_strlcpy(t->method, r->method, sizeof(t->method));
	wl_strlcpy(t->resource, r->resource, sizeof(t->resource));
	t->req_start_ns = r->start_ns;
	t->req_end_ns = r->end_ns;
	t->req_bytes = r->bytes;
	x->prepared = r->prepared;
	x->has_stmt = r->has_stmt;
	x->stmt_id = r->stmt_id;
	if (r->trunc)
		t->flags |= WL_TXN_F_TRUNCATED;
	if (r->cmd == CMD_CONNECT || r->cmd == WL_MY_COM_CHANGE_USER)
		wl_strlcpy(x->user, s->user, sizeof(x->user));
}

/* The head's answer, complete at rsp_end, into t. */
static void
rsp_fields(const struct my_state *s, struct wl_proto_ctx *ctx,
	struct wl_txn *t, uint64_t rsp_end)
{
	struct wl_my_txn *x = (struct wl_my_txn *)t->proto_area;

	ctx->ctr[WL_PROTO_CTR_RESPONSES]++;
	t->rsp_start_ns = s->rsp_start_ns;
	t->rsp_end_ns = rsp_end;
	t->rsp_bytes = s->rsp_bytes;
	x->rows = s->rows;
	x->affected_rows = s->affected;
	x->result_sets = s->sets;
	if (s->rsp_gap)
		t->flags |= WL_TXN_F_GAP;
	if (s->is_err) {
		t->status_code = s->err;
		x->is_err = 1;
		x->err_code = s->err;
		memcpy(x->sqlstate, s->sqlstate, sizeof(x->sqlstate));
		snprintf(t->status, sizeof(t->status), "%u", s->err);
		t->status_class = err_class(s->err, s->sqlstate);
	} else {
		wl_strlcpy(t->status, "OK", sizeof(t->status));
		t->status_class = WL_SC_OK;
	}
}

/* r alone, without an answer, flagged: its pairing is not proven. */
static void
req_alone(const struct my_state *s, struct wl_proto_ctx *ctx,
	const struct my_req *r, uint32_t flags)
{
	struct wl_txn t;

	req_fields(s, ctx, r, &t);
	t.flags |= flags | WL_TXN_F_UNPAIRED | wl_proto_unanswered(ctx, &t);
	ctx->ctr[WL_PROTO_CTR_UNPAIRED]++;
	wl_proto_emit(ctx, &t);
}

/*
 * Emit the head r: paired with the answer the order gives it or, once
 * that order is not proven (blind), each alone, flagged unpaired (the
 * answer with its status and times, no request).
 */
static void
emit(struct my_state *s, struct wl_proto_ctx *ctx, const struct my_req *r,
	int answered, uint64_t rsp_end, uint32_t flags)
{
	struct wl_txn t;

	if (s->sure > 0) {
		s->sure--;
	} else if (s->blind) {
		req_alone(s, ctx, r, flags);
		if (!answered)
			return;
		wl_proto_txn_init(ctx, &t);
		rsp_fields(s, ctx, &t, rsp_end);
		t.flags |= WL_TXN_F_NO_REQUEST | WL_TXN_F_UNPAIRED;
		ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
		ctx->ctr[WL_PROTO_CTR_UNPAIRED]++;
		wl_proto_emit(ctx, &t);
		return;
	}
	req_fields(s, ctx, r, &t);
	if (answered)
		rsp_fields(s, ctx, &t, rsp_end);
	else
		flags |= wl_proto_unanswered(ctx, &t);
	t.flags |= flags;
	wl_proto_emit(ctx, &t);
}

/*
 * From here on the order of answers is not proven: the commands queued
 * now keep theirs when `keep` (their answers come first); later ones
 * are logged apart from their answers.
 */
static void
go_blind(struct my_state *s, int keep)
{
	if (!s->blind)
		s->sure = keep ? (uint8_t)s->q.n : 0;
	else if (!keep)
		s->sure = 0;
	s->blind = 1;
}

/* The head's response is complete at rsp_end. */
static void
finish(struct my_state *s, struct wl_proto_ctx *ctx, uint64_t rsp_end)
{
	emit(s, ctx, head(s), 1, rsp_end, 0);
	wl_fifo_pop(&s->q, PENDING);
	rsp_reset(s);
	if (s->q.n > 0)
		s->seq = head(s)->rseq;
}

/* The head will get no (usable) response. */
static void
drop_head(struct my_state *s, struct wl_proto_ctx *ctx, uint32_t flags)
{
	emit(s, ctx, head(s), 0, 0, flags);
	wl_fifo_pop(&s->q, PENDING);
	rsp_reset(s);
	if (s->q.n > 0)
		s->seq = head(s)->rseq;
}

static void
server_lost(struct my_state *s)
{
	s->smode = M_LOST;
	wl_my_framer_reset(&s->sf);
}

static void
client_lost(struct my_state *s)
{
	s->cmode = M_LOST;
	wl_my_framer_scan(&s->cf);
}

/* ---- client packets ---- */

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

static int
handshake_response(struct my_state *s, struct wl_proto_ctx *ctx,
	const struct wl_my_framer *f, uint64_t ts)
{
	const uint8_t *p = f->buf;
	uint32_t n = f->blen, caps = wl_my_u32(p), i;
	struct my_req *r;
	uint64_t alen = 0;
	uint32_t slot;
	int k;

	/* SSLRequest: TLS follows, nothing more to read. */
	if ((caps & WL_MY_CLIENT_SSL) && f->len == 32)
		return WL_PROTO_DONE;
	ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
	s->caps_cli = caps;
	set_eof_mode(s);
	s->phase = PH_AUTH;
	s->seq = (uint8_t)(f->last_seq + 1);
	slot = wl_fifo_push(&s->q, PENDING);
	if (slot == UINT32_MAX) {
		ctx->ctr[WL_PROTO_CTR_PENDING_OVERFLOW]++;
		return WL_PROTO_CONTINUE;
	}
	r = &s->pend[slot];
	memset(r, 0, sizeof(*r));
	rsp_reset(s);
	r->cmd = CMD_CONNECT;
	r->kind = K_AUTH;
	r->rseq = s->seq;
	r->start_ns = s->greeted ? s->greet_ns : f->begin_ns;
	r->end_ns = ts;
	r->bytes = f->wire;
	wl_strlcpy(r->method, "connect", sizeof(r->method));
	wl_my_text(p + 32, n - 32, s->user, sizeof(s->user));
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
	if ((caps & WL_MY_CLIENT_CONNECT_WITH_DB) && i < n)
		r->trunc = (uint8_t)wl_my_text(p + i, n - i, r->resource,
			sizeof(r->resource));
	/* The greeting's bytes are the server's: count them in the
	 * response. */
	s->rsp_bytes = s->greet_bytes;
	return WL_PROTO_CONTINUE;
}

/* Is the head still possibly waiting for an EOF that, without
 * CLIENT_DEPRECATE_EOF, would end it? */
static int
maybe_complete(const struct my_state *s)
{
	return s->q.n > 0 && s->rsp_started && s->eof == EOF_UNKNOWN &&
		(s->rst == R_CEOF || (s->rst == R_PEOF && s->pcols == 0));
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

static void
command_fields(struct my_state *s, struct my_req *r,
	const struct wl_my_framer *f)
{
	const uint8_t *p = f->buf + 1;
	uint32_t n = f->blen - 1;
	const struct my_stmt *st;
	char verb[METHOD];
	int cut = f->len > f->blen;

	r->kind = K_ONE;
	if (r->cmd < WL_ARRAY_SIZE(cmd_names) && cmd_names[r->cmd] != NULL)
		wl_strlcpy(r->method, cmd_names[r->cmd], sizeof(r->method));
	else
		snprintf(r->method, sizeof(r->method), "COM_0x%02x", r->cmd);
	switch (r->cmd) {
	case WL_MY_COM_QUERY:
	case WL_MY_COM_STMT_PREPARE:
		cut |= wl_sql_normalize((const char *)p, n, WL_SQL_MYSQL,
			r->resource, sizeof(r->resource), verb, sizeof(verb));
		r->trunc = (uint8_t)cut;
		if (r->cmd == WL_MY_COM_STMT_PREPARE) {
			r->kind = K_PREPARE;
		} else {
			wl_strlcpy(r->method, verb[0] ? verb : "QUERY",
				sizeof(r->method));
			r->kind = K_QUERY;
		}
		break;
	case WL_MY_COM_STMT_EXECUTE:
		r->kind = K_QUERY;
		r->prepared = 1;
		r->has_stmt = 1;
		r->stmt_id = wl_my_u32(p);
		st = stmt_find(s, r->stmt_id);
		if (st != NULL) {
			wl_strlcpy(r->resource, st->text, sizeof(r->resource));
			r->trunc = st->trunc;
			verb_of(st->text, r->method, sizeof(r->method));
		}
		break;
	case WL_MY_COM_STMT_RESET:
	case WL_MY_COM_STMT_FETCH:
		r->has_stmt = 1;
		r->stmt_id = wl_my_u32(p);
		r->kind = r->cmd == WL_MY_COM_STMT_FETCH ? K_FETCH : K_ONE;
		break;
	case WL_MY_COM_INIT_DB:
		r->trunc = (uint8_t)(wl_my_text(p, n, r->resource,
			sizeof(r->resource)) | cut);
		break;
	case WL_MY_COM_FIELD_LIST:
	case WL_MY_COM_CHANGE_USER:
		r->kind = r->cmd == WL_MY_COM_FIELD_LIST ? K_FIELDS : K_AUTH;
		wl_my_text(p, n, r->resource, sizeof(r->resource));
		break;
	}
}

static int
command(struct my_state *s, struct wl_proto_ctx *ctx,
	const struct wl_my_framer *f, uint64_t ts)
{
	uint8_t cmd = f->buf[0];
	struct my_req *r;
	struct my_stmt *st;
	uint32_t slot;

	if (f->len == 0 || !wl_my_cmd_ok(cmd, f->len)) {
		ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
		client_lost(s);
		return WL_PROTO_CONTINUE;
	}
	ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
	if (s->phase != PH_CMD) {
		/* Commands before the handshake ended: it was cut. */
		if (s->phase == PH_AUTH && s->q.n > 0 &&
				head(s)->cmd == CMD_CONNECT)
			drop_head(s, ctx, 0);
		if (s->phase < PH_AUTH)
			s->eof = EOF_UNKNOWN;
		s->phase = PH_CMD;
	}
	if (maybe_complete(s)) {
		s->eof = EOF_YES;
		finish(s, ctx, s->rsp_last_ns);
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
		return WL_PROTO_CONTINUE;
	case WL_MY_COM_BINLOG_DUMP:
	case WL_MY_COM_BINLOG_DUMP_GTID:
		return WL_PROTO_DONE;   /* a replication stream follows */
	default:
		break;
	}
	if (s->smode == M_LOST || s->smode == M_TENT) {
		/* Older commands' answers were in the dropped bytes; this
		 * one's starts at the server's next byte. */
		while (s->q.n > 0)
			drop_head(s, ctx, WL_TXN_F_GAP);
		if (s->smode == M_LOST)
			ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
		wl_my_framer_reset(&s->sf);
		s->smode = M_SYNC;
	} else if (s->smode == M_START) {
		s->smode = M_SYNC;
	}
	slot = wl_fifo_push(&s->q, PENDING);
	if (slot == UINT32_MAX) {
		struct my_req o = { .cmd = cmd, .start_ns = f->begin_ns,
			.end_ns = ts, .bytes = f->wire };

		/* Its answer will come, and the order would give it to
		 * the next command queued: from here the order is lost. */
		ctx->ctr[WL_PROTO_CTR_PENDING_OVERFLOW]++;
		command_fields(s, &o, f);
		req_alone(s, ctx, &o, WL_TXN_F_OVERFLOW);
		go_blind(s, 1);
		return WL_PROTO_CONTINUE;
	}
	r = &s->pend[slot];
	memset(r, 0, sizeof(*r));
	r->cmd = cmd;
	r->start_ns = f->begin_ns;
	r->end_ns = ts;
	r->bytes = f->wire;
	r->rseq = (uint8_t)(f->last_seq + 1);
	command_fields(s, r, f);
	if (s->q.n == 1) {
		rsp_reset(s);
		s->seq = r->rseq;
	}
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
	struct my_req *h = head(s);

	if (s->cmode == M_LOST)
		ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
	s->cmode = M_SYNC;
	/* Data the exchange asked for: auth data, LOCAL INFILE content. */
	if (h != NULL && f->seq == s->seq && (s->rst == R_INFILE ||
			(h->kind == K_AUTH && s->rsp_started))) {
		h->bytes += f->wire;
		s->seq = (uint8_t)(f->last_seq + 1);
		if (s->rst == R_INFILE && f->len == 0)
			s->rst = R_FIRST;       /* the file ended */
		return WL_PROTO_CONTINUE;
	}
	if (f->seq == 0)
		return command(s, ctx, f, ts);
	if (f->seq == 1 && s->phase < PH_AUTH && is_handshake_response(f))
		return handshake_response(s, ctx, f, ts);
	ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
	client_lost(s);
	return WL_PROTO_CONTINUE;
}

/* ---- server packets ---- */

static void
greeting(struct my_state *s, const struct wl_my_framer *f)
{
	const uint8_t *p = f->buf;
	uint32_t n = f->blen, i = past_cstr(p, n, 1) + 4 + 9;

	s->greeted = 1;
	s->phase = PH_GREETED;
	s->greet_ns = f->begin_ns;
	s->greet_bytes = f->wire;
	s->seq = (uint8_t)(f->last_seq + 1);
	/* caps lower(2) charset(1) status(2) caps upper(2) */
	if (i + 2 <= n)
		s->caps_srv = wl_my_u16(p + i);
	if (i + 7 <= n)
		s->caps_srv |= wl_my_u16(p + i + 5) << 16;
}

static void
set_err(struct my_state *s, const uint8_t *p, uint32_t n)
{
	s->is_err = 1;
	s->err = n >= 3 ? (uint16_t)wl_my_u16(p + 1) : 0;
	s->sqlstate[0] = '\0';
	if (n >= 9 && p[3] == '#')
		wl_my_text(p + 4, 5, s->sqlstate, sizeof(s->sqlstate));
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
	s->affected += aff;
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

/* A result ended with these status flags: more, or the end. */
static void
result_end(struct my_state *s, struct wl_proto_ctx *ctx, uint32_t status,
	uint64_t ts)
{
	if (status & WL_MY_SERVER_MORE_RESULTS)
		s->rst = R_FIRST;
	else
		finish(s, ctx, ts);
}

static void
protocol_error(struct my_state *s, struct wl_proto_ctx *ctx)
{
	ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
	if (s->q.n > 0)
		drop_head(s, ctx, 0);
	server_lost(s);
}

/* Prepare: after the parameter definitions (and their EOF). */
static void
prepare_columns(struct my_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	if (s->pcols == 0) {
		finish(s, ctx, ts);
		return;
	}
	s->left = s->pcols;
	s->pcols = 0;
	s->rst = R_CDEFS;
}

static void
query_packet(struct my_state *s, struct wl_proto_ctx *ctx,
	const struct wl_my_framer *f, uint64_t ts)
{
	const uint8_t *p = f->buf;
	uint64_t v;
	int k;

	switch (s->rst) {
	case R_FIRST:
		s->sets++;
		if (p[0] == 0x00) {
			result_end(s, ctx, ok_packet(s, p, f->blen), ts);
		} else if (p[0] == 0xff) {
			set_err(s, p, f->blen);
			finish(s, ctx, ts);
		} else if (p[0] == 0xfb && head(s)->cmd == WL_MY_COM_QUERY) {
			s->sets--;
			s->rst = R_INFILE;
		} else if (is_eof(f)) {
			result_end(s, ctx, terminator(s, f), ts);
		} else {
			/* MariaDB (CLIENT_CACHE_METADATA) adds a "metadata
			 * follows" byte; 0: no column definitions. */
			k = wl_my_lenenc(p, f->blen, &v);
			if (k < 0 || (uint64_t)k + 1 < f->len || v == 0) {
				protocol_error(s, ctx);
				return;
			}
			s->left = v;
			s->rst = R_COLS;
			if ((uint64_t)k < f->len && p[k] == 0)
				s->rst = s->eof == EOF_YES ? R_ROWS : R_COLEOF;
		}
		return;
	case R_COLS:
		if (--s->left == 0)
			s->rst = s->eof == EOF_YES ? R_ROWS : R_COLEOF;
		return;
	case R_COLEOF:
		if (is_eof(f)) {
			/* EOF is 5 bytes, the OK that replaces it at least 7:
			 * an empty result set without DEPRECATE_EOF. */
			if (s->eof == EOF_UNKNOWN && f->len >= 7) {
				s->eof = EOF_YES;
				result_end(s, ctx, terminator(s, f), ts);
				return;
			}
			if (s->eof == EOF_UNKNOWN)
				s->eof = EOF_NO;
			s->rst = R_ROWS;
			/* COM_STMT_EXECUTE that opened a cursor: no rows
			 * follow, they come with COM_STMT_FETCH. */
			if (head(s)->cmd == WL_MY_COM_STMT_EXECUTE &&
					(terminator(s, f) &
					WL_MY_SERVER_CURSOR_EXISTS))
				finish(s, ctx, ts);
		} else if (p[0] == 0xff) {
			set_err(s, p, f->blen);
			finish(s, ctx, ts);
		} else {
			if (s->eof == EOF_UNKNOWN)
				s->eof = EOF_YES;
			s->rows++;
			s->rst = R_ROWS;
		}
		return;
	case R_ROWS:
		/* A text row starts with 0xfe only when its first value is
		 * >= 16 MB long: the packet is then a continued one. */
		if (p[0] == 0xfe && f->len < WL_MY_MAX_PKT) {
			result_end(s, ctx, terminator(s, f), ts);
		} else if (p[0] == 0xff) {
			set_err(s, p, f->blen);
			finish(s, ctx, ts);
		} else {
			s->rows++;
		}
		return;
	default:
		protocol_error(s, ctx);
		return;
	}
}

static void
prepare_packet(struct my_state *s, struct wl_proto_ctx *ctx,
	const struct wl_my_framer *f, uint64_t ts)
{
	const uint8_t *p = f->buf;
	struct my_req *h = head(s);
	uint32_t params;

	switch (s->rst) {
	case R_FIRST:
		if (p[0] == 0xff) {
			set_err(s, p, f->blen);
			finish(s, ctx, ts);
			return;
		}
		if (p[0] != 0x00 || f->blen < 9) {
			protocol_error(s, ctx);
			return;
		}
		h->stmt_id = wl_my_u32(p + 1);
		h->has_stmt = 1;
		stmt_put(s, ctx, h->stmt_id, h);
		s->pcols = (uint16_t)wl_my_u16(p + 5);
		params = wl_my_u16(p + 7);
		if (params > 0) {
			s->left = params;
			s->rst = R_PDEFS;
		} else {
			prepare_columns(s, ctx, ts);
		}
		return;
	case R_PDEFS:
		if (--s->left == 0) {
			if (s->eof == EOF_YES)
				prepare_columns(s, ctx, ts);
			else
				s->rst = R_PEOF;
		}
		return;
	case R_PEOF:
		if (is_eof(f)) {
			if (s->eof == EOF_UNKNOWN)
				s->eof = EOF_NO;
			prepare_columns(s, ctx, ts);
			return;
		}
		if (s->eof != EOF_UNKNOWN || s->pcols == 0) {
			protocol_error(s, ctx);
			return;
		}
		/* No EOF after the params: this is the first column. */
		s->eof = EOF_YES;
		prepare_columns(s, ctx, ts);
		/* fall through */
	case R_CDEFS:
		if (--s->left == 0) {
			if (s->eof == EOF_YES)
				finish(s, ctx, ts);
			else
				s->rst = R_CEOF;
		}
		return;
	case R_CEOF:
		if (!is_eof(f)) {
			protocol_error(s, ctx);
			return;
		}
		if (s->eof == EOF_UNKNOWN)
			s->eof = EOF_NO;
		finish(s, ctx, ts);
		return;
	default:
		protocol_error(s, ctx);
		return;
	}
}

static int
server_packet(struct my_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_my_framer *f = &s->sf;
	const uint8_t *p = f->buf;
	struct my_req *h = head(s);
	int done = 0;

	if (s->smode == M_TENT) {
		if (f->blen > 0 && p[0] == 10) {
			greeting(s, f);
			s->smode = M_SYNC;
		} else {
			server_lost(s);
		}
		return WL_PROTO_CONTINUE;
	}
	if (h == NULL || f->begin_ns < h->start_ns) {
		/* An answer to nothing we saw (its command was lost), or a
		 * packet that began before the command: not its answer. */
		if (f->seq == 1)
			ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
		return WL_PROTO_CONTINUE;
	}
	if (f->seq != s->seq || (s->rst == R_INFILE && h->kind != K_AUTH)) {
		protocol_error(s, ctx);
		return WL_PROTO_CONTINUE;
	}
	s->seq = (uint8_t)(f->last_seq + 1);
	if (h->kind != K_AUTH && f->blen >= 3 && p[0] == 0xff &&
			wl_my_u16(p + 1) == WL_MY_ERR_PROGRESS) {
		/* MariaDB progress report: not the answer, and not its
		 * start (the command is still running). */
		s->rsp_bytes += f->wire;
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		return WL_PROTO_CONTINUE;
	}
	if (!s->rsp_started) {
		s->rsp_started = 1;
		s->rsp_start_ns = f->begin_ns;
	}
	s->rsp_bytes += f->wire;
	s->rsp_last_ns = ts;
	if (f->blen == 0 && h->kind != K_ONE) {
		protocol_error(s, ctx);
		return WL_PROTO_CONTINUE;
	}
	switch (h->kind) {
	case K_QUERY:
		query_packet(s, ctx, f, ts);
		break;
	case K_PREPARE:
		prepare_packet(s, ctx, f, ts);
		break;
	case K_FIELDS:
	case K_FETCH:
		if (p[0] == 0xff) {
			set_err(s, p, f->blen);
			finish(s, ctx, ts);
		} else if (is_eof(f)) {
			finish(s, ctx, ts);
		} else if (h->kind == K_FETCH) {
			s->rows++;
		}
		break;
	case K_AUTH:
		/* 0xfe AuthSwitchRequest, 0x01 AuthMoreData: go on. */
		if (p[0] != 0x00 && p[0] != 0xff)
			break;
		if (p[0] == 0xff)
			set_err(s, p, f->blen);
		if (h->cmd == CMD_CONNECT) {
			s->phase = PH_CMD;
			/* Compressed packets from here on: not parsed. */
			done = p[0] == 0x00 && (s->caps_cli & s->caps_srv &
				WL_MY_CLIENT_COMPRESS);
		}
		if (h->cmd == WL_MY_COM_CHANGE_USER && p[0] == 0x00)
			wl_strlcpy(s->user, h->resource, sizeof(s->user));
		finish(s, ctx, ts);
		break;
	default:
		if (f->blen > 0 && p[0] == 0xff)
			set_err(s, p, f->blen);
		finish(s, ctx, ts);
		break;
	}
	return done ? WL_PROTO_DONE : WL_PROTO_CONTINUE;
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
	/* Answers may be to commands sent before the tap looked. */
	s->blind = ctx->midstream;
}

/* A header arrived: reject impossible starts before their payload. */
static void
header(struct my_state *s, enum wl_dir dir)
{
	const struct wl_my_framer *f = dir == WL_DIR_C2S ? &s->cf : &s->sf;

	if (dir == WL_DIR_S2C) {
		if (s->smode == M_TENT && (f->seq != 0 || f->plen < 20 ||
				f->plen > 1024))
			server_lost(s);
		return;
	}
	if (s->cmode == M_START && f->seq > 1) {
		/* The capture began inside a packet. */
		s->cmode = M_LOST;
		wl_my_framer_rescan(&s->cf);
	}
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

	for (;;) {
		if (dir == WL_DIR_S2C) {
			if (s->smode == M_LOST)
				return WL_PROTO_CONTINUE;
			if (s->smode == M_START)
				s->smode = s->q.n > 0 ? M_SYNC : M_TENT;
		}
		k = wl_my_feed(f, d, len, ts, &ev);
		d += k;
		len -= k;
		switch (ev) {
		case WL_MY_EV_NONE:
			return WL_PROTO_CONTINUE;
		case WL_MY_EV_HDR:
			header(s, dir);
			break;
		case WL_MY_EV_END:
			r = dir == WL_DIR_C2S ? client_packet(s, ctx, ts) :
				server_packet(s, ctx, ts);
			if (r == WL_PROTO_DONE)
				return r;
			break;
		case WL_MY_EV_ERROR:
			if (dir == WL_DIR_S2C) {
				protocol_error(s, ctx);
			} else {
				ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
				client_lost(s);
			}
			break;
		}
	}
}

static int
my_gap(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir, uint32_t len,
	uint64_t ts)
{
	struct my_state *s = state;
	struct my_req *h = head(s);

	(void)ts;
	if (s->phase != PH_CMD) {
		s->phase = PH_CMD;
		if (!s->greeted || s->caps_cli == 0)
			s->eof = EOF_UNKNOWN;
	}
	if (dir == WL_DIR_S2C) {
		if (s->smode == M_SYNC && wl_my_framer_skip(&s->sf, len)) {
			/* Inside a long packet (rows): framing goes on. */
			s->rsp_gap = h != NULL;
			return WL_PROTO_CONTINUE;
		}
		/*
		 * How many answers the lost bytes held is unknown: the head
		 * gets none, and the rest of the order is not proven (a
		 * pipelining client's older answers may follow).
		 */
		if (h != NULL) {
			drop_head(s, ctx, WL_TXN_F_GAP);
			go_blind(s, 0);
		}
		server_lost(s);
		return WL_PROTO_CONTINUE;
	}
	/* Lost commands: their answers would shift the order onto later
	 * ones; those queued before keep theirs. */
	go_blind(s, 1);
	/* Client bytes the exchange was waiting for are gone with it. */
	if (h != NULL && (s->rst == R_INFILE || (h->kind == K_AUTH &&
			s->rsp_started))) {
		drop_head(s, ctx, WL_TXN_F_GAP);
		server_lost(s);
	}
	client_lost(s);
	return WL_PROTO_CONTINUE;
}

static void
my_close(void *state, struct wl_proto_ctx *ctx, uint32_t flags, uint64_t ts)
{
	struct my_state *s = state;

	(void)ts;
	if (maybe_complete(s))
		finish(s, ctx, s->rsp_last_ns);
	while (s->q.n > 0)
		drop_head(s, ctx, flags);
}

static void
my_txn_json(const struct wl_txn *t, json_t *o)
{
	const struct wl_my_txn *x = (const void *)t->proto_area;

	if (t->rsp_end_ns != 0 && !x->is_err) {
		json_object_set_new(o, "rows", json_integer((json_int_t)x->rows));
		json_object_set_new(o, "affected_rows",
			json_integer((json_int_t)x->affected_rows));
	}
	if (x->result_sets > 1)
		json_object_set_new(o, "result_sets",
			json_integer(x->result_sets));
	if (x->is_err && x->sqlstate[0] != '\0')
		json_object_set_new(o, "sqlstate", wl_proto_json_str(x->sqlstate));
	json_object_set_new(o, "prepared", json_boolean(x->prepared));
	if (x->has_stmt)
		json_object_set_new(o, "stmt_id", json_integer(x->stmt_id));
	if (x->user[0] != '\0')
		json_object_set_new(o, "user", wl_proto_json_str(x->user));
}

const struct wl_proto_ops wl_proto_mysql_ops = {
	.name = "mysql",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 3306 },
	.state_size = sizeof(struct my_state),
	.probe = my_probe,
	.init = my_init,
	.data = my_data,
	.gap = my_gap,
	.close = my_close,
	.txn_json = my_txn_json,
};
