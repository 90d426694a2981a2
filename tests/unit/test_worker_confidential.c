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
#include <fcntl.h>
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
#include "worker/keys.h"
#include "worker/shared.h"
#include "worker/worker.h"
#include "../support/fake_coord.h"
#include "../support/fake_store.h"
#include "../support/segv.h"

/* ---- The world: identities, keys, files, sealed inputs, a policy ---- */

struct world {
	char dir[256], sim_dir[300], coord_file[300], worker_file[300], app_file[300];
	uint8_t sim_fp[32];
	uint8_t coord_meas[48], worker_meas[48];
	struct coffer_identity coord, other_coord, owner_a, owner_b, analyst;
	uint8_t key_a[32], key_b[32], id_a[16], id_b[16];
	struct coffer_buf in_a1, in_a2, in_b1, old_a1;  /* sealed inputs */
	/* Streamed (doc/worker.md 9.4 BI1 to BI7): b/big.sealed, 10 chunks
	 * of 4 KiB; another sealing of other bytes of its size; and
	 * b/broken.sealed, pinned with a byte of its 5th chunk flipped. */
	struct coffer_buf big_b, old_big_b, broken_b;
	uint8_t big_plain[40000];
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
	{
		struct coffer_sealed_opts o = { 0, 4096, 0 };

		for (size_t i = 0; i < sizeof(W.big_plain); i++)
			W.big_plain[i] = (uint8_t)(i * 7 + i / 251);
		coffer_buf_init(&W.big_b, 1 << 20);
		coffer_buf_init(&W.old_big_b, 1 << 20);
		coffer_buf_init(&W.broken_b, 1 << 20);
		must(coffer_sealed_seal_mem(W.key_b, &o, W.big_plain,
		    sizeof(W.big_plain), &W.big_b, NULL), "seal");
		W.big_plain[0] ^= 1;
		must(coffer_sealed_seal_mem(W.key_b, &o, W.big_plain,
		    sizeof(W.big_plain), &W.old_big_b, NULL), "seal");
		W.big_plain[0] ^= 1;
		must(coffer_buf_put(&W.broken_b, W.big_b.data, W.big_b.len), "copy");
		W.broken_b.data[96 + 4 * (4096 + 16) + 100] ^= 1;
	}

	p = json_pack("{s:s, s:i, s:s, s:o, s:I, s:[{s:o, s:[{s:s, s:o, s:[o,o]}]},"
	    " {s:o, s:[{s:s, s:o, s:[o,o,o]}]}], s:[o,o], s:{s:i, s:[o]}, s:[o],"
	    " s:{s:i}}",
	    "type", "coffer-policy", "version", 1, "name", "worker-test",
	    "coordinator", id_json(&W.coord), "expires", (json_int_t)time(NULL) + 86400,
	    "owners",
	    "id", id_json(&W.owner_a), "datasets", "name", "a-data", "key_id",
	    hexj(W.id_a, 16), "objects", object_json("a/1.sealed", &W.in_a1),
	    object_json("a/2.sealed", &W.in_a2),
	    "id", id_json(&W.owner_b), "datasets", "name", "b-data", "key_id",
	    hexj(W.id_b, 16), "objects", object_json("b/1.sealed", &W.in_b1),
	    object_json("b/big.sealed", &W.big_b),
	    object_json("b/broken.sealed", &W.broken_b),
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
	coffer_buf_release(&W.big_b);
	coffer_buf_release(&W.old_big_b);
	coffer_buf_release(&W.broken_b);
	coffer_buf_release(&W.coord_evidence);
	coffer_policy_free(W.policy);
	free(W.policy_text);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", W.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- The worker side ---- */

enum app_mode { APP_ECHO, APP_FAIL, APP_PARAMS };
static enum app_mode app_mode;
static char app_params[1024];
static char app_owner[128];

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
	snprintf(app_owner, sizeof(app_owner), "%s",
	    COFFER_APP_ITEM_HAS(item, owner) && item->owner ? item->owner : "(none)");
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

/* A reduce stage: "<id>:<map output>" for each, in the order given. */
static char reduced[1024];
static size_t reducedlen;

static int
capp_reduce_add(void *state, const char *id, const uint8_t *in, size_t inlen,
    char *err, size_t errlen)
{
	(void)state;
	(void)err;
	(void)errlen;
	reducedlen += (size_t)snprintf(reduced + reducedlen, sizeof(reduced) -
	    reducedlen, "%s:%.*s", id, (int)inlen, (const char *)in);
	return 0;
}

static int
capp_reduce_finish(void *state, struct coffer_app_writer *out, char *err,
    size_t errlen)
{
	(void)state;
	(void)err;
	(void)errlen;
	return out->write(out, reduced, reducedlen);
}

/* A reduce that fails as the app (its own error code). */
static int reduce_fails;

static int
capp_reduce_finish_maybe(void *state, struct coffer_app_writer *out, char *err,
    size_t errlen)
{
	if (reduce_fails) {
		snprintf(err, errlen, "too few owners");
		return COFFER_E_INVAL;
	}
	return capp_reduce_finish(state, out, err, errlen);
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
	f->fc.id = &W.coord;
	f->fc.evidence = W.coord_evidence.data;
	f->fc.evidence_len = W.coord_evidence.len;
	f->fc.policy = W.policy;
	f->fc.app = "stats";
	f->fc.params = json_pack("{s:s}", "alpha", "0.01");
	f->fc.limits = json_pack("{s:i}", "min_rows", 2);
	f->fc.nkeys = 2;
	memcpy(f->fc.key_ids[0], W.id_a, 16);
	memcpy(f->fc.keys[0], W.key_a, 32);
	memcpy(f->fc.key_ids[1], W.id_b, 16);
	memcpy(f->fc.keys[1], W.key_b, 32);
	if (coffer_random(f->fc.job, 16) != 0 || fake_coord_init(&f->fc) != 0)
		return -1;
	measured(f, W.coord_meas);
	/* As the worker makes them for a sim coordinator: no roots. */
	if (coffer_tee_anchors_new_for(COFFER_TEE_SIM, &f->anchors) != 0)
		return -1;
	f->measure[0] = W.worker_file;
	f->bo.sim_dir = W.sim_dir;
	f->bo.measure = f->measure;
	f->bo.n_measure = 1;
	f->t.request = fake_coord_request;
	f->t.arg = &f->fc;
	f->s.t = &f->t;
	f->s.mc = &f->mc;
	f->s.anchors = f->anchors;
	f->s.at = coffer_tee_now();
	f->s.att.backend = COFFER_TEE_BACKEND_SIM;
	f->s.att.opts = &f->bo;
	memcpy(f->s.job, f->fc.job, 16);
	f->s.app_path = W.app_file;
	f->s.app_fd = -1;

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
	worker_bufs_init(&f->w, f->cfg.max_item_bytes);
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
	worker_bufs_release(&f->w);
	coffer_store_free(f->in);
	coffer_store_free(f->out);
	coffer_tee_anchors_free(f->anchors);
	coffer_buf_release(&f->fc.standby_evidence);
	json_decref(f->fc.params);
	json_decref(f->fc.limits);
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

/* The same with a reduce stage. */
static void
start_reduce(struct fixture *f)
{
	struct coffer_app a = capp;

	a.reduce_add = capp_reduce_add;
	a.reduce_finish = capp_reduce_finish_maybe;
	f->fc.app = "stats-r";
	must(conf_job_open(&f->cfg, &f->s, &f->w.job), "conf_job_open");
	f->w.job->proof_retry_ms = 400;
	must(app_open_def(&f->cfg, &a, &f->w.app, NULL), "app");
	reducedlen = 0;
	reduced[0] = '\0';
	reduce_fails = 0;
	f->cfg.reduce_key = (char *)"result";
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
	uint8_t d[32], out1[32], att1[16];
	char okey[300];

	start(f);
	res = run(f, "a/2.sealed");
	expect(&res, ITEM_ACK, NULL);
	assert_string_equal(res.err, "");
	/* The buffers kept for the next item hold nothing of this one: the
	 * opened input and the app's output are wiped, their memory kept. */
	assert_int_equal(f->w.plainbuf.len, 0);
	assert_int_equal(f->w.sealbuf.len, 0);
	assert_non_null(f->w.plainbuf.data);
	assert_null(memmem(f->w.plainbuf.data, 4, "a,2\n", 4));
	assert_null(memmem(f->w.outbuf.data, 9, "seen:a,2\n", 9));
	memcpy(out1, f->fc.last.output_digest, 32);
	memcpy(att1, f->fc.last.attempt, 16);
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
	/* A second execution of an item: another attempt, the same sealed
	 * output (doc/format/item-proof.md section 9), so the coordinator
	 * sees a duplicate, not a disagreement. */
	res = run(f, "a/2.sealed");
	expect(&res, ITEM_ACK, NULL);
	assert_int_equal(f->fc.last.item, 1);
	assert_memory_not_equal(f->fc.last.attempt, att1, 16);
	assert_memory_equal(f->fc.last.output_digest, out1, 32);
}

/* The stored output of item id (the last proof's) is the one-shot
 * construction's bytes: coffer_sealed_seal_mem_salted under key with the
 * salt of doc/format/item-proof.md section 9 over plaintext want. */
static void
expect_one_shot_output(struct fixture *f, const char *id, const uint8_t key[32],
    const char *want)
{
	struct coffer_buf got = COFFER_BUF_INIT(1 << 20), ref = COFFER_BUF_INIT(1 << 20);
	uint8_t d[32], salt[32];
	char okey[300], hex[33];

	coffer_hex_encode(f->fc.last.attempt, 16, hex);
	snprintf(okey, sizeof(okey), "out/%s.%s", id, hex);
	must(coffer_store_get(f->out, okey, 1 << 20, &got), okey);
	must(coffer_sha256(want, strlen(want), d), "sha256");
	must(coffer_itemproof_output_salt(key, f->w.job->job, COFFER_STAGE_MAP,
	    f->fc.last.item, d, salt), "salt");
	must(coffer_sealed_seal_mem_salted(key, NULL, salt, (const uint8_t *)want,
	    strlen(want), &ref, NULL), "seal");
	assert_int_equal(got.len, ref.len);
	assert_memory_equal(got.data, ref.data, ref.len);
	coffer_buf_release(&got);
	coffer_buf_release(&ref);
}

/* The contexts the runner keeps for the job's keys (doc/worker.md 9.4)
 * give the one-shot bytes item after item, also after an item refused
 * midway. */
static void
test_worker_confidential__kept_contexts_give_the_one_shot_bytes(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	struct coffer_buf t = COFFER_BUF_INIT(1 << 20);

	start(f);
	res = run(f, "a/2.sealed");
	expect(&res, ITEM_ACK, NULL);
	expect_one_shot_output(f, "a/2.sealed", f->fc.output_key, "seen:a,2\n");
	must(coffer_buf_put(&t, W.in_b1.data, W.in_b1.len), "copy");
	t.data[t.len - 1] ^= 1;
	fake_store_set(f->fin, "b/1.sealed", t.data, t.len);
	res = run(f, "b/1.sealed");
	expect(&res, ITEM_BURY, "tampered with");
	fake_store_set(f->fin, "b/1.sealed", W.in_b1.data, W.in_b1.len);
	for (int i = 0; i < 3; i++) {
		res = run(f, "b/1.sealed");
		expect(&res, ITEM_ACK, NULL);
		expect_one_shot_output(f, "b/1.sealed", f->fc.output_key,
		    "seen:b,1\n");
		res = run(f, "a/2.sealed");
		expect(&res, ITEM_ACK, NULL);
		expect_one_shot_output(f, "a/2.sealed", f->fc.output_key,
		    "seen:a,2\n");
	}
	coffer_buf_release(&t);
}

/* A big output sealed into a put in pieces (doc/worker.md 9.4 BO1), from
 * memory or read twice from a descriptor (9.5 HF4), is conf_seal_output's
 * bytes: empty, one byte, a whole chunk, chunks and a piece, and more
 * than the descriptor's first pass reads at once (256 KiB). */
static void
test_worker_confidential__an_output_sealed_in_pieces_is_the_held_bytes(void **state)
{
	static const size_t sizes[] = { 0, 1, 65536, 3 * 65536 + 5, 300001 };
	struct fixture *f = *state;
	struct coffer_store *ls = NULL;
	struct coffer_store_put *p;
	struct coffer_buf plain = COFFER_BUF_INIT(1 << 20);
	struct coffer_buf got = COFFER_BUF_INIT(1 << 21);
	struct coffer_buf ref = COFFER_BUF_INIT(1 << 21);
	struct conf_item ci;
	uint8_t *b;
	char dir[400], path[400];
	int fd;

	start(f);
	snprintf(dir, sizeof(dir), "%s/pieces", W.dir);
	must(coffer_store_local_new(dir, 1, &ls), "local store");
	snprintf(path, sizeof(path), "%s/output.bin", W.dir);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		coffer_buf_reset(&plain);
		must(coffer_buf_reserve(&plain, sizes[i], &b), "reserve");
		for (size_t k = 0; k < sizes[i]; k++)
			b[k] = (uint8_t)(k * 7 + i);
		coffer_buf_commit(&plain, sizes[i]);
		must(conf_item_init(&ci, f->w.job, "a/2.sealed", 1, 1 << 20), "init");
		must(conf_seal_output(&ci, &plain), "held");
		coffer_buf_reset(&ref);
		must(coffer_buf_put(&ref, ci.sealed, ci.sealedlen), "copy");
		/* From memory. */
		must(coffer_store_put_open(ls, "mem", &p), "put_open");
		must(conf_seal_output_put(&ci, &plain, p), "in pieces");
		must(coffer_store_put_commit(p), "commit");
		assert_int_equal(ci.sealedlen, ref.len);
		coffer_buf_reset(&got);
		must(coffer_store_get(ls, "mem", 1 << 21, &got), "get mem");
		assert_int_equal(got.len, ref.len);
		assert_memory_equal(got.data, ref.data, ref.len);
		/* From a descriptor. */
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, plain.data, plain.len, 0), (ssize_t)plain.len);
		must(coffer_store_put_open(ls, "fd", &p), "put_open");
		must(conf_seal_output_put_fd(&ci, fd, plain.len, p), "from fd");
		must(coffer_store_put_commit(p), "commit");
		close(fd);
		assert_int_equal(ci.sealedlen, ref.len);
		coffer_buf_reset(&got);
		must(coffer_store_get(ls, "fd", 1 << 21, &got), "get fd");
		assert_int_equal(got.len, ref.len);
		assert_memory_equal(got.data, ref.data, ref.len);
		conf_item_release(&ci);
	}
	coffer_store_free(ls);
	coffer_buf_release(&plain);
	coffer_buf_release(&got);
	coffer_buf_release(&ref);
}

/* Attempt ids come from a pool drawn 32 at a time: across refills every
 * item still gets its own. */
static void
test_worker_confidential__every_attempt_id_is_new(void **state)
{
	struct fixture *f = *state;
	uint8_t ids[70][16], zero[16] = { 0 };
	struct conf_item ci;

	start(f);
	for (int i = 0; i < 70; i++) {
		must(conf_item_init(&ci, f->w.job, "a/1.sealed", 1, 64), "init");
		memcpy(ids[i], ci.attempt_id, 16);
		conf_item_release(&ci);
		assert_memory_not_equal(ids[i], zero, 16);
		for (int k = 0; k < i; k++)
			assert_memory_not_equal(ids[i], ids[k], 16);
	}
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
	assert_string_equal(app_owner, "hospital-a");
	/* The policy's, whatever an operator's owner map says. */
	f->cfg.owners[0].prefix = (char *)"b/";
	f->cfg.owners[0].name = (char *)"someone-else";
	f->cfg.nowners = 1;
	app_mode = APP_ECHO;
	res = run(f, "b/1.sealed");
	expect(&res, ITEM_ACK, NULL);
	assert_string_equal(app_owner, "hospital-b");
	f->cfg.nowners = 0;
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
test_worker_confidential__a_tampered_input_is_buried_proved_refused(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	struct coffer_buf t = COFFER_BUF_INIT(1 << 20);
	uint8_t d[32];

	start(f);
	must(coffer_buf_put(&t, W.in_a1.data, W.in_a1.len), "copy");
	t.data[t.len - 3] ^= 1;
	fake_store_set(f->fin, "a/1.sealed", t.data, t.len);
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_BURY, "object 'a/1.sealed' is sha256:");
	expect(&res, ITEM_BURY, "not the sha256:");
	expect(&res, ITEM_BURY, "tampered with, rolled back to an older version, or"
	    " swapped");
	/* Proved FAILED, input refused, with the digest found, so that the
	 * receipt names it; no output. */
	assert_int_equal(f->fc.proofs, 1);
	assert_int_equal(f->fc.last.result, COFFER_RESULT_FAILED);
	assert_int_equal(f->fc.last.error, COFFER_ITEMPROOF_ERROR_INPUT_REFUSED);
	assert_int_equal(f->fc.last.output_size, 0);
	must(coffer_sha256(t.data, t.len, d), "sha256");
	assert_memory_equal(f->fc.last.input_digest, d, 32);
	assert_true(f->fc.ledger[COFFER_STAGE_MAP][f->fc.last.item % 64].have);
	assert_int_equal(fake_store_count(f->fout, ""), 0);
	/* Until the coordinator has it, the item comes back. */
	f->fc.fail_requests = 100;
	f->w.job->proof_retry_ms = 0;
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_FAIL, "reporting the refusal");
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
	assert_int_equal(f->fc.proofs, 2);
	assert_int_equal(fake_store_count(f->fout, ""), 0);
}

/* b/big.sealed (or what the store holds under its name) in a file, open
 * for a stream. */
static int
big_fd(const struct coffer_buf *b, char *path, size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, "%s/big.sealed", W.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, b->data, b->len, 0), (ssize_t)b->len);
	return fd;
}

/* The plaintext of a stream until it ends or fails: the bytes in got,
 * the failure (or 0) returned. */
static int
drain(struct conf_item *ci, uint8_t *got, size_t *n)
{
	const uint8_t *p;
	size_t k;
	int r;

	*n = 0;
	while (*n < ci->plainlen) {
		if ((r = conf_stream_next(ci, &p, &k)) != 0)
			return r;
		assert_true(k > 0 && *n + k <= ci->plainlen);
		memcpy(got + *n, p, k);
		*n += k;
	}
	return 0;
}

static void
test_worker_confidential__a_big_input_streams_only_the_pinned_plaintext(void **state)
{
	struct fixture *f = *state;
	struct conf_item ci;
	static uint8_t got[sizeof(W.big_plain)];
	const uint8_t *p;
	char path[400];
	size_t n, whole = 4096 + 16;
	int fd;

	start(f);
	/* BI2 to BI4: the pin, then every chunk verified, in order. */
	fd = big_fd(&W.big_b, path, sizeof(path));
	must(conf_item_init(&ci, f->w.job, "b/big.sealed", 1, 1 << 20), "init");
	must(conf_stream_open(&ci, fd, W.big_b.len), "stream");
	assert_int_equal(ci.plainlen, sizeof(W.big_plain));
	assert_string_equal(ci.owner, f->w.job->owners[1]);
	must(drain(&ci, got, &n), "drain");
	assert_memory_equal(got, W.big_plain, sizeof(W.big_plain));
	assert_int_equal(conf_stream_next(&ci, &p, &n), COFFER_E_STATE);
	conf_item_release(&ci);

	/* BI2: an older sealing in its place is refused before anything is
	 * decrypted, as a small input is. */
	fd = big_fd(&W.old_big_b, path, sizeof(path));
	must(conf_item_init(&ci, f->w.job, "b/big.sealed", 1, 1 << 20), "init");
	assert_int_equal(conf_stream_open(&ci, fd, W.old_big_b.len), COFFER_E_AUTH);
	assert_true(ci.input_refused);
	assert_non_null(strstr(coffer_errdetail(), "rolled back"));
	conf_item_release(&ci);

	/* BI5, BI6: the object changed between the passes, chunk 3 taken
	 * from the older sealing: the chunks before it come out, then the
	 * stream fails (retry), the changed chunk never released. */
	fd = big_fd(&W.big_b, path, sizeof(path));
	must(conf_item_init(&ci, f->w.job, "b/big.sealed", 1, 1 << 20), "init");
	must(conf_stream_open(&ci, fd, W.big_b.len), "stream");
	assert_int_equal(pwrite(fd, W.old_big_b.data + 96 + 3 * whole, whole,
	    (off_t)(96 + 3 * whole)), (ssize_t)whole);
	assert_int_equal(drain(&ci, got, &n), COFFER_E_IO);
	assert_int_equal(n, 3 * 4096);
	assert_non_null(strstr(coffer_errdetail(), "changed while it was read"));
	assert_int_equal(conf_stream_failed(&ci), COFFER_E_IO);
	assert_int_equal(conf_stream_next(&ci, &p, &n), COFFER_E_STATE);
	conf_item_release(&ci);

	/* The same with the whole older sealing written over it: its first
	 * chunk does not verify under the pinned header's file key. */
	fd = big_fd(&W.big_b, path, sizeof(path));
	must(conf_item_init(&ci, f->w.job, "b/big.sealed", 1, 1 << 20), "init");
	must(conf_stream_open(&ci, fd, W.big_b.len), "stream");
	assert_int_equal(pwrite(fd, W.old_big_b.data, W.old_big_b.len, 0),
	    (ssize_t)W.old_big_b.len);
	assert_int_equal(drain(&ci, got, &n), COFFER_E_IO);
	assert_int_equal(n, 0);
	conf_item_release(&ci);

	/* Truncated between the passes: a short read is a change. */
	fd = big_fd(&W.big_b, path, sizeof(path));
	must(conf_item_init(&ci, f->w.job, "b/big.sealed", 1, 1 << 20), "init");
	must(conf_stream_open(&ci, fd, W.big_b.len), "stream");
	assert_int_equal(ftruncate(fd, (off_t)(W.big_b.len / 2)), 0);
	assert_int_equal(drain(&ci, got, &n), COFFER_E_IO);
	assert_non_null(strstr(coffer_errdetail(), "shorter"));
	conf_item_release(&ci);

	/* A change in the last chunk: the second digest is not the pin, and
	 * the piece that ends the plaintext is never released (BI4). */
	fd = big_fd(&W.big_b, path, sizeof(path));
	must(conf_item_init(&ci, f->w.job, "b/big.sealed", 1, 1 << 20), "init");
	must(conf_stream_open(&ci, fd, W.big_b.len), "stream");
	{
		/* A byte that differs from the one there (writing "x" over a
		 * random byte left it unchanged one time in 256). */
		unsigned char x = W.big_b.data[W.big_b.len - 20] ^ 0x01;

		assert_int_equal(pwrite(fd, &x, 1, (off_t)(W.big_b.len - 20)), 1);
	}
	assert_int_equal(drain(&ci, got, &n), COFFER_E_IO);
	assert_int_equal(n, 9 * 4096);
	assert_non_null(strstr(coffer_errdetail(), "no longer the pin"));
	conf_item_release(&ci);

	/* BI6: the pinned object itself does not open at its 5th chunk:
	 * dead-lettered (COFFER_E_AUTH), not retried. */
	fd = big_fd(&W.broken_b, path, sizeof(path));
	must(conf_item_init(&ci, f->w.job, "b/broken.sealed", 1, 1 << 20), "init");
	must(conf_stream_open(&ci, fd, W.broken_b.len), "stream");
	assert_int_equal(drain(&ci, got, &n), COFFER_E_AUTH);
	assert_int_equal(n, 4 * 4096);
	assert_non_null(strstr(coffer_errdetail(), "is the pinned one but does not open"));
	conf_item_release(&ci);
	unlink(path);
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

/* A batch of the policy's three items, run through steps 1 to 6. */
static void
run_batch(struct fixture *f, struct item_result *res)
{
	struct coffer_queue_item its[3] = { { (char *)"a/1.sealed", 1, 0 },
		{ (char *)"a/2.sealed", 1, 0 }, { (char *)"b/1.sealed", 1, 0 } };
	int64_t ms[3];

	for (int i = 0; i < 3; i++)
		shared_item(f->w.sh, i, its[i].id, 1);
	assert_int_equal(worker_batch_run(&f->w, its, res, ms, 3), 0);
}

static int
slot_phase(struct fixture *f, int i)
{
	struct worker_shared *c = malloc(sizeof(*c));
	int phase;

	assert_non_null(c);
	assert_int_equal(shared_read(f->w.sh, c), 0);
	assert_true(shared_valid(c));
	phase = c->slot[i].phase;
	free(c);
	return phase;
}

static void
test_worker_confidential__a_batch_is_proved_in_one_request_each_answer_deciding(void **state)
{
	struct fixture *f = *state;
	const struct fake_coord_answer mix[] = {
		{ COFFER_ACK_COMMITTED, 0 }, { COFFER_ACK_FAILURE, 0 },
		{ COFFER_ACK_REFUSED, coffer_itemproof_reason_code("input.mismatch") },
	}, stop[] = {
		{ COFFER_ACK_DUPLICATE, 0 },
		{ COFFER_ACK_REFUSED, coffer_itemproof_reason_code("policy.revoked") },
		{ COFFER_ACK_DISAGREEMENT, 0 },
	};
	struct item_result res[3];

	start(f);
	assert_non_null(f->w.sh = shared_new());
	/* Committed, failure, refused: one request of three proofs, in slot
	 * order with consecutive seqs; each answer decides for its item. */
	f->fc.answers = mix;
	f->fc.nanswers = 3;
	run_batch(f, res);
	assert_int_equal(f->fc.proof_requests, 1);
	assert_int_equal(f->fc.last_batch, 3);
	assert_int_equal(f->fc.proofs, 3);
	assert_int_equal(f->fc.last.seq, 2);
	assert_int_equal(f->fc.last.item, 2);
	expect(&res[0], ITEM_ACK, NULL);
	assert_string_equal(res[0].err, "");
	expect(&res[1], ITEM_FAIL, NULL);
	expect(&res[2], ITEM_BURY, "input.mismatch");
	/* Only the committed one shows STORED: a runner dying now has it
	 * acked by its supervisor, the others failed. */
	assert_int_equal(slot_phase(f, 0), PHASE_STORED);
	assert_int_equal(slot_phase(f, 1), PHASE_STORE);
	assert_int_equal(slot_phase(f, 2), PHASE_STORE);
	/* A refusal that ends the job for this worker stops it at that
	 * item; the others keep their own answers. */
	f->fc.answers = stop;
	f->fc.nanswers = 3;
	run_batch(f, res);
	assert_int_equal(f->fc.proof_requests, 2);
	assert_int_equal(f->fc.last.seq, 5);
	expect(&res[0], ITEM_ACK, NULL);
	expect(&res[1], ITEM_STOP, "policy.revoked");
	expect(&res[2], ITEM_ACK, NULL);
	assert_non_null(strstr(f->w.job->stopped, "the job is over for this worker"));
	/* No answer at all: every item of the batch is failed, its proof
	 * sent again unchanged until the time runs out. */
	f->fc.fail_requests = 1000;
	run_batch(f, res);
	for (int i = 0; i < 3; i++) {
		expect(&res[i], ITEM_FAIL, "reporting proof: the proof was not answered");
		assert_int_equal(slot_phase(f, i), PHASE_STORE);
	}
	assert_true(f->fc.proof_requests >= 4);
	shared_free(f->w.sh);
	f->w.sh = NULL;
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
	/* Nothing but the job id (the nonce request, key-release.md N2),
	 * not even evidence, was sent to it. */
	assert_int_equal(f->fc.nonces, 1);
	assert_int_equal(f->fc.releases, 0);
}

/* CA4: a coordinator of another TEE type than the pinned one, whose
 * evidence the anchors of the pinned type cannot verify, is named so
 * (refused for good), not CA3. */
static void
test_worker_confidential__a_coordinator_in_another_tee_type_gets_nothing(void **state)
{
	struct fixture *f = *state;
	char text[1024], mh[481];

	memset(mh, 'a', 480);
	mh[480] = '\0';
	snprintf(text, sizeof(text), "{\"type\": \"coffer-worker-config\", "
	    "\"version\": 1, \"coordinator\": {\"tee\": \"tdx\", \"measurement\": "
	    "\"%s\", \"verification\": {\"version\": 1}}}", mh);
	must(measured_config_parse(text, strlen(text), &f->mc), "measured config");
	expect_start_fails(f, COFFER_E_POLICY, "CA4: the coordinator runs in sim");
	assert_true(conf_refused_for_good(COFFER_E_POLICY, coffer_errdetail()));
	assert_int_equal(f->fc.nonces, 1);
	assert_int_equal(f->fc.releases, 0);
}

/* MC4: a TDX coordinator is pinned by MRTD || RTMR0..3 (policy.md 3.3),
 * the value `coffer coordinator verify --expect` pins: MRTD alone
 * measures only the TD firmware, which boots any kernel and program. */
static void
test_worker_confidential__a_tdx_coordinator_is_pinned_by_mrtd_and_rtmrs(void **state)
{
	struct measured_config mc;
	struct coffer_tee_claims c;
	char text[1024], mh[481];

	(void)state;
	memset(mh, 'a', 480);
	mh[480] = '\0';
	snprintf(text, sizeof(text), "{\"type\": \"coffer-worker-config\", "
	    "\"version\": 1, \"coordinator\": {\"tee\": \"tdx\", \"measurement\": "
	    "\"%s\", \"verification\": {\"version\": 1}}}", mh);
	assert_int_equal(measured_config_parse(text, strlen(text), &mc), 0);
	/* CA5: the same firmware booting another kernel is not it. */
	memset(&c, 0, sizeof(c));
	c.tee = COFFER_TEE_TDX;
	memset(c.tdx.mrtd, 0xaa, 48);
	memset(c.tdx.rtmr, 0xaa, sizeof(c.tdx.rtmr));
	assert_int_equal(measured_coordinator_check(&mc, &c), 0);
	c.tdx.rtmr[2][47] ^= 1;
	assert_int_equal(measured_coordinator_check(&mc, &c), COFFER_E_POLICY);
	mh[96] = '\0'; /* MRTD alone */
	snprintf(text, sizeof(text), "{\"type\": \"coffer-worker-config\", "
	    "\"version\": 1, \"coordinator\": {\"tee\": \"tdx\", \"measurement\": "
	    "\"%s\", \"verification\": {\"version\": 1}}}", mh);
	assert_int_equal(measured_config_parse(text, strlen(text), &mc),
	    COFFER_E_FORMAT);
}

static void
test_worker_confidential__evidence_for_other_keys_is_refused(void **state)
{
	struct fixture *f = *state;

	/* A relay presenting its own keys with the real coordinator's
	 * evidence. */
	f->fc.present = &W.other_coord;
	expect_start_fails(f, COFFER_E_POLICY, "CA3");
	assert_int_equal(f->fc.releases, 0);
}

/* key-release.md 6.2 N3: a nonce answer with a member missing or of
 * another type is refused whole, before anything is sent (no release):
 * here `expires`, the one member the worker has no other use for. Review
 * of round five (doc/review-2026-12.md), finding 13. */
static void
test_worker_confidential__a_nonce_answer_without_a_member_is_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "", "\"expires\": \"soon\", ",
	    "\"expires\": -1, " };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f->fc.expires_member = bad[i];
		expect_start_fails(f, COFFER_E_FORMAT, "expires");
		assert_int_equal(f->fc.releases, 0);
	}
	f->fc.expires_member = NULL;
	start(f);
}

/* key-release.md 6.2 N3: the answer's frame. No LF after the head, or
 * other than exactly policy_len bytes of policy after it (one more, one
 * less, a policy_len of 0 or over 1 MiB), refuses the whole answer
 * before anything is sent. Review of round six. */
static void
test_worker_confidential__a_nonce_answer_of_another_frame_is_refused(void **state)
{
	struct fixture *f = *state;
	const long len = (long)f->fc.policy->jcs.len;
	const long delta[] = { 1, -1, -len, ((long)1 << 20) + 1 - len };

	f->fc.nonce_no_lf = 1;
	expect_start_fails(f, COFFER_E_FORMAT, "no line feed");
	assert_int_equal(f->fc.releases, 0);
	f->fc.nonce_no_lf = 0;
	for (size_t i = 0; i < sizeof(delta) / sizeof(delta[0]); i++) {
		f->fc.policy_len_delta = delta[i];
		expect_start_fails(f, COFFER_E_FORMAT, "policy_len");
		assert_int_equal(f->fc.releases, 0);
	}
	f->fc.policy_len_delta = 0;
	start(f);
}

/* Undo start(): the app (whose parameters are the job's) and the job. */
static void
stop_job(struct fixture *f)
{
	app_close(f->w.app);
	f->w.app = NULL;
	f->cfg.nparams = 0;
	conf_job_free(f->w.job);
	f->w.job = NULL;
}

/* doc/worker.md 9.3: a coordinator that gives no answer at all (refused,
 * reset) is tried again, the whole start, within the bound; one that
 * answers is not, not even with a refusal. */
static void
test_worker_confidential__a_coordinator_briefly_down_is_waited_for(void **state)
{
	struct fixture *f = *state;

	/* Down for three connections: the fourth start gets its keys. */
	f->s.retry_ms = 5000;
	f->fc.refuse_connections = 3;
	start(f);
	assert_int_equal(f->fc.refuse_connections, 0);
	assert_int_equal(f->fc.nonces, 1);
	assert_int_equal(f->fc.releases, 1);
	stop_job(f);
	/* Down between the nonce and the release: the start begins again
	 * from a new nonce. */
	f->fc.nonces = f->fc.releases = 0;
	f->fc.refuse_after = 1;
	f->fc.refuse_connections = 1;
	start(f);
	assert_int_equal(f->fc.nonces, 2);
	assert_int_equal(f->fc.releases, 1);
	stop_job(f);
	/* Down for longer than the bound (150 ms: 50 + 100 of waits). */
	f->s.retry_ms = 150;
	f->fc.refuse_connections = 1000;
	expect_start_fails(f, COFFER_E_CONNECT, "connection refused");
	/* One try, and at most two more (the second fits only if the
	 * first took less than 50 ms): not a thousand. */
	assert_in_range(1000 - f->fc.refuse_connections, 1, 3);
	/* A refusal is an answer: never tried again. */
	f->s.retry_ms = 5000;
	f->fc.refuse_connections = 0;
	f->fc.nonces = f->fc.releases = 0;
	f->fc.refuse_release = "keys.missing";
	expect_start_fails(f, COFFER_E_POLICY, "keys.missing");
	assert_int_equal(f->fc.nonces, 1);
	assert_int_equal(f->fc.releases, 1);
}

static void
test_worker_confidential__an_unapproved_worker_gets_no_keys(void **state)
{
	struct fixture *f = *state;

	char other[320];

	/* A worker built otherwise: its measurement is not the policy's. */
	snprintf(other, sizeof(other), "%s/worker2.bin", W.dir);
	write_file(other, "worker v2");
	f->measure[0] = other;
	expect_start_fails(f, COFFER_E_POLICY, "measurement.unapproved");
	assert_int_equal(f->fc.releases, 1);
	f->measure[0] = W.worker_file;
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

static void
test_worker_confidential__reduce_takes_the_committed_map_outputs_and_proves_its_own(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20), plain;
	char key[COFFER_STORE_KEY_MAX + 2], err[WORKER_ERR_MAX];
	size_t n = 0;
	uint32_t app_error = 1;

	start_reduce(f);
	res = run(f, "b/1.sealed");
	expect(&res, ITEM_ACK, NULL);
	res = run(f, "a/2.sealed");
	expect(&res, ITEM_ACK, NULL);
	/* a/1 has no result: ABANDONED, left out. The map stage closes
	 * after two answers of stage.open: waited for, each request asking
	 * the coordinator to hold it (item-proof.md 7.2, LW1). */
	f->fc.open_leaves = 2;
	assert_int_equal(conf_reduce(&f->w, &n, key, &app_error, err, sizeof(err)), 0);
	assert_int_equal(f->fc.leaves_requests, 3);
	assert_string_equal(f->fc.leaves_query, "?wait=2");
	assert_int_equal(n, 2);
	assert_int_equal(app_error, 0);
	assert_memory_equal(key, "result.", 7);
	/* In item-id order; sealed under the output key (the recipients'). */
	must(coffer_store_get(f->out, key, 1 << 20, &b), key);
	coffer_buf_init_secret(&plain, 1 << 20);
	must(coffer_sealed_open_mem(f->fc.output_key, b.data, b.len, &plain, NULL),
	    "open the reduce output");
	assert_string_equal((const char *)plain.data,
	    "a/2.sealed:seen:a,2\nb/1.sealed:seen:b,1\n");
	/* Proved as the reduce stage, over the map results' root. */
	assert_int_equal(f->fc.last.stage, COFFER_STAGE_REDUCE);
	assert_int_equal(f->fc.last.item, 0);
	assert_memory_equal(f->fc.last.input_digest, f->fc.map_root, 32);
	assert_int_equal(f->fc.last.output_size, b.len);
	coffer_buf_release(&plain);
	coffer_buf_release(&b);
}

static void
test_worker_confidential__reduce_refuses_a_map_output_other_than_the_committed(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	char key[COFFER_STORE_KEY_MAX + 2], err[WORKER_ERR_MAX], a2[300], hex[33];
	size_t n = 0;
	uint32_t app_error;
	volatile int stop = 0;
	int proofs;

	start_reduce(f);
	res = run(f, "a/2.sealed");
	expect(&res, ITEM_ACK, NULL);
	coffer_hex_encode(f->fc.last.attempt, 16, hex);
	snprintf(a2, sizeof(a2), "out/a/2.sealed.%s", hex);
	res = run(f, "b/1.sealed");
	expect(&res, ITEM_ACK, NULL);
	/* The cloud puts b's (authentic, sealed) output under a's name. */
	coffer_hex_encode(f->fc.last.attempt, 16, hex);
	snprintf(key, sizeof(key), "out/b/1.sealed.%s", hex);
	must(coffer_store_get(f->out, key, 1 << 20, &b), key);
	fake_store_set(f->fout, a2, b.data, b.len);
	proofs = f->fc.proofs;
	assert_int_not_equal(conf_reduce(&f->w, &n, key, &app_error, err, sizeof(err)), 0);
	if (strstr(err, "is not the one the coordinator committed") == NULL)
		fail_msg("%s", err);
	assert_int_equal(f->fc.proofs, proofs);
	/* Another refusal of the map results ends the run, named. */
	f->fc.refuse_leaves = "job.unknown";
	assert_int_not_equal(conf_reduce(&f->w, &n, key, &app_error, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "job.unknown"));
	/* Before the map stage is closed, nothing but the wait, which a
	 * stop ends (doc/worker.md 9.6). */
	f->fc.refuse_leaves = "stage.open";
	stop = 1;
	f->w.job->stop = &stop;
	assert_int_not_equal(conf_reduce(&f->w, &n, key, &app_error, err, sizeof(err)), 0);
	if (strstr(err, "stopped while waiting for the map stage to close") == NULL)
		fail_msg("%s", err);
	assert_int_equal(f->fc.proofs, proofs);
	coffer_buf_release(&b);
}

static void
test_worker_confidential__a_reduce_the_app_fails_is_proved_failed(void **state)
{
	struct fixture *f = *state;
	struct item_result res;
	char key[COFFER_STORE_KEY_MAX + 2], err[WORKER_ERR_MAX];
	size_t n = 0;
	uint32_t app_error = 0;

	start_reduce(f);
	res = run(f, "b/1.sealed");
	expect(&res, ITEM_ACK, NULL);
	reduce_fails = 1;
	/* Below fail_after: proved, the coordinator waits for another attempt. */
	assert_int_not_equal(conf_reduce(&f->w, &n, key, &app_error, err,
	    sizeof(err)), 0);
	assert_int_equal(app_error, (uint32_t)-(int64_t)COFFER_E_INVAL);
	if (strstr(err, "too few owners") == NULL || strstr(err, "another attempt") == NULL)
		fail_msg("%s", err);
	assert_int_equal(f->fc.last.stage, COFFER_STAGE_REDUCE);
	assert_int_equal(f->fc.last.result, COFFER_RESULT_FAILED);
	assert_int_equal(f->fc.last.error, app_error);
	assert_memory_equal(f->fc.last.input_digest, f->fc.map_root, 32);
	/* At fail_after: the stage's committed result, and the run is over. */
	f->fc.commit_failed = 1;
	assert_int_equal(conf_reduce(&f->w, &n, key, &app_error, err, sizeof(err)), 0);
	if (strstr(err, "too few owners") == NULL || strstr(err, "proved FAILED") == NULL)
		fail_msg("%s", err);
	assert_int_equal(f->fc.last.result, COFFER_RESULT_FAILED);
	assert_true(f->fc.ledger[COFFER_STAGE_REDUCE][0].have);
	assert_int_equal(f->fc.ledger[COFFER_STAGE_REDUCE][0].p.result,
	    COFFER_RESULT_FAILED);
}

/* Which start failures no restart changes (doc/worker.md 9.3). */
static void
test_worker_confidential__refusals_for_good_are_told_from_transient_ones(void **state)
{
	(void)state;
	assert_true(conf_refused_for_good(COFFER_E_POLICY,
	    "measurement.unapproved: key release: sim measurement x"));
	assert_true(conf_refused_for_good(COFFER_E_POLICY, "policy.revoked: key release: y"));
	assert_true(conf_refused_for_good(COFFER_E_POLICY, "CA5: the coordinator's"));
	assert_true(conf_refused_for_good(COFFER_E_AUTH, "W6: the app file"));
	assert_false(conf_refused_for_good(COFFER_E_POLICY, "keys.missing: key release: z"));
	assert_false(conf_refused_for_good(COFFER_E_POLICY, "coordinator.rolled_back: a"));
	assert_false(conf_refused_for_good(COFFER_E_POLICY, "measurement.unapprovedx: a"));
	assert_false(conf_refused_for_good(COFFER_E_CONNECT, "measurement.unapproved: a"));
	assert_false(conf_refused_for_good(COFFER_E_PROTO, "key release: HTTP 500"));
}

/* A poison item does not take its batch-mates down (doc/worker.md 9.5,
 * HB5): the plugin, in its host, crashes on the 2nd of 3 items of one
 * exchange (then hangs on it); the 1st and 3rd are stored and proved,
 * the 2nd alone fails with its own message, unproved. */
static void
test_worker_confidential__a_poison_item_in_a_batch_fails_alone(void **state)
{
	struct fixture *f = *state;
	struct coffer_app_param crash[] = { { "crash", "a/2.sealed" } };
	struct coffer_app_param hang[] = { { "hang", "a/2.sealed" } };
	struct item_result *res = f->w.res;
	const char *b = getenv("COFFER_BUILD");
	char plugin[512];
	int fd;

	assert_int_equal(test_segv_stays_a_signal(), 0);
	snprintf(plugin, sizeof(plugin), "%s/apps/fault.so", b ? b : "build");
	assert_true((fd = open(plugin, O_RDONLY | O_CLOEXEC)) >= 0);
	start(f);
	for (int t = 0; t < 2; t++) {
		app_close(f->w.app);
		f->cfg.item_timeout_ms = t == 0 ? 20000 : 300;
		must(app_open_isolated(&f->cfg, fd, NULL, t == 0 ? crash : hang, 1,
		    &f->w.app, NULL), "app host");
		assert_true(app_batch_room(f->w.app) > 0);
		f->fc.proofs = 0;
		run_batch(f, res);
		expect(&res[0], ITEM_ACK, NULL);
		expect(&res[1], ITEM_FAIL, t == 0 ? "app crashed: killed by signal 11" :
		    "app timed out after 300 ms (killed)");
		expect(&res[2], ITEM_ACK, NULL);
		assert_true(res[0].out_bytes > 0 && res[2].out_bytes > 0);
		assert_int_equal(res[1].prove, PROVE_NONE);
		assert_int_equal(f->fc.proofs, 2);
	}
	assert_int_equal(fake_store_count(f->fout, "out/a/1.sealed."), 2);
	assert_int_equal(fake_store_count(f->fout, "out/a/2.sealed."), 0);
	assert_int_equal(fake_store_count(f->fout, "out/b/1.sealed."), 2);
	app_close(f->w.app);
	f->w.app = NULL;
	close(fd);
}

/* doc/worker.md 9.1: the buffers that hold plaintext are secret (wiped
 * between items), in either kind of job; in a confidential one the stored
 * input and the sealed output, ciphertext only, are not. */
static void
test_worker_confidential__plaintext_buffers_are_secret_the_sealed_ones_not(void **state)
{
	struct worker_config cfg;
	struct worker w;

	(void)state;
	for (int conf = 0; conf < 2; conf++) {
		memset(&cfg, 0, sizeof(cfg));
		memset(&w, 0, sizeof(w));
		cfg.coordinator = conf ? (char *)"http://127.0.0.1:1" : NULL;
		w.cfg = &cfg;
		worker_bufs_init(&w, 4096);
		assert_int_equal(w.inbuf.secret, !conf);
		assert_int_equal(w.outbuf.secret, 1);
		assert_int_equal(w.plainbuf.secret, 1);
		assert_int_equal(w.sealbuf.secret, 0);
		worker_bufs_release(&w);
	}
}

/* ---- Standby and bind (doc/worker.md 9.9, key-release.md 6.7) ---- */

/* A standby session with the fake, as conf_standby_start makes it. */
static struct conf_standby *
standby_session(struct fixture *f)
{
	struct conf_standby *sb = calloc(1, sizeof(*sb));
	struct coord_hello h;

	assert_non_null(sb);
	assert_non_null(sb->keys = keys_new(0));
	must(coord_standby_hello(&f->t, &f->mc, f->anchors, NULL,
	    coffer_tee_now(), &h), "standby hello");
	assert_int_equal(h.policy.len, 0);
	must(coord_standby(&f->t, &h, &f->s.att, sb->id,
	    sb->keys->standby_secret), "standby");
	sb->peer = h.peer;
	coord_hello_clear(&h);
	return sb;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static void
test_worker_confidential__a_bound_standby_runs_the_job_with_no_release(void **state)
{
	struct fixture *f = *state;
	struct conf_standby *sb = standby_session(f);
	struct item_result res;

	assert_int_equal(f->fc.standbys, 1);
	assert_memory_equal(sb->id, f->fc.standby_id, 16);
	/* WS2: S is the coordinator's, unwrapped from its key. */
	assert_memory_equal(sb->keys->standby_secret, f->fc.standby_secret, 64);
	f->s.standby = sb;
	start(f);
	assert_int_equal(f->w.job->warm, 1);
	assert_int_equal(f->fc.binds, 1);
	assert_int_equal(f->fc.nonces, 0);
	assert_int_equal(f->fc.releases, 0);
	/* Single use: S is wiped once the answer is open. */
	assert_true(all_zero(sb->keys->standby_secret, 64));
	/* From here on exactly a cold worker's path: the session's proofs. */
	res = run(f, "a/1.sealed");
	expect(&res, ITEM_ACK, NULL);
	assert_int_equal(f->fc.proofs, 1);
	assert_memory_equal(f->fc.last.session, f->fc.session, 16);
	conf_standby_free(sb);
}

static void
test_worker_confidential__a_forgotten_or_refused_standby_falls_back_to_one_release(void **state)
{
	static const char *const why[] = { "standby.unknown", "policy.revoked" };
	struct fixture *f = *state;

	for (int i = 0; i < 2; i++) {
		struct conf_standby *sb = standby_session(f);
		int nonces = f->fc.nonces, releases = f->fc.releases;

		/* A coordinator that restarted forgot every standby session;
		 * any other refusal of the bind leads the same way (6.7.6). */
		f->fc.forget_standby = i == 0;
		f->fc.refuse_bind = i == 1 ? why[1] : NULL;
		f->s.standby = sb;
		must(conf_job_open(&f->cfg, &f->s, &f->w.job), why[i]);
		assert_int_equal(f->w.job->warm, 0);
		assert_int_equal(f->fc.nonces, nonces + 1);
		assert_int_equal(f->fc.releases, releases + 1);
		assert_true(all_zero(sb->keys->standby_secret, 64));
		conf_job_free(f->w.job);
		f->w.job = NULL;
		conf_standby_free(sb);
	}
	assert_int_equal(f->fc.binds, 2);
}

static void
test_worker_confidential__a_bind_answer_not_sealed_with_s_is_not_believed(void **state)
{
	struct fixture *f = *state;
	struct conf_standby *sb = standby_session(f);
	struct coffer_release_payload pl;
	struct coffer_buf policy = COFFER_BUF_INIT(1 << 20);
	uint8_t wrong[64];

	/* Another S: its MAC fails at the coordinator (standby.auth), and
	 * does not consume the session: its holder still binds. */
	memcpy(wrong, sb->keys->standby_secret, 64);
	wrong[0] ^= 1;
	memset(&pl, 0, sizeof(pl));
	assert_int_equal(coord_bind(&f->t, f->s.job, sb->id, wrong, &pl, &policy),
	    COFFER_E_POLICY);
	assert_non_null(strstr(coffer_errdetail(), "standby.auth"));
	must(coord_bind(&f->t, f->s.job, sb->id, sb->keys->standby_secret, &pl,
	    &policy), "bind");
	assert_int_equal(policy.len, f->fc.policy->jcs.len);
	coffer_release_payload_clear(&pl);
	coffer_buf_reset(&policy);
	/* A second bind: standby.used. */
	assert_int_equal(coord_bind(&f->t, f->s.job, sb->id,
	    sb->keys->standby_secret, &pl, &policy), COFFER_E_POLICY);
	assert_non_null(strstr(coffer_errdetail(), "standby.used"));
	coffer_buf_release(&policy);
	conf_standby_free(sb);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_worker_confidential__items_are_opened_processed_sealed_and_proved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_bound_standby_runs_the_job_with_no_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_forgotten_or_refused_standby_falls_back_to_one_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_bind_answer_not_sealed_with_s_is_not_believed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__kept_contexts_give_the_one_shot_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__an_output_sealed_in_pieces_is_the_held_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__every_attempt_id_is_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_batch_is_proved_in_one_request_each_answer_deciding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__the_app_gets_its_parameters_from_the_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__map_outputs_of_a_reduce_job_take_the_intermediate_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_tampered_input_is_buried_proved_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__an_older_sealed_version_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_big_input_streams_only_the_pinned_plaintext, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__an_item_the_policy_does_not_list_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__an_app_failure_is_proved_and_the_coordinator_decides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__refusals_bury_or_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__an_unanswered_proof_is_sent_again_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_poison_item_in_a_batch_fails_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_coordinator_in_another_tee_type_gets_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_coordinator_with_another_measurement_gets_nothing, setup, teardown),
		cmocka_unit_test(test_worker_confidential__a_tdx_coordinator_is_pinned_by_mrtd_and_rtmrs),
		cmocka_unit_test_setup_teardown(test_worker_confidential__evidence_for_other_keys_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_nonce_answer_without_a_member_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_nonce_answer_of_another_frame_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_coordinator_briefly_down_is_waited_for, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__an_unapproved_worker_gets_no_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__answers_not_from_the_authenticated_coordinator_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__reduce_takes_the_committed_map_outputs_and_proves_its_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__reduce_refuses_a_map_output_other_than_the_committed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_confidential__a_reduce_the_app_fails_is_proved_failed, setup, teardown),
		cmocka_unit_test(test_worker_confidential__refusals_for_good_are_told_from_transient_ones),
		cmocka_unit_test(test_worker_confidential__plaintext_buffers_are_secret_the_sealed_ones_not),
	};

	/* This binary is its own plugin host (doc/worker.md 9.5). */
	if (argc >= 2 && strcmp(argv[1], "--app-host") == 0)
		return apphost_main(argc, argv);
	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
