#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: the story of issue 13, with the real commands and their real
# output. Three hospitals seal their share of the Breast Cancer Wisconsin
# table and a few DICOM files and upload them to an untrusted cloud; an
# analyst proposes a policy; every hospital reads it, approves it and
# uploads its data key to the attested coordinator; the job runs under
# `coffer up` with a deadline; each hospital verifies the signed receipt and
# opens the results; then what the cloud may try is refused by name.
#
#   BUILD=build demo/run.sh          (make demo does this)
#   DEMO_KEEP=1 demo/run.sh          keep the working directory
#
# Everything runs on this machine, in a temporary directory, with the
# INSECURE SIMULATION TEE backend: nothing outside it is read or written
# (the data is in demo/data/ and tests/vectors/dicom/, each with its
# attribution). Each part checks what it shows (a refusal must be one), so
# the demo fails loudly if Coffer misbehaves. A step whose code has not
# landed on this branch yet says which branch it waits for; no step is
# imitated.
set -u
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
export PATH="$BUILD/bin:$PATH"
command -v coffer >/dev/null || { echo "demo: build first (make)"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/coffer-demo.XXXXXX")
export DEMO=$W
UP_PID=
cleanup() {
	[ -n "$UP_PID" ] && kill -INT "$UP_PID" 2>/dev/null && wait "$UP_PID" 2>/dev/null
	if [ -n "${DEMO_KEEP:-}" ]; then echo "demo: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Nothing of the user's: the cloud's data directory, the state file of
# `coffer up`, the sim platform key and every pin file live in $W.
export XDG_DATA_HOME=$W/xdg-data XDG_CONFIG_HOME=$W/xdg-config \
	XDG_RUNTIME_DIR=$W/xdg-run COFFER_SIM_DIR=$W/cloud-host
mkdir -m 700 "$XDG_RUNTIME_DIR" "$COFFER_SIM_DIR"
CLOUD=$W/cloud
STORE=$CLOUD/store
HOSPITALS="a b c"
# pooled-stats' schema parameter, on one line (a job's parameters carry no
# control characters).
SCHEMA=$(tr '\n' ' ' <"$SRC/demo/data/pooled-stats/schema.txt" | sed 's/ *$//')

if [ -t 1 ]; then B=$'\e[1m' D=$'\e[2m' N=$'\e[0m'; else B= D= N=; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '%s%s%s\n' "$D" "$*" "$N"; }
die() { echo "demo: $*"; exit 1; }
# at PARTY: the prompt of whoever runs the next commands, and their
# directory and pin file (each party is its own machine).
at() {
	WHO=$1
	cd "$W/$1" || exit 1
	export COFFER_PIN_FILE=$W/$1/coordinators.json
}
# The temporary directory as $DEMO in what is printed.
# Every command that talks to the sim coordinator says INSECURE SIMULATION;
# the demo prints that line the first time only.
demo_paths() {
	sed "s|$W|\$DEMO|g" | awk -v f="$W/.insecure-said" '
		/^coffer: INSECURE SIMULATION: no TEE protects/ {
			if ((getline x < f) >= 0) next
			print "" > f; close(f)
			print; print "(every command that talks to it says so; the demo shows it once)"; next }
		{ print }'
}
prompt() { printf '%s%s$ %s%s\n' "$B" "$WHO" "$1" "$N"; }
# run 'COMMAND LINE': print it, run it (output also in $W/last.out), and
# fail the demo if it fails.
run() {
	local rc
	prompt "$1"
	eval "$1" 2>&1 | tee "$W/last.out" | demo_paths
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || die "'$1' failed (exit $rc)"
}
# refused CODE 'TEXT' 'COMMAND LINE': it must fail with exit CODE and say TEXT.
refused() {
	local rc
	prompt "$3"
	eval "$3" >"$W/last.out" 2>&1
	rc=$?
	demo_paths <"$W/last.out"
	[ "$rc" -eq "$1" ] || die "expected exit $1, got $rc"
	grep -qF -- "$2" "$W/last.out" || die "expected the message to say '$2'"
	say "(exit $rc: see the exit codes in doc/cli.md)"
}
# waits BRANCH 'WHAT': a step that needs code of BRANCH, not on this one.
WAITING=()
waits() {
	printf '%s[waits for branch %s] %s%s\n' "$B" "$1" "$2" "$N"
	WAITING+=("$1: $2")
}
flip_byte() { # FILE OFFSET: what an attacker with write access to the store can do
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# What this build can do: the coordinator's ledger of item proofs and its
# receipts (branch ledger: coffer receipt, coffer results; a confidential
# job ends when the coordinator closes it).
MISSING=ledger
coffer help receipt >/dev/null 2>&1 && MISSING=

# --------------------------------------------------------------------
part_cloud() {
	step "1. The cloud: coffer up runs Redis, the manager and the coordinator"
	WHO=cloud
	mkdir -p "$W/cloud-op" && cd "$W/cloud-op" || exit 1
	# The operator's own installation, which it may change (part 8).
	mkdir -p "$CLOUD/opt" && cp -r "$BUILD/bin" "$BUILD/apps" "$CLOUD/opt/" || die "installing"
	say "The operator installs this build in \$DEMO/cloud/opt and starts it:"
	prompt '$DEMO/cloud/opt/bin/coffer up --dir $DEMO/cloud &'
	"$CLOUD/opt/bin/coffer" up --dir "$CLOUD" >"$W/up.out" 2>&1 &
	UP_PID=$!
	for _ in $(seq 200); do
		grep -q '^Press Ctrl-C' "$W/up.out" 2>/dev/null && break
		kill -0 "$UP_PID" 2>/dev/null || { cat "$W/up.out"; die "coffer up exited"; }
		sleep 0.1
	done
	grep -q '^Press Ctrl-C' "$W/up.out" || { cat "$W/up.out"; die "coffer up did not start"; }
	demo_paths <"$W/up.out"
	# What coffer up says, for the script (a hospital checks it itself).
	UPSTATE=$XDG_RUNTIME_DIR/coffer/up.json
	COORD_URL=$(jq -r .coordinator.url "$UPSTATE")
	COORD_MEAS=$(jq -r .coordinator.measurement "$UPSTATE")
	SIM_KEY=$(jq -r .coordinator.sim_key "$UPSTATE")
	WORKER_MEAS=$(jq -r .coordinator.worker_measurement "$UPSTATE")
	[ "$COORD_URL" != null ] || die "coffer up started no coordinator"
	say "The coordinator's sim platform key (${SIM_KEY/#$W/\$DEMO}) and its measurement are"
	say "what an owner checks its evidence against; the workers' measurement is"
	say "what a policy approves."
}

part_hospitals() {
	step "2. Three hospitals each make an identity and a data key, and pin the coordinator"
	local h
	for h in $HOSPITALS; do
		mkdir -p "$W/hospital-$h" && at "hospital-$h"
		cp "$SIM_KEY" coordinator-sim.pem
		run "coffer id new --name hospital-$h hospital.id"
		run "coffer key new data.key"
	done
	at hospital-a
	say "Each checks the coordinator's evidence before trusting it (the measurement"
	say "is that of the coffer-coordinator it reviewed; its sim key came from the cloud):"
	run "coffer coordinator verify $COORD_URL --expect \$(coffer attest measure \$(command -v coffer-coordinator)) --trust-sim-key coordinator-sim.pem"
	[ "$(coffer attest measure "$(command -v coffer-coordinator)")" = "$COORD_MEAS" ] ||
		die "the coordinator's measurement differs"
	for h in b c; do
		at "hospital-$h"
		coffer coordinator verify "$COORD_URL" --expect "$COORD_MEAS" \
			--trust-sim-key "$SIM_KEY" >/dev/null 2>&1 || die "hospital-$h: verify"
	done
	say "(hospital-b and hospital-c pin it the same way)"
}

# The hospitals' DICOM files: the same patient seen at A and B (MR_small in
# two encodings) gets the same pseudonym in both.
dicom_of() {
	case $1 in
	a) echo MR_small.dcm CT_small.dcm ;;
	b) echo MR_small_bigendian.dcm rtdose.dcm ;;
	c) echo MR_small_implicit.dcm SC_rgb_small_odd.dcm ;;
	esac
}

part_seal() {
	step "3. Each hospital seals its share and uploads only ciphertext"
	say "Breast Cancer Wisconsin (569 patients) split in three, and DICOM files"
	say "(demo/data/ATTRIBUTION.md, tests/vectors/dicom/README.md):"
	local h f
	for h in $HOSPITALS; do
		at "hospital-$h"
		cp "$SRC/demo/data/pooled-stats/hospital-$h.csv" wdbc.csv
		mkdir -p dicom
		for f in $(dicom_of "$h"); do cp "$SRC/tests/vectors/dicom/$f" dicom/; done
	done
	at hospital-a
	run "wc -l wdbc.csv && ls dicom"
	run "coffer seal --key data.key wdbc.csv wdbc.csv.sealed"
	for h in $HOSPITALS; do
		at "hospital-$h"
		[ -e wdbc.csv.sealed ] || coffer seal -q --key data.key wdbc.csv wdbc.csv.sealed ||
			die "hospital-$h: seal"
		for f in dicom/*.dcm; do
			coffer seal -q --key data.key "$f" "$f.sealed" || die "hospital-$h: seal $f"
		done
		mkdir -p "$STORE/hospital-$h/dicom"
		# Under the file's own name: everything in the store is sealed.
		cp wdbc.csv.sealed "$STORE/hospital-$h/wdbc.csv" || die "upload"
		for f in dicom/*.dcm; do cp "$f.sealed" "$STORE/hospital-$h/$f" || die "upload"; done
	done
	say "(the DICOM files and the other hospitals' tables are sealed the same way)"
	say "hospital-c had uploaded its table the day before with one value mistyped;"
	say "it uploads the corrected one over it. The cloud can keep the old one (part 8)."
	at hospital-c
	sed '5s/^[^,]*,/99.9,/' wdbc.csv >wdbc-old.csv
	coffer seal -q --key data.key wdbc-old.csv wdbc-old.csv.sealed || die "seal"
	mkdir -p "$CLOUD/kept" && cp wdbc-old.csv.sealed "$CLOUD/kept/hospital-c-wdbc.csv"
	run "diff wdbc-old.csv wdbc.csv | cut -c1-60"
	say "Uploading is a copy into the cloud's object store, \$DEMO/cloud/store here:"
	WHO=cloud
	run 'cd $DEMO/cloud/store && find . -type f | sort'
	run 'od -c $DEMO/cloud/store/hospital-a/wdbc.csv | head -3'
	run "coffer inspect \$DEMO/cloud/store/hospital-a/wdbc.csv | grep -E 'key-id|digest|verified'"
}

# A hospital's datasets, as it tells the analyst: its identity line, key
# id, and the digests coffer seal printed. JSON for the draft.
owner_json() {
	local h=$1 d=$W/hospital-$1 objs='[]' f
	for f in "$d"/dicom/*.sealed; do
		objs=$(jq -c --arg k "hospital-$h/dicom/$(basename "$f" .sealed)" \
			--arg dg "sha256:$(sha256sum <"$f" | cut -c1-64)" '. + [{key: $k, digest: $dg}]' <<<"$objs")
	done
	jq -n --arg id "$(coffer id show "$d/hospital.id")" --arg k "$(coffer key show "$d/data.key")" \
		--arg dg "sha256:$(sha256sum <"$d/wdbc.csv.sealed" | cut -c1-64)" --arg h "$h" \
		--argjson dicom "$objs" \
		'{id: $id, datasets: [
		   {name: "wdbc-\($h)", key_id: $k, objects: [{key: "hospital-\($h)/wdbc.csv", digest: $dg}]},
		   {name: "dicom-\($h)", key_id: $k, objects: $dicom}]}'
}

part_policy() {
	step "4. An analyst proposes a policy: which code may read which objects, and who gets the results"
	mkdir -p "$W/analyst" && at analyst
	cp "$SIM_KEY" coordinator-sim.pem
	run "coffer id new --name analyst analyst.id"
	coffer coordinator verify "$COORD_URL" --expect "$COORD_MEAS" --trust-sim-key "$SIM_KEY" \
		>/dev/null 2>&1 || die "analyst: verify"
	say "The workers' measurement: coffer-worker as reviewed, with the cloud's"
	say "measured configuration (which pins the coordinator the hospitals pinned):"
	cp "$CLOUD/worker-config.json" .
	run "jq -c .coordinator.measurement worker-config.json"
	[ "$(jq -r .coordinator.measurement worker-config.json)" = "$COORD_MEAS" ] ||
		die "the workers' configuration pins another coordinator"
	run "coffer attest measure \$(command -v coffer-worker) worker-config.json"
	[ "$(tail -n 1 "$W/last.out")" = "$WORKER_MEAS" ] || die "the workers' measurement differs"
	local recipients
	recipients=$(for p in hospital-a/hospital.id hospital-b/hospital.id hospital-c/hospital.id analyst/analyst.id; do
		coffer id show "$W/$p"; done | jq -R . | jq -sc .)
	jq -n --argjson a "$(owner_json a)" --argjson b "$(owner_json b)" --argjson c "$(owner_json c)" \
		--arg stats "$(sha256sum <"$BUILD/apps/pooled-stats.so" | cut -c1-64)" \
		--arg deid "$(sha256sum <"$BUILD/apps/dicom-deid.so" | cut -c1-64)" \
		--arg wm "$WORKER_MEAS" --arg fp "$(coffer attest sim-key --fingerprint 2>/dev/null)" \
		--arg schema "$SCHEMA" \
		--argjson recipients "$recipients" --argjson exp $(($(date +%s) + 86400)) '
	{name: "wdbc-study", expires: $exp, owners: [$a, $b, $c],
	 apps: [{name: "pooled-stats", sha256: $stats, datasets: ["wdbc-a", "wdbc-b", "wdbc-c"],
	         reduce: true, measurements: [{tee: "sim", value: $wm}],
	         params: {schema: [$schema], target: ["diagnosis"], positive: ["benign"]}},
	        {name: "dicom-deid", sha256: $deid, datasets: ["dicom-a", "dicom-b", "dicom-c"],
	         reduce: false, measurements: [{tee: "sim", value: $wm}],
	         params: {retain_dates: ["modified"], burned_in_annotation: ["accept"]}}],
	 verification: {version: 1, sim_platform_keys: [$fp]},
	 recipients: $recipients, limits: {min_owners: 3, min_rows_per_owner: 10}}' >draft.json ||
		die "draft"
	say "The draft names each hospital's identity, key id and the digest of every"
	say "object it uploaded (they sent these to the analyst), both apps by the"
	say "SHA-256 of their build, the workers' measurement, and the recipients:"
	run "jq -c '.apps[] | {name, sha256, datasets, reduce: .reduce}' draft.json"
	run "coffer policy new draft.json"
	POLICY=$(tail -n 1 "$W/last.out")
	[[ $POLICY =~ ^[0-9a-f]{64}$ ]] || die "no policy hash"
}

part_approve() {
	step "5. Each hospital reads the policy, approves it and uploads its key"
	at hospital-a
	run "coffer policy show $POLICY"
	say "(approve shows the same listing, then signs; --yes as no one types here)"
	local h
	for h in $HOSPITALS; do
		at "hospital-$h"
		run "coffer policy approve $POLICY --id hospital.id --yes | sed -n '/^approval/,\$p'"
		run "coffer key upload data.key --policy $POLICY --id hospital.id"
	done
	at analyst
	run "coffer policy status $POLICY"
	grep -q 'active' "$W/last.out" || die "the policy is not active"
}

# job_file NAME APP PREFIX PARAMS_JSON: a confidential job of the policy.
job_file() {
	jq -n --arg p "$POLICY" --arg name "$1" --arg app "$2" --arg prefix "$3" \
		--argjson params "$4" '{name: $name, app: $app, tee: {policy: $p},
		app_params: $params, outputs: {prefix: $prefix}, expected_time_s: 60,
		replicas: {min: 1, max: 3}, controller: {name: "deadline"}}'
}
STATS_PARAMS=$(jq -n --arg s "$SCHEMA" \
	'{schema: $s, target: "diagnosis", positive: "benign"}')
DEID_PARAMS='{"retain_dates": "modified", "burned_in_annotation": "accept"}'

# submit FILE: coffer job submit; sets JOB.
submit() {
	run "coffer job submit $1"
	JOB=$(grep -E '^job-' "$W/last.out" | tail -n 1)
	[ -n "$JOB" ] || die "no job id"
}
# watch_job OUTCOME: coffer job watch until the end; it must be OUTCOME
# (completed or failed); sets CJOB, the coordinator's id of the job.
watch_job() {
	local rc
	prompt "coffer job watch $JOB --interval 2"
	timeout 120 coffer job watch "$JOB" --interval 2 >"$W/last.out" 2>&1
	rc=$?
	demo_paths <"$W/last.out"
	grep -q "^$JOB $1" "$W/last.out" || die "job $JOB: expected $1 (exit $rc)"
	CJOB=$(coffer job show "$JOB" | jq -r .confidential.job)
	[[ $CJOB =~ ^[0-9a-f]{32}$ ]] || die "no coordinator job"
}

part_job() {
	step "6. The analyst runs the jobs under coffer up, with a deadline"
	JOB_RAN=0
	if [ -n "$MISSING" ]; then
		waits "$MISSING" "the coordinator commits the workers' item proofs and closes the job with a signed receipt"
		return
	fi
	at analyst
	say "The items are the policy's objects; the parameters must be values the"
	say "policy allows; the workers get them, and the keys, from the coordinator."
	job_file wdbc-pooled pooled-stats results/wdbc/ "$STATS_PARAMS" >stats-job.json
	run "jq -c 'del(.app_params.schema)' stats-job.json"
	submit stats-job.json
	watch_job completed
	STATS_JOB=$CJOB
	job_file dicom-deid dicom-deid results/dicom/ "$DEID_PARAMS" >deid-job.json
	submit deid-job.json
	watch_job completed
	DEID_JOB=$CJOB
	JOB_RAN=1
}

part_receipts() {
	step "7. Each hospital verifies the receipt offline, and opens the results"
	if [ "$JOB_RAN" = 0 ]; then
		waits "$MISSING" "a job's receipt to verify and its results to open (coffer receipt, coffer results)"
		return
	fi
	local h
	for h in $HOSPITALS; do
		at "hospital-$h"
		if [ "$h" = a ]; then
			run "coffer receipt fetch $STATS_JOB --id hospital.id --out receipt.json"
			run "coffer receipt verify receipt.json --id hospital.id --trust-sim-key coordinator-sim.pem"
		else
			run "coffer receipt fetch $STATS_JOB --id hospital.id --out receipt.json >/dev/null"
			run "coffer receipt verify receipt.json --id hospital.id --trust-sim-key coordinator-sim.pem | grep -E '^  [0-9]|^verdict'"
		fi
		grep -q '^verdict: VALID' "$W/last.out" || die "hospital-$h: the receipt is not valid"
	done
	at hospital-a
	run "coffer results fetch $STATS_JOB --id hospital.id --store \$DEMO/cloud/store --prefix results/wdbc/ --out results"
	run "coffer results open results"
	run "jq -c '.columns[0] | {name, n, mean, sd}' results/result"
	run "jq -c '.model | {status, training_accuracy}' results/result"
	say "The de-identified DICOM files go to the analyst, a recipient (not an"
	say "owner: it gets no receipt, and results fetch checks the signed one). The"
	say "same patient at hospitals A and B gets the same pseudonym and date shift:"
	at analyst
	run "coffer results fetch $DEID_JOB --id analyst.id --store \$DEMO/cloud/store --prefix results/dicom/ --out deid | tail -n 2"
	run "coffer results open deid >/dev/null && ls deid | grep -v sealed"
	if command -v dcmdump >/dev/null; then
		run "dcmdump +P PatientName +P StudyDate \$DEMO/hospital-a/dicom/MR_small.dcm"
		run "dcmdump +P PatientName +P StudyDate deid/hospital-a_dicom_MR_small.dcm deid/hospital-b_dicom_MR_small_bigendian.dcm"
	fi
}

part_refusals() {
	step "8. What the cloud may try, refused by name"
	if [ -z "$MISSING" ]; then
		refuse_inputs
		refuse_build
	else
		# A job ends when the coordinator closes it (ledger).
		waits "$MISSING" "a tampered input and a rolled-back input, refused by the attested workers (the digest the policy pins), in a job that ends"
		waits "$MISSING" "an unapproved build of pooled-stats, refused by the workers, in a job that ends"
	fi
	refuse_revoked
}

refuse_inputs() {
	say "The cloud flips one byte of hospital-a's table, and puts back the version"
	say "of hospital-c's table it replaced (a rollback: a valid sealed file, under"
	say "the right key, but not the one the policy pins):"
	WHO=cloud
	cp "$STORE/hospital-a/wdbc.csv" "$W/a.good" && cp "$STORE/hospital-c/wdbc.csv" "$W/c.good"
	flip_byte "$STORE/hospital-a/wdbc.csv" 30000
	run 'cp $DEMO/cloud/kept/hospital-c-wdbc.csv $DEMO/cloud/store/hospital-c/wdbc.csv'
	at analyst
	job_file wdbc-pooled pooled-stats results/wdbc2/ "$STATS_PARAMS" >stats-job2.json
	submit stats-job2.json
	watch_job failed
	run "coffer job logs $JOB | grep -o 'opening input: .*' | sort -u"
	at hospital-a
	run "coffer receipt fetch $CJOB --id hospital.id --out receipt2.json >/dev/null"
	refused 12 "incomplete" "coffer receipt verify receipt2.json --id hospital.id --trust-sim-key coordinator-sim.pem"
	cp "$W/a.good" "$STORE/hospital-a/wdbc.csv" && cp "$W/c.good" "$STORE/hospital-c/wdbc.csv"
}

refuse_build() {
	say "The operator swaps in another build of pooled-stats (one byte more):"
	WHO=cloud
	cp "$CLOUD/opt/apps/pooled-stats.so" "$W/stats.good"
	run 'printf x >> $DEMO/cloud/opt/apps/pooled-stats.so'
	at analyst
	job_file wdbc-pooled pooled-stats results/wdbc3/ "$STATS_PARAMS" >stats-job3.json
	submit stats-job3.json
	watch_job failed
	cp "$W/stats.good" "$CLOUD/opt/apps/pooled-stats.so"
}

refuse_revoked() {
	say "A revoked approval: hospital-b withdraws its approval; from the next"
	say "request on, no job of the policy opens and no key is released."
	at hospital-b
	run "coffer policy revoke $POLICY --id hospital.id"
	grep -q 'not active' "$W/last.out" || die "the policy is still active after a revocation"
	at analyst
	[ -e stats-job.json ] ||
		job_file wdbc-pooled pooled-stats results/wdbc/ "$STATS_PARAMS" >stats-job.json
	refused 5 "revoked" "coffer job submit stats-job.json"
}

echo "${B}Coffer demo${N} ($(coffer version)): three hospitals, one confidential job"
say "Working in DEMO=$W${DEMO_KEEP:+ (kept)}${DEMO_KEEP:- (removed at the end)}."
say "INSECURE SIMULATION: no TEE here; the sim backend stands in for SGX/TDX/SEV-SNP."
part_cloud
part_hospitals
part_seal
part_policy
part_approve
part_job
part_receipts
part_refusals
if [ "${#WAITING[@]}" -gt 0 ]; then
	printf '\n%sThe demo ran as far as this build supports; these steps wait for branches not merged yet:%s\n' "$B" "$N"
	printf '  %s\n' "${WAITING[@]}"
else
	printf '\n%sThe demo finished: every step behaved as documented.%s\n' "$B" "$N"
fi
