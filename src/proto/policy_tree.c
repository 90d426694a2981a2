// SPDX-License-Identifier: Apache-2.0
// Policies (doc/format/policy.md section 4.1): rules PA1 to PA6 read from
// a jansson tree of the text, with the parser's own steps (policy.c). Not
// the worker's reader (policy_read.c) but the reference it is checked
// against (tests/unit/test_proto_policy.c, tests/fuzz/fuzz_policy.c): its
// own object, so that no trusted binary links it.
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/mem.h"
#include "proto/jfield.h"
#include "proto/policy.h"
#include "proto/policy_int.h"

/* PA5: the app named `name` of the apps array, P9 to P12, into p->apps
 * (napps 0 when none has that name). */
static int
read_app(struct coffer_policy *p, const json_t *root, const char *name)
{
	char ap[COFFER_JFIELD_PATH_MAX];
	const char *n;
	json_t *apps, *app;
	size_t i;
	int r;

	if ((r = policy_array_of(root, NULL, "apps", 1, COFFER_POLICY_MAX_APPS, &apps)) != 0)
		return r;
	json_array_foreach(apps, i, app) {
		coffer_jfield_index(ap, "apps", i);
		if (!json_is_object(app))
			return coffer_errf(COFFER_E_FORMAT, "%s: expected an object", ap);
		if ((r = coffer_jfield_str(app, ap, "name", 1, COFFER_POLICY_NAME_MAX,
		    COFFER_JFIELD_LOWER_NAME, &n)) != 0)
			return r;
		if (strcmp(n, name) != 0 || p->napps != 0)
			continue;
		if ((p->apps = coffer_calloc(1, sizeof(*p->apps))) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "out of memory");
		p->napps = 1;
		if ((r = policy_parse_app(p, &p->apps[0], app, ap)) != 0)
			return r;
	}
	return 0;
}

int
coffer_policy_read_approved_tree(const char *text, size_t len,
    const uint8_t hash[32], const char *app, struct coffer_policy **out)
{
	struct coffer_policy *p = NULL;
	const struct coffer_policy_app *a;
	json_t *root = NULL;
	uint8_t got[32];
	char dp[COFFER_JFIELD_PATH_MAX], gh[65], wh[65];
	size_t total = 0;
	int r;

	/* PA1: nothing is parsed before the bytes are the approved ones. */
	if (len > COFFER_POLICY_MAX_BYTES)
		return coffer_errf(COFFER_E_LIMIT, "PA1: the policy is %zu bytes, more"
		    " than %zu", len, COFFER_POLICY_MAX_BYTES);
	if ((r = coffer_policy_hash_text(text, len, got)) != 0)
		return r;
	if (memcmp(got, hash, 32) != 0) {
		coffer_hex_encode(got, 32, gh);
		coffer_hex_encode(hash, 32, wh);
		return coffer_errf(COFFER_E_AUTH, "PA1: the policy text is the policy"
		    " %s, not %s", gh, wh);
	}
	/* PA2 */
	if ((r = policy_new(text, len, "PA2: policy", &p)) != 0)
		return r;
	root = p->root;
	p->partial = 1;
	memcpy(p->hash, hash, 32);
	if (!json_is_object(root)) {
		r = coffer_errf(COFFER_E_FORMAT, "PA2: policy: expected an object");
		goto out;
	}
	/* PA3 to PA5 */
	if ((r = coffer_jfield_identity(root, NULL, "coordinator",
	    &p->coordinator)) != 0 || (r = policy_read_owners(p, root)) != 0 ||
	    (r = read_app(p, root, app)) != 0)
		goto out;
	/* PA6: the objects of the app's datasets, the others left empty. */
	a = p->napps ? &p->apps[0] : NULL;
	for (size_t i = 0; a != NULL && i < a->ndatasets; i++) {
		size_t d = a->datasets[i];

		policy_dataset_path(dp, p->datasets[d].owner,
		    d - p->owners[p->datasets[d].owner].first_dataset);
		if ((r = policy_parse_objects(&p->datasets[d],
		    policy_dataset_json(p, root, d), dp, &total)) != 0)
			goto out;
	}
	*out = p;
	p = NULL;
out:
	coffer_policy_free(p);
	return r != 0 ? coffer_errctx(r, "policy") : 0;
}
