// SPDX-License-Identifier: Apache-2.0
// Unit tests for the runner/supervisor shared page's reader
// (src/worker/shared.c): it waits for an update that a preempted writer
// has not finished yet, and gives up on one that never ends.
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "worker/shared.h"

/* How long the writer stays in the middle of its update: far longer than
 * a reader that only spins waits (well under 1 ms), far shorter than one
 * that yields gives up after (200 ms). */
#define HOLD_MS 20

static int mid_update;

/* A runner stopped in the middle of an update (as shared.c's begin() and
 * end() write the sequence) for HOLD_MS. */
static void *
slow_writer(void *arg)
{
	struct worker_shared *sh = arg;
	struct timespec ts = { 0, HOLD_MS * 1000000L };

	__atomic_fetch_add(&sh->seq, 1, __ATOMIC_ACQUIRE);
	sh->state = RUNNER_READY;
	snprintf(sh->msg, sizeof(sh->msg), "ready");
	__atomic_store_n(&mid_update, 1, __ATOMIC_RELEASE);
	nanosleep(&ts, NULL);
	__atomic_fetch_add(&sh->seq, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_shared__read_waits_for_an_update_under_way(void **state)
{
	struct worker_shared *sh = shared_new(), c;
	pthread_t t;

	(void)state;
	assert_non_null(sh);
	shared_state(sh, RUNNER_STARTING, NULL, "starting");
	mid_update = 0;
	assert_int_equal(pthread_create(&t, NULL, slow_writer, sh), 0);
	while (!__atomic_load_n(&mid_update, __ATOMIC_ACQUIRE))
		;
	assert_int_equal(shared_read(sh, &c), 0);
	assert_int_equal(c.state, RUNNER_READY);
	assert_string_equal(c.msg, "ready");
	assert_int_equal(pthread_join(t, NULL), 0);
	shared_free(sh);
}

static void
test_shared__read_gives_up_on_an_update_that_never_ends(void **state)
{
	struct worker_shared *sh = shared_new(), c;

	(void)state;
	assert_non_null(sh);
	shared_state(sh, RUNNER_READY, NULL, "ready");
	/* A runner killed in the middle of an update. */
	__atomic_fetch_add(&sh->seq, 1, __ATOMIC_ACQUIRE);
	assert_int_equal(shared_read(sh, &c), -1);
	__atomic_fetch_add(&sh->seq, 1, __ATOMIC_RELEASE);
	assert_int_equal(shared_read(sh, &c), 0);
	shared_free(sh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared__read_waits_for_an_update_under_way),
		cmocka_unit_test(test_shared__read_gives_up_on_an_update_that_never_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
