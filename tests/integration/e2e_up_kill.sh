#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A confidential job under `coffer up` whose coordinator is killed in the
# middle (round two of the new user's walk; e2e_coord_kill.sh does it
# without coffer up): coffer up stops, saying which server died and how,
# and that a new start resumes; started again, `coffer job wait`, which
# was waiting, follows it, the job completes, and every owner's receipt is
# valid with each item committed once.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/e2e_common.bash"
plan 8

# Batches of one item (in coffer up's environment, which its manager and
# workers get): progress, and the kill, come between items.
export COFFER_BATCH=1
start_coffer_up --grace-ms 2000
COORD_URL=$(jq -r .coordinator.url "$STATE")
COORD_SIM_KEY=$(jq -r .coordinator.sim_key "$STATE")
COORD_SIM_FP=$(jq -r .coordinator.sim_key_fingerprint "$STATE")
WORKER_MEAS=$(jq -r .coordinator.worker_measurement "$STATE")
pin=$(sed -n 's/^ *pin it with: //p' "$T/up.out")
bash -c "$pin" >/dev/null 2>&1 || bail "pinning the coordinator"
E2E_STORE=$DATA/store
e2e_owners 4
e2e_policy fault '.apps[0].params = {"sleep_ms": ["800"]}'
jq -n --arg h "$H" '{name: "cohort", app: "fault", app_params: {sleep_ms: "800"},
	tee: {policy: $h}, expected_time_s: 120, replicas: {min: 1, max: 1},
	controller: {name: "static"}, lease_ms: 2000}' >"$T/job.json"
ID=$(coffer job submit "$T/job.json") || bail "submit"
coffer job wait "$ID" --timeout 200 >"$T/wait.out" 2>"$T/wait.err" &
WAIT=$!
track $WAIT
wait_until 60 bash -c "[ \$(coffer job show $ID 2>/dev/null | jq '.items.done // 0') -ge 2 ]" ||
	bail "no progress"
cpid=$(jq -r .coordinator.pid "$STATE")
kill -9 "$cpid"
wait "$UP"
eq "the coordinator killed under coffer up: coffer up exits 1" 1 $?
grep -q "coffer-coordinator was killed by signal 9 (Killed), by hand or the OOM killer" "$T/up.out" &&
	grep -q "start 'coffer up' again and interrupted jobs resume" "$T/up.out"
ok $? "saying which server died, how, and that a new start resumes"
start_coffer_up --grace-ms 2000
wait "$WAIT"
eq "the waiting coffer job wait follows the restart; the job completes" 0 $?
diag "$(cat "$T/wait.out")"
grep -q "$ID goes on: waiting for coffer up" "$T/wait.err"
ok $? "it said so (the job was cut in the middle): $(head -1 "$T/wait.err")"
CJOB=$(coffer job show "$ID" | jq -r .confidential.job)
v=""
for o in a b c; do e2e_verify "$o"; v="$v$VRC"; done
eq "every owner's receipt is valid" 000 "$v"
eq "every one of the 12 items committed once, none abandoned" "12 0" \
	"$(e2e_stage a map ok) $(e2e_stage a map abandoned)"
eq "each owner's own 4 items OK" "OK OK OK OK" \
	"$(jq -r '[.items[].map.status] | join(" ")' "$T/v-b.json")"
curl -s "$COORD_URL/v1/jobs/$CJOB/receipt" | jq -e '.statement.outcome == "completed"' >/dev/null
ok $? "the coordinator's receipt: completed"
