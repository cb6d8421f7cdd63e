#!/usr/bin/env python3
"""dns_upstream.py - a small authoritative-looking DNS server for vgate's e2e
tests (python3 stdlib only). It listens on UDP and TCP on a loopback address
(127.0.0.x or ::1 only: it refuses anything else), answers every name with
made-up data, and counts the queries it receives per (name, type).

Answers (TTL from --ttl unless noted):
  A      10.<len>.<sum % 256>.1 (stable per name); names starting with "big"
         get 60 A records (fits 1232 but not 512), "huge" 200 (over 1232, so
         a resolver must retry over TCP)
  AAAA   fd00::<n>
  MX     10 mail.<name>
  TXT    "vgate test <name>"
  SRV    0 5 5060 sip.<name>
  PTR    ptr.test. for any name
  names starting with "nx": NXDOMAIN with an SOA (TTL 300, MINIMUM 60)
  names starting with "slow": answered after --slow-ms (default 300 ms)
  --record NAME=IP (repeatable): NAME answers A with each IPv4 IP given for
         it and AAAA with each IPv6 one, nothing else (NODATA)
  --ptr NAME=TARGET (repeatable): NAME answers PTR TARGET (the owner a
         pointer to the question), or NXDOMAIN with the SOA above when
         TARGET is "NXDOMAIN"
Counts are written to --count-file after every query as lines
"name type count" (lower-case name without trailing dot, numeric type), and
"total N". With --spoof, each UDP answer is preceded by two forged ones
(address 6.6.6.6): one from another source port, one with a wrong ID.
--port 0 picks a free port; the port is written to --port-file.
With --opt-file, a line "name CODES" is appended per query: the EDNS option
codes its OPT carried (comma-separated), "-" for an OPT without options,
"noedns" for none.
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time

T_A, T_NS, T_CNAME, T_SOA, T_PTR, T_MX, T_TXT, T_AAAA, T_SRV, T_OPT = 1, 2, 5, 6, 12, 15, 16, 28, 33, 41


def read_name(msg, off):
    labels = []
    while True:
        n = msg[off]
        if n == 0:
            return labels, off + 1
        if n & 0xC0:
            raise ValueError("compressed name in question")
        labels.append(msg[off + 1:off + 1 + n])
        off += 1 + n


def wire_name(text):
    out = b""
    for lab in text.strip(".").split("."):
        if lab:
            out += bytes([len(lab)]) + lab.encode()
    return out + b"\0"


class Server:
    def __init__(self, args):
        self.args = args
        self.counts = {}
        self.lock = threading.Lock()
        self.records = {}
        for rec in args.record:
            name, ip = rec.split("=", 1)
            self.records.setdefault(name.lower().strip("."), []).append(ip)
        self.ptrs = {}
        for rec in args.ptr:
            name, target = rec.split("=", 1)
            self.ptrs[name.lower().strip(".")] = target

    def count(self, name, qtype):
        with self.lock:
            key = (name, qtype)
            self.counts[key] = self.counts.get(key, 0) + 1
            if self.args.count_file:
                tmp = self.args.count_file + ".tmp"
                total = sum(self.counts.values())
                with open(tmp, "w") as f:
                    for (n, t), c in sorted(self.counts.items()):
                        f.write("%s %d %d\n" % (n, t, c))
                    f.write("total %d\n" % total)
                os.replace(tmp, self.args.count_file)

    def log_opts(self, query, name):
        if not self.args.opt_file:
            return
        desc = "noedns"
        try:
            _, off = read_name(query, 12)
            off += 4
            if struct.unpack("!H", query[10:12])[0] >= 1 and query[off] == 0 and \
                    struct.unpack("!H", query[off + 1:off + 3])[0] == T_OPT:
                rdlen = struct.unpack("!H", query[off + 9:off + 11])[0]
                p, end, codes = off + 11, off + 11 + rdlen, []
                while p + 4 <= end:
                    code, olen = struct.unpack("!HH", query[p:p + 4])
                    codes.append(str(code))
                    p += 4 + olen
                desc = ",".join(codes) if codes else "-"
        except (ValueError, IndexError, struct.error):
            desc = "bad"
        with self.lock:
            with open(self.args.opt_file, "a") as f:
                f.write("%s %s\n" % (name, desc))

    def rr(self, qtype, rdata, ttl=None, owner=b"\xc0\x0c"):
        ttl = self.args.ttl if ttl is None else ttl
        return owner + struct.pack("!HHIH", qtype, 1, ttl, len(rdata)) + rdata

    def answer(self, query):
        """Return (reply bytes, name, qtype, slow) or None for garbage."""
        if len(query) < 12:
            return None
        qid, flags, qd = struct.unpack("!HHH", query[:6])
        if flags & 0x8000 or qd != 1:
            return None
        labels, off = read_name(query, 12)
        qtype, qclass = struct.unpack("!HH", query[off:off + 4])
        question = query[12:off + 4]
        name = b".".join(labels).decode("ascii", "replace").lower()
        first = labels[0].decode("ascii", "replace").lower() if labels else ""
        rcode, an, ns = 0, [], []
        if qtype == T_PTR and name in self.ptrs:
            if self.ptrs[name] == "NXDOMAIN":
                rcode = 3
                soa = wire_name("ns.test") + wire_name("host.test") + struct.pack("!IIIII", 1, 3600, 600, 86400, 60)
                ns.append(self.rr(T_SOA, soa, ttl=300))
            else:
                an.append(self.rr(T_PTR, wire_name(self.ptrs[name])))
        elif name in self.records:
            fam = {T_A: socket.AF_INET, T_AAAA: socket.AF_INET6}.get(qtype)
            for ip in self.records[name]:
                if fam == (socket.AF_INET6 if ":" in ip else socket.AF_INET):
                    an.append(self.rr(qtype, socket.inet_pton(fam, ip)))
        elif first.startswith("nx"):
            rcode = 3
            soa = wire_name("ns.test") + wire_name("host.test") + struct.pack("!IIIII", 1, 3600, 600, 86400, 60)
            ns.append(self.rr(T_SOA, soa, ttl=300))
        elif qtype == T_A:
            n = 200 if first.startswith("huge") else 60 if first.startswith("big") else 1
            base = (len(name) % 256, sum(name.encode()) % 256)
            for i in range(n):
                an.append(self.rr(T_A, bytes([10, base[0], base[1], (i + 1) % 256])))
        elif qtype == T_AAAA:
            an.append(self.rr(T_AAAA, bytes([0xFD] + [0] * 13 + [len(name) % 256, 1])))
        elif qtype == T_MX:
            an.append(self.rr(T_MX, struct.pack("!H", 10) + wire_name("mail." + name)))
        elif qtype == T_TXT:
            txt = ("vgate test " + name).encode()[:255]
            an.append(self.rr(T_TXT, bytes([len(txt)]) + txt))
        elif qtype == T_SRV:
            an.append(self.rr(T_SRV, struct.pack("!HHH", 0, 5, 5060) + wire_name("sip." + name)))
        elif qtype == T_PTR:
            an.append(self.rr(T_PTR, wire_name("ptr.test")))
        hdr = struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100) | rcode, 1, len(an), len(ns), 0)
        return hdr + question + b"".join(an) + b"".join(ns), name, qtype, first.startswith("slow")

    def serve_udp(self, sock, spoof_sock):
        while True:
            q, peer = sock.recvfrom(65535)
            try:
                r = self.answer(q)
            except (ValueError, IndexError, struct.error):
                continue
            if r is None:
                continue
            reply, name, qtype, slow = r
            self.count(name, qtype)
            self.log_opts(q, name)
            if self.args.silent:
                continue
            # a reply that does not fit the client's UDP size gets TC and no records
            limit = 512
            if struct.unpack("!H", q[10:12])[0] >= 1:
                _, off = read_name(q, 12)
                off += 4
                if len(q) >= off + 11 and q[off] == 0 and struct.unpack("!H", q[off + 1:off + 3])[0] == T_OPT:
                    limit = max(512, struct.unpack("!H", q[off + 3:off + 5])[0])
            if len(reply) > limit:
                _, off = read_name(reply, 12)
                reply = reply[:2] + struct.pack("!H", struct.unpack("!H", reply[2:4])[0] | 0x0200) + \
                    struct.pack("!HHHH", 1, 0, 0, 0) + reply[12:off + 4]

            def send(reply=reply, peer=peer, q=q):
                if self.args.spoof and len(reply) > 16:
                    forged = bytearray(reply)
                    if forged[-4:] != b"\0\0\0\0" and struct.unpack("!H", forged[6:8])[0] == 1 and qtype == T_A:
                        forged[-4:] = bytes([6, 6, 6, 6])
                    spoof_sock.sendto(bytes(forged), peer)  # wrong source port
                    forged[0] ^= 0x5A  # wrong ID
                    sock.sendto(bytes(forged), peer)
                sock.sendto(reply, peer)

            if slow:
                threading.Timer(self.args.slow_ms / 1000.0, send).start()
            else:
                send()

    def serve_tcp_conn(self, conn):
        with conn:
            conn.settimeout(10)
            buf = b""
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                    n = struct.unpack("!H", buf[:2])[0]
                    q, buf = buf[2:2 + n], buf[2 + n:]
                    try:
                        r = self.answer(q)
                    except (ValueError, IndexError, struct.error):
                        return
                    if r is None:
                        return
                    reply, name, qtype, slow = r
                    self.count(name, qtype)
                    self.log_opts(q, name)
                    if self.args.silent:
                        continue
                    if slow:
                        time.sleep(self.args.slow_ms / 1000.0)
                    conn.sendall(struct.pack("!H", len(reply)) + reply)

    def serve_tcp(self, lsock):
        while True:
            conn, _ = lsock.accept()
            threading.Thread(target=self.serve_tcp_conn, args=(conn,), daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--count-file")
    ap.add_argument("--ttl", type=int, default=300)
    ap.add_argument("--slow-ms", type=int, default=300)
    ap.add_argument("--spoof", action="store_true")
    ap.add_argument("--silent", action="store_true", help="count but never answer")
    ap.add_argument("--opt-file", help="append 'name option-codes' per query")
    ap.add_argument("--record", action="append", default=[], help="NAME=IP: a fixed A or AAAA")
    ap.add_argument("--ptr", action="append", default=[], help="NAME=TARGET: a fixed PTR (NXDOMAIN: none)")
    args = ap.parse_args()
    if not args.addr.startswith("127.") and args.addr != "::1":
        sys.exit("dns_upstream.py: refusing to listen outside 127.0.0.0/8 and ::1")
    af = socket.AF_INET6 if ":" in args.addr else socket.AF_INET
    udp = socket.socket(af, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind((args.addr, args.port))
    port = udp.getsockname()[1]
    tcp = socket.socket(af, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.addr, port))
    tcp.listen(64)
    spoof = socket.socket(af, socket.SOCK_DGRAM)
    spoof.bind((args.addr, 0))
    srv = Server(args)
    if args.count_file:
        srv.count  # touch
        with open(args.count_file, "w") as f:
            f.write("total 0\n")
    threading.Thread(target=srv.serve_tcp, args=(tcp,), daemon=True).start()
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(args.port_file + ".tmp", args.port_file)
    srv.serve_udp(udp, spoof)


if __name__ == "__main__":
    main()
