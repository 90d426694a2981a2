#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The per-item steps a confidential job adds in the worker, each alone
# (BENCHMARKS.md, "Worker per-item cost"; issue 13): bench/worker_item
# (bench/worker_item.c) over items the size of a dicom-deid file (31,000
# bytes, WORKER_ITEM_BYTES), 3000 of them: the digest check and open, the
# seal, against one SHA-256 and one AES-256-GCM pass; the app hand-off of
# the fault plugin without parameters (it copies its input: an empty
# app), in this process and in its host process (doc/worker.md 9.5).
# Wall and CPU time per item; the host's CPU is its own.
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/worker_item.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
COFFER_BUILD=${COFFER_BUILD:-$PWD/$BUILD}
B=$COFFER_BUILD/bench/worker_item
N=${WORKER_ITEM_BYTES:-31000}

[ -x "$B" ] || { echo "missing $B (run make bench)"; exit 1; }
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "Command: \`make bench B=worker_item\` (\`$BUILD/bench/worker_item $BUILD/apps/fault.so $N 3000\`),"
echo "load average before: $load."
echo
echo '```'
"$B" "$COFFER_BUILD/apps/fault.so" "$N" 3000 || { echo "bench/worker_item failed"; exit 1; }
echo '```'
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
