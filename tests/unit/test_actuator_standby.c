// SPDX-License-Identifier: Apache-2.0
// Unit tests for the standby pool (src/actuator/standby.c) and the local
// actuator taking from it, with a shell script standing in for a standby
// worker: it writes its assignment to a file named by its replica id, and
// exits 0 at EOF as coffer-worker does. Waits poll with a generous
// deadline; nothing asserts how long anything took.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "actuator/local.h"
#include "actuator/standby.h"
#include "coffer/error.h"
#include "lib/clock.h"

#define WAIT_MS 20000

/* Reads NAME=VALUE lines up to an empty one into $SB_DIR/<replica id>
 * (written whole, then renamed: the test never sees half of it); at EOF
 * before any, exits 0. Then stays, as a replica would, until stopped. */
static const char standin[] =
    "got=; : > \"$SB_DIR/$COFFER_REPLICA_ID.tmp\"; "
    "while IFS= read -r l; do [ -z \"$l\" ] && break; got=1; "
    "printf '%s\\n' \"$l\" >> \"$SB_DIR/$COFFER_REPLICA_ID.tmp\"; done; "
    "[ -z \"$got\" ] && exit 0; "
    "echo \"KIND=$SB_KIND\" >> \"$SB_DIR/$COFFER_REPLICA_ID.tmp\"; "
    "mv \"$SB_DIR/$COFFER_REPLICA_ID.tmp\" \"$SB_DIR/$COFFER_REPLICA_ID\"; "
    "exec sleep 60";

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/coffer-sb.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	setenv("SB_DIR", dir, 1);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
nap(void)
{
	struct timespec ts = { 0, 10 * 1000000L };

	nanosleep(&ts, NULL);
}

static struct coffer_standby *
new_pool(const char *script, int target, int refill_delay_ms)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	char *env[] = { "SB_POOL=1", NULL };
	struct coffer_standby_config c = { 0 };
	struct coffer_standby *p = NULL;
	int r;

	c.argv = argv;
	c.env = env;
	c.target = target;
	c.grace_ms = 2000;
	c.refill_delay_ms = refill_delay_ms;
	if ((r = coffer_standby_new(&c, &p)) != 0)
		fail_msg("pool: %s: %s", coffer_strerror(r), coffer_errdetail());
	return p;
}

static void
add_kind(struct coffer_standby *p, const char *name, int max_age_ms)
{
	char e[64];
	char *env[] = { e, NULL };

	snprintf(e, sizeof(e), "SB_KIND=%s", name);
	assert_int_equal(coffer_standby_add_kind(p, name, env, max_age_ms), 0);
}

static struct coffer_standby_status
kst(struct coffer_standby *p, int i)
{
	struct coffer_standby_status st;

	coffer_standby_kind_status(p, i, &st);
	return st;
}

/* Tick until kind i has want idle workers and none stopping. */
static void
fill(struct coffer_standby *p, int i, int want)
{
	int64_t end = coffer_mono_ms() + WAIT_MS;

	for (;;) {
		struct coffer_standby_status st;

		coffer_standby_tick(p);
		st = kst(p, i);
		if (st.idle == want && st.stopping == 0)
			return;
		if (coffer_mono_ms() > end)
			fail_msg("kind %d: idle %d stopping %d (want %d idle)", i,
			    st.idle, st.stopping, want);
		nap();
	}
}

static int
alive(pid_t pid)
{
	return kill(pid, 0) == 0;
}

/* The idle workers' pids (up to max) of kind i. */
static int
pids_of(struct coffer_standby *p, int i, pid_t *out, int max)
{
	struct coffer_standby_worker *w = NULL;
	size_t n = 0;
	int k = 0;

	assert_int_equal(coffer_standby_workers(p, &w, &n), 0);
	for (size_t j = 0; j < n; j++)
		if (w[j].kind == i && !w[j].stopping && k < max)
			out[k++] = w[j].pid;
	free(w);
	return k;
}

static void
reap_taken(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

/* The file the stand-in writes for replica id, read whole (waits). */
static void
read_assignment(const char *id, char *out, size_t outlen)
{
	char path[256];
	int64_t end = coffer_mono_ms() + WAIT_MS;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, id);
	while ((f = fopen(path, "r")) == NULL) {
		if (coffer_mono_ms() > end)
			fail_msg("no assignment written by %s", id);
		nap();
	}
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void
test_standby__fills_each_kind_to_its_target(void **state)
{
	struct coffer_standby *p = new_pool(standin, 2, 0);
	pid_t pids[4];

	(void)state;
	add_kind(p, "plaintext", 0);
	add_kind(p, "confidential:sim:http://x", 0);
	assert_int_equal(coffer_standby_kinds(p), 2);
	fill(p, 0, 2);
	fill(p, 1, 2);
	assert_int_equal(kst(p, 0).started_total, 2);
	assert_int_equal(kst(p, 1).started_total, 2);
	assert_int_equal(pids_of(p, 0, pids, 4), 2);
	assert_true(alive(pids[0]) && alive(pids[1]));
	coffer_standby_stop_all(p);
	assert_false(alive(pids[0]));
	assert_int_equal(kst(p, 0).idle, 0);
	coffer_standby_free(p);
}

static void
test_standby__take_hands_the_assignment_over_and_refills(void **state)
{
	struct coffer_standby *p = new_pool(standin, 2, 0);
	char id[COFFER_REPLICA_ID_MAX + 1], got[512];
	pid_t pid = 0, left[4];

	(void)state;
	add_kind(p, "plaintext", 0);
	add_kind(p, "other", 0);
	fill(p, 0, 2);
	fill(p, 1, 2);
	assert_int_equal(coffer_standby_take(p, "plaintext",
	    "COFFER_JOB=j1\nCOFFER_APP=/x.so\n\n", &pid, id, sizeof(id)), 0);
	assert_true(pid > 0);
	assert_true(strncmp(id, "p", 1) == 0);
	read_assignment(id, got, sizeof(got));
	/* What was written, whole, to a worker of that kind. */
	assert_string_equal(got, "COFFER_JOB=j1\nCOFFER_APP=/x.so\nKIND=plaintext\n");
	/* The process is the caller's now: not in the pool, not stopped. */
	assert_int_equal(kst(p, 0).taken_total, 1);
	assert_int_equal(kst(p, 1).taken_total, 0);
	assert_int_equal(pids_of(p, 0, left, 4), 1);
	assert_true(left[0] != pid);
	fill(p, 0, 2);
	assert_int_equal(kst(p, 0).started_total, 3);
	coffer_standby_stop_all(p);
	assert_true(alive(pid));
	reap_taken(pid);
	coffer_standby_free(p);
}

static void
test_standby__take_refuses_what_it_cannot_do(void **state)
{
	struct coffer_standby *p = new_pool(standin, 1, 0);
	char id[COFFER_REPLICA_ID_MAX + 1], *big;
	pid_t pid = 0;

	(void)state;
	add_kind(p, "plaintext", 0);
	/* Nothing started before a tick: none idle. */
	assert_int_equal(coffer_standby_take(p, "plaintext", "A=1\n\n", &pid, id,
	    sizeof(id)), COFFER_E_NOTFOUND);
	fill(p, 0, 1);
	assert_int_equal(coffer_standby_take(p, "nosuch", "A=1\n\n", &pid, id,
	    sizeof(id)), COFFER_E_NOTFOUND);
	big = malloc(COFFER_STANDBY_ASSIGNMENT_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', COFFER_STANDBY_ASSIGNMENT_MAX + 1);
	big[COFFER_STANDBY_ASSIGNMENT_MAX + 1] = '\0';
	assert_int_equal(coffer_standby_take(p, "plaintext", big, &pid, id,
	    sizeof(id)), COFFER_E_LIMIT);
	free(big);
	assert_int_equal(kst(p, 0).idle, 1);
	assert_int_equal(coffer_standby_add_kind(p, "plaintext", NULL, 0),
	    COFFER_E_INVAL);
	coffer_standby_free(p);
}

static void
test_standby__a_killed_worker_is_counted_and_replaced(void **state)
{
	struct coffer_standby *p = new_pool(standin, 2, 0);
	pid_t before[4], after[4];
	struct coffer_standby_status st;
	int64_t end = coffer_mono_ms() + WAIT_MS;

	(void)state;
	add_kind(p, "plaintext", 0);
	fill(p, 0, 2);
	assert_int_equal(pids_of(p, 0, before, 4), 2);
	kill(before[0], SIGKILL);
	while (kst(p, 0).died_total == 0) {
		if (coffer_mono_ms() > end)
			fail_msg("the killed worker was not reaped");
		coffer_standby_tick(p);
		nap();
	}
	st = kst(p, 0);
	assert_int_equal(st.last_status, 128 + SIGKILL);
	assert_true(st.backoff_ms > 0);
	fill(p, 0, 2);
	assert_int_equal(pids_of(p, 0, after, 4), 2);
	assert_true(after[0] != before[0] && after[1] != before[0]);
	assert_int_equal(kst(p, 0).started_total, 3);
	coffer_standby_free(p);
}

static void
test_standby__a_worker_that_cannot_start_does_not_spin(void **state)
{
	struct coffer_standby *p = new_pool("exit 3", 2, 0);
	int64_t end = coffer_mono_ms() + 1500;
	struct coffer_standby_status st;

	(void)state;
	add_kind(p, "plaintext", 0);
	/* Ticks every 10 ms for 1.5 s: without the back-off (250 ms
	 * doubling) every tick would start two. */
	while (coffer_mono_ms() < end) {
		coffer_standby_tick(p);
		nap();
	}
	st = kst(p, 0);
	assert_true(st.died_total >= 2);
	assert_true(st.started_total <= 12);
	assert_int_equal(st.last_status, 3);
	assert_true(st.backoff_ms >= 250);
	coffer_standby_free(p);
}

static void
test_standby__idle_workers_past_their_age_are_recycled(void **state)
{
	struct coffer_standby *p = new_pool(standin, 2, 0);
	int64_t end = coffer_mono_ms() + WAIT_MS;
	pid_t before[4];

	(void)state;
	add_kind(p, "confidential", 200);
	add_kind(p, "plaintext", 0);
	fill(p, 0, 2);
	fill(p, 1, 2);
	assert_int_equal(pids_of(p, 0, before, 4), 2);
	while (alive(before[0]) || alive(before[1])) {
		if (coffer_mono_ms() > end)
			fail_msg("old workers not recycled");
		coffer_standby_tick(p);
		nap();
	}
	assert_true(kst(p, 0).recycled_total >= 2);
	assert_int_equal(kst(p, 0).died_total, 0);
	/* The kind without an age keeps its workers. */
	assert_int_equal(kst(p, 1).recycled_total, 0);
	assert_int_equal(kst(p, 1).started_total, 2);
	fill(p, 0, 2);
	coffer_standby_free(p);
}

static void
test_standby__local_actuator_takes_from_the_pool_then_starts_cold(void **state)
{
	struct coffer_standby *p = new_pool(standin, 1, 60000);
	char *argv[] = { "/bin/sh", "-c", "echo cold > \"$SB_DIR/cold-$COFFER_REPLICA_ID\"; "
	    "exec sleep 60", NULL };
	struct coffer_replica_spec spec = { 0 };
	struct coffer_actuator *a = NULL;
	struct coffer_actuator_status st;
	char id[COFFER_REPLICA_ID_MAX + 1], got[512];
	pid_t idle[2], pids[4];
	int n;

	(void)state;
	add_kind(p, "plaintext", 0);
	fill(p, 0, 1);
	assert_int_equal(pids_of(p, 0, idle, 2), 1);
	spec.argv = argv;
	spec.grace_ms = 1000;
	assert_int_equal(coffer_actuator_local_new(&spec, &a), 0);
	assert_int_equal(coffer_actuator_local_standby(a, p, "plaintext",
	    "COFFER_JOB=j\n\n"), 0);
	assert_int_equal(coffer_actuator_set_replicas(a, 2), 0);
	assert_int_equal(coffer_actuator_status(a, &st), 0);
	assert_int_equal(st.running, 2);
	assert_int_equal(st.started_total, 2);
	assert_int_equal(st.warm_total, 1);
	n = coffer_actuator_local_pids(a, pids, 4);
	assert_int_equal(n, 2);
	/* The oldest replica is the standby worker, with its replica id. */
	assert_int_equal(pids[0], idle[0]);
	assert_int_equal(coffer_actuator_local_replica_id(a, pids[0], id,
	    sizeof(id)), 0);
	read_assignment(id, got, sizeof(got));
	assert_string_equal(got, "COFFER_JOB=j\nKIND=plaintext\n");
	assert_int_equal(kst(p, 0).idle, 0);
	/* The pool waits before refilling after a take. */
	coffer_standby_tick(p);
	assert_int_equal(kst(p, 0).idle, 0);
	assert_int_equal(coffer_actuator_stop_all(a), 0);
	assert_false(alive(pids[0]));
	coffer_actuator_free(a);
	coffer_standby_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_standby__fills_each_kind_to_its_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby__take_hands_the_assignment_over_and_refills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby__take_refuses_what_it_cannot_do, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby__a_killed_worker_is_counted_and_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby__a_worker_that_cannot_start_does_not_spin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby__idle_workers_past_their_age_are_recycled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby__local_actuator_takes_from_the_pool_then_starts_cold, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
