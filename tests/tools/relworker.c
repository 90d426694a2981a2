// SPDX-License-Identifier: Apache-2.0
// Test tool: the worker's side of attested key release
// (doc/protocol/key-release.md section 6), until coffer-worker does it:
// an ephemeral X25519 key, a nonce, INSECURE SIMULATION evidence over the
// release binding, the request, and the answer opened and checked (rules
// W1 to W4) against the coordinator's key. Faults can be injected to
// exercise every refusal by name; many releases can run at once for the
// benchmark.
//
//   relworker release URL JOB [opts]   one release (or -n N, -c C)
//   relworker standby URL FILE [opts]  a standby session into FILE
//   relworker bind URL JOB FILE [opts] bind FILE's session to JOB
//                                  (key-release.md 6.7; see "Standby")
//   relworker verify-bench N           sim evidence verifications alone
//   relworker upload URL POLICY KEYFILE IDFILE [--coord-kx HEX]
//             [--key-id HEX]       a key upload without the CLI's own
//                                  checks (to exercise UP5 to UP7)
//   relworker result-key URL JOB FPR IDFILE
//                                  the result key wrapped to FPR, opened as
//                                  IDFILE (only FPR's owner can)
//   relworker prove URL SESSIONFILE [popts] ITEM...
//                                  item proofs (doc/format/item-proof.md)
//                                  in the session a release saved with
//                                  --save-session FILE, until coffer-worker
//                                  sends them: see prove() below
//
// opts: --coord-kx HEX (the coordinator's X25519 key; default: from its
//   /v1/identity, as after `coffer coordinator verify`), --measure FILE
//   (repeatable; default this program), --sim-dir DIR, --save-keys DIR
//   (write each released data key as <key_id>.key), -n N, -c C (releases,
//   concurrency), --sources N (spread the connections over N loopback
//   source addresses 127.0.0.1.., for more than one client's connection
//   limit), --latency (print per-release milliseconds),
//   --sim-values JSON (INSECURE SIMULATION evidence v2's simulated platform:
//   debug, TCB...; doc/format/evidence.md section 8.4), --save-session FILE
//   (one release: keep its job, session, session key, output and
//   intermediate keys and policy in FILE, mode 0600, for `prove`)
// faults: --twice (send the same request again), --wait-ms N (between nonce
//   and request), --forge-nonce, --bind-other-key, --bind-other-job HEX,
//   --corrupt-evidence, --malformed, --expect-kx HEX (open the answer as if
//   this were the coordinator's key)
// Output: one JSON line per release: {"outcome": "released", ...} or
// {"outcome": "refused", "code": reason, "message": ...}. Exit 0 if all
// were released, 7 if any was refused, 1 on another failure.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "crypto/datakey.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/random.h"
#include "crypto/sealed.h"
#include "lib/file.h"
#include "proto/itembatch.h"
#include "proto/keyrelease.h"
#include "proto/merkle.h"
#include "proto/policy.h"
#include "proto/receipt.h"
#include "proto/standby.h"

#define MAX_MEASURE 8

static struct {
	const char *url, *sim_dir, *save_keys, *save_session;
	const char *measure[MAX_MEASURE];
	size_t n_measure;
	uint8_t job[16], other_job[16], coord_kx[32], expect_kx[32];
	int have_kx, have_expect_kx, have_other_job;
	int twice, forge_nonce, bind_other_key, corrupt, malformed, latency;
	int have_sim_values;
	/* standby and bind (doc/protocol/key-release.md 6.7) */
	int standby, other_binding, forge_mac;
	const char *standby_file;
	long cpu_pid;              /* --phases PID: the coordinator's CPU */
	struct coffer_tee_sim_values sim_values;
	long wait_ms;
	long n, conc;
	long sources;
} opt;

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static long next_i;
static int any_refused, any_failed;
static double *lat_exchange, *lat_total;

static void
fail(const char *what)
{
	fprintf(stderr, "relworker: %s: %s\n", what, coffer_errdetail());
	exit(1);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	return coffer_buf_put(arg, p, size * n) == 0 ? size * n : 0;
}

/* POST body to URL path; the reply into out; returns the HTTP status or
 * -1. */
static long
post_as(CURL *c, const char *path, const char *ctype, const void *body,
    size_t len, struct coffer_buf *out)
{
	char url[1024], ct[128];
	struct curl_slist *h = NULL;
	long code = -1;

	snprintf(url, sizeof(url), "%s%s", opt.url, path);
	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
	coffer_buf_reset(out);
	h = curl_slist_append(h, ct);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	return code;
}

static long
post(CURL *c, const char *path, const void *body, size_t len,
    struct coffer_buf *out)
{
	return post_as(c, path, "application/json", body, len, out);
}

static void
say_refused(long code, const struct coffer_buf *b)
{
	json_t *j = NULL, *e;

	if (coffer_json_parse((const char *)b->data, b->len, 1 << 20, 8, &j) != 0)
		j = NULL;
	e = json_object_get(j, "error");
	pthread_mutex_lock(&out_mu);
	printf("{\"outcome\":\"refused\",\"http\":%ld,\"code\":\"%s\",\"message\":",
	    code, json_string_value(json_object_get(e, "code")) ?
	    json_string_value(json_object_get(e, "code")) : "?");
	if (json_object_get(e, "message") != NULL)
		json_dumpf(json_object_get(e, "message"), stdout, JSON_ENCODE_ANY);
	else
		printf("\"?\"");
	printf("}\n");
	fflush(stdout);
	any_refused = 1;
	pthread_mutex_unlock(&out_mu);
	json_decref(j);
}

static double
ms_since(int64_t t0_us)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3 - (double)t0_us) / 1e3;
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The session file of `release --save-session` (test secrets, 0600). */
static void
save_session(const struct coffer_release_payload *p)
{
	char job[33], sess[33], key[65], out[65], inter[65], pol[65];
	json_t *o;
	char *text;

	coffer_hex_encode(p->job, 16, job);
	coffer_hex_encode(p->session, 16, sess);
	coffer_hex_encode(p->session_key, 32, key);
	coffer_hex_encode(p->output_key, 32, out);
	coffer_hex_encode(p->intermediate_key, 32, inter);
	coffer_hex_encode(p->policy, 32, pol);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i}", "job", job,
	    "session", sess, "session_key", key, "output_key", out,
	    "intermediate_key", inter, "policy", pol, "app", p->app, "reduce",
	    p->reduce, "next_seq", 0);
	if (o == NULL || (text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		fail("session file");
	if (coffer_file_write_atomic(opt.save_session, text, strlen(text), 0600, 0) != 0)
		fail(opt.save_session);
	free(text);
	json_decref(o);
}

static void
report_released(const struct coffer_release_payload *p)
{
	char hex[65], path[4096];
	uint8_t okid[16], ash[32];
	json_t *keys = json_array(), *o;

	for (size_t i = 0; i < p->nkeys; i++) {
		coffer_hex_encode(p->keys[i].key_id, 16, hex);
		json_array_append_new(keys, json_string(hex));
		if (opt.save_keys != NULL) {
			snprintf(path, sizeof(path), "%s/%s.key", opt.save_keys, hex);
			(void)!unlink(path);
			if (coffer_datakey_save(path, p->keys[i].key) != 0)
				fail(path);
		}
	}
	if (opt.save_session != NULL)
		save_session(p);
	coffer_hex_encode(p->session, 16, hex);
	o = json_pack("{s:s, s:s, s:s, s:b, s:o, s:O, s:O}", "outcome", "released",
	    "session", hex, "app", p->app, "reduce", p->reduce, "keys", keys,
	    "params", p->params, "limits", p->limits);
	/* Not the secrets: their ids, to compare across releases. */
	if (coffer_datakey_id(p->output_key, okid) != 0 ||
	    coffer_sha256(p->app_secret, 32, ash) != 0)
		fail("ids");
	coffer_hex_encode(okid, 16, hex);
	json_object_set_new(o, "output_key_id", json_string(hex));
	coffer_hex_encode(ash, 32, hex);
	json_object_set_new(o, "app_secret_sha256", json_string(hex));
	pthread_mutex_lock(&out_mu);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_SORT_KEYS);
	printf("\n");
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
	json_decref(o);
}

/* One release; 0 released, 7 refused, 1 failed. */
static int
release_one(CURL *c, long idx)
{
	struct coffer_buf reply = COFFER_BUF_INIT((size_t)4 << 20);
	struct coffer_buf req = COFFER_BUF_INIT(COFFER_RELEASE_REQ_MAX);
	struct coffer_release_payload pay;
	struct coffer_tee_backend_opts bo;
	uint8_t nonce[32], w_sk[32], w_pk[32], other_sk[32], other_pk[32];
	uint8_t rd[64], *ev = NULL;
	size_t evlen = 0;
	char path[128], jobhex[33];
	json_t *j = NULL;
	const char *nhex;
	size_t hexlen;
	int64_t t0 = now_us(), t2;
	double exch;
	long code;
	int rc = 1;

	memset(&pay, 0, sizeof(pay));
	coffer_hex_encode(opt.job, 16, jobhex);
	snprintf(path, sizeof(path), "/v1/jobs/%s/nonce", jobhex);
	code = post(c, path, NULL, 0, &reply);
	if (code != 200) {
		if (code > 0) {
			say_refused(code, &reply);
			rc = 7;
		}
		goto out;
	}
	/* The answer's head: its first line (key-release.md 6.2). */
	if (memchr(reply.data, '\n', reply.len) == NULL ||
	    coffer_json_parse((const char *)reply.data, (size_t)((uint8_t *)memchr(
	    reply.data, '\n', reply.len) - reply.data), reply.max, 4, &j) != 0 ||
	    (nhex = json_string_value(json_object_get(j, "nonce"))) == NULL ||
	    coffer_hex_decode(nhex, strlen(nhex), nonce, 32, &hexlen) != 0)
		fail("the nonce answer");
	exch = ms_since(t0);
	if (opt.forge_nonce && coffer_random(nonce, 32) != 0)
		fail("random");
	if (opt.wait_ms > 0)
		usleep((useconds_t)opt.wait_ms * 1000);
	/* The worker's key, made here as it is made in the TEE. */
	if (coffer_dh_keygen(w_sk, w_pk) != 0 || coffer_dh_keygen(other_sk,
	    other_pk) != 0)
		fail("keygen");
	if (opt.other_binding) {
		if (coffer_standby_binding(nonce, w_pk, rd) != 0)
			fail("binding");
	} else if (coffer_keyrelease_binding(opt.have_other_job ? opt.other_job :
	    opt.job, nonce, opt.bind_other_key ? other_pk : w_pk, rd) != 0) {
		fail("binding");
	}
	memset(&bo, 0, sizeof(bo));
	bo.sim_dir = opt.sim_dir;
	bo.measure = opt.measure;
	bo.n_measure = opt.n_measure;
	bo.sim_values = opt.have_sim_values ? &opt.sim_values : NULL;
	if (coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd, &bo, &ev, &evlen) != 0)
		fail("sim evidence");
	if (opt.corrupt) {
		/* One base64url character inside the sim evidence's measurement
		 * (bytes 0x18 to 0x48): its signature no longer verifies. */
		char *e = memmem(ev, evlen, "\"evidence\":\"", 12);

		if (e == NULL || (size_t)(e - (char *)ev) + 12 + 60 >= evlen)
			fail("the evidence envelope");
		e[12 + 50] = e[12 + 50] == 'A' ? 'B' : 'A';
	}
	if (opt.malformed) {
		if (coffer_buf_puts(&req, "{\"type\":\"coffer-release-request\"}") != 0)
			fail("request");
	} else if (coffer_release_request_make(opt.job, nonce, w_pk, ev, evlen,
	    &req) != 0) {
		fail("request");
	}
	snprintf(path, sizeof(path), "/v1/jobs/%s/release", jobhex);
	t2 = now_us();
	for (int round = 0; round < (opt.twice ? 2 : 1); round++) {
		code = post(c, path, req.data, req.len, &reply);
		if (code == 200 && round + 1 < (opt.twice ? 2 : 1))
			continue;
		if (code != 200) {
			if (code > 0) {
				say_refused(code, &reply);
				rc = 7;
			} else {
				pthread_mutex_lock(&out_mu);
				printf("{\"outcome\":\"failed\",\"message\":\"no answer to "
				    "the release request\"}\n");
				fflush(stdout);
				pthread_mutex_unlock(&out_mu);
			}
			goto out;
		}
	}
	/* W1 to W4 against the coordinator's key. */
	if (coffer_release_answer_open((const char *)reply.data, reply.len, opt.job,
	    nonce, w_sk, opt.have_expect_kx ? opt.expect_kx : opt.coord_kx,
	    &pay) != 0) {
		json_t *m = json_string(coffer_errdetail());

		pthread_mutex_lock(&out_mu);
		printf("{\"outcome\":\"unopened\",\"message\":");
		json_dumpf(m, stdout, JSON_ENCODE_ANY);
		printf("}\n");
		json_decref(m);
		fflush(stdout);
		pthread_mutex_unlock(&out_mu);
		rc = 1;
		goto out;
	}
	exch += ms_since(t2);
	if (lat_exchange != NULL) {
		lat_exchange[idx] = exch;
		lat_total[idx] = ms_since(t0);
	}
	if (opt.n == 1)
		report_released(&pay);
	rc = 0;
out:
	coffer_release_payload_clear(&pay);
	coffer_wipe(w_sk, sizeof(w_sk));
	coffer_wipe(other_sk, sizeof(other_sk));
	free(ev);
	json_decref(j);
	coffer_buf_release(&reply);
	coffer_buf_release(&req);
	return rc;
}


/* ---- Standby and bind (doc/protocol/key-release.md section 6.7) ----
 *
 *   relworker standby URL FILE [opts]   a standby session, kept in FILE
 *                                       (id and S, mode 0600)
 *   relworker bind URL JOB FILE [opts]  bind the session of FILE to JOB
 *   relworker release URL JOB --standby both at once (with -n, -c)
 *
 * faults: --other-binding (standby: evidence over the release binding of
 *   JOB; release: evidence over the standby binding), --forge-mac (bind:
 *   one bit of the MAC changed), --twice (bind: the request sent again),
 *   and the release's --forge-nonce, --corrupt-evidence, --malformed,
 *   --sim-dir, --sim-values, --measure for the standby request.
 */

/* Sim evidence over rd, made as in the TEE; --corrupt-evidence applied. */
static void
sim_evidence(const uint8_t rd[64], uint8_t **ev, size_t *evlen)
{
	struct coffer_tee_backend_opts bo;

	memset(&bo, 0, sizeof(bo));
	bo.sim_dir = opt.sim_dir;
	bo.measure = opt.measure;
	bo.n_measure = opt.n_measure;
	bo.sim_values = opt.have_sim_values ? &opt.sim_values : NULL;
	if (coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd, &bo, ev, evlen) != 0)
		fail("sim evidence");
	if (opt.corrupt) {
		char *e = memmem(*ev, *evlen, "\"evidence\":\"", 12);

		if (e == NULL || (size_t)(e - (char *)*ev) + 12 + 60 >= *evlen)
			fail("the evidence envelope");
		e[12 + 50] = e[12 + 50] == 'A' ? 'B' : 'A';
	}
}

static void
say(const char *outcome, const char *msg)
{
	json_t *m = json_string(msg);

	pthread_mutex_lock(&out_mu);
	printf("{\"outcome\":\"%s\",\"message\":", outcome);
	json_dumpf(m, stdout, JSON_ENCODE_ANY);
	printf("}\n");
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
	json_decref(m);
}

/* Nonce, standby request, answer opened (WS1, WS2): 0 with sid and s, 7
 * refused, 1 failed. */
static int
standby_make(CURL *c, uint8_t sid[16], uint8_t s[COFFER_STANDBY_SECRET_LEN])
{
	struct coffer_buf reply = COFFER_BUF_INIT((size_t)4 << 20);
	struct coffer_buf req = COFFER_BUF_INIT(COFFER_STANDBY_REQ_MAX);
	uint8_t nonce[32], w_sk[32], w_pk[32], rd[64], *ev = NULL;
	const uint8_t *lf;
	size_t evlen = 0, hexlen;
	const char *nhex;
	json_t *j = NULL;
	long code;
	int rc = 1;

	code = post(c, "/v1/standby/nonce", NULL, 0, &reply);
	if (code != 200) {
		if (code > 0) {
			say_refused(code, &reply);
			rc = 7;
		}
		goto out;
	}
	/* 6.7.2: one head line and nothing after it. */
	if ((lf = memchr(reply.data, '\n', reply.len)) == NULL ||
	    (size_t)(lf - reply.data) + 1 != reply.len ||
	    coffer_json_parse((const char *)reply.data, (size_t)(lf - reply.data),
	    reply.max, 4, &j) != 0 || json_object_get(j, "policy_len") != NULL ||
	    (nhex = json_string_value(json_object_get(j, "nonce"))) == NULL ||
	    coffer_hex_decode(nhex, strlen(nhex), nonce, 32, &hexlen) != 0)
		fail("the standby nonce answer");
	if (opt.forge_nonce && coffer_random(nonce, 32) != 0)
		fail("random");
	if (opt.wait_ms > 0)
		usleep((useconds_t)opt.wait_ms * 1000);
	if (coffer_dh_keygen(w_sk, w_pk) != 0)
		fail("keygen");
	if ((opt.other_binding ? coffer_keyrelease_binding(opt.job, nonce, w_pk, rd) :
	    coffer_standby_binding(nonce, w_pk, rd)) != 0)
		fail("binding");
	sim_evidence(rd, &ev, &evlen);
	if (opt.malformed) {
		if (coffer_buf_puts(&req, "{\"type\":\"coffer-standby-request\"}") != 0)
			fail("request");
	} else if (coffer_standby_request_make(nonce, w_pk, ev, evlen, &req) != 0) {
		fail("request");
	}
	code = post(c, "/v1/standby", req.data, req.len, &reply);
	if (code != 200) {
		if (code > 0) {
			say_refused(code, &reply);
			rc = 7;
		} else {
			say("failed", "no answer to the standby request");
		}
		goto out;
	}
	if (coffer_standby_answer_open((const char *)reply.data, reply.len, nonce,
	    w_sk, opt.have_expect_kx ? opt.expect_kx : opt.coord_kx, sid, s) != 0) {
		say("unopened", coffer_errdetail());
		goto out;
	}
	rc = 0;
out:
	coffer_wipe(w_sk, sizeof(w_sk));
	free(ev);
	json_decref(j);
	coffer_buf_release(&reply);
	coffer_buf_release(&req);
	return rc;
}

/* The bind and its answer (WB1 to WB3, and WB4's hash of the policy
 * part): 0 released (reported), 7 refused, 1 failed. */
static int
bind_one(CURL *c, const uint8_t sid[16], const uint8_t s[COFFER_STANDBY_SECRET_LEN])
{
	struct coffer_buf reply = COFFER_BUF_INIT((size_t)4 << 20);
	struct coffer_buf req = COFFER_BUF_INIT(COFFER_BIND_REQ_MAX);
	struct coffer_buf pol = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES);
	struct coffer_release_payload pay;
	struct coffer_policy *p = NULL;
	char path[128], jobhex[33];
	long code = 0;
	int rc = 1;

	memset(&pay, 0, sizeof(pay));
	coffer_hex_encode(opt.job, 16, jobhex);
	snprintf(path, sizeof(path), "/v1/jobs/%s/bind", jobhex);
	if (opt.malformed) {
		if (coffer_buf_puts(&req, "{\"type\":\"coffer-bind-request\"}") != 0)
			fail("request");
	} else if (coffer_bind_request_make(opt.job, sid, s, &req) != 0) {
		fail("request");
	}
	if (opt.forge_mac) {
		char *m = memmem(req.data, req.len, "\"mac\":\"", 7);

		if (m == NULL)
			fail("the MAC");
		m[7] = m[7] == 'a' ? 'b' : 'a';
	}
	for (int round = 0; round < (opt.twice ? 2 : 1); round++) {
		code = post(c, path, req.data, req.len, &reply);
		if (code == 200 && round + 1 < (opt.twice ? 2 : 1))
			continue;
		if (code != 200) {
			if (code > 0) {
				say_refused(code, &reply);
				rc = 7;
			} else {
				say("failed", "no answer to the bind request");
			}
			goto out;
		}
	}
	if (coffer_bind_answer_open(reply.data, reply.len, opt.job, sid, s, &pay,
	    &pol) != 0) {
		say("unopened", coffer_errdetail());
		goto out;
	}
	/* WB4 (W5): the policy part hashes to the payload's policy. */
	if (coffer_policy_parse((const char *)pol.data, pol.len, &p) != 0 ||
	    memcmp(p->hash, pay.policy, 32) != 0) {
		say("unopened", "WB4: the policy part is not the payload's policy");
		goto out;
	}
	if (opt.n == 1)
		report_released(&pay);
	rc = 0;
out:
	coffer_policy_free(p);
	coffer_release_payload_clear(&pay);
	coffer_buf_release(&reply);
	coffer_buf_release(&req);
	coffer_buf_release(&pol);
	return rc;
}

static void hexarg(const char *s, uint8_t *out, size_t n, const char *what);
static void percentiles(const char *name, double *v, long n);

static void
standby_save(const uint8_t sid[16], const uint8_t s[COFFER_STANDBY_SECRET_LEN])
{
	char idh[33], sh[129], text[256];
	int n;

	coffer_hex_encode(sid, 16, idh);
	coffer_hex_encode(s, COFFER_STANDBY_SECRET_LEN, sh);
	n = snprintf(text, sizeof(text), "{\"standby\":\"%s\",\"secret\":\"%s\"}",
	    idh, sh);
	if (coffer_file_write_atomic(opt.standby_file, text, (size_t)n, 0600, 0) != 0)
		fail(opt.standby_file);
	coffer_wipe(sh, sizeof(sh));
	coffer_wipe(text, sizeof(text));
}

static void
standby_load(uint8_t sid[16], uint8_t s[COFFER_STANDBY_SECRET_LEN])
{
	struct coffer_buf b = COFFER_BUF_INIT(4096);
	json_t *j = NULL;

	if (coffer_file_read(opt.standby_file, 4096, &b) != 0 ||
	    coffer_json_parse((const char *)b.data, b.len, 4096, 4, &j) != 0)
		fail(opt.standby_file);
	hexarg(json_string_value(json_object_get(j, "standby")), sid, 16, "standby");
	hexarg(json_string_value(json_object_get(j, "secret")), s,
	    COFFER_STANDBY_SECRET_LEN, "secret");
	json_decref(j);
	coffer_buf_release(&b);
}

/* CPU time of process pid (utime + stime), microseconds. */
static double
proc_cpu_us(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		fail(path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command name's closing parenthesis: field 3 on; utime
	 * and stime are fields 14 and 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		fail("stat");
	return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

/* release --standby --phases PID: N standby sessions in a row, then N
 * binds, with the coordinator's CPU for each phase; the binds' latency is
 * what a warm worker waits at its job's start. */
static int
phases(void)
{
	uint8_t (*sid)[16], (*s)[COFFER_STANDBY_SECRET_LEN];
	CURL *c = curl_easy_init();
	double c0, c1, c2;
	int64_t t;

	sid = coffer_calloc((size_t)opt.n, sizeof(*sid));
	s = coffer_calloc((size_t)opt.n, sizeof(*s));
	lat_exchange = coffer_calloc((size_t)opt.n, sizeof(double));
	if (c == NULL || sid == NULL || s == NULL || lat_exchange == NULL)
		fail("memory");
	c0 = proc_cpu_us(opt.cpu_pid);
	for (long i = 0; i < opt.n; i++)
		if (standby_make(c, sid[i], s[i]) != 0)
			return 1;
	c1 = proc_cpu_us(opt.cpu_pid);
	for (long i = 0; i < opt.n; i++) {
		t = now_us();
		if (bind_one(c, sid[i], s[i]) != 0)
			return 1;
		lat_exchange[i] = ms_since(t);
	}
	c2 = proc_cpu_us(opt.cpu_pid);
	printf("cpu n=%ld standby_us=%.0f bind_us=%.0f\n", opt.n,
	    (c1 - c0) / (double)opt.n, (c2 - c1) / (double)opt.n);
	percentiles("bind", lat_exchange, opt.n);
	coffer_free_secret(s, (size_t)opt.n * sizeof(*s));
	free(sid);
	curl_easy_cleanup(c);
	return 0;
}

/* release --standby: both steps, as a warm worker does them. */
static int
release_warm(CURL *c, long idx)
{
	uint8_t sid[16], s[COFFER_STANDBY_SECRET_LEN];
	int64_t t0 = now_us(), t1;
	int rc;

	if ((rc = standby_make(c, sid, s)) != 0)
		return rc;
	t1 = now_us();
	rc = bind_one(c, sid, s);
	if (rc == 0 && lat_exchange != NULL) {
		lat_exchange[idx] = ms_since(t1);   /* the bind alone */
		lat_total[idx] = ms_since(t0);
	}
	coffer_wipe(s, sizeof(s));
	return rc;
}

static void *
runner(void *arg)
{
	CURL *c = curl_easy_init();
	long i, k = (long)(intptr_t)arg;
	char src[32];
	int rc;

	if (c == NULL)
		fail("curl");
	/* --sources N: thread k connects from 127.0.0.(1 + k mod N), so that
	 * more releases run at once than one client address may open
	 * connections (the HTTP server's per-client limit). */
	if (opt.sources > 1) {
		snprintf(src, sizeof(src), "host!127.0.0.%ld", 1 + k % opt.sources);
		curl_easy_setopt(c, CURLOPT_INTERFACE, src);
	}
	for (;;) {
		pthread_mutex_lock(&out_mu);
		i = next_i++;
		pthread_mutex_unlock(&out_mu);
		if (i >= opt.n)
			break;
		rc = opt.standby ? release_warm(c, i) : release_one(c, i);
		if (rc == 1) {
			pthread_mutex_lock(&out_mu);
			any_failed = 1;
			pthread_mutex_unlock(&out_mu);
		}
	}
	curl_easy_cleanup(c);
	return NULL;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
percentiles(const char *name, double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmpd);
	printf("%s n=%ld p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", name, n,
	    v[n / 2], v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], v[n - 1]);
}

static void
fetch_coord_kx(void)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16);
	struct coffer_identity_public id;
	char url[1024];
	const char *line;
	json_t *j = NULL;
	CURL *c = curl_easy_init();

	snprintf(url, sizeof(url), "%s/v1/identity", opt.url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(c) != CURLE_OK ||
	    coffer_json_parse((const char *)b.data, b.len, 1 << 16, 4, &j) != 0 ||
	    (line = json_string_value(json_object_get(j, "identity"))) == NULL ||
	    coffer_identity_parse_public(line, strlen(line), &id) != 0)
		fail("the coordinator's identity");
	memcpy(opt.coord_kx, id.kx_pk, 32);
	curl_easy_cleanup(c);
	json_decref(j);
	coffer_buf_release(&b);
}

static void
hexarg(const char *s, uint8_t *out, size_t n, const char *what)
{
	size_t hexlen;

	if (strlen(s) != 2 * n || coffer_hex_decode(s, 2 * n, out, n, &hexlen) != 0) {
		fprintf(stderr, "relworker: %s: expected %zu hex digits\n", what, 2 * n);
		exit(2);
	}
}

/* Sim evidence verification alone: the coordinator's KR8 cost. */
static int
verify_bench(long n)
{
	struct coffer_tee_backend_opts bo;
	struct coffer_tee_anchors *a = NULL;
	struct coffer_tee_claims *cl = NULL;
	uint8_t rd[64] = { 1 }, *ev = NULL;
	size_t evlen;
	char *pem = NULL;
	int64_t t0;
	double ms;

	memset(&bo, 0, sizeof(bo));
	bo.sim_dir = opt.sim_dir;
	bo.measure = opt.measure;
	bo.n_measure = opt.n_measure;
	if (coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd, &bo, &ev, &evlen) != 0 ||
	    coffer_tee_sim_public_key(opt.sim_dir, &pem) != 0 ||
	    coffer_tee_anchors_new_default(&a) != 0 ||
	    coffer_tee_anchors_add_sim_key(a, pem, strlen(pem)) != 0)
		fail("sim evidence");
	t0 = now_us();
	for (long i = 0; i < n; i++) {
		if (coffer_tee_verify(ev, evlen, a, NULL, coffer_wall_ms() / 1000, NULL,
		    &cl) != 0)
			fail("verify");
		coffer_tee_claims_free(cl);
		cl = NULL;
	}
	ms = ms_since(t0);
	printf("verify n=%ld us_per_verification=%.1f\n", n, ms * 1000 / (double)n);
	free(ev);
	free(pem);
	coffer_tee_anchors_free(a);
	return 0;
}

/* A key upload as `coffer key upload` makes it, minus its checks. */
static int
upload(int argc, char **argv)
{
	struct coffer_identity id;
	struct coffer_buf env = COFFER_BUF_INIT(COFFER_KEYUPLOAD_MAX);
	struct coffer_buf reply = COFFER_BUF_INIT(1 << 16);
	uint8_t h[32], key[32], kid[16];
	CURL *c;
	long code;

	if (argc < 6) {
		fprintf(stderr, "relworker upload URL POLICY KEYFILE IDFILE\n");
		return 2;
	}
	opt.url = argv[2];
	hexarg(argv[3], h, 32, "POLICY");
	if (coffer_datakey_load(argv[4], key) != 0 || coffer_datakey_id(key, kid) != 0)
		fail(argv[4]);
	if (coffer_identity_load(argv[5], &id) != 0)
		fail(argv[5]);
	for (int i = 6; i < argc; i++) {
		if (strcmp(argv[i], "--key-id") == 0 && i + 1 < argc)
			hexarg(argv[++i], kid, 16, "--key-id");
		else if (strcmp(argv[i], "--coord-kx") == 0 && i + 1 < argc) {
			hexarg(argv[++i], opt.coord_kx, 32, "--coord-kx");
			opt.have_kx = 1;
		} else {
			fprintf(stderr, "relworker: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (!opt.have_kx)
		fetch_coord_kx();
	if (coffer_keyupload_make(&id, h, kid, key, opt.coord_kx, &env) != 0)
		fail("upload");
	coffer_identity_wipe(&id);
	coffer_wipe(key, sizeof(key));
	c = curl_easy_init();
	code = post(c, "/v1/keys", env.data, env.len, &reply);
	curl_easy_cleanup(c);
	if (code == 200) {
		printf("{\"outcome\":\"stored\"}\n");
		return 0;
	}
	if (code < 0)
		return 1;
	say_refused(code, &reply);
	return 7;
}

/* ---- Item proofs: relworker prove ----
 *
 *   relworker prove URL SESSIONFILE [popts] ITEM...
 *
 * ITEM: a map item's index ("0"), "all" (every map item), or "reduce";
 * with ":failed=CODE" a FAILED proof with that error (else OK). Each proof
 * takes the session's next sequence number (kept in SESSIONFILE), a fresh
 * attempt id, the pinned input digest (map: the policy's; reduce: the root
 * of GET .../stages/map/leaves) and, for OK, an output: with --store DIR
 * the text "<variant> of <key>\n" sealed under the key the worker would
 * use (the intermediate key for a map output of a job with a reduce
 * stage, else the output key) and stored as DIR/<prefix><key>.<attempt>
 * (reduce: DIR/<prefix>result.<attempt>), else a made-up digest.
 *
 * popts: --reduce-input HEX (the reduce proof's input digest instead of
 *   the map results' root), --batch N (proofs per request, default 1), --store DIR, --prefix
 *   P, --variant S (another output: "output" by default), --seq N (start
 *   at this sequence number instead of the kept one), --bench N (N OK map
 *   proofs over the items in turn; prints a summary only), --binary
 *   (application/octet-stream batches, item-proof.md section 8.1),
 *   --clients C (C connections at once, each sending every C-th request
 *   of the run in turn; with --bench the summary adds the requests'
 *   latency p50 and p99)
 * faults: --forge-mac (a byte of the MAC changed), --wrong-input (another
 *   input digest, MAC'd), --other-job (another job id, MAC'd), --replay
 *   (every request sent twice: the answers must be the same), --keep FILE
 *   (append every proof sent to FILE, one hex line each), --resend FILE
 *   (send the proofs of FILE again, byte for byte, instead of new ones),
 *   --no-send (make them, keep them, send nothing)
 * Output: one JSON line per proof {"item", "stage", "seq", "outcome",
 * "reason", "log_index", "attempt", "output_digest"}; every answer is
 * checked (WA1: format, MAC, the proof's MAC). Exit 0 when none was
 * refused, 7 when one was (or the request was), 1 on another failure.
 */
static struct {
	const char *session_file, *store, *prefix, *variant, *keep, *resend;
	long batch, bench, seq, clients;
	int have_seq, forge_mac, wrong_input, other_job, replay, no_send, binary;
} pv;

struct psession {
	uint8_t job[16], session[16], key[32], output_key[32], inter_key[32];
	uint8_t policy[32];
	int reduce;
	long next_seq;
	char app[COFFER_POLICY_NAME_MAX + 1];
};

static long
get(CURL *c, const char *path, struct coffer_buf *out)
{
	char url[1024];
	long code = -1;

	snprintf(url, sizeof(url), "%s%s", opt.url, path);
	coffer_buf_reset(out);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

static void
session_load(struct psession *s)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16);
	json_t *j = NULL;
	const char *app;

	if (coffer_file_read(pv.session_file, 1 << 16, &b) != 0 ||
	    coffer_json_parse((const char *)b.data, b.len, 1 << 16, 4, &j) != 0)
		fail(pv.session_file);
	hexarg(json_string_value(json_object_get(j, "job")), s->job, 16, "job");
	hexarg(json_string_value(json_object_get(j, "session")), s->session, 16,
	    "session");
	hexarg(json_string_value(json_object_get(j, "session_key")), s->key, 32,
	    "session_key");
	hexarg(json_string_value(json_object_get(j, "output_key")), s->output_key,
	    32, "output_key");
	hexarg(json_string_value(json_object_get(j, "intermediate_key")),
	    s->inter_key, 32, "intermediate_key");
	hexarg(json_string_value(json_object_get(j, "policy")), s->policy, 32,
	    "policy");
	s->reduce = json_is_true(json_object_get(j, "reduce"));
	s->next_seq = (long)json_integer_value(json_object_get(j, "next_seq"));
	if ((app = json_string_value(json_object_get(j, "app"))) == NULL)
		fail("session file: app");
	snprintf(s->app, sizeof(s->app), "%s", app);
	json_decref(j);
	coffer_buf_release(&b);
}

static void
session_keep_seq(const struct psession *s)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16);
	json_t *j = NULL;
	char *text;

	if (coffer_file_read(pv.session_file, 1 << 16, &b) != 0 ||
	    coffer_json_parse((const char *)b.data, b.len, 1 << 16, 4, &j) != 0 ||
	    json_object_set_new(j, "next_seq", json_integer(s->next_seq)) != 0 ||
	    (text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    coffer_file_write_atomic(pv.session_file, text, strlen(text), 0600, 0) != 0)
		fail(pv.session_file);
	free(text);
	json_decref(j);
	coffer_buf_release(&b);
}

/* The map results' root: what a reduce worker proves as its input. */
static void
map_root(CURL *c, const struct psession *s, uint8_t root[32])
{
	struct coffer_buf b = COFFER_BUF_INIT((size_t)16 << 20);
	coffer_merkle_hash *h;
	json_t *j = NULL, *a, *v;
	uint8_t raw[COFFER_RESULT_ENTRY_LEN];
	char path[128], jh[33];
	size_t i;
	long code;

	coffer_hex_encode(s->job, 16, jh);
	snprintf(path, sizeof(path), "/v1/jobs/%s/stages/map/leaves", jh);
	if ((code = get(c, path, &b)) != 200) {
		if (code > 0)
			say_refused(code, &b);
		exit(code > 0 ? 7 : 1);
	}
	if (coffer_json_parse((const char *)b.data, b.len, b.len + 1, 4, &j) != 0 ||
	    !json_is_array(a = json_object_get(j, "leaves")))
		fail("map leaves");
	if ((h = coffer_calloc(json_array_size(a) + 1, sizeof(*h))) == NULL)
		fail("memory");
	json_array_foreach(a, i, v)
		if (coffer_b64url_decode_exact(json_string_value(v),
		    json_string_length(v), raw, sizeof(raw)) != 0 ||
		    coffer_merkle_leaf(raw, sizeof(raw), h[i]) != 0)
			fail("a map leaf");
	if (coffer_merkle_root(h, json_array_size(a), root) != 0)
		fail("root");
	free(h);
	json_decref(j);
	coffer_buf_release(&b);
}

struct pitem {
	int reduce;
	uint64_t index;
	uint32_t error;     /* FAILED when non-zero */
};

/* Make proof p of item it (seq and attempt set here) and its output. */
static void
make_proof(const struct psession *s, const struct coffer_policy_item *items,
    const uint8_t reduce_in[32], const struct pitem *it, uint64_t seq,
    uint8_t out[COFFER_ITEMPROOF_LEN])
{
	struct coffer_itemproof p;
	struct coffer_buf pt = COFFER_BUF_INIT(4096), sealed = COFFER_BUF_INIT(8192);
	const char *key = it->reduce ? "result" : items[it->index].key;
	char att[33], path[4096];

	memset(&p, 0, sizeof(p));
	p.stage = it->reduce ? COFFER_STAGE_REDUCE : COFFER_STAGE_MAP;
	p.result = it->error ? COFFER_RESULT_FAILED : COFFER_RESULT_OK;
	memcpy(p.job, s->job, 16);
	memcpy(p.session, s->session, 16);
	p.seq = seq;
	p.item = it->reduce ? 0 : it->index;
	if (coffer_random(p.attempt, 16) != 0)
		fail("random");
	memcpy(p.input_digest, it->reduce ? reduce_in : items[it->index].digest, 32);
	p.error = it->error;
	if (!it->error) {
		if (coffer_buf_putf(&pt, "%s of %s\n", pv.variant, key) != 0)
			fail("output");
		if (pv.store != NULL) {
			/* As the worker seals and stores it (item-proof.md 9): the
			 * salt from the plaintext, so that an equal output is an
			 * equal object. */
			const uint8_t *k = !it->reduce && s->reduce ? s->inter_key :
			    s->output_key;
			uint8_t d[32], salt[32];

			if (coffer_sha256(pt.data, pt.len, d) != 0 ||
			    coffer_itemproof_output_salt(k, s->job, p.stage, p.item, d,
			    salt) != 0 ||
			    coffer_sealed_seal_mem_salted(k, NULL, salt, pt.data, pt.len,
			    &sealed, NULL) != 0)
				fail("seal");
			coffer_hex_encode(p.attempt, 16, att);
			snprintf(path, sizeof(path), "%s/%s%s.%s", pv.store, pv.prefix, key, att);
			if (coffer_file_write_atomic(path, sealed.data, sealed.len, 0644, 0) != 0)
				fail(path);
		} else if (coffer_buf_put(&sealed, pt.data, pt.len) != 0) {
			fail("output");
		}
		if (coffer_sha256(sealed.data, sealed.len, p.output_digest) != 0)
			fail("digest");
		p.output_size = sealed.len;
	}
	if (pv.wrong_input)
		p.input_digest[0] ^= 0xff;
	if (pv.other_job)
		p.job[0] ^= 0xff;
	if (coffer_itemproof_encode(&p, s->key, out) != 0)
		fail("encode");
	if (pv.forge_mac)
		out[183] ^= 0x01;
	coffer_buf_release(&pt);
	coffer_buf_release(&sealed);
}

/* Send n proofs in one request; answers checked (WA1) into acks. 0 sent,
 * 7 the request refused, 1 a failure. */
static int
send_batch(CURL *c, const struct psession *s,
    const uint8_t (*proofs)[COFFER_ITEMPROOF_LEN], size_t n,
    struct coffer_itemack *acks, struct coffer_buf *body, struct coffer_buf *reply)
{
	char path[128], jh[33];
	json_t *j = NULL, *a;
	uint8_t b[COFFER_ITEMACK_LEN];
	long code = -1;
	int rc = 1;

	coffer_hex_encode(s->job, 16, jh);
	snprintf(path, sizeof(path), "/v1/jobs/%s/proofs", jh);
	coffer_buf_reset(body);
	if (pv.binary)
		code = post_as(c, path, COFFER_ITEMPROOF_BATCH_BINARY, proofs[0],
		    n * COFFER_ITEMPROOF_LEN, reply);
	else if (coffer_itemproof_batch_put(proofs, n, body) != 0)
		fail("batch");
	else
		code = post(c, path, body->data, body->len, reply);
	if (code != 200) {
		if (code > 0)
			say_refused(code, reply);
		return code > 0 ? 7 : 1;
	}
	if (pv.binary) {
		/* WA1: n answers of 80 bytes back to back */
		if (reply->len != n * COFFER_ITEMACK_LEN) {
			fprintf(stderr, "relworker: not one answer per proof\n");
			return 1;
		}
		for (size_t i = 0; i < n; i++)
			if (coffer_itemack_open(reply->data + i * COFFER_ITEMACK_LEN,
			    COFFER_ITEMACK_LEN, s->key, &acks[i]) != 0 ||
			    memcmp(acks[i].proof_mac, proofs[i] + 152, 32) != 0) {
				fprintf(stderr, "relworker: answer %zu does not verify "
				    "(WA1)\n", i);
				return 1;
			}
		return 0;
	}
	if (coffer_json_parse((const char *)reply->data, reply->len, reply->len + 1, 4,
	    &j) != 0 || !json_is_array(a = json_object_get(j, "acks")) ||
	    json_array_size(a) != n) {
		fprintf(stderr, "relworker: not one answer per proof\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(a, i);

		if (!json_is_string(v) || coffer_b64url_decode_exact(json_string_value(v),
		    json_string_length(v), b, sizeof(b)) != 0 ||
		    coffer_itemack_open(b, sizeof(b), s->key, &acks[i]) != 0 ||
		    memcmp(acks[i].proof_mac, proofs[i] + 152, 32) != 0) {
			fprintf(stderr, "relworker: answer %zu does not verify (WA1)\n", i);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* --keep: the proofs as sent, one hex line each. */
static void
keep_proofs(const uint8_t (*proofs)[COFFER_ITEMPROOF_LEN], size_t n)
{
	char hex[2 * COFFER_ITEMPROOF_LEN + 1];
	FILE *f = fopen(pv.keep, "a");

	if (f == NULL)
		fail(pv.keep);
	for (size_t i = 0; i < n; i++) {
		coffer_hex_encode(proofs[i], COFFER_ITEMPROOF_LEN, hex);
		fprintf(f, "%s\n", hex);
	}
	if (fclose(f) != 0)
		fail(pv.keep);
}

/* --resend: the proofs of a --keep file (into proofs, which has room for
 * 4 batches). */
static size_t
load_proofs(uint8_t (**proofs)[COFFER_ITEMPROOF_LEN])
{
	char line[2 * COFFER_ITEMPROOF_LEN + 8];
	size_t n = 0;
	FILE *f = fopen(pv.resend, "r");

	if (f == NULL)
		fail(pv.resend);
	while (fgets(line, sizeof(line), f) != NULL &&
	    n < (size_t)COFFER_ITEMPROOF_BATCH_MAX * 4) {
		line[strcspn(line, "\n")] = '\0';
		hexarg(line, (*proofs)[n++], COFFER_ITEMPROOF_LEN, pv.resend);
	}
	fclose(f);
	return n;
}

/* relworker result-key URL JOB FPR IDFILE: the result key the coordinator
 * wraps to FPR, opened (rules RR1 to RR4) as the identity IDFILE: only the
 * recipient with fingerprint FPR can. */
static int
result_key(int argc, char **argv)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16);
	struct coffer_identity id;
	uint8_t job[16], fp[32], pol[32], key[32];
	char path[256];
	json_t *j = NULL, *m;
	const char *ph;
	long code;
	int rc = 0;
	CURL *c;

	if (argc != 6) {
		fprintf(stderr, "relworker result-key URL JOB FPR IDFILE\n");
		return 2;
	}
	opt.url = argv[2];
	hexarg(argv[3], job, 16, "JOB");
	hexarg(argv[4], fp, 32, "FPR");
	if (coffer_identity_load(argv[5], &id) != 0)
		fail(argv[5]);
	fetch_coord_kx();
	c = curl_easy_init();
	snprintf(path, sizeof(path), "/v1/jobs/%s/result-key/%s", argv[3], argv[4]);
	if ((code = get(c, path, &b)) != 200) {
		if (code > 0)
			say_refused(code, &b);
		rc = code > 0 ? 7 : 1;
		goto out;
	}
	if (coffer_json_parse((const char *)b.data, b.len, 1 << 16, 4, &j) != 0 ||
	    (ph = json_string_value(json_object_get(j, "policy"))) == NULL)
		fail("the answer");
	hexarg(ph, pol, 32, "policy");
	if (coffer_resultkey_answer_open((const char *)b.data, b.len, job, pol, fp,
	    id.kx_sk, opt.coord_kx, key) != 0) {
		m = json_string(coffer_errdetail());
		printf("{\"outcome\":\"unopened\",\"message\":");
		json_dumpf(m, stdout, JSON_ENCODE_ANY);
		printf("}\n");
		json_decref(m);
		rc = 4;
		goto out;
	}
	printf("{\"outcome\":\"opened\"}\n");
out:
	coffer_wipe(key, sizeof(key));
	coffer_identity_wipe(&id);
	json_decref(j);
	curl_easy_cleanup(c);
	coffer_buf_release(&b);
	return rc;
}

static void
say_proof(const uint8_t p[COFFER_ITEMPROOF_LEN], const struct coffer_itemack *a,
    int replay)
{
	struct coffer_itemproof x;
	char att[33], od[65];
	const char *reason = a->reason ? coffer_itemproof_reason_name(a->reason) : NULL;

	/* A forged proof does not parse as sent: read its fields raw. */
	memset(&x, 0, sizeof(x));
	x.stage = p[5];
	x.seq = coffer_load_u64be(p + 40);
	x.item = coffer_load_u64be(p + 48);
	coffer_hex_encode(p + 56, 16, att);
	coffer_hex_encode(p + 104, 32, od);
	printf("{\"stage\":\"%s\",\"item\":%llu,\"seq\":%llu,\"outcome\":\"%s\","
	    "\"reason\":\"%s\",\"log_index\":%lld,\"attempt\":\"%s\","
	    "\"output_digest\":\"%s\"%s}\n", x.stage ? "reduce" : "map",
	    (unsigned long long)x.item, (unsigned long long)x.seq,
	    coffer_itemack_outcome_name(a->outcome), reason ? reason : "",
	    a->log_index == COFFER_ITEMACK_NOT_LOGGED ? -1LL : (long long)a->log_index,
	    att, od, replay ? ",\"replay\":true" : "");
}

/* One connection's share of a prove run (--clients): requests first,
 * first + clients, ... of batch proofs each. */
struct psender {
	const struct psession *s;
	const uint8_t (*proofs)[COFFER_ITEMPROOF_LEN];
	struct coffer_itemack *acks;
	size_t n, first;
	double *lat;              /* per request, ms */
	int rc, refused;
};

static void
send_part(struct psender *p)
{
	struct coffer_buf body = COFFER_BUF_INIT(COFFER_ITEMPROOF_BATCH_BYTES);
	struct coffer_buf reply = COFFER_BUF_INIT((size_t)1 << 20);
	struct coffer_itemack *again = coffer_calloc((size_t)pv.batch, sizeof(*again));
	size_t b = (size_t)pv.batch, step = b * (size_t)pv.clients;
	CURL *c = curl_easy_init();

	if (again == NULL || c == NULL)
		fail("memory");
	for (size_t k = p->first * b; k < p->n && p->rc == 0; k += step) {
		size_t n = p->n - k < b ? p->n - k : b;
		int64_t t = now_us();

		p->rc = send_batch(c, p->s, &p->proofs[k], n, &p->acks[k], &body, &reply);
		p->lat[k / b] = ms_since(t);
		if (p->rc == 0 && pv.replay) {
			p->rc = send_batch(c, p->s, &p->proofs[k], n, again, &body, &reply);
			for (size_t m = 0; p->rc == 0 && m < n; m++)
				if (memcmp(&again[m], &p->acks[k + m], sizeof(again[m])) != 0) {
					fprintf(stderr, "relworker: a replay was answered "
					    "differently\n");
					p->rc = 1;
				}
		}
		for (size_t m = 0; p->rc == 0 && m < n; m++)
			if (p->acks[k + m].outcome == COFFER_ACK_REFUSED)
				p->refused = 1;
		if (p->rc != 0 || pv.bench != 0)
			continue;
		/* Each answer as it comes (a run killed midway shows those). */
		pthread_mutex_lock(&out_mu);
		for (size_t m = 0; m < n; m++) {
			say_proof(p->proofs[k + m], &p->acks[k + m], 0);
			if (pv.replay)
				say_proof(p->proofs[k + m], &again[m], 1);
		}
		fflush(stdout);
		pthread_mutex_unlock(&out_mu);
	}
	curl_easy_cleanup(c);
	free(again);
	coffer_buf_release(&body);
	coffer_buf_release(&reply);
}

static void *
send_thread(void *arg)
{
	send_part(arg);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
prove(int argc, char **argv)
{
	struct coffer_buf pol = COFFER_BUF_INIT(COFFER_POLICY_MAX_BYTES + 4096);
	struct coffer_buf body = COFFER_BUF_INIT(COFFER_ITEMPROOF_BATCH_BYTES);
	struct coffer_buf reply = COFFER_BUF_INIT((size_t)1 << 20);
	struct coffer_policy *p = NULL;
	const struct coffer_policy_app *app;
	struct coffer_policy_item *items = NULL;
	struct pitem *want = NULL;
	uint8_t (*proofs)[COFFER_ITEMPROOF_LEN] = NULL, reduce_in[32];
	struct coffer_itemack *acks = NULL;
	double *lat = NULL;
	struct psession s;
	size_t nitems = 0, nwant = 0, cap;
	char path[128], ph[65];
	int64_t t0;
	int rc = 0, i, refused = 0, have_reduce_in = 0;
	CURL *c;

	if (argc < 4) {
		fprintf(stderr, "relworker prove URL SESSIONFILE [opts] ITEM...\n");
		return 2;
	}
	opt.url = argv[2];
	pv.session_file = argv[3];
	pv.batch = 1;
	pv.clients = 1;
	pv.prefix = "";
	pv.variant = "output";
	memset(&s, 0, sizeof(s));
	session_load(&s);
	c = curl_easy_init();
	/* W5: the policy, by its hash. */
	coffer_hex_encode(s.policy, 32, ph);
	snprintf(path, sizeof(path), "/v1/policies/%s", ph);
	if (get(c, path, &pol) != 200 ||
	    coffer_policy_parse((const char *)pol.data, pol.len, &p) != 0 ||
	    memcmp(p->hash, s.policy, 32) != 0 ||
	    (app = coffer_policy_app(p, s.app)) == NULL ||
	    coffer_policy_items(p, app, &items, &nitems) != 0)
		fail("the job's policy");
	cap = nitems + (size_t)argc;
	if ((want = coffer_calloc(cap, sizeof(*want))) == NULL)
		fail("memory");
	for (i = 4; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (strcmp(a, "--batch") == 0 && v) {
			pv.batch = strtol(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--bench") == 0 && v) {
			pv.bench = strtol(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--seq") == 0 && v) {
			pv.seq = strtol(v, NULL, 10);
			pv.have_seq = 1;
			i++;
		} else if (strcmp(a, "--store") == 0 && v) {
			pv.store = v;
			i++;
		} else if (strcmp(a, "--prefix") == 0 && v) {
			pv.prefix = v;
			i++;
		} else if (strcmp(a, "--reduce-input") == 0 && v) {
			hexarg(v, reduce_in, 32, a);
			have_reduce_in = 1;
			i++;
		} else if (strcmp(a, "--no-send") == 0) {
			pv.no_send = 1;
		} else if (strcmp(a, "--keep") == 0 && v) {
			pv.keep = v;
			i++;
		} else if (strcmp(a, "--resend") == 0 && v) {
			pv.resend = v;
			i++;
		} else if (strcmp(a, "--variant") == 0 && v) {
			pv.variant = v;
			i++;
		} else if (strcmp(a, "--binary") == 0) {
			pv.binary = 1;
		} else if (strcmp(a, "--clients") == 0 && v) {
			pv.clients = strtol(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--forge-mac") == 0) {
			pv.forge_mac = 1;
		} else if (strcmp(a, "--wrong-input") == 0) {
			pv.wrong_input = 1;
		} else if (strcmp(a, "--other-job") == 0) {
			pv.other_job = 1;
		} else if (strcmp(a, "--replay") == 0) {
			pv.replay = 1;
		} else if (strcmp(a, "all") == 0) {
			for (size_t k = 0; k < nitems && nwant < cap; k++)
				want[nwant++].index = k;
		} else if (nwant < cap && (strncmp(a, "reduce", 6) == 0 ||
		    (a[0] >= '0' && a[0] <= '9'))) {
			struct pitem *w = &want[nwant++];
			const char *f;

			w->reduce = strncmp(a, "reduce", 6) == 0;
			if (!w->reduce)
				w->index = strtoull(a, &end, 10);
			if ((f = strstr(a, ":failed=")) != NULL)
				w->error = (uint32_t)strtoul(f + 8, NULL, 10);
			if (!w->reduce && w->index >= nitems) {
				fprintf(stderr, "relworker: item %s is not an item of the job\n", a);
				return 2;
			}
		} else {
			fprintf(stderr, "relworker: unknown or incomplete option %s\n", a);
			return 2;
		}
	}
	if (pv.batch < 1 || pv.batch > COFFER_ITEMPROOF_BATCH_MAX) {
		fprintf(stderr, "relworker: --batch 1 to %d\n", COFFER_ITEMPROOF_BATCH_MAX);
		return 2;
	}
	if (pv.clients < 1 || pv.clients > 64) {
		fprintf(stderr, "relworker: --clients 1 to 64\n");
		return 2;
	}
	if (pv.have_seq)
		s.next_seq = pv.seq;
	if (pv.bench > 0) {
		free(want);
		if ((want = coffer_calloc((size_t)pv.bench, sizeof(*want))) == NULL)
			fail("memory");
		for (long k = 0; k < pv.bench; k++)
			want[k].index = (uint64_t)k % nitems;
		nwant = (size_t)pv.bench;
	}
	for (size_t k = 0; k < nwant; k++)
		if (want[k].reduce && !have_reduce_in) {
			map_root(c, &s, reduce_in);
			have_reduce_in = 1;
		}
	if (pv.resend != NULL)
		nwant = COFFER_ITEMPROOF_BATCH_MAX * 4;
	if ((proofs = coffer_calloc(nwant + 1, sizeof(*proofs))) == NULL ||
	    (acks = coffer_calloc(nwant + 1, sizeof(*acks))) == NULL ||
	    (lat = coffer_calloc(nwant + 1, sizeof(*lat))) == NULL)
		fail("memory");
	if (pv.resend != NULL)
		nwant = load_proofs(&proofs);
	else
		for (size_t k = 0; k < nwant; k++)
			make_proof(&s, items, reduce_in, &want[k], (uint64_t)s.next_seq++,
			    proofs[k]);
	if (pv.keep != NULL)
		keep_proofs((const uint8_t (*)[COFFER_ITEMPROOF_LEN])proofs, nwant);
	t0 = now_us();
	{
		struct psender snd[64];
		pthread_t th[64];

		memset(snd, 0, sizeof(snd));
		for (long t = 0; t < pv.clients; t++) {
			snd[t].s = &s;
			snd[t].proofs = (const uint8_t (*)[COFFER_ITEMPROOF_LEN])proofs;
			snd[t].acks = acks;
			snd[t].n = pv.no_send ? 0 : nwant;
			snd[t].first = (size_t)t;
			snd[t].lat = lat;
			if (pv.clients == 1)
				send_part(&snd[t]);
			else if (pthread_create(&th[t], NULL, send_thread, &snd[t]) != 0)
				fail("pthread_create");
		}
		for (long t = 0; pv.clients > 1 && t < pv.clients; t++)
			pthread_join(th[t], NULL);
		for (long t = 0; t < pv.clients; t++) {
			rc = rc ? rc : snd[t].rc;
			refused |= snd[t].refused;
		}
	}
	if (pv.bench > 0 && rc == 0) {
		double ms = ms_since(t0);
		uint64_t by[6] = { 0 };

		for (size_t k = 0; k < nwant; k++)
			by[acks[k].outcome < 6 ? acks[k].outcome : 0]++;
		size_t nreq = (nwant + (size_t)pv.batch - 1) / (size_t)pv.batch;

		qsort(lat, nreq, sizeof(*lat), cmp_double);
		printf("proofs=%zu batch=%ld clients=%ld requests=%zu wall_ms=%.1f "
		    "proofs_per_s=%.0f p50_ms=%.3f p99_ms=%.3f committed=%llu "
		    "duplicate=%llu refused=%llu\n", nwant, pv.batch, pv.clients,
		    nreq, ms, (double)nwant / (ms / 1000), lat[nreq / 2],
		    lat[nreq * 99 / 100], (unsigned long long)by[1],
		    (unsigned long long)by[3], (unsigned long long)by[5]);
	}
	if (pv.resend == NULL)
		session_keep_seq(&s);
	curl_easy_cleanup(c);
	coffer_wipe(&s, sizeof(s));
	coffer_policy_free(p);
	free(items);
	free(want);
	free(proofs);
	free(acks);
	free(lat);
	coffer_buf_release(&pol);
	coffer_buf_release(&body);
	coffer_buf_release(&reply);
	return rc != 0 ? rc : refused ? 7 : 0;
}

int
main(int argc, char **argv)
{
	pthread_t *th;
	int64_t t0;
	double wall;
	int i;

	coffer_log_setup("relworker", COFFER_LOG_ERROR, COFFER_LOG_HUMAN, NULL);
	if (argc < 3) {
		fprintf(stderr, "usage: relworker release URL JOB [opts] | "
		    "relworker verify-bench N [--sim-dir DIR] [--measure FILE]\n");
		return 2;
	}
	opt.n = 1;
	opt.conc = 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(argv[1], "upload") == 0)
		return upload(argc, argv);
	if (strcmp(argv[1], "prove") == 0)
		return prove(argc, argv);
	if (strcmp(argv[1], "result-key") == 0)
		return result_key(argc, argv);
	for (i = strcmp(argv[1], "release") == 0 || strcmp(argv[1], "standby") == 0 ?
	    4 : strcmp(argv[1], "bind") == 0 ? 5 : 3; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--coord-kx") == 0 && v) {
			hexarg(v, opt.coord_kx, 32, a);
			opt.have_kx = 1;
			i++;
		} else if (strcmp(a, "--expect-kx") == 0 && v) {
			hexarg(v, opt.expect_kx, 32, a);
			opt.have_expect_kx = 1;
			i++;
		} else if (strcmp(a, "--bind-other-job") == 0 && v) {
			hexarg(v, opt.other_job, 16, a);
			opt.have_other_job = 1;
			i++;
		} else if (strcmp(a, "--measure") == 0 && v && opt.n_measure < MAX_MEASURE) {
			opt.measure[opt.n_measure++] = v;
			i++;
		} else if (strcmp(a, "--sim-dir") == 0 && v) {
			opt.sim_dir = v;
			i++;
		} else if (strcmp(a, "--sim-values") == 0 && v) {
			if (coffer_tee_sim_values_parse(v, strlen(v), &opt.sim_values) != 0)
				fail("--sim-values");
			opt.have_sim_values = 1;
			i++;
		} else if (strcmp(a, "--save-session") == 0 && v) {
			opt.save_session = v;
			i++;
		} else if (strcmp(a, "--save-keys") == 0 && v) {
			opt.save_keys = v;
			i++;
		} else if (strcmp(a, "--wait-ms") == 0 && v) {
			opt.wait_ms = strtol(v, NULL, 10);
			i++;
		} else if (strcmp(a, "-n") == 0 && v) {
			opt.n = strtol(v, NULL, 10);
			i++;
		} else if (strcmp(a, "-c") == 0 && v) {
			opt.conc = strtol(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--sources") == 0 && v) {
			opt.sources = strtol(v, NULL, 10);
			if (opt.sources < 1 || opt.sources > 254) {
				fprintf(stderr, "relworker: --sources 1 to 254\n");
				return 2;
			}
			i++;
		} else if (strcmp(a, "--twice") == 0) {
			opt.twice = 1;
		} else if (strcmp(a, "--forge-nonce") == 0) {
			opt.forge_nonce = 1;
		} else if (strcmp(a, "--bind-other-key") == 0) {
			opt.bind_other_key = 1;
		} else if (strcmp(a, "--corrupt-evidence") == 0) {
			opt.corrupt = 1;
		} else if (strcmp(a, "--malformed") == 0) {
			opt.malformed = 1;
		} else if (strcmp(a, "--latency") == 0) {
			opt.latency = 1;
		} else if (strcmp(a, "--standby") == 0) {
			opt.standby = 1;
		} else if (strcmp(a, "--other-binding") == 0) {
			opt.other_binding = 1;
		} else if (strcmp(a, "--phases") == 0 && v) {
			opt.cpu_pid = strtol(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--forge-mac") == 0) {
			opt.forge_mac = 1;
		} else {
			fprintf(stderr, "relworker: unknown or incomplete option %s\n", a);
			return 2;
		}
	}
	if (strcmp(argv[1], "verify-bench") == 0)
		return verify_bench(strtol(argv[2], NULL, 10));
	if (strcmp(argv[1], "standby") == 0 && argc >= 4) {
		uint8_t sid[16], s[COFFER_STANDBY_SECRET_LEN];
		CURL *c = curl_easy_init();
		char idh[33];
		int rc;

		opt.url = argv[2];
		opt.standby_file = argv[3];
		if (!opt.have_kx)
			fetch_coord_kx();
		if ((rc = standby_make(c, sid, s)) == 0) {
			standby_save(sid, s);
			coffer_hex_encode(sid, 16, idh);
			printf("{\"outcome\":\"standby\",\"standby\":\"%s\"}\n", idh);
		}
		coffer_wipe(s, sizeof(s));
		curl_easy_cleanup(c);
		return rc;
	}
	if (strcmp(argv[1], "bind") == 0 && argc >= 5) {
		uint8_t sid[16], s[COFFER_STANDBY_SECRET_LEN];
		CURL *c = curl_easy_init();
		int rc;

		opt.url = argv[2];
		hexarg(argv[3], opt.job, 16, "JOB");
		opt.standby_file = argv[4];
		standby_load(sid, s);
		rc = bind_one(c, sid, s);
		coffer_wipe(s, sizeof(s));
		curl_easy_cleanup(c);
		return rc;
	}
	if (strcmp(argv[1], "release") != 0 || argc < 4) {
		fprintf(stderr, "relworker: expected 'release URL JOB'\n");
		return 2;
	}
	opt.url = argv[2];
	hexarg(argv[3], opt.job, 16, "JOB");
	if (opt.n < 1 || opt.conc < 1 || opt.conc > 2000) {
		fprintf(stderr, "relworker: bad -n or -c\n");
		return 2;
	}
	if (!opt.have_kx)
		fetch_coord_kx();
	if (opt.standby && opt.cpu_pid > 0)
		return phases();
	if (opt.latency) {
		lat_exchange = coffer_calloc((size_t)opt.n, sizeof(double));
		lat_total = coffer_calloc((size_t)opt.n, sizeof(double));
		if (lat_exchange == NULL || lat_total == NULL)
			fail("memory");
	}
	if ((th = coffer_calloc((size_t)opt.conc, sizeof(*th))) == NULL)
		fail("memory");
	t0 = now_us();
	for (long k = 0; k < opt.conc; k++)
		if (pthread_create(&th[k], NULL, runner, (void *)(intptr_t)k) != 0)
			fail("pthread_create");
	for (long k = 0; k < opt.conc; k++)
		pthread_join(th[k], NULL);
	wall = ms_since(t0);
	if (opt.latency && !any_refused && !any_failed) {
		percentiles("exchange", lat_exchange, opt.n);
		percentiles("total", lat_total, opt.n);
		printf("wall n=%ld c=%ld ms=%.1f\n", opt.n, opt.conc, wall);
	}
	free(th);
	free(lat_exchange);
	free(lat_total);
	curl_global_cleanup();
	return any_failed ? 1 : any_refused ? 7 : 0;
}
