/* SPDX-License-Identifier: Apache-2.0 */
/* The handlers of the manager's routes (routes.c has the table; doc/api.md
 * documents each route). Every handler has the router's one signature. */
#ifndef COFFER_MANAGER_API_H
#define COFFER_MANAGER_API_H

#include "http/http.h"

/* api_native.c */
/* 1 if the query says force=true (or 1, yes): DELETE's kubectl-style
 * --force. */
int api_query_force(const struct http_req *r);
void api_healthz(struct http_req *r);
void api_metrics(struct http_req *r);
void api_controllers(struct http_req *r);
/* standby.c: GET /v1/standby */
void api_standby(struct http_req *r);
void api_job_submit(struct http_req *r);
void api_job_list(struct http_req *r);
void api_job_show(struct http_req *r);
void api_job_timeline(struct http_req *r);
void api_job_stop(struct http_req *r);
void api_job_delete(struct http_req *r);

/* api_tokens.c */
void api_token_list(struct http_req *r);
void api_token_create(struct http_req *r);
void api_token_revoke(struct http_req *r);

/* api_asperathos.c */
void api_sub_submit(struct http_req *r);
void api_sub_list(struct http_req *r);
void api_sub_show(struct http_req *r);
void api_sub_stop(struct http_req *r);
void api_sub_delete(struct http_req *r);
void api_sub_log(struct http_req *r);
/* GET /submissions/{id}/report: Asperathos's detailed report. */
void api_sub_report(struct http_req *r);
/* GET /submissions/{id}/errors: failed items. */
void api_sub_errors(struct http_req *r);
/* DELETE /submissions: every finished job. */
void api_sub_delete_all(struct http_req *r);
/* GET /v1/jobs/{id}/log: the last 64 KiB of the replicas' log, as text. */
void api_job_log(struct http_req *r);

/* api_deadletters.c */
#define MGR_DEAD_LETTERS_MAX 1000 /* items in one answer */
struct mgr_job;
/*
 * The job's dead letters as a JSON array of {"item", "attempts", "error"}
 * (the first MGR_DEAD_LETTERS_MAX; *truncated is 1 if there were more),
 * or *out = NULL when there is no list to read (items not loaded yet, an
 * Asperathos-layout job). A finished job's queue is opened for the read:
 * COFFER_E_CONNECT or COFFER_E_REDIS if Redis does not answer.
 */
int mgr_job_dead_letters(const struct mgr_job *j, json_t **out, int *truncated);
void api_job_dead_letters(struct http_req *r);

#endif
