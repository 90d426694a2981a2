// SPDX-License-Identifier: Apache-2.0
// Item-proof cost on one core (doc/format/item-proof.md section 10): CPU
// time per proof for (a) the check every proof needs (parse, IP1-IP7, and
// the MAC, IP8), (b) the same plus what src/proto does for a committed
// proof on the coordinator (the commit rule, the `proof` log entry, its
// leaf hash and the log's streaming root), and (c) one HMAC-SHA-256 over
// the 173-byte MAC input alone, the floor. Prints "name us_per_proof
// proofs_per_s" lines for bench/itemproof.sh. Storage and HTTP are the
// coordinator's and not counted here.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/hash.h"
#include "lib/buf.h"
#include "proto/auditlog.h"
#include "proto/itemproof.h"
#include "proto/ledger.h"
#include "proto/merkle.h"

#define N 200000

static double
cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
report(const char *name, double secs)
{
	printf("%s %.3f %.0f\n", name, secs * 1e6 / N, N / secs);
}

int
main(void)
{
	static uint8_t proofs[64][COFFER_ITEMPROOF_LEN];
	struct coffer_ledger_item *items = calloc(N, sizeof(*items));
	struct coffer_buf entry = COFFER_BUF_INIT(1024);
	struct coffer_merkle_stream log;
	struct coffer_itemproof p;
	uint8_t key[32], mac[32], m[173];
	coffer_merkle_hash leaf;
	double t0;
	int bad = 0;

	if (items == NULL)
		return 1;
	memset(key, 0x5a, sizeof(key));
	for (int i = 0; i < 64; i++) {
		memset(&p, 0, sizeof(p));
		p.result = COFFER_RESULT_OK;
		p.item = (uint64_t)i;
		p.seq = (uint64_t)i;
		memset(p.attempt, i, 16);
		memset(p.input_digest, 1, 32);
		memset(p.output_digest, 2, 32);
		p.output_size = 1000;
		if (coffer_itemproof_encode(&p, key, proofs[i]) != 0)
			return 1;
	}
	/* (a) parse + MAC */
	t0 = cpu_s();
	for (int i = 0; i < N; i++) {
		const uint8_t *b = proofs[i & 63];

		bad |= coffer_itemproof_parse(b, COFFER_ITEMPROOF_LEN, &p) != 0;
		bad |= coffer_itemproof_verify_mac(b, key) != 0;
	}
	report("verify", cpu_s() - t0);
	/* (b) + commit rule, log entry, leaf, log root */
	coffer_merkle_stream_init(&log);
	t0 = cpu_s();
	for (int i = 0; i < N; i++) {
		const uint8_t *b = proofs[i & 63];
		uint8_t outcome;

		bad |= coffer_itemproof_parse(b, COFFER_ITEMPROOF_LEN, &p) != 0;
		bad |= coffer_itemproof_verify_mac(b, key) != 0;
		bad |= coffer_ledger_apply(&items[i], &p, 1, (uint64_t)i, &outcome) != 0;
		coffer_buf_reset(&entry);
		bad |= coffer_auditlog_entry_proof(p.job, b, "committed", NULL,
		    1800000000, &entry) != 0;
		bad |= coffer_merkle_leaf(entry.data, entry.len, leaf) != 0;
		bad |= coffer_merkle_stream_add(&log, leaf) != 0;
	}
	bad |= coffer_merkle_stream_root(&log, leaf) != 0;
	report("commit", cpu_s() - t0);
	/* (c) the HMAC alone */
	memset(m, 3, sizeof(m));
	t0 = cpu_s();
	for (int i = 0; i < N; i++) {
		m[0] = (uint8_t)i;
		bad |= coffer_hmac_sha256(key, 32, m, sizeof(m), mac) != 0;
	}
	report("hmac", cpu_s() - t0);
	coffer_buf_release(&entry);
	free(items);
	return bad;
}
