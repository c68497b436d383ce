# SPDX-License-Identifier: BSD-3-Clause
"""Capture duplicates on real traffic, as a span session mirroring two
switch ports delivers them: a client namespace and a server namespace
joined by a Linux bridge in a third; redis-benchmark in the client's
talks to redis-server in the server's. In the bridge's namespace,
`tcpdump -i any` sees every frame twice (on the bridge port it enters by
and the one it leaves by) while a capture on the server's bridge port sees
it once, both at the same time. wirelat on the doubled capture must give
the transactions of the single one (same commands, statuses, sizes,
connections, no flag), every handshake established, and pkt_duplicate
equal to the copies: the doubled capture's frames less the single's."""

import collections
import json
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_servers as srv  # noqa: E402

TAG = f"wlsd{os.getpid() % 10000}"
NS = (f"{TAG}c", f"{TAG}s", f"{TAG}br")     # client, server, bridge
ADDR = ("10.97.0.1", "10.97.0.2")
PORT = 6379


def sh(*args):
    subprocess.run(args, check=True, capture_output=True)


def frames(path):
    """Records in a pcap file (any link type)."""
    with open(path, "rb") as f:
        data = f.read()
    end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") \
        else ">"
    n, off = 0, 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        off += 16 + incl
        n += 1
    return n


def setup():
    """The three namespaces, two veth pairs and the bridge. @return the
    server's bridge port, or None when the kernel has no bridge."""
    teardown()
    for ns in NS:
        sh("ip", "netns", "add", ns)
    br = NS[2]
    for i, ns in enumerate(NS[:2]):
        inner, outer = f"{TAG}v{i}", f"{TAG}p{i}"
        sh("ip", "link", "add", inner, "type", "veth", "peer", "name", outer)
        sh("ip", "link", "set", inner, "netns", ns)
        sh("ip", "link", "set", outer, "netns", br)
        sh("ip", "-n", ns, "addr", "add", ADDR[i] + "/24", "dev", inner)
        sh("ip", "-n", ns, "link", "set", inner, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    r = subprocess.run(["ip", "-n", br, "link", "add", "br0", "type",
                        "bridge"], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    for i in range(2):
        sh("ip", "-n", br, "link", "set", f"{TAG}p{i}", "master", "br0")
        sh("ip", "-n", br, "link", "set", f"{TAG}p{i}", "up")
    sh("ip", "-n", br, "link", "set", "br0", "up")
    return f"{TAG}p1"


def teardown():
    for ns in NS:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def capture(d, server_port, attempt):
    """The workload under both captures. @return (doubled capture, drops
    of both, the single-port capture)."""
    dup = os.path.join(d, f"any-{attempt}.pcap")
    one = os.path.join(d, f"port-{attempt}.pcap")
    bpf = f"tcp port {PORT}"
    t_any = srv.Tcpdump(dup, "any", bpf, netns=NS[2])
    t_one = srv.Tcpdump(one, server_port, bpf, netns=NS[2])
    drops = 0
    try:
        for extra in (["-P", "1"], ["-P", "16"]):
            subprocess.run(["ip", "netns", "exec", NS[0], "redis-benchmark",
                            "-h", ADDR[1], "-p", str(PORT), "-q", "-c", "2",
                            "-n", "1000", "-t", "set,get", *extra],
                           timeout=300, capture_output=True, check=True)
        time.sleep(0.2)
    finally:
        drops += t_any.stop()
        drops += t_one.stop()
    return dup, drops, one


def run(d, cap, name):
    inst = e.instance(name)
    log = os.path.join(d, f"{name}.log")
    st = os.path.join(d, f"{name}.stats")
    e.wirelat(["--pcap", cap, "--instance", inst, "--log", log,
               "--stats-json", st, "--no-report"], check_rc=0)
    e.remove_instance(inst)
    return list(e.jsonl(log)), json.load(open(st))["counters"]


def key(t):
    return (t["proto"], t["method"], t["status"], t["client_port"],
            t.get("req_bytes"), t.get("rsp_bytes"), tuple(t["flags"]))


def main():
    srv.need("redis-server", "redis-benchmark", "tcpdump", "tshark", "ip")
    if os.geteuid() != 0:
        e.skip("network namespaces need root")
    d = e.tmpdir()
    port = setup()
    if port is None:
        teardown()
        e.skip("this kernel cannot make a Linux bridge")
    rs = subprocess.Popen(
        ["ip", "netns", "exec", NS[1], "redis-server", "--port", str(PORT),
         "--bind", ADDR[1], "--protected-mode", "no", "--save", "",
         "--appendonly", "no", "--dir", d,
         "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            r = subprocess.run(["ip", "netns", "exec", NS[0], "redis-cli",
                                "-h", ADDR[1], "-p", str(PORT), "PING"],
                               capture_output=True, text=True)
            if r.stdout.strip() == "PONG":
                break
            time.sleep(0.1)
        dup, _, one = srv.capture_retry(lambda a: capture(d, port, a))
    finally:
        rs.terminate()
        rs.wait(10)
        teardown()

    n_dup, n_one = frames(dup), frames(one)
    e.check(n_dup == 2 * n_one,
            f"{n_dup} frames on any, {n_one} on the port: not every "
            f"frame twice")
    t_dup, c_dup = run(d, dup, "span-dup")
    t_one, c_one = run(d, one, "span-one")
    e.check(c_dup["pkt_duplicate"] == n_dup - n_one,
            f"pkt_duplicate {c_dup['pkt_duplicate']}, copies "
            f"{n_dup - n_one}")
    e.check(c_one["pkt_duplicate"] == 0,
            f"pkt_duplicate {c_one['pkt_duplicate']} on the single capture")
    redis = [t for t in t_one if t["proto"] == "redis"]
    # 2 x 1000 SET and GET, and redis-benchmark's own CONFIG GETs.
    e.check(len(redis) >= 4000, f"{len(redis)} Redis transactions on the "
            f"port's capture, want 4000 or more")
    a = collections.Counter(key(t) for t in t_dup)
    b = collections.Counter(key(t) for t in t_one)
    e.check(a == b, f"transactions differ: only on any "
            f"{list((a - b).items())[:5]}, only on the port "
            f"{list((b - a).items())[:5]}")
    e.check(not any(t["flags"] for t in t_dup),
            "flags: " + str(collections.Counter(
                f for t in t_dup for f in t["flags"])))
    hs = [t for t in t_dup if t["method"] == "handshake"]
    e.check(hs and all(t["status"] == "established" for t in hs),
            "handshakes: " + str(collections.Counter(t["status"]
                                                     for t in hs)))
    # A copy is never a retransmission.
    for k in ("flow_retrans_segs", "flow_retrans_bytes"):
        e.check(c_dup[k] == c_one[k],
                f"{k}: {c_dup[k]} doubled, {c_one[k]} single")
    e.finish()


if __name__ == "__main__":
    main()
