# SPDX-License-Identifier: BSD-3-Clause
"""Handshake transactions from synthetic captures: exact ns timestamps and
RTTs for every connection, in every file format and link type, checked
against the generator's ground truth; histograms and counters agree."""

import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402

LINK_NAME = {"sll": "linux-sll", "sll2": "linux-sll2"}
LINK_HDR = {"ether": 14, "sll": 16, "sll2": 20, "null": 4, "loop": 4,
            "raw": 0}


def nearest_rank(vals, q):
    vals = sorted(vals)
    return vals[max(1, math.ceil(q * len(vals))) - 1]


def check_syn_lines(tag, exp, lines):
    """Unanswered SYNs in the connection log, one line per server and
    second of the first SYN (output.syn_unanswered per_second): every one
    counted once, with its retransmissions. They all leave the table at
    the end of the capture, so each (server, second) has one line."""
    want = {}
    for c in exp["connections"]:
        if c["status"] != "unanswered":
            continue
        k = (c["server_ip"], c["server_port"], c["syn_ns"] // 10**9)
        w = want.setdefault(k, {"count": 0, "syn_retrans": 0,
                                "first_ns": c["syn_ns"]})
        w["count"] += 1
        w["syn_retrans"] += c["syn_retrans"]
        w["first_ns"] = min(w["first_ns"], c["syn_ns"])
    got = {}
    for r in lines:
        k = (r["server_ip"], r["server_port"], r["second"])
        e.check(k not in got, f"{tag} two syn_unanswered lines for {k}")
        got[k] = {f: r[f] for f in ("count", "syn_retrans", "first_ns")}
        e.check(r["vlan"] == 0 and r["evicted"] == 0 and
                r["first_ns"] <= r["last_ns"], f"{tag} syn line {r}")
    e.check(got == want, f"{tag} syn_unanswered lines {got} want {want}")


def check_run(fmt, link, seed, d):
    pcap = os.path.join(d, f"hs-{fmt}-{link}.pcap")
    exp_path = pcap + ".json"
    e.gen("--scenario", "handshake", "--format", fmt, "--link", link,
          "--seed", str(seed), "-o", pcap, "--truth", exp_path)
    exp = json.load(open(exp_path))
    inst = e.instance(f"hs-{fmt}-{link}")
    log, conns, st = (os.path.join(d, n) for n in
                      (f"{inst}.log", f"{inst}.conn", f"{inst}.stats"))
    # Unanswered SYNs: a connection line each in one format, the
    # default (a line per server and second) in the others.
    each = fmt == "pcap"
    p = e.wirelat(["--pcap", pcap, "--instance", inst, "--log", log,
                   "--connections", conns, "--stats-json", st,
                   "--no-report"] +
                  (["--syn-unanswered", "each"] if each else []),
                  check_rc=0)
    tag = f"[{fmt}/{link}]"
    e.check(e.error_lines(p.stderr) == [], f"{tag} stderr: {p.stderr!r}")

    txns = {(t["client_ip"], t["client_port"]): t for t in e.jsonl(log)
            if t.get("proto") == "tcp"}
    # Unanswered SYNs alone: their handshakes are in the syn_unanswered
    # lines (of the connection log here), not one each in the log.
    folded = 0 if each else sum(c["status"] == "unanswered"
                                for c in exp["connections"])
    counters = json.load(open(st))["counters"]
    e.check(len(txns) == len(exp["connections"]) - folded and
            counters["txn_log_syn_folded"] == folded,
            f"{tag} {len(txns)} handshakes, want "
            f"{len(exp['connections']) - folded}")
    for c in exp["connections"]:
        if c["status"] == "unanswered" and not each:
            continue
        t = txns.get((c["client_ip"], c["client_port"]))
        who = f"{tag} {c['client_ip']}:{c['client_port']}"
        if not e.check(t is not None, f"{who}: no transaction"):
            continue
        e.check(t["status"] == c["status"],
                f"{who}: status {t['status']} want {c['status']}")
        e.check(t["server_ip"] == c["server_ip"] and
                t["server_port"] == c["server_port"], f"{who}: server")
        e.check(t["ts_source"] == "pcap", f"{who}: ts_source")
        e.check(t["method"] == "handshake" and t["proto"] == "tcp",
                f"{who}: proto/method")
        e.check(t["req_start_ns"] == c["syn_ns"],
                f"{who}: req_start_ns {t['req_start_ns']} want {c['syn_ns']}")
        if c["status"] in ("established", "no_ack"):
            e.check(t["rsp_start_ns"] == c["synack_ns"],
                    f"{who}: rsp_start_ns {t['rsp_start_ns']} "
                    f"want {c['synack_ns']}")
            e.check(t["duration_ns"] == c["server_rtt_ns"],
                    f"{who}: server rtt {t['duration_ns']} "
                    f"want {c['server_rtt_ns']}")
            e.check(t["status_class"] == "ok", f"{who}: class")
        if c["status"] == "established":
            e.check(t.get("client_rtt_ns") == c["client_rtt_ns"],
                    f"{who}: client_rtt {t.get('client_rtt_ns')} "
                    f"want {c['client_rtt_ns']}")
        if c["status"] == "refused":
            e.check(t["rsp_start_ns"] == c["rst_ns"] and
                    t["status_class"] == "error", f"{who}: refused")
        if c["status"] == "unanswered":
            e.check("no_response" in t["flags"] and t["rsp_end_ns"] == 0,
                    f"{who}: unanswered flags {t['flags']}")
            e.check(t["syn_retrans"] == c["syn_retrans"],
                    f"{who}: syn_retrans {t['syn_retrans']}")

    # Connection records: packets and frame bytes each way.
    lines = e.jsonl(conns)
    recs = {(r["client_ip"], r["client_port"]): r for r in lines
            if r["type"] == "connection"}
    syn = [r for r in lines if r["type"] == "syn_unanswered"]
    e.check(len(recs) == len(exp["connections"]) - folded and
            len(recs) + len(syn) == len(lines), f"{tag} connections")
    if each:
        e.check(not syn, f"{tag} syn_unanswered lines with 'each'")
    else:
        check_syn_lines(tag, exp, syn)
    for c in exp["connections"]:
        if c["status"] == "unanswered" and not each:
            continue
        r = recs.get((c["client_ip"], c["client_port"]))
        who = f"{tag} conn {c['client_ip']}:{c['client_port']}"
        if not e.check(r is not None, f"{who}: missing"):
            continue
        hdr = LINK_HDR[link] + (4 if c.get("vlan") and link == "ether"
                                else 0)
        for dr in ("c2s", "s2c"):
            e.check(r[f"pkts_{dr}"] == c[f"{dr}_packets"],
                    f"{who}: pkts_{dr} {r[f'pkts_{dr}']} "
                    f"want {c[f'{dr}_packets']}")
            want = c[f"{dr}_bytes"] + hdr * c[f"{dr}_packets"]
            e.check(r[f"wire_bytes_{dr}"] == want,
                    f"{who}: wire_bytes_{dr} {r[f'wire_bytes_{dr}']} "
                    f"want {want}")
            e.check(r[f"payload_bytes_{dr}"] == c[f"{dr}_payload"],
                    f"{who}: payload_bytes_{dr}")
        # Handshake RTTs in the record: exact, absent when not measured.
        est = c["status"] == "established"
        e.check(r.get("server_rtt_ns") == (c["server_rtt_ns"] if est or
                                           c["status"] == "no_ack"
                                           else None) and
                r.get("client_rtt_ns") == (c["client_rtt_ns"] if est
                                           else None),
                f"{who}: record rtts {r.get('server_rtt_ns')} "
                f"{r.get('client_rtt_ns')} for {c['status']}")
        e.check(r["syn_retrans"] == c["syn_retrans"], f"{who}: syn_retrans")
        if c["status"] == "refused":
            e.check(r["close"] == "rst_server", f"{who}: close {r['close']}")

    # Histograms: per server, exact count and max, quantiles within 1%.
    stats = json.load(open(st))
    e.check(stats["counters"]["packets"] == exp["packets"],
            f"{tag} packets {stats['counters']['packets']} "
            f"want {exp['packets']}")
    e.check(stats["inputs"][0]["link"] == LINK_NAME.get(link, link) and
            stats["inputs"][0]["ts_source"] == "pcap", f"{tag} inputs")
    series = {(s["metric"], s["server_ip"], s["server_port"],
               s["status_class"]): s for s in stats["series"]}
    servers = {}
    for c in exp["connections"]:
        servers.setdefault((c["server_ip"], c["server_port"]), []).append(c)
    for (ip, port), cs in servers.items():
        for metric, field, statuses in (
                ("server_rtt", "server_rtt_ns", ("established", "no_ack")),
                ("client_rtt", "client_rtt_ns", ("established",))):
            vals = [c[field] for c in cs if c["status"] in statuses]
            s = series.get((metric, ip, port, "ok"))
            if not vals:
                e.check(s is None, f"{tag} {metric} {ip}: unexpected")
                continue
            if not e.check(s is not None, f"{tag} {metric} {ip}:{port}"):
                continue
            e.check(s["count"] == len(vals), f"{tag} {metric} {ip} count "
                    f"{s['count']} want {len(vals)}")
            e.check(s["max_ns"] == max(vals) and s["min_ns"] == min(vals),
                    f"{tag} {metric} {ip} min/max")
            for q, k in ((0.5, "p50_ns"), (0.9, "p90_ns"),
                         (0.99, "p99_ns")):
                want = nearest_rank(vals, q)
                e.check(abs(s[k] - want) <= want * 0.01,
                        f"{tag} {metric} {ip} {k} {s[k]} want {want}")

    # Per-server connection aggregates: every connection once in
    # conn_duration, keyed by how it closed; refused ones as rst_server.
    for (ip, port), cs in servers.items():
        got = sum(s["count"] for s in stats["series"]
                  if s["metric"] == "conn_duration" and
                  s["server_ip"] == ip and s["server_port"] == port)
        e.check(got == len(cs), f"{tag} conn_duration {ip}:{port} count "
                f"{got} want {len(cs)}")
        refused = sum(s["count"] for s in stats["series"]
                      if s["metric"] == "conn_duration" and
                      s["server_ip"] == ip and s["server_port"] == port and
                      s["method"] == "rst_server")
        e.check(refused == sum(c["status"] == "refused" for c in cs),
                f"{tag} {ip}:{port} refused {refused}")

    # The same snapshot is readable afterwards from another process.
    p = e.stat(["--instance", inst, "--json"], check_rc=0)
    live = json.loads(p.stdout)
    e.check(live["series"] == stats["series"] and
            live["counters"] == stats["counters"] and live["finished"],
            f"{tag} wirelat-stat --json differs from --stats-json")
    e.remove_instance(inst)


def main():
    d = e.tmpdir()
    seed = 1
    for fmt in ("pcap", "pcap-ns", "pcapng"):
        for link in ("ether", "sll", "sll2", "null", "loop", "raw"):
            check_run(fmt, link, seed, d)
            seed += 1
    e.finish()


if __name__ == "__main__":
    main()
