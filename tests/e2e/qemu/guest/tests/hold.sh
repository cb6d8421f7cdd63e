#!/bin/sh
# hold: keep the link busy for vghold= seconds (ping the gateway every 0.2 s), so that
# the host side can kill QEMU in the middle of traffic. Passes if any reply came back.
echo "VGTEST HOLDING ${VG_HOLD}s"
ping -i 0.2 -w "$VG_HOLD" "$VG_GW" | tail -n 3
ping -c 1 -w 3 "$VG_GW" >/dev/null
