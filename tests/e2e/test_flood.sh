#!/usr/bin/env bash
# test_flood.sh - a guest that floods 100,000 random frames (raw AF_PACKET
# writes on its TAP, some shaped like IPv4/ARP to the gateway so they reach
# the deeper parsers) does not crash vgate, and the link still works after.
source "$(dirname "$0")/lib.sh"

vg_start
cat >"$VG_TMP/flood.py" <<'EOF2'
import os, random, socket, sys, time
count = int(sys.argv[1])
gw = bytes.fromhex("5a94efe40cdd")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("tap0", 0))
rnd = random.Random(4242)
deadline = time.time() + 60
sent = 0
for i in range(count):
    if time.time() > deadline:
        break
    n = rnd.randint(1, 1514)
    f = bytearray(rnd.getrandbits(8) for _ in range(n)) if n < 64 else bytearray(os.urandom(n))
    if n > 34 and i % 2:
        f[0:6] = gw
        f[12:14] = b"\x08\x00" if i % 4 == 1 else b"\x08\x06"
        if i % 8 == 1:
            f[14] = 0x45
    try:
        s.send(bytes(f))
        sent += 1
    except OSError:
        pass
print(sent)
EOF2
sent=$(vg_ns python3 "$VG_TMP/flood.py" 100000) || vg_fail "flood script failed"
vg_log "sent $sent random frames"
[ "$sent" -ge 90000 ] || vg_fail "only $sent frames sent"
kill -0 "$VG_PID" || vg_fail "vgate died under the flood"
vg_ns busybox ping -c 3 -W 2 192.168.127.1 >/dev/null || vg_fail "link broken after the flood"
vg_ns busybox udhcpc -i tap0 -n -q -f -t 3 -T 1 -s "$VG_TMP/udhcpc.sh" >/dev/null 2>&1 ||
	vg_fail "DHCP broken after the flood"
vg_pass
