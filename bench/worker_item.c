// SPDX-License-Identifier: Apache-2.0
// The per-item steps a confidential job adds in the worker, each alone
// (BENCHMARKS.md, "Worker per-item cost"): the digest check and open of a
// sealed input (conf_open_input), the seal of an output of the same size
// (conf_seal_output), against their crypto floor (one SHA-256 pass, one
// AEAD pass over the same bytes); and the app hand-off of a plugin in
// this process against the same plugin in its host process
// (`--app-host`, doc/worker.md 9.5), one item per exchange and a batch
// of 16 per exchange (HB1 to HB5), per item, wall and CPU (this
// process and, for the host, its own CPU). No store, no queue, no
// coordinator. Prints "name us" lines (microseconds per item).
//   worker_item PLUGIN.so [item bytes (default 31000)] [items (default 3000)]
// WORKER_ITEM_ONLY=1 runs the open and seal rows alone (for perf record).
// The program is also the host: /proc/self/exe --app-host.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "crypto/aead.h"
#include "crypto/datakey.h"
#include "crypto/hash.h"
#include "crypto/sealed.h"
#include "lib/buf.h"
#include "lib/random.h"
#include "proto/policy.h"
#include "worker/app.h"
#include "worker/confidential.h"
#include "worker/keys.h"
#include "worker/worker.h"

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
die(const char *what, int r)
{
	fprintf(stderr, "worker_item: %s: %s: %s\n", what, coffer_strerror(r),
	    coffer_errdetail());
	exit(1);
}

static void
report(const char *name, double w, double c, size_t n)
{
	printf("%-28s wall %7.1f us  cpu %7.1f us\n", name, w * 1e6 / (double)n,
	    c * 1e6 / (double)n);
}

/* The crypto floor: one SHA-256 and one AEAD pass over n bytes, and what
 * the format needs of them: open one of each (the pin check, the
 * decryption), seal two SHA-256 passes (the plaintext's for the salt, the
 * sealed file's for the proof) and one AEAD pass. */
static void
floor_of(const uint8_t *p, size_t n, size_t items)
{
	struct coffer_aead *a;
	uint8_t d[32], key[32] = { 7 }, nonce[12] = { 0 }, tag[16], *ct;
	double w0, c0, sha_c, sha_w;
	int r;

	if ((ct = malloc(n)) == NULL)
		die("malloc", COFFER_E_NOMEM);
	w0 = wall();
	c0 = cpu(RUSAGE_SELF);
	for (size_t i = 0; i < items; i++)
		if ((r = coffer_sha256(p, n, d)) != 0)
			die("sha256", r);
	sha_w = wall() - w0;
	sha_c = cpu(RUSAGE_SELF) - c0;
	report("floor: SHA-256", sha_w, sha_c, items);
	if ((r = coffer_aead_new(COFFER_AEAD_AES256GCM, key, 32, &a)) != 0)
		die("aead", r);
	w0 = wall();
	c0 = cpu(RUSAGE_SELF);
	for (size_t i = 0; i < items; i++)
		if ((r = coffer_aead_encrypt(a, nonce, NULL, 0, p, n, ct, tag)) != 0)
			die("aead", r);
	w0 = wall() - w0;
	c0 = cpu(RUSAGE_SELF) - c0;
	report("floor: AES-256-GCM", w0, c0, items);
	report("floor: open (SHA + AEAD)", sha_w + w0, sha_c + c0, items);
	report("floor: seal (2 SHA + AEAD)", 2 * sha_w + w0, 2 * sha_c + c0, items);
	coffer_aead_free(a);
	free(ct);
}

/* open and seal through the worker's own code, as worker_item_steps calls
 * them (init, open, seal, release per item; the buffers kept from item to
 * item, worker_bufs_init; the job's crypto contexts too, as in a job). */
static void
open_seal(const uint8_t *plain, size_t n, size_t items, size_t max)
{
	struct coffer_policy_dataset ds;
	struct coffer_policy_app app;
	struct coffer_policy pol;
	struct coffer_policy_item it;
	struct coffer_buf sealed = COFFER_BUF_INIT(max), out = COFFER_BUF_INIT(max);
	struct coffer_buf pbuf = COFFER_BUF_INIT_SECRET(max);
	struct coffer_buf sbuf = COFFER_BUF_INIT_SECRET(conf_sealed_max(max));
	struct conf_job j;
	struct conf_item ci;
	char *owners[1] = { (char *)"a" };
	uint8_t digest[32];
	double tw[3] = { 0 }, tc[3] = { 0 }, w0, c0, w1, c1;
	int r;

	memset(&j, 0, sizeof(j));
	memset(&pol, 0, sizeof(pol));
	memset(&ds, 0, sizeof(ds));
	memset(&app, 0, sizeof(app));
	if ((j.keys = keys_new(1)) == NULL)
		die("keys", COFFER_E_NOMEM);
	if ((r = coffer_random(j.keys->data[0].key, 32)) != 0 ||
	    (r = coffer_datakey_id(j.keys->data[0].key, j.keys->data[0].key_id)) != 0 ||
	    (r = coffer_random(j.keys->output_key, 32)) != 0 ||
	    (r = coffer_random(j.job, 16)) != 0)
		die("keys", r);
	memcpy(ds.key_id, j.keys->data[0].key_id, 16);
	ds.name = "a";
	pol.ndatasets = 1;
	pol.datasets = &ds;
	app.name = "bench";
	j.policy = &pol;
	j.app = &app;
	j.owners = owners;
	if ((r = coffer_sealed_seal_mem(j.keys->data[0].key, NULL, plain, n,
	    &sealed, NULL)) != 0 || (r = coffer_sha256(sealed.data, sealed.len,
	    digest)) != 0 || (r = coffer_buf_put(&out, plain, n)) != 0)
		die("seal input", r);
	memset(&it, 0, sizeof(it));
	it.key = "a/item";
	it.digest = digest;
	j.items = &it;
	j.nitems = 1;
	for (size_t i = 0; i < items; i++) {
		w0 = wall();
		c0 = cpu(RUSAGE_THREAD);
		if ((r = conf_item_init_bufs(&ci, &j, "a/item", 1, &pbuf, &sbuf)) != 0 ||
		    (r = conf_open_input(&ci, &sealed)) != 0)
			die("open", r);
		w1 = wall();
		c1 = cpu(RUSAGE_THREAD);
		tw[0] += w1 - w0;
		tc[0] += c1 - c0;
		if (ci.plainlen != n || memcmp(ci.plain, plain, n) != 0)
			die("open: other plaintext", COFFER_E_INTERNAL);
		if ((r = conf_seal_output(&ci, &out)) != 0)
			die("seal", r);
		w0 = wall();
		c0 = cpu(RUSAGE_THREAD);
		tw[1] += w0 - w1;
		tc[1] += c0 - c1;
		conf_item_release(&ci);
		tw[2] += wall() - w0;
		tc[2] += cpu(RUSAGE_THREAD) - c0;
	}
	report("digest check + open", tw[0], tc[0], items);
	report("seal", tw[1], tc[1], items);
	report("release", tw[2], tc[2], items);
	coffer_buf_release(&sealed);
	coffer_buf_release(&out);
	coffer_buf_release(&pbuf);
	coffer_buf_release(&sbuf);
	conf_job_crypto_free(&j);
	keys_free(j.keys);
}

/* Items first..first+k-1 of a batch of BATCH through the host in one
 * exchange, as the runner gives them (doc/worker.md 9.5, HB1 to HB5). */
#define BATCH 16
static void
batch_of(struct app *a, const uint8_t *plain, size_t n, size_t k,
    struct coffer_buf *out, const struct app_wait *aw)
{
	char err[WORKER_ERR_MAX];
	size_t first, count, done = 0;
	uint32_t rep;
	int r;

	for (size_t i = 0; i < k; i++)
		if ((r = app_batch_add(a, "a/item", 1, "a", plain, n)) != 0)
			die("batch add (the batch does not fit the region)", r);
	while (done < k) {
		if ((r = app_batch_run(a, aw, &first, &count)) != 0)
			die("batch run", r);
		for (size_t i = first; i < first + count; i++) {
			coffer_buf_reset(out);
			if ((r = app_batch_result(a, i, out, &rep, err,
			    sizeof(err))) != 0 || out->len != n)
				die(err, r ? r : COFFER_E_INTERNAL);
		}
		done = first + count;
	}
	app_batch_end(a);
}

/* The app hand-off: items through app_process, the plugin in this
 * process or in its host (isolated 1), or in its host a batch of BATCH
 * at a time (isolated 2). */
static void
handoff(char *plugin, const uint8_t *plain, size_t n, size_t items,
    size_t max, int isolated)
{
	struct worker_config cfg;
	struct app_info info;
	struct app *a;
	struct coffer_buf out = COFFER_BUF_INIT_SECRET(max);
	struct app_wait aw;
	char err[WORKER_ERR_MAX];
	uint32_t rep;
	double w0, c0, ch0;
	int fd = -1, r;

	memset(&cfg, 0, sizeof(cfg));
	memset(&aw, 0, sizeof(aw));
	aw.timeout_ms = 60000;
	cfg.app = plugin;
	cfg.app_kind = APP_KIND_PLUGIN;
	cfg.max_item_bytes = max;
	if (isolated) {
		if ((fd = open(plugin, O_RDONLY | O_CLOEXEC)) < 0)
			die(plugin, COFFER_E_IO);
		r = app_open_isolated(&cfg, fd, NULL, NULL, 0, &a, &info);
	} else {
		r = app_open(&cfg, &a, &info);
	}
	if (r != 0)
		die("app", r);
	/* One item first: the host's start is not per item. */
	if ((r = app_process(a, "a/item", 1, "a", plain, n, &out, &aw, &rep, err,
	    sizeof(err))) != 0)
		die(err, r);
	w0 = wall();
	c0 = cpu(RUSAGE_SELF);
	ch0 = cpu(RUSAGE_CHILDREN);
	for (size_t i = 0; i < items && isolated == 2; i += BATCH)
		batch_of(a, plain, n, items - i < BATCH ? items - i : BATCH, &out, &aw);
	for (size_t i = 0; i < items && isolated != 2; i++) {
		coffer_buf_reset(&out);
		if ((r = app_process(a, "a/item", 1, "a", plain, n, &out, &aw, &rep,
		    err, sizeof(err))) != 0)
			die(err, r);
	}
	w0 = wall() - w0;
	c0 = cpu(RUSAGE_SELF) - c0;
	app_close(a);   /* reaps the host: its CPU is then the children's */
	if (isolated) {
		report(isolated == 2 ? "app, host, batches of 16" :
		    "app, plugin in its host", w0, c0, items);
		printf("%-28s                 cpu %7.1f us (the host's, its start"
		    " included)\n", "", (cpu(RUSAGE_CHILDREN) - ch0) * 1e6 /
		    (double)items);
	} else {
		report("app, plugin in process", w0, c0, items);
	}
	coffer_buf_release(&out);
	if (fd >= 0)
		close(fd);
}

int
main(int argc, char **argv)
{
	size_t n = 31000, items = 3000, max = (size_t)64 << 20;
	uint8_t *plain;
	const char *only;
	int r;

	if (argc >= 2 && strcmp(argv[1], "--app-host") == 0)
		return apphost_main(argc, argv);
	if (argc < 2) {
		fprintf(stderr, "usage: worker_item PLUGIN.so [bytes] [items]\n");
		return 2;
	}
	if (argc >= 3)
		n = strtoul(argv[2], NULL, 10);
	if (argc >= 4)
		items = strtoul(argv[3], NULL, 10);
	if ((plain = malloc(n ? n : 1)) == NULL)
		die("malloc", COFFER_E_NOMEM);
	if ((r = coffer_random(plain, n)) != 0)
		die("random", r);
	printf("items of %zu bytes, %zu items, max item bytes %zu\n", n, items, max);
	/* WORKER_ITEM_ONLY=open-seal: only those rows (for perf record). */
	only = getenv("WORKER_ITEM_ONLY");
	if (only == NULL)
		floor_of(plain, n, items);
	open_seal(plain, n, items, max);
	if (only == NULL) {
		handoff(argv[1], plain, n, items, max, 0);
		handoff(argv[1], plain, n, items, max, 1);
		handoff(argv[1], plain, n, items, max, 2);
	}
	free(plain);
	return 0;
}
