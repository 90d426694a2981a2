#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of coffer-manager in the middle of a job, then a new start on the
# same store: the job resumes from the queue and completes with every item
# done once; the replicas of the killed manager do not run on (their
# process dies with the manager, and any left over is found and stopped by
# the next start); decisions and the timeline carry on.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 17

N=200
start_redis
start_manager
make_items $N
cat > "$T/job.json" <<JSON
{
  "app": "fault",
  "app_params": {"sleep_ms": 100},
  "inputs": {"prefix": "in/"},
  "outputs": {"prefix": "out/"},
  "expected_time_s": 30,
  "lease_ms": 3000,
  "replicas": {"min": 2, "max": 4},
  "controller": {"name": "asperathos-default", "check_interval_s": 1,
                 "params": {"trigger_up": 0, "trigger_down": 0, "actuation_size": 1}}
}
JSON
api POST /v1/jobs --data-binary @"$T/job.json" > "$T/submit.json"
eq "the job is accepted" 201 "$HTTP_CODE"
id=$(jq -r .id "$T/submit.json")
db_abs=$(readlink -f "$MGR_DB")

# Workers of this store, by the environment the manager gives them.
replicas_of() { # [incarnation]: pids of replicas of this store (of that incarnation)
	local p e
	for p in /proc/[0-9]*; do
		e=$( { tr '\0' '\n' < "$p/environ"; } 2>/dev/null) || continue
		grep -qx "COFFER_MANAGER_DB=$db_abs" <<<"$e" || continue
		[ -n "${1:-}" ] && ! grep -qx "COFFER_MANAGER_INCARNATION=$1" <<<"$e" && continue
		echo "${p#/proc/}"
	done
}
stats() { api GET "/v1/jobs/$id" | jq -r '"\(.items.done) \(.items.in_flight)"'; }

wait_until 60 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $MGR_TOKEN' $MGR_URL/v1/jobs/$id | jq .items.done)\" -ge 40 ]"
ok $? "the job is under way before the kill ($(stats | cut -d' ' -f1) done)"
first=$(replicas_of | head -n 1)
old_inc=$( { tr '\0' '\n' < "/proc/$first/environ"; } 2>/dev/null | sed -n 's/^COFFER_MANAGER_INCARNATION=//p')
[ -n "$(replicas_of "$old_inc")" ]; ok $? "replicas of the first manager are running"
# A stand-in for a replica that outlives its manager (it ignores the
# parent-death signal the local actuator sets): same markers, own process.
env COFFER_MANAGER_DB="$db_abs" COFFER_MANAGER_INCARNATION="$old_inc" sleep 300 &
straggler=$!
track $straggler
decisions_before=$(api GET "/v1/jobs/$id/timeline" | jq '.decisions | length')

before=$(stats)
kill_manager
diag "killed the manager (pid $MGR_PID) with $before done/in flight"
old_replicas_gone() {
	local p
	for p in $(replicas_of "$old_inc" | grep -vx "$straggler"); do
		alive "$p" && return 1
	done
	return 0
}
wait_until 20 old_replicas_gone
ok $? "the killed manager's replicas stopped with it"
kill -0 "$straggler"; ok $? "the stand-in straggler is still there"

restart_manager
eq "the restarted manager still knows the job" running "$(job_state "$id")"
wait_exit 20 "$straggler"
ok $? "the restart stopped the earlier incarnation's straggler"
grep -q "stopping a replica of an earlier run.*pid=$straggler" "$MGR_LOG"; ok $? "and logged it"

wait_state 120 "$id" completed failed stopped
api GET "/v1/jobs/$id" > "$T/job.out"
eq "the job completed" completed "$(jq -r .state "$T/job.out")"
eq "every item done, none failed" "$N $N 0" \
	"$(jq -r '"\(.items.total) \(.items.done) \(.items.failed)"' "$T/job.out")"
eq "one output per item" $N "$(find "$T/store/out" -type f | wc -l)"
eq "no dead letters" 0 "$(rcli LLEN "coffer:{$id}:dead")"
api GET "/v1/jobs/$id/timeline" > "$T/timeline.json"
n_dec=$(jq '.decisions | length' "$T/timeline.json")
[ "$n_dec" -gt "$decisions_before" ]; ok $? "decisions went on after the restart ($decisions_before -> $n_dec)"
jq -e '[.decisions[].seq] == [range(1; (.decisions | length) + 1)]' "$T/timeline.json" >/dev/null
ok $? "decision numbers continue without gaps or repeats"
jq -e '[.samples[].t_s] as $t | [range(1; $t | length)] | all($t[.] >= $t[. - 1])' \
	"$T/timeline.json" >/dev/null
ok $? "the timeline's clock runs on across the restart (no reset)"
stop_manager
eq "no replica of this store is left after a clean stop" "" "$(replicas_of | tr '\n' ' ')"
grep -q "job resumed job=$id state=running" "$MGR_LOG"; ok $? "the log says the job was resumed"
