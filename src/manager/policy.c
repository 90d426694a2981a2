// SPDX-License-Identifier: Apache-2.0
// The operator's limits on what a job may use on the manager's machine
// (policy.h, doc/manager.md section 1). An admin token submits jobs; a
// job names programs, files, URLs and environment variables that the
// manager and its replicas then use with the manager's rights. Checked
// twice: at submission (a clear 403 naming the field) and again where the
// thing is used (workload.c, replicas.c), so a job stored under a looser
// configuration cannot use more than the current one allows.
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/mem.h"
#include "lib/pct.h"
#include "manager/policy.h"

static struct mgr_policy default_policy = { .allow_cmd = 1 };
static const struct mgr_policy *current = &default_policy;

void
mgr_policy_init(struct mgr_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->allow_cmd = 1;
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
mgr_policy_release(struct mgr_policy *p)
{
	if (current == p)
		current = &default_policy;
	strv_free(p->workload_dirs, p->nworkload_dirs);
	strv_free(p->env_deny, p->nenv_deny);
	free(p->store);
	mgr_policy_init(p);
}

static int
strv_add(char ***v, size_t *n, const char *s)
{
	char **p = coffer_reallocarray(*v, *n + 1, sizeof(*p));

	if (p == NULL)
		return COFFER_E_NOMEM;
	*v = p;
	if ((p[*n] = coffer_strdup(s)) == NULL)
		return COFFER_E_NOMEM;
	(*n)++;
	return 0;
}

int
mgr_policy_add_workload_dir(struct mgr_policy *p, const char *dir)
{
	char real[PATH_MAX];

	if (realpath(dir, real) == NULL)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "workload directory %s: %s", dir, strerror(errno));
	return strv_add(&p->workload_dirs, &p->nworkload_dirs, real);
}

int
mgr_policy_set_store(struct mgr_policy *p, const char *dir)
{
	char real[PATH_MAX];
	char *s;

	if (dir == NULL)
		return 0;
	if ((s = coffer_strdup(realpath(dir, real) != NULL ? real : dir)) == NULL)
		return COFFER_E_NOMEM;
	free(p->store);
	p->store = s;
	return 0;
}

int
mgr_policy_add_env_deny(struct mgr_policy *p, const char *pattern)
{
	size_t n = strlen(pattern);

	for (size_t i = 0; i < n; i++) {
		char c = pattern[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
		    (i > 0 && c >= '0' && c <= '9') || (i > 0 && i == n - 1 && c == '*'))
			continue;
		return coffer_errf(COFFER_E_INVAL,
		    "'%s' is not a variable name or NAME_PREFIX*", pattern);
	}
	if (n == 0)
		return coffer_errf(COFFER_E_INVAL, "empty variable name");
	return strv_add(&p->env_deny, &p->nenv_deny, pattern);
}

void
mgr_policy_set(const struct mgr_policy *p)
{
	current = p != NULL ? p : &default_policy;
}

const struct mgr_policy *
mgr_policy_get(void)
{
	return current;
}

/* ------------------------------------------------------------------ */
/* Environment */

/*
 * Variables that change what a program loads or runs before its main(),
 * or where its libraries read code and configuration from: the dynamic
 * loader's (LD_*), glibc's list of variables it ignores in set-user-ID
 * programs (sysdeps/generic/unsecvars.h, but TMPDIR), OpenSSL's
 * configuration and provider paths (the worker links OpenSSL), the TLS key
 * log, and the startup files of sh and bash (a cmd or an exec app may be a
 * script). Given to coffer-worker, LD_PRELOAD alone would run any code
 * inside the process that is to hold the data keys.
 */
static const char *const env_deny_builtin[] = {
	"LD_*", "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES",
	"LOCALDOMAIN", "LOCPATH", "MALLOC_*", "NIS_PATH", "NLSPATH",
	"RESOLV_HOST_CONF", "RES_OPTIONS", "TZDIR", "OPENSSL_*",
	"SSLKEYLOGFILE", "BASH_ENV", "ENV", NULL,
};

static int
env_match(const char *pattern, const char *name)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '*')
		return strncmp(pattern, name, n - 1) == 0;
	return strcmp(pattern, name) == 0;
}

int
mgr_policy_env_denied(const struct mgr_policy *p, const char *name)
{
	for (size_t i = 0; env_deny_builtin[i] != NULL; i++)
		if (env_match(env_deny_builtin[i], name))
			return 1;
	for (size_t i = 0; p != NULL && i < p->nenv_deny; i++)
		if (env_match(p->env_deny[i], name))
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Workload files */

static int
under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static int
allowed_path(const struct mgr_policy *p, const char *real)
{
	if (p->store != NULL && under(real, p->store))
		return 1;
	for (size_t i = 0; i < p->nworkload_dirs; i++)
		if (under(real, p->workload_dirs[i]))
			return 1;
	return 0;
}

/*
 * The path as it would resolve, for a file that may not exist yet (at
 * submission): made absolute, "." and empty components dropped, ".."
 * refused; then its longest existing ancestor resolved with realpath and
 * the rest, which does not exist and so cannot be a link, appended.
 */
static int
resolve_loosely(const char *path, char *out, size_t outlen)
{
	char norm[PATH_MAX], head[PATH_MAX], real[PATH_MAX];
	size_t n = 0, cut;
	const char *p = path;

	if (path[0] != '/') {
		if (getcwd(norm, sizeof(norm)) == NULL)
			return coffer_errf(COFFER_E_IO, "getcwd: %s", strerror(errno));
		n = strlen(norm);
		if (n == 1)
			n = 0;
	}
	while (*p != '\0') {
		size_t k;

		while (*p == '/')
			p++;
		k = strcspn(p, "/");
		if (k == 0)
			break;
		if (k == 2 && p[0] == '.' && p[1] == '.')
			return coffer_errf(COFFER_E_POLICY, "'..' is not allowed");
		if (!(k == 1 && p[0] == '.')) {
			if (n + 1 + k >= sizeof(norm))
				return coffer_errf(COFFER_E_POLICY, "path too long");
			norm[n++] = '/';
			memcpy(norm + n, p, k);
			n += k;
		}
		p += k;
	}
	if (n == 0)
		norm[n++] = '/';
	norm[n] = '\0';
	/* The longest prefix (at a '/') that resolves. */
	memcpy(head, norm, n + 1);
	cut = n;
	for (;;) {
		if (realpath(head, real) != NULL)
			break;
		while (cut > 0 && head[cut] != '/')
			cut--;
		if (cut == 0) {
			snprintf(real, sizeof(real), "/");
			break;
		}
		head[cut] = '\0';
	}
	if (cut == n)
		return (size_t)snprintf(out, outlen, "%s", real) < outlen ? 0 :
		    coffer_errf(COFFER_E_POLICY, "path too long");
	return (size_t)snprintf(out, outlen, "%s%s", strcmp(real, "/") == 0 ?
	    "" : real, norm + cut) < outlen ? 0 :
	    coffer_errf(COFFER_E_POLICY, "path too long");
}

static const char *
workload_hint(void)
{
	return "the manager reads workload files only under its --store and "
	    "its --workload-dir directories";
}

int
mgr_policy_workload_file(const struct mgr_policy *p, const char *path,
    char *resolved, size_t resolvedlen)
{
	char real[PATH_MAX];

	if (realpath(path, real) == NULL)
		return coffer_errf(errno == ENOENT || errno == ENOTDIR ?
		    COFFER_E_NOTFOUND : COFFER_E_IO, "workload file %s: %s", path,
		    strerror(errno));
	if (!allowed_path(p, real))
		return coffer_errf(COFFER_E_POLICY, "workload file %s (%s): %s",
		    path, real, workload_hint());
	if ((size_t)snprintf(resolved, resolvedlen, "%s", real) >= resolvedlen)
		return coffer_errf(COFFER_E_LIMIT, "workload file %s: path too long",
		    path);
	return 0;
}

int
mgr_policy_file_url_path(const char *url, char *out, size_t outlen)
{
	const char *p;
	int r;

	if (strncmp(url, "file://", 7) != 0)
		return coffer_errf(COFFER_E_FORMAT, "not a file:// URL");
	p = url + 7;
	if (strncmp(p, "localhost/", 10) == 0)
		p += 9;
	if (*p != '/')
		return coffer_errf(COFFER_E_FORMAT,
		    "a file:// URL names a file on this machine: file:///path");
	if ((r = coffer_pct_decode(p, strlen(p), 0, out, outlen, NULL)) != 0)
		return coffer_errf(r, "file:// URL: %s", r == COFFER_E_LIMIT ?
		    "path too long" : "bad %-escape");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Addresses */

static int
v4_allowed(const uint8_t *a)
{
	/* 169.254.0.0/16: link-local, where clouds serve instance metadata
	 * and credentials (169.254.169.254, 169.254.170.2). */
	return !(a[0] == 169 && a[1] == 254);
}

int
mgr_policy_addr_allowed(const struct sockaddr *sa, socklen_t len)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t ec2[16] = { 0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0x02, 0x54 };

	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

		return v4_allowed((const uint8_t *)&s4->sin_addr);
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		const uint8_t *a = s6->sin6_addr.s6_addr;

		if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)   /* fe80::/10 */
			return 0;
		if (memcmp(a, ec2, 16) == 0)
			return 0;
		if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
			return v4_allowed(a + 12);
		return 1;
	}
	/* Only IP sockets are expected from libcurl here. */
	return sa->sa_family == AF_UNIX;
}

/* The host of an http(s) URL when it is an IP literal, checked now (a
 * name is checked when it resolves, at every connection). */
static int
url_literal_allowed(const char *url)
{
	const char *h = strstr(url, "://"), *end, *at;
	char host[64];
	size_t n;
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;

	if (h == NULL)
		return 1;
	h += 3;
	end = h + strcspn(h, "/?#");
	at = NULL;
	for (const char *q = h; q < end; q++)
		if (*q == '@')
			at = q;
	if (at != NULL)
		h = at + 1;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (rb == NULL || (n = (size_t)(rb - h - 1)) >= sizeof(host))
			return 1;
		memcpy(host, h + 1, n);
		host[n] = '\0';
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host, &s6.sin6_addr) == 1)
			return mgr_policy_addr_allowed((struct sockaddr *)&s6, sizeof(s6));
		return 1;
	}
	n = strcspn(h, ":/?#");
	if (h + n > end)
		n = (size_t)(end - h);
	if (n >= sizeof(host))
		return 1;
	memcpy(host, h, n);
	host[n] = '\0';
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &s4.sin_addr) == 1)
		return mgr_policy_addr_allowed((struct sockaddr *)&s4, sizeof(s4));
	return 1;
}

/* ------------------------------------------------------------------ */
/* Submission */

static int
check_file(const struct mgr_policy *p, const char *path, const char *field)
{
	char real[PATH_MAX];
	int r;

	if ((r = resolve_loosely(path, real, sizeof(real))) != 0)
		return coffer_errctx(r, "%s", field);
	if (!allowed_path(p, real))
		return coffer_errf(COFFER_E_POLICY,
		    "%s: '%s' is not allowed: %s (add one with --workload-dir)",
		    field, path, workload_hint());
	return 0;
}

int
mgr_policy_check_spec(const struct mgr_policy *p, const struct mgr_jobspec *s,
    int asperathos)
{
	const char *f_cmd = asperathos ? "plugin_info.cmd" : "cmd";
	const char *f_file = asperathos ? "plugin_info.redis_workload" :
	    "inputs.items_file";
	const char *f_url = asperathos ? "plugin_info.redis_workload" :
	    "inputs.items_url";
	const char *f_env = asperathos ? "plugin_info.env_vars" : "env";
	char path[PATH_MAX];
	int r;

	if (s->cmd != NULL && !p->allow_cmd)
		return coffer_errf(COFFER_E_POLICY,
		    "%s: this manager does not run jobs' own commands (it was "
		    "started with --allow-cmd=no)", f_cmd);
	if (s->items_file != NULL &&
	    (r = check_file(p, s->items_file, f_file)) != 0)
		return r;
	if (s->items_url != NULL && strncmp(s->items_url, "file://", 7) == 0) {
		if ((r = mgr_policy_file_url_path(s->items_url, path,
		    sizeof(path))) != 0)
			return coffer_errctx(r, "%s", f_url);
		if ((r = check_file(p, path, f_url)) != 0)
			return r;
	} else if (s->items_url != NULL) {
		if (!p->allow_workload_url)
			return coffer_errf(COFFER_E_POLICY,
			    "%s: this manager does not fetch workload URLs (start it "
			    "with --allow-workload-url)", f_url);
		if (!url_literal_allowed(s->items_url))
			return coffer_errf(COFFER_E_POLICY,
			    "%s: link-local and cloud metadata addresses are never "
			    "fetched", f_url);
	}
	for (size_t i = 0; i < s->nenv; i++)
		if (mgr_policy_env_denied(p, s->env[i].key))
			return coffer_errf(COFFER_E_POLICY,
			    "%s.%s: this variable is not given to replicas (it changes "
			    "what a program loads or runs)", f_env, s->env[i].key);
	return 0;
}
