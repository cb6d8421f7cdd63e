#!/bin/bash
# test_nat64.sh - issue 14 item 6: NAT64 + DNS64 (--nat64) for an IPv6-only
# guest. The guest's IPv4 address is flushed after vg_start; it has a static
# address in the default prefix and vgate's DNS at PREFIX::1 only. vgate's
# upstream is a test DNS (dns_upstream.py) on a 127.0.0.x address, where
# v4only.test has just A 127.0.0.1 and alias4.test just A 192.168.127.254
# (the host alias); other names have AAAA fd00::N, "nx" names are NXDOMAIN.
#  1. dig AAAA v4only.test gives the synthesized 64:ff9b::7f00:1, alias4.test
#     64:ff9b::c0a8:7ffe; a name with AAAA gets it unchanged; NXDOMAIN stays;
#     the second AAAA v4only.test comes from the cache; dns64_synth counted
#     in /metrics and /stats.
#  2. curl -6 http://v4only.test:PORT/ and http://alias4.test:PORT/ (the
#     host alias embedded, dialled at 127.0.0.1) download a 4 MB file from a
#     python http.server on 127.0.0.1 (sha256 checked).
#  3. UDP echo and ping -6 to 64:ff9b::127.0.0.1 (over IPv4 to 127.0.0.1);
#     UDP to a closed port there gets ICMPv6 port unreachable (ECONNREFUSED).
#  4. 64:ff9b::10.1.2.3 is outside the outbound policy (--outbound-allow
#     127.0.0.0/8 only): the connect is refused at once, tcp_denied counted.
#  5. vgate again without --nat64: AAAA v4only.test is NODATA, and a flow to
#     64:ff9b::127.0.0.1 is denied (an IPv6 address outside the policy).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

prefix=fd00:7661:7465
GW6=$prefix::1
GUEST6=$prefix::2
HERE=$(cd "$(dirname "$0")" && pwd)
UP4=127.0.0.$((100 + $$ % 100))
P=$(vg_free_port 3)
HTTP=$P ECHO=$((P + 1)) CLOSED=$((P + 2))

vg_bg python3 "$HERE/dns_upstream.py" --addr "$UP4" --port-file "$VG_TMP/dnsport" \
	--count-file "$VG_TMP/counts" --ttl 300 \
	--record v4only.test=127.0.0.1 --record alias4.test=192.168.127.254
vg_wait_for 10 test -s "$VG_TMP/dnsport" || vg_fail "test upstream did not start"
DNSP=$(cat "$VG_TMP/dnsport")

mkdir -p "$VG_TMP/www"
head -c 4M /dev/urandom >"$VG_TMP/www/big"
SUM=$(sha256sum <"$VG_TMP/www/big" | cut -d' ' -f1)
vg_bg python3 -m http.server --bind 127.0.0.1 --directory "$VG_TMP/www" "$HTTP" >/dev/null 2>&1
vg_bg python3 "$VG_SRC/tests/e2e/fwd_servers.py" udpecho 127.0.0.1 "$ECHO"
vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HTTP" || vg_fail "HTTP server did not start"

sock=$VG_TMP/api.sock
# guest_v6only: IPv6 in the prefix, no IPv4 address or route, DNS over IPv6
guest_v6only() {
	vg_ipv6_static "$GUEST6"
	vg_ns ip -4 addr flush dev tap0
	echo "nameserver $GW6" >"/etc/netns/$VG_NS/resolv.conf"
	[ -z "$(vg_ns ip -4 addr show dev tap0)" ] || vg_fail "the guest kept an IPv4 address"
}
vg_start --nat64 --dns-upstream "$UP4:$DNSP" --dns-max-ttl 300 --api "unix://$sock"
source "$(dirname "$0")/api_lib.sh"
guest_v6only

# count NAME TYPE: queries the upstream saw for (NAME, numeric TYPE)
count() {
	awk -v n="$1" -v t="$2" '$1 == n && $2 == t { print $3; f = 1 } END { if (!f) print 0 }' \
		"$VG_TMP/counts"
}
q() { vg_ns dig "@$GW6" +time=3 +tries=1 "$@"; }
# denied ADDR WHAT: curl -6 to [ADDR]:$HTTP is not answered, and the
# outbound policy counted it (tcp_denied)
denied() {
	local d0 d1
	d0=$(fwd_stat tcp_denied)
	if vg_ns curl -sS -6 --max-time 5 -o /dev/null "http://[$1]:$HTTP/" 2>/dev/null; then
		vg_fail "$2 was reached"
	fi
	d1=$(fwd_stat tcp_denied)
	[ "$d1" -gt "$d0" ] || vg_fail "$2 not denied by the policy (tcp_denied $d0 -> $d1)"
}

# 1. DNS64
out=$(q +short v4only.test AAAA) || vg_fail "dig AAAA v4only.test failed"
[ "$out" = "64:ff9b::7f00:1" ] || vg_fail "AAAA v4only.test: '$out', expected 64:ff9b::7f00:1"
[ "$(count v4only.test 28)" = 1 ] && [ "$(count v4only.test 1)" = 1 ] ||
	vg_fail "upstream saw AAAA $(count v4only.test 28), A $(count v4only.test 1) queries"
out=$(q +short alias4.test AAAA) || vg_fail "dig AAAA alias4.test failed"
[ "$out" = "64:ff9b::c0a8:7ffe" ] || vg_fail "AAAA alias4.test: '$out'"
out=$(q +short real6.test AAAA) || vg_fail "dig AAAA real6.test failed"
grep -q '^fd00::' <<<"$out" || vg_fail "AAAA real6.test: '$out', expected the real fd00:: record"
[ "$(count real6.test 1)" = 0 ] || vg_fail "an A query for a name with AAAA"
out=$(q nxname.test AAAA) || vg_fail "dig AAAA nxname.test failed"
grep -q 'status: NXDOMAIN' <<<"$out" || vg_fail "AAAA nxname.test not NXDOMAIN: $out"
s0=$(api_counter dns_dns64_synth)
out=$(q +short v4only.test AAAA) || vg_fail "second dig AAAA v4only.test failed"
[ "$out" = "64:ff9b::7f00:1" ] || vg_fail "second AAAA v4only.test: '$out'"
[ "$(count v4only.test 28)" = 1 ] || vg_fail "the second AAAA went upstream"
s1=$(api_counter dns_dns64_synth)
[ "$s1" -gt "$s0" ] && [ "$s0" -ge 2 ] || vg_fail "dns64_synth $s0 -> $s1"
expect 200 GET /stats
grep -q '"dns64_synth"' "$VG_TMP/body" || vg_fail "no dns64_synth in /stats"
vg_log "DNS64: A-only names synthesized (64:ff9b::), real AAAA and NXDOMAIN unchanged, cached"

# 2. NAT64 TCP: downloads over IPv6 from the IPv4-only server
for n in v4only.test alias4.test; do
	rm -f "$VG_TMP/got"
	vg_ns curl -sS -f -6 --max-time 20 -o "$VG_TMP/got" "http://$n:$HTTP/big" ||
		vg_fail "curl -6 http://$n:$HTTP/big failed"
	[ "$(sha256sum <"$VG_TMP/got" | cut -d' ' -f1)" = "$SUM" ] || vg_fail "download from $n corrupted"
done
out=$(vg_ns curl -sS -6 --max-time 10 -o /dev/null -w '%{remote_ip}' "http://v4only.test:$HTTP/big") ||
	vg_fail "curl for remote_ip failed"
[ "$out" = "64:ff9b::7f00:1" ] || vg_fail "curl went to '$out'"
vg_log "NAT64: 4 MB over IPv6 to 64:ff9b::7f00:1 and the embedded host alias, sha256 ok"

# 3. UDP and ping through NAT64
out=$(fwd_udp 64:ff9b::7f00:1 "$ECHO" echo) || vg_fail "UDP echo through NAT64: $out"
[ "$out" = "echo ok" ] || vg_fail "UDP echo through NAT64: $out"
out=$(fwd_udp 64:ff9b::7f00:1 "$CLOSED" closed) || vg_fail "UDP to a closed port through NAT64: $out"
[ "$out" = refused ] || vg_fail "UDP to a closed port through NAT64: '$out', expected refused (ICMPv6)"
out=$(vg_ns busybox ping -c 3 -i 0.2 -W 3 64:ff9b::7f00:1 2>&1) || vg_fail "ping 64:ff9b::7f00:1: $out"
grep -q '3 packets received' <<<"$out" || vg_fail "ping through NAT64: not all answered: $out"
vg_log "NAT64: UDP echo and ICMPv6 echo to 64:ff9b::7f00:1 ok"

# 4. the policy judges the embedded IPv4 address
denied 64:ff9b::a01:203 "64:ff9b::10.1.2.3 (outside the policy)"
vg_log "NAT64: the outbound policy judges the embedded address"

# 5. without --nat64
vg_stop
rm -f "$sock"
vg_start --dns-upstream "$UP4:$DNSP" --dns-max-ttl 300 --api "unix://$sock"
guest_v6only
out=$(q v4only.test AAAA) || vg_fail "dig AAAA v4only.test without --nat64 failed"
grep -q 'status: NOERROR' <<<"$out" && grep -q 'ANSWER: 0,' <<<"$out" ||
	vg_fail "AAAA v4only.test without --nat64 is not NODATA: $out"
denied 64:ff9b::7f00:1 "64:ff9b::127.0.0.1 without --nat64"
vg_log "without --nat64: NODATA, and 64:ff9b::/96 is an IPv6 address the policy denies"
vg_pass
