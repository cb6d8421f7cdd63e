#!/usr/bin/env bash
# test_dns_failover.sh - upstream failures (issue 3):
#  - two upstream servers, the first dead (nothing listens): answers come
#    from the second
#  - with every upstream stopped: a recently cached name is served stale, an
#    uncached name gets SERVFAIL within the resolver timeout, nothing hangs
#  - when upstream returns, answers are fresh again
source "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
UPADDR=127.0.0.$((100 + $$ % 100))
DEADADDR=127.0.0.$((200 + $$ % 50))
COUNTS=$VG_TMP/counts
start_upstream() {
	rm -f "$VG_TMP/port.new"
	python3 "$HERE/dns_upstream.py" --addr "$UPADDR" --port "$1" --port-file "$VG_TMP/port.new" \
		--count-file "$COUNTS" --ttl 300 &
	UP_PID=$!
	VG_CLEANUP_PIDS+=("$UP_PID")
	vg_wait_for 10 test -s "$VG_TMP/port.new" || vg_fail "test upstream did not start"
	UPPORT=$(cat "$VG_TMP/port.new")
}
start_upstream 0

# the dead server: an address:port where nothing listens (ICMP unreachable)
sock=$VG_TMP/api.sock
vg_start --dns-upstream "$DEADADDR:$UPPORT" --dns-upstream "$UPADDR:$UPPORT" --dns-max-ttl 2 \
	--api "unix://$sock"
# dstat NAME: vgate's DNS counter NAME (misses, stale_serves...) from /stats
dstat() {
	curl -sS --max-time 10 --unix-socket "$sock" http://vgate/stats |
		python3 -c "import json,sys; print(json.load(sys.stdin)['dns']['$1'])" ||
		vg_fail "no dns.$1 in /stats"
}
DIG=(vg_ns dig @192.168.127.1 +tries=1)

out=$("${DIG[@]}" +time=5 +short one.example.test A) || vg_fail "dig with first server dead"
grep -q '^10\.' <<<"$out" || vg_fail "no answer from the second server: '$out'"
out=$("${DIG[@]}" +time=5 +short two.example.test A)
grep -q '^10\.' <<<"$out" || vg_fail "second name: '$out'"

# stop upstream; let the cached entry expire (TTL 2)
"${DIG[@]}" +time=5 +short stale.example.test A | vg_has '^10\.' || vg_fail "warm-up"
kill "$UP_PID"
wait "$UP_PID" 2>/dev/null || true
sleep 3
t0=$(date +%s%N)
out=$("${DIG[@]}" +time=5 +noall +answer stale.example.test A) || vg_fail "stale query hung"
t1=$(date +%s%N)
grep -q 'A.*10\.' <<<"$out" || vg_fail "not served stale: '$out'"
vg_log "stale answer after $(((t1 - t0) / 1000000)) ms: $out"
[ $(((t1 - t0) / 1000000)) -lt 2500 ] || vg_fail "stale answer took too long"
# once in stale mode the answer is immediate: served stale without waiting
# on upstream again (vgate counts a stale serve and no cache miss; a query
# that waited for the dead upstream would be a miss)
m0=$(dstat misses) s0=$(dstat stale_serves)
t0=$(date +%s%N)
"${DIG[@]}" +time=5 +short stale.example.test A | vg_has '^10\.' || vg_fail "stale (2)"
t1=$(date +%s%N)
m1=$(dstat misses) s1=$(dstat stale_serves)
vg_log "stale mode answer after $(((t1 - t0) / 1000000)) ms: misses +$((m1 - m0)), stale serves +$((s1 - s0))"
[ $((m1 - m0)) = 0 ] && [ $((s1 - s0)) = 1 ] ||
	vg_fail "stale mode answer waited on upstream: misses +$((m1 - m0)), stale serves +$((s1 - s0))"

# uncached name: SERVFAIL within the resolver timeout (2 tries x 2 servers x 1 s)
t0=$(date +%s%N)
out=$("${DIG[@]}" +time=8 uncached.example.test A) || vg_fail "uncached query hung: $out"
t1=$(date +%s%N)
grep -q "status: SERVFAIL" <<<"$out" || vg_fail "want SERVFAIL: $out"
[ $(((t1 - t0) / 1000000)) -lt 5000 ] || vg_fail "SERVFAIL after $(((t1 - t0) / 1000000)) ms"

# upstream back on the same port: fresh answers again
start_upstream "$UPPORT"
sleep 2
"${DIG[@]}" +time=5 +short stale.example.test A >/dev/null
sleep 1
out=$("${DIG[@]}" +time=5 +noall +answer uncached.example.test A)
grep -q 'A.*10\.' <<<"$out" || vg_fail "not fresh after upstream returned: '$out'"
out=$("${DIG[@]}" +time=5 +noall +answer stale.example.test A)
grep -q 'A.*10\.' <<<"$out" || vg_fail "stale name after recovery: '$out'"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
