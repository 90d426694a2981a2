// SPDX-License-Identifier: Apache-2.0
// Verification time of real evidence with collateral loaded once (the
// coordinator's steady state): an SGX v3 quote, a TDX v4 quote, a TDX v5
// quote, an SEV-SNP report, and sim evidence. Used by bench/attest.sh,
// which compares each with the signature verifications it cannot avoid.
// Prints, per kind: "name us_per_verification p256 p384 rsa" where the
// last three count the signature verifications one verification does
// (best of 5 rounds, CPU time as openssl speed counts).
//   attest [SRCDIR]   (default .; the vectors are under tests/vectors)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/log.h"
#include "tee/tee_int.h"

#define ROUNDS 5

static const char *src = ".";

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "attest bench: %s: %s\n", what, coffer_errdetail());
	exit(1);
}

static void
readf(const char *rel, struct coffer_buf *b)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/tests/vectors/attestation/%s", src, rel);
	coffer_buf_reset(b);
	if (coffer_file_read(path, b->max, b) != 0)
		die(path);
}

static struct coffer_tee_collateral *
coll(const struct coffer_tee_anchors *a, const char *rel)
{
	struct coffer_tee_collateral *c = NULL;
	char path[4096];

	snprintf(path, sizeof(path), "%s/tests/vectors/attestation/%s", src, rel);
	if (coffer_tee_collateral_new(a, &c) != 0 || coffer_tee_collateral_add_path(c, path) != 0)
		die(path);
	return c;
}

/* Best per-verification CPU time over ROUNDS rounds of n verifications. */
static double
bench(const char *name, const struct coffer_buf *ev,
    const struct coffer_tee_anchors *a, struct coffer_tee_collateral *c,
    const char *at, unsigned flags, int n, int p256, int p384, int rsa, int cold)
{
	struct coffer_tee_verify_opts o = { flags, NULL, NULL };
	int64_t t;
	double best = 1e9;

	if (coffer_time_parse(at, &t) != 0)
		die(at);
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now(), dt;

		for (int i = 0; i < n; i++) {
			struct coffer_tee_claims *cl = NULL;

			/* cold: the platform's PCK certificate was never seen (the
			 * collateral's PCK CA stays known, as after loading). */
			if (cold && c != NULL)
				tee_cert_cache_flush(c);
			if (coffer_tee_verify(ev->data, ev->len, a, c, t, &o, &cl) != 0)
				die(name);
			coffer_tee_claims_free(cl);
		}
		dt = (now() - t0) / n;
		if (dt < best)
			best = dt;
	}
	printf("%s %.1f %d %d %d\n", name, best * 1e6, p256, p384, rsa);
	return best;
}

int
main(int argc, char **argv)
{
	struct coffer_tee_anchors *a = NULL;
	struct coffer_tee_collateral *sgx, *tdx, *tdx5, *snp;
	struct coffer_buf ev = COFFER_BUF_INIT((size_t)1 << 20);
	uint8_t rd[64] = { 0 }, *sim = NULL;
	size_t simlen = 0;
	char *pem = NULL, dir[] = "/tmp/coffer-bench-sim.XXXXXX";
	struct coffer_tee_backend_opts so;
	double t0, t1;

	if (argc > 1)
		src = argv[1];
	/* (sim verifications log an INSECURE SIMULATION warning, once) */
	coffer_log_setup("bench-attest", COFFER_LOG_ERROR, COFFER_LOG_HUMAN, NULL);
	if (coffer_tee_anchors_new_default(&a) != 0)
		die("anchors");
	/* Collateral is parsed and its signatures checked here, once. */
	t0 = now();
	sgx = coll(a, "sgx/dcap-qvl/sgx_quote_collateral.json");
	tdx = coll(a, "tdx/dcap-qvl/tdx_quote_collateral.json");
	tdx5 = coll(a, "tdx/dcap-qvl/tdx_quote_outdated_collateral.json");
	snp = coll(a, "sev-snp/go-sev-guest/vcek.testcer");
	t1 = now();
	printf("collateral_load_4_sets %.1f 0 0 0\n", (t1 - t0) * 1e6);

	/* A DCAP quote from a platform seen before costs two P-256
	 * verifications: the quote (attestation key) and the QE report (PCK
	 * key). The PCK certificate's signature is checked the first time the
	 * platform is seen (cold: three), its CA's, the CRLs', the TCB Info's
	 * and the QE Identity's when the collateral was loaded. */
	readf("sgx/dcap-qvl/sgx_quote", &ev);
	bench("sgx_v3_quote_warm", &ev, a, sgx, "2025-07-19T10:01:17Z", 0, 2000, 2, 0, 0, 0);
	bench("sgx_v3_quote_cold", &ev, a, sgx, "2025-07-19T10:01:17Z", 0, 1000, 3, 0, 0, 1);
	/* What the cold path pays that the warm one does not, besides the
	 * PCK certificate's signature: reading that certificate, against what
	 * OpenSSL's parse of it would cost (issue "Performance, round two",
	 * cold verification). */
	{
		struct tee_quote q;
		struct coffer_buf der[3] = { COFFER_BUF_INIT(65536), COFFER_BUF_INIT(65536),
		    COFFER_BUF_INIT(65536) };
		size_t n = 0;
		double best = 1e9;

		if (tee_quote_parse(ev.data, ev.len, &q) != 0 ||
		    tee_pem_certs(q.pck_pem, q.pck_pem_len, der, 3, &n) != 0)
			die("sgx quote");
		for (int r = 0; r < ROUNDS; r++) {
			double s = now();

			for (int i = 0; i < 1000; i++) {
				const uint8_t *p = der[0].data;
				X509 *x = d2i_X509(NULL, &p, (long)der[0].len);

				if (x == NULL)
					die("PCK certificate");
				X509_free(x);
			}
			if ((now() - s) / 1000 < best)
				best = (now() - s) / 1000;
		}
		printf("sgx_pck_certificate_parse %.1f 0 0 0\n", best * 1e6);
		/* What the verifier does instead (doc/format/evidence.md 4.1). */
		best = 1e9;
		for (int r = 0; r < ROUNDS; r++) {
			double s = now();

			for (int i = 0; i < 1000; i++) {
				struct tee_pck_cert c;

				if (tee_pck_cert_read(der[0].data, der[0].len, &c) != 0)
					die("PCK certificate");
			}
			if ((now() - s) / 1000 < best)
				best = (now() - s) / 1000;
		}
		printf("sgx_pck_certificate_read %.1f 0 0 0\n", best * 1e6);
		for (int i = 0; i < 3; i++)
			coffer_buf_release(&der[i]);
	}
	readf("tdx/dcap-qvl/tdx_quote", &ev);
	bench("tdx_v4_quote_warm", &ev, a, tdx, "2025-07-01T00:00:00Z", 0, 2000, 2, 0, 0, 0);
	bench("tdx_v4_quote_cold", &ev, a, tdx, "2025-07-01T00:00:00Z", 0, 1000, 3, 0, 0, 1);
	readf("tdx/dcap-qvl/tdx_quote_outdated", &ev);
	/* (rejected: no TCB level matches; the cost is the same) */
	{
		struct coffer_tee_verify_opts o = { 0, NULL, NULL };
		struct coffer_tee_claims *cl = NULL;
		int64_t t;
		double best = 1e9;

		if (coffer_time_parse("2026-03-01T00:00:00Z", &t) != 0)
			die("time");
		for (int r = 0; r < ROUNDS; r++) {
			double s = now();

			for (int i = 0; i < 2000; i++) {
				if (coffer_tee_verify(ev.data, ev.len, a, tdx5, t, &o, &cl) !=
				    COFFER_E_POLICY)
					die("tdx_v5_quote");
				coffer_tee_claims_free(cl);
				cl = NULL;
			}
			if ((now() - s) / 2000 < best)
				best = (now() - s) / 2000;
		}
		printf("tdx_v5_quote_warm %.1f 2 0 0\n", best * 1e6);
	}
	/* An SNP report: the report (P-384), and OpenSSL's path validation
	 * of the VCEK under the ASK and the ASK under the ARK (RSA-4096 PSS). */
	readf("sev-snp/go-sev-guest/attestation.bin", &ev);
	bench("snp_v2_report", &ev, a, snp, "2024-01-01T00:00:00Z",
	    COFFER_TEE_ALLOW_NO_CRL, 500, 0, 1, 2, 0);
	/* sim: one P-384 verification */
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	memset(&so, 0, sizeof(so));
	so.sim_dir = dir;
	if (coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd, &so, &sim, &simlen) != 0 ||
	    coffer_tee_sim_public_key(dir, &pem) != 0 ||
	    coffer_tee_anchors_add_sim_key(a, pem, strlen(pem)) != 0)
		die("sim");
	coffer_buf_reset(&ev);
	if (coffer_buf_put(&ev, sim, simlen) != 0)
		die("sim");
	bench("sim_evidence", &ev, a, NULL, "2026-01-01T00:00:00Z", 0, 500, 0, 1, 0, 0);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			die("rm");
	}
	free(sim);
	free(pem);
	coffer_buf_release(&ev);
	coffer_tee_collateral_free(sgx);
	coffer_tee_collateral_free(tdx);
	coffer_tee_collateral_free(tdx5);
	coffer_tee_collateral_free(snp);
	coffer_tee_anchors_free(a);
	return 0;
}
