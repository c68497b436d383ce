/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * PostgreSQL transactions. The server answers in order: requests are
 * "units", paired with their answers by the shared matcher (wl_match.h),
 * and a unit's kind says where its answer ends.
 *
 *   client                               server
 *   [SSLRequest]  ------------------->
 *                 <-------------------   'N'         (clear text goes on)
 *   StartupMessage ------------------>
 *                 <-------------------   R ... S K Z      "startup"
 *   Q "SELECT.."  ------------------->
 *                 <-------------------   T D D C Z        one txn
 *   P B D E  E  S ------------------->
 *                 <-------------------   1 2 T D C  D C Z
 *                                        \ 1st E  / \ 2nd E (+S, Z) /
 *
 * Timing: req_start is the packet with the unit's first byte, req_end the
 * packet with its last, rsp_start the packet with the first backend byte
 * of its answer, rsp_end the one with the last.
 *  - startup: SSLRequest (or StartupMessage) .. StartupMessage, or the
 *    last password message; answer from the first byte after the
 *    SSLRequest's bare 'N' to the first ReadyForQuery (or the
 *    ErrorResponse that refuses the login).
 *  - simple query / function call: Query .. ReadyForQuery, whatever the
 *    number of statements; COPY FROM STDIN data belongs to the request.
 *  - extended: one unit per Execute, from the first message after the
 *    previous Execute or Sync to the Execute, answered by everything up
 *    to its CommandComplete / EmptyQueryResponse / PortalSuspended /
 *    ErrorResponse; the group's last Execute also takes the messages up
 *    to Sync and the answer up to ReadyForQuery. A group without Execute
 *    is one unit (PREPARE, DESCRIBE, ...) ending at ReadyForQuery.
 *
 * Where an answer ends depends on its unit, which the matcher names
 * while the order is proven (wl_match_rsp_peek). While it is not (a loss
 * left a hole), an answer is taken to end at the next ReadyForQuery,
 * which ends exactly one Query, Sync or startup; the answer carries how
 * it was framed and how many end messages it held, and pg_rsp_fits()
 * lets it answer only a unit such an answer can end: never an Execute
 * with others in its group. Lost client bytes inside an extended group
 * leave its units uncountable: from there to the next Sync they join
 * the lost region (or pairing is given up).
 *
 * Statement texts live in a small table of slots: Parse and Query fill
 * one each; portals and statement names point at a slot by index and
 * generation, so a slot reused for something else is noticed. A unit
 * copies its text when it is queued.
 */

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "wl_common.h"
#include "wl_match.h"
#include "wl_pg.h"
#include "wl_pg_parse.h"
#include "wl_proto.h"
#include "wl_sql.h"

#define STMTS 8                 /* statement texts */
#define PORTALS 4
#define NO_SLOT 0xff
#define VERB 16
#define Z_LEN 6                 /* a ReadyForQuery's bytes */

/* struct wl_pg_txn at_z of a unit: does its answer end at ReadyForQuery */
enum { Z_NO = 0, Z_YES = 1, Z_UNKNOWN = 2 };

/* struct wl_pg_txn unit of a request. */
enum unit_kind {
	U_QUERY = 1,            /* simple Query */
	U_EXEC = 2,             /* extended: up to an Execute */
	U_GROUP = 3,            /* extended: a group without Execute */
	U_STARTUP = 5,
	U_FUNC = 6,             /* FunctionCall */
};

/* struct wl_pg_txn frame of an answer: where it was taken to end. */
enum frame {
	FR_EXEC = 1,            /* its Execute's: at C, I, s or E */
	FR_LAST = 2,            /* its group's last Execute's: at Z */
	FR_STARTUP = 3,         /* the startup's: at Z, or E (refused) */
	FR_Z = 4,               /* unit not known: at the next Z */
	FR_SKIP = 5,            /* none: skipped after an error */
};

enum stmt_kind {
	SK_FREE = 0,
	SK_TEXT = 1,            /* a text only (Query, startup, old Parse) */
	SK_PARSE = 2,           /* a prepared statement Bind may name */
};

/* What choosing and finding a slot reads: 16 bytes a slot, all of
 * them in two lines (the texts of a slot are three lines). */
struct pg_stmt_head {
	uint64_t hash;          /* statement name (SK_PARSE) */
	uint32_t stamp;         /* last use, for eviction */
	uint16_t gen;
	uint8_t kind;
	uint8_t rsvd;
};

struct pg_stmt {
	uint8_t trunc;
	char name[WL_PG_NAME];  /* statement name; startup: the user */
	char verb[VERB];
	char text[WL_TXN_RESOURCE_LEN]; /* normalised; startup: database */
};

struct pg_portal {
	uint64_t hash;
	uint32_t stamp;
	uint16_t gen;
	uint8_t slot;
	uint8_t used;
};

/* The fields every packet reads sit together before the matcher's head
 * (ops hot[2]), each direction's parser apart (hot[dir]); statements
 * and portals first, out of the way. */
struct pg_state {
	struct wl_pg_parser req;
	struct wl_pg_parser rsp;
	struct pg_stmt_head sh[STMTS];
	struct pg_stmt stmt[STMTS];
	struct pg_portal portal[PORTALS];
	struct wl_stream_pos req_pos;   /* client message in progress */
	struct wl_stream_pos pre_pos;   /* the SSLRequest */
	struct wl_stream_pos cur_pos;   /* the extended unit being sent */
	struct wl_stream_pos rsp_pos;   /* the answer in progress */
	struct wl_stream_pos msg_pos;   /* the server message in progress */
	/* The request whose answer is in progress, which the client's COPY
	 * data and password messages extend; valid until that answer ends
	 * or bytes are lost. */
	struct wl_mrec *ext;
	uint64_t req_begin_ns;  /* first byte of the client message */
	uint64_t pre_start_ns;  /* SSLRequest before the StartupMessage */
	uint64_t pre_bytes;
	uint64_t cur_start_ns;
	uint64_t cur_bytes;
	uint64_t msg_begin_ns;
	uint64_t rsp_start_ns;
	uint64_t rsp_bytes;
	uint64_t tag_rows;
	uint32_t rows;
	uint32_t clock;
	uint32_t z_owed;        /* ReadyForQuery due to answered Executes */
	uint16_t cur_gen;
	uint8_t cur_slot;       /* its Parse */
	uint8_t cur_first;
	uint8_t cur_active;
	uint8_t cur_plain;      /* only Sync and Flush so far */
	uint8_t grp_exec;       /* the group has an Execute */
	uint8_t pre_active;
	uint8_t has_tag;
	uint8_t skipping;       /* error in the group: Executes until Sync */
	uint8_t rsp_on;         /* an answer is in progress */
	uint8_t frame;          /* its enum frame */
	uint8_t nterm;          /* its end messages (C, I, s, E) */
	uint8_t req_gap;        /* bytes of the unit being sent were lost */
	uint8_t rsp_gap;
	/* Client bytes were lost between units: what follows, up to the
	 * next Sync, may be the rest of a group begun in them. */
	uint8_t unsure;
	char sqlstate[6];
	struct wl_match m;
};

_Static_assert(sizeof(struct pg_state) <= 4096, "postgresql state too big");

static struct wl_pg_txn *
area(struct wl_txn *t)
{
	return wl_txn_area(t);
}

static uint64_t
name_hash(const char *n, uint32_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint32_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (uint8_t)n[i]) * 0x100000001b3ULL;
	return h;
}

/* ---- statement slots ---- */

static const struct pg_stmt *
stmt_get(const struct pg_state *s, uint8_t slot, uint16_t gen)
{
	if (slot >= STMTS || s->sh[slot].kind == SK_FREE ||
			s->sh[slot].gen != gen)
		return NULL;
	return &s->stmt[slot];
}

/*
 * A slot for a new text: free first, then the least recently used text,
 * then a live prepared statement (lost for a later Bind: counted).
 */
static uint8_t
stmt_alloc(struct pg_state *s, struct wl_proto_ctx *ctx)
{
	struct pg_stmt_head *h;
	struct pg_stmt *st;
	unsigned int i, best = 0, bp = 3, p;

	for (i = 0; i < STMTS; i++) {
		h = &s->sh[i];
		p = h->kind == SK_FREE ? 0 : h->kind == SK_PARSE ? 2 : 1;
		if (p < bp || (p == bp && h->stamp < s->sh[best].stamp)) {
			bp = p;
			best = i;
		}
	}
	if (bp >= 2)
		ctx->ctr[WL_PROTO_CTR_PENDING_OVERFLOW]++;
	h = &s->sh[best];
	h->gen++;
	h->kind = SK_TEXT;
	h->hash = 0;
	h->stamp = ++s->clock;
	st = &s->stmt[best];
	st->trunc = 0;
	st->name[0] = '\0';
	st->verb[0] = '\0';
	st->text[0] = '\0';
	return (uint8_t)best;
}

/* The live prepared statement of that name, NO_SLOT if unknown. */
static uint8_t
stmt_find(struct pg_state *s, uint64_t hash)
{
	unsigned int i;

	for (i = 0; i < STMTS; i++)
		if (s->sh[i].kind == SK_PARSE && s->sh[i].hash == hash) {
			s->sh[i].stamp = ++s->clock;
			return (uint8_t)i;
		}
	return NO_SLOT;
}

static void
stmt_text(struct pg_stmt *st, const char *q, uint32_t n, int cut)
{
	st->trunc = (uint8_t)(wl_sql_normalize(q, n, WL_SQL_POSTGRESQL,
		st->text, sizeof(st->text), st->verb, sizeof(st->verb)) | cut);
}


/*
 * SQLSTATE class -> status class: the request's fault (feature, data,
 * constraint, transaction state, auth, syntax/access), the server's
 * (resources, limits, object state, operator, system, internal), or
 * neither (serialization failures, deadlocks, ...).
 */
#define CLS(a, b) ((a) << 8 | (b))

static uint8_t
class_of(const char *code)
{
	/* code[0] is set (the caller checks), code[1] in the buffer. */
	switch (CLS((uint8_t)code[0], (uint8_t)code[1])) {
	case CLS('0', 'A'): case CLS('2', '2'): case CLS('2', '3'):
	case CLS('2', '5'): case CLS('2', '6'): case CLS('2', '8'):
	case CLS('2', 'B'): case CLS('3', '4'): case CLS('3', 'D'):
	case CLS('3', 'F'): case CLS('4', '2'): case CLS('4', '4'):
		return WL_SC_CLIENT_ERROR;
	case CLS('5', '3'): case CLS('5', '4'): case CLS('5', '5'):
	case CLS('5', '7'): case CLS('5', '8'): case CLS('X', 'X'):
		return WL_SC_SERVER_ERROR;
	default:
		return WL_SC_ERROR;
	}
}

#undef CLS

static const char *
group_method(uint8_t first)
{
	switch (first) {
	case 'P':
		return "PREPARE";
	case 'B':
		return "BIND";
	case 'D':
		return "DESCRIBE";
	case 'C':
		return "CLOSE";
	case 'H':
		return "FLUSH";
	default:
		return "SYNC";
	}
}

/* A unit's method, resource and names into its transaction. */
static void
describe(uint8_t kind, uint8_t first, const struct pg_stmt *st,
	struct wl_txn *t)
{
	struct wl_pg_txn *x = area(t);
	const char *m;

	switch (kind) {
	case U_STARTUP:
		m = "startup";
		break;
	case U_FUNC:
		m = "FUNCTION_CALL";
		break;
	case U_GROUP:
		m = st != NULL ? "PREPARE" : group_method(first);
		break;
	case U_EXEC:
		m = st != NULL && st->verb[0] ? st->verb : "EXECUTE";
		break;
	default:
		m = st != NULL && st->verb[0] ? st->verb : "QUERY";
		break;
	}
	wl_txn_set_method(t, m);
	x->extended = kind == U_EXEC || kind == U_GROUP;
	if (st == NULL)
		return;
	wl_txn_set_resource(t, st->text);
	if (st->trunc)
		t->flags |= WL_TXN_F_TRUNCATED;
	if (kind == U_STARTUP) {
		wl_txn_str_set(t, WL_PG_S_USER, st->name, WL_PG_NAME);
		x->startup = 1;
	} else if (x->extended) {
		wl_txn_str_set(t, WL_PG_S_STMT, st->name, WL_PG_NAME);
	}
}

/*
 * A unit the client sent (at: its first byte, start..end, bytes), for
 * the matcher. An Execute stays open (done 0) until the next Execute
 * or Sync says whether it is its group's last.
 * @return its record, or NULL (no record, or units not countable).
 */
static struct wl_mrec *
unit_add(struct pg_state *s, struct wl_proto_ctx *ctx, uint8_t kind,
	const struct wl_stream_pos *at, uint64_t start, uint64_t end,
	uint64_t bytes, uint8_t slot)
{
	struct wl_mrec *r;
	struct wl_pg_txn *x;

	ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
	r = wl_match_req_add(&s->m, ctx, at, start);
	if (r == NULL)
		return NULL;
	x = area(&r->t);
	describe(kind, s->cur_first, stmt_get(s, slot, slot < STMTS ?
		s->sh[slot].gen : 0), &r->t);
	x->unit = kind;
	/* An Execute's: not known until the next Execute or Sync. */
	x->at_z = kind != U_EXEC ? Z_YES : Z_UNKNOWN;
	x->first = kind == U_EXEC ? !s->grp_exec :
		s->cur_plain ? 'S' : s->cur_first;
	if (s->req_gap)
		r->t.flags |= WL_TXN_F_GAP;
	s->req_gap = 0;
	wl_match_req_end(&s->m, ctx, r, end, bytes, kind != U_EXEC);
	return r;
}

/*
 * The open Execute is complete: the group goes on (another Execute,
 * sync 0), ends with it (Sync at ts: it answers up to ReadyForQuery,
 * sync 1), or which it is was lost (sync -1).
 */
static void
exec_close(struct pg_state *s, struct wl_proto_ctx *ctx, int sync,
	uint64_t ts)
{
	struct wl_mrec *r = wl_match_req_open(&s->m, ctx);

	if (r == NULL || area(&r->t)->unit != U_EXEC)
		return;
	if (sync <= 0) {
		if (sync == 0)
			area(&r->t)->at_z = Z_NO;
		wl_match_req_end(&s->m, ctx, r, r->t.req_end_ns,
			r->t.req_bytes, 1);
		return;
	}
	area(&r->t)->at_z = Z_YES;
	/* Answered already (after a Flush): its ReadyForQuery is still
	 * to come, and answers nothing. */
	if (r->answered)
		s->z_owed++;
	wl_match_req_end(&s->m, ctx, r, ts, r->t.req_bytes + s->cur_bytes,
		1);
}

/* ---- client messages ---- */

static void
startup_msg(struct pg_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_pg_msg *m = &s->req.msg;
	struct pg_stmt *st;
	struct wl_txn t;
	uint8_t slot;

	if (m->code == WL_PG_CODE_SSL || m->code == WL_PG_CODE_GSSENC) {
		if (!s->pre_active) {
			s->pre_start_ns = s->req_begin_ns;
			s->pre_pos = s->req_pos;
		}
		s->pre_active = 1;
		s->pre_bytes += m->len;
		wl_pg_expect_answer(&s->rsp);
		return;
	}
	if (m->code == WL_PG_CODE_CANCEL) {
		/* Sent on a connection of its own; nothing comes back. */
		ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
		wl_proto_txn_init(ctx, &t);
		wl_txn_set_method(&t, "cancel");
		wl_txn_set_status(&t, "OK");
		t.status_class = WL_SC_OK;
		t.req_start_ns = s->req_begin_ns;
		t.req_end_ns = ts;
		t.req_bytes = m->len;
		wl_proto_emit(ctx, &t);
		return;
	}
	/* The client's first message: no unit came before it. */
	wl_match_start(&s->m, WL_DIR_C2S);
	slot = stmt_alloc(s, ctx);
	st = &s->stmt[slot];
	wl_pg_param(m, "user", st->name, sizeof(st->name));
	/* The database defaults to the user's name. */
	if (wl_pg_param(m, "database", st->text, sizeof(st->text)) < 0)
		wl_strlcpy(st->text, st->name, sizeof(st->text));
	unit_add(s, ctx, U_STARTUP, s->pre_active ? &s->pre_pos : &s->req_pos,
		s->pre_active ? s->pre_start_ns : s->req_begin_ns, ts,
		s->pre_bytes + m->len, slot);
	s->pre_active = 0;
	s->pre_bytes = 0;
}

static void
parse_msg(struct pg_state *s, struct wl_proto_ctx *ctx)
{
	const struct wl_pg_msg *m = &s->req.msg;
	const char *name, *q;
	struct pg_stmt *st;
	uint32_t nn, qn;
	uint64_t h;
	uint8_t slot, old;
	int off;

	off = wl_pg_cstr(m, 0, &name, &nn);
	h = name_hash(name, nn);
	/* A statement of that name is replaced (after a Close). */
	while ((old = stmt_find(s, h)) != NO_SLOT)
		s->sh[old].kind = SK_TEXT;
	slot = stmt_alloc(s, ctx);
	st = &s->stmt[slot];
	s->sh[slot].kind = SK_PARSE;
	s->sh[slot].hash = h;
	wl_strncpy_buf(st->name, sizeof(st->name), name, nn);
	if (off >= 0) {
		off = wl_pg_cstr(m, (uint32_t)off, &q, &qn);
		stmt_text(st, q, qn, off < 0);
	} else {
		st->trunc = 1;
	}
	s->cur_slot = slot;
	s->cur_gen = s->sh[slot].gen;
}

static struct pg_portal *
portal_find(struct pg_state *s, uint64_t h, int make)
{
	unsigned int i, old = 0;

	for (i = 0; i < PORTALS; i++) {
		if (s->portal[i].used && s->portal[i].hash == h)
			return &s->portal[i];
		if (!s->portal[i].used || (s->portal[old].used &&
				s->portal[i].stamp < s->portal[old].stamp))
			old = i;
	}
	if (!make)
		return NULL;
	s->portal[old].used = 1;
	s->portal[old].hash = h;
	return &s->portal[old];
}

static void
bind_msg(struct pg_state *s)
{
	const struct wl_pg_msg *m = &s->req.msg;
	struct pg_portal *pt;
	const char *portal, *name;
	uint32_t pn, nn;
	int off;

	off = wl_pg_cstr(m, 0, &portal, &pn);
	if (off < 0)
		return;
	wl_pg_cstr(m, (uint32_t)off, &name, &nn);
	pt = portal_find(s, name_hash(portal, pn), 1);
	pt->slot = stmt_find(s, name_hash(name, nn));
	pt->gen = pt->slot < STMTS ? s->sh[pt->slot].gen : 0;
	pt->stamp = ++s->clock;
}

static void
close_msg(struct pg_state *s)
{
	const struct wl_pg_msg *m = &s->req.msg;
	struct pg_portal *pt;
	const char *name;
	uint32_t nn;
	uint8_t slot;

	if (m->kept < 2)
		return;
	wl_pg_cstr(m, 1, &name, &nn);
	if (m->body[0] == 'S') {
		slot = stmt_find(s, name_hash(name, nn));
		if (slot != NO_SLOT)
			s->sh[slot].kind = SK_TEXT;
	} else if ((pt = portal_find(s, name_hash(name, nn), 0)) != NULL) {
		pt->used = 0;
	}
}

static void
execute_msg(struct pg_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_pg_msg *m = &s->req.msg;
	const struct pg_portal *pt;
	const char *portal;
	uint8_t slot = NO_SLOT;
	uint32_t pn;

	wl_pg_cstr(m, 0, &portal, &pn);
	pt = portal_find(s, name_hash(portal, pn), 0);
	if (pt != NULL && stmt_get(s, pt->slot, pt->gen) != NULL)
		slot = pt->slot;
	if (s->grp_exec)
		exec_close(s, ctx, 0, ts);
	unit_add(s, ctx, U_EXEC, &s->cur_pos, s->cur_start_ns, ts,
		s->cur_bytes, slot);
	s->grp_exec = 1;
	s->cur_active = 0;
	s->cur_bytes = 0;
}

static void
sync_msg(struct pg_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	uint8_t slot = NO_SLOT;

	if (s->grp_exec) {
		/* The group's last Execute takes the rest up to Sync. */
		exec_close(s, ctx, 1, ts);
	} else {
		if (stmt_get(s, s->cur_slot, s->cur_gen))
			slot = s->cur_slot;
		unit_add(s, ctx, U_GROUP, &s->cur_pos, s->cur_start_ns, ts,
			s->cur_bytes, slot);
	}
	s->grp_exec = 0;
	s->cur_active = 0;
}

static void
req_begin(struct pg_state *s, struct wl_stream_pos at, uint64_t ts)
{
	uint8_t t = s->req.msg.type;

	s->req_begin_ns = ts;
	s->req_pos = at;
	if (s->unsure || s->cur_active || t == 0 ||
			strchr("PBDCHES", t) == NULL)
		return;
	s->cur_active = 1;
	s->cur_start_ns = ts;
	s->cur_pos = s->req_pos;
	s->cur_bytes = 0;
	s->cur_first = t;
	s->cur_plain = 1;
	s->cur_slot = NO_SLOT;
}

/*
 * A client message after bytes lost between units, before the next
 * Sync or Query: an extended group's may have begun in the lost bytes,
 * so its units cannot be counted; they join the lost region (the hole's
 * count already holds at least one unit for it). end: the stream
 * offset after the message. @return 1 if the message was taken.
 */
static int
unsure_msg(struct pg_state *s, struct wl_proto_ctx *ctx, uint64_t end)
{
	uint8_t t = s->req.msg.type;

	if (t == 'Q' || t == 'F' || t == 'X') {
		s->unsure = 0;
		return 0;
	}
	if (t == 'S') {
		s->unsure = 0;
		s->cur_active = 0;
		s->grp_exec = 0;
		/* No unit was added since the loss: the same hole grows. */
		wl_match_gap(&s->m, ctx, WL_DIR_C2S, end - ctx->pos.off,
			WL_GAP_IN_MSG);
	}
	return 1;
}

static void
req_msg(struct pg_state *s, struct wl_proto_ctx *ctx, uint32_t at,
	uint64_t ts)
{
	const struct wl_pg_msg *m = &s->req.msg;
	uint64_t bytes = (uint64_t)m->len + 1;
	const char *q;
	uint32_t qn;
	uint8_t slot;
	int off;

	if (s->unsure && unsure_msg(s, ctx, ctx->pos.off + at))
		return;
	switch (m->type) {
	case WL_PG_T_UNTYPED:
		startup_msg(s, ctx, ts);
		return;
	case 'Q':
		s->cur_active = 0;
		s->grp_exec = 0;
		slot = stmt_alloc(s, ctx);
		off = wl_pg_cstr(m, 0, &q, &qn);
		stmt_text(&s->stmt[slot], q, qn, off < 0);
		/* LISTEN: notifications may come between answers. */
		if (wl_sql_verb_id(s->stmt[slot].verb) == WL_SQL_V_LISTEN)
			s->m.unsolicited = 1;
		unit_add(s, ctx, U_QUERY, &s->req_pos, s->req_begin_ns, ts,
			bytes, slot);
		return;
	case 'F':
		s->cur_active = 0;
		s->grp_exec = 0;
		unit_add(s, ctx, U_FUNC, &s->req_pos, s->req_begin_ns, ts,
			bytes, NO_SLOT);
		return;
	case 'X':
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		wl_match_quit(&s->m);
		return;
	case 'd':
	case 'c':
	case 'f':
	case 'p':
		/* COPY data and passwords extend the request they serve. */
		if (s->ext != NULL)
			wl_match_req_end(&s->m, ctx, s->ext, ts,
				s->ext->t.req_bytes + bytes, 1);
		return;
	}
	s->cur_bytes += bytes;
	if (m->type != 'S' && m->type != 'H')
		s->cur_plain = 0;
	switch (m->type) {
	case 'P':
		parse_msg(s, ctx);
		break;
	case 'B':
		bind_msg(s);
		break;
	case 'C':
		close_msg(s);
		break;
	case 'E':
		execute_msg(s, ctx, ts);
		break;
	case 'S':
		sync_msg(s, ctx, ts);
		break;
	}
}

/* ---- server messages ---- */

static void
rsp_reset(struct pg_state *s)
{
	s->rsp_on = 0;
	s->rsp_start_ns = 0;
	s->rsp_bytes = 0;
	s->tag_rows = 0;
	s->rows = 0;
	s->has_tag = 0;
	s->nterm = 0;
	s->rsp_gap = 0;
	s->sqlstate[0] = '\0';
	s->ext = NULL;
}

/*
 * An answer begins with the message just ended: how it ends depends on the unit it answers,
 * if the matcher can name it now (else at the next ReadyForQuery).
 */
static void
rsp_begin(struct pg_state *s, struct wl_proto_ctx *ctx)
{
	const struct wl_pg_txn *x;
	struct wl_mrec *r;

	rsp_reset(s);
	if (s->skipping) {
		/* Skipping to Sync, the server sent more than its
		 * ReadyForQuery: the order is not what it seemed. */
		s->skipping = 0;
		wl_match_give_up(&s->m, ctx);
	}
	s->rsp_on = 1;
	s->rsp_start_ns = s->msg_begin_ns;
	s->rsp_pos = s->msg_pos;
	s->frame = FR_Z;
	r = wl_match_rsp_peek(&s->m, ctx, &s->rsp_pos);
	if (r == NULL)
		return;
	x = area(&r->t);
	/* An Execute not yet known to be its group's last ends at its
	 * CommandComplete; if its Sync comes later, that ReadyForQuery is
	 * owed (exec_close). */
	if (x->unit == U_EXEC)
		s->frame = x->at_z == Z_YES ? FR_LAST : FR_EXEC;
	else if (x->unit == U_STARTUP)
		s->frame = FR_STARTUP;
	s->ext = r;
}

/* The answer in progress ends at ts (how), to the matcher. */
static void
rsp_end(struct pg_state *s, struct wl_proto_ctx *ctx, uint64_t ts,
	enum wl_rsp_end how, uint32_t flags)
{
	struct wl_pg_txn *x;
	struct wl_txn t;

	wl_proto_txn_init(ctx, &t);
	x = area(&t);
	t.rsp_bytes = s->rsp_bytes;
	x->rows = s->rows;
	x->has_tag = s->has_tag;
	x->tag_rows = s->tag_rows;
	x->frame = s->frame;
	x->nterm = s->nterm;
	x->cut = how != WL_RSP_COMPLETE;
	if (s->sqlstate[0] != '\0') {
		wl_txn_set_status(&t, s->sqlstate);
		t.status_class = class_of(s->sqlstate);
	} else if (how == WL_RSP_COMPLETE) {
		wl_txn_set_status(&t, "OK");
		t.status_class = WL_SC_OK;
	}
	/* (An answer whose end was not seen, without an ErrorResponse
	 * before that, has no status: an error may have come after.) */
	t.flags |= flags | (s->rsp_gap ? WL_TXN_F_GAP : 0);
	wl_match_rsp(&s->m, ctx, &s->rsp_pos, s->rsp_start_ns, &t, ts, how);
	rsp_reset(s);
}

/*
 * After an Execute's error the server skips the group's later Executes
 * up to Sync, whose ReadyForQuery ends them: each is answered "skipped",
 * without times. If the matcher cannot name them, the order is lost.
 */
static void
skip_rest(struct pg_state *s, struct wl_proto_ctx *ctx)
{
	const struct wl_pg_txn *x;
	struct wl_mrec *r;
	struct wl_txn t;
	uint8_t last;

	s->skipping = 0;
	/* The failed Execute was its group's last (its Sync came after
	 * the answer began): nothing was skipped. */
	if (s->z_owed > 0) {
		s->z_owed--;
		return;
	}
	while ((r = wl_match_rsp_peek(&s->m, ctx, &s->rsp_pos)) != NULL) {
		x = area(&r->t);
		if (x->unit != U_EXEC || x->first)
			break;
		last = x->at_z;
		wl_proto_txn_init(ctx, &t);
		wl_txn_set_status(&t, "skipped");
		t.status_class = WL_SC_ERROR;
		area(&t)->frame = FR_SKIP;
		wl_match_rsp(&s->m, ctx, &s->rsp_pos, 0, &t, 0,
			WL_RSP_COMPLETE);
		if (last)
			return;
	}
	wl_match_give_up(&s->m, ctx);
}

static int
rsp_msg(struct pg_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_pg_msg *m = &s->rsp.msg;
	uint64_t bytes = (uint64_t)m->len + 1;

	switch (m->type) {
	case WL_PG_T_SSLANS:
		/* 'S' / 'G': TLS or GSS encryption from here on. */
		return m->ans == 'N' ? WL_PROTO_CONTINUE : WL_PROTO_DONE;
	case 'N':
	case 'A':
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		return WL_PROTO_CONTINUE;
	case 'Z':
		if (s->rsp_on)
			break;
		if (s->skipping) {
			s->rsp_pos = s->msg_pos;
			skip_rest(s, ctx);
			rsp_reset(s);
			return WL_PROTO_CONTINUE;
		}
		if (s->z_owed > 0) {
			s->z_owed--;
			ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
			return WL_PROTO_CONTINUE;
		}
		break;
	}
	if (!s->rsp_on) {
		/* Not an answer's first message: ParameterStatus outside
		 * startup (startup's answers begin with R). */
		if (m->type == 'S') {
			ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
			return WL_PROTO_CONTINUE;
		}
		rsp_begin(s, ctx);
	}
	s->rsp_bytes += bytes;
	switch (m->type) {
	case 'D':
		s->rows++;
		break;
	case 'C':
		s->has_tag = wl_pg_tag_rows(m, &s->tag_rows) == 0;
		/* fall through */
	case 'I':
	case 's':
		s->nterm++;
		if (s->frame == FR_EXEC)
			rsp_end(s, ctx, ts, WL_RSP_COMPLETE, 0);
		break;
	case 'E':
		s->nterm++;
		if (s->sqlstate[0] == '\0' && wl_pg_sqlstate(m, s->sqlstate) < 0)
			wl_strlcpy(s->sqlstate, "ERROR", sizeof(s->sqlstate));
		if (s->frame == FR_EXEC) {
			rsp_end(s, ctx, ts, WL_RSP_COMPLETE, 0);
			s->skipping = 1;
		} else if (s->frame == FR_STARTUP) {
			/* A refused login ends there: the server hangs up. */
			rsp_end(s, ctx, ts, WL_RSP_COMPLETE, 0);
		}
		break;
	case 'Z':
		rsp_end(s, ctx, ts, WL_RSP_COMPLETE, 0);
		break;
	}
	return WL_PROTO_CONTINUE;
}

/* ---- ops ---- */

static enum wl_probe
pg_probe(const uint8_t *d, uint32_t len, enum wl_dir dir)
{
	return wl_probe_of(wl_pg_start_check(d, len, dir == WL_DIR_S2C));
}

static void
pg_init(void *state, struct wl_proto_ctx *ctx)
{
	struct pg_state *s = state;

	wl_pg_parser_init(&s->req, 0);
	wl_pg_parser_init(&s->rsp, 1);
	s->cur_slot = NO_SLOT;
	/* Notifications (LISTEN) make the server speak unasked. */
	wl_match_init(&s->m, ctx, 0);
}

static int
pg_data(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	struct pg_state *s = state;
	struct wl_pg_parser *p = dir == WL_DIR_C2S ? &s->req : &s->rsp;
	enum wl_pg_ev ev;
	uint32_t k, at = 0;

	for (;;) {
		k = wl_pg_feed(p, d, len, &ev);
		d += k;
		len -= k;
		at += k;
		switch (ev) {
		case WL_PG_EV_NONE:
			return WL_PROTO_CONTINUE;
		case WL_PG_EV_RESYNC:
			ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
			/* Client: a header (5 bytes) begins a message;
			 * server: a ReadyForQuery ends what the loss cut. */
			if (dir == WL_DIR_C2S) {
				struct wl_stream_pos h = {
					ctx->pos.off + at - 5,
					ctx->pos.peer_ack };

				req_begin(s, h, ts);
			}
			break;
		case WL_PG_EV_BEGIN:
			/* The byte consumed last starts the message. */
			if (dir == WL_DIR_C2S) {
				req_begin(s, wl_match_pos(&ctx->pos, at - 1),
					ts);
			} else {
				s->msg_begin_ns = ts;
				s->msg_pos = wl_match_pos(&ctx->pos, at - 1);
			}
			break;
		case WL_PG_EV_END:
			if (dir == WL_DIR_C2S)
				req_msg(s, ctx, at, ts);
			else if (rsp_msg(s, ctx, ts) == WL_PROTO_DONE)
				return WL_PROTO_DONE;
			break;
		case WL_PG_EV_ERROR:
			ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
			if (dir == WL_DIR_S2C && s->rsp_on)
				rsp_end(s, ctx, 0, WL_RSP_END_LOST, 0);
			exec_close(s, ctx, -1, 0);
			wl_match_give_up(&s->m, ctx);
			s->unsure = 0;
			s->cur_active = 0;
			s->grp_exec = 0;
			s->skipping = 0;
			s->z_owed = 0;
			s->ext = NULL;
			break;
		}
	}
}

/*
 * Lost bytes inside a body past its kept prefix only cost bytes (flag
 * gap). Otherwise the message in progress is lost from there: an answer
 * is reported with what is known of it (its start, an error's SQLSTATE;
 * no end), a unit never is; the matcher learns that boundaries were
 * lost, unless what the lost bytes held cannot be counted in units and
 * answers (inside an extended group, a COPY, a login; while answers are
 * skipped or a ReadyForQuery is owed): then pairing is given up.
 */
static int
pg_gap(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir, uint32_t len,
	uint64_t ts)
{
	struct pg_state *s = state;
	struct wl_pg_parser *p = dir == WL_DIR_C2S ? &s->req : &s->rsp;
	enum wl_gap_kind kind;
	int cannot;

	(void)ts;
	if (wl_pg_skip(p, len)) {
		if (dir == WL_DIR_C2S)
			s->req_gap = 1;
		else
			s->rsp_gap = 1;
		return WL_PROTO_CONTINUE;
	}
	/* Nothing new began in the lost bytes if the parser was already
	 * lost, or in a message that is not a unit or answer start. */
	kind = wl_pg_lost(p) ? WL_GAP_IN_MSG : WL_GAP_AT_START;
	if (dir == WL_DIR_C2S) {
		/* Still unsure: these bytes join the same lost region. */
		if (s->unsure)
			kind = WL_GAP_IN_MSG;
		cannot = s->grp_exec || s->cur_active || s->pre_active ||
			s->ext != NULL;
		if (cannot)
			exec_close(s, ctx, -1, 0);
		/* What follows up to the next Sync may be a group's rest. */
		s->unsure = 1;
		s->cur_active = 0;
		s->grp_exec = 0;
		s->pre_active = 0;
		s->req_gap = 0;
	} else {
		if (s->rsp_on) {
			rsp_end(s, ctx, 0, WL_RSP_END_LOST, 0);
			kind = WL_GAP_IN_MSG;
		} else if (!wl_pg_idle(p) && strchr("NAS", p->msg.type)) {
			kind = WL_GAP_IN_MSG;
		}
		cannot = s->skipping || s->z_owed > 0;
		s->skipping = 0;
		s->z_owed = 0;
	}
	s->ext = NULL;
	wl_pg_lose(p);
	if (cannot)
		wl_match_give_up(&s->m, ctx);
	else
		wl_match_gap(&s->m, ctx, dir, len, kind);
	return WL_PROTO_CONTINUE;
}

static void
pg_close(void *state, struct wl_proto_ctx *ctx, uint32_t flags, uint64_t ts)
{
	struct pg_state *s = state;

	/* An answer the end cut short keeps its start. */
	if (s->rsp_on)
		rsp_end(s, ctx, 0, WL_RSP_CUT, flags);
	wl_match_close(&s->m, ctx, flags, ts);
}

/*
 * May answer rsp end unit req? The solver takes a "no" as proof, so it
 * is said only when certain. An answer framed by its unit fits a unit
 * of that kind; one framed at the next ReadyForQuery (unit unknown)
 * fits a unit whose answer ends there and holds what it held: never an
 * Execute known to share its group (another Execute after it, or more
 * than one end message in the answer), and a ReadyForQuery alone only
 * a group of Sync and Flush. Of an answer whose end was not seen, only
 * what was seen counts.
 */
static int
pg_rsp_fits(const struct wl_txn *req, const struct wl_txn *rsp)
{
	const struct wl_pg_txn *q = wl_txn_area_c(req);
	const struct wl_pg_txn *a = wl_txn_area_c(rsp);
	int lone = !a->cut && a->nterm == 0 && rsp->rsp_bytes == Z_LEN;

	switch (a->frame) {
	case FR_EXEC:
	case FR_SKIP:
		return q->unit == U_EXEC;
	case FR_LAST:
		return q->unit == U_EXEC && q->at_z != Z_NO;
	case FR_STARTUP:
		return q->unit == U_STARTUP;
	default:
		break;
	}
	switch (q->unit) {
	case U_EXEC:
		return q->first && q->at_z != Z_NO && (a->nterm == 1 ||
			(a->cut && a->nterm == 0));
	case U_GROUP:
		return a->cut || lone == (q->first == 'S');
	default:
		return !lone;
	}
}

/* The answer's fields into the unit's transaction (its own stay). */
static void
pg_txn_merge(struct wl_txn *req, const struct wl_txn *rsp)
{
	struct wl_pg_txn *q = area(req);
	const struct wl_pg_txn *a = wl_txn_area_c(rsp);

	q->rows = a->rows;
	q->has_tag = a->has_tag;
	q->tag_rows = a->tag_rows;
}

static void
pg_txn_write(const struct wl_txn *t, struct wl_jw *w)
{
	const struct wl_pg_txn *x = wl_txn_area_c(t);

	wl_jw_bool(w, "extended", x->extended);
	if (t->rsp_end_ns != 0)
		wl_jw_i64(w, "rows", x->rows);
	if (x->has_tag)
		wl_jw_i64(w, "tag_rows", (int64_t)x->tag_rows);
	if (x->startup)
		wl_jw_str_wire(w, "user", wl_txn_str(t, WL_PG_S_USER));
	if (t->slen[WL_PG_S_STMT] != 0)
		wl_jw_str_wire(w, "stmt", wl_txn_str(t, WL_PG_S_STMT));
}

/*
 * Detection signatures (wl_probe.h): a typed message (its type byte, then
 * a length below 16 MB: a zero byte); a StartupMessage (protocol 3.0 to
 * 3.16), SSLRequest, GSSENCRequest or CancelRequest; the server's typed
 * messages, after the 'N' refusing SSL or not.
 */
static const struct wl_probe_sig pg_sigs[] = {
	{ "^[QPBDESHCXFdcfp]\\x00", WL_SIG_C2S, 0 },
	{ "^\\x00\\x00[\\x00-\\xff]{2}(?:\\x04\\xd2\\x16[\\x2e-\\x30]|"
		"\\x00\\x03\\x00[\\x00-\\x10])", WL_SIG_C2S, 0 },
	{ "^N?[RKSZTDCIENA123ntsGHWdcvV]\\x00", WL_SIG_S2C, 0 },
	{ NULL, 0, 0 },
};

const struct wl_proto_ops wl_proto_postgresql_ops = {
	.name = "postgresql",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 5432 },
	.state_size = sizeof(struct pg_state),
	.txn_area = sizeof(struct wl_pg_txn),
	WL_MATCH_OPS_HOT(struct pg_state,
		WL_PROTO_HOT(struct pg_state, req),
		WL_PROTO_HOT(struct pg_state, rsp),
		req_pos, m),
	.probe = pg_probe,
	.probe_sigs = pg_sigs,
	.init = pg_init,
	.data = pg_data,
	.gap = pg_gap,
	.close = pg_close,
	.txn_write = pg_txn_write,
	.rsp_fits = pg_rsp_fits,
	.txn_merge = pg_txn_merge,
};
