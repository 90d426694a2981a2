// SPDX-License-Identifier: Apache-2.0
// `coffer inspect`: show a sealed file's header, layout and content digest
// without its key (doc/format/sealed.md, rules R1-R7 and R9-R11).
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sealed_cli.h"
#include "coffer/error.h"
#include "crypto/sealed.h"

#define USAGE "coffer inspect [--json] FILE"

static void
help(void)
{
	printf("usage: %s\n\n"
	    "Show the header of the sealed FILE ('-' for standard input), its chunk\n"
	    "count, plaintext size and content digest (SHA-256 of the whole file).\n"
	    "Needs no key, so it checks only the structure: use coffer open to\n"
	    "verify.\n\n"
	    "  -j, --json            print the summary as JSON\n", USAGE);
}

const struct option cli_inspect_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
cmd_inspect(int argc, char **argv)
{
	struct coffer_sealed_info info;
	const char *path;
	int json = 0, c, r, fd = -1;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", cli_inspect_options,
	    NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': help(); return CLI_OK;
		default:
			return cli_opt_fail("inspect", USAGE, cli_inspect_options, c,
			    argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage("inspect", USAGE, "expected one FILE, got %d",
		    argc - optind);
	path = argv[optind];
	if ((r = sealed_cli_open_input(path, &fd)) != 0)
		return cli_fail(r, "inspect");
	r = coffer_sealed_inspect_fd(fd, &info);
	if (fd > STDIN_FILENO)
		close(fd);
	if (r != 0)
		return cli_fail(coffer_errctx(r, "%s", path), "inspect");
	sealed_cli_print(stdout, json, path, NULL, &info, 0);
	if ((r = sealed_cli_check_stdout(NULL, "the summary")) != 0)
		return cli_fail(r, "inspect");
	return CLI_OK;
}
