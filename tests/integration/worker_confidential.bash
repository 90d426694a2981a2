# SPDX-License-Identifier: Apache-2.0
# Shared set-up of the worker_confidential_*.sh tests (source it after
# lib.sh): three parties and a coordinator identity made with `coffer id`,
# two owners' data sealed with `coffer seal`, a policy naming the worker's
# sim measurement (its executable and its measured configuration), and a
# coordinator to start. INSECURE SIMULATION throughout (one sim platform
# key for the coordinator and the workers).
#
# The coordinator is tests/tools/fakecoord (src/proto's encoders behind an
# HTTP server) while coffer-coordinator does not serve item proofs; the
# worker cannot tell the difference, which is the point of the protocol.

FAKECOORD=$COFFER_BUILD/tests/tools/fakecoord
QCTL=$COFFER_BUILD/tests/tools/queuectl
APP=${APP:-$COFFER_BUILD/apps/checksum.so}
export COFFER_SIM_DIR=$T/sim
mkdir -m 700 "$COFFER_SIM_DIR"

sha() { sha256sum "$1" | cut -d' ' -f1; }

# The world, in $T/w: identities, keys, sealed inputs $T/in/<key>.
cw_world() {
	local f
	mkdir -p "$T/w" "$T/in/a" "$T/in/b" "$T/plain"
	for f in coord hosp-a hosp-b analyst; do
		coffer id new --name "$f" "$T/w/$f.id" > "$T/w/$f.line" || bail "coffer id new"
	done
	coffer key new "$T/w/a.key" > "$T/w/a.keyid" || bail "coffer key new"
	coffer key new "$T/w/b.key" > "$T/w/b.keyid" || bail "coffer key new"
	printf 'id,radius\n1,12.5\n2,13.1\n' > "$T/plain/a1"
	printf 'id,radius\n3,11.0\n' > "$T/plain/a2"
	printf 'id,radius\n4,14.2\n5,9.9\n' > "$T/plain/b1"
	coffer seal --key "$T/w/a.key" "$T/plain/a1" "$T/in/a/1.sealed" >/dev/null &&
	coffer seal --key "$T/w/a.key" "$T/plain/a2" "$T/in/a/2.sealed" >/dev/null &&
	coffer seal --key "$T/w/b.key" "$T/plain/b1" "$T/in/b/1.sealed" >/dev/null ||
		bail "coffer seal"
	# The coordinator's "code" and its measurement; the sim key's fingerprint.
	echo "coordinator build 1" > "$T/w/coordinator.bin"
	COORD_MEAS=$(coffer attest measure "$T/w/coordinator.bin")
	SIM_FP=$(coffer attest sim-key 2>&1 >/dev/null | grep -oE 'fingerprint [0-9a-f]{64}' |
		cut -d' ' -f2)
	[ -n "$SIM_FP" ] || bail "no sim key fingerprint"
	JOB=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
}

# cw_measured FILE COORD_MEASUREMENT: the worker's measured configuration.
cw_measured() {
	jq -n --arg m "$2" --arg fp "$SIM_FP" '{type: "coffer-worker-config",
		version: 1, coordinator: {tee: "sim", measurement: $m,
		verification: {version: 1, sim_platform_keys: [$fp]}}}' > "$1"
}

# The app's parameters: those the policy allows (JSON), and the job's
# values, which the coordinator gives the worker.
CW_PARAMS='{"format": ["upper", "cksum"]}'
CW_COORD_PARAMS=(--param format=upper)
# A file with more objects of owner a's dataset (a JSON array of {key,
# digest}), or nothing.
CW_MORE_OBJECTS=

# cw_policy FILE WORKER_MEASUREMENT [reduce]: the policy of the job (app
# "app", the file $APP).
cw_policy() {
	jq -n --arg coord "$(cat "$T/w/coord.line")" \
		--arg a "$(cat "$T/w/hosp-a.line")" --arg b "$(cat "$T/w/hosp-b.line")" \
		--arg r "$(cat "$T/w/analyst.line")" \
		--arg ka "$(cat "$T/w/a.keyid")" --arg kb "$(cat "$T/w/b.keyid")" \
		--arg da1 "sha256:$(sha "$T/in/a/1.sealed")" \
		--arg da2 "sha256:$(sha "$T/in/a/2.sealed")" \
		--arg db1 "sha256:$(sha "$T/in/b/1.sealed")" \
		--arg app "$(sha "$APP")" --arg wm "$2" --arg fp "$SIM_FP" \
		--argjson red "${3:-false}" --argjson params "$CW_PARAMS" \
		--slurpfile more "${CW_MORE_OBJECTS:-/dev/null}" --argjson exp "$(( $(date +%s) + 86400 ))" \
		'{type: "coffer-policy", version: 1, name: "worker-it", coordinator: $coord,
		  expires: $exp,
		  owners: [{id: $a, datasets: [{name: "a-data", key_id: $ka,
		             objects: ([{key: "a/1.sealed", digest: $da1},
		                        {key: "a/2.sealed", digest: $da2}] + ($more[0] // []))}]},
		           {id: $b, datasets: [{name: "b-data", key_id: $kb,
		             objects: [{key: "b/1.sealed", digest: $db1}]}]}],
		  apps: [{name: "app", sha256: $app, datasets: ["a-data", "b-data"],
		          "reduce": $red, measurements: [{tee: "sim", value: $wm}],
		          params: $params}],
		  verification: {version: 1, sim_platform_keys: [$fp]},
		  recipients: [$r], limits: {min_rows: 1}}' > "$1"
}

# cw_start_coord POLICY [fakecoord args...]: a coordinator (the previous one
# is stopped); sets COORD_URL.
cw_start_coord() {
	local policy=$1
	shift
	[ -n "${COORD_PID:-}" ] && kill "$COORD_PID" 2>/dev/null
	rm -f "$T/w/coord.url" "$T/w/coord.count" "$T/w/out.key"
	"$FAKECOORD" --identity "$T/w/coord.id" --policy "$policy" --job "$JOB" \
		--app app --key "$T/w/a.key" --key "$T/w/b.key" \
		--measure "$T/w/coordinator.bin" "${CW_COORD_PARAMS[@]}" \
		--ready-file "$T/w/coord.url" --count-file "$T/w/coord.count" \
		--save-output-key "$T/w/out.key" "$@" 2> "$T/w/coord.log" &
	COORD_PID=$!
	track $COORD_PID
	wait_until 10 test -s "$T/w/coord.url" || bail "fakecoord did not start"
	COORD_URL=$(cat "$T/w/coord.url")
}

# cw_worker QJOB MEASURED [flags...]: one confidential worker until the
# queue is drained; its log in $T/QJOB.log.
cw_worker() {
	local q=$1 m=$2
	shift 2
	timeout 120 coffer-worker --job "$q" --redis "$REDIS_URL" --store "$T/in" \
		--outputs "$T/out/$q" --app "$APP" --coordinator "$COORD_URL" \
		--coordinator-job "$JOB" --tee-backend sim --measured-config "$m" \
		--max-attempts 2 --backoff-ms 50 --exit-when-done "$@" 2> "$T/$q.log"
}

# count NAME: a counter of the coordinator (nonces, releases, proofs).
count() { tr ' ' '\n' < "$T/w/coord.count" 2>/dev/null | grep -A1 -x "$1" | tail -1; }
