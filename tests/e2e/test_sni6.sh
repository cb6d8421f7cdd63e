#!/bin/bash
# test_sni6.sh - the SNI allowlist over IPv6 (issue 14, item 5). vgate runs in
# a private host namespace (vg_hostns) whose lo holds 2001:db8::10, ::20 and
# ::30, each with a TLS server on :443 counting the connections it accepts
# (sni_servers.py via vg_tls_servers). The test DNS upstream (127.0.0.1 in
# that namespace) answers AAAA: allowed.test and fresh.test → 2001:db8::10,
# evil.test → 2001:db8::20, other.test → 2001:db8::30 (no A records). The
# allowlist holds allowed.test and fresh.test. The guest has a static address
# in vgate's IPv6 prefix and resolves through vgate's DNS (over IPv4).
# Checks: an allowed name reached at the AAAA vgate handed out works (curl
# and openssl); the allowed SNI sent to a foreign IPv6 address is reset and
# that server never sees a connection (ip_mismatch); a name off the list gets
# NXDOMAIN for AAAA and its flow is reset (sni_not_allowed); an allowed name
# the guest never resolved is resolved by vgate itself (AAAA) and allowed;
# another TCP port is refused at the first SYN, QUIC (UDP 443) gets an ICMPv6
# unreachable at once, and an IPv6 --allow-dest rule lets UDP through, here
# to [::1] reached at the IPv6 host alias PREFIX::254.
source "$(dirname "$0")/lib.sh"
HERE=$VG_SRC/tests/e2e
GW=192.168.127.1
A=2001:db8::10 FOREIGN=2001:db8::20 OFF=2001:db8::30
HOST6=fd00:7661:7465::254
GUEST6=fd00:7661:7465::2

vg_hostns "$A" "$FOREIGN" "$OFF"
vg_tls_servers 127.0.0.1 30 allowed.test=$A fresh.test=$A evil.test=$FOREIGN other.test=$OFF
ECHO=$(vg_free_port)
vg_bg vg_hx python3 "$HERE/fwd_servers.py" udpecho ::1 "$ECHO"

printf 'allowed.test\nfresh.test\n' >"$VG_TMP/allow.txt"
vg_start --outbound-allow 2001:db8::/32 --outbound-allow ::1/128 \
	--dns-upstream "127.0.0.1:$(cat "$VG_TMP/dnsport")" --allowlist-file "$VG_TMP/allow.txt" \
	--sni-timeout 3s --allow-dest "[::1]:$ECHO/udp"
vg_ipv6_static "$GUEST6"

aaaa() { vg_ns dig +short +tries=1 +time=3 "@$GW" "$1" AAAA; }

# 1. an allowed name at the AAAA vgate's DNS handed out (before the change:
# every IPv6 flow was refused at its SYN, port_denied)
IP=$(aaaa allowed.test)
[ "$IP" = "$A" ] || vg_fail "allowed.test AAAA resolved to '$IP'"
got=$(vg_tls allowed.test "$IP") || vg_fail "curl https://allowed.test over IPv6 failed"
[ "$got" = "hello from $A" ] || vg_fail "allowed.test over IPv6: got '$got'"
got=$(printf 'GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n' | vg_ns timeout 10 openssl s_client \
	-connect "[$A]:443" -servername allowed.test -CAfile "$VG_TMP/cert.pem" -quiet \
	2>"$VG_TMP/ossl.err" | tail -n 1) || true
[ "$got" = "hello from $A" ] || vg_fail "openssl over IPv6: got '$got' $(tail -n 3 "$VG_TMP/ossl.err")"
vg_log "allowed name over IPv6 ok (curl, openssl)"

# 2. the allowed SNI to an IPv6 address DNS did not give for it: reset, and
# the server there never sees a connection
if vg_tls allowed.test "$FOREIGN" 2>"$VG_TMP/err"; then vg_fail "allowed SNI to $FOREIGN passed"; fi
vg_has -iE 'reset|SSL_ERROR_SYSCALL|Connection' <"$VG_TMP/err" ||
	vg_fail "not a reset: $(cat "$VG_TMP/err")"
vg_wait_for 5 grep -q "blocked tcp $GUEST6:[0-9]* -> $FOREIGN:443 name=allowed.test reason=ip_mismatch" \
	"$VG_LOG" || vg_fail "no log line for the ip_mismatch block"
[ "$(vg_tls_accepted "$FOREIGN")" -eq 0 ] || vg_fail "server $FOREIGN saw a connection"
vg_log "allowed SNI to a foreign IPv6 address reset, server untouched"

# 3. a name off the list: NXDOMAIN for AAAA, and reset even at its address
st=$(vg_ns dig +tries=1 +time=3 "@$GW" other.test AAAA | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
[ "$st" = NXDOMAIN ] || vg_fail "other.test AAAA: status '$st'"
if vg_tls other.test "$OFF" 2>/dev/null; then vg_fail "other.test passed over IPv6"; fi
vg_wait_for 5 grep -q "blocked tcp $GUEST6:[0-9]* -> $OFF:443 name=other.test reason=sni_not_allowed" \
	"$VG_LOG" || vg_fail "no sni_not_allowed log line"
[ "$(vg_tls_accepted "$OFF")" -eq 0 ] || vg_fail "server $OFF saw a connection"
vg_log "name off the list: NXDOMAIN for AAAA and reset"

# 4. an allowed name the guest never resolved: vgate resolves it (AAAA) itself
res0=$(vg_sni_stat resolves)
got=$(vg_tls fresh.test "$A") || vg_fail "fresh.test over IPv6 failed"
[ "$got" = "hello from $A" ] || vg_fail "fresh.test: got '$got'"
res1=$(vg_sni_stat resolves)
[ "$res1" -gt "${res0:-0}" ] || vg_fail "vgate did not resolve fresh.test ($res0 -> $res1)"
vg_log "never-resolved allowed name: resolved by vgate ($res0 -> $res1), allowed"

# 5. another TCP port over IPv6: RST to the first SYN (no SYN retransmitted)
r0=$(vg_syn_retrans)
rc=0
vg_ns curl -sS -6 --max-time 5 "http://[$A]:8080/" 2>/dev/null || rc=$?
r1=$(vg_syn_retrans)
[ "$rc" -eq 7 ] || vg_fail "port 8080 over IPv6: curl exit $rc, want 7 (refused)"
[ -n "$r0" ] && [ "$r1" = "$r0" ] || vg_fail "port 8080 refused after $((r1 - r0)) SYN retransmissions"
vg_log "other TCP port over IPv6 refused at the first SYN"

# 6. UDP over IPv6: QUIC gets ICMPv6 unreachable at once; a datagram to
# --allow-dest [::1]:ECHO/udp, sent to the IPv6 host alias, is echoed
cat >"$VG_TMP/udp6.py" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((host, port))
s.send(b"initial")
try:
    print("answered " + s.recv(100).decode())
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
PY
got=$(vg_ns python3 "$VG_TMP/udp6.py" "$A" 443)
[ "$got" = refused ] || vg_fail "QUIC over IPv6: $got"
got=$(vg_ns python3 "$VG_TMP/udp6.py" "$HOST6" "$ECHO")
[ "$got" = "answered initial" ] || vg_fail "--allow-dest [::1]:$ECHO/udp: $got"
vg_log "QUIC over IPv6 refused; --allow-dest IPv6 rule lets UDP through"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_log "$(grep 'sni: patterns' "$VG_LOG" | tail -n 1)"
vg_pass
