#!/bin/bash
# test_dns6.sh - issue 14 item 4: DNS over IPv6. The guest (a static address
# in the default prefix fd00:7661:7465::/64, default route via fe80::1) asks
# vgate's DNS at PREFIX::1, the address RA and DHCPv6 advertise, with dig;
# vgate's upstream is a counting test server on [::1] (dns_upstream.py),
# an IPv4 one on 127.x behind it (--dns-max-ttl 300: no prefetch within
# the test, so each question reaches upstream exactly once).
#  1. dig AAAA and dig A over UDP to PREFIX::1 answer with the upstream's
#     data; the same questions again are answered from the cache: vgate's
#     dns hits go up by 2 and the [::1] upstream saw each question once
#     (the 127.x one never).
#  2. the same over TCP (+tcp), to a name of its own, also from the cache
#     the second time; dig to the link-local fe80::1%tap0 answers too.
#  3. curl to a dual-stack name (A 192.168.127.254, AAAA PREFIX::254: the
#     host aliases, i.e. 127.0.0.1 and ::1, where an HTTP server on each
#     says which family it is), resolved through PREFIX::1 only: curl
#     prefers IPv6 and gets "v6" from [::1].
#  4. with ::1/128 taken out of the outbound policy (PUT /policy), the same
#     curl falls back to IPv4 and gets "v4": the IPv6 SYN was refused at
#     once (tcp_denied counted, no SYN retransmitted), and the names still
#     resolve over IPv6 transport through the 127.x upstream.
#  5. the pcap (--pcap) holds the DNS queries and answers over IPv6.
# Before the DNS server listened on IPv6, step 1's dig timed out (ICMPv6
# port unreachable from lwIP) and the [::1] upstream was dropped as
# "outside the outbound policy".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

prefix=fd00:7661:7465
GW6=$prefix::1
HOST6=$prefix::254
GUEST6=$prefix::2
HERE=$(cd "$(dirname "$0")" && pwd)
UP4=127.0.0.$((100 + $$ % 100))
HTTP=$(vg_free_port)

# the upstreams: [::1] first, 127.x behind it, both with the dual-stack name
for a in ::1 "$UP4"; do
	vg_bg python3 "$HERE/dns_upstream.py" --addr "$a" --port-file "$VG_TMP/port.$a" \
		--count-file "$VG_TMP/counts.$a" --ttl 300 \
		--record dual.test=192.168.127.254 --record "dual.test=$HOST6"
done
for a in ::1 "$UP4"; do
	vg_wait_for 10 test -s "$VG_TMP/port.$a" || vg_fail "test upstream on $a did not start"
done
P6=$(cat "$VG_TMP/port.::1")
P4=$(cat "$VG_TMP/port.$UP4")

# an HTTP server on each loopback, same port, saying which family it is
mkdir -p "$VG_TMP/v6" "$VG_TMP/v4"
printf v6 >"$VG_TMP/v6/who"
printf v4 >"$VG_TMP/v4/who"
vg_bg python3 -m http.server --bind ::1 --directory "$VG_TMP/v6" "$HTTP" >/dev/null 2>&1
vg_bg python3 -m http.server --bind 127.0.0.1 --directory "$VG_TMP/v4" "$HTTP" >/dev/null 2>&1
for a in ::1 127.0.0.1; do
	vg_wait_for 10 bash -c "exec 3<>/dev/tcp/$a/$HTTP" || vg_fail "HTTP server on $a did not start"
done

sock=$VG_TMP/api.sock
pcap=$VG_TMP/guest.pcap
vg_start --outbound-allow ::1/128 --dns-upstream "[::1]:$P6" --dns-upstream "$UP4:$P4" \
	--dns-max-ttl 300 --api "unix://$sock" --pcap "$pcap"
source "$(dirname "$0")/api_lib.sh"

# the guest's IPv6: a static address, no DAD delays, default route via fe80::1
vg_ipv6_static "$GUEST6"
# the guest's resolver: vgate over IPv6 only
echo "nameserver $GW6" >"/etc/netns/$VG_NS/resolv.conf"

# count ADDR NAME TYPE: queries the upstream on ADDR saw for (NAME, numeric TYPE)
count() {
	awk -v n="$2" -v t="$3" '$1 == n && $2 == t { print $3; f = 1 } END { if (!f) print 0 }' \
		"$VG_TMP/counts.$1"
}
# q ARGS...: dig +short over IPv6 to the gateway
q() { vg_ns dig "@$GW6" +time=3 +tries=1 +short "$@"; }

# cached_pair NAME [DIGOPT]: AAAA and A for NAME over IPv6 (UDP, or DIGOPT
# such as +tcp), then both again from the cache; the [::1] upstream sees one
# query of each type
cached_pair() {
	local name=$1 aaaa a h0 h1 t
	shift
	aaaa=$(q "$@" "$name" AAAA) || vg_fail "dig $* AAAA $name @$GW6 failed"
	grep -q '^fd00::' <<<"$aaaa" || vg_fail "dig $* AAAA $name @$GW6: '$aaaa'"
	a=$(q "$@" "$name" A) || vg_fail "dig $* A $name @$GW6 failed"
	grep -q '^10\.' <<<"$a" || vg_fail "dig $* A $name @$GW6: '$a'"
	h0=$(api_counter dns_cache_hits)
	[ "$(q "$@" "$name" AAAA)" = "$aaaa" ] || vg_fail "second $* AAAA $name differs"
	[ "$(q "$@" "$name" A)" = "$a" ] || vg_fail "second $* A $name differs"
	h1=$(api_counter dns_cache_hits)
	[ "$h1" -ge $((h0 + 2)) ] || vg_fail "$* AAAA/A $name again not from the cache: hits $h0 -> $h1"
	for t in 28 1; do
		[ "$(count ::1 "$name" $t)" = 1 ] ||
			vg_fail "[::1] upstream saw $(count ::1 "$name" $t) type-$t queries for $name, expected 1"
	done
	vg_log "dig${*:+ $*} AAAA and A $name over IPv6 ok, the second ones from the cache (hits $h0 -> $h1)"
}

# 1. UDP: AAAA and A, then both from the cache
cached_pair www6.example.test
[ "$(count "$UP4" www6.example.test 28)" = 0 ] || vg_fail "the IPv4 upstream was asked"

# 2. TCP, then the link-local gateway address
cached_pair tcp6.example.test +tcp
[ "$(api_counter dns_tcp_connections)" -ge 4 ] || vg_fail "DNS-over-TCP connections not counted"
ll=$(vg_ns dig @fe80::1%tap0 +time=3 +tries=1 +short ll6.example.test AAAA) ||
	vg_fail "dig @fe80::1%tap0 failed"
grep -q '^fd00::' <<<"$ll" || vg_fail "dig @fe80::1%tap0: '$ll'"
vg_log "the link-local gateway address fe80::1 answers"

# 3. a dual-stack name: curl prefers IPv6
out=$(vg_ns curl -sS --max-time 10 -w ' %{remote_ip}' "http://dual.test:$HTTP/who") ||
	vg_fail "curl to the dual-stack name failed"
[ "$out" = "v6 $HOST6" ] || vg_fail "dual-stack curl: '$out', expected 'v6 $HOST6'"
vg_log "curl to a dual-stack name went over IPv6"

# 4. IPv6 out of the policy: curl falls back to IPv4, the IPv6 SYN refused at once
expect 200 PUT /policy '{"outbound-allow":["127.0.0.0/8"]}'
d0=$(fwd_stat tcp_denied)
r0=$(vg_syn_retrans)
out=$(vg_ns curl -sS --max-time 10 -w ' %{remote_ip}' "http://dual.test:$HTTP/who") ||
	vg_fail "curl with IPv6 denied did not fall back to IPv4"
r1=$(vg_syn_retrans)
d1=$(fwd_stat tcp_denied)
[ "$out" = "v4 192.168.127.254" ] || vg_fail "curl with IPv6 denied: '$out', expected 'v4 192.168.127.254'"
[ "$d1" -gt "$d0" ] || vg_fail "the IPv6 attempt was not denied by the policy (tcp_denied $d0 -> $d1)"
[ "$r1" = "$r0" ] || vg_fail "the IPv6 SYN was retransmitted ($r0 -> $r1): not refused at once"
# the names still resolve over IPv6 transport, now through the IPv4 upstream
a=$(q fallback.example.test A) || vg_fail "dig A @$GW6 after the policy change failed"
grep -q '^10\.' <<<"$a" || vg_fail "dig A @$GW6 after the policy change: '$a'"
[ "$(count "$UP4" fallback.example.test 1)" = 1 ] || vg_fail "the IPv4 upstream did not answer"
[ "$(count ::1 fallback.example.test 1)" = 0 ] || vg_fail "the denied [::1] upstream was asked"
vg_log "with IPv6 denied, curl fell back to IPv4 at the first RST"

# 5. the pcap holds the IPv6 DNS exchange (written out at exit)
kill -TERM "$VG_PID"
vg_wait_for 10 bash -c "! kill -0 $VG_PID" || vg_fail "vgate did not exit on SIGTERM"
VG_PID=""
n=$(tshark -r "$pcap" -Y "ipv6.dst == $GW6 && dns.qry.name == \"www6.example.test\"" 2>/dev/null | wc -l)
[ "$n" -ge 4 ] || vg_fail "pcap: $n DNS queries over IPv6, expected 4"
n=$(tshark -r "$pcap" -Y "ipv6.src == $GW6 && dns.flags.response == 1" 2>/dev/null | wc -l)
[ "$n" -ge 4 ] || vg_fail "pcap: $n DNS answers from $GW6"
vg_log "pcap holds the DNS exchange over IPv6"
vg_pass
