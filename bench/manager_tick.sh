#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The manager's CPU per tick and per GET (BENCHMARKS.md, branch mgrcost),
# on COFFER_BUILD (default build/): a plaintext job of 3000 items (fault
# app, 30 s each) on 4 replicas, tick 20 ms; over a 5 s window the
# manager's CPU (/proc/PID/schedstat) per tick; then 200 GETs of the job,
# full and ?view=status: the manager's CPU per GET (the ticks meanwhile
# included: about 40 us a GET).
set -u
cd "$(dirname "$0")/.."
export COFFER_SRC=$PWD COFFER_BUILD=${COFFER_BUILD:-$PWD/build}
[ -d /dev/shm ] && export TMPDIR=/dev/shm
. tests/integration/lib.sh >/dev/null
. tests/integration/manager_common.bash
start_redis >/dev/null
start_manager --tick-ms 20 >/dev/null
cpu() { awk '{print $1}' /proc/$MGR_PID/schedstat; }
jq -n '{app: "fault", app_params: {sleep_ms: "30000"}, inputs: {items: [range(3000) | "in/i-\(.)"]},
	expected_time_s: 3600, replicas: {min: 4, max: 4, initial: 4}, controller: {name: "static"}}' >"$T/job.json"
api POST /v1/jobs --data @"$T/job.json" >"$T/sub.json"
[ "$HTTP_CODE" = 201 ] || bail "submit: $(cat "$T/sub.json")"
id=$(jq -r .id "$T/sub.json")
inflight() { [ "$(api GET "/v1/jobs/$id?view=status" | jq -r '.items.in_flight // 0')" -ge 4 ]; }
wait_until 60 inflight || bail "no 4 in flight"
sleep 1
c0=$(cpu); t0=$(date +%s%N); sleep 5; c1=$(cpu); t1=$(date +%s%N)
ticks=$(( (t1 - t0) / 20000000 ))
echo "tick: $(( (c1 - c0) / ticks / 1000 )) us per 20 ms tick over $ticks ticks ($(( (c1 - c0) / 1000000 )) ms in 5 s)"
for v in "" "?view=status"; do
	c0=$(cpu)
	for i in $(seq 200); do curl -s -o /dev/null -H "Authorization: Bearer $MGR_TOKEN" "$MGR_URL/v1/jobs/$id$v"; done
	c1=$(cpu)
	sz=$(curl -s -H "Authorization: Bearer $MGR_TOKEN" "$MGR_URL/v1/jobs/$id$v" | wc -c)
	echo "GET /v1/jobs/{id}$v: $(( (c1 - c0) / 200 / 1000 )) us of manager CPU per GET (incl. ticks meanwhile), $sz bytes"
done
api POST "/v1/jobs/$id/stop" >/dev/null
