// SPDX-License-Identifier: Apache-2.0
// Collateral push bodies (src/proto/collpush.c, doc/protocol/collateral.md
// section 3.1): what the CLI makes the coordinator parses back, and every
// rule C1 to C3 refuses with the member named.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "proto/collpush.h"

static void
test_collpush__make_then_parse_gives_the_items_back(void **state)
{
	struct coffer_collpush a = { NULL, 0 }, b = { NULL, 0 };
	struct coffer_buf body = COFFER_BUF_INIT(1 << 20);
	const uint8_t bin[] = { 0, 1, 2, 0xff, 0xfe };

	(void)state;
	assert_int_equal(coffer_collpush_add(&a, "tcb.json", (const uint8_t *)"{}", 2), 0);
	assert_int_equal(coffer_collpush_add(&a, "vcek-1_2.der", bin, sizeof(bin)), 0);
	assert_int_equal(coffer_collpush_make(&a, &body), 0);
	assert_string_equal(coffer_buf_str(&body), "{\"type\":\"coffer-collateral\","
	    "\"version\":1,\"items\":[{\"name\":\"tcb.json\",\"data\":\"e30\"},"
	    "{\"name\":\"vcek-1_2.der\",\"data\":\"AAEC__4\"}]}");
	assert_int_equal(coffer_collpush_parse((const char *)body.data, body.len, &b), 0);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.items[1].name, "vcek-1_2.der");
	assert_int_equal(b.items[1].data.len, sizeof(bin));
	assert_memory_equal(b.items[1].data.data, bin, sizeof(bin));
	coffer_collpush_release(&a);
	coffer_collpush_release(&b);
	coffer_buf_release(&body);
}

static void
test_collpush__add_refuses_what_the_coordinator_would(void **state)
{
	struct coffer_collpush a = { NULL, 0 };
	struct coffer_buf body = COFFER_BUF_INIT(1 << 20);
	char name[16];

	(void)state;
	assert_int_equal(coffer_collpush_make(&a, &body), COFFER_E_INVAL);
	assert_int_equal(coffer_collpush_add(&a, ".hidden", (const uint8_t *)"x", 1),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_collpush_add(&a, "a/b", (const uint8_t *)"x", 1),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_collpush_add(&a, "", (const uint8_t *)"x", 1),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_collpush_add(&a, "a", (const uint8_t *)"x", 0),
	    COFFER_E_FORMAT);
	assert_int_equal(coffer_collpush_add(&a, "a", (const uint8_t *)"x", 1), 0);
	assert_int_equal(coffer_collpush_add(&a, "a", (const uint8_t *)"y", 1),
	    COFFER_E_INVAL);
	for (int i = 1; i < COFFER_COLLPUSH_ITEMS; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(coffer_collpush_add(&a, name, (const uint8_t *)"x", 1), 0);
	}
	assert_int_equal(coffer_collpush_add(&a, "one-too-many", (const uint8_t *)"x", 1),
	    COFFER_E_LIMIT);
	assert_true(coffer_collpush_name_ok("intel-sgx-tcb-info-00a067110000.json"));
	assert_false(coffer_collpush_name_ok("caf\xc3\xa9"));
	coffer_collpush_release(&a);
	coffer_buf_release(&body);
}

static void
parse_fails(const char *body, int err, const char *detail)
{
	struct coffer_collpush p = { NULL, 0 };
	int r = coffer_collpush_parse(body, strlen(body), &p);

	if (r != err)
		fail_msg("%s: %d (%s), not %d", body, r, coffer_errdetail(), err);
	if (strstr(coffer_errdetail(), detail) == NULL)
		fail_msg("%s: detail \"%s\" lacks \"%s\"", body, coffer_errdetail(), detail);
	assert_int_equal(p.n, 0);
}

#define HEAD "{\"type\":\"coffer-collateral\",\"version\":1,\"items\":"

static void
test_collpush__parse_rules_c1_to_c3_name_the_member(void **state)
{
	struct coffer_buf many = COFFER_BUF_INIT(1 << 20);

	(void)state;
	/* C1 */
	parse_fails("{\"type\":", COFFER_E_FORMAT, "");
	parse_fails(HEAD "[{\"name\":\"a\",\"data\":\"AA\",\"data\":\"AA\"}]}",
	    COFFER_E_FORMAT, "duplicate");
	/* C2 */
	parse_fails("[]", COFFER_E_FORMAT, "not a JSON object");
	parse_fails(HEAD "[{\"name\":\"a\",\"data\":\"AA\"}],\"x\":1}", COFFER_E_FORMAT,
	    "x: unknown member");
	parse_fails("{\"type\":\"coffer-collateral\",\"items\":[]}", COFFER_E_FORMAT,
	    "version: missing");
	parse_fails("{\"type\":\"coffer-policy\",\"version\":1,\"items\":[{\"name\":"
	    "\"a\",\"data\":\"AA\"}]}", COFFER_E_FORMAT, "type");
	parse_fails("{\"type\":\"coffer-collateral\",\"version\":2,\"items\":[{\"name\":"
	    "\"a\",\"data\":\"AA\"}]}", COFFER_E_VERSION, "version");
	parse_fails("{\"type\":\"coffer-collateral\",\"version\":1.0,\"items\":[{\"name\":"
	    "\"a\",\"data\":\"AA\"}]}", COFFER_E_FORMAT, "version");
	/* C3 */
	parse_fails(HEAD "[]}", COFFER_E_FORMAT, "items: an array of 1 to 64");
	parse_fails(HEAD "{}}", COFFER_E_FORMAT, "items: an array");
	parse_fails(HEAD "[1]}", COFFER_E_FORMAT, "items[0]");
	parse_fails(HEAD "[{\"name\":\"a\"}]}", COFFER_E_FORMAT, "items[0].data: missing");
	parse_fails(HEAD "[{\"name\":\"a\",\"data\":\"AA\",\"kind\":\"crl\"}]}",
	    COFFER_E_FORMAT, "items[0].kind: unknown member");
	parse_fails(HEAD "[{\"name\":\".a\",\"data\":\"AA\"}]}", COFFER_E_FORMAT,
	    "items[0].name");
	parse_fails(HEAD "[{\"name\":\"a/b\",\"data\":\"AA\"}]}", COFFER_E_FORMAT,
	    "items[0].name");
	parse_fails(HEAD "[{\"name\":\"\",\"data\":\"AA\"}]}", COFFER_E_FORMAT,
	    "items[0].name");
	parse_fails(HEAD "[{\"name\":\"a\",\"data\":\"AA\"},{\"name\":\"a\",\"data\":"
	    "\"AA\"}]}", COFFER_E_FORMAT, "items[1].name: \"a\" is given twice");
	parse_fails(HEAD "[{\"name\":\"a\",\"data\":\"AA==\"}]}", COFFER_E_FORMAT,
	    "items[0].data");
	parse_fails(HEAD "[{\"name\":\"a\",\"data\":\"A+\"}]}", COFFER_E_FORMAT,
	    "items[0].data");
	parse_fails(HEAD "[{\"name\":\"a\",\"data\":\"AB\"}]}", COFFER_E_FORMAT,
	    "items[0].data");
	parse_fails(HEAD "[{\"name\":\"a\",\"data\":\"\"}]}", COFFER_E_FORMAT,
	    "items[0].data");
	parse_fails(HEAD "[{\"name\":\"a\",\"data\":7}]}", COFFER_E_FORMAT,
	    "items[0].data");
	assert_int_equal(coffer_buf_puts(&many, HEAD "["), 0);
	for (int i = 0; i <= COFFER_COLLPUSH_ITEMS; i++)
		assert_int_equal(coffer_buf_putf(&many, "%s{\"name\":\"f%d\",\"data\":\"AA\"}",
		    i ? "," : "", i), 0);
	assert_int_equal(coffer_buf_puts(&many, "]}"), 0);
	parse_fails(coffer_buf_str(&many), COFFER_E_FORMAT, "items: an array of 1 to 64");
	coffer_buf_release(&many);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collpush__make_then_parse_gives_the_items_back),
		cmocka_unit_test(test_collpush__add_refuses_what_the_coordinator_would),
		cmocka_unit_test(test_collpush__parse_rules_c1_to_c3_name_the_member),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
