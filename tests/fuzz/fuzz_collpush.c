// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: collateral push bodies (src/proto/collpush.c, rules C1
// to C3 of doc/protocol/collateral.md). What parses must make the same
// body back and parse to the same items.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "proto/collpush.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_collpush p = { NULL, 0 }, q = { NULL, 0 };
	struct coffer_buf b = COFFER_BUF_INIT((size_t)4 << 20);

	if (coffer_collpush_parse((const char *)data, size, &p) != 0)
		return 0;
	if (p.n == 0 || p.n > COFFER_COLLPUSH_ITEMS)
		abort();
	if (coffer_collpush_make(&p, &b) != 0 ||
	    coffer_collpush_parse((const char *)b.data, b.len, &q) != 0 || q.n != p.n)
		abort();
	for (size_t i = 0; i < p.n; i++)
		if (!coffer_collpush_name_ok(p.items[i].name) ||
		    strcmp(p.items[i].name, q.items[i].name) != 0 ||
		    p.items[i].data.len != q.items[i].data.len ||
		    memcmp(p.items[i].data.data, q.items[i].data.data, p.items[i].data.len) != 0)
			abort();
	coffer_collpush_release(&p);
	coffer_collpush_release(&q);
	coffer_buf_release(&b);
	return 0;
}
