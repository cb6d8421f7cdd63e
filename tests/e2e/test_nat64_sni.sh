#!/bin/bash
# test_nat64_sni.sh - issue 14 item 6 with the SNI allowlist: NAT64 + DNS64
# (--nat64) for an IPv6-only guest (IPv4 flushed, DNS at PREFIX::1 only).
# The test DNS upstream (sni_servers.py via vg_tls_servers, on $VG_LO.5)
# answers A only: allowed.test and fresh.test → $VG_LO.2, other.test →
# $VG_LO.3, evil.test → $VG_LO.4; TLS servers with a test certificate on
# each of those :443 count the connections they accept. The allowlist holds
# allowed.test and fresh.test. Checks: AAAA allowed.test is the synthesized
# 64:ff9b::$VG_LO.2 and curl -6 to it works; the allowed SNI sent to
# 64:ff9b::$VG_LO.4 (an address vgate's DNS did not hand out for the name)
# is reset and that server never sees a connection (ip_mismatch); a name off
# the list gets NXDOMAIN for AAAA and its flow is reset; an allowed name the
# guest never resolved is resolved by vgate itself (its A record vouches for
# the synthesized address) and allowed.
source "$(dirname "$0")/lib.sh"
GW6=fd00:7661:7465::1
GUEST6=fd00:7661:7465::2

vg_tls_servers "$VG_LO.5" 30 allowed.test="$VG_LO.2" fresh.test="$VG_LO.2" \
	other.test="$VG_LO.3" evil.test="$VG_LO.4"
printf 'allowed.test\nfresh.test\n' >"$VG_TMP/allow.txt"
vg_start --nat64 --dns-upstream "$VG_LO.5:$(cat "$VG_TMP/dnsport")" \
	--allowlist-file "$VG_TMP/allow.txt" --sni-timeout 3s
vg_ipv6_static "$GUEST6"
vg_ns ip -4 addr flush dev tap0
echo "nameserver $GW6" >"/etc/netns/$VG_NS/resolv.conf"

# nat64 IPV4: the 64:ff9b::/96 address of IPV4, as dig prints it
nat64() { python3 -c 'import ipaddress, sys; print(ipaddress.ip_address("64:ff9b::" + sys.argv[1]))' "$1"; }
aaaa() { vg_ns dig +short +tries=1 +time=3 "@$GW6" "$1" AAAA; }

# 1. an allowed name at the synthesized AAAA
IP=$(aaaa allowed.test)
[ "$IP" = "$(nat64 "$VG_LO.2")" ] || vg_fail "allowed.test AAAA: '$IP', expected $(nat64 "$VG_LO.2")"
got=$(vg_tls allowed.test "$IP") || vg_fail "curl -6 https://allowed.test at $IP failed"
[ "$got" = "hello from $VG_LO.2" ] || vg_fail "allowed.test through NAT64: got '$got'"
vg_log "allowed name at its synthesized AAAA $IP ok"

# 2. the allowed SNI to another NAT64 address: reset, server untouched
BAD=$(nat64 "$VG_LO.4")
if vg_tls allowed.test "$BAD" 2>"$VG_TMP/err"; then vg_fail "allowed SNI to $BAD passed"; fi
vg_has -iE 'reset|SSL_ERROR_SYSCALL|Connection' <"$VG_TMP/err" ||
	vg_fail "not a reset: $(cat "$VG_TMP/err")"
vg_wait_for 5 grep -q "blocked tcp $GUEST6:[0-9]* -> $BAD:443 name=allowed.test reason=ip_mismatch" \
	"$VG_LOG" || vg_fail "no log line for the ip_mismatch block"
[ "$(vg_tls_accepted "$VG_LO.4")" -eq 0 ] || vg_fail "server $VG_LO.4 saw a connection"
vg_log "allowed SNI to a NAT64 address not handed out for it: reset, server untouched"

# 3. a name off the list: NXDOMAIN for AAAA, and reset at its NAT64 address
st=$(vg_ns dig +tries=1 +time=3 "@$GW6" other.test AAAA | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
[ "$st" = NXDOMAIN ] || vg_fail "other.test AAAA: status '$st'"
OFF=$(nat64 "$VG_LO.3")
if vg_tls other.test "$OFF" 2>/dev/null; then vg_fail "other.test passed through NAT64"; fi
vg_wait_for 5 grep -q "blocked tcp $GUEST6:[0-9]* -> $OFF:443 name=other.test reason=sni_not_allowed" \
	"$VG_LOG" || vg_fail "no sni_not_allowed log line"
[ "$(vg_tls_accepted "$VG_LO.3")" -eq 0 ] || vg_fail "server $VG_LO.3 saw a connection"
vg_log "name off the list: NXDOMAIN for AAAA and reset"

# 4. an allowed name the guest never resolved: vgate resolves it itself
res0=$(vg_sni_stat resolves)
got=$(vg_tls fresh.test "$(nat64 "$VG_LO.2")") || vg_fail "fresh.test through NAT64 failed"
[ "$got" = "hello from $VG_LO.2" ] || vg_fail "fresh.test: got '$got'"
res1=$(vg_sni_stat resolves)
[ "$res1" -gt "$res0" ] || vg_fail "vgate did not resolve fresh.test itself ($res0 -> $res1)"
vg_log "an allowed name never resolved by the guest: resolved by vgate, its A vouches for NAT64"
vg_pass
