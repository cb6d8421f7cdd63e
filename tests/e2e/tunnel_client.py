#!/usr/bin/env python3
"""tunnel_client.py - a client of gvproxy's GET /tunnel on a -listen unix
socket (tests/e2e/test_gvtunnel.sh).

Usage: tunnel_client.py MODE SOCK ARGS...
  roundtrip SOCK IP PORT SIZE  "OK", then SIZE random bytes to the guest's
                               echo server and back; prints "sha256 ok HEX"
  early SOCK IP PORT           the head and a payload in one write: "OK" comes
                               first, then the payload's echo; prints "early ok"
  status SOCK TARGET           sends "GET TARGET HTTP/1.1"; prints the status
                               code and the body's first line
  limit SOCK IP PORT N         N tunnels get "OK" and stay open, one more gets
                               503; once one closes a new one gets "OK" again;
                               prints "limit ok"
Every socket operation has a timeout (15 s): nothing here can hang.
"""
import hashlib
import os
import socket
import sys
import threading
import time

TIMEOUT = 15


def head(ip, port):
    return f"GET /tunnel?ip={ip}&port={port} HTTP/1.1\r\nHost: gv\r\n\r\n".encode()


def connect(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(TIMEOUT)
    s.connect(path)
    return s


def read_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            break
        b += c
    return b


def read_all(s):
    out = []
    while True:
        try:
            c = s.recv(1 << 16)
        except ConnectionResetError:
            break
        if not c:
            break
        out.append(c)
    return b"".join(out)


def tunnel(path, ip, port):
    s = connect(path)
    s.sendall(head(ip, port))
    ok = read_exact(s, 2)
    if ok != b"OK":
        sys.exit(f"expected OK, got {ok + read_all(s)!r}")
    return s


def roundtrip(path, ip, port, size):
    s = tunnel(path, ip, port)
    data = os.urandom(size)

    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=send)
    t.start()
    back = read_all(s)
    t.join(TIMEOUT)
    sent, got = hashlib.sha256(data).hexdigest(), hashlib.sha256(back).hexdigest()
    if len(back) != size or sent != got:
        sys.exit(f"round trip differs: sent {size} bytes {sent}, got {len(back)} {got}")
    print("sha256 ok", got)


def early(path, ip, port):
    s = connect(path)
    s.sendall(head(ip, port) + b"early bytes")
    s.shutdown(socket.SHUT_WR)
    got = read_all(s)
    if got != b"OKearly bytes":
        sys.exit(f"expected OK and the echo, got {got!r}")
    print("early ok")


def status(path, target):
    s = connect(path)
    s.sendall(f"GET {target} HTTP/1.1\r\nHost: gv\r\n\r\n".encode())
    resp = read_all(s).decode(errors="replace")
    line, _, rest = resp.partition("\r\n")
    body = rest.partition("\r\n\r\n")[2].strip().splitlines()
    print(line.split(" ")[1] if " " in line else "none", body[0] if body else "")


def limit(path, ip, port, n):
    held = [tunnel(path, ip, port) for _ in range(n)]
    s = connect(path)
    s.sendall(head(ip, port))
    resp = read_all(s)
    if not resp.startswith(b"HTTP/1.1 503 "):
        sys.exit(f"tunnel {n + 1}: expected 503, got {resp!r}")
    held.pop().close()
    deadline = time.monotonic() + TIMEOUT
    while True:  # the slot is free once vgate saw the close
        s = connect(path)
        s.sendall(head(ip, port))
        first = read_exact(s, 2)
        if first == b"OK":
            break
        s.close()
        if time.monotonic() > deadline:
            sys.exit("no slot came free after a tunnel closed")
        time.sleep(0.1)
    print("limit ok")


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "roundtrip":
        roundtrip(path, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "early":
        early(path, sys.argv[3], int(sys.argv[4]))
    elif mode == "status":
        status(path, sys.argv[3])
    elif mode == "limit":
        limit(path, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
