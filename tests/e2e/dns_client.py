#!/usr/bin/env python3
"""dns_client.py - guest-side DNS load for vgate's e2e tests (stdlib only).

  dns_client.py SERVER burst N NAME      N queries one after another
  dns_client.py SERVER concurrent N NAME N queries sent at once, each from
                                          its own socket, then all awaited
  dns_client.py SERVER rate QPS SECS NAME QPS queries per second for SECS

Type A. Prints one line "answered=K rcode0=K max_ms=X first_ms=Y
rest_max_ms=Z" and exits 0 when every query got an answer with its own ID.
"""
import os
import select
import socket
import struct
import sys
import time


def build(qid, name):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for lab in name.strip(".").split("."):
        q += bytes([len(lab)]) + lab.encode()
    return q + b"\0" + struct.pack("!HH", 1, 1)


def one(sock, server, qid, name, timeout=5.0):
    t0 = time.monotonic()
    sock.sendto(build(qid, name), (server, 53))
    while True:
        left = timeout - (time.monotonic() - t0)
        if left <= 0:
            return None, None
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return None, None
        data = sock.recv(65535)
        if len(data) >= 4 and struct.unpack("!H", data[:2])[0] == qid:
            return (time.monotonic() - t0) * 1000.0, data[3] & 0xF


def main():
    server, mode = sys.argv[1], sys.argv[2]
    lat, rcodes = [], []
    if mode == "burst" or mode == "rate":
        if mode == "burst":
            n, name, interval = int(sys.argv[3]), sys.argv[4], 0.0
        else:
            qps, secs, name = float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
            n, interval = int(qps * secs), 1.0 / qps
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        start = time.monotonic()
        for i in range(n):
            if interval:
                delay = start + i * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            ms, rc = one(sock, server, (i * 7919 + 1) & 0xFFFF, name)
            lat.append(ms)
            rcodes.append(rc)
    elif mode == "concurrent":
        n, name = int(sys.argv[3]), sys.argv[4]
        socks = []
        t0 = time.monotonic()
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            s.sendto(build(i + 1, name), (server, 53))
            socks.append(s)
        lat = [None] * n
        rcodes = [None] * n
        pending = {s.fileno(): i for i, s in enumerate(socks)}
        while pending and time.monotonic() - t0 < 10:
            r, _, _ = select.select([socks[i] for i in pending.values()], [], [], 0.5)
            for s in r:
                i = pending[s.fileno()]
                data = s.recv(65535)
                if struct.unpack("!H", data[:2])[0] == i + 1:
                    lat[i] = (time.monotonic() - t0) * 1000.0
                    rcodes[i] = data[3] & 0xF
                    del pending[s.fileno()]
    else:
        sys.exit("unknown mode " + mode)
    answered = [x for x in lat if x is not None]
    rest = [x for x in lat[1:] if x is not None]
    print("answered=%d rcode0=%d max_ms=%.1f first_ms=%.1f rest_max_ms=%.1f" % (
        len(answered), sum(1 for r in rcodes if r == 0),
        max(answered) if answered else -1, lat[0] if lat and lat[0] is not None else -1,
        max(rest) if rest else -1))
    sys.exit(0 if len(answered) == len(lat) else 1)


if __name__ == "__main__":
    main()
