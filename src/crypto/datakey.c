// SPDX-License-Identifier: Apache-2.0
// Key ids and new data keys (crypto/datakey.h), as specified in
// doc/format/identity.md section 5. Data key files are datakey_file.c.
#include <string.h>

#include "coffer/error.h"
#include "crypto/datakey.h"
#include "crypto/kdf.h"
#include "lib/random.h"

#define KEYID_INFO "coffer/v1/key-id"

int
coffer_datakey_id(const uint8_t key[32], uint8_t id[16])
{
	/* doc/format/identity.md section 5. */
	return coffer_hkdf_sha256(NULL, 0, key, COFFER_DATAKEY_LEN,
	    (const uint8_t *)KEYID_INFO, sizeof(KEYID_INFO) - 1, id,
	    COFFER_DATAKEY_ID_LEN);
}

int
coffer_datakey_generate(uint8_t key[32])
{
	return coffer_random(key, COFFER_DATAKEY_LEN);
}
