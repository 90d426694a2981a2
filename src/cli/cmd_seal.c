// SPDX-License-Identifier: Apache-2.0
// `coffer seal`: encrypt a file or stream under a data key into the sealed
// format (doc/format/sealed.md), atomically when the output is a file.
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sealed_cli.h"
#include "coffer/error.h"
#include "crypto/datakey.h"
#include "crypto/sealed.h"
#include "lib/file.h"
#include "lib/mem.h"

#define USAGE "coffer seal --key KEYFILE [--chunk-size N] [--suite SUITE] " \
	"[--threads auto|1|2] [--force] [--json | --quiet | --verbose] IN OUT"

static void
help(void)
{
	printf("usage: %s\n\n"
	    "Encrypt IN under the data key in KEYFILE into OUT (sealed format v1,\n"
	    "doc/format/sealed.md). IN or OUT may be '-' for standard input or\n"
	    "output. OUT is written atomically and never replaced without --force.\n"
	    "Prints the sealed file's summary and content digest (to stderr when\n"
	    "OUT is '-').\n\n"
	    "  -k, --key KEYFILE     data key file (coffer key new)\n"
	    "  -c, --chunk-size N    plaintext bytes per chunk, a power of two from\n"
	    "                        4K to 16M (default 64K)\n"
	    "  -s, --suite SUITE     aes-256-gcm (default) or chacha20-poly1305\n"
	    "  -t, --threads N       auto (default: 2 if it may use two CPUs and IN is\n"
	    "                        not a file under 1 MiB), 1, or 2\n"
	    "                        (reading, AEAD, digest and writes shared by two\n"
	    "                        threads); the summary says which ran\n"
	    "  -f, --force           replace OUT if it exists\n"
	    "  -j, --json            print the summary as JSON\n"
	    "  -q, --quiet           print nothing on success\n"
	    "  -v, --verbose         also print the CPU time of each thread\n", USAGE);
}

const struct option cli_seal_options[] = {
	{ "key", required_argument, NULL, 'k' },
	{ "chunk-size", required_argument, NULL, 'c' },
	{ "suite", required_argument, NULL, 's' },
	{ "threads", required_argument, NULL, 't' },
	{ "force", no_argument, NULL, 'f' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
cmd_seal(int argc, char **argv)
{
	struct coffer_sealed_opts opts = { 0, 0, 0 };
	struct coffer_sealed_info info;
	struct coffer_atomic at = COFFER_ATOMIC_INIT;
	uint8_t key[COFFER_SEALED_KEY_LEN];
	const char *keyfile = NULL, *in, *out;
	int force = 0, json = 0, quiet = 0, verbose = 0, c, r, infd = -1, outfd;
	int have_key = 0;
	int to_stdout;
	mode_t um;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:c:s:t:fjqvh", cli_seal_options,
	    NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 'c':
			if ((r = sealed_cli_parse_size(optarg, &opts.chunk_size)) != 0)
				return cli_usage("seal", USAGE, "%s", coffer_errdetail());
			/* 0 means "the default" to coffer_sealed_seal_fd; on the
			 * command line it is just out of range (doc/cli.md). */
			if (opts.chunk_size == 0)
				return cli_usage("seal", USAGE, "chunk size %s is not a "
				    "power of two from 4K to 16M", optarg);
			break;
		case 's':
			if ((r = coffer_sealed_suite_parse(optarg, &opts.suite)) != 0)
				return cli_usage("seal", USAGE, "%s", coffer_errdetail());
			break;
		case 't':
			if ((r = sealed_cli_parse_threads(optarg, &opts.threads)) != 0)
				return cli_usage("seal", USAGE, "%s", coffer_errdetail());
			break;
		case 'f': force = 1; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'h': help(); return CLI_OK;
		default:
			return cli_opt_fail("seal", USAGE, cli_seal_options, c, argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage("seal", USAGE, "expected IN and OUT, got %d "
		    "argument%s", argc - optind, argc - optind == 1 ? "" : "s");
	if (keyfile == NULL)
		return cli_usage("seal", USAGE, "--key is required");
	if ((json || verbose) && quiet)
		return cli_usage("seal", USAGE, "--quiet excludes --json and --verbose");
	in = argv[optind];
	out = argv[optind + 1];
	to_stdout = strcmp(out, "-") == 0;
	if (opts.chunk_size != 0 && (opts.chunk_size < COFFER_SEALED_CHUNK_MIN ||
	    opts.chunk_size > COFFER_SEALED_CHUNK_MAX ||
	    (opts.chunk_size & (opts.chunk_size - 1)) != 0))
		return cli_usage("seal", USAGE, "chunk size %u is not a power of "
		    "two from 4K to 16M", opts.chunk_size);
	if (to_stdout && isatty(STDOUT_FILENO))
		return cli_usage("seal", USAGE, "refusing to write sealed (binary) "
		    "data to a terminal; redirect standard output");

	/* Everything that can be refused is checked before OUT is created. */
	if ((r = sealed_cli_load_key(keyfile, key)) != 0) {
		r = coffer_errctx(r, "key");
		goto out;
	}
	have_key = 1;
	if ((r = sealed_cli_open_input(in, &infd)) != 0 ||
	    (r = sealed_cli_check_output(out, force)) != 0)
		goto out;
	/* Ctrl-C from here on says what became of OUT (doc/cli.md). */
	sealed_cli_interrupt_arm("seal", to_stdout ? NULL : out);
	if (to_stdout) {
		outfd = STDOUT_FILENO;
	} else {
		/* Sealed data is not secret: the usual umask applies. */
		um = umask(0);
		umask(um);
		if ((r = coffer_atomic_open(&at, out, 0666 & ~um)) != 0)
			goto out;
		outfd = at.fd;
	}
	if ((r = coffer_sealed_seal_fd(key, &opts, infd, outfd, &info)) != 0) {
		r = coffer_errctx(r, "%s", strcmp(in, "-") == 0 ? "stdin" : in);
		goto out;
	}
	if (at.tmp != NULL && (r = coffer_atomic_commit(&at, !force)) != 0)
		goto out;
	sealed_cli_interrupt_disarm();
	/* OUT is in place from here on: every failure below says so. */
	if (!quiet)
		sealed_cli_print(to_stdout ? stderr : stdout, json, in, out, &info,
		    -1);
	if (verbose && !json)
		sealed_cli_print_cpu(to_stdout ? stderr : stdout, &info);
	if (!to_stdout && (r = sealed_cli_check_stdout(out, "its summary and "
	    "digest")) == 0)
		r = sealed_cli_check_synced(out);
out:
	sealed_cli_interrupt_disarm();
	if (at.tmp != NULL)
		coffer_atomic_abort(&at);
	if (infd > STDIN_FILENO)
		close(infd);
	if (have_key)
		coffer_wipe(key, sizeof(key));
	return r == 0 ? CLI_OK : cli_fail(r, "seal");
}
