#!/usr/bin/env bash
# run-guest.sh — boot the vgate test guest in QEMU (TCG) on a --listen-qemu socket and
# report the result of the guest-side test.
#
# Usage: tests/e2e/qemu/run-guest.sh --sock PATH [options]
#   --sock PATH       unix socket vgate listens on (vgate --listen-qemu unix://PATH);
#                     it must already be listening: QEMU 7.2 connects once, no retry
#   --test NAMES      guest test(s), comma separated (default dhcp-ping); see
#                     guest/tests/: ping dhcp-ping wget dns tcp-echo hold
#   --url URL         for wget;   --sha256 HEX  expected sha256 of URL's body
#   --name NAME       for dns;    --expect IP   expected address in the answer
#   --hold SECS       for hold (default 30)
#   --tcp HOST:PORT   for tcp-echo (default 203.0.113.7:5000)
#   --ip ADDR/PREFIX  static address instead of DHCP (--gw IP, default 192.168.127.1)
#   --mtu N           virtio-net host_mtu=N (the guest link MTU)
#   --mac MAC         guest MAC (default 52:54:00:12:34:56)
#   --append STR      more kernel command line
#   --log FILE        serial console log (default: a temp file, kept on failure)
#   --pidfile FILE    QEMU writes its pid here (lets a test kill QEMU mid-run)
#   --timeout SECS    bound on the whole boot (default 120)
#   --cache DIR       guest build dir (default tests/e2e/.cache/qemu); the guest is
#                     (re)built there with build-guest.sh when needed
# Prints the guest's "VGTEST ..." marker lines. Exit: 0 all guest tests ok, 1 a guest
# test failed, 2 usage, 3 no result (QEMU timed out, crashed or was killed).
# Always TCG (-accel tcg -cpu qemu64): /dev/kvm on these machines is not usable.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOCK='' TESTS=dhcp-ping URL='' SHA='' NAME='' EXPECT='' HOLD='' TCP='' IP='' GW='' MTU='' MAC=52:54:00:12:34:56
APPEND='' LOG='' PIDFILE='' TIMEOUT=120 CACHE=$HERE/../.cache/qemu

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || case "$1" in -h|--help) usage;; *) echo "run-guest: $1 needs a value" >&2; exit 2;; esac
  case "$1" in
    --sock) SOCK=$2;; --test) TESTS=$2;; --url) URL=$2;; --sha256) SHA=$2;;
    --name) NAME=$2;; --expect) EXPECT=$2;; --hold) HOLD=$2;; --tcp) TCP=$2;; --ip) IP=$2;; --gw) GW=$2;;
    --mtu) MTU=$2;; --mac) MAC=$2;; --append) APPEND=$2;; --log) LOG=$2;;
    --pidfile) PIDFILE=$2;; --timeout) TIMEOUT=$2;; --cache) CACHE=$2;;
    *) echo "run-guest: unknown option $1" >&2; exit 2;;
  esac
  shift 2
done
[ -n "$SOCK" ] || { echo "run-guest: --sock PATH is required" >&2; exit 2; }
[ -S "$SOCK" ] || { echo "run-guest: $SOCK is not a listening socket (start vgate --listen-qemu first)" >&2; exit 3; }
command -v qemu-system-x86_64 >/dev/null || { echo "run-guest: qemu-system-x86_64 missing (apt-get install -y qemu-system-x86)" >&2; exit 3; }

timeout 900 "$HERE/build-guest.sh" "$CACHE" >&2

cmdline="console=ttyS0 quiet panic=-1 vgtest=$TESTS"
[ -z "$URL" ]    || cmdline+=" vgurl=$URL"
[ -z "$SHA" ]    || cmdline+=" vgsha256=$SHA"
[ -z "$NAME" ]   || cmdline+=" vgname=$NAME"
[ -z "$EXPECT" ] || cmdline+=" vgexpect=$EXPECT"
[ -z "$HOLD" ]   || cmdline+=" vghold=$HOLD"
[ -z "$TCP" ]    || cmdline+=" vgtcp=$TCP"
[ -z "$IP" ]     || cmdline+=" vgip=$IP"
[ -z "$GW" ]     || cmdline+=" vggw=$GW"
[ -z "$APPEND" ] || cmdline+=" $APPEND"

own_log=0
if [ -z "$LOG" ]; then LOG=$(mktemp /tmp/vgate-guest.XXXXXX.log); own_log=1; fi
: > "$LOG"
# romfile= : no iPXE option ROM (it only costs boot time; we boot with -kernel).
netdev_dev="virtio-net-pci,netdev=n0,mac=$MAC,romfile="
[ -z "$MTU" ] || netdev_dev+=",host_mtu=$MTU"

# -nodefaults: no default NIC (QEMU's user-mode network would reach the outside), no
# VGA; the only network is the stream socket to vgate.
qemu=(qemu-system-x86_64 -nodefaults -accel tcg -cpu qemu64 -smp 1 -m 256
      -nographic -no-reboot -monitor none -serial "file:$LOG"
      -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.img" -append "$cmdline"
      -netdev "stream,id=n0,server=off,addr.type=unix,addr.path=$SOCK"
      -device "$netdev_dev")
own_pidfile=0
if [ -z "$PIDFILE" ]; then PIDFILE=$LOG.pid; own_pidfile=1; fi
rm -f "$PIDFILE"
qemu+=(-pidfile "$PIDFILE")

qpid=""
# shellcheck disable=SC2317  # called from the EXIT trap
kill_qemu() {  # QEMU itself (by its pid file: killing timeout(1) would orphan it)
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = qemu-system-x86 ]; then
    kill -9 "$pid" 2>/dev/null || true
  fi
}
# shellcheck disable=SC2317
cleanup() {
  if [ -n "$qpid" ]; then
    kill -TERM "$qpid" 2>/dev/null || true   # timeout(1) passes it on to QEMU
    kill_qemu
    for _ in $(seq 50); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
  fi
  [ "$own_pidfile" = 0 ] || rm -f "$PIDFILE"
  rm -f "$LOG.qemu"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
t0=$(date +%s.%N)
# timeout(1) runs QEMU in its own process group; -k makes sure it dies.
timeout -k 5 "$TIMEOUT" "${qemu[@]}" </dev/null >>"$LOG.qemu" 2>&1 &
qpid=$!
set +e; wait "$qpid"; qrc=$?; set -e
qpid=""
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')

# Marker lines may follow firmware escape sequences on the same line.
grep -ao 'VGTEST .*' "$LOG" | tr -d '\r' || true
cat "$LOG.qemu" >> "$LOG" 2>/dev/null; rm -f "$LOG.qemu"
done_line=$(grep -ao 'VGTEST DONE .*' "$LOG" | tr -d '\r' | tail -n1 || true)
case "$done_line" in
  "VGTEST DONE ok")
    echo "run-guest: PASS ($TESTS) in ${secs}s"
    [ "$own_log" = 0 ] || rm -f "$LOG"
    exit 0 ;;
  "VGTEST DONE fail") rc=1; why="guest test failed" ;;
  *) rc=3; why="no result (qemu exit $qrc)"
     [ "$qrc" != 124 ] || why="no result (timed out after ${TIMEOUT}s)" ;;
esac
echo "run-guest: FAIL ($TESTS): $why after ${secs}s; serial log: $LOG" >&2
echo "---- last lines of $LOG ----" >&2
tail -n 40 "$LOG" | tr -d '\r' >&2
exit $rc
