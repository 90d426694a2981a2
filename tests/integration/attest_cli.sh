#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer attest` end to end: verify real SGX/TDX/SEV-SNP samples with
# their collateral at pinned times (exit codes, human and JSON output),
# reject tampered, truncated and expired evidence, the INSECURE SIMULATION
# backend (report, sim-key, verify with and without trust; sim evidence v2
# with simulated debug and TCB values refused by a --policy, one named
# reason each), the real clock when --at is absent, and the sgx-gramine
# backend against a /dev/attestation tree whose quote file is a
# FIFO answered only after user_report_data was written.
# timeout: 180
. "$(dirname "$0")/lib.sh"

V=$COFFER_SRC/tests/vectors/attestation
plan 60

# run CMD...: capture stdout+stderr in $out and the exit code in $rc.
run() { out=$("$@" 2>&1); rc=$?; }
has() { grep -qF -- "$1" <<<"$out"; }

# --- SGX-1 (dcap-qvl) -------------------------------------------------
run coffer attest verify "$V/sgx/dcap-qvl/sgx_quote" \
	--collateral "$V/sgx/dcap-qvl/sgx_quote_collateral.json" --at 2025-07-19T10:01:17Z
eq "SGX quote verifies (exit 0)" 0 "$rc"
has "tcb status: ConfigurationAndSWHardeningNeeded"; ok $? "SGX status as the README says"
has "advisories: INTEL-SA-00289 INTEL-SA-00615"; ok $? "SGX advisories as the README says"
has "mrenclave          33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"
ok $? "SGX MRENCLAVE printed"

run coffer attest verify --json "$V/sgx/dcap-qvl/sgx_quote" \
	--collateral "$V/sgx/dcap-qvl/sgx_quote_collateral.json" --at 2025-07-19T10:01:17Z
has '"tcb_status":"ConfigurationAndSWHardeningNeeded"'; ok $? "JSON claims carry the status"
has '"verdict":"ok"'; ok $? "JSON claims carry the verdict"

run coffer attest verify "$V/sgx/dcap-qvl/sgx_quote" \
	--collateral "$V/sgx/dcap-qvl/sgx_quote_collateral.json" --at 2025-07-20T00:00:00Z
eq "after the collateral window: rejected (exit 7)" 7 "$rc"
has "collateral.expired"; ok $? "the reason names the expired collateral"

cp "$V/sgx/dcap-qvl/sgx_quote" "$T/flipped"
printf '\x55' | dd of="$T/flipped" bs=1 seek=200 conv=notrunc status=none
run coffer attest verify "$T/flipped" \
	--collateral "$V/sgx/dcap-qvl/sgx_quote_collateral.json" --at 2025-07-19T10:01:17Z
eq "a flipped body byte: bad signature (exit 4)" 4 "$rc"
has "quote.signature"; ok $? "the reason is the quote signature"

head -c 1000 "$V/sgx/dcap-qvl/sgx_quote" >"$T/short"
run coffer attest verify "$T/short" --at 2025-07-19T10:01:17Z
eq "a truncated quote is a format error (exit 5)" 5 "$rc"

# --- TDX ----------------------------------------------------------------
run coffer attest verify "$V/tdx/dcap-qvl/tdx_quote" \
	--collateral "$V/tdx/dcap-qvl/tdx_quote_collateral.json" --at 2025-07-01T00:00:00Z
eq "TDX quote v4 verifies" 0 "$rc"
has "tcb status: UpToDate"; ok $? "TDX status UpToDate"

run coffer attest verify "$V/tdx/dcap-qvl/tdx_quote_outdated" \
	--collateral "$V/tdx/dcap-qvl/tdx_quote_outdated_collateral.json" --at 2026-03-01T00:00:00Z
eq "TDX v5 with no matching TCB level: rejected" 7 "$rc"
has "tcb.not_supported"; ok $? "the reason is tcb.not_supported"

mkdir "$T/tdx6"
cp "$V/tdx/trustee/tcbInfo.json" "$V/tdx/trustee/enclaveIdentity.json" \
	"$V/intel-pki/intel_sgx_tcb_signing_2025-2032.der" \
	"$V/intel-pki/intel_sgx_root_ca_crl_2025.der" "$T/tdx6/"
run coffer attest verify "$V/tdx/trustee/tdx_quote_6.dat" --collateral "$T/tdx6" \
	--at 2025-11-01T00:00:00Z --allow-missing-crl
eq "TDX with a PCS-form collateral directory verifies" 0 "$rc"
has "tcb status: OutOfDate"; ok $? "TDX-6 status OutOfDate"

# --- SEV-SNP ----------------------------------------------------------
run coffer attest verify "$V/sev-snp/virtee-sev/report_milan.hex" \
	--collateral "$V/sev-snp/virtee-sev/vcek_milan.der" --at 2024-01-01T00:00:00Z \
	--allow-missing-crl
eq "SNP report (hex) verifies" 0 "$rc"
has "measurement        7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f"
ok $? "SNP measurement printed"
run coffer attest verify "$V/sev-snp/virtee-sev/report_milan.hex" \
	--collateral "$V/sev-snp/virtee-sev/vcek_milan.der" --at 2024-01-01T00:00:00Z
eq "strict: no ARK CRL is a rejection" 7 "$rc"

# --- sim --------------------------------------------------------------
export COFFER_SIM_DIR=$T/sim
run coffer attest sim-key
eq "sim-key prints the platform key" 0 "$rc"
has "INSECURE SIMULATION"; ok $? "sim-key says INSECURE SIMULATION"
coffer attest sim-key 2>/dev/null >"$T/sim.pem"
rd=000102030405060708090a0b0c0d0e0f
run coffer attest report --backend sim --report-data $rd --out "$T/sim.json"
has "INSECURE SIMULATION"; ok $? "report says INSECURE SIMULATION"
grep -qF "INSECURE SIMULATION" "$T/sim.json"; ok $? "the envelope says INSECURE SIMULATION"
run coffer attest verify "$T/sim.json" --trust-sim-key "$T/sim.pem" --report-data $rd
eq "sim evidence verifies with its key trusted" 0 "$rc"
has "*** INSECURE SIMULATION"; ok $? "verify output says INSECURE SIMULATION"
out=$(COFFER_LOG_FORMAT=json coffer attest verify --json "$T/sim.json" \
	--trust-sim-key "$T/sim.pem" 2>"$T/log")
has '"insecure":"INSECURE SIMULATION'; ok $? "JSON claims say INSECURE SIMULATION"
grep -q '"msg":"INSECURE SIMULATION' "$T/log"; ok $? "the JSON log says INSECURE SIMULATION"
run coffer attest verify "$T/sim.json"
eq "sim evidence without a trusted key: rejected" 7 "$rc"
run coffer attest verify "$T/sim.json" --trust-sim-key "$T/sim.pem" --report-data 0001
eq "sim evidence for other report data: rejected" 7 "$rc"

# --- the real clock, and only it, when --at is absent -------------------
run env COFFER_TEST_NOW=@1752919277 coffer attest verify "$V/sgx/dcap-qvl/sgx_quote" \
	--collateral "$V/sgx/dcap-qvl/sgx_quote_collateral.json"
eq "without --at: today's clock, the 2025 collateral has expired" 7 "$rc"
has "collateral.expired"; ok $? "the reason names the expired collateral"
if nm "$COFFER_BUILD/bin/coffer" | grep -q tt_clock_set; then
	ok 1 "the coffer binary holds no test clock override"
else
	ok 0 "the coffer binary holds no test clock override"
fi

# --- verification policy (doc/format/evidence.md section 10) ------------
run coffer attest sim-key --fingerprint
eq "sim-key --fingerprint exits 0" 0 "$rc"
fp=$(coffer attest sim-key --fingerprint 2>/dev/null)
[[ $fp =~ ^[0-9a-f]{64}$ ]]; ok $? "the fingerprint is 64 lower-case hex digits"
printf '{"version":1,"sim_platform_keys":["%s"]}\n' "$fp" >"$T/pol-sim.json"
printf '{"version":1}\n' >"$T/pol-default.json"
run coffer attest report --backend sim --report-data $rd --out "$T/sim-debug.json" \
	--sim-debug --sim-tcb '{"tcb_status":"OutOfDate","vmpl":2,"smt":true}'
eq "sim v2 with simulated values is made" 0 "$rc"
has "simulated"; ok $? "report says the values are simulated"
run coffer attest verify "$T/sim.json" --policy "$T/pol-sim.json"
eq "a policy naming the sim key accepts default sim evidence" 0 "$rc"
has "policy: INSECURE SIMULATION"; ok $? "the policy is shown as accepting INSECURE SIMULATION"
run coffer attest verify "$T/sim.json" --policy "$T/pol-default.json"
eq "the default policy refuses sim evidence" 7 "$rc"
has "[reject] policy.sim_key"; ok $? "named refusal policy.sim_key"
run coffer attest verify "$T/sim-debug.json" --policy "$T/pol-sim.json"
eq "simulated debug, OutOfDate, VMPL 2: refused" 7 "$rc"
has "[reject] policy.debug"; ok $? "named refusal policy.debug"
has "[reject] policy.tcb_status"; ok $? "named refusal policy.tcb_status"
has "[reject] policy.snp_vmpl"; ok $? "named refusal policy.snp_vmpl"
run coffer attest verify --json "$T/sim-debug.json" --trust-sim-key "$T/sim.pem"
eq "without a policy the same evidence verifies (notes only)" 0 "$rc"
has '"vmpl":2'; ok $? "JSON claims carry the simulated VMPL"
has '"insecure":"INSECURE SIMULATION'; ok $? "and the INSECURE SIMULATION label"
printf '{"version":1,"allow_debug":true,"intel":{"tcb_statuses":["OutOfDate"]},"snp":{"max_vmpl":2,"allow_smt":true},"sim_platform_keys":["%s"]}\n' \
	"$fp" >"$T/pol-lax.json"
run coffer attest verify "$T/sim-debug.json" --policy "$T/pol-lax.json"
eq "a policy that allows each simulated value accepts it" 0 "$rc"
has "it accepts debug TEEs"; ok $? "the policy is shown as accepting debug TEEs"
printf '{"version":1,"alow_debug":true}\n' >"$T/pol-typo.json"
run coffer attest verify "$T/sim.json" --policy "$T/pol-typo.json"
eq "a policy with a misspelt field is refused (exit 5)" 5 "$rc"
has "verification.alow_debug: unknown field"; ok $? "the error names the field"
run coffer attest verify "$T/sim.json" --policy "$T/pol-sim.json" --allow-missing-crl
eq "--policy with --allow-missing-crl is a usage error" 2 "$rc"
run coffer attest report --backend sim --report-data $rd --sim-tcb '{"vmpl":7}'
eq "--sim-tcb out of range is refused" 5 "$rc"
run coffer attest report --backend tsm --report-data $rd --sim-debug
eq "--sim-debug without --backend sim is a usage error" 2 "$rc"
run coffer attest verify "$V/sgx/dcap-qvl/sgx_quote" --policy "$T/pol-default.json" \
	--collateral "$V/sgx/dcap-qvl/sgx_quote_collateral.json" --at 2025-07-19T10:01:17Z
eq "the default policy refuses the SGX sample's TCB status" 7 "$rc"
has "[reject] policy.tcb_status"; ok $? "named refusal policy.tcb_status on hardware evidence"

# --- sgx-gramine against a /dev/attestation tree -----------------------
D=$T/dev-attestation
mkdir "$D"
printf dcap >"$D/attestation_type"
: >"$D/user_report_data"
mkfifo "$D/quote"
{ printf 'Hello, world!'; head -c 51 /dev/zero; } >"$T/want_rd"
# The "device": once the quote is opened for reading, answer with the real
# quote only if user_report_data already holds its report data.
(
	exec 3>"$D/quote"
	if cmp -s "$D/user_report_data" "$T/want_rd"; then cat "$V/sgx/dcap-qvl/sgx_quote" >&3; fi
	exec 3>&-
) &
track $!
run coffer attest report --backend sgx-gramine --device-root "$D" \
	--report-data 48656c6c6f2c20776f726c6421 --out "$T/gramine.json"
eq "sgx-gramine backend returns evidence" 0 "$rc"
run coffer attest verify "$T/gramine.json" \
	--collateral "$V/sgx/dcap-qvl/sgx_quote_collateral.json" --at 2025-07-19T10:01:17Z
has "backend sgx-gramine"; ok $? "the Gramine evidence verifies, backend named"

# --- usage ------------------------------------------------------------
run coffer attest verify
eq "verify without a file is a usage error" 2 "$rc"
