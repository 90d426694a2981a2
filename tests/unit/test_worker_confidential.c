// SPDX-License-Identifier: Apache-2.0
// Unit tests for the worker's confidential job (src/worker/job.c,
// confidential.c, coord.c; doc/worker.md section 9) against a coordinator
// faked in this file with src/proto's own encoders: real INSECURE
// SIMULATION evidence both ways, real sealed inputs, a real policy. The
// hostile cases of issue 13 that need no process: a tampered input, an
// older sealed version, a coordinator with another measurement or keys,
// a worker the policy does not approve, forged answers, refusals.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "coffer/app.h"
#include "coffer/error.h"
#include "coffer/tee.h"
#include "crypto/datakey.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "crypto/sealed.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/random.h"
#include "proto/coord_identity.h"
#include "proto/itemproof.h"
#include "proto/keyrelease.h"
#include "proto/policy.h"
#include "worker/app.h"
#include "worker/confidential.h"
#include "worker/worker.h"
#include "../support/fake_store.h"

/* ---- The world: identities, keys, files, sealed inputs, a policy ---- */

struct world {
	char dir[256], sim_dir[300], coord_file[300], worker_file[300], app_file[300];
	uint8_t sim_fp[32];
	uint8_t coord_meas[48], worker_meas[48];
	struct coffer_identity coord, other_coord, owner_a, owner_b, analyst;
	uint8_t key_a[32], key_b[32], id_a[16], id_b[16];
	struct coffer_buf in_a1, in_a2, in_b1, old_a1;  /* sealed inputs */
	char *policy_text;                              /* app "stats" (map) and
	                                                   "stats-r" (reduce) */
	struct coffer_policy *policy;
	struct coffer_buf coord_evidence;               /* binds coord's keys */
};

static struct world W;

static void
must(int r, const char *what)
{
	if (r != 0)
		fail_msg("%s: %s: %s", what, coffer_strerror(r), coffer_errdetail());
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static json_t *
id_json(const struct coffer_identity *id)
{
	struct coffer_buf b = COFFER_BUF_INIT(4096);
	json_t *s;

	must(coffer_identity_format_public(&id->pub, &b), "identity line");
	s = json_string((const char *)b.data);
	coffer_buf_release(&b);
	return s;
}

static json_t *
hexj(const uint8_t *p, size_t n)
{
	char h[256];

	coffer_hex_encode(p, n, h);
	return json_string(h);
}

static json_t *
object_json(const char *key, const struct coffer_buf *sealed)
{
	uint8_t d[32];
	char h[80] = "sha256:";

	must(coffer_sha256(sealed->data, sealed->len, d), "digest");
	coffer_hex_encode(d, 32, h + 7);
	return json_pack("{s:s, s:s}", "key", key, "digest", h);
}

static void
seal(const uint8_t key[32], const char *text, struct coffer_buf *out)
{
	coffer_buf_init(out, 1 << 20);
	must(coffer_sealed_seal_mem(key, NULL, (const uint8_t *)text, strlen(text),
	    out, NULL), "seal");
}

static json_t *
app_json(const char *name, int reduce)
{
	uint8_t sha[32];
	const char *app = "app v1";

	must(coffer_sha256(app, strlen(app), sha), "app sha");
	return json_pack("{s:s, s:o, s:[s,s], s:b, s:[{s:s, s:o}], s:{s:[s,s]}}",
	    "name", name, "sha256", hexj(sha, 32), "datasets", "a-data", "b-data",
	    "reduce", reduce, "measurements", "tee", "sim", "value",
	    hexj(W.worker_meas, 48), "params", "alpha", "0.05", "0.01");
}

static int
world_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	const char *cf[1], *wf[1];
	struct coffer_tee_backend_opts bo;
	uint8_t rd[64], *ev = NULL;
	size_t evlen = 0;
	char *pem = NULL;
	json_t *p;

	(void)state;
	snprintf(W.dir, sizeof(W.dir), "%s/coffer-wconf-XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(W.dir));
	snprintf(W.sim_dir, sizeof(W.sim_dir), "%s/sim", W.dir);
	assert_int_equal(mkdir(W.sim_dir, 0700), 0);
	snprintf(W.coord_file, sizeof(W.coord_file), "%s/coordinator.bin", W.dir);
	snprintf(W.worker_file, sizeof(W.worker_file), "%s/worker.bin", W.dir);
	snprintf(W.app_file, sizeof(W.app_file), "%s/app.bin", W.dir);
	write_file(W.coord_file, "coordinator v1");
	write_file(W.worker_file, "worker v1");
	write_file(W.app_file, "app v1");
	cf[0] = W.coord_file;
	wf[0] = W.worker_file;
	must(coffer_tee_sim_measure(cf, 1, W.coord_meas), "measure");
	must(coffer_tee_sim_measure(wf, 1, W.worker_meas), "measure");
	must(coffer_tee_sim_public_key(W.sim_dir, &pem), "sim key");
	must(coffer_tee_sim_key_fingerprint(pem, strlen(pem), W.sim_fp), "sim fp");
	free(pem);
	must(coffer_identity_generate("coordinator", &W.coord), "id");
	must(coffer_identity_generate("coordinator", &W.other_coord), "id");
	must(coffer_identity_generate("hospital-a", &W.owner_a), "id");
	must(coffer_identity_generate("hospital-b", &W.owner_b), "id");
	must(coffer_identity_generate("analyst", &W.analyst), "id");
	must(coffer_datakey_generate(W.key_a), "key");
	must(coffer_datakey_generate(W.key_b), "key");
	must(coffer_datakey_id(W.key_a, W.id_a), "key id");
	must(coffer_datakey_id(W.key_b, W.id_b), "key id");
	seal(W.key_a, "a,1\n", &W.in_a1);
	seal(W.key_a, "a,2\n", &W.in_a2);
	seal(W.key_b, "b,1\n", &W.in_b1);
	seal(W.key_a, "a,1 (last year's)\n", &W.old_a1);

	p = json_pack("{s:s, s:i, s:s, s:o, s:I, s:[{s:o, s:[{s:s, s:o, s:[o,o]}]},"
	    " {s:o, s:[{s:s, s:o, s:[o]}]}], s:[o,o], s:{s:i, s:[o]}, s:[o],"
	    " s:{s:i}}",
	    "type", "coffer-policy", "version", 1, "name", "worker-test",
	    "coordinator", id_json(&W.coord), "expires", (json_int_t)time(NULL) + 86400,
	    "owners",
	    "id", id_json(&W.owner_a), "datasets", "name", "a-data", "key_id",
	    hexj(W.id_a, 16), "objects", object_json("a/1.sealed", &W.in_a1),
	    object_json("a/2.sealed", &W.in_a2),
	    "id", id_json(&W.owner_b), "datasets", "name", "b-data", "key_id",
	    hexj(W.id_b, 16), "objects", object_json("b/1.sealed", &W.in_b1),
	    "apps", app_json("stats", 0), app_json("stats-r", 1),
	    "verification", "version", 1, "sim_platform_keys", hexj(W.sim_fp, 32),
	    "recipients", id_json(&W.analyst),
	    "limits", "min_rows", 2);
	assert_non_null(p);
	W.policy_text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	must(coffer_policy_parse(W.policy_text, strlen(W.policy_text), &W.policy),
	    "policy");

	must(coffer_coord_identity_report_data(W.coord.pub.sign_pk, W.coord.pub.kx_pk,
	    rd), "report data");
	memset(&bo, 0, sizeof(bo));
	bo.sim_dir = W.sim_dir;
	bo.measure = cf;
	bo.n_measure = 1;
	must(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd, &bo, &ev, &evlen),
	    "coordinator evidence");
	coffer_buf_init(&W.coord_evidence, 1 << 20);
	must(coffer_buf_put(&W.coord_evidence, ev, evlen), "evidence");
	free(ev);
	return 0;
}

static int
world_teardown(void **state)
{
	char cmd[400];

	(void)state;
	coffer_buf_release(&W.in_a1);
	coffer_buf_release(&W.in_a2);
	coffer_buf_release(&W.in_b1);
	coffer_buf_release(&W.old_a1);
	coffer_buf_release(&W.coord_evidence);
	coffer_policy_free(W.policy);
	free(W.policy_text);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", W.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- The fake coordinator ---- */

struct proof_rec {
	int have;
	uint8_t result;
	uint8_t output_digest[32];
};

struct fake_coord {
	uint8_t job[16], session[16], session_key[32];
	uint8_t output_key[32], intermediate_key[32], app_secret[32];
	const char *app;                  /* "stats" or "stats-r" */
	uint8_t approved[48];             /* the worker measurement it accepts */
	const struct coffer_identity *present;  /* identity shown (default coord) */
	const struct coffer_identity *answer_as; /* key the release is wrapped from */
	int serve_other_policy;           /* W5: a policy with another hash */
	const char *refuse_release;       /* answer the release with this reason */
	uint16_t refuse_proofs;           /* answer proofs refused with this code */
	int commit_failed;                /* FAILED proofs reach fail_after */
	int fail_requests;                /* this many proof requests fail */
	int bad_ack_mac;                  /* answers MAC'd with another key */
	int nonces, releases, proof_requests, proofs;
	uint8_t last_proof[COFFER_ITEMPROOF_LEN];
	struct coffer_itemproof last;
	struct proof_rec ledger[2][8];
};

static int
reply_json(struct coffer_buf *reply, int *status, int code, const char *text)
{
	*status = code;
	return coffer_buf_puts(reply, text);
}

static int
refuse(struct coffer_buf *reply, int *status, const char *name)
{
	char t[256];

	snprintf(t, sizeof(t), "{\"error\": {\"code\": \"%s\", \"message\": \"fake\"}}",
	    name);
	return reply_json(reply, status, 403, t);
}

static int
fc_release(struct fake_coord *fc, const void *body, size_t len, int *status,
    struct coffer_buf *reply)
{
	struct coffer_release_request rq;
	struct coffer_release_payload pl;
	struct coffer_release_key keys[2];
	struct coffer_tee_anchors *anchors = NULL;
	struct coffer_tee_claims *claims = NULL;
	struct coffer_tee_verify_opts vo;
	uint8_t rd[64];
	char jh[33];
	int r;

	fc->releases++;
	coffer_hex_encode(fc->job, 16, jh);
	coffer_release_request_init(&rq);
	must(coffer_release_request_parse(body, len, jh, &rq), "release request");
	must(coffer_keyrelease_binding(rq.job, rq.nonce, rq.worker_pk, rd), "binding");
	must(coffer_tee_anchors_new_default(&anchors), "anchors");
	memset(&vo, 0, sizeof(vo));
	vo.expected_report_data = rd;
	vo.policy = &W.policy->tee_policy;
	r = coffer_tee_verify(rq.evidence.data, rq.evidence.len, anchors, NULL,
	    coffer_tee_now(), &vo, &claims);
	coffer_tee_anchors_free(anchors);
	if (r != 0) {
		coffer_tee_claims_free(claims);
		coffer_release_request_release(&rq);
		return refuse(reply, status, "evidence.invalid");
	}
	if (fc->refuse_release != NULL ||
	    memcmp(claims->sim.measurement, fc->approved, 48) != 0) {
		coffer_tee_claims_free(claims);
		coffer_release_request_release(&rq);
		return refuse(reply, status, fc->refuse_release ? fc->refuse_release :
		    "measurement.unapproved");
	}
	coffer_tee_claims_free(claims);
	memset(&pl, 0, sizeof(pl));
	memcpy(pl.job, fc->job, 16);
	memcpy(pl.policy, W.policy->hash, 32);
	snprintf(pl.app, sizeof(pl.app), "%s", fc->app);
	memcpy(pl.app_sha256, coffer_policy_app(W.policy, fc->app)->sha256, 32);
	pl.reduce = strcmp(fc->app, "stats-r") == 0;
	memcpy(pl.session, fc->session, 16);
	memcpy(pl.session_key, fc->session_key, 32);
	memcpy(keys[0].key_id, W.id_a, 16);
	memcpy(keys[0].key, W.key_a, 32);
	memcpy(keys[1].key_id, W.id_b, 16);
	memcpy(keys[1].key, W.key_b, 32);
	pl.keys = keys;
	pl.nkeys = 2;
	memcpy(pl.output_key, fc->output_key, 32);
	memcpy(pl.intermediate_key, fc->intermediate_key, 32);
	memcpy(pl.app_secret, fc->app_secret, 32);
	pl.params = json_pack("{s:s}", "alpha", "0.01");
	pl.limits = json_pack("{s:i}", "min_rows", 2);
	*status = 200;
	r = coffer_release_answer_make(&pl, rq.nonce, rq.worker_pk,
	    (fc->answer_as ? fc->answer_as : &W.coord)->kx_sk, reply);
	json_decref(pl.params);
	json_decref(pl.limits);
	coffer_release_request_release(&rq);
	return r;
}

/* A small ledger: the first committed proof of an item wins (C2 to C5). */
static int
fc_proofs(struct fake_coord *fc, const void *body, size_t len, int *status,
    struct coffer_buf *reply)
{
	json_t *root = NULL, *arr;
	uint8_t b[COFFER_ITEMPROOF_LEN], ab[COFFER_ITEMACK_LEN], wrong[32];
	int r;

	fc->proof_requests++;
	if (fc->fail_requests > 0) {
		fc->fail_requests--;
		return coffer_errf(COFFER_E_CONNECT, "fake: connection reset");
	}
	must(coffer_json_parse(body, len, 1 << 20, 4, &root), "proofs body");
	arr = json_object_get(root, "proofs");
	assert_true(json_is_array(arr));
	must(coffer_buf_puts(reply, "{\"acks\": ["), "reply");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		struct coffer_itemproof p;
		struct coffer_itemack a;
		struct proof_rec *rec;
		const char *s = json_string_value(json_array_get(arr, i));

		must(coffer_b64url_decode_exact(s, strlen(s), b, sizeof(b)), "proof b64");
		must(coffer_itemproof_parse(b, sizeof(b), &p), "proof");
		must(coffer_itemproof_verify_mac(b, fc->session_key), "proof mac");
		fc->proofs++;
		memcpy(fc->last_proof, b, sizeof(b));
		fc->last = p;
		memset(&a, 0, sizeof(a));
		memcpy(a.proof_mac, p.mac, 32);
		a.log_index = (uint64_t)fc->proofs;
		rec = &fc->ledger[p.stage][p.item % 8];
		if (fc->refuse_proofs) {
			a.outcome = COFFER_ACK_REFUSED;
			a.reason = fc->refuse_proofs;
		} else if (rec->have) {
			a.outcome = rec->result != p.result || memcmp(rec->output_digest,
			    p.output_digest, 32) != 0 ? COFFER_ACK_DISAGREEMENT :
			    COFFER_ACK_DUPLICATE;
		} else if (p.result == COFFER_RESULT_OK || fc->commit_failed) {
			rec->have = 1;
			rec->result = p.result;
			memcpy(rec->output_digest, p.output_digest, 32);
			a.outcome = COFFER_ACK_COMMITTED;
		} else {
			a.outcome = COFFER_ACK_FAILURE;
		}
		memset(wrong, 0x5a, sizeof(wrong));
		must(coffer_itemack_encode(&a, fc->bad_ack_mac ? wrong : fc->session_key,
		    ab), "ack");
		must(coffer_buf_puts(reply, i ? ",\"" : "\""), "reply");
		must(coffer_b64url_put(reply, ab, sizeof(ab)), "reply");
		must(coffer_buf_puts(reply, "\""), "reply");
	}
	r = coffer_buf_puts(reply, "]}");
	json_decref(root);
	*status = 200;
	return r;
}

static int
fc_request(void *arg, const char *method, const char *path, const void *body,
    size_t len, size_t max, int *status, struct coffer_buf *reply)
{
	struct fake_coord *fc = arg;
	char jh[33], pre[64], hh[65];
	struct coffer_buf line = COFFER_BUF_INIT(4096);
	int r;

	(void)max;
	coffer_hex_encode(fc->job, 16, jh);
	snprintf(pre, sizeof(pre), "/v1/jobs/%s/", jh);
	if (strcmp(method, "GET") == 0 && strcmp(path, "/v1/identity") == 0) {
		must(coffer_identity_format_public(&(fc->present ? fc->present :
		    &W.coord)->pub, &line), "line");
		*status = 200;
		r = coffer_buf_putf(reply, "{\"identity\": \"%s\"}", line.data);
		coffer_buf_release(&line);
		return r;
	}
	if (strcmp(method, "GET") == 0 && strcmp(path, "/v1/evidence") == 0) {
		*status = 200;
		return coffer_buf_put(reply, W.coord_evidence.data, W.coord_evidence.len);
	}
	coffer_hex_encode(W.policy->hash, 32, hh);
	if (strcmp(method, "GET") == 0 && strncmp(path, "/v1/policies/", 13) == 0) {
		assert_string_equal(path + 13, hh);
		*status = 200;
		if (fc->serve_other_policy) {
			/* Another policy's text: one byte of the name changed. */
			char *t = strdup(W.policy_text), *n = strstr(t, "worker-test");

			n[0] = 'W';
			r = coffer_buf_puts(reply, t);
			free(t);
			return r;
		}
		return coffer_buf_puts(reply, W.policy_text);
	}
	assert_string_equal(method, "POST");
	assert_memory_equal(path, pre, strlen(pre));
	if (strcmp(path + strlen(pre), "nonce") == 0) {
		uint8_t n[32];
		char nh[65];

		fc->nonces++;
		must(coffer_random(n, 32), "nonce");
		coffer_hex_encode(n, 32, nh);
		*status = 200;
		return coffer_buf_putf(reply, "{\"nonce\": \"%s\", \"expires\": 1}", nh);
	}
	if (strcmp(path + strlen(pre), "release") == 0)
		return fc_release(fc, body, len, status, reply);
	if (strcmp(path + strlen(pre), "proofs") == 0)
		return fc_proofs(fc, body, len, status, reply);
	fail_msg("fake coordinator: %s %s", method, path);
	return COFFER_E_INTERNAL;
}

/* ---- The worker side ---- */

enum app_mode { APP_ECHO, APP_FAIL, APP_PARAMS };
static enum app_mode app_mode;
static char app_params[1024];

static int
capp_init(const struct coffer_app_param *params, size_t n, void **state,
    char *err, size_t errlen)
{
	size_t len = 0;

	(void)err;
	(void)errlen;
	app_params[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(app_params + len, sizeof(app_params) - len,
		    "%s=%s;", params[i].key, params[i].value);
	*state = NULL;
	return 0;
}

static int
capp_process(void *state, const struct coffer_app_item *item, const uint8_t *in,
    size_t inlen, struct coffer_app_writer *out, char *err, size_t errlen)
{
	(void)state;
	if (app_mode == APP_FAIL) {
		snprintf(err, errlen, "column missing in %s", item->id);
		return COFFER_E_FORMAT;
	}
	if (app_mode == APP_PARAMS)
		return out->write(out, app_params, strlen(app_params));
	if (out->write(out, "seen:", 5) != 0)
		return COFFER_E_LIMIT;
	return out->write(out, in, inlen);
}

static struct coffer_app capp = {
	.size = sizeof(struct coffer_app),
	.abi_version = COFFER_APP_ABI_VERSION,
	.name = "stats",
	.version = "1",
	.init = capp_init,
	.process = capp_process,
};

struct fixture {
	struct fake_coord fc;
	struct worker_config cfg;
	struct worker w;
	struct coffer_store *in, *out;
	struct fake_store *fin, *fout;
	struct measured_config mc;
	struct coffer_tee_anchors *anchors;
	struct coffer_tee_backend_opts bo;
	const char *measure[1];
	struct coord_transport t;
	struct conf_start s;
};

static void
measured(struct fixture *f, const uint8_t coord_meas[48])
{
	char text[1024], mh[97], fh[65];

	coffer_hex_encode(coord_meas, 48, mh);
	coffer_hex_encode(W.sim_fp, 32, fh);
	snprintf(text, sizeof(text), "{\"type\": \"coffer-worker-config\", \"version\":"
	    " 1, \"coordinator\": {\"tee\": \"sim\", \"measurement\": \"%s\","
	    " \"verification\": {\"version\": 1, \"sim_platform_keys\": [\"%s\"]}}}",
	    mh, fh);
	must(measured_config_parse(text, strlen(text), &f->mc), "measured config");
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->fc.app = "stats";
	if (coffer_random(f->fc.job, 16) != 0 || coffer_random(f->fc.session, 16) != 0 ||
	    coffer_random(f->fc.session_key, 32) != 0 ||
	    coffer_random(f->fc.output_key, 32) != 0 ||
	    coffer_random(f->fc.intermediate_key, 32) != 0 ||
	    coffer_random(f->fc.app_secret, 32) != 0)
		return -1;
	memcpy(f->fc.approved, W.worker_meas, 48);
	measured(f, W.coord_meas);
	if (coffer_tee_anchors_new_default(&f->anchors) != 0)
		return -1;
	f->measure[0] = W.worker_file;
	f->bo.sim_dir = W.sim_dir;
	f->bo.measure = f->measure;
	f->bo.n_measure = 1;
	f->t.request = fc_request;
	f->t.arg = &f->fc;
	f->s.t = &f->t;
	f->s.mc = &f->mc;
	f->s.anchors = f->anchors;
	f->s.at = coffer_tee_now();
	f->s.att.backend = COFFER_TEE_BACKEND_SIM;
	f->s.att.opts = &f->bo;
	memcpy(f->s.job, f->fc.job, 16);
	f->s.app_path = W.app_file;

	f->cfg.job = (char *)"qjob";
	f->cfg.app = W.app_file;
	f->cfg.app_kind = APP_KIND_PLUGIN;
	f->cfg.max_item_bytes = 4096;
	if (fake_store_new(&f->in, &f->fin) != 0 || fake_store_new(&f->out, &f->fout) != 0)
		return -1;
	fake_store_set(f->fin, "a/1.sealed", W.in_a1.data, W.in_a1.len);
	fake_store_set(f->fin, "a/2.sealed", W.in_a2.data, W.in_a2.len);
	fake_store_set(f->fin, "b/1.sealed", W.in_b1.data, W.in_b1.len);
	f->w.cfg = &f->cfg;
	f->w.in = f->in;
	f->w.out = f->out;
	f->w.prefix = "out/";
	coffer_buf_init_secret(&f->w.inbuf, 1 << 20);
	coffer_buf_init_secret(&f->w.outbuf, f->cfg.max_item_bytes);
	app_mode = APP_ECHO;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	app_close(f->w.app);
	conf_job_free(f->w.job);
	coffer_buf_release(&f->w.inbuf);
	coffer_buf_release(&f->w.outbuf);
	coffer_store_free(f->in);
	coffer_store_free(f->out);
	coffer_tee_anchors_free(f->anchors);
	free(f);
	return 0;
}

/* Start the job and load the app with the release's parameters. */
static void
start(struct fixture *f)
{
	must(conf_job_open(&f->cfg, &f->s, &f->w.job), "conf_job_open");
	f->w.job->proof_retry_ms = 400;
	must(app_open_def(&f->cfg, &capp, &f->w.app, NULL), "app");
	/* app_open_def gives init() cfg's parameters: the job's instead. */
	app_close(f->w.app);
	memcpy(f->cfg.params, f->w.job->params, f->w.job->nparams *
	    sizeof(*f->cfg.params));
	f->cfg.nparams = f->w.job->nparams;
	must(app_open_def(&f->cfg, &capp, &f->w.app, NULL), "app");
}

static struct item_result
run(struct fixture *f, const char *id)
{
	struct coffer_queue_item it = { (char *)id, 1, 0 };
	struct item_result res;

	assert_int_equal(worker_item_run(&f->w, &it, &res), 0);
	return res;
}

static void
expect(const struct item_result *res, enum item_outcome o, const char *needle)
{
	if (res->outcome != o)
		fail_msg("outcome %d, expected %d (error: %s)", res->outcome, o, res->err);
	if (needle != NULL && strstr(res->err, needle) == NULL)
		fail_msg("the error '%s' does not say '%s'", res->err, needle);
}

static void
expect_start_fails(struct fixture *f, int code, const char *needle)
{
	int r = conf_job_open(&f->cfg, &f->s, &f->w.job);

	if (r != code)
		fail_msg("expected %s, got %s: %s", coffer_strerror(code),
		    coffer_strerror(r), coffer_errdetail());
	assert_null(f->w.job);
	if (strstr(coffer_errdetail(), needle) == NULL)
		fail_msg("the detail '%s' does not say '%s'", coffer_errdetail(), needle);
}

/* The one output of id in the output store: its key and plaintext. */
static void
output_of(struct fixture *f, const char *id, const uint8_t key[32],
    struct coffer_buf *plain, char *okey)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	char want[300];

	snprintf(want, sizeof(want), "out/%s.", id);
	snprintf(okey, 300, "%s", want);
	{
		char hex[33];

		coffer_hex_encode(f->fc.last.attempt, 16, hex);
		snprintf(okey, 300, "out/%s.%s", id, hex);
	}
	must(coffer_store_get(f->out, okey, 1 << 20, &b), okey);
	coffer_buf_init_secret(plain, 1 << 20);
	must(coffer_sealed_open_mem(key, b.data, b.len, plain, NULL), "open output");
	coffer_buf_release(&b);
}

/* ---- Tests ---- */

static void
test_worker_confidential__items_are_opened_processed_sealed_and_proved(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	struct coffer_buf plain;
	uint8_t d[32];
	char okey[300];

	start(f);
	res = run(f, "a/2.sealed");
	expect(&res, ITEM_ACK, NULL);
	assert_string_equal(res.err, "");
	/* The proof: item 1 of the policy, its pinned digest, the stored
	 * output's digest and size, seq 0 of the session, from the TEE's
	 * attempt id. */
	assert_int_equal(f->fc.proofs, 1);
	assert_int_equal(f->fc.last.stage, COFFER_STAGE_MAP);
	assert_int_equal(f->fc.last.result, COFFER_RESULT_OK);
	assert_int_equal(f->fc.last.item, 1);
	assert_int_equal(f->fc.last.seq, 0);
	assert_memory_equal(f->fc.last.session, f->fc.session, 16);
	must(coffer_sha256(W.in_a2.data, W.in_a2.len, d), "digest");
	assert_memory_equal(f->fc.last.input_digest, d, 32);
	/* A map-only job: the output opens with the output key. */
	output_of(f, "a/2.sealed", f->fc.output_key, &plain, okey);
	assert_int_equal(plain.len, 9);
	assert_memory_equal(plain.data, "seen:a,2\n", 9);
	coffer_buf_release(&plain);
	assert_int_equal(f->fc.last.output_size, res.out_bytes);
	res = run(f, "b/1.sealed");
	expect(&res, ITEM_ACK, NULL);
	assert_int_equal(f->fc.last.item, 2);
	assert_int_equal(f->fc.last.seq, 1);
	/* One key release for the whole job, nothing after. */
	assert_int_equal(f->fc.nonces, 1);
	assert_int_equal(f->fc.releases, 1);
	assert_int_equal(fake_store_count(f->fout, "out/"), 2);
}

static void
test_worker_confidential__the_app_gets_its_parameters_from_the_release(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	struct coffer_buf plain;
	char okey[300], want[512], hex[65];

	/* What an operator might set is not what the app gets. */
	f->cfg.params[0] = (struct coffer_app_param){ "alpha", "0.5" };
	f->cfg.nparams = 1;
	start(f);
	app_mode = APP_PARAMS;
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_ACK, NULL);
	output_of(f, "a/1.sealed", f->fc.output_key, &plain, okey);
	coffer_hex_encode(f->fc.app_secret, 32, hex);
	snprintf(want, sizeof(want), "alpha=0.01;coffer.limit.min_rows=2;"
	    "coffer.app_secret=%s;", hex);
	assert_string_equal((const char *)plain.data, want);
	coffer_buf_release(&plain);
	/* Each owner's name, as the policy's identities give it. */
	assert_string_equal(f->w.job->owners[0], "hospital-a");
	assert_string_equal(f->w.job->owners[1], "hospital-b");
}

static void
test_worker_confidential__map_outputs_of_a_reduce_job_take_the_intermediate_key(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	struct coffer_buf plain, b = COFFER_BUF_INIT(1 << 20);
	char okey[300];

	f->fc.app = "stats-r";
	start(f);
	assert_int_equal(f->w.job->reduce, 1);
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_ACK, NULL);
	output_of(f, "a/1.sealed", f->fc.intermediate_key, &plain, okey);
	assert_memory_equal(plain.data, "seen:a,1\n", 9);
	coffer_buf_release(&plain);
	/* No recipient's key (the output key) opens a map output. */
	must(coffer_store_get(f->out, okey, 1 << 20, &b), "get");
	coffer_buf_init_secret(&plain, 1 << 20);
	assert_int_equal(coffer_sealed_open_mem(f->fc.output_key, b.data, b.len, &plain,
	    NULL), COFFER_E_WRONG_KEY);
	coffer_buf_release(&plain);
	coffer_buf_release(&b);
}

static void
test_worker_confidential__a_tampered_input_is_buried_unproved(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	struct coffer_buf t = COFFER_BUF_INIT(1 << 20);

	start(f);
	must(coffer_buf_put(&t, W.in_a1.data, W.in_a1.len), "copy");
	t.data[t.len - 3] ^= 1;
	fake_store_set(f->fin, "a/1.sealed", t.data, t.len);
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_BURY, "object 'a/1.sealed' is sha256:");
	expect(&res, ITEM_BURY, "not the sha256:");
	expect(&res, ITEM_BURY, "tampered with, rolled back to an older version, or"
	    " swapped");
	assert_int_equal(f->fc.proofs, 0);
	assert_int_equal(fake_store_count(f->fout, ""), 0);
	coffer_buf_release(&t);
}

static void
test_worker_confidential__an_older_sealed_version_is_refused(void **state)
{
	struct fixture *f = *state;
	struct item_result res;

	start(f);
	/* Authentic, under the right key, and not the version the owners
	 * pinned: only the digest tells. */
	fake_store_set(f->fin, "a/1.sealed", W.old_a1.data, W.old_a1.len);
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_BURY, "rolled back to an older version");
	/* Two owners' objects swapped: the same. */
	fake_store_set(f->fin, "a/2.sealed", W.in_b1.data, W.in_b1.len);
	res = run(f, "a/2.sealed");
	expect(&res, ITEM_BURY, "swapped");
	assert_int_equal(f->fc.proofs, 0);
	assert_int_equal(fake_store_count(f->fout, ""), 0);
}

static void
test_worker_confidential__an_item_the_policy_does_not_list_is_refused(void **state)
{
	struct fixture *f = *state;
	struct item_result res;

	start(f);
	fake_store_set(f->fin, "c/1.sealed", W.in_b1.data, W.in_b1.len);
	res = run(f, "c/1.sealed");
	expect(&res, ITEM_BURY, "'c/1.sealed' is not an input of app 'stats'");
	assert_int_equal(f->fc.proofs, 0);
}

static void
test_worker_confidential__an_app_failure_is_proved_and_the_coordinator_decides(void **state)
{
	struct fixture *f = *state;
	struct item_result res;

	start(f);
	app_mode = APP_FAIL;
	/* Below fail_after: retried. */
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_FAIL, "column missing in a/1.sealed");
	assert_int_equal(f->fc.last.result, COFFER_RESULT_FAILED);
	assert_int_equal(f->fc.last.error, (uint32_t)-COFFER_E_FORMAT);
	assert_int_equal(f->fc.last.output_size, 0);
	/* At fail_after: FAILED is the item's result; the item is acked and
	 * keeps its error for the log. */
	f->fc.commit_failed = 1;
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_ACK, "column missing");
	assert_int_equal(fake_store_count(f->fout, ""), 0);
	/* A later successful execution is a disagreement, acked all the
	 * same: the first committed result stands. */
	app_mode = APP_ECHO;
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_ACK, NULL);
}

static void
test_worker_confidential__refusals_bury_or_stop(void **state)
{
	struct fixture *f = *state;
	struct item_result res;

	start(f);
	f->fc.refuse_proofs = coffer_itemproof_reason_code("input.mismatch");
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_BURY, "input.mismatch");
	f->fc.refuse_proofs = coffer_itemproof_reason_code("policy.revoked");
	res = run(f, "a/2.sealed");
	expect(&res, ITEM_STOP, "policy.revoked");
	assert_non_null(strstr(f->w.job->stopped, "the job is over for this worker"));
	f->fc.refuse_proofs = coffer_itemproof_reason_code("proof.bad_mac");
	res = run(f, "b/1.sealed");
	expect(&res, ITEM_STOP, "a bug");
}

static void
test_worker_confidential__an_unanswered_proof_is_sent_again_unchanged(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	uint8_t first[COFFER_ITEMPROOF_LEN];

	start(f);
	/* The request fails twice, then is answered: the same bytes each
	 * time (so the coordinator counts it once, rule C1). */
	f->fc.fail_requests = 2;
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_ACK, NULL);
	assert_int_equal(f->fc.proof_requests, 3);
	assert_int_equal(f->fc.proofs, 1);
	memcpy(first, f->fc.last_proof, sizeof(first));
	/* Answers that do not verify (WA1) are not believed: sent again
	 * until the time runs out, then the item is failed and retried. */
	f->fc.bad_ack_mac = 1;
	res = run(f, "a/2.sealed");
	expect(&res, ITEM_FAIL, "reporting proof: the proof was not answered");
	assert_true(f->fc.proofs >= 3);
	assert_int_equal(f->fc.last.seq, 1);
	assert_int_equal(f->fc.last.item, 1);
}

static void
test_worker_confidential__a_coordinator_with_another_measurement_gets_nothing(void **state)
{
	struct fixture *f = *state;
	uint8_t other[48];

	memcpy(other, W.coord_meas, 48);
	other[0] ^= 0xff;
	measured(f, other);
	expect_start_fails(f, COFFER_E_POLICY, "CA5: the coordinator's measurement");
	/* Not even evidence was sent to it. */
	assert_int_equal(f->fc.nonces, 0);
	assert_int_equal(f->fc.releases, 0);
}

static void
test_worker_confidential__evidence_for_other_keys_is_refused(void **state)
{
	struct fixture *f = *state;

	/* A relay presenting its own keys with the real coordinator's
	 * evidence. */
	f->fc.present = &W.other_coord;
	expect_start_fails(f, COFFER_E_POLICY, "CA3");
	assert_int_equal(f->fc.nonces, 0);
}

static void
test_worker_confidential__an_unapproved_worker_gets_no_keys(void **state)
{
	struct fixture *f = *state;

	f->fc.approved[5] ^= 1;
	expect_start_fails(f, COFFER_E_POLICY, "measurement.unapproved");
	assert_int_equal(f->fc.releases, 1);
	f->fc.approved[5] ^= 1;
	f->fc.refuse_release = "policy.revoked";
	expect_start_fails(f, COFFER_E_POLICY, "policy.revoked");
}

static void
test_worker_confidential__answers_not_from_the_authenticated_coordinator_are_refused(void **state)
{
	struct fixture *f = *state;

	/* W2: wrapped from another coordinator's key. */
	f->fc.answer_as = &W.other_coord;
	expect_start_fails(f, COFFER_E_AUTH, "answer.key");
	f->fc.answer_as = NULL;
	/* W5: a policy text with another hash. */
	f->fc.serve_other_policy = 1;
	expect_start_fails(f, COFFER_E_AUTH, "W5");
	f->fc.serve_other_policy = 0;
	/* W6: another app file than the policy approves. */
	write_file(W.app_file, "app v2");
	expect_start_fails(f, COFFER_E_AUTH, "W6: the app file");
	write_file(W.app_file, "app v1");
	start(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_worker_confidential__items_are_opened_processed_sealed_and_proved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__the_app_gets_its_parameters_from_the_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__map_outputs_of_a_reduce_job_take_the_intermediate_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_tampered_input_is_buried_unproved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__an_older_sealed_version_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__an_item_the_policy_does_not_list_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__an_app_failure_is_proved_and_the_coordinator_decides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__refusals_bury_or_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__an_unanswered_proof_is_sent_again_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_coordinator_with_another_measurement_gets_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__evidence_for_other_keys_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__an_unapproved_worker_gets_no_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__answers_not_from_the_authenticated_coordinator_are_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
