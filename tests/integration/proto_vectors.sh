#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The vectors of tests/vectors/proto/ are exactly what the independent
# generator (gen.py, Debian's python3 + python3-cryptography, no Coffer
# code) makes: regenerate them into a temp dir and compare byte for byte,
# so a vector edited by hand, or a generator changed without its vectors,
# fails here. The C side is checked against the same files by
# tests/unit/test_proto_*.c.
# timeout: 120
. "$(dirname "$0")/lib.sh"

plan 7
PY=/usr/bin/python3
GEN=$COFFER_SRC/tests/vectors/proto/gen.py
check "the generator runs (its HPKE first passes RFC 9180's vectors)" \
	"$PY" "$GEN" --out "$T"
for f in policy keyrelease standby auditlog itemproof receipt; do
	check "$f.json is what gen.py makes" \
		cmp "$COFFER_SRC/tests/vectors/proto/$f.json" "$T/$f.json"
done
