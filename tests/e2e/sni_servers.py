#!/usr/bin/env python3
"""sni_servers.py - what test_sni.sh, test_sni6.sh and test_api_policy.sh
talk to, on 127.0.0.x, ::1 or IPv6 documentation addresses (2001:db8::/32,
which exist only on the lo of a test's private host namespace: lib.sh's
vg_hostns); python3 stdlib only; refuses any other address:

  dns ADDR PORT_FILE TTL NAME=IP...   a DNS server (UDP and TCP, on an IPv4
        ADDR) that answers A queries for the given names with their IPv4
        addresses and AAAA queries with their IPv6 ones (a NAME may be given
        more than once; TTL seconds), no data for a type the name has no
        address of, and every other name with NXDOMAIN.
  tls ADDR PORT CERT KEY COUNT_FILE   a TLS server answering one HTTP/1.1
        request per connection with "hello from ADDR"; every accepted TCP
        connection appends a line to COUNT_FILE (before the handshake), so a
        test can tell that a connection never reached it. "GET /big" gets
        BIG_BYTES pseudo-random bytes (random.Random(BIG_SEED)) instead,
        paced at 64 KiB every 30 ms, for flows that must stay open while a
        test changes something: after the first half it waits (up to 60 s)
        until the file COUNT_FILE.release exists, so the flow outlasts the
        change however slow a loaded host makes the test.
  http ADDR PORT COUNT_FILE           the same in plain HTTP.
"""
import ipaddress
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

BIG_SEED = 20240501
BIG_BYTES = 8 << 20
BIG = []  # generated on first use


def big_body():
    if not BIG:
        BIG.append(random.Random(BIG_SEED).randbytes(BIG_BYTES))
    return BIG[0]


TEST_NETS = [ipaddress.ip_network(n) for n in ("127.0.0.0/8", "::1/128", "2001:db8::/32")]


def loopback(addr):
    if not any(ipaddress.ip_address(addr) in n for n in TEST_NETS):
        sys.exit("refusing address outside loopback and 2001:db8::/32: " + addr)
    return addr


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def qname(msg, off):
    labels = []
    while msg[off]:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels).lower(), off + 1


def answer(q, table, ttl):
    if len(q) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    if qd != 1:
        return None
    name, off = qname(q, 12)
    qtype, qclass = struct.unpack("!HH", q[off:off + 4])
    question = q[12:off + 4]
    rcode, ans, n = 0, b"", 0
    if name not in table:
        rcode = 3
    elif qtype in (1, 28):
        fam = socket.AF_INET if qtype == 1 else socket.AF_INET6
        for ip in table[name]:
            if family(ip) == fam:
                a = socket.inet_pton(fam, ip)
                ans += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, ttl, len(a)) + a
                n += 1
    hdr = struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100) | rcode, 1, n, 0, 0)
    return hdr + question + ans


def dns(addr, port_file, ttl, maps):
    table = {}
    for m in maps:
        name, ip = m.lower().split("=", 1)
        table.setdefault(name, []).append(loopback(ip))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((loopback(addr), 0))
    port = u.getsockname()[1]
    t = socket.socket()
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(16)

    def tcp_loop():
        while True:
            c, _ = t.accept()
            try:
                n = struct.unpack("!H", c.recv(2))[0]
                a = answer(c.recv(n), table, ttl)
                if a:
                    c.sendall(struct.pack("!H", len(a)) + a)
            except Exception:
                pass
            c.close()

    threading.Thread(target=tcp_loop, daemon=True).start()
    with open(port_file, "w") as f:
        f.write(str(port))
    while True:
        q, peer = u.recvfrom(4096)
        try:
            a = answer(q, table, ttl)
        except Exception:
            a = None
        if a:
            u.sendto(a, peer)


def serve(addr, port, count_file, ctx):
    s = socket.socket(family(loopback(addr)))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(64)
    lock = threading.Lock()

    def one(c):
        try:
            if ctx:
                c = ctx.wrap_socket(c, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                d = c.recv(4096)
                if not d:
                    return
                data += d
            big = data.startswith(b"GET /big ")
            body = big_body() if big else ("hello from %s\n" % addr).encode()
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                      % len(body))
            step = 65536 if big else len(body)
            for i in range(0, len(body), step):
                c.sendall(body[i:i + step])
                if big:
                    time.sleep(0.03)
                    if i + step == len(body) // 2:
                        until = time.monotonic() + 60
                        while not os.path.exists(count_file + ".release") and \
                                time.monotonic() < until:
                            time.sleep(0.05)
        except Exception:
            pass
        finally:
            c.close()

    while True:
        c, _ = s.accept()
        with lock, open(count_file, "a") as f:
            f.write("conn\n")
        threading.Thread(target=one, args=(c,), daemon=True).start()


def main():
    mode = sys.argv[1]
    if mode == "dns":
        dns(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:])
    elif mode == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[4], sys.argv[5])
        serve(sys.argv[2], sys.argv[3], sys.argv[6], ctx)
    elif mode == "http":
        serve(sys.argv[2], sys.argv[3], sys.argv[4], None)
    else:
        sys.exit("usage: see the module docstring")


if __name__ == "__main__":
    main()
