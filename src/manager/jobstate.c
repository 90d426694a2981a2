// SPDX-License-Identifier: Apache-2.0
// The job state machine as a table (jobstate.h; doc/manager.md).
#include <string.h>

#include "coffer/error.h"
#include "manager/jobstate.h"

#define NSTATES 5
#define NEVENTS 5
#define NONE (-1)

/* next[state][event]; NONE: not allowed. */
static const int next_state[NSTATES][NEVENTS] = {
	/*              START        COMPLETE       FAIL        STOP         DELETE */
	[MGR_PENDING] = { MGR_RUNNING, NONE,          MGR_FAILED, MGR_STOPPED, NONE },
	[MGR_RUNNING] = { NONE,        MGR_COMPLETED, MGR_FAILED, MGR_STOPPED, NONE },
	[MGR_COMPLETED] = { NONE,      NONE,          NONE,       NONE,        MGR_COMPLETED },
	[MGR_FAILED] = { NONE,         NONE,          NONE,       NONE,        MGR_FAILED },
	[MGR_STOPPED] = { NONE,        NONE,          NONE,       NONE,        MGR_STOPPED },
};

static const char *const state_names[NSTATES] = {
	"pending", "running", "completed", "failed", "stopped",
};

static const char *const event_names[NEVENTS] = {
	"start", "complete", "fail", "stop", "delete",
};

const char *
mgr_state_name(enum mgr_state s)
{
	return (unsigned)s < NSTATES ? state_names[s] : "unknown";
}

int
mgr_state_parse(const char *name, enum mgr_state *out)
{
	for (int i = 0; i < NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum mgr_state)i;
			return 0;
		}
	return coffer_errf(COFFER_E_FORMAT, "state: unknown job state '%s'", name);
}

int
mgr_state_terminal(enum mgr_state s)
{
	return s == MGR_COMPLETED || s == MGR_FAILED || s == MGR_STOPPED;
}

int
mgr_state_next(enum mgr_state s, enum mgr_event e, enum mgr_state *next)
{
	int n;

	if ((unsigned)s >= NSTATES || (unsigned)e >= NEVENTS)
		return coffer_errf(COFFER_E_INTERNAL, "state %d, event %d", s, e);
	n = next_state[s][e];
	if (n == NONE) {
		if (e == MGR_EV_DELETE)
			return coffer_errf(COFFER_E_STATE,
			    "the job is %s: stop it before deleting it",
			    state_names[s]);
		/* Only a job that has ended refuses STOP: say so, not that
		 * stopping is impossible (the user may think it still runs). */
		if (e == MGR_EV_STOP)
			return coffer_errf(COFFER_E_STATE, "the job has already "
			    "ended: it is %s, there is nothing to stop",
			    state_names[s]);
		return coffer_errf(COFFER_E_STATE, "the job is %s: cannot %s it",
		    state_names[s], event_names[e]);
	}
	*next = (enum mgr_state)n;
	return 0;
}
