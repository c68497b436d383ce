# SPDX-License-Identifier: BSD-3-Clause
"""PostgreSQL against a real server on 127.0.0.1 (port 5433 when free, so
the protocol is found by probing, not by the default port), captured
during the test.

 - pgbench -c 2 -t N with -M simple, extended and prepared, one capture
   each: the tpcb-like script's statements are each exactly 2*N answered
   transactions with status OK, whatever the protocol mode; prepared mode
   adds one PREPARE per statement and connection; every connection gives
   one "startup".
 - psql: a query on a missing table gives SQLSTATE 42P01 (client_error);
   two statements in one Query string are one transaction; 5000 rows
   across many segments are counted, and the response times are the first
   and the last server segment (tshark); a password (SCRAM) login is a
   startup of its own user, a wrong password gives 28P01.
 - pgbench's initial load (COPY FROM STDIN of 100000 rows) parses.
 - pgbench pipeline mode (three Executes, one Sync) in extended and
   prepared mode: exact counts too.
 - without pipelining, every transaction's four times are those of the
   segments tshark shows (request segment, first answer segment, the one
   with its ReadyForQuery); logins from SSLRequest to ReadyForQuery.
 - a raw v3 client: an error inside a pipeline (the Execute after it is
   "skipped"), a portal read 2 rows at a time, an empty query, a NOTICE,
   an error inside a multi-statement Query, a notification arriving
   while idle; psql's \lo_import (FunctionCall) and a cancelled query
   (57014, and the CancelRequest's own connection).
 - no parse errors, no unmatched responses, no reply before its request
   (except logins and COPY FROM STDIN), answers in order per connection.
"""

import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_servers as srv  # noqa: E402

PGBIN = "/usr/lib/postgresql/15/bin"
N = 50
# pgbench's built-in tpcb-like script, one of each per transaction.
TPCB = ("BEGIN", "UPDATE", "SELECT", "INSERT", "END")
TPCB_COUNT = {"BEGIN": 1, "UPDATE": 3, "SELECT": 1, "INSERT": 1, "END": 1}
PGBENCH_STMTS = 7
PASSWORD = "s3cret-pw"


def pgbin(name):
    for d in (PGBIN,):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return shutil.which(name) or os.path.join(PGBIN, name)


class Postgres:
    """A throwaway cluster owned by the postgres user, trust for
    everybody on 127.0.0.1 except pwuser, who needs SCRAM."""

    def __init__(self, d):
        self.d = os.path.join(d, "pg")
        self.data = os.path.join(self.d, "data")
        self.sock = os.path.join(self.d, "sock")
        os.makedirs(self.sock)
        os.chmod(d, 0o755)
        shutil.chown(self.d, "postgres", "postgres")
        shutil.chown(self.sock, "postgres", "postgres")
        self.port = 5433 if port_free(5433) else srv.free_port()
        self.as_pg([pgbin("initdb"), "-D", self.data, "-U", "postgres",
                    "--auth=trust", "--no-sync"])
        hba = os.path.join(self.data, "pg_hba.conf")
        with open(hba) as f:
            old = f.read()
        with open(hba, "w") as f:
            f.write("host all pwuser 127.0.0.1/32 scram-sha-256\n" + old)
        self.started = False
        self.as_pg([pgbin("pg_ctl"), "-D", self.data, "-w", "-t", "60",
                    "-l", os.path.join(self.d, "log"), "-o",
                    f"-c listen_addresses=127.0.0.1 -p {self.port} "
                    f"-k {self.sock} -c fsync=off", "start"])
        self.started = True
        if not srv.wait_port(self.port):
            raise SystemExit("postgres did not start")

    def as_pg(self, args):
        p = subprocess.run(["runuser", "-u", "postgres", "--", *args],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise SystemExit(f"{args[0]}: {p.stdout}{p.stderr}")

    def env(self, password=None):
        env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(self.port),
                   PGUSER="postgres", PGDATABASE="postgres",
                   PGSSLMODE="prefer", PGGSSENCMODE="disable")
        env.pop("PGPASSWORD", None)
        if password is not None:
            env["PGPASSWORD"] = password
        return env

    def psql(self, sql, user="postgres", password=None, ok=True):
        p = subprocess.run(["psql", "-X", "-q", "-U", user, "-c", sql],
                           env=self.env(password), capture_output=True,
                           text=True, timeout=60)
        if ok and p.returncode != 0:
            raise SystemExit(f"psql {sql!r}: {p.stderr}")
        return p

    def pgbench(self, *args):
        p = subprocess.run(["pgbench", *args], env=self.env(),
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise SystemExit(f"pgbench {args}: {p.stdout}{p.stderr}")
        return p.stdout

    def stop(self):
        if self.started:
            subprocess.run(["runuser", "-u", "postgres", "--",
                            pgbin("pg_ctl"), "-D", self.data, "-m", "fast",
                            "-w", "stop"], capture_output=True, timeout=60)
            self.started = False
            shutil.rmtree(self.data, ignore_errors=True)


def port_free(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def analyse(d, name, cap):
    """wirelat over a capture: (postgresql transactions, counters)."""
    inst = e.instance(f"pg-{name}")
    log = os.path.join(d, f"{name}.log")
    st = os.path.join(d, f"{name}.stats")
    e.wirelat(["--pcap", cap, "--instance", inst, "--log", log,
               "--stats-json", st, "--no-report"], check_rc=0)
    e.remove_instance(inst)
    allt = e.jsonl(log)
    txns = [t for t in allt if t["proto"] == "postgresql"]
    other = [t for t in allt if t["proto"] not in ("postgresql", "tcp")]
    e.check(not other, f"{name}: non-postgresql transactions: {other[:3]}")
    c = json.load(open(st))["counters"]
    for k in ("postgresql_parse_errors", "postgresql_unmatched_responses",
              "postgresql_unmatched_requests", "flow_gaps"):
        e.check(c.get(k, -1) == 0, f"{name}: {k} = {c.get(k)}")
    for t in txns:
        if t["status"] == "skipped" or t["method"] == "cancel":
            # Nothing comes back: Executes skipped after an error up to
            # the Sync, a CancelRequest's own connection.
            e.check(t["rsp_start_ns"] == 0 and t["rsp_end_ns"] == 0 and
                    t["req_start_ns"] <= t["req_end_ns"],
                    f"{name}: unanswered {t}")
            continue
        e.check(t["rsp_end_ns"] != 0, f"{name}: unanswered {t}")
        e.check(t["req_start_ns"] <= t["req_end_ns"] and
                t["req_start_ns"] <= t["rsp_start_ns"] <= t["rsp_end_ns"],
                f"{name}: times out of order {t}")
        # The server speaks first only in a login (authentication
        # requests) and in COPY FROM STDIN (CopyInResponse, then data).
        e.check(t["rsp_start_ns"] >= t["req_end_ns"] or t["method"] in
                ("startup", "COPY"),
                f"{name}: answer before the request ended {t}")
        e.check(t["duration_ns"] == t["rsp_end_ns"] - t["req_start_ns"],
                f"{name}: duration_ns {t}")
    # The server answers in order: per connection, in log order, the
    # answers end in order too.
    last = {}
    for t in txns:
        if t["rsp_end_ns"]:
            k = t["client_port"]
            e.check(t["rsp_end_ns"] >= last.get(k, 0),
                    f"{name}: answers out of order {t}")
            last[k] = t["rsp_end_ns"]
    return txns


def check_startups(name, txns, conns, users=("postgres",)):
    st = [t for t in txns if t["method"] == "startup"]
    e.check(len(st) == conns, f"{name}: {len(st)} startups, {conns} "
            "connections")
    ports = collections.Counter(t["client_port"] for t in st)
    e.check(all(v == 1 for v in ports.values()),
            f"{name}: several startups on one connection {ports}")
    for t in st:
        e.check(t["status"] == "OK" and t["status_class"] == "ok" and
                t.get("user") in users, f"{name}: startup {t}")


def captured(pg, d, name, work):
    """work() under a capture of the server's port, redone from scratch
    while the capture is damaged (srv.capture_retry): every workload here
    gets the same answers when run again.
    @return (capture, what work returned)."""
    def once(attempt):
        cap = os.path.join(d, f"{name}-{attempt}.pcap")
        td = srv.Tcpdump(cap, "lo", f"tcp port {pg.port}")
        try:
            r = work()
        finally:
            drops = td.stop()
        return cap, drops, r
    cap, _, r = srv.capture_retry(once)
    return cap, r


def bench(pg, d, mode):
    cap, out = captured(pg, d, mode, lambda: pg.pgbench(
        "-n", "-c", "2", "-t", str(N), "-M", mode))
    e.check(f"number of transactions actually processed: {2 * N}/{2 * N}"
            in out, f"{mode}: pgbench says {out}")
    txns = analyse(d, mode, cap)
    # pgbench: one connection that reads the scale (count(*) from
    # pgbench_branches) and the partitioning (a catalog SELECT), both
    # simple queries, then one connection per client.
    check_startups(mode, txns, 3)
    got = collections.Counter(t["method"] for t in txns
                              if t["status"] == "OK")
    bad = [t for t in txns if t["status"] != "OK"]
    e.check(not bad, f"{mode}: failed transactions {bad[:3]}")
    want = {v: 2 * N * TPCB_COUNT[v] for v in TPCB}
    want["SELECT"] += 2
    want["startup"] = 3
    if mode == "prepared":
        # PQprepare of all the script's statements when a client starts:
        # Parse "P_0".. + Sync, answered by ParseComplete, ReadyForQuery.
        want["PREPARE"] = 2 * PGBENCH_STMTS
    e.check(dict(got) == want, f"{mode}: methods {dict(got)}, "
            f"expected {want}")
    # tshark's view: every one of pgbench's units, login included, ends
    # at a ReadyForQuery (one Sync per Execute or per Parse).
    msgs = collections.Counter(m for r in tshark(cap, pg.port, "pgsql",
                                                 "pgsql.type")
                               for m in r[0].split(","))
    e.check(len(txns) == msgs["Ready for query"],
            f"{mode}: {len(txns)} transactions, tshark "
            f"{msgs['Ready for query']} ReadyForQuery")
    e.check(msgs["Execute"] + msgs["Simple query"] == 2 * N * 7 + 2,
            f"{mode}: tshark {msgs['Execute']} Execute "
            f"{msgs['Simple query']} Query")
    e.check(msgs["Parse"] == (2 * PGBENCH_STMTS if mode == "prepared" else
                              2 * N * 7 if mode == "extended" else 0),
            f"{mode}: tshark {msgs['Parse']} Parse")
    check_times(mode, cap, pg.port, txns)
    check_startup_times(mode, cap, pg.port, txns)
    ext = [t for t in txns if t["method"] in TPCB]
    simple_main = [t for t in ext if not t["extended"]]
    if mode == "simple":
        e.check(all(not t["extended"] for t in ext), f"{mode}: extended")
    else:
        # Only the two catalog/scale SELECTs of the first connection.
        e.check(len(simple_main) == 2, f"{mode}: {len(simple_main)} simple "
                "queries")
    for t in ext:
        v = t["method"]
        e.check(t["resource"].upper().startswith(v) if v != "SELECT" else
                "SELECT" in t["resource"].upper(),
                f"{mode}: resource {t['resource']!r} for {v}")
    upd = collections.Counter(t["resource"].split()[1].lower()
                              for t in ext if t["method"] == "UPDATE")
    e.check(upd == {"pgbench_accounts": 2 * N, "pgbench_tellers": 2 * N,
                    "pgbench_branches": 2 * N}, f"{mode}: UPDATEs {upd}")
    for t in ext:
        if t["method"] in ("UPDATE", "INSERT"):
            e.check(t.get("tag_rows") == 1 and t["rows"] == 0,
                    f"{mode}: {t['method']} rows {t}")
        if t["method"] == "SELECT" and "abalance" in t["resource"]:
            e.check(t["rows"] == 1, f"{mode}: SELECT abalance rows {t}")
    if mode == "prepared":
        named = collections.Counter(t.get("stmt", "") for t in ext
                                    if t["extended"])
        e.check("" not in named and len(named) == PGBENCH_STMTS,
                f"{mode}: statement names {named}")
        prep = [t for t in txns if t["method"] == "PREPARE"]
        e.check(all(t["rsp_start_ns"] > 0 and t.get("stmt") for t in prep),
                f"{mode}: PREPARE {prep[:2]}")
    elif mode == "extended":
        e.check(all(t.get("stmt", "") == "" for t in ext),
                f"{mode}: named statements in extended mode")
    # The same traffic picked up after its connections started: answers
    # may be to requests sent before the capture; what TCP proves is
    # paired as in the whole capture, the rest logged alone (timing.md,
    # "Pairing after loss").
    if mode != "prepared":
        print(f"{mode}: mid-stream, %d of %d found" %
              e.midstream(cap, "postgresql", d, server_port=pg.port))
    return txns


PIPELINE = """\\set aid random(1, 100000)
\\startpipeline
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + 0 WHERE tid = 1;
SELECT 1;
\\endpipeline
"""


def bench_pipeline(pg, d, mode):
    """A custom script in pipeline mode: three Executes, one Sync."""
    script = os.path.join(d, "pipeline.sql")
    with open(script, "w") as f:
        f.write(PIPELINE)
    os.chmod(script, 0o644)
    cap, _ = captured(pg, d, f"pipe-{mode}", lambda: pg.pgbench(
        "-n", "-c", "2", "-t", str(N), "-M", mode, "-f", script))
    txns = analyse(d, f"pipe-{mode}", cap)
    got = collections.Counter(t["method"] for t in txns
                              if t["status"] == "OK")
    msgs = collections.Counter(m for r in tshark(cap, pg.port, "pgsql",
                                                 "pgsql.type")
                               for m in r[0].split(","))
    print(f"pipe-{mode}:", dict(got))
    check_startups(f"pipe-{mode}", txns, 3)
    e.check(msgs["Execute"] == 3 * 2 * N and msgs["Sync"] ==
            2 * N + (6 if mode == "prepared" else 0),
            f"pipe-{mode}: tshark {msgs}")
    want = {"startup": 3, "SELECT": 2 * 2 * N, "UPDATE": 2 * N}
    if mode == "prepared":
        want["PREPARE"] = 2 * 3
    e.check(dict(got) == want, f"pipe-{mode}: {dict(got)}, expected {want}")
    e.check(len(txns) == sum(want.values()), f"pipe-{mode}: failures "
            f"{[t for t in txns if t['status'] != 'OK'][:3]}")
    for t in txns:
        if t["method"] == "SELECT":
            e.check(t["rows"] == 1, f"pipe-{mode}: rows {t}")


def check_times(name, cap, port, txns):
    """Without pipelining every request (Query, or Parse/Bind..Sync) is
    one client segment and ends at a ReadyForQuery: the i-th request of
    a connection starts and ends at its i-th request segment after the
    login, its answer starts at the next server segment and ends at the
    segment with the (i+1)-th ReadyForQuery (the first is the login's)."""
    rows = tshark(cap, port, "tcp.len>0", "tcp.srcport", "tcp.dstport",
                  "frame.time_epoch", "pgsql.type")
    conn = collections.defaultdict(lambda: {"req": [], "srv": [],
                                            "z": []})
    for sport, dport, ts, types in rows:
        ns = e.ns_of(ts)
        if int(sport) == port:
            c = conn[int(dport)]
            c["srv"].append(ns)
            c["z"] += [ns] * types.split(",").count("Ready for query")
        elif not (set(types.split(",")) & {"SSL request", "Startup message",
                                           "Termination", ""}):
            conn[int(sport)]["req"].append(ns)
    by_port = collections.defaultdict(list)
    for t in txns:
        if t["method"] != "startup":
            by_port[t["client_port"]].append(t)
    checked = 0
    for cport, c in conn.items():
        mine = by_port.get(cport, [])
        if not e.check(len(mine) == len(c["req"]) == len(c["z"]) - 1,
                       f"{name}: port {cport}: {len(mine)} transactions, "
                       f"{len(c['req'])} requests, {len(c['z'])} Z"):
            continue
        for i, t in enumerate(mine):
            q = c["req"][i]
            first = min(x for x in c["srv"] if x >= q)
            ok = (t["req_start_ns"] == q and t["req_end_ns"] == q and
                  t["rsp_start_ns"] == first and
                  t["rsp_end_ns"] == c["z"][i + 1])
            checked += ok
            e.check(ok, f"{name}: times {t}, tshark request {q}, answer "
                    f"{first}..{c['z'][i + 1]}")
    print(f"{name}: {checked} transactions' four times as tshark's")


def check_startup_times(name, cap, port, txns):
    """A login: from the SSLRequest to the Startup message or the last
    password message; answered from the first server segment after the
    SSLRequest's bare 'N' to the first ReadyForQuery or the refusal."""
    rows = tshark(cap, port, "tcp.len>0", "tcp.srcport", "tcp.dstport",
                  "frame.time_epoch", "pgsql.type", "tcp.len")
    conn = collections.defaultdict(list)
    for sport, dport, ts, types, ln in rows:
        srv_side = int(sport) == port
        conn[int(dport) if srv_side else int(sport)].append(
            (srv_side, e.ns_of(ts), types.split(","), int(ln)))
    n = 0
    for t in txns:
        if t["method"] != "startup":
            continue
        segs = conn[t["client_port"]]
        client = [x for x in segs if not x[0]]
        e.check(client and "SSL request" in client[0][2],
                f"{name}: no SSLRequest first on {t['client_port']}")
        end = [i for i, x in enumerate(segs) if x[0] and
               ("Ready for query" in x[2] or "Error" in x[2])][0]
        login = [x for x in segs[:end] if not x[0]]
        answer = [x for x in segs[:end + 1] if x[0] and x[3] > 1 or
                  x[0] and x is segs[end]]
        ok = (t["req_start_ns"] == login[0][1] and
              t["req_end_ns"] == login[-1][1] and
              t["rsp_start_ns"] == answer[0][1] and
              t["rsp_end_ns"] == segs[end][1])
        n += ok
        e.check(ok, f"{name}: login times {t}, tshark {segs[:end + 1]}")
    print(f"{name}: {n} logins' four times as tshark's")


def tshark(cap, port, flt, *fields):
    out = subprocess.run(["tshark", "-r", cap, "-d", f"tcp.port=={port},pgsql",
                          "-Y", flt, "-T", "fields",
                          "-E", "separator=|",
                          *[a for f in fields for a in ("-e", f)]],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def psql_work(pg):
    """psql: a missing table, two statements, 5000 rows, a SCRAM login
    and a wrong password."""
    p = pg.psql("SELECT * FROM no_such_table", ok=False)
    e.check("no_such_table" in p.stderr, f"psql said {p.stderr}")
    pg.psql("SELECT 1; SELECT 2")
    p = pg.psql("SELECT * FROM pgbench_accounts LIMIT 5000")
    e.check(p.stdout.count("\n") >= 5000, "psql got 5000 rows")
    pg.psql("SELECT current_user", user="pwuser", password=PASSWORD)
    p = pg.psql("SELECT 1", user="pwuser", password="wrong", ok=False)
    e.check(p.returncode != 0, "a wrong password was accepted")


def sessions(pg, d):
    pg.psql(f"CREATE USER pwuser PASSWORD '{PASSWORD}'")
    cap, _ = captured(pg, d, "psql", lambda: psql_work(pg))
    txns = analyse(d, "psql", cap)
    check_startup_times("psql", cap, pg.port, txns)
    by_port = collections.defaultdict(list)
    for t in txns:
        by_port[t["client_port"]].append(t)
    conns = sorted(by_port.values(), key=lambda l: l[0]["req_start_ns"])
    e.check(len(conns) == 5, f"psql: {len(conns)} connections")
    if len(conns) != 5:
        return
    for c in conns:
        e.check(c[0]["method"] == "startup", f"psql: first {c[0]}")
    missing, two, many, pw, wrong = conns
    # The missing table.
    e.check(len(missing) == 2, f"missing table: {len(missing)} txns")
    q = missing[-1]
    e.check(q["method"] == "SELECT" and q["status"] == "42P01" and
            q["status_class"] == "client_error" and
            "no_such_table" in q["resource"], f"missing table: {q}")
    # Two statements, one Query: one transaction (first verb).
    e.check(len(two) == 2, f"two statements: {len(two)} txns")
    q = two[-1]
    e.check(q["method"] == "SELECT" and q["status"] == "OK" and
            q["rows"] == 2, f"two statements: {q}")
    # 5000 rows in many segments.
    e.check(len(many) == 2, f"5000 rows: {len(many)} txns")
    q = many[-1]
    e.check(q["method"] == "SELECT" and q["status"] == "OK" and
            q["rows"] == 5000 and q.get("tag_rows") == 5000,
            f"5000 rows: {q}")
    cport = q["client_port"]
    qry = tshark(cap, pg.port, f'tcp.srcport=={cport} && pgsql.type == "Simple query"',
                 "frame.time_epoch")
    # Server segments at the time their bytes were in order at the tap
    # (a reordered or retransmitted one counts from the packet that
    # completed the stream).
    segs = [(n,) for n, srv_side in e.tcp_inorder(cap, pg.port)[cport]
            if srv_side]
    e.check(len(qry) == 1, f"tshark: {len(qry)} queries on {cport}")
    if len(qry) == 1:
        t0 = e.ns_of(qry[0][0])
        after = [s[0] for s in segs if s[0] >= t0]
        e.check(len(after) > 2, f"5000 rows in {len(after)} segments")
        print(f"5000 rows: {len(after)} server segments, "
              f"{q['rsp_bytes']} bytes, "
              f"{(q['rsp_end_ns'] - q['rsp_start_ns']) / 1e3:.0f} us")
        e.check(q["req_start_ns"] == t0 and q["req_end_ns"] == t0,
                f"5000 rows: request at {t0}, wirelat {q['req_start_ns']}")
        if after:
            e.check(q["rsp_start_ns"] == after[0],
                    f"5000 rows: rsp_start {q['rsp_start_ns']}, "
                    f"first segment {after[0]}")
            e.check(q["rsp_end_ns"] == after[-1],
                    f"5000 rows: rsp_end {q['rsp_end_ns']}, "
                    f"last segment {after[-1]}")
    # SCRAM login, then a query as that user.
    e.check(len(pw) == 2 and pw[0]["status"] == "OK" and
            pw[0].get("user") == "pwuser" and pw[1]["status"] == "OK" and
            pw[1]["rows"] == 1, f"password login: {pw}")
    # A wrong password: the login itself fails with 28P01.
    e.check(len(wrong) == 1 and wrong[0]["status"] == "28P01" and
            wrong[0]["status_class"] == "client_error" and
            wrong[0].get("user") == "pwuser", f"wrong password: {wrong}")


class Raw:
    """A protocol v3 client on a socket (trust login), for what libpq's
    command line tools do not send: pipelines with an error in the
    middle, portals read in pieces, notifications while idle."""

    def __init__(self, port, user="postgres"):
        self.s = socket.create_connection(("127.0.0.1", port), 5)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        body = (b"\x00\x03\x00\x00user\x00" + user.encode() +
                b"\x00database\x00postgres\x00\x00")
        self.s.sendall((len(body) + 4).to_bytes(4, "big") + body)
        self.until_z()

    @staticmethod
    def msg(t, body):
        return t + (len(body) + 4).to_bytes(4, "big") + body

    def recv_msg(self):
        def exact(n):
            b = b""
            while len(b) < n:
                c = self.s.recv(n - len(b))
                if not c:
                    raise SystemExit("raw client: server hung up")
                b += c
            return b
        h = exact(5)
        return h[:1], exact(int.from_bytes(h[1:], "big") - 4)

    def until_z(self):
        got = []
        while True:
            t, b = self.recv_msg()
            got.append((t, b))
            if t == b"Z":
                return got

    def send(self, *msgs):
        self.s.sendall(b"".join(msgs))

    def query(self, sql):
        self.send(self.msg(b"Q", sql.encode() + b"\x00"))
        return self.until_z()

    def peb(self, sql, max_rows=0, stmt=b"", portal=b""):
        """Parse, Bind, Execute (no Sync)."""
        return [self.msg(b"P", stmt + b"\x00" + sql.encode() +
                         b"\x00\x00\x00"),
                self.msg(b"B", portal + b"\x00" + stmt +
                         b"\x00\x00\x00\x00\x00\x00\x00"),
                self.msg(b"E", portal + b"\x00" +
                         max_rows.to_bytes(4, "big"))]

    def close(self):
        self.send(self.msg(b"X", b""))
        self.s.close()


SYNC = Raw.msg(b"S", b"")


def raw_work(pg, lo):
    """The raw client's pipelines, portal, notification; lo_import of lo
    and a cancelled query."""
    a = Raw(pg.port)
    # A pipeline: 1 ok, 1 error, 1 skipped, then one Sync.
    a.send(*a.peb("SELECT 1"), *a.peb("SELECT 1/0"),
           *a.peb("SELECT 3"), SYNC)
    r = a.until_z()
    e.check([t for t, _ in r].count(b"E") == 1, f"pipeline: {r}")
    # A portal read 2 rows at a time: 2, 2, 1 and its completion.
    a.send(*a.peb("SELECT generate_series(1,5)", 2, portal=b"p1"),
           a.msg(b"E", b"p1\x00\x00\x00\x00\x02"),
           a.msg(b"E", b"p1\x00\x00\x00\x00\x02"), SYNC)
    a.until_z()
    # Empty query, notice, several statements with an error inside.
    a.query("")
    a.query("DO $$BEGIN RAISE NOTICE 'hello'; END$$")
    a.query("SELECT 1; SELECT 1/0; SELECT 3")
    # A notification that arrives while the connection is idle.
    a.query("LISTEN wlchan")
    b = Raw(pg.port)
    b.query("NOTIFY wlchan, 'payload'")
    b.close()
    t, body = a.recv_msg()
    e.check(t == b"A", f"notification: {t} {body}")
    time.sleep(0.05)
    a.query("SELECT 42")
    a.close()
    # FunctionCall (fastpath): psql's large objects.
    p = pg.psql(f"\\lo_import {lo}")
    oid = p.stdout.split()[-1] if p.stdout else "0"
    e.check(oid.isdigit(), f"lo_import: {p.stdout}")
    # A query cancelled from a second connection (CancelRequest).
    q = subprocess.Popen(["psql", "-X", "-q", "-c",
                          "SELECT pg_sleep(20)"], env=pg.env(),
                         stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    # Cancel once the query runs (asked over the Unix socket, which the
    # capture does not see), however long a loaded machine takes to get
    # there: a signal before it would cancel nothing.
    env = dict(pg.env(), PGHOST=pg.sock)
    for _ in range(300):
        r = subprocess.run(["psql", "-X", "-A", "-t", "-c",
                            "SELECT count(*) FROM pg_stat_activity WHERE "
                            "state = 'active' AND query LIKE "
                            "'SELECT pg_sleep(20)%'"], env=env,
                           capture_output=True, text=True, timeout=60)
        if r.stdout.strip() == "1":
            break
        time.sleep(0.1)
    q.send_signal(signal.SIGINT)
    err = q.communicate(timeout=30)[1]
    e.check("cancel" in err, f"psql cancel: {err}")


def raw_sessions(pg, d):
    lo = os.path.join(d, "lo.bin")
    with open(lo, "wb") as f:
        f.write(os.urandom(200000))
    os.chmod(d, 0o755)
    cap, _ = captured(pg, d, "raw", lambda: raw_work(pg, lo))
    txns = analyse(d, "raw", cap)
    by_port = collections.defaultdict(list)
    for t in txns:
        by_port[t["client_port"]].append(t)
    conns = sorted(by_port.values(), key=lambda l: l[0]["req_start_ns"])
    print("raw:", [[(t["method"], t["status"], t.get("rows")) for t in c]
                   for c in conns])
    e.check(len(conns) == 5, f"raw: {len(conns)} connections")
    if len(conns) != 5:
        return
    a, b, lo_c, sleep_c, cancel_c = conns
    want_a = [("startup", "OK", 0),
              ("SELECT", "OK", 1), ("SELECT", "22012", 0),
              ("SELECT", "skipped", None),
              ("SELECT", "OK", 2), ("SELECT", "OK", 2), ("SELECT", "OK", 1),
              ("QUERY", "OK", 0), ("DO", "OK", 0), ("SELECT", "22012", 1),
              ("LISTEN", "OK", 0), ("SELECT", "OK", 1)]
    got_a = [(t["method"], t["status"], t.get("rows")) for t in a]
    e.check(got_a == want_a, f"raw: {got_a}, expected {want_a}")
    e.check([t["method"] for t in b] == ["startup", "NOTIFY"],
            f"notifier: {b}")
    e.check(a[-1]["rsp_start_ns"] > a[-1]["req_start_ns"],
            "the notification answered the next query")
    # lo_import: a catalog lookup, BEGIN, lo_creat, lo_open, lo_write..,
    # lo_close, COMMIT; every FunctionCall answered.
    fc = [t for t in lo_c if t["method"] == "FUNCTION_CALL"]
    e.check(len(fc) >= 4 and all(t["status"] == "OK" for t in fc),
            f"lo_import: {[(t['method'], t['status']) for t in lo_c]}")
    big = sum(t["req_bytes"] for t in fc)
    e.check(big >= 200000, f"lo_import: {big} request bytes")
    slp = [t for t in sleep_c if t["method"] == "SELECT"]
    e.check(len(slp) == 1 and slp[0]["status"] == "57014" and
            slp[0]["status_class"] == "server_error",
            f"cancelled query: {sleep_c}")
    e.check([t["method"] for t in cancel_c] == ["cancel"],
            f"cancel connection: {cancel_c}")


def main():
    srv.need("tcpdump", "tshark", "pgbench", "psql", "runuser",
             os.path.join(PGBIN, "initdb"), os.path.join(PGBIN, "pg_ctl"),
             os.path.join(PGBIN, "postgres"))
    if os.geteuid() != 0:
        e.skip("capturing on loopback needs root")
    d = e.tmpdir()
    pg = Postgres(d)
    try:
        # The initial load (COPY FROM STDIN, DDL) is captured too: it must
        # parse cleanly, whatever its transactions.
        cap, _ = captured(pg, d, "init",
                          lambda: pg.pgbench("-i", "-s", "1", "-q"))
        init = analyse(d, "init", cap)
        e.check([t.get("tag_rows") for t in init if t["method"] == "COPY"]
                == [100000], "init: COPY of 100000 accounts")
        e.check(any(t["method"] == "COPY" for t in init),
                f"init: no COPY in {collections.Counter(t['method'] for t in init)}")
        print("init:", dict(collections.Counter(t["method"] for t in init)))
        for mode in ("simple", "extended", "prepared"):
            txns = bench(pg, d, mode)
            print(f"{mode}:", dict(collections.Counter(t["method"]
                                                     for t in txns)))
        for mode in ("extended", "prepared"):
            bench_pipeline(pg, d, mode)
        sessions(pg, d)
        raw_sessions(pg, d)
    finally:
        pg.stop()
    print("port", pg.port)
    e.finish()


if __name__ == "__main__":
    main()
