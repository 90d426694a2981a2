// SPDX-License-Identifier: Apache-2.0
// `coffer id`: create a party identity, show its public line, check a
// line someone sent. Formats: doc/format/identity.md.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/sealed_cli.h"
#include "coffer/error.h"
#include "crypto/identity.h"
#include "lib/buf.h"

#define USAGE "coffer id new [--name NAME] FILE | coffer id show FILE | " \
	"coffer id check LINE"

static void
help(void)
{
	printf("usage: coffer id new [--name NAME] FILE\n"
	    "       coffer id show FILE\n"
	    "       coffer id check LINE\n\n"
	    "A party identity is an Ed25519 signing key and an X25519 key for\n"
	    "receiving wrapped keys (doc/format/identity.md).\n\n"
	    "  new    create FILE (mode 0600; never replaces a file) holding a\n"
	    "         new identity, and print its public line\n"
	    "  show   print the public line of the identity in FILE; give that\n"
	    "         line to others over a channel they trust\n"
	    "  check  check a public line (its checksum catches copy-paste\n"
	    "         errors) and print its name and fingerprint\n\n"
	    "  -n, --name NAME   a label, up to 64 of A-Z a-z 0-9 . _ @ + -\n");
}

/* getopt over argv[0..argc) where argv[0] is the verb; only --help and,
 * for `new`, --name. Returns -1 to go on, else an exit code. */
const struct option cli_id_options[] = {
	{ "name", required_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
parse(const char *cmd, int argc, char **argv, int want_name, const char **name)
{
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", cli_id_options, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!want_name)
				return cli_usage(cmd, USAGE, "--name applies to 'id new' "
				    "only");
			*name = optarg;
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_opt_fail(cmd, USAGE, cli_id_options, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cmd, USAGE, "expected one argument, got %d",
		    argc - optind);
	return -1;
}

static int
print_public(const struct coffer_identity_public *p)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_ID_LINE_MAX + 1);
	int r;

	if ((r = coffer_identity_format_public(p, &b)) == 0)
		printf("%s\n", coffer_buf_str(&b));
	coffer_buf_release(&b);
	return r;
}

static int
id_new(int argc, char **argv)
{
	struct coffer_identity id;
	const char *name = NULL;
	int r;

	if ((r = parse("id new", argc, argv, 1, &name)) >= 0)
		return r;
	if (name != NULL && coffer_identity_check_name(name) != 0)
		return cli_usage("id new", USAGE, "%s", coffer_errdetail());
	/* Once saved, the identity exists: later failures say so. */
	if ((r = coffer_identity_generate(name, &id)) == 0 &&
	    (r = coffer_identity_save(argv[optind], &id)) == 0 &&
	    (r = print_public(&id.pub)) == 0 &&
	    (r = sealed_cli_check_stdout(argv[optind], "its public line")) == 0)
		r = sealed_cli_check_synced(argv[optind]);
	coffer_identity_wipe(&id);
	return r == 0 ? CLI_OK : cli_fail(r, "id new");
}

static int
id_show(int argc, char **argv)
{
	struct coffer_identity id;
	const char *unused = NULL;
	int r;

	if ((r = parse("id show", argc, argv, 0, &unused)) >= 0)
		return r;
	if ((r = coffer_identity_load(argv[optind], &id)) == 0 &&
	    (r = print_public(&id.pub)) == 0)
		r = sealed_cli_check_stdout(NULL, "the public line");
	coffer_identity_wipe(&id);
	return r == 0 ? CLI_OK : cli_fail(r, "id show");
}

static int
id_check(int argc, char **argv)
{
	struct coffer_identity_public p;
	char fp[COFFER_ID_FINGERPRINT_HEX];
	const char *unused = NULL, *line;
	size_t len;
	int r;

	if ((r = parse("id check", argc, argv, 0, &unused)) >= 0)
		return r;
	line = argv[optind];
	len = strlen(line);
	/* A pasted line may bring its line ending along: LF or CR LF only
	 * (doc/format/identity.md section 2). */
	if (len > 0 && line[len - 1] == '\n') {
		len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
	} else if (len > 0 && line[len - 1] == '\r') {
		return cli_fail(coffer_errf(COFFER_E_FORMAT, "the line ends with a "
		    "lone CR (carriage return); only a LF or CR LF line ending is "
		    "stripped"), "id check");
	}
	if ((r = coffer_identity_parse_public(line, len, &p)) != 0 ||
	    (r = coffer_identity_fingerprint(&p, fp)) != 0)
		return cli_fail(r, "id check");
	printf("name         %s\nfingerprint  %s\n", p.name, fp);
	if ((r = sealed_cli_check_stdout(NULL, "the result")) != 0)
		return cli_fail(r, "id check");
	return CLI_OK;
}

const struct cli_verb cli_id_verbs[] = {
	{ "new", id_new },
	{ "show", id_show },
	{ "check", id_check },
	{ NULL, NULL },
};

int
cmd_id(int argc, char **argv)
{
	return cli_dispatch("id", cli_id_verbs, USAGE, help, argc, argv);
}
