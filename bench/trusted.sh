#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The trusted code's size (BENCHMARKS.md, "Trusted code size";
# doc/threat-model.md, "Trusted code"): for coffer-worker and
# coffer-coordinator, the source lines of what their links pulled in, by
# folder, and the shared libraries they load (scripts/trusted-size). Not a
# speed: a figure to watch, so that the trusted binaries stay small enough
# for an auditor to read in a day.
# Run by `make bench` (bench/run) or alone: BUILD=build bash bench/trusted.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ -x "$BUILD/bin/coffer-worker" ] || { echo "missing $BUILD/bin/coffer-worker (run make bench)"; exit 1; }
scripts/trusted-size --build "$BUILD" coffer-worker coffer-coordinator
