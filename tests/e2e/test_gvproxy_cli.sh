#!/bin/bash
# test_gvproxy_cli.sh - vgate as a drop-in gvproxy (issue 12, item 1): a
# symlink named gvproxy to the vgate binary, started with podman machine's
# QEMU command line (-listen-qemu unix://SOCK -pid-file F -ssh-port N
# -forward-sock/-dest/-user/-identity -mtu 1500 -log-file L, plus -listen
# unix://API). Checks: the forward socket listens; the pid file
# holds its pid; the log file is written; the guest - a network namespace
# whose TAP QEMU (-M none, no guest CPU) joins to the socket with its hub,
# as a QEMU VM's NIC would be - gets DHCP: a client with another MAC first
# is NOT given 192.168.127.2, then MAC 5a:94:ef:e4:0c:ee gets the static
# lease 192.168.127.2; -ssh-port N listens on 127.0.0.1:N and reaches the
# guest's port 22 (a banner server there). Then gvproxy's refusals: an
# existing -listen-qemu path, and -listen-qemu with -listen-bess. Last,
# gvproxy's own -config YAML (interfaces, pid-file, stack.forwards) starts
# it, and an unknown key in it is refused naming file, line and key.
# ctest-labels: qemu
source "$(dirname "$0")/lib.sh"

command -v qemu-system-x86_64 >/dev/null || vg_fail "qemu-system-x86_64 missing"
mkdir -p "$VG_TMP/bin"
ln -s "$VGATE" "$VG_TMP/bin/gvproxy"
GV=$VG_TMP/bin/gvproxy
SOCK=$VG_TMP/qemu.sock
SSHP=$(vg_free_port)
: >"$VG_LOG"

# podman machine (QEMU, Linux) runs gvproxy like this (its -forward-* pair
# reaches the VM's podman socket over SSH: test_ssh_forward.sh tests that)
command -v ssh-keygen >/dev/null || vg_fail "ssh-keygen missing (openssh-client)"
ssh-keygen -q -t ed25519 -N '' -f "$VG_TMP/machine" -C vgate-test
"$GV" -listen-qemu "unix://$SOCK" -pid-file "$VG_TMP/gv.pid" -ssh-port "$SSHP" \
	-forward-sock "$VG_TMP/podman.sock" -forward-dest /run/podman/podman.sock \
	-forward-user core -forward-identity "$VG_TMP/machine" -mtu 1500 \
	-log-file "$VG_TMP/gv.log" -listen "unix://$VG_TMP/api.sock" \
	--outbound-allow 127.0.0.0/8 2>"$VG_TMP/gv.stderr" &
VG_PID=$!
VG_LOG=$VG_TMP/gv.log
vg_wait_for 10 test -s "$VG_TMP/gv.pid" || vg_fail "no pid file: $(cat "$VG_TMP/gv.stderr")"
[ "$(tr -d '\n' <"$VG_TMP/gv.pid")" = "$VG_PID" ] || vg_fail "pid file holds '$(cat "$VG_TMP/gv.pid")', not $VG_PID"
vg_wait_for 5 grep -q ready "$VG_TMP/gv.log" || vg_fail "log file not written"
[ -S "$SOCK" ] || vg_fail "no QEMU socket"
vg_wait_for 5 test -S "$VG_TMP/podman.sock" || vg_fail "-forward-sock does not listen"
curl -sf --unix-socket "$VG_TMP/api.sock" http://gvproxy/stats -o "$VG_TMP/stats.json" ||
	vg_fail "-listen unix:// API does not answer"
vg_log "started as gvproxy: pid file, log file, API ok"

# the guest: QEMU's hub joins a TAP in the namespace to the stream socket
VG_NS=vgt-gv-$$-$RANDOM
ip netns add "$VG_NS"
mkdir -p "/etc/netns/$VG_NS"
: >"/etc/netns/$VG_NS/resolv.conf"
vg_ns ip link set lo up
vg_bg ip netns exec "$VG_NS" qemu-system-x86_64 -M none -nodefaults -display none -monitor none \
	-serial none -netdev tap,id=t0,ifname=tap0,script=no,downscript=no \
	-netdev "stream,id=s0,server=off,addr.type=unix,addr.path=$SOCK" \
	-netdev hubport,id=h0,hubid=0,netdev=t0 -netdev hubport,id=h1,hubid=0,netdev=s0
vg_wait_for 10 vg_ns ip link show tap0 || vg_fail "QEMU made no TAP"
vg_udhcpc_script

# lease MAC: the address udhcpc got with that MAC on tap0
lease() {
	vg_ns ip link set tap0 down
	vg_ns ip link set tap0 address "$1"
	vg_ns ip link set tap0 up
	rm -f "$VG_LEASE"
	vg_ns busybox udhcpc -i tap0 -n -q -f -t 5 -T 1 -s "$VG_TMP/udhcpc.sh" \
		>"$VG_TMP/udhcpc.out" 2>&1 || vg_fail "udhcpc ($1) got no lease: $(cat "$VG_TMP/udhcpc.out")"
	vg_lease_var ip
}
other=$(lease 02:00:00:00:00:31)
[ "$other" != 192.168.127.2 ] || vg_fail "another MAC got the static lease 192.168.127.2"
mine=$(lease 5a:94:ef:e4:0c:ee)
[ "$mine" = 192.168.127.2 ] || vg_fail "MAC 5a:94:ef:e4:0c:ee got $mine, not 192.168.127.2"
vg_log "DHCP: 02:00:00:00:00:31 got $other, 5a:94:ef:e4:0c:ee got the static lease $mine"

# -ssh-port: 127.0.0.1:SSHP -> the guest's port 22
vg_bg vg_ns python3 "$VG_SRC/tests/e2e/fwd_servers.py" banner 0.0.0.0 22
vg_wait_for 10 vg_ns bash -c "exec 3<>/dev/tcp/192.168.127.2/22" || vg_fail "guest server did not start"
# shellcheck disable=SC2016 # the inner shell expands $1 and $line
out=$(timeout 15 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && read -r -t 10 line <&3 && echo "$line"' \
	_ "$SSHP") || vg_fail "ssh-port forward: no banner ($out)"
[ "$out" = "hello from guest" ] || vg_fail "ssh-port forward got '$out'"
vg_log "-ssh-port $SSHP reaches the guest's port 22"
kill -0 "$VG_PID" || vg_fail "vgate died"

# refusals: an existing socket path (gvproxy never replaces it) ...
: >"$VG_TMP/taken.sock"
rc=0
"$GV" -listen-qemu "unix://$VG_TMP/taken.sock" -ssh-port -1 --outbound-allow 127.0.0.0/8 \
	>"$VG_TMP/r1.out" 2>&1 || rc=$?
[ "$rc" != 0 ] || vg_fail "started on an existing path"
grep -q "\"$VG_TMP/taken.sock\" already exists" "$VG_TMP/r1.out" || vg_fail "refusal: $(cat "$VG_TMP/r1.out")"
# ... and qemu with bess
rc=0
"$GV" -listen-qemu "unix://$VG_TMP/q2.sock" -listen-bess "unixpacket://$VG_TMP/b2.sock" \
	-ssh-port -1 --outbound-allow 127.0.0.0/8 >"$VG_TMP/r2.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || vg_fail "qemu+bess: exit status $rc"
grep -q "cannot use qemu and bess protocol at the same time" "$VG_TMP/r2.out" ||
	vg_fail "qemu+bess: $(cat "$VG_TMP/r2.out")"
[ ! -e "$VG_TMP/q2.sock" ] || vg_fail "qemu+bess: a socket was created"
vg_log "refused: existing path, qemu with bess"

kill "$VG_PID"
for _ in $(seq 50); do kill -0 "$VG_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$VG_PID" 2>/dev/null && vg_fail "did not stop on SIGTERM"
VG_PID=""
[ ! -e "$VG_TMP/gv.pid" ] || vg_fail "pid file left behind"

# gvproxy's own -config YAML: its interfaces, pid file and stack.forwards
FP=$(vg_free_port)
cat >"$VG_TMP/gv.yaml" <<EOC
log-level: debug
interfaces:
  qemu: unix://$VG_TMP/q3.sock
pid-file: $VG_TMP/gv3.pid
stack:
  subnet: 192.168.127.0/24
  forwards:
    127.0.0.1:$FP: 192.168.127.2:22
  dhcpStaticLeases:
    192.168.127.9: 5a:94:ef:e4:0c:ee
EOC
"$GV" -config "$VG_TMP/gv.yaml" --outbound-allow 127.0.0.0/8 2>"$VG_TMP/gv3.log" &
VG_PID=$!
VG_LOG=$VG_TMP/gv3.log
vg_wait_for 10 test -s "$VG_TMP/gv3.pid" || vg_fail "-config: no pid file"
[ -S "$VG_TMP/q3.sock" ] || vg_fail "-config: no QEMU socket"
vg_wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$FP" || vg_fail "-config: stack.forwards not listening"
grep -q "debug" "$VG_TMP/gv3.log" || vg_fail "-config: log-level debug not applied"
kill "$VG_PID"
for _ in $(seq 50); do kill -0 "$VG_PID" 2>/dev/null || break; sleep 0.1; done
VG_PID=""
printf 'stack:\n  mtu: 1500\n  gatewayIPv7: 1.2.3.4\n' >"$VG_TMP/bad.yaml"
rc=0
"$GV" -config "$VG_TMP/bad.yaml" -listen-qemu "unix://$VG_TMP/q4.sock" >"$VG_TMP/r3.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || vg_fail "bad -config: exit status $rc"
grep -q "bad.yaml:3: unknown key 'stack.gatewayIPv7' in a gvproxy config" "$VG_TMP/r3.out" ||
	vg_fail "bad -config: $(cat "$VG_TMP/r3.out")"
vg_log "gvproxy -config YAML: interfaces, pid-file, stack.forwards; unknown key refused"
vg_pass
