#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Kernel interfaces (--iface, AF_PACKET TPACKET_V3) on a veth pair whose
ends are in two network namespaces this test makes:

- drops: wirelat is stopped (SIGSTOP) while wirelat-replay sends a gen
  capture 10 times into its interface, so the kernel must drop what
  its ring cannot hold; the drop figure on the final status line, in
  wirelat-stat (table and JSON) and in the stats JSON equals the frames
  the interface received minus the frames wirelat analysed, exactly;
- timestamps: live HTTP and Redis from the namespace's client to servers
  in the other one; no duration is 0; against a tcpdump capture
  (nanosecond kernel stamps) taken on the same interface at the same time,
  request stamps are identical and response stamps within the documented
  bound (docs/capture.md);
- the link going down and up gives a notice each; the interface deleted
  ends the run with exit code 1 and one line naming it.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import wl_e2e as e  # noqa: E402

LOOPS = 10
A_IP, B_IP = "10.93.0.1", "10.93.0.2"
# Largest time between two taps of one received frame (docs/capture.md).
BOUND_NS = 1000000


class Netns:
    """Namespaces wa (wirelat, clients) and wb (senders, servers),
    joined by the veth pair va-vb; no IPv6 (no stray ND frames)."""

    def __init__(self):
        self.a = f"wla{os.getpid()}"
        self.b = f"wlb{os.getpid()}"
        for ns in (self.a, self.b):
            if e.run(["ip", "netns", "add", ns]).returncode != 0:
                e.skip("cannot make a network namespace here")
        self.ex(self.a, ["ip", "link", "add", "va", "type", "veth", "peer",
                         "name", "vb", "netns", self.b])
        for ns, dev, ip in ((self.a, "va", A_IP), (self.b, "vb", B_IP)):
            self.ex(ns, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
            self.ex(ns, ["ip", "addr", "add", ip + "/24", "dev", dev])
            self.ex(ns, ["ip", "link", "set", dev, "up"])
            self.ex(ns, ["ip", "link", "set", "lo", "up"])

    def cmd(self, ns, args):
        return ["ip", "netns", "exec", ns] + args

    def ex(self, ns, args):
        return e.run(self.cmd(ns, args), check_rc=0)

    def rx_packets(self):
        return int(self.ex(self.a, ["cat", "/sys/class/net/va/statistics/"
                                    "rx_packets"]).stdout)

    def close(self):
        for ns in (self.a, self.b):
            e.run(["ip", "netns", "del", ns])


def stat_json(inst):
    p = e.stat(["--instance", inst, "--json"])
    if p.returncode != 0:
        return None
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


def running(w, inst):
    for _ in range(300):
        if w.poll() is not None:
            return None
        s = stat_json(inst)
        if s and s.get("state") == "running":
            return s
        time.sleep(0.05)
    return None


def settled(inst):
    """Counters once two reads 300 ms apart agree (RX caught up)."""
    prev = None
    for _ in range(100):
        s = stat_json(inst)
        c = s["counters"] if s else None
        if c is not None and prev is not None and \
                c["packets"] == prev["packets"] and \
                c["drops"] == prev["drops"]:
            return c
        prev = c
        time.sleep(0.3)
    return prev


def start_wirelat(net, inst, d, extra_conf=None, log=None, args=()):
    conf = os.path.join(d, inst + ".json")
    cfg = {"output": {"status_interval_s": 1}}
    cfg.update(extra_conf or {})
    with open(conf, "w") as f:
        json.dump(cfg, f)
    extra = args
    args = [e.WIRELAT, "--iface", "va", "--instance", inst, "--no-report",
            "--config", conf, "--stats-json", os.path.join(d, inst + ".out")]
    if log:
        args += ["--log", log]
    args += list(extra)
    w = subprocess.Popen(net.cmd(net.a, args), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if running(w, inst) is None:
        w.kill()
        out, err = w.communicate()
        e.check(False, f"wirelat on va did not start: {err!r}")
        return None
    return w


def stop(w):
    w.send_signal(signal.SIGINT)
    try:
        return w.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        w.kill()
        return w.communicate()


def drops(net, d, lcores=()):
    inst = e.instance("livedrops")
    # A gen workload: frames of at most 1502 bytes (net_af_packet sends
    # no more than 1518).
    cap = os.path.join(d, "drops.pcap")
    e.gen("-o", cap, "--connections", "32", "--requests", "12")
    n_frames = len(e.read_pcap(cap)[1])
    # A small ring (4 blocks of 64 KB): what it cannot hold is dropped.
    w = start_wirelat(net, inst, d, {"rx": {"kernel_ring_kb": 256,
                                            "kernel_block_kb": 64}},
                      args=lcores)
    if w is None:
        return
    try:
        c0 = settled(inst)
        rx0 = net.rx_packets()
        # Stopped, wirelat reads nothing: the ring fills, the kernel drops.
        os.kill(w.pid, signal.SIGSTOP)
        try:
            p = e.run(net.cmd(net.b, [e.REPLAY, "--vdev",
                                      "net_af_packet0,iface=vb", "--topspeed",
                                      "--loop", str(LOOPS), "-q", cap]))
        finally:
            os.kill(w.pid, signal.SIGCONT)
        e.check(p.returncode == 0, f"replay: {p.stderr[-400:]!r}")
        c1 = settled(inst)
        rx1 = net.rx_packets()
    finally:
        out, err = stop(w)
    e.check(w.returncode == 0, f"wirelat exit {w.returncode}: {err[-600:]}")
    sent = LOOPS * n_frames
    e.check(rx1 - rx0 >= sent, f"va received {rx1 - rx0} of {sent} frames")
    final = stat_json(inst)["counters"]
    received = rx1 - rx0
    processed = final["packets"] - c0["packets"]
    lost = final["drops_packets"] - c0["drops_packets"]
    e.check(lost > 0, f"no drop with a stopped reader: {final}")
    e.check(lost == received - processed,
            f"drops {lost} != received {received} - processed {processed}")
    e.check(final["drops"] == final["drops_packets"] + final["drops_flows"] +
            final["drops_txns"], f"drops is not the sum of its parts: {final}")
    e.check(final["drops_kernel"] == final["drops_packets"],
            f"drops not all the kernel's: {final}")
    if lcores:
        # Two RX lcores, two sockets in one fanout group: the kernel
        # spread the 32 connections over both (all on one: 2^-31).
        busy = [k for k, v in final.items()
                if k.startswith("lcore") and k.endswith(".packets") and v]
        e.check(len(busy) == 2, f"fanout over two RX lcores: {busy}")
    # The same figure on the last status line, in wirelat-stat's table
    # and in the stats JSON.
    last = [ln for ln in err.splitlines() if " drops" in ln and "pps" in ln]
    e.check(last and f" {final['drops']} drops (kernel {final['drops']})"
            in last[-1], f"final status line: {last[-1:]!r}")
    t = e.stat(["--instance", inst])
    e.check(t.returncode == 0 and re.search(
        rf"\bdrops\s+{final['drops']}\b", t.stdout) is not None,
        f"wirelat-stat table: {t.stdout[-800:]!r}")
    with open(os.path.join(d, inst + ".out")) as f:
        sj = json.load(f)
    e.check(sj["counters"]["drops"] == final["drops"],
            f"stats JSON drops {sj['counters'].get('drops')}")
    # A notice when drops started, and when they stopped.
    e.check("notice: drops started" in err and "notice: drops stopped" in err,
            f"drop notices: {err[-800:]!r}")
    e.remove_instance(inst)


HTTP_SERVER = r"""
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"x" * (int(self.path[1:] or 1) % 60000)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
socketserver.TCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer((sys.argv[1], 8080), H).serve_forever()
"""

CLIENT = r"""
import socket, sys, time
a, n = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((a, 8080))
for i in range(n):
    s.sendall(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % (i * 997))
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, body = buf.split(b"\r\n\r\n", 1)
    ln = int([l for l in head.split(b"\r\n")
              if l.lower().startswith(b"content-length")][0].split(b":")[1])
    while len(body) < ln:
        body += s.recv(65536)
    time.sleep(0.01)
s.close()
r = socket.create_connection((a, 6379))
for i in range(n):
    k = 4 if i % 3 == 0 else 1   # some pipelined
    r.sendall(b"*1\r\n$4\r\nPING\r\n" * k)
    got = b""
    while got.count(b"\r\n") < k:
        got += r.recv(4096)
    time.sleep(0.01)
r.close()
"""


def timestamps(net, d):
    if shutil.which("tcpdump") is None or shutil.which("redis-server") is None:
        e.check(False, "tcpdump and redis-server are needed (install-deps)")
        return
    srv = [subprocess.Popen(net.cmd(net.b, [sys.executable, "-c",
                                            HTTP_SERVER, B_IP]),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL),
           subprocess.Popen(net.cmd(net.b, ["redis-server", "--bind", B_IP,
                                            "--port", "6379", "--save", "",
                                            "--appendonly", "no",
                                            "--protected-mode", "no"]),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)]
    inst = e.instance("livets")
    log = os.path.join(d, "live-ts.log")
    try:
        for port in (8080, 6379):
            for _ in range(100):
                if e.run(net.cmd(net.a, [sys.executable, "-c",
                                         "import socket;socket.create_"
                                         f"connection(('{B_IP}',{port}))"]
                                 )).returncode == 0:
                    break
                time.sleep(0.1)
        for attempt in range(3):
            cap = os.path.join(d, f"live-ts{attempt}.pcap")
            td = subprocess.Popen(net.cmd(net.a, [
                # Immediate mode: a ring block still open when tcpdump
                # is stopped would be lost without a drop counted.
                "tcpdump", "-i", "va", "-n", "--time-stamp-precision=nano",
                "-U", "--immediate-mode", "-w", cap, "tcp"]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True)
            w = start_wirelat(net, inst, d, log=log)
            time.sleep(1.0)
            p = e.run(net.cmd(net.a, [sys.executable, "-c", CLIENT, B_IP,
                                      "60"]), timeout=120)
            e.check(p.returncode == 0, f"client: {p.stderr[-400:]!r}")
            settled(inst)
            out, err = stop(w)
            e.check(w.returncode == 0, f"wirelat exit {w.returncode}: "
                    f"{err[-400:]}")
            time.sleep(0.3)
            td.send_signal(signal.SIGINT)
            _, tderr = td.communicate(timeout=30)
            m = re.search(r"(\d+) packets dropped by kernel", tderr)
            e.remove_instance(inst)
            if m and m.group(1) == "0":
                break
            print(f"tcpdump lost packets ({tderr.strip()!r}): again")
        live = [t for t in e.jsonl(log) if t.get("proto") in ("http", "redis")]
        e.check(len(live) == 60 + 60 + 60 // 3 * 3,
                f"{len(live)} live transactions, want 180")
        e.check(all(t["ts_source"] == "kernel" for t in live),
                "ts_source not kernel")
        zero = [t for t in live if t.get("duration_ns", 0) <= 0]
        e.check(not zero, f"{len(zero)} durations of 0: {zero[:2]}")
        # The same transactions in the kernel-stamped tcpdump capture.
        flog = os.path.join(d, "file-ts.log")
        p = e.wirelat(["--pcap", cap, "--instance", inst, "--no-report",
                       "--log", flog])
        e.check(p.returncode == 0, f"wirelat on the capture: {p.stderr!r}")
        e.remove_instance(inst)

        def key(t):
            return (t["proto"], t["client_port"], t["req_start_ns"])
        ref = {key(t): t for t in e.jsonl(flog)
               if t["proto"] in ("http", "redis")}
        # Frames va sends (the requests) are stamped once for every
        # tap: identical. Frames va receives from another namespace's
        # TCP socket carry the sender's delivery time, which the kernel
        # does not give taps: each tap is stamped as it runs, wirelat's
        # (opened last, so first in the list) before tcpdump's.
        worst = 0
        for t in live:
            r = ref.get(key(t))
            e.check(r is not None, f"not in the capture: {key(t)}")
            if r is None:
                continue
            e.check(t["req_end_ns"] == r["req_end_ns"],
                    f"request stamps differ: {t} {r}")
            for k in ("rsp_start_ns", "rsp_end_ns"):
                dt = r[k] - t[k]
                e.check(0 <= dt <= BOUND_NS, f"{k}: tcpdump - wirelat = "
                        f"{dt} ns, bound [0, {BOUND_NS}]: {t} {r}")
                worst = max(worst, dt)
        print(f"live vs tcpdump: {len(live)} transactions, requests "
              f"identical, responses stamped up to {worst} ns earlier")
    finally:
        for s in srv:
            s.terminate()
            s.wait()


def links(net, d):
    inst = e.instance("livelink")
    w = start_wirelat(net, inst, d)
    if w is None:
        return
    try:
        net.ex(net.a, ["ip", "link", "set", "va", "down"])
        time.sleep(2.5)
        net.ex(net.a, ["ip", "link", "set", "va", "up"])
        time.sleep(2.5)
        net.ex(net.a, ["ip", "link", "del", "va"])
        out, err = w.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        out, err = stop(w)
    e.check("notice: interface va: link down" in err and
            "notice: interface va: link up" in err,
            f"link notices: {err[-600:]!r}")
    e.check(w.returncode == 1 and "interface va is gone" in err,
            f"deleted interface: exit {w.returncode} {err[-400:]!r}")
    e.remove_instance(inst)


def main():
    if os.geteuid() != 0:
        e.skip("network namespaces need root")
    d = e.tmpdir()
    net = Netns()
    try:
        drops(net, d)
        cpus = sorted(os.sched_getaffinity(0))
        drops(net, d, ["--lcores", f"0@{cpus[0]},1@{cpus[-1]},2@{cpus[0]}"])
        timestamps(net, d)
        links(net, d)
    finally:
        net.close()
    e.finish()


if __name__ == "__main__":
    main()
