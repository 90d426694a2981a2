// SPDX-License-Identifier: Apache-2.0
// The actuator factory (actuator/actuator.h): backends by name, their
// options, the checks of a replica spec that every backend relies on, and
// what the backends share (options.h).
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actuator/actuator.h"
#include "actuator/local.h"
#include "actuator/options.h"
#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/mem.h"

extern char **environ;

static int
local_check(char *const *opts)
{
	static const char *const none[] = { NULL };

	return act_opts_check("local", opts, none);
}

static const struct backend {
	const char *name;
	int (*check)(char *const *opts);
	int (*create)(const struct coffer_actuator_config *cfg,
	    const struct coffer_replica_spec *spec, struct coffer_actuator **out);
} backends[] = {
	{ "local", local_check, act_local_create },
	{ "slurm", act_slurm_check, act_slurm_create },
	{ "kubernetes", act_k8s_check, act_k8s_create },
};

const char *
coffer_actuator_backends(void)
{
	return "local, slurm, kubernetes";
}

static int
find(const struct coffer_actuator_config *cfg, const struct backend **out)
{
	const char *name = cfg != NULL && cfg->backend != NULL ? cfg->backend :
	    "local";

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i].name, name) == 0) {
			*out = &backends[i];
			return 0;
		}
	return coffer_errf(COFFER_E_INVAL, "actuator '%s': not one of %s", name,
	    coffer_actuator_backends());
}

int
coffer_actuator_check(const struct coffer_actuator_config *cfg)
{
	const struct backend *b;
	int r;

	if ((r = find(cfg, &b)) != 0)
		return r;
	if (strcmp(b->name, "kubernetes") == 0 && (cfg == NULL || cfg->curl == NULL))
		return coffer_errf(COFFER_E_UNSUPPORTED, "actuator kubernetes: "
		    "libcurl is not available to this program");
	return b->check(cfg != NULL ? cfg->options : NULL);
}

int
coffer_actuator_new(const struct coffer_actuator_config *cfg,
    const struct coffer_replica_spec *spec, struct coffer_actuator **out)
{
	const struct backend *b;
	int r;

	if ((r = coffer_actuator_check(cfg)) != 0 ||
	    (r = act_spec_check(spec)) != 0 || (r = find(cfg, &b)) != 0)
		return r;
	return b->create(cfg, spec, out);
}

int
coffer_actuator_list(struct coffer_actuator *a,
    struct coffer_replica_info **out, size_t *n)
{
	if (a->ops->list == NULL) {
		*out = NULL;
		*n = 0;
		return 0;
	}
	return a->ops->list(a->impl, out, n);
}

int
coffer_actuator_detach(struct coffer_actuator *a)
{
	if (a->ops->detach == NULL)
		return coffer_errf(COFFER_E_UNSUPPORTED, "actuator %s: replicas "
		    "cannot outlive it", a->ops->name);
	return a->ops->detach(a->impl);
}

void
coffer_actuator_free(struct coffer_actuator *a)
{
	if (a == NULL)
		return;
	a->ops->free(a->impl);
	free(a);
}

/* ------------------------------------------------------------------ */
/* Options */

static size_t
key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq != NULL ? (size_t)(eq - kv) : strlen(kv);
}

int
act_opts_check(const char *backend, char *const *opts,
    const char *const *names)
{
	struct coffer_buf list = COFFER_BUF_INIT(4096);
	int r = 0;

	for (size_t i = 0; opts != NULL && opts[i] != NULL; i++) {
		const char *kv = opts[i];
		size_t k = key_len(kv), j;

		if (kv[k] != '=' || k == 0) {
			r = coffer_errf(COFFER_E_INVAL, "actuator %s: option '%s' is not"
			    " KEY=VALUE", backend, kv);
			break;
		}
		for (j = 0; names[j] != NULL; j++)
			if (strlen(names[j]) == k && strncmp(names[j], kv, k) == 0)
				break;
		if (names[j] == NULL) {
			for (size_t m = 0; names[m] != NULL; m++)
				if (coffer_buf_putf(&list, "%s%s", m ? ", " : "",
				    names[m]) != 0)
					break;
			r = coffer_errf(COFFER_E_INVAL, "actuator %s: unknown option "
			    "'%.*s' (%s%s)", backend, (int)k, kv, list.len > 0 ?
			    "options: " : "it takes none", coffer_buf_str(&list));
			break;
		}
		for (size_t m = 0; m < i; m++)
			if (key_len(opts[m]) == k && strncmp(opts[m], kv, k) == 0) {
				r = coffer_errf(COFFER_E_INVAL, "actuator %s: option "
				    "'%.*s' given twice", backend, (int)k, kv);
				break;
			}
		if (r != 0)
			break;
	}
	coffer_buf_release(&list);
	return r;
}

const char *
act_opt(char *const *opts, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; opts != NULL && opts[i] != NULL; i++)
		if (strncmp(opts[i], name, n) == 0 && opts[i][n] == '=')
			return opts[i] + n + 1;
	return NULL;
}

int
act_opt_int(const char *backend, char *const *opts, const char *name,
    int64_t min, int64_t max, int64_t def, int64_t *out)
{
	const char *v = act_opt(opts, name);
	char *end = NULL;
	long long x;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	x = strtoll(v, &end, 10);
	if (v[0] == '\0' || *end != '\0' || errno != 0 || x < min || x > max)
		return coffer_errf(COFFER_E_INVAL, "actuator %s: option %s: '%s' is "
		    "not a whole number in [%lld, %lld]", backend, name, v,
		    (long long)min, (long long)max);
	*out = x;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The spec */

static int
alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

int
act_label_value_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !alnum(s[0]) || !alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 52 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-'))
			return 0;
	return 1;
}

int
act_spec_check(const struct coffer_replica_spec *spec)
{
	static const char *const tees[] = { "none", "sim", "sgx", "tdx", "snp",
		NULL };

	if (spec == NULL || spec->argv == NULL || spec->argv[0] == NULL ||
	    spec->argv[0][0] == '\0')
		return coffer_errf(COFFER_E_INVAL, "actuator: no program to run");
	if (spec->grace_ms < 0)
		return coffer_errf(COFFER_E_INVAL, "actuator: negative grace period");
	for (char *const *e = spec->env; e != NULL && *e != NULL; e++)
		if (strchr(*e, '=') == NULL || **e == '=')
			return coffer_errf(COFFER_E_INVAL, "actuator: environment entry"
			    " '%s' is not KEY=VALUE", *e);
	if (spec->name != NULL && !name_ok(spec->name))
		return coffer_errf(COFFER_E_INVAL, "actuator: name '%s': 1-52 of "
		    "[a-z0-9-], not starting or ending with '-'", spec->name);
	for (char *const *l = spec->labels; l != NULL && *l != NULL; l++) {
		const char *eq = strchr(*l, '=');
		char key[64];

		if (eq == NULL || (size_t)(eq - *l) >= sizeof(key))
			return coffer_errf(COFFER_E_INVAL, "actuator: label '%s' is not"
			    " KEY=VALUE with a key of at most 63 characters", *l);
		memcpy(key, *l, (size_t)(eq - *l));
		key[eq - *l] = '\0';
		if (!act_label_value_ok(key, 63) || !act_label_value_ok(eq + 1, 63))
			return coffer_errf(COFFER_E_INVAL, "actuator: label '%s': key "
			    "and value are 1-63 of [A-Za-z0-9_.-], alphanumeric at both"
			    " ends", *l);
	}
	if (spec->tee != NULL) {
		size_t i;

		for (i = 0; tees[i] != NULL; i++)
			if (strcmp(tees[i], spec->tee) == 0)
				break;
		if (tees[i] == NULL)
			return coffer_errf(COFFER_E_INVAL, "actuator: TEE '%s' is not "
			    "one of none, sim, sgx, tdx, snp", spec->tee);
	}
	if (spec->res.cpu_milli < 0 || spec->res.memory_bytes < 0 ||
	    spec->res.tee_memory_bytes < 0)
		return coffer_errf(COFFER_E_INVAL, "actuator: negative resources");
	return 0;
}

const char *
act_spec_name(const struct coffer_replica_spec *spec)
{
	return spec->name != NULL ? spec->name : "coffer";
}

void
coffer_actuator_name_from(const char *prefix, const char *s, char *out,
    size_t outlen)
{
	char buf[128];
	size_t n = 0, max = outlen - 1 < 52 ? outlen - 1 : 52;
	uint32_t h = 2166136261u;
	int changed = 0;

	for (const char *p = s; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	n = (size_t)snprintf(buf, sizeof(buf), "%s", prefix);
	for (const char *p = s; *p && n < sizeof(buf) - 1; p++) {
		char c = *p;

		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
			changed = 1;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-')) {
			c = '-';
			changed = 1;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	if (n > max)
		changed = 1;
	if (changed) {
		/* Room for "-" and 8 hex digits. */
		if (n > max - 9)
			n = max - 9;
		snprintf(buf + n, sizeof(buf) - n, "-%08x", (unsigned)h);
		n += 9;
	}
	while (n > 0 && buf[n - 1] == '-')
		buf[--n] = '\0';
	if (n == 0 || !(buf[0] >= 'a' && buf[0] <= 'z'))
		snprintf(out, outlen, "c%.*s", (int)(max - 1), buf);
	else
		snprintf(out, outlen, "%s", buf);
}

int
act_check_hint(int n, int max, const struct coffer_replica_hint *busy,
    size_t nbusy)
{
	if (n < 0 || n > max)
		return coffer_errf(COFFER_E_INVAL, "replicas %d out of range [0, %d]",
		    n, max);
	if (nbusy > 0 && busy == NULL)
		return coffer_errf(COFFER_E_INVAL, "replica hint: %zu busy replicas"
		    " but no array", nbusy);
	return 0;
}

int
act_stops_before(const struct act_rank *a, const struct act_rank *b)
{
	if (a->starting != b->starting)
		return a->starting;
	if (a->busy != b->busy)
		return !a->busy;
	if (a->busy) {
		int ka = a->busy_s >= 0, kb = b->busy_s >= 0;

		if (ka != kb)
			return ka;
		if (ka && a->busy_s != b->busy_s)
			return a->busy_s < b->busy_s;
	}
	return a->newness > b->newness;
}

int
act_reserve(void *arr, int *cap, int n, size_t size)
{
	void **p = arr, *np;
	int ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if ((np = coffer_reallocarray(*p, (size_t)ncap, size)) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "replicas");
	*p = np;
	*cap = ncap;
	return 0;
}

void
act_child_signals(void)
{
	sigset_t none;
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void
act_backoff_crashed(struct act_backoff *b, int64_t lived_ms)
{
	if (lived_ms >= 10000)
		b->delay_ms = 100;
	else
		b->delay_ms = b->delay_ms == 0 ? 100 : b->delay_ms * 2;
	if (b->delay_ms > 5000)
		b->delay_ms = 5000;
	b->after_ms = coffer_mono_ms() + b->delay_ms;
}

void
act_startup_add(struct coffer_actuator_status *st, double s)
{
	if (!(s >= 0))
		return;
	st->startup_s = st->startups == 0 ? s : 0.75 * st->startup_s + 0.25 * s;
	st->startups++;
}

/* Whether entry is "<name>=..." for the name (without '=') of key, an
 * entry "KEY=VALUE" itself. */
static int
same_name(const char *entry, const char *key)
{
	const char *eq = strchr(key, '=');
	size_t klen = eq ? (size_t)(eq - key) : strlen(key);

	return strncmp(entry, key, klen) == 0 && entry[klen] == '=';
}

int
act_env_merge(char *const *add, const char *last, char ***out)
{
	size_t ne = 0, ns = 0, k = 0;
	char **v;

	while (environ != NULL && environ[ne] != NULL)
		ne++;
	while (add != NULL && add[ns] != NULL)
		ns++;
	if ((v = coffer_calloc(ne + ns + 2, sizeof(*v))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "environment");
	for (size_t i = 0; i < ne; i++) {
		int overridden = last != NULL && same_name(environ[i], last);

		for (size_t j = 0; j < ns && !overridden; j++)
			overridden = same_name(environ[i], add[j]);
		if (!overridden)
			v[k++] = environ[i];
	}
	for (size_t j = 0; j < ns; j++)
		if (last == NULL || !same_name(add[j], last))
			v[k++] = add[j];
	if (last != NULL)
		v[k++] = (char *)last;
	v[k] = NULL;
	*out = v;
	return 0;
}

void
act_free_strv(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int
act_copy_strv(char *const *src, char ***out)
{
	size_t n = 0;
	char **v;

	if (src == NULL) {
		*out = NULL;
		return 0;
	}
	while (src[n] != NULL)
		n++;
	if ((v = coffer_calloc(n + 1, sizeof(*v))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "actuator spec");
	for (size_t i = 0; i < n; i++)
		if ((v[i] = coffer_strdup(src[i])) == NULL) {
			act_free_strv(v);
			return coffer_errf(COFFER_E_NOMEM, "actuator spec");
		}
	*out = v;
	return 0;
}
