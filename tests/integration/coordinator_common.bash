# SPDX-License-Identifier: Apache-2.0
# Helpers for the coordinator's integration tests (coordinator_*.sh),
# sourced after lib.sh. Not a test itself (tests/run only runs *.sh).
#
#   coord_setup [serve args...]  start a coordinator (sim), pin it, make
#                           owners a, b, c (identities $T/{a,b,c}.id, data
#                           keys $T/{a,b,c}.key, one sealed object each) and
#                           an analyst ($T/an.id); sets WORKER_MEAS (the sim
#                           measurement the policies approve: coffer-worker's)
#   policy_draft [jq filter]     print a draft policy over the three owners'
#                           datasets, one app "stats" (sim WORKER_MEAS, a
#                           reduce stage, parameter alpha), the analyst as
#                           recipient, a verification object accepting this
#                           host's sim key; the jq filter edits it
#   new_policy FILE              coffer policy new; prints the hash
#   approve HASH OWNER...        coffer policy approve --yes as each owner
#   upload HASH OWNER...         coffer key upload of each owner's key
#   open_job HASH [ALPHA]        POST /v1/jobs for app stats; prints the job id
#   release JOB [relworker opts] relworker release with WORKER_MEAS; prints
#                           its JSON line
#   refusal JOB [opts]           the reason name a release is refused with
#   policy_active HASH           true or false: the status's active member
#   newcomer NAME                a fourth identity, $T/x.id; prints its line
#   owners_policy                the draft as $T/p.json, stored, approved by
#                           a, b and c, their keys uploaded; prints its hash

REL=$COFFER_BUILD/tests/tools/relworker
SIGN=$COFFER_SRC/tests/integration/coordinator_sign.py
export COFFER_PIN_FILE=$T/pins.json

coord_setup() {
	local o
	start_coordinator "$@"
	coffer coordinator verify "$COORD_URL" --expect "$COORD_MEASUREMENT" \
		--trust-sim-key "$COORD_SIM_KEY" >/dev/null 2>&1 ||
		bail "coffer coordinator verify failed"
	for o in a b c; do
		coffer id new --name "hospital-$o" "$T/$o.id" >/dev/null &&
		coffer key new "$T/$o.key" >/dev/null &&
		printf 'id,value\n1,%s\n' "$o" >"$T/$o.csv" &&
		coffer seal --key "$T/$o.key" "$T/$o.csv" "$T/$o.sealed" >/dev/null ||
			bail "making owner $o failed"
	done
	coffer id new --name analyst "$T/an.id" >/dev/null || bail "analyst"
	printf 'the app\n' >"$T/app.so"
	WORKER_MEAS=$(coffer attest measure "$BIN/coffer-worker")
}

# the digest of a sealed file, as coffer seal prints it
sealed_digest() { printf 'sha256:%s' "$(sha256sum <"$1" | cut -c1-64)"; }

policy_draft() {
	jq -n --arg a "$(coffer id show "$T/a.id")" --arg b "$(coffer id show "$T/b.id")" \
		--arg c "$(coffer id show "$T/c.id")" --arg an "$(coffer id show "$T/an.id")" \
		--arg ka "$(coffer key show "$T/a.key")" --arg kb "$(coffer key show "$T/b.key")" \
		--arg kc "$(coffer key show "$T/c.key")" \
		--arg da "$(sealed_digest "$T/a.sealed")" --arg db "$(sealed_digest "$T/b.sealed")" \
		--arg dc "$(sealed_digest "$T/c.sealed")" \
		--arg app "$(sha256sum <"$T/app.so" | cut -c1-64)" --arg wm "$WORKER_MEAS" \
		--arg simfp "$COORD_SIM_FP" \
		--argjson exp $(($(date +%s) + 86400)) '
	{name: "study", expires: $exp,
	 owners: [{id: $a, datasets: [{name: "a-data", key_id: $ka, objects: [{key: "a.sealed", digest: $da}]}]},
	          {id: $b, datasets: [{name: "b-data", key_id: $kb, objects: [{key: "b.sealed", digest: $db}]}]},
	          {id: $c, datasets: [{name: "c-data", key_id: $kc, objects: [{key: "c.sealed", digest: $dc}]}]}],
	 apps: [{name: "stats", sha256: $app, datasets: ["a-data", "b-data", "c-data"], reduce: true,
	         measurements: [{tee: "sim", value: $wm}], params: {alpha: ["0.05", "0.01"]}}],
	 verification: {version: 1, sim_platform_keys: [$simfp]},
	 recipients: [$an], limits: {min_rows_per_owner: 1}}' |
		jq "${1:-.}"
}

new_policy() { coffer policy new "$1" 2>/dev/null; }

approve() {
	local h=$1 o
	shift
	for o in "$@"; do
		coffer policy approve "$h" --id "$T/$o.id" --yes >/dev/null 2>&1 || return 1
	done
}

upload() {
	local h=$1 o
	shift
	for o in "$@"; do
		coffer key upload "$T/$o.key" --policy "$h" --id "$T/$o.id" >/dev/null 2>&1 ||
			return 1
	done
}

open_job() {
	curl -s -X POST "$COORD_URL/v1/jobs" -d "{\"type\":\"coffer-job\",\"version\":1,
		\"policy\":\"$1\",\"app\":\"stats\",\"params\":{\"alpha\":\"${2:-0.05}\"}}" |
		jq -r '.job // .error.code'
}

release() {
	local job=$1
	shift
	"$REL" release "$COORD_URL" "$job" --measure "$BIN/coffer-worker" "$@" 2>&1 |
		tail -n 1
}

refusal() { release "$@" | jq -r '.code // .outcome' 2>/dev/null; }

policy_active() { curl -s "$COORD_URL/v1/policies/$1/status" | jq -r .status.active; }

newcomer() {
	coffer id new --name "$1" "$T/x.id" >/dev/null || bail "identity $1"
	coffer id show "$T/x.id"
}

owners_policy() {
	local h
	policy_draft >"$T/p.json"
	h=$(new_policy "$T/p.json")
	approve "$h" a b c && upload "$h" a b c || bail "the owners' policy"
	echo "$h"
}
