#!/bin/bash
# test_ping_allowlist.sh - ping with the SNI allowlist on (issue 14, item
# 7): only destinations an --allow-dest rule names get through. vgate runs
# in a private host namespace with 192.0.2.10, 192.0.2.20 and 2001:db8::10,
# ::20 on its lo, all inside the outbound policy; the allowlist holds one
# name, and --allow-dest names 192.0.2.10/icmp and 2001:db8::10 (no port:
# every protocol). busybox ping from the guest gets replies from those two;
# 192.0.2.20, 2001:db8::20 and the host alias (allowed by the policy, not by
# --allow-dest) get none, counted in icmp_filtered, and open no flow: a
# rule with a port (192.0.2.20:80) does not let ping through.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

GUEST6=fd00:7661:7465::2
vg_hostns 192.0.2.10 192.0.2.20 2001:db8::10 2001:db8::20
vg_start --outbound-allow 192.0.2.0/24 --outbound-allow 2001:db8::/32 --outbound-allow ::1/128 \
	--allow-sni allowed.test --allow-dest 192.0.2.10/icmp --allow-dest 2001:db8::10 \
	--allow-dest 192.0.2.20:80
vg_ipv6_static "$GUEST6"

# ping_out DST [ARGS]: busybox ping's output (2 requests) and its status
ping_out() {
	local dst=$1
	shift
	vg_ns busybox ping -c 2 -i 0.2 -W 2 "$@" "$dst" 2>&1
}

out=$(ping_out 192.0.2.10) || vg_fail "ping 192.0.2.10 (allowed): $out"
out=$(ping_out 2001:db8::10 -6) || vg_fail "ping 2001:db8::10 (allowed): $out"
vg_log "the --allow-dest destinations answer"

f0=$(fwd_stat icmp_filtered)
for dst in 192.0.2.20 192.168.127.254; do
	if out=$(ping_out "$dst"); then vg_fail "ping $dst answered with the allowlist on: $out"; fi
done
for dst in 2001:db8::20 fd00:7661:7465::254; do
	if out=$(ping_out "$dst" -6); then vg_fail "ping $dst answered with the allowlist on: $out"; fi
done
f1=$(fwd_stat icmp_filtered)
[ "$f1" -ge $((f0 + 8)) ] || vg_fail "icmp_filtered $f0 -> $f1 (8 requests refused)"
[ "$(fwd_stat icmp_total)" = 2 ] || vg_fail "icmp_total $(fwd_stat icmp_total): refused pings opened flows"
vg_log "other destinations refused: icmp_filtered $f0 -> $f1"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
