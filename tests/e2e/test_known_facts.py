# SPDX-License-Identifier: BSD-3-Clause
"""What is known is reported, on captures built packet by packet:

1. an HTTP 404 whose body (Content-Length) lost a segment: status, first
   and last byte kept, flagged gap, and its duration in the histogram
   (both ends are certain);
2. a chunked HTTP 200 that lost a whole chunk: where the body ends is
   lost with it, so status and first byte are kept, flagged gap, with no
   end and no duration;
3. a Redis bulk reply cut by the end of the capture: its first byte and
   type kept, flagged truncated, no duration;
4. an HTTP/1.0 200 read until close whose last segment was lost: when
   its last byte came is lost with it: status and first byte kept,
   flagged gap, no end, no duration (a gap with data after it would
   leave the end known);
5. a connection picked up mid-stream whose first packet is a response:
   logged alone with its status 404 (no_request), counted in the
   responses series, never in a duration; the client's clean close then
   proves the next request's answer, which is paired exactly.
6. a PostgreSQL query whose ErrorResponse came but whose ReadyForQuery
   is past the end of the capture: its SQLSTATE and first byte kept,
   flagged truncated, no duration.
(The far-future frame is test_impair's.)"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_cap  # noqa: E402
from wl_cap import ACK, FIN, PSH, SYN, US  # noqa: E402

CLI, SRV = wl_cap.ip4("10.0.0.1"), wl_cap.ip4("10.0.0.2")


class Conn:
    """One TCP connection of the capture, sequence numbers kept."""

    def __init__(self, cap, cport, sport, handshake_at=None):
        self.cap, self.cp, self.sp = cap, cport, sport
        self.c, self.s = 1000, 50000
        if handshake_at is not None:
            t = handshake_at
            self.send(t, 0, b"", SYN)
            self.send(t + 100, 1, b"", SYN | ACK)
            self.c, self.s = self.c + 1, self.s + 1
            self.send(t + 200, 0, b"", ACK)

    def send(self, t_us, server, data, flags=PSH | ACK, lost=False):
        """Segment of data from the client (server 0) or the server at
        t_us; lost: advance the sequence, keep it out of the capture."""
        if server:
            if not lost:
                self.cap.tcp(t_us, SRV, CLI, self.sp, self.cp, flags,
                             self.s, self.c if flags != SYN | ACK else
                             self.c + 1, data)
            self.s += len(data)
        else:
            if not lost:
                self.cap.tcp(t_us, CLI, SRV, self.cp, self.sp, flags,
                             self.c, self.s if flags != SYN else 0, data)
            self.c += len(data)

    def close_client_first(self, t_us):
        self.send(t_us, 0, b"", FIN | ACK)
        self.c += 1
        self.send(t_us + 100, 1, b"", FIN | ACK)
        self.s += 1
        self.send(t_us + 200, 0, b"", ACK)


def build(cap):
    # 1. 404, Content-Length 3000, the body's middle 1000 bytes lost.
    a = Conn(cap, 41001, 80, handshake_at=0)
    a.send(1000, 0, b"GET /gone HTTP/1.1\r\nHost: h\r\n\r\n")
    head = b"HTTP/1.1 404 Not Found\r\nContent-Length: 3000\r\n\r\n"
    a.send(2000, 1, head + bytes(1000))
    a.send(2100, 1, bytes(1000), lost=True)
    a.send(2200, 1, bytes(1000))
    a.send(2300, 0, b"", ACK)
    a.close_client_first(5000)

    # 2. Chunked 200, its second chunk (a segment of its own) lost.
    b = Conn(cap, 41002, 80, handshake_at=100000)
    b.send(101000, 0, b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
    b.send(102000, 1, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
           b"\r\n10\r\n" + b"x" * 16 + b"\r\n")
    b.send(102100, 1, b"20\r\n" + b"y" * 32 + b"\r\n", lost=True)
    b.send(102200, 1, b"0\r\n\r\n")
    b.send(102300, 0, b"", ACK)
    b.close_client_first(103000)

    # 3. Redis GET whose 5000-byte bulk is cut by the capture's end.
    c = Conn(cap, 41003, 6379, handshake_at=200000)
    c.send(201000, 0, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
    c.send(202000, 1, b"$5000\r\n" + b"v" * 1400)

    # 4. 200 read until the server closes, its last segment lost.
    r = Conn(cap, 41005, 80, handshake_at=300000)
    r.send(301000, 0, b"GET /old HTTP/1.0\r\nHost: h\r\n\r\n")
    r.send(302000, 1, b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 500)
    r.send(302100, 1, b"y" * 500, lost=True)
    r.send(303000, 1, b"", FIN | ACK)
    r.s += 1
    r.send(303100, 0, b"", FIN | ACK)
    r.c += 1
    r.send(303200, 1, b"", ACK)

    # 6. PostgreSQL: an ErrorResponse, then the capture ends.
    p = Conn(cap, 41006, 5432, handshake_at=400000)
    q = b"SELECT * FROM nope\0"
    p.send(401000, 0, b"Q" + (4 + len(q)).to_bytes(4, "big") + q)
    err = b"SERROR\0VERROR\0C42P01\0Mrelation does not exist\0\0"
    p.send(402000, 1, b"E" + (4 + len(err)).to_bytes(4, "big") + err)

    # 5. Mid-stream: an answer first, then a request and its answer,
    # then the client closes first, having had everything.
    m = Conn(cap, 41004, 80)
    m.send(150000, 1, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    m.send(150100, 0, b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n")
    m.send(150900, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    m.close_client_first(151000)
    cap.recs.sort(key=lambda r: r[0])


def by_port(txns, port):
    return [t for t in txns if t["client_port"] == port and
            t["proto"] != "tcp"]


def main():
    d = e.tmpdir()
    cap = wl_cap.Cap()
    build(cap)
    pcap = os.path.join(d, "facts.pcap")
    cap.write(pcap)
    log, st = os.path.join(d, "facts.log"), os.path.join(d, "facts.stats")
    inst = e.instance("facts")
    e.wirelat(["--pcap", pcap, "--instance", inst, "--log", log,
               "--stats-json", st, "--no-report"], check_rc=0)
    e.remove_instance(inst)
    txns = list(e.jsonl(log))
    stats = json.load(open(st))
    T0 = wl_cap.BASE

    def one(port, what, flag, start_us, end_us, **fields):
        """The connection's one transaction: flagged, its response's
        first byte at start_us, its last at end_us (None: unknown), and
        these fields."""
        t = by_port(txns, port)
        e.check(len(t) == 1 and flag in t[0]["flags"] and
                t[0]["rsp_start_ns"] == T0 + start_us * US and
                t[0]["rsp_end_ns"] == (0 if end_us is None else
                                       T0 + end_us * US) and
                all(t[0].get(k) == v for k, v in fields.items()),
                f"{what}: {t}")

    one(41001, "404 with a body gap", "gap", 2000, 2200, status_code=404,
        duration_ns=1200 * US)
    one(41002, "chunked 200 that lost a chunk", "gap", 102000, None,
        status_code=200)
    one(41003, "Redis bulk cut by the end", "truncated", 202000, None,
        method="GET", status="OK", reply_type="$")
    one(41005, "200 until close, tail lost", "gap", 302000, None,
        status_code=200)
    one(41006, "PostgreSQL error, end cut", "truncated", 402000, None,
        proto="postgresql", status="42P01")

    t = by_port(txns, 41004)
    e.check(len(t) == 2 and "no_request" in t[0]["flags"] and
            t[0]["status_code"] == 404 and t[0]["method"] == "" and
            t[1]["resource"] == "/b" and t[1]["status_code"] == 200 and
            not ({"no_request", "unpaired"} & set(t[1]["flags"])) and
            t[1]["req_start_ns"] == T0 + 150100 * US and
            t[1]["rsp_end_ns"] == T0 + 150900 * US,
            f"mid-stream answer, then a proven pair: {t}")

    # Durations: the 404 of 1 and /b of 5 only; responses: all five
    # HTTP answers, by status class.
    dur = {(s["proto"], s["method"], s["status_class"]): s["count"]
           for s in stats["series"] if s["metric"] == "duration" and
           s["proto"] in ("http", "redis")}
    e.check(dur == {("http", "GET", "client_error"): 1,
                    ("http", "GET", "ok"): 1},
            f"duration series: {dur}")
    rsp = {}
    for s in stats["series"]:
        if s["metric"] == "responses" and s["proto"] == "http":
            k = s["status_class"]
            rsp[k] = rsp.get(k, 0) + s["count"]
    e.check(rsp == {"client_error": 2, "ok": 3},
            f"responses series: {rsp}")
    c = stats["counters"]
    e.check(c["http_unmatched_responses"] == 1 and c["txn_unproven"] == 5,
            f"http_unmatched_responses {c['http_unmatched_responses']}, "
            f"txn_unproven {c['txn_unproven']}")
    e.finish()


if __name__ == "__main__":
    main()
