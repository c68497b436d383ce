# SPDX-License-Identifier: BSD-3-Clause
"""HTTP against a real nginx on 127.0.0.1, captured with nanosecond
timestamps: a keep-alive client fetching small and 1 MB files and 404s,
then a pipelined burst written in one packet. Every response is one
transaction, paired with its own request, and rsp_end_ns - req_end_ns
equals tshark's http.time for every one of them. Then a 1 MB POST that
nginx answers from its headers alone, before the body is sent: the
transaction keeps the request's own size and last byte, and the GET after
it on the connection is paired with its own answer."""

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_servers as srv  # noqa: E402


def read_response(sock, buf):
    """Read one response (Content-Length framed) from sock."""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, _, rest = buf.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        rest += sock.recv(1 << 20)
    return int(head.split()[1]), rest[n:]


def capture(d, port, plan, burst, attempt):
    """The keep-alive requests, then the pipelined burst, under a capture:
    @return (capture, tcpdump drops, the status codes in order)."""
    cap = os.path.join(d, f"http-{attempt}.pcap")
    statuses = []
    td = srv.Tcpdump(cap, "lo", f"tcp port {port}")
    try:
        s = socket.create_connection(("127.0.0.1", port))
        buf = b""
        for path in plan:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n"
                      .encode())
            st, buf = read_response(s, buf)
            statuses.append(st)
        # Pipelined: every request in one write, one packet.
        s.sendall(b"".join(f"GET {p} HTTP/1.1\r\nHost: t\r\n\r\n"
                           .encode() for p in burst))
        for _ in burst:
            st, buf = read_response(s, buf)
            statuses.append(st)
        s.close()
    finally:
        drops = td.stop()
    return cap, drops, statuses


POST_BODY = 1 << 20


def capture_post(d, port, attempt):
    """A POST answered before its body is sent, then a GET, under a
    capture: @return (capture, tcpdump drops, the POST's header bytes)."""
    cap = os.path.join(d, f"post-{attempt}.pcap")
    head = (f"POST /post HTTP/1.1\r\nHost: t\r\n"
            f"Content-Length: {POST_BODY}\r\n\r\n").encode()
    td = srv.Tcpdump(cap, "lo", f"tcp port {port}")
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(head)
        st, buf = read_response(s, b"")
        if st != 200:
            raise SystemExit(f"POST /post: nginx answered {st}")
        s.sendall(os.urandom(POST_BODY))
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n")
        st, buf = read_response(s, buf)
        s.close()
    finally:
        drops = td.stop()
    return cap, drops, len(head)


def check_post(d, cap, head_len, port):
    inst = e.instance("http-post")
    log = os.path.join(d, "post.log")
    e.wirelat(["--pcap", cap, "--instance", inst, "--log", log,
               "--no-report"], check_rc=0)
    txns = [t for t in e.jsonl(log) if t.get("proto") == "http"]
    seen = [(t["method"], t["status_code"], t["flags"]) for t in txns]
    e.check([t["method"] for t in txns] == ["POST", "GET"] and
            [t["status_code"] for t in txns] == [200, 200],
            f"early answer: {seen}")
    if len(txns) != 2:
        return
    post, get = txns
    # The client packet that carried the body's last byte (the kernel
    # may have sent it together with the GET).
    last = head_len + POST_BODY         # relative sequence number
    body_end = None
    out = subprocess.run(
        ["tshark", "-r", cap, "-Y", f"tcp.dstport == {port} && tcp.len > 0",
         "-T", "fields", "-e", "frame.time_epoch", "-e", "tcp.seq",
         "-e", "tcp.len"],
        capture_output=True, text=True, check=True).stdout.splitlines()
    for line in out:
        ts, seq, ln = line.split("\t")
        if int(seq) <= last < int(seq) + int(ln):
            body_end = e.ns_of(ts)
            break
    e.check(post["req_bytes"] == head_len + POST_BODY,
            f"POST req_bytes {post['req_bytes']}, sent "
            f"{head_len + POST_BODY}")
    e.check(post["req_end_ns"] == body_end,
            f"POST req_end_ns {post['req_end_ns']}, body's last packet "
            f"{body_end}")
    e.check(post["rsp_end_ns"] < post["req_end_ns"] and not post["flags"],
            f"POST answered before its body: {post}")
    e.check(get["resource"] == "/index.html" and not get["flags"] and
            get["req_start_ns"] >= post["req_end_ns"] and
            get["rsp_start_ns"] >= get["req_end_ns"],
            f"the GET after the early answer: {get}")
    e.remove_instance(inst)


def main():
    srv.need("tshark", "tcpdump", "nginx")
    if os.geteuid() != 0:
        e.skip("capturing on loopback needs root")
    d = e.tmpdir()
    os.chmod(d, 0o755)
    ng = srv.Nginx(d)
    with open(os.path.join(ng.d, "www", "mb.bin"), "wb") as f:
        f.write(os.urandom(1 << 20))
    plan = ["/index.html", "/mb.bin", "/missing", "/index.html", "/mb.bin",
            "/nope/x?y=1"]
    burst = ["/index.html", "/missing", "/index.html", "/big.bin",
             "/index.html"]
    try:
        cap, _, statuses = srv.capture_retry(
            lambda a: capture(d, ng.port, plan, burst, a))
        pcap, _, head_len = srv.capture_retry(
            lambda a: capture_post(d, ng.port, a))
    finally:
        ng.stop()
    check_post(d, pcap, head_len, ng.port)

    inst = e.instance("http")
    log = os.path.join(d, "http.log")
    e.wirelat(["--pcap", cap, "--instance", inst, "--log", log,
               "--no-report"], check_rc=0)
    txns = [t for t in e.jsonl(log) if t.get("proto") == "http"]
    paths = plan + burst
    e.check(len(txns) == len(paths),
            f"{len(txns)} http transactions, want {len(paths)}")
    for t, path, st in zip(txns, paths, statuses):
        res, _, q = path.partition("?")
        e.check(t["resource"] == res and t["query"] == q and
                t["status_code"] == st and t["method"] == "GET",
                f"{path}: got {t['resource']} {t['query']} "
                f"{t['status_code']}, want {st}")
        e.check(t["req_start_ns"] <= t["req_end_ns"] <= t["rsp_start_ns"]
                <= t["rsp_end_ns"], f"{path}: timestamps out of order {t}")
        e.check(t["status_class"] == ("client_error" if st == 404 else "ok"),
                f"{path}: class {t['status_class']}")
        if path.endswith("mb.bin"):
            e.check(t["rsp_body_bytes"] == 1 << 20 and
                    t["rsp_end_ns"] > t["rsp_start_ns"],
                    f"{path}: a 1 MB response spans segments: {t}")
    # The burst's requests share one packet, each gets its own response.
    b = txns[len(plan):]
    e.check(len({t["req_start_ns"] for t in b}) == 1,
            "pipelined requests should share their packet's timestamp")
    e.check(len({t["rsp_end_ns"] for t in b}) == len(b) or
            len(b) != len(burst), "each pipelined response its own end")

    # tshark's http.time: request's last segment -> response's last.
    out = subprocess.run(
        ["tshark", "-r", cap, "-Y", "http.response", "-T", "fields",
         "-e", "http.time", "-e", "http.response.code"],
        capture_output=True, text=True, check=True).stdout.split("\n")
    ts = [l.split("\t") for l in out if l.strip()]
    e.check(len(ts) == len(txns), f"tshark: {len(ts)} responses")
    compared = 0
    for t, (ht, code) in zip(txns, ts):
        e.check(t["status_code"] == int(code), f"{t['resource']}: status "
                f"{t['status_code']}, tshark {code}")
        if not ht:
            # tshark pairs only the first request of a packet holding
            # several (pipelining): it has no http.time for the rest.
            continue
        compared += 1
        ns = e.ns_of(ht)
        e.check(t["rsp_end_ns"] - t["req_end_ns"] == ns and
                t["status_code"] == int(code),
                f"{t['resource']}: wirelat {t['rsp_end_ns'] - t['req_end_ns']}"
                f" ns, tshark http.time {ns} ns ({code})")
    e.check(compared >= len(plan) + 1, f"only {compared} http.time values")
    e.remove_instance(inst)
    e.finish()


if __name__ == "__main__":
    main()
