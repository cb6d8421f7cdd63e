#!/bin/bash
# test_forward6.sh - issue 14 items 2-3: guest TCP and UDP over IPv6 through
# the forwarder to servers on the host's [::1], reached at the IPv6 host
# alias PREFIX::254 (vgate's default prefix fd00:7661:7465::/64). The guest
# namespace has a static address in the prefix and a default route via
# fe80::1. An 8 MB download and an 8 MB upload arrive intact (sha256),
# half-close works, a closed port is refused at the first SYN (curl exit 7,
# no SYN retransmitted), UDP echoes, a destination outside the allowlist
# (2001:db8::1) is refused at once (tcp_denied counted, nothing dialled),
# and host -> guest port forwards on [::1] (TCP and UDP) reach guest
# servers bound only to the guest's IPv6 address.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

prefix=fd00:7661:7465
# the IPv6 host alias (ns_config_check(): PREFIX::254)
HOST6=$prefix::254
GUEST6=$prefix::2
P=$(fwd_port 0)
HTTP=$P UP=$((P + 1)) HC=$((P + 2)) ECHO=$((P + 3)) CLOSED=$((P + 4)) PF=$((P + 5)) GP=$((P + 6))
PFU=$((P + 7))
vg_start --outbound-allow ::1/128 --forward "tcp:[::1]:$PF:$GP" --forward "udp:[::1]:$PFU:$GP"

vg_ipv6_static "$GUEST6"

mkdir -p "$VG_TMP/www"
head -c 8M /dev/urandom >"$VG_TMP/www/big"
BIG_SUM=$(sha256sum <"$VG_TMP/www/big" | cut -d' ' -f1)
vg_bg python3 -m http.server --bind ::1 --directory "$VG_TMP/www" "$HTTP" >/dev/null 2>&1
vg_bg python3 "$VG_SRC/tests/e2e/fwd_servers.py" upload ::1 "$UP"
vg_bg python3 "$VG_SRC/tests/e2e/fwd_servers.py" halfclose ::1 "$HC"
vg_bg python3 "$VG_SRC/tests/e2e/fwd_servers.py" udpecho ::1 "$ECHO"
for p in "$HTTP" "$UP" "$HC"; do
	vg_wait_for 10 bash -c "exec 3<>/dev/tcp/::1/$p" || vg_fail "server on [::1]:$p did not start"
done

# 1. download and upload over IPv6 (a failure here is what the test was
# written for: before the IPv6 NAT every IPv6 flow was reset)
vg_ns curl -sS -f -6 --max-time 20 -o "$VG_TMP/got" "http://[$HOST6]:$HTTP/big" ||
	{ kill -USR1 "$VG_PID"; sleep 0.5; grep stats "$VG_LOG" | tail -3 >&2; vg_ns ip -6 neigh >&2; vg_ns ip -6 route >&2; vg_fail "IPv6 download failed"; }
[ "$(sha256sum <"$VG_TMP/got" | cut -d' ' -f1)" = "$BIG_SUM" ] || vg_fail "IPv6 download corrupted"
vg_log "8 MB download over IPv6 ok"
got=$(vg_ns curl -sS -f -6 --max-time 20 -H 'Expect:' --data-binary "@$VG_TMP/www/big" \
	"http://[$HOST6]:$UP/") || vg_fail "IPv6 upload failed"
[ "$got" = "8388608 $BIG_SUM" ] || vg_fail "IPv6 upload corrupted: $got"
vg_log "8 MB upload over IPv6 ok"

# 2. half-close: the server answers only after our FIN
got=$(printf 'hello half-close' | vg_ns timeout 10 nc -N "$HOST6" "$HC") || vg_fail "nc -N failed"
[ "$got" = "got 16" ] || vg_fail "IPv6 half-close: got '$got'"
vg_log "half-close over IPv6 ok"

# 3. closed port: RST to the first SYN
vg_refused_at_once "closed port over IPv6" -6 "http://[$HOST6]:$CLOSED/"
vg_log "closed port over IPv6 refused at the first SYN"

# 4. UDP echo, and a closed UDP port gets ICMPv6 port unreachable
out=$(fwd_udp "$HOST6" "$ECHO" echo) || vg_fail "UDP echo over IPv6: $out"
[ "$out" = "echo ok" ] || vg_fail "UDP echo over IPv6: $out"
out=$(fwd_udp "$HOST6" "$CLOSED" closed)
[ "$out" = "refused" ] || vg_fail "closed UDP port over IPv6: $out"
vg_log "UDP echo and ICMPv6 port unreachable ok"

# 5. a destination outside the allowlist: refused at once, never dialled
d0=$(fwd_stat tcp_denied)
rc=0
vg_ns curl -sS -6 --max-time 5 "http://[2001:db8::1]:80/" >/dev/null 2>&1 || rc=$?
[ "$rc" = 7 ] || vg_fail "denied IPv6 destination: curl exit $rc, expected 7"
d1=$(fwd_stat tcp_denied)
[ "$d1" -gt "$d0" ] || vg_fail "tcp_denied did not move ($d0 -> $d1)"
vg_log "IPv6 destination outside the allowlist refused"

# 6. host -> guest over IPv6: a forward on [::1] to a guest server that
# listens on the guest's IPv6 address only
vg_bg vg_ns python3 "$VG_SRC/tests/e2e/fwd_servers.py" banner "$GUEST6" "$GP"
vg_wait_for 10 vg_ns bash -c "exec 3<>/dev/tcp/$GUEST6/$GP" || vg_fail "guest server did not start"
got=$(printf 'ping6' | timeout 10 nc -N ::1 "$PF") || vg_fail "port forward over IPv6 failed"
[ "$got" = "hello from guest
ping6" ] || vg_fail "port forward over IPv6: got '$got'"
vg_log "host -> guest port forward over IPv6 ok"
# UDP: the guest's echo server is bound to its IPv6 address only, so an
# answer means the forward reached the guest over IPv6
vg_bg vg_ns python3 "$VG_SRC/tests/e2e/fwd_servers.py" udpecho "$GUEST6" "$GP"
vg_wait_for 10 fwd_udp "$GUEST6" "$GP" echo 1 || vg_fail "guest UDP server did not start"
out=$(fwd_udp_host ::1 "$PFU" echo 1 100 1400) || vg_fail "UDP port forward over IPv6: $out"
[ "$out" = "echo ok" ] || vg_fail "UDP port forward over IPv6: $out"
vg_log "host -> guest UDP port forward over IPv6 ok"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
