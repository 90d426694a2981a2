// SPDX-License-Identifier: Apache-2.0
// Seal or open a file with the sealed library alone, linked like the
// trusted worker (OpenSSL and jansson, no libcurl), so bench/sealed.sh can
// tell the memory of the streaming code from that of the `coffer` binary's
// shared libraries.
//   sealed_stream seal|open KEYFILE IN OUT
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coffer/error.h"
#include "crypto/datakey.h"
#include "crypto/sealed.h"
#include "lib/mem.h"

int
main(int argc, char **argv)
{
	uint8_t key[COFFER_SEALED_KEY_LEN];
	int in, out, r, seal;

	if (argc != 5 || (strcmp(argv[1], "seal") != 0 &&
	    strcmp(argv[1], "open") != 0)) {
		fprintf(stderr, "usage: sealed_stream seal|open KEYFILE IN OUT\n");
		return 2;
	}
	seal = strcmp(argv[1], "seal") == 0;
	if ((r = coffer_datakey_load(argv[2], key)) != 0) {
		fprintf(stderr, "sealed_stream: %s\n", coffer_errdetail());
		return 1;
	}
	in = open(argv[3], O_RDONLY | O_CLOEXEC);
	out = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in < 0 || out < 0) {
		perror("sealed_stream: open");
		return 1;
	}
	r = seal ? coffer_sealed_seal_fd(key, NULL, in, out, NULL) :
	    coffer_sealed_open_fd(key, NULL, in, out, NULL, NULL);
	coffer_wipe(key, sizeof(key));
	close(in);
	close(out);
	if (r != 0) {
		fprintf(stderr, "sealed_stream: %s: %s\n", coffer_strerror(r),
		    coffer_errdetail());
		return 1;
	}
	return 0;
}
