/* SPDX-License-Identifier: Apache-2.0 */
/* Test builds only: the clock coffer_tee_now() reads (tee_clock.c). */
#ifndef COFFER_TEST_TEE_CLOCK_H
#define COFFER_TEST_TEE_CLOCK_H

#include <stdint.h>

/* From now on coffer_tee_now() returns unix_s; -1: the wall clock again. */
void tt_clock_set(int64_t unix_s);

#endif
