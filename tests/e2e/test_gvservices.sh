#!/usr/bin/env bash
# test_gvservices.sh - gvproxy's -services URI: the HTTP API without
# /connect. vgate runs with -listen-qemu (the guest link) and -services on
# both forms gvproxy takes: unix:// (vgate's --api) and tcp://. curl gets
# gvproxy's /services/forwarder/all ("[]") and vgate's /stats on both; on
# the tcp:// one a POST /connect and a GET /tunnel are the API's, which has
# neither (404), so no guest link is taken over and no tunnel opened; a bad
# -services URI is a clear error and exit status 2.
. "$(dirname "$0")/lib.sh"

sock=$VG_TMP/api.sock
port=$(vg_free_port)
"$VGATE" -listen-qemu "unix://$VG_TMP/qemu.sock" -services "unix://$sock" \
	-services "tcp://127.0.0.1:$port" --outbound-allow 127.0.0.0/8 \
	--pid-file "$VG_TMP/vgate.pid" 2>"$VG_LOG" &
VG_PID=$!
vg_wait_for 10 test -s "$VG_TMP/vgate.pid" || vg_fail "vgate did not become ready"

# get URL [CURL-ARGS]: the HTTP status, the body in $VG_TMP/body
get() {
	local url=$1
	shift
	curl -sS --max-time 5 -o "$VG_TMP/body" -w '%{http_code}' "$@" "$url" || echo fail
}
for via in unix tcp; do
	if [ $via = unix ]; then args=(--unix-socket "$sock") base=http://vgate; else args=() base=http://127.0.0.1:$port; fi
	[ "$(get "$base/services/forwarder/all" "${args[@]}")" = 200 ] || vg_fail "$via: /services/forwarder/all"
	[ "$(cat "$VG_TMP/body")" = "[]" ] || vg_fail "$via: /all body $(cat "$VG_TMP/body")"
	[ "$(get "$base/stats" "${args[@]}")" = 200 ] || vg_fail "$via: /stats"
	vg_has '"forwarder"' <"$VG_TMP/body" || vg_fail "$via: /stats without the forwarder group"
done
# the tcp:// socket has no /connect and no /tunnel
code=$(get "http://127.0.0.1:$port/connect" -X POST)
[ "$code" = 404 ] || vg_fail "POST /connect on -services tcp://: HTTP $code, expected 404"
code=$(get "http://127.0.0.1:$port/tunnel?ip=192.168.127.2&port=22")
[ "$code" = 404 ] || vg_fail "GET /tunnel on -services tcp://: HTTP $code, expected 404"
vg_has "listen: API on tcp://127.0.0.1:$port" <"$VG_LOG" || vg_fail "no log line for the -services listener"
kill -0 "$VG_PID" || vg_fail "vgate died"

rc=0
"$VGATE" -listen-qemu "unix://$VG_TMP/q2.sock" -services "udp://127.0.0.1:1" 2>"$VG_TMP/err" || rc=$?
[ "$rc" = 2 ] || vg_fail "a bad -services URI: exit $rc, expected 2"
vg_has "services" <"$VG_TMP/err" || vg_fail "a bad -services URI: $(cat "$VG_TMP/err")"
vg_pass
