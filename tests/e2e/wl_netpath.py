# SPDX-License-Identifier: BSD-3-Clause
"""A network path between two namespaces the test creates, with delay and
loss. Where the kernel has `tc netem`, a veth pair joins them and netem
delays (and drops) on both ends. Where it has not (this project's CI VM:
CONFIG_NET_SCH_NETEM is not set), each namespace gets a TUN device and
this process carries packets between them after `delay` seconds,
dropping a fraction of the TCP packets that carry data. Either way the
two TCP stacks see a real path with real delay and loss, and react with
real retransmissions."""

import fcntl
import heapq
import os
import random
import select
import struct
import subprocess
import threading
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def _sh(*args):
    subprocess.run(args, check=True, capture_output=True)


def _tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(),
                                           IFF_TUN | IFF_NO_PI))
    return fd


def _tcp_data(pkt):
    """Does this IPv4 packet carry TCP payload?"""
    if len(pkt) < 40 or pkt[0] >> 4 != 4 or pkt[9] != 6:
        return False
    ihl = (pkt[0] & 0xF) * 4
    tot = struct.unpack("!H", pkt[2:4])[0]
    doff = (pkt[ihl + 12] >> 4) * 4
    return tot - ihl - doff > 0


class NetPath:
    """Namespaces `<tag>a` (10.99.0.1) and `<tag>b` (10.99.0.2)."""

    def __init__(self, tag, delay, loss=0.0, seed=1):
        self.ns = (f"{tag}a", f"{tag}b")
        self.addr = ("10.99.0.1", "10.99.0.2")
        self.dev = (f"{tag}t0", f"{tag}t1")
        self.delay, self.loss = delay, loss
        self.rng = random.Random(seed)
        self.dropped = 0
        self.write_errors = 0
        self.stop_ = False
        self.fd = []
        self.t = None
        for ns in self.ns:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            _sh("ip", "netns", "add", ns)
        self.kind = "netem" if self._veth_netem() else "tun"
        if self.kind == "tun":
            self._tun_path()
        else:
            self.dropped = None     # netem does not say

    def _veth_netem(self):
        """veth + netem on both ends, if this kernel has netem."""
        a, b = self.dev
        try:
            _sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            for i in range(2):
                ns, dev = self.ns[i], self.dev[i]
                _sh("ip", "link", "set", dev, "netns", ns)
                _sh("ip", "-n", ns, "addr", "add", self.addr[i] + "/24",
                    "dev", dev)
                _sh("ip", "-n", ns, "link", "set", dev, "up")
                _sh("ip", "-n", ns, "link", "set", "lo", "up")
                args = ["ip", "netns", "exec", ns, "tc", "qdisc", "add",
                        "dev", dev, "root", "netem", "delay",
                        f"{self.delay * 1000:g}ms", "limit", "100000"]
                if self.loss:
                    args += ["loss", f"{self.loss * 100:g}%"]
                _sh(*args)
            return True
        except (subprocess.CalledProcessError, FileNotFoundError):
            for i in range(2):
                subprocess.run(["ip", "-n", self.ns[i], "link", "del",
                                self.dev[i]], capture_output=True)
            subprocess.run(["ip", "link", "del", a], capture_output=True)
            return False

    def _tun_path(self):
        self.fd = [_tun(d) for d in self.dev]
        for fd in self.fd:
            os.set_blocking(fd, False)
        for i in range(2):
            ns, dev = self.ns[i], self.dev[i]
            _sh("ip", "link", "set", dev, "netns", ns)
            _sh("ip", "-n", ns, "addr", "add", self.addr[i], "peer",
                self.addr[1 - i], "dev", dev)
            # A long queue: the carrier thread may fall behind under load.
            _sh("ip", "-n", ns, "link", "set", dev, "txqueuelen", "10000")
            _sh("ip", "-n", ns, "link", "set", dev, "up")
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        due = []            # (time, seq, out fd, packet)
        seq = 0
        while not self.stop_:
            wait = 0.05 if not due else max(0.0, due[0][0] -
                                             time.monotonic())
            r, _, _ = select.select(self.fd, [], [], wait)
            now = time.monotonic()
            for fd in r:
                out = self.fd[1] if fd == self.fd[0] else self.fd[0]
                while True:
                    try:
                        pkt = os.read(fd, 65536)
                    except BlockingIOError:
                        break
                    if self.loss and _tcp_data(pkt) and \
                            self.rng.random() < self.loss:
                        self.dropped += 1
                        continue
                    heapq.heappush(due, (now + self.delay, seq, out, pkt))
                    seq += 1
            now = time.monotonic()
            while due and due[0][0] <= now:
                _, _, out, pkt = heapq.heappop(due)
                try:
                    os.write(out, pkt)
                except OSError:
                    self.write_errors += 1

    def run(self, side, args, **kw):
        """A command inside namespace 0 (a) or 1 (b)."""
        return subprocess.run(["ip", "netns", "exec", self.ns[side], *args],
                              **kw)

    def popen(self, side, args, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.ns[side],
                                 *args], **kw)

    def kernel_drops(self):
        """Packets the TUN devices' queues dropped (the carrier lagged)."""
        n = 0
        if self.kind != "tun":
            return 0
        for ns, dev in zip(self.ns, self.dev):
            r = subprocess.run(["ip", "netns", "exec", ns, "cat",
                                f"/sys/class/net/{dev}/statistics/tx_dropped",
                                f"/sys/class/net/{dev}/statistics/rx_dropped"],
                               capture_output=True, text=True)
            n += sum(int(x) for x in r.stdout.split())
        return n

    def unplanned_loss(self):
        """Losses the test did not ask for."""
        return self.write_errors + self.kernel_drops()

    def close(self):
        self.stop_ = True
        if self.t is not None:
            self.t.join(5)
        for fd in self.fd:
            os.close(fd)
        for ns in self.ns:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
