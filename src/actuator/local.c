// SPDX-License-Identifier: Apache-2.0
// The local-process actuator (actuator/actuator.h): fork/exec replicas,
// reap them with waitpid(pid, WNOHANG) from tick(), escalate SIGTERM to
// SIGKILL after the grace period. Everything a child needs (argv, the
// merged environment, the resolved program path, the log descriptor) is
// prepared before fork(), so the child only calls async-signal-safe
// functions before execve(): this keeps it correct in a multi-threaded
// caller such as the manager.
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actuator/local.h"
#include "actuator/options.h"
#include "actuator/proc.h"
#include "actuator/standby.h"
#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "lib/random.h"
#include "lib/signals.h"

#define MAX_REPLICAS 10000

/* "l" + 8 hex + "-" + a start number */
#define REPLICA_ID_LEN 32

struct replica {
	pid_t pid;
	int64_t index;      /* start order: scale-down stops the highest */
	int stopping;
	int killed;
	int64_t started_ms;
	int64_t deadline_ms; /* SIGKILL after this, when stopping */
	char id[REPLICA_ID_LEN]; /* COFFER_REPLICA_ID */
	/* the hint of the set_replicas_hint() call in progress */
	int busy;
	double busy_s;      /* < 0: unknown */
};

struct local {
	char **argv;
	char **env;
	char *workdir;
	char *log_path;
	int grace_ms;
	int restart_crashed;
	struct replica *r;
	int n, cap;
	int desired;
	int completing;      /* a replica exited 0 unasked: start no more */
	int64_t next_index;
	char nonce[9];       /* 8 hex digits: this actuator's replica ids */
	struct act_backoff backoff; /* before replacing crashed replicas */
	struct coffer_actuator_status st;
	struct coffer_standby *pool; /* standby workers to take, or NULL */
	char *pool_kind;
	char *assignment;
};

#define REPLICA_ID_VAR "COFFER_REPLICA_ID"

/* A replica entry for pid, started now. */
static void
add_replica(struct local *l, pid_t pid, const char *id)
{
	l->r[l->n].pid = pid;
	l->r[l->n].index = l->next_index++;
	l->r[l->n].stopping = 0;
	l->r[l->n].killed = 0;
	l->r[l->n].started_ms = coffer_mono_ms();
	l->r[l->n].deadline_ms = 0;
	snprintf(l->r[l->n].id, sizeof(l->r[l->n].id), "%s", id);
	l->r[l->n].busy = 0;
	l->r[l->n].busy_s = -1;
	l->n++;
	l->st.started_total++;
}

/* A standby worker of the pool becomes the replica, if one is idle: 1,
 * else 0 (start cold). Its age, and so the job's replica-seconds, count
 * from here, not from its start. */
static int
take_standby(struct local *l)
{
	char id[COFFER_REPLICA_ID_MAX + 1];
	pid_t pid;

	if (l->pool == NULL || coffer_standby_take(l->pool, l->pool_kind,
	    l->assignment, &pid, id, sizeof(id)) != 0) {
		coffer_errclear();
		return 0;
	}
	add_replica(l, pid, id);
	l->st.warm_total++;
	return 1;
}

static int
start_one(struct local *l)
{
	char **envp = NULL, *exe = NULL;
	char id[REPLICA_ID_LEN], idvar[sizeof(REPLICA_ID_VAR) + REPLICA_ID_LEN];
	int devnull = -1, logfd = -1, r = 0;
	pid_t pid;

	if ((r = act_reserve(&l->r, &l->cap, l->n, sizeof(*l->r))) != 0)
		return r;
	if (take_standby(l))
		return 0;
	if ((exe = strchr(l->argv[0], '/') != NULL ?
	    coffer_strdup(l->argv[0]) : coffer_path_lookup(l->argv[0])) == NULL) {
		r = coffer_errf(COFFER_E_NOTFOUND, "replica program '%s' not found in"
		    " PATH", l->argv[0]);
		goto out;
	}
	snprintf(id, sizeof(id), "l%s-%lld", l->nonce, (long long)l->next_index);
	snprintf(idvar, sizeof(idvar), REPLICA_ID_VAR "=%s", id);
	/* Built fresh for every start so that a caller's setenv() is seen. */
	if ((r = act_env_merge(l->env, idvar, &envp)) != 0)
		goto out;
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		r = coffer_errf(COFFER_E_IO, "/dev/null: %s", strerror(errno));
		goto out;
	}
	if (l->log_path != NULL &&
	    (logfd = open(l->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) < 0) {
		r = coffer_errf(COFFER_E_IO, "replica log %s: %s", l->log_path,
		    strerror(errno));
		goto out;
	}
	/* Not fork(): the child would run the manager's signal handlers
	 * until act_child_signals(), and a SIGTERM sent to it then (a
	 * replica stopped as soon as started) would reach the manager's
	 * own signal pipe (lib/signals.h). */
	pid = coffer_fork();
	if (pid < 0) {
		r = coffer_errf(COFFER_E_IO, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* Child: async-signal-safe calls only. */
		act_child_signals();
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (l->workdir != NULL && chdir(l->workdir) != 0)
			_exit(126);
		dup2(devnull, 0);
		if (logfd >= 0) {
			dup2(logfd, 1);
			dup2(logfd, 2);
		}
		closefrom(3);
		execve(exe, l->argv, envp);
		_exit(127);
	}
	/* Also set the group from the parent: whichever runs first wins, and
	 * a kill(-pid) right after this point cannot miss the group. */
	(void)setpgid(pid, pid);
	add_replica(l, pid, id);
out:
	if (devnull >= 0)
		close(devnull);
	if (logfd >= 0)
		close(logfd);
	free(envp);
	free(exe);
	return r;
}

static int
count_running(const struct local *l)
{
	int n = 0;

	for (int i = 0; i < l->n; i++)
		n += !l->r[i].stopping;
	return n;
}

static void
stop_one(struct local *l, struct replica *rp)
{
	rp->stopping = 1;
	rp->deadline_ms = coffer_mono_ms() + l->grace_ms;
	kill(rp->pid, SIGTERM);
}

/*
 * Whether a should stop before b (actuator.h, set_replicas_hint): idle
 * (not known busy) before busy; among busy ones the most recent item
 * first, unknown last; then the newest. Without a hint nothing is busy,
 * so this is newest first.
 */
static int
stops_before(const struct replica *a, const struct replica *b)
{
	struct act_rank ra = { 0, a->busy, a->busy_s, (double)a->index };
	struct act_rank rb = { 0, b->busy, b->busy_s, (double)b->index };

	return act_stops_before(&ra, &rb);
}

/* Start or stop replicas until running == desired. */
static int
reconcile(struct local *l, int may_start)
{
	int running = count_running(l), r = 0;

	while (may_start && !l->completing && running < l->desired) {
		if ((r = start_one(l)) != 0)
			break;
		running++;
	}
	while (running > l->desired) {
		struct replica *victim = NULL;

		for (int i = 0; i < l->n; i++)
			if (!l->r[i].stopping &&
			    (victim == NULL || stops_before(&l->r[i], victim)))
				victim = &l->r[i];
		if (victim == NULL)
			break;
		stop_one(l, victim);
		running--;
	}
	return r;
}

static int
local_set_replicas_hint(void *impl, int n,
    const struct coffer_replica_hint *busy, size_t nbusy)
{
	struct local *l = impl;
	int r;

	if ((r = act_check_hint(n, MAX_REPLICAS, busy, nbusy)) != 0)
		return r;
	/* Mark the named replicas (a linear search: a few hundred at most,
	 * and only on a scale-down). */
	for (size_t k = 0; k < nbusy; k++) {
		if (busy[k].replica_id == NULL)
			continue;
		for (int i = 0; i < l->n; i++)
			if (strcmp(l->r[i].id, busy[k].replica_id) == 0) {
				l->r[i].busy = 1;
				l->r[i].busy_s = isfinite(busy[k].busy_s) &&
				    busy[k].busy_s >= 0 ? busy[k].busy_s : -1;
				break;
			}
	}
	l->desired = n;
	l->st.desired = n;
	r = reconcile(l, 1);
	/* The hint was for this call only. */
	for (int i = 0; i < l->n; i++) {
		l->r[i].busy = 0;
		l->r[i].busy_s = -1;
	}
	return r;
}

static int
local_set_replicas(void *impl, int n)
{
	return local_set_replicas_hint(impl, n, NULL, 0);
}

/* Reap exited replicas; returns how many crashed. */
static int
reap(struct local *l)
{
	int crashed = 0, i = 0;
	int64_t now = coffer_mono_ms();

	while (i < l->n) {
		struct replica *rp = &l->r[i];
		int status = 0;
		pid_t w = waitpid(rp->pid, &status, WNOHANG);

		if (w == 0 || (w < 0 && errno == EINTR)) {
			i++;
			continue;
		}
		/* Exited (or, ECHILD, reaped by someone else: count it gone). */
		if (w == rp->pid && !rp->stopping) {
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				l->st.completed_total++;
				l->completing = 1;
			} else {
				l->st.crashed_total++;
				crashed++;
				act_backoff_crashed(&l->backoff, now - rp->started_ms);
			}
		}
		/* The replica leader is gone; its group may still hold children
		 * that outlived it (an app it ran): end them too. The group id
		 * cannot have been reused while any member lives. */
		if (w == rp->pid)
			kill(-rp->pid, SIGKILL);
		l->r[i] = l->r[l->n - 1];
		l->n--;
	}
	return crashed;
}

static void
escalate(struct local *l)
{
	int64_t now = coffer_mono_ms();

	for (int i = 0; i < l->n; i++) {
		struct replica *rp = &l->r[i];

		if (rp->stopping && !rp->killed && now >= rp->deadline_ms) {
			kill(-rp->pid, SIGKILL);
			kill(rp->pid, SIGKILL);
			rp->killed = 1;
			l->st.killed_total++;
		}
	}
}

static int
local_tick(void *impl)
{
	struct local *l = impl;

	reap(l);
	escalate(l);
	if (l->restart_crashed && coffer_mono_ms() >= l->backoff.after_ms)
		return reconcile(l, 1);
	return reconcile(l, 0);
}

static int
local_status(void *impl, struct coffer_actuator_status *st)
{
	struct local *l = impl;

	*st = l->st;
	st->desired = l->desired;
	st->running = count_running(l);
	st->stopping = l->n - st->running;
	return 0;
}

static int
local_list(void *impl, struct coffer_replica_info **out, size_t *n)
{
	struct local *l = impl;
	struct coffer_replica_info *v = NULL;
	int64_t now = coffer_mono_ms();

	if (l->n > 0 && (v = coffer_calloc((size_t)l->n, sizeof(*v))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "replica list");
	for (int i = 0; i < l->n; i++) {
		const struct replica *rp = &l->r[i];

		snprintf(v[i].id, sizeof(v[i].id), "%s", rp->id);
		snprintf(v[i].handle, sizeof(v[i].handle), "%d", (int)rp->pid);
		v[i].phase = rp->stopping ? COFFER_REPLICA_STOPPING :
		    COFFER_REPLICA_RUNNING;
		v[i].age_s = (double)(now - rp->started_ms) / 1000.0;
		/* A process runs from fork(): no start-up the backend sees. */
		v[i].startup_s = 0;
	}
	*out = v;
	*n = (size_t)l->n;
	return 0;
}

static int
local_stop_all(void *impl)
{
	struct local *l = impl;

	l->desired = 0;
	l->st.desired = 0;
	for (int i = 0; i < l->n; i++)
		if (!l->r[i].stopping)
			stop_one(l, &l->r[i]);
	while (l->n > 0) {
		reap(l);
		escalate(l);
		if (l->n > 0)
			coffer_sleep_ms(10);
	}
	return 0;
}

static void
local_free(void *impl)
{
	struct local *l = impl;

	if (l == NULL)
		return;
	/* Never leave a zombie or an orphan behind. */
	for (int i = 0; i < l->n; i++) {
		int st;

		kill(-l->r[i].pid, SIGKILL);
		kill(l->r[i].pid, SIGKILL);
		while (waitpid(l->r[i].pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	free(l->r);
	act_free_strv(l->argv);
	act_free_strv(l->env);
	free(l->workdir);
	free(l->log_path);
	free(l->pool_kind);
	free(l->assignment);
	free(l);
}

static const struct coffer_actuator_ops local_ops = {
	.name = "local",
	.set_replicas = local_set_replicas,
	.tick = local_tick,
	.status = local_status,
	.stop_all = local_stop_all,
	.free = local_free,
	.set_replicas_hint = local_set_replicas_hint,
	.list = local_list,
};

int
coffer_actuator_local_new(const struct coffer_replica_spec *spec,
    struct coffer_actuator **out)
{
	struct coffer_actuator *a = NULL;
	struct local *l = NULL;
	int r;

	if ((r = act_spec_check(spec)) != 0)
		return r;
	if ((a = coffer_calloc(1, sizeof(*a))) == NULL ||
	    (l = coffer_calloc(1, sizeof(*l))) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "actuator");
		goto fail;
	}
	if ((r = act_copy_strv(spec->argv, &l->argv)) != 0 ||
	    (r = act_copy_strv(spec->env, &l->env)) != 0)
		goto fail;
	if ((spec->workdir != NULL && (l->workdir = coffer_strdup(spec->workdir)) == NULL) ||
	    (spec->log_path != NULL && (l->log_path = coffer_strdup(spec->log_path)) == NULL)) {
		r = coffer_errf(COFFER_E_NOMEM, "actuator");
		goto fail;
	}
	l->grace_ms = spec->grace_ms ? spec->grace_ms : 30000;
	{
		/* Replica ids must differ between actuators (a manager that
		 * restarts makes new ones while the old replicas' workers may
		 * still be registered in the queue): 32 random bits each. */
		uint8_t rnd[4] = { 0 };

		if (coffer_random(rnd, sizeof(rnd)) != 0) {
			uint64_t x = (uint64_t)coffer_mono_ms() ^
			    ((uint64_t)getpid() << 20) ^ (uint64_t)(uintptr_t)l;

			memcpy(rnd, &x, sizeof(rnd));
		}
		snprintf(l->nonce, sizeof(l->nonce), "%02x%02x%02x%02x", rnd[0],
		    rnd[1], rnd[2], rnd[3]);
	}
	l->restart_crashed = spec->restart_crashed;
	a->ops = &local_ops;
	a->impl = l;
	*out = a;
	return 0;
fail:
	local_free(l);
	free(a);
	return r;
}

int
coffer_actuator_local_standby(struct coffer_actuator *a,
    struct coffer_standby *pool, const char *kind, const char *assignment)
{
	struct local *l = a->impl;
	char *k = NULL, *as = NULL;

	if (pool != NULL && ((k = coffer_strdup(kind)) == NULL ||
	    (as = coffer_strdup(assignment)) == NULL)) {
		free(k);
		return coffer_errf(COFFER_E_NOMEM, "actuator");
	}
	free(l->pool_kind);
	free(l->assignment);
	l->pool = pool;
	l->pool_kind = k;
	l->assignment = as;
	return 0;
}

int
coffer_actuator_local_pids(struct coffer_actuator *a, pid_t *out, int max)
{
	struct local *l = a->impl;
	int n = 0;

	/* Oldest first: by start index. */
	for (int64_t idx = -1;;) {
		const struct replica *best = NULL;

		for (int i = 0; i < l->n; i++)
			if (!l->r[i].stopping && l->r[i].index > idx &&
			    (best == NULL || l->r[i].index < best->index))
				best = &l->r[i];
		if (best == NULL)
			break;
		if (n < max)
			out[n] = best->pid;
		n++;
		idx = best->index;
	}
	return n;
}

int
coffer_actuator_local_replica_id(struct coffer_actuator *a, pid_t pid,
    char *out, size_t outlen)
{
	struct local *l = a->impl;

	for (int i = 0; i < l->n; i++)
		if (l->r[i].pid == pid) {
			if (strlen(l->r[i].id) >= outlen)
				return coffer_errf(COFFER_E_LIMIT, "replica id: buffer of"
				    " %zu bytes", outlen);
			memcpy(out, l->r[i].id, strlen(l->r[i].id) + 1);
			return 0;
		}
	return coffer_errf(COFFER_E_NOTFOUND, "no replica with pid %d", (int)pid);
}

int
act_local_create(const struct coffer_actuator_config *cfg,
    const struct coffer_replica_spec *spec, struct coffer_actuator **out)
{
	(void)cfg;
	return coffer_actuator_local_new(spec, out);
}
