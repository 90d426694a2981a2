#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Confidential standby workers (doc/worker.md 9.9) against the real
# coffer-coordinator, manager, store and redis-server: workers started
# before the job exists attest and make standby sessions; a job submitted
# with no replicas of its own is then run by one of them, given its
# assignment as the pool gives it: a bind, no release, every item once,
# the job completed and each owner's `coffer receipt verify` accepts the
# receipt. A worker whose measurement the policy does not list, and one
# whose job's policy lost an approval between standby and bind, end with
# the reason named (exit 3); a coordinator restart between standby and
# bind makes the worker fall back to one cold release, and the job
# completes; EOF in standby exits 0.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 21

start_redis
e2e_coordinator
e2e_manager
e2e_owners 2
e2e_policy checksum
# Another measured configuration (any byte of it) is another measurement.
jq -c . "$T/worker.json" >"$T/worker-other.json"

# standby NAME [MEASURED]: a standby worker reading the fifo $T/NAME.in
# (fd 7 of this shell is the pool's end), its log $T/NAME.log; PID in SB_NAME.
standby() {
	local fd
	rm -f "$T/$1.in"
	mkfifo "$T/$1.in"
	COFFER_STANDBY=1 COFFER_COORDINATOR_URL=$COORD_URL COFFER_TEE_BACKEND=sim \
		COFFER_MEASURED_CONFIG="${2:-$T/worker.json}" timeout 200 coffer-worker \
		<"$T/$1.in" 2>"$T/$1.log" &
	printf -v "SB_$1" %s $!
	track $!
	exec {fd}>"$T/$1.in"
	printf -v "FD_$1" %s "$fd"
}
ready() { wait_until 30 grep -q "worker standby ready .*session=1" "$T/$1.log"; }
# assign NAME: the assignment of job $JOB / $CJOB, as the pool writes it, then EOF.
assign() {
	local fd=FD_$1
	{
		printf 'COFFER_JOB=%s\nCOFFER_REDIS_URL=%s\nCOFFER_STORE=%s\n' "$JOB" \
			"$REDIS_URL" "$T/store"
		printf 'COFFER_OUTPUT_PREFIX=out/\nCOFFER_APP=%s\n' "$COFFER_BUILD/apps/checksum.so"
		printf 'COFFER_COORDINATOR_JOB=%s\nCOFFER_EXIT_WHEN_DONE=1\n\n' "$CJOB"
	} >&"${!fd}"
	eval "exec ${!fd}>&-"
}
ended() { local p=SB_$1; wait "${!p}"; }
binds() { grep -c "keys released.*standby=" "$COORD_LOG"; }
releases() { grep "keys released" "$COORD_LOG" | grep -vc "standby="; }

# 1. Two standby workers before the job exists: one approved, one not.
standby s1
standby s2 "$T/worker-other.json"
check "a standby worker attests before its job exists" ready s1
check "so does one the policy will not approve (no policy yet)" ready s2
e2e_submit '.replicas = {min: 0, max: 1, initial: 0}'
check "a job with no replicas of its own: the queue is loaded" \
	wait_until 30 "$QCTL" stats "$REDIS_URL" "$JOB"
assign s2
ended s2
eq "the unapproved worker ends, refused for good" 3 $?
check "named at the bind, then by the cold release" \
	grep -q 'not bound.*measurement.unapproved' "$T/s2.log"
check "coffer-worker names it" \
	grep -q 'refused for good: measurement.unapproved' "$T/s2.log"
assign s1
ended s1
eq "the approved one runs the job from its bind and exits 0" 0 $?
eq "every item once" "total=6 done=6 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" "$JOB")"
eq "the job completes" completed "$(e2e_finish 60)"
eq "one bind and no cold release for it" "1 0" "$(binds) $(releases)"
check "its start is warm" grep -q "worker started job=$JOB .*warm=1" "$T/s1.log"
e2e_verify a
eq "owner a's coffer receipt verify accepts the receipt" 0 "$VRC"
eq "and counts the six items OK" 6 "$(e2e_stage a map ok)"

# 2. The coordinator restarts between standby and bind.
standby s3
ready s3
e2e_submit '.replicas = {min: 0, max: 1, initial: 0}'
wait_until 30 "$QCTL" stats "$REDIS_URL" "$JOB"
stop_coordinator
start_coordinator_again || bail "the coordinator did not restart"
assign s3
ended s3
eq "after a coordinator restart the standby worker does the job all the same" 0 $?
check "the forgotten session is logged with its fallback" \
	grep -q 'not bound: a cold release instead.*standby.unknown' "$T/s3.log"
eq "the job completes" completed "$(e2e_finish 60)"
e2e_verify b
eq "owner b's coffer receipt verify accepts the receipt" 0 "$VRC"

# 3. An owner revokes its approval between standby and bind.
standby s4
ready s4
e2e_submit '.replicas = {min: 0, max: 1, initial: 0}'
wait_until 30 "$QCTL" stats "$REDIS_URL" "$JOB"
check "owner c revokes its approval" coffer policy revoke "$H" --id "$T/c.id"
assign s4
ended s4
eq "the standby worker ends, refused for good" 3 $?
check "naming the revocation" grep -q 'refused for good: policy.revoked' "$T/s4.log"

# 4. EOF in standby.
standby s5
ready s5
eval "exec $FD_s5>&-"
ended s5
eq "EOF before an assignment: exit 0" 0 $?
