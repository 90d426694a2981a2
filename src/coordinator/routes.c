// SPDX-License-Identifier: Apache-2.0
// The coordinator's routes, one row each: method, path, handler, and the
// largest body it takes (doc/api-coordinator.md). No route needs a bearer
// token: owners authenticate by signing what they send, workers by their
// evidence, and everything the coordinator answers that matters is signed
// by its attested key; pushed collateral is signed by Intel or AMD.
#include "coordinator/coord.h"
#include "coordinator/group.h"
#include "proto/collpush.h"
#include "proto/itembatch.h"
#include "proto/keyrelease.h"
#include "proto/policy.h"
#include "proto/signed.h"
#include "proto/standby.h"

const struct http_route coord_routes[] = {
	/* method   path                 handler        scope            max body */
	{ "GET",   "/healthz",          api_healthz,   HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/metrics",          api_metrics,   HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/identity",      api_identity,  HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/evidence",      api_evidence,  HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/recovery",      api_recovery,  HTTP_SCOPE_NONE, 0 },
	{ "POST",  "/v1/policies",      api_policy_submit, HTTP_SCOPE_NONE, COFFER_POLICY_MAX_BYTES },
	{ "GET",   "/v1/policies",      api_policy_list, HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/policies/{hash}", api_policy_show, HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/policies/{hash}/status", api_policy_status, HTTP_SCOPE_NONE, 0 },
	{ "POST",  "/v1/policies/{hash}/approvals", api_policy_approve, HTTP_SCOPE_NONE, COFFER_SIGNED_MAX },
	{ "POST",  "/v1/policies/{hash}/revocations", api_policy_revoke, HTTP_SCOPE_NONE, COFFER_SIGNED_MAX },
	{ "POST",  "/v1/keys",          api_key_upload, HTTP_SCOPE_NONE, COFFER_KEYUPLOAD_MAX },
	{ "POST",  "/v1/jobs",          api_job_open,  HTTP_SCOPE_NONE, COFFER_JOBREQ_MAX },
	{ "GET",   "/v1/jobs/{job}",    api_job_show,  HTTP_SCOPE_NONE, 0 },
	{ "POST",  "/v1/jobs/{job}/nonce", api_release_nonce, HTTP_SCOPE_NONE, 0 },
	{ "POST",  "/v1/jobs/{job}/release", api_release, HTTP_SCOPE_NONE, COFFER_RELEASE_REQ_MAX },
	{ "POST",  "/v1/standby/nonce", api_standby_nonce, HTTP_SCOPE_NONE, 0 },
	{ "POST",  "/v1/standby",       api_standby,   HTTP_SCOPE_NONE, COFFER_STANDBY_REQ_MAX },
	{ "POST",  "/v1/jobs/{job}/bind", api_bind,    HTTP_SCOPE_NONE, COFFER_BIND_REQ_MAX },
	{ "POST",  "/v1/jobs/{job}/proofs", api_proofs, HTTP_SCOPE_NONE, COFFER_ITEMPROOF_BATCH_BYTES },
	{ "POST",  "/v1/jobs/{job}/close", api_job_close, HTTP_SCOPE_NONE, COFFER_CLOSE_REQ_MAX },
	{ "GET",   "/v1/jobs/{job}/stages/{stage}/leaves", api_stage_leaves, HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/jobs/{job}/receipt", api_receipt, HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/jobs/{job}/bundle/{fingerprint}", api_bundle, HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/jobs/{job}/result-key/{fingerprint}", api_result_key, HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/log/head",      api_log_head,  HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/log/inclusion", api_log_inclusion, HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/log/consistency", api_log_consistency, HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/log/entries",   api_log_entries, HTTP_SCOPE_NONE, 0 },
	{ "POST",  "/v1/collateral",    api_collateral_push, HTTP_SCOPE_NONE, COFFER_COLLPUSH_MAX },
	{ "GET",   "/v1/collateral",    api_collateral_list, HTTP_SCOPE_NONE, 0 },
};

const size_t coord_nroutes = sizeof(coord_routes) / sizeof(coord_routes[0]);

/* G3: what any other route reads or writes is durable state (a receipt,
 * a signed head, a job's counts), and its own transaction never nests in
 * the group's. */
void
coord_before_route(struct http_req *r)
{
	struct coord *c = r->ctx;

	if (r->match.route->handler != api_proofs)
		coord_group_flush(c->group);
}
