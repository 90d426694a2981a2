#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer up` with no configuration: it starts redis-server and the manager,
# prints the URL and a token and writes them to a 0600 state file; `coffer
# job submit/list/watch` find it without flags; SIGINT stops the manager,
# its workers, the coordinator and Redis, and every one of their PIDs is
# gone.
# timeout: 180
. "$(dirname "$0")/lib.sh"
plan 20

start_coffer_up --grace-ms 2000
sed 's/^/# /' "$T/up.out"
url=$(jq -r .url "$STATE")
token=$(jq -r .token "$STATE")
grep -q "url: *$url" "$T/up.out"; ok $? "it prints the URL ($url)"
grep -q "token: *cft_" "$T/up.out"; ok $? "and the token"
eq "the state file is 0600" 600 "$(stat -c %a "$STATE")"
eq "and holds the printed token" 1 "$(grep -c "$token" "$T/up.out")"
mgr_pid=$(jq -r .manager_pid "$STATE")
redis_pid=$(jq -r .redis_pid "$STATE")
kill -0 "$mgr_pid" && kill -0 "$redis_pid"; ok $? "the manager ($mgr_pid) and redis ($redis_pid) run"
curl -sf "$url/healthz" >/dev/null; ok $? "the manager answers"
coord_pid=$(jq -r .coordinator.pid "$STATE")
curl -sf "$(jq -r .coordinator.url "$STATE")/healthz" >/dev/null && kill -0 "$coord_pid"
ok $? "its coordinator ($coord_pid) runs and answers"
grep -q '\*\*\* INSECURE SIMULATION' "$T/up.out"; ok $? "and is said to be INSECURE"
eq "the workers' measurement it prints is coffer-worker's with its configuration" \
	"$(coffer attest measure "$BIN/coffer-worker" "$(jq -r .coordinator.worker_config "$STATE")")" \
	"$(jq -r .coordinator.worker_measurement "$STATE")"

mkdir -p "$DATA/store/in"
for i in $(seq -w 1 30); do echo "x$i" > "$DATA/store/in/a-$i"; done
cat > "$T/job.json" <<JSON
{"app": "fault", "app_params": {"sleep_ms": 50}, "inputs": {"prefix": "in/a-"},
 "expected_time_s": 20, "replicas": {"min": 1, "max": 3},
 "controller": {"name": "asperathos-default", "check_interval_s": 1,
                "params": {"trigger_up": 0, "trigger_down": 0.2, "actuation_size": 1}}}
JSON
id=$(coffer job submit "$T/job.json")
ok $? "coffer job submit finds the manager without flags ($id)"
coffer job watch "$id" --interval 0.5 > "$T/watch.out" 2>&1
ok $? "coffer job watch follows it to completion"
sed 's/^/# /' "$T/watch.out" | tail -n 4
grep -Eq '^running [0-9]+/30 done .* items/s replicas [0-9]+/[0-9]+ eta .* time left .* (on track|LATE|-)$' "$T/watch.out"
ok $? "with progress lines: done/total, rate, replicas, time left, on track"
tail -n 1 "$T/watch.out" | grep -q "^$id completed"; ok $? "and a final line"
coffer job list | grep -q "^$id  *completed  *native  *30/30"; ok $? "coffer job list shows it"

# A long job, so that workers are running when Ctrl-C comes.
for i in $(seq -w 1 20); do echo "y$i" > "$DATA/store/in/b-$i"; done
sed -e 's|"in/a-"|"in/b-"|' -e 's|"sleep_ms": 50|"sleep_ms": 5000|' \
	-e 's|"min": 1, "max": 3|"min": 3, "max": 3|' "$T/job.json" > "$T/long.json"
long=$(coffer job submit "$T/long.json")
db=$(readlink -f "$DATA/manager.db")
workers() {
	local p
	for p in /proc/[0-9]*; do
		{ tr '\0' '\n' < "$p/environ"; } 2>/dev/null | grep -qx "COFFER_MANAGER_DB=$db" &&
			echo "${p#/proc/}"
	done
}
wait_until 20 bash -c "[ \$(curl -s -H 'Authorization: Bearer $token' $url/v1/jobs/$long | jq .replicas.running) -eq 3 ]"
ok $? "the long job runs 3 workers"
wpids=$(workers | tr '\n' ' ')
[ -n "$wpids" ]; ok $? "worker PIDs: $wpids"

kill -INT "$UP"
wait "$UP"
eq "coffer up exits 0 on SIGINT" 0 $?
# Alive: exists and is not a zombie waiting for init to reap it. Apps
# that workers run are SIGKILLed with their group; give the kernel a moment.
alive() { local s; s=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ "$s" != Z ]; }
any_alive() { local p; for p in "$@"; do alive "$p" && return 0; done; return 1; }
wait_until 10 bash -c "$(declare -f alive any_alive); ! any_alive $UP $mgr_pid $coord_pid $redis_pid $wpids"
ok $? "every PID is gone: coffer up, manager, coordinator, redis, workers and their apps"
for p in $UP $mgr_pid $coord_pid $redis_pid $wpids; do alive "$p" && diag "pid $p is still alive: $(cat /proc/$p/cmdline | tr '\0' ' ')"; done
eq "no process of this store is left" "" "$(workers | tr '\n' ' ')"
[ ! -e "$STATE" ]; ok $? "the state file is removed"
