# SPDX-License-Identifier: BSD-3-Clause
"""A live instance: wirelat captures loopback through DPDK's af_packet PMD
while wirelat-stat reads its shared memory from other processes (one of
them an unprivileged user); SIGINT stops it cleanly with every handshake
accounted for."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_servers as srv  # noqa: E402

N = 40


def serve(ls, stop):
    ls.settimeout(0.2)
    while not stop.is_set():
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        c.recv(64)
        c.sendall(b"pong")
        c.close()


def stat_json(inst, user=None, quiet=False, group="nogroup"):
    cmd = [e.STAT, "--instance", inst, "--json"]
    if user:
        cmd = ["setpriv", "--reuid", user, "--regid", group,
               "--clear-groups"] + cmd
    p = e.run(cmd)
    if p.returncode != 0:
        if not quiet:
            print("wirelat-stat:", p.stderr)
        return None
    return json.loads(p.stdout)


def running(w, inst):
    """The snapshot of w's instance once its segment exists and says
    running (10 s at most), else the last one seen or None."""
    s = None
    for _ in range(100):
        s = stat_json(inst, quiet=True) if w.poll() is None else None
        if s and s["state"] == "running":
            break
        time.sleep(0.1)
    return s


def handshakes(s, port):
    """Handshakes to our server only: other loopback traffic may run."""
    return sum(x["count"] for x in s["series"]
               if x["metric"] == "server_rtt" and
               x["server_port"] == port) if s else -1


def main():
    if os.geteuid() != 0:
        e.skip("live capture on loopback needs root")
    d = e.tmpdir()
    inst = e.instance("live")
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    port = ls.getsockname()[1]
    stop = threading.Event()
    th = threading.Thread(target=serve, args=(ls, stop), daemon=True)
    th.start()
    log = os.path.join(d, "live.log")
    # Readers: the members of group nogroup (collector.shm_group).
    conf = os.path.join(d, "live.json")
    with open(conf, "w") as f:
        json.dump({"collector": {"shm_group": "nogroup"}}, f)
    w = subprocess.Popen([e.WIRELAT, "--iface", "lo", "--instance", inst,
                          "--log", log, "--no-report", "--config", conf],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        s = running(w, inst)
        e.check(s is not None and s["state"] == "running",
                f"instance not running: {s}")
        e.check(s and s["inputs"] and s["inputs"][0]["ts_source"] == "kernel",
                f"af_packet timestamps: {s and s['inputs']}")
        time.sleep(0.5)
        before = handshakes(stat_json(inst), port)
        for i in range(N):
            c = socket.create_connection(("127.0.0.1", port))
            c.sendall(b"ping")
            c.recv(16)
            c.close()
            time.sleep(0.02)
        # The collector publishes every 100 ms: the count shows up live.
        got = -1
        for _ in range(50):
            got = handshakes(stat_json(inst), port)
            if got >= before + N:
                break
            time.sleep(0.1)
        e.check(got - before == N,
                f"live handshakes {got - before}, want {N}")
        if shutil.which("setpriv") and os.path.exists("/etc/passwd") and \
                "nobody" in open("/etc/passwd").read():
            s2 = stat_json(inst, user="nobody")
            e.check(s2 is not None and s2["state"] == "running" and
                    handshakes(s2, port) == got,
                    "wirelat-stat as user nobody, group nogroup")
            # Outside the group: no access (mode 0640).
            e.check(stat_json(inst, user="nobody", group="daemon",
                              quiet=True) is None,
                    "wirelat-stat outside the group read the segment")
        p = e.stat(["--instance", inst, "--watch", "0.2", "--count", "2"])
        e.check(p.returncode == 0 and p.stdout.count("server_rtt") >= 2,
                f"--watch: {p.stdout!r} {p.stderr!r}")
        # A second writer on the instance is refused, naming the first;
        # the first goes on, still published.
        p = e.wirelat(["--pcap", os.path.join(e.SRC, "tests", "data",
                                           "sample.pcap"), "--instance", inst,
                       "--no-report"])
        e.check(p.returncode == 1 and "in use" in p.stderr and
                f"pid {w.pid}" in p.stderr,
                f"second writer: rc {p.returncode} {p.stderr!r}")
        p = e.stat(["--instance", inst, "--remove"])
        e.check(p.returncode == 1 and "running" in p.stderr,
                f"--remove while running: {p.returncode} {p.stderr!r}")
        s3 = stat_json(inst)
        e.check(s3 is not None and s3["state"] == "running" and
                handshakes(s3, port) == got, "the first after the second")
    finally:
        w.send_signal(signal.SIGINT)
        try:
            out, err = w.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()
            out, err = w.communicate()
        stop.set()
    e.check(w.returncode == 0, f"wirelat exit {w.returncode}: {err}")
    e.check("pps" in err, f"no live status line on stderr: {err!r}")
    s = stat_json(inst)
    e.check(s and s["finished"] and s["state"] == "finished",
            f"after SIGINT: {s and s['state']}")
    txns = [t for t in e.jsonl(log) if t["server_port"] == port]
    e.check(len(txns) == N and all(t["status"] == "established" and
                                   t["ts_source"] == "kernel" and
                                   t["duration_ns"] > 0 for t in txns),
            f"{len(txns)} logged handshakes, want {N}")
    e.remove_instance(inst)
    promisc()
    e.finish()


def promisc():
    """An interface wirelat put in promiscuous mode is left as it was
    found: a veth in a namespace of this test's own."""
    ns = f"wlprom{os.getpid()}"
    if e.run(["ip", "netns", "add", ns]).returncode != 0:
        print("no network namespace here: promiscuous mode not checked")
        return
    inst = e.instance("promisc")
    try:
        for cmd in (["ip", "link", "add", "d0", "type", "veth", "peer",
                     "name", "d1"],
                    ["ip", "link", "set", "d0", "up"]):
            e.run(["ip", "netns", "exec", ns] + cmd, check_rc=0)

        # AF_PACKET's PACKET_MR_PROMISC raises the interface's
        # promiscuity count (ip -d), not the IFF_PROMISC flag.
        def flags():
            return e.run(["ip", "netns", "exec", ns, "ip", "-d", "link",
                          "show", "d0"], check_rc=0).stdout
        e.check("promiscuity 0" in flags(), "d0 promiscuous from the start")
        w = subprocess.Popen(["ip", "netns", "exec", ns, e.WIRELAT,
                              "--iface", "d0", "--instance", inst,
                              "--no-report", "--status-interval", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        s = running(w, inst)
        during = flags()
        w.send_signal(signal.SIGINT)
        out, err = w.communicate(timeout=30)
        e.check(s and s["state"] == "running" and "promiscuity 1" in during,
                f"wirelat on d0: {s and s['state']} {during!r} {err!r}")
        e.check(w.returncode == 0 and "promiscuity 0" in flags(),
                f"d0 after wirelat: {flags()!r} (exit {w.returncode})")
    finally:
        e.run(["ip", "netns", "del", ns])
        e.remove_instance(inst)


if __name__ == "__main__":
    main()
