#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The same job plaintext and confidential, in one run (BENCHMARKS.md,
# "Confidential vs plaintext jobs"; issue 13): real coffer-manager,
# redis-server, coffer-coordinator (sim backend) and 4 coffer-worker
# replicas (static controller). The workloads (E2E_BENCH_APPS, by default
# all four):
#   pooled-stats  the three hospitals' Breast Cancer Wisconsin tables
#                 (demo/data/pooled-stats, 569 rows in all): 3 map items
#                 and the reduce stage, as `make demo` runs it;
#   dicom-deid    E2E_BENCH_DICOM DICOM files, a job per size listed
#                 (default "300 3000": with two sizes or more the fixed
#                 cost of a job and its cost per item are printed apart,
#                 from the smallest and the largest), a third per
#                 hospital (one CT or MR series each), copies of the
#                 project's test files (tests/vectors/dicom) that the app
#                 accepts, cycled;
#   checksum      E2E_BENCH_ITEMS (default 300) one-row items: a few
#                 microseconds each, the overhead shows in full;
#   fault         the same items with sleep_ms=20 (an item that works).
# The plaintext job reads the files as they are, the confidential one
# their sealed copies listed in an approved policy: each worker attests and
# gets its keys, checks each input's digest, opens it, seals the output
# and proves it at the coordinator before its ack. Wall time is the
# manager's elapsed_s, from the job's start (its items loaded and its
# replicas asked for) to its completion (the last ack, the reduce stage,
# and for the confidential job its close at the coordinator), the same
# clock for both kinds; each app's lines also give the client's wall,
# from the submission (which, for a confidential job, reads the policy
# and opens the job at the coordinator first) to the answer of one held
# request (GET /v1/jobs/{id}?wait_s=, doc/manager.md 7.1): the bench
# polls nothing while a job runs. Rounds alternate the two kinds; the median of
# E2E_BENCH_ROUNDS (default 3) is reported, and the jobs' fixed costs: a
# worker's start (plaintext and confidential), of which the attestation
# and key release, and the close at the coordinator (see fixed below);
# then per app the runner's CPU time for its start and the coordinator's
# CPU time per confidential job (both less disturbed by a busy machine).
# Stores on /dev/shm when it exists.
# E2E_BENCH_BREAKDOWN=1: the workers log at debug level and, per app and
# kind, where an item's time goes is printed from their "batch done" lines
# (doc/worker.md 9.4): steps 1-5 (of which the app's calls: with a plugin
# host, the wait for it too), the proof request, the acks and the next
# lease, in microseconds of wall time per item; the runner's CPU time per
# item; and the mean batch; for pooled-stats, how long after the last map
# proof the reduce proof came.
# E2E_BENCH_TICK_MS (default 250, as the tests run it): the manager's tick.
# A job's end is no longer a tick's: the queue's drain signal (doc/queue.md
# 4.9) and, for a confidential job, the held close watch at the
# coordinator (doc/manager.md 9.4) wake the manager, and so does a local
# replica's exit (SIGCHLD: a plaintext job's reduce replica, started
# early since 2026-12-08); what is still read at a tick (a signal lost)
# makes a short job's figure depend on the tick: with 20 the figures are
# Coffer's costs, not the tick's phase.
# E2E_BENCH_STANDBY=N (default 0: every worker starts cold): the manager
# keeps a standby pool of N workers per kind (doc/manager.md 5.4), both
# kinds alike; before each job the bench waits until every kind's pool is
# full and each of its workers said "standby ready" (their log,
# standby.log), so that a job finds warm workers; the table and the lines
# say "warm" and how many of each job's replicas came from the pool.
# Goal (issue 13): ratio <= 1.10 with 4 workers on pooled-stats and
# dicom-deid. Run by `make bench` (bench/run) or alone:
#   BUILD=build bash bench/e2e.sh
set -u
cd "$(dirname "$0")/.."
export COFFER_SRC=$PWD
export COFFER_BUILD=${COFFER_BUILD:-$PWD/${BUILD:-build}}
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
. tests/integration/lib.sh >/dev/null
. tests/integration/manager_common.bash
. tests/integration/e2e_common.bash
# run's output is the job's time, so a bail there must say why elsewhere.
bail() { echo "Bail out! $*" >&2; exit 1; }

N=${E2E_BENCH_ITEMS:-300}
NDICOM=${E2E_BENCH_DICOM:-300 3000}
ROUNDS=${E2E_BENCH_ROUNDS:-3}
STANDBY=${E2E_BENCH_STANDBY:-0}
START=cold
[ "$STANDBY" -gt 0 ] && START="warm (standby pool of $STANDBY)"
APPS=${E2E_BENCH_APPS:-pooled-stats dicom-deid checksum fault}
PER=$((N / 3))

[ -n "${E2E_BENCH_BREAKDOWN:-}" ] && export COFFER_LOG_LEVEL=debug
start_redis >/dev/null
e2e_coordinator >/dev/null
e2e_manager --tick-ms "${E2E_BENCH_TICK_MS:-250}" --standby-replicas "$STANDBY" >/dev/null
# Plaintext files under $T/plain, sealed copies under $T/store (the
# manager's store), under the same keys. e2e_owners seals "row i of
# hospital o" as o/item-i.
e2e_owners "$PER" >/dev/null
both() { # OWNER KEY FILE: the plaintext and its sealed copy
	mkdir -p "$(dirname "$T/plain/$2")" "$(dirname "$T/store/$2")"
	cp "$3" "$T/plain/$2" &&
		coffer seal -q --key "$T/$1.key" "$3" "$T/store/$2" || bail "sealing $2"
}
for o in a b c; do
	for i in $(seq 1 "$PER"); do
		mkdir -p "$T/plain/$o"
		printf 'row %s of hospital %s\n' "$i" "$o" >"$T/plain/$o/item-$i"
	done
	both "$o" "$o/wdbc.csv" demo/data/pooled-stats/hospital-$o.csv
done
# The DICOM files dicom-deid accepts (not those of refused.tsv).
dicoms=()
for f in tests/vectors/dicom/*.dcm; do
	grep -q "^${f##*/}	" tests/vectors/dicom/refused.tsv || dicoms+=("$f")
done
# Job sizes in increasing order: the files of the k-th size (from 0) that
# the smaller ones do not have go under o/dicom-k/, so that a size's job
# is the objects under dicom-0 to dicom-k.
sizes=$(tr ' ' '\n' <<<"$NDICOM" | grep . | sort -n | uniq | tr '\n' ' ')
i=0 k=0
for n in $sizes; do
	for i in $(seq "$i" $((n - 1))); do
		o=$(echo a b c | cut -d' ' -f$((i % 3 + 1)))
		f=${dicoms[$((i / 3 % ${#dicoms[@]}))]}
		both "$o" "$o/dicom-$k/$(printf %05d "$i")-${f##*/}" "$f"
	done
	i=$n k=$((k + 1))
done
openssl rand -hex 32 >"$T/deid.key"
SCHEMA=$(tr '\n' ' ' <demo/data/pooled-stats/schema.txt | sed 's/ *$//')

# E2E_BENCH_HOOK=PROGRAM: run as `PROGRAM start|end plain|conf` around
# each job (from before its submission to after its end is seen), with
# E2E_PIDS the PIDs of redis-server, coffer-coordinator and
# coffer-manager and, at the end, E2E_JOB_LOG the job's log (its
# workers' lines): to profile the two kinds apart (bench/e2e_profile.sh).
hook() {
	[ -z "${E2E_BENCH_HOOK:-}" ] ||
		E2E_PIDS="$REDIS_PID $COORD_PID $MGR_PID" \
		E2E_JOB_LOG=${job:+$MGR_DB.logs/$job.log} "$E2E_BENCH_HOOK" "$@" >&2
}
# wait_end JOB: one held request (doc/manager.md 7.1), answered when the
# job ends; nothing polls while the job runs, which would take CPU from
# it on a machine where it is CPU-bound.
# A held request that fails (seen once, under a full ASan suite's load:
# no answer, HTTP code not 200) is asked again, 3 times at most.
wait_end() {
	local tries=0
	while :; do
		rm -f "$T/api.body"
		api GET "/v1/jobs/$1?wait_s=600&view=status" >"$T/end.json"
		if [ "$HTTP_CODE" = 200 ]; then
			case $(jq -r .state "$T/end.json") in
			completed | failed | stopped) return 0 ;;
			*) bail "job $1 did not end in 600 s" ;;
			esac
		fi
		tries=$((tries + 1))
		[ $tries -lt 3 ] || bail "waiting for job $1: HTTP $HTTP_CODE: $(cat "$T/end.json")"
		echo "waiting for job $1: HTTP $HTTP_CODE, asking again" >&2
		sleep 0.2
	done
}
# pool_ready: with a standby pool, wait (up to 30 s) until every kind has
# its N idle workers and every worker started and not dead has logged
# "standby ready"; a pool that does not get there is said, not hidden.
pool_ready() {
	[ "$STANDBY" -gt 0 ] || return 0
	local end=$(($(date +%s) + 30)) want got
	while :; do
		api GET /v1/standby >"$T/standby.json"
		want=$(jq '[.kinds[] | .started - .died] | add // 0' "$T/standby.json")
		got=$(grep -c 'standby ready' "$MGR_DB.logs/standby.log" 2>/dev/null)
		jq -e --argjson n "$STANDBY" 'all(.kinds[]; .idle == $n)' 			"$T/standby.json" >/dev/null && [ "${got:-0}" -ge "$want" ] && return 0
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "the standby pool is not ready after 30 s: $(jq -c '[.kinds[] |
				{kind, idle, started, died, last_status}]' "$T/standby.json"), $got ready lines" >&2
			return 0
		fi
		sleep 0.1
	done
}
elapsed() { # JOB: seconds from its start to its end, by the manager
	api GET "/v1/jobs/$1?view=status" | jq -r .elapsed_s
}
# run plain|conf APP PARAMS ITEMS: prints the job's wall time
run() {
	local kind=$1 app=$2 params=$3 items=$4 job=
	if [ "$kind" = plain ]; then
		jq -n --argjson it "$items" --arg s "$T/plain" --arg app "$app" \
			--argjson p "$params" --arg k "$T/deid.key" '{app: $app,
			app_params: (if $app == "dicom-deid" then $p + {secret_file: $k}
				else $p end),
			inputs: {items: $it, store: $s}, expected_time_s: 600,
			replicas: {min: 4, max: 4, initial: 4}, controller: {name: "static"}}
			| if $app == "pooled-stats" then .outputs.reduce = "out/result"
			  else . end' >"$T/job.json"
	else
		jq -n --arg h "$H" --arg app "$app" --argjson p "$params" '{app: $app,
			app_params: $p, tee: {policy: $h}, expected_time_s: 600,
			replicas: {min: 4, max: 4, initial: 4}, controller: {name: "static"}}' \
			>"$T/job.json"
	fi
	pool_ready
	hook start "$kind"
	t0=$(date +%s%N)
	api POST "/v1/jobs?view=status" --data @"$T/job.json" >"$T/submit.json"
	[ "$HTTP_CODE" = 201 ] || bail "submission refused: $(cat "$T/submit.json")"
	job=$(jq -r .id "$T/submit.json")
	wait_end "$job"
	echo "($(date +%s%N) - $t0) / 1000000000" | bc -l >>"$T/client-$kind"
	hook end "$kind"
	[ "$(job_state "$job")" = completed ] ||
		bail "job $job: $(api GET "/v1/jobs/$job" | jq -r .reason)"
	fixed "$kind" "$job"
	api GET "/v1/jobs/$job" | jq '.replicas.warm // 0' >>"$T/warm-$kind"
	echo "$job" >>"$T/jobs-$kind"
	elapsed "$job"
}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ms_field() { grep -o "$1=[0-9]*" | cut -d= -f2; }
# fixed KIND JOB: the job's fixed cost, in seconds, into $T/fixed-KIND:
# its workers' start (from the runner's start to ready, the median over
# them: "ready_ms" in their "worker started" lines), of which the
# attestation and key release ("attest_ms"), and the close at the
# coordinator (the manager's "closed at the coordinator" line); then, in
# milliseconds, the runner's CPU time for its start and for the
# attestation and release ("cpu_us", "attest_cpu_us"; medians).
fixed() {
	local r a c u au
	r=$(ms_field ready_ms <"$MGR_DB.logs/$2.log" | median)
	a=$(ms_field attest_ms <"$MGR_DB.logs/$2.log" | median)
	c=$(grep "closed at the coordinator" "$MGR_LOG" | grep -F "$2" | ms_field ms | tail -n 1)
	u=$(ms_field cpu_us <"$MGR_DB.logs/$2.log" | median)
	au=$(ms_field attest_cpu_us <"$MGR_DB.logs/$2.log" | median)
	printf '%.3f %.3f %.3f %.2f %.2f\n' "$(echo "${r:-0} / 1000" | bc -l)" \
		"$(echo "${a:-0} / 1000" | bc -l)" "$(echo "${c:-0} / 1000" | bc -l)" \
		"$(echo "${u:-0} / 1000" | bc -l)" "$(echo "${au:-0} / 1000" | bc -l)" \
		>>"$T/fixed-$1"
}
# The coordinator's CPU time so far, in nanoseconds (/proc/PID/schedstat).
coord_cpu_ns() { cut -d' ' -f1 "/proc/$COORD_PID/schedstat"; }
col() { awk -v c="$1" '{print $c}' | median; }
# breakdown KIND: microseconds per item from the workers' "batch done"
# lines of KIND's jobs: steps 1-5 (the app's part), proof request, acks +
# lease, the runner's CPU; mean batch.
breakdown() {
	local j
	for j in $(cat "$T/jobs-$1"); do cat "$MGR_DB.logs/$j.log"; done |
		grep 'batch done' | awk '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			n += v["items"]; s += v["steps_us"]; p += v["proof_us"];
			a += v["settle_us"]; x += v["app_us"]; c += v["cpu_us"]; b++ }
		END { if (n) printf "%s: %d items in %d batches (%.1f per batch), per item: steps 1-5 %.0f us (of which the app %.0f), proof %.0f us, acks + lease %.0f us; runner CPU %.0f us\n",
			k, n, b, n / b, s / n, x / n, p / n, a / n, c / n }' k="$1"
}

# reduce_gap: for the confidential jobs of an app with a reduce stage, the
# time from the last map proof's answer to the reduce proof's (the
# coordinator's log), median over the jobs: what the reduce stage adds
# after the map stage (doc/manager.md 9.4: its replica starts early).
ms_of() { awk -F'[T:Z]' '{ printf "%d\n", ($2 * 3600 + $3 * 60 + $4) * 1000 }'; }
reduce_gap() {
	local j cj t
	for j in $(cat "$T/jobs-conf"); do
		cj=$(api GET "/v1/jobs/$j" | jq -r .confidential.job)
		t=$(grep "POST /v1/jobs/$cj/proofs -> 200" "$COORD_LOG" | cut -d' ' -f1 |
			ms_of | tail -n 2 | tr '\n' ' ')
		set -- $t
		[ $# -eq 2 ] && echo $(($2 - $1))
	done | median | awk '{ printf "conf: the reduce proof %d ms after the last map proof (median over the jobs)\n", $1 }'
}

echo "4 replicas, manager tick ${E2E_BENCH_TICK_MS:-250} ms, median of $ROUNDS alternating rounds, workers start $START:"
echo
echo "| app | items | start | plaintext (s) | confidential (s) | ratio | worker start, plaintext (s) | worker start, confidential (s) | of which attestation + release (s) | close (s) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
# dicom-deid runs once per size of E2E_BENCH_DICOM.
runs= && : >"$T/sizes" && : >"$T/cpu" && : >"$T/breakdown"
for app in $APPS; do
	if [ "$app" = dicom-deid ]; then
		k=0
		for n in $sizes; do runs+=" dicom-deid:$k:$n" k=$((k + 1)); done
	else
		runs+=" $app"
	fi
done
for run_ in $runs; do
	app=${run_%%:*}
	# Each app's own objects, approved in a policy of their own.
	case $app in
	pooled-stats)
		pat='/wdbc.csv$' label="pooled-stats (3 tables + reduce)"
		params=$(jq -n --arg s "$SCHEMA" '{schema: $s, target: "diagnosis",
			positive: "benign", min_owners: "1"}') ;;
	dicom-deid)
		k=${run_#*:} k=${k%%:*}
		pat="/dicom-[0-$k]/" label=dicom-deid
		params='{"retain_dates": "modified", "burned_in_annotation": "accept"}' ;;
	checksum) pat='/item-' label="checksum (microseconds per item)" params='{}' ;;
	fault) pat='/item-' label="fault, sleep_ms=20" params='{"sleep_ms": "20"}' ;;
	*) bail "unknown app $app" ;;
	esac
	items=$(cd "$T/plain" && find a b c -type f | grep -E "$pat" | sort |
		jq -R . | jq -s -c .)
	E2E_APP=$app E2E_APP_FILE=$COFFER_BUILD/apps/$app.so
	e2e_policy "$app" --argjson p "$params" --arg pat "$pat" --arg app "$app" '
		.name = "bench-" + $app |
		.owners[].datasets[].objects |= map(select(.key | test($pat))) |
		.apps[0].params = ($p | map_values([.])) |
		.apps[0].reduce = ($app == "pooled-stats")' >/dev/null
	: >"$T/p" && : >"$T/c" && : >"$T/fixed-plain" && : >"$T/fixed-conf"
	: >"$T/jobs-plain" && : >"$T/jobs-conf" && : >"$T/coord-cpu"
	: >"$T/client-plain" && : >"$T/client-conf"
	: >"$T/warm-plain" && : >"$T/warm-conf"
	nitems=$(jq length <<<"$items")
	for _ in $(seq 1 "$ROUNDS"); do
		run plain "$app" "$params" "$items" >>"$T/p"
		c0=$(coord_cpu_ns)
		run conf "$app" "$params" "$items" >>"$T/c"
		echo "($(coord_cpu_ns) - $c0) / 1000000" | bc -l >>"$T/coord-cpu"
	done
	p=$(median <"$T/p") c=$(median <"$T/c")
	printf '| %s | %s | %s | %.2f | %.2f | %.2f | %s | %s | %s | %s |\n' "$label" \
		"$nitems" "${START%% *}" "$p" "$c" "$(echo "$c / $p" | bc -l)" \
		"$(col 1 <"$T/fixed-plain")" "$(col 1 <"$T/fixed-conf")" \
		"$(col 2 <"$T/fixed-conf")" "$(col 3 <"$T/fixed-conf")"
	[ "$app" = dicom-deid ] && echo "$nitems $p $c" >>"$T/sizes"
	[ "$STANDBY" -gt 0 ] && printf '%s, %s items: replicas from the standby pool per job (of the 4 item workers, at most one per item, and the reduce replica of a plaintext job; that of a confidential job starts cold): plaintext %s, confidential %s\n' \
		"$app" "$nitems" "$(tr '\n' ' ' <"$T/warm-plain" | sed 's/ $//')" \
		"$(tr '\n' ' ' <"$T/warm-conf" | sed 's/ $//')" >>"$T/cpu"
	pw=$(median <"$T/client-plain") cw=$(median <"$T/client-conf")
	printf '%s, %s items: the client'"'"'s wall (submission to the held answer, median): plaintext %.3f s, confidential %.3f s (%.2f)\n' \
		"$app" "$nitems" "$pw" "$cw" "$(echo "$cw / $pw" | bc -l)" >>"$T/cpu"
	printf '%s, %s items: worker start CPU (the runner, median): plaintext %.2f ms, confidential %.2f ms, of which attestation + release %.2f ms; coordinator CPU per confidential job %.1f ms\n' \
		"$app" "$nitems" "$(col 4 <"$T/fixed-plain")" "$(col 4 <"$T/fixed-conf")" \
		"$(col 5 <"$T/fixed-conf")" "$(median <"$T/coord-cpu")" >>"$T/cpu"
	if [ -n "${E2E_BENCH_BREAKDOWN:-}" ]; then
		{
			breakdown plain
			breakdown conf
			[ "$app" = pooled-stats ] && reduce_gap
		} | sed "s/^/$app, $nitems items, /" >>"$T/breakdown"
	fi
done
echo
cat "$T/cpu"
# Two or more dicom-deid sizes: the fixed cost and the cost per item apart
# (a line through the smallest and the largest size's medians).
if [ "$(wc -l <"$T/sizes")" -ge 2 ]; then
	echo
	sort -n "$T/sizes" | sed -n '1p;$p' | tr '\n' ' ' | awk '{
		dn = $4 - $1; pp = ($5 - $2) / dn; pc = ($6 - $3) / dn
		printf "dicom-deid, %d to %d items: per item plaintext %.0f us, confidential %.0f us (%.2f); fixed (the line at 0 items) plaintext %.3f s, confidential %.3f s\n",
			$1, $4, pp * 1e6, pc * 1e6, pc / pp, $2 - $1 * pp, $3 - $1 * pc }'
fi
if [ -s "$T/breakdown" ]; then
	echo
	cat "$T/breakdown"
fi
