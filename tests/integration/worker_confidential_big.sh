#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Big inputs streamed through the confidential worker (doc/worker.md 9.4,
# BI1 to BI7): items larger than the sealed chunk and the region (3 MiB,
# and the largest sealed object --max-item-bytes takes, 64 MiB), in one
# batch with a small one, come out right; a big object with one byte
# flipped in a chunk in its middle, and a big object rolled back to an
# older sealing, are refused, named and never retried, and the app never
# sees them (the fault plugin records every item it is given). Against
# tests/tools/fakecoord and a real redis-server. A runner killed with -9
# while it seals a big output into the store's temporary file leaves no
# object; the item is run again and has its one output (BO1).
# timeout: 300
. "$(dirname "$0")/lib.sh"
APP=$COFFER_BUILD/apps/fault.so
. "$(dirname "$0")/worker_confidential.bash"
plan 21

start_redis
cw_world
mkdir -p "$T/trace/a" "$T/trace/b"
CW_PARAMS="{\"trace_dir\": [\"$T/trace\"]}"
CW_COORD_PARAMS=(--param "trace_dir=$T/trace")
MAXB=$((64 << 20))   # coffer-worker's default --max-item-bytes
# The largest plaintext whose sealed object is at most MAXB bytes.
head -c "$MAXB" /dev/zero > "$T/probe"
coffer seal --key "$T/w/a.key" "$T/probe" "$T/probe.sealed" >/dev/null || bail seal
MAXPLAIN=$((2 * MAXB - $(stat -c %s "$T/probe.sealed")))
rm -f "$T/probe" "$T/probe.sealed"
head -c $((3 << 20)) /dev/urandom > "$T/plain/big3"
head -c "$MAXPLAIN" /dev/urandom > "$T/plain/max"
# An older version of big3, sealed before the one the policy pins.
head -c $((3 << 20)) /dev/urandom > "$T/plain/big3-old"
for f in big3 max big3-old; do
	coffer seal --key "$T/w/a.key" "$T/plain/$f" "$T/$f.sealed" >/dev/null || bail seal
done
cp "$T/big3.sealed" "$T/max.sealed" "$T/in/a/"
n=$(stat -c %s "$T/in/a/max.sealed")
[ "$n" -le "$MAXB" ] && [ "$n" -gt $((MAXB - 64)) ]
ok $? "the largest item's sealed object is at the limit ($n of $MAXB bytes)"
jq -n --arg d3 "sha256:$(sha "$T/big3.sealed")" --arg dm "sha256:$(sha "$T/max.sealed")" \
	'[{key: "a/big3.sealed", digest: $d3}, {key: "a/max.sealed", digest: $dm}]' \
	> "$T/more.json"
CW_MORE_OBJECTS=$T/more.json
cw_measured "$T/w/worker.json" "$COORD_MEAS"
WMEAS=$(coffer attest measure "$BIN/coffer-worker" "$T/w/worker.json")
cw_policy "$T/w/policy.json" "$WMEAS"
cw_start_coord "$T/w/policy.json"
dead() { "$QCTL" dead "$REDIS_URL" "$1" | grep -F "$2" | cut -f2-; }

# 1. One batch: small, 3 MiB, 64 MiB, small.
check "load q1" "$QCTL" load "$REDIS_URL" q1 a/1.sealed a/big3.sealed a/max.sealed b/1.sealed
COFFER_LOG_LEVEL=debug cw_worker q1 "$T/w/worker.json"
eq "the worker ends" 0 $?
# The two big outputs came in a sealed memfd, read with pread (doc/worker.md
# 9.5 HF1 to HF4), not in a frame the runner holds.
eq "the big outputs are sealed from the host's memfd" "a/big3.sealed a/max.sealed" \
	"$(grep "output sealed from the host's memfd" "$T/q1.log" |
		grep -oE 'item=a/[a-z0-9]+\.sealed' | cut -d= -f2 | sort | tr '\n' ' ' |
		sed 's/ $//')"
eq "every item is done" "total=4 done=4 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q1)"
eq "one proof per item" 4 "$(count proofs)"
same=0
declare -A PLAIN=([a/1]=a1 [b/1]=b1 [a/big3]=big3 [a/max]=max)
for k in "${!PLAIN[@]}"; do
	out=$(ls "$T/out/q1/$k.sealed".* 2>/dev/null)
	coffer open --key "$T/w/out.key" "$out" "$T/got" >/dev/null 2>&1 &&
		cmp -s "$T/got" "$T/plain/${PLAIN[$k]}" && same=$((same + 1))
	rm -f "$T/got"
done
eq "each output opens with the output key and is its input (the app copies)" 4 "$same"
eq "the app got each item once" "1 1" \
	"$(wc -l < "$T/trace/a/big3.sealed") $(wc -l < "$T/trace/a/max.sealed")"

# 2. A byte flipped in a chunk in the middle of the 3 MiB object; the
# 64 MiB object rolled back to an older sealing of another plaintext
# under the same key (authentic, but not the pinned one).
rm -f "$T"/trace/a/*
flip "$T/in/a/big3.sealed" $(((3 << 20) / 2 + 7))
cp "$T/big3-old.sealed" "$T/in/a/max.sealed"
check "load q2" "$QCTL" load "$REDIS_URL" q2 --max-attempts 3 a/big3.sealed a/max.sealed a/2.sealed
cw_worker q2 "$T/w/worker.json"
eq "the worker ends" 0 $?
eq "the two big ones are dead, the small one done" \
	"total=3 done=1 failed=2 in_flight=0 queued=0" "$("$QCTL" stats "$REDIS_URL" q2)"
d1=$(dead q2 a/big3.sealed)
d2=$(dead q2 a/max.sealed)
check "the tampered one is named: $d1" \
	grep -q "object 'a/big3.sealed' is sha256:.*not the sha256:.* the policy pins: tampered" <<< "$d1"
check "the rolled-back one is named: $d2" \
	grep -q "object 'a/max.sealed' is sha256:$(sha "$T/big3-old.sealed"), not the" <<< "$d2"
eq "neither was retried (attempts)" "1 1" "$(cut -f1 <<< "$d1") $(cut -f1 <<< "$d2")"
eq "the app saw neither (only a/2)" "2.sealed" "$(ls "$T/trace/a")"

# 3. The runner killed (-9) while it writes the 64 MiB output into the
# store's temporary file (BO1): no object appears under a key; its
# supervisor fails the item, which runs again under a new attempt id.
cp "$T/max.sealed" "$T/in/a/max.sealed"
check "load q3" "$QCTL" load "$REDIS_URL" q3 a/max.sealed
cw_worker q3 "$T/w/worker.json" &
WT=$!
# The runner: the coffer-worker below $WT whose parent is the supervisor
# (the plugin host's parent is the runner), found before the put starts.
desc() { local c; for c in $(pgrep -P "$1"); do echo "$c"; desc "$c"; done; }
comm() { cat /proc/"$1"/comm 2>/dev/null; }
ppid() { awk '{print $4}' /proc/"$1"/stat 2>/dev/null; }
runner() {
	local p q
	for p in $(desc "$WT"); do
		q=$(ppid "$p")
		[ "$(comm "$p")" = coffer-worker ] && [ "$(comm "$q")" = coffer-worker ] &&
			[ "$(comm "$(ppid "$q")")" != coffer-worker ] && echo "$p"
	done
}
RUNNER=
wait_until 30 eval 'RUNNER=$(runner); [ -n "$RUNNER" ]'
seen=
while [ -z "$seen" ] && alive "$WT"; do
	seen=$(compgen -G "$T/out/q3/a/max.sealed.*.tmp-*" | head -1)
done
[ -n "$seen" ] && [ -n "$RUNNER" ] && kill -9 "$RUNNER"
ok $? "the runner is killed while the output's temporary file is written"
wait "$WT"
eq "the worker ends, the item done" "0 total=1 done=1 failed=0 in_flight=0 queued=0" \
	"$? $("$QCTL" stats "$REDIS_URL" q3)"
objs=$(ls "$T/out/q3/a" | grep -cv '\.tmp-')
first=${seen##*/max.sealed.}
first=${first%%.tmp-*}
eq "one object for the item: the second attempt's" "1 0" \
	"$objs $(ls "$T/out/q3/a" | grep -v '\.tmp-' | grep -c "$first")"
out=$(ls "$T/out/q3/a/"max.sealed.* | grep -v '\.tmp-')
coffer open --key "$T/w/out.key" "$out" "$T/got" >/dev/null 2>&1 && cmp -s "$T/got" "$T/plain/max"
ok $? "it opens, and is the input"
eq "the killed put left only a temporary file, never an object" "$seen" \
	"$(compgen -G "$T/out/q3/a/max.sealed.*.tmp-*" | head -1)"
