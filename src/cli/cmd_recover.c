// SPDX-License-Identifier: Apache-2.0
// `coffer coordinator recovery` (who can recover a coordinator's state) and
// `coffer coordinator recover` (an owner's share, handed to a coordinator
// that waits for k of n): doc/format/recovery.md sections 3 and 7. The
// share leaves this machine only wrapped to a session key that the
// coordinator's evidence binds, after its measurement and its record
// (signed by the pinned key) were checked.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/coord_client.h"
#include "cli/coordinator_cli.h"
#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "proto/recovery.h"

#define USAGE_RECOVERY "coffer coordinator recovery [URL] [--pin-file FILE]"
#define USAGE_RECOVER "coffer coordinator recover [URL] --id FILE " \
    "[--expect MEASUREMENT] [--collateral PATH]... [--trust-sim-key FILE]... " \
    "[--pin-file FILE]"
#define EVIDENCE_MAX ((size_t)1 << 20)

/* GET /v1/recovery; the record checked against the pin (RR1 to RR5). */
static int pin_of_identity(const struct opts *o,
    const struct coffer_identity_public *id, struct cli_coord_pin *pin);

static int
fetch(const struct opts *o, struct cli_coord_pin *pin, json_t **reply,
    struct coffer_recovery_record *rec)
{
	long status = 0;
	int r;

	if ((r = cli_coord_http(pin->url, "GET", "/v1/recovery", NULL, 0, &status,
	    reply, NULL)) != 0)
		return r;
	if (status == 404)
		return coffer_errf(COFFER_E_NOTFOUND, "%s has no recovery owners: its "
		    "state cannot be recovered", pin->url);
	if (status != 200 || *reply == NULL || !json_is_object(*reply))
		return coffer_errf(COFFER_E_PROTO, "%s/v1/recovery: HTTP %ld", pin->url,
		    status);
	if ((r = coffer_recovery_from_json(json_object_get(*reply, "record"),
	    rec)) != 0)
		return coffer_errctx(r, "%s/v1/recovery: the recovery record", pin->url);
	if (pin->fingerprint[0] == '\0' &&
	    (r = pin_of_identity(o, &rec->coordinator, pin)) != 0)
		return r;
	if (memcmp(rec->coordinator.sign_pk, pin->id.sign_pk, 32) != 0 ||  /* RR5 */
	    memcmp(rec->coordinator.kx_pk, pin->id.kx_pk, 32) != 0)
		return coffer_errf(COFFER_E_UNTRUSTED, "the recovery record at %s is "
		    "signed by another coordinator than the one pinned (%s)", pin->url,
		    pin->fingerprint);
	return 0;
}

/*
 * The pin of URL. A coordinator moved to another address has no pin there
 * yet: then the pin of the same identity under another URL, found once
 * the record names the identity (pin_of_identity).
 */
static int
load_pin(const struct opts *o, int argc, char **argv, struct cli_coord_pin *pin)
{
	char path[4096];
	int r;

	if ((r = cli_pin_path(o->pin_file, path, sizeof(path))) != 0)
		return r;
	r = cli_pin_get(path, argc - optind == 1 ? argv[optind] : NULL, pin);
	if (r == COFFER_E_NOTFOUND && argc - optind == 1) {
		/* Talk to URL; which pin vouches for it is decided by the record. */
		memset(pin, 0, sizeof(*pin));
		snprintf(pin->url, sizeof(pin->url), "%s", argv[optind]);
		return 0;
	}
	return r;
}

/* A pin (under any URL) of the identity the record names: RR5. */
static int
pin_of_identity(const struct opts *o, const struct coffer_identity_public *id,
    struct cli_coord_pin *pin)
{
	struct coffer_buf b = COFFER_BUF_INIT((size_t)1 << 20);
	struct cli_coord_pin p;
	char path[4096], url[sizeof(pin->url)];
	const char *u;
	json_t *j = NULL, *v;
	int r;

	snprintf(url, sizeof(url), "%s", pin->url);
	if ((r = cli_pin_path(o->pin_file, path, sizeof(path))) != 0 ||
	    (r = coffer_file_read(path, (size_t)1 << 20, &b)) != 0 ||
	    (r = coffer_json_parse((const char *)b.data, b.len, (size_t)1 << 20, 8,
	    &j)) != 0)
		goto out;
	r = COFFER_E_NOTFOUND;
	json_object_foreach(json_object_get(j, "coordinators"), u, v) {
		if (cli_pin_get(path, u, &p) == 0 &&
		    memcmp(p.id.sign_pk, id->sign_pk, 32) == 0 &&
		    memcmp(p.id.kx_pk, id->kx_pk, 32) == 0) {
			*pin = p;
			snprintf(pin->url, sizeof(pin->url), "%s", url);
			r = 0;
			break;
		}
	}
out:
	if (r == COFFER_E_NOTFOUND)
		r = coffer_errf(COFFER_E_UNTRUSTED, "%s presents a recovery record of "
		    "a coordinator you never verified: run `coffer coordinator "
		    "verify` on it first (when it last ran)", url);
	json_decref(j);
	coffer_buf_release(&b);
	return r;
}

int
cli_coordinator_recovery(int argc, char **argv)
{
	struct coffer_recovery_record rec;
	struct cli_coord_pin pin;
	json_t *reply = NULL;
	char fp[COFFER_ID_FINGERPRINT_HEX];
	struct opts o;
	int r, rc;

	if ((rc = cli_coordinator_parse("coordinator recovery", argc, argv, &o)) >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage("coordinator recovery", USAGE_RECOVERY, "expected at "
		    "most one URL");
	if ((r = load_pin(&o, argc, argv, &pin)) != 0 ||
	    (r = fetch(&o, &pin, &reply, &rec)) != 0) {
		json_decref(reply);
		return cli_fail(r, "coordinator recovery");
	}
	printf("coordinator  %s (%s)\n", pin.url, pin.fingerprint);
	printf("mode         %s\n", json_string_value(json_object_get(reply, "mode")));
	printf("threshold    %u of %u recovery owners can rebuild the state key\n",
	    rec.threshold, rec.n);
	for (unsigned i = 0; i < rec.n; i++) {
		if (coffer_identity_fingerprint(&rec.shares[i].owner, fp) != 0)
			fp[0] = '\0';
		printf("owner %-2u     %s %s\n", rec.shares[i].x,
		    rec.shares[i].owner.name[0] ? rec.shares[i].owner.name : "-", fp);
	}
	json_decref(reply);
	return CLI_OK;
}

/* RO2 to RO4: the recovering instance's evidence binds its session key and
 * has the expected measurement. */
static int
check_evidence(const struct opts *o, const struct cli_coord_pin *pin,
    const struct coffer_recovery_record *rec, const json_t *reply,
    uint8_t session_pk[32], int *rejected)
{
	struct coffer_tee_anchors *anchors = NULL;
	struct coffer_tee_collateral *coll = NULL;
	struct coffer_tee_claims *claims = NULL;
	struct coffer_tee_verify_opts vo;
	struct coffer_tee_policy tp;
	struct coffer_buf ev = COFFER_BUF_INIT(EVIDENCE_MAX);
	const char *pk = json_string_value(json_object_get(reply, "session_pk"));
	const char *evs = json_string_value(json_object_get(reply, "evidence"));
	const char *want = o->expect != NULL ? o->expect : pin->measurement;
	uint8_t rd[64];
	char meas[CLI_TRUST_MEASUREMENT_HEX];
	size_t n = 0;
	int r;

	*rejected = 0;
	if (pk == NULL || evs == NULL || strlen(pk) != 64 ||          /* RO1 */
	    coffer_hex_decode(pk, 64, session_pk, 32, &n) != 0 ||
	    coffer_b64url_decode_buf(evs, strlen(evs), &ev) != 0) {
		r = coffer_errf(COFFER_E_PROTO, "%s/v1/recovery: no session key or "
		    "evidence", pin->url);
		goto out;
	}
	if ((r = coffer_recovery_report_data(rec->state_id, session_pk, rd)) != 0 ||
	    (r = cli_trust_make(&o->t, &anchors, &coll, &tp)) != 0)
		goto out;
	memset(&vo, 0, sizeof(vo));
	vo.expected_report_data = rd;                                  /* RO3 */
	/* Debug TEEs, TCB statuses, sim keys: the verification policy's, as
	 * for `coffer coordinator verify`. */
	vo.policy = &tp;
	r = coffer_tee_verify(ev.data, ev.len, anchors, coll,          /* RO2 */
	    coffer_tee_now(), &vo, &claims);
	if (claims == NULL)
		goto out;
	if (r != 0) {
		cli_coordinator_rejection("coordinator recover", claims);
		*rejected = 1;
		goto out;
	}
	if ((r = cli_trust_measurement_hex(claims, meas)) != 0)
		goto out;
	if (strlen(want) != strlen(meas) || strncasecmp(want, meas,     /* RO4 */
	    strlen(meas)) != 0) {
		r = coffer_errf(COFFER_E_POLICY, "the recovering coordinator's "
		    "measurement is %s, not %s%s", meas, want, o->expect ? "" :
		    " (the pinned one; give --expect for a new build)");
		goto out;
	}
	if (claims->tee == COFFER_TEE_SIM)
		fprintf(stderr, "*** INSECURE SIMULATION: no TEE protects this code "
		    "or data ***\n");
out:
	coffer_tee_claims_free(claims);
	coffer_tee_collateral_free(coll);
	coffer_tee_anchors_free(anchors);
	coffer_buf_release(&ev);
	return r;
}

int
cli_coordinator_recover(int argc, char **argv)
{
	struct coffer_recovery_record rec;
	struct coffer_identity me;
	struct cli_coord_pin pin;
	struct coffer_buf body = COFFER_BUF_INIT(4096);
	uint8_t session_pk[32], y[32], blob[COFFER_RECOVERY_WRAPPED_LEN];
	json_t *reply = NULL, *ans = NULL;
	const char *mode;
	struct opts o;
	long status = 0;
	unsigned x;
	int r, rc, rejected = 0;

	memset(&me, 0, sizeof(me));
	if ((rc = cli_coordinator_parse("coordinator recover", argc, argv, &o)) >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage("coordinator recover", USAGE_RECOVER, "expected at "
		    "most one URL");
	if (o.id == NULL)
		return cli_usage("coordinator recover", USAGE_RECOVER, "--id FILE "
		    "(your identity, a recovery owner) is required");
	if ((r = coffer_identity_load(o.id, &me)) != 0 ||
	    (r = load_pin(&o, argc, argv, &pin)) != 0 ||                 /* RO5 */
	    (r = fetch(&o, &pin, &reply, &rec)) != 0)
		goto fail;
	mode = json_string_value(json_object_get(reply, "mode"));
	if (mode == NULL || strcmp(mode, "recovering") != 0) {         /* RO1 */
		r = coffer_errf(COFFER_E_STATE, "%s is running: nothing to recover",
		    pin.url);
		goto fail;
	}
	if ((r = check_evidence(&o, &pin, &rec, reply, session_pk, &rejected)) != 0)
		goto fail;
	if ((r = coffer_recovery_owner_share(&rec, &me, &x, y)) != 0 ||  /* RO6, RO7 */
	    (r = coffer_recovery_submit_wrap(&rec, &me, x, y, session_pk, blob)) != 0 ||
	    (r = coffer_recovery_submit_json(&me.pub, x, blob, &body)) != 0 ||
	    (r = cli_coord_http(pin.url, "POST", "/v1/recovery/share",
	    (const char *)body.data, body.len, &status, &ans, NULL)) != 0)
		goto fail;
	if (status != 200) {
		rc = cli_coord_refused("coordinator recover", status, ans);
		goto done;
	}
	{
		json_int_t got = json_integer_value(json_object_get(ans, "received"));
		json_int_t k = json_integer_value(json_object_get(ans, "threshold"));

		if (json_is_true(json_object_get(ans, "recovered")))
			printf("share of %s accepted: %lld of %lld: the coordinator "
			    "recovered its state\n", me.pub.name[0] ? me.pub.name : "you",
			    (long long)got, (long long)k);
		else
			printf("share of %s accepted: %lld of %lld needed; waiting for "
			    "%lld more owner%s\n", me.pub.name[0] ? me.pub.name : "you",
			    (long long)got, (long long)k, (long long)(k - got),
			    k - got == 1 ? "" : "s");
	}
	rc = CLI_OK;
	goto done;
fail:
	rc = rejected ? CLI_REJECTED : cli_fail(r, "coordinator recover");
	if (r == COFFER_E_UNTRUSTED && !rejected)
		rc = CLI_PIN_CHANGED;
done:
	coffer_wipe(y, sizeof(y));
	coffer_identity_wipe(&me);
	json_decref(reply);
	json_decref(ans);
	coffer_buf_release(&body);
	return rc;
}
