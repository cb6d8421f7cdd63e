#!/bin/sh
# dns: resolve vgname= (default gateway.vgate.internal) through the DNS server from the
# lease (or the gateway); if vgexpect= is given the answer must contain it.
name=${VG_NAME:-gateway.vgate.internal}
out=$(timeout 15 nslookup "$name" "$VG_DNS" 2>&1); rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "dns: nslookup $name failed"; exit 1; }
addrs=$(echo "$out" | awk '/^Name:/ {n=1; next} n && /^Address/ {print $NF}' | tr '\n' ' ')
echo "VGTEST DNS $name ${addrs:-none}"
[ -n "$addrs" ] || exit 1
[ -z "$VG_EXPECT" ] || echo " $addrs" | grep -q " $VG_EXPECT " || { echo "dns: want $VG_EXPECT"; exit 1; }
