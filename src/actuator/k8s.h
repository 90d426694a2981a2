/* SPDX-License-Identifier: Apache-2.0 */
/* What the Kubernetes backend reads in the API server's answers: a pod, a
 * watch event, a list's resourceVersion, a Job or Deployment (and a Scale).
 * The server is not trusted to be sane: everything is checked and a field
 * that is not what the API says is COFFER_E_FORMAT naming it. Private to
 * src/actuator (kubernetes.c; tests/fuzz/fuzz_k8s_watch.c). */
#ifndef COFFER_ACTUATOR_K8S_H
#define COFFER_ACTUATOR_K8S_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "actuator/actuator.h"

/* A pod, as much of it as a replica needs. */
struct k8s_pod_view {
	char name[COFFER_REPLICA_ID_MAX + 1]; /* metadata.name: the replica id */
	char node[64];          /* spec.nodeName, "" if not scheduled */
	char reason[64];        /* status.reason, or the container's */
	int64_t created_unix;   /* metadata.creationTimestamp, 0 if absent */
	int deleting;           /* metadata.deletionTimestamp is set */
	int running;            /* status.phase Running */
	int terminal;           /* Succeeded or Failed */
	int succeeded;
	int restarts;           /* the first container's restartCount */
	int exit_code;          /* its state.terminated.exitCode; -1 none */
	int last_exit_code;     /* its lastState.terminated.exitCode; -1 none */
};

/* From a Pod object. COFFER_E_FORMAT (the name is missing, too long for a
 * replica id, or not [a-z0-9.-]; a field of the wrong type). */
int k8s_pod_view(const json_t *pod, struct k8s_pod_view *out)
	__attribute__((warn_unused_result));

enum k8s_event_type {
	K8S_EV_ADDED, K8S_EV_MODIFIED, K8S_EV_DELETED, K8S_EV_BOOKMARK,
	K8S_EV_ERROR,
};

struct k8s_watch_event {
	enum k8s_event_type type;
	char rv[64];            /* the object's resourceVersion ("" if none) */
	int code;               /* ERROR: the Status's code (410: expired) */
	char reason[64];        /* ERROR: the Status's reason */
	struct k8s_pod_view pod; /* ADDED, MODIFIED, DELETED */
};

/* One line of a watch stream (a JSON object, at most 1 MiB). */
int k8s_watch_event(const char *line, size_t len, struct k8s_watch_event *out)
	__attribute__((warn_unused_result));

/* A list's metadata.resourceVersion (1-63 printable characters). */
int k8s_list_rv(const json_t *list, char *rv, size_t rvlen)
	__attribute__((warn_unused_result));

struct k8s_owner_view {
	int replicas;           /* Job spec.parallelism, Deployment spec.replicas */
	int finished;           /* Job: a Complete or Failed condition is True */
	int failed;             /* Job: Failed is True */
	char reason[128];       /* Failed's reason and message */
};

/* A Job (deployment == 0) or a Deployment. */
int k8s_owner_view(const json_t *o, int deployment, struct k8s_owner_view *out)
	__attribute__((warn_unused_result));

/* The answer to a scale: a Job (Job mode) or a Scale (Deployment mode). */
int k8s_scale_answer(const json_t *o, int deployment,
    struct k8s_owner_view *out) __attribute__((warn_unused_result));

#endif
