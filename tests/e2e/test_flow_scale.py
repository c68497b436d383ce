# SPDX-License-Identifier: BSD-3-Clause
"""A million TCP connections open at once, in a table sized for them
(flow.max_flows 2^20): every one is tracked from its SYN (flow_created is
the capture's connection count, all of them in the table at its peak),
none is evicted or refused room in the buckets (at 98% of flow.max_flows
the buckets are 83% full: cuckoo moves make the room), no part pool runs
dry at its default size, and every handshake is found and timed: one
handshake transaction per connection, and per server as many client
RTTs as the capture completed handshakes.

The capture is gen's bench workload (4 packets per connection on average,
so most are young: handshakes in flight, first requests); L7 parsing is
off (its state would be the test's memory), so the transactions counted
are the TCP handshakes. Memory and time are what scripts/bench-flows
measures; nothing here depends on either."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402

CONNS = 1050000
PACKETS = 4 * CONNS
MAX_FLOWS = 1 << 20
PROTOS = ["http", "redis", "memcached", "postgresql", "mysql", "dns"]


def main():
    d = e.tmpdir()
    pcap, truth_path = os.path.join(d, "m.pcap"), os.path.join(d, "t.json")
    conf, st = os.path.join(d, "c.json"), os.path.join(d, "s.json")
    # PostgreSQL's messages are the bench workload's smallest: the
    # capture is 0.7 GB.
    e.gen("--scenario", "bench", "--connections", str(CONNS), "--proto",
          "postgresql", "--seed", "1", "--packets", str(PACKETS), "-o", pcap,
          "--truth", truth_path)
    truth = json.load(open(truth_path))
    with open(conf, "w") as f:
        json.dump({"eal": {"memory_mb": 2048},
                   "flow": {"max_flows": MAX_FLOWS, "tcp_syn_ms": 3600000,
                            "tcp_idle_ms": 3600000},
                   "protocols": {"disabled": PROTOS}}, f)
    inst = e.instance("flowscale")
    e.wirelat(["--pcap", pcap, "--huge", "off", "--config", conf,
               "--instance", inst, "--stats-json", st, "--no-report"],
              check_rc=0, timeout=900)
    os.unlink(pcap)
    s = json.load(open(st))
    c = s["counters"]
    n = truth["connections_count"]
    e.check(n >= 1000000, f"the capture opens {n} connections")
    e.check(c["flow_created"] == n, f"flow_created {c['flow_created']}, "
            f"connections {n}")
    e.check(c["flow_active_peak"] == n, f"flow_active_peak "
            f"{c['flow_active_peak']}: not all {n} at once")
    for k in ("flow_evicted", "flow_hash_full", "flow_handshake_full",
              "flow_extra_full", "flow_ipv6_full", "flow_events_full",
              "flow_probing_full", "flow_reorder_full", "flow_expired",
              "flow_midstream", "pkt_duplicate", "pkt_dedup_overflow"):
        e.check(c[k] == 0, f"{k} {c[k]}")
    e.check(c["flow_handshakes"] == n, f"flow_handshakes "
            f"{c['flow_handshakes']}, connections {n}")
    for srv, want in truth["servers"].items():
        ip, port = srv.rsplit(":", 1)
        got = sum(x["count"] for x in s["series"]
                  if x["metric"] == "client_rtt" and x["server_ip"] == ip and
                  x["server_port"] == int(port))
        e.check(got == want["established"], f"{srv}: {got} handshakes "
                f"timed, {want['established']} completed")
    e.remove_instance(inst)
    e.finish()


if __name__ == "__main__":
    main()
