#!/bin/sh
# tcp-echo: send a unique line over TCP to vgtcp=HOST:PORT (default 203.0.113.7:5000,
# a TEST-NET address that vgate terminates itself) and expect it echoed back.
dst=${VG_TCP:-203.0.113.7:5000}
msg="vgate-echo-$(cat /proc/sys/kernel/random/uuid)"
out=$(echo "$msg" | timeout 15 nc -w 5 "${dst%:*}" "${dst##*:}")
echo "VGTEST TCP $dst sent=${#msg} got=${#out}"
[ "$out" = "$msg" ] || { echo "tcp-echo: want '$msg', got '$out'"; exit 1; }
