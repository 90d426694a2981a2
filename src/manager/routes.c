// SPDX-License-Identifier: Apache-2.0
// The manager's routes, one row each: method, path, handler, the token
// scope it needs, and the largest body it takes (doc/api.md).
#include "manager/api.h"
#include "manager/dashboard.h"
#include "manager/mgr.h"

const struct http_route mgr_routes[] = {
	/* method    path                          handler           scope              max body */
	{ "GET",    "/healthz",                    api_healthz,      HTTP_SCOPE_NONE,    0 },
	/* The dashboard's files (no data in them: the page sends a token). */
	{ "GET",    "/",                           api_dashboard_index, HTTP_SCOPE_NONE, 0 },
	{ "GET",    "/ui/{file}",                  api_dashboard_file, HTTP_SCOPE_NONE,  0 },
	{ "GET",    "/metrics",                    api_metrics,      HTTP_SCOPE_READ,    0 },
	{ "GET",    "/v1/controllers",             api_controllers,  HTTP_SCOPE_READ,    0 },
	{ "GET",    "/v1/standby",                 api_standby,      HTTP_SCOPE_READ,    0 },
	{ "POST",   "/v1/jobs",                    api_job_submit,   HTTP_SCOPE_ADMIN,   MGR_BODY_JOB },
	{ "GET",    "/v1/jobs",                    api_job_list,     HTTP_SCOPE_READ,    0 },
	{ "GET",    "/v1/jobs/{id}",               api_job_show,     HTTP_SCOPE_READ,    0 },
	{ "DELETE", "/v1/jobs/{id}",               api_job_delete,   HTTP_SCOPE_ADMIN,   0 },
	{ "GET",    "/v1/jobs/{id}/timeline",      api_job_timeline, HTTP_SCOPE_READ,    0 },
	{ "GET",    "/v1/jobs/{id}/dead_letters",  api_job_dead_letters, HTTP_SCOPE_READ, 0 },
	{ "POST",   "/v1/jobs/{id}/stop",          api_job_stop,     HTTP_SCOPE_ADMIN,   MGR_BODY_SMALL },
	{ "GET",    "/v1/jobs/{id}/log",           api_job_log,      HTTP_SCOPE_READ,    0 },
	{ "GET",    "/v1/tokens",                  api_token_list,   HTTP_SCOPE_ADMIN,   0 },
	{ "POST",   "/v1/tokens",                  api_token_create, HTTP_SCOPE_ADMIN,   MGR_BODY_SMALL },
	{ "DELETE", "/v1/tokens/{id}",             api_token_revoke, HTTP_SCOPE_ADMIN,   0 },
	/* Asperathos's manager API (broker/service/api/v10.py). */
	{ "POST",   "/submissions",                api_sub_submit,   HTTP_SCOPE_ADMIN,   MGR_BODY_JOB },
	{ "GET",    "/submissions",                api_sub_list,     HTTP_SCOPE_READ,    0 },
	{ "DELETE", "/submissions",                api_sub_delete_all, HTTP_SCOPE_ADMIN, MGR_BODY_SMALL },
	{ "GET",    "/submissions/{id}",           api_sub_show,     HTTP_SCOPE_READ,    0 },
	{ "DELETE", "/submissions/{id}",           api_sub_delete,   HTTP_SCOPE_ADMIN,   MGR_BODY_SMALL },
	/* asperathos-integration-tests stop a job with PUT on the job itself. */
	{ "PUT",    "/submissions/{id}",           api_sub_stop,     HTTP_SCOPE_ADMIN,   MGR_BODY_SMALL },
	{ "PUT",    "/submissions/{id}/stop",      api_sub_stop,     HTTP_SCOPE_ADMIN,   MGR_BODY_SMALL },
	{ "PUT",    "/submissions/{id}/terminate", api_sub_stop,     HTTP_SCOPE_ADMIN,   MGR_BODY_SMALL },
	{ "DELETE", "/submissions/{id}/delete",    api_sub_delete,   HTTP_SCOPE_ADMIN,   MGR_BODY_SMALL },
	{ "GET",    "/submissions/{id}/log",       api_sub_log,      HTTP_SCOPE_READ,    0 },
	{ "GET",    "/submissions/{id}/report",    api_sub_report,   HTTP_SCOPE_READ,    0 },
	{ "GET",    "/submissions/{id}/errors",    api_sub_errors,   HTTP_SCOPE_READ,    0 },
};

const size_t mgr_nroutes = sizeof(mgr_routes) / sizeof(mgr_routes[0]);
