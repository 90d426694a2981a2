#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The same job plaintext and confidential, in one run (BENCHMARKS.md,
# "Confidential vs plaintext jobs"; issue 13): real coffer-manager,
# redis-server, coffer-coordinator (sim backend) and 4 coffer-worker
# replicas (static controller). E2E_BENCH_ITEMS items (default 300,
# a third per owner) of one CSV row each; the app is `checksum` (a few
# microseconds per item: the overhead shows in full) and `fault` with
# sleep_ms=20 (an item that does some work). The plaintext job reads the
# rows as they are, the confidential one their sealed copies listed in an
# approved policy: each worker attests and gets its keys, checks each
# input's digest, opens it, seals the output and proves it at the
# coordinator before its ack. Wall time is the manager's, from the job's
# start (replicas asked for) to its completion (the last ack, and for the
# confidential job its close at the coordinator). Rounds alternate the two
# kinds; the median of E2E_BENCH_ROUNDS (default 3) is reported. Stores on
# /dev/shm when it exists. Goal (issue 13): ratio <= 1.10 with 4 workers.
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/e2e.sh
set -u
cd "$(dirname "$0")/.."
export COFFER_SRC=$PWD
export COFFER_BUILD=${COFFER_BUILD:-$PWD/${BUILD:-build}}
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
. tests/integration/lib.sh >/dev/null
. tests/integration/manager_common.bash
. tests/integration/e2e_common.bash

N=${E2E_BENCH_ITEMS:-300}
ROUNDS=${E2E_BENCH_ROUNDS:-3}
PER=$((N / 3))

start_redis >/dev/null
e2e_coordinator >/dev/null
e2e_manager >/dev/null
# Plaintext rows under $T/plain, sealed copies under $T/store (e2e_owners
# seals "row i of hospital o"; the plaintext job reads the same rows).
e2e_owners "$PER" >/dev/null
for o in a b c; do
	mkdir -p "$T/plain/$o"
	for i in $(seq 1 "$PER"); do
		printf 'row %s of hospital %s\n' "$i" "$o" >"$T/plain/$o/item-$i"
	done
done
items=$(for o in a b c; do for i in $(seq 1 "$PER"); do echo "$o/item-$i"; done; done |
	jq -R . | jq -s -c .)

elapsed() { # JOB: seconds from its start to its end, by the manager
	api GET "/v1/jobs/$1" | jq -r .elapsed_s
}
run() { # plain|conf APP PARAMS: prints the job's wall time
	local kind=$1 app=$2 params=$3 job
	if [ "$kind" = plain ]; then
		jq -n --argjson it "$items" --arg s "$T/plain" --arg app "$app" \
			--argjson p "$params" '{app: $app, app_params: $p,
			inputs: {items: $it, store: $s}, expected_time_s: 600,
			replicas: {min: 4, max: 4, initial: 4}, controller: {name: "static"}}' \
			>"$T/job.json"
	else
		jq -n --arg h "$H" --arg app "$app" --argjson p "$params" '{app: $app,
			app_params: $p, tee: {policy: $h}, expected_time_s: 600,
			replicas: {min: 4, max: 4, initial: 4}, controller: {name: "static"}}' \
			>"$T/job.json"
	fi
	api POST /v1/jobs --data @"$T/job.json" >"$T/submit.json"
	[ "$HTTP_CODE" = 201 ] || bail "submission refused: $(cat "$T/submit.json")"
	job=$(jq -r .id "$T/submit.json")
	wait_state 600 "$job" completed failed stopped || bail "job $job did not end"
	[ "$(job_state "$job")" = completed ] ||
		bail "job $job: $(api GET "/v1/jobs/$job" | jq -r .reason)"
	elapsed "$job"
}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "$N items, 4 replicas, median of $ROUNDS alternating rounds:"
echo
echo "| app | plaintext (s) | confidential (s) | ratio |"
echo "|---|---|---|---|"
for spec in 'checksum|{}' 'fault|{"sleep_ms": "20"}'; do
	app=${spec%%|*} params=${spec#*|}
	E2E_APP=$app
	if [ "$app" = fault ]; then
		e2e_policy fault '.name = "bench-fault" |
			.apps[0].params = {"sleep_ms": ["20"]}' >/dev/null
	else
		e2e_policy checksum >/dev/null
	fi
	: >"$T/p" && : >"$T/c"
	for _ in $(seq 1 "$ROUNDS"); do
		run plain "$app" "$params" >>"$T/p"
		run conf "$app" "$params" >>"$T/c"
	done
	p=$(median <"$T/p") c=$(median <"$T/c")
	label=$app
	[ "$app" = fault ] && label="fault, sleep_ms=20"
	printf '| %s | %.2f | %.2f | %.2f |\n' "$label" "$p" "$c" "$(echo "$c / $p" | bc -l)"
done
