// SPDX-License-Identifier: Apache-2.0
// The coordinator's routes, one row each: method, path, handler, and the
// largest body it takes (doc/api-coordinator.md). No route needs a bearer
// token: owners authenticate by signing what they send, workers by their
// evidence, and everything the coordinator answers that matters is signed
// by its attested key.
#include "coordinator/coord.h"

const struct http_route coord_routes[] = {
	/* method   path                 handler        scope            max body */
	{ "GET",   "/healthz",          api_healthz,   HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/identity",      api_identity,  HTTP_SCOPE_NONE, 0 },
	{ "GET",   "/v1/evidence",      api_evidence,  HTTP_SCOPE_NONE, 0 },
};

const size_t coord_nroutes = sizeof(coord_routes) / sizeof(coord_routes[0]);
