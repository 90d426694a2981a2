/* SPDX-License-Identifier: Apache-2.0 */
/* The local actuator's standby pool (doc/manager.md section 5.4): worker
 * processes started before their job, which do what they can without one
 * and then wait for an assignment on stdin; a job's replica takes one
 * instead of starting cold (actuator/local.h, coffer_actuator_local_standby). */
#ifndef COFFER_ACTUATOR_STANDBY_H
#define COFFER_ACTUATOR_STANDBY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "actuator/actuator.h"

#define COFFER_STANDBY_KINDS_MAX 8
#define COFFER_STANDBY_TARGET_MAX 64
#define COFFER_STANDBY_KIND_MAX 300      /* a kind's name, bytes */
#define COFFER_STANDBY_ASSIGNMENT_MAX ((size_t)60 << 10)

struct coffer_standby;

struct coffer_standby_config {
	char *const *argv;     /* what a standby worker runs (coffer-worker),
	                          NULL-terminated */
	char *const *env;      /* "KEY=VALUE" added to the caller's own
	                          environment for every standby worker
	                          (COFFER_STANDBY=1, the manager's markers),
	                          may be NULL */
	const char *log_path;  /* their stdout+stderr until they are
	                          assigned (and after, unless the assignment
	                          moves them); NULL: inherited */
	int target;            /* idle workers kept per kind, 0-64 */
	int grace_ms;          /* stop: stdin closed and SIGTERM, SIGKILL
	                          after this; 0 = 10000 */
	int refill_delay_ms;   /* after a take, no refill of that kind for
	                          this long (the job's workers get the CPU
	                          first); < 0: 1000, 0: at once */
};

/*
 * A pool; nothing is started before coffer_standby_tick(). cfg is copied.
 * COFFER_E_INVAL (target out of range, no argv), COFFER_E_NOMEM.
 */
int coffer_standby_new(const struct coffer_standby_config *cfg,
    struct coffer_standby **out) __attribute__((warn_unused_result));

/*
 * A kind of standby worker: name (1-300 bytes, unique in the pool), env
 * ("KEY=VALUE", may be NULL) added after the pool's for its workers, and
 * max_age_ms: an idle worker older than this is stopped and replaced (a
 * confidential worker's standby session expires at the coordinator);
 * 0: never. COFFER_E_INVAL (a name given twice, too many kinds),
 * COFFER_E_NOMEM.
 */
int coffer_standby_add_kind(struct coffer_standby *p, const char *name,
    char *const *env, int max_age_ms) __attribute__((warn_unused_result));

/*
 * Reap standby workers that exited (one that dies idle is counted and
 * replaced after a back-off: 250 ms doubling to 30 s while they die
 * young, reset by one that lived 60 s), SIGKILL those stopped past the
 * grace period, stop idle workers past their kind's max age (one per kind
 * and tick), and start workers until each kind has target idle ones.
 * Never waits. Call it at least once a second.
 */
void coffer_standby_tick(struct coffer_standby *p);

/*
 * Hand an idle worker of kind name its assignment: assignment (at most
 * COFFER_STANDBY_ASSIGNMENT_MAX bytes, written whole to its stdin, which
 * is then closed). From then on the process is the caller's: it waits
 * for it (waitpid) and stops it. *pid and id (the worker's
 * COFFER_REPLICA_ID, NUL-terminated, idlen >= COFFER_REPLICA_ID_MAX + 1)
 * are written on success. A worker that died meanwhile is reaped and the
 * next one tried. The caller ignores SIGPIPE (a write to a worker that
 * just died must not end it). 0, or COFFER_E_NOTFOUND (no such kind, or
 * none idle), COFFER_E_LIMIT (assignment too long).
 */
int coffer_standby_take(struct coffer_standby *p, const char *name,
    const char *assignment, pid_t *pid, char *id, size_t idlen)
	__attribute__((warn_unused_result));

struct coffer_standby_status {
	char name[COFFER_STANDBY_KIND_MAX + 1];
	int target;
	int idle;               /* alive and waiting (attesting ones too: the
	                           pool cannot tell) */
	int stopping;           /* recycled or stopped, not exited yet */
	int64_t started_total;  /* standby workers started */
	int64_t taken_total;    /* given to a job's replica */
	int64_t died_total;     /* exited unasked while idle */
	int64_t recycled_total; /* stopped for their age */
	int backoff_ms;         /* the current back-off (0: none) */
	int last_status;        /* how the last one that died ended: exit
	                           status, or 128 + signal; -1: none died */
};

/* How many kinds the pool has. */
int coffer_standby_kinds(const struct coffer_standby *p);

/* Kind i's figures (0 <= i < coffer_standby_kinds). */
void coffer_standby_kind_status(const struct coffer_standby *p, int i,
    struct coffer_standby_status *st);

/* A standby worker as coffer_standby_workers lists it. */
struct coffer_standby_worker {
	char id[COFFER_REPLICA_ID_MAX + 1];
	pid_t pid;
	int kind;               /* index, as coffer_standby_kind_status */
	int stopping;
	double age_s;           /* since it was started */
};

/* The pool's workers, idle and stopping; *out (free()) of *n, NULL when
 * none. COFFER_E_NOMEM. */
int coffer_standby_workers(const struct coffer_standby *p,
    struct coffer_standby_worker **out, size_t *n)
	__attribute__((warn_unused_result));

/* Stop every worker (stdin closed, SIGTERM; SIGKILL after the grace
 * period) and wait until they are all gone; start no more. Blocks. */
void coffer_standby_stop_all(struct coffer_standby *p);

/* Free the pool; workers still there are killed (SIGKILL) and reaped.
 * NULL is a no-op. */
void coffer_standby_free(struct coffer_standby *p);

#endif
