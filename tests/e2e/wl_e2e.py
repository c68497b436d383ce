# SPDX-License-Identifier: BSD-3-Clause
"""Helpers shared by the end-to-end tests: where the binaries are, how to
run them, and small assertions that say what differed."""

import collections
import functools
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading

SRC = os.environ.get("WL_SRC", os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("WL_BUILD", os.path.join(SRC, "build"))
WIRELAT = os.path.join(BUILD, "app", "wirelat", "wirelat")
STAT = os.path.join(BUILD, "app", "wirelat-stat", "wirelat-stat")
REPLAY = os.path.join(BUILD, "app", "wirelat-replay", "wirelat-replay")
SKIP = 77   # meson's "skipped" exit code
# The reference corpus (README, "Reference corpus"): ../shared/corpus
# beside the checkout, or WL_CORPUS.
CORPUS = os.environ.get("WL_CORPUS", os.path.join(os.path.dirname(SRC),
                                                  "shared", "corpus"))

failures = 0


def check(cond, what):
    """Record a failed expectation without stopping the test."""
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, flush=True)
    return cond


def finish():
    if failures:
        print(f"{failures} check(s) failed")
        sys.exit(1)
    print("ok")
    sys.exit(0)


def skip(why):
    print("SKIP:", why)
    sys.exit(SKIP)


def need_corpus(what):
    """The corpus manifest's path; skips with one line saying why and
    where the corpus comes from when it is absent."""
    manifest = os.path.join(CORPUS, "MANIFEST.tsv")
    if not os.path.exists(manifest):
        skip(f"{what} not run: no reference corpus at {CORPUS} (put "
             "../shared/corpus beside the checkout or set WL_CORPUS; "
             "README.md, \"Reference corpus\")")
    return manifest


def tmpdir():
    return tempfile.mkdtemp(prefix="wl-e2e-")


def instance(name):
    """An instance name unique to this run (tests may run concurrently)."""
    return f"{name}-{os.getpid()}"


_threads = {}
_threads_lock = threading.Lock()


def thread_instance(name):
    """An instance name unique to this run and to the calling thread: a
    worker of a pool runs one wirelat at a time, so its runs never find
    the instance in use by another worker's."""
    with _threads_lock:
        n = _threads.setdefault(threading.get_ident(), len(_threads))
    return instance(f"{name}{n}")


def thread_instances(name):
    """Every name thread_instance(name) gave, to remove them."""
    with _threads_lock:
        return [instance(f"{name}{n}") for n in _threads.values()]


@functools.lru_cache(maxsize=None)
def _tool_version(tool):
    """A tool's first --version line, asked once per process."""
    return run([tool, "--version"]).stdout.splitlines()[:1]


def tool_output(args, inputs):
    """stdout of a deterministic tool run (tshark over a corpus capture),
    kept in a cache keyed by the tool's version, the arguments and the
    inputs' contents: the optimised and the sanitizer suites, and later
    runs, read each capture once. The tool still runs wherever the cache
    has no entry."""
    h = hashlib.sha256()
    h.update(repr((_tool_version(args[0]), args)).encode())
    for f in inputs:
        with open(f, "rb") as fh:
            h.update(hashlib.sha256(fh.read()).digest())
    d = os.environ.get("WL_TOOL_CACHE", os.path.join(
        tempfile.gettempdir(), "wl-tool-cache"))
    path = os.path.join(d, h.hexdigest())
    if os.path.exists(path):
        return open(path).read()
    out = run(args, check_rc=0).stdout
    os.makedirs(d, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}"
    with open(tmp, "w") as f:
        f.write(out)
    os.replace(tmp, path)
    return out


def gen(*args):
    """wirelat-replay gen with args (a --scenario's capture and truth,
    docs/replay.md); it must succeed."""
    run([REPLAY, "gen", *args], check_rc=0)


def run(args, timeout=300, check_rc=None, **kw):
    """Run a binary; returns CompletedProcess with text stdout/stderr."""
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       **kw)
    if check_rc is not None and p.returncode != check_rc:
        print("command:", " ".join(args))
        print("stdout:", p.stdout[-4000:])
        print("stderr:", p.stderr[-4000:])
        raise SystemExit(f"exit code {p.returncode}, expected {check_rc}")
    return p


def wirelat(args, **kw):
    return run([WIRELAT, *args], **kw)


def stat(args, **kw):
    return run([STAT, *args], **kw)


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def ns_of(text):
    """tshark's "seconds.fraction" as integer ns, without float rounding."""
    sec, _, frac = text.partition(".")
    return int(sec) * 10**9 + int((frac + "000000000")[:9])


def error_lines(stderr):
    """stderr lines that are not notices."""
    return [l for l in stderr.splitlines()
            if l.strip() and not l.startswith("wirelat: notice:")]


def remove_instance(name):
    run([STAT, "--instance", name, "--remove"])


def midstream(cap, proto, d, frac=0.3, paired=True, server_port=None):
    """Detection and pairing when the capture starts after the
    connections did: the first frac of cap's packets are cut away and
    wirelat reads the rest. Every answered transaction it finds must be
    one of the whole capture's, to the ns (no wrong pairing), and it
    must find at least 90% of those that start after the cut.
    paired False: the protocol does not pair what it picked up mid-stream
    (answers may be to requests sent before the capture): each answer of
    such a connection must then be logged alone, unpaired, with the times
    of one of the whole capture's answers; connections seen from their
    start are paired as in the whole capture. paired True: answers
    logged alone (no_request) must also have one of those times.
    server_port: the server's port when it is not a protocol default
    (a port picked at random may be above the client's: which side
    serves is then what --server-port says, as docs/config.md tells).
    @return (found, expected) counts."""
    def txns(path, tag):
        log = os.path.join(d, f"mid-{tag}.log")
        inst = instance(f"mid-{tag}")
        hint = ["--server-port", str(server_port)] if server_port else []
        wirelat(["--pcap", path, "--instance", inst, "--log", log,
                 "--no-report", *hint], check_rc=0)
        remove_instance(inst)
        return [t for t in jsonl(log) if t.get("proto") == proto and
                t["rsp_end_ns"]]

    def key(t):
        return (t["client_port"], t["req_start_ns"], t["req_end_ns"],
                t["rsp_start_ns"], t["rsp_end_ns"])

    # A connection set-up whose first message was cut away starts at its
    # next one (docs/timing.md): its answer must still be the same.
    setup = ("connect", "startup")

    def rkey(t):
        return (t["client_port"], t["rsp_start_ns"], t["rsp_end_ns"])

    n = sum(1 for _ in run(["tshark", "-r", cap, "-T", "fields", "-e",
                            "frame.number"], check_rc=0).stdout.split())
    skip = max(1, int(n * frac))
    cut = os.path.join(d, f"mid-{proto}.pcap")
    run(["editcap", "-r", cap, cut, f"{skip + 1}-{n}"], check_rc=0)
    first = ns_of(run(["tshark", "-r", cut, "-c", "1", "-T", "fields", "-e",
                       "frame.time_epoch"], check_rc=0).stdout.strip())
    fullt = txns(cap, "full")
    full = {key(t): t for t in fullt}
    full_r = {rkey(t) for t in fullt if t["method"] in setup}
    cutt = txns(cut, "cut")
    if not paired:
        # Connections that started after the cut are paired as in the
        # whole capture; the others' answers are alone, unpaired.
        full_rsp = {rkey(t) for t in fullt}
        alone = [t for t in cutt if "no_request" in t["flags"]]
        bad = [t for t in alone if "unpaired" not in t["flags"] or
               rkey(t) not in full_rsp] + \
            [t for t in cutt if "no_request" not in t["flags"] and
             key(t) not in full]
        check(cutt and not bad, f"mid-stream {proto}: {len(alone)} "
              f"answers alone; unpaired, or paired as in the whole "
              f"capture, all but {bad[:2]}")
        return 0, len(alone)
    # An answer to a request before the cut is logged alone
    # (no_request), with its own times.
    full_rsp = {rkey(t) for t in fullt}
    wrong = [t for t in cutt if key(t) not in full and
             (t["method"] not in setup or rkey(t) not in full_r) and
             ("no_request" not in t["flags"] or rkey(t) not in full_rsp)]
    check(not wrong, f"mid-stream {proto}: {len(wrong)} transactions the "
          f"whole capture does not have: {wrong[:3]}")
    # Same exchange, same verb -- unless what named it (a prepared
    # statement's text) was before the cut: then the resource is empty.
    renamed = [(t, full[key(t)]) for t in cutt if key(t) in full and
               t["method"] != full[key(t)]["method"] and t["resource"]]
    check(not renamed, f"mid-stream {proto}: named otherwise: {renamed[:2]}")
    after = {k for k in full if k[1] > first}
    found = len(after & {key(t) for t in cutt})
    check(found >= 0.9 * len(after), f"mid-stream {proto}: found {found} "
          f"of the {len(after)} transactions after the cut")
    return found, len(after)


def tcp_inorder(cap, port):
    """Data-carrying TCP segments by client port: [(ns, from_server)],
    each at the time its bytes were in order at the tap: a segment
    captured ahead of a hole counts from the packet that filled it, and
    a retransmitted copy of bytes already seen does not count."""
    out = subprocess.run(
        ["tshark", "-r", cap, "-Y", "tcp.len>0", "-T", "fields",
         "-o", "tcp.relative_sequence_numbers:TRUE",
         "-E", "separator=|", "-e", "frame.time_epoch", "-e", "tcp.srcport",
         "-e", "tcp.dstport", "-e", "tcp.seq", "-e", "tcp.len"],
        capture_output=True, text=True, check=True).stdout
    segs = collections.defaultdict(list)
    nxt, held = {}, collections.defaultdict(list)
    for line in out.splitlines():
        ts, sp, dp, seq, ln = line.split("|")
        sp, dp, seq, ln, ns = int(sp), int(dp), int(seq), int(ln), \
            ns_of(ts)
        cp, srv = (dp, True) if sp == port else (sp, False)
        if sp != port and dp != port:
            continue
        k = (cp, srv)
        held[k].append((seq, seq + ln))
        n0 = nxt.get(k, 1)
        n = n0
        held[k].sort()
        while held[k] and held[k][0][0] <= n:
            n = max(n, held[k].pop(0)[1])
        if n > n0:
            segs[cp].append((ns, srv))
        nxt[k] = n
    for v in segs.values():
        v.sort()
    return segs


# ---- captures written and read by the tests themselves ----

def csum(b):
    """The Internet checksum (RFC 1071) of b: 0 over data that holds a
    correct checksum field."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def write_pcap(path, recs, linktype=1):
    """recs: (ts_ns, frame); a nanosecond pcap."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144,
                            linktype))
        for ts, fr in recs:
            f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(fr),
                                len(fr)))
            f.write(fr)


def read_pcap(path):
    """(header, [(ts_ns, orig_len, frame)]) of a classic little-endian
    pcap in microseconds or nanoseconds; header has magic, version, snap,
    link. A record cut short or with a fraction out of range fails."""
    with open(path, "rb") as f:
        data = f.read()
    magic, vmaj, vmin, _, _, snap, link = struct.unpack_from("<IHHiIII",
                                                             data)
    mult = {0xA1B23C4D: 1, 0xA1B2C3D4: 1000}[magic]
    out, off = [], 24
    while off < len(data):
        sec, frac, cap, orig = struct.unpack_from("<IIII", data, off)
        off += 16
        if frac * mult >= 10**9 or off + cap > len(data):
            raise SystemExit(f"{path}: bad record at {off - 16}")
        out.append((sec * 10**9 + frac * mult, orig, data[off:off + cap]))
        off += cap
    return {"magic": magic, "version": (vmaj, vmin), "snap": snap,
            "link": link}, out
