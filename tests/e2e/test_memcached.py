# SPDX-License-Identifier: BSD-3-Clause
"""memcached against a real server on 127.0.0.1, captured during the test:
a bounded text-protocol workload with multi-gets and noreply sets mixed in,
binary GET/GETQ/NOOP batches, meta quiet gets (hits and misses) closed by
mn, and unknown commands. Every command that gets an answer is exactly one
transaction of that command; noreply and quiet commands never shift the
pairing; a quiet hit that could answer either of two quiet gets (no k or O
flag) is logged alone, unpaired, never given to one."""

import collections
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_servers as srv  # noqa: E402

ROUNDS = 200


def recv_until(s, buf, end):
    while not buf.endswith(end):
        buf += s.recv(65536)
    return buf


def bin_req(op, key, opaque):
    k = key.encode()
    return bytes([0x80, op]) + len(k).to_bytes(2, "big") + bytes(4) + \
        len(k).to_bytes(4, "big") + opaque.to_bytes(4, "big") + bytes(8) + k


def capture(d, port, attempt):
    """The text and binary workloads under a capture: @return (capture,
    tcpdump drops, the answered commands sent by name)."""
    cap = os.path.join(d, f"mc-{attempt}.pcap")
    sent = collections.Counter()
    td = srv.Tcpdump(cap, "lo", f"tcp port {port}")
    try:
        s = socket.create_connection(("127.0.0.1", port))
        for i in range(ROUNDS):
            s.sendall(f"set k{i} 0 0 3\r\nabc\r\n".encode())
            recv_until(s, b"", b"STORED\r\n")
            sent["set"] += 1
            # noreply: no answer, must not shift what follows.
            s.sendall(f"set n{i} 0 0 1 noreply\r\nz\r\n".encode())
            s.sendall(f"get k{i} n{i} missing{i}\r\n".encode())
            recv_until(s, b"", b"END\r\n")
            sent["get"] += 1
            s.sendall(f"incr c{i} 1\r\ndelete k{i}\r\n".encode())
            recv_until(s, b"", b"DELETED\r\n")
            sent["incr"] += 1
            sent["delete"] += 1
        s.close()
        b = socket.create_connection(("127.0.0.1", port))
        for i in range(ROUNDS // 10):
            b.sendall(bin_req(0x00, f"k{i}", 1) +
                      bin_req(0x09, f"x{i}", 2) +
                      bin_req(0x0a, "", 3))
            buf = b""
            # GET miss answers, GETQ miss is silent, NOOP answers.
            while buf.count(b"\x81") < 2 or len(buf) < 48:
                buf += b.recv(65536)
            sent["get"] += 1
            sent["noop"] += 1
        b.close()
        m = socket.create_connection(("127.0.0.1", port))
        for i in range(ROUNDS // 10):
            # n{i} hits, missing{i} misses: the miss is silent. With k
            # the hit's reply names its key; without, it is either's.
            m.sendall(f"mg missing{i} v k q\r\nmg n{i} v k q\r\nmn\r\n"
                      f"mg n{i} v q\r\nmg missing{i} v q\r\nmn\r\n"
                      .encode())
            buf = b""
            while buf.count(b"MN\r\n") < 2:
                buf += m.recv(65536)
            sent["mg"] += 1
            sent["mn"] += 2
            # An unknown command gets ERROR, not the next one's reply.
            m.sendall(f"GET n{i}\r\nget n{i}\r\n".encode())
            recv_until(m, b"", b"END\r\n")
            sent["unknown"] += 1
            sent["get"] += 1
        m.close()
        time.sleep(0.2)
    finally:
        drops = td.stop()
    return cap, drops, sent


def main():
    srv.need("memcached", "tcpdump", "tshark")
    if os.geteuid() != 0:
        e.skip("capturing on loopback needs root")
    d = e.tmpdir()
    port = srv.free_port()
    mc = subprocess.Popen(["memcached", "-p", str(port), "-l", "127.0.0.1",
                           "-U", "0", "-u", "nobody"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not srv.wait_port(port):
            raise SystemExit("memcached did not start")
        cap, _, sent = srv.capture_retry(lambda a: capture(d, port, a))
    finally:
        mc.terminate()
        mc.wait(10)

    inst = e.instance("memcached")
    log = os.path.join(d, "mc.log")
    e.wirelat(["--pcap", cap, "--instance", inst, "--log", log,
               "--no-report"], check_rc=0)
    txns = [t for t in e.jsonl(log) if t.get("proto") == "memcached"]
    got = collections.Counter(t["method"] for t in txns
                              if t["rsp_end_ns"] and
                              "no_request" not in t["flags"])
    e.check(got == sent, f"transactions {dict(got)}, sent {dict(sent)}")
    alone = [t for t in txns if "no_request" in t["flags"]]
    e.check(len(alone) == ROUNDS // 10 and
            all("unpaired" in t["flags"] and t["status"] == "HIT"
                for t in alone),
            f"anonymous quiet hits: {len(alone)} logged alone, want "
            f"{ROUNDS // 10}, each unpaired HIT")
    e.check(all(t["status"] == "HIT" and t["resource"].startswith("n")
                for t in txns if t["method"] == "mg"),
            "a quiet mg paired with another's reply")
    e.check(all(t["status"] == "ERROR" for t in txns
                if t["method"] == "unknown"), "unknown command not ERROR")
    e.check(all(not t["flags"] for t in txns
                if "no_request" not in t["flags"]),
            "flags on a clean capture: " + str(collections.Counter(
                f for t in txns for f in t["flags"])))
    gets = [t for t in txns if t["method"] == "get" and not t["binary"]
            and t.get("keys") == 3]
    e.check(len(gets) == ROUNDS, f"{len(gets)} multi-gets, want {ROUNDS}")
    # k{i} and the noreply-set n{i} are there, missing{i} is not.
    e.check(all(t["keys"] == 3 and t["hits"] == 2 and t["status"] == "HIT"
                for t in gets), "multi-gets: 3 keys, 2 hits each")
    e.check(all(t["req_start_ns"] <= t["rsp_start_ns"] for t in txns
                if "no_request" not in t["flags"]),
            "a reply before its request")
    e.remove_instance(inst)
    e.finish()


if __name__ == "__main__":
    main()
