#!/bin/bash
# test_forward_martian.sh - martian destinations: under a policy that denies
# 127.0.0.0/8 but allows 0.0.0.0/8 (so only the martian check stands in the
# way), guest UDP and TCP to 0.0.0.0/8 (which Linux would connect to loopback)
# do not reach a host-loopback server: UDP is dropped and counted, SYNs to
# 0.0.0.0 and 0.1.2.3 are refused (the latter sees the RST), counted; UDP
# to multicast and broadcast is dropped and gets no mapping; the drops are
# logged, rate-limited.
# The frames are made by hand (raw_guest.py): the guest's own kernel keeps
# 0.0.0.0 local.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

vg_start --outbound-deny 127.0.0.0/8 --outbound-allow 0.0.0.0/8 --outbound-allow 224.0.0.0/3
P=$(fwd_port 0)
RAW=$VG_SRC/tests/e2e/raw_guest.py
cat >"$VG_TMP/srv.py" <<'EOP'
import socket, sys, threading
port, out = int(sys.argv[1]), sys.argv[2]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", port))
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", port)); t.listen(8)
def hit(what):
    with open(out, "a") as f:
        f.write(what + "\n")
def udp():
    while True:
        d, a = u.recvfrom(100)
        if d != b"probe":
            hit("udp")
threading.Thread(target=udp, daemon=True).start()
open(out + ".ready", "w").close()
while True:
    c, a = t.accept(); hit("tcp"); c.close()
EOP
: >"$VG_TMP/hits"
vg_bg python3 "$VG_TMP/srv.py" "$P" "$VG_TMP/hits"
vg_wait_for 10 test -e "$VG_TMP/hits.ready" || vg_fail "server did not start"
vg_ns ip neigh replace 192.168.127.1 lladdr 5a:94:ef:e4:0c:dd dev tap0

out=$(vg_ns python3 "$RAW" udp 0.0.0.0 "$P") || vg_fail "raw UDP failed"
counted() { [ "$(fwd_stat udp_martian)" = 1 ]; }
vg_wait_for 5 counted || vg_fail "UDP to 0.0.0.0 not counted as martian"
# both SYNs reach the forwarder, which refuses them; lwIP does not send a
# RST from 0.0.0.0 (its old-style broadcast), so that one sees no answer
out=$(vg_ns python3 "$RAW" syn 0.0.0.0 "$P") || vg_fail "raw SYN failed"
[ "$out" = none ] || [ "$out" = rst ] || vg_fail "SYN to 0.0.0.0: $out"
out=$(vg_ns python3 "$RAW" syn 0.1.2.3 "$P") || vg_fail "raw SYN failed"
[ "$out" = rst ] || vg_fail "SYN to 0.1.2.3: $out, expected rst"
[ "$(fwd_stat tcp_martian)" = 2 ] || vg_fail "TCP to 0.0.0.0/8 not counted as martian"
vg_ns python3 "$RAW" udp 224.0.0.251 5353 >/dev/null || vg_fail "raw UDP failed"
vg_ns python3 "$RAW" udp 255.255.255.255 "$P" >/dev/null || vg_fail "raw UDP failed"
# (lwIP itself drops most of these; whatever reaches the forwarder is counted)
[ "$(fwd_stat udp_total)" = 0 ] || vg_fail "a martian got a UDP mapping"
[ "$(fwd_stat tcp_total)" = 0 ] || vg_fail "a martian got a TCP flow"
[ ! -s "$VG_TMP/hits" ] || vg_fail "the loopback server was reached: $(cat "$VG_TMP/hits")"
# logged at the first drop, not at each (at most one line per 10 s)
n=$(grep -c 'forwarder: dropped guest \(tcp\|udp\|icmp\) to martian destination' "$VG_LOG" || true)
[ "$n" -ge 1 ] && [ "$n" -le 3 ] || vg_fail "martian drops logged $n times"
# the policy itself still stands for the address dialled: 127.0.0.1 denied
out=$(vg_ns python3 "$RAW" syn 192.168.127.254 "$P") || vg_fail "raw SYN failed"
[ "$out" = rst ] || vg_fail "SYN to the host alias: $out, expected rst (denied)"
[ "$(fwd_stat tcp_denied)" = 1 ] || vg_fail "host alias not denied"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
