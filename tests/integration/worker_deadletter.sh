#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# An app that fails on some items: those reach the dead-letter list after
# max_attempts, with their error, and the others complete. Both app kinds;
# run through `coffer run` against a shared Redis so the job's keys can be
# inspected afterwards. A flaky item that succeeds on a retry is done.
# timeout: 180
. "$(dirname "$0")/lib.sh"
plan 16

QCTL=$COFFER_BUILD/tests/tools/queuectl
APPS=$COFFER_BUILD/apps
start_redis
export TMPDIR=$T # coffer run keeps its worker log of a failed job here
mkdir -p "$T/in"
for i in $(seq 1 25); do printf 'good %d\n' "$i" > "$T/in/ok-$i"; done
for i in 1 2 3 4 5; do printf 'bad %d\n' "$i" > "$T/in/bad-$i"; done
printf 'flaky\n' > "$T/in/flaky-1"

# --- plugin -------------------------------------------------------------
coffer run --app "$APPS/fault.so" --inputs "$T/in" --outputs "$T/out" \
	--param 'fail=bad-*' --param 'flaky=flaky-*' --param flaky_times=1 \
	--max-attempts 3 --backoff-ms 50 --replicas 3 \
	--redis "$REDIS_URL" --job dl --keep-job > "$T/run.out" 2> "$T/run.err"
eq "coffer run exits 1 when items failed" 1 $?
grep -q '26 done, 5 failed' "$T/run.out"; ok $? "the summary counts 26 done and 5 failed"
grep -q 'bad-3 (attempts 3): injected failure for bad-3' "$T/run.err"
ok $? "the dead letters are printed with their attempts and error"
eq "Redis agrees" "total=31 done=26 failed=5 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" dl)"
"$QCTL" dead "$REDIS_URL" dl | sort > "$T/dead"
eq "five dead letters" 5 "$(wc -l < "$T/dead")"
bad_lines=$(awk -F'\t' '$1 ~ /^bad-[1-5]$/ && $2 == 3 && $3 == "injected failure for " $1' "$T/dead" | wc -l)
eq "each after 3 attempts, with its own error" 5 "$bad_lines"
eq "the flaky item succeeded on its second attempt" 2 "$(rcli HGET 'coffer:{dl}:attempts' flaky-1)"
eq "the good items were tried once" 1 "$(rcli HGET 'coffer:{dl}:attempts' ok-17)"
ok_all=0
for f in "$T"/in/ok-* "$T"/in/flaky-1; do cmp -s "$f" "$T/out/$(basename "$f")" || ok_all=1; done
ok $ok_all "the other items completed with their outputs"
ls "$T"/out/bad-* > /dev/null 2>&1
[ $? -ne 0 ]; ok $? "no output for a dead item"

# --- executable -----------------------------------------------------------
coffer run --app "$APPS/fault" --inputs "$T/in" --outputs "$T/out2" \
	--param 'fail=bad-[12]' --param stderr_lines=3 --max-attempts 2 \
	--backoff-ms 50 --replicas 2 --redis "$REDIS_URL" --job dlx --keep-job \
	> "$T/run2.out" 2> "$T/run2.err"
eq "coffer run exits 1 for the executable app too" 1 $?
eq "Redis counts" "total=31 done=29 failed=2 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" dlx)"
err=$("$QCTL" dead "$REDIS_URL" dlx | awk -F'\t' '$1 == "bad-2" { print $2 "|" $3 }')
case $err in
"2|app exited with status 3; stderr: fault: diagnostic line 1 for bad-2 |"*"| fault: injected failure for bad-2") ok 0 "the error has the exit status and the tail of stderr" ;;
*) ok 1 "the error has the exit status and the tail of stderr"; diag "got: $err" ;;
esac
cmp -s "$T/in/bad-3" "$T/out2/bad-3"; ok $? "items not matching the failure pattern completed"

# --- a retry that is due is taken again, not lost -------------------------
eq "no retry left pending in the first job" 0 "$(rcli ZCARD 'coffer:{dl}:delayed')"
eq "no lease left behind" "" "$(rcli --scan --pattern 'coffer:{dl}:lease:*')"
