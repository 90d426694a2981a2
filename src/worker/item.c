// SPDX-License-Identifier: Apache-2.0
// One item through coffer-worker's pipeline (doc/worker.md section 3):
//   lease (done by the caller) -> fetch input -> open -> app -> seal ->
//   store output -> report proof -> ack
// and, on a failure, fail (retry with back-off) or bury (dead-letter now)
// with a one-line error. The output is stored before the ack, under a key
// derived from the item's id only, so an acknowledged item always has its
// output, and a late duplicate rewrites the same object atomically.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "worker/app.h"
#include "worker/confidential.h"
#include "worker/shared.h"
#include "worker/worker.h"

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

/* The proof of an input refused for its content digest; until the
 * coordinator has it, the item is retried (and refused again). */
static void
prove_refusal(struct conf_item *ci, struct item_result *res)
{
	size_t n = strlen(res->err);
	char why[WORKER_ERR_MAX] = "";
	enum conf_verdict v;

	if (conf_report_proof(ci, COFFER_ITEMPROOF_ERROR_INPUT_REFUSED, &v, why,
	    sizeof(why)) != 0) {
		snprintf(why, sizeof(why), "reporting the refusal: %s",
		    coffer_errdetail());
		v = CONF_RETRY;
	}
	if (v == CONF_RETRY)
		res->outcome = ITEM_FAIL;
	else if (v == CONF_STOP)
		res->outcome = ITEM_STOP;
	if (why[0] != '\0')
		snprintf(res->err + n, sizeof(res->err) - n, "; %s", why);
}

int
worker_item_run(struct worker *w, const struct coffer_queue_item *it,
    struct item_result *res)
{
	const struct worker_config *cfg = w->cfg;
	struct coffer_buf *stored = &w->inbuf, *out = &w->outbuf;
	struct conf_item ci;
	struct app_wait aw;
	enum conf_verdict v;
	char *err = res->err, key[COFFER_STORE_KEY_MAX + 2];
	size_t errlen = sizeof(res->err);
	uint32_t reported = 0;
	int r;

	memset(res, 0, sizeof(*res));
	res->outcome = ITEM_ACK;
	coffer_buf_reset(stored);
	coffer_buf_reset(out);
	memset(&aw, 0, sizeof(aw));
	aw.timeout_ms = cfg->item_timeout_ms;
	if ((r = conf_item_init(&ci, w->job, it->id, it->attempt,
	    cfg->max_item_bytes)) != 0) {
		snprintf(err, errlen, "%s", coffer_errdetail());
		res->outcome = ITEM_FAIL;
		goto out;
	}

	/* 1. Fetch the input object named by the item. */
	if ((r = coffer_store_get(w->in, it->id, cfg->max_item_bytes, stored)) != 0) {
		snprintf(err, errlen, "input: %s", coffer_errdetail());
		/* A key the store refuses, or an input over the limit, will not
		 * get better with retries; a missing object might appear. */
		res->outcome = r == COFFER_E_FORMAT || r == COFFER_E_LIMIT ||
		    r == COFFER_E_PERM ? ITEM_BURY : ITEM_FAIL;
		goto out;
	}
	res->in_bytes = stored->len;
	/* 2. Open it: in a confidential job, the object the policy pins,
	 * verified and decrypted (doc/worker.md 9.4), and its owner the
	 * policy's; in a plaintext job its owner from the owner map. */
	if (w->job == NULL)
		ci.owner = worker_owner_of(cfg, it->id);
	if ((r = conf_open_input(&ci, stored)) != 0) {
		snprintf(err, errlen, "opening input: %s", coffer_errdetail());
		res->outcome = r == COFFER_E_AUTH ? ITEM_BURY : ITEM_FAIL;
		/* Not the object the policy pins: proved FAILED with the
		 * digest found, so that the receipt names it (doc/worker.md
		 * 9.4); dead-lettered once the coordinator has it. */
		if (ci.input_refused)
			prove_refusal(&ci, res);
		goto out;
	}
	/* 3. Run the app on the plaintext. An in-process plugin's time limit
	 * is kept by the supervisor, which kills this process; other apps'
	 * here. */
	shared_phase(w->sh, PHASE_APP, worker_plugin_in_process(cfg) &&
	    cfg->item_timeout_ms > 0 ? coffer_mono_ms() + cfg->item_timeout_ms : 0);
	r = app_process(w->app, it->id, it->attempt, ci.owner, ci.plain,
	    ci.plainlen, out, &aw, &reported, err, errlen);
	shared_phase(w->sh, PHASE_STORE, 0);
	if (r != 0 && reported != 0 && w->job != NULL) {
		/* The app's own failure is a result too: proved FAILED, and
		 * the coordinator's commit rule says whether it is final. */
		char why[WORKER_ERR_MAX];

		snprintf(why, sizeof(why), "%s", err);
		if ((r = conf_report_proof(&ci, reported, &v, err, errlen)) != 0) {
			snprintf(err, errlen, "%s; reporting its failure: %s", why,
			    coffer_errdetail());
			res->outcome = ITEM_FAIL;
			goto out;
		}
		res->outcome = from_verdict(v);
		if (v == CONF_ACK || v == CONF_RETRY)
			snprintf(err, errlen, "%s", why);
		if (v == CONF_ACK)
			shared_phase(w->sh, PHASE_STORED, 0);
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
	if (out->len == 0 && !cfg->allow_empty_output) {
		snprintf(err, errlen, "the app wrote no output (if that is"
		    " valid for this app, run with --allow-empty-output)");
		res->outcome = ITEM_FAIL;
		goto out;
	}
	/* 4. Seal the output (the intermediate or the output key). */
	if ((r = conf_seal_output(&ci, out)) != 0) {
		snprintf(err, errlen, "sealing output: %s", coffer_errdetail());
		res->outcome = ITEM_FAIL;
		goto out;
	}
	/* 5. Store it atomically under a name derived from the item only (and
	 * in a confidential job its attempt id). */
	if (conf_output_key(&ci, w->prefix, key, sizeof(key)) != 0) {
		snprintf(err, errlen, "%s", coffer_errdetail());
		res->outcome = ITEM_BURY;
		goto out;
	}
	if ((r = coffer_store_put(w->out, key, ci.sealed, ci.sealedlen)) != 0) {
		snprintf(err, errlen, "storing output: %s", coffer_errdetail());
		res->outcome = r == COFFER_E_FORMAT ? ITEM_BURY : ITEM_FAIL;
		goto out;
	}
	res->out_bytes = ci.sealedlen;
	/* 6. Prove it to the coordinator, before the ack. */
	if ((r = conf_report_proof(&ci, 0, &v, err, errlen)) != 0) {
		snprintf(err, errlen, "reporting proof: %s", coffer_errdetail());
		res->outcome = ITEM_FAIL;
		goto out;
	}
	if ((res->outcome = from_verdict(v)) != ITEM_ACK)
		goto out;
	/* Only the ack is left: if this process dies now, the supervisor
	 * acks for it. */
	shared_phase(w->sh, PHASE_STORED, 0);
out:
	conf_item_release(&ci);
	return 0;
}

int
worker_item(struct worker *w, const struct coffer_queue_item *it,
    struct coffer_queue_item *next, int *got)
{
	struct coffer_buf *stored = &w->inbuf, *out = &w->outbuf;
	struct item_result res;
	char ms[32], att[16], sin[32], sout[32];
	int64_t t0 = coffer_mono_ms();
	int r, dead = 0;

	*got = 0;
	/* The supervisor renews the lease from now on (shared.h). */
	shared_item(w->sh, it->id, it->attempt);
	(void)worker_item_run(w, it, &res);
	if (res.outcome == ITEM_STOP) {
		/* Fail this one (it comes back if the job goes on) and take
		 * no other. */
		*w->stop = 1;
		res.outcome = ITEM_FAIL;
	}
	snprintf(ms, sizeof(ms), "%lld", (long long)(coffer_mono_ms() - t0));
	snprintf(att, sizeof(att), "%u", it->attempt);
	snprintf(sin, sizeof(sin), "%zu", res.in_bytes);
	snprintf(sout, sizeof(sout), "%zu", res.out_bytes);
	if (res.outcome == ITEM_ACK) {
		/* 7. Acknowledge: exactly once whoever else acks it; and take
		 * the next item in the same round trip. */
		*got = 0;
		r = *w->stop ? COFFER_E_CANCELLED :
		    coffer_queue_ack_next(w->q, it, next, got);
		if (r != 0)
			r = settle(w, it, ITEM_ACK, NULL, NULL);
		if (r == 0 && res.err[0] != '\0') {
			w->items_failed++;
			coffer_logkv(COFFER_LOG_WARN, "item failed", "item", it->id,
			    "attempt", att, "ms", ms, "error", res.err, "outcome",
			    "committed", NULL);
		} else if (r == 0) {
			w->items_done++;
			coffer_logkv(COFFER_LOG_INFO, "item done", "item", it->id,
			    "attempt", att, "ms", ms, "in", sin, "out", sout, NULL);
		} else {
			coffer_logkv(COFFER_LOG_ERROR, "ack failed; the item will be"
			    " leased again", "item", it->id, "error", coffer_errdetail(),
			    NULL);
		}
	} else {
		r = settle(w, it, res.outcome, res.err, &dead);
		w->items_failed++;
		coffer_logkv(COFFER_LOG_WARN, "item failed", "item", it->id,
		    "attempt", att, "ms", ms, "error", res.err, "outcome",
		    r != 0 ? "unrecorded" : res.outcome == ITEM_BURY || dead ? "dead" :
		    "retry", NULL);
	}
	if (res.outcome == ITEM_ACK && *got)
		shared_item(w->sh, next->id, next->attempt);
	else
		shared_item(w->sh, NULL, 0);
	/* Keep the buffers for the next item, unless a big one grew them. */
	if (stored->alloc > ((size_t)1 << 20))
		coffer_buf_release(stored);
	if (out->alloc > ((size_t)1 << 20))
		coffer_buf_release(out);
	return 0;
}
