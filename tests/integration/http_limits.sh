#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The HTTP server under clients that misbehave (doc/http.md): no body is
# read before its token is checked, connections are capped overall and per
# client address, the head and the whole body each have a deadline that a
# trickle cannot stretch, memory stays bounded, and the manager keeps
# serving. Against the real coffer-manager with small limits.
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 17

P=$COFFER_SRC/tests/integration/http_probe.py
start_redis
start_manager --max-connections 40 --max-connections-per-client 10 \
	--header-timeout-ms 1000 --body-timeout-ms 1500
PORT=${MGR_URL##*:}
healthy() { curl -s -o /dev/null -w '%{http_code}' "$MGR_URL/healthz" | grep -qx 200; }
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$MGR_PID/status"; }

# 1. 30 unauthenticated clients each sending an 8 MiB body (in waves of
# 10, the per-client cap): each is answered 401 at its head; the bodies are
# never buffered (peak RSS grows by far less than one body).
before=$(hwm)
for _ in 1 2 3; do /usr/bin/python3 "$P" bodies 127.0.0.1 "$PORT" 10 $((8 << 20)); done > "$T/bodies.out"
after=$(hwm)
diag "$(tr '\n' ' ' < "$T/bodies.out"); peak RSS ${before} -> ${after} kB"
eq "every unauthenticated 8 MiB body is answered 401" "codes=401" "$(cut -d' ' -f1 "$T/bodies.out" | sort -u)"
[ $((after - before)) -lt 8192 ]; ok $? "peak RSS grew by $((after - before)) kB (< 8 MiB: no body was buffered)"
check "the manager still answers" healthy

# 2. An authenticated body above the route's limit: 413 from the head.
r=$(/usr/bin/python3 "$P" raw 127.0.0.1 "$PORT" "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $MGR_TOKEN\r\nContent-Length: 2097152\r\n\r\n")
eq "an admin's 2 MiB job body is 413 before it is read" "status=413" "$r"
# Expect: 100-continue without a token: the 401 comes instead of 100.
eq "Expect: 100-continue without a token gets 401, not 100" "status=401" \
	"$(/usr/bin/python3 "$P" expect 127.0.0.1 "$PORT")"

# 3. Connection caps: 25 idle connections from one address, 10 allowed.
/usr/bin/python3 "$P" idle 127.0.0.1 "$PORT" 25 > "$T/idle.out"
diag "$(cat "$T/idle.out")"
eq "only 10 idle connections from one address stay open" "open=10 refused=15" "$(cat "$T/idle.out")"
check "the manager answers once they are gone" healthy
curl -s -H "Authorization: Bearer $MGR_TOKEN" "$MGR_URL/metrics" > "$T/m.txt"
v=$(awk '$1 == "coffer_http_connections_refused_total" { print $2 }' "$T/m.txt")
[ "${v:-0}" -ge 15 ]; ok $? "coffer_http_connections_refused_total counts them ($v)"

# 4. Deadlines: a head or a body sent one byte every 0.25 s is cut at its
# deadline (1 s, 1.5 s), long before the 10 s it would take.
r=$(/usr/bin/python3 "$P" trickle-head 127.0.0.1 "$PORT")
diag "trickled head: $r"
case $r in status=408*|status=0*) ok 0 "a trickled head is answered 408 or closed" ;; *) ok 1 "trickled head: $r" ;; esac
t=${r##*after=}; [ "${t%.*}" -lt 8 ]; ok $? "at its deadline, not when the client is done ($t s)"
r=$(/usr/bin/python3 "$P" trickle-body 127.0.0.1 "$PORT" "$MGR_TOKEN")
diag "trickled body: $r"
case $r in status=408*) ok 0 "a trickled body is answered 408" ;; *) ok 1 "trickled body: $r" ;; esac
t=${r##*after=}; [ "${t%.*}" -lt 8 ]; ok $? "at the whole-body deadline ($t s)"
curl -s -H "Authorization: Bearer $MGR_TOKEN" "$MGR_URL/metrics" > "$T/m.txt"
grep -q '^coffer_http_timeouts_total{phase="body"} [1-9]' "$T/m.txt"; ok $? "and counted as a body timeout"

# 5. Malformed heads: each a 4xx in JSON, and the manager keeps serving.
eq "a header with a space before the colon is 400" "status=400" \
	"$(/usr/bin/python3 "$P" raw 127.0.0.1 "$PORT" 'GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n')"
eq "two Content-Length headers are 400" "status=400" \
	"$(/usr/bin/python3 "$P" raw 127.0.0.1 "$PORT" 'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n')"
eq "a chunked body is 411 (send a length)" "status=411" \
	"$(/usr/bin/python3 "$P" raw 127.0.0.1 "$PORT" "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $MGR_TOKEN\r\nTransfer-Encoding: chunked\r\n\r\n")"
kill -0 "$MGR_PID" && healthy; ok $? "after all of it the manager is up and answers"
