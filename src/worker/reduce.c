// SPDX-License-Identifier: Apache-2.0
// The reduce stage of a confidential job (doc/worker.md 9.6), in the
// runner: the map results as the coordinator committed them, each OK map
// output checked against its committed digest and size before it is
// opened with the intermediate key, the app's reduce over them in item-id
// order, the result sealed under the output key and proved (stage reduce,
// item 0, input digest the map results' root) before it counts. The app's
// own failure is a result too, proved FAILED like a map item's. A reduce
// replica started while the map stage runs waits here for its close.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "crypto/sealed.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "proto/ledger.h"
#include "proto/receipt.h"
#include "worker/app.h"
#include "worker/confidential.h"
#include "worker/worker.h"

/* doc/worker.md 9.6 step 1: how long one request for the map results is
 * held at the coordinator while the map stage is open (LW1; short, so that
 * a SIGTERM is seen within it), and how long the stage is waited for in
 * all before the run gives up. */
#define LEAVES_WAIT_S 2
#define MAP_WAIT_MAX_MS (600 * 1000)

/* The map results (step 1), waiting for the map stage to close: asked
 * again while the coordinator answers stage.open, and, with back-off,
 * while it cannot be reached (a coordinator restarting), until the stage
 * closes, the worker is asked to stop, or MAP_WAIT_MAX_MS pass. */
static int
map_results(struct worker *w, struct coffer_result_entry **e, uint8_t root[32])
{
	struct conf_job *j = w->job;
	int64_t t0 = coffer_mono_ms(), t1, waited;
	char ms[24];
	int r, delay = 100, open;

	/* From here on a coordinator that cannot be reached is waited for
	 * (the start before it is not retried): said, so that an operator
	 * (and tests/integration/e2e_reduce_early.sh) can tell a replica that
	 * waits from one still starting. */
	coffer_logkv(COFFER_LOG_INFO, "waiting for the map results", "job",
	    w->cfg->job, NULL);
	for (;;) {
		t1 = coffer_mono_ms();
		r = coord_map_leaves(&j->t, j->job, LEAVES_WAIT_S, j->nitems, e, root);
		waited = coffer_mono_ms() - t0;
		if (r == 0 && j->stop != NULL && *j->stop) {
			/* Asked to stop as the stage closed (a job stopped: its
			 * close at the coordinator closes the stage too). */
			free(*e);
			*e = NULL;
			return coffer_errf(COFFER_E_CANCELLED, "stopped while waiting "
			    "for the map stage to close");
		}
		if (r == 0) {
			snprintf(ms, sizeof(ms), "%lld", (long long)waited);
			coffer_logkv(COFFER_LOG_INFO, "map results", "job", w->cfg->job,
			    "waited_ms", ms, NULL);
			return 0;
		}
		open = r == COFFER_E_POLICY &&
		    strncmp(coffer_errdetail(), "stage.open:", 11) == 0;
		if (!open && r != COFFER_E_CONNECT && r != COFFER_E_TIMEOUT)
			return r;
		if (j->stop != NULL && *j->stop)
			return coffer_errf(COFFER_E_CANCELLED, "stopped while waiting for"
			    " the map stage to close");
		if (waited > MAP_WAIT_MAX_MS)
			return coffer_errf(COFFER_E_TIMEOUT, "the map stage is still not "
			    "closed after %d s of waiting (the last answer: %s)",
			    MAP_WAIT_MAX_MS / 1000, coffer_errdetail());
		if (open) {
			/* Held for the wait (LW4), or answered at once by a
			 * coordinator that holds too many (LW5): not in a loop. */
			if (coffer_mono_ms() - t1 < 500)
				coffer_sleep_ms(200);
			delay = 100;
			continue;
		}
		if (delay == 100)
			coffer_logkv(COFFER_LOG_WARN, "the coordinator cannot be reached"
			    " for the map results, retrying", "error", coffer_errdetail(),
			    NULL);
		coffer_sleep_ms(delay);
		delay = delay < 2000 ? delay * 2 : 2000;
	}
}

struct ok_item {
	const struct coffer_policy_item *item;
	const struct coffer_result_entry *e;
};

static int
cmp_ok(const void *a, const void *b)
{
	return strcmp(((const struct ok_item *)a)->item->key,
	    ((const struct ok_item *)b)->item->key);
}

/* One committed map output: fetched, its digest and size the committed
 * ones (anything else is not the output that was proved), opened with the
 * intermediate key, given to the app. */
static int
add_one(struct worker *w, const struct ok_item *o, struct coffer_buf *sealed,
    struct coffer_buf *plain, uint32_t *reported, char *err, size_t errlen)
{
	struct conf_job *j = w->job;
	char key[COFFER_STORE_KEY_MAX + 2], att[33];
	uint8_t d[32];
	int r;

	coffer_hex_encode(o->e->attempt, 16, att);
	if ((size_t)snprintf(key, sizeof(key), "%s%s.%s", w->prefix, o->item->key,
	    att) > COFFER_STORE_KEY_MAX) {
		snprintf(err, errlen, "map output key for '%s' is too long", o->item->key);
		return COFFER_E_LIMIT;
	}
	coffer_buf_reset(sealed);
	coffer_buf_reset(plain);
	if ((r = coffer_store_get(w->out, key, w->cfg->max_item_bytes + (1 << 20),
	    sealed)) != 0) {
		snprintf(err, errlen, "map output of '%s': %s", o->item->key,
		    coffer_errdetail());
		return r;
	}
	if ((r = coffer_sha256(sealed->data ? sealed->data : (const uint8_t *)"",
	    sealed->len, d)) != 0)
		return r;
	if (sealed->len != o->e->output_size || memcmp(d, o->e->output_digest, 32) != 0) {
		snprintf(err, errlen, "map output '%s' is not the one the coordinator"
		    " committed (its digest or size differs): replaced or tampered"
		    " with", key);
		return COFFER_E_AUTH;
	}
	if ((r = coffer_sealed_open_mem(j->keys->intermediate_key, sealed->data,
	    sealed->len, plain, NULL)) != 0) {
		snprintf(err, errlen, "map output '%s' does not open with the job's"
		    " intermediate key: %s", key, coffer_errdetail());
		return COFFER_E_AUTH;
	}
	return app_reduce_add(w->app, o->item->key, plain->data, plain->len,
	    reported, err, errlen);
}

/* The app reported its own failure (code rep, its message in err): proved
 * FAILED, no output (doc/worker.md 9.6 step 3). 0 when the coordinator
 * committed it as the stage's result; COFFER_E_POLICY otherwise (C4: a
 * later attempt may still succeed), err saying which. */
static int
prove_failed(struct conf_item *ci, uint32_t rep, char *err, size_t errlen)
{
	char why[WORKER_ERR_MAX];
	enum conf_verdict v;
	int r;

	snprintf(why, sizeof(why), "the app's reduce failed: %s", err);
	if ((r = conf_report_proof(ci, rep, &v, err, errlen)) != 0) {
		snprintf(err, errlen, "%s; reporting its failure: %s", why,
		    coffer_errdetail());
		return r;
	}
	if (v == CONF_ACK) {
		snprintf(err, errlen, "%s (proved FAILED: the stage's result)", why);
		return 0;
	}
	if (v == CONF_RETRY)
		snprintf(err, errlen, "%s (proved FAILED; the coordinator waits for"
		    " another attempt)", why);
	else
		snprintf(err + strlen(err), errlen - strlen(err), " (after: %s)", why);
	return COFFER_E_POLICY;
}

int
conf_reduce(struct worker *w, size_t *nadded, char *out_key, uint32_t *app_error,
    char *err, size_t errlen)
{
	struct conf_job *j = w->job;
	struct coffer_result_entry *e = NULL;
	struct ok_item *ok = NULL;
	const struct coffer_policy_item **by_index = NULL;
	struct coffer_buf sealed = COFFER_BUF_INIT(w->cfg->max_item_bytes + (1 << 20));
	struct coffer_buf plain = COFFER_BUF_INIT_SECRET(w->cfg->max_item_bytes);
	struct coffer_buf out = COFFER_BUF_INIT_SECRET(w->cfg->max_item_bytes);
	struct conf_item ci;
	enum conf_verdict v;
	char *key = out_key;
	size_t nok = 0;
	uint32_t rep = 0;
	int r, have_ci = 0;

	*nadded = 0;
	*app_error = 0;
	err[0] = '\0';
	if (!j->reduce) {
		snprintf(err, errlen, "the job's app has no reduce stage in its policy");
		return COFFER_E_STATE;
	}
	/* The map results, their root the reduce stage's input digest. */
	if ((r = conf_item_init(&ci, j, w->cfg->reduce_key, 1,
	    w->cfg->max_item_bytes)) != 0)
		goto fail;
	have_ci = 1;
	if ((r = map_results(w, &e, ci.input_digest)) != 0)
		goto fail;
	if ((by_index = coffer_calloc(j->nitems + 1, sizeof(*by_index))) == NULL ||
	    (ok = coffer_calloc(j->nitems + 1, sizeof(*ok))) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "reduce");
		goto fail;
	}
	for (size_t i = 0; i < j->nitems; i++)
		by_index[j->items[i].index] = &j->items[i];
	/* The OK ones, in ascending item-id order (doc/format/app-abi.md). */
	for (size_t i = 0; i < j->nitems; i++)
		if (e[i].status == COFFER_ITEM_OK) {
			ok[nok].item = by_index[i];
			ok[nok++].e = &e[i];
		}
	qsort(ok, nok, sizeof(*ok), cmp_ok);
	for (size_t i = 0; i < nok && rep == 0; i++) {
		if ((r = add_one(w, &ok[i], &sealed, &plain, &rep, err, errlen)) != 0 &&
		    rep == 0)
			goto out;
		*nadded += rep == 0;
	}
	if (rep == 0 && (r = app_reduce_finish(w->app, &out, &rep, err, errlen)) != 0 &&
	    rep == 0)
		goto out;
	if (rep != 0) {
		*app_error = rep;
		r = prove_failed(&ci, rep, err, errlen);
		goto out;
	}
	/* Sealed under the output key (no item: the reduce stage), stored
	 * under KEY.<attempt>, proved. */
	if ((r = conf_seal_output(&ci, &out)) != 0 ||
	    (r = conf_output_key(&ci, "", key, COFFER_STORE_KEY_MAX + 2)) != 0)
		goto fail;
	if ((r = coffer_store_put(w->out, key, ci.sealed, ci.sealedlen)) != 0) {
		snprintf(err, errlen, "storing the reduce output: %s", coffer_errdetail());
		goto out;
	}
	if ((r = conf_report_proof(&ci, 0, &v, err, errlen)) != 0)
		goto fail;
	if (v != CONF_ACK) {
		if (err[0] == '\0')
			snprintf(err, errlen, "the coordinator did not commit the reduce"
			    " output");
		r = COFFER_E_POLICY;
		goto out;
	}
	goto out;
fail:
	snprintf(err, errlen, "%s", coffer_errdetail());
out:
	if (have_ci)
		conf_item_release(&ci);
	free(e);
	free(ok);
	free(by_index);
	coffer_buf_release(&sealed);
	coffer_buf_release(&plain);
	coffer_buf_release(&out);
	return r;
}
