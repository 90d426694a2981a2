// SPDX-License-Identifier: Apache-2.0
// `coffer open`: verify and decrypt a sealed file (doc/format/sealed.md).
// To a file, nothing appears under OUT unless every chunk verified
// (section 6.3); to standard output, verified chunks stream out and the
// exit status says whether the whole stream verified.
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sealed_cli.h"
#include "coffer/error.h"
#include "crypto/datakey.h"
#include "crypto/sealed.h"
#include "lib/file.h"
#include "lib/mem.h"

#define USAGE "coffer open --key KEYFILE [--threads auto|1|2] [--force] " \
	"[--json | --quiet | --verbose] IN OUT"

static void
help(void)
{
	printf("usage: %s\n\n"
	    "Verify and decrypt the sealed file IN with the data key in KEYFILE\n"
	    "into OUT. IN or OUT may be '-' for standard input or output.\n"
	    "OUT (a file) is created with mode 0600 only after every chunk and the\n"
	    "end of the stream verified, and never replaced without --force.\n"
	    "To '-', each chunk is written once it verified: if the command fails,\n"
	    "discard what it wrote (the exit status tells).\n\n"
	    "  -k, --key KEYFILE     data key file\n"
	    "  -t, --threads N       auto (default: 2 if it may use two CPUs and IN is\n"
	    "                        not a file under 1 MiB), 1, or 2\n"
	    "                        (reading, AEAD, digest and writes shared by two\n"
	    "                        threads); the summary says which ran\n"
	    "  -f, --force           replace OUT if it exists\n"
	    "  -j, --json            print the summary as JSON\n"
	    "  -q, --quiet           print nothing on success\n\n"
	    "exit status: 0 verified, 3 wrong key, 4 corrupt or tampered with,\n"
	    "5 not a sealed file / unsupported / truncated, 6 file errors,\n"
	    "2 usage (doc/cli.md)\n", USAGE);
}

const struct option cli_open_options[] = {
	{ "key", required_argument, NULL, 'k' },
	{ "threads", required_argument, NULL, 't' },
	{ "force", no_argument, NULL, 'f' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
cmd_open(int argc, char **argv)
{
	struct coffer_sealed_opts opts = { 0, 0, 0 };
	struct coffer_sealed_info info;
	struct coffer_atomic at = COFFER_ATOMIC_INIT;
	uint8_t key[COFFER_SEALED_KEY_LEN];
	const char *keyfile = NULL, *in, *out;
	uint64_t written = 0;
	int force = 0, json = 0, quiet = 0, verbose = 0, c, r, infd = -1, outfd;
	int have_key = 0;
	int to_stdout, committed = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:t:fjqvh", cli_open_options,
	    NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 't':
			if ((r = sealed_cli_parse_threads(optarg, &opts.threads)) != 0)
				return cli_usage("open", USAGE, "%s", coffer_errdetail());
			break;
		case 'f': force = 1; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'h': help(); return CLI_OK;
		default:
			return cli_opt_fail("open", USAGE, cli_open_options, c, argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage("open", USAGE, "expected IN and OUT, got %d "
		    "argument%s", argc - optind, argc - optind == 1 ? "" : "s");
	if (keyfile == NULL)
		return cli_usage("open", USAGE, "--key is required");
	if ((json || verbose) && quiet)
		return cli_usage("open", USAGE, "--quiet excludes --json and --verbose");
	in = argv[optind];
	out = argv[optind + 1];
	to_stdout = strcmp(out, "-") == 0;

	if ((r = sealed_cli_load_key(keyfile, key)) != 0) {
		r = coffer_errctx(r, "key");
		goto out;
	}
	have_key = 1;
	if ((r = sealed_cli_open_input(in, &infd)) != 0 ||
	    (r = sealed_cli_check_output(out, force)) != 0)
		goto out;
	/* Ctrl-C from here on says what became of OUT (doc/cli.md). */
	sealed_cli_interrupt_arm("open", to_stdout ? NULL : out);
	if (to_stdout) {
		outfd = STDOUT_FILENO;
	} else {
		/* Plaintext: private to the user whatever the umask. */
		if ((r = coffer_atomic_open(&at, out, 0600)) != 0)
			goto out;
		outfd = at.fd;
	}
	if ((r = coffer_sealed_open_fd(key, &opts, infd, outfd, &info,
	    &written)) != 0) {
		r = coffer_errctx(r, "%s", strcmp(in, "-") == 0 ? "stdin" : in);
		goto out;
	}
	if (at.tmp != NULL) {
		if ((r = coffer_atomic_commit(&at, !force)) != 0)
			goto out;
		committed = 1;
	}
	sealed_cli_interrupt_disarm();
	/* Verified and in place (or streamed): failures below say so. */
	if (!quiet)
		sealed_cli_print(to_stdout ? stderr : stdout, json, in, out, &info, 1);
	if (verbose && !json)
		sealed_cli_print_cpu(to_stdout ? stderr : stdout, &info);
	if (!to_stdout && (r = sealed_cli_check_stdout(out, "its summary")) == 0)
		r = sealed_cli_check_synced(out);
out:
	sealed_cli_interrupt_disarm();
	if (at.tmp != NULL) {
		/* Section 6.3: the unverified result never reaches OUT. */
		coffer_atomic_abort(&at);
	}
	if (infd > STDIN_FILENO)
		close(infd);
	if (have_key)
		coffer_wipe(key, sizeof(key));
	if (r == 0)
		return CLI_OK;
	c = cli_fail(r, "open");
	if (to_stdout && written > 0)
		fprintf(stderr, "coffer open: %llu bytes of verified plaintext were "
		    "written to standard output before the failure; the stream is "
		    "incomplete, discard it\n", (unsigned long long)written);
	else if (!to_stdout && !committed)
		fprintf(stderr, "coffer open: nothing was written to %s\n", out);
	return c;
}
