# SPDX-License-Identifier: BSD-3-Clause
"""Outputs that fail loudly: a transaction log on /dev/full, on a tmpfs
too small for it, and on a pipe whose reader closed it. Each time: one
line on stderr naming the output and what happened, the lines written
and not written counted exactly (txn_logged, txn_log_dropped,
output_errors), the stats still written, and exit status 1. The same
run with the log on a file that can hold it: exit 0, every line."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402

SAMPLE = os.path.join(e.SRC, "tests", "data", "sample.pcap")


def run(d, name, log, conns=None):
    """wirelat over the sample, its log on `log`: (rc, stderr, counters,
    lines in the log file when it is one)."""
    st = os.path.join(d, f"{name}.stats")
    inst = e.instance(f"out-{name}")
    args = ["--pcap", SAMPLE, "--log", log, "--no-report", "--instance",
            inst, "--stats-json", st]
    if conns:
        args += ["--connections", conns]
    p = e.wirelat(args)
    e.remove_instance(inst)
    c = json.load(open(st))["counters"] if os.path.exists(st) else {}
    return p.returncode, e.error_lines(p.stderr), c


def main():
    d = e.tmpdir()
    good = os.path.join(d, "good.log")
    rc, errs, c = run(d, "good", good)
    # Lines of the log: every transaction but the unanswered SYNs'
    # handshakes, which are in syn_unanswered lines (no --connections).
    n = c.get("txn_received", 0) - c.get("txn_log_syn_folded", 0) + \
        c.get("conn_syn_lines", 0)
    e.check(c.get("txn_log_syn_folded", 0) > 0 and
            c.get("conn_syn_lines", 0) > 0, f"the sample's SYNs: {c}")
    e.check(rc == 0 and not errs and c["txn_logged"] == n > 0 and
            c["txn_log_dropped"] == 0 and c["output_errors"] == 0 and
            len(e.jsonl(good)) == n, f"a log that fits: rc {rc} {errs} {c}")

    # /dev/full: nothing written, all counted.
    rc, errs, c = run(d, "full", "/dev/full")
    e.check(rc == 1 and len(errs) == 1 and "/dev/full" in errs[0] and
            "No space left" in errs[0] and c.get("txn_logged") == 0 and
            c.get("txn_log_dropped") == n and c.get("output_errors") == 1,
            f"/dev/full: rc {rc} {errs} {c}")

    # A tmpfs too small: the log cut at a line, the count exact.
    mnt = os.path.join(d, "small")
    os.makedirs(mnt)
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                        mnt], capture_output=True, text=True)
    if m.returncode == 0:
        try:
            cut = os.path.join(mnt, "cut.log")
            conns = os.path.join(d, "conns.log")
            rc, errs, c = run(d, "tmpfs", cut, conns)
            lines = open(cut, "rb").read().count(b"\n")
            # The syn_unanswered lines go to the connection log here.
            nt = c.get("txn_received", 0) - c.get("txn_log_syn_folded", 0)
            e.check(rc == 1 and len(errs) == 1 and cut in errs[0] and
                    f"{lines} lines written" in errs[0] and
                    c.get("txn_logged") == lines and 0 < lines < nt and
                    c.get("txn_log_dropped") == nt - lines and
                    c.get("output_errors") == 1,
                    f"full tmpfs: rc {rc} {errs} {c}, {lines} lines")
            # The other output is unaffected.
            e.check(len(e.jsonl(conns)) > 0 and
                    c.get("conn_log_dropped") == 0,
                    "full tmpfs: the connection log")
        finally:
            subprocess.run(["umount", mnt])
    else:
        print("no tmpfs mount here:", m.stderr.strip())

    # A pipe whose reader read one line and left.
    st = os.path.join(d, "pipe.stats")
    inst = e.instance("out-pipe")
    p = subprocess.run(
        f"'{e.WIRELAT}' --pcap '{SAMPLE}' --log - --no-report --instance "
        f"{inst} --stats-json '{st}' 2>'{d}/pipe.err' | head -1; "
        f"echo rc=${{PIPESTATUS[0]}}", shell=True, executable="/bin/bash",
        capture_output=True, text=True)
    e.remove_instance(inst)
    errs = e.error_lines(open(f"{d}/pipe.err").read())
    c = json.load(open(st))["counters"] if os.path.exists(st) else {}
    first = p.stdout.splitlines()[0] if p.stdout else ""
    e.check("rc=1" in p.stdout and first.startswith("{") and
            len(errs) == 1 and "Broken pipe" in errs[0] and
            c.get("output_errors") == 1 and
            c.get("txn_logged", 0) + c.get("txn_log_dropped", 0) == n,
            f"closed pipe: {p.stdout[-200:]!r} {errs} {c}")
    e.finish()


if __name__ == "__main__":
    main()
