# SPDX-License-Identifier: BSD-3-Clause
"""Redis against a real redis-server on 127.0.0.1, captured during the
test: redis-benchmark with -P 1, -P 16, -P 64, -P 512 and 20 kB values.
Every command the server executed (its own INFO commandstats) is exactly one transaction of
the same command, no reply comes before its request, and pipelined
commands each get their own reply timestamps. A pub/sub session and a
replica syncing from the master produce no false transactions."""

import collections
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402
import wl_servers as srv  # noqa: E402

N = 2000


def commandstats(r):
    out = {}
    for line in r.cli("INFO", "commandstats").splitlines():
        if line.startswith("cmdstat_"):
            name, _, rest = line[8:].partition(":")
            calls = int(rest.split(",")[0].split("=")[1])
            out[name.replace("|", " ").upper()] = calls
    return out


def capture(d, attempt):
    """Runs the workload on a fresh master (and replica) under a capture:
    @return (capture, tcpdump drops, the master's INFO commandstats)."""
    cap = os.path.join(d, f"redis-{attempt}.pcap")
    master = srv.Redis(d, f"master-{attempt}")
    replica = None
    try:
        master.cli("CONFIG", "RESETSTAT")
        td = srv.Tcpdump(cap, "lo", f"tcp port {master.port}")
        try:
            for extra in (["-P", "1"], ["-P", "16"], ["-P", "64"],
                          ["-P", "512"], ["-d", "20000", "-n", "200"]):
                args = ["redis-benchmark", "-p", str(master.port), "-q",
                        "-c", "2", "-n", str(N), "-t", "set,get,lpush"]
                subprocess.run(args + extra, check=True, timeout=300,
                               capture_output=True)
            # Pub/sub: one subscriber, messages published to it.
            sub = subprocess.Popen(
                ["redis-cli", "-p", str(master.port), "SUBSCRIBE", "ch1",
                 "ch2"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            # Publish once it has subscribed (PUBSUB NUMSUB is one more
            # command the server counts, like any other).
            for _ in range(300):
                if master.cli("PUBSUB", "NUMSUB", "ch2").split()[-1:] == \
                        ["1"]:
                    break
                time.sleep(0.1)
            for i in range(5):
                master.cli("PUBLISH", "ch1", f"m{i}")
            time.sleep(0.3)
            sub.terminate()
            sub.wait(10)
            # A replica: handshake, PSYNC, RDB, then the command stream.
            replica = srv.Redis(d, f"replica-{attempt}",
                                ["--replicaof", "127.0.0.1",
                                 str(master.port)])
            for _ in range(100):
                if "master_link_status:up" in replica.cli("INFO",
                                                          "replication"):
                    break
                time.sleep(0.1)
            for i in range(10):
                master.cli("SET", f"rk{i}", "v")
            time.sleep(1.2)     # a REPLCONF ACK or two from the replica
        finally:
            drops = td.stop()
        stats = commandstats(master)
    finally:
        if replica is not None:
            replica.stop()
        master.stop()
    return cap, drops, stats


def main():
    srv.need("redis-benchmark", "tcpdump", "tshark")
    if os.geteuid() != 0:
        e.skip("capturing on loopback needs root")
    d = e.tmpdir()
    # A damaged capture is redone with a fresh master and replica, so the
    # server's counts are always those of the capture compared.
    cap, _, stats = srv.capture_retry(lambda a: capture(d, a))

    inst = e.instance("redis")
    log = os.path.join(d, "redis.log")
    st = os.path.join(d, "redis.stats")
    e.wirelat(["--pcap", cap, "--instance", inst, "--log", log,
               "--stats-json", st, "--no-report"], check_rc=0)
    txns = [t for t in e.jsonl(log) if t.get("proto") == "redis"]
    got = collections.Counter(t["method"] for t in txns
                              if "no_response" not in t["flags"])
    # The server counted what it executed; the replica link's commands
    # after PSYNC (REPLCONF ACK) are replication, not transactions.
    for cmd, calls in sorted(stats.items()):
        want = calls
        if cmd in ("REPLCONF", "INFO", "CONFIG RESETSTAT"):
            continue            # acks after PSYNC; before the capture
        e.check(got.get(cmd, 0) == want,
                f"{cmd}: {got.get(cmd, 0)} transactions, server ran {want}")
    for cmd in got:
        e.check(cmd in stats, f"{cmd}: transactions the server never ran")
    for t in txns:
        if t["rsp_end_ns"]:
            e.check(t["req_start_ns"] <= t["rsp_start_ns"] and
                    t["req_end_ns"] <= t["rsp_end_ns"],
                    f"reply before its request: {t}")
    big = [t for t in txns if t["method"] == "GET" and
           t["rsp_bytes"] >= 20000]
    e.check(len(big) >= 200, f"{len(big)} GETs of 20 kB values")
    # -P 64: sixty-four commands in one packet, each its own transaction
    # (the replies, also written together, share their packet's time);
    # -P 512: whole, however many packets a batch takes.
    by_req = collections.Counter((t["client_port"], t["req_start_ns"])
                                 for t in txns)
    e.check(max(by_req.values()) >= 64,
            f"deepest pipeline seen: {max(by_req.values())} commands")
    bad = collections.Counter(f for t in txns for f in t["flags"])
    bad.pop("no_response", None)        # SUBSCRIBE's end, the replica's
    e.check(not bad, f"flags on a clean capture: {dict(bad)}")
    # Pub/sub: SUBSCRIBE paired once, messages counted, not paired.
    e.check(got["SUBSCRIBE"] == 1 and got["PUBLISH"] == 5,
            f"pub/sub: {got['SUBSCRIBE']} SUBSCRIBE, {got['PUBLISH']} PUBLISH")
    c = json.load(open(st))["counters"]
    e.check(c["redis_pending_overflow"] == 0 and c["redis_unpaired"] == 0,
            f"pending_overflow {c['redis_pending_overflow']}, "
            f"unpaired {c['redis_unpaired']}")
    e.check(c["redis_messages"] >= 6, f"redis_messages {c['redis_messages']}")
    e.check(c["redis_stopped"] == 1, "the replication link stops parsing")
    # The replica's link: handshake commands, one PSYNC, nothing after.
    psync = [t for t in txns if t["method"] == "PSYNC"]
    e.check(len(psync) == 1, f"{len(psync)} PSYNC")
    if psync:
        link = [t for t in txns if t["client_port"] ==
                psync[0]["client_port"]]
        e.check(all(t["method"] in ("PING", "REPLCONF", "PSYNC", "AUTH")
                    for t in link), f"replication link: "
                f"{[t['method'] for t in link]}")
        e.check(max(t["req_start_ns"] for t in link) ==
                psync[0]["req_start_ns"], "transactions after PSYNC")
    e.check(c["redis_parse_errors"] == 0, "parse errors")
    e.check(c["flow_gaps"] == 0, f"a whole capture, {c['flow_gaps']} gaps")
    e.remove_instance(inst)
    e.finish()


if __name__ == "__main__":
    main()
