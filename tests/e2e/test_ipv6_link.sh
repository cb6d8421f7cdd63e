#!/usr/bin/env bash
# test_ipv6_link.sh - issue 14 item 1, the IPv6 link: a namespace guest with
# accept_ra=2 gets a SLAAC address in vgate's default prefix
# (fd00:7661:7465::/64) and a default route via fe80::1 from vgate's Router
# Advertisements; rdisc6 (a real RS/RA client) shows the prefix, the MTU,
# RDNSS (the gateway's ::1) and DNSSL (the --dhcp-search list); ping -6
# reaches the gateway at fe80::1%tap0 and at PREFIX::1; the guest's own
# addresses pass DAD (vgate leaves its probes unanswered: nothing is
# 'dadfailed'). Then the same guest against vgate --no-ipv6: no RA answers
# rdisc6 and the guest's IPv6 frames are counted in link.drop_ip6_off.
# Bounded: a few RS/RA exchanges and pings inside the test namespace.
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/api_lib.sh
source "$(dirname "$0")/api_lib.sh"

prefix=fd00:7661:7465
sock=$VG_TMP/api.sock
vg_start --api "unix://$sock" --dhcp-search "vgate.internal example.test"

# IPv6 on tap0 again, with accept_ra=2 (SLAAC from vgate's RAs)
vg_ipv6_up 2

# global_ready: a SLAAC address in the prefix that finished DAD
global_ready() {
	local a
	a=$(vg_ns ip -6 addr show dev tap0 scope global)
	grep -q "inet6 $prefix:0:" <<<"$a" && ! grep -q tentative <<<"$a"
}
vg_wait_for 20 global_ready ||
	vg_fail "no SLAAC address in $prefix::/64: $(vg_ns ip -6 addr show dev tap0)"
addrs=$(vg_ns ip -6 addr show dev tap0)
if grep -q dadfailed <<<"$addrs"; then
	vg_fail "DAD failed on the guest: $addrs"
fi
grep -q "inet6 fe80::" <<<"$addrs" || vg_fail "no link-local address: $addrs"
route=$(vg_ns ip -6 route show default)
grep -q "via fe80::1 dev tap0" <<<"$route" || vg_fail "default route: '$route'"

vg_ns timeout 10 rdisc6 -1 -w 2000 -r 3 tap0 >"$VG_TMP/rdisc6.out" 2>&1 ||
	vg_fail "rdisc6 got no RA: $(cat "$VG_TMP/rdisc6.out")"
ra=$(cat "$VG_TMP/rdisc6.out")
grep -Eq "Prefix +: $prefix::/64" <<<"$ra" || vg_fail "RA prefix: $ra"
grep -Eq "On-link +: +Yes" <<<"$ra" || vg_fail "RA prefix not on-link: $ra"
grep -Eq "Autonomous address conf.: +Yes" <<<"$ra" || vg_fail "RA prefix not for SLAAC: $ra"
grep -Eq "MTU +: +1500 bytes" <<<"$ra" || vg_fail "RA MTU: $ra"
grep -Eq "Recursive DNS server +: $prefix::1" <<<"$ra" || vg_fail "RA RDNSS: $ra"
grep -Eq "DNS search list +: vgate.internal example.test" <<<"$ra" || vg_fail "RA DNSSL: $ra"
grep -Eq "Stateful other conf. +: +Yes" <<<"$ra" || vg_fail "RA O flag: $ra"
grep -q "from fe80::1" <<<"$ra" || vg_fail "RA source: $ra"

for dst in fe80::1%tap0 "$prefix::1"; do
	vg_ns busybox ping -6 -c 3 -i 0.2 -W 2 "$dst" >"$VG_TMP/ping.out" 2>&1 ||
		vg_fail "ping -6 $dst: $(cat "$VG_TMP/ping.out")"
	grep -q "3 packets received" "$VG_TMP/ping.out" || vg_fail "ping -6 $dst lost packets"
done

expect 200 GET /stats
read -r echo dad defended < <(python3 -c "
import json; l = json.load(open('$VG_TMP/body'))['link']
print(l['icmp6_echo_replies'], l['nd_dad_seen'], l['nd_dad_defended'])")
[ "$echo" -ge 6 ] || vg_fail "icmp6_echo_replies $echo, expected 6"
[ "$dad" -ge 1 ] || vg_fail "the guest's DAD probes were not seen (nd_dad_seen $dad)"
[ "$defended" = 0 ] || vg_fail "a gateway address was defended against the guest ($defended)"
expect 200 GET /metrics
grep -q '^vgate_link_nd_sent_total{type="ra"} [1-9]' "$VG_TMP/body" ||
	vg_fail "no RA counted in /metrics: $(grep nd_sent "$VG_TMP/body")"

# the same guest against vgate --no-ipv6: no RA, frames counted as dropped
kill "$VG_PID"
vg_wait_for 10 bash -c "! kill -0 $VG_PID" || vg_fail "vgate did not exit"
sock=$VG_TMP/api2.sock
# shellcheck disable=SC2086 # VGATE_EXTRA_ARGS: e.g. --sandbox for a whole run
"$VGATE" --tap-netns "/run/netns/$VG_NS" --tap-name tap0 --no-ipv6 --api "unix://$sock" \
	--outbound-allow 127.0.0.0/8 --pid-file "$VG_TMP/vgate2.pid" ${VGATE_EXTRA_ARGS:-} \
	2>>"$VG_LOG" &
VG_PID=$!
vg_wait_for 10 test -s "$VG_TMP/vgate2.pid" || vg_fail "vgate --no-ipv6 did not become ready"
vg_ns sysctl -qw net.ipv6.conf.tap0.accept_ra=2
# the link-local address must be usable before rdisc6 can solicit
vg_wait_for 10 vg_ll_ready || vg_fail "no link-local address: $(vg_ns ip -6 addr show dev tap0)"
if vg_ns timeout 10 rdisc6 -1 -w 1500 -r 1 tap0 >"$VG_TMP/rdisc6.out" 2>&1; then
	vg_fail "an RA with --no-ipv6: $(cat "$VG_TMP/rdisc6.out")"
fi
expect 200 GET /stats
read -r off ra < <(python3 -c "
import json; l = json.load(open('$VG_TMP/body'))['link']
print(l['drop_ip6_off'], l['nd_ra_out'])")
[ "$off" -ge 2 ] || vg_fail "--no-ipv6: drop_ip6_off is $off (rdisc6 sent an RS)"
[ "$ra" = 0 ] || vg_fail "--no-ipv6: $ra RAs sent"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
