#!/usr/bin/env python3
"""fwd_servers.py - small host-side servers for the forwarder's e2e tests.

Usage: fwd_servers.py MODE ADDR PORT
  upload     HTTP: POST body → answers its length and sha256 ("LEN HEX")
  halfclose  TCP: reads until the client's FIN, then answers "got N" and closes
  udpecho    UDP: sends every datagram back to its sender
  banner     TCP: sends "hello from guest" + what it reads back (used in the
             guest namespace for port forwards), one connection at a time
  okreply    TCP: answers "ok\n" to every read of up to 100 bytes (the
             connection-rate client of bench/forward_bench.sh), backlog 4096
  echo       TCP and UDP on the same port: TCP echoes every connection (a
             thread each, backlog 4096), UDP echoes datagrams that start with
             "echo" (the attack tests' floods are not answered); lifts its
             own fd limit to the hard limit (budget_lib.sh)
All bind to ADDR (127.0.0.x, ::1 or a namespace address; an address with a
colon is IPv6): nothing leaves the machine.
"""
import hashlib
import resource
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Upload(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        left = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        n = 0
        while left > 0:
            b = self.rfile.read(min(left, 1 << 20))
            if not b:
                break
            h.update(b)
            n += len(b)
            left -= len(b)
        body = f"{n} {h.hexdigest()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class HalfClose(socketserver.BaseRequestHandler):
    def handle(self):
        n = 0
        while True:
            b = self.request.recv(65536)
            if not b:
                break
            n += len(b)
        self.request.sendall(f"got {n}\n".encode())


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


class TServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, addr, handler):
        self.address_family = family(addr[0])
        super().__init__(addr, handler)


class HTTPServer(ThreadingHTTPServer):
    def __init__(self, addr, handler):
        self.address_family = family(addr[0])
        super().__init__(addr, handler)


class OkReply(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while self.request.recv(100):
                self.request.sendall(b"ok\n")
        except OSError:
            pass


class BusyServer(TServer):
    request_queue_size = 4096  # a connection-rate client must not see refusals


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while True:
                b = self.request.recv(2048)
                if not b:
                    break
                self.request.sendall(b)
        except OSError:
            pass


def echo(addr, port):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    u = socket.socket(family(addr), socket.SOCK_DGRAM)
    u.bind((addr, port))

    def udp():
        while True:
            d, peer = u.recvfrom(2048)
            if d.startswith(b"echo"):
                u.sendto(d, peer)

    threading.Thread(target=udp, daemon=True).start()
    BusyServer((addr, port), Echo).serve_forever()


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "upload":
        HTTPServer((addr, port), Upload).serve_forever()
    elif mode == "halfclose":
        TServer((addr, port), HalfClose).serve_forever()
    elif mode == "okreply":
        BusyServer((addr, port), OkReply).serve_forever()
    elif mode == "echo":
        echo(addr, port)
    elif mode == "udpecho":
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
        s.bind((addr, port))
        while True:
            data, peer = s.recvfrom(65535)
            s.sendto(data, peer)
    elif mode == "banner":
        s = socket.socket(family(addr))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(16)

        def serve(c):
            with c:
                c.sendall(b"hello from guest\n")
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    c.sendall(b)

        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
