/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's side of a coordinator: the pin file that `coffer coordinator
 * verify` writes and every later command reads (doc/coordinator.md section
 * 3), the check that the coordinator still holds the pinned keys, and its
 * requests. */
#ifndef COFFER_CLI_COORD_CLIENT_H
#define COFFER_CLI_COORD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/identity.h"
#include "lib/buf.h"
#include "proto/auditlog.h"

/* A verified coordinator as pinned. */
struct cli_coord_pin {
	char url[512];
	struct coffer_identity_public id;
	char fingerprint[COFFER_ID_FINGERPRINT_HEX];
	char tee[16];              /* "sim", "sgx", "tdx", "sev-snp" */
	char measurement[481];     /* hex, as --expect gave it (TDX: 480 digits) */
	int insecure;              /* sim: INSECURE SIMULATION */
	char verified_at[32];
};

/* A coordinator about to be talked to. */
struct cli_coord {
	struct cli_coord_pin pin;
	int changed;               /* its live keys are not the pinned ones */
	char pin_path[4096];
	/* The last head of its log this owner verified (audit_cli.h): kept
	 * next to the pin file, presented in Coffer-Seen-Head. */
	int has_head;
	struct coffer_tree_head head;
	char head_env[COFFER_AUDITLOG_HEAD_MAX + 1];
	int log_exit;              /* CLI_ROLLBACK or CLI_FORK once seen, else 0 */
};

/* The pin file: --pin-file, else $COFFER_PIN_FILE, else
 * $XDG_CONFIG_HOME/coffer/coordinators.json, else
 * $HOME/.config/coffer/coordinators.json. */
int cli_pin_path(const char *opt, char *out, size_t outlen)
	__attribute__((warn_unused_result));

/* The pin of url (NULL: the default one, the last verified). Errors:
 * COFFER_E_NOTFOUND with a detail saying to run `coffer coordinator
 * verify`, COFFER_E_FORMAT for a damaged file. */
int cli_pin_get(const char *path, const char *url, struct cli_coord_pin *out)
	__attribute__((warn_unused_result));

/* Add or replace the pin of p->url and make it the default. */
int cli_pin_put(const char *path, const struct cli_coord_pin *p)
	__attribute__((warn_unused_result));

/*
 * Load the pin of url (or the default) and check, with GET /v1/identity,
 * that the coordinator there still presents the pinned keys. A change is
 * COFFER_E_UNTRUSTED with cc->changed set (exit CLI_PIN_CHANGED). Prints
 * the INSECURE SIMULATION warning to stderr for a sim coordinator.
 */
int cli_coord_open(const char *pin_file, const char *url, struct cli_coord *cc)
	__attribute__((warn_unused_result));
/* cli_coord_open without the audit log's client rule (audit_cli.h), which
 * cli_coord_open applies after it: for `coffer audit`, which applies it
 * itself. */
int cli_coord_open_pin(const char *pin_file, const char *url,
    struct cli_coord *cc) __attribute__((warn_unused_result));

/* cli_coord_http to cc's coordinator, presenting the kept head in
 * Coffer-Seen-Head (doc/format/audit-log.md section 6.2): what every
 * owner command sends after cli_coord_open. */
int cli_coord_call(const struct cli_coord *cc, const char *method,
    const char *path, const char *body, size_t len, long *status,
    json_t **reply, struct coffer_buf *raw) __attribute__((warn_unused_result));

/* GET path from cc's coordinator (cli_coord_call) into raw: 0 on 200;
 * otherwise the refusal is printed as cli_coord_refused does, *rc gets its
 * exit code and COFFER_E_POLICY is returned. Transport errors are
 * returned with *rc CLI_OK. */
int cli_coord_get(const struct cli_coord *cc, const char *cmd, const char *path,
    struct coffer_buf *raw, int *rc) __attribute__((warn_unused_result));

/* GET/POST path on the coordinator. Same contract as cli_http(). */
int cli_coord_http(const char *url, const char *method, const char *path,
    const char *body, size_t len, long *status, json_t **reply,
    struct coffer_buf *raw) __attribute__((warn_unused_result));

/* A coordinator's refusal ({"error": {"code": reason, ...}}): print
 * "coffer <cmd>: refused: <reason>: <message>" and return the exit code:
 * 5 request.malformed, 6 *.unknown (not found), 4 signature.invalid, 8
 * coordinator.busy and 5xx, 10 coordinator.rolled_back, 7 any other
 * refusal. */
int cli_coord_refused(const char *cmd, long status, const json_t *reply);

/* Print the error of cmd and return its exit code: CLI_PIN_CHANGED when
 * cc says the keys changed, CLI_ROLLBACK or CLI_FORK when its log did,
 * else as cli_fail(). cc may be NULL. */
int cli_coord_fail(const struct cli_coord *cc, int err, const char *cmd);

/* A coordinator job id (32 lower-case hex digits) given as JOB to cmd:
 * -1 when it is one, else the usage error printed (with usage) and its
 * exit code. The manager's id (`job-...`, what `coffer job submit`
 * printed) is said to be that, with where the coordinator's is. */
int cli_coord_job_arg(const char *cmd, const char *usage, const char *s);

#endif
