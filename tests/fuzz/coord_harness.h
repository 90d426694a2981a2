/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator in a fuzz target: a real one (coord_open on a temporary
 * data directory, the sim backend), with a deterministic world made once
 * per process: a coordinator identity, three owners, one policy they all
 * approved, their keys uploaded, one job. Requests go through the real
 * route table, the before hook and the handlers (their replies are built and dropped: a request without a
 * connection, r.conn == NULL, is answered into nothing), so a
 * target fuzzes exactly what a client reaches. Set
 * COFFER_FUZZ_WRITE_SEEDS=DIR to write valid requests of this world as
 * seeds. Header-only: included by each tests/fuzz/fuzz_coord_*.c. */
#ifndef COFFER_FUZZ_COORD_HARNESS_H
#define COFFER_FUZZ_COORD_HARNESS_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "coffer/error.h"
#include "coordinator/coord.h"
#include "coordinator/statekey.h"
#include "crypto/datakey.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/jcs.h"
#include "crypto/sign.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/log.h"
#include "proto/approval.h"
#include "proto/keyrelease.h"
#include "proto/receipt.h"

static struct coord *H_c;
static struct coffer_identity H_owner[3];
static uint8_t H_key[3][32];
static struct coffer_policy *H_policy;
static char H_phex[65], H_jhex[33];
static uint8_t H_job[16];
static char H_dir[64];

static void
h_die(const char *what)
{
	fprintf(stderr, "coord harness: %s: %s\n", what, coffer_errdetail());
	abort();
}

/* An identity from fixed secret bytes: the world is the same every run. */
static void
h_identity(uint8_t seed, const char *name, struct coffer_identity *id)
{
	memset(id, 0, sizeof(*id));
	memset(id->sign_sk, seed, 32);
	memset(id->kx_sk, seed + 1, 32);
	snprintf(id->pub.name, sizeof(id->pub.name), "%s", name);
	if (coffer_sign_public(id->sign_sk, id->pub.sign_pk) != 0 ||
	    coffer_dh_public(id->kx_sk, id->pub.kx_pk) != 0)
		h_die("identity");
}

static char *
h_line(const struct coffer_identity *id)
{
	struct coffer_buf b = COFFER_BUF_INIT(COFFER_ID_LINE_MAX + 1);
	uint8_t *p = NULL;
	size_t n;

	if (coffer_identity_format_public(&id->pub, &b) != 0 ||
	    coffer_buf_detach(&b, &p, &n) != 0)
		h_die("line");
	return (char *)p;
}

/* Call the handler of method path with body, as the HTTP server would. */
static void
h_call(const char *method, const char *path, const void *body, size_t len)
{
	struct http_req r;
	char *b;

	memset(&r, 0, sizeof(r));
	if (http_route_find(coord_routes, coord_nroutes, method, path, &r.match,
	    NULL, 0) != HTTP_ROUTE_FOUND)
		return; /* a 404 or 405: the server answers it without a handler */
	if (len > r.match.route->max_body)
		return; /* a 413, answered before the handler */
	if ((b = malloc(len + 1)) == NULL)
		abort();
	memcpy(b, body, len);
	b[len] = '\0';
	r.http = H_c->http;
	r.ctx = H_c;
	r.method = method;
	r.path = path;
	r.body = b;
	r.body_len = len;
	/* As the server does before every handler (it commits a pending
	 * group of proofs, doc/coordinator.md 10.1 rule G3). Without a
	 * connection a proofs request cannot be deferred and is committed
	 * and answered before its handler returns. */
	coord_before_route(&r);
	r.match.route->handler(&r);
	if (!r.replied)
		abort(); /* every handler must answer */
	free(b);
}

static void
h_seed(const char *name, const void *p, size_t n)
{
	const char *dir = getenv("COFFER_FUZZ_WRITE_SEEDS");
	char path[4096];

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (coffer_file_write_atomic(path, p, n, 0644, 0) != 0)
		h_die(path);
}

/* A fixed sim platform key (a test key, nothing else uses it), so that
 * the policy, its hash and the seeds' signatures are the same every run. */
static const char h_sim_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDD9W+gROSOl5uTZuZ81\n"
    "GJkJS1pE9Etx2dEC3ofaVCUtRCmhimq7HCSIgu+4f5hp7mOhZANiAAS/pFa5LSUw\n"
    "fjcNTd1tos58cwP7mQACZTlW9scZUKhl/bWrgoolvdq3Adi4NMLLFEK7N8aC/MiA\n"
    "P7yQZiGMB3ZlLAL44n1/AEXSHWFBJeTsGSS9UApCcBtBGAcOwl3hVKQ=\n"
    "-----END PRIVATE KEY-----\n";

static int
h_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
h_cleanup(void)
{
	coord_close(H_c);
	H_c = NULL;
	nftw(H_dir, h_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void
h_world(void)
{
	static const char *const names[3] = { "hospital-a", "hospital-b", "hospital-c" };
	struct coord_config cfg;
	struct coord_state *st;
	struct coffer_identity cid;
	struct coffer_buf text = COFFER_BUF_INIT(1 << 20), env = COFFER_BUF_INIT(1 << 16);
	struct coord_job job;
	uint8_t root[32], kid[16], empty[32];
	char sim_dir[128], data[128], path[200], hex[65], simhex[65], *pem = NULL;
	uint8_t simfp[32];
	char *lines[4];
	json_t *owners, *pol;

	coffer_log_setup("fuzz", COFFER_LOG_OFF, COFFER_LOG_HUMAN, NULL);
	/* In memory where there is /dev/shm: the coordinator flushes every
	 * commit to disk, which would make each input wait for a disk. */
	snprintf(H_dir, sizeof(H_dir), "%s/coffer-fuzz-coord.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(H_dir) == NULL)
		abort();
	snprintf(sim_dir, sizeof(sim_dir), "%s/sim", H_dir);
	snprintf(data, sizeof(data), "%s/data", H_dir);
	snprintf(path, sizeof(path), "%s/sim-platform.key", sim_dir);
	if (mkdir(data, 0700) != 0 || mkdir(sim_dir, 0700) != 0 ||
	    coffer_file_write_atomic(path, h_sim_key, sizeof(h_sim_key) - 1, 0600,
	    1) != 0 || coffer_tee_sim_public_key(sim_dir, &pem) != 0 ||
	    coffer_tee_sim_key_fingerprint(pem, strlen(pem), simfp) != 0)
		h_die("temporary directory");
	free(pem);
	coffer_hex_encode(simfp, 32, simhex);
	/* The coordinator's identity, fixed, before its first start. */
	h_identity(1, "coordinator", &cid);
	memset(root, 7, sizeof(root));
	{
		/* The state key sealed as the coordinator will find it. */
		struct coffer_tee_backend_opts bo;
		struct coffer_tee_sealing seal;
		uint8_t skey[32], sid[16];
		int created;

		memset(&bo, 0, sizeof(bo));
		bo.sim_dir = sim_dir;
		if (coffer_tee_sealing_key(COFFER_TEE_BACKEND_SIM, &bo, &seal) != 0 ||
		    statekey_load(data, &seal, sid, skey, &created) != 0)
			h_die("state key");
		coffer_tee_sealing_wipe(&seal);
		if (coord_state_open(data, skey, sid, &st) != 0 ||
		    coord_state_identity_put(st, &cid) != 0 ||
		    coord_state_root_put(st, root) != 0)
			h_die("state");
		coord_state_close(st);
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = data;
	cfg.listen = "127.0.0.1:0";
	cfg.backend = COFFER_TEE_BACKEND_SIM;
	cfg.sim_dir = sim_dir;
	if (coord_open(&cfg, &H_c) != 0)
		h_die("coord_open");
	atexit(h_cleanup);

	/* Three owners, one dataset of one object each, one app. */
	owners = json_array();
	for (int i = 0; i < 3; i++) {
		h_identity((uint8_t)(10 + 2 * i), names[i], &H_owner[i]);
		memset(H_key[i], 20 + i, 32);
		if (coffer_datakey_id(H_key[i], kid) != 0)
			h_die("key id");
		coffer_hex_encode(kid, 16, hex);
		lines[i] = h_line(&H_owner[i]);
		snprintf(path, sizeof(path), "d%d", i);
		json_array_append_new(owners, json_pack("{s:s, s:[{s:s, s:s, s:[{s:s, s:s}]}]}",
		    "id", lines[i], "datasets", "name", path, "key_id", hex, "objects",
		    "key", path, "digest",
		    "sha256:0000000000000000000000000000000000000000000000000000000000000001"));
	}
	lines[3] = h_line(&cid);
	pol = json_pack("{s:s, s:i, s:s, s:s, s:I, s:o, s:[{s:s, s:s, s:[s,s,s], s:b, "
	    "s:[{s:s, s:s}], s:{s:[s,s]}}], s:{s:i, s:[s]}, s:[s], s:{s:i}}",
	    "type", "coffer-policy", "version", 1, "name", "fuzz", "coordinator",
	    lines[3], "expires", (json_int_t)4102444800, "owners", owners,
	    "apps", "name", "stats", "sha256",
	    "00000000000000000000000000000000000000000000000000000000000000aa",
	    "datasets", "d0", "d1", "d2", "reduce", 1, "measurements", "tee", "sim",
	    "value", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "params", "alpha", "0.05", "0.01", "verification", "version", 1,
	    "sim_platform_keys", simhex, "recipients", lines[0],
	    "limits", "min_owners", 2);
	if (pol == NULL || coffer_jcs_put(pol, &text) != 0 ||
	    coffer_policy_parse(coffer_buf_str(&text), text.len, &H_policy) != 0)
		h_die("policy");
	coffer_policy_hash_hex(H_policy, H_phex);
	h_seed("policy", text.data, text.len);
	h_call("POST", "/v1/policies", text.data, text.len);
	/* Approved by all three, keys uploaded. */
	if (coffer_sha256("", 0, empty) != 0)
		h_die("sha256");
	snprintf(path, sizeof(path), "/v1/policies/%s/approvals", H_phex);
	for (int i = 0; i < 3; i++) {
		coffer_buf_reset(&env);
		if (coffer_approval_make(&H_owner[i], H_policy->hash, 0, empty, &env) != 0)
			h_die("approval");
		if (i == 0)
			h_seed("approval", env.data, env.len);
		h_call("POST", path, env.data, env.len);
	}
	coffer_buf_reset(&env);
	if (coffer_revocation_make(&H_owner[1], H_policy->hash,
	    &H_policy->apps[0].measurements[0], &env) != 0)
		h_die("revocation");
	h_seed("revocation", env.data, env.len);
	for (int i = 0; i < 3; i++) {
		coffer_buf_reset(&env);
		if (coffer_datakey_id(H_key[i], kid) != 0 ||
		    coffer_keyupload_make(&H_owner[i], H_policy->hash, kid, H_key[i],
		    cid.pub.kx_pk, &env) != 0)
			h_die("upload");
		if (i == 0)
			h_seed("upload", env.data, env.len);
		h_call("POST", "/v1/keys", env.data, env.len);
	}
	/* The world is what the targets assume: an active policy, every key. */
	{
		const struct coffer_policy *kept;
		struct coord_status status;

		if (coord_book_get(H_c->book, H_policy->hash, &kept) != 0 ||
		    coord_book_status(H_c->book, kept, coord_now(), &status) != 0 ||
		    !status.active)
			h_die("the policy is not active");
		for (int i = 0; i < 3; i++) {
			uint8_t k[32];

			if (coffer_datakey_id(H_key[i], kid) != 0 ||
			    !coord_keycache_get(H_c->keys, kid, k))
				h_die("a key was not uploaded");
		}
	}
	/* One job, with a fixed id. */
	memset(&job, 0, sizeof(job));
	memset(H_job, 0x11, sizeof(H_job));
	memcpy(job.id, H_job, 16);
	memcpy(job.policy, H_policy->hash, 32);
	snprintf(job.app, sizeof(job.app), "stats");
	job.params = "{\"alpha\":\"0.05\"}";
	if (coffer_receipt_input_root(H_policy, &H_policy->apps[0], &job.items,
	    job.input_root) != 0 || coord_state_job_put(H_c->st, &job) != 0)
		h_die("job");
	coffer_hex_encode(H_job, 16, H_jhex);
	coffer_buf_reset(&env);
	if (coffer_buf_putf(&env, "{\"type\":\"coffer-job\",\"version\":1,\"policy\":"
	    "\"%s\",\"app\":\"stats\",\"params\":{\"alpha\":\"0.01\"}}", H_phex) != 0)
		h_die("job request");
	h_seed("job", env.data, env.len);
	for (int i = 0; i < 4; i++)
		free(lines[i]);
	json_decref(pol);
	coffer_identity_wipe(&cid);
	coffer_buf_release(&text);
	coffer_buf_release(&env);
}

/* A release request of the job with a nonce fresh from the coordinator,
 * the worker key w_pk and the given evidence. */
static void
h_release(const uint8_t *evidence, size_t n, const uint8_t w_pk[32])
{
	struct coffer_buf req = COFFER_BUF_INIT(COFFER_RELEASE_REQ_MAX);
	uint8_t nonce[32];
	char path[80];

	if (coord_nonce_issue(H_c->nonces, coffer_mono_ms(), nonce) != 0 ||
	    coffer_release_request_make(H_job, nonce, w_pk, evidence, n, &req) != 0) {
		coffer_buf_release(&req);
		return; /* evidence over its size limit */
	}
	snprintf(path, sizeof(path), "/v1/jobs/%s/release", H_jhex);
	h_call("POST", path, req.data, req.len);
	coffer_buf_release(&req);
	/* Forget the used nonce now rather than in 60 s: an input that
	 * leaves memory behind makes libFuzzer scan for leaks every run. */
	coord_nonces_sweep(H_c->nonces, INT64_MAX);
}

#endif
