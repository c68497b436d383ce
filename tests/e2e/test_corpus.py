# SPDX-License-Identifier: BSD-3-Clause
"""Conformance over ../shared/corpus (401 captures from nDPI, Suricata and
Zeek): wirelat never crashes or trips a sanitizer on any of them, reports
damaged files in one line, and its per-flow packet and frame-byte counts
agree with nDPI's for every TCP/UDP flow both track (docs/conformance.md
lists the deliberate differences)."""

import concurrent.futures as cf
import csv
import ipaddress
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402

CORPUS = e.CORPUS


# Captures whose flows differ from nDPI's by design, and why; anything
# else that differs fails the test. Keep in step with docs/conformance.md.
TUNNEL = "tunnels are not decapsulated"
CRAFTED = "crafted malformed packets"
DUPS = "frames captured twice (same IP ID, same time): counted once"
KNOWN = {
    "kafka.pcapng": DUPS,
    "4in4tunnel.pcap": TUNNEL,
    "4in6tunnel.pcap": TUNNEL,
    "6in4tunnel.pcap": TUNNEL,
    "6in6tunnel.pcap": TUNNEL,
    "gre.pcapng": TUNNEL,
    "vxlan.pcap": TUNNEL,
    "ipv6_in_gtp.pcap": TUNNEL,
    "http_origin_different_than_host.pcap": TUNNEL,     # GTP-U
    "tls_change_cipher.pcap": TUNNEL,                   # GTP-U
    "reasm_segv_anon.pcapng": TUNNEL,                   # GTP-U
    "tls_invalid_reads.pcap": CRAFTED,      # GTP, clock jumps of years
    "fuzz-2021-10-13.pcap": CRAFTED,
    "reasm_crash_anon.pcapng": CRAFTED,     # sequence numbers 400 MB apart
    "http_guessed_host_and_guessed.pcapng": CRAFTED,    # SYN+RST+FIN+...
}


def run_one(args, tag):
    # One instance per worker thread: two runs never share one.
    p = e.wirelat(args + ["--no-report", "--instance",
                          e.thread_instance(tag)], timeout=300)
    bad = [l for l in e.error_lines(p.stderr)]
    return p, bad


def sanitizer(text):
    return "Sanitizer" in text or "runtime error:" in text


def ip(text):
    """Canonical text: nDPI writes "b00c::25de" where RFC 5952 (and
    wirelat) write "b00c:0:25de"."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def ndpi_flows(exp):
    """nDPI's TCP/UDP flows, those with the same 5-tuple summed (nDPI
    splits a flow its idle timer ended; wirelat keeps one unless the
    handshake shows a new connection)."""
    out = {}
    for f in exp["ndpi_result"]["flows"]:
        if f["l4"] not in ("TCP", "UDP"):
            continue
        k = (f["l4"], frozenset([(ip(f["src"]), f["sport"]),
                                 (ip(f["dst"]), f["dport"])]))
        if k not in out:
            out[k] = dict(f, src=ip(f["src"]), dst=ip(f["dst"]))
            continue
        g = out[k]
        same = (g["src"], g["sport"]) == (ip(f["src"]), f["sport"])
        for a, b in (("c2s_pkts", "s2c_pkts"), ("c2s_bytes", "s2c_bytes")):
            g[a] += f[a] if same else f[b]
            g[b] += f[b] if same else f[a]
    return list(out.values())


def compare_ndpi(name, exp, conns):
    """@return (flows compared, list of mismatch strings)."""
    by_tuple = {}
    for r in conns:
        k = (r["l4"], frozenset([(r["client_ip"], r["client_port"]),
                                 (r["server_ip"], r["server_port"])]),
             r.get("vlan", 0))
        by_tuple.setdefault(k, []).append(r)
    n, bad = 0, []
    for f in ndpi_flows(exp):
        k = frozenset([(f["src"], f["sport"]), (f["dst"], f["dport"])])
        recs = [r for (l4, t, _), rs in by_tuple.items()
                if l4 == f["l4"].lower() and t == k for r in rs]
        if not recs:
            bad.append(f"{name}: {f['l4']} {f['src']}:{f['sport']} -> "
                       f"{f['dst']}:{f['dport']}: not tracked")
            continue
        n += 1
        # nDPI's src is its client; wirelat may have picked the other
        # side (mid-stream pickup): compare by endpoint, not by label.
        got = {"src": [0, 0], "dst": [0, 0]}
        for r in recs:
            cli_is_src = (r["client_ip"], r["client_port"]) == \
                (f["src"], f["sport"])
            a, b = ("src", "dst") if cli_is_src else ("dst", "src")
            got[a][0] += r["pkts_c2s"]
            got[a][1] += r["wire_bytes_c2s"]
            got[b][0] += r["pkts_s2c"]
            got[b][1] += r["wire_bytes_s2c"]
        want = {"src": [f["c2s_pkts"], f["c2s_bytes"]],
                "dst": [f["s2c_pkts"], f["s2c_bytes"]]}
        if got != want:
            bad.append(f"{name}: {f['l4']} {f['src']}:{f['sport']} -> "
                       f"{f['dst']}:{f['dport']}: wirelat {got} nDPI {want}")
    return n, bad


def main():
    manifest = e.need_corpus("corpus conformance")
    rows = list(csv.DictReader(open(manifest), delimiter="\t"))
    ndpi = json.load(open(os.path.join(CORPUS, "ndpi-expected.json")))["pcaps"]
    d = e.tmpdir()

    # nDPI captures one by one: exact per-flow accounting.
    def ndpi_job(i_name):
        i, name = i_name
        path = os.path.join(CORPUS, "ndpi", "pcap", name)
        conn = os.path.join(d, f"ndpi-{i}.conn")
        st = os.path.join(d, f"ndpi-{i}.stats")
        # Every flow its own line: SYNs alone are compared too.
        p, errs = run_one(["--pcap", path, "--connections", conn,
                           "--stats-json", st, "--max-flows", "262144",
                           "--syn-unanswered", "each"], "corpus")
        conns = e.jsonl(conn) if os.path.exists(conn) else []
        cnt = json.load(open(st))["counters"] if os.path.exists(st) else {}
        return name, p, errs, conns, cnt

    compared, exact, mismatches, problems, explained = 0, 0, [], [], {}
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        for name, p, errs, conns, cnt in ex.map(ndpi_job,
                                                enumerate(sorted(ndpi))):
            if sanitizer(p.stderr) or p.returncode not in (0, 1) or \
                    len(errs) > 1:
                problems.append(f"{name}: exit {p.returncode} {errs[:3]}")
                continue
            n, bad = compare_ndpi(name, ndpi[name], conns)
            compared += n
            exact += n - sum(1 for b in bad if "not tracked" not in b)
            # Deliberate: wirelat does not reassemble IP fragments nor
            # decapsulate tunnels (docs/conformance.md); fuzzed captures
            # hold packets the two tools reject differently.
            why = "fragments" if cnt.get("pkt_fragment", 0) else \
                KNOWN.get(name)
            if bad and why:
                explained.setdefault(why, []).append(f"{name} ({len(bad)})")
            else:
                mismatches += bad

    # Every other capture: batches of 8 files per run (the most inputs
    # one run takes); only crashes, sanitizer reports and the one-line
    # error rule are checked here.
    others = [os.path.join(CORPUS, r["path"]) for r in rows
              if not r["path"].startswith("ndpi/")]
    batches = [others[i:i + 8] for i in range(0, len(others), 8)]

    def batch_job(i_files):
        i, files = i_files
        args = []
        for f in files:
            args += ["--pcap", f]
        return files, run_one(args, "corpusb")

    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        for files, (p, errs) in ex.map(batch_job, enumerate(batches)):
            if sanitizer(p.stderr) or p.returncode not in (0, 1) or \
                    (p.returncode == 1 and not errs):
                problems.append(f"{files}: exit {p.returncode} "
                                f"{p.stderr[-500:]!r}")

    for i in e.thread_instances("corpus") + e.thread_instances("corpusb"):
        e.remove_instance(i)
    total = sum(1 for n in ndpi for _ in ndpi_flows(ndpi[n]))
    print(f"nDPI TCP/UDP flows: {total}; tracked by wirelat: {compared}; "
          f"packets and bytes identical: {exact}; unexplained "
          f"differences: {len(mismatches)}; other captures: "
          f"{len(others)} in {len(batches)} runs")
    for why, files in sorted(explained.items()):
        print(f"  expected differences ({why}): {', '.join(files)}")
    for m in mismatches[:int(os.environ.get("WL_CORPUS_SHOW", "60"))]:
        print("  differs:", m)
    e.check(not problems, "crashes or bad exits:\n  " +
            "\n  ".join(problems[:20]))
    limit = int(os.environ.get("WL_CORPUS_MAX_DIFF", "0"))
    e.check(len(mismatches) <= limit,
            f"{len(mismatches)} flows differ from nDPI (allowed {limit})")
    e.finish()


if __name__ == "__main__":
    main()
