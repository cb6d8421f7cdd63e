#!/usr/bin/env bash
# test_dns_spoof.sh - a fake upstream that answers every UDP query first from
# a wrong source port and then with a wrong ID (both forged to 6.6.6.6), then
# correctly: the guest only ever sees the genuine answer, also from the cache.
source "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
UPADDR=127.0.0.$((100 + $$ % 100))
vg_bg python3 "$HERE/dns_upstream.py" --addr "$UPADDR" --port-file "$VG_TMP/port" \
	--count-file "$VG_TMP/counts" --spoof
vg_wait_for 10 test -s "$VG_TMP/port" || vg_fail "test upstream did not start"
vg_start --dns-upstream "$UPADDR:$(cat "$VG_TMP/port")"
DIG=(vg_ns dig @192.168.127.1 +time=3 +tries=1 +short)

for name in a.spoof.test b.spoof.test c.spoof.test; do
	out=$("${DIG[@]}" "$name" A) || vg_fail "dig $name"
	grep -q '^10\.' <<<"$out" || vg_fail "$name: '$out'"
	grep -q '6\.6\.6\.6' <<<"$out" && vg_fail "forged answer reached the guest: $out"
	out=$("${DIG[@]}" "$name" A)
	[ "$out" != 6.6.6.6 ] && grep -q '^10\.' <<<"$out" || vg_fail "cache holds '$out'"
done
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
