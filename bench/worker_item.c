// SPDX-License-Identifier: Apache-2.0
// The per-item steps a confidential job adds in the worker, each alone
// (BENCHMARKS.md, "Worker per-item cost"): the digest check and open of a
// sealed input (conf_open_input), the seal of an output of the same size
// (conf_seal_output), against their crypto floor (one SHA-256 pass, one
// AEAD pass over the same bytes); and the app hand-off of a plugin in
// this process against the same plugin in its host process
// (`--app-host`, doc/worker.md 9.5), one item per exchange and a batch
// of 16 per exchange (HB1 to HB5), per item, wall and CPU (this
// process and, for the host, its own CPU); and the three together as a
// job's runner does them, one exchange at a time against pipelined
// (HB8). No store, no queue, no coordinator. Prints "name us" lines
// (microseconds per item).
//   worker_item PLUGIN.so [item bytes (default 31000)] [items (default 3000)]
// WORKER_ITEM_ONLY=1 runs the open and seal rows alone (for perf record).
// The program is also the host: /proc/self/exe --app-host.
#include <dirent.h>
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

/*
 * The hand-off as a job's runner does it (src/worker/item.c): per item
 * the digest check and open, the app in its host, the seal; 64 items a
 * batch, 16 an exchange; with one exchange at a time (the runner waits
 * while the host runs, the host while the runner opens and seals), or
 * pipelined (doc/worker.md 9.5 HB8: the next 16 opened and the last 16
 * sealed while the host runs these). The two alternate, a batch each, so
 * that both see the same machine. The app: the plugin given, or
 * WORKER_ITEM_APP with WORKER_ITEM_INPUT as every item's plaintext (e.g.
 * dicom-deid.so and a DICOM file, whose own work in the host is what the
 * pipeline overlaps; its secret a fixed one).
 */
#define PIPE_BATCH 64
#define PIPE_EXCHANGE 16
struct pipe_run {
	struct app *a;
	struct conf_job *j;
	const struct coffer_buf *sealed;
	/* The seal's own plaintext scratch: an opened item may wait for
	 * room with its plaintext in pbuf (as item.c's batch_steps). */
	struct coffer_buf *pbuf, *pbuf_seal, *sbuf, *out;
	const struct app_wait *aw;
	size_t added, done, n;
};

static void
pipe_seal(struct pipe_run *p, size_t first, size_t count)
{
	char err[WORKER_ERR_MAX];
	uint32_t rep;
	int r;

	for (size_t i = first; i < first + count; i++) {
		struct conf_item ci;

		coffer_buf_reset(p->out);
		if ((r = app_batch_result(p->a, i, p->out, &rep, err, sizeof(err))) != 0)
			die(err, r);
		if ((r = conf_item_init_bufs(&ci, p->j, "a/item", 1, p->pbuf_seal,
		    p->sbuf)) != 0 || (r = conf_seal_output(&ci, p->out)) != 0)
			die("seal", r);
		conf_item_release(&ci);
	}
	p->done = first + count;
}

/* One turn: one exchange at a time (send, wait, seal), or pipelined as
 * src/worker/item.c's advance (read the answer in flight, send the next,
 * seal the answered). */
static void
pipe_turn(struct pipe_run *p, int pipelined)
{
	size_t first = 0, count = 0;
	int r;

	if (!pipelined) {
		if ((r = app_batch_run(p->a, p->aw, &first, &count)) != 0)
			die("batch run", r);
		pipe_seal(p, first, count);
		return;
	}
	if (app_batch_flying(p->a) && (r = app_batch_recv(p->a, &first,
	    &count)) != 0)
		die("batch recv", r);
	if ((r = app_batch_send(p->a, p->aw)) != 0)
		die("batch send", r);
	pipe_seal(p, first, count);
}

static void
pipe_batch(struct pipe_run *p, int pipelined)
{
	int r;

	p->added = p->done = 0;
	while (p->added < p->n) {
		struct conf_item ci;

		if ((r = conf_item_init_bufs(&ci, p->j, "a/item", 1, p->pbuf,
		    p->sbuf)) != 0 || (r = conf_open_input(&ci, p->sealed)) != 0)
			die("open", r);
		while (ci.plainlen > app_batch_room(p->a) && p->done < p->added)
			pipe_turn(p, pipelined);
		if ((r = app_batch_add(p->a, "a/item", 1, "a", ci.plain,
		    ci.plainlen)) != 0)
			die("batch add", r);
		conf_item_release(&ci);
		p->added++;
		if (app_batch_unsent(p->a) >= PIPE_EXCHANGE)
			pipe_turn(p, pipelined);
	}
	while (p->done < p->added)
		pipe_turn(p, pipelined);
	app_batch_end(p->a);
}

/* The host's CPU so far (utime + stime of /proc/PID/stat), in seconds. */
static double
host_cpu(pid_t pid)
{
	char path[64], buf[1024], *q;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) == NULL || (q = strrchr(buf, ')')) == NULL ||
	    sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2) {
		fclose(f);
		return 0;
	}
	fclose(f);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The host: this process's child (the only one while the bench runs). */
static pid_t
child_pid(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (d != NULL && found == 0 && (e = readdir(d)) != NULL) {
		char path[300], buf[512], *q;
		long ppid;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL && (q = strrchr(buf, ')')) &&
		    sscanf(q + 2, "%*c %ld", &ppid) == 1 && ppid == (long)getpid())
			found = (pid_t)strtol(e->d_name, NULL, 10);
		fclose(f);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

static void
pipeline(char *plugin, const uint8_t *plain, size_t n, size_t items, size_t max)
{
	const char *app_path = getenv("WORKER_ITEM_APP");
	const char *input = getenv("WORKER_ITEM_INPUT");
	struct coffer_app_param params[2] = { { "coffer.app_secret",
	    "0101010101010101010101010101010101010101010101010101010101010101" },
	    { "burned_in_annotation", "accept" } };
	struct coffer_policy_dataset ds;
	struct coffer_policy_app papp;
	struct coffer_policy pol;
	struct coffer_policy_item it;
	struct coffer_buf sealed = COFFER_BUF_INIT(max), out = COFFER_BUF_INIT_SECRET(max);
	struct coffer_buf pbuf = COFFER_BUF_INIT_SECRET(max);
	struct coffer_buf sbuf = COFFER_BUF_INIT_SECRET(conf_sealed_max(max));
	struct coffer_buf file = COFFER_BUF_INIT(max);
	struct coffer_buf pbuf2 = COFFER_BUF_INIT_SECRET(max);
	struct worker_config cfg;
	struct app_info info;
	struct app_wait aw;
	struct conf_job j;
	struct pipe_run p;
	char *owners[1] = { (char *)"a" };
	uint8_t digest[32];
	double tw[2] = { 0 }, tc[2] = { 0 }, th[2] = { 0 };
	size_t nb[2] = { 0 };
	pid_t hpid;
	int fd, r;

	memset(&j, 0, sizeof(j));
	memset(&pol, 0, sizeof(pol));
	memset(&ds, 0, sizeof(ds));
	memset(&papp, 0, sizeof(papp));
	if (input != NULL) {
		FILE *f = fopen(input, "rb");
		uint8_t b[65536];
		size_t k;

		if (f == NULL)
			die(input, COFFER_E_IO);
		while ((k = fread(b, 1, sizeof(b), f)) > 0)
			if ((r = coffer_buf_put(&file, b, k)) != 0)
				die(input, r);
		fclose(f);
		plain = file.data;
		n = file.len;
		if (app_path != NULL)
			plugin = (char *)app_path;
	}
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
	papp.name = "bench";
	j.policy = &pol;
	j.app = &papp;
	j.owners = owners;
	if ((r = coffer_sealed_seal_mem(j.keys->data[0].key, NULL, plain, n,
	    &sealed, NULL)) != 0 || (r = coffer_sha256(sealed.data, sealed.len,
	    digest)) != 0)
		die("seal input", r);
	memset(&it, 0, sizeof(it));
	it.key = "a/item";
	it.digest = digest;
	j.items = &it;
	j.nitems = 1;

	memset(&cfg, 0, sizeof(cfg));
	memset(&aw, 0, sizeof(aw));
	aw.timeout_ms = 60000;
	cfg.app = plugin;
	cfg.app_kind = APP_KIND_PLUGIN;
	cfg.max_item_bytes = max;
	if ((fd = open(plugin, O_RDONLY | O_CLOEXEC)) < 0)
		die(plugin, COFFER_E_IO);
	if ((r = app_open_isolated(&cfg, fd, NULL, app_path ? params : NULL,
	    app_path ? 2 : 0, &p.a, &info)) != 0)
		die("app", r);
	hpid = child_pid();
	p.j = &j;
	p.sealed = &sealed;
	p.pbuf = &pbuf;
	p.pbuf_seal = &pbuf2;
	p.sbuf = &sbuf;
	p.out = &out;
	p.aw = &aw;
	/* A batch of each first: the host's start and the buffers' growth
	 * are not per item. */
	p.n = PIPE_BATCH;
	pipe_batch(&p, 0);
	pipe_batch(&p, 1);
	for (size_t i = 0, k = 0; i < items; i += PIPE_BATCH, k ^= 1) {
		double w0 = wall(), c0 = cpu(RUSAGE_SELF), h0 = host_cpu(hpid);

		p.n = items - i < PIPE_BATCH ? items - i : PIPE_BATCH;
		pipe_batch(&p, (int)k);
		tw[k] += wall() - w0;
		tc[k] += cpu(RUSAGE_SELF) - c0;
		th[k] += host_cpu(hpid) - h0;
		nb[k] += p.n;
	}
	printf("runner steps 2-4 with the app in its host, %zu-byte items (%s),"
	    " batches of %d, %d per exchange:\n", n, app_path && input ? app_path :
	    plugin, PIPE_BATCH, PIPE_EXCHANGE);
	report("  one exchange at a time", tw[0], tc[0], nb[0]);
	printf("%-28s                 cpu %7.1f us (the host's)\n", "",
	    th[0] * 1e6 / (double)nb[0]);
	report("  pipelined (HB8)", tw[1], tc[1], nb[1]);
	printf("%-28s                 cpu %7.1f us (the host's)\n", "",
	    th[1] * 1e6 / (double)nb[1]);
	printf("  wall pipelined / one at a time: %.3f\n",
	    (tw[1] / (double)nb[1]) / (tw[0] / (double)nb[0]));
	app_close(p.a);
	close(fd);
	coffer_buf_release(&sealed);
	coffer_buf_release(&out);
	coffer_buf_release(&pbuf);
	coffer_buf_release(&sbuf);
	coffer_buf_release(&file);
	coffer_buf_release(&pbuf2);
	conf_job_crypto_free(&j);
	keys_free(j.keys);
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
		pipeline(argv[1], plain, n, items, max);
	}
	free(plain);
	return 0;
}
