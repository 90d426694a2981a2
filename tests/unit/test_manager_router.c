// SPDX-License-Identifier: Apache-2.0
// Unit tests for the manager's route matching (src/http/router.c):
// literal and parameter segments, 404 versus 405 with Allow, HEAD.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "http/router.h"

static void h(struct http_req *r) { (void)r; }

static const struct http_route table[] = {
	{ "GET", "/healthz", h, HTTP_SCOPE_NONE, 0 },
	{ "POST", "/v1/jobs", h, HTTP_SCOPE_ADMIN, 100 },
	{ "GET", "/v1/jobs", h, HTTP_SCOPE_READ, 0 },
	{ "GET", "/v1/jobs/{id}", h, HTTP_SCOPE_READ, 0 },
	{ "DELETE", "/v1/jobs/{id}", h, HTTP_SCOPE_ADMIN, 0 },
	{ "GET", "/v1/jobs/{id}/timeline", h, HTTP_SCOPE_READ, 0 },
	{ "PUT", "/a/{x}/b/{y}", h, HTTP_SCOPE_ADMIN, 0 },
};
#define N (sizeof(table) / sizeof(table[0]))

static void
test_router__matches_literals_and_params(void **state)
{
	struct http_route_match m;
	char allow[64];

	(void)state;
	assert_int_equal(http_route_find(table, N, "GET", "/healthz", &m, allow,
	    sizeof(allow)), HTTP_ROUTE_FOUND);
	assert_ptr_equal(m.route, &table[0]);
	assert_int_equal(m.nparams, 0);
	assert_int_equal(http_route_find(table, N, "GET", "/v1/jobs/job-1a.b_c",
	    &m, allow, sizeof(allow)), HTTP_ROUTE_FOUND);
	assert_ptr_equal(m.route, &table[3]);
	assert_string_equal(http_route_param(&m, "id"), "job-1a.b_c");
	assert_null(http_route_param(&m, "other"));
	assert_int_equal(http_route_find(table, N, "GET", "/v1/jobs/x/timeline",
	    &m, allow, sizeof(allow)), HTTP_ROUTE_FOUND);
	assert_ptr_equal(m.route, &table[5]);
	assert_int_equal(http_route_find(table, N, "PUT", "/a/1/b/2", &m, allow,
	    sizeof(allow)), HTTP_ROUTE_FOUND);
	assert_string_equal(http_route_param(&m, "x"), "1");
	assert_string_equal(http_route_param(&m, "y"), "2");
	/* HEAD is served by the GET route. */
	assert_int_equal(http_route_find(table, N, "HEAD", "/v1/jobs", &m, allow,
	    sizeof(allow)), HTTP_ROUTE_FOUND);
	assert_ptr_equal(m.route, &table[2]);
}

static void
test_router__unknown_paths_are_not_found(void **state)
{
	static const char *const paths[] = {
		"/", "", "/v1", "/v1/jobs/", "//v1/jobs", "/v1/jobs/a/b",
		"/v1/jobs/a%20b", "/v1/jobs/..", "/v1/jobs/.", "/v1/jobs//timeline",
		"/v1/jobs/a/timeline/", "/healthz/", "/HEALTHZ", "/v1/jobs/a b",
		"/v1/jobs/0123456789012345678901234567890123456789012345678901234567890123456789",
		"healthz", "/a/1/b", "/a//b/2",
	};
	struct http_route_match m;
	char allow[64];

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(http_route_find(table, N, "GET", paths[i], &m,
		    allow, sizeof(allow)), HTTP_ROUTE_NOT_FOUND);
}

static void
test_router__wrong_method_lists_the_allowed_ones(void **state)
{
	struct http_route_match m;
	char allow[64];

	(void)state;
	assert_int_equal(http_route_find(table, N, "PATCH", "/v1/jobs/j1", &m,
	    allow, sizeof(allow)), HTTP_ROUTE_BAD_METHOD);
	assert_string_equal(allow, "GET, DELETE");
	assert_int_equal(http_route_find(table, N, "DELETE", "/v1/jobs", &m,
	    allow, sizeof(allow)), HTTP_ROUTE_BAD_METHOD);
	assert_string_equal(allow, "POST, GET");
	assert_int_equal(http_route_find(table, N, "POST", "/healthz", &m, allow,
	    sizeof(allow)), HTTP_ROUTE_BAD_METHOD);
	assert_string_equal(allow, "GET");
}

static void
test_router__param_values_are_restricted(void **state)
{
	(void)state;
	assert_true(http_route_valid_param("kj-0a1b2c", 9));
	assert_false(http_route_valid_param("", 0));
	assert_false(http_route_valid_param("a/b", 3));
	assert_false(http_route_valid_param("a%2f", 4));
	assert_false(http_route_valid_param("..", 2));
	assert_true(http_route_valid_param("...", 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_router__matches_literals_and_params),
		cmocka_unit_test(test_router__unknown_paths_are_not_found),
		cmocka_unit_test(test_router__wrong_method_lists_the_allowed_ones),
		cmocka_unit_test(test_router__param_values_are_restricted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
