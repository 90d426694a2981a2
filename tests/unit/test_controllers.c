// SPDX-License-Identifier: Apache-2.0
// Unit tests for the replica controllers (src/controllers/ctl_*.c) and their
// registry: each controller's rules and edge cases, built-in and plugin
// paths agreeing, bad parameters refused by name, and decide() surviving
// random observations.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coffer/controller.h"
#include "coffer/error.h"
#include "controllers/registry.h"

/* ---- helpers ---------------------------------------------------------- */

struct ctl {
	const struct coffer_controller *def;
	void *dl;
	void *st;
	char err[256];
};

/* What the next ctl_open()'s host promises (COFFER_CTL_HOST_*). */
static uint32_t open_host_flags;

static int
ctl_open(struct ctl *c, const char *name, int min, int max, double deadline,
    const char *const *kv)
{
	struct coffer_ctl_param params[16];
	struct coffer_ctl_config cfg;
	size_t n = 0;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = coffer_controller_find(name, &c->def, &c->dl)) != 0)
		return r;
	while (kv != NULL && kv[2 * n] != NULL) {
		params[n].key = kv[2 * n];
		params[n].value = kv[2 * n + 1];
		n++;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = sizeof(cfg);
	cfg.min_replicas = min;
	cfg.max_replicas = max;
	cfg.expected_time_s = deadline;
	cfg.check_interval_s = 5;
	cfg.params = params;
	cfg.nparams = n;
	cfg.host_flags = open_host_flags;
	r = c->def->create(&cfg, &c->st, c->err, sizeof(c->err));
	if (r != 0) {
		coffer_controller_unload(c->dl);
		c->dl = NULL;
	}
	return r;
}

static void
ctl_close(struct ctl *c)
{
	if (c->def != NULL && c->st != NULL)
		c->def->destroy(c->st);
	coffer_controller_unload(c->dl);
	memset(c, 0, sizeof(*c));
}

static struct coffer_ctl_obs
obs_at(double now, int64_t total, int64_t done, int64_t in_flight,
    int32_t replicas, int32_t ready, int32_t desired, double deadline)
{
	struct coffer_ctl_obs o;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.now_s = now;
	o.total = total;
	o.done = done;
	o.in_flight = in_flight;
	o.queued = total - done - in_flight;
	if (o.queued < 0)
		o.queued = 0;
	o.progress = total > 0 ? (double)done / (double)total : 1.0;
	o.time_progress = deadline > 0 ? now / deadline : 0;
	o.error = o.progress - o.time_progress;
	o.replicas = replicas;
	o.replicas_ready = ready;
	o.replicas_desired = desired;
	return o;
}

static int
decide(struct ctl *c, const struct coffer_ctl_obs *o,
    struct coffer_ctl_decision *d)
{
	int r = c->def->decide(c->st, o, d);

	assert_non_null(memchr(d->reason, '\0', sizeof(d->reason)));
	return r;
}

static const char *
build_dir(void)
{
	const char *b = getenv("COFFER_BUILD");

	return b != NULL && *b != '\0' ? b : "build";
}

/* ---- registry --------------------------------------------------------- */

static void
test_registry__finds_every_builtin_by_name(void **state)
{
	const struct coffer_controller *def = NULL, *d2 = NULL;
	const char *want[] = { "deadline", "asperathos-default", "asperathos-pid",
	    "hpa", "static" };
	void *dl = (void *)1;
	size_t i, n;

	(void)state;
	n = coffer_controller_builtin(0, NULL);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		assert_int_equal(coffer_controller_builtin(i, &d2), n);
		assert_int_equal(coffer_controller_find(d2->name, &def, &dl), 0);
		assert_ptr_equal(def, d2);
		assert_null(dl);
		assert_int_equal(coffer_controller_check(def, def->name), 0);
		assert_string_equal(def->name, want[i]);
		assert_non_null(def->summary);
	}
}

static void
test_registry__unknown_name_lists_builtins(void **state)
{
	const struct coffer_controller *def = NULL;
	void *dl = NULL;

	(void)state;
	assert_int_equal(coffer_controller_find("pid", &def, &dl), COFFER_E_NOTFOUND);
	assert_null(def);
	assert_non_null(strstr(coffer_errdetail(), "asperathos-pid"));
	assert_non_null(strstr(coffer_errdetail(), "\"pid\""));
	assert_int_equal(coffer_controller_find("", &def, &dl), COFFER_E_INVAL);
	assert_int_equal(coffer_controller_find(NULL, &def, &dl), COFFER_E_INVAL);
}

static void
test_registry__loads_plugins_by_path(void **state)
{
	const char *files[] = { "deadline", "asperathos_default", "asperathos_pid",
	    "hpa", "static" };
	const char *names[] = { "deadline", "asperathos-default", "asperathos-pid",
	    "hpa", "static" };
	const struct coffer_controller *def, *builtin;
	char path[512];
	void *dl;
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/controllers/%s.so", build_dir(),
		    files[i]);
		def = NULL;
		dl = NULL;
		assert_int_equal(coffer_controller_find(path, &def, &dl), 0);
		assert_non_null(dl);
		assert_string_equal(def->name, names[i]);
		assert_int_equal(coffer_controller_find(names[i], &builtin, &(void *){ NULL }), 0);
		assert_ptr_not_equal(def, builtin); /* really the plugin's copy */
		assert_int_equal(def->abi_version, COFFER_CONTROLLER_ABI_VERSION);
		coffer_controller_unload(dl);
	}
}

static void
test_registry__rejects_missing_file_and_foreign_library(void **state)
{
	const struct coffer_controller *def = NULL;
	void *dl = NULL;
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/controllers/no-such.so", build_dir());
	assert_int_equal(coffer_controller_find(path, &def, &dl), COFFER_E_IO);
	assert_non_null(strstr(coffer_errdetail(), "no-such.so"));
	/* a real shared library without the entry point */
	assert_int_equal(coffer_controller_find("/lib/x86_64-linux-gnu/libm.so.6",
	    &def, &dl) == COFFER_E_ABI ||
	    coffer_controller_find("/usr/lib/x86_64-linux-gnu/libm.so.6", &def,
	    &dl) == COFFER_E_ABI, 1);
	assert_non_null(strstr(coffer_errdetail(), COFFER_CONTROLLER_ENTRY_SYMBOL));
	assert_null(def);
	assert_null(dl);
}

static int dummy_create(const struct coffer_ctl_config *c, void **s, char *e,
    size_t n) { (void)c; (void)e; (void)n; *s = NULL; return 0; }
static int dummy_decide(void *s, const struct coffer_ctl_obs *o,
    struct coffer_ctl_decision *d) { (void)s; (void)o; d->replicas = 1; return 0; }

static void
test_registry__check_rejects_abi_mismatches(void **state)
{
	struct coffer_controller def = {
		sizeof(def), COFFER_CONTROLLER_ABI_VERSION, "x", "y",
		dummy_create, dummy_decide, NULL,
	};

	(void)state;
	assert_int_equal(coffer_controller_check(&def, "p.so"), 0);
	def.abi_version = 2;
	assert_int_equal(coffer_controller_check(&def, "p.so"), COFFER_E_ABI);
	assert_non_null(strstr(coffer_errdetail(), "version 2"));
	def.abi_version = COFFER_CONTROLLER_ABI_VERSION;
	def.size = 8;
	assert_int_equal(coffer_controller_check(&def, "p.so"), COFFER_E_ABI);
	assert_non_null(strstr(coffer_errdetail(), "size 8"));
	def.size = sizeof(def);
	def.decide = NULL;
	assert_int_equal(coffer_controller_check(&def, "p.so"), COFFER_E_ABI);
	assert_non_null(strstr(coffer_errdetail(), "decide()"));
	def.decide = dummy_decide;
	def.name = "";
	assert_int_equal(coffer_controller_check(&def, "p.so"), COFFER_E_ABI);
	assert_int_equal(coffer_controller_check(NULL, "p.so"), COFFER_E_ABI);
}

/* ---- parameters ------------------------------------------------------- */

static void
expect_refused(const char *name, const char *key, const char *value,
    const char *want_in_message)
{
	const char *kv[] = { key, value, NULL };
	struct ctl c;

	assert_int_equal(ctl_open(&c, name, 1, 10, 600, kv), COFFER_E_INVAL);
	if (strstr(c.err, want_in_message) == NULL)
		fail_msg("%s %s=%s: message \"%s\" lacks \"%s\"", name, key,
		    value ? value : "(null)", c.err, want_in_message);
}

static void
test_params__invalid_values_are_refused_by_name(void **state)
{
	(void)state;
	expect_refused("asperathos-default", "trigger_up", "-0.1", "trigger_up:");
	expect_refused("asperathos-default", "trigger_down", "abc", "trigger_down:");
	expect_refused("asperathos-default", "actuation_size", "0", "actuation_size:");
	expect_refused("asperathos-default", "actuation_size", "1.5", "actuation_size:");
	expect_refused("asperathos-default", "bogus", "1", "bogus: unknown");
	expect_refused("asperathos-pid", "proportional_gain", "nan", "proportional_gain:");
	expect_refused("asperathos-pid", "integral_gain", "", "integral_gain:");
	expect_refused("asperathos-pid", "derivative_gain", "1e999", "derivative_gain:");
	expect_refused("asperathos-pid", "trigger_up", "0", "trigger_up: unknown");
	expect_refused("hpa", "target", "0", "target:");
	expect_refused("hpa", "metric", "cpu", "metric:");
	expect_refused("hpa", "tolerance", "-1", "tolerance:");
	expect_refused("static", "replicas", "11", "replicas:");
	expect_refused("static", "replicas", "lots", "replicas:");
	expect_refused("deadline", "min_slack", "0.5", "min_slack:");
	expect_refused("deadline", "startup_s", "-3", "startup_s:");
	expect_refused("deadline", "safety_z", "x", "safety_z:");
	expect_refused("deadline", "down_ticks", "0", "down_ticks:");
	expect_refused("deadline", "nope", "1", "nope: unknown");
}

static void
test_params__config_errors_name_the_field(void **state)
{
	const char *kv[] = { "margin", "0.1", "margin", "0.2", NULL };
	struct ctl c;

	(void)state;
	assert_int_equal(ctl_open(&c, "deadline", 1, 10, 0, NULL), COFFER_E_INVAL);
	assert_non_null(strstr(c.err, "expected_time"));
	assert_int_equal(ctl_open(&c, "deadline", 1, 10, NAN, NULL), COFFER_E_INVAL);
	assert_non_null(strstr(c.err, "expected_time"));
	assert_int_equal(ctl_open(&c, "static", 5, 3, 100, NULL), COFFER_E_INVAL);
	assert_non_null(strstr(c.err, "max_replicas"));
	assert_int_equal(ctl_open(&c, "hpa", -1, 3, 100, NULL), COFFER_E_INVAL);
	assert_non_null(strstr(c.err, "min_replicas"));
	assert_int_equal(ctl_open(&c, "asperathos-default", 0, 0, 100, NULL),
	    COFFER_E_INVAL);
	assert_non_null(strstr(c.err, "max_replicas"));
	assert_int_equal(ctl_open(&c, "deadline", 1, 10, 100, kv), COFFER_E_INVAL);
	assert_non_null(strstr(c.err, "margin: given twice"));
	/* Asperathos controllers do not need a deadline to be created */
	assert_int_equal(ctl_open(&c, "asperathos-default", 1, 3, 0, NULL), 0);
	ctl_close(&c);
}

/* ---- asperathos-default ---------------------------------------------- */

static void
test_asperathos_default__steps_on_the_sign_of_the_error(void **state)
{
	const char *kv[] = { "trigger_up", "0.05", "trigger_down", "0.1",
	    "actuation_size", "2", NULL };
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;

	(void)state;
	assert_int_equal(ctl_open(&c, "asperathos-default", 1, 10, 100, kv), 0);
	o = obs_at(50, 100, 40, 2, 5, 5, 5, 100); /* e = 0.4 - 0.5 = -0.1 */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 7);
	assert_non_null(strstr(d.reason, "-0.1000"));
	o.error = -0.04; /* behind, but less than trigger_up */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 5);
	o.error = 0.05; /* ahead, less than trigger_down */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 5);
	o.error = 0.1; /* exactly trigger_down: >= */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 3);
	o.replicas_desired = 2; /* down clamps at min_rep */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 1);
	o.replicas_desired = 9;
	o.error = -0.5; /* up clamps at max_rep */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 10);
	o.error = NAN;
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 9);
	ctl_close(&c);
}

static void
test_asperathos_default__zero_error_with_zero_triggers_keeps(void **state)
{
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;

	(void)state;
	assert_int_equal(ctl_open(&c, "asperathos-default", 1, 10, 100, NULL), 0);
	o = obs_at(0, 100, 0, 0, 1, 0, 1, 100);
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 1); /* e == 0: Asperathos takes no action */
	o.error = -1e-9;
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 2);
	o.error = 1e-9;
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 1);
	ctl_close(&c);
}

/* ---- asperathos-pid --------------------------------------------------- */

static void
test_asperathos_pid__truncates_the_action_toward_zero(void **state)
{
	const char *kv[] = { "proportional_gain", "10", "integral_gain", "0",
	    "derivative_gain", "0", NULL };
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;

	(void)state;
	assert_int_equal(ctl_open(&c, "asperathos-pid", 1, 20, 100, kv), 0);
	o = obs_at(10, 100, 0, 0, 5, 5, 5, 100);
	o.error = -0.25; /* -10 * -0.25 = 2.5 -> 2 */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 7);
	o.error = 0.29; /* -2.9 -> -2, not -3 */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 3);
	o.error = 0.05; /* -0.5 -> 0 */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 5);
	ctl_close(&c);
}

static void
test_asperathos_pid__integral_and_derivative_as_asperathos(void **state)
{
	const char *kv[] = { "proportional_gain", "0", "integral_gain", "10",
	    "derivative_gain", "20", NULL };
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;

	(void)state;
	assert_int_equal(ctl_open(&c, "asperathos-pid", 0, 100, 100, kv), 0);
	o = obs_at(10, 100, 0, 0, 10, 10, 10, 100);
	/* first call: no derivative; the integral includes this error */
	o.error = -0.15; /* I = -10 * -0.15 = 1.5 -> 1 */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 11);
	/* sum = -0.35: I = 3.5; D = -20 * (-0.2 - -0.15) = 1.0 -> 4.5 -> 4 */
	o.error = -0.2;
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 14);
	/* no anti-windup: the integral keeps pushing up while e is 0 */
	o.error = 0; /* I = 3.5, D = -20 * 0.2 = -4 -> -0.5 -> 0 */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 10);
	o.error = 0; /* I = 3.5, D = 0 -> 3 */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 13);
	ctl_close(&c);
}

static void
test_asperathos_pid__tutorial_gains_never_act_within_one(void **state)
{
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;
	int i;

	(void)state;
	assert_int_equal(ctl_open(&c, "asperathos-pid", 1, 64, 100, NULL), 0);
	o = obs_at(10, 100, 0, 0, 3, 3, 3, 100);
	for (i = 0; i < 50; i++) {
		o.error = -1.0 + i * 0.04;
		assert_int_equal(decide(&c, &o, &d), 0);
		assert_int_equal(d.replicas, 3);
	}
	o.error = -10.5; /* 10.5x past the deadline: int(1.05) = 1 */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 4);
	ctl_close(&c);
}

/* ---- hpa -------------------------------------------------------------- */

static void
test_hpa__scales_on_queue_with_rate_limit_and_tolerance(void **state)
{
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;

	(void)state;
	assert_int_equal(ctl_open(&c, "hpa", 1, 64, 1000, NULL), 0);
	o = obs_at(0, 1000, 0, 4, 4, 4, 4, 1000);
	o.queued = 100; /* ceil(100 / 5) = 20, limited to max(2*4, 4+4) = 8 */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 8);
	o.now_s = 5; /* between syncs */
	o.replicas_desired = 8;
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 8);
	o.now_s = 15; /* the t=0 event is out of the 15 s period: 2 * 8 = 16 */
	o.replicas = 8;
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 16);
	/* within tolerance: 84 / (5 * 16) = 1.05 -> the status count */
	o.now_s = 30;
	o.replicas = 16;
	o.replicas_desired = 16;
	o.queued = 84;
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 16);
	ctl_close(&c);
}

static void
test_hpa__scale_down_waits_for_the_stabilisation_window(void **state)
{
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;
	double t;

	(void)state;
	assert_int_equal(ctl_open(&c, "hpa", 1, 64, 1000, NULL), 0);
	o = obs_at(0, 1000, 0, 10, 10, 10, 10, 1000);
	o.queued = 50; /* 10: unchanged */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 10);
	o.queued = 0; /* the recommendation drops to 0, the count stays */
	for (t = 15; t < 300; t += 15) {
		o.now_s = t;
		assert_int_equal(decide(&c, &o, &d), 0);
		assert_int_equal(d.replicas, 10);
	}
	o.now_s = 300; /* the t=0 recommendation has left the window */
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 1);
	ctl_close(&c);
}

/* ---- static ----------------------------------------------------------- */

static void
test_static__holds_its_count(void **state)
{
	const char *kmin[] = { "replicas", "min", NULL };
	const char *knum[] = { "replicas", "7", NULL };
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o = obs_at(10, 10, 0, 0, 1, 1, 1, 100);
	struct ctl c;

	(void)state;
	assert_int_equal(ctl_open(&c, "static", 2, 9, 100, NULL), 0);
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 9);
	ctl_close(&c);
	assert_int_equal(ctl_open(&c, "static", 2, 9, 100, kmin), 0);
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 2);
	ctl_close(&c);
	assert_int_equal(ctl_open(&c, "static", 2, 9, 100, knum), 0);
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 7);
	ctl_close(&c);
}

/* ---- deadline --------------------------------------------------------- */

/*
 * Drive the deadline controller through a fluid job that runs exactly as
 * modelled: each replica, ready at once, finishes 1/m items per second.
 * Returns the finish time (or until if not finished); *peak and *last get
 * the largest and the last count asked for.
 */
static double
run_fluid(struct ctl *c, int64_t total, double m, double deadline,
    int32_t start, double until, int32_t *peak, int32_t *last,
    struct coffer_ctl_decision *d)
{
	struct coffer_ctl_obs o;
	double t, done = 0;
	int32_t n = start;

	*peak = 0;
	for (t = 0; t <= until; t += 5) {
		int64_t idone = (int64_t)done, busy = n;

		if (idone >= total)
			return t;
		if (busy > total - idone)
			busy = total - idone;
		o = obs_at(t, total, idone, busy, n, n, n, deadline);
		o.startup_s = 1;
		if (idone > 0) {
			o.item_time_mean_s = m;
			o.item_time_var_s2 = m * m / 4;
		}
		assert_int_equal(decide(c, &o, d), 0);
		n = d->replicas;
		if (n > *peak)
			*peak = n;
		*last = n;
		done += (double)n * 5.0 / m;
	}
	return until;
}

static void
test_deadline__meets_the_deadline_without_going_to_max(void **state)
{
	/* told that the deadline has 10% of slack over the fastest
	 * completion at max (min_slack; by default it assumes nothing more
	 * than feasibility, and starts at max) */
	const char *slack[] = { "min_slack", "1.1", NULL };
	struct coffer_ctl_decision d;
	int32_t peak, last;
	struct ctl c;
	double fin;

	(void)state;
	/* 1200 items of 10 s in 1000 s: 12 replica-streams are enough */
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 1000, slack), 0);
	fin = run_fluid(&c, 1200, 10, 1000, 1, 5000, &peak, &last, &d);
	if (fin > 1000 || peak < 12 || peak > 32)
		fail_msg("finished at %.0f s with peak %d (%s)", fin, peak, d.reason);
	assert_int_equal(d.flags & COFFER_CTL_INFEASIBLE, 0);
	ctl_close(&c);
	/* twice the items in the same time: about twice the replicas */
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 1000, slack), 0);
	fin = run_fluid(&c, 2400, 10, 1000, 1, 5000, &peak, &last, &d);
	if (fin > 1000 || peak < 24 || peak > 48)
		fail_msg("finished at %.0f s with peak %d (%s)", fin, peak, d.reason);
	ctl_close(&c);
	/* by default: met too */
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 1000, NULL), 0);
	fin = run_fluid(&c, 1200, 10, 1000, 1, 5000, &peak, &last, &d);
	if (fin > 1000)
		fail_msg("finished at %.0f s with peak %d (%s)", fin, peak, d.reason);
	ctl_close(&c);
}

static void
test_deadline__scales_down_a_large_excess_after_hysteresis(void **state)
{
	const char *long_grace[] = { "grace_s", "120", NULL };
	struct coffer_ctl_decision d;
	int32_t peak, last;
	struct ctl c;

	(void)state;
	/* 64 replicas where about 6 do, and a stop cannot kill (a grace of
	 * 120 s for items of ~10 s): it steps down, not below the need */
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 2000, long_grace), 0);
	(void)run_fluid(&c, 1200, 10, 2000, 64, 100, &peak, &last, &d);
	if (last < 6 || last > 16)
		fail_msg("expected 6..16 replicas after 100 s, got %d (%s)", last,
		    d.reason);
	ctl_close(&c);
	/* the same with the default 10 s grace: a stopped busy replica would
	 * likely be killed mid-item, so it keeps them */
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 2000, NULL), 0);
	(void)run_fluid(&c, 1200, 10, 2000, 64, 100, &peak, &last, &d);
	assert_int_equal(last, 64);
	ctl_close(&c);
	/* 64 replicas where 50 are needed: kept (not worth a restart) */
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 400, long_grace), 0);
	(void)run_fluid(&c, 2000, 10, 400, 64, 100, &peak, &last, &d);
	assert_int_equal(last, 64);
	ctl_close(&c);
}

static void
test_deadline__zero_items_asks_for_min(void **state)
{
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o = obs_at(0, 0, 0, 0, 0, 0, 0, 100);
	struct ctl c;

	(void)state;
	assert_int_equal(ctl_open(&c, "deadline", 0, 8, 100, NULL), 0);
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 0);
	assert_non_null(strstr(d.reason, "no items"));
	ctl_close(&c);
}

static void
test_deadline__no_progress_yet_cold_starts_within_bounds(void **state)
{
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;
	int32_t probe;

	(void)state;
	/* a deadline barely above the assumed start-up: no time to learn,
	 * most of max at once */
	assert_int_equal(ctl_open(&c, "deadline", 1, 16, 65, NULL), 0);
	o = obs_at(0, 500, 0, 0, 1, 0, 1, 100);
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_true(d.replicas >= 8);
	assert_non_null(strstr(d.reason, "cold start"));
	ctl_close(&c);
	/* a long deadline: a probe of 20% of max, not max: the job that is
	 * just feasible (min_slack) can still be rescued at the next tick */
	assert_int_equal(ctl_open(&c, "deadline", 1, 16, 20000, NULL), 0);
	assert_int_equal(decide(&c, &o, &d), 0);
	probe = d.replicas;
	if (probe < 4 || probe > 8)
		fail_msg("expected the probe (4) or a little more, got %d (%s)",
		    probe, d.reason);
	assert_non_null(strstr(d.reason, "cold start"));
	assert_int_equal(d.flags & COFFER_CTL_INFEASIBLE, 0);
	/* items in flight for a long time without finishing: scale up */
	o = obs_at(5, 500, 0, probe, probe, probe, probe, 20000);
	assert_int_equal(decide(&c, &o, &d), 0);
	o = obs_at(3005, 500, 0, probe, probe, probe, probe, 20000);
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_true(d.replicas > probe);
	ctl_close(&c);
}

static void
test_deadline__cold_start_hedges_more_as_time_passes_without_an_item(void **state)
{
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;
	int32_t first;

	(void)state;
	/* 2000 items, max 32, 1500 s: a just-feasible job has items of
	 * (1500 / 1.05 - 60) / 63 = 21.7 s. At first a rescue at the next
	 * tick is possible, so only the probe starts; while no replica is
	 * ready, the start-up is at least the time waited, the rescue gets
	 * later, and the count needed now grows, up to max. */
	assert_int_equal(ctl_open(&c, "deadline", 1, 32, 1500, NULL), 0);
	o = obs_at(0, 2000, 0, 0, 1, 0, 1, 1500);
	assert_int_equal(decide(&c, &o, &d), 0);
	first = d.replicas;
	if (first < 7 || first >= 32)
		fail_msg("at 0 s: %d replicas (%s)", first, d.reason);
	for (double t = 5; t <= 400; t += 5) {
		int32_t before = d.replicas;

		o = obs_at(t, 2000, 0, 0, before, 0, before, 1500);
		assert_int_equal(decide(&c, &o, &d), 0);
		assert_true(d.replicas >= before);
	}
	assert_int_equal(d.replicas, 32);
	ctl_close(&c);
}

static void
test_deadline__item_time_estimate_sizes_the_first_count(void **state)
{
	const char *est[] = { "item_time_estimate_s", "10", NULL };
	const char *bad[] = { "item_time_estimate_s", "-1", NULL };
	const char *bad2[] = { "estimate_error", "0.5", NULL };
	struct coffer_ctl_decision d, d0;
	struct coffer_ctl_obs o;
	struct ctl c;

	(void)state;
	/* 3000 items of about 10 s in 4000 s, start-up 60 s (the prior):
	 * about 8 replica-streams. Without an estimate the deadline could be
	 * that of a job of items eight times longer that needs most of max
	 * now; with it, the first count is sized on 10 s. */
	o = obs_at(0, 3000, 0, 0, 1, 0, 1, 4000);
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 4000, NULL), 0);
	assert_int_equal(decide(&c, &o, &d0), 0);
	ctl_close(&c);
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 4000, est), 0);
	assert_int_equal(decide(&c, &o, &d), 0);
	ctl_close(&c);
	if (d.replicas < 8 || d.replicas > 20 || d0.replicas <= d.replicas)
		fail_msg("with the estimate %d (%s); without %d (%s)", d.replicas,
		    d.reason, d0.replicas, d0.reason);
	assert_non_null(strstr(d.reason, "10.00s"));
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 2000, bad), COFFER_E_INVAL);
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 2000, bad2), COFFER_E_INVAL);
}

static void
test_deadline__estimate_asks_no_replica_too_late_to_help(void **state)
{
	const char *est[] = { "item_time_estimate_s", "10", "estimate_error",
	    "1.3", "cv_prior", "0.25", NULL };
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;
	int32_t cur = 1, peak = 0;

	(void)state;
	/* 200 items of 10 s (within 30%, cv 0.25), start-up 120 s as the host
	 * measured it, deadline 216 s, max 128: about 30-40 replicas started
	 * at once do it. Nothing finishes before 120 s; a replica asked for
	 * after about 80 s is ready too late to do an item, and the rescue
	 * must not go to max for them (before the rule it did, at 75 s). */
	assert_int_equal(ctl_open(&c, "deadline", 1, 128, 216, est), 0);
	for (double t = 0; t < 120; t += 5) {
		o = obs_at(t, 200, 0, 0, cur, 0, cur, 216);
		o.startup_s = 120;
		assert_int_equal(decide(&c, &o, &d), 0);
		cur = d.replicas;
		if (cur > peak)
			peak = cur;
	}
	ctl_close(&c);
	if (peak < 25 || peak > 60)
		fail_msg("peak %d before any item finished (%s)", peak, d.reason);
}

static void
test_deadline__estimate_with_spread_reserves_by_start_order(void **state)
{
	const char *est[] = { "item_time_estimate_s", "10", "estimate_error",
	    "1.3", "cv_prior", "3", NULL };
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;

	(void)state;
	/* 200 items of 10 s with cv 3, start-up 120 s, deadline 600 s: the
	 * longest of 200 such items taken last needs all the deadline allows
	 * (451 s), which leaves 29 s per replica: max (128) before the rule.
	 * Items start spread over the drain window; even started at once, one
	 * of them outlasts 480 s with a chance of about 9%, and a reserve of
	 * about 400 s adds little to that: some 46 replicas
	 * (doc/controllers.md 6.3). */
	o = obs_at(0, 200, 0, 0, 1, 0, 1, 600);
	o.startup_s = 120;
	assert_int_equal(ctl_open(&c, "deadline", 1, 128, 600, est), 0);
	assert_int_equal(decide(&c, &o, &d), 0);
	ctl_close(&c);
	if (d.replicas < 25 || d.replicas > 80)
		fail_msg("with the spread %d (%s)", d.replicas, d.reason);
}

static void
test_deadline__estimate_contradicted_by_the_items_is_dropped(void **state)
{
	const char *est[] = { "item_time_estimate_s", "10", "estimate_error",
	    "1.3", NULL };
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;
	const char *x;
	double m = 0;

	(void)state;
	/* The job says 10 s within 30%; 100 items finish at 30 s each. The
	 * estimate (a prior worth 44 items) must not pull the mean below
	 * what the items show. */
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 5000, est), 0);
	o = obs_at(0, 2000, 0, 20, 20, 20, 20, 5000);
	o.startup_s = 10;
	assert_int_equal(decide(&c, &o, &d), 0);
	for (double t = 30; t <= 150; t += 30) {
		o = obs_at(t, 2000, (int64_t)(t / 30) * 20, 20, 20, 20, 20, 5000);
		o.startup_s = 10;
		o.item_time_mean_s = 30;
		o.item_time_var_s2 = 4;
		assert_int_equal(decide(&c, &o, &d), 0);
	}
	ctl_close(&c);
	x = strstr(d.reason, "items x ");
	if (x == NULL || sscanf(x, "items x %lf", &m) != 1 || m < 28)
		fail_msg("the estimate still counts: %s", d.reason);
}

static void
test_deadline__early_items_in_flight_do_not_inflate_the_service_time(void **state)
{
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;
	double m = 0;
	const char *x;

	(void)state;
	/* 100 replicas took items together at 60 s; at 70 s, 4 items of
	 * about 9 s have finished and 100 are still in flight for 10 s.
	 * Exposure / finished says 250 s; the mean is about 10 s. */
	assert_int_equal(ctl_open(&c, "deadline", 1, 100, 5000, NULL), 0);
	o = obs_at(60, 5000, 0, 100, 100, 100, 100, 5000);
	o.startup_s = 60;
	assert_int_equal(decide(&c, &o, &d), 0);
	o = obs_at(70, 5000, 4, 100, 100, 100, 100, 5000);
	o.startup_s = 60;
	o.item_time_mean_s = 9;
	o.item_time_var_s2 = 1;
	assert_int_equal(decide(&c, &o, &d), 0);
	x = strstr(d.reason, " x ");
	assert_non_null(x);
	m = strtod(x + 3, NULL);
	if (m < 9 || m > 12)
		fail_msg("service time %g (%s)", m, d.reason);
	ctl_close(&c);
}

static void
test_deadline__deadline_passed_runs_at_max_and_says_so(void **state)
{
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;

	(void)state;
	assert_int_equal(ctl_open(&c, "deadline", 1, 8, 100, NULL), 0);
	o = obs_at(150, 100, 40, 3, 3, 3, 3, 100);
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 8);
	assert_true(d.flags & COFFER_CTL_INFEASIBLE);
	assert_non_null(strstr(d.reason, "deadline passed"));
	/* but not more replicas than there are items to work on */
	o = obs_at(150, 100, 97, 3, 3, 3, 3, 100);
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(d.replicas, 3);
	ctl_close(&c);
}

static void
test_deadline__too_few_max_replicas_says_so_and_runs_at_max(void **state)
{
	const char *kv[] = { "startup_s", "5", NULL };
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;
	double t;

	(void)state;
	/* 1000 items of 10 s in 500 s need 20+ replicas; max is 4 */
	assert_int_equal(ctl_open(&c, "deadline", 1, 4, 500, kv), 0);
	for (t = 0; t <= 60; t += 5) {
		int64_t done = t > 10 ? (int64_t)((t - 10) * 4 / 10) : 0;

		o = obs_at(t, 1000, done, 4, 4, 4, 4, 500);
		o.startup_s = 5;
		o.item_time_mean_s = 10;
		assert_int_equal(decide(&c, &o, &d), 0);
	}
	assert_int_equal(d.replicas, 4);
	assert_true(d.flags & COFFER_CTL_INFEASIBLE);
	assert_non_null(strstr(d.reason, "cannot make the deadline"));
	ctl_close(&c);
}

static void
test_deadline__releases_idle_replicas_when_queue_is_empty(void **state)
{
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;

	(void)state;
	assert_int_equal(ctl_open(&c, "deadline", 1, 32, 10000, NULL), 0);
	o = obs_at(100, 200, 150, 20, 20, 20, 20, 10000);
	o.startup_s = 10;
	assert_int_equal(decide(&c, &o, &d), 0);
	o = obs_at(200, 200, 195, 5, 20, 20, 20, 10000);
	o.startup_s = 10;
	assert_int_equal(decide(&c, &o, &d), 0);
	assert_int_equal(o.queued, 0);
	assert_int_equal(d.replicas, 5);
	assert_non_null(strstr(d.reason, "queue empty"));
	ctl_close(&c);
}

/* Tail decision at 60 s before the deadline, 5 items in flight on 20
 * replicas, items of about 40 s: a stop that hit a busy replica would be a
 * kill the time left cannot absorb. */
static int32_t
tail_decision(uint32_t host_flags, const char *const *kv)
{
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;

	open_host_flags = host_flags;
	assert_int_equal(ctl_open(&c, "deadline", 1, 32, 300, kv), 0);
	open_host_flags = 0;
	o = obs_at(100, 200, 150, 20, 20, 20, 20, 300);
	o.startup_s = 10;
	assert_int_equal(decide(&c, &o, &d), 0);
	o = obs_at(240, 200, 195, 5, 20, 20, 20, 300);
	o.startup_s = 10;
	assert_int_equal(decide(&c, &o, &d), 0);
	ctl_close(&c);
	return d.replicas;
}

static void
test_deadline__tail_release_trusts_a_host_that_stops_idle_replicas_first(void **state)
{
	const char *no[] = { "stop_idle_first", "0", NULL };
	const char *yes[] = { "stop_idle_first", "1", NULL };

	(void)state;
	/* an actuator that may stop the busy newest: keep them all */
	assert_int_equal(tail_decision(0, NULL), 20);
	/* coffer-manager's (idle first): release the 15 idle ones */
	assert_int_equal(tail_decision(COFFER_CTL_HOST_STOPS_IDLE_FIRST, NULL), 5);
	/* the parameter overrides what the host says */
	assert_int_equal(tail_decision(COFFER_CTL_HOST_STOPS_IDLE_FIRST, no), 20);
	assert_int_equal(tail_decision(0, yes), 5);
}

static void
test_deadline__does_not_flap_on_noisy_progress(void **state)
{
	const char *kv[] = { "startup_s", "30", NULL };
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	struct ctl c;
	int32_t n = 10, prev = -1;
	int changes = 0, i;
	double done = 0, t;

	(void)state;
	assert_int_equal(ctl_open(&c, "deadline", 1, 64, 3000, kv), 0);
	for (i = 0, t = 0; t < 1500; t += 5, i++) {
		/* per-replica throughput alternates fast/slow around 0.1 items/s */
		done += n * 5 * (i % 2 ? 0.13 : 0.07);
		o = obs_at(t, 2000, (int64_t)done, n, n, n, n, 3000);
		o.startup_s = 30;
		o.item_time_mean_s = 10;
		o.item_time_var_s2 = 100;
		assert_int_equal(decide(&c, &o, &d), 0);
		if (prev >= 0 && d.replicas != prev)
			changes++;
		prev = n = d.replicas;
	}
	if (changes > 6)
		fail_msg("%d scale events on noise (last: %s)", changes, d.reason);
	ctl_close(&c);
}

/* ---- every controller survives any observation ------------------------ */

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
rng_double(uint64_t *s)
{
	static const double specials[] = { 0.0, -0.0, 1.0, -1.0, 1e308, -1e308,
	    5e-324, 0.5, 1e9 };
	uint64_t r = rng_next(s), bits;
	double d;

	switch (r % 8) {
	case 0:
		return NAN;
	case 1:
		return (r & 8) ? INFINITY : -INFINITY;
	case 2:
		return specials[(r >> 8) % (sizeof(specials) / sizeof(specials[0]))];
	case 3:
		bits = rng_next(s);
		memcpy(&d, &bits, sizeof(d));
		return d;
	default:
		return ((double)(rng_next(s) >> 11) / 9007199254740992.0 - 0.3) *
		    (double)(1u << (r % 20));
	}
}

static int64_t
rng_i64(uint64_t *s)
{
	uint64_t r = rng_next(s);

	switch (r % 6) {
	case 0:
		return (int64_t)rng_next(s);
	case 1:
		return INT64_MAX - (int64_t)(r % 3);
	case 2:
		return INT64_MIN + (int64_t)(r % 3);
	default:
		return (int64_t)(rng_next(s) % 5000) - 100;
	}
}

static void
test_all__survive_random_observations(void **state)
{
	const char *names[] = { "deadline", "asperathos-default",
	    "asperathos-pid", "hpa", "static" };
	struct coffer_ctl_decision d;
	struct coffer_ctl_obs o;
	uint64_t seed = 42;
	struct ctl c;
	size_t k;
	int i, r;

	(void)state;
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		int min = (int)(rng_next(&seed) % 3), max = min + 1 +
		    (int)(rng_next(&seed) % 100);

		assert_int_equal(ctl_open(&c, names[k], min, max, 600, NULL), 0);
		for (i = 0; i < 20000; i++) {
			memset(&o, 0, sizeof(o));
			o.size = sizeof(o);
			if (i % 97 == 0)
				o.size = (uint32_t)(rng_next(&seed) % 200);
			o.now_s = i % 3 ? i * 5.0 : rng_double(&seed);
			o.total = rng_i64(&seed);
			o.done = rng_i64(&seed);
			o.failed = i % 5 ? 0 : rng_i64(&seed);
			o.in_flight = rng_i64(&seed);
			o.queued = rng_i64(&seed);
			o.progress = rng_double(&seed);
			o.time_progress = rng_double(&seed);
			o.error = rng_double(&seed);
			o.replicas = (int32_t)rng_i64(&seed);
			o.replicas_ready = (int32_t)rng_i64(&seed);
			o.replicas_desired = (int32_t)rng_i64(&seed);
			o.replica_seconds = rng_double(&seed);
			o.throughput = rng_double(&seed);
			o.item_time_mean_s = rng_double(&seed);
			o.item_time_var_s2 = rng_double(&seed);
			o.startup_s = rng_double(&seed);
			r = decide(&c, &o, &d);
			assert_true(r <= 0);
			if (r == 0 && strcmp(names[k], "asperathos-default") != 0 &&
			    (d.replicas < min || d.replicas > max))
				fail_msg("%s: %d outside [%d, %d]: %s", names[k],
				    d.replicas, min, max, d.reason);
		}
		assert_int_equal(c.def->decide(c.st, NULL, &d), COFFER_E_ABI);
		ctl_close(&c);
	}
}

static void
test_all__plugin_and_builtin_agree(void **state)
{
	const char *files[] = { "deadline", "asperathos_default", "asperathos_pid",
	    "hpa", "static" };
	const char *names[] = { "deadline", "asperathos-default", "asperathos-pid",
	    "hpa", "static" };
	struct coffer_ctl_decision a, b;
	struct coffer_ctl_obs o;
	struct ctl x, y;
	char path[512];
	size_t k;
	double t;

	(void)state;
	for (k = 0; k < 5; k++) {
		int32_t n = 1;

		snprintf(path, sizeof(path), "%s/controllers/%s.so", build_dir(),
		    files[k]);
		assert_int_equal(ctl_open(&x, names[k], 1, 32, 2000, NULL), 0);
		assert_int_equal(ctl_open(&y, path, 1, 32, 2000, NULL), 0);
		for (t = 0; t < 2000; t += 5) {
			int64_t done = (int64_t)(t * n / 12.0);

			o = obs_at(t, 3000, done > 3000 ? 3000 : done, n, n, n, n, 2000);
			o.startup_s = 20;
			o.item_time_mean_s = 12;
			o.item_time_var_s2 = 50;
			assert_int_equal(decide(&x, &o, &a), 0);
			assert_int_equal(decide(&y, &o, &b), 0);
			assert_int_equal(a.replicas, b.replicas);
			assert_int_equal(a.flags, b.flags);
			assert_string_equal(a.reason, b.reason);
			n = a.replicas;
		}
		ctl_close(&x);
		ctl_close(&y);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry__finds_every_builtin_by_name),
		cmocka_unit_test(test_registry__unknown_name_lists_builtins),
		cmocka_unit_test(test_registry__loads_plugins_by_path),
		cmocka_unit_test(test_registry__rejects_missing_file_and_foreign_library),
		cmocka_unit_test(test_registry__check_rejects_abi_mismatches),
		cmocka_unit_test(test_params__invalid_values_are_refused_by_name),
		cmocka_unit_test(test_params__config_errors_name_the_field),
		cmocka_unit_test(test_asperathos_default__steps_on_the_sign_of_the_error),
		cmocka_unit_test(test_asperathos_default__zero_error_with_zero_triggers_keeps),
		cmocka_unit_test(test_asperathos_pid__truncates_the_action_toward_zero),
		cmocka_unit_test(test_asperathos_pid__integral_and_derivative_as_asperathos),
		cmocka_unit_test(test_asperathos_pid__tutorial_gains_never_act_within_one),
		cmocka_unit_test(test_hpa__scales_on_queue_with_rate_limit_and_tolerance),
		cmocka_unit_test(test_hpa__scale_down_waits_for_the_stabilisation_window),
		cmocka_unit_test(test_static__holds_its_count),
		cmocka_unit_test(test_deadline__meets_the_deadline_without_going_to_max),
		cmocka_unit_test(test_deadline__scales_down_a_large_excess_after_hysteresis),
		cmocka_unit_test(test_deadline__zero_items_asks_for_min),
		cmocka_unit_test(test_deadline__no_progress_yet_cold_starts_within_bounds),
		cmocka_unit_test(test_deadline__cold_start_hedges_more_as_time_passes_without_an_item),
		cmocka_unit_test(test_deadline__item_time_estimate_sizes_the_first_count),
		cmocka_unit_test(test_deadline__estimate_asks_no_replica_too_late_to_help),
		cmocka_unit_test(test_deadline__estimate_with_spread_reserves_by_start_order),
		cmocka_unit_test(test_deadline__estimate_contradicted_by_the_items_is_dropped),
		cmocka_unit_test(test_deadline__early_items_in_flight_do_not_inflate_the_service_time),
		cmocka_unit_test(test_deadline__deadline_passed_runs_at_max_and_says_so),
		cmocka_unit_test(test_deadline__too_few_max_replicas_says_so_and_runs_at_max),
		cmocka_unit_test(test_deadline__releases_idle_replicas_when_queue_is_empty),
		cmocka_unit_test(test_deadline__tail_release_trusts_a_host_that_stops_idle_replicas_first),
		cmocka_unit_test(test_deadline__does_not_flap_on_noisy_progress),
		cmocka_unit_test(test_all__survive_random_observations),
		cmocka_unit_test(test_all__plugin_and_builtin_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
