/* SPDX-License-Identifier: Apache-2.0 */
/* A job's item list, from where its specification says: inline, a file on
 * the manager's machine, or a URL (Asperathos's redis_workload): one item
 * per line. */
#ifndef COFFER_MANAGER_WORKLOAD_H
#define COFFER_MANAGER_WORKLOAD_H

#include <stddef.h>

#include "lib/buf.h"
#include "manager/jobspec.h"

#define MGR_WORKLOAD_MAX_BYTES ((size_t)256 << 20)

/* The items as an array of pointers into storage (both owned by the
 * struct). Release with mgr_workload_release(). */
struct mgr_workload {
	char **items;
	size_t n;
	struct coffer_buf text;
};

/*
 * Read the items of s. A prefix lists the input store (s->input_store, else
 * default_store) in key order. Lines end with "\n" (a "\r" before it is dropped);
 * empty lines are skipped. Files (items_file, file:// URLs) are read where
 * the daemon's policy allows (policy.h: under the store or a workload
 * directory, once resolved); http and https URLs only if it allows them,
 * with libcurl (no proxy; redirects followed, to http and https only; no
 * connection to a link-local or metadata address; 60 s timeout). Errors:
 * COFFER_E_POLICY (refused), COFFER_E_NOTFOUND, COFFER_E_IO or
 * COFFER_E_HTTP (the detail names the file or URL, without its password,
 * and the reason), COFFER_E_LIMIT (more than MGR_WORKLOAD_MAX_BYTES or
 * MGR_JOB_MAX_ITEMS).
 */
int mgr_workload_read(const struct mgr_jobspec *s, const char *default_store,
    struct mgr_workload *w)
	__attribute__((warn_unused_result));

/* Split text (one item per line) into w; text is copied. */
int mgr_workload_split(const char *text, size_t len, struct mgr_workload *w)
	__attribute__((warn_unused_result));

void mgr_workload_release(struct mgr_workload *w);

#endif
