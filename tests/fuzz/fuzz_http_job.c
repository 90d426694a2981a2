// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: what the manager's HTTP front takes from a client for
// POST /v1/jobs (src/manager/jobspec.c), and the route matcher
// (src/http/router.c) on the same bytes as a path. An accepted job must
// survive the store's round trip: its normalised form parses back (as a
// restarted manager does) into the same normalised form.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "manager/jobspec.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h(struct http_req *r) { (void)r; }

static const struct http_route routes[] = {
	{ "GET", "/v1/jobs/{id}", h, HTTP_SCOPE_READ, 0 },
	{ "POST", "/v1/jobs/{id}/stop", h, HTTP_SCOPE_ADMIN, 0 },
	{ "PUT", "/a/{x}/{y}/{z}/{w}", h, HTTP_SCOPE_ADMIN, 0 },
};

static char *
normalised(const struct mgr_jobspec *s)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_BUF_MAX_DEFAULT);
	json_t *j = mgr_jobspec_to_json(s);
	uint8_t *p = NULL;
	size_t n;

	if (j == NULL || coffer_json_dump(j, &b) != 0 ||
	    coffer_buf_detach(&b, &p, &n) != 0)
		abort();
	json_decref(j);
	return (char *)p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mgr_jobspec s, s2;
	struct http_route_match m;
	char allow[64], *path, *t1, *t2;

	memset(&s, 0, sizeof(s));
	memset(&s2, 0, sizeof(s2));
	if (mgr_jobspec_parse_text((const char *)data, size, 1 << 20,
	    1800000000, 0, &s) == 0) {
		t1 = normalised(&s);
		if (mgr_jobspec_parse_text(t1, strlen(t1), COFFER_BUF_MAX_DEFAULT,
		    1900000000, 1, &s2) != 0)
			abort();
		t2 = normalised(&s2);
		if (strcmp(t1, t2) != 0)
			abort();
		free(t1);
		free(t2);
		mgr_jobspec_release(&s);
		mgr_jobspec_release(&s2);
	}
	if ((path = malloc(size + 1)) == NULL)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	if (http_route_find(routes, sizeof(routes) / sizeof(routes[0]),
	    size > 0 && data[0] & 1 ? "GET" : "PUT", path, &m, allow,
	    sizeof(allow)) == HTTP_ROUTE_FOUND) {
		for (size_t i = 0; i < m.nparams; i++)
			if (!http_route_valid_param(m.params[i].value,
			    strlen(m.params[i].value)))
				abort();
	}
	free(path);
	return 0;
}
