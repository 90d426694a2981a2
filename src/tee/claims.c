// SPDX-License-Identifier: Apache-2.0
// Claims: names, and the reasons a verifier records (doc/format/evidence.md).
// The claims JSON ("Claims JSON") is claims_json.c: only the CLI prints it.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/clock.h"
#include "tee/tee_int.h"

const char *
coffer_tee_type_name(enum coffer_tee_type t)
{
	switch (t) {
	case COFFER_TEE_SGX: return "sgx";
	case COFFER_TEE_TDX: return "tdx";
	case COFFER_TEE_SEV_SNP: return "sev-snp";
	case COFFER_TEE_SIM: return "sim";
	default: return "unknown";
	}
}

static const char *const status_names[] = {
	[COFFER_TCB_NOT_EVALUATED] = "NotEvaluated",
	[COFFER_TCB_UP_TO_DATE] = "UpToDate",
	[COFFER_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
	[COFFER_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
	[COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
	[COFFER_TCB_OUT_OF_DATE] = "OutOfDate",
	[COFFER_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
	[COFFER_TCB_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
	[COFFER_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] = "TDRelaunchAdvisedConfigurationNeeded",
	[COFFER_TCB_REVOKED] = "Revoked",
	[COFFER_TCB_NOT_SUPPORTED] = "NotSupported",
};

const char *
coffer_tee_tcb_status_name(enum coffer_tee_tcb_status s)
{
	if ((unsigned)s < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[s];
	return "NotEvaluated";
}

int
tee_tcb_status_parse(const char *s)
{
	/* Only the statuses a TCB Info or identity level may carry. */
	for (int i = COFFER_TCB_UP_TO_DATE; i <= COFFER_TCB_REVOKED; i++)
		if (strcmp(s, status_names[i]) == 0)
			return i;
	return -1;
}

static void add_reason(struct tee_vctx *v, int fatal, const char *code,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void
add_reason(struct tee_vctx *v, int fatal, const char *code, const char *fmt,
    va_list ap)
{
	struct coffer_tee_claims *c = v->c;
	struct coffer_tee_reason *r, tmp;

	/* The same finding reached twice (a root CRL checked for two
	 * certificates, say) is listed once. */
	snprintf(tmp.code, sizeof(tmp.code), "%s", code);
	vsnprintf(tmp.text, sizeof(tmp.text), fmt, ap);
	for (size_t i = 0; i < c->n_reasons; i++) {
		if (strcmp(c->reasons[i].code, tmp.code) == 0 &&
		    strcmp(c->reasons[i].text, tmp.text) == 0) {
			c->reasons[i].fatal |= fatal;
			return;
		}
	}
	if (c->n_reasons == COFFER_TEE_MAX_REASONS) {
		/* The last slot says that more were dropped; a fatal one still
		 * turns the verdict. */
		r = &c->reasons[COFFER_TEE_MAX_REASONS - 1];
		snprintf(r->code, sizeof(r->code), "verifier.too_many_reasons");
		snprintf(r->text, sizeof(r->text), "more than %d reasons; later ones "
		    "were dropped", COFFER_TEE_MAX_REASONS);
		r->fatal |= fatal;
		return;
	}
	r = &c->reasons[c->n_reasons++];
	*r = tmp;
	r->fatal = fatal;
}

void
tee_fail(struct tee_vctx *v, int err, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_reason(v, 1, code, fmt, ap);
	va_end(ap);
	if (v->first_err == 0)
		v->first_err = err;
}

void
tee_note(struct tee_vctx *v, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_reason(v, 0, code, fmt, ap);
	va_end(ap);
}

void
tee_missing(struct tee_vctx *v, int allowed, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_reason(v, !allowed, code, fmt, ap);
	va_end(ap);
	if (!allowed && v->first_err == 0)
		v->first_err = COFFER_E_POLICY;
}

void
tee_advisory(struct tee_vctx *v, const char *id)
{
	struct coffer_tee_claims *c = v->c;

	for (size_t i = 0; i < c->n_advisory_ids; i++)
		if (strcmp(c->advisory_ids[i], id) == 0)
			return;
	if (c->n_advisory_ids == COFFER_TEE_MAX_ADVISORIES) {
		if (!coffer_tee_claims_has_reason(c, "tcb.advisories_truncated"))
			tee_note(v, "tcb.advisories_truncated", "more than %d advisory "
			    "ids; the rest are not listed", COFFER_TEE_MAX_ADVISORIES);
		return;
	}
	snprintf(c->advisory_ids[c->n_advisory_ids++], sizeof(c->advisory_ids[0]),
	    "%s", id);
}

void
tee_fmt_time(int64_t t, char out[32])
{
	coffer_time_format(t, out, 32);
}

int64_t
tee_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	return (int64_t)timegm(&tm);
}

const struct coffer_tee_reason *
coffer_tee_claims_first_fatal(const struct coffer_tee_claims *c)
{
	for (size_t i = 0; i < c->n_reasons; i++)
		if (c->reasons[i].fatal)
			return &c->reasons[i];
	return NULL;
}

int
coffer_tee_claims_has_reason(const struct coffer_tee_claims *c, const char *code)
{
	for (size_t i = 0; i < c->n_reasons; i++)
		if (strcmp(c->reasons[i].code, code) == 0)
			return 1;
	return 0;
}

void
coffer_tee_claims_free(struct coffer_tee_claims *c)
{
	free(c);
}
