# SPDX-License-Identifier: BSD-3-Clause
"""deploy/grafana/wirelat.json against a real Prometheus fed by
wirelat-export: every query of every panel and every template variable,
with Grafana's variables replaced as Grafana would ("All" is ".*"), must
be accepted by Prometheus and return series, and every wirelat_ name it
uses must be one the exporter serves. The instances are fed so that every
family exists: the bundled sample (HTTP, Redis, handshakes, resets), the
tcp-impair scenario (retransmissions) and the synthetic connections of
test_conn_synthetic (a zero window); one instance stays live (a stream
held open), so wirelat_up is 1 for it; remote write goes to a closed port,
so the exporter's failure and queue families have values."""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_cap  # noqa: E402
import wl_e2e as e  # noqa: E402
import wl_export_e2e as x  # noqa: E402
import test_conn_synthetic as synth  # noqa: E402

DASHBOARD = os.path.join(e.SRC, "deploy", "grafana", "wirelat.json")
# What Grafana puts for its own variables; the window holds several
# one-second scrapes.
GRAFANA_VARS = {"$__rate_interval": "30s", "$__interval": "5s",
                "$__range": "1m"}
NAME = re.compile(r"\bwirelat_[a-z0-9_]+")
LABEL_VALUES = re.compile(r"^label_values\((.*),\s*([a-zA-Z_]+)\)$")


def queries(dash):
    """[(where, expr)] of every panel target and template variable."""
    out = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            out.append((f"panel \"{p['title']}\" {t['refId']}", t["expr"]))
    for v in dash["templating"]["list"]:
        if v["type"] != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) \
            else v["query"]
        m = LABEL_VALUES.match(q)
        e.check(m is not None, f"variable {v['name']}: {q!r} is not "
                "label_values(series, label)")
        # label_values(s, l) lists l of the series s: those must exist.
        out.append((f"variable {v['name']}", m.group(1)))
    return out


def expand(expr, variables):
    for k, v in GRAFANA_VARS.items():
        expr = expr.replace(k, v)
    for name in variables:
        expr = expr.replace("${" + name + "}", ".*").replace("$" + name,
                                                             ".*")
    e.check("$" not in expr, f"unknown variable left in {expr!r}")
    return expr


def served_names(body):
    names = set()
    for line in body.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


def main():
    x.need_binaries(x.PROMETHEUS)
    dash = json.load(open(DASHBOARD))
    variables = [v["name"] for v in dash["templating"]["list"]]
    d = e.tmpdir()
    impair = os.path.join(d, "impair.pcap")
    e.gen("--scenario", "tcp-impair", "-o", impair)
    zw = os.path.join(d, "synth.pcap")
    cap = wl_cap.Cap()
    synth.build(cap)
    cap.write(zw)
    insts = [e.instance(n) for n in ("dash-live", "dash-impair",
                                     "dash-synth")]
    for inst, pcap in zip(insts[1:], (impair, zw)):
        e.wirelat(["--pcap", pcap, "--instance", inst, "--no-report"],
                  check_rc=0)
    # The live one: the sample as a stream whose writer stays open.
    live = subprocess.Popen([e.WIRELAT, "--pcap", "-", "--instance",
                             insts[0], "--no-report", "--status-interval",
                             "0"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    live.stdin.write(open(os.path.join(e.SRC, "tests", "data",
                                       "sample.pcap"), "rb").read())
    live.stdin.flush()
    ex = prom = None
    try:
        args = []
        for i in insts:
            args += ["--instance", i]
        ex = x.Exporter(d, "dash", args + [
            "--remote-write", f"http://127.0.0.1:{x.free_port()}/api/v1/"
            "write", "--interval", "1"])
        prom = x.Prometheus(d, [f"127.0.0.1:{ex.port}"])
        # Several scrapes of the live instance with its traffic in.
        ok = x.poll("5 scrapes of a live instance with transactions",
                    lambda: prom.query(
                        f'count_over_time(wirelat_up{{instance_name='
                        f'"{insts[0]}"}}[1m]) >= 5 and on() '
                        f'max_over_time(wirelat_up{{instance_name='
                        f'"{insts[0]}"}}[1m]) == 1 and on() sum('
                        f'wirelat_request_duration_seconds_count{{'
                        f'instance_name="{insts[0]}"}}) > 0'), 90)
        e.check(ok, "Prometheus never saw the live instance scraped")
        st, body = x.http_get(ex.url)
        served = served_names(body)
        qs = queries(dash)
        e.check(len(qs) >= 20, f"only {len(qs)} queries in the dashboard")
        for where, expr in qs:
            q = expand(expr, variables)
            for n in NAME.findall(q):
                e.check(n in served, f"{where}: {n} is not served by "
                        "wirelat-export")
            res = prom.query(q)
            e.check(res, f"{where}: no series for {q}")
        up = prom.query(f'wirelat_up{{instance_name="{insts[0]}"}}')
        e.check(up and up[0]["value"][1] == "1", f"live instance up {up}")
        print(f"{len(qs)} dashboard queries answered by Prometheus, "
              f"{len(served)} names served")
    finally:
        if prom is not None:
            prom.stop()
        if ex is not None:
            ex.stop()
        live.stdin.close()
        live.wait(60)
        for i in insts:
            e.remove_instance(i)
    e.finish()


if __name__ == "__main__":
    main()
