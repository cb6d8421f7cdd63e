#!/usr/bin/env python3
"""soak_guest.py - the guest side of bench/soak.sh: load generators that run
inside the guest namespace against the host alias (stdlib only). Every loop
ends at a deadline (END, a time.time() value) or after a fixed count.

  soak_guest.py flows HOST PORT THREADS END OUT
      THREADS clients, each downloading /sN (N bytes, from SIZES) over a new
      TCP connection again and again, 20 ms apart; OUT gets a JSON line of
      counts every 5 s and at the end
  soak_guest.py slow HOST PORT READERS SESSION_S END OUT
      READERS clients reading /big (far larger than they read) at 4 KiB per
      10 ms (~400 KB/s) through a 16 KiB receive buffer; each connection is
      dropped after SESSION_S and a new one opened; JSON counts in OUT
  soak_guest.py burst-udp HOST PORT N
      N UDP sockets, one datagram each to the echo server, echoes awaited
      for 2 s, then all closed; prints a JSON line of counts
  soak_guest.py burst-tcp HOST PORT N HOLD_S
      N TCP connections opened at once (non-blocking), held HOLD_S, then
      half closed with FIN and half with RST; prints a JSON line of counts
  soak_guest.py burst-syn HOST PORT OWN SPOOFED
      OWN SYNs from tap0's address and SPOOFED from unused guest-subnet
      addresses, hand-made (tests/e2e/raw_guest.py), never completed; prints
      a JSON line of how vgate answered tap0's
"""
import json
import os
import random
import resource
import select
import socket
import struct
import sys
import threading
import time

SIZES = (1024, 16384, 65536, 262144)


def lift_fd_limit():
    """the attacker is not bound by vgate's 1024: take the hard limit"""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Counts:
    """thread-safe counters, written as one JSON line to a file"""

    def __init__(self, path, **names):
        self.path, self.c, self.lock = path, dict(names), threading.Lock()

    def add(self, **kv):
        with self.lock:
            for k, v in kv.items():
                self.c[k] += v

    def dump(self):
        with self.lock:
            line = json.dumps(self.c)
        with open(self.path + ".tmp", "w") as f:
            f.write(line + "\n")
        os.replace(self.path + ".tmp", self.path)


def http_get(host, port, path, timeout=10, rcvbuf=0):
    """a connected socket that has sent GET PATH (HTTP/1.0: the server closes)"""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    s.sendall(("GET %s HTTP/1.0\r\nHost: soak\r\n\r\n" % path).encode())
    return s


def read_body(s):
    """read an HTTP/1.0 answer to its end, close s; the body (after the headers)"""
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    return got.split(b"\r\n\r\n", 1)[1]


def run_until(end, out, counts, workers):
    """start the workers, dump counts every 5 s until they are done"""
    for w in workers:
        w.start()
    while any(w.is_alive() for w in workers):
        counts.dump()
        for w in workers:
            w.join(timeout=5.0 / len(workers))
    counts.dump()


def flows(host, port, nthreads, end, out):
    counts = Counts(out, opened=0, ok=0, failed=0, bytes=0)

    def client():
        while time.time() < end:
            size = random.choice(SIZES)
            counts.add(opened=1)
            try:
                if len(read_body(http_get(host, port, "/s%d" % size))) == size:
                    counts.add(ok=1, bytes=size)
                else:
                    counts.add(failed=1)
            except (OSError, IndexError):
                counts.add(failed=1)
                time.sleep(0.2)
            time.sleep(0.02)

    run_until(end, out, counts, [threading.Thread(target=client) for _ in range(nthreads)])


def slow(host, port, nreaders, session_s, end, out):
    counts = Counts(out, sessions=0, failed=0, bytes=0)

    def reader():
        while time.time() < end:
            stop = min(end, time.time() + session_s)
            counts.add(sessions=1)
            try:
                s = http_get(host, port, "/big", rcvbuf=16384)
                while time.time() < stop:
                    b = s.recv(4096)
                    if not b:
                        break
                    counts.add(bytes=len(b))
                    time.sleep(0.01)
                s.close()
            except OSError:
                counts.add(failed=1)
                time.sleep(1)

    run_until(end, out, counts, [threading.Thread(target=reader) for _ in range(nreaders)])


def burst_udp(host, port, n):
    socks, errors = [], 0
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        try:
            s.sendto(b"echo %d" % i, (host, port))
        except OSError:
            errors += 1
        socks.append(s)
    echoed, pending, end = 0, set(socks), time.time() + 2
    while pending and time.time() < end:
        ready, _, _ = select.select(list(pending)[:500], [], [], 0.1)
        for s in ready:
            try:
                s.recv(100)
                echoed += 1
            except OSError:
                errors += 1
            pending.discard(s)
    for s in socks:
        s.close()
    print(json.dumps({"kind": "udp", "sent": n, "echoed": echoed, "errors": errors}))


def burst_tcp(host, port, n, hold_s):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((host, port))
        socks.append(s)
    # connected = writable with no error; refused = an error (RST)
    connected, refused, pending, end = 0, 0, set(socks), time.time() + 5
    while pending and time.time() < end:
        _, ready, _ = select.select([], list(pending)[:500], [], 0.1)
        for s in ready:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected += 1
            else:
                refused += 1
            pending.discard(s)
    time.sleep(hold_s)  # pacing: the connections are held this long
    for i, s in enumerate(socks):
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    print(json.dumps({"kind": "tcp", "opened": n, "connected": connected, "refused": refused,
                      "timed_out": len(pending)}))


def burst_syn(host, port, own_n, spoofed_n):
    """own_n SYNs from tap0's address (the guest's kernel answers vgate's
    SYN-ACKs with RST: connect-outs that are torn down again) mixed with
    spoofed_n from unused addresses of the guest subnet (.100-.249: nobody
    answers, half-open until vgate gives up), all at once; the answers to
    tap0's address are counted for 3 s"""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
    import raw_guest

    mac, own = raw_guest.my_addr()
    dst = socket.inet_aton(host)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind(("tap0", 0))
    kinds = [True] * own_n + [False] * spoofed_n
    random.shuffle(kinds)
    sports = set()
    for mine in kinds:
        sport = random.randrange(10000, 60000)
        src = own if mine else own[:3] + bytes([random.randrange(100, 250)])
        if mine:
            sports.add(sport)
        s.send(raw_guest.syn_frame(mac, src, dst, sport, port))
    synack = rst = 0
    s.settimeout(0.2)
    end = time.time() + 3
    while time.time() < end and sports:
        try:
            f = s.recv(2048)
        except socket.timeout:
            continue
        ip = f[14:]
        if len(ip) < 40 or ip[9] != 6 or ip[12:16] != dst or ip[16:20] != own:
            continue
        t = ip[(ip[0] & 15) * 4:]
        sport, dport = struct.unpack("!HH", t[:4])
        if sport != port or dport not in sports:
            continue
        sports.discard(dport)
        if t[13] & 0x04:
            rst += 1
        elif t[13] & 0x12 == 0x12:
            synack += 1
    print(json.dumps({"kind": "syn", "own": own_n, "spoofed": spoofed_n, "synack": synack, "rst": rst,
                      "unanswered": len(sports)}))


def main():
    lift_fd_limit()
    mode, a = sys.argv[1], sys.argv[2:]
    if mode == "flows":
        flows(a[0], int(a[1]), int(a[2]), float(a[3]), a[4])
    elif mode == "slow":
        slow(a[0], int(a[1]), int(a[2]), float(a[3]), float(a[4]), a[5])
    elif mode == "burst-udp":
        burst_udp(a[0], int(a[1]), int(a[2]))
    elif mode == "burst-tcp":
        burst_tcp(a[0], int(a[1]), int(a[2]), float(a[3]))
    elif mode == "burst-syn":
        burst_syn(a[0], int(a[1]), int(a[2]), int(a[3]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
