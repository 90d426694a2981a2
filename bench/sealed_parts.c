// SPDX-License-Identifier: Apache-2.0
// Where the time of `coffer seal` / `open` goes, in memory, without system
// calls: the AEAD alone and SHA-256 alone on one cache-resident 64 KiB
// chunk buffer (as seal and open use theirs), the memcpy that stands in
// for read(2), and the sealed writer and reader doing exactly what seal and
// open do between read and write. Used by bench/sealed.sh; prints
// "name MB/s" lines (MB = 10^6 bytes of plaintext per second of CPU
// time, as openssl speed counts), best of 3.
//   sealed_parts [MiB]   (default 256)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/sealed.h"
#include "lib/random.h"

#define CHUNK COFFER_SEALED_CHUNK_DEFAULT
#define FULL (CHUNK + COFFER_SEALED_TAG_LEN)
#define HDR COFFER_SEALED_HEADER_LEN
#define ROUNDS 3
#define PARTS 5

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
	fprintf(stderr, "sealed_parts: %s failed\n", what);
	exit(1);
}

int
main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 256;
	size_t n = mib << 20, chunks = n / CHUNK;
	uint8_t key[32], nonce[12] = { 0 }, hdr[HDR] = { 0 }, d[32];
	uint8_t *pt, *sealed, *buf;
	struct coffer_aead *a = NULL;
	double best[PARTS], t;
	static const char *names[PARTS] = { "aead_hot", "sha256_hot",
	    "memcpy_in", "writer", "reader" };

	if (mib == 0 || mib > 4096)
		die("size");
	for (int i = 0; i < PARTS; i++)
		best[i] = 1e9;
	pt = malloc(n);
	buf = malloc(FULL);
	sealed = malloc(HDR + (chunks + 1) * FULL);
	if (pt == NULL || buf == NULL || sealed == NULL)
		die("malloc");
	if (coffer_random(key, sizeof(key)) != 0 || coffer_random(pt, n) != 0 ||
	    coffer_random(buf, FULL) != 0)
		die("coffer_random");
	memset(sealed, 0, HDR + (chunks + 1) * FULL);
	if (coffer_aead_new(COFFER_AEAD_AES256GCM, key, 32, &a) != 0)
		die("aead_new");

	for (int round = 0; round < ROUNDS; round++) {
		struct coffer_sealed_writer *w = NULL;
		struct coffer_sealed_reader *r = NULL;
		struct coffer_sealed_info info;
		struct coffer_hash *h = NULL;
		double e[PARTS];

		/* The AEAD alone, one keyed context, in place on one buffer. */
		t = now();
		for (size_t i = 0; i < chunks; i++) {
			nonce[7] = (uint8_t)i;
			if (coffer_aead_encrypt(a, nonce, hdr, sizeof(hdr), buf, CHUNK,
			    buf, buf + CHUNK) != 0)
				die("aead");
		}
		e[0] = now() - t;

		/* SHA-256 alone over the same buffer. */
		t = now();
		if (coffer_hash_new(COFFER_HASH_SHA256, &h) != 0)
			die("hash_new");
		for (size_t i = 0; i < chunks; i++)
			if (coffer_hash_update(h, buf, FULL) != 0)
				die("hash");
		if (coffer_hash_final(h, d, 32) != 0)
			die("hash_final");
		coffer_hash_free(h);
		e[1] = now() - t;

		/* The copy read(2) makes, from memory not in cache. */
		t = now();
		for (size_t i = 0; i < chunks; i++)
			memcpy(buf, pt + i * CHUNK, CHUNK);
		e[2] = now() - t;

		/* seal's loop without the system calls: copy in, push in place. */
		t = now();
		if (coffer_sealed_writer_new(key, NULL, &w) != 0)
			die("writer_new");
		memcpy(sealed, coffer_sealed_writer_header(w), HDR);
		for (size_t i = 0; i <= chunks; i++) {
			size_t k = i < chunks ? CHUNK : 0;

			memcpy(buf, pt + i * CHUNK, k);
			if (coffer_sealed_writer_push(w, buf, k, buf) != 0)
				die("push");
			/* keep the result for the reader (not timed as work of
			 * seal, but cheap: the buffer is in cache) */
			memcpy(sealed + HDR + i * FULL, buf, k + COFFER_SEALED_TAG_LEN);
		}
		if (coffer_sealed_writer_finish(w, &info) != 0)
			die("finish");
		coffer_sealed_writer_free(w);
		e[3] = now() - t;

		/* open's loop without the system calls: copy in, pull in place. */
		t = now();
		if (coffer_sealed_reader_new(key, sealed, HDR, &r) != 0)
			die("reader_new");
		for (size_t i = 0; i <= chunks; i++) {
			size_t k = i < chunks ? FULL : COFFER_SEALED_TAG_LEN;

			memcpy(buf, sealed + HDR + i * FULL, k);
			if (coffer_sealed_reader_pull(r, buf, k, buf) != 0)
				die("pull");
		}
		if (coffer_sealed_reader_finish(r, &info) != 0)
			die("reader_finish");
		coffer_sealed_reader_free(r);
		e[4] = now() - t;

		for (int i = 0; i < PARTS; i++)
			if (e[i] < best[i])
				best[i] = e[i];
	}
	for (int i = 0; i < PARTS; i++)
		printf("%s %.0f\n", names[i], (double)n / best[i] / 1e6);
	coffer_aead_free(a);
	free(pt);
	free(buf);
	free(sealed);
	return 0;
}
