#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Standby and bind against a cold key release at a real coffer-coordinator
# on loopback, INSECURE SIMULATION evidence (BENCHMARKS.md, "Coordinator
# key release", "Standby and bind"; doc/protocol/key-release.md 6.7). One
# run, rounds alternated: N cold releases in a row (nonce + release), then
# N standby sessions in a row and their N binds, tests/tools/relworker as
# the workers. Measured: the coordinator's CPU per operation (its
# /proc/PID/stat), and what a worker waits for at its job's start: the
# cold exchange (nonce + release requests, the answer opened) against the
# bind alone. The coordinator's CPU per standby + bind against a cold
# release is the cost of the warm start; the bind against the cold
# exchange is its gain.
# Run by `make bench B=standby` or alone: BUILD=build bash bench/standby.sh
set -u
cd "$(dirname "$0")/.."
export COFFER_SRC=$PWD
export COFFER_BUILD=${COFFER_BUILD:-$PWD/${BUILD:-build}}
. tests/integration/lib.sh >/dev/null
. tests/integration/coordinator_common.bash

N=${STANDBY_BENCH_N:-300}
ROUNDS=${STANDBY_BENCH_ROUNDS:-3}
[ -x "$REL" ] || { echo "missing $REL (run make bench)"; exit 1; }

coord_setup --standby-max 4096 >/dev/null
WORKER_MEAS=$(coffer attest measure "$T/app.so")
policy_draft >"$T/draft.json"
H=$(new_policy "$T/draft.json")
approve "$H" a b c && upload "$H" a b c || bail "setting up the policy"
J=$(open_job "$H")
grep -qE '^[0-9a-f]{32}$' <<<"$J" || bail "no job"

load0=$(cut -d' ' -f1-3 /proc/loadavg)
cpu() { awk '{print $14 + $15}' "/proc/$COORD_PID/stat"; }
field() { sed -n "s/.*\<$2=\([0-9.]*\).*/\1/p" <<<"$1" | head -n 1; }
: >"$T/rows"
for r in $(seq "$ROUNDS"); do
	c0=$(cpu)
	cold=$("$REL" release "$COORD_URL" "$J" --measure "$T/app.so" -n "$N" -c 1 --latency) ||
		bail "cold releases"
	c1=$(cpu)
	cold_us=$(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) / N ))
	warm=$("$REL" release "$COORD_URL" "$J" --measure "$T/app.so" -n "$N" --standby \
		--phases "$COORD_PID") || bail "standby and bind"
	ex=$(grep '^exchange' <<<"$cold")
	bd=$(grep '^bind' <<<"$warm")
	cw=$(grep '^cpu' <<<"$warm")
	echo "$r $cold_us $(field "$cw" standby_us) $(field "$cw" bind_us) $(field "$ex" p50_ms) $(field "$ex" p99_ms) $(field "$bd" p50_ms) $(field "$bd" p99_ms)" >>"$T/rows"
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

echo "Command: \`make bench B=standby\` (coffer-coordinator --backend sim on 127.0.0.1,"
echo "\`${BUILD:-build}/tests/tools/relworker\` as the workers, $N of each per round, $ROUNDS rounds"
echo "alternated; $(nproc) cores shared by both; load average $load0 at the start, $load1 at the end)."
echo
echo "| round | coordinator CPU per cold release (nonce + release) | per standby (nonce + standby) | per bind | standby + bind / cold | worker's wait, cold exchange p50 / p99 | bind p50 / p99 | bind / cold exchange (p50) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
awk '{
	printf "| %d | %d us | %d us | %d us | %.2f | %.2f / %.2f ms | %.2f / %.2f ms | %.2f |\n",
	    $1, $2, $3, $4, ($3 + $4) / $2, $5, $6, $7, $8, $7 / $5
}' "$T/rows"
awk '{ c += $2; s += $3; b += $4; e += $5; w += $7; n++ } END {
	printf "| all | %d us | %d us | %d us | %.2f | %.2f ms | %.2f ms | %.2f |\n",
	    c / n, s / n, b / n, (s + b) / c, e / n, w / n, w / e
}' "$T/rows"
