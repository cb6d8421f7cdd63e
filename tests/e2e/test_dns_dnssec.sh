#!/usr/bin/env bash
# test_dns_dnssec.sh - DNSSEC transparency (issue 11) against a real
# authoritative server: NSD on 127.0.0.x serves two zones signed at test
# time with ldns-keygen / ldns-signzone (NSEC; a third one with NSEC3), and
# is vgate's only upstream.
#  - differential: for 24 (name, type) pairs (A, AAAA, CNAME chain, MX,
#    multi-string TXT, SRV, CAA, HTTPS, NAPTR, wildcard, an unknown type, a
#    60-record set, a TXT set over 1232 bytes (TC, then TCP on both sides),
#    DNSKEY, NXDOMAIN, NODATA, ...), over UDP and TCP, with and without DO,
#    dig in the guest through vgate gets the same answer section as dig
#    straight from NSD (TTLs aside: vgate counts them down), and for negative
#    answers the same authority section; with DO the RRSIGs (and for
#    NXDOMAIN/NODATA the NSEC records and their RRSIGs) are there, without
#    DO no RRSIG/NSEC appears anywhere in the message
#  - validation in the guest: unbound-host with the zone's KSK as trust
#    anchor, forwarding to the gateway, reports positive, NXDOMAIN and
#    NODATA answers "(secure)"; in the second zone an A record was altered
#    after signing, and unbound-host reports it "(BOGUS ...)"; vgate never
#    sets AD on it (NSD does not validate, so nothing vouches for it)
#  - NSEC3: an NXDOMAIN's NSEC3 records reach DO clients only, equal to
#    NSD's, and unbound-host finds the denial secure
#  - the CD bit reaches upstream and a CD answer is its own cache entry
#    (/stats cd_queries; the upstream query count)
source "$(dirname "$0")/lib.sh"

command -v nsd >/dev/null || vg_fail "nsd missing (scripts/setup installs it)"
command -v ldns-signzone >/dev/null || vg_fail "ldns-signzone missing (ldnsutils)"
command -v unbound-host >/dev/null || vg_fail "unbound-host missing"

Z=$VG_TMP/zones
mkdir -p "$Z"
NSDADDR=127.0.0.$((20 + $$ % 80))
NSDPORT=$(vg_free_port)

# the test zone: every kind of record the differential checks
cat >"$Z/dnssec.test.zone" <<'EOF'
$ORIGIN dnssec.test.
$TTL 300
@	IN SOA ns hostmaster 1 3600 600 86400 60
@	IN NS ns
ns	IN A 127.0.0.1
@	IN MX 10 mail
mail	IN A 10.0.0.25
www	IN A 10.0.0.1
www	IN AAAA fd00::1
alias	IN CNAME alias2
alias2	IN CNAME www
txt	IN TXT "first string" "second string" "third"
_sip._udp IN SRV 0 5 5060 sip
sip	IN A 10.0.0.5
@	IN CAA 0 issue "ca.example.net"
svc	IN HTTPS 1 . alpn="h2,h3" port=8443
naptr	IN NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.test!" .
*.wild	IN A 10.0.0.9
unk	IN TYPE65400 \# 4 01020304
EOF
for i in $(seq 1 60); do echo "big IN A 10.1.0.$i"; done >>"$Z/dnssec.test.zone"
for i in $(seq 1 20); do
	printf 'bigtxt IN TXT "record %02d %s"\n' "$i" "$(printf 'x%.0s' $(seq 1 80))"
done >>"$Z/dnssec.test.zone"
cat >"$Z/tamper.test.zone" <<'EOF'
$ORIGIN tamper.test.
$TTL 300
@	IN SOA ns hostmaster 1 3600 600 86400 60
@	IN NS ns
ns	IN A 127.0.0.1
www	IN A 10.0.0.1
EOF
sed 's/tamper\.test\./nsec3.test./' "$Z/tamper.test.zone" >"$Z/nsec3.test.zone"
(
	cd "$Z"
	for zone in dnssec.test tamper.test nsec3.test; do
		ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$zone")
		zsk=$(ldns-keygen -a ECDSAP256SHA256 "$zone")
		nsec3=()
		[ "$zone" = nsec3.test ] && nsec3=(-n -s beef -t 0)
		ldns-signzone "${nsec3[@]}" -f "$zone.signed" "$zone.zone" "$ksk" "$zsk"
		cp "$ksk.key" "$zone.anchor"
	done
)
# tamper: change the signed A record's data, keep its signature
sed -i -E 's/^(www\.tamper\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+)10\.0\.0\.1$/\110.6.6.6/' \
	"$Z/tamper.test.signed"
grep -q "10.6.6.6" "$Z/tamper.test.signed" || vg_fail "could not tamper with the signed zone"

cat >"$Z/nsd.conf" <<EOF
server:
	ip-address: $NSDADDR
	port: $NSDPORT
	username: ""
	chroot: ""
	zonesdir: "$Z"
	database: ""
	zonelistfile: "$Z/zone.list"
	xfrdfile: "$Z/xfrd.state"
	xfrdir: "$Z"
	pidfile: "$Z/nsd.pid"
	logfile: "$Z/nsd.log"
	server-count: 1
	reuseport: no
	hide-version: yes
remote-control:
	control-enable: no
zone:
	name: dnssec.test
	zonefile: dnssec.test.signed
zone:
	name: tamper.test
	zonefile: tamper.test.signed
zone:
	name: nsec3.test
	zonefile: nsec3.test.signed
EOF
nsd-checkconf "$Z/nsd.conf" || vg_fail "nsd.conf rejected"
vg_bg nsd -d -c "$Z/nsd.conf"
NSD=(dig "@$NSDADDR" -p "$NSDPORT" +time=3 +tries=2 +nocookie)
vg_wait_for 20 "${NSD[@]}" +short dnssec.test SOA || vg_fail "NSD did not start: $(cat "$Z/nsd.log")"

sock=$VG_TMP/api.sock
vg_start --dns-upstream "$NSDADDR:$NSDPORT" --dns-max-ttl 300 --api "unix://$sock"
GW=(vg_ns dig @192.168.127.1 +time=5 +tries=2 +nocookie)

dstat() {
	curl -sS --max-time 10 --unix-socket "$sock" http://vgate/stats |
		python3 -c "import json,sys; print(json.load(sys.stdin)['dns']['$1'])" ||
		vg_fail "no dns.$1 in /stats"
}

# norm SECTION-FLAGS: dig records with the TTL column dropped
norm() { awk '!/^;/ && NF { $2 = ""; print }'; }

# case NAME TYPE KIND: compare one (name, type) in 4 modes; KIND pos|neg
ncases=0
check_case() {
	local name=$1.dnssec.test type=$2 kind=$3 mode sect a b full
	[ "$1" = @ ] && name=dnssec.test
	sect=(+noall +answer)
	[ "$kind" = neg ] && sect=(+noall +answer +authority)
	for mode in "" +tcp +dnssec "+dnssec +tcp"; do
		# shellcheck disable=SC2086 # $mode: zero, one or two dig options
		a=$("${NSD[@]}" $mode "${sect[@]}" "$name" "$type" | norm) ||
			vg_fail "dig NSD $name $type $mode"
		# shellcheck disable=SC2086
		b=$("${GW[@]}" $mode "${sect[@]}" "$name" "$type" | norm) ||
			vg_fail "dig vgate $name $type $mode"
		[ -n "$a" ] || vg_fail "NSD gave nothing for $name $type $mode"
		[ "$a" = "$b" ] || vg_fail "$name $type $mode differs:
--- NSD
$a
--- vgate
$b"
		# shellcheck disable=SC2086
		full=$("${GW[@]}" $mode +noall +answer +authority +additional "$name" "$type") ||
			vg_fail "dig vgate $name $type $mode (all sections)"
		case "$mode" in
		*dnssec*)
			grep -q "RRSIG" <<<"$b" || vg_fail "$name $type $mode: no RRSIG: $b"
			if [ "$kind" = neg ]; then
				grep -qP "\tNSEC\t|\sNSEC\s" <<<"$b" || vg_fail "$name $type $mode: no NSEC: $b"
			fi
			;;
		*)
			if grep -qE "RRSIG|NSEC" <<<"$full"; then
				vg_fail "$name $type $mode: DNSSEC records without DO: $full"
			fi
			;;
		esac
	done
	ncases=$((ncases + 1))
}

check_case www A pos
check_case www AAAA pos
check_case alias A pos
check_case alias2 CNAME pos
check_case @ MX pos
check_case mail A pos
check_case txt TXT pos
check_case _sip._udp SRV pos
check_case sip A pos
check_case @ CAA pos
check_case svc HTTPS pos
check_case naptr NAPTR pos
check_case foo.wild A pos
check_case deeper.foo.wild A pos
check_case unk TYPE65400 pos
check_case big A pos
check_case bigtxt TXT pos
check_case @ SOA pos
check_case @ NS pos
check_case @ DNSKEY pos
check_case ns A pos
check_case nope A neg
check_case www MX neg
check_case foo.wild AAAA neg
check_case deep.nope TXT neg
[ "$ncases" -ge 20 ] || vg_fail "only $ncases cases"
vg_log "$ncases names/types equal NSD's over UDP, TCP, with and without DO"

# the 60-record set is all there, the TXT set came over TCP upstream
out=$("${GW[@]}" big.dnssec.test A +dnssec)
grep -q "ANSWER: 61," <<<"$out" || vg_fail "60 A + RRSIG: $out"
[ "$(dstat upstream_tcp)" -ge 1 ] || vg_fail "the large TXT set did not go over TCP upstream"
out=$("${GW[@]}" bigtxt.dnssec.test TXT)
grep -q "Truncated, retrying in TCP mode" <<<"$out" || vg_fail "no TC for the large TXT set: $out"
grep -q "ANSWER: 20," <<<"$out" || vg_fail "large TXT over TCP: $out"

# AD: NSD does not validate, so vgate never claims it
out=$("${GW[@]}" +dnssec +adflag www.dnssec.test A)
if grep -q "flags:.* ad" <<<"$out"; then vg_fail "AD without a validating upstream: $out"; fi

# validation in the guest: secure answers, a bogus one. unbound answers the
# special-use name test. itself (NXDOMAIN) unless told not to.
printf 'server:\n\tlocal-zone: "test." nodefault\n' >"$Z/unbound.conf"
UH=(vg_ns unbound-host -C "$Z/unbound.conf" -v -r -f "$Z/dnssec.test.anchor")
out=$("${UH[@]}" -t A www.dnssec.test 2>&1) || vg_fail "unbound-host www: $out"
grep -q "www.dnssec.test has address 10.0.0.1 (secure)" <<<"$out" ||
	vg_fail "not secure: $out $("${UH[@]}" -d -d -t A www.dnssec.test 2>&1 | tail -60)"
out=$("${UH[@]}" -t A alias.dnssec.test 2>&1) || vg_fail "unbound-host alias: $out"
grep -q "has address 10.0.0.1 (secure)" <<<"$out" || vg_fail "CNAME chain not secure: $out"
out=$("${UH[@]}" -t TXT bigtxt.dnssec.test 2>&1) || vg_fail "unbound-host bigtxt: $out"
grep -q "(secure)" <<<"$out" || vg_fail "large TXT not secure: $out"
grep -q "(insecure)\|BOGUS" <<<"$out" && vg_fail "large TXT: $out"
out=$("${UH[@]}" -t A nope.dnssec.test 2>&1) || true
grep -q "not found: 3(NXDOMAIN). (secure)" <<<"$out" || vg_fail "NXDOMAIN not secure: $out"
out=$("${UH[@]}" -t MX www.dnssec.test 2>&1) || true
grep -q "has no mail handler record (secure)" <<<"$out" || vg_fail "NODATA not secure: $out"
out=$("${UH[@]}" -t A foo.wild.dnssec.test 2>&1) || vg_fail "unbound-host wildcard: $out"
grep -q "has address 10.0.0.9 (secure)" <<<"$out" || vg_fail "wildcard not secure: $out"
vg_log "unbound-host in the guest: secure"
out=$(vg_ns unbound-host -C "$Z/unbound.conf" -v -r -f "$Z/tamper.test.anchor" -t A \
	www.tamper.test 2>&1) || true
grep -q "BOGUS" <<<"$out" || vg_fail "tampered answer not bogus: $out"
grep -q "(secure)" <<<"$out" && vg_fail "tampered answer secure: $out"
out=$("${GW[@]}" +dnssec www.tamper.test A)
grep -q "10.6.6.6" <<<"$out" || vg_fail "tampered data: $out"
if grep -q "flags:.* ad" <<<"$out"; then vg_fail "AD on tampered data: $out"; fi
vg_log "tampered answer: bogus"

# NSEC3 (RFC 5155): the denial records reach DO clients only, and validate
for mode in "" +tcp; do
	# shellcheck disable=SC2086
	a=$("${NSD[@]}" $mode +dnssec +noall +authority nope.nsec3.test A | norm)
	# shellcheck disable=SC2086
	b=$("${GW[@]}" $mode +dnssec +noall +authority nope.nsec3.test A | norm)
	grep -q "NSEC3" <<<"$b" || vg_fail "no NSEC3 with DO $mode: $b"
	[ "$a" = "$b" ] || vg_fail "NSEC3 denial $mode differs:
--- NSD
$a
--- vgate
$b"
	# shellcheck disable=SC2086
	b=$("${GW[@]}" $mode +noall +authority +additional nope.nsec3.test A)
	if grep -qE "NSEC3|RRSIG" <<<"$b"; then vg_fail "NSEC3 without DO $mode: $b"; fi
done
out=$(vg_ns unbound-host -C "$Z/unbound.conf" -v -r -f "$Z/nsec3.test.anchor" -t A \
	nope.nsec3.test 2>&1) || true
grep -q "not found: 3(NXDOMAIN). (secure)" <<<"$out" || vg_fail "NSEC3 NXDOMAIN not secure: $out"
vg_log "NSEC3 denial: passed through, secure"

# CD: passed upstream, its own cache entry (mail A is cached with CD=0 by now;
# --dns-max-ttl 300 keeps it so for this test's life)
"${GW[@]}" mail.dnssec.test A >/dev/null || vg_fail "dig mail failed"
cd0=$(dstat cd_queries)
q0=$(dstat upstream_queries)
"${GW[@]}" +cd +dnssec mail.dnssec.test A >/dev/null || vg_fail "dig +cd failed"
q1=$(dstat upstream_queries)
[ "$q1" = $((q0 + 1)) ] || vg_fail "CD query not sent upstream apart ($q0 -> $q1)"
"${GW[@]}" +cd +dnssec mail.dnssec.test A >/dev/null || vg_fail "dig +cd failed"
"${GW[@]}" mail.dnssec.test A >/dev/null || vg_fail "dig mail failed"
[ "$(dstat upstream_queries)" = "$q1" ] || vg_fail "CD/non-CD entries not hits"
[ "$(dstat cd_queries)" = $((cd0 + 2)) ] || vg_fail "cd_queries $(dstat cd_queries), was $cd0"
[ "$(dstat do_queries)" -gt 0 ] || vg_fail "do_queries not counted"
# GET /dns/cache shows the two entries of mail A: CD and not, both signed
kinds=$(curl -sS --max-time 10 --unix-socket "$sock" http://vgate/dns/cache | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entries"]:
    if e["name"] == "mail.dnssec.test" and e["type"] == "A":
        print("cd=%s dnssec=%s" % (e["cd"], e["dnssec"]))' | sort | tr '\n' ' ')
[ "$kinds" = "cd=False dnssec=True cd=True dnssec=True " ] || vg_fail "GET /dns/cache: '$kinds'"

vg_pass
