#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The standby pool (doc/manager.md section 5.4) with real coffer-worker
# processes: a plaintext job under a pool of 2 runs on the standby workers
# (their PIDs and replica ids), the pool refills, a second job works; an
# idle standby worker killed with SIGKILL is replaced; a manager stopped
# with SIGTERM leaves no standby worker, and one killed with SIGKILL has
# its standby workers stopped by the next start.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 33

# SB_WORKER: what the manager runs as its worker (default coffer-worker).
SB_WORKER=${SB_WORKER:-$BIN/coffer-worker}
N=24
start_redis
start_manager --standby-replicas 2 --worker "$SB_WORKER"
make_items $N
db_abs=$(readlink -f "$MGR_DB")

# idle_pids: the plaintext kind's idle workers' PIDs, sorted, one line.
idle_pids() {
	api GET /v1/standby | jq -r '[.kinds[] | select(.kind == "plaintext")
		| .workers[] | select(.state == "idle") | .pid] | sort | map(tostring)
		| join(" ")'
}
idle_count() { api GET /v1/standby | jq '[.kinds[] | select(.kind == "plaintext") | .idle][0]'; }
pool_full() { [ "$(idle_count)" = 2 ]; }
# standby_procs [incarnation]: PIDs of processes of this store that were
# started as standby workers (COFFER_STANDBY=1 in their environment).
standby_procs() {
	local p e
	for p in /proc/[0-9]*; do
		e=$( { tr '\0' '\n' < "$p/environ"; } 2>/dev/null) || continue
		grep -qx "COFFER_MANAGER_DB=$db_abs" <<<"$e" || continue
		grep -qx "COFFER_STANDBY=1" <<<"$e" || continue
		[ -n "${1:-}" ] && ! grep -qx "COFFER_MANAGER_INCARNATION=$1" <<<"$e" && continue
		echo "${p#/proc/}"
	done
}
none_left() { [ -z "$(standby_procs "$@")" ]; }

wait_until 30 pool_full
ok $? "the pool has 2 idle plaintext workers"
api GET /v1/standby > "$T/pool1.json"
first=$(idle_pids)
ids1=$(jq -r '[.kinds[] | select(.kind == "plaintext") | .workers[].replica] | join(" ")' "$T/pool1.json")
diag "standby workers: pids $first, replicas $ids1"
all_standby=1
for p in $first; do
	tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx COFFER_STANDBY=1 || all_standby=0
done
eq "they are processes started with COFFER_STANDBY=1" 1 "$all_standby"
api GET /metrics > "$T/metrics1.txt"
grep -q '^coffer_standby_workers{kind="plaintext"} 2$' "$T/metrics1.txt"
ok $? "/metrics shows the 2 idle workers"

job() { # NAME: submit a job of N items on 2 replicas; prints its id
	cat > "$T/$1.json" <<JSON
{
  "name": "$1",
  "app": "fault",
  "app_params": {"sleep_ms": 150},
  "inputs": {"prefix": "in/"},
  "outputs": {"prefix": "$1/"},
  "expected_time_s": 120,
  "replicas": {"min": 2, "max": 2},
  "controller": {"name": "asperathos-default", "check_interval_s": 1,
                 "params": {"trigger_up": 0, "trigger_down": 0, "actuation_size": 1}}
}
JSON
	api POST /v1/jobs --data-binary @"$T/$1.json" > "$T/$1.submit"
	jq -r .id "$T/$1.submit"
}

id=$(job first)
wait_until 30 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $MGR_TOKEN' $MGR_URL/v1/jobs/$id | jq .items.done)\" -ge 2 ]"
ok $? "the first job is under way"
taken=1
for p in $first; do
	kill -0 "$p" 2>/dev/null || taken=0
	grep -qw "$p" <<<"$(idle_pids)" && taken=0
done
eq "the standby workers run on, no longer idle in the pool" 1 "$taken"
wait_state 120 "$id" completed failed stopped
api GET "/v1/jobs/$id" > "$T/first.out"
eq "the first job completed" completed "$(jq -r .state "$T/first.out")"
eq "all $N items done once" "$N $N 0" \
	"$(jq -r '"\(.items.total) \(.items.done) \(.items.failed)"' "$T/first.out")"
eq "both replicas came from the pool" 2 "$(jq .replicas.warm "$T/first.out")"
eq "every output is there" "$N" "$(find "$T/store/first" -type f | wc -l)"
api GET "/v1/jobs/$id/log" > "$T/first.log"
ran=1
for r in $ids1; do
	grep -q "worker started.*worker=${r}_.*warm=1" "$T/first.log" || ran=0
done
eq "the job's log shows both standby workers started the job warm (their replica ids, warm=1)" 1 "$ran"
eq "and no other worker" 2 "$(grep -c 'worker started' "$T/first.log")"

wait_until 30 pool_full
ok $? "the pool refilled to 2"
second=$(idle_pids)
fresh=1
for p in $second; do grep -qw "$p" <<<"$first" && fresh=0; done
eq "with new processes ($second)" 1 "$fresh"

id2=$(job second)
wait_state 120 "$id2" completed failed stopped
api GET "/v1/jobs/$id2" > "$T/second.out"
eq "a second job completed" completed "$(jq -r .state "$T/second.out")"
eq "its $N items done once, from 2 standby workers" "$N 0 2" \
	"$(jq -r '"\(.items.done) \(.items.failed) \(.replicas.warm)"' "$T/second.out")"

# A job with its own env and an executable app, as manager_secrets.sh
# runs one: the env reaches the app through the assignment, the queue's
# URL does not.
wait_until 30 pool_full
printf '#!/bin/sh\ncat > /dev/null\nenv | sort\n' > "$T/spy"
chmod +x "$T/spy"
api POST /v1/jobs -d '{"name": "envjob", "app": "'"$T/spy"'", "inputs": {"prefix": "in/i-0"},
	"outputs": {"prefix": "env/"}, "expected_time_s": 60, "replicas": {"min": 1, "max": 1},
	"controller": {"name": "static"}, "env": {"WANTED_BY_JOB": "yes"}}' > "$T/env.submit"
eq "a job with its own env is accepted" 201 "$HTTP_CODE"
id3=$(jq -r .id "$T/env.submit")
wait_state 60 "$id3" completed failed stopped
eq "it completes on a standby worker" "completed 1" \
	"$(api GET "/v1/jobs/$id3" | jq -r '"\(.state) \(.replicas.warm)"')"
o=$(find "$T/store/env" -type f | head -n 1)
grep -q '^WANTED_BY_JOB=yes$' "$o"; ok $? "the job's env reaches its app"
eq "the queue's URL does not" "" "$(grep -E '^(REDIS_|COFFER_REDIS_URL=)' "$o")"

# A job with a reduce stage (pooled-stats over the three hospitals'
# tables, as bench/e2e.sh runs it) on one item worker: the item worker and
# the reduce replica (COFFER_REDUCE_KEY in its assignment) both come from
# the pool of 2.
wait_until 30 pool_full
mkdir -p "$T/store/ps"
for o in a b c; do cp "$COFFER_SRC/demo/data/pooled-stats/hospital-$o.csv" "$T/store/ps/$o.csv"; done
jq -n --arg s "$(tr '\n' ' ' < "$COFFER_SRC/demo/data/pooled-stats/schema.txt" | sed 's/ *$//')" '{
	name: "reduce", app: "pooled-stats", inputs: {prefix: "ps/"},
	app_params: {schema: $s, target: "diagnosis", positive: "benign", min_owners: "1"},
	outputs: {prefix: "psout/", reduce: "psout/result"}, expected_time_s: 60,
	replicas: {min: 1, max: 1}, controller: {name: "static"}}' > "$T/reduce.json"
api POST /v1/jobs --data @"$T/reduce.json" > "$T/reduce.submit"
eq "a job with a reduce stage is accepted" 201 "$HTTP_CODE"
id4=$(jq -r .id "$T/reduce.submit")
wait_state 60 "$id4" completed failed stopped
eq "it completes, its item worker and its reduce replica from the pool" "completed 2" \
	"$(api GET "/v1/jobs/$id4" | jq -r '"\(.state) \(.replicas.warm)"')"
[ -s "$T/store/psout/result" ]; ok $? "the reduce stage wrote its result"

wait_until 30 pool_full
victim=$(idle_pids | cut -d' ' -f1)
kill -9 "$victim"
replaced() {
	local now
	now=$(idle_pids)
	pool_full && ! grep -qw "$victim" <<<"$now"
}
wait_until 30 replaced
ok $? "an idle standby worker killed with SIGKILL ($victim) is replaced"
api GET /v1/standby > "$T/pool3.json"
eq "the pool counts it died (status 137)" "1 137" \
	"$(jq -r '.kinds[] | select(.kind == "plaintext") | "\(.died) \(.last_status)"' "$T/pool3.json")"
grep -q "a standby worker died idle.*pid=$victim" "$MGR_LOG"
ok $? "the manager logged it"

inc1=$(tr '\0' '\n' < "/proc/$(idle_pids | cut -d' ' -f1)/environ" | sed -n 's/^COFFER_MANAGER_INCARNATION=//p')
stop_manager
ok $? "the manager stops on SIGTERM"
wait_until 10 none_left
ok $? "no standby worker is left after the SIGTERM"

restart_manager --standby-replicas 2 --worker "$SB_WORKER"
wait_until 30 pool_full
ok $? "a restarted manager fills its pool again"
inc2=$(tr '\0' '\n' < "/proc/$(idle_pids | cut -d' ' -f1)/environ" | sed -n 's/^COFFER_MANAGER_INCARNATION=//p')
[ -n "$inc2" ] && [ "$inc2" != "$inc1" ]
ok $? "with workers of its own incarnation"
kill_manager
restart_manager --standby-replicas 0
wait_until 20 none_left "$inc2"
ok $? "the standby workers of a manager killed with SIGKILL are gone at the next start"
eq "a manager without a pool keeps none" "0 0" \
	"$(api GET /v1/standby | jq -r '"\(.per_kind) \(.kinds | length)"')"
stop_manager
wait_until 10 none_left
ok $? "no standby process is left at the end"
grep -E 'Sanitizer|runtime error' "$MGR_LOG" | head -n 5 | sed 's/^/# /'
! grep -qE 'Sanitizer|runtime error' "$MGR_LOG"
ok $? "the manager's log has no sanitizer report"
