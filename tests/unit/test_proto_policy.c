// SPDX-License-Identifier: Apache-2.0
// Unit tests for policies, approvals, revocations and policy status
// (src/proto/policy.c, approval.c, signed.c) against every vector of
// tests/vectors/proto/policy.json (doc/format/policy.md), and round trips.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "coffer/tee.h"
#include "crypto/hash.h"
#include "crypto/jcs.h"
#include "lib/json.h"
#include "lib/buf.h"
#include "proto/approval.h"
#include "proto/policy.h"
#include "proto/signed.h"
#include "test_proto_common.h"
#include "../support/policy_same.h"

static json_t *doc;

static int
setup(void **state)
{
	(void)state;
	doc = tp_load("policy.json");
	return doc == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	json_decref(doc);
	return 0;
}

static struct coffer_policy *
parse_text(const char *text)
{
	struct coffer_policy *p = NULL;

	if (coffer_policy_parse(text, strlen(text), &p) != 0)
		fail_msg("policy does not parse: %s", coffer_errdetail());
	return p;
}

static struct coffer_policy *
vector_policy(void)
{
	return parse_text(tp_str(json_object_get(doc, "policy"), "text"));
}

/* Section 5 and the canonical bytes: from an indented, reordered text. */
static void
test_policy__hash_and_canonical_form_match_the_vector(void **state)
{
	const json_t *v = json_object_get(doc, "policy");
	struct coffer_policy *p = vector_policy();
	char hex[65];

	(void)state;
	coffer_policy_hash_hex(p, hex);
	assert_string_equal(hex, tp_str(v, "hash"));
	assert_int_equal(p->jcs.len, strlen(tp_str(v, "jcs")));
	assert_memory_equal(p->jcs.data, tp_str(v, "jcs"), p->jcs.len);
	assert_int_equal(p->nowners, 3);
	assert_int_equal(p->napps, 2);
	assert_int_equal(p->fail_after, 2);
	assert_true(p->has_update);
	assert_int_equal(p->update_k, 2);
	assert_int_equal(p->update_fields, COFFER_POLICY_F_APPS | COFFER_POLICY_F_EXPIRES);
	assert_true(coffer_policy_insecure(p)); /* a sim measurement */
	coffer_policy_free(p);

	/* Optional members absent: defaults, and their own hash. */
	v = json_object_get(doc, "minimal");
	p = parse_text(tp_str(v, "text"));
	coffer_policy_hash_hex(p, hex);
	assert_string_equal(hex, tp_str(v, "hash"));
	assert_memory_equal(p->jcs.data, tp_str(v, "jcs"), p->jcs.len);
	assert_int_equal(p->fail_after, 1);
	assert_int_equal(p->max_failed, 0);
	assert_false(p->has_update);
	assert_int_equal(p->nlimits, 0);
	assert_true(p->has_previous);
	coffer_policy_free(p);
}

/* Section 6: the items of each app, in order. */
static void
test_policy__items_of_each_app_match_the_vector(void **state)
{
	const json_t *items = json_object_get(json_object_get(doc, "policy"), "items");
	struct coffer_policy *p = vector_policy();
	const char *app;
	json_t *want;

	(void)state;
	json_object_foreach((json_t *)items, app, want) {
		const struct coffer_policy_app *a = coffer_policy_app(p, app);
		struct coffer_policy_item *it = NULL;
		size_t n, i;
		json_t *w;

		assert_non_null(a);
		assert_int_equal(coffer_policy_items(p, a, &it, &n), 0);
		assert_int_equal(n, json_array_size(want));
		json_array_foreach(want, i, w) {
			uint8_t d[32];

			assert_int_equal(it[i].index, json_integer_value(json_object_get(w, "index")));
			assert_string_equal(it[i].key, tp_str(w, "key"));
			tp_unhex(tp_str(w, "digest") + 7, d, 32);
			assert_memory_equal(it[i].digest, d, 32);
			assert_int_equal(it[i].owner, json_integer_value(json_object_get(w, "owner")));
			assert_string_equal(p->datasets[it[i].dataset].name, tp_str(w, "dataset"));
		}
		free(it);
	}
	coffer_policy_free(p);
}

/* Section 4.1: the reader of the canonical text gives each app the same
 * items, owners and app as the full parse. */
static void
read_matches_parse(const struct coffer_policy *p, const char *app)
{
	const struct coffer_policy_app *a = coffer_policy_app(p, app);
	struct coffer_policy *r = NULL;
	struct coffer_policy_item *want = NULL, *got = NULL;
	size_t nw, ng;

	assert_non_null(a);
	if (coffer_policy_read_approved((const char *)p->jcs.data, p->jcs.len,
	    p->hash, app, &r) != 0)
		fail_msg("%s: %s", app, coffer_errdetail());
	assert_true(r->partial);
	assert_memory_equal(r->hash, p->hash, 32);
	assert_true(coffer_policy_same_identity(&r->coordinator, &p->coordinator));
	assert_int_equal(r->nowners, p->nowners);
	for (size_t i = 0; i < p->nowners; i++)
		assert_memory_equal(r->owners[i].fingerprint, p->owners[i].fingerprint, 32);
	assert_int_equal(r->ndatasets, p->ndatasets);
	assert_int_equal(r->napps, 1);
	assert_string_equal(r->apps[0].name, app);
	assert_memory_equal(r->apps[0].sha256, a->sha256, 32);
	assert_int_equal(r->apps[0].reduce, a->reduce);
	assert_int_equal(r->apps[0].nparams, a->nparams);
	assert_int_equal(coffer_policy_items(p, a, &want, &nw), 0);
	assert_int_equal(coffer_policy_items(r, &r->apps[0], &got, &ng), 0);
	assert_int_equal(ng, nw);
	for (size_t i = 0; i < nw; i++) {
		assert_int_equal(got[i].index, want[i].index);
		assert_string_equal(got[i].key, want[i].key);
		assert_memory_equal(got[i].digest, want[i].digest, 32);
		assert_int_equal(got[i].owner, want[i].owner);
		assert_int_equal(got[i].dataset, want[i].dataset);
		assert_memory_equal(r->datasets[got[i].dataset].key_id,
		    p->datasets[want[i].dataset].key_id, 16);
	}
	free(want);
	free(got);
	coffer_policy_free(r);
}

/* Section 5's hash of any text, for texts that must get past PA1. */
static void
hash_text(const char *text, uint8_t out[32])
{
	struct coffer_buf m = COFFER_BUF_INIT((size_t)4 << 20);

	assert_int_equal(coffer_buf_put(&m, "coffer/policy/v1", 17), 0);
	assert_int_equal(coffer_buf_puts(&m, text), 0);
	assert_int_equal(coffer_sha256(m.data, m.len, out), 0);
	coffer_buf_release(&m);
}

/* The digest of the first item of app, from the vector. */
static const char *
first_digest(const char *app)
{
	const json_t *items = json_object_get(json_object_get(doc, "policy"), "items");

	return tp_str(json_array_get(json_object_get(items, app), 0), "digest");
}

/* A copy of text with the hex of digest d made invalid (an upper-case
 * digit). */
static char *
with_digest_broken(const char *text, const char *d)
{
	char *t = strdup(text), *at;

	assert_non_null(t);
	at = strstr(t, d);
	assert_non_null(at);
	at[7] = 'X';
	return t;
}

/* PA1 to PA6 (doc/format/policy.md 4.1). */
static void
test_policy__approved_reader_checks_the_bytes_then_the_app_only(void **state)
{
	const json_t *v = json_object_get(doc, "policy");
	struct coffer_policy *p = vector_policy(), *r = NULL;
	const char *jcs = tp_str(v, "jcs");
	char *t, *at;
	uint8_t h[32];

	(void)state;
	read_matches_parse(p, "pooled-stats");
	read_matches_parse(p, "dicom-deid");
	/* PA1: another hash; one byte changed; the same policy, not in its
	 * canonical form (its text as written): the bytes count, nothing
	 * else is read. */
	memcpy(h, p->hash, 32);
	h[5] ^= 0xff;
	assert_int_equal(coffer_policy_read_approved(jcs, strlen(jcs), h,
	    "dicom-deid", &r), COFFER_E_AUTH);
	assert_non_null(strstr(coffer_errdetail(), "PA1"));
	t = strdup(jcs);
	at = strstr(t, "\"expires\":") + 10;
	*at ^= 0x01;
	assert_int_equal(coffer_policy_read_approved(t, strlen(t), p->hash,
	    "dicom-deid", &r), COFFER_E_AUTH);
	free(t);
	assert_int_equal(coffer_policy_read_approved(tp_str(v, "text"),
	    strlen(tp_str(v, "text")), p->hash, "dicom-deid", &r), COFFER_E_AUTH);
	/* PA5: an app the policy does not list: read, without an app. */
	assert_int_equal(coffer_policy_read_approved(jcs, strlen(jcs), p->hash,
	    "no-such-app", &r), 0);
	assert_int_equal(r->napps, 0);
	assert_null(coffer_policy_app(r, "no-such-app"));
	coffer_policy_free(r);
	/* PA6: a digest broken in a dataset dicom-deid reads is refused; in
	 * one only pooled-stats reads, not read at all. */
	t = with_digest_broken(jcs, first_digest("dicom-deid"));
	hash_text(t, h);
	assert_int_equal(coffer_policy_read_approved(t, strlen(t), h, "dicom-deid",
	    &r), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "digest"));
	free(t);
	t = with_digest_broken(jcs, first_digest("pooled-stats"));
	hash_text(t, h);
	assert_int_equal(coffer_policy_read_approved(t, strlen(t), h, "dicom-deid",
	    &r), 0);
	coffer_policy_free(r);
	assert_int_equal(coffer_policy_read_approved(t, strlen(t), h,
	    "pooled-stats", &r), COFFER_E_FORMAT);
	free(t);
	/* PA2: not JSON. */
	hash_text("{\"owners\":", h);
	assert_int_equal(coffer_policy_read_approved("{\"owners\":", 10, h,
	    "dicom-deid", &r), COFFER_E_FORMAT);
	coffer_policy_free(p);
}

/* Both readers of section 4.1 on text, given its own hash, for app: the
 * same error code, or the same policy. Returns the code. */
static int
readers_agree(const char *text, size_t len, const char *app, const char *what)
{
	struct coffer_policy *a = NULL, *b = NULL;
	char da[512];
	const char *d;
	uint8_t h[32];
	int ra, rb;

	assert_int_equal(coffer_policy_hash_text(text, len, h), 0);
	ra = coffer_policy_read_approved(text, len, h, app, &a);
	snprintf(da, sizeof(da), "%s", ra != 0 ? coffer_errdetail() : "");
	rb = coffer_policy_read_approved_tree(text, len, h, app, &b);
	if (ra != rb)
		fail_msg("%s, app %s: one pass %d (%s), tree %d (%s)", what, app,
		    ra, da, rb, rb != 0 ? coffer_errdetail() : "");
	if (ra == 0 && (d = policy_same_read(a, b)) != NULL)
		fail_msg("%s, app %s: %s differs", what, app, d);
	coffer_policy_free(a);
	coffer_policy_free(b);
	return ra;
}

/* The canonical form of root, read by both for each app. */
static void
agree_on(const json_t *root, const char *what, size_t *accepted, size_t *runs)
{
	static const char *const apps[] = { "dicom-deid", "pooled-stats",
		"no-such-app" };
	struct coffer_buf t = COFFER_BUF_INIT((size_t)4 << 20);

	if (coffer_jcs_put(root, &t) != 0) {
		coffer_errclear();
		coffer_buf_release(&t);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		(*runs)++;
		if (readers_agree((const char *)t.data, t.len, apps[i], what) == 0)
			(*accepted)++;
	}
	coffer_buf_release(&t);
}

/* Values every member and element is replaced with in turn. */
static json_t *
replacement(size_t k)
{
	char big[600];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	switch (k) {
	case 0: return json_null();
	case 1: return json_true();
	case 2: return json_integer(1);
	case 3: return json_string("x");
	case 4: return json_string("");
	case 5: return json_array();
	case 6: return json_object();
	case 7: return json_pack("[s]", "x");
	case 8: return json_pack("{s:i}", "zz", 1);
	case 9: return json_string(big);
	case 10: return json_string("sha256:" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	case 11: return json_string("a\"b\\c\n\x01\x7f\xc3\xa9\xf0\x9f\x98\x80");
	default: return NULL;
	}
}

/* Every mutation of every node under v (inside root): both readers
 * agree on each. */
static void
mutate_all(json_t *root, json_t *v, const char *path, size_t *acc, size_t *runs)
{
	char sub[512];
	json_t *c, *r, *keys, *kv;
	size_t i, k;
	const char *key;

	if (json_is_object(v)) {
		/* Members added: one sorting first, one last. */
		json_object_set_new(v, "a", json_integer(1));
		agree_on(root, path, acc, runs);
		json_object_del(v, "a");
		json_object_set_new(v, "zz", json_integer(1));
		agree_on(root, path, acc, runs);
		json_object_del(v, "zz");
		/* The names first: a member deleted and set again goes last
		 * in jansson's order, and a foreach would meet it again. */
		keys = json_array();
		json_object_foreach(v, key, c)
			json_array_append_new(keys, json_string(key));
		json_array_foreach(keys, i, kv) {
			key = json_string_value(kv);
			c = json_object_get(v, key);
			snprintf(sub, sizeof(sub), "%s.%s", path, key);
			json_incref(c);
			json_object_del(v, key);
			agree_on(root, sub, acc, runs);
			for (k = 0; (r = replacement(k)) != NULL; k++) {
				json_object_set_new(v, key, r);
				agree_on(root, sub, acc, runs);
			}
			json_object_set(v, key, c);
			mutate_all(root, c, sub, acc, runs);
			json_decref(c);
		}
		json_decref(keys);
	} else if (json_is_array(v)) {
		size_t n = json_array_size(v);

		if (n > 0) {
			json_array_append(v, json_array_get(v, 0));
			agree_on(root, path, acc, runs);
			json_array_remove(v, n);
		}
		for (i = 0; i < n; i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			c = json_incref(json_array_get(v, i));
			json_array_remove(v, i);
			agree_on(root, sub, acc, runs);
			json_array_insert(v, i, c);
			for (k = 0; (r = replacement(k)) != NULL; k++) {
				json_array_set_new(v, i, r);
				agree_on(root, sub, acc, runs);
			}
			json_array_set(v, i, c);
			mutate_all(root, c, sub, acc, runs);
			json_decref(c);
		}
	}
}

/* Section 4.1: the one-pass reader accepts the canonical texts the tree
 * reader accepts, with the same values, and refuses the others with the
 * same code: the vector policy with each member removed or replaced by
 * values of every type, each array with its first element repeated, each
 * object with a member more; and the canonical forms of the invalid
 * vectors of P1 to P17. */
static void
test_policy__one_pass_reader_agrees_with_the_tree_reader(void **state)
{
	json_t *root = json_loads(tp_str(json_object_get(doc, "policy"), "jcs"), 0,
	    NULL), *c;
	const json_t *inv = json_object_get(doc, "invalid_policies");
	size_t acc = 0, runs = 0, i;

	(void)state;
	assert_non_null(root);
	agree_on(root, "the vector", &acc, &runs);
	assert_int_equal(acc, 3);
	mutate_all(root, root, "policy", &acc, &runs);
	json_decref(root);
	/* Both refuse some and accept some: a test that can fail. */
	assert_true(runs > 1000);
	assert_true(acc > runs / 10 && acc < runs - runs / 10);
	json_array_foreach(inv, i, c) {
		json_t *v = NULL;

		if (coffer_json_parse(tp_str(c, "text"), strlen(tp_str(c, "text")),
		    COFFER_POLICY_MAX_BYTES, 64, &v) != 0) {
			coffer_errclear();
			continue;
		}
		agree_on(v, tp_str(c, "note"), &acc, &runs);
		json_decref(v);
	}
}

/* Text that is not canonical, which no text past PA1 is: the tree reader
 * takes some, the one-pass reader none (PA2). Numbers in members neither
 * reads are taken by both exactly when jansson takes them. */
static void
test_policy__one_pass_reader_takes_canonical_text_only(void **state)
{
	static const struct {
		const char *token;
		int ok;
	} nums[] = {
		{ "9223372036854775807", 1 }, { "-9223372036854775808", 1 },
		{ "9223372036854775808", 0 }, { "-9223372036854775809", 0 },
		{ "1e400", 0 }, { "-1e400", 0 }, { "1e-400", 1 }, { "-0", 1 },
		{ "1.5E+3", 1 }, { "01", 0 }, { "1.", 0 }, { "-", 0 }, { ".5", 0 },
		{ "1e", 0 }, { "2e+", 0 },
		{ "123456789012345678901234567890123456789012345678901234567890"
		  "1234567890.5", 1 },
	};
	static const char *const skipped[] = {
		"\"a\\u0000b\"", "\"\\u001F\"", "\"\\/\"", "\"\\u0041\"",
		"\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\t\"", "[1,]", "{\"b\":1,\"a\":2}",
		"{\"a\":1,\"a\":2}", "tru", "nul",
	};
	const char *jcs = tp_str(json_object_get(doc, "policy"), "jcs");
	struct coffer_buf t = COFFER_BUF_INIT((size_t)2 << 20);
	struct coffer_policy *p = NULL;
	uint8_t h[32];
	size_t len = strlen(jcs);

	(void)state;
	/* White space, and the text as written: the tree reader takes both. */
	assert_int_equal(coffer_buf_puts(&t, "{ "), 0);
	assert_int_equal(coffer_buf_put(&t, jcs + 1, len - 1), 0);
	assert_int_equal(coffer_policy_hash_text(coffer_buf_str(&t), t.len, h), 0);
	assert_int_equal(coffer_policy_read_approved_tree(coffer_buf_str(&t), t.len,
	    h, "dicom-deid", &p), 0);
	coffer_policy_free(p);
	p = NULL;
	assert_int_equal(coffer_policy_read_approved(coffer_buf_str(&t), t.len, h,
	    "dicom-deid", &p), COFFER_E_FORMAT);
	assert_non_null(strstr(coffer_errdetail(), "PA2: byte 1:"));
	assert_null(p);
	/* A member neither reads ("zz" sorts last), holding a number. */
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char what[200];

		coffer_buf_reset(&t);
		assert_int_equal(coffer_buf_put(&t, jcs, len - 1), 0);
		assert_int_equal(coffer_buf_putf(&t, ",\"zz\":%s}", nums[i].token), 0);
		snprintf(what, sizeof(what), "the number %s", nums[i].token);
		assert_int_equal(readers_agree(coffer_buf_str(&t), t.len, "dicom-deid",
		    what) == 0, nums[i].ok);
	}
	/* Nesting: 32 levels with the policy's object, 33. */
	for (int depth = 31; depth <= 32; depth++) {
		coffer_buf_reset(&t);
		assert_int_equal(coffer_buf_put(&t, jcs, len - 1), 0);
		assert_int_equal(coffer_buf_puts(&t, ",\"zz\":"), 0);
		for (int i = 0; i < depth; i++)
			assert_int_equal(coffer_buf_puts(&t, "["), 0);
		for (int i = 0; i < depth; i++)
			assert_int_equal(coffer_buf_puts(&t, "]"), 0);
		assert_int_equal(coffer_buf_puts(&t, "}"), 0);
		assert_int_equal(readers_agree(coffer_buf_str(&t), t.len, "dicom-deid",
		    "nesting"), depth == 31 ? 0 : COFFER_E_LIMIT);
	}
	/* Strings and containers that are not canonical or not JSON: the
	 * one-pass reader refuses each; the tree reader some of them. */
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++) {
		coffer_buf_reset(&t);
		assert_int_equal(coffer_buf_put(&t, jcs, len - 1), 0);
		assert_int_equal(coffer_buf_putf(&t, ",\"zz\":%s}", skipped[i]), 0);
		assert_int_equal(coffer_policy_hash_text(coffer_buf_str(&t), t.len,
		    h), 0);
		if (coffer_policy_read_approved(coffer_buf_str(&t), t.len, h,
		    "dicom-deid", &p) == 0)
			fail_msg("%s was taken", skipped[i]);
	}
	coffer_buf_release(&t);
}

/* The largest policy allowed (10000 objects, under 1 MiB): read for the
 * app that has 9993 of them. */
static void
test_policy__approved_reader_of_the_largest_policy(void **state)
{
	json_t *root = json_loads(tp_str(json_object_get(doc, "policy"), "jcs"), 0,
	    NULL), *objs;
	struct coffer_policy *p;
	char key[16], dg[72], *text;

	(void)state;
	assert_non_null(root);
	/* owners[0].datasets[1] is a-dicom: 2 of the 10 objects, made 9992. */
	objs = json_object_get(json_array_get(json_object_get(json_array_get(
	    json_object_get(root, "owners"), 0), "datasets"), 1), "objects");
	assert_non_null(objs);
	json_array_clear(objs);
	for (int i = 0; i < 9992; i++) {
		snprintf(key, sizeof(key), "d/%05d", i);
		snprintf(dg, sizeof(dg), "sha256:%064x", i);
		json_array_append_new(objs, json_pack("{s:s, s:s}", "key", key,
		    "digest", dg));
	}
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	p = parse_text(text);
	assert_true(p->jcs.len <= COFFER_POLICY_MAX_BYTES);
	read_matches_parse(p, "dicom-deid");
	coffer_policy_free(p);
	free(text);
}

/* Rules P1 to P17: each invalid policy breaks exactly one. */
static void
test_policy__every_invalid_vector_is_refused_by_its_rule(void **state)
{
	const json_t *inv = json_object_get(doc, "invalid_policies"), *c;
	size_t i, n = 0;

	(void)state;
	json_array_foreach(inv, i, c) {
		const char *text = tp_str(c, "text");
		struct coffer_policy *p = NULL;
		json_t *pad = json_object_get(c, "pad_to");
		char *buf = NULL, what[160];
		size_t len = strlen(text);
		int r;

		if (pad != NULL) {
			size_t want = (size_t)json_integer_value(pad);

			assert_true(want > len);
			buf = malloc(want);
			assert_non_null(buf);
			memcpy(buf, text, len);
			memset(buf + len, ' ', want - len);
			text = buf;
			len = want;
		}
		r = coffer_policy_parse(text, len, &p);
		snprintf(what, sizeof(what), "%s (%s)", tp_str(c, "rule"), tp_str(c, "note"));
		tp_expect(r, tp_err(tp_str(c, "error")), what);
		assert_null(p);
		free(buf);
		n++;
	}
	assert_true(n >= 17);
}

/* The vector policy with its first `from` replaced by `to`: refused with
 * COFFER_E_FORMAT and a detail containing want (rule P9: the rejection is
 * the same, only what it names differs). */
static void
refused_with(const char *from, const char *to, const char *want)
{
	const char *text = tp_str(json_object_get(doc, "policy"), "text"), *at;
	struct coffer_policy *p = NULL;
	char *buf;
	size_t n;

	at = strstr(text, from);
	assert_non_null(at);
	n = strlen(text) - strlen(from) + strlen(to);
	buf = malloc(n + 1);
	assert_non_null(buf);
	snprintf(buf, n + 1, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	assert_int_equal(coffer_policy_parse(buf, n, &p), COFFER_E_FORMAT);
	assert_null(p);
	if (strstr(coffer_errdetail(), want) == NULL)
		fail_msg("said \"%s\", not \"%s\"", coffer_errdetail(), want);
	free(buf);
}

/* A misspelt member is named, with the member meant, rather than the
 * member it leaves missing; a member nothing like a known one is not. */
static void
test_policy__a_misspelt_member_is_named_with_the_one_meant(void **state)
{
	(void)state;
	refused_with("\"measurements\"", "\"measurments\"",
	    "].measurments: unknown member (did you mean 'measurements'?)");
	refused_with("\"measurements\"", "\"zzzzzzzzzzzz\"", "].measurements: missing");
	refused_with("\"measurements\"", "\"measurement\":1,\"measurements\"",
	    "].measurement: unknown member (did you mean 'measurements'?)");
}

/* Rules A1 to A5. */
static void
test_policy__approvals_valid_and_each_rule(void **state)
{
	const json_t *aps = json_object_get(doc, "approvals"), *c;
	struct coffer_policy *p = vector_policy();
	size_t i, valid = 0;

	(void)state;
	json_array_foreach(aps, i, c) {
		const char *env = tp_str(c, "envelope");
		uint64_t now = (uint64_t)json_integer_value(json_object_get(c, "now"));
		struct coffer_approval a;
		int r;

		memset(&a, 0xAA, sizeof(a));
		r = coffer_approval_verify(p, env, strlen(env), now, &a);
		if (json_object_get(c, "rule") == NULL) {
			tp_expect(r, 0, tp_str(c, "name"));
			assert_int_equal(a.owner, json_integer_value(json_object_get(c, "owner")));
			assert_int_equal(a.log_size, 7);
			valid++;
		} else {
			tp_expect(r, tp_err(tp_str(c, "error")), tp_str(c, "name"));
		}
	}
	assert_int_equal(valid, 3);
	coffer_policy_free(p);
}

/* Rules RK1 to RK5. */
static void
test_policy__revocations_valid_and_each_rule(void **state)
{
	const json_t *rvs = json_object_get(doc, "revocations"), *c;
	struct coffer_policy *p = vector_policy();
	size_t i;

	(void)state;
	json_array_foreach(rvs, i, c) {
		const char *env = tp_str(c, "envelope");
		struct coffer_revocation v;
		int r = coffer_revocation_verify(p, env, strlen(env), &v);

		if (json_object_get(c, "rule") != NULL) {
			tp_expect(r, tp_err(tp_str(c, "error")), tp_str(c, "name"));
			continue;
		}
		tp_expect(r, 0, tp_str(c, "name"));
		assert_int_equal(v.owner, json_integer_value(json_object_get(c, "owner")));
		assert_int_equal(v.is_measurement,
		    strcmp(tp_str(c, "what"), "measurement") == 0);
		if (v.is_measurement) {
			uint8_t m[48];

			assert_int_equal(v.m.tee, COFFER_TEE_SIM);
			tp_unhex(tp_str(c, "measurement"), m, 48);
			assert_memory_equal(v.m.value, m, 48);
		}
	}
	coffer_policy_free(p);
}

static uint64_t
bits(const json_t *a)
{
	uint64_t b = 0;
	json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		b |= (uint64_t)1 << json_integer_value(v);
	return b;
}

/* Rules S1 to S4 and the changed fields of section 9.2. */
static void
test_policy__status_and_update_rule_match_the_vector(void **state)
{
	const json_t *st = json_object_get(doc, "status"), *c;
	size_t i;

	(void)state;
	json_array_foreach(st, i, c) {
		struct coffer_policy *v = parse_text(tp_str(c, "policy")), *prev = NULL;
		struct coffer_policy_status s;
		const char *expect = tp_str(c, "expect"), *name = tp_str(c, "name");
		json_t *ch = json_object_get(c, "changed");

		if (json_object_get(c, "prev") != NULL)
			prev = parse_text(tp_str(c, "prev"));
		assert_int_equal(coffer_policy_status(v, bits(json_object_get(c, "approved")),
		    bits(json_object_get(c, "revoked")), prev,
		    json_is_true(json_object_get(c, "prev_approved")), &s), 0);
		if (strcmp(expect, "approved-all") == 0)
			assert_int_equal(s.state, COFFER_POLICY_APPROVED_ALL);
		else if (strcmp(expect, "approved-k-of-n") == 0)
			assert_int_equal(s.state, COFFER_POLICY_APPROVED_KOFN);
		else if (strcmp(expect, "revoked") == 0)
			assert_int_equal(s.state, COFFER_POLICY_REVOKED);
		else
			assert_int_equal(s.state, COFFER_POLICY_PENDING);
		if (json_object_get(c, "reason") != NULL) {
			if (s.reason == NULL || strcmp(s.reason, tp_str(c, "reason")) != 0)
				fail_msg("%s: reason %s, want %s", name,
				    s.reason ? s.reason : "(none)", tp_str(c, "reason"));
		}
		if (json_object_get(c, "field") != NULL)
			assert_string_equal(coffer_policy_field_name(s.field), tp_str(c, "field"));
		if (ch != NULL && prev != NULL) {
			unsigned mask = 0, want = 0;
			json_t *f;
			size_t j;

			assert_int_equal(coffer_policy_changed(prev, v, &mask), 0);
			json_array_foreach(ch, j, f)
				for (unsigned b = 1; b <= COFFER_POLICY_F_UPDATE; b <<= 1)
					if (strcmp(coffer_policy_field_name(b), json_string_value(f)) == 0)
						want |= b;
			if (mask != want)
				fail_msg("%s: changed mask %#x, want %#x", name, mask, want);
		}
		coffer_policy_free(prev);
		coffer_policy_free(v);
	}
}

static void
identity_of(int i, struct coffer_identity *id)
{
	tp_identity(json_array_get(json_object_get(doc, "identities"), (size_t)i), id);
}

/* What coffer_approval_make signs verifies; the same signer twice is one
 * bit, so it counts once (section 10.2). */
static void
test_policy__made_approvals_verify_and_a_repeat_counts_once(void **state)
{
	struct coffer_buf b1 = COFFER_BUF_INIT(1 << 16), b2 = COFFER_BUF_INIT(1 << 16);
	struct coffer_policy *p = vector_policy();
	struct coffer_approval a1, a2;
	struct coffer_policy_status s;
	struct coffer_identity id;
	uint8_t root[32];

	(void)state;
	identity_of(0, &id);
	memset(root, 7, sizeof(root));
	assert_int_equal(coffer_approval_make(&id, p->hash, 3, root, &b1), 0);
	assert_int_equal(coffer_approval_make(&id, p->hash, 4, root, &b2), 0);
	assert_int_equal(coffer_approval_verify(p, (const char *)b1.data, b1.len, 1, &a1), 0);
	assert_int_equal(coffer_approval_verify(p, (const char *)b2.data, b2.len, 1, &a2), 0);
	assert_int_equal(a1.owner, 0);
	assert_int_equal(a2.owner, 0);
	assert_memory_equal(a1.log_root, root, 32);
	assert_int_equal(coffer_policy_status(p, (1u << a1.owner) | (1u << a2.owner), 0,
	    NULL, 0, &s), 0);
	assert_int_equal(s.state, COFFER_POLICY_PENDING);
	assert_int_equal(s.missing, 6);
	/* A revocation made here verifies, and a measurement one too. */
	coffer_buf_reset(&b1);
	assert_int_equal(coffer_revocation_make(&id, p->hash, NULL, &b1), 0);
	{
		struct coffer_revocation v;

		assert_int_equal(coffer_revocation_verify(p, (const char *)b1.data, b1.len,
		    &v), 0);
		assert_false(v.is_measurement);
		coffer_buf_reset(&b1);
		assert_int_equal(coffer_revocation_make(&id, p->hash,
		    &p->apps[1].measurements[0], &b1), 0);
		assert_int_equal(coffer_revocation_verify(p, (const char *)b1.data, b1.len,
		    &v), 0);
		assert_true(v.is_measurement);
		assert_int_equal(v.m.tee, COFFER_TEE_TDX);
	}
	/* A byte changed in a made approval: refused. */
	coffer_buf_reset(&b1);
	assert_int_equal(coffer_approval_make(&id, p->hash, 3, root, &b1), 0);
	b1.data[b1.len - 5] ^= 1; /* inside the log root's hex */
	assert_int_not_equal(coffer_approval_verify(p, (const char *)b1.data, b1.len, 1,
	    &a1), 0);
	coffer_identity_wipe(&id);
	coffer_buf_release(&b1);
	coffer_buf_release(&b2);
	coffer_policy_free(p);
}

/* Section 3.3: which claims make the measurement of each TEE type. */
static void
test_policy__measurement_of_claims_per_tee(void **state)
{
	struct coffer_tee_claims *c = calloc(1, sizeof(*c));
	struct coffer_policy_measurement m;
	struct coffer_policy *p = vector_policy();

	(void)state;
	assert_non_null(c);
	c->tee = COFFER_TEE_TDX;
	memset(c->tdx.mrtd, 1, 48);
	for (int i = 0; i < 4; i++)
		memset(c->tdx.rtmr[i], 2 + i, 48);
	assert_int_equal(coffer_policy_measurement(c, &m), 0);
	assert_int_equal(m.len, 240);
	assert_int_equal(m.value[0], 1);
	assert_int_equal(m.value[48], 2);
	assert_int_equal(m.value[239], 5);
	assert_false(coffer_policy_app_allows(&p->apps[1], &m));
	/* The vector's TDX measurement is allowed for dicom-deid only. */
	memcpy(m.value, p->apps[1].measurements[0].value, 240);
	assert_true(coffer_policy_app_allows(&p->apps[1], &m));
	assert_false(coffer_policy_app_allows(&p->apps[0], &m));
	c->tee = COFFER_TEE_SGX;
	memcpy(c->sgx.mrenclave, p->apps[0].measurements[0].value, 32);
	assert_int_equal(coffer_policy_measurement(c, &m), 0);
	assert_int_equal(m.len, 32);
	assert_true(coffer_policy_app_allows(&p->apps[0], &m));
	c->tee = COFFER_TEE_SIM;
	memcpy(c->sim.measurement, p->apps[0].measurements[1].value, 48);
	assert_int_equal(coffer_policy_measurement(c, &m), 0);
	assert_true(coffer_policy_app_allows(&p->apps[0], &m));
	c->tee = COFFER_TEE_SEV_SNP;
	assert_int_equal(coffer_policy_measurement(c, &m), 0);
	assert_int_equal(m.len, 48);
	c->tee = COFFER_TEE_UNKNOWN;
	assert_int_equal(coffer_policy_measurement(c, &m), COFFER_E_UNSUPPORTED);
	free(c);
	coffer_policy_free(p);
}

/* Job parameters: exactly one allowed value per listed parameter. */
static void
test_policy__job_params_are_checked_against_the_app(void **state)
{
	struct coffer_policy *p = vector_policy();
	const struct coffer_policy_app *a = coffer_policy_app(p, "pooled-stats");
	const char *label = NULL;
	json_t *ok;

	(void)state;
	for (size_t i = 0; i < a->nparams; i++)
		if (strcmp(a->params[i].name, "label") == 0)
			label = a->params[i].values[0];
	assert_non_null(label);
	ok = json_pack("{s:s, s:s, s:s}", "alpha", "0.01", "columns",
	    "radius_mean,texture_mean", "label", label);
	assert_int_equal(coffer_policy_check_params(a, ok), 0);
	json_object_set_new(ok, "alpha", json_string("0.5"));
	assert_int_equal(coffer_policy_check_params(a, ok), COFFER_E_POLICY);
	json_object_set_new(ok, "alpha", json_string("0.05"));
	json_object_set_new(ok, "extra", json_string("x"));
	assert_int_equal(coffer_policy_check_params(a, ok), COFFER_E_POLICY);
	json_object_del(ok, "extra");
	json_object_del(ok, "columns");
	assert_int_equal(coffer_policy_check_params(a, ok), COFFER_E_POLICY);
	json_decref(ok);
	ok = json_object();
	assert_int_equal(coffer_policy_check_params(coffer_policy_app(p, "dicom-deid"),
	    ok), 0);
	json_decref(ok);
	coffer_policy_free(p);
}

/* Section 3.3: INSECURE when an app lists a sim measurement, and when the
 * verification object names a sim platform key; not otherwise. */
static void
test_policy__insecure_from_sim_measurement_or_sim_key(void **state)
{
	json_t *v = json_loads(tp_str(json_object_get(doc, "policy"), "text"), 0, NULL);
	json_t *meas = json_object_get(json_array_get(json_object_get(v, "apps"), 0),
	    "measurements");
	struct coffer_policy *p;
	char *t;

	(void)state;
	assert_non_null(v);
	/* Drop the sim measurement: the sim key still makes it INSECURE. */
	assert_int_equal(json_array_remove(meas, 1), 0);
	t = json_dumps(v, 0);
	p = parse_text(t);
	assert_true(coffer_policy_insecure(p));
	assert_int_equal(p->tee_policy.n_sim_keys, 1);
	coffer_policy_free(p);
	free(t);
	/* And the sim key: not INSECURE. */
	assert_int_equal(json_object_del(json_object_get(v, "verification"),
	    "sim_platform_keys"), 0);
	t = json_dumps(v, 0);
	p = parse_text(t);
	assert_false(coffer_policy_insecure(p));
	coffer_policy_free(p);
	free(t);
	json_decref(v);
}

/* G1 to G5 on their own: the envelope parser and signer. */
static void
test_policy__signed_envelopes_round_trip_and_refuse_tampering(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(4096);
	struct coffer_signed s;
	struct coffer_identity id;
	json_t *st = json_pack("{s:s, s:i, s:s}", "type", "coffer-tree-head",
	    "version", 1, "root", "x");
	uint8_t h[32];

	(void)state;
	identity_of(1, &id);
	assert_int_equal(coffer_signed_make(st, id.sign_sk, &b), 0);
	coffer_signed_init(&s);
	assert_int_equal(coffer_signed_parse((const char *)b.data, b.len, 4096,
	    "coffer-tree-head", &s), 0);
	assert_int_equal(coffer_signed_verify(&s, id.pub.sign_pk), 0);
	assert_int_equal(coffer_signed_verify(&s, id.pub.kx_pk), COFFER_E_SIGNATURE);
	coffer_signed_release(&s);
	/* Another expected type (G2). */
	assert_int_equal(coffer_signed_parse((const char *)b.data, b.len, 4096,
	    "coffer-receipt", &s), COFFER_E_FORMAT);
	/* Over the size limit. */
	assert_int_equal(coffer_signed_parse((const char *)b.data, b.len, 16,
	    "coffer-tree-head", &s), COFFER_E_LIMIT);
	/* A type with no label cannot be signed. */
	json_object_set_new(st, "type", json_string("coffer-policy"));
	assert_int_equal(coffer_signed_make(st, id.sign_sk, &b), COFFER_E_INVAL);
	assert_null(coffer_signed_label("coffer-policy"));
	/* peek: the policy member of an approval. */
	{
		const char *env = tp_str(json_array_get(json_object_get(doc, "approvals"), 0),
		    "envelope");
		char hex[65];

		assert_int_equal(coffer_signed_peek_policy(env, strlen(env), h), 0);
		coffer_hex_encode(h, 32, hex);
		assert_string_equal(hex, tp_str(json_object_get(doc, "policy"), "hash"));
	}
	json_decref(st);
	coffer_identity_wipe(&id);
	coffer_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy__hash_and_canonical_form_match_the_vector),
		cmocka_unit_test(test_policy__items_of_each_app_match_the_vector),
		cmocka_unit_test(test_policy__approved_reader_checks_the_bytes_then_the_app_only),
		cmocka_unit_test(test_policy__approved_reader_of_the_largest_policy),
		cmocka_unit_test(test_policy__one_pass_reader_agrees_with_the_tree_reader),
		cmocka_unit_test(test_policy__one_pass_reader_takes_canonical_text_only),
		cmocka_unit_test(test_policy__every_invalid_vector_is_refused_by_its_rule),
		cmocka_unit_test(test_policy__a_misspelt_member_is_named_with_the_one_meant),
		cmocka_unit_test(test_policy__approvals_valid_and_each_rule),
		cmocka_unit_test(test_policy__revocations_valid_and_each_rule),
		cmocka_unit_test(test_policy__status_and_update_rule_match_the_vector),
		cmocka_unit_test(test_policy__made_approvals_verify_and_a_repeat_counts_once),
		cmocka_unit_test(test_policy__measurement_of_claims_per_tee),
		cmocka_unit_test(test_policy__job_params_are_checked_against_the_app),
		cmocka_unit_test(test_policy__insecure_from_sim_measurement_or_sim_key),
		cmocka_unit_test(test_policy__signed_envelopes_round_trip_and_refuse_tampering),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
