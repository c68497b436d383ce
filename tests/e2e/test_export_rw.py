# SPDX-License-Identifier: BSD-3-Clause
"""wirelat-export's remote write, against a real Prometheus
(--web.enable-remote-write-receiver) and a real VictoriaMetrics (Debian's,
started here on 127.0.0.1), one wirelat run shared by every check:

- wirelat reads a generated capture from a FIFO, fed in three parts, so
  its instance is running while two exporters push every second: A (le and
  vmrange buckets) to both receivers, B (a queue of a few ticks) to
  VictoriaMetrics;
- outage: VictoriaMetrics is stopped between the parts and started again:
  A's samples of that time arrive afterwards with their own timestamps
  (one per second, none missing), nothing dropped; B drops what did not
  fit and its counters account for every sample (enqueued = sent +
  dropped); wirelat's counters equal those of a run of the same capture
  without any exporter (no drop, same packets and transactions);
- once the run finished: every series, its labels, count and sum as
  queried back from both receivers equal wirelat-stat --json; every
  counter equals the shared memory's; VictoriaMetrics' histogram_quantile
  over the vmrange buckets is within one vmrange bucket (10^(1/18), 13.6 %)
  plus 1 % of wirelat's p99;
- bad receivers: an unreachable URL, one answering 400, one that never
  answers: one line each on stderr however many attempts, the failures
  counted by reason, /metrics still answering while a request hangs."""

import http.server
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_export_e2e as x  # noqa: E402


def metric(m, name, **labels):
    """A value of a parsed scrape by name and (some) labels, or None."""
    if m is None:
        return None
    for k, v in m.items():
        if k != "#types" and k[0] == name and \
                all(dict(k[1]).get(a) == b for a, b in labels.items()):
            return v
    return None


class Feeder:
    """Writes a pcap into a FIFO in parts, when told to."""

    def __init__(self, pcap, fifo, parts=3):
        hdr, recs = e.read_pcap(pcap)
        raw = open(pcap, "rb").read()
        self.header = raw[:24]
        self.recs = [struct.pack("<IIII", ts // 10**9, ts % 10**9,
                                 len(fr), orig) + fr
                     for ts, orig, fr in recs]
        self.n = len(recs)
        k = (len(self.recs) + parts - 1) // parts
        self.parts = [self.recs[i:i + k] for i in range(0, self.n, k)]
        self.fifo = fifo
        self.f = None

    def part(self, i):
        if self.f is None:
            self.f = open(self.fifo, "wb")    # blocks until wirelat reads
            self.f.write(self.header)
        self.f.write(b"".join(self.parts[i]))
        self.f.flush()

    def close(self):
        if self.f is not None:
            self.f.close()
            self.f = None


def bad_receivers(d):
    """Unreachable, 400, hanging: one line each, counted, still serving."""
    seen = []

    class H400(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(dict(self.headers))
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"out of bounds\n")

        def log_message(self, *a):
            pass

    s400 = http.server.HTTPServer(("127.0.0.1", 0), H400)
    threading.Thread(target=s400.serve_forever, daemon=True).start()
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(16)             # accepts (the kernel does), never answers
    dead = x.free_port()
    urls = {"connection": f"http://127.0.0.1:{dead}/api/v1/write",
            "http_4xx": f"http://127.0.0.1:{s400.server_port}/api/v1/write",
            "timeout": f"http://127.0.0.1:{hang.getsockname()[1]}/w"}
    inst = e.instance("export-bad")
    ex = x.Exporter(d, "bad", ["--instance", inst, "--interval", "1",
                               "--timeout", "1"] +
                    [a for u in urls.values() for a in
                     ("--remote-write", u)])
    try:
        def failed_twice():
            m = ex.scrape()
            return m and all((metric(
                m, "wirelat_export_remote_write_failures_total", url=u,
                reason=r) or 0) >= 2 for r, u in urls.items()) and m
        m = x.poll("two failures of each bad receiver", failed_twice, 60)
        e.check(m, f"failures: {ex.lines()}")
        t0 = time.monotonic()
        m = ex.scrape()
        e.check(m is not None and time.monotonic() - t0 < 1,
                "/metrics while a request hangs")
        e.check(metric(m, "wirelat_export_remote_write_dropped_samples_"
                       "total", url=urls["http_4xx"], reason="http_4xx"),
                "4xx samples dropped and counted")
        lines = ex.lines()
        for r, u in urls.items():
            mine = [l for l in lines if u in l and "remote write" in l and
                    "every" not in l]
            e.check(len(mine) == 1, f"{r}: {len(mine)} lines: {mine}")
        e.check(any("HTTP 400: out of bounds" in l for l in lines),
                f"the 400's body in its line: {lines}")
        e.check(any("No such file" in l for l in lines if inst in l),
                "the missing instance said")
        h = seen[0] if seen else {}
        e.check(h.get("Content-Encoding") == "snappy" and
                h.get("Content-Type") == "application/x-protobuf" and
                h.get("X-Prometheus-Remote-Write-Version") == "0.1.0",
                f"remote-write headers {h}")
    finally:
        rc = ex.stop()
        s400.shutdown()
        hang.close()
    e.check(rc == 0, f"exit {rc} with a hanging receiver")


def ticks(samples, t0, t1):
    return sorted({round(t) for t, _ in samples if t0 <= t <= t1})


def main():
    x.need_binaries(x.PROMETHEUS, x.VM)
    d = e.tmpdir()
    bad_receivers(d)
    pcap = os.path.join(d, "all.pcap")
    e.gen("--proto", "all", "--connections", "16", "--requests", "40",
          "--latency", "lognormal:400us:0.8", "--seed", "32", "-o", pcap)
    # The reference: the same capture without any exporter.
    ref_inst = e.instance("export-ref")
    e.wirelat(["--pcap", pcap, "--instance", ref_inst, "--no-report"],
              check_rc=0)
    ref = json.loads(e.stat(["--instance", ref_inst, "--json"],
                            check_rc=0).stdout)
    e.remove_instance(ref_inst)

    fifo = os.path.join(d, "in.pcap")
    os.mkfifo(fifo)
    feed = Feeder(pcap, fifo)
    inst = e.instance("export-rw")
    w = subprocess.Popen([e.WIRELAT, "--pcap", fifo, "--instance", inst,
                          "--no-report"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    vm = prom = a = b = None
    try:
        vm = x.VictoriaMetrics(d)
        prom = x.Prometheus(d)
        feed.part(0)
        a = x.Exporter(d, "a", ["--instance", inst, "--buckets", "both",
                                "--interval", "1", "--timeout", "2",
                                "--remote-write", vm.write_url,
                                "--remote-write", prom.write_url,
                                "--label", "rw=a"])
        # B's queue: about three ticks of its own size.
        m = x.poll("a running instance", lambda: metric(
            a.scrape(), "wirelat_up", instance_name=inst) == 1, 30)
        e.check(m, "instance running while fed")
        per_tick = sum(1 for k in a.scrape() if k != "#types" and
                       "vmrange" not in dict(k[1]))
        b = x.Exporter(d, "b", ["--instance", inst, "--interval", "1",
                                "--queue-samples", str(3 * per_tick),
                                "--remote-write", vm.write_url,
                                "--label", "rw=tiny"])
        sel_a = f'wirelat_up{{rw="a",instance_name="{inst}"}}'
        e.check(x.poll("samples in VictoriaMetrics", lambda: vm.query(
            sel_a), 30), "nothing arrived in VictoriaMetrics")
        e.check(x.poll("samples in Prometheus", lambda: prom.query(
            sel_a), 30), "nothing arrived in Prometheus")
        # Outage: VictoriaMetrics down for 6 s of 1 s ticks.
        t_stop = time.time()
        vm.stop()
        feed.part(1)
        time.sleep(6)
        t_start = time.time()
        vm.start()
        feed.part(2)
        feed.close()
        out, err = w.communicate(timeout=120)
        e.check(w.returncode == 0, f"wirelat exit {w.returncode}: {err}")

        def drained(ex):
            m = ex.scrape()
            return m and metric(m, "wirelat_export_remote_write_queue_"
                                "samples", url=vm.write_url) == 0 and \
                metric(m, "wirelat_up", instance_name=inst) == 0 and m
        ma = x.poll("A's queue drained", lambda: drained(a), 60)
        mb = x.poll("B's queue drained", lambda: drained(b), 60)
        e.check(ma and mb, "queues never drained")
        # A: every second of the outage arrived afterwards.
        got = [s for _, s in vm.export(sel_a, t_stop - 2, t_start + 2)]
        ts = ticks(got[0] if got else [], t_stop + 0.5, t_start - 0.5)
        e.check(len(ts) >= 5 and all(b2 - b1 <= 2 for b1, b2 in
                                     zip(ts, ts[1:])),
                f"A's ticks during the outage {t_stop:.1f}..{t_start:.1f}:"
                f" {ts}")
        e.check(metric(ma, "wirelat_export_remote_write_dropped_samples_"
                       "total", url=vm.write_url, reason="queue_full") == 0,
                "A dropped samples")
        e.check((metric(ma, "wirelat_export_remote_write_failures_total",
                        url=vm.write_url, reason="connection") or 0) >= 1,
                "A's failures while VictoriaMetrics was down not counted")
        # B: what did not fit is counted, every sample accounted for.
        enq = metric(mb, "wirelat_export_remote_write_enqueued_samples_"
                     "total", url=vm.write_url)
        sent = metric(mb, "wirelat_export_remote_write_samples_total",
                      url=vm.write_url)
        drop = metric(mb, "wirelat_export_remote_write_dropped_samples_"
                      "total", url=vm.write_url, reason="queue_full")
        e.check(drop and drop > 0 and enq == sent + drop,
                f"B: enqueued {enq}, sent {sent}, dropped {drop}")
        sel_b = f'wirelat_up{{rw="tiny",instance_name="{inst}"}}'
        got_b = [s for _, s in vm.export(sel_b, t_stop - 2, t_start + 2)]
        ts_b = ticks(got_b[0] if got_b else [], t_stop + 0.5,
                     t_start - 0.5)
        e.check(len(ts_b) < len(ts), f"B kept {ts_b}, A {ts}")
        # The data path: the same as without any exporter.
        s = json.loads(e.stat(["--instance", inst, "--json"],
                              check_rc=0).stdout)
        for k in ("packets", "txn_received", "drops", "backpressure",
                  "flow_created"):
            e.check(s["counters"][k] == ref["counters"][k],
                    f"{k}: {s['counters'][k]}, without exporter "
                    f"{ref['counters'][k]}")
        e.check(s["counters"]["packets"] == feed.n and
                s["counters"]["drops"] == 0, "packets, drops")
        e.check(sorted((q["metric"], q["server_port"], q["method"],
                        q["count"]) for q in s["series"]) ==
                sorted((q["metric"], q["server_port"], q["method"],
                        q["count"]) for q in ref["series"]),
                "series differ from the run without exporter")
        # The receivers hold the final values once a tick saw the run
        # finished (wirelat_up 0: the finished flag follows the last
        # publication).
        for r in (vm, prom):
            e.check(x.poll("the finished run in a receiver", lambda: [
                q for q in r.query(sel_a) if q["value"][1] == "0"], 30),
                "wirelat_up 0 never arrived")
        compare(vm, prom, s, inst)
    finally:
        # Every step runs whatever the one before did.
        for step in [feed.close] + \
                [lambda ex=ex: e.check(ex.stop() == 0, f"exporter exit: "
                                       f"{ex.lines()[-3:]}")
                 for ex in (a, b) if ex is not None] + \
                [lambda: w.poll() is None and (w.kill(), w.wait())] + \
                [r.stop for r in (vm, prom) if r is not None and
                 getattr(r, "p", None) is not None] + \
                [lambda: e.remove_instance(inst)]:
            try:
                step()
            except Exception as exc:     # noqa: BLE001
                e.check(False, f"cleanup: {exc!r}")
    e.finish()


def compare(vm, prom, snap, inst):
    """Series, labels, counts, sums (both), p99 over vmrange (VM),
    counters (Prometheus), as remote-written by A."""
    for name, r in (("VictoriaMetrics", vm), ("Prometheus", prom)):
        n = 0
        for s in snap["series"]:
            fam, labels, scale = x.series_labels(s, inst)
            sel = x.promql_sel({**labels, "rw": "a"})
            c = r.query(f"{fam}_count{{{sel}}}")
            got = [q for q in c if q["metric"].get("rw") == "a"]
            want = {**labels, "rw": "a", "__name__": fam + "_count"}
            e.check(len(got) == 1 and got[0]["metric"] == want and
                    float(got[0]["value"][1]) == s["count"],
                    f"{name} {fam}{labels}: {got}, count {s['count']}")
            sm = r.query(f"{fam}_sum{{{sel}}}")
            want_sum = s["mean_ns"] * s["count"] / scale
            e.check(sm and abs(float(sm[0]["value"][1]) - want_sum) <=
                    s["count"] / scale + 1e-12, f"{name} {fam}{labels}: "
                    f"sum {sm and sm[0]['value'][1]}, want {want_sum}")
            if r is vm:
                q = vm.query(f'histogram_quantile(0.99, {fam}_bucket'
                             f'{{{sel},vmrange!=""}})')
                p99 = s["p99_ns"] / scale
                tol = p99 * (x.VM_WIDTH + 0.01)
                e.check(q and abs(float(q[0]["value"][1]) - p99) <= tol,
                        f"VictoriaMetrics {fam}{labels}: quantile "
                        f"{q and q[0]['value'][1]}, wirelat-stat p99 {p99}")
            n += 1
        print(f"{name}: {n} series compared")
    res = prom.query(f'{{rw="a",instance_name="{inst}",'
                     f'__name__=~"wirelat_.+"}}')
    got = {}
    for q in res:
        m = dict(q["metric"])
        nm = m.pop("__name__")
        for k in ("rw", "instance_name"):
            m.pop(k, None)
        got[(nm, frozenset(m.items()))] = float(q["value"][1])
    n = 0
    for name, v in snap["counters"].items():
        mapped = x.counter_name(name, lambda kind, i: snap["inputs"][i][
            "name"] if kind == "source" else str(i))
        if mapped is None:
            continue
        k = (mapped[0], frozenset(mapped[1].items()))
        e.check(got.get(k) == v, f"remote-written counter {name}: "
                f"{got.get(k)}, shm {v}")
        n += 1
    print(f"Prometheus: {n} remote-written counters compared")


if __name__ == "__main__":
    main()
