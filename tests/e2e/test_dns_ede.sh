#!/usr/bin/env bash
# test_dns_ede.sh - Extended DNS Errors (RFC 8914) and EDNS hygiene as dig in
# the guest sees them (issue 11), against the counting test upstream
# (tests/e2e/dns_upstream.py on 127.0.0.x) with the SNI allowlist's DNS
# filter on (--allow-sni '*.example.test'):
#  - a name off the allowlist: NXDOMAIN with "EDE: 15 (Blocked)" and the
#    reason; without EDNS (+noedns) the same NXDOMAIN and no OPT at all
#  - a name on the list: no EDE; dig's cookie (+cookie), an ECS option
#    (+subnet) and an unknown option (+ednsopt) are neither echoed nor sent
#    upstream (the upstream logs the options it got)
#  - EDNS version 1 (+edns=1): BADVERS
#  - upstream down: a cached name past its TTL (--dns-max-ttl 1) is served
#    stale with "EDE: 3 (Stale Answer)"; a name never seen gets SERVFAIL
#    with "EDE: 22 (No Reachable Authority)"
source "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
UPADDR=127.0.0.$((100 + $$ % 100))
vg_bg python3 "$HERE/dns_upstream.py" --addr "$UPADDR" --port-file "$VG_TMP/port" \
	--count-file "$VG_TMP/counts" --ttl 300 --opt-file "$VG_TMP/opts"
UPPID=${VG_CLEANUP_PIDS[-1]}
vg_wait_for 10 test -s "$VG_TMP/port" || vg_fail "test upstream did not start"
UPPORT=$(cat "$VG_TMP/port")

sock=$VG_TMP/api.sock
vg_start --dns-upstream "$UPADDR:$UPPORT" --allow-sni '*.example.test' --dns-max-ttl 1 \
	--api "unix://$sock"

DIG=(vg_ns dig @192.168.127.1 +time=5 +tries=1 +nocookie)

dstat() {
	curl -sS --max-time 10 --unix-socket "$sock" http://vgate/stats |
		python3 -c "import json,sys; print(json.load(sys.stdin)['dns']['$1'])" ||
		vg_fail "no dns.$1 in /stats"
}

# 1. off the allowlist: Blocked, with the reason, only to EDNS clients
out=$("${DIG[@]}" blocked.other.test A) || vg_fail "dig blocked failed"
grep -q "status: NXDOMAIN" <<<"$out" || vg_fail "off-list name not NXDOMAIN: $out"
grep -q "EDE: 15 (Blocked): (name not on the vgate allowlist)" <<<"$out" ||
	vg_fail "no EDE Blocked: $out"
out=$("${DIG[@]}" +noedns blocked.other.test A) || vg_fail "dig +noedns failed"
grep -q "status: NXDOMAIN" <<<"$out" || vg_fail "+noedns: $out"
if grep -q "EDE:\|OPT PSEUDOSECTION" <<<"$out"; then vg_fail "EDE without EDNS: $out"; fi
vg_log "EDE Blocked ok"

# 2. on the list: an answer without EDE; the guest's options go nowhere
out=$("${DIG[@]}" +nocmd +cookie +subnet=192.0.2.0/24 +ednsopt=65001:abcd www.example.test A) ||
	vg_fail "dig with options failed"
grep -q "status: NOERROR" <<<"$out" || vg_fail "allowed name: $out"
grep -q "ANSWER: 1," <<<"$out" || vg_fail "allowed name, no answer: $out"
if grep -q "EDE:" <<<"$out"; then vg_fail "EDE on a plain answer: $out"; fi
if grep -qi "COOKIE:\|CLIENT-SUBNET\|65001" <<<"$out"; then vg_fail "option echoed: $out"; fi
vg_wait_for 5 test -s "$VG_TMP/opts" || vg_fail "upstream logged no query options"
opts=$(awk '$1 == "www.example.test" { print $2 }' "$VG_TMP/opts")
[ "$opts" = "-" ] || vg_fail "options went upstream: '$opts' ($(cat "$VG_TMP/opts"))"
[ "$(dstat edns_cookie)" = 1 ] || vg_fail "edns_cookie $(dstat edns_cookie)"
[ "$(dstat edns_ecs)" = 1 ] || vg_fail "edns_ecs $(dstat edns_ecs)"
[ "$(dstat edns_other_opts)" = 1 ] || vg_fail "edns_other_opts $(dstat edns_other_opts)"
vg_log "EDNS options neither echoed nor forwarded"

# 3. EDNS version 1: BADVERS
out=$("${DIG[@]}" +edns=1 +noednsneg www.example.test A) || vg_fail "dig +edns=1 failed"
grep -q "status: BADVERS" <<<"$out" || vg_fail "EDNS version 1 not BADVERS: $out"
[ "$(dstat badvers)" = 1 ] || vg_fail "badvers $(dstat badvers)"

# 4. upstream down: stale answer with EDE 3; a new name SERVFAIL with EDE 22
out=$("${DIG[@]}" +short stale.example.test A) || vg_fail "dig stale failed"
[ -n "$out" ] || vg_fail "stale.example.test did not resolve"
kill "$UPPID"
vg_wait_for 10 bash -c "! exec 3<>/dev/tcp/$UPADDR/$UPPORT" || vg_fail "upstream still up"
# past the 1 s TTL cap; the first query after expiry waits for upstream and
# gets the stale entry when the client deadline passes
stale_seen() {
	"${DIG[@]}" stale.example.test A >"$VG_TMP/stale.out" 2>&1 &&
		grep -q "EDE: 3 (Stale Answer)" "$VG_TMP/stale.out"
}
vg_wait_for 20 stale_seen || vg_fail "no EDE Stale Answer: $(cat "$VG_TMP/stale.out")"
grep -q "status: NOERROR" "$VG_TMP/stale.out" || vg_fail "stale: $(cat "$VG_TMP/stale.out")"
grep -q "ANSWER: 1," "$VG_TMP/stale.out" || vg_fail "stale, no answer: $(cat "$VG_TMP/stale.out")"
vg_log "EDE Stale Answer ok"
out=$("${DIG[@]}" +time=10 never.example.test A) || vg_fail "dig never failed"
grep -q "status: SERVFAIL" <<<"$out" || vg_fail "upstream down, new name: $out"
grep -q "EDE: 22 (No Reachable Authority)" <<<"$out" || vg_fail "no EDE 22: $out"
vg_log "EDE No Reachable Authority ok"

vg_pass
