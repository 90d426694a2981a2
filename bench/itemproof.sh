#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Item-proof verification on one core (BENCHMARKS.md, "Item proofs";
# doc/format/item-proof.md section 10): bench/itemproof (bench/itemproof.c)
# on CPU 0, CPU time. Goal (issue 13): >= 20,000 proofs/s on one core,
# <= 10 us of coordinator CPU per proof; here only src/proto's share of it
# (no storage, no HTTP), against one bare HMAC-SHA-256 as the floor.
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/itemproof.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
B=$COFFER_BUILD/bench/itemproof
GOAL=20000

[ -x "$B" ] || { echo "missing $B (run make bench)"; exit 1; }
command -v taskset >/dev/null || { echo "missing taskset"; exit 1; }
load=$(cut -d' ' -f1-3 /proc/loadavg)
res=$(taskset -c 0 "$B") || { echo "bench/itemproof failed"; exit 1; }
echo "Command: \`make bench B=itemproof\` (\`taskset -c 0 $BUILD/bench/itemproof\`),"
echo "200,000 proofs per row, CPU time; load average before: $load."
echo
echo "| what, per proof | us | proofs/s on one core | vs goal $GOAL/s |"
echo "|---|---|---|---|"
echo "$res" | while read -r name us rate; do
	case $name in
	verify) what="parse (IP1-IP7) + HMAC check (IP8)" ;;
	commit) what="the same + commit rule + log entry + leaf hash + log root" ;;
	hmac) what="floor: one HMAC-SHA-256 over 173 bytes" ;;
	*) what=$name ;;
	esac
	ratio=$(awk -v r="$rate" -v g="$GOAL" 'BEGIN { printf "%.1fx", r / g }')
	echo "| $what | $us | $rate | $ratio |"
done
