// SPDX-License-Identifier: Apache-2.0
// `coffer key`: create a data key file and show a key's id. Format:
// doc/format/identity.md, sections 4 and 5.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/sealed_cli.h"
#include "coffer/error.h"
#include "crypto/datakey.h"
#include "lib/enc.h"
#include "lib/mem.h"

#define USAGE "coffer key new FILE | coffer key show FILE"

static void
help(void)
{
	printf("usage: coffer key new FILE\n"
	    "       coffer key show FILE\n\n"
	    "A data key is a 256-bit key that datasets are sealed under\n"
	    "(doc/format/identity.md).\n\n"
	    "  new    create FILE (mode 0600; never replaces a file) holding a new\n"
	    "         random data key, and print its key id\n"
	    "  show   print the key id of the key in FILE (32 hex digits); the id\n"
	    "         names the key without revealing it\n");
}

const struct option cli_key_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
parse(const char *cmd, int argc, char **argv)
{
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_key_options, NULL)) != -1) {
		if (c == 'h') {
			help();
			return CLI_OK;
		}
		return cli_usage(cmd, USAGE, "unknown option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cli_usage(cmd, USAGE, "expected one FILE argument, got %d",
		    argc - optind);
	return -1;
}

static int
print_id(const uint8_t key[COFFER_DATAKEY_LEN])
{
	uint8_t id[COFFER_DATAKEY_ID_LEN];
	char hex[2 * COFFER_DATAKEY_ID_LEN + 1];
	int r;

	if ((r = coffer_datakey_id(key, id)) != 0)
		return r;
	coffer_hex_encode(id, sizeof(id), hex);
	printf("%s\n", hex);
	return 0;
}

/* argv[0] is the verb. */
static int
key_new(int argc, char **argv)
{
	uint8_t key[COFFER_DATAKEY_LEN];
	const char *path;
	int r;

	if ((r = parse("key new", argc, argv)) >= 0)
		return r;
	path = argv[optind];
	/* Once saved, the key exists: every later failure says so, and the
	 * key id is still printed if it can be. */
	if ((r = coffer_datakey_generate(key)) == 0 &&
	    (r = coffer_datakey_save(path, key)) == 0 &&
	    (r = print_id(key)) == 0 &&
	    (r = sealed_cli_check_stdout(path, "its key id")) == 0)
		r = sealed_cli_check_synced(path);
	coffer_wipe(key, sizeof(key));
	return r == 0 ? CLI_OK : cli_fail(r, "key new");
}

static int
key_show(int argc, char **argv)
{
	uint8_t key[COFFER_DATAKEY_LEN];
	int r;

	if ((r = parse("key show", argc, argv)) >= 0)
		return r;
	if ((r = coffer_datakey_load(argv[optind], key)) == 0 &&
	    (r = print_id(key)) == 0)
		r = sealed_cli_check_stdout(NULL, "the key id");
	coffer_wipe(key, sizeof(key));
	return r == 0 ? CLI_OK : cli_fail(r, "key show");
}

const struct cli_verb cli_key_verbs[] = {
	{ "new", key_new },
	{ "show", key_show },
	{ NULL, NULL },
};

int
cmd_key(int argc, char **argv)
{
	return cli_dispatch("key", cli_key_verbs, USAGE, help, argc, argv);
}
