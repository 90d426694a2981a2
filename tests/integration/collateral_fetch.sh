#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `coffer collateral fetch` against a loopback HTTPS server laid out like
# Intel PCS v4, a PCCS and AMD KDS (collateral_server.py, Debian's Python,
# a test CA made here), serving the recorded collateral of
# tests/vectors/attestation: rate limits (429 + Retry-After), 5xx then
# success, retries spent, a Retry-After too long to wait, a timeout, a
# missing piece, a tampered signature, a chain no root issued, a piece
# for another platform, TLS that must verify; then `coffer attest verify`
# verifies the recorded evidence with what was fetched.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/collateral_common.bash"
plan 57

collateral_ca

SGXQ=$V/sgx/dcap-qvl/sgx_quote
SGXC=$V/sgx/dcap-qvl/sgx_quote_collateral.json
FAST=(--retry-delay 0.1 --cacert "$T/ca.pem")

# --- SGX from "Intel PCS": 429 + Retry-After, 503, 500, then success ---------
serve sgx --intel "$SGXC" --tee sgx --fmspc 00a067110000 --ca processor \
	--before "/sgx/certification/v4/tcb=429:1" \
	--before "/sgx/certification/v4/qe/identity=503" \
	--before "/sgx/certification/v4/pckcrl=500"
run coffer collateral fetch "$SGXQ" --out "$T/sgx" --intel-pcs "$URL" \
	--intel-root-crl "$URL/IntelSGXRootCA.der" "${FAST[@]}"
eq "SGX: every piece fetched (exit 0)" 0 "$rc"
[ "$rc" -eq 0 ] || show
has "FMSPC 00a067110000, PCE-ID 0000, PCK Processor CA"; ok $? "the quote's platform is named"
has "HTTP 429, again in 1.0 s (attempt 2 of 5)"; ok $? "429: waited what Retry-After said"
has "HTTP 503, again in"; ok $? "503 without Retry-After: backed off"
has "HTTP 500, again in"; ok $? "500: backed off"
eq "the TCB Info was asked twice (429, then 200)" 2 "$(count /sgx/certification/v4/tcb)"
eq "the QE Identity twice" 2 "$(count /sgx/certification/v4/qe/identity)"
eq "the PCK CRL twice" 2 "$(count /sgx/certification/v4/pckcrl)"
eq "the root CRL once" 1 "$(count /IntelSGXRootCA.der)"
eq "7 files written (4 pieces, 3 issuer chains)" 7 "$(ls "$T/sgx" | wc -l)"
has "wrote $T/sgx/intel-sgx-tcb-info-00a067110000.json: TCB Info (SGX, FMSPC 00A067110000), evaluation data number"
ok $? "the TCB Info file and its evaluation number are printed"
has "the earliest next update is 2025-07-19T10:01:18Z"; ok $? "the earliest next update is the QE Identity's"
run coffer attest verify "$SGXQ" --collateral "$T/sgx" --at 2025-07-19T10:01:17Z
eq "the quote verifies with the fetched collateral" 0 "$rc"
has "tcb status: ConfigurationAndSWHardeningNeeded"; ok $? "its TCB status as with the recorded file"
run coffer attest verify "$SGXQ" --collateral "$T/sgx" --at 2025-07-20T00:00:00Z
has "collateral.expired"; ok $? "after the window the fetched collateral is expired"

# --- TDX from a "PCCS": its header name, no encoding=der, a hex root CRL ------
TDXQ=$V/tdx/dcap-qvl/tdx_quote
serve pccs --intel "$V/tdx/dcap-qvl/tdx_quote_collateral.json" --tee tdx \
	--fmspc b0c06f000000 --ca platform --pccs
run coffer collateral fetch "$TDXQ" --out "$T/tdx" --pccs "$URL/" "${FAST[@]}"
eq "TDX from a PCCS (exit 0)" 0 "$rc"
[ "$rc" -eq 0 ] || show
eq "the PCCS was asked for its root CA CRL" 1 "$(count /sgx/certification/v4/rootcacrl)"
test -f "$T/tdx/intel-tdx-qe-identity.json"; ok $? "the TD_QE identity is written"
run coffer attest verify "$TDXQ" --collateral "$T/tdx" --at 2025-07-01T00:00:00Z
eq "the TDX quote verifies" 0 "$rc"
has "tcb status: UpToDate"; ok $? "UpToDate, as with the recorded file"

# --- a missing piece ------------------------------------------------------------
serve miss --intel "$V/tdx/dcap-qvl/tdx_quote_collateral.json" --tee tdx \
	--fmspc b0c06f000000 --ca platform --drop "/tdx/certification/v4/qe/identity"
run coffer collateral fetch "$TDXQ" --out "$T/miss" --intel-pcs "$URL" \
	--intel-root-crl "$URL/IntelSGXRootCA.der" "${FAST[@]}"
eq "a missing QE Identity: exit 6" 6 "$rc"
has "QE Identity (TDX): GET $URL/tdx/certification/v4/qe/identity: HTTP 404: missing (Error-Code NotFound"
ok $? "the message names the piece, the URL and Intel's error code"
has "not written: QE Identity (TDX)"; ok $? "the summary names what is missing"
test -f "$T/miss/intel-tdx-tcb-info-b0c06f000000.json"; ok $? "the other pieces are written"
eq "a 404 is not retried" 1 "$(count /tdx/certification/v4/qe/identity)"
run coffer attest verify "$TDXQ" --collateral "$T/miss" --at 2025-07-01T00:00:00Z
eq "without it the quote is refused" 7 "$rc"
has "collateral.missing"; ok $? "as collateral.missing"

# --- a forged signature, a chain no root issued, another platform's piece -----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/fake.key" -out "$T/fake.pem" -subj "/CN=Intel SGX TCB Signing" \
	-days 2 >/dev/null 2>&1 || bail "openssl req (fake signer)"
serve bad --intel "$SGXC" --tee sgx --fmspc 00a067110000 --ca processor \
	--tamper "/sgx/certification/v4/tcb" --chain "/sgx/certification/v4/qe/identity=$T/fake.pem"
run coffer collateral fetch "$SGXQ" --out "$T/bad" --intel-pcs "$URL" \
	--intel-root-crl "$URL/IntelSGXRootCA.der" "${FAST[@]}"
eq "a tampered TCB Info: exit 4 (signature)" 4 "$rc"
has "TCB Info (SGX, FMSPC 00A067110000): GET $URL/sgx/certification/v4/tcb?fmspc=00A067110000: refused, not written:"
ok $? "the refusal names the piece and the URL"
has "signature does not verify"; ok $? "and says the signature does not verify"
has "QE Identity (SGX): GET $URL/sgx/certification/v4/qe/identity: refused, not written:"
ok $? "an identity with a self-made chain is refused"
has "no TCB Signing certificate issued by the trusted Intel root"; ok $? "because no root issued its chain"
test ! -e "$T/bad/intel-sgx-tcb-info-00a067110000.json"; ok $? "the tampered TCB Info is not written"
test ! -e "$T/bad/intel-sgx-qe-identity.json"; ok $? "nor the identity"
test -f "$T/bad/intel-pck-crl-processor.crl"; ok $? "the good pieces are"

# The TDX TCB Info served where the SGX one is asked for: signed, but wrong.
$PY - "$T/wrong.tcb" "$V/tdx/dcap-qvl/tdx_quote_collateral.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[2]))
open(sys.argv[1], "w").write('{"tcbInfo":%s,"signature":"%s"}' % (d["tcb_info"], d["tcb_info_signature"]))
EOF
$PY "$SRV" build --out "$T/wrong.json" --intel "$SGXC" --tee sgx \
	--fmspc 00a067110000 --ca processor || bail "site wrong"
$PY - "$T/wrong.json" "$T/wrong.tcb" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
k = "/sgx/certification/v4/tcb?fmspc=00A067110000"
s["routes"][k]["body"] = open(sys.argv[2], "rb").read().hex()
json.dump(s, open(sys.argv[1], "w"))
EOF
serve_site wrong
run coffer collateral fetch "$SGXQ" --out "$T/wrong" --intel-pcs "$URL" \
	--intel-root-crl "$URL/IntelSGXRootCA.der" "${FAST[@]}"
eq "another platform's TCB Info: exit 1" 1 "$rc"
has "the answer is tcb-info tcb-info/tdx/b0c06f000000, not the tcb-info/sgx/00a067110000 asked for"
ok $? "the message says what came and what was asked"

# --- retries spent, a Retry-After too long, a timeout, TLS -------------------
serve slow --intel "$SGXC" --tee sgx --fmspc 00a067110000 --ca processor \
	--before "/sgx/certification/v4/tcb=500" --before "/sgx/certification/v4/tcb=500" \
	--before "/sgx/certification/v4/tcb=500" \
	--before "/sgx/certification/v4/qe/identity=429:3600" \
	--sleep "/sgx/certification/v4/pckcrl=4"
run coffer collateral fetch "$SGXQ" --out "$T/slow" --intel-pcs "$URL" \
	--intel-root-crl "$URL/IntelSGXRootCA.der" --retries 2 --timeout 1 "${FAST[@]}"
eq "a server that keeps failing: exit 8" 8 "$rc"
has "TCB Info (SGX, FMSPC 00A067110000): GET $URL/sgx/certification/v4/tcb?fmspc=00A067110000: HTTP 500, still after every retry"
ok $? "500 after every retry is named"
eq "the first attempt and 2 retries" 3 "$(count /sgx/certification/v4/tcb)"
has "the server asks to be called again in 3600 s (Retry-After: 3600), longer than the 120 s"
ok $? "a Retry-After beyond --max-wait is not waited for"
eq "and not retried" 1 "$(count /sgx/certification/v4/qe/identity)"
has "PCK CRL (processor CA): GET $URL/sgx/certification/v4/pckcrl?ca=processor&encoding=der: Operation timed out"
ok $? "a timeout is named"
test -f "$T/slow/intel-root-ca.crl"; ok $? "the root CRL still came"

run coffer collateral fetch "$SGXQ" --out "$T/tls" --intel-pcs "$URL" \
	--intel-root-crl "$URL/IntelSGXRootCA.der" --retries 2 --retry-delay 0.01
eq "a server certificate nobody trusts: exit 7 (rule R7)" 7 "$rc"
has "the server's TLS certificate is not trusted"; ok $? "the TLS failure is named"
! has "again in"; ok $? "and not retried"

# --- AMD KDS: VCEK and chain; no CRL recorded, so its 404 is the missing piece
SNP=$V/sev-snp/go-sev-guest/attestation.bin
CHIP=$($PY -c 'import sys; print(open(sys.argv[1],"rb").read()[0x1a0:0x1e0].hex())' "$SNP")
serve kds --file "/vcek/v1/Milan/$CHIP?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68=$V/sev-snp/go-sev-guest/vcek.testcer" \
	--file "/vcek/v1/Milan/cert_chain=$V/amd-pki/ask_ark_milan.pem"
run coffer collateral fetch "$SNP" --out "$T/snp" --amd-kds "$URL" "${FAST[@]}"
eq "an SNP report v2 without --amd-product: a usage error" 2 "$rc"
has "give the product (Milan, Genoa or Turin; --amd-product)"; ok $? "that says what to give"
run coffer collateral fetch "$SNP" --out "$T/snp" --amd-kds "$URL" --amd-product Milan "${FAST[@]}"
eq "SNP: the CRL is missing (exit 6)" 6 "$rc"
has "ARK CRL (Milan, VCEK): GET $URL/vcek/v1/Milan/crl: HTTP 404"; ok $? "the missing CRL is named"
has "refuses the report with crl.missing, unless the verification policy has allow_missing_crl"
ok $? "with what its absence means"
test -f "$T/snp/amd-milan-vcek-3ac3fe21e13fb099-2-0-5-68.der"; ok $? "the VCEK is written"
run coffer attest verify "$SNP" --collateral "$T/snp"
eq "without the CRL the report is refused" 7 "$rc"
has "crl.missing"; ok $? "as crl.missing"
run coffer attest verify "$SNP" --collateral "$T/snp" --allow-missing-crl
eq "with the fetched VCEK (the CRL allowed missing) it verifies" 0 "$rc"

# --- sim evidence needs nothing ------------------------------------------------
COFFER_SIM_DIR=$T/sim coffer attest report --backend sim --report-data 00 \
	--out "$T/sim.json" 2>/dev/null
run coffer collateral fetch "$T/sim.json" --out "$T/none"
eq "sim evidence: nothing to fetch (exit 0)" 0 "$rc"
has "INSECURE SIMULATION evidence: it needs no collateral"; ok $? "and it says so"
