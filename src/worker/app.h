/* SPDX-License-Identifier: Apache-2.0 */
/* Running the analysis app, either kind (doc/worker.md section 4): a
 * plugin called in the runner process, or an executable run per item.
 * Crash isolation comes from the process split (worker/supervisor.h): the
 * runner that calls the app is a child of the supervisor that holds the
 * item's lease. */
#ifndef COFFER_WORKER_APP_H
#define COFFER_WORKER_APP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "worker/worker.h"

struct app_info {
	char name[64];
	char version[64];
	int kind;          /* APP_KIND_PLUGIN or APP_KIND_EXEC */
	int has_reduce;
};

/* How to wait while an executable runs: hb() (may be NULL) is called every
 * hb_every_ms; a non-zero return abandons the item (the app is killed)
 * and is returned by the call. */
struct app_wait {
	int timeout_ms;    /* 0 = none */
	int hb_every_ms;
	int (*hb)(void *arg);
	void *arg;
};

struct app;

/* Check and load the app. A plugin is dlopen()ed here, its ABI checked
 * (doc/format/app-abi.md section 3) and its init() called with the job's
 * parameters. Errors: COFFER_E_ABI, COFFER_E_NOTFOUND, COFFER_E_PERM,
 * COFFER_E_APP (init failed), with the app's message in the detail. */
int app_open(const struct worker_config *cfg, struct app **out,
    struct app_info *info) __attribute__((warn_unused_result));

/* The same for a plugin already in this process: def is what its entry
 * point would return (tests, fuzz targets). Checks 4 to 6 and init(). */
int app_open_def(const struct worker_config *cfg, const struct coffer_app *def,
    struct app **out, struct app_info *info) __attribute__((warn_unused_result));

/*
 * Map one item: in -> out; owner (NULL: unknown) is the input's data owner (out is bounded by cfg->max_item_bytes). On
 * failure returns a negative code and writes the per-item error to err:
 * COFFER_E_APP (the app failed or an executable crashed), COFFER_E_TIMEOUT
 * (an executable ran too long), COFFER_E_LIMIT (output too large), or
 * whatever w->hb returned. A plugin's own time limit is enforced by the
 * supervisor, which kills the runner.
 */
int app_process(struct app *a, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen, struct coffer_buf *out,
    const struct app_wait *w, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* The reduce stage (plugins only). */
int app_reduce_add(struct app *a, const char *id, const uint8_t *in,
    size_t inlen, char *err, size_t errlen) __attribute__((warn_unused_result));
int app_reduce_finish(struct app *a, struct coffer_buf *out, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* fini() and free. NULL is a no-op. */
void app_close(struct app *a);

/* Kind-specific halves (plugin.c, app_exec.c). */
struct plugin;
int plugin_load(const struct worker_config *cfg, struct plugin **out,
    struct app_info *info) __attribute__((warn_unused_result));
int plugin_from_def(const struct worker_config *cfg, const struct coffer_app *a,
    struct plugin **out, struct app_info *info)
	__attribute__((warn_unused_result));
/* type: PLUGIN_PROCESS, PLUGIN_REDUCE_ADD, PLUGIN_REDUCE_FINISH. */
enum { PLUGIN_PROCESS = 1, PLUGIN_REDUCE_ADD = 2, PLUGIN_REDUCE_FINISH = 3 };
int plugin_call(struct plugin *p, int type, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen, struct coffer_buf *out,
    char *err, size_t errlen) __attribute__((warn_unused_result));
void plugin_unload(struct plugin *p);

int app_exec_check(const struct worker_config *cfg, struct app_info *info)
	__attribute__((warn_unused_result));
int app_exec_run(const struct worker_config *cfg, const char *id,
    uint32_t attempt, const char *owner, const uint8_t *in, size_t inlen,
    struct coffer_buf *out,
    const struct app_wait *w, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Poll fds like poll(2), calling w->hb every w->hb_every_ms and failing
 * with COFFER_E_TIMEOUT after deadline_ms (monotonic; 0 = none). EINTR is
 * retried. Returns the number of ready fds (> 0), 0 once wake_ms
 * (monotonic; 0 = none) has come with none ready, or a negative code.
 */
struct pollfd;
int app_poll(struct pollfd *fds, int n, const struct app_wait *w,
    int64_t deadline_ms, int64_t *next_hb_ms, int64_t wake_ms)
	__attribute__((warn_unused_result));

/* "killed by signal 11 (Segmentation fault)" / "exited with status 3". */
void app_describe_status(int status, char *out, size_t outlen);

#endif
