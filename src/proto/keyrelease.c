// SPDX-License-Identifier: Apache-2.0
// Key upload, jobs and key release (doc/protocol/key-release.md). Keys
// never travel or rest in the clear outside a TEE or the owner's machine:
// they are wrapped (HPKE auth mode, doc/format/wrap.md) or boxed under a
// wrapped one-time key, and every copy these files make is wiped. This
// file holds what every side uses: the labelled inputs of section 6.3's
// binding and of the wraps. Each side's messages are in their own file,
// so that a binary links only its side: keyrelease_coord.c (the
// coordinator), keyrelease_worker.c (the worker), keyrelease_owner.c (the
// owner's CLI).
#include <string.h>

#include "crypto/hash.h"
#include "lib/mem.h"
#include "proto/keyrelease.h"
#include "proto/keyrelease_int.h"

#define BINDING_LABEL "coffer/release-binding/v1"
#define RELEASE_LABEL "coffer/key-release/v1"
#define DATAKEY_LABEL "coffer/data-key/v1"
#define RESULT_LABEL "coffer/result-key/v1"

/* label || 0x00 || parts..., into out (at most cap bytes). */
size_t
keyrelease_labelled(uint8_t *out, size_t cap, const char *label,
    const uint8_t *a, size_t an, const uint8_t *b, size_t bn, const uint8_t *c,
    size_t cn)
{
	size_t n = strlen(label) + 1;

	if (n + an + bn + cn > cap)
		return 0;
	memcpy(out, label, n);
	memcpy(out + n, a, an);
	n += an;
	if (bn)
		memcpy(out + n, b, bn);
	n += bn;
	if (cn)
		memcpy(out + n, c, cn);
	return n + cn;
}

int
coffer_keyrelease_binding(const uint8_t job[16], const uint8_t nonce[32],
    const uint8_t w_pk[32], uint8_t out[64])
{
	uint8_t m[128];
	size_t n = keyrelease_labelled(m, sizeof(m), BINDING_LABEL, job, 16, nonce,
	    32, w_pk, 32);

	return coffer_sha512(m, n, out);
}

/* ---- Key upload ---- */

size_t
keyrelease_upload_info(uint8_t out[96], const uint8_t h[32],
    const uint8_t key_id[16])
{
	return keyrelease_labelled(out, 96, DATAKEY_LABEL, h, 32, key_id, 16, NULL, 0);
}

/* ---- Release answer ---- */

/* jansson copies strings and frees them without wiping: the hex of a key
 * that went through a JSON value is wiped in place before the value goes. */
static void
wipe_json_string(json_t *v)
{
	if (json_is_string(v))
		coffer_wipe((char *)json_string_value(v), json_string_length(v));
}

void
keyrelease_wipe_payload_json(json_t *o)
{
	json_t *keys = json_object_get(o, "keys"), *k;
	size_t i;

	wipe_json_string(json_object_get(o, "session_key"));
	wipe_json_string(json_object_get(o, "output_key"));
	wipe_json_string(json_object_get(o, "intermediate_key"));
	wipe_json_string(json_object_get(o, "app_secret"));
	if (json_is_array(keys))
		json_array_foreach(keys, i, k)
			wipe_json_string(json_object_get(k, "key"));
}

void
coffer_release_payload_clear(struct coffer_release_payload *p)
{
	if (p->keys != NULL)
		coffer_free_secret(p->keys, p->nkeys * sizeof(*p->keys));
	json_decref(p->params);
	json_decref(p->limits);
	coffer_wipe(p, sizeof(*p));
}

size_t
keyrelease_release_info(uint8_t out[128], const uint8_t job[16],
    const uint8_t nonce[32], const uint8_t w_pk[32])
{
	return keyrelease_labelled(out, 128, RELEASE_LABEL, job, 16, nonce, 32, w_pk, 32);
}

/* ---- Result keys ---- */

size_t
keyrelease_result_info(uint8_t out[96], const uint8_t job[16],
    const uint8_t policy[32])
{
	return keyrelease_labelled(out, 96, RESULT_LABEL, job, 16, policy, 32, NULL, 0);
}
