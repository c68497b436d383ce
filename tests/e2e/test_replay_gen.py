# SPDX-License-Identifier: BSD-3-Clause
"""wirelat-replay gen, checked three ways. Several configurations (HTTP,
Redis, memcached, PostgreSQL, MySQL, two and all of them; pipelining 1, 4 and
8; responses over many segments; a 200-byte MSS; every latency
distribution) are generated, then:
- read back here, independently: pcap records, Ethernet/IPv4/TCP with
  both checksums, each direction reassembled by sequence number, HTTP,
  RESP, memcached, PostgreSQL and MySQL messages found by their own
  framing;
  every transaction's four times must be those of the segments carrying
  its first and last bytes, sizes must lie in the configured ranges,
  latencies must follow the configured distribution;
- tshark must raise no TCP analysis flag at all;
- wirelat must report exactly the truth's transactions, to the ns.
Then bad options (exit 2, one line naming the option) and determinism."""

import bisect
import collections
import json
import math
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402

GEN = os.path.join(e.BUILD, "app", "wirelat-replay", "wirelat-replay")
TSHARK = shutil.which("tshark")

# Every protocol gen makes.
PROTOS = ("http", "redis", "memcached", "postgresql", "mysql", "dns")

# name: (arguments, latency check)
CONFIGS = {
    "http-fixed": (["--proto", "http", "--connections", "6",
                    "--requests", "40", "--latency", "fixed:150us",
                    "--req-size", "0:200", "--rsp-size", "100:3000",
                    "--writes", "0", "--seed", "11"], "fixed"),
    "redis-uniform-big": (["--proto", "redis", "--connections", "5",
                           "--requests", "40", "--latency",
                           "uniform:20us:2ms", "--rsp-size", "2000:40000",
                           "--writes", "30", "--seed", "12",
                           "--redis-port", "7000"], "uniform"),
    "mix-lognormal": (["--connections", "8", "--requests", "60",
                       "--latency", "lognormal:300us:0.6", "--gap",
                       "exp:30ms", "--conn-interval", "exp:2ms",
                       "--seed", "13"], "lognormal"),
    "mix-exp": (["--connections", "8", "--requests", "50", "--latency",
                 "exp:500us", "--rtt", "1.5ms", "--http-port", "8080",
                 "--seed", "14"], "exp"),
    "mix-pipe8-mss200": (["--connections", "6", "--requests", "40",
                          "--pipeline", "8", "--mss", "200",
                          "--req-size", "0:3000", "--rsp-size", "0:20000",
                          "--latency", "exp:200us", "--writes", "50",
                          "--seed", "15"], "queued"),
    "memcached-pipe4": (["--proto", "memcached", "--connections", "4",
                         "--requests", "40", "--pipeline", "4",
                         "--rsp-size", "0:9000", "--writes", "40",
                         "--memcached-port", "11311", "--latency",
                         "fixed:80us", "--seed", "17"], "queued"),
    "all": (["--proto", "all", "--connections", "12", "--requests",
             "30", "--latency", "exp:100us", "--seed", "18"], "exp"),
    "postgresql-pipe4": (["--proto", "postgresql", "--connections", "4",
                          "--requests", "40", "--pipeline", "4",
                          "--rsp-size", "0:9000", "--writes", "40",
                          "--postgresql-port", "5433", "--latency",
                          "fixed:80us", "--seed", "19"], "queued"),
    "mysql-pipe4": (["--proto", "mysql", "--connections", "4",
                     "--requests", "40", "--pipeline", "4",
                     "--rsp-size", "0:9000", "--writes", "40",
                     "--mysql-port", "3307", "--latency", "fixed:80us",
                     "--seed", "20"], "queued"),
    "dns-pipe4": (["--proto", "dns", "--connections", "6",
                   "--requests", "40", "--pipeline", "4",
                   "--rsp-size", "0:1000", "--writes", "30",
                   "--dns-port", "5353", "--latency", "uniform:50us:5ms",
                   "--seed", "21"], "uniform"),
    "redis-pipe8-small": (["--proto", "redis", "--connections", "4",
                           "--requests", "64", "--pipeline", "8",
                           "--req-size", "1:40", "--rsp-size", "1:60",
                           "--latency", "fixed:50us", "--link-mbps", "1000",
                           "--seed", "16"], "queued"),
}


def gen(d, name, args, truth=True):
    pcap = os.path.join(d, name + ".pcap")
    cmd = [GEN, "gen", "-o", pcap] + args
    if truth:
        cmd += ["--truth", pcap + ".json"]
    p = e.run(cmd, check_rc=0)
    e.check(len(p.stderr.splitlines()) == 1 and "packets" in p.stderr,
            f"{name}: summary line {p.stderr!r}")
    return pcap, (json.load(open(pcap + ".json")) if truth else None)


# --------------------------------------------------------------------------
# pcap and packet decoding

def read_pcap(path):
    """[(ts_ns, orig_len, frame)] of a nanosecond Ethernet pcap."""
    hdr, out = e.read_pcap(path)
    e.check(hdr["magic"] == 0xA1B23C4D and hdr["version"] == (2, 4) and
            hdr["link"] == 1, f"{path}: header {hdr}")
    for i, (_, orig, fr) in enumerate(out):
        e.check(len(fr) <= hdr["snap"] and len(fr) <= orig,
                f"{path}: record {i}: {len(fr)} of {orig}")
    return out


def decode(name, pkts):
    """Per-direction segment lists keyed by (client, server) addresses;
    checks every checksum."""
    flows = collections.defaultdict(list)
    bad = 0
    for ts, _, fr in pkts:
        if struct.unpack_from("!H", fr, 12)[0] != 0x0800:
            bad += 1
            continue
        ip = fr[14:]
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack_from("!H", ip, 2)[0]
        if e.csum(ip[:ihl]) != 0 or ip[9] not in (6, 17) or \
                tot != len(ip):
            bad += 1
            continue
        src, dst = ip[12:16], ip[16:20]
        tcp = ip[ihl:tot]
        pseudo = src + dst + struct.pack("!BBH", 0, ip[9], len(tcp))
        if e.csum(pseudo + tcp) != 0:
            bad += 1
            continue
        if ip[9] == 17:
            # UDP: one datagram, one message; "flags" says so.
            sp, dp, ln = struct.unpack_from("!HHH", tcp)
            seq = ack = None
            flags, payload = "udp", tcp[8:]
            bad += ln != len(tcp)
        else:
            sp, dp, seq, ack, off, flags = struct.unpack_from("!HHIIBB",
                                                              tcp)
            payload = tcp[(off >> 4) * 4:]
        s, d = "%d.%d.%d.%d" % tuple(src), "%d.%d.%d.%d" % tuple(dst)
        c2s = s.startswith("10.1.")
        key = (s, sp, d, dp) if c2s else (d, dp, s, sp)
        flows[key].append((ts, c2s, seq, ack, flags, payload))
    e.check(bad == 0, f"{name}: {bad} packets with a bad header or checksum")
    return flows


def reassemble(name, segs, c2s):
    """(stream bytes, [segment start offsets], [segment ts]) of one
    direction; segments must be contiguous, in order, never repeated."""
    isn, data, starts, times = None, bytearray(), [], []
    for ts, d, seq, _, flags, payload in segs:
        if d != c2s:
            continue
        if flags & 0x02:
            isn = seq
            continue
        if not payload:
            continue
        off = (seq - isn - 1) & 0xFFFFFFFF
        if not e.check(off == len(data), f"{name}: segment at {off}, "
                       f"want {len(data)}"):
            return bytes(data), starts, times
        starts.append(off)
        times.append(ts)
        data += payload
    return bytes(data), starts, times


def http_msgs(data, resp):
    """[(start, end, info)] of HTTP/1.1 messages framed by Content-Length."""
    out, o = [], 0
    while o < len(data):
        h = data.index(b"\r\n\r\n", o) + 4
        lines = data[o:h - 4].split(b"\r\n")
        hdr = {k.lower(): v.strip() for k, _, v in
               (ln.partition(b":") for ln in lines[1:])}
        cl = int(hdr.get(b"content-length", b"0"))
        first = lines[0].decode().split(" ")
        if resp:
            info = {"status": first[1], "size": cl}
        else:
            pad = len(hdr.get(b"x-pad", b""))
            info = {"method": first[0], "resource": first[1].split("?")[0],
                    "size": cl if first[0] == "POST" else pad}
        out.append((o, h + cl, info))
        o = h + cl
    return out


def resp_line(data, o):
    n = data.index(b"\r\n", o)
    return data[o:n], n + 2


def redis_msgs(data, resp):
    """[(start, end, info)] of RESP arrays (commands) or replies."""
    out, o = [], 0
    while o < len(data):
        start = o
        line, o = resp_line(data, o)
        if resp:
            if line[:1] == b"$":
                n = int(line[1:])
                o += n + 2
                info = {"status": "OK", "size": n}
            else:
                info = {"status": line[1:].decode(), "size": None}
        else:
            args = []
            for _ in range(int(line[1:])):
                ln, o = resp_line(data, o)
                n = int(ln[1:])
                args.append(data[o:o + n])
                o += n + 2
            info = {"method": args[0].decode().upper(),
                    "resource": args[1].decode(),
                    "size": len(args[2]) if len(args) > 2 else None}
        out.append((start, o, info))
    return out


def mc_msgs(data, resp):
    """[(start, end, info)] of memcached text commands (get, set) or
    replies (VALUE ... END, STORED)."""
    out, o = [], 0
    while o < len(data):
        start = o
        line, o = resp_line(data, o)
        w = line.decode().split(" ")
        if resp and w[0] == "VALUE":
            n = int(w[3])
            o += n + 2
            end, o = resp_line(data, o)
            if end != b"END":
                raise ValueError(f"VALUE not ended by END: {end!r}")
            info = {"status": "HIT", "size": n}
        elif resp:
            info = {"status": w[0], "size": None}
        elif w[0] == "set":
            n = int(w[4])
            o += n + 2
            info = {"method": "set", "resource": w[1], "size": n}
        else:
            info = {"method": w[0], "resource": w[1], "size": None}
        out.append((start, o, info))
    return out


def pg_msgs(data, resp):
    """[(start, end, info)] of PostgreSQL simple queries (a Query) or their
    answers (every message up to ReadyForQuery), by each message's length;
    the query text normalised as wirelat does (literals become ?)."""
    out, o = [], 0
    while o < len(data):
        start, size = o, None
        while True:
            t = data[o:o + 1]
            n = struct.unpack("!I", data[o + 1:o + 5])[0]
            body = data[o + 5:o + 1 + n]
            o += 1 + n
            if not resp:
                if t != b"Q" or body[-1:] != b"\0":
                    raise ValueError(f"not a Query: {t!r}")
                text = body[:-1].decode()
                norm = re.sub(r"'[^']*'", "?", text)
                w = text.split(" ")[0]
                size = len(re.findall(r"'([^']*)'", text)[0]) \
                    if w == "INSERT" else None
                info = {"method": w, "resource": norm, "size": size}
                break
            if t == b"D":
                size = struct.unpack("!I", body[2:6])[0]
            if t == b"Z":
                info = {"status": "OK", "size": size}
                break
        out.append((start, o, info))
    return out


def my_lenenc(b):
    if b[0] < 251:
        return b[0]
    n = {0xfc: 2, 0xfd: 3}[b[0]]
    return int.from_bytes(b[1:1 + n], "little")


def my_msgs(data, resp):
    """[(start, end, info)] of a MySQL stream by packet lengths and
    sequence ids: first the handshake (server: greeting and OK, info
    "first" where the OK starts; client: HandshakeResponse41, naming the
    database), then COM_QUERYs and their answers (OK, or a text result
    set up to the EOF after its rows)."""
    pk, o = [], 0
    while o < len(data):
        n = int.from_bytes(data[o:o + 3], "little")
        pk.append((o, o + 4 + n, data[o + 3], data[o + 4:o + 4 + n]))
        o += 4 + n
    if o != len(data):
        raise ValueError("stream ends inside a packet")
    out = []
    if not resp:
        a, b, seq, body = pk[0]
        if seq != 1 or not int.from_bytes(body[:4], "little") & 0x200:
            raise ValueError("not a HandshakeResponse41")
        u = body.index(b"\0", 32)
        db = u + 2 + body[u + 1]
        out.append((a, b, {"method": "connect", "resource":
                           body[db:body.index(b"\0", db)].decode(),
                           "size": None}))
        for a, b, seq, body in pk[1:]:
            if seq != 0 or body[:1] != b"":
                raise ValueError("not a COM_QUERY")
            text = body[1:].decode()
            w = text.split(" ")[0]
            size = len(re.findall(r"'([^']*)'", text)[0]) \
                if w == "INSERT" else None
            out.append((a, b, {"method": w, "resource":
                               re.sub(r"'[^']*'", "?", text),
                               "size": size}))
        return out
    g, ok = pk[0], pk[1]
    if g[2] != 0 or g[3][:1] != b"\x0a" or ok[2] != 2 or \
            ok[3][:1] != b"\0":
        raise ValueError("not a greeting and its OK")
    out.append((g[0], ok[1], {"status": "OK", "size": None,
                              "first": ok[0]}))
    i = 2
    while i < len(pk):
        a, size = pk[i][0], None
        j = i
        if pk[i][3][:1] != b"\0":
            # column count, definitions, EOF, rows, EOF
            j = i + 1 + pk[i][3][0]
            if pk[j][3][:1] != b"\xfe":
                raise ValueError("no EOF after the columns")
            j += 1
            while not (pk[j][3][:1] == b"\xfe" and len(pk[j][3]) < 9):
                size = my_lenenc(pk[j][3])
                j += 1
        if [p[2] for p in pk[i:j + 1]] != list(range(1, j - i + 2)):
            raise ValueError("sequence ids")
        out.append((a, pk[j][1], {"status": "OK", "size": size}))
        i = j + 1
    return out


def dns_check(name, key, segs, exp, rsp_rng):
    """A DNS flow: each query and its answer (same id, question) against
    the truth transaction its name gives, to the ns and the byte."""
    qs, ans = {}, {}
    for ts, c2s, _, _, _, p in segs:
        qid, fl, qd, an = struct.unpack_from("!HHHH", p)
        o, labels = 12, []
        while p[o]:
            labels.append(p[o + 1:o + 1 + p[o]].decode())
            o += 1 + p[o]
        qtype = struct.unpack_from("!H", p, o + 1)[0]
        e.check(qd == 1 and bool(fl & 0x8000) != c2s,
                f"{name} {key}: header {fl:#x} {qd}")
        (qs if c2s else ans)[".".join(labels)] = (ts, qid, fl, an, qtype,
                                                  len(p))
    e.check(len(qs) == len(ans) == len(exp),
            f"{name} {key}: {len(qs)} queries, {len(ans)} answers, "
            f"truth {len(exp)}")
    for t in exp:
        q, a = qs.get(t["resource"]), ans.get(t["resource"])
        if not e.check(q and a, f"{name} {key}: {t['resource']} missing"):
            continue
        rrs = min(t["rsp_size"] // 16, 40)
        got = {"method": {1: "A", 28: "AAAA"}.get(q[4]),
               "status": "NOERROR" if a[2] & 15 == 0 else "NXDOMAIN",
               "req_start_ns": q[0], "req_end_ns": q[0],
               "rsp_start_ns": a[0], "rsp_end_ns": a[0],
               "req_bytes": q[5], "rsp_bytes": a[5]}
        diff = {k: (v, t[k]) for k, v in got.items() if t[k] != v}
        e.check(not diff and q[1] == a[1] and a[3] == rrs and
                (a[2] & 15) == (0 if rrs else 3) and
                rsp_rng[0] <= t["rsp_size"] <= rsp_rng[1],
                f"{name} {key} {t['resource']}: pcap vs truth {diff}, "
                f"ids {q[1]} {a[1]}, {a[3]} records for {t['rsp_size']}")
    return len(exp)


def ts_at(starts, times, off):
    return times[bisect.bisect_right(starts, off) - 1]


# --------------------------------------------------------------------------
# checks

def rng(args, opt, default):
    v = args[args.index(opt) + 1] if opt in args else default
    lo, _, hi = v.partition(":")
    return int(lo), int(hi or lo)


def ns(text):
    for u, m in (("ms", 10**6), ("us", 10**3), ("ns", 1), ("s", 10**9)):
        if text.endswith(u):
            return round(float(text[:-len(u)]) * m)
    return int(text)


def check_stream(name, args, truth, pcap):
    pkts = read_pcap(pcap)
    e.check(len(pkts) == truth["packets"] and
            sum(p[1] for p in pkts) == truth["bytes"],
            f"{name}: {len(pkts)} packets / {sum(p[1] for p in pkts)} bytes,"
            f" truth {truth['packets']} / {truth['bytes']}")
    e.check(all(pkts[i][0] <= pkts[i + 1][0] for i in range(len(pkts) - 1)),
            f"{name}: capture not in time order")
    flows = decode(name, pkts)
    want = collections.defaultdict(list)
    for t in truth["transactions"]:
        want[(t["client_ip"], t["client_port"])].append(t)
    tcp = [k for k, segs in flows.items() if segs[0][4] != "udp"]
    e.check(len(tcp) == len(truth["connections"]) and
            len(flows) == len(want),
            f"{name}: {len(flows)} flows ({len(tcp)} TCP), {len(want)} in "
            f"the truth, {len(truth['connections'])} connections")
    req_rng = rng(args, "--req-size", "16:256")
    rsp_rng = rng(args, "--rsp-size", "64:4096")
    found = collections.Counter()
    for key, segs in flows.items():
        exp = sorted(want[(key[0], key[1])], key=lambda t: t["index"])
        if segs[0][4] == "udp":
            found["dns"] += dns_check(name, key, segs, exp, rsp_rng)
            continue
        first = next((s[5] for s in segs if s[1] and s[5]), b"")
        # MySQL's server speaks first.
        server_first = next(s for s in segs if s[5])[1] == 0
        proto = "mysql" if server_first else "redis" if \
            first[:1] == b"*" else "memcached" if \
            first[:4] in (b"get ", b"set ") else "postgresql" if \
            first[:1] == b"Q" else "http"
        reqd, rqs, rqt = reassemble(name, segs, True)
        rspd, rss, rst = reassemble(name, segs, False)
        parse = {"redis": redis_msgs, "memcached": mc_msgs,
                 "postgresql": pg_msgs, "http": http_msgs,
                 "mysql": my_msgs}[proto]
        try:
            reqs, rsps = parse(reqd, False), parse(rspd, True)
        except (ValueError, IndexError) as x:
            e.check(False, f"{name} {key}: unparsable stream: {x}")
            continue
        if not e.check(len(reqs) == len(rsps) == len(exp),
                       f"{name} {key}: {len(reqs)} requests, {len(rsps)} "
                       f"responses, truth {len(exp)}"):
            continue
        found[proto] += len(exp)
        for (qa, qb, qi), (ra, rb, ri), t in zip(reqs, rsps, exp):
            got = {"proto": proto, "method": qi["method"],
                   "resource": qi["resource"], "status": ri["status"],
                   "req_start_ns": ts_at(rqs, rqt, qa),
                   "req_end_ns": ts_at(rqs, rqt, qb - 1),
                   "rsp_start_ns": ts_at(rss, rst, ra),
                   "rsp_end_ns": ts_at(rss, rst, rb - 1),
                   "req_bytes": qb - qa, "rsp_bytes": rb - ra}
            if "first" in ri:
                # A MySQL handshake: from the greeting's first byte to
                # the OK's last; the answer begins with the OK.
                got["req_start_ns"] = ts_at(rss, rst, ra)
                got["rsp_start_ns"] = ts_at(rss, rst, ri["first"])
            diff = {k: (v, t[k]) for k, v in got.items() if t[k] != v}
            e.check(not diff, f"{name} {key} #{t['index']}: pcap vs truth "
                    f"{diff}")
            if qi["size"] is not None:
                e.check(req_rng[0] <= qi["size"] <= req_rng[1] and
                        qi["size"] == t["req_size"],
                        f"{name} {key} #{t['index']}: request size "
                        f"{qi['size']} not in {req_rng}")
            if ri["size"] is not None:
                e.check(rsp_rng[0] <= ri["size"] <= rsp_rng[1] and
                        ri["size"] == t["rsp_size"],
                        f"{name} {key} #{t['index']}: response size "
                        f"{ri['size']} not in {rsp_rng}")
    for p in PROTOS:
        e.check(found[p] == truth[f"{p}_transactions"] ==
                sum(1 for t in truth["transactions"] if t["proto"] == p),
                f"{name}: {found[p]} {p} transactions in the pcap, truth "
                f"{truth[f'{p}_transactions']}")
    return flows


def check_latency(name, args, kind, truth):
    lat = [t["rsp_start_ns"] - t["req_end_ns"] for t in truth["transactions"]]
    spec = args[args.index("--latency") + 1].split(":")
    if kind == "fixed":
        e.check(set(lat) == {ns(spec[1])}, f"{name}: latencies "
                f"{sorted(set(lat))[:5]}, want {spec[1]} exactly")
    elif kind == "uniform":
        lo, hi = ns(spec[1]), ns(spec[2])
        e.check(all(lo <= x <= hi for x in lat) and
                max(lat) - min(lat) > (hi - lo) // 2,
                f"{name}: latencies {min(lat)}..{max(lat)} vs [{lo}, {hi}]")
    elif kind == "lognormal":
        med, sigma = ns(spec[1]), float(spec[2])
        m = statistics.median(lat)
        s = statistics.pstdev(math.log(x) for x in lat)
        e.check(abs(m / med - 1) < 0.15 and abs(s / sigma - 1) < 0.2,
                f"{name}: median {m} sigma {s:.3f}, want {med} {sigma}")
    elif kind == "exp":
        mean = ns(spec[1])
        m = statistics.mean(lat)
        e.check(abs(m / mean - 1) < 0.2 and min(lat) >= 0,
                f"{name}: mean {m}, want {mean}")
    else:
        # Pipelined requests queue behind each other: never faster than
        # the think time when it is fixed, never negative.
        floor = ns(spec[1]) if spec[0] == "fixed" else 0
        e.check(min(lat) >= floor, f"{name}: latency {min(lat)} < {floor}")


def check_tshark(name, pcap):
    if TSHARK is None:
        print(f"{name}: tshark missing, TCP analysis not checked")
        return
    out = e.run([TSHARK, "-r", pcap, "-Y", "tcp.analysis.flags", "-T",
                 "fields", "-e", "frame.number", "-e",
                 "_ws.expert.message"], check_rc=0).stdout.split("\n")
    flagged = [ln for ln in out if ln.strip()]
    e.check(not flagged, f"{name}: tshark flags {len(flagged)} frames: "
            f"{flagged[:5]}")


def check_wirelat(name, d, pcap, truth):
    inst = e.instance("gen-" + name)
    log, st = os.path.join(d, name + ".log"), os.path.join(d, name + ".st")
    e.wirelat(["--pcap", pcap, "--instance", inst, "--log", log,
               "--stats-json", st, "--no-report"], check_rc=0)
    e.remove_instance(inst)
    keys = ("proto", "client_ip", "client_port", "server_ip", "server_port",
            "method", "resource", "status", "req_start_ns", "req_end_ns",
            "rsp_start_ns", "rsp_end_ns", "req_bytes", "rsp_bytes")
    got = collections.Counter(tuple(t[k] for k in keys) for t in e.jsonl(log)
                              if t["proto"] in PROTOS)
    want = collections.Counter(tuple(t[k] for k in keys)
                               for t in truth["transactions"])
    e.check(got == want, f"{name}: wirelat has {sum(got.values())} "
            f"transactions, truth {sum(want.values())}; missing "
            f"{list((want - got).elements())[:2]}, extra "
            f"{list((got - want).elements())[:2]}")
    c = json.load(open(st))["counters"]
    for p in PROTOS:
        e.check(c[f"{p}_parse_errors"] == 0 and
                c[f"{p}_unmatched_requests"] == 0 and
                c[f"{p}_unmatched_responses"] == 0,
                f"{name}: {p} counters {c}")


def check_shape(name, args, flows, truth):
    """What the configuration asks for is in the capture."""
    tcp = [t for t in truth["transactions"] if t["proto"] != "dns"]
    if "--pipeline" in args and tcp:
        # Several requests share one segment.
        starts = collections.Counter((t["client_port"], t["req_start_ns"])
                                     for t in tcp)
        e.check(max(starts.values()) > 1, f"{name}: no shared segment")
    elif "--pipeline" in args:
        # DNS: queries overlap.
        by = collections.defaultdict(list)
        for t in truth["transactions"]:
            by[t["client_port"]].append((t["req_start_ns"],
                                         t["rsp_end_ns"]))
        e.check(any(b[0] < a[1] for v in by.values()
                    for a, b in zip(sorted(v), sorted(v)[1:])),
                f"{name}: no two queries in flight at once")
    if "--mss" in args:
        mss = int(args[args.index("--mss") + 1])
        lens = [len(s[5]) for segs in flows.values() for s in segs]
        e.check(max(lens) == mss, f"{name}: largest segment {max(lens)}")
    many = max(t["rsp_bytes"] for t in truth["transactions"]) > 10000
    if many:
        e.check(any(t["rsp_end_ns"] > t["rsp_start_ns"]
                    for t in truth["transactions"]),
                f"{name}: no response over several segments")
    # Every flow: SYN, SYN-ACK, ACK first; FIN both ways, a last ACK; the
    # connection record says when and how much.
    recs = {(c["client_ip"], c["client_port"]): c
            for c in truth["connections"]}
    for key, segs in flows.items():
        if segs[0][4] == "udp":
            continue
        fl = [s[4] for s in segs]
        e.check(fl[:3] == [0x02, 0x12, 0x10] and fl[-1] == 0x10 and
                sum(1 for f in fl if f & 1) == 2,
                f"{name} {key}: flags {fl[:3]}..{fl[-3:]}")
        r = recs.get((key[0], key[1]), {})
        got = {"syn_ns": segs[0][0], "synack_ns": segs[1][0],
               "ack_ns": segs[2][0], "end_ns": segs[-1][0],
               "c2s_packets": sum(1 for s in segs if s[1]),
               "s2c_packets": sum(1 for s in segs if not s[1]),
               "c2s_payload": sum(len(s[5]) for s in segs if s[1]),
               "s2c_payload": sum(len(s[5]) for s in segs if not s[1])}
        diff = {k: (v, r.get(k)) for k, v in got.items() if r.get(k) != v}
        e.check(not diff, f"{name} {key}: connection record {diff}")


def bad_options(d):
    out = os.path.join(d, "bad.pcap")
    cases = [
        ([], "--out"), (["-o"], "--out"),
        (["-o", out, "--proto", "ftp"], "--proto"),
        (["-o", out, "--proto", "http,http"], "--proto"),
        (["-o", out, "--proto", "redis,ftp"], "--proto"),
        (["-o", out, "--proto", "all", "--redis-port", "80"],
         "--redis-port"),
        (["-o", out, "--connections", "0"], "--connections"),
        (["-o", out, "--requests", "x"], "--requests"),
        (["-o", out, "--pipeline", "0"], "--pipeline"),
        (["-o", out, "--req-size", "9:3"], "--req-size"),
        (["-o", out, "--rsp-size", "99999999"], "--rsp-size"),
        (["-o", out, "--mss", "4"], "--mss"),
        (["-o", out, "--latency", "normal:1ms"], "--latency"),
        (["-o", out, "--latency", "uniform:2ms:1ms"], "--latency"),
        (["-o", out, "--latency", "lognormal:1ms:x"], "--latency"),
        (["-o", out, "--latency", "exp:0"], "--latency"),
        (["-o", out, "--latency", "fixed:1xs"], "--latency"),
        (["-o", out, "--rtt", "-5"], "--rtt"),
        (["-o", out, "--gap", "1.5"], None),   # valid: 1 ns
        (["-o", out, "--seed", "abc"], "--seed"),
        (["-o", out, "--start", "1e9"], "--start"),
        (["-o", out, "--snaplen", "10"], "--snaplen"),
        (["-o", out, "--http-port", "70000"], "--http-port"),
        (["-o", out, "--writes", "101"], "--writes"),
        (["-o", out, "--pipeline", "8", "--rsp-size", "16000000"],
         "--pipeline"),
        (["-o", out, "--no-such"], "--no-such"),
        (["-o", out, "--mss"], "--mss"),
        (["-o", out, "stray"], "stray"),
        (["-o", out, "--format", "pcapx"], "--format"),
        # The workload's times are ns: microseconds would move them.
        (["-o", out, "--format", "pcap"], "--format"),
        (["-o", out, "--link", "ppp"], "--link"),
        (["-o", out, "--scenario", "bogus"], "--scenario"),
        (["-o", out, "--packets", "10"], "--packets"),
        (["-o", out, "--format", "pcapng", "--link", "loop"], None),
    ]
    for args, opt in cases:
        p = e.run([GEN, "gen", "--requests", "1", "--connections", "1"]
                  + args)
        if opt is None:
            e.check(p.returncode == 0, f"{args}: exit {p.returncode} "
                    f"{p.stderr}")
            continue
        lines = p.stderr.splitlines()
        e.check(p.returncode == 2 and len(lines) == 1 and opt in lines[0],
                f"{args}: exit {p.returncode}, stderr {p.stderr!r}")
    # A scenario takes only the options it uses.
    for args, opt in (
            (["--scenario", "l7", "--requests", "3"], "--requests"),
            (["--scenario", "sample", "--latency", "1ms"], "--latency"),
            (["--scenario", "sample", "--packets", "5"], "--packets"),
            (["--scenario", "handshake", "--connections", "40000"],
             "--connections"),
            (["--scenario", "bench", "--proto", "http,redis"], "--proto"),
            (["--scenario", "bench", "--link", "sll"], "--link"),
            (["--scenario", "bench", "--pipeline", "65"], "--pipeline"),
            (["--scenario", "tcp-impair", "--format", "pcap", "--link",
              "loop", "--connections", "3"], None)):
        p = e.run([GEN, "gen", "-o", out] + args)
        lines = p.stderr.splitlines()
        if opt is None:
            e.check(p.returncode == 0, f"{args}: exit {p.returncode} "
                    f"{p.stderr}")
            continue
        e.check(p.returncode == 2 and len(lines) == 1 and opt in lines[0],
                f"{args}: exit {p.returncode}, stderr {p.stderr!r}")


def determinism(d):
    args = CONFIGS["mix-pipe8-mss200"][0][:-1]
    a, _ = gen(d, "det-a", args + ["100"])
    b, _ = gen(d, "det-b", args + ["100"])
    c, _ = gen(d, "det-c", args + ["101"])
    rd = lambda p: open(p, "rb").read()  # noqa: E731
    e.check(rd(a) == rd(b), "same seed, different pcap")
    ja, jb = json.load(open(a + ".json")), json.load(open(b + ".json"))
    e.check(ja == jb, "same seed, different truth")
    e.check(rd(a) != rd(c), "different seed, same pcap")
    # Scenarios too, in every format.
    for fmt in ("pcap", "pcap-ns", "pcapng"):
        sc = ["--scenario", "tcp-impair", "--format", fmt, "--seed"]
        a, ja = gen(d, "det-sa", sc + ["5"])
        b, jb = gen(d, "det-sb", sc + ["5"])
        c, _ = gen(d, "det-sc", sc + ["6"])
        e.check(rd(a) == rd(b) and ja == jb,
                f"{fmt}: same seed, different scenario output")
        e.check(rd(a) != rd(c), f"{fmt}: different seed, same scenario")


def snaplen(d):
    pcap, truth = gen(d, "snap", ["--snaplen", "100", "--connections", "3",
                                  "--requests", "10", "--seed", "3"])
    pkts = read_pcap(pcap)
    caplen = max(len(p[2]) for p in pkts)
    e.check(len(pkts) == truth["packets"] and
            sum(p[1] for p in pkts) == truth["bytes"] and caplen == 100,
            f"snaplen: {len(pkts)} packets, caplen {caplen}")


def link_format(d):
    """--format and --link change the framing only: the same transactions
    to the ns, packets and IP bytes as the Ethernet pcap-ns capture's,
    and wirelat finds exactly those."""
    args = CONFIGS["all"][0]
    _, base = gen(d, "lf-base", args)
    hdr = {"sll2": 20, "raw": 0, "null": 4}
    for fmt, link in (("pcapng", "sll2"), ("pcap-ns", "raw"),
                      ("pcapng", "null")):
        name = f"lf-{fmt}-{link}"
        pcap, truth = gen(d, name, args + ["--format", fmt, "--link", link])
        same = ("transactions", "connections", "packets", "ip_bytes")
        e.check(all(truth[k] == base[k] for k in same) and truth["bytes"] ==
                base["bytes"] + (hdr[link] - 14) * base["packets"],
                f"{name}: truth differs from the Ethernet pcap-ns one")
        check_wirelat(name, d, pcap, truth)


def bench(d):
    """--scenario bench (scripts/bench's capture), every protocol:
    records 1 us apart and as many as the truth says, every checksum
    right, one connection per SYN, and wirelat pairs every response
    in the capture with its request, without a parse error."""
    for p in PROTOS:
        name = f"bench-{p}"
        depth = 4 if p in ("http", "redis") else 1
        pcap, truth = gen(d, name, ["--scenario", "bench", "--proto", p,
                                    "--connections", "200", "--packets",
                                    "5000", "--pipeline", str(depth)])
        pkts = read_pcap(pcap)
        e.check(len(pkts) == truth["packets"] == 5000 and
                sum(o for _, o, _ in pkts) == truth["bytes"] and
                all(t == pkts[0][0] + 1000 * i
                    for i, (t, _, _) in enumerate(pkts)),
                f"{name}: {len(pkts)} records, truth {truth['packets']}")
        flows = decode(name, pkts)
        segs = [s for v in flows.values() for s in v]
        answers = sum(1 for s in segs if not s[1] and s[5]) * depth
        if p != "dns":
            syns = sum(1 for s in segs if s[4] == 0x02)
            e.check(syns == truth["connections_count"],
                    f"{name}: {syns} SYNs, truth "
                    f"{truth['connections_count']}")
        inst = e.instance("gen-" + name)
        log, st = os.path.join(d, name + ".log"), os.path.join(d, name + ".st")
        e.wirelat(["--pcap", pcap, "--instance", inst, "--log", log,
                   "--stats-json", st, "--no-report"], check_rc=0)
        e.remove_instance(inst)
        # syn_unanswered lines (no --connections) have no proto.
        got = sum(1 for t in e.jsonl(log) if t.get("proto") == p and
                  t["rsp_end_ns"] and t["req_start_ns"])
        c = json.load(open(st))["counters"]
        e.check(got == answers and c[f"{p}_parse_errors"] == 0,
                f"{name}: wirelat paired {got} of {answers} answers, "
                f"{c[f'{p}_parse_errors']} parse errors")


def main():
    if not os.path.exists(GEN):
        e.skip(f"{GEN} not built")
    d = e.tmpdir()
    for name, (args, kind) in CONFIGS.items():
        pcap, truth = gen(d, name, args)
        flows = check_stream(name, args, truth, pcap)
        check_latency(name, args, kind, truth)
        check_shape(name, args, flows, truth)
        check_tshark(name, pcap)
        check_wirelat(name, d, pcap, truth)
        print(f"{name}: {truth['packets']} packets, "
              f"{len(truth['transactions'])} transactions", flush=True)
    link_format(d)
    bench(d)
    bad_options(d)
    determinism(d)
    snaplen(d)
    e.finish()


if __name__ == "__main__":
    main()
