#!/usr/bin/env bash
# test_gvapi.sh - gvproxy's HTTP API on vgate's --api socket, with gvproxy's
# shapes and status codes, driven with curl: /services/forwarder/expose of a
# forward then a real client through it to a server in the guest namespace
# (200, empty body), the forward listed by /all, a duplicate (500), not POST
# (400 "post only"), bad JSON (400), unexpose (200) and unexpose of nothing
# (500), the forward gone; "local" ":PORT" listens on every host address;
# protocol unix (a unix socket to the guest's TCP port, 0600, listed,
# duplicate and existing file 500, removed by unexpose);
# /services/dns/all and /add (a record, a Regexp, a DefaultIP, a merge)
# answered to dig in the guest; /services/dhcp/leases ({"ip":"mac"}), /cam,
# /stats with BytesSent and BytesReceived beside vgate's own groups.
. "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fwd_lib.sh"

sock=$VG_TMP/api.sock
vg_start --api "unix://$sock"
source "$(dirname "$0")/api_lib.sh"
GUEST=$(vg_lease_var ip)

vg_bg vg_ns python3 "$VG_SRC/tests/e2e/fwd_servers.py" banner 0.0.0.0 22
vg_wait_for 10 vg_ns bash -c "exec 3<>/dev/tcp/$GUEST/22" || vg_fail "guest server did not start"

body_is() { # body_is TEXT: the last body is exactly TEXT (empty: nothing)
	local want=$1 got
	got=$(cat "$VG_TMP/body")
	[ "$got" = "$want" ] || vg_fail "body '$got', expected '$want'"
}
banner_via() { # banner_via PORT: the guest server's banner through 127.0.0.1:PORT
	# shellcheck disable=SC2016 # $1 is the inner shell's
	timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && head -n 1 <&3' _ "$1"
}

P=$(fwd_port 0)
Q=$((P + 1))

# expose: 200 with an empty body, then a real client reaches the guest
expect 200 POST /services/forwarder/expose "{\"local\":\"127.0.0.1:$P\",\"remote\":\"$GUEST:22\",\"protocol\":\"tcp\"}"
body_is ""
[ "$(banner_via "$P")" = "hello from guest" ] || vg_fail "no banner through the exposed port"
# a "remote" without an address is the guest; no protocol is tcp; ":PORT" all addresses
expect 200 POST /services/forwarder/expose "{\"local\":\":$Q\",\"remote\":\":22\"}"
[ "$(banner_via "$Q")" = "hello from guest" ] || vg_fail "no banner through :$Q"
ss -Htln "sport = :$Q" | vg_has "0.0.0.0:$Q" || vg_fail ":$Q does not listen on 0.0.0.0"

# /all: gvproxy's objects, sorted by local
expect 200 GET /services/forwarder/all
jq_py "assert d == sorted(d, key=lambda f: (f['local'], f['protocol'])), d
assert {'local':'127.0.0.1:$P','remote':'$GUEST:22','protocol':'tcp'} in d, d
assert {'local':':$Q','remote':'$GUEST:22','protocol':'tcp'} in d, d
assert all(list(f) == ['local','remote','protocol'] for f in d), d"

# errors with gvproxy's codes and bodies
expect 500 POST /services/forwarder/expose "{\"local\":\"127.0.0.1:$P\",\"remote\":\"$GUEST:22\"}"
body_is "proxy already running for tcp on 127.0.0.1:$P"
expect 400 GET /services/forwarder/expose
body_is "post only"
expect 400 GET /services/forwarder/unexpose
body_is "post only"
expect 400 POST /services/forwarder/expose '{"local": '
grep -q . "$VG_TMP/body" || vg_fail "bad JSON: empty body"
expect 400 POST /services/forwarder/expose
body_is "EOF"
expect 400 POST /services/forwarder/expose "{\"local\":\"127.0.0.1:1\",\"remote\":\"nonsense\"}"
expect 500 POST /services/forwarder/expose "{\"local\":\"127.0.0.1:1\",\"remote\":\":22\",\"protocol\":\"sctp\"}"
body_is "unknown protocol sctp"
# unknown members are ignored, as Go's decoder does: still a duplicate
expect 500 POST /services/forwarder/expose "{\"local\":\"127.0.0.1:$P\",\"remote\":\":22\",\"x\":1}"

# unexpose: 200 empty, the port closed; again: 500
expect 200 POST /services/forwarder/unexpose "{\"local\":\"127.0.0.1:$P\",\"protocol\":\"tcp\"}"
body_is ""
expect 500 POST /services/forwarder/unexpose "{\"local\":\"127.0.0.1:$P\",\"protocol\":\"tcp\"}"
body_is "proxy not found"
if banner_via "$P" >/dev/null 2>&1; then vg_fail "127.0.0.1:$P still forwards after unexpose"; fi
expect 200 POST /services/forwarder/unexpose "{\"local\":\":$Q\"}"
expect 200 GET /services/forwarder/all
body_is "[]"

# protocol unix: a unix socket on the host (mode 0600) to the guest's TCP
# port; listed; an existing file or a duplicate is a 500; unexpose removes
# the socket file
U=$VG_TMP/fw.sock
banner_unix() { # the guest server's banner through the unix socket $1
	timeout 5 python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
print(s.makefile().readline().strip())' "$1"
}
expect 200 POST /services/forwarder/expose "{\"local\":\"$U\",\"remote\":\"$GUEST:22\",\"protocol\":\"unix\"}"
body_is ""
[ "$(banner_unix "$U")" = "hello from guest" ] || vg_fail "no banner through the unix forward"
[ "$(stat -c %a "$U")" = 600 ] || vg_fail "unix forward mode $(stat -c %a "$U"), expected 600"
expect 200 GET /services/forwarder/all
jq_py "assert d == [{'local':'$U','remote':'$GUEST:22','protocol':'unix'}], d"
expect 500 POST /services/forwarder/expose "{\"local\":\"$U\",\"remote\":\"$GUEST:22\",\"protocol\":\"unix\"}"
body_is "proxy already running for unix on $U"
: >"$VG_TMP/taken"
expect 500 POST /services/forwarder/expose "{\"local\":\"$VG_TMP/taken\",\"remote\":\":22\",\"protocol\":\"unix\"}"
vg_has "Address already in use" <"$VG_TMP/body" || vg_fail "existing file: $(cat "$VG_TMP/body")"
expect 500 POST /services/forwarder/expose "{\"local\":\"\",\"remote\":\":22\",\"protocol\":\"unix\"}"
expect 200 POST /services/forwarder/unexpose "{\"local\":\"$U\",\"protocol\":\"unix\"}"
[ ! -e "$U" ] || vg_fail "unexpose left the unix socket file"
expect 500 POST /services/forwarder/unexpose "{\"local\":\"$U\",\"protocol\":\"unix\"}"
body_is "proxy not found"
expect 500 POST /services/forwarder/expose "{\"local\":\"x\",\"remote\":\":22\",\"protocol\":\"npipe\"}"
body_is "unsupported protocol npipe"

# DNS: gvproxy's default zones listed; a zone added with a record, a
# Regexp and a DefaultIP answers dig from the guest; a zone without
# DefaultIP is NXDOMAIN for other names; adding to an existing zone merges
expect 200 GET /services/dns/all
jq_py "assert [z['Name'] for z in d] == ['containers.internal.', 'docker.internal.'], d
assert d[0]['Records'] == [{'Name':'gateway','IP':'192.168.127.1','Regexp':None},{'Name':'host','IP':'192.168.127.254','Regexp':None}], d
assert d[0]['DefaultIP'] == '', d"
expect 200 POST /services/dns/add '{"Name":"gvtest.internal.","Records":[{"Name":"web","IP":"10.1.1.1"},{"Regexp":"^api[0-9]+$","IP":"10.1.1.2"}],"DefaultIP":"10.1.1.9"}'
body_is ""
expect 200 POST /services/dns/add '{"Name":"nx.internal.","Records":[{"Name":"only","IP":"10.1.1.3"}]}'
expect 200 POST /services/dns/add '{"Name":"containers.internal.","Records":[{"Name":"extra","IP":"10.2.2.2"}]}'
dig_a() { vg_ns dig +short +time=2 +tries=1 @192.168.127.1 "$1" A; }
[ "$(dig_a web.gvtest.internal)" = 10.1.1.1 ] || vg_fail "web.gvtest.internal: $(dig_a web.gvtest.internal)"
[ "$(dig_a api42.gvtest.internal)" = 10.1.1.2 ] || vg_fail "api42.gvtest.internal not answered by the Regexp"
[ "$(dig_a else.gvtest.internal)" = 10.1.1.9 ] || vg_fail "else.gvtest.internal: not the DefaultIP"
[ "$(dig_a only.nx.internal)" = 10.1.1.3 ] || vg_fail "only.nx.internal not answered"
vg_ns dig +time=2 +tries=1 @192.168.127.1 other.nx.internal A | vg_has 'status: NXDOMAIN' ||
	vg_fail "other.nx.internal is not NXDOMAIN"
[ "$(dig_a extra.containers.internal)" = 10.2.2.2 ] || vg_fail "merged record not answered"
[ "$(dig_a gateway.containers.internal)" = 192.168.127.1 ] || vg_fail "gateway.containers.internal lost"
expect 200 GET /services/dns/all
jq_py "z = d[0]; assert z['Name'] == 'containers.internal.', d
assert [r['Name'] for r in z['Records']] == ['extra', 'gateway', 'host'], z
g = [x for x in d if x['Name'] == 'gvtest.internal.'][0]
assert g['DefaultIP'] == '10.1.1.9' and g['Records'][1] == {'Name':'','IP':'10.1.1.2','Regexp':'^api[0-9]+\$'}, g"
expect 400 GET /services/dns/add
body_is "post only"
expect 400 POST /services/dns/add '{"Name": '
expect 400 POST /services/dns/add '{"Name":"bad.internal.","Records":[{"Regexp":"(","IP":"10.0.0.1"}]}'

# leases: {"ip": "mac"}; the MAC table; /stats with gvproxy's two counters
mac=$(vg_ns cat /sys/class/net/tap0/address)
expect 200 GET /services/dhcp/leases
jq_py "assert d == {'$GUEST': '$mac'}, d"
expect 200 GET /cam
jq_py "assert d.get('$mac') == 0, d"
expect 200 GET /stats
jq_py 'assert d["BytesSent"] > 0 and d["BytesReceived"] > 0, d
assert "dhcp" in d and "link" in d, d'
# vgate's own /leases keeps its shape
expect 200 GET /leases
jq_py "assert any(l['ip'] == '$GUEST' for l in d['leases']), d"
kill -0 "$VG_PID" || vg_fail "vgate died"
vg_pass
