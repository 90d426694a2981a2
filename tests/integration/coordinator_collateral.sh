#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Collateral at a real coffer-coordinator (doc/protocol/collateral.md
# section 3): `coffer collateral fetch --push` from a loopback "Intel PCS",
# pushes kept newest per slot, every refusal by name, the cache kept in
# the coordinator's state and used offline after a restart, releases
# refused with collateral.missing and then collateral.expired for a real
# SGX quote (its recorded collateral expired in 2025), and collateral
# refreshed while 50 releases run in parallel (the sanitizer suite runs
# this file against the ASan+UBSan build), then kept through a kill -9;
# each item kept is a `collateral` event of the audit log.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coordinator_common.bash"
. "$(dirname "$0")/collateral_common.bash"

plan 56

cache() { curl -s "$COORD_URL/v1/collateral" | jq -r "$1"; }
# push_raw BODY: POST it; prints "HTTP-status error-code".
push_raw() {
	curl -s -o "$T/push.out" -w '%{http_code}' -X POST "$COORD_URL/v1/collateral" \
		--data-binary @- <<<"$1"
	printf ' %s\n' "$(jq -r '.error.code // "ok"' "$T/push.out" 2>/dev/null)"
}
# body FILE...: a push body of these files
body() {
	local f sep=""
	printf '{"type":"coffer-collateral","version":1,"items":['
	for f in "$@"; do
		printf '%s{"name":"%s","data":"%s"}' "$sep" "$(basename "$f")" \
			"$(basenc --base64url -w0 <"$f" | tr -d =)"
		sep=,
	done
	printf ']}'
}
# status_of NAME: the status the last `coffer collateral push` printed for NAME
status_of() { awk -v n="$1" '$2 == n { print $1 }' <<<"$out"; }

collateral_ca
coord_setup
SGXQ=$V/sgx/dcap-qvl/sgx_quote
FAST=(--retry-delay 0.1 --cacert "$T/ca.pem")

eq "a new coordinator holds no collateral" 0 "$(cache .cache.items)"

# A job whose keys are all there, for releases.
policy_draft >"$T/draft.json"
H=$(new_policy "$T/draft.json")
approve "$H" a b c && upload "$H" a b c || bail "policy and keys"
J=$(open_job "$H")
grep -qE '^[0-9a-f]{32}$' <<<"$J" || bail "no job: $J"

# Release requests carrying recorded hardware evidence: its report data
# binds nothing of this job (KR9), but expired collateral (KR8) and a
# missing VCEK (KR8) are judged before; missing Intel collateral is the
# verification object's to refuse (KR10), after the binding.
# rec_release FILE: the reason a release with that evidence is refused with.
rec_release() {
	local n ev
	ev=$(basenc --base64url -w0 <"$1" | tr -d =)
	n=$(curl -s -X POST "$COORD_URL/v1/jobs/$J/nonce" | head -n1 | jq -r .nonce)
	curl -s -X POST "$COORD_URL/v1/jobs/$J/release" -d "{\"type\":\"coffer-release-request\",
		\"version\":1,\"job\":\"$J\",\"nonce\":\"$n\",
		\"worker_pk\":\"0900000000000000000000000000000000000000000000000000000000000000\",
		\"evidence\":\"$ev\"}" | tee "$T/rel.json" | jq -r .error.code
}
sgx_release() { rec_release "$SGXQ"; }
SNP=$V/sev-snp/go-sev-guest/attestation.bin
eq "an SEV-SNP worker whose VCEK the coordinator lacks: collateral.missing" \
	collateral.missing "$(rec_release "$SNP")"
check "the refusal names the piece and says where to get it" \
	grep -q 'no VCEK certificate.*AMD KDS.*coffer collateral fetch EVIDENCE --push URL' "$T/rel.json"
eq "an SGX worker without collateral gets as far as its binding" \
	evidence.binding "$(sgx_release)"

# --- fetch and push in one command --------------------------------------------
serve sgx --intel "$V/sgx/dcap-qvl/sgx_quote_collateral.json" --tee sgx \
	--fmspc 00a067110000 --ca processor
run coffer collateral fetch "$SGXQ" --out "$T/sgx" --intel-pcs "$URL" \
	--intel-root-crl "$URL/IntelSGXRootCA.der" "${FAST[@]}" --push "$COORD_URL"
eq "fetch --push: exit 0" 0 "$rc"
[ "$rc" -eq 0 ] || show
eq "the TCB Info is added" added "$(status_of intel-sgx-tcb-info-00a067110000.json)"
has "tcb-info/sgx/00a067110000"; ok $? "under its slot"
eq "the QE Identity's chain is the TCB Info's, byte for byte: held once" unchanged \
	"$(status_of intel-sgx-qe-identity.chain.pem)"
has "the coordinator holds 6 collateral item(s)"; ok $? "the coordinator says what it holds"
eq "GET /v1/collateral lists the 6" 6 "$(cache .cache.items)"
coffer audit verify --entries >"$T/log.txt" 2>"$T/verify.err"
eq "coffer audit verify: the log with the push checks (exit 0)" 0 $?
eq "each item kept is a collateral event of the audit log, by its hash" \
	"$(cache '[.items[].sha256] | sort | join(",")')" \
	"$(grep '"event":"collateral"' "$T/log.txt" | cut -d' ' -f2- | jq -rs '[.[].sha256] | sort | join(",")')"
eq "the earliest expiry is the QE Identity's" 2025-07-19T10:01:18Z "$(cache .cache.earliest_expiry)"
eq "/metrics says it too, for alerts" "coffer_coordinator_collateral_items 6 coffer_coordinator_collateral_earliest_expiry_seconds $(date -u -d 2025-07-19T10:01:18Z +%s)" \
	"$(curl -s "$COORD_URL/metrics" | grep '^coffer_coordinator_collateral' | paste -sd' ')"
eq "now the SGX worker is refused for expired collateral" collateral.expired "$(sgx_release)"
run coffer collateral push "$V/sev-snp/go-sev-guest/vcek.testcer" "$V/amd-pki/ask_ark_milan.pem" \
	--coordinator "$COORD_URL"
eq "a VCEK and its chain pushed" "added added" "$(status_of vcek.testcer) $(status_of ask_ark_milan.pem)"
eq "then the SEV-SNP report verifies up to its binding" evidence.binding "$(rec_release "$SNP")"
grep -q '"reason":"collateral.expired"\|reason=collateral.expired' "$COORD_LOG"
ok $? "the coordinator logs the refusal by that name"
run coffer collateral push "$T/sgx" --coordinator "$COORD_URL"
eq "pushing the same again: exit 0" 0 "$rc"
eq "every file unchanged" 7 "$(grep -c '^unchanged ' <<<"$out")"

# --- newest per slot ------------------------------------------------------------
run coffer collateral push "$V/tdx/go-tdx-guest/sample_qeIdentity_response" \
	--coordinator "$COORD_URL"
eq "a TD_QE identity of 2023 is added" added "$(status_of sample_qeIdentity_response)"
run coffer collateral push "$V/tdx/trustee/enclaveIdentity.json" --coordinator "$COORD_URL"
eq "one of 2025-10 replaces it" replaced "$(status_of enclaveIdentity.json)"
serve tdx --intel "$V/tdx/dcap-qvl/tdx_quote_collateral.json" --tee tdx \
	--fmspc b0c06f000000 --ca platform
coffer collateral fetch "$V/tdx/dcap-qvl/tdx_quote" --out "$T/tdx" --intel-pcs "$URL" \
	--intel-root-crl "$URL/IntelSGXRootCA.der" "${FAST[@]}" >/dev/null 2>&1 ||
	bail "fetching the TDX set"
run coffer collateral push "$T/tdx/intel-tdx-qe-identity.json" --coordinator "$COORD_URL"
eq "one of 2025-06 is older: not kept" older "$(status_of intel-tdx-qe-identity.json)"
eq "the cache keeps one TD_QE identity, the newest" "enclaveIdentity.json" \
	"$(cache '.items[] | select(.slot == "identity/TD_QE") | .name')"
n_before=$(cache .cache.items)

# --- refusals by name; none keeps anything ------------------------------------
eq "not JSON: 400 request.malformed" "400 request.malformed" "$(push_raw 'not json')"
eq "an unknown member: request.malformed" "400 request.malformed" \
	"$(push_raw '{"type":"coffer-collateral","version":1,"items":[],"extra":1}')"
eq "no items: request.malformed" "400 request.malformed" \
	"$(push_raw '{"type":"coffer-collateral","version":1,"items":[]}')"
eq "a name with a slash: request.malformed" "400 request.malformed" \
	"$(push_raw '{"type":"coffer-collateral","version":1,"items":[{"name":"a/b","data":"AAAA"}]}')"
eq "data that is not base64url: request.malformed" "400 request.malformed" \
	"$(push_raw '{"type":"coffer-collateral","version":1,"items":[{"name":"a","data":"A+=="}]}')"
printf 'hello\n' >"$T/hello.txt"
eq "a file that is not collateral: 400 collateral.malformed" "400 collateral.malformed" \
	"$(push_raw "$(body "$T/hello.txt")")"
check "the refusal names the file" grep -q hello.txt "$T/push.out"
eq "a dcap-qvl file (many pieces): collateral.malformed" "400 collateral.malformed" \
	"$(push_raw "$(body "$V/sgx/dcap-qvl/sgx_quote_collateral.json")")"
$PY - "$V/tdx/go-tdx-guest/sample_tcbinfo_response_v5" "$T/forged.json" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b'"signature":"') + len(b'"signature":"') + 5
b[i] = ord("1") if b[i] != ord("1") else ord("2")
open(sys.argv[2], "wb").write(bytes(b))
EOF
eq "a forged TCB Info: 403 collateral.signature" "403 collateral.signature" \
	"$(push_raw "$(body "$T/forged.json")")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/own.key" -out "$T/own.pem" -subj "/CN=SEV-VCEK" -days 2 >/dev/null 2>&1
eq "a certificate no root issued: 403 collateral.untrusted" "403 collateral.untrusted" \
	"$(push_raw "$(body "$T/own.pem")")"
eq "a CRL whose issuer is not held: collateral.untrusted" "403 collateral.untrusted" \
	"$(push_raw "$(body "$V/tdx/go-tdx-guest/pckcrl")")"
eq "none of them kept anything" "$n_before" "$(cache .cache.items)"
run coffer collateral push "$T/hello.txt" --coordinator "$COORD_URL"
eq "coffer collateral push of a refused file: exit 5" 5 "$rc"
has "HTTP 400 collateral.malformed: hello.txt:"; ok $? "and it names the reason and the file"

# --- the cache survives a restart and works offline ------------------------------
items=$(cache '[.items[].sha256] | sort | join(",")')
stop_coordinator
eq "the coordinator stopped cleanly" 0 "$COORD_RC"
start_coordinator_again || bail "restart"
eq "after a restart it holds the same collateral" "$items" \
	"$(cache '[.items[].sha256] | sort | join(",")')"
grep -q 'collateral cache loaded' "$COORD_LOG"; ok $? "loaded from its state at start"
eq "and judges with it: still collateral.expired, not missing" collateral.expired \
	"$(sgx_release)"
run coffer collateral show --coordinator "$COORD_URL"
eq "coffer collateral show: exit 0" 0 "$rc"
has "enclaveIdentity.json"; ok $? "it lists the items"

# --- collateral refreshed while 50 releases run in parallel ----------------------
# Each release waits a second between its nonce and its request, so the
# pushes below land while all 50 are in flight; they connect from two
# loopback addresses, as one client may open only 32 connections.
"$REL" release "$COORD_URL" "$J" --measure "$BIN/coffer-worker" -n 50 -c 50 \
	--sources 2 --wait-ms 1000 --latency >"$T/rel.out" 2>"$T/rel.err" &
relpid=$!
sets=("$T/tdx" "$V/tdx/go-tdx-guest/sample_tcbinfo_response_v5"
	"$V/intel-pki/intel_sgx_tcb_signing_2018-2025.der" "$T/sgx"
	"$V/sev-snp/go-sev-guest/vcek.testcer" "$V/amd-pki/ask_ark_genoa.pem"
	"$V/tdx/trustee/tcbInfo.json" "$V/sev-snp/virtee-sev/vcek_milan.der")
pushes_ok=0 pushes=0 during=0
while [ $pushes -lt ${#sets[@]} ] || { kill -0 $relpid 2>/dev/null && [ $pushes -lt 200 ]; }; do
	set=${sets[$((pushes % ${#sets[@]}))]}
	pushes=$((pushes + 1))
	coffer collateral push "$set" --coordinator "$COORD_URL" >>"$T/pushes.out" 2>&1 &&
		curl -sf "$COORD_URL/v1/collateral" >/dev/null && pushes_ok=$((pushes_ok + 1))
	kill -0 $relpid 2>/dev/null && during=$((during + 1))
done
wait $relpid
eq "all 50 releases were granted (relworker exit 0)" 0 "$?"
check "50 at once" grep -q '^wall n=50 c=50 ' "$T/rel.out"
eq "every push and listing meanwhile succeeded" "$pushes" "$pushes_ok"
diag "pushes: $pushes, during the releases: $during"
check "pushes landed while the releases were in flight" test "$during" -ge 3
check "the coordinator still serves" curl -sf "$COORD_URL/healthz"
eq "the cache grew by what the pushes added" \
	"$(($(cache .cache.items) - n_before))" "$(grep -c '^added ' "$T/pushes.out")"
check "some pushes added collateral" grep -q '^added ' "$T/pushes.out"
grep -q 'AddressSanitizer\|runtime error' "$COORD_LOG"
eq "no sanitizer report in the coordinator's log" 1 $?
eq "and the SGX worker is judged with it as before" collateral.expired "$(sgx_release)"

# --- kill -9 after the pushes: every acknowledged push is kept ---------------------
items=$(cache '[.items[].sha256] | sort | join(",")')
stop_coordinator KILL
start_coordinator_again || bail "restart after kill -9"
eq "after kill -9 it holds every item an answered push kept" "$items" \
	"$(cache '[.items[].sha256] | sort | join(",")')"
coffer audit verify --entries >"$T/log.txt" 2>"$T/verify.err"
eq "the audit log checks after it (exit 0)" 0 $?
eq "the newer TD_QE identity is logged as replacing the older" \
	"$(cache '.items[] | select(.slot == "identity/TD_QE") | .sha256')" \
	"$(grep '"event":"collateral"' "$T/log.txt" | cut -d' ' -f2- |
		jq -r 'select(.slot == "identity/TD_QE" and .status == "replaced") | .sha256')"
