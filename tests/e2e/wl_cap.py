# SPDX-License-Identifier: BSD-3-Clause
"""Captures built packet by packet, every time, ID, window and sequence
number chosen by the test (nanosecond pcap, Ethernet, IPv4)."""

import struct

import wl_e2e as e

BASE = 1_700_000_000 * 10**9
US = 1000
SYN, RST, PSH, ACK, FIN = 0x02, 0x04, 0x08, 0x10, 0x01


class Cap:
    def __init__(self):
        self.recs = []

    def tcp(self, t_us, src, dst, sp, dp, flags, seq, ack, data=b"",
            win=64000, ipid=0, sack=None):
        opts = b""
        if sack is not None:
            opts = b"\x01\x01\x05\x0a" + struct.pack("!II", *sack)
        thl = 20 + len(opts)
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, (thl // 4) << 4,
                          flags, win, 0, 0) + opts + data
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", e.csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ipid,
                         0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", e.csum(ip)) + ip[12:]
        frame = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp
        self.recs.append((BASE + t_us * US, frame))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535,
                                1))
            for ts, fr in self.recs:
                f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9,
                                    len(fr), len(fr)) + fr)


def ip4(s):
    return bytes(int(x) for x in s.split("."))
