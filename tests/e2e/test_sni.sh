#!/bin/bash
# test_sni.sh - the SNI allowlist end to end. A test upstream DNS on
# $VG_LO.5 maps allowed.test → $VG_LO.2, other.test → $VG_LO.3,
# evil.test → $VG_LO.4 (TTL 1 s); TLS servers with a test certificate on
# $VG_LO.{2,3,4}:443 and plain HTTP on $VG_LO.2:80 count every connection
# they accept (tests/e2e/sni_servers.py; $VG_LO is this run's loopback /24,
# lib.sh). The guest namespace routes
# 127.0.0.0/8 (but 127.0.0.1) through vgate, so the guest dials exactly the
# addresses DNS gave it. Checks: an allowed name works; the allowed SNI to an
# address DNS did not give is reset and the server never sees a connection;
# a name off the list gets NXDOMAIN and is reset; a large ClientHello works,
# also a 16 KiB one in ~200 small TCP segments (one over 16 KiB is refused);
# Host on port 80 is checked; other ports and QUIC are refused at once; an
# established flow survives an allowlist reload while new flows follow the new
# list (and a name never resolved by the guest is resolved by vgate itself);
# a client connecting after its DNS answer expired (TTL 1 s) but within the
# grace (--sni-grace 6s, short so the test need not wait minutes) succeeds
# without vgate resolving the name again; past the grace, vgate resolves it.
source "$(dirname "$0")/lib.sh"
HERE=$VG_SRC/tests/e2e
GW=192.168.127.1

vg_tls_servers $VG_LO.5 1 allowed.test=$VG_LO.2 other.test=$VG_LO.3 evil.test=$VG_LO.4
: >"$VG_TMP/count80"
vg_bg python3 "$HERE/sni_servers.py" http $VG_LO.2 80 "$VG_TMP/count80"
vg_wait_for 10 bash -c "exec 3<>/dev/tcp/$VG_LO.2/80" || vg_fail "HTTP server did not start"
vg_wait_for 5 test -s "$VG_TMP/count80" || true
: >"$VG_TMP/count80"

printf '# test allowlist\nallowed.test\n' >"$VG_TMP/allow.txt"
vg_start --dns-upstream "$VG_LO.5:$(cat "$VG_TMP/dnsport")" --allowlist-file "$VG_TMP/allow.txt" \
	--sni-timeout 3s --sni-grace 6s
vg_route_loopback

resolve() { vg_ns dig +short +tries=1 +time=3 "@$GW" "$1" A; }
count() { wc -l <"$VG_TMP/count.$1"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# 1. allowed name, resolved through vgate
IP=$(resolve allowed.test)
[ "$IP" = $VG_LO.2 ] || vg_fail "allowed.test resolved to '$IP'"
got=$(vg_tls allowed.test "$IP") || vg_fail "curl https://allowed.test failed"
[ "$got" = "hello from $VG_LO.2" ] || vg_fail "allowed.test: got '$got'"
vg_log "allowed name ok"

# 2. allowed SNI, address not from vgate's DNS: reset, no connection at all
if vg_tls allowed.test $VG_LO.4 2>"$VG_TMP/err"; then vg_fail "allowed SNI to $VG_LO.4 passed"; fi
grep -qiE 'reset|SSL_ERROR_SYSCALL|Connection' "$VG_TMP/err" || vg_fail "not a reset: $(cat "$VG_TMP/err")"
sleep 0.5
[ "$(count 4)" -eq 0 ] || vg_fail "server $VG_LO.4 saw a connection"
grep -q "blocked tcp 192.168.127.2:[0-9]* -> $VG_LO.4:443 name=allowed.test reason=ip_mismatch" \
	"$VG_LOG" || vg_fail "no log line for the ip_mismatch block"
vg_log "allowed SNI to a foreign address reset, server untouched"

# 3. name off the list: NXDOMAIN, and reset even with the right address
st=$(vg_ns dig +tries=1 +time=3 "@$GW" other.test A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
[ "$st" = NXDOMAIN ] || vg_fail "other.test: status '$st'"
if vg_tls other.test $VG_LO.3 2>/dev/null; then vg_fail "other.test passed"; fi
[ "$(count 3)" -eq 0 ] || vg_fail "server $VG_LO.3 saw a connection"
grep -q 'name=other.test reason=sni_not_allowed' "$VG_LOG" || vg_fail "no sni_not_allowed log line"
vg_log "name off the list: NXDOMAIN and reset"

# 4. a large ClientHello (8192-bit FFDHE key share, long ALPN list: > 1,500 bytes)
alpn=h2$(for i in $(seq 1 40); do printf ',proto-number-%02d' "$i"; done)
got=$(printf 'GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n' | vg_ns timeout 10 openssl s_client \
	-connect $VG_LO.2:443 -servername allowed.test -CAfile "$VG_TMP/cert.pem" -quiet \
	-groups ffdhe8192:X25519:P-256:P-384:P-521:ffdhe2048:ffdhe3072 -alpn "$alpn" \
	2>"$VG_TMP/ossl.err" | tail -n 1) || true
[ "$got" = "hello from $VG_LO.2" ] || vg_fail "large ClientHello: got '$got' $(tail -n 3 "$VG_TMP/ossl.err")"
vg_log "large ClientHello ok"

# 4b. a 16 KiB ClientHello in ~200 segments of at most 40 bytes (TCP_NODELAY,
# smallest MSS; more than the 128 pbufs inspection once stopped at) is
# inspected to its end and allowed; one over the 16 KiB bound is refused,
# counted as too_big (tests/e2e/tls_segments.py)
big0=$(vg_sni_stat too_big)
got=$(vg_ns python3 "$HERE/tls_segments.py" $VG_LO.2 allowed.test "$VG_TMP/cert.pem" 16000 40)
vg_log "16 KiB ClientHello in small segments: $got"
read -r verdict hlen sends body <<<"$got"
[ "$verdict" = hello: ] && [ "$body" = "hello from $VG_LO.2" ] ||
	vg_fail "a 16 KiB ClientHello in small segments: '$got'"
[ "$hlen" -gt 15000 ] && [ "$sends" -gt 128 ] || vg_fail "not a 16 KiB hello in > 128 sends: '$got'"
got=$(vg_ns python3 "$HERE/tls_segments.py" $VG_LO.2 allowed.test "$VG_TMP/cert.pem" 17500 40)
vg_log "17.5 KiB ClientHello in small segments: $got"
case $got in refused:*) ;; *) vg_fail "a ClientHello over 16 KiB: '$got'" ;; esac
[ "$(vg_sni_stat too_big)" = $((${big0:-0} + 1)) ] || vg_fail "too_big not counted: $(vg_sni_stat too_big)"
vg_log "ClientHello in small segments: 16 KiB inspected to the end, over it refused"

# 5. port 80 by Host
got=$(vg_ns curl -sS --max-time 10 --resolve allowed.test:80:$VG_LO.2 http://allowed.test/) ||
	vg_fail "http://allowed.test failed"
[ "$got" = "hello from $VG_LO.2" ] || vg_fail "http: got '$got'"
n80=$(wc -l <"$VG_TMP/count80")
if vg_ns curl -sS --max-time 10 -H 'Host: evil.test' http://$VG_LO.2/ 2>/dev/null; then
	vg_fail "Host: evil.test passed"
fi
[ "$(wc -l <"$VG_TMP/count80")" -eq "$n80" ] || vg_fail "port 80 server saw the evil Host"
vg_log "port 80 Host check ok"

# 6. other TCP ports: refused at once (the first SYN gets the RST: no SYN
# retransmitted, see vg_syn_retrans); QUIC (UDP 443): ICMP unreachable at once
r0=$(vg_syn_retrans)
t0=$(date +%s%N)
rc=0
vg_ns curl -sS --max-time 5 http://$VG_LO.2:8080/ 2>/dev/null || rc=$?
t1=$(date +%s%N)
r1=$(vg_syn_retrans)
[ "$rc" -eq 7 ] || vg_fail "port 8080: curl exit $rc, want 7 (refused)"
[ -n "$r0" ] && [ "$r1" = "$r0" ] ||
	vg_fail "port 8080 refused only after $((r1 - r0)) SYN retransmissions ($(((t1 - t0) / 1000000)) ms)"
got=$(vg_ns python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("'"$VG_LO"'.2", 443)); s.settimeout(3); t = time.time()
s.send(b"\xc0quic-initial")
try:
    s.recv(100); print("answered")
except ConnectionRefusedError:
    print("refused %.0f" % ((time.time() - t) * 1000))
except socket.timeout:
    print("timeout")')
case "$got" in refused*) ;; *) vg_fail "QUIC: $got" ;; esac
[ "${got#refused }" -lt 1000 ] || vg_fail "QUIC refusal took ${got#refused } ms"
vg_log "other port refused, QUIC $got ms"

# 7. reload: an established flow survives, new flows follow the new list
# the flow is open (the server accepted it: vgate allowed it) before the reload;
# its request is written through a FIFO only after the reload is done
n2=$(count 2)
mkfifo "$VG_TMP/long.in"
vg_ns timeout 15 openssl s_client -connect $VG_LO.2:443 -servername allowed.test \
	-CAfile "$VG_TMP/cert.pem" -quiet <"$VG_TMP/long.in" >"$VG_TMP/long.out" 2>/dev/null &
LONG=$!
VG_CLEANUP_PIDS+=("$LONG")
exec 4>"$VG_TMP/long.in"
long_open() { [ "$(count 2)" -gt "$n2" ]; }
vg_wait_for 10 long_open || vg_fail "the long flow did not reach the server"
printf 'other.test\n' >"$VG_TMP/allow.txt"
kill -HUP "$VG_PID"
vg_wait_for 5 grep -q 'allowlist reloaded, 1 patterns' "$VG_LOG" || vg_fail "no reload"
printf 'GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n' >&4
exec 4>&-
wait "$LONG" || true
grep -q "hello from $VG_LO.2" "$VG_TMP/long.out" || vg_fail "established flow broken by reload"
if vg_tls allowed.test $VG_LO.2 2>/dev/null; then vg_fail "allowed.test passed after reload"; fi
# other.test was never resolved by the guest: vgate resolves it itself
got=$(vg_tls other.test $VG_LO.3) || vg_fail "other.test failed after reload"
[ "$got" = "hello from $VG_LO.3" ] || vg_fail "other.test after reload: got '$got'"
vg_log "reload ok: established flow kept, new list in force"

# 8. grace (--sni-grace 6s): connect after the DNS answer (TTL 1 s) expired:
# allowed from the expired answer, no resolve by vgate; past the grace, vgate
# has to resolve the name itself (and then allows it)
IP=$(resolve other.test)
t0=$(date +%s%N)
[ "$IP" = $VG_LO.3 ] || vg_fail "other.test resolved to '$IP'"
res0=$(vg_sni_stat resolves)
# the wait is for the clock: until the TTL is over (1 s) with a second's margin
sleep 2
got=$(vg_tls other.test "$IP") || vg_fail "connection $(ms_since "$t0") ms after the answer failed"
[ "$got" = "hello from $VG_LO.3" ] || vg_fail "grace: got '$got'"
res1=$(vg_sni_stat resolves)
[ "$res1" = "$res0" ] ||
	vg_fail "in the grace, vgate resolved again ($res0 -> $res1 resolves, $(ms_since "$t0") ms)"
vg_log "grace ok: connected $(ms_since "$t0") ms after the answer (TTL 1 s), no resolve"
# past TTL + grace (7 s), with a second's margin
while [ "$(ms_since "$t0")" -lt 8000 ]; do sleep 0.2; done
got=$(vg_tls other.test "$IP") || vg_fail "connection past the grace failed"
[ "$got" = "hello from $VG_LO.3" ] || vg_fail "past the grace: got '$got'"
res2=$(vg_sni_stat resolves)
[ "$res2" -gt "$res1" ] || vg_fail "past the grace, vgate did not resolve ($res1 -> $res2 resolves)"
vg_log "past the grace: resolved again ($res1 -> $res2 resolves)"

vg_log "SNI stats: patterns=$(vg_sni_stat patterns), $(grep 'sni: patterns' "$VG_LOG" | tail -n 1)"
vg_pass
