#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer` does not link libcurl: only `coffer job` loads it, at its first
# request (src/cli/curl_shim.c), so that `coffer seal` and every other
# command start without libcurl's 28 libraries (BENCHMARKS.md, "Sealed
# format throughput": the 8 MiB goal of sealing a 1 GiB file).
# timeout: 60
. "$(dirname "$0")/lib.sh"
plan 5

readelf -d "$BIN/coffer" >"$T/dyn" 2>&1
ok $? "readelf reads coffer"
grep -q 'NEEDED.*libcurl' "$T/dyn"
eq "coffer does not link libcurl" 1 $?

# The dynamic loader says which objects it loads (LD_DEBUG=libs).
LD_DEBUG=libs coffer version >/dev/null 2>"$T/version.ld"
grep -q 'libcurl\.so' "$T/version.ld"
eq "coffer version does not load libcurl" 1 $?

port=$(random_port) || bail "no free port"
LD_DEBUG=libs coffer job list --url "http://127.0.0.1:$port" >/dev/null 2>"$T/job.ld"
eq "coffer job against a closed port exits 8 (it made the request)" 8 $?
grep -q 'calling init: .*libcurl\.so\.4' "$T/job.ld"
ok $? "coffer job loads and initialises libcurl"
