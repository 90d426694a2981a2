// SPDX-License-Identifier: Apache-2.0
// Entry point of the `coffer` tool: the command table, help and completion.
// One file per command (cmd_<name>.c); add a row here for a new one.
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "cli/cli.h"
#include "lib/file.h"
#include "lib/log.h"

#ifndef COFFER_VERSION
#define COFFER_VERSION "0.0.0-dev"
#endif

const struct cli_command cli_commands[] = {
	/* COMMANDS: keep sorted by name; one row per src/cli/cmd_<name>.c */
	{ "attest", cmd_attest, "verify SGX/TDX/SEV-SNP/sim evidence; get evidence from a TEE" },
	{ "completion", cmd_completion, "print a bash completion script" },
	{ "help", cmd_help, "list commands, or show one command's help" },
	{ "id", cmd_id, "create a party identity, show or check a public identity line" },
	{ "inspect", cmd_inspect, "show a sealed file's header, size and digest (no key)" },
	{ "job", cmd_job, "submit, list, show, stop, delete and watch jobs on a manager" },
	{ "key", cmd_key, "create a data key file, show a key's id" },
	{ "open", cmd_open, "verify and decrypt a sealed file" },
	{ "run", cmd_run, "run a job end to end on this machine (private Redis, local workers)" },
	{ "seal", cmd_seal, "encrypt a file under a data key (sealed format v1)" },
	{ "up", cmd_up, "run redis, the manager and the local actuator on this machine" },
	{ "version", cmd_version, "print the version" },
	{ NULL, NULL, NULL },
};

int
cli_exit_code(int err)
{
	switch (err) {
	case COFFER_OK:
		return CLI_OK;
	case COFFER_E_WRONG_KEY:
		return CLI_WRONG_KEY;
	case COFFER_E_AUTH:
	case COFFER_E_SIGNATURE:
		return CLI_AUTH;
	case COFFER_E_FORMAT:
	case COFFER_E_VERSION:
	case COFFER_E_TRUNCATED:
	case COFFER_E_LIMIT:
	case COFFER_E_UNSUPPORTED:
		return CLI_FORMAT;
	case COFFER_E_IO:
	case COFFER_E_NOTFOUND:
	case COFFER_E_EXISTS:
	case COFFER_E_PERM:
		return CLI_IO;
	case COFFER_E_CERT:
	case COFFER_E_EXPIRED:
	case COFFER_E_REVOKED:
	case COFFER_E_UNTRUSTED:
	case COFFER_E_POLICY:
		return CLI_REJECTED;
	case COFFER_E_CONNECT:
	case COFFER_E_TIMEOUT:
		return CLI_UNAVAILABLE;
	case COFFER_E_INVAL:
		return CLI_USAGE;
	default:
		return CLI_FAIL;
	}
}

int
cli_fail(int err, const char *cmd)
{
	const char *d = coffer_errdetail();

	if (d[0] != '\0')
		fprintf(stderr, "coffer %s: %s: %s\n", cmd, coffer_strerror(err), d);
	else
		fprintf(stderr, "coffer %s: %s\n", cmd, coffer_strerror(err));
	return cli_exit_code(err);
}

int
cli_usage(const char *cmd, const char *usage, const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		fprintf(stderr, "coffer %s: ", cmd);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "usage: %s\n", usage);
	return CLI_USAGE;
}

int
cli_isatty(int fd)
{
	return isatty(fd);
}

static const struct cli_command *
find(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void
list_commands(FILE *out)
{
	fprintf(out, "usage: coffer <command> [args]\n\ncommands:\n");
	for (const struct cli_command *c = cli_commands; c->name != NULL; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fprintf(out, "\n'coffer help <command>' or 'coffer <command> --help' for more.\n");
}

int
cmd_help(int argc, char **argv)
{
	const struct cli_command *c;
	char *args[] = { NULL, "--help", NULL };

	if (argc < 2) {
		list_commands(stdout);
		return CLI_OK;
	}
	if ((c = find(argv[1])) == NULL || c->fn == cmd_help)
		return cli_usage("help", "coffer help [command]",
		    "unknown command '%s'", argv[1]);
	args[0] = (char *)c->name;
	return c->fn(2, args);
}

int
cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("coffer %s\n", COFFER_VERSION);
	return CLI_OK;
}

int
cmd_completion(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("# bash completion for coffer; source it or put it in\n"
	    "# /etc/bash_completion.d/coffer\n"
	    "_coffer() {\n"
	    "  local cur=${COMP_WORDS[COMP_CWORD]}\n"
	    "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
	    "    COMPREPLY=($(compgen -W \"");
	for (const struct cli_command *c = cli_commands; c->name != NULL; c++)
		printf("%s%s", c == cli_commands ? "" : " ", c->name);
	printf("\" -- \"$cur\"))\n"
	    "  else\n"
	    "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
	    "  fi\n"
	    "}\n"
	    "complete -F _coffer coffer\n");
	return CLI_OK;
}

int
main(int argc, char **argv)
{
	const struct cli_command *c;
	int r;

	coffer_log_setup_env("coffer");
	/* Every command: a SIGINT, SIGTERM or SIGHUP removes the temporary
	 * file of an atomic write in progress (lib/file.h), e.g. a secret
	 * key that `coffer key new` had not yet linked into place. */
	if ((r = coffer_atomic_install_signal_cleanup()) != 0)
		return cli_fail(r, "startup");
	if (argc < 2) {
		list_commands(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv + 1);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	if ((c = find(argv[1])) == NULL) {
		fprintf(stderr, "coffer: unknown command '%s'\n\n", argv[1]);
		list_commands(stderr);
		return CLI_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
