#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# coffer-coordinator's identity and its verification: the daemon makes its
# keys once, binds them in its evidence, locks its data directory, stops
# cleanly; `coffer coordinator verify` checks the evidence, pins the keys,
# and refuses a coordinator whose keys changed. Real processes throughout.
# timeout: 120
. "$(dirname "$0")/lib.sh"

plan 31

export COFFER_PIN_FILE=$T/pins.json
start_coordinator

id1=$(curl -sf "$COORD_URL/v1/identity")
check "GET /v1/identity gives an identity line" \
	bash -c "jq -e '.identity | startswith(\"coffer-id1:\")' <<<'$id1'"
eq "it says INSECURE SIMULATION on the sim backend" \
	"INSECURE SIMULATION: no TEE protects this code or data" \
	"$(jq -r .insecure <<<"$id1")"
check "the log carries the INSECURE SIMULATION banner" \
	grep -q '\*\*\* INSECURE SIMULATION' "$COORD_LOG"
check "the log says where it listens, as a structured line" \
	grep -q "coordinator started url=$COORD_URL" "$COORD_LOG"
eq "state.db is readable by its owner only" 600 \
	"$(stat -c %a "$COORD_DIR/state.db")"
eq "an unknown route is a JSON 404" not_found \
	"$(curl -s "$COORD_URL/v1/nothing" | jq -r .error.code)"
eq "POST on a GET route is a JSON 405" method_not_allowed \
	"$(curl -s -X POST "$COORD_URL/v1/identity" | jq -r .error.code)"

# A second instance on the same data directory is refused, naming the first.
out=$(coffer-coordinator serve --data "$COORD_DIR" --backend sim \
	--listen 127.0.0.1:0 2>&1)
eq "a second instance on the same data directory exits 3" 3 $?
check "its message names the running one" \
	grep -q "in use by another coffer-coordinator (pid $COORD_PID" <<<"$out"
check_fails "serve without --backend is a usage error" \
	coffer-coordinator serve --data "$T/other"
mkdir -m 755 "$T/open"
out=$(coffer-coordinator serve --data "$T/open" --backend sim --listen 127.0.0.1:0 2>&1)
check "a data directory others can read is refused" grep -q "chmod 700" <<<"$out"

# Verification.
out=$(coffer coordinator verify "$COORD_URL" --expect "$COORD_MEASUREMENT" 2>&1)
eq "sim evidence from an untrusted sim key is rejected (exit 7)" 7 $?
check "and the reason is named" grep -q "policy.sim_key" <<<"$out"
wrong=$( [ "${COORD_MEASUREMENT:0:1}" = 0 ] && echo 1 || echo 0)${COORD_MEASUREMENT:1}
out=$(coffer coordinator verify "$COORD_URL" --expect "$wrong" \
	--trust-sim-key "$COORD_SIM_KEY" 2>&1)
eq "another measurement is rejected (exit 7)" 7 $?
check "naming both measurements" grep -q "not the expected $wrong" <<<"$out"
check "verify with the sim key and the measurement pins the coordinator" \
	coffer coordinator verify "$COORD_URL" --expect "$COORD_MEASUREMENT" \
	--trust-sim-key "$COORD_SIM_KEY"
eq "the pin holds the coordinator's identity" "$(jq -r .identity <<<"$id1")" \
	"$(jq -r --arg u "$COORD_URL" '.coordinators[$u].identity' "$COFFER_PIN_FILE")"
eq "the pin file is private" 600 "$(stat -c %a "$COFFER_PIN_FILE")"

# A relay that presents its own keys with this coordinator's evidence: the
# evidence does not bind those keys.
mkdir -p "$T/relay/v1"
curl -sf "$COORD_URL/v1/evidence" >"$T/relay/v1/evidence"
coffer id new --name relay "$T/relay.id" >/dev/null
jq --arg l "$(coffer id show "$T/relay.id")" \
	'.identity = $l' <<<"$id1" >"$T/relay/v1/identity"
rport=$(random_port)
(cd "$T/relay" && exec /usr/bin/python3 -m http.server "$rport" --bind 127.0.0.1) \
	>/dev/null 2>&1 &
track $!
wait_until 10 curl -sf "http://127.0.0.1:$rport/v1/identity"
out=$(COFFER_PIN_FILE=$T/relay-pins.json coffer coordinator verify \
	"http://127.0.0.1:$rport" --expect "$COORD_MEASUREMENT" \
	--trust-sim-key "$COORD_SIM_KEY" 2>&1)
eq "a relay with another coordinator's evidence is rejected (exit 7)" 7 $?
check "because the report data does not bind its keys" \
	grep -q "report_data.mismatch" <<<"$out"

# Restart: same keys.
stop_coordinator TERM
eq "SIGTERM stops it with status 0" 0 "$COORD_RC"
start_coordinator_again
eq "after a restart the identity is the same" "$(jq -r .identity <<<"$id1")" \
	"$(curl -sf "$COORD_URL/v1/identity" | jq -r .identity)"
check "verifying it again keeps the pin" \
	coffer coordinator verify "$COORD_URL" --expect "$COORD_MEASUREMENT" \
	--trust-sim-key "$COORD_SIM_KEY"
stop_coordinator INT
eq "SIGINT stops it with status 0" 0 "$COORD_RC"

# An OpenSSL configuration in its environment (doc/coordinator.md section
# 5): whoever starts the coordinator is untrusted, and OpenSSL would load
# the provider modules the file lists and apply its default properties.
# This one asks for FIPS implementations, which no loaded provider has:
# read, it makes every fetch fail (its evidence could not be made). The
# coordinator does not read it.
printf '%s\n' 'openssl_conf = openssl_init' '[openssl_init]' \
	'alg_section = evp_props' 'providers = provider_sect' '[evp_props]' \
	'default_properties = "fips=yes"' '[provider_sect]' \
	'default = default_sect' 'hostile = hostile_sect' '[default_sect]' \
	'activate = 1' '[hostile_sect]' "module = $T/hostile-provider.so" \
	'activate = 1' >"$T/hostile.cnf"
check "the configuration is one OpenSSL reads (coffer, which does, fails with it)" \
	bash -c '! OPENSSL_CONF="$1" coffer attest measure "$1" >/dev/null 2>&1' _ "$T/hostile.cnf"
OPENSSL_CONF=$T/hostile.cnf start_coordinator_again
eq "with OPENSSL_CONF set in its environment it starts" 0 $?
check "and its evidence verifies" \
	coffer coordinator verify "$COORD_URL" --expect "$COORD_MEASUREMENT" \
	--trust-sim-key "$COORD_SIM_KEY"
stop_coordinator TERM
eq "it stops with status 0" 0 "$COORD_RC"

# Another coordinator (another data directory) at the same URL.
COORD_DIR=$T/coord2
start_coordinator_again
out=$(coffer coordinator verify "$COORD_URL" --expect "$COORD_MEASUREMENT" \
	--trust-sim-key "$COORD_SIM_KEY" 2>&1)
eq "a coordinator whose keys changed is refused with exit 9" 9 $?
check "the message names both fingerprints" \
	grep -q "now presents" <<<"$out"
check "--replace pins the new keys on purpose" \
	coffer coordinator verify "$COORD_URL" --expect "$COORD_MEASUREMENT" \
	--trust-sim-key "$COORD_SIM_KEY" --replace
