// SPDX-License-Identifier: Apache-2.0
// libcurl's functions for the Kubernetes backend (curl_api.h), for a
// program that links libcurl (coffer-manager, the tests). Alone in its
// file: a static link takes it, and libcurl with it, only into programs
// that call it.
#include <curl/curl.h>

#include "actuator/curl_api.h"

static const struct coffer_curl_api linked = {
	.easy_init = curl_easy_init,
	.easy_setopt = curl_easy_setopt,
	.easy_getinfo = curl_easy_getinfo,
	.easy_cleanup = curl_easy_cleanup,
	.easy_strerror = curl_easy_strerror,
	.slist_append = curl_slist_append,
	.slist_free_all = curl_slist_free_all,
	.multi_init = curl_multi_init,
	.multi_add_handle = curl_multi_add_handle,
	.multi_remove_handle = curl_multi_remove_handle,
	.multi_perform = curl_multi_perform,
	.multi_info_read = curl_multi_info_read,
	.multi_poll = curl_multi_poll,
	.multi_cleanup = curl_multi_cleanup,
};

const struct coffer_curl_api *
coffer_curl_api_linked(void)
{
	return &linked;
}
