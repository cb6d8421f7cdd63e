# shellcheck shell=bash
# fwd_lib.sh - helpers for the forwarder's e2e tests, sourced after lib.sh.

# fwd_stat NAME: a forwarder counter, from the log line vgate writes on SIGUSR1
fwd_stat() { vg_usr1_stat 'forwarder stats:' "$1"; }

# fwd_port N: port N (0..7) of a fresh block of 8 free ports (vg_free_port);
# use $((P + n)) for related ports
fwd_port() { echo $(($(vg_free_port 8) + ${1:-0})); }

# fwd_udp HOST PORT echo|closed [SIZE...]: a UDP client in the guest on a
# socket connected to HOST:PORT (IPv4 or IPv6). "echo" sends one datagram of
# each SIZE (default 1 100 1400), checks each echo and prints "echo ok";
# "closed" sends one and prints "refused" (an ICMP/ICMPv6 port unreachable
# came back: ECONNREFUSED), another errno's name (ENETUNREACH: no route;
# the socket sets IP(V6)_RECVERR to see those), "timeout" or "unexpected
# answer". 3 s per reply.
fwd_udp() {
	fwd_udp_script
	vg_ns python3 "$VG_TMP/fwd_udp.py" "$@"
}

# fwd_udp_host HOST PORT echo|closed [SIZE...]: the same client on the host
# (towards a UDP port forward's listener; in the private host namespace
# when the test has one, vg_hx)
fwd_udp_host() {
	fwd_udp_script
	vg_hx python3 "$VG_TMP/fwd_udp.py" "$@"
}

# fwd_udp_script: writes fwd_udp's client to $VG_TMP/fwd_udp.py
fwd_udp_script() {
	[ -s "$VG_TMP/fwd_udp.py" ] || cat >"$VG_TMP/fwd_udp.py" <<'PY'
import errno, socket, sys
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sizes = [int(x) for x in sys.argv[4:]] or [1, 100, 1400]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((host, port))
if mode == "echo":
    for size in sizes:
        msg = bytes((i * 7 + size) % 256 for i in range(size))
        s.send(msg)
        got = s.recv(65535)
        assert got == msg, f"echo of {size} bytes differs ({len(got)} back)"
    print("echo ok")
else:
    # every ICMP error reported, also those Linux deems transient for UDP
    # (no route: ENETUNREACH)
    if s.family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, getattr(socket, "IPV6_RECVERR", 25), 1)
    else:
        s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_RECVERR", 11), 1)
    s.send(b"anyone?")
    try:
        s.recv(100)
        print("unexpected answer")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")
    except OSError as e:
        print(errno.errorcode.get(e.errno, e.errno))
PY
}
