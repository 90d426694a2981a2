#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The timeline of a job of each kind, from submission to the manager's
# answer (BENCHMARKS.md, "The critical path of a confidential job"):
# runs bench/e2e.sh (its E2E_BENCH_* settings apply) with this script as
# its hook, which keeps each job's replica log and the daemons' logs, then
# prints per app and size the median time of each step from the job's
# start (the manager's `running` line, elapsed_s's origin), plaintext
# against confidential, from the millisecond times of the manager's, the
# coordinator's and the workers' own lines (no tracing build needed), and
# the end of each job: its last batch (with a reduce stage: the
# coordinator's close; for a plaintext job still its last map batch, so
# its end includes its reduce) to the manager's completion. The reduce
# replica's rows are its own lines: a plaintext one's wait for the drain
# (--after-drain), a confidential one's for the map results.
#   BUILD=build E2E_BENCH_TICK_MS=20 E2E_BENCH_APPS="pooled-stats dicom-deid" \
#     E2E_BENCH_DICOM=300 bash bench/e2e_timeline.sh
# E2E_TIMELINE_KEEP=DIR keeps the logs there (else they are removed).
set -u
cd "$(dirname "$0")/.."
if [ "${1:-}" = start ] || [ "${1:-}" = end ]; then
	# The hook (bench/e2e.sh): after each job, its replicas' log, and the
	# daemons' logs as they are so far.
	[ "$1" = end ] || exit 0
	d=$E2E_TIMELINE_DIR
	n=$(find "$d" -name 'job-*.log' | wc -l)
	cp "$E2E_JOB_LOG" "$d/job-$(printf %03d "$n")-$2.log"
	cp "$(dirname "$(dirname "$E2E_JOB_LOG")")"/*.log "$d/" 2>/dev/null
	exit 0
fi
d=${E2E_TIMELINE_KEEP:-$(mktemp -d)}
mkdir -p "$d"
[ -n "${E2E_TIMELINE_KEEP:-}" ] || trap 'rm -rf "$d"' EXIT
export E2E_TIMELINE_DIR=$d E2E_BENCH_HOOK=$PWD/bench/e2e_timeline.sh
export E2E_BENCH_BREAKDOWN=1 # the workers' "batch done" lines
bash bench/e2e.sh || exit 1
echo
python3 bench/e2e_timeline.py "$d"
