// SPDX-License-Identifier: Apache-2.0
// The Kubernetes backend (actuator.h; doc/manager.md section 5.3): one Job
// (its parallelism, as Asperathos scales it) or one Deployment (its scale
// subresource) per job, whose pods are the replicas. Their state comes from
// a watch on the pods (list, then watch from its resourceVersion; list
// again after 410 Gone; back off on 429 and 5xx, with Retry-After). Every
// request goes through one curl multi handle that tick() drives, so the
// caller's loop never waits for the API server.
//
// Job mode: the Job controller picks which pods go when parallelism drops
// (Kubernetes offers no choice there), and a pod that exits 0 counts as a
// completion after which the Job starts no more pods: so a worker that is
// stopped exits 143 (COFFER_STOP_EXIT_STATUS), which the Job's
// podFailurePolicy ignores, and podReplacementPolicy Failed keeps the
// controller from replacing a pod before it has finished its item.
// Deployment mode: the ReplicaSet deletes the pods with the lowest
// controller.kubernetes.io/pod-deletion-cost first, so a scale-down marks
// the chosen pods (idle first, actuator.h) before it lowers the count.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "actuator/actuator.h"
#include "actuator/curl_api.h"
#include "actuator/k8s.h"
#include "actuator/kubeconfig.h"
#include "actuator/options.h"
#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"

#define MAX_REPLICAS 1000
#define REQ_TIMEOUT_MS 30000L
#define WATCH_SECONDS 240        /* the server ends a watch after this */
#define REFRESH_MS 5000          /* re-read the Job or Deployment */
#define TOKEN_REREAD_MS 60000    /* bound service account tokens rotate */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define BODY_MAX ((size_t)16 << 20)
#define STOP_EXIT 143            /* a worker stopped by SIGTERM (Job mode) */
#define SIGKILL_EXIT 137

static const char *const option_names[] = { "kubeconfig", "context",
	"server", "ca", "token-file", "namespace", "mode", "image",
	"image-pull-policy", "runtime-class", "service-account",
	"backoff-limit", "volume", NULL };

enum req_kind {
	REQ_LIST, REQ_WATCH, REQ_GET, REQ_CREATE, REQ_SCALE, REQ_DELETE,
	REQ_COST, REQ_COUNT
};

struct req {
	enum req_kind kind;
	CURL *h;
	struct curl_slist *hdrs;
	char *body;                 /* request body (owned) */
	struct coffer_buf in;       /* response body (watch: the line being
	                               read) */
	long retry_after_s;         /* from the answer's Retry-After */
	int watch_gone;             /* the watch said 410 */
};

struct kpod {
	char name[254];
	char node[64];
	int phase;                  /* COFFER_REPLICA_STARTING or _RUNNING */
	int deleting;               /* deletionTimestamp set */
	int ended;                  /* terminal (kept until DELETED) */
	int adopted;
	int restarts;
	int64_t seen_ms;            /* monotonic: first seen */
	int64_t created_unix;
	double startup_s;           /* < 0 until running */
	int cost_pending;           /* deletion cost to write (Deployment) */
	int cost;
	int listed;                 /* in the list being read */
	int busy;                   /* the hint of the call in progress */
	double busy_s;
};

struct k8s {
	const struct coffer_curl_api *api;
	CURLM *multi;
	struct k8s_conn conn;
	char *token;                /* the current bearer token */
	int64_t token_read_ms;
	char *ns, *name, *image, *pull_policy, *runtime_class, *sa;
	char *volume;               /* "CLAIM:/path": a PersistentVolumeClaim
	                               every pod mounts (the object store) */
	int deployment;             /* mode=deployment */
	int64_t backoff_limit;
	char *selector;             /* "k1=v1,k2=v2" */
	char **labels;              /* the spec's, copied */
	char **argv, **env;
	struct coffer_replica_resources res;
	char *tee;
	int grace_ms;
	int restart_crashed;
	struct req *slot[REQ_COUNT]; /* in flight, by kind */
	/* The Job or Deployment. */
	enum { OWNER_UNKNOWN, OWNER_ABSENT, OWNER_PRESENT, OWNER_STALE,
		OWNER_DELETING } owner;
	int owner_replicas;         /* its parallelism or replicas */
	int owner_failed;           /* the Job failed (backoffLimit) */
	int64_t owner_read_ms;
	int64_t ctl_backoff_ms;     /* no control request before */
	int ctl_delay_ms;
	/* The pods. */
	struct kpod *p;
	int n, cap;
	int listed;                 /* the first list answered: adoption done */
	char rv[64];                /* resourceVersion to watch from */
	int relist;
	int64_t watch_backoff_ms;
	int watch_delay_ms;
	int desired, desired_set;
	int completing;
	int detached;
	struct coffer_actuator_status st;
};

static void
set_err(struct k8s *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_err(struct k8s *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(k->st.error, sizeof(k->st.error), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Options */

static int
check_opt_name(const char *opt, const char *v, size_t max)
{
	if (!act_label_value_ok(v, max))
		return coffer_errf(COFFER_E_INVAL, "actuator kubernetes: option %s:"
		    " '%s' is not a valid name", opt, v);
	return 0;
}

int
act_k8s_check(char *const *opts)
{
	const char *v;
	int64_t x;
	int r;

	if ((r = act_opts_check("kubernetes", opts, option_names)) != 0)
		return r;
	if ((v = act_opt(opts, "mode")) != NULL && strcmp(v, "job") != 0 &&
	    strcmp(v, "deployment") != 0)
		return coffer_errf(COFFER_E_INVAL, "actuator kubernetes: option mode:"
		    " '%s' is not job or deployment", v);
	if ((v = act_opt(opts, "image-pull-policy")) != NULL &&
	    strcmp(v, "Always") != 0 && strcmp(v, "IfNotPresent") != 0 &&
	    strcmp(v, "Never") != 0)
		return coffer_errf(COFFER_E_INVAL, "actuator kubernetes: option "
		    "image-pull-policy: '%s' is not Always, IfNotPresent or Never", v);
	if ((v = act_opt(opts, "namespace")) != NULL &&
	    (r = check_opt_name("namespace", v, 63)) != 0)
		return r;
	if ((v = act_opt(opts, "runtime-class")) != NULL &&
	    (r = check_opt_name("runtime-class", v, 63)) != 0)
		return r;
	if ((v = act_opt(opts, "service-account")) != NULL &&
	    (r = check_opt_name("service-account", v, 253)) != 0)
		return r;
	if ((v = act_opt(opts, "volume")) != NULL) {
		const char *colon = strchr(v, ':');
		char claim[254];

		if (colon == NULL || colon - v >= (long)sizeof(claim) || colon[1] != '/')
			return coffer_errf(COFFER_E_INVAL, "actuator kubernetes: option "
			    "volume: '%s' is not CLAIM:/PATH", v);
		snprintf(claim, sizeof(claim), "%.*s", (int)(colon - v), v);
		if ((r = check_opt_name("volume", claim, 253)) != 0)
			return r;
	}
	if ((v = act_opt(opts, "server")) != NULL && strncmp(v, "https://", 8) != 0)
		return coffer_errf(COFFER_E_INVAL, "actuator kubernetes: option "
		    "server: '%s' is not https://", v);
	if ((v = act_opt(opts, "server")) != NULL &&
	    act_opt(opts, "kubeconfig") != NULL)
		return coffer_errf(COFFER_E_INVAL, "actuator kubernetes: give "
		    "kubeconfig or server, not both");
	return act_opt_int("kubernetes", opts, "backoff-limit", 0, 1000000, 1000,
	    &x);
}

/* ------------------------------------------------------------------ */
/* Requests */

static size_t
on_data(char *p, size_t size, size_t n, void *arg);

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct req *q = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
		q->retry_after_s = strtol(p + 12, NULL, 10);
	return len;
}

static void
req_free(struct k8s *k, struct req *q)
{
	if (q == NULL)
		return;
	if (q->h != NULL) {
		k->api->multi_remove_handle(k->multi, q->h);
		k->api->easy_cleanup(q->h);
	}
	if (q->hdrs != NULL)
		k->api->slist_free_all(q->hdrs);
	free(q->body);
	coffer_buf_release(&q->in);
	free(q);
}

/* The bearer token: the conn's, or its file's, read again now and then. */
static const char *
token(struct k8s *k)
{
	struct coffer_buf b = COFFER_BUF_INIT_SECRET(64 << 10);

	if (k->conn.token_file == NULL)
		return k->conn.token;
	if (k->token != NULL && coffer_mono_ms() - k->token_read_ms < TOKEN_REREAD_MS)
		return k->token;
	if (coffer_file_read(k->conn.token_file, 64 << 10, &b) == 0) {
		while (b.len > 0 && (b.data[b.len - 1] == '\n' ||
		    b.data[b.len - 1] == '\r' || b.data[b.len - 1] == ' '))
			b.data[--b.len] = '\0';
		if (k->token != NULL) {
			coffer_wipe(k->token, strlen(k->token));
			free(k->token);
		}
		k->token = coffer_strdup(coffer_buf_str(&b));
		k->token_read_ms = coffer_mono_ms();
	} else {
		set_err(k, "token file %s: %s", k->conn.token_file,
		    coffer_errdetail());
		coffer_errclear();
	}
	coffer_buf_release_secret(&b);
	return k->token;
}

/* Append the header "<name><value>". */
static int
add_header(struct k8s *k, struct req *q, const char *name, const char *v)
{
	char line[8192];
	struct curl_slist *l;

	snprintf(line, sizeof(line), "%s%s", name, v);
	l = k->api->slist_append(q->hdrs, line);
	coffer_wipe(line, sizeof(line));
	if (l == NULL)
		return COFFER_E_NOMEM;
	q->hdrs = l;
	return 0;
}

/* Start a request of kind (one of each kind at a time). path starts with
 * '/'; body may be NULL; ctype is the body's content type. */
static int
start(struct k8s *k, enum req_kind kind, const char *method, const char *path,
    char *body, const char *ctype)
{
	const struct coffer_curl_api *a = k->api;
	struct req *q;
	char *url = NULL;
	const char *tok;
	int r = 0;

	if (k->slot[kind] != NULL) {
		free(body);
		return COFFER_E_BUSY;
	}
	if ((q = coffer_calloc(1, sizeof(*q))) == NULL) {
		free(body);
		return coffer_errf(COFFER_E_NOMEM, "kubernetes request");
	}
	q->kind = kind;
	q->body = body;
	coffer_buf_init(&q->in, BODY_MAX);
	if ((q->h = a->easy_init()) == NULL ||
	    asprintf(&url, "%s%s", k->conn.server, path) < 0) {
		url = NULL;
		r = coffer_errf(COFFER_E_NOMEM, "kubernetes request");
		goto fail;
	}
	if ((r = add_header(k, q, "Accept: ", "application/json")) != 0 ||
	    (ctype != NULL && (r = add_header(k, q, "Content-Type: ",
	    ctype)) != 0))
		goto fail;
	if ((tok = token(k)) != NULL &&
	    (r = add_header(k, q, "Authorization: Bearer ", tok)) != 0)
		goto fail;
	a->easy_setopt(q->h, CURLOPT_URL, url);
	a->easy_setopt(q->h, CURLOPT_PRIVATE, q);
	a->easy_setopt(q->h, CURLOPT_HTTPHEADER, q->hdrs);
	a->easy_setopt(q->h, CURLOPT_CUSTOMREQUEST, method);
	a->easy_setopt(q->h, CURLOPT_NOSIGNAL, 1L);
	a->easy_setopt(q->h, CURLOPT_PROTOCOLS_STR, "https");
	a->easy_setopt(q->h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	a->easy_setopt(q->h, CURLOPT_TIMEOUT_MS, kind == REQ_WATCH ?
	    (WATCH_SECONDS + 30) * 1000L : REQ_TIMEOUT_MS);
	a->easy_setopt(q->h, CURLOPT_WRITEFUNCTION, on_data);
	a->easy_setopt(q->h, CURLOPT_WRITEDATA, q);
	a->easy_setopt(q->h, CURLOPT_HEADERFUNCTION, on_header);
	a->easy_setopt(q->h, CURLOPT_HEADERDATA, q);
	if (k->conn.ca_file != NULL)
		a->easy_setopt(q->h, CURLOPT_CAINFO, k->conn.ca_file);
	if (k->conn.ca_pem.len > 0) {
		struct curl_blob blob = { k->conn.ca_pem.data, k->conn.ca_pem.len,
			CURL_BLOB_COPY };

		a->easy_setopt(q->h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (k->conn.cert_file != NULL)
		a->easy_setopt(q->h, CURLOPT_SSLCERT, k->conn.cert_file);
	if (k->conn.key_file != NULL)
		a->easy_setopt(q->h, CURLOPT_SSLKEY, k->conn.key_file);
	if (k->conn.cert_pem.len > 0) {
		struct curl_blob blob = { k->conn.cert_pem.data,
			k->conn.cert_pem.len, CURL_BLOB_COPY };

		a->easy_setopt(q->h, CURLOPT_SSLCERT_BLOB, &blob);
		a->easy_setopt(q->h, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (k->conn.key_pem.len > 0) {
		struct curl_blob blob = { k->conn.key_pem.data, k->conn.key_pem.len,
			CURL_BLOB_COPY };

		a->easy_setopt(q->h, CURLOPT_SSLKEY_BLOB, &blob);
		a->easy_setopt(q->h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (body != NULL) {
		a->easy_setopt(q->h, CURLOPT_POSTFIELDS, body);
		a->easy_setopt(q->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (a->multi_add_handle(k->multi, q->h) != CURLM_OK) {
		r = coffer_errf(COFFER_E_HTTP, "kubernetes: curl_multi_add_handle");
		goto fail;
	}
	k->slot[kind] = q;
	free(url);
	return 0;
fail:
	if (q->h != NULL) {
		a->easy_cleanup(q->h);
		q->h = NULL;
	}
	req_free(k, q);
	free(url);
	return r;
}

/* "kind: 422 Invalid: message" from an error answer (a Status). */
static void
answer_error(struct k8s *k, const char *what, long code, const struct req *q,
    CURLcode cc)
{
	json_t *j = NULL;
	const char *msg = NULL, *reason = NULL;

	if (cc != CURLE_OK) {
		set_err(k, "%s: %s", what, k->api->easy_strerror(cc));
		return;
	}
	if (coffer_json_parse(coffer_buf_str(&q->in), q->in.len, BODY_MAX, 64,
	    &j) == 0) {
		msg = json_string_value(json_object_get(j, "message"));
		reason = json_string_value(json_object_get(j, "reason"));
	} else
		coffer_errclear();
	set_err(k, "%s: %ld %s%s%.100s", what, code, reason ? reason : "",
	    msg ? ": " : "", msg ? msg : "");
	json_decref(j);
}

/* A backed-off retry: 429 and 5xx (honouring Retry-After), network
 * errors; doubling from 0.5 s to 30 s. */
static void
back_off(int *delay_ms, int64_t *until_ms, long retry_after_s)
{
	*delay_ms = *delay_ms == 0 ? BACKOFF_MIN_MS : *delay_ms * 2;
	if (*delay_ms > BACKOFF_MAX_MS)
		*delay_ms = BACKOFF_MAX_MS;
	*until_ms = coffer_mono_ms() + (retry_after_s > 0 &&
	    retry_after_s * 1000 > *delay_ms ? retry_after_s * 1000 : *delay_ms);
}

/* ------------------------------------------------------------------ */
/* Pods */

static struct kpod *
pod_find(struct k8s *k, const char *name)
{
	for (int i = 0; i < k->n; i++)
		if (strcmp(k->p[i].name, name) == 0)
			return &k->p[i];
	return NULL;
}

static struct kpod *
pod_add(struct k8s *k, const char *name)
{
	struct kpod *p;

	if (act_reserve(&k->p, &k->cap, k->n, sizeof(*k->p)) != 0)
		return NULL;
	p = &k->p[k->n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->phase = COFFER_REPLICA_STARTING;
	p->seen_ms = coffer_mono_ms();
	p->startup_s = -1;
	p->busy_s = -1;
	return p;
}

/* The pod left for good (terminal, or deleted): count how. */
static void
pod_ended(struct k8s *k, struct kpod *p, const struct k8s_pod_view *v)
{
	if (p->ended)
		return;
	p->ended = 1;
	if (v->succeeded) {
		/* A worker exits 0 only when its job is finished (a stop
		 * exits 143, also an earlier actuator's): a completion. */
		k->st.completed_total++;
		k->completing = 1;
	} else if (v->exit_code == SIGKILL_EXIT && p->deleting) {
		k->st.killed_total++;
	} else if (!(v->exit_code == STOP_EXIT || (p->deleting &&
	    v->exit_code <= 0) || (k->deployment && v->exit_code == 0))) {
		k->st.crashed_total++;
		coffer_logkv(COFFER_LOG_WARN, "kubernetes: a pod failed", "pod",
		    p->name, "reason", v->reason, NULL);
	}
}

/* Apply what the API says of one pod (an event or a list item). */
static void
pod_update(struct k8s *k, const struct k8s_pod_view *v, int deleted)
{
	struct kpod *p = pod_find(k, v->name);

	if (p == NULL) {
		if (deleted || v->terminal)
			return; /* ended before we knew it */
		if ((p = pod_add(k, v->name)) == NULL)
			return;
		/* Live before our first list answered: an earlier actuator's. */
		if (!k->listed) {
			p->adopted = 1;
			k->st.adopted_total++;
		} else
			k->st.started_total++;
		p->created_unix = v->created_unix;
	}
	p->listed = 1;
	snprintf(p->node, sizeof(p->node), "%s", v->node);
	if (v->deleting)
		p->deleting = 1;
	if (k->deployment && v->restarts > p->restarts) {
		/* A Deployment's container restarts in place. */
		if (v->last_exit_code == 0)
			k->st.completed_total += v->restarts - p->restarts;
		else
			k->st.crashed_total += v->restarts - p->restarts;
		p->restarts = v->restarts;
	}
	if (v->running && p->phase == COFFER_REPLICA_STARTING) {
		p->phase = COFFER_REPLICA_RUNNING;
		if (!p->adopted) {
			p->startup_s = (double)(coffer_mono_ms() - p->seen_ms) / 1000.0;
			act_startup_add(&k->st, p->startup_s);
		}
	}
	if (v->terminal || deleted)
		pod_ended(k, p, v);
	if (deleted) {
		k->p[p - k->p] = k->p[--k->n];
		return;
	}
}

static int
count(const struct k8s *k, int starting_only)
{
	int n = 0;

	for (int i = 0; i < k->n; i++)
		if (!k->p[i].ended && !k->p[i].deleting &&
		    (!starting_only || k->p[i].phase == COFFER_REPLICA_STARTING))
			n++;
	return n;
}

static int
count_stopping(const struct k8s *k)
{
	int n = 0;

	for (int i = 0; i < k->n; i++)
		n += !k->p[i].ended && k->p[i].deleting;
	return n;
}

/* ------------------------------------------------------------------ */
/* List and watch */

static int
pods_path(struct k8s *k, int watch, char *out, size_t outlen)
{
	struct coffer_buf b = COFFER_BUF_INIT(4096);
	int r;

	if ((r = coffer_buf_putf(&b, "/api/v1/namespaces/%s/pods?labelSelector=",
	    k->ns)) != 0)
		goto out;
	for (const char *s = k->selector; *s; s++)
		if ((r = (*s == '=' || *s == ',') ? coffer_buf_putf(&b, "%%%02X",
		    (unsigned char)*s) : coffer_buf_put(&b, s, 1)) != 0)
			goto out;
	if (watch && (r = coffer_buf_putf(&b, "&watch=1&allowWatchBookmarks=true"
	    "&timeoutSeconds=%d&resourceVersion=%s", WATCH_SECONDS, k->rv)) != 0)
		goto out;
	if ((size_t)snprintf(out, outlen, "%s", coffer_buf_str(&b)) >= outlen)
		r = coffer_errf(COFFER_E_LIMIT, "kubernetes: path too long");
out:
	coffer_buf_release(&b);
	return r;
}

static void
start_list(struct k8s *k)
{
	char path[2048];

	if (pods_path(k, 0, path, sizeof(path)) != 0 ||
	    start(k, REQ_LIST, "GET", path, NULL, NULL) != 0) {
		set_err(k, "list pods: %s", coffer_errdetail());
		coffer_errclear();
	}
}

static void
start_watch(struct k8s *k)
{
	char path[2048];

	if (pods_path(k, 1, path, sizeof(path)) != 0 ||
	    start(k, REQ_WATCH, "GET", path, NULL, NULL) != 0) {
		set_err(k, "watch pods: %s", coffer_errdetail());
		coffer_errclear();
	}
}

static void
list_done(struct k8s *k, struct req *q, long code, CURLcode cc)
{
	json_t *j = NULL, *items;
	size_t i;
	json_t *it;

	if (cc != CURLE_OK || code != 200) {
		answer_error(k, "list pods", code, q, cc);
		back_off(&k->watch_delay_ms, &k->watch_backoff_ms, q->retry_after_s);
		return;
	}
	if (coffer_json_parse(coffer_buf_str(&q->in), q->in.len, BODY_MAX, 64,
	    &j) != 0 || !json_is_array(items = json_object_get(j, "items")) ||
	    k8s_list_rv(j, k->rv, sizeof(k->rv)) != 0) {
		set_err(k, "list pods: %s", coffer_errdetail()[0] ?
		    coffer_errdetail() : "not a PodList");
		coffer_errclear();
		json_decref(j);
		back_off(&k->watch_delay_ms, &k->watch_backoff_ms, 0);
		return;
	}
	for (int p = 0; p < k->n; p++)
		k->p[p].listed = 0;
	json_array_foreach(items, i, it) {
		struct k8s_pod_view v;

		if (k8s_pod_view(it, &v) == 0)
			pod_update(k, &v, 0);
		else
			coffer_errclear();
	}
	/* Gone while we were not watching. */
	for (int p = 0; p < k->n;) {
		if (!k->p[p].listed) {
			struct k8s_pod_view v;

			memset(&v, 0, sizeof(v));
			v.exit_code = -1;
			snprintf(v.reason, sizeof(v.reason), "gone");
			pod_ended(k, &k->p[p], &v);
			k->p[p] = k->p[--k->n];
			continue;
		}
		p++;
	}
	json_decref(j);
	k->listed = 1;
	k->relist = 0;
	k->watch_delay_ms = 0;
	if (strncmp(k->st.error, "list", 4) == 0 ||
	    strncmp(k->st.error, "watch", 5) == 0)
		k->st.error[0] = '\0';
	start_watch(k);
}

/* One line of a watch stream: {"type": ..., "object": ...}. */
static void
watch_line(struct k8s *k, struct req *q, const char *line, size_t len)
{
	struct k8s_watch_event e;

	if (k8s_watch_event(line, len, &e) != 0) {
		set_err(k, "watch pods: %s", coffer_errdetail());
		coffer_errclear();
		return;
	}
	switch (e.type) {
	case K8S_EV_ERROR:
		/* 410: the resourceVersion is too old; list again. */
		if (e.code == 410)
			q->watch_gone = 1;
		else
			set_err(k, "watch pods: %d %s", e.code, e.reason);
		break;
	case K8S_EV_BOOKMARK:
		break;
	case K8S_EV_ADDED:
	case K8S_EV_MODIFIED:
	case K8S_EV_DELETED:
		pod_update(k, &e.pod, e.type == K8S_EV_DELETED);
		break;
	}
	if (e.rv[0] != '\0')
		snprintf(k->rv, sizeof(k->rv), "%s", e.rv);
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct req *q = arg;
	size_t len = size * n;

	if (coffer_buf_put(&q->in, p, len) != 0) {
		coffer_errclear();
		return 0; /* too much: curl fails the transfer */
	}
	return len;
}

/* The watch's complete lines, as they come; at the end (last), the rest
 * too. */
static void
watch_drain_req(struct k8s *k, struct req *q, long code, int last)
{
	size_t start_off = 0;

	if (code != 200)
		return; /* an error answer: read whole when done */
	for (size_t i = 0; i < q->in.len; i++)
		if (q->in.data[i] == '\n') {
			if (i > start_off)
				watch_line(k, q, (const char *)q->in.data + start_off,
				    i - start_off);
			start_off = i + 1;
		}
	if (last && start_off < q->in.len) {
		watch_line(k, q, (const char *)q->in.data + start_off,
		    q->in.len - start_off);
		start_off = q->in.len;
	}
	if (start_off > 0) {
		memmove(q->in.data, q->in.data + start_off, q->in.len - start_off);
		q->in.len -= start_off;
		q->in.data[q->in.len] = '\0';
	}
}

static void
watch_drain(struct k8s *k)
{
	struct req *q = k->slot[REQ_WATCH];
	long code = 0;

	if (q == NULL)
		return;
	k->api->easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &code);
	watch_drain_req(k, q, code, 0);
}

static void
watch_done(struct k8s *k, struct req *q, long code, CURLcode cc)
{
	if (code == 410 || q->watch_gone) {
		k->relist = 1;
		return;
	}
	if (cc == CURLE_OK && code == 200) {
		/* The server ended it (timeoutSeconds): go on from rv. */
		k->watch_delay_ms = 0;
		start_watch(k);
		return;
	}
	answer_error(k, "watch pods", code, q, cc);
	back_off(&k->watch_delay_ms, &k->watch_backoff_ms, q->retry_after_s);
	/* A broken stream may have missed events: list again. */
	k->relist = 1;
}

/* ------------------------------------------------------------------ */
/* The Job or Deployment */

static int
owner_path(const struct k8s *k, const char *suffix, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/namespaces/%s/%s/%s%s",
	    k->deployment ? "/apis/apps/v1" : "/apis/batch/v1", k->ns,
	    k->deployment ? "deployments" : "jobs", k->name, suffix);

	return n > 0 && (size_t)n < outlen ? 0 :
	    coffer_errf(COFFER_E_LIMIT, "kubernetes: path too long");
}

static const char *
owner_kind(const struct k8s *k)
{
	return k->deployment ? "deployments" : "jobs";
}

static void
get_done(struct k8s *k, struct req *q, long code, CURLcode cc)
{
	json_t *j = NULL;
	struct k8s_owner_view v;

	k->owner_read_ms = coffer_mono_ms();
	if (cc == CURLE_OK && code == 404) {
		if (k->owner == OWNER_DELETING || k->owner == OWNER_UNKNOWN ||
		    k->owner == OWNER_STALE)
			k->owner = OWNER_ABSENT;
		else {
			/* Deleted by someone else while we ran it. */
			set_err(k, "%s/%s was deleted: creating it again",
			    owner_kind(k), k->name);
			k->owner = OWNER_ABSENT;
		}
		return;
	}
	if (cc != CURLE_OK || code != 200) {
		char what[300];

		snprintf(what, sizeof(what), "get %s/%s", owner_kind(k), k->name);
		answer_error(k, what, code, q, cc);
		back_off(&k->ctl_delay_ms, &k->ctl_backoff_ms, q->retry_after_s);
		return;
	}
	if (coffer_json_parse(coffer_buf_str(&q->in), q->in.len, BODY_MAX, 64,
	    &j) != 0 || k8s_owner_view(j, k->deployment, &v) != 0) {
		set_err(k, "get %s/%s: %s", owner_kind(k), k->name,
		    coffer_errdetail());
		coffer_errclear();
		json_decref(j);
		return;
	}
	json_decref(j);
	k->ctl_delay_ms = 0;
	if (k->owner == OWNER_DELETING)
		return; /* still there, being deleted */
	if (v.finished && (k->owner == OWNER_UNKNOWN || k->owner == OWNER_STALE)) {
		/* A finished Job of an earlier run with this name: it would
		 * start no pods; replace it. */
		k->owner = OWNER_STALE;
		return;
	}
	k->owner = OWNER_PRESENT;
	k->owner_replicas = v.replicas;
	/* A Job that completed starts no pod again: neither do we. */
	if (v.finished && !v.failed)
		k->completing = 1;
	if (v.failed && !k->owner_failed) {
		k->owner_failed = 1;
		set_err(k, "jobs/%s failed: %s", k->name, v.reason);
	}
}

/* The pod template: the same for a Job and a Deployment but the restart
 * policy and what a stop exits with. */
static json_t *
pod_template(const struct k8s *k)
{
	json_t *labels = json_object(), *env = json_array(), *cmd = json_array();
	json_t *req = json_object(), *lim = json_object(), *c, *spec, *t;
	char q[64];

	for (char **l = k->labels; l != NULL && *l != NULL; l++) {
		const char *eq = strchr(*l, '=');
		char key[64];

		snprintf(key, sizeof(key), "%.*s", (int)(eq - *l), *l);
		json_object_set_new(labels, key, json_string(eq + 1));
	}
	for (char **a = k->argv; *a != NULL; a++)
		json_array_append_new(cmd, json_string(*a));
	/* Every replica's id is its pod's name (Downward API). */
	json_array_append_new(env, json_pack("{s:s, s:{s:{s:s}}}", "name",
	    "COFFER_REPLICA_ID", "valueFrom", "fieldRef", "fieldPath",
	    "metadata.name"));
	if (!k->deployment)
		json_array_append_new(env, json_pack("{s:s, s:s}", "name",
		    "COFFER_STOP_EXIT_STATUS", "value", "143"));
	for (char **e = k->env; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		char *name = coffer_strdup(*e);

		if (name == NULL)
			continue;
		name[eq - *e] = '\0';
		if (strcmp(name, "COFFER_REPLICA_ID") != 0 &&
		    strcmp(name, "COFFER_STOP_EXIT_STATUS") != 0)
			json_array_append_new(env, json_pack("{s:s, s:s}", "name",
			    name, "value", eq + 1));
		free(name);
	}
	if (k->res.cpu_milli > 0) {
		snprintf(q, sizeof(q), "%dm", k->res.cpu_milli);
		json_object_set_new(req, "cpu", json_string(q));
	}
	if (k->res.memory_bytes > 0) {
		snprintf(q, sizeof(q), "%lld", (long long)k->res.memory_bytes);
		json_object_set_new(req, "memory", json_string(q));
		json_object_set_new(lim, "memory", json_string(q));
	}
	if (k->tee != NULL && strcmp(k->tee, "sgx") == 0) {
		/* Intel's SGX device plugin: the enclave page cache, the
		 * enclave device, and the provisioning device for DCAP
		 * quotes. Extended resources: requests equal limits. */
		snprintf(q, sizeof(q), "%lld", (long long)(k->res.tee_memory_bytes > 0 ?
		    k->res.tee_memory_bytes : (int64_t)64 << 20));
		json_object_set_new(req, "sgx.intel.com/epc", json_string(q));
		json_object_set_new(lim, "sgx.intel.com/epc", json_string(q));
		json_object_set_new(req, "sgx.intel.com/enclave", json_string("1"));
		json_object_set_new(lim, "sgx.intel.com/enclave", json_string("1"));
		json_object_set_new(req, "sgx.intel.com/provision", json_string("1"));
		json_object_set_new(lim, "sgx.intel.com/provision", json_string("1"));
	}
	c = json_pack("{s:s, s:s, s:o, s:o, s:{s:o, s:o}}", "name", "worker",
	    "image", k->image, "command", cmd, "env", env, "resources",
	    "requests", req, "limits", lim);
	if (c != NULL && k->pull_policy != NULL)
		json_object_set_new(c, "imagePullPolicy", json_string(k->pull_policy));
	if (c != NULL && k->volume != NULL)
		json_object_set_new(c, "volumeMounts", json_pack("[{s:s, s:s}]",
		    "name", "coffer-volume", "mountPath", strchr(k->volume, ':') + 1));
	spec = json_pack("{s:s, s:I, s:b, s:[o]}", "restartPolicy",
	    k->deployment ? "Always" : "Never", "terminationGracePeriodSeconds",
	    (json_int_t)((k->grace_ms + 999) / 1000),
	    "automountServiceAccountToken", 0, "containers", c);
	if (spec != NULL && k->runtime_class != NULL)
		json_object_set_new(spec, "runtimeClassName",
		    json_string(k->runtime_class));
	if (spec != NULL && k->sa != NULL)
		json_object_set_new(spec, "serviceAccountName", json_string(k->sa));
	if (spec != NULL && k->volume != NULL) {
		char claim[254];

		snprintf(claim, sizeof(claim), "%.*s",
		    (int)(strchr(k->volume, ':') - k->volume), k->volume);
		json_object_set_new(spec, "volumes", json_pack("[{s:s, s:{s:s}}]",
		    "name", "coffer-volume", "persistentVolumeClaim", "claimName",
		    claim));
	}
	t = json_pack("{s:{s:O}, s:o}", "metadata", "labels", labels, "spec", spec);
	json_decref(labels);
	return t;
}

static char *
owner_body(const struct k8s *k)
{
	json_t *t = pod_template(k), *o, *labels = json_object();
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	char *s = NULL;

	if (t == NULL || labels == NULL) {
		json_decref(t);
		json_decref(labels);
		return NULL;
	}
	json_object_update(labels, json_object_get(json_object_get(t, "metadata"),
	    "labels"));
	if (k->deployment)
		o = json_pack("{s:s, s:s, s:{s:s, s:s, s:O}, s:{s:i, s:{s:O}, s:o}}",
		    "apiVersion", "apps/v1", "kind", "Deployment", "metadata",
		    "name", k->name, "namespace", k->ns, "labels", labels, "spec",
		    "replicas", k->desired, "selector", "matchLabels", labels,
		    "template", t);
	else
		o = json_pack("{s:s, s:s, s:{s:s, s:s, s:O}, s:{s:i, s:I, s:s,"
		    " s:{s:[{s:s, s:{s:s, s:s, s:[i]}}]}, s:o}}",
		    "apiVersion", "batch/v1", "kind", "Job", "metadata", "name",
		    k->name, "namespace", k->ns, "labels", labels, "spec",
		    "parallelism", k->desired, "backoffLimit",
		    (json_int_t)k->backoff_limit, "podReplacementPolicy", "Failed",
		    "podFailurePolicy", "rules", "action", "Ignore", "onExitCodes",
		    "containerName", "worker", "operator", "In", "values",
		    STOP_EXIT, "template", t);
	json_decref(labels);
	if (o != NULL && coffer_json_dump(o, &b) == 0)
		s = coffer_strdup(coffer_buf_str(&b));
	json_decref(o);
	coffer_buf_release(&b);
	return s;
}

static void
ctl_done(struct k8s *k, struct req *q, long code, CURLcode cc)
{
	char what[300];

	switch (q->kind) {
	case REQ_GET:
		get_done(k, q, code, cc);
		return;
	case REQ_CREATE:
		snprintf(what, sizeof(what), "create %s/%s", owner_kind(k), k->name);
		if (cc == CURLE_OK && (code == 200 || code == 201)) {
			k->owner = OWNER_PRESENT;
			k->owner_replicas = -1; /* read it back */
			k->owner_read_ms = 0;
			k->ctl_delay_ms = 0;
			k->st.error[0] = '\0';
			return;
		}
		if (cc == CURLE_OK && code == 409) {
			/* AlreadyExists: read it. */
			k->owner = OWNER_UNKNOWN;
			return;
		}
		break;
	case REQ_SCALE:
		snprintf(what, sizeof(what), "scale %s/%s", owner_kind(k), k->name);
		if (cc == CURLE_OK && code == 200) {
			json_t *j = NULL;
			struct k8s_owner_view v;

			if (coffer_json_parse(coffer_buf_str(&q->in), q->in.len,
			    BODY_MAX, 64, &j) == 0 && k8s_scale_answer(j,
			    k->deployment, &v) == 0)
				k->owner_replicas = v.replicas;
			else {
				coffer_errclear();
				k->owner_read_ms = 0;
			}
			json_decref(j);
			k->ctl_delay_ms = 0;
			if (strncmp(k->st.error, "scale", 5) == 0)
				k->st.error[0] = '\0';
			return;
		}
		if (cc == CURLE_OK && code == 404) {
			k->owner = OWNER_ABSENT;
			return;
		}
		break;
	case REQ_DELETE:
		snprintf(what, sizeof(what), "delete %s/%s", owner_kind(k), k->name);
		if (cc == CURLE_OK && (code == 200 || code == 202 || code == 404)) {
			k->owner = code == 404 ? OWNER_ABSENT : OWNER_DELETING;
			k->owner_read_ms = coffer_mono_ms();
			return;
		}
		break;
	case REQ_COST:
		snprintf(what, sizeof(what), "annotate a pod");
		if (cc == CURLE_OK && (code == 200 || code == 404))
			return;
		break;
	default:
		return;
	}
	answer_error(k, what, code, q, cc);
	/* A refusal that will not change (400, 403, 422) is an error to
	 * show; every error backs off. */
	back_off(&k->ctl_delay_ms, &k->ctl_backoff_ms, q->retry_after_s);
}

/* The next control request, if one is due: one at a time, in order. */
static void
control(struct k8s *k)
{
	char path[1024], *body = NULL;
	int64_t now = coffer_mono_ms();

	if (!k->listed || now < k->ctl_backoff_ms)
		return;
	for (int i = REQ_GET; i < REQ_COUNT; i++)
		if (k->slot[i] != NULL)
			return;
	switch (k->owner) {
	case OWNER_UNKNOWN:
	case OWNER_DELETING:
		if (k->owner == OWNER_DELETING && now - k->owner_read_ms < 500)
			return;
		if (owner_path(k, "", path, sizeof(path)) == 0)
			(void)start(k, REQ_GET, "GET", path, NULL, NULL);
		return;
	case OWNER_STALE:
		if (owner_path(k, "?propagationPolicy=Background", path,
		    sizeof(path)) == 0)
			(void)start(k, REQ_DELETE, "DELETE", path, NULL, NULL);
		return;
	case OWNER_ABSENT:
		if (!k->desired_set || k->desired == 0 || k->completing)
			return;
		if ((body = owner_body(k)) == NULL) {
			set_err(k, "create %s/%s: no memory", owner_kind(k), k->name);
			return;
		}
		snprintf(path, sizeof(path), "%s/namespaces/%s/%s?fieldValidation="
		    "Strict", k->deployment ? "/apis/apps/v1" : "/apis/batch/v1",
		    k->ns, owner_kind(k));
		if (start(k, REQ_CREATE, "POST", path, body, "application/json") != 0)
			coffer_errclear();
		return;
	case OWNER_PRESENT:
		break;
	}
	/* Deletion costs first: the ReplicaSet must see them before the
	 * count drops. */
	for (int i = 0; i < k->n; i++) {
		struct kpod *p = &k->p[i];

		if (!p->cost_pending)
			continue;
		p->cost_pending = 0;
		if (asprintf(&body, "{\"metadata\":{\"annotations\":{\"controller."
		    "kubernetes.io/pod-deletion-cost\":\"%d\"}}}", p->cost) < 0)
			return;
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", k->ns,
		    p->name);
		if (start(k, REQ_COST, "PATCH", path, body,
		    "application/merge-patch+json") != 0)
			coffer_errclear();
		return;
	}
	if (k->desired_set && k->owner_replicas >= 0 &&
	    k->owner_replicas != k->desired) {
		if (asprintf(&body, k->deployment ? "{\"spec\":{\"replicas\":%d}}" :
		    "{\"spec\":{\"parallelism\":%d}}", k->desired) < 0)
			return;
		if (owner_path(k, k->deployment ? "/scale?fieldValidation=Strict" :
		    "?fieldValidation=Strict", path, sizeof(path)) != 0) {
			free(body);
			return;
		}
		if (start(k, REQ_SCALE, "PATCH", path, body,
		    "application/merge-patch+json") != 0)
			coffer_errclear();
		return;
	}
	if (k->owner_replicas < 0 || now - k->owner_read_ms >= REFRESH_MS) {
		if (owner_path(k, "", path, sizeof(path)) == 0)
			(void)start(k, REQ_GET, "GET", path, NULL, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* The loop */

static void
pump(struct k8s *k)
{
	const struct coffer_curl_api *a = k->api;
	CURLMsg *m;
	int running = 0, left = 0;

	a->multi_perform(k->multi, &running);
	watch_drain(k);
	while ((m = a->multi_info_read(k->multi, &left)) != NULL) {
		struct req *q = NULL;
		long code = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		a->easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
		a->easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		if (q == NULL)
			continue;
		k->slot[q->kind] = NULL;
		if (q->kind == REQ_WATCH) {
			watch_drain_req(k, q, code, 1);
			watch_done(k, q, code, m->data.result);
		} else if (q->kind == REQ_LIST)
			list_done(k, q, code, m->data.result);
		else
			ctl_done(k, q, code, m->data.result);
		req_free(k, q);
	}
}

static int
k8s_tick(void *impl)
{
	struct k8s *k = impl;
	int64_t now = coffer_mono_ms();

	pump(k);
	if (k->slot[REQ_LIST] == NULL && k->slot[REQ_WATCH] == NULL &&
	    now >= k->watch_backoff_ms) {
		if (!k->listed || k->relist || k->rv[0] == '\0')
			start_list(k);
		else
			start_watch(k);
	}
	control(k);
	pump(k);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Operations */

/* Whether a should go before b on a scale-down (actuator.h). */
static int
stops_before(const struct kpod *a, const struct kpod *b)
{
	struct act_rank ra = { a->phase == COFFER_REPLICA_STARTING, a->busy,
		a->busy_s, (double)a->created_unix * 1e6 + (double)a->seen_ms };
	struct act_rank rb = { b->phase == COFFER_REPLICA_STARTING, b->busy,
		b->busy_s, (double)b->created_unix * 1e6 + (double)b->seen_ms };

	return act_stops_before(&ra, &rb);
}

static int
k8s_set_replicas_hint(void *impl, int n, const struct coffer_replica_hint *busy,
    size_t nbusy)
{
	struct k8s *k = impl;
	int live = count(k, 0), r;

	if ((r = act_check_hint(n, MAX_REPLICAS, busy, nbusy)) != 0)
		return r;
	if (k->deployment && n < live) {
		/* Rank the pods as they should go; the first live - n get
		 * costs below every other pod's (0 by default). */
		for (size_t j = 0; j < nbusy; j++) {
			struct kpod *p = busy[j].replica_id != NULL ?
			    pod_find(k, busy[j].replica_id) : NULL;

			if (p != NULL) {
				p->busy = 1;
				p->busy_s = isfinite(busy[j].busy_s) &&
				    busy[j].busy_s >= 0 ? busy[j].busy_s : -1;
			}
		}
		for (int rank = 0; rank < live - n; rank++) {
			struct kpod *v = NULL;

			for (int i = 0; i < k->n; i++) {
				struct kpod *p = &k->p[i];

				if (p->ended || p->deleting || p->cost_pending)
					continue;
				if (v == NULL || stops_before(p, v))
					v = p;
			}
			if (v == NULL)
				break;
			v->cost = -1000 + rank;
			v->cost_pending = 1;
		}
		for (int i = 0; i < k->n; i++) {
			k->p[i].busy = 0;
			k->p[i].busy_s = -1;
		}
	}
	k->desired = n;
	k->desired_set = 1;
	k->st.desired = n;
	control(k);
	pump(k);
	return 0;
}

static int
k8s_set_replicas(void *impl, int n)
{
	return k8s_set_replicas_hint(impl, n, NULL, 0);
}

static int
k8s_status(void *impl, struct coffer_actuator_status *st)
{
	struct k8s *k = impl;

	*st = k->st;
	st->desired = k->desired;
	st->running = count(k, 0);
	st->starting = count(k, 1);
	st->stopping = count_stopping(k);
	/* Asked of the controller, no pod yet: starting too. */
	if (k->owner == OWNER_PRESENT && k->desired > st->running &&
	    !k->completing && !k->owner_failed) {
		st->starting += k->desired - st->running;
		st->running = k->desired;
	}
	return 0;
}

static int
k8s_list(void *impl, struct coffer_replica_info **out, size_t *n)
{
	struct k8s *k = impl;
	struct coffer_replica_info *v = NULL;
	int64_t now = coffer_mono_ms(), wall = (int64_t)time(NULL);
	size_t m = 0;

	if (k->n > 0 && (v = coffer_calloc((size_t)k->n, sizeof(*v))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "replica list");
	for (int i = 0; i < k->n; i++) {
		const struct kpod *p = &k->p[i];

		if (p->ended)
			continue;
		snprintf(v[m].id, sizeof(v[m].id), "%s", p->name);
		snprintf(v[m].handle, sizeof(v[m].handle), "%s", p->name);
		snprintf(v[m].node, sizeof(v[m].node), "%s", p->node);
		v[m].phase = p->deleting ? COFFER_REPLICA_STOPPING : p->phase;
		v[m].adopted = p->adopted;
		v[m].age_s = p->created_unix > 0 ? (double)(wall - p->created_unix) :
		    (double)(now - p->seen_ms) / 1000.0;
		v[m].startup_s = p->startup_s;
		m++;
	}
	*out = v;
	*n = m;
	return 0;
}

/* Drive the requests until done() or the time is up. */
static void
run_until(struct k8s *k, int64_t deadline, int (*done)(struct k8s *))
{
	while (!done(k) && coffer_mono_ms() < deadline) {
		int fds = 0;

		k8s_tick(k);
		k->api->multi_poll(k->multi, NULL, 0, 50, &fds);
	}
}

static int
no_pods(struct k8s *k)
{
	return k->listed && count(k, 0) + count_stopping(k) == 0 &&
	    (k->owner == OWNER_ABSENT || k->owner_replicas == 0);
}

static int
k8s_stop_all(void *impl)
{
	struct k8s *k = impl;

	k->desired = 0;
	k->desired_set = 1;
	k->st.desired = 0;
	run_until(k, coffer_mono_ms() + k->grace_ms + 30000, no_pods);
	if (!no_pods(k))
		return coffer_errf(COFFER_E_TIMEOUT, "actuator kubernetes: pods "
		    "still there after the grace period (%s)", k->st.error);
	return 0;
}

static int
k8s_detach(void *impl)
{
	((struct k8s *)impl)->detached = 1;
	return 0;
}

static void
k8s_free(void *impl)
{
	struct k8s *k = impl;

	if (k == NULL)
		return;
	/* Not detached: delete the Job or Deployment (its pods with it). */
	if (!k->detached && k->multi != NULL && k->owner != OWNER_ABSENT) {
		char path[1024];

		for (int i = 0; i < REQ_COUNT; i++) {
			req_free(k, k->slot[i]);
			k->slot[i] = NULL;
		}
		if (owner_path(k, "?propagationPolicy=Background", path,
		    sizeof(path)) == 0 &&
		    start(k, REQ_DELETE, "DELETE", path, NULL, NULL) == 0) {
			int64_t end = coffer_mono_ms() + 10000;

			while (k->slot[REQ_DELETE] != NULL && coffer_mono_ms() < end) {
				int fds = 0;

				pump(k);
				k->api->multi_poll(k->multi, NULL, 0, 50, &fds);
			}
		}
		coffer_errclear();
	}
	for (int i = 0; i < REQ_COUNT; i++)
		req_free(k, k->slot[i]);
	if (k->multi != NULL)
		k->api->multi_cleanup(k->multi);
	k8s_conn_release(&k->conn);
	if (k->token != NULL) {
		coffer_wipe(k->token, strlen(k->token));
		free(k->token);
	}
	free(k->ns);
	free(k->name);
	free(k->image);
	free(k->pull_policy);
	free(k->runtime_class);
	free(k->sa);
	free(k->volume);
	free(k->selector);
	free(k->tee);
	act_free_strv(k->labels);
	act_free_strv(k->argv);
	act_free_strv(k->env);
	free(k->p);
	free(k);
}

static const struct coffer_actuator_ops k8s_ops = {
	.name = "kubernetes",
	.set_replicas = k8s_set_replicas,
	.tick = k8s_tick,
	.status = k8s_status,
	.stop_all = k8s_stop_all,
	.free = k8s_free,
	.set_replicas_hint = k8s_set_replicas_hint,
	.list = k8s_list,
	.detach = k8s_detach,
};

static int
dup_or_null(const char *v, char **out)
{
	if (v != NULL && (*out = coffer_strdup(v)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "actuator kubernetes");
	return 0;
}

/* Where the API server is: the options, a kubeconfig, or this pod. */
static int
connect_config(char *const *opts, struct k8s_conn *c)
{
	const char *kc = act_opt(opts, "kubeconfig"), *server = act_opt(opts,
	    "server");
	int r;

	if (server != NULL) {
		k8s_conn_init(c);
		if ((r = dup_or_null(server, &c->server)) != 0 ||
		    (r = dup_or_null(act_opt(opts, "ca"), &c->ca_file)) != 0 ||
		    (r = dup_or_null(act_opt(opts, "token-file"), &c->token_file)) != 0)
			return r;
		return 0;
	}
	if (kc != NULL) {
		if ((r = k8s_conn_from_kubeconfig(kc, act_opt(opts, "context"),
		    c)) != 0)
			return r;
	} else if ((r = k8s_conn_in_cluster(NULL, c)) != 0)
		return r;
	/* Options override what the file says. */
	if (act_opt(opts, "ca") != NULL) {
		free(c->ca_file);
		c->ca_file = NULL;
		coffer_buf_reset(&c->ca_pem);
		if ((r = dup_or_null(act_opt(opts, "ca"), &c->ca_file)) != 0)
			return r;
	}
	if (act_opt(opts, "token-file") != NULL) {
		free(c->token_file);
		c->token_file = NULL;
		if ((r = dup_or_null(act_opt(opts, "token-file"), &c->token_file)) != 0)
			return r;
	}
	return 0;
}

int
act_k8s_create(const struct coffer_actuator_config *cfg,
    const struct coffer_replica_spec *spec, struct coffer_actuator **out)
{
	char *const *opts = cfg->options;
	struct coffer_actuator *a = NULL;
	struct coffer_buf sel = COFFER_BUF_INIT(4096);
	struct k8s *k = NULL;
	const char *image, *ns;
	int r;

	if ((a = coffer_calloc(1, sizeof(*a))) == NULL ||
	    (k = coffer_calloc(1, sizeof(*k))) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "actuator kubernetes");
		goto fail;
	}
	k->api = cfg->curl;
	k8s_conn_init(&k->conn);
	k->owner_replicas = -1;
	if ((r = connect_config(opts, &k->conn)) != 0)
		goto fail;
	image = spec->image != NULL ? spec->image : act_opt(opts, "image");
	if (image == NULL) {
		r = coffer_errf(COFFER_E_INVAL, "actuator kubernetes: no image (the "
		    "job's image or the image option)");
		goto fail;
	}
	ns = act_opt(opts, "namespace");
	if (ns == NULL)
		ns = k->conn.namespace != NULL ? k->conn.namespace : "default";
	for (char *const *l = spec->labels; l != NULL && *l != NULL; l++)
		if ((r = coffer_buf_putf(&sel, "%s%s", l == spec->labels ? "" : ",",
		    *l)) != 0)
			goto fail;
	if (sel.len == 0 && (r = coffer_buf_putf(&sel, "coffer-name=%s",
	    act_spec_name(spec))) != 0)
		goto fail;
	if ((r = act_opt_int("kubernetes", opts, "backoff-limit", 0, 1000000,
	    spec->restart_crashed ? 1000 : 0, &k->backoff_limit)) != 0 ||
	    (r = dup_or_null(ns, &k->ns)) != 0 ||
	    (r = dup_or_null(act_spec_name(spec), &k->name)) != 0 ||
	    (r = dup_or_null(image, &k->image)) != 0 ||
	    (r = dup_or_null(act_opt(opts, "image-pull-policy"),
	    &k->pull_policy)) != 0 ||
	    (r = dup_or_null(act_opt(opts, "service-account"), &k->sa)) != 0 ||
	    (r = dup_or_null(act_opt(opts, "volume"), &k->volume)) != 0 ||
	    (r = dup_or_null(coffer_buf_str(&sel), &k->selector)) != 0 ||
	    (r = dup_or_null(spec->tee, &k->tee)) != 0 ||
	    (r = act_copy_strv(spec->argv, &k->argv)) != 0 ||
	    (r = act_copy_strv(spec->env, &k->env)) != 0)
		goto fail;
	if (spec->labels != NULL) {
		if ((r = act_copy_strv(spec->labels, &k->labels)) != 0)
			goto fail;
	} else {
		char *one[2] = { (char *)coffer_buf_str(&sel), NULL };

		if ((r = act_copy_strv(one, &k->labels)) != 0)
			goto fail;
	}
	/* TDX and SEV-SNP pods run in a confidential VM: a runtime class of
	 * Confidential Containers unless the option names another. */
	if (act_opt(opts, "runtime-class") != NULL)
		r = dup_or_null(act_opt(opts, "runtime-class"), &k->runtime_class);
	else if (spec->tee != NULL && strcmp(spec->tee, "tdx") == 0)
		r = dup_or_null("kata-qemu-tdx", &k->runtime_class);
	else if (spec->tee != NULL && strcmp(spec->tee, "snp") == 0)
		r = dup_or_null("kata-qemu-snp", &k->runtime_class);
	if (r != 0)
		goto fail;
	{
		const char *mode = act_opt(opts, "mode");

		k->deployment = mode != NULL && strcmp(mode, "deployment") == 0;
	}
	k->res = spec->res;
	k->grace_ms = spec->grace_ms ? spec->grace_ms : 30000;
	k->restart_crashed = spec->restart_crashed;
	if ((k->multi = k->api->multi_init()) == NULL) {
		r = coffer_errf(COFFER_E_HTTP, "actuator kubernetes: curl_multi_init");
		goto fail;
	}
	coffer_buf_release(&sel);
	a->ops = &k8s_ops;
	a->impl = k;
	*out = a;
	return 0;
fail:
	coffer_buf_release(&sel);
	if (k != NULL)
		k->detached = 1;
	k8s_free(k);
	free(a);
	return r;
}
