// SPDX-License-Identifier: Apache-2.0
// Unit tests for the coordinator's result trees by levels
// (src/coordinator/rtree.c): the same roots and inclusion paths as the
// recursive RFC 9162 definitions of src/proto/merkle.c, for every size up
// to 70 and every leaf, and paths that verify.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "coordinator/rtree.h"
#include "crypto/hash.h"

static void
test_rtree__roots_and_paths_are_rfc_9162s(void **state)
{
	coffer_merkle_hash leaves[70], want, got;
	coffer_merkle_hash p1[COFFER_MERKLE_MAX_PATH], p2[COFFER_MERKLE_MAX_PATH];
	size_t n1, n2;
	struct rtree t;

	(void)state;
	for (size_t i = 0; i < 70; i++) {
		uint8_t e[8] = { (uint8_t)i, 1, 2, 3, 4, 5, 6, 7 };

		assert_int_equal(coffer_merkle_leaf(e, sizeof(e), leaves[i]), 0);
	}
	for (size_t n = 0; n <= 70; n++) {
		assert_int_equal(rtree_build(leaves, n, &t), 0);
		assert_int_equal(coffer_merkle_root(leaves, n, want), 0);
		assert_int_equal(rtree_root(&t, got), 0);
		assert_memory_equal(got, want, 32);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(coffer_merkle_path(leaves, n, i, p1, &n1), 0);
			assert_int_equal(rtree_path(&t, i, p2, &n2), 0);
			assert_int_equal(n1, n2);
			assert_memory_equal(p1, p2, n1 * 32);
			assert_int_equal(coffer_merkle_verify_inclusion(leaves[i], i, n, p2,
			    n2, got), 0);
		}
		assert_int_equal(rtree_path(&t, n, p2, &n2), COFFER_E_INVAL);
		rtree_release(&t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtree__roots_and_paths_are_rfc_9162s),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
