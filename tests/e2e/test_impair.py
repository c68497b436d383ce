# SPDX-License-Identifier: BSD-3-Clause
"""What a span port delivers, on generated traffic with exact truth
(wl_impair.py; HTTP, Redis and memcached connections in turn): frames
duplicated, reordered, stamped absurdly. Each
case runs the real wirelat over the damaged capture and scores its log
against the truth:

 - every frame twice (a span session mirroring both ports): the same
   transactions and connections as the clean capture, to the field, and
   pkt_duplicate equal to the copies;
 - one frame stamped a day ahead in the middle: the same transactions,
   ts_jump 1;
 - 1% of adjacent frames swapped and 1% duplicated, pipelined 1, 4 and
   16 deep: no transaction paired with another's response, no unflagged
   wrong number, every transaction no damage touched exact to the ns,
   every touched one exact, as the tap saw it, or flagged; and the
   duration histograms hold exactly the unflagged transactions, with
   their values;
 - the same with 1% of frames lost too: still nothing mispaired and no
   unflagged wrong number; what cannot be proven is flagged;
 - PostgreSQL and MySQL the same way at depth 1, 4 and 16, with floors
   of their own; DNS over UDP at depth 1, 4 and 16; PostgreSQL and MySQL
   on a clean pipeline 40 deep."""

import collections
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_impair as im  # noqa: E402

BAD = ("mispaired", "wrong", "missing")


def gen(d, name, *args):
    pcap, truth = os.path.join(d, name + ".pcap"), \
        os.path.join(d, name + ".json")
    e.run([e.REPLAY, "gen", "-o", pcap, "--truth", truth, *args],
          check_rc=0)
    with open(truth) as f:
        return [(ts, fr) for ts, _, fr in e.read_pcap(pcap)[1]], \
            json.load(f)


def run(d, name, recs):
    """wirelat over recs: (transactions, connections, stats)."""
    pcap = os.path.join(d, name + ".pcap")
    e.write_pcap(pcap, recs)
    log, conn, st = (os.path.join(d, f"{name}.{x}")
                     for x in ("log", "conn", "stats"))
    inst = e.instance("impair")
    e.wirelat(["--pcap", pcap, "--log", log, "--connections", conn,
               "--stats-json", st, "--no-report", "--instance", inst],
              check_rc=0)
    e.remove_instance(inst)
    with open(st) as f:
        return e.jsonl(log), e.jsonl(conn), json.load(f)


def same(a, b):
    """Records equal but for which lcore made them."""
    def norm(lst):
        return sorted(json.dumps({k: v for k, v in x.items()
                                  if k not in ("lcore", "flow_id")},
                                 sort_keys=True) for x in lst)
    return norm(a) == norm(b)


def test_duplicates(d, recs, clean):
    txns, conns, st = run(d, "dup-all", im.duplicate_all(recs))
    e.check(same(txns, clean[0]), "every frame twice: transactions differ "
            "from the clean capture's")
    e.check(same(conns, clean[1]), "every frame twice: connections differ")
    c = st["counters"]
    e.check(c["pkt_duplicate"] == len(recs),
            f"pkt_duplicate {c['pkt_duplicate']}, copies {len(recs)}")
    e.check(c["packets"] == 2 * len(recs), f"packets {c['packets']}")
    for k in ("flow_retrans_segs", "flow_gaps", "flow_ooo_segs"):
        e.check(c[k] == clean[2]["counters"][k],
                f"every frame twice: {k} {c[k]}, clean "
                f"{clean[2]['counters'][k]}")


def test_far_future(d, recs, clean):
    mid = len(recs) // 2
    # An unrelated UDP datagram, stamped a day after its neighbours.
    udp = struct.pack("!HHHH", 5555, 7777, 16, 0) + b"x" * 8
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64,
                     17, 0, bytes([10, 9, 9, 9]), bytes([10, 9, 9, 8]))
    fr = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp
    bad = recs[:mid] + [(recs[mid][0] + 86400 * 10**9, fr)] + recs[mid:]
    txns, _, st = run(d, "future", bad)
    e.check(same(txns, clean[0]), "a frame a day ahead changed the "
            "transactions")
    e.check(st["counters"]["ts_jump"] == 1,
            f"ts_jump {st['counters']['ts_jump']}")
    e.check(st["span_ns"] == clean[2]["span_ns"],
            f"traffic span {st['span_ns']}, clean {clean[2]['span_ns']}")


def test_damaged(d, recs, truth, what, seed, floor=1.0, protos=None,
                 also=(), **kw):
    """Damage recs, run wirelat, score. floor: the share of untouched
    transactions that must be exact; protos: those scored (PROTOS);
    also: counters that may account for a copy the flow's duplicate
    ring (its 8 latest packets) no longer held."""
    protos = protos or PROTOS
    bad, hit, copies = im.impair(recs, seed, **kw)
    txns, _, st = run(d, "damaged", bad)
    touch, _, _ = im.stream_ranges(recs, truth)
    touched = im.touched_txns(hit, touch)
    cat, wrong = im.score(truth, txns, bad, touched,
                          isn=im.isn_map(recs, truth), protos=protos)
    clean = sum(v for (u, c), v in cat.items() if u == "clean" and
                c != "missing" or (u, c) == ("clean", "missing"))
    exact = cat[("clean", "exact")]
    print(f"{what}: {len(touched)} of {len(truth['transactions'])} "
          f"transactions touched, {copies} copies; untouched exact "
          f"{exact / max(clean, 1):.2%}; " +
          ", ".join(f"{u} {c} {v}" for (u, c), v in sorted(cat.items())))
    for c in ("mispaired", "wrong"):
        n = cat[("clean", c)] + cat[("touched", c)] + cat[("?", c)]
        e.check(n == 0, f"{what}: {n} {c}: {wrong[:2]}")
    e.check(cat[("clean", "missing")] <= (1 - floor) * clean,
            f"{what}: {cat[('clean', 'missing')]} untouched transactions "
            "missing")
    e.check(exact >= floor * clean, f"{what}: {exact} of {clean} "
            f"untouched transactions exact, want {floor:.0%}")
    c = st["counters"]
    e.check(c["pkt_duplicate"] <= copies <= c["pkt_duplicate"] +
            sum(c[k] for k in also),
            f"{what}: pkt_duplicate {c['pkt_duplicate']}, "
            + ", ".join(f"{k} {c[k]}" for k in also) + f", copies {copies}")
    diff = im.histogram_check(st, txns, protos=protos)
    e.check(not diff, f"{what}: histograms differ: {diff[:3]}")


def test_depths(d, label, protos, conns, seeds, floors, also=()):
    """`gen` traffic of protos at each pipeline depth of floors, damaged
    by swaps and duplicates, then by loss too, and scored (test_damaged).
    seeds: what the gen seed, the first damage's and the second's add to
    the depth; floors: depth -> (floor without loss, floor with it)."""
    pre = f"{label} " if label else ""
    for depth, (floor, floor_loss) in floors.items():
        recs, truth = gen(d, f"{label or 'mix'}{depth}", "--connections",
                          str(conns), "--requests", "20", "--pipeline",
                          str(depth), "--seed", str(depth + seeds[0]),
                          "--proto", ",".join(protos))
        test_damaged(d, recs, truth, f"{pre}reorder + duplicates, "
                     f"pipeline {depth}", depth + seeds[1], floor=floor,
                     protos=protos, also=also, swap=0.01, dup=0.01)
        test_damaged(d, recs, truth, f"{pre}loss + reorder + duplicates, "
                     f"pipeline {depth}", depth + seeds[2],
                     floor=floor_loss, protos=protos, also=also,
                     loss=0.01, swap=0.01, dup=0.01)


def test_close_settles(d):
    """One Redis connection, 4 deep, its last request frame lost, then a
    clean close as the capture's last packets: the close (not the end
    of the capture, though the reorder window still held the hole)
    ends it, and its count settles the loss: every other transaction
    paired exactly, the lost request's answer alone (no_request, gap)."""
    recs, truth = gen(d, "settle", "--proto", "redis", "--connections",
                      "1", "--requests", "20", "--pipeline", "4",
                      "--req-size", "4:8", "--seed", "5")
    port = truth["transactions"][0]["server_port"]
    data = [k for k, (_, fr) in enumerate(recs)
            if (im.tcp_of(fr) or (0,) * 8)[3] == port and
            im.tcp_of(fr)[7] > 0]
    lost = data[-1]
    txns, conns, _ = run(d, "settle", recs[:lost] + recs[lost + 1:])
    e.check(len(conns) == 1 and conns[0]["end"] == "closed",
            f"close settles: connection {conns}")
    red = [t for t in txns if t["proto"] == "redis"]
    alone = [t for t in red if "no_request" in t["flags"]]
    paired = [t for t in red if not t["flags"]]
    e.check(len(alone) == 1 and "gap" in alone[0]["flags"] and
            len(paired) == len(truth["transactions"]) - 1,
            f"close settles: {len(paired)} paired, alone {alone}, "
            f"flagged {[t for t in red if t['flags'] and t not in alone]}")
    cat, _ = im.score(truth, txns, recs, set(), protos=("redis",))
    e.check(cat[("clean", "exact")] == len(paired) and
            cat[("clean", "missing")] == 1,
            f"close settles: {dict(cat)}")
    # Two requests lost apart (two unknowns, each region held at least
    # one): the count still settles both; and the tap saw the server's
    # FIN before the client's, which it acknowledges: the client still
    # closed first.
    fins = [k for k, (_, fr) in enumerate(recs)
            if (im.tcp_of(fr) or (0,) * 8)[6] & 1]
    bad = list(recs)
    a, b = fins[0], fins[1]
    bad[a], bad[b] = (recs[a][0], recs[b][1]), (recs[b][0], recs[a][1])
    first = data[len(data) // 2]
    bad = [r for k, r in enumerate(bad) if k not in (first, lost)]
    txns, conns, _ = run(d, "settle2", bad)
    red = [t for t in txns if t["proto"] == "redis"]
    alone = [t for t in red if "no_request" in t["flags"]]
    paired = [t for t in red if not t["flags"]]
    e.check(len(conns) == 1 and conns[0]["end"] == "closed" and
            len(alone) == 2 and all("gap" in t["flags"] for t in alone) and
            len(paired) == len(truth["transactions"]) - 2,
            f"close settles two: {len(paired)} paired, alone {alone}, "
            f"flagged {[t for t in red if t['flags'] and t not in alone]}")
    cat, _ = im.score(truth, txns, bad, set(), isn=im.isn_map(recs, truth),
                      protos=("redis",))
    e.check(cat[("clean", "exact")] == len(paired) and
            cat[("clean", "missing")] == 2,
            f"close settles two: {dict(cat)}")


def test_deep(d, proto):
    """A clean 40-deep pipeline: every transaction is timed (requests wait
    in the matcher's per-lcore pool, not a per-connection queue) with the
    four times of the truth's; the histograms hold exactly those."""
    recs, truth = gen(d, f"deep-{proto}", "--connections", "20",
                      "--requests", "60", "--pipeline", "40",
                      "--rsp-size", "64:512", "--proto", proto)
    txns, _, st = run(d, "deep", recs)
    key = ("client_ip", "client_port") + im.FIELDS[:4]
    want = collections.Counter(tuple(t[k] for k in key)
                               for t in truth["transactions"])
    got = collections.Counter(tuple(t[k] for k in key) for t in txns
                              if t["proto"] == proto and im.timed(t))
    wrong = list((got - want).elements())
    ovf = sum(1 for t in txns if "overflow" in t.get("flags", ()))
    print(f"{proto} 40 deep: {sum(got.values())} of "
          f"{len(truth['transactions'])} timed, {ovf} overflow")
    e.check(not wrong and got, f"{proto} 40 deep: {len(wrong)} timed "
            f"transactions with another's times: {wrong[:2]}")
    e.check(ovf == 0 and got == want, f"{proto} 40 deep: {ovf} "
            f"overflow, {sum(got.values())} timed")
    diff = im.histogram_check(st, txns, protos=(proto,))
    e.check(not diff, f"{proto} 40 deep: histograms differ: {diff[:3]}")


# The protocols `wirelat-replay gen` makes that pair on the shared
# matcher (PostgreSQL too, apart for its own floors).
PROTOS = ("http", "redis", "memcached")
PG = ("postgresql",)
MY = ("mysql",)


def main():
    if not os.path.exists(e.REPLAY):
        raise SystemExit(f"{e.REPLAY} not built")
    d = e.tmpdir()
    recs, truth = gen(d, "mix", "--connections", "200", "--requests", "20")
    clean = run(d, "clean", recs)
    cat, _ = im.score(truth, clean[0], recs, set())
    e.check(cat[("clean", "exact")] == len(truth["transactions"]),
            f"clean capture: {dict(cat)}")
    test_duplicates(d, recs, clean)
    test_far_future(d, recs, clean)
    # With loss, what cannot be proven is flagged, never guessed: a lost
    # request and later a lost response on one connection leave two
    # pairings that TCP cannot tell apart, even at a clean close
    # (timing.md, "Pairing after loss"). Measured 98.1, 98.0 and 99.3%.
    test_depths(d, "", PROTOS, 300, (0, 0, 100),
                {1: (1.0, 0.975), 4: (1.0, 0.975), 16: (1.0, 0.99)})
    # PostgreSQL on the matcher: after a server-side loss the parser
    # finds its way at the next ReadyForQuery, so the answer after the
    # lost bytes is lost to it too (timing.md, PostgreSQL). Measured
    # 96.9, 95.3 and 96.7% (its own pairing before: 84 and 81%).
    test_depths(d, "postgresql", PG, 150, (30, 200, 300),
                {1: (1.0, 0.965), 4: (1.0, 0.95), 16: (1.0, 0.965)})
    # MySQL on the matcher too: after a server-side loss, framing is
    # found again at the next answer's first packet, and a statement's
    # verb rules out answers (a SELECT's is a result set). Measured 99.4,
    # 95.9 and 99.9%: 4 deep, a lost command and a later lost answer
    # leave counts TCP cannot tell apart.
    test_depths(d, "mysql", MY, 120, (40, 400, 500),
                {1: (1.0, 0.99), 4: (1.0, 0.955), 16: (1.0, 0.995)})
    # DNS over UDP pairs by id and question: a loss costs only its own
    # transaction. 16 queries sent at once put more than the 8 packets
    # the duplicate ring keeps between a query and its copy: such a copy
    # is then the client's retransmission, or a duplicate answer (or,
    # past the 8 answers it remembers, an unmatched one), to DNS.
    test_depths(d, "dns", ("dns",), 150, (60, 600, 700),
                {1: (1.0, 1.0), 4: (1.0, 1.0), 16: (1.0, 1.0)},
                also=("dns_retransmits", "dns_duplicates",
                      "dns_unmatched_responses"))
    test_close_settles(d)
    test_deep(d, "postgresql")
    test_deep(d, "mysql")
    e.finish()


if __name__ == "__main__":
    main()
