#!/usr/bin/env python3
"""ping.py ADDR [TIMEOUT]: ICMP echo to ADDR (IPv4) until one reply comes.

Exit 0 on a reply within TIMEOUT seconds (default 2), 3 without one, so
that a test expecting no reply can tell it from an error (Python's 1, or 2
for usage).  The cluster tests use it because the image has no ping(8).
Needs root (raw socket).
"""
import os
import select
import socket
import struct
import sys
import time


def checksum(data):
    """Internet checksum of data (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def echo_request(ident, seq):
    """An ICMP echo request with the given identifier and sequence."""
    payload = b"electrode-c ping"
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    csum = checksum(hdr + payload)
    return struct.pack("!BBHHH", 8, 0, csum, ident, seq) + payload


def is_reply(packet, addr, ident):
    """Whether an IPv4 packet read from the raw socket answers our echo."""
    ihl = (packet[0] & 0x0F) * 4
    if len(packet) < ihl + 8 or socket.inet_ntoa(packet[12:16]) != addr:
        return False
    icmp_type, _, _, rid, _ = struct.unpack("!BBHHH", packet[ihl:ihl + 8])
    return icmp_type == 0 and rid == ident


NO_REPLY = 3


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    addr = sys.argv[1]
    deadline = time.monotonic() + (float(sys.argv[2]) if len(sys.argv) == 3 else 2.0)
    ident = os.getpid() & 0xFFFF
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    seq = 0
    while time.monotonic() < deadline:
        seq += 1
        sock.sendto(echo_request(ident, seq), (addr, 0))
        resend = min(deadline, time.monotonic() + 0.1)
        while True:
            left = resend - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([sock], [], [], left)
            if ready and is_reply(sock.recv(2048), addr, ident):
                return 0
    return NO_REPLY


if __name__ == "__main__":
    sys.exit(main())
