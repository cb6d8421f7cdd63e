#!/bin/bash
# test_api_policy.sh - the SNI allowlist through the control API, and flows
# that never send a ClientHello. A test upstream DNS on $VG_LO.25 maps
# a.test → $VG_LO.21, b.test → $VG_LO.22, c.test → $VG_LO.23; TLS servers
# with a test certificate on those addresses count their connections and
# serve "GET /big" slowly (tests/e2e/sni_servers.py; $VG_LO: lib.sh). The guest routes
# 127.0.0.0/8 (but 127.0.0.1) through vgate, as in test_sni.sh. Checks:
#  1. GET /policy shows the filter: on, --allow-sni patterns, the allowlist
#     file and every active pattern, SNI ports, --allow-dest as text;
#  2. PUT "allow-sni" while a TLS download from b.test runs: the download
#     finishes intact, a new flow to the removed b.test is reset (server
#     untouched), the added c.test resolves and works, the CIDR rules stay;
#     bad patterns are 400 naming the pattern and change nothing; a GET body
#     can be PUT back; SIGHUP goes back to the configuration's patterns;
#  3. a guest that connects to port 443 and sends nothing is reset after
#     --sni-timeout (1 s), with a log line, a /metrics sample and an event
#     for reason "timeout".
source "$(dirname "$0")/lib.sh"
HERE=$VG_SRC/tests/e2e
GW=192.168.127.1
sock=$VG_TMP/api.sock

vg_tls_servers $VG_LO.25 30 a.test=$VG_LO.21 b.test=$VG_LO.22 c.test=$VG_LO.23

printf 'file.test\n' >"$VG_TMP/allow.txt"
vg_start --dns-upstream "$VG_LO.25:$(cat "$VG_TMP/dnsport")" --api "unix://$sock" \
	--allow-sni a.test --allow-sni b.test --allowlist-file "$VG_TMP/allow.txt" \
	--allow-dest $VG_LO.24:8080/tcp --sni-timeout 1s
vg_route_loopback

source "$(dirname "$0")/api_lib.sh"
resolve() { vg_ns dig +short +tries=1 +time=3 "@$GW" "$1" A; }
count() { wc -l <"$VG_TMP/count.$1"; }

# 1. GET /policy shows the filter
expect 200 GET /policy
jq_py '
assert d["sni-filter"] is True, d
assert d["allow-sni"] == ["a.test", "b.test"], d
assert sorted(d["sni-patterns"]) == ["a.test", "b.test", "file.test"], d
assert d["allowlist-file"].endswith("/allow.txt"), d
assert d["sni-ports"] == [443], d
assert d["allow-dest"] == ["'"$VG_LO"'.24/32:8080/tcp"], d
assert "127.0.0.0/8" in d["outbound-allow"], d'
[ "$(resolve b.test)" = $VG_LO.22 ] || vg_fail "b.test did not resolve"
[ "$(vg_tls b.test $VG_LO.22)" = "hello from $VG_LO.22" ] || vg_fail "b.test not allowed at start"
st=$(vg_ns dig +tries=1 +time=3 "@$GW" c.test A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
[ "$st" = NXDOMAIN ] || vg_fail "c.test before the PUT: status '$st'"
if vg_tls c.test $VG_LO.23 2>/dev/null; then vg_fail "c.test allowed before the PUT"; fi
[ "$(count 23)" -eq 0 ] || vg_fail "server $VG_LO.23 saw a connection before the PUT"
vg_log "GET /policy ok; b.test allowed, c.test refused"

# 2. PUT a new allowlist while a download from b.test runs: the server
# holds the second half until count.22.release exists (sni_servers.py), so
# the flow is open across the PUT however slow the host
want=$(python3 -c "
import hashlib, random, sys
sys.path.insert(0, '$HERE')
import sni_servers
print(hashlib.sha256(random.Random(sni_servers.BIG_SEED).randbytes(sni_servers.BIG_BYTES)).hexdigest())")
vg_ns curl -sS -f --max-time 60 --cacert "$VG_TMP/cert.pem" --resolve b.test:443:$VG_LO.22 \
	-o "$VG_TMP/big" https://b.test/big 2>"$VG_TMP/big.err" &
dl=$!
VG_CLEANUP_PIDS+=("$dl")
vg_wait_for 20 test -s "$VG_TMP/big" || vg_fail "download did not start: $(cat "$VG_TMP/big.err")"
kill -0 "$dl" 2>/dev/null || vg_fail "download ended too early: $(cat "$VG_TMP/big.err")"
expect 200 PUT /policy '{"allow-sni": ["a.test", "C.TEST."]}'
jq_py '
assert d["allow-sni"] == ["a.test", "C.TEST."], d
assert sorted(d["sni-patterns"]) == ["a.test", "c.test", "file.test"], d
assert "127.0.0.0/8" in d["outbound-allow"] and d["default"] == "deny", d'
vg_wait_for 5 grep -q 'sni: allowlist reloaded, 3 patterns' "$VG_LOG" || vg_fail "no reload log line"
kill -0 "$dl" 2>/dev/null || vg_fail "download ended before the allowlist changed"
n22=$(count 22)
if vg_tls b.test $VG_LO.22 2>"$VG_TMP/err"; then vg_fail "b.test allowed after the PUT removed it"; fi
grep -qiE 'reset|SSL_ERROR_SYSCALL|Connection' "$VG_TMP/err" || vg_fail "b.test: not a reset: $(cat "$VG_TMP/err")"
[ "$(count 22)" -eq "$n22" ] || vg_fail "server $VG_LO.22 saw the refused flow"
grep -q "blocked tcp 192.168.127.2:[0-9]* -> $VG_LO.22:443 name=b.test reason=sni_not_allowed" \
	"$VG_LOG" || vg_fail "no log line for the removed name"
[ "$(resolve c.test)" = $VG_LO.23 ] || vg_fail "c.test not answered after the PUT"
[ "$(vg_tls c.test $VG_LO.23)" = "hello from $VG_LO.23" ] || vg_fail "c.test refused after the PUT"
[ "$(vg_tls a.test $VG_LO.21)" = "hello from $VG_LO.21" ] || vg_fail "a.test refused after the PUT"
kill -0 "$dl" 2>/dev/null || vg_fail "download ended before its release: $(cat "$VG_TMP/big.err")"
touch "$VG_TMP/count.22.release"
wait "$dl" || vg_fail "download broken by the PUT: $(cat "$VG_TMP/big.err")"
got=$(sha256sum <"$VG_TMP/big" | cut -d' ' -f1)
[ "$got" = "$want" ] || vg_fail "download corrupted ($(stat -c %s "$VG_TMP/big") bytes)"
vg_log "PUT allow-sni: established download intact, removed name reset, added name works"

# bad input: 400 naming the pattern, nothing changed
expect 400 PUT /policy '{"allow-sni": ["a.test", "bad_name!.test"]}'
jq_py 'assert "bad_name!.test" in d["error"] and "item 1" in d["error"], d'
expect 400 PUT /policy '{"allow-sni": ["*"]}'
jq_py 'assert "'"'*'"'" in d["error"], d'
expect 400 PUT /policy '{"allow-sni": ["10.0.0.1"]}'
jq_py 'assert "10.0.0.1" in d["error"], d'
expect 400 PUT /policy '{"allow-sni": "a.test"}'
expect 400 PUT /policy '{"allow-sni": [1]}'
expect 400 PUT /policy '{"allow-sni": ["a.test"], "outbound-allow": ["10.0.0.0/33"]}'
expect 400 PUT /policy '{}'
expect 400 PUT /policy "{\"allow-sni\": [$(python3 -c 'print(",".join("\"n%d.test\"" % i for i in range(300)))')]}"
expect 200 GET /policy
jq_py 'assert d["allow-sni"] == ["a.test", "C.TEST."], d; assert "127.0.0.0/8" in d["outbound-allow"], d'
[ "$(vg_tls c.test $VG_LO.23)" = "hello from $VG_LO.23" ] || vg_fail "c.test refused after bad PUTs"

# a GET body goes back unchanged; CIDR-only PUTs leave the allowlist alone
cp "$VG_TMP/body" "$VG_TMP/policy.json"
got=$(api -X PUT -H 'Content-Type: application/json' --data-binary "@$VG_TMP/policy.json" http://vgate/policy)
[ "$got" = 200 ] || vg_fail "PUT of a GET body: HTTP $got: $(cat "$VG_TMP/body")"
expect 200 PUT /policy '{"outbound-allow": ["127.0.0.0/8"], "outbound-deny": ["'"$VG_LO"'.24/32"]}'
jq_py 'assert d["allow-sni"] == ["a.test", "C.TEST."] and d["outbound-deny"] == ["'"$VG_LO"'.24/32"], d'
expect 200 PUT /policy '{"outbound-allow": ["127.0.0.0/8"]}'

# SIGHUP goes back to the patterns of the command line
kill -HUP "$VG_PID"
vg_wait_for 5 grep -q 'reload: done' "$VG_LOG" || vg_fail "no SIGHUP reload"
expect 200 GET /policy
jq_py 'assert d["allow-sni"] == ["a.test", "b.test"], d'
[ "$(vg_tls b.test $VG_LO.22)" = "hello from $VG_LO.22" ] || vg_fail "b.test refused after SIGHUP"
vg_log "bad patterns refused; round trip and SIGHUP ok"

# 3. a flow that never sends a ClientHello: reset after --sni-timeout
# killed at cleanup; --max-time only bounds it (a short one can close the
# stream under CPU load before the event comes)
curl -sN --max-time 120 --unix-socket "$sock" http://vgate/events >"$VG_TMP/events" 2>/dev/null &
VG_CLEANUP_PIDS+=($!)
vg_wait_for 5 grep -q keepalive "$VG_TMP/events" || vg_fail "event stream did not open"
n21=$(count 21)
got=$(vg_ns python3 -c '
import socket, time
s = socket.create_connection(("'"$VG_LO"'.21", 443), timeout=10)
t = time.time()
try:
    d = s.recv(100)
    print("eof" if not d else "data")
except ConnectionResetError:
    print("reset %.0f" % ((time.time() - t) * 1000))
except socket.timeout:
    print("timeout")')
case "$got" in "reset "*) ;; *) vg_fail "silent client: $got (want a reset)" ;; esac
ms=${got#reset }
{ [ "$ms" -ge 900 ] && [ "$ms" -lt 3500 ]; } || vg_fail "silent client reset after $ms ms (--sni-timeout 1s)"
[ "$(count 21)" -eq "$n21" ] || vg_fail "server $VG_LO.21 saw the silent flow"
vg_wait_for 3 grep -q "blocked tcp 192.168.127.2:[0-9]* -> $VG_LO.21:443 name=- reason=timeout" \
	"$VG_LOG" || vg_fail "no log line for the timeout"
vg_wait_for 3 grep -q '"reason":"timeout"' "$VG_TMP/events" ||
	vg_fail "no timeout event: $(cat "$VG_TMP/events")"
line=$(grep -m 1 '"reason":"timeout"' "$VG_TMP/events")
python3 - "$line" <<'EOP' || vg_fail "bad event: $line"
import json, os, sys
d = json.loads(sys.argv[1].split("data: ", 1)[1])
assert d["protocol"] == "tcp" and d["dst"] == os.environ["VG_LO"] + ".21:443", d
assert d["src"].startswith("192.168.127.2:") and "name" not in d, d
EOP
expect 200 GET /metrics
grep -q '^vgate_sni_blocked_total{reason="timeout"} 1$' "$VG_TMP/body" ||
	vg_fail "no timeout sample: $(grep sni_blocked "$VG_TMP/body")"
vg_log "silent client reset after $ms ms, counted as timeout"
vg_pass
