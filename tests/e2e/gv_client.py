"""gv_client.py - a gvforwarder stand-in: bridges a TAP inside a network
namespace to one of vgate's gvproxy transports, the way gvisor-tap-vsock's
in-VM client does (which cannot be built here: no Go toolchain offline).

    gv_client.py MODE ADDR NETNS [TAP]

MODE:
  connect     ADDR = unix:///PATH, tcp://IP:PORT or vsock://CID:PORT: send
              "POST /connect", then frames after a 2-byte LE length
  connect-qemu  the same with QEMU's 4-byte BE lengths (-listen-qemu given)
  vpnkit      ADDR = unix:///PATH: hyperkit's handshake, then 2-byte LE
  bess        ADDR = unixpacket:///PATH: SOCK_SEQPACKET, one frame a packet
  stdio       ADDR = a shell command line (vgate ...): run it with its
              stdin/stdout as the link, 2-byte LE frames

The connection is made in the namespace the script starts in (the host's);
then the script enters NETNS (/run/netns/NETNS, setns through libc) and
creates TAP (default tap0) there with gvforwarder's default MAC
(5a:94:ef:e4:0c:ee), up, with no address: the test runs DHCP on it. Prints "bridging" once frames can flow, then runs until killed or
until the gateway side closes (exit 3). For vpnkit it first prints the
reply's MTU and MAC ("vpnkit mtu=N mac=M").
"""
import ctypes, fcntl, os, select, shlex, socket, struct, subprocess, sys

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def dial(addr, kind=socket.SOCK_STREAM):
    if addr.startswith("unix://") or addr.startswith("unixpacket://"):
        s = socket.socket(socket.AF_UNIX, kind)
        s.connect(addr.split("://", 1)[1])
        return s
    host, port = addr.split("://", 1)[1].rsplit(":", 1)
    if addr.startswith("tcp://"):
        return socket.create_connection((host, int(port)))
    s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect((int(host), int(port)))
    s.settimeout(None)
    return s


def read_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("gateway closed during the handshake")
        b += c
    return b


def vpnkit_handshake(s):
    hello = b"VMN3T" + bytes(range(44))  # 49 bytes; gvproxy and vgate echo them
    s.sendall(hello)
    if read_exact(s, 49) != hello:
        sys.exit("vpnkit: hello not echoed")
    uuid = b"c3d68012-0208-11ea-9fd7-f2189899ab08"
    s.sendall(b"\x01" + uuid + b"\0\0\0\0")  # 41 bytes
    r = read_exact(s, 258)
    mtu, frame = struct.unpack("<HH", r[1:5])
    print("vpnkit mtu=%d frame=%d mac=%s" % (mtu, frame, r[5:11].hex(":")), flush=True)
    if r[0] != 1 or any(r[11:]):
        sys.exit("vpnkit: bad reply")


def enter_netns(name, tap):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        sys.exit("setns: errno %d" % ctypes.get_errno())
    os.close(fd)
    t = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(t, TUNSETIFF, struct.pack("16sH", tap.encode(), IFF_TAP | IFF_NO_PI))
    # gvforwarder's default MAC: the same guest gets the same lease again
    subprocess.run(["ip", "link", "set", tap, "address", "5a:94:ef:e4:0c:ee", "up"], check=True)
    return t


class Stream:
    """length-prefixed frames on a byte stream"""

    def __init__(self, rfd, wfd, qemu):
        self.rfd, self.wfd, self.buf = rfd, wfd, b""
        self.fmt, self.plen = ("!I", 4) if qemu else ("<H", 2)

    def send(self, frame):
        data = struct.pack(self.fmt, len(frame)) + frame
        while data:
            n = os.write(self.wfd, data)
            data = data[n:]

    def recv(self):
        c = os.read(self.rfd, 1 << 17)
        if not c:
            return None
        self.buf += c
        out = []
        while len(self.buf) >= self.plen:
            (n,) = struct.unpack(self.fmt, self.buf[: self.plen])
            if len(self.buf) < self.plen + n:
                break
            out.append(self.buf[self.plen : self.plen + n])
            self.buf = self.buf[self.plen + n :]
        return out


class Packets:
    """bess: one frame per SOCK_SEQPACKET record"""

    def __init__(self, s):
        self.s, self.rfd = s, s.fileno()

    def send(self, frame):
        self.s.send(frame)

    def recv(self):
        c = self.s.recv(1 << 17)
        return [c] if c else None


def main():
    mode, addr, ns = sys.argv[1], sys.argv[2], sys.argv[3]
    tap = sys.argv[4] if len(sys.argv) > 4 else "tap0"
    child = None
    if mode == "stdio":
        child = subprocess.Popen(shlex.split(addr), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        link = Stream(child.stdout.fileno(), child.stdin.fileno(), False)
    elif mode == "bess":
        s = dial(addr, socket.SOCK_SEQPACKET)
        link = Packets(s)
    else:
        s = dial(addr)
        if mode == "vpnkit":
            vpnkit_handshake(s)
        else:
            # no response comes: frames follow the head at once
            s.sendall(b"POST /connect HTTP/1.1\r\nHost: vgate\r\n\r\n")
        link = Stream(s.fileno(), s.fileno(), mode == "connect-qemu")
    t = enter_netns(ns, tap)
    print("bridging", flush=True)
    while True:
        r, _, _ = select.select([t, link.rfd], [], [])
        if t in r:
            link.send(os.read(t, 1 << 17))
        if link.rfd in r:
            frames = link.recv()
            if frames is None:
                print("gateway closed", flush=True)
                if child:
                    child.kill()
                sys.exit(3)
            for f in frames:
                os.write(t, f)


if __name__ == "__main__":
    main()
