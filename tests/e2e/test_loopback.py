# SPDX-License-Identifier: BSD-3-Clause
"""Real traffic: curl against nginx on 127.0.0.1, captured by tcpdump with
nanosecond timestamps. wirelat's handshake times equal tshark's to the ns;
reading the same file through DPDK's net_pcap (microsecond timestamps)
agrees to the microsecond."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_servers as srv  # noqa: E402

N = 30


def capture(d, port, attempt):
    """N curl fetches under a capture: @return (capture, tcpdump drops)."""
    cap = os.path.join(d, f"lo-{attempt}.pcap")
    td = srv.Tcpdump(cap, "lo", f"tcp port {port}")
    try:
        for i in range(N):
            path = "big.bin" if i % 5 == 0 else "index.html"
            subprocess.run(["curl", "-s", "-o", "/dev/null",
                            f"http://127.0.0.1:{port}/{path}"],
                           check=True, timeout=30)
    finally:
        drops = td.stop()
    return cap, drops


def main():
    srv.need("curl", "tshark", "tcpdump", "nginx")
    if os.geteuid() != 0:
        e.skip("capturing on loopback needs root")
    d = e.tmpdir()
    os.chmod(d, 0o755)
    ng = srv.Nginx(d)
    try:
        cap, _ = srv.capture_retry(lambda a: capture(d, ng.port, a))
    finally:
        ng.stop()

    truth = srv.tshark_handshakes(cap)
    e.check(len(truth) == N, f"tshark sees {len(truth)} handshakes")
    inst = e.instance("loopback")
    log = os.path.join(d, "pcap.log")
    conns = os.path.join(d, "pcap.conn")
    e.wirelat(["--pcap", cap, "--instance", inst, "--log", log,
               "--connections", conns, "--no-report"], check_rc=0)
    got = {(t["client_ip"], t["client_port"]): t for t in e.jsonl(log)
           if t["proto"] == "tcp"}
    e.check(len(got) == N, f"wirelat: {len(got)} handshakes, want {N}")
    for c, h in truth.items():
        t = got.get(c)
        if not e.check(t is not None, f"{c}: missing"):
            continue
        e.check(t["status"] == "established" and t["ts_source"] == "pcap",
                f"{c}: {t['status']} {t['ts_source']}")
        e.check(t["req_start_ns"] == h["syn"], f"{c}: SYN time "
                f"{t['req_start_ns']} vs tshark {h['syn']}")
        e.check(t["rsp_start_ns"] == h["synack"], f"{c}: SYN/ACK time")
        e.check(t["client_rtt_ns"] == h["ack"] - h["synack"],
                f"{c}: client rtt {t['client_rtt_ns']} vs "
                f"{h['ack'] - h['synack']}")
    # Every frame and byte, each way, as tshark counts them. 64 KB loopback
    # frames arrive whole (chained mbufs); bytes tcpdump itself dropped are
    # gaps of exactly their size.
    for r in e.jsonl(conns):
        c = (r["client_ip"], r["client_port"])
        h = truth.get(c)
        if h is None and "midstream" in r["flags"] and \
                r["payload_bytes_c2s"] + r["payload_bytes_s2c"] == 0:
            # The last packets of a connection of an earlier attempt
            # (its FIN, late on a loaded machine): seen mid-stream.
            continue
        if not e.check(h is not None, f"{c}: record for an unknown flow"):
            continue
        for dr in ("c2s", "s2c"):
            e.check([r[f"pkts_{dr}"], r[f"wire_bytes_{dr}"], r[f"payload_bytes_{dr}"]]
                    == h[dr], f"{c} {dr}: wirelat {r[f'pkts_{dr}']} pkts "
                    f"{r[f'wire_bytes_{dr}']} B {r[f'payload_bytes_{dr}']} payload, "
                    f"tshark {h[dr]}")
            # A loaded machine drops on loopback too (the backlog
            # queue), after the tap saw the frame: TCP resends it. Every
            # byte seen is delivered once or counted as resent.
            e.check(r[f"bytes_{dr}"] + r[f"retrans_bytes_{dr}"] ==
                    r[f"payload_bytes_{dr}"] and
                    r[f"bytes_{dr}"] + r[f"gap_bytes_{dr}"] ==
                    h[f"{dr}_end"], f"{c} {dr}: delivered + resent != "
                    f"payload or delivered + gap != stream length "
                    f"{h[f'{dr}_end']}: {r}")

    # Same file through DPDK's net_pcap PMD: microsecond timestamps.
    log2 = os.path.join(d, "vdev.log")
    p = e.wirelat(["--vdev", f"net_pcap0,rx_pcap={cap}", "--instance", inst,
                   "--log", log2, "--no-report"], check_rc=0)
    via = {(t["client_ip"], t["client_port"]): t for t in e.jsonl(log2)
           if t["proto"] == "tcp"}
    e.check(set(via) == set(got), "the two paths see other connections")
    for c, t in got.items():
        v = via.get(c)
        if v is None:
            continue
        for k in ("req_start_ns", "rsp_start_ns"):
            e.check(v[k] == t[k] // 1000 * 1000,
                    f"{c}: {k} net_pcap {v[k]} vs --pcap {t[k]} (µs)")
        e.check(abs(v["duration_ns"] - t["duration_ns"]) < 1000 and
                abs(v["client_rtt_ns"] - t["client_rtt_ns"]) < 1000,
                f"{c}: RTTs differ by a microsecond or more")
    e.remove_instance(inst)
    e.finish()


if __name__ == "__main__":
    main()
