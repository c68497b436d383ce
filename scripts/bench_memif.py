# SPDX-License-Identifier: BSD-3-Clause
"""The appliance benchmark of scripts/bench (not a test): --memif, --compare.

  scripts/bench --memif [--workload W ...] [--step-seconds S]
                [--resolution F] [--connections N] [--memif-connections N]
                [--requests N] [--runs N] [--ring-log2 N] [--max-pps N]
                [--no-unique-ip] [--no-compare] [--build DIR]
  scripts/bench --compare [--workload W ...] [--connections N]
                [--requests N] [--runs N] [--build DIR]

Per workload (the eight L7 workloads of scripts/bench: a protocol and a
pipelining depth), `wirelat-replay gen` writes a capture and its truth
(complete connections, every transaction listed) into /dev/shm. Then:

1. file mode: `wirelat --pcap` on it, best of --runs: Mpps from the
   parser lcore's busy cycles, as scripts/bench measures; every
   transaction count must equal the truth's;
2. side by side (unless --no-compare): ndpiReader and tshark, when
   installed, on the same capture, pinned to the CPU of wirelat's parser;
   packets/s from the least wall time less the least of the same tool on
   a one-packet capture (its start-up), of --runs (tshark: one); wirelat
   measured the same way; the ratio wirelat / tool;
3. the zero-loss search (--memif), on a smaller capture of the same kind
   (--memif-connections): wirelat-replay sends it over net_memif into a
   running wirelat, two processes as two boxes would be, at a fixed
   offered rate for about --step-seconds (the capture looped as many
   whole times as that takes). A step passes when nothing was lost and
   everything was found: the memif ring never full (the sender's tx_full:
   on a NIC those frames would be imissed), wirelat's drops (NIC
   imissed/ierrors/rx_nombuf, parser_ring_full, txn_ring_full, flows and
   transactions) all 0, every frame received, the sender on schedule
   (rate within 2 %), and every protocol's transaction count, and the
   handshakes, exactly the truth's times the loops, with no unmatched,
   unproven or unanswered transaction and no parse error. RFC 2544
   style: the first step at the upper bound (the file-mode rate, or
   --max-pps; doubled while it passes, at most three times), then a
   binary search between the highest rate that passed and the lowest
   that failed until they are within --resolution of the latter.

With --unique-ip (the default) every loop's clients are new addresses,
so each loop is new connections, as fresh traffic would be.
docs/benchmarks.md, "The appliance benchmark", says how to read it.
"""

import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The workloads of scripts/bench: (gen --proto, --pipeline).
WORKLOADS = {"http": ("http", 1), "http-p8": ("http", 8),
             "redis": ("redis", 1), "redis-p16": ("redis", 16),
             "memcached": ("memcached", 1),
             "postgresql": ("postgresql", 1), "mysql": ("mysql", 1),
             "dns": ("dns", 1)}
PROTOS = ("http", "redis", "memcached", "postgresql", "mysql", "dns")
# A step's sender may end late by this share of its schedule (a
# descheduled sender catching up) and still count as on schedule.
RATE_SLACK = 0.02


def brief(bad):
    """The first failures and the RX wait, which comes last."""
    return "; ".join(bad[:3] + (bad[-1:] if len(bad) > 3 else []))


def die(msg):
    sys.exit(f"bench: {msg}")


def tools(build):
    t = {"wirelat": os.path.join(build, "app", "wirelat", "wirelat"),
         "replay": os.path.join(build, "app", "wirelat-replay",
                                "wirelat-replay"),
         "stat": os.path.join(build, "app", "wirelat-stat", "wirelat-stat")}
    for p in t.values():
        if not os.access(p, os.X_OK):
            die(f"{p} not built (scripts/build)")
    return t


def cpus():
    aff = sorted(os.sched_getaffinity(0))
    return aff[0], aff[-1]


def hugepages_free():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("HugePages_Free:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---- workload ---------------------------------------------------------------

def gen(t, d, name, connections, requests, tag):
    """Write the workload's capture and truth. @return a description."""
    proto, depth = WORKLOADS[name]
    pcap = os.path.join(d, f"{name}-{tag}.pcap")
    truth = os.path.join(d, f"{name}-{tag}.json")
    p = subprocess.run([t["replay"], "gen", "--proto", proto, "--pipeline",
                        str(depth), "--connections", str(connections),
                        "--requests", str(requests), "--req-size",
                        "16:256", "--rsp-size", "16:1000",
                        "--conn-interval", "fixed:2us", "--clients", "4000",
                        "--seed", "1", "-o", pcap, "--truth", truth],
                       capture_output=True, text=True)
    if p.returncode != 0:
        die(f"gen failed ({name}): {p.stderr.strip()}")
    with open(truth) as f:
        tr = json.load(f)
    os.unlink(truth)        # the counts are all we need: free the memory
    want = {pr: tr[f"{pr}_transactions"] for pr in PROTOS
            if tr[f"{pr}_transactions"]}
    return {"name": name, "pcap": pcap, "packets": tr["packets"],
            "bytes": tr["bytes"], "txns": tr["transactions_count"],
            "want": want, "handshakes": len(tr["connections"])}


def one_packet(src, dst):
    """The first record of a pcap (gen's: 24-byte header, 16-byte record
    headers) as a capture of its own: a tool's start-up cost."""
    with open(src, "rb") as f:
        hdr = f.read(24)
        rec = f.read(16)
        n = struct.unpack("<I", rec[8:12])[0]
        data = f.read(n)
    with open(dst, "wb") as f:
        f.write(hdr + rec + data)


# A protocol's counters that say pairing was given up somewhere (also
# scripts/bench's, whose captures end mid-flow: unmatched requests there
# are only the ones cut off).
GAVE_UP = ("unmatched_responses", "parse_errors", "pending_overflow",
           "unpaired")


def exact(c, w, loops):
    """Counters that break exactness against the truth times loops."""
    bad = []
    for pr in PROTOS:
        want = w["want"].get(pr, 0) * loops
        if c.get(f"{pr}_txns", 0) != want:
            bad.append(f"{pr}_txns {c.get(f'{pr}_txns', 0)} != {want}")
        for k in ("unmatched_requests",) + GAVE_UP:
            if c.get(f"{pr}_{k}", 0):
                bad.append(f"{pr}_{k} {c[f'{pr}_{k}']}")
    hs = w["handshakes"] * loops
    if c.get("tcp_txns", 0) != hs:
        bad.append(f"tcp_txns {c.get('tcp_txns', 0)} != {hs}")
    for k in ("txn_no_response", "txn_unproven"):
        if c.get(k, 0):
            bad.append(f"{k} {c[k]}")
    return bad


# ---- file mode and the other tools -----------------------------------------

def file_mode(t, w, inst):
    """wirelat --pcap: (Mpps from busy cycles, wall seconds, counters)."""
    a0, a1 = cpus()
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    t0 = time.monotonic()
    p = subprocess.run([t["wirelat"], "--pcap", w["pcap"], "--instance",
                        inst, "--lcores", f"0@{a0},1@{a1}", "--no-report",
                        "--stats-json", out], capture_output=True, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        die(f"wirelat --pcap failed ({w['name']}): {p.stderr.strip()}")
    with open(out) as f:
        c = json.load(f)["counters"]
    os.unlink(out)
    busy = max(v for k, v in c.items()
               if k.startswith("lcore") and k.endswith(".busy_cycles"))
    return c["packets"] / (busy / c["tsc_hz"]) / 1e6, wall, c


def timed(cmd):
    """Wall seconds of cmd, its output thrown away."""
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        die(f"{' '.join(cmd)} failed: {p.stderr.strip()[-300:]}")
    return wall


def compare_cmds(t, inst):
    """name -> a function of a capture giving the command to time. Each
    tool on the CPU of wirelat's parser lcore."""
    a0, a1 = cpus()
    pin = ["taskset", "-c", str(a1)]
    cmds = {"wirelat": lambda f: [t["wirelat"], "--pcap", f, "--instance",
                                  inst, "--lcores", f"0@{a0},1@{a1}",
                                  "--no-report"]}
    if shutil.which("ndpiReader"):
        # Flows classified (DPI stops once a flow's protocol is known),
        # per-protocol counts printed at the end, -q: no progress.
        cmds["ndpiReader"] = lambda f: pin + ["ndpiReader", "-q", "-i", f]
    if shutil.which("tshark"):
        # Every packet dissected through its application layer: the
        # protocol column is the topmost dissector that took it.
        cmds["tshark"] = lambda f: pin + ["tshark", "-n", "-r", f, "-T",
                                          "fields", "-e", "frame.number",
                                          "-e", "_ws.col.Protocol"]
    return cmds


def compare(t, a, w, d, inst):
    """{tool: packets/s}, wall time less start-up, best of a.runs."""
    one = os.path.join(d, "one.pcap")
    one_packet(w["pcap"], one)
    base, full = {}, {}
    cmds = compare_cmds(t, inst)
    for i in range(a.runs):
        for name, cmd in cmds.items():
            if name == "tshark" and i > 0:
                continue        # ten times slower: one run tells enough
            # The least of each: a start-up slowed by the machine must
            # not make the capture's share look faster.
            base[name] = min(base.get(name, 1e9), timed(cmd(one)))
            full[name] = min(full.get(name, 1e9), timed(cmd(w["pcap"])))
    os.unlink(one)
    return {n: w["packets"] / max(full[n] - base[n], 1e-6) for n in full}


# ---- memif ------------------------------------------------------------------

def memif_step(t, a, w, d, pps, inst):
    """One offered rate for about a.step_seconds. @return (pass, failed
    counters, facts)."""
    a0, a1 = cpus()
    loops = max(1, round(pps * a.step_seconds / w["packets"]))
    sock = os.path.join(d, "memif.sock")
    spec = f"socket={sock},socket-abstract=no"
    wjs = os.path.join(d, "wirelat.json")
    rjs = os.path.join(d, "replay.json")
    for f in (sock, wjs, rjs):
        if os.path.exists(f):
            os.unlink(f)
    # The parser alone on one CPU; the collector and the sender share the
    # other (docs/benchmarks.md, "Where the lcores run").
    wl = subprocess.Popen([t["wirelat"], "--lcores", f"0@{a0},1@{a1}",
                           "--vdev", f"net_memif0,role=server,{spec}",
                           "--instance", inst, "--no-report",
                           "--status-interval", "0", "--stats-json", wjs],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    rp = None
    try:
        end = time.monotonic() + 60
        while not os.path.exists(sock) and time.monotonic() < end:
            if wl.poll() is not None:
                die(f"wirelat (memif server) exited: {wl.stderr.read()}")
            time.sleep(0.05)
        ring = f",rsize={a.ring_log2}"
        rp = subprocess.Popen([t["replay"], "-q", "--lcores", f"0@{a0}",
                               "--pps", str(int(pps)), "--loop", str(loops),
                               *(["--unique-ip"] if a.unique_ip else []),
                               *(["--max-late", a.max_late]
                                 if a.max_late != "0" else []),
                               "--linger", "120", "--vdev",
                               f"net_memif0,role=client,{spec}{ring}",
                               "--stats-json", rjs, w["pcap"]],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        end = time.monotonic() + 120 + 3 * a.step_seconds
        while not os.path.exists(rjs) and rp.poll() is None and \
                time.monotonic() < end:
            time.sleep(0.05)
        # The report is written once the last frame was taken: give the
        # parser a moment for what is still in the ring.
        time.sleep(0.5)
    finally:
        wl.send_signal(signal.SIGINT)
        try:
            _, werr = wl.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            wl.kill()
            _, werr = wl.communicate()
        if rp is not None:
            rp.terminate()
            try:
                _, rerr = rp.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                rp.kill()
                _, rerr = rp.communicate()
        subprocess.run([t["stat"], "--instance", inst, "--remove"],
                       capture_output=True)
    if not os.path.exists(rjs):
        die(f"wirelat-replay wrote no report at {pps:.0f} pps: {rerr}")
    if not os.path.exists(wjs):
        die(f"wirelat wrote no stats at {pps:.0f} pps: {werr}")
    with open(rjs) as f:
        r = json.load(f)
    with open(wjs) as f:
        c = json.load(f)["counters"]
    sent = loops * w["packets"]
    bad = []
    if r["packets"] != sent or r["unsent"] or r["stopped"]:
        bad.append(f"sent {r['packets']} of {sent}")
    full = sum(p["tx_full"] for p in r["ports"])
    if full:
        bad.append(f"memif ring full {full}x")
    if r["rate_error"] is None or r["rate_error"] < -RATE_SLACK:
        bad.append(f"sender {r['pps'] / pps:.1%} of the rate")
    # drops is the sum of its parts: name the parts (metrics.md).
    for k in ("parser_ring_full", "txn_ring_full", "drops_nic",
              "drops_ring", "drops_flows", "drops_txns", "drops_kernel"):
        if c.get(k, 0):
            bad.append(f"{k} {c[k]}")
    for k, v in c.items():
        if k.startswith("port") and k.split(".")[1] in \
                ("imissed", "ierrors", "rx_nombuf") and v:
            bad.append(f"{k} {v}")
    if c["packets"] != r["packets"]:
        bad.append(f"received {c['packets']} of {r['packets']}")
    bad += exact(c, w, loops)
    if bad:
        # What a full ring usually means on a shared machine: the
        # parser's RX went unpolled, or the sender, descheduled, caught
        # up in one burst of (lateness x rate) frames.
        late = r["send_error_ns"]["max"] or 0
        bad.append(f"RX waited up to {c.get('rx_wait_max_ns', 0) / 1e6:.1f}"
                   f" ms, sender late up to {late / 1e6:.1f} ms")
    return not bad, bad, {"loops": loops, "pps": r["pps"],
                          "seconds": r["seconds"],
                          "slips": r.get("slips", 0),
                          "slipped_ns": r.get("slipped_ns", 0),
                          "rx_wait_max_ns": c.get("rx_wait_max_ns", 0),
                          "send_error_max": r["send_error_ns"]["max"]}


def search(t, a, w, d, hi, inst):
    """RFC 2544 style: hi first, then halve the gap between the highest
    rate that passed and the lowest that failed, until it is within
    a.resolution of the latter. A bound that passes is doubled (at most
    three times: the file-mode rate of a small capture undershoots, its
    first touches of fresh memory weigh more). @return (best rate, the
    lowest rate that failed or None, its failures, steps)."""
    lo, lo_fail, fail_bad = 0.0, None, None
    steps = []
    rate = hi
    while True:
        t0 = time.monotonic()
        ok, bad, facts = memif_step(t, a, w, d, rate, inst)
        steps.append((rate, ok, bad, facts))
        print(f"  {w['name']:10} {rate / 1e6:8.3f} Mpps x {facts['loops']}"
              f" loops ({time.monotonic() - t0:4.1f} s): "
              f"{'pass' if ok else 'FAIL ' + brief(bad)}"
              + (f" [sender slipped {facts['slips']}x, "
                 f"{facts['slipped_ns'] / 1e6:.1f} ms]"
                 if facts["slips"] else ""),
              flush=True)
        if ok:
            lo = rate
            if lo_fail is None:
                if rate >= 8 * hi:
                    break
                rate *= 2
                continue
        else:
            lo_fail, fail_bad = rate, bad
        if lo_fail - lo <= a.resolution * lo_fail:
            break
        rate = (lo + lo_fail) / 2
    return lo, lo_fail, fail_bad, steps


# ---- main -------------------------------------------------------------------

def conditions(a, t):
    a0, a1 = cpus()
    huge = hugepages_free()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}"
          f", load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"hugepages: {huge} free " +
          ("(wirelat and wirelat-replay use them)" if huge else
           "(both run --no-huge)"))
    if a.memif:
        print(f"memif: wirelat collector lcore 0 on CPU {a0}, RX+parser "
              f"lcore 1 alone on CPU {a1}; wirelat-replay one lcore "
              f"(sends on main) on CPU {a0}, sharing it with the "
              f"collector; ring 2^{a.ring_log2} slots, "
              f"{a.step_seconds:g} s per step, resolution "
              f"{a.resolution:.0%}, unique-ip {'on' if a.unique_ip else 'off'}"
              f", sender --max-late {a.max_late}")


def main(argv):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(prog="scripts/bench",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--memif", action="store_true",
                    help="the zero-loss search over net_memif")
    ap.add_argument("--compare", action="store_true",
                    help="file mode beside ndpiReader and tshark only")
    ap.add_argument("--no-compare", dest="do_compare", action="store_false",
                    help="--memif without ndpiReader and tshark")
    ap.add_argument("--workload", action="append", choices=list(WORKLOADS))
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--memif-connections", type=int, default=400)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--step-seconds", type=float, default=5)
    ap.add_argument("--resolution", type=float, default=0.05)
    ap.add_argument("--ring-log2", type=int, default=12)
    ap.add_argument("--max-late", default="1ms",
                    help="wirelat-replay --max-late: the sender's own stalls "
                         "move its schedule instead of making bursts "
                         "(0: caught up at top speed)")
    ap.add_argument("--max-pps", type=float,
                    help="upper bound of the search (default: the "
                    "file-mode rate)")
    ap.add_argument("--no-unique-ip", dest="unique_ip",
                    action="store_false")
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    a = ap.parse_args(argv)
    t = tools(a.build)
    inst = f"bench-memif-{os.getpid()}"
    d = tempfile.mkdtemp(prefix="wl-bench-memif-",
                         dir="/dev/shm" if os.path.isdir("/dev/shm")
                         else None)
    rows = []
    try:
        conditions(a, t)
        for name in a.workload or list(WORKLOADS):
            w = gen(t, d, name, a.connections, a.requests, "file")
            runs = [file_mode(t, w, inst) for _ in range(a.runs)]
            fm = max(r[0] for r in runs)
            bad = exact(runs[0][2], w, 1)
            if bad:
                print(f"  {name}: file mode not exact: {'; '.join(bad)}")
            cmp = compare(t, a, w, d, inst) if (a.compare or
                                                a.do_compare) else {}
            row = {"w": w, "file_mpps": fm, "cmp": cmp}
            os.unlink(w["pcap"])
            if a.memif:
                # A smaller capture, looped: each step's sender preloads
                # it, and a process's first touch of memory is slow here.
                m = gen(t, d, name, a.memif_connections, a.requests,
                        "memif")
                hi = a.max_pps or fm * 1e6
                row["search"] = search(t, a, m, d, hi, inst)
                row["m"] = m
                os.unlink(m["pcap"])
            rows.append(row)
        report(a, rows)
    finally:
        subprocess.run([t["stat"], "--instance", inst, "--remove"],
                       capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
    return 0


def report(a, rows):
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}")
    if a.memif:
        print(f"\n{'workload':10} {'packets':>8} {'txns':>7} {'B/pkt':>6} "
              f"{'file Mpps':>9} {'0-loss Mpps':>11} {'Gbit/s':>7} "
              f"{'txns/s':>9} {'steps':>5}  first failure above")
        for r in rows:
            w = r["m"]
            best, fail, bad, steps = r["search"]
            avg = w["bytes"] / w["packets"]
            if fail is None:
                fail_s = "none, up to 8x the upper bound"
            else:
                fail_s = f"{fail / 1e6:.3f} Mpps: {brief(bad)}"
            print(f"{w['name']:10} {w['packets']:8} {w['txns']:7} "
                  f"{avg:6.0f} {r['file_mpps']:9.3f} {best / 1e6:11.3f} "
                  f"{best * avg * 8 / 1e9:7.3f} "
                  f"{best * w['txns'] / w['packets']:9.0f} {len(steps):5}"
                  f"  {fail_s}")
    if any(r["cmp"] for r in rows):
        names = [n for n in ("ndpiReader", "tshark")
                 if any(n in r["cmp"] for r in rows)]
        print(f"\nfile mode side by side (packets/s: least wall time less "
              f"least start-up of {a.runs} runs, tshark 1; ratio = wirelat "
              f"/ tool)")
        print(f"{'workload':10} {'wirelat':>10} " +
              " ".join(f"{n:>12} {'ratio':>6}" for n in names))
        for r in rows:
            c = r["cmp"]
            cols = []
            for n in names:
                if n in c:
                    cols.append(f"{c[n]:12.0f} {c['wirelat'] / c[n]:6.2f}")
                else:
                    cols.append(f"{'-':>12} {'':6}")
            print(f"{r['w']['name']:10} {c['wirelat']:10.0f} " +
                  " ".join(cols))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
