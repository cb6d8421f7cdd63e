#!/bin/bash
# test_ping.sh - ping to the outside, both families (issue 14, item 7).
# vgate runs in a private host namespace (vg_hostns) with 192.0.2.10 and
# 2001:db8::10 on its lo, and 198.51.100.20 outside the outbound policy. The
# guest (DHCP lease, static IPv6 in the prefix) runs busybox ping to the host
# aliases (the namespace's 127.0.0.1 and ::1) and to the test host, over
# IPv4 and IPv6: each gets its replies. First with the namespace's default
# net.ipv4.ping_group_range ("1 0": no ping sockets for anyone), so vgate
# falls back to raw sockets (icmp_raw counts them); then with the range
# opened, on ping sockets (icmp_raw stays). A destination the policy denies
# gets no reply and is counted (icmp_denied); a 1400-byte payload comes
# back intact (busybox checks it), and so do 3000- and 20000-byte payloads
# over both families (the request fragmented by the guest and reassembled
# by vgate, the reply fragmented by vgate at the link MTU).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

HOST6=fd00:7661:7465::254
GUEST6=fd00:7661:7465::2
vg_hostns 192.0.2.10 2001:db8::10 198.51.100.20
vg_hx sysctl -qw net.ipv4.ping_group_range="1 0"
vg_start --outbound-allow 192.0.2.0/24 --outbound-allow 2001:db8::/32 --outbound-allow ::1/128
vg_ipv6_static "$GUEST6"

# pings DST [ARGS]: 3 echo requests from the guest, all answered
pings() {
	local dst=$1 out
	shift
	out=$(vg_ns busybox ping -c 3 -i 0.2 -W 3 "$@" "$dst" 2>&1) || vg_fail "ping $dst: $out"
	case $out in
	*"3 packets received"*) ;;
	*) vg_fail "ping $dst: not all answered: $out" ;;
	esac
}

# 1. raw sockets
for dst in 192.168.127.254 192.0.2.10; do pings "$dst"; done
for dst in "$HOST6" 2001:db8::10; do pings "$dst" -6; done
pings 192.0.2.10 -s 1400
raw=$(fwd_stat icmp_raw)
[ "$raw" -ge 5 ] || vg_fail "icmp_raw $raw: the pings did not go out on raw sockets"
[ "$(fwd_stat icmp_pkts_in)" -ge 15 ] || vg_fail "icmp_pkts_in $(fwd_stat icmp_pkts_in) < 15"
vg_log "ping over raw sockets: IPv4 and IPv6, host aliases and test host ($raw flows)"

# 2. ping sockets
vg_hx sysctl -qw net.ipv4.ping_group_range="0 2147483647"
t0=$(fwd_stat icmp_total)
for dst in 192.168.127.254 192.0.2.10; do pings "$dst"; done
for dst in "$HOST6" 2001:db8::10; do pings "$dst" -6; done
t1=$(fwd_stat icmp_total)
[ "$t1" -ge $((t0 + 4)) ] || vg_fail "icmp_total $t0 -> $t1: no new flows"
[ "$(fwd_stat icmp_raw)" = "$raw" ] || vg_fail "icmp_raw moved ($raw -> $(fwd_stat icmp_raw)): not on ping sockets"
vg_log "ping over ping sockets: IPv4 and IPv6"
for size in 3000 20000; do
	pings 192.0.2.10 -s "$size"
	pings 2001:db8::10 -6 -s "$size"
done
vg_log "pings of 3000 and 20000 bytes, above the MTU, answered over IPv4 and IPv6"

# 3. denied by the outbound policy: nothing comes back, counted
d0=$(fwd_stat icmp_denied)
rc=0
out=$(vg_ns busybox ping -c 2 -i 0.2 -W 2 198.51.100.20 2>&1) || rc=$?
[ "$rc" != 0 ] || vg_fail "a denied destination answered: $out"
case $out in *" 0 packets received"*) ;; *) vg_fail "denied ping: $out" ;; esac
d1=$(fwd_stat icmp_denied)
[ "$d1" -ge $((d0 + 2)) ] || vg_fail "icmp_denied $d0 -> $d1"
vg_log "ping to a denied destination: no reply, icmp_denied $d0 -> $d1"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
