// SPDX-License-Identifier: Apache-2.0
// Which replicas hold items (doc/manager.md section 5): the queue names the
// workers with items in flight, each native worker's id names its replica
// (doc/queue.md section 1), and the manager remembers since when each holds
// its item. A scale-down passes that to the actuator, which then stops idle
// replicas first, and busy ones with the youngest item after them, instead
// of the newest replicas whatever they are doing (doc/controllers.md 6.7:
// killing a long item in the tail was the deadline controller's main loss).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actuator/actuator.h"
#include "coffer/error.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "manager/job_int.h"
#include "manager/mgr.h"
#include "queue/queue.h"

#if COFFER_QUEUE_REPLICA_MAX != COFFER_REPLICA_ID_MAX
#error "a replica id must fit a worker id: queue.h and actuator.h disagree"
#endif

struct mgr_busy {
	char worker[COFFER_QUEUE_WORKER_MAX + 1];
	uint64_t item;     /* FNV-1a of the item id: a new item, a new age */
	double since_t;    /* job time it was first seen on it; < 0 unknown */
};

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

void
mgr_busy_release(struct mgr_job *j)
{
	free(j->busy);
	j->busy = NULL;
	j->nbusy = 0;
	j->busy_known = 0;
}

int
mgr_busy_refresh(struct mgr_job *j, double t)
{
	struct coffer_queue_holder *h = NULL;
	struct mgr_busy *b = NULL;
	size_t n = 0;
	int r;

	if (j->q == NULL)
		return coffer_errf(COFFER_E_STATE, "job %s: no queue", j->id);
	if ((r = coffer_queue_holders(j->q, &h, &n)) != 0)
		return r;
	if (n > 0 && (b = coffer_calloc(n, sizeof(*b))) == NULL) {
		coffer_queue_holders_free(h, n);
		return coffer_errf(COFFER_E_NOMEM, "busy workers");
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(b[i].worker, sizeof(b[i].worker), "%s", h[i].worker);
		b[i].item = fnv1a(h[i].item);
		/* Seen on this item at the last read: it started before then.
		 * New: it started since the last read (about a second ago), so
		 * now is a fair estimate; unknown before any read. */
		b[i].since_t = j->busy_known ? t : -1;
		for (size_t k = 0; k < j->nbusy; k++)
			if (j->busy[k].item == b[i].item &&
			    strcmp(j->busy[k].worker, b[i].worker) == 0) {
				b[i].since_t = j->busy[k].since_t;
				break;
			}
	}
	coffer_queue_holders_free(h, n);
	free(j->busy);
	j->busy = b;
	j->nbusy = n;
	j->busy_known = 1;
	return 0;
}

int
mgr_replicas_set(struct mgr_job *j, int n, double t)
{
	struct coffer_replica_hint *hint = NULL;
	char (*ids)[COFFER_REPLICA_ID_MAX + 1] = NULL;
	size_t k = 0;
	int r;

	if (n >= j->desired || j->spec.queue_layout != MGR_QUEUE_COFFER)
		return coffer_actuator_set_replicas(j->act, n);
	if ((r = mgr_busy_refresh(j, t)) != 0) {
		coffer_warn("job %s: cannot read which replicas are busy (%s): "
		    "scaling down newest first", j->id, coffer_errdetail());
		return coffer_actuator_set_replicas(j->act, n);
	}
	if (j->nbusy > 0 &&
	    ((hint = coffer_calloc(j->nbusy, sizeof(*hint))) == NULL ||
	    (ids = coffer_calloc(j->nbusy, sizeof(*ids))) == NULL)) {
		free(hint);
		coffer_warn("job %s: no memory for the scale-down hint: scaling "
		    "down newest first", j->id);
		return coffer_actuator_set_replicas(j->act, n);
	}
	for (size_t i = 0; i < j->nbusy; i++) {
		/* Workers that name no replica (started by hand, or by an
		 * earlier manager) are no replica of this actuator. */
		if (coffer_queue_worker_replica(j->busy[i].worker, ids[k],
		    sizeof(ids[k])) != 0)
			continue;
		hint[k].replica_id = ids[k];
		hint[k].busy_s = j->busy[i].since_t >= 0 ?
		    t - j->busy[i].since_t : -1;
		k++;
	}
	r = coffer_actuator_set_replicas_hint(j->act, n, hint, k);
	free(hint);
	free(ids);
	return r;
}
