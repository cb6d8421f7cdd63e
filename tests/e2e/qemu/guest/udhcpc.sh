#!/bin/sh
# udhcpc event script of the test guest: configures eth0 from the lease and prints
# it as a "VGTEST LEASE ..." line; writes the lease to /run/lease (shell variables).
# udhcpc passes the lease in the environment (interface, ip, router, dns, ...):
# shellcheck disable=SC2154
case "$1" in
  deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    : > /etc/resolv.conf
    [ -n "$domain" ] && echo "domain $domain" >> /etc/resolv.conf
    [ -n "$search" ] && echo "search $search" >> /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    cat > /run/lease <<EOT
ip='$ip'
mask='$mask'
router='$router'
dns='$dns'
mtu='$mtu'
domain='$domain'
search='$search'
lease='$lease'
serverid='$serverid'
EOT
    # unquoted $router/$dns/$search on purpose: echo joins their words by single spaces
    # shellcheck disable=SC2086
    echo "VGTEST LEASE ip=$ip mask=$mask router=$(echo $router | tr ' ' ,) dns=$(echo $dns | tr ' ' ,) mtu=$mtu domain=$domain search=$(echo $search | tr ' ' ,) lease=$lease serverid=$serverid linkmtu=$(cat "/sys/class/net/$interface/mtu")"
    ;;
  leasefail|nak)
    echo "VGTEST DHCP $1 ${message:-}"
    ;;
esac
exit 0
