#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Big items streamed through the confidential worker (doc/worker.md 9.4,
# BI1 to BI7, BO1) against the real coffer-coordinator: owner a's item is
# 3 MiB, b's the largest sealed object --max-item-bytes takes (64 MiB), c's
# a few bytes. The worker processes all three (the fault plugin copies
# each); the job closes, each owner's receipt verifies with its item OK,
# and the recipient fetches and opens the outputs: each is its input.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"
plan 10

QCTL=$COFFER_BUILD/tests/tools/queuectl
start_redis
coord_setup
MAXB=$((64 << 20))
# The largest plaintext whose sealed object is at most MAXB bytes.
head -c "$MAXB" /dev/zero > "$T/probe"
coffer seal --key "$T/b.key" "$T/probe" "$T/probe.sealed" >/dev/null || bail seal
rm -f "$T/probe"
head -c $((3 << 20)) /dev/urandom > "$T/a.csv"
head -c $((2 * MAXB - $(stat -c %s "$T/probe.sealed"))) /dev/urandom > "$T/b.csv"
rm -f "$T/probe.sealed"
for o in a b; do
	coffer seal --force --key "$T/$o.key" "$T/$o.csv" "$T/$o.sealed" >/dev/null || bail seal
done
n=$(stat -c %s "$T/b.sealed")
[ "$n" -le "$MAXB" ] && [ "$n" -gt $((MAXB - 64)) ]
ok $? "b's sealed object is at the limit ($n of $MAXB bytes)"
measured() { # FILE COORDINATOR_MEASUREMENT
	jq -n --arg m "$2" --arg fp "$COORD_SIM_FP" '{type: "coffer-worker-config",
		version: 1, coordinator: {tee: "sim", measurement: $m,
		verification: {version: 1, sim_platform_keys: [$fp]}}}' > "$1"
}
measured "$T/worker.json" "$COORD_MEASUREMENT"
WORKER_MEAS=$(coffer attest measure "$BIN/coffer-worker" "$T/worker.json")
cp "$COFFER_BUILD/apps/fault.so" "$T/app.so"
policy_draft '.apps[0].reduce = false | .apps[0].params = {}' > "$T/draft.json"
H=$(new_policy "$T/draft.json")
[ -n "$H" ] || bail "no policy"
approve "$H" a b c || bail "approving"
upload "$H" a b c || bail "uploading keys"
J=$(curl -s -X POST "$COORD_URL/v1/jobs" -d "{\"type\":\"coffer-job\",\"version\":1,
	\"policy\":\"$H\",\"app\":\"stats\",\"params\":{}}" | jq -r '.job // .error.code')
grep -qE '^[0-9a-f]{32}$' <<< "$J" || bail "no job: $J"
mkdir -p "$T/in"
cp "$T/a.sealed" "$T/b.sealed" "$T/c.sealed" "$T/in/"

check "load the three items" "$QCTL" load "$REDIS_URL" q1 a.sealed b.sealed c.sealed
timeout 200 coffer-worker --job q1 --redis "$REDIS_URL" --store "$T/in" \
	--outputs "$T/out" --app "$T/app.so" --coordinator "$COORD_URL" \
	--coordinator-job "$J" --tee-backend sim --measured-config "$T/worker.json" \
	--max-attempts 2 --exit-when-done 2> "$T/q1.log"
eq "the worker ends" 0 $?
eq "every item is done" "total=3 done=3 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q1)"
out=$(coffer receipt close "$J" --json 2>/dev/null)
eq "the job closed at the last proof, completed" "false completed" \
	"$(jq -r '"\(.closed_now) \(.outcome)"' <<<"$out")"
vfy() { # OWNER
	coffer receipt fetch "$J" --id "$T/$1.id" --out "$T/$1.bundle" >/dev/null 2>&1 &&
	coffer receipt verify "$T/$1.bundle" --id "$T/$1.id" --json \
		--trust-sim-key "$COORD_SIM_KEY" >"$T/$1.v" 2>/dev/null
}
vfy a
eq "a's receipt verifies (exit 0)" 0 $?
vfy b
eq "b's receipt verifies, its 64 MiB item OK" "0 b.sealed OK" \
	"$? $(jq -r '.items[] | .key + " " + .map.status' "$T/b.v")"
coffer results fetch "$J" --id "$T/an.id" --store "$T/out" --out "$T/res" >"$T/res.log" 2>&1
eq "the recipient fetches the three outputs" "0 3" "$? $(grep -c '^  OK' "$T/res.log")"
coffer results open "$T/res" > "$T/open.log" 2>&1
ok $? "and opens them"
same=0
for o in a b c; do
	# "opened DIR/<item's output>.sealed -> DIR/<item's output>"
	f=$(grep -oE -- "-> .*/$o\.[^ ]*\$" "$T/open.log" | cut -c4-)
	[ -n "$f" ] && cmp -s "$f" "$T/$o.csv" && same=$((same + 1))
done
eq "each output is its input (the app copies)" 3 "$same"
