#!/usr/bin/env bash
# test_dns.sh - guest DNS through vgate (issue 3) against a counting test
# upstream on 127.0.0.x (tests/e2e/dns_upstream.py, TTL 300):
#  - dig A/AAAA/MX/TXT/SRV/PTR get the upstream data with TTL <= 5; +tcp works;
#    +bufsize=512 on a large answer gets TC and dig's TCP retry the full answer;
#    an answer over 1232 bytes makes vgate itself retry upstream over TCP
#  - static records (gateway.vgate.internal, --dns-record) with PTR
#  - 100 queries in a row: 1 cache miss, 99 hits, 1 upstream query (plus a
#    prefetch if the burst outlived half the 5 s TTL); a query 6 s later: one more
#  - NXDOMAIN is cached
#  - 200 concurrent queries for one uncached (slow) name: 1 upstream query,
#    all 200 answered
#  - prefetch: 10 q/s for 20 s on a slow name: no query after the first waits
#    on upstream (vgate's miss counter: 1), and upstream sees one query per
#    prefetch, about one per half TTL
# Cache behaviour is asserted with vgate's /stats counters, not wall time.
source "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
UPADDR=127.0.0.$((100 + $$ % 100))
COUNTS=$VG_TMP/counts
vg_bg python3 "$HERE/dns_upstream.py" --addr "$UPADDR" --port-file "$VG_TMP/port" \
	--count-file "$COUNTS" --ttl 300 --slow-ms 300
vg_wait_for 10 test -s "$VG_TMP/port" || vg_fail "test upstream did not start"
UPPORT=$(cat "$VG_TMP/port")

sock=$VG_TMP/api.sock
vg_start --dns-upstream "$UPADDR:$UPPORT" --dns-record myhost.test=10.1.2.3 --api "unix://$sock"

DIG=(vg_ns dig @192.168.127.1 +time=3 +tries=1)

# dstat NAME: vgate's DNS counter NAME (hits, misses, prefetches...) from /stats
dstat() {
	curl -sS --max-time 10 --unix-socket "$sock" http://vgate/stats |
		python3 -c "import json,sys; print(json.load(sys.stdin)['dns']['$1'])" ||
		vg_fail "no dns.$1 in /stats"
}

# count NAME TYPE: upstream queries seen for (NAME, numeric TYPE)
count() { awk -v n="$1" -v t="$2" '$1 == n && $2 == t { print $3; f = 1 } END { if (!f) print 0 }' "$COUNTS"; }

# check_type TYPE NAME PATTERN: answer data matches and every TTL is <= 5
check_type() {
	local out
	out=$("${DIG[@]}" +noall +answer "$2" "$1") || vg_fail "dig $1 $2 failed"
	grep -q -- "$3" <<<"$out" || vg_fail "dig $1 $2: '$out' lacks '$3'"
	awk '{ if ($2 > 5) exit 1 }' <<<"$out" || vg_fail "dig $1 $2: TTL over 5: $out"
}

check_type A www.example.test '10\.'
check_type AAAA www.example.test 'fd00::'
check_type MX www.example.test '10 mail.www.example.test.'
check_type TXT www.example.test '"vgate test www.example.test"'
check_type SRV _sip._udp.example.test '0 5 5060 sip._sip._udp.example.test.'
out=$("${DIG[@]}" +noall +answer -x 192.0.2.44) || vg_fail "dig -x failed"
grep -q "PTR.*ptr.test." <<<"$out" || vg_fail "PTR: $out"

# TCP from the guest
out=$("${DIG[@]}" +tcp +short tcp.example.test A) || vg_fail "dig +tcp failed"
grep -q '^10\.' <<<"$out" || vg_fail "dig +tcp: '$out'"

# static records, answered without upstream
out=$("${DIG[@]}" +short gateway.vgate.internal A)
[ "$out" = 192.168.127.1 ] || vg_fail "gateway.vgate.internal: '$out'"
out=$("${DIG[@]}" +short myhost.test A)
[ "$out" = 10.1.2.3 ] || vg_fail "--dns-record myhost.test: '$out'"
out=$("${DIG[@]}" +short -x 10.1.2.3)
[ "$out" = myhost.test. ] || vg_fail "PTR of static record: '$out'"
[ "$(count myhost.test 1)" = 0 ] || vg_fail "static name went upstream"

# truncation: 60 A records (~1 kB) over a 512-byte UDP buffer
out=$("${DIG[@]}" +bufsize=512 +ignore big.example.test A) || vg_fail "dig +ignore failed"
grep -q "flags:.* tc" <<<"$out" || vg_fail "no TC with bufsize 512: $out"
out=$("${DIG[@]}" +bufsize=512 big.example.test A) || vg_fail "dig big failed"
grep -q "Truncated, retrying in TCP mode" <<<"$out" || vg_fail "dig did not retry over TCP"
grep -q "ANSWER: 60," <<<"$out" || vg_fail "TCP retry did not get 60 records: $out"
# 200 records (> 1232): upstream truncates, vgate retries upstream over TCP
out=$("${DIG[@]}" +tcp huge.example.test A) || vg_fail "dig huge failed"
grep -q "ANSWER: 200," <<<"$out" || vg_fail "huge answer: $out"

# 100 queries one after another: the first misses, the other 99 are cache
# hits, and upstream sees one query, plus one per prefetch when the burst
# outlives half the TTL (a slow, loaded host) - counted by vgate, so the
# duration of the burst does not matter
h0=$(dstat hits) m0=$(dstat misses) p0=$(dstat prefetches)
out=$(vg_ns python3 "$HERE/dns_client.py" 192.168.127.1 burst 100 once.example.test) ||
	vg_fail "burst: $out"
h1=$(dstat hits) m1=$(dstat misses) p1=$(dstat prefetches)
vg_log "burst: $out; hits +$((h1 - h0)) misses +$((m1 - m0)) prefetches +$((p1 - p0))"
[ $((m1 - m0)) = 1 ] || vg_fail "100 queries: $((m1 - m0)) cache misses, want 1"
[ $((h1 - h0)) = 99 ] || vg_fail "100 queries: $((h1 - h0)) cache hits, want 99"
n=$(count once.example.test 1)
[ "$n" = $((1 + p1 - p0)) ] ||
	vg_fail "100 queries made $n upstream queries, want 1 + $((p1 - p0)) prefetches"
[ $((p1 - p0)) -le 2 ] || vg_fail "100 queries started $((p1 - p0)) prefetches"
# at least one TTL later: expired, so one more upstream query
sleep 6
"${DIG[@]}" +short once.example.test A >/dev/null || vg_fail "dig after 6 s"
[ "$(count once.example.test 1)" = $((n + 1)) ] ||
	vg_fail "after 6 s: $(count once.example.test 1) upstream queries, want $((n + 1))"

# NXDOMAIN cached: two queries from one dig (back to back, so a loaded host
# cannot stretch the gap past the 5 s cap): one miss, one cache hit, one
# upstream query - plus one per prefetch, should the gap reach half the TTL
h0=$(dstat hits) m0=$(dstat misses) p0=$(dstat prefetches)
out=$("${DIG[@]}" nx1.example.test A nx1.example.test A) || vg_fail "dig nx1 failed"
[ "$(grep -c 'status: NXDOMAIN' <<<"$out")" = 2 ] || vg_fail "no NXDOMAIN: $out"
h1=$(dstat hits) m1=$(dstat misses) p1=$(dstat prefetches)
[ $((m1 - m0)) = 1 ] && [ $((h1 - h0)) = 1 ] ||
	vg_fail "NXDOMAIN not served from the cache: misses +$((m1 - m0)) hits +$((h1 - h0))"
nx_counted() { [ "$(count nx1.example.test 1)" = $((1 + p1 - p0)) ]; } # a prefetch may still be on its way
vg_wait_for 5 nx_counted ||
	vg_fail "NXDOMAIN not cached: $(count nx1.example.test 1) upstream queries, $((p1 - p0)) prefetches"

# 200 concurrent queries for one uncached name (upstream answers after 300 ms)
out=$(vg_ns python3 "$HERE/dns_client.py" 192.168.127.1 concurrent 200 slow-conc.example.test) ||
	vg_fail "concurrent: $out"
grep -q "answered=200 rcode0=200" <<<"$out" || vg_fail "concurrent: $out"
[ "$(count slow-conc.example.test 1)" = 1 ] ||
	vg_fail "200 concurrent misses made $(count slow-conc.example.test 1) upstream queries"

# prefetch: 10 q/s for 20 s on a name upstream answers after 300 ms. Only
# the first query may wait on upstream: vgate counts exactly one miss (a
# query that found no fresh entry and waited, or joined a pending lookup),
# every other query is a hit; each refresh is a prefetch, one upstream query
h0=$(dstat hits) m0=$(dstat misses) p0=$(dstat prefetches) s0=$(dstat stale_serves)
out=$(vg_ns python3 "$HERE/dns_client.py" 192.168.127.1 rate 10 20 slow-pf.example.test) ||
	vg_fail "rate: $out"
h1=$(dstat hits) m1=$(dstat misses) p1=$(dstat prefetches) s1=$(dstat stale_serves)
n=$(count slow-pf.example.test 1)
vg_log "prefetch run: $out, upstream queries: $n; hits +$((h1 - h0)) misses +$((m1 - m0)) prefetches +$((p1 - p0)) stale +$((s1 - s0))"
[ $((m1 - m0)) = 1 ] && [ $((s1 - s0)) = 0 ] ||
	vg_fail "queries waited on upstream or got stale data: misses +$((m1 - m0)), stale +$((s1 - s0)): $out"
[ $((h1 - h0)) = 199 ] || vg_fail "prefetch: $((h1 - h0)) cache hits of 200 queries, want 199"
[ "$n" = $((1 + p1 - p0)) ] || vg_fail "prefetch: $n upstream queries for $((p1 - p0)) prefetches"
# TTL 5 -> a refresh every ~2.5 s (+ upstream 0.3 s): ~7-9 over 20 s
[ $((p1 - p0)) -ge 4 ] && [ $((p1 - p0)) -le 11 ] ||
	vg_fail "prefetch: $((p1 - p0)) refreshes in 20 s (want ~7)"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
