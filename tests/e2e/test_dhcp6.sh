#!/usr/bin/env bash
# test_dhcp6.sh - issue 14 item 1, the DHCPv6 server, with two real clients
# in a namespace guest:
#  - ISC dhclient -6 -S (stateless, Information-Request) gets the gateway's
#    PREFIX::1 as DNS server and the --dhcp-search list; its script writes
#    them to a resolv file under the test's temp dir;
#  - rdisc6 sees the M and O flags in vgate's Router Advertisement;
#  - dhcpcd -6 (stateful) gets an IA_NA
#    address PREFIX::1xx, configures it on tap0, and the lease shows in
#    GET /leases beside the IPv4 one, with the guest's MAC; /stats counts
#    the exchange.
# Nothing on the host is touched: every lease, DUID, pid and resolv file
# is under $VG_TMP, dhcpcd runs with its own config and hook script and
# with tmpfs over its database and run directories (in the mount namespace
# of ip netns exec). Bounded: each client is given at most 15 s.
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/api_lib.sh
source "$(dirname "$0")/api_lib.sh"

prefix=fd00:7661:7465
sock=$VG_TMP/api.sock
vg_start --api "unix://$sock" --dhcp-search "vgate.internal example.test"

# IPv6 on tap0 again, without kernel SLAAC: the addresses checked below
# are DHCPv6's only
vg_ipv6_up 0

# --- stateless: dhclient -6 -S ---
vg_log "dhclient -6 -S (Information-Request)"
cat >"$VG_TMP/dhclient.conf" <<'EOF'
request dhcp6.name-servers, dhcp6.domain-search;
EOF
cat >"$VG_TMP/dhclient-script" <<EOS
#!/bin/sh
# writes what the DHCPv6 server said, as a resolv file, under the test dir
case "\$reason" in
INFORM6|BOUND6|RENEW6|REBIND6)
	{
		for d in \$new_dhcp6_name_servers; do echo "nameserver \$d"; done
		[ -n "\$new_dhcp6_domain_search" ] && echo "search \$new_dhcp6_domain_search"
	} >"$VG_TMP/resolv6.tmp"
	mv "$VG_TMP/resolv6.tmp" "$VG_TMP/resolv6.conf"
	;;
esac
exit 0
EOS
chmod +x "$VG_TMP/dhclient-script"
vg_ns timeout 15 dhclient -6 -S -1 -v -cf "$VG_TMP/dhclient.conf" -sf "$VG_TMP/dhclient-script" \
	-lf "$VG_TMP/dhclient6.leases" -pf "$VG_TMP/dhclient6.pid" -df "$VG_TMP/dhclient6.duid" \
	tap0 >"$VG_TMP/dhclient.out" 2>&1 || vg_fail "dhclient -6 -S: $(cat "$VG_TMP/dhclient.out")"
vg_wait_for 5 test -s "$VG_TMP/resolv6.conf" ||
	vg_fail "dhclient's script wrote no resolv file: $(cat "$VG_TMP/dhclient.out")"
if [ -s "$VG_TMP/dhclient6.pid" ]; then
	kill "$(cat "$VG_TMP/dhclient6.pid")" 2>/dev/null || true
fi
resolv=$(cat "$VG_TMP/resolv6.conf")
grep -qx "nameserver $prefix::1" <<<"$resolv" || vg_fail "DNS server from DHCPv6: $resolv"
grep -Eqx "search vgate.internal.? example.test.?" <<<"$resolv" ||
	vg_fail "domain search list from DHCPv6: $resolv"

# the RA tells the guest to use DHCPv6 for addresses (M) and the rest (O)
vg_ns timeout 10 rdisc6 -1 -w 2000 -r 3 tap0 >"$VG_TMP/rdisc6.out" 2>&1 ||
	vg_fail "rdisc6 got no RA: $(cat "$VG_TMP/rdisc6.out")"
ra=$(cat "$VG_TMP/rdisc6.out")
grep -Eq "Stateful address conf\. +: +Yes" <<<"$ra" || vg_fail "RA without the M flag: $ra"
grep -Eq "Stateful other conf\. +: +Yes" <<<"$ra" || vg_fail "RA without the O flag: $ra"

# --- stateful: dhcpcd -6 ---
vg_log "dhcpcd -6 (IA_NA)"
cat >"$VG_TMP/dhcpcd.conf" <<'EOF'
# IPv6 only, an IA_NA address; no hooks of the host's (hostname, resolv.conf, ntp)
ipv6only
ipv6rs
persistent
ia_na 1
option dhcp6_name_servers, dhcp6_domain_search
nohook resolv.conf, hostname, ntp
EOF
cat >"$VG_TMP/dhcpcd-hook" <<EOS
#!/bin/sh
echo "\$reason" >>"$VG_TMP/hook.log"
case "\$reason" in
BOUND6|REBOOT6|RENEW6|REBIND6)
	env | grep -E '^(reason|interface|new_dhcp6_)' >"$VG_TMP/dhcpcd.tmp"
	mv "$VG_TMP/dhcpcd.tmp" "$VG_TMP/dhcpcd.env"
	;;
esac
exit 0
EOS
chmod +x "$VG_TMP/dhcpcd-hook"
vg_ns sh -c "mkdir -p /var/lib/dhcpcd /run/dhcpcd &&
	mount -t tmpfs tmpfs /var/lib/dhcpcd && mount -t tmpfs tmpfs /run/dhcpcd &&
	exec timeout 30 dhcpcd -6 -B -t 12 -f '$VG_TMP/dhcpcd.conf' -c '$VG_TMP/dhcpcd-hook' tap0" \
	>"$VG_TMP/dhcpcd.out" 2>&1 &
dhcpcd_pid=$!
VG_CLEANUP_PIDS+=("$dhcpcd_pid")
vg_wait_for 15 test -s "$VG_TMP/dhcpcd.env" || vg_fail "dhcpcd got no lease: $(cat "$VG_TMP/dhcpcd.out") hooks: $(cat "$VG_TMP/hook.log" 2>&1)"
env6=$(cat "$VG_TMP/dhcpcd.env")
addr=$(sed -n 's/^new_dhcp6_ia_na1_ia_addr1=//p' <<<"$env6")
[[ $addr == "$prefix::1"[0-9a-f][0-9a-f] ]] || vg_fail "IA_NA address '$addr': $env6"
grep -qx "new_dhcp6_name_servers=$prefix::1" <<<"$env6" || vg_fail "dhcpcd DNS: $env6"
addr_on() { vg_ns ip -6 addr show dev tap0 | grep -q "inet6 $addr/"; }
vg_wait_for 5 addr_on || vg_fail "$addr not on tap0: $(vg_ns ip -6 addr show dev tap0)"

vg_log "dhcpcd bound $addr"
# the lease in /leases, beside the IPv4 one, with the guest's MAC
mac=$(vg_ns cat /sys/class/net/tap0/address)
expect 200 GET /leases
mv "$VG_TMP/body" "$VG_TMP/leases.json"
expect 200 GET /stats
# one python for both (its start-up is seconds on a loaded machine)
jq_py "
ls = json.load(open('$VG_TMP/leases.json'))['leases']
v6 = [l for l in ls if l['ip'] == '$addr']
assert len(v6) == 1 and v6[0]['state'] == 'bound' and v6[0]['mac'] == '$mac', ls
assert v6[0]['expires_in'] > 3000, v6
assert any(l['ip'] == '$(vg_lease_var ip)' for l in ls), ls
s = d['dhcp6']
assert s['inform'] >= 1 and s['solicit'] >= 1 and s['request'] >= 1, s
assert s['reply'] >= 2 and s['advertise'] >= 1 and s['bad'] == 0, s
"
expect 200 GET /metrics
grep -q '^vgate_dhcp6_messages_total{type="request"} [1-9]' "$VG_TMP/body" ||
	vg_fail "no DHCPv6 request counted in /metrics"

kill "$dhcpcd_pid" 2>/dev/null || true
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
