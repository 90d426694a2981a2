#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# An Asperathos user moves over (issue 15): coffer up --asperathos with the
# example of examples/asperathos/ (no placeholders), submitted with curl as
# Asperathos clients do, with a token and, with --asperathos-no-token,
# without one; the routes and fields Asperathos's clients call
# (asperathos-integration-tests, asperathos-client): the simple report in
# GET /submissions/ID (final_replicas, max_error, min_error, final_error
# with their times), the detailed report GET /submissions/ID/report keyed
# by the same times, PUT on the job and on /terminate to stop, DELETE with
# a JSON body, DELETE /submissions; port 1500 by default.
# timeout: 150
. "$(dirname "$0")/lib.sh"
plan 17

coffer_up_env
cd "$COFFER_SRC" || bail "no source tree"

# --asperathos listens on 1500 unless told otherwise: with 1500 taken, it
# says so (whoever holds it).
/usr/bin/python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",1500)); s.listen(); time.sleep(30)' 2>/dev/null &
track $!
sleep 0.3
coffer up --asperathos --dir "$T/d0" > "$T/up0.out" 2>&1
grep -q "port 1500 on 127.0.0.1 is in use" "$T/up0.out"; ok $? "--asperathos means Asperathos's port, 1500"
coffer up --asperathos-no-token --listen 0.0.0.0:0 --dir "$T/d0" > "$T/up0b.out" 2>&1
eq "--asperathos-no-token off loopback is refused" 2 $?

# A port free a moment ago may be taken by then (other tests run on this
# machine): another one, then.
for _ in 1 2 3 4 5; do
	PORT=$(random_port)
	coffer up --asperathos --asperathos-no-token --port "$PORT" \
		--workload-dir examples/asperathos --grace-ms 1000 > "$T/up.out" 2>&1 &
	UP=$!
	track $UP
	wait_until 30 eval 'test -s "$STATE" || ! kill -0 $UP 2>/dev/null'
	grep -q "is in use by another program" "$T/up.out" || break
done
test -s "$STATE" || { sed 's/^/# /' "$T/up.out"; bail "coffer up did not start"; }
# The state file is written before the banner is printed.
wait_until 10 grep -q "Press Ctrl-C" "$T/up.out"
grep -q "WARNING: the Asperathos routes (/submissions) need no token" "$T/up.out"
ok $? "coffer up warns that the Asperathos routes need no token"
U=http://127.0.0.1:$PORT
TOKEN=$(jq -r .token "$STATE")

# The README's step, with the token shown.
curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	--data @examples/asperathos/job.json "$U/submissions" > "$T/r1.json"
id=$(jq -r .job_id "$T/r1.json")
case $id in kj-*) ok 0 "the example is accepted as posted ($id)" ;; *) ok 1 "reply: $(cat "$T/r1.json")" ;; esac
# A client without a token (Asperathos's own), to the Asperathos routes only.
eq "GET /submissions needs no token in this mode" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$U/submissions")"
eq "the native API still does" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/jobs")"

# asperathos-integration-tests' wait: status completed and final_replicas.
wait_until 60 bash -c "curl -s $U/submissions/$id | jq -e '.status == \"completed\" and .final_replicas > 0' >/dev/null"
ok $? "it completes, with final_replicas"
curl -s "$U/submissions/$id" > "$T/s.json"
curl -s "$U/submissions/$id/report" > "$T/d.json"
jq -e '(.max_error | length) == 2 and (.min_error | length) == 2 and (.final_error | length) == 2 and (.execution_time | type) == "number" and .scaling_strategy == "default"' "$T/s.json" >/dev/null
ok $? "the simple report has max_error, min_error, final_error as [value, time]"
jq -e 'length > 0 and all(.[]; has("replicas") and has("error") and has("job_progress") and has("time_progress"))' "$T/d.json" >/dev/null
ok $? "the detailed report has replicas and error per time ($(jq length "$T/d.json") times)"
# test_monitor_report_matches_detailed, as Asperathos's integration tests
# check it: the extremes are found in the detailed report at their times.
mx=$(jq -r '.max_error[1]' "$T/s.json"); mn=$(jq -r '.min_error[1]' "$T/s.json")
eq "max_error is the detailed error at its time" "$(jq -r '.max_error[0]' "$T/s.json")" "$(jq -r --arg t "$mx" '.[$t].error' "$T/d.json")"
eq "min_error is the detailed error at its time" "$(jq -r '.min_error[0]' "$T/s.json")" "$(jq -r --arg t "$mn" '.[$t].error' "$T/d.json")"
last=$(jq -r '.final_error[1]' "$T/s.json")
eq "no detailed time is after final_error's" "" "$(jq -r --arg l "$last" 'keys[] | select(. > $l)' "$T/d.json")"

# Stop forms: PUT on the job itself (asperathos-integration-tests) and
# PUT .../terminate (asperathos-client), with their JSON bodies.
sed -e 's|"expected_time": 4|"expected_time": 60|' -e 's|sleep 0.1|sleep 2|' examples/asperathos/job.json > "$T/long.json"
delete_first() { curl -s -o /dev/null -w '%{http_code}' -X DELETE -H 'Content-Type: application/json' -d '{"enable_auth": false}' "$U/submissions/$1"; }
eq "DELETE /submissions/ID with Asperathos's body is 204" 204 "$(delete_first "$id")"
id2=$(curl -s -H 'Content-Type: application/json' --data @"$T/long.json" "$U/submissions" | jq -r .job_id)
wait_until 20 bash -c "curl -s $U/submissions/$id2 | jq -e '.status == \"ongoing\"' >/dev/null"
eq "PUT /submissions/ID stops it (204)" 204 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' -d '{"enable_auth": false}' "$U/submissions/$id2")"
eq "and it is terminated" terminated "$(curl -s "$U/submissions/$id2" | jq -r .status)"
eq "PUT .../terminate on a stopped job is 409" 409 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d '{}' "$U/submissions/$id2/terminate")"
wait_until 20 bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H 'Content-Type: application/json' -d '{\"enable_auth\": false}' $U/submissions) = 204 ] && [ \$(curl -s $U/submissions | jq length) = 0 ]"
ok $? "DELETE /submissions deletes every finished job"
kill -INT $UP
wait $UP
