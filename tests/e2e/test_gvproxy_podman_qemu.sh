#!/bin/bash
# test_gvproxy_podman_qemu.sh - issue 12 acceptance: podman machine's
# command line for gvproxy (QEMU, Linux; podman 5's GvproxyCommand.ToCmdline
# order: -mtu, -ssh-port, -listen-qemu, the -forward-* four, -pid-file,
# -log-file) starts vgate invoked as "gvproxy" (a symlink), and a QEMU guest
# (tests/e2e/qemu, TCG) with podman's NIC (-netdev stream, virtio-net-pci
# mac=5a:94:ef:e4:0c:ee) boots on it and gets the static lease
# 192.168.127.2 and pings the gateway. The same line plus -notification
# (podman passes none today; its open PR 29048 adds it) delivers ready,
# connection_established and connection_closed with that MAC.
# ctest-labels: qemu
source "$(dirname "$0")/lib.sh"

command -v qemu-system-x86_64 >/dev/null || vg_fail "qemu-system-x86_64 missing"
QDIR=$VG_SRC/tests/e2e/qemu
timeout 900 "$QDIR/build-guest.sh" >/dev/null || vg_fail "guest build failed"
mkdir -p "$VG_TMP/bin" "$VG_TMP/run"
ln -s "$VGATE" "$VG_TMP/bin/gvproxy"
RUN=$VG_TMP/run
ssh-keygen -q -t ed25519 -N '' -f "$VG_TMP/machine" -C vgate-test
N=$VG_TMP/notify.sock
OUT=$VG_TMP/notify.out
: >"$OUT"
vg_bg python3 "$VG_SRC/tests/e2e/gv_notify_listener.py" "$N" "$OUT" 300
vg_wait_for 20 test -S "$N" || vg_fail "the notification listener did not start"

for round in 1 2; do
	extra=()
	[ "$round" = 2 ] && extra=(-notification "unix://$N")
	rm -f "$RUN/gvproxy.pid"
	"$VG_TMP/bin/gvproxy" -mtu 1500 -ssh-port "$(vg_free_port)" \
		-listen-qemu "unix://$RUN/podman-machine-default-gvproxy.sock" \
		-forward-sock "$RUN/podman-machine-default-api.sock" \
		-forward-dest /run/podman/podman.sock -forward-user core \
		-forward-identity "$VG_TMP/machine" \
		-pid-file "$RUN/gvproxy.pid" -log-file "$RUN/gvproxy.log" "${extra[@]}" \
		--outbound-allow 127.0.0.0/8 2>"$VG_TMP/gv.stderr" &
	VG_PID=$!
	VG_LOG=$RUN/gvproxy.log
	vg_wait_for 10 test -s "$RUN/gvproxy.pid" || vg_fail "round $round: no pid file: $(cat "$VG_TMP/gv.stderr")"
	"$QDIR/run-guest.sh" --sock "$RUN/podman-machine-default-gvproxy.sock" --test dhcp-ping \
		--mac 5a:94:ef:e4:0c:ee --timeout 120 --log "$VG_TMP/boot$round.log" \
		>"$VG_TMP/boot$round.out" 2>&1 || vg_fail "round $round: guest failed: $(tail -n 20 "$VG_TMP/boot$round.out")"
	grep -aq 'VGTEST LEASE ip=192\.168\.127\.2 ' "$VG_TMP/boot$round.log" ||
		grep -aq 'VGTEST LEASE ip=192\.168\.127\.2$' "$VG_TMP/boot$round.log" ||
		vg_fail "round $round: not the static lease: $(grep -a 'VGTEST LEASE' "$VG_TMP/boot$round.log")"
	vg_log "round $round: the QEMU guest booted and got 192.168.127.2"
	kill -0 "$VG_PID" || vg_fail "vgate died"
	if [ "$round" = 2 ]; then
		vg_wait_for 10 grep -q connection_closed "$OUT" || vg_fail "notifications: $(cat "$OUT")"
		grep -v '^-- conn' "$OUT" >"$VG_TMP/got"
		printf '%s\n' '{"notification_type":"ready"}' \
			'{"notification_type":"connection_established","mac_address":"5a:94:ef:e4:0c:ee"}' \
			'{"notification_type":"connection_closed","mac_address":"5a:94:ef:e4:0c:ee"}' >"$VG_TMP/want"
		diff "$VG_TMP/want" "$VG_TMP/got" >&2 || vg_fail "notification lines differ"
		vg_log "round 2: ready, connection_established, connection_closed (5a:94:ef:e4:0c:ee)"
	fi
	kill "$VG_PID"
	vg_wait_for 10 sh -c "! kill -0 $VG_PID 2>/dev/null" || vg_fail "vgate did not stop"
	VG_PID=""
done
vg_pass
