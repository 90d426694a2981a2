// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: collateral pushes (doc/protocol/collateral.md section
// 3) at a real coordinator (tests/fuzz/coord_harness.h). The first byte
// chooses what the rest is:
//   even  a push body through the route and its handler: C1 to C7, the
//         strict checks of every item, the cache in its state, the
//         collateral object releases use (the parser alone:
//         fuzz_collpush)
//   odd   the bytes of one item, sent in a well-formed push, so that
//         hostile collateral reaches the verifier's loaders and the cache
// Seeds: tests/fuzz/corpus/coord_collateral/ (pushes of recorded pieces).
#include <stddef.h>
#include <stdint.h>

#include "coord_harness.h"
#include "proto/collpush.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
item(const uint8_t *d, size_t n)
{
	struct coffer_buf b = COFFER_BUF_INIT((size_t)4 << 20);

	if (coffer_buf_puts(&b, "{\"type\":\"coffer-collateral\",\"version\":1,"
	    "\"items\":[{\"name\":\"fuzz\",\"data\":\"") != 0 ||
	    coffer_b64url_put(&b, d, n) != 0 || coffer_buf_puts(&b, "\"}]}") != 0)
		abort();
	h_call("POST", "/v1/collateral", b.data, b.len);
	coffer_buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (H_c == NULL)
		h_world();
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		h_call("POST", "/v1/collateral", data + 1, size - 1);
	else if (size - 1 > 0 && size - 1 <= COFFER_COLLPUSH_ITEM_MAX)
		item(data + 1, size - 1);
	return 0;
}
