# SPDX-License-Identifier: BSD-3-Clause
"""Documentation is part of the contract: every configuration key that
`wirelat config` prints is in docs/config.md, every counter and series
field a run publishes is in docs/metrics.md, every transaction and
connection field is in docs/output.md, and the systemd units of deploy/
pass systemd-analyze verify (pointed at the built programs)."""

import glob
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402


def doc(name):
    return open(os.path.join(e.SRC, "docs", name)).read()


def keys(obj, prefix=""):
    for k, v in obj.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and path != "protocols.ports":
            yield from keys(v, path + ".")
        else:
            yield path


def main():
    cfg = json.loads(e.wirelat(["config"], check_rc=0).stdout)
    text = doc("config.md")
    for k in keys(cfg):
        e.check(f"`{k}`" in text, f"config key {k} not in docs/config.md")

    d = e.tmpdir()
    pcap = os.path.join(d, "t.pcap")
    e.gen("--scenario", "tcp-impair", "-o", pcap)
    inst = e.instance("docs")
    st, log, conns = (os.path.join(d, n) for n in ("s.json", "l", "c"))
    e.wirelat(["--pcap", pcap, "--instance", inst, "--stats-json", st,
               "--log", log, "--connections", conns, "--no-report"],
              check_rc=0)
    s = json.load(open(st))
    text = doc("metrics.md")
    # Every protocol has the same set, documented once as <proto>_x.
    protos = {n[:-len("_flows")] for n in s["counters"]
              if n.endswith("_flows") and
              n[:-len("_flows")] + "_requests" in s["counters"]}
    for name in s["counters"]:
        # lcoreN.x and sourceN.x are documented once with their pattern.
        generic = re.sub(r"^(lcore|source|port)\d+\.", r"\1N.", name)
        generic = re.sub(r"^(lcore)N\.", "", generic)
        head, _, rest = generic.partition("_")
        if head in protos:
            generic = "<proto>_" + rest
        e.check(f"`{generic}`" in text, f"counter {name} ({generic}) not "
                "in docs/metrics.md")
    for f in s["series"][0]:
        e.check(f"`{f}`" in text, f"series field {f} not in metrics.md")
    text = doc("output.md")
    # Unanswered SYNs make the connection log's other line type.
    hs = os.path.join(d, "hs.pcap")
    e.gen("--scenario", "handshake", "-o", hs)
    hs_conns = os.path.join(d, "hc")
    e.wirelat(["--pcap", hs, "--instance", inst, "--connections", hs_conns,
               "--no-report"], check_rc=0)
    types = set()
    for path in (log, conns, hs_conns):
        fields = set()
        for line in e.jsonl(path):
            fields.update(line)
            if "type" in line:
                types.add(line["type"])
        for f in fields:
            e.check(f"`{f}`" in text, f"{os.path.basename(path)} field "
                    f"{f} not in docs/output.md")
    e.check(types == {"connection", "syn_unanswered"}, f"line types {types}")
    for t in types:
        e.check(f'`"{t}"`' in text, f"line type {t} not in docs/output.md")
    # Every field of every protocol's transactions, too.
    l7 = os.path.join(d, "l7.pcap")
    e.gen("--scenario", "l7", "-o", l7)
    log7 = os.path.join(d, "l7.log")
    e.wirelat(["--pcap", l7, "--instance", inst, "--log", log7,
               "--no-report"], check_rc=0)
    seen = {}
    for t in e.jsonl(log7):
        seen.setdefault(t["proto"], set()).update(t)
    e.check(set(seen) == {"tcp", "http", "redis"}, f"protocols {set(seen)}")
    for proto, fields in seen.items():
        for f in fields:
            e.check(f"`{f}`" in text, f"{proto} field {f} not in "
                    "docs/output.md")
    e.remove_instance(inst)
    check_units()
    e.finish()


def check_units():
    """Every unit of deploy/ as systemd reads it, its programs those of
    this build (installed ones would be in /usr/local)."""
    if shutil.which("systemd-analyze") is None:
        print("systemd-analyze absent: units not verified")
        return
    d = e.tmpdir()
    units = glob.glob(os.path.join(e.SRC, "deploy", "*.service"))
    e.check(len(units) >= 2, f"units in deploy/: {units}")
    for u in units:
        text = open(u).read()
        for prog in ("wirelat", "wirelat-export", "wirelat-stat"):
            text = text.replace(f"/usr/local/bin/{prog} ", os.path.join(
                e.BUILD, "app", prog, prog) + " ")
        text = text.replace("/usr/local/share/wirelat/setup-hugepages",
                            os.path.join(e.SRC, "scripts",
                                         "setup-hugepages"))
        # A template is verified as one of its instances.
        name = os.path.basename(u).replace("@.", "@check.")
        path = os.path.join(d, name)
        open(path, "w").write(text)
        p = subprocess.run(["systemd-analyze", "verify", path],
                           capture_output=True, text=True)
        bad = [l for l in (p.stdout + p.stderr).splitlines()
               if name in l or "error" in l.lower()]
        e.check(p.returncode == 0 and not bad,
                f"{os.path.basename(u)}: systemd-analyze verify: {bad}")


if __name__ == "__main__":
    main()
