/* SPDX-License-Identifier: Apache-2.0 */
/* The queue handle and the steps queue.c and queue_admin.c share: the
 * connection, commands in a pipeline, scripts with their EVAL fallback.
 * Internal to src/queue. Errors as queue.c's (COFFER_E_CONNECT,
 * COFFER_E_REDIS, COFFER_E_BUSY, COFFER_E_PROTO). */
#ifndef COFFER_QUEUE_QUEUE_INT_H
#define COFFER_QUEUE_QUEUE_INT_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "queue/queue.h"
#include "queue/redis_url.h"
#include "queue/scripts.h"

struct coffer_queue {
	redisContext *c;
	struct coffer_redis_url url;
	char redacted[COFFER_REDIS_URL_MAX + 32];
	char job[COFFER_QUEUE_JOB_MAX + 1];
	char worker[COFFER_QUEUE_WORKER_MAX + 1];
	int has_worker;
	char prefix[COFFER_QUEUE_JOB_MAX + 16]; /* KEYS[1] of every script */
	char key_queue[COFFER_QUEUE_JOB_MAX + 32];
	char key_inflight[COFFER_QUEUE_JOB_MAX + COFFER_QUEUE_WORKER_MAX + 32];
	char key_meta[COFFER_QUEUE_JOB_MAX + 32];
	int layout;
	char owner[COFFER_QUEUE_JOB_MAX + 1]; /* "" if none */
	int own_only;        /* settle_own_only */
	int lease_ms, max_attempts, backoff_ms, connect_ms, stale_ms;
	int timeout_ms;      /* the reply timeout now set on c */
	char sha[QS_COUNT][41];
	int need_touch;      /* register before the next BLMOVE */
	struct coffer_queue_counters n;
};

/* Connect (and authenticate, select the database, load the scripts) if
 * not connected. */
int queue_connect(struct coffer_queue *q);
/* Send n commands in one round trip; replies[i] gets each reply (the
 * caller frees them). On an I/O error nothing is returned. */
int queue_pipeline(struct coffer_queue *q, int n, const int *argc,
    const char **const *argv, const size_t *const *lens, redisReply **replies,
    const char *what);
/* One command of at most 4 string arguments whose reply is not read. */
int queue_simple(struct coffer_queue *q, const char *what, int argc,
    const char **argv);
/* Run a script: EVALSHA, and EVAL when the server does not know the SHA.
 * args are ARGV (arglens NULL: strlen); KEYS[1] is the prefix. *out: the
 * reply, not an error reply (the caller frees it). */
int queue_run_script(struct coffer_queue *q, enum queue_script s, int nargs,
    const char **args, const size_t *arglens, redisReply **out);
/* Turn an error reply into a coffer error; LOADING, BUSY, TRYAGAIN and
 * MASTERDOWN are transient (COFFER_E_BUSY). */
int queue_reply_error(struct coffer_queue *q, const redisReply *r,
    const char *what);
/* COFFER_E_UNSUPPORTED unless the job uses the Coffer layout. */
int queue_need_coffer_layout(const struct coffer_queue *q, const char *what);

#endif
