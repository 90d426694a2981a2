/* SPDX-License-Identifier: Apache-2.0 */
/* A small HTTP client (libcurl) for the CLI commands that talk to
 * coffer-manager (`coffer job`), and the state file of `coffer up` through
 * which they find it without flags. */
#ifndef COFFER_CLI_CLIENT_H
#define COFFER_CLI_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "lib/buf.h"

struct cli_endpoint {
	char url[512];     /* "http://127.0.0.1:8080", no trailing slash */
	char token[256];   /* bearer token; "" for none */
	char cacert[1024]; /* PEM bundle for https; "" for the system's */
	char header[3072]; /* one more request header line ("Name: value"),
	                      "" for none (the coordinator's Coffer-Seen-Head) */
};

/*
 * Where the manager is: the flags if given, else $COFFER_URL and
 * $COFFER_TOKEN (and $COFFER_CACERT), else the state file `coffer up`
 * writes. COFFER_E_NOTFOUND (with a detail saying what to do) when none.
 */
int cli_endpoint_resolve(const char *url, const char *token,
    struct cli_endpoint *ep) __attribute__((warn_unused_result));

/*
 * One request. body may be NULL. *status gets the HTTP status; *reply
 * (if not NULL) the parsed JSON reply or NULL when the body is empty or not
 * JSON; raw (if not NULL) gets the body bytes. Errors: COFFER_E_CONNECT
 * (the manager cannot be reached), COFFER_E_HTTP (another transfer error).
 * An HTTP error status is not an error here.
 */
int cli_http(const struct cli_endpoint *ep, const char *method,
    const char *path, const char *body, size_t len, long *status,
    json_t **reply, struct coffer_buf *raw) __attribute__((warn_unused_result));

/* Print "coffer <cmd>: HTTP <status>: <message> (field <f>)" from an error
 * reply and return the CLI exit code for the status. */
int cli_http_fail(const char *cmd, long status, const json_t *reply);

/* The path of `coffer up`'s state file: $XDG_RUNTIME_DIR/coffer/up.json,
 * else $HOME/.config/coffer/up.json. */
int cli_up_state_path(char *out, size_t outlen)
	__attribute__((warn_unused_result));

/* 1 if pid (from a state file) is a running `coffer up`: it exists and,
 * where /proc tells, its command name starts with "coffer"; else 0. */
int cli_up_running(long long pid);

#endif
