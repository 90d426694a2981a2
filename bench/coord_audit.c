// SPDX-License-Identifier: Apache-2.0
// The audit log's cost (BENCHMARKS.md, "Coordinator audit log"): appends
// per second, one event per durable commit (as owners' writes), per lazy
// commit (as releases and refusals), and in bulk (the CPU cost of an
// append alone); then, at each size given, the time to compute the root,
// an inclusion proof and a consistency proof from the stored subtrees, and
// to sign a head. Usage: coord_audit DIR DURABLE LAZY SIZE...
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coordinator/audit.h"
#include "coordinator/state.h"
#include "lib/random.h"

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "coord_audit: %s failed\n", what);
	exit(1);
}

/* A refusal entry of about 200 bytes, canonical. */
static size_t
entry(uint64_t i, char *out, size_t outlen)
{
	return (size_t)snprintf(out, outlen, "{\"detail\":\"the evidence's report "
	    "data does not bind this job, nonce and worker key\",\"event\":"
	    "\"refusal\",\"job\":\"%032llx\",\"reason\":\"evidence.binding\","
	    "\"time\":1796000000}", (unsigned long long)i);
}

static void
append(struct coord_state *st, uint64_t i)
{
	char e[256];
	size_t n = entry(i, e, sizeof(e));

	if (coord_audit_append_entry(st, (const uint8_t *)e, n, NULL) != 0)
		die("append");
}

/* n appends, one per transaction of the given kind; appends/s. */
static double
per_commit(struct coord_state *st, uint64_t *next, int n, int lazy)
{
	double t0 = now_s();

	for (int i = 0; i < n; i++) {
		if ((lazy ? coord_state_begin_lazy(st) : coord_state_begin(st)) != 0)
			die("begin");
		append(st, (*next)++);
		if (coord_state_commit(st) != 0)
			die("commit");
	}
	return n / (now_s() - t0);
}

static uint64_t
rnd(uint64_t below)
{
	uint64_t x;

	if (coffer_random(&x, sizeof(x)) != 0)
		die("random");
	return x % below;
}

int
main(int argc, char **argv)
{
	struct coord_state *st = NULL;
	struct coffer_buf head = COFFER_BUF_INIT(COFFER_AUDITLOG_HEAD_MAX);
	coffer_merkle_hash root, path[COFFER_MERKLE_MAX_CONSISTENCY];
	uint8_t sk[32] = { 1 };
	/* The state is sealed (sealvfs.h): a fixed key and id. */
	const uint8_t skey[32] = { 5 }, sid[16] = { 6 };
	uint64_t next = 0, n;
	size_t len;
	double t0, bulk_s = 0;
	int reps = 1000;

	if (argc < 5)
		return fprintf(stderr, "usage: coord_audit DIR DURABLE LAZY SIZE...\n"), 2;
	if (coord_state_open(argv[1], skey, sid, &st) != 0)
		die("open");
	printf("durable %.0f\n", per_commit(st, &next, (int)strtol(argv[2], NULL, 10), 0));
	printf("lazy %.0f\n", per_commit(st, &next, (int)strtol(argv[3], NULL, 10), 1));
	for (int a = 4; a < argc; a++) {
		uint64_t target = strtoull(argv[a], NULL, 10);
		uint64_t added = 0;

		/* Grow in commits of 10,000 appends. */
		t0 = now_s();
		while (next < target) {
			if (coord_state_begin(st) != 0)
				die("begin");
			for (int i = 0; i < 10000 && next < target; i++, added++)
				append(st, next++);
			if (coord_state_commit(st) != 0)
				die("commit");
		}
		bulk_s += now_s() - t0;
		if (added > 0)
			printf("bulk %llu %.0f\n", (unsigned long long)target,
			    added / (now_s() - t0));
		if (coord_audit_size(st, &n) != 0)
			die("size");
		t0 = now_s();
		for (int i = 0; i < reps; i++)
			if (coord_audit_root(st, n - rnd(n / 2), root) != 0)
				die("root");
		printf("root %llu %.1f\n", (unsigned long long)n,
		    (now_s() - t0) / reps * 1e6);
		t0 = now_s();
		for (int i = 0; i < reps; i++)
			if (coord_audit_inclusion(st, rnd(n), n, path, &len) != 0)
				die("inclusion");
		printf("inclusion %llu %.1f\n", (unsigned long long)n,
		    (now_s() - t0) / reps * 1e6);
		t0 = now_s();
		for (int i = 0; i < reps; i++)
			if (coord_audit_consistency(st, 1 + rnd(n - 1), n, path, &len) != 0)
				die("consistency");
		printf("consistency %llu %.1f\n", (unsigned long long)n,
		    (now_s() - t0) / reps * 1e6);
		t0 = now_s();
		for (int i = 0; i < reps; i++) {
			head.len = 0;
			if (coord_audit_head(st, sk, &head, NULL) != 0)
				die("head");
		}
		printf("head %llu %.1f\n", (unsigned long long)n,
		    (now_s() - t0) / reps * 1e6);
	}
	coffer_buf_release(&head);
	coord_state_close(st);
	return 0;
}
