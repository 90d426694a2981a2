// SPDX-License-Identifier: Apache-2.0
// libcurl on demand (curl_shim.h), for `coffer job` and `coffer
// collateral`. Linked normally, libcurl and the 28 libraries it needs
// (GnuTLS, Kerberos, LDAP, ...) were mapped and initialised at every start
// of `coffer`: 3 MiB of peak RSS in `coffer seal`, whose goal is 8 MiB on
// a 1 GiB file, and code the owner's machine (which holds the keys) has no
// reason to load to seal a file.
#include <dlfcn.h>
#include <stddef.h>

#include "cli/curl_shim.h"
#include "coffer/error.h"

/* The SONAME of the libcurl ABI the headers describe (Debian: libcurl4). */
#ifndef CLI_CURL_SONAME
#define CLI_CURL_SONAME "libcurl.so.4"
#endif

static struct cli_curl table;
static int loaded;

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
	loaded = 1;
	*out = &table;
	return 0;
}
