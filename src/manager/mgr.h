/* SPDX-License-Identifier: Apache-2.0 */
/* The manager daemon's inside: its configuration, the jobs it runs, and the
 * operations the HTTP handlers call. One thread, one libevent loop: the
 * handlers and the monitor tick never run at the same time. */
#ifndef COFFER_MANAGER_MGR_H
#define COFFER_MANAGER_MGR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "actuator/actuator.h"
#include "lib/buf.h"
#include "coffer/controller.h"
#include "manager/db.h"
#include "http/http.h"
#include "manager/jobspec.h"
#include "manager/jobstate.h"
#include "manager/monitor.h"

#define MGR_BODY_JOB ((size_t)1 << 20)    /* job submissions */
#define MGR_BODY_SMALL ((size_t)64 << 10) /* stop/delete (Asperathos sends
                                              credentials in them) */
#define MGR_TIMELINE_MAX 20000            /* samples kept per job */
#define MGR_WAIT_MAX_S 600                /* GET /v1/jobs/{id}?wait_s= */
#define MGR_DRAIN_MS 2000                 /* at a stop, to write the replies
                                             given (http_server_drain) */
#define MGR_WAITERS_MAX 1024              /* such requests held at once */
#define MGR_ACTUATOR_OPTS_MAX 32          /* --actuator-opt */

struct mgr_config {
	const char *db_path;     /* the job store (SQLite) */
	const char *listen;      /* "127.0.0.1:8080"; port 0 picks one */
	const char *tls_cert;    /* PEM; NULL: plain HTTP */
	const char *tls_key;
	const char *redis_url;   /* the queue server of native jobs */
	const char *asperathos_redis_url; /* of Asperathos jobs; NULL: redis_url */
	const char *store;       /* default object store location */
	const char *worker;      /* coffer-worker path */
	const char *apps_dir;    /* where apps are found by name; NULL: none */
	const char *actuator;    /* "local", "slurm", "kubernetes" */
	char *const *actuator_opts; /* "key=value", NULL-terminated; may be
	                            NULL (doc/manager.md section 5) */
	const char *log_dir;     /* replicas' logs, one file per job */
	const char *ready_file;  /* written with the URL once listening */
	struct http_server_opts http; /* limits only: max_conns,
	                          max_conns_per_client, header/body timeouts */
	int asperathos_open;     /* the /submissions routes need no token
	                            (loopback only; Asperathos clients send
	                            none) */
	/* Confidential jobs (doc/manager.md section 9); NULL: none. */
	const char *coordinator; /* default tee.coordinator of a job */
	const char *tee_backend; /* default tee.backend of a job */
	const char *measured_config; /* the workers' measured configuration
	                            (doc/worker.md 9.2), an absolute path */
	const char *tee_collateral; /* collateral for the coordinator's
	                            evidence, given to workers */
	int tick_ms;             /* monitor tick; default 500 */
	int grace_ms;            /* replica SIGTERM to SIGKILL; default 10000 */
	int coordinator_timeout_ms; /* one answer of a coordinator; default
	                            10000 (doc/manager.md 9.2) */
	int standby_replicas;    /* idle standby workers kept per kind (local
	                            actuator, doc/manager.md 5.4); 0: none */
};

struct coffer_standby;
struct mgr_approvals;
struct mgr_conf_call;
struct mgr_conf_watch;
struct mgr_conf_prep;
struct mgr_drain;
struct mgr_waiter;

/* A job the manager knows, whatever its state. */
struct mgr_job {
	char id[65];
	char kind[16];              /* "native" or "asperathos" */
	enum mgr_state state;
	char *reason;
	struct mgr_jobspec spec;
	json_t *notes;              /* {"ignored": [...], "stored": [...]} */
	char *redis_url;
	int64_t submitted_ms;
	int64_t started_ms;
	int64_t finished_ms;
	int loaded;
	int64_t total;              /* items loaded; -1 before */

	/* Runtime, while pending or running. */
	struct coffer_queue *q;
	struct coffer_actuator *act;
	struct coffer_actuator *ract; /* the reduce replica started before the
	                               drain (doc/manager.md 9.4), or NULL */
	const struct coffer_controller *ctl;
	void *ctl_state;
	void *ctl_dl;
	struct mgr_monitor mon;
	struct mgr_sample last;     /* the latest sample (also when finished) */
	int have_last;
	int64_t sample_seq;
	int64_t sample_count;
	int64_t decision_seq;
	double next_sample_t;
	double next_decide_t;
	int desired;
	double t_base_s;            /* elapsed seconds when mono0_ms was taken */
	int64_t mono0_ms;
	int queue_errors;           /* consecutive failed or inconsistent reads */
	int64_t reap_next_ms;       /* no lease reaping before (monotonic) */
	int counts_fresh;           /* the queue's counts were read in this
	                               incarnation and the last reads worked:
	                               else the API says they are unknown */
	struct mgr_busy *busy;      /* workers holding items (busy.c) */
	size_t nbusy;
	int busy_known;             /* busy was read at least once */
	int64_t crashed_seen;
	int64_t refusal_checked;    /* crashes whose log was read for a refusal */
	struct mgr_drain *drain;    /* the queue's drain signal (drain.c) */
	int64_t drain_signal_ms;    /* when it last woke the job
	                               (monotonic), 0 before */
	int drain_seen;             /* the tick saw the drain (logged once) */
	char late_warning[256];     /* the measured item time says the
	                               deadline cannot be met ("" if not) */
	/* After the queue drains (tick.c; doc/manager.md section 9): the
	 * reduce stage, then, for a confidential job, its close at the
	 * coordinator. Not stored: a restarted manager finds out again. */
	int stage;                  /* enum mgr_stage */
	int reduce_failed;          /* the reduce replica kept failing */
	int64_t reduce_crash_base;  /* its crashes before the drain (not counted) */
	int reduce_early_failed;    /* it could not start early: after the drain */
	char conf_outcome[16];      /* the coordinator's outcome once closed */
	char conf_reason[160];      /* and its reason name, if failed */
	int64_t conf_retry_ms;      /* no coordinator call before (monotonic) */
	int conf_there;             /* the coordinator's job, as last answered
	                               after the drain: enum mgr_conf_there */
	struct mgr_conf_call *conf_call; /* its request on the event loop (conf.c) */
	struct mgr_conf_watch *conf_watch; /* its held GET /v1/jobs/{job}?wait=S
	                               (conf.c, doc/manager.md 9.4) */
	int64_t conf_closed_ms;     /* when that said the job is closed there
	                               (monotonic), 0 before */
	char act_error[200];        /* the actuators' last error, "" if none */
	int64_t warm_base;          /* replicas taken from the standby pool by
	                               actuators already drained */
	struct mgr_approvals *approvals; /* a confidential job's, as its
	                               coordinator reports them (approvals.c) */
	char log_path[512];
};

/* Where a job whose queue has drained stands. */
enum mgr_stage {
	MGR_STAGE_MAP = 0,      /* items (the queue) */
	MGR_STAGE_REDUCE = 1,   /* the reduce replica runs */
	MGR_STAGE_CLOSE = 2,    /* closing at the coordinator, then finishing */
};

/* A drained confidential job at its coordinator (GET /v1/jobs/{job}). */
enum mgr_conf_there {
	MGR_CONF_UNKNOWN = 0,   /* not asked yet */
	MGR_CONF_OPEN = 1,      /* open (its map stage may be closed) */
	MGR_CONF_CLOSED = 2,    /* closed */
};

/* A job's actuator whose replicas are being stopped (SIGTERM, then
 * SIGKILL after the grace period); freed when they have all exited. */
struct mgr_draining {
	struct coffer_actuator *act;
	char job[65];               /* whose replicas */
};

/* A replica of a previous incarnation, being stopped. */
struct mgr_orphan {
	pid_t pid;
	int64_t deadline_ms;        /* SIGKILL after this (monotonic) */
};

struct mgr {
	struct mgr_config cfg;
	char db_abs[4096];          /* absolute store path, marks our replicas */
	char incarnation[33];       /* random per start */
	int lock_fd;                /* flock on "<store>.lock" */
	struct event_base *base;
	struct http_server *http;
	struct http_route *routes;  /* a copy of mgr_routes when some rows
	                               change (asperathos_open) */
	struct mgr_db *db;
	struct event *tick_ev;      /* the periodic tick (cfg.tick_ms) */
	struct event *tick_soon_ev; /* one tick now (mgr_tick_soon) */
	struct event *child_ev;     /* SIGCHLD: a local replica exited */
	int child_exited;           /* a SIGCHLD since the last tick */
	int tick_periodic;          /* the tick running is the periodic one */
	uint64_t ticks;             /* ticks run since the start */
	struct event *sig_ev[2];
	struct mgr_job **jobs;
	size_t njobs;
	struct mgr_draining *draining; /* stopped jobs' actuators */
	size_t ndraining;
	struct mgr_orphan *orphans;
	size_t norphans;
	struct mgr_conf_prep *conf_preps; /* confidential submissions' requests
	                               in flight (conf.c) */
	struct mgr_waiter *waiters; /* held GET /v1/jobs/{id}?wait_s=N
	                               (waiters.c) */
	struct coffer_standby *standby; /* the standby pool, or NULL (standby.c) */
	int64_t start_ms;
	int stopping;
	uint64_t decisions_total;
};

/* Run the daemon until SIGINT or SIGTERM. Returns 0 or an error code from
 * start-up (store, listen address, TLS). */
int mgr_run(const struct mgr_config *cfg) __attribute__((warn_unused_result));

/* The tick's events on m->base: the periodic one, every cfg.tick_ms, the
 * one-shot of mgr_tick_soon, and that one again at each SIGCHLD (a local
 * replica exited). mgr_ticks_stop frees them (also after a failed start). */
int mgr_ticks_start(struct mgr *m) __attribute__((warn_unused_result));
void mgr_ticks_stop(struct mgr *m);
/* Run the tick once, as soon as the loop is free, without moving the
 * periodic ticks; asked for again before it ran, it runs once. */
void mgr_tick_soon(struct mgr *m);
/* One tick ms milliseconds from now (or sooner, if one is asked for). */
void mgr_tick_after(struct mgr *m, int ms);

/* The route table (routes.c). */
extern const struct http_route mgr_routes[];
extern const size_t mgr_nroutes;

/* Jobs (job.c; the tick in tick.c, the view in job_json.c, replicas in
 * replicas.c). */
struct mgr_job *mgr_job_find(struct mgr *m, const char *id);
/*
 * Accept a job: check its controller parameters (create() errors become
 * COFFER_E_FORMAT naming the field under field_prefix), store it as
 * pending, and schedule its start. spec is moved into the job (zeroed);
 * notes is borrowed. *id gets the new id.
 */
int mgr_job_submit(struct mgr *m, const char *kind, struct mgr_jobspec *spec,
    json_t *notes, const char *field_prefix, char id[65])
	__attribute__((warn_unused_result));
/*
 * Check a parsed submission against what is outside it (submit.c): the
 * app's declared parameters and the reserved "coffer." names, input and
 * output prefixes that leave the store or match nothing. Appends
 * {"field", "message"} to errs for each; a deadline that item_time_estimate_s
 * says cannot be met goes to warnings (may be NULL). COFFER_E_FORMAT if it
 * added an error.
 */
int mgr_job_check(struct mgr *m, const struct mgr_jobspec *s,
    int64_t nitems_hint, json_t *errs, json_t *warnings);
/* COFFER_E_FORMAT "<field>: no built-in controller 'x' (did you mean
 * 'y'?)" for a controller name that is not a built-in's. */
int mgr_controller_unknown(const char *name, const char *field);
int mgr_job_stop(struct mgr *m, struct mgr_job *j, const char *why)
	__attribute__((warn_unused_result));
/* Delete a finished job with its queue keys; force: even when its queue
 * server cannot be reached (the keys, if any, stay; a warning is logged). */
int mgr_job_delete(struct mgr *m, struct mgr_job *j, int force)
	__attribute__((warn_unused_result));
/* The job as the API shows it; full adds the spec and notes. */
json_t *mgr_job_json(struct mgr *m, const struct mgr_job *j, int full);
/* Monitor, control and state changes of every job, once per tick. */
void mgr_jobs_tick(struct mgr *m);
/* Load the store's jobs and resume the unfinished ones (start-up). */
int mgr_jobs_load(struct mgr *m) __attribute__((warn_unused_result));
/* Stop every replica (shutdown); blocks up to the grace period. */
void mgr_jobs_shutdown(struct mgr *m);
/* The program coffer-worker runs for app: a path as it is, a name looked
 * up in the apps directory (NAME.so, then NAME). COFFER_E_FORMAT naming
 * the field "app" if there is none. */
int mgr_app_resolve(struct mgr *m, const char *app, char *out, size_t outlen)
	__attribute__((warn_unused_result));
/* Held requests (waiters.c, doc/manager.md 7.1). Defer r and answer it
 * with job j once j ends (or is deleted), or after wait_s seconds; in
 * the full form (full 1) or without the spec (0: ?view=status). */
int mgr_waiters_add(struct mgr *m, struct http_req *r, const struct mgr_job *j,
    int wait_s, int full) __attribute__((warn_unused_result));
/* Job id ended or was deleted: answer its held requests on the loop's
 * next turn. */
void mgr_waiters_wake(struct mgr *m, const char *id);
/* Answer every held request 503 (the manager stops). */
void mgr_waiters_shutdown(struct mgr *m);
/* Seconds since the job started (0 before). */
double mgr_job_elapsed(const struct mgr_job *j);

/* The actuator of cfg (backend.c): its backend, options and libcurl. */
void mgr_actuator_config(const struct mgr_config *cfg,
    struct coffer_actuator_config *out);

/* Replicas of earlier incarnations (orphans.c). */
int mgr_orphans_find(struct mgr *m) __attribute__((warn_unused_result));
void mgr_orphans_tick(struct mgr *m);

/* The standby pool (standby.c, doc/manager.md 5.4). start: make it if
 * cfg.standby_replicas > 0 and the actuator is local (it starts workers
 * on the next tick); stop: stop its workers (blocks up to the grace
 * period); free after the actuators that take from it. */
int mgr_standby_start(struct mgr *m) __attribute__((warn_unused_result));
void mgr_standby_tick(struct mgr *m);
void mgr_standby_stop(struct mgr *m);
void mgr_standby_free(struct mgr *m);
/* Let act (local) take j's map replicas from the pool when it can; a job
 * the pool cannot serve (the reduce replica, a command, the Asperathos
 * layout, another coordinator) starts cold. env is the cold
 * replica's. Returns 0: a failure here only means cold starts. */
int mgr_standby_use(struct mgr *m, struct mgr_job *j, int reduce,
    char *const *env, struct coffer_actuator *act);
/* The pool's families for /metrics (nothing without a pool). */
int mgr_standby_metrics(struct mgr *m, struct coffer_buf *b)
	__attribute__((warn_unused_result));

/* The /metrics text (metrics_render.c). */
int mgr_metrics_render(struct mgr *m, struct coffer_buf *b)
	__attribute__((warn_unused_result));

#endif
