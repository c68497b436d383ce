# SPDX-License-Identifier: BSD-3-Clause
"""HTTP, Redis, MySQL and PostgreSQL transactions against Zeek's logs for
every Zeek test capture of ../shared/corpus that has them (skipped, with a
message, where the folder is absent). Compared on Zeek's terms: every
request Zeek saw is a transaction with the same method and status code
(HTTP), every command Zeek saw answered is an answered transaction of the
same command (Redis). Deliberate differences are listed here and in
docs/conformance.md; any other difference fails."""

import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wl_e2e as e  # noqa: E402

CORPUS = e.CORPUS

CRAFTED_CL = "crafted Content-Length (leading zeros, negative, 2^64): refused"
MIDSTREAM = ("picked up mid-stream and cut before the close: an answer may be to a "
             "command sent before the capture, so none is paired (unpaired); "
             "Zeek pairs first in, first out")
KNOWN = {
    "scripts.base.protocols.http.261.cl-leading-zeros": CRAFTED_CL,
    "scripts.base.protocols.http.261.cl-negative": CRAFTED_CL,
    "scripts.base.protocols.http.261.cl-uint64max": CRAFTED_CL,
    "scripts.base.protocols.redis.django-cloud": MIDSTREAM,
    "scripts.base.protocols.redis.pubsub": MIDSTREAM,
    "scripts.base.protocols.redis.stream": MIDSTREAM,
    "scripts.base.protocols.http.http-11-request-then-cruft":
        "cruft the client sends is answered 400: wirelat logs that answer "
        "alone (no_request), Zeek logs nothing for it",
    "scripts.base.protocols.http.http-09":
        "HTTP/0.9 requests (no version) are not HTTP/1.x",
    "scripts.base.protocols.http.http-09-content-length-confusion":
        "HTTP/0.9 requests (no version) are not HTTP/1.x",
    "scripts.base.protocols.http.no-version":
        "HTTP/0.9 requests (no version) are not HTTP/1.x",
    "scripts.base.protocols.http.no-uri": "a request line without target",
    "scripts.base.protocols.http.http-methods":
        "connections opened by unknown methods are not detected as HTTP",
    "scripts.base.protocols.http.invalid-content-ranges":
        "Zeek logs no request for these responses",
    "scripts.base.protocols.mysql.caching_sha2_password-after-auth-switch":
        "COM_STATISTICS: Zeek leaves it unanswered, wirelat pairs its reply",
    "scripts.base.protocols.redis.attributes":
        "an unknown inline command (FAKE) is not detected as Redis",
}


def http_cmp(want, got):
    # Zeek logs a response without a request with method "-"; wirelat
    # logs it alone too, flagged no_request, with an empty method.
    w = collections.Counter(
        (x.get("method", "-"), x.get("status_code", "-")) for x in want)
    g = collections.Counter(
        ("-" if "no_request" in t["flags"] else t["method"],
         str(t["status_code"]) if t["status_code"] else "-")
        for t in got if t["proto"] == "http")
    return w, g


def redis_cmp(want, got):
    # Zeek logs commands that get no reply (CLIENT REPLY OFF/SKIP) and
    # replies it could not pair ("-"): compare what was answered.
    # wirelat times a (P|S)(UN)SUBSCRIBE to its first confirmation;
    # Zeek logs those commands unanswered.
    sub = ("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
           "PUNSUBSCRIBE", "SUNSUBSCRIBE")
    answered = [x for x in want if x.get("reply.value", "-") != "-" or
                x.get("success", "-") != "-" or
                x["cmd.name"].upper() in sub]
    w = collections.Counter(x["cmd.name"].upper() for x in answered)
    # A reply wirelat logged alone (no_request) is Zeek's "-".
    g = collections.Counter("-" if "no_request" in t["flags"] else
                            t["method"].split()[0] for t in got
                            if t["proto"] == "redis" and t["rsp_end_ns"])
    if w.get("-", 0) and w["-"] != g.get("-", 0):
        # Replies Zeek could not pair: wirelat must have paired them.
        unk = w.pop("-") - g.pop("-", 0)
        if sum(g.values()) == sum(w.values()) + unk:
            for k in list(g):
                g[k] = min(g[k], w.get(k, 0))
    return w, g


MYSQL_CMDS = {"connect": "login", "PING": "ping", "INIT_DB": "init_db",
              "CHANGE_USER": "change_user", "FIELD_LIST": "field_list",
              "STATISTICS": "statistics", "PREPARE": "prepare",
              "RESET_CONNECTION": "reset_connection"}


def mysql_cmp(want, got):
    # Zeek logs COM_QUIT and commands it could not pair with success "-":
    # compare what both say was answered, by Zeek's command names.
    w = collections.Counter((x["cmd"], x["success"]) for x in want
                            if x.get("success", "-") != "-")
    g = collections.Counter(
        ("execute" if t.get("prepared") else
         MYSQL_CMDS.get(t["method"], "query"),
         "T" if t["status"] == "OK" else "F")
        for t in got if t["proto"] == "mysql" and t["rsp_end_ns"])
    return w, g


def postgresql_cmp(want, got):
    # Zeek logs the SSLRequest as its own record (its answer "N" is
    # success F); wirelat makes it part of the startup transaction.
    w = collections.Counter((x["frontend"], x["success"]) for x in want
                            if x["frontend"] != "ssl_request")
    g = collections.Counter(
        ("startup" if t["method"] == "startup" else
         "extended_query" if t.get("extended") else "simple_query",
         "T" if t["status"] == "OK" else "F")
        for t in got if t["proto"] == "postgresql" and t["rsp_end_ns"])
    return w, g


CMPS = {"http": http_cmp, "redis": redis_cmp, "mysql": mysql_cmp,
        "postgresql": postgresql_cmp}


def main():
    e.need_corpus("Zeek conformance")
    path = os.path.join(CORPUS, "zeek-expected.json")
    tests = json.load(open(path))["tests"]
    d = e.tmpdir()
    inst = e.instance("zeekl7")
    same, known, compared = 0, [], 0
    for name, t in sorted(tests.items()):
        logs = t.get("logs", {})
        kind = next((k for k in CMPS if f"{k}.log" in logs), None)
        if kind is None or len(t.get("traces", [])) != 1:
            continue
        if f"/{kind}/" not in t["traces"][0]:
            continue
        cap = os.path.join(CORPUS, "zeek", t["traces"][0])
        if not os.path.exists(cap):
            continue
        log = os.path.join(d, "t.log")
        p = e.wirelat(["--pcap", cap, "--instance", inst, "--log", log,
                       "--no-report"])
        e.check(p.returncode in (0, 1) and "Sanitizer" not in p.stderr,
                f"{name}: exit {p.returncode} {p.stderr[-300:]}")
        got = e.jsonl(log) if os.path.exists(log) else []
        want = logs[f"{kind}.log"]
        w, g = CMPS[kind](want, got)
        compared += 1
        if w == g:
            same += 1
            e.check(name not in KNOWN, f"{name}: listed as differing but "
                    "agrees now: update KNOWN and docs/conformance.md")
        elif name in KNOWN:
            known.append(name)
        else:
            e.check(False, f"{name}: wirelat {dict(g)} Zeek {dict(w)}")
    print(f"Zeek HTTP/Redis/MySQL/PostgreSQL tests compared: {compared}, identical: {same}, "
          f"known differences: {len(known)}")
    e.check(compared >= 50, f"only {compared} Zeek tests found")
    e.remove_instance(inst)
    e.finish()


if __name__ == "__main__":
    main()
