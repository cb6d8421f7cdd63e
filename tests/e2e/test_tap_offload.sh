#!/bin/bash
# test_tap_offload.sh - issue 13 (fewer, larger writes on the TAP): vgate
# opens the TAP with a virtio-net header and offers the guest's kernel
# checksum offload and TSO; TCP to the guest goes as GSO super-segments of
# up to 16 link-MTU segments, and the guest's kernel sends its own TCP as
# super-segments. Over IPv4 and IPv6 (servers on the host's 127.0.0.1 and
# [::1]): a 20 MB download and a 20 MB upload arrive intact (sha256) while
# link_tx_gso_frames, link_tx_gso_segments (at least two per frame) and
# link_rx_gso_frames move and nothing is dropped for a bad offload; UDP
# datagrams above the MTU still reach the guest (fragmented at the link
# MTU, IPv6). A guest whose MTU is below the link's (MSS 1360) gets no
# super-segments (they would be cut to the link's 1460) and its download is
# intact. With --no-tap-offload the same transfers are intact and no
# counter moves.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

sock=$VG_TMP/api.sock
HOST=192.168.127.254
HOST6=fd00:7661:7465::254
P=$(fwd_port 0)
HTTP=$P HTTP6=$((P + 1)) UP=$((P + 2)) UP6=$((P + 3)) ECHO6=$((P + 4))

mkdir -p "$VG_TMP/www"
head -c 20M /dev/urandom >"$VG_TMP/www/big"
SUM=$(sha256sum <"$VG_TMP/www/big" | cut -d' ' -f1)
vg_bg python3 -m http.server --bind 127.0.0.1 --directory "$VG_TMP/www" "$HTTP" >/dev/null 2>&1
vg_bg python3 -m http.server --bind ::1 --directory "$VG_TMP/www" "$HTTP6" >/dev/null 2>&1
vg_bg python3 "$VG_SRC/tests/e2e/fwd_servers.py" upload 127.0.0.1 "$UP"
vg_bg python3 "$VG_SRC/tests/e2e/fwd_servers.py" upload ::1 "$UP6"
vg_bg python3 "$VG_SRC/tests/e2e/fwd_servers.py" udpecho ::1 "$ECHO6"
for a in "127.0.0.1/$HTTP" "::1/$HTTP6" "127.0.0.1/$UP" "::1/$UP6"; do
	vg_wait_for 10 bash -c "exec 3<>/dev/tcp/$a" || vg_fail "server on $a did not start"
done

m() { vg_metric_on "$sock" "$1"; }
tx() { m link_tx_gso_frames_total; }
segs() { m link_tx_gso_segments_total; }
rx() { m link_rx_gso_frames_total; }
bad() { m 'link_dropped_frames_total{reason="offload"}'; }

# down URL: a 20 MB download, checked
down() {
	vg_ns curl -sS -f --max-time 60 -o "$VG_TMP/got" "$1" || vg_fail "download $1 failed"
	[ "$(sha256sum <"$VG_TMP/got" | cut -d' ' -f1)" = "$SUM" ] || vg_fail "download $1 corrupted"
	rm -f "$VG_TMP/got"
}
# up URL: a 20 MB upload, checked by the server
up() {
	local got
	got=$(vg_ns curl -sS -f --max-time 60 -H 'Expect:' --data-binary "@$VG_TMP/www/big" "$1") ||
		vg_fail "upload $1 failed"
	[ "$got" = "20971520 $SUM" ] || vg_fail "upload $1 corrupted: $got"
}

# 1. offloads on (the default): both families, both directions
vg_start --outbound-allow ::1/128 --api "unix://$sock"
vg_wait_for 10 test -S "$sock" || vg_fail "no API socket"
vg_ipv6_static fd00:7661:7465::2
for fam in 4 6; do
	if [ $fam = 4 ]; then h=$HOST hp=$HTTP u=$UP; else h="[$HOST6]" hp=$HTTP6 u=$UP6; fi
	t0=$(tx) s0=$(segs) r0=$(rx)
	down "http://$h:$hp/big"
	t1=$(tx) s1=$(segs)
	[ "$t1" -gt "$t0" ] || vg_fail "IPv$fam: no super-segment to the guest ($t0 -> $t1)"
	[ $((s1 - s0)) -ge $((2 * (t1 - t0))) ] ||
		vg_fail "IPv$fam: $((t1 - t0)) super-segments stand for only $((s1 - s0)) segments"
	up "http://$h:$u/"
	r1=$(rx)
	[ "$r1" -gt "$r0" ] || vg_fail "IPv$fam: no super-segment from the guest ($r0 -> $r1)"
	vg_log "IPv$fam: 20 MB each way intact; $((t1 - t0)) super-segments out ($((s1 - s0)) segments), $((r1 - r0)) in"
done
out=$(fwd_udp "$HOST6" "$ECHO6" echo 1 4000 20000) || vg_fail "large UDP over IPv6: $out"
[ "$out" = "echo ok" ] || vg_fail "large UDP over IPv6: $out"
[ "$(bad)" = 0 ] || vg_fail "frames dropped for a bad offload: $(bad)"
vg_log "UDP datagrams of 4000 and 20000 bytes echoed over IPv6; no offload drops"

# 2. a guest MTU below the link's: no super-segments, download intact
vg_ns ip link set dev tap0 mtu 1400
t0=$(tx)
down "http://$HOST:$HTTP/big"
[ "$(tx)" = "$t0" ] || vg_fail "super-segments to a guest with MSS 1360: $t0 -> $(tx)"
vg_log "guest MTU 1400: no super-segments, download intact"
vg_stop

# 3. --no-tap-offload: the same transfers, no counter moves
vg_start --outbound-allow ::1/128 --api "unix://$sock" --no-tap-offload
vg_wait_for 10 test -S "$sock" || vg_fail "no API socket"
down "http://$HOST:$HTTP/big"
up "http://$HOST:$UP/"
[ "$(tx)" = 0 ] && [ "$(rx)" = 0 ] && [ "$(bad)" = 0 ] ||
	vg_fail "--no-tap-offload: counters moved (tx $(tx), rx $(rx), bad $(bad))"
vg_log "--no-tap-offload: transfers intact, no super-segments"

kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
