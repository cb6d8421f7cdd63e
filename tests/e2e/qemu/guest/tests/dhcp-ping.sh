#!/bin/sh
# dhcp-ping: a DHCP lease was obtained (printed), then 3 pings to its router succeed.
if [ "$VG_LEASE" != 1 ]; then echo "dhcp-ping: no DHCP lease"; exit 1; fi
cat /run/lease
ip addr show dev eth0
ip route
ping -c 3 -i 0.2 -w 15 "$VG_GW"
