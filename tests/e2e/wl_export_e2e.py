# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of the wirelat-export tests: a real Prometheus and a real
VictoriaMetrics (Debian's), started on 127.0.0.1 with free ports and temp
dirs, queried through their HTTP APIs; wirelat-export started and scraped;
the documented naming of docs/metrics.md ("Prometheus and remote write")
written out independently of the exporter's code."""

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request

import wl_e2e as e
import wl_servers as srv

EXPORT = os.path.join(e.BUILD, "app", "wirelat-export", "wirelat-export")
PROMETHEUS = "/usr/bin/prometheus"
VM = "/usr/bin/victoria-metrics"

# shm metric -> (exported family, method label or None, raw units per
# exported unit): docs/metrics.md, "Prometheus and remote write".
FAMILIES = {
    "server_rtt": ("wirelat_tcp_server_rtt_seconds", "method", 1e9),
    "client_rtt": ("wirelat_tcp_client_rtt_seconds", "method", 1e9),
    "duration": ("wirelat_request_duration_seconds", "method", 1e9),
    "responses": ("wirelat_response_size_bytes", "method", 1),
    "conn_duration": ("wirelat_tcp_connection_duration_seconds", "close",
                      1e9),
    "conn_retrans": ("wirelat_tcp_connection_retransmitted_segments", None,
                     1),
    "conn_zero_window": ("wirelat_tcp_connection_zero_window_seconds", None,
                         1e9),
}
PROTOS = ("tcp", "http", "redis", "memcached", "postgresql", "mysql", "dns")
# VictoriaMetrics' vmrange buckets are 10^(1/18) wide.
VM_WIDTH = 10 ** (1 / 18) - 1


free_port = srv.free_port


def http_get(url, timeout=10):
    """(status, body text); status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as x:
        return x.code, x.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def poll(what, fn, timeout=60, every=0.2):
    """fn() until it returns something true; that value, or None after
    timeout (the caller says what failed)."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            print(f"timed out waiting for {what}")
            return None
        time.sleep(every)


def api_query(url, q, t=None):
    """The result of an instant PromQL/MetricsQL query ([] on error)."""
    args = {"query": q}
    if t is not None:
        args["time"] = str(t)
    st, body = http_get(url + "/api/v1/query?" + urllib.parse.urlencode(args))
    if st != 200:
        print(f"query {q}: HTTP {st} {body[:300]}")
        return []
    return json.loads(body)["data"]["result"]


def stop(p, sig=signal.SIGTERM):
    if p is None or p.poll() is not None:
        return
    p.send_signal(sig)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def need_binaries(*paths):
    for p in paths:
        if not os.access(p, os.X_OK):
            e.skip(f"{p} is not installed (scripts/install-deps)")


class Prometheus:
    """A Prometheus scraping targets every second, also a remote-write
    receiver."""

    def __init__(self, d, targets=(), name="prom"):
        self.port = free_port()
        self.dir = os.path.join(d, name)
        os.makedirs(self.dir, exist_ok=True)
        conf = os.path.join(self.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
            if targets:
                f.write("scrape_configs:\n  - job_name: wirelat\n"
                        "    static_configs:\n      - targets: [" +
                        ", ".join(f'"{t}"' for t in targets) + "]\n")
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.p = subprocess.Popen(
            [PROMETHEUS, f"--config.file={conf}",
             f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}",
             "--web.enable-remote-write-receiver"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        self.write_url = self.url + "/api/v1/write"
        ok = poll("Prometheus ready", lambda: http_get(
            self.url + "/-/ready", 2)[0] == 200, 60)
        if not ok:
            raise SystemExit("Prometheus did not start: " +
                             open(os.path.join(self.dir, "log")).read()[-2000:])

    def query(self, q, t=None):
        return api_query(self.url, q, t)

    def stop(self):
        stop(self.p)
        self.log.close()


class VictoriaMetrics:
    """A single-node VictoriaMetrics receiving remote write; stop() and
    start() again keep its data (the outage test)."""

    def __init__(self, d, name="vm"):
        self.port = free_port()
        self.dir = os.path.join(d, name)
        os.makedirs(self.dir, exist_ok=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.write_url = self.url + "/api/v1/write"
        self.p = None
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "log"), "a")
        self.p = subprocess.Popen(
            [VM, f"-storageDataPath={self.dir}/data",
             f"-httpListenAddr=127.0.0.1:{self.port}",
             "-retentionPeriod=1d", "-search.latencyOffset=0s",
             "-search.disableCache"],
            stdout=self.log, stderr=subprocess.STDOUT)
        ok = poll("VictoriaMetrics ready", lambda: http_get(
            self.url + "/health", 2)[0] == 200, 60)
        if not ok:
            raise SystemExit("VictoriaMetrics did not start: " +
                             open(os.path.join(self.dir, "log")).read()[-2000:])

    def flush(self):
        http_get(self.url + "/internal/force_flush")

    def query(self, q, t=None):
        self.flush()
        return api_query(self.url, q, t)

    def export(self, match, start, end):
        """Raw samples [(ts_s, value)] of every series matching."""
        self.flush()
        st, body = http_get(self.url + "/api/v1/export?" +
                            urllib.parse.urlencode({"match[]": match,
                                                    "start": str(start),
                                                    "end": str(end)}))
        out = []
        for line in body.splitlines():
            if line.strip():
                j = json.loads(line)
                out.append((j["metric"], list(zip(
                    [t / 1000 for t in j["timestamps"]], j["values"]))))
        return out

    def stop(self):
        stop(self.p)
        self.p = None
        self.log.close()


class Exporter:
    """wirelat-export with args; its stderr goes to a file (lines())."""

    def __init__(self, d, name, args, user=None, group=None, listen=True):
        self.port = free_port() if listen else None
        self.errpath = os.path.join(d, f"{name}.stderr")
        self.err = open(self.errpath, "w")
        cmd = [EXPORT, *args]
        if listen:
            cmd += ["--listen", f"127.0.0.1:{self.port}"]
        if user:
            cmd = ["setpriv", "--reuid", user, "--regid", group or user,
                   "--clear-groups"] + cmd
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                  stderr=self.err)
        self.url = f"http://127.0.0.1:{self.port}/metrics" if listen \
            else None
        if listen:
            poll("wirelat-export answering", lambda: self.p.poll() is
                 not None or http_get(self.url, 2)[0] == 200, 30)

    def scrape(self):
        st, body = http_get(self.url)
        return parse_text(body) if st == 200 else None

    def lines(self):
        if not self.err.closed:
            self.err.flush()
        return [l for l in open(self.errpath).read().splitlines() if l]

    def stop(self):
        stop(self.p, signal.SIGINT)
        self.err.close()
        return self.p.returncode


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_text(body):
    """Text exposition -> {(name, frozenset(labels)): value}, plus the
    TYPE of each family in ["#types"]."""
    out, types = {}, {}
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, t = line.split(" ", 3)
            types[name] = t
            continue
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            raise SystemExit(f"bad exposition line: {line!r}")
        labels = {k: bytes(v, "utf-8").decode("unicode_escape")
                  for k, v in LABEL.findall(m.group(2) or "")}
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    out["#types"] = types
    return out


@functools.lru_cache(maxsize=None)
def doc_gauges():
    """The counters docs/metrics.md marks *gauge*."""
    with open(os.path.join(e.SRC, "docs", "metrics.md")) as f:
        return frozenset(re.findall(r"^\| `(\w+)` \| \*gauge\*", f.read(),
                                    re.M))


def counter_name(name, inputs):
    """A shm counter's exported (family, extra labels), or None when it is
    not exported: docs/metrics.md, "Prometheus and remote write"."""
    gauge = doc_gauges()
    m = re.match(r"^lcore(\d+)\.(.+)$", name)
    if m:
        rest = m.group(2)
        return (f"wirelat_lcore_{rest}" + ("" if rest in gauge else
                                          "_total"), {"lcore": m.group(1)})
    m = re.match(r"^(source|iface|port)(\d+)\.(.+)$", name)
    if m:
        kind, n, rest = m.group(1), int(m.group(2)), m.group(3)
        return f"wirelat_{kind}_{rest}_total", {kind: inputs(kind, n)}
    if name in ("drops", "drops_packets"):
        return None
    if name.startswith("drops_"):
        return "wirelat_drops_total", {"where": name[6:]}
    head, _, rest = name.partition("_")
    if head in PROTOS and rest:
        return f"wirelat_proto_{rest}_total", {"proto": head}
    return f"wirelat_{name}" + ("" if name in gauge else "_total"), {}


def series_labels(s, inst):
    """The exported labels of a wirelat-stat --json series."""
    fam, mlabel, scale = FAMILIES[s["metric"]]
    ip = s["server_ip"]
    srv = f"[{ip}]:{s['server_port']}" if ":" in ip else \
        f"{ip}:{s['server_port']}"
    l = {"instance_name": inst, "proto": s["proto"], "server": srv,
         "status_class": s["status_class"]}
    if mlabel:
        l[mlabel] = s["method"]
    return fam, l, scale


def promql_sel(labels):
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


def have_user_tools():
    return all(shutil.which(t) for t in ("useradd", "userdel", "setpriv"))
