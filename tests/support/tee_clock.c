// SPDX-License-Identifier: Apache-2.0
// Test builds only: replaces coffer_tee_now (src/tee/now.c) in every test
// program, so that recorded hardware evidence can be verified "now" at its
// own time and expired collateral tested through the path callers use.
// The linker takes this definition and leaves src/tee/now.o out of test
// programs; production binaries never link tests/support.
#include <stdlib.h>

#include "coffer/tee.h"
#include "lib/clock.h"
#include "tee_clock.h"

static int64_t fixed = -1;

void
tt_clock_set(int64_t unix_s)
{
	fixed = unix_s;
}

int64_t
coffer_tee_now(void)
{
	if (fixed >= 0)
		return fixed;
	return coffer_wall_ms() / 1000;
}
