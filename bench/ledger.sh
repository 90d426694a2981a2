#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Item proofs at a real coffer-coordinator on loopback (BENCHMARKS.md,
# "Coordinator ledger"; doc/format/item-proof.md section 10), everything a
# proof costs there: HTTP, the batch's JSON, IP1 to IP17, the commit rule,
# its audit log entry and ledger row, the answer, and the durable commit
# of each request (a disk flush). tests/tools/relworker sends them in one
# session of one job whose policy has 8,002 items (1 MiB of policy):
#   - batched: 1024 proofs per request;
#   - one per request, as coffer-worker sends them today.
# "CPU per proof" is the coordinator process's user + system time over the
# proofs (from /proc/PID/stat); "proofs/s on one core" is its inverse; the
# wall rate also waits for the disk. Goal (issue 13): <= 10 us of CPU per
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
[ -x "$REL" ] || { echo "missing $REL (run make bench)"; exit 1; }

coord_setup >/dev/null
WORKER_MEAS=$(coffer attest measure "$T/app.so")
# One owner's dataset of 8,000 objects: proofs need their digests only.
policy_draft '.owners[0].datasets[0].objects = [range(8000) |
	{key: "o\(.)", digest: ("sha256:" + ("\(.)" | ("0" * (64 - length)) + .))}] |
	.apps[0].reduce = false' | jq -c . >"$T/draft.json"
H=$(new_policy "$T/draft.json") || bail "policy"
approve "$H" a b c && upload "$H" a b c || bail "setting up the policy"
cpu() { awk '{print $14 + $15}' "/proc/$COORD_PID/stat"; }
run() { # JOB-SESSION-FILE BATCH N: prints "cpu_us wall_rate"
	local out c0 c1
	c0=$(cpu)
	out=$("$REL" prove "$COORD_URL" "$1" --bench "$3" --batch "$2") || bail "prove: $out"
	c1=$(cpu)
	grep -q "committed=$3 " <<<"$out" || bail "not all committed: $out"
	awk -v c="$((c1 - c0))" -v tck="$(getconf CLK_TCK)" -v n="$3" \
	    -v w="$(sed -n 's/.*proofs_per_s=\([0-9]*\).*/\1/p' <<<"$out")" \
	    'BEGIN { printf "%.2f %d\n", c * 1e6 / tck / n, w }'
}
J1=$(open_job "$H")
J2=$(open_job "$H")
"$REL" release "$COORD_URL" "$J1" --measure "$T/app.so" --save-session "$T/s1" >/dev/null ||
	bail "release"
"$REL" release "$COORD_URL" "$J2" --measure "$T/app.so" --save-session "$T/s2" >/dev/null ||
	bail "release"
load=$(cut -d' ' -f1-3 /proc/loadavg)
read -r b_us b_rate < <(run "$T/s1" 1024 "$N_BATCH")
read -r o_us o_rate < <(run "$T/s2" 1 "$N_ONE")

echo "Command: \`make bench B=ledger\` (coffer-coordinator --backend sim on"
echo "127.0.0.1, state on $(df --output=fstype "$T" | tail -n 1); \`$BUILD/tests/tools/relworker prove\` as the"
echo "worker; $(nproc) cores shared by both; load average before: $load)."
echo
echo "| proofs | coordinator CPU per proof (goal <= 10 us) | | proofs/s on one core (goal >= 20,000) | | wall proofs/s |"
echo "|---|---:|:---:|---:|:---:|---:|"
awk -v bu="$b_us" -v br="$b_rate" -v ou="$o_us" -v orate="$o_rate" -v nb="$N_BATCH" \
    -v no="$N_ONE" 'BEGIN {
	row(nb " in requests of 1024", bu, br)
	row(no " one per request", ou, orate)
}
function row(what, us, wall) {
	rate = 1e6 / us
	printf "| %s | %.1f us | %s | %.0f | %s | %.0f |\n", what, us,
	    (us <= 10) ? "met" : "MISSED", rate, (rate >= 20000) ? "met" : "MISSED", wall
}'
