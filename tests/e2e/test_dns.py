# SPDX-License-Identifier: BSD-3-Clause
"""DNS against a real unbound on 127.0.0.1 answering from local data (no
internet), captured during the test: UDP queries of several types (a
truncated answer among them), a retransmitted query answered twice, a
query to a port nobody answers (timed out by protocols.dns_timeout_ms),
and a TCP connection with many queries in flight. Every transaction's
response time equals tshark's dns.time for that response, and the counts
per (transport, type, RCODE) equal what was sent."""

import collections
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_servers as srv  # noqa: E402

UDP_ROUNDS = 40
TCP_INFLIGHT = 16     # the pending limit per flow (docs/timing.md)
BIG = " ".join('"' + c * 200 + '"' for c in "abc")

# (name, qtype, type mnemonic, RCODE name, EDNS0)
QUERIES = [
    ("a.wl.test", 1, "A", "NOERROR", True),
    ("a.wl.test", 28, "AAAA", "NOERROR", False),
    ("nx.wl.test", 1, "A", "NXDOMAIN", True),
    ("big.wl.test", 16, "TXT", "NOERROR", False),   # > 512: TC over UDP
    ("A.Wl.TEST", 15, "MX", "NOERROR", True),       # no data, any case
]


def query(qid, name, qtype, edns):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    if edns:
        q += b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000, 0)
    return q


def unbound(d, port):
    conf = os.path.join(d, "unbound.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
  interface: 127.0.0.1
  port: {port}
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "wl.test." static
  local-data: "a.wl.test. 300 IN A 192.0.2.1"
  local-data: "a.wl.test. 300 IN AAAA 2001:db8::1"
  local-data: 'big.wl.test. 300 IN TXT {BIG}'
remote-control:
  control-enable: no
""")
    return subprocess.Popen(["unbound", "-d", "-c", conf],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def tcp_msgs(s, n):
    """Read n length-prefixed answers; returns their ids."""
    buf, ids = b"", []
    while len(ids) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("unbound closed the TCP connection")
        buf += chunk
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H",
                                                              buf[:2])[0]:
            ln = struct.unpack(">H", buf[:2])[0]
            ids.append(struct.unpack(">H", buf[2:4])[0])
            buf = buf[2 + ln:]
    return ids


def workload(port, dead, relay):
    """Sends the queries; returns the expected Counter of answered
    (transport, method, status) and the query ids by client port."""
    sent = collections.Counter()
    rnd = random.Random(4)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    for i in range(UDP_ROUNDS):
        name, qt, mn, rc, edns = QUERIES[i % len(QUERIES)]
        qid = rnd.randrange(65536)
        u.sendto(query(qid, name, qt, edns), ("127.0.0.1", port))
        while struct.unpack(">H", u.recv(65536)[:2])[0] != qid:
            pass
        sent[("udp", mn, rc)] += 1
    u.close()
    # The same query twice: one transaction (the first answer), one
    # retransmission, one duplicate answer. Loopback is too fast for a
    # client to retransmit before unbound answers, so a relay on `relay`
    # holds the first copy, forwards the second to unbound and sends its
    # answer back twice.
    rl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rl.bind(("127.0.0.1", relay))
    rl.settimeout(5)
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.settimeout(5)
    q = query(4242, "a.wl.test", 1, False)
    r.sendto(q, ("127.0.0.1", relay))
    rl.recvfrom(65536)
    r.sendto(q, ("127.0.0.1", relay))
    q2, cli = rl.recvfrom(65536)
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.settimeout(5)
    up.sendto(q2, ("127.0.0.1", port))
    a = up.recv(65536)
    rl.sendto(a, cli)
    rl.sendto(a, cli)
    r.recv(65536)
    r.recv(65536)
    for so in (r, rl, up):
        so.close()
    sent[("udp", "A", "NOERROR")] += 2      # client-relay, relay-unbound
    # Nobody answers on `dead`: the first query times out (1 s of packet
    # time: at least 1.3 s pass before the second, whatever the load),
    # the second is the capture's last packet, still waiting at its end.
    x = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    x.sendto(query(1, "a.wl.test", 1, False), ("127.0.0.1", dead))
    time.sleep(1.3)
    # TCP: many queries in flight on one connection, in one write.
    t = socket.create_connection(("127.0.0.1", port))
    batch = b""
    for i in range(TCP_INFLIGHT):
        name, qt, mn, rc, edns = QUERIES[i % len(QUERIES)]
        m = query(1000 + i, name, qt, edns)
        batch += struct.pack(">H", len(m)) + m
        sent[("tcp", mn, rc)] += 1
    t.sendall(batch)
    tcp_msgs(t, TCP_INFLIGHT)
    t.close()
    x.sendto(query(2, "a.wl.test", 28, False), ("127.0.0.1", dead))
    x.close()
    return sent


def tshark_times(cap, ports):
    """dns.time of the first answer per (transport, client port, id), ns."""
    srv.need("tshark")
    dec = []
    for p in ports:
        dec += ["-d", f"udp.port=={p},dns", "-d", f"tcp.port=={p},dns"]
    out = e.run(["tshark", "-r", cap, "-n", *dec,
                 "-Y", "dns.flags.response == 1",
                 "-T", "fields", "-E", "separator=/t",
                 "-e", "udp.dstport", "-e", "tcp.dstport", "-e", "dns.id",
                 "-e", "dns.time"], check_rc=0).stdout
    got = {}
    for line in out.splitlines():
        up, tp, ids, times = (line.split("\t") + ["", "", "", ""])[:4]
        # Several answers in one TCP segment come comma-separated.
        for qid, tm in zip(ids.split(","), times.split(",")):
            if not tm:
                continue
            key = ("udp" if up else "tcp", int(up or tp), int(qid, 16)
                   if qid.startswith("0x") else int(qid))
            got.setdefault(key, e.ns_of(tm))
    return got


def capture(d, port, dead, relay, attempt):
    """The workload under a capture: @return (capture, tcpdump drops, the
    expected answers)."""
    cap = os.path.join(d, f"dns-{attempt}.pcap")
    td = srv.Tcpdump(cap, "lo", f"port {port} or port {dead} or "
                     f"port {relay}")
    try:
        sent = workload(port, dead, relay)
    finally:
        drops = td.stop()
    return cap, drops, sent


def main():
    srv.need("unbound", "tcpdump", "tshark")
    if os.geteuid() != 0:
        e.skip("capturing on loopback needs root")
    d = e.tmpdir()
    os.chmod(d, 0o755)
    port, dead, relay = srv.free_port(), srv.free_port(), srv.free_port()
    ub = unbound(d, port)
    try:
        if not srv.wait_port(port):
            raise SystemExit("unbound did not start")
        # tshark's lost segments are TCP's: the relay's deliberate UDP
        # retransmission does not make the capture damaged.
        cap, _, sent = srv.capture_retry(
            lambda a: capture(d, port, dead, relay, a))
    finally:
        ub.terminate()
        ub.wait(10)

    inst = e.instance("dns")
    log = os.path.join(d, "dns.log")
    st = os.path.join(d, "stats.json")
    conf = os.path.join(d, "wl.json")
    with open(conf, "w") as f:
        json.dump({"protocols": {"dns_timeout_ms": 1000}}, f)
    e.wirelat(["--pcap", cap, "--instance", inst, "--log", log,
               "--config", conf, "--stats-json", st, "--no-report"],
              check_rc=0)
    txns = [t for t in e.jsonl(log) if t.get("proto") == "dns"]
    answered = [t for t in txns if t["rsp_end_ns"]]
    got = collections.Counter((t["transport"], t["method"], t["status"])
                              for t in answered)
    e.check(got == sent, f"answered {dict(got)}, sent {dict(sent)}")

    times = tshark_times(cap, (port, dead, relay))
    bad = []
    for t in answered:
        key = (t["transport"], t["client_port"], t["id"])
        if "retrans" in t["flags"]:
            continue
        if times.get(key) != t["duration_ns"]:
            bad.append((key, t["duration_ns"], times.get(key)))
    e.check(not bad, f"{len(bad)} response times differ from tshark's "
            f"dns.time: {bad[:5]}")
    e.check(len(times) == len(answered) + 0,
            f"tshark answered {len(times)}, wirelat {len(answered)}")

    tc = [t for t in answered if t["method"] == "TXT"]
    e.check(tc and all(t["tc"] == (t["transport"] == "udp") for t in tc),
            "TC set on the UDP TXT answers only")
    e.check(all(t["edns"] == (t["method"] in ("A", "MX") and t["id"] != 4242)
                for t in answered if t["resource"] != "nx.wl.test"),
            "edns where the query had an OPT record")
    e.check(all(t["resource"] == "a.wl.test" for t in answered
                if t["method"] == "MX"), "names in lower case")
    rt = [t for t in answered if "retrans" in t["flags"]]
    e.check(len(rt) == 1 and rt[0]["retransmits"] == 1,
            f"one retransmitted query: {rt}")
    lost = sorted((t for t in txns if not t["rsp_end_ns"]),
                  key=lambda t: t["req_start_ns"])
    e.check([(t["server_port"], t["status"]) for t in lost] ==
            [(dead, "no_response")] * 2, f"unanswered: {lost}")
    e.check(len(lost) == 2 and "timeout" in lost[0]["flags"] and
            "end_of_capture" in lost[1]["flags"],
            "the first timed out, the second was pending at the end")
    c = json.load(open(st))["counters"]
    e.check(c.get("dns_retransmits") == 1 and c.get("dns_duplicates") == 1,
            f"retransmits {c.get('dns_retransmits')}, duplicates "
            f"{c.get('dns_duplicates')}")
    e.check(c.get("dns_parse_errors") == 0, "no parse errors")
    e.check(c.get("flow_gaps") == 0, f"a whole capture, {c.get('flow_gaps')} "
            "gaps")
    e.remove_instance(inst)
    e.finish()


if __name__ == "__main__":
    main()
