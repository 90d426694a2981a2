// SPDX-License-Identifier: Apache-2.0
// coffer-coordinator: the trusted service that holds the owners' keys and
// releases them only to attested workers running approved code. The manual
// is doc/coordinator.md; the HTTP API doc/api-coordinator.md.
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "lib/log.h"

#ifndef COFFER_VERSION
#define COFFER_VERSION "0.0.0-dev"
#endif

/* Exit codes (doc/coordinator.md section 1). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_BUSY = 3 };
#define MAX_LIST 16

static const char usage_text[] =
    "usage: coffer-coordinator serve --data DIR --backend sim|sgx-gramine|tsm\n"
    "           [--listen HOST:PORT] [--ready-file PATH]\n"
    "           [--sim-dir DIR] [--device-root DIR]\n"
    "           [--collateral PATH]...\n"
    "           [--nonce-ttl SECONDS] [--standby-ttl SECONDS]\n"
    "           [--standby-max N] [--recover]\n"
    "           [--recovery-owners FILE [--recovery-threshold K]]\n"
    "       coffer-coordinator --version\n"
    "\n"
    "  --data DIR         state and lock (made with mode 0700 if missing)\n"
    "  --backend NAME     the TEE this coordinator runs in: sim (INSECURE\n"
    "                     SIMULATION), sgx-gramine, tsm (TDX, SEV-SNP)\n"
    "  --listen HOST:PORT default 127.0.0.1:8600; port 0 picks a free one\n"
    "  --ready-file PATH  write the URL there once listening\n"
    "  --sim-dir DIR      sim: platform key directory (default\n"
    "                     $COFFER_SIM_DIR, else ~/.local/share/coffer)\n"
    "  --device-root DIR  sgx-gramine/tsm: the device directory\n"
    "  --collateral PATH  TCB Info, QE Identity, CRLs, VCEKs for workers'\n"
    "                     evidence (file or directory; repeatable)\n"
    "  --nonce-ttl SECS   key-release nonce lifetime (default 60)\n"
    "  --standby-ttl SECS standby session lifetime (default 600)\n"
    "  --standby-max N    standby sessions held at once (default 1024)\n"
    "  --recover          if the state key cannot be unsealed here (another\n"
    "                     machine or build; TDX at every start), wait for k of\n"
    "                     n owners to run `coffer coordinator recover`\n"
    "  --recovery-owners FILE  first start: the owners who can recover the\n"
    "                     state (identity lines); fixed from then on\n"
    "  --recovery-threshold K  how many of them are needed (default: all)\n";

static int
usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage(const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		fprintf(stderr, "coffer-coordinator: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static int
fail(int err, const char *what)
{
	const char *d = coffer_errdetail();

	fprintf(stderr, "coffer-coordinator %s: %s%s%s\n", what,
	    coffer_strerror(err), d[0] ? ": " : "", d);
	return err == COFFER_E_BUSY ? EXIT_BUSY : EXIT_FAIL;
}

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "backend", required_argument, NULL, 'b' },
		{ "sim-dir", required_argument, NULL, 's' },
		{ "device-root", required_argument, NULL, 'D' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "collateral", required_argument, NULL, 'c' },
		{ "nonce-ttl", required_argument, NULL, 'n' },
		{ "standby-ttl", required_argument, NULL, 'S' },
		{ "standby-max", required_argument, NULL, 'M' },
		{ "recover", no_argument, NULL, 'r' },
		{ "recovery-owners", required_argument, NULL, 'o' },
		{ "recovery-threshold", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct coord_config cfg;
	const char *backend = NULL, *coll[MAX_LIST];
	char *end = NULL;
	long ttl;
	int c, r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = "127.0.0.1:8600";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cfg.data_dir = optarg; break;
		case 'l': cfg.listen = optarg; break;
		case 'b': backend = optarg; break;
		case 's': cfg.sim_dir = optarg; break;
		case 'D': cfg.device_root = optarg; break;
		case 'R': cfg.ready_file = optarg; break;
		case 'c':
			if (cfg.n_collateral == MAX_LIST)
				return usage("at most %d of %s", MAX_LIST, argv[optind - 1]);
			coll[cfg.n_collateral++] = optarg;
			break;
		case 'n':
			ttl = strtol(optarg, &end, 10);
			/* At most 6.2's 60 s: a nonce's life bounds how old
			 * evidence may be when it is judged (6.7.7). */
			if (end == optarg || *end != '\0' || ttl < 1 || ttl > 60)
				return usage("--nonce-ttl: '%s' is not in [1, 60] seconds",
				    optarg);
			cfg.nonce_ttl_ms = ttl * 1000;
			break;
		case 'S':
			ttl = strtol(optarg, &end, 10);
			/* At most 6.7.4's 600 s: the bound on a bound worker's
			 * evidence age (6.7.7) is not the host's to raise. */
			if (end == optarg || *end != '\0' || ttl < 1 || ttl > 600)
				return usage("--standby-ttl: '%s' is not in [1, 600] seconds",
				    optarg);
			cfg.standby_ttl_ms = ttl * 1000;
			break;
		case 'M':
			ttl = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || ttl < 1 || ttl > 65536)
				return usage("--standby-max: '%s' is not in [1, 65536]",
				    optarg);
			cfg.standby_max = (size_t)ttl;
			break;
		case 'r': cfg.recover = 1; break;
		case 'o': cfg.recovery_owners = optarg; break;
		case 't':
			ttl = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || ttl < 1 || ttl > 32)
				return usage("--recovery-threshold: '%s' is not in [1, 32]",
				    optarg);
			cfg.recovery_threshold = (unsigned)ttl;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case ':':
			return usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage("unexpected argument '%s'", argv[optind]);
	if (cfg.data_dir == NULL)
		return usage("serve needs --data DIR");
	/* No default: running without a TEE must be a visible choice. */
	if (backend == NULL)
		return usage("serve needs --backend (sim is INSECURE SIMULATION)");
	if (coffer_tee_backend_parse(backend, &cfg.backend) != 0)
		return usage("--backend: %s", coffer_errdetail());
	if (cfg.backend != COFFER_TEE_BACKEND_SIM && cfg.sim_dir != NULL)
		return usage("--sim-dir is an option of the sim backend");
	if (cfg.recovery_threshold != 0 && cfg.recovery_owners == NULL)
		return usage("--recovery-threshold needs --recovery-owners");
	cfg.collateral = coll;
	if ((r = coord_run(&cfg)) != 0)
		return fail(r, "serve");
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	/* Before any other OpenSSL call: no configuration file. OpenSSL
	 * would read the one $OPENSSL_CONF names, from an environment the
	 * untrusted host writes, or the host's openssl.cnf, and load the
	 * provider modules (shared objects) it lists into the coordinator,
	 * code no measurement covers (doc/coordinator.md, "Trust"); the
	 * built-in default provider is the only one Coffer uses. */
	(void)OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	coffer_log_setup_env("coordinator");
	if (argc < 2)
		return usage(NULL);
	if (strcmp(argv[1], "--version") == 0) {
		printf("coffer-coordinator %s\n", COFFER_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	return usage("unknown command '%s'", argv[1]);
}
