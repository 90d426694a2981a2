/* SPDX-License-Identifier: Apache-2.0 */
/* The owner's side of the coordinator's audit log
 * (doc/format/audit-log.md section 6): the last head verified, kept per
 * coordinator identity in a file next to the pin file, the client rule
 * (H1 to H7) that every owner command applies, and the head it presents
 * in Coffer-Seen-Head. `coffer audit` (cmd_audit.c) is built on it. */
#ifndef COFFER_CLI_AUDIT_CLI_H
#define COFFER_CLI_AUDIT_CLI_H

#include <stddef.h>

#include "cli/coord_client.h"
#include "proto/auditlog.h"

/* The kept heads' file: the pin file's path with its ".json" replaced by
 * ".heads.json" (else with ".heads" added). */
int cli_heads_path(const char *pin_path, char *out, size_t outlen)
	__attribute__((warn_unused_result));

/* Load the head kept for cc's coordinator (by its identity's fingerprint,
 * so every URL of one coordinator shares it) into cc->head and
 * cc->head_env; cc->has_head is 0 when none is kept. A kept head that no
 * longer verifies under the pinned key is an error. */
int cli_head_load(struct cli_coord *cc) __attribute__((warn_unused_result));

/* Keep the head envelope text for cc's coordinator (replacing the kept
 * one) and in cc. */
int cli_head_keep(struct cli_coord *cc, const char *env, size_t len)
	__attribute__((warn_unused_result));

/* What the client rule saw: the coordinator's current head. */
struct cli_head_seen {
	enum coffer_auditlog_outcome outcome;
	struct coffer_tree_head now;
	char env[COFFER_AUDITLOG_HEAD_MAX + 1];
};

/*
 * Fetch the coordinator's head and apply the client rule against the kept
 * head, fetching the consistency proof when the log grew. On H2 and H7
 * the new head is kept. Returns 0 whenever the rule was applied; the
 * outcome is in *seen.
 */
int cli_head_check(struct cli_coord *cc, struct cli_head_seen *seen)
	__attribute__((warn_unused_result));

/*
 * cli_head_load and cli_head_check for an owner command (cli_coord_open):
 * on a rollback or a fork it presents the kept head to the coordinator
 * (which records it and stops releasing keys), prints both heads to
 * stderr, sets cc->log_exit (CLI_ROLLBACK, CLI_FORK) and fails with
 * COFFER_E_UNTRUSTED; a head whose signature fails is COFFER_E_SIGNATURE.
 */
int cli_head_follow(struct cli_coord *cc) __attribute__((warn_unused_result));

/* The same without loading the kept head again: after an owner's write
 * was acknowledged, so that the kept head covers it (a rollback that
 * loses it is then caught by the owner's next command). */
int cli_head_refresh(struct cli_coord *cc) __attribute__((warn_unused_result));

/* GET one of the log's routes (path and query): a 200's body appended to
 * raw, anything else an error naming the status. */
int cli_log_get(const struct cli_coord *cc, const char *path,
    struct coffer_buf *raw) __attribute__((warn_unused_result));

/* The "Coffer-Seen-Head: ..." header line of cc's kept head, or "" when
 * none. */
int cli_head_header(const struct cli_coord *cc, char *out, size_t outlen)
	__attribute__((warn_unused_result));

#endif
