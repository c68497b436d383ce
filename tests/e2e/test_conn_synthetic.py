# SPDX-License-Identifier: BSD-3-Clause
"""Connection analytics against a capture built here packet by packet,
with every time, ID, window and sequence number chosen: an HTTP fetch
whose response has a segment out of order, a retransmitted segment, a
zero window, a duplicate ACK with a SACK block and a jump in the server's
IP IDs; a refused connection; a connection picked up mid-stream. Each
field of the connection records must equal what was built."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_cap  # noqa: E402

US = wl_cap.US
SYN, RST, PSH, ACK, FIN = wl_cap.SYN, wl_cap.RST, wl_cap.PSH, wl_cap.ACK, \
    wl_cap.FIN
Cap, ip4 = wl_cap.Cap, wl_cap.ip4


def build(cap):
    """Returns the expected records by client port."""
    cli, srv = ip4("10.0.0.1"), ip4("10.0.0.2")
    want = {}

    # 1. A fetch: handshake RTTs 1000 us and 300 us.
    cp, ci, si = 40000, 1000, 9000

    def c2s(t, fl, seq, ack, data=b"", **kw):
        cap.tcp(t, cli, srv, cp, 80, fl, seq, ack, data, **kw)

    def s2c(t, fl, seq, ack, data=b"", **kw):
        cap.tcp(t, srv, cli, 80, cp, fl, seq, ack, data, **kw)

    c2s(0, SYN, ci, 0, ipid=100)
    s2c(1000, SYN | ACK, si, ci + 1, ipid=5000)
    c2s(1300, ACK, ci + 1, si + 1, ipid=101)
    req = b"GET /obj HTTP/1.1\r\nHost: a\r\n\r\n"
    c2s(2000, PSH | ACK, ci + 1, si + 1, req, ipid=102)
    c1 = ci + 1 + len(req)
    body = bytes(4000)
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n"
    resp = head + body
    cuts = [0, 1000, 2000, 3000, len(resp)]
    seg = [resp[cuts[i]:cuts[i + 1]] for i in range(4)]
    off = [si + 1 + c for c in cuts]
    # The third segment is captured after the fourth (out of order), the
    # second is sent again; server IP IDs step by one in capture order,
    # then jump by four (three packets the tap did not see).
    s2c(3000, ACK, off[0], c1, seg[0], ipid=5001)
    s2c(3100, ACK, off[1], c1, seg[1], ipid=5002)
    s2c(3200, ACK, off[3], c1, seg[3], ipid=5003)       # ahead of a hole
    c2s(3210, ACK, c1, off[2], ipid=103)                # ACK up to the hole
    c2s(3220, ACK, c1, off[2], ipid=104,                # duplicate, SACK
        sack=(off[3], off[3] + len(seg[3])))
    s2c(3250, ACK, off[2], c1, seg[2], ipid=5004)       # fills it
    s2c(3400, ACK, off[1], c1, seg[1], ipid=5005)       # retransmitted
    end = off[3] + len(seg[3])
    c2s(3500, ACK, c1, end, win=0, ipid=105)            # window closed
    c2s(3800, ACK, c1, end, win=64000, ipid=106)        # 300 us later open
    c2s(4000, FIN | ACK, c1, end, ipid=107)
    s2c(4100, FIN | ACK, end, c1 + 1, ipid=5009)        # IDs 5006-5008 unseen
    c2s(4200, ACK, c1 + 1, end + 1, ipid=108)
    # Server data packets, in capture order: 3000 3100 3200 3250 3400;
    # the client's data (the request) came before, so one burst.
    gaps = [100, 100, 50, 150]
    want[cp] = {
        "server_rtt_ns": 1000 * US, "client_rtt_ns": 300 * US,
        "syn_retrans": 0, "pkts_c2s": 9, "pkts_s2c": 7,
        "bytes_c2s": len(req), "bytes_s2c": len(resp),
        "retrans_s2c": 1, "retrans_bytes_s2c": len(seg[1]),
        "retrans_c2s": 0, "ooo_s2c": 1, "ooo_c2s": 0,
        "dup_acks_c2s": 1, "dup_acks_s2c": 0,
        "sack_blocks_c2s": 1, "zero_window_c2s": 1,
        "zero_window_ns_c2s": 300 * US, "zero_window_s2c": 0,
        "ipid_gaps_s2c": 1, "ipid_missing_s2c": 3, "ipid_gaps_c2s": 0,
        "stall_max_ns_s2c": max(gaps) * US, "stalls_s2c": 0,
        "gap_bytes_s2c": 0, "close": "fin_client",
        "ipg_s2c": {"count": len(gaps), "min_ns": min(gaps) * US,
                    "max_ns": max(gaps) * US, "above_threshold": 0},
        # The answer is whole at 3250 (its last segment came first): the
        # resend at 3400 is after it, the hole and two gaps inside it.
        "requests": [{"method": "GET", "status": "200",
                      "ttfb_ns": 1000 * US, "ttlb_ns": 1250 * US,
                      "stall_ns": 100 * US, "retrans": 0, "ooo": 1}],
    }

    # 2. Refused: RST/ACK 500 us after the SYN.
    cap.tcp(10000, cli, srv, 40001, 80, SYN, 5000, 0, ipid=200)
    cap.tcp(10500, srv, cli, 80, 40001, RST | ACK, 0, 5001, ipid=0)
    want[40001] = {"close": "rst_server", "server_rtt_ns": None,
                   "client_rtt_ns": None, "flags": ["refused"],
                   "requests": []}

    # 3. Picked up mid-stream: no handshake, so no RTT fields at all.
    cap.tcp(20000, cli, srv, 40002, 80, PSH | ACK, 7000, 8000, req,
            ipid=300)
    r2 = b"HTTP/1.1 204 No Content\r\n\r\n"
    cap.tcp(20700, srv, cli, 80, 40002, PSH | ACK, 8000, 7000 + len(req),
            r2, ipid=400)
    # Its answer may be to a request sent before the capture (a
    # pipelining client), and no close settles it: logged apart.
    want[40002] = {"server_rtt_ns": None, "client_rtt_ns": None,
                   "close": "end_of_capture", "flags": ["midstream"],
                   "requests": [{"method": "", "status": "204",
                                 "no_request": True, "no_response": None,
                                 "ttfb_ns": None},
                                {"method": "GET", "status": "no_response",
                                 "no_request": None, "no_response": True,
                                 "ttfb_ns": None}]}
    return want


def main():
    d = e.tmpdir()
    pcap = os.path.join(d, "conn.pcap")
    cap = Cap()
    want = build(cap)
    cap.write(pcap)
    conns = os.path.join(d, "conn.jsonl")
    inst = e.instance("conn-synth")
    e.wirelat(["--pcap", pcap, "--instance", inst, "--connections", conns,
               "--no-report"], check_rc=0)
    e.remove_instance(inst)
    recs = {r["client_port"]: r for r in e.jsonl(conns)}
    e.check(set(recs) == set(want), f"connections {sorted(recs)}")
    for port, w in want.items():
        r = recs.get(port, {})
        for k, v in w.items():
            got = r.get(k)
            if k == "ipg_s2c" and got is not None:
                got = {x: got[x] for x in v}
            elif k == "flags":
                got = [f for f in (got or []) if f in v]
            elif k == "requests":
                got = [{x: q.get(x) for x in v[0]} for q in got or []] \
                    if v else got
            e.check(got == v, f"{port} {k}: {got}, want {v}")
    e.finish()


if __name__ == "__main__":
    main()
