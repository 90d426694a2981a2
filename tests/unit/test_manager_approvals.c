// SPDX-License-Identifier: Apache-2.0
// Unit tests for what the manager relays of a confidential job's policy
// approvals (src/manager/approvals.c, doc/manager.md section 9.5): the
// owners from the policy of tests/vectors/proto/policy.json (hash checked),
// each owner's approval from a coordinator's status answer
// (doc/api-coordinator.md section 4.2), the answers refused, and the
// field of a job before any answer.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "manager/approvals.h"
#include "manager/mgr.h"
#include "../support/vectors.h"

static json_t *doc;
static const char *policy_text, *policy_hash;
static const char *fp[3];     /* hospital-a, -b, -c */

static int
setup(void **state)
{
	json_t *ids;

	(void)state;
	if (vec_load("proto/policy.json", &doc) != 0)
		return -1;
	policy_text = json_string_value(json_object_get(json_object_get(doc,
	    "policy"), "jcs"));
	policy_hash = json_string_value(json_object_get(json_object_get(doc,
	    "policy"), "hash"));
	ids = json_object_get(doc, "identities");
	for (size_t i = 0; i < 3; i++)
		fp[i] = json_string_value(json_object_get(json_array_get(ids, i),
		    "fingerprint"));
	return policy_text && policy_hash && fp[0] && fp[1] && fp[2] ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	json_decref(doc);
	return 0;
}

static json_t *
owners(void)
{
	json_t *o = NULL;

	assert_int_equal(mgr_approvals_owners(policy_text, strlen(policy_text),
	    policy_hash, &o), 0);
	return o;
}

/* The status answer of the vectors' policy; printf-style members after
 * "status": {"policy": ..., then fmt. */
static char *
answer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
answer(const char *fmt, ...)
{
	static char out[4096];
	char rest[3500];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	snprintf(out, sizeof(out), "{\"policy\": \"%s\", \"status\": {\"policy\": "
	    "\"%s\", \"name\": \"x\", \"expires\": 1, \"insecure\": false, %s}}",
	    policy_hash, policy_hash, rest);
	return out;
}

static const char *
approval_of(const json_t *view, size_t i)
{
	return json_string_value(json_object_get(json_array_get(
	    json_object_get(view, "owners"), i), "approval"));
}

static void
test_approvals__owners_come_from_the_policy_checked_against_its_hash(void **state)
{
	json_t *o = owners(), *bad = NULL;
	char other[65];

	(void)state;
	assert_int_equal(json_array_size(o), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *w = json_array_get(o, i);
		char name[16];

		snprintf(name, sizeof(name), "hospital-%c", (int)('a' + i));
		assert_string_equal(json_string_value(json_object_get(w, "name")), name);
		assert_string_equal(json_string_value(json_object_get(w,
		    "fingerprint")), fp[i]);
	}
	json_decref(o);
	/* Another policy's text, or none. */
	snprintf(other, sizeof(other), "%s", policy_hash);
	other[0] = other[0] == '0' ? '1' : '0';
	assert_int_equal(mgr_approvals_owners(policy_text, strlen(policy_text),
	    other, &bad), COFFER_E_PROTO);
	assert_non_null(strstr(coffer_errdetail(), "not the job's"));
	assert_int_equal(mgr_approvals_owners("{}", 2, policy_hash, &bad),
	    COFFER_E_PROTO);
	assert_null(bad);
}

static void
test_approvals__each_owner_approved_revoked_or_missing(void **state)
{
	json_t *o = owners(), *v = NULL;
	char *a;

	(void)state;
	/* Every owner approved, then c revoked: the coordinator keeps c in
	 * approved_by; the manager shows it revoked. */
	a = answer("\"state\": \"revoked\", \"active\": false, \"reason\": "
	    "\"policy.revoked\", \"approved_by\": [\"%s\", \"%s\", \"%s\"], "
	    "\"missing\": [], \"revoked_by\": [\"%s\"], \"revoked_measurements\": []",
	    fp[0], fp[1], fp[2], fp[2]);
	assert_int_equal(mgr_approvals_view(o, a, strlen(a), policy_hash, &v), 0);
	assert_string_equal(json_string_value(json_object_get(v, "state")), "revoked");
	assert_true(json_is_false(json_object_get(v, "active")));
	assert_string_equal(json_string_value(json_object_get(v, "reason")),
	    "policy.revoked");
	assert_string_equal(approval_of(v, 0), "approved");
	assert_string_equal(approval_of(v, 1), "approved");
	assert_string_equal(approval_of(v, 2), "revoked");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(v, "owners"), 2), "name")), "hospital-c");
	assert_null(json_object_get(v, "needed"));
	json_decref(v);
	/* k of n: one approval, one more needed; c is in no list. */
	a = answer("\"state\": \"pending\", \"active\": false, \"reason\": "
	    "\"policy.unapproved\", \"needed\": 1, \"approved_by\": [\"%s\"], "
	    "\"missing\": [\"%s\"], \"revoked_by\": []", fp[0], fp[1]);
	assert_int_equal(mgr_approvals_view(o, a, strlen(a), policy_hash, &v), 0);
	assert_int_equal(json_integer_value(json_object_get(v, "needed")), 1);
	assert_string_equal(approval_of(v, 0), "approved");
	assert_string_equal(approval_of(v, 1), "missing");
	assert_string_equal(approval_of(v, 2), "missing");
	json_decref(v);
	json_decref(o);
}

static void
test_approvals__an_answer_out_of_format_is_refused_by_name(void **state)
{
	static const struct { const char *members, *detail; } bad[] = {
		{ "\"state\": \"fine\", \"active\": true, \"approved_by\": [], "
		  "\"missing\": [], \"revoked_by\": []", "not a state" },
		{ "\"state\": \"approved\", \"active\": \"yes\", \"approved_by\": [], "
		  "\"missing\": [], \"revoked_by\": []", "active" },
		{ "\"state\": \"approved\", \"active\": true, \"approved_by\": {}, "
		  "\"missing\": [], \"revoked_by\": []", "approved_by" },
		{ "\"state\": \"approved\", \"active\": true, \"approved_by\": "
		  "[\"ABCD\"], \"missing\": [], \"revoked_by\": []", "approved_by[0]" },
		{ "\"state\": \"approved\", \"active\": true, \"approved_by\": [], "
		  "\"missing\": [], \"revoked_by\": [], \"needed\": -1", "needed" },
		{ "\"state\": \"approved\", \"active\": true, \"approved_by\": [], "
		  "\"missing\": []", "revoked_by" },
	};
	json_t *o = owners(), *v = NULL;
	char *a, other[65];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = answer("%s", bad[i].members);
		assert_int_equal(mgr_approvals_view(o, a, strlen(a), policy_hash, &v),
		    COFFER_E_PROTO);
		assert_null(v);
		if (strstr(coffer_errdetail(), bad[i].detail) == NULL)
			fail_msg("case %zu: '%s' does not name %s", i, coffer_errdetail(),
			    bad[i].detail);
	}
	/* The status of another policy, or no status at all. */
	a = answer("\"state\": \"approved\", \"active\": true, \"approved_by\": [], "
	    "\"missing\": [], \"revoked_by\": []");
	snprintf(other, sizeof(other), "%s", policy_hash);
	other[0] = other[0] == '0' ? '1' : '0';
	assert_int_equal(mgr_approvals_view(o, a, strlen(a), other, &v),
	    COFFER_E_PROTO);
	assert_int_equal(mgr_approvals_view(o, "{\"policy\": 1}", 13, policy_hash,
	    &v), COFFER_E_PROTO);
	assert_int_equal(mgr_approvals_view(o, "not json", 8, policy_hash, &v),
	    COFFER_E_PROTO);
	assert_null(v);
	json_decref(o);
}

/* Before the coordinator answered (or before the first tick), the field is
 * there and says nothing was answered. */
static void
test_approvals__a_job_not_answered_yet_shows_null(void **state)
{
	struct mgr_job j;
	json_t *o;

	(void)state;
	memset(&j, 0, sizeof(j));
	assert_non_null(o = mgr_approvals_json(&j));
	assert_true(json_is_null(json_object_get(o, "answered_at")));
	assert_int_equal(json_object_size(o), 1);
	json_decref(o);
	mgr_approvals_free(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_approvals__owners_come_from_the_policy_checked_against_its_hash),
		cmocka_unit_test(test_approvals__each_owner_approved_revoked_or_missing),
		cmocka_unit_test(test_approvals__an_answer_out_of_format_is_refused_by_name),
		cmocka_unit_test(test_approvals__a_job_not_answered_yet_shows_null),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
