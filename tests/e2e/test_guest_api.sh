#!/usr/bin/env bash
# test_guest_api.sh - --guest-api: the guest reads the control API at
# http://192.168.127.1/ (gateway port 80), through the forwarder to the API's
# second, read-only socket. Checks: /stats from the guest has the same
# counters as from the host; POST/PUT/DELETE from the guest get 403 and change
# nothing; the outbound policy (lib.sh allows only 127.0.0.0/8) and an SNI
# allowlist do not block it; other gateway ports stay refused; the .guest
# socket is 0600 and removed at exit; --guest-api without --api is exit 2;
# without --guest-api the guest's connection to gateway:80 is refused.
. "$(dirname "$0")/lib.sh"

sock=$VG_TMP/api.sock
gw=http://192.168.127.1

# without --api: a one-line error, exit 2, nothing started
rc=0
out=$("$VGATE" --tap-netns /run/netns/none --guest-api 2>&1) || rc=$?
[ "$rc" = 2 ] || vg_fail "--guest-api without --api: exit $rc, expected 2"
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || vg_fail "not one line: $out"
grep -q -- '--guest-api needs --api' <<<"$out" || vg_fail "unexpected error: $out"

vg_start --api "unix://$sock" --guest-api --allow-sni allowed.test

[ -S "$sock.guest" ] || vg_fail "no guest API socket $sock.guest"
[ "$(stat -c %a "$sock.guest")" = 600 ] || vg_fail "guest socket mode $(stat -c %a "$sock.guest")"

gcurl() { # gcurl ARGS...: curl in the guest; prints the HTTP code, body in $VG_TMP/gbody
	vg_ns curl -sS --max-time 5 -o "$VG_TMP/gbody" -w '%{http_code}' "$@" 2>"$VG_TMP/gcurl.err"
}
hcurl() { # the same on the host's socket, body in $VG_TMP/hbody
	curl -sS --max-time 5 --unix-socket "$sock" -o "$VG_TMP/hbody" -w '%{http_code}' "$@"
}

# the same counters from both sides
code=$(gcurl "$gw/stats") || vg_fail "guest GET /stats failed: $(cat "$VG_TMP/gcurl.err")"
[ "$code" = 200 ] || vg_fail "guest GET /stats: HTTP $code: $(cat "$VG_TMP/gbody")"
[ "$(hcurl http://vgate/stats)" = 200 ] || vg_fail "host GET /stats failed"
python3 - "$VG_TMP/gbody" "$VG_TMP/hbody" <<'EOP' || vg_fail "guest and host /stats differ in shape"
import json, sys
g, h = (json.load(open(p)) for p in sys.argv[1:3])
def keys(d, pre=""):
    out = set()
    for k, v in d.items():
        out.add(pre + k)
        if isinstance(v, dict):
            out |= keys(v, pre + k + ".")
    return out
assert keys(g) == keys(h), (keys(g) ^ keys(h))
assert g["dhcp"]["ack"] >= 1 and g["link"]["rx_frames"] > 0, g
assert g["forwarder"]["tcp_total"] >= 1, g["forwarder"]
EOP

# other read-only endpoints; HEAD too
for path in /metrics /leases /policy /forwards /dns/cache /dns/records; do
	code=$(gcurl "$gw$path") || vg_fail "guest GET $path failed: $(cat "$VG_TMP/gcurl.err")"
	[ "$code" = 200 ] || vg_fail "guest GET $path: HTTP $code: $(cat "$VG_TMP/gbody")"
done
code=$(gcurl -I "$gw/stats") || vg_fail "guest HEAD /stats failed"
[ "$code" = 200 ] || vg_fail "guest HEAD /stats: HTTP $code"
code=$(gcurl "$gw/nowhere")
[ "$code" = 404 ] || vg_fail "guest GET /nowhere: HTTP $code"

# writes are refused with 403 and change nothing
expect_403() { # METHOD PATH BODY
	local code
	code=$(gcurl -X "$1" -H 'Content-Type: application/json' --data "$3" "$gw$2") ||
		vg_fail "guest $1 $2 failed: $(cat "$VG_TMP/gcurl.err")"
	[ "$code" = 403 ] || vg_fail "guest $1 $2: HTTP $code, expected 403: $(cat "$VG_TMP/gbody")"
	python3 -c "import json,sys; assert 'error' in json.load(open('$VG_TMP/gbody'))" ||
		vg_fail "guest $1 $2: 403 without a JSON error"
}
expect_403 POST /dns/records '{"name":"evil.test","ip":"10.6.6.6"}'
expect_403 PUT /policy '{"outbound-allow":["0.0.0.0/0"]}'
expect_403 POST /forwards '{"local":"127.0.0.1:2999","remote":"192.168.127.2:22"}'
expect_403 DELETE /dns/records '{"name":"x.test"}'
expect_403 POST /dns/cache/flush '{}'
hcurl http://vgate/dns/records >/dev/null
python3 -c "import json; d=json.load(open('$VG_TMP/hbody')); assert not any(r['name']=='evil.test' for r in d['records']), d" ||
	vg_fail "a guest POST changed the records"
hcurl http://vgate/policy >/dev/null
grep -q '0.0.0.0/0' "$VG_TMP/hbody" && vg_fail "a guest PUT changed the policy"
hcurl http://vgate/forwards >/dev/null
grep -q 2999 "$VG_TMP/hbody" && vg_fail "a guest POST added a forward"
# the host's side still writes
code=$(curl -sS --unix-socket "$sock" -o /dev/null -w '%{http_code}' -X POST \
	-H 'Content-Type: application/json' --data '{"name":"host.test","ip":"10.1.1.1"}' \
	http://vgate/dns/records)
[ "$code" = 201 ] || vg_fail "host POST /dns/records: HTTP $code"

# /events: the guest gets at most 4 clients, the host keeps its own
for _ in 1 2 3 4; do
	vg_bg ip netns exec "$VG_NS" curl -sN --max-time 30 -o /dev/null "$gw/events"
done
fifth() { [ "$(gcurl --max-time 2 "$gw/events")" = 503 ]; }
vg_wait_for 10 fifth || vg_fail "a fifth guest /events client was not refused with 503"
code=$(curl -sN --max-time 1 --unix-socket "$sock" -o /dev/null -w '%{http_code}' \
	http://vgate/events 2>/dev/null) || true
[ "$code" = 200 ] || vg_fail "host /events with 4 guest clients: HTTP $code"

# the gateway's other TCP ports stay refused (curl exit 7: connection refused)
rc=0
vg_ns curl -sS --max-time 5 -o /dev/null "http://192.168.127.1:81/stats" 2>/dev/null || rc=$?
[ "$rc" = 7 ] || vg_fail "gateway:81 with --guest-api: curl exit $rc, expected 7 (refused)"

# many requests on one connection and in a row (keep-alive, no leak of flows)
vg_ns curl -sS --max-time 10 -o /dev/null -o /dev/null -o /dev/null "$gw/stats" "$gw/leases" "$gw/policy" ||
	vg_fail "keep-alive requests failed"
for _ in $(seq 1 20); do
	[ "$(gcurl "$gw/stats")" = 200 ] || vg_fail "repeated guest GET failed"
done

# a clean exit (status 0, also under ASan/UBSan), and the guest socket goes too
vg_stop
if grep -E 'Sanitizer|runtime error' "$VG_LOG"; then vg_fail "sanitizer report"; fi
[ ! -e "$sock.guest" ] || vg_fail "guest socket left behind"

# without --guest-api: the guest's connection to gateway:80 is refused
vg_start --api "unix://$sock"
[ ! -e "$sock.guest" ] || vg_fail "guest socket without --guest-api"
rc=0
vg_ns curl -sS --max-time 5 -o /dev/null "$gw/stats" 2>/dev/null || rc=$?
[ "$rc" = 7 ] || vg_fail "gateway:80 without --guest-api: curl exit $rc, expected 7 (refused)"

vg_log "PASS"
