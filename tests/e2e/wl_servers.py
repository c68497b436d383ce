# SPDX-License-Identifier: BSD-3-Clause
"""Real servers from Debian and a real capture of loopback traffic, started
by the tests on 127.0.0.1 and torn down after."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import wl_e2e as e


def need(*tools):
    for t in tools:
        if shutil.which(t) is None and not os.path.exists(t):
            e.skip(f"{t} is not installed (scripts/install-deps)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Nginx:
    """nginx on 127.0.0.1:port serving a few static files from d."""

    def __init__(self, d):
        need("nginx")
        self.d = os.path.join(d, "nginx")
        os.makedirs(os.path.join(self.d, "www"), exist_ok=True)
        with open(os.path.join(self.d, "www", "index.html"), "w") as f:
            f.write("<html>wirelat test</html>\n")
        with open(os.path.join(self.d, "www", "big.bin"), "wb") as f:
            f.write(os.urandom(256 * 1024))
        self.port = free_port()
        conf = os.path.join(self.d, "nginx.conf")
        user = "user root;" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write(f"""{user}
daemon off;
worker_processes 1;
pid {self.d}/nginx.pid;
error_log {self.d}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {self.d}/tmp-body;
    proxy_temp_path {self.d}/tmp-proxy;
    fastcgi_temp_path {self.d}/tmp-fcgi;
    uwsgi_temp_path {self.d}/tmp-uwsgi;
    scgi_temp_path {self.d}/tmp-scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.d}/www;
        client_max_body_size 0;
        # Answers before reading the body: an early answer.
        location = /post {{ return 200 "ok\\n"; }}
    }}
}}
""")
        self.p = subprocess.Popen(["nginx", "-c", conf, "-p", self.d],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        if not wait_port(self.port):
            self.stop()
            raise SystemExit("nginx did not start: " +
                             open(os.path.join(self.d, "error.log")).read())

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGQUIT)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()


class Tcpdump:
    """A nanosecond capture on an interface, written to path; inside a
    network namespace when netns names one."""

    def __init__(self, path, iface, bpf, netns=None, snaplen=0):
        """snaplen: bytes kept per frame, 0 for all. The kernel ring holds
        -B bytes in slots of the snap length: a small one where frames
        are small (a 1500-byte MTU) holds far more of them."""
        need("tcpdump")
        if os.geteuid() != 0:
            e.skip("capturing on loopback needs root")
        pre = ["ip", "netns", "exec", netns] if netns else []
        self.p = subprocess.Popen(
            pre + ["tcpdump", "-i", iface, "-U", "--immediate-mode", "-B",
                   "65536", "-n", "-s", str(snaplen),
                   "--time-stamp-precision=nano", "-w", path, bpf],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # tcpdump says "listening on" once the socket is open (after
        # "data link type ..." on -i any).
        line = self.p.stderr.readline()
        if line.startswith("tcpdump: data link type"):
            line = self.p.stderr.readline()
        if "listening" not in line:
            raise SystemExit(f"tcpdump: {line}")

    def stop(self):
        """@return the packets tcpdump says the kernel dropped."""
        # Immediate mode hands every packet over at once; the pause lets
        # the last ones reach the file before tcpdump is told to stop.
        time.sleep(0.5)
        self.p.send_signal(signal.SIGINT)
        self.p.wait(10)
        m = re.search(r"(\d+) packets? dropped by kernel",
                      self.p.stderr.read())
        return int(m.group(1)) if m else 0


def capture_lost(path):
    """Holes in a capture's TCP streams, as tshark numbers them: sequence
    space never captured, between segments or before what the peer
    acknowledged. Loopback itself loses nothing, so on a capture of it a
    hole is packets the capture missed (a busy machine). This is tshark's
    "previous segment not captured" (tcp.analysis.lost_segment) and
    "ACKed segment that wasn't captured" less the holes a segment captured
    later fills: with two CPUs loopback segments reach the tap out of
    order now and then, and those lose nothing. Not for captures where
    loss is intended (netpath); blind to lost UDP.
    @return how many holes."""
    need("tshark")
    out = subprocess.run(
        ["tshark", "-r", path, "-Y", "tcp", "-T", "fields",
         "-E", "separator=|", "-o", "tcp.relative_sequence_numbers:TRUE",
         "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.dstport",
         "-e", "tcp.seq", "-e", "tcp.nxtseq", "-e", "tcp.ack",
         "-e", "tcp.flags.ack"],
        capture_output=True, text=True, check=True).stdout
    spans = {}      # (stream, sender port) -> [(seq, next seq)]
    acked = {}      # (stream, sender port) -> highest ACK from the peer
    for line in out.splitlines():
        st, sp, dp, seq, nxt, ack, isack = line.split("|")
        spans.setdefault((st, sp), [])
        if nxt and int(nxt) > int(seq):
            spans[(st, sp)].append((int(seq), int(nxt)))
        if isack in ("1", "True") and ack:
            acked[(st, dp)] = max(acked.get((st, dp), 0), int(ack))
    holes = 0
    for k in set(spans) | set(acked):
        end = None
        for a, b in sorted(spans.get(k, [])):
            if end is not None and a > end:
                holes += 1
            end = b if end is None else max(end, b)
        if acked.get(k, 0) > (end if end is not None else 1):
            holes += 1
    return holes


def capture_retry(fn, attempts=3):
    """A workload and its capture, redone from scratch until the capture
    is whole, for tests that compare exact counts: a capture is damaged
    when tcpdump says the kernel dropped packets or tshark finds holes
    in its TCP streams (capture_lost). fn(attempt), attempt counting from 1,
    starts what it needs fresh (its own server counters or deltas, a new
    file), runs the workload under a Tcpdump and returns a tuple whose
    first two items are the capture's path and Tcpdump.stop()'s drop
    count; that tuple is returned for the first whole capture. When all
    attempts are damaged the test fails (SystemExit).

    WL_TEST_FAKE_CAPTURE_LOSS=N (tests of this helper) reports the first
    N attempts of every call as damaged: 1 shows a retry, 3 the failure."""
    fake = int(os.environ.get("WL_TEST_FAKE_CAPTURE_LOSS", "0") or 0)
    seen = []
    for attempt in range(1, attempts + 1):
        r = fn(attempt)
        path, drops = r[0], r[1]
        lost = capture_lost(path)
        if attempt <= fake:
            lost += 1
        if drops == 0 and lost == 0:
            return r
        seen.append(f"{path}: tcpdump drops {drops}, tshark lost "
                    f"segments {lost}")
        if attempt < attempts:
            print(f"capture lost {drops + lost} packets (tcpdump drops "
                  f"{drops}, tshark lost segments {lost}); retrying "
                  f"{attempt + 1}/{attempts}", file=sys.stderr, flush=True)
    raise SystemExit(f"every one of {attempts} captures lost packets, "
                     "exact counts cannot be compared: " + "; ".join(seen))


def tshark_handshakes(pcap):
    """Handshakes read from a capture by tshark: ns timestamps by client
    (ip, port) of the first SYN, the SYN/ACK and the client's ACK, and the
    packets, frame bytes and TCP payload bytes each way."""
    need("tshark")
    out = subprocess.run(
        ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=|",
         "-e", "frame.time_epoch", "-e", "ip.src", "-e", "tcp.srcport",
         "-e", "ip.dst", "-e", "tcp.dstport", "-e", "tcp.flags.syn",
         "-e", "tcp.flags.ack", "-e", "tcp.len", "-e", "frame.len",
         "-e", "tcp.nxtseq", "-o", "tcp.relative_sequence_numbers:TRUE"],
        capture_output=True, text=True, check=True).stdout
    hs = {}
    for line in out.splitlines():
        ts, src, sport, dst, dport, syn, ack, ln, flen, nxt = \
            line.split("|")
        ns = e.ns_of(ts)
        syn = syn in ("1", "True")
        ack = ack in ("1", "True")
        c = (src, int(sport))
        s = (dst, int(dport))
        if syn and not ack:
            hs.setdefault(c, {"server": s, "syn": ns, "c2s": [0, 0, 0],
                              "s2c": [0, 0, 0], "c2s_end": 0, "s2c_end": 0})
        elif syn and ack:
            h = hs.get(s)
            if h is not None and "synack" not in h:
                h["synack"] = ns
        elif ack and c in hs and "synack" in hs[c] and "ack" not in hs[c]:
            hs[c]["ack"] = ns
        for who, dr in ((c, "c2s"), (s, "s2c")):
            if who in hs and hs[who]["server"] == (s if dr == "c2s" else c):
                hs[who][dr][0] += 1
                hs[who][dr][1] += int(flen)
                hs[who][dr][2] += int(ln or 0)
                # Stream bytes up to the highest data byte seen (relative
                # sequence numbers start at 1 after the SYN).
                if int(ln or 0) > 0:
                    hs[who][f"{dr}_end"] = max(hs[who][f"{dr}_end"],
                                               int(nxt) - 1)
                break
    return hs


class Redis:
    """redis-server on 127.0.0.1:port, no persistence, in directory d."""

    def __init__(self, d, name="redis", extra=()):
        need("redis-server", "redis-cli")
        self.d = os.path.join(d, name)
        os.makedirs(self.d, exist_ok=True)
        self.port = free_port()
        self.p = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.d,
             "--daemonize", "no", "--logfile", os.path.join(self.d, "log"),
             *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(self.port):
            self.stop()
            raise SystemExit("redis-server did not start")

    def cli(self, *args, timeout=30):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args],
                              capture_output=True, text=True,
                              timeout=timeout).stdout

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
