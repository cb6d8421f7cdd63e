#!/usr/bin/env bash
# test_guest_forwards.sh - --guest-forwards: the guest publishes a port as
# podman in a VM does, with curl POSTing gvproxy's
# /services/forwarder/expose to http://gateway.containers.internal/ (the
# guest API). Checks: an allowed expose (200) and a host client on
# 127.0.0.1:PORT reaching the guest's server, also with a remote without
# an address; 403 with the reason for a remote that is not the guest, a
# local address not allowed (another address, ":PORT" = all addresses), a
# port below 1024, an unexpose of the operator's forward; the guest's own
# unexpose (200, the port closes); the other writes stay 403; without
# --guest-forwards the expose is 403 read-only; with the SNI allowlist on
# 403 unless --guest-forwards-with-sni; --guest-forwards-local and
# --guest-forwards-low-ports allow another address and a port below 1024;
# flag errors exit 2.
. "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

sock=$VG_TMP/api.sock
gw=http://gateway.containers.internal

# flag errors: one line, exit 2
for args in "--guest-forwards" "--api unix://$sock --guest-forwards" \
	"--api unix://$sock --guest-api --guest-forwards-local 127.0.0.2" \
	"--api unix://$sock --guest-api --guest-forwards --guest-forwards-local nope"; do
	rc=0
	# shellcheck disable=SC2086 # the flags are words
	out=$("$VGATE" --tap-netns /run/netns/none $args 2>&1) || rc=$?
	[ "$rc" = 2 ] || vg_fail "'$args': exit $rc, expected 2: $out"
	grep -q -- '--guest-forwards' <<<"$out" || vg_fail "'$args': unexpected error: $out"
done

# gpost PATH JSON: a guest POST; prints the HTTP code, body in $VG_TMP/gbody
gpost() {
	vg_ns curl -sS --max-time 5 -o "$VG_TMP/gbody" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data "$2" "$gw$1" 2>"$VG_TMP/gcurl.err" ||
		vg_fail "guest POST $1 failed: $(cat "$VG_TMP/gcurl.err")"
}
# expect_g CODE PATH JSON [TEXT]: the guest's POST answers CODE (with TEXT)
expect_g() {
	local code
	code=$(gpost "$2" "$3")
	[ "$code" = "$1" ] || vg_fail "guest POST $2 $3: HTTP $code, expected $1: $(cat "$VG_TMP/gbody")"
	[ $# -lt 4 ] || grep -q -- "$4" "$VG_TMP/gbody" ||
		vg_fail "guest POST $2 $3: body '$(cat "$VG_TMP/gbody")', expected '$4'"
}
banner_via() { # banner_via ADDR PORT: the guest server's banner through ADDR:PORT
	# shellcheck disable=SC2016 # $1 and $2 are the inner shell's
	timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && head -n 1 <&3' _ "$1" "$2"
}
# shellcheck disable=SC2016 # $1 and $2 are the inner shell's
closed() { ! timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }
guest_server() { # the banner server in the guest on port $G
	GUEST=$(vg_lease_var ip)
	vg_bg vg_ns python3 "$VG_SRC/tests/e2e/fwd_servers.py" banner 0.0.0.0 "$G"
	vg_wait_for 10 vg_ns bash -c "exec 3<>/dev/tcp/$GUEST/$G" || vg_fail "guest server did not start"
}

P=$(fwd_port 0)
G=$((P + 7))
vg_start --api "unix://$sock" --guest-api --guest-forwards
guest_server

# allowed: the host reaches the guest's server through 127.0.0.1:P
expect_g 200 /services/forwarder/expose "{\"local\":\"127.0.0.1:$P\",\"remote\":\"$GUEST:$G\",\"protocol\":\"tcp\"}"
[ "$(banner_via 127.0.0.1 "$P")" = "hello from guest" ] || vg_fail "no banner through 127.0.0.1:$P"
expect_g 200 /services/forwarder/expose "{\"local\":\"localhost:$((P + 1))\",\"remote\":\":$G\"}"
[ "$(banner_via 127.0.0.1 $((P + 1)))" = "hello from guest" ] || vg_fail "no banner through :$((P + 1))"
grep -q "forward added: tcp 127.0.0.1:$P -> $GUEST:$G (by the guest)" "$VG_LOG" ||
	vg_fail "no log line for the guest's forward"

# refused, each with its reason; nothing listens afterwards
R=$((P + 2))
expect_g 403 /services/forwarder/expose "{\"local\":\"127.0.0.1:$R\",\"remote\":\"192.168.127.254:$G\"}" \
	"not the guest's own address"
expect_g 403 /services/forwarder/expose "{\"local\":\"127.0.0.1:$R\",\"remote\":\"10.1.2.3:$G\"}" \
	"not the guest's own address"
expect_g 403 /services/forwarder/expose "{\"local\":\"127.0.0.2:$R\",\"remote\":\":$G\"}" \
	"local address 127.0.0.2 is not allowed"
expect_g 403 /services/forwarder/expose "{\"local\":\":$R\",\"remote\":\":$G\"}" "all addresses"
expect_g 403 /services/forwarder/expose "{\"local\":\"127.0.0.1:81\",\"remote\":\":$G\"}" "below 1024"
closed 127.0.0.1 "$R" || vg_fail "a refused expose listens on $R"
closed 127.0.0.1 81 || vg_fail "a refused expose listens on 81"
# still gvproxy's other answers: not POST is 400, bad JSON 400
code=$(vg_ns curl -sS --max-time 5 -o "$VG_TMP/gbody" -w '%{http_code}' "$gw/services/forwarder/expose")
[ "$code" = 400 ] || vg_fail "guest GET expose: HTTP $code, expected 400"
expect_g 400 /services/forwarder/expose '{"local": '

# the operator's forward is not the guest's to remove
S=$((P + 3))
code=$(curl -sS --max-time 5 --unix-socket "$sock" -o /dev/null -w '%{http_code}' \
	--data "{\"local\":\"127.0.0.1:$S\",\"remote\":\"$GUEST:$G\"}" http://vgate/services/forwarder/expose)
[ "$code" = 200 ] || vg_fail "host expose: HTTP $code"
expect_g 403 /services/forwarder/unexpose "{\"local\":\"127.0.0.1:$S\",\"protocol\":\"tcp\"}" \
	"not a forward the guest exposed"
[ "$(banner_via 127.0.0.1 "$S")" = "hello from guest" ] || vg_fail "the operator's forward went away"

# the guest removes its own
expect_g 200 /services/forwarder/unexpose "{\"local\":\"127.0.0.1:$P\",\"protocol\":\"tcp\"}"
vg_wait_for 5 closed 127.0.0.1 "$P" || vg_fail "127.0.0.1:$P still listens after the unexpose"
expect_g 500 /services/forwarder/unexpose "{\"local\":\"127.0.0.1:$P\",\"protocol\":\"tcp\"}"

# every other write stays read-only
expect_g 403 /forwards "{\"local\":\"127.0.0.1:$R\",\"remote\":\"$GUEST:$G\"}" "read-only"
expect_g 403 /services/dns/add '{"Name":"evil.","Records":[]}' "read-only"
expect_g 403 /dns/records '{"name":"evil.test","ip":"10.6.6.6"}' "read-only"
vg_stop

# without --guest-forwards: read-only as before
vg_start --api "unix://$sock" --guest-api
guest_server
expect_g 403 /services/forwarder/expose "{\"local\":\"127.0.0.1:$R\",\"remote\":\":$G\"}" "read-only"
closed 127.0.0.1 "$R" || vg_fail "an expose without --guest-forwards listens"
vg_stop

# the SNI allowlist on: refused unless --guest-forwards-with-sni
vg_start --api "unix://$sock" --guest-api --guest-forwards --allow-sni allowed.test
guest_server
expect_g 403 /services/forwarder/expose "{\"local\":\"127.0.0.1:$R\",\"remote\":\":$G\"}" \
	"SNI allowlist"
vg_stop

# with every flag: another address and a port below 1024 (free on 127.0.0.2)
LOW=$(python3 - <<'EOP'
import random, socket, sys
for p in random.sample(range(900, 1000), 100):
    try:
        s = socket.socket()
        s.bind(("127.0.0.2", p))
        s.close()
    except OSError:
        continue
    print(p)
    sys.exit(0)
sys.exit("no free port below 1024")
EOP
) || vg_fail "no free low port"
vg_start --api "unix://$sock" --guest-api --guest-forwards --allow-sni allowed.test \
	--guest-forwards-with-sni --guest-forwards-low-ports --guest-forwards-local 127.0.0.2
guest_server
expect_g 200 /services/forwarder/expose "{\"local\":\"127.0.0.2:$LOW\",\"remote\":\"$GUEST:$G\"}"
[ "$(banner_via 127.0.0.2 "$LOW")" = "hello from guest" ] || vg_fail "no banner through 127.0.0.2:$LOW"
expect_g 403 /services/forwarder/expose "{\"local\":\":$R\",\"remote\":\":$G\"}" "all addresses"
vg_stop
if grep -E 'Sanitizer|runtime error' "$VG_LOG"; then vg_fail "sanitizer report"; fi
vg_pass
