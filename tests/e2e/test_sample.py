# SPDX-License-Identifier: BSD-3-Clause
"""The bundled sample capture: it is exactly what the committed generator
makes, and the README's first command reports every server of it with
the right handshake counts and HTTP and Redis latencies, on stdout and
through wirelat-stat."""

import filecmp
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402

SAMPLE = os.path.join(e.SRC, "tests", "data", "sample.pcap")
EXPECT = os.path.join(e.SRC, "tests", "data", "sample-expect.json")


def main():
    d = e.tmpdir()
    regen = os.path.join(d, "sample.pcap")
    e.gen("--scenario", "sample", "--seed", "1", "-o", regen,
          "--truth", regen + ".json")
    e.check(filecmp.cmp(regen, SAMPLE, shallow=False),
            "tests/data/sample.pcap differs from gen --scenario sample")
    e.check(filecmp.cmp(regen + ".json", EXPECT, shallow=False),
            "tests/data/sample-expect.json differs from gen's truth")
    exp = json.load(open(EXPECT))

    inst = e.instance("sample")
    p = e.wirelat(["--pcap", SAMPLE, "--instance", inst], check_rc=0)
    rows = [l.split() for l in p.stdout.splitlines()]
    for srv, st in exp["servers"].items():
        want = st["established"] + st["no_ack"]
        got = [r for r in rows if len(r) > 6 and r[1] == "server_rtt" and
               r[2] == srv and r[4] == "ok"]
        e.check(len(got) == 1 and int(got[0][5]) == want,
                f"report row for {srv}: {got}, want count {want}")
    e.check("timestamps pcap, link ether" in p.stdout, "input line")
    # The demo shows L7 latency too: HTTP on every web server, Redis.
    for proto, srv_, method in (("http", "10.0.0.1:80", "GET"),
                                ("http", "10.0.0.3:8888", "GET"),
                                ("redis", "10.0.0.4:6379", "GET"),
                                ("redis", "10.0.0.4:6379", "SET")):
        row = [r for r in rows if len(r) > 6 and r[0] == proto and
               r[1] == "duration" and r[2] == srv_ and r[3] == method]
        e.check(len(row) == 1 and int(row[0][5]) > 0,
                f"report: no {proto} {method} row for {srv_}")
    p2 = e.stat(["--instance", inst], check_rc=0)
    e.check(p2.stdout.splitlines()[2:] == p.stdout.splitlines()[2:],
            "wirelat-stat table differs from the final report")
    e.remove_instance(inst)
    e.finish()


if __name__ == "__main__":
    main()
