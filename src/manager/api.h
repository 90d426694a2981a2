/* SPDX-License-Identifier: Apache-2.0 */
/* The handlers of the manager's routes (routes.c has the table; doc/api.md
 * documents each route). Every handler has the router's one signature. */
#ifndef COFFER_MANAGER_API_H
#define COFFER_MANAGER_API_H

#include "manager/http.h"

/* api_native.c */
void api_healthz(struct mgr_req *r);
void api_metrics(struct mgr_req *r);
void api_controllers(struct mgr_req *r);
void api_job_submit(struct mgr_req *r);
void api_job_list(struct mgr_req *r);
void api_job_show(struct mgr_req *r);
void api_job_timeline(struct mgr_req *r);
void api_job_stop(struct mgr_req *r);
void api_job_delete(struct mgr_req *r);

/* api_asperathos.c */
void api_sub_submit(struct mgr_req *r);
void api_sub_list(struct mgr_req *r);
void api_sub_show(struct mgr_req *r);
void api_sub_stop(struct mgr_req *r);
void api_sub_delete(struct mgr_req *r);
void api_sub_log(struct mgr_req *r);

#endif
