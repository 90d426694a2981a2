#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# coffer run and what is already there (issue 15): outputs and the reduce
# file are never replaced without --force; --resume skips the items whose
# output exists; --reduce with a bad name or an app without a reduce stage,
# and parameters the app does not declare, are refused before anything
# runs; --json prints one object; a run that fails before any worker ran
# names no worker log and leaves no directory behind.
# timeout: 120
. "$(dirname "$0")/lib.sh"
plan 16

APPS=$COFFER_BUILD/apps
mkdir -p "$T/in" "$T/tmp"
export TMPDIR=$T/tmp
for i in 1 2 3 4 5 6; do echo "line $i" > "$T/in/f$i"; done
run() { coffer run --app "$APPS/checksum.so" --inputs "$T/in" --replicas 2 --quiet "$@"; }

run --outputs "$T/out" --reduce all.txt > "$T/1.out" 2>&1
ok $? "a first run writes six outputs and the reduce file"
echo "mine" > "$T/out/f3"
run --outputs "$T/out" > "$T/2.out" 2>&1
eq "a second run without --force is refused (exit 6)" 6 $?
grep -q "6 output(s) exist already in $T/out (f1, f2, f3, ...): --force replaces them, --resume skips their items" "$T/2.out"
ok $? "saying what exists and what to do"
eq "and nothing was replaced" mine "$(cat "$T/out/f3")"
rm "$T/out/f2" "$T/out/f5"
run --outputs "$T/out" --resume > "$T/3.out" 2>&1
ok $? "--resume runs"
grep -q "^job run-[0-9a-f]*: 2 items: 2 done" "$T/3.out"; ok $? "only the two items without an output"
eq "and keeps the others as they were" mine "$(cat "$T/out/f3")"
run --outputs "$T/out" --force --reduce all.txt > "$T/4.out" 2>&1
ok $? "--force replaces outputs and the reduce file"
[ "$(cat "$T/out/f3")" != mine ]; ok $? "f3 is the app's output again"
run --outputs "$T/out2" --reduce all.txt > /dev/null 2>&1
run --outputs "$T/out2" --resume --reduce all.txt > "$T/5.out" 2>&1
eq "the reduce file is not replaced without --force either (exit 6)" 6 $?

# Refused before anything runs: no worker starts (no log, no run dir).
run --outputs "$T/o6" --reduce ../x > "$T/6.out" 2>&1
eq "--reduce ../x is refused at once (exit 2)" 2 $?
coffer run --app "$APPS/checksum" --inputs "$T/in" --outputs "$T/o7" --reduce r.txt --quiet > "$T/7.out" 2>&1
eq "--reduce with an app that has no reduce stage is refused at once (exit 2)" 2 $?
grep -q "the app has no reduce stage" "$T/7.out"; ok $? "saying so"
diag "$(head -n 1 "$T/7.out")"

run --outputs "$T/o8" --json > "$T/8.out" 2>/dev/null
eq "--json prints one object" "6 6 0" "$(jq -r '"\(.items) \(.done) \(.failed)"' "$T/8.out")"

run --outputs "$T/o9" --redis redis://127.0.0.1:1 > "$T/9.out" 2>&1
grep -q "worker log" "$T/9.out"; [ $? -ne 0 ]; ok $? "a run that fails before any worker names no worker log"
eq "and leaves no directory behind" "" "$(ls "$T/tmp")"
