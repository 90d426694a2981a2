// SPDX-License-Identifier: Apache-2.0
// `coffer receipt`: an owner's receipt of a confidential job
// (doc/format/receipt.md). `fetch` gets the owner's bundle (the signed
// receipt and the inclusion proofs of the owner's items) and the job's
// policy by its hash; `verify` checks a bundle offline, rules RV1 to RV11
// in their order, with the pinned coordinator, the head this owner kept
// of its log, and the evidence verifier set up as `coffer coordinator
// verify` set it up; `close` ends a job at the coordinator. Manual:
// doc/cli.md.
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit_cli.h"
#include "cli/cli.h"
#include "cli/coord_client.h"
#include "cli/sealed_cli.h"
#include "cli/trust_cli.h"
#include "coffer/error.h"
#include "crypto/identity.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "proto/itembatch.h"
#include "proto/itemproof.h"
#include "proto/ledger.h"
#include "proto/receipt.h"
#include "proto/signed.h"

#define USAGE "coffer receipt fetch|verify|close ... (coffer receipt --help)"
#define SIM_BANNER "INSECURE SIMULATION: the coordinator's evidence is simulated"

static void
help(void)
{
	printf("usage: coffer receipt fetch JOB (--id FILE | --owner FPR) [--out FILE]\n"
	    "       coffer receipt verify BUNDLE (--id FILE | --owner FPR)\n"
	    "                  [--policy FILE] [--json] [--trust-sim-key FILE]...\n"
	    "                  [--collateral PATH]... [--verification FILE]\n"
	    "       coffer receipt close JOB [--cancel | --map] [--json]\n"
	    "  every verb also takes [--coordinator URL] [--pin-file FILE]\n\n"
	    "fetch    get your bundle of job JOB from the pinned coordinator: its\n"
	    "         signed receipt, the inclusion proofs of your items and a\n"
	    "         consistency proof to the log head you keep; save it to --out\n"
	    "         (default receipt-JOB.json) and the job's policy, checked\n"
	    "         against the hash the receipt names, beside it (FILE.policy)\n"
	    "verify   check a bundle offline, in the order of rules RV1 to RV11\n"
	    "         (doc/format/receipt.md): format, the pinned coordinator, its\n"
	    "         signature and evidence, the policy, the input set, the\n"
	    "         counts, the measurements, your items' proofs, the log head\n"
	    "         you keep, the outcome; then list your items OK, FAILED or\n"
	    "         ABANDONED. --policy defaults to BUNDLE.policy\n"
	    "  --id FILE        your identity (only its fingerprint is used)\n"
	    "  --owner FPR      or your fingerprint, 64 hex digits\n"
	    "  --json           the report as one JSON object\n"
	    "  --trust-sim-key, --collateral, --verification: as for\n"
	    "                   `coffer coordinator verify`\n"
	    "close    end job JOB at the coordinator: its open stages close (items\n"
	    "         without a result are ABANDONED) and it signs the receipt,\n"
	    "         once; --cancel makes the job fail (job.cancelled); --map\n"
	    "         closes only the map stage, so that the reduce stage runs\n\n"
	    "Exit codes: 0 valid; 2 usage; 4 tampered (a signature or a proof\n"
	    "fails); 5 malformed; 6 a file or the job not found; 7 rejected\n"
	    "(another coordinator or policy, wrong inputs, counts or\n"
	    "measurements, a refusal); 8 coordinator unreachable; 9 its keys\n"
	    "are not the pinned ones; 10 rollback; 11 the log forked from the\n"
	    "head you kept; 12 incomplete: the job failed, or items are FAILED\n"
	    "or ABANDONED beyond what the policy tolerates (doc/cli.md).\n");
}

enum { O_COORD = 256, O_PIN, O_ID, O_OWNER, O_OUT, O_POLICY, O_JSON, O_SIMKEY,
	O_COLL, O_VERIF, O_CANCEL, O_MAP };

const struct option cli_receipt_options[] = {
	{ "coordinator", required_argument, NULL, O_COORD },
	{ "pin-file", required_argument, NULL, O_PIN },
	{ "id", required_argument, NULL, O_ID },
	{ "owner", required_argument, NULL, O_OWNER },
	{ "out", required_argument, NULL, O_OUT },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "json", no_argument, NULL, O_JSON },
	{ "trust-sim-key", required_argument, NULL, O_SIMKEY },
	{ "collateral", required_argument, NULL, O_COLL },
	{ "verification", required_argument, NULL, O_VERIF },
	{ "cancel", no_argument, NULL, O_CANCEL },
	{ "map", no_argument, NULL, O_MAP },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *coord, *pin, *id, *owner, *out, *policy;
	struct cli_trust t;
	int json, cancel, map;
};

/* -1 to go on, else an exit code. `allowed` lists the verb's options. */
static int
parse(const char *cmd, const char *allowed, int argc, char **argv,
    struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_receipt_options, NULL)) != -1) {
		const char *name = NULL;

		for (const struct option *x = cli_receipt_options; x->name; x++)
			if (x->val == c)
				name = x->name;
		if (name != NULL && c != 'h' && strcmp(name, "coordinator") != 0 &&
		    strcmp(name, "pin-file") != 0 && strstr(allowed, name) == NULL)
			return cli_usage(cmd, USAGE, "--%s is not an option of '%s'",
			    name, cmd);
		switch (c) {
		case O_COORD: o->coord = optarg; break;
		case O_PIN: o->pin = optarg; break;
		case O_ID: o->id = optarg; break;
		case O_OWNER: o->owner = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_POLICY: o->policy = optarg; break;
		case O_JSON: o->json = 1; break;
		case O_VERIF: o->t.verification = optarg; break;
		case O_CANCEL: o->cancel = 1; break;
		case O_MAP: o->map = 1; break;
		case O_SIMKEY:
		case O_COLL:
			if (cli_trust_add(&o->t, c == O_COLL, optarg) != 0)
				return cli_usage(cmd, USAGE, "at most %d of %s",
				    CLI_TRUST_MAX_LIST, argv[optind - 1]);
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_opt_fail(cmd, USAGE, cli_receipt_options, c, argv);
		}
	}
	return -1;
}

/* The verifying owner's fingerprint: --owner, or --id's. */
static int
owner_of(const char *cmd, const struct opts *o, uint8_t fp[32], char hex[65])
{
	struct coffer_identity id;
	size_t n;
	int r;

	if ((o->id == NULL) == (o->owner == NULL))
		return cli_usage(cmd, USAGE, "give your identity (--id FILE) or your "
		    "fingerprint (--owner FPR), one of them");
	if (o->owner != NULL) {
		if (strlen(o->owner) != 64 || strspn(o->owner, "0123456789abcdef") != 64 ||
		    coffer_hex_decode(o->owner, 64, fp, 32, &n) != 0)
			return cli_usage(cmd, USAGE, "--owner: 64 lower-case hex digits");
		memcpy(hex, o->owner, 65);
		return -1;
	}
	memset(&id, 0, sizeof(id));
	if ((r = coffer_identity_load(o->id, &id)) != 0 ||
	    (r = coffer_identity_fingerprint(&id.pub, hex)) != 0) {
		coffer_identity_wipe(&id);
		return cli_fail(coffer_errctx(r, "--id %s", o->id), cmd);
	}
	coffer_identity_wipe(&id);
	if (coffer_hex_decode(hex, 64, fp, 32, &n) != 0)
		return cli_fail(COFFER_E_INTERNAL, cmd);
	return -1;
}

/* JOB: 32 lower-case hex digits. */
static int
job_arg(const char *cmd, const char *s)
{
	return cli_coord_job_arg(cmd, USAGE, s);
}

/* ---- fetch ---- */

static int
receipt_fetch(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	struct coffer_buf bundle = COFFER_BUF_INIT(COFFER_RECEIPT_BUNDLE_MAX);
	struct coffer_buf ptext = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES + 4096);
	struct coffer_policy *p = NULL;
	json_t *b = NULL;
	uint8_t fp[32], ph[32];
	char fhex[65], path[256], out[4096], pout[4200];
	const char *job;
	size_t n;
	int r, rc = CLI_OK;

	memset(&cc, 0, sizeof(cc));
	if ((rc = parse("receipt fetch", "id owner out", argc, argv, &o)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("receipt fetch", USAGE, "expected one JOB");
	job = argv[optind];
	if ((rc = job_arg("receipt fetch", job)) >= 0 ||
	    (rc = owner_of("receipt fetch", &o, fp, fhex)) >= 0)
		return rc;
	snprintf(out, sizeof(out), "%s", o.out ? o.out : "");
	if (o.out == NULL)
		snprintf(out, sizeof(out), "receipt-%s.json", job);
	snprintf(pout, sizeof(pout), "%s.policy", out);
	/* The log head this owner keeps is checked (and advanced) first, and
	 * the bundle's consistency proof is to that head. */
	if ((r = cli_coord_open(o.pin, o.coord, &cc)) != 0)
		goto fail;
	snprintf(path, sizeof(path), "/v1/jobs/%s/bundle/%s?kept=%" PRIu64, job,
	    fhex, cc.has_head ? cc.head.size : 0);
	if ((r = cli_coord_get(&cc, "receipt fetch", path, &bundle, &rc)) != 0) {
		if (rc != CLI_OK)
			goto done;
		goto fail;
	}
	/* The policy the receipt names, by its hash: only a text with that
	 * hash is kept (RV5 compares them again when verifying). */
	if ((r = coffer_json_parse(coffer_buf_str(&bundle), bundle.len, bundle.len + 1,
	    COFFER_JSON_MAX_DEPTH_DEFAULT, &b)) != 0 ||
	    (r = coffer_json_get_str(json_object_get(json_object_get(b, "receipt"),
	    "statement"), "receipt", "policy", 1, &job)) != 0)
		goto fail;
	if (strlen(job) != 64 || coffer_hex_decode(job, 64, ph, 32, &n) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "receipt.policy: not a policy hash");
		goto fail;
	}
	snprintf(path, sizeof(path), "/v1/policies/%s", job);
	if ((r = cli_coord_get(&cc, "receipt fetch", path, &ptext, &rc)) != 0) {
		if (rc != CLI_OK)
			goto done;
		goto fail;
	}
	if ((r = coffer_policy_parse(coffer_buf_str(&ptext), ptext.len, &p)) != 0)
		goto fail;
	if (memcmp(p->hash, ph, 32) != 0) {
		r = coffer_errf(COFFER_E_AUTH, "the coordinator answered another policy "
		    "than the receipt's %s", job);
		goto fail;
	}
	if ((r = coffer_file_write_atomic(out, bundle.data, bundle.len, 0644, 0)) != 0 ||
	    (r = coffer_file_write_atomic(pout, ptext.data, ptext.len, 0644, 0)) != 0)
		goto fail;
	printf("bundle saved to %s\npolicy saved to %s\nnext: coffer receipt verify "
	    "%s --%s %s\n", out, pout, out, o.id ? "id" : "owner",
	    o.id ? o.id : o.owner);
	goto done;
fail:
	rc = cli_coord_fail(&cc, r, "receipt fetch");
done:
	json_decref(b);
	coffer_policy_free(p);
	coffer_buf_release(&bundle);
	coffer_buf_release(&ptext);
	return rc;
}

/* ---- verify ---- */

/* RV4's check (coffer_receipt_check.check_evidence): the evidence verifies
 * under the verifier as `coffer coordinator verify` set it up, binds the
 * coordinator's keys, and measures the pinned measurement. */
struct evcheck {
	const struct cli_coord_pin *pin;
	const struct coffer_tee_anchors *anchors;
	const struct coffer_tee_collateral *coll;
	const struct coffer_tee_policy *tp;
	char why[512];
	int sim;
};

static int
check_evidence(void *arg, const uint8_t *ev, size_t n, const uint8_t rd[64])
{
	struct evcheck *x = arg;
	struct coffer_tee_verify_opts vo;
	struct coffer_tee_claims *claims = NULL;
	char meas[CLI_TRUST_MEASUREMENT_HEX];
	int r;

	memset(&vo, 0, sizeof(vo));
	vo.expected_report_data = rd;
	vo.policy = x->tp;
	r = coffer_tee_verify(ev, n, x->anchors, x->coll, coffer_tee_now(), &vo,
	    &claims);
	if (claims != NULL && claims->tee == COFFER_TEE_SIM)
		x->sim = 1;
	if (r != 0) {
		for (size_t i = 0; claims != NULL && i < claims->n_reasons; i++)
			if (claims->reasons[i].fatal) {
				snprintf(x->why, sizeof(x->why), "[%s] %s",
				    claims->reasons[i].code, claims->reasons[i].text);
				break;
			}
		r = coffer_errf(r, "the evidence does not verify: %s", x->why[0] ?
		    x->why : coffer_errdetail());
		goto out;
	}
	if ((r = cli_trust_measurement_hex(claims, meas)) != 0)
		goto out;
	if (strcmp(coffer_tee_type_name(claims->tee), x->pin->tee) != 0 ||
	    strcmp(meas, x->pin->measurement) != 0)
		r = coffer_errf(COFFER_E_POLICY, "the evidence measures %s %s, not the "
		    "pinned %s %s", coffer_tee_type_name(claims->tee), meas,
		    x->pin->tee, x->pin->measurement);
out:
	coffer_tee_claims_free(claims);
	return r;
}

static const char *
status_name(uint8_t s)
{
	switch (s) {
	case COFFER_ITEM_OK: return "OK";
	case COFFER_ITEM_FAILED: return "FAILED";
	default: return "ABANDONED";
	}
}

static const char *
class_name(enum coffer_receipt_class c)
{
	switch (c) {
	case COFFER_RECEIPT_VALID: return "valid";
	case COFFER_RECEIPT_TAMPERED: return "tampered";
	case COFFER_RECEIPT_MALFORMED: return "malformed";
	case COFFER_RECEIPT_REJECTED: return "rejected";
	case COFFER_RECEIPT_FORK: return "fork";
	case COFFER_RECEIPT_INCOMPLETE: return "incomplete";
	}
	return "?";
}

static json_t *
entry_json(const struct coffer_result_entry *e)
{
	char att[33], out[65];
	json_t *o = json_pack("{s:s}", "status", status_name(e->status));

	if (o == NULL || e->status == COFFER_ITEM_ABANDONED)
		return o;
	coffer_hex_encode(e->attempt, 16, att);
	json_object_set_new(o, "attempt", json_string(att));
	json_object_set_new(o, "log_index", json_integer((json_int_t)e->log_index));
	if (e->status == COFFER_ITEM_OK) {
		coffer_hex_encode(e->output_digest, 32, out);
		json_object_set_new(o, "output_digest", json_string(out));
		json_object_set_new(o, "output_size", json_integer((json_int_t)e->output_size));
	} else {
		json_object_set_new(o, "error", json_integer((json_int_t)e->error));
		if (e->error == COFFER_ITEMPROOF_ERROR_INPUT_REFUSED)
			json_object_set_new(o, "reason", json_string("input.mismatch"));
	}
	return o;
}

/* What the report says besides the verdict: the warnings. */
static json_t *
warnings(const struct coffer_receipt_report *rep, int sim)
{
	const struct coffer_receipt *rc = &rep->receipt;
	json_t *w = json_array();
	char s[256];

	for (size_t i = 0; i < rc->nstages; i++)
		if (rc->stages[i].disagreements > 0) {
			snprintf(s, sizeof(s), "%s stage: %" PRIu64 " duplicate execution(s) "
			    "produced another result than the committed one (a non-"
			    "deterministic app, or a compromised worker)",
			    rc->stages[i].reduce ? "reduce" : "map",
			    rc->stages[i].disagreements);
			json_array_append_new(w, json_string(s));
		}
	/* RV10 ran (the verdict is past it) without a head to compare. */
	if ((rep->rule == NULL || strcmp(rep->rule, "RV11") == 0) &&
	    !rep->log_checked)
		json_array_append_new(w, json_string("log: not checked (no head "
		    "kept, or no consistency proof to it in the bundle)"));
	if (sim)
		json_array_append_new(w, json_string(SIM_BANNER));
	return w;
}

static json_t *
report_json(const struct coffer_receipt_report *rep, const char *message,
    int sim)
{
	const struct coffer_receipt *rc = &rep->receipt;
	json_t *o, *st = json_array(), *items = json_array();
	char h[65];

	o = json_pack("{s:s, s:i, s:s?, s:s}", "verdict", class_name(rep->class),
	    "exit", (int)rep->class, "rule", rep->rule, "message", message);
	if (o == NULL)
		return NULL;
	if (rep->rule == NULL || strcmp(rep->rule, "RV1") != 0) {
		coffer_hex_encode(rc->job, 16, h);
		json_object_set_new(o, "job", json_string(h));
		coffer_hex_encode(rc->policy, 32, h);
		json_object_set_new(o, "policy", json_string(h));
		json_object_set_new(o, "app", json_string(rc->app));
		json_object_set_new(o, "outcome", json_string(rc->failed ? "failed" :
		    "completed"));
		if (rc->failed)
			json_object_set_new(o, "reason", json_string(rc->reason));
		for (size_t i = 0; i < rc->nstages; i++) {
			const struct coffer_receipt_stage *g = &rc->stages[i];

			json_array_append_new(st, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, "
			    "s:I}", "stage", g->reduce ? "reduce" : "map", "count",
			    (json_int_t)g->count, "ok", (json_int_t)g->ok, "failed",
			    (json_int_t)g->failed, "abandoned", (json_int_t)g->abandoned,
			    "duplicates", (json_int_t)g->duplicates, "disagreements",
			    (json_int_t)g->disagreements));
		}
		coffer_hex_encode(rc->log_root, 32, h);
		json_object_set_new(o, "log", json_pack("{s:I, s:s, s:b}", "size",
		    (json_int_t)rc->log_size, "root", h, "checked", rep->log_checked));
	}
	json_object_set_new(o, "stages", st);
	for (size_t i = 0; i < rep->nitems; i++)
		json_array_append_new(items, json_pack("{s:I, s:s, s:o}", "index",
		    (json_int_t)rep->items[i].index, "key", rep->items[i].key, "map",
		    entry_json(&rep->items[i].map)));
	json_object_set_new(o, "items", items);
	if (rep->has_reduce)
		json_object_set_new(o, "reduce", entry_json(&rep->reduce));
	json_object_set_new(o, "warnings", warnings(rep, sim));
	return o;
}

static void
report_text(const struct coffer_receipt_report *rep, const char *message,
    int sim)
{
	const struct coffer_receipt *rc = &rep->receipt;
	json_t *w;
	char h[65];
	size_t i;

	if (rep->rule == NULL || strcmp(rep->rule, "RV1") != 0) {
		coffer_hex_encode(rc->job, 16, h);
		printf("receipt of job %s\n", h);
		coffer_hex_encode(rc->policy, 32, h);
		printf("  policy       %s (app %s)\n", h, rc->app);
		printf("  outcome      %s%s%s\n", rc->failed ? "failed" : "completed",
		    rc->failed ? ": " : "", rc->failed ? rc->reason : "");
		for (i = 0; i < rc->nstages; i++) {
			const struct coffer_receipt_stage *g = &rc->stages[i];

			printf("  %-12s %" PRIu64 " item(s): %" PRIu64 " ok, %" PRIu64
			    " failed, %" PRIu64 " abandoned; %" PRIu64 " duplicate(s), %"
			    PRIu64 " disagreement(s)\n", g->reduce ? "reduce" : "map",
			    g->count, g->ok, g->failed, g->abandoned, g->duplicates,
			    g->disagreements);
		}
		coffer_hex_encode(rc->log_root, 32, h);
		printf("  log          %" PRIu64 " entries, root %s (%s)\n", rc->log_size,
		    h, rep->log_checked ? "consistent with the head you kept" :
		    "not checked");
	}
	if (rep->nitems > 0)
		printf("your items:\n");
	for (i = 0; i < rep->nitems; i++) {
		const struct coffer_result_entry *e = &rep->items[i].map;

		printf("  %-6" PRIu64 " %-9s ", rep->items[i].index,
		    status_name(e->status));
		sealed_cli_put_name(stdout, rep->items[i].key);
		if (e->status == COFFER_ITEM_OK) {
			coffer_hex_encode(e->output_digest, 32, h);
			printf("  output sha256:%s", h);
		} else if (e->status == COFFER_ITEM_FAILED &&
		    e->error == COFFER_ITEMPROOF_ERROR_INPUT_REFUSED) {
			printf("  input refused: not the object the policy pins"
			    " (input.mismatch)");
		} else if (e->status == COFFER_ITEM_FAILED) {
			printf("  app error %" PRIu32, e->error);
		}
		printf("\n");
	}
	if (rep->has_reduce)
		printf("  reduce %s\n", status_name(rep->reduce.status));
	w = warnings(rep, sim);
	for (i = 0; i < json_array_size(w); i++)
		printf("warning: %s\n", json_string_value(json_array_get(w, i)));
	json_decref(w);
	if (rep->class == COFFER_RECEIPT_VALID)
		printf("verdict: VALID: every one of your items was processed once by "
		    "approved code\n");
	else
		printf("verdict: %s at %s: %s\n", class_name(rep->class),
		    rep->rule ? rep->rule : "?", message);
}

static int
receipt_verify(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	struct coffer_buf bundle = COFFER_BUF_INIT(COFFER_RECEIPT_BUNDLE_MAX);
	struct coffer_buf ptext = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES + 4096);
	struct coffer_policy *p = NULL;
	struct coffer_tee_anchors *anchors = NULL;
	struct coffer_tee_collateral *coll = NULL;
	struct coffer_tee_policy tp;
	struct coffer_receipt_check in;
	struct coffer_receipt_report rep;
	struct evcheck ev;
	char fhex[65], pfile[4200], pin_path[4096], message[1024];
	uint8_t fp[32];
	json_t *j;
	int r, rc;

	memset(&cc, 0, sizeof(cc));
	memset(&rep, 0, sizeof(rep));
	coffer_tee_policy_init(&tp);
	if ((rc = parse("receipt verify", "id owner policy json trust-sim-key "
	    "collateral verification", argc, argv, &o)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("receipt verify", USAGE, "expected one BUNDLE file");
	if ((rc = owner_of("receipt verify", &o, fp, fhex)) >= 0)
		return rc;
	snprintf(pfile, sizeof(pfile), "%s", o.policy ? o.policy : "");
	if (o.policy == NULL)
		snprintf(pfile, sizeof(pfile), "%s.policy", argv[optind]);
	/* Offline: the pin, the kept head and the files, nothing else. */
	if ((r = cli_pin_path(o.pin, pin_path, sizeof(pin_path))) != 0 ||
	    (r = cli_pin_get(pin_path, o.coord, &cc.pin)) != 0)
		goto fail;
	memcpy(cc.pin_path, pin_path, sizeof(cc.pin_path));
	if ((r = cli_head_load(&cc)) != 0 ||
	    (r = coffer_file_read(argv[optind], COFFER_RECEIPT_BUNDLE_MAX,
	    &bundle)) != 0)
		goto fail;
	if ((r = coffer_file_read(pfile, COFFER_POLICY_MAX_BYTES, &ptext)) != 0) {
		/* A bundle copied or renamed without its FILE.policy: say what
		 * that file is and where it comes from, not only ENOENT. */
		if (r == COFFER_E_NOTFOUND && o.policy == NULL)
			r = coffer_errf(r, "%s (the job's policy, which 'coffer receipt "
			    "fetch' saves beside the bundle): copy it with the bundle, "
			    "fetch the receipt again, or give the policy with --policy FILE",
			    coffer_errdetail());
		goto fail;
	}
	if ((r = coffer_policy_parse(coffer_buf_str(&ptext), ptext.len, &p)) != 0) {
		r = coffer_errctx(r, "--policy %s", pfile);
		goto fail;
	}
	if ((r = cli_trust_make(&o.t, &anchors, &coll, &tp)) != 0)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.pin = &cc.pin;
	ev.anchors = anchors;
	ev.coll = coll;
	ev.tp = &tp;
	memset(&in, 0, sizeof(in));
	in.bundle = coffer_buf_str(&bundle);
	in.bundle_len = bundle.len;
	in.policy = p;
	memcpy(in.owner, fp, 32);
	in.pinned = &cc.pin.id;
	in.kept = cc.has_head ? &cc.head : NULL;
	in.check_evidence = check_evidence;
	in.arg = &ev;
	r = coffer_receipt_verify(&in, &rep);
	snprintf(message, sizeof(message), "%s", r == 0 ? "" : coffer_errdetail());
	if (r != 0 && rep.rule != NULL && strcmp(rep.rule, "internal") == 0)
		goto fail;
	/* The usual slip with a sim coordinator (coffer up's): no
	 * --trust-sim-key, so no sim key is trusted. Say what to give. */
	if (r != 0 && ev.sim && o.t.n_sim == 0 &&
	    strstr(message, "policy.sim_key") != NULL) {
		size_t n = strlen(message);

		snprintf(message + n, sizeof(message) - n, " (no --trust-sim-key "
		    "was given: give the coordinator's sim key, the file 'coffer "
		    "up' prints as its 'sim key')");
	}
	if (o.json) {
		if ((j = report_json(&rep, message, ev.sim)) == NULL) {
			r = COFFER_E_NOMEM;
			goto fail;
		}
		json_dumpf(j, stdout, JSON_COMPACT | JSON_SORT_KEYS);
		printf("\n");
		json_decref(j);
	} else {
		if (ev.sim)
			fprintf(stderr, "*** %s ***\n", SIM_BANNER);
		report_text(&rep, message, ev.sim);
	}
	rc = (int)rep.class;
	if ((r = sealed_cli_check_stdout(NULL, "the report")) != 0)
		goto fail;
	goto done;
fail:
	rc = cli_fail(r, "receipt verify");
done:
	coffer_receipt_report_clear(&rep);
	coffer_policy_free(p);
	coffer_tee_collateral_free(coll);
	coffer_tee_anchors_free(anchors);
	coffer_buf_release(&bundle);
	coffer_buf_release(&ptext);
	return rc;
}

/* ---- close ---- */

static int
receipt_close(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	const json_t *rs;
	json_t *reply = NULL;
	char path[128], body[96];
	const char *job, *reason;
	long code = 0;
	int r, rc;

	memset(&cc, 0, sizeof(cc));
	if ((rc = parse("receipt close", "cancel map json", argc, argv, &o)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("receipt close", USAGE, "expected one JOB");
	job = argv[optind];
	if ((rc = job_arg("receipt close", job)) >= 0)
		return rc;
	if (o.cancel && o.map)
		return cli_usage("receipt close", USAGE, "--cancel ends the job; --map "
		    "closes only its map stage: one of them");
	snprintf(body, sizeof(body), "{\"reason\":\"%s\"%s}", o.cancel ? "cancelled" :
	    "done", o.map ? ",\"stage\":\"map\"" : "");
	snprintf(path, sizeof(path), "/v1/jobs/%s/close", job);
	if ((r = cli_coord_open(o.pin, o.coord, &cc)) != 0 ||
	    (r = cli_coord_call(&cc, "POST", path, body, strlen(body), &code, &reply,
	    NULL)) != 0)
		goto fail;
	if (code != 200) {
		rc = cli_coord_refused("receipt close", code, reply);
		goto done;
	}
	if (o.json) {
		json_dumpf(reply, stdout, JSON_COMPACT | JSON_SORT_KEYS);
		printf("\n");
	} else if (json_object_get(reply, "stage") != NULL) {
		printf("job %s: map stage %s (%" JSON_INTEGER_FORMAT " ok, %"
		    JSON_INTEGER_FORMAT " failed, %" JSON_INTEGER_FORMAT " abandoned); "
		    "the reduce stage is open\n", job,
		    json_is_true(json_object_get(reply, "closed_now")) ? "closed now" :
		    "was closed already",
		    json_integer_value(json_object_get(reply, "ok")),
		    json_integer_value(json_object_get(reply, "failed")),
		    json_integer_value(json_object_get(reply, "abandoned")));
	} else {
		rs = json_object_get(reply, "reason");
		reason = json_string_value(rs);
		printf("job %s %s: %s%s%s; the receipt is signed (coffer receipt fetch "
		    "%s --id ...)\n", job,
		    json_is_true(json_object_get(reply, "closed_now")) ? "closed now" :
		    "was closed already",
		    json_string_value(json_object_get(reply, "outcome")),
		    reason ? ", " : "", reason ? reason : "", job);
	}
	rc = CLI_OK;
	goto done;
fail:
	rc = cli_coord_fail(&cc, r, "receipt close");
done:
	json_decref(reply);
	return rc;
}

const struct cli_verb cli_receipt_verbs[] = {
	{ "fetch", receipt_fetch },
	{ "verify", receipt_verify },
	{ "close", receipt_close },
	{ NULL, NULL },
};

int
cmd_receipt(int argc, char **argv)
{
	return cli_dispatch("receipt", cli_receipt_verbs, USAGE, help, argc, argv);
}
