// SPDX-License-Identifier: Apache-2.0
// Entry point of the `coffer` tool: the command table, help and completion.
// One file per command (cmd_<name>.c); add a row here for a new one.
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "cli/cli.h"
#include "cli/sealed_cli.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/suggest.h"

#ifndef COFFER_VERSION
#define COFFER_VERSION "0.0.0-dev"
#endif

const struct cli_command cli_commands[] = {
	/* COMMANDS: keep sorted by name; one row per src/cli/cmd_<name>.c */
	{ "attest", cmd_attest, "verify SGX/TDX/SEV-SNP/sim evidence; get evidence from a TEE",
	    cli_attest_verbs, cli_attest_options },
	{ "audit", cmd_audit, "check the coordinator's audit log: heads, proofs, forks, rollbacks",
	    cli_audit_verbs, cli_audit_options },
	{ "collateral", cmd_collateral, "fetch TCB Info, CRLs and VCEKs for evidence; push them to a coordinator",
	    cli_collateral_verbs, cli_collateral_options },
	{ "completion", cmd_completion, "print a bash completion script", NULL, NULL },
	{ "coordinator", cmd_coordinator, "verify a coordinator's evidence and pin its keys",
	    cli_coordinator_verbs, cli_coordinator_options },
	{ "help", cmd_help, "list commands, or show one command's help", NULL, NULL },
	{ "id", cmd_id, "create a party identity, show or check a public identity line",
	    cli_id_verbs, cli_id_options },
	{ "inspect", cmd_inspect, "show a sealed file's header, size and digest (no key)",
	    NULL, cli_inspect_options },
	{ "job", cmd_job, "submit, list, show, watch, wait for, stop and delete jobs on a manager",
	    cli_job_verbs, cli_job_options },
	{ "key", cmd_key, "create a data key file, show a key's id",
	    cli_key_verbs, cli_key_options },
	{ "open", cmd_open, "verify and decrypt a sealed file", NULL, cli_open_options },
	{ "policy", cmd_policy, "propose, show, approve and revoke policies at the coordinator",
	    cli_policy_verbs, cli_policy_options },
	{ "receipt", cmd_receipt, "fetch and verify the signed receipt of a confidential job; close a job",
	    cli_receipt_verbs, cli_receipt_options },
	{ "results", cmd_results, "fetch and open a confidential job's results, as a recipient",
	    cli_results_verbs, cli_results_options },
	{ "run", cmd_run, "run a job end to end on this machine (private Redis, local workers)",
	    NULL, cli_run_options },
	{ "seal", cmd_seal, "encrypt a file under a data key (sealed format v1)",
	    NULL, cli_seal_options },
	{ "token", cmd_token, "list, create and revoke a manager's bearer tokens",
	    cli_token_verbs, cli_token_options },
	{ "up", cmd_up, "run Redis, the manager and a (sim) coordinator on this machine",
	    NULL, cli_up_options },
	{ "version", cmd_version, "print the version", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
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
cli_opt_fail(const char *cmd, const char *usage, const struct option *opts,
    int c, char **argv)
{
	const char *arg = argv[optind - 1], *names[128], *close = NULL;
	char word[80];
	size_t n = 0, len;

	if (c == ':')
		return cli_usage(cmd, usage, "option '%s' needs a value", arg);
	/* "--chunksize=4K": the name is what comes before '='. */
	if (strncmp(arg, "--", 2) == 0 && opts != NULL) {
		len = strcspn(arg + 2, "=");
		if (len < sizeof(word)) {
			memcpy(word, arg + 2, len);
			word[len] = '\0';
			for (const struct option *o = opts; o->name != NULL &&
			    n < sizeof(names) / sizeof(names[0]); o++)
				names[n++] = o->name;
			close = coffer_suggest(word, names, n);
		}
	}
	if (close != NULL)
		return cli_usage(cmd, usage, "unknown option '%s' (did you mean "
		    "'--%s'?)", arg, close);
	return cli_usage(cmd, usage, "unknown option '%s'", arg);
}

static int
is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* "a, b or c" */
static void
verb_list(const struct cli_verb *verbs, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
	for (const struct cli_verb *v = verbs; v->name != NULL && n < outlen; v++)
		n += (size_t)snprintf(out + n, outlen - n, "%s%s",
		    v == verbs ? "" : v[1].name == NULL ? " or " : ", ", v->name);
}

/* Words users bring from other tools, and the verb they mean where a
 * command has it (`coffer job cancel` is `coffer job stop`). */
static const struct {
	const char *word, *verb;
} verb_synonyms[] = {
	{ "cancel", "stop" }, { "kill", "stop" }, { "abort", "stop" },
	{ "rm", "delete" }, { "remove", "delete" }, { "del", "delete" },
	{ "ls", "list" }, { "propose", "new" }, { "create", "new" },
	{ "generate", "new" }, { "get", "show" }, { "describe", "show" },
	{ "info", "show" }, { "follow", "watch" }, { "tail", "logs" },
	{ "sign", "approve" },
};

/* The verb of verbs that word stands for, or NULL. */
static const char *
verb_synonym(const char *word, const struct cli_verb *verbs)
{
	for (size_t i = 0; i < sizeof(verb_synonyms) / sizeof(verb_synonyms[0]); i++) {
		if (strcmp(word, verb_synonyms[i].word) != 0)
			continue;
		for (const struct cli_verb *v = verbs; v->name != NULL; v++)
			if (strcmp(v->name, verb_synonyms[i].verb) == 0)
				return v->name;
	}
	return NULL;
}

int
cli_dispatch(const char *cmd, const struct cli_verb *verbs, const char *usage,
    void (*help)(void), int argc, char **argv)
{
	char list[256];

	verb_list(verbs, list, sizeof(list));
	if (argc < 2)
		return cli_usage(cmd, usage, "expected %s", list);
	if (is_help(argv[1])) {
		help();
		return CLI_OK;
	}
	const char *names[32], *close;
	size_t n = 0;

	for (const struct cli_verb *v = verbs; v->name != NULL; v++) {
		if (strcmp(argv[1], v->name) == 0)
			return v->fn(argc - 1, argv + 1);
		if (n < sizeof(names) / sizeof(names[0]))
			names[n++] = v->name;
	}
	if ((close = coffer_suggest(argv[1], names, n)) != NULL ||
	    (close = verb_synonym(argv[1], verbs)) != NULL)
		return cli_usage(cmd, usage, "unknown verb '%s' (did you mean "
		    "'%s'?)", argv[1], close);
	return cli_usage(cmd, usage, "unknown verb '%s' (expected %s)", argv[1],
	    list);
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

/*
 * A verb given as a command (`coffer submit job.json`, `coffer approve`):
 * the commands that have it, as "'coffer job submit'" into out; 0 if none.
 */
static int
commands_with_verb(const char *word, char *out, size_t outlen)
{
	size_t len = 0;
	int n = 0;

	out[0] = '\0';
	for (const struct cli_command *c = cli_commands; c->name != NULL; c++) {
		const char *v = NULL;

		for (const struct cli_verb *w = c->verbs; w != NULL &&
		    w->name != NULL; w++)
			if (strcmp(w->name, word) == 0)
				v = w->name;
		if (v == NULL && c->verbs != NULL)
			v = verb_synonym(word, c->verbs);
		if (v == NULL || len >= outlen)
			continue;
		len += (size_t)snprintf(out + len, outlen - len, "%s'coffer %s %s'",
		    n == 0 ? "" : ", ", c->name, v);
		n++;
	}
	return n;
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
	if (argc > 2)
		return cli_usage("help", "coffer help [COMMAND]",
		    "unexpected argument '%s'", argv[2]);
	if (is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		printf("usage: coffer help [COMMAND]\n\n"
		    "List the commands, or print the help of COMMAND (the same as\n"
		    "'coffer COMMAND --help').\n");
		return CLI_OK;
	}
	if ((c = find(argv[1])) == NULL) {
		const char *names[64], *close;
		size_t n = 0;

		for (c = cli_commands; c->name != NULL && n < 64; c++)
			names[n++] = c->name;
		if ((close = coffer_suggest(argv[1], names, n)) != NULL)
			return cli_usage("help", "coffer help [COMMAND]",
			    "unknown command '%s' (did you mean '%s'?)", argv[1],
			    close);
		return cli_usage("help", "coffer help [COMMAND]",
		    "unknown command '%s'", argv[1]);
	}
	args[0] = (char *)c->name;
	return c->fn(2, args);
}

int
cmd_version(int argc, char **argv)
{
	int r;

	if (argc > 1 && is_help(argv[1])) {
		printf("usage: coffer version\n\n"
		    "Print the version of coffer (also 'coffer --version').\n");
		return CLI_OK;
	}
	if (argc > 1)
		return cli_usage("version", "coffer version",
		    "unexpected argument '%s'", argv[1]);
	printf("coffer %s\n", COFFER_VERSION);
	if ((r = sealed_cli_check_stdout(NULL, "the version")) != 0)
		return cli_fail(r, "version");
	return CLI_OK;
}

/* Options whose value is one of a few words, offered after them. */
static const struct {
	const char *cmd, *option, *words;
} option_values[] = {
	{ "job", "--state", "pending running completed failed stopped" },
	{ "job", "--output", "json wide" },
	{ "job", "-o", "json wide" },
	{ "token", "--scope", "read admin" },
	{ "run", "--app-kind", "plugin exec" },
	{ "seal", "--suite", "aes-256-gcm chacha20-poly1305" },
};

/*
 * The script is generated from the command table: the command names, each
 * command's verbs (cli_verb tables, which its dispatch uses) and long
 * options (the getopt_long tables it parses with). Words are plain ASCII
 * names, safe inside the double quotes they are printed in.
 */
int
cmd_completion(int argc, char **argv)
{
	const struct cli_command *c, *d;
	const struct cli_verb *v;
	const struct option *o;
	int r;

	if (argc > 1 && is_help(argv[1])) {
		printf("usage: coffer completion\n\n"
		    "Print a bash completion script for coffer: command names, their\n"
		    "verbs and long options, and file names. Load it with\n"
		    "  source <(coffer completion)\n"
		    "or save it as /etc/bash_completion.d/coffer.\n");
		return CLI_OK;
	}
	if (argc > 1)
		return cli_usage("completion", "coffer completion",
		    "unexpected argument '%s'", argv[1]);
	printf("# bash completion for coffer (generated by 'coffer completion');\n"
	    "# source it or save it as /etc/bash_completion.d/coffer\n"
	    "_coffer() {\n"
	    "  local cur=${COMP_WORDS[COMP_CWORD]} verbs= opts=\n"
	    "  COMPREPLY=()\n"
	    "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
	    "    mapfile -t COMPREPLY < <(compgen -W \"");
	for (c = cli_commands; c->name != NULL; c++)
		printf("%s ", c->name);
	printf("--help --version\" -- \"$cur\")\n"
	    "    return\n"
	    "  fi\n"
	    "  case ${COMP_WORDS[1]} in\n");
	for (c = cli_commands; c->name != NULL; c++) {
		if (c->verbs == NULL && c->options == NULL && c->fn != cmd_help)
			continue;
		printf("  %s) verbs=\"", c->name);
		if (c->fn == cmd_help) /* its verbs: the command names */
			for (d = cli_commands; d->name != NULL; d++)
				printf("%s%s", d == cli_commands ? "" : " ", d->name);
		for (v = c->verbs; v != NULL && v->name != NULL; v++)
			printf("%s%s", v == c->verbs ? "" : " ", v->name);
		printf("\" opts=\"");
		for (o = c->options; o != NULL && o->name != NULL; o++)
			printf("%s--%s", o == c->options ? "" : " ", o->name);
		printf("\" ;;\n");
	}
	/* Values of options that take one of a few words. */
	printf("  esac\n"
	    "  case ${COMP_WORDS[1]}:${COMP_WORDS[COMP_CWORD-1]} in\n");
	for (size_t i = 0; i < sizeof(option_values) / sizeof(option_values[0]); i++)
		printf("  %s:%s) mapfile -t COMPREPLY < <(compgen -W \"%s\" -- "
		    "\"$cur\"); return ;;\n", option_values[i].cmd,
		    option_values[i].option, option_values[i].words);
	printf("  esac\n"
	    "  if [ \"$COMP_CWORD\" -eq 2 ] && [ -n \"$verbs\" ] && [[ $cur != -* ]]; then\n"
	    "    mapfile -t COMPREPLY < <(compgen -W \"$verbs\" -- \"$cur\")\n"
	    "  elif [[ $cur == -* ]]; then\n"
	    "    mapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")\n"
	    "  else\n"
	    "    compopt -o filenames 2>/dev/null\n"
	    "    mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
	    "  fi\n"
	    "}\n"
	    "complete -F _coffer coffer\n");
	if ((r = sealed_cli_check_stdout(NULL, "the script")) != 0)
		return cli_fail(r, "completion");
	return CLI_OK;
}

int
main(int argc, char **argv)
{
	const struct cli_command *c;
	int r;

	/* The commands say what matters in their own words; the library's
	 * log lines (timestamps, pids) would be noise in a user's terminal.
	 * Asking for logs (COFFER_LOG_LEVEL or COFFER_LOG_FORMAT) brings
	 * them back, warnings included. */
	if (getenv("COFFER_LOG_LEVEL") == NULL && getenv("COFFER_LOG_FORMAT") == NULL)
		coffer_log_setup("coffer", COFFER_LOG_ERROR, COFFER_LOG_HUMAN, NULL);
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
	if (is_help(argv[1]))
		return cmd_help(1, argv + 1);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	if ((c = find(argv[1])) == NULL) {
		const char *names[64], *close;
		size_t n = 0;

		for (c = cli_commands; c->name != NULL && n < 64; c++)
			names[n++] = c->name;
		if ((close = coffer_suggest(argv[1], names, n)) != NULL) {
			fprintf(stderr, "coffer: unknown command '%s' (did you mean "
			    "'%s'?)\n", argv[1], close);
			return CLI_USAGE;
		}
		char with[512];
		int k = commands_with_verb(argv[1], with, sizeof(with));

		if (k > 0) {
			fprintf(stderr, "coffer: unknown command '%s' (did you mean "
			    "%s%s?)\n", argv[1], k > 1 ? "one of " : "", with);
			return CLI_USAGE;
		}
		fprintf(stderr, "coffer: unknown command '%s'\n\n", argv[1]);
		list_commands(stderr);
		return CLI_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
