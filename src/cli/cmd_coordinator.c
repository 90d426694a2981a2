// SPDX-License-Identifier: Apache-2.0
// `coffer coordinator`: verify a coordinator's evidence and pin its keys
// (every later command talks only to the pinned keys), and show the pins.
// doc/coordinator.md section 3.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/coord_client.h"
#include "cli/coordinator_cli.h"
#include "cli/trust_cli.h"
#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "proto/coord_identity.h"
#include "proto/policy.h"

#define USAGE "coffer coordinator verify URL --expect MEASUREMENT [options] | " \
    "coffer coordinator show [URL] | coffer coordinator recovery [URL] | " \
    "coffer coordinator recover [URL] --id FILE [--expect MEASUREMENT]"
#define MAX_LIST CLI_TRUST_MAX_LIST
#define EVIDENCE_MAX ((size_t)1 << 20)
#define SIM_BANNER "INSECURE SIMULATION: no TEE protects this code or data"

static void
help(void)
{
	printf("usage: coffer coordinator verify URL --expect MEASUREMENT\n"
	    "                  [--collateral PATH]... [--trust-sim-key FILE]...\n"
	    "                  [--verification FILE] [--replace] [--pin-file FILE]\n"
	    "       coffer coordinator show [URL] [--pin-file FILE]\n\n"
	    "verify  fetch the coordinator's identity and evidence, verify the\n"
	    "        evidence (signature chain, TCB, debug), check that it binds\n"
	    "        the coordinator's keys and that its measurement is\n"
	    "        MEASUREMENT, then pin the keys: every later command that talks\n"
	    "        to this coordinator refuses it if its keys change (exit 9).\n"
	    "  --expect HEX          the measurement to accept: SGX MRENCLAVE, TDX\n"
	    "                        MRTD||RTMR0..3, SEV-SNP MEASUREMENT, sim\n"
	    "                        measurement\n"
	    "                        ('coffer attest measure coffer-coordinator')\n"
	    "  --collateral PATH     TCB Info, QE Identity, CRLs, VCEK (file or\n"
	    "                        directory; repeatable)\n"
	    "  --trust-sim-key FILE  accept INSECURE SIMULATION evidence from this\n"
	    "                        sim platform key ('coffer attest sim-key')\n"
	    "  --verification FILE   the verification policy to judge the evidence\n"
	    "                        with (doc/format/evidence.md section 10;\n"
	    "                        default: no debug, Intel UpToDate only, CRLs\n"
	    "                        and collateral required)\n"
	    "  --replace             replace a pin whose keys differ (after a\n"
	    "                        deliberate move of the coordinator)\n"
	    "  --pin-file FILE       default $COFFER_PIN_FILE, else\n"
	    "                        ~/.config/coffer/coordinators.json\n\n"
	    "show    print a pinned coordinator (default: the last verified)\n\n"
	    "recovery  print who can recover the coordinator's state (its\n"
	    "        signed recovery record: k of n owners)\n"
	    "recover give your recovery share to a coordinator that waits for\n"
	    "        k of n owners (started with --recover): checks its evidence\n"
	    "        (measurement --expect, default the pinned one) and its\n"
	    "        record under the pinned key first\n"
	    "  --id FILE             your identity (a recovery owner)\n");
}

enum { O_EXPECT = 256, O_COLL, O_SIMKEY, O_REPLACE, O_PINFILE, O_VERIF, O_ID };

const struct option cli_coordinator_options[] = {
	{ "expect", required_argument, NULL, O_EXPECT },
	{ "collateral", required_argument, NULL, O_COLL },
	{ "trust-sim-key", required_argument, NULL, O_SIMKEY },
	{ "replace", no_argument, NULL, O_REPLACE },
	{ "pin-file", required_argument, NULL, O_PINFILE },
	{ "verification", required_argument, NULL, O_VERIF },
	{ "id", required_argument, NULL, O_ID },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* -1 to go on, else an exit code. */
int
cli_coordinator_parse(const char *cmd, int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_coordinator_options,
	    NULL)) != -1) {
		switch (c) {
		case O_EXPECT: o->expect = optarg; break;
		case O_PINFILE: o->pin_file = optarg; break;
		case O_VERIF: o->t.verification = optarg; break;
		case O_ID: o->id = optarg; break;
		case O_REPLACE: o->replace = 1; break;
		case O_COLL:
		case O_SIMKEY:
			if (cli_trust_add(&o->t, c == O_COLL, optarg) != 0)
				return cli_usage(cmd, USAGE, "at most %d of %s", MAX_LIST,
				    argv[optind - 1]);
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_opt_fail(cmd, USAGE, cli_coordinator_options, c, argv);
		}
	}
	return -1;
}

static int
fetch_identity(const char *url, struct coffer_identity_public *id)
{
	json_t *reply = NULL;
	const char *line = NULL;
	long status = 0;
	int r;

	if ((r = cli_coord_http(url, "GET", "/v1/identity", NULL, 0, &status,
	    &reply, NULL)) != 0)
		return r;
	if (status != 200 || reply == NULL ||
	    coffer_json_get_str(reply, NULL, "identity", 1, &line) != 0)
		r = coffer_errf(COFFER_E_PROTO, "%s/v1/identity: HTTP %ld without an "
		    "identity (is this a coffer-coordinator?)", url, status);
	else if ((r = coffer_identity_parse_public(line, strlen(line), id)) != 0)
		r = coffer_errctx(r, "%s/v1/identity", url);
	json_decref(reply);
	return r;
}

static int
fetch_evidence(const char *url, struct coffer_buf *ev)
{
	long status = 0;
	int r;

	if ((r = cli_coord_http(url, "GET", "/v1/evidence", NULL, 0, &status,
	    NULL, ev)) != 0)
		return r;
	if (status != 200 || ev->len == 0)
		return coffer_errf(COFFER_E_PROTO, "%s/v1/evidence: HTTP %ld without "
		    "evidence", url, status);
	return 0;
}

void
cli_coordinator_rejection(const char *cmd, const struct coffer_tee_claims *c)
{
	fprintf(stderr, "coffer %s: the evidence was rejected:\n", cmd);
	for (size_t i = 0; i < c->n_reasons; i++)
		if (c->reasons[i].fatal)
			fprintf(stderr, "  [%s] %s\n", c->reasons[i].code,
			    c->reasons[i].text);
}

static int
coordinator_verify(int argc, char **argv)
{
	struct opts o;
	struct cli_coord_pin pin, old;
	struct coffer_tee_anchors *anchors = NULL;
	struct coffer_tee_collateral *coll = NULL;
	struct coffer_tee_claims *claims = NULL;
	struct coffer_tee_verify_opts vo;
	struct coffer_tee_policy tp;
	struct coffer_buf ev = COFFER_BUF_INIT(EVIDENCE_MAX);
	uint8_t rd[64];
	char path[4096], meas[CLI_TRUST_MEASUREMENT_HEX], expect[sizeof(meas)];
	size_t n;
	int r, rc, changed = 0;

	if ((rc = cli_coordinator_parse("coordinator verify", argc, argv, &o)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("coordinator verify", USAGE, "expected one URL");
	if (o.expect == NULL)
		return cli_usage("coordinator verify", USAGE, "--expect MEASUREMENT is "
		    "required: the coordinator's measurement you accept");
	n = strlen(o.expect);
	if ((n != 64 && n != 96 && n != 480) ||
	    strspn(o.expect, "0123456789abcdefABCDEF") != n)
		return cli_usage("coordinator verify", USAGE, "--expect: 64, 96 or "
		    "480 hex digits (a 32-, 48- or, for TDX, 240-byte measurement)");
	for (size_t i = 0; i <= n; i++)
		expect[i] = (char)(o.expect[i] >= 'A' && o.expect[i] <= 'F' ?
		    o.expect[i] - 'A' + 'a' : o.expect[i]);
	memset(&pin, 0, sizeof(pin));
	if (strlen(argv[optind]) >= sizeof(pin.url))
		return cli_usage("coordinator verify", USAGE, "URL too long");
	snprintf(pin.url, sizeof(pin.url), "%s", argv[optind]);
	while (strlen(pin.url) > 0 && pin.url[strlen(pin.url) - 1] == '/')
		pin.url[strlen(pin.url) - 1] = '\0';

	if ((r = cli_pin_path(o.pin_file, path, sizeof(path))) != 0 ||
	    (r = fetch_identity(pin.url, &pin.id)) != 0 ||
	    (r = fetch_evidence(pin.url, &ev)) != 0 ||
	    (r = coffer_coord_identity_report_data(pin.id.sign_pk, pin.id.kx_pk,
	    rd)) != 0 ||
	    (r = cli_trust_make(&o.t, &anchors, &coll, &tp)) != 0)
		goto fail;
	memset(&vo, 0, sizeof(vo));
	/* The evidence must bind exactly the keys the coordinator presents
	 * (report_data.mismatch otherwise): a relay that serves another
	 * coordinator's evidence with its own keys is refused here. */
	vo.expected_report_data = rd;
	/* Debug TEEs, TCB statuses and sim keys: the verification policy's. */
	vo.policy = &tp;
	r = coffer_tee_verify(ev.data, ev.len, anchors, coll, coffer_tee_now(),
	    &vo, &claims);
	if (claims == NULL)
		goto fail;
	if (claims->tee == COFFER_TEE_SIM)
		fprintf(stderr, "*** %s ***\n", SIM_BANNER);
	if (r != 0) {
		cli_coordinator_rejection("coordinator verify", claims);
		rc = cli_exit_code(r);
		goto done;
	}
	if ((r = cli_trust_measurement_hex(claims, meas)) != 0)
		goto fail;
	if (strcmp(meas, expect) != 0) {
		r = coffer_errf(COFFER_E_POLICY, "the coordinator's measurement is %s, "
		    "not the expected %s", meas, expect);
		goto fail;
	}
	if ((r = coffer_identity_fingerprint(&pin.id, pin.fingerprint)) != 0)
		goto fail;
	snprintf(pin.tee, sizeof(pin.tee), "%s", coffer_tee_type_name(claims->tee));
	snprintf(pin.measurement, sizeof(pin.measurement), "%s", meas);
	pin.insecure = claims->tee == COFFER_TEE_SIM;
	coffer_time_format(coffer_wall_ms() / 1000, pin.verified_at,
	    sizeof(pin.verified_at));
	r = cli_pin_get(path, pin.url, &old);
	if (r == 0 && (memcmp(old.id.sign_pk, pin.id.sign_pk, 32) != 0 ||
	    memcmp(old.id.kx_pk, pin.id.kx_pk, 32) != 0)) {
		if (!o.replace) {
			changed = 1;
			r = coffer_errf(COFFER_E_UNTRUSTED, "%s was pinned with identity "
			    "%s (verified %s) and now presents %s: refusing. Give "
			    "--replace if you moved or rebuilt the coordinator on purpose",
			    pin.url, old.fingerprint, old.verified_at, pin.fingerprint);
			goto fail;
		}
		fprintf(stderr, "coffer coordinator verify: replacing the pin of %s "
		    "(was %s)\n", pin.url, old.fingerprint);
	} else if (r != 0 && r != COFFER_E_NOTFOUND) {
		goto fail;
	}
	if ((r = cli_pin_put(path, &pin)) != 0)
		goto fail;
	printf("coordinator %s verified and pinned\n", pin.url);
	printf("  tee          %s%s\n", pin.tee, pin.insecure ?
	    " (INSECURE SIMULATION)" : "");
	printf("  measurement  %s\n", pin.measurement);
	if (claims->tee == COFFER_TEE_SGX || claims->tee == COFFER_TEE_TDX)
		printf("  tcb status   %s\n",
		    coffer_tee_tcb_status_name(claims->tcb_status));
	printf("  fingerprint  %s\n", pin.fingerprint);
	printf("  pin file     %s\n", path);
	rc = CLI_OK;
	goto done;
fail:
	rc = cli_fail(r, "coordinator verify");
	if (changed)
		rc = CLI_PIN_CHANGED;
done:
	coffer_tee_claims_free(claims);
	coffer_tee_collateral_free(coll);
	coffer_tee_anchors_free(anchors);
	coffer_buf_release(&ev);
	return rc;
}

static int
coordinator_show(int argc, char **argv)
{
	struct opts o;
	struct cli_coord_pin pin;
	struct coffer_buf line = COFFER_BUF_INIT(COFFER_ID_LINE_MAX + 1);
	char path[4096];
	int r, rc;

	if ((rc = cli_coordinator_parse("coordinator show", argc, argv, &o)) >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage("coordinator show", USAGE, "expected at most one URL");
	if (o.expect || o.t.n_coll || o.t.n_sim || o.replace || o.t.verification || o.id)
		return cli_usage("coordinator show", USAGE, "that option belongs to "
		    "'coordinator verify'");
	if ((r = cli_pin_path(o.pin_file, path, sizeof(path))) != 0 ||
	    (r = cli_pin_get(path, argc - optind == 1 ? argv[optind] : NULL,
	    &pin)) != 0 ||
	    (r = coffer_identity_format_public(&pin.id, &line)) != 0) {
		coffer_buf_release(&line);
		return cli_fail(r, "coordinator show");
	}
	if (pin.insecure)
		printf("*** %s ***\n", SIM_BANNER);
	printf("url          %s\n", pin.url);
	printf("identity     %s\n", coffer_buf_str(&line));
	printf("fingerprint  %s\n", pin.fingerprint);
	printf("tee          %s%s\n", pin.tee, pin.insecure ?
	    " (INSECURE SIMULATION)" : "");
	printf("measurement  %s\n", pin.measurement);
	printf("verified at  %s\n", pin.verified_at);
	coffer_buf_release(&line);
	return CLI_OK;
}

const struct cli_verb cli_coordinator_verbs[] = {
	{ "verify", coordinator_verify },
	{ "show", coordinator_show },
	{ "recovery", cli_coordinator_recovery },
	{ "recover", cli_coordinator_recover },
	{ NULL, NULL },
};

int
cmd_coordinator(int argc, char **argv)
{
	return cli_dispatch("coordinator", cli_coordinator_verbs, USAGE, help,
	    argc, argv);
}
