#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The coordinator's audit log (BENCHMARKS.md, "Coordinator audit log";
# doc/coordinator.md section 9.2): appends per second, one event per
# durable commit (owners' writes), per lazy commit (releases, refusals) and
# in bulk (the CPU cost of an append: entry, leaf, subtrees); then the time
# of a root, an inclusion proof, a consistency proof and a signed head at
# 1e5 and 1e6 entries. On the build directory's file system (real fsyncs).
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/coord_audit.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
PROG=$COFFER_BUILD/bench/coord_audit
SIZES=${AUDIT_BENCH_SIZES:-100000 1000000}
[ -x "$PROG" ] || { echo "missing $PROG (run make bench)"; exit 1; }

mkdir -p "$COFFER_BUILD/bench-tmp"
D=$(mktemp -d "$COFFER_BUILD/bench-tmp/audit.XXXXXX")
trap 'rm -rf "$D"' EXIT
fs=$(df -PT "$D" | awk 'NR == 2 { print $2 }')
out=$("$PROG" "$D" 200 2000 $SIZES) || { echo "bench/coord_audit failed"; exit 1; }
echo "Command: \`make bench B=coord_audit\`; entries of 200 bytes; state on $fs;"
echo "state size at the end: $(du -sh "$D" | cut -f1)."
echo
echo "| appends of one event | appends/s |"
echo "|---|---|"
echo "$out" | awk '$1 == "durable" { print "| one per durable commit (owners: approval, upload) | " $2 " |" }
	$1 == "lazy" { print "| one per lazy commit (release, refusal) | " $2 " |" }
	$1 == "bulk" { print "| in commits of 10,000, growing to " $2 " (CPU cost of an append) | " $3 " |" }'
echo
echo "| entries | root (us) | inclusion proof (us) | consistency proof (us) | signed head (us) |"
echo "|---|---|---|---|---|"
echo "$out" | awk '$1 == "root" { r[$2] = $3; o[++n] = $2 } $1 == "inclusion" { i[$2] = $3 }
	$1 == "consistency" { c[$2] = $3 } $1 == "head" { h[$2] = $3 }
	END { for (k = 1; k <= n; k++) { s = o[k]; print "| " s " | " r[s] " | " i[s] " | " c[s] " | " h[s] " |" } }'
