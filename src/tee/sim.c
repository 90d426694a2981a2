// SPDX-License-Identifier: Apache-2.0
// The INSECURE SIMULATION backend, for machines without a TEE: a per-host
// ECDSA P-384 "platform key" signs a measurement (SHA-384 over the
// executable and plugins), the report data and simulated platform values
// (debug, TCB, VMPL, ...; version 2), so that every refusal of a
// verification policy can be exercised end to end. It proves nothing about
// isolation; a verifier accepts it only for a platform key it was
// explicitly told to trust. doc/format/evidence.md section 8.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#define SIM_VERSION 2
#define SIM_MEASURE_LABEL "coffer-sim-measurement-v1"
/* The measurement cache (doc/format/evidence.md section 8.5). */
#define SIM_CACHE_DIR "measure-cache"
#define SIM_CACHE_LABEL "coffer-sim-measure-cache-v1"

/* Layout, version 2 (all integers little-endian), section 8.1 */
#define S_MAGIC 0x00      /* 16: "INSECURE-SIM-V2\0" */
#define S_VERSION 0x10    /* u32: 2 */
#define S_FLAGS 0x14      /* u32: bit 0 debug, 1 SMT, 2 migration agent */
#define S_MEASUREMENT 0x18 /* 48 */
#define S_REPORT_DATA 0x48 /* 64 */
#define S_TCB_STATUS 0x88 /* u32: enum coffer_tee_tcb_status, 1-9 */
#define S_EVAL_NUM 0x8C   /* u32: tcbEvaluationDataNumber */
#define S_SNP_TCB 0x90    /* 8: bootloader, tee, snp, microcode, fmc, 3 zero */
#define S_VMPL 0x98       /* u32: 0-3 */
#define S_TD_ATTR 0x9C    /* 8: TDATTRIBUTES */
#define S_PUBKEY 0xA4     /* 97: SEC1 uncompressed P-384 point */
#define S_SIGNATURE 0x105 /* 96: ECDSA P-384 SHA-384 r || s over [0, 0x105) */

#define F_DEBUG 1u
#define F_SMT 2u
#define F_MIGRATION_AGENT 4u

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

/*
 * Section 8.3: the key file as coffer writes it (OpenSSL's unencrypted
 * PKCS#8 of a P-384 key, with its public point) is 185 bytes of DER that
 * differ from one key to another only in the scalar d and the point:
 *   p8_head || d (48) || p8_mid || 0x04 || x || y (96)
 * (PrivateKeyInfo: version 0, ecPublicKey with secp384r1, and the
 * ECPrivateKey: version 1, d, [1] the point). A file of exactly that
 * shape is read by comparing the rest, and the key made from d and the
 * point as they are: no decoder and no scalar multiplication, 0.3 ms of
 * every worker's start (BENCHMARKS.md "The confidential start's CPU").
 * Anything else goes to OpenSSL's decoder, as before.
 */
static const uint8_t p8_head[35] = {
	0x30, 0x81, 0xb6, 0x02, 0x01, 0x00, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
	0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
	0x04, 0x81, 0x9e, 0x30, 0x81, 0x9b, 0x02, 0x01, 0x01, 0x04, 0x30,
};
static const uint8_t p8_mid[5] = { 0xa1, 0x64, 0x03, 0x62, 0x00 };
#define P8_LEN (sizeof(p8_head) + 48 + sizeof(p8_mid) + 97)

/* 0 and the key if pem is the layout above, else nonzero (no error). */
static int
sim_key_template(const uint8_t *pem, size_t len, struct coffer_ecdsa_key **out)
{
	static const char begin[] = "-----BEGIN PRIVATE KEY-----\n";
	static const char end[] = "-----END PRIVATE KEY-----\n";
	struct coffer_buf b64 = COFFER_BUF_INIT_SECRET(16384);
	struct coffer_buf der = COFFER_BUF_INIT_SECRET(16384);
	const uint8_t *d, *pt;
	size_t i;
	int r = 1;

	if (len < sizeof(begin) - 1 + sizeof(end) - 1 || len > 512 ||
	    memcmp(pem, begin, sizeof(begin) - 1) != 0 ||
	    memcmp(pem + len - (sizeof(end) - 1), end, sizeof(end) - 1) != 0)
		return 1;
	/* The base64 between the lines, without its line breaks. */
	for (i = sizeof(begin) - 1; i < len - (sizeof(end) - 1); i++)
		if (pem[i] != '\n' && coffer_buf_put(&b64, pem + i, 1) != 0)
			goto out;
	if (coffer_b64_decode_buf((const char *)b64.data, b64.len, &der) != 0 ||
	    der.len != P8_LEN || memcmp(der.data, p8_head, sizeof(p8_head)) != 0 ||
	    memcmp(der.data + sizeof(p8_head) + 48, p8_mid, sizeof(p8_mid)) != 0)
		goto out;
	d = der.data + sizeof(p8_head);
	pt = der.data + sizeof(p8_head) + 48 + sizeof(p8_mid);
	r = coffer_ecdsa_priv_from_raw(COFFER_ECDSA_P384, d, 48, pt, 97, out);
out:
	coffer_errclear();
	coffer_buf_release_secret(&der);
	coffer_buf_release_secret(&b64);
	return r;
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
	if (sim_key_template(pem.data, pem.len, &k) != 0 &&
	    (r = coffer_ecdsa_priv_from_pem((const char *)pem.data, pem.len, &k)) != 0) {
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

/* SHA-384 of what fd reads, from where it is to the end. */
static int
file_digest(int fd, const char *name, uint8_t d[48])
{
	struct coffer_hash *h = NULL;
	uint8_t buf[65536];
	ssize_t got;
	int r;

	if ((r = coffer_hash_new(COFFER_HASH_SHA384, &h)) != 0)
		return r;
	while ((got = read(fd, buf, sizeof(buf))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = coffer_errf(COFFER_E_IO, "measure %s: %s", name, strerror(errno));
			goto out;
		}
		if ((r = coffer_hash_update(h, buf, (size_t)got)) != 0)
			goto out;
	}
	r = coffer_hash_final(h, d, 48);
out:
	coffer_hash_free(h);
	return r;
}

static int
open_measured(const char *name, int *fd)
{
	if ((*fd = open(name, O_RDONLY | O_CLOEXEC)) < 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "measure %s: %s", name, strerror(errno));
	return 0;
}

/*
 * Section 8.5: the name of a file's entry in the measurement cache, the
 * SHA-256 of what identifies its content without reading it. Any write
 * changes the ctime, which no unprivileged process can set back, and a
 * replaced file is another inode.
 */
static int
cache_name(const struct stat *st, char hex[65])
{
	uint8_t b[sizeof(SIM_CACHE_LABEL) + 7 * 8], *p = b, h[32];
	const uint64_t v[7] = { (uint64_t)st->st_dev, (uint64_t)st->st_ino,
	    (uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec,
	    (uint64_t)st->st_mtim.tv_nsec, (uint64_t)st->st_ctim.tv_sec,
	    (uint64_t)st->st_ctim.tv_nsec };
	int r;

	memcpy(p, SIM_CACHE_LABEL, sizeof(SIM_CACHE_LABEL));
	p += sizeof(SIM_CACHE_LABEL);
	for (size_t i = 0; i < 7; i++, p += 8)
		coffer_store_u64le(p, v[i]);
	if ((r = coffer_sha256(b, sizeof(b), h)) != 0)
		return r;
	coffer_hex_encode(h, 32, hex);
	return 0;
}

static int
same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* A file's SHA-384, from the cache directory `cache` (NULL: none) when
 * it holds this state of the file, else read, and kept there if the file
 * did not change meanwhile. The cache is best effort: failing to read or
 * write it only costs the reading. */
static int
measure_file(const char *cache, const char *name, uint8_t d[48])
{
	struct coffer_buf b = COFFER_BUF_INIT(64);
	struct stat before, after;
	char entry[4200], hex[65];
	int fd, r;

	if ((r = open_measured(name, &fd)) != 0)
		return r;
	if (cache == NULL || fstat(fd, &before) != 0 || !S_ISREG(before.st_mode) ||
	    cache_name(&before, hex) != 0) {
		r = file_digest(fd, name, d);
		goto out;
	}
	snprintf(entry, sizeof(entry), "%s/%s", cache, hex);
	/* C2: exactly 48 bytes, else not an entry. */
	if (coffer_file_read(entry, 48, &b) == 0 && b.len == 48) {
		memcpy(d, b.data, 48);
		r = 0;
		goto out;
	}
	coffer_errclear();
	if ((r = file_digest(fd, name, d)) != 0)
		goto out;
	/* C3: only what was read from one unchanged state of the file. */
	if (fstat(fd, &after) == 0 && same_file_state(&before, &after) &&
	    coffer_file_write_atomic(entry, d, 48, 0600, 0) != 0)
		coffer_errclear();
out:
	coffer_buf_release(&b);
	close(fd);
	return r;
}

/* Section 8.2 over the files' digests, each from the cache directory
 * (NULL: none). */
static int
measure(const char *cache, const char *const *files, size_t n, uint8_t out[48])
{
	struct coffer_hash *outer = NULL;
	uint8_t d[48];
	int r;

	if ((r = coffer_hash_new(COFFER_HASH_SHA384, &outer)) != 0 ||
	    (r = coffer_hash_update(outer, SIM_MEASURE_LABEL, sizeof(SIM_MEASURE_LABEL))) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((r = measure_file(cache, files[i], d)) != 0 ||
		    (r = coffer_hash_update(outer, d, 48)) != 0)
			goto out;
	r = coffer_hash_final(outer, out, 48);
out:
	coffer_hash_free(outer);
	return r;
}

int
coffer_tee_sim_measure(const char *const *files, size_t n, uint8_t out[48])
{
	return measure(NULL, files, n, out);
}

/* C1: a directory itself (not a link), this user's, that no one else may
 * write to. */
static int
private_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 022) == 0;
}

int
tee_sim_measure_cached(const char *sim_dir, const char *const *files, size_t n,
    uint8_t out[48])
{
	char dir[4096], cache[4200];

	/* Next to the platform key (section 8.5), and only where no one but
	 * this user can write (C1): else the files are read as without. */
	if (sim_dir_path(sim_dir, dir, sizeof(dir)) != 0 ||
	    (size_t)snprintf(cache, sizeof(cache), "%s/" SIM_CACHE_DIR, dir) >=
	    sizeof(cache) || mkdirs(cache) != 0 || !private_dir(dir) ||
	    !private_dir(cache)) {
		coffer_errclear();
		return measure(NULL, files, n, out);
	}
	return measure(cache, files, n, out);
}

void
coffer_tee_sim_values_init(struct coffer_tee_sim_values *v)
{
	memset(v, 0, sizeof(*v));
	v->tcb_status = COFFER_TCB_UP_TO_DATE;
}

int
coffer_tee_sim_key_fingerprint(const char *pem, size_t len, uint8_t out[32])
{
	struct coffer_ecdsa_key *k = NULL;
	uint8_t raw[97];
	int r;

	if ((r = coffer_ecdsa_pub_from_pem(pem, len, &k)) != 0)
		return coffer_errctx(r, "sim platform key");
	if (coffer_ecdsa_key_curve(k) != COFFER_ECDSA_P384)
		r = coffer_errf(COFFER_E_FORMAT, "sim platform key: not a P-384 key");
	else if ((r = coffer_ecdsa_pub_raw(k, raw, 97)) == 0)
		r = coffer_sha256(raw, 97, out);
	coffer_ecdsa_key_free(k);
	return r;
}

int
tee_sim_make(const char *sim_dir, const uint8_t measurement[48],
    const uint8_t report_data[64], const struct coffer_tee_sim_values *values,
    struct coffer_buf *out)
{
	struct coffer_tee_sim_values dflt;
	const struct coffer_tee_sim_values *sv = values;
	struct coffer_ecdsa_key *k = NULL;
	uint8_t ev[TEE_SIM_LEN];
	int r;

	if (sv == NULL) {
		coffer_tee_sim_values_init(&dflt);
		sv = &dflt;
	}
	/* What a reader would refuse is not made (section 8.1). */
	if (sv->tcb_status < COFFER_TCB_UP_TO_DATE || sv->tcb_status > COFFER_TCB_REVOKED ||
	    sv->vmpl > 3)
		return coffer_errf(COFFER_E_INVAL, "sim values: TCB status %d (1-9) or "
		    "VMPL %u (0-3) out of range", (int)sv->tcb_status, sv->vmpl);
	memset(ev, 0, sizeof(ev));
	if ((r = sim_key_load(sim_dir, &k)) != 0)
		return r;
	memcpy(ev + S_MAGIC, TEE_SIM_MAGIC, 16);
	coffer_store_u32le(ev + S_VERSION, SIM_VERSION);
	coffer_store_u32le(ev + S_FLAGS, (sv->debug ? F_DEBUG : 0) |
	    (sv->smt ? F_SMT : 0) | (sv->migration_agent ? F_MIGRATION_AGENT : 0));
	memcpy(ev + S_MEASUREMENT, measurement, 48);
	memcpy(ev + S_REPORT_DATA, report_data, 64);
	coffer_store_u32le(ev + S_TCB_STATUS, (uint32_t)sv->tcb_status);
	coffer_store_u32le(ev + S_EVAL_NUM, sv->tcb_evaluation_data_number);
	ev[S_SNP_TCB + 0] = sv->snp_tcb.bootloader;
	ev[S_SNP_TCB + 1] = sv->snp_tcb.tee;
	ev[S_SNP_TCB + 2] = sv->snp_tcb.snp;
	ev[S_SNP_TCB + 3] = sv->snp_tcb.microcode;
	ev[S_SNP_TCB + 4] = sv->snp_tcb.fmc;
	coffer_store_u32le(ev + S_VMPL, sv->vmpl);
	memcpy(ev + S_TD_ATTR, sv->td_attributes, 8);
	if ((r = coffer_ecdsa_pub_raw(k, ev + S_PUBKEY, 97)) != 0 ||
	    (r = coffer_ecdsa_sign(k, ev, TEE_SIM_SIGNED_LEN, ev + S_SIGNATURE, 96)) != 0)
		goto out;
	r = coffer_buf_put(out, ev, sizeof(ev));
out:
	coffer_ecdsa_key_free(k);
	return r;
}

/* Section 8.1, reader rules R1-R6: anything else is not sim evidence v2. */
static int
sim_parse(const uint8_t *p, size_t len, struct coffer_tee_claims *c)
{
	uint32_t flags, st, vmpl;

	if (len >= 16 && memcmp(p + S_MAGIC, "INSECURE-SIM-V1\0", 16) == 0)
		return coffer_errf(COFFER_E_VERSION, "sim evidence v1 is no longer "
		    "accepted: make new evidence (coffer attest report --backend sim), "
		    "which is version 2");
	if (len != TEE_SIM_LEN)
		return coffer_errf(len < TEE_SIM_LEN ? COFFER_E_TRUNCATED : COFFER_E_FORMAT,
		    "sim evidence: %zu bytes, expected %d", len, TEE_SIM_LEN);
	if (memcmp(p + S_MAGIC, TEE_SIM_MAGIC, 16) != 0)
		return coffer_errf(COFFER_E_FORMAT, "sim evidence: bad magic");
	if (coffer_load_u32le(p + S_VERSION) != SIM_VERSION)
		return coffer_errf(COFFER_E_VERSION, "sim evidence: version %u is not "
		    "supported (2)", coffer_load_u32le(p + S_VERSION));
	flags = coffer_load_u32le(p + S_FLAGS);
	st = coffer_load_u32le(p + S_TCB_STATUS);
	vmpl = coffer_load_u32le(p + S_VMPL);
	if (flags & ~(F_DEBUG | F_SMT | F_MIGRATION_AGENT))
		return coffer_errf(COFFER_E_FORMAT, "sim evidence: unknown flags 0x%x",
		    flags);
	if (st < COFFER_TCB_UP_TO_DATE || st > COFFER_TCB_REVOKED || vmpl > 3 ||
	    p[S_SNP_TCB + 5] != 0 || p[S_SNP_TCB + 6] != 0 || p[S_SNP_TCB + 7] != 0)
		return coffer_errf(COFFER_E_FORMAT, "sim evidence: TCB status %u (1-9), "
		    "VMPL %u (0-3) or reserved TCB bytes (0) out of range", st, vmpl);
	c->tee = COFFER_TEE_SIM;
	c->format_version = SIM_VERSION;
	c->debug = (flags & F_DEBUG) != 0;
	c->tcb_status = (enum coffer_tee_tcb_status)st;
	memcpy(c->sim.measurement, p + S_MEASUREMENT, 48);
	memcpy(c->report_data, p + S_REPORT_DATA, 64);
	c->sim.tcb_eval_data_number = coffer_load_u32le(p + S_EVAL_NUM);
	c->sim.tcb_bootloader = p[S_SNP_TCB + 0];
	c->sim.tcb_tee = p[S_SNP_TCB + 1];
	c->sim.tcb_snp = p[S_SNP_TCB + 2];
	c->sim.tcb_microcode = p[S_SNP_TCB + 3];
	c->sim.tcb_fmc = p[S_SNP_TCB + 4];
	c->sim.vmpl = vmpl;
	c->sim.smt = (flags & F_SMT) != 0;
	c->sim.migration_agent = (flags & F_MIGRATION_AGENT) != 0;
	memcpy(c->sim.td_attributes, p + S_TD_ATTR, 8);
	return coffer_sha256(p + S_PUBKEY, 97, c->sim.platform_key_sha256);
}

/*
 * Parsed sim platform keys that a policy named, for the whole process
 * (doc/format/evidence.md section 8.2): a verifier that checks the same
 * few hosts' evidence again and again decodes each point once. Only keys
 * a policy trusts go in, so evidence with made-up keys cannot fill it; at
 * most TEE_SIM_KEY_CACHE, never evicted or freed (a key handed out stays
 * valid), then a key is decoded per verification as before.
 */
static pthread_mutex_t sim_keys_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint8_t raw[97];
	struct coffer_ecdsa_key *key;
} sim_keys[TEE_SIM_KEY_CACHE];
static size_t n_sim_keys;

/* The cached key of the raw point, or NULL; sim_keys_lock held. */
static const struct coffer_ecdsa_key *
sim_key_find(const uint8_t raw[97])
{
	for (size_t i = 0; i < n_sim_keys; i++)
		if (memcmp(sim_keys[i].raw, raw, 97) == 0)
			return sim_keys[i].key;
	return NULL;
}

/* The key of the raw point, from the cache or decoded (and cached if
 * cache is set and there is room); *owned gets it
 * when it is not cached (the caller frees it). NULL if not a point. */
static const struct coffer_ecdsa_key *
sim_key_get(const uint8_t raw[97], int cache, struct coffer_ecdsa_key **owned)
{
	const struct coffer_ecdsa_key *found = NULL;
	struct coffer_ecdsa_key *k = NULL;

	*owned = NULL;
	pthread_mutex_lock(&sim_keys_lock);
	found = sim_key_find(raw);
	pthread_mutex_unlock(&sim_keys_lock);
	if (found != NULL)
		return found;
	if (coffer_ecdsa_pub_from_raw(COFFER_ECDSA_P384, raw, 97, &k) != 0)
		return NULL;
	pthread_mutex_lock(&sim_keys_lock);
	found = sim_key_find(raw);         /* another thread's, meanwhile */
	if (found == NULL && cache && n_sim_keys < TEE_SIM_KEY_CACHE) {
		memcpy(sim_keys[n_sim_keys].raw, raw, 97);
		sim_keys[n_sim_keys++].key = k;
		found = k;
		k = NULL;
	}
	pthread_mutex_unlock(&sim_keys_lock);
	if (found != NULL) {
		coffer_ecdsa_key_free(k);
		return found;
	}
	*owned = k;
	return k;
}

size_t
tee_sim_keys_cached(void)
{
	size_t n;

	pthread_mutex_lock(&sim_keys_lock);
	n = n_sim_keys;
	pthread_mutex_unlock(&sim_keys_lock);
	return n;
}

int
tee_sim_verify(struct tee_vctx *v, const uint8_t *p, size_t len)
{
	struct coffer_tee_claims *c = v->c;
	const struct coffer_tee_anchors *a = v->anchors;
	struct coffer_ecdsa_key *k = NULL;
	const struct coffer_ecdsa_key *key = NULL;
	char h[65];
	int r, trusted = 0;

	if ((r = sim_parse(p, len, c)) != 0)
		return r;
	tee_note(v, "sim.insecure", "%s", TEE_SIM_WARNING);
	coffer_hex_encode(c->sim.platform_key_sha256, 32, h);
	/* R7: with a policy, only a key it names (section 10.4, P9); without
	 * one, only a key of the anchors. */
	if (v->policy != NULL) {
		for (size_t i = 0; i < v->policy->n_sim_keys && !trusted; i++)
			trusted = memcmp(v->policy->sim_keys[i], c->sim.platform_key_sha256,
			    32) == 0;
		if (!trusted)
			tee_fail(v, COFFER_E_POLICY, "policy.sim_key", "INSECURE "
			    "SIMULATION evidence from the sim platform key %s, which the "
			    "policy does not name", h);
	} else {
		for (size_t i = 0; i < a->n_sim && key == NULL; i++)
			if (memcmp(a->sim[i].raw, p + S_PUBKEY, 97) == 0)
				key = a->sim[i].key;
		if (key == NULL)
			tee_fail(v, COFFER_E_UNTRUSTED, "sim.untrusted_key", "the sim "
			    "platform key (SHA-256 of the point %s) is not one this "
			    "verifier was told to trust", h);
	}
	/* R8: the signature, with the key the evidence carries (its
	 * fingerprint is what was judged), so tampering is reported as such. */
	if (key == NULL &&
	    (key = sim_key_get(p + S_PUBKEY, trusted, &k)) == NULL) {
		tee_fail(v, COFFER_E_SIGNATURE, "sim.signature", "the platform key "
		    "is not a P-384 point");
		goto out;
	}
	if (coffer_ecdsa_verify(key, p, TEE_SIM_SIGNED_LEN, p + S_SIGNATURE, 96,
	    COFFER_ECDSA_SIG_RAW) != 0)
		tee_fail(v, COFFER_E_SIGNATURE, "sim.signature", "the sim evidence "
		    "signature does not verify with its platform key");
	/* The simulated status reads like a real one (notes, or tcb.revoked). */
	tee_tcb_record_status(v, c->tcb_status);
	if (c->debug)
		tee_note(v, "tee.debug", "simulated debug TEE");
out:
	coffer_errclear();
	coffer_ecdsa_key_free(k);
	return 0;
}

int
tee_sim_platform_key(const char *sim_dir, struct coffer_ecdsa_key **out)
{
	return sim_key_load(sim_dir, out);
}
