// SPDX-License-Identifier: Apache-2.0
// coffer_tee_verify: recognise the evidence by its content (envelope,
// hex text, SGX/TDX quote, SNP report, sim evidence), verify it, and turn
// the reasons into a verdict. doc/format/evidence.md section 1.
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "tee/tee_int.h"

#define MAX_EVIDENCE ((size_t)1 << 20)

static int
is_ws(uint8_t c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Hex text: only hex digits and white space, at least a header's worth. */
int
tee_hex_text_decode(const uint8_t *p, size_t len, struct coffer_buf *out)
{
	size_t digits = 0;
	uint8_t *q;
	int r;

	for (size_t i = 0; i < len; i++) {
		if (is_ws(p[i]))
			continue;
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
		    (p[i] >= 'A' && p[i] <= 'F')))
			return 1;
		digits++;
	}
	if (digits < 96 || digits % 2 != 0)
		return 1;
	if ((q = coffer_malloc(digits)) == NULL)
		return COFFER_E_NOMEM;
	digits = 0;
	for (size_t i = 0; i < len; i++)
		if (!is_ws(p[i]))
			q[digits++] = p[i];
	r = coffer_hex_decode_buf((const char *)q, digits, out);
	free(q);
	return r < 0 ? r : 0;
}

enum coffer_tee_type
tee_evidence_kind(const uint8_t *p, size_t len)
{
	if (len >= 16 && memcmp(p, TEE_SIM_MAGIC_PREFIX, strlen(TEE_SIM_MAGIC_PREFIX)) == 0)
		return COFFER_TEE_SIM;
	if (len >= 8) {
		uint16_t v16 = coffer_load_u16le(p), k16 = coffer_load_u16le(p + 2);
		uint32_t v32 = coffer_load_u32le(p);

		/* SNP: a 32-bit version 2-5 (so bytes 2-3 are zero); Intel: a
		 * 16-bit version 3-5 then a non-zero attestation key type. */
		if (v32 >= 2 && v32 <= 5 && len >= TEE_SNP_SIGNED_LEN)
			return COFFER_TEE_SEV_SNP;
		if (v16 >= 3 && v16 <= 5 && k16 != 0)
			return COFFER_TEE_SGX;
	}
	return COFFER_TEE_UNKNOWN;
}

int
tee_evidence_unknown(size_t len)
{
	return coffer_errf(len < 8 ? COFFER_E_TRUNCATED : COFFER_E_FORMAT,
	    "evidence: %zu bytes that are not an SGX/TDX quote, an SEV-SNP report, "
	    "sim evidence, a Coffer evidence envelope or hex of one", len);
}

static int dispatch(struct tee_vctx *v, const uint8_t *p, size_t len, int depth);

static int
envelope(struct tee_vctx *v, const uint8_t *p, size_t len)
{
	struct tee_envelope e;
	int r;

	if ((r = tee_envelope_parse(p, len, &e)) != 0)
		return r;
	snprintf(v->c->backend, sizeof(v->c->backend), "%s", e.backend);
	v->extra_certs = e.certs;
	r = dispatch(v, e.evidence.data, e.evidence.len, 1);
	v->extra_certs = NULL;
	if (r == 0 && strcmp(coffer_tee_type_name(v->c->tee), e.tee) != 0)
		r = coffer_errf(COFFER_E_FORMAT, "evidence envelope says tee \"%s\" but "
		    "holds %s evidence", e.tee, coffer_tee_type_name(v->c->tee));
	tee_envelope_release(&e);
	return r;
}

static int
dispatch(struct tee_vctx *v, const uint8_t *p, size_t len, int depth)
{
	struct coffer_buf bin = COFFER_BUF_INIT(MAX_EVIDENCE);
	size_t i = 0;
	int r;

	while (i < len && is_ws(p[i]))
		i++;
	if (depth == 0 && i < len && p[i] == '{')
		return envelope(v, p, len);
	if (depth < 2 && len >= 96 && (r = tee_hex_text_decode(p, len, &bin)) <= 0) {
		if (r == 0)
			r = dispatch(v, bin.data, bin.len, 2);
		coffer_buf_release(&bin);
		return r;
	}
	coffer_buf_release(&bin);
	switch (tee_evidence_kind(p, len)) {
	case COFFER_TEE_SIM: return tee_sim_verify(v, p, len);
	case COFFER_TEE_SEV_SNP: return tee_snp_verify(v, p, len);
	case COFFER_TEE_SGX: return tee_intel_verify(v, p, len);
	default: return tee_evidence_unknown(len);
	}
}

/* Whether the INSECURE SIMULATION warning was logged in this process. */
static atomic_int sim_warned;

int
coffer_tee_verify(const uint8_t *evidence, size_t len,
    const struct coffer_tee_anchors *anchors,
    const struct coffer_tee_collateral *collateral, int64_t at,
    const struct coffer_tee_verify_opts *opts, struct coffer_tee_claims **out)
{
	struct coffer_tee_claims *c;
	struct tee_vctx v;
	int r;

	if (evidence == NULL || anchors == NULL || out == NULL)
		return coffer_errf(COFFER_E_INVAL, "verify: NULL argument");
	if (collateral != NULL && collateral->anchors != anchors)
		return coffer_errf(COFFER_E_INVAL, "verify: the collateral was loaded "
		    "for other trust anchors");
	if (opts != NULL && opts->policy != NULL) {
		if ((r = tee_policy_check(opts->policy)) != 0)
			return r;
		if (opts->flags != 0)
			return coffer_errf(COFFER_E_INVAL, "verify: flags given with a "
			    "policy (the policy says what may be missing)");
	}
	if (len > MAX_EVIDENCE)
		return coffer_errf(COFFER_E_LIMIT, "evidence of %zu bytes (limit %zu)",
		    len, MAX_EVIDENCE);
	if ((c = coffer_calloc(1, sizeof(*c))) == NULL)
		return COFFER_E_NOMEM;
	memset(&v, 0, sizeof(v));
	v.c = c;
	v.anchors = anchors;
	v.coll = collateral;
	/* The collateral set as it is now: an add call meanwhile publishes
	 * another and leaves this one as it is (section 6.4). */
	v.set = tee_coll_set_get(collateral);
	v.at = at;
	v.flags = opts != NULL ? opts->flags : 0;
	if (opts != NULL && opts->policy != NULL) {
		v.policy = opts->policy;
		v.flags = (v.policy->allow_missing_collateral ?
		    COFFER_TEE_ALLOW_NO_COLLATERAL : 0) |
		    (v.policy->allow_missing_crl ? COFFER_TEE_ALLOW_NO_CRL : 0);
	}
	r = dispatch(&v, evidence, len, 0);
	tee_coll_set_put(v.set);
	if (r != 0) {
		free(c);
		return r;
	}
	if (opts != NULL && opts->expected_report_data != NULL &&
	    memcmp(opts->expected_report_data, c->report_data, 64) != 0)
		tee_fail(&v, COFFER_E_POLICY, "report_data.mismatch", "the evidence's "
		    "report data is not the expected value (a replay, or evidence "
		    "for another key or nonce)");
	tee_policy_apply(&v);
	c->verdict = v.first_err == 0 ? COFFER_TEE_OK : COFFER_TEE_REJECTED;
	/* Logged once per process, not once per verification (a coordinator
	 * verifies sim evidence for every worker); each verification's claims
	 * carry the sim.insecure note and the claims' JSON its "insecure"
	 * member (doc/format/evidence.md section 8). */
	if (c->tee == COFFER_TEE_SIM && atomic_exchange(&sim_warned, 1) == 0)
		coffer_logkv(COFFER_LOG_WARN, "INSECURE SIMULATION: sim evidence "
		    "verified; it proves nothing about isolation (logged once per "
		    "process)", "verdict", c->verdict == COFFER_TEE_OK ? "ok" :
		    "rejected", NULL);
	coffer_errclear();
	if (v.first_err != 0) {
		const struct coffer_tee_reason *f = coffer_tee_claims_first_fatal(c);

		coffer_errf(v.first_err, "%s: %s", f->code, f->text);
	}
	*out = c;
	return v.first_err;
}
