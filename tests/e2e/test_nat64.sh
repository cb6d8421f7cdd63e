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
#  PTR (RFC 6147 5.3.1): with --nat64, dig -x 64:ff9b::7f00:1 is answered
#     with a CNAME to 1.0.0.127.in-addr.arpa and that name's PTR from the
#     upstream (which is asked only for the in-addr.arpa name), also through
#     getent (glibc); 64:ff9b::a01:203 (an in-addr.arpa name the upstream
#     says is NXDOMAIN) is NXDOMAIN with the CNAME; 64:ff9b::c0a8:7f01
#     (the gateway) comes from vgate's static PTR; without --nat64 the
#     ip6.arpa name goes upstream as it is.
#  6. DNS64 on stale answers: with a 2 s cap, v4stale.test's AAAA answer is
#     synthesized, a prefetch caches its NODATA, then the upstream stops and
#     both entries expire: the stale answer is still the synthesized
#     64:ff9b::7f00:2 (EDE Stale Answer), not the NODATA.
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
	--record v4only.test=127.0.0.1 --record alias4.test=192.168.127.254 \
	--record v4stale.test=127.0.0.2 \
	--ptr 1.0.0.127.in-addr.arpa=localhost.v4.test --ptr 3.2.1.10.in-addr.arpa=NXDOMAIN
UPPID=$!
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

# PTR synthesis
R6=1.0.0.0.0.0.f.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa
out=$(q +short -x 64:ff9b::7f00:1) || vg_fail "dig -x 64:ff9b::7f00:1 failed"
[ "$out" = "$(printf '1.0.0.127.in-addr.arpa.\nlocalhost.v4.test.')" ] ||
	vg_fail "PTR of 64:ff9b::7f00:1: '$out', expected the CNAME and localhost.v4.test."
[ "$(count 1.0.0.127.in-addr.arpa 12)" = 1 ] && [ "$(count $R6 12)" = 0 ] ||
	vg_fail "upstream saw PTR $(count 1.0.0.127.in-addr.arpa 12) for the IPv4 name, $(count $R6 12) for ip6.arpa"
out=$(vg_ns getent hosts 64:ff9b::7f00:1) || vg_fail "getent hosts 64:ff9b::7f00:1 failed"
grep -q 'localhost\.v4\.test' <<<"$out" || vg_fail "getent hosts 64:ff9b::7f00:1: '$out'"
out=$(q -x 64:ff9b::a01:203) || vg_fail "dig -x 64:ff9b::a01:203 failed"
grep -q 'status: NXDOMAIN' <<<"$out" || vg_fail "PTR of 64:ff9b::a01:203 not NXDOMAIN: $out"
grep -qE "^3\.0\.2\.0\.1\.0\.a\.0\..*ip6\.arpa\.[[:space:]].*CNAME[[:space:]]+3\.2\.1\.10\.in-addr\.arpa\.\$" <<<"$out" ||
	vg_fail "NXDOMAIN PTR without the CNAME from the query name: $out"
out=$(q +short -x 64:ff9b::c0a8:7f01) || vg_fail "dig -x 64:ff9b::c0a8:7f01 failed"
[ "$(head -n1 <<<"$out")" = 1.127.168.192.in-addr.arpa. ] && grep -q '^gateway\.' <<<"$out" ||
	vg_fail "PTR of the gateway's NAT64 address: '$out'"
[ "$(count 1.127.168.192.in-addr.arpa 12)" = 0 ] || vg_fail "the gateway's PTR went upstream"
vg_log "DNS64 PTR: ip6.arpa of 64:ff9b::/96 answered by CNAME + the in-addr.arpa PTR, NXDOMAIN kept"

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
out=$(q +short -x 64:ff9b::7f00:1) || vg_fail "dig -x 64:ff9b::7f00:1 without --nat64 failed"
[ "$out" = ptr.test. ] && [ "$(count $R6 12)" = 1 ] ||
	vg_fail "PTR without --nat64: '$out', upstream saw the ip6.arpa name $(count $R6 12) times"
vg_log "without --nat64: NODATA, 64:ff9b::/96 is an IPv6 address the policy denies, no PTR synthesis"

# 6. DNS64 on stale answers
vg_stop
rm -f "$sock"
vg_start --nat64 --dns-upstream "$UP4:$DNSP" --dns-max-ttl 2 --api "unix://$sock"
guest_v6only
out=$(q +short v4stale.test AAAA) || vg_fail "dig AAAA v4stale.test failed"
[ "$out" = 64:ff9b::7f00:2 ] || vg_fail "AAAA v4stale.test: '$out'"
# hits until one past half the TTL prefetches the AAAA (its NODATA is cached)
for _ in $(seq 1 40); do
	[ "$(count v4stale.test 28)" -ge 2 ] && break
	sleep 0.1
	q +short v4stale.test AAAA >/dev/null || vg_fail "dig AAAA v4stale.test (hit) failed"
done
vg_wait_for 5 test "$(count v4stale.test 28)" -ge 2 || vg_fail "no prefetch of the AAAA"
kill "$UPPID"
# stale: both the A and the AAAA entries expired (negative ttl in /dns/cache)
stale_both() {
	curl -sS --max-time 5 --unix-socket "$sock" -o "$VG_TMP/cache" http://vgate/dns/cache &&
		python3 -c "import json,sys; d=json.load(open('$VG_TMP/cache'))
e = [x for x in d['entries'] if x['name'] == 'v4stale.test' and x['stale']]
sys.exit(0 if len(e) == 2 else 1)"
}
vg_wait_for 10 stale_both || vg_fail "the v4stale.test entries did not expire: $(cat "$VG_TMP/cache")"
out=$(q +time=5 v4stale.test AAAA) || vg_fail "dig AAAA v4stale.test (stale) failed"
grep -q 'status: NOERROR' <<<"$out" && grep -q 'ANSWER: 1,' <<<"$out" ||
	vg_fail "stale AAAA v4stale.test not synthesized: $out"
grep -qE 'AAAA[[:space:]]+64:ff9b::7f00:2$' <<<"$out" || vg_fail "stale AAAA v4stale.test: $out"
grep -q 'EDE: 3' <<<"$out" || vg_fail "stale AAAA v4stale.test without EDE Stale Answer: $out"
vg_log "DNS64 on a stale NODATA: synthesized from the stale A (EDE Stale Answer)"
vg_pass
