#!/usr/bin/env bash
# test_pcap.sh - --pcap writes every guest frame; after SIGTERM the file is
# complete and tshark reads the guest's DHCP exchange and a DNS query and
# its answer from it.
. "$(dirname "$0")/lib.sh"
command -v tshark >/dev/null || vg_fail "tshark is not installed (scripts/setup)"

pcap=$VG_TMP/guest.pcap
vg_start --pcap "$pcap" --dns-record pcap.test=10.7.7.7
vg_ns dig +short +time=2 +tries=1 @192.168.127.1 pcap.test | vg_has -x 10.7.7.7 ||
	vg_fail "DNS answer missing"
kill -TERM "$VG_PID"
wait "$VG_PID" || vg_fail "vgate exited with $?"
VG_PID=""
[ -s "$pcap" ] || vg_fail "pcap file is empty"

# tshark runs as root here: keep it from complaining, read only our file
tshark -r "$pcap" -T fields -e frame.number >/dev/null 2>"$VG_TMP/tshark.err" ||
	vg_fail "tshark cannot read the file: $(cat "$VG_TMP/tshark.err")"
dhcp=$(tshark -r "$pcap" -Y 'dhcp.option.dhcp == 5' -T fields -e dhcp.ip.your 2>/dev/null)
grep -q 192.168.127.2 <<<"$dhcp" || vg_fail "no DHCP ACK for the guest in the pcap"
tshark -r "$pcap" -Y 'dhcp.option.dhcp == 1' 2>/dev/null | vg_has . || vg_fail "no DHCP DISCOVER"
q=$(tshark -r "$pcap" -Y 'dns.flags.response == 0 && dns.qry.name == "pcap.test"' 2>/dev/null | wc -l)
a=$(tshark -r "$pcap" -Y 'dns.flags.response == 1 && dns.a == 10.7.7.7' 2>/dev/null | wc -l)
[ "$q" -ge 1 ] && [ "$a" -ge 1 ] || vg_fail "DNS query/answer not in the pcap ($q/$a)"
# both directions: frames from the guest's MAC and to it
src=$(tshark -r "$pcap" -T fields -e eth.src 2>/dev/null | sort -u | wc -l)
[ "$src" -ge 2 ] || vg_fail "only one direction captured"
vg_pass
