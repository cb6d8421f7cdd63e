#!/usr/bin/env bash
# test_gvlisten_vsock.sh - gvproxy's -listen vsock://:PORT (issue 12,
# acceptance "vsock where the kernel offers it"): with vsock loopback
# (module vsock_loopback, CID 1) a gvforwarder stand-in (gv_client.py: POST
# /connect over AF_VSOCK, 2-byte LE frames bridged to a TAP in a namespace)
# gets the DHCP lease 192.168.127.2 through vgate. Without vsock loopback
# the test says so and exits 77, which ctest reports as skipped (not passed).
. "$(dirname "$0")/lib.sh"

vport=$((20000 + RANDOM % 10000))
if ! vg_vsock_loopback "$vport"; then
	vg_log "SKIP: no vsock loopback in this kernel (modprobe vsock_loopback failed, CID 1 unreachable)"
	exit 77
fi

VG_NS=vgt-vs-$$-$RANDOM
ip netns add "$VG_NS"
mkdir -p "/etc/netns/$VG_NS"
: >"/etc/netns/$VG_NS/resolv.conf"
vg_ns ip link set lo up
vg_udhcpc_script
"$VGATE" -listen "vsock://:$vport" --outbound-allow 127.0.0.0/8 --pid-file "$VG_TMP/vgate.pid" \
	2>"$VG_LOG" &
VG_PID=$!
vg_wait_for 10 test -s "$VG_TMP/vgate.pid" || vg_fail "vgate did not become ready"
vg_bg python3 "$VG_SRC/tests/e2e/gv_client.py" connect "vsock://1:$vport" "$VG_NS" >"$VG_TMP/c.out" 2>&1
vg_wait_for 20 grep -q bridging "$VG_TMP/c.out" || vg_fail "the client did not start: $(cat "$VG_TMP/c.out")"
vg_ns busybox udhcpc -i tap0 -n -q -f -t 5 -T 1 -s "$VG_TMP/udhcpc.sh" \
	>"$VG_TMP/udhcpc.out" 2>&1 || vg_fail "no lease over vsock: $(cat "$VG_TMP/udhcpc.out")"
[ "$(vg_lease_var ip)" = 192.168.127.2 ] || vg_fail "lease $(cat "$VG_LEASE")"
vg_log "lease 192.168.127.2 over -listen vsock://:$vport"
vg_pass
