// SPDX-License-Identifier: Apache-2.0
// The INSECURE SIMULATION backend, for machines without a TEE: a per-host
// ECDSA P-384 "platform key" signs a measurement (SHA-384 over the
// executable and plugins) and the report data. It proves nothing about
// isolation; it lets the whole system run end to end, and a verifier
// accepts it only for a platform key it was explicitly told to trust.
// doc/format/evidence.md section 8.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coffer/error.h"
#include "crypto/ecdsa.h"
#include "crypto/hash.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "tee/tee_int.h"

#define SIM_KEY_FILE "sim-platform.key"
#define SIM_VERSION 1
#define SIM_FLAG_DEBUG 1u
#define SIM_MEASURE_LABEL "coffer-sim-measurement-v1"

/* Layout (all integers little-endian) */
#define S_MAGIC 0x00      /* 16: "INSECURE-SIM-V1\0" */
#define S_VERSION 0x10    /* u32 */
#define S_FLAGS 0x14      /* u32, bit 0: debug (always set) */
#define S_MEASUREMENT 0x18 /* 48 */
#define S_REPORT_DATA 0x48 /* 64 */
#define S_PUBKEY 0x88     /* 97: SEC1 uncompressed P-384 point */
#define S_SIGNATURE 0xE9  /* 96: ECDSA P-384 SHA-384 r || s over [0, 0xE9) */

static int
sim_dir_path(const char *dir, char *out, size_t outlen)
{
	const char *env, *home;

	if (dir == NULL && (env = getenv("COFFER_SIM_DIR")) != NULL && env[0] != '\0')
		dir = env;
	if (dir != NULL) {
		if ((size_t)snprintf(out, outlen, "%s", dir) >= outlen)
			return coffer_errf(COFFER_E_INVAL, "sim dir path too long");
		return 0;
	}
	if ((home = getenv("HOME")) == NULL || home[0] == '\0')
		return coffer_errf(COFFER_E_INVAL, "sim platform key: neither "
		    "COFFER_SIM_DIR nor HOME is set");
	if ((size_t)snprintf(out, outlen, "%s/.local/share/coffer", home) >= outlen)
		return coffer_errf(COFFER_E_INVAL, "sim dir path too long");
	return 0;
}

/* mkdir -p with mode 0700 for the directories we create. */
static int
mkdirs(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return coffer_errf(COFFER_E_INVAL, "bad directory %s", path);
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return coffer_errf(COFFER_E_IO, "mkdir %s: %s", tmp, strerror(errno));
		tmp[i] = path[i];
	}
	return 0;
}

/* Load the platform key, creating it (0600) on first use. */
static int
sim_key_load(const char *sim_dir, struct coffer_ecdsa_key **out)
{
	struct coffer_buf pem = COFFER_BUF_INIT_SECRET(16384);
	struct coffer_ecdsa_key *k = NULL;
	char dir[4096], path[4200];
	struct stat st;
	int r;

	if ((r = sim_dir_path(sim_dir, dir, sizeof(dir))) != 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", dir, SIM_KEY_FILE);
	if (stat(path, &st) != 0) {
		if (errno != ENOENT)
			return coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
		if ((r = mkdirs(dir)) != 0 ||
		    (r = coffer_ecdsa_generate(COFFER_ECDSA_P384, &k)) != 0 ||
		    (r = coffer_ecdsa_priv_pem(k, &pem)) != 0)
			goto out;
		r = coffer_file_write_atomic(path, pem.data, pem.len, 0600, 1);
		if (r == 0) {
			*out = k;
			k = NULL;
			goto out;
		}
		if (r != COFFER_E_EXISTS)
			goto out;
		/* Another process made it first: use theirs. */
		coffer_ecdsa_key_free(k);
		k = NULL;
		coffer_buf_reset(&pem);
		if (stat(path, &st) != 0) {
			r = coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	if ((st.st_mode & 077) != 0) {
		r = coffer_errf(COFFER_E_PERM, "sim platform key %s has mode %03o: it "
		    "must not be readable or writable by others (chmod 600)", path,
		    (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if ((r = coffer_file_read(path, 16384, &pem)) != 0)
		goto out;
	if ((r = coffer_ecdsa_priv_from_pem((const char *)pem.data, pem.len, &k)) != 0) {
		r = coffer_errctx(r, "%s", path);
		goto out;
	}
	if (coffer_ecdsa_key_curve(k) != COFFER_ECDSA_P384) {
		r = coffer_errf(COFFER_E_FORMAT, "%s: not a P-384 key", path);
		goto out;
	}
	*out = k;
	k = NULL;
out:
	coffer_ecdsa_key_free(k);
	coffer_buf_release_secret(&pem);
	return r;
}

int
coffer_tee_sim_public_key(const char *sim_dir, char **pem_out)
{
	struct coffer_ecdsa_key *k = NULL;
	struct coffer_buf b = COFFER_BUF_INIT(8192);
	uint8_t *p = NULL;
	size_t n;
	int r;

	if ((r = sim_key_load(sim_dir, &k)) != 0)
		return r;
	if ((r = coffer_ecdsa_pub_pem(k, &b)) == 0 && (r = coffer_buf_detach(&b, &p, &n)) == 0)
		*pem_out = (char *)p;
	coffer_ecdsa_key_free(k);
	coffer_buf_release(&b);
	return r;
}

int
coffer_tee_sim_measure(const char *const *files, size_t n, uint8_t out[48])
{
	struct coffer_hash *outer = NULL, *h = NULL;
	uint8_t buf[65536], d[48];
	int r, fd = -1;

	if ((r = coffer_hash_new(COFFER_HASH_SHA384, &outer)) != 0 ||
	    (r = coffer_hash_update(outer, SIM_MEASURE_LABEL, sizeof(SIM_MEASURE_LABEL))) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		ssize_t got;

		if ((fd = open(files[i], O_RDONLY | O_CLOEXEC)) < 0) {
			r = coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
			    "measure %s: %s", files[i], strerror(errno));
			goto out;
		}
		if ((r = coffer_hash_new(COFFER_HASH_SHA384, &h)) != 0)
			goto out;
		while ((got = read(fd, buf, sizeof(buf))) != 0) {
			if (got < 0) {
				if (errno == EINTR)
					continue;
				r = coffer_errf(COFFER_E_IO, "measure %s: %s", files[i],
				    strerror(errno));
				goto out;
			}
			if ((r = coffer_hash_update(h, buf, (size_t)got)) != 0)
				goto out;
		}
		close(fd);
		fd = -1;
		if ((r = coffer_hash_final(h, d, 48)) != 0 ||
		    (r = coffer_hash_update(outer, d, 48)) != 0)
			goto out;
		coffer_hash_free(h);
		h = NULL;
	}
	r = coffer_hash_final(outer, out, 48);
out:
	if (fd >= 0)
		close(fd);
	coffer_hash_free(h);
	coffer_hash_free(outer);
	return r;
}

int
tee_sim_make(const char *sim_dir, const uint8_t measurement[48],
    const uint8_t report_data[64], struct coffer_buf *out)
{
	struct coffer_ecdsa_key *k = NULL;
	uint8_t ev[TEE_SIM_LEN];
	int r;

	memset(ev, 0, sizeof(ev));
	if ((r = sim_key_load(sim_dir, &k)) != 0)
		return r;
	memcpy(ev + S_MAGIC, TEE_SIM_MAGIC, 16);
	coffer_store_u32le(ev + S_VERSION, SIM_VERSION);
	coffer_store_u32le(ev + S_FLAGS, SIM_FLAG_DEBUG);
	memcpy(ev + S_MEASUREMENT, measurement, 48);
	memcpy(ev + S_REPORT_DATA, report_data, 64);
	if ((r = coffer_ecdsa_pub_raw(k, ev + S_PUBKEY, 97)) != 0 ||
	    (r = coffer_ecdsa_sign(k, ev, TEE_SIM_SIGNED_LEN, ev + S_SIGNATURE, 96)) != 0)
		goto out;
	r = coffer_buf_put(out, ev, sizeof(ev));
out:
	coffer_ecdsa_key_free(k);
	return r;
}

int
tee_sim_verify(struct tee_vctx *v, const uint8_t *p, size_t len)
{
	struct coffer_tee_claims *c = v->c;
	const struct coffer_tee_anchors *a = v->anchors;
	struct coffer_ecdsa_key *k = NULL;
	const struct coffer_ecdsa_key *trusted = NULL;
	char h[65];

	if (len != TEE_SIM_LEN)
		return coffer_errf(len < TEE_SIM_LEN ? COFFER_E_TRUNCATED : COFFER_E_FORMAT,
		    "sim evidence: %zu bytes, expected %d", len, TEE_SIM_LEN);
	if (memcmp(p + S_MAGIC, TEE_SIM_MAGIC, 16) != 0)
		return coffer_errf(COFFER_E_FORMAT, "sim evidence: bad magic");
	if (coffer_load_u32le(p + S_VERSION) != SIM_VERSION)
		return coffer_errf(COFFER_E_VERSION, "sim evidence: version %u is not "
		    "supported (1)", coffer_load_u32le(p + S_VERSION));
	if (coffer_load_u32le(p + S_FLAGS) != SIM_FLAG_DEBUG)
		return coffer_errf(COFFER_E_FORMAT, "sim evidence: flags 0x%x, must be "
		    "exactly debug (1)", coffer_load_u32le(p + S_FLAGS));
	c->tee = COFFER_TEE_SIM;
	c->format_version = SIM_VERSION;
	c->debug = 1;
	memcpy(c->sim.measurement, p + S_MEASUREMENT, 48);
	memcpy(c->report_data, p + S_REPORT_DATA, 64);
	if (coffer_sha256(p + S_PUBKEY, 97, c->sim.platform_key_sha256) != 0)
		return COFFER_E_CRYPTO;
	tee_note(v, "sim.insecure", "%s", TEE_SIM_WARNING);
	for (size_t i = 0; i < a->n_sim && trusted == NULL; i++)
		if (memcmp(a->sim[i].raw, p + S_PUBKEY, 97) == 0)
			trusted = a->sim[i].key;
	if (trusted == NULL) {
		coffer_hex_encode(c->sim.platform_key_sha256, 32, h);
		tee_fail(v, COFFER_E_UNTRUSTED, "sim.untrusted_key", "the sim platform "
		    "key (SHA-256 of the point %s) is not one this verifier was told "
		    "to trust", h);
		/* Still check the signature, to report tampering as such. */
		if (coffer_ecdsa_pub_from_raw(COFFER_ECDSA_P384, p + S_PUBKEY, 97, &k) != 0) {
			tee_fail(v, COFFER_E_SIGNATURE, "sim.signature", "the platform key "
			    "is not a P-384 point");
			goto out;
		}
		trusted = k;
	}
	if (coffer_ecdsa_verify(trusted, p, TEE_SIM_SIGNED_LEN, p + S_SIGNATURE, 96,
	    COFFER_ECDSA_SIG_RAW) != 0)
		tee_fail(v, COFFER_E_SIGNATURE, "sim.signature", "the sim evidence "
		    "signature does not verify with its platform key");
out:
	coffer_errclear();
	coffer_ecdsa_key_free(k);
	return 0;
}
