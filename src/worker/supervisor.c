// SPDX-License-Identifier: Apache-2.0
// The supervisor: the coffer-worker process itself (doc/worker.md 4.2).
// It forks the runner, renews the lease of the item the runner holds (read
// from the shared page, no system call on the runner's side), enforces a
// plugin's time limit, and when the runner dies records the item's fate:
// acked if its output was stored, failed otherwise ("app crashed: ..."),
// nothing if the lease was lost. Then it starts a new runner. Why a
// process split and not dlopen() in the worker alone: a crashing or hung
// plugin must cost one item, not the worker and its lease; and why not a
// process per item or an app host answering requests: both put two more
// context switches on every item (BENCHMARKS.md, "Dispatch throughput").
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/signals.h"
#include "queue/queue.h"
#include "worker/app.h"
#include "worker/shared.h"
#include "worker/worker.h"

#define START_TIMEOUT_MS 120000
/* How often the supervisor looks at the page while the runner starts: a
 * runner that is ready waits this long at most (half on average) for its
 * go, which every job pays once per worker (BENCHMARKS.md, "Worker
 * start"); it was 20 ms, a tenth of a small job. The runner waits for
 * the go in steps of 1 ms too (shared_wait_go). */
#define START_POLL_MS 1
#define SETTLE_RETRY_MS 300000
#define RESTART_MIN_MS 100
#define RESTART_MAX_MS 5000

/* Set by SIGTERM, SIGINT or SIGHUP (lib/signals.h, doc/worker.md 5). */
static volatile sig_atomic_t stop_flag;

/* Log each stop signal with its sender, once it is acted on. */
static void
log_signals(void)
{
	struct coffer_signal sig;

	while (coffer_signal_take(&sig))
		coffer_signal_log(&sig, "signal received, stopping");
}

struct sup {
	const struct worker_config *cfg;
	struct worker_shared *sh;
	struct coffer_queue *q;
	pid_t pid;
	int pidfd;            /* -1: poll the runner with WNOHANG instead */
	int64_t started_ms;
	int kill_reason;      /* why we killed the runner, if we did, */
	char kill_item[COFFER_QUEUE_ITEM_MAX + 1]; /* and for which lease */
	uint32_t kill_attempt;
	/* A plugin's time limit, kept here too (the page's deadline is the
	 * plugin's to overwrite): the item and attempt first seen in the app
	 * phase, and when. */
	char app_item[COFFER_QUEUE_ITEM_MAX + 1];
	uint32_t app_attempt;
	int64_t app_seen_ms;
	int stopping;         /* SIGTERM forwarded */
	int restart_delay_ms;
	int exited;           /* the runner died while starting: */
	int exit_status;      /* its wait status */
	int warned;           /* a renewal failure was logged */
	int spawned;          /* runners started so far */
	int adopt;            /* a standby runner started before the config:
	                         wait for it as for a new one */
};

enum {
	KILL_NONE,
	KILL_LEASE_LOST,      /* renew: another worker has the lease */
	KILL_DONE_ELSEWHERE,  /* renew: another worker's late ack did it */
	KILL_TIMEOUT,         /* past the plugin's time limit */
	KILL_CORRUPT,         /* the page holds what no runner writes */
};

/* The page, read and checked (shared.h: it is shared with the plugin's
 * process, so nothing in it is trusted): 0 and a copy the runner could
 * have written; -1 if no consistent copy could be had (killed in the
 * middle of an update); -2 if the copy is not one a runner writes. */
static int
read_page(const struct sup *s, struct worker_shared *c)
{
	if (shared_read(s->sh, c) != 0)
		return -1;
	return shared_valid(c) ? 0 : -2;
}

/* The slot of the page that still shows this lease, or -1. */
static int
slot_of(const struct worker_shared *c, const char *item, uint32_t attempt)
{
	for (int i = 0; i < WORKER_SLOTS; i++)
		if (c->slot[i].phase != PHASE_IDLE && c->slot[i].attempt == attempt &&
		    strcmp(c->slot[i].item, item) == 0)
			return i;
	return -1;
}

static void
note_kill(struct sup *s, int reason, const struct worker_slot *sl)
{
	s->kill_reason = reason;
	snprintf(s->kill_item, sizeof(s->kill_item), "%s", sl->item);
	s->kill_attempt = sl->attempt;
}

/* The slot whose item is in the app, or -1. */
static int
app_slot(const struct worker_shared *c)
{
	for (int i = 0; i < WORKER_SLOTS; i++)
		if (c->slot[i].phase == PHASE_APP)
			return i;
	return -1;
}

/* When a plugin's item times out (monotonic ms; 0: never). The runner
 * writes the deadline when the app starts; the supervisor also counts
 * from when it first saw that item in the app, so a plugin that moves
 * the page's deadline gains at most one wake-up interval. */
static int64_t
app_deadline(struct sup *s, const struct worker_shared *c, int64_t now)
{
	int64_t own;
	int i = app_slot(c);

	if (i < 0 || !worker_plugin_in_process(s->cfg) ||
	    s->cfg->item_timeout_ms <= 0)
		return 0;
	if (s->app_seen_ms == 0 || slot_of(c, s->app_item, s->app_attempt) != i) {
		snprintf(s->app_item, sizeof(s->app_item), "%s", c->slot[i].item);
		s->app_attempt = c->slot[i].attempt;
		s->app_seen_ms = now;
	}
	own = s->app_seen_ms + s->cfg->item_timeout_ms;
	return c->app_deadline_ms > 0 && c->app_deadline_ms < own ?
	    c->app_deadline_ms : own;
}

/*
 * The stop signals are blocked across the fork: the child has this
 * process's handler (lib/signals.c) until runner_main sets its own, and
 * that handler, in a forked child, acts with the default (the runner
 * would die mid-item). runner_main unblocks them once its own are set
 * (doc/worker.md 5).
 */
static int
spawn(struct sup *s, int mode)
{
	sigset_t stops, old;
	pid_t pid;
	int e;

	memset(s->sh, 0, sizeof(*s->sh));
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &stops, &old);
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		runner_main(s->cfg, s->sh, mode);
	e = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return coffer_errf(COFFER_E_IO, "fork: %s", strerror(e));
	s->pid = pid;
	s->spawned++;
	s->started_ms = coffer_mono_ms();
	s->kill_reason = KILL_NONE;
	s->app_seen_ms = 0;
	s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

/* Wait up to ms for the runner to exit; 1 and its status if it did. */
static int
wait_runner(struct sup *s, int ms, int *status)
{
	int64_t end = coffer_mono_ms() + ms;

	for (;;) {
		pid_t w = waitpid(s->pid, status, WNOHANG);
		int64_t left = end - coffer_mono_ms();

		if (w == s->pid) {
			if (s->pidfd >= 0)
				close(s->pidfd);
			s->pidfd = -1;
			s->pid = 0;
			return 1;
		}
		if (w < 0 && errno != EINTR)
			return 0;
		if (left <= 0 || stop_flag != s->stopping)
			return 0;
		if (s->pidfd >= 0) {
			struct pollfd pf = { s->pidfd, POLLIN, 0 };

			(void)poll(&pf, 1, left > 1000000 ? 1000000 : (int)left);
		} else {
			coffer_sleep_ms(left < 20 ? (int)left : 20);
		}
	}
}

static int
transient(int r)
{
	return r == COFFER_E_CONNECT || r == COFFER_E_BUSY;
}

/* Record an item of a runner that died (one slot of the page): ack if
 * its output is stored (and proved), else fail it with what happened
 * (timed_out: it was killed for running past its time limit). Retried
 * while Redis is away. c is a checked copy of one slot of the page
 * (read_page); the queue handle settles only items in this worker's
 * in-flight list (settle_own_only), so whatever a plugin wrote there
 * cannot ack or fail another worker's item or a made-up id. end: when
 * to give up retrying (one deadline for all the items of a batch). */
static void
record(struct sup *s, const struct worker_slot *c, int status, int timed_out,
    int64_t end)
{
	struct coffer_queue_item it = { (char *)c->item, c->attempt, 0 };
	char how[128], err[WORKER_ERR_MAX], att[16];
	int r, dead = 0, delay = 100;

	if (s->q == NULL) {
		coffer_logkv(COFFER_LOG_WARN, "runner died before the supervisor"
		    " reached Redis; its item will be reaped", "item", c->item, NULL);
		return;
	}
	app_describe_status(status, how, sizeof(how));
	if (timed_out)
		snprintf(err, sizeof(err), "app timed out after %d ms (killed)",
		    s->cfg->item_timeout_ms);
	else if (c->phase == PHASE_APP)
		snprintf(err, sizeof(err), "app crashed: %s", how);
	else
		snprintf(err, sizeof(err), "worker runner %s while %s", how,
		    c->phase == PHASE_FETCH ? "fetching the input (or before it)" :
		    "storing or proving the output");
	for (;;) {
		r = c->phase == PHASE_STORED ? coffer_queue_ack(s->q, &it) :
		    coffer_queue_fail(s->q, &it, err, &dead);
		if (stop_flag && end - coffer_mono_ms() > 10000)
			end = coffer_mono_ms() + 10000;
		if (r == 0 || !transient(r) || coffer_mono_ms() > end)
			break;
		coffer_sleep_ms(delay);
		delay = delay < 2000 ? delay * 2 : 2000;
	}
	snprintf(att, sizeof(att), "%u", c->attempt);
	if (r == COFFER_E_NOTFOUND)
		coffer_logkv(COFFER_LOG_WARN, "item not recorded: this worker does"
		    " not hold it", "item", c->item, "attempt", att, "error",
		    coffer_errdetail(), NULL);
	else if (c->phase == PHASE_STORED)
		coffer_logkv(COFFER_LOG_INFO, "item done (acked for a dead runner)",
		    "item", c->item, "attempt", att, NULL);
	else
		coffer_logkv(COFFER_LOG_WARN, "item failed", "item", c->item,
		    "attempt", att, "error", err, "outcome",
		    r != 0 ? "unrecorded" : dead ? "dead" : "retry", NULL);
}

/* The runner exited: what now? Returns -1 to go on (a new runner), or the
 * worker's exit status. */
/* The runner failed at the start of a confidential job. */
static int
from_coordinator(int status)
{
	return WIFEXITED(status) && (WEXITSTATUS(status) == RUNNER_EXIT_NOKEYS ||
	    WEXITSTATUS(status) == RUNNER_EXIT_REFUSED);
}

/* This process's status after a runner that failed to start: 3 for a
 * refusal no restart changes, so that the manager stops restarting. */
static int
exit_failed(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == RUNNER_EXIT_REFUSED ?
	    WORKER_EXIT_REFUSED : 1;
}

static int
runner_exited(struct sup *s, int status)
{
	struct worker_shared c;
	char how[128];
	int page = read_page(s, &c), consistent = page == 0;

	/* Stopped, or the job is finished: the runner says so in the page
	 * before it exits. Status 0 alone is not enough: a plugin may call
	 * exit(0) in the middle of an item. */
	if (WIFEXITED(status) && WEXITSTATUS(status) == RUNNER_EXIT_OK &&
	    consistent && c.state == RUNNER_DONE && shared_idle(&c))
		return s->stopping ? s->cfg->stop_exit_status : 0;
	if (consistent && c.state == RUNNER_FAILED) {
		fprintf(stderr, "coffer-worker: %s: %s\n",
		    WEXITSTATUS(status) == RUNNER_EXIT_NOREDIS ? "queue" :
		    from_coordinator(status) ? "coordinator" : "app", c.msg);
		return exit_failed(status);
	}
	if (consistent && c.state == RUNNER_STARTING) {
		/* Loading the app crashed: it will crash again. */
		app_describe_status(status, how, sizeof(how));
		fprintf(stderr, "coffer-worker: app: the app crashed (%s) while"
		    " loading it\n", how);
		return 1;
	}
	if (page == -1) {
		/* Killed in the middle of an update: trust nothing; the item
		 * returns through its lease expiry. */
		coffer_logkv(COFFER_LOG_WARN, "runner died during an update; its"
		    " item will be reaped", NULL);
	} else if (page == -2) {
		/* Something else wrote the page (a plugin can): record
		 * nothing; the item returns through its lease expiry. */
		coffer_logkv(COFFER_LOG_WARN, "the runner's shared page holds what"
		    " no runner writes; its item will be reaped", NULL);
	} else {
		/* The page is the truth about what the runner held when it
		 * died: every item in it is recorded. Our kill was for the
		 * lease it showed when we decided; if the runner got past that
		 * item before the kill landed, it settled that one itself and
		 * the ones shown now died with it. */
		int killed = s->kill_reason != KILL_NONE ?
		    slot_of(&c, s->kill_item, s->kill_attempt) : -1;
		int64_t end = coffer_mono_ms() + SETTLE_RETRY_MS;

		for (int i = 0; i < WORKER_SLOTS; i++) {
			const struct worker_slot *sl = &c.slot[i];

			if (sl->phase == PHASE_IDLE)
				continue;
			if (i == killed && (s->kill_reason == KILL_LEASE_LOST ||
			    s->kill_reason == KILL_DONE_ELSEWHERE))
				coffer_logkv(COFFER_LOG_WARN, "item abandoned", "item",
				    sl->item, "error", s->kill_reason == KILL_LEASE_LOST ?
				    "lease lost (another worker may have the item now)" :
				    "done by another worker", NULL);
			else
				record(s, sl, status, i == killed &&
				    s->kill_reason == KILL_TIMEOUT, end);
		}
	}
	app_describe_status(status, how, sizeof(how));
	if (s->stopping) {
		coffer_logkv(COFFER_LOG_WARN, "app runner ended badly while stopping",
		    "cause", how, NULL);
		return 0;
	}
	/* Crashing right after start, again and again: slow down. */
	if (coffer_mono_ms() - s->started_ms < 1000)
		s->restart_delay_ms = s->restart_delay_ms ? s->restart_delay_ms * 2 :
		    RESTART_MIN_MS;
	else
		s->restart_delay_ms = 0;
	if (s->restart_delay_ms > RESTART_MAX_MS)
		s->restart_delay_ms = RESTART_MAX_MS;
	coffer_logkv(COFFER_LOG_WARN, "app runner restarted", "cause", how, NULL);
	if (s->restart_delay_ms)
		coffer_sleep_ms(s->restart_delay_ms);
	return -1;
}

/* Wait until the runner says it is serving (or why not). */
static int
await_runner(struct sup *s)
{
	int64_t end = coffer_mono_ms() + START_TIMEOUT_MS;
	int status;

	for (;;) {
		struct worker_shared c;

		if (shared_read(s->sh, &c) == 0 && c.state != RUNNER_STARTING)
			return 0; /* READY, or FAILED: its exit tells */
		if (wait_runner(s, START_POLL_MS, &status)) {
			/* Died while loading: the caller handles it as any exit. */
			s->exited = 1;
			s->exit_status = status;
			return 0;
		}
		if (coffer_mono_ms() > end) {
			kill(s->pid, SIGKILL);
			(void)wait_runner(s, 5000, &status);
			return coffer_errf(COFFER_E_TIMEOUT, "the app did not load within"
			    " %d s", START_TIMEOUT_MS / 1000);
		}
	}
}

/* Start a runner and wait until it says it is serving (or why not). */
static int
start_runner(struct sup *s, int mode)
{
	int r;

	if ((r = spawn(s, mode)) != 0)
		return r;
	return await_runner(s);
}

/* --check-app and --reduce: run the runner once and report. */
static int
one_shot(struct sup *s, int mode)
{
	struct worker_shared c;
	char how[128];
	int status = 0, r;

	if ((r = spawn(s, mode)) != 0) {
		fprintf(stderr, "coffer-worker: %s\n", coffer_errdetail());
		return 1;
	}
	/* A SIGTERM goes on to the runner (a reduce stage waiting for the
	 * map stage stops waiting: doc/worker.md 9.6), once. */
	while (!wait_runner(s, 1000000, &status))
		if (stop_flag && !s->stopping) {
			log_signals();
			s->stopping = 1;
			kill(s->pid, SIGTERM);
		}
	if (read_page(s, &c) != 0)
		memset(&c, 0, sizeof(c));
	if (c.state == RUNNER_FAILED) {
		fprintf(stderr, "coffer-worker: %s: %s\n", from_coordinator(status) ?
		    "coordinator" : "app", c.msg);
		return exit_failed(status);
	}
	if (!WIFEXITED(status) || (WEXITSTATUS(status) == RUNNER_EXIT_OK &&
	    c.state != RUNNER_DONE)) {
		/* Killed, or a plugin that called exit(0) itself. */
		app_describe_status(status, how, sizeof(how));
		fprintf(stderr, "coffer-worker: app: the app %s (%s) while %s\n",
		    WIFEXITED(status) ? "ended the process" : "crashed", how,
		    c.state == RUNNER_STARTING ? "loading it" :
		    mode == RUNNER_CHECK ? "checking it" : "reducing");
		return 1;
	}
	if (WEXITSTATUS(status) != RUNNER_EXIT_OK)
		return 1;
	if (mode == RUNNER_CHECK)
		printf("app %s %s (%s%s)\n", c.info.name, c.info.version,
		    c.info.kind == APP_KIND_PLUGIN ? "plugin" : "executable",
		    c.info.has_reduce ? ", reduce" : "");
	return 0;
}

/* SIGKILL the runner and wait for it to be reapable (the next loop
 * round handles its exit). */
static void
kill_runner(struct sup *s)
{
	int64_t end = coffer_mono_ms() + 5000;

	kill(s->pid, SIGKILL);
	if (s->pidfd >= 0) {
		struct pollfd pf = { s->pidfd, POLLIN, 0 };

		while (poll(&pf, 1, 5000) < 0 && errno == EINTR &&
		    coffer_mono_ms() < end)
			;
	}
}

/* Renew the lease of one slot of the page, if it holds an item before
 * STORED; 1 if that killed the runner. */
static int
renew_slot(struct sup *s, const struct worker_slot *sl)
{
	struct coffer_queue_item it = { (char *)sl->item, sl->attempt, 0 };
	struct worker_shared c2;
	int r, done = 0, j;

	/* Not once the output is stored: the runner is acking (the lease
	 * matters no more: a late ack counts), and a renewal would only race
	 * that ack. */
	if (sl->phase == PHASE_IDLE || sl->phase == PHASE_STORED)
		return 0;
	r = coffer_queue_renew(s->q, &it, &done);
	/* Lost or done: kill only if the page still shows that lease, and,
	 * for a done item, before its output was stored: the runner acks
	 * only after storing, so then another worker's late ack did it.
	 * Otherwise the runner's own ack (or fail) got there first and it
	 * has moved on: nothing to do. */
	if (r == COFFER_E_STATE && read_page(s, &c2) == 0 &&
	    (j = slot_of(&c2, sl->item, sl->attempt)) >= 0 &&
	    (!done || c2.slot[j].phase < PHASE_STORED)) {
		note_kill(s, done ? KILL_DONE_ELSEWHERE : KILL_LEASE_LOST, sl);
		kill_runner(s);
		return 1;
	}
	if (r == COFFER_E_STATE)
		r = 0;
	if (r != 0 && !s->warned)
		coffer_logkv(COFFER_LOG_WARN, "lease renewal failed, will retry",
		    "item", sl->item, "error", coffer_errdetail(), NULL);
	s->warned = r != 0;
	return 0;
}

/* One wait of the supervision loop: until the runner exits, a renewal is
 * due, the plugin's deadline passes, or a signal comes. */
static void
tick(struct sup *s, int64_t next_hb)
{
	struct worker_shared c;
	int64_t now = coffer_mono_ms(), wait = next_hb - now, dl;

	if (read_page(s, &c) == 0 && (dl = app_deadline(s, &c, now)) > 0 &&
	    dl - now < wait)
		wait = dl - now;
	if (wait < 0)
		wait = 0;
	if (s->pidfd >= 0) {
		struct pollfd pf = { s->pidfd, POLLIN, 0 };

		(void)poll(&pf, 1, (int)wait);
	} else {
		coffer_sleep_ms(wait < 50 ? (int)wait : 50);
	}
}

static int
serve(struct sup *s)
{
	int every = s->cfg->lease_ms / 3 > 0 ? s->cfg->lease_ms / 3 : 1;
	int64_t next_hb = coffer_mono_ms() + every;
	int status, r, page;

	for (;;) {
		struct worker_shared c;

		if (s->exited) {
			/* The runner died while starting (start_runner). */
			s->exited = 0;
			if ((r = runner_exited(s, s->exit_status)) >= 0)
				return r;
		}
		if (s->pid == 0 || s->adopt) {
			/* A standby worker's first runner only is warm; a
			 * confidential one's is running already (adopt). */
			if (s->adopt) {
				s->adopt = 0;
				r = await_runner(s);
			} else {
				r = start_runner(s, s->cfg->assigned_ms != 0 &&
				    !s->spawned ? RUNNER_WARM : RUNNER_SERVE);
			}
			if (r != 0) {
				fprintf(stderr, "coffer-worker: %s\n", coffer_errdetail());
				return 1;
			}
			/* The runner reached Redis: now the supervisor's own
			 * connection, for renewals and for recording. */
			if (!s->exited && s->q == NULL &&
			    (r = worker_open_queue(s->cfg, &stop_flag, 1, &s->q)) != 0) {
				fprintf(stderr, "coffer-worker: queue: %s: %s\n",
				    coffer_strerror(r), coffer_errdetail());
				return 1;
			}
			shared_go(s->sh);
			continue;
		}
		if (stop_flag && !s->stopping) {
			/* Let the runner finish its item; keep renewing meanwhile. */
			log_signals();
			s->stopping = 1;
			kill(s->pid, SIGTERM);
		}
		if (wait_runner(s, 0, &status)) {
			if ((r = runner_exited(s, status)) >= 0)
				return r;
			continue;
		}
		page = s->q != NULL ? read_page(s, &c) : -1;
		if (page == -2) {
			/* Only a plugin writing to the page can do this: the
			 * runner cannot be trusted with its item any more. */
			coffer_logkv(COFFER_LOG_WARN, "the runner's shared page holds"
			    " what no runner writes; killing the runner", NULL);
			s->kill_reason = KILL_CORRUPT;
			kill_runner(s);
			continue;
		}
		if (page == 0 && !shared_idle(&c)) {
			int64_t now = coffer_mono_ms(), dl = app_deadline(s, &c, now);
			int a = app_slot(&c), killed = 0;

			if (dl > 0 && now >= dl) {
				struct worker_shared c2;

				/* Only if it is still that lease in the app: the
				 * runner may have got past it meanwhile. */
				if (read_page(s, &c2) == 0 && app_slot(&c2) >= 0 &&
				    slot_of(&c2, c.slot[a].item, c.slot[a].attempt) ==
				    app_slot(&c2)) {
					note_kill(s, KILL_TIMEOUT, &c.slot[a]);
					kill_runner(s);
				}
				continue;
			}
			/* Every item the runner holds (doc/worker.md 9.4). */
			for (int i = 0; i < WORKER_SLOTS && now >= next_hb && !killed; i++)
				killed = renew_slot(s, &c.slot[i]);
			if (killed)
				continue;
		}
		if (coffer_mono_ms() >= next_hb)
			next_hb = coffer_mono_ms() + every;
		tick(s, next_hb);
	}
}

int
supervisor_main(const struct worker_config *cfg, int mode)
{
	struct sup s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.pidfd = -1;
	if ((s.sh = shared_new()) == NULL) {
		fprintf(stderr, "coffer-worker: %s\n", coffer_errdetail());
		return 1;
	}
	if (coffer_signal_watch_stop(&stop_flag) < 0) {
		fprintf(stderr, "coffer-worker: %s\n", coffer_errdetail());
		shared_free(s.sh);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (mode != RUNNER_SERVE) {
		rc = one_shot(&s, mode);
		goto out;
	}
	rc = serve(&s);
out:
	if (s.pid > 0) {
		int status;

		kill(s.pid, SIGKILL);
		while (waitpid(s.pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (s.pidfd >= 0)
		close(s.pidfd);
	coffer_queue_close(s.q);
	shared_free(s.sh);
	return rc;
}

/* The assignment, as the runner gets it: its variables and the worker id
 * chosen here if it named none (doc/worker.md 9.9). */
static int
hand_on(int fd, const struct worker_assign *a, const struct worker_config *cfg)
{
	struct coffer_buf b = COFFER_BUF_INIT(WORKER_ASSIGN_MAX + 64);
	size_t off = 0;
	int r = 0;

	/* First when it came (monotonic ms, this host's clock, which both
	 * processes share): the runner may still be in its standby exchange,
	 * and its ready_ms counts from the arrival all the same. */
	r = coffer_buf_put(&b, &cfg->assigned_ms, sizeof(cfg->assigned_ms));
	for (size_t i = 0; i < a->n && r == 0; i++)
		r = coffer_buf_putf(&b, "%s=%s\n", a->name[i], a->value[i]);
	if (r == 0 && worker_assign_get((void *)a, "COFFER_WORKER_ID") == NULL)
		r = coffer_buf_putf(&b, "COFFER_WORKER_ID=%s\n", cfg->worker_id);
	if (r == 0)
		r = coffer_buf_puts(&b, "\n");
	while (r == 0 && off < b.len) {
		ssize_t n = write(fd, b.data + off, b.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = coffer_errf(COFFER_E_IO, "the assignment to the runner: %s",
			    strerror(errno));
		else
			off += (size_t)n;
	}
	coffer_buf_release(&b);
	return r;
}

int
supervisor_standby(const struct worker_config *deploy, int64_t t0)
{
	static struct worker_assign a;
	struct worker_config cfg;
	struct sup s;
	sigset_t stops, old;
	pid_t pid;
	int64_t ta;
	int fds[2] = { -1, -1 }, rc = 1, r, status;

	memset(&s, 0, sizeof(s));
	memset(&cfg, 0, sizeof(cfg));
	s.pidfd = -1;
	s.cfg = deploy;
	if ((s.sh = shared_new()) == NULL ||
	    coffer_signal_watch_stop(&stop_flag) < 0) {
		fprintf(stderr, "coffer-worker: %s\n", coffer_errdetail());
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(fds, O_CLOEXEC) != 0) {
		fprintf(stderr, "coffer-worker: pipe: %s\n", strerror(errno));
		goto out;
	}
	/* The runner attests now, while this process waits for the
	 * assignment (doc/worker.md 9.9); as spawn() does, with the stop
	 * signals blocked across the fork. Its end of the pipe becomes
	 * descriptor 3, the one it keeps. */
	memset(s.sh, 0, sizeof(*s.sh));
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &stops, &old);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (dup2(fds[0], 3) != 3)
			_exit(RUNNER_EXIT_FAIL);
		runner_standby_main(deploy, s.sh, 3, t0);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	close(fds[0]);
	fds[0] = -1;
	if (pid < 0) {
		fprintf(stderr, "coffer-worker: fork: %s\n", strerror(errno));
		goto out;
	}
	s.pid = pid;
	s.spawned = 1;
	s.started_ms = coffer_mono_ms();
	s.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (standby_wait(&stop_flag, &a, &rc) != 0)
		goto out;
	ta = coffer_mono_ms();
	if ((r = standby_log_file(&a)) != 0 ||
	    (r = standby_config(&a, &cfg)) != 0) {
		fprintf(stderr, "coffer-worker: bad configuration: %s: %s\n",
		    coffer_strerror(r), coffer_errdetail());
		rc = 2;
		goto out;
	}
	if ((r = worker_config_ready(&cfg, standby_lookup(&a,
	    "COFFER_REPLICA_ID"))) != 0) {
		fprintf(stderr, "coffer-worker: %s\n", coffer_errdetail());
		rc = r == COFFER_E_NOMEM ? 1 : 2;
		goto out;
	}
	/* doc/worker.md 9.9: the runner holding S serves items; a
	 * confidential job's reduce replica starts cold. */
	if (cfg.reduce_key != NULL) {
		fprintf(stderr, "coffer-worker: bad configuration: a confidential"
		    " standby worker serves items only, not a reduce stage"
		    " (COFFER_REDUCE_KEY)\n");
		rc = 2;
		goto out;
	}
	cfg.assigned_ms = ta;
	s.cfg = &cfg;
	/* A runner that died in standby (it should not): a new one, cold. */
	if (waitpid(s.pid, &status, WNOHANG) == s.pid) {
		coffer_logkv(COFFER_LOG_WARN, "the standby runner died before the"
		    " assignment; starting a cold one", NULL);
		if (s.pidfd >= 0)
			close(s.pidfd);
		s.pidfd = -1;
		s.pid = 0;
		s.spawned = 0;
	} else if ((r = hand_on(fds[1], &a, &cfg)) != 0) {
		fprintf(stderr, "coffer-worker: %s\n", coffer_errdetail());
		goto out;
	} else {
		s.adopt = 1;
	}
	close(fds[1]);
	fds[1] = -1;
	rc = serve(&s);
out:
	/* A standby runner told nothing leaves at EOF (its S wiped); then,
	 * or any other runner, killed. */
	if (fds[1] >= 0)
		close(fds[1]);
	if (fds[0] >= 0)
		close(fds[0]);
	if (s.pid > 0) {
		if (!wait_runner(&s, 2000, &status))
			kill(s.pid, SIGKILL);
		while (s.pid > 0 && waitpid(s.pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (s.pidfd >= 0)
		close(s.pidfd);
	coffer_queue_close(s.q);
	shared_free(s.sh);
	worker_config_release(&cfg);
	worker_assign_release(&a);
	return rc;
}
