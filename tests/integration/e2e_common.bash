# SPDX-License-Identifier: Apache-2.0
# Helpers for the hostile-cloud suite (e2e_*.sh): confidential jobs end to
# end through the real coffer-coordinator, coffer-manager, coffer-worker
# and redis-server, sourced after lib.sh and manager_common.bash. Not a
# test itself (tests/run only runs *.sh).
#
#   e2e_coordinator [serve args]   start_coordinator, pin it ($COFFER_PIN_FILE),
#                           write the workers' measured configuration
#                           $T/worker.json; sets WORKER_MEAS
#   e2e_manager [serve args]       start_manager for confidential jobs on
#                           $E2E_COORD_URL (default $COORD_URL)
#   e2e_owners N                   hospitals a, b, c ($T/{a,b,c}.id, .key) with
#                           N sealed objects each in $E2E_STORE/{a,b,c}/
#                           (default $T/store), and the analyst $T/an.id
#   e2e_policy APP [jq args]       a policy over them for app APP (checksum,
#                           fault or an executable: $E2E_APP_FILE), approved
#                           by the three, keys uploaded; sets H
#   e2e_submit [jq filter]         POST /v1/jobs of app $E2E_APP under H; sets
#                           JOB and CJOB (the coordinator's job)
#   e2e_finish SECONDS             wait until JOB has ended; prints its state
#   e2e_verify OWNER               coffer receipt fetch + verify --json of
#                           CJOB as OWNER into $T/v-OWNER.json; its exit
#                           status in VRC

QCTL=$COFFER_BUILD/tests/tools/queuectl
PROXY=$COFFER_BUILD/tests/tools/faultproxy
export COFFER_PIN_FILE=$T/pins.json
E2E_APP=checksum

e2e_coordinator() {
	start_coordinator "$@"
	coffer coordinator verify "$COORD_URL" --expect "$COORD_MEASUREMENT" \
		--trust-sim-key "$COORD_SIM_KEY" >/dev/null 2>&1 ||
		bail "coffer coordinator verify failed"
	jq -n --arg m "$COORD_MEASUREMENT" --arg fp "$COORD_SIM_FP" '{type:
		"coffer-worker-config", version: 1, coordinator: {tee: "sim",
		measurement: $m, verification: {version: 1, sim_platform_keys: [$fp]}}}' \
		>"$T/worker.json"
	WORKER_MEAS=$(coffer attest measure "$BIN/coffer-worker" "$T/worker.json")
}

e2e_manager() {
	start_manager --coordinator "${E2E_COORD_URL:-$COORD_URL}" --tee-backend sim \
		--measured-config "$T/worker.json" "$@"
}

# start_proxy MODE TO_PORT [args]: a faultproxy on a free port; sets
# PROXY_PORT, PROXY_LOG.
start_proxy() {
	local mode=$1 to=$2 tries
	shift 2
	for tries in 1 2 3 4 5; do
		PROXY_PORT=$(random_port) || bail "no free port"
		PROXY_LOG=$T/proxy-$mode-$PROXY_PORT.log
		rm -f "$T/proxy.ready"
		"$PROXY" --listen "$PROXY_PORT" --to "$to" --log "$PROXY_LOG" \
			--mode "$mode" --ready-file "$T/proxy.ready" "$@" 2>>"$T/proxy.err" &
		track $!
		wait_until 5 test -s "$T/proxy.ready" && return 0
	done
	bail "faultproxy did not start"
}

e2e_owners() {
	local n=$1 o i
	E2E_STORE=${E2E_STORE:-$T/store}
	mkdir -p "$E2E_STORE"
	for o in a b c; do
		coffer id new --name "hospital-$o" "$T/$o.id" >/dev/null &&
			coffer key new "$T/$o.key" >/dev/null || bail "owner $o"
		mkdir -p "$E2E_STORE/$o"
		for i in $(seq 1 "$n"); do
			printf 'row %s of hospital %s\n' "$i" "$o" |
				coffer seal -q --key "$T/$o.key" - "$E2E_STORE/$o/item-$i" ||
				bail "sealing"
		done
	done
	coffer id new --name analyst "$T/an.id" >/dev/null || bail "analyst"
}

# The datasets of owner $1: one, of every object under $E2E_STORE/$1.
# One sha256sum and one jq for them all (a process per object took
# minutes for the bench's thousands).
_e2e_datasets() {
	local o=$1
	(cd "$E2E_STORE" && find "$o" -type f -print0 | sort -z | xargs -0 -r sha256sum) |
		jq -R 'capture("^(?<d>[0-9a-f]{64})  (?<k>.*)$") |
			{key: .k, digest: ("sha256:" + .d)}' |
		jq -s --arg o "$o" --arg k "$(coffer key show "$T/$o.key")" \
			'[{name: ($o + "-data"), key_id: $k, objects: .}]'
}

e2e_policy() {
	local app=$1 file
	case $app in
	checksum | fault) file=$COFFER_BUILD/apps/$app.so ;;
	*) file=$E2E_APP_FILE ;;
	esac
	# Through files: thousands of objects do not fit in arguments.
	_e2e_datasets a >"$T/ds-a.json" && _e2e_datasets b >"$T/ds-b.json" &&
		_e2e_datasets c >"$T/ds-c.json" || bail "datasets"
	jq -n --arg a "$(coffer id show "$T/a.id")" --arg b "$(coffer id show "$T/b.id")" \
		--arg c "$(coffer id show "$T/c.id")" --arg an "$(coffer id show "$T/an.id")" \
		--slurpfile da "$T/ds-a.json" --slurpfile db "$T/ds-b.json" \
		--slurpfile dc "$T/ds-c.json" --arg app "$app" \
		--arg sha "$(sha256sum <"$file" | cut -c1-64)" --arg wm "$WORKER_MEAS" \
		--arg fp "$COORD_SIM_FP" --argjson exp $(($(date +%s) + 86400)) '
	{name: "e2e", expires: $exp,
	 owners: [{id: $a, datasets: $da[0]}, {id: $b, datasets: $db[0]}, {id: $c, datasets: $dc[0]}],
	 apps: [{name: $app, sha256: $sha, datasets: ["a-data", "b-data", "c-data"],
	         reduce: false, measurements: [{tee: "sim", value: $wm}], params: {}}],
	 verification: {version: 1, sim_platform_keys: [$fp]},
	 recipients: [$an], tolerance: {fail_after: 1, max_failed: 0, max_abandoned: 0}}' |
		if [ $# -ge 2 ]; then jq "${@:2}"; else jq .; fi >"$T/draft.json"
	H=$(coffer policy new "$T/draft.json" 2>/dev/null)
	[ -n "$H" ] || bail "policy new failed"
	for o in a b c; do
		coffer policy approve "$H" --id "$T/$o.id" --yes >/dev/null 2>&1 &&
			coffer key upload "$T/$o.key" --policy "$H" --id "$T/$o.id" \
				>/dev/null 2>&1 || bail "approving or uploading as $o"
	done
}

e2e_submit() {
	jq -n --arg h "$H" --arg app "$E2E_APP" '{name: "e2e", app: $app,
		tee: {policy: $h}, outputs: {prefix: "out/"}, expected_time_s: 120,
		replicas: {min: 1, max: 2, initial: 2}, controller: {name: "static"},
		lease_ms: 2000, max_attempts: 10}' | jq "${1:-.}" >"$T/job.json"
	api POST /v1/jobs --data @"$T/job.json" >"$T/submit.json"
	[ "$HTTP_CODE" = 201 ] || bail "submission refused: $(cat "$T/submit.json")"
	JOB=$(jq -r .id "$T/submit.json")
	CJOB=$(jq -r .confidential.job "$T/submit.json")
}

e2e_finish() {
	wait_state "$1" "$JOB" completed failed stopped ||
		{ api GET "/v1/jobs/$JOB" | jq -c '{state, reason}' | sed 's/^/# /'; }
	job_state "$JOB"
}

e2e_verify() {
	local o=$1
	coffer receipt fetch "$CJOB" --id "$T/$o.id" --out "$T/r-$o.json" >/dev/null 2>&1
	coffer receipt verify "$T/r-$o.json" --id "$T/$o.id" \
		--trust-sim-key "$COORD_SIM_KEY" --json >"$T/v-$o.json" 2>/dev/null
	VRC=$?
	printf -v "VRC_$o" %s "$VRC"
}

# e2e_stage OWNER STAGE FIELD: a stage's count in OWNER's verify report.
e2e_stage() {
	jq -r --arg s "$2" --arg f "$3" '.stages[] | select(.stage == $s) | .[$f]' \
		"$T/v-$1.json"
}

# e2e_proofs OUTCOME: the coordinator's count of item proofs with that
# outcome (committed, duplicate, ...), from its metrics.
e2e_proofs() {
	curl -s "$COORD_URL/metrics" | awk -v o="$1" \
		'$1 == "coffer_coordinator_item_proofs_total{outcome=\"" o "\"}" {print $2 + 0}'
}

# e2e_kill_worker: SIGKILL the process group of the job's first worker.
e2e_kill_worker() {
	local wpid
	wpid=$(pgrep -f "coffer-worker.*--job $JOB" | head -1)
	[ -n "$wpid" ] || bail "no worker process"
	kill -9 -- "-$(ps -o pgid= -p "$wpid" | tr -d ' ')"
	diag "killed the worker's process group (pid $wpid) with SIGKILL"
}
