# SPDX-License-Identifier: BSD-3-Clause
"""A capture read as a stream (docs/pcap.md, "Streams") gives exactly what
the same capture gives read as a file: `cat f | wirelat --pcap -` and a
FIFO written in small chunks with pauses produce the same transaction
log, byte for byte, and the same report and statistics, also through a
pipeline with rings small enough to fill (a stream is offline input:
lossless). Ctrl-C before a writer came, or before the file header, ends
wirelat at once with one line and exit status 1; Ctrl-C while a stream
is idle mid-capture stops the run as it stops any (exit 0, what was read
is analysed). A terminal, an empty standard input, a stream cut inside a
record and a second `--pcap -` each give one line."""

import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402

SAMPLE = os.path.join(e.SRC, "tests", "data", "sample.pcap")
# Depend on how long the lcores waited or ran, not on what they read.
TIMING = ("busy_cycles", "cpu_ns", "backpressure", "backpressure_cycles")


def outputs(d, tag, extra=()):
    inst = e.instance(f"stream-{tag}")
    log = os.path.join(d, f"{tag}.log")
    st = os.path.join(d, f"{tag}.json")
    return inst, log, st, ["--instance", inst, "--log", log,
                           "--stats-json", st, *extra]


def results(p, inst, log, st, what):
    """(log bytes, stats without what may differ, report rows, all
    counters), or None when wirelat failed."""
    e.remove_instance(inst)
    if not e.check(p.returncode == 0, f"{what}: exit {p.returncode}: "
                   f"{p.stderr[-2000:]!r}"):
        return None
    s = json.load(open(st))
    counters = {k: v for k, v in s["counters"].items()
                if not k.endswith(TIMING)}
    stats = (counters, s["series"], s["first_ns"], s["last_ns"])
    # The report without its header (instance, pid) and input line.
    rows = [r for r in p.stdout.splitlines()[1:]
            if not r.lstrip().startswith("input ")]
    return open(log, "rb").read(), stats, rows, s["counters"]


def same(base, got, what):
    if got is None or base is None:
        return
    e.check(got[0] == base[0], f"{what}: transaction log differs "
            f"({len(got[0])} vs {len(base[0])} bytes)")
    for i, name in enumerate(("counters", "series", "first_ns",
                              "last_ns")):
        a, b = base[1][i], got[1][i]
        if name == "counters":
            diff = {k: (a.get(k), b.get(k)) for k in set(a) | set(b)
                    if a.get(k) != b.get(k)}
            e.check(not diff, f"{what}: counters differ: {diff}")
        else:
            e.check(a == b, f"{what}: {name} differs")
    e.check(got[2] == base[2], f"{what}: report differs")


def run_file(d, tag, extra=()):
    inst, log, st, args = outputs(d, tag, extra)
    p = e.wirelat(["--pcap", SAMPLE, *args])
    return results(p, inst, log, st, tag)


def run_pipe(d, tag, extra=()):
    inst, log, st, args = outputs(d, tag, extra)
    cat = subprocess.Popen(["cat", SAMPLE], stdout=subprocess.PIPE)
    p = e.wirelat(["--pcap", "-", *args], stdin=cat.stdout)
    cat.stdout.close()
    cat.wait()
    return results(p, inst, log, st, tag)


def run_shared_pipe(d, tag):
    """stdin a pipe this test holds too: the flags wirelat set on it
    (non-blocking) are gone when it exits."""
    inst, log, st, args = outputs(d, tag)
    r, w = os.pipe()
    data = open(SAMPLE, "rb").read()

    def write():
        try:
            with os.fdopen(w, "wb") as f:
                f.write(data)
        except BrokenPipeError:
            pass            # wirelat failed: said below
    t = threading.Thread(target=write)
    t.start()
    p = e.wirelat(["--pcap", "-", *args], stdin=r)
    e.check(os.get_blocking(r), "standard input left non-blocking")
    os.close(r)
    t.join()
    return results(p, inst, log, st, tag)


def feed(path, data, chunk, pause_at=None, pause=0.0):
    """Write data into the FIFO at path, chunk bytes at a time."""
    try:
        with open(path, "wb", buffering=0) as f:
            for off in range(0, len(data), chunk):
                if pause_at is not None and off <= pause_at < off + chunk:
                    time.sleep(pause)
                f.write(data[off:off + chunk])
                time.sleep(0.0005)
    except BrokenPipeError:
        pass                # wirelat stopped reading: said elsewhere


def unblock(fifo, t):
    """A writer still waiting for wirelat to open the FIFO (it failed
    before): open and close the reading end, the writer gets EPIPE."""
    if t.is_alive():
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    t.join()


def run_fifo(d, tag, extra=()):
    inst, log, st, args = outputs(d, tag, extra)
    fifo = os.path.join(d, f"{tag}.fifo")
    os.mkfifo(fifo)
    data = open(SAMPLE, "rb").read()
    # Odd chunks cut records anywhere; a pause mid-capture leaves the
    # RX lcore polling an empty pipe for a while.
    w = threading.Thread(target=feed, args=(fifo, data, 3001,
                                            len(data) // 2, 0.5))
    w.start()
    p = e.wirelat(["--pcap", fifo, *args])
    unblock(fifo, w)
    return results(p, inst, log, st, tag)


def start(args, **kw):
    return subprocess.Popen([e.WIRELAT, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def interrupted(p, sig, rc, want, what):
    """Send sig to p; it must exit within 5 s with rc and, if want,
    exactly one error line containing it. @return stderr."""
    t0 = time.monotonic()
    p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        e.check(False, f"{what}: still running 5 s after the signal")
        return err
    dt = time.monotonic() - t0
    lines = e.error_lines(err)
    e.check(p.returncode == rc, f"{what}: exit {p.returncode}, want {rc} "
            f"(stderr {err!r})")
    if want is not None:
        e.check(len(lines) == 1 and want in lines[0],
                f"{what}: {lines!r}, want one line with {want!r}")
    else:
        e.check(not lines, f"{what}: error lines {lines!r}")
    e.check(dt < 5, f"{what}: took {dt:.1f} s to exit")
    e.check("Sanitizer" not in err and "runtime error" not in err,
            f"{what}: sanitizer report")
    return err


def writer_opened(fifo, timeout=10):
    """Open the FIFO for writing once wirelat has opened it to read."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            time.sleep(0.02)
    raise SystemExit("wirelat never opened the FIFO")


def signals(d):
    inst = e.instance("stream-sig")
    args = ["--instance", inst, "--no-report"]
    # Nobody ever opens the FIFO: Ctrl-C (or a kill) ends the wait.
    for sig, name in ((signal.SIGINT, "SIGINT"), (signal.SIGTERM,
                                                  "SIGTERM")):
        fifo = os.path.join(d, f"nowriter-{name}.fifo")
        os.mkfifo(fifo)
        p = start(["--pcap", fifo, *args])
        time.sleep(0.5)
        interrupted(p, sig, 1, f"{fifo}: interrupted while waiting for "
                    "a writer", f"{name} before any writer")

    # A writer that sends nothing: the wait is for the file header.
    fifo = os.path.join(d, "silent.fifo")
    os.mkfifo(fifo)
    p = start(["--pcap", fifo, *args])
    fd = writer_opened(fifo)
    time.sleep(0.3)
    interrupted(p, signal.SIGINT, 1, f"{fifo}: interrupted while waiting "
                "for the file header", "SIGINT before the header")
    os.close(fd)

    # Half the capture, then the writer stays silent: the RX lcore
    # polls, never sleeps in read(), so Ctrl-C stops the run as usual
    # and what was read is analysed.
    fifo = os.path.join(d, "half.fifo")
    os.mkfifo(fifo)
    st = os.path.join(d, "half.json")
    data = open(SAMPLE, "rb").read()
    p = start(["--pcap", fifo, "--stats-json", st, *args])
    fd = writer_opened(fifo)
    os.set_blocking(fd, True)
    os.write(fd, data[:len(data) // 2])
    time.sleep(1.5)
    interrupted(p, signal.SIGINT, 0, None, "SIGINT while a stream idles")
    os.close(fd)
    if os.path.exists(st):
        n = json.load(open(st))["counters"]["packets"]
        e.check(0 < n, f"stream stopped mid-capture: {n} packets read")
    else:
        e.check(False, "stream stopped mid-capture: no --stats-json")
    e.remove_instance(inst)


def refusals(d):
    inst = e.instance("stream-bad")
    args = ["--instance", inst, "--no-report"]

    def one(what, rc, want, **kw):
        p = e.wirelat(["--pcap", "-", *args], **kw)
        lines = e.error_lines(p.stderr)
        e.check(p.returncode == rc and len(lines) == 1 and
                want in lines[0], f"{what}: exit {p.returncode}, "
                f"{lines!r}, want {rc} and one line with {want!r}")
        e.check("Sanitizer" not in p.stderr, f"{what}: sanitizer report")

    # A terminal: nothing a capture could come from.
    master, slave = pty.openpty()
    one("terminal", 1, "stdin: a terminal, not a capture", stdin=slave)
    os.close(master)
    os.close(slave)
    one("/dev/null", 1, "stdin: empty file", stdin=subprocess.DEVNULL)
    one("empty pipe", 1, "stdin: empty file", input="")
    p = e.wirelat(["--pcap", "-", "--pcap", "-", *args],
                  stdin=subprocess.DEVNULL)
    lines = e.error_lines(p.stderr)
    e.check(p.returncode == 2 and len(lines) == 1 and
            "standard input can be read only once" in lines[0],
            f"--pcap - twice: {p.returncode} {lines!r}")

    # Cut inside a record: the file's message, offset included.
    data = open(SAMPLE, "rb").read()
    cut = os.path.join(d, "cut.pcap")
    with open(cut, "wb") as f:
        f.write(data[:len(data) // 3])
    pf = e.wirelat(["--pcap", cut, *args])
    ps = e.wirelat(["--pcap", "-", *args], input=data[:len(data) // 3]
                   .decode("latin-1"), encoding="latin-1")
    lf, ls = e.error_lines(pf.stderr), e.error_lines(ps.stderr)
    e.check(pf.returncode == 1 and ps.returncode == 1 and len(ls) == 1 and
            len(lf) == 1 and "truncated packet record" in ls[0] and
            ls[0].replace("stdin:", cut + ":") == lf[0],
            f"cut stream: {ps.returncode} {ls!r}, file {lf!r}")
    e.remove_instance(inst)


def main():
    d = e.tmpdir()
    base = run_file(d, "file")
    same(base, run_pipe(d, "pipe"), "cat | --pcap -")
    same(base, run_shared_pipe(d, "pipe-shared"), "shared pipe")
    same(base, run_fifo(d, "fifo"), "FIFO in chunks")
    with open(SAMPLE, "rb") as f:
        inst, log, st, args = outputs(d, "stdin-file")
        p = e.wirelat(["--pcap", "-", *args], stdin=f)
    same(base, results(p, inst, log, st, "stdin-file"), "--pcap - < file")

    # Pipeline with the smallest rings: full rings wait (offline), so
    # the stream still equals the file, and nothing was dropped.
    cfg = os.path.join(d, "small.json")
    with open(cfg, "w") as f:
        json.dump({"rx": {"parser_ring": 64},
                   "collector": {"txn_ring": 64}}, f)
    cpu = min(os.sched_getaffinity(0))
    small = ["--config", cfg, "--mode", "pipeline", "--lcores",
             f"0@{cpu},1@{cpu},2@{cpu}"]
    fbase = run_file(d, "file-small", small)
    fifo = run_fifo(d, "fifo-small", small)
    same(fbase, fifo, "FIFO through small pipeline rings")
    if fifo is not None:
        c = fifo[3]
        # Three lcores on one CPU: the rings did fill, and waited.
        e.check(c["backpressure"] > 0 and c["parser_ring_full"] == 0 and
                c["txn_ring_full"] == 0, f"stream through full rings: "
                f"waited {c['backpressure']}, dropped "
                f"{c['parser_ring_full']} + {c['txn_ring_full']}")

    signals(d)
    refusals(d)
    e.finish()


if __name__ == "__main__":
    main()
