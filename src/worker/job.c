// SPDX-License-Identifier: Apache-2.0
// The start of a confidential job in the runner (doc/worker.md 9.3): the
// coordinator authenticated, the job's keys released to this TEE, the
// policy fetched and checked against the release (W5), the app file
// against the policy (W6). What the app is given comes from the release
// answer only, never from the manager or the environment.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "crypto/hash.h"
#include "http/client.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "worker/confidential.h"
#include "worker/worker.h"

#define PROOF_RETRY_MS 60000
#define HTTP_TIMEOUT_MS 30000
/* A coordinator that does not answer at the start (doc/worker.md 9.3):
 * tried again for cfg->start_retry_ms (10 s by default), each request of
 * the start waiting 3 s for an answer (a stopped coordinator's connection
 * is accepted and never answered), so that several tries fit. */
#define START_REQUEST_MS 3000

static int
cmp_items(const void *a, const void *b)
{
	return strcmp(((const struct coffer_policy_item *)a)->key,
	    ((const struct coffer_policy_item *)b)->key);
}

/* W6: the app file's SHA-256, read through the descriptor that will
 * load or execute it (so what runs is what was hashed): a new one of
 * path, or one of the open file `given` (>= 0), from its start. */
static int
open_app(const char *path, int given, const uint8_t want[32], int *fd_out)
{
	struct coffer_hash *h = NULL;
	struct stat st;
	uint8_t buf[65536], got[32];
	char gh[65], wh[65];
	off_t at = 0;
	int fd, r;

	if ((fd = given >= 0 ? fcntl(given, F_DUPFD_CLOEXEC, 0) :
	    open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return coffer_errf(errno == ENOENT ? COFFER_E_NOTFOUND : COFFER_E_IO,
		    "W6: app %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = coffer_errf(COFFER_E_IO, "W6: app %s is not a regular file", path);
		goto fail;
	}
	if ((r = coffer_hash_new(COFFER_HASH_SHA256, &h)) != 0)
		goto fail;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), at);

		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = coffer_errf(COFFER_E_IO, "W6: app %s: %s", path, strerror(errno));
			goto fail;
		}
		if ((r = coffer_hash_update(h, buf, (size_t)n)) != 0)
			goto fail;
		at += n;
	}
	if ((r = coffer_hash_final(h, got, sizeof(got))) != 0)
		goto fail;
	if (memcmp(got, want, 32) != 0) {
		coffer_hex_encode(got, 32, gh);
		coffer_hex_encode(want, 32, wh);
		r = coffer_errf(COFFER_E_AUTH, "W6: the app file %s has SHA-256 %s,"
		    " not the %s the policy approves", path, gh, wh);
		goto fail;
	}
	coffer_hash_free(h);
	*fd_out = fd;
	return 0;
fail:
	coffer_hash_free(h);
	close(fd);
	return r;
}

/* The name an app sees as an item's owner (struct coffer_app_item.owner):
 * the owner's identity name when no other owner of the policy has it,
 * else its fingerprint in hex. */
static int
owner_names(struct conf_job *j)
{
	const struct coffer_policy *p = j->policy;

	if ((j->owners = coffer_calloc(p->nowners, sizeof(*j->owners))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "owners");
	for (size_t i = 0; i < p->nowners; i++) {
		const char *name = p->owners[i].id.name;
		char fp[65];
		int unique = name[0] != '\0';

		for (size_t k = 0; k < p->nowners && unique; k++)
			unique = k == i || strcmp(p->owners[k].id.name, name) != 0;
		coffer_hex_encode(p->owners[i].fingerprint, 32, fp);
		if ((j->owners[i] = coffer_strdup(unique ? name : fp)) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "owners");
	}
	return 0;
}

static int
add_param(struct conf_job *j, const char *key, const char *value)
{
	struct coffer_app_param *p = &j->params[j->nparams];

	if (j->nparams == APP_MAX_PARAMS)
		return coffer_errf(COFFER_E_LIMIT, "more than %d app parameters",
		    APP_MAX_PARAMS);
	if ((p->key = coffer_strdup(key)) == NULL ||
	    (p->value = coffer_strdup(value)) == NULL) {
		free((char *)p->key);
		p->key = NULL;
		return coffer_errf(COFFER_E_NOMEM, "app parameters");
	}
	j->nparams++;
	return 0;
}

/* The app's parameters (doc/protocol/key-release.md section 6.5): the
 * job's values, each limit as coffer.limit.<name>, and coffer.app_secret
 * in lower-case hex. */
static int
make_params(struct conf_job *j, const struct coffer_release_payload *pl)
{
	const char *k;
	json_t *v;
	char name[128], num[32], hex[65];
	int r;

	if ((r = coffer_policy_check_params(j->app, pl->params)) != 0)
		return coffer_errctx(r, "W5: the release's parameters");
	if ((j->params = coffer_calloc(APP_MAX_PARAMS, sizeof(*j->params))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "app parameters");
	json_object_foreach(pl->params, k, v)
		if ((r = add_param(j, k, json_string_value(v))) != 0)
			return r;
	json_object_foreach(pl->limits, k, v) {
		if (!json_is_integer(v))
			return coffer_errf(COFFER_E_FORMAT, "payload.limits.%s", k);
		snprintf(name, sizeof(name), "coffer.limit.%s", k);
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		if ((r = add_param(j, name, num)) != 0)
			return r;
	}
	coffer_hex_encode(j->keys->app_secret, 32, hex);
	r = add_param(j, "coffer.app_secret", hex);
	coffer_wipe(hex, sizeof(hex));
	return r;
}

/* The keys the app's items need, from the release into the key page. */
static int
take_keys(struct conf_job *j, const struct coffer_release_payload *pl)
{
	const struct coffer_policy_app *a = j->app;

	if ((j->keys = keys_new(a->ndatasets)) == NULL)
		return COFFER_E_NOMEM;
	memcpy(j->keys->session_key, pl->session_key, 32);
	memcpy(j->keys->output_key, pl->output_key, 32);
	memcpy(j->keys->intermediate_key, pl->intermediate_key, 32);
	memcpy(j->keys->app_secret, pl->app_secret, 32);
	for (size_t i = 0; i < a->ndatasets; i++) {
		const struct coffer_policy_dataset *d = &j->policy->datasets[a->datasets[i]];
		size_t k = 0;

		while (k < pl->nkeys && memcmp(pl->keys[k].key_id, d->key_id, 16) != 0)
			k++;
		if (k == pl->nkeys)
			return coffer_errf(COFFER_E_POLICY, "W4: the release holds no key"
			    " for dataset '%s'", d->name);
		memcpy(j->keys->data[i].key_id, d->key_id, 16);
		memcpy(j->keys->data[i].key, pl->keys[k].key, 32);
	}
	return 0;
}

/* Sleeps ms milliseconds, less if *stop is set meanwhile. */
static void
nap(int64_t ms, const volatile int *stop)
{
	struct timespec ts = { 0, 10 * 1000000L };

	for (; ms > 0 && (stop == NULL || !*stop); ms -= 10)
		nanosleep(&ts, NULL);
}

/*
 * The hello and the release (doc/worker.md 9.3), the whole again while
 * the coordinator gives no answer at all (COFFER_E_CONNECT: refused,
 * reset) and s->retry_ms from the first request are not over: after
 * 50 ms, then twice as long each time up to 1 s; logged once. An answer
 * (a refusal, an error, one that fails a rule) is never tried again.
 */
static int
start_retrying(const struct conf_start *s, struct coord_hello *h,
    struct coffer_release_payload *pl)
{
	int64_t t0 = coffer_mono_ms(), wait = 50;
	int r, logged = 0;

	for (;;) {
		if ((r = coord_hello(s->t, s->job, s->mc, s->anchors, s->coll, s->at,
		    h)) == 0) {
			if ((r = coord_release(s->t, h, s->job, &s->att, pl)) == 0)
				return 0;
			coord_hello_clear(h);
		}
		if (r != COFFER_E_CONNECT || (s->stop != NULL && *s->stop) ||
		    coffer_mono_ms() - t0 + wait > s->retry_ms)
			return r;
		if (!logged) {
			char ms[24];

			snprintf(ms, sizeof(ms), "%d", s->retry_ms);
			coffer_logkv(COFFER_LOG_WARN, "the coordinator does not answer:"
			    " trying again", "for_ms", ms, "error", coffer_errdetail(),
			    NULL);
			logged = 1;
		}
		coffer_errclear();
		nap(wait, s->stop);
		wait = wait * 2 > 1000 ? 1000 : wait * 2;
	}
}

/* The bind of s->standby for s->job (key-release.md 6.7.5, 6.7.6):
 * 0 and h (the standby's coordinator, the answer's policy part) and pl
 * filled, or non-zero, logged, h and pl cleared. S is wiped either way. */
static int
warm_bind(const struct conf_start *s, struct coord_hello *h,
    struct coffer_release_payload *pl)
{
	struct conf_standby *sb = s->standby;
	int r;

	memset(h, 0, sizeof(*h));
	coffer_buf_init(&h->policy, COFFER_POLICY_MAX_BYTES);
	r = coord_bind(s->t, s->job, sb->id, sb->keys->standby_secret, pl,
	    &h->policy);
	/* Single use (6.7.6): S opens one answer. */
	coffer_wipe(sb->keys->standby_secret, sizeof(sb->keys->standby_secret));
	if (r == 0) {
		h->peer = sb->peer;
		return 0;
	}
	coffer_logkv(COFFER_LOG_WARN, "the standby session was not bound: a cold"
	    " release instead", "error", coffer_errdetail(), NULL);
	coffer_errclear();
	coord_hello_clear(h);
	coffer_release_payload_clear(pl);
	memset(pl, 0, sizeof(*pl));
	return r;
}

int
conf_job_open(const struct worker_config *cfg, const struct conf_start *s,
    struct conf_job **out)
{
	struct conf_job *j = coffer_calloc(1, sizeof(*j));
	struct coffer_release_payload pl;
	struct coord_hello h;
	int r;

	(void)cfg;
	memset(&pl, 0, sizeof(pl));
	memset(&h, 0, sizeof(h));
	if (j == NULL)
		return coffer_errf(COFFER_E_NOMEM, "job");
	j->app_fd = -1;
	j->t = *s->t;
	j->proof_retry_ms = PROOF_RETRY_MS;
	memcpy(j->job, s->job, 16);
	/* A standby worker binds its standby session (doc/worker.md 9.9):
	 * the coordinator was authenticated at standby, the bind answer
	 * carries the policy. Whatever goes wrong there, S is wiped and the
	 * worker does one cold release instead (key-release.md 6.7.6). */
	if (s->standby != NULL && (r = warm_bind(s, &h, &pl)) == 0)
		j->warm = 1;
	/* The coordinator authenticated first, from its nonce answer:
	 * nothing but the job id is sent to one the measured configuration
	 * does not pin (not even evidence). */
	if ((!j->warm && (r = start_retrying(s, &h, &pl)) != 0) ||
	    (r = coord_policy_check(&h, pl.policy, pl.app, &j->policy)) != 0)
		goto fail;
	/* W5 (a bind: WB4): the release is for an app of that policy, as the
	 * policy says, and the policy is for the coordinator that answered. */
	if ((j->app = coffer_policy_app(j->policy, pl.app)) == NULL ||
	    memcmp(j->app->sha256, pl.app_sha256, 32) != 0 ||
	    (j->app->reduce != 0) != (pl.reduce != 0)) {
		r = coffer_errf(COFFER_E_AUTH, "W5: the release names app '%s' other"
		    " than the policy does", pl.app);
		goto fail;
	}
	if (!coffer_policy_same_identity(&j->policy->coordinator, &h.peer.id)) {
		r = coffer_errf(COFFER_E_AUTH, "W5: the policy is for another"
		    " coordinator than the one that answered");
		goto fail;
	}
	/* W6 (a bind: WB5) */
	if ((r = open_app(s->app_path, s->app_fd, j->app->sha256, &j->app_fd)) != 0)
		goto fail;
	if ((r = coffer_policy_items(j->policy, j->app, &j->items, &j->nitems)) != 0)
		goto fail;
	qsort(j->items, j->nitems, sizeof(*j->items), cmp_items);
	if ((r = take_keys(j, &pl)) != 0 || (r = make_params(j, &pl)) != 0 ||
	    (r = owner_names(j)) != 0)
		goto fail;
	memcpy(j->session, pl.session, 16);
	j->reduce = pl.reduce;
	coord_hello_clear(&h);
	coffer_release_payload_clear(&pl);
	*out = j;
	return 0;
fail:
	coord_hello_clear(&h);
	coffer_release_payload_clear(&pl);
	conf_job_free(j);
	return r;
}

/* What the start of a job and a standby both need from the worker's
 * settings: the measured configuration, the anchors and collateral, an
 * HTTP client of the coordinator, the attester. */
struct conf_env {
	struct coffer_buf b;
	struct measured_config mc;
	struct coffer_tee_anchors *anchors;
	struct coffer_tee_collateral *coll;
	struct coffer_tee_backend_opts bo;
	struct http_client *http;
	struct coord_transport t;
	enum coffer_tee_backend backend;
	/* sim: the worker is its executable and its measured configuration
	 * (doc/worker.md 9.2), in this order. */
	const char *measure[2];
};

static void
env_release(struct conf_env *e)
{
	http_client_free(e->http);
	coffer_tee_collateral_free(e->coll);
	coffer_tee_anchors_free(e->anchors);
	coffer_buf_release(&e->b);
	memset(e, 0, sizeof(*e));
}

static int
env_init(const struct worker_config *cfg, struct conf_env *e)
{
	int r;

	memset(e, 0, sizeof(*e));
	coffer_buf_init(&e->b, MEASURED_MAX);
	if ((r = coffer_file_read(cfg->measured, MEASURED_MAX, &e->b)) != 0 ||
	    (r = measured_config_parse((const char *)e->b.data, e->b.len,
	    &e->mc)) != 0)
		return coffer_errctx(r, "--measured-config %s", cfg->measured);
	/* The anchors: only the roots of the coordinator's pinned TEE type
	 * (none for sim: the measured configuration's verification object
	 * names the sim keys), unless collateral is given, which may hold
	 * pieces of every platform, each checked against its roots. */
	if ((r = coffer_tee_backend_parse(cfg->tee_backend, &e->backend)) != 0 ||
	    (r = coffer_tee_anchors_new_for(cfg->collateral != NULL ?
	    COFFER_TEE_UNKNOWN : e->mc.coord.tee, &e->anchors)) != 0 ||
	    (r = http_client_new(cfg->coordinator, START_REQUEST_MS, &e->http)) != 0)
		return r;
	if (cfg->collateral != NULL &&
	    ((r = coffer_tee_collateral_new(e->anchors, &e->coll)) != 0 ||
	    (r = coffer_tee_collateral_add_path(e->coll, cfg->collateral)) != 0))
		return r;
	e->measure[0] = "/proc/self/exe";
	e->measure[1] = cfg->measured;
	e->bo.measure = e->measure;
	e->bo.n_measure = 2;
	e->t.request = coord_http_request;
	e->t.arg = e->http;
	return 0;
}

/* The standby session was made for these settings (doc/worker.md 9.9). */
static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0);
}

int
conf_standby_fits(const struct conf_standby *sb, const struct worker_config *cfg)
{
	return same_str(sb->coordinator, cfg->coordinator) &&
	    same_str(sb->tee_backend, cfg->tee_backend) &&
	    same_str(sb->measured, cfg->measured) &&
	    same_str(sb->collateral, cfg->collateral);
}

int
conf_job_start(const struct worker_config *cfg, int app_fd,
    volatile int *stop, struct conf_standby **standby, struct conf_job **out)
{
	struct conf_env e;
	struct conf_start s;
	size_t got = 0;
	int r;

	memset(&s, 0, sizeof(s));
	if ((r = env_init(cfg, &e)) != 0)
		goto out;
	if ((r = coffer_hex_decode(cfg->coord_job, strlen(cfg->coord_job), s.job,
	    16, &got)) != 0 || got != 16)
		goto out;
	s.t = &e.t;
	s.mc = &e.mc;
	s.anchors = e.anchors;
	s.coll = e.coll;
	s.at = coffer_tee_now();
	s.att.backend = e.backend;
	s.att.opts = &e.bo;
	s.app_path = cfg->app;
	s.app_fd = app_fd;
	s.stop = stop;
	/* The host sets the bound (--start-retry-ms), and may: it decides only
	 * when the worker gives up. A host that controls the network can
	 * delay or drop every request whatever the bound, a retry is made
	 * only when no answer came and starts over from a new nonce, so no
	 * bound makes the worker accept an answer, a key or a coordinator it
	 * would not otherwise (doc/worker.md 9.3). */
	s.retry_ms = cfg->start_retry_ms;
	if (standby != NULL && *standby != NULL) {
		if (conf_standby_fits(*standby, cfg))
			s.standby = *standby;
		else
			coffer_logkv(COFFER_LOG_WARN, "the assignment names another"
			    " coordinator or TEE setting than the standby session's:"
			    " a cold release instead", NULL);
	}
	if ((r = conf_job_open(cfg, &s, out)) != 0)
		goto out;
	/* Proofs wait longer (doc/worker.md 9.4). */
	http_client_set_timeout(e.http, HTTP_TIMEOUT_MS);
	(*out)->http = e.http;
	e.http = NULL;
out:
	if (standby != NULL) {
		conf_standby_free(*standby);
		*standby = NULL;
	}
	env_release(&e);
	return r;
}

int
conf_standby_start(const struct worker_config *cfg, volatile int *stop,
    struct conf_standby **out)
{
	struct conf_standby *sb = coffer_calloc(1, sizeof(*sb));
	struct coord_attester att;
	struct coord_hello h;
	struct conf_env e;
	int64_t t0 = coffer_mono_ms(), wait = 50;
	int r, logged = 0;

	memset(&h, 0, sizeof(h));
	memset(&e, 0, sizeof(e));
	if (sb == NULL)
		return coffer_errf(COFFER_E_NOMEM, "standby");
	if ((sb->keys = keys_new(0)) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	if ((sb->coordinator = coffer_strdup(cfg->coordinator)) == NULL ||
	    (sb->tee_backend = coffer_strdup(cfg->tee_backend)) == NULL ||
	    (sb->measured = coffer_strdup(cfg->measured)) == NULL ||
	    (cfg->collateral != NULL &&
	    (sb->collateral = coffer_strdup(cfg->collateral)) == NULL)) {
		r = coffer_errf(COFFER_E_NOMEM, "standby");
		goto out;
	}
	if ((r = env_init(cfg, &e)) != 0)
		goto out;
	att.backend = e.backend;
	att.opts = &e.bo;
	/* As a cold start does (start_retrying): the whole again while the
	 * coordinator gives no answer at all, for cfg->start_retry_ms. */
	for (;;) {
		if ((r = coord_standby_hello(&e.t, &e.mc, e.anchors, e.coll,
		    coffer_tee_now(), &h)) == 0) {
			r = coord_standby(&e.t, &h, &att, sb->id,
			    sb->keys->standby_secret);
			sb->peer = h.peer;
			coord_hello_clear(&h);
			if (r == 0)
				break;
		}
		if (r != COFFER_E_CONNECT || (stop != NULL && *stop) ||
		    coffer_mono_ms() - t0 + wait > cfg->start_retry_ms)
			goto out;
		if (!logged)
			coffer_logkv(COFFER_LOG_WARN, "the coordinator does not answer:"
			    " trying again", "error", coffer_errdetail(), NULL);
		logged = 1;
		coffer_errclear();
		nap(wait, stop);
		wait = wait * 2 > 1000 ? 1000 : wait * 2;
	}
	*out = sb;
	sb = NULL;
out:
	env_release(&e);
	conf_standby_free(sb);
	return r;
}

void
conf_standby_free(struct conf_standby *sb)
{
	if (sb == NULL)
		return;
	keys_free(sb->keys);
	free(sb->coordinator);
	free(sb->tee_backend);
	free(sb->measured);
	free(sb->collateral);
	free(sb);
}

int
conf_job_over(int r, const char *detail)
{
	return r == COFFER_E_POLICY && strncmp(detail, "job.closed:", 11) == 0;
}

int
conf_refused_for_good(int r, const char *detail)
{
	static const char *const names[] = {
		"measurement.unapproved", "measurement.revoked", "policy.revoked",
		"policy.superseded", "policy.expired", "tee.debug",
		"tcb.below_minimum", "sim.key_not_named", "verification.refused",
		/* The worker's own: the coordinator's TEE type and measurement
		 * the measured configuration pins, the policy, the app file. */
		"CA4", "CA5", "W5", "W6",
	};
	size_t n;

	if (r == COFFER_E_AUTH)
		return 1;
	if (r != COFFER_E_POLICY)
		return 0;
	/* coord.c's refusal(): "<code>: <what>: <message>"; the rules'
	 * "<rule>: ...". */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i]);
		if (strncmp(detail, names[i], n) == 0 && detail[n] == ':')
			return 1;
	}
	return 0;
}

void
conf_job_free(struct conf_job *j)
{
	if (j == NULL)
		return;
	conf_job_crypto_free(j);
	keys_free(j->keys);
	for (size_t i = 0; j->params != NULL && i < j->nparams; i++) {
		free((char *)j->params[i].key);
		coffer_free_secret((char *)j->params[i].value,
		    strlen(j->params[i].value));
	}
	free(j->params);
	for (size_t i = 0; j->owners != NULL && i < j->policy->nowners; i++)
		free(j->owners[i]);
	free(j->owners);
	free(j->items);
	coffer_policy_free(j->policy);
	if (j->app_fd >= 0)
		close(j->app_fd);
	http_client_free(j->http);
	free(j);
}
