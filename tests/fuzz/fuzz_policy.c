// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the policy parser (src/proto/policy.c, rules P1 to
// P17) and the reader of an approved policy (section 4.1, PA1 to PA6):
// any text is parsed or refused cleanly by both (the reader is given the
// text's own hash, so PA2 to PA6 see every input); a policy that parses
// has a canonical form that parses again to the same hash, its items can
// be listed, it differs from itself in no field, and the reader of its
// canonical form gives every app the same items as the full parse. The
// one-pass reader and the tree reader it replaced (policy.md 4.1) are run
// side by side: what the one-pass reader takes, the tree reader takes with
// the same values; on canonical text (the input's own canonical form,
// and the input when it is one) they agree on every answer.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/jcs.h"
#include "lib/json.h"
#include "proto/policy.h"

#include "../support/policy_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Section 5's hash of text, whatever text is. */
static void
hash_of(const uint8_t *text, size_t len, uint8_t out[32])
{
	static const char label[] = "coffer/policy/v1";
	struct coffer_hash *h = NULL;

	if (coffer_hash_new(COFFER_HASH_SHA256, &h) != 0 ||
	    coffer_hash_update(h, label, sizeof(label)) != 0 ||
	    coffer_hash_update(h, text, len) != 0 ||
	    coffer_hash_final(h, out, 32) != 0)
		__builtin_trap();
	coffer_hash_free(h);
}

/* The reader's items for app a of p equal the full parse's. */
static void
same_items(const struct coffer_policy *p, const struct coffer_policy_app *a,
    const struct coffer_policy_item *items, size_t n)
{
	struct coffer_policy *r = NULL;
	struct coffer_policy_item *ri;
	size_t rn;

	if (coffer_policy_read_approved((const char *)p->jcs.data, p->jcs.len,
	    p->hash, a->name, &r) != 0 || r->napps != 1 ||
	    memcmp(r->apps[0].sha256, a->sha256, 32) != 0 ||
	    r->apps[0].reduce != a->reduce || r->nowners != p->nowners ||
	    coffer_policy_items(r, &r->apps[0], &ri, &rn) != 0)
		__builtin_trap();
	if (rn != n)
		__builtin_trap();
	for (size_t j = 0; j < n; j++)
		if (strcmp(ri[j].key, items[j].key) != 0 ||
		    memcmp(ri[j].digest, items[j].digest, 32) != 0 ||
		    ri[j].owner != items[j].owner || ri[j].dataset != items[j].dataset)
			__builtin_trap();
	free(ri);
	coffer_policy_free(r);
}

/* Both readers on text for app; canonical: the text is its own
 * canonical form, so they must agree on everything. */
static void
readers(const uint8_t *text, size_t len, const char *app, int canonical)
{
	struct coffer_policy *a = NULL, *b = NULL;
	uint8_t h[32];
	int ra, rb;

	hash_of(text, len, h);
	ra = coffer_policy_read_approved((const char *)text, len, h, app, &a);
	rb = coffer_policy_read_approved_tree((const char *)text, len, h, app, &b);
	if (ra == 0 && (rb != 0 || policy_same_read(a, b) != NULL))
		__builtin_trap();
	if (canonical && ra != rb)
		__builtin_trap();
	coffer_policy_free(a);
	coffer_policy_free(b);
}

/* The differential check on the input and on its canonical form. */
static void
differential(const uint8_t *data, size_t size)
{
	struct coffer_buf t = COFFER_BUF_INIT((size_t)4 << 20);
	json_t *v = NULL;
	int canonical = 0;

	if (coffer_json_parse((const char *)data, size, COFFER_POLICY_MAX_BYTES,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &v) == 0 && coffer_jcs_put(v, &t) == 0)
		canonical = t.len == size && memcmp(t.data, data, size) == 0;
	readers(data, size, "a", canonical);
	readers(data, size, "dicom-deid", canonical);
	if (!canonical && t.len > 0) {
		readers(t.data, t.len, "a", 1);
		readers(t.data, t.len, "dicom-deid", 1);
	}
	json_decref(v);
	coffer_buf_release(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_policy *p = NULL, *q = NULL;
	struct coffer_policy_item *items;
	uint8_t h[32];
	unsigned mask;
	size_t n;

	differential(data, size);
	/* The reader, past PA1, on any text. */
	hash_of(data, size, h);
	if (coffer_policy_read_approved((const char *)data, size, h, "a", &q) == 0) {
		if (q->napps > 1 || (q->napps == 1 && (coffer_policy_items(q,
		    &q->apps[0], &items, &n) != 0)))
			__builtin_trap();
		if (q->napps == 1) {
			for (size_t j = 0; j < n; j++)
				if (items[j].index != j || items[j].owner >= q->nowners ||
				    items[j].dataset >= q->ndatasets)
					__builtin_trap();
			free(items);
		}
		coffer_policy_free(q);
		q = NULL;
	}
	if (coffer_policy_parse((const char *)data, size, &p) != 0)
		return 0;
	if (coffer_policy_parse((const char *)p->jcs.data, p->jcs.len, &q) != 0 ||
	    memcmp(p->hash, q->hash, 32) != 0)
		__builtin_trap();
	if (coffer_policy_changed(p, q, &mask) != 0 || mask != 0)
		__builtin_trap();
	for (size_t i = 0; i < p->napps; i++) {
		if (coffer_policy_items(p, &p->apps[i], &items, &n) != 0)
			__builtin_trap();
		for (size_t j = 0; j < n; j++)
			if (items[j].index != j || items[j].owner >= p->nowners)
				__builtin_trap();
		same_items(p, &p->apps[i], items, n);
		free(items);
	}
	coffer_policy_free(p);
	coffer_policy_free(q);
	return 0;
}
