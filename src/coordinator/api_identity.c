// SPDX-License-Identifier: Apache-2.0
// GET /healthz, /v1/identity and /v1/evidence (doc/api-coordinator.md
// section 2). Nothing here needs to be trusted by the reader: the identity
// is only believed once the evidence that binds it has been verified
// (`coffer coordinator verify`).
#include <jansson.h>

#include "coordinator/coord.h"
#include "lib/enc.h"

#ifndef COFFER_VERSION
#define COFFER_VERSION "0.0.0-dev"
#endif

void
api_healthz(struct http_req *r)
{
	http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void
api_identity(struct http_req *r)
{
	struct coord *c = r->ctx;
	char rd[2 * COFFER_TEE_REPORT_DATA_LEN + 1];
	json_t *j;

	coffer_hex_encode(c->report_data, sizeof(c->report_data), rd);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "identity", c->id_line,
	    "fingerprint", c->fingerprint, "backend",
	    coffer_tee_backend_name(c->cfg.backend), "report_data", rd,
	    "version", COFFER_VERSION);
	if (j != NULL && c->insecure &&
	    json_object_set_new(j, "insecure", json_string(COORD_SIM_WARNING)) != 0) {
		json_decref(j);
		j = NULL;
	}
	http_reply_json(r, 200, j);
}

void
api_evidence(struct http_req *r)
{
	struct coord *c = r->ctx;

	/* The backend's envelope (doc/format/evidence.md section 2), byte for
	 * byte: a verifier checks exactly what the backend produced. */
	http_reply_text(r, 200, "application/json", (const char *)c->evidence,
	    c->evidence_len);
}
