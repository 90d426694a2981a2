#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Bad jobs are refused at submission, not minutes later (issue 15): a
# misspelt app parameter (checked against what the app declares), reserved
# 'coffer.' names, every field error of a body at once, prefixes that match
# nothing or leave the store, a body that is not JSON (415), a misspelt
# controller; a deadline the estimate cannot meet is a warning. A failing
# job's reason has the root cause; coffer job logs shows the replicas' log;
# status is "unknown" rather than stale after a restart without Redis;
# DELETE with force removes a job whose queue server is gone.
# timeout: 150
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 38

start_redis
start_manager
make_items 6
export COFFER_URL=$MGR_URL COFFER_TOKEN=$MGR_TOKEN
job() { # extra JSON members
	printf '{"app": "fault", "inputs": {"prefix": "in/"}, "expected_time_s": 60, "replicas": {"max": 2}, "controller": {"name": "static"}%s}' "${1:+, $1}"
}
field() { jq -r '.error.field' "$T/api.body"; }

# 1. Parameters, against the app's declarations.
api POST /v1/jobs -d "$(job '"app_params": {"sleep_msec": 100}')" >/dev/null
eq "a misspelt app parameter is 400" 400 "$HTTP_CODE"
eq "naming it" app_params.sleep_msec "$(field)"
jq -e '.error.message | contains("did you mean '"'"'sleep_ms'"'"'")' "$T/api.body" >/dev/null
ok $? "and what was meant ($(jq -r .error.message "$T/api.body"))"
api POST /v1/jobs -d "$(job '"app_params": {"sleep_ms": "soon"}')" >/dev/null
eq "a parameter of the wrong type is 400 naming it" "400 app_params.sleep_ms" "$HTTP_CODE $(field)"
api POST /v1/jobs -d "$(job '"app_params": {"coffer.app_secret": "00"}')" >/dev/null
eq "a reserved coffer. parameter is refused" "400 app_params.coffer.app_secret" "$HTTP_CODE $(field)"
api POST /v1/jobs -d "$(job '"app_params": {"format": "lower"}' | sed 's|"fault"|"checksum"|')" >/dev/null
eq "a value outside the declared ones is refused" "400 app_params.format" "$HTTP_CODE $(field)"
# The two real apps declare theirs too (from their own parameter tables).
app_job() { job "$2" | sed "s|\"fault\"|\"$1\"|"; }
api POST /v1/jobs -d "$(app_job dicom-deid '"app_params": {"retain_uid": "yes"}')" >/dev/null
eq "dicom-deid: a misspelt parameter is refused" "400 app_params.retain_uid" "$HTTP_CODE $(field)"
api POST /v1/jobs -d "$(app_job dicom-deid '"app_params": {"max_depth": "deep", "retain_dates": "some"}')" >/dev/null
eq "dicom-deid: an int that is not one, a value not listed" \
	"400 app_params.max_depth app_params.retain_dates" "$HTTP_CODE $(jq -r '[.error.errors[].field] | sort | join(" ")' "$T/api.body")"
api POST /v1/jobs -d "$(app_job pooled-stats '"app_params": {"schema": "a:num", "min_owner": 1}')" >/dev/null
eq "pooled-stats: a misspelt parameter is refused" "400 app_params.min_owner" "$HTTP_CODE $(field)"
api POST /v1/jobs -d "$(app_job pooled-stats '"app_params": {"schema": "a:num", "C": "strong"}')" >/dev/null
eq "pooled-stats: a number that is not one is refused" "400 app_params.C" "$HTTP_CODE $(field)"
api POST /v1/jobs -d "$(app_job pooled-stats '"app_params": {"C": 1}')" >/dev/null
eq "pooled-stats: its required schema missing is refused" "400 app_params.schema" "$HTTP_CODE $(field)"

# 2. Every field error at once.
api POST /v1/jobs -d '{"app": "fault", "app_params": {"sleep_msec": 1}, "inputs": {"prefix": "in/"}, "expected_time_s": 60, "replicas": {"max": "2"}, "controller": {"name": "static"}, "colour": 1}' >/dev/null
eq "a body with three mistakes is 400" 400 "$HTTP_CODE"
eq "listing all three" "app_params.sleep_msec colour replicas.max" \
	"$(jq -r '[.error.errors[].field] | sort | join(" ")' "$T/api.body")"

# 3. Items and outputs.
api POST /v1/jobs -d "$(job | sed 's|"in/"|"nothing/"|')" >/dev/null
eq "a prefix that matches nothing is 400" "400 inputs.prefix" "$HTTP_CODE $(field)"
api POST /v1/jobs -d "$(job | sed 's|"in/"|"../etc/"|')" >/dev/null
eq "a prefix with .. is 400" "400 inputs.prefix" "$HTTP_CODE $(field)"
api POST /v1/jobs -d "$(job '"outputs": {"prefix": "../x/"}')" >/dev/null
eq "an output prefix with .. is 400" "400 outputs.prefix" "$HTTP_CODE $(field)"
api POST /v1/jobs -d "$(job | sed 's|{"prefix": "in/"}|{"items": []}|')" >/dev/null
eq "an empty item list is 400" "400 inputs.items" "$HTTP_CODE $(field)"
API_CTYPE=text/plain api POST /v1/jobs -d "$(job)" >/dev/null
eq "a body sent as text/plain is 415" "415 unsupported_media_type" "$HTTP_CODE $(jq -r .error.code "$T/api.body")"
api POST /v1/jobs -d "$(job | sed 's|"static"|"deadlien"|')" >/dev/null
eq "a misspelt controller is 400 naming the field" "400 controller.name" "$HTTP_CODE $(field)"
eq "with the built-in meant" "controller.name: no built-in controller 'deadlien' (did you mean 'deadline'?)" \
	"$(jq -r .error.message "$T/api.body")"

# 4. A deadline the estimate says cannot be met: accepted, with a warning.
api POST /v1/jobs -d "$(job '"item_time_estimate_s": 30, "app_params": {"sleep_ms": 10}')" > "$T/w.json"
eq "a job whose deadline cannot be met is still accepted" 201 "$HTTP_CODE"
jq -e '.warnings[0].message | startswith("the deadline cannot be met: 6 items x 30 s / 2 replicas")' "$T/w.json" >/dev/null
ok $? "with a warning ($(jq -r '.warnings[0].message' "$T/w.json"))"
wid=$(jq -r .id "$T/w.json")
coffer job watch "$wid" --interval 0.3 > "$T/watch.out" 2> "$T/watch.err"
grep -q "^warning: the deadline cannot be met" "$T/watch.err"; ok $? "coffer job watch shows it"
job '"item_time_estimate_s": 30, "app_params": {"sleep_ms": 10}' > "$T/w-job.json"
coffer job submit "$T/w-job.json" > "$T/wsub.out" 2> "$T/wsub.err"
eq "coffer job submit prints the id" 1 "$(grep -c '^[0-9a-z_.-]*$' "$T/wsub.out")"
grep -q "^warning: the deadline cannot be met: 6 items x 30 s" "$T/wsub.err"
ok $? "and the warning at once"

# The deadline controller gets the job's estimate (doc/api.md section 3),
# also as its own parameter, which takes at most 1e7 s.
api POST /v1/jobs -d "$(job '"item_time_estimate_s": 0.25, "app_params": {"sleep_ms": 800}' |
	sed 's|"name": "static"|"name": "deadline", "check_interval_s": 0.2|')" > "$T/e.json"
eq "a deadline job with an estimate is accepted" 201 "$HTTP_CODE"
eid=$(jq -r .id "$T/e.json")
# Its first decision is all this asks about: no need to run it to its end.
decided() {
	api GET "/v1/jobs/$eid/timeline" > "$T/e-timeline.json" &&
		jq -e '.decisions | length > 0' "$T/e-timeline.json" > /dev/null
}
wait_until 30 decided
api POST "/v1/jobs/$eid/stop" > /dev/null
jq -e '.decisions[0].reason | test("items x 0.25s")' "$T/e-timeline.json" > /dev/null
ok $? "its controller took the estimate as the mean before items were timed ($(jq -r '.decisions[0].reason' "$T/e-timeline.json"))"
api POST /v1/jobs -d "$(job '"item_time_estimate_s": 31622400' | sed 's|"static"|"deadline"|')" > /dev/null
eq "an estimate beyond the controller's range is still accepted" 201 "$HTTP_CODE"

# Measured item times: a job that turns out late says so while it runs,
# and its last line says the deadline was missed. Late however fast the
# machine: 6 items of 0.7 s on one replica need 4.2 s > 3 s, and from the
# first item timed on, 5 left x 0.7 s > what is left of the 3 s.
api POST /v1/jobs -d "$(job '"app_params": {"sleep_ms": 700}' | sed -e 's|"max": 2|"max": 1|' -e 's|"expected_time_s": 60|"expected_time_s": 3|')" > "$T/l.json"
lid=$(jq -r .id "$T/l.json")
coffer job watch "$lid" --interval 0.3 > "$T/lwatch.out" 2> "$T/lwatch.err"
grep -q "^warning: the deadline cannot be met: .* (measured)" "$T/lwatch.err"
ok $? "watch warns when the measured item time says the deadline cannot be met"
tail -n 1 "$T/lwatch.out" | grep -q "completed: every item is done; deadline missed by"
ok $? "and its last line says the deadline was missed ($(tail -n 1 "$T/lwatch.out"))"

# 5. Root causes in reasons; the replicas' log.
api POST /v1/jobs -d "$(job '"app_params": {"fail": "*i-3"}, "max_attempts": 1')" > "$T/f.json"
fid=$(jq -r .id "$T/f.json")
wait_state 40 "$fid" failed
r=$(api GET "/v1/jobs/$fid" | jq -r .reason)
diag "reason: $r"
case $r in *"1 of 6 items failed; the first, in/i-3, after 1 attempt: "*"injected failure"*) ok 0 "a failed job's reason has the item, its attempts and its error" ;;
	*) ok 1 "reason: $r" ;; esac
coffer job logs "$fid" > "$T/logs.out"
ok $? "coffer job logs prints the replicas' log"
grep -q "injected failure for in/i-3" "$T/logs.out"; ok $? "with the app's own message"

# 6. Status from what is true: after a restart without Redis, "unknown".
api POST /v1/jobs -d "$(job '"app_params": {"sleep_ms": 3000}')" > "$T/s.json"
sid=$(jq -r .id "$T/s.json")
wait_state 20 "$sid" running
stop_redis
kill_manager
restart_manager
api GET "/v1/jobs/$sid" > "$T/u.json"
eq "after a restart without Redis the counts are unknown" "false null null" \
	"$(jq -r '"\(.counts_known) \(.items.done) \(.on_track)"' "$T/u.json")"
eq "and no replica is said to run" 0 "$(jq -r .replicas.running "$T/u.json")"
api DELETE "/v1/jobs/$fid" >/dev/null
eq "deleting a loaded job while its Redis is down is 503" 503 "$HTTP_CODE"
api DELETE "/v1/jobs/$fid?force=true" >/dev/null
eq "with force=true it goes" 204 "$HTTP_CODE"
start_redis_again
wait_until 20 bash -c "curl -s -H 'Authorization: Bearer $MGR_TOKEN' $MGR_URL/v1/jobs/$sid | jq -e .counts_known >/dev/null"
ok $? "once Redis is back the counts are known again"
