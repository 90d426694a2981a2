// SPDX-License-Identifier: Apache-2.0
// Unit tests for the monitor's arithmetic (src/manager/monitor.c): p, r,
// e = p - r, smoothed throughput, ETA, lateness, no 24-hour wrap.
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "manager/monitor.h"

#define near(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void
counts(struct mgr_counts *c, int64_t total, int64_t done, int64_t failed,
    int64_t in_flight)
{
	memset(c, 0, sizeof(*c));
	c->total = total;
	c->done = done;
	c->failed = failed;
	c->in_flight = in_flight;
	c->queued = total - done - failed - in_flight;
}

static void
test_monitor__progress_time_and_error(void **state)
{
	struct mgr_monitor m;
	struct mgr_counts c;
	struct mgr_sample s;

	(void)state;
	mgr_monitor_init(&m, 5);
	counts(&c, 600, 100, 20, 3);
	mgr_monitor_update(&m, 10, 25, &c, 3, 4, 0, &s);
	near(s.progress, 120.0 / 600);
	near(s.time_progress, 10.0 / 25);
	near(s.error, 0.2 - 0.4);
	assert_int_equal(s.replicas, 3);
	assert_int_equal(s.ready, 3);
	assert_int_equal(s.desired, 4);
	/* One sample gives no rate: ETA and lateness are unknown. */
	assert_true(s.throughput == 0);
	assert_true(s.eta_s < 0);
	assert_true(s.lateness_s < 0);
	/* An empty job is complete. */
	mgr_monitor_init(&m, 5);
	counts(&c, 0, 0, 0, 0);
	mgr_monitor_update(&m, 1, 25, &c, 1, 1, 0, &s);
	near(s.progress, 1);
	near(s.eta_s, 0);
	near(s.lateness_s, 0);
}

/* The reduce stage's replica holds no item but is paid for: it counts
 * whole in replica_seconds (doc/manager.md 9.4), not in ready. */
static void
test_monitor__reduce_replica_counts_in_replica_seconds(void **state)
{
	struct mgr_monitor m;
	struct mgr_counts c;
	struct mgr_sample s;

	(void)state;
	mgr_monitor_init(&m, 5);
	counts(&c, 10, 0, 0, 2);
	mgr_monitor_update(&m, 0, 20, &c, 2, 2, 1, &s);
	assert_int_equal(s.ready, 2);
	counts(&c, 10, 8, 0, 2);
	mgr_monitor_update(&m, 2, 20, &c, 2, 2, 1, &s);
	near(s.replica_seconds, 2 * (2 + 1));  /* two items and the early one */
	assert_int_equal(s.ready, 2);
	counts(&c, 10, 10, 0, 0);
	mgr_monitor_update(&m, 3, 20, &c, 0, 0, 1, &s);
	near(s.replica_seconds, 6 + 1 * (2 + 1));
	assert_int_equal(s.ready, 0);
	mgr_monitor_update(&m, 5, 20, &c, 0, 0, 0, &s); /* the reduce stage */
	near(s.replica_seconds, 9 + 2 * 1);
	mgr_monitor_update(&m, 6, 20, &c, 0, 0, 0, &s);
	near(s.replica_seconds, 11);
}

static void
test_monitor__throughput_converges_and_gives_eta(void **state)
{
	struct mgr_monitor m;
	struct mgr_counts c;
	struct mgr_sample s;

	(void)state;
	mgr_monitor_init(&m, 5);
	/* 10 items/s with 2 busy replicas, sampled every second. */
	for (int t = 0; t <= 30; t++) {
		counts(&c, 1000, 10 * t, 0, 2);
		mgr_monitor_update(&m, t, 50, &c, 2, 2, 0, &s);
	}
	near(s.throughput, 10);
	near(s.throughput_per_replica, 5);
	near(s.eta_s, (1000 - 300) / 10.0);
	near(s.lateness_s, 30 + 70 - 50);
	/* replica_seconds integrates the ready replicas: 2 over 30 s. */
	near(s.replica_seconds, 60);
	/* A step in the rate is followed smoothly, not jumped to. */
	counts(&c, 1000, 300 + 40, 0, 2);
	mgr_monitor_update(&m, 31, 50, &c, 2, 2, 0, &s);
	assert_true(s.throughput > 10 && s.throughput < 40);
	near(s.throughput, 10 + (1 - exp(-1.0 / 5)) * 30);
}

static void
test_monitor__elapsed_time_does_not_wrap_after_a_day(void **state)
{
	struct mgr_monitor m;
	struct mgr_counts c;
	struct mgr_sample s;
	double day = 86400;

	(void)state;
	mgr_monitor_init(&m, 5);
	counts(&c, 100, 10, 0, 1);
	mgr_monitor_update(&m, day + 3600, 2 * day, &c, 1, 1, 0, &s);
	/* Asperathos's timedelta.seconds would give 3600 here. */
	near(s.time_progress, (day + 3600) / (2 * day));
	/* Time never goes backwards for the monitor. */
	mgr_monitor_update(&m, day, 2 * day, &c, 1, 1, 0, &s);
	near(s.t_s, day + 3600);
}

static void
test_monitor__observation_follows_the_abi(void **state)
{
	struct mgr_monitor m;
	struct mgr_counts c;
	struct mgr_sample s;
	struct coffer_ctl_obs o;

	(void)state;
	mgr_monitor_init(&m, 5);
	counts(&c, 10, 0, 0, 0);
	mgr_monitor_update(&m, 0, 20, &c, 1, 1, 0, &s);
	counts(&c, 10, 0, 0, 1);
	mgr_monitor_update(&m, 2, 20, &c, 3, 3, 0, &s);
	counts(&c, 10, 4, 1, 1);
	mgr_monitor_update(&m, 4, 20, &c, 3, 3, 0, &s);
	mgr_monitor_obs(&m, &s, &o);
	assert_int_equal(o.size, sizeof(o));
	near(o.now_s, 4);
	assert_int_equal(o.total, 10);
	assert_int_equal(o.done, 4);
	assert_int_equal(o.failed, 1);
	assert_int_equal(o.in_flight, 1);
	assert_int_equal(o.queued, 4);
	near(o.progress, 0.5);
	near(o.time_progress, 0.2);
	near(o.error, 0.3);
	assert_int_equal(o.replicas, 3);
	/* Only one replica holds an item. */
	assert_int_equal(o.replicas_ready, 1);
	assert_int_equal(o.replicas_desired, 3);
	/* 0 ready for 2 s, then 1 ready for 2 s. */
	near(o.replica_seconds, 2);
	near(o.item_time_mean_s, 2.0 / 5);
	/* The first item was taken by t = 2. */
	near(o.startup_s, 2);
	assert_true(o.throughput > 0);
	/* The workers reported no item times (an Asperathos job): no
	 * variance, the mean from the replica-seconds. */
	assert_true(o.item_time_var_s2 == 0);
}

static void
test_monitor__item_times_come_from_the_acks(void **state)
{
	struct mgr_monitor m;
	struct mgr_counts c;
	struct mgr_sample s;
	struct coffer_ctl_obs o;
	double mean, var;

	(void)state;
	mgr_monitor_init(&m, 5);
	counts(&c, 10, 0, 0, 0);
	mgr_monitor_update(&m, 0, 20, &c, 1, 1, 0, &s);
	/* Three items done, of 1, 2 and 6 s: mean 3, variance 7. */
	counts(&c, 10, 3, 0, 1);
	c.timed = 3;
	c.time_sum_s = 9;
	c.time_sq_sum_s2 = 41;
	mgr_monitor_update(&m, 10, 20, &c, 1, 1, 0, &s);
	mgr_monitor_obs(&m, &s, &o);
	near(o.item_time_mean_s, 3);
	near(o.item_time_var_s2, 7);
	/* One timed item: a mean, no variance. */
	c.timed = 1;
	c.time_sum_s = 2;
	c.time_sq_sum_s2 = 4;
	mgr_monitor_item_time(&c, &mean, &var);
	near(mean, 2);
	assert_true(var == 0);
	/* Equal times: the variance of the millisecond resolution, never 0
	 * (which would mean unknown). */
	c.timed = 4;
	c.time_sum_s = 8;
	c.time_sq_sum_s2 = 16;
	mgr_monitor_item_time(&c, &mean, &var);
	near(mean, 2);
	assert_true(var > 0 && var < 1e-6);
	/* Nothing timed, or nonsense: unknown. */
	c.timed = 0;
	mgr_monitor_item_time(&c, &mean, &var);
	assert_true(mean == 0 && var == 0);
	c.timed = 2;
	c.time_sum_s = NAN;
	mgr_monitor_item_time(&c, &mean, &var);
	assert_true(mean == 0 && var == 0);
}

static void
test_monitor__resume_keeps_the_integral_and_rate(void **state)
{
	struct mgr_monitor m;
	struct mgr_sample last, s;
	struct mgr_counts c;

	(void)state;
	memset(&last, 0, sizeof(last));
	last.replica_seconds = 123;
	last.throughput = 4;
	mgr_monitor_init(&m, 5);
	mgr_monitor_resume(&m, &last);
	counts(&c, 100, 50, 0, 2);
	mgr_monitor_update(&m, 500, 1000, &c, 2, 2, 0, &s);
	near(s.replica_seconds, 123);
	near(s.throughput, 4);
	near(s.eta_s, 50 / 4.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monitor__progress_time_and_error),
		cmocka_unit_test(test_monitor__reduce_replica_counts_in_replica_seconds),
		cmocka_unit_test(test_monitor__throughput_converges_and_gives_eta),
		cmocka_unit_test(test_monitor__elapsed_time_does_not_wrap_after_a_day),
		cmocka_unit_test(test_monitor__observation_follows_the_abi),
		cmocka_unit_test(test_monitor__resume_keeps_the_integral_and_rate),
		cmocka_unit_test(test_monitor__item_times_come_from_the_acks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
