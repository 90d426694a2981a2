/* SPDX-License-Identifier: Apache-2.0 */
/* What job.c, tick.c, replicas.c and job_json.c share about a job's inside;
 * the handlers use mgr.h only. */
#ifndef COFFER_MANAGER_JOB_INT_H
#define COFFER_MANAGER_JOB_INT_H

#include <jansson.h>

#include "coffer/controller.h"
#include "manager/jobspec.h"
#include "manager/jobstate.h"
#include "manager/mgr.h"

/* job.c */
/* Replace the job's reason (printf-style). */
void mgr_job_reason(struct mgr_job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Apply event ev (jobstate.c) and record it: state, reason, times in the
 * store; release the runtime when the state is terminal. COFFER_E_STATE if
 * the event is not allowed. */
int mgr_job_transition(struct mgr *m, struct mgr_job *j, enum mgr_event ev,
    const char *reason) __attribute__((warn_unused_result));
/* Move the job to failed with a reason (printf-style); logs if it cannot. */
void mgr_job_fail(struct mgr *m, struct mgr_job *j, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Find the job's controller and create its state. A create() error names
 * a parameter; it is returned as COFFER_E_FORMAT under field_prefix
 * ("controller.params.trigger_up: ...").
 */
int mgr_job_ctl_create(const struct mgr_jobspec *s, const char *field_prefix,
    const struct coffer_controller **def, void **state, void **dl)
	__attribute__((warn_unused_result));
void mgr_job_free(struct mgr_job *j);
/* Compact JSON text of v (malloc'd), or NULL. */
char *mgr_json_text(const json_t *v);

/* replicas.c */
/* The queue's name: the job id, or "job" for the Asperathos layout. */
const char *mgr_job_queue_name(const struct mgr_job *j);
/* Create the job's actuator and ask it for j->desired replicas, first
 * capped at the items left (mgr_replicas_cap). */
int mgr_replicas_start(struct mgr *m, struct mgr_job *j)
	__attribute__((warn_unused_result));
/* The items left, L = total - done - failed (the last sample's counts;
 * the loaded total before any sample), or -1 before the job is loaded. */
int64_t mgr_job_items_left(const struct mgr_job *j);
/* No replica beyond the work (doc/manager.md section 4): a count of n
 * replicas raised from cur, capped at max(L, cur, 1); n itself if it is
 * not above cur or if L is unknown. At a start, cur is 0. */
int mgr_replicas_cap(const struct mgr_job *j, int n, int cur);
/* Replace the item workers of a drained job by one replica of its reduce
 * stage (coffer-worker --reduce KEY): the one started early (j->ract,
 * whose crashes so far go to j->reduce_crash_base), else a new one. */
int mgr_replicas_start_reduce(struct mgr *m, struct mgr_job *j)
	__attribute__((warn_unused_result));
/* Start the reduce replica while the map stage runs, into j->ract
 * (doc/manager.md 9.4). */
int mgr_replicas_start_reduce_early(struct mgr *m, struct mgr_job *j)
	__attribute__((warn_unused_result));
/* Ask the job's actuators (item workers and an early reduce replica) for
 * 0 replicas and hand them to the draining list (SIGTERM now, SIGKILL
 * after the grace period, freed when empty). */
void mgr_replicas_drain(struct mgr *m, struct mgr_job *j);
/* The same for the early reduce replica alone (j->ract). */
void mgr_replicas_drain_early(struct mgr *m, struct mgr_job *j);
/* Tick the draining actuators; free the empty ones. */
void mgr_replicas_tick_draining(struct mgr *m);
/* 1 if replicas of job id are still being stopped (after a tick). */
int mgr_replicas_draining(struct mgr *m, const char *id);

/* busy.c */
/* Read which workers hold items (one round trip) and remember since when
 * each holds its item (job time t). Native (Coffer-layout) jobs only. */
int mgr_busy_refresh(struct mgr_job *j, double t)
	__attribute__((warn_unused_result));
/* Ask the job's actuator for n replicas at job time t. A scale-down of a
 * native job reads the busy workers first and passes them as the
 * actuator's hint (idle replicas stop first); if that read fails, or for
 * Asperathos-layout jobs, a plain set_replicas(). */
int mgr_replicas_set(struct mgr_job *j, int n, double t)
	__attribute__((warn_unused_result));
/* Forget the busy workers (the runtime ends). */
void mgr_busy_release(struct mgr_job *j);

/* drain.c (doc/manager.md section 3, doc/queue.md 4.9) */
/* Subscribe to a running native job's drain signal, once (no-op when it
 * is subscribed or for the Asperathos layout): a message, or a confirmed
 * subscription, runs a tick at once (mgr_tick_soon; messages at most
 * one per 100 ms), and sets j->drain_signal_ms (the last message's
 * time). Failures only cost the signal. */
void mgr_drain_watch(struct mgr *m, struct mgr_job *j);
/* Unsubscribe (the runtime ends). NULL-safe. */
void mgr_drain_watch_free(struct mgr_job *j);

#endif
