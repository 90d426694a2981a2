/* SPDX-License-Identifier: Apache-2.0 */
/* Where the Kubernetes API server is and how to authenticate to it: from
 * a kubeconfig file (the YAML kubectl writes, or JSON), or from the
 * service account of the pod we run in (doc/manager.md section 5.3).
 * Private to src/actuator. */
#ifndef COFFER_ACTUATOR_KUBECONFIG_H
#define COFFER_ACTUATOR_KUBECONFIG_H

#include <stddef.h>

#include <jansson.h>

#include "lib/buf.h"

struct k8s_conn {
	char *server;           /* "https://host:port", no trailing '/' */
	char *ca_file;          /* PEM file, or NULL */
	struct coffer_buf ca_pem;       /* PEM bytes (certificate-authority-data) */
	char *token;            /* bearer token, or NULL */
	char *token_file;       /* re-read while running (bound tokens rotate) */
	char *cert_file, *key_file;     /* client certificate */
	struct coffer_buf cert_pem;
	struct coffer_buf key_pem;      /* secret: wiped on release */
	char *namespace;        /* the context's or the pod's; NULL: none said */
};

void k8s_conn_init(struct k8s_conn *c);
void k8s_conn_release(struct k8s_conn *c);

/*
 * Read a kubeconfig: its current context (or context, if not NULL), that
 * context's cluster (server, certificate-authority[-data]) and user
 * (token, tokenFile, client-certificate[-data], client-key[-data]).
 * Relative file names are relative to the kubeconfig's directory.
 * Refused (COFFER_E_UNSUPPORTED, naming the field): exec and
 * auth-provider users, insecure-skip-tls-verify, a server that is not
 * https://. COFFER_E_FORMAT for what does not parse or is missing,
 * COFFER_E_IO for files.
 */
int k8s_conn_from_kubeconfig(const char *path, const char *context,
    struct k8s_conn *out) __attribute__((warn_unused_result));

/* The service account of this pod: KUBERNETES_SERVICE_HOST/_PORT and
 * /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}
 * (dir overrides that directory, for tests). COFFER_E_NOTFOUND when not
 * in a pod. */
int k8s_conn_in_cluster(const char *dir, struct k8s_conn *out)
	__attribute__((warn_unused_result));

/*
 * The YAML subset kubeconfig files use, as JSON: block mappings and
 * sequences (a sequence may start at its key's indentation), plain,
 * 'single' and "double" quoted scalars (all strings), empty flow
 * collections {} and [], comments, a leading "---". Anything else (tabs,
 * anchors, aliases, tags, block scalars, flow content, duplicate keys) is
 * COFFER_E_FORMAT with a line number. At most 1 MiB and 32 levels.
 */
int k8s_yaml_parse(const char *text, size_t len, json_t **out)
	__attribute__((warn_unused_result));

#endif
