/* SPDX-License-Identifier: Apache-2.0 */
/* Shared declarations of the `coffer` command-line tool: the command table,
 * exit codes, and error printing. Only CLI code prints and exits. */
#ifndef COFFER_CLI_H
#define COFFER_CLI_H

#include <getopt.h>

/*
 * Exit codes of every `coffer` command (documented in doc/cli.md). A script
 * can tell a wrong key from tampering from a missing file.
 */
enum cli_exit {
	CLI_OK = 0,
	CLI_FAIL = 1,        /* any other failure */
	CLI_USAGE = 2,       /* bad command line */
	CLI_WRONG_KEY = 3,   /* COFFER_E_WRONG_KEY */
	CLI_AUTH = 4,        /* COFFER_E_AUTH, _SIGNATURE: corrupt or tampered data */
	CLI_FORMAT = 5,      /* COFFER_E_FORMAT, _VERSION, _TRUNCATED, _LIMIT, _UNSUPPORTED */
	CLI_IO = 6,          /* COFFER_E_IO, _NOTFOUND, _EXISTS, _PERM, non-regular file */
	CLI_REJECTED = 7,    /* verification ran and rejected: cert, TCB, policy, trust */
	CLI_UNAVAILABLE = 8, /* a server could not be reached */
	CLI_PIN_CHANGED = 9, /* a coordinator's keys are not the pinned ones */
	CLI_ROLLBACK = 10,   /* a coordinator shows less of its log than it
	                        showed before, or says it was rolled back
	                        (doc/format/audit-log.md section 6) */
	CLI_FORK = 11,       /* a coordinator's log does not extend the one it
	                        showed before */
	CLI_INCOMPLETE = 12, /* a receipt says not every item was processed
	                        (doc/format/receipt.md rule RV11) */
};

/* A sub-verb of a command (`coffer key new`): fn gets argv[0] = the verb. */
struct cli_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
};

/*
 * One command. verbs and options are what `coffer completion` offers, read
 * from the tables the command itself dispatches and parses with, so the
 * completion cannot drift from the command line.
 */
struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const struct cli_verb *verbs;   /* ends with { NULL }; NULL: no verbs */
	const struct option *options;   /* getopt_long's table; NULL: none */
};

/* Map a coffer error code to the exit code above. */
int cli_exit_code(int err);

/*
 * Print "coffer <cmd>: <strerror>: <detail>" to stderr and return the exit
 * code for err, so a command can end with `return cli_fail(r, "seal");`.
 */
int cli_fail(int err, const char *cmd);

/* Print "coffer <cmd>: <message>" and the usage line, return CLI_USAGE. */
int cli_usage(const char *cmd, const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The end of every getopt_long loop: c is what getopt_long returned for an
 * option it did not take (':' a missing value, anything else an unknown
 * option; call it with opterr = 0 and ":" first in the short options).
 * Prints "coffer <cmd>: option '--x' needs a value" or "unknown option
 * '--x'" (with "did you mean '--y'?" when one of opts is close), then the
 * usage, and returns CLI_USAGE.
 */
int cli_opt_fail(const char *cmd, const char *usage,
    const struct option *opts, int c, char **argv);

/*
 * Run the verb argv[1] of cmd from verbs (argv[0] is cmd): "-h"/"--help"
 * calls help; a missing or unknown verb prints the usage and returns
 * CLI_USAGE.
 */
int cli_dispatch(const char *cmd, const struct cli_verb *verbs,
    const char *usage, void (*help)(void), int argc, char **argv);

/* 1 if stdout / stderr is a terminal (for progress bars). */
int cli_isatty(int fd);

/* The commands, one file each: src/cli/cmd_<name>.c. */
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_completion(int argc, char **argv);
int cmd_attest(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_collateral(int argc, char **argv);
int cmd_coordinator(int argc, char **argv);
int cmd_job(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_id(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_receipt(int argc, char **argv);
int cmd_results(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_token(int argc, char **argv);

/* The commands' verbs and options, for the command table. */
extern const struct cli_verb cli_attest_verbs[], cli_audit_verbs[],
    cli_collateral_verbs[], cli_coordinator_verbs[], cli_id_verbs[],
    cli_policy_verbs[], cli_receipt_verbs[], cli_results_verbs[],
    cli_job_verbs[], cli_key_verbs[], cli_token_verbs[];
extern const struct option cli_attest_options[], cli_audit_options[],
    cli_collateral_options[], cli_coordinator_options[], cli_id_options[],
    cli_policy_options[], cli_receipt_options[], cli_results_options[],
    cli_inspect_options[], cli_job_options[], cli_key_options[],
    cli_open_options[], cli_run_options[], cli_seal_options[],
    cli_up_options[], cli_token_options[];

extern const struct cli_command cli_commands[];

#endif
