// SPDX-License-Identifier: Apache-2.0
// Collateral (src/tee/collateral.c, jspan.c, tcbinfo.c): the JSON span
// extractor, every accepted form (PCS body, dcap-qvl, DER/PEM/hex CRLs),
// tampering, choosing by time, and the TCB-level matching with modified
// TCB Info the way the origins' own tests modify it.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "test_tee_common.h"
#include "tee/tee_int.h"

static struct coffer_tee_anchors *anchors;

static int
setup(void **state)
{
	(void)state;
	return coffer_tee_anchors_new_default(&anchors) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	coffer_tee_anchors_free(anchors);
	return 0;
}

/* Adapters to the collateral's internals (how a test reaches the parsed
 * pieces and gives a verification context its collateral). */
static struct tee_enclave_identity *
coll_first_identity(struct coffer_tee_collateral *c)
{
	return (struct tee_enclave_identity *)&c->cur->ids[0]->id;
}

static void
vctx_use(struct tee_vctx *v, struct coffer_tee_collateral *c)
{
	v->coll = c;
	v->set = tee_coll_set_get(c);
}

static void
vctx_done(struct tee_vctx *v)
{
	tee_coll_set_put(v->set);
	v->set = NULL;
}

/* ------------------------------------------------------------------ */

static void
span_is(const char *json, const char *key, const char *want)
{
	size_t a = 0, b = 0;

	if (tee_json_span(json, strlen(json), key, &a, &b) != 0)
		fail_msg("span %s in %s: %s", key, json, coffer_errdetail());
	assert_int_equal(b - a, strlen(want));
	assert_memory_equal(json + a, want, b - a);
}

static void
test_span__finds_exact_bytes_of_top_level_values(void **state)
{
	size_t a, b;

	(void)state;
	span_is("{\"tcbInfo\":{\"a\":1},\"signature\":\"ab\"}", "tcbInfo", "{\"a\":1}");
	span_is("{\"signature\":\"ab\", \"tcbInfo\" : { \"a\" : [1, {\"b\":\"}\"}] } }",
	    "tcbInfo", "{ \"a\" : [1, {\"b\":\"}\"}] }");
	span_is("{\"x\":\"\\\"tcbInfo\\\":{}\",\"tcbInfo\":[]}", "tcbInfo", "[]");
	span_is("{\"n\":-1.5e3,\"t\":true,\"k\":null}", "t", "true");
	span_is("{\"n\":-1.5e3,\"t\":true,\"k\":null}", "n", "-1.5e3");
	/* only top-level members count */
	assert_int_equal(tee_json_span("{\"a\":{\"tcbInfo\":1}}", 19, "tcbInfo", &a, &b),
	    COFFER_E_NOTFOUND);
	assert_int_equal(tee_json_span("{}", 2, "k", &a, &b), COFFER_E_NOTFOUND);
	assert_int_equal(tee_json_span("{\"k\":1,\"k\":2}", 13, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("[1]", 3, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("{\"k\":{\"a\":1}", 12, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("{\"k\":\"abc", 9, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("{\"k\" 1}", 7, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("{\"k\":1 \"j\":2}", 13, "k", &a, &b), COFFER_E_FORMAT);
	assert_int_equal(tee_json_span("", 0, "k", &a, &b), COFFER_E_FORMAT);
}

static void
test_span__pcs_sample_span_is_what_intel_signed(void **state)
{
	struct coffer_buf f = COFFER_BUF_INIT(1 << 20);
	const char *s;
	size_t a, b;

	(void)state;
	tt_read(ATT "tdx/go-tdx-guest/sample_tcbInfo_response", &f);
	s = (const char *)f.data;
	assert_int_equal(tee_json_span(s, f.len, "tcbInfo", &a, &b), 0);
	assert_int_equal(s[a], '{');
	assert_int_equal(s[b - 1], '}');
	assert_non_null(strstr(s + b, "\"signature\""));
	coffer_buf_release(&f);
}

static void
test_pem__strict_base64_and_block_limits(void **state)
{
	struct coffer_buf der[3] = { COFFER_BUF_INIT(1 << 16), COFFER_BUF_INIT(1 << 16),
	    COFFER_BUF_INIT(1 << 16) };
	const char *ok = "junk\n-----BEGIN CERTIFICATE-----\nTWFu\nTWE=\r\n"
	    "-----END CERTIFICATE-----\n\0";
	size_t n = 0;

	(void)state;
	assert_int_equal(tee_pem_certs((const uint8_t *)ok, strlen(ok) + 1, der, 3, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(der[0].len, 5);
	assert_memory_equal(der[0].data, "ManMa", 5);
	/* Non-zero unused bits ("TWF=" would be a second encoding of "Ma"),
	 * a character outside the alphabet, padding in the middle, a
	 * missing END line, no block at all: all rejected. */
	{
		static const char *const bad[] = {
			"-----BEGIN CERTIFICATE-----\nTWF=\n-----END CERTIFICATE-----",
			"-----BEGIN CERTIFICATE-----\nTW-u\n-----END CERTIFICATE-----",
			"-----BEGIN CERTIFICATE-----\nTW==TWFu\n-----END CERTIFICATE-----",
			"-----BEGIN CERTIFICATE-----\nTWFu\n",
			"-----BEGIN CERTIFICATE-----\nTWF\n-----END CERTIFICATE-----",
			"no pem here",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			coffer_buf_reset(&der[0]);
			if (tee_pem_certs((const uint8_t *)bad[i], strlen(bad[i]), der, 3, &n) == 0)
				fail_msg("accepted bad PEM %zu", i);
		}
	}
	{
		char four[512] = "";

		for (int i = 0; i < 4; i++)
			snprintf(four + strlen(four), sizeof(four) - strlen(four),
			    "-----BEGIN CERTIFICATE-----\nTWFu\n-----END CERTIFICATE-----\n");
		for (int i = 0; i < 3; i++)
			coffer_buf_reset(&der[i]);
		assert_int_equal(tee_pem_certs((const uint8_t *)four, strlen(four), der, 3, &n),
		    COFFER_E_LIMIT);
	}
	for (int i = 0; i < 3; i++)
		coffer_buf_release(&der[i]);
}

/* ------------------------------------------------------------------ */

static int
add_mem(struct coffer_tee_collateral *c, const struct coffer_buf *b)
{
	return coffer_tee_collateral_add_mem(c, "test", b->data, b->len);
}

static void
test_collateral__pcs_body_signature_covers_the_inner_object(void **state)
{
	struct coffer_buf sig = COFFER_BUF_INIT(1 << 20), f = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_collateral *c = NULL;
	char *p;

	(void)state;
	tt_read(ATT "intel-pki/intel_sgx_tcb_signing_2018-2025.der", &sig);
	tt_read(ATT "tdx/go-tdx-guest/sample_tcbInfo_response", &f);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	/* Without the TCB signing certificate it cannot be checked. */
	assert_int_equal(add_mem(c, &f), COFFER_E_UNTRUSTED);
	assert_int_equal(add_mem(c, &sig), 0);
	assert_int_equal(add_mem(c, &f), 0);
	assert_int_equal(c->cur->n_tcb, 1);
	assert_true(c->cur->tcb[0]->info.tdx);
	tt_hex_eq(c->cur->tcb[0]->info.fmspc, 6, "50806f000000");
	assert_int_equal(sk_X509_num(c->cur->tcb[0]->signers), 1);
	/* A change inside the signed object is caught... */
	p = strstr((char *)f.data, "\"pceId\":\"0000\"");
	assert_non_null(p);
	p[10] = '1';
	assert_int_equal(add_mem(c, &f), COFFER_E_SIGNATURE);
	p[10] = '0';
	/* ...white space outside it is not signed and does not matter. */
	{
		struct coffer_buf g = COFFER_BUF_INIT(1 << 20);

		assert_int_equal(coffer_buf_puts(&g, "  \n"), 0);
		assert_int_equal(coffer_buf_put(&g, f.data, f.len), 0);
		assert_int_equal(coffer_buf_puts(&g, "\n"), 0);
		assert_int_equal(add_mem(c, &g), 0);
		coffer_buf_release(&g);
	}
	/* A corrupt signature field */
	p = strstr((char *)f.data, "\"signature\":\"");
	assert_non_null(p);
	p[14] = p[14] == 'a' ? 'b' : 'a';
	assert_int_equal(add_mem(c, &f), COFFER_E_SIGNATURE);
	coffer_tee_collateral_free(c);
	coffer_buf_release(&sig);
	coffer_buf_release(&f);
}

static void
test_collateral__dcap_qvl_bundle_tamper_is_caught(void **state)
{
	struct coffer_buf f = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_collateral *c = NULL;
	char *p;

	(void)state;
	tt_read(ATT "sgx/dcap-qvl/sgx_quote_collateral.json", &f);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	assert_int_equal(add_mem(c, &f), 0);
	assert_int_equal(c->cur->n_tcb, 1);
	assert_int_equal(c->cur->n_ids, 1);
	assert_int_equal(c->cur->n_crls, 2);
	/* The CRLs were verified at load: root CRL by the root, PCK CRL by
	 * the Processor CA of the issuer chain. */
	assert_true(c->cur->crls[0]->verified);
	assert_true(c->cur->crls[1]->verified);
	/* tcbEvaluationDataNumber 17 -> 18 inside the signed text */
	p = strstr((char *)f.data, "tcbEvaluationDataNumber\\\":17");
	assert_non_null(p);
	assert_int_equal(p[27], '7');
	p[27] = '8';
	assert_int_equal(add_mem(c, &f), COFFER_E_SIGNATURE);
	p[27] = '7';
	/* a byte of the root CA CRL (hex) */
	p = strstr((char *)f.data, "\"root_ca_crl\"");
	assert_non_null(p);
	p = strchr(p + 14, '"');
	assert_non_null(p);
	p[1 + 300] = p[1 + 300] == '0' ? '1' : '0';
	assert_int_not_equal(add_mem(c, &f), 0);
	assert_int_equal(c->cur->n_tcb, 1); /* nothing of a failed call is kept */
	coffer_tee_collateral_free(c);
	coffer_buf_release(&f);
}

static void
test_collateral__crl_in_der_pem_and_hex(void **state)
{
	struct coffer_buf der = COFFER_BUF_INIT(1 << 20), txt = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_collateral *c = NULL;
	X509_CRL *crl;
	BIO *bio;
	const uint8_t *q;
	char *pem;
	long n;

	(void)state;
	tt_read(ATT "tdx/go-tdx-guest/rootcrl.der", &der);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	assert_int_equal(add_mem(c, &der), 0);
	assert_true(c->cur->crls[0]->verified);
	/* hex text, as PCCS stores CRLs */
	assert_int_equal(coffer_hex_put(&txt, der.data, der.len), 0);
	assert_int_equal(coffer_buf_puts(&txt, "\n"), 0);
	assert_int_equal(add_mem(c, &txt), 0);
	/* PEM */
	q = der.data;
	assert_non_null(crl = d2i_X509_CRL(NULL, &q, (long)der.len));
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_X509_CRL(bio, crl), 1);
	n = BIO_get_mem_data(bio, &pem);
	assert_int_equal(coffer_tee_collateral_add_mem(c, "pem", (uint8_t *)pem, (size_t)n), 0);
	assert_int_equal(c->cur->n_crls, 3);
	BIO_free(bio);
	X509_CRL_free(crl);
	/* A CRL claiming to be the root's with a broken signature */
	der.data[der.len - 5] ^= 1;
	assert_int_equal(add_mem(c, &der), COFFER_E_SIGNATURE);
	/* Junk */
	coffer_buf_reset(&txt);
	assert_int_equal(coffer_buf_puts(&txt, "hello, collateral"), 0);
	assert_int_equal(add_mem(c, &txt), COFFER_E_FORMAT);
	coffer_buf_reset(&txt);
	assert_int_equal(coffer_buf_puts(&txt, "{\"tcbInfo2\":{}}"), 0);
	assert_int_equal(add_mem(c, &txt), COFFER_E_FORMAT);
	coffer_tee_collateral_free(c);
	coffer_buf_release(&der);
	coffer_buf_release(&txt);
}

static void
test_collateral__directory_and_missing_paths(void **state)
{
	struct coffer_tee_collateral *c = NULL;
	char path[PATH_MAX], tmpl[] = "/tmp/coffer-coll.XXXXXX", *dir;

	(void)state;
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	tt_path(ATT "tdx/go-tdx-guest/ccel", path, sizeof(path));
	/* a directory of files that are not collateral */
	assert_int_equal(coffer_tee_collateral_add_path(c, path), COFFER_E_FORMAT);
	assert_int_equal(coffer_tee_collateral_add_path(c, "/nonexistent/coll"),
	    COFFER_E_NOTFOUND);
	assert_non_null(dir = mkdtemp(tmpl));
	assert_int_equal(coffer_tee_collateral_add_path(c, dir), COFFER_E_NOTFOUND);
	rmdir(dir);
	/* the amd-pki directory: certificates only (ASKs, ARKs): 8 in its
	 * files, ARK-Milan twice, so 7 distinct ones; adding it again adds
	 * none. */
	tt_path(ATT "amd-pki", path, sizeof(path));
	assert_int_equal(coffer_tee_collateral_add_path(c, path), 0);
	assert_int_equal(sk_X509_num(c->cur->certs), 7);
	assert_int_equal(coffer_tee_collateral_add_path(c, path), 0);
	assert_int_equal(sk_X509_num(c->cur->certs), 7);
	coffer_tee_collateral_free(c);
}

/* Two dcap-qvl bundles in one collection: each quote is judged with the
 * TD_QE identity valid at its own time (eval numbers 17 and 18). */
static void
test_collateral__chooses_the_piece_valid_at_the_time(void **state)
{
	static const char *const both[] = {
		ATT "tdx/dcap-qvl/tdx_quote_collateral.json",
		ATT "tdx/dcap-qvl/tdx_quote_outdated_collateral.json", NULL,
	};
	struct coffer_tee_collateral *c;
	const struct tee_signed_identity *id;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_claims *cl = NULL;
	struct coffer_tee_anchors *other = NULL;

	(void)state;
	c = tt_coll(anchors, both);
	id = tee_coll_identity(c->cur, "TD_QE", tt_time("2025-07-01T00:00:00Z"));
	assert_non_null(id);
	assert_int_equal(id->id.eval_num, 17);
	id = tee_coll_identity(c->cur, "TD_QE", tt_time("2026-03-01T00:00:00Z"));
	assert_int_equal(id->id.eval_num, 18);
	/* Out of every window: the newest, so the verifier reports expiry. */
	id = tee_coll_identity(c->cur, "TD_QE", tt_time("2030-01-01T00:00:00Z"));
	assert_int_equal(id->id.eval_num, 18);
	assert_null(tee_coll_identity(c->cur, "QE", tt_time("2025-07-01T00:00:00Z")));
	tt_read(ATT "tdx/dcap-qvl/tdx_quote", &ev);
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, anchors, c,
	    tt_time("2025-07-01T00:00:00Z"), NULL, &cl), 0);
	assert_int_equal(cl->tcb_status, COFFER_TCB_UP_TO_DATE);
	coffer_tee_claims_free(cl);
	/* Collateral loaded for other anchors is refused. */
	assert_int_equal(coffer_tee_anchors_new_default(&other), 0);
	cl = NULL;
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, other, c,
	    tt_time("2025-07-01T00:00:00Z"), NULL, &cl), COFFER_E_INVAL);
	assert_null(cl);
	coffer_tee_anchors_free(other);
	coffer_tee_collateral_free(c);
	coffer_buf_release(&ev);
}

/* One collateral object, several threads verifying at once (its caches
 * and lazily checked CRLs are shared; the verdicts must not change). */
struct worker_arg {
	struct coffer_tee_collateral *c;
	const struct coffer_buf *ev;
	int64_t at;
	int ok;
};

static void *
worker(void *p)
{
	struct worker_arg *w = p;

	w->ok = 1;
	for (int i = 0; i < 40; i++) {
		struct coffer_tee_claims *cl = NULL;

		if (coffer_tee_verify(w->ev->data, w->ev->len, anchors, w->c, w->at, NULL,
		    &cl) != 0 || cl->tcb_status != COFFER_TCB_UP_TO_DATE)
			w->ok = 0;
		coffer_tee_claims_free(cl);
	}
	return NULL;
}

static void
test_collateral__shared_by_threads(void **state)
{
	static const char *const coll[] = { ATT "tdx/dcap-qvl/tdx_quote_collateral.json", NULL };
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct worker_arg w[4];
	pthread_t th[4];

	(void)state;
	tt_read(ATT "tdx/dcap-qvl/tdx_quote", &ev);
	w[0].c = tt_coll(anchors, coll);
	for (int i = 0; i < 4; i++) {
		w[i].c = w[0].c;
		w[i].ev = &ev;
		w[i].at = tt_time("2025-07-01T00:00:00Z");
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(w[i].ok);
	}
	coffer_tee_collateral_free(w[0].c);
	coffer_buf_release(&ev);
}

/* ------------------------------------------------------------------ */
/* Adding collateral while other threads verify with it (issue 10: the
 * arrays a reader walks were reallocated under it). Run under ASan
 * (make SANITIZE=address,undefined test) this is a use-after-free on the
 * old code; the verdicts must also stay what they are. */

struct rw_arg {
	struct coffer_tee_collateral *c;
	const struct coffer_buf *ev;
	int64_t at;
	int *stop;                /* atomic: set by the refreshing thread */
	int ok, runs;
};

static void *
reader(void *p)
{
	struct rw_arg *w = p;

	w->ok = 1;
	while (!__atomic_load_n(w->stop, __ATOMIC_ACQUIRE) || w->runs < 10) {
		struct coffer_tee_claims *cl = NULL;

		if (coffer_tee_verify(w->ev->data, w->ev->len, anchors, w->c, w->at, NULL,
		    &cl) != 0 || cl->tcb_status != COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
			w->ok = 0;
		coffer_tee_claims_free(cl);
		w->runs++;
	}
	return NULL;
}

static void
test_collateral__add_while_two_threads_verify(void **state)
{
	static const char *const coll[] = { ATT "sgx/dcap-qvl/sgx_quote_collateral.json", NULL };
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20), f = COFFER_BUF_INIT(1 << 20);
	struct rw_arg w[2];
	pthread_t th[2];
	int stop = 0;
	struct coffer_tee_collateral *c;

	(void)state;
	tt_read(ATT "sgx/dcap-qvl/sgx_quote", &ev);
	tt_read(coll[0], &f);
	c = tt_coll(anchors, coll);
	for (int i = 0; i < 2; i++) {
		w[i].c = c;
		w[i].ev = &ev;
		w[i].at = tt_time("2025-07-19T10:01:17Z");
		w[i].stop = &stop;
		w[i].runs = 0;
		assert_int_equal(pthread_create(&th[i], NULL, reader, &w[i]), 0);
	}
	/* The third thread (this one) refreshes the collateral meanwhile. */
	for (int i = 0; i < 30; i++)
		if (coffer_tee_collateral_add_mem(c, "refresh", f.data, f.len) != 0)
			fail_msg("refresh %d: %s", i, coffer_errdetail());
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_true(w[i].ok);
	}
	coffer_tee_collateral_free(c);
	coffer_buf_release(&ev);
	coffer_buf_release(&f);
}

/* ------------------------------------------------------------------ */
/* A QE Identity present while the FMSPC has no TCB Info (missing
 * collateral allowed): the QE is still judged by it. */

/* Collateral with only the SGX QE identity of the dcap-qvl bundle (as a
 * PCS body) and its signing chain. */
static struct coffer_tee_collateral *
qe_only_collateral(void)
{
	struct coffer_buf f = COFFER_BUF_INIT(1 << 20), body = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_collateral *c = NULL;
	const char *chain, *text, *sig;
	json_t *doc;

	tt_read(ATT "sgx/dcap-qvl/sgx_quote_collateral.json", &f);
	assert_non_null(doc = json_loadb((char *)f.data, f.len, 0, NULL));
	assert_non_null(chain = json_string_value(json_object_get(doc, "qe_identity_issuer_chain")));
	assert_non_null(text = json_string_value(json_object_get(doc, "qe_identity")));
	assert_non_null(sig = json_string_value(json_object_get(doc, "qe_identity_signature")));
	assert_int_equal(coffer_buf_puts(&body, "{\"enclaveIdentity\":"), 0);
	assert_int_equal(coffer_buf_puts(&body, text), 0);
	assert_int_equal(coffer_buf_puts(&body, ",\"signature\":\""), 0);
	assert_int_equal(coffer_buf_puts(&body, sig), 0);
	assert_int_equal(coffer_buf_puts(&body, "\"}"), 0);
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	if (coffer_tee_collateral_add_mem(c, "chain", (const uint8_t *)chain, strlen(chain)) != 0 ||
	    coffer_tee_collateral_add_mem(c, "qe", body.data, body.len) != 0)
		fail_msg("QE identity: %s", coffer_errdetail());
	json_decref(doc);
	coffer_buf_release(&f);
	coffer_buf_release(&body);
	return c;
}

static struct coffer_tee_claims *
verify_sgx(struct coffer_tee_collateral *c, const char *at, unsigned flags, int *rc)
{
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_claims *cl = NULL;

	tt_read(ATT "sgx/dcap-qvl/sgx_quote", &ev);
	*rc = coffer_tee_verify(ev.data, ev.len, anchors, c, tt_time(at),
	    &(struct coffer_tee_verify_opts){ flags, NULL, NULL }, &cl);
	coffer_buf_release(&ev);
	assert_non_null(cl);
	return cl;
}

#define ALLOW_ALL (COFFER_TEE_ALLOW_NO_COLLATERAL | COFFER_TEE_ALLOW_NO_CRL)

static void
test_qe__judged_without_tcb_info(void **state)
{
	struct coffer_tee_collateral *c = qe_only_collateral();
	struct coffer_tee_claims *cl;
	int rc;

	(void)state;
	/* The genuine QE, inside the identity's window: accepted (TCB not
	 * evaluated, a note). */
	cl = verify_sgx(c, "2025-07-19T00:00:00Z", ALLOW_ALL, &rc);
	if (rc != 0) {
		tt_dump(cl);
		fail_msg("rc %d", rc);
	}
	assert_int_equal(cl->tcb_status, COFFER_TCB_NOT_EVALUATED);
	assert_true(coffer_tee_claims_has_reason(cl, "collateral.missing"));
	coffer_tee_claims_free(cl);
	/* The identity has expired: not a reason to skip it. */
	cl = verify_sgx(c, "2025-07-20T00:00:00Z", ALLOW_ALL, &rc);
	assert_int_equal(rc, COFFER_E_EXPIRED);
	assert_true(tt_fatal_are(cl, "collateral.expired"));
	coffer_tee_claims_free(cl);
	/* A QE that is not the one the identity describes (another signer):
	 * a QE report from a non-Intel QE is refused. */
	coll_first_identity(c)->mrsigner[0] ^= 1;
	cl = verify_sgx(c, "2025-07-19T00:00:00Z", ALLOW_ALL, &rc);
	assert_int_equal(rc, COFFER_E_POLICY);
	assert_true(tt_fatal_are(cl, "qe.identity_mismatch"));
	coffer_tee_claims_free(cl);
	coll_first_identity(c)->mrsigner[0] ^= 1;
	/* A QE whose level is OutOfDate: a note without a policy; refused by
	 * a policy that does not accept OutOfDate, even though the platform
	 * itself is not evaluated (doc/format/evidence.md 10.4, P2). */
	{
		struct tee_enclave_identity *id = coll_first_identity(c);
		struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
		struct coffer_tee_policy pol;
		enum coffer_tee_tcb_status saved[64];

		assert_true(id->n_levels <= 64);
		for (size_t i = 0; i < id->n_levels; i++) {
			saved[i] = id->levels[i].status;
			id->levels[i].status = COFFER_TCB_OUT_OF_DATE;
		}
		cl = verify_sgx(c, "2025-07-19T00:00:00Z", ALLOW_ALL, &rc);
		assert_int_equal(rc, 0);
		assert_true(coffer_tee_claims_has_reason(cl, "qe.out_of_date"));
		coffer_tee_claims_free(cl);
		tt_read(ATT "sgx/dcap-qvl/sgx_quote", &ev);
		{
			const char *js = "{\"version\":1,\"intel\":{\"allow_missing_collateral\""
			    ":true},\"allow_missing_crl\":true}";

			assert_int_equal(coffer_tee_policy_parse(js, strlen(js), &pol), 0);
		}
		cl = NULL;
		assert_int_equal(coffer_tee_verify(ev.data, ev.len, anchors, c,
		    tt_time("2025-07-19T00:00:00Z"),
		    &(struct coffer_tee_verify_opts){ 0, NULL, &pol }, &cl), COFFER_E_POLICY);
		assert_true(tt_fatal_are(cl, "policy.tcb_status"));
		coffer_tee_claims_free(cl);
		pol.intel_tcb_statuses |= 1u << COFFER_TCB_OUT_OF_DATE;
		cl = NULL;
		assert_int_equal(coffer_tee_verify(ev.data, ev.len, anchors, c,
		    tt_time("2025-07-19T00:00:00Z"),
		    &(struct coffer_tee_verify_opts){ 0, NULL, &pol }, &cl), 0);
		coffer_tee_claims_free(cl);
		for (size_t i = 0; i < id->n_levels; i++)
			id->levels[i].status = saved[i];
		coffer_buf_release(&ev);
	}
	/* A QE below every level of the identity is not supported. */
	for (size_t i = 0; i < coll_first_identity(c)->n_levels; i++)
		coll_first_identity(c)->levels[i].isvsvn = 200;
	cl = verify_sgx(c, "2025-07-19T00:00:00Z", ALLOW_ALL, &rc);
	assert_int_equal(rc, COFFER_E_POLICY);
	assert_true(tt_fatal_are(cl, "tcb.not_supported"));
	coffer_tee_claims_free(cl);
	coffer_tee_collateral_free(c);
}

/* ------------------------------------------------------------------ */
/* CRLs are matched to the issuer's key, not only its name. Two CAs with
 * one name and two keys (as when a CA is re-keyed) each have a CRL. */

struct pki {
	EVP_PKEY *root_k, *ca1_k, *ca2_k, *leaf_k;
	X509 *root, *ca1, *ca2, *leaf1, *leaf2;
	X509_CRL *crl1, *crl2;       /* crl1 newer, revokes nothing; crl2 revokes leaf2 */
};

static EVP_PKEY *
ec_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	assert_non_null(k);
	return k;
}

static X509 *
mk_cert(const char *cn, X509 *issuer, EVP_PKEY *issuer_k, EVP_PKEY *k, long serial, int ca)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 30);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, issuer_k, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

static X509_CRL *
mk_crl(X509 *issuer, EVP_PKEY *k, long age_days, long revoked_serial)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	X509_gmtime_adj(t, -86400L * age_days);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 86400L * 30);
	X509_CRL_set1_nextUpdate(crl, t);
	if (revoked_serial >= 0) {
		X509_REVOKED *rev = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();

		ASN1_INTEGER_set(s, revoked_serial);
		X509_REVOKED_set_serialNumber(rev, s);
		X509_gmtime_adj(t, -86400L * (age_days + 1));
		X509_REVOKED_set_revocationDate(rev, t);
		X509_CRL_add0_revoked(crl, rev);
		ASN1_INTEGER_free(s);
	}
	X509_CRL_sort(crl);
	assert_true(X509_CRL_sign(crl, k, EVP_sha256()) > 0);
	ASN1_TIME_free(t);
	return crl;
}

static void
pki_make(struct pki *p)
{
	p->root_k = ec_key();
	p->ca1_k = ec_key();
	p->ca2_k = ec_key();
	p->leaf_k = ec_key();
	p->root = mk_cert("Test Root CA", NULL, p->root_k, p->root_k, 1, 1);
	p->ca1 = mk_cert("Test PCK CA", p->root, p->root_k, p->ca1_k, 2, 1);
	p->ca2 = mk_cert("Test PCK CA", p->root, p->root_k, p->ca2_k, 3, 1);
	p->leaf1 = mk_cert("Test PCK Certificate", p->ca1, p->ca1_k, p->leaf_k, 41, 0);
	p->leaf2 = mk_cert("Test PCK Certificate", p->ca2, p->ca2_k, p->leaf_k, 42, 0);
	p->crl1 = mk_crl(p->ca1, p->ca1_k, 1, -1);
	p->crl2 = mk_crl(p->ca2, p->ca2_k, 2, 42);
}

static void
pki_free(struct pki *p)
{
	EVP_PKEY_free(p->root_k);
	EVP_PKEY_free(p->ca1_k);
	EVP_PKEY_free(p->ca2_k);
	EVP_PKEY_free(p->leaf_k);
	X509_free(p->root);
	X509_free(p->ca1);
	X509_free(p->ca2);
	X509_free(p->leaf1);
	X509_free(p->leaf2);
	X509_CRL_free(p->crl1);
	X509_CRL_free(p->crl2);
}

static void
add_crl_der(struct coffer_tee_collateral *c, X509_CRL *crl)
{
	uint8_t *der = NULL;
	int n = i2d_X509_CRL(crl, &der);

	assert_true(n > 0);
	if (coffer_tee_collateral_add_mem(c, "crl", der, (size_t)n) != 0)
		fail_msg("add CRL: %s", coffer_errdetail());
	OPENSSL_free(der);
}

/* The reasons tee_check_revocation records for cert issued by issuer. */
static void
revocation(struct coffer_tee_collateral *c, X509 *cert, X509 *issuer,
    struct coffer_tee_claims *claims)
{
	struct tee_vctx v;

	memset(claims, 0, sizeof(*claims));
	memset(&v, 0, sizeof(v));
	v.c = claims;
	v.anchors = anchors;
	vctx_use(&v, c);
	v.at = (int64_t)time(NULL);
	tee_check_revocation(&v, cert, issuer, "PCK certificate");
	vctx_done(&v);
}

static void
test_crl__matched_to_the_issuers_key_not_its_name(void **state)
{
	struct pki p;
	struct coffer_tee_collateral *c = NULL;
	struct coffer_tee_claims cl;

	(void)state;
	pki_make(&p);
	/* Only CA1's CRL: checked for CA1's certificate it is verified with
	 * CA1's key (and remembered); for CA2's, which has the same name, it
	 * must not count as verified. */
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	add_crl_der(c, p.crl1);
	revocation(c, p.leaf1, p.ca1, &cl);
	assert_true(tt_fatal_are(&cl, ""));
	revocation(c, p.leaf2, p.ca2, &cl);
	assert_true(coffer_tee_claims_has_reason(&cl, "crl.signature"));
	assert_false(coffer_tee_claims_has_reason(&cl, "chain.revoked"));
	coffer_tee_collateral_free(c);

	/* Both CRLs (CA1's is newer): CA2's certificate is judged by CA2's
	 * CRL, which revokes it. */
	assert_int_equal(coffer_tee_collateral_new(anchors, &c), 0);
	add_crl_der(c, p.crl1);
	add_crl_der(c, p.crl2);
	revocation(c, p.leaf2, p.ca2, &cl);
	assert_true(tt_fatal_are(&cl, "chain.revoked"));
	assert_true(coffer_tee_claims_has_reason(&cl, "chain.revoked"));
	revocation(c, p.leaf1, p.ca1, &cl);
	assert_true(tt_fatal_are(&cl, ""));
	coffer_tee_collateral_free(c);

	/* Checked at load: with both CAs in the collateral (issued by the
	 * trusted root), each CRL verifies with the key of its own CA. */
	{
		struct coffer_tee_anchors *a = NULL;
		uint8_t *der = NULL;
		BIO *bio = BIO_new(BIO_s_mem());
		char *pem;
		long n;
		int len = i2d_X509(p.root, &der);

		assert_true(len > 0);
		assert_int_equal(coffer_tee_anchors_new_default(&a), 0);
		assert_int_equal(coffer_tee_anchors_set_intel_root(a, der, (size_t)len), 0);
		OPENSSL_free(der);
		assert_true(PEM_write_bio_X509(bio, p.ca1) && PEM_write_bio_X509(bio, p.ca2) &&
		    PEM_write_bio_X509_CRL(bio, p.crl2) && PEM_write_bio_X509_CRL(bio, p.crl1));
		n = BIO_get_mem_data(bio, &pem);
		assert_int_equal(coffer_tee_collateral_new(a, &c), 0);
		if (coffer_tee_collateral_add_mem(c, "pki", (uint8_t *)pem, (size_t)n) != 0)
			fail_msg("add: %s", coffer_errdetail());
		coffer_tee_collateral_free(c);
		BIO_free(bio);
		coffer_tee_anchors_free(a);
	}
	pki_free(&p);
}

/* ------------------------------------------------------------------ */
/* ------------------------------------------------------------------ */
/* TCB level matching, on parsed collateral modified in memory (no
 * signature involved: tee_tcb_evaluate works on the parsed form). */

struct eval {
	struct coffer_tee_claims claims;
	struct tee_vctx v;
	struct tee_tcb_input in;
	struct tee_tcb_info ti;
	struct tee_enclave_identity qe;
};

/* Inputs from a real quote, collateral from a dcap-qvl bundle. */
static void
eval_setup(struct eval *e, const char *quote_rel, const char *coll_rel)
{
	struct coffer_buf q = COFFER_BUF_INIT(1 << 20), f = COFFER_BUF_INIT(1 << 20);
	struct tee_quote tq;
	struct tee_pck_ext ext;
	STACK_OF(X509) *pem = NULL;
	json_t *doc;
	const char *s;

	memset(e, 0, sizeof(*e));
	e->v.c = &e->claims;
	e->v.anchors = anchors;
	tt_read(quote_rel, &q);
	assert_int_equal(tee_quote_parse(q.data, q.len, &tq), 0);
	assert_int_equal(tee_certs_parse(tq.pck_pem, tq.pck_pem_len, &pem), 0);
	assert_int_equal(tee_pck_ext_get(sk_X509_value(pem, 0), &ext), 0);
	memcpy(e->in.comp_svn, ext.comp_svn, 16);
	e->in.pcesvn = ext.pcesvn;
	e->in.tdx = tq.tee_type == 0x81;
	e->in.quote_version = tq.version;
	if (e->in.tdx) {
		memcpy(e->in.tee_tcb_svn, tq.body, 16);
		memcpy(e->in.mrsigner_seam, tq.body + 64, 48);
		memcpy(e->in.seam_attributes, tq.body + 112, 8);
		e->in.is_v15 = tq.body_type == 3;
		if (e->in.is_v15)
			memcpy(e->in.tee_tcb_svn2, tq.body + 584, 16);
	}
	e->in.qe_miscselect = coffer_load_u32le(tq.qe_report + 16);
	memcpy(e->in.qe_attributes, tq.qe_report + 48, 16);
	memcpy(e->in.qe_mrsigner, tq.qe_report + 128, 32);
	e->in.qe_isvprodid = coffer_load_u16le(tq.qe_report + 256);
	e->in.qe_isvsvn = coffer_load_u16le(tq.qe_report + 258);
	sk_X509_pop_free(pem, X509_free);
	tt_read(coll_rel, &f);
	assert_non_null(doc = json_loadb((char *)f.data, f.len, 0, NULL));
	s = json_string_value(json_object_get(doc, "tcb_info"));
	assert_int_equal(tee_tcb_info_parse(s, strlen(s), &e->ti), 0);
	s = json_string_value(json_object_get(doc, "qe_identity"));
	assert_int_equal(tee_identity_parse(s, strlen(s), &e->qe), 0);
	json_decref(doc);
	coffer_buf_release(&q);
	coffer_buf_release(&f);
}

static enum coffer_tee_tcb_status
eval_run(struct eval *e)
{
	memset(&e->claims, 0, sizeof(e->claims));
	e->v.first_err = 0;
	return tee_tcb_evaluate(&e->v, &e->ti, &e->qe, &e->in);
}

static void
eval_release(struct eval *e)
{
	tee_tcb_info_release(&e->ti);
	tee_identity_release(&e->qe);
}

static void
test_tcb__tdx2_all_levels_out_of_date_gives_out_of_date(void **state)
{
	struct eval e;

	(void)state;
	eval_setup(&e, ATT "tdx/dcap-qvl/tdx_quote", ATT "tdx/dcap-qvl/tdx_quote_collateral.json");
	assert_int_equal(eval_run(&e), COFFER_TCB_UP_TO_DATE);
	assert_int_equal(e.claims.n_reasons, 0);
	/* verify_tcb_override.rs: every TCB level forced to OutOfDate */
	for (size_t i = 0; i < e.ti.n_levels; i++)
		e.ti.levels[i].status = COFFER_TCB_OUT_OF_DATE;
	assert_int_equal(eval_run(&e), COFFER_TCB_OUT_OF_DATE);
	assert_true(coffer_tee_claims_has_reason(&e.claims, "tcb.out_of_date"));
	assert_int_equal(e.v.first_err, 0); /* a note: acceptance is policy */
	/* A revoked level is fatal. */
	e.ti.levels[0].status = COFFER_TCB_REVOKED;
	assert_int_equal(eval_run(&e), COFFER_TCB_REVOKED);
	assert_int_equal(e.v.first_err, COFFER_E_REVOKED);
	/* The TDX module identity TDX_01's signer must match MRSIGNERSEAM. */
	e.ti.levels[0].status = COFFER_TCB_UP_TO_DATE;
	for (size_t i = 0; i < e.ti.n_modules; i++)
		e.ti.modules[i].mrsigner[0] ^= 1;
	assert_int_equal(eval_run(&e), COFFER_TCB_NOT_SUPPORTED);
	assert_true(coffer_tee_claims_has_reason(&e.claims, "tdx.module_mismatch"));
	for (size_t i = 0; i < e.ti.n_modules; i++)
		e.ti.modules[i].mrsigner[0] ^= 1;
	/* An out-of-date TDX module makes an UpToDate platform OutOfDate. */
	for (size_t i = 0; i < e.ti.n_modules; i++)
		for (size_t k = 0; k < e.ti.modules[i].n_levels; k++)
			e.ti.modules[i].levels[k].status = COFFER_TCB_OUT_OF_DATE;
	assert_int_equal(eval_run(&e), COFFER_TCB_OUT_OF_DATE);
	eval_release(&e);
}

static void
test_tcb__tdx3_permissive_level_gives_up_to_date(void **state)
{
	struct eval e;
	struct tee_tcb_level *lv;

	(void)state;
	eval_setup(&e, ATT "tdx/dcap-qvl/tdx_quote_outdated",
	    ATT "tdx/dcap-qvl/tdx_quote_outdated_collateral.json");
	assert_int_equal(eval_run(&e), COFFER_TCB_NOT_SUPPORTED);
	assert_true(coffer_tee_claims_has_reason(&e.claims, "tcb.not_supported"));
	/* outdated_fixture_with_override_matches_expected_status: insert an
	 * all-zero level forced to UpToDate. */
	assert_non_null(lv = realloc(e.ti.levels, (e.ti.n_levels + 1) * sizeof(*lv)));
	e.ti.levels = lv;
	memmove(lv + 1, lv, e.ti.n_levels * sizeof(*lv));
	memset(lv, 0, sizeof(*lv));
	lv->has_tdx = 1;
	lv->status = COFFER_TCB_UP_TO_DATE;
	e.ti.n_levels++;
	assert_int_equal(eval_run(&e), COFFER_TCB_UP_TO_DATE);
	eval_release(&e);
}

static void
test_tcb__sgx1_qe_out_of_date_converges(void **state)
{
	struct eval e;

	(void)state;
	eval_setup(&e, ATT "sgx/dcap-qvl/sgx_quote", ATT "sgx/dcap-qvl/sgx_quote_collateral.json");
	assert_int_equal(eval_run(&e), COFFER_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
	assert_int_equal(e.claims.n_advisory_ids, 2);
	/* A QE identity whose newest level is above the QE's ISVSVN 10: the
	 * QE is OutOfDate and QVL's convergence gives
	 * OutOfDateConfigurationNeeded; the QE level's advisory is added. */
	e.qe.levels[0].isvsvn = 11;
	assert_int_equal(eval_run(&e), COFFER_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	assert_true(coffer_tee_claims_has_reason(&e.claims,
	    "tcb.out_of_date_configuration_needed"));
	/* A QE of another signer is not the QE. */
	e.qe.levels[0].isvsvn = 8;
	e.qe.mrsigner[5] ^= 1;
	assert_int_equal(eval_run(&e), COFFER_TCB_NOT_SUPPORTED);
	assert_true(coffer_tee_claims_has_reason(&e.claims, "qe.identity_mismatch"));
	assert_int_equal(e.v.first_err, COFFER_E_POLICY);
	e.qe.mrsigner[5] ^= 1;
	/* A platform one PCESVN short of every level is not supported. */
	e.in.pcesvn = 0;
	assert_int_equal(eval_run(&e), COFFER_TCB_NOT_SUPPORTED);
	eval_release(&e);
}

/* TDRelaunchCheck (QVL): a TD 1.5 whose TEE_TCB_SVN2 names a module
 * version with no module identity in the TCB Info is a module mismatch
 * (STATUS_TDX_MODULE_MISMATCH), not the prior status. */
static void
test_tcb__tdx15_relaunch_with_unknown_module_version_fails(void **state)
{
	struct eval e;
	struct tee_tcb_level *lv;

	(void)state;
	eval_setup(&e, ATT "tdx/dcap-qvl/tdx_quote_outdated",
	    ATT "tdx/dcap-qvl/tdx_quote_outdated_collateral.json");
	assert_true(e.in.is_v15);
	assert_int_equal(e.in.tee_tcb_svn[1], 1);
	/* Two levels in front: the newest matches the SGX components (UpToDate)
	 * but not TEE_TCB_SVN[3]; the next matches both and is OutOfDate. The
	 * TD's module TDX_01 is OutOfDate too: a relaunch candidate. */
	assert_non_null(lv = realloc(e.ti.levels, (e.ti.n_levels + 2) * sizeof(*lv)));
	e.ti.levels = lv;
	memmove(lv + 2, lv, e.ti.n_levels * sizeof(*lv));
	memset(lv, 0, 2 * sizeof(*lv));
	lv[0].has_tdx = lv[1].has_tdx = 1;
	lv[0].tdx_comp[2] = 3;
	lv[0].tdx_comp[3] = 1;
	lv[0].status = COFFER_TCB_UP_TO_DATE;
	lv[1].status = COFFER_TCB_OUT_OF_DATE;
	e.ti.n_levels += 2;
	for (size_t i = 0; i < e.ti.n_modules; i++)
		for (size_t k = 0; k < e.ti.modules[i].n_levels; k++)
			e.ti.modules[i].levels[k].status = COFFER_TCB_OUT_OF_DATE;
	/* TEE_TCB_SVN2 0d 01 03: module TDX_01 updated in place to ISVSVN 13. */
	assert_int_equal(e.in.tee_tcb_svn2[1], 1);
	assert_int_equal(eval_run(&e), COFFER_TCB_TD_RELAUNCH_ADVISED);
	assert_int_equal(e.v.first_err, 0);
	/* Not yet updated far enough: the prior status. */
	e.in.tee_tcb_svn2[0] = 1;
	assert_int_equal(eval_run(&e), COFFER_TCB_OUT_OF_DATE);
	assert_int_equal(e.v.first_err, 0);
	e.in.tee_tcb_svn2[0] = 13;
	/* Updated to a module version the TCB Info does not know. */
	e.in.tee_tcb_svn2[1] = 0x05;
	assert_int_equal(eval_run(&e), COFFER_TCB_NOT_SUPPORTED);
	assert_int_equal(e.v.first_err, COFFER_E_POLICY);
	assert_true(tt_fatal_are(&e.claims, "tdx.module_mismatch"));
	assert_true(coffer_tee_claims_has_reason(&e.claims, "tdx.module_mismatch"));
	eval_release(&e);
}

static void
test_tcb__tdx1_zeroed_first_level_matches(void **state)
{
	struct coffer_buf f = COFFER_BUF_INIT(1 << 20), q = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_claims claims;
	struct tee_vctx v;
	struct tee_tcb_info ti;
	struct tee_tcb_input in;
	struct tee_quote tq;
	struct tee_pck_ext ext;
	STACK_OF(X509) *pem = NULL;
	size_t a, b;

	(void)state;
	tt_read(ATT "tdx/go-tdx-guest/sample_tcbInfo_response", &f);
	assert_int_equal(tee_json_span((char *)f.data, f.len, "tcbInfo", &a, &b), 0);
	assert_int_equal(tee_tcb_info_parse((char *)f.data + a, b - a, &ti), 0);
	tt_read(ATT "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat", &q);
	assert_int_equal(tee_quote_parse(q.data, q.len, &tq), 0);
	assert_int_equal(tee_certs_parse(tq.pck_pem, tq.pck_pem_len, &pem), 0);
	assert_int_equal(tee_pck_ext_get(sk_X509_value(pem, 0), &ext), 0);
	memset(&in, 0, sizeof(in));
	memcpy(in.comp_svn, ext.comp_svn, 16);
	in.pcesvn = ext.pcesvn;
	in.tdx = 1;
	in.quote_version = 4;
	memcpy(in.tee_tcb_svn, tq.body, 16);
	memset(&claims, 0, sizeof(claims));
	memset(&v, 0, sizeof(v));
	v.c = &claims;
	assert_int_equal(tee_tcb_evaluate(&v, &ti, NULL, &in), COFFER_TCB_NOT_SUPPORTED);
	/* validate_test.go zeroes every SVN of tcbLevels[0] */
	memset(ti.levels[0].sgx_comp, 0, 16);
	memset(ti.levels[0].tdx_comp, 0, 16);
	ti.levels[0].pcesvn = 0;
	memset(&claims, 0, sizeof(claims));
	assert_int_equal(tee_tcb_evaluate(&v, &ti, NULL, &in),
	    (enum coffer_tee_tcb_status)ti.levels[0].status);
	assert_int_equal(ti.levels[0].status, COFFER_TCB_UP_TO_DATE);
	tee_tcb_info_release(&ti);
	sk_X509_pop_free(pem, X509_free);
	coffer_buf_release(&f);
	coffer_buf_release(&q);
}

static void
test_tcb__rejects_malformed_tcb_info(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"id\":\"TDX\",\"version\":4}",
		"{\"id\":\"XYZ\",\"version\":3}",
		"{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"yesterday\",\"nextUpdate\":"
		    "\"2025-01-01T00:00:00Z\",\"fmspc\":\"00a067110000\",\"pceId\":\"0000\","
		    "\"tcbType\":0,\"tcbEvaluationDataNumber\":1,\"tcbLevels\":[]}",
		"{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\","
		    "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00a0671100\","
		    "\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":1,"
		    "\"tcbLevels\":[]}",
		"{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\","
		    "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00a067110000\","
		    "\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":1,"
		    "\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[],\"pcesvn\":1},"
		    "\"tcbDate\":\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}",
		"{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\","
		    "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00a067110000\","
		    "\"pceId\":\"0000\",\"tcbType\":1,\"tcbEvaluationDataNumber\":1,"
		    "\"tcbLevels\":[]}",
	};
	struct tee_tcb_info ti;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = tee_tcb_info_parse(bad[i], strlen(bad[i]), &ti);

		if (r == 0)
			fail_msg("accepted bad TCB Info %zu", i);
		assert_true(coffer_errdetail()[0] != '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_span__finds_exact_bytes_of_top_level_values),
		cmocka_unit_test(test_span__pcs_sample_span_is_what_intel_signed),
		cmocka_unit_test(test_pem__strict_base64_and_block_limits),
		cmocka_unit_test(test_collateral__pcs_body_signature_covers_the_inner_object),
		cmocka_unit_test(test_collateral__dcap_qvl_bundle_tamper_is_caught),
		cmocka_unit_test(test_collateral__crl_in_der_pem_and_hex),
		cmocka_unit_test(test_collateral__directory_and_missing_paths),
		cmocka_unit_test(test_collateral__chooses_the_piece_valid_at_the_time),
		cmocka_unit_test(test_collateral__shared_by_threads),
		cmocka_unit_test(test_collateral__add_while_two_threads_verify),
		cmocka_unit_test(test_qe__judged_without_tcb_info),
		cmocka_unit_test(test_crl__matched_to_the_issuers_key_not_its_name),
		cmocka_unit_test(test_tcb__tdx2_all_levels_out_of_date_gives_out_of_date),
		cmocka_unit_test(test_tcb__tdx3_permissive_level_gives_up_to_date),
		cmocka_unit_test(test_tcb__sgx1_qe_out_of_date_converges),
		cmocka_unit_test(test_tcb__tdx15_relaunch_with_unknown_module_version_fails),
		cmocka_unit_test(test_tcb__tdx1_zeroed_first_level_matches),
		cmocka_unit_test(test_tcb__rejects_malformed_tcb_info),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
