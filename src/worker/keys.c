// SPDX-License-Identifier: Apache-2.0
// The runner's key page (worker/keys.h). A mapping of its own, rather than
// heap memory, so that its protections apply to the keys and to nothing
// else: mlock (never swapped out), MADV_DONTDUMP (never in a core file)
// and MADV_WIPEONFORK (a forked child sees zeros). The runner also turns
// core dumps and ptrace off for itself (PR_SET_DUMPABLE, runner.c).
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "coffer/error.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "worker/keys.h"

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18 /* Linux 4.14 */
#endif

static size_t
page_size(size_t ndata)
{
	return sizeof(struct job_keys) + ndata * sizeof(struct data_key);
}

struct job_keys *
keys_new(size_t ndata)
{
	size_t n = page_size(ndata);
	void *p;

	if (ndata > ((size_t)1 << 20)) {
		(void)coffer_errf(COFFER_E_LIMIT, "key page: %zu data keys", ndata);
		return NULL;
	}
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		(void)coffer_errf(COFFER_E_NOMEM, "key page: %s", strerror(errno));
		return NULL;
	}
	/* Each is protection in depth: without it the keys are still only in
	 * this process, which runs no app code (doc/worker.md 9.1). */
	if (madvise(p, n, MADV_WIPEONFORK) != 0 || madvise(p, n, MADV_DONTDUMP) != 0)
		coffer_logkv(COFFER_LOG_WARN, "key page: madvise failed; children and"
		    " core files are still covered by execve and PR_SET_DUMPABLE",
		    "error", strerror(errno), NULL);
	if (mlock(p, n) != 0)
		coffer_logkv(COFFER_LOG_DEBUG, "key page: not locked in memory",
		    "error", strerror(errno), NULL);
	memset(p, 0, n);
	((struct job_keys *)p)->ndata = ndata;
	return p;
}

const uint8_t *
keys_data(const struct job_keys *k, const uint8_t key_id[16])
{
	for (size_t i = 0; i < k->ndata; i++)
		if (memcmp(k->data[i].key_id, key_id, 16) == 0)
			return k->data[i].key;
	return NULL;
}

void
keys_free(struct job_keys *k)
{
	size_t n;

	if (k == NULL)
		return;
	n = page_size(k->ndata);
	coffer_wipe(k, n);
	(void)munlock(k, n);
	(void)munmap(k, n);
}
