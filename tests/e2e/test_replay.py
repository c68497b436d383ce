# SPDX-License-Identifier: BSD-3-Clause
"""wirelat-replay through real DPDK vdevs: net_pcap TX files are checked
packet by packet (count, order, bytes), rates are checked from the
sender's own report and from the timestamps net_pcap wrote, flow split
and per-loop rewrite against the flows the test built, and bad input
gives one line and a non-zero exit."""

import collections
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402

SAMPLE = os.path.join(e.SRC, "tests", "data", "sample.pcap")
TOL = 1e-3          # the 0.1%


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


def span_rate(frames, lo=0, hi=None):
    """(ts span in ns, frames) between indices lo and hi (inclusive)."""
    hi = len(frames) - 1 if hi is None else hi
    return frames[hi][0] - frames[lo][0]


def check_rate(what, rep, frames, target, kind, l1=False):
    """Rate from the report and from the written timestamps, both within
    0.1% of the target; kind 'pps' or 'bps'."""
    err = rep["rate_error"]
    e.check(err is not None and abs(err) < TOL,
            f"{what}: report rate_error {err}")
    e.check(rep["send_error_ns"]["p50"] is not None,
            f"{what}: no send error percentiles")
    span = span_rate(frames) / 1e9
    if kind == "pps":
        got = (len(frames) - 1) / span
    else:
        def bits(f):
            n = len(f)
            return ((max(n, 60) + 24) * 8) if l1 else n * 8
        got = sum(bits(f) for _, f in frames[:-1]) / span
    rel = got / target - 1
    e.check(abs(rel) < TOL, f"{what}: file says {got:.1f} {kind}, target "
            f"{target} ({rel:+.5%})")
    print(f"{what}: report {err:+.6%}, file {rel:+.6%}, send error p50 "
          f"{rep['send_error_ns']['p50']} ns p99 "
          f"{rep['send_error_ns']['p99']} ns")
    return rel


def test_rates(d):
    rnd = random.Random(2)
    f2k = os.path.join(d, "f2k.pcap")
    t, recs = 10**18, []
    for i in range(2000):
        t += rnd.randint(100_000, 1_900_000)
        recs.append((t, padded(rnd.randint(60, 1514), i)))
    e.write_pcap(f2k, recs)

    rep, o = to_file(d, "pps", [f2k], ["--pps", "10000", "--loop", "2"])
    e.check(len(o[0]) == 4000, f"pps: {len(o[0])} frames")
    check_rate("pps 10000", rep, o[0], 10000, "pps")
    e.check(rep.get("target_pps") == 10000, f"pps: target {rep}")

    rep, o = to_file(d, "mbps", [f2k], ["--mbps", "40"])
    check_rate("mbps 40 L2", rep, o[0], 40e6, "bps")
    e.check(rep.get("target_bps") == 40e6, "mbps: target_bps")
    rep, o = to_file(d, "mbpsl1", [f2k], ["--mbps", "40", "--l1"])
    check_rate("mbps 40 L1", rep, o[0], 40e6, "bps", l1=True)

    # Original timing x4: the file's 2 s come out in 0.5 s, packet by
    # packet, and looping keeps the rate (one mean gap between loops).
    rep, o = to_file(d, "mult", [f2k], ["--multiplier", "4", "--loop", "2"])
    src = [ts for ts, _ in recs]
    span_src = src[-1] - src[0]
    mean_gap = span_src // (len(src) - 1)
    want_span = (2 * span_src + mean_gap) / 4
    got_span = span_rate(o[0])
    e.check(abs(got_span / want_span - 1) < TOL,
            f"multiplier 4: span {got_span} ns, want {want_span:.0f}")
    e.check(abs(rep["rate_error"]) < TOL,
            f"multiplier 4: rate_error {rep['rate_error']}")
    # Each packet at its scaled capture time; a busy VM may preempt the
    # sender now and then, so 99% of them, and the rest within 50 ms.
    off = sorted(abs((o[0][i][0] - o[0][0][0]) - (src[i] - src[0]) / 4)
                 for i in range(len(src)))
    e.check(off[int(len(off) * 0.99)] < 1_000_000 and off[-1] < 50_000_000,
            f"multiplier 4: packets off their scaled capture time by "
            f"{off[int(len(off) * 0.99)]:.0f} ns (p99), {off[-1]:.0f} (max)")

    # Bursts of 8 every 2 ms.
    rep, o = to_file(d, "burst", [f2k], ["--burst", "8", "--burst-interval",
                                         "2ms", "--limit", "800"])
    f = o[0]
    e.check(len(f) == 800, f"burst: {len(f)} frames")
    starts = [f[i][0] for i in range(0, 800, 8)]
    gap = (starts[-1] - starts[0]) / (len(starts) - 1)
    e.check(abs(gap / 2e6 - 1) < TOL, f"burst: bursts {gap:.0f} ns apart")
    inner = max(f[i + 7][0] - f[i][0] for i in range(0, 800, 8))
    e.check(inner < 1_000_000, f"burst: a burst spread over {inner} ns")
    e.check(abs(rep["rate_error"]) < TOL, f"burst: {rep['rate_error']}")

    # A 4-packet pcap looped 10 000 times at a low rate.
    tiny = os.path.join(d, "tiny.pcap")
    e.write_pcap(tiny, [(10**18 + i * 7, padded(n, i))
                      for i, n in enumerate((60, 200, 1000, 1514))])
    rep, o = to_file(d, "tiny", [tiny], ["--pps", "20000", "--loop",
                                         "10000"])
    e.check(len(o[0]) == 40000, f"tiny: {len(o[0])} frames")
    check_rate("4 packets x 10000 at 20 kpps", rep, o[0], 20000, "pps")
    rep, o = to_file(d, "tinyb", [tiny], ["--mbps", "30", "--loop", "2000"])
    check_rate("4 packets x 2000 at 30 Mbps", rep, o[0], 30e6, "bps")

    # A first packet far larger than the rest: it delays the second one
    # by its own length, and does not distort the rate.
    big = os.path.join(d, "bigfirst.pcap")
    e.write_pcap(big, [(10**18 + i, padded(9000 if i == 0 else 64, i))
                     for i in range(1000)])
    rep, o = to_file(d, "big", [big], ["--mbps", "10"])
    check_rate("9000-byte first packet, 10 Mbps", rep, o[0], 10e6, "bps")
    first_gap = o[0][1][0] - o[0][0][0]
    e.check(abs(first_gap - 7_200_000) < 100_000,
            f"big first: second packet {first_gap} ns after the first, "
            "want 7.2 ms (9000 bytes at 10 Mbps)")


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
        tcp = [c for c in e.jsonl(conns) if c.get("server_port") != 53]
        e.check(len(tcp) == 3 * 24, f"unique-ip {mode}: wirelat saw "
                f"{len(tcp)} TCP connections, want 72")


def test_report_and_progress(d):
    js = os.path.join(d, "r.json")
    out = os.path.join(d, "r.pcap")
    p = e.run([e.REPLAY, "--pps", "4000", "--stats", "0.2", "--vdev",
               f"net_pcap0,tx_pcap={out}", "--stats-json", js, "--loop", "1",
               SAMPLE], check_rc=0)
    prog = [l for l in p.stderr.splitlines() if "packets" in l]
    e.check(len(prog) >= 3, f"progress: {len(prog)} lines in 0.9 s "
            f"({p.stderr!r})")
    with open(js) as f:
        rep = json.load(f)
    for k in ("packets", "bytes", "seconds", "pps", "bps_l2", "bps_l1",
              "target_pps", "rate_error", "send_error_ns"):
        e.check(k in rep, f"report: no {k}")
    for k in ("p50", "p99", "max"):
        e.check(isinstance(rep["send_error_ns"].get(k), int),
                f"report: send_error_ns.{k} = {rep['send_error_ns']}")
    e.check("target 4000.0 pps" in p.stdout, f"report text: {p.stdout!r}")
    # The report is a contract: every field is documented.
    with open(os.path.join(e.SRC, "docs", "replay.md")) as f:
        text = f.read()
    names = set(rep) | set(rep["send_error_ns"]) | set(rep["flows"]) | \
        set(rep["files"][0]) | set(rep["ports"][0])
    for k in sorted(names):
        e.check(f"`{k}`" in text, f"report field {k} not in docs/replay.md")


def test_memif(d):
    """A generated workload sent over net_memif into a live wirelat on
    this machine, in original timing: wirelat finds every transaction of
    the generator's truth. With two CPUs and three polling lcores
    (wirelat's RX and collector, the sender), wirelat gets one CPU for
    both of its lcores and the sender the other: the sender keeps its
    schedule, while wirelat's TSC timestamps at RX carry its own
    time-slicing, so durations are printed, not compared."""
    pcap, truth = os.path.join(d, "g.pcap"), os.path.join(d, "g.json")
    e.run([e.REPLAY, "gen", "-o", pcap, "--truth", truth, "--connections",
           "20", "--requests", "30", "--pipeline", "4", "--seed", "7"],
          check_rc=0)
    with open(truth) as f:
        want = json.load(f)["transactions"]
    sock = os.path.join(d, "memif.sock")
    # A socket file (not an abstract one), so the test sees it appear.
    spec = f"socket={sock},socket-abstract=no"
    log = os.path.join(d, "memif.log")
    inst = e.instance("replay-memif")
    aff = sorted(os.sched_getaffinity(0))
    rp = None
    w = subprocess.Popen([e.WIRELAT, "--lcores",
                          f"0@{aff[-1]},1@{aff[-1]}",
                          "--vdev", f"net_memif0,role=server,{spec}",
                          "--instance", inst, "--log", log, "--no-report",
                          "--status-interval", "0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    try:
        # The memif client connects once, at start: after the server.
        end = time.time() + 30
        while not os.path.exists(sock) and time.time() < end:
            time.sleep(0.05)
        js = os.path.join(d, "memif.json")
        # The sender keeps its end up (--linger) until wirelat has
        # stopped: DPDK's memif unmaps the rings when the peer goes,
        # racing a receiver that is still polling them.
        rp = subprocess.Popen([e.REPLAY, "-q", "--lcores",
                               f"0@{aff[0]},1@{aff[0]}", "--linger", "60",
                               "--vdev", f"net_memif0,role=client,{spec}",
                               "--stats-json", js, pcap],
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
    e.check(rep["packets"] > 0 and abs(rep["rate_error"]) < TOL and
            rep["send_error_ns"]["p50"] < 20_000,
            f"memif: report {rep['packets']} packets, rate error "
            f"{rep['rate_error']}, send error {rep['send_error_ns']}")
    keys = ("proto", "client_ip", "client_port", "method", "resource",
            "status", "req_bytes", "rsp_bytes")
    got = [t for t in e.jsonl(log) if t["proto"] in ("http", "redis")]
    e.check(collections.Counter(tuple(t[k] for k in keys) for t in got) ==
            collections.Counter(tuple(t[k] for k in keys) for t in want),
            f"memif: wirelat found {len(got)} transactions, the truth has "
            f"{len(want)} (or they differ)")
    dur = {}
    for t in want:
        dur.setdefault(tuple(t[k] for k in keys), []).append(
            t["rsp_end_ns"] - t["req_start_ns"])
    off = []
    for t in got:
        ws = dur.get(tuple(t[k] for k in keys))
        if ws:
            off.append(min(abs(t["duration_ns"] - x) for x in ws))
    off.sort()
    if off:
        print(f"memif: {len(got)} transactions, send error p50 "
              f"{rep['send_error_ns']['p50']} ns; wirelat's durations vs "
              f"the truth: p50 {off[len(off) // 2]} ns, max {off[-1]} ns")


def test_af_packet(d):
    """Out of a kernel interface (net_af_packet on a veth whose peer is in
    a second namespace the test makes): tcpdump on the peer sees every
    frame, in order, byte for byte, at the rate asked."""
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
        got = os.path.join(d, "af-got.pcap")
        td = subprocess.Popen(["ip", "netns", "exec", ns[1], "tcpdump",
                               "-i", "vb", "-s", "0", "-B", "16384",
                               "--immediate-mode", "-w", got, "-Q", "in"],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        js = os.path.join(d, "af.json")
        p = e.run(["ip", "netns", "exec", ns[0], e.REPLAY, "-q", "--pps",
                   "5000", "--vdev", "net_af_packet0,iface=va",
                   "--stats-json", js, cap])
        time.sleep(0.5)
        td.send_signal(signal.SIGINT)
        _, err = td.communicate(timeout=10)
        e.check(p.returncode == 0, f"af_packet: replay failed {p.stderr}")
        sent = [f for _, f in recs]
        seen = [f for _, f in frames_of(got)]
        e.check(seen == sent, f"af_packet: the peer saw {len(seen)} "
                f"frames, {len(sent)} sent (or they differ)")
        with open(js) as f:
            rep = json.load(f)
        e.check(abs(rep["rate_error"]) < TOL, f"af_packet: rate error "
                f"{rep['rate_error']}")
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
    test_split(d)
    test_unique_ip(d)
    test_report_and_progress(d)
    test_memif(d)
    test_af_packet(d)
    test_rates(d)
    e.finish()


if __name__ == "__main__":
    main()
