# SPDX-License-Identifier: BSD-3-Clause
"""MySQL protocol against a real MariaDB server on 127.0.0.1 (port 20130
when free, which is not a MySQL default port: the flows are recognised by
probing), captured during the test:

- mysqlslap with a fixed two-statement query, bounded number of queries,
  concurrency and iterations: exactly the SELECTs and INSERTs it ran;
- the mariadb client with SQL-level PREPARE / EXECUTE / DEALLOCATE and a
  failing query (1146, 42S02, client_error);
- a raw binary-protocol client written here (mysql_native_password, then
  COM_STMT_PREPARE, COM_STMT_EXECUTE twice, COM_STMT_CLOSE, a statement
  executed with a read-only cursor and three COM_STMT_FETCH, COM_QUIT),
  with and without CLIENT_DEPRECATE_EOF: PREPARE then SELECTs marked
  prepared with the statement id the server gave, the cursor's SELECT
  without rows, fetches of 4, 4 and 2 rows, nothing for CLOSE and QUIT;
- a 5000-row result set read by the mariadb client: rows == 5000, and a
  17 MB row (a packet of 0xffffff bytes continued by another);
- CALL of a procedure with two result sets (3 sets counting the final
  OK), LOAD DATA LOCAL INFILE of 1000 rows (MariaDB sends a progress
  report, ERR 0xffff, before the OK), mysqladmin ping and status;
- a wrong password (connect 1045, 28000) and a compressed connection
  (its login, then the flow is no longer parsed: mysql_stopped 1).

Every other connection is one "connect" transaction with status OK and
user "wl". Every transaction's response starts at the first server
segment carrying data after its request and ends at the last one before
the client's next command (tshark), which for the large result set is
its last segment. The server's general log is an independent count of
what it executed. No parse errors, resyncs or unmatched messages."""

import collections
import hashlib
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_servers as srv  # noqa: E402

USER, PW = "wl", "pw"
HUGE = 17 * 1024 * 1024         # a row longer than one 16 MB packet
INFILE_ROWS = 1000
SLAP_N, SLAP_C, SLAP_I = 200, 4, 2      # queries, clients, iterations
BIG = 5000

# Client capabilities.
LONG_PASSWORD = 0x1
CONNECT_WITH_DB = 0x8
PROTOCOL_41 = 0x200
TRANSACTIONS = 0x2000
SECURE_CONNECTION = 0x8000
MULTI_RESULTS = 0x20000
PLUGIN_AUTH = 0x80000
DEPRECATE_EOF = 0x1000000


class MariaDB:
    """mariadbd on 127.0.0.1:port with its data in d, a user wl/pw."""

    def __init__(self, d):
        srv.need("mariadbd", "mariadb-install-db", "mariadb", "mysqlslap")
        self.d = os.path.join(d, "mariadb")
        self.data = os.path.join(self.d, "data")
        self.sock = os.path.join(self.d, "sock")
        self.genlog = os.path.join(self.d, "general.log")
        os.makedirs(self.d, exist_ok=True)
        p = subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={self.data}",
             "--auth-root-authentication-method=normal", "--skip-test-db",
             "--user=root"], capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise SystemExit("mariadb-install-db: " + p.stderr[-2000:])
        self.port = 20130 if port_free(20130) else srv.free_port()
        self.p = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.data}",
             "--user=root", "--bind-address=127.0.0.1",
             f"--port={self.port}", f"--socket={self.sock}", "--skip-ssl",
             "--skip-name-resolve", "--innodb-buffer-pool-size=32M",
             f"--log-error={os.path.join(self.d, 'error.log')}",
             f"--pid-file={os.path.join(self.d, 'pid')}",
             "--general-log=1", f"--general-log-file={self.genlog}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not srv.wait_port(self.port, 60):
            self.stop()
            raise SystemExit("mariadbd did not start: " + open(
                os.path.join(self.d, "error.log")).read()[-2000:])

    def root(self, sql):
        """SQL as root over the unix socket (not captured)."""
        p = subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self.sock}", "-uroot",
             "-B", "-N", "-e", sql], capture_output=True, text=True,
            timeout=120)
        if p.returncode != 0:
            raise SystemExit(f"mariadb as root: {p.stderr}")
        return p.stdout

    def client(self, sql, *extra, db="wl", pw=PW):
        """SQL as wl over TCP (captured), batch mode."""
        return subprocess.run(
            ["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{self.port}",
             f"-u{USER}", f"-p{pw}", "--skip-ssl", "-B", *extra, db, "-e",
             sql], capture_output=True, text=True, timeout=120)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(10)


def port_free(port):
    s = socket.socket()
    # A previous run's connections may linger in TIME_WAIT; mariadbd
    # binds with SO_REUSEADDR, so may we.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        s.listen(1)
        return True
    except OSError:
        return False
    finally:
        s.close()


# A minimal binary-protocol client.

class Raw:
    def __init__(self, port, caps_extra):
        self.s = socket.create_connection(("127.0.0.1", port), 10)
        self.buf = b""
        self.seq = 0
        self.caps_extra = caps_extra

    def packet(self):
        while True:
            if len(self.buf) >= 4:
                n = int.from_bytes(self.buf[:3], "little")
                if len(self.buf) >= 4 + n:
                    self.seq = self.buf[3]
                    p = self.buf[4:4 + n]
                    self.buf = self.buf[4 + n:]
                    return p
            chunk = self.s.recv(65536)
            if not chunk:
                raise SystemExit("raw client: server closed")
            self.buf += chunk

    def send(self, payload, seq):
        self.s.sendall(len(payload).to_bytes(3, "little") + bytes([seq]) +
                       payload)

    def command(self, payload):
        self.send(payload, 0)

    @staticmethod
    def scramble(salt):
        h1 = hashlib.sha1(PW.encode()).digest()
        h2 = hashlib.sha1(h1).digest()
        h3 = hashlib.sha1(salt + h2).digest()
        return bytes(a ^ b for a, b in zip(h1, h3))

    def login(self, db):
        g = self.packet()
        if g[0] != 10:
            raise SystemExit(f"raw client: greeting {g[:16]!r}")
        i = g.index(b"\0", 1) + 1          # after the server version
        salt1 = g[i + 4:i + 12]
        i += 13
        caps = int.from_bytes(g[i:i + 2], "little")
        i += 5
        caps |= int.from_bytes(g[i:i + 2], "little") << 16
        i += 2
        alen = g[i]
        i += 11
        n = max(13, alen - 8)
        salt2 = g[i:i + n].rstrip(b"\0")
        i += n
        plugin = g[i:g.index(b"\0", i)] if b"\0" in g[i:] else g[i:]
        if plugin != b"mysql_native_password":
            raise SystemExit(f"raw client: plugin {plugin!r}")
        want = (LONG_PASSWORD | CONNECT_WITH_DB | PROTOCOL_41 |
                TRANSACTIONS | SECURE_CONNECTION | MULTI_RESULTS |
                PLUGIN_AUTH | self.caps_extra)
        if self.caps_extra & ~caps:
            raise SystemExit("raw client: server lacks a capability")
        self.caps = want
        auth = self.scramble(salt1 + salt2)
        resp = (struct.pack("<IIB", want, 1 << 24, 45) + bytes(23) +
                USER.encode() + b"\0" + bytes([len(auth)]) + auth +
                db.encode() + b"\0" + b"mysql_native_password\0")
        self.send(resp, self.seq + 1)
        while True:
            r = self.packet()
            if r[0] == 0x00:
                return
            if r[0] == 0xfe:                # auth switch
                j = r.index(b"\0", 1)
                salt = r[j + 1:].rstrip(b"\0")
                self.send(self.scramble(salt), self.seq + 1)
                continue
            raise SystemExit(f"raw client: login failed {r!r}")

    def eof_or_ok(self, p):
        return p[0] == 0xfe and len(p) < 0xffffff

    def prepare(self, sql):
        self.command(b"\x16" + sql.encode())
        r = self.packet()
        if r[0] != 0:
            raise SystemExit(f"raw client: prepare {r!r}")
        stmt, cols, params = struct.unpack("<IHH", r[1:9])
        for n in (params, cols):
            if n:
                for _ in range(n):
                    self.packet()
                if not self.caps & DEPRECATE_EOF:
                    self.packet()
        return stmt, params

    def execute(self, stmt, value):
        self.command(b"\x17" + struct.pack("<IBI", stmt, 0, 1) +
                     b"\x00\x01" + b"\x08\x00" + struct.pack("<q", value))
        r = self.packet()
        if r[0] == 0xff:
            raise SystemExit(f"raw client: execute {r!r}")
        ncols = r[0]
        for _ in range(ncols):
            self.packet()
        if not self.caps & DEPRECATE_EOF:
            self.packet()
        rows = []
        while True:
            p = self.packet()
            if self.eof_or_ok(p):
                return rows
            rows.append(p)

    def execute_cursor(self, stmt, value):
        """Execute opening a read-only cursor: column definitions and an
        EOF (or OK) with SERVER_STATUS_CURSOR_EXISTS, no rows."""
        self.command(b"\x17" + struct.pack("<IBI", stmt, 1, 1) +
                     b"\x00\x01" + b"\x08\x00" + struct.pack("<q", value))
        r = self.packet()
        if r[0] == 0xff:
            raise SystemExit(f"raw client: execute {r!r}")
        for _ in range(r[0]):
            self.packet()
        end = self.packet()
        if not self.eof_or_ok(end):
            raise SystemExit(f"raw client: no cursor {end!r}")

    def fetch(self, stmt, n):
        self.command(b"\x1c" + struct.pack("<II", stmt, n))
        rows = 0
        while True:
            p = self.packet()
            if self.eof_or_ok(p):
                return rows
            rows += 1

    def close_stmt(self, stmt):
        self.command(b"\x19" + struct.pack("<I", stmt))

    def quit(self):
        self.command(b"\x01")
        try:
            self.s.recv(1)
        except OSError:
            pass
        self.s.close()


def genlog_counts(path):
    """What the server executed, by the general log: connects, verbs of
    text queries, binary prepares, executes and closes."""
    c = collections.Counter()
    line_re = re.compile(r"^(?:\d{6} +[\d:]+)?\t+ *\d+ (\w+(?: stmt)?)\t(.*)$")
    with open(path) as f:
        for line in f:
            m = line_re.match(line.rstrip("\n"))
            if m is None:
                continue
            cmd, arg = m.groups()
            if cmd == "Query":
                c["Q " + arg.split()[0].upper()] += 1
            elif cmd == "Connect" and arg.startswith("Access denied"):
                c["Denied"] += 1
            elif cmd in ("Connect", "Prepare", "Execute", "Quit",
                         "Close stmt"):
                c[cmd] += 1
    return c


def capture(db, d, infile, attempt):
    """The clients under a capture: @return (capture, tcpdump drops, the
    transactions expected by (method, prepared), the binary protocol's
    statement ids, and what the general log gained meanwhile)."""
    cap = os.path.join(d, f"my-{attempt}.pcap")
    want = collections.Counter()      # (method, prepared) -> count
    before = genlog_counts(db.genlog)
    td = srv.Tcpdump(cap, "lo", f"tcp port {db.port}")
    try:
        # mysqlslap: one connection of its own, then SLAP_C per
        # iteration, each running SLAP_N / SLAP_C of the statements
        # in turn (SELECT, INSERT, SELECT, ...).
        p = subprocess.run(
            ["mysqlslap", "--no-defaults", "-h127.0.0.1",
             f"-P{db.port}", f"-u{USER}", f"-p{PW}", "--skip-ssl",
             "--create-schema=wl", "--no-drop", "--delimiter=;",
             "--query=SELECT COUNT(*) FROM kv;"
             "INSERT INTO kv (v) VALUES ('x')",
             f"--number-of-queries={SLAP_N}",
             f"--concurrency={SLAP_C}", f"--iterations={SLAP_I}"],
            capture_output=True, text=True, timeout=300)
        e.check(p.returncode == 0, f"mysqlslap: {p.stderr[-1000:]}")
        want[("connect", False)] += 1 + SLAP_I * SLAP_C
        want[("SELECT", False)] += SLAP_I * SLAP_N // 2
        want[("INSERT", False)] += SLAP_I * SLAP_N // 2

        # SQL-level prepared statements and a failing query last
        # (the client stops at the error).
        p = db.client("PREPARE s FROM 'SELECT ? + 1'; SET @a = 41; "
                      "EXECUTE s USING @a; EXECUTE s USING @a; "
                      "DEALLOCATE PREPARE s; "
                      "SELECT * FROM no_such_table")
        e.check(p.stdout.count("42") == 2 and "1146" in p.stderr,
                f"mariadb client: {p.stdout!r} {p.stderr!r}")
        want[("connect", False)] += 1
        for m, n in (("PREPARE", 1), ("SET", 1), ("EXECUTE", 2),
                     ("DEALLOCATE", 1), ("SELECT", 1)):
            want[(m, False)] += n

        # Binary protocol, with and without CLIENT_DEPRECATE_EOF.
        stmt_ids = []
        for extra in (0, DEPRECATE_EOF):
            r = Raw(db.port, extra)
            r.login("wl")
            stmt, params = r.prepare("SELECT ? + 1")
            e.check(params == 1, f"prepare: {params} params")
            for v in (41, 99):
                rows = r.execute(stmt, v)
                e.check(len(rows) == 1, f"execute: {rows!r}")
            r.close_stmt(stmt)
            # A cursor: execute answers with the columns only, the
            # 10 rows come in fetches of 4.
            cur, _ = r.prepare("SELECT seq FROM seq.seq_1_to_10 "
                               "WHERE seq > ?")
            r.execute_cursor(cur, 0)
            fetched = [r.fetch(cur, 4) for _ in range(3)]
            e.check(fetched == [4, 4, 2], f"fetched {fetched}")
            r.close_stmt(cur)
            r.quit()
            stmt_ids += [stmt, stmt, cur]
            want[("connect", False)] += 1
            want[("PREPARE", False)] += 2
            want[("SELECT", True)] += 3
            want[("STMT_FETCH", False)] += 3

        # A large result set.
        p = db.client("SELECT * FROM big")
        lines = p.stdout.splitlines()
        e.check(p.returncode == 0 and len(lines) == BIG + 1,
                f"big select: {len(lines)} lines, {p.stderr!r}")
        want[("connect", False)] += 1
        want[("SELECT", False)] += 1

        # A row longer than a packet: 0xffffff bytes and the rest.
        p = db.client(f"SELECT REPEAT('y', {HUGE}) AS huge",
                      "--max-allowed-packet=64M")
        e.check(p.returncode == 0 and len(p.stdout) == HUGE + 6,
                f"huge row: {len(p.stdout)} bytes, {p.stderr!r}")
        want[("connect", False)] += 1
        want[("SELECT", False)] += 1
        # Multiple result sets, LOCAL INFILE (MariaDB sends a progress
        # report before the OK), COM_PING and COM_STATISTICS.
        p = db.client("CALL two()")
        e.check(p.returncode == 0, f"call: {p.stderr!r}")
        p = db.client(f"LOAD DATA LOCAL INFILE '{infile}' INTO TABLE li",
                      "--local-infile=1")
        e.check(p.returncode == 0, f"load data: {p.stderr!r}")
        want[("connect", False)] += 2
        want[("CALL", False)] += 1
        want[("LOAD", False)] += 1
        p = subprocess.run(
            ["mysqladmin", "--no-defaults", "-h127.0.0.1",
             f"-P{db.port}", f"-u{USER}", f"-p{PW}", "--skip-ssl",
             "ping", "status"], capture_output=True, text=True,
            timeout=60)
        e.check(p.returncode == 0, f"mysqladmin: {p.stderr!r}")
        want[("connect", False)] += 1
        want[("PING", False)] += 1
        want[("STATISTICS", False)] += 1
        # A wrong password: connect fails with 1045.
        p = db.client("SELECT 1", pw="wrong")
        e.check("1045" in p.stderr, f"bad password: {p.stderr!r}")
        want[("connect", False)] += 1
        # Compression: the login is a transaction, then the flow is
        # no longer parsed (one mysql_stopped).
        p = db.client("SELECT 1", "--compress")
        e.check(p.returncode == 0, f"compress: {p.stderr!r}")
        want[("connect", False)] += 1
        time.sleep(0.2)
    finally:
        drops = td.stop()
    ran = genlog_counts(db.genlog) - before
    return cap, drops, want, stmt_ids, ran


def main():
    srv.need("mariadbd", "mariadb-install-db", "mariadb", "mysqlslap",
             "mysqladmin", "tcpdump", "tshark")
    if os.geteuid() != 0:
        e.skip("capturing on loopback needs root")
    d = e.tmpdir()
    db = MariaDB(d)
    try:
        db.root(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PW}';"
                f"GRANT ALL ON *.* TO '{USER}'@'127.0.0.1';"
                "CREATE DATABASE wl; CREATE DATABASE seq;"
                "CREATE TABLE wl.kv (id INT PRIMARY KEY AUTO_INCREMENT, "
                "v VARCHAR(32));"
                "CREATE TABLE wl.big (id INT PRIMARY KEY, v VARCHAR(100));"
                f"INSERT INTO wl.big SELECT seq, REPEAT(CHAR(97 + seq % 26),"
                f" 40 + seq % 60) FROM seq.seq_1_to_{BIG};"
                "CREATE TABLE wl.li (a INT, b VARCHAR(10));"
                "SET GLOBAL max_allowed_packet = 64 * 1024 * 1024;")
        p = subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={db.sock}", "-uroot",
             "--delimiter=//", "-e", "CREATE PROCEDURE wl.two() "
             "BEGIN SELECT 1; SELECT 2, 3 UNION SELECT 4, 5; END"],
            capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise SystemExit(f"create procedure: {p.stderr}")
        infile = os.path.join(d, "in.txt")
        with open(infile, "w") as f:
            f.write("".join(f"{i}\tv{i}\n" for i in range(INFILE_ROWS)))
        # The server's tables only grow: a retried workload gets the same
        # answers, and the general log is compared by its growth.
        cap, _, want, stmt_ids, ran = srv.capture_retry(
            lambda a: capture(db, d, infile, a))
    finally:
        db.stop()

    inst = e.instance("mysql")
    log = os.path.join(d, "my.log")
    st = os.path.join(d, "my.stats")
    print(f"server port {db.port}")
    e.wirelat(["--pcap", cap, "--instance", inst, "--log", log,
               "--stats-json", st, "--no-report"], check_rc=0)
    txns = [t for t in e.jsonl(log) if t.get("proto") == "mysql"]
    got = collections.Counter((t["method"], t["prepared"]) for t in txns)
    e.check(got == want, f"transactions {sorted(got.items())}, "
            f"sent {sorted(want.items())}")

    # The server's own account of the captured connections: its general
    # log has a Query line per text command (the compressed connection's
    # SELECT too), Prepare / Execute for SQL-level and binary ones alike.
    print("general log:", dict(ran))
    conns = sum(n for (m, _), n in want.items() if m == "connect")
    e.check(ran["Connect"] == conns and ran["Denied"] == 1,
            f"general log: {ran['Connect']} connects, {ran['Denied']} "
            f"denied, {conns} expected")
    queries = collections.Counter({m: n for (m, prep), n in want.items()
                                   if not prep and m not in (
                                       "connect", "STMT_FETCH", "PING",
                                       "STATISTICS")})
    queries["PREPARE"] -= 4         # binary ones
    queries["SELECT"] += 1          # compressed
    for m, n in queries.items():
        e.check(ran["Q " + m] == n, f"general log: {ran['Q ' + m]} "
                f"{m}, {n} expected")
    e.check(ran["Prepare"] == 5 and ran["Execute"] == 8 and
            ran["Close stmt"] == 4, f"general log: {ran['Prepare']} "
            f"prepares, {ran['Execute']} executes, {ran['Close stmt']} "
            "closes")
    e.check(all(not t["flags"] for t in txns),
            f"flags: {[t for t in txns if t['flags']][:3]}")

    denied = [t for t in txns if t["method"] == "connect" and
              t["status"] != "OK"]
    e.check(len(denied) == 1 and denied[0]["status"] == "1045" and
            denied[0].get("sqlstate") == "28000" and
            denied[0]["status_class"] == "client_error" and
            denied[0].get("user") == USER, f"denied login: {denied}")
    for t in txns:
        if t["method"] == "connect" and t not in denied:
            e.check(t["status"] == "OK" and t.get("user") == USER,
                    f"connect: {t}")
    for t in txns:
        if t["method"] == "SELECT" and "no_such_table" in t["resource"]:
            e.check(t["status"] == "1146" and t.get("sqlstate") == "42S02"
                    and t["status_class"] == "client_error"
                    and t["status_code"] == 1146, f"failing query: {t}")
        elif t["method"] != "connect":
            e.check(t["status"] == "OK" and t["status_class"] == "ok",
                    f"status: {t}")
    fails = [t for t in txns if t["status"] != "OK"]
    e.check(len(fails) == 2, f"{len(fails)} failed transactions")

    # Binary protocol: PREPARE, two SELECTs with the server's statement
    # id, PREPARE, the cursor's SELECT (no rows) and three fetches.
    prep = [t for t in txns if t["prepared"]]
    e.check(sorted(t.get("stmt_id") for t in prep) == sorted(stmt_ids),
            f"stmt ids {[t.get('stmt_id') for t in prep]}, server gave "
            f"{stmt_ids}")
    e.check(all(t["resource"].startswith("SELECT") for t in prep),
            f"prepared: {prep}")
    for cp in sorted({t["client_port"] for t in prep}):
        conn = sorted((x for x in txns if x["client_port"] == cp),
                      key=lambda x: x["req_start_ns"])
        seq = [(x["method"], x.get("rows")) for x in conn]
        e.check(seq == [("connect", 0), ("PREPARE", 0), ("SELECT", 1),
                        ("SELECT", 1), ("PREPARE", 0), ("SELECT", 0),
                        ("STMT_FETCH", 4), ("STMT_FETCH", 4),
                        ("STMT_FETCH", 2)], f"raw connection: {seq}")
    one = {t["method"]: t for t in txns if t["method"] in
           ("CALL", "LOAD", "PING", "STATISTICS")}
    e.check(one.get("CALL", {}).get("result_sets") == 3 and
            one["CALL"].get("rows") == 3, f"CALL: {one.get('CALL')}")
    e.check(one.get("LOAD", {}).get("affected_rows") == INFILE_ROWS,
            f"LOAD DATA: {one.get('LOAD')}")
    huge = [t for t in txns if "huge" in t["resource"]]
    e.check(len(huge) == 1 and huge[0]["rows"] == 1 and
            huge[0]["rsp_bytes"] > HUGE, f"huge row: {huge}")
    slap_sel = [t for t in txns if t["resource"].startswith("SELECT COUNT")]
    e.check(all(t["rows"] == 1 for t in slap_sel), "SELECT COUNT(*): rows")
    ins = [t for t in txns if t["method"] == "INSERT"]
    e.check(all(t["affected_rows"] == 1 and t["rows"] == 0 for t in ins),
            "INSERT: affected_rows")

    # Timing against the capture.
    segs = e.tcp_inorder(cap, db.port)
    for t in txns:
        e.check(t["req_start_ns"] <= t["req_end_ns"] <= t["rsp_start_ns"]
                <= t["rsp_end_ns"], f"order: {t}")
    by_conn = collections.defaultdict(list)
    for t in txns:
        by_conn[t["client_port"]].append(t)
    bad = 0
    for cp, ts in by_conn.items():
        sg = segs.get(cp, [])
        ts.sort(key=lambda x: x["req_start_ns"])
        for i, t in enumerate(ts):
            nxt = ts[i + 1]["req_start_ns"] if i + 1 < len(ts) else 1 << 62
            if t["method"] == "connect":
                # From the greeting to the end of the HandshakeResponse,
                # the answer ends at a server segment the client's next
                # one follows.
                cli = [n for n, s in sg if not s]
                after = [(n, s) for n, s in sg if n > t["rsp_end_ns"]]
                ok = (sg and sg[0][1] and t["req_start_ns"] == sg[0][0] and
                      cli and t["req_end_ns"] == cli[0] and
                      (t["rsp_end_ns"], True) in sg and
                      (not after or not after[0][1]))
            else:
                # The server's segments between the command and the next.
                rsp = [n for n, s in sg if s and t["req_end_ns"] < n < nxt]
                ok = (rsp and t["rsp_start_ns"] == rsp[0] and
                      t["rsp_end_ns"] == rsp[-1] and
                      (t["req_start_ns"], False) in sg and
                      (t["req_end_ns"], False) in sg)
            if not ok:
                bad += 1
                if bad <= 5:
                    e.check(False, f"timestamps differ from the capture: {t}")
    e.check(bad == 0, f"{bad} transactions with timestamps off the capture")

    big = [t for t in txns if t["resource"].startswith("SELECT * FROM big")]
    e.check(len(big) == 1, f"{len(big)} big selects")
    if big:
        b = big[0]
        sg = [n for n, s in segs[b["client_port"]] if s and
              n > b["req_end_ns"]]
        quit_ns = min([n for n, s in segs[b["client_port"]] if not s and
                       n > b["req_end_ns"]] or [1 << 62])
        sg = [n for n in sg if n < quit_ns]
        print(f"big select: rows {b['rows']}, {len(sg)} segments, "
              f"{b['rsp_bytes']} bytes, "
              f"{(b['rsp_end_ns'] - b['rsp_start_ns']) / 1e3:.0f} us")
        e.check(b["rows"] == BIG, f"big select: {b['rows']} rows")
        e.check(len(sg) > 1, "big select fits in one segment")
        e.check(sg and b["rsp_start_ns"] == sg[0] and
                b["rsp_end_ns"] == sg[-1],
                f"big select: response {b['rsp_start_ns']}.."
                f"{b['rsp_end_ns']}, capture {sg[:1]}..{sg[-1:]}")

    c = json.load(open(st))["counters"]
    for k in ("mysql_parse_errors", "mysql_unmatched_responses",
              "mysql_unmatched_requests", "mysql_resyncs"):
        e.check(c.get(k, -1) == 0, f"{k} {c.get(k)}")
    e.check(c.get("flow_gaps") == 0, f"a whole capture, {c.get('flow_gaps')} "
            "gaps")
    e.check(c.get("mysql_stopped") == 1, "the compressed connection stops: "
            f"mysql_stopped {c.get('mysql_stopped')}")
    print("transactions:", dict(collections.Counter(
        t["method"] for t in txns)))
    # The same traffic picked up after its connections started.
    for frac in (0.3, 0.6):
        found, after = e.midstream(cap, "mysql", d, frac,
                                   server_port=db.port)
        print(f"mid-stream from {frac:.0%}: found {found} of {after}")
    e.remove_instance(inst)
    e.finish()


if __name__ == "__main__":
    main()
