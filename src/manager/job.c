// SPDX-License-Identifier: Apache-2.0
// Jobs (mgr.h): accepting one, its state changes (the only caller of the
// state machine), stopping, deleting, and loading the store's jobs at
// start. Starting and the monitor tick are in tick.c, replicas in
// replicas.c, the API's view in job_json.c.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "controllers/registry.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/random.h"
#include "lib/utf8.h"
#include "lib/mem.h"
#include "lib/suggest.h"
#include "manager/approvals.h"
#include "manager/conf.h"
#include "manager/job_int.h"
#include "manager/mgr.h"
#include "queue/queue.h"

double
mgr_job_elapsed(const struct mgr_job *j)
{
	double t;

	if (j->started_ms == 0)
		return 0;
	if (j->finished_ms != 0)
		return (double)(j->finished_ms - j->started_ms) / 1000.0;
	t = j->t_base_s + (double)(coffer_mono_ms() - j->mono0_ms) / 1000.0;
	return t > 0 ? t : 0;
}

struct mgr_job *
mgr_job_find(struct mgr *m, const char *id)
{
	for (size_t i = 0; i < m->njobs; i++)
		if (strcmp(m->jobs[i]->id, id) == 0)
			return m->jobs[i];
	return NULL;
}

void
mgr_job_reason(struct mgr_job *j, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	char *d;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	coffer_utf8_sanitize(buf); /* a cut may split a character */
	if ((d = coffer_strdup(buf)) == NULL)
		return;
	free(j->reason);
	j->reason = d;
}

static void
set_log_path(struct mgr *m, struct mgr_job *j)
{
	snprintf(j->log_path, sizeof(j->log_path), "%s/%s.log", m->cfg.log_dir,
	    j->id);
}

void
mgr_job_free(struct mgr_job *j)
{
	if (j == NULL)
		return;
	if (j->ctl != NULL && j->ctl_state != NULL)
		j->ctl->destroy(j->ctl_state);
	coffer_controller_unload(j->ctl_dl);
	coffer_queue_close(j->q);
	coffer_actuator_free(j->act);
	coffer_actuator_free(j->ract);
	mgr_busy_release(j);
	mgr_approvals_free(j);
	mgr_conf_free(j);
	mgr_drain_watch_free(j);
	mgr_jobspec_release(&j->spec);
	json_decref(j->notes);
	free(j->reason);
	free(j->redis_url);
	free(j);
}

static int
jobs_append(struct mgr *m, struct mgr_job *j)
{
	struct mgr_job **p = coffer_reallocarray(m->jobs, m->njobs + 1, sizeof(*p));

	if (p == NULL)
		return COFFER_E_NOMEM;
	p[m->njobs++] = j;
	m->jobs = p;
	return 0;
}

static void
jobs_remove(struct mgr *m, struct mgr_job *j)
{
	for (size_t i = 0; i < m->njobs; i++)
		if (m->jobs[i] == j) {
			memmove(&m->jobs[i], &m->jobs[i + 1],
			    (m->njobs - i - 1) * sizeof(*m->jobs));
			m->njobs--;
			return;
		}
}

/* ------------------------------------------------------------------ */
/* Controllers */

/*
 * The controller's parameters: the job's controller.params, and for the
 * `deadline` controller the job's item_time_estimate_s as its parameter of
 * that name unless controller.params sets it (doc/controllers.md 6.2: the
 * estimate is then a prior of k items, not only a guess before the first
 * item is timed). est holds the number's text while the controller's
 * create() reads it.
 */
static int
ctl_config(const struct mgr_jobspec *s, const struct coffer_controller *d,
    char est[32], struct coffer_ctl_param **params,
    struct coffer_ctl_config *cfg)
{
	struct coffer_ctl_param *p;
	size_t n = s->nctl_params;
	int given = 0;

	if ((p = coffer_calloc(n + 1, sizeof(*p))) == NULL)
		return COFFER_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		p[i].key = s->ctl_params[i].key;
		p[i].value = s->ctl_params[i].value;
		given |= strcmp(p[i].key, "item_time_estimate_s") == 0;
	}
	if (!given && s->item_time_estimate_s > 0 && d->name != NULL &&
	    strcmp(d->name, "deadline") == 0) {
		/* The controller takes up to 1e7 s (116 days); the job's field
		 * up to a year: a longer estimate says as much as 1e7 s. */
		snprintf(est, 32, "%.17g", s->item_time_estimate_s < 1e7 ?
		    s->item_time_estimate_s : 1e7);
		p[n].key = "item_time_estimate_s";
		p[n++].value = est;
	}
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->min_replicas = s->min_replicas;
	cfg->max_replicas = s->max_replicas;
	cfg->expected_time_s = s->expected_time_s;
	cfg->check_interval_s = s->check_interval_s;
	cfg->params = p;
	cfg->nparams = n;
	/* Native jobs' workers name their replica in their worker id, so a
	 * scale-down stops idle replicas first (busy.c); Asperathos
	 * consumers cannot be told apart. */
	cfg->host_flags = s->queue_layout == MGR_QUEUE_COFFER ?
	    COFFER_CTL_HOST_STOPS_IDLE_FIRST : 0;
	*params = p;
	return 0;
}

int
mgr_controller_unknown(const char *name, const char *field)
{
	const struct coffer_controller *d = NULL;
	const char *names[16], *close;
	size_t n = coffer_controller_builtin(0, &d), k = 0;
	char list[256] = "";

	for (size_t i = 0; i < n && k < 16; i++) {
		d = NULL;
		if (coffer_controller_builtin(i, &d) > i && d != NULL) {
			names[k++] = d->name;
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
			    "%s%s", k > 1 ? ", " : "", d->name);
		}
	}
	coffer_errclear();
	if ((close = coffer_suggest(name, names, k)) != NULL)
		return coffer_errf(COFFER_E_FORMAT, "%s: no built-in controller "
		    "'%.64s' (did you mean '%s'?)", field, name, close);
	return coffer_errf(COFFER_E_FORMAT, "%s: no built-in controller '%.64s' "
	    "(built-ins: %s; a plugin is a path containing '/')", field, name,
	    list);
}

/*
 * Load the job's controller and create its state. A create() error names a
 * parameter ("trigger_up: expected a number >= 0"); it is reported as
 * COFFER_E_FORMAT under field_prefix so the API's 400 names the field the
 * client wrote.
 */
int
mgr_job_ctl_create(const struct mgr_jobspec *s, const char *field_prefix,
    const struct coffer_controller **def, void **state, void **dl)
{
	struct coffer_ctl_param *params = NULL;
	struct coffer_ctl_config cfg;
	const struct coffer_controller *d = NULL;
	void *h = NULL, *st = NULL;
	char err[512] = "", est[32];
	int r;

	if ((r = coffer_controller_find(s->controller, &d, &h)) != 0) {
		const char *nf = strcmp(field_prefix, "controller.params") == 0 ?
		    "controller.name" : field_prefix;

		if (r == COFFER_E_NOMEM || strchr(s->controller, '/') != NULL)
			return coffer_errf(r == COFFER_E_NOMEM ? r : COFFER_E_FORMAT,
			    "%s: %s", nf, coffer_errdetail());
		return mgr_controller_unknown(s->controller, nf);
	}
	if ((r = ctl_config(s, d, est, &params, &cfg)) != 0)
		goto out;
	r = d->create(&cfg, &st, err, sizeof(err));
	if (r != 0) {
		char field[128];

		err[sizeof(err) - 1] = '\0';
		http_detail_field(err, field, sizeof(field));
		if (field[0] != '\0')
			r = coffer_errf(COFFER_E_FORMAT, "%s.%s", field_prefix, err);
		else
			r = coffer_errf(COFFER_E_FORMAT, "%s: %s", field_prefix,
			    err[0] ? err : "the controller refused its parameters");
		st = NULL;
		goto out;
	}
	*def = d;
	*state = st;
	*dl = h;
	h = NULL;
out:
	free(params);
	coffer_controller_unload(h);
	return r;
}

/* ------------------------------------------------------------------ */
/* Accepting a job */

static int
new_id(const char *kind, char id[65])
{
	uint8_t rnd[6];
	char hex[13];
	int r;

	if ((r = coffer_random(rnd, sizeof(rnd))) != 0)
		return r;
	coffer_hex_encode(rnd, sizeof(rnd), hex);
	snprintf(id, 65, "%s-%s", strcmp(kind, "asperathos") == 0 ? "kj" : "job",
	    hex);
	return 0;
}

/*
 * The store keeps which of the manager's queue servers a job uses, not the
 * URL itself: "@queue" (--redis) or "@asperathos" (--asperathos-redis,
 * else --redis). A restarted manager, or `coffer up` whose private Redis
 * came back on another port, finds the job's keys on the server it is
 * configured with now. Rows written before hold a literal URL, kept.
 */
static const char *
job_redis_ref(const struct mgr_jobspec *s)
{
	return s->queue_layout == MGR_QUEUE_ASPERATHOS ? "@asperathos" : "@queue";
}

static const char *
resolve_redis(struct mgr *m, const char *ref)
{
	if (strcmp(ref, "@asperathos") == 0)
		return m->cfg.asperathos_redis_url != NULL ?
		    m->cfg.asperathos_redis_url : m->cfg.redis_url;
	if (strcmp(ref, "@queue") == 0)
		return m->cfg.redis_url;
	return ref;
}

static const char *
job_redis_url(struct mgr *m, const struct mgr_jobspec *s)
{
	return resolve_redis(m, job_redis_ref(s));
}

char *
mgr_json_text(const json_t *v)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_BUF_MAX_DEFAULT);
	uint8_t *p = NULL;
	size_t n;

	if (coffer_json_dump(v, &b) != 0 || coffer_buf_detach(&b, &p, &n) != 0) {
		coffer_buf_release(&b);
		return NULL;
	}
	return (char *)p;
}

/*
 * Asperathos consumers hard-code their keys ("job", "job:processing"):
 * two such jobs cannot share a Redis server. The keys are a job's from
 * its load until it is deleted: a finished or stopped job's keys still
 * hold its items and counts (doc/queue.md 6.4), and a job that took them
 * over would count those as its own. So a new Asperathos job is refused
 * (409) while another job of this manager may hold them, in any state,
 * and while Redis shows keys there that no job of this manager holds.
 */
static int
asperathos_keys_free(struct mgr *m, const char *url)
{
	struct coffer_queue_opts o;
	struct coffer_queue_meta meta;
	struct coffer_queue *q = NULL;
	int r;

	for (size_t i = 0; i < m->njobs; i++) {
		struct mgr_job *j = m->jobs[i];

		if (j->spec.queue_layout != MGR_QUEUE_ASPERATHOS ||
		    strcmp(j->redis_url, url) != 0)
			continue;
		if (!mgr_state_terminal(j->state))
			return coffer_errf(COFFER_E_STATE, "job %s (%s) uses the "
			    "Asperathos queue keys ('job', 'job:processing', "
			    "'job:coffer') on this Redis server; stop it or let it "
			    "finish, then DELETE it (DELETE /submissions/%s) to free "
			    "them", j->id, mgr_state_name(j->state), j->id);
		return coffer_errf(COFFER_E_STATE, "job %s (%s) still holds the "
		    "Asperathos queue keys ('job', 'job:processing', 'job:coffer') "
		    "on this Redis server; DELETE it (DELETE /submissions/%s) to "
		    "free them", j->id, mgr_state_name(j->state), j->id);
	}
	/* Keys no job of this manager holds: another manager's, or left
	 * behind. Redis unreachable: accept; the start checks again. */
	memset(&o, 0, sizeof(o));
	o.redis_url = url;
	o.job = "job";
	o.layout = COFFER_QUEUE_LAYOUT_ASPERATHOS;
	o.connect_timeout_ms = 2000;
	if ((r = coffer_queue_open(&o, &q)) == 0)
		r = coffer_queue_meta(q, &meta);
	coffer_queue_close(q);
	if (r != 0) {
		coffer_errclear();
		return 0;
	}
	if (meta.exists == 0)
		return 0;
	if (meta.owner[0] != '\0' && strcmp(meta.owner, "?") != 0)
		return coffer_errf(COFFER_E_STATE, "the Asperathos queue keys "
		    "('job', 'job:processing', 'job:coffer') on this Redis server "
		    "belong to job %s, which this manager does not know (another "
		    "manager's, or left behind): delete that job where it runs, or "
		    "the keys (DEL job job:processing job:coffer job:coffer:seen)",
		    meta.owner);
	return coffer_errf(COFFER_E_STATE, "the Asperathos queue keys ('job', "
	    "'job:processing') on this Redis server hold items no Coffer job "
	    "recorded as its own: delete them (DEL job job:processing "
	    "job:coffer job:coffer:seen) or use another Redis server "
	    "(--asperathos-redis)");
}

int
mgr_job_submit(struct mgr *m, const char *kind, struct mgr_jobspec *spec,
    json_t *notes, const char *field_prefix, char id[65])
{
	const struct coffer_controller *def = NULL;
	struct mgr_job_rec rec;
	struct mgr_job *j = NULL;
	json_t *sj = NULL;
	void *st = NULL, *dl = NULL;
	const char *url = job_redis_url(m, spec);
	int r;

	memset(&rec, 0, sizeof(rec));
	if (m->stopping)
		return coffer_errf(COFFER_E_STATE, "the manager is shutting down");
	/* The controller checks its own parameters now: a job never runs
	 * with a controller that would refuse them. */
	if ((r = mgr_job_ctl_create(spec, field_prefix, &def, &st, &dl)) != 0)
		return r;
	def->destroy(st);
	coffer_controller_unload(dl);
	if (spec->app != NULL) {
		char app[4096];

		if ((r = mgr_app_resolve(m, spec->app, app, sizeof(app))) != 0)
			return r;
	}

	if (spec->queue_layout == MGR_QUEUE_ASPERATHOS &&
	    (r = asperathos_keys_free(m, url)) != 0)
		return r;

	if ((j = coffer_calloc(1, sizeof(*j))) == NULL)
		return COFFER_E_NOMEM;
	if ((r = new_id(kind, j->id)) != 0)
		goto out;
	snprintf(j->kind, sizeof(j->kind), "%s", kind);
	set_log_path(m, j);
	j->state = MGR_PENDING;
	j->submitted_ms = coffer_wall_ms();
	j->total = -1;
	if ((j->redis_url = coffer_strdup(url)) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	j->notes = notes != NULL ? json_incref(notes) : NULL;
	j->spec = *spec;
	memset(spec, 0, sizeof(*spec));
	j->desired = j->spec.initial_replicas;

	if ((sj = mgr_jobspec_to_json(&j->spec)) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	snprintf(rec.id, sizeof(rec.id), "%s", j->id);
	snprintf(rec.kind, sizeof(rec.kind), "%s", j->kind);
	snprintf(rec.state, sizeof(rec.state), "%s", mgr_state_name(j->state));
	rec.spec = mgr_json_text(sj);
	rec.notes = j->notes != NULL ? mgr_json_text(j->notes) : NULL;
	rec.redis_url = (char *)job_redis_ref(&j->spec);
	rec.submitted_ms = j->submitted_ms;
	if (rec.spec == NULL || (j->notes != NULL && rec.notes == NULL)) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	if ((r = mgr_db_job_insert(m->db, &rec)) != 0)
		goto out;
	if ((r = jobs_append(m, j)) != 0) {
		if (mgr_db_job_delete(m->db, j->id) != 0)
			coffer_error("job %s: stored but not started: %s", j->id,
			    coffer_errdetail());
		goto out;
	}
	memcpy(id, j->id, 65);
	coffer_logkv(COFFER_LOG_INFO, "job accepted", "job", j->id, "kind", kind,
	    "controller", j->spec.controller, NULL);
	j = NULL;
	/* Start it at once rather than at the next tick. */
	mgr_tick_soon(m);
out:
	rec.redis_url = NULL;
	mgr_job_rec_release(&rec);
	json_decref(sj);
	mgr_job_free(j);
	return r;
}

static void
release_runtime(struct mgr *m, struct mgr_job *j)
{
	mgr_replicas_drain(m, j);
	if (j->ctl != NULL && j->ctl_state != NULL)
		j->ctl->destroy(j->ctl_state);
	j->ctl_state = NULL;
	j->ctl = NULL;
	coffer_controller_unload(j->ctl_dl);
	j->ctl_dl = NULL;
	coffer_queue_close(j->q);
	j->q = NULL;
	mgr_busy_release(j);
	mgr_conf_watch_free(j);
	mgr_drain_watch_free(j);
}

/* ------------------------------------------------------------------ */
/* State changes */

int
mgr_job_transition(struct mgr *m, struct mgr_job *j, enum mgr_event ev,
    const char *reason)
{
	enum mgr_state next;
	int64_t now = coffer_wall_ms();
	int r;

	if ((r = mgr_state_next(j->state, ev, &next)) != 0)
		return r;
	if (ev == MGR_EV_START && j->started_ms == 0) {
		j->started_ms = now;
		j->t_base_s = 0;
		j->mono0_ms = coffer_mono_ms();
	}
	if (mgr_state_terminal(next) && j->finished_ms == 0) {
		/* Elapsed time freezes at finish: take it from the monotonic
		 * clock, then record the wall time that matches it. */
		double t = mgr_job_elapsed(j);

		j->finished_ms = j->started_ms != 0 ?
		    j->started_ms + (int64_t)llround(t * 1000) : now;
	}
	if (reason != NULL)
		mgr_job_reason(j, "%s", reason);
	if ((r = mgr_db_job_set_state(m->db, j->id, mgr_state_name(next),
	    reason, ev == MGR_EV_START ? j->started_ms : 0,
	    mgr_state_terminal(next) ? j->finished_ms : 0)) != 0)
		return r;
	coffer_logkv(COFFER_LOG_INFO, "job state", "job", j->id, "from",
	    mgr_state_name(j->state), "to", mgr_state_name(next), "reason",
	    reason != NULL ? reason : "", NULL);
	j->state = next;
	if (mgr_state_terminal(next)) {
		release_runtime(m, j);
		mgr_waiters_wake(m, j->id);
	}
	return 0;
}

void
mgr_job_fail(struct mgr *m, struct mgr_job *j, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	coffer_utf8_sanitize(buf); /* a cut may split a character */
	if ((r = mgr_job_transition(m, j, MGR_EV_FAIL, buf)) != 0)
		coffer_error("job %s: cannot record failure: %s: %s", j->id,
		    coffer_strerror(r), coffer_errdetail());
}

int
mgr_job_stop(struct mgr *m, struct mgr_job *j, const char *why)
{
	int r;

	if ((r = mgr_job_transition(m, j, MGR_EV_STOP, why != NULL ? why :
	    "stopped on request")) != 0)
		return r;
	/* A stopped confidential job ends at its coordinator too: its
	 * receipt says it was cancelled, and no worker gets its keys any
	 * more (doc/coordinator.md section 10.3). Asked on the event loop:
	 * the stop is answered at once and stands if the coordinator does not
	 * answer; an owner can close it later. */
	if (j->spec.tee_job != NULL)
		mgr_conf_cancel(m, j);
	return 0;
}

int
mgr_job_delete(struct mgr *m, struct mgr_job *j, int force)
{
	struct coffer_queue_opts o;
	struct coffer_queue *q = NULL;
	enum mgr_state next;
	int r;

	if ((r = mgr_state_next(j->state, MGR_EV_DELETE, &next)) != 0)
		return r;
	/* A stopped or finished job's replicas get SIGTERM and may finish
	 * their item first: an ack after the keys are gone would write some
	 * of them again (and an Asperathos consumer could take a later job's
	 * items). Not while they run, then. */
	if (mgr_replicas_draining(m, j->id))
		return coffer_errf(COFFER_E_BUSY, "job %s: its replicas are still "
		    "stopping (they finish their item; SIGKILL after %d ms) and may "
		    "still write to its queue: DELETE again once they have exited",
		    j->id, m->cfg.grace_ms);
	/* The queue's keys go first: if Redis is down the job stays, and the
	 * client may retry. Asperathos keys only if they are this job's
	 * (doc/queue.md 6.4): another job may hold them now. */
	memset(&o, 0, sizeof(o));
	o.redis_url = j->redis_url;
	o.job = mgr_job_queue_name(j);
	o.layout = j->spec.queue_layout == MGR_QUEUE_ASPERATHOS ?
	    COFFER_QUEUE_LAYOUT_ASPERATHOS : COFFER_QUEUE_LAYOUT_COFFER;
	o.owner = o.layout == COFFER_QUEUE_LAYOUT_ASPERATHOS ? j->id : NULL;
	o.connect_timeout_ms = 2000;
	if ((r = coffer_queue_open(&o, &q)) == 0)
		r = coffer_queue_destroy(q);
	coffer_queue_close(q);
	if (r == COFFER_E_STATE && o.owner != NULL) {
		coffer_warn("job %s: %s", j->id, coffer_errdetail());
		r = 0;
	}
	if (r != 0) {
		/* A job that never finished loading may still have left keys
		 * (a partial load): removed when Redis answers, else left. With
		 * force (kubectl delete --force) the job goes whatever its queue
		 * says: its server may be gone for good. */
		if (j->loaded && !force)
			return coffer_errctx(r, "deleting the queue of job %s (its "
			    "queue server does not answer; delete with force=true to "
			    "remove the job anyway and leave its keys)", j->id);
		coffer_warn("job %s: its queue keys, if any, were not deleted: %s",
		    j->id, coffer_errdetail());
	}
	if ((r = mgr_db_job_delete(m->db, j->id)) != 0)
		return r;
	coffer_logkv(COFFER_LOG_INFO, "job deleted", "job", j->id, NULL);
	release_runtime(m, j);
	mgr_waiters_wake(m, j->id);
	jobs_remove(m, j);
	mgr_job_free(j);
	return 0;
}

void
mgr_jobs_shutdown(struct mgr *m)
{
	int64_t deadline = coffer_mono_ms() + m->cfg.grace_ms + 1000;

	/* Running jobs stay "running" in the store: the next start resumes
	 * them. Replicas that can outlive the manager (Slurm jobs, pods) are
	 * left running for it to adopt (actuator.h); the others stop now, all
	 * at once. */
	for (size_t i = 0; i < m->njobs; i++) {
		struct mgr_job *j = m->jobs[i];

		if (j->act != NULL && coffer_actuator_detach(j->act) == 0) {
			coffer_actuator_free(j->act);
			j->act = NULL;
		}
		if (j->ract != NULL && coffer_actuator_detach(j->ract) == 0) {
			coffer_actuator_free(j->ract);
			j->ract = NULL;
		}
		coffer_errclear();
		mgr_replicas_drain(m, j);
	}
	while (m->ndraining > 0 && coffer_mono_ms() < deadline) {
		mgr_replicas_tick_draining(m);
		if (m->ndraining > 0)
			coffer_sleep_ms(50);
	}
	for (size_t i = 0; i < m->ndraining; i++) {
		(void)coffer_actuator_stop_all(m->draining[i].act);
		coffer_actuator_free(m->draining[i].act);
	}
	m->ndraining = 0;
	for (size_t i = 0; i < m->njobs; i++)
		mgr_job_free(m->jobs[i]);
	free(m->jobs);
	m->jobs = NULL;
	m->njobs = 0;
	free(m->draining);
	m->draining = NULL;
}

/* ------------------------------------------------------------------ */
/* Resuming */

static int
load_one(const struct mgr_job_rec *rec, void *arg)
{
	struct mgr *m = arg;
	struct mgr_job *j = NULL;
	int64_t seq = 0, count = 0;
	int r;

	if ((j = coffer_calloc(1, sizeof(*j))) == NULL)
		return COFFER_E_NOMEM;
	snprintf(j->id, sizeof(j->id), "%s", rec->id);
	snprintf(j->kind, sizeof(j->kind), "%s", rec->kind);
	set_log_path(m, j);
	j->submitted_ms = rec->submitted_ms;
	j->started_ms = rec->started_ms;
	j->finished_ms = rec->finished_ms;
	j->loaded = rec->loaded;
	j->total = rec->total;
	if ((j->redis_url = coffer_strdup(resolve_redis(m, rec->redis_url))) == NULL ||
	    (rec->reason != NULL && (j->reason = coffer_strdup(rec->reason)) == NULL)) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	/* Bad rows are reported and skipped, never fatal: one corrupt job
	 * must not keep the manager from serving the others. */
	if ((r = mgr_state_parse(rec->state, &j->state)) != 0 ||
	    (r = mgr_jobspec_parse_text(rec->spec, strlen(rec->spec),
	    COFFER_BUF_MAX_DEFAULT, rec->submitted_ms / 1000, 1, &j->spec)) != 0) {
		coffer_error("job %s in the store is unreadable, skipped: %s",
		    rec->id, coffer_errdetail());
		r = 0;
		goto out;
	}
	if (rec->notes != NULL)
		j->notes = json_loads(rec->notes, 0, NULL);
	j->desired = j->spec.initial_replicas;
	mgr_monitor_init(&j->mon, 5);
	r = mgr_db_sample_last(m->db, j->id, &j->last, &seq, &count);
	if (r == 0) {
		j->have_last = 1;
		j->sample_seq = seq;
		j->sample_count = count;
		if (j->state == MGR_RUNNING) {
			mgr_monitor_resume(&j->mon, &j->last);
			if (j->last.desired >= j->spec.min_replicas &&
			    j->last.desired <= j->spec.max_replicas)
				j->desired = j->last.desired;
		}
	} else if (r != COFFER_E_NOTFOUND) {
		goto out;
	}
	if ((r = mgr_db_decision_last_seq(m->db, j->id, &j->decision_seq)) != 0)
		goto out;
	if (j->started_ms != 0 && j->finished_ms == 0) {
		int64_t now = coffer_wall_ms();

		j->t_base_s = now > j->started_ms ?
		    (double)(now - j->started_ms) / 1000.0 : 0;
		j->mono0_ms = coffer_mono_ms();
		j->next_sample_t = j->t_base_s;
		/* Decide one interval after resuming, on fresh counts. */
		j->next_decide_t = j->t_base_s + j->spec.check_interval_s;
	}
	if ((r = jobs_append(m, j)) != 0)
		goto out;
	if (!mgr_state_terminal(j->state))
		coffer_logkv(COFFER_LOG_INFO, "job resumed", "job", j->id, "state",
		    mgr_state_name(j->state), NULL);
	j = NULL;
out:
	mgr_job_free(j);
	return r;
}

int
mgr_jobs_load(struct mgr *m)
{
	return mgr_db_jobs_foreach(m->db, load_one, m);
}

