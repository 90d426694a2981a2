#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A plaintext standby worker (doc/worker.md 2.2): started with
# COFFER_STANDBY=1 and no job, it waits for its assignment on stdin and
# then does the job exactly as a worker started with the same settings in
# its environment would (items once, warm=1 in "worker started"); an
# executable app gets the assignment's variables that COFFER_APP_ENV names;
# EOF or a stop signal before an assignment ends it with 0; a malformed
# assignment, a bad value or a flag ends it with 2, naming what is wrong.
# Against a real redis-server.
# timeout: 120
. "$(dirname "$0")/lib.sh"
plan 23

QCTL=$COFFER_BUILD/tests/tools/queuectl
APPS=$COFFER_BUILD/apps
start_redis
mkdir -p "$T/in"
for i in 1 2 3 4; do printf 'input %d\n' "$i" > "$T/in/item-$i"; done

assignment() { # job app [NAME=VALUE...]: the lines and the empty line
	local job=$1 app=$2 kv
	shift 2
	printf 'COFFER_JOB=%s\nCOFFER_REDIS_URL=%s\nCOFFER_STORE=%s\n' \
		"$job" "$REDIS_URL" "$T/in"
	printf 'COFFER_OUTPUTS=%s\nCOFFER_APP=%s\nCOFFER_EXIT_WHEN_DONE=1\n' \
		"$T/out/$job" "$app"
	for kv in "$@"; do printf '%s\n' "$kv"; done
	printf '\n'
}

# 1. The pool's way: the worker is ready first, the assignment comes later
# through a pipe the pool keeps.
check "load four items" "$QCTL" load "$REDIS_URL" s1 item-1 item-2 item-3 item-4
mkfifo "$T/s1.in"
COFFER_STANDBY=1 timeout 60 coffer-worker < "$T/s1.in" 2> "$T/s1.log" &
wpid=$!
track $wpid
exec 7> "$T/s1.in"
check "the standby worker says it is ready, with no job" \
	wait_until 20 grep -q 'worker standby ready standby_ms=[0-9]* cpu_us=[0-9]*' "$T/s1.log"
check "and waits (no runner, no queue yet)" alive $wpid
assignment s1 "$APPS/checksum.so" COFFER_LOG_FILE="$T/s1.job.log" >&7
exec 7>&-
wait $wpid
eq "given its assignment, it does the job and exits 0" 0 $?
eq "every item once" "total=4 done=4 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" s1)"
eq "four outputs" 4 "$(find "$T/out/s1" -type f | wc -l)"
check "its start is warm, ready_ms counted from the assignment" \
	grep -q 'worker started job=s1 .*ready_ms=[0-9]* cpu_us=[0-9]* warm=1' "$T/s1.job.log"
check "its log after the assignment went to COFFER_LOG_FILE" \
	grep -q 'worker exiting .*done=4' "$T/s1.job.log"
check_fails "not to the standby's stderr" grep -q 'worker started' "$T/s1.log"

# 2. An assignment written before the worker got there is read all the
# same; an executable app gets what COFFER_APP_ENV names, from it.
cat > "$T/envapp" <<'EOF'
#!/bin/sh
cat > /dev/null
printf 'FOO=%s BAR=%s URL=%s\n' "${FOO-unset}" "${BAR-unset}" "${COFFER_REDIS_URL-unset}"
EOF
chmod +x "$T/envapp"
check "load one item" "$QCTL" load "$REDIS_URL" s2 item-1
assignment s2 "$T/envapp" COFFER_APP_ENV=FOO FOO=from-the-assignment BAR=not-listed \
	| COFFER_STANDBY=1 timeout 60 coffer-worker 2> "$T/s2.log"
eq "an assignment already waiting on stdin works" 0 $?
eq "the exec app got FOO from the assignment, nothing it does not list" \
	"FOO=from-the-assignment BAR=unset URL=unset" "$(cat "$T/out/s2/item-1")"

# 3. No assignment: the pool shrank, or stops its standby workers.
COFFER_STANDBY=1 timeout 20 coffer-worker < /dev/null 2> "$T/eof.log"
eq "EOF before an assignment: exit 0" 0 $?
check "saying why" grep -q 'leaving without an assignment cause="*stdin closed' "$T/eof.log"
printf 'COFFER_JOB=half\nCOFFER_STORE=' | COFFER_STANDBY=1 timeout 20 coffer-worker 2> "$T/half.log"
eq "EOF within an assignment: exit 0 too (nothing was assigned)" 0 $?
mkfifo "$T/term.in"
COFFER_STANDBY=1 timeout 60 coffer-worker < "$T/term.in" 2> "$T/term.log" &
wpid=$!
track $wpid
exec 7> "$T/term.in"
wait_until 20 grep -q 'worker standby ready' "$T/term.log"
kill -TERM $wpid
wait $wpid
eq "SIGTERM in standby: exit 0" 0 $?
exec 7>&-

# 4. What is refused, and how.
printf 'COFFER_JOB=x\nnot a variable\n\n' | COFFER_STANDBY=1 coffer-worker 2> "$T/bad.log"
eq "a malformed assignment: the configuration error's status" 2 $?
check "naming the line" grep -q 'bad assignment: .*line 2' "$T/bad.log"
printf 'COFFER_JOB=x\nCOFFER_JOB=y\n\n' | COFFER_STANDBY=1 coffer-worker 2> "$T/twice.log"
eq "a variable given twice: 2" 2 $?
assignment s3 "$APPS/checksum.so" COFFER_LEASE_MS=5 \
	| COFFER_STANDBY=1 coffer-worker 2> "$T/range.log"
eq "a bad value: 2" 2 $?
check "naming the variable, as for the environment" \
	grep -q 'bad configuration: .*COFFER_LEASE_MS' "$T/range.log"
COFFER_STANDBY=1 coffer-worker --job j < /dev/null 2> "$T/flag.log"
eq "flags with COFFER_STANDBY=1: 2" 2 $?
eq "no item of job s3 was taken by any of them" "" "$(rcli KEYS 'coffer:{s3}*')"
