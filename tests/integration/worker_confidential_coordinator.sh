#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The worker of a confidential job against the real coffer-coordinator
# (doc/worker.md 9.3, doc/protocol/key-release.md): owners pin the
# coordinator, approve a policy and upload their keys with the CLI; the
# worker authenticates the coordinator, gets the job's keys by attested
# release and fetches the policy. Then a tampered input and an input
# replaced by an older sealed version are dead-lettered, named, never
# retried, and proved refused (FAILED, input.mismatch); a worker whose measurement the policy does not approve gets no
# key; a worker pointed at a coordinator with another measurement refuses
# it. Then the approved worker processes the last item and proves it at
# the coordinator (POST /v1/jobs/{job}/proofs); the job is closed, and the
# owners' receipts say OK for that item and FAILED, input refused, for the
# refused ones;
# the recipient opens the output.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"
plan 24

QCTL=$COFFER_BUILD/tests/tools/queuectl
APP=$COFFER_BUILD/apps/checksum.so
start_redis
coord_setup
SIM_FP=$COORD_SIM_FP
measured() { # FILE COORDINATOR_MEASUREMENT
	jq -n --arg m "$2" --arg fp "$SIM_FP" '{type: "coffer-worker-config",
		version: 1, coordinator: {tee: "sim", measurement: $m,
		verification: {version: 1, sim_platform_keys: [$fp]}}}' > "$1"
}
measured "$T/worker.json" "$COORD_MEASUREMENT"
# What the owners approve: this worker with this measured configuration,
# and this app file.
WORKER_MEAS=$(coffer attest measure "$BIN/coffer-worker" "$T/worker.json")
cp "$APP" "$T/app.so"
policy_draft '.apps[0].reduce = false | .apps[0].params = {format: ["upper"]}' \
	> "$T/draft.json"
H=$(new_policy "$T/draft.json")
[ -n "$H" ] || bail "no policy"
approve "$H" a b c || bail "approving"
upload "$H" a b c || bail "uploading keys"
J=$(curl -s -X POST "$COORD_URL/v1/jobs" -d "{\"type\":\"coffer-job\",\"version\":1,
	\"policy\":\"$H\",\"app\":\"stats\",\"params\":{\"format\":\"upper\"}}" | jq -r '.job // .error.code')
grep -qE '^[0-9a-f]{32}$' <<< "$J" || bail "no job: $J"

# The inputs as the cloud holds them: a's tampered, b's rolled back to an
# older version sealed under the same key.
mkdir -p "$T/in"
cp "$T/a.sealed" "$T/in/a.sealed"
flip "$T/in/a.sealed" 110
printf 'id,value\n1,b (older)\n' > "$T/b-old.csv"
coffer seal --key "$T/b.key" "$T/b-old.csv" "$T/in/b.sealed" > /dev/null || bail seal

worker() { # QJOB MEASURED
	timeout 120 coffer-worker --job "$1" --redis "$REDIS_URL" --store "$T/in" \
		--outputs "$T/out" --app "$T/app.so" --coordinator "$COORD_URL" \
		--coordinator-job "$J" --tee-backend sim --measured-config "$2" \
		--max-attempts 3 --exit-when-done 2> "$T/$1.log"
}
releases() { curl -s "$COORD_URL/metrics" | awk '/^coffer_coordinator_releases_total/ {s += $2} END {print s + 0}'; }

check "load the two items" "$QCTL" load "$REDIS_URL" q1 a.sealed b.sealed
worker q1 "$T/worker.json"
eq "the worker ends" 0 $?
check "it got its keys from the coordinator and started" grep -q 'worker started' "$T/q1.log"
dead=$("$QCTL" dead "$REDIS_URL" q1)
check "the tampered input is dead, named" \
	grep -qP "^a\.sealed\t1\topening input: object 'a\.sealed' is sha256:[0-9a-f]{64}, not the sha256:[0-9a-f]{64} the policy pins: tampered" <<< "$dead"
check "the older version is dead, named, with its own digest" \
	grep -qP "^b\.sealed\t1\topening input: object 'b\.sealed' is sha256:$(sha256sum < "$T/in/b.sealed" | cut -c1-64), not" <<< "$dead"
eq "nothing stored" 0 "$(find "$T/out" -type f 2>/dev/null | wc -l)"

# A worker the policy does not approve: any other measured configuration
# is another measurement.
jq -c . "$T/worker.json" > "$T/worker-other.json"
check "load q2" "$QCTL" load "$REDIS_URL" q2 c.sealed
before=$(releases)
eq "the first worker's was the one release granted" 1 "$before"
worker q2 "$T/worker-other.json"
eq "the unapproved worker exits 3 (refused for good)" 3 $?
check "refused by name by the coordinator" \
	grep -q 'coffer-worker: coordinator: refused for good: measurement.unapproved' "$T/q2.log"
eq "no release was granted" "$before" "$(releases)"

# A worker whose measured configuration pins another coordinator build.
measured "$T/worker-b.json" "$(printf '%096d' 7)"
worker q2 "$T/worker-b.json"
eq "the worker refuses the coordinator (exit 3)" 3 $?
check "naming the measurement it found" \
	grep -q "CA5: the coordinator's measurement is $COORD_MEASUREMENT, not the 0*7 the measured configuration pins" "$T/q2.log"
eq "the item was never taken" "total=1 done=0 failed=0 in_flight=0 queued=1" \
	"$("$QCTL" stats "$REDIS_URL" q2)"

# The approved worker takes the item left in q2 (c's, intact) and proves
# it at the coordinator before its ack.
cp "$T/c.sealed" "$T/in/c.sealed"
worker q2 "$T/worker.json"
eq "the approved worker ends" 0 $?
eq "the item is done" "total=1 done=1 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q2)"
eq "the coordinator committed its proof and the two refusals" 3 "$(curl -s "$COORD_URL/metrics" |
	awk '/^coffer_coordinator_item_proofs_total\{outcome="committed"\}/ {print $2 + 0}')"
out=$(coffer receipt close "$J" --json 2>/dev/null)
eq "the job closed itself at the last proof (every item has a result), failed: two FAILED are beyond the tolerance" \
	"false failed tolerance.failed" "$(jq -r '"\(.closed_now) \(.outcome) \(.reason)"' <<<"$out")"
vfy() { # OWNER
	coffer receipt fetch "$J" --id "$T/$1.id" --out "$T/$1.bundle" >/dev/null 2>&1 &&
	coffer receipt verify "$T/$1.bundle" --id "$T/$1.id" --json \
		--trust-sim-key "$COORD_SIM_KEY" >"$T/$1.v" 2>/dev/null
}
vfy c
eq "c's receipt is authentic, incomplete for the job (exit 12)" 12 $?
eq "c's item is OK" "c.sealed OK" "$(jq -r '.items[] | .key + " " + .map.status' "$T/c.v")"
vfy a
eq "a's receipt: incomplete (exit 12)" 12 $?
eq "a's tampered item is FAILED, its input refused" "a.sealed FAILED input.mismatch" \
	"$(jq -r '.items[] | .key + " " + .map.status + " " + .map.reason' "$T/a.v")"
coffer results fetch "$J" --id "$T/an.id" --store "$T/out" --out "$T/res" >"$T/res.log" 2>&1
eq "the recipient fetches the output the worker stored" 0 $?
check "and opens it" coffer results open "$T/res"
