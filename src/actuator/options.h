/* SPDX-License-Identifier: Apache-2.0 */
/* What the backends share: their options ("key=value" strings), the
 * checks of a replica spec's name and labels, and their constructors,
 * which factory.c lists by name. Private to src/actuator. */
#ifndef COFFER_ACTUATOR_OPTIONS_H
#define COFFER_ACTUATOR_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "actuator/actuator.h"

/*
 * Check that every entry of opts is "key=value" with a key in names[]
 * (NULL-terminated), given at most once. COFFER_E_INVAL naming the
 * backend and the option, and listing the valid names.
 */
int act_opts_check(const char *backend, char *const *opts,
    const char *const *names);

/* The value of option name in opts (checked already), or NULL. */
const char *act_opt(char *const *opts, const char *name);

/* An option that is a whole number in [min, max]; def when absent. */
int act_opt_int(const char *backend, char *const *opts, const char *name,
    int64_t min, int64_t max, int64_t def, int64_t *out);

/* Whether s is 1-max characters of [A-Za-z0-9_.-], alphanumeric at both
 * ends (a Kubernetes label value, max 63). */
int act_label_value_ok(const char *s, size_t max);

/* Check the spec's parts every backend relies on: argv, env entries,
 * grace, name, labels, tee. COFFER_E_INVAL naming the part. */
int act_spec_check(const struct coffer_replica_spec *spec);

/* The spec's name, or "coffer". */
const char *act_spec_name(const struct coffer_replica_spec *spec);

/* The delay before crashed replicas are replaced (actuator.h: 100 ms
 * doubling to 5 s while replicas crash right after start; reset by one
 * that lived 10 s). */
struct act_backoff {
	int delay_ms;
	int64_t after_ms;       /* monotonic: no replacement before */
};
void act_backoff_crashed(struct act_backoff *b, int64_t lived_ms);

/* Check set_replicas_hint()'s arguments: n in [0, max], busy given when
 * nbusy > 0. COFFER_E_INVAL. */
int act_check_hint(int n, int max, const struct coffer_replica_hint *busy,
    size_t nbusy);

/* What the scale-down order (actuator.h, set_replicas_hint) looks at. */
struct act_rank {
	int starting;           /* not running yet */
	int busy;               /* named in the hint */
	double busy_s;          /* its item's age; < 0 unknown */
	double newness;         /* larger: asked for later */
};
/* Whether a should stop before b: starting before running, idle before
 * busy, among busy the most recent item first (unknown last), then the
 * newest. */
int act_stops_before(const struct act_rank *a, const struct act_rank *b);

/* Make room for one more element in the array *arr of *cap elements of
 * size bytes, n in use (doubling, 16 at first). 0 or COFFER_E_NOMEM. */
int act_reserve(void *arr, int *cap, int n, size_t size);

/* In a child between fork() and execve(): every signal back to its
 * default disposition, none blocked. Async-signal-safe. */
void act_child_signals(void);

/* Replica start-up moving average (actuator.h, status.startup_s). */
void act_startup_add(struct coffer_actuator_status *st, double s);

/*
 * The caller's environment with add's entries ("KEY=VALUE", may be NULL)
 * added, replacing entries of the same name, and last (may be NULL)
 * after them, which nothing replaces. The strings are borrowed: free the
 * array only. COFFER_E_NOMEM.
 */
int act_env_merge(char *const *add, const char *last, char ***out);

/* Copy a NULL-terminated string vector (NULL stays NULL); free_strv()
 * frees one. */
int act_copy_strv(char *const *src, char ***out);
void act_free_strv(char **v);

/* The backends' constructors (cfg and spec checked by the factory). */
int act_local_create(const struct coffer_actuator_config *cfg,
    const struct coffer_replica_spec *spec, struct coffer_actuator **out);
int act_slurm_check(char *const *opts);
int act_slurm_create(const struct coffer_actuator_config *cfg,
    const struct coffer_replica_spec *spec, struct coffer_actuator **out);
int act_k8s_check(char *const *opts);
int act_k8s_create(const struct coffer_actuator_config *cfg,
    const struct coffer_replica_spec *spec, struct coffer_actuator **out);

#endif
