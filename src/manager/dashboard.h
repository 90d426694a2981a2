/* SPDX-License-Identifier: Apache-2.0 */
/* The manager's built-in dashboard: static files compiled in from
 * src/manager/ui/ (scripts/embed-assets writes mgr_assets[]) and the two
 * handlers that serve them (doc/manager.md section 10). */
#ifndef COFFER_MANAGER_DASHBOARD_H
#define COFFER_MANAGER_DASHBOARD_H

#include <stddef.h>

struct http_req;

struct mgr_asset {
	const char *name;          /* base name: "index.html", "app.js" */
	const unsigned char *data; /* NUL-terminated (the NUL is not in len) */
	size_t len;
};

/* Generated: every file of src/manager/ui/, in name order. */
extern const struct mgr_asset mgr_assets[];
extern const unsigned mgr_nassets;

/* The asset named name, or NULL. */
const struct mgr_asset *mgr_asset_find(const char *name);
/* Its Content-Type, from the name's extension; NULL for an extension the
 * dashboard does not serve. */
const char *mgr_asset_type(const char *name);

/* GET / (index.html) and GET /ui/{file}: no token needed (the files hold
 * no data; the page asks for a token and sends it to the API itself). */
void api_dashboard_index(struct http_req *r);
void api_dashboard_file(struct http_req *r);

#endif
