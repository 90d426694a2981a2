// SPDX-License-Identifier: Apache-2.0
// Policies (doc/format/policy.md), what every reader of a parsed policy
// uses, the worker included: lookups, the items of an app (section 6),
// measurements (section 3.3), the job parameters check, the hash
// (section 5) and free. The parser is policy.c, the worker's reader of
// approved text policy_read.c.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "lib/enc.h"
#include "lib/mem.h"
#include "proto/jfield.h"
#include "proto/policy.h"
#include "proto/policy_int.h"

#define LABEL "coffer/policy/v1"

void
coffer_policy_free(struct coffer_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->ndatasets; i++)
		free(p->datasets[i].objects);
	for (size_t i = 0; i < p->napps; i++) {
		free(p->apps[i].datasets);
		free(p->apps[i].measurements);
		for (size_t j = 0; j < p->apps[i].nparams; j++)
			free(p->apps[i].params[j].values);
		free(p->apps[i].params);
	}
	free(p->owners);
	free(p->datasets);
	free(p->apps);
	free(p->recipients);
	free(p->limits);
	coffer_buf_release(&p->jcs);
	json_decref(p->root);
	free(p->strings);
	free(p);
}

void
coffer_policy_hash_hex(const struct coffer_policy *p, char out[65])
{
	coffer_hex_encode(p->hash, 32, out);
}

int
coffer_policy_same_identity(const struct coffer_identity_public *a,
    const struct coffer_identity_public *b)
{
	return memcmp(a->sign_pk, b->sign_pk, 32) == 0 &&
	    memcmp(a->kx_pk, b->kx_pk, 32) == 0;
}

int
coffer_policy_measurement_parse(const char *tee, const char *hex,
    const char *path, struct coffer_policy_measurement *m)
{
	static const struct {
		const char *name;
		enum coffer_tee_type tee;
		size_t len;
	} kinds[] = {
		{ "sgx", COFFER_TEE_SGX, 32 },
		{ "tdx", COFFER_TEE_TDX, 240 },
		{ "sev-snp", COFFER_TEE_SEV_SNP, 48 },
		{ "sim", COFFER_TEE_SIM, 48 },
	};
	size_t got;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(tee, kinds[i].name) != 0)
			continue;
		if (strlen(hex) != 2 * kinds[i].len ||
		    !coffer_jfield_is_lower_hex(hex, 2 * kinds[i].len) ||
		    coffer_hex_decode(hex, 2 * kinds[i].len, m->value,
		    sizeof(m->value), &got) != 0)
			return coffer_errf(COFFER_E_FORMAT, "%s: a %s measurement is %zu "
			    "lower-case hex digits", path, tee, 2 * kinds[i].len);
		m->tee = kinds[i].tee;
		m->len = kinds[i].len;
		return 0;
	}
	return coffer_errf(COFFER_E_FORMAT, "%s: unknown TEE type \"%s\" (sgx, tdx, "
	    "sev-snp, sim)", path, tee);
}

int
policy_same_measurement(const struct coffer_policy_measurement *a,
    const struct coffer_policy_measurement *b)
{
	return a->tee == b->tee && a->len == b->len &&
	    memcmp(a->value, b->value, a->len) == 0;
}

/* Section 5: SHA-256("coffer/policy/v1" || 0x00 || text), text the
 * canonical form. */
static int
policy_hash(const uint8_t *text, size_t len, uint8_t out[32])
{
	struct coffer_hash *h = NULL;
	int r;

	/* sizeof(LABEL) counts its NUL: the 0x00 separator. */
	if ((r = coffer_hash_new(COFFER_HASH_SHA256, &h)) == 0 &&
	    (r = coffer_hash_update(h, LABEL, sizeof(LABEL))) == 0 &&
	    (r = coffer_hash_update(h, text, len)) == 0)
		r = coffer_hash_final(h, out, 32);
	coffer_hash_free(h);
	return r;
}

int
coffer_policy_hash_text(const char *text, size_t len, uint8_t out[32])
{
	return policy_hash((const uint8_t *)text, len, out);
}

const struct coffer_policy_app *
coffer_policy_app(const struct coffer_policy *p, const char *name)
{
	for (size_t i = 0; i < p->napps; i++)
		if (strcmp(p->apps[i].name, name) == 0)
			return &p->apps[i];
	return NULL;
}

int
coffer_policy_owner_index(const struct coffer_policy *p, const uint8_t fp[32])
{
	for (size_t i = 0; i < p->nowners; i++)
		if (memcmp(p->owners[i].fingerprint, fp, 32) == 0)
			return (int)i;
	return -1;
}

int
coffer_policy_key_owner(const struct coffer_policy *p, const uint8_t key_id[16])
{
	for (size_t i = 0; i < p->ndatasets; i++)
		if (memcmp(p->datasets[i].key_id, key_id, 16) == 0)
			return (int)p->datasets[i].owner;
	return -1;
}

static int
app_reads(const struct coffer_policy_app *a, size_t dataset)
{
	for (size_t i = 0; i < a->ndatasets; i++)
		if (a->datasets[i] == dataset)
			return 1;
	return 0;
}

int
coffer_policy_items(const struct coffer_policy *p,
    const struct coffer_policy_app *a, struct coffer_policy_item **out, size_t *n)
{
	struct coffer_policy_item *v;
	size_t count = 0, k = 0;

	/* Section 6: owners in order, their datasets in order (those the app
	 * names), their objects in order. Datasets are stored in that order. */
	for (size_t d = 0; d < p->ndatasets; d++)
		if (app_reads(a, d))
			count += p->datasets[d].nobjects;
	if ((v = coffer_calloc(count ? count : 1, sizeof(*v))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	for (size_t d = 0; d < p->ndatasets; d++) {
		if (!app_reads(a, d))
			continue;
		for (size_t o = 0; o < p->datasets[d].nobjects; o++, k++) {
			v[k].index = k;
			v[k].key = p->datasets[d].objects[o].key;
			v[k].digest = p->datasets[d].objects[o].digest;
			v[k].owner = p->datasets[d].owner;
			v[k].dataset = d;
		}
	}
	*out = v;
	*n = count;
	return 0;
}

int
coffer_policy_measurement(const struct coffer_tee_claims *c,
    struct coffer_policy_measurement *out)
{
	struct coffer_policy_measurement m;

	memset(&m, 0, sizeof(m));
	m.tee = c->tee;
	switch (c->tee) {
	case COFFER_TEE_SGX:
		m.len = 32;
		memcpy(m.value, c->sgx.mrenclave, 32);
		break;
	case COFFER_TEE_TDX:
		/* Section 3.3: MRTD || RTMR0 || RTMR1 || RTMR2 || RTMR3. */
		m.len = 240;
		memcpy(m.value, c->tdx.mrtd, 48);
		for (int i = 0; i < 4; i++)
			memcpy(m.value + 48 * (i + 1), c->tdx.rtmr[i], 48);
		break;
	case COFFER_TEE_SEV_SNP:
		m.len = 48;
		memcpy(m.value, c->snp.measurement, 48);
		break;
	case COFFER_TEE_SIM:
		m.len = 48;
		memcpy(m.value, c->sim.measurement, 48);
		break;
	default:
		return coffer_errf(COFFER_E_UNSUPPORTED, "no measurement for TEE type %s",
		    coffer_tee_type_name(c->tee));
	}
	*out = m;
	return 0;
}

int
coffer_policy_app_allows(const struct coffer_policy_app *a,
    const struct coffer_policy_measurement *m)
{
	for (size_t i = 0; i < a->nmeasurements; i++)
		if (policy_same_measurement(&a->measurements[i], m))
			return 1;
	return 0;
}

int
coffer_policy_lists_measurement(const struct coffer_policy *p,
    const struct coffer_policy_measurement *m)
{
	for (size_t i = 0; i < p->napps; i++)
		if (coffer_policy_app_allows(&p->apps[i], m))
			return 1;
	return 0;
}

int
coffer_policy_check_params(const struct coffer_policy_app *a,
    const json_t *params)
{
	const char *k;
	json_t *v;

	if (!json_is_object(params))
		return coffer_errf(COFFER_E_POLICY, "params: expected an object");
	json_object_foreach((json_t *)params, k, v) {
		const struct coffer_policy_param *pa = NULL;
		int ok = 0;

		for (size_t i = 0; i < a->nparams; i++)
			if (strcmp(a->params[i].name, k) == 0)
				pa = &a->params[i];
		if (pa == NULL)
			return coffer_errf(COFFER_E_POLICY, "params.%s: app %s has no such "
			    "parameter", k, a->name);
		if (!json_is_string(v))
			return coffer_errf(COFFER_E_POLICY, "params.%s: expected a string", k);
		for (size_t i = 0; i < pa->nvalues; i++)
			if (json_string_length(v) == strlen(pa->values[i]) &&
			    strcmp(json_string_value(v), pa->values[i]) == 0)
				ok = 1;
		if (!ok)
			return coffer_errf(COFFER_E_POLICY, "params.%s: this value is not "
			    "one the policy allows", k);
	}
	for (size_t i = 0; i < a->nparams; i++)
		if (json_object_get(params, a->params[i].name) == NULL)
			return coffer_errf(COFFER_E_POLICY, "params.%s: missing (the "
			    "policy lists it for app %s)", a->params[i].name, a->name);
	return 0;
}
