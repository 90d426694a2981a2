// SPDX-License-Identifier: Apache-2.0
// state.key (statekey.h), doc/format/sealed-state.md section 9. The box's
// associated data is the whole clear header, so the fields that explain a
// refusal cannot be changed to mislead without the box failing.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "coffer/error.h"
#include "coordinator/statekey.h"
#include "crypto/box.h"
#include "crypto/kdf.h"
#include "lib/buf.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "lib/random.h"

#define HEAD 120
#define LABEL_WRAP "coffer/state/seal/v1"
#define LABEL_KEY_ID "coffer/state/seal-key-id/v1"
#define REMEDY "; to move a state, start the coordinator with --recover and " \
    "have k of n owners run `coffer coordinator recover` " \
    "(doc/format/recovery.md)"

static int
hkdf(const uint8_t s[32], const char *label, uint8_t *out, size_t n)
{
	return coffer_hkdf_sha256(NULL, 0, s, 32, (const uint8_t *)label,
	    strlen(label), out, n);
}

static const char *
backend_name(unsigned b)
{
	switch (b) {
	case COFFER_TEE_BACKEND_SIM: return "sim";
	case COFFER_TEE_BACKEND_SGX_GRAMINE: return "sgx-gramine";
	case COFFER_TEE_BACKEND_TSM: return "sev-snp";
	}
	return "unknown";
}

static void
header(const struct coffer_tee_sealing *s, const uint8_t state_id[16],
    const uint8_t key_id[16], uint8_t h[HEAD])
{
	memset(h, 0, HEAD);
	memcpy(h, "CFSK", 4);
	h[4] = 1;
	h[5] = (uint8_t)s->backend;
	memcpy(h + 8, state_id, 16);
	memcpy(h + 24, s->measurement, 48);
	memcpy(h + 72, s->platform, 32);
	memcpy(h + 104, key_id, 16);
}

int
statekey_seal(const struct coffer_tee_sealing *s,
    const uint8_t state_id[COFFER_STATE_ID_LEN],
    const uint8_t key[COFFER_STATE_KEY_LEN], uint8_t out[STATEKEY_LEN])
{
	struct coffer_buf box = COFFER_BUF_INIT(64);
	uint8_t wrap[32], key_id[16];
	int r;

	if ((r = hkdf(s->key, LABEL_WRAP, wrap, 32)) != 0 ||
	    (r = hkdf(s->key, LABEL_KEY_ID, key_id, 16)) != 0)
		goto out;
	header(s, state_id, key_id, out);
	if ((r = coffer_box_seal(wrap, out, HEAD, key, COFFER_STATE_KEY_LEN,
	    &box)) != 0)
		goto out;
	memcpy(out + HEAD, box.data, box.len);
out:
	coffer_wipe(wrap, sizeof(wrap));
	coffer_buf_release(&box);
	return r;
}

int
statekey_peek(const uint8_t *f, size_t len, uint8_t state_id[COFFER_STATE_ID_LEN])
{
	if (len < STATEKEY_LEN)                                         /* K1 */
		return coffer_errf(COFFER_E_TRUNCATED, "state.key: %zu bytes, want "
		    "%d (rule K1)", len, STATEKEY_LEN);
	if (len > STATEKEY_LEN)
		return coffer_errf(COFFER_E_FORMAT, "state.key: %zu bytes, want %d "
		    "(rule K1)", len, STATEKEY_LEN);
	if (memcmp(f, "CFSK", 4) != 0)                                  /* K2 */
		return coffer_errf(COFFER_E_FORMAT, "state.key: not a sealed state "
		    "key (rule K2)");
	if (f[4] != 1)
		return coffer_errf(COFFER_E_VERSION, "state.key: version %u; this "
		    "coordinator reads version 1 (rule K2)", f[4]);
	if (f[6] | f[7] || f[5] < COFFER_TEE_BACKEND_SIM || f[5] > COFFER_TEE_BACKEND_TSM)
		return coffer_errf(COFFER_E_FORMAT, "state.key: backend %u, or "
		    "reserved bytes not zero (rule K2)", f[5]);
	memcpy(state_id, f + 8, COFFER_STATE_ID_LEN);
	return 0;
}

int
statekey_open(const uint8_t *f, size_t len, const struct coffer_tee_sealing *s,
    uint8_t state_id[COFFER_STATE_ID_LEN], uint8_t key[COFFER_STATE_KEY_LEN])
{
	struct coffer_buf pt = COFFER_BUF_INIT_SECRET(64);
	uint8_t wrap[32], key_id[16], id[16];
	char a[97], b[97];
	int r;

	if ((r = statekey_peek(f, len, id)) != 0)
		return r;
	if (f[5] != (uint8_t)s->backend)                                /* K3 */
		return coffer_errf(COFFER_E_WRONG_KEY, "state.key was sealed under "
		    "backend %s; this coordinator runs backend %s (rule K3)" REMEDY,
		    backend_name(f[5]), backend_name((unsigned)s->backend));
	if (memcmp(f + 24, s->measurement, 48) != 0) {                  /* K4 */
		coffer_hex_encode(f + 24, 48, a);
		coffer_hex_encode(s->measurement, 48, b);
		return coffer_errf(COFFER_E_WRONG_KEY, "state.key was sealed by "
		    "measurement %s; this coordinator is %s, another build (rule K4)"
		    REMEDY, a, b);
	}
	if (memcmp(f + 72, s->platform, 32) != 0) {                     /* K5 */
		coffer_hex_encode(f + 72, 32, a);
		coffer_hex_encode(s->platform, 32, b);
		return coffer_errf(COFFER_E_WRONG_KEY, "state.key was sealed on "
		    "another sim host (platform key %s; this host has %s) (rule K5)"
		    REMEDY, a, b);
	}
	if ((r = hkdf(s->key, LABEL_KEY_ID, key_id, 16)) != 0 ||
	    (r = hkdf(s->key, LABEL_WRAP, wrap, 32)) != 0)
		goto out;
	if (memcmp(f + 104, key_id, 16) != 0) {                         /* K6 */
		r = coffer_errf(COFFER_E_WRONG_KEY, "state.key was sealed with "
		    "another sealing key: another machine or CPU, or a firmware "
		    "update (rule K6)" REMEDY);
		goto out;
	}
	if ((r = coffer_box_open(wrap, f, HEAD, f + HEAD, STATEKEY_LEN - HEAD,
	    &pt)) != 0 || pt.len != COFFER_STATE_KEY_LEN) {             /* K7 */
		r = coffer_errf(COFFER_E_AUTH, "state.key does not authenticate: "
		    "the file was changed (rule K7)");
		goto out;
	}
	memcpy(state_id, id, COFFER_STATE_ID_LEN);
	memcpy(key, pt.data, COFFER_STATE_KEY_LEN);
out:
	coffer_wipe(wrap, sizeof(wrap));
	coffer_buf_release_secret(&pt);
	return r;
}

int
statekey_store(const char *dir, const struct coffer_tee_sealing *s,
    const uint8_t state_id[COFFER_STATE_ID_LEN],
    const uint8_t key[COFFER_STATE_KEY_LEN], int excl)
{
	uint8_t f[STATEKEY_LEN];
	char path[4096];
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/state.key", dir) >= sizeof(path))
		return coffer_errf(COFFER_E_LIMIT, "state directory path too long");
	if ((r = statekey_seal(s, state_id, key, f)) != 0)
		return r;
	return coffer_file_write_atomic(path, f, sizeof(f), 0600, excl);
}

static int
exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

int
statekey_load(const char *dir, const struct coffer_tee_sealing *s,
    uint8_t state_id[COFFER_STATE_ID_LEN], uint8_t key[COFFER_STATE_KEY_LEN],
    int *created)
{
	struct coffer_buf f = COFFER_BUF_INIT(STATEKEY_LEN + 1);
	uint8_t k[COFFER_STATE_KEY_LEN], id[COFFER_STATE_ID_LEN];
	char path[4096];
	int r;

	*created = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/state.key", dir) >= sizeof(path))
		return coffer_errf(COFFER_E_LIMIT, "state directory path too long");
	r = coffer_file_read(path, STATEKEY_LEN + 1, &f);
	if (r == COFFER_E_NOTFOUND) {
		if (exists(dir, "state.db") || exists(dir, "state.log")) {
			r = coffer_errf(COFFER_E_NOTFOUND, "%s is missing but the state "
			    "is there: its key can only come back from its recovery "
			    "owners (start with --recover)", path);
			goto out;
		}
		/* Section 5, step 1: a new state. */
		if ((r = coffer_random(k, sizeof(k))) != 0 ||
		    (r = coffer_random(id, sizeof(id))) != 0 ||
		    (r = statekey_store(dir, s, id, k, 1)) != 0)
			goto out;
		*created = 1;
	} else if (r == COFFER_E_LIMIT) {
		r = coffer_errf(COFFER_E_FORMAT, "%s is larger than %d bytes (rule K1)",
		    path, STATEKEY_LEN);
		goto out;
	} else if (r != 0 || (r = statekey_open(f.data, f.len, s, id, k)) != 0) {
		r = coffer_errctx(r, "%s", path);
		goto out;
	}
	memcpy(state_id, id, sizeof(id));
	memcpy(key, k, sizeof(k));
out:
	coffer_wipe(k, sizeof(k));
	coffer_buf_release(&f);
	return r;
}
