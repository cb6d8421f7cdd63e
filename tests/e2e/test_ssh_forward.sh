#!/bin/bash
# test_ssh_forward.sh - gvproxy's SSH socket forwarding (-forward-sock,
# -forward-dest, -forward-user, -forward-identity; issue 12 item 3), with
# Debian's real sshd in the guest namespace on port 22 (test-made host and
# client keys) and two unix socket servers in the guest
# (ssh_guest_servers.py). vgate starts BEFORE sshd: it must keep retrying
# (logged), and a client that connects to HOSTPATH before sshd is up waits
# and is served once the session is up. Then: 512 KB each way through the
# first forward with half-close (sha256 checked both ways), curl
# --unix-socket through the second one (repeatable flags, paired by order,
# one with double dashes), HOSTPATH mode 0600; sshd killed and restarted:
# the session is made again and a client waiting meanwhile is served; the
# host key pinned and logged, the sockets removed at exit. vgate reaches guest:22 through its
# own netstack: no host port is opened.
source "$(dirname "$0")/lib.sh"

SSHD=/usr/sbin/sshd
# Debian's python3 (scripts/setup): a version-manager shim in PATH can take
# seconds to start on a loaded machine
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
[ -x "$SSHD" ] && command -v ssh-keygen >/dev/null ||
	vg_fail "openssh-server/openssh-client missing (scripts/setup installs them)"

ssh-keygen -q -t ed25519 -N '' -f "$VG_TMP/host_key" -C vgate-test-host
ssh-keygen -q -t ed25519 -N '' -f "$VG_TMP/id" -C vgate-test-client
cp "$VG_TMP/id.pub" "$VG_TMP/authorized_keys"
cat >"$VG_TMP/sshd_config" <<EOC
Port 22
ListenAddress 0.0.0.0
HostKey $VG_TMP/host_key
PidFile $VG_TMP/sshd.pid
AuthorizedKeysFile $VG_TMP/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowStreamLocalForwarding yes
StrictModes no
UsePAM no
PermitTTY no
X11Forwarding no
LogLevel VERBOSE
EOC
mkdir -p /run/sshd # sshd's privilege separation directory

HOST1=$VG_TMP/podman.sock HOST2=$VG_TMP/http.sock
GUEST1=$VG_TMP/guest-sha.sock GUEST2=$VG_TMP/guest-http.sock
vg_start -forward-sock "$HOST1" -forward-dest "$GUEST1" -forward-user root \
	-forward-identity "$VG_TMP/id" \
	--forward-sock "unix://$HOST2" --forward-dest "$GUEST2" --forward-user root \
	--forward-identity "$VG_TMP/id"

[ -S "$HOST1" ] && [ -S "$HOST2" ] || vg_fail "HOSTPATH sockets not created"
for s in "$HOST1" "$HOST2"; do
	mode=$(stat -c %a "$s")
	[ "$mode" = 600 ] || vg_fail "$s has mode $mode, not 600"
done
vg_bg vg_ns "$PY" "$VG_SRC/tests/e2e/ssh_guest_servers.py" sha "$GUEST1"
vg_bg vg_ns "$PY" "$VG_SRC/tests/e2e/ssh_guest_servers.py" http "$GUEST2"
vg_wait_for 10 test -S "$GUEST1" -a -S "$GUEST2" || vg_fail "guest socket servers did not start"
# no sshd yet: vgate keeps trying and says so
vg_wait_for 15 grep -q "waiting for the guest's sshd" "$VG_LOG" || vg_fail "no retry logged"

# a client that connects before sshd is up: it waits in the listen backlog
cat >"$VG_TMP/client.py" <<'EOP'
import hashlib, os, socket, sys, threading
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sys.argv[1])
if len(sys.argv) > 2:
    open(sys.argv[2], "w").close()  # connected (waits in the backlog)
data = os.urandom(512 << 10)
want = hashlib.sha256(data).hexdigest()
threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR))).start()
got = bytearray()
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    got += b
line, _, back = bytes(got).partition(b"\n")
assert line.decode() == want, f"guest saw sha {line[:64]!r}, sent {want}"
assert hashlib.sha256(back).hexdigest() == want, f"echo differs: {len(back)} bytes"
print("ok", len(data), len(back))
EOP
timeout 25 "$PY" "$VG_TMP/client.py" "$HOST1" "$VG_TMP/early.connected" >"$VG_TMP/early.out" 2>&1 &
EARLY=$!
VG_CLEANUP_PIDS+=("$EARLY")
vg_wait_for 10 test -e "$VG_TMP/early.connected" || vg_fail "early client: $(cat "$VG_TMP/early.out")"
kill -0 "$EARLY" 2>/dev/null || vg_fail "early client ended before sshd started: $(cat "$VG_TMP/early.out")"

vg_bg vg_ns "$SSHD" -D -e -f "$VG_TMP/sshd_config" 2>"$VG_TMP/sshd.log"
vg_wait_for 15 grep -q "SSH session up" "$VG_LOG" || vg_fail "no SSH session: $(tail -n 5 "$VG_TMP/sshd.log")"
wait "$EARLY" || vg_fail "early client: $(cat "$VG_TMP/early.out")"
vg_log "early client (connected before sshd started): $(cat "$VG_TMP/early.out")"

out=$(timeout 20 "$PY" "$VG_TMP/client.py" "$HOST1" 2>&1) || vg_fail "client: $out"
vg_log "client: $out"
body=$(timeout 20 curl -sS --unix-socket "$HOST2" http://guest/100000) || vg_fail "curl through $HOST2 failed"
[ "${#body}" = 100000 ] || vg_fail "curl got ${#body} bytes, not 100000"
vg_log "curl --unix-socket $HOST2: 100000 bytes"

# the guest's sshd goes away (listener and session processes): the session
# is lost and made again once sshd is back; a client that connects
# meanwhile waits and is served by the new session
sshd_pid=$(cat "$VG_TMP/sshd.pid")
mapfile -t kids < <(ps -o pid= --ppid "$sshd_pid")
kill "$sshd_pid" "${kids[@]}"
vg_wait_for 10 grep -q "SSH session lost" "$VG_LOG" || vg_fail "session loss not noticed"
timeout 25 "$PY" "$VG_TMP/client.py" "$HOST1" "$VG_TMP/late.connected" >"$VG_TMP/late.out" 2>&1 &
LATE=$!
VG_CLEANUP_PIDS+=("$LATE")
vg_wait_for 10 test -e "$VG_TMP/late.connected" || vg_fail "client: $(cat "$VG_TMP/late.out")"
vg_bg vg_ns "$SSHD" -D -e -f "$VG_TMP/sshd_config" 2>>"$VG_TMP/sshd.log"
wait "$LATE" || vg_fail "client across the session loss: $(cat "$VG_TMP/late.out")"
vg_log "client across sshd's restart: $(cat "$VG_TMP/late.out")"

grep -q "guest host key SHA256:.* pinned" "$VG_LOG" || vg_fail "host key not logged as pinned"
fp=$(ssh-keygen -lf "$VG_TMP/host_key.pub" | awk '{print $2}')
grep -qF "$fp" "$VG_LOG" || vg_fail "logged fingerprint is not sshd's ($fp)"
# the guest's sshd saw connections from the gateway, not from a host port
grep -q "from 192.168.127.1 port" "$VG_TMP/sshd.log" || vg_fail "sshd saw no connection from the gateway"
kill -0 "$VG_PID" || vg_fail "vgate died"
kill "$VG_PID"
vg_wait_for 5 bash -c "! kill -0 $VG_PID 2>/dev/null" || vg_fail "vgate did not stop"
VG_PID=""
[ ! -e "$HOST1" ] && [ ! -e "$HOST2" ] || vg_fail "HOSTPATH sockets left behind"
vg_pass
