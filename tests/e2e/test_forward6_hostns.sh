#!/bin/bash
# test_forward6_hostns.sh - issue 14's acceptance for IPv6 to test hosts:
# vgate runs in a private host namespace (vg_hostns) with 2001:db8::10 on
# its lo; the servers listen on [::] there, so they are reached both at
# 2001:db8::10 and at the IPv6 host alias PREFIX::254 (the namespace's ::1).
# The guest has a static address in the prefix. Checks, to both: 100 MB
# downloaded and 100 MB uploaded intact (sha256); half-close; a closed port
# refused at the first SYN; UDP echo. A destination the policy allows but the
# namespace has no route to (2001:db8:ff::1) is answered at once: RST at the
# first SYN for TCP, ICMPv6 no route (ENETUNREACH) for UDP. TCP and UDP
# forwards on [2001:db8::10] reach guest servers bound to the guest's IPv6
# address only.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

HOST6=fd00:7661:7465::254
GUEST6=fd00:7661:7465::2
TH=2001:db8::10
NOROUTE=2001:db8:ff::1
P=$(fwd_port 0)
HTTP=$P UP=$((P + 1)) HC=$((P + 2)) ECHO=$((P + 3)) CLOSED=$((P + 4)) PF=$((P + 5)) GP=$((P + 6))

vg_hostns "$TH"
mkdir -p "$VG_TMP/www"
head -c 100M /dev/urandom >"$VG_TMP/www/big"
BIG_SUM=$(sha256sum <"$VG_TMP/www/big" | cut -d' ' -f1)
vg_bg vg_hx python3 -m http.server --bind :: --directory "$VG_TMP/www" "$HTTP" >/dev/null 2>&1
vg_bg vg_hx python3 "$VG_SRC/tests/e2e/fwd_servers.py" upload :: "$UP"
vg_bg vg_hx python3 "$VG_SRC/tests/e2e/fwd_servers.py" halfclose :: "$HC"
vg_bg vg_hx python3 "$VG_SRC/tests/e2e/fwd_servers.py" udpecho :: "$ECHO"
for p in "$HTTP" "$UP" "$HC"; do
	vg_wait_for 10 vg_hx bash -c "exec 3<>/dev/tcp/$TH/$p" || vg_fail "server on [$TH]:$p did not start"
done
vg_start --outbound-allow ::1/128 --outbound-allow 2001:db8::/32 \
	--forward "tcp:[$TH]:$PF:$GP" --forward "udp:[$TH]:$PF:$GP"
vg_ipv6_static "$GUEST6"

for dst in "$TH" "$HOST6"; do
	# 100 MB each way
	vg_ns curl -sS -f -6 --max-time 120 -o "$VG_TMP/got" "http://[$dst]:$HTTP/big" ||
		vg_fail "[$dst]: 100 MB download failed"
	[ "$(sha256sum <"$VG_TMP/got" | cut -d' ' -f1)" = "$BIG_SUM" ] || vg_fail "[$dst]: download corrupted"
	rm -f "$VG_TMP/got"
	got=$(vg_ns curl -sS -f -6 --max-time 120 -H 'Expect:' --data-binary "@$VG_TMP/www/big" \
		"http://[$dst]:$UP/") || vg_fail "[$dst]: 100 MB upload failed"
	[ "$got" = "104857600 $BIG_SUM" ] || vg_fail "[$dst]: upload corrupted: $got"
	vg_log "[$dst]: 100 MB each way intact"
	# half-close: the server answers only after our FIN
	got=$(printf 'hello half-close' | vg_ns timeout 10 nc -N "$dst" "$HC") || vg_fail "[$dst]: nc -N failed"
	[ "$got" = "got 16" ] || vg_fail "[$dst]: half-close: got '$got'"
	# a closed port: RST to the first SYN
	vg_refused_at_once "[$dst]: closed port" -6 "http://[$dst]:$CLOSED/"
	out=$(fwd_udp "$dst" "$ECHO" echo 1 100 1400) || vg_fail "[$dst]: UDP echo: $out"
	[ "$out" = "echo ok" ] || vg_fail "[$dst]: UDP echo: $out"
	out=$(fwd_udp "$dst" "$CLOSED" closed)
	[ "$out" = "refused" ] || vg_fail "[$dst]: closed UDP port: $out"
	vg_log "[$dst]: half-close, refused ports and UDP echo ok"
done

# no route on the host side: a real error at once, never a hang
vg_refused_at_once "no route" -6 "http://[$NOROUTE]:80/"
out=$(fwd_udp "$NOROUTE" 53 closed)
[ "$out" = ENETUNREACH ] || vg_fail "no route, UDP: $out (expected ENETUNREACH)"
vg_log "no route: TCP reset at the first SYN, UDP got ICMPv6 no route"

# host -> guest forwards on [2001:db8::10], over IPv6 to the guest
vg_bg vg_ns python3 "$VG_SRC/tests/e2e/fwd_servers.py" banner "$GUEST6" "$GP"
vg_bg vg_ns python3 "$VG_SRC/tests/e2e/fwd_servers.py" udpecho "$GUEST6" "$GP"
vg_wait_for 10 vg_ns bash -c "exec 3<>/dev/tcp/$GUEST6/$GP" || vg_fail "guest TCP server did not start"
vg_wait_for 10 fwd_udp "$GUEST6" "$GP" echo 1 || vg_fail "guest UDP server did not start"
got=$(printf 'ping6' | vg_hx timeout 10 nc -N "$TH" "$PF") || vg_fail "TCP forward on [$TH] failed"
[ "$got" = "hello from guest
ping6" ] || vg_fail "TCP forward on [$TH]: got '$got'"
out=$(fwd_udp_host "$TH" "$PF" echo 1 100 1400) || vg_fail "UDP forward on [$TH]: $out"
[ "$out" = "echo ok" ] || vg_fail "UDP forward on [$TH]: $out"
vg_log "TCP and UDP forwards on [$TH] reach the guest over IPv6"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
