#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A confidential job under a standby pool of 2 (doc/manager.md section
# 5.4): the manager keeps 2 confidential standby workers for its
# coordinator; the job runs on them (their PIDs and replica ids), each
# item once, and every owner's receipt verifies; the pool refills and a
# second job works too; an idle confidential standby worker killed with
# SIGKILL is replaced; a manager stopped with SIGTERM leaves none.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 18

SB_WORKER=${SB_WORKER:-$BIN/coffer-worker}
start_redis
e2e_coordinator
e2e_manager --standby-replicas 2 --worker "$SB_WORKER"
e2e_owners 4
e2e_policy checksum
db_abs=$(readlink -f "$MGR_DB")
KIND="confidential:sim:$COORD_URL"

conf() { api GET /v1/standby | jq --arg k "$KIND" '.kinds[] | select(.kind == $k)'; }
idle_pids() { conf | jq -r '[.workers[] | select(.state == "idle") | .pid] | sort | map(tostring) | join(" ")'; }
pool_full() { [ "$(conf | jq .idle)" = 2 ]; }
standby_procs() {
	local p e
	for p in /proc/[0-9]*; do
		e=$( { tr '\0' '\n' < "$p/environ"; } 2>/dev/null) || continue
		grep -qx "COFFER_MANAGER_DB=$db_abs" <<<"$e" || continue
		grep -qx "COFFER_STANDBY=1" <<<"$e" && echo "${p#/proc/}"
	done
}
none_left() { [ -z "$(standby_procs)" ]; }

wait_until 60 pool_full
ok $? "the pool has 2 idle confidential workers for its coordinator"
ids=$(conf | jq -r '[.workers[] | select(.state == "idle") | .replica] | join(" ")')
pids=$(idle_pids)
env_ok=1
for p in $pids; do
	e=$(tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null)
	grep -qx "COFFER_COORDINATOR_URL=$COORD_URL" <<<"$e" && grep -qx COFFER_STANDBY=1 <<<"$e" ||
		env_ok=0
done
eq "they were started as standby workers of that coordinator (pids $pids)" 1 "$env_ok"
# Attested before the job: their standby sessions are at the coordinator.
wait_until 30 bash -c "[ \$(grep -c 'standby ready' '$db_abs.logs/standby.log') -ge 2 ]"
ok $? "both said they are ready (attested) before any job"
eq "with a standby session each at the coordinator, before any job" 2 \
	"$(grep -c 'standby session made' "$COORD_LOG")"

e2e_submit '.replicas = {min: 2, max: 2, initial: 2}'
eq "the job completes" completed "$(e2e_finish 120)"
api GET "/v1/jobs/$JOB" > "$T/job.out"
eq "both replicas came from the pool" 2 "$(jq .replicas.warm "$T/job.out")"
api GET "/v1/jobs/$JOB/log" > "$T/job.log"
ran=1
for r in $ids; do grep -q "worker started.*worker=${r}_.*warm=1" "$T/job.log" || ran=0; done
eq "the job's log shows both standby workers started it warm" 1 "$ran"
eq "its keys went to both standby sessions (a bind each)" 2 \
	"$(grep "keys released job=$CJOB" "$COORD_LOG" | grep -c ' standby=')"
eq "and to no worker that attested in the job (no cold release)" 0 \
	"$(grep "keys released job=$CJOB" "$COORD_LOG" | grep -vc ' standby=')"
v=""
for o in a b c; do e2e_verify "$o"; v="$v$VRC"; done
eq "every owner's receipt verifies" 000 "$v"
eq "each of the 12 items once" "12 0" \
	"$(curl -s "$COORD_URL/v1/jobs/$CJOB/receipt" | jq -r '.statement.stages[0] | "\(.ok) \(.duplicates)"')"

wait_until 60 pool_full
ok $? "the pool refilled"
fresh=1
for p in $(idle_pids); do grep -qw "$p" <<<"$pids" && fresh=0; done
eq "with new workers" 1 "$fresh"
e2e_submit '.replicas = {min: 2, max: 2, initial: 2}'
eq "a second job completes" completed "$(e2e_finish 120)"
for o in a; do e2e_verify "$o"; done
eq "and its receipt verifies" 0 "$VRC"

wait_until 60 pool_full
victim=$(idle_pids | cut -d' ' -f1)
kill -9 "$victim"
replaced() { pool_full && ! grep -qw "$victim" <<<"$(idle_pids)"; }
wait_until 30 replaced
ok $? "an idle confidential standby worker killed with SIGKILL is replaced"
stop_manager
wait_until 10 none_left
ok $? "a manager stopped with SIGTERM leaves no standby worker"
grep -E 'Sanitizer|runtime error' "$MGR_LOG" | head -n 5 | sed 's/^/# /'
! grep -qE 'Sanitizer|runtime error' "$MGR_LOG"
ok $? "the manager's log has no sanitizer report"
