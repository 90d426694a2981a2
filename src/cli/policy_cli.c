// SPDX-License-Identifier: Apache-2.0
// Getting and showing policies for the CLI (policy_cli.h). What an owner
// approves is a hash; what it must see before is every value that hash
// commits to, in words, with the parts that give power to others (k-of-n
// fields, sim keys) spelled out.
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/policy_cli.h"
#include "coffer/error.h"
#include "crypto/jcs.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"

#define INSECURE_LINE "*** INSECURE: this policy accepts INSECURE SIMULATION " \
    "evidence: anyone with root on a sim host can get the keys ***"

static int
is_hash(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* GET path; a 200 with a body, or an error naming the coordinator's
 * refusal. */
static int
fetch(const struct cli_coord *cc, const char *path, struct coffer_buf *raw)
{
	json_t *reply = NULL;
	const json_t *e;
	const char *m;
	long code = 0;
	int r;

	if ((r = cli_coord_call(cc, "GET", path, NULL, 0, &code, NULL,
	    raw)) != 0)
		return r;
	if (code == 200)
		return 0;
	(void)!coffer_json_parse(coffer_buf_str(raw), raw->len, raw->max, 8, &reply);
	e = json_object_get(reply, "error");
	m = json_string_value(json_object_get(e, "message"));
	r = coffer_errf(code == 404 ? COFFER_E_NOTFOUND : COFFER_E_PROTO,
	    "%s: HTTP %ld: %s", path, code, m != NULL ? m : "no answer");
	json_decref(reply);
	return r;
}

int
cli_policy_get(const struct cli_coord *cc, const char *what,
    struct coffer_policy **out, json_t **status)
{
	struct coffer_buf text = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES);
	struct coffer_buf st = COFFER_BUF_INIT(1 << 20);
	struct coffer_policy *p = NULL;
	struct stat sb;
	json_t *sj = NULL;
	char path[128], hex[65];
	int r, fetched = 0;

	if (status != NULL)
		*status = NULL;
	if (stat(what, &sb) == 0 || !is_hash(what)) {
		/* A hash cut short ("760c2c77...e288", as printed for reading,
		 * or a prefix) is not a file name: say what to give. */
		if (stat(what, &sb) != 0 && what[0] != '\0' && strspn(what,
		    "0123456789abcdefABCDEF.") == strlen(what)) {
			r = coffer_errf(COFFER_E_NOTFOUND, "'%s' is neither a file nor "
			    "a policy hash: give the whole hash, 64 hex digits, as "
			    "'coffer policy new' printed it ('coffer policy status' "
			    "lists them)", what);
			goto out;
		}
		if ((r = coffer_file_read(what, COFFER_POLICY_MAX_BYTES, &text)) != 0)
			goto out;
	} else {
		snprintf(path, sizeof(path), "/v1/policies/%s", what);
		if ((r = fetch(cc, path, &text)) != 0)
			goto out;
		fetched = 1;
	}
	if ((r = coffer_policy_parse(coffer_buf_str(&text), text.len, &p)) != 0) {
		r = coffer_errctx(r, "policy %s", what);
		goto out;
	}
	coffer_policy_hash_hex(p, hex);
	if (fetched && strcmp(hex, what) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "the coordinator answered policy %s "
		    "when asked for %s", hex, what);
		goto out;
	}
	if (memcmp(p->coordinator.sign_pk, cc->pin.id.sign_pk, 32) != 0 ||
	    memcmp(p->coordinator.kx_pk, cc->pin.id.kx_pk, 32) != 0) {
		r = coffer_errf(COFFER_E_UNTRUSTED, "policy %s names another "
		    "coordinator than the pinned %s (%s)", hex, cc->pin.url,
		    cc->pin.fingerprint);
		goto out;
	}
	if (status != NULL && fetched) {
		snprintf(path, sizeof(path), "/v1/policies/%s/status", hex);
		if ((r = fetch(cc, path, &st)) != 0 ||
		    (r = coffer_json_parse(coffer_buf_str(&st), st.len, st.max, 16,
		    &sj)) != 0)
			goto out;
		*status = json_incref(json_object_get(sj, "status"));
	}
	*out = p;
	p = NULL;
out:
	coffer_policy_free(p);
	json_decref(sj);
	coffer_buf_release(&text);
	coffer_buf_release(&st);
	return r;
}

static void
print_time(FILE *f, const char *label, uint64_t t)
{
	char s[32];

	coffer_time_format((int64_t)t, s, sizeof(s));
	fprintf(f, "%-13s %s (%llu)%s\n", label, s, (unsigned long long)t,
	    (uint64_t)(coffer_wall_ms() / 1000) >= t ? "  ** EXPIRED **" : "");
}

static void
print_measurement(FILE *f, const struct coffer_policy_measurement *m)
{
	char hex[2 * COFFER_POLICY_MEASUREMENT_MAX + 1];

	coffer_hex_encode(m->value, m->len, hex);
	fprintf(f, "      %-8s %s%s\n", coffer_tee_type_name(m->tee), hex,
	    m->tee == COFFER_TEE_SIM ? "  (INSECURE SIMULATION)" : "");
}

/* What the verification object accepts that an owner must not accept
 * unknowingly (doc/format/evidence.md section 10.1). */
static void
print_risks(FILE *f, const struct coffer_policy *p)
{
	const struct coffer_tee_policy *tp = &p->tee_policy;
	unsigned risks = coffer_tee_policy_risks(tp);
	char hex[65];

	for (size_t i = 0; i < tp->n_sim_keys; i++) {
		coffer_hex_encode(tp->sim_keys[i], 32, hex);
		fprintf(f, "              INSECURE SIMULATION evidence accepted from "
		    "sim platform key %s\n", hex);
	}
	if (risks & COFFER_TEE_RISK_DEBUG)
		fprintf(f, "              DEBUG TEEs accepted: their host can read "
		    "their memory, keys included\n");
	if (risks & COFFER_TEE_RISK_NO_COLLATERAL)
		fprintf(f, "              Intel TCB may go unevaluated (missing "
		    "collateral allowed)\n");
	if (risks & COFFER_TEE_RISK_NO_CRL)
		fprintf(f, "              revocation may go unchecked (missing CRLs "
		    "allowed)\n");
}

void
cli_policy_print(FILE *f, const struct coffer_policy *p, const uint8_t *me,
    int full)
{
	struct coffer_buf vj = COFFER_BUF_INIT((size_t)1 << 20);
	char hex[65], fpl[65];

	coffer_policy_hash_hex(p, hex);
	if (coffer_policy_insecure(p))
		fprintf(f, "%s\n", INSECURE_LINE);
	fprintf(f, "policy        %s\n", p->name);
	fprintf(f, "hash          %s\n", hex);
	(void)!coffer_identity_fingerprint(&p->coordinator, fpl);
	fprintf(f, "coordinator   %s (%s)\n", fpl, p->coordinator.name);
	print_time(f, "expires", p->expires);
	if (p->has_previous) {
		coffer_hex_encode(p->previous, 32, hex);
		fprintf(f, "previous      %s\n", hex);
	} else {
		fprintf(f, "previous      none: a first version\n");
	}
	fprintf(f, "owners (%zu): every one must approve%s\n", p->nowners,
	    p->has_previous && p->has_update ? " (or the k of n of the previous "
	    "version, for its listed fields)" : "");
	for (size_t i = 0; i < p->nowners; i++) {
		const struct coffer_policy_owner *o = &p->owners[i];
		int mine = me != NULL && memcmp(me, o->fingerprint, 32) == 0;

		coffer_hex_encode(o->fingerprint, 32, fpl);
		fprintf(f, "  %-20s %s%s\n", o->id.name[0] ? o->id.name : "(no name)",
		    fpl, mine ? "  <- you" : "");
		for (size_t d = o->first_dataset;
		    d < o->first_dataset + o->ndatasets; d++) {
			const struct coffer_policy_dataset *ds = &p->datasets[d];
			char kid[33];

			coffer_hex_encode(ds->key_id, 16, kid);
			fprintf(f, "    dataset %s: key id %s, %zu object(s)\n", ds->name,
			    kid, ds->nobjects);
			if (!mine && !full)
				continue;
			for (size_t k = 0; k < ds->nobjects; k++) {
				coffer_hex_encode(ds->objects[k].digest, 32, hex);
				fprintf(f, "      %s  sha256:%s\n", ds->objects[k].key, hex);
			}
		}
	}
	fprintf(f, "apps (%zu):\n", p->napps);
	for (size_t i = 0; i < p->napps; i++) {
		const struct coffer_policy_app *a = &p->apps[i];

		coffer_hex_encode(a->sha256, 32, hex);
		fprintf(f, "  %s\n    file sha256 %s\n    stages      %s\n", a->name,
		    hex, a->reduce ? "map, reduce" : "map");
		fprintf(f, "    reads      ");
		for (size_t d = 0; d < a->ndatasets; d++)
			fprintf(f, " %s", p->datasets[a->datasets[d]].name);
		fprintf(f, "\n    measurements (workers that may run it):\n");
		for (size_t m = 0; m < a->nmeasurements; m++)
			print_measurement(f, &a->measurements[m]);
		fprintf(f, "    parameters%s\n", a->nparams ? ":" : ": none");
		for (size_t k = 0; k < a->nparams; k++) {
			fprintf(f, "      %s =", a->params[k].name);
			for (size_t v = 0; v < a->params[k].nvalues; v++)
				fprintf(f, "%s \"%s\"", v ? " |" : "", a->params[k].values[v]);
			fprintf(f, "\n");
		}
	}
	if (coffer_jcs_put(p->verification, &vj) == 0)
		fprintf(f, "verification  %s\n", coffer_buf_str(&vj));
	print_risks(f, p);
	fprintf(f, "recipients (%zu): may open the results\n", p->nrecipients);
	for (size_t i = 0; i < p->nrecipients; i++) {
		(void)!coffer_identity_fingerprint(&p->recipients[i], fpl);
		fprintf(f, "  %-20s %s\n", p->recipients[i].name[0] ?
		    p->recipients[i].name : "(no name)", fpl);
	}
	fprintf(f, "limits       ");
	if (p->nlimits == 0)
		fprintf(f, " none");
	for (size_t i = 0; i < p->nlimits; i++)
		fprintf(f, " %s = %llu%s", p->limits[i].name,
		    (unsigned long long)p->limits[i].value, i + 1 < p->nlimits ? "," : "");
	fprintf(f, "\ntolerance     an item fails after %llu failed attempt(s); "
	    "at most %llu failed, %llu abandoned\n",
	    (unsigned long long)p->fail_after, (unsigned long long)p->max_failed,
	    (unsigned long long)p->max_abandoned);
	if (!p->has_update) {
		fprintf(f, "update rule   every change needs every owner\n");
	} else {
		fprintf(f, "update rule   %llu of %zu owners may approve a new version "
		    "that changes only:", (unsigned long long)p->update_k, p->nowners);
		for (unsigned bit = 1; bit <= COFFER_POLICY_F_TOLERANCE; bit <<= 1)
			if (p->update_fields & bit)
				fprintf(f, " %s", coffer_policy_field_name(bit));
		fprintf(f, "\n");
		if (p->update_fields & (COFFER_POLICY_F_APPS | COFFER_POLICY_F_RECIPIENTS))
			fprintf(f, "              (so %llu owners can approve new code or "
			    "new recipients for every owner's data)\n",
			    (unsigned long long)p->update_k);
	}
	if (coffer_policy_insecure(p))
		fprintf(f, "%s\n", INSECURE_LINE);
	coffer_buf_release(&vj);
}

static void
print_fps(FILE *f, const struct coffer_policy *p, const char *label,
    const json_t *a)
{
	size_t i;
	json_t *v;

	if (json_array_size(a) == 0)
		return;
	fprintf(f, "%-13s", label);
	json_array_foreach(a, i, v) {
		const char *hex = json_string_value(v);
		const char *name = "";
		uint8_t fp[32];
		size_t hexlen;
		int o;

		if (hex != NULL && coffer_hex_decode(hex, strlen(hex), fp, 32, &hexlen) == 0 &&
		    (o = coffer_policy_owner_index(p, fp)) >= 0)
			name = p->owners[o].id.name;
		fprintf(f, " %s%s%.16s", name, name[0] ? " " : "", hex ? hex : "?");
		if (i + 1 < json_array_size(a))
			fprintf(f, ",");
	}
	fprintf(f, "\n");
}

void
cli_policy_print_status(FILE *f, const struct coffer_policy *p,
    const json_t *st)
{
	const char *state = json_string_value(json_object_get(st, "state"));
	const char *reason = json_string_value(json_object_get(st, "reason"));
	const char *fnl = json_string_value(json_object_get(st, "field_not_listed"));
	const char *sup = json_string_value(json_object_get(st, "superseded_by"));
	const json_t *needed = json_object_get(st, "needed");
	const json_t *mrev = json_object_get(st, "revoked_measurements");
	size_t i;
	json_t *v;

	fprintf(f, "state         %s%s%s%s\n", state ? state : "?",
	    json_is_true(json_object_get(st, "active")) ? ", active" : ", not active",
	    reason ? ": " : "", reason ? reason : "");
	print_fps(f, p, "approved by", json_object_get(st, "approved_by"));
	print_fps(f, p, "missing", json_object_get(st, "missing"));
	print_fps(f, p, "revoked by", json_object_get(st, "revoked_by"));
	if (json_is_integer(needed))
		fprintf(f, "needed        %lld more approval(s) (k of n)\n",
		    (long long)json_integer_value(needed));
	if (fnl != NULL)
		fprintf(f, "k of n        not possible: '%s' changed and the previous "
		    "version does not list it\n", fnl);
	if (sup != NULL)
		fprintf(f, "superseded by %s\n", sup);
	json_array_foreach(mrev, i, v)
		fprintf(f, "revoked       %s measurement %s\n",
		    json_string_value(json_object_get(v, "tee")),
		    json_string_value(json_object_get(v, "value")));
}
