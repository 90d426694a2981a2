// SPDX-License-Identifier: Apache-2.0
// A job's replicas: which program each one runs and with which
// environment (doc/manager.md section 5), starting them through the
// actuator, and draining the actuators of finished jobs.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actuator/actuator.h"
#include "coffer/error.h"
#include "lib/appdir.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "manager/conf.h"
#include "manager/job_int.h"
#include "manager/mgr.h"
#include "manager/policy.h"
#include "queue/redis_url.h"

/* ------------------------------------------------------------------ */
/* Apps */


/* The message for a mistyped app name: the one meant, if one is close,
 * and the apps there are. Read on this error path only. */
static int
no_app(const char *dir, const char *app)
{
	struct coffer_buf list = COFFER_BUF_INIT(4096);
	char meant[256];
	int r;

	if ((r = coffer_appdir_list(dir, app, &list, meant, sizeof(meant))) != 0)
		coffer_buf_reset(&list);
	r = coffer_errf(COFFER_E_FORMAT, "app: no app '%s' in %s%s%s%s (its apps: %s)",
	    app, dir, meant[0] ? " (did you mean '" : "", meant, meant[0] ? "'?)" : "",
	    list.len ? coffer_buf_str(&list) : "none");
	coffer_buf_release(&list);
	return r;
}

int
mgr_app_resolve(struct mgr *m, const char *app, char *out, size_t outlen)
{
	static const char *const suffix[] = { ".so", "", NULL };

	/* A path is the worker's business (it may live on another machine
	 * once replicas run elsewhere). A name is looked up in the apps
	 * directory: the plugin first, then an executable. */
	if (strchr(app, '/') != NULL) {
		if ((size_t)snprintf(out, outlen, "%s", app) >= outlen)
			return coffer_errf(COFFER_E_FORMAT, "app: path too long");
		return 0;
	}
	if (m->cfg.apps_dir == NULL)
		return coffer_errf(COFFER_E_FORMAT,
		    "app: '%s' is a name, but the manager has no apps directory "
		    "(--apps): give a path", app);
	for (size_t i = 0; suffix[i] != NULL; i++) {
		if ((size_t)snprintf(out, outlen, "%s/%s%s", m->cfg.apps_dir, app,
		    suffix[i]) >= outlen)
			return coffer_errf(COFFER_E_FORMAT, "app: name too long");
		if (access(out, suffix[i][0] != '\0' ? R_OK : X_OK) == 0)
			return 0;
	}
	return no_app(m->cfg.apps_dir, app);
}

/* ------------------------------------------------------------------ */
/* Replicas */

struct strv {
	char **v;
	size_t n;
};

static int
strv_add(struct strv *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
strv_add(struct strv *s, const char *fmt, ...)
{
	char **p;
	char *str = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&str, fmt, ap);
	va_end(ap);
	if (n < 0)
		return COFFER_E_NOMEM;
	if ((p = coffer_reallocarray(s->v, s->n + 2, sizeof(*p))) == NULL) {
		free(str);
		return COFFER_E_NOMEM;
	}
	p[s->n++] = str;
	p[s->n] = NULL;
	s->v = p;
	return 0;
}

static void
strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Names the manager sets itself; a job's env cannot override them. */
static int
reserved_env(const char *k)
{
	return strncmp(k, "COFFER_", 7) == 0 || strcmp(k, "REDIS_HOST") == 0 ||
	    strcmp(k, "REDIS_PORT") == 0;
}

const char *
mgr_job_queue_name(const struct mgr_job *j)
{
	/* The Asperathos layout's list is literally "job". */
	return j->spec.queue_layout == MGR_QUEUE_ASPERATHOS ? "job" : j->id;
}

/*
 * The settings of a worker of a confidential job (doc/worker.md section
 * 2): where its coordinator is, which job, where its evidence comes from
 * and the measured configuration that pins the coordinator. None of them
 * is a secret, and none is trusted by the worker (doc/manager.md section 9).
 */
static int
confidential_env(struct mgr *m, struct mgr_job *j, struct strv *env)
{
	const char *backend = mgr_conf_worker_backend(j->spec.tee_backend);
	int r;

	if (backend == NULL || j->spec.coordinator == NULL ||
	    j->spec.tee_job == NULL)
		return coffer_errf(COFFER_E_FORMAT, "tee: the confidential job has "
		    "no coordinator, job or TEE backend recorded");
	if (m->cfg.measured_config == NULL)
		return coffer_errf(COFFER_E_POLICY, "tee: this manager has no "
		    "measured configuration for workers (--measured-config)");
	if ((r = strv_add(env, "COFFER_COORDINATOR_URL=%s", j->spec.coordinator)) != 0 ||
	    (r = strv_add(env, "COFFER_COORDINATOR_JOB=%s", j->spec.tee_job)) != 0 ||
	    (r = strv_add(env, "COFFER_TEE_BACKEND=%s", backend)) != 0 ||
	    (r = strv_add(env, "COFFER_MEASURED_CONFIG=%s",
	    m->cfg.measured_config)) != 0)
		return r;
	if (m->cfg.tee_collateral != NULL && (r = strv_add(env,
	    "COFFER_COLLATERAL=%s", m->cfg.tee_collateral)) != 0)
		return r;
	return 0;
}

/*
 * What each replica runs and its environment. The manager passes job
 * parameters, locations, the TEE backend and the coordinator; it never
 * has data or keys to pass. reduce: the one replica of the reduce stage
 * (coffer-worker --reduce KEY) instead of the item workers.
 */
static int
replica_spec(struct mgr *m, struct mgr_job *j, int reduce, struct strv *argv,
    struct strv *env)
{
	const struct mgr_policy *pol = mgr_policy_get();
	struct coffer_redis_url u;
	struct coffer_buf names = COFFER_BUF_INIT(1 << 16);
	int r;

	memset(&u, 0, sizeof(u));
	/* The policy again, for jobs stored under a looser configuration
	 * (policy.h): the current one decides what runs. */
	if (j->spec.cmd != NULL && !pol->allow_cmd)
		return coffer_errf(COFFER_E_POLICY, "cmd: this manager does not "
		    "run jobs' own commands (it was started with --allow-cmd=no)");
	for (size_t i = 0; i < j->spec.nenv; i++)
		if (mgr_policy_env_denied(pol, j->spec.env[i].key))
			return coffer_errf(COFFER_E_POLICY, "env.%s: this variable is "
			    "not given to replicas", j->spec.env[i].key);
	if ((r = coffer_redis_url_parse(j->redis_url, &u)) != 0)
		return r;
	if (j->spec.cmd != NULL) {
		for (size_t i = 0; i < j->spec.ncmd; i++)
			if ((r = strv_add(argv, "%s", j->spec.cmd[i])) != 0)
				goto out;
	} else {
		char app[4096];

		if ((r = mgr_app_resolve(m, j->spec.app, app, sizeof(app))) != 0)
			goto out;
		/* No --redis: the URL may carry the queue's password, and any
		 * local user can read a process's arguments in /proc. The
		 * worker reads COFFER_REDIS_URL from its environment (below). */
		if ((r = strv_add(argv, "%s", m->cfg.worker)) != 0 ||
		    (r = strv_add(argv, "--job")) != 0 ||
		    (r = strv_add(argv, "%s", j->id)) != 0 ||
		    (r = strv_add(argv, "--app")) != 0 ||
		    (r = strv_add(argv, "%s", app)) != 0)
			goto out;
		if ((j->spec.input_store != NULL || m->cfg.store != NULL) &&
		    ((r = strv_add(argv, "--store")) != 0 ||
		    (r = strv_add(argv, "%s", j->spec.input_store != NULL ?
		    j->spec.input_store : m->cfg.store)) != 0))
			goto out;
		if (j->spec.output_store != NULL &&
		    ((r = strv_add(argv, "--outputs")) != 0 ||
		    (r = strv_add(argv, "%s", j->spec.output_store)) != 0))
			goto out;
		if (j->spec.output_prefix != NULL &&
		    ((r = strv_add(argv, "--output-prefix")) != 0 ||
		    (r = strv_add(argv, "%s", j->spec.output_prefix)) != 0))
			goto out;
		/* A confidential job's parameters come to its workers from the
		 * coordinator only (doc/worker.md 9.3), never from here. */
		for (size_t i = 0; j->spec.tee_policy == NULL &&
		    i < j->spec.napp_params; i++)
			if ((r = strv_add(argv, "--param")) != 0 ||
			    (r = strv_add(argv, "%s=%s", j->spec.app_params[i].key,
			    j->spec.app_params[i].value)) != 0)
				goto out;
		/* Replicas leave when the job is finished (a Kubernetes Job's
		 * completion): the actuator then starts no more. */
		if (!reduce && (r = strv_add(argv, "--exit-when-done")) != 0)
			goto out;
		if (reduce && ((r = strv_add(argv, "--reduce")) != 0 ||
		    (r = strv_add(argv, "%s", j->spec.reduce)) != 0))
			goto out;
		/* A plaintext job's reduce replica may start before the drain
		 * (doc/manager.md 9.4): it waits for it at the queue (whose
		 * counts it reads in Coffer's layout only). */
		if (reduce && j->spec.tee_policy == NULL &&
		    j->spec.queue_layout == MGR_QUEUE_COFFER &&
		    (r = strv_add(argv, "--after-drain")) != 0)
			goto out;
	}
	for (size_t i = 0; i < j->spec.nenv; i++) {
		if (reserved_env(j->spec.env[i].key))
			continue;
		if ((r = strv_add(env, "%s=%s", j->spec.env[i].key,
		    j->spec.env[i].value)) != 0 ||
		    (names.len > 0 && (r = coffer_buf_puts(&names, ",")) != 0) ||
		    (r = coffer_buf_puts(&names, j->spec.env[i].key)) != 0)
			goto out;
	}
	/* coffer-worker gives its exec apps a clean environment plus these
	 * names (doc/worker.md 4.3): the job's env reaches the app, the
	 * manager's own environment and the queue's URL do not. */
	if (j->spec.app != NULL && names.len > 0 &&
	    (r = strv_add(env, "COFFER_APP_ENV=%s", coffer_buf_str(&names))) != 0)
		goto out;
	if ((r = strv_add(env, "COFFER_JOB=%s", j->id)) != 0 ||
	    (r = strv_add(env, "COFFER_QUEUE=%s", mgr_job_queue_name(j))) != 0 ||
	    (r = strv_add(env, "COFFER_QUEUE_LAYOUT=%s",
	    j->spec.queue_layout == MGR_QUEUE_ASPERATHOS ? "asperathos" : "coffer")) != 0 ||
	    (r = strv_add(env, "COFFER_REDIS_URL=%s", j->redis_url)) != 0 ||
	    (r = strv_add(env, "COFFER_LEASE_MS=%d", j->spec.lease_ms)) != 0 ||
	    (r = strv_add(env, "COFFER_MAX_ATTEMPTS=%d", j->spec.max_attempts)) != 0 ||
	    (r = strv_add(env, "COFFER_MANAGER_DB=%s", m->db_abs)) != 0 ||
	    (r = strv_add(env, "COFFER_MANAGER_INCARNATION=%s", m->incarnation)) != 0)
		goto out;
	if (u.host != NULL &&
	    ((r = strv_add(env, "REDIS_HOST=%s", u.host)) != 0 ||
	    (r = strv_add(env, "REDIS_PORT=%d", u.port)) != 0))
		goto out;
	if (j->spec.app != NULL && (r = strv_add(env, "COFFER_APP=%s",
	    j->spec.app)) != 0)
		goto out;
	if (m->cfg.apps_dir != NULL && (r = strv_add(env, "COFFER_APPS_DIR=%s",
	    m->cfg.apps_dir)) != 0)
		goto out;
	if ((j->spec.input_store != NULL || m->cfg.store != NULL) &&
	    (r = strv_add(env, "COFFER_STORE=%s", j->spec.input_store != NULL ?
	    j->spec.input_store : m->cfg.store)) != 0)
		goto out;
	if (j->spec.output_store != NULL && (r = strv_add(env,
	    "COFFER_OUTPUTS=%s", j->spec.output_store)) != 0)
		goto out;
	if (j->spec.output_prefix != NULL && (r = strv_add(env,
	    "COFFER_OUTPUT_PREFIX=%s", j->spec.output_prefix)) != 0)
		goto out;
	if (j->spec.tee_backend != NULL && (r = strv_add(env, "COFFER_TEE=%s",
	    j->spec.tee_backend)) != 0)
		goto out;
	if (j->spec.tee_policy != NULL && (r = confidential_env(m, j, env)) != 0)
		goto out;
out:
	coffer_buf_release(&names);
	coffer_redis_url_release(&u);
	return r;
}

/*
 * The labels that tell this job's replicas from every other on a shared
 * backend (a Slurm cluster, a Kubernetes namespace): the job id and this
 * manager's store, and the stage (the reduce replica's pods must never be
 * taken for item workers, nor theirs for it). A restarted
 * manager makes the same ones and so adopts its replicas (actuator.h);
 * another manager's never match.
 */
static int
replica_labels(struct mgr *m, struct mgr_job *j, int reduce,
    struct strv *labels)
{
	uint32_t h = 2166136261u;
	int r;

	for (const char *p = m->db_abs; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	if ((r = strv_add(labels, "coffer-job=%s", j->id)) != 0 ||
	    (r = strv_add(labels, "coffer-manager=m%08x", (unsigned)h)) != 0)
		return r;
	return strv_add(labels, "coffer-stage=%s", reduce ? "reduce" : "map");
}

static int
start(struct mgr *m, struct mgr_job *j, int reduce, struct coffer_actuator **act,
    int n)
{
	struct coffer_replica_spec rs;
	struct coffer_actuator_config ac;
	struct strv argv = { NULL, 0 }, env = { NULL, 0 }, labels = { NULL, 0 };
	char name[64], rname[300];
	int r;

	if ((r = replica_spec(m, j, reduce, &argv, &env)) != 0 ||
	    (r = strv_add(&env, "COFFER_ACTUATOR=%s", m->cfg.actuator)) != 0 ||
	    (r = replica_labels(m, j, reduce, &labels)) != 0)
		goto out;
	/* The reduce replica's own name (a Slurm job name, a Kubernetes Job):
	 * the item workers' may still be stopping under theirs. */
	snprintf(rname, sizeof(rname), "%s%s", j->id, reduce ? "/reduce" : "");
	coffer_actuator_name_from("coffer-", rname, name, sizeof(name));
	memset(&rs, 0, sizeof(rs));
	rs.argv = argv.v;
	rs.env = env.v;
	rs.log_path = j->log_path;
	rs.grace_ms = m->cfg.grace_ms;
	/* A replica that dies with work left is replaced (a Kubernetes Job's
	 * restartPolicy: OnFailure); the actuator decides what "dies" means. */
	rs.restart_crashed = 1;
	rs.name = name;
	rs.labels = labels.v;
	rs.image = j->spec.image;
	rs.tee = j->spec.tee_backend;
	mgr_actuator_config(&m->cfg, &ac);
	if ((r = coffer_actuator_new(&ac, &rs, act)) != 0)
		goto out;
	(void)mgr_standby_use(m, j, reduce, env.v, *act);
	if ((r = coffer_actuator_set_replicas(*act, n)) != 0)
		goto out;
out:
	strv_free(&argv);
	strv_free(&env);
	strv_free(&labels);
	return r;
}

int64_t
mgr_job_items_left(const struct mgr_job *j)
{
	int64_t left;

	if (j->total < 0)
		return -1;
	left = j->total;
	if (j->have_last)
		left -= j->last.c.done + j->last.c.failed;
	return left < 0 ? 0 : left;
}

int
mgr_replicas_cap(const struct mgr_job *j, int n, int cur)
{
	int64_t left = mgr_job_items_left(j), cap;

	if (n <= cur || left < 0)
		return n;
	cap = left > cur ? left : cur;
	if (cap < 1)
		cap = 1;
	return n > cap ? (int)cap : n;
}

int
mgr_replicas_start(struct mgr *m, struct mgr_job *j)
{
	/* doc/manager.md section 4, "No replica beyond the work", rule 1. */
	j->desired = mgr_replicas_cap(j, j->desired, 0);
	return start(m, j, 0, &j->act, j->desired);
}

/* Hand an actuator to the draining list: its replicas get SIGTERM now
 * and SIGKILL after the grace period, on later ticks. */
static void
drain(struct mgr *m, struct mgr_job *j, struct coffer_actuator **act)
{
	struct coffer_actuator_status st;
	struct mgr_draining *p;

	if (*act == NULL)
		return;
	memset(&st, 0, sizeof(st));
	if (coffer_actuator_status(*act, &st) == 0)
		j->warm_base += st.warm_total;
	(void)coffer_actuator_set_replicas(*act, 0);
	p = coffer_reallocarray(m->draining, m->ndraining + 1, sizeof(*p));
	if (p == NULL) {
		(void)coffer_actuator_stop_all(*act);
		coffer_actuator_free(*act);
	} else {
		p[m->ndraining].act = *act;
		snprintf(p[m->ndraining].job, sizeof(p[m->ndraining].job), "%s", j->id);
		m->ndraining++;
		m->draining = p;
	}
	*act = NULL;
}

int
mgr_replicas_start_reduce(struct mgr *m, struct mgr_job *j)
{
	struct coffer_actuator_status st;

	/* The queue is drained: the item workers are done with it (they
	 * exited 0 with --exit-when-done, or are stopped now). */
	drain(m, j, &j->act);
	j->reduce_crash_base = 0;
	if (j->ract == NULL)
		return start(m, j, 1, &j->act, 1);
	/* The replica started early goes on (it may even be done); what it
	 * crashed while the map stage ran does not count against the stage
	 * (a coordinator restarted meanwhile). */
	memset(&st, 0, sizeof(st));
	if (coffer_actuator_status(j->ract, &st) == 0)
		j->reduce_crash_base = st.crashed_total;
	j->act = j->ract;
	j->ract = NULL;
	return 0;
}

int
mgr_replicas_start_reduce_early(struct mgr *m, struct mgr_job *j)
{
	return start(m, j, 1, &j->ract, 1);
}

void
mgr_replicas_drain_early(struct mgr *m, struct mgr_job *j)
{
	drain(m, j, &j->ract);
}

void
mgr_replicas_drain(struct mgr *m, struct mgr_job *j)
{
	drain(m, j, &j->act);
	drain(m, j, &j->ract);
}

void
mgr_replicas_tick_draining(struct mgr *m)
{
	for (size_t i = 0; i < m->ndraining;) {
		struct coffer_actuator *a = m->draining[i].act;
		struct coffer_actuator_status st;

		(void)coffer_actuator_tick(a);
		memset(&st, 0, sizeof(st));
		if (coffer_actuator_status(a, &st) == 0 && st.running == 0 &&
		    st.stopping == 0) {
			coffer_actuator_free(a);
			m->draining[i] = m->draining[--m->ndraining];
			continue;
		}
		i++;
	}
}

int
mgr_replicas_draining(struct mgr *m, const char *id)
{
	mgr_replicas_tick_draining(m);
	for (size_t i = 0; i < m->ndraining; i++)
		if (strcmp(m->draining[i].job, id) == 0)
			return 1;
	return 0;
}

