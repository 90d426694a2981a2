// SPDX-License-Identifier: Apache-2.0
// Items through coffer-worker's pipeline (doc/worker.md section 3), a
// batch at a time (9.4):
//   lease (done by the caller) -> per item: fetch input -> open -> app ->
//   seal -> store output -> then: the batch's proofs in one request ->
//   acks (and the next batch's leases) in one round trip
// and, on a failure, fail (retry with back-off) or bury (dead-letter now)
// with a one-line error. The output is stored before the ack, under a key
// derived from the item's id only, so an acknowledged item always has its
// output, and a late duplicate rewrites the same object atomically.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/log.h"
#include "worker/app.h"
#include "worker/confidential.h"
#include "worker/shared.h"
#include "worker/worker.h"

/* A batch (doc/worker.md 9.4) is one slot of the shared page per item,
 * one proof request (item-proof.md 8.1, BB1), one ack_take round trip
 * (queue.md 4.3a) and the app host's exchanges (9.5, HB1). */
_Static_assert(WORKER_BATCH_MAX <= WORKER_SLOTS, "a slot per held item");
_Static_assert(WORKER_BATCH_MAX <= COFFER_ITEMPROOF_BATCH_MAX,
    "a batch's proofs in one request");
_Static_assert(WORKER_BATCH_MAX <= COFFER_QUEUE_BATCH_MAX,
    "a batch's acks in one round trip");
_Static_assert(WORKER_BATCH_DEFAULT <= WORKER_BATCH_MAX, "default in range");

/* Monotonic microseconds, for the batch's timings. */
static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* This thread's CPU time in microseconds, for the batch's figures. */
static int64_t
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* How long to keep retrying an ack/fail while Redis is unreachable. */
#define SETTLE_RETRY_MS 300000


static int
transient(int r)
{
	return r == COFFER_E_CONNECT || r == COFFER_E_BUSY;
}

static int
settle(struct worker *w, const struct coffer_queue_item *it, enum item_outcome o,
    const char *err, int *dead)
{
	int64_t end = coffer_mono_ms() + SETTLE_RETRY_MS;
	int delay = 100, r, warned = 0;

	for (;;) {
		if (o == ITEM_ACK)
			r = coffer_queue_ack(w->q, it);
		else if (o == ITEM_FAIL)
			r = coffer_queue_fail(w->q, it, err, dead);
		else
			r = coffer_queue_bury(w->q, it, err);
		/* Asked to stop (perhaps because everything is going away):
		 * do not linger; the item comes back through its lease. */
		if (*w->stop && end - coffer_mono_ms() > 10000)
			end = coffer_mono_ms() + 10000;
		if (r == 0 || !transient(r) || coffer_mono_ms() > end)
			return r;
		if (!warned)
			coffer_logkv(COFFER_LOG_WARN, "Redis unavailable, retrying",
			    "item", it->id, "step", o == ITEM_ACK ? "ack" : "fail",
			    "error", coffer_errdetail(), NULL);
		warned = 1;
		coffer_sleep_ms(delay);
		delay = delay < 2000 ? delay * 2 : 2000;
	}
}

/* The coordinator's verdict on the proof, as the item's outcome. */
static enum item_outcome
from_verdict(enum conf_verdict v)
{
	return v == CONF_ACK ? ITEM_ACK : v == CONF_RETRY ? ITEM_FAIL :
	    v == CONF_BURY ? ITEM_BURY : ITEM_STOP;
}

/* Append "; what" to the item's error. */
static void
add_err(struct item_result *res, const char *what)
{
	size_t n = strlen(res->err);

	snprintf(res->err + n, sizeof(res->err) - n, "%s%s", n ? "; " : "", what);
}

static void shrink(struct coffer_buf *b);

/* Make the item's proof (doc/worker.md 9.4 step 6); it is sent with the
 * batch's. Failing to make it fails the item. */
static void
make_proof(struct conf_item *ci, uint32_t app_error, int kind,
    struct item_result *res)
{
	if (conf_make_proof(ci, app_error, res->proof) != 0) {
		add_err(res, coffer_errdetail());
		res->outcome = ITEM_FAIL;
		return;
	}
	res->prove = kind;
}

void
worker_bufs_init(struct worker *w, size_t max)
{
	/* Wiped between items are the buffers that hold plaintext: the
	 * app's input and output, and the stored input of a plaintext job.
	 * A confidential job's stored input and every sealed output are
	 * ciphertext, as public as the store they come from or go to: not
	 * wiped (two passes over each item's bytes fewer). */
	if (w->cfg != NULL && WORKER_CONFIDENTIAL(w->cfg))
		coffer_buf_init(&w->inbuf, max);
	else
		coffer_buf_init_secret(&w->inbuf, max);
	coffer_buf_init_secret(&w->outbuf, max);
	coffer_buf_init_secret(&w->plainbuf, max);
	coffer_buf_init(&w->sealbuf, conf_sealed_max(max));
}

void
worker_bufs_release(struct worker *w)
{
	coffer_buf_release(&w->inbuf);
	coffer_buf_release(&w->outbuf);
	coffer_buf_release(&w->plainbuf);
	coffer_buf_release(&w->sealbuf);
}

/* Step 1's fetch: the object whole into stored, or, for a confidential
 * job whose app takes a streamed input, the object open at *fd (-1: read
 * whole) when it is larger than CONF_STREAM_MIN (doc/worker.md 9.4 BI1). */
static int
fetch(struct worker *w, const char *id, struct coffer_buf *stored, int *fd,
    uint64_t *size)
{
	size_t max = w->cfg->max_item_bytes, got = 0;
	uint8_t *p;
	int r;

	*fd = -1;
	if (w->job == NULL || !app_can_stream(w->app) ||
	    (r = coffer_store_open_read(w->in, id, max, fd, size)) ==
	    COFFER_E_UNSUPPORTED) {
		*fd = -1;
		return coffer_store_get(w->in, id, max, stored);
	}
	if (r != 0 || *size > CONF_STREAM_MIN)
		return r;
	/* Small: whole, from the descriptor opened anyway. */
	r = coffer_buf_reserve(stored, (size_t)*size, &p);
	if (r == 0 && (r = coffer_read_full(*fd, p, (size_t)*size, &got)) == 0 &&
	    got != *size)
		r = coffer_errf(COFFER_E_IO, "object '%s' changed while it was read:"
		    " it is shorter than its %llu bytes", id, (unsigned long long)*size);
	if (r == 0)
		coffer_buf_commit(stored, got);
	close(*fd);
	*fd = -1;
	return r;
}

/* Steps 1 and 2 of an item (fetch, open): 0 with its plaintext in ci;
 * else its result is in res (and ci released). */
static int
item_open(struct worker *w, const struct coffer_queue_item *it,
    struct item_result *res, struct conf_item *ci)
{
	const struct worker_config *cfg = w->cfg;
	struct coffer_buf *stored = &w->inbuf;
	char *err = res->err;
	size_t errlen = sizeof(res->err);
	uint64_t size = 0;
	int r, fd = -1;

	memset(res, 0, sizeof(*res));
	res->outcome = ITEM_ACK;
	coffer_buf_reset(stored);
	coffer_buf_reset(&w->outbuf);
	if ((r = conf_item_init_bufs(ci, w->job, it->id, it->attempt,
	    &w->plainbuf, &w->sealbuf)) != 0) {
		snprintf(err, errlen, "%s", coffer_errdetail());
		res->outcome = ITEM_FAIL;
		goto fail;
	}

	/* 1. Fetch the input object named by the item (a big one is only
	 * opened here, and streamed: doc/worker.md 9.4 BI1). */
	if ((r = fetch(w, it->id, stored, &fd, &size)) != 0) {
		snprintf(err, errlen, "input: %s", coffer_errdetail());
		/* A key the store refuses, or an input over the limit, will not
		 * get better with retries; a missing object might appear. */
		res->outcome = r == COFFER_E_FORMAT || r == COFFER_E_LIMIT ||
		    r == COFFER_E_PERM ? ITEM_BURY : ITEM_FAIL;
		goto fail;
	}
	res->in_bytes = fd >= 0 ? (size_t)size : stored->len;
	/* 2. Open it: in a confidential job, the object the policy pins,
	 * verified and decrypted (doc/worker.md 9.4), and its owner the
	 * policy's; in a plaintext job its owner from the owner map. A big
	 * one is checked against the pin and its key here (BI2, BI3) and
	 * opened as the app reads it (BI4). */
	if (w->job == NULL)
		ci->owner = worker_owner_of(cfg, it->id);
	r = fd >= 0 ? conf_stream_open(ci, fd, size) : conf_open_input(ci, stored);
	if (r != 0) {
		snprintf(err, errlen, "opening input: %s", coffer_errdetail());
		res->outcome = r == COFFER_E_AUTH ? ITEM_BURY : ITEM_FAIL;
		/* Not the object the policy pins: proved FAILED with the
		 * digest found, so that the receipt names it (doc/worker.md
		 * 9.4); dead-lettered once the coordinator has it. */
		if (ci->input_refused)
			make_proof(ci, COFFER_ITEMPROOF_ERROR_INPUT_REFUSED,
			    PROVE_REFUSAL, res);
		goto fail;
	}
	/* A confidential input is opened into its own buffer: a big one's
	 * sealed bytes go now, not after the app and the seal (9.4,
	 * "Memory"). A plaintext job's input is the stored bytes. */
	if (w->job != NULL)
		shrink(stored);
	return 0;
fail:
	conf_item_release(ci);
	coffer_buf_reset(stored);
	return -1;
}

/* Steps 4 and 5 (*step says which failed): a big output of a
 * confidential job sealed chunk by chunk into the store's put, never
 * held sealed (doc/worker.md 9.4 BO1); else sealed, then put. */
static int
seal_store(struct worker *w, struct conf_item *ci, struct coffer_buf *out,
    int ofd, size_t olen, const char *key, int *step)
{
	struct coffer_store_put *p = NULL;
	uint8_t *b;
	int r;

	*step = 5;
	/* An output the host passed in a memfd (9.5 HF4): read twice with
	 * pread into the put, or, for a store without a put in pieces, once
	 * into out as if it had come in the frame. */
	if (ofd >= 0 && ci->job != NULL &&
	    (r = coffer_store_put_open(w->out, key, &p)) != COFFER_E_UNSUPPORTED) {
		if (r != 0)
			return r;
		if ((r = conf_seal_output_put_fd(ci, ofd, olen, p)) != 0) {
			coffer_store_put_abort(p);
			return r;
		}
		coffer_logkv(COFFER_LOG_DEBUG, "output sealed from the host's memfd",
		    "item", ci->id, NULL);
		return coffer_store_put_commit(p);
	}
	if (ofd >= 0) {
		*step = 4;
		if ((r = coffer_buf_reserve(out, olen, &b)) != 0 ||
		    (r = apphost_pread(ofd, 0, b, olen)) != 0)
			return r;
		coffer_buf_commit(out, olen);
		*step = 5;
	}
	if (ci->job != NULL && out->len > CONF_STREAM_MIN &&
	    (r = coffer_store_put_open(w->out, key, &p)) != COFFER_E_UNSUPPORTED) {
		if (r != 0)
			return r;
		if ((r = conf_seal_output_put(ci, out, p)) != 0) {
			coffer_store_put_abort(p);
			return r;
		}
		return coffer_store_put_commit(p);
	}
	*step = 4;
	if ((r = conf_seal_output(ci, out)) != 0)
		return r;
	*step = 5;
	return coffer_store_put(w->out, key, ci->sealed, ci->sealedlen);
}

static void item_after_app(struct worker *w, struct item_result *res,
    struct conf_item *ci, int r, uint32_t reported);

static int
stream_next(void *arg, const uint8_t **p, size_t *n)
{
	return conf_stream_next(arg, p, n);
}

/* Step 3 of a streamed input (doc/worker.md 9.4 BI4 to BI6), alone in
 * its exchange, then what follows. A failure of the stream is the
 * input's, not the app's (which never saw the item). */
static void
run_streamed(struct worker *w, const struct coffer_queue_item *it,
    struct item_result *res, struct conf_item *ci)
{
	struct app_src src = { ci->plainlen, stream_next, ci };
	struct app_wait aw = { w->cfg->item_timeout_ms, 0, NULL, NULL };
	char detail[WORKER_ERR_MAX];
	uint32_t reported = 0;
	int r, bad;
	int64_t t = mono_us();

	shared_phase(w->sh, w->slot, PHASE_APP, 0);
	r = app_process_src(w->app, it->id, it->attempt, ci->owner, &src,
	    &w->outbuf, &aw, &reported, res->err, sizeof(res->err));
	w->app_us += mono_us() - t;
	shared_phase(w->sh, w->slot, PHASE_STORE, 0);
	if ((bad = conf_stream_failed(ci)) != 0) {
		snprintf(detail, sizeof(detail), "%s", res->err);
		snprintf(res->err, sizeof(res->err), "opening input: %s", detail);
		res->outcome = bad == COFFER_E_AUTH ? ITEM_BURY : ITEM_FAIL;
		conf_item_release(ci);
		coffer_buf_reset(&w->outbuf);
		{
			size_t n;
			int fd = app_take_out_fd(w->app, &n);

			if (fd >= 0)
				close(fd);
		}
		return;
	}
	item_after_app(w, res, ci, r, reported);
}

/* What follows step 3 (the app's result r, *reported, its output in
 * w->outbuf): the app's own failure proved, or steps 4 to 6; then ci is
 * released. */
static void
item_after_app(struct worker *w, struct item_result *res, struct conf_item *ci,
    int r, uint32_t reported)
{
	const struct worker_config *cfg = w->cfg;
	struct coffer_buf *out = &w->outbuf;
	char *err = res->err, key[COFFER_STORE_KEY_MAX + 2];
	size_t errlen = sizeof(res->err), olen;
	int step, ofd = app_take_out_fd(w->app, &olen);

	/* The app has answered: a big confidential input's plaintext (its
	 * own buffer, reset below anyway) goes before the output is sealed
	 * (9.4, "Memory"). */
	if (w->job != NULL && ci->scratch_in != NULL) {
		ci->plain = NULL;
		ci->plainlen = 0;
		shrink(ci->scratch_in);
	}
	if (r != 0 && reported != 0 && w->job != NULL) {
		/* The app's own failure is a result too: proved FAILED, and
		 * the coordinator's commit rule says whether it is final. */
		res->outcome = ITEM_ACK;
		make_proof(ci, reported, PROVE_APP_FAILED, res);
		goto out;
	}
	/* An output over the limit, or an input the app says it cannot parse
	 * (its own COFFER_E_FORMAT, doc/format/app-abi.md), will not get
	 * better with retries: dead-lettered now. */
	if (r != 0) {
		res->outcome = r == COFFER_E_LIMIT ||
		    reported == (uint32_t)-(int64_t)COFFER_E_FORMAT ? ITEM_BURY : ITEM_FAIL;
		goto out;
	}
	if (out->len == 0 && ofd < 0 && !cfg->allow_empty_output) {
		snprintf(err, errlen, "the app wrote no output (if that is"
		    " valid for this app, run with --allow-empty-output)");
		res->outcome = ITEM_FAIL;
		goto out;
	}
	/* 4 and 5. Seal the output (the intermediate or the output key) and
	 * store it atomically under a name derived from the item only (and
	 * in a confidential job its attempt id). */
	if (conf_output_key(ci, w->prefix, key, sizeof(key)) != 0) {
		snprintf(err, errlen, "%s", coffer_errdetail());
		res->outcome = ITEM_BURY;
		goto out;
	}
	if ((r = seal_store(w, ci, out, ofd, olen, key, &step)) != 0) {
		snprintf(err, errlen, "%s output: %s", step == 4 ? "sealing" :
		    "storing", coffer_errdetail());
		res->outcome = step == 5 && r == COFFER_E_FORMAT ? ITEM_BURY : ITEM_FAIL;
		goto out;
	}
	res->out_bytes = ci->sealedlen;
	/* 6. In a confidential job, its proof goes with the batch's, before
	 * the ack. A plaintext item has only the ack left: if this process
	 * dies now, the supervisor acks for it. */
	if (w->job != NULL)
		make_proof(ci, 0, PROVE_OUTPUT, res);
	else
		shared_phase(w->sh, w->slot, PHASE_STORED, 0);
out:
	/* Nothing of this item's plaintext stays in this process until the
	 * next one (doc/worker.md 9.1): the buffers keep their memory only. */
	conf_item_release(ci);
	coffer_buf_reset(&w->inbuf);
	coffer_buf_reset(out);
	if (ofd >= 0)
		close(ofd);
}

int
worker_item_steps(struct worker *w, const struct coffer_queue_item *it,
    struct item_result *res)
{
	const struct worker_config *cfg = w->cfg;
	struct conf_item ci;
	struct app_wait aw;
	uint32_t reported = 0;
	int64_t t_app;
	int r;

	if (item_open(w, it, res, &ci) != 0)
		return 0;
	if (ci.stream != NULL) {
		run_streamed(w, it, res, &ci);
		return 0;
	}
	memset(&aw, 0, sizeof(aw));
	aw.timeout_ms = cfg->item_timeout_ms;
	/* 3. Run the app on the plaintext. An in-process plugin's time limit
	 * is kept by the supervisor, which kills this process; other apps'
	 * here. */
	shared_phase(w->sh, w->slot, PHASE_APP, worker_plugin_in_process(cfg) &&
	    cfg->item_timeout_ms > 0 ? coffer_mono_ms() + cfg->item_timeout_ms : 0);
	t_app = mono_us();
	r = app_process(w->app, it->id, it->attempt, ci.owner, ci.plain,
	    ci.plainlen, &w->outbuf, &aw, &reported, res->err, sizeof(res->err));
	w->app_us += mono_us() - t_app;
	shared_phase(w->sh, w->slot, PHASE_STORE, 0);
	item_after_app(w, res, &ci, r, reported);
	return 0;
}

/* What the answer to the item's proof (or its absence: answered 0, why
 * the error) makes of it (doc/worker.md 9.4, WA1 to WA4). */
static void
item_verdict(struct worker *w, int slot, struct item_result *res,
    const struct conf_proof *p, const char *unanswered)
{
	char app_err[WORKER_ERR_MAX];

	if (!p->answered) {
		char why[WORKER_ERR_MAX];

		snprintf(why, sizeof(why), "%s: %s", res->prove == PROVE_OUTPUT ?
		    "reporting proof" : res->prove == PROVE_APP_FAILED ?
		    "reporting its failure" : "reporting the refusal", unanswered);
		add_err(res, why);
		res->outcome = ITEM_FAIL;
		return;
	}
	switch (res->prove) {
	case PROVE_OUTPUT:
	case PROVE_APP_FAILED:
		/* An app's failure keeps its error when committed or retried. */
		snprintf(app_err, sizeof(app_err), "%s", res->err);
		res->outcome = from_verdict(p->verdict);
		if (p->verdict == CONF_BURY || p->verdict == CONF_STOP)
			snprintf(res->err, sizeof(res->err), "%s", p->why);
		else
			snprintf(res->err, sizeof(res->err), "%s", app_err);
		/* Only the ack is left: if this process dies now, the
		 * supervisor acks for it. */
		if (p->verdict == CONF_ACK)
			shared_phase(w->sh, slot, PHASE_STORED, 0);
		break;
	case PROVE_REFUSAL:
		/* Dead-lettered once the coordinator has the refusal; retried
		 * (and refused again) while it has not. */
		if (p->verdict == CONF_RETRY)
			res->outcome = ITEM_FAIL;
		else if (p->verdict == CONF_STOP)
			res->outcome = ITEM_STOP;
		if (p->why[0] != '\0')
			add_err(res, p->why);
		break;
	}
}

/* Send the proofs of the n items in one request (doc/worker.md 9.4) and
 * turn each answer into the item's outcome. */
static void
prove_batch(struct worker *w, const struct coffer_queue_item *its,
    struct item_result *res, size_t n)
{
	struct conf_proof p[WORKER_BATCH_MAX];
	size_t at[WORKER_BATCH_MAX], m = 0;
	char why[WORKER_ERR_MAX] = "";

	for (size_t i = 0; i < n; i++) {
		if (res[i].prove == PROVE_NONE)
			continue;
		memset(&p[m], 0, sizeof(p[m]));
		memcpy(p[m].bytes, res[i].proof, COFFER_ITEMPROOF_LEN);
		p[m].id = its[i].id;
		at[m++] = i;
	}
	if (m == 0)
		return;
	if (conf_send_proofs(w->job, p, m) != 0)
		snprintf(why, sizeof(why), "%s", coffer_errdetail());
	for (size_t k = 0; k < m; k++)
		item_verdict(w, (int)at[k], &res[at[k]], &p[k], why);
}

int
worker_item_run(struct worker *w, const struct coffer_queue_item *it,
    struct item_result *res)
{
	(void)worker_item_steps(w, it, res);
	prove_batch(w, it, res, 1);
	return 0;
}

/* Log one settled item. */
static void
log_item(struct worker *w, const struct coffer_queue_item *it,
    const struct item_result *res, int r, int dead, int64_t ms_i)
{
	char ms[32], att[16], sin[32], sout[32];

	snprintf(ms, sizeof(ms), "%lld", (long long)ms_i);
	snprintf(att, sizeof(att), "%u", it->attempt);
	snprintf(sin, sizeof(sin), "%zu", res->in_bytes);
	snprintf(sout, sizeof(sout), "%zu", res->out_bytes);
	if (res->outcome == ITEM_ACK && r == 0 && res->err[0] != '\0') {
		w->items_failed++;
		coffer_logkv(COFFER_LOG_WARN, "item failed", "item", it->id,
		    "attempt", att, "ms", ms, "error", res->err, "outcome",
		    "committed", NULL);
	} else if (res->outcome == ITEM_ACK && r == 0) {
		w->items_done++;
		coffer_logkv(COFFER_LOG_INFO, "item done", "item", it->id,
		    "attempt", att, "ms", ms, "in", sin, "out", sout, NULL);
	} else if (res->outcome == ITEM_ACK) {
		coffer_logkv(COFFER_LOG_ERROR, "ack failed; the item will be"
		    " leased again", "item", it->id, "error", coffer_errdetail(),
		    NULL);
	} else {
		w->items_failed++;
		coffer_logkv(COFFER_LOG_WARN, "item failed", "item", it->id,
		    "attempt", att, "ms", ms, "error", res->err, "outcome",
		    r != 0 ? "unrecorded" : res->outcome == ITEM_BURY || dead ? "dead" :
		    "retry", NULL);
	}
}

/* A buffer a big item grew goes (its bound stays). */
static void
shrink(struct coffer_buf *b)
{
	if (b->alloc > ((size_t)1 << 20))
		coffer_buf_release(b);
}

/* Keep the buffers for the next item, unless a big one grew them. */
static void
shrink_bufs(struct worker *w)
{
	shrink(&w->inbuf);
	shrink(&w->outbuf);
	shrink(&w->plainbuf);
	shrink(&w->sealbuf);
}

/* The items of a batch given to the app so far (app_batch_add), in slot
 * order, and their state between steps 2 and 4. */
struct pending {
	size_t m;
	size_t slot[WORKER_BATCH_MAX];
	struct conf_item ci[WORKER_BATCH_MAX];  /* by slot */
	/* A pending item's plaintext buffer once its plaintext is in the
	 * region: its release must not wipe the shared one, which holds
	 * the next item's. */
	struct coffer_buf none;
};

/* Step 3 of the pending items in as few exchanges as the app host takes
 * (doc/worker.md 9.5, HB1 to HB5), and steps 4 to 6 of each as its
 * answer comes; us[slot] gets its share of each exchange. */
static void
run_pending(struct worker *w, const struct coffer_queue_item *its,
    struct item_result *res, struct pending *pd, int64_t *us)
{
	struct app_wait aw;
	size_t first = 0, count = 0, done = 0;
	int64_t t = mono_us();

	memset(&aw, 0, sizeof(aw));
	aw.timeout_ms = w->cfg->item_timeout_ms;
	for (size_t k = 0; k < pd->m; k++)
		shared_phase(w->sh, (int)pd->slot[k], PHASE_APP, 0);
	while (done < pd->m) {
		int64_t share;
		int r = app_batch_run(w->app, &aw, &first, &count);

		if (r != 0) {
			/* A misuse, not the app's: the rest fail alike. */
			for (size_t k = done; k < pd->m; k++) {
				snprintf(res[pd->slot[k]].err, WORKER_ERR_MAX, "%s",
				    coffer_errdetail());
				res[pd->slot[k]].outcome = ITEM_FAIL;
				conf_item_release(&pd->ci[pd->slot[k]]);
			}
			break;
		}
		if (count == 0)
			continue;
		share = (mono_us() - t) / (int64_t)count;
		w->app_us += mono_us() - t;
		for (size_t k = first; k < first + count; k++) {
			size_t i = pd->slot[k];
			uint32_t reported = 0;
			int64_t t1 = mono_us();

			w->slot = (int)i;
			shared_phase(w->sh, (int)i, PHASE_STORE, 0);
			coffer_buf_reset(&w->outbuf);
			r = app_batch_result(w->app, k, &w->outbuf, &reported,
			    res[i].err, sizeof(res[i].err));
			item_after_app(w, &res[i], &pd->ci[i], r, reported);
			/* Not plainbuf: it may hold the plaintext of the item
			 * that waits for the next exchange (batch_steps). */
			shrink(&w->outbuf);
			shrink(&w->sealbuf);
			us[i] += share + mono_us() - t1;
		}
		done = first + count;
		t = mono_us();
	}
	app_batch_end(w->app);
	pd->m = 0;
}

/* Steps 1 to 5 of each item with the app's calls batched: open each in
 * turn into the app's batch (HB1), running what is batched first when
 * the next does not fit; an item too large for a batch runs alone. */
static void
batch_steps(struct worker *w, const struct coffer_queue_item *its,
    struct item_result *res, int64_t *us, size_t n)
{
	struct pending pd;

	pd.m = 0;
	coffer_buf_init(&pd.none, 0);
	for (size_t i = 0; i < n; i++) {
		struct conf_item *ci = &pd.ci[i];
		int64_t t0 = mono_us();

		w->slot = (int)i;
		us[i] = 0;
		if (item_open(w, &its[i], &res[i], ci) != 0) {
			us[i] = mono_us() - t0;
			continue;
		}
		/* A streamed input runs alone (BI4), after the batched ones. */
		if (ci->stream != NULL) {
			us[i] = mono_us() - t0;
			if (pd.m > 0)
				run_pending(w, its, res, &pd, us);
			t0 = mono_us();
			w->slot = (int)i;
			run_streamed(w, &its[i], &res[i], ci);
			shrink_bufs(w);
			us[i] += mono_us() - t0;
			continue;
		}
		if (ci->plainlen > app_batch_room(w->app) && pd.m > 0) {
			us[i] = mono_us() - t0;
			run_pending(w, its, res, &pd, us);
			t0 = mono_us();
		}
		if (app_batch_add(w->app, its[i].id, its[i].attempt, ci->owner,
		    ci->plain, ci->plainlen) == 0) {
			/* HB1: the plaintext is in the region now, not here. */
			ci->plain = NULL;
			ci->plainlen = 0;
			coffer_buf_reset(&w->plainbuf);
			ci->scratch_in = &pd.none;
			coffer_buf_reset(&w->inbuf);
			pd.slot[pd.m++] = i;
			us[i] += mono_us() - t0;
			continue;
		}
		/* Larger than the region's half: alone, in frames. */
		{
			struct app_wait aw = { w->cfg->item_timeout_ms, 0, NULL, NULL };
			uint32_t reported = 0;
			int r;

			shared_phase(w->sh, (int)i, PHASE_APP, 0);
			r = app_process(w->app, its[i].id, its[i].attempt, ci->owner,
			    ci->plain, ci->plainlen, &w->outbuf, &aw, &reported,
			    res[i].err, sizeof(res[i].err));
			shared_phase(w->sh, (int)i, PHASE_STORE, 0);
			item_after_app(w, &res[i], ci, r, reported);
			shrink_bufs(w);
		}
		us[i] += mono_us() - t0;
	}
	if (pd.m > 0)
		run_pending(w, its, res, &pd, us);
}

int
worker_batch_run(struct worker *w, const struct coffer_queue_item *its,
    struct item_result *res, int64_t *ms, size_t n)
{
	int64_t t0, tp, us[WORKER_BATCH_MAX];

	w->steps_us = w->app_us = 0;
	if (w->job != NULL && app_batch_room(w->app) > 0) {
		/* A plugin in its host: the batch's app calls in as few
		 * exchanges as the region takes (doc/worker.md 9.5). */
		batch_steps(w, its, res, us, n);
		for (size_t i = 0; i < n; i++)
			w->steps_us += us[i];
	} else {
		/* Steps 1 to 5 of each, in turn: its proof waits for the
		 * others'. */
		for (size_t i = 0; i < n; i++) {
			t0 = mono_us();
			w->slot = (int)i;
			(void)worker_item_steps(w, &its[i], &res[i]);
			us[i] = mono_us() - t0;
			w->steps_us += us[i];
			shrink_bufs(w);
		}
	}
	/* 6. One request for the batch's proofs, before any ack. */
	tp = mono_us();
	if (w->job != NULL)
		prove_batch(w, its, res, n);
	w->proof_us = tp = mono_us() - tp;
	/* Each its own time and its share of the proof request: what the
	 * job's item time sums get (doc/queue.md 4.5). */
	for (size_t i = 0; i < n; i++)
		ms[i] = (us[i] + tp / (int64_t)n) / 1000;
	return 0;
}

int
worker_batch(struct worker *w, struct coffer_queue_item *its, size_t n,
    struct coffer_queue_item *next, size_t *got)
{
	struct item_result *res = w->res;
	struct coffer_queue_item acks[WORKER_BATCH_MAX];
	int64_t ms[WORKER_BATCH_MAX], ts, cpu = cpu_us();
	int rc[WORKER_BATCH_MAX], r = 0;
	size_t na = 0, want;
	char b1[24], b2[24], b3[24], b4[24], b5[24], b6[24];

	*got = 0;
	/* The supervisor renews every lease from now on (shared.h). */
	for (size_t i = 0; i < n; i++)
		shared_item(w->sh, (int)i, its[i].id, its[i].attempt);
	(void)worker_batch_run(w, its, res, ms, n);
	for (size_t i = 0; i < n; i++) {
		if (res[i].outcome == ITEM_STOP) {
			/* Fail this one (it comes back if the job goes on) and
			 * take no other. */
			*w->stop = 1;
			res[i].outcome = ITEM_FAIL;
		}
		if (res[i].outcome == ITEM_ACK) {
			acks[na] = its[i];
			acks[na].leased_ms = coffer_mono_ms() - ms[i];
			na++;
		}
	}
	/* 7. Acknowledge (exactly once whoever else acks them), and take
	 * the next batch in the same round trip. */
	want = *w->stop ? 0 : (size_t)w->cfg->batch;
	ts = mono_us();
	if (na > 0 || want > 0)
		r = coffer_queue_ack_take(w->q, acks, na, rc, want, next, got);
	for (size_t i = 0, k = 0; i < n; i++) {
		int ri = 0, dead = 0;

		if (res[i].outcome == ITEM_ACK) {
			ri = r == 0 ? rc[k] : settle(w, &acks[k], ITEM_ACK, NULL, NULL);
			k++;
		} else {
			ri = settle(w, &its[i], res[i].outcome, res[i].err, &dead);
		}
		log_item(w, &its[i], &res[i], ri, dead, ms[i]);
		shared_item(w->sh, (int)i, NULL, 0);
	}
	/* The next batch is held from here: on the page at once. */
	for (size_t i = 0; i < *got; i++)
		shared_item(w->sh, (int)i, next[i].id, next[i].attempt);
	/* Where a batch's time goes (BENCHMARKS.md; COFFER_LOG_LEVEL=debug). */
	snprintf(b1, sizeof(b1), "%zu", n);
	snprintf(b2, sizeof(b2), "%lld", (long long)w->steps_us);
	snprintf(b3, sizeof(b3), "%lld", (long long)w->proof_us);
	snprintf(b4, sizeof(b4), "%lld", (long long)(mono_us() - ts));
	/* Of steps 1-5, the app's (a plugin host's includes the wait for
	 * it); and this process's CPU for the whole batch. */
	snprintf(b5, sizeof(b5), "%lld", (long long)w->app_us);
	snprintf(b6, sizeof(b6), "%lld", (long long)(cpu_us() - cpu));
	coffer_logkv(COFFER_LOG_DEBUG, "batch done", "items", b1, "steps_us", b2,
	    "proof_us", b3, "settle_us", b4, "app_us", b5, "cpu_us", b6, NULL);
	return 0;
}
