// SPDX-License-Identifier: Apache-2.0
// Confidential jobs at the manager (conf.h, doc/manager.md section 9). At
// submission the manager reads the job's policy from the coordinator to
// learn the items (the policy fixes them) and opens the job there; when
// the queue drains or the job is stopped it asks the coordinator to close
// the job (doc/coordinator.md section 10.3). The manager needs no trust in
// what it reads: a wrong item list, a wrong job or a wrong app only makes
// the workers refuse (doc/worker.md section 9) and the receipt say so.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "coffer/error.h"
#include "coffer/tee.h"
#include "crypto/hash.h"
#include "http/client.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "manager/approvals.h"
#include "manager/conf.h"
#include "manager/mgr.h"
#include "proto/policy.h"

#define ANSWER_MAX ((size_t)64 << 10)
#define POLICY_ANSWER_MAX (COFFER_POLICY_MAX_BYTES + 4096)
/* An app file is hashed to warn of a build the policy does not approve. */
#define APP_FILE_MAX ((size_t)512 << 20)

const char *
mgr_conf_worker_backend(const char *tee_backend)
{
	if (tee_backend == NULL)
		return NULL;
	if (strcmp(tee_backend, "sim") == 0)
		return "sim";
	if (strcmp(tee_backend, "sgx") == 0)
		return "sgx-gramine";
	if (strcmp(tee_backend, "tdx") == 0 || strcmp(tee_backend, "snp") == 0)
		return "tsm";
	return NULL;
}

static void
add(json_t *list, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
add(json_t *list, const char *field, const char *fmt, ...)
{
	char msg[700], full[800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s: %s", field, msg);
	json_array_append_new(list, json_pack("{s:s, s:s}", "field", field,
	    "message", full));
}

void
mgr_conf_refusal(const struct coffer_buf *reply, int status, char *code,
    size_t codelen, char *msg, size_t msglen, char *field, size_t fieldlen)
{
	json_t *root = NULL, *e;
	const char *c = NULL, *m = NULL, *f = NULL;

	snprintf(code, codelen, "HTTP %d", status);
	msg[0] = field[0] = '\0';
	if (coffer_json_parse((const char *)reply->data, reply->len, ANSWER_MAX, 8,
	    &root) == 0 && (e = json_object_get(root, "error")) != NULL &&
	    json_is_object(e)) {
		(void)!coffer_json_get_str(e, "error", "code", 0, &c);
		(void)!coffer_json_get_str(e, "error", "message", 0, &m);
		(void)!coffer_json_get_str(e, "error", "field", 0, &f);
		if (c != NULL)
			snprintf(code, codelen, "%s", c);
		if (m != NULL)
			snprintf(msg, msglen, "%s", m);
		if (f != NULL)
			snprintf(field, fieldlen, "%s", f);
	}
	coffer_errclear();
	json_decref(root);
}

/* The effective output prefix of the workers (doc/worker.md section 2). */
static const char *
output_prefix(const struct mgr_jobspec *s)
{
	if (s->output_prefix != NULL)
		return s->output_prefix;
	return s->output_store != NULL ? "" : "out/";
}

static int
set(char **dst, const char *v)
{
	char *d = coffer_strdup(v);

	if (d == NULL)
		return COFFER_E_NOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

/* A file's identity for the digests below: one read per version. */
struct file_id {
	int known;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

static int
file_id_get(const char *path, struct file_id *out)
{
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) != 0)
		return -1;
	out->known = 1;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->size = st.st_size;
	out->mtime = st.st_mtim;
	return 0;
}

static int
file_id_same(const struct file_id *a, const struct file_id *b)
{
	return a->known && b->known && a->dev == b->dev && a->ino == b->ino &&
	    a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/*
 * The digests warn_refusals compares, kept per file version (path, inode,
 * size, modification time): every confidential submission hashed the app
 * file and, for sim, measured coffer-worker (SHA-384 of 2 MB) and its
 * measured configuration again, about 3 ms of the manager's CPU per job
 * (BENCHMARKS.md, "The critical path"). A file replaced in place keeps
 * its inode but not its size and time. Only warnings depend on them.
 */
static struct {
	char app[4096];
	struct file_id app_id;
	uint8_t app_sha256[32];
	char files[2][4096];
	struct file_id ids[2];
	uint8_t measurement[48];
} digests;

static int
app_digest(const char *app, uint8_t out[32])
{
	struct coffer_buf b = COFFER_BUF_INIT(APP_FILE_MAX);
	struct file_id id;
	int r;

	if (file_id_get(app, &id) == 0 && strcmp(digests.app, app) == 0 &&
	    file_id_same(&id, &digests.app_id)) {
		memcpy(out, digests.app_sha256, 32);
		return 0;
	}
	if ((r = coffer_file_read(app, APP_FILE_MAX, &b)) == 0 &&
	    (r = coffer_sha256(b.data, b.len, out)) == 0 && id.known) {
		snprintf(digests.app, sizeof(digests.app), "%s", app);
		digests.app_id = id;
		memcpy(digests.app_sha256, out, 32);
	}
	coffer_buf_release(&b);
	return r;
}

static int
sim_measurement(const char *const files[2], uint8_t out[48])
{
	struct file_id ids[2];
	int r, same = 1;

	for (int i = 0; i < 2; i++)
		same &= file_id_get(files[i], &ids[i]) == 0 &&
		    strcmp(digests.files[i], files[i]) == 0 &&
		    file_id_same(&ids[i], &digests.ids[i]);
	if (same) {
		memcpy(out, digests.measurement, 48);
		return 0;
	}
	if ((r = coffer_tee_sim_measure(files, 2, out)) == 0 && ids[0].known &&
	    ids[1].known) {
		for (int i = 0; i < 2; i++) {
			snprintf(digests.files[i], sizeof(digests.files[i]), "%s",
			    files[i]);
			digests.ids[i] = ids[i];
		}
		memcpy(digests.measurement, out, 48);
	}
	return r;
}

/* Warnings of what the workers will refuse: an app file that is not the
 * approved build (doc/worker.md 9.3, W6) and, for sim workers, a worker
 * measurement the policy's app does not list (measurement.unapproved). */
static void
warn_refusals(struct mgr *m, const struct mgr_jobspec *s,
    const struct coffer_policy_app *pa, json_t *warnings)
{
	char app[4096], hex[65], want[65];
	uint8_t d[32];

	if (mgr_app_resolve(m, s->app, app, sizeof(app)) == 0 &&
	    app_digest(app, d) == 0 && memcmp(d, pa->sha256, 32) != 0) {
		coffer_hex_encode(d, 32, hex);
		coffer_hex_encode(pa->sha256, 32, want);
		add(warnings, "app", "%s has SHA-256 %s, not the %s that the "
		    "policy approves for app '%s': workers will refuse to run it",
		    app, hex, want, pa->name);
	}
	coffer_errclear();
	if (strcmp(s->tee_backend, "sim") == 0) {
		const char *files[2] = { m->cfg.worker, m->cfg.measured_config };
		struct coffer_policy_measurement pm;

		memset(&pm, 0, sizeof(pm));
		pm.tee = COFFER_TEE_SIM;
		pm.len = 48;
		if (sim_measurement(files, pm.value) == 0 &&
		    !coffer_policy_app_allows(pa, &pm)) {
			char mh[97];

			coffer_hex_encode(pm.value, 48, mh);
			add(warnings, "tee.policy", "the policy does not list this "
			    "manager's sim workers (measurement %s, of %s with %s) for "
			    "app '%s': the coordinator will refuse them their keys",
			    mh, m->cfg.worker, m->cfg.measured_config, pa->name);
		}
		coffer_errclear();
	}
}

/* The items of the policy's app, in policy order, as the job's items. */
static int
take_items(const struct coffer_policy *p, const struct coffer_policy_app *pa,
    struct mgr_jobspec *s)
{
	struct coffer_policy_item *it = NULL;
	size_t n = 0;
	char **v;
	int r;

	if ((r = coffer_policy_items(p, pa, &it, &n)) != 0)
		return r;
	if ((v = coffer_calloc(n + 1, sizeof(*v))) == NULL) {
		free(it);
		return COFFER_E_NOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if ((v[i] = coffer_strdup(it[i].key)) == NULL) {
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			free(it);
			return COFFER_E_NOMEM;
		}
	free(it);
	s->items = v;
	s->nitems = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* A running job's requests, on the manager's event loop */

enum call_state { CALL_IDLE, CALL_ASKING, CALL_ANSWERED };

struct mgr_conf_call {
	struct mgr *m;
	struct mgr_job *job;
	struct http_client *http;
	struct coffer_buf reply;
	enum mgr_conf_ask ask;       /* the request in flight or answered */
	enum call_state state;
	int cancel;                  /* the request is the stop's close */
	int64_t started_ms;          /* monotonic */
	int r;                       /* the answer: 0 or an error */
	char error[600];             /* the error's detail */
	struct mgr_conf_answer answer;
};

/* The answer to a close (map_only: of the map stage) into out. */
static int
parse_close(const struct coffer_buf *reply, int status, int map_only,
    struct mgr_conf_closed *out)
{
	json_t *root = NULL;
	const char *v = NULL;
	char code[80], msg[600], field[128];
	int64_t n;
	int closed = 0, r;

	memset(out, 0, sizeof(*out));
	if (status != 200) {
		mgr_conf_refusal(reply, status, code, sizeof(code), msg,
		    sizeof(msg), field, sizeof(field));
		return coffer_errf(COFFER_E_POLICY, "%s: %s", code, msg);
	}
	/* Only what the manager shows; the receipt in it is for owners, who
	 * fetch and verify it themselves (coffer receipt). */
	if (coffer_json_parse((const char *)reply->data, reply->len, ANSWER_MAX,
	    64, &root) != 0 || coffer_json_get_bool(root, NULL, "closed_now", 1,
	    &closed) != 0) {
		r = coffer_errf(COFFER_E_PROTO, "the coordinator's answer to a close "
		    "is not one: %s", coffer_errdetail());
		goto out;
	}
	out->closed_now = closed;
	if (map_only) {
		n = 0;
		(void)!coffer_json_get_int(root, NULL, "ok", 0, 0, INT64_MAX, &n);
		out->ok = n;
		n = 0;
		(void)!coffer_json_get_int(root, NULL, "failed", 0, 0, INT64_MAX, &n);
		out->failed = n;
		n = 0;
		(void)!coffer_json_get_int(root, NULL, "abandoned", 0, 0, INT64_MAX, &n);
		out->abandoned = n;
	} else {
		if (coffer_json_get_str(root, NULL, "outcome", 1, &v) != 0) {
			r = coffer_errf(COFFER_E_PROTO, "the coordinator's answer to a "
			    "close has no outcome");
			goto out;
		}
		snprintf(out->outcome, sizeof(out->outcome), "%s", v);
		v = NULL;
		(void)!coffer_json_get_str(root, NULL, "reason", 0, &v);
		snprintf(out->reason, sizeof(out->reason), "%s", v != NULL ? v : "");
	}
	coffer_errclear();
	r = 0;
out:
	json_decref(root);
	return r;
}

/* The answer to GET /v1/jobs/{job}: whether it is closed. */
static int
parse_closed(const struct coffer_buf *reply, int status, const char *job,
    int *closed)
{
	json_t *root = NULL;
	char code[80], msg[600], field[128];
	int c = 0, r = 0;

	if (status != 200) {
		mgr_conf_refusal(reply, status, code, sizeof(code), msg,
		    sizeof(msg), field, sizeof(field));
		return coffer_errf(COFFER_E_POLICY, "%s: %s", code, msg);
	}
	if (coffer_json_parse((const char *)reply->data, reply->len, ANSWER_MAX,
	    16, &root) != 0 || coffer_json_get_bool(root, NULL, "closed", 1,
	    &c) != 0)
		r = coffer_errf(COFFER_E_PROTO, "the coordinator's job %s is not a "
		    "job: %s", job, coffer_errdetail());
	else
		*closed = c;
	json_decref(root);
	return r;
}

/* The stop's close answered (or failed): the outcome, and the log. */
static void
cancelled(struct mgr_conf_call *c)
{
	struct mgr_job *j = c->job;
	const struct mgr_conf_closed *cl = &c->answer.close;

	if (c->r != 0) {
		coffer_warn("job %s: the coordinator did not close job %s (%s): "
		    "close it with 'coffer receipt close %s --cancel'", j->id,
		    j->spec.tee_job, c->error, j->spec.tee_job);
		return;
	}
	snprintf(j->conf_outcome, sizeof(j->conf_outcome), "%s", cl->outcome);
	snprintf(j->conf_reason, sizeof(j->conf_reason), "%s", cl->reason);
	coffer_logkv(COFFER_LOG_INFO, "closed at the coordinator", "job", j->id,
	    "coordinator_job", j->spec.tee_job, "outcome", cl->outcome, NULL);
}

static void
on_call(int r, int status, void *arg)
{
	struct mgr_conf_call *c = arg;

	memset(&c->answer, 0, sizeof(c->answer));
	c->answer.ms = coffer_mono_ms() - c->started_ms;
	if (r == 0)
		r = c->ask == MGR_CONF_ASK_CLOSED ? parse_closed(&c->reply, status,
		    c->job->spec.tee_job, &c->answer.closed) : parse_close(&c->reply,
		    status, c->ask == MGR_CONF_ASK_CLOSE_MAP, &c->answer.close);
	c->r = r;
	snprintf(c->error, sizeof(c->error), "%s", r != 0 ? coffer_errdetail() : "");
	coffer_errclear();
	coffer_buf_release(&c->reply);
	c->state = CALL_ANSWERED;
	if (c->cancel) {
		cancelled(c);
		c->cancel = 0;
		c->state = CALL_IDLE;
		return;
	}
	/* The tick that asked takes the answer: run it now, not at the next
	 * period (a job's close would otherwise wait a tick per request:
	 * 0.5 s for a job with a reduce stage). */
	mgr_tick_soon(c->m);
}

/* Start the request ask (reason: the close's) on j's client. */
static int
start_call(struct mgr *m, struct mgr_job *j, enum mgr_conf_ask ask,
    const char *reason)
{
	struct mgr_conf_call *c = j->conf_call;
	char path[128], body[128];
	int r;

	if (c == NULL) {
		if ((c = coffer_calloc(1, sizeof(*c))) == NULL)
			return COFFER_E_NOMEM;
		c->m = m;
		c->job = j;
		j->conf_call = c;
	}
	if (c->http == NULL && (r = http_client_new_on(m->base,
	    j->spec.coordinator, m->cfg.coordinator_timeout_ms, &c->http)) != 0)
		return r;
	if (ask == MGR_CONF_ASK_CLOSED) {
		snprintf(path, sizeof(path), "/v1/jobs/%s", j->spec.tee_job);
		body[0] = '\0';
	} else {
		snprintf(path, sizeof(path), "/v1/jobs/%s/close", j->spec.tee_job);
		snprintf(body, sizeof(body), "{\"reason\":\"%s\"%s}", reason,
		    ask == MGR_CONF_ASK_CLOSE_MAP ? ",\"stage\":\"map\"" : "");
	}
	coffer_buf_init(&c->reply, ANSWER_MAX);
	if ((r = http_client_start(c->http, body[0] ? "POST" : "GET", path,
	    body[0] ? body : NULL, strlen(body), ANSWER_MAX, &c->reply, on_call,
	    c)) != 0)
		return r;
	c->ask = ask;
	c->state = CALL_ASKING;
	c->started_ms = coffer_mono_ms();
	return 0;
}

int
mgr_conf_ask(struct mgr *m, struct mgr_job *j, enum mgr_conf_ask ask,
    struct mgr_conf_answer *out)
{
	struct mgr_conf_call *c = j->conf_call;
	int r;

	if (c != NULL && c->state == CALL_ASKING)
		return MGR_CONF_PENDING;
	if (c != NULL && c->state == CALL_ANSWERED && c->ask == ask) {
		c->state = CALL_IDLE;
		if (c->r != 0)
			return coffer_errf(c->r, "%s", c->error);
		*out = c->answer;
		return 0;
	}
	if ((r = start_call(m, j, ask, "done")) != 0)
		return r;
	return MGR_CONF_PENDING;
}

void
mgr_conf_cancel(struct mgr *m, struct mgr_job *j)
{
	struct mgr_conf_call *c = j->conf_call;
	int r;

	/* A request of the drain in flight is of no use any more. */
	if (c != NULL) {
		http_client_free(c->http);
		c->http = NULL;
		coffer_buf_release(&c->reply);
		c->state = CALL_IDLE;
	}
	if ((r = start_call(m, j, MGR_CONF_ASK_CLOSE, "cancelled")) != 0) {
		coffer_warn("job %s: the coordinator did not close job %s (%s): "
		    "close it with 'coffer receipt close %s --cancel'", j->id,
		    j->spec.tee_job, coffer_errdetail(), j->spec.tee_job);
		coffer_errclear();
		return;
	}
	j->conf_call->cancel = 1;
}

/* ------------------------------------------------------------------ */
/* The watch (doc/manager.md 9.4) */

/* How long the coordinator holds one request (JW1: at most 30). */
#define WATCH_WAIT_S 20
/* After a failure, or an answer that came at once although the job is
 * open (a coordinator without JW, or the bound of JW5): ask again after. */
#define WATCH_RETRY_MS 2000

struct mgr_conf_watch {
	struct mgr *m;
	struct mgr_job *job;
	struct http_client *http;
	struct coffer_buf reply;
	int asking;
	int64_t asked_ms, next_ms;   /* monotonic */
};

static void
on_watch(int r, int status, void *arg)
{
	struct mgr_conf_watch *w = arg;
	struct mgr_job *j = w->job;
	json_t *root = NULL;
	int closed = 0;
	int64_t now = coffer_mono_ms();

	w->asking = 0;
	if (r == 0 && status == 200 && coffer_json_parse(coffer_buf_str(&w->reply),
	    w->reply.len, ANSWER_MAX, 8, &root) == 0 &&
	    json_is_true(json_object_get(root, "closed")))
		closed = 1;
	json_decref(root);
	coffer_buf_release(&w->reply);
	coffer_errclear();
	if (closed) {
		j->conf_closed_ms = now;
		coffer_logkv(COFFER_LOG_INFO, "the coordinator says the job is "
		    "closed", "job", j->id, "coordinator_job", j->spec.tee_job, NULL);
		mgr_tick_soon(w->m);
		return;
	}
	/* Open after the whole wait: asked again at the next tick. Sooner
	 * (an error, no wait held): later. */
	if (r != 0 || status != 200 || now - w->asked_ms < WATCH_WAIT_S * 500)
		w->next_ms = now + WATCH_RETRY_MS;
}

void
mgr_conf_watch(struct mgr *m, struct mgr_job *j)
{
	struct mgr_conf_watch *w = j->conf_watch;
	char path[128];

	if (j->spec.tee_job == NULL || j->conf_closed_ms != 0)
		return;
	if (w == NULL) {
		if ((w = coffer_calloc(1, sizeof(*w))) == NULL)
			return;
		w->m = m;
		w->job = j;
		j->conf_watch = w;
	}
	if (w->asking || coffer_mono_ms() < w->next_ms)
		return;
	/* The client's own timeout beyond the coordinator's hold. */
	if (w->http == NULL && http_client_new_on(m->base, j->spec.coordinator,
	    WATCH_WAIT_S * 1000 + m->cfg.coordinator_timeout_ms, &w->http) != 0) {
		coffer_errclear();
		w->next_ms = coffer_mono_ms() + WATCH_RETRY_MS;
		return;
	}
	snprintf(path, sizeof(path), "/v1/jobs/%s?wait=%d", j->spec.tee_job,
	    WATCH_WAIT_S);
	coffer_buf_init(&w->reply, ANSWER_MAX);
	if (http_client_start(w->http, "GET", path, NULL, 0, ANSWER_MAX,
	    &w->reply, on_watch, w) != 0) {
		coffer_errclear();
		coffer_buf_release(&w->reply);
		w->next_ms = coffer_mono_ms() + WATCH_RETRY_MS;
		return;
	}
	w->asking = 1;
	w->asked_ms = coffer_mono_ms();
}

void
mgr_conf_watch_free(struct mgr_job *j)
{
	struct mgr_conf_watch *w = j->conf_watch;

	if (w == NULL)
		return;
	http_client_free(w->http);
	coffer_buf_release(&w->reply);
	free(w);
	j->conf_watch = NULL;
}

void
mgr_conf_free(struct mgr_job *j)
{
	struct mgr_conf_call *c = j->conf_call;

	mgr_conf_watch_free(j);
	if (c == NULL)
		return;
	http_client_free(c->http);
	coffer_buf_release(&c->reply);
	free(c);
	j->conf_call = NULL;
}

/* ------------------------------------------------------------------ */
/* A submission's requests, on the manager's event loop */

enum prep_step { PREP_POLICY, PREP_OPEN, PREP_ABANDON };

/* One submission's requests in flight (or an abandon's close): each
 * answer is taken by an event of its own, out of the client's callback,
 * which may start no request on its client. */
struct mgr_conf_prep {
	struct mgr *m;
	struct mgr_jobspec *s;       /* the caller's; NULL for an abandon */
	json_t *errs, *warnings;
	mgr_conf_prepared_fn done;
	void *arg;
	enum prep_step step;
	struct http_client *http;
	struct event *answered;      /* the answer is in: take it (on_step) */
	struct coffer_buf reply;
	int r, status;               /* the request's result */
	char error[600];             /* its error's detail */
	char *app;                   /* the policy's name of the job's app */
	char coordinator[512], job[33]; /* an abandon's */
	struct mgr_conf_prep *prev, *next; /* m->conf_preps */
};

static void on_step(evutil_socket_t fd, short what, void *arg);

static void
prep_free(struct mgr_conf_prep *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		p->m->conf_preps = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	http_client_free(p->http);
	if (p->answered != NULL)
		event_free(p->answered);
	coffer_buf_release(&p->reply);
	free(p->app);
	free(p);
}

static int
prep_new(struct mgr *m, const char *url, struct mgr_conf_prep **out)
{
	struct mgr_conf_prep *p;
	int r;

	if ((p = coffer_calloc(1, sizeof(*p))) == NULL)
		return COFFER_E_NOMEM;
	p->m = m;
	p->next = m->conf_preps;
	if (p->next != NULL)
		p->next->prev = p;
	m->conf_preps = p;
	if ((p->answered = event_new(m->base, -1, 0, on_step, p)) == NULL) {
		prep_free(p);
		return coffer_errf(COFFER_E_NOMEM, "event_new failed");
	}
	if ((r = http_client_new_on(m->base, url, m->cfg.coordinator_timeout_ms,
	    &p->http)) != 0) {
		prep_free(p);
		return r;
	}
	*out = p;
	return 0;
}

static void
on_answer(int r, int status, void *arg)
{
	struct mgr_conf_prep *p = arg;

	p->r = r;
	p->status = status;
	snprintf(p->error, sizeof(p->error), "%s", r != 0 ? coffer_errdetail() : "");
	coffer_errclear();
	event_active(p->answered, EV_TIMEOUT, 0);
}

static int
prep_ask(struct mgr_conf_prep *p, enum prep_step step, const char *method,
    const char *path, const char *body, size_t max)
{
	coffer_buf_release(&p->reply);
	coffer_buf_init(&p->reply, max);
	p->step = step;
	return http_client_start(p->http, method, path, body, body != NULL ?
	    strlen(body) : 0, max, &p->reply, on_answer, p);
}

/* The submission is over: tell the caller, then forget it. */
static void
prep_end(struct mgr_conf_prep *p, int r)
{
	mgr_conf_prepared_fn done = p->done;
	void *arg = p->arg;
	char detail[600];

	snprintf(detail, sizeof(detail), "%s", coffer_errdetail());
	prep_free(p);
	if (r != 0 && r != COFFER_E_FORMAT)
		(void)coffer_errf(r, "%s", detail);
	done(r, arg);
}

/* POST /v1/jobs (doc/protocol/key-release.md section 5). */
static int
open_job(struct mgr_conf_prep *p)
{
	struct mgr_jobspec *s = p->s;
	struct coffer_buf body = COFFER_BUF_INIT(1 << 20);
	json_t *req = NULL, *params = json_object();
	int r;

	for (size_t i = 0; params != NULL && i < s->napp_params; i++)
		if (json_object_set_new(params, s->app_params[i].key,
		    json_string(s->app_params[i].value)) != 0) {
			json_decref(params);
			params = NULL;
		}
	if (params == NULL || (req = json_pack("{s:s, s:i, s:s, s:s, s:o}", "type",
	    "coffer-job", "version", 1, "policy", s->tee_policy, "app", p->app,
	    "params", params)) == NULL)
		r = COFFER_E_NOMEM;
	else if ((r = coffer_json_dump(req, &body)) == 0)
		r = prep_ask(p, PREP_OPEN, "POST", "/v1/jobs", coffer_buf_str(&body),
		    ANSWER_MAX);
	json_decref(req);
	coffer_buf_release(&body);
	return r;
}

/* The coordinator's answer to opening the job: s->tee_job. */
static int
opened(struct mgr_conf_prep *p)
{
	struct mgr_jobspec *s = p->s;
	json_t *root = NULL;
	const char *job = NULL;
	char code[80], msg[600], field[128], f[160];
	int r;

	if (p->status != 201) {
		mgr_conf_refusal(&p->reply, p->status, code, sizeof(code), msg,
		    sizeof(msg), field, sizeof(field));
		/* The coordinator names "params.x"; the job calls it
		 * "app_params.x". */
		if (strncmp(field, "params", 6) == 0)
			snprintf(f, sizeof(f), "app_%s", field);
		else
			snprintf(f, sizeof(f), "tee.policy");
		/* The usual ones after a first submit: who has to do what is
		 * the coordinator's to say (the manager is not trusted with it),
		 * so name the command that asks it. */
		add(p->errs, f, "the coordinator refuses to open the job: %s: %s%s%s%s",
		    code, msg, strcmp(code, "policy.unapproved") == 0 ?
		    " (every owner approves it first: 'coffer policy status " :
		    strcmp(code, "policy.revoked") == 0 ? " (an owner revoked it: "
		    "'coffer policy status " : "", strcmp(code, "policy.unapproved")
		    == 0 || strcmp(code, "policy.revoked") == 0 ? s->tee_policy : "",
		    strcmp(code, "policy.unapproved") == 0 ? "' names who has not)" :
		    strcmp(code, "policy.revoked") == 0 ? "' names who)" : "");
		return COFFER_E_FORMAT;
	}
	if ((r = coffer_json_parse(coffer_buf_str(&p->reply), p->reply.len,
	    ANSWER_MAX, 8, &root)) != 0 ||
	    (r = coffer_json_get_str(root, NULL, "job", 1, &job)) != 0 ||
	    strlen(job) != 32 || strspn(job, "0123456789abcdef") != 32) {
		add(p->errs, "tee.coordinator", "the coordinator's answer to opening "
		    "the job is not one: %s", r != 0 ? coffer_errdetail() : "job id");
		r = COFFER_E_FORMAT;
	} else {
		r = set(&s->tee_job, job);
	}
	coffer_errclear();
	json_decref(root);
	return r;
}

/* The apps of the policy text, for the message of a job whose app it
 * does not list: the full parse, on this error path only. */
static void
no_such_app(struct mgr_conf_prep *p, const char *app)
{
	struct mgr_jobspec *s = p->s;
	struct coffer_buf names = COFFER_BUF_INIT(4096);
	struct coffer_policy *pol = NULL;

	if (coffer_policy_parse(coffer_buf_str(&p->reply), p->reply.len,
	    &pol) == 0)
		for (size_t i = 0; i < pol->napps; i++)
			(void)!coffer_buf_putf(&names, "%s'%s'", i ? ", " : "",
			    pol->apps[i].name);
	else
		(void)!coffer_buf_puts(&names, "none that parse");
	coffer_errclear();
	add(p->errs, s->tee_app != NULL ? "tee.app" : "app", "the policy has "
	    "no app '%s' (its apps: %s)%s", app, coffer_buf_str(&names),
	    s->tee_app != NULL ? "" : "; give the policy's name as tee.app");
	coffer_buf_release(&names);
	coffer_policy_free(pol);
}

/* The coordinator's policy (policy.md section 5), checked against its
 * hash: the items the manager loads are those of the policy the job
 * names. Then what the job takes from it. The answer is the policy's
 * canonical text (doc/api-coordinator.md 4.2), so it is read as a worker
 * reads it (policy.md 4.1, PA1 to PA6): the bytes against the job's hash,
 * then only the owners, the job's app and its objects, without a JSON
 * tree of the whole text (doc/manager.md 9.2). */
static int
took_policy(struct mgr_conf_prep *p)
{
	struct mgr_jobspec *s = p->s;
	struct coffer_policy *pol = NULL;
	const struct coffer_policy_app *pa;
	const char *app = s->tee_app != NULL ? s->tee_app : s->app;
	char hex[65], code[80], msg[600], field[128];
	uint8_t want[32], got[32];
	size_t n = 0;
	int r;

	if (p->status != 200) {
		mgr_conf_refusal(&p->reply, p->status, code, sizeof(code), msg,
		    sizeof(msg), field, sizeof(field));
		add(p->errs, "tee.policy", "the coordinator at %s answers %s: %s",
		    s->coordinator, code, msg[0] ? msg : "(no message)");
		return COFFER_E_FORMAT;
	}
	/* jobspec.c checked tee.policy: 64 lower-case hex digits. */
	if (coffer_hex_decode(s->tee_policy, 64, want, 32, &n) != 0 || n != 32) {
		add(p->errs, "tee.policy", "not 64 hex digits");
		r = COFFER_E_FORMAT;
		goto out;
	}
	r = coffer_policy_read_approved(coffer_buf_str(&p->reply), p->reply.len,
	    want, app, &pol);
	if (r == COFFER_E_AUTH &&
	    coffer_policy_hash_text(coffer_buf_str(&p->reply), p->reply.len,
	    got) == 0) {
		coffer_hex_encode(got, 32, hex);
		add(p->errs, "tee.policy", "the coordinator at %s answered a policy "
		    "whose hash is %s: refused", s->coordinator, hex);
		r = COFFER_E_FORMAT;
		goto out;
	}
	if (r != 0) {
		add(p->errs, "tee.policy", "the coordinator's policy does not "
		    "parse: %s", coffer_errdetail());
		r = COFFER_E_FORMAT;
		goto out;
	}
	if ((pa = coffer_policy_app(pol, app)) == NULL) {
		no_such_app(p, app);
		r = COFFER_E_FORMAT;
		goto out;
	}
	if (!pa->reduce && s->reduce != NULL) {
		add(p->errs, "outputs.reduce", "the policy's app '%s' has no reduce "
		    "stage", pa->name);
		r = COFFER_E_FORMAT;
		goto out;
	}
	if (pa->reduce && s->reduce == NULL) {
		char key[4200];

		snprintf(key, sizeof(key), "%sresult", output_prefix(s));
		if ((r = set(&s->reduce, key)) != 0)
			goto out;
	}
	if ((r = take_items(pol, pa, s)) != 0 || (r = set(&p->app, pa->name)) != 0)
		goto out;
	json_decref(s->tee_owners);
	if ((r = mgr_approvals_owners_of(pol, &s->tee_owners)) != 0)
		goto out;
	warn_refusals(p->m, s, pa, p->warnings);
	r = 0;
out:
	coffer_policy_free(pol);
	return r;
}

/* The abandon's close answered (or failed): the log. */
static void
abandoned(struct mgr_conf_prep *p)
{
	struct mgr_conf_closed cl;
	int r = p->r;

	if (r == 0)
		r = parse_close(&p->reply, p->status, 0, &cl);
	else
		(void)coffer_errf(r, "%s", p->error);
	if (r != 0)
		coffer_warn("the coordinator at %s did not close job %s (%s): close "
		    "it with 'coffer receipt close %s --cancel'", p->coordinator,
		    p->job, coffer_errdetail(), p->job);
	else
		coffer_logkv(COFFER_LOG_INFO, "abandoned job closed at the "
		    "coordinator", "coordinator_job", p->job, "outcome", cl.outcome,
		    NULL);
	coffer_errclear();
}

static void
on_step(evutil_socket_t fd, short what, void *arg)
{
	struct mgr_conf_prep *p = arg;
	int r;

	(void)fd;
	(void)what;
	if (p->step == PREP_ABANDON) {
		abandoned(p);
		prep_free(p);
		return;
	}
	if (p->r != 0) {
		add(p->errs, "tee.coordinator", "cannot reach the coordinator at %s: "
		    "%s", p->s->coordinator, p->error);
		prep_end(p, COFFER_E_FORMAT);
		return;
	}
	if (p->step == PREP_POLICY) {
		if ((r = took_policy(p)) == 0 && (r = open_job(p)) == 0)
			return;
	} else {
		r = opened(p);
	}
	prep_end(p, r);
}

int
mgr_conf_prepare(struct mgr *m, struct mgr_jobspec *s, json_t *errs,
    json_t *warnings, mgr_conf_prepared_fn done, void *arg)
{
	struct mgr_conf_prep *p = NULL;
	char path[128];
	int r;

	if (m->cfg.measured_config == NULL) {
		add(errs, "tee", "this manager runs no confidential job: it has no "
		    "measured configuration for its workers (coffer-manager serve "
		    "--measured-config FILE, doc/worker.md section 9.2)");
		return COFFER_E_FORMAT;
	}
	if (s->coordinator == NULL && m->cfg.coordinator != NULL &&
	    (r = set(&s->coordinator, m->cfg.coordinator)) != 0)
		return r;
	if (s->tee_backend == NULL && m->cfg.tee_backend != NULL &&
	    (r = set(&s->tee_backend, m->cfg.tee_backend)) != 0)
		return r;
	if (s->coordinator == NULL) {
		add(errs, "tee.coordinator", "missing: this manager has no default "
		    "coordinator (coffer-manager serve --coordinator URL)");
		return COFFER_E_FORMAT;
	}
	if (s->tee_backend == NULL) {
		add(errs, "tee.backend", "missing: this manager has no default TEE "
		    "(coffer-manager serve --tee-backend sim|sgx|tdx|snp)");
		return COFFER_E_FORMAT;
	}
	snprintf(path, sizeof(path), "/v1/policies/%s", s->tee_policy);
	if ((r = prep_new(m, s->coordinator, &p)) == 0 &&
	    (r = prep_ask(p, PREP_POLICY, "GET", path, NULL,
	    POLICY_ANSWER_MAX)) != 0)
		prep_free(p);
	if (r != 0 && r != COFFER_E_NOMEM) {
		add(errs, "tee.coordinator", "cannot reach the coordinator at %s: %s",
		    s->coordinator, coffer_errdetail());
		coffer_errclear();
		return COFFER_E_FORMAT;
	}
	if (r != 0)
		return r;
	p->s = s;
	p->errs = errs;
	p->warnings = warnings;
	p->done = done;
	p->arg = arg;
	return 0;
}

void
mgr_conf_abandon(struct mgr *m, const char *coordinator, const char *tee_job,
    const char *why)
{
	struct mgr_conf_prep *p = NULL;
	char path[128];
	int r;

	if (tee_job[0] == '\0')
		return;
	coffer_warn("the coordinator's job %s is not run (%s): closing it there "
	    "as cancelled", tee_job, why);
	snprintf(path, sizeof(path), "/v1/jobs/%s/close", tee_job);
	if ((r = prep_new(m, coordinator, &p)) == 0) {
		snprintf(p->coordinator, sizeof(p->coordinator), "%s", coordinator);
		snprintf(p->job, sizeof(p->job), "%s", tee_job);
		if ((r = prep_ask(p, PREP_ABANDON, "POST", path,
		    "{\"reason\":\"cancelled\"}", ANSWER_MAX)) != 0)
			prep_free(p);
	}
	if (r != 0) {
		coffer_warn("the coordinator at %s did not close job %s (%s): close "
		    "it with 'coffer receipt close %s --cancel'", coordinator,
		    tee_job, coffer_errdetail(), tee_job);
		coffer_errclear();
	}
}

void
mgr_conf_shutdown(struct mgr *m)
{
	while (m->conf_preps != NULL) {
		struct mgr_conf_prep *p = m->conf_preps;

		if (p->step == PREP_ABANDON) {
			p->r = COFFER_E_STATE;
			snprintf(p->error, sizeof(p->error), "the manager stopped first");
			abandoned(p);
			prep_free(p);
			continue;
		}
		(void)coffer_errf(COFFER_E_STATE, "the manager is shutting down");
		prep_end(p, COFFER_E_STATE);
	}
}
