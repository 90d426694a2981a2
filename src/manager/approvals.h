/* SPDX-License-Identifier: Apache-2.0 */
/* A confidential job's policy approvals as its coordinator reports them
 * (doc/manager.md section 9.5), for the API and the dashboard. The manager
 * only relays: it holds no key, checks no signature and vouches for
 * nothing; an owner checks with `coffer policy status`. Asked on the
 * manager's event loop, never blocking it: a coordinator that is down or
 * hangs is a state shown in the answer, not a harm to the job. */
#ifndef COFFER_MANAGER_APPROVALS_H
#define COFFER_MANAGER_APPROVALS_H

#include <stddef.h>

#include <jansson.h>

struct coffer_policy;
struct mgr;
struct mgr_job;

/* Asked again at most this often, while the job is pending or running or
 * was shown (GET /v1/jobs/{id}) within MGR_APPROVALS_VIEWED_MS. */
#define MGR_APPROVALS_REFRESH_MS 2000
#define MGR_APPROVALS_VIEWED_MS 30000
/* One request's bound, or --coordinator-timeout-ms when shorter; a slower
 * coordinator is shown as unreachable. */
#define MGR_APPROVALS_TIMEOUT_MS 5000

/* Start the next request of job j when one is due (a confidential job
 * only; nothing in flight). Called every tick for every job. */
void mgr_approvals_tick(struct mgr *m, struct mgr_job *j);
/* The job was shown: keep its approvals fresh for a while. */
void mgr_approvals_viewed(struct mgr_job *j);
/* The `approvals` member of the job's `confidential` (doc/api.md section
 * 4); NULL when out of memory. */
json_t *mgr_approvals_json(const struct mgr_job *j);
/* Cancel a request in flight and free j's approvals. */
void mgr_approvals_free(struct mgr_job *j);

/*
 * The parsers, pure (for tests and the fuzzer). owners: from the policy's
 * canonical text, which must hash to policy_hex: [{"name", "fingerprint"},
 * ...] in policy order. view: from the answer of GET
 * /v1/policies/{hash}/status (doc/api-coordinator.md section 4.2), for the
 * policy policy_hex with those owners: {"state", "active", "reason"?,
 * "needed"?, "owners": [{"name", "fingerprint", "approval"}]}, approval
 * "approved", "revoked" or "missing". COFFER_E_PROTO naming what is wrong
 * with an answer, COFFER_E_NOMEM.
 */
int mgr_approvals_owners(const char *text, size_t len, const char *policy_hex,
    json_t **owners) __attribute__((warn_unused_result));
/* The owners array of an already checked policy p. */
int mgr_approvals_owners_of(const struct coffer_policy *p, json_t **owners)
	__attribute__((warn_unused_result));
int mgr_approvals_view(const json_t *owners, const char *text, size_t len,
    const char *policy_hex, json_t **view) __attribute__((warn_unused_result));

#endif
