#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# One confidential job's whole share of the coordinator, as the e2e bench
# gives it (BENCHMARKS.md, "Coordinator CPU per proof in a job"; issue
# 13): a policy of PROOFJOB_ITEMS items (default 3000, a third per owner,
# as dicom-deid's e2e job), the job's open, 4 key releases (4 workers),
# every item proved in binary batches of PROOFJOB_BATCH (default 15, the
# e2e's mean) by 4 sessions, then the manager's close. The e2e's workers
# send about one batch per commit (each waits for its answer, and the
# coordinator is idle between them): PROOFJOB_CLIENTS=1 (default) sends
# the batches one request at a time (the 4 sessions one after the
# other); 4 sends them from 4 processes at once (groups of several
# requests per commit).
# "CPU" is the coordinator process's user + system time
# (/proc/PID/task/*/schedstat) over each phase; per proof = over the
# items. State on /dev/shm as the e2e's (PROOFJOB_DISK=1: on the build
# directory's disk). Median of PROOFJOB_ROUNDS (default 5) jobs.
# PROOFJOB_PERF=FILE: perf record (dwarf call chains) of the coordinator
# over the proofs and the close of the last round.
#   BUILD=build bash bench/proofjob.sh
set -u
cd "$(dirname "$0")/.."
export COFFER_SRC=$PWD
export COFFER_BUILD=${COFFER_BUILD:-$PWD/${BUILD:-build}}
[ -z "${PROOFJOB_DISK:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
. tests/integration/lib.sh >/dev/null
. tests/integration/coordinator_common.bash

N=${PROOFJOB_ITEMS:-3000}
B=${PROOFJOB_BATCH:-15}
C=${PROOFJOB_CLIENTS:-1}
ROUNDS=${PROOFJOB_ROUNDS:-5}
[ -x "$REL" ] || { echo "missing $REL (run make bench)"; exit 1; }

coord_setup >/dev/null
# Three owners of N/3 objects each: proofs need their digests only.
per=$((N / 3))
policy_draft | jq -c --argjson n "$per" '.apps[0].reduce = false |
	.owners |= [to_entries[] | .key as $o | .value |
	 .datasets[0].objects = [range($n) | {key: "o\($o)/dicom/\(.).dcm",
	  digest: ("sha256:" + ("\($o)f\(.)" | ("0" * (64 - length)) + .))}]]' >"$T/draft.json"
H=$(new_policy "$T/draft.json") || bail "policy: $(coffer policy new "$T/draft.json" 2>&1 | tail -n 2)"
approve "$H" a b c && upload "$H" a b c || bail "setting up the policy"
cpu() { cat /proc/"$COORD_PID"/task/*/schedstat | awk '{ns += $1} END {printf "%.0f\n", ns}'; }
metric() { curl -s "$COORD_URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
load=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$T/rows"
for round in $(seq 1 "$ROUNDS"); do
	c0=$(cpu)
	J=$(curl -s -X POST "$COORD_URL/v1/jobs" -d "{\"type\":\"coffer-job\",\"version\":1,
		\"policy\":\"$H\",\"app\":\"stats\",\"params\":{\"alpha\":\"0.05\"}}" | jq -r .job)
	[ ${#J} = 32 ] || bail "job open: $J"
	for k in 1 2 3 4; do
		"$REL" release "$COORD_URL" "$J" --measure "$BIN/coffer-worker" \
			--save-session "$T/s$k" >/dev/null || bail "release"
	done
	c1=$(cpu)
	# Session k proves the items k-1, k+3, ... in batches of B: the
	# requests of the 4 sessions in turn (C=1) or at once (C=4).
	for k in 1 2 3 4; do seq $((k - 1)) 4 $((N - 1)) >"$T/items$k"; done
	req0=$(metric coffer_coordinator_proof_commit_requests_total)
	com0=$(metric coffer_coordinator_proof_commits_total)
	last=$([ "$round" = "$ROUNDS" ] && echo 1)
	if [ -n "${PROOFJOB_PERF:-}" ] && [ -n "$last" ]; then
		perf record -q -F 4999 --call-graph dwarf -o "$PROOFJOB_PERF" \
			-p "$COORD_PID" 2>/dev/null &
		PERF_PID=$!
		sleep 0.5
	fi
	c2=$(cpu)
	if [ "$C" = 1 ]; then
		# one session after the other, one request at a time
		for k in 1 2 3 4; do
			"$REL" prove "$COORD_URL" "$T/s$k" --binary --batch "$B" \
				$(cat "$T/items$k") >/dev/null || bail "prove"
		done
	else
		pids=()
		for k in 1 2 3 4; do
			"$REL" prove "$COORD_URL" "$T/s$k" --binary --batch "$B" \
				$(cat "$T/items$k") >/dev/null &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p" || bail "prove"; done
	fi
	c3=$(cpu)
	curl -s -X POST "$COORD_URL/v1/jobs/$J/close" -d '{"reason":"done"}' |
		jq -e '.outcome == "completed"' >/dev/null || bail "close"
	c4=$(cpu)
	if [ -n "${PROOFJOB_PERF:-}" ] && [ -n "$last" ]; then
		kill -INT "$PERF_PID"
		wait "$PERF_PID"
	fi
	req=$(($(metric coffer_coordinator_proof_commit_requests_total) - req0))
	com=$(($(metric coffer_coordinator_proof_commits_total) - com0))
	echo "$c0 $c1 $c2 $c3 $c4 $req $com" >>"$T/rows"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
med() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
col() { awk -v n="$N" "{print $1}" "$T/rows" | med; }
echo "Command: \`PROOFJOB_CLIENTS=$C bash bench/proofjob.sh\` ($N items in binary"
echo "batches of $B from 4 sessions, $([ "$C" = 1 ] && echo "one request at a time" || echo "4 processes at once");"
echo "state on $(df --output=fstype "$T" | tail -n 1); $(nproc) cores; load average before: $load, after: $load_after;"
echo "median of $ROUNDS jobs)."
echo
echo "| phase | coordinator CPU | per proof |"
echo "|---|---:|---:|"
printf '| open + 4 releases | %.2f ms | %.2f us |\n' "$(col '($2 - $1) / 1e6')" "$(col '($2 - $1) / 1e3 / n')"
printf '| proofs (%s requests, %s commits) | %.2f ms | %.2f us |\n' "$(col '$6')" "$(col '$7')" \
	"$(col '($4 - $3) / 1e6')" "$(col '($4 - $3) / 1e3 / n')"
printf '| the close | %.2f ms | %.2f us |\n' "$(col '($5 - $4) / 1e6')" "$(col '($5 - $4) / 1e3 / n')"
printf '| the job in all | %.2f ms | %.2f us |\n' "$(col '($5 - $1 - ($3 - $2)) / 1e6')" \
	"$(col '($5 - $1 - ($3 - $2)) / 1e3 / n')"
# PROOFJOB_LOG=FILE: keep the coordinator's log.
[ -z "${PROOFJOB_LOG:-}" ] || cp "$COORD_LOG" "$PROOFJOB_LOG"
