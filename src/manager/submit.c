// SPDX-License-Identifier: Apache-2.0
// What a submission is checked against beyond its own fields (mgr.h,
// doc/api.md section 3.1): the app's declared parameters (from
// coffer-worker --describe-app, so the manager never loads an app), the
// reserved "coffer." names, an input prefix that escapes or matches
// nothing, an output prefix that escapes, and a deadline that the
// estimated item time says cannot be met. A job refused here never starts
// a replica.
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coffer/error.h"
#include "lib/appparams.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"
#include "controllers/registry.h"
#include "manager/mgr.h"
#include "store/store.h"

extern char **environ;

#define DESCRIBE_MAX (256 * 1024)
#define DESCRIBE_TIMEOUT_MS 10000

static void
add(json_t *errs, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
add(json_t *errs, const char *field, const char *fmt, ...)
{
	char msg[600], full[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s: %s", field, msg);
	json_array_append_new(errs, json_pack("{s:s, s:s}", "field", field,
	    "message", full));
}

/* Run argv, its standard output into out; 0 if it exited 0 in time. */
static int
run_capture(char *const argv[], struct coffer_buf *out, struct coffer_buf *err)
{
	posix_spawn_file_actions_t fa;
	int po[2], pe[2], st = 0, r = 0, open_fds = 2;
	int64_t deadline = coffer_mono_ms() + DESCRIBE_TIMEOUT_MS;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) != 0)
		return coffer_errf(COFFER_E_IO, "pipe: %s", strerror(errno));
	if (pipe2(pe, O_CLOEXEC) != 0) {
		close(po[0]);
		close(po[1]);
		return coffer_errf(COFFER_E_IO, "pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pe[1], STDERR_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	errno = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	if (errno != 0) {
		close(po[0]);
		close(pe[0]);
		return coffer_errf(COFFER_E_IO, "%s: %s", argv[0], strerror(errno));
	}
	while (open_fds > 0) {
		struct pollfd pf[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
		int64_t left = deadline - coffer_mono_ms();
		char buf[4096];

		if (left <= 0) {
			kill(pid, SIGKILL);
			r = coffer_errf(COFFER_E_TIMEOUT, "%s did not answer in %d s",
			    argv[0], DESCRIBE_TIMEOUT_MS / 1000);
			break;
		}
		if (poll(pf, 2, (int)left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(pf[i].fd, buf, sizeof(buf));
			if (n > 0) {
				if (coffer_buf_put(i == 0 ? out : err, buf, (size_t)n) != 0)
					coffer_errclear();
			} else if (n == 0 || errno != EINTR) {
				close(pf[i].fd);
				if (i == 0)
					po[0] = -1;
				else
					pe[0] = -1;
				open_fds--;
			}
		}
	}
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
		r = COFFER_E_APP;
	return r;
}

/* The app's description ({"params": ..., "reduce": ...}), cached by path,
 * size and modification time: one describe per app version. */
static struct {
	char path[4096];
	struct stat st;
	json_t *desc;
} cache;

static int
describe(struct mgr *m, const char *app, json_t **out)
{
	struct coffer_buf o = COFFER_BUF_INIT(DESCRIBE_MAX);
	struct coffer_buf e = COFFER_BUF_INIT(4096);
	char *argv[] = { (char *)m->cfg.worker, "--describe-app", "--app",
		(char *)app, NULL };
	struct stat st;
	json_t *d = NULL;
	int r;

	if (stat(app, &st) == 0 && cache.desc != NULL &&
	    strcmp(cache.path, app) == 0 && st.st_size == cache.st.st_size &&
	    st.st_mtim.tv_sec == cache.st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == cache.st.st_mtim.tv_nsec &&
	    st.st_ino == cache.st.st_ino) {
		*out = json_incref(cache.desc);
		return 0;
	}
	r = run_capture(argv, &o, &e);
	if (r == COFFER_E_APP) {
		const char *msg = coffer_buf_str(&e);

		r = coffer_errf(COFFER_E_APP, "%.*s", (int)strcspn(msg, "\n"),
		    strncmp(msg, "coffer-worker: app: ", 20) == 0 ? msg + 20 : msg);
	} else if (r == 0 && coffer_json_parse(coffer_buf_str(&o), o.len,
	    DESCRIBE_MAX, 16, &d) != 0) {
		r = coffer_errf(COFFER_E_APP, "coffer-worker --describe-app: not JSON");
	}
	coffer_buf_release(&o);
	coffer_buf_release(&e);
	if (r != 0)
		return r;
	json_decref(cache.desc);
	cache.desc = json_incref(d);
	snprintf(cache.path, sizeof(cache.path), "%s", app);
	cache.st = st;
	*out = d;
	return 0;
}

struct perr {
	json_t *errs;
};

static void
param_error(void *arg, const char *name, const char *message)
{
	struct perr *p = arg;
	char field[200];

	snprintf(field, sizeof(field), "app_params.%s", name);
	add(p->errs, field, "%s", message);
}

/* A key prefix that leaves the store: absolute, or a ".." segment. */
static int
escapes(const char *prefix)
{
	const char *p = prefix;

	if (prefix[0] == '/')
		return 1;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

static int
count_cb(const char *key, void *arg)
{
	(void)key;
	(*(size_t *)arg)++;
	return 1; /* one is enough */
}

static int
count_all(const char *key, void *arg)
{
	(void)key;
	(*(size_t *)arg)++;
	return 0;
}

int
mgr_job_check(struct mgr *m, const struct mgr_jobspec *s, int64_t nitems_hint,
    json_t *errs, json_t *warnings)
{
	const char *store = s->input_store != NULL ? s->input_store : m->cfg.store;
	size_t before = json_array_size(errs);

	(void)nitems_hint;
	/* App parameters: reserved names always; the rest against what the
	 * app declares. */
	if (s->app != NULL) {
		char app[4096];
		const char *keys[MGR_JOB_MAX_PARAMS], *vals[MGR_JOB_MAX_PARAMS];
		struct perr p = { errs };
		json_t *d = NULL;
		size_t n = 0;
		int r;

		for (size_t i = 0; i < s->napp_params && n < MGR_JOB_MAX_PARAMS; i++) {
			keys[n] = s->app_params[i].key;
			vals[n++] = s->app_params[i].value;
		}
		if ((r = mgr_app_resolve(m, s->app, app, sizeof(app))) != 0) {
			add(errs, "app", "%s", strncmp(coffer_errdetail(), "app: ", 5) == 0 ?
			    coffer_errdetail() + 5 : coffer_errdetail());
		} else if ((r = describe(m, app, &d)) != 0) {
			if (r == COFFER_E_APP)
				add(errs, "app", "the app cannot be used: %s",
				    coffer_errdetail());
			else
				coffer_warn("app %s not described (%s): its parameters are "
				    "not checked", app, coffer_errdetail());
			(void)coffer_app_params_check(NULL, keys, vals, n, param_error, &p);
		} else {
			json_t *decls = json_object_get(d, "params");

			(void)coffer_app_params_check(json_is_array(decls) ? decls : NULL,
			    keys, vals, n, param_error, &p);
		}
		json_decref(d);
	}
	/* Where items come from and where outputs go must stay in the store,
	 * and a prefix must name something: a job of 0 items would "complete"
	 * at once, like `coffer run` refuses empty input. */
	if (s->items != NULL && s->nitems == 0)
		add(errs, "inputs.items", "empty: a job needs at least one item");
	if (s->items_prefix != NULL) {
		if (escapes(s->items_prefix)) {
			add(errs, "inputs.prefix", "'%s' leaves the input store (an "
			    "absolute path or a '..' segment)", s->items_prefix);
		} else if (store != NULL) {
			struct coffer_store *st = NULL;
			size_t found = 0;

			if (coffer_store_open(store, 0, &st) != 0 ||
			    (coffer_store_list(st, s->items_prefix, count_cb, &found) != 0 &&
			    found == 0)) {
				add(errs, "inputs.prefix", "cannot list '%s' in %s: %s",
				    s->items_prefix, store, coffer_errdetail());
			} else if (found == 0) {
				add(errs, "inputs.prefix", "no object in %s has a key "
				    "starting with '%s'", store, s->items_prefix);
			}
			coffer_store_free(st);
			coffer_errclear();
		}
	}
	if (s->controller != NULL && strchr(s->controller, '/') == NULL) {
		const struct coffer_controller *d = NULL;
		void *h = NULL;

		if (coffer_controller_find(s->controller, &d, &h) != 0) {
			(void)mgr_controller_unknown(s->controller, "controller.name");
			json_array_append_new(errs, json_pack("{s:s, s:s}", "field",
			    "controller.name", "message", coffer_errdetail()));
		}
		coffer_controller_unload(h);
		coffer_errclear();
	}
	if (s->output_prefix != NULL && escapes(s->output_prefix))
		add(errs, "outputs.prefix", "'%s' leaves the output store (an "
		    "absolute path or a '..' segment)", s->output_prefix);
	/* A deadline the estimate says cannot be met: a warning, the client
	 * may know better (doc/api.md 3.1). */
	if (warnings != NULL && s->item_time_estimate_s > 0 && s->max_replicas > 0) {
		double items = s->items != NULL ? (double)s->nitems : -1, need;

		if (items < 0 && s->items_prefix != NULL && store != NULL) {
			struct coffer_store *st = NULL;
			size_t all = 0;

			if (coffer_store_open(store, 0, &st) == 0)
				(void)!coffer_store_list(st, s->items_prefix, count_all, &all);
			coffer_store_free(st);
			coffer_errclear();
			items = (double)all;
		}
		need = items * s->item_time_estimate_s / s->max_replicas;
		if (items > 0 && need > s->expected_time_s) {
			char w[300];

			snprintf(w, sizeof(w), "the deadline cannot be met: %.0f items x "
			    "%.3g s / %d replicas at most = %.0f s > expected_time_s %.0f s",
			    items, s->item_time_estimate_s, s->max_replicas, need,
			    s->expected_time_s);
			json_array_append_new(warnings, json_pack("{s:s, s:s}", "field",
			    "expected_time_s", "message", w));
		}
	}
	return json_array_size(errs) > before ? COFFER_E_FORMAT : 0;
}
