// SPDX-License-Identifier: Apache-2.0
// The manager's standby pool (doc/manager.md section 5.4): which kinds it
// keeps (plaintext, and confidential for the manager's own coordinator),
// which replicas may come from it, the assignment a standby worker gets,
// and the pool's view in GET /v1/standby and /metrics.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actuator/local.h"
#include "actuator/standby.h"
#include "coffer/error.h"
#include "http/jsonout.h"
#include "http/metrics.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "manager/api.h"
#include "manager/conf.h"
#include "manager/mgr.h"

/* A confidential standby worker attests once, at its start, and holds a
 * standby session that its coordinator forgets after 600 s
 * (doc/protocol/key-release.md 6.7): recycled well before. */
#define CONF_MAX_AGE_MS 500000

/* The kind of the confidential workers of (backend, coordinator): one
 * string, so that a job of another coordinator or backend finds none. */
static void
conf_kind(const char *backend, const char *coordinator, char *out,
    size_t outlen)
{
	snprintf(out, outlen, "confidential:%s:%s", backend, coordinator);
}

int
mgr_standby_start(struct mgr *m)
{
	struct coffer_standby_config sc;
	char *argv[] = { (char *)m->cfg.worker, NULL };
	char db[4200], inc[64], log[4200], url[1100], be[64], mc[4200], col[4200];
	char *env[] = { "COFFER_STANDBY=1", db, inc, "COFFER_ACTUATOR=local", NULL };
	char kind[COFFER_STANDBY_KIND_MAX + 1];
	int r;

	if (m->cfg.standby_replicas <= 0)
		return 0;
	if (strcmp(m->cfg.actuator, "local") != 0) {
		coffer_warn("--standby-replicas %d: the standby pool is the local "
		    "actuator's; the %s actuator starts every replica cold",
		    m->cfg.standby_replicas, m->cfg.actuator);
		return 0;
	}
	/* The markers every replica has (orphans.c): a standby worker left
	 * by a manager killed with SIGKILL is stopped by the next start. */
	snprintf(db, sizeof(db), "COFFER_MANAGER_DB=%s", m->db_abs);
	snprintf(inc, sizeof(inc), "COFFER_MANAGER_INCARNATION=%s", m->incarnation);
	snprintf(log, sizeof(log), "%s/standby.log", m->cfg.log_dir);
	memset(&sc, 0, sizeof(sc));
	sc.argv = argv;
	sc.env = env;
	sc.log_path = log;
	sc.target = m->cfg.standby_replicas;
	sc.grace_ms = m->cfg.grace_ms;
	sc.refill_delay_ms = -1;
	if ((r = coffer_standby_new(&sc, &m->standby)) != 0 ||
	    (r = coffer_standby_add_kind(m->standby, "plaintext", NULL, 0)) != 0)
		goto fail;
	/* The confidential kind needs what a confidential job's worker gets
	 * from the manager itself (replicas.c, confidential_env). */
	if (m->cfg.coordinator != NULL && m->cfg.tee_backend != NULL &&
	    m->cfg.measured_config != NULL &&
	    mgr_conf_worker_backend(m->cfg.tee_backend) != NULL) {
		char *cenv[] = { url, be, mc, NULL, NULL };

		snprintf(url, sizeof(url), "COFFER_COORDINATOR_URL=%s",
		    m->cfg.coordinator);
		snprintf(be, sizeof(be), "COFFER_TEE_BACKEND=%s",
		    mgr_conf_worker_backend(m->cfg.tee_backend));
		snprintf(mc, sizeof(mc), "COFFER_MEASURED_CONFIG=%s",
		    m->cfg.measured_config);
		if (m->cfg.tee_collateral != NULL) {
			snprintf(col, sizeof(col), "COFFER_COLLATERAL=%s",
			    m->cfg.tee_collateral);
			cenv[3] = col;
		}
		conf_kind(m->cfg.tee_backend, m->cfg.coordinator, kind, sizeof(kind));
		if ((r = coffer_standby_add_kind(m->standby, kind, cenv,
		    CONF_MAX_AGE_MS)) != 0)
			goto fail;
	}
	{
		char n[16];

		snprintf(n, sizeof(n), "%d", m->cfg.standby_replicas);
		coffer_logkv(COFFER_LOG_INFO, "standby pool", "per_kind", n,
		    "kinds", coffer_standby_kinds(m->standby) > 1 ?
		    "plaintext, confidential" : "plaintext", "log", log, NULL);
	}
	return 0;
fail:
	coffer_standby_free(m->standby);
	m->standby = NULL;
	return r;
}

void
mgr_standby_tick(struct mgr *m)
{
	if (m->standby != NULL)
		coffer_standby_tick(m->standby);
}

void
mgr_standby_stop(struct mgr *m)
{
	if (m->standby == NULL)
		return;
	coffer_standby_stop_all(m->standby);
}

void
mgr_standby_free(struct mgr *m)
{
	coffer_standby_free(m->standby);
	m->standby = NULL;
}

/* The names the assignment sets from the cold replica's arguments
 * rather than its environment (which may hold some of them: COFFER_APP is
 * the app's name there, its path here); a name goes once. */
static const char *const own[] = {
	"COFFER_APP", "COFFER_EXIT_WHEN_DONE", "COFFER_LOG_FILE", "COFFER_PARAMS",
	"COFFER_REDUCE_KEY", "COFFER_AFTER_DRAIN", NULL,
};

static int
put_line(struct coffer_buf *b, const char *name, const char *value)
{
	/* A line per name: a value with a line break cannot be sent. */
	if (strchr(value, '\n') != NULL || strchr(value, '\r') != NULL)
		return coffer_errf(COFFER_E_FORMAT, "%s has a line break", name);
	return coffer_buf_putf(b, "%s=%s\n", name, value);
}

/* "k=v&k2=v2" with every byte outside [A-Za-z0-9._-] as %XX: the worker's
 * COFFER_PARAMS (doc/worker.md section 2). */
static int
put_pct(struct coffer_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && r == 0; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')
			r = coffer_buf_put(b, p, 1);
		else
			r = coffer_buf_putf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	return r;
}

/*
 * The assignment of a replica of j (doc/worker.md 2.2): the environment
 * a cold replica gets, and what a cold one gets as arguments: the item
 * workers' --exit-when-done, the reduce replica's --reduce KEY and
 * --after-drain (a plaintext job's only, doc/manager.md 9.4).
 */
static int
assignment(struct mgr *m, struct mgr_job *j, int reduce, char *const *env,
    struct coffer_buf *b)
{
	char app[4096];
	int r;

	/* The whole environment a cold replica gets from the manager: the
	 * worker ignores names it does not read and takes the assignment's
	 * values over its own (doc/worker.md 2.2), so a standby replica is
	 * configured exactly as a cold one. */
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		size_t n = strcspn(env[i], "=");
		int skip = env[i][n] != '=';
		char name[128];

		for (size_t k = 0; own[k] != NULL && !skip; k++)
			skip = strlen(own[k]) == n && strncmp(env[i], own[k], n) == 0;
		if (skip)
			continue;
		if (n >= sizeof(name))
			return coffer_errf(COFFER_E_FORMAT, "a variable name of %zu "
			    "bytes", n);
		memcpy(name, env[i], n);
		name[n] = '\0';
		if ((r = put_line(b, name, env[i] + n + 1)) != 0)
			return r;
	}
	if ((r = mgr_app_resolve(m, j->spec.app, app, sizeof(app))) != 0 ||
	    (r = put_line(b, "COFFER_APP", app)) != 0 ||
	    (r = (reduce ? put_line(b, "COFFER_REDUCE_KEY", j->spec.reduce) :
	    put_line(b, "COFFER_EXIT_WHEN_DONE", "1"))) != 0 ||
	    (reduce && (r = put_line(b, "COFFER_AFTER_DRAIN", "1")) != 0) ||
	    (r = put_line(b, "COFFER_LOG_FILE", j->log_path)) != 0)
		return r;
	/* A confidential job's parameters come from the coordinator only
	 * (doc/worker.md 9.3), as for a cold replica. */
	if (j->spec.tee_policy == NULL && j->spec.napp_params > 0) {
		if ((r = coffer_buf_puts(b, "COFFER_PARAMS=")) != 0)
			return r;
		for (size_t i = 0; i < j->spec.napp_params; i++)
			if ((i > 0 && (r = coffer_buf_puts(b, "&")) != 0) ||
			    (r = put_pct(b, j->spec.app_params[i].key)) != 0 ||
			    (r = coffer_buf_puts(b, "=")) != 0 ||
			    (r = put_pct(b, j->spec.app_params[i].value)) != 0)
				return r;
		if ((r = coffer_buf_puts(b, "\n")) != 0)
			return r;
	}
	return coffer_buf_puts(b, "\n");
}

int
mgr_standby_use(struct mgr *m, struct mgr_job *j, int reduce,
    char *const *env, struct coffer_actuator *act)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_STANDBY_ASSIGNMENT_MAX);
	char kind[COFFER_STANDBY_KIND_MAX + 1];
	int r = 0;

	/* What a standby worker cannot be told in its assignment stays cold:
	 * a job's own command (not coffer-worker), an Asperathos-layout
	 * queue, a confidential job's reduce replica (a confidential standby
	 * serves items only, doc/worker.md 9.9). A job's own env goes in the
	 * assignment: the worker puts the names COFFER_APP_ENV lists in its
	 * environment for the app; a plaintext reduce replica's --reduce KEY
	 * and --after-drain are COFFER_REDUCE_KEY and COFFER_AFTER_DRAIN
	 * there (doc/worker.md 2.2). */
	if (m->standby == NULL || j->spec.cmd != NULL || j->spec.app == NULL ||
	    j->spec.queue_layout != MGR_QUEUE_COFFER ||
	    (reduce && (j->spec.reduce == NULL || j->spec.tee_policy != NULL)))
		return 0;
	if (j->spec.tee_policy != NULL) {
		if (j->spec.tee_backend == NULL || j->spec.coordinator == NULL)
			return 0;
		conf_kind(j->spec.tee_backend, j->spec.coordinator, kind,
		    sizeof(kind));
	} else {
		snprintf(kind, sizeof(kind), "plaintext");
	}
	if ((r = assignment(m, j, reduce, env, &b)) != 0 ||
	    (r = coffer_actuator_local_standby(act, m->standby, kind,
	    coffer_buf_str(&b))) != 0) {
		/* Not the job's failure: its replicas start cold. */
		coffer_logkv(COFFER_LOG_WARN, "no standby workers for this job; "
		    "its replicas start cold", "job", j->id, "error",
		    coffer_errdetail(), NULL);
		coffer_errclear();
		r = 0;
	}
	coffer_buf_release(&b);
	return r;
}

/* GET /v1/standby (doc/api.md): the pool's kinds and workers. */
void
api_standby(struct http_req *r)
{
	struct mgr *m = r->ctx;
	struct coffer_standby_worker *w = NULL;
	size_t nw = 0;
	json_t *kinds, *o;
	int e;

	if (m->standby == NULL) {
		http_reply_json(r, 200, json_pack("{s:i, s:[]}", "per_kind", 0,
		    "kinds"));
		return;
	}
	if ((e = coffer_standby_workers(m->standby, &w, &nw)) != 0) {
		http_reply_coffer_err(r, e);
		return;
	}
	kinds = json_array();
	for (int i = 0; kinds != NULL && i < coffer_standby_kinds(m->standby); i++) {
		struct coffer_standby_status st;
		json_t *ws = json_array();

		coffer_standby_kind_status(m->standby, i, &st);
		for (size_t k = 0; ws != NULL && k < nw; k++)
			if (w[k].kind == i)
				json_array_append_new(ws, json_pack("{s:s, s:i, s:s, "
				    "s:o}", "replica", w[k].id, "pid", (int)w[k].pid,
				    "state", w[k].stopping ? "stopping" : "idle", "age_s",
				    http_json_real(w[k].age_s)));
		json_array_append_new(kinds, json_pack("{s:o, s:i, s:i, s:i, s:I, "
		    "s:I, s:I, s:I, s:i, s:o, s:o}", "kind", http_json_str(st.name),
		    "target", st.target, "idle", st.idle, "stopping", st.stopping,
		    "started", (json_int_t)st.started_total,
		    "taken", (json_int_t)st.taken_total,
		    "died", (json_int_t)st.died_total,
		    "recycled", (json_int_t)st.recycled_total,
		    "backoff_ms", st.backoff_ms,
		    "last_status", st.last_status >= 0 ? json_integer(st.last_status) :
		    json_null(), "workers", ws != NULL ? ws : json_array()));
	}
	free(w);
	o = json_pack("{s:i, s:o}", "per_kind", m->cfg.standby_replicas, "kinds",
	    kinds != NULL ? kinds : json_array());
	http_reply_json(r, 200, o);
}

int
mgr_standby_metrics(struct mgr *m, struct coffer_buf *b)
{
	static const struct {
		const char *name, *type, *help;
	} fams[] = {
		{ "coffer_standby_workers", "gauge", "Standby workers idle now (alive and not yet assigned), by kind." },
		{ "coffer_standby_target", "gauge", "Idle standby workers the pool keeps, by kind." },
		{ "coffer_standby_started_total", "counter", "Standby workers started, by kind." },
		{ "coffer_standby_taken_total", "counter", "Standby workers that became a job's replica, by kind." },
		{ "coffer_standby_died_total", "counter", "Standby workers that exited unasked while idle, by kind." },
		{ "coffer_standby_recycled_total", "counter", "Idle standby workers stopped for their age, by kind." },
	};
	int r;

	/* The families are there with no pool too (no samples): what the
	 * manager exports does not depend on its options (doc/manager.md). */
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		if ((r = http_metrics_family(b, fams[f].name, fams[f].type,
		    fams[f].help)) != 0)
			return r;
		for (int i = 0; m->standby != NULL &&
		    i < coffer_standby_kinds(m->standby); i++) {
			struct coffer_standby_status st;
			const char *l[] = { "kind", st.name, NULL };
			double v;

			coffer_standby_kind_status(m->standby, i, &st);
			v = f == 0 ? st.idle : f == 1 ? st.target : f == 2 ?
			    (double)st.started_total : f == 3 ? (double)st.taken_total :
			    f == 4 ? (double)st.died_total : (double)st.recycled_total;
			if ((r = http_metrics_sample(b, fams[f].name, l, v)) != 0)
				return r;
		}
	}
	return 0;
}
