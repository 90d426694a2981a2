#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A confidential job through the real coffer-worker (doc/worker.md 9): it
# authenticates the coordinator, gets its keys by attested release, runs
# the plugin in its host process with the parameters of the release (not
# --param), stores map outputs under <item>.<attempt id> sealed with the
# intermediate key, and proves each item before the ack; then the reduce
# stage over the committed map outputs, its result sealed with the output
# key (the recipients') and proved. Against the stand-in coordinator
# tests/tools/fakecoord and a real redis-server.
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_confidential.bash"
plan 20

start_redis
cw_world
cw_measured "$T/w/worker.json" "$COORD_MEAS"
WMEAS=$(coffer attest measure "$BIN/coffer-worker" "$T/w/worker.json")
cw_policy "$T/w/policy.json" "$WMEAS" true

check "load the policy's three items" "$QCTL" load "$REDIS_URL" q1 \
	a/1.sealed a/2.sealed b/1.sealed
# The worker starts before its coordinator (doc/worker.md 9.3): it tries
# again while its connections are refused, and starts once it is up.
port=$(random_port)
COORD_URL=http://127.0.0.1:$port
cw_worker q1 "$T/w/worker.json" --param format=cksum &
wpid=$!
check "a worker started before its coordinator waits for it" \
	wait_until 20 grep -q "the coordinator does not answer: trying again" "$T/q1.log"
cw_start_coord "$T/w/policy.json" --listen "127.0.0.1:$port"
wait $wpid
eq "the worker ends when the job is done" 0 $?
eq "every item is done" "total=3 done=3 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q1)"
eq "one key release for the worker's runner" 1 "$(count releases)"
eq "one proof per item" 3 "$(count proofs)"
n=$(find "$T/out/q1" -type f | grep -cE '/(a|b)/[12]\.sealed\.[0-9a-f]{32}$')
eq "outputs are named <item>.<attempt id>" 3 "$n"
out=$(ls "$T/out/q1/a/1.sealed".*)
check_fails "a map output does not open with the output key (intermediate)" \
	coffer open --key "$T/w/out.key" "$out" "$T/a1.bad"
check_fails "nor with a data key" \
	coffer open --key "$T/w/a.key" "$out" "$T/a1.bad"
check "the --param is said to be ignored" grep -q 'COFFER_PARAMS are ignored' "$T/q1.log"

# The reduce stage: the map results from the coordinator, each output
# checked against its committed digest, then the app's reduce.
timeout 60 coffer-worker --reduce result --store "$T/in" --outputs "$T/out/q1" \
	--app "$APP" --coordinator "$COORD_URL" --coordinator-job "$JOB" \
	--tee-backend sim --measured-config "$T/w/worker.json" 2> "$T/reduce.log"
eq "the reduce stage succeeds" 0 $?
check "over the three map outputs, proved" grep -q 'reduced 3 map outputs into result\.[0-9a-f]\{32\} (proved)' "$T/reduce.log"
eq "its proof is the fourth" 4 "$(count proofs)"
res=$(ls "$T/out/q1/result".*)
check "its result opens with the output key" \
	coffer open --key "$T/w/out.key" "$res" "$T/result"
# format=upper came from the coordinator; --param format=cksum was ignored;
# the reduce concatenates the map outputs in item-id order.
eq "the app ran with the release's parameters, in item order" \
	"$(cat "$T/plain/a1" "$T/plain/a2" "$T/plain/b1" | tr a-z A-Z)" "$(cat "$T/result")"

# Plaintext never reaches the store: every stored output is sealed.
sealed=1
for f in $(find "$T/out/q1" -type f); do
	head -c 7 "$f" | od -An -tx1 | grep -q '89 43 4f 46 46 45 52' || sealed=0
done
eq "every stored output is a sealed file" 1 "$sealed"

# A coordinator stopped (SIGSTOP) during a worker's start (doc/worker.md
# 9.3): each request of the start waits 3 s for its answer, and a request
# that timed out is tried again within the start's 10 s. Resumed
# meanwhile, the worker starts; left stopped, its start fails, saying the
# coordinator timed out (it waited 30 s for the first request, and never
# tried again). That one is given 5 s of tries (--start-retry-ms): one
# more request after the first timed out, then it gives up, 6 s in
# instead of 13.
"$QCTL" load "$REDIS_URL" q2 a/2.sealed >/dev/null
kill -STOP "$COORD_PID"
cw_worker q2 "$T/w/worker.json" &
wpid=$!
wait_until 30 grep -q "the coordinator does not answer: trying again.*timed out" "$T/q2.log"
ok $? "a stopped coordinator: the start's request times out, and is tried again"
kill -CONT "$COORD_PID"
wait $wpid
eq "resumed within the bound, the worker starts (and does its item)" 0 $?
kill -STOP "$COORD_PID"
cw_worker q3 "$T/w/worker.json" --start-retry-ms 5000
eq "left stopped, the start fails (exit 1, not a refusal)" 1 $?
grep -q "trying again for_ms=5000 .*timed out" "$T/q3.log" &&
	grep -q "coffer-worker: coordinator: .*timed out" "$T/q3.log"
ok $? "saying the coordinator timed out, after trying again for the 5 s it was given"
kill -CONT "$COORD_PID"
