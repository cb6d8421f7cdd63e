#!/usr/bin/env bash
# test_gvlisten_transports.sh - gvproxy's other guest transports, each with
# a real client bridging a TAP in a namespace (tests/e2e/gv_client.py) that
# gets a DHCP lease and fetches a file from the host through vgate:
#  - -listen-bess unixpacket://: SOCK_SEQPACKET, one frame per packet; the
#    API on a -listen socket beside it;
#  - -listen-vpnkit unix://: hyperkit's handshake (hello echoed, the reply
#    carries the MTU and gvproxy's MAC for its UUID), then 2-byte LE frames;
#  - -listen-stdio: vgate is the client's child, frames on its stdin and
#    stdout (2-byte LE), its log on stderr;
# and the option rules: -listen-vpnkit with -listen-qemu or -listen-bess,
# two guest links, a bad -listen URI: one-line errors, exit 2.
. "$(dirname "$0")/lib.sh"

port=$(vg_free_port)
mkdir "$VG_TMP/www"
echo "hello through a gvproxy transport" >"$VG_TMP/www/f.txt"
vg_bg busybox httpd -f -p "127.0.0.1:$port" -h "$VG_TMP/www"

# refused combinations
refused() { # refused PATTERN ARGS...: exit 2, one line containing PATTERN
	local pat=$1 rc=0 out
	shift
	out=$("$VGATE" "$@" 2>&1) || rc=$?
	[ "$rc" = 2 ] || vg_fail "vgate $*: exit $rc, expected 2 ($out)"
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || vg_fail "vgate $*: not one line: $out"
	grep -q -- "$pat" <<<"$out" || vg_fail "vgate $*: unexpected error: $out"
}
refused 'at the same time' -listen-vpnkit "unix://$VG_TMP/v" -listen-qemu "unix://$VG_TMP/q"
refused 'at the same time' -listen-vpnkit "unix://$VG_TMP/v" -listen-bess "unixpacket://$VG_TMP/b"
refused 'one guest link' -listen-bess "unixpacket://$VG_TMP/b" -listen-stdio x
refused 'one guest link' -listen-vfkit "unixgram://$VG_TMP/g" -tap-fd 3
refused 'invalid --listen' -listen "udp://127.0.0.1:1"
refused 'invalid --listen-vpnkit' -listen-vpnkit "vsock://:1024"
refused 'one guest link' --outbound-allow 127.0.0.0/8

VG_NS=vgt-$$-$RANDOM
ip netns add "$VG_NS"
mkdir -p "/etc/netns/$VG_NS"
: >"/etc/netns/$VG_NS/resolv.conf"
vg_ns ip link set lo up
vg_udhcpc_script

# run_vgate ARGS...: vgate in the background until its pid file exists
run_vgate() {
	rm -f "$VG_TMP/vgate.pid"
	"$VGATE" "$@" --outbound-allow 127.0.0.0/8 --pid-file "$VG_TMP/vgate.pid" 2>"$VG_LOG" &
	VG_PID=$!
	vg_wait_for 10 test -s "$VG_TMP/vgate.pid" || vg_fail "vgate $* did not become ready"
}
stop_vgate() {
	kill "$VG_PID"
	wait "$VG_PID" || vg_fail "vgate exited with status $?"
	VG_PID=""
}
# guest NAME MODE ADDR [READY-FILE]: a client bridging tap0, a lease, a fetch
guest() {
	vg_bg python3 "$VG_SRC/tests/e2e/gv_client.py" "$2" "$3" "$VG_NS" >"$VG_TMP/$1.out" 2>&1
	vg_wait_for 20 grep -q bridging "$VG_TMP/$1.out" ||
		vg_fail "$1: the client did not start: $(cat "$VG_TMP/$1.out")"
	if [ $# -ge 4 ]; then
		vg_wait_for 20 test -s "$4" || vg_fail "$1: vgate did not become ready"
	fi
	: >"$VG_LEASE"
	vg_ns busybox udhcpc -i tap0 -n -q -f -t 5 -T 1 -s "$VG_TMP/udhcpc.sh" \
		>"$VG_TMP/udhcpc.out" 2>&1 || vg_fail "$1: no lease: $(cat "$VG_TMP/udhcpc.out")"
	[ "$(vg_lease_var ip)" = 192.168.127.2 ] || vg_fail "$1: lease $(cat "$VG_LEASE")"
	got=$(vg_ns curl -sS --max-time 10 "http://192.168.127.254:$port/f.txt") ||
		vg_fail "$1: fetch through vgate failed"
	[ "$got" = "hello through a gvproxy transport" ] || vg_fail "$1: fetched '$got'"
	kill "${VG_CLEANUP_PIDS[-1]}"
	vg_wait_for 10 sh -c "! ip netns exec $VG_NS ip link show tap0" || vg_fail "$1: tap0 stayed"
}

# bess, with the API on a -listen socket beside it
run_vgate -listen-bess "unixpacket://$VG_TMP/bess.sock" -listen "unix://$VG_TMP/api.sock"
[ "$(stat -c %a "$VG_TMP/bess.sock")" = 600 ] || vg_fail "bess socket mode"
guest bess bess "unixpacket://$VG_TMP/bess.sock"
curl -sS --max-time 5 --unix-socket "$VG_TMP/api.sock" http://vgate/metrics >"$VG_TMP/m" ||
	vg_fail "GET /metrics beside bess failed"
awk '$1 == "vgate_dhcp_messages_total{type=\"ack\"}" && $2 >= 1 { ok = 1 } END { exit !ok }' \
	"$VG_TMP/m" || vg_fail "no DHCP ack counted over bess"
stop_vgate
[ ! -e "$VG_TMP/bess.sock" ] || vg_fail "bess socket not removed"

# vpnkit (MTU 4000 told in the handshake)
run_vgate -listen-vpnkit "unix://$VG_TMP/vpnkit.sock" --mtu 4000
guest vpnkit vpnkit "unix://$VG_TMP/vpnkit.sock"
grep -q '^vpnkit mtu=4000 frame=4014 mac=5a:94:ef:e4:0c:ee$' "$VG_TMP/vpnkit.out" ||
	vg_fail "vpnkit reply: $(cat "$VG_TMP/vpnkit.out")"
[ "$(vg_lease_var mtu)" = 4000 ] || vg_fail "vpnkit: lease MTU $(vg_lease_var mtu)"
stop_vgate

# stdio: vgate is the client's child
guest stdio stdio "$VGATE -listen-stdio x --outbound-allow 127.0.0.0/8 --pid-file $VG_TMP/stdio.pid --log-file $VG_TMP/stdio.log" "$VG_TMP/stdio.pid"
spid=$(cat "$VG_TMP/stdio.pid")
VG_CLEANUP_PIDS+=("$spid")
grep -q 'ready' "$VG_TMP/stdio.log" || vg_fail "stdio: vgate did not log to its log file"
kill "$spid" 2>/dev/null || true
vg_pass
