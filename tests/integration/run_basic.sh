#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer run` end to end: 1,000 items with 4 workers give exactly 1,000
# outputs, each derived from its own input (the checksum app writes what
# cksum(1) says about it); the same with an executable app; the reduce
# stage; progress lines when stderr is not a terminal; nothing left behind.
# timeout: 300
. "$(dirname "$0")/lib.sh"
plan 16

APPS=$COFFER_BUILD/apps
export TMPDIR=$T # where coffer run starts its private Redis
N=1000
mkdir -p "$T/in"
# Distinct contents and sizes, so a swapped output would show: up to 3000
# random bytes, then the item's number. One process writes them all (a
# head and a printf per file were 2000 process starts, most of the
# file's time on a loaded machine).
/usr/bin/python3 -c '
import os, random, sys
for i in range(1, int(sys.argv[2]) + 1):
    with open("%s/input-%04d.bin" % (sys.argv[1], i), "wb") as f:
        f.write(os.urandom(random.randrange(3000)) + b"%04d\n" % i)
' "$T/in" $N || bail "cannot write the inputs"
(cd "$T/in" && cksum -- *) | sort > "$T/expected"

coffer run --app "$APPS/checksum.so" --inputs "$T/in" --outputs "$T/out" \
	--replicas 4 > "$T/run.out" 2> "$T/run.err"
eq "coffer run exits 0" 0 $?
eq "exactly $N outputs" "$N" "$(find "$T/out" -type f | wc -l)"
ok_all=0
for f in "$T"/in/*; do [ -f "$T/out/${f##*/}" ] || ok_all=1; done
ok $ok_all "one output per input, named after it"
cat "$T"/out/* | sort > "$T/got"
check "each output is the cksum line of its own input" cmp "$T/expected" "$T/got"
grep -q "$N items: $N done, 0 failed" "$T/run.out"; ok $? "the summary says all done"
grep -Eq '^progress: [0-9]+/1000 done, 0 failed, [0-9.]+ items/s, ETA .+, [0-9]+ workers$' "$T/run.err"
ok $? "plain progress lines on a non-terminal"
grep -q "^progress: 1000/1000 done" "$T/run.err"; ok $? "the last progress line says 1000/1000"
eq "no temporary file left in the outputs" "" "$(find "$T/out" -name '*.tmp-*')"
eq "no private Redis left running" "" "$(ls -d "$T"/coffer-redis.* 2>/dev/null)"

# The executable form of the same app gives the same outputs.
mkdir -p "$T/in2"
cp "$T"/in/input-00[0-4]* "$T/in2/"
coffer run --app "$APPS/checksum" --inputs "$T/in2" --outputs "$T/out2" \
	--replicas 3 --quiet > "$T/run2.out" 2> "$T/run2.err"
eq "an executable app: exit 0" 0 $?
(cd "$T/in2" && cksum -- *) | sort > "$T/expected2"
cat "$T"/out2/* | sort > "$T/got2"
check "the executable gives the same outputs" cmp "$T/expected2" "$T/got2"
eq "--quiet prints no progress" "" "$(grep progress "$T/run2.err")"

# Parameters reach the app; the reduce stage runs over the outputs.
coffer run --app "$APPS/checksum.so" --inputs "$T/in2" --outputs "$T/out3" \
	--replicas 2 --quiet --reduce ALL > /dev/null 2> "$T/run3.err"
eq "with --reduce: exit 0" 0 $?
(cd "$T/out3" && cat $(ls | grep -v '^ALL$')) > "$T/concat"
check "the reduce output is the map outputs in item order" cmp "$T/concat" "$T/out3/ALL"
coffer run --app "$APPS/checksum.so" --inputs "$T/in2" --outputs "$T/out4" \
	--param format=upper --replicas 2 --quiet > /dev/null 2>&1
f=$(ls "$T/in2" | head -1)
cmp -s <(tr 'a-z' 'A-Z' < "$T/in2/$f") "$T/out4/$f"; ok $? "--param reaches the app"

# On a terminal: a progress bar redrawn in place.
if script -qec "true" /dev/null > /dev/null 2>&1; then
	script -qec "coffer run --app '$APPS/checksum.so' --inputs '$T/in2' --outputs '$T/out5' --replicas 2" \
		/dev/null > "$T/tty.out" 2>&1
	grep -q $'\r\[#*\.*\] [0-9]*/49 .*items/s  ETA .* workers' "$T/tty.out"
	ok $? "a progress bar with done/total, rate and ETA on a terminal"
else
	ok 1 "script(1) is needed to test the terminal progress bar"
fi
