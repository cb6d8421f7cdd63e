#!/usr/bin/env bash
# test_dns_split.sh - split DNS (issue 11, item 2): --dns-upstream-for
# DOMAIN=ADDR[:PORT], here from the YAML config file.
#  - three test upstreams: the default, one for corp.test, one for
#    deep.corp.test; each name is counted at the upstream it must reach and
#    must not appear at the others
#  - longest suffix wins (x.deep.corp.test goes to the deep one), the
#    domain itself matches, a name that only ends with the same letters
#    (notcorp.test) does not
#  - /stats counts queries per upstream ("dns_upstreams")
#  - PUT /policy "dns-upstream-for" replaces the mapping, GET shows it
#  - SIGHUP with an edited config file replaces it again
#  - a server outside the outbound policy is not used: its names SERVFAIL,
#    they do not go to the default upstream
source "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
base=$((10 + $$ % 80))
ADDR_DEF=127.0.0.$base
ADDR_CORP=127.0.0.$((base + 90))
ADDR_DEEP=127.0.1.$base
start_up() { # NAME ADDR
	python3 "$HERE/dns_upstream.py" --addr "$2" --port 0 --port-file "$VG_TMP/$1.port" \
		--count-file "$VG_TMP/$1.counts" --ttl 300 &
	VG_CLEANUP_PIDS+=("$!")
	vg_wait_for 10 test -s "$VG_TMP/$1.port" || vg_fail "test upstream $1 did not start"
}
start_up def "$ADDR_DEF"
start_up corp "$ADDR_CORP"
start_up deep "$ADDR_DEEP"
P_DEF=$(cat "$VG_TMP/def.port") P_CORP=$(cat "$VG_TMP/corp.port") P_DEEP=$(cat "$VG_TMP/deep.port")

# count UPSTREAM NAME: A queries for NAME that UPSTREAM received
count() {
	local c
	c=$(awk -v n="$2" '$1 == n && $2 == 1 { print $3 }' "$VG_TMP/$1.counts")
	echo "${c:-0}"
}
# only_at UPSTREAM NAME: NAME was asked at UPSTREAM and at no other
only_at() {
	local u
	for u in def corp deep; do
		if [ "$u" = "$1" ]; then
			[ "$(count "$u" "$2")" -ge 1 ] || vg_fail "$2 did not reach the $u upstream"
		else
			[ "$(count "$u" "$2")" = 0 ] || vg_fail "$2 reached the $u upstream (want $1 only)"
		fi
	done
}
DIG=(vg_ns dig @192.168.127.1 +tries=1 +time=5 +short)
resolve() { # NAME: an answer from a test upstream
	local out
	out=$("${DIG[@]}" "$1" A) || vg_fail "dig $1 failed"
	grep -q '^10\.' <<<"$out" || vg_fail "no answer for $1: '$out'"
}

cfg=$VG_TMP/vgate.yaml
cat >"$cfg" <<EOF
dns-upstream: $ADDR_DEF:$P_DEF
dns-upstream-for:
  - corp.test=$ADDR_CORP:$P_CORP
  - Deep.Corp.Test.=$ADDR_DEEP:$P_DEEP
EOF
sock=$VG_TMP/api.sock
vg_start --config "$cfg" --api "unix://$sock"
api() { curl -sS --max-time 10 --unix-socket "$sock" "$@"; }

resolve www.example.test
only_at def www.example.test
resolve host1.corp.test
only_at corp host1.corp.test
resolve corp.test
only_at corp corp.test
resolve x.deep.corp.test
only_at deep x.deep.corp.test
resolve deep.corp.test
only_at deep deep.corp.test
resolve notcorp.test
only_at def notcorp.test
resolve HOST2.CORP.TEST
only_at corp host2.corp.test
vg_log "mapping from the config file: ok"

# per-upstream counters in /stats
api http://vgate/stats >"$VG_TMP/stats.json" || vg_fail "GET /stats"
python3 - "$VG_TMP/stats.json" "$ADDR_CORP:$P_CORP" "$ADDR_DEEP:$P_DEEP" "$ADDR_DEF:$P_DEF" <<'EOP' ||
import json, sys
ups = json.load(open(sys.argv[1]))["dns_upstreams"]
by = {(u["domain"], u["server"]): u for u in ups}
want = {("corp.test", sys.argv[2]): 3, ("deep.corp.test", sys.argv[3]): 2, ("", sys.argv[4]): 2}
for key, n in want.items():
    u = by.get(key)
    if not u or u["queries"] < n or u["answers"] < n:
        sys.exit("dns_upstreams %s: %s (want >= %d queries and answers) in %s" % (key, u, n, ups))
EOP
	vg_fail "per-upstream counters"

# PUT /policy: corp.test now goes to the deep server, deep.corp.test is gone
body=$(printf '{"outbound-allow": ["127.0.0.0/8"], "dns-upstream-for": ["corp.test=%s:%s"]}' \
	"$ADDR_DEEP" "$P_DEEP")
code=$(api -o "$VG_TMP/put.json" -w '%{http_code}' -X PUT -d "$body" http://vgate/policy)
[ "$code" = 200 ] || vg_fail "PUT /policy: $code $(cat "$VG_TMP/put.json")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["dns-upstream-for"]; sys.exit(r != [sys.argv[2]])' \
	"$VG_TMP/put.json" "corp.test=$ADDR_DEEP:$P_DEEP" || vg_fail "GET view after PUT: $(cat "$VG_TMP/put.json")"
resolve after-put.corp.test
only_at deep after-put.corp.test
resolve y.deep.corp.test
only_at deep y.deep.corp.test
# a bad value is refused with a clear error, the mapping stays
code=$(api -o "$VG_TMP/bad.json" -w '%{http_code}' -X PUT \
	-d '{"dns-upstream-for": ["corp.test=not-an-address"]}' http://vgate/policy)
[ "$code" = 400 ] || vg_fail "bad dns-upstream-for: $code"
grep -q "not an address" "$VG_TMP/bad.json" || vg_fail "unclear error: $(cat "$VG_TMP/bad.json")"
resolve after-bad.corp.test
only_at deep after-bad.corp.test
vg_log "PUT /policy: ok"

# SIGHUP with an edited file: deep.corp.test back to its server, corp.test
# to the default server's address as its own route
cat >"$cfg" <<EOF
dns-upstream: $ADDR_DEF:$P_DEF
dns-upstream-for:
  - corp.test=$ADDR_CORP:$P_CORP
  - other.test=$ADDR_DEEP:$P_DEEP
EOF
kill -HUP "$VG_PID"
vg_wait_for 10 grep -q "reload: done" "$VG_LOG" || vg_fail "no reload"
resolve after-hup.corp.test
only_at corp after-hup.corp.test
resolve z.deep.corp.test
only_at corp z.deep.corp.test
resolve a.other.test
only_at deep a.other.test
vg_log "SIGHUP reload: ok"

# a route whose server the outbound policy refuses: SERVFAIL, no leak to default
body=$(printf '{"outbound-allow": ["127.0.0.0/8"], "dns-upstream-for": ["corp.test=%s:%s", "vpn.test=10.99.0.53"]}' \
	"$ADDR_CORP" "$P_CORP")
code=$(api -o "$VG_TMP/put2.json" -w '%{http_code}' -X PUT -d "$body" http://vgate/policy)
[ "$code" = 200 ] || vg_fail "PUT /policy (2): $code $(cat "$VG_TMP/put2.json")"
vg_has "outside the outbound policy" <"$VG_LOG" || vg_fail "refused server not logged"
out=$(vg_ns dig @192.168.127.1 +tries=1 +time=5 host.vpn.test A) || vg_fail "dig host.vpn.test"
grep -q "status: SERVFAIL" <<<"$out" || vg_fail "want SERVFAIL for a refused route: $out"
for u in def corp deep; do
	[ "$(count "$u" host.vpn.test)" = 0 ] || vg_fail "host.vpn.test leaked to the $u upstream"
done

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
