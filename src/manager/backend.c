// SPDX-License-Identifier: Apache-2.0
// The manager's actuator backend (mgr.h): its name and options from the
// command line, and libcurl, which coffer-manager links, for the
// Kubernetes backend (actuator/curl_api.h).
#include "actuator/curl_api.h"
#include "manager/mgr.h"

void
mgr_actuator_config(const struct mgr_config *cfg,
    struct coffer_actuator_config *out)
{
	out->backend = cfg->actuator != NULL ? cfg->actuator : "local";
	out->options = cfg->actuator_opts;
	out->curl = coffer_curl_api_linked();
}
