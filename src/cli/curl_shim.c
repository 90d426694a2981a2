// SPDX-License-Identifier: Apache-2.0
// libcurl on demand (curl_shim.h), for `coffer job` and `coffer
// collateral`. Linked normally, libcurl and the 28 libraries it needs
// (GnuTLS, Kerberos, LDAP, ...) were mapped and initialised at every start
// of `coffer`: 3 MiB of peak RSS in `coffer seal`, whose goal is 8 MiB on
// a 1 GiB file, and code the owner's machine (which holds the keys) has no
// reason to load to seal a file.
#include <dlfcn.h>
#include <stddef.h>

#include "actuator/curl_api.h"
#include "cli/curl_shim.h"
#include "coffer/error.h"

/* The SONAME of the libcurl ABI the headers describe (Debian: libcurl4). */
#ifndef CLI_CURL_SONAME
#define CLI_CURL_SONAME "libcurl.so.4"
#endif

static struct cli_curl table;
static int loaded;
static void *lib;

int
cli_curl_load(const struct cli_curl **out)
{
	__typeof__(curl_global_init) *global_init;
	struct cli_curl t;
	const char *missing = NULL;
	void *h;
	CURLcode cc;

	if (loaded) {
		*out = &table;
		return 0;
	}
	/* Never closed: the process ends soon after, and curl keeps global
	 * state (OpenSSL, resolver) that must outlive every handle. */
	if ((h = dlopen(CLI_CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return coffer_errf(COFFER_E_NOTFOUND, "this command needs libcurl "
		    "(Debian package libcurl4): %s", dlerror());
#define SYM(field, name)                                                    \
	do {                                                                 \
		t.field = (__typeof__(t.field))dlsym(h, name);               \
		if (t.field == NULL && missing == NULL)                      \
			missing = name;                                      \
	} while (0)
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
	global_init = (__typeof__(global_init))dlsym(h, "curl_global_init");
	if (global_init == NULL && missing == NULL)
		missing = "curl_global_init";
	if (missing != NULL) {
		dlclose(h);
		return coffer_errf(COFFER_E_NOTFOUND, "this command needs libcurl "
		    "(Debian package libcurl4): %s has no %s", CLI_CURL_SONAME,
		    missing);
	}
	/* Explicitly, once: curl_easy_init would do it implicitly, but
	 * libcurl documents the implicit call as not thread-safe. */
	if ((cc = global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
		return coffer_errf(COFFER_E_HTTP, "curl_global_init: %s",
		    t.easy_strerror(cc));
	table = t;
	lib = h;
	loaded = 1;
	*out = &table;
	return 0;
}

int
cli_curl_actuator_api(const struct coffer_curl_api **out)
{
	static struct coffer_curl_api api;
	static int api_loaded;
	const struct cli_curl *c;
	const char *missing = NULL;
	int r;

	if (api_loaded) {
		*out = &api;
		return 0;
	}
	if ((r = cli_curl_load(&c)) != 0)
		return r;
	api.easy_init = c->easy_init;
	api.easy_setopt = c->easy_setopt;
	api.easy_getinfo = c->easy_getinfo;
	api.easy_cleanup = c->easy_cleanup;
	api.easy_strerror = c->easy_strerror;
	api.slist_append = c->slist_append;
	api.slist_free_all = c->slist_free_all;
#define SYM(field, name)                                                    \
	do {                                                                 \
		api.field = (__typeof__(api.field))dlsym(lib, name);         \
		if (api.field == NULL && missing == NULL)                    \
			missing = name;                                      \
	} while (0)
	SYM(multi_init, "curl_multi_init");
	SYM(multi_add_handle, "curl_multi_add_handle");
	SYM(multi_remove_handle, "curl_multi_remove_handle");
	SYM(multi_perform, "curl_multi_perform");
	SYM(multi_info_read, "curl_multi_info_read");
	SYM(multi_poll, "curl_multi_poll");
	SYM(multi_cleanup, "curl_multi_cleanup");
#undef SYM
	if (missing != NULL)
		return coffer_errf(COFFER_E_NOTFOUND, "%s has no %s",
		    CLI_CURL_SONAME, missing);
	api_loaded = 1;
	*out = &api;
	return 0;
}
