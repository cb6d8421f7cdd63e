#!/bin/bash
# test_forward_policy.sh - the outbound policy: with --outbound-deny
# 127.0.0.1/32 (more specific than lib.sh's allow 127.0.0.0/8), a TCP flow
# to the host alias is refused at once although a server listens, a UDP
# datagram gets ICMP unreachable, and both are counted; --max-flows bounds
# concurrent TCP flows (over the limit: refused, counted).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

vg_start --outbound-deny 127.0.0.1/32
HTTP=$(fwd_port 0)
mkdir -p "$VG_TMP/www" && echo hi >"$VG_TMP/www/x"
vg_bg python3 -m http.server --bind 127.0.0.1 --directory "$VG_TMP/www" "$HTTP" >/dev/null 2>&1
vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HTTP" || vg_fail "server did not start"

# "at once": the guest's first SYN gets the RST, no SYN is retransmitted
# (vg_syn_retrans; a wall-clock bound failed under CPU load); curl exit 7
# (refused, not 28 timed out) and one tcp_denied say vgate's policy refused
r0=$(vg_syn_retrans)
t0=$(date +%s%N)
rc=0
vg_ns curl -sS --max-time 5 "http://192.168.127.254:$HTTP/x" >/dev/null 2>&1 || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
r1=$(vg_syn_retrans)
[ "$rc" = 7 ] || vg_fail "denied: curl exit $rc, expected 7"
[ -n "$r0" ] && [ "$r1" = "$r0" ] || vg_fail "denied: refused only after $((r1 - r0)) SYN retransmissions ($ms ms)"
[ "$(fwd_stat tcp_denied)" = 1 ] || vg_fail "tcp_denied not counted"
vg_log "denied TCP refused in $ms ms (no SYN retransmitted), counted"

out=$(vg_ns python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.connect(("192.168.127.254", 9)); s.send(b"x")
try:
    s.recv(10); print("answer")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("unreachable")')
[ "$out" = unreachable ] || vg_fail "denied UDP: $out"
[ "$(fwd_stat udp_denied)" = 1 ] || vg_fail "udp_denied not counted"
[ "$(fwd_stat udp_total)" = 0 ] || vg_fail "a denied UDP flow got a mapping"
vg_log "denied UDP: ICMP unreachable, counted"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
