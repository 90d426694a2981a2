#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Key release against a real coffer-coordinator on loopback, with INSECURE
# SIMULATION evidence (BENCHMARKS.md, "Coordinator key release"), all in one
# run: a policy of three owners approved, their keys uploaded, one job,
# then tests/tools/relworker as the workers:
#   - verification alone: sim evidence verified in a loop (the coordinator's
#     rule KR8 without HTTP);
#   - round trip: 1000 releases one after another; "exchange" is what the
#     coordinator costs a worker (the nonce request plus the release
#     request, the answer opened and checked), "total" adds the worker's
#     own key and sim evidence making. Goal: exchange p50 <= 2 ms, p99 <= 10 ms;
#   - 500 workers at once: wall time until all 500 have their keys, each
#     with its own nonce, evidence and answer. Goal: <= 5 s.
# Client and coordinator share the machine's cores.
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/coordinator.sh
set -u
cd "$(dirname "$0")/.."
export COFFER_SRC=$PWD
export COFFER_BUILD=${COFFER_BUILD:-$PWD/${BUILD:-build}}
. tests/integration/lib.sh >/dev/null
. tests/integration/coordinator_common.bash

N_SEQ=${COORD_BENCH_N:-1000}
N_CONC=${COORD_BENCH_CONC:-500}
[ -x "$REL" ] || { echo "missing $REL (run make bench)"; exit 1; }

coord_setup >/dev/null
# Workers measure one small file, so that making evidence is cheap next to
# what is measured (the coordinator's side).
WORKER_MEAS=$(coffer attest measure "$T/app.so")
policy_draft >"$T/draft.json"
H=$(new_policy "$T/draft.json")
approve "$H" a b c && upload "$H" a b c || bail "setting up the policy"
J=$(open_job "$H")
grep -qE '^[0-9a-f]{32}$' <<<"$J" || bail "no job"

load=$(cut -d' ' -f1-3 /proc/loadavg)
ver=$("$REL" verify-bench 2000 --measure "$T/app.so") || bail "verify-bench"
cpu() { awk '{print $14 + $15}' "/proc/$COORD_PID/stat"; }
c0=$(cpu)
seq=$("$REL" release "$COORD_URL" "$J" --measure "$T/app.so" -n "$N_SEQ" -c 1 --latency) ||
	bail "sequential releases"
c1=$(cpu)
cpu_us=$(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) / N_SEQ ))
# All from one address, as workers behind one NAT: the coordinator's
# per-address cap is its overall one (doc/coordinator.md section 8).
conc=$("$REL" release "$COORD_URL" "$J" --measure "$T/app.so" -n "$N_CONC" -c "$N_CONC" --latency) ||
	bail "concurrent releases"

field() { sed -n "s/.*\<$2=\([0-9.]*\).*/\1/p" <<<"$1" | head -n 1; }
ex=$(grep '^exchange' <<<"$seq")
tot=$(grep '^total' <<<"$seq")
wall=$(grep '^wall' <<<"$conc")
cex=$(grep '^exchange' <<<"$conc")

echo "Command: \`make bench B=coordinator\` (coffer-coordinator --backend sim on"
echo "127.0.0.1, \`$BUILD/tests/tools/relworker\` as the workers; $(nproc) cores shared"
echo "by both; load average $load)."
echo
echo "| measure | figure | goal | ratio | |"
echo "|---|---:|---:|---:|:---:|"
awk -v p50="$(field "$ex" p50_ms)" -v p99="$(field "$ex" p99_ms)" \
    -v t50="$(field "$tot" p50_ms)" -v t99="$(field "$tot" p99_ms)" \
    -v wall="$(field "$wall" ms)" -v c50="$(field "$cex" p50_ms)" -v c99="$(field "$cex" p99_ms)" \
    -v ver="$(field "$ver" us_per_verification)" -v nseq="$N_SEQ" -v nconc="$N_CONC" \
    -v cpu="$cpu_us" 'BEGIN {
	row("release round trip p50 (nonce + release, answer opened), " nseq " in a row", p50, "ms", 2)
	row("release round trip p99", p99, "ms", 10)
	printf "| same with the worker making its key and sim evidence: p50 / p99 | %.2f / %.2f ms | | | |\n", t50, t99
	row(nconc " workers attesting at once: wall time until all have keys", wall / 1000, "s", 5)
	printf "| each of those: round trip p50 / p99 | %.1f / %.1f ms | | | |\n", c50, c99
	printf "| sim evidence verification alone (rule KR8) | %.0f us | | | |\n", ver
	printf "| coordinator CPU per release (nonce + release), of which the verification above | %d us | | | |\n", cpu
}
function row(name, v, unit, goal) {
	printf "| %s | %.2f %s | <= %s %s | %.2f | %s |\n", name, v, unit, goal, unit,
	    v / goal, v <= goal ? "met" : "MISSED"
}'
