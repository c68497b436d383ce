# SPDX-License-Identifier: BSD-3-Clause
"""wirelat-export scraped by a real Prometheus (Debian's, started here on
127.0.0.1). A generated capture (wirelat-replay gen, every protocol) runs
through wirelat; then, against what wirelat-stat --json says:
- every histogram series: _count exact, _sum within 1 ns per value, and
  PromQL histogram_quantile(0.99) over the le buckets within the width of
  the le bucket holding wirelat's p99 (Prometheus interpolates linearly
  inside a bucket) plus 1 % (the hist's own precision);
- every counter equal to the shared memory's, under the documented name,
  gauges (docs/metrics.md *gauge*) typed gauge;
- wirelat_up 0 for the finished instance and for a missing one, which
  gets one line on stderr while the endpoint keeps serving;
- /metrics content type, 404 elsewhere, a malformed config (one line,
  exit 2);
- as a non-root user made for the test: wirelat's segment in that user's
  group (collector.shm_group), the exporter run as that user serves it;
  outside the group, one line and wirelat_up 0."""

import json
import os
import re
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_export_e2e as x  # noqa: E402


def workload(d):
    pcap = os.path.join(d, "all.pcap")
    e.gen("--proto", "all", "--connections", "16", "--requests", "40",
          "--latency", "lognormal:400us:0.8", "--seed", "31", "-o", pcap)
    return pcap


def run_wirelat(pcap, inst, conf=None):
    args = ["--pcap", pcap, "--instance", inst, "--no-report"]
    if conf:
        args += ["--config", conf]
    e.wirelat(args, check_rc=0)
    return json.loads(e.stat(["--instance", inst, "--json"],
                             check_rc=0).stdout)


def le_width(v, bounds):
    """Width of the le bucket holding v (bounds ascending), and of the
    next one when v is within a hist bucket (0.8 %) of its bound: the
    exporter counts a hist bucket at its upper edge (docs/export.md)."""
    lo = 0
    for i, b in enumerate(bounds):
        if v <= b:
            w = b - lo
            if v * 1.008 > b and i + 1 < len(bounds):
                w += bounds[i + 1] - b
            return w
        lo = b
    return float("inf")


LE_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
              0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
LE_BYTES = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
            16777216, 67108864]
LE_COUNT = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]


def check_series(prom, snap, inst):
    """Counts, sums and p99 of every series, through PromQL."""
    by_fam = {}
    for s in snap["series"]:
        fam, labels, scale = x.series_labels(s, inst)
        by_fam.setdefault(fam, []).append((s, labels, scale))
    e.check(len(by_fam) >= 4, f"families in the run: {sorted(by_fam)}")
    checked = 0
    for fam, items in sorted(by_fam.items()):
        sel = f'job="wirelat",instance_name="{inst}"'
        counts = {frozenset(r["metric"].items()) - {("__name__", fam +
                  "_count"), ("job", "wirelat")}: float(r["value"][1])
                  for r in prom.query(f"{fam}_count{{{sel}}}")}
        sums = {frozenset(r["metric"].items()) - {("__name__", fam + "_sum"),
                ("job", "wirelat")}: float(r["value"][1])
                for r in prom.query(f"{fam}_sum{{{sel}}}")}
        q99 = {frozenset(r["metric"].items()) - {("job", "wirelat")}:
               float(r["value"][1]) for r in prom.query(
                   f'histogram_quantile(0.99, {fam}_bucket{{{sel},le!=""}})')}
        for s, labels, scale in items:
            k = frozenset(labels.items()) | {("instance",
                                              prom.target)}
            k = frozenset(i for i in k)
            cnt = counts.get(k)
            e.check(cnt == s["count"], f"{fam}{labels}: count {cnt}, "
                    f"wirelat-stat {s['count']}")
            want_sum = s["mean_ns"] * s["count"] / scale
            got = sums.get(k)
            e.check(got is not None and abs(got - want_sum) <=
                    s["count"] * 1.0 / scale + 1e-12,
                    f"{fam}{labels}: sum {got}, wirelat-stat {want_sum}")
            p99 = s["p99_ns"] / scale
            bounds = LE_SECONDS if scale == 1e9 else (
                LE_BYTES if "bytes" in fam else LE_COUNT)
            tol = le_width(p99, bounds) + 0.01 * p99
            got = q99.get(k)
            e.check(got is not None and abs(got - p99) <= tol,
                    f"{fam}{labels}: histogram_quantile(0.99) {got}, "
                    f"wirelat-stat p99 {p99} (tolerance {tol})")
            checked += 1
    print(f"{checked} series compared through Prometheus")
    return checked


def check_counters(prom, snap, inst):
    res = prom.query(f'{{job="wirelat",instance_name="{inst}",'
                     f'__name__=~"wirelat_.+"}}')
    got = {}
    for r in res:
        m = dict(r["metric"])
        name = m.pop("__name__")
        for k in ("job", "instance", "instance_name"):
            m.pop(k, None)
        got[(name, frozenset(m.items()))] = float(r["value"][1])
    inputs = snap["inputs"]

    def input_name(kind, n):
        # Sources first, then interfaces, then ports (docs/metrics.md).
        srcs = [i for i in inputs if i["ts_source"] == "pcap"]
        if kind == "source":
            return srcs[n]["name"]
        return str(n)
    n = 0
    for name, v in snap["counters"].items():
        mapped = x.counter_name(name, input_name)
        if mapped is None:
            # The sums are not exported: no drops_total without where.
            e.check(not any(k[0] == f"wirelat_{name}_total" and
                            not dict(k[1]).get("where") for k in got),
                    f"{name} exported, documented as not")
            continue
        fam, labels = mapped
        k = (fam, frozenset(labels.items()))
        e.check(got.get(k) == v, f"counter {name}: exported as {fam}"
                f"{labels} = {got.get(k)}, shm {v}")
        n += 1
    print(f"{n} counters compared through Prometheus")


def check_scrape(ex, snap, inst):
    """The exposition itself: types, gauges, HELP, content type, 404."""
    with urllib.request.urlopen(ex.url) as r:
        ctype = r.headers["Content-Type"]
        body = r.read().decode()
    e.check(ctype.startswith("text/plain; version=0.0.4"),
            f"content type {ctype}")
    st, _ = x.http_get(ex.url.replace("/metrics", "/other"))
    e.check(st == 404, f"/other: HTTP {st}")
    m = x.parse_text(body)
    types = m["#types"]
    helps = set(re.findall(r"^# HELP (\S+) ", body, re.M))
    e.check(set(types) == helps, f"families without HELP: "
            f"{set(types) ^ helps}")
    # Gauges of docs/metrics.md are gauges, other counters counters.
    doc = open(os.path.join(e.SRC, "docs", "metrics.md")).read()
    gauges = set(re.findall(r"^\| `(\w+)` \| \*gauge\*", doc, re.M))
    e.check("flow_active" in gauges, f"gauges in metrics.md: {gauges}")
    for g in gauges:
        e.check(types.get(f"wirelat_{g}") == "gauge" and
                types.get(f"wirelat_lcore_{g}") == "gauge",
                f"{g}: typed {types.get(f'wirelat_{g}')}")
    for s in snap["series"]:
        fam = x.FAMILIES[s["metric"]][0]
        e.check(types.get(fam) == "histogram", f"{fam}: {types.get(fam)}")
    # Every family served is named in docs/metrics.md.
    # wirelat_<name>_total: <name> is a counter documented above it.
    for fam in types:
        generic = re.sub(r"^wirelat_(proto|lcore|source|iface|port)_.*",
                         r"wirelat_\1_", fam)
        flat = re.sub(r"^wirelat_(.*?)(_total)?$", r"`\1`", fam)
        e.check(generic in doc or fam in doc or flat in doc,
                f"{fam} not in docs/metrics.md")
    up = {dict(k[1])["instance_name"]: v for k, v in m.items()
          if k != "#types" and k[0] == "wirelat_up"}
    return up


def check_bad_config(d, inst):
    bad = os.path.join(d, "bad.json")
    with open(bad, "w") as f:
        json.dump({"export": {"buckets": "median"}}, f)
    p = e.run([x.EXPORT, "--config", bad, "--instance", inst])
    lines = p.stderr.strip().splitlines()
    e.check(p.returncode == 2 and len(lines) == 1 and
            "export.buckets" in lines[0], f"malformed config: rc "
            f"{p.returncode} {p.stderr!r}")
    with open(bad, "w") as f:
        f.write('{"export": {"remote_write": [{"url": "ftp://x"}]}}')
    p = e.run([x.EXPORT, "--config", bad, "--instance", inst])
    e.check(p.returncode == 2 and p.stderr.count("\n") == 1 and
            "export.remote_write[0].url" in p.stderr,
            f"bad URL: {p.returncode} {p.stderr!r}")
    p = e.run([x.EXPORT, "--buckets", "x"])
    e.check(p.returncode == 2 and "--buckets" in p.stderr, p.stderr)


def check_user(d, pcap):
    """Unprivileged: the segment's group is the user's, the exporter runs
    as that user; without the group it is refused, and says so."""
    if os.geteuid() != 0 or not x.have_user_tools():
        print("non-root check not run: needs root, useradd and setpriv")
        return
    user = f"wlexp{os.getpid() % 100000}"
    e.run(["useradd", "--system", "--no-create-home", "--user-group",
           "--shell", "/usr/sbin/nologin", user], check_rc=0)
    inst = e.instance("export-user")
    other = None
    try:
        conf = os.path.join(d, "user.json")
        with open(conf, "w") as f:
            json.dump({"collector": {"shm_group": user}}, f)
        snap = run_wirelat(pcap, inst, conf)
        ex = x.Exporter(d, "user", ["--instance", inst], user=user)
        try:
            m = ex.scrape()
            total = sum(s["count"] for s in snap["series"]
                        if s["metric"] == "server_rtt")
            got = m and sum(v for k, v in m.items() if k != "#types" and
                            k[0] == "wirelat_tcp_server_rtt_seconds_count")
            e.check(m is not None and got == total,
                    f"exporter as {user}: server_rtt count {got}, want "
                    f"{total}")
            ps = e.run(["ps", "-o", "user=", "-p", str(ex.p.pid)]).stdout
            e.check(ps.strip() == user, f"exporter runs as {ps.strip()!r}")
        finally:
            ex.stop()
        # nobody is not in the group: refused, one line, still serving.
        other = x.Exporter(d, "nobody", ["--instance", inst], user="nobody",
                           group="nogroup")
        m = other.scrape()
        up = m and m.get(("wirelat_up", frozenset(
            {("instance_name", inst)})))
        e.check(m is not None and up == 0, f"outside the group: up {up}")
        refused = [l for l in other.lines() if inst in l and
                   "Permission denied" in l]
        e.check(len(refused) == 1, f"outside the group: {other.lines()}")
    finally:
        if other is not None:
            other.stop()
        e.remove_instance(inst)
        e.run(["userdel", user])


def main():
    x.need_binaries(x.PROMETHEUS)
    d = e.tmpdir()
    pcap = workload(d)
    inst = e.instance("export")
    missing = e.instance("export-missing")
    snap = run_wirelat(pcap, inst)
    e.check(snap["state"] == "finished" and snap["series"],
            f"wirelat run: {snap['state']}, {len(snap['series'])} series")
    ex = x.Exporter(d, "scrape", ["--instance", inst, "--instance",
                                  missing])
    prom = None
    try:
        prom = x.Prometheus(d, [f"127.0.0.1:{ex.port}"])
        prom.target = f"127.0.0.1:{ex.port}"
        ok = x.poll("Prometheus to scrape the exporter", lambda: prom.query(
            f'wirelat_info{{instance_name="{inst}"}}'), 60)
        e.check(ok, "Prometheus never scraped wirelat_info")
        up = check_scrape(ex, snap, inst)
        e.check(up == {inst: 0, missing: 0}, f"wirelat_up {up}")
        check_series(prom, snap, inst)
        check_counters(prom, snap, inst)
        lines = ex.lines()
        miss = [l for l in lines if missing in l and "not exported" in l]
        e.check(len(miss) == 1 and "No such file" in miss[0],
                f"missing instance: {lines}")
        fin = [l for l in lines if f'"{inst}": finished' in l]
        e.check(len(fin) == 1, f"finished instance said once: {lines}")
        n = prom.query('wirelat_export_scrapes_total{job="wirelat"}')
        e.check(n and float(n[0]["value"][1]) >= 1, f"scrapes {n}")
    finally:
        if prom is not None:
            prom.stop()
        rc = ex.stop()
        e.remove_instance(inst)
    e.check(rc == 0, f"exporter exit {rc} on SIGINT")
    check_bad_config(d, inst)
    check_user(d, pcap)
    e.finish()


if __name__ == "__main__":
    main()
