# SPDX-License-Identifier: BSD-3-Clause
"""Lcore layouts give identical results: run-to-completion on one lcore,
and RX -> ring -> parser pipelines with one and with two parser lcores
(flows sharded by the symmetric hash, both directions on one parser)."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402


def norm(path):
    out = set()
    for t in e.jsonl(path):
        # (syn_unanswered lines of the connection log have neither)
        t.pop("lcore", None)
        t.pop("flow_id", None)
        out.add(json.dumps(t, sort_keys=True))
    return out


def main():
    d = e.tmpdir()
    pcap = os.path.join(d, "c.pcap")
    e.gen("--scenario", "sample", "--connections", "1500", "--seed", "7",
          "-o", pcap, "--truth", pcap + ".json")
    exp = json.load(open(pcap + ".json"))
    cpus = sorted(os.sched_getaffinity(0))
    a, b = cpus[0], cpus[-1]
    layouts = {
        "rtc": [],
        "pipeline-1": ["--lcores", f"0@{a},1@{b},2@{b}", "--mode",
                       "pipeline"],
        "pipeline-2": ["--lcores", f"0@{a},1@{b},2@{a},3@{b}", "--mode",
                       "pipeline", "--rx-lcores", "1", "--parser-lcores",
                       "2,3"],
    }
    res = {}
    for name, extra in layouts.items():
        inst = e.instance(f"cores-{name}")
        log, st, conns = (os.path.join(d, f"{name}.{x}")
                          for x in ("log", "stats", "conn"))
        e.wirelat(["--pcap", pcap, "--instance", inst, "--log", log,
                   "--stats-json", st, "--connections", conns,
                   "--no-report"] + extra, check_rc=0)
        s = json.load(open(st))
        res[name] = (norm(log), norm(conns), s)
        hs = [t for t in e.jsonl(log) if t.get("proto") == "tcp"]
        # Unanswered SYNs alone are in syn_unanswered lines (of the
        # connection log), counted in txn_log_syn_folded.
        e.check(len(hs) + s["counters"]["txn_log_syn_folded"] ==
                len(exp["connections"]),
                f"{name}: {len(hs)} handshakes, want "
                f"{len(exp['connections'])}")
        lcores = {t["lcore"] for t in e.jsonl(log)}
        want = 2 if name == "pipeline-2" else 1
        e.check(len(lcores) == want, f"{name}: parsers used {lcores}")
        e.check(s["counters"]["parser_ring_full"] == 0 and
                s["counters"]["txn_ring_full"] == 0,
                f"{name}: offline runs must not drop")
        e.remove_instance(inst)
    base = res["rtc"]
    for name in ("pipeline-1", "pipeline-2"):
        e.check(res[name][0] == base[0], f"{name}: transactions differ")
        e.check(res[name][1] == base[1], f"{name}: connections differ")
        key = ("metric", "server_ip", "server_port", "status_class")
        sa = {tuple(x[k] for k in key): x for x in base[2]["series"]}
        sb = {tuple(x[k] for k in key): x for x in res[name][2]["series"]}
        e.check(sa == sb, f"{name}: histograms differ")
    e.finish()


if __name__ == "__main__":
    main()
