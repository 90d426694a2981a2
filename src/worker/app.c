// SPDX-License-Identifier: Apache-2.0
// The app front (worker/app.h): one interface over both app kinds, and
// the heartbeat-aware wait executables use while they run.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/mem.h"
#include "proto/itemproof.h"
#include "worker/app.h"

struct app {
	const struct worker_config *cfg;
	struct app_info info;
	struct plugin *plugin;  /* a plugin in this process, or */
	struct apphost *host;   /* a plugin in its host (confidential), or an
	                           executable (both NULL) */
	const struct coffer_app_param *params; /* an executable's parameters */
	size_t nparams;
	int app_fd;             /* >= 0: run that file (confidential) */
};

/*
 * The three ways to load an app share this: a struct app with the
 * parameters an executable gets and the file to run (app_fd, or -1 for
 * cfg->app), then load() fills a->plugin, a->host or nothing and a->info.
 */
enum app_how { HOW_IN_PROCESS, HOW_ISOLATED, HOW_DEF };

static int
open_app(const struct worker_config *cfg, enum app_how how,
    const struct coffer_app *def, int app_fd, struct apphost *host,
    const struct coffer_app_param *params, size_t nparams, struct app **out,
    struct app_info *info)
{
	struct app *a = coffer_calloc(1, sizeof(*a));
	int r;

	if (a == NULL) {
		apphost_stop(host);
		return coffer_errf(COFFER_E_NOMEM, "app");
	}
	a->cfg = cfg;
	a->params = params;
	a->nparams = nparams;
	a->app_fd = app_fd;
	if (how == HOW_DEF)
		r = plugin_from_def(cfg, def, params, nparams, &a->plugin, &a->info);
	else if (cfg->app_kind != APP_KIND_PLUGIN)
		r = app_exec_check(cfg, &a->info);
	else if (how == HOW_ISOLATED && host != NULL) {
		/* Started while the runner attested (doc/worker.md 9.3). */
		if ((r = apphost_init(host, params, nparams, &a->info)) == 0)
			a->host = host;
		else
			apphost_stop(host);
		host = NULL;
	} else if (how == HOW_ISOLATED)
		r = apphost_start(cfg, app_fd, params, nparams, &a->host, &a->info);
	else
		r = plugin_load(cfg, params, nparams, &a->plugin, &a->info);
	apphost_stop(host); /* not for this app (an executable) */
	if (r != 0) {
		free(a);
		return r;
	}
	if (info != NULL)
		*info = a->info;
	*out = a;
	return 0;
}

int
app_open(const struct worker_config *cfg, struct app **out, struct app_info *info)
{
	return open_app(cfg, HOW_IN_PROCESS, NULL, -1, NULL, cfg->params, cfg->nparams,
	    out, info);
}

int
app_open_isolated(const struct worker_config *cfg, int app_fd,
    struct apphost *host, const struct coffer_app_param *params, size_t nparams,
    struct app **out, struct app_info *info)
{
	return open_app(cfg, HOW_ISOLATED, NULL, app_fd, host, params, nparams, out,
	    info);
}

int
app_open_def(const struct worker_config *cfg, const struct coffer_app *def,
    struct app **out, struct app_info *info)
{
	return open_app(cfg, HOW_DEF, def, -1, NULL, cfg->params, cfg->nparams, out,
	    info);
}

/* An app's error code as proved: codes with the high bit set are the
 * worker's own (doc/format/item-proof.md section 2), so an app's is
 * proved as 0x7fffffff. */
static uint32_t
app_code(uint32_t rep)
{
	return rep & COFFER_ITEMPROOF_ERROR_WORKER ? 0x7fffffffu : rep;
}

int
app_process(struct app *a, const char *id, uint32_t attempt, const char *owner,
    const uint8_t *in, size_t inlen, struct coffer_buf *out,
    const struct app_wait *w, uint32_t *reported, char *err, size_t errlen)
{
	uint32_t rep = 0;
	int r;

	err[0] = '\0';
	if (a->host != NULL) {
		r = apphost_call(a->host, PLUGIN_PROCESS, id, attempt, owner, in,
		    inlen, out, w, &rep, err, errlen);
	} else if (a->plugin != NULL) {
		/* Here the plugin's own status is the only failure there is:
		 * a crash takes this process with it. */
		r = plugin_call(a->plugin, PLUGIN_PROCESS, id, attempt, owner, in,
		    inlen, out, err, errlen);
		if (r != 0 && r != COFFER_E_LIMIT)
			rep = (uint32_t)-(int64_t)r;
	} else {
		r = app_exec_run(a->cfg, a->params, a->nparams, a->app_fd, id,
		    attempt, owner, in, inlen, out, w, &rep, err, errlen);
	}
	if (reported != NULL)
		*reported = r != 0 ? app_code(rep) : 0;
	return r;
}

int
app_can_stream(const struct app *a)
{
	return a->host != NULL;
}

int
app_process_src(struct app *a, const char *id, uint32_t attempt,
    const char *owner, const struct app_src *src, struct coffer_buf *out,
    const struct app_wait *w, uint32_t *reported, char *err, size_t errlen)
{
	uint32_t rep = 0;
	int r;

	err[0] = '\0';
	if (a->host == NULL) {
		snprintf(err, errlen, "this app takes no streamed input");
		return COFFER_E_UNSUPPORTED;
	}
	r = apphost_call_src(a->host, id, attempt, owner, src, out, w, &rep, err,
	    errlen);
	if (reported != NULL)
		*reported = r != 0 ? app_code(rep) : 0;
	return r;
}

void
app_keep_fd(struct app *a, int on)
{
	if (a->host != NULL)
		apphost_keep_fd(a->host, on);
}

int
app_take_out_fd(struct app *a, size_t *len)
{
	*len = 0;
	return a->host != NULL ? apphost_take_out_fd(a->host, len) : -1;
}

size_t
app_batch_room(struct app *a)
{
	return a->host != NULL ? apphost_batch_room(a->host) : 0;
}

int
app_batch_add(struct app *a, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen)
{
	if (a->host == NULL)
		return coffer_errf(COFFER_E_UNSUPPORTED, "no batches for this app");
	return apphost_batch_add(a->host, id, attempt, owner, in, inlen);
}

int
app_batch_run(struct app *a, const struct app_wait *w, size_t *first,
    size_t *count)
{
	if (a->host == NULL)
		return coffer_errf(COFFER_E_UNSUPPORTED, "no batches for this app");
	return apphost_batch_run(a->host, w, first, count);
}

int
app_batch_result(struct app *a, size_t i, struct coffer_buf *out,
    uint32_t *reported, char *err, size_t errlen)
{
	uint32_t rep = 0;
	int r;

	err[0] = '\0';
	r = apphost_batch_result(a->host, i, out, &rep, err, errlen);
	if (reported != NULL)
		*reported = r != 0 ? app_code(rep) : 0;
	return r;
}

void
app_batch_end(struct app *a)
{
	if (a->host != NULL)
		apphost_batch_end(a->host);
}

/* The app's own failure code of a reduce call, as app_process gives it. */
static int
reduce_call(struct app *a, int type, const char *id, const uint8_t *in,
    size_t inlen, struct coffer_buf *out, uint32_t *reported, char *err,
    size_t errlen)
{
	uint32_t rep = 0;
	int r;

	err[0] = '\0';
	if ((a->plugin == NULL && a->host == NULL) || !a->info.has_reduce) {
		snprintf(err, errlen, "the app has no reduce stage");
		r = COFFER_E_UNSUPPORTED;
	} else if (a->host != NULL) {
		r = apphost_call(a->host, type, id, 0, NULL, in, inlen, out, NULL,
		    &rep, err, errlen);
	} else {
		r = plugin_call(a->plugin, type, id, 0, NULL, in, inlen, out, err,
		    errlen);
		if (r != 0 && r != COFFER_E_LIMIT)
			rep = (uint32_t)-(int64_t)r;
	}
	if (reported != NULL)
		*reported = r != 0 ? app_code(rep) : 0;
	return r;
}

int
app_reduce_add(struct app *a, const char *id, const uint8_t *in, size_t inlen,
    uint32_t *reported, char *err, size_t errlen)
{
	return reduce_call(a, PLUGIN_REDUCE_ADD, id, in, inlen, NULL, reported,
	    err, errlen);
}

int
app_reduce_finish(struct app *a, struct coffer_buf *out, uint32_t *reported,
    char *err, size_t errlen)
{
	return reduce_call(a, PLUGIN_REDUCE_FINISH, "", NULL, 0, out, reported,
	    err, errlen);
}

void
app_close(struct app *a)
{
	if (a == NULL)
		return;
	plugin_unload(a->plugin);
	apphost_stop(a->host);
	free(a);
}

int
app_poll(struct pollfd *fds, int n, const struct app_wait *w, int64_t deadline_ms,
    int64_t *next_hb_ms, int64_t wake_ms)
{
	for (;;) {
		int64_t now = coffer_mono_ms(), wait = -1;
		int k;

		if (w != NULL && w->hb != NULL && w->hb_every_ms > 0) {
			if (now >= *next_hb_ms) {
				int r = w->hb(w->arg);

				if (r != 0)
					return r;
				now = coffer_mono_ms();
				*next_hb_ms = now + w->hb_every_ms;
			}
			wait = *next_hb_ms - now;
		}
		if (deadline_ms > 0) {
			if (now >= deadline_ms)
				return coffer_errf(COFFER_E_TIMEOUT, "app timed out");
			if (wait < 0 || deadline_ms - now < wait)
				wait = deadline_ms - now;
		}
		if (wake_ms > 0) {
			if (now >= wake_ms)
				return 0;
			if (wait < 0 || wake_ms - now < wait)
				wait = wake_ms - now;
		}
		k = poll(fds, (nfds_t)n, wait > 2000000000 ? 2000000000 : (int)wait);
		if (k > 0)
			return k;
		if (k < 0 && errno != EINTR)
			return coffer_errf(COFFER_E_IO, "poll: %s", strerror(errno));
	}
}

void
app_describe_status(int status, char *out, size_t outlen)
{
	if (WIFEXITED(status))
		snprintf(out, outlen, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, outlen, "killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(out, outlen, "ended with wait status 0x%x", status);
}
