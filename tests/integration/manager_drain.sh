#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The drain signal (doc/manager.md section 3, doc/queue.md 4.9): with a
# tick of 5 s, a plaintext job ends when the queue says its last item is
# settled, not at the next tick; a manager killed mid-job and started
# again still ends it at the signal; a signal lost (an ACL without
# channels: the workers' PUBLISH and the manager's SUBSCRIBE both refused)
# still ends the job, at a tick; Redis restarted mid-job: the manager
# subscribes again and the job ends at the signal. The log says which read saw the drain:
# the test checks that, and the order of the lines, never a time.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 19

start_redis
start_manager --tick-ms 5000
make_items 24

submit() { # sleep_ms: the job's id
	cat > "$T/job.json" <<JSON
{
  "app": "fault",
  "app_params": {"sleep_ms": $1},
  "inputs": {"prefix": "in/"},
  "outputs": {"prefix": "out-$RANDOM/"},
  "expected_time_s": 60,
  "replicas": {"min": 2, "max": 2},
  "controller": {"name": "asperathos-default", "check_interval_s": 1,
                 "params": {"trigger_up": 0, "trigger_down": 0, "actuation_size": 1}}
}
JSON
	api POST /v1/jobs --data-binary @"$T/job.json" | jq -r .id
}
# The lines of the manager's log about job $1 from line $2 on.
job_log() { tail -n +"$2" "$MGR_LOG" | grep -F "$1"; }
# Line number (within job_log) of the first line matching $3.
line_of() { job_log "$1" "$2" | grep -n -m1 -e "$3" | cut -d: -f1; }

# 1. The signal ends the job.
from=$(($(wc -l < "$MGR_LOG") + 1))
id=$(submit 20)
[ -n "$id" ] && [ "$id" != null ]; ok $? "the job is accepted"
api GET "/v1/jobs/$id?wait_s=120&view=status" > "$T/end1.json"
eq "it completes" completed "$(jq -r .state "$T/end1.json")"
job_log "$id" "$from" | grep -q 'the queue says the job drained'
ok $? "the manager heard the drain signal"
job_log "$id" "$from" | grep -q 'the queue drained.*seen_at=signal'
ok $? "and the read that saw the drain was the one the signal asked for"
s=$(line_of "$id" "$from" 'the queue says the job drained')
c=$(line_of "$id" "$from" 'to=completed')
[ -n "$s" ] && [ -n "$c" ] && [ "$s" -lt "$c" ]
ok $? "the signal came before the completion (lines $s, $c)"
eq "the job's items are all done" 24 "$(api GET "/v1/jobs/$id" | jq .items.done)"

# 2. A manager killed mid-job: the next one subscribes again and ends the
# job at the signal.
from=$(($(wc -l < "$MGR_LOG") + 1))
id=$(submit 1000)
# From Redis: the API's counts move only at the manager's (5 s) ticks.
wait_until 60 bash -c "[ \"\$(redis-cli -p $REDIS_PORT SCARD 'coffer:{$id}:done')\" -ge 2 ]"
ok $? "the second job is under way"
kill_manager
diag "killed with $(rcli SCARD "coffer:{$id}:done") done"
from=$(($(wc -l < "$MGR_LOG") + 1))
restart_manager --tick-ms 5000
diag "restarted with $(rcli SCARD "coffer:{$id}:done") done"
api GET "/v1/jobs/$id?wait_s=120&view=status" > "$T/end2.json"
eq "the restarted manager completes it" completed "$(jq -r .state "$T/end2.json")"
job_log "$id" "$from" | grep -q 'the queue drained.*seen_at=signal'
ok $? "at the signal"
eq "every item is done once" 24 "$(api GET "/v1/jobs/$id" | jq .items.done)"

# 3. The signal lost: nobody may publish or subscribe. The workers' acks
# still count (doc/queue.md DS2) and the job ends at a tick.
from=$(($(wc -l < "$MGR_LOG") + 1))
rcli ACL SETUSER default resetchannels >/dev/null
id=$(submit 20)
api GET "/v1/jobs/$id?wait_s=120&view=status" > "$T/end3.json"
eq "the job completes without the signal" completed "$(jq -r .state "$T/end3.json")"
job_log "$id" "$from" | grep -q 'the queue drained.*seen_at=tick'
ok $? "seen at a tick"
job_log "$id" "$from" | grep -q 'the queue says the job drained'
[ $? -ne 0 ]; ok $? "no signal was heard"
grep -q 'queue watch coffer:{'"$id"'}:drained: NOPERM' <(tail -n +"$from" "$MGR_LOG")
ok $? "the refused subscription is logged"
rcli ACL SETUSER default allchannels >/dev/null
eq "every item is done" 24 "$(api GET "/v1/jobs/$id" | jq .items.done)"

# 4. Redis restarted mid-job (AOF kept): the watch connects again and
# says so, and the job ends at the signal.
from=$(($(wc -l < "$MGR_LOG") + 1))
id=$(submit 1000)
wait_until 60 bash -c "[ \"\$(redis-cli -p $REDIS_PORT SCARD 'coffer:{$id}:done')\" -ge 2 ]"
ok $? "the fourth job is under way"
stop_redis
start_redis_again || bail "redis-server did not start again"
api GET "/v1/jobs/$id?wait_s=120&view=status" > "$T/end4.json"
eq "the job completes across the restart" completed "$(jq -r .state "$T/end4.json")"
grep -q 'queue watch coffer:{'"$id"'}:drained: subscribed again' <(tail -n +"$from" "$MGR_LOG")
ok $? "the watch subscribed again"
job_log "$id" "$from" | grep -q 'the queue drained.*seen_at=signal'
ok $? "the end was seen at the signal"
stop_manager
