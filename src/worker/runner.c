// SPDX-License-Identifier: Apache-2.0
// The runner: the child of coffer-worker that loads the app and runs the
// item loop (doc/worker.md sections 3 and 4.2). It shares what it is doing
// with its supervisor through the shared page and never renews a lease
// itself: the supervisor does, so an app that blocks this process cannot
// let the lease lapse, and one that crashes it loses nothing.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "queue/queue.h"
#include "store/store.h"
#include "worker/app.h"
#include "worker/confidential.h"
#include "worker/shared.h"
#include "worker/worker.h"

#define TAKE_WAIT_MS 1000
#define CONNECT_GIVE_UP_MS 60000

static volatile int stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (!stop_flag && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* "<strerror>: <detail>" of the last error. */
static void
last_error(int r, char *out, size_t outlen)
{
	const char *d = coffer_errdetail();

	snprintf(out, outlen, "%s%s%s", coffer_strerror(r), d[0] ? ": " : "", d);
}

static int
job_finished(struct coffer_queue *q)
{
	struct coffer_queue_stats s;

	/* The whole identity, nothing in flight or queued (queue.h): counts
	 * that do not add up never end the worker. */
	return coffer_queue_stats(q, &s) == 0 && coffer_queue_stats_finished(&s);
}

static int
serve(struct worker *w)
{
	struct coffer_queue_item held[WORKER_BATCH_MAX], next[WORKER_BATCH_MAX];
	int64_t last_reap = 0, last_warn = 0;
	int reap_every = w->cfg->lease_ms / 2 > 1000 ? w->cfg->lease_ms / 2 : 1000;
	int delay = 100;
	size_t have = 0, got = 0;

	memset(held, 0, sizeof(held));
	memset(next, 0, sizeof(next));
	/* Items already taken (by the previous batch's acks) are processed
	 * even if a stop came meanwhile: they are this worker's. */
	while (have > 0 || !stop_flag) {
		int r = 0;

		if (have == 0) {
			/* Nothing held: wait for one item (doc/worker.md 9.4:
			 * never for a whole batch). */
			r = coffer_queue_take(w->q, TAKE_WAIT_MS, &held[0]);
			have = r == 0;
			/* And whatever else is waiting now, up to a batch: a
			 * job's first batch is as full as the next ones. */
			if (r == 0 && w->cfg->batch > 1 && coffer_queue_ack_take(w->q,
			    NULL, 0, NULL, (size_t)w->cfg->batch - 1, held + 1,
			    &got) == 0)
				have += got;
		}
		if (r == 0) {
			delay = 100;
			(void)worker_batch(w, held, have, next, &got);
			for (size_t i = 0; i < have; i++)
				coffer_queue_item_release(&held[i]);
			memcpy(held, next, got * sizeof(*held));
			memset(next, 0, sizeof(next));
			have = got;
			continue;
		}
		if (r == COFFER_E_TIMEOUT) {
			/* Idle: help reap what crashed workers left behind. */
			if (coffer_mono_ms() - last_reap >= reap_every) {
				size_t moved = 0;

				last_reap = coffer_mono_ms();
				if (coffer_queue_reap(w->q, &moved) == 0 && moved > 0) {
					char m[32];

					snprintf(m, sizeof(m), "%zu", moved);
					coffer_logkv(COFFER_LOG_INFO, "reaper moved items",
					    "count", m, NULL);
				}
			}
			if (w->cfg->exit_when_done && job_finished(w->q)) {
				coffer_logkv(COFFER_LOG_INFO, "job finished", "job",
				    w->cfg->job, NULL);
				return 0;
			}
			continue;
		}
		if (r == COFFER_E_FORMAT) {
			coffer_logkv(COFFER_LOG_WARN, "item failed", "error",
			    coffer_errdetail(), "outcome", "dead", NULL);
			continue;
		}
		/* Redis away or refusing: keep trying, logging now and then. */
		if (coffer_mono_ms() - last_warn > 10000) {
			coffer_logkv(COFFER_LOG_WARN, "cannot take items, retrying",
			    "error", coffer_errdetail(), NULL);
			last_warn = coffer_mono_ms();
		}
		sleep_ms(delay);
		delay = delay < 2000 ? delay * 2 : 2000;
	}
	return 0;
}

struct reduce_ctx {
	struct worker *w;
	size_t prefixlen;
	const char *skip;
	int r;
	size_t n;
	char err[WORKER_ERR_MAX];
};

static int
reduce_one(const char *key, void *arg)
{
	struct reduce_ctx *rc = arg;
	struct coffer_buf b = COFFER_BUF_INIT(rc->w->cfg->max_item_bytes);
	int r;

	if (strcmp(key, rc->skip) == 0)
		return 0;
	if ((r = coffer_store_get(rc->w->out, key, rc->w->cfg->max_item_bytes, &b)) != 0) {
		snprintf(rc->err, sizeof(rc->err), "%s", coffer_errdetail());
	} else {
		r = app_reduce_add(rc->w->app, key + rc->prefixlen, b.data, b.len, NULL,
		    rc->err, sizeof(rc->err));
		rc->n++;
	}
	coffer_buf_release(&b);
	rc->r = r;
	return r;
}

/* --reduce KEY: every output (ascending key order) into the app's reduce
 * stage, the result into KEY of the output store. */
static int
reduce(struct worker *w)
{
	struct reduce_ctx rc;
	struct coffer_buf out = COFFER_BUF_INIT(w->cfg->max_item_bytes);
	int r;

	memset(&rc, 0, sizeof(rc));
	rc.w = w;
	rc.prefixlen = strlen(w->prefix);
	rc.skip = w->cfg->reduce_key;
	r = coffer_store_list(w->out, w->prefix, reduce_one, &rc);
	if (r != 0) {
		if (rc.r == 0)
			last_error(r, rc.err, sizeof(rc.err));
		fprintf(stderr, "coffer-worker: reduce: %s\n", rc.err);
		return RUNNER_EXIT_FAIL;
	}
	if ((r = app_reduce_finish(w->app, &out, NULL, rc.err, sizeof(rc.err))) != 0) {
		fprintf(stderr, "coffer-worker: reduce: %s\n", rc.err);
		coffer_buf_release(&out);
		return RUNNER_EXIT_FAIL;
	}
	r = coffer_store_put(w->out, w->cfg->reduce_key, out.data ? out.data :
	    (const uint8_t *)"", out.len);
	coffer_buf_release(&out);
	if (r != 0) {
		last_error(r, rc.err, sizeof(rc.err));
		fprintf(stderr, "coffer-worker: storing the reduce output: %s\n", rc.err);
		return RUNNER_EXIT_FAIL;
	}
	fprintf(stderr, "coffer-worker: reduced %zu outputs into %s\n", rc.n,
	    w->cfg->reduce_key);
	return RUNNER_EXIT_OK;
}

int
worker_open_queue(const struct worker_config *cfg, volatile int *stop,
    int own_only, struct coffer_queue **q)
{
	struct coffer_queue_opts o;
	int64_t end = coffer_mono_ms() + CONNECT_GIVE_UP_MS;
	int r, delay = 100, warned = 0;

	memset(&o, 0, sizeof(o));
	o.redis_url = cfg->redis_url;
	o.job = cfg->job;
	o.worker_id = cfg->worker_id;
	o.lease_ms = cfg->lease_ms;
	o.max_attempts = cfg->max_attempts;
	o.backoff_ms = cfg->backoff_ms;
	o.settle_own_only = own_only;
	for (;;) {
		struct timespec ts = { delay / 1000, (long)(delay % 1000) * 1000000L };

		if ((r = coffer_queue_open(&o, q)) == 0 || (r != COFFER_E_CONNECT &&
		    r != COFFER_E_BUSY) || coffer_mono_ms() > end || *stop)
			return r;
		if (!warned)
			coffer_logkv(COFFER_LOG_WARN, "Redis not reachable yet, retrying",
			    "error", coffer_errdetail(), NULL);
		warned = 1;
		nanosleep(&ts, NULL);
		delay = delay < 2000 ? delay * 2 : 2000;
	}
}

/* --reduce KEY of a confidential job (doc/worker.md 9.6). */
static int
reduce_confidential(struct worker *w)
{
	char err[WORKER_ERR_MAX], key[COFFER_STORE_KEY_MAX + 2];
	size_t n = 0;
	uint32_t app_error = 0;

	if (conf_reduce(w, &n, key, &app_error, err, sizeof(err)) != 0) {
		fprintf(stderr, "coffer-worker: reduce: %s\n", err);
		return RUNNER_EXIT_FAIL;
	}
	/* The stage has its committed result either way: another run would
	 * only prove it again (doc/worker.md 9.6). */
	if (app_error != 0)
		fprintf(stderr, "coffer-worker: reduce: %s\n", err);
	else
		fprintf(stderr, "coffer-worker: reduced %zu map outputs into %s"
		    " (proved)\n", n, key);
	return RUNNER_EXIT_OK;
}

static int
open_stores(struct worker *w, char *msg, size_t msglen)
{
	const struct worker_config *cfg = w->cfg;
	int r;

	if ((r = coffer_store_open(cfg->store, 0, &w->in)) != 0) {
		last_error(r, msg, msglen);
		return r;
	}
	if (cfg->outputs != NULL) {
		if ((r = coffer_store_open(cfg->outputs, 1, &w->out)) != 0) {
			last_error(r, msg, msglen);
			return r;
		}
	} else {
		w->out = w->in;
	}
	w->prefix = cfg->output_prefix ? cfg->output_prefix : cfg->outputs ? "" : "out/";
	return 0;
}

/* The CPU time this process has used, in microseconds. */
static int64_t
cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* What every runner does first. keep: a descriptor (3) to keep open
 * besides stdio, or -1. */
static void
runner_setup(int keep, int confidential)
{
	struct sigaction sa;
	sigset_t stops;

	/* Nothing of the supervisor's (its Redis connection) for the app. */
	closefrom(keep == 3 ? 4 : 3);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* A confidential job's keys will be in this process: no core file,
	 * and no ptrace or /proc/PID/mem by another process of this user
	 * (doc/worker.md 9.1). */
	if (confidential)
		(void)prctl(PR_SET_DUMPABLE, 0);
	/* doc/worker.md 5: SIGTERM, SIGINT or SIGHUP (a hang-up reaches the
	 * whole group) finish the items held, then stop. The supervisor
	 * forked with them blocked (its own handler must not run here). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	(void)sigprocmask(SIG_UNBLOCK, &stops, NULL);
}

static void runner_run(const struct worker_config *cfg,
    struct worker_shared *sh, int mode, int64_t t0, int warm,
    struct conf_standby *sb) __attribute__((noreturn));

void
runner_main(const struct worker_config *cfg, struct worker_shared *sh, int mode)
{
	int64_t t0 = coffer_mono_ms();
	int warm = mode == RUNNER_WARM;

	/* A standby worker's first runner is ready when its assignment
	 * came (doc/worker.md 2.2). */
	if (warm) {
		mode = RUNNER_SERVE;
		t0 = cfg->assigned_ms;
	}
	runner_setup(-1, WORKER_CONFIDENTIAL(cfg) && mode != RUNNER_CHECK);
	runner_run(cfg, sh, mode, t0, warm, NULL);
}

void
runner_standby_main(const struct worker_config *deploy,
    struct worker_shared *sh, int fd, int64_t t0)
{
	static struct worker_assign a;
	struct coffer_buf b = COFFER_BUF_INIT(WORKER_ASSIGN_MAX);
	struct worker_config *cfg = coffer_calloc(1, sizeof(*cfg));
	struct conf_standby *sb = NULL;
	char ms[24], cpu[24];
	int64_t ta;
	int r, closed = 0;

	runner_setup(fd, 1);
	if (cfg == NULL)
		_exit(RUNNER_EXIT_FAIL);
	/* doc/worker.md 9.9: everything of the start that needs no job. A
	 * coordinator that cannot be reached or refuses leaves the job a
	 * cold release (which then names what is wrong). */
	if (conf_standby_start(deploy, &stop_flag, &sb) != 0) {
		coffer_logkv(COFFER_LOG_WARN, "no standby session: the job will get"
		    " a cold release", "error", coffer_errdetail(), NULL);
		coffer_errclear();
	}
	snprintf(ms, sizeof(ms), "%lld", (long long)(coffer_mono_ms() - t0));
	snprintf(cpu, sizeof(cpu), "%lld", (long long)cpu_us());
	coffer_logkv(COFFER_LOG_INFO, "worker standby ready", "standby_ms", ms,
	    "cpu_us", cpu, "session", sb != NULL ? "1" : "0", NULL);
	/* The assignment as the supervisor checked it, with the worker id
	 * it chose; EOF: no job (the supervisor is leaving). */
	r = worker_assign_read(fd, NULL, &b, &closed);
	ta = coffer_mono_ms();
	close(fd);
	if (r != 0 || closed || worker_assign_parse((const char *)b.data, b.len,
	    &a) != 0) {
		conf_standby_free(sb);
		coffer_buf_release(&b);
		_exit(RUNNER_EXIT_OK);
	}
	coffer_buf_release(&b);
	if (standby_log_file(&a) != 0 || standby_config(&a, cfg) != 0) {
		shared_state(sh, RUNNER_FAILED, NULL, coffer_errdetail());
		conf_standby_free(sb);
		_exit(RUNNER_EXIT_FAIL);
	}
	cfg->assigned_ms = ta;
	runner_run(cfg, sh, RUNNER_SERVE, ta, 1, sb);
}

static void
runner_run(const struct worker_config *cfg, struct worker_shared *sh, int mode,
    int64_t t0, int warm, struct conf_standby *sb)
{
	struct worker w;
	struct app_info info;
	struct coffer_queue_counters qc;
	char msg[1024], n1[32], n2[32], n3[32], n4[32], ready[24], attest[24],
	    cpu[24], acpu[24];
	int64_t ta = 0, tac = 0, c0 = warm ? cpu_us() : 0;
	struct apphost *host = NULL;
	int r, rc = RUNNER_EXIT_OK, app_fd = -1;

	memset(&w, 0, sizeof(w));
	w.cfg = cfg;
	w.stop = &stop_flag;
	w.sh = sh;
	/* Plaintext passes through these: wiped between items and at exit. */
	worker_bufs_init(&w, cfg->max_item_bytes);
	if (mode != RUNNER_CHECK && open_stores(&w, msg, sizeof(msg)) != 0) {
		shared_state(sh, RUNNER_FAILED, NULL, msg);
		rc = RUNNER_EXIT_NOAPP;
		goto out;
	}
	if (WORKER_CONFIDENTIAL(cfg) && mode != RUNNER_CHECK) {
		/* The coordinator, the keys, the policy (doc/worker.md 9.3);
		 * then the app, from the file whose hash was checked, with the
		 * release's parameters, in a process with no key. A plugin's
		 * host process starts first, while this one attests: it loads
		 * nothing before its parameters, which are sent only once the
		 * file's hash is checked (W6), and it never holds a key. */
		if (cfg->app_kind == APP_KIND_PLUGIN &&
		    (app_fd = open(cfg->app, O_RDONLY | O_CLOEXEC)) >= 0 &&
		    apphost_spawn(cfg, app_fd, &host) != 0)
			coffer_errclear(); /* started later, as for a crash */
		ta = coffer_mono_ms();
		tac = cpu_us();
		r = conf_job_start(cfg, app_fd, &stop_flag, &sb, &w.job);
		ta = coffer_mono_ms() - ta;
		tac = cpu_us() - tac;
		if (r != 0 && conf_job_over(r, coffer_errdetail())) {
			/* Closed already (every item committed, perhaps by a
			 * worker killed before its acks): nothing to do here. */
			coffer_logkv(COFFER_LOG_ERROR, "this worker stops", "job",
			    cfg->job, "reason", coffer_errdetail(), NULL);
			goto out;
		}
		if (r != 0) {
			/* Named as the refusal it is, not as the error class
			 * ("authentication failed" says nothing of W6). */
			if (conf_refused_for_good(r, coffer_errdetail())) {
				snprintf(msg, sizeof(msg), "refused for good: %s",
				    coffer_errdetail());
				rc = RUNNER_EXIT_REFUSED;
			} else {
				last_error(r, msg, sizeof(msg));
				rc = RUNNER_EXIT_NOKEYS;
			}
			shared_state(sh, RUNNER_FAILED, NULL, msg);
			goto out;
		}
		w.job->stop = &stop_flag;
		if (cfg->nparams > 0)
			coffer_logkv(COFFER_LOG_WARN, "a confidential job's parameters"
			    " come from the coordinator; --param and COFFER_PARAMS are"
			    " ignored", NULL);
		r = app_open_isolated(cfg, w.job->app_fd, host, w.job->params,
		    w.job->nparams, &w.app, &info);
		host = NULL;
		/* A big output the host passes in a memfd is sealed from it,
		 * never copied whole (doc/worker.md 9.5 HF4). */
		if (r == 0)
			app_keep_fd(w.app, 1);
	} else {
		r = app_open(cfg, &w.app, &info);
	}
	if (r != 0) {
		last_error(r, msg, sizeof(msg));
		shared_state(sh, RUNNER_FAILED, NULL, msg);
		rc = RUNNER_EXIT_NOAPP;
		goto out;
	}
	if (mode == RUNNER_CHECK) {
		shared_state(sh, RUNNER_READY, &info, NULL);
		goto out;
	}
	if (mode == RUNNER_REDUCE) {
		shared_state(sh, RUNNER_READY, &info, NULL);
		rc = w.job != NULL ? reduce_confidential(&w) : reduce(&w);
		goto out;
	}
	if ((r = worker_open_queue(cfg, &stop_flag, 0, &w.q)) != 0) {
		last_error(r, msg, sizeof(msg));
		shared_state(sh, RUNNER_FAILED, &info, msg);
		rc = RUNNER_EXIT_NOREDIS;
		goto out;
	}
	shared_state(sh, RUNNER_READY, &info, NULL);
	/* Take nothing before the supervisor can renew and record for us. */
	if (!shared_wait_go(sh)) {
		rc = RUNNER_EXIT_FAIL;
		goto out;
	}
	/* What a job pays once per worker (BENCHMARKS.md): from here to
	 * ready, of which the attestation and key release; wall time and
	 * this process's CPU time (a forked child's starts at zero), which
	 * a busy machine disturbs less. */
	snprintf(ready, sizeof(ready), "%lld", (long long)(coffer_mono_ms() - t0));
	snprintf(cpu, sizeof(cpu), "%lld", (long long)(cpu_us() - c0));
	/* A confidential standby worker is warm if its session was bound
	 * (a fallback to a cold release is not). */
	if (w.job != NULL && !w.job->warm)
		warm = 0;
	snprintf(attest, sizeof(attest), "%lld", (long long)ta);
	snprintf(acpu, sizeof(acpu), "%lld", (long long)tac);
	coffer_logkv(COFFER_LOG_INFO, "worker started", "job", cfg->job, "worker",
	    cfg->worker_id, "app", info.name, "kind",
	    info.kind == APP_KIND_PLUGIN ? "plugin" : "exec", "ready_ms", ready,
	    "cpu_us", cpu, "warm", warm ? "1" : "0",
	    w.job != NULL ? "attest_ms" : NULL, attest, "attest_cpu_us", acpu,
	    NULL);
	rc = serve(&w);
	if (w.job != NULL && w.job->stopped[0] != '\0')
		coffer_logkv(COFFER_LOG_ERROR, "this worker stops", "job", cfg->job,
		    "reason", w.job->stopped, NULL);
	coffer_queue_counters(w.q, &qc);
	snprintf(n1, sizeof(n1), "%llu", (unsigned long long)w.items_done);
	snprintf(n2, sizeof(n2), "%llu", (unsigned long long)w.items_failed);
	snprintf(n3, sizeof(n3), "%llu", (unsigned long long)qc.round_trips);
	snprintf(n4, sizeof(n4), "%llu", (unsigned long long)qc.requests);
	coffer_logkv(COFFER_LOG_INFO, "worker exiting", "worker", cfg->worker_id,
	    "done", n1, "failed", n2, "round_trips", n3, "requests", n4, NULL);
out:
	/* Say so before anything of the app's runs again (its fini): an exit
	 * status 0 counts only with this (doc/worker.md 4.2). */
	if (rc == RUNNER_EXIT_OK)
		shared_state(sh, RUNNER_DONE, NULL, NULL);
	worker_bufs_release(&w);
	app_close(w.app);
	apphost_stop(host);  /* a start that failed before the app */
	conf_job_free(w.job);
	conf_standby_free(sb);  /* not started (a plaintext job) */
	if (app_fd >= 0)
		close(app_fd);
	coffer_queue_close(w.q);
	if (w.out != w.in)
		coffer_store_free(w.out);
	coffer_store_free(w.in);
	fflush(NULL);
	exit(rc);
}
