/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * PostgreSQL transactions. The server answers in order, so requests wait
 * in a FIFO of "units"; a unit ends at a given backend message and the
 * oldest unit owns every backend message until then.
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
 * Statement texts live in a small table of slots: Parse and Query fill
 * one each; units, portals and statement names point at a slot by
 * index and generation, so a slot reused for something else is noticed.
 */

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "wl_common.h"
#include "wl_pg.h"
#include "wl_pg_parse.h"
#include "wl_proto.h"
#include "wl_sql.h"
#include "wl_proto_fifo.h"

#define PENDING 32              /* units in flight (pipelining) */
#define STMTS 8                 /* statement texts */
#define PORTALS 4
#define NO_SLOT 0xff
#define VERB 16

enum unit_kind {
	U_QUERY = 1,            /* simple Query */
	U_EXEC = 2,             /* extended: up to an Execute */
	U_GROUP = 3,            /* extended: a group without Execute */
	U_END = 4,              /* Sync after an answered Execute: no txn */
	U_STARTUP = 5,
	U_FUNC = 6,             /* FunctionCall */
};

enum stmt_kind {
	SK_FREE = 0,
	SK_TEXT = 1,            /* a text only (Query, startup, old Parse) */
	SK_PARSE = 2,           /* a prepared statement Bind may name */
};

enum how {
	HOW_RSP = 0,            /* answered; rsp_end is the ts given */
	HOW_NONE = 1,           /* no answer */
	HOW_SKIPPED = 2,        /* server skipped it after an earlier error */
	HOW_CUT = 3,            /* its answer failed (ErrorResponse), the end
				 * was lost or cut: status known, no end */
};

struct pg_stmt {
	uint64_t hash;          /* statement name (SK_PARSE) */
	uint32_t stamp;         /* last use, for eviction */
	uint16_t gen;
	uint8_t kind;
	uint8_t refs;           /* pending units pointing here */
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

struct pg_unit {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t bytes;
	uint16_t gen;
	uint8_t slot;
	uint8_t kind;
	uint8_t at_z;           /* ends at ReadyForQuery */
	uint8_t first;          /* U_GROUP: its first message type */
	uint8_t rsvd[2];
};

struct pg_state {
	struct wl_pg_parser req;
	struct wl_pg_parser rsp;
	struct pg_unit pend[PENDING];
	struct wl_fifo q;
	struct pg_stmt stmt[STMTS];
	struct pg_portal portal[PORTALS];
	uint64_t req_begin_ns;  /* first byte of the client message */
	uint64_t pre_start_ns;  /* SSLRequest before the StartupMessage */
	uint64_t pre_bytes;
	uint64_t cur_start_ns;  /* the extended unit the client is sending */
	uint64_t cur_bytes;
	uint64_t rsp_start_ns;  /* answer of the oldest unit so far */
	uint64_t rsp_bytes;
	uint64_t tag_rows;
	uint32_t rows;
	uint32_t clock;
	uint32_t pushes;
	uint32_t exec_push;     /* pushes after the group's last Execute */
	uint16_t cur_gen;
	uint8_t cur_slot;       /* its Parse */
	uint8_t cur_first;
	uint8_t cur_active;
	uint8_t grp_exec;       /* the group has an Execute */
	uint8_t pre_active;
	uint8_t has_tag;
	uint8_t skipping;       /* error in the group: Executes until Sync */
	uint8_t suspect;        /* bytes lost: flag what comes out */
	/* Pairing unproven since a loss (timing.md, PostgreSQL): answers
	 * and units are logged apart, "unpaired". */
	uint8_t blind;
	/* Server bytes lost with at most one unit waiting: settled if the
	 * first ReadyForQuery after them was sent before the server had
	 * anything newer (its ACK at most c2s_at_gap). */
	uint8_t settle;
	/* Units queued before a unit found no room (blind since): their
	 * answers come first, so they keep them. */
	uint8_t sure;
	uint64_t c2s_end;       /* client stream bytes seen */
	uint64_t c2s_at_gap;
	char sqlstate[6];
};

_Static_assert(sizeof(struct pg_state) <= 4096, "postgresql state too big");

static struct pg_unit *
pend_at(struct pg_state *s, uint32_t i)
{
	return &s->pend[wl_fifo_at(&s->q, PENDING, i)];
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
	if (slot >= STMTS || s->stmt[slot].kind == SK_FREE ||
			s->stmt[slot].gen != gen)
		return NULL;
	return &s->stmt[slot];
}

/*
 * A slot for a new text: free first, then the least recently used that
 * nothing waits on, then a live prepared statement, then one a pending
 * unit still names. The last two lose something: counted.
 */
static uint8_t
stmt_alloc(struct pg_state *s, struct wl_proto_ctx *ctx)
{
	struct pg_stmt *st;
	unsigned int i, best = 0, bp = 4, p;

	for (i = 0; i < STMTS; i++) {
		st = &s->stmt[i];
		p = st->kind == SK_FREE ? 0 : st->refs > 0 ? 3 :
			st->kind == SK_PARSE ? 2 : 1;
		if (p < bp || (p == bp && st->stamp < s->stmt[best].stamp)) {
			bp = p;
			best = i;
		}
	}
	if (bp >= 2)
		ctx->ctr[WL_PROTO_CTR_PENDING_OVERFLOW]++;
	st = &s->stmt[best];
	st->gen++;
	st->kind = SK_TEXT;
	st->refs = 0;
	st->trunc = 0;
	st->hash = 0;
	st->stamp = ++s->clock;
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
		if (s->stmt[i].kind == SK_PARSE && s->stmt[i].hash == hash) {
			s->stmt[i].stamp = ++s->clock;
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

/* ---- units ---- */

static void
rsp_reset(struct pg_state *s)
{
	s->rsp_start_ns = 0;
	s->rsp_bytes = 0;
	s->tag_rows = 0;
	s->rows = 0;
	s->has_tag = 0;
	s->sqlstate[0] = '\0';
}


static void blind_emit(struct pg_state *s, struct wl_proto_ctx *ctx,
	const struct pg_unit *u, enum how how, uint64_t rsp_end,
	uint32_t flags);

static struct pg_unit *
unit_push(struct pg_state *s, struct wl_proto_ctx *ctx, uint8_t kind,
	uint64_t start, uint64_t end, uint64_t bytes, uint8_t slot)
{
	struct pg_unit *u;
	uint32_t i;

	if (kind != U_END)
		ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
	i = wl_fifo_push(&s->q, PENDING);
	if (i == UINT32_MAX) {
		struct pg_unit o = { .start_ns = start, .end_ns = end,
			.bytes = bytes, .kind = kind, .slot = slot,
			.gen = slot < STMTS ? s->stmt[slot].gen : 0 };

		/*
		 * Its answer will come and the order would give it to the
		 * next unit: from here the order is lost; the units queued
		 * now keep theirs (they come first).
		 */
		ctx->ctr[WL_PROTO_CTR_PENDING_OVERFLOW]++;
		if (!s->blind) {
			s->blind = 1;
			s->sure = (uint8_t)s->q.n;
		}
		if (kind != U_END)
			blind_emit(s, ctx, &o, HOW_NONE, 0, WL_TXN_F_OVERFLOW);
		return NULL;
	}
	u = &s->pend[i];
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->start_ns = start;
	u->end_ns = end;
	u->bytes = bytes;
	u->slot = NO_SLOT;
	u->at_z = kind != U_EXEC;
	if (slot < STMTS && s->stmt[slot].kind != SK_FREE) {
		u->slot = slot;
		u->gen = s->stmt[slot].gen;
		s->stmt[slot].refs++;
	}
	s->pushes++;
	return u;
}

static void
unit_pop(struct pg_state *s)
{
	struct pg_unit *u = pend_at(s, 0);

	if (stmt_get(s, u->slot, u->gen) != NULL && s->stmt[u->slot].refs > 0)
		s->stmt[u->slot].refs--;
	if (s->sure > 0)
		s->sure--;
	wl_fifo_pop(&s->q, PENDING);
	rsp_reset(s);
}

/*
 * SQLSTATE class -> status class: the request's fault (feature, data,
 * constraint, transaction state, auth, syntax/access), the server's
 * (resources, limits, object state, operator, system, internal), or
 * neither (serialization failures, deadlocks, ...).
 */
static uint8_t
class_of(const char *code)
{
	static const char client[] = "0A22232526282B343D3F4244";
	static const char server[] = "5354555758XX";
	unsigned int i;

	for (i = 0; client[i] != '\0'; i += 2)
		if (code[0] == client[i] && code[1] == client[i + 1])
			return WL_SC_CLIENT_ERROR;
	for (i = 0; server[i] != '\0'; i += 2)
		if (code[0] == server[i] && code[1] == server[i + 1])
			return WL_SC_SERVER_ERROR;
	return WL_SC_ERROR;
}

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

static void
describe(const struct pg_unit *u, const struct pg_stmt *st, struct wl_txn *t,
	struct wl_pg_txn *x)
{
	const char *m;

	switch (u->kind) {
	case U_STARTUP:
		m = "startup";
		break;
	case U_FUNC:
		m = "FUNCTION_CALL";
		break;
	case U_GROUP:
		m = st != NULL ? "PREPARE" : group_method(u->first);
		break;
	case U_EXEC:
		m = st != NULL && st->verb[0] ? st->verb : "EXECUTE";
		break;
	default:
		m = st != NULL && st->verb[0] ? st->verb : "QUERY";
		break;
	}
	wl_strlcpy(t->method, m, sizeof(t->method));
	x->extended = u->kind == U_EXEC || u->kind == U_GROUP;
	if (st == NULL)
		return;
	wl_strlcpy(t->resource, st->text, sizeof(t->resource));
	if (st->trunc)
		t->flags |= WL_TXN_F_TRUNCATED;
	if (u->kind == U_STARTUP) {
		wl_strlcpy(x->user, st->name, sizeof(x->user));
		x->startup = 1;
	} else if (x->extended) {
		wl_strlcpy(x->stmt, st->name, sizeof(x->stmt));
	}
}

/* The unit's request fields into t (initialised). */
static void
req_fields(struct pg_state *s, struct wl_proto_ctx *ctx,
	const struct pg_unit *u, struct wl_txn *t)
{
	wl_proto_txn_init(ctx, t);
	describe(u, stmt_get(s, u->slot, u->gen), t,
		(struct wl_pg_txn *)t->proto_area);
	t->req_start_ns = u->start_ns;
	t->req_end_ns = u->end_ns;
	t->req_bytes = u->bytes;
}

/* The answer so far into t: rows, tag, status; its end at rsp_end. */
static void
rsp_fields(const struct pg_state *s, struct wl_proto_ctx *ctx,
	struct wl_txn *t, uint64_t rsp_end)
{
	struct wl_pg_txn *x = (struct wl_pg_txn *)t->proto_area;

	ctx->ctr[WL_PROTO_CTR_RESPONSES]++;
	t->rsp_end_ns = rsp_end;
	t->rsp_bytes = s->rsp_bytes;
	x->rows = s->rows;
	x->has_tag = s->has_tag;
	x->tag_rows = s->tag_rows;
	if (s->sqlstate[0] != '\0') {
		wl_strlcpy(t->status, s->sqlstate, sizeof(t->status));
		t->status_class = class_of(s->sqlstate);
	} else {
		wl_strlcpy(t->status, "OK", sizeof(t->status));
		t->status_class = WL_SC_OK;
	}
}

/*
 * Blind: the unit and the answer the old order gives it are not proven
 * to belong together: each is logged alone, flagged unpaired (the
 * answer with its status and times, no request, its first byte only if
 * it was seen; the unit without a response).
 */
static void
blind_emit(struct pg_state *s, struct wl_proto_ctx *ctx,
	const struct pg_unit *u, enum how how, uint64_t rsp_end, uint32_t flags)
{
	struct wl_txn t;

	req_fields(s, ctx, u, &t);
	t.flags |= flags | WL_TXN_F_UNPAIRED | wl_proto_unanswered(ctx, &t);
	ctx->ctr[WL_PROTO_CTR_UNPAIRED]++;
	wl_proto_emit(ctx, &t);
	if (how == HOW_NONE)
		return;
	ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
	ctx->ctr[WL_PROTO_CTR_UNPAIRED]++;
	wl_proto_txn_init(ctx, &t);
	rsp_fields(s, ctx, &t, rsp_end);
	t.rsp_start_ns = s->rsp_start_ns;
	t.flags = (flags & ~WL_TXN_F_NO_RESPONSE) | WL_TXN_F_NO_REQUEST |
		WL_TXN_F_UNPAIRED | WL_TXN_F_GAP |
		(how == HOW_CUT ? WL_TXN_F_TRUNCATED : 0);
	wl_proto_emit(ctx, &t);
}

static void
emit(struct pg_state *s, struct wl_proto_ctx *ctx, const struct pg_unit *u,
	enum how how, uint64_t rsp_end, uint32_t flags)
{
	struct wl_txn t;

	if (u->kind == U_END)
		return;
	if (s->blind && s->sure == 0 && how != HOW_SKIPPED) {
		blind_emit(s, ctx, u, how, rsp_end, flags);
		return;
	}
	req_fields(s, ctx, u, &t);
	if (s->suspect)
		flags |= WL_TXN_F_GAP;
	if (how == HOW_RSP || how == HOW_CUT) {
		rsp_fields(s, ctx, &t, rsp_end);
		t.rsp_start_ns = s->rsp_start_ns != 0 ? s->rsp_start_ns :
			rsp_end;
	} else if (how == HOW_SKIPPED) {
		wl_strlcpy(t.status, "skipped", sizeof(t.status));
		t.status_class = WL_SC_ERROR;
	} else {
		flags |= wl_proto_unanswered(ctx, &t);
	}
	t.flags |= flags;
	wl_proto_emit(ctx, &t);
}

/*
 * Every pending unit leaves unanswered (gap, garbage, close), but for
 * the oldest whose answer already failed: an ErrorResponse is final, so
 * it keeps its SQLSTATE and first byte, without an end (flags: why the
 * rest is missing; a cut by the end is also "truncated").
 */
static void
flush(struct pg_state *s, struct wl_proto_ctx *ctx, uint32_t flags)
{
	if (s->q.n > 0 && s->sqlstate[0] != '\0' && s->rsp_start_ns != 0) {
		emit(s, ctx, pend_at(s, 0), HOW_CUT, 0, flags |
			((flags & WL_TXN_F_GAP) ? 0 : WL_TXN_F_TRUNCATED));
		unit_pop(s);
	}
	while (s->q.n > 0) {
		emit(s, ctx, pend_at(s, 0), HOW_NONE, 0, flags);
		unit_pop(s);
	}
	s->skipping = 0;
}

static void
finish(struct pg_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	emit(s, ctx, pend_at(s, 0), HOW_RSP, ts, 0);
	unit_pop(s);
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
		if (!s->pre_active)
			s->pre_start_ns = s->req_begin_ns;
		s->pre_active = 1;
		s->pre_bytes += m->len;
		wl_pg_expect_answer(&s->rsp);
		return;
	}
	if (m->code == WL_PG_CODE_CANCEL) {
		/* Sent on a connection of its own; nothing comes back. */
		ctx->ctr[WL_PROTO_CTR_REQUESTS]++;
		wl_proto_txn_init(ctx, &t);
		wl_strlcpy(t.method, "cancel", sizeof(t.method));
		wl_strlcpy(t.status, "OK", sizeof(t.status));
		t.status_class = WL_SC_OK;
		t.req_start_ns = s->req_begin_ns;
		t.req_end_ns = ts;
		t.req_bytes = m->len;
		wl_proto_emit(ctx, &t);
		return;
	}
	slot = stmt_alloc(s, ctx);
	st = &s->stmt[slot];
	wl_pg_param(m, "user", st->name, sizeof(st->name));
	/* The database defaults to the user's name. */
	if (wl_pg_param(m, "database", st->text, sizeof(st->text)) < 0)
		wl_strlcpy(st->text, st->name, sizeof(st->text));
	unit_push(s, ctx, U_STARTUP, s->pre_active ? s->pre_start_ns :
		s->req_begin_ns, ts, s->pre_bytes + m->len, slot);
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
		s->stmt[old].kind = SK_TEXT;
	slot = stmt_alloc(s, ctx);
	st = &s->stmt[slot];
	st->kind = SK_PARSE;
	st->hash = h;
	wl_strncpy_buf(st->name, sizeof(st->name), name, nn);
	if (off >= 0) {
		off = wl_pg_cstr(m, (uint32_t)off, &q, &qn);
		stmt_text(st, q, qn, off < 0);
	} else {
		st->trunc = 1;
	}
	s->cur_slot = slot;
	s->cur_gen = st->gen;
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
	pt->gen = pt->slot < STMTS ? s->stmt[pt->slot].gen : 0;
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
			s->stmt[slot].kind = SK_TEXT;
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
	if (unit_push(s, ctx, U_EXEC, s->cur_start_ns, ts, s->cur_bytes,
			slot) != NULL)
		s->exec_push = s->pushes;
	s->grp_exec = 1;
	s->cur_active = 0;
}

static void
sync_msg(struct pg_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	struct pg_unit *u;
	uint8_t slot = NO_SLOT;

	if (s->grp_exec && s->exec_push == s->pushes && s->q.n > 0) {
		/* The group's last Execute takes the rest up to Sync. */
		u = pend_at(s, s->q.n - 1);
		u->at_z = 1;
		u->end_ns = ts;
		u->bytes += s->cur_bytes;
	} else {
		if (!s->grp_exec && stmt_get(s, s->cur_slot, s->cur_gen))
			slot = s->cur_slot;
		u = unit_push(s, ctx, s->grp_exec ? U_END : U_GROUP,
			s->cur_start_ns, ts, s->cur_bytes, slot);
		if (u != NULL)
			u->first = s->cur_first;
	}
	s->grp_exec = 0;
	s->cur_active = 0;
}

static void
req_begin(struct pg_state *s, uint64_t ts)
{
	uint8_t t = s->req.msg.type;

	s->req_begin_ns = ts;
	if (s->cur_active || t == 0 || strchr("PBDCHES", t) == NULL)
		return;
	s->cur_active = 1;
	s->cur_start_ns = ts;
	s->cur_bytes = 0;
	s->cur_first = t;
	s->cur_slot = NO_SLOT;
}

static void
req_msg(struct pg_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_pg_msg *m = &s->req.msg;
	uint64_t bytes = (uint64_t)m->len + 1;
	const char *q;
	uint32_t qn;
	uint8_t slot;
	int off;

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
		unit_push(s, ctx, U_QUERY, s->req_begin_ns, ts, bytes, slot);
		return;
	case 'F':
		s->cur_active = 0;
		s->grp_exec = 0;
		unit_push(s, ctx, U_FUNC, s->req_begin_ns, ts, bytes, NO_SLOT);
		return;
	case 'X':
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		return;
	case 'd':
	case 'c':
	case 'f':
	case 'p':
		/* COPY data and passwords extend the request they serve. */
		if (s->q.n > 0) {
			pend_at(s, s->q.n - 1)->end_ns = ts;
			pend_at(s, s->q.n - 1)->bytes += bytes;
		}
		return;
	}
	s->cur_bytes += bytes;
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
rsp_begin(struct pg_state *s, uint64_t ts)
{
	uint8_t t = s->rsp.msg.type;

	if (s->q.n == 0 || s->rsp_start_ns != 0)
		return;
	/* Asynchronous messages answer nothing. */
	if (t == 'N' || t == 'A' || t == WL_PG_T_SSLANS ||
			(t == 'S' && pend_at(s, 0)->kind != U_STARTUP))
		return;
	s->rsp_start_ns = ts;
}

static void
ready(struct pg_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	uint32_t k;

	for (k = 0; k < s->q.n && !pend_at(s, k)->at_z; k++)
		;
	if (k == s->q.n) {
		ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
		rsp_reset(s);
		s->skipping = 0;
		return;
	}
	/* Executes the server skipped after an error, or never answered. */
	while (k-- > 0) {
		emit(s, ctx, pend_at(s, 0), s->skipping ? HOW_SKIPPED :
			HOW_NONE, 0, 0);
		unit_pop(s);
	}
	if (s->skipping) {
		emit(s, ctx, pend_at(s, 0), HOW_SKIPPED, 0, 0);
		unit_pop(s);
	} else {
		finish(s, ctx, ts);
	}
	s->skipping = 0;
	if (s->q.n == 0 && !wl_pg_lost(&s->req))
		s->suspect = 0;
}

static int
rsp_msg(struct pg_state *s, struct wl_proto_ctx *ctx, uint64_t ts)
{
	const struct wl_pg_msg *m = &s->rsp.msg;
	struct pg_unit *h = s->q.n > 0 ? pend_at(s, 0) : NULL;
	int ends = 0;

	switch (m->type) {
	case WL_PG_T_SSLANS:
		/* 'S' / 'G': TLS or GSS encryption from here on. */
		return m->ans == 'N' ? WL_PROTO_CONTINUE : WL_PROTO_DONE;
	case 'N':
	case 'A':
		ctx->ctr[WL_PROTO_CTR_MESSAGES]++;
		return WL_PROTO_CONTINUE;
	}
	if (h != NULL && s->rsp_start_ns != 0)
		s->rsp_bytes += (uint64_t)m->len + 1;
	switch (m->type) {
	case 'D':
		s->rows++;
		break;
	case 'C':
		s->has_tag = wl_pg_tag_rows(m, &s->tag_rows) == 0;
		ends = 1;
		break;
	case 'I':
	case 's':
		ends = 1;
		break;
	case 'E':
		if (h == NULL) {
			ctx->ctr[WL_PROTO_CTR_UNMATCHED_RSP]++;
			break;
		}
		if (s->sqlstate[0] == '\0' && wl_pg_sqlstate(m, s->sqlstate) < 0)
			wl_strlcpy(s->sqlstate, "ERROR", sizeof(s->sqlstate));
		/* A refused login ends there: the server hangs up. */
		if (h->kind == U_STARTUP) {
			finish(s, ctx, ts);
			break;
		}
		ends = 1;
		s->skipping = h->kind == U_EXEC && !h->at_z;
		break;
	case 'Z':
		ready(s, ctx, ts);
		break;
	}
	if (ends && h != NULL && h->kind == U_EXEC && !h->at_z)
		finish(s, ctx, ts);
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
	/* Answers may come to requests sent before the tap looked. */
	s->blind = ctx->midstream;
}

/* This direction cannot be trusted until it resynchronises. */
static void
lose(struct pg_state *s, struct wl_proto_ctx *ctx, enum wl_dir dir,
	uint32_t flags)
{
	s->suspect = 1;
	/*
	 * How many requests (client side) or answers (server side) the
	 * lost bytes held is unknown: the order cannot be trusted, but in
	 * one case, settled at the next ReadyForQuery (rsp_msg).
	 */
	if (dir == WL_DIR_S2C && s->q.n <= 1 && !s->blind && !s->settle) {
		s->settle = 1;
		s->c2s_at_gap = s->c2s_end;
	} else {
		s->settle = 0;
		s->blind = 1;
		s->sure = 0;
	}
	if (dir == WL_DIR_C2S) {
		/*
		 * Take the gap as the end of an open group (its Sync is the
		 * likeliest thing lost), so its ReadyForQuery is absorbed
		 * instead of answering the next request.
		 */
		if (s->grp_exec && s->exec_push == s->pushes && s->q.n > 0) {
			pend_at(s, s->q.n - 1)->at_z = 1;
		} else if (s->cur_active || s->grp_exec) {
			unit_push(s, ctx, U_END, s->cur_start_ns,
				s->cur_start_ns, 0, NO_SLOT);
		}
		wl_pg_lose(&s->req);
		s->cur_active = 0;
		s->grp_exec = 0;
		s->pre_active = 0;
	} else {
		flush(s, ctx, flags);
		wl_pg_lose(&s->rsp);
	}
}

static int
pg_data(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir,
	const uint8_t *d, uint32_t len, uint64_t ts)
{
	struct pg_state *s = state;
	struct wl_pg_parser *p = dir == WL_DIR_C2S ? &s->req : &s->rsp;
	enum wl_pg_ev ev;
	uint32_t k;

	if (dir == WL_DIR_C2S)
		s->c2s_end = ctx->pos.off + len;
	for (;;) {
		k = wl_pg_feed(p, d, len, &ev);
		d += k;
		len -= k;
		switch (ev) {
		case WL_PG_EV_NONE:
			return WL_PROTO_CONTINUE;
		case WL_PG_EV_RESYNC:
			ctx->ctr[WL_PROTO_CTR_RESYNCS]++;
			if (dir == WL_DIR_C2S) {
				req_begin(s, ts);
				break;
			}
			/*
			 * A ReadyForQuery, taken as that of the unit the loss
			 * left: proven when it was sent before the server had
			 * any newer request (its ACK); else the order is lost.
			 */
			if (s->settle && ctx->pos.peer_ack > s->c2s_at_gap) {
				s->blind = 1;
				s->sure = 0;
			}
			s->settle = 0;
			if (s->q.n == 0 && !wl_pg_lost(&s->req))
				s->suspect = 0;
			break;
		case WL_PG_EV_BEGIN:
			if (dir == WL_DIR_C2S)
				req_begin(s, ts);
			else
				rsp_begin(s, ts);
			break;
		case WL_PG_EV_END:
			if (dir == WL_DIR_C2S)
				req_msg(s, ctx, ts);
			else if (rsp_msg(s, ctx, ts) == WL_PROTO_DONE)
				return WL_PROTO_DONE;
			break;
		case WL_PG_EV_ERROR:
			ctx->ctr[WL_PROTO_CTR_PARSE_ERRORS]++;
			lose(s, ctx, dir, 0);
			break;
		}
	}
}

static int
pg_gap(void *state, struct wl_proto_ctx *ctx, enum wl_dir dir, uint32_t len,
	uint64_t ts)
{
	(void)len;
	(void)ts;
	lose(state, ctx, dir, WL_TXN_F_GAP);
	return WL_PROTO_CONTINUE;
}

static void
pg_close(void *state, struct wl_proto_ctx *ctx, uint32_t flags, uint64_t ts)
{
	(void)ts;
	flush(state, ctx, flags);
}

static void
pg_txn_json(const struct wl_txn *t, json_t *o)
{
	const struct wl_pg_txn *x = (const void *)t->proto_area;

	json_object_set_new(o, "extended", json_boolean(x->extended));
	if (t->rsp_end_ns != 0)
		json_object_set_new(o, "rows", json_integer(x->rows));
	if (x->has_tag)
		json_object_set_new(o, "tag_rows",
			json_integer((json_int_t)x->tag_rows));
	if (x->startup)
		json_object_set_new(o, "user", wl_proto_json_str(x->user));
	if (x->stmt[0] != '\0')
		json_object_set_new(o, "stmt", wl_proto_json_str(x->stmt));
}

const struct wl_proto_ops wl_proto_postgresql_ops = {
	.name = "postgresql",
	.l4proto = IPPROTO_TCP,
	.default_ports = { 5432 },
	.state_size = sizeof(struct pg_state),
	.probe = pg_probe,
	.init = pg_init,
	.data = pg_data,
	.gap = pg_gap,
	.close = pg_close,
	.txn_json = pg_txn_json,
};
