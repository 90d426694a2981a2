#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Item proofs at a real coffer-coordinator on loopback (BENCHMARKS.md,
# "Coordinator ledger"; doc/format/item-proof.md section 10), everything a
# proof costs there: HTTP, the batch's JSON, IP1 to IP17, the commit rule,
# its audit log entry and ledger row, the answer, and the durable commit
# of each request (a disk flush). tests/tools/relworker sends them in one
# session of one job whose policy has 8,002 items (1 MiB of policy), each
# way in a job of its own:
#   - batched: 1024 proofs per request, binary (item-proof.md section 8.1,
#     what coffer-worker sends) and JSON;
#   - one per request, binary and JSON, from one client;
#   - one per binary request from C = 4, 16 and 64 clients at once (each
#     its own connection): what a pool of workers sends, and what the
#     coordinator's group commit (doc/coordinator.md section 10.1) shares
#     one disk flush between.
# "CPU per proof" is the coordinator process's user + system time over the
# proofs (from /proc/PID/task/*/schedstat); "proofs/s on one core" is its inverse; the
# wall rate also waits for the disk; latency is each request's round trip
# at the client (p50 and p99). Goal (issue 13): <= 10 us of CPU per
# proof and >= 20,000 proofs/s on one core. Client and coordinator share
# the machine's cores.
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/ledger.sh
set -u
cd "$(dirname "$0")/.."
export COFFER_SRC=$PWD
export COFFER_BUILD=${COFFER_BUILD:-$PWD/${BUILD:-build}}
. tests/integration/lib.sh >/dev/null
. tests/integration/coordinator_common.bash

N_BATCH=${LEDGER_BENCH_N:-7999}
N_ONE=${LEDGER_BENCH_ONE:-1000}
N_MANY=${LEDGER_BENCH_MANY:-4000}
[ -x "$REL" ] || { echo "missing $REL (run make bench)"; exit 1; }

coord_setup >/dev/null
WORKER_MEAS=$(coffer attest measure "$T/app.so")
# One owner's dataset of 8,000 objects: proofs need their digests only.
policy_draft '.owners[0].datasets[0].objects = [range(8000) |
	{key: "o\(.)", digest: ("sha256:" + ("\(.)" | ("0" * (64 - length)) + .))}] |
	.apps[0].reduce = false' | jq -c . >"$T/draft.json"
H=$(new_policy "$T/draft.json") || bail "policy"
approve "$H" a b c && upload "$H" a b c || bail "setting up the policy"
# CPU: the process's time on a CPU, user and system, in ns, from the
# scheduler (/proc/PID/task/*/schedstat; finer than /proc/PID/stat's ticks).
cpu() { cat /proc/"$COORD_PID"/task/*/schedstat | awk '{ns += $1} END {printf "%.0f\n", ns}'; }
run() { # SESSION-FILE BATCH N [relworker opts]: prints "cpu_us wall_rate p50 p99"
	local out c0 c1 f=$1 b=$2 n=$3
	shift 3
	c0=$(cpu)
	# (in a process substitution: a failure goes to stderr too)
	out=$("$REL" prove "$COORD_URL" "$f" --bench "$n" --batch "$b" "$@" 2>&1) ||
		{ echo "prove $*: $out" >&2; bail "prove: $out"; }
	c1=$(cpu)
	grep -q "committed=$n " <<<"$out" ||
		{ echo "not all committed: $out" >&2; bail "not all committed: $out"; }
	awk -v c="$((c1 - c0))" -v n="$n" \
	    -v w="$(sed -n 's/.*proofs_per_s=\([0-9]*\).*/\1/p' <<<"$out")" \
	    -v p50="$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")" \
	    -v p99="$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")" \
	    'BEGIN { printf "%.2f %d %s %s\n", c / 1e3 / n, w, p50, p99 }'
}
for k in 1 2 3 4 5 6 7; do
	J=$(open_job "$H")
	"$REL" release "$COORD_URL" "$J" --measure "$T/app.so" --save-session "$T/s$k" \
		>/dev/null || bail "release"
done
load=$(cut -d' ' -f1-3 /proc/loadavg)
# LEDGER_BENCH_PERF=FILE: perf record the coordinator during the binary
# batches (and FILE.one during the binary proofs one per request).
perf_on() { [ -z "${LEDGER_BENCH_PERF:-}" ] || { perf record -F 10000 \
	${LEDGER_BENCH_PERF_OPTS:--g} -o "$1" -p "$COORD_PID" 2>/dev/null & PERF_PID=$!
	sleep 0.5; }; }
perf_off() { [ -z "${LEDGER_BENCH_PERF:-}" ] || { kill -INT "$PERF_PID"; wait "$PERF_PID"; }; }
perf_on "${LEDGER_BENCH_PERF:-}"
read -r bb_us bb_rate bb_p50 bb_p99 < <(run "$T/s1" 1024 "$N_BATCH" --binary)
perf_off
read -r jb_us jb_rate jb_p50 jb_p99 < <(run "$T/s2" 1024 "$N_BATCH")
perf_on "${LEDGER_BENCH_PERF:-}.one"
read -r bo_us bo_rate bo_p50 bo_p99 < <(run "$T/s3" 1 "$N_ONE" --binary)
perf_off
read -r jo_us jo_rate jo_p50 jo_p99 < <(run "$T/s4" 1 "$N_ONE")
k=5
for c in 4 16 64; do
	read -r "c${c}_us" "c${c}_rate" "c${c}_p50" "c${c}_p99" \
		< <(run "$T/s$k" 1 "$N_MANY" --binary --clients "$c")
	k=$((k + 1))
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "Command: \`make bench B=ledger\` (coffer-coordinator --backend sim on"
echo "127.0.0.1, state on $(df --output=fstype "$T" | tail -n 1); \`${BUILD:-build}/tests/tools/relworker prove\` as the"
echo "worker; $(nproc) cores shared by both; load average before: $load, after: $load_after)."
echo
echo "| proofs | clients | coordinator CPU per proof (goal <= 10 us) | | proofs/s on one core (goal >= 20,000) | | wall proofs/s | request latency p50 / p99 |"
echo "|---|---:|---:|:---:|---:|:---:|---:|---:|"
row() { # WHAT CLIENTS US WALL P50 P99
	awk -v what="$1" -v c="$2" -v us="$3" -v wall="$4" -v p50="$5" -v p99="$6" 'BEGIN {
	rate = 1e6 / us
	printf "| %s | %d | %.1f us | %s | %.0f | %s | %.0f | %.2f / %.2f ms |\n", what, c,
	    us, (us <= 10) ? "met" : "MISSED", rate, (rate >= 20000) ? "met" : "MISSED",
	    wall, p50, p99 }'
}
row "$N_BATCH in binary requests of 1024" 1 "$bb_us" "$bb_rate" "$bb_p50" "$bb_p99"
row "$N_BATCH in JSON requests of 1024" 1 "$jb_us" "$jb_rate" "$jb_p50" "$jb_p99"
row "$N_ONE one per binary request" 1 "$bo_us" "$bo_rate" "$bo_p50" "$bo_p99"
row "$N_ONE one per JSON request" 1 "$jo_us" "$jo_rate" "$jo_p50" "$jo_p99"
for c in 4 16 64; do
	v=c${c}_us r=c${c}_rate p=c${c}_p50 q=c${c}_p99
	row "$N_MANY one per binary request" "$c" "${!v}" "${!r}" "${!p}" "${!q}"
done
