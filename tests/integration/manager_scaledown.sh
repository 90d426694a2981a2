#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A scale-down stops idle replicas, not busy ones (doc/manager.md section 5):
# 8 replicas, 4 items of 10 s queued first and 44 of 0.1 s after them. The
# first four items taken are the long ones, on four of the eight replicas
# (whichever took them: the order is a race); the short ones are done a
# couple of seconds later, and the deadline controller releases the four
# idle replicas while the long items run. The local actuator, told by the
# manager which replicas hold items, stops those four: every long item is
# done on its first attempt. Without the hint it would stop the four newest
# replicas, which hold a long item unless the race put all four on the four
# oldest (1 chance in 70); the grace (3 s) would end in a kill and a retry.
#
# It also checks the item times end to end: every ack adds its time to the
# job's meta hash, and the controller's inputs carry the measured variance.
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 12

start_redis
start_manager
make_items 48
mkdir -p "$T/trace/in"

cat > "$T/job.json" <<JSON
{
  "name": "idle-first",
  "app": "fault",
  "app_params": {"sleep_ms": 100, "slow": "in/i-0[1-4]", "slow_ms": 10000,
                 "trace_dir": "$T/trace"},
  "inputs": {"prefix": "in/"},
  "outputs": {"prefix": "out/"},
  "expected_time_s": 120,
  "lease_ms": 5000,
  "replicas": {"min": 1, "max": 8, "initial": 8},
  "controller": {"name": "deadline", "check_interval_s": 1}
}
JSON
api POST /v1/jobs --data-binary @"$T/job.json" > "$T/submit.json"
eq "the job is accepted" 201 "$HTTP_CODE"
id=$(jq -r .id "$T/submit.json")
wait_state 150 "$id" completed failed stopped
api GET "/v1/jobs/$id" > "$T/job.out"
eq "the job completed" completed "$(jq -r .state "$T/job.out")"
eq "all 48 items done, none failed" "48 48 0" \
	"$(jq -r '"\(.items.total) \(.items.done) \(.items.failed)"' "$T/job.out")"

api GET "/v1/jobs/$id/timeline" > "$T/timeline.json"
jq -r '.decisions[] | "\(.t_s) \(.from) -> \(.to): \(.reason)"' "$T/timeline.json" |
	head -n 20 | sed 's/^/#   /'
# The scale-down happened while the long items were running: at a decision
# with nothing queued and the four long items in flight.
jq -e '[.decisions[] | select(.to < .from and .to >= 4 and .inputs.queued == 0
	and .inputs.in_flight == 4)] | length > 0' "$T/timeline.json" >/dev/null
ok $? "the controller released idle replicas while 4 long items were in flight"
down_t=$(jq '[.decisions[] | select(.to < .from)][0].t_s' "$T/timeline.json")
jq -e '[.samples[] | select(.t_s > '"$down_t"' + 2 and .done < 48) | .replicas]
	| length > 0 and all(. <= 4)' "$T/timeline.json" >/dev/null
ok $? "after the scale-down (at ${down_t}s) at most 4 replicas ran until the end"
# The replicas' worker ids name their replicas (doc/queue.md section 1).
grep -Eo 'worker=l[0-9a-f]{8}-[0-9]+_[0-9a-f]{8}' "$MGR_DB.logs/$id.log" | sort -u > "$T/wids"
[ "$(wc -l < "$T/wids")" -ge 8 ]
ok $? "every replica's worker id names its replica ($(head -1 "$T/wids"), ...)"

# Every long item ran once: one trace line (pid, attempt 1), one attempt
# counted by the queue.
for i in 1 2 3 4; do
	lines=$(cat "$T/trace/in/i-0$i" 2>/dev/null)
	attempts=$(rcli HGET "coffer:{$id}:attempts" "in/i-0$i")
	[ "$(printf '%s\n' "$lines" | wc -l)" = 1 ] && [ "${lines#* }" = 1 ] &&
		[ "$attempts" = 1 ]
	ok $? "long item i-0$i ran once, on its first attempt (trace '$lines', attempts $attempts)"
done

# Item times: the first ack of each item added its time to the job's meta
# hash; the controller saw their mean and variance.
eq "the acks timed all 48 items" 48 "$(rcli HGET "coffer:{$id}:meta" item_n)"
jq -e '[.decisions[] | select(.inputs.done >= 2) | .inputs.item_time_var_s2]
	| length > 0 and all(. > 0)' "$T/timeline.json" >/dev/null
ok $? "the controller's inputs carry the measured item time variance"
