#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A confidential standby worker (doc/worker.md 9.9, key-release.md 6.7):
# started with its deployment settings only, it authenticates the
# coordinator and makes a standby session before it has a job; given its
# assignment it binds the session (no nonce, no release) and runs the job
# as a cold worker would (items once, proved); EOF before an assignment
# exits 0; a coordinator that restarted between standby and bind forgot
# the session, and the worker falls back to one cold release; a bind
# refused for the worker's measurement or the policy ends it with the
# reason named; SIGTERM in standby ends the worker and its runner; an
# assignment with other coordinator settings and a runner restarted after
# the bind take a cold release. Against tests/tools/fakecoord and a real
# redis-server.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_confidential.bash"
plan 42

start_redis
cw_world
cw_measured "$T/w/worker.json" "$COORD_MEAS"
WMEAS=$(coffer attest measure "$BIN/coffer-worker" "$T/w/worker.json")
cw_policy "$T/w/policy.json" "$WMEAS"
# Another measured configuration (any byte of it) is another measurement.
jq -c . "$T/w/worker.json" > "$T/w/worker-other.json"
port=$(random_port)

# standby NAME: a confidential standby worker reading the fifo $T/NAME.in,
# its log $T/NAME.log; fd 7 is the pool's end of its stdin.
standby() {
	rm -f "$T/$1.in"
	mkfifo "$T/$1.in"
	COFFER_STANDBY=1 COFFER_COORDINATOR_URL=$COORD_URL COFFER_TEE_BACKEND=sim \
		COFFER_MEASURED_CONFIG="${MEAS:-$T/w/worker.json}" timeout 120 coffer-worker \
		< "$T/$1.in" 2> "$T/$1.log" &
	wpid=$!
	track $wpid
	exec 7> "$T/$1.in"
}
assign() { # QJOB: the assignment on fd 7, then EOF
	printf 'COFFER_JOB=%s\nCOFFER_REDIS_URL=%s\nCOFFER_STORE=%s\n' "$1" \
		"$REDIS_URL" "$T/in" >&7
	printf 'COFFER_OUTPUTS=%s\nCOFFER_APP=%s\nCOFFER_COORDINATOR_JOB=%s\n' \
		"$T/out/$1" "$APP" "$JOB" >&7
	printf 'COFFER_MAX_ATTEMPTS=2\nCOFFER_BACKOFF_MS=50\nCOFFER_EXIT_WHEN_DONE=1\n\n' >&7
	exec 7>&-
}

# 1. Standby, then the job by a bind.
cw_start_coord "$T/w/policy.json" --listen "127.0.0.1:$port"
check "load the policy's three items" "$QCTL" load "$REDIS_URL" q1 \
	a/1.sealed a/2.sealed b/1.sealed
standby s1
check "the standby worker attests with no job and says it is ready" \
	wait_until 30 grep -q 'worker standby ready standby_ms=[0-9]* cpu_us=[0-9]* session=1' "$T/s1.log"
eq "one standby session, no release nonce, no release" "1 0 0" \
	"$(count standbys) $(count nonces) $(count releases)"
assign q1
wait $wpid
eq "given its assignment it does the job and exits 0" 0 $?
eq "every item once" "total=3 done=3 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q1)"
eq "one bind, still no release" "1 0" "$(count binds) $(count releases)"
eq "one proof per item, under the bound session" 3 "$(count proofs)"
check "its start is warm, the bind's time as attest_ms" \
	grep -qE 'worker started job=q1 .*ready_ms=[0-9]+ cpu_us=[0-9]+ warm=1 attest_ms=[0-9]+' "$T/s1.log"
check_fails "no cold release was logged" grep -q 'a cold release instead' "$T/s1.log"
res=$(ls "$T/out/q1/a/1.sealed".* | head -1)
check "an output opens with the output key" \
	coffer open --key "$T/w/out.key" "$res" "$T/a1.out"

# 2. EOF in standby: the pool shrank.
standby s2
wait_until 30 grep -q 'worker standby ready' "$T/s2.log"
exec 7>&-
wait $wpid
eq "EOF before an assignment: exit 0" 0 $?
check "saying so" grep -q 'leaving without an assignment' "$T/s2.log"
eq "and bound nothing" 1 "$(count binds)"

# 3. The coordinator restarts between standby and bind: it forgot the
# session (standby.unknown), the worker does one cold release instead.
check "load the items again" "$QCTL" load "$REDIS_URL" q3 a/1.sealed a/2.sealed b/1.sealed
standby s3
wait_until 30 grep -q 'worker standby ready .*session=1' "$T/s3.log"
cw_start_coord "$T/w/policy.json" --listen "127.0.0.1:$port"
assign q3
wait $wpid
eq "after a coordinator restart the job is done all the same" 0 $?
eq "every item once" "total=3 done=3 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q3)"
check "the bind's refusal is logged with the fallback" \
	grep -q 'the standby session was not bound: a cold release instead.*standby.unknown' "$T/s3.log"
eq "one bind refused, then one nonce and one release" "1 1 1" \
	"$(count binds) $(count nonces) $(count releases)"
check "the start is not counted warm" grep -q 'worker started job=q3 .*warm=0' "$T/s3.log"

# 4. The policy does not approve this worker's measurement: the bind is
# refused, the cold release too, and the worker ends naming the reason.
check "load the items again" "$QCTL" load "$REDIS_URL" q4 a/1.sealed
MEAS=$T/w/worker-other.json standby s4
wait_until 30 grep -q 'worker standby ready .*session=1' "$T/s4.log"
assign q4
wait $wpid
eq "an unapproved measurement ends the worker: refused for good" 3 $?
check "named at the bind" grep -q 'not bound.*measurement.unapproved' "$T/s4.log"
check "and at the end" grep -q 'refused for good: measurement.unapproved' "$T/s4.log"

# 5. The policy revoked between standby and bind (as the coordinator
# answers it): named the same way.
cw_start_coord "$T/w/policy.json" --listen "127.0.0.1:$port" \
	--refuse-bind policy.revoked --refuse-release policy.revoked
check "load the items again" "$QCTL" load "$REDIS_URL" q5 a/1.sealed
standby s5
wait_until 30 grep -q 'worker standby ready .*session=1' "$T/s5.log"
assign q5
wait $wpid
eq "a revoked policy ends the worker: refused for good" 3 $?
check "named" grep -q 'refused for good: policy.revoked' "$T/s5.log"
eq "nothing of q5 was done" "total=1 done=0 failed=0 in_flight=0 queued=1" \
	"$("$QCTL" stats "$REDIS_URL" q5)"

# 6. SIGTERM in standby: the session's runner goes with the worker.
cw_start_coord "$T/w/policy.json" --listen "127.0.0.1:$port"
standby s6
wait_until 30 grep -q 'worker standby ready .*session=1' "$T/s6.log"
runner=$(grep 'worker standby ready' "$T/s6.log" | grep -oE 'worker\[[0-9]+\]' | tr -dc 0-9)
kill -TERM $wpid
wait $wpid
eq "SIGTERM in standby: exit 0" 0 $?
exec 7>&-
check "and its runner, which held S, is gone" wait_until 5 eval "! kill -0 $runner 2>/dev/null"

# A malformed assignment: the configuration error's status, the runner
# (and its S) gone with the worker.
standby s9
wait_until 30 grep -q 'worker standby ready .*session=1' "$T/s9.log"
printf 'COFFER_JOB=q9\nnot a variable\n\n' >&7
exec 7>&-
wait $wpid
eq "a malformed assignment to a confidential standby worker: exit 2" 2 $?
check "naming the line" grep -q 'bad assignment: .*line 2' "$T/s9.log"

# A reduce key (doc/worker.md 9.9): the runner holding S serves items
# only, so the assignment is refused before the bind (the manager starts
# a confidential reduce replica cold).
nb=$(count binds)
standby s10
wait_until 30 grep -q 'worker standby ready .*session=1' "$T/s10.log"
printf 'COFFER_REDUCE_KEY=out/result
' >&7
assign q10
wait $wpid
eq "a reduce assignment to a confidential standby worker: exit 2, no bind" \
	"2 $nb" "$? $(count binds)"
check "saying why" grep -q 'serves items only' "$T/s10.log"

# 7. An assignment naming the coordinator otherwise than the standby's
# settings: no bind with other settings, a cold release.
check "load the items again" "$QCTL" load "$REDIS_URL" q7 a/1.sealed
standby s7
wait_until 30 grep -q 'worker standby ready .*session=1' "$T/s7.log"
printf 'COFFER_COORDINATOR_URL=%s\n' "${COORD_URL/127.0.0.1/localhost}" >&7
assign q7
wait $wpid
eq "done with a cold release" "0 0 1" "$? $(count binds) $(count releases)"
check "saying why" grep -q 'names another coordinator .*a cold release instead' "$T/s7.log"

# 8. A runner that dies after the bind is replaced by a cold one (its
# configuration has the job by then): a release, and the job done.
APP=$COFFER_BUILD/apps/fault.so
CW_PARAMS='{"sleep_ms": ["300"]}'
CW_COORD_PARAMS=(--param sleep_ms=300)
cw_policy "$T/w/policy-slow.json" "$WMEAS"
cw_start_coord "$T/w/policy-slow.json" --listen "127.0.0.1:$port"
check "load three slow items" "$QCTL" load "$REDIS_URL" q8 a/1.sealed a/2.sealed b/1.sealed
standby s8
wait_until 30 grep -q 'worker standby ready .*session=1' "$T/s8.log"
assign q8
wait_until 30 grep -q 'worker started job=q8 .*warm=1' "$T/s8.log"
runner=$(grep 'worker started job=q8' "$T/s8.log" | grep -oE 'worker\[[0-9]+\]' | tr -dc 0-9)
check "kill -9 the bound runner mid-job" kill -9 "$runner"
wait $wpid
eq "the worker finishes the job with a new runner" 0 $?
eq "every item done" "total=3 done=3 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q8)"
eq "one bind, then one cold release for the new runner" "1 1" \
	"$(count binds) $(count releases)"
check "whose start is cold" grep -q 'worker started job=q8 .*warm=0' "$T/s8.log"
