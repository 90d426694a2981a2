// SPDX-License-Identifier: Apache-2.0
// GET /metrics: Prometheus text (doc/api-coordinator.md section 9) for the
// operator: releases granted, refusals by reason name, nonces remembered,
// requests by route, collateral held and when it expires. Counts only: no key, policy content or identity.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "coordinator/group.h"
#include "coordinator/waiters.h"
#include "http/metrics.h"
#include "proto/itemproof.h"

#ifndef COFFER_VERSION
#define COFFER_VERSION "0.0.0-dev"
#endif

void
coord_count_refusal(struct coord *c, const char *reason)
{
	size_t i;

	for (i = 0; i < c->n_refusals; i++)
		if (strcmp(c->refusals[i].reason, reason) == 0)
			break;
	if (i == c->n_refusals) {
		/* The names are a fixed set (refuse.c): a full table is a bug,
		 * counted under the last row rather than lost. */
		if (i == COORD_REFUSAL_KINDS)
			i--;
		else
			snprintf(c->refusals[c->n_refusals++].reason,
			    COORD_REASON_MAX, "%s", reason);
	}
	c->refusals[i].n++;
}

struct counts {
	struct coffer_buf *b;
	int r;
};

static void
on_count(const char *route, const char *method, int code, uint64_t n, void *arg)
{
	struct counts *x = arg;
	char cs[16];
	const char *l[] = { "route", route, "method", method, "code", cs, NULL };

	snprintf(cs, sizeof(cs), "%d", code);
	if (x->r == 0)
		x->r = http_metrics_sample(x->b, "coffer_coordinator_http_requests_total",
		    l, (double)n);
}

/* The group commit of item proofs (group.h): requests per disk flush. */
static int
group_metrics(struct coord *c, struct coffer_buf *b)
{
	struct coord_group_stats gs;
	int r;

	coord_group_stats(c->group, &gs);
	if ((r = http_metrics_family(b, "coffer_coordinator_proof_commits_total",
	    "counter", "Durable commits of groups of item proof requests.")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_proof_commits_total",
	    NULL, (double)gs.commits)) != 0 ||
	    (r = http_metrics_family(b,
	    "coffer_coordinator_proof_commit_requests_total", "counter",
	    "Item proof requests those commits answered.")) != 0 ||
	    (r = http_metrics_sample(b,
	    "coffer_coordinator_proof_commit_requests_total", NULL,
	    (double)gs.requests)) != 0 ||
	    (r = http_metrics_family(b, "coffer_coordinator_proof_commit_failures_total",
	    "counter", "Groups of item proof requests rolled back, each request "
	    "answered 500.")) != 0)
		return r;
	return http_metrics_sample(b, "coffer_coordinator_proof_commit_failures_total",
	    NULL, (double)gs.failures);
}

/* Item proofs by outcome, receipts, jobs in memory (ledger.h). */
static int
ledger_metrics(struct coord *c, struct coffer_buf *b)
{
	struct coord_ledger_stats st;
	int r;

	coord_ledger_stats(c->ledger, &st);
	if ((r = http_metrics_family(b, "coffer_coordinator_item_proofs_total",
	    "counter", "Item proofs answered since the start, by outcome.")) != 0)
		return r;
	for (uint8_t o = COFFER_ACK_COMMITTED; o <= COFFER_ACK_REFUSED; o++) {
		const char *l[] = { "outcome", coffer_itemack_outcome_name(o), NULL };

		if ((r = http_metrics_sample(b, "coffer_coordinator_item_proofs_total",
		    l, (double)st.proofs[o])) != 0)
			return r;
	}
	if ((r = http_metrics_family(b, "coffer_coordinator_receipts_total",
	    "counter", "Jobs closed and their receipts signed since the start.")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_receipts_total", NULL,
	    (double)st.receipts)) != 0 ||
	    (r = http_metrics_family(b, "coffer_coordinator_open_jobs", "gauge",
	    "Open jobs whose ledger is in memory.")) != 0)
		return r;
	if ((r = http_metrics_sample(b, "coffer_coordinator_open_jobs", NULL,
	    (double)st.open_jobs)) != 0 ||
	    (r = http_metrics_family(b, "coffer_coordinator_leaves_waiting",
	    "gauge", "Requests of a stage's results held until it closes "
	    "(?wait=S).")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_leaves_waiting", NULL,
	    (double)coord_waiters_count(c->waiters))) != 0 ||
	    (r = http_metrics_family(b, "coffer_coordinator_jobs_waiting",
	    "gauge", "Requests of a job held until it closes (?wait=S).")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_jobs_waiting", NULL,
	    (double)coord_waiters_count_jobs(c->waiters))) != 0)
		return r;
	return group_metrics(c, b);
}

static int
render(struct coord *c, struct coffer_buf *b)
{
	struct counts x = { b, 0 };
	const char *vl[] = { "version", COFFER_VERSION, "backend",
	    coffer_tee_backend_name(c->cfg.backend), NULL };
	int r;

	if ((r = http_metrics_family(b, "coffer_coordinator_releases_total",
	    "counter", "Key releases granted since the start.")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_releases_total", NULL,
	    (double)c->releases)) != 0 ||
	    (r = http_metrics_family(b, "coffer_coordinator_binds_total",
	    "counter", "Of the releases, those that bound a standby session "
	    "(key-release.md 6.7).")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_binds_total", NULL,
	    (double)c->binds)) != 0 ||
	    (r = http_metrics_family(b, "coffer_coordinator_standby_made_total",
	    "counter", "Standby sessions made since the start.")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_standby_made_total",
	    NULL, (double)c->standbys_made)) != 0 ||
	    (r = http_metrics_family(b, "coffer_coordinator_standby_sessions",
	    "gauge", "Standby sessions held, not yet bound or expired.")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_standby_sessions", NULL,
	    (double)coord_standbys_live(c->standbys))) != 0 ||
	    (r = http_metrics_family(b, "coffer_coordinator_refusals_total",
	    "counter", "Requests refused since the start, by reason name.")) != 0)
		return r;
	for (size_t i = 0; i < c->n_refusals; i++) {
		const char *l[] = { "reason", c->refusals[i].reason, NULL };

		if ((r = http_metrics_sample(b, "coffer_coordinator_refusals_total", l,
		    (double)c->refusals[i].n)) != 0)
			return r;
	}
	if ((r = http_metrics_family(b, "coffer_coordinator_nonces_remembered",
	    "gauge", "Key-release nonces presented and not yet expired.")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_nonces_remembered", NULL,
	    (double)coord_nonces_used(c->nonces))) != 0 ||
	    (r = http_metrics_family(b, "coffer_coordinator_http_requests_total",
	    "counter", "HTTP requests answered, by route pattern, method and "
	    "status code.")) != 0)
		return r;
	http_server_foreach_count(c->http, on_count, &x);
	if (x.r != 0)
		return x.r;
	if ((r = http_metrics_family(b, "coffer_coordinator_collateral_items",
	    "gauge", "Collateral items held (protocol/collateral.md).")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_collateral_items", NULL,
	    (double)c->coll.items)) != 0)
		return r;
	/* For an alert before releases start failing with collateral.expired. */
	if (c->coll.earliest_expiry != INT64_MAX &&
	    ((r = http_metrics_family(b,
	    "coffer_coordinator_collateral_earliest_expiry_seconds", "gauge",
	    "When the first held TCB Info, identity or CRL stops being current, "
	    "Unix seconds.")) != 0 ||
	    (r = http_metrics_sample(b,
	    "coffer_coordinator_collateral_earliest_expiry_seconds", NULL,
	    (double)c->coll.earliest_expiry)) != 0))
		return r;
	if ((r = ledger_metrics(c, b)) != 0)
		return r;
	if ((r = http_metrics_family(b, "coffer_coordinator_start_time_seconds",
	    "gauge", "When this coordinator started, Unix seconds.")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_start_time_seconds",
	    NULL, (double)(c->start_ms / 1000))) != 0 ||
	    (r = http_metrics_family(b, "coffer_coordinator_build_info", "gauge",
	    "Always 1; the labels give the version and the TEE backend.")) != 0 ||
	    (r = http_metrics_sample(b, "coffer_coordinator_build_info", vl, 1)) != 0)
		return r;
	return 0;
}

void
api_metrics(struct http_req *r)
{
	struct coffer_buf b = COFFER_BUF_INIT((size_t)1 << 20);
	int e;

	if ((e = render(r->ctx, &b)) != 0) {
		coffer_buf_release(&b);
		http_reply_coffer_err(r, e);
		return;
	}
	http_reply_text(r, 200, HTTP_METRICS_CONTENT_TYPE, (const char *)b.data,
	    b.len);
	coffer_buf_release(&b);
}
