# SPDX-License-Identifier: BSD-3-Clause
"""DNS transactions against tshark's dns.time for every capture of
../shared/corpus whose protocol is DNS (skipped, with a message, where the
folder is absent). Every answer tshark pairs with a query must be an
answered wirelat transaction of the same (client, client port, ID) whose
rsp_end_ns - req_end_ns equals dns.time to the ns (tshark measures from
the query's last segment), and wirelat must pair nothing tshark does not.
Deliberate differences are listed here by capture and in
docs/conformance.md; any other difference fails."""

import collections
import concurrent.futures as cf
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_servers as srv  # noqa: E402

CORPUS = e.CORPUS
TIMEOUT_NS = 5 * 10**9          # protocols.dns_timeout_ms's default

QUESTION = "the answer's question differs from the query's: not its answer"
PROBE = "the query does not pass the probe (strict on purpose)"
VLAN = "query and answer carry different VLAN tags: two flows"
KNOWN = {
    "ndpi/pcap/dns-invalid-chars.pcap": QUESTION,
    "suricata-verify/pcaps/dns/dns-incomplete/input.pcap": QUESTION,
    "ndpi/pcap/dns_invert_query.pcapng": PROBE + " (IQUERY, no question)",
    "suricata-verify/pcaps/dns/dns-answer-name/"
    "dns-udp-request-with-answer.pcap": PROBE + " (query with answers)",
    "suricata-verify/pcaps/dns/dns-forward-pointer/input.pcap":
        PROBE + " (query with answers)",
    "suricata-verify/pcaps/dns/dns-invalid-opcode/input.pcap":
        PROBE + " (opcode 3 or > 5)",
    "suricata-verify/pcaps/dns/v2/dns-invalid-opcode/input.pcap":
        PROBE + " (opcode 3 or > 5)",
    "ndpi/pcap/dnscrypt-v1-and-resolver-pings.pcap":
        PROBE + " (records after the question do not decode)",
    "suricata-verify/pcaps/dns-udp-junkrequest-first/input.pcap":
        "a FORMERR answer to a query that is not DNS",
    "ndpi/pcap/dns_fragmented.pcap": "IP fragments are not reassembled",
    "zeek/Traces/dns/mdns-no-assoc.pcap": "multicast answers: no flow pairs",
    "zeek/Traces/dns/loc-29-trunc.pcap": VLAN,
    "zeek/Traces/dns/sshfp-trunc.pcap": VLAN,
    "zeek/Traces/dns-edns-ecs.pcap":
        "answers cut by the capture's snap length",
    "suricata-verify/pcaps/dns/dns-corrupt-additionals/input.pcap":
        "tshark gives no dns.time for an answer it cannot decode",
    "zeek/Traces/dns/svcb-port-malformed.pcap":
        "tshark gives no dns.time for an answer it cannot decode",
}


def tshark_times(pcap):
    out = e.tool_output(["tshark", "-r", pcap, "-n", "-Y",
                         "dns.flags.response == 1 && dns.time", "-T",
                         "fields", "-E", "separator=/t", "-e", "ip.dst",
                         "-e", "ipv6.dst", "-e", "udp.dstport", "-e",
                         "tcp.dstport", "-e", "dns.id", "-e", "dns.time"],
                        [pcap])
    got = {}
    for line in out.splitlines():
        a, a6, up, tp, ids, tms = (line.split("\t") + [""] * 6)[:6]
        for qid, tm in zip(ids.split(","), tms.split(",")):
            if tm:
                got.setdefault((a or a6, int((up or tp).split(",")[0]),
                                int(qid, 16)), e.ns_of(tm))
    return got


def main():
    srv.need("tshark")
    manifest = e.need_corpus("DNS conformance")
    files = [line.split("\t")[0] for line in
             open(manifest).read().splitlines()[1:]
             if line.split("\t")[1] == "dns"]
    d = e.tmpdir()
    tot = collections.Counter()

    # Two captures at a time: wirelat and tshark each wait on their
    # start more than they compute on these small files.
    def job(i_f):
        i, f = i_f
        log = os.path.join(d, f"dns-{i}.log")
        r = e.run([e.WIRELAT, "--pcap", os.path.join(CORPUS, f), "--log",
                   log, "--no-report", "--instance",
                   e.thread_instance("cdns")])
        wl = {}
        for t in e.jsonl(log) if os.path.exists(log) else []:
            if t["proto"] == "dns" and t["rsp_end_ns"]:
                wl.setdefault((t["client_ip"], t["client_port"], t["id"]),
                              t["rsp_end_ns"] - t["req_end_ns"])
        return f, r, wl, tshark_times(os.path.join(CORPUS, f))

    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        results = list(ex.map(job, enumerate(files)))
    for f, r, wl, ts in results:
        e.check(r.returncode in (0, 1), f"{f}: exit {r.returncode}")
        # An answer later than the timeout is not one (timing.md).
        want = {k: v for k, v in ts.items() if v <= TIMEOUT_NS}
        tot["answers"] += len(ts)
        tot["late"] += len(ts) - len(want)
        same = sum(1 for k in want if wl.get(k) == want[k])
        tot["same"] += same
        if same == len(want) == len(wl):
            continue
        if f in KNOWN:
            tot["known"] += len(want) - same
            continue
        diff = [(k, wl.get(k), want[k]) for k in want
                if wl.get(k) != want[k]]
        extra = [k for k in wl if k not in want]
        e.check(False, f"{f}: {len(diff)} answers differ {diff[:3]}, "
                f"{len(extra)} only in wirelat {extra[:3]}")
    print(f"{len(files)} captures: {tot['answers']} answers tshark paired, "
          f"{tot['same']} identical to the ns, {tot['late']} later than "
          f"the timeout, {tot['known']} in known differences")
    e.check(tot["same"] > 800, "most answers compared")
    for i in e.thread_instances("cdns"):
        e.remove_instance(i)
    e.finish()


if __name__ == "__main__":
    main()
