#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The vectors of tests/vectors/state/ are exactly what the independent
# generator (gen.py: Debian's python3 + python3-cryptography, and the HPKE
# and JCS of tests/vectors/proto/gen.py; no Coffer code) makes: regenerate
# them into a temp dir and compare byte for byte, so a vector edited by
# hand, or a generator changed without its vectors, fails here. The C side
# is checked against the same files by tests/unit/test_crypto_pagecrypt.c,
# test_crypto_shamir.c, test_tee_sealkey.c, test_coordinator_sealstore.c,
# test_coordinator_statekey.c and test_proto_recovery.c.
# timeout: 120
. "$(dirname "$0")/lib.sh"

plan 4
PY=/usr/bin/python3
GEN=$COFFER_SRC/tests/vectors/state/gen.py
check "the generator runs" "$PY" "$GEN" --out "$T"
for f in sealed-state shamir recovery; do
	check "$f.json is what gen.py makes" \
		cmp "$COFFER_SRC/tests/vectors/state/$f.json" "$T/$f.json"
done
