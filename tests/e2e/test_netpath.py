# SPDX-License-Identifier: BSD-3-Clause
"""Connection analytics on real traffic over a delayed, lossy path: two
network namespaces joined through wl_netpath (DELAY each way), an HTTP
server in one, curl fetching a large object several times over one
connection in the other, captured on both sides at once.

 - client side: server_rtt_ns is at least the path's round trip
   (2 * DELAY: the path never forwards early), and both RTTs are what
   tshark reads from the same capture, to the ns;
 - server side: the same, client_rtt_ns the far one;
 - with loss, the server's retransmissions are counted in its capture
   and the client's duplicate ACKs and SACK blocks in both; without loss
   neither capture counts a retransmission;
 - the connection record lists each fetch as a request with its time to
   first and last byte."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_servers as srv  # noqa: E402
from wl_netpath import NetPath  # noqa: E402

DELAY = 0.020           # seconds each way
SIZE = 1024 * 1024
FETCHES = 3
PORT = 8080


def one_run(d, loss):
    tag = f"wl{os.getpid() % 10000}{'l' if loss else 'c'}"
    path = NetPath(tag, DELAY, loss, seed=7)
    www = os.path.join(d, f"www-{loss}")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "obj"), "wb") as f:
        f.write(os.urandom(SIZE))
    caps = [os.path.join(d, f"{side}-{loss}.pcap") for side in ("a", "b")]
    # HTTP/1.1: one connection carries every fetch.
    server = path.popen(1, [sys.executable, "-m", "http.server", "-p",
                            "HTTP/1.1", "-b", path.addr[1], str(PORT),
                            "-d", www],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
    tds = []
    missed = [0, 0]
    try:
        for i in range(50):
            if path.run(0, ["curl", "-s", "-o", "/dev/null", "-m", "1",
                            f"http://{path.addr[1]}:{PORT}/"]).returncode \
                    == 0:
                break
            time.sleep(0.1)
        # The path's MTU is 1500: whole frames in small ring slots.
        tds = [srv.Tcpdump(caps[i], path.dev[i], f"tcp port {PORT}",
                           netns=path.ns[i], snaplen=2048)
               for i in range(2)]
        urls = [f"http://{path.addr[1]}:{PORT}/obj"] * FETCHES
        r = path.run(0, ["curl", "-s", "--http1.1", "-m", "120",
                         *[a for u in urls for a in ("-o", "/dev/null",
                                                      u)]],
                     capture_output=True, text=True)
        e.check(r.returncode == 0, f"curl: {r.stderr}")
    finally:
        # What tcpdump itself lost (a loaded machine): that side's
        # capture has holes no TCP retransmission fills.
        for i, td in enumerate(tds):
            missed[i] = td.stop()
        server.terminate()
        server.wait(10)
        dropped = path.dropped
        extra = path.unplanned_loss()
        path.close()
    # Loss recovery on this path keeps a window of data waiting ahead of
    # a hole for an RTT or more: room for it (docs/flow.md).
    conf = os.path.join(d, "wl.json")
    with open(conf, "w") as f:
        json.dump({"flow": {"ooo_max_segs": 4096,
                            "ooo_pool_segs": 16384}}, f)
    recs = []
    for side, cap in enumerate(caps):
        conns = cap + ".conn"
        inst = e.instance(f"netpath-{side}")
        e.wirelat(["--pcap", cap, "--instance", inst, "--connections",
                   conns, "--config", conf, "--no-report"], check_rc=0)
        e.remove_instance(inst)
        rs = [x for x in e.jsonl(conns) if x.get("proto") == "http"]
        e.check(len(rs) == 1, f"side {side}, loss {loss}: {len(rs)} HTTP "
                "connections")
        recs.append(rs[0] if rs else None)
    print(f"loss {loss} ({path.kind}): the path dropped {dropped} on "
          f"purpose, {extra} by itself; tcpdump missed {missed}")
    return recs, dropped, extra, caps, sum(missed)


def check_side(name, rec, cap, loss, dropped, extra, server_side):
    rtt = int(2 * DELAY * 1e9)
    far = "client_rtt_ns" if server_side else "server_rtt_ns"
    # The path never forwards early, whatever the load: the far side's
    # RTT is the path's at least. How much more depends on when its
    # carrier thread ran; both RTTs are then what the capture says.
    e.check(rec[far] >= rtt, f"{name}: {far} {rec[far]}, path RTT {rtt}")
    h = srv.tshark_handshakes(cap).get((rec["client_ip"],
                                        rec["client_port"]))
    e.check(h is not None and
            rec["server_rtt_ns"] == h["synack"] - h["syn"] and
            rec["client_rtt_ns"] == h["ack"] - h["synack"],
            f"{name}: RTTs {rec['server_rtt_ns']} {rec['client_rtt_ns']}, "
            f"tshark {h}")
    reqs = rec["requests"]
    if extra and not server_side:
        # Packets lost outside the plan may have left holes in this
        # capture: the answers' completeness cannot be required.
        reqs = [q for q in reqs if "no_response" not in q]
        e.check(len(rec["requests"]) == FETCHES, f"{name}: requests")
    e.check((len(reqs) == FETCHES or extra) and
            all(q["status"] == "200" and
                                         q["rsp_bytes"] > SIZE and
                                         q["ttfb_ns"] > 0 and
                                         q["ttlb_ns"] > q["ttfb_ns"]
                                         for q in reqs),
            f"{name}: requests {reqs}")
    print(f"{name}: server_rtt {rec.get('server_rtt_ns')} client_rtt "
          f"{rec.get('client_rtt_ns')} retrans {rec['retrans_s2c']} ooo "
          f"{rec['ooo_s2c']} dupacks {rec['dup_acks_c2s']} sack "
          f"{rec['sack_blocks_c2s']} stall {rec['stall_max_ns_s2c']} "
          f"ttlb {[q.get('ttlb_ns') for q in reqs]}")
    if not loss:
        if extra:
            # The carrier itself lost packets (a loaded machine): the
            # path was not lossless, so there is nothing to compare.
            print(f"{name}: the path lost {extra} packets by itself")
            return
        e.check(rec["retrans_s2c"] == 0 and rec["retrans_c2s"] == 0 and
                rec["gap_bytes_s2c"] == 0, f"{name}: retransmissions "
                f"without loss: {rec}")
        return
    e.check(dropped is None or dropped > 0,
            f"{name}: the path dropped nothing")
    e.check(rec["dup_acks_c2s"] > 0 and rec["sack_blocks_c2s"] > 0,
            f"{name}: dup ACKs {rec['dup_acks_c2s']} SACK "
            f"{rec['sack_blocks_c2s']}")
    if server_side:
        # The tap saw every segment the server sent, lost or not; the
        # requests place them.
        e.check(rec["retrans_s2c"] > 0, f"{name}: no retransmission seen")
        e.check(0 < sum(q.get("retrans", 0) for q in rec["requests"]) <=
                rec["retrans_s2c"], f"{name}: retransmissions per request "
                f"{[q.get('retrans') for q in rec['requests']]}")
    else:
        # Lost before this tap: holes, filled later out of order.
        e.check(rec["ooo_s2c"] > 0, f"{name}: nothing out of order")


def main():
    srv.need("tcpdump", "curl", "ip")
    if os.geteuid() != 0:
        e.skip("network namespaces and TUN devices need root")
    if not os.path.exists("/dev/net/tun"):
        e.skip("no /dev/net/tun")
    d = e.tmpdir()
    for loss in (0.0, 0.02):
        # A capture tcpdump lost packets of (a loaded machine) has holes
        # no retransmission fills: it proves nothing, take it again.
        for attempt in range(3):
            (a, b), dropped, extra, caps, missed = one_run(d, loss)
            if missed == 0:
                break
            print(f"loss {loss}: tcpdump missed {missed}, running again")
        e.check(missed == 0, f"loss {loss}: tcpdump missed packets in "
                "three runs")
        if a is None or b is None or missed:
            continue
        check_side(f"client side, loss {loss}", a, caps[0], loss, dropped,
                   extra, False)
        check_side(f"server side, loss {loss}", b, caps[1], loss, dropped,
                   extra, True)
    e.finish()


if __name__ == "__main__":
    main()
