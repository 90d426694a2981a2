#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A hostile cloud against the worker of a confidential job (doc/worker.md
# 9): a tampered sealed input and an input replaced by an older sealed
# version are refused, named and never retried; a worker whose
# measurement the policy does not approve gets no key; a worker pointed at
# a coordinator with another measurement, or at another coordinator that
# runs the approved code, refuses it; a runner killed with a batch of
# proofs in flight has every item of the batch failed and run again, the
# coordinator counting the new proofs as duplicates. Against
# tests/tools/fakecoord (behind tests/tools/faultproxy for the kill) and a
# real redis-server.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_confidential.bash"
. "$(dirname "$0")/e2e_common.bash"
plan 26

start_redis
cw_world
cw_measured "$T/w/worker.json" "$COORD_MEAS"
WMEAS=$(coffer attest measure "$BIN/coffer-worker" "$T/w/worker.json")
dead() { "$QCTL" dead "$REDIS_URL" "$1" | grep -F "$2" | cut -f2-; }
# An older version of a/2, sealed before the one the policy pins.
printf 'id,radius\n3,10.0\n' > "$T/plain/a2-old"
coffer seal --key "$T/w/a.key" "$T/plain/a2-old" "$T/a2-old.sealed" >/dev/null ||
	bail "coffer seal"
cw_policy "$T/w/policy.json" "$WMEAS"
cw_start_coord "$T/w/policy.json"

# 1. Inputs: one byte of a/1 flipped; a/2 rolled back to its older version.
cp "$T/in/a/1.sealed" "$T/a1.orig"
flip "$T/in/a/1.sealed" 120
cp "$T/a2-old.sealed" "$T/in/a/2.sealed"
check "load q1" "$QCTL" load "$REDIS_URL" q1 --max-attempts 3 a/1.sealed a/2.sealed b/1.sealed
cw_worker q1 "$T/w/worker.json"
eq "the worker ends" 0 $?
eq "the two are dead, the untouched one done" \
	"total=3 done=1 failed=2 in_flight=0 queued=0" "$("$QCTL" stats "$REDIS_URL" q1)"
d1=$(dead q1 a/1.sealed)
d2=$(dead q1 a/2.sealed)
check "the tampered input is named: $d1" \
	grep -q "object 'a/1.sealed' is sha256:.*not the sha256:.* the policy pins: tampered" <<< "$d1"
check "the rolled-back input is named: $d2" \
	grep -q "object 'a/2.sealed' is sha256:$(sha "$T/a2-old.sealed"), not the" <<< "$d2"
eq "neither was retried (attempts)" "1 1" \
	"$(cut -f1 <<< "$d1") $(cut -f1 <<< "$d2")"
eq "a proof for each refused input (input refused), one for the good one" 3 "$(count proofs)"
eq "nothing stored for them" 0 "$(find "$T/out/q1/a" -type f 2>/dev/null | wc -l)"
cp "$T/a1.orig" "$T/in/a/1.sealed"

# 2. A worker the policy does not approve: another measured configuration
# (any byte of it) is another measurement.
jq -c . "$T/w/worker.json" > "$T/w/worker-other.json"
check "load q2" "$QCTL" load "$REDIS_URL" q2 a/1.sealed
cw_worker q2 "$T/w/worker-other.json"
eq "the unapproved worker exits 3 (refused for good)" 3 $?
check "it says the coordinator refused its measurement" \
	grep -q "coffer-worker: coordinator: refused for good: measurement.unapproved" "$T/q2.log"
eq "it took no item" "total=1 done=0 failed=0 in_flight=0 queued=1" \
	"$("$QCTL" stats "$REDIS_URL" q2)"

# 3. A worker pointed at a coordinator with another measurement: its
# measured configuration pins another coordinator build. The policy
# approves that worker, so only the worker's own check can refuse.
echo "coordinator build 2" > "$T/w/coordinator2.bin"
cw_measured "$T/w/worker-b2.json" "$(coffer attest measure "$T/w/coordinator2.bin")"
WMEAS2=$(coffer attest measure "$BIN/coffer-worker" "$T/w/worker-b2.json")
cw_policy "$T/w/policy2.json" "$WMEAS2"
cw_start_coord "$T/w/policy2.json"
cw_worker q2 "$T/w/worker-b2.json"
eq "the worker refuses the coordinator (exit 3)" 3 $?
check "it says why (CA5: the measurement)" \
	grep -q "coffer-worker: coordinator: .*CA5: the coordinator's measurement is $COORD_MEAS" "$T/q2.log"
# Its one request, the nonce, carries only the job id (key-release.md N2).
eq "it sent no evidence (only the nonce request)" "1 0" "$(count nonces) $(count releases)"

# 4. Another coordinator running the approved code (same measurement,
# other keys) that an operator points the worker at: the policy names the
# one its owners chose (W5).
coffer id new --name coord "$T/w/coord-b.id" > /dev/null
cw_start_coord "$T/w/policy.json" --identity "$T/w/coord-b.id"
cw_worker q2 "$T/w/worker.json"
eq "the worker refuses the other coordinator (exit 3)" 3 $?
check "it says the policy is for another coordinator" \
	grep -q "W5: the policy is for another coordinator" "$T/q2.log"

# 5. The runner killed with a batch in flight (doc/worker.md 9.4): the
# answer to its first proof request (both items) is held, so the proofs
# are committed and the items not acknowledged. Its supervisor fails both
# (neither was answered); a new runner runs them again and its proofs are
# duplicates: each item has one result.
cw_start_coord "$T/w/policy.json"
start_proxy http "${COORD_URL##*:}" --hold-proofs 1
check "load q5" "$QCTL" load "$REDIS_URL" q5 a/1.sealed b/1.sealed
COORD_URL=http://127.0.0.1:$PROXY_PORT cw_worker q5 "$T/w/worker.json" &
WT=$!
wait_until 60 grep -q '^hold proofs' "$PROXY_LOG" || bail "no proof held"
# The runner: the worker process whose parent is the worker too.
RUNNER=
for p in $(pgrep -f "^coffer-worker --job q5"); do
	RUNNER=$RUNNER$(pgrep -P "$p" -f "^coffer-worker --job q5")
done
[ -n "$RUNNER" ] || bail "no runner"
kill -9 "$RUNNER"
wait "$WT"
eq "the worker ends" 0 $?
eq "both items done once" "total=2 done=2 failed=0 in_flight=0 queued=0" \
	"$("$QCTL" stats "$REDIS_URL" q5)"
eq "its supervisor failed both items of the batch" 2 \
	"$(grep -c 'worker runner killed by signal 9 (Killed) while storing or proving the output' "$T/q5.log")"
eq "two batches of two proofs, a key release each" "4 2" "$(count proofs) $(count releases)"

# 6. An OpenSSL configuration in the worker's environment (doc/worker.md
# 9.1): the actuator that starts the worker is untrusted, and OpenSSL
# would read the file $OPENSSL_CONF names, load the provider modules it
# lists (shared objects: code no measurement covers) and apply its
# default properties. This one asks for FIPS implementations, which no
# loaded provider has: read, it makes every fetch fail (SHA-384 of the
# sim evidence, the signature, HPKE), so the attestation cannot succeed.
# The worker does not read it and runs the job.
cat > "$T/hostile.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
alg_section = evp_props
providers = provider_sect
[evp_props]
default_properties = "fips=yes"
[provider_sect]
default = default_sect
hostile = hostile_sect
[default_sect]
activate = 1
[hostile_sect]
module = $T/hostile-provider.so
activate = 1
CNF
check "the configuration is one OpenSSL reads (coffer, which does, fails with it)" \
	bash -c '! OPENSSL_CONF="$1" coffer attest measure "$2" >/dev/null 2>&1' _ \
	"$T/hostile.cnf" "$T/w/worker.json"
cw_start_coord "$T/w/policy.json"
check "load q6" "$QCTL" load "$REDIS_URL" q6 a/1.sealed b/1.sealed
OPENSSL_CONF=$T/hostile.cnf cw_worker q6 "$T/w/worker.json"
eq "the worker with OPENSSL_CONF set ends" 0 $?
eq "it attested and ran both items" "total=2 done=2 failed=0 in_flight=0 queued=0 1" \
	"$("$QCTL" stats "$REDIS_URL" q6) $(count releases)"
