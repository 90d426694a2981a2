#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of the coordinator in the middle of a confidential job, and a
# restart on the same port (issue 13): the workers keep their sessions
# (the coordinator's state is durable before it answers), send again the
# proofs it never answered, and the job completes; the receipt is signed
# once and every owner's says each item is OK once.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 7

start_redis
e2e_coordinator
e2e_manager
e2e_owners 3
E2E_APP=fault
e2e_policy fault '.apps[0].params = {"sleep_ms": ["300"]}'
e2e_submit '.replicas = {min: 2, max: 2, initial: 2} | .app_params = {sleep_ms: "300"}'

done_items() { "$QCTL" stats "$REDIS_URL" "$JOB" | sed -n 's/.*done=\([0-9]*\).*/\1/p'; }
progressed() { [ "$(done_items)" -ge 2 ] 2>/dev/null; }
check "the job makes progress" wait_until 60 progressed
before=$(done_items)
stop_coordinator KILL
eq "the coordinator is killed with SIGKILL mid-job ($before of 9 items done)" 137 "$COORD_RC"
sleep 1
start_coordinator_again || bail "the coordinator did not come back"
eq "the job completes after the restart" completed "$(e2e_finish 150)"
eq "the queue: every item done" "total=9 done=9 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" "$JOB")"
eq "every owner's receipt is valid, each item OK once" "0 0 0 OK OK OK OK OK OK OK OK OK" \
	"$(for o in a b c; do e2e_verify "$o"; printf '%s ' "$VRC"; done
	   jq -r '.items[].map.status' "$T"/v-{a,b,c}.json | tr '\n' ' ' | sed 's/ $//')"
eq "the map stage: 9 OK, none abandoned, none disagreeing" "9 0 0" \
	"$(e2e_stage a map ok) $(e2e_stage a map abandoned) $(e2e_stage a map disagreements)"
coffer audit verify --entries >"$T/entries" 2>/dev/null
eq "the audit log verifies and has one receipt and one close for the job" "1 1" \
	"$(grep -c "\"event\":\"receipt\",\"job\":\"$CJOB\"" "$T/entries") $(grep -c \
		"\"event\":\"job-close\",\"job\":\"$CJOB\"" "$T/entries")"
