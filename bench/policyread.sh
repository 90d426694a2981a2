#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CPU of reading an approved policy by its number of objects
# (BENCHMARKS.md, "The policy's size"): the one-pass reader of
# doc/format/policy.md 4.1 (a worker's start, a confidential submission at
# the manager) against the jansson tree reader it replaced and the full
# parse, medians of 15 reads each in one process; the policy is the vector
# policy with N objects in the dataset dicom-deid reads.
# Alone: BUILD=build bash bench/policyread.sh
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
make -s "$BUILD/bench/policy_read" >/dev/null
echo "### Reading an approved policy (CPU, medians of 15)"
echo
"$BUILD/bench/policy_read" tests/vectors/proto/policy.json \
    ${POLICYREAD_N:-300 3000 9992}
