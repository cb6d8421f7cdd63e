#!/bin/sh
# ping6: the guest gets an IPv6 address from vgate's Router Advertisements
# (SLAAC in fd00:7661:7465::/64, vgate's default prefix) and 3 echo requests
# each to the gateway's fe80::1 and fd00:7661:7465::1 succeed. The lease
# script flushed eth0's addresses (its link-local one too), so IPv6 is
# restarted on eth0 first, as an interface coming up would.
c=/proc/sys/net/ipv6/conf/eth0
[ -d "$c" ] || { echo "ping6: no IPv6 in this kernel"; exit 1; }
echo 2 >"$c/accept_ra"
echo 1 >"$c/disable_ipv6"
echo 0 >"$c/disable_ipv6"
# /proc/net/if_inet6: address, ifindex, prefix length, scope, flags (0x40
# tentative, 0x08 DAD failed), name; wait for the SLAAC address past DAD
i=0
while [ $i -lt 100 ]; do
  a=$(grep '^fd00766174650000' /proc/net/if_inet6 | grep ' eth0$')
  if [ -n "$a" ]; then
    f=$(echo "$a" | awk '{ print $5 }' | head -n 1)
    [ $((0x$f & 0x48)) = 0 ] && break
  fi
  sleep 0.2
  i=$((i + 1))
done
cat /proc/net/if_inet6
[ -n "$a" ] || { echo "ping6: no SLAAC address"; exit 1; }
[ $((0x$f & 0x48)) = 0 ] || { echo "ping6: address still tentative or DAD failed ($f)"; exit 1; }
ping -6 -c 3 -i 0.2 -w 15 fe80::1%eth0 && ping -6 -c 3 -i 0.2 -w 15 fd00:7661:7465::1
