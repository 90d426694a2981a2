#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The per-item steps a confidential job adds in the worker, each alone
# (BENCHMARKS.md, "Worker per-item cost"; issue 13): bench/worker_item
# (bench/worker_item.c) over items the size of a dicom-deid file (31,000
# bytes, WORKER_ITEM_BYTES), 3000 of them: the digest check and open, the
# seal, against one SHA-256 and one AES-256-GCM pass; the app hand-off of
# the fault plugin without parameters (it copies its input: an empty
# app), in this process and in its host process (doc/worker.md 9.5).
# Wall and CPU time per item; the host's CPU is its own. Last, the
# runner's open, the app in its host and the seal, a batch of 64 at a
# time, one exchange at a time against pipelined (doc/worker.md 9.5 HB8),
# with dicom-deid over a DICOM file (WORKER_ITEM_APP, WORKER_ITEM_INPUT)
# so that the host has the app's real work to overlap.
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
WORKER_ITEM_APP=${WORKER_ITEM_APP:-$COFFER_BUILD/apps/dicom-deid.so} \
WORKER_ITEM_INPUT=${WORKER_ITEM_INPUT:-tests/vectors/dicom/CT_small.dcm} \
"$B" "$COFFER_BUILD/apps/fault.so" "$N" 3000 || { echo "bench/worker_item failed"; exit 1; }
echo '```'
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
