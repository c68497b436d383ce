# SPDX-License-Identifier: BSD-3-Clause
"""TCP tracking on a capture with known damage: retransmissions, reordering,
lost segments and overlapping retransmissions are each counted where they
happened, in-order bytes and gap bytes add up exactly, and the handshake
timing of the damaged connections is unaffected."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402


def main():
    d = e.tmpdir()
    for fmt, link in (("pcap-ns", "ether"), ("pcapng", "raw")):
        pcap = os.path.join(d, f"impair-{fmt}.pcap")
        e.gen("--scenario", "tcp-impair", "--connections", "40",
              "--format", fmt, "--link", link, "-o", pcap,
              "--truth", pcap + ".json")
        exp = json.load(open(pcap + ".json"))
        inst = e.instance("impair")
        log, conns, st = (os.path.join(d, f"{fmt}.{n}")
                          for n in ("log", "conn", "stats"))
        e.wirelat(["--pcap", pcap, "--instance", inst, "--log", log,
                   "--connections", conns, "--stats-json", st,
                   "--no-report"], check_rc=0)
        recs = {(r["client_ip"], r["client_port"]): r for r in e.jsonl(conns)}
        txns = {(t["client_ip"], t["client_port"]): t
                for t in e.jsonl(log) if t.get("proto") == "tcp"}
        kinds = {}
        for c in exp["connections"]:
            key = (c["client_ip"], c["client_port"])
            r, t = recs.get(key), txns.get(key)
            who = f"[{fmt}] {key} {c['impairment']}"
            if not (e.check(r is not None, f"{who}: no record") and
                    e.check(t is not None, f"{who}: no handshake")):
                continue
            kinds[c["impairment"]] = kinds.get(c["impairment"], 0) + 1
            e.check(t["duration_ns"] == c["server_rtt_ns"] and
                    t["client_rtt_ns"] == c["client_rtt_ns"],
                    f"{who}: handshake timing")
            e.check(r["end"] == "closed", f"{who}: end {r['end']}")
            for dr in ("c2s", "s2c"):
                e.check(r[f"pkts_{dr}"] == c[f"{dr}_packets"],
                        f"{who}: pkts_{dr}")
                # Every byte the tap saw is delivered once, in order;
                # what it never saw is a gap of exactly that size.
                e.check(r[f"bytes_{dr}"] == c[f"{dr}_payload"],
                        f"{who}: bytes_{dr} {r[f'bytes_{dr}']} "
                        f"want {c[f'{dr}_payload']}")
            e.check(r["gap_bytes_s2c"] == c["lost_bytes"],
                    f"{who}: gap bytes {r['gap_bytes_s2c']} "
                    f"want {c['lost_bytes']}")
            e.check(r["gap_bytes_c2s"] == 0, f"{who}: c2s gap")
            # The generator's own count of what it resent and reordered
            # (after a lost segment the next ones wait ahead of the hole:
            # held, so counted as out of order, until the ACK settles it).
            e.check(r["retrans_s2c"] == c["retrans_segments"] and
                    r["retrans_c2s"] == 0 and r["ooo_c2s"] == 0 and
                    (r["ooo_s2c"] == c["ooo_segments"] or
                     c["impairment"] == "lost"),
                    f"{who}: retrans {r['retrans_s2c']} ooo {r['ooo_s2c']}, "
                    f"want {c['retrans_segments']} {c['ooo_segments']}")
            e.check(r["server_rtt_ns"] == c["server_rtt_ns"] and
                    r["client_rtt_ns"] == c["client_rtt_ns"] and
                    r["close"] in ("fin_client", "fin_server"),
                    f"{who}: record rtt {r.get('server_rtt_ns')} "
                    f"{r.get('client_rtt_ns')} close {r['close']}")
            flags = set(r["flags"])
            imp = c["impairment"]
            if imp == "lost":
                e.check("gap" in flags, f"{who}: flags {flags}")
            elif imp in ("retrans", "overlap"):
                e.check(r["retrans_bytes_s2c"] > 0 and "gap" not in flags,
                        f"{who}: retrans bytes {r['retrans_bytes_s2c']}, "
                        f"flags {flags}")
            elif imp == "ooo":
                e.check("ooo" in flags and "gap" not in flags,
                        f"{who}: flags {flags}")
            else:
                e.check(not flags & {"gap", "ooo", "retrans"} and
                        r["retrans_bytes_s2c"] == 0, f"{who}: clean {flags}")
        e.check(set(kinds) == {None, "retrans", "ooo", "lost", "overlap"},
                f"[{fmt}] scenario covers every impairment: {kinds}")

        # Global counters match the sum of what was done.
        cnt = json.load(open(st))["counters"]
        lost = [c for c in exp["connections"] if c["impairment"] == "lost"]
        ov = [c for c in exp["connections"] if c["impairment"] == "overlap"]
        rt = [c for c in exp["connections"] if c["impairment"] == "retrans"]
        e.check(cnt["flow_gaps"] == len(lost) and
                cnt["flow_gap_bytes"] == sum(c["lost_bytes"] for c in lost),
                f"[{fmt}] gaps {cnt['flow_gaps']}/{cnt['flow_gap_bytes']}")
        e.check(cnt["flow_overlap_segs"] == len(ov),
                f"[{fmt}] overlap {cnt['flow_overlap_segs']} want {len(ov)}")
        e.check(cnt["flow_retrans_segs"] == sum(c["retrans_segments"]
                                                for c in rt),
                f"[{fmt}] retrans {cnt['flow_retrans_segs']}")
        e.remove_instance(inst)
    e.finish()


if __name__ == "__main__":
    main()
