#!/usr/bin/env bash
# test_link.sh - foundation end to end, in a network namespace on a TAP:
# busybox udhcpc gets 192.168.127.2/24 with router and DNS 192.168.127.1 and
# the MTU option (honoured on the interface), ping reaches the gateway, and a
# TCP connection to an arbitrary TEST-NET address (203.0.113.7:5000) is
# terminated by vgate and round-trips bytes through its test echo behaviour.
source "$(dirname "$0")/lib.sh"

vg_start --debug-tcp-echo --mtu 1400 --dhcp-domain vgate.internal

[ "$(vg_lease_var ip)" = 192.168.127.2 ] || vg_fail "lease ip: $(cat "$VG_LEASE")"
[ "$(vg_lease_var mask)" = 24 ] || vg_fail "lease mask: $(vg_lease_var mask)"
[ "$(vg_lease_var router)" = 192.168.127.1 ] || vg_fail "router: $(vg_lease_var router)"
[ "$(vg_lease_var dns)" = 192.168.127.1 ] || vg_fail "dns: $(vg_lease_var dns)"
[ "$(vg_lease_var mtu)" = 1400 ] || vg_fail "mtu option: $(vg_lease_var mtu)"
[ "$(vg_lease_var domain)" = vgate.internal ] || vg_fail "domain: $(vg_lease_var domain)"
vg_ns ip link show tap0 | vg_has "mtu 1400" || vg_fail "MTU not applied to tap0"
vg_ns ip -4 addr show tap0 | vg_has "192.168.127.2/24" || vg_fail "address not configured"

vg_ns busybox ping -c 3 -W 2 192.168.127.1 >"$VG_TMP/ping.out" ||
	vg_fail "ping: $(cat "$VG_TMP/ping.out")"
grep -q "3 packets received" "$VG_TMP/ping.out" || vg_fail "ping lost packets"

# TCP to an address that exists nowhere: vgate terminates it itself
out=$(echo "hello through vgate" | vg_ns timeout 10 nc -N 203.0.113.7 5000) ||
	vg_fail "tcp echo to 203.0.113.7:5000 failed"
[ "$out" = "hello through vgate" ] || vg_fail "echo returned '$out'"

# a larger transfer both ways keeps every byte (backpressure, window updates)
head -c 3000000 /dev/urandom >"$VG_TMP/blob"
vg_ns timeout 30 nc -N 198.51.100.20 443 <"$VG_TMP/blob" >"$VG_TMP/blob.back" ||
	vg_fail "large echo failed"
cmp -s "$VG_TMP/blob" "$VG_TMP/blob.back" ||
	vg_fail "echoed bytes differ ($(stat -c %s "$VG_TMP/blob.back") of 3000000)"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
