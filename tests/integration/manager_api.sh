#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# coffer-manager's HTTP API at its edges: tokens (missing, wrong, read-only),
# malformed JSON, oversized bodies, unknown routes and methods, wrong types
# and values, state conflicts; every refusal is the right 4xx with a JSON
# error, and the manager keeps serving. Then TLS with a throwaway CA.
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 68

start_redis
# A grace period (SIGTERM to SIGKILL) long enough for the checks made while
# a stopped job's replica still runs (below).
start_manager --grace-ms 6000
make_items 3

healthy() { curl -s -o /dev/null -w '%{http_code}' "$MGR_URL/healthz" | grep -qx 200; }
# refused CODE ERRCODE [FIELD] -- METHOD PATH [curl args]: the status, a JSON
# error with that code (and field), and a manager that still answers.
refused() {
	local want=$1 ecode=$2 field=$3 desc=$4
	shift 4
	local body got_code got_field
	HTTP_CODE=
	"$@" > "$T/refused.out"
	body=$(cat "$T/refused.out")
	got_code=$(printf '%s' "$body" | jq -r '.error.code' 2>/dev/null)
	got_field=$(printf '%s' "$body" | jq -r '.error.field // ""' 2>/dev/null)
	if [ "$HTTP_CODE" = "$want" ] && [ "$got_code" = "$ecode" ] &&
		{ [ -z "$field" ] || [ "$got_field" = "$field" ]; } && healthy; then
		ok 0 "$desc"
	else
		ok 1 "$desc"
		diag "status $HTTP_CODE (want $want), body: $body"
	fi
}

check "healthz needs no token" healthy
noauth() { HTTP_CODE=$(curl -s -o "$T/na.body" -D "$T/na.hdr" -w '%{http_code}' "$@"); cat "$T/na.body"; }
refused 401 unauthorized "" "a missing token is 401" noauth "$MGR_URL/v1/jobs"
grep -qi '^WWW-Authenticate: Bearer realm="coffer"' "$T/na.hdr"; ok $? "with a Bearer challenge"
refused 401 unauthorized "" "a wrong token is 401" noauth -H "Authorization: Bearer cft_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "$MGR_URL/v1/jobs"
grep -qi 'error="invalid_token"' "$T/na.hdr"; ok $? "naming invalid_token"
refused 401 unauthorized "" "a non-bearer scheme is 401" noauth -u a:b "$MGR_URL/metrics"
refused 401 unauthorized "" "metrics need a token too" noauth "$MGR_URL/metrics"
RO=$(coffer-manager token create --db "$MGR_DB" --name ro --scope read)
API_TOKEN=$RO api GET /v1/jobs >/dev/null
eq "a read token lists jobs" 200 "$HTTP_CODE"
API_TOKEN=$RO
refused 403 forbidden "" "a read token cannot submit" api POST /v1/jobs -d '{}'
refused 403 forbidden "" "nor stop a job" api POST /v1/jobs/x/stop
API_TOKEN=

refused 404 not_found "" "an unknown route is 404" api GET /v2/nothing
refused 404 not_found "" "a trailing slash is another route" api GET /v1/jobs/
refused 404 not_found id "an unknown job is 404" api GET /v1/jobs/job-000000000000
refused 405 method_not_allowed "" "a wrong method is 405" api PATCH /v1/jobs
HTTP_CODE=$(curl -s -o /dev/null -D "$T/h" -w '%{http_code}' -X PUT -H "Authorization: Bearer $MGR_TOKEN" "$MGR_URL/v1/jobs")
grep -qi '^Allow: POST, GET' "$T/h"; ok $? "405 lists the allowed methods"

refused 400 invalid_json "" "malformed JSON is 400" api POST /v1/jobs -d '{"app": "fault",'
refused 400 invalid_json "" "an empty body is 400" api POST /v1/jobs
refused 400 bad_request "" "a JSON array is 400" api POST /v1/jobs -d '[1,2]'
refused 400 invalid_json "" "duplicate keys are 400" api POST /v1/jobs -d '{"app":"a","app":"b"}'
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$T/big.json"
refused 413 payload_too_large "" "a 2 MiB body is 413" api POST /v1/jobs --data-binary @"$T/big.json"
refused 413 payload_too_large "" "a body on a stop route beyond 64 KiB is 413" \
	api POST /v1/jobs/x/stop --data-binary @"$T/big.json"

base='"app":"fault","inputs":{"prefix":"in/"},"expected_time_s":60,"controller":{"name":"asperathos-default","check_interval_s":1,"params":{"trigger_up":0,"trigger_down":0,"actuation_size":1}}'
refused 400 bad_request replicas.max "a string for an integer is 400 naming the field" \
	api POST /v1/jobs -d "{$base,\"replicas\":{\"min\":1,\"max\":\"6\"}}"
refused 400 bad_request replicas.min "min > max is 400 naming the field" \
	api POST /v1/jobs -d "{$base,\"replicas\":{\"min\":7,\"max\":6}}"
refused 400 bad_request replicas "a missing member is 400 naming it" \
	api POST /v1/jobs -d "{$base}"
refused 400 bad_request colour "an unknown field is 400 naming it" \
	api POST /v1/jobs -d "{$base,\"replicas\":{\"max\":2},\"colour\":1}"
refused 400 bad_request controller.params.trigger_up "a controller refusing its parameter is 400 naming it" \
	api POST /v1/jobs --data-binary "{\"app\":\"fault\",\"inputs\":{\"prefix\":\"in/\"},\"expected_time_s\":60,\"replicas\":{\"max\":2},\"controller\":{\"name\":\"asperathos-default\",\"params\":{\"trigger_up\":-1,\"trigger_down\":0}}}"
refused 400 bad_request controller.params.gain "an unknown controller parameter is 400 naming it" \
	api POST /v1/jobs --data-binary "{\"app\":\"fault\",\"inputs\":{\"prefix\":\"in/\"},\"expected_time_s\":60,\"replicas\":{\"max\":2},\"controller\":{\"name\":\"asperathos-default\",\"params\":{\"gain\":1}}}"
refused 400 bad_request controller.name "an unknown controller is 400" \
	api POST /v1/jobs --data-binary "{\"app\":\"fault\",\"inputs\":{\"prefix\":\"in/\"},\"expected_time_s\":60,\"replicas\":{\"max\":2},\"controller\":{\"name\":\"nope\"}}"
refused 400 bad_request app "an unknown app is 400" \
	api POST /v1/jobs --data-binary "{\"app\":\"no-such-app\",\"inputs\":{\"prefix\":\"in/\"},\"expected_time_s\":60,\"replicas\":{\"max\":2},\"controller\":{\"name\":\"static\"}}"
refused 400 bad_request state "a bad query value is 400" api GET '/v1/jobs?state=ongoing'
# expected_time_s: [1 s, 366 days]; 5e-324 was accepted once and made every
# ratio infinite (the job then vanished from the API).
refused 400 bad_request expected_time_s "a denormal expected_time_s is 400" \
	api POST /v1/jobs -d "{${base/60/5e-324},\"replicas\":{\"max\":1}}"
refused 400 bad_request expected_time_s "less than a second is 400" \
	api POST /v1/jobs -d "{${base/60/0.5},\"replicas\":{\"max\":1}}"

# A job whose failure reason was cut inside a character (a workload path of
# 700 x "é") is still shown, listed and has a timeline.
long=$T/store/$(printf '\xc3\xa9%.0s' $(seq 700))
api POST "/v1/jobs?view=status" -d "{\"app\":\"fault\",\"inputs\":{\"items_file\":\"$long\"},\"expected_time_s\":60,\"replicas\":{\"max\":1},\"controller\":{\"name\":\"static\"}}" > "$T/long.json"
eq "a job with a 1400-byte workload path is accepted (?view=status: no spec)" \
	"201 false" "$HTTP_CODE $(jq 'has("spec")' "$T/long.json")"
lid=$(jq -r .id "$T/long.json")
wait_state 20 "$lid" failed
eq "it fails (the file cannot be read)" failed "$(job_state "$lid")"
api GET "/v1/jobs/$lid" > "$T/long-show.json"
eq "GET shows it: 200" 200 "$HTTP_CODE"
# (jq -e accepts an empty file: the old bug's answer was 200 and 0 bytes.)
[ -s "$T/long-show.json" ] && jq -e --arg id "$lid" '.id == $id and
	(.reason | startswith("cannot start") and contains("workload file"))' \
	"$T/long-show.json" >/dev/null
ok $? "with its reason, as valid JSON ($(wc -c < "$T/long-show.json") bytes)"
api GET /v1/jobs | jq -e --arg id "$lid" 'any(.jobs[]; .id == $id)' >/dev/null
ok $? "the list still has it"
api GET "/v1/jobs/$lid/timeline" > /dev/null
eq "and its timeline answers 200" 200 "$HTTP_CODE"
api DELETE "/v1/jobs/$lid" > /dev/null
eq "it can be deleted" 204 "$HTTP_CODE"

# A real job: accepted, then state conflicts.
api POST /v1/jobs -d "{$base,\"replicas\":{\"min\":1,\"max\":1},\"app_params\":{\"sleep_ms\":30000}}" > "$T/job.json"
id=$(jq -r .id "$T/job.json")
eq "a valid job is 201" 201 "$HTTP_CODE"
case $id in job-*) ok 0 "with an id ($id)" ;; *) ok 1 "with an id ($id)" ;; esac
api GET "/v1/jobs/$id" >/dev/null
eq "the job is there" 200 "$HTTP_CODE"
refused 400 bad_request limit "a bad timeline limit is 400" api GET "/v1/jobs/$id/timeline?limit=abc"
refused 409 conflict "" "deleting a running job is 409" api DELETE "/v1/jobs/$id"
# Once its replica is in a 30 s item, which it would finish before exiting
# (so the queue's keys cannot go yet: its ack would write them again); it
# gets SIGKILL after the grace period (6 s) instead. The checks up to
# `coffer job delete` must run within those 6 s (with a 2 s item, which
# may have begun long before the stop, they did not always under load).
taken() { [ "$(api GET "/v1/jobs/$id" | jq -r '.items.in_flight // 0')" -ge 1 ]; }
wait_until 30 taken || bail "the job's replica took no item"
# Held requests (doc/manager.md 7.1): wait_s answers when the job ends, or
# when the time is up with the job as it is.
refused 400 bad_request wait_s "a wait_s over 600 is 400" api GET "/v1/jobs/$id?wait_s=601"
refused 400 bad_request wait_s "a wait_s with a leading zero is 400 (one spelling per value)" \
	api GET "/v1/jobs/$id?wait_s=05"
api GET "/v1/jobs/$id?wait_s=1" >"$T/held1.json"
eq "a held request answers when its time is up, with the job running" \
	"200 running" "$HTTP_CODE $(jq -r .state "$T/held1.json")"
# A held request whose client leaves (curl gives up after 1 s) frees its
# connection at once, not at the end of its 60 s (doc/http.md section 5).
conns() { curl -s -H "Authorization: Bearer $MGR_TOKEN" "$MGR_URL/metrics" |
	awk '$1 == "coffer_http_connections" { print $2 }'; }
conns_are() { [ "$(conns)" = "$1" ]; }
c0=$(conns)
curl -s --max-time 1 -o /dev/null -H "Authorization: Bearer $MGR_TOKEN" \
	"$MGR_URL/v1/jobs/$id?wait_s=60&view=status"
check "a held request whose client left closes its connection at once ($c0 open)" \
	wait_until 5 conns_are "$c0"
# The light form for pollers (doc/api.md section 4): no spec, the rest.
api GET "/v1/jobs/$id?view=status" >"$T/light.json"
eq "?view=status is 200 without spec or log, with state and items" \
	"200 false false running true" "$HTTP_CODE $(jq -r '(has("spec")), (has("log")),
	.state, (.items | has("in_flight"))' "$T/light.json" | tr '\n' ' ' | sed 's/ $//')"
eq "?view=full (the default) has the spec" true \
	"$(api GET "/v1/jobs/$id?view=full" | jq 'has("spec") and has("log")')"
refused 400 bad_request view "a view other than full or status is 400" \
	api GET "/v1/jobs/$id?view=spec"
curl -s -H "Authorization: Bearer $MGR_TOKEN" "$MGR_URL/v1/jobs/$id?wait_s=60&view=status" \
	>"$T/held2.json" &
held=$!
sleep 0.5
kill -0 "$held" 2>/dev/null
ok $? "another, of 60 s, is held while the job runs"
COFFER_URL=$MGR_URL COFFER_TOKEN=$MGR_TOKEN coffer job wait "$id" --timeout 1 \
	>/dev/null 2>"$T/wait.err"
eq "coffer job wait --timeout 1 on a running job: exit 1, saying so" \
	"1 yes" "$? $(grep -q 'has not ended after 1 s' "$T/wait.err" && echo yes)"
api POST "/v1/jobs/$id/stop" >/dev/null
eq "stop is 200" 200 "$HTTP_CODE"
wait "$held"
eq "the held request answers at the stop, with the job stopped, in its form" \
	"stopped false" "$(jq -r '.state, has("spec")' "$T/held2.json" | tr '\n' ' ' | sed 's/ $//')"
out=$(COFFER_URL=$MGR_URL COFFER_TOKEN=$MGR_TOKEN coffer job wait "$id")
eq "coffer job wait on the stopped job: exit 1, its state and reason" \
	"1 $id stopped:" "$? $(cut -d' ' -f1-2 <<<"$out")"
refused 409 busy "" "delete while its replica exits is 409 busy" api DELETE "/v1/jobs/$id"
eq "the job is stopped" stopped "$(job_state "$id")"
refused 409 conflict "" "stopping it again is 409" api POST "/v1/jobs/$id/stop"
COFFER_URL=$MGR_URL COFFER_TOKEN=$MGR_TOKEN coffer job delete "$id" 2>"$T/del.err"
ok $? "coffer job delete waits for the replica, then deletes"
grep -q "waiting for the job's replicas to exit" "$T/del.err"
ok $? "and says it waited"
refused 404 not_found id "then it is gone" api GET "/v1/jobs/$id"
eq "its queue keys are gone" "" "$(rcli --scan --pattern "coffer:{$id}*")"

# Garbage on the socket never stops the manager.
printf 'GARBAGE\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/${MGR_URL##*:}; cat >&3; cat <&3" >/dev/null 2>&1
check "the manager survives a malformed request line" healthy
kill -0 "$MGR_PID"; ok $? "and is still running"

# A held request when the manager stops: its 503 is written before the
# manager exits (it was dropped in its buffer, and the client saw the
# connection close with no answer); the log names who sent the SIGTERM.
api POST /v1/jobs -d "{$base,\"replicas\":{\"min\":1,\"max\":1},\"app_params\":{\"sleep_ms\":2000}}" > "$T/job.json"
id=$(jq -r .id "$T/job.json")
wait_state 20 "$id" running || bail "the job did not start"
curl -s -o "$T/held3.json" -w '%{http_code}' -H "Authorization: Bearer $MGR_TOKEN" \
	"$MGR_URL/v1/jobs/$id?wait_s=60" >"$T/held3.code" &
held=$!
sleep 0.5
stop_manager
wait "$held"
eq "a held request gets 503 when the manager stops" "503 unavailable" \
	"$(cat "$T/held3.code") $(jq -r .error.code "$T/held3.json" 2>/dev/null)"
grep -q "signal received, stopping signal=SIGTERM from_pid=$$ from=bash " "$MGR_LOG"
ok $? "the manager's log names the SIGTERM's sender (this shell, pid $$)"

# TLS: a throwaway CA and server certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=test-ca -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
	-keyout "$T/srv.key" -out "$T/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$T/ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
	-days 1 -extfile "$T/ext" -out "$T/srv.pem" 2>/dev/null
restart_manager --tls-cert "$T/srv.pem" --tls-key "$T/srv.key"
case $MGR_URL in https://*) ok 0 "the manager serves https ($MGR_URL)" ;; *) ok 1 "https url: $MGR_URL" ;; esac
api GET /v1/jobs --cacert "$T/ca.pem" >/dev/null
eq "a verified TLS request works" 200 "$HTTP_CODE"
curl -s -o /dev/null "${MGR_URL/https/http}/healthz"
HTTP_CODE=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.pem" "$MGR_URL/healthz")
eq "and plain HTTP on that port does not break it" 200 "$HTTP_CODE"
n=$(COFFER_URL=$MGR_URL COFFER_TOKEN=$MGR_TOKEN COFFER_CACERT=$T/ca.pem coffer job list | wc -l)
eq "coffer job list works over TLS (and the held request's job resumed)" 2 "$n"
