#!/usr/bin/env python3
"""ssh_guest_servers.py - the guest-side unix socket servers of
test_ssh_forward.sh (run in the guest namespace; the path is on the shared
file system, reached by the guest's sshd through direct-streamlocal).

Usage: ssh_guest_servers.py MODE PATH
  sha   per connection: read until the client's EOF, answer the sha256 hex
        of what came and a newline, then the same bytes back, then close
  http  HTTP/1.0: GET /N answers N bytes of a fixed pattern (Connection: close)
Both remove a stale PATH first and serve until killed.
"""
import hashlib
import os
import socket
import sys
import threading


def sha_conn(c):
    with c:
        data = bytearray()
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            data += b
        c.sendall(hashlib.sha256(data).hexdigest().encode() + b"\n" + bytes(data))


def http_conn(c):
    with c:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            b = c.recv(4096)
            if not b:
                return
            head += b
        path = head.split(b" ", 2)[1].decode()
        n = int(path.lstrip("/") or "0")
        body = (b"vgate-ssh-forward." * (n // 18 + 1))[:n]
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % n + body)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    handler = {"sha": sha_conn, "http": http_conn}[mode]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
