# shellcheck shell=bash
# stall_lib.sh - helpers for the memory-budget tests, sourced after lib.sh,
# fwd_lib.sh and budget_lib.sh: host servers that send fast or never read,
# a guest that opens flows it then stalls, and vgate's RSS, CPU and budget
# counters.

# stall_servers PORT: on 127.0.0.1, PORT sends as fast as each connection
# takes (64 KiB socket buffers), PORT+1 accepts and never reads (until
# stall_release), and PORT+2 accepts, sends nothing and closes when its
# client does (idle flows that end when the guest ends them); all stop by
# themselves after 900 s
stall_servers() {
	cat >"$VG_TMP/stall_srv.py" <<'EOP'
import os, selectors, socket, sys, time
exec(open(os.environ["BUD_PRELUDE"]).read())
port, release, end = int(sys.argv[1]), sys.argv[2], time.monotonic() + 900
sel, chunk, keep = selectors.DefaultSelector(), bytes(65536), []
for p in (port, port + 1, port + 2):
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", p)); l.listen(4096); l.setblocking(False)
    sel.register(l, selectors.EVENT_READ, p)
while time.monotonic() < end:
    if keep and os.path.exists(release):
        for c in keep: # unread bytes: the kernel resets these
            c.close()
        keep = []
    for key, ev in sel.select(0.2):
        if key.data in (port, port + 1, port + 2):
            try:
                c, _ = key.fileobj.accept()
            except OSError:
                continue
            c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            c.setblocking(False)
            if key.data == port:
                sel.register(c, selectors.EVENT_WRITE, "send")
            elif key.data == port + 1:
                keep.append(c) # never read
            else:
                sel.register(c, selectors.EVENT_READ, "idle")
        elif key.data == "idle":
            try:
                if key.fileobj.recv(65536):
                    continue
            except BlockingIOError:
                continue
            except OSError:
                pass
            sel.unregister(key.fileobj); key.fileobj.close()
        else:
            try:
                key.fileobj.send(chunk)
            except BlockingIOError:
                pass
            except OSError:
                sel.unregister(key.fileobj); key.fileobj.close()
EOP
	vg_bg python3 "$VG_TMP/stall_srv.py" "$1" "$VG_TMP/stall_srv.release"
	vg_wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$(($1 + 2))" || vg_fail "stall servers did not start"
}

# stall_release: the PORT+1 server closes the connections it never read
# (the host ends the flows whose guest side still has bytes queued for it)
stall_release() { touch "$VG_TMP/stall_srv.release"; }

# stall_guest PORT NREAD NWRITE DONE: in the guest, NREAD connections to the
# fast sender (never read) and NWRITE to the non-reader (written to until
# they block); writes "OPEN" to DONE when all are open, then holds them
# until DONE.stop exists (at most 240 s) and closes them all
stall_guest() {
	cat >"$VG_TMP/stall_guest.py" <<'EOP'
import os, socket, sys, time
exec(open(os.environ["BUD_PRELUDE"]).read())
port, nread, nwrite, done = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
socks, chunk, t0 = [], bytes(65536), time.monotonic()
for i in range(nread + nwrite):
    while time.monotonic() - t0 < 120:
        try:
            s = socket.create_connection(("192.168.127.254", port + (i >= nread)), timeout=5)
            break
        except OSError:
            time.sleep(0.05)
    else:
        sys.exit("could not open flow %d" % i)
    s.setblocking(False)
    socks.append(s)
for s in socks[nread:]:
    try:
        while True:
            s.send(chunk)
    except BlockingIOError:
        pass
open(done, "w").write("OPEN %d\n" % len(socks))
end = time.monotonic() + 240
while time.monotonic() < end and not os.path.exists(done + ".stop"):
    for s in socks[nread:]: # keep the writers' queues full
        try:
            s.send(chunk)
        except (BlockingIOError, OSError):
            pass
    time.sleep(0.2)
for s in socks:
    s.close()
EOP
	vg_ns python3 "$VG_TMP/stall_guest.py" "$@" &
	STALL_GUEST=$!
	VG_CLEANUP_PIDS+=("$STALL_GUEST")
}

# stall_rss: vgate's resident set in KiB
stall_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$VG_PID/status"; }

# stall_stat GROUP KEY: one counter from GET /stats
stall_stat() {
	curl -sS --max-time 2 --unix-socket "$BUD_SOCK" http://vgate/stats |
		python3 -c '
import json, sys
d = json.load(sys.stdin)
if sys.argv[2] not in d.get(sys.argv[1], {}):
    sys.exit("no %s.%s in /stats: %s" % (sys.argv[1], sys.argv[2], sorted(d)))
print(d[sys.argv[1]][sys.argv[2]])' "$1" "$2"
}

# stall_cpu_below PCT [soft]: vgate used under PCT % of a core over some 3 s
# window within 60 s (the attack's set-up may still be settling before
# that); fails the test unless "soft" (then it only waits and logs)
stall_cpu_below() {
	local a b i
	for i in $(seq 20); do
		a=$(bud_cpu)
		sleep 3 # measuring a duration, not waiting for a condition
		b=$(bud_cpu)
		if [ $((b - a)) -lt $((3 * $1)) ]; then
			vg_log "CPU: $((b - a)) ticks in 3 s (window $i)"
			return 0
		fi
	done
	[ "${2:-}" = soft ] && { vg_log "CPU still $((b - a)) ticks in 3 s"; return 0; }
	vg_fail "vgate uses over $1 % of a core: $((b - a)) ticks in the last 3 s"
}

# stall_transfer PORT: a new guest connection to the echo server moves 1 MiB
# both ways, intact
stall_transfer() {
	vg_ns python3 -c '
import os, socket, sys, threading
s = socket.create_connection(("192.168.127.254", int(sys.argv[1])), timeout=10)
data = os.urandom(1 << 20)
threading.Thread(target=s.sendall, args=(data,), daemon=True).start()
got = bytearray()
while len(got) < len(data):
    d = s.recv(65536)
    if not d:
        break
    got += d
assert bytes(got) == data, len(got)' "$1"
}
