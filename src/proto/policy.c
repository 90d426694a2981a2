// SPDX-License-Identifier: Apache-2.0
// Policies (doc/format/policy.md): the parser, for the coordinator and the
// owner's CLI. It applies rules P1 to P17 in the order of section 4 and
// keeps the parsed document: every string in struct coffer_policy is
// borrowed from it, so there is one copy of each value and nothing to keep
// in sync. What a worker also uses (lookups, items, measurements, the hash,
// free) is policy_query.c, so that coffer-worker does not link this file.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/jcs.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/jfield.h"
#include "proto/policy.h"
#include "proto/policy_int.h"
#include "tee/policy.h"

static const char *const field_names[] = {
	"expires", "apps", "verification", "recipients", "limits", "tolerance",
	"name", "coordinator", "owners", "update",
};
#define NFIELDS (sizeof(field_names) / sizeof(field_names[0]))

const char *
coffer_policy_field_name(unsigned bit)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (bit == 1u << i)
			return field_names[i];
	return "?";
}

int
policy_array_of(const json_t *obj, const char *ctx, const char *key, size_t min,
    size_t max, json_t **out)
{
	char path[COFFER_JFIELD_PATH_MAX];
	json_t *a = json_object_get(obj, key);

	coffer_jfield_path(path, ctx, key);
	if (!json_is_array(a))
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an array", path);
	if (json_array_size(a) < min || json_array_size(a) > max)
		return coffer_errf(COFFER_E_FORMAT, "%s: %zu elements, expected %zu "
		    "to %zu", path, json_array_size(a), min, max);
	*out = a;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* COFFER_E_FORMAT if two of the n strings are equal. */
static int
unique_strings(const char **v, size_t n, const char *what)
{
	const char **s = coffer_mallocarray(n, sizeof(*s));

	if (s == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (strcmp(s[i - 1], s[i]) == 0) {
			int r = coffer_errf(COFFER_E_FORMAT, "%s \"%s\" is used twice",
			    what, s[i]);
			free(s);
			return r;
		}
	free(s);
	return 0;
}

/* P4 */
static int
parse_head(struct coffer_policy *p, const json_t *root)
{
	int r;

	if ((r = coffer_jfield_str(root, NULL, "name", 1, COFFER_POLICY_NAME_MAX,
	    COFFER_JFIELD_NAME, &p->name)) != 0)
		return r;
	if (json_object_get(root, "previous") != NULL) {
		if ((r = coffer_jfield_hex(root, NULL, "previous", p->previous, 32)) != 0)
			return r;
		p->has_previous = 1;
	}
	return coffer_jfield_uint(root, NULL, "expires", 1, COFFER_JFIELD_INT_MAX,
	    &p->expires);
}

/* P8: the objects of one dataset. */
int
policy_parse_objects(struct coffer_policy_dataset *d, const json_t *ds,
    const char *ctx, size_t *total)
{
	static const char *const members[] = { "key", "digest", NULL };
	char path[COFFER_JFIELD_PATH_MAX], ep[COFFER_JFIELD_PATH_MAX];
	json_t *a, *o;
	size_t i;
	int r;

	if ((r = policy_array_of(ds, ctx, "objects", 1, COFFER_POLICY_MAX_OBJECTS, &a)) != 0)
		return r;
	if (*total + json_array_size(a) > COFFER_POLICY_MAX_OBJECTS)
		return coffer_errf(COFFER_E_FORMAT, "%s.objects: more than %d objects "
		    "in the policy", ctx, COFFER_POLICY_MAX_OBJECTS);
	*total += json_array_size(a);
	d->objects = coffer_calloc(json_array_size(a), sizeof(*d->objects));
	if (d->objects == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	coffer_jfield_path(path, ctx, "objects");
	json_array_foreach(a, i, o) {
		coffer_jfield_index(ep, path, i);
		if ((r = coffer_jfield_keys(o, ep, members, NULL)) != 0 ||
		    (r = coffer_jfield_str(o, ep, "key", 1, COFFER_POLICY_KEY_MAX,
		    "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
		    "abcdefghijklmnopqrstuvwxyz{|}~", &d->objects[i].key)) != 0 ||
		    (r = coffer_jfield_digest(o, ep, "digest", d->objects[i].digest)) != 0)
			return r;
		d->nobjects++;
	}
	return 0;
}

static int
cmp_keyid(const void *a, const void *b)
{
	const struct coffer_policy_dataset *x = *(const struct coffer_policy_dataset *const *)a;
	const struct coffer_policy_dataset *y = *(const struct coffer_policy_dataset *const *)b;

	return memcmp(x->key_id, y->key_id, 16);
}

/* P6, and P7 for each dataset alone (PA4): owners, their datasets'
 * names and key ids. */
int
policy_read_owners(struct coffer_policy *p, const json_t *root)
{
	static const char *const omembers[] = { "id", "datasets", NULL };
	static const char *const dmembers[] = { "name", "key_id", "objects", NULL };
	char op[COFFER_JFIELD_PATH_MAX], dp[COFFER_JFIELD_PATH_MAX];
	size_t i, j, nd = 0;
	json_t *owners, *o, *dsa, *ds;
	int r;

	if ((r = policy_array_of(root, NULL, "owners", 1, COFFER_POLICY_MAX_OWNERS,
	    &owners)) != 0)
		return r;
	json_array_foreach(owners, i, o) {
		coffer_jfield_index(op, "owners", i);
		if ((r = coffer_jfield_keys(o, op, omembers, NULL)) != 0 ||
		    (r = policy_array_of(o, op, "datasets", 0, 64, &dsa)) != 0)
			return r;
		nd += json_array_size(dsa);
	}
	p->owners = coffer_calloc(json_array_size(owners), sizeof(*p->owners));
	p->datasets = coffer_calloc(nd ? nd : 1, sizeof(*p->datasets));
	if (p->owners == NULL || p->datasets == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	json_array_foreach(owners, i, o) {
		struct coffer_policy_owner *ow = &p->owners[i];

		coffer_jfield_index(op, "owners", i);
		if ((r = coffer_jfield_identity(o, op, "id", &ow->id)) != 0)
			return r;
		if ((r = coffer_sha256(ow->id.sign_pk, 64, ow->fingerprint)) != 0)
			return r;
		for (j = 0; j < i; j++)
			if (coffer_policy_same_identity(&p->owners[j].id, &ow->id))
				return coffer_errf(COFFER_E_FORMAT, "%s.id: the same keys as "
				    "owners[%zu] (one owner listed twice)", op, j);
		p->nowners++;
	}
	/* P7: the datasets (their objects are P8, read apart). */
	json_array_foreach(owners, i, o) {
		struct coffer_policy_owner *ow = &p->owners[i];

		ow->first_dataset = p->ndatasets;
		coffer_jfield_index(op, "owners", i);
		dsa = json_object_get(o, "datasets");
		json_array_foreach(dsa, j, ds) {
			struct coffer_policy_dataset *d = &p->datasets[p->ndatasets];
			char base[COFFER_JFIELD_PATH_MAX];

			coffer_jfield_path(base, op, "datasets");
			coffer_jfield_index(dp, base, j);
			if ((r = coffer_jfield_keys(ds, dp, dmembers, NULL)) != 0 ||
			    (r = coffer_jfield_str(ds, dp, "name", 1,
			    COFFER_POLICY_NAME_MAX, COFFER_JFIELD_NAME, &d->name)) != 0 ||
			    (r = coffer_jfield_hex(ds, dp, "key_id", d->key_id, 16)) != 0)
				return r;
			d->owner = i;
			p->ndatasets++;
			ow->ndatasets++;
		}
	}
	return 0;
}

/* The json path of dataset j of owner i. */
void
policy_dataset_path(char dp[COFFER_JFIELD_PATH_MAX], size_t i, size_t j)
{
	char op[COFFER_JFIELD_PATH_MAX], base[COFFER_JFIELD_PATH_MAX];

	coffer_jfield_index(op, "owners", i);
	coffer_jfield_path(base, op, "datasets");
	coffer_jfield_index(dp, base, j);
}

/* The dataset objects of policy p's dataset d (an index). */
const json_t *
policy_dataset_json(const struct coffer_policy *p, const json_t *root, size_t d)
{
	const json_t *o = json_array_get(json_object_get(root, "owners"),
	    p->datasets[d].owner);

	return json_array_get(json_object_get(o, "datasets"),
	    d - p->owners[p->datasets[d].owner].first_dataset);
}

/* P6 to P8 */
static int
parse_owners(struct coffer_policy *p, const json_t *root)
{
	char dp[COFFER_JFIELD_PATH_MAX];
	const struct coffer_policy_dataset **byid = NULL;
	const char **names = NULL, **keys = NULL;
	size_t i, j, total = 0, nk = 0;
	int r;

	if ((r = policy_read_owners(p, root)) != 0)
		return r;
	names = coffer_mallocarray(p->ndatasets, sizeof(*names));
	byid = coffer_mallocarray(p->ndatasets, sizeof(*byid));
	if (names == NULL || byid == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < p->ndatasets; i++) {
		names[i] = p->datasets[i].name;
		byid[i] = &p->datasets[i];
	}
	if ((r = unique_strings(names, p->ndatasets, "owners: dataset name")) != 0)
		goto out;
	qsort(byid, p->ndatasets, sizeof(*byid), cmp_keyid);
	for (i = 1; i < p->ndatasets; i++)
		if (memcmp(byid[i - 1]->key_id, byid[i]->key_id, 16) == 0 &&
		    byid[i - 1]->owner != byid[i]->owner) {
			r = coffer_errf(COFFER_E_FORMAT, "owners: datasets \"%s\" and "
			    "\"%s\" of two owners have the same key_id",
			    byid[i - 1]->name, byid[i]->name);
			goto out;
		}
	/* P8 */
	for (i = 0; i < p->ndatasets; i++) {
		policy_dataset_path(dp, p->datasets[i].owner,
		    i - p->owners[p->datasets[i].owner].first_dataset);
		if ((r = policy_parse_objects(&p->datasets[i],
		    policy_dataset_json(p, root, i), dp, &total)) != 0)
			goto out;
	}
	keys = coffer_mallocarray(total, sizeof(*keys));
	if (keys == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < p->ndatasets; i++)
		for (j = 0; j < p->datasets[i].nobjects; j++)
			keys[nk++] = p->datasets[i].objects[j].key;
	r = unique_strings(keys, nk, "owners: object key");
out:
	free(names);
	free(byid);
	free(keys);
	return r;
}

static int
dataset_index(const struct coffer_policy *p, const char *name)
{
	for (size_t i = 0; i < p->ndatasets; i++)
		if (strcmp(p->datasets[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* P11 */
static int
parse_measurements(struct coffer_policy_app *a, const json_t *app, const char *ctx)
{
	static const char *const members[] = { "tee", "value", NULL };
	char path[COFFER_JFIELD_PATH_MAX], ep[COFFER_JFIELD_PATH_MAX];
	const char *tee, *value;
	json_t *arr, *m;
	size_t i;
	int r;

	if ((r = policy_array_of(app, ctx, "measurements", 1, 64, &arr)) != 0)
		return r;
	a->measurements = coffer_calloc(json_array_size(arr), sizeof(*a->measurements));
	if (a->measurements == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	coffer_jfield_path(path, ctx, "measurements");
	json_array_foreach(arr, i, m) {
		coffer_jfield_index(ep, path, i);
		if ((r = coffer_jfield_keys(m, ep, members, NULL)) != 0 ||
		    (r = coffer_jfield_str(m, ep, "tee", 1, 16, NULL, &tee)) != 0 ||
		    (r = coffer_jfield_str(m, ep, "value", 1, 2 *
		    COFFER_POLICY_MEASUREMENT_MAX, NULL, &value)) != 0 ||
		    (r = coffer_policy_measurement_parse(tee, value, ep,
		    &a->measurements[i])) != 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (policy_same_measurement(&a->measurements[j], &a->measurements[i]))
				return coffer_errf(COFFER_E_FORMAT, "%s: the same as "
				    "measurements[%zu]", ep, j);
		a->nmeasurements++;
	}
	return 0;
}

static int
param_name_ok(const char *k)
{
	size_t n = strlen(k);

	if (n < 1 || n > 64 || strncmp(k, "coffer.", 7) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strchr(COFFER_JFIELD_NAME, k[i]) == NULL)
			return 0;
	return 1;
}

/* P12 */
static int
parse_params(struct coffer_policy_app *a, const json_t *app, const char *ctx)
{
	char path[COFFER_JFIELD_PATH_MAX], pp[COFFER_JFIELD_PATH_MAX],
	    vp[COFFER_JFIELD_PATH_MAX];
	const char *k;
	json_t *obj = json_object_get(app, "params"), *vals, *v;
	size_t n = 0, i;
	int r;

	coffer_jfield_path(path, ctx, "params");
	if (!json_is_object(obj) || json_object_size(obj) > 64)
		return coffer_errf(COFFER_E_FORMAT, "%s: expected an object of at most "
		    "64 parameters", path);
	a->params = coffer_calloc(json_object_size(obj) ? json_object_size(obj) : 1,
	    sizeof(*a->params));
	if (a->params == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	json_object_foreach(obj, k, vals) {
		struct coffer_policy_param *pa = &a->params[n];

		coffer_jfield_path(pp, path, k);
		if (!param_name_ok(k))
			return coffer_errf(COFFER_E_FORMAT, "%s: a parameter name is 1 to 64 "
			    "of A-Z a-z 0-9 _ . - and never starts with \"coffer.\"", pp);
		if (!json_is_array(vals) || json_array_size(vals) < 1 ||
		    json_array_size(vals) > 64)
			return coffer_errf(COFFER_E_FORMAT, "%s: expected an array of 1 to "
			    "64 allowed values", pp);
		pa->name = k;
		pa->values = coffer_calloc(json_array_size(vals), sizeof(char *));
		if (pa->values == NULL)
			return coffer_errf(COFFER_E_NOMEM, "out of memory");
		n++;
		a->nparams = n;
		json_array_foreach(vals, i, v) {
			coffer_jfield_index(vp, pp, i);
			if ((r = coffer_jfield_strval(v, vp, 0, COFFER_POLICY_VALUE_MAX,
			    NULL, &pa->values[i])) != 0)
				return r;
			for (size_t j = 0; j < i; j++)
				if (strcmp(pa->values[j], pa->values[i]) == 0)
					return coffer_errf(COFFER_E_FORMAT, "%s: the same value "
					    "as [%zu]", vp, j);
			pa->nvalues++;
		}
	}
	return 0;
}

/* P9 to P12 for one app, a: its members as JSON (path ap). */
int
policy_parse_app(const struct coffer_policy *p, struct coffer_policy_app *a,
    const json_t *app, const char *ap)
{
	static const char *const members[] = { "name", "sha256", "datasets", "reduce",
		"measurements", "params", NULL };
	char dp[COFFER_JFIELD_PATH_MAX], ep[COFFER_JFIELD_PATH_MAX];
	const char *dn;
	json_t *dsa, *d;
	size_t j;
	int r;

	/* P9 */
	if ((r = coffer_jfield_keys(app, ap, members, NULL)) != 0 ||
	    (r = coffer_jfield_str(app, ap, "name", 1, COFFER_POLICY_NAME_MAX,
	    COFFER_JFIELD_LOWER_NAME, &a->name)) != 0 ||
	    (r = coffer_jfield_hex(app, ap, "sha256", a->sha256, 32)) != 0 ||
	    (r = coffer_jfield_bool(app, ap, "reduce", &a->reduce)) != 0)
		return r;
	/* P10 */
	if ((r = policy_array_of(app, ap, "datasets", 1, 64, &dsa)) != 0)
		return r;
	a->datasets = coffer_calloc(json_array_size(dsa), sizeof(size_t));
	if (a->datasets == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	coffer_jfield_path(dp, ap, "datasets");
	json_array_foreach(dsa, j, d) {
		int x;

		coffer_jfield_index(ep, dp, j);
		if ((r = coffer_jfield_strval(d, ep, 1, COFFER_POLICY_NAME_MAX,
		    NULL, &dn)) != 0)
			return r;
		if ((x = dataset_index(p, dn)) < 0)
			return coffer_errf(COFFER_E_FORMAT, "%s: no dataset named "
			    "\"%s\" in the policy", ep, dn);
		for (size_t k = 0; k < j; k++)
			if (a->datasets[k] == (size_t)x)
				return coffer_errf(COFFER_E_FORMAT, "%s: \"%s\" is listed "
				    "twice", ep, dn);
		a->datasets[j] = (size_t)x;
		a->ndatasets++;
	}
	/* P11, P12 */
	if ((r = parse_measurements(a, app, ap)) != 0 ||
	    (r = parse_params(a, app, ap)) != 0)
		return r;
	return 0;
}

/* P9 to P12 */
static int
parse_apps(struct coffer_policy *p, const json_t *root)
{
	char ap[COFFER_JFIELD_PATH_MAX];
	const char *names[COFFER_POLICY_MAX_APPS];
	json_t *apps, *app;
	size_t i;
	int r;

	if ((r = policy_array_of(root, NULL, "apps", 1, COFFER_POLICY_MAX_APPS, &apps)) != 0)
		return r;
	p->apps = coffer_calloc(json_array_size(apps), sizeof(*p->apps));
	if (p->apps == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	json_array_foreach(apps, i, app) {
		coffer_jfield_index(ap, "apps", i);
		p->napps++;
		if ((r = policy_parse_app(p, &p->apps[i], app, ap)) != 0)
			return r;
		names[i] = p->apps[i].name;
	}
	return unique_strings(names, p->napps, "apps: name");
}

/* P14 */
static int
parse_recipients(struct coffer_policy *p, const json_t *root)
{
	char rp[COFFER_JFIELD_PATH_MAX];
	json_t *a, *v;
	size_t i;
	int r;

	if ((r = policy_array_of(root, NULL, "recipients", 1, 64, &a)) != 0)
		return r;
	p->recipients = coffer_calloc(json_array_size(a), sizeof(*p->recipients));
	if (p->recipients == NULL)
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	json_array_foreach(a, i, v) {
		coffer_jfield_index(rp, "recipients", i);
		if ((r = coffer_jfield_identityval(v, rp, &p->recipients[i])) != 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (coffer_policy_same_identity(&p->recipients[j], &p->recipients[i]))
				return coffer_errf(COFFER_E_FORMAT, "%s: the same keys as "
				    "recipients[%zu]", rp, j);
		p->nrecipients++;
	}
	return 0;
}

/* P15 to P17 */
static int
parse_optional(struct coffer_policy *p, const json_t *root)
{
	static const char *const tmembers[] = { "fail_after", "max_failed",
		"max_abandoned", NULL };
	static const char *const umembers[] = { "k", "fields", NULL };
	char lp[COFFER_JFIELD_PATH_MAX];
	const json_t *lim = json_object_get(root, "limits");
	const json_t *tol = json_object_get(root, "tolerance");
	const json_t *upd = json_object_get(root, "update");
	const char *k, *f;
	json_t *v, *fields;
	size_t i;
	int r;

	p->fail_after = 1;
	if (lim != NULL) {
		if (!json_is_object(lim) || json_object_size(lim) > 32)
			return coffer_errf(COFFER_E_FORMAT, "limits: expected an object of "
			    "at most 32 members");
		p->limits = coffer_calloc(json_object_size(lim) ? json_object_size(lim) : 1,
		    sizeof(*p->limits));
		if (p->limits == NULL)
			return coffer_errf(COFFER_E_NOMEM, "out of memory");
		json_object_foreach((json_t *)lim, k, v) {
			coffer_jfield_path(lp, "limits", k);
			if (strlen(k) < 1 || strlen(k) > 64 ||
			    strspn(k, COFFER_JFIELD_LIMIT_NAME) != strlen(k))
				return coffer_errf(COFFER_E_FORMAT, "%s: a limit name is 1 to "
				    "64 of a-z 0-9 _", lp);
			p->limits[p->nlimits].name = k;
			if ((r = coffer_jfield_uint(lim, "limits", k, 0,
			    COFFER_JFIELD_INT_MAX, &p->limits[p->nlimits].value)) != 0)
				return r;
			p->nlimits++;
		}
	}
	if (tol != NULL &&
	    ((r = coffer_jfield_keys(tol, "tolerance", tmembers, NULL)) != 0 ||
	    (r = coffer_jfield_uint(tol, "tolerance", "fail_after", 1, 16,
	    &p->fail_after)) != 0 ||
	    (r = coffer_jfield_uint(tol, "tolerance", "max_failed", 0,
	    COFFER_JFIELD_INT_MAX, &p->max_failed)) != 0 ||
	    (r = coffer_jfield_uint(tol, "tolerance", "max_abandoned", 0,
	    COFFER_JFIELD_INT_MAX, &p->max_abandoned)) != 0))
		return r;
	if (upd == NULL)
		return 0;
	if ((r = coffer_jfield_keys(upd, "update", umembers, NULL)) != 0 ||
	    (r = coffer_jfield_uint(upd, "update", "k", 1, p->nowners,
	    &p->update_k)) != 0 ||
	    (r = policy_array_of(upd, "update", "fields", 1, 6, &fields)) != 0)
		return r;
	json_array_foreach(fields, i, v) {
		unsigned bit = 0;

		coffer_jfield_index(lp, "update.fields", i);
		if ((r = coffer_jfield_strval(v, lp, 1, 32, NULL, &f)) != 0)
			return r;
		for (size_t j = 0; j < NFIELDS; j++)
			if (strcmp(f, field_names[j]) == 0)
				bit = 1u << j;
		if ((bit & COFFER_POLICY_F_LISTABLE) == 0)
			return coffer_errf(COFFER_E_FORMAT, "%s: \"%s\" cannot be changed by "
			    "k of n owners (expires, apps, verification, recipients, "
			    "limits, tolerance)", lp, f);
		if (p->update_fields & bit)
			return coffer_errf(COFFER_E_FORMAT, "%s: \"%s\" is listed twice", lp, f);
		p->update_fields |= bit;
	}
	p->has_update = 1;
	return 0;
}

/* A new policy holding the parsed text (P1's parse, PA2's). */
int
policy_new(const char *text, size_t len, const char *what,
    struct coffer_policy **out)
{
	json_t *root = NULL;
	int r;

	if ((r = coffer_json_parse(text, len, COFFER_POLICY_MAX_BYTES,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &root)) != 0)
		return coffer_errctx(r, "%s", what);
	if ((*out = coffer_calloc(1, sizeof(**out))) == NULL) {
		json_decref(root);
		return coffer_errf(COFFER_E_NOMEM, "out of memory");
	}
	(*out)->root = root;
	return 0;
}

int
coffer_policy_parse(const char *text, size_t len, struct coffer_policy **out)
{
	static const char *const required[] = { "type", "version", "name",
		"coordinator", "expires", "owners", "apps", "verification",
		"recipients", NULL };
	static const char *const optional[] = { "previous", "limits", "tolerance",
		"update", NULL };
	struct coffer_policy *p = NULL;
	json_t *root = NULL;
	int r;

	/* P1 */
	if ((r = policy_new(text, len, "policy", &p)) != 0)
		return r;
	root = p->root;
	coffer_buf_init(&p->jcs, 2 * COFFER_POLICY_MAX_BYTES);
	/* P1: integers only, anywhere (also in the opaque verification
	 * object): a real such as 1e20 canonicalizes to digits that a strict
	 * parser reads as an integer too big for it, and the canonical form
	 * of every policy must parse again to the same hash. */
	if ((r = coffer_json_no_reals(root, "policy")) != 0)
		goto out;
	/* P2 to P5 */
	if ((r = coffer_jfield_keys(root, NULL, required, optional)) != 0 ||
	    (r = coffer_jfield_type(root, NULL, "coffer-policy")) != 0 ||
	    (r = coffer_jfield_version(root, NULL)) != 0 ||
	    (r = parse_head(p, root)) != 0 ||
	    (r = coffer_jfield_identity(root, NULL, "coordinator",
	    &p->coordinator)) != 0)
		goto out;
	/* P6 to P12 */
	if ((r = parse_owners(p, root)) != 0 || (r = parse_apps(p, root)) != 0)
		goto out;
	/* P13: the verification policy object, by its own rules
	 * (doc/format/evidence.md section 10.3, V1 to V11). */
	p->verification = json_object_get(root, "verification");
	if (!json_is_object(p->verification)) {
		r = coffer_errf(COFFER_E_FORMAT, "verification: expected an object");
		goto out;
	}
	if ((r = coffer_tee_policy_from_json(p->verification, &p->tee_policy)) != 0)
		goto out;
	/* P14 to P17 */
	if ((r = parse_recipients(p, root)) != 0 ||
	    (r = parse_optional(p, root)) != 0)
		goto out;
	/* Section 5 */
	if ((r = coffer_jcs_put(root, &p->jcs)) != 0 ||
	    (r = coffer_policy_hash_text((const char *)p->jcs.data,
	    p->jcs.len, p->hash)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	coffer_policy_free(p);
	return r != 0 ? coffer_errctx(r, "policy") : 0;
}

static int
member_differs(const json_t *a, const json_t *b, const char *key, int *out)
{
	struct coffer_buf x = COFFER_BUF_INIT(2 * COFFER_POLICY_MAX_BYTES);
	struct coffer_buf y = COFFER_BUF_INIT(2 * COFFER_POLICY_MAX_BYTES);
	const json_t *va = json_object_get(a, key), *vb = json_object_get(b, key);
	int r = 0;

	if (va == NULL || vb == NULL) {
		*out = (va == NULL) != (vb == NULL);
		return 0;
	}
	if ((r = coffer_jcs_put(va, &x)) == 0 && (r = coffer_jcs_put(vb, &y)) == 0)
		*out = x.len != y.len || memcmp(x.data, y.data, x.len) != 0;
	coffer_buf_release(&x);
	coffer_buf_release(&y);
	return r;
}

int
coffer_policy_changed(const struct coffer_policy *a, const struct coffer_policy *b,
    unsigned *mask)
{
	unsigned m = 0;
	int r, d;

	for (size_t i = 0; i < NFIELDS; i++) {
		if ((r = member_differs(a->root, b->root, field_names[i], &d)) != 0)
			return r;
		if (d)
			m |= 1u << i;
	}
	*mask = m;
	return 0;
}

int
coffer_policy_insecure(const struct coffer_policy *p)
{
	if (coffer_tee_policy_risks(&p->tee_policy) & COFFER_TEE_RISK_SIM)
		return 1;
	for (size_t i = 0; i < p->napps; i++)
		for (size_t j = 0; j < p->apps[i].nmeasurements; j++)
			if (p->apps[i].measurements[j].tee == COFFER_TEE_SIM)
				return 1;
	return 0;
}
