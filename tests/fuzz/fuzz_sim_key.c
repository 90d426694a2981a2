// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the sim platform key file's reader (src/tee/sim.c,
// doc/format/evidence.md 8.3): the fixed PKCS#8 layout compared byte for
// byte, else OpenSSL's PEM decoder. The input is the file. A key it
// accepts must be a P-384 key pair that signs; a file it refuses loads
// nothing. (INSECURE SIMULATION backend: it only ever reads its own file.)
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/ecdsa.h"
#include "lib/file.h"
#include "tee/tee_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[128];

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coffer_ecdsa_key *k = NULL;
	uint8_t pt[97], sig[96];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/coffer-fuzz-simkey.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/sim-platform.key", dir);
		atexit(cleanup);
	}
	/* An empty file would be a key to make: not this reader's input. */
	if (size == 0 || size > 16384)
		return 0;
	if (coffer_file_write_atomic(path, data, size, 0600, 0) != 0)
		abort();
	if (tee_sim_platform_key(dir, &k) != 0) {
		if (k != NULL)
			__builtin_trap();
		return 0;
	}
	if (coffer_ecdsa_key_curve(k) != COFFER_ECDSA_P384 ||
	    coffer_ecdsa_pub_raw(k, pt, sizeof(pt)) != 0 || pt[0] != 0x04 ||
	    coffer_ecdsa_sign(k, data, size, sig, sizeof(sig)) != 0)
		__builtin_trap();
	coffer_ecdsa_key_free(k);
	return 0;
}
