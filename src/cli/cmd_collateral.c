// SPDX-License-Identifier: Apache-2.0
// `coffer collateral`: fetch the TCB Info, QE Identity, CRLs and VCEKs that
// evidence needs from Intel PCS, a PCCS or AMD KDS into a directory; push
// collateral to a coordinator; show what a coordinator holds.
// doc/protocol/collateral.md; guide: doc/attestation.md, "Setting up
// collateral".
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/collateral_fetch.h"
#include "cli/collateral_push.h"
#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"

#define USAGE "coffer collateral fetch EVIDENCE... --out DIR [options] | " \
    "coffer collateral push DIR|FILE... --coordinator URL | " \
    "coffer collateral show --coordinator URL (coffer collateral --help)"
#define EVIDENCE_MAX ((size_t)2 << 20)

static void
help(void)
{
	printf("usage: coffer collateral fetch EVIDENCE... --out DIR\n"
	    "                  [--pccs URL | --intel-pcs URL] [--intel-root-crl URL]\n"
	    "                  [--amd-kds URL] [--amd-product NAME] [--update early|standard]\n"
	    "                  [--cacert FILE] [--timeout S] [--retries N]\n"
	    "                  [--retry-delay S] [--max-wait S] [--push URL]\n"
	    "       coffer collateral push DIR|FILE... --coordinator URL\n"
	    "       coffer collateral show --coordinator URL\n\n"
	    "fetch  read what each evidence file needs (Intel: FMSPC and PCK CA; AMD:\n"
	    "       chip, TCB, product), get it from Intel PCS (or a PCCS) and AMD\n"
	    "       KDS, check every signature against the pinned roots, and write\n"
	    "       what passed into DIR, for `coffer attest verify --collateral DIR`\n"
	    "       and the coordinator. Exit 0 if every piece was fetched.\n"
	    "  --out DIR             where to write (created if missing)\n"
	    "  --intel-pcs URL       default " CLI_COLL_DEFAULT_PCS "\n"
	    "  --pccs URL            a PCCS instead of Intel PCS (the same paths;\n"
	    "                        the root CA CRL from its /rootcacrl)\n"
	    "  --intel-root-crl URL  default " CLI_COLL_DEFAULT_ROOT_CRL "\n"
	    "  --amd-kds URL         default " CLI_COLL_DEFAULT_KDS "\n"
	    "  --amd-product NAME    Milan, Genoa or Turin, for SEV-SNP reports that\n"
	    "                        do not say (version 2)\n"
	    "  --update MODE         early or standard TCB Info (Intel PCS v4)\n"
	    "  --cacert FILE         trust this PEM bundle for HTTPS (a PCCS with\n"
	    "                        its own certificate)\n"
	    "  --timeout S           per request, default 30\n"
	    "  --retries N           after a failure, 429 or 5xx; default 4\n"
	    "  --retry-delay S       first back-off, doubled each time; default 1\n"
	    "  --max-wait S          the longest Retry-After to wait; default 120\n"
	    "  --push URL            then push what was written to this coordinator\n\n"
	    "push   send collateral files (a directory's regular files) to a\n"
	    "       coordinator, which checks them and keeps them in its state\n"
	    "show   print the collateral a coordinator holds and when it expires\n");
}

enum {
	O_OUT = 256, O_PCS, O_PCCS, O_ROOTCRL, O_KDS, O_PRODUCT, O_UPDATE, O_CACERT,
	O_TIMEOUT, O_RETRIES, O_DELAY, O_MAXWAIT, O_PUSH, O_COORD,
};

const struct option cli_collateral_options[] = {
	{ "out", required_argument, NULL, O_OUT },
	{ "intel-pcs", required_argument, NULL, O_PCS },
	{ "pccs", required_argument, NULL, O_PCCS },
	{ "intel-root-crl", required_argument, NULL, O_ROOTCRL },
	{ "amd-kds", required_argument, NULL, O_KDS },
	{ "amd-product", required_argument, NULL, O_PRODUCT },
	{ "update", required_argument, NULL, O_UPDATE },
	{ "cacert", required_argument, NULL, O_CACERT },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "retries", required_argument, NULL, O_RETRIES },
	{ "retry-delay", required_argument, NULL, O_DELAY },
	{ "max-wait", required_argument, NULL, O_MAXWAIT },
	{ "push", required_argument, NULL, O_PUSH },
	{ "coordinator", required_argument, NULL, O_COORD },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *out, *pcs, *pccs, *root_crl, *kds, *product, *update, *cacert;
	const char *push, *coordinator;
	const char *timeout, *retries, *delay, *max_wait;
};

/* -1 to go on, else an exit code. */
static int
parse(const char *cmd, int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_collateral_options, NULL)) != -1) {
		switch (c) {
		case O_OUT: o->out = optarg; break;
		case O_PCS: o->pcs = optarg; break;
		case O_PCCS: o->pccs = optarg; break;
		case O_ROOTCRL: o->root_crl = optarg; break;
		case O_KDS: o->kds = optarg; break;
		case O_PRODUCT: o->product = optarg; break;
		case O_UPDATE: o->update = optarg; break;
		case O_CACERT: o->cacert = optarg; break;
		case O_TIMEOUT: o->timeout = optarg; break;
		case O_RETRIES: o->retries = optarg; break;
		case O_DELAY: o->delay = optarg; break;
		case O_MAXWAIT: o->max_wait = optarg; break;
		case O_PUSH: o->push = optarg; break;
		case O_COORD: o->coordinator = optarg; break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_opt_fail(cmd, USAGE, cli_collateral_options, c, argv);
		}
	}
	return -1;
}

/* A number of seconds (decimals allowed) in [min, max], as milliseconds. */
static int
seconds_ms(const char *cmd, const char *opt, const char *v, double min, double max,
    long *out)
{
	char *end = NULL;
	double d;

	if (v == NULL)
		return -1;
	d = strtod(v, &end);
	if (end == v || *end != '\0' || !(d >= min && d <= max))
		return cli_usage(cmd, USAGE, "%s: a number of seconds from %g to %g, "
		    "not '%s'", opt, min, max, v);
	*out = (long)(d * 1000.0 + 0.5);
	return -1;
}

/* A URL without its trailing slashes, http:// or https://. */
static int
base_url(const char *cmd, const char *opt, const char *v, char *out, size_t outlen)
{
	size_t n = strlen(v);

	if ((strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) ||
	    n >= outlen)
		return cli_usage(cmd, USAGE, "%s: an http:// or https:// URL, not '%s'",
		    opt, v);
	memcpy(out, v, n + 1);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	return -1;
}

/* Describe one evidence file's platform on stdout. */
static void
print_platform(const char *file, const struct coffer_tee_platform *pl)
{
	char hex[129];

	switch (pl->tee) {
	case COFFER_TEE_SGX:
	case COFFER_TEE_TDX:
		coffer_hex_encode(pl->fmspc, 6, hex);
		printf("%s: %s quote, FMSPC %s, PCE-ID %02x%02x, PCK %s CA\n", file,
		    pl->tee == COFFER_TEE_TDX ? "TDX" : "SGX", hex, pl->pceid[0],
		    pl->pceid[1], pl->pck_ca_platform ? "Platform" : "Processor");
		break;
	case COFFER_TEE_SEV_SNP:
		coffer_hex_encode(pl->chip_id, 8, hex);
		printf("%s: SEV-SNP report, %s, chip %s..., reported TCB bootloader %u, "
		    "tee %u, snp %u, microcode %u%s, signed with a %s\n", file,
		    pl->product, hex, pl->tcb.bootloader, pl->tcb.tee, pl->tcb.snp,
		    pl->tcb.microcode, strcmp(pl->product, "Turin") == 0 ? ", fmc" : "",
		    pl->vlek ? "VLEK" : "VCEK");
		if (pl->vlek && !pl->has_vek)
			fprintf(stderr, "coffer collateral fetch: %s: a VLEK-signed report: "
			    "its VLEK is not in KDS but comes from the host with the "
			    "evidence (the tsm backend's envelope carries it); this "
			    "evidence has none\n", file);
		break;
	default:
		printf("%s: INSECURE SIMULATION evidence: it needs no collateral\n", file);
		break;
	}
}

/* Waits and retries (R5), on stderr. */
static void
note(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "coffer collateral fetch: %s\n", msg);
}

static int
collateral_fetch(int argc, char **argv)
{
	const char *cmd = "collateral fetch";
	char intel[1024], root_crl[1024], kds[1024];
	struct coffer_buf ev = COFFER_BUF_INIT(EVIDENCE_MAX);
	struct cli_coll_plan plan = { NULL, 0 };
	struct cli_coll_src src;
	struct cli_fetch_opts fo;
	struct opts o;
	long ms;
	int r, first_err = 0, rc;

	if ((r = parse(cmd, argc, argv, &o)) >= 0)
		return r;
	if (argc - optind < 1)
		return cli_usage(cmd, USAGE, "expected EVIDENCE... (the files to fetch "
		    "collateral for)");
	if (o.out == NULL)
		return cli_usage(cmd, USAGE, "--out DIR is required");
	if (o.coordinator != NULL)
		return cli_usage(cmd, USAGE, "--coordinator is an option of push and "
		    "show; fetch pushes with --push URL");
	if (o.pccs != NULL && (o.pcs != NULL || o.root_crl != NULL))
		return cli_usage(cmd, USAGE, "--pccs replaces --intel-pcs and "
		    "--intel-root-crl");
	if (o.update != NULL && strcmp(o.update, "early") != 0 &&
	    strcmp(o.update, "standard") != 0)
		return cli_usage(cmd, USAGE, "--update: early or standard, not '%s'",
		    o.update);
	cli_fetch_opts_init(&fo);
	fo.cacert = o.cacert;
	fo.note = note;
	ms = fo.timeout_s * 1000;
	if ((r = seconds_ms(cmd, "--timeout", o.timeout, 1, 3600, &ms)) >= 0)
		return r;
	fo.timeout_s = (ms + 999) / 1000;
	ms = fo.retries;
	if (o.retries != NULL) {
		char *end = NULL;

		ms = strtol(o.retries, &end, 10);
		if (end == o.retries || *end != '\0' || ms < 0 || ms > 20)
			return cli_usage(cmd, USAGE, "--retries: 0 to 20, not '%s'",
			    o.retries);
	}
	fo.retries = (int)ms;
	if ((r = seconds_ms(cmd, "--retry-delay", o.delay, 0, 600, &fo.retry_delay_ms)) >= 0)
		return r;
	ms = fo.max_wait_s * 1000;
	if ((r = seconds_ms(cmd, "--max-wait", o.max_wait, 0, 86400, &ms)) >= 0)
		return r;
	fo.max_wait_s = ms / 1000;

	memset(&src, 0, sizeof(src));
	if ((r = base_url(cmd, o.pccs ? "--pccs" : "--intel-pcs", o.pccs ? o.pccs :
	    o.pcs ? o.pcs : CLI_COLL_DEFAULT_PCS, intel, sizeof(intel))) >= 0 ||
	    (r = base_url(cmd, "--intel-root-crl", o.root_crl ? o.root_crl :
	    CLI_COLL_DEFAULT_ROOT_CRL, root_crl, sizeof(root_crl))) >= 0 ||
	    (r = base_url(cmd, "--amd-kds", o.kds ? o.kds : CLI_COLL_DEFAULT_KDS, kds,
	    sizeof(kds))) >= 0)
		return r;
	src.intel = intel;
	src.pccs = o.pccs != NULL;
	src.root_crl = root_crl;
	src.kds = kds;
	src.update = o.update;

	for (int i = optind; i < argc; i++) {
		struct coffer_tee_platform pl;

		coffer_buf_reset(&ev);
		if ((r = coffer_file_read(argv[i], EVIDENCE_MAX, &ev)) != 0 ||
		    (r = coffer_tee_evidence_platform(ev.data, ev.len, o.product, &pl)) != 0) {
			r = coffer_errctx(r, "%s", argv[i]);
			goto fail;
		}
		print_platform(argv[i], &pl);
		if ((r = cli_coll_plan_add(&plan, &src, &pl)) != 0)
			goto fail;
	}
	coffer_buf_release(&ev);
	if (plan.n == 0) {
		printf("nothing to fetch\n");
		return CLI_OK;
	}
	fflush(stdout);
	cli_coll_fetch(&plan, &fo);
	if ((r = cli_coll_check(&plan)) != 0 || (r = cli_coll_write(&plan, o.out)) != 0)
		goto fail;

	{
		int64_t earliest = INT64_MAX;
		size_t ok = 0;
		char t[32];

		for (size_t i = 0; i < plan.n; i++) {
			const struct cli_coll_item *it = &plan.items[i];

			if (it->err != 0) {
				if (first_err == 0)
					first_err = it->err;
				continue;
			}
			ok++;
			if (it->desc.kind != COFFER_TEE_COLL_CERTS && it->desc.expires < earliest)
				earliest = it->desc.expires;
		}
		printf("%zu of %zu pieces written to %s", ok, plan.n, o.out);
		if (earliest != INT64_MAX) {
			coffer_time_format(earliest, t, sizeof(t));
			printf("; the earliest next update is %s: fetch again before then",
			    t);
			if (earliest <= coffer_wall_ms() / 1000)
				fprintf(stderr, "coffer collateral fetch: warning: %s is "
				    "already past: the service serves collateral that has "
				    "expired, or this machine's clock is wrong\n", t);
		}
		printf("\n");
		if (first_err != 0) {
			fprintf(stderr, "coffer collateral fetch: not written:");
			for (size_t i = 0, k = 0; i < plan.n; i++)
				if (plan.items[i].err != 0)
					fprintf(stderr, "%s %s", k++ ? "," : "", plan.items[i].what);
			fprintf(stderr, "\n");
		}
	}
	rc = first_err != 0 ? cli_exit_code(first_err) : CLI_OK;
	if (o.push != NULL) {
		struct coffer_collpush set = { NULL, 0 };
		int prc = CLI_OK;

		fflush(stdout);
		for (size_t i = 0; r == 0 && i < plan.n; i++) {
			const struct cli_coll_item *it = &plan.items[i];

			if (!it->written)
				continue;
			if (it->chain.len > 0)
				r = coffer_collpush_add(&set, it->chain_file, it->chain.data,
				    it->chain.len);
			if (r == 0)
				r = coffer_collpush_add(&set, it->file, it->body.data,
				    it->body.len);
		}
		if (r != 0)
			prc = cli_fail(r, cmd);
		else if (set.n > 0)
			prc = cli_push(cmd, o.push, &set);
		coffer_collpush_release(&set);
		if (rc == CLI_OK)
			rc = prc;
	}
	cli_coll_plan_release(&plan);
	return rc;
fail:
	coffer_buf_release(&ev);
	cli_coll_plan_release(&plan);
	return cli_fail(r, cmd);
}

static int
collateral_push(int argc, char **argv)
{
	const char *cmd = "collateral push";
	struct coffer_collpush set = { NULL, 0 };
	struct opts o;
	int r;

	if ((r = parse(cmd, argc, argv, &o)) >= 0)
		return r;
	if (argc - optind < 1)
		return cli_usage(cmd, USAGE, "expected DIR|FILE...");
	if (o.coordinator == NULL)
		return cli_usage(cmd, USAGE, "--coordinator URL is required");
	if (o.out || o.pcs || o.pccs || o.root_crl || o.kds || o.product || o.update ||
	    o.timeout || o.retries || o.delay || o.max_wait || o.push || o.cacert)
		return cli_usage(cmd, USAGE, "only --coordinator goes with 'collateral "
		    "push'");
	for (int i = optind; i < argc; i++)
		if ((r = cli_push_add_path(&set, argv[i])) != 0) {
			coffer_collpush_release(&set);
			return cli_fail(r, cmd);
		}
	r = cli_push(cmd, o.coordinator, &set);
	coffer_collpush_release(&set);
	return r;
}

static int
collateral_show(int argc, char **argv)
{
	const char *cmd = "collateral show";
	struct opts o;
	int r;

	if ((r = parse(cmd, argc, argv, &o)) >= 0)
		return r;
	if (argc - optind != 0)
		return cli_usage(cmd, USAGE, "unexpected argument '%s'", argv[optind]);
	if (o.coordinator == NULL)
		return cli_usage(cmd, USAGE, "--coordinator URL is required");
	return cli_push_show(cmd, o.coordinator);
}

const struct cli_verb cli_collateral_verbs[] = {
	{ "fetch", collateral_fetch },
	{ "push", collateral_push },
	{ "show", collateral_show },
	{ NULL, NULL },
};

int
cmd_collateral(int argc, char **argv)
{
	return cli_dispatch("collateral", cli_collateral_verbs, USAGE, help, argc, argv);
}
