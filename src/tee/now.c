// SPDX-License-Identifier: Apache-2.0
// The one place attestation reads the clock (include/coffer/tee.h,
// coffer_tee_now). Alone in its file on purpose: a test program that
// defines coffer_tee_now itself (tests/support/tee_clock.c) is linked
// without this object, so production binaries carry no override at all.
#include "coffer/tee.h"
#include "lib/clock.h"

int64_t
coffer_tee_now(void)
{
	return coffer_wall_ms() / 1000;
}
