// SPDX-License-Identifier: Apache-2.0
// The INSECURE SIMULATION backend (src/tee/sim.c) and the evidence
// envelope (src/tee/envelope.c): generate, verify, and reject when the
// platform key is not trusted, the report data differs or a byte changed.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>

#include "crypto/hash.h"
#include "lib/log.h"
#include "test_tee_common.h"
#include "tee/tee_int.h"

struct fixture {
	char dir[64], dir2[64], file1[96], file2[96];
};

static int
setup(void **state)
{
	static struct fixture f;
	FILE *fp;

	snprintf(f.dir, sizeof(f.dir), "/tmp/coffer-sim.XXXXXX");
	snprintf(f.dir2, sizeof(f.dir2), "/tmp/coffer-sim2.XXXXXX");
	if (mkdtemp(f.dir) == NULL || mkdtemp(f.dir2) == NULL)
		return -1;
	snprintf(f.file1, sizeof(f.file1), "%s/worker", f.dir);
	snprintf(f.file2, sizeof(f.file2), "%s/plugin.so", f.dir);
	if ((fp = fopen(f.file1, "w")) == NULL)
		return -1;
	fputs("#!/bin/sh\necho pretend worker\n", fp);
	fclose(fp);
	if ((fp = fopen(f.file2, "w")) == NULL)
		return -1;
	fputs("pretend plugin", fp);
	fclose(fp);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", f->dir, f->dir2);
	return system(cmd) == 0 ? 0 : -1;
}

static const uint8_t rd1[64] = "report data one: an X25519 key and a nonce";

static void
get_sim(struct fixture *f, const char *dir, const uint8_t rd[64], struct coffer_buf *out)
{
	const char *files[] = { f->file1, f->file2 };
	struct coffer_tee_backend_opts o = { dir, files, 2, NULL, NULL, NULL, NULL };
	uint8_t *ev = NULL;
	size_t n = 0;

	if (coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd, &o, &ev, &n) != 0)
		fail_msg("sim evidence: %s", coffer_errdetail());
	coffer_buf_reset(out);
	assert_int_equal(coffer_buf_put(out, ev, n), 0);
	free(ev);
}

static struct coffer_tee_anchors *
trusting(const char *dir)
{
	struct coffer_tee_anchors *a = NULL;
	char *pem = NULL;

	assert_int_equal(coffer_tee_anchors_new_default(&a), 0);
	if (dir != NULL) {
		assert_int_equal(coffer_tee_sim_public_key(dir, &pem), 0);
		assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
		assert_int_equal(coffer_tee_anchors_add_sim_key(a, pem, strlen(pem)), 0);
		free(pem);
	}
	return a;
}

static void
test_sim__generate_and_verify_with_trusted_key(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_anchors *a;
	struct coffer_tee_claims *c = NULL;
	struct coffer_tee_verify_opts o = { 0, rd1, NULL };
	const char *files[] = { f->file1, f->file2 };
	uint8_t m[48];
	char path[128], *js = NULL;
	struct stat st;

	get_sim(f, f->dir, rd1, &ev);
	/* The envelope says what it is. */
	assert_non_null(strstr(coffer_buf_str(&ev), "INSECURE SIMULATION"));
	assert_non_null(strstr(coffer_buf_str(&ev), "\"tee\":\"sim\""));
	/* The platform key was made on first use, mode 0600. */
	snprintf(path, sizeof(path), "%s/sim-platform.key", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	a = trusting(f->dir);
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, a, NULL, 0, &o, &c), 0);
	assert_int_equal(c->verdict, COFFER_TEE_OK);
	assert_int_equal(c->tee, COFFER_TEE_SIM);
	assert_string_equal(coffer_tee_type_name(c->tee), "sim");
	assert_string_equal(c->backend, "sim");
	assert_int_equal(c->format_version, 2);
	/* Version 2 with the default simulated values: not debug, UpToDate. */
	assert_false(c->debug);
	assert_int_equal(c->tcb_status, COFFER_TCB_UP_TO_DATE);
	assert_int_equal(c->sim.vmpl, 0);
	assert_memory_equal(c->report_data, rd1, 64);
	assert_int_equal(coffer_tee_sim_measure(files, 2, m), 0);
	assert_memory_equal(c->sim.measurement, m, 48);
	assert_true(coffer_tee_claims_has_reason(c, "sim.insecure"));
	assert_int_equal(coffer_tee_claims_json(c, &js), 0);
	assert_non_null(strstr(js, "INSECURE SIMULATION"));
	assert_non_null(strstr(js, "\"tee\":\"sim\""));
	free(js);
	coffer_tee_claims_free(c);
	coffer_tee_anchors_free(a);
	coffer_buf_release(&ev);
}

static void
test_sim__rejects_untrusted_key_and_other_report_data(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_anchors *none = trusting(NULL), *other = trusting(f->dir2),
	    *mine = trusting(f->dir);
	struct coffer_tee_claims *c = NULL;
	uint8_t rd2[64];

	get_sim(f, f->dir, rd1, &ev);
	/* Nobody trusts sim keys by default. */
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, none, NULL, 0, NULL, &c),
	    COFFER_E_UNTRUSTED);
	assert_int_equal(c->verdict, COFFER_TEE_REJECTED);
	assert_true(tt_fatal_are(c, "sim.untrusted_key"));
	coffer_tee_claims_free(c);
	/* Another host's key is not this one. */
	c = NULL;
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, other, NULL, 0, NULL, &c),
	    COFFER_E_UNTRUSTED);
	coffer_tee_claims_free(c);
	/* Report data other than expected (a replay, another nonce). */
	memcpy(rd2, rd1, 64);
	rd2[63] ^= 1;
	c = NULL;
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, mine, NULL, 0,
	    &(struct coffer_tee_verify_opts){ 0, rd2, NULL }, &c), COFFER_E_POLICY);
	assert_true(tt_fatal_are(c, "report_data.mismatch"));
	coffer_tee_claims_free(c);
	coffer_tee_anchors_free(none);
	coffer_tee_anchors_free(other);
	coffer_tee_anchors_free(mine);
	coffer_buf_release(&ev);
}

static void
test_sim__tampered_evidence_fails(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20), env2 = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_anchors *a = trusting(f->dir);
	struct tee_envelope e;
	/* Every field of version 2 (section 8.1): measurement, report data,
	 * the simulated values, the key, the signature. */
	size_t offs[] = { 0x10, 0x14, 0x15, 0x18, 0x47, 0x48, 0x87, 0x88, 0x8C, 0x8F,
	    0x90, 0x94, 0x95, 0x98, 0x9C, 0xA3, 0xA4, 0x104, 0x105, 0x130, 0x164 };

	get_sim(f, f->dir, rd1, &ev);
	assert_int_equal(tee_envelope_parse(ev.data, ev.len, &e), 0);
	assert_int_equal(e.evidence.len, TEE_SIM_LEN);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		struct coffer_tee_claims *c = NULL;
		int rc;

		e.evidence.data[offs[i]] ^= 1;
		coffer_buf_reset(&env2);
		assert_int_equal(tee_envelope_write("sim", "sim", NULL, e.evidence.data,
		    e.evidence.len, NULL, &env2), 0);
		rc = coffer_tee_verify(env2.data, env2.len, a, NULL, 0, NULL, &c);
		if (rc == 0)
			fail_msg("sim evidence with byte 0x%zx flipped verifies", offs[i]);
		coffer_tee_claims_free(c);
		e.evidence.data[offs[i]] ^= 1;
	}
	/* Raw sim evidence (no envelope) is recognised too. */
	{
		struct coffer_tee_claims *c = NULL;

		assert_int_equal(coffer_tee_verify(e.evidence.data, e.evidence.len, a,
		    NULL, 0, NULL, &c), 0);
		coffer_tee_claims_free(c);
	}
	tee_envelope_release(&e);
	coffer_tee_anchors_free(a);
	coffer_buf_release(&ev);
	coffer_buf_release(&env2);
}

static void
test_sim__measurement_is_sha384_of_file_digests(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { f->file1, f->file2 };
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20), cat = COFFER_BUF_INIT(1 << 20);
	uint8_t m[48], want[48], d[48];

	/* doc/format/evidence.md: SHA-384("coffer-sim-measurement-v1" 0x00 ||
	 * SHA-384(file 1) || SHA-384(file 2) ...) */
	assert_int_equal(coffer_buf_put(&cat, "coffer-sim-measurement-v1", 26), 0);
	for (int i = 0; i < 2; i++) {
		coffer_buf_reset(&b);
		assert_int_equal(coffer_file_read(files[i], 1 << 20, &b), 0);
		assert_int_equal(coffer_sha384(b.data, b.len, d), 0);
		assert_int_equal(coffer_buf_put(&cat, d, 48), 0);
	}
	assert_int_equal(coffer_sha384(cat.data, cat.len, want), 0);
	assert_int_equal(coffer_tee_sim_measure(files, 2, m), 0);
	assert_memory_equal(m, want, 48);
	/* order matters */
	{
		const char *rev[] = { f->file2, f->file1 };

		assert_int_equal(coffer_tee_sim_measure(rev, 2, m), 0);
		assert_memory_not_equal(m, want, 48);
	}
	{
		const char *missing[] = { "/nonexistent/exe" };

		assert_int_equal(coffer_tee_sim_measure(missing, 1, m), COFFER_E_NOTFOUND);
	}
	coffer_buf_release(&b);
	coffer_buf_release(&cat);
}

/* The measurement in sim evidence made with platform key directory dir. */
static void
ev_measurement(struct fixture *f, const char *dir, uint8_t m[48])
{
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_anchors *a = trusting(dir);
	struct coffer_tee_claims *c = NULL;
	struct coffer_tee_verify_opts o = { 0, rd1, NULL };

	get_sim(f, dir, rd1, &ev);
	assert_int_equal(coffer_tee_verify(ev.data, ev.len, a, NULL, 0, &o, &c), 0);
	memcpy(m, c->sim.measurement, 48);
	coffer_tee_claims_free(c);
	coffer_tee_anchors_free(a);
	coffer_buf_release(&ev);
}

/* Each entry of the measurement cache: 48 bytes, mode 0600, or with
 * forge set, replaced by 48 other bytes. The number of entries. */
static int
cache_entries(const char *cache, int forge)
{
	static const uint8_t other[48] = { 0x11 };
	struct dirent *e;
	struct stat st;
	char path[512];
	DIR *d = opendir(cache);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", cache, e->d_name);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 48);
		assert_int_equal(st.st_mode & 0777, 0600);
		if (forge)
			assert_int_equal(coffer_file_write_atomic(path, other, 48, 0600, 0), 0);
		n++;
	}
	closedir(d);
	return n;
}

/* Section 8.5: sim evidence takes a file's digest from the measurement
 * cache only for the state of the file it was read from (C1 to C3). */
static void
test_sim__measurement_cache_serves_unchanged_files_only(void **state)
{
	struct fixture own = *(struct fixture *)*state, *f = &own;
	const char *files[] = { f->file1, f->file2 };
	uint8_t m[48], got[48];
	char cache[128];
	struct stat st;
	FILE *fp;

	/* Files and a platform key directory of its own: it changes them. */
	snprintf(f->dir2, sizeof(f->dir2), "%.50s/mc", own.dir);
	snprintf(f->file1, sizeof(f->file1), "%.50s/mc/worker", own.dir);
	snprintf(f->file2, sizeof(f->file2), "%.50s/mc/plugin.so", own.dir);
	assert_int_equal(mkdir(f->dir2, 0700), 0);
	assert_int_equal(coffer_file_write_atomic(f->file1, "a worker", 8, 0600, 0), 0);
	assert_int_equal(coffer_file_write_atomic(f->file2, "a plugin", 8, 0600, 0), 0);
	snprintf(cache, sizeof(cache), "%s/measure-cache", f->dir2);
	assert_int_equal(coffer_tee_sim_measure(files, 2, m), 0);
	ev_measurement(f, f->dir2, got);
	assert_memory_equal(got, m, 48);
	/* In the platform key's directory, as private as it is. */
	assert_int_equal(stat(cache, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(cache_entries(cache, 0), 2);
	/* A file written to is read again (C2: its entry is another). */
	assert_non_null(fp = fopen(f->file1, "a"));
	fputs(", patched", fp);
	fclose(fp);
	assert_int_equal(coffer_tee_sim_measure(files, 2, m), 0);
	ev_measurement(f, f->dir2, got);
	assert_memory_equal(got, m, 48);
	assert_int_equal(cache_entries(cache, 0), 3);
	/* The entries are what is used: forged ones show. */
	assert_int_equal(cache_entries(cache, 1), 3);
	ev_measurement(f, f->dir2, got);
	assert_memory_not_equal(got, m, 48);
	/* C1: not from a cache others may write to. */
	assert_int_equal(chmod(cache, 0770), 0);
	ev_measurement(f, f->dir2, got);
	assert_memory_equal(got, m, 48);
	/* coffer_tee_sim_measure (coffer attest measure) never uses it. */
	assert_int_equal(chmod(cache, 0700), 0);
	assert_int_equal(coffer_tee_sim_measure(files, 2, got), 0);
	assert_memory_equal(got, m, 48);
}

static void
test_sim__refuses_a_key_file_others_can_read(void **state)
{
	struct fixture *f = *state;
	char path[128], *pem = NULL;
	uint8_t *ev = NULL;
	size_t n;

	snprintf(path, sizeof(path), "%s/sim-platform.key", f->dir2);
	assert_int_equal(coffer_tee_sim_public_key(f->dir2, &pem), 0);
	free(pem);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd1,
	    &(struct coffer_tee_backend_opts){ f->dir2, NULL, 0, NULL, NULL, NULL, NULL },
	    &ev, &n), COFFER_E_PERM);
	assert_null(ev);
	assert_int_equal(chmod(path, 0600), 0);
}

/* k1 and k2 are the same key pair: same scalar and point, and each
 * verifies what the other signs. */
static void
assert_same_key(const struct coffer_ecdsa_key *k1, const struct coffer_ecdsa_key *k2)
{
	static const uint8_t msg[] = "a measurement";
	uint8_t d1[48], d2[48], p1[97], p2[97], sig[96];

	assert_int_equal(coffer_ecdsa_priv_raw(k1, d1, 48), 0);
	assert_int_equal(coffer_ecdsa_priv_raw(k2, d2, 48), 0);
	assert_memory_equal(d1, d2, 48);
	assert_int_equal(coffer_ecdsa_pub_raw(k1, p1, 97), 0);
	assert_int_equal(coffer_ecdsa_pub_raw(k2, p2, 97), 0);
	assert_memory_equal(p1, p2, 97);
	assert_int_equal(coffer_ecdsa_sign(k1, msg, sizeof(msg), sig, 96), 0);
	assert_int_equal(coffer_ecdsa_verify(k2, msg, sizeof(msg), sig, 96,
	    COFFER_ECDSA_SIG_RAW), 0);
	assert_int_equal(coffer_ecdsa_sign(k2, msg, sizeof(msg), sig, 96), 0);
	assert_int_equal(coffer_ecdsa_verify(k1, msg, sizeof(msg), sig, 96,
	    COFFER_ECDSA_SIG_RAW), 0);
}

/*
 * doc/format/evidence.md 8.3: the key file coffer writes is read by its
 * fixed PKCS#8 layout (no decoder) and gives the key OpenSSL's decoder
 * gives; a file of another layout (SEC1 "EC PRIVATE KEY") still goes to
 * the decoder.
 */
static void
test_sim__key_file_read_by_its_layout_or_by_openssl(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf pem = COFFER_BUF_INIT(16384);
	struct coffer_ecdsa_key *made = NULL, *fast = NULL, *slow = NULL,
	    *other = NULL;
	char dir[64], path[128], cmd[400];

	(void)f;
	snprintf(dir, sizeof(dir), "/tmp/coffer-sim3.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sim-platform.key", dir);
	assert_int_equal(tee_sim_platform_key(dir, &made), 0);  /* made now */
	assert_int_equal(tee_sim_platform_key(dir, &fast), 0);  /* the layout */
	assert_int_equal(coffer_file_read(path, 4096, &pem), 0);
	assert_int_equal(coffer_ecdsa_priv_from_pem((const char *)pem.data,
	    pem.len, &slow), 0);
	assert_same_key(made, fast);
	assert_same_key(fast, slow);
	/* Another layout of the same key: OpenSSL's decoder reads it. */
	snprintf(cmd, sizeof(cmd), "openssl ec -in %s -out %s.sec1 2>/dev/null && "
	    "mv %s.sec1 %s && chmod 600 %s && grep -q 'BEGIN EC PRIVATE KEY' %s",
	    path, path, path, path, path, path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(tee_sim_platform_key(dir, &other), 0);
	assert_same_key(other, slow);
	coffer_ecdsa_key_free(other);
	other = NULL;
	/* And the file coffer wrote, again: the layout. */
	assert_int_equal(coffer_file_write_atomic(path, pem.data, pem.len, 0600,
	    0), 0);
	assert_int_equal(tee_sim_platform_key(dir, &other), 0);
	assert_same_key(other, slow);
	coffer_ecdsa_key_free(other);
	coffer_ecdsa_key_free(made);
	coffer_ecdsa_key_free(fast);
	coffer_ecdsa_key_free(slow);
	coffer_buf_release(&pem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_envelope__rejects_inconsistent_envelopes(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20), bad = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_anchors *a = trusting(f->dir);
	struct tee_envelope e;
	struct coffer_tee_claims *c = NULL;
	static const char *const junk[] = {
		"{\"type\":\"coffer-evidence\",\"version\":2,\"tee\":\"sim\"}",
		"{\"type\":\"other\",\"version\":1,\"tee\":\"sgx\",\"backend\":\"x\",\"evidence\":\"AA\"}",
		"{\"type\":\"coffer-evidence\",\"version\":1,\"tee\":\"sgx\",\"backend\":\"x\",\"evidence\":\"AA\",\"extra\":1}",
		"{\"type\":\"coffer-evidence\",\"version\":1,\"tee\":\"sgx\",\"backend\":\"x\",\"evidence\":\"!!\"}",
		"{\"type\":\"coffer-evidence\",\"version\":1,\"tee\":\"sgx\",\"backend\":\"x\",\"evidence\":\"AA\",\"certs\":[\"AA\"]}",
		"{\"type\":\"coffer-evidence\",\"version\":1,\"tee\":\"sgx\",\"backend\":\"X Y\",\"evidence\":\"AA\"}",
		"[1,2,3]",
	};

	get_sim(f, f->dir, rd1, &ev);
	assert_int_equal(tee_envelope_parse(ev.data, ev.len, &e), 0);
	/* sim evidence under another tee name */
	assert_int_equal(tee_envelope_write("sgx", "sim", NULL, e.evidence.data,
	    e.evidence.len, NULL, &bad), 0);
	assert_int_equal(coffer_tee_verify(bad.data, bad.len, a, NULL, 0, NULL, &c),
	    COFFER_E_FORMAT);
	assert_null(c);
	/* a sim envelope without its warning */
	{
		char *s = strdup(coffer_buf_str(&ev)), *w = strstr(s, ",\"warning\"");

		assert_non_null(w);
		memcpy(w, "}\n", 3);
		assert_int_equal(coffer_tee_verify((uint8_t *)s, strlen(s), a, NULL, 0,
		    NULL, &c), COFFER_E_FORMAT);
		free(s);
	}
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		int rc = coffer_tee_verify((const uint8_t *)junk[i], strlen(junk[i]), a,
		    NULL, 0, NULL, &c);

		if (rc == 0 || c != NULL)
			fail_msg("junk envelope %zu accepted", i);
	}
	tee_envelope_release(&e);
	coffer_tee_anchors_free(a);
	coffer_buf_release(&ev);
	coffer_buf_release(&bad);
}

/* Sim evidence v2 carries every simulated value, signed; the claims and
 * their JSON give them back, labelled INSECURE SIMULATION. */
static void
test_sim__v2_round_trip_of_every_simulated_value(void **state)
{
	struct fixture *f = *state;
	struct coffer_tee_sim_values sv;
	struct coffer_tee_backend_opts o;
	struct coffer_tee_anchors *a = trusting(f->dir);
	struct coffer_tee_claims *c = NULL;
	uint8_t *ev = NULL;
	size_t n = 0;
	char *js = NULL;
	static const uint8_t attr[8] = { 0x01, 0, 0, 0x10, 0, 0, 0, 0x80 };

	coffer_tee_sim_values_init(&sv);
	sv.debug = 1;
	sv.tcb_status = COFFER_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	sv.tcb_evaluation_data_number = 17;
	sv.snp_tcb.bootloader = 3;
	sv.snp_tcb.tee = 0;
	sv.snp_tcb.snp = 8;
	sv.snp_tcb.microcode = 115;
	sv.snp_tcb.fmc = 2;
	sv.vmpl = 2;
	sv.smt = 1;
	sv.migration_agent = 1;
	memcpy(sv.td_attributes, attr, 8);
	memset(&o, 0, sizeof(o));
	o.sim_dir = f->dir;
	o.sim_values = &sv;
	assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd1, &o, &ev, &n), 0);
	assert_int_equal(coffer_tee_verify(ev, n, a, NULL, 0, NULL, &c), 0);
	assert_int_equal(c->format_version, 2);
	assert_true(c->debug);
	assert_int_equal(c->tcb_status, COFFER_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	assert_int_equal(c->sim.tcb_eval_data_number, 17);
	assert_int_equal(c->sim.tcb_bootloader, 3);
	assert_int_equal(c->sim.tcb_tee, 0);
	assert_int_equal(c->sim.tcb_snp, 8);
	assert_int_equal(c->sim.tcb_microcode, 115);
	assert_int_equal(c->sim.tcb_fmc, 2);
	assert_int_equal(c->sim.vmpl, 2);
	assert_true(c->sim.smt);
	assert_true(c->sim.migration_agent);
	assert_memory_equal(c->sim.td_attributes, attr, 8);
	assert_memory_equal(c->report_data, rd1, 64);
	/* Without a policy these are notes, as for hardware. */
	assert_true(coffer_tee_claims_has_reason(c, "tee.debug"));
	assert_true(coffer_tee_claims_has_reason(c, "tcb.out_of_date_configuration_needed"));
	assert_int_equal(coffer_tee_claims_json(c, &js), 0);
	assert_non_null(strstr(js, "\"insecure\":\"INSECURE SIMULATION"));
	assert_non_null(strstr(js, "\"tcb_status\":\"OutOfDateConfigurationNeeded\""));
	assert_non_null(strstr(js, "\"tcb_evaluation_data_number\":17"));
	assert_non_null(strstr(js, "\"tcb_microcode\":115"));
	assert_non_null(strstr(js, "\"vmpl\":2"));
	assert_non_null(strstr(js, "\"migration_agent\":true"));
	assert_non_null(strstr(js, "\"td_attributes\":\"0100001000000080\""));
	free(js);
	coffer_tee_claims_free(c);
	free(ev);
	/* A simulated Revoked status is fatal, as a real one. */
	sv.tcb_status = COFFER_TCB_REVOKED;
	assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd1, &o, &ev, &n), 0);
	c = NULL;
	assert_int_equal(coffer_tee_verify(ev, n, a, NULL, 0, NULL, &c), COFFER_E_REVOKED);
	assert_true(tt_fatal_are(c, "tcb.revoked"));
	coffer_tee_claims_free(c);
	free(ev);
	/* Values a reader would refuse are not made. */
	ev = NULL;
	sv.vmpl = 4;
	assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd1, &o, &ev, &n),
	    COFFER_E_INVAL);
	sv.vmpl = 0;
	sv.tcb_status = COFFER_TCB_NOT_SUPPORTED;
	assert_int_equal(coffer_tee_evidence_get(COFFER_TEE_BACKEND_SIM, rd1, &o, &ev, &n),
	    COFFER_E_INVAL);
	assert_null(ev);
	coffer_tee_anchors_free(a);
}

/* Version 1 (always debug, no TCB) is refused with a version error that
 * says what to do; so is any other version or a corrupt v2 header. */
static void
test_sim__v1_is_refused_with_a_version_error(void **state)
{
	struct fixture *f = *state;
	struct coffer_tee_anchors *a = trusting(f->dir);
	struct coffer_tee_claims *c = NULL;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20);
	struct tee_envelope e;
	uint8_t v1[0x149];

	memset(v1, 0, sizeof(v1));
	memcpy(v1, "INSECURE-SIM-V1", 16);
	v1[0x10] = 1;
	v1[0x14] = 1;
	assert_int_equal(coffer_tee_verify(v1, sizeof(v1), a, NULL, 0, NULL, &c),
	    COFFER_E_VERSION);
	assert_null(c);
	assert_non_null(strstr(coffer_errdetail(), "v1 is no longer accepted"));
	get_sim(f, f->dir, rd1, &ev);
	assert_int_equal(tee_envelope_parse(ev.data, ev.len, &e), 0);
	/* version field 3 */
	e.evidence.data[0x10] = 3;
	assert_int_equal(coffer_tee_verify(e.evidence.data, e.evidence.len, a, NULL, 0,
	    NULL, &c), COFFER_E_VERSION);
	e.evidence.data[0x10] = 2;
	/* an unknown flag, a status out of range, VMPL 4, a reserved byte */
	{
		static const struct { size_t off; uint8_t val; } bad[] = {
			{ 0x14, 0x08 }, { 0x88, 0 }, { 0x88, 10 }, { 0x98, 4 }, { 0x95, 1 },
			{ 0x97, 1 },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint8_t old = e.evidence.data[bad[i].off];

			e.evidence.data[bad[i].off] = bad[i].val;
			assert_int_equal(coffer_tee_verify(e.evidence.data, e.evidence.len, a,
			    NULL, 0, NULL, &c), COFFER_E_FORMAT);
			assert_null(c);
			e.evidence.data[bad[i].off] = old;
		}
	}
	assert_int_equal(coffer_tee_verify(e.evidence.data, e.evidence.len, a, NULL, 0,
	    NULL, &c), 0);
	coffer_tee_claims_free(c);
	tee_envelope_release(&e);
	coffer_tee_anchors_free(a);
	coffer_buf_release(&ev);
}

static void
test_sim_values__json_strict_with_defaults(void **state)
{
	struct coffer_tee_sim_values v;
	static const char *const bad[] = {
		"[]", "{\"debug\":1}", "{\"debug\":null}", "{\"bogus\":true}",
		"{\"tcb_status\":\"NotSupported\"}", "{\"tcb_status\":\"uptodate\"}",
		"{\"tcb_status\":5}", "{\"vmpl\":4}", "{\"vmpl\":-1}",
		"{\"tcb_evaluation_data_number\":4294967296}",
		"{\"td_attributes\":\"00000000000000\"}",
		"{\"td_attributes\":\"000000000000000A\"}",
		"{\"snp_tcb\":{\"bootloader\":256}}", "{\"snp_tcb\":{\"fw\":1}}",
		"{\"snp_tcb\":[]}", "{\"smt\":true,\"smt\":false}", "{} x",
		"{\"vmpl\":2.0}", "{\"snp_tcb\":{\"tee\":1e0}}",
	};

	(void)state;
	assert_int_equal(coffer_tee_sim_values_parse("{}", 2, &v), 0);
	assert_false(v.debug);
	assert_int_equal(v.tcb_status, COFFER_TCB_UP_TO_DATE);
	assert_int_equal(v.vmpl, 0);
	{
		const char *all = "{\"debug\":true,\"tcb_status\":\"Revoked\","
		    "\"tcb_evaluation_data_number\":4294967295,\"snp_tcb\":{\"bootloader\":1,"
		    "\"tee\":2,\"snp\":3,\"microcode\":4,\"fmc\":5},\"vmpl\":3,\"smt\":true,"
		    "\"migration_agent\":true,\"td_attributes\":\"0000001000000000\"}";

		assert_int_equal(coffer_tee_sim_values_parse(all, strlen(all), &v), 0);
		assert_true(v.debug && v.smt && v.migration_agent);
		assert_int_equal(v.tcb_status, COFFER_TCB_REVOKED);
		assert_int_equal(v.tcb_evaluation_data_number, 4294967295u);
		assert_int_equal(v.snp_tcb.bootloader, 1);
		assert_int_equal(v.snp_tcb.fmc, 5);
		assert_int_equal(v.vmpl, 3);
		assert_int_equal(v.td_attributes[3], 0x10);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct coffer_tee_sim_values w;

		coffer_tee_sim_values_init(&w);
		w.vmpl = 9;
		if (coffer_tee_sim_values_parse(bad[i], strlen(bad[i]), &w) == 0)
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(w.vmpl, 9); /* untouched on error */
		assert_true(coffer_errdetail()[0] != '\0');
	}
}

/* Where the verifier's log goes, from main() on (every test's). */
static FILE *log_stream;

/* A policy naming a host's key: the key is decoded once for the process
 * and kept; a key no policy names is not kept. Every verification's claims
 * say INSECURE SIMULATION; the log says it once per process. */
static void
test_sim__policy_keys_cached_and_warning_logged_once(void **state)
{
	struct fixture *f = *state;
	struct coffer_buf ev = COFFER_BUF_INIT(1 << 20), ev2 = COFFER_BUF_INIT(1 << 20);
	struct coffer_buf logb = COFFER_BUF_INIT(1 << 20);
	struct coffer_tee_anchors *none = trusting(NULL);
	struct coffer_tee_policy p;
	struct coffer_tee_verify_opts o = { 0, rd1, &p };
	struct coffer_tee_claims *c = NULL;
	char *pem = NULL, *js = NULL;
	const char *s;
	size_t n0, lines = 0;

	get_sim(f, f->dir, rd1, &ev);
	get_sim(f, f->dir2, rd1, &ev2);
	coffer_tee_policy_init(&p);
	assert_int_equal(coffer_tee_sim_public_key(f->dir, &pem), 0);
	assert_int_equal(coffer_tee_sim_key_fingerprint(pem, strlen(pem), p.sim_keys[0]), 0);
	p.n_sim_keys = 1;
	n0 = tee_sim_keys_cached();
	for (int i = 0; i < 3; i++) {
		c = NULL;
		if (coffer_tee_verify(ev.data, ev.len, none, NULL, 0, &o, &c) != 0)
			fail_msg("%s", coffer_errdetail());
		assert_int_equal(c->verdict, COFFER_TEE_OK);
		assert_true(coffer_tee_claims_has_reason(c, "sim.insecure"));
		assert_int_equal(coffer_tee_claims_json(c, &js), 0);
		assert_non_null(strstr(js, "INSECURE SIMULATION"));
		free(js);
		coffer_tee_claims_free(c);
		assert_int_equal(tee_sim_keys_cached(), n0 + 1);
	}
	/* Another host's key, which the policy does not name. */
	c = NULL;
	assert_int_equal(coffer_tee_verify(ev2.data, ev2.len, none, NULL, 0, &o, &c),
	    COFFER_E_POLICY);
	assert_true(tt_fatal_are(c, "policy.sim_key"));
	assert_true(coffer_tee_claims_has_reason(c, "sim.insecure"));
	coffer_tee_claims_free(c);
	assert_int_equal(tee_sim_keys_cached(), n0 + 1);
	/* The earlier tests verified sim evidence too: one line in all. */
	fflush(log_stream);
	rewind(log_stream);
	{
		char chunk[4096];
		size_t got;

		while ((got = fread(chunk, 1, sizeof(chunk), log_stream)) > 0)
			assert_int_equal(coffer_buf_put(&logb, chunk, got), 0);
	}
	for (s = coffer_buf_str(&logb); (s = strstr(s, "sim evidence verified")) != NULL; s++)
		lines++;
	assert_int_equal(lines, 1);
	assert_non_null(strstr(coffer_buf_str(&logb), "INSECURE SIMULATION: sim evidence "
	    "verified"));
	free(pem);
	coffer_tee_anchors_free(none);
	coffer_buf_release(&ev);
	coffer_buf_release(&ev2);
	coffer_buf_release(&logb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim__generate_and_verify_with_trusted_key),
		cmocka_unit_test(test_sim__rejects_untrusted_key_and_other_report_data),
		cmocka_unit_test(test_sim__tampered_evidence_fails),
		cmocka_unit_test(test_sim__measurement_is_sha384_of_file_digests),
		cmocka_unit_test(test_sim__measurement_cache_serves_unchanged_files_only),
		cmocka_unit_test(test_sim__refuses_a_key_file_others_can_read),
		cmocka_unit_test(test_sim__key_file_read_by_its_layout_or_by_openssl),
		cmocka_unit_test(test_envelope__rejects_inconsistent_envelopes),
		cmocka_unit_test(test_sim__v2_round_trip_of_every_simulated_value),
		cmocka_unit_test(test_sim__v1_is_refused_with_a_version_error),
		cmocka_unit_test(test_sim_values__json_strict_with_defaults),
		cmocka_unit_test(test_sim__policy_keys_cached_and_warning_logged_once),
	};

	if ((log_stream = tmpfile()) == NULL)
		return 1;
	coffer_log_setup("test", COFFER_LOG_WARN, COFFER_LOG_HUMAN, log_stream);

	return cmocka_run_group_tests(tests, setup, teardown);
}
