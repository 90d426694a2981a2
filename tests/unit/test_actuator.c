// SPDX-License-Identifier: Apache-2.0
// Unit tests for the local-process actuator (src/actuator/local.c), with
// real child processes (sleep, sh). Waits poll the actuator's state with a
// generous deadline; nothing asserts how long anything took.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "actuator/local.h"
#include "coffer/error.h"
#include "lib/clock.h"

#define WAIT_MS 20000

static void
nap(void)
{
	struct timespec ts = { 0, 10 * 1000000L };

	nanosleep(&ts, NULL);
}

static struct coffer_actuator *
new_act(char *const *argv, char *const *env, int grace_ms, int restart)
{
	struct coffer_replica_spec spec = { 0 };
	struct coffer_actuator *a = NULL;
	int r;

	spec.argv = argv;
	spec.env = env;
	spec.grace_ms = grace_ms;
	spec.restart_crashed = restart;
	if ((r = coffer_actuator_local_new(&spec, &a)) != 0)
		fail_msg("actuator: %s: %s", coffer_strerror(r), coffer_errdetail());
	return a;
}

static struct coffer_actuator_status
status(struct coffer_actuator *a)
{
	struct coffer_actuator_status st;

	assert_int_equal(coffer_actuator_status(a, &st), 0);
	return st;
}

/* Tick until running == want_running and stopping == 0. */
static void
settle(struct coffer_actuator *a, int want_running)
{
	int64_t end = coffer_mono_ms() + WAIT_MS;

	for (;;) {
		struct coffer_actuator_status st;

		assert_int_equal(coffer_actuator_tick(a), 0);
		st = status(a);
		if (st.running == want_running && st.stopping == 0)
			return;
		if (coffer_mono_ms() > end)
			fail_msg("did not settle: running %d (want %d), stopping %d",
			    st.running, want_running, st.stopping);
		nap();
	}
}

static int
alive(pid_t p)
{
	return kill(p, 0) == 0;
}

/* Wait until the process has exec'd prog (its cmdline starts with it). */
static void
wait_exec(pid_t p, const char *prog)
{
	int64_t end = coffer_mono_ms() + WAIT_MS;
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)p);
	for (;;) {
		FILE *f = fopen(path, "r");
		size_t n = 0;

		if (f != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		if (strcmp(buf, prog) == 0)
			return;
		if (coffer_mono_ms() > end)
			fail_msg("pid %d never ran %s", (int)p, prog);
		nap();
	}
}

static void
no_children_left(void)
{
	int st;

	/* No zombie and no live child: waitpid has nothing to wait for. */
	assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
test_actuator__scales_up_and_down_newest_first(void **state)
{
	char *argv[] = { "sleep", "60", NULL };
	struct coffer_actuator *a = new_act(argv, NULL, 5000, 0);
	pid_t p[4];
	struct coffer_actuator_status st;

	(void)state;
	assert_int_equal(coffer_actuator_set_replicas(a, 3), 0);
	st = status(a);
	assert_int_equal(st.desired, 3);
	assert_int_equal(st.running, 3);
	assert_int_equal(coffer_actuator_local_pids(a, p, 4), 3);
	assert_true(p[0] != p[1] && p[1] != p[2]);
	assert_int_equal(coffer_actuator_set_replicas(a, 1), 0);
	st = status(a);
	assert_int_equal(st.running, 1);
	assert_int_equal(st.stopping, 2);
	settle(a, 1);
	/* sleep dies of SIGTERM at once: nothing needed SIGKILL. */
	st = status(a);
	assert_int_equal(st.killed_total, 0);
	assert_int_equal(st.crashed_total, 0);
	assert_true(alive(p[0]));
	assert_false(alive(p[1]));
	assert_false(alive(p[2]));
	assert_int_equal(coffer_actuator_set_replicas(a, -1), COFFER_E_INVAL);
	assert_int_equal(coffer_actuator_stop_all(a), 0);
	assert_int_equal(status(a).running, 0);
	coffer_actuator_free(a);
	no_children_left();
}

static void
test_actuator__sigkills_after_the_grace_period(void **state)
{
	/* A replica that ignores SIGTERM (and so does its child sleep); it
	 * says when the trap is set. */
	char dir[] = "/tmp/coffer-act-XXXXXX";
	char env0[64];
	char *env[] = { env0, NULL };
	char *argv[] = { "sh", "-c",
		"trap '' TERM; touch \"$D/ready.$$\"; while :; do sleep 1; done", NULL };
	struct coffer_actuator *a;
	struct coffer_actuator_status st;
	char cmd[128];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(env0, sizeof(env0), "D=%s", dir);
	a = new_act(argv, env, 300, 0);
	assert_int_equal(coffer_actuator_set_replicas(a, 2), 0);
	snprintf(cmd, sizeof(cmd), "test $(ls %s | wc -l) -eq 2", dir);
	for (int64_t end = coffer_mono_ms() + WAIT_MS; system(cmd) != 0;) {
		if (coffer_mono_ms() > end)
			fail_msg("replicas never set their trap");
		nap();
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(coffer_actuator_set_replicas(a, 0), 0);
	settle(a, 0);
	st = status(a);
	assert_int_equal(st.killed_total, 2);
	coffer_actuator_free(a);
	no_children_left();
}

static void
test_actuator__graceful_stop_waits_for_the_replica(void **state)
{
	/* Finishes its "item" (a short sleep) after SIGTERM, then exits 0. */
	char *argv[] = { "sh", "-c",
		"trap 'sleep 0.3; exit 0' TERM; while :; do sleep 0.05; done", NULL };
	struct coffer_actuator *a = new_act(argv, NULL, 20000, 1);
	struct coffer_actuator_status st;

	(void)state;
	assert_int_equal(coffer_actuator_set_replicas(a, 2), 0);
	assert_int_equal(coffer_actuator_stop_all(a), 0);
	st = status(a);
	assert_int_equal(st.running + st.stopping, 0);
	assert_int_equal(st.killed_total, 0);
	assert_int_equal(st.crashed_total, 0);
	coffer_actuator_free(a);
	no_children_left();
}

static void
test_actuator__replaces_crashed_replicas_when_asked(void **state)
{
	char *argv[] = { "sleep", "60", NULL };
	struct coffer_actuator *a = new_act(argv, NULL, 5000, 1);
	struct coffer_actuator_status st;
	pid_t p[3], q[3];

	(void)state;
	assert_int_equal(coffer_actuator_set_replicas(a, 2), 0);
	assert_int_equal(coffer_actuator_local_pids(a, p, 3), 2);
	kill(p[0], SIGKILL);
	for (int64_t end = coffer_mono_ms() + WAIT_MS;;) {
		assert_int_equal(coffer_actuator_tick(a), 0);
		st = status(a);
		if (st.started_total == 3 && st.running == 2)
			break;
		if (coffer_mono_ms() > end)
			fail_msg("crashed replica not replaced");
		nap();
	}
	assert_int_equal(st.crashed_total, 1);
	assert_int_equal(coffer_actuator_local_pids(a, q, 3), 2);
	assert_int_equal(q[0], p[1]);
	assert_true(q[1] != p[0] && q[1] != p[1]);
	coffer_actuator_free(a); /* without stop_all: kills and reaps */
	no_children_left();
}

static void
test_actuator__does_not_replace_when_not_asked(void **state)
{
	char *argv[] = { "sleep", "60", NULL };
	struct coffer_actuator *a = new_act(argv, NULL, 5000, 0);
	struct coffer_actuator_status st;
	pid_t p[2];

	(void)state;
	assert_int_equal(coffer_actuator_set_replicas(a, 2), 0);
	assert_int_equal(coffer_actuator_local_pids(a, p, 2), 2);
	kill(p[1], SIGKILL);
	settle(a, 1);
	st = status(a);
	assert_int_equal(st.crashed_total, 1);
	assert_int_equal(st.started_total, 2);
	assert_int_equal(st.desired, 2);
	assert_int_equal(coffer_actuator_stop_all(a), 0);
	coffer_actuator_free(a);
	no_children_left();
}

static void
test_actuator__completed_replicas_end_the_pool(void **state)
{
	char *argv[] = { "sh", "-c", "exit 0", NULL };
	struct coffer_actuator *a = new_act(argv, NULL, 5000, 1);
	struct coffer_actuator_status st;

	(void)state;
	assert_int_equal(coffer_actuator_set_replicas(a, 2), 0);
	settle(a, 0);
	st = status(a);
	assert_int_equal(st.completed_total, 2);
	assert_int_equal(st.crashed_total, 0);
	/* Asking again starts nothing: the job is over. */
	assert_int_equal(coffer_actuator_set_replicas(a, 3), 0);
	assert_int_equal(status(a).running, 0);
	assert_int_equal(status(a).started_total, 2);
	coffer_actuator_free(a);
	no_children_left();
}

static void
test_actuator__children_get_the_environment_and_no_other_fd(void **state)
{
	char *argv[] = { "sleep", "60", NULL };
	char *env[] = { "COFFER_TEST_A=1", "HOME=/nowhere", NULL };
	struct coffer_replica_spec spec = { 0 };
	struct coffer_actuator *a = NULL;
	char path[128], buf[8192], cwd[256];
	int leak = open("/dev/null", O_RDONLY); /* deliberately not O_CLOEXEC */
	pid_t p;
	FILE *f;
	size_t n;
	int found_a = 0, found_home = 0;

	(void)state;
	assert_true(leak > 2);
	spec.argv = argv;
	spec.env = env;
	spec.workdir = "/tmp";
	assert_int_equal(coffer_actuator_local_new(&spec, &a), 0);
	assert_int_equal(coffer_actuator_set_replicas(a, 1), 0);
	assert_int_equal(coffer_actuator_local_pids(a, &p, 1), 1);
	wait_exec(p, "sleep");
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)p, leak);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)p);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
		found_a += strcmp(buf + i, "COFFER_TEST_A=1") == 0;
		found_home += strncmp(buf + i, "HOME=", 5) == 0;
		if (strncmp(buf + i, "HOME=", 5) == 0)
			assert_string_equal(buf + i, "HOME=/nowhere");
	}
	assert_int_equal(found_a, 1);
	assert_int_equal(found_home, 1);
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)p);
	n = (size_t)readlink(path, cwd, sizeof(cwd) - 1);
	cwd[n] = '\0';
	assert_string_equal(cwd, "/tmp");
	close(leak);
	assert_int_equal(coffer_actuator_stop_all(a), 0);
	coffer_actuator_free(a);
	no_children_left();
}

/* The value of COFFER_REPLICA_ID in the process's environment ("" if
 * absent). */
static void
env_replica_id(pid_t p, char *out, size_t outlen)
{
	char path[64], buf[16384];
	FILE *f;
	size_t n;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)p);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		if (strncmp(buf + i, "COFFER_REPLICA_ID=", 18) == 0)
			snprintf(out, outlen, "%s", buf + i + 18);
}

static void
test_actuator__replicas_get_distinct_ids_in_their_environment(void **state)
{
	char *argv[] = { "sleep", "60", NULL };
	/* a spec cannot forge the id */
	char *env[] = { "COFFER_REPLICA_ID=forged", NULL };
	struct coffer_actuator *a = new_act(argv, env, 5000, 0);
	struct coffer_actuator *b = new_act(argv, NULL, 5000, 0);
	char ids[4][COFFER_REPLICA_ID_MAX + 1], got[COFFER_REPLICA_ID_MAX + 1];
	pid_t p[4];

	(void)state;
	assert_int_equal(coffer_actuator_set_replicas(a, 3), 0);
	assert_int_equal(coffer_actuator_set_replicas(b, 1), 0);
	assert_int_equal(coffer_actuator_local_pids(a, p, 3), 3);
	assert_int_equal(coffer_actuator_local_pids(b, &p[3], 1), 1);
	for (int i = 0; i < 4; i++) {
		wait_exec(p[i], "sleep");
		assert_int_equal(coffer_actuator_local_replica_id(i < 3 ? a : b, p[i],
		    ids[i], sizeof(ids[i])), 0);
		env_replica_id(p[i], got, sizeof(got));
		assert_string_equal(got, ids[i]);
		assert_true(strlen(ids[i]) >= 1 && strlen(ids[i]) <= COFFER_REPLICA_ID_MAX);
		assert_true(strspn(ids[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
		    "OPQRSTUVWXYZ0123456789_.-") == strlen(ids[i]));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
	}
	assert_int_equal(coffer_actuator_local_replica_id(a, p[3], got, sizeof(got)),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_actuator_local_replica_id(a, p[0], got, 2),
	    COFFER_E_LIMIT);
	assert_int_equal(coffer_actuator_stop_all(a), 0);
	assert_int_equal(coffer_actuator_stop_all(b), 0);
	coffer_actuator_free(a);
	coffer_actuator_free(b);
	no_children_left();
}

/* Four sleeping replicas and their ids, oldest first. */
static struct coffer_actuator *
four(pid_t p[4], char ids[4][COFFER_REPLICA_ID_MAX + 1])
{
	static char *argv[] = { "sleep", "60", NULL };
	struct coffer_actuator *a = new_act(argv, NULL, 5000, 0);

	assert_int_equal(coffer_actuator_set_replicas(a, 4), 0);
	assert_int_equal(coffer_actuator_local_pids(a, p, 4), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(coffer_actuator_local_replica_id(a, p[i], ids[i],
		    sizeof(ids[i])), 0);
	return a;
}

static void
test_actuator__hint_stops_idle_replicas_before_busy_ones(void **state)
{
	char ids[4][COFFER_REPLICA_ID_MAX + 1];
	struct coffer_replica_hint busy[3];
	struct coffer_actuator *a;
	pid_t p[4], left[4];

	(void)state;
	a = four(p, ids);
	/* The newest (p[3]) and p[1] hold items; an unknown id is ignored.
	 * Newest-first would stop p[3] and p[2]. */
	busy[0].replica_id = ids[3];
	busy[0].busy_s = 1;
	busy[1].replica_id = ids[1];
	busy[1].busy_s = 2;
	busy[2].replica_id = "no-such-replica";
	busy[2].busy_s = 0;
	assert_int_equal(coffer_actuator_set_replicas_hint(a, 2, busy, 3), 0);
	assert_int_equal(status(a).stopping, 2);
	settle(a, 2);
	assert_false(alive(p[0]));
	assert_true(alive(p[1]));
	assert_false(alive(p[2]));
	assert_true(alive(p[3]));
	assert_int_equal(coffer_actuator_local_pids(a, left, 4), 2);
	assert_true(left[0] == p[1] && left[1] == p[3]);
	/* The hint is not kept: a plain scale-down is newest first again. */
	assert_int_equal(coffer_actuator_set_replicas(a, 1), 0);
	settle(a, 1);
	assert_true(alive(p[1]));
	assert_false(alive(p[3]));
	/* Bad arguments. */
	assert_int_equal(coffer_actuator_set_replicas_hint(a, 1, NULL, 1),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_actuator_set_replicas_hint(a, -1, NULL, 0),
	    COFFER_E_INVAL);
	assert_int_equal(coffer_actuator_stop_all(a), 0);
	coffer_actuator_free(a);
	no_children_left();
}

static void
test_actuator__hint_stops_the_most_recent_item_first_when_all_are_busy(void **state)
{
	char ids[4][COFFER_REPLICA_ID_MAX + 1];
	struct coffer_replica_hint busy[4];
	struct coffer_actuator *a;
	pid_t p[4];

	(void)state;
	a = four(p, ids);
	/* p[1] started its item 5 s ago, p[2] 50 s, p[0] 100 s; p[3]'s age
	 * is unknown (NaN too): those go last. */
	busy[0].replica_id = ids[0];
	busy[0].busy_s = 100;
	busy[1].replica_id = ids[1];
	busy[1].busy_s = 5;
	busy[2].replica_id = ids[2];
	busy[2].busy_s = 50;
	busy[3].replica_id = ids[3];
	busy[3].busy_s = NAN;
	assert_int_equal(coffer_actuator_set_replicas_hint(a, 2, busy, 4), 0);
	settle(a, 2);
	assert_true(alive(p[0]));
	assert_false(alive(p[1]));
	assert_false(alive(p[2]));
	assert_true(alive(p[3]));
	/* Every age unknown: newest first. */
	busy[0].busy_s = -1;
	busy[1].replica_id = ids[3];
	busy[1].busy_s = -1;
	assert_int_equal(coffer_actuator_set_replicas_hint(a, 1, busy, 2), 0);
	settle(a, 1);
	assert_true(alive(p[0]));
	assert_false(alive(p[3]));
	assert_int_equal(coffer_actuator_stop_all(a), 0);
	coffer_actuator_free(a);
	no_children_left();
}

static void
test_actuator__rejects_bad_specs(void **state)
{
	struct coffer_replica_spec spec = { 0 };
	struct coffer_actuator *a = NULL;
	char *argv[] = { "sleep", "1", NULL };
	char *bad_env[] = { "NOEQUALS", NULL };
	char *missing[] = { "no-such-program-coffer", NULL };

	(void)state;
	assert_int_equal(coffer_actuator_local_new(&spec, &a), COFFER_E_INVAL);
	spec.argv = argv;
	spec.env = bad_env;
	assert_int_equal(coffer_actuator_local_new(&spec, &a), COFFER_E_INVAL);
	spec.env = NULL;
	spec.argv = missing;
	assert_int_equal(coffer_actuator_local_new(&spec, &a), 0);
	assert_int_equal(coffer_actuator_set_replicas(a, 1), COFFER_E_NOTFOUND);
	assert_int_equal(status(a).running, 0);
	coffer_actuator_free(a);
	coffer_actuator_free(NULL);
}

static void
test_actuator__factory_makes_backends_by_name_and_checks_options(void **state)
{
	struct coffer_replica_spec spec = { 0 };
	struct coffer_actuator_config ac = { 0 };
	struct coffer_actuator *a = NULL;
	char *argv[] = { "sleep", "30", NULL };
	char *typo[] = { "partiton=debug", NULL };
	char *noeq[] = { "partition", NULL };
	char *bad_label[] = { "coffer-job=-x", NULL };
	struct coffer_replica_info *info = NULL;
	size_t n = 0;

	(void)state;
	spec.argv = argv;
	spec.grace_ms = 5000;
	/* NULL and "local" are the local backend; it takes no option. */
	assert_int_equal(coffer_actuator_new(&ac, &spec, &a), 0);
	assert_string_equal(a->ops->name, "local");
	coffer_actuator_free(a);
	ac.backend = "nomad";
	assert_int_equal(coffer_actuator_check(&ac), COFFER_E_INVAL);
	assert_non_null(strstr(coffer_errdetail(), "nomad"));
	ac.backend = "local";
	ac.options = typo;
	assert_int_equal(coffer_actuator_check(&ac), COFFER_E_INVAL);
	assert_non_null(strstr(coffer_errdetail(), "partiton"));
	ac.options = noeq;
	assert_int_equal(coffer_actuator_check(&ac), COFFER_E_INVAL);
	ac.options = NULL;
	/* The spec's name and labels are checked for every backend. */
	spec.name = "Upper";
	assert_int_equal(coffer_actuator_new(&ac, &spec, &a), COFFER_E_INVAL);
	spec.name = "coffer-job-1";
	spec.labels = bad_label;
	assert_int_equal(coffer_actuator_new(&ac, &spec, &a), COFFER_E_INVAL);
	spec.labels = NULL;
	spec.tee = "sev";
	assert_int_equal(coffer_actuator_new(&ac, &spec, &a), COFFER_E_INVAL);
	spec.tee = "sim";
	assert_int_equal(coffer_actuator_new(&ac, &spec, &a), 0);
	/* list(): the live replicas, with their ids and PIDs. */
	assert_int_equal(coffer_actuator_set_replicas(a, 2), 0);
	assert_int_equal(coffer_actuator_list(a, &info, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		char id[COFFER_REPLICA_ID_MAX + 1];

		assert_int_equal(info[i].phase, COFFER_REPLICA_RUNNING);
		assert_int_equal(coffer_actuator_local_replica_id(a,
		    (pid_t)strtol(info[i].handle, NULL, 10), id, sizeof(id)), 0);
		assert_string_equal(id, info[i].id);
	}
	free(info);
	assert_int_equal(coffer_actuator_set_replicas(a, 1), 0);
	assert_int_equal(coffer_actuator_list(a, &info, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(info[0].phase + info[1].phase,
	    COFFER_REPLICA_RUNNING + COFFER_REPLICA_STOPPING);
	free(info);
	assert_int_equal(coffer_actuator_stop_all(a), 0);
	assert_int_equal(coffer_actuator_list(a, &info, &n), 0);
	assert_int_equal(n, 0);
	assert_null(info);
	coffer_actuator_free(a);
	no_children_left();
}

static void
test_actuator__names_from_any_string_are_valid_and_distinct(void **state)
{
	char a[64], b[64], c[64];

	(void)state;
	coffer_actuator_name_from("coffer-", "job-0a1b2c3d4e5f", a, sizeof(a));
	assert_string_equal(a, "coffer-job-0a1b2c3d4e5f");
	coffer_actuator_name_from("coffer-", "Run_1", b, sizeof(b));
	coffer_actuator_name_from("coffer-", "run-1", c, sizeof(c));
	assert_string_not_equal(b, c);
	assert_int_equal(strncmp(b, "coffer-run-1-", 13), 0);
	coffer_actuator_name_from("coffer-", "a-very-long-job-name-that-goes-"
	    "on-and-on-past-any-limit-a-backend-has", a, sizeof(a));
	assert_true(strlen(a) <= 52);
	assert_true(a[strlen(a) - 1] != '-');
	coffer_actuator_name_from("", "9lives", a, sizeof(a));
	assert_true(a[0] >= 'a' && a[0] <= 'z');
}

/* A handler such as libevent's: a byte into a pipe the parent reads. */
static int term_pipe[2] = { -1, -1 };

static void
on_term(int sig)
{
	(void)sig;
	(void)!write(term_pipe[1], "t", 1);
}

/*
 * A replica stopped as soon as it is forked gets its SIGTERM before it
 * has reset the handlers it inherited: they must not run (they wrote into
 * the manager's own signal pipe, and the manager stopped itself:
 * BENCHMARKS.md, "Robustness: the manager's SIGTERM"), and the replica
 * must die of it, not run on until the grace period's SIGKILL.
 */
static void
test_actuator__a_replica_stopped_at_once_never_signals_its_parent(void **state)
{
	char *argv[] = { "sleep", "30", NULL };
	struct sigaction sa, old;
	char b;

	(void)state;
	assert_int_equal(pipe2(term_pipe, O_NONBLOCK | O_CLOEXEC), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGTERM, &sa, &old), 0);
	for (int i = 0; i < 20; i++) {
		struct coffer_actuator *a = new_act(argv, NULL, 600000, 0);

		assert_int_equal(coffer_actuator_set_replicas(a, 1), 0);
		assert_int_equal(coffer_actuator_set_replicas(a, 0), 0);
		settle(a, 0);
		assert_int_equal(status(a).killed_total, 0);
		coffer_actuator_free(a);
	}
	assert_int_equal(read(term_pipe[0], &b, 1), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(sigaction(SIGTERM, &old, NULL), 0);
	close(term_pipe[0]);
	close(term_pipe[1]);
	no_children_left();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_actuator__scales_up_and_down_newest_first),
		cmocka_unit_test(test_actuator__sigkills_after_the_grace_period),
		cmocka_unit_test(test_actuator__graceful_stop_waits_for_the_replica),
		cmocka_unit_test(test_actuator__replaces_crashed_replicas_when_asked),
		cmocka_unit_test(test_actuator__does_not_replace_when_not_asked),
		cmocka_unit_test(test_actuator__completed_replicas_end_the_pool),
		cmocka_unit_test(test_actuator__children_get_the_environment_and_no_other_fd),
		cmocka_unit_test(test_actuator__rejects_bad_specs),
		cmocka_unit_test(test_actuator__replicas_get_distinct_ids_in_their_environment),
		cmocka_unit_test(test_actuator__hint_stops_idle_replicas_before_busy_ones),
		cmocka_unit_test(test_actuator__hint_stops_the_most_recent_item_first_when_all_are_busy),
		cmocka_unit_test(test_actuator__factory_makes_backends_by_name_and_checks_options),
		cmocka_unit_test(test_actuator__names_from_any_string_are_valid_and_distinct),
		cmocka_unit_test(test_actuator__a_replica_stopped_at_once_never_signals_its_parent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
