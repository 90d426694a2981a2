/* SPDX-License-Identifier: Apache-2.0 */
/* Asperathos compatibility: a "kubejobs" submission (the job JSON that
 * Asperathos's manager takes on POST /submissions) turned into a Coffer job
 * specification, validated more strictly than Asperathos does: a job whose
 * control parameters are invalid is refused, never run uncontrolled
 * (doc/api.md section "Asperathos submissions"). */
#ifndef COFFER_MANAGER_ASPERATHOS_H
#define COFFER_MANAGER_ASPERATHOS_H

#include <stdint.h>

#include <jansson.h>

#include "manager/jobspec.h"

struct mgr_asperathos {
	struct mgr_jobspec spec;
	json_t *ignored;  /* array of the field paths accepted and ignored */
	json_t *stored;   /* array of the field paths kept for later use (the
	                     Kubernetes actuator, the dashboard) */
};

/*
 * Parse a submission. Errors: COFFER_E_FORMAT with a detail starting with
 * the field path ("plugin_info.control_parameters.schedule_strategy:
 * missing"), COFFER_E_UNSUPPORTED for a plugin, strategy or metric source
 * Coffer does not implement (also naming the field). *out is written only
 * on success; release it with mgr_asperathos_release().
 */
int mgr_asperathos_parse(const json_t *j, struct mgr_asperathos *out)
	__attribute__((warn_unused_result));
void mgr_asperathos_release(struct mgr_asperathos *a);

/* Asperathos's name for a Coffer job state ("ongoing" for running...). */
const char *mgr_asperathos_status(const char *state);

#endif
