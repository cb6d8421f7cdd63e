# shellcheck shell=bash
# api_lib.sh - helpers for the control-API tests, sourced after lib.sh. They
# talk HTTP over the unix socket in $sock; the last body is in $VG_TMP/body.
#   api CURL-ARGS...              raw request, prints the HTTP status
#   expect CODE METHOD PATH [BODY]  the request must answer CODE
#   jq_py PYTHON                  assert something about the JSON body as d
#   api_counter NAME              the counter vgate_NAME_total from /metrics

api() { curl -sS --unix-socket "$sock" -o "$VG_TMP/body" -w '%{http_code}' "$@" 2>"$VG_TMP/curl.err"; }
expect() { # expect CODE METHOD PATH [BODY]
	local code=$1 method=$2 path=$3 got
	if [ $# -ge 4 ]; then
		got=$(api -X "$method" -H 'Content-Type: application/json' --data "$4" "http://vgate$path")
	else
		got=$(api -X "$method" "http://vgate$path")
	fi
	[ "$got" = "$code" ] || vg_fail "$method $path: HTTP $got, expected $code: $(cat "$VG_TMP/body")"
}
jq_py() { python3 -c "import json,sys; d=json.load(open('$VG_TMP/body')); $1" ||
	vg_fail "unexpected body: $(cat "$VG_TMP/body")"; }
api_counter() {
	expect 200 GET /metrics
	awk -v m="vgate_$1_total" '$1 == m { print $2; f = 1 } END { if (!f) exit 1 }' "$VG_TMP/body" ||
		vg_fail "no vgate_$1_total in /metrics"
}
