/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl, loaded with dlopen(3) at first use by the commands that talk
 * HTTP (`coffer job`, `coffer collateral`), so that every other command
 * starts without it. */
#ifndef COFFER_CLI_CURL_SHIM_H
#define COFFER_CLI_CURL_SHIM_H

#include <curl/curl.h>

/*
 * The libcurl functions the CLI uses, with the prototypes of the headers it
 * was compiled against (<curl/curl.h>; the binary does not link libcurl).
 * setopt and getinfo lose the compile-time type checks of curl's macros:
 * pass a long for long options, a curl_off_t for *_LARGE ones, pointers
 * for the rest.
 */
struct cli_curl {
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
};

/*
 * Load libcurl.so.4 and initialise it (curl_global_init) on the first call;
 * later calls return the same table. *out is set on success only. Errors:
 * COFFER_E_NOTFOUND when the library cannot be loaded or lacks a function
 * (the detail names the Debian package and gives dlerror's text),
 * COFFER_E_HTTP when curl_global_init fails. Not for concurrent first use
 * from several threads (the CLI calls it from its main thread).
 */
int cli_curl_load(const struct cli_curl **out)
	__attribute__((warn_unused_result));

struct coffer_curl_api;
/* The same library as the Kubernetes actuator's table (actuator/curl_api.h,
 * `coffer run --actuator kubernetes`), with its multi interface. Errors
 * as cli_curl_load(). */
int cli_curl_actuator_api(const struct coffer_curl_api **out)
	__attribute__((warn_unused_result));

#endif
