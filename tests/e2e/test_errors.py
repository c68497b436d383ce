# SPDX-License-Identifier: BSD-3-Clause
"""Bad command lines, bad configs and damaged captures: each gives one
clear line on stderr naming the problem and a non-zero exit, never a
crash; a capture damaged in the middle is still analysed up to there."""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402


def one_error(args, rc, want, what, **kw):
    p = e.wirelat(args, **kw)
    lines = e.error_lines(p.stderr)
    e.check(p.returncode == rc, f"{what}: exit {p.returncode}, want {rc}"
            f" (stderr {p.stderr!r})")
    e.check(len(lines) == 1, f"{what}: {len(lines)} error lines: {lines}")
    e.check(lines and want in lines[0], f"{what}: {lines!r} lacks {want!r}")
    e.check("Sanitizer" not in p.stderr and "runtime error" not in p.stderr,
            f"{what}: sanitizer report")
    return p


def main():
    d = e.tmpdir()
    ok = os.path.join(d, "ok.pcap")
    e.gen("--scenario", "handshake", "--format", "pcap", "-o", ok,
          "--truth", ok + ".json")
    inst = e.instance("errors")

    # Command line: usage errors exit 2.
    for args, want in (
            (["--bogus"], "unknown option --bogus"),
            (["-Z"], "unknown option -Z"),
            (["--pcap"], "needs an argument"),
            (["--pcap", ok, "--mode", "fast"], "--mode"),
            (["--pcap", ok, "--max-flows", "0"], "--max-flows"),
            (["--pcap", ok, "--max-flows", "12abc"], "--max-flows"),
            (["--pcap", ok, "--proto-port", "http"], "--proto-port"),
            (["--pcap", ok, "--proto-port", "gopher:70"], "gopher"),
            (["--pcap", ok, "--instance", "a/b"], "instance"),
            (["--pcap", ok, "--huge", "sometimes"], "--huge"),
            (["--pcap", ok, "--syn-unanswered", "all"], "--syn-unanswered"),
            (["--pcap", ok, "--rx-lcores", "1-x"], "--rx-lcores"),
            (["--pcap", ok, "stray"], "unexpected argument"),
            ([], "no input")):
        one_error(args, 2, want, " ".join(args) or "(no args)")

    # Config files: every problem names its key.
    cfgs = (
        ('{"flow": {"max_flows": -1}}', "flow.max_flows: must be an integer"),
        ('{"flow": {"max_flowz": 1}}', "flow.max_flowz: unknown key"),
        ('{"output": {"report": "yes"}}', "output.report: must be true or false"),
        ('{"output": {"syn_unanswered": "all"}}',
         'output.syn_unanswered: must be "per_second" or "each"'),
        ('{"inputs": [{"type": "pcap"}]}', "inputs[0]: needs"),
        ('{"rx": {"parser_ring": 1000}}', "rx.parser_ring: must be a power of two"),
        ('{"flow": {"max_flows": 5,}}', "cfg.json:1:"),
        ('{"collector": {"shm_group": "no-such-grp"}}',
         'collector.shm_group: no group "no-such-grp"'),
        ('{"protocols": {"state_max": {"gopher": 10}}}',
         "protocols.state_max.gopher: unknown protocol"),
        ('{"eal": {"memory_mb": 10}}', "eal.memory_mb: 10 is below 64"),
        # Last: "wirelat config" below reads this file.
        ('[]', "must be a JSON object"),
    )
    for text, want in cfgs:
        path = os.path.join(d, "cfg.json")
        with open(path, "w") as f:
            f.write(text)
        one_error(["--config", path, "--pcap", ok], 2, want, f"config {text}")
    one_error(["--config", os.path.join(d, "nope.json")], 2,
              "nope.json: No such file", "missing config")
    one_error(["config", "--config", os.path.join(d, "cfg.json")], 2,
              "must be a JSON object", "wirelat config with a bad file")

    # `wirelat config` prints the complete default and it loads back.
    p = e.wirelat(["config"], check_rc=0)
    full = json.loads(p.stdout)
    e.check(full["flow"]["max_flows"] > 0 and "inputs" in full,
            "wirelat config content")
    path = os.path.join(d, "full.json")
    with open(path, "w") as f:
        f.write(p.stdout)
    p2 = e.wirelat(["config", "--config", path], check_rc=0)
    e.check(json.loads(p2.stdout) == full, "config round trip")

    # Captures: missing, empty, garbage, truncated, absurd record length.
    raw = open(ok, "rb").read()
    exp = json.load(open(ok + ".json"))
    cases = {
        "missing.pcap": None,
        "empty.pcap": b"",
        "garbage.pcap": b"this is not a capture file at all" * 3,
        "short.pcap": raw[:10],
        "cut-record.pcap": raw[:len(raw) // 2],
        "huge-caplen.pcap": raw[:32] + struct.pack("<I", 0x7fffffff) +
        raw[36:],
        "pcapng-garbage.pcap": b"\x0a\x0d\x0d\x0a" + b"\xff" * 60,
    }
    wants = {
        "missing.pcap": "No such file",
        "empty.pcap": "empty",
        "garbage.pcap": "not a pcap or pcapng file",
        "short.pcap": "truncated file header",
        "cut-record.pcap": "truncated packet record",
        "huge-caplen.pcap": "caplen",
        "pcapng-garbage.pcap": "",
    }
    for name, data in cases.items():
        path = os.path.join(d, name)
        if data is not None:
            with open(path, "wb") as f:
                f.write(data)
        st = os.path.join(d, name + ".stats")
        p = one_error(["--pcap", path, "--no-report", "--instance", inst,
                       "--stats-json", st], 1, wants[name], name)
        e.check(name in p.stderr, f"{name}: the file is not named")
        if name == "cut-record.pcap":
            # What came before the damage is still analysed and kept.
            s = json.load(open(st))
            n = s["counters"]["packets"]
            e.check(0 < n < exp["packets"], f"{name}: {n} packets read")

    # wirelat-stat: absent instance, bad options.
    p = e.stat(["--instance", "never-ran-" + inst])
    e.check(p.returncode == 1 and len(p.stderr.splitlines()) == 1 and
            "never-ran" in p.stderr, f"stat absent: {p.stderr!r}")
    for args in (["--watch", "x"], ["--bogus"], ["--instance", "a/b"],
                 ["extra"]):
        p = e.stat(args)
        e.check(p.returncode == 2 and len(p.stderr.splitlines()) == 1,
                f"stat {args}: rc {p.returncode} {p.stderr!r}")
    # A live input that does not come up is an error, whatever else is
    # read: before, the file alone was read and the exit was 0.
    one_error(["--pcap", ok, "--iface", "nosuchif0", "--no-report",
               "--instance", inst], 1, "--iface nosuchif0: no such interface",
              "missing interface")
    p = e.wirelat(["--pcap", ok, "--vdev",
                   "net_pcap9,rx_pcap=" + os.path.join(d, "none.pcap"),
                   "--no-report", "--instance", inst])
    e.check(p.returncode == 1 and "1 of 1 DPDK inputs" in p.stderr and
            "could not be opened" in p.stderr,
            f"a vdev that does not come up: {p.returncode} {p.stderr!r}")
    crafted(ok)
    e.remove_instance(inst)
    e.finish()


def crafted(pcap):
    """A segment anyone could write into /dev/shm, its offsets made to
    wrap: wirelat-stat refuses it with one line, never faults."""
    inst = e.instance("crafted")
    e.wirelat(["--pcap", pcap, "--no-report", "--instance", inst],
              check_rc=0)
    seg = f"/dev/shm/wirelat-{inst}"
    with open(seg, "r+b") as f:
        # struct wl_shm_hdr: counters_off at byte 24 (docs/shm.md).
        f.seek(24)
        f.write(struct.pack("<Q", 2**64 - 100))
    for args in (["--json"], []):
        p = e.stat(["--instance", inst] + args)
        e.check(p.returncode == 1 and len(p.stderr.splitlines()) == 1 and
                "not a wirelat layout" in p.stderr and
                "Sanitizer" not in p.stderr,
                f"crafted segment {args}: rc {p.returncode} {p.stderr!r}")
    e.remove_instance(inst)


if __name__ == "__main__":
    main()
