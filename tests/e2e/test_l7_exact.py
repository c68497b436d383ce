# SPDX-License-Identifier: BSD-3-Clause
"""HTTP and Redis transactions timed to the nanosecond: generated captures
where every transaction's four timestamps are known (pipelined requests
in one segment, responses over many segments and several in one,
100-continue, a 13 kB Redis reply over ten segments, servers on
non-standard ports found by content), in several formats and link
types. Every transaction must be found with exactly those times, with
detection running every probe and through the signature database
(flow.probe_signatures)."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402


def main():
    d = e.tmpdir()
    for fmt, link, sigs in (("pcap-ns", "ether", False),
                            ("pcapng", "sll2", False),
                            ("pcap", "raw", False),
                            ("pcap-ns", "ether", True)):
        pcap = os.path.join(d, f"l7-{fmt}-{link}.pcap")
        e.gen("--scenario", "l7", "--connections", "3", "--format", fmt,
              "--link", link, "-o", pcap, "--truth", pcap + ".json")
        exp = json.load(open(pcap + ".json"))["transactions"]
        inst = e.instance("l7")
        log, st = os.path.join(d, "l7.log"), os.path.join(d, "l7.stats")
        conns = os.path.join(d, "l7.conn")
        conf = os.path.join(d, "l7.json")
        with open(conf, "w") as f:
            json.dump({"flow": {"probe_signatures": sigs}}, f)
        e.wirelat(["--pcap", pcap, "--instance", inst, "--log", log,
                   "--stats-json", st, "--connections", conns,
                   "--config", conf, "--no-report"], check_rc=0)
        txns = [t for t in e.jsonl(log) if t.get("proto") in ("http", "redis")]
        tag = f"[{fmt}/{link}{'/signatures' if sigs else ''}]"
        e.check(len(txns) == len(exp),
                f"{tag} {len(txns)} transactions, want {len(exp)}")
        left = list(txns)
        for w in exp:
            match = [t for t in left if t["client_port"] == w["client_port"]
                     and t["method"] == w["method"] and
                     t["resource"] == w["resource"]]
            if not e.check(len(match) == 1, f"{tag} {w}: {len(match)} "
                           "matching transactions"):
                continue
            t = match[0]
            left.remove(t)
            for k in ("proto", "status", "req_start_ns", "req_end_ns",
                      "rsp_start_ns", "rsp_end_ns"):
                e.check(t[k] == w[k], f"{tag} {w['method']} {w['resource']}"
                        f": {k} {t[k]}, want {w[k]}")
        # Each connection record lists exactly its own requests, in order,
        # with the generator's first and last byte times.
        for r in e.jsonl(conns):
            want = sorted((w for w in exp
                           if w["client_port"] == r["client_port"]),
                          key=lambda w: w["req_start_ns"])
            got = r["requests"]
            e.check([(q["method"], q["start_ns"]) for q in got] ==
                    [(w["method"], w["req_start_ns"]) for w in want],
                    f"{tag} {r['client_port']}: requests {got} want {want}")
            for q, w in zip(got, want):
                e.check(q["ttfb_ns"] == w["rsp_start_ns"] - w["req_end_ns"]
                        and q["ttlb_ns"] == w["rsp_end_ns"] - w["req_end_ns"]
                        and q["transfer_ns"] == w["rsp_end_ns"] -
                        w["rsp_start_ns"], f"{tag} {r['client_port']}: "
                        f"request times {q}, want {w}")
        c = json.load(open(st))["counters"]
        for p in ("http", "redis"):
            e.check(c[f"{p}_parse_errors"] == 0 and
                    c[f"{p}_unmatched_requests"] == 0 and
                    c[f"{p}_unmatched_responses"] == 0,
                    f"{tag} {p} counters {c}")
        e.remove_instance(inst)
    e.finish()


if __name__ == "__main__":
    main()
