#!/usr/bin/env python3
"""tls_segments.py - a TLS client whose ClientHello reaches the network in
many small TCP segments (python3 stdlib only), for the SNI tests:

  tls_segments.py IP NAME CAFILE HELLO_BYTES SEG

connects to IP:443 with TCP_NODELAY and the smallest MSS Linux allows, has
the ClientHello for NAME padded to about HELLO_BYTES (a long ALPN list: the
server offers none, so it ignores it), writes it SEG bytes per send() (each
its own segment), then finishes the handshake, sends "GET /" and prints
"hello: LEN SENDS BODY" (the ClientHello's length, the send() calls, the
server's answer); on a refusal it prints "refused: LEN SENDS ERROR".
"""
import socket
import ssl
import sys
import time

ip, name, cafile, want, seg = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
if not ip.startswith("127."):
    sys.exit("refusing non-loopback address " + ip)

ctx = ssl.create_default_context(cafile=cafile)
ctx.maximum_version = ssl.TLSVersion.TLSv1_3
# ALPN names of 200 bytes (distinct, so the list is not deduplicated)
n = max(1, (want - 300) // 201)
ctx.set_alpn_protocols(["h2"] + ["p%03d" % i + "x" * 196 for i in range(n)])
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname=name)
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()

s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 88)
s.settimeout(10)
s.connect((ip, 443))
sends = 0
try:
    for off in range(0, len(hello), seg):
        s.send(hello[off:off + seg])
        sends += 1
        if sends % 16 == 0:
            time.sleep(0.001)  # let the segments leave one by one
    body = b""
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            pending = out.read()
            if pending:
                s.sendall(pending)
            d = s.recv(65536)
            if not d:
                raise ConnectionResetError("EOF during the handshake")
            inc.write(d)
    tls.write(b"GET / HTTP/1.1\r\nHost: " + name.encode() + b"\r\n\r\n")
    s.sendall(out.read())
    while not (b"hello from" in body and body.endswith(b"\n")):
        d = s.recv(65536)
        if not d:
            break
        inc.write(d)
        try:
            while True:
                body += tls.read(65536)
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass
    text = body.decode(errors="replace").strip().splitlines()
    print("hello: %d %d %s" % (len(hello), sends, text[-1] if text else ""))
except OSError as e:
    print("refused: %d %d %s" % (len(hello), sends, e.__class__.__name__))
