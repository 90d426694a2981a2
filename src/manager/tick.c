// SPDX-License-Identifier: Apache-2.0
// The monitor tick (doc/manager.md sections 3 and 4): starting pending
// jobs (load the queue, create the controller, start the replicas), then
// for each running job reap, count, sample, decide and finish.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/json.h"
#include "lib/utf8.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/clock.h"
#include "manager/approvals.h"
#include "manager/conf.h"
#include "manager/job_int.h"
#include "http/jsonout.h"
#include "manager/mgr.h"
#include "manager/workload.h"
#include "queue/queue.h"

/* After this many consecutive failed queue reads, the reason says so. */
#define QUEUE_ERRORS_REPORT 3
/* Leases are reaped at most this often (doc/manager.md section 3): a
 * lease is 1 s at least, a retry's back-off too by default, and the reap
 * was a third of the manager's CPU at a 20 ms tick. */
#define REAP_EVERY_MS 250

/* ------------------------------------------------------------------ */
/* Starting */

static int
open_queue(struct mgr_job *j)
{
	struct coffer_queue_opts o;

	if (j->q != NULL)
		return 0;
	memset(&o, 0, sizeof(o));
	o.redis_url = j->redis_url;
	o.job = mgr_job_queue_name(j);
	o.lease_ms = j->spec.lease_ms;
	o.max_attempts = j->spec.max_attempts;
	o.connect_timeout_ms = 2000;
	o.layout = j->spec.queue_layout == MGR_QUEUE_ASPERATHOS ?
	    COFFER_QUEUE_LAYOUT_ASPERATHOS : COFFER_QUEUE_LAYOUT_COFFER;
	/* Asperathos consumers have no leases: an item that stays in
	 * job:processing for longer than a lease goes back to the queue. */
	o.stale_ms = o.layout == COFFER_QUEUE_LAYOUT_ASPERATHOS ?
	    j->spec.lease_ms : 0;
	/* The Asperathos keys are fixed: the load records whose they are
	 * (doc/queue.md 6.4). */
	o.owner = o.layout == COFFER_QUEUE_LAYOUT_ASPERATHOS ? j->id : NULL;
	return coffer_queue_open(&o, &j->q);
}

static int
transient(int r)
{
	return r == COFFER_E_CONNECT || r == COFFER_E_BUSY ||
	    r == COFFER_E_TIMEOUT;
}

/*
 * The queue already has keys for this job (the load answered EXISTS):
 * whose, and how far loaded? 0 to adopt them (*total set), 1 to load
 * again (they were deleted), or an error (the job fails with it).
 */
static int
existing_keys(struct mgr_job *j, int64_t *total)
{
	struct coffer_queue_meta meta;
	struct coffer_queue_stats st;
	int asp = j->spec.queue_layout == MGR_QUEUE_ASPERATHOS, r;

	if ((r = coffer_queue_meta(j->q, &meta)) != 0)
		return r;
	/* Asperathos keys are fixed names: they may be another job's, even
	 * a finished one's, whose items and counts would pass for ours. */
	if (asp && meta.owner[0] != '\0' && strcmp(meta.owner, j->id) != 0)
		return coffer_errf(COFFER_E_STATE, "the Asperathos queue keys "
		    "('job', 'job:processing', 'job:coffer') on this Redis server "
		    "belong to job %s: DELETE that job, then submit this one "
		    "again", meta.owner);
	if (asp && meta.owner[0] == '\0')
		return coffer_errf(COFFER_E_STATE, "the Asperathos queue keys "
		    "('job', 'job:processing') on this Redis server hold items no "
		    "Coffer job recorded as its own: delete them (DEL job "
		    "job:processing job:coffer job:coffer:seen), then submit this "
		    "job again");
	if (strcmp(meta.state, "loading") == 0) {
		/* An earlier incarnation of this manager died while loading
		 * this job. Replicas start only once the load is recorded, so
		 * nothing has used these keys: load them again from scratch.
		 * (Counting would not tell a partial load from a whole one in
		 * the Asperathos layout, where done = total - the rest.) */
		coffer_warn("job %s: the queue holds a partial load from an earlier"
		    " run (state loading): loading again", j->id);
		if ((r = coffer_queue_destroy(j->q)) != 0)
			return r;
		return 1;
	}
	if (strcmp(meta.state, "loaded") != 0)
		return coffer_errf(COFFER_E_STATE, "the queue's keys of this job "
		    "are not in a state Coffer writes (state '%s')", meta.state);
	/* Loaded whole by an earlier incarnation that died before recording
	 * so. The counts must still add up. */
	if ((r = coffer_queue_stats(j->q, &st)) != 0)
		return r;
	if (st.total != meta.total ||
	    st.total != st.done + st.failed + st.in_flight + st.queued)
		return coffer_errf(COFFER_E_STATE, "the queue's counts of this job "
		    "from an earlier run do not add up (total %lld, present %lld):"
		    " delete the job and submit it again", (long long)st.total,
		    (long long)(st.done + st.failed + st.in_flight + st.queued));
	coffer_warn("job %s: items were already in the queue", j->id);
	*total = st.total;
	return 0;
}

/* Items into the queue, once. 0, a transient error (retry later), or a
 * permanent one (the job fails). */
static int
load_items(struct mgr *m, struct mgr_job *j)
{
	struct mgr_workload w;
	int64_t total;
	int r, tries = 0;

	memset(&w, 0, sizeof(w));
	if (j->loaded)
		return 0;
	if ((r = mgr_workload_read(&j->spec, m->cfg.store, &w)) != 0)
		return r;
	total = (int64_t)w.n;
	do
		r = coffer_queue_load(j->q, (const char *const *)w.items, w.n);
	while (r == COFFER_E_EXISTS && tries++ == 0 &&
	    (r = existing_keys(j, &total)) == 1);
	mgr_workload_release(&w);
	if (r == COFFER_E_EXISTS)
		r = coffer_errf(COFFER_E_STATE, "the queue's keys of this job "
		    "came back while it was loaded again");
	if (r != 0)
		return r;
	if ((r = mgr_db_job_set_loaded(m->db, j->id, total)) != 0)
		return r;
	j->loaded = 1;
	j->total = total;
	return 0;
}

/* Queue, controller and actuator of a pending or resumed running job. */
static int
attach(struct mgr *m, struct mgr_job *j)
{
	int r;

	if ((r = open_queue(j)) != 0)
		return r;
	if ((r = load_items(m, j)) != 0)
		return r;
	if (j->ctl == NULL && (r = mgr_job_ctl_create(&j->spec, "controller.params",
	    &j->ctl, &j->ctl_state, &j->ctl_dl)) != 0)
		return r;
	if (j->act == NULL && (r = mgr_replicas_start(m, j)) != 0)
		return r;
	return 0;
}

static void tick_running(struct mgr *m, struct mgr_job *j);

static void
start_job(struct mgr *m, struct mgr_job *j)
{
	int r;

	if ((r = attach(m, j)) != 0) {
		if (transient(r)) {
			mgr_job_reason(j, "waiting for the queue: %s", coffer_errdetail());
			return;
		}
		mgr_job_fail(m, j, "cannot start: %s: %s", coffer_strerror(r),
		    coffer_errdetail());
		return;
	}
	mgr_monitor_init(&j->mon, 5);
	j->next_sample_t = 0;
	j->next_decide_t = j->spec.check_interval_s;
	if ((r = mgr_job_transition(m, j, MGR_EV_START, "running")) != 0) {
		coffer_error("job %s: %s: %s", j->id, coffer_strerror(r),
		    coffer_errdetail());
		return;
	}
	/* The first sample at t = 0, so the job shows its total at once. */
	tick_running(m, j);
}

/* ------------------------------------------------------------------ */
/* Root causes for reasons */

struct dead_first {
	char id[128];
	uint32_t attempts;
	char error[400];
};

static void
first_dead(const char *id, uint32_t attempts, const char *error, void *arg)
{
	struct dead_first *d = arg;

	if (d->id[0] != '\0')
		return;
	snprintf(d->id, sizeof(d->id), "%s", id);
	d->attempts = attempts;
	snprintf(d->error, sizeof(d->error), "%s", error != NULL ? error : "");
}

/* The last non-empty line of a replicas' log, printable ASCII only. */
static void
log_last_line(const char *path, char *out, size_t outlen)
{
	char buf[4096];
	ssize_t n;
	size_t end, start;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;

	out[0] = '\0';
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	n = pread(fd, buf, sizeof(buf) - 1, size > (off_t)sizeof(buf) - 1 ?
	    size - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	end = (size_t)n;
	while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == '\r' ||
	    buf[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	for (size_t i = start; i < end && outlen > 1; i++, outlen--) {
		char ch = buf[i];

		*out++ = ch >= 0x20 && ch < 0x7f ? ch : '?';
	}
	*out = '\0';
}

/* The last line of the log's tail that says a worker was refused for
 * good (coffer-worker exits 3 after it, doc/worker.md 9.3): what follows
 * the marker into out. 0 when there is none. */
#define REFUSED_MARK "coffer-worker: coordinator: refused for good: "

static int
log_refusal(const char *path, char *out, size_t outlen)
{
	char buf[8192], *p, *hit = NULL;
	ssize_t n;
	size_t i = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;

	out[0] = '\0';
	if (fd < 0)
		return 0;
	size = lseek(fd, 0, SEEK_END);
	n = pread(fd, buf, sizeof(buf) - 1, size > (off_t)sizeof(buf) - 1 ?
	    size - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, REFUSED_MARK)) != NULL; p++)
		if (p == buf || p[-1] == '\n')
			hit = p + strlen(REFUSED_MARK);
	if (hit == NULL)
		return 0;
	for (; hit[i] != '\0' && hit[i] != '\n' && i + 1 < outlen; i++)
		out[i] = hit[i] >= 0x20 && hit[i] < 0x7f ? hit[i] : '?';
	out[i] = '\0';
	return 1;
}

/* ------------------------------------------------------------------ */
/* After the queue drains: reduce stage, close, finish */

/* How often a coordinator that did not answer is asked again. */
#define CONF_RETRY_MS 2000
/* A reduce replica that fails this often fails the stage. */
#define REDUCE_MAX_CRASHES 3

static void
finish(struct mgr *m, struct mgr_job *j, const struct mgr_counts *c, double t)
{
	char why[400], tail[260] = "";
	int r, ok;

	if (j->spec.tee_policy != NULL)
		snprintf(tail, sizeof(tail), "; the coordinator closed job %s: %s%s%s "
		    "(its owners: coffer receipt fetch %s)", j->spec.tee_job,
		    j->conf_outcome, j->conf_reason[0] ? ", " : "", j->conf_reason,
		    j->spec.tee_job);
	ok = c->failed == 0 && !j->reduce_failed && (j->spec.tee_policy == NULL ||
	    strcmp(j->conf_outcome, "completed") == 0);
	if (ok) {
		/* Items still in the queue of a job the coordinator completed are
		 * executions of items it had already committed (an item that came
		 * back after a worker was killed between its proof and its ack). */
		const char *what = c->done + c->failed < c->total ? "every item has "
		    "its result at the coordinator" : "every item is done";

		if (t <= j->spec.expected_time_s)
			snprintf(why, sizeof(why), "%s; deadline met (%.1f s of %.0f s)%s",
			    what, t, j->spec.expected_time_s, tail);
		else
			snprintf(why, sizeof(why), "%s; deadline missed by %.1f s (%.1f s "
			    "of %.0f s)%s", what, t - j->spec.expected_time_s, t,
			    j->spec.expected_time_s, tail);
		if ((r = mgr_job_transition(m, j, MGR_EV_COMPLETE, why)) != 0)
			coffer_error("job %s: cannot record completion: %s", j->id,
			    coffer_errdetail());
		return;
	}
	if (c->done + c->failed < c->total) {
		mgr_job_fail(m, j, "%lld of %lld items have no result in the queue%s",
		    (long long)(c->total - c->done - c->failed), (long long)c->total,
		    tail);
		return;
	}
	if (c->failed > 0) {
		struct dead_first d;

		/* The root cause in the reason: the first dead letter's own
		 * error and attempt count (an item refused as bad input is
		 * buried on its first attempt). */
		memset(&d, 0, sizeof(d));
		if (coffer_queue_dead_letters(j->q, first_dead, &d) != 0 ||
		    d.id[0] == '\0')
			mgr_job_fail(m, j, "%lld of %lld items failed%s",
			    (long long)c->failed, (long long)c->total, tail);
		else
			mgr_job_fail(m, j, "%lld of %lld items failed; the first, %s, "
			    "after %u attempt%s: %s%s", (long long)c->failed,
			    (long long)c->total, d.id, d.attempts, d.attempts == 1 ?
			    "" : "s", d.error, tail);
		return;
	}
	if (j->reduce_failed) {
		char last[512];

		log_last_line(j->log_path, last, sizeof(last));
		mgr_job_fail(m, j, "the reduce stage failed: %s (log: %s)%s",
		    last[0] ? last : "no message", j->log_path, tail);
		return;
	}
	mgr_job_fail(m, j, "every item is done, but the job did not complete%s",
	    tail);
}

/* A call to the coordinator failed: say so, try again later. */
static void
conf_wait(struct mgr_job *j, const char *what)
{
	j->conf_retry_ms = coffer_mono_ms() + CONF_RETRY_MS;
	mgr_job_reason(j, "waiting for the coordinator to %s: %s", what,
	    coffer_errdetail());
	coffer_errclear();
}

/* Whether the job is closed at its coordinator, asked once in this drain
 * (j->conf_there): 1 when known, 0 while asked, -1 when
 * the request failed (asked again CONF_RETRY_MS later). */
static int
conf_known(struct mgr *m, struct mgr_job *j)
{
	struct mgr_conf_answer a;
	int r;

	if (j->conf_there != MGR_CONF_UNKNOWN)
		return 1;
	/* The watch saw it closed: nothing to ask (it never reopens). */
	if (j->conf_closed_ms != 0) {
		j->conf_there = MGR_CONF_CLOSED;
		return 1;
	}
	if ((r = mgr_conf_ask(m, j, MGR_CONF_ASK_CLOSED, &a)) == MGR_CONF_PENDING)
		return 0;
	if (r != 0) {
		conf_wait(j, "answer");
		return -1;
	}
	j->conf_there = a.closed ? MGR_CONF_CLOSED : MGR_CONF_OPEN;
	return 1;
}

/* The close at the coordinator (doc/manager.md 9.4 step 2): 1 once its
 * outcome is in j->conf_outcome (asked now, or known), 0 while asked, -1
 * when the request failed (asked again CONF_RETRY_MS later). */
static int
conf_close(struct mgr *m, struct mgr_job *j)
{
	struct mgr_conf_answer a;
	char ms[24];
	int r;

	if (j->conf_outcome[0] != '\0')
		return 1;
	if ((r = mgr_conf_ask(m, j, MGR_CONF_ASK_CLOSE, &a)) != 0) {
		if (r != MGR_CONF_PENDING) {
			conf_wait(j, "close the job");
			return -1;
		}
		return 0;
	}
	snprintf(ms, sizeof(ms), "%lld", (long long)a.ms);
	coffer_logkv(COFFER_LOG_INFO, "closed at the coordinator", "job", j->id,
	    "outcome", a.close.outcome, "ms", ms, NULL);
	snprintf(j->conf_outcome, sizeof(j->conf_outcome), "%s",
	    a.close.outcome);
	snprintf(j->conf_reason, sizeof(j->conf_reason), "%s", a.close.reason);
	return 1;
}

/* An early reduce replica may wait for the map stage about this long, or
 * as long as a replica's start-up when that is longer. */
#define REDUCE_EARLY_S 1.0

/*
 * Whether a job's reduce replica starts now, while its map stage runs
 * (doc/manager.md 9.4), so that its start (for a confidential job,
 * attestation and key release) overlaps the map stage's end instead of
 * following it. A plaintext job's waits for the queue's drain signal, which
 * the Asperathos layout has not: its jobs start it after the drain. When
 * the map work left is expected to take no longer than REDUCE_EARLY_S or
 * a replica's start-up, whichever is longer; with no item time measured
 * or estimated, when what is left is one wave (every item left is held,
 * or can be taken at once by the replicas asked for). What it costs: one
 * replica, idle until the map stage closes (about the map time left less
 * its own start-up: by this rule at most about that bound, or one item's
 * time when item times are unknown).
 */
static int
reduce_early(const struct mgr_job *j, const struct mgr_counts *c,
    const struct coffer_actuator_status *as)
{
	int64_t left = c->queued + c->in_flight, per = j->desired > 0 ?
	    j->desired : 1, waves = (left + per - 1) / per;
	double item = 0, var = 0, startup = j->mon.startup_s;

	if ((j->spec.tee_policy == NULL &&
	    j->spec.queue_layout != MGR_QUEUE_COFFER) || j->spec.reduce == NULL ||
	    j->ract != NULL || j->stage != MGR_STAGE_MAP || j->reduce_early_failed)
		return 0;
	mgr_monitor_item_time(c, &item, &var);
	if (item <= 0)
		item = j->spec.item_time_estimate_s;
	if (item <= 0)
		return waves <= 1;
	if (as->startups > 0 && as->startup_s > startup)
		startup = as->startup_s;
	return (double)waves * item <= (startup > REDUCE_EARLY_S ? startup :
	    REDUCE_EARLY_S);
}

/*
 * Every item is done or dead: the reduce stage, if the job has one (a
 * confidential job's map stage closed first when items are missing, so
 * that the reduce runs over the results there are), then the close at
 * the coordinator of a confidential job (its receipt), then the job's end
 * (doc/manager.md section 9). Each request to the coordinator runs on the
 * event loop (conf.c): a tick starts it, a later tick takes its answer;
 * meanwhile the job stays where it is. A failed one is asked again
 * CONF_RETRY_MS later. Nothing of it is stored, because the coordinator
 * and the queue say again where a restarted manager stands.
 */
static void
drained(struct mgr *m, struct mgr_job *j, const struct mgr_counts *c,
    const struct coffer_actuator_status *as, double t)
{
	struct mgr_conf_answer a;
	struct coffer_actuator_status rs;
	int conf = j->spec.tee_policy != NULL, r, done_early;

	if (conf && coffer_mono_ms() < j->conf_retry_ms)
		return;
	if (j->stage == MGR_STAGE_MAP && j->spec.reduce != NULL &&
	    (conf || c->failed == 0)) {
		/* A replica started early that is done (exit 0) proved the
		 * reduce stage's result, or was told the job is over: either
		 * way the close comes next, with nothing to ask before it. */
		memset(&rs, 0, sizeof(rs));
		if (j->ract != NULL)
			(void)coffer_actuator_status(j->ract, &rs);
		done_early = rs.completed_total > 0;
		if (conf && !done_early && conf_known(m, j) != 1)
			return;
		if (conf && !done_early && j->conf_there == MGR_CONF_OPEN &&
		    c->failed > 0 &&
		    (r = mgr_conf_ask(m, j, MGR_CONF_ASK_CLOSE_MAP, &a)) != 0) {
			if (r != MGR_CONF_PENDING) {
				/* Closed meanwhile (an owner)? Asked again. */
				j->conf_there = MGR_CONF_UNKNOWN;
				conf_wait(j, "close the map stage");
			}
			return;
		}
		/* A restarted manager finds the job closed when its reduce
		 * stage ended before the restart. */
		if (done_early || !conf || j->conf_there == MGR_CONF_OPEN) {
			int early = j->ract != NULL;

			if ((r = mgr_replicas_start_reduce(m, j)) != 0) {
				mgr_job_fail(m, j, "cannot start the reduce stage: %s: %s",
				    coffer_strerror(r), coffer_errdetail());
				return;
			}
			j->stage = MGR_STAGE_REDUCE;
			mgr_job_reason(j, "the reduce stage runs");
			coffer_logkv(COFFER_LOG_INFO, "reduce stage started", "job",
			    j->id, "key", j->spec.reduce, "early",
			    early ? "yes" : "no", NULL);
			if (!early)
				return;
			/* The replica started early may be done already: its
			 * actuator's status now, not a tick later. */
			memset(&rs, 0, sizeof(rs));
			(void)coffer_actuator_status(j->act, &rs);
			as = &rs;
		}
	}
	if (j->stage == MGR_STAGE_MAP) {
		/* No reduce stage to run (none, a plaintext job with failed
		 * items, or one the coordinator closed already): a replica
		 * started early has nothing to wait for. */
		mgr_replicas_drain_early(m, j);
		j->stage = MGR_STAGE_CLOSE;
	}
	if (j->stage == MGR_STAGE_REDUCE) {
		/* The job closed at the coordinator (the watch): its reduce
		 * proof is committed, or the job ended otherwise; either way
		 * the replica's exit is not waited for. */
		if (as->completed_total > 0 || (conf && j->conf_closed_ms != 0)) {
			/* Which read saw its exit: a tick after its SIGCHLD (a
			 * local replica), the periodic one, or another one asked
			 * for (the drain signal's, when it exited first). */
			if (as->completed_total > 0)
				coffer_logkv(COFFER_LOG_INFO, "the reduce replica "
				    "exited", "job", j->id, "seen_at",
				    m->child_exited ? "exit" : m->tick_periodic ?
				    "tick" : "wake", NULL);
			j->stage = MGR_STAGE_CLOSE;
		} else if (as->crashed_total - j->reduce_crash_base >=
		    REDUCE_MAX_CRASHES) {
			j->reduce_failed = 1;
			j->stage = MGR_STAGE_CLOSE;
		} else {
			return;
		}
		/* No new reduce replica; the actuator stays the job's (a NULL
		 * one would make the next tick start item workers again). */
		(void)coffer_actuator_set_replicas(j->act, 0);
	}
	if (conf && conf_close(m, j) != 1)
		return;
	finish(m, j, c, t);
}

/*
 * A replica of a confidential job exited 0 with items left in the queue:
 * the coordinator told it the job or its stage is over (doc/worker.md 9.4:
 * it closed the job at the last item's proof while an item it had already
 * committed came back to the queue, or failed it after a revocation). The
 * coordinator, not the queue, says whether work is left: a closed job ends
 * with its outcome; a job with a reduce stage goes on to it (its map stage
 * closed: the refusal was stage.closed). 1 if the job was handled here.
 */
static int
conf_over(struct mgr *m, struct mgr_job *j, const struct mgr_counts *c,
    const struct coffer_actuator_status *as, double t)
{
	int r;

	/* At most every CONF_RETRY_MS; meanwhile, and when the coordinator
	 * did not answer, the tick goes on as usual. While it is asked, the
	 * job waits for its word (no replica started again). */
	if (coffer_mono_ms() < j->conf_retry_ms || (r = conf_known(m, j)) < 0)
		return 0;
	if (r == 0)
		return 1;
	if (j->conf_there == MGR_CONF_OPEN && j->spec.reduce == NULL) {
		/* Not over there: the queue's items are work (the caller
		 * starts replicas again). Asked again later. */
		j->conf_there = MGR_CONF_UNKNOWN;
		j->conf_retry_ms = coffer_mono_ms() + CONF_RETRY_MS;
		return 0;
	}
	coffer_logkv(COFFER_LOG_INFO, "replicas were told the job is over with "
	    "items left in the queue", "job", j->id, "coordinator_job",
	    j->spec.tee_job, "closed", j->conf_there == MGR_CONF_CLOSED ?
	    "yes" : "no", NULL);
	if (j->conf_there == MGR_CONF_CLOSED) {
		/* Closed there: the close (which answers its outcome), then
		 * the end; no new replica meanwhile. */
		j->stage = MGR_STAGE_CLOSE;
		(void)coffer_actuator_set_replicas(j->act, 0);
	}
	/* Else the map stage is closed there: the reduce stage. */
	drained(m, j, c, as, t);
	return 1;
}

/* The last acks after the coordinator closed the job: waited for this
 * long, looked at every ACK_STEP_MS (doc/manager.md 9.4). */
#define ACK_GRACE_MS 100
#define ACK_STEP_MS 2

/*
 * The watch says the coordinator closed the job while its map stage still
 * has items in the queue: the close came with its last proof (or ended
 * the job otherwise), and the workers' last acks are on their way. The
 * close's outcome is asked now, while they land; the job ends with the
 * drain (drained(), its outcome known), or after ACK_GRACE_MS with what
 * the queue says then (finish(): every item has its result at the
 * coordinator). 1 if the job was handled here.
 */
static int
closed_first(struct mgr *m, struct mgr_job *j, const struct mgr_counts *c,
    const struct coffer_actuator_status *as, double t)
{
	int r;

	if (j->spec.tee_policy == NULL || j->conf_closed_ms == 0 ||
	    j->stage != MGR_STAGE_MAP || c->done + c->failed >= c->total ||
	    coffer_mono_ms() < j->conf_retry_ms)
		return 0;
	if ((r = conf_close(m, j)) != 1)
		return 1; /* asked (its answer runs a tick) or failed (retried) */
	if (coffer_mono_ms() - j->conf_closed_ms < ACK_GRACE_MS) {
		mgr_tick_after(m, ACK_STEP_MS);
		return 1;
	}
	j->conf_there = MGR_CONF_CLOSED;
	j->stage = MGR_STAGE_CLOSE;
	(void)coffer_actuator_set_replicas(j->act, 0);
	drained(m, j, c, as, t);
	return 1;
}

/* ------------------------------------------------------------------ */
/* The tick */

/* Update the monitor (every tick, so rates and the replica-second integral
 * are fine-grained) and, when persist is set, store the sample. */
static int
sample(struct mgr *m, struct mgr_job *j, double t, const struct mgr_counts *c,
    int running, int reduce, int persist)
{
	int r;

	mgr_monitor_update(&j->mon, t, j->spec.expected_time_s, c, running,
	    j->desired, reduce, &j->last);
	j->have_last = 1;
	if (!persist)
		return 0;
	j->sample_seq++;
	if ((r = mgr_db_sample_add(m->db, j->id, j->sample_seq, &j->last)) != 0)
		return r;
	if (++j->sample_count > MGR_TIMELINE_MAX) {
		int64_t seq = 0, count = 0;
		struct mgr_sample s;

		if ((r = mgr_db_samples_thin(m->db, j->id)) != 0 ||
		    (r = mgr_db_sample_last(m->db, j->id, &s, &seq, &count)) != 0)
			return r;
		j->sample_count = count;
	}
	return 0;
}

static json_t *
obs_json(const struct coffer_ctl_obs *o)
{
	/* http_json_real: a non-finite estimate becomes null instead of making
	 * json_pack fail and the decision lose its inputs. */
	return json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:i, "
	    "s:i, s:i, s:o, s:o, s:o, s:o, s:o}",
	    "now_s", http_json_real(o->now_s), "total", (json_int_t)o->total,
	    "done", (json_int_t)o->done, "failed", (json_int_t)o->failed,
	    "in_flight", (json_int_t)o->in_flight,
	    "queued", (json_int_t)o->queued, "progress", http_json_real(o->progress),
	    "time_progress", http_json_real(o->time_progress),
	    "error", http_json_real(o->error),
	    "replicas", o->replicas, "replicas_ready", o->replicas_ready,
	    "replicas_desired", o->replicas_desired,
	    "replica_seconds", http_json_real(o->replica_seconds),
	    "throughput", http_json_real(o->throughput),
	    "item_time_mean_s", http_json_real(o->item_time_mean_s),
	    "item_time_var_s2", http_json_real(o->item_time_var_s2),
	    "startup_s", http_json_real(o->startup_s));
}

static void
decide(struct mgr *m, struct mgr_job *j)
{
	struct coffer_ctl_obs obs;
	struct coffer_actuator_status as;
	struct coffer_ctl_decision dec;
	struct mgr_decision d;
	json_t *in = NULL;
	char *inputs = NULL;
	char from[16], to[16];
	int r, target, clamped, capped;

	mgr_monitor_obs(&j->mon, &j->last, &obs);
	/* Before any item is timed, the client's estimate is the best guess
	 * of an item's time a controller can have (doc/api.md section 3). */
	if (obs.item_time_mean_s <= 0 && j->spec.item_time_estimate_s > 0)
		obs.item_time_mean_s = j->spec.item_time_estimate_s;
	/* The start-up the backend measures (a Slurm job's wait in the queue,
	 * a pod's scheduling) when it is longer than the first replicas'
	 * start-up that the monitor saw (doc/manager.md section 3). */
	memset(&as, 0, sizeof(as));
	if (coffer_actuator_status(j->act, &as) == 0 && as.startups > 0 &&
	    as.startup_s > obs.startup_s)
		obs.startup_s = as.startup_s;
	memset(&dec, 0, sizeof(dec));
	r = j->ctl->decide(j->ctl_state, &obs, &dec);
	dec.reason[sizeof(dec.reason) - 1] = '\0';
	target = r == 0 ? dec.replicas : j->desired;
	memset(&d, 0, sizeof(d));
	d.t_s = obs.now_s;
	d.from = j->desired;
	d.decided = target;
	if (target < j->spec.min_replicas)
		target = j->spec.min_replicas;
	if (target > j->spec.max_replicas)
		target = j->spec.max_replicas;
	clamped = target;
	/* No replica beyond the work (doc/manager.md section 4, rule 2): a
	 * scale-up stops at the items left; a scale-down is the
	 * controller's. */
	capped = target = mgr_replicas_cap(j, clamped, j->desired);
	d.to = target;
	d.flags = dec.flags;
	d.rc = r;
	if (r != 0)
		snprintf(d.reason, sizeof(d.reason), "controller error %s (%s): keep %d",
		    coffer_strerror(r), dec.reason, j->desired);
	else
		snprintf(d.reason, sizeof(d.reason), "%s", dec.reason);
	if (capped < clamped) {
		size_t n = strlen(d.reason);

		snprintf(d.reason + n, sizeof(d.reason) - n, "; capped at %d: %lld "
		    "items left", capped, (long long)mgr_job_items_left(j));
	}
	/* A plugin's reason is untrusted text: keep logs and the store valid
	 * UTF-8. */
	coffer_utf8_sanitize(d.reason);
	if ((in = obs_json(&obs)) != NULL)
		inputs = mgr_json_text(in);
	d.inputs = inputs;
	if (target != j->desired) {
		if ((r = mgr_replicas_set(j, target, obs.now_s)) != 0) {
			coffer_warn("job %s: actuator: %s: %s", j->id,
			    coffer_strerror(r), coffer_errdetail());
			snprintf(d.reason + strlen(d.reason),
			    sizeof(d.reason) - strlen(d.reason),
			    " (actuator failed: %s)", coffer_strerror(r));
			d.to = j->desired;
		} else {
			j->desired = target;
		}
	}
	j->decision_seq++;
	m->decisions_total++;
	if ((r = mgr_db_decision_add(m->db, j->id, j->decision_seq, &d)) != 0)
		coffer_error("job %s: decision not stored: %s", j->id,
		    coffer_errdetail());
	snprintf(from, sizeof(from), "%d", d.from);
	snprintf(to, sizeof(to), "%d", d.to);
	coffer_logkv(COFFER_LOG_INFO, "decision", "job", j->id, "from", from,
	    "to", to, "reason", d.reason, NULL);
	json_decref(in);
	free(inputs);
}

/* The backend's complaint (a refused submission, an API server that
 * does not answer), in the log once and in the job's reason while it
 * lasts. */
static void
actuator_error(struct mgr_job *j, const struct coffer_actuator_status *as,
    const struct coffer_actuator_status *ras)
{
	char e[sizeof(j->act_error)];

	/* The item workers' actuator first; else the early reduce
	 * replica's (doc/manager.md 9.4), named as such. */
	if (as->error[0] != '\0')
		snprintf(e, sizeof(e), "%s", as->error);
	else if (ras->error[0] != '\0')
		snprintf(e, sizeof(e), "the reduce replica: %s", ras->error);
	else
		e[0] = '\0';
	if (strcmp(e, j->act_error) == 0)
		return;
	if (e[0] != '\0') {
		coffer_logkv(COFFER_LOG_WARN, "actuator", "job", j->id, "error",
		    e, NULL);
		mgr_job_reason(j, "running; the actuator says: %s", e);
	} else
		mgr_job_reason(j, "running");
	snprintf(j->act_error, sizeof(j->act_error), "%s", e);
}

static void
tick_running(struct mgr *m, struct mgr_job *j)
{
	struct coffer_queue_stats qs;
	struct coffer_actuator_status as, ras;
	struct mgr_counts c;
	size_t requeued = 0;
	double t = mgr_job_elapsed(j);
	int r, due_decide, persist;

	if (j->act == NULL || j->q == NULL || j->ctl == NULL) {
		if ((r = attach(m, j)) != 0) {
			if (!transient(r))
				mgr_job_fail(m, j, "cannot resume: %s: %s",
				    coffer_strerror(r), coffer_errdetail());
			else
				mgr_job_reason(j, "waiting for the queue: %s",
				    coffer_errdetail());
			return;
		}
	}
	/* The queue says when it drains (doc/manager.md section 3). */
	mgr_drain_watch(m, j);
	(void)coffer_actuator_tick(j->act);
	memset(&as, 0, sizeof(as));
	(void)coffer_actuator_status(j->act, &as);
	memset(&ras, 0, sizeof(ras));
	if (j->ract != NULL) {
		(void)coffer_actuator_tick(j->ract);
		(void)coffer_actuator_status(j->ract, &ras);
	}
	actuator_error(j, &as, &ras);
	/* The reap, when due, rides with the stats in one round trip
	 * (doc/queue.md 4.8a). */
	if (coffer_mono_ms() >= j->reap_next_ms) {
		j->reap_next_ms = coffer_mono_ms() + REAP_EVERY_MS;
		r = coffer_queue_reap_stats(j->q, &requeued, &qs);
	} else {
		r = coffer_queue_stats(j->q, &qs);
	}
	if (r != 0) {
		if (++j->queue_errors >= QUEUE_ERRORS_REPORT) {
			mgr_job_reason(j, "the queue does not answer: %s",
			    coffer_errdetail());
			j->counts_fresh = 0;
		}
		return;
	}
	/* Redis is not trusted to be sane: counts that do not add up, or a
	 * total other than what was loaded, are never taken for progress
	 * (garbage could otherwise "complete" a job). */
	if ((j->total >= 0 && qs.total != j->total) || qs.done < 0 ||
	    qs.failed < 0 || qs.in_flight < 0 || qs.queued < 0 ||
	    (j->spec.queue_layout == MGR_QUEUE_COFFER &&
	    qs.done + qs.failed + qs.in_flight + qs.queued != qs.total)) {
		if (++j->queue_errors == QUEUE_ERRORS_REPORT)
			coffer_warn("job %s: inconsistent queue counts (total %lld,"
			    " loaded %lld, done %lld, failed %lld, in flight %lld,"
			    " queued %lld)", j->id, (long long)qs.total,
			    (long long)j->total, (long long)qs.done,
			    (long long)qs.failed, (long long)qs.in_flight,
			    (long long)qs.queued);
		if (j->queue_errors >= QUEUE_ERRORS_REPORT) {
			mgr_job_reason(j, "the queue's counts are inconsistent (total "
			    "%lld, %lld loaded): waiting", (long long)qs.total,
			    (long long)j->total);
			j->counts_fresh = 0;
		}
		return;
	}
	if (j->queue_errors >= QUEUE_ERRORS_REPORT || !j->counts_fresh)
		mgr_job_reason(j, "running");
	j->queue_errors = 0;
	j->counts_fresh = 1;
	c.total = qs.total;
	c.done = qs.done;
	c.failed = qs.failed;
	c.in_flight = qs.in_flight;
	c.queued = qs.queued;
	c.timed = qs.timed;
	c.time_sum_s = qs.time_sum_s;
	c.time_sq_sum_s2 = qs.time_sq_sum_s2;

	/* Which read saw the drain: the one the queue's signal asked for
	 * (doc/queue.md 4.9), or a tick (the signal lost, or none sent: an
	 * Asperathos-layout job, a drain while the manager was down). */
	if (c.done + c.failed >= c.total && !j->drain_seen) {
		char ms[32] = "";

		j->drain_seen = 1;
		if (j->drain_signal_ms != 0)
			snprintf(ms, sizeof(ms), "%lld", (long long)(coffer_mono_ms() -
			    j->drain_signal_ms));
		coffer_logkv(COFFER_LOG_INFO, "the queue drained", "job", j->id,
		    "seen_at", j->drain_signal_ms != 0 ? "signal" : "tick",
		    j->drain_signal_ms != 0 ? "signal_ms" : NULL, ms, NULL);
	}
	due_decide = t >= j->next_decide_t;
	persist = t >= j->next_sample_t || due_decide ||
	    c.done + c.failed >= c.total;
	/* In the reduce stage j->act is the reduce replica (it holds no item,
	 * so it is not "ready"); before, j->ract is the one started early:
	 * both are paid for, so both count in replica_seconds (9.4). */
	if ((r = sample(m, j, t, &c, as.running,
	    ras.running + (j->stage == MGR_STAGE_REDUCE ? as.running : 0),
	    persist)) != 0)
		coffer_error("job %s: sample not stored: %s", j->id,
		    coffer_errdetail());
	if (persist) {
		double mean = 0, var = 0, left = (double)(c.total - c.done - c.failed),
		    need;

		j->next_sample_t = t + 1.0;
		/* Once items are timed: can the deadline still be met with every
		 * replica the job may have? A warning, in the job and in watch. */
		mgr_monitor_item_time(&c, &mean, &var);
		need = c.timed > 0 && j->spec.max_replicas > 0 ?
		    left * mean / j->spec.max_replicas : 0;
		if (c.timed > 0 && need > j->spec.expected_time_s - t && left > 0)
			snprintf(j->late_warning, sizeof(j->late_warning), "the deadline "
			    "cannot be met: %.0f items left x %.3g s (measured) / %d "
			    "replicas at most = %.0f s > %.0f s left", left, mean,
			    j->spec.max_replicas, need, j->spec.expected_time_s - t);
		else
			j->late_warning[0] = '\0';
	}
	/* Which replicas hold items, and since when: read with every stored
	 * sample (at most once a second), so a scale-down knows each busy
	 * replica's item age to within a second. A failure only costs the
	 * hint its ages. */
	if (persist && j->spec.queue_layout == MGR_QUEUE_COFFER &&
	    c.done + c.failed < c.total && mgr_busy_refresh(j, t) != 0)
		coffer_debug("job %s: busy workers not read: %s", j->id,
		    coffer_errdetail());
	/* A worker of a confidential job refused for good (an unapproved
	 * measurement or app build, a revoked policy): no restart changes
	 * that, so the job fails now, naming it (doc/manager.md 9.3). */
	if (j->spec.tee_policy != NULL &&
	    as.crashed_total + ras.crashed_total > j->refusal_checked) {
		char why[512];

		j->refusal_checked = as.crashed_total + ras.crashed_total;
		if (log_refusal(j->log_path, why, sizeof(why))) {
			mgr_job_fail(m, j, "a worker was refused for good: %s (log: %s)",
			    why, j->log_path);
			return;
		}
	}
	/* A confidential job's close is watched (doc/manager.md 9.4). */
	if (j->spec.tee_policy != NULL) {
		mgr_conf_watch(m, j);
		if (closed_first(m, j, &c, &as, t))
			return;
	}
	/* Past the map stage (the reduce replica, the close), only drained()
	 * acts: no controller decision and no item workers any more. */
	if (c.done + c.failed >= c.total || j->stage != MGR_STAGE_MAP) {
		drained(m, j, &c, &as, t);
		return;
	}
	if (j->spec.tee_policy != NULL && as.completed_total > 0 &&
	    conf_over(m, j, &c, &as, t))
		return;
	/* Items can come back to the queue after every replica has left:
	 * an Asperathos consumer that was killed mid-item, whose item the
	 * reaper returned once stale. The actuator starts no replicas after
	 * one has finished (a Kubernetes Job's completion rule), so start a
	 * fresh set: the queue, not the replicas, says whether work is left. */
	if (as.running == 0 && as.stopping == 0 && as.completed_total > 0 &&
	    c.queued > 0 && j->desired > 0) {
		char n[32];

		snprintf(n, sizeof(n), "%lld", (long long)c.queued);
		coffer_logkv(COFFER_LOG_WARN, "items are back in the queue after "
		    "the replicas finished: starting replicas again", "job", j->id,
		    "queued", n, NULL);
		mgr_replicas_drain(m, j);
		if ((r = mgr_replicas_start(m, j)) != 0) {
			mgr_job_fail(m, j, "cannot restart replicas: %s: %s",
			    coffer_strerror(r), coffer_errdetail());
			return;
		}
	}
	if (reduce_early(j, &c, &as)) {
		if ((r = mgr_replicas_start_reduce_early(m, j)) != 0) {
			/* Not fatal: the reduce stage starts after the drain. */
			j->reduce_early_failed = 1;
			mgr_replicas_drain_early(m, j);
			coffer_warn("job %s: the reduce replica could not start early:"
			    " %s: %s", j->id, coffer_strerror(r), coffer_errdetail());
			coffer_errclear();
		} else {
			coffer_logkv(COFFER_LOG_INFO, "reduce replica started early",
			    "job", j->id, NULL);
		}
	}
	if (due_decide) {
		decide(m, j);
		j->next_decide_t += j->spec.check_interval_s;
		if (j->next_decide_t <= t)
			j->next_decide_t = t + j->spec.check_interval_s;
	}
	/* Replicas that cannot even start (a missing program, an app that
	 * will not load) would be replaced forever: give up when many have
	 * crashed and not one item was ever taken. */
	if (as.crashed_total >= 5 + 2 * (int64_t)j->spec.max_replicas &&
	    c.done + c.failed + c.in_flight == 0 && j->mon.startup_s == 0) {
		char last[512];

		if (as.error[0] != '\0') {
			mgr_job_fail(m, j, "%lld replicas could not start: %s",
			    (long long)as.crashed_total, as.error);
			return;
		}
		log_last_line(j->log_path, last, sizeof(last));
		mgr_job_fail(m, j, "%lld replicas exited without taking an item; "
		    "the last said: %s (log: %s)", (long long)as.crashed_total,
		    last[0] ? last : "nothing", j->log_path);
	}
}

void
mgr_jobs_tick(struct mgr *m)
{
	/* A job may be removed while the list is walked (failures do not
	 * remove, only DELETE does, which is not called from here). */
	for (size_t i = 0; i < m->njobs; i++) {
		struct mgr_job *j = m->jobs[i];

		if (j->state == MGR_PENDING)
			start_job(m, j);
		else if (j->state == MGR_RUNNING)
			tick_running(m, j);
		mgr_approvals_tick(m, j);
	}
	mgr_replicas_tick_draining(m);
	mgr_orphans_tick(m);
}

