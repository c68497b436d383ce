#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate deterministic synthetic TCP captures plus ground truth for wirelat.

Scenarios:
  sample      realistic ~300 connections over ~10 s, 4 servers (one IPv6)
  handshake   handshake-focused flows with refused/unanswered/no_ack cases
  tcp-impair  established flows with recorded retransmit/reorder/loss/overlap
  bench       large, fast, IPv4/Ethernet only throughput capture

Writers: classic pcap (us), pcap with ns magic, pcapng (if_tsresol=9).
All times are integer nanoseconds; in --format pcap every timestamp is
rounded to the microsecond so the expect JSON stays exact.

Standard library only, so it runs anywhere the tests run.
"""

import argparse
import hashlib
import ipaddress
import json
import math
import random
import struct
import sys

BASE_NS = 1_700_000_000 * 1_000_000_000
MSS = 1448

LINKTYPES = {"ether": 1, "sll": 113, "sll2": 276, "null": 0, "loop": 108,
             "raw": 101}
FORMATS = ("pcap", "pcap-ns", "pcapng")
SCENARIOS = ("sample", "handshake", "tcp-impair", "bench", "l7")
DEFAULT_FLOWS = {"l7": 1, "sample": 300, "handshake": 50, "tcp-impair": 20,
                 "bench": 10000}

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# MSS 1460, NOP NOP SACK-permitted, NOP window-scale 7: 12 bytes.
SYN_OPTS = bytes([2, 4, 0x05, 0xB4, 1, 1, 4, 2, 1, 3, 3, 7])

AF_INET, AF_INET6_BSD = 2, 24

FILLER = (b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
          b"eiusmod tempor incididunt ut labore et dolore magna aliqua. ")


# --------------------------------------------------------------------------
# checksums and payloads

def csum_sum(data):
    """One's complement 16-bit word sum (unfolded)."""
    if len(data) & 1:
        data += b"\0"
    return sum(struct.unpack("!%dH" % (len(data) // 2), data))


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def checksum(data):
    return ~fold(csum_sum(data)) & 0xFFFF


def filler(n):
    reps = n // len(FILLER) + 1
    return (FILLER * reps)[:n]


def http_request(n, idx, host):
    """An HTTP request of exactly n bytes when n is big enough."""
    head = b"GET /item/%d HTTP/1.1\r\nHost: %s\r\n" % (idx, host.encode())
    minimal = len(head) + len(b"\r\n")
    pad_hdr = b"X-Pad: \r\n"
    if n < minimal + len(pad_hdr):
        return head + b"\r\n"
    pad = n - minimal - len(pad_hdr)
    return head + b"X-Pad: " + b"a" * pad + b"\r\n\r\n"


def http_response(n):
    """An HTTP response of exactly n bytes when n is big enough."""
    body = max(0, n - 40)
    for _ in range(4):  # Content-Length digits feed back into the size
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % body
        body = max(0, n - len(head))
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % body
    return head + filler(body)


def redis_request(n, idx):
    """A RESP SET of about n bytes (a GET when n is small)."""
    key = b"key:%d" % idx
    if n < 60 or idx % 2:
        return b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key)
    val = b"v" * max(1, n - 40)
    return (b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" %
            (len(key), key, len(val), val))


def redis_response(n, req):
    """+OK for a SET, a bulk of about n bytes for a GET."""
    if req.startswith(b"*3"):
        return b"+OK\r\n"
    return b"$%d\r\n%s\r\n" % (n, filler(n))


def memcached_request(n, idx):
    """A text get, or a set of about n bytes."""
    key = b"key:%d" % idx
    if n < 60 or idx % 2:
        return b"get %s\r\n" % key
    val = filler(max(1, n - 30))
    return b"set %s 0 0 %d\r\n%s\r\n" % (key, len(val), val)


def memcached_response(n, req):
    """STORED for a set, a hit of about n bytes for a get."""
    if req.startswith(b"set"):
        return b"STORED\r\n"
    key = req.split()[1]
    return b"VALUE %s 0 %d\r\n%s\r\nEND\r\n" % (key, n, filler(n))


def pg_msg(t, body):
    return t + struct.pack("!I", len(body) + 4) + body


def pg_request(n, idx):
    """A simple-protocol Query: a point SELECT or an UPDATE."""
    if idx % 2:
        q = b"SELECT abalance FROM pgbench_accounts WHERE aid = %d" % idx
    else:
        q = (b"UPDATE pgbench_accounts SET abalance = abalance + %d "
             b"WHERE aid = %d" % (n, idx))
    return pg_msg(b"Q", q + b"\0")


def pg_response(n, req):
    """Rows of about n bytes in all for a SELECT, then CommandComplete
    and ReadyForQuery."""
    if b"UPDATE" in req:
        return pg_msg(b"C", b"UPDATE 1\0") + pg_msg(b"Z", b"I")
    col = b"abalance\0" + struct.pack("!IhIhih", 0, 0, 23, 4, -1, 0)
    rows = max(1, n // 40)
    row = pg_msg(b"D", struct.pack("!hI", 1, 24) + filler(24))
    return (pg_msg(b"T", struct.pack("!h", 1) + col) + row * rows +
            pg_msg(b"C", b"SELECT %d\0" % rows) + pg_msg(b"Z", b"I"))


def my_pkt(seq, body):
    return struct.pack("<I", len(body))[:3] + bytes([seq & 0xFF]) + body


def my_lenenc(b):
    return bytes([len(b)]) + b


def mysql_request(n, idx):
    """A COM_QUERY: a point SELECT or an UPDATE."""
    if idx % 2:
        q = b"SELECT c FROM sbtest1 WHERE id = %d" % idx
    else:
        q = b"UPDATE sbtest1 SET k = k + 1 WHERE id = %d" % idx
    return my_pkt(0, b"\x03" + q)


def mysql_response(n, req):
    """OK for an UPDATE; for a SELECT a one-column text result set of
    about n bytes with EOF packets (no CLIENT_DEPRECATE_EOF)."""
    if b"UPDATE" in req:
        return my_pkt(1, b"\x00\x01\x00\x02\x00\x00\x00")
    coldef = (b"".join(my_lenenc(x) for x in (b"def", b"sbtest", b"sbtest1",
                                               b"sbtest1", b"c", b"c")) +
              b"\x0c\x21\x00" + struct.pack("<I", 120) + b"\xfe\x00\x00"
              b"\x00\x00\x00")
    eof = b"\xfe\x00\x00\x02\x00"
    out = my_pkt(1, b"\x01") + my_pkt(2, coldef) + my_pkt(3, eof)
    rows = max(1, n // 40)
    for r in range(rows):
        out += my_pkt(4 + r, my_lenenc(filler(30)))
    return out + my_pkt(4 + rows, eof)


def dns_name(name):
    return b"".join(bytes([len(x)]) + x for x in name.split(b".")) + b"\0"


def dns_query(qid, name, qtype):
    return (struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1) + dns_name(name) +
            struct.pack("!HH", qtype, 1) +
            b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0))


def dns_answer(query, nanswers):
    """The answer to query: nanswers A records, RCODE NXDOMAIN for none."""
    qend = query.index(b"\0", 12) + 5
    flags = 0x8180 if nanswers else 0x8183
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4)
    return (struct.pack("!HHHHHH", struct.unpack("!H", query[:2])[0], flags, 1,
                        nanswers, 0, 1) + query[12:qend] +
            b"".join(rr + bytes([192, 0, 2, k + 1]) for k in range(nanswers)) +
            b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0))


# --------------------------------------------------------------------------
# capture writers

class CaptureWriter:
    """Streams records in pcap, pcap-ns or pcapng format."""

    def __init__(self, f, fmt, linktype, snaplen):
        self.f = f
        self.fmt = fmt
        self.snaplen = snaplen
        if fmt == "pcap":
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen,
                                linktype))
        elif fmt == "pcap-ns":
            f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, snaplen,
                                linktype))
        else:
            # SHB: no options, unknown section length.
            f.write(struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0,
                                -1, 28))
            # IDB: if_tsresol = 9 (10^-9 s), then opt_endofopt.
            opts = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
            blen = 20 + len(opts)
            f.write(struct.pack("<IIHHI", 1, blen, linktype, 0, snaplen)
                    + opts + struct.pack("<I", blen))

    def record(self, ts, frame):
        wire = len(frame)
        cap = min(wire, self.snaplen)
        if cap < wire:
            frame = frame[:cap]
        if self.fmt == "pcap":
            assert ts % 1000 == 0, "pcap timestamps must be whole us"
            hdr = struct.pack("<IIII", ts // 1_000_000_000,
                              (ts % 1_000_000_000) // 1000, cap, wire)
            self.f.write(hdr + frame)
        elif self.fmt == "pcap-ns":
            hdr = struct.pack("<IIII", ts // 1_000_000_000,
                              ts % 1_000_000_000, cap, wire)
            self.f.write(hdr + frame)
        else:
            pad = -cap & 3
            blen = 32 + cap + pad
            self.f.write(struct.pack("<IIIIIII", 6, blen, 0, ts >> 32,
                                     ts & 0xFFFFFFFF, cap, wire)
                         + frame + b"\0" * pad + struct.pack("<I", blen))


# --------------------------------------------------------------------------
# link layer

class Net:
    """Shared generation state: rng, MAC table, packet list, link config."""

    def __init__(self, rng, seed, link, quantum):
        self.rng = rng
        self.seed = seed
        self.link = link
        self.quantum = quantum
        self.macs = {}
        self.pkts = []  # (ts, frame, ip_len), later stably sorted by ts

    def q(self, ts):
        """Round to the capture's timestamp resolution."""
        qn = self.quantum
        if qn == 1:
            return int(ts)
        return (int(ts) + qn // 2) // qn * qn

    def mac(self, ip):
        m = self.macs.get(ip)
        if m is None:
            # Locally administered unicast, derived from seed and address
            # only, so the main rng (and thus all timing) is link-agnostic.
            h = hashlib.sha256(b"%d:%s" % (self.seed, ip.encode())).digest()
            m = b"\x02" + h[:5]
            self.macs[ip] = m
        return m

    def l2(self, src, dst, v6, to_server, vlan):
        """Link header for one direction; capture host is the server side."""
        link = self.link
        proto = 0x86DD if v6 else 0x0800
        if link == "ether":
            if vlan is not None:
                return (self.mac(dst) + self.mac(src)
                        + struct.pack("!HHH", 0x8100, vlan & 0x0FFF, proto))
            return self.mac(dst) + self.mac(src) + struct.pack("!H", proto)
        if link == "sll":
            pkttype = 0 if to_server else 4
            return struct.pack("!HHH8sH", pkttype, 1, 6, self.mac(src),
                               proto)
        if link == "sll2":
            pkttype = 0 if to_server else 4
            return struct.pack("!HHIHBB8s", proto, 0, 1, 1, pkttype, 6,
                               self.mac(src))
        af = AF_INET6_BSD if v6 else AF_INET
        if link == "null":
            return struct.pack("<I", af)
        if link == "loop":
            return struct.pack(">I", af)
        return b""  # raw


# --------------------------------------------------------------------------
# TCP connection model

def ip_key(ip, port):
    return "[%s]:%d" % (ip, port) if ":" in ip else "%s:%d" % (ip, port)


def union_len(intervals):
    total = 0
    end = None
    for a, b in sorted(intervals):
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


class Conn:
    """One TCP connection: builds frames and keeps its ground truth."""

    def __init__(self, net, client, cport, server, sport, vlan=None):
        self.net = net
        rng = net.rng
        self.client, self.cport = client, cport
        self.server, self.sport = server, sport
        ca, sa = ipaddress.ip_address(client), ipaddress.ip_address(server)
        self.v6 = ca.version == 6
        self.addr = {True: (ca.packed, sa.packed),
                     False: (sa.packed, ca.packed)}
        self.ports = {True: (cport, sport), False: (sport, cport)}
        self.hdr = {True: net.l2(client, server, self.v6, True, vlan),
                    False: net.l2(server, client, self.v6, False, vlan)}
        self.ipid = {True: rng.getrandbits(16), False: rng.getrandbits(16)}
        self.isn = {True: rng.getrandbits(32), False: rng.getrandbits(32)}
        self.nxt = {True: self.isn[True], False: self.isn[False]}
        self.flowlabel = rng.getrandbits(20)
        self.payload_iv = {True: [], False: []}
        self.rec = {
            "client_ip": str(ca), "client_port": cport,
            "server_ip": str(sa), "server_port": sport,
            "vlan": vlan if net.link == "ether" else None,
            "status": None, "syn_ns": None, "synack_ns": None, "ack_ns": None,
            "rst_ns": None,
            "server_rtt_ns": None, "client_rtt_ns": None, "syn_retrans": 0,
            "c2s_packets": 0, "s2c_packets": 0, "c2s_bytes": 0,
            "s2c_bytes": 0, "c2s_payload": 0, "s2c_payload": 0,
            "impairment": None, "lost_bytes": 0, "retrans_segments": 0,
            "ooo_segments": 0,
        }

    def frame(self, c2s, flags, seq, ack, payload=b"", opts=b"", win=None):
        """Build link+IP+TCP frame; returns (frame, ip_len)."""
        if win is None:
            win = 64240 if flags & SYN else 502
        src, dst = self.addr[c2s]
        sport, dport = self.ports[c2s]
        thl = 20 + len(opts)
        tcp = bytearray(struct.pack("!HHIIBBHHH", sport, dport,
                                    seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                                    (thl // 4) << 4, flags, win, 0, 0)
                        + opts + payload)
        if self.v6:
            pseudo = src + dst + struct.pack("!IxxxB", len(tcp), 6)
        else:
            pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        struct.pack_into("!H", tcp, 16, checksum(pseudo + bytes(tcp)))
        if self.v6:
            ip = struct.pack("!IHBB16s16s", 0x60000000 | self.flowlabel,
                             len(tcp), 6, 64, src, dst)
        else:
            self.ipid[c2s] = (self.ipid[c2s] + 1) & 0xFFFF
            ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0,
                                       20 + len(tcp), self.ipid[c2s], 0x4000,
                                       64, 6, 0, src, dst))
            struct.pack_into("!H", ip, 10, checksum(bytes(ip)))
        iplen = len(ip) + len(tcp)
        return self.hdr[c2s] + bytes(ip) + bytes(tcp), iplen

    def put(self, ts, c2s, frame, iplen, payload_off=None, payload_len=0):
        """Append a built frame at ts and account for it."""
        ts = self.net.q(ts)
        self.net.pkts.append((ts, frame, iplen))
        d = "c2s" if c2s else "s2c"
        self.rec[d + "_packets"] += 1
        self.rec[d + "_bytes"] += iplen
        if payload_len:
            self.payload_iv[c2s].append((payload_off,
                                         payload_off + payload_len))
        return ts

    def send(self, ts, c2s, flags, payload=b"", opts=b"", seq=None):
        """Build and emit a segment from the current sequence state."""
        if seq is None:
            seq = self.nxt[c2s]
        ack = self.nxt[not c2s] if flags & ACK else 0
        fr, iplen = self.frame(c2s, flags, seq, ack, payload, opts)
        off = (seq - self.isn[c2s] - 1) & 0xFFFFFFFF
        ts = self.put(ts, c2s, fr, iplen, off, len(payload))
        end = (seq + len(payload) + (1 if flags & (SYN | FIN) else 0))
        if ((end - self.nxt[c2s]) & 0xFFFFFFFF) < 0x80000000:
            self.nxt[c2s] = end & 0xFFFFFFFF
        return ts, fr, iplen

    def finish(self):
        r = self.rec
        r["c2s_payload"] = union_len(self.payload_iv[True])
        r["s2c_payload"] = union_len(self.payload_iv[False])
        if r["synack_ns"] is not None:
            r["server_rtt_ns"] = r["synack_ns"] - r["syn_ns"]
        if r["ack_ns"] is not None:
            r["client_rtt_ns"] = r["ack_ns"] - r["synack_ns"]
        return r


def tcp_connection(net, client, cport, server, sport, start, srtt, crtt,
                   exchanges, status="established", impair=None, vlan=None,
                   host="example.test", proto="http"):
    """Emit one connection's packets into net.pkts and return its record.

    exchanges: list of (req_bytes, resp_bytes, think_ns, gap_ns); gap is the
    client's idle time before sending the next request / FIN.
    impair: None or one of retrans/ooo/lost/overlap, applied to the first
    response with at least 4 segments.
    """
    rng = net.rng
    c = Conn(net, client, cport, server, sport, vlan)
    r = c.rec
    r["status"] = status
    t, _, _ = c.send(start, True, SYN, opts=SYN_OPTS)
    r["syn_ns"] = t
    if status == "unanswered":
        for delay in (1_000_000_000, 3_000_000_000):
            c.put(start + delay, True, *c.frame(True, SYN, c.isn[True], 0,
                                                opts=SYN_OPTS))
            r["syn_retrans"] += 1
        return c.finish()
    if status == "refused":
        fr, iplen = c.frame(False, RST | ACK, 0, c.nxt[True])
        r["rst_ns"] = c.put(t + srtt, False, fr, iplen)
        return c.finish()
    t, _, _ = c.send(t + srtt, False, SYN | ACK, opts=SYN_OPTS)
    r["synack_ns"] = t
    if status == "no_ack":
        return c.finish()
    t, _, _ = c.send(t + crtt, True, ACK)
    r["ack_ns"] = t

    impair_done = impair is None
    tnext = t + rng.randint(5_000, 50_000)
    for n, (req, resp, think, gap) in enumerate(exchanges):
        # Request segments, back to back a few us apart.
        if proto == "redis":
            data = redis_request(req, rng.randrange(1, 100000))
        else:
            data = http_request(req, rng.randrange(1, 100000), host)
        req_data = data
        for off in range(0, len(data), MSS):
            chunk = data[off:off + MSS]
            t, _, _ = c.send(tnext, True, ACK | PSH if off + MSS >= len(data)
                             else ACK, chunk)
            tnext = t + rng.randint(1_000, 4_000)
        t, _, _ = c.send(t + srtt, False, ACK)
        tresp = t + think
        data = (redis_response(resp, req_data) if proto == "redis"
                else http_response(resp))
        segs = [(o, min(MSS, len(data) - o)) for o in range(0, len(data), MSS)]
        kind = None
        if not impair_done and len(segs) >= 4:
            kind = impair
            impair_done = True
            r["impairment"] = kind
        k = rng.randrange(1, len(segs) - 2) if kind else -1
        if kind == "overlap":
            # Resegment after k: the next segment restarts inside segment k.
            ov = min(segs[k][1] // 2, 400)
            o = segs[k][0] + segs[k][1] - ov
            segs = segs[:k + 1]
            while o < len(data):
                segs.append((o, min(MSS, len(data) - o)))
                o += segs[-1][1]
            r["retrans_segments"] += 1
        times = []
        tt = tresp
        for _ in segs:
            times.append(tt)
            tt += rng.randint(2_000, 6_000)
        if kind == "ooo":
            times[k], times[k + 1] = times[k + 1], times[k]
            r["ooo_segments"] += 1
        base = c.nxt[False]
        last_t = tresp
        dup = None
        for i, (o, ln) in enumerate(segs):
            if kind == "lost" and i == k:
                r["lost_bytes"] += ln
                continue
            flags = ACK | PSH if o + ln >= len(data) else ACK
            ts, fr, iplen = c.send(times[i], False, flags, data[o:o + ln],
                                   seq=(base + o) & 0xFFFFFFFF)
            if kind == "retrans" and i == k:
                dup = (flags, o, ln)
            last_t = max(last_t, ts)
        # A lost segment must not leave nxt short: the sender did send it.
        c.nxt[False] = (base + len(data)) & 0xFFFFFFFF
        if dup is not None:
            # Later than one full RTT, so analyzers call it a retransmission
            # rather than reordering, and later than a capture's copy of
            # the same frame could be (flow.dedup_window_us); sent again,
            # it has a new IP ID. The client ACK follows it.
            last_t += srtt + crtt + rng.randint(1_200_000, 3_000_000)
            last_t, _, _ = c.send(last_t, False, dup[0],
                                  data[dup[1]:dup[1] + dup[2]],
                                  seq=(base + dup[1]) & 0xFFFFFFFF)
            r["retrans_segments"] += 1
        t, _, _ = c.send(last_t + crtt, True, ACK)
        tnext = t + gap
    # Client closes.
    t, _, _ = c.send(tnext, True, FIN | ACK)
    t, _, _ = c.send(t + srtt, False, FIN | ACK)
    c.send(t + crtt, True, ACK)
    return c.finish()


# --------------------------------------------------------------------------
# scenarios

def pick_statuses(rng, n, refused, unanswered, no_ack):
    counts = [("refused", round(n * refused)),
              ("unanswered", round(n * unanswered)),
              ("no_ack", round(n * no_ack))]
    st = []
    for name, cnt in counts:
        st += [name] * cnt
    st = st[:n]
    st += ["established"] * (n - len(st))
    rng.shuffle(st)
    return st


def scen_handshake(net, args):
    rng = net.rng
    servers = [("10.0.0.1", 80), ("10.0.0.2", 5432), ("10.0.0.3", 8080),
               ("fd00::1", 443)]
    n = args.flows
    statuses = pick_statuses(rng, n, 0.10, 0.05, 0.05)
    conns = []
    for i in range(n):
        sip, sport = servers[i % len(servers)]
        if ":" in sip:
            cip = "fd00::1:%x" % (i % 16 + 1)
        else:
            cip = "10.1.%d.%d" % (i // 200, i % 200 + 1)
        start = BASE_NS + rng.randrange(0, 1_000_000_000)
        srtt = rng.randint(50_000, 5_000_000)
        crtt = rng.randint(10_000, 2_000_000)
        ex = [(rng.randint(60, 300), rng.randint(100, 1400),
               rng.randint(10_000, 500_000), rng.randint(10_000, 200_000))]
        conns.append(tcp_connection(net, cip, 30000 + i, sip, sport, start,
                                    srtt, crtt, ex, statuses[i]))
    return servers, conns


def lognorm(rng, median, sigma, lo, hi):
    return int(min(hi, max(lo, rng.lognormvariate(math.log(median), sigma))))


def scen_sample(net, args):
    rng = net.rng
    # (ip, port, median server RTT ns)
    servers = [("10.0.0.1", 80, 80_000), ("10.0.0.2", 5432, 400_000),
               ("fd00::1", 443, 2_000_000), ("10.0.0.3", 8888, 15_000_000),
               ("10.0.0.4", 6379, 120_000)]
    n = args.flows
    starts = sorted(rng.randrange(0, 10_000_000_000) for _ in range(n))
    statuses = pick_statuses(rng, n, 0.08, 0.04, 0.04)
    conns = []
    port = {}
    for i in range(n):
        sip, sport, med = servers[rng.randrange(len(servers))]
        if ":" in sip:
            cip = "fd00::1:%x" % rng.randint(1, 10)
        else:
            cip = "10.1.0.%d" % rng.randint(1, 40)
        port[cip] = port.get(cip, 30000 + rng.randrange(0, 1000)) + 1
        srtt = lognorm(rng, med, 0.35, 10_000, 200_000_000)
        crtt = lognorm(rng, 300_000, 0.6, 10_000, 20_000_000)
        ex = []
        for _ in range(rng.randint(1, 3)):
            req = (rng.randint(2000, 4000) if rng.random() < 0.05
                   else rng.randint(80, 400))
            resp = lognorm(rng, 350, 0.9, 60, 8000)
            think = lognorm(rng, 100_000, 1.0, 5_000, 20_000_000)
            gap = rng.randint(50_000, 5_000_000)
            ex.append((req, resp, think, gap))
        vlan = 100 if rng.random() < 0.2 else None
        conns.append(tcp_connection(net, cip, port[cip], sip, sport,
                                    BASE_NS + starts[i], srtt, crtt, ex,
                                    statuses[i], vlan=vlan,
                                    host="svc%d.example.test" % sport,
                                    proto="redis" if sport == 6379
                                    else "http"))
    return [(s[0], s[1]) for s in servers], conns


def scen_impair(net, args):
    rng = net.rng
    servers = [("10.0.0.1", 80), ("fd00::1", 443)]
    kinds = ["retrans", "ooo", "lost", "overlap", None]
    conns = []
    for i in range(args.flows):
        sip, sport = servers[i % 2]
        cip = ("fd00::1:%x" % (i + 1)) if ":" in sip else "10.1.0.%d" % (i + 1)
        start = BASE_NS + i * 50_000_000 + rng.randrange(0, 10_000_000)
        srtt = rng.randint(100_000, 3_000_000)
        crtt = rng.randint(20_000, 1_000_000)
        ex = [(rng.randint(80, 300), rng.randint(6000, 15000),
               rng.randint(20_000, 300_000), rng.randint(50_000, 500_000))
              for _ in range(rng.randint(1, 2))]
        conns.append(tcp_connection(net, cip, 30000 + i, sip, sport, start,
                                    srtt, crtt, ex,
                                    impair=kinds[i % len(kinds)]))
    return servers, conns


# --------------------------------------------------------------------------
# l7: scripted HTTP and Redis conversations with exact transaction times

def l7_conn(net, client, cport, server, sport, start, script):
    """Handshake, then script: a list of (c2s, ts, payload) data segments,
    then a FIN exchange. Returns the connection record."""
    c = Conn(net, client, cport, server, sport)
    r = c.rec
    r["status"] = "established"
    t, _, _ = c.send(start, True, SYN, opts=SYN_OPTS)
    r["syn_ns"] = t
    t, _, _ = c.send(t + 50_000, False, SYN | ACK, opts=SYN_OPTS)
    r["synack_ns"] = t
    t, _, _ = c.send(t + 20_000, True, ACK)
    r["ack_ns"] = t
    for c2s, ts, payload in script:
        c.send(ts, c2s, ACK | PSH, payload)
        t = max(t, ts)
    t, _, _ = c.send(t + 1_000_000, True, FIN | ACK)
    t, _, _ = c.send(t + 50_000, False, FIN | ACK)
    c.send(t + 20_000, True, ACK)
    return c.finish()


def cut(data, sizes):
    """data cut into pieces of the given sizes (the rest last)."""
    out, o = [], 0
    for n in sizes:
        out.append(data[o:o + n])
        o += n
    if o < len(data):
        out.append(data[o:])
    return out


def resp(*args):
    """A RESP array of bulk strings."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def scen_l7(net, args):
    """Pipelining, messages over many segments, several per segment, and
    100-continue, on standard and non-standard ports: every transaction's
    four timestamps are known to the ns (expect["transactions"])."""
    rng = net.rng
    q = net.q
    conns, txns = [], []

    def txn(proto, cport, method, resource, status, a, b, c_, d):
        txns.append({"proto": proto, "client_port": cport, "method": method,
                     "resource": resource, "status": status,
                     "req_start_ns": q(a), "req_end_ns": q(b),
                     "rsp_start_ns": q(c_), "rsp_end_ns": q(d)})

    def jitter():
        return rng.randint(1_000, 900_000)

    t0 = BASE_NS + 1_000_000
    for rep in range(args.flows):
        base = t0 + rep * 1_000_000_000
        # 1. HTTP, port 9090 (content detection): three pipelined GETs in
        # one segment; the first response over three segments, the other
        # two together in one.
        t = base + 200_000
        reqs = b"".join(b"GET /p%d?x=%d HTTP/1.1\r\nHost: h\r\n\r\n" % (i, i)
                        for i in range(3))
        body = bytes(range(256)) * 12
        r1 = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        r2 = b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!"
        r3 = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"
        ts = [t]
        for _ in range(4):
            ts.append(ts[-1] + jitter())
        p1 = cut(r1, [700, 1400])
        script = [(True, ts[0], reqs), (False, ts[1], p1[0]),
                  (False, ts[2], p1[1]), (False, ts[3], p1[2]),
                  (False, ts[4], r2 + r3)]
        cp = 40000 + rep * 10
        conns.append(l7_conn(net, "10.2.0.1", cp, "10.0.0.9", 9090,
                             base, script))
        txn("http", cp, "GET", "/p0", "200", ts[0], ts[0], ts[1], ts[3])
        txn("http", cp, "GET", "/p1", "404", ts[0], ts[0], ts[4], ts[4])
        txn("http", cp, "GET", "/p2", "200", ts[0], ts[0], ts[4], ts[4])

        # 2. HTTP 100-continue with a body over three segments; the final
        # response in two segments.
        t = base + 300_000_000
        hdr = b"PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3000\r\n\r\n"
        body = b"u" * 3000
        fin = b"HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\n0123456789"
        ts = [t]
        for _ in range(6):
            ts.append(ts[-1] + jitter())
        script = [(True, ts[0], hdr),
                  (False, ts[1], b"HTTP/1.1 100 Continue\r\n\r\n"),
                  (True, ts[2], body[:1000]), (True, ts[3], body[1000:2000]),
                  (True, ts[4], body[2000:]),
                  (False, ts[5], fin[:20]), (False, ts[6], fin[20:])]
        cp = 40001 + rep * 10
        conns.append(l7_conn(net, "10.2.0.2", cp, "10.0.0.9", 80,
                             t - 100_000, script))
        txn("http", cp, "PUT", "/up", "201", ts[0], ts[4], ts[5], ts[6])

        # 3. Redis on port 7000 (content detection): four commands in one
        # segment; a 13 kB reply over ten segments, then the rest.
        t = base + 600_000_000
        cmds = (resp("SET", "k1", "v") + resp("GET", "big") +
                resp("LRANGE", "l", "0", "-1") + resp("INCR", "n"))
        big = b"$13000\r\n" + b"b" * 13000 + b"\r\n"
        parts = cut(big, [1300] * 9)
        ts = [t, t + jitter()]
        for _ in range(len(parts) + 1):
            ts.append(ts[-1] + jitter())
        script = [(True, ts[0], cmds), (False, ts[1], b"+OK\r\n")]
        for i, pt in enumerate(parts):
            script.append((False, ts[2 + i], pt))
        tail = ts[2 + len(parts)]
        script.append((False, tail, b"*2\r\n$1\r\na\r\n$1\r\nb\r\n:7\r\n"))
        cp = 40002 + rep * 10
        conns.append(l7_conn(net, "10.2.0.3", cp, "10.0.0.10", 7000,
                             t - 100_000, script))
        txn("redis", cp, "SET", "k1", "OK", ts[0], ts[0], ts[1], ts[1])
        txn("redis", cp, "GET", "big", "OK", ts[0], ts[0], ts[2],
            ts[1 + len(parts)])
        txn("redis", cp, "LRANGE", "l", "OK", ts[0], ts[0], tail, tail)
        txn("redis", cp, "INCR", "n", "OK", ts[0], ts[0], tail, tail)

        # 4. Redis: a command over two segments, an error reply.
        t = base + 800_000_000
        cmd = resp("HSET", "h", "f", "v" * 2000)
        ts = [t]
        for _ in range(2):
            ts.append(ts[-1] + jitter())
        script = [(True, ts[0], cmd[:1000]), (True, ts[1], cmd[1000:]),
                  (False, ts[2], b"-WRONGTYPE Operation against a key\r\n")]
        cp = 40003 + rep * 10
        conns.append(l7_conn(net, "10.2.0.4", cp, "10.0.0.10", 6379,
                             t - 100_000, script))
        txn("redis", cp, "HSET", "h", "WRONGTYPE", ts[0], ts[1], ts[2], ts[2])
    servers = [("10.0.0.9", 9090), ("10.0.0.9", 80), ("10.0.0.10", 7000),
               ("10.0.0.10", 6379)]
    return servers, conns, txns


def run_model(args, out):
    """Generate a modelled scenario; returns the expect dict."""
    rng = random.Random(args.seed)
    quantum = 1000 if args.format == "pcap" else 1
    net = Net(rng, args.seed, args.link, quantum)
    fn = {"handshake": scen_handshake, "sample": scen_sample,
          "tcp-impair": scen_impair, "l7": scen_l7}[args.scenario]
    res = fn(net, args)
    servers, conns = res[0], res[1]
    txns = res[2] if len(res) > 2 else None
    net.pkts.sort(key=lambda p: p[0])  # stable: ties keep emission order
    w = CaptureWriter(out, args.format, LINKTYPES[args.link], args.snaplen)
    nbytes = ipbytes = 0
    for ts, frame, iplen in net.pkts:
        w.record(ts, frame)
        nbytes += len(frame)
        ipbytes += iplen
    summary = {}
    for sip, sport in servers:
        summary[ip_key(sip, sport)] = {"established": 0, "refused": 0,
                                       "unanswered": 0, "no_ack": 0}
    for c in conns:
        summary[ip_key(c["server_ip"], c["server_port"])][c["status"]] += 1
    out_exp = {"packets": len(net.pkts), "bytes": nbytes, "ip_bytes": ipbytes,
               "connections_count": len(conns), "connections": conns,
               "servers": summary}
    if txns is not None:
        out_exp["transactions"] = txns
    return out_exp


# --------------------------------------------------------------------------
# bench: fast path with precomputed headers and partial checksums

# --l7 payloads of the bench with a server port: (port, request, response)
L7_PAYLOADS = {
    "memcached": (11211, memcached_request, memcached_response),
    "postgresql": (5432, pg_request, pg_response),
    "mysql": (3306, mysql_request, mysql_response),
}


def run_bench_dns(args, out):
    """DNS over UDP: each client port sends 1-4 queries, each answered
    in the next packet, then a new port (as stub resolvers do)."""
    rng = random.Random(args.seed)
    names = [b"host%d.bench.test" % i for i in range(64)]
    qtypes = (1, 28, 1, 1)
    servers = [bytes([10, 0, 0, k + 1]) for k in range(4)]
    cmac, smac = b"\x02\xaa\xbb\xcc\xdd\xee", b"\x02\x00\x00\x00\x00\x01"
    nclients = min(args.flows, 4000)
    cports = [20000] * nclients
    slots = []

    def new_slot(j):
        ci = j % nclients
        cports[ci] = cports[ci] + 1 if cports[ci] < 65535 else 20001
        return [bytes([10, 1, ci // 250, ci % 250 + 1]),
                servers[rng.randrange(4)], cports[ci],
                2 * rng.randint(1, 4), 0, None]

    slots = [new_slot(j) for j in range(args.flows)]
    w = CaptureWriter(out, args.format, 1, args.snaplen)
    nbytes = ipbytes = 0
    for i in range(args.packets):
        j = int(rng.random() * len(slots))
        s = slots[j]
        if s[4] % 2 == 0:
            s[5] = dns_query(rng.getrandbits(16), names[rng.randrange(64)],
                             qtypes[rng.randrange(4)])
            payload, src, dst, sp, dp = s[5], s[0], s[1], s[2], 53
            macs = smac + cmac
        else:
            payload = dns_answer(s[5], rng.randint(0, 3))
            src, dst, sp, dp = s[1], s[0], 53, s[2]
            macs = cmac + smac
        udp = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF,
                          0x4000, 64, 17, 0, src, dst)
        iph = iph[:10] + struct.pack("!H", checksum(iph)) + iph[12:]
        frame = macs + b"\x08\x00" + iph + udp
        w.record(BASE_NS + i * 1000, frame)
        nbytes += len(frame)
        ipbytes += len(frame) - 14
        s[4] += 1
        if s[4] == s[3]:
            slots[j] = new_slot(j)
    return {"packets": args.packets, "bytes": nbytes, "ip_bytes": ipbytes}


def run_bench(args, out):
    """IPv4/Ethernet bulk generator.

    TCP and IP checksums are correct: each is a precomputed partial sum
    (addresses, ports, constant header words, payload) plus the per-packet
    words (length, IP ID, seq, ack), folded once per packet.
    """
    rng = random.Random(args.seed)
    nflows, budget, snaplen = args.flows, args.packets, args.snaplen
    fmt = args.format
    servers = [("10.0.0.1", 80), ("10.0.0.2", 5432), ("10.0.0.3", 8080),
               ("10.0.0.4", 8888)]
    smac = [bytes([0x02, 0, 0, 0, 0, i + 1]) for i in range(len(servers))]
    cmac = b"\x02\xaa\xbb\xcc\xdd\xee"

    # Packet kinds: (c2s, offflags, win, tail, tail_sum, tcp_len, adv, ack?)
    def kind(c2s, flags, tail=b"", opts=b""):
        thl = 20 + len(opts)
        offfl = ((thl // 4) << 12) | flags
        win = (64240 if c2s else 65160) if flags & SYN else 502
        body = opts + tail
        tcplen = thl + len(tail)
        # Pseudo-header length word + offset/flags + window + options/data.
        ksum = tcplen + offfl + win + csum_sum(body)
        adv = len(tail) + (1 if flags & (SYN | FIN) else 0)
        return (c2s, offfl, win, body, ksum, tcplen, adv, bool(flags & ACK))

    # --l7 picks the payloads; --pipeline N puts N requests in one packet
    # and their N responses in the next (sizes kept under one MTU).
    pl = args.pipeline
    if args.l7 in L7_PAYLOADS:
        port, mkreq, mkrsp = L7_PAYLOADS[args.l7]
        servers = [("10.0.0.%d" % (k + 1), port) for k in range(4)]
        one = [mkreq(rng.randint(20, 1100 // pl), i) for i in range(8 * pl)]
        reqs = [b"".join(one[i * pl:(i + 1) * pl]) for i in range(8)]
        resps = [b"".join(mkrsp(rng.randint(10, 1000 // pl), q)
                          for q in one[i * pl:(i + 1) * pl])
                 for i in range(8)]
    elif args.l7 == "redis":
        servers = [("10.0.0.1", 6379), ("10.0.0.2", 7000),
                   ("10.0.0.3", 6380), ("10.0.0.4", 6390)]
        one = [redis_request(rng.randint(20, 1100 // pl), i)
               for i in range(8 * pl)]
        reqs = [b"".join(one[i * pl:(i + 1) * pl]) for i in range(8)]
        resps = [b"".join(redis_response(rng.randint(10, 1000 // pl), q)
                          for q in one[i * pl:(i + 1) * pl])
                 for i in range(8)]
    else:
        reqs = [b"".join(http_request(rng.randint(60, 1200 // pl),
                                      i * pl + k, "bench.test")
                         for k in range(pl)) for i in range(8)]
        resps = [b"".join(http_response(rng.randint(100, 1200 // pl))
                          for _ in range(pl)) for _ in range(8)]
    K_SYN, K_SYNACK, K_ACK, K_REQ, K_RESP, K_FIN, K_FINACK = range(7)
    common = [kind(True, SYN, opts=SYN_OPTS),
              kind(False, SYN | ACK, opts=SYN_OPTS),
              kind(True, ACK), None, None,
              kind(True, FIN | ACK), kind(False, FIN | ACK)]
    kindsets = []
    for rq in reqs:
        for rs in resps:
            ks = list(common)
            ks[K_REQ] = kind(True, PSH | ACK, rq)
            ks[K_RESP] = kind(False, PSH | ACK, rs)
            kindsets.append(ks)
    progs = {}

    def prog(k):
        p = progs.get(k)
        if p is None:
            p = ((K_SYN, K_SYNACK, K_ACK) + (K_REQ, K_RESP, K_ACK) * k
                 + (K_FIN, K_FINACK, K_ACK))
            progs[k] = p
        return p

    nclients = min(nflows, 4000)
    cports = [30000] * nclients
    ipconst = 0x4500 + 0x4000 + 0x4006

    # Slot: [prog, idx, kinds, cseq, sseq, cid, sid, eth(c2s, s2c),
    #        addrs(c2s, s2c), ports(c2s, s2c), ipsum, psum, server]
    def new_conn(j):
        ci = j % nclients
        cports[ci] = cports[ci] + 1 if cports[ci] < 65535 else 30001
        si = rng.randrange(len(servers))
        sip, sport = servers[si]
        ca = bytes([10, 1, ci // 250, ci % 250 + 1])
        sa = ipaddress.IPv4Address(sip).packed
        cp = cports[ci]
        asum = csum_sum(ca + sa)
        return [prog(rng.randint(2, 30)), 0,
                kindsets[rng.randrange(len(kindsets))],
                rng.getrandbits(32), rng.getrandbits(32),
                rng.getrandbits(16), rng.getrandbits(16),
                (smac[si] + cmac + b"\x08\x00\x45\x00",
                 cmac + smac[si] + b"\x08\x00\x45\x00"),
                (ca + sa, sa + ca),
                (struct.pack("!HH", cp, sport), struct.pack("!HH", sport, cp)),
                ipconst + asum, asum + 6 + cp + sport, si]

    slots = [new_conn(j) for j in range(nflows)]
    syns = [0] * len(servers)
    estab = [0] * len(servers)
    H = struct.Struct("!16sHH4sH8s4sIIHHH2x")
    pcap_rec = struct.Struct("<IIII")
    epb = struct.Struct("<IIIIIII")
    tail_len = struct.Struct("<I")
    flag_df_ttl_tcp = b"\x40\x00\x40\x06"
    base_s = BASE_NS // 1_000_000_000
    ng = fmt == "pcapng"
    us = fmt == "pcap"
    rnd = rng.random
    chunk = []
    nbytes = ipbytes = 0
    CaptureWriter(out, fmt, 1, snaplen)  # only writes the file header
    for i in range(budget):
        j = int(rnd() * nflows)
        s = slots[j]
        p = s[0]
        idx = s[1]
        kt = p[idx]
        c2s, offfl, win, body, ksum, tcplen, adv, hasack = s[2][kt]
        if c2s:
            seq = s[3]
            ack = s[4] if hasack else 0
            s[3] = (seq + adv) & 0xFFFFFFFF
            ipid = s[5] = (s[5] + 1) & 0xFFFF
            d = 0
        else:
            seq = s[4]
            ack = s[3]
            s[4] = (seq + adv) & 0xFFFFFFFF
            ipid = s[6] = (s[6] + 1) & 0xFFFF
            d = 1
        iplen = 20 + tcplen
        x = s[10] + iplen + ipid
        x = (x & 0xFFFF) + (x >> 16)
        x = (x & 0xFFFF) + (x >> 16)
        y = (s[11] + ksum + (seq >> 16) + (seq & 0xFFFF)
             + (ack >> 16) + (ack & 0xFFFF))
        y = (y & 0xFFFF) + (y >> 16)
        y = (y & 0xFFFF) + (y >> 16)
        frame = H.pack(s[7][d], iplen, ipid, flag_df_ttl_tcp, ~x & 0xFFFF,
                       s[8][d], s[9][d], seq, ack, offfl, win,
                       ~y & 0xFFFF) + body
        wire = 14 + iplen
        nbytes += wire
        ipbytes += iplen
        cap = wire
        if wire > snaplen:
            cap = snaplen
            frame = frame[:cap]
        # Timestamps are exactly 1 us apart, so pcap (us) is exact too.
        if ng:
            ts = BASE_NS + i * 1000
            pad = -cap & 3
            blen = 32 + cap + pad
            chunk.append(epb.pack(6, blen, 0, ts >> 32, ts & 0xFFFFFFFF,
                                  cap, wire))
            chunk.append(frame + b"\0" * pad + tail_len.pack(blen))
        else:
            frac = i % 1_000_000
            chunk.append(pcap_rec.pack(base_s + i // 1_000_000,
                                       frac if us else frac * 1000, cap, wire))
            chunk.append(frame)
        if kt == K_SYN:
            syns[s[12]] += 1
        elif idx == 2:
            estab[s[12]] += 1
        idx += 1
        if idx == len(p):
            slots[j] = new_conn(j)
        else:
            s[1] = idx
        if len(chunk) >= 131072:
            out.write(b"".join(chunk))
            chunk.clear()
    out.write(b"".join(chunk))
    summary = {ip_key(sip, sport): {"syn": syns[k], "established": estab[k]}
               for k, (sip, sport) in enumerate(servers)}
    return {"packets": budget, "bytes": nbytes, "ip_bytes": ipbytes,
            "connections_count": sum(syns), "servers": summary}


# --------------------------------------------------------------------------
# CLI

class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write("%s: error: %s\n" % (self.prog, message))
        sys.exit(2)


def positive(s):
    try:
        v = int(s, 0)
    except ValueError:
        raise argparse.ArgumentTypeError("invalid integer: %r" % s)
    if v < 1:
        raise argparse.ArgumentTypeError("must be >= 1: %r" % s)
    return v


def parse_args(argv):
    ap = OneLineParser(prog="wlgen.py",
                       description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", required=True, choices=SCENARIOS)
    ap.add_argument("-o", "--output", required=True, metavar="OUT")
    ap.add_argument("--format", default="pcap-ns", choices=FORMATS)
    ap.add_argument("--link", default="ether", choices=sorted(LINKTYPES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--flows", type=positive, default=None)
    ap.add_argument("--packets", type=positive, default=1_000_000)
    ap.add_argument("--snaplen", type=positive, default=65535)
    ap.add_argument("--expect", metavar="FILE.json")
    ap.add_argument("--l7", default="http",
                    choices=("http", "redis", "dns") + tuple(L7_PAYLOADS),
                    help="bench payloads")
    ap.add_argument("--pipeline", type=positive, default=1,
                    help="bench: requests per packet")
    args = ap.parse_args(argv)
    if args.flows is None:
        args.flows = DEFAULT_FLOWS[args.scenario]
    if args.snaplen > 262144:
        ap.error("--snaplen must be <= 262144")
    if args.scenario == "bench" and args.link != "ether":
        ap.error("--scenario bench supports only --link ether")
    return args


def dump_expect(exp):
    """JSON with one connection per line: compact yet diff-friendly."""
    conns = exp.pop("connections", None)
    lines = ['  "%s": %s' % (k, json.dumps(v, sort_keys=True))
             for k, v in exp.items()]
    if conns is not None:
        body = ",\n".join("    " + json.dumps(c) for c in conns)
        lines.append('  "connections": [\n%s\n  ]' % body)
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with open(args.output, "wb") as out:
        if args.scenario == "bench" and args.l7 == "dns":
            res = run_bench_dns(args, out)
        elif args.scenario == "bench":
            res = run_bench(args, out)
        else:
            res = run_model(args, out)
    if args.expect:
        exp = {"scenario": args.scenario, "format": args.format,
               "link": args.link, "linktype": LINKTYPES[args.link],
               "seed": args.seed, "snaplen": args.snaplen}
        exp.update(res)
        with open(args.expect, "w") as f:
            f.write(dump_expect(exp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
