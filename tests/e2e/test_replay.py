# SPDX-License-Identifier: BSD-3-Clause
"""wirelat-replay through real DPDK vdevs: net_pcap TX files are checked
packet by packet (count, order, bytes), rates are checked from the
sender's own report and from the timestamps net_pcap wrote, flow split
and per-loop rewrite against the flows the test built, and bad input
gives one line and a non-zero exit."""

import collections
import json
import math
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402

SAMPLE = os.path.join(e.SRC, "tests", "data", "sample.pcap")


# ---- frames ----------------------------------------------------------------

def ip4(a):
    return bytes(int(x) for x in a.split("."))


def eth(payload, ethertype=0x0800, vlan=None):
    h = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
    if vlan is not None:
        h += struct.pack("!HH", 0x8100, vlan)
    return h + struct.pack("!H", ethertype) + payload


def ipv4_l4(src, dst, proto, l4):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64,
                      proto, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", e.csum(hdr)) + hdr[12:]
    return hdr + l4


def pseudo4(src, dst, proto, n):
    return ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, n)


def tcp4(src, sport, dst, dport, flags, seq=1, ack=0, payload=b"",
         vlan=None):
    t = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                    65535, 0, 0) + payload
    c = e.csum(pseudo4(src, dst, 6, len(t)) + t)
    t = t[:16] + struct.pack("!H", c) + t[18:]
    return eth(ipv4_l4(src, dst, 6, t), vlan=vlan)


def udp4(src, sport, dst, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = e.csum(pseudo4(src, dst, 17, len(u)) + u) or 0xffff
    u = u[:6] + struct.pack("!H", c) + u[8:]
    return eth(ipv4_l4(src, dst, 17, u))


def padded(n, seed):
    """An Ethernet frame of exactly n bytes (UDP payload filler)."""
    body = bytes((seed + i) & 0xff for i in range(max(0, n - 42)))
    f = udp4("10.9.0.1", 5000 + seed % 100, "10.9.0.2", 9, body)
    return f[:n] if len(f) > n else f


def frames_of(path):
    """[(ts_ns, frame)] of a capture."""
    return [(ts, fr) for ts, _, fr in e.read_pcap(path)[1]]


def replay(args, **kw):
    return e.run([e.REPLAY, "-q", *args], **kw)


def to_file(d, name, inputs, args, n_out=1):
    """Replay inputs into net_pcap files; returns (report, [frames...])."""
    outs = [os.path.join(d, f"{name}-{i}.pcap") for i in range(n_out)]
    js = os.path.join(d, name + ".json")
    vdevs = []
    for i, o in enumerate(outs):
        vdevs += ["--vdev", f"net_pcap{i},tx_pcap={o}"]
    replay([*args, *vdevs, "--stats-json", js, *inputs], check_rc=0)
    with open(js) as f:
        rep = json.load(f)
    return rep, [frames_of(o) for o in outs]


# ---- tests -----------------------------------------------------------------

def test_exact(d):
    """Count, order and bytes, preloaded and streamed, loops and limits,
    with a 9000-byte frame (chained mbufs) and 60-byte ones."""
    rnd = random.Random(1)
    sizes = [60, 1514, 9000, 64] + [rnd.randint(60, 1514) for _ in range(300)]
    mixed = os.path.join(d, "mixed.pcap")
    e.write_pcap(mixed, [(10**18 + i * 1000, padded(n, i))
                       for i, n in enumerate(sizes)])
    want = [f for _, f in frames_of(SAMPLE)] + [f for _, f in
                                                frames_of(mixed)]
    # The same frames from pcapng and microsecond pcap files, in sequence.
    ng = os.path.join(d, "mixed.pcapng")
    us = os.path.join(d, "mixed-us.pcap")
    e.run(["editcap", "-F", "pcapng", mixed, ng], check_rc=0)
    e.run(["editcap", "-F", "pcap", mixed, us], check_rc=0)
    rep, outs = to_file(d, "formats", [ng, us, SAMPLE], ["--topspeed"])
    m = [f for _, f in frames_of(mixed)]
    e.check([f for _, f in outs[0]] == m + m + want[:-len(m)],
            "pcapng + us pcap + pcap: frames differ")
    for mode in ("--preload", "--stream"):
        rep, outs = to_file(d, "exact", [SAMPLE, mixed],
                            [mode, "--topspeed"])
        got = [f for _, f in outs[0]]
        e.check(got == want, f"exact {mode}: {len(got)} frames differ from "
                f"the {len(want)} of the inputs")
        e.check(rep["packets"] == len(want) and
                rep["bytes"] == sum(map(len, want)),
                f"exact {mode}: report {rep['packets']} / {rep['bytes']}")
        rep, outs = to_file(d, "loop", [mixed], [mode, "--topspeed",
                                                 "--loop", "3"])
        got = [f for _, f in outs[0]]
        m = [f for _, f in frames_of(mixed)]
        e.check(got == m * 3, f"loop 3 {mode}: {len(got)} frames, "
                f"want {3 * len(m)} in order")
        e.check(rep["loops"] == 3, f"loop 3 {mode}: loops {rep['loops']}")
        rep, outs = to_file(d, "limit", [mixed], [mode, "--topspeed",
                                                  "--loop", "0",
                                                  "--limit", "1000"])
        got = [f for _, f in outs[0]]
        e.check(got == (m * 4)[:1000], f"limit {mode}: {len(got)} frames")


def test_big_preload(d):
    """A capture of 320k packets (220 MB, mostly 2 kB mbufs) preloaded
    without hugepages in the memory wirelat-replay sizes for itself."""
    pcap = os.path.join(d, "big.pcap")
    e.run([e.REPLAY, "gen", "-o", pcap, "--connections", "1000"],
          check_rc=0)
    js = os.path.join(d, "big.json")
    p = replay(["--topspeed", "--huge", "off", "--vdev", "net_null0",
                "--stats-json", js, pcap])
    e.check(p.returncode == 0, f"big preload: {p.stderr.strip()}")
    if p.returncode == 0:
        with open(js) as f:
            n = json.load(f)["packets"]
        e.check(n == len(e.read_pcap(pcap)[1]), f"big preload: {n} sent")
    os.unlink(pcap)


def test_max_late(d):
    """--max-late: a schedule no sender can keep (100 Mpps into net_null:
    every burst is late by more than 1 ns whatever the load) moves later
    instead of being caught up; every packet still goes, once, and the
    achieved rate is below the target by the slipped time. Without it
    the report says 0 slips."""
    pcap = os.path.join(d, "late.pcap")
    e.run([e.REPLAY, "gen", "-o", pcap, "--connections", "20",
           "--requests", "20"], check_rc=0)
    n = len(e.read_pcap(pcap)[1])
    for late in ("1ns", None):
        js = os.path.join(d, "late.json")
        p = replay(["--pps", "100M", "--loop", "4", "--huge", "off",
                    *(["--max-late", late] if late else []),
                    "--vdev", "net_null0", "--stats-json", js, pcap])
        e.check(p.returncode == 0, f"max-late {late}: {p.stderr.strip()}")
        if p.returncode != 0:
            continue
        with open(js) as f:
            r = json.load(f)
        e.check(r["packets"] == 4 * n and r["unsent"] == 0,
                f"max-late {late}: {r['packets']} of {4 * n} sent")
        if late:
            e.check(r["slips"] > 0 and r["slipped_ns"] > 0,
                    f"max-late {late}: no slip at 100 Mpps: {r}")
            e.check(r["rate_error"] < 0,
                    f"max-late {late}: rate error {r['rate_error']}")
            e.check("schedule moved later" in p.stdout,
                    f"max-late {late}: not in the summary: {p.stdout}")
        else:
            e.check(r["slips"] == 0 and r["slipped_ns"] == 0,
                    f"no max-late: slips {r['slips']}")
    os.unlink(pcap)


# ---- the schedule -----------------------------------------------------------
#
# Whether a packet leaves on time depends on the machine's load; what the
# replayer computed does not. The tests compare the schedule it logged
# (--schedule-log) with the one computed here, packet by packet, in the
# same integer arithmetic (docs/replay.md), and check what holds under
# any load: no packet leaves before its time, the frames that came out
# are the input's in order, and the report's figures are the log's.
# How close to its time each packet leaves is scripts/bench-replay's
# business.

NS = 10**9


def l1_bits(n):
    return (max(n, 60) + 24) * 8


def want_schedule(mode, lens, ts=None, segs=None, rate=0, l1=False,
                  burst=0, interval=0, mult_ppm=10**6, loop_gap=0):
    """Due times in ns after time 0 of packets with these lengths (and,
    for original timing, capture times and segment numbers: loop x files
    + file)."""
    out, bits = [], 0
    base = first = last = 0
    cur = None
    for i, n in enumerate(lens):
        if mode == "pps":
            t = i * NS // rate
        elif mode == "bps":
            t = bits * NS // rate
            bits += l1_bits(n) if l1 else n * 8
        elif mode == "burst":
            t = (i // burst) * interval
        else:
            if cur is None or segs[i] != cur:
                if cur is not None:
                    base = last + loop_gap * 10**6 // mult_ppm
                first, cur = ts[i], segs[i]
            rel = max(ts[i] - first, 0)
            last = base + rel * 10**6 // mult_ppm
            t = last
        out.append(t)
    return out


def read_log(path):
    """[(index, port, bytes, due_ns, sent_ns)] of a --schedule-log."""
    with open(path) as f:
        head = f.readline()
        e.check(head.startswith("# index port bytes due_ns sent_ns"),
                f"{path}: header {head!r}")
        return [tuple(int(x) for x in l.split()) for l in f]


def quantile(xs, q):
    """The value of rank ceil(q n) among sorted xs, as lib/hist ranks
    (the same double arithmetic)."""
    return xs[max(1, math.ceil(q * len(xs))) - 1]


def check_sched(what, rep, log, want_due, frames, want_frames, kind,
                l1=False):
    """The logged schedule equals want_due; no packet left early; the
    frames out are the input's; the report is the log's arithmetic."""
    e.check(len(log) == rep["packets"] == len(want_due),
            f"{what}: log {len(log)}, report {rep['packets']}, schedule "
            f"{len(want_due)} packets")
    e.check([x[0] for x in log] == list(range(len(log))),
            f"{what}: log indexes not 0..n-1")
    due = [x[3] for x in log]
    bad = [i for i, (a, b) in enumerate(zip(due, want_due)) if a != b]
    e.check(not bad and len(due) == len(want_due),
            f"{what}: {len(bad)} due times differ, first at "
            f"{bad[:1]}: {[(due[i], want_due[i]) for i in bad[:3]]}")
    early = [x for x in log if x[4] < x[3]]
    e.check(not early, f"{what}: {len(early)} packets left before their "
            f"time: {early[:3]}")
    e.check([f for _, f in frames] == want_frames,
            f"{what}: {len(frames)} frames out, {len(want_frames)} in "
            "(or order/bytes differ)")
    e.check([x[2] for x in log] == [len(f) for f in want_frames],
            f"{what}: logged lengths differ from the frames'")
    if len(log) < 2:
        return
    # The report's span is the TSC's, the log's the same TSC in whole ns.
    span = log[-1][4] - log[0][4]
    e.check(abs(rep["seconds"] * NS - span) <= 2,
            f"{what}: report {rep['seconds']} s, log span {span} ns")
    e.check(abs(rep["schedule_seconds"] * NS - due[-1]) <= 1e-6 * due[-1]
            + 1, f"{what}: schedule_seconds {rep['schedule_seconds']}, "
            f"last due {due[-1]}")
    if kind == "pps":
        n = len(log) - 1
        e.check(abs(rep["pps"] - n / rep["seconds"]) <= 1e-9 * rep["pps"],
                f"{what}: pps {rep['pps']} != {n} / {rep['seconds']}")
    else:
        key = "bps_l1" if l1 else "bps_l2"
        b = sum(l1_bits(x[2]) if l1 else x[2] * 8 for x in log[:-1])
        e.check(abs(rep[key] - b / rep["seconds"]) <= 1e-9 * rep[key],
                f"{what}: {key} {rep[key]} != {b} / {rep['seconds']}")
    want_err = due[-1] / span - 1 if span > 0 else None
    e.check(want_err is not None and rep["rate_error"] is not None and
            abs(rep["rate_error"] - want_err) <= 4 * (due[-1] / span) / span,
            f"{what}: rate_error {rep['rate_error']}, the log's {want_err}")
    errs = sorted(x[4] - x[3] for x in log)
    se = rep["send_error_ns"]
    e.check(abs(se["max"] - errs[-1]) <= 3,
            f"{what}: send error max {se['max']}, the log's {errs[-1]}")
    for k, q in (("p50", 0.5), ("p99", 0.99)):
        x = quantile(errs, q)
        e.check(abs(se[k] - x) <= x / 64 + 3,
                f"{what}: send error {k} {se[k]}, the log's {x}")
    print(f"{what}: {len(log)} packets, rate error {rep['rate_error']:+.6%}"
          f" (load-dependent, not checked), send error p50 {se['p50']} ns "
          f"max {se['max']} ns")


def to_file_log(d, name, inputs, args):
    """to_file() with a --schedule-log: (report, frames, log)."""
    lp = os.path.join(d, name + ".sched")
    rep, o = to_file(d, name, inputs, [*args, "--schedule-log", lp])
    return rep, o[0], read_log(lp)


def test_rates(d):
    rnd = random.Random(2)
    f2k = os.path.join(d, "f2k.pcap")
    t, recs = 10**18, []
    for i in range(2000):
        t += rnd.randint(100_000, 1_900_000)
        recs.append((t, padded(rnd.randint(60, 1514), i)))
    e.write_pcap(f2k, recs)
    frames = [f for _, f in recs]
    lens = [len(f) for f in frames]

    rep, o, log = to_file_log(d, "pps", [f2k], ["--pps", "10000", "--loop",
                                                "2"])
    check_sched("pps 10000", rep, log, want_schedule("pps", lens * 2,
                rate=10000), o, frames * 2, "pps")
    e.check(rep.get("target_pps") == 10000, f"pps: target {rep}")

    rep, o, log = to_file_log(d, "mbps", [f2k], ["--mbps", "40"])
    check_sched("mbps 40 L2", rep, log, want_schedule("bps", lens,
                rate=40 * 10**6), o, frames, "bps")
    e.check(rep.get("target_bps") == 40e6, "mbps: target_bps")
    rep, o, log = to_file_log(d, "mbpsl1", [f2k], ["--mbps", "40", "--l1"])
    check_sched("mbps 40 L1", rep, log, want_schedule("bps", lens,
                rate=40 * 10**6, l1=True), o, frames, "bps", l1=True)

    # Original timing x4 over 2 loops: each packet at its scaled capture
    # time, the second loop one mean gap after the first one's end.
    src = [ts for ts, _ in recs]
    gap = (src[-1] - src[0]) // (len(src) - 1)
    rep, o, log = to_file_log(d, "mult", [f2k], ["--multiplier", "4",
                                                 "--loop", "2"])
    check_sched("multiplier 4", rep, log, want_schedule(
        "orig", lens * 2, ts=src * 2, segs=[0] * 2000 + [1] * 2000,
        mult_ppm=4 * 10**6, loop_gap=gap), o, frames * 2, "pps")
    e.check(log[2000][3] - log[1999][3] == gap // 4 and
            log[1][3] == (src[1] - src[0]) // 4,
            f"multiplier 4: loop joint {log[2000][3] - log[1999][3]} ns")

    # Bursts of 8 every 2 ms.
    rep, o, log = to_file_log(d, "burst", [f2k], ["--burst", "8",
                                                  "--burst-interval", "2ms",
                                                  "--limit", "800"])
    check_sched("burst 8 / 2 ms", rep, log, want_schedule(
        "burst", lens[:800], burst=8, interval=2 * 10**6), o, frames[:800],
        "pps")

    # A 4-packet pcap looped 10 000 times at a low rate.
    tiny = os.path.join(d, "tiny.pcap")
    tf = [padded(n, i) for i, n in enumerate((60, 200, 1000, 1514))]
    e.write_pcap(tiny, [(10**18 + i * 7, f) for i, f in enumerate(tf)])
    rep, o, log = to_file_log(d, "tiny", [tiny], ["--pps", "20000",
                                                  "--loop", "10000"])
    check_sched("4 packets x 10000 at 20 kpps", rep, log, want_schedule(
        "pps", [len(f) for f in tf] * 10000, rate=20000), o, tf * 10000,
        "pps")
    e.check(rep["loops"] == 10000, f"tiny: loops {rep['loops']}")
    rep, o, log = to_file_log(d, "tinyb", [tiny], ["--mbps", "30", "--loop",
                                                   "2000"])
    check_sched("4 packets x 2000 at 30 Mbps", rep, log, want_schedule(
        "bps", [len(f) for f in tf] * 2000, rate=30 * 10**6), o, tf * 2000,
        "bps")

    # A first packet far larger than the rest delays the second one by
    # its own length (9000 bytes at 10 Mbps: 7.2 ms) and no more.
    big = os.path.join(d, "bigfirst.pcap")
    bf = [padded(9000 if i == 0 else 64, i) for i in range(1000)]
    e.write_pcap(big, [(10**18 + i, f) for i, f in enumerate(bf)])
    rep, o, log = to_file_log(d, "big", [big], ["--mbps", "10"])
    check_sched("9000-byte first packet, 10 Mbps", rep, log, want_schedule(
        "bps", [len(f) for f in bf], rate=10 * 10**6), o, bf, "bps")
    e.check(log[1][3] == 7_200_000 and log[2][3] == 7_200_000 + 51_200,
            f"big first: due {log[1][3]}, {log[2][3]} ns")

    # A limit and a stop in the middle of a loop log what was sent.
    rep, o, log = to_file_log(d, "lim", [f2k], ["--pps", "100000", "--loop",
                                                "3", "--limit", "4321"])
    check_sched("pps 100k, limit 4321 of 3 loops", rep, log, want_schedule(
        "pps", (lens * 3)[:4321], rate=100000), o, (frames * 3)[:4321],
        "pps")


def flows_capture(handshake):
    """TCP and UDP flows with known clients; with or without handshakes.
    Returns (recs, {frame index: 0 client->server / 1 server->client})."""
    rnd = random.Random(3)
    recs, want = [], {}
    t = 10**18
    servers = [("10.0.0.1", 80), ("10.0.0.2", 6379), ("10.0.0.3", 5432),
               ("10.0.0.4", 30000)]
    for c in range(24):
        sip, sport = servers[c % len(servers)]
        cip, cport = f"10.1.{c}.{c + 1}", 40000 + c
        if sport == 30000:
            cport = 50000 + c    # neither well known: the lower port serves
        pk = []
        if handshake:
            pk += [(0, 0x02), (1, 0x12), (0, 0x10)]
        pk += [(0, 0x18), (1, 0x18), (0, 0x18), (1, 0x18), (0, 0x11),
               (1, 0x11), (0, 0x10)]
        for i, (s2c, fl) in enumerate(pk):
            t += rnd.randint(1000, 50_000)
            pl = b"x" * rnd.randint(0, 300) if fl == 0x18 else b""
            if s2c:
                fr = tcp4(sip, sport, cip, cport, fl, payload=pl)
            else:
                fr = tcp4(cip, cport, sip, sport, fl, payload=pl)
            want[len(recs)] = s2c
            recs.append((t, fr))
    # DNS over UDP, and an ARP frame (not a flow: first port).
    for q in range(4):
        t += 10_000
        want[len(recs)] = 0
        recs.append((t, udp4("10.1.99.1", 33000 + q, "10.0.0.53", 53,
                             b"q" * 30)))
        t += 10_000
        want[len(recs)] = 1
        recs.append((t, udp4("10.0.0.53", 53, "10.1.99.1", 33000 + q,
                             b"a" * 60)))
    want[len(recs)] = 0
    recs.append((t + 1, eth(b"\0" * 28, 0x0806)))
    return recs, want


def test_split(d):
    for hs in (True, False):
        what = "split " + ("with handshakes" if hs else "mid-stream")
        recs, want = flows_capture(hs)
        cap = os.path.join(d, f"flows{int(hs)}.pcap")
        e.write_pcap(cap, recs)
        for mode in ("--preload", "--stream"):
            rep, outs = to_file(d, "split", [cap], [mode, "--topspeed"],
                                n_out=2)
            want_out = [[f for i, (_, f) in enumerate(recs)
                         if want[i] == k] for k in (0, 1)]
            for k in (0, 1):
                got = [f for _, f in outs[k]]
                e.check(got == want_out[k],
                        f"{what} {mode}: port {k} has {len(got)} frames, "
                        f"want {len(want_out[k])} (in order)")
            e.check(rep["ports"][0]["packets"] == len(want_out[0]) and
                    rep["ports"][1]["packets"] == len(want_out[1]),
                    f"{what} {mode}: report ports {rep['ports']}")


def parse4(f):
    """(src, sport, dst, dport, ok) of an Ethernet/IPv4 TCP/UDP frame;
    ok = every checksum verifies."""
    ip = f[14:]
    ihl = (ip[0] & 15) * 4
    tot = struct.unpack("!H", ip[2:4])[0]
    proto = ip[9]
    l4 = ip[ihl:tot]
    ok = e.csum(ip[:ihl]) == 0
    if proto == 17 and struct.unpack("!H", l4[6:8])[0] == 0:
        pass
    else:
        ok = ok and e.csum(ip[12:16] + ip[16:20] +
                         struct.pack("!BBH", 0, proto, len(l4)) + l4) == 0
    sport, dport = struct.unpack("!HH", l4[:4])
    return (int.from_bytes(ip[12:16], "big"), sport,
            int.from_bytes(ip[16:20], "big"), dport, ok)


def test_unique_ip(d):
    recs, want = flows_capture(True)
    recs = recs[:-1]      # no ARP: every frame a flow
    cap = os.path.join(d, "uniq.pcap")
    e.write_pcap(cap, recs)
    n = len(recs)
    for mode in ("--preload", "--stream"):
        rep, outs = to_file(d, "uniq", [cap], [mode, "--topspeed", "--loop",
                                               "3", "--unique-ip"])
        got = outs[0]
        e.check(len(got) == 3 * n, f"unique-ip {mode}: {len(got)} frames")
        bad = 0
        clients = set()
        for i, (_, f) in enumerate(got):
            loop, k = divmod(i, n)
            s0, sp0, d0, dp0, _ = parse4(recs[k][1])
            s, sp, dd, dp, ok = parse4(f)
            if want[k] == 0:
                exp = ((s0 + loop) & 0xffffffff, sp0, d0, dp0)
                clients.add((s, sp))
            else:
                exp = (s0, sp0, (d0 + loop) & 0xffffffff, dp0)
            if (s, sp, dd, dp) != exp or not ok:
                bad += 1
            if len(f) != len(recs[k][1]):
                bad += 1
        e.check(bad == 0, f"unique-ip {mode}: {bad} frames with a wrong "
                "address or checksum")
        e.check(len(clients) == 3 * 28, f"unique-ip {mode}: "
                f"{len(clients)} distinct clients, want 84")
        # wirelat sees three times the connections.
        out = os.path.join(d, "uniq-0.pcap")
        conns = os.path.join(d, "uniq.conns")
        e.wirelat(["--pcap", out, "--connections", conns, "--no-report",
                   "--instance", e.instance("replay")], check_rc=0)
        e.remove_instance(e.instance("replay"))
        tcp = [c for c in e.jsonl(conns) if c.get("server_port") != 53]
        e.check(len(tcp) == 3 * 24, f"unique-ip {mode}: wirelat saw "
                f"{len(tcp)} TCP connections, want 72")


def test_report_and_progress(d):
    js = os.path.join(d, "r.json")
    out = os.path.join(d, "r.pcap")
    # 3630 packets at 2000 pps: no less than 1.8 s (never early), nine
    # progress intervals; a watcher starved by load still prints three.
    p = e.run([e.REPLAY, "--pps", "2000", "--stats", "0.2", "--vdev",
               f"net_pcap0,tx_pcap={out}", "--stats-json", js, "--loop", "1",
               SAMPLE], check_rc=0)
    prog = [l for l in p.stderr.splitlines() if "packets" in l]
    e.check(len(prog) >= 3, f"progress: {len(prog)} lines in 1.8 s "
            f"({p.stderr!r})")
    with open(js) as f:
        rep = json.load(f)
    for k in ("packets", "bytes", "seconds", "pps", "bps_l2", "bps_l1",
              "target_pps", "rate_error", "send_error_ns"):
        e.check(k in rep, f"report: no {k}")
    for k in ("p50", "p99", "max"):
        e.check(isinstance(rep["send_error_ns"].get(k), int),
                f"report: send_error_ns.{k} = {rep['send_error_ns']}")
    e.check("target 2000.0 pps" in p.stdout, f"report text: {p.stdout!r}")
    # The report is a contract: every field is documented.
    with open(os.path.join(e.SRC, "docs", "replay.md")) as f:
        text = f.read()
    names = set(rep) | set(rep["send_error_ns"]) | set(rep["flows"]) | \
        set(rep["files"][0]) | set(rep["ports"][0])
    for k in sorted(names):
        e.check(f"`{k}`" in text, f"report field {k} not in docs/replay.md")


def memif_run(d, pcap, tag, replay_args=()):
    """pcap sent by wirelat-replay over net_memif into a live wirelat (the
    server, which starts first: the client connects once), wirelat's
    RX+parser lcore alone on one CPU, its collector and the sender on the
    other. @return (the replay's report, its schedule log, wirelat's final
    counters, its transaction log)."""
    sock = os.path.join(d, f"{tag}.sock")
    # A socket file (not an abstract one), so the test sees it appear.
    spec = f"socket={sock},socket-abstract=no"
    log = os.path.join(d, f"{tag}.log")
    stats = os.path.join(d, f"{tag}-stats.json")
    js = os.path.join(d, f"{tag}.json")
    sched = os.path.join(d, f"{tag}.sched")
    inst = e.instance("replay-memif")
    aff = sorted(os.sched_getaffinity(0))
    rp = None
    # The parser alone on a CPU: its RX waits are then what the machine's
    # other work makes them, not its own collector's time slices. The
    # sender's lateness does not count (each frame's send time is in its
    # schedule log).
    w = subprocess.Popen([e.WIRELAT, "--lcores",
                          f"0@{aff[0]},1@{aff[-1]}",
                          "--vdev", f"net_memif0,role=server,{spec}",
                          "--instance", inst, "--log", log, "--no-report",
                          "--stats-json", stats, "--status-interval", "0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    try:
        end = time.time() + 30
        while not os.path.exists(sock) and time.time() < end:
            time.sleep(0.05)
        # The sender keeps its end up (--linger) until wirelat has
        # stopped: DPDK's memif unmaps the rings when the peer goes,
        # racing a receiver that is still polling them.
        rp = subprocess.Popen([e.REPLAY, "-q", "--lcores", f"0@{aff[0]}",
                               "--linger", "60",
                               "--vdev", f"net_memif0,role=client,{spec}",
                               "--stats-json", js, "--schedule-log", sched,
                               *replay_args, pcap],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
        end = time.time() + 60
        while not os.path.exists(js) and rp.poll() is None and \
                time.time() < end:
            time.sleep(0.05)
        time.sleep(1)
    finally:
        w.send_signal(signal.SIGINT)
        _, err = w.communicate(timeout=30)
        e.remove_instance(inst)
        if rp is not None:
            rp.terminate()
            rerr = rp.communicate(timeout=30)[1]
    e.check(rp.returncode in (0, -signal.SIGTERM),
            f"memif: replay exit {rp.returncode}: {rerr}")
    e.check(w.returncode == 0, f"memif: wirelat exit {w.returncode}: {err}")
    with open(js) as f:
        rep = json.load(f)
    with open(stats) as f:
        counters = json.load(f)["counters"]
    return rep, read_log(sched), counters, e.jsonl(log)


# Transaction fields that identify one of gen's transactions.
TXN_KEY = ("proto", "client_ip", "client_port", "method", "resource",
           "status", "req_bytes", "rsp_bytes")
TXN_TIMES = ("req_start_ns", "req_end_ns", "rsp_start_ns", "rsp_end_ns")


def memif_time_check(want, got, first_ns, sched, bound):
    """Each of wirelat's transactions against the truth's, to the bound:
    its four timestamps (less the one clock offset between the two
    processes), its duration and its ttfb. The truth's times are the
    schedule's (original timing: due = capture time - the first's), each
    frame late by its own send error, which the schedule log holds.
    @return (largest deviation, transactions for which any other pairing
    within their connection would have been out of bound, transactions
    checked)."""
    sent = {}
    for _, _, _, due, snt in sched:
        e.check(due not in sent, f"memif: two frames due at {due} ns: the "
                "truth's times do not name one frame each")
        sent[due] = snt

    def sent_of(ns):
        e.check(ns - first_ns in sent, f"memif: no frame due at the "
                f"truth's {ns}")
        return sent[ns - first_ns]
    truth = collections.defaultdict(list)
    for t in want:
        truth[tuple(t[k] for k in TXN_KEY)].append(t)
    for v in truth.values():
        v.sort(key=lambda t: t["req_start_ns"])
    # Equal keys (gen makes none so far) pair in time order.
    matched = []
    for t in sorted(got, key=lambda t: t["req_start_ns"]):
        v = truth.get(tuple(t[k] for k in TXN_KEY))
        if v:
            w = v.pop(0)
            matched.append((t, w, {f: sent_of(w[f]) for f in TXN_TIMES}))
    # wirelat's clock minus the sender's is a constant plus each frame's
    # time to the queue and wait there, both >= 0: the least difference is
    # the constant to within the bound.
    off = min(t[f] - s[f] for t, _, s in matched for f in TXN_TIMES)
    worst = 0
    for t, w, s in matched:
        devs = [t[f] - s[f] - off for f in TXN_TIMES]
        devs.append(t["duration_ns"] - (s["rsp_end_ns"] - s["req_start_ns"]))
        devs.append(t["ttfb_ns"] - (s["rsp_start_ns"] - s["req_end_ns"]))
        dev = max(abs(x) for x in devs)
        worst = max(worst, dev)
        e.check(dev <= bound, f"memif: {t['method']} {t['resource']} of "
                f"{t['client_ip']}:{t['client_port']}: off the truth by "
                f"{devs} ns, bound {bound} ns")
    # What the times prove about pairing: another request of the
    # connection with this response moves req_start by the gap between
    # the two requests, another response moves rsp_end by theirs; beyond
    # twice the bound either is caught by the times alone.
    conn = collections.defaultdict(list)
    for t in want:
        conn[(t["client_ip"], t["client_port"])].append(t)
    proven = 0
    for _, w, _ in matched:
        others = [x for x in conn[(w["client_ip"], w["client_port"])]
                  if x is not w]
        if all(abs(x["req_start_ns"] - w["req_start_ns"]) > 2 * bound and
               abs(x["rsp_end_ns"] - w["rsp_end_ns"]) > 2 * bound
               for x in others):
            proven += 1
    return worst, proven, len(matched)


def test_memif(d):
    """A generated workload sent over net_memif into a live wirelat on
    this machine, in original timing: wirelat finds every transaction of
    the generator's truth, and each one's times equal the truth's (each
    frame late by the send error the sender logged for it) to a bound
    the run itself measured (docs/timing.md, "How long a frame waited"):
    load widens the bound, it never fails the test. With two CPUs and
    three polling lcores, wirelat's RX+parser gets one CPU, its
    collector and the sender share the other."""
    pcap, truth = os.path.join(d, "g.pcap"), os.path.join(d, "g.json")
    # Server think times of about 100 ms, one request at a time, so that
    # a response given to another request would be off by far more than
    # the bound of a moderately loaded machine (the test prints how many
    # transactions the times alone prove that way).
    e.run([e.REPLAY, "gen", "-o", pcap, "--truth", truth, "--connections",
           "20", "--requests", "12", "--latency", "lognormal:100ms:0.25",
           "--seed", "7"], check_rc=0)
    with open(truth) as f:
        tr = json.load(f)
    want = tr["transactions"]
    rep, sched, c, log = memif_run(d, pcap, "memif")
    n_in = len(e.read_pcap(pcap)[1])
    e.check(rep["packets"] == n_in and rep["unsent"] == 0,
            f"memif: report {rep['packets']} packets sent of {n_in}, "
            f"unsent {rep['unsent']}")
    e.check(c["packets"] == n_in and c["drops"] == 0,
            f"memif: wirelat received {c['packets']} of {n_in}, drops "
            f"{c['drops']}")
    got = [t for t in log if t.get("proto") in ("http", "redis")]
    e.check(collections.Counter(tuple(t[k] for k in TXN_KEY) for t in got) ==
            collections.Counter(tuple(t[k] for k in TXN_KEY) for t in want),
            f"memif: wirelat found {len(got)} transactions, the truth has "
            f"{len(want)} (or they differ)")
    # Frame f was handed to the port at its send time (the schedule
    # log's sent_ns: its due time plus its own send error, the TSC read
    # before the TX call), was in the peer's ring before that call
    # returned (<= tx_call_max_ns after), and waited there at most
    # rx_wait_max_ns before wirelat stamped it. So every timestamp, less
    # the one clock offset, and any difference of two, is the schedule's
    # to within the sum; 8 ns for the integer conversions between ns and
    # TSC ticks on both sides.
    bound = rep["tx_call_max_ns"] + c["rx_wait_max_ns"] + 8
    worst, proven, n = memif_time_check(want, got, tr["first_ns"], sched,
                                        bound)
    print(f"memif: {n} transactions; times within {worst} ns of the truth "
          f"(plus each frame's send error: max {rep['send_error_ns']['max']}"
          f" ns), bound {bound} ns (TX call max {rep['tx_call_max_ns']}, "
          f"RX wait max {c['rx_wait_max_ns']}); a wrong pairing within "
          f"its connection would have been out of bound for {proven} of "
          "them")


def af_packet_once(d, ns, cap, want_bytes):
    """Replay cap out of va; (frames tcpdump saw on vb, its drop count,
    the replayer's CompletedProcess). tcpdump writes each frame as it
    comes (-U) and is stopped once want_bytes are in its file, or after
    30 s: a stop while frames wait in its socket would lose them."""
    got = os.path.join(d, "af-got.pcap")
    td = subprocess.Popen(["ip", "netns", "exec", ns[1], "tcpdump",
                           "-i", "vb", "-s", "0", "-B", "16384", "-U",
                           "--immediate-mode", "-w", got, "-Q", "in"],
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    # tcpdump says "listening on" once its socket is open.
    line = td.stderr.readline()
    e.check("listening" in line, f"af_packet: tcpdump said {line!r}")
    p = e.run(["ip", "netns", "exec", ns[0], e.REPLAY, "-q", "--pps",
               "5000", "--vdev", "net_af_packet0,iface=va", cap])
    end = time.monotonic() + 30
    while time.monotonic() < end and (not os.path.exists(got) or
                                      os.path.getsize(got) < want_bytes):
        time.sleep(0.05)
    td.send_signal(signal.SIGINT)
    _, err = td.communicate(timeout=30)
    m = re.search(r"(\d+) packets? dropped by kernel", err)
    dropped = int(m.group(1)) if m else -1
    return [f for _, f in frames_of(got)], dropped, p


def test_af_packet(d):
    """Out of a kernel interface (net_af_packet on a veth whose peer is in
    a second namespace the test makes): tcpdump on the peer sees every
    frame, in order, byte for byte."""
    if os.geteuid() != 0:
        print("af_packet: not root, skipped")
        return
    tag = f"wlr{os.getpid() % 100000}"
    ns = [f"{tag}a", f"{tag}b"]

    def sh(*c):
        return subprocess.run(c, check=True, capture_output=True)
    try:
        for n in ns:
            sh("ip", "netns", "add", n)
            # No IPv6 autoconfiguration chatter among the frames.
            sh("ip", "netns", "exec", n, "sysctl", "-qw",
               "net.ipv6.conf.all.disable_ipv6=1",
               "net.ipv6.conf.default.disable_ipv6=1")
        sh("ip", "link", "add", "va", "netns", ns[0], "type", "veth",
           "peer", "name", "vb", "netns", ns[1])
        for n, dev in zip(ns, ("va", "vb")):
            sh("ip", "-n", n, "link", "set", dev, "up")
            sh("ip", "-n", n, "link", "set", "lo", "up")
        recs, _ = flows_capture(True)
        cap = os.path.join(d, "af.pcap")
        e.write_pcap(cap, recs)
        sent = [f for _, f in recs]
        # tcpdump on a loaded machine may drop frames (it says so): that
        # capture proves nothing, take it again.
        for attempt in range(3):
            seen, dropped, p = af_packet_once(
                d, ns, cap, 24 + sum(16 + len(f) for f in sent))
            if dropped == 0:
                break
            print(f"af_packet: tcpdump dropped {dropped}, capturing again")
        e.check(dropped == 0, f"af_packet: tcpdump dropped {dropped} "
                "frames in 3 attempts")
        e.check(p.returncode == 0, f"af_packet: replay failed {p.stderr}")
        e.check(seen == sent, f"af_packet: the peer saw {len(seen)} "
                f"frames, {len(sent)} sent (or they differ)")
    finally:
        for n in ns:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)


def one_error(args, want, what, rc=None):
    p = e.run([e.REPLAY, *args])
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    e.check(p.returncode != 0 and (rc is None or p.returncode == rc),
            f"{what}: exit {p.returncode}")
    e.check(len(lines) == 1, f"{what}: {len(lines)} lines: {lines}")
    e.check(lines and want in lines[0], f"{what}: {lines!r} lacks {want!r}")
    e.check("Sanitizer" not in p.stderr and "runtime error" not in p.stderr,
            f"{what}: sanitizer report")


def test_bad_input(d):
    out = ["--vdev", f"net_null0"]
    trunc = os.path.join(d, "trunc.pcap")
    with open(SAMPLE, "rb") as f:
        data = f.read()
    with open(trunc, "wb") as f:
        f.write(data[:len(data) // 2 + 7])
    junk = os.path.join(d, "junk.pcap")
    with open(junk, "wb") as f:
        f.write(b"this is not a capture file at all\n" * 4)
    raw = os.path.join(d, "raw.pcap")
    e.write_pcap(raw, [(10**18, eth(b"\0" * 50)[14:])], linktype=101)
    huge = os.path.join(d, "huge.pcap")
    e.write_pcap(huge, [(10**18, padded(100, 0)),
                      (10**18 + 1, padded(1000, 1) + b"\0" * 69000)])
    jumbo = os.path.join(d, "jumbo.pcap")
    e.write_pcap(jumbo, [(10**18, padded(9000, 0))])
    empty = os.path.join(d, "empty.pcap")
    e.write_pcap(empty, [])
    for args, want, what, rc in (
            ([*out, trunc], "trunc.pcap", "truncated file", 1),
            ([*out, junk], "not a pcap", "not a capture", 1),
            ([*out, raw], "link type", "raw IP link type", 1),
            ([*out, "--max-frame", "1518", jumbo], "above --max-frame",
             "oversized for --max-frame", 1),
            (["--vdev", "net_pcap0,tx_pcap=" + os.path.join(d, "x.pcap"),
              huge], "70000", "oversized for net_pcap", 1),
            ([*out, empty], "no packets", "empty file", 1),
            ([*out, os.path.join(d, "missing.pcap")], "missing.pcap",
             "missing file", 1),
            ([SAMPLE], "no output", "no output", 2),
            ([*out], "no input", "no input", 2),
            ([*out, "--pps", "10", "--topspeed", SAMPLE], "one speed mode",
             "two modes", 2),
            ([*out, "--pps", "0", SAMPLE], "--pps", "pps 0", 2),
            ([*out, "--pps", "fast", SAMPLE], "--pps", "pps word", 2),
            ([*out, "--mbps", "-3", SAMPLE], "--mbps", "mbps negative", 2),
            ([*out, "--l1", SAMPLE], "--l1", "l1 alone", 2),
            ([*out, "--burst", "4", SAMPLE], "--burst-interval",
             "burst without interval", 2),
            ([*out, "--burst", "4", "--burst-interval", "3 weeks", SAMPLE],
             "--burst-interval", "bad interval", 2),
            ([*out, "--pps", "10", "--max-late", "0", SAMPLE],
             "--max-late", "max-late 0", 2),
            ([*out, "--pps", "10", "--max-late", "soon", SAMPLE],
             "--max-late", "max-late word", 2),
            ([*out, "--bogus", SAMPLE], "--bogus", "unknown option", 2),
            ([*out, "--loop", SAMPLE, SAMPLE], "--loop", "loop word", 2),
            (["--vdev", "net_null0", "--vdev", "net_null1", "--vdev",
              "net_null2", SAMPLE], "at most two", "three outputs", 2),
            (["--port", "0000:77:00.0", SAMPLE], "0000:77:00.0",
             "no such port", 1),
    ):
        one_error(args, want, what, rc)


def main():
    if not os.path.exists(e.REPLAY):
        raise SystemExit(f"{e.REPLAY} not built")
    d = e.tmpdir()
    test_bad_input(d)
    test_exact(d)
    test_big_preload(d)
    test_max_late(d)
    test_split(d)
    test_unique_ip(d)
    test_report_and_progress(d)
    test_memif(d)
    test_af_packet(d)
    test_rates(d)
    e.finish()


if __name__ == "__main__":
    main()
