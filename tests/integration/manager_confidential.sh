#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A confidential job at the manager (doc/manager.md section 9), against the
# real coffer-coordinator: a job names its policy; the manager takes the
# items from the policy, opens the job at the coordinator and starts
# workers that get their settings from it, never a parameter; mistakes of
# the submission are named by field; the workers prove every item at the
# coordinator, the job completes and an owner's receipt verifies; a
# stopped job is cancelled at the coordinator; its close, after the drain or
# at a stop, is asked on the manager's event loop, which answers meanwhile
# while the coordinator hangs; what the workers would be
# refused is warned of, and a job whose workers are refused for good fails
# at the first refusal, naming it; the policy's approvals are shown as the
# coordinator reports them, also while it is down or hangs.
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 43

start_redis
e2e_coordinator
e2e_owners 2
e2e_policy checksum '.apps[0].params = {"format": ["cksum"]}'

# A manager with no measured configuration runs no confidential job.
start_manager
e2e_try() {
	jq -n --arg h "$H" '{app: "checksum", tee: {policy: $h}, expected_time_s: 60,
		replicas: {min: 1, max: 1}, controller: {name: "static"}}' |
		jq "${1:-.}" >"$T/job.json"
	api POST /v1/jobs --data @"$T/job.json" >"$T/submit.json"
}
e2e_try
eq "a manager with no measured configuration refuses a confidential job" \
	"400 tee" "$HTTP_CODE $(jq -r '.error.field' "$T/submit.json")"
stop_manager

e2e_manager
e2e_try '.inputs = {prefix: "a/"}'
eq "a confidential job gives no items: its policy fixes them" "400 inputs" \
	"$HTTP_CODE $(jq -r '.error.field' "$T/submit.json")"
e2e_try ".tee.policy = \"$(printf '%064d' 0)\""
eq "a policy the coordinator does not know" "400 tee.policy" \
	"$HTTP_CODE $(jq -r '.error.field' "$T/submit.json")"
e2e_try '.app = "fault"'
check "an app the policy does not have is named, with the policy's apps" \
	grep -q "the policy has no app 'fault' (its apps: 'checksum')" "$T/submit.json"
e2e_try '.app_params = {format: "upper"}'
eq "a parameter value the policy does not allow: refused by the coordinator" \
	"400 app_params.format" "$HTTP_CODE $(jq -r '.error.field' "$T/submit.json")"
e2e_try '.cmd = ["/bin/true"] | del(.app)'
eq "a confidential job runs an app, not a command" "400 cmd" \
	"$HTTP_CODE $(jq -r '.error.field' "$T/submit.json")"

e2e_try '.app_params = {format: "cksum"} | .replicas = {min: 1, max: 1, initial: 1}'
eq "a valid confidential job is accepted" 201 "$HTTP_CODE"
JOB=$(jq -r .id "$T/submit.json")
CJOB=$(jq -r .confidential.job "$T/submit.json")
eq "no warning: the policy approves this app build and these workers" 0 \
	"$(jq '.warnings | length' "$T/submit.json")"
eq "its items are the policy's objects, in policy order" \
	"a/item-1 a/item-2 b/item-1 b/item-2 c/item-1 c/item-2" \
	"$(api GET "/v1/jobs/$JOB" | jq -r '.spec.inputs.items | join(" ")')"
check "the coordinator's job id is in the answer" \
	grep -Eq '^[0-9a-f]{32}$' <<<"$CJOB"
eq "the coordinator opened that job, of this policy and app, over 6 items" \
	"$H checksum 6 cksum" "$(curl -s "$COORD_URL/v1/jobs/$CJOB" |
		jq -r '"\(.policy) \(.app) \(.items) \(.params.format)"')"
# (Its stage is map, or already close: the coordinator's ledger may have
# the proofs of every item by now.)
eq "the job shows where its receipt will be" "$COORD_URL $H true" \
	"$(api GET "/v1/jobs/$JOB" | jq -r '.confidential |
		"\(.coordinator) \(.policy) \(.stage | test("^(map|close)$"))"')"
# The worker's settings (the coordinator, its job, the backend, the
# measured configuration that pins the coordinator) are right when the
# coordinator released the job's keys to it: the policy lists exactly
# the measurement of coffer-worker with that configuration.
released() {
	[ "$(curl -s "$COORD_URL/metrics" |
		awk '/^coffer_coordinator_releases_total/ {print $2}')" -ge 1 ] 2>/dev/null
}
check "a worker attested and got the job's keys from the coordinator" \
	wait_until 30 released
# The workers prove every item at the coordinator, which closes the job
# by itself at the last proof; the manager's close finds it closed.
eq "the job completes" completed "$(e2e_finish 60)"
e2e_verify a
eq "owner a's receipt verifies: both its items OK (exit 0)" "0 OK OK" \
	"$VRC $(jq -r '[.items[].map.status] | join(" ")' "$T/v-a.json")"
eq "closed at the coordinator, whose outcome the job shows" "close completed true" \
	"$(api GET "/v1/jobs/$JOB" | jq -r '.confidential | "\(.stage) \(.outcome)"') $(
		curl -s "$COORD_URL/v1/jobs/$CJOB" | jq -r .closed)"

E2E_APP=fault
e2e_policy fault '.name = "slow" | .apps[0].params = {"sleep_ms": ["3000", "400"]}'
# fault_job SLEEP_MS: a job of items of SLEEP_MS, one replica, once it
# holds an item; sets JOB and CJOB.
taken() { [ "$(api GET "/v1/jobs/$JOB" | jq -r '.items.in_flight // 0')" -ge 1 ]; }
fault_job() {
	jq -n --arg h "$H" --arg ms "$1" '{app: "fault", app_params: {sleep_ms: $ms},
		tee: {policy: $h}, expected_time_s: 60, replicas: {min: 1, max: 1},
		controller: {name: "static"}}' >"$T/job.json"
	api POST /v1/jobs --data @"$T/job.json" >"$T/submit.json"
	JOB=$(jq -r .id "$T/submit.json")
	CJOB=$(jq -r .confidential.job "$T/submit.json")
	wait_until 30 taken || bail "the job's worker took no item"
}
# late: GET the job 10 times, 0.1 s apart, each given 4 s; LATE counts
# the requests not answered in time, $T/during.json has the last answer.
late() {
	LATE=0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		curl -s --max-time 4 -o "$T/during.json" -H "Authorization: Bearer $MGR_TOKEN" \
			"$MGR_URL/v1/jobs/$JOB" || LATE=$((LATE + 1))
		sleep 0.1
	done
}

# The close after the drain runs on the manager's event loop. The manager
# is stopped (SIGSTOP) while its replica proves the job's 6 items of 0.4 s;
# the coordinator, which closed the job at the last proof, is stopped
# before the manager runs again: the manager, which then asks for the
# close and waits for it, answers every request meanwhile, showing the job
# running in its close stage; once the coordinator answers, the job
# completes with its outcome.
fault_job 400
kill -STOP "$MGR_PID"
closed_there() { [ "$(curl -s "$COORD_URL/v1/jobs/$CJOB" | jq -r .closed)" = true ]; }
wait_until 60 closed_there || { kill -CONT "$MGR_PID"; bail "the coordinator did not close the job"; }
kill -STOP "$COORD_PID"
kill -CONT "$MGR_PID"
late
eq "a coordinator that hangs at the close: the manager answered 10 requests, none late" \
	"0 late" "$LATE late"
closing() {
	api GET "/v1/jobs/$JOB" | jq -e '.state == "running" and
		.confidential.stage == "close" and .confidential.outcome == null'
}
check "the job shows its close stage, running, and no outcome yet" wait_until 20 closing
kill -CONT "$COORD_PID"
eq "once the coordinator answers, the job completes with its outcome" "completed completed" \
	"$(e2e_finish 30) $(api GET "/v1/jobs/$JOB" | jq -r .confidential.outcome)"

# A stopped job is closed at the coordinator as cancelled: no worker gets
# its keys any more, and its receipt says so. The close runs on the event
# loop too: with the coordinator hanging (stopped, for less than the
# close's 10 s), the stop and every request after it are answered at once;
# the close completes when it wakes up.
fault_job 3000
kill -STOP "$COORD_PID"
curl -s --max-time 4 -o "$T/stop.json" -X POST -H "Authorization: Bearer $MGR_TOKEN" \
	"$MGR_URL/v1/jobs/$JOB/stop"
stop_rc=$?
late
eq "a coordinator that hangs: the stop and 10 requests after it answered, none late" \
	"0 stopped stopped null 0 late" "$stop_rc $(jq -r .state "$T/stop.json") $(jq -r \
		'"\(.state) \(.confidential.outcome)"' "$T/during.json") $LATE late"
kill -CONT "$COORD_PID"
outcome() { api GET "/v1/jobs/$JOB" | jq -r '.confidential | "\(.outcome) \(.outcome_reason)"'; }
cancelled() { [ "$(outcome)" = "failed job.cancelled" ]; }
check "once it answers, the job shows the coordinator's outcome: failed, job.cancelled" \
	wait_until 20 cancelled
eq "and the job is closed at the coordinator" true \
	"$(curl -s "$COORD_URL/v1/jobs/$CJOB" | jq -r .closed)"

# A submission runs its coordinator requests on the event loop too
# (doc/manager.md 9.2): two submissions while the coordinator hangs
# (stopped) wait for it, the manager answering every request meanwhile;
# each is then accepted as a job of its own. Jobs of no replica (their
# controller decides once an hour), of the last policy.
jq -n --arg h "$H" '{app: "fault", app_params: {sleep_ms: "400"}, tee: {policy: $h},
	expected_time_s: 60, replicas: {min: 0, max: 1, initial: 0},
	controller: {name: "static", check_interval_s: 3600}}' >"$T/idle.json"
# submit_bg NAME [curl options]: POST $T/idle.json in the background, its
# answer in $T/NAME.json, its status in $T/NAME.code; SUB_PID.
submit_bg() {
	curl -s -o "$T/$1.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $MGR_TOKEN" \
		-H "Content-Type: application/json" --data @"$T/idle.json" "${@:2}" \
		"$MGR_URL/v1/jobs" >"$T/$1.code" &
	SUB_PID=$!
}
njobs() { api GET /v1/jobs | jq '.jobs | length'; }
receipts() {
	curl -s "$COORD_URL/metrics" | awk '/^coffer_coordinator_receipts_total/ {print $2}'
}
N0=$(njobs)
kill -STOP "$COORD_PID"
submit_bg one
P1=$SUB_PID
submit_bg two
P2=$SUB_PID
late
kill -CONT "$COORD_PID"
wait "$P1" "$P2"
eq "two submissions wait for a coordinator that hangs: 10 requests answered meanwhile, none late; then both accepted" \
	"0 late 201 201" "$LATE late $(cat "$T/one.code") $(cat "$T/two.code")"
eq "as two jobs, each with a job of its own at the coordinator" "2 2" \
	"$(($(njobs) - N0)) $(jq -r .confidential.job "$T/one.json" "$T/two.json" |
		grep -x '[0-9a-f]\{32\}' | sort -u | wc -l)"
# A client that goes away before the answer does not cancel its
# submission: the job is stored, as if it had gone just after the answer.
N0=$(njobs)
kill -STOP "$COORD_PID"
submit_bg gone --max-time 1
wait "$SUB_PID"
kill -CONT "$COORD_PID"
stored() { [ "$(njobs)" = $((N0 + 1)) ]; }
check "a client gone before the answer: the job is stored all the same" wait_until 20 stored
# A submission that fails after the coordinator opened its job (the
# controller refuses its parameters, which it checks last) stores nothing
# and closes that job as cancelled, which signs its receipt.
N0=$(njobs) R0=$(receipts)
jq '.controller.params = {nope: "1"}' "$T/idle.json" >"$T/bad.json"
api POST /v1/jobs --data @"$T/bad.json" >"$T/submit.json"
closed_one() { [ "$(receipts)" = $((R0 + 1)) ]; }
eq "a submission refused after its job was opened: 400, nothing stored" \
	"400 controller.params.nope $N0" "$HTTP_CODE $(jq -r .error.field "$T/submit.json") $(njobs)"
check "and its job at the coordinator is closed as cancelled" wait_until 20 closed_one
# A coordinator that cannot be reached: 400 tee.coordinator, nothing stored.
jq '.tee.coordinator = "http://127.0.0.1:1"' "$T/idle.json" >"$T/bad.json"
api POST /v1/jobs --data @"$T/bad.json" >"$T/submit.json"
eq "a coordinator that cannot be reached: 400, nothing stored" \
	"400 tee.coordinator $N0" "$HTTP_CODE $(jq -r .error.field "$T/submit.json") $(njobs)"
# The manager stopped (SIGTERM), then killed (SIGKILL), each with a
# submission in flight: nothing was stored, and the restarted manager
# takes submissions.
kill -STOP "$COORD_PID"
submit_bg stopped
sleep 1
stop_manager
stop_rc=$?
kill -CONT "$COORD_PID"
wait "$SUB_PID"
restart_manager --coordinator "$COORD_URL" --tee-backend sim --measured-config "$T/worker.json"
eq "stopped with a submission in flight: it exits cleanly, nothing of it stored" \
	"0 $N0" "$stop_rc $(njobs)"
kill -STOP "$COORD_PID"
submit_bg killed
sleep 1
kill_manager
kill -CONT "$COORD_PID"
wait "$SUB_PID"
restart_manager --coordinator "$COORD_URL" --tee-backend sim --measured-config "$T/worker.json"
api POST /v1/jobs --data @"$T/idle.json" >"$T/submit.json"
eq "killed with a submission in flight, restarted: nothing of it stored, and a submission works" \
	"000 $((N0 + 1)) 201" "$(cat "$T/killed.code") $(njobs) $HTTP_CODE"
# Those jobs are no longer needed.
for id in $(api GET /v1/jobs | jq -r '.jobs[] | select(.state == "running" or .state == "pending") | .id'); do
	api POST "/v1/jobs/$id/stop" >/dev/null
done

# A policy that does not list these workers, and an app build it does not
# approve: accepted (the policy may be meant for other hosts), with the
# warnings of what the coordinator and the workers will refuse.
WORKER_MEAS_REAL=$WORKER_MEAS
WORKER_MEAS=$(printf '%096d' 0) e2e_policy checksum '.name = "other-workers"'
e2e_try '.replicas = {min: 0, max: 1, initial: 0} | .controller.check_interval_s = 3600'
eq "a policy that does not list these workers: accepted with a warning" \
	"201 tee.policy" "$HTTP_CODE $(jq -r '[.warnings[].field] | join(",")' "$T/submit.json")"
# Run anyway, its workers are refused for good: the job fails at the first
# refusal, naming it, instead of restarting replicas (doc/manager.md 9.3).
api DELETE "/v1/jobs/$(jq -r .id "$T/submit.json")" >/dev/null
e2e_try '.replicas = {min: 2, max: 2, initial: 2}'
JOB=$(jq -r .id "$T/submit.json")
eq "its workers are refused: the job fails" failed "$(e2e_finish 60)"
check "naming the coordinator's reason" grep -q "^a worker was refused for good:"`
	`" measurement.unapproved: key release: sim measurement $WORKER_MEAS_REAL is not approved" \
	<<<"$(api GET "/v1/jobs/$JOB" | jq -r .reason)"
check "after at most one refusal per replica" test "$(grep -c 'refused for good' "$MGR_DB.logs/$JOB.log")" -le 2
# An app build other than the one the policy approves (W6).
e2e_policy checksum '.name = "other-build" | .apps[0].sha256 = ("0" * 64)'
e2e_try
JOB=$(jq -r .id "$T/submit.json")
eq "an app build the policy does not approve: the job fails" failed "$(e2e_finish 60)"
check "naming rule W6 and the build's digest" grep -q "^a worker was refused for good:"`
	`" W6: the app file .*checksum.so has SHA-256 [0-9a-f]\{64\}, not the 0\{64\} the policy approves" \
	<<<"$(api GET "/v1/jobs/$JOB" | jq -r .reason)"

# The policy's approvals as the coordinator reports them (manager.md 9.5),
# on a job of the last policy that runs with no replica: each owner, named from the
# policy, as GET /v1/policies/{hash}/status says; a revocation shows at the
# next refresh.
e2e_try '.replicas = {min: 0, max: 1, initial: 0} | .controller.check_interval_s = 3600'
JOB=$(jq -r .id "$T/submit.json")
approvals() { api GET "/v1/jobs/$JOB" | jq -c ".confidential.approvals | $1"; }
approvals_are() { [ "$(approvals '[.owners[].approval] | join(" ")')" = "\"$1\"" ]; }
coord_view() {
	curl -s "$COORD_URL/v1/policies/$H/status" |
		jq -c '.status | [.state, .active, .reason, (.approved_by - .revoked_by | sort), (.revoked_by | sort)]'
}
mgr_view() {
	approvals '[.state, .active, .reason, ([.owners[] | select(.approval == "approved") |
		.fingerprint] | sort), ([.owners[] | select(.approval == "revoked") | .fingerprint] | sort)]'
}
check "the job shows its policy's approvals: every owner approved" \
	wait_until 20 approvals_are "approved approved approved"
eq "as the coordinator reports them, each owner named from the policy" \
	"$(coord_view) [\"hospital-a\",\"hospital-b\",\"hospital-c\"]" \
	"$(mgr_view) $(approvals '[.owners[].name]')"
coffer policy revoke "$H" --id "$T/c.id" >/dev/null 2>&1 || bail "owner c cannot revoke"
check "an owner revokes: the job shows it at the next refresh" \
	wait_until 20 approvals_are "approved approved revoked"
eq "state revoked, not active, as the coordinator reports it" \
	"$(coord_view) \"revoked\"" "$(mgr_view) $(approvals .state)"

# A coordinator that accepts connections and never answers (stopped): its
# requests time out on the manager's event loop, which answers meanwhile;
# then one that is down. The approvals say so and keep the last answer;
# the job (no replica: its controller decides once an hour) is not harmed.
# The manager, restarted on its store, gives each request 1.5 s
# (--coordinator-timeout-ms) instead of the approvals' 5 s.
stop_manager
restart_manager --coordinator "$COORD_URL" --tee-backend sim --measured-config "$T/worker.json" \
	--coordinator-timeout-ms 1500
wait_until 20 approvals_are "approved approved revoked" || bail "no approvals after the restart"
kill -STOP "$COORD_PID"
late=0 i=0
until approvals .error | grep -q 'timed out' || [ $i -ge 60 ]; do
	curl -s --max-time 4 -o /dev/null -H "Authorization: Bearer $MGR_TOKEN" \
		"$MGR_URL/v1/jobs/$JOB" || late=$((late + 1))
	i=$((i + 1))
	sleep 0.2
done
eq "a coordinator that hangs: 'timed out', and the manager answered every request meanwhile" \
	"timed out, 0 late" "$(approvals .error | grep -o 'timed out'), $late late"
kill -CONT "$COORD_PID"
stop_coordinator
ANSWERED=$(approvals .answered_at)
down() { approvals .error | grep -q '^"coordinator unreachable: .*connection failed'; }
check "a coordinator that is down: the approvals say 'coordinator unreachable: ...'" \
	wait_until 20 down
eq "the last answer stays, and the job runs on" "running \"revoked\" $ANSWERED" \
	"$(job_state "$JOB") $(approvals .state) $(approvals .answered_at)"
