/* SPDX-License-Identifier: Apache-2.0 */
/* The job state machine (doc/manager.md section "Job states"): the only
 * place that says which event may move a job from which state. */
#ifndef COFFER_MANAGER_JOBSTATE_H
#define COFFER_MANAGER_JOBSTATE_H

enum mgr_state {
	MGR_PENDING = 0,   /* accepted and stored; items not yet loaded */
	MGR_RUNNING = 1,   /* items loaded, replicas asked for, controlled */
	MGR_COMPLETED = 2, /* every item acknowledged */
	MGR_FAILED = 3,    /* items dead-lettered, or the job could not run */
	MGR_STOPPED = 4,   /* stopped on request */
};

enum mgr_event {
	MGR_EV_START = 0,    /* the items are in the queue */
	MGR_EV_COMPLETE = 1, /* done == total */
	MGR_EV_FAIL = 2,     /* all resolved with dead letters, or fatal error */
	MGR_EV_STOP = 3,     /* POST /v1/jobs/{id}/stop */
	MGR_EV_DELETE = 4,   /* DELETE /v1/jobs/{id}: allowed, state unchanged */
};

/* The state after event e in state s: 0, or COFFER_E_STATE with a detail
 * ("the job has already ended: it is completed, there is nothing to
 * stop" for STOP). */
int mgr_state_next(enum mgr_state s, enum mgr_event e, enum mgr_state *next)
	__attribute__((warn_unused_result));
const char *mgr_state_name(enum mgr_state s);
/* COFFER_E_FORMAT for an unknown name. */
int mgr_state_parse(const char *name, enum mgr_state *out)
	__attribute__((warn_unused_result));
int mgr_state_terminal(enum mgr_state s);

#endif
