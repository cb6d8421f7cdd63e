"""raw_guest.py - hand-made guest frames on tap0 (AF_PACKET), for the tests
that need a destination the guest's own kernel would never route to the
gateway (0.0.0.0 is local to Linux, and so are broadcast and multicast).

    raw_guest.py udp DST_IP PORT           one datagram; prints "sent"
    raw_guest.py syn DST_IP PORT           one SYN; prints "rst", "synack"
                                           or "none" (no answer in 3 s)
    raw_guest.py syns DST_IP PORT N        N SYNs from distinct source ports,
                                           none of them a socket of the guest's
                                           (its kernel answers each SYN-ACK with
                                           RST); prints "sent N"

Run inside the guest namespace after DHCP; the source is tap0's address.
bench/soak_guest.py imports it for syn_frame() and my_addr().
"""
import os, random, socket, struct, sys, time

GW_MAC = bytes.fromhex("5a94efe40cdd")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def my_addr():
    mac = bytes.fromhex(open("/sys/class/net/tap0/address").read().strip().replace(":", ""))
    out = os.popen("ip -4 -o addr show dev tap0").read().split()
    ip = out[out.index("inet") + 1].split("/")[0]
    return mac, socket.inet_aton(ip)


def frame(mac, src, dst, proto, l4):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), random.randrange(65536), 0, 64,
                     proto, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return GW_MAC + mac + b"\x08\x00" + ip + l4


def syn_frame(mac, src, dst, sport, port):
    """an Ethernet frame with a TCP SYN from src:sport to dst:port (addresses packed)"""
    tcp = struct.pack("!HHIIBBHHH", sport, port, random.randrange(1 << 32), 0, 5 << 4, 0x02,
                      65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    return frame(mac, src, dst, 6, tcp)


def main():
    mode, dst, port = sys.argv[1], socket.inet_aton(sys.argv[2]), int(sys.argv[3])
    mac, src = my_addr()
    sport = random.randrange(40000, 60000)
    pseudo = lambda n, p: src + dst + struct.pack("!BBH", 0, p, n)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind(("tap0", 0))
    if mode == "syns":
        n = int(sys.argv[4])
        for sport in random.sample(range(20000, 30000), n):  # not the kernel's ephemeral ports
            s.send(syn_frame(mac, src, dst, sport, port))
        print("sent %d" % n)
        return
    if mode == "udp":
        data = b"martian"
        udp = struct.pack("!HHHH", sport, port, 8 + len(data), 0) + data
        udp = udp[:6] + struct.pack("!H", csum(pseudo(len(udp), 17) + udp) or 0xFFFF) + udp[8:]
        s.send(frame(mac, src, dst, 17, udp))
        print("sent")
        return
    s.send(syn_frame(mac, src, dst, sport, port))
    s.settimeout(0.2)
    end = time.time() + 3
    while time.time() < end:
        try:
            f = s.recv(2048)
        except socket.timeout:
            continue
        ip = f[14:]
        if len(ip) < 40 or ip[9] != 6 or ip[12:16] != dst:
            continue
        t = ip[(ip[0] & 15) * 4:]
        if struct.unpack("!HH", t[:4]) != (port, sport):
            continue
        flags = t[13]
        print("rst" if flags & 0x04 else "synack" if flags & 0x12 == 0x12 else "other")
        return
    print("none")


if __name__ == "__main__":
    main()
