/* SPDX-License-Identifier: Apache-2.0 */
/* What the manager's operator allows jobs to do on the manager's machine
 * (doc/manager.md section 1, "What a job may use"): run their own command,
 * read workload files, fetch workload URLs, and which environment
 * variables they may give their replicas. An admin token can do all that
 * the policy allows, as the manager's user (doc/threat-model.md). */
#ifndef COFFER_MANAGER_POLICY_H
#define COFFER_MANAGER_POLICY_H

#include <stddef.h>
#include <sys/socket.h>

#include "manager/jobspec.h"

struct mgr_policy {
	int allow_cmd;          /* jobs with their own cmd (Asperathos); 1 */
	int allow_workload_url; /* http(s) workloads; 0 */
	char **workload_dirs;   /* absolute, resolved: workload files may be
	                           under these (and under store) */
	size_t nworkload_dirs;
	char *store;            /* the manager's --store, resolved; may be NULL */
	char **env_deny;        /* more names (or PREFIX*) to refuse */
	size_t nenv_deny;
};

/* allow_cmd on, everything else off or empty. */
void mgr_policy_init(struct mgr_policy *p);
void mgr_policy_release(struct mgr_policy *p);
/* Add an allowed workload directory: it must exist; kept resolved
 * (realpath). COFFER_E_NOTFOUND / COFFER_E_IO naming it. */
int mgr_policy_add_workload_dir(struct mgr_policy *p, const char *dir)
	__attribute__((warn_unused_result));
/* Set the store (resolved when it exists, else kept as given). */
int mgr_policy_set_store(struct mgr_policy *p, const char *dir)
	__attribute__((warn_unused_result));
/* Add a name to refuse: NAME, or PREFIX* for every name starting with
 * PREFIX. COFFER_E_INVAL if it is not [A-Za-z_][A-Za-z0-9_]* (+ '*'). */
int mgr_policy_add_env_deny(struct mgr_policy *p, const char *pattern)
	__attribute__((warn_unused_result));

/* The daemon's policy: set once at start (before any job is read), read by
 * the handlers, the workload reader and the replica starter. p is
 * borrowed and must outlive its use. Before any set: mgr_policy_init's. */
void mgr_policy_set(const struct mgr_policy *p);
const struct mgr_policy *mgr_policy_get(void);

/*
 * Check a job against the policy at submission. asperathos selects the
 * field names of the errors (plugin_info.cmd, plugin_info.redis_workload,
 * plugin_info.env_vars.NAME; else cmd, inputs.items_file,
 * inputs.items_url, env.NAME). COFFER_E_POLICY with a detail that starts
 * with the field and says which option would allow it.
 */
int mgr_policy_check_spec(const struct mgr_policy *p,
    const struct mgr_jobspec *s, int asperathos)
	__attribute__((warn_unused_result));

/* 1 if the policy refuses the environment variable name (the built-in
 * list: LD_*, GCONV_PATH, OPENSSL_*, ...; and env_deny). */
int mgr_policy_env_denied(const struct mgr_policy *p, const char *name);

/*
 * A workload file, when it is read: resolve path (realpath, so symbolic
 * links are followed now and checked) and check that it is under an
 * allowed directory or the store. resolved (PATH_MAX bytes) gets the path
 * to open. COFFER_E_POLICY if it is elsewhere; COFFER_E_NOTFOUND or
 * COFFER_E_IO if it cannot be resolved. The detail names the file.
 */
int mgr_policy_workload_file(const struct mgr_policy *p, const char *path,
    char *resolved, size_t resolvedlen) __attribute__((warn_unused_result));

/* The local path of a file:// URL ("file:///abs" or "file://localhost/abs",
 * %XX decoded). COFFER_E_FORMAT if it is not one, or names another host. */
int mgr_policy_file_url_path(const char *url, char *out, size_t outlen)
	__attribute__((warn_unused_result));

/* 1 if a workload fetch may connect to this address: not link-local
 * (169.254.0.0/16, fe80::/10, also IPv4-mapped) and not a cloud metadata
 * address (fd00:ec2::254). Checked for every connection, redirects
 * included. */
int mgr_policy_addr_allowed(const struct sockaddr *sa, socklen_t len);

#endif
