// SPDX-License-Identifier: Apache-2.0
// `coffer policy`: propose a policy to the pinned coordinator, show it,
// approve it (after showing the owner exactly what it signs), revoke an
// approval or one app measurement, and see the coordinator's status.
// Formats: doc/format/policy.md; manual: doc/coordinator.md section 6.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/audit_cli.h"
#include "cli/cli.h"
#include "cli/coord_client.h"
#include "cli/policy_cli.h"
#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/jcs.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "proto/approval.h"
#include "proto/signed.h"

#define USAGE "coffer policy new|show|approve|revoke|status ... (coffer policy --help)"

static void
help(void)
{
	printf("usage: coffer policy new DRAFT [--out FILE] [--previous HASH]\n"
	    "                  [--expires TIME] [--no-submit]\n"
	    "       coffer policy show HASH|FILE [--full]\n"
	    "       coffer policy approve HASH|FILE --id FILE [--yes]\n"
	    "       coffer policy revoke HASH|FILE --id FILE [--measurement TEE:HEX]\n"
	    "       coffer policy status [HASH]\n"
	    "  every verb also takes [--coordinator URL] [--pin-file FILE]\n\n"
	    "new      complete DRAFT (a policy without type, version or\n"
	    "         coordinator: the pinned coordinator is filled in), check it\n"
	    "         (doc/format/policy.md rules P1-P17), print its hash, write it\n"
	    "         in canonical form to --out, and submit it to the coordinator\n"
	    "  --previous HASH   the version this one replaces\n"
	    "  --expires TIME    RFC 3339 or @unix seconds\n"
	    "show     print a policy (from the coordinator by hash, or a file) as an\n"
	    "         owner must read it before approving; --full lists every\n"
	    "         owner's objects (your own are always listed)\n"
	    "approve  show the policy, ask for confirmation (or --yes), sign an\n"
	    "         approval of its hash with the identity in --id, send it\n"
	    "revoke   revoke your approval of the policy, or (--measurement) one\n"
	    "         worker measurement under it: final, no key is released for\n"
	    "         it again\n"
	    "status   the coordinator's view: approvals counted and missing,\n"
	    "         revocations, whether the policy is active; without HASH,\n"
	    "         every policy it knows\n\n"
	    "Exit codes: 0 done; 2 usage; 4 a signature refused; 5 a malformed\n"
	    "policy; 6 unknown policy or unreadable file; 7 refused by a rule\n"
	    "(the reason is named); 8 coordinator unreachable; 9 the coordinator's\n"
	    "keys are not the pinned ones; 10 the coordinator was rolled back\n"
	    "(it shows less of its audit log than you verified, or says so); 11\n"
	    "its log forked from the one you verified (doc/cli.md).\n");
}

enum { O_COORD = 256, O_PIN, O_ID, O_YES, O_OUT, O_PREV, O_EXPIRES, O_MEAS,
	O_FULL, O_NOSUBMIT };

const struct option cli_policy_options[] = {
	{ "coordinator", required_argument, NULL, O_COORD },
	{ "pin-file", required_argument, NULL, O_PIN },
	{ "id", required_argument, NULL, O_ID },
	{ "yes", no_argument, NULL, O_YES },
	{ "out", required_argument, NULL, O_OUT },
	{ "previous", required_argument, NULL, O_PREV },
	{ "expires", required_argument, NULL, O_EXPIRES },
	{ "measurement", required_argument, NULL, O_MEAS },
	{ "full", no_argument, NULL, O_FULL },
	{ "no-submit", no_argument, NULL, O_NOSUBMIT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *coord, *pin, *id, *out, *previous, *expires, *meas;
	int yes, full, no_submit;
};

static int
parse(const char *cmd, int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_policy_options, NULL)) != -1) {
		switch (c) {
		case O_COORD: o->coord = optarg; break;
		case O_PIN: o->pin = optarg; break;
		case O_ID: o->id = optarg; break;
		case O_YES: o->yes = 1; break;
		case O_OUT: o->out = optarg; break;
		case O_PREV: o->previous = optarg; break;
		case O_EXPIRES: o->expires = optarg; break;
		case O_MEAS: o->meas = optarg; break;
		case O_FULL: o->full = 1; break;
		case O_NOSUBMIT: o->no_submit = 1; break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_opt_fail(cmd, USAGE, cli_policy_options, c, argv);
		}
	}
	return -1;
}

/* Options that belong to other verbs: a usage error rather than ignored. */
static int
only(const char *cmd, const struct opts *o, const char *allowed)
{
	const struct { const char *name; int set; } all[] = {
		{ "id", o->id != NULL }, { "yes", o->yes }, { "out", o->out != NULL },
		{ "previous", o->previous != NULL }, { "expires", o->expires != NULL },
		{ "measurement", o->meas != NULL }, { "full", o->full },
		{ "no-submit", o->no_submit },
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i].set && strstr(allowed, all[i].name) == NULL)
			return cli_usage(cmd, USAGE, "--%s is not an option of '%s'",
			    all[i].name, cmd);
	return -1;
}

static int
post(const struct cli_coord *cc, const char *path, const struct coffer_buf *body,
    long *code, json_t **reply)
{
	return cli_coord_call(cc, "POST", path, (const char *)body->data,
	    body->len, code, reply, NULL);
}

static int
policy_new(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	struct coffer_buf in = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES);
	struct coffer_buf text = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES + 2);
	struct coffer_buf line = COFFER_BUF_INIT(COFFER_ID_LINE_MAX + 1);
	struct coffer_policy *p = NULL;
	json_t *draft = NULL, *reply = NULL;
	char hex[65];
	int64_t t;
	long code = 0;
	int r, rc;

	if ((rc = parse("policy new", argc, argv, &o)) >= 0 ||
	    (rc = only("policy new", &o, "out previous expires no-submit")) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("policy new", USAGE, "expected one DRAFT file");
	if (o.expires != NULL && coffer_time_parse(o.expires, &t) != 0)
		return cli_usage("policy new", USAGE, "--expires: not an RFC 3339 "
		    "time or @unix seconds: %s", o.expires);
	if ((r = cli_coord_open(o.pin, o.coord, &cc)) != 0)
		goto fail;
	if ((r = coffer_file_read(argv[optind], COFFER_POLICY_MAX_BYTES, &in)) != 0 ||
	    (r = coffer_json_parse(coffer_buf_str(&in), in.len,
	    COFFER_POLICY_MAX_BYTES, COFFER_JSON_MAX_DEPTH_DEFAULT, &draft)) != 0) {
		r = coffer_errctx(r, "%s", argv[optind]);
		goto fail;
	}
	if (!json_is_object(draft)) {
		r = coffer_errf(COFFER_E_FORMAT, "%s: a policy is a JSON object",
		    argv[optind]);
		goto fail;
	}
	/* What the draft may leave out. */
	if ((r = coffer_identity_format_public(&cc.pin.id, &line)) != 0)
		goto fail;
	if ((json_object_get(draft, "type") == NULL &&
	    json_object_set_new(draft, "type", json_string("coffer-policy")) != 0) ||
	    (json_object_get(draft, "version") == NULL &&
	    json_object_set_new(draft, "version", json_integer(1)) != 0) ||
	    (json_object_get(draft, "coordinator") == NULL &&
	    json_object_set_new(draft, "coordinator",
	    json_string(coffer_buf_str(&line))) != 0) ||
	    (o.previous != NULL && json_object_set_new(draft, "previous",
	    json_string(o.previous)) != 0) ||
	    (o.expires != NULL && json_object_set_new(draft, "expires",
	    json_integer((json_int_t)t)) != 0)) {
		r = COFFER_E_NOMEM;
		goto fail;
	}
	if ((r = coffer_jcs_put(draft, &text)) != 0 ||
	    (r = coffer_policy_parse(coffer_buf_str(&text), text.len, &p)) != 0) {
		r = coffer_errctx(r, "%s", argv[optind]);
		goto fail;
	}
	if (memcmp(p->coordinator.sign_pk, cc.pin.id.sign_pk, 32) != 0 ||
	    memcmp(p->coordinator.kx_pk, cc.pin.id.kx_pk, 32) != 0) {
		r = coffer_errf(COFFER_E_UNTRUSTED, "%s: 'coordinator' is not the "
		    "pinned coordinator %s", argv[optind], cc.pin.url);
		goto fail;
	}
	/* An expiry already past is a valid policy (rule P4) that nobody can
	 * approve (A5): said now to the analyst, not to each owner later. One
	 * in milliseconds (a year past 9999) is said too. */
	{
		int64_t now = coffer_wall_ms() / 1000;
		char when[64];

		coffer_time_format((int64_t)p->expires, when, sizeof(when));
		if ((int64_t)p->expires <= now) {
			r = coffer_errf(COFFER_E_FORMAT, "%s: expires: %llu (%s) is in "
			    "the past: no owner could approve the policy; give a later "
			    "time, in seconds since 1970 (or --expires TIME)",
			    argv[optind], (unsigned long long)p->expires, when);
			goto fail;
		}
		if (p->expires >= 253402300800ULL)
			fprintf(stderr, "coffer policy new: warning: expires: %llu is "
			    "after the year 9999: seconds since 1970 were meant, not "
			    "milliseconds?\n", (unsigned long long)p->expires);
	}
	coffer_policy_hash_hex(p, hex);
	if (o.out != NULL) {
		if ((r = coffer_buf_puts(&text, "\n")) != 0 ||
		    (r = coffer_file_write_atomic(o.out, text.data, text.len, 0644,
		    0)) != 0)
			goto fail;
		text.len--;
	}
	if (coffer_policy_insecure(p))
		fprintf(stderr, "coffer policy new: INSECURE: the policy accepts "
		    "INSECURE SIMULATION evidence\n");
	if (o.no_submit) {
		printf("%s\n", hex);
		rc = CLI_OK;
		goto done;
	}
	if ((r = post(&cc, "/v1/policies", &text, &code, &reply)) != 0)
		goto fail;
	if (code != 200 && code != 201) {
		rc = cli_coord_refused("policy new", code, reply);
		goto done;
	}
	printf("%s\n", hex);
	fprintf(stderr, "coffer policy new: policy '%s' %s the coordinator %s\n",
	    p->name, code == 201 ? "submitted to" : "already known to", cc.pin.url);
	if ((r = cli_head_refresh(&cc)) != 0)
		goto fail;
	rc = CLI_OK;
	goto done;
fail:
	rc = cli_coord_fail(&cc, r, "policy new");
done:
	json_decref(draft);
	json_decref(reply);
	coffer_policy_free(p);
	coffer_buf_release(&in);
	coffer_buf_release(&text);
	coffer_buf_release(&line);
	return rc;
}

static int
policy_show(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	struct coffer_policy *p = NULL;
	json_t *st = NULL;
	int r, rc;

	if ((rc = parse("policy show", argc, argv, &o)) >= 0 ||
	    (rc = only("policy show", &o, "full")) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("policy show", USAGE, "expected one HASH or FILE");
	if ((r = cli_coord_open(o.pin, o.coord, &cc)) != 0 ||
	    (r = cli_policy_get(&cc, argv[optind], &p, &st)) != 0)
		return cli_coord_fail(&cc, r, "policy show");
	cli_policy_print(stdout, p, NULL, o.full);
	if (st != NULL)
		cli_policy_print_status(stdout, p, st);
	json_decref(st);
	coffer_policy_free(p);
	return CLI_OK;
}

/* Ask on the terminal; 1 if the owner typed yes. */
static int
confirm(const char *hash, const char *name)
{
	char line[16];

	fprintf(stderr, "Approve policy %s as '%s'? Type 'yes' to sign: ", hash,
	    name);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL) {
		fputc('\n', stderr); /* Ctrl-D: the answer line was not ended */
		return 0;
	}
	return strcmp(line, "yes\n") == 0 || strcmp(line, "yes") == 0;
}

/* The signer's index in p, or an error naming it. */
static int
owner_of(const struct coffer_policy *p, const struct coffer_identity *id,
    uint8_t fp[32])
{
	char hex[65];
	size_t hexlen;

	if (coffer_identity_fingerprint(&id->pub, hex) != 0 ||
	    coffer_hex_decode(hex, 64, fp, 32, &hexlen) != 0)
		return coffer_errf(COFFER_E_INTERNAL, "fingerprint");
	if (coffer_policy_owner_index(p, fp) < 0)
		return coffer_errf(COFFER_E_POLICY, "identity %s (%s) is not an owner "
		    "of policy %s", id->pub.name, hex, p->name);
	return 0;
}

/* What approve and revoke start with: the identity, the pinned
 * coordinator, the policy, and the identity's place among its owners. */
static int
load_as_owner(const struct opts *o, const char *what, struct coffer_identity *id,
    struct cli_coord *cc, struct coffer_policy **p, uint8_t fp[32],
    const char *revoking)
{
	int r;

	memset(cc, 0, sizeof(*cc));
	if ((r = coffer_identity_load(o->id, id)) != 0)
		return r;
	if ((r = cli_coord_open(o->pin, o->coord, cc)) != 0) {
		/* A revocation is sent even to a coordinator caught rolled back
		 * or forked: it only takes rights away (policy.md section 8).
		 * The exit status still says what was seen. */
		if (revoking == NULL || cc->log_exit == 0)
			return r;
		(void)cli_fail(r, revoking);
	}
	if ((r = cli_policy_get(cc, what, p, NULL)) != 0)
		return r;
	return owner_of(*p, id, fp);
}

static int
send_statement(const char *cmd, struct cli_coord *cc,
    const struct coffer_policy *p, const char *what,
    const struct coffer_buf *body, const char *flag)
{
	json_t *reply = NULL, *st;
	char path[128], hex[65];
	long code = 0;
	int r, rc;

	coffer_policy_hash_hex(p, hex);
	snprintf(path, sizeof(path), "/v1/policies/%s/%s", hex, what);
	if ((r = post(cc, path, body, &code, &reply)) != 0)
		return cli_coord_fail(cc, r, cmd);
	if (code != 200 && code != 201) {
		rc = cli_coord_refused(cmd, code, reply);
		json_decref(reply);
		return rc;
	}
	rc = CLI_OK;
	/* A revocation is stored even by a coordinator that learned from
	 * this request that it was rolled back; the owner is told. */
	if (json_is_true(json_object_get(reply, "rolled_back"))) {
		fprintf(stderr, "coffer %s: the coordinator was rolled back (it "
		    "runs from an older copy of its state): the revocation is "
		    "stored, and no key is released until the owners approve "
		    "again\n", cmd);
		rc = CLI_ROLLBACK;
	}
	printf("%s\n", json_is_true(json_object_get(reply, flag)) ?
	    (strcmp(flag, "counted") == 0 ? "approval counted" : "revocation stored") :
	    (strcmp(flag, "counted") == 0 ? "approval already counted (the same "
	    "signer counts once)" : "revocation already stored"));
	if ((st = json_object_get(reply, "status")) != NULL)
		cli_policy_print_status(stdout, p, st);
	json_decref(reply);
	/* Keep a head that covers what was just acknowledged. */
	if (rc == CLI_OK && cc->log_exit == 0 && (r = cli_head_refresh(cc)) != 0)
		return cli_coord_fail(cc, r, cmd);
	return rc;
}

static int
policy_approve(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	struct coffer_identity id;
	struct coffer_policy *p = NULL;
	struct coffer_buf env = COFFER_BUF_INIT(COFFER_SIGNED_MAX);
	uint8_t fp[32], empty[32];
	char hex[65];
	int r, rc;

	memset(&id, 0, sizeof(id));
	if ((rc = parse("policy approve", argc, argv, &o)) >= 0 ||
	    (rc = only("policy approve", &o, "id yes full")) >= 0)
		return rc;
	if (argc - optind != 1 || o.id == NULL)
		return cli_usage("policy approve", USAGE, "expected HASH or FILE, and "
		    "--id FILE (your identity)");
	if ((r = load_as_owner(&o, argv[optind], &id, &cc, &p, fp, NULL)) != 0)
		goto fail;
	coffer_policy_hash_hex(p, hex);
	/* Exactly what the signature will cover, before it is made. */
	printf("You are about to approve, as '%s', policy:\n\n", id.pub.name);
	cli_policy_print(stdout, p, fp, o.full);
	printf("\n");
	fflush(stdout);
	if (!o.yes) {
		if (!cli_isatty(STDIN_FILENO)) {
			/* Not a usage error: no usage line after the policy. */
			fprintf(stderr, "coffer policy approve: not confirmed: nothing "
			    "was signed; read the policy above, then run again on a "
			    "terminal or with --yes\n");
			rc = CLI_USAGE;
			goto done;
		}
		if (!confirm(hex, id.pub.name)) {
			/* Exit 2 as without a terminal (doc/cli.md). */
			fprintf(stderr, "coffer policy approve: not confirmed: nothing "
			    "was signed\n");
			rc = CLI_USAGE;
			goto done;
		}
	}
	/* The approval names the log head just verified and kept
	 * (doc/format/policy.md section 7; after a rollback only approvals
	 * naming a later head count), or the empty log if none. */
	if ((r = coffer_sha256("", 0, empty)) != 0 ||
	    (r = coffer_approval_make(&id, p->hash, cc.has_head ? cc.head.size : 0,
	    cc.has_head ? cc.head.root : empty, &env)) != 0)
		goto fail;
	rc = send_statement("policy approve", &cc, p, "approvals", &env, "counted");
	goto done;
fail:
	rc = cli_coord_fail(&cc, r, "policy approve");
done:
	coffer_identity_wipe(&id);
	coffer_policy_free(p);
	coffer_buf_release(&env);
	return rc;
}

static int
policy_revoke(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	struct coffer_identity id;
	struct coffer_policy *p = NULL;
	struct coffer_policy_measurement m;
	struct coffer_buf env = COFFER_BUF_INIT(COFFER_SIGNED_MAX);
	char tee[16];
	const char *colon;
	uint8_t fp[32];
	int r, rc;

	memset(&id, 0, sizeof(id));
	if ((rc = parse("policy revoke", argc, argv, &o)) >= 0 ||
	    (rc = only("policy revoke", &o, "id measurement")) >= 0)
		return rc;
	if (argc - optind != 1 || o.id == NULL)
		return cli_usage("policy revoke", USAGE, "expected HASH or FILE, and "
		    "--id FILE (your identity)");
	if (o.meas != NULL) {
		colon = strchr(o.meas, ':');
		if (colon == NULL || (size_t)(colon - o.meas) >= sizeof(tee))
			return cli_usage("policy revoke", USAGE, "--measurement: TEE:HEX "
			    "(sgx, tdx, sev-snp or sim, and its hex value)");
		memcpy(tee, o.meas, (size_t)(colon - o.meas));
		tee[colon - o.meas] = '\0';
		if (coffer_policy_measurement_parse(tee, colon + 1, "--measurement",
		    &m) != 0)
			return cli_usage("policy revoke", USAGE, "%s", coffer_errdetail());
	}
	if ((r = load_as_owner(&o, argv[optind], &id, &cc, &p, fp,
	    "policy revoke")) != 0 ||
	    (r = coffer_revocation_make(&id, p->hash, o.meas ? &m : NULL, &env)) != 0)
		goto fail;
	rc = send_statement("policy revoke", &cc, p, "revocations", &env, "stored");
	if (cc.log_exit != 0 && (rc == CLI_OK || rc == CLI_ROLLBACK))
		rc = cc.log_exit;
	goto done;
fail:
	rc = cli_coord_fail(&cc, r, "policy revoke");
done:
	coffer_identity_wipe(&id);
	coffer_policy_free(p);
	coffer_buf_release(&env);
	return rc;
}

static int
policy_status(int argc, char **argv)
{
	struct opts o;
	struct cli_coord cc;
	struct coffer_policy *p = NULL;
	json_t *st = NULL, *reply = NULL, *v;
	long code = 0;
	size_t i;
	int r, rc;

	if ((rc = parse("policy status", argc, argv, &o)) >= 0 ||
	    (rc = only("policy status", &o, "")) >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage("policy status", USAGE, "expected at most one HASH");
	if ((r = cli_coord_open(o.pin, o.coord, &cc)) != 0)
		return cli_coord_fail(&cc, r, "policy status");
	if (argc - optind == 1) {
		if ((r = cli_policy_get(&cc, argv[optind], &p, &st)) != 0)
			return cli_coord_fail(&cc, r, "policy status");
		printf("policy        %s\n", p->name);
		printf("hash          %s\n", argv[optind]);
		if (st != NULL)
			cli_policy_print_status(stdout, p, st);
		json_decref(st);
		coffer_policy_free(p);
		return CLI_OK;
	}
	if ((r = cli_coord_call(&cc, "GET", "/v1/policies", NULL, 0, &code,
	    &reply, NULL)) != 0)
		return cli_coord_fail(&cc, r, "policy status");
	if (code != 200) {
		rc = cli_coord_refused("policy status", code, reply);
		json_decref(reply);
		return rc;
	}
	json_array_foreach(json_object_get(reply, "policies"), i, v)
		printf("%s  %-16s %-8s  %s\n",
		    json_string_value(json_object_get(v, "policy")),
		    json_string_value(json_object_get(v, "state")),
		    json_is_true(json_object_get(v, "active")) ? "active" : "inactive",
		    json_string_value(json_object_get(v, "name")));
	json_decref(reply);
	return CLI_OK;
}

const struct cli_verb cli_policy_verbs[] = {
	{ "new", policy_new },
	{ "show", policy_show },
	{ "approve", policy_approve },
	{ "revoke", policy_revoke },
	{ "status", policy_status },
	{ NULL, NULL },
};

int
cmd_policy(int argc, char **argv)
{
	return cli_dispatch("policy", cli_policy_verbs, USAGE, help, argc, argv);
}
