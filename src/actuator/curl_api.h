/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl's functions as a table, for the Kubernetes backend: the caller
 * links libcurl (coffer-manager: coffer_curl_api_linked()) or loads it on
 * demand (`coffer`, which must not map libcurl at every start,
 * doc/DEVELOPING.md), and the backend never names a libcurl symbol. */
#ifndef COFFER_ACTUATOR_CURL_API_H
#define COFFER_ACTUATOR_CURL_API_H

#include <curl/curl.h>

struct coffer_curl_api {
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(curl_multi_init) *multi_init;
	__typeof__(curl_multi_add_handle) *multi_add_handle;
	__typeof__(curl_multi_remove_handle) *multi_remove_handle;
	__typeof__(curl_multi_perform) *multi_perform;
	__typeof__(curl_multi_info_read) *multi_info_read;
	__typeof__(curl_multi_poll) *multi_poll;
	__typeof__(curl_multi_cleanup) *multi_cleanup;
};

/* The table of a program linked with libcurl (curl_linked.c). The
 * caller calls curl_global_init() once before any actuator uses it. */
const struct coffer_curl_api *coffer_curl_api_linked(void);

#endif
