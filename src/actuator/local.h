/* SPDX-License-Identifier: Apache-2.0 */
/* The local-process backend of actuator/actuator.h, and the calls only it
 * has (PIDs). coffer_actuator_new() with backend "local" makes the same
 * actuator. */
#ifndef COFFER_ACTUATOR_LOCAL_H
#define COFFER_ACTUATOR_LOCAL_H

#include <sys/types.h>

#include "actuator/actuator.h"

/*
 * The local-process backend. The spec is copied; its name, labels, image,
 * TEE and resources are not used. Each replica is a child process in its
 * own process group (a terminal's Ctrl-C reaches only the caller), with
 * stdin on /dev/null, no inherited descriptor above 2, and
 * PR_SET_PDEATHSIG = SIGTERM (if the caller dies, replicas finish their
 * item and exit). Children are reaped with waitpid() on their own PIDs
 * only, so the caller may have other children (a redis-server). Nothing
 * is asynchronous: no SIGCHLD handler; tick() does the work.
 */
int coffer_actuator_local_new(const struct coffer_replica_spec *spec,
    struct coffer_actuator **out) __attribute__((warn_unused_result));

struct coffer_standby; /* actuator/standby.h */

/*
 * Start replicas from pool (actuator/standby.h) when it has an idle
 * worker of kind, which gets assignment on its stdin (copied, as kind);
 * otherwise, and with pool NULL, cold as before. A replica so taken keeps
 * the worker's replica id and counts from the take (status.warm_total).
 * The pool must outlive the actuator. Call it before set_replicas().
 * COFFER_E_NOMEM.
 */
int coffer_actuator_local_standby(struct coffer_actuator *a,
    struct coffer_standby *pool, const char *kind, const char *assignment)
	__attribute__((warn_unused_result));

/* The PIDs of the running (not stopping) replicas, oldest first; returns
 * how many (at most max were written). */
int coffer_actuator_local_pids(struct coffer_actuator *a, pid_t *out, int max);

/* The replica id (COFFER_REPLICA_ID) of the replica with this PID, copied
 * into out (NUL-terminated). 0, or COFFER_E_NOTFOUND (no such replica),
 * COFFER_E_LIMIT (outlen too small). */
int coffer_actuator_local_replica_id(struct coffer_actuator *a, pid_t pid,
    char *out, size_t outlen);

#endif
