// SPDX-License-Identifier: Apache-2.0
// The standby pool (standby.h): child processes started as the local
// actuator starts replicas (own process group, PR_SET_PDEATHSIG, nothing
// prepared in the child but async-signal-safe calls), except that stdin is
// a pipe the pool keeps: the assignment is written to it in one write (it
// fits the pipe, so a worker that has not read yet loses nothing), then
// the pipe is closed. Closing it unwritten is how a worker is told to go
// (a standby worker exits 0 at EOF, doc/worker.md).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actuator/options.h"
#include "actuator/standby.h"
#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/random.h"
#include "lib/signals.h"

#define REPLICA_ID_VAR "COFFER_REPLICA_ID"
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 30000
#define BACKOFF_RESET_MS 60000

struct sb_worker {
	pid_t pid;
	int in_fd;              /* the write end of its stdin; -1 once closed */
	int kind;
	int stopping;
	int killed;
	int64_t started_ms;
	int64_t deadline_ms;    /* SIGKILL after this, when stopping */
	char id[COFFER_REPLICA_ID_MAX + 1];
};

struct sb_kind {
	char name[COFFER_STANDBY_KIND_MAX + 1];
	char **env;             /* the pool's, then the kind's */
	int max_age_ms;
	int64_t refill_after_ms; /* monotonic: no start before (a take, or
	                            the back-off) */
	int backoff_ms;
	struct coffer_standby_status st;
};

struct coffer_standby {
	char **argv;
	char **env;
	char *log_path;
	int target;
	int grace_ms;
	int refill_delay_ms;
	int stopped;            /* stop_all ran: start no more */
	struct sb_kind kinds[COFFER_STANDBY_KINDS_MAX];
	int nkinds;
	struct sb_worker *w;
	int n, cap;
	int64_t next_index;
	char nonce[9];
};

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int
coffer_standby_new(const struct coffer_standby_config *cfg,
    struct coffer_standby **out)
{
	struct coffer_standby *p = NULL;
	uint8_t rnd[4];
	int r;

	if (cfg->argv == NULL || cfg->argv[0] == NULL)
		return coffer_errf(COFFER_E_INVAL, "standby pool: no program");
	if (cfg->target < 0 || cfg->target > COFFER_STANDBY_TARGET_MAX)
		return coffer_errf(COFFER_E_INVAL, "standby pool: %d workers per "
		    "kind is not in [0, %d]", cfg->target, COFFER_STANDBY_TARGET_MAX);
	if ((p = coffer_calloc(1, sizeof(*p))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "standby pool");
	if ((r = act_copy_strv(cfg->argv, &p->argv)) != 0 ||
	    (r = act_copy_strv(cfg->env, &p->env)) != 0)
		goto fail;
	if (cfg->log_path != NULL &&
	    (p->log_path = coffer_strdup(cfg->log_path)) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "standby pool");
		goto fail;
	}
	p->target = cfg->target;
	p->grace_ms = cfg->grace_ms > 0 ? cfg->grace_ms : 10000;
	p->refill_delay_ms = cfg->refill_delay_ms < 0 ? 1000 : cfg->refill_delay_ms;
	/* Replica ids unique among every actuator's (actuator.h): a
	 * standby worker becomes a job's replica with the id it has. */
	if ((r = coffer_random(rnd, sizeof(rnd))) != 0)
		goto fail;
	snprintf(p->nonce, sizeof(p->nonce), "%02x%02x%02x%02x", rnd[0], rnd[1],
	    rnd[2], rnd[3]);
	*out = p;
	return 0;
fail:
	coffer_standby_free(p);
	return r;
}

int
coffer_standby_add_kind(struct coffer_standby *p, const char *name,
    char *const *env, int max_age_ms)
{
	struct sb_kind *k;
	size_t np = 0, nk = 0;
	char **v;

	if (name == NULL || name[0] == '\0' ||
	    strlen(name) > COFFER_STANDBY_KIND_MAX)
		return coffer_errf(COFFER_E_INVAL, "standby pool: a kind's name "
		    "must be 1-%d bytes", COFFER_STANDBY_KIND_MAX);
	for (int i = 0; i < p->nkinds; i++)
		if (strcmp(p->kinds[i].name, name) == 0)
			return coffer_errf(COFFER_E_INVAL, "standby pool: kind '%s' "
			    "given twice", name);
	if (p->nkinds == COFFER_STANDBY_KINDS_MAX)
		return coffer_errf(COFFER_E_INVAL, "standby pool: more than %d "
		    "kinds", COFFER_STANDBY_KINDS_MAX);
	while (p->env != NULL && p->env[np] != NULL)
		np++;
	while (env != NULL && env[nk] != NULL)
		nk++;
	if ((v = coffer_calloc(np + nk + 1, sizeof(*v))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "standby pool");
	for (size_t i = 0; i < np + nk; i++)
		if ((v[i] = coffer_strdup(i < np ? p->env[i] : env[i - np])) == NULL) {
			act_free_strv(v);
			return coffer_errf(COFFER_E_NOMEM, "standby pool");
		}
	k = &p->kinds[p->nkinds++];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->env = v;
	k->max_age_ms = max_age_ms > 0 ? max_age_ms : 0;
	snprintf(k->st.name, sizeof(k->st.name), "%s", name);
	k->st.target = p->target;
	k->st.last_status = -1;
	return 0;
}

/* Start one standby worker of kind ki. */
static int
spawn(struct coffer_standby *p, int ki)
{
	struct sb_kind *k = &p->kinds[ki];
	char **envp = NULL, *exe = NULL;
	char id[COFFER_REPLICA_ID_MAX + 1];
	char idvar[sizeof(REPLICA_ID_VAR) + COFFER_REPLICA_ID_MAX + 1];
	int in[2] = { -1, -1 }, logfd = -1, r = 0;
	pid_t pid;

	if ((r = act_reserve(&p->w, &p->cap, p->n, sizeof(*p->w))) != 0)
		return r;
	if ((exe = strchr(p->argv[0], '/') != NULL ? coffer_strdup(p->argv[0]) :
	    coffer_path_lookup(p->argv[0])) == NULL) {
		r = coffer_errf(COFFER_E_NOTFOUND, "standby program '%s' not found "
		    "in PATH", p->argv[0]);
		goto out;
	}
	snprintf(id, sizeof(id), "p%s-%lld", p->nonce, (long long)p->next_index);
	snprintf(idvar, sizeof(idvar), REPLICA_ID_VAR "=%s", id);
	/* Built fresh for every start so that a caller's setenv() is seen. */
	if ((r = act_env_merge(k->env, idvar, &envp)) != 0)
		goto out;
	if (pipe2(in, O_CLOEXEC) != 0) {
		r = coffer_errf(COFFER_E_IO, "pipe: %s", strerror(errno));
		goto out;
	}
	if (p->log_path != NULL &&
	    (logfd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) < 0) {
		r = coffer_errf(COFFER_E_IO, "standby log %s: %s", p->log_path,
		    strerror(errno));
		goto out;
	}
	/* coffer_fork: see local.c. */
	if ((pid = coffer_fork()) < 0) {
		r = coffer_errf(COFFER_E_IO, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* Child: async-signal-safe calls only. */
		act_child_signals();
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(in[0], 0);
		if (logfd >= 0) {
			dup2(logfd, 1);
			dup2(logfd, 2);
		}
		closefrom(3);
		execve(exe, p->argv, envp);
		_exit(127);
	}
	(void)setpgid(pid, pid);
	close_fd(&in[0]);
	/* Never block the caller's loop: the assignment is written whole or
	 * not at all (it fits an empty pipe). */
	(void)fcntl(in[1], F_SETFL, O_NONBLOCK);
	p->w[p->n].pid = pid;
	p->w[p->n].in_fd = in[1];
	in[1] = -1;
	p->w[p->n].kind = ki;
	p->w[p->n].stopping = 0;
	p->w[p->n].killed = 0;
	p->w[p->n].started_ms = coffer_mono_ms();
	p->w[p->n].deadline_ms = 0;
	memcpy(p->w[p->n].id, id, sizeof(id));
	p->n++;
	p->next_index++;
	k->st.started_total++;
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	if (logfd >= 0)
		close(logfd);
	free(envp);
	free(exe);
	return r;
}

/* Tell a worker to go: EOF on stdin (it exits 0), and SIGTERM for one
 * that is not reading it yet; SIGKILL after the grace period. */
static void
stop_one(struct coffer_standby *p, struct sb_worker *w)
{
	close_fd(&w->in_fd);
	w->stopping = 1;
	w->deadline_ms = coffer_mono_ms() + p->grace_ms;
	kill(w->pid, SIGTERM);
}

static void
remove_at(struct coffer_standby *p, int i)
{
	close_fd(&p->w[i].in_fd);
	p->w[i] = p->w[p->n - 1];
	p->n--;
}

static void
log_death(const struct sb_kind *k, const struct sb_worker *w, int status,
    int64_t lived_ms)
{
	char pid[16], how[32], lived[32], backoff[16];

	snprintf(pid, sizeof(pid), "%d", (int)w->pid);
	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "unknown");
	snprintf(lived, sizeof(lived), "%lld", (long long)lived_ms);
	snprintf(backoff, sizeof(backoff), "%d", k->backoff_ms);
	coffer_logkv(COFFER_LOG_WARN, "a standby worker died idle; it is "
	    "replaced after a back-off", "kind", k->name, "pid", pid, "replica",
	    w->id, "status", how, "lived_ms", lived, "backoff_ms", backoff, NULL);
}

/* Reap exited workers. */
static void
reap(struct coffer_standby *p)
{
	int64_t now = coffer_mono_ms();

	for (int i = 0; i < p->n;) {
		struct sb_worker *w = &p->w[i];
		struct sb_kind *k = &p->kinds[w->kind];
		int status = 0;
		pid_t got = waitpid(w->pid, &status, WNOHANG);

		if (got == 0 || (got < 0 && errno == EINTR)) {
			i++;
			continue;
		}
		if (got == w->pid && !w->stopping) {
			int64_t lived = now - w->started_ms;

			k->st.died_total++;
			k->st.last_status = WIFEXITED(status) ? WEXITSTATUS(status) :
			    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
			if (lived >= BACKOFF_RESET_MS)
				k->backoff_ms = BACKOFF_FIRST_MS;
			else
				k->backoff_ms = k->backoff_ms == 0 ? BACKOFF_FIRST_MS :
				    k->backoff_ms * 2;
			if (k->backoff_ms > BACKOFF_MAX_MS)
				k->backoff_ms = BACKOFF_MAX_MS;
			if (now + k->backoff_ms > k->refill_after_ms)
				k->refill_after_ms = now + k->backoff_ms;
			log_death(k, w, status, lived);
		}
		/* Its group may hold children that outlived it. */
		if (got == w->pid)
			kill(-w->pid, SIGKILL);
		remove_at(p, i);
	}
}

static void
escalate(struct coffer_standby *p)
{
	int64_t now = coffer_mono_ms();

	for (int i = 0; i < p->n; i++) {
		struct sb_worker *w = &p->w[i];

		if (w->stopping && !w->killed && now >= w->deadline_ms) {
			kill(-w->pid, SIGKILL);
			kill(w->pid, SIGKILL);
			w->killed = 1;
		}
	}
}

static void
count(const struct coffer_standby *p, int ki, int *idle, int *stopping)
{
	*idle = *stopping = 0;
	for (int i = 0; i < p->n; i++)
		if (p->w[i].kind == ki) {
			if (p->w[i].stopping)
				(*stopping)++;
			else
				(*idle)++;
		}
}

void
coffer_standby_tick(struct coffer_standby *p)
{
	int64_t now;

	reap(p);
	escalate(p);
	if (p->stopped)
		return;
	now = coffer_mono_ms();
	for (int ki = 0; ki < p->nkinds; ki++) {
		struct sb_kind *k = &p->kinds[ki];
		struct sb_worker *oldest = NULL;
		int idle, stopping;

		/* Recycle one idle worker past its age per tick: all of a
		 * kind's were often started together, and replacing them at
		 * once would empty the pool and load the machine at once. */
		for (int i = 0; k->max_age_ms > 0 && i < p->n; i++)
			if (p->w[i].kind == ki && !p->w[i].stopping &&
			    now - p->w[i].started_ms >= k->max_age_ms &&
			    (oldest == NULL || p->w[i].started_ms < oldest->started_ms))
				oldest = &p->w[i];
		if (oldest != NULL) {
			stop_one(p, oldest);
			k->st.recycled_total++;
		}
		count(p, ki, &idle, &stopping);
		if (now < k->refill_after_ms)
			continue;
		while (idle < p->target) {
			if (spawn(p, ki) != 0) {
				coffer_logkv(COFFER_LOG_WARN, "cannot start a standby "
				    "worker", "kind", k->name, "error",
				    coffer_errdetail(), NULL);
				coffer_errclear();
				k->backoff_ms = BACKOFF_MAX_MS;
				k->refill_after_ms = now + k->backoff_ms;
				break;
			}
			idle++;
		}
	}
}

int
coffer_standby_take(struct coffer_standby *p, const char *name,
    const char *assignment, pid_t *pid, char *id, size_t idlen)
{
	size_t len = strlen(assignment);
	int ki = -1;

	if (len > COFFER_STANDBY_ASSIGNMENT_MAX)
		return coffer_errf(COFFER_E_LIMIT, "standby assignment of %zu bytes "
		    "(at most %zu)", len, COFFER_STANDBY_ASSIGNMENT_MAX);
	for (int i = 0; i < p->nkinds; i++)
		if (strcmp(p->kinds[i].name, name) == 0)
			ki = i;
	if (ki < 0)
		return coffer_errf(COFFER_E_NOTFOUND, "no standby kind '%s'", name);
	for (;;) {
		struct sb_worker *w = NULL;
		int wi = -1;
		ssize_t n;

		/* The oldest idle one: the likeliest to be ready. */
		for (int i = 0; i < p->n; i++)
			if (p->w[i].kind == ki && !p->w[i].stopping &&
			    (w == NULL || p->w[i].started_ms < w->started_ms)) {
				w = &p->w[i];
				wi = i;
			}
		if (w == NULL)
			return coffer_errf(COFFER_E_NOTFOUND, "no idle standby worker "
			    "of kind '%s'", name);
		if (strlen(w->id) >= idlen)
			return coffer_errf(COFFER_E_LIMIT, "replica id: buffer of %zu "
			    "bytes", idlen);
		do
			n = write(w->in_fd, assignment, len);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)len) {
			/* Dead (EPIPE) or not reading at all (a full pipe):
			 * not usable; it goes, the next is tried. */
			coffer_logkv(COFFER_LOG_WARN, "a standby worker did not take "
			    "its assignment; trying the next", "kind", p->kinds[ki].name,
			    "replica", w->id, "error", n < 0 ? strerror(errno) :
			    "short write", NULL);
			stop_one(p, w);
			p->kinds[ki].st.died_total++;
			continue;
		}
		*pid = w->pid;
		memcpy(id, w->id, strlen(w->id) + 1);
		p->kinds[ki].st.taken_total++;
		if (p->refill_delay_ms > 0) {
			int64_t after = coffer_mono_ms() + p->refill_delay_ms;

			if (after > p->kinds[ki].refill_after_ms)
				p->kinds[ki].refill_after_ms = after;
		}
		remove_at(p, wi);
		return 0;
	}
}

int
coffer_standby_kinds(const struct coffer_standby *p)
{
	return p->nkinds;
}

void
coffer_standby_kind_status(const struct coffer_standby *p, int i,
    struct coffer_standby_status *st)
{
	*st = p->kinds[i].st;
	count(p, i, &st->idle, &st->stopping);
	st->backoff_ms = p->kinds[i].refill_after_ms > coffer_mono_ms() ?
	    p->kinds[i].backoff_ms : 0;
}

int
coffer_standby_workers(const struct coffer_standby *p,
    struct coffer_standby_worker **out, size_t *n)
{
	struct coffer_standby_worker *v = NULL;
	int64_t now = coffer_mono_ms();

	if (p->n > 0 && (v = coffer_calloc((size_t)p->n, sizeof(*v))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "standby workers");
	for (int i = 0; i < p->n; i++) {
		memcpy(v[i].id, p->w[i].id, sizeof(v[i].id));
		v[i].pid = p->w[i].pid;
		v[i].kind = p->w[i].kind;
		v[i].stopping = p->w[i].stopping;
		v[i].age_s = (double)(now - p->w[i].started_ms) / 1000.0;
	}
	*out = v;
	*n = (size_t)p->n;
	return 0;
}

void
coffer_standby_stop_all(struct coffer_standby *p)
{
	if (p == NULL)
		return;
	p->stopped = 1;
	for (int i = 0; i < p->n; i++)
		if (!p->w[i].stopping)
			stop_one(p, &p->w[i]);
	while (p->n > 0) {
		reap(p);
		escalate(p);
		if (p->n > 0)
			coffer_sleep_ms(10);
	}
}

void
coffer_standby_free(struct coffer_standby *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < p->n; i++) {
		int st;

		close_fd(&p->w[i].in_fd);
		kill(-p->w[i].pid, SIGKILL);
		kill(p->w[i].pid, SIGKILL);
		while (waitpid(p->w[i].pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < p->nkinds; i++)
		act_free_strv(p->kinds[i].env);
	free(p->w);
	act_free_strv(p->argv);
	act_free_strv(p->env);
	free(p->log_path);
	free(p);
}
