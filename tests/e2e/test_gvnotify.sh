#!/bin/bash
# test_gvnotify.sh - gvproxy's -notification unix:///PATH (issue 12, item 7):
# a unix listener (gv_notify_listener.py, the supervisor's end) gets
# gvproxy's JSON lines in order, one connection each: ready once vgate
# listens; connection_established with the VM's MAC when QEMU (-M none, its
# hub joining a TAP in a namespace to the -listen-qemu socket, as a VM's NIC
# would be) carries the first frame; connection_closed with the same MAC
# when QEMU is killed. Then: a -listen-qemu path that cannot be bound makes
# vgate exit 1 after sending hypervisor_error; a -notification that is not
# unix:// is refused with gvproxy's message (exit 2); with no listener at
# the path vgate starts and serves anyway and counts the lost line
# (notification_lost{reason="send_failed"} in /metrics).
# ctest-labels: qemu
source "$(dirname "$0")/lib.sh"

command -v qemu-system-x86_64 >/dev/null || vg_fail "qemu-system-x86_64 missing"
N=$VG_TMP/notify.sock
OUT=$VG_TMP/notify.out
SOCK=$VG_TMP/qemu.sock
MAC=02:00:00:00:00:41
: >"$OUT"
vg_bg python3 "$VG_SRC/tests/e2e/gv_notify_listener.py" "$N" "$OUT" 60
vg_wait_for 20 test -S "$N" || vg_fail "the notification listener did not start"

"$VGATE" -listen-qemu "unix://$SOCK" -listen "unix://$VG_TMP/api.sock" -notification "unix://$N" \
	--outbound-allow 127.0.0.0/8 --pid-file "$VG_TMP/vgate.pid" 2>"$VG_LOG" &
VG_PID=$!
vg_wait_for 10 test -s "$VG_TMP/vgate.pid" || vg_fail "vgate did not become ready"
vg_wait_for 10 grep -q '"ready"' "$OUT" || vg_fail "no ready line: $(cat "$OUT")"
vg_log "ready received"

# the VM: QEMU's hub joins a TAP in the namespace to the stream socket
VG_NS=vgt-gvn-$$-$RANDOM
ip netns add "$VG_NS"
mkdir -p "/etc/netns/$VG_NS"
: >"/etc/netns/$VG_NS/resolv.conf"
vg_bg ip netns exec "$VG_NS" qemu-system-x86_64 -M none -nodefaults -display none -monitor none \
	-serial none -netdev tap,id=t0,ifname=tap0,script=no,downscript=no \
	-netdev "stream,id=s0,server=off,addr.type=unix,addr.path=$SOCK" \
	-netdev hubport,id=h0,hubid=0,netdev=t0 -netdev hubport,id=h1,hubid=0,netdev=s0
qemu_pid=${VG_CLEANUP_PIDS[-1]}
vg_wait_for 10 vg_ns ip link show tap0 || vg_fail "QEMU made no TAP"
vg_ns ip link set tap0 down
vg_ns ip link set tap0 address "$MAC"
vg_ns ip link set tap0 up
vg_udhcpc_script
vg_ns busybox udhcpc -i tap0 -n -q -f -t 5 -T 1 -s "$VG_TMP/udhcpc.sh" \
	>"$VG_TMP/udhcpc.out" 2>&1 || vg_fail "no lease: $(cat "$VG_TMP/udhcpc.out")"
vg_wait_for 10 grep -q connection_established "$OUT" || vg_fail "no connection_established: $(cat "$OUT")"
vg_log "connection_established received"
kill "$qemu_pid"
vg_wait_for 10 grep -q connection_closed "$OUT" || vg_fail "no connection_closed: $(cat "$OUT")"
kill -0 "$VG_PID" || vg_fail "vgate died"
cat >"$VG_TMP/want" <<EOW
{"notification_type":"ready"}
-- conn 1
{"notification_type":"connection_established","mac_address":"$MAC"}
-- conn 2
{"notification_type":"connection_closed","mac_address":"$MAC"}
-- conn 3
EOW
diff "$VG_TMP/want" "$OUT" >&2 || vg_fail "the notification lines differ from gvproxy's (above)"
vg_log "ready, connection_established, connection_closed: in order, one connection each"

# a hypervisor listener that cannot be set up: hypervisor_error, exit 1
rc=0
"$VGATE" -listen-qemu "unix://$VG_TMP/no/such/dir/q.sock" -notification "unix://$N" \
	--outbound-allow 127.0.0.0/8 >"$VG_TMP/r1.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || vg_fail "unbindable -listen-qemu: exit status $rc: $(cat "$VG_TMP/r1.out")"
vg_wait_for 10 grep -q hypervisor_error "$OUT" || vg_fail "no hypervisor_error: $(cat "$OUT")"
[ "$(tail -n 2 "$OUT" | head -n 1)" = '{"notification_type":"hypervisor_error"}' ] ||
	vg_fail "hypervisor_error line: $(tail -n 2 "$OUT")"
vg_log "hypervisor_error received from a vgate whose listener failed"

# gvproxy's check of the value
rc=0
"$VGATE" -listen-qemu "unix://$VG_TMP/q2.sock" -notification "tcp://127.0.0.1:1" \
	>"$VG_TMP/r2.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || vg_fail "-notification tcp://: exit status $rc"
grep -q "notification listen address must be unix:// address" "$VG_TMP/r2.out" ||
	vg_fail "-notification tcp://: $(cat "$VG_TMP/r2.out")"

# nobody listening: vgate serves anyway, the line is counted as lost
kill "$VG_PID"
vg_wait_for 10 sh -c "! kill -0 $VG_PID 2>/dev/null" || vg_fail "vgate did not stop"
VG_PID=""
rm -f "$VG_TMP/vgate.pid"
"$VGATE" -listen-qemu "unix://$VG_TMP/q3.sock" -listen "unix://$VG_TMP/api3.sock" \
	-notification "unix://$VG_TMP/nobody.sock" --outbound-allow 127.0.0.0/8 \
	--pid-file "$VG_TMP/vgate.pid" 2>"$VG_LOG" &
VG_PID=$!
vg_wait_for 10 test -s "$VG_TMP/vgate.pid" || vg_fail "vgate without a notification listener did not start"
lost_is_1() {
	curl -sS --max-time 5 --unix-socket "$VG_TMP/api3.sock" http://vgate/metrics >"$VG_TMP/metrics" &&
		[ "$(awk '$1 == "vgate_notification_lost_total{reason=\"send_failed\"}" { print $2 }' \
			"$VG_TMP/metrics")" = 1 ]
}
vg_wait_for 10 lost_is_1 || vg_fail "the lost ready line is not counted: $(grep notification "$VG_TMP/metrics")"
grep -q "notification: cannot send to $VG_TMP/nobody.sock" "$VG_LOG" || vg_fail "the lost line is not logged"
vg_log "no listener: vgate serves, the lost line is counted and logged"
vg_pass
