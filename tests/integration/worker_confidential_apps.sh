#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Apps of a confidential job (doc/worker.md 9.4, 9.5): a plugin runs in a
# host process of its own, so its crash costs its item and a restart of the
# host, not the runner and its keys (one key release); a failure the app
# reports is proved FAILED; a plugin that hangs is killed at the item
# timeout; an executable app runs from the file whose hash the policy
# approves. Against tests/tools/fakecoord and a real redis-server.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_confidential.bash"
plan 26
# Sanitizer builds: a plugin's SIGSEGV stays a signal (the host passes
# ASAN_OPTIONS on, as an executable app's environment does).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0

start_redis
cw_world
cw_measured "$T/w/worker.json" "$COORD_MEAS"
WMEAS=$(coffer attest measure "$BIN/coffer-worker" "$T/w/worker.json")
dead() { "$QCTL" dead "$REDIS_URL" "$1" | grep -F "$2" | cut -f3; }

# 1. A plugin that crashes on one item and fails on another.
APP=$COFFER_BUILD/apps/fault.so
mkdir -p "$T/trace/a" "$T/trace/b"
CW_PARAMS=$(jq -n --arg t "$T/trace" '{crash: ["a/2.sealed"], fail: ["b/1.sealed"],
	trace_dir: [$t]}')
CW_COORD_PARAMS=(--param crash=a/2.sealed --param fail=b/1.sealed --param "trace_dir=$T/trace")
cw_policy "$T/w/p1.json" "$WMEAS"
cw_start_coord "$T/w/p1.json"
check "load q1" "$QCTL" load "$REDIS_URL" q1 --max-attempts 2 a/1.sealed a/2.sealed \
	b/1.sealed
cw_worker q1 "$T/w/worker.json"
eq "the worker ends when the job is done" 0 $?
eq "one item done, two dead" "total=3 done=1 failed=2 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q1)"
eq "the crash is the item's error" "app crashed: killed by signal 11 (Segmentation fault)" \
	"$(dead q1 a/2.sealed)"
eq "the runner survived the crashes: one key release" 1 "$(count releases)"
# Each attempt runs it in its batch's exchange and, after that crash,
# alone (doc/worker.md 9.5, HB5): every run in a host of its own.
pids=$(cut -d' ' -f1 "$T/trace/a/2.sealed" | sort -u | wc -l)
runs=$(wc -l <"$T/trace/a/2.sealed")
eq "a new host for each run after a crash" "$runs" "$pids"
ok $(( runs >= 2 ? 0 : 1 )) "at least one run per attempt ($runs)"
# The runner is the process that logs "worker started".
runner=$(grep 'worker started' "$T/q1.log" | grep -oE 'worker\[[0-9]+\]' | tr -dc 0-9)
host=$(tail -n 1 "$T/trace/a/1.sealed" | cut -d' ' -f1)
check "the plugin ran in another process than the runner ($host, $runner)" \
	test -n "$runner" -a -n "$host" -a "$host" != "$runner"
eq "the reported failure is the item's error" "injected failure for b/1.sealed" \
	"$(dead q1 b/1.sealed)"
# a/1 OK, b/1 FAILED twice (below fail_after each time): three proofs; the
# crashes proved nothing.
eq "three proofs: one OK, two FAILED" 3 "$(count proofs)"

# 2. A plugin that never returns: killed at the item timeout, by the runner.
CW_PARAMS='{"hang": ["a/1.sealed"]}'
CW_COORD_PARAMS=(--param hang=a/1.sealed)
cw_policy "$T/w/p2.json" "$WMEAS"
cw_start_coord "$T/w/p2.json"
check "load q2" "$QCTL" load "$REDIS_URL" q2 --max-attempts 1 a/1.sealed b/1.sealed
cw_worker q2 "$T/w/worker.json" --item-timeout-ms 800
eq "the worker ends" 0 $?
eq "the hung item timed out" "app timed out after 800 ms (killed)" "$(dead q2 a/1.sealed)"
eq "the other one is done" "total=2 done=1 failed=1 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q2)"
eq "still one key release" 1 "$(count releases)"

# 2c. The host dies with its runner: it sets PR_SET_PDEATHSIG itself, after
# its exec, and checks that its parent is still the runner that started it
# (doc/worker.md 9.5). The runner is killed while its host hangs on an item.
mkdir -p "$T/trace2c/a"
CW_PARAMS=$(jq -n --arg t "$T/trace2c" '{hang: ["a/1.sealed"], trace_dir: [$t]}')
CW_COORD_PARAMS=(--param hang=a/1.sealed --param "trace_dir=$T/trace2c")
cw_policy "$T/w/p2c.json" "$WMEAS"
cw_start_coord "$T/w/p2c.json"
check "load q2c" "$QCTL" load "$REDIS_URL" q2c --max-attempts 1 a/1.sealed
cw_worker q2c "$T/w/worker.json" --item-timeout-ms 60000 &
wpid=$!
track $wpid
wait_until 30 test -s "$T/trace2c/a/1.sealed"
host=$(head -n 1 "$T/trace2c/a/1.sealed" | cut -d' ' -f1)
runner=$(awk '{ print $4 }' "/proc/$host/stat" 2>/dev/null)
gone() { ! test -e "/proc/$1" || grep -q '^State:.Z' "/proc/$1/status"; }
check "the hung host ($host) is the runner's ($runner) child" \
	grep -q "worker\[$runner\]" "$T/q2c.log"
kill -9 "$runner" 2>/dev/null
check "the host died with its runner" wait_until 10 gone "$host"
kill -TERM "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null

# 2b. Items that do not all fit the host's region (doc/worker.md 9.5 HB1):
# three of 400 KB (the first two in one exchange, the third in the next)
# and one of 1.1 MB (over the 1 MiB half: alone, in frames); each output is
# its input.
for i in 1 2 3 4; do
	head -c $(( i == 4 ? 1100000 : 400000 )) /dev/urandom > "$T/plain/big$i"
	coffer seal --key "$T/w/a.key" "$T/plain/big$i" "$T/in/a/big$i.sealed" >/dev/null ||
		bail "coffer seal"
done
for i in 1 2 3 4; do
	jq -n --arg k "a/big$i.sealed" --arg d "sha256:$(sha "$T/in/a/big$i.sealed")" \
		'{key: $k, digest: $d}'
done | jq -s . > "$T/w/more.json"
CW_PARAMS='{}'
CW_COORD_PARAMS=()
CW_MORE_OBJECTS=$T/w/more.json cw_policy "$T/w/p2b.json" "$WMEAS"
cw_start_coord "$T/w/p2b.json"
check "load q2b" "$QCTL" load "$REDIS_URL" q2b a/big1.sealed a/big2.sealed \
	a/big3.sealed a/big4.sealed
cw_worker q2b "$T/w/worker.json"
eq "every big item is done" "total=4 done=4 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q2b)"
check_fails "each at its first attempt" grep -q 'item failed' "$T/q2b.log"
same=0
for i in 1 2 3 4; do
	coffer open --key "$T/w/out.key" "$(ls "$T/out/q2b/a/big$i.sealed".*)" \
		"$T/big$i.out" && cmp -s "$T/plain/big$i" "$T/big$i.out" && same=$((same + 1))
done
eq "each output is its own input" 4 "$same"

# 3. An executable app (one process per item, from the approved file).
APP=$COFFER_BUILD/apps/checksum
CW_PARAMS='{"format": ["upper"]}'
CW_COORD_PARAMS=(--param format=upper)
cw_policy "$T/w/p3.json" "$WMEAS"
cw_start_coord "$T/w/p3.json"
check "load q3" "$QCTL" load "$REDIS_URL" q3 a/1.sealed b/1.sealed
cw_worker q3 "$T/w/worker.json" --app-kind exec
eq "every item is done" "total=2 done=2 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q3)"
check "its output opens with the output key" \
	coffer open --key "$T/w/out.key" "$(ls "$T/out/q3/b/1.sealed".*)" "$T/b1.out"
eq "the app got the release's parameters in its environment" \
	"$(tr a-z A-Z < "$T/plain/b1")" "$(cat "$T/b1.out")"
