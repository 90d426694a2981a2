#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer run` refuses bad setups with a clear message and the documented
# exit code (doc/cli.md), before starting anything; and a worker killed
# while the job runs is replaced by the local actuator.
# timeout: 180
. "$(dirname "$0")/lib.sh"
plan 16

APPS=$COFFER_BUILD/apps
export TMPDIR=$T
mkdir -p "$T/in" "$T/empty" "$T/badnames"
for i in $(seq 1 5); do echo "x$i" > "$T/in/f$i"; done
echo x > "$T/badnames/good"
echo x > "$T/badnames/with space"
echo x > "$T/badnames/café"

expect() { # description exit-code substring cmd...
	local desc=$1 code=$2 sub=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$code" ] && [[ $out == *"$sub"* ]]; then ok 0 "$desc"; else
		ok 1 "$desc"; diag "exit $rc, output: $out"; fi
}

expect "missing options: usage" 2 "usage: coffer run" coffer run --app x
expect "a missing inputs directory" 6 "--inputs $T/nope" \
	coffer run --app "$APPS/checksum.so" --inputs "$T/nope" --outputs "$T/o1"
expect "inputs and outputs the same" 2 "outputs would overwrite inputs" \
	coffer run --app "$APPS/checksum.so" --inputs "$T/in" --outputs "$T/in"
expect "an empty inputs directory" 6 "no input files" \
	coffer run --app "$APPS/checksum.so" --inputs "$T/empty" --outputs "$T/o2"
expect "input names that cannot be item ids" 5 "input name 'with space' cannot be an item id" \
	coffer run --app "$APPS/checksum.so" --inputs "$T/badnames" --outputs "$T/o3"
expect "a missing app" 6 "--app $T/none.so" \
	coffer run --app "$T/none.so" --inputs "$T/in" --outputs "$T/o4"
expect "a bad parameter for the app is refused before anything runs" 2 "--param colour: unknown parameter" \
	coffer run --app "$APPS/checksum.so" --param colour=red --inputs "$T/in" --outputs "$T/o5"
expect "an unreachable Redis" 8 "connection failed" \
	coffer run --app "$APPS/checksum.so" --inputs "$T/in" --outputs "$T/o6" \
	--redis redis://127.0.0.1:1
expect "a malformed Redis URL" 5 "redis URL" \
	coffer run --app "$APPS/checksum.so" --inputs "$T/in" --outputs "$T/o7" --redis http://x
# No redis-server on PATH, and no --redis: say what to install.
mkdir -p "$T/bin"
ln -s "$(command -v env)" "$T/bin/env"
expect "no redis-server installed" 6 "redis-server is not installed" \
	env PATH="$T/bin" "$BIN/coffer" run --app "$APPS/checksum.so" --inputs "$T/in" --outputs "$T/o8"
start_redis
coffer run --app "$APPS/checksum.so" --inputs "$T/in" --outputs "$T/o9" --redis "$REDIS_URL" \
	--job twice --keep-job --quiet > /dev/null 2>&1
expect "a job id already in Redis" 6 "job 'twice' already exists" \
	coffer run --app "$APPS/checksum.so" --inputs "$T/in" --outputs "$T/o9" --redis "$REDIS_URL" \
	--job twice --force
eq "without --keep-job a finished job's keys are deleted" "0" \
	"$(coffer run --app "$APPS/checksum.so" --inputs "$T/in" --outputs "$T/o10" \
	--redis "$REDIS_URL" --job gone --quiet > /dev/null 2>&1; rcli --scan --pattern 'coffer:{gone}:*' | wc -l)"

# A worker killed during the job is replaced, and the job completes.
mkdir -p "$T/many"
for i in $(seq 1 120); do echo "item $i" > "$T/many/m$i"; done
coffer run --app "$APPS/fault.so" --param sleep_ms=40 --inputs "$T/many" --outputs "$T/om" \
	--replicas 3 --lease-ms 1000 --quiet > "$T/crash.out" 2> "$T/crash.err" &
run_pid=$!
track $run_pid
workers() { pgrep -P $run_pid -x coffer-worker | sort; }
three() { [ "$(workers | wc -l)" -eq 3 ]; }
wait_until 30 three
before=$(workers)
victim=$(echo "$before" | head -1)
kill -9 "$victim"
replaced() { three && ! workers | grep -qx "$victim"; }
wait_until 30 replaced; ok $? "the killed worker ($victim) was replaced"
wait $run_pid
eq "the job still completes: exit 0" 0 $?
check "every output is its own input" diff -r "$T/many" "$T/om"
eq "no worker left running" "" "$(pgrep -P $run_pid)"
