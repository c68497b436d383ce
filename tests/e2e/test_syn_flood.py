# SPDX-License-Identifier: BSD-3-Clause
"""A SYN flood must not cost wirelat the connections it floods
(docs/flow.md, "Full table"; docs/output.md, "Unanswered SYNs"):
1.5 million SYNs from sources of their own, none answered, to two servers
for 9 s, over 40 long-lived HTTP and Redis connections that wait about a
second between requests (wirelat-replay gen --scenario syn-flood), in a
flow table of 1024 flows that the flood keeps full.

Every connection keeps its flow: one record each, seen from its
handshake, all its requests answered and paired. The flood's SYNs make
one connection-log line per server and second, their counts exact.
Then a smaller flood with output.syn_unanswered "each" (a line per SYN
again), and a scan of more ports than the lines waiting may hold (lines
written early, counted, nothing lost)."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_cap  # noqa: E402

FLOOD = 1_500_000
MAX_FLOWS = 1024
SLACK = 2       # syn_unanswered lines allowed beyond servers x seconds


def run(d, name, pcap, cfg, *extra, log="--connections"):
    """wirelat over pcap with config cfg: (lines of the connection log,
    or with log="--log" of the transaction log alone, counters)."""
    conf = os.path.join(d, f"{name}.json")
    with open(conf, "w") as f:
        json.dump(cfg, f)
    conns, st = (os.path.join(d, f"{name}.{x}") for x in ("conn", "stats"))
    inst = e.instance(f"synflood-{name}")
    p = e.wirelat(["--pcap", pcap, "--config", conf, "--instance", inst,
                   log, conns, "--stats-json", st,
                   "--no-report", *extra], check_rc=0)
    e.check(e.error_lines(p.stderr) == [], f"{name}: stderr {p.stderr!r}")
    e.remove_instance(inst)
    lines = e.jsonl(conns)
    os.unlink(conns)
    s = json.load(open(st))
    return lines, s


def check_flood(d):
    pcap = os.path.join(d, "flood.pcap")
    e.gen("--scenario", "syn-flood", "--packets", str(FLOOD), "-o", pcap,
          "--truth", pcap + ".json")
    exp = json.load(open(pcap + ".json"))
    try:
        lines, s = run(d, "flood", pcap, {"flow": {"max_flows": MAX_FLOWS}})
        # Without a connection log, the transaction log takes the lines
        # and leaves out a handshake line per flooding SYN.
        tlines, ts = run(d, "flood-log", pcap,
                         {"flow": {"max_flows": MAX_FLOWS}}, log="--log")
    finally:
        os.unlink(pcap)     # 123 MB
    tsyn = [r for r in tlines if r.get("type") == "syn_unanswered"]
    tc = ts["counters"]
    e.check(sum(r["count"] for r in tsyn) == FLOOD ==
            tc.get("txn_log_syn_folded") and
            len(tlines) == len(tsyn) + tc["txn_received"] - FLOOD and
            not any(r.get("status") == "unanswered" for r in tlines),
            f"--log alone: {len(tsyn)} syn_unanswered lines, "
            f"{len(tlines)} in all, folded {tc.get('txn_log_syn_folded')}")
    c = s["counters"]
    e.check(c["flow_created"] > 100 * MAX_FLOWS,
            f"the flood did not fill the table: {c['flow_created']} flows")

    # The 40 connections: each one record, from its handshake to its
    # FIN, every request answered and paired.
    conns = [r for r in lines if r.get("type") == "connection"]
    want = {(x["client_ip"], x["client_port"]): x
            for x in exp["connections"]}
    got = {}
    for r in conns:
        got.setdefault((r["client_ip"], r["client_port"]), []).append(r)
    e.check(len(conns) == len(want) == 40 and set(got) == set(want),
            f"{len(conns)} connection lines for {len(want)} connections "
            f"(the flood's SYNs should be in syn_unanswered lines)")
    nreq = exp["flood"]["requests_per_connection"]
    bad = []
    for k, x in want.items():
        rs = got.get(k, [])
        r = rs[0] if len(rs) == 1 else None
        reqs = r["requests"] if r else []
        if r is None or "midstream" in r["flags"] or \
                r.get("server_rtt_ns") != x["server_rtt_ns"]:
            bad.append(f"{k}: {len(rs)} records, flags "
                       f"{[y['flags'] for y in rs]}")
        elif len(reqs) != nreq or r["close"] != "fin_client" or \
                any("ttfb_ns" not in q or q.get("no_response")
                    for q in reqs):
            bad.append(f"{k}: {len(reqs)} requests of {nreq}, close "
                       f"{r['close']}, unpaired "
                       f"{[q for q in reqs if 'ttfb_ns' not in q][:1]}")
    e.check(not bad, f"{len(bad)} connections lost their flow or a "
            f"request: {bad[:4]}")
    e.check(c.get("flow_midstream") == 0 and
            c.get("flow_evicted_established") == 0,
            f"midstream {c.get('flow_midstream')}, established evicted "
            f"{c.get('flow_evicted_established', 'not counted')}")
    e.check(c.get("http_txns", 0) + c.get("redis_txns", 0) == 40 * nreq,
            f"L7 transactions {c.get('http_txns')} + "
            f"{c.get('redis_txns')}, want {40 * nreq}")
    ranks = sum(c.get(f"flow_evicted_{r}", 0)
                for r in ("unproven", "closed", "established"))
    e.check(c["flow_evicted"] == ranks and
            c.get("flow_evicted_unproven", 0) >= FLOOD - MAX_FLOWS,
            f"evictions {c['flow_evicted']}, by rank {ranks}")

    # The flood: one line per server and second, every SYN counted once.
    syn = [r for r in lines if r.get("type") == "syn_unanswered"]
    first, last = s["first_ns"] // 10**9, s["last_ns"] // 10**9
    bound = len(exp["flood"]["servers"]) * (last - first + 1) + SLACK
    e.check(0 < len(syn) <= bound and
            len(syn) + len(conns) == len(lines),
            f"{len(syn)} syn_unanswered lines (at most {bound}), "
            f"{len(lines)} lines in all")
    per = {}
    for r in syn:
        k = f"{r['server_ip']}:{r['server_port']}"
        per.setdefault(k, {}).setdefault(str(r["second"]), 0)
        per[k][str(r["second"])] += r["count"]
    e.check(per == exp["flood"]["servers"],
            f"SYNs per server and second {per}, want "
            f"{exp['flood']['servers']}")
    total = sum(r["count"] for r in syn)
    e.check(total == FLOOD == c.get("conn_syn_unanswered") and
            c.get("conn_syn_lines") == len(syn) and
            c.get("conn_syn_early") == 0,
            f"{total} SYNs in the lines, counters "
            f"{c.get('conn_syn_unanswered')} {c.get('conn_syn_lines')} "
            f"{c.get('conn_syn_early')}")
    e.check(all(r["syn_retrans"] == 0 and r["vlan"] == 0 and
                r["first_ns"] // 10**9 == r["second"] and
                r["first_ns"] <= r["last_ns"] for r in syn),
            f"syn_unanswered fields {syn[:2]}")
    e.check(sum(r["evicted"] for r in syn) >= FLOOD - MAX_FLOWS,
            "the flood's SYNs were evicted")


def check_each(d):
    """output.syn_unanswered "each": a connection line per SYN again."""
    n = 20000
    pcap = os.path.join(d, "small.pcap")
    e.gen("--scenario", "syn-flood", "--packets", str(n), "-o", pcap)
    lines, s = run(d, "each", pcap, {"flow": {"max_flows": MAX_FLOWS},
                                     "output": {"syn_unanswered": "each"}})
    os.unlink(pcap)
    syn = [r for r in lines if "unanswered" in r.get("flags", [])]
    e.check(len(lines) == 40 + n and len(syn) == n and
            all(r["type"] == "connection" and r["pkts_c2s"] == 1 and
                r["pkts_s2c"] == 0 for r in syn) and
            s["counters"]["conn_syn_unanswered"] == 0,
            f"each: {len(lines)} lines, {len(syn)} unanswered, want "
            f"{40 + n} and {n}")


def check_scan(d):
    """One SYN to each of 5000 ports of one server within a second: more
    keys than the 4096 the lines waiting may hold. The first 4096 are
    written early (counted), none is lost or written twice."""
    n = 5000
    cap = wl_cap.Cap()
    cli, srv = wl_cap.ip4("10.9.0.1"), wl_cap.ip4("10.0.0.9")
    for i in range(n):
        cap.tcp(i * 100, cli, srv, 40000 + i % 20000, 1024 + i, wl_cap.SYN,
                1000 + i, 0)
    pcap = os.path.join(d, "scan.pcap")
    cap.write(pcap)
    lines, s = run(d, "scan", pcap, {}, "--syn-unanswered", "per_second")
    c = s["counters"]
    ports = sorted(r["server_port"] for r in lines)
    e.check(ports == list(range(1024, 1024 + n)) and
            all(r["type"] == "syn_unanswered" and r["count"] == 1
                for r in lines),
            f"scan: {len(lines)} lines, {len(set(ports))} ports")
    e.check(c["conn_syn_unanswered"] == n and c["conn_syn_lines"] == n and
            c["conn_syn_early"] == 4096,
            f"scan counters {c['conn_syn_unanswered']} "
            f"{c['conn_syn_lines']} {c['conn_syn_early']}")


def main():
    d = e.tmpdir()
    try:
        check_flood(d)
        check_each(d)
        check_scan(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    e.finish()


if __name__ == "__main__":
    main()
