# SPDX-License-Identifier: BSD-3-Clause
"""The impairment harness: a `wirelat-replay gen` capture with its truth,
damaged the way span ports damage traffic (frames dropped, adjacent
frames swapped with their timestamps kept in place, frames duplicated a
little later), then wirelat's log scored against the truth.

Every message of a generated connection occupies a known byte range of
its direction's stream (requests, then responses, back to back, as the
truth lists them), and every frame carries a known range: so each frame
names the transactions it touches, and each timestamp wirelat reports
can be traced to the frames that carried it.

A logged transaction is, against the truth of the request it names
(the generator's resources are unique):
  exact      every time, size, method and status equal to the truth's;
  flagged    not exact, but carries a flag that says what it lacks, and
             each time it reports is the time of a frame that carried a
             byte of that very message;
  mispaired  its response (times or size) belongs to another request;
  wrong      anything else: an unflagged wrong number.
A truth transaction that wirelat never logged is missing.
"""

import collections
import math
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402

# Flags by which a transaction says its numbers are incomplete or its
# pairing unproven (docs/output.md); a flagged transaction is kept out
# of the duration histograms.
DOUBT = {"gap", "no_response", "no_request", "unpaired", "reordered",
         "truncated", "timeout", "evicted", "end_of_capture", "overflow",
         "closed"}
# Flags that keep a transaction out of the duration histograms
# (wl_txn_timed()): without them, and with a response end, its duration
# is recorded, so its first and last times must be right.
UNTIMED = {"no_response", "no_request", "unpaired", "overflow", "reordered"}


def timed(t):
    return not set(t.get("flags", ())) & UNTIMED and t["rsp_end_ns"] != 0 \
        and t["req_start_ns"] != 0


# ---- frames ----------------------------------------------------------------

def tcp_of(fr):
    """(src, sport, dst, dport, seq, ack, flags, payload_len) of an
    Ethernet/IPv4/TCP frame, None otherwise."""
    if len(fr) < 54 or fr[12:14] != b"\x08\x00" or fr[23] != 6:
        return None
    ihl = (fr[14] & 15) * 4
    tot = struct.unpack("!H", fr[16:18])[0]
    t = 14 + ihl
    sport, dport, seq, ack, off, fl = struct.unpack("!HHIIBB", fr[t:t + 14])
    plen = tot - ihl - (off >> 4) * 4
    return (fr[26:30], sport, fr[30:34], dport, seq, ack, fl, plen)


def udp_of(fr):
    """(src, sport, dst, dport, payload) of an Ethernet/IPv4/UDP frame,
    None otherwise."""
    if len(fr) < 42 or fr[12:14] != b"\x08\x00" or fr[23] != 17:
        return None
    t = 14 + (fr[14] & 15) * 4
    sport, dport, ln = struct.unpack("!HHH", fr[t:t + 6])
    return (fr[26:30], sport, fr[30:34], dport, fr[t + 8:t + ln])


def dns_qname(p):
    """The question name of a DNS message, as wirelat writes it."""
    o, out = 12, []
    while o < len(p) and p[o]:
        out.append(p[o + 1:o + 1 + p[o]].decode("ascii", "replace"))
        o += 1 + p[o]
    return ".".join(out)


def msg_ranges(truth):
    """{(txn, side): (start, end)}: each message's place in its
    direction's stream (requests, then responses, back to back in the
    truth's order; for UDP, where each datagram is one message, the same
    numbering stands in for offsets), and {conn: [txn indexes]}."""
    by_conn = collections.defaultdict(list)
    for i, t in enumerate(truth["transactions"]):
        by_conn[(t["client_ip"], t["client_port"])].append(i)
    ranges = {}
    for cp, idx in by_conn.items():
        idx.sort(key=lambda i: truth["transactions"][i]["index"])
        off = {"req": 0, "rsp": 0}
        for i in idx:
            t = truth["transactions"][i]
            for side in ("req", "rsp"):
                n = t[f"{side}_bytes"]
                ranges[(i, side)] = (off[side], off[side] + n)
                off[side] += n
    return ranges, by_conn


def stream_ranges(recs, truth):
    """For each frame index: the truth transaction indexes whose request
    or response bytes it carries, with the message's side ('req' or
    'rsp'). Also {(txn, side): (start, end)} stream offsets and
    {frame index: (client_port, side, start, end)}."""
    ranges, by_conn = msg_ranges(truth)
    fmap = {}
    for k, (cp, side, s, en) in payload_ranges(recs, truth):
        fmap[k] = (cp, side, s, en)
    touch = collections.defaultdict(set)
    for k, (cp, side, s, en) in fmap.items():
        for i in by_conn.get(cp, ()):
            a, b = ranges[(i, side)]
            if a < en and s < b:
                touch[k].add((i, side))
    return touch, ranges, fmap


def server_ports(truth):
    return {c["server_port"] for c in truth["connections"]}


def ip4(b):
    return ".".join(str(x) for x in b)


def isn_map(recs, truth):
    """{((client_ip, client_port), side): first payload seq} from the
    SYNs of a capture (the undamaged one: a damaged one may lack them)."""
    srv = server_ports(truth)
    isn = {}
    for ts, fr in recs:
        x = tcp_of(fr)
        if x is None or not x[6] & 0x02:
            continue
        if x[3] in srv:
            isn[((ip4(x[0]), x[1]), "req")] = x[4] + 1
        else:
            isn[((ip4(x[2]), x[3]), "rsp")] = x[4] + 1
    return isn


def payload_ranges(recs, truth, isn=None):
    """[(frame index, ((client_ip, client_port), side, start, end))] of
    the frames that carry payload: stream offsets from each direction's
    SYN (isn: isn_map() of the undamaged capture; default recs')."""
    srv = server_ports(truth) | {t["server_port"] for t in
                                 truth["transactions"]}
    if isn is None:
        isn = isn_map(recs, truth)
    ranges = dns = None
    out = []
    for k, (ts, fr) in enumerate(recs):
        x = tcp_of(fr)
        u = udp_of(fr) if x is None else None
        if u is not None:
            # A DNS datagram is one whole message: its question names
            # the transaction.
            if dns is None:
                ranges, _ = msg_ranges(truth)
                dns = {(t["client_ip"], t["client_port"], t["resource"]): i
                       for i, t in enumerate(truth["transactions"])
                       if t["proto"] == "dns"}
            if u[3] in srv:
                cp, side = (ip4(u[0]), u[1]), "req"
            else:
                cp, side = (ip4(u[2]), u[3]), "rsp"
            i = dns.get(cp + (dns_qname(u[4]),))
            if i is not None:
                out.append((k, (cp, side) + ranges[(i, side)]))
            continue
        if x is None or x[7] == 0:
            continue
        if x[3] in srv:
            cp, side = (ip4(x[0]), x[1]), "req"
        else:
            cp, side = (ip4(x[2]), x[3]), "rsp"
        if (cp, side) not in isn:
            continue
        s = (x[4] - isn[(cp, side)]) & 0xffffffff
        out.append((k, (cp, side, s, s + x[7])))
    return out


def impair(recs, seed, loss=0.0, swap=0.0, dup=0.0,
           dup_delay=(500, 20_000)):
    """Damage recs [(ts, frame)]: each frame dropped with probability
    loss; each adjacent pair swapped with probability swap (the frames
    trade places, each position keeps its timestamp); each surviving
    frame duplicated with probability dup, the copy dup_delay ns later
    (uniform), among the frames of that time.
    @return ([(ts, frame)], {original index: set of kinds}, copies)."""
    rnd = random.Random(seed)
    hit = collections.defaultdict(set)
    kept = []
    for i, (ts, fr) in enumerate(recs):
        if loss and rnd.random() < loss:
            hit[i].add("drop")
            continue
        kept.append([ts, fr, i])
    j = 0
    while swap and j + 1 < len(kept):
        if rnd.random() < swap:
            a, b = kept[j], kept[j + 1]
            a[1], b[1] = b[1], a[1]
            a[2], b[2] = b[2], a[2]
            hit[a[2]].add("swap")
            hit[b[2]].add("swap")
            j += 2
        else:
            j += 1
    out = []
    copies = 0
    for n, (ts, fr, i) in enumerate(kept):
        out.append((ts, n, fr))
        if dup and rnd.random() < dup:
            out.append((ts + rnd.randint(*dup_delay), n, fr))
            hit[i].add("dup")
            copies += 1
    out.sort(key=lambda x: (x[0], x[1]))
    return [(ts, fr) for ts, _, fr in out], hit, copies


def duplicate_all(recs, delay=1000):
    """Every frame twice, the copy delay ns later (a span session that
    mirrors both ports of a conversation)."""
    out = []
    for n, (ts, fr) in enumerate(recs):
        out.append((ts, n, 0, fr))
        out.append((ts + delay, n, 1, fr))
    out.sort()
    return [(ts, fr) for ts, _, _, fr in out]


# ---- scoring ---------------------------------------------------------------

def touched_txns(hit, touch):
    """Truth transaction indexes whose bytes ride in a damaged frame."""
    out = set()
    for k in hit:
        for i, _ in touch.get(k, ()):
            out.add(i)
    return out


def frame_times(recs, truth, isn):
    """{(conn, side, ts): [(start, end)]} of the frames that carry
    payload in the capture wirelat read."""
    out = collections.defaultdict(list)
    for k, (cp, side, s, en) in payload_ranges(recs, truth, isn):
        out[(cp, side, recs[k][0])].append((s, en))
    return out


FIELDS = ("req_start_ns", "req_end_ns", "rsp_start_ns", "rsp_end_ns",
          "req_bytes", "rsp_bytes", "method", "status")
TIMES = FIELDS[:4]


def tap_times(recs, truth, isn):
    """What the tap saw of each stream, as wirelat defines a byte's time
    (docs/timing.md): once every byte before it that was not lost had
    come, i.e. the latest of its own packet's time and those of the
    packets that carried the bytes before it since the last lost ones.
    @return {(conn, side): [(start, end, ts)]} of the bytes seen."""
    segs = collections.defaultdict(list)
    for k, (cp, side, s, en) in payload_ranges(recs, truth, isn):
        segs[(cp, side)].append((s, en, recs[k][0]))
    udp = {(t["client_ip"], t["client_port"]) for t in truth["transactions"]
           if t["proto"] == "dns"}
    out = {}
    for key, lst in segs.items():
        if key[0] in udp:
            # A datagram is its own time; the first copy counts.
            first = {}
            for s, en, ts in lst:
                first.setdefault((s, en), ts)
            out[key] = sorted((s, en, ts) for (s, en), ts in first.items())
            continue
        # Bytes no packet carried are lost: the stream goes on past them.
        seen = sorted((s, en) for s, en, _ in lst)
        lost, top = [], 0
        for s, en in seen:
            if s > top:
                lost.append((top, s))
            top = max(top, en)
        nxt, held, got, t_in = 0, [], [], 0

        def skip_lost():
            nonlocal nxt
            for a, b in lost:
                if a <= nxt < b:
                    nxt = b
        skip_lost()
        for s, en, ts in lst:
            if en <= nxt:
                continue
            if s > nxt:
                held.append((s, en, ts))
                continue
            # Capture time only grows: the latest so far is this one's.
            t_in = max(t_in, ts)
            got.append((nxt, en, t_in))
            nxt = en
            skip_lost()
            held.sort()
            while held and held[0][0] <= nxt:
                hs, he, hts = held.pop(0)
                if he > nxt:
                    t_in = max(hts, t_in)
                    got.append((nxt, he, t_in))
                    nxt = he
                    skip_lost()
        out[key] = got
    return out


def byte_time(tt, key, off):
    for s, en, ts in tt.get(key, ()):
        if s <= off < en:
            return ts
    return None


def score(truth, logged, recs, touched, protos=("http", "redis"),
          isn=None):
    """Classify every logged L7 transaction and every truth one (recs:
    the capture wirelat read; isn: isn_map() of the undamaged one). A
    touched transaction may also be "tap": every time the one the tap
    saw (tap_times()), sizes, method and status the truth's (a reorder
    that TCP cannot reveal moves times, and the tap's are then right).
    @return (Counter of (touched?, category), [examples of bad ones])."""
    tx = truth["transactions"]
    if isn is None:
        isn = isn_map(recs, truth)
    tt = tap_times(recs, truth, isn)

    def first(i):
        """Where a request's time starts: its first byte; a MySQL
        handshake's, the server's greeting (first of its response)."""
        side = "rsp" if tx[i]["method"] == "connect" else "req"
        return side, ranges[(i, side)][0]

    def tap_exact(t, i):
        tr = tx[i]
        conn = (tr["client_ip"], tr["client_port"])
        want = []
        for side in ("req", "rsp"):
            a, b = ranges[(i, side)]
            want += [byte_time(tt, (conn, side), a),
                     byte_time(tt, (conn, side), b - 1)]
        want[0] = byte_time(tt, (conn, first(i)[0]), first(i)[1])
        a = ranges[(i, "rsp")][0] + tr.get("greeting_bytes", 0)
        want[2] = byte_time(tt, (conn, "rsp"), a)
        return None not in want and [t[f] for f in TIMES] == want and \
            all(t.get(f) == tr[f] for f in FIELDS[4:])

    def duration_right(t, i):
        """The request's first byte and the response's last: the truth's
        or the tap's."""
        tr = tx[i]
        conn = (tr["client_ip"], tr["client_port"])
        side, a = first(i)
        _, b = ranges[(i, "rsp")]
        return (t["req_start_ns"], t["rsp_end_ns"]) in (
            (tr["req_start_ns"], tr["rsp_end_ns"]),
            (byte_time(tt, (conn, side), a),
             byte_time(tt, (conn, "rsp"), b - 1)))
    key = {(t["proto"], t["client_port"], t["resource"]): i
           for i, t in enumerate(tx)}
    ranges, _ = msg_ranges(truth)
    ft = frame_times(recs, truth, isn)

    def carried(t, side, which, i):
        """Was the logged time t[which] a frame carrying message i's
        `side` bytes?"""
        a, b = ranges[(i, side)]
        return any(s < b and a < en for s, en in
                   ft.get(((t["client_ip"], t["client_port"]), side,
                           t[which]), ()))

    cat = collections.Counter()
    bad = []
    seen = set()
    for t in logged:
        if t.get("proto") not in protos or t.get("type") == "connection":
            continue
        i = key.get((t["proto"], t["client_port"], t.get("resource")))
        flags = set(t.get("flags", ()))
        has_rsp = bool(t["rsp_start_ns"] or t["rsp_end_ns"])
        if i is None:
            # No request it names: an unmatched response is allowed when
            # it says so (no_request) and its times are some response's.
            if has_rsp and "no_request" not in flags:
                cat[("?", "wrong")] += 1
                bad.append(("no such request", t))
            else:
                cat[("?", "unmatched")] += 1
            continue
        seen.add(i)
        tr = tx[i]
        u = "touched" if i in touched else "clean"
        if all(t.get(f) == tr[f] for f in FIELDS) and not flags & DOUBT:
            cat[(u, "exact")] += 1
            continue
        if u == "touched" and not flags & DOUBT and tap_exact(t, i):
            cat[(u, "tap")] += 1
            continue
        # Whose response is it? Each reported response time must be a
        # frame carrying bytes of this request's own response.
        if has_rsp and not all(carried(t, "rsp", w, i) for w in
                               ("rsp_start_ns", "rsp_end_ns")
                               if t[w]):
            cat[(u, "mispaired")] += 1
            bad.append(("mispaired", t, tr))
            continue
        # A handshake's start is the greeting's (or, without it, the
        # client's first byte: docs/timing.md).
        if not all(carried(t, "req", w, i) or (
                w == "req_start_ns" and first(i)[0] == "rsp" and
                carried(t, "rsp", w, i))
                for w in ("req_start_ns", "req_end_ns") if t[w]):
            cat[(u, "wrong")] += 1
            bad.append(("request time", t, tr))
            continue
        if not flags & DOUBT:
            cat[(u, "wrong")] += 1
            bad.append(("unflagged", t, tr))
        elif timed(t) and not duration_right(t, i):
            # In a histogram: its duration must be the truth's or the
            # tap's, whatever its flags.
            cat[(u, "wrong")] += 1
            bad.append(("timed, wrong duration", t, tr))
        else:
            cat[(u, "flagged")] += 1
    for i, tr in enumerate(tx):
        if tr["proto"] in protos and i not in seen:
            cat[("touched" if i in touched else "clean", "missing")] += 1
    return cat, bad


def quantile(vals, q):
    """Nearest rank, as lib/hist ranks."""
    vals = sorted(vals)
    return vals[max(1, math.ceil(q * len(vals))) - 1]


def histogram_check(stats, logged, protos=("http", "redis")):
    """The duration series hold exactly the logged transactions whose
    duration is proven (timed()), with their durations (score() checks
    each of those is the truth's or the tap's): counts equal, percentiles
    within the histogram's 1%. @return a list of differences."""
    want = collections.defaultdict(list)
    for t in logged:
        if t.get("proto") not in protos or not timed(t):
            continue
        want[(t["proto"], t["server_port"], t["method"],
              t["status_class"])].append(t["duration_ns"])
    got = {(s["proto"], s["server_port"], s["method"], s["status_class"]): s
           for s in stats["series"]
           if s["metric"] == "duration" and s["proto"] in protos}
    diff = []
    for k in set(want) | set(got):
        w, s = want.get(k, []), got.get(k)
        if s is None or s["count"] != len(w):
            diff.append((k, "count", s and s["count"], len(w)))
            continue
        for q, f in ((0.5, "p50_ns"), (0.9, "p90_ns"), (0.99, "p99_ns")):
            x = quantile(w, q)
            if abs(s[f] - x) > x * 0.01 + 1:
                diff.append((k, f, s[f], x))
    return diff
