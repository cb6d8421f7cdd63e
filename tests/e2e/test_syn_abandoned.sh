#!/bin/bash
# test_syn_abandoned.sh - half-open flows the guest gives up do not hold
# the forwarder's flow slots (issue 10, SYN bursts): the guest sends 100
# hand-made SYNs from its own address to a host echo server; vgate connects
# out for each and answers with SYN-ACK, which the guest's kernel (no socket
# behind those ports) answers with RST (200 would pass the forwarder's
# per-source half-open bound under the 1024-fd limit, 151). lwIP frees each
# half-open pcb at once, and the forwarder must hear of it (tcp_abandoned)
# and end the record with its host connection, long before --connect-timeout (120 s here, so
# the timeout cannot be what ends them): within 20 s no forwarder flow is
# left, all 100 are counted as abandoned (in the netstack and in the
# forwarder) and none as timed out, and DNS, /stats and new connections
# work throughout.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"
source "$(dirname "$0")/budget_lib.sh"
source "$(dirname "$0")/stall_lib.sh"

N=100
bud_start --connect-timeout 120
RAW=$VG_SRC/tests/e2e/raw_guest.py

out=$(vg_ns python3 "$RAW" syns 192.168.127.254 "$BUD_PORT" "$N")
[ "$out" = "sent $N" ] || vg_fail "raw_guest: $out"
all_gone() {
	[ "$(stall_stat forwarder tcp_active)" -eq 0 ] &&
		[ "$(stall_stat forwarder tcp_abandoned)" -ge "$N" ]
}
end=$((SECONDS + 20)) # wall-clock bound: each check takes two API calls
until all_gone; do
	[ $SECONDS -lt $end ] ||
		vg_fail "forwarder flows $(stall_stat forwarder tcp_active), abandoned $(stall_stat forwarder tcp_abandoned) of $N after 20 s"
	sleep 0.2
done
ab=$(stall_stat forwarder tcp_abandoned)
told=$(stall_stat link tcp_abandoned)
vg_log "forwarder: $ab abandoned handshakes ended; netstack told $told"
[ "$ab" -eq "$N" ] || vg_fail "$ab abandoned, not $N"
[ "$told" -ge "$N" ] || vg_fail "the netstack told $told, not $N"
[ "$(stall_stat link tcp_abandoned_lost)" -eq 0 ] || vg_fail "abandoned flows not told"
[ "$(stall_stat forwarder tcp_timeouts)" -eq 0 ] || vg_fail "records ended by the timeout"
bud_matrix "after the burst"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
