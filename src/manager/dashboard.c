// SPDX-License-Identifier: Apache-2.0
// Serving the dashboard's files. They are public (no job data, no token:
// the page asks for a token and sends it to the API in the Authorization
// header), so these routes need none; every reply carries a Content
// Security Policy that lets the page load only its own files and talk
// only to this manager, so that text from a job (a reason, an item id)
// can never run as script even if the page had a bug.
#include <string.h>

#include "http/http.h"
#include "manager/dashboard.h"

/* doc/manager.md section 10 lists these headers and why. */
static const char *const security_headers[][2] = {
	{ "Content-Security-Policy", "default-src 'none'; script-src 'self'; "
	    "style-src 'self'; img-src 'self'; connect-src 'self'; "
	    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "Referrer-Policy", "no-referrer" },
	{ "X-Frame-Options", "DENY" },
	{ "Cross-Origin-Opener-Policy", "same-origin" },
	{ "Cross-Origin-Resource-Policy", "same-origin" },
};

static const char *const types[][2] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
};

const struct mgr_asset *
mgr_asset_find(const char *name)
{
	for (unsigned i = 0; i < mgr_nassets; i++)
		if (strcmp(mgr_assets[i].name, name) == 0)
			return &mgr_assets[i];
	return NULL;
}

const char *
mgr_asset_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i][0]) == 0)
			return types[i][1];
	return NULL;
}

static void
serve(struct http_req *r, const char *name)
{
	const struct mgr_asset *a = mgr_asset_find(name);
	const char *type = mgr_asset_type(name);

	if (a == NULL || type == NULL) {
		http_reply_error(r, 404, "not_found", "file",
		    "the dashboard has no file '%s'", name);
		return;
	}
	for (size_t i = 0; i < sizeof(security_headers) /
	    sizeof(security_headers[0]); i++)
		http_reply_header(r, security_headers[i][0], security_headers[i][1]);
	http_reply_text(r, 200, type, (const char *)a->data, a->len);
}

void
api_dashboard_index(struct http_req *r)
{
	serve(r, "index.html");
}

void
api_dashboard_file(struct http_req *r)
{
	serve(r, http_req_param(r, "file"));
}
