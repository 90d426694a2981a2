// SPDX-License-Identifier: Apache-2.0
// The Slurm backend (actuator.h; doc/manager.md section 5.2): each replica
// is one task of a Slurm job array, submitted with sbatch, followed with
// squeue, stopped with scancel. The batch script execs the worker, so
// `scancel --signal=TERM --full` reaches the worker itself (it finishes
// its item and exits 0) and the grace period is ours, not the cluster's
// KillWait; after it, a plain scancel (Slurm's own SIGTERM, KillWait,
// SIGKILL). Every command runs in the background (proc.h): tick() reads
// what they printed, so a slow slurmctld never stalls the caller.
//
// Why jobs and not steps of one allocation: an allocation is sized when it
// starts, so growing it means a new allocation anyway, and its idle CPUs
// are held (and billed) while the controller keeps the count low; single
// jobs are what the scheduler can place, backfill, preempt and account
// one by one, and what a site's limits (MaxSubmitJobs, QOS) already
// govern. An array submits k replicas in one sbatch: a scale-up from 0 to
// 16 is one command, not 16.
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actuator/actuator.h"
#include "actuator/options.h"
#include "actuator/proc.h"
#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/mem.h"

#define MAX_REPLICAS 1000     /* a job array of at most 1000 tasks */
#define CMD_TIMEOUT_MS 30000  /* an sbatch, squeue or scancel */
#define NCANCEL 4             /* scancel commands in flight */
#define RESEND_MS 10000       /* a cancel that did not take, again */
#define STOP_ALL_SLACK_MS 30000

static const char *const option_names[] = { "partition", "account", "qos",
	"time", "constraint", "gres", "poll-ms", NULL };

struct srep {
	char jid[40];           /* Slurm's id of the array task: "123_4" */
	char id[48];            /* COFFER_REPLICA_ID: "s123_4" */
	char node[64];
	int phase;              /* COFFER_REPLICA_STARTING or _RUNNING */
	int stopping;           /* asked to stop */
	int killed;             /* the grace period ran out */
	int adopted;
	int want_term;          /* scancel --signal=TERM --full to send */
	int want_cancel;        /* scancel to send */
	int64_t cancel_sent_ms;
	int64_t index;          /* request order: larger is newer */
	int64_t asked_ms;       /* monotonic: sbatch started (adopted: 0) */
	int64_t added_ms;       /* monotonic: entered the list */
	int64_t submit_unix;    /* Slurm's submit time (adopted) */
	int64_t deadline_ms;    /* scancel after this, when stopping */
	double startup_s;       /* < 0 until seen running */
	int seen;               /* in the squeue being read */
	int busy;               /* the hint of the call in progress */
	double busy_s;
};

struct slurm {
	char *script;           /* the batch script (execs the worker) */
	char **env;             /* the spec's environment */
	char *name, *comment, *log_path, *workdir;
	char *partition, *account, *qos, *time, *constraint, *gres;
	int cpus;
	int64_t mem_mib;
	int grace_ms, restart_crashed, poll_ms;
	struct srep *r;
	int n, cap;
	int desired;
	int desired_set;        /* set_replicas() was called: until then,
	                           adopted replicas are left alone */
	int start_owed;         /* set_replicas() asked for more */
	int completing;
	int listed;             /* squeue answered once: adoption done */
	int detached;
	int64_t next_index;
	struct act_backoff backoff;
	struct act_cmd sbatch;
	int sbatch_pending;     /* started, its output not read yet */
	int sbatch_k;
	int64_t sbatch_asked_ms;
	int64_t sbatch_index;
	struct act_cmd squeue;
	int64_t squeue_started_ms;
	int64_t next_poll_ms;
	struct act_cmd cancel[NCANCEL];
	struct coffer_actuator_status st;
};

/* ------------------------------------------------------------------ */
/* Options */

/* A value that goes into one sbatch argument: printable, no space. */
static int
check_word(const char *opt, const char *v)
{
	if (v[0] == '\0')
		return coffer_errf(COFFER_E_INVAL, "actuator slurm: option %s is "
		    "empty", opt);
	for (const char *p = v; *p; p++)
		if (!isgraph((unsigned char)*p))
			return coffer_errf(COFFER_E_INVAL, "actuator slurm: option "
			    "%s: '%s' has a space or a control character", opt, v);
	return 0;
}

/* Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM,
 * D-HH:MM:SS, or UNLIMITED / INFINITE. */
static int
check_time(const char *v)
{
	int colons = 0, dash = 0;

	if (strcmp(v, "UNLIMITED") == 0 || strcmp(v, "INFINITE") == 0)
		return 0;
	for (const char *p = v; *p; p++) {
		if (*p == ':')
			colons++;
		else if (*p == '-')
			dash++;
		else if (!isdigit((unsigned char)*p))
			colons = 99;
	}
	if (v[0] == '\0' || !isdigit((unsigned char)v[0]) ||
	    !isdigit((unsigned char)v[strlen(v) - 1]) || colons > 2 || dash > 1 ||
	    strstr(v, "::") != NULL || strstr(v, "-:") != NULL ||
	    strstr(v, ":-") != NULL || (dash && strchr(v, '-') > strchr(v, ':') &&
	    strchr(v, ':') != NULL))
		return coffer_errf(COFFER_E_INVAL, "actuator slurm: option time: "
		    "'%s' is not a Slurm time (minutes, MM:SS, HH:MM:SS, D-HH, "
		    "D-HH:MM, D-HH:MM:SS, UNLIMITED)", v);
	return 0;
}

int
act_slurm_check(char *const *opts)
{
	static const char *const words[] = { "partition", "account", "qos",
		"constraint", "gres", NULL };
	const char *v;
	int64_t x;
	int r;

	if ((r = act_opts_check("slurm", opts, option_names)) != 0)
		return r;
	for (size_t i = 0; words[i] != NULL; i++)
		if ((v = act_opt(opts, words[i])) != NULL &&
		    (r = check_word(words[i], v)) != 0)
			return r;
	if ((v = act_opt(opts, "time")) != NULL && (r = check_time(v)) != 0)
		return r;
	return act_opt_int("slurm", opts, "poll-ms", 50, 60000, 1000, &x);
}

/* ------------------------------------------------------------------ */
/* Replicas */

static int
count_live(const struct slurm *s)
{
	int n = 0;

	for (int i = 0; i < s->n; i++)
		n += !s->r[i].stopping;
	return n;
}

static int
count_phase(const struct slurm *s, int phase)
{
	int n = 0;

	for (int i = 0; i < s->n; i++)
		n += !s->r[i].stopping && s->r[i].phase == phase;
	return n;
}

static struct srep *
add_replica(struct slurm *s, const char *jid)
{
	struct srep *p;

	if (act_reserve(&s->r, &s->cap, s->n, sizeof(*s->r)) != 0)
		return NULL;
	p = &s->r[s->n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->jid, sizeof(p->jid), "%s", jid);
	snprintf(p->id, sizeof(p->id), "s%s", jid);
	p->phase = COFFER_REPLICA_STARTING;
	p->added_ms = coffer_mono_ms();
	p->startup_s = -1;
	p->busy_s = -1;
	return p;
}

static void
remove_replica(struct slurm *s, int i)
{
	s->r[i] = s->r[--s->n];
}

static void
set_error(struct slurm *s, const char *what, const struct act_cmd *c)
{
	char msg[128];

	act_cmd_message(c, msg, sizeof(msg));
	snprintf(s->st.error, sizeof(s->st.error), "%s: %s", what,
	    msg[0] ? msg : "failed");
}

/* ------------------------------------------------------------------ */
/* sbatch */

/* The batch script: the replica id from the array task, then exec the
 * worker (the batch step's process is the worker itself, so a signal to
 * the step reaches it; no shell stays in between). */
static int
make_script(const struct coffer_replica_spec *spec, char **out)
{
	struct coffer_buf b = COFFER_BUF_INIT(56 << 10);
	int r;

	if ((r = coffer_buf_puts(&b, "#!/bin/sh\n"
	    "# A Coffer replica (doc/manager.md section 5.2).\n"
	    "COFFER_REPLICA_ID=\"s${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n"
	    "export COFFER_REPLICA_ID\n"
	    "exec")) != 0)
		goto out;
	for (char *const *a = spec->argv; *a != NULL; a++) {
		/* Single quotes keep every byte but the quote itself. */
		if ((r = coffer_buf_puts(&b, " '")) != 0)
			goto out;
		for (const char *p = *a; *p; p++)
			if ((r = *p == '\'' ? coffer_buf_puts(&b, "'\\''") :
			    coffer_buf_put(&b, p, 1)) != 0)
				goto out;
		if ((r = coffer_buf_puts(&b, "'")) != 0)
			goto out;
	}
	if ((r = coffer_buf_puts(&b, "\n")) != 0)
		goto out;
	if ((*out = coffer_strdup(coffer_buf_str(&b))) == NULL)
		r = coffer_errf(COFFER_E_NOMEM, "batch script");
out:
	coffer_buf_release(&b);
	if (r == COFFER_E_LIMIT)
		r = coffer_errf(COFFER_E_LIMIT, "actuator slurm: the command line "
		    "is too long for a batch script");
	return r;
}

static int
submit(struct slurm *s, int k)
{
	char *argv[32], arr[32], cpus[32], mem[40];
	char opt[8][300];
	char **envp = NULL;
	int n = 0, o = 0, r;

#define OPT(flag, val)                                                      \
	do {                                                                 \
		snprintf(opt[o], sizeof(opt[o]), "%s=%s", flag, val);        \
		argv[n++] = opt[o++];                                        \
	} while (0)
	argv[n++] = "sbatch";
	argv[n++] = "--parsable";
	argv[n++] = "--job-name";
	argv[n++] = s->name;
	argv[n++] = "--comment";
	argv[n++] = s->comment;
	snprintf(arr, sizeof(arr), "--array=0-%d", k - 1);
	argv[n++] = arr;
	argv[n++] = "--output";
	argv[n++] = s->log_path != NULL ? s->log_path : "/dev/null";
	argv[n++] = "--open-mode=append";
	/* A replica lost with its node is replaced now, by us: a requeued
	 * job would wait in the queue (Slurm holds it for its begin time)
	 * while counting as ours. Its item comes back through the queue. */
	argv[n++] = "--no-requeue";
	if (s->workdir != NULL) {
		argv[n++] = "--chdir";
		argv[n++] = s->workdir;
	}
	if (s->partition != NULL)
		OPT("--partition", s->partition);
	if (s->account != NULL)
		OPT("--account", s->account);
	if (s->qos != NULL)
		OPT("--qos", s->qos);
	if (s->time != NULL)
		OPT("--time", s->time);
	if (s->constraint != NULL)
		OPT("--constraint", s->constraint);
	if (s->gres != NULL)
		OPT("--gres", s->gres);
#undef OPT
	if (s->cpus > 0) {
		snprintf(cpus, sizeof(cpus), "--cpus-per-task=%d", s->cpus);
		argv[n++] = cpus;
	}
	if (s->mem_mib > 0) {
		snprintf(mem, sizeof(mem), "--mem=%lldM", (long long)s->mem_mib);
		argv[n++] = mem;
	}
	argv[n] = NULL;
	/* sbatch exports its own environment to the job (--export=ALL, the
	 * default): ours with the spec's added, built now so that a
	 * setenv() since is seen. */
	if ((r = act_env_merge(s->env, NULL, &envp)) == 0)
		r = act_cmd_start(&s->sbatch, argv, envp, s->script,
		    CMD_TIMEOUT_MS);
	free(envp);
	if (r != 0) {
		snprintf(s->st.error, sizeof(s->st.error), "sbatch: %s",
		    coffer_errdetail());
		coffer_errclear();
		return r;
	}
	s->sbatch_pending = 1;
	s->sbatch_k = k;
	s->sbatch_asked_ms = coffer_mono_ms();
	s->sbatch_index = s->next_index;
	s->next_index += k;
	return 0;
}

/* sbatch --parsable prints "<job id>" or "<job id>;<cluster>". */
static void
sbatch_done(struct slurm *s)
{
	const char *out = coffer_buf_str(&s->sbatch.out);
	char *end = NULL;
	unsigned long long jobid;

	s->sbatch_pending = 0;
	errno = 0;
	jobid = strtoull(out, &end, 10);
	if (s->sbatch.status != 0 || end == out || errno != 0 ||
	    (*end != '\0' && *end != '\n' && *end != ';')) {
		set_error(s, "sbatch", &s->sbatch);
		/* Nothing runs: count the replicas as crashed at start, so
		 * that a submission the cluster always refuses (a bad
		 * partition) ends like an app that cannot start, and wait
		 * before trying again. */
		s->st.crashed_total += s->sbatch_k;
		act_backoff_crashed(&s->backoff, 0);
		coffer_logkv(COFFER_LOG_WARN, "slurm: sbatch failed", "error",
		    s->st.error, NULL);
		return;
	}
	for (int i = 0; i < s->sbatch_k; i++) {
		char jid[40];
		struct srep *p;

		snprintf(jid, sizeof(jid), "%llu_%d", jobid, i);
		if ((p = add_replica(s, jid)) == NULL) {
			snprintf(s->st.error, sizeof(s->st.error), "no memory");
			return;
		}
		p->index = s->sbatch_index + i;
		p->asked_ms = s->sbatch_asked_ms;
	}
	s->st.started_total += s->sbatch_k;
	s->st.error[0] = '\0';
	/* Look soon: the new tasks start within the scheduler's cycle. */
	s->next_poll_ms = 0;
}

/* ------------------------------------------------------------------ */
/* scancel */

/* Send what the replicas ask for: one scancel --signal=TERM --full for
 * the running ones to stop, one scancel for the rest, each with every id
 * (one command, one RPC to slurmctld). */
static void
flush_cancels(struct slurm *s)
{
	for (int term = 1; term >= 0; term--) {
		struct act_cmd *c = NULL;
		char **argv;
		int n = 0, k = 0;

		for (int i = 0; i < s->n; i++)
			k += term ? s->r[i].want_term : s->r[i].want_cancel;
		if (k == 0)
			continue;
		for (int i = 0; i < NCANCEL && c == NULL; i++)
			if (s->cancel[i].pid == 0)
				c = &s->cancel[i];
		if (c == NULL || (argv = coffer_calloc((size_t)k + 5,
		    sizeof(*argv))) == NULL)
			return; /* on a later tick */
		argv[n++] = "scancel";
		if (term) {
			argv[n++] = "--signal=TERM";
			argv[n++] = "--full";
		}
		for (int i = 0; i < s->n; i++)
			if (term ? s->r[i].want_term : s->r[i].want_cancel)
				argv[n++] = s->r[i].jid;
		argv[n] = NULL;
		if (act_cmd_start(c, argv, NULL, NULL, CMD_TIMEOUT_MS) == 0) {
			for (int i = 0; i < s->n; i++) {
				if (term)
					s->r[i].want_term = 0;
				else if (s->r[i].want_cancel) {
					s->r[i].want_cancel = 0;
					s->r[i].cancel_sent_ms = coffer_mono_ms();
				}
			}
		} else {
			snprintf(s->st.error, sizeof(s->st.error), "scancel: %s",
			    coffer_errdetail());
			coffer_errclear();
		}
		free(argv);
	}
}

static void
stop_one(struct slurm *s, struct srep *p)
{
	p->stopping = 1;
	p->deadline_ms = coffer_mono_ms() + s->grace_ms;
	/* Not running yet: nothing to finish, withdraw it. */
	if (p->phase == COFFER_REPLICA_STARTING)
		p->want_cancel = 1;
	else
		p->want_term = 1;
}

/* Whether a should stop before b (actuator.h, set_replicas_hint):
 * starting before running, idle before busy, among busy the most recent
 * item first (unknown last), then the newest. */
static int
stops_before(const struct srep *a, const struct srep *b)
{
	struct act_rank ra = { a->phase == COFFER_REPLICA_STARTING, a->busy,
		a->busy_s, (double)a->index };
	struct act_rank rb = { b->phase == COFFER_REPLICA_STARTING, b->busy,
		b->busy_s, (double)b->index };

	return act_stops_before(&ra, &rb);
}

static void
reconcile(struct slurm *s, int may_start)
{
	int live = count_live(s);

	if (!s->desired_set)
		return;
	if (may_start && s->listed && !s->completing && live < s->desired &&
	    !s->sbatch_pending && coffer_mono_ms() >= s->backoff.after_ms &&
	    submit(s, s->desired - live) == 0)
		s->start_owed = 0;
	while (live > s->desired) {
		struct srep *victim = NULL;

		for (int i = 0; i < s->n; i++)
			if (!s->r[i].stopping &&
			    (victim == NULL || stops_before(&s->r[i], victim)))
				victim = &s->r[i];
		if (victim == NULL)
			break;
		stop_one(s, victim);
		live--;
	}
	flush_cancels(s);
}

/* ------------------------------------------------------------------ */
/* squeue */

static int
start_poll(struct slurm *s)
{
	char *argv[] = { "squeue", "--me", "--noheader", "--array",
		"--states=all", "--name", s->name, "--format",
		"%i|%T|%V|%N|%k", NULL };
	int r;

	if ((r = act_cmd_start(&s->squeue, argv, NULL, NULL,
	    CMD_TIMEOUT_MS)) != 0) {
		snprintf(s->st.error, sizeof(s->st.error), "squeue: %s",
		    coffer_errdetail());
		coffer_errclear();
		return r;
	}
	s->squeue_started_ms = coffer_mono_ms();
	return 0;
}

static int64_t
parse_time(const char *t)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL || *end != '\0')
		return 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

enum sstate { S_STARTING, S_RUNNING, S_COMPLETED, S_ENDED, S_OTHER };

/* Slurm's job states (squeue %T, slurm.h job_states and flags). */
static enum sstate
classify(const char *t)
{
	static const char *const starting[] = { "PENDING", "CONFIGURING",
		"REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD", NULL };
	static const char *const running[] = { "RUNNING", "SUSPENDED",
		"STOPPED", "SIGNALING", "RESIZING", "STAGE_OUT", NULL };
	static const char *const ended[] = { "FAILED", "CANCELLED", "TIMEOUT",
		"NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
		"OUT_OF_MEMORY", "SPECIAL_EXIT", "REVOKED", NULL };

	for (size_t i = 0; starting[i] != NULL; i++)
		if (strcmp(t, starting[i]) == 0)
			return S_STARTING;
	for (size_t i = 0; running[i] != NULL; i++)
		if (strcmp(t, running[i]) == 0)
			return S_RUNNING;
	if (strcmp(t, "COMPLETED") == 0)
		return S_COMPLETED;
	for (size_t i = 0; ended[i] != NULL; i++)
		if (strcmp(t, ended[i]) == 0)
			return S_ENDED;
	/* COMPLETING (processes still being cleaned up) and anything
	 * newer: keep what was known, the final state follows. */
	return S_OTHER;
}

static struct srep *
find(struct slurm *s, const char *jid)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->r[i].jid, jid) == 0)
			return &s->r[i];
	return NULL;
}

/* A replica ended: completed, stopped as asked, or crashed. */
static void
ended(struct slurm *s, int i, int completed)
{
	struct srep *p = &s->r[i];

	if (!p->stopping && completed && !p->adopted) {
		s->st.completed_total++;
		s->completing = 1;
	} else if (!p->stopping && !completed) {
		int64_t lived = p->startup_s >= 0 ? coffer_mono_ms() - p->added_ms -
		    (int64_t)(p->startup_s * 1000) : 0;

		s->st.crashed_total++;
		act_backoff_crashed(&s->backoff, lived);
		coffer_logkv(COFFER_LOG_WARN, "slurm: a replica ended unasked",
		    "job", p->jid, "replica", p->id, NULL);
	}
	remove_replica(s, i);
}

/* One line of squeue: "jid|state|submit|nodes|comment". */
static void
poll_line(struct slurm *s, char *line)
{
	char *f[5], *tok;
	int nf = 0;
	struct srep *p;
	enum sstate st;

	/* strsep keeps empty fields (a pending job's node list). */
	while ((tok = strsep(&line, "|")) != NULL && nf < 5)
		f[nf++] = tok;
	if (nf != 5 || tok != NULL || strcmp(f[4], s->comment) != 0 ||
	    strlen(f[0]) >= sizeof(p->jid) || strchr(f[0], '[') != NULL)
		return; /* another job of this name, or malformed */
	st = classify(f[1]);
	if ((p = find(s, f[0])) == NULL) {
		/* Not ours yet: a live replica of an earlier actuator. */
		if (s->listed || (st != S_STARTING && st != S_RUNNING))
			return;
		if ((p = add_replica(s, f[0])) == NULL)
			return;
		p->adopted = 1;
		p->index = s->next_index++;
		p->submit_unix = parse_time(f[2]);
		s->st.adopted_total++;
		coffer_logkv(COFFER_LOG_INFO, "slurm: adopted a replica", "job",
		    p->jid, "state", f[1], NULL);
	}
	p->seen = 1;
	snprintf(p->node, sizeof(p->node), "%s", f[3]);
	switch (st) {
	case S_STARTING:
		p->phase = COFFER_REPLICA_STARTING;
		break;
	case S_RUNNING:
		if (p->phase == COFFER_REPLICA_STARTING && p->startup_s < 0 &&
		    !p->adopted) {
			p->startup_s = (double)(coffer_mono_ms() - p->asked_ms) /
			    1000.0;
			act_startup_add(&s->st, p->startup_s);
		}
		p->phase = COFFER_REPLICA_RUNNING;
		break;
	case S_COMPLETED:
	case S_ENDED:
		ended(s, (int)(p - s->r), st == S_COMPLETED);
		break;
	case S_OTHER:
		break;
	}
}

static void
poll_done(struct slurm *s)
{
	char *text, *save = NULL;

	if (s->squeue.status != 0) {
		set_error(s, "squeue", &s->squeue);
		return;
	}
	for (int i = 0; i < s->n; i++)
		s->r[i].seen = 0;
	text = (char *)coffer_buf_str(&s->squeue.out);
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		poll_line(s, line);
	/* Gone from squeue before we saw how it ended (an admin's MinJobAge
	 * shorter than our poll, a purged job): stopped if asked, else
	 * crashed. Replicas submitted after this squeue began may not be in
	 * it yet. */
	for (int i = 0; i < s->n;) {
		if (!s->r[i].seen && s->r[i].added_ms < s->squeue_started_ms) {
			ended(s, i, 0);
			continue;
		}
		i++;
	}
	if (strncmp(s->st.error, "squeue", 6) == 0)
		s->st.error[0] = '\0';
	s->listed = 1;
}

/* ------------------------------------------------------------------ */
/* Operations */

static void
escalate(struct slurm *s)
{
	int64_t now = coffer_mono_ms();

	for (int i = 0; i < s->n; i++) {
		struct srep *p = &s->r[i];

		if (!p->stopping)
			continue;
		if (!p->killed && p->phase == COFFER_REPLICA_RUNNING &&
		    now >= p->deadline_ms) {
			p->killed = 1;
			p->want_cancel = 1;
			s->st.killed_total++;
		} else if ((p->killed || p->phase == COFFER_REPLICA_STARTING) &&
		    !p->want_cancel && p->cancel_sent_ms != 0 &&
		    now - p->cancel_sent_ms >= RESEND_MS) {
			p->want_cancel = 1;
		}
	}
}

static int
slurm_tick(void *impl)
{
	struct slurm *s = impl;
	int64_t now = coffer_mono_ms(), interval;
	int may_start;

	if (s->sbatch_pending && act_cmd_poll(&s->sbatch) == 1)
		sbatch_done(s);
	if (s->squeue.pid != 0 && act_cmd_poll(&s->squeue) == 1) {
		poll_done(s);
		/* Fast while something changes, so that start-ups are
		 * measured to within a fraction of a second. */
		interval = s->poll_ms;
		if (interval > 200 && (count_live(s) != s->n ||
		    count_phase(s, COFFER_REPLICA_STARTING) > 0))
			interval = 200;
		s->next_poll_ms = coffer_mono_ms() + interval;
	}
	for (int i = 0; i < NCANCEL; i++)
		if (s->cancel[i].pid != 0 && act_cmd_poll(&s->cancel[i]) == 1 &&
		    s->cancel[i].status != 0)
			set_error(s, "scancel", &s->cancel[i]);
	escalate(s);
	if (s->squeue.pid == 0 && now >= s->next_poll_ms)
		(void)start_poll(s);
	may_start = s->start_owed ||
	    (s->restart_crashed && now >= s->backoff.after_ms);
	reconcile(s, may_start);
	if (count_live(s) >= s->desired)
		s->start_owed = 0;
	return 0;
}

static int
slurm_set_replicas_hint(void *impl, int n,
    const struct coffer_replica_hint *busy, size_t nbusy)
{
	struct slurm *s = impl;

	int r;

	if ((r = act_check_hint(n, MAX_REPLICAS, busy, nbusy)) != 0)
		return r;
	for (size_t k = 0; k < nbusy; k++) {
		struct srep *p = NULL;

		for (int i = 0; i < s->n && busy[k].replica_id != NULL; i++)
			if (strcmp(s->r[i].id, busy[k].replica_id) == 0)
				p = &s->r[i];
		if (p != NULL) {
			p->busy = 1;
			p->busy_s = busy[k].busy_s >= 0 ? busy[k].busy_s : -1;
		}
	}
	s->desired = n;
	s->desired_set = 1;
	s->st.desired = n;
	s->start_owed = 1;
	reconcile(s, 1);
	for (int i = 0; i < s->n; i++) {
		s->r[i].busy = 0;
		s->r[i].busy_s = -1;
	}
	return 0;
}

static int
slurm_set_replicas(void *impl, int n)
{
	return slurm_set_replicas_hint(impl, n, NULL, 0);
}

static int
slurm_status(void *impl, struct coffer_actuator_status *st)
{
	struct slurm *s = impl;

	*st = s->st;
	st->desired = s->desired;
	st->running = count_live(s);
	st->starting = count_phase(s, COFFER_REPLICA_STARTING);
	st->stopping = s->n - st->running;
	/* Submitted, not listed yet: starting too. */
	if (s->sbatch_pending) {
		st->running += s->sbatch_k;
		st->starting += s->sbatch_k;
	}
	return 0;
}

static int
slurm_list(void *impl, struct coffer_replica_info **out, size_t *n)
{
	struct slurm *s = impl;
	struct coffer_replica_info *v = NULL;
	int64_t now = coffer_mono_ms(), wall = (int64_t)time(NULL);

	if (s->n > 0 && (v = coffer_calloc((size_t)s->n, sizeof(*v))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "replica list");
	for (int i = 0; i < s->n; i++) {
		const struct srep *p = &s->r[i];

		snprintf(v[i].id, sizeof(v[i].id), "%s", p->id);
		snprintf(v[i].handle, sizeof(v[i].handle), "%s", p->jid);
		snprintf(v[i].node, sizeof(v[i].node), "%s", p->node);
		v[i].phase = p->stopping ? COFFER_REPLICA_STOPPING : p->phase;
		v[i].adopted = p->adopted;
		v[i].age_s = p->adopted ? (p->submit_unix > 0 ?
		    (double)(wall - p->submit_unix) : 0) :
		    (double)(now - p->asked_ms) / 1000.0;
		v[i].startup_s = p->startup_s;
	}
	*out = v;
	*n = (size_t)s->n;
	return 0;
}

static int
slurm_stop_all(void *impl)
{
	struct slurm *s = impl;
	int64_t deadline = coffer_mono_ms() + s->grace_ms + STOP_ALL_SLACK_MS;

	s->desired = 0;
	s->desired_set = 1;
	s->st.desired = 0;
	s->start_owed = 0;
	/* Until squeue has answered once, replicas to adopt (and stop) may
	 * be unknown; and an sbatch in flight adds replicas to cancel. */
	while (coffer_mono_ms() < deadline) {
		slurm_tick(s);
		if (s->listed && s->n == 0 && !s->sbatch_pending)
			break;
		coffer_sleep_ms(20);
	}
	for (int i = 0; i < NCANCEL; i++)
		act_cmd_wait(&s->cancel[i]);
	if (s->n > 0)
		return coffer_errf(COFFER_E_TIMEOUT, "actuator slurm: %d replicas "
		    "still listed after the grace period", s->n);
	return 0;
}

static int
slurm_detach(void *impl)
{
	struct slurm *s = impl;

	s->detached = 1;
	return 0;
}

static void
slurm_free(void *impl)
{
	struct slurm *s = impl;

	if (s == NULL)
		return;
	act_cmd_wait(&s->sbatch);
	if (s->sbatch_pending)
		sbatch_done(s);
	/* Not detached: never leave a replica behind. */
	if (!s->detached && s->n > 0) {
		for (int i = 0; i < s->n; i++) {
			s->r[i].want_cancel = 1;
			s->r[i].want_term = 0;
		}
		for (int i = 0; i < NCANCEL; i++)
			act_cmd_wait(&s->cancel[i]);
		flush_cancels(s);
	}
	for (int i = 0; i < NCANCEL; i++) {
		act_cmd_wait(&s->cancel[i]);
		act_cmd_release(&s->cancel[i]);
	}
	act_cmd_release(&s->sbatch);
	act_cmd_release(&s->squeue);
	free(s->r);
	free(s->script);
	act_free_strv(s->env);
	free(s->name);
	free(s->comment);
	free(s->log_path);
	free(s->workdir);
	free(s->partition);
	free(s->account);
	free(s->qos);
	free(s->time);
	free(s->constraint);
	free(s->gres);
	free(s);
}

static const struct coffer_actuator_ops slurm_ops = {
	.name = "slurm",
	.set_replicas = slurm_set_replicas,
	.tick = slurm_tick,
	.status = slurm_status,
	.stop_all = slurm_stop_all,
	.free = slurm_free,
	.set_replicas_hint = slurm_set_replicas_hint,
	.list = slurm_list,
	.detach = slurm_detach,
};

static int
dup_opt(char *const *opts, const char *name, char **out)
{
	const char *v = act_opt(opts, name);

	if (v != NULL && (*out = coffer_strdup(v)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "actuator slurm");
	return 0;
}

int
act_slurm_create(const struct coffer_actuator_config *cfg,
    const struct coffer_replica_spec *spec, struct coffer_actuator **out)
{
	struct coffer_actuator *a = NULL;
	struct slurm *s = NULL;
	struct coffer_buf comment = COFFER_BUF_INIT(2048);
	char *const *opts = cfg->options;
	int64_t poll = 0;
	int r;

	if ((a = coffer_calloc(1, sizeof(*a))) == NULL ||
	    (s = coffer_calloc(1, sizeof(*s))) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "actuator slurm");
		goto fail;
	}
	act_cmd_init(&s->sbatch);
	act_cmd_init(&s->squeue);
	for (int i = 0; i < NCANCEL; i++)
		act_cmd_init(&s->cancel[i]);
	/* The comment carries the labels: squeue shows it, so the replicas
	 * of this job are told from another job's of the same name. */
	for (char *const *l = spec->labels; l != NULL && *l != NULL; l++)
		if ((r = coffer_buf_putf(&comment, "%s%s", l == spec->labels ? "" :
		    ",", *l)) != 0)
			goto fail;
	if (comment.len == 0 && (r = coffer_buf_puts(&comment, "coffer")) != 0)
		goto fail;
	if ((r = act_opt_int("slurm", opts, "poll-ms", 50, 60000, 1000,
	    &poll)) != 0 || (r = make_script(spec, &s->script)) != 0 ||
	    (r = act_copy_strv(spec->env, &s->env)) != 0 ||
	    (r = dup_opt(opts, "partition", &s->partition)) != 0 ||
	    (r = dup_opt(opts, "account", &s->account)) != 0 ||
	    (r = dup_opt(opts, "qos", &s->qos)) != 0 ||
	    (r = dup_opt(opts, "time", &s->time)) != 0 ||
	    (r = dup_opt(opts, "constraint", &s->constraint)) != 0 ||
	    (r = dup_opt(opts, "gres", &s->gres)) != 0)
		goto fail;
	if ((s->name = coffer_strdup(act_spec_name(spec))) == NULL ||
	    (s->comment = coffer_strdup(coffer_buf_str(&comment))) == NULL ||
	    (spec->log_path != NULL &&
	    (s->log_path = coffer_strdup(spec->log_path)) == NULL) ||
	    (spec->workdir != NULL &&
	    (s->workdir = coffer_strdup(spec->workdir)) == NULL)) {
		r = coffer_errf(COFFER_E_NOMEM, "actuator slurm");
		goto fail;
	}
	s->poll_ms = (int)poll;
	s->cpus = spec->res.cpu_milli > 0 ? (spec->res.cpu_milli + 999) / 1000 : 0;
	s->mem_mib = spec->res.memory_bytes > 0 ?
	    (spec->res.memory_bytes + (1 << 20) - 1) >> 20 : 0;
	s->grace_ms = spec->grace_ms ? spec->grace_ms : 30000;
	s->restart_crashed = spec->restart_crashed;
	coffer_buf_release(&comment);
	a->ops = &slurm_ops;
	a->impl = s;
	*out = a;
	return 0;
fail:
	coffer_buf_release(&comment);
	if (s != NULL)
		s->detached = 1;
	slurm_free(s);
	free(a);
	return r;
}
