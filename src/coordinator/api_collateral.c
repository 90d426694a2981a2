// SPDX-License-Identifier: Apache-2.0
// POST /v1/collateral and GET /v1/collateral (doc/protocol/collateral.md
// section 3): operators push the TCB Info, identities, CRLs and VCEKs that
// `coffer collateral fetch` got; the coordinator never fetches them itself.
#include "coffer/error.h"
#include "coordinator/collcache.h"
#include "coordinator/coord.h"
#include "proto/collpush.h"

void
api_collateral_push(struct http_req *r)
{
	struct coord *c = r->ctx;
	struct coffer_collpush p = { NULL, 0 };
	const char *reason = NULL;
	json_t *answer = NULL;
	int e;

	/* C1 to C3 */
	if ((e = coffer_collpush_parse(r->body, r->body_len, &p)) != 0) {
		coord_refuse_err(r, e, "request.malformed");
		return;
	}
	/* C4 to C7 */
	if ((e = coord_coll_apply(c, &p, &reason, &answer)) != 0) {
		if (reason != NULL)
			coord_refuse(r, reason, "items", "%s", coffer_errdetail());
		else
			http_reply_coffer_err(r, e);
	} else {
		http_reply_json(r, 200, answer);
	}
	coffer_collpush_release(&p);
}

void
api_collateral_list(struct http_req *r)
{
	json_t *answer = NULL;
	int e;

	if ((e = coord_coll_list(r->ctx, &answer)) != 0)
		http_reply_coffer_err(r, e);
	else
		http_reply_json(r, 200, answer);
}
