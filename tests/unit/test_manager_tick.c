// SPDX-License-Identifier: Apache-2.0
// Unit tests for the manager's tick scheduling (src/manager/manager.c):
// a tick asked for now (mgr_tick_soon) runs once and leaves the periodic
// tick where it was; and the cap on the replicas asked (replicas.c).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>

#include "manager/job_int.h"
#include "manager/mgr.h"

static struct mgr *
new_mgr(void)
{
	struct mgr *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	assert_non_null(m->base = event_base_new());
	/* Far away: the periodic tick never runs during the test. */
	m->cfg.tick_ms = 3600 * 1000;
	assert_int_equal(mgr_ticks_start(m), 0);
	return m;
}

static void
free_mgr(struct mgr *m)
{
	mgr_ticks_stop(m);
	event_base_free(m->base);
	free(m);
}

static void
periodic_deadline(const struct mgr *m, struct timeval *tv)
{
	assert_true(event_pending(m->tick_ev, EV_TIMEOUT, tv) & EV_TIMEOUT);
}

static void
test_tick__soon_runs_once_and_keeps_the_period(void **state)
{
	struct mgr *m = new_mgr();
	struct timeval before, after;

	(void)state;
	periodic_deadline(m, &before);
	/* Asked for twice before the loop runs: one tick. */
	mgr_tick_soon(m);
	mgr_tick_soon(m);
	assert_int_equal(event_base_loop(m->base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(m->ticks, 1);
	/* The periodic tick is still due when it was (event_active on it
	 * would have moved it a period later). */
	periodic_deadline(m, &after);
	assert_true(before.tv_sec == after.tv_sec && before.tv_usec == after.tv_usec);
	/* Nothing more to run; asked for again, it runs again. */
	assert_int_equal(event_base_loop(m->base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(m->ticks, 1);
	mgr_tick_soon(m);
	assert_int_equal(event_base_loop(m->base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(m->ticks, 2);
	periodic_deadline(m, &after);
	assert_true(before.tv_sec == after.tv_sec && before.tv_usec == after.tv_usec);
	free_mgr(m);
}

static void
test_tick__soon_is_no_tick_while_stopping(void **state)
{
	struct mgr *m = new_mgr();

	(void)state;
	m->stopping = 1;
	mgr_tick_soon(m);
	assert_int_equal(event_base_loop(m->base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(m->ticks, 0);
	free_mgr(m);
}

/* No replica beyond the work (doc/manager.md section 4). */
static void
test_replicas__capped_at_the_items_left_only_when_raised(void **state)
{
	struct mgr_job j;

	(void)state;
	memset(&j, 0, sizeof(j));
	j.total = -1;
	assert_int_equal(mgr_replicas_cap(&j, 4, 0), 4); /* not loaded */
	j.total = 3;
	assert_int_equal(mgr_replicas_cap(&j, 4, 0), 3); /* rule 1 */
	assert_int_equal(mgr_replicas_cap(&j, 2, 0), 2);
	j.total = 0;
	assert_int_equal(mgr_replicas_cap(&j, 4, 0), 1); /* never 0 */
	j.total = 10;
	j.have_last = 1;
	j.last.c.done = 7;
	j.last.c.failed = 1;                             /* 2 left */
	assert_int_equal(mgr_job_items_left(&j), 2);
	assert_int_equal(mgr_replicas_cap(&j, 6, 1), 2); /* rule 2 */
	assert_int_equal(mgr_replicas_cap(&j, 6, 3), 3); /* never below cur */
	assert_int_equal(mgr_replicas_cap(&j, 2, 4), 2); /* a scale-down: as is */
	j.last.c.done = 12;                              /* counts past total */
	assert_int_equal(mgr_job_items_left(&j), 0);
	assert_int_equal(mgr_replicas_cap(&j, 3, 0), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tick__soon_runs_once_and_keeps_the_period),
		cmocka_unit_test(test_tick__soon_is_no_tick_while_stopping),
		cmocka_unit_test(test_replicas__capped_at_the_items_left_only_when_raised),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
