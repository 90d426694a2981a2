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
//   relworker verify-bench N           sim evidence verifications alone
//   relworker upload URL POLICY KEYFILE IDFILE [--coord-kx HEX]
//             [--key-id HEX]       a key upload without the CLI's own
//                                  checks (to exercise UP5 to UP7)
//
// opts: --coord-kx HEX (the coordinator's X25519 key; default: from its
//   /v1/identity, as after `coffer coordinator verify`), --measure FILE
//   (repeatable; default this program), --sim-dir DIR, --save-keys DIR
//   (write each released data key as <key_id>.key), -n N, -c C (releases,
//   concurrency), --sources N (spread the connections over N loopback
//   source addresses 127.0.0.1.., for more than one client's connection
//   limit), --latency (print per-release milliseconds),
//   --sim-values JSON (INSECURE SIMULATION evidence v2's simulated platform:
//   debug, TCB...; doc/format/evidence.md section 8.4)
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
#include "proto/keyrelease.h"

#define MAX_MEASURE 8

static struct {
	const char *url, *sim_dir, *save_keys;
	const char *measure[MAX_MEASURE];
	size_t n_measure;
	uint8_t job[16], other_job[16], coord_kx[32], expect_kx[32];
	int have_kx, have_expect_kx, have_other_job;
	int twice, forge_nonce, bind_other_key, corrupt, malformed, latency;
	int have_sim_values;
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
post(CURL *c, const char *path, const void *body, size_t len,
    struct coffer_buf *out)
{
	char url[1024];
	struct curl_slist *h = NULL;
	long code = -1;

	snprintf(url, sizeof(url), "%s%s", opt.url, path);
	coffer_buf_reset(out);
	h = curl_slist_append(h, "Content-Type: application/json");
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
	if (coffer_json_parse((const char *)reply.data, reply.len, 4096, 4, &j) != 0 ||
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
	if (coffer_keyrelease_binding(opt.have_other_job ? opt.other_job : opt.job,
	    nonce, opt.bind_other_key ? other_pk : w_pk, rd) != 0)
		fail("binding");
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
		rc = release_one(c, i);
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
	for (i = strcmp(argv[1], "release") == 0 ? 4 : 3; i < argc; i++) {
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
		} else {
			fprintf(stderr, "relworker: unknown or incomplete option %s\n", a);
			return 2;
		}
	}
	if (strcmp(argv[1], "verify-bench") == 0)
		return verify_bench(strtol(argv[2], NULL, 10));
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
