// SPDX-License-Identifier: Apache-2.0
// coffer-worker's configuration: the environment an actuator sets, then
// command-line flags over it (doc/worker.md section 2).
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/enc.h"
#include "lib/appparams.h"
#include "lib/mem.h"
#include "lib/num.h"
#include "lib/log.h"
#include "lib/pct.h"
#include "lib/random.h"
#include "queue/queue.h"
#include "queue/redis_url.h"
#include "store/store.h"
#include "worker/worker.h"

const char worker_usage[] =
    "coffer-worker --job ID --redis URL --store DIR --app APP [options]\n"
    "  --job ID              job id (COFFER_JOB)\n"
    "  --redis URL           redis://host:port[/db] (COFFER_REDIS_URL, or\n"
    "                        REDIS_HOST and REDIS_PORT)\n"
    "  --store LOC           object store holding the inputs (COFFER_STORE)\n"
    "  --outputs LOC         object store for the outputs (COFFER_OUTPUTS;\n"
    "                        default: the input store)\n"
    "  --output-prefix P     key prefix of outputs (COFFER_OUTPUT_PREFIX;\n"
    "                        default \"\" with --outputs, else \"out/\")\n"
    "  --app APP             plugin .so or executable (COFFER_APP)\n"
    "  --app-kind K          plugin or exec (COFFER_APP_KIND; default: plugin\n"
    "                        if APP ends in .so)\n"
    "  --app-arg ARG         extra argument of an executable app (repeatable)\n"
    "  --app-env NAME[,NAME] environment variables an executable app gets\n"
    "                        besides PATH, HOME, LANG, ... (repeatable;\n"
    "                        COFFER_APP_ENV; never COFFER_* or REDIS_*)\n"
    "  --param K=V           job parameter for the app (repeatable;\n"
    "                        COFFER_PARAMS=k=v&k2=v2 with %XX escapes)\n"
    "  --owner PREFIX=NAME   items whose id starts with PREFIX belong to data\n"
    "                        owner NAME; the longest prefix wins (repeatable;\n"
    "                        COFFER_OWNERS=p=n&p2=n2 with %XX escapes)\n"
    "  --worker-id ID        unique worker id (COFFER_WORKER_ID; default\n"
    "                        host-pid-random)\n"
    "  --lease-ms N          lease TTL (COFFER_LEASE_MS; default 30000)\n"
    "  --max-attempts N      attempts before dead-lettering (COFFER_MAX_ATTEMPTS;\n"
    "                        the job's own value wins; default 3)\n"
    "  --backoff-ms N        first retry delay (COFFER_BACKOFF_MS; default 1000)\n"
    "  --max-item-bytes N    input and output size limit (COFFER_MAX_ITEM_BYTES;\n"
    "                        default 67108864)\n"
    "  --item-timeout-ms N   per-item app timeout, 0 = none\n"
    "                        (COFFER_ITEM_TIMEOUT_MS; default 3600000)\n"
    "  --batch N             items held at once, their proofs sent in one\n"
    "                        request (COFFER_BATCH; 1-64; default 64 in a\n"
    "                        confidential job, 1 in a plaintext one)\n"
    "  --allow-empty-output  an app writing nothing succeeds\n"
    "                        (COFFER_ALLOW_EMPTY_OUTPUT=1)\n"
    "  --exit-when-done      exit 0 once every item is done or dead\n"
    "                        (COFFER_EXIT_WHEN_DONE=1)\n"
    "  --coordinator URL     a confidential job: the coordinator, http://HOST:PORT\n"
    "                        (COFFER_COORDINATOR_URL; needs the three below)\n"
    "  --coordinator-job ID  its job id, 32 hex digits (COFFER_COORDINATOR_JOB)\n"
    "  --tee-backend NAME    sim (INSECURE), sgx-gramine or tsm\n"
    "                        (COFFER_TEE_BACKEND)\n"
    "  --measured-config FILE  the measured configuration that pins the\n"
    "                        coordinator (COFFER_MEASURED_CONFIG)\n"
    "  --collateral PATH     collateral for the coordinator's evidence\n"
    "                        (COFFER_COLLATERAL)\n"
    "  --start-retry-ms N    how long the start tries again a coordinator\n"
    "                        that does not answer (COFFER_START_RETRY_MS;\n"
    "                        0-600000; default 10000)\n"
    "  --check-app           load the app, print what it is, exit\n"
    "  --describe-app        print the app's name, kind, reduce stage and\n"
    "                        declared parameters as JSON, without init()\n"
    "  --reduce KEY          run the app's reduce stage over the outputs into\n"
    "                        KEY of the output store, then exit\n"
    "  --after-drain         with --reduce, a plaintext job: wait until the\n"
    "                        job's queue is drained first; with failed items\n"
    "                        reduce nothing (exit 0)\n";

static int
set_str(char **slot, const char *v)
{
	char *s = coffer_strdup(v);

	if (s == NULL)
		return coffer_errf(COFFER_E_NOMEM, "config");
	free(*slot);
	*slot = s;
	return 0;
}

static int
parse_int(const char *what, const char *v, long long min, long long max,
    long long *out)
{
	int64_t x = 0;

	if (coffer_parse_i64(v, min, max, &x) != 0) {
		(void)coffer_errf(COFFER_E_INVAL, "%s: %s", what, coffer_errdetail());
		return COFFER_E_INVAL;
	}
	*out = x;
	return 0;
}

static int
set_int(const char *what, const char *v, long long min, long long max, int *out)
{
	long long x;
	int r;

	if ((r = parse_int(what, v, min, max, &x)) != 0)
		return r;
	*out = (int)x;
	return 0;
}

static int
set_bool(const char *what, const char *v, int *out)
{
	if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
		*out = 1;
	else if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0 ||
	    strcmp(v, "false") == 0 || v[0] == '\0')
		*out = 0;
	else
		return coffer_errf(COFFER_E_INVAL, "%s: '%s' is not 1/0", what, v);
	return 0;
}

static int
set_kind(const char *what, const char *v, int *out)
{
	if (strcmp(v, "plugin") == 0)
		*out = APP_KIND_PLUGIN;
	else if (strcmp(v, "exec") == 0)
		*out = APP_KIND_EXEC;
	else
		return coffer_errf(COFFER_E_INVAL, "%s: '%s' is not plugin or exec",
		    what, v);
	return 0;
}

static int
check_param_key(const char *k, size_t n)
{
	if (n == 0 || n > 64)
		return coffer_errf(COFFER_E_INVAL, "parameter name must be 1-64 chars");
	for (size_t i = 0; i < n; i++) {
		char c = k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return coffer_errf(COFFER_E_INVAL, "parameter name '%.*s': only"
			    " [A-Za-z0-9_.-]", (int)n, k);
	}
	return 0;
}

/* Add or replace key -> value (both copied). */
static int
param_put(struct worker_config *c, const char *k, size_t kn, const char *v,
    size_t vn)
{
	char *key, *val;
	int r;

	if ((r = check_param_key(k, kn)) != 0)
		return r;
	if (vn > 4096)
		return coffer_errf(COFFER_E_INVAL, "parameter '%.*s': value longer"
		    " than 4096 bytes", (int)kn, k);
	if (memchr(v, '\0', vn) != NULL)
		return coffer_errf(COFFER_E_INVAL, "parameter '%.*s': NUL in value",
		    (int)kn, k);
	if ((key = coffer_strndup(k, kn)) == NULL ||
	    (val = coffer_strndup(v, vn)) == NULL) {
		free(key);
		return coffer_errf(COFFER_E_NOMEM, "config");
	}
	for (size_t i = 0; i < c->nparams; i++)
		if (strcmp(c->params[i].key, key) == 0) {
			free(key);
			free((char *)c->params[i].value);
			c->params[i].value = val;
			return 0;
		}
	if (c->nparams == WORKER_MAX_PARAMS) {
		free(key);
		free(val);
		return coffer_errf(COFFER_E_LIMIT, "more than %d parameters",
		    WORKER_MAX_PARAMS);
	}
	c->params[c->nparams].key = key;
	c->params[c->nparams].value = val;
	c->nparams++;
	return 0;
}

int
worker_param_add(struct worker_config *c, const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL)
		return coffer_errf(COFFER_E_INVAL, "--param '%s': expected KEY=VALUE", kv);
	/* PLAN: "coffer." parameters are the worker's own to pass. */
	if (coffer_app_param_reserved(kv))
		return coffer_errf(COFFER_E_INVAL, "--param '%.*s': parameters "
		    "starting with 'coffer.' are reserved", (int)(eq - kv), kv);
	return param_put(c, kv, (size_t)(eq - kv), eq + 1, strlen(eq + 1));
}

/* Add the comma-separated names in list to c->app_env. The worker's own
 * control variables and the queue's address (which may carry its
 * password) never reach an app. */
static int
app_env_add(struct worker_config *c, const char *what, const char *list)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n > 0) {
			int ok = n <= 128 && !(p[0] >= '0' && p[0] <= '9');

			for (size_t i = 0; i < n && ok; i++)
				ok = (p[i] >= 'A' && p[i] <= 'Z') ||
				    (p[i] >= 'a' && p[i] <= 'z') ||
				    (p[i] >= '0' && p[i] <= '9') || p[i] == '_';
			if (!ok)
				return coffer_errf(COFFER_E_INVAL, "%s: '%.*s' is not a"
				    " variable name", what, (int)n, p);
			if ((n >= 7 && strncmp(p, "COFFER_", 7) == 0) ||
			    (n >= 6 && strncmp(p, "REDIS_", 6) == 0))
				return coffer_errf(COFFER_E_INVAL, "%s: '%.*s': COFFER_*"
				    " and REDIS_* variables are the worker's own", what,
				    (int)n, p);
			if (c->napp_env == WORKER_MAX_APP_ENV)
				return coffer_errf(COFFER_E_LIMIT, "%s: more than %d"
				    " names", what, WORKER_MAX_APP_ENV);
			if ((c->app_env[c->napp_env] = coffer_strndup(p, n)) == NULL)
				return coffer_errf(COFFER_E_NOMEM, "config");
			c->napp_env++;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* "k=v&k2=v2" with %XX escapes (COFFER_PARAMS, COFFER_OWNERS): put() gets
 * each decoded pair. */
static int
decode_pairs(const char *s, const char *what, struct worker_config *c,
    int (*put)(struct worker_config *, const char *, size_t, const char *,
    size_t))
{
	size_t len = strlen(s);
	char *kbuf = coffer_malloc(len + 1), *vbuf = coffer_malloc(len + 1);
	int r = 0;

	if (kbuf == NULL || vbuf == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "config");
		goto out;
	}
	while (*s && r == 0) {
		const char *amp = strchr(s, '&'), *eq;
		size_t n = amp ? (size_t)(amp - s) : strlen(s), kn, vn;

		if (n > 0) {
			eq = memchr(s, '=', n);
			if (eq == NULL) {
				r = coffer_errf(COFFER_E_INVAL, "%s: '%.*s' is not"
				    " KEY=VALUE", what, (int)n, s);
				break;
			}
			if (coffer_pct_decode(s, (size_t)(eq - s), 0, kbuf,
			    len + 1, &kn) != 0 || coffer_pct_decode(eq + 1,
			    n - (size_t)(eq - s) - 1, 0, vbuf, len + 1, &vn) != 0) {
				r = coffer_errf(COFFER_E_INVAL, "%s: %s", what,
				    coffer_errdetail());
				break;
			}
			r = put(c, kbuf, kn, vbuf, vn);
		}
		s += n;
		if (*s == '&')
			s++;
	}
out:
	free(kbuf);
	free(vbuf);
	return r;
}

int
worker_params_decode(const char *s, struct worker_config *c)
{
	return decode_pairs(s, "COFFER_PARAMS", c, param_put);
}

/* Printable ASCII without space: what an owner name and a prefix may hold
 * (a prefix of an object key, which has no space either). */
static int
printable_nospace(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return 0;
	return 1;
}

static int
owner_put(struct worker_config *c, const char *p, size_t pn, const char *v,
    size_t vn)
{
	struct worker_owner *o;

	if (pn > COFFER_STORE_KEY_MAX || !printable_nospace(p, pn))
		return coffer_errf(COFFER_E_INVAL, "owner prefix '%.*s': at most %d"
		    " printable ASCII characters, no space", (int)(pn > 64 ? 64 : pn),
		    p, COFFER_STORE_KEY_MAX);
	if (vn == 0 || vn > WORKER_OWNER_MAX || !printable_nospace(v, vn))
		return coffer_errf(COFFER_E_INVAL, "owner of prefix '%.*s': the name"
		    " must be 1-%d printable ASCII characters, no space", (int)pn, p,
		    WORKER_OWNER_MAX);
	for (int i = 0; i < c->nowners; i++)
		if (strlen(c->owners[i].prefix) == pn &&
		    memcmp(c->owners[i].prefix, p, pn) == 0)
			return coffer_errf(COFFER_E_INVAL, "owner prefix '%.*s' is given"
			    " twice", (int)pn, p);
	if (c->nowners == WORKER_MAX_OWNERS)
		return coffer_errf(COFFER_E_LIMIT, "more than %d owner prefixes",
		    WORKER_MAX_OWNERS);
	o = &c->owners[c->nowners];
	if ((o->prefix = coffer_strndup(p, pn)) == NULL ||
	    (o->name = coffer_strndup(v, vn)) == NULL) {
		free(o->prefix);
		o->prefix = NULL;
		return coffer_errf(COFFER_E_NOMEM, "config");
	}
	c->nowners++;
	return 0;
}

int
worker_owner_add(struct worker_config *c, const char *what, const char *kv)
{
	const char *eq = strchr(kv, '=');
	int r;

	if (eq == NULL)
		return coffer_errf(COFFER_E_INVAL, "%s '%s': expected PREFIX=NAME",
		    what, kv);
	if ((r = owner_put(c, kv, (size_t)(eq - kv), eq + 1, strlen(eq + 1))) != 0)
		return coffer_errctx(r, "%s", what);
	return 0;
}

int
worker_owners_decode(const char *s, struct worker_config *c)
{
	return decode_pairs(s, "COFFER_OWNERS", c, owner_put);
}

const char *
worker_owner_of(const struct worker_config *c, const char *id)
{
	const char *best = NULL;
	size_t bestlen = 0;

	for (int i = 0; i < c->nowners; i++) {
		size_t n = strlen(c->owners[i].prefix);

		if (strncmp(id, c->owners[i].prefix, n) == 0 &&
		    (best == NULL || n > bestlen)) {
			best = c->owners[i].name;
			bestlen = n;
		}
	}
	return best;
}

const char *
worker_lookup_env(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

/* The variables, from the environment or a standby worker's assignment
 * (doc/worker.md 2.2): one parser for both, so that an assignment means
 * exactly what the same environment would. */
static int
from_vars(struct worker_config *c, worker_lookup_fn *get, void *arg)
{
	const char *v;
	char url[COFFER_REDIS_URL_MAX + 32];
	long long x;
	int r = 0;

	if ((v = get(arg, "COFFER_JOB")) && (r = set_str(&c->job, v)))
		return r;
	if ((v = get(arg, "COFFER_REDIS_URL")) != NULL) {
		if ((r = set_str(&c->redis_url, v)) != 0)
			return r;
	} else if (get(arg, "REDIS_HOST") != NULL) {
		if ((r = coffer_redis_url_from_host_port(get(arg, "REDIS_HOST"),
		    get(arg, "REDIS_PORT"), url, sizeof(url))) != 0 ||
		    (r = set_str(&c->redis_url, url)) != 0)
			return r;
	}
	if ((v = get(arg, "COFFER_STORE")) && (r = set_str(&c->store, v)))
		return r;
	if ((v = get(arg, "COFFER_OUTPUTS")) && (r = set_str(&c->outputs, v)))
		return r;
	if ((v = get(arg, "COFFER_OUTPUT_PREFIX")) && (r = set_str(&c->output_prefix, v)))
		return r;
	if ((v = get(arg, "COFFER_APP")) && (r = set_str(&c->app, v)))
		return r;
	if ((v = get(arg, "COFFER_APP_KIND")) && (r = set_kind("COFFER_APP_KIND", v,
	    &c->app_kind)))
		return r;
	if ((v = get(arg, "COFFER_PARAMS")) && (r = worker_params_decode(v, c)))
		return r;
	if ((v = get(arg, "COFFER_APP_ENV")) && (r = app_env_add(c, "COFFER_APP_ENV", v)))
		return r;
	if ((v = get(arg, "COFFER_OWNERS")) && (r = worker_owners_decode(v, c)))
		return r;
	if ((v = get(arg, "COFFER_WORKER_ID")) && (r = set_str(&c->worker_id, v)))
		return r;
	if ((v = get(arg, "COFFER_LEASE_MS")) &&
	    (r = set_int("COFFER_LEASE_MS", v, 100, 86400000, &c->lease_ms)))
		return r;
	if ((v = get(arg, "COFFER_MAX_ATTEMPTS")) &&
	    (r = set_int("COFFER_MAX_ATTEMPTS", v, 1, 1000000, &c->max_attempts)))
		return r;
	if ((v = get(arg, "COFFER_BACKOFF_MS")) &&
	    (r = set_int("COFFER_BACKOFF_MS", v, 1, 3600000, &c->backoff_ms)))
		return r;
	if ((v = get(arg, "COFFER_MAX_ITEM_BYTES")) != NULL) {
		if ((r = parse_int("COFFER_MAX_ITEM_BYTES", v, 1, (long long)1 << 34, &x)))
			return r;
		c->max_item_bytes = (size_t)x;
	}
	if ((v = get(arg, "COFFER_ITEM_TIMEOUT_MS")) &&
	    (r = set_int("COFFER_ITEM_TIMEOUT_MS", v, 0, INT_MAX, &c->item_timeout_ms)))
		return r;
	if ((v = get(arg, "COFFER_BATCH")) &&
	    (r = set_int("COFFER_BATCH", v, 1, WORKER_BATCH_MAX, &c->batch)))
		return r;
	if ((v = get(arg, "COFFER_ALLOW_EMPTY_OUTPUT")) &&
	    (r = set_bool("COFFER_ALLOW_EMPTY_OUTPUT", v, &c->allow_empty_output)))
		return r;
	if ((v = get(arg, "COFFER_EXIT_WHEN_DONE")) &&
	    (r = set_bool("COFFER_EXIT_WHEN_DONE", v, &c->exit_when_done)))
		return r;
	if ((v = get(arg, "COFFER_COORDINATOR_URL")) && (r = set_str(&c->coordinator, v)))
		return r;
	if ((v = get(arg, "COFFER_COORDINATOR_JOB")) && (r = set_str(&c->coord_job, v)))
		return r;
	if ((v = get(arg, "COFFER_TEE_BACKEND")) && (r = set_str(&c->tee_backend, v)))
		return r;
	if ((v = get(arg, "COFFER_MEASURED_CONFIG")) && (r = set_str(&c->measured, v)))
		return r;
	if ((v = get(arg, "COFFER_COLLATERAL")) && (r = set_str(&c->collateral, v)))
		return r;
	/* --reduce KEY and --after-drain by name, so that a standby worker's
	 * assignment can make it a plaintext job's reduce replica
	 * (doc/worker.md 2.2); checked as the options are. */
	if ((v = get(arg, "COFFER_REDUCE_KEY")) && (r = set_str(&c->reduce_key, v)))
		return r;
	if ((v = get(arg, "COFFER_AFTER_DRAIN")) &&
	    (r = set_bool("COFFER_AFTER_DRAIN", v, &c->after_drain)))
		return r;
	if ((v = get(arg, "COFFER_START_RETRY_MS")) &&
	    (r = set_int("COFFER_START_RETRY_MS", v, 0, 600000, &c->start_retry_ms)))
		return r;
	/* A Kubernetes Job counts a pod that exits 0 as a completion, after
	 * which it starts no more pods: its actuator asks for another status
	 * after a stop (doc/worker.md section 6). */
	if ((v = get(arg, "COFFER_STOP_EXIT_STATUS")) &&
	    (r = set_int("COFFER_STOP_EXIT_STATUS", v, 0, 255,
	    &c->stop_exit_status)))
		return r;
	return 0;
}

/* A confidential job's settings (doc/worker.md section 9): all of them
 * with --coordinator, none without. */
static int check_confidential_as(const struct worker_config *c, int standby);

static int
check_confidential(const struct worker_config *c)
{
	return check_confidential_as(c, 0);
}

int
worker_config_standby(struct worker_config *c)
{
	static const char *const names[] = {
		"COFFER_COORDINATOR_URL", "COFFER_TEE_BACKEND",
		"COFFER_MEASURED_CONFIG", "COFFER_COLLATERAL",
	};
	char **slots[] = { &c->coordinator, &c->tee_backend, &c->measured,
	    &c->collateral };
	const char *v;
	int r;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((v = getenv(names[i])) != NULL && (r = set_str(slots[i], v)) != 0)
			return r;
	return check_confidential_as(c, 1);
}

static int
check_confidential_as(const struct worker_config *c, int standby)
{
	const char *b = c->tee_backend;
	size_t n;

	if (c->coordinator == NULL) {
		if (c->coord_job || c->tee_backend || c->measured || c->collateral)
			return coffer_errf(COFFER_E_INVAL, "--coordinator-job,"
			    " --tee-backend, --measured-config and --collateral are for a"
			    " confidential job: give --coordinator too");
		return 0;
	}
	if (standby && (c->tee_backend == NULL || c->measured == NULL))
		return coffer_errf(COFFER_E_INVAL, "a confidential standby worker"
		    " (COFFER_COORDINATOR_URL) needs COFFER_TEE_BACKEND and"
		    " COFFER_MEASURED_CONFIG");
	if (!standby && (c->coord_job == NULL || c->tee_backend == NULL ||
	    c->measured == NULL))
		return coffer_errf(COFFER_E_INVAL, "a confidential job (--coordinator)"
		    " needs --coordinator-job, --tee-backend and --measured-config");
	n = standby ? 32 : strlen(c->coord_job);
	if (!standby && (n != 32 || strspn(c->coord_job, "0123456789abcdef") != n))
		return coffer_errf(COFFER_E_INVAL, "--coordinator-job '%.64s': 32"
		    " lower-case hex digits", c->coord_job);
	if (strcmp(b, "sim") != 0 && strcmp(b, "sgx-gramine") != 0 &&
	    strcmp(b, "tsm") != 0)
		return coffer_errf(COFFER_E_INVAL, "--tee-backend '%.64s': sim,"
		    " sgx-gramine or tsm", b);
	if (strncmp(c->coordinator, "http://", 7) != 0)
		return coffer_errf(COFFER_E_INVAL, "--coordinator '%.200s': an"
		    " http://HOST:PORT URL (what matters in the exchange is wrapped"
		    " or MAC'd, doc/worker.md 9)", c->coordinator);
	return 0;
}

enum {
	OPT_JOB = 256, OPT_REDIS, OPT_STORE, OPT_OUTPUTS, OPT_PREFIX, OPT_APP,
	OPT_KIND, OPT_APP_ARG, OPT_PARAM, OPT_WORKER_ID, OPT_LEASE, OPT_ATTEMPTS,
	OPT_BACKOFF, OPT_MAX_BYTES, OPT_TIMEOUT, OPT_EMPTY, OPT_EXIT, OPT_CHECK,
	OPT_REDUCE, OPT_HELP, OPT_APP_ENV, OPT_OWNER, OPT_DESCRIBE, OPT_COORD,
	OPT_COORD_JOB, OPT_BACKEND, OPT_MEASURED, OPT_COLLATERAL, OPT_BATCH,
	OPT_START_RETRY, OPT_AFTER_DRAIN,
};

static const struct option longopts[] = {
	{ "job", required_argument, NULL, OPT_JOB },
	{ "redis", required_argument, NULL, OPT_REDIS },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "outputs", required_argument, NULL, OPT_OUTPUTS },
	{ "output-prefix", required_argument, NULL, OPT_PREFIX },
	{ "app", required_argument, NULL, OPT_APP },
	{ "app-kind", required_argument, NULL, OPT_KIND },
	{ "app-arg", required_argument, NULL, OPT_APP_ARG },
	{ "app-env", required_argument, NULL, OPT_APP_ENV },
	{ "param", required_argument, NULL, OPT_PARAM },
	{ "owner", required_argument, NULL, OPT_OWNER },
	{ "worker-id", required_argument, NULL, OPT_WORKER_ID },
	{ "lease-ms", required_argument, NULL, OPT_LEASE },
	{ "max-attempts", required_argument, NULL, OPT_ATTEMPTS },
	{ "backoff-ms", required_argument, NULL, OPT_BACKOFF },
	{ "max-item-bytes", required_argument, NULL, OPT_MAX_BYTES },
	{ "item-timeout-ms", required_argument, NULL, OPT_TIMEOUT },
	{ "allow-empty-output", no_argument, NULL, OPT_EMPTY },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "exit-when-done", no_argument, NULL, OPT_EXIT },
	{ "check-app", no_argument, NULL, OPT_CHECK },
	{ "describe-app", no_argument, NULL, OPT_DESCRIBE },
	{ "reduce", required_argument, NULL, OPT_REDUCE },
	{ "after-drain", no_argument, NULL, OPT_AFTER_DRAIN },
	{ "coordinator", required_argument, NULL, OPT_COORD },
	{ "coordinator-job", required_argument, NULL, OPT_COORD_JOB },
	{ "tee-backend", required_argument, NULL, OPT_BACKEND },
	{ "measured-config", required_argument, NULL, OPT_MEASURED },
	{ "collateral", required_argument, NULL, OPT_COLLATERAL },
	{ "start-retry-ms", required_argument, NULL, OPT_START_RETRY },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int
from_flags(int argc, char **argv, struct worker_config *c)
{
	long long x;
	int o, r = 0;

	optind = 1;
	opterr = 0;
	while (r == 0 && (o = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (o) {
		case OPT_JOB: r = set_str(&c->job, optarg); break;
		case OPT_REDIS: r = set_str(&c->redis_url, optarg); break;
		case OPT_STORE: r = set_str(&c->store, optarg); break;
		case OPT_OUTPUTS: r = set_str(&c->outputs, optarg); break;
		case OPT_PREFIX: r = set_str(&c->output_prefix, optarg); break;
		case OPT_APP: r = set_str(&c->app, optarg); break;
		case OPT_KIND: r = set_kind("--app-kind", optarg, &c->app_kind); break;
		case OPT_APP_ARG:
			if (c->napp_args == WORKER_MAX_APP_ARGS)
				r = coffer_errf(COFFER_E_LIMIT, "more than %d --app-arg",
				    WORKER_MAX_APP_ARGS);
			else if ((c->app_args[c->napp_args] = coffer_strdup(optarg)) == NULL)
				r = coffer_errf(COFFER_E_NOMEM, "config");
			else
				c->napp_args++;
			break;
		case OPT_PARAM: r = worker_param_add(c, optarg); break;
		case OPT_OWNER: r = worker_owner_add(c, "--owner", optarg); break;
		case OPT_APP_ENV: r = app_env_add(c, "--app-env", optarg); break;
		case OPT_WORKER_ID: r = set_str(&c->worker_id, optarg); break;
		case OPT_LEASE:
			r = set_int("--lease-ms", optarg, 100, 86400000, &c->lease_ms);
			break;
		case OPT_ATTEMPTS:
			r = set_int("--max-attempts", optarg, 1, 1000000, &c->max_attempts);
			break;
		case OPT_BACKOFF:
			r = set_int("--backoff-ms", optarg, 1, 3600000, &c->backoff_ms);
			break;
		case OPT_MAX_BYTES:
			if ((r = parse_int("--max-item-bytes", optarg, 1,
			    (long long)1 << 34, &x)) == 0)
				c->max_item_bytes = (size_t)x;
			break;
		case OPT_TIMEOUT:
			r = set_int("--item-timeout-ms", optarg, 0, INT_MAX,
			    &c->item_timeout_ms);
			break;
		case OPT_BATCH:
			r = set_int("--batch", optarg, 1, WORKER_BATCH_MAX, &c->batch);
			break;
		case OPT_EMPTY: c->allow_empty_output = 1; break;
		case OPT_EXIT: c->exit_when_done = 1; break;
		case OPT_CHECK: c->check_app = 1; break;
		case OPT_DESCRIBE: c->describe_app = 1; break;
		case OPT_REDUCE: r = set_str(&c->reduce_key, optarg); break;
		case OPT_AFTER_DRAIN: c->after_drain = 1; break;
		case OPT_COORD: r = set_str(&c->coordinator, optarg); break;
		case OPT_COORD_JOB: r = set_str(&c->coord_job, optarg); break;
		case OPT_BACKEND: r = set_str(&c->tee_backend, optarg); break;
		case OPT_MEASURED: r = set_str(&c->measured, optarg); break;
		case OPT_COLLATERAL: r = set_str(&c->collateral, optarg); break;
		case OPT_START_RETRY:
			r = set_int("--start-retry-ms", optarg, 0, 600000,
			    &c->start_retry_ms);
			break;
		case 'h':
		case OPT_HELP:
			r = coffer_errf(COFFER_E_CANCELLED, "help");
			break;
		default:
			r = coffer_errf(COFFER_E_INVAL, "unknown or incomplete option '%s'",
			    argv[optind - 1]);
			break;
		}
	}
	if (r == 0 && optind < argc)
		r = coffer_errf(COFFER_E_INVAL, "unexpected argument '%s'", argv[optind]);
	return r;
}

int
worker_config_parse(int argc, char **argv, struct worker_config *c)
{
	return worker_config_parse_vars(argc, argv, worker_lookup_env, NULL, c);
}

int
worker_config_parse_vars(int argc, char **argv, worker_lookup_fn *get,
    void *arg, struct worker_config *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->lease_ms = 30000;
	c->backoff_ms = 1000;
	c->max_item_bytes = (size_t)64 << 20;
	c->item_timeout_ms = 3600000;
	c->start_retry_ms = 10000;
	if ((r = from_vars(c, get, arg)) != 0 ||
	    (r = from_flags(argc, argv, c)) != 0)
		return r;
	if (c->app == NULL)
		return coffer_errf(COFFER_E_INVAL, "no app: give --app or COFFER_APP");
	if (c->app_kind == APP_KIND_AUTO) {
		size_t n = strlen(c->app);

		c->app_kind = n > 3 && strcmp(c->app + n - 3, ".so") == 0 ?
		    APP_KIND_PLUGIN : APP_KIND_EXEC;
	}
	if (c->napp_args > 0 && c->app_kind != APP_KIND_EXEC)
		return coffer_errf(COFFER_E_INVAL, "--app-arg is for executable apps");
	if ((r = check_confidential(c)) != 0)
		return r;
	/* A confidential job proves its items in batches (doc/worker.md 9.4);
	 * a plaintext one has no proof to batch and its in-process plugin
	 * would take every held item with it when it crashes. */
	if (c->batch == 0)
		c->batch = WORKER_CONFIDENTIAL(c) ? WORKER_BATCH_DEFAULT : 1;
	if (c->check_app || c->describe_app)
		return 0;
	if (c->store == NULL)
		return coffer_errf(COFFER_E_INVAL, "no input store: give --store or"
		    " COFFER_STORE");
	/* doc/worker.md section 2, --after-drain: the drain is read from the
	 * job's queue; a confidential job waits for its map stage at the
	 * coordinator instead (9.6). */
	if (c->after_drain && (c->reduce_key == NULL || WORKER_CONFIDENTIAL(c)))
		return coffer_errf(COFFER_E_INVAL, "--after-drain is for the reduce "
		    "stage (--reduce) of a plaintext job");
	if (c->reduce_key != NULL && !c->after_drain)
		return 0;
	if (c->job == NULL)
		return coffer_errf(COFFER_E_INVAL, "no job: give --job or COFFER_JOB");
	if (c->redis_url == NULL)
		return coffer_errf(COFFER_E_INVAL, "no Redis: give --redis,"
		    " COFFER_REDIS_URL, or REDIS_HOST and REDIS_PORT");
	return 0;
}

void
worker_config_release(struct worker_config *c)
{
	free(c->job);
	free(c->redis_url);
	free(c->store);
	free(c->outputs);
	free(c->output_prefix);
	free(c->app);
	for (int i = 0; i < c->napp_args; i++)
		free(c->app_args[i]);
	for (size_t i = 0; i < c->nparams; i++) {
		free((char *)c->params[i].key);
		free((char *)c->params[i].value);
	}
	free(c->worker_id);
	free(c->reduce_key);
	for (int i = 0; i < c->napp_env; i++)
		free(c->app_env[i]);
	for (int i = 0; i < c->nowners; i++) {
		free(c->owners[i].prefix);
		free(c->owners[i].name);
	}
	free(c->coordinator);
	free(c->coord_job);
	free(c->tee_backend);
	free(c->measured);
	free(c->collateral);
	memset(c, 0, sizeof(*c));
}

/* host-pid-random, with the host name reduced to [A-Za-z0-9_.-]; or, for
 * a replica started by an actuator (COFFER_REPLICA_ID in the environment),
 * "<replica id>_<8 hex random>", so that the manager can tell from the
 * queue which replica holds an item (doc/queue.md section 1). */
static void
default_worker_id(const char *replica, char *out, size_t outlen)
{
	char host[64] = "host";
	uint8_t rnd[4] = { 0 };

	if (coffer_random(rnd, sizeof(rnd)) != 0)
		rnd[0] = (uint8_t)time(NULL);
	if (replica != NULL && replica[0] != '\0') {
		uint32_t x = (uint32_t)rnd[0] << 24 | (uint32_t)rnd[1] << 16 |
		    (uint32_t)rnd[2] << 8 | rnd[3];

		if (coffer_queue_replica_worker_id(replica, x, out, outlen) == 0)
			return;
		coffer_logkv(COFFER_LOG_WARN, "COFFER_REPLICA_ID is not a replica id;"
		    " using a worker id without it", "error", coffer_errdetail(), NULL);
	}
	(void)gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	for (char *c = host; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
			*c = '-';
	snprintf(out, outlen, "%s-%d-%02x%02x%02x%02x", host[0] ? host : "host",
	    (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3]);
}

int
worker_config_ready(struct worker_config *c, const char *replica)
{
	char idbuf[COFFER_QUEUE_WORKER_MAX + 1];
	/* The output prefix the runner will use (runner.c, open_stores). */
	const char *prefix = c->output_prefix ? c->output_prefix :
	    c->outputs ? "" : "out/";

	if (c->check_app || c->describe_app)
		return 0;
	/* Compared by device and inode, not by spelling ("d", "d/", "./d",
	 * "file://$PWD/d" and a symlink to d are one place). */
	if (prefix[0] == '\0' && (c->outputs == NULL ||
	    coffer_store_same_location(c->outputs, c->store)))
		return coffer_errf(COFFER_E_INVAL, "outputs would overwrite inputs:"
		    " give --outputs elsewhere or a non-empty --output-prefix");
	if (c->reduce_key == NULL && c->worker_id == NULL) {
		default_worker_id(replica, idbuf, sizeof(idbuf));
		if ((c->worker_id = coffer_strdup(idbuf)) == NULL)
			return coffer_errf(COFFER_E_NOMEM, "worker id");
	}
	return 0;
}
