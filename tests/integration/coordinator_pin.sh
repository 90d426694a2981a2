#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What `coffer coordinator verify --expect` pins (doc/protocol/key-release.md
# rule ID4): the measurement of doc/format/policy.md section 3.3, the same
# as for workers. For TDX that is MRTD || RTMR0..3 (480 hex digits): MRTD
# alone measures only the TD's firmware, so a pin on it would accept any
# kernel and program that firmware boots as "the coordinator", and owners
# would wrap their keys to whoever runs one. The sim coordinator here has a
# 96-digit measurement; a 480-digit --expect must be read as a TDX
# measurement (and refused as another one), not as a bad command line.
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"

plan 3

start_coordinator
tdx=$(printf 'ab%.0s' $(seq 240))
out=$(coffer coordinator verify "$COORD_URL" --expect "$tdx" \
	--trust-sim-key "$COORD_SIM_KEY" 2>&1)
eq "a TDX measurement (MRTD and the four RTMRs) is a valid --expect (exit 7, not 2)" \
	7 $?
check "compared with the coordinator's own, and refused" \
	grep -q "not the expected $tdx" <<<"$out"
check "its help names the TDX measurement" \
	bash -c 'coffer coordinator verify --help | grep -q RTMR0'

