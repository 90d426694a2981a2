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

/* How to wait while an app process runs: hb() (may be NULL) is called
 * every hb_every_ms; a non-zero return abandons the item (the app is
 * killed) and is returned by the call. */
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
 * Load the app of a confidential job (doc/worker.md 9.1): from app_fd,
 * the file whose SHA-256 the runner checked, never by its path again; with
 * params (those of the coordinator's answer, borrowed until app_close).
 * A plugin runs in a host process of its own (worker/apphost.c), an
 * executable as always in a process per item; neither ever shares memory
 * with a key. host: a plugin host apphost_spawn() started over app_fd
 * (or a descriptor of the same open file) before the hash was checked,
 * taken over (stopped on failure, and for an executable app), or NULL.
 */
struct apphost;
int app_open_isolated(const struct worker_config *cfg, int app_fd,
    struct apphost *host, const struct coffer_app_param *params, size_t nparams,
    struct app **out, struct app_info *info) __attribute__((warn_unused_result));

/*
 * Map one item: in -> out (out is bounded by cfg->max_item_bytes); owner
 * (NULL: unknown) is the input's data owner, for the app. On
 * failure returns a negative code and writes the per-item error to err:
 * COFFER_E_APP (the app failed or crashed), COFFER_E_TIMEOUT (it ran too
 * long, if the worker keeps this app's time), COFFER_E_LIMIT (output too
 * large), or whatever w->hb returned; *reported (may be NULL) is then
 * non-zero when the app itself reported the failure (a plugin's negative
 * status, negated; 256 + an executable's exit status) and 0 for a crash,
 * a timeout or the limit. An in-process plugin's time limit is enforced by
 * the supervisor, which kills the runner.
 */
int app_process(struct app *a, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen, struct coffer_buf *out,
    const struct app_wait *w, uint32_t *reported, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* An input given in pieces (a big confidential input, doc/worker.md 9.4
 * BI4): len bytes in all; next() gives the next *n > 0 of them at *p
 * (valid until its next call) or fails, which ends the call. */
struct app_src {
	size_t len;
	int (*next)(void *arg, const uint8_t **p, size_t *n);
	void *arg;
};
/* app_process with the input from src (worker/app.h, struct app_src):
 * only for a plugin in its host (app_can_stream 1); else
 * COFFER_E_UNSUPPORTED. A failure of src is returned as is. */
int app_can_stream(const struct app *a);
int app_process_src(struct app *a, const char *id, uint32_t attempt,
    const char *owner, const struct app_src *src, struct coffer_buf *out,
    const struct app_wait *w, uint32_t *reported, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* A plugin in its host only (else no-ops, -1): whether an output the
 * host passes in a memfd (doc/worker.md 9.5 HF1 to HF5) is kept for
 * app_take_out_fd instead of read into out; that output's descriptor (the
 * caller closes it) and length, or -1. */
void app_keep_fd(struct app *a, int on);
int app_take_out_fd(struct app *a, size_t *len);

/* The reduce stage (plugins only); *reported (may be NULL) as for
 * app_process: non-zero when the app itself reported the failure. */
int app_reduce_add(struct app *a, const char *id, const uint8_t *in,
    size_t inlen, uint32_t *reported, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int app_reduce_finish(struct app *a, struct coffer_buf *out, uint32_t *reported,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/* fini() and free. NULL is a no-op. */
void app_close(struct app *a);

/*
 * The same items a batch at a time where the app allows it (a plugin in
 * its host, doc/worker.md 9.5 HB1 to HB6), with app_process's results:
 * app_batch_room is 0 where it does not (call app_process instead); else
 * as apphost_batch_* above. A failure of the app is the item's result;
 * app_batch_run fails only for a misuse.
 */
size_t app_batch_room(struct app *a);
int app_batch_add(struct app *a, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen)
	__attribute__((warn_unused_result));
int app_batch_run(struct app *a, const struct app_wait *w, size_t *first,
    size_t *count) __attribute__((warn_unused_result));
int app_batch_result(struct app *a, size_t i, struct coffer_buf *out,
    uint32_t *reported, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void app_batch_end(struct app *a);

/* Kind-specific halves (plugin.c, app_exec.c). */
struct plugin;
/* init() gets params (usually cfg->params). */
int plugin_load(const struct worker_config *cfg,
    const struct coffer_app_param *params, size_t nparams, struct plugin **out,
    struct app_info *info) __attribute__((warn_unused_result));
int plugin_from_def(const struct worker_config *cfg, const struct coffer_app *a,
    const struct coffer_app_param *params, size_t nparams, struct plugin **out,
    struct app_info *info) __attribute__((warn_unused_result));
/* type: PLUGIN_PROCESS, PLUGIN_REDUCE_ADD, PLUGIN_REDUCE_FINISH. */
enum { PLUGIN_PROCESS = 1, PLUGIN_REDUCE_ADD = 2, PLUGIN_REDUCE_FINISH = 3 };
int plugin_call(struct plugin *p, int type, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen, struct coffer_buf *out,
    char *err, size_t errlen) __attribute__((warn_unused_result));
void plugin_unload(struct plugin *p);

int app_exec_check(const struct worker_config *cfg, struct app_info *info)
	__attribute__((warn_unused_result));
/* app_fd >= 0: execute that file (fexecve) instead of cfg->app. */
int app_exec_run(const struct worker_config *cfg,
    const struct coffer_app_param *params, size_t nparams, int app_fd,
    const char *id, uint32_t attempt, const char *owner, const uint8_t *in,
    size_t inlen, struct coffer_buf *out, const struct app_wait *w,
    uint32_t *reported, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * The environment of an app process (doc/worker.md 4.3): what a program
 * expects of a session, the --app-env names, COFFER_PARAM_<key> per
 * parameter, and with an id (not NULL) the item's variables
 * (COFFER_ITEM_OWNER when owner is not NULL). Free with
 * app_env_free (it wipes the parameters: one may be the app's secret).
 */
int app_env_build(const struct worker_config *cfg,
    const struct coffer_app_param *params, size_t nparams, const char *id,
    uint32_t attempt, const char *owner, char ***envp, char ***owned,
    size_t *nowned)
	__attribute__((warn_unused_result));
void app_env_free(char **envp, char **owned, size_t nowned);
/* In a forked child that will execve an app (or the plugin host): its own
 * process group, default signals, none blocked, killed with its parent.
 * Async-signal-safe. */
void app_child_setup(void);

/* The plugin host (worker/apphost.c): started with execve, init()ed with
 * params, then called like plugin_call (type PLUGIN_*), with the same
 * errors as app_process. */
int apphost_start(const struct worker_config *cfg, int app_fd,
    const struct coffer_app_param *params, size_t nparams,
    struct apphost **out, struct app_info *info)
	__attribute__((warn_unused_result));
/* apphost_start in two halves: the host process (fork, execve), which
 * waits for its parameters and loads nothing before them; then F_INIT
 * with them (apphost_stop(h) on failure is the caller's). */
int apphost_spawn(const struct worker_config *cfg, int app_fd,
    struct apphost **out) __attribute__((warn_unused_result));
int apphost_init(struct apphost *h, const struct coffer_app_param *params,
    size_t nparams, struct app_info *info) __attribute__((warn_unused_result));
int apphost_call(struct apphost *h, int type, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen, struct coffer_buf *out,
    const struct app_wait *w, uint32_t *reported, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* apphost_call of PLUGIN_PROCESS with its input from src, in the frame:
 * the host calls the app only once it has the whole input. A failure of
 * src kills the host and is returned, its detail in err. */
int apphost_call_src(struct apphost *h, const char *id, uint32_t attempt,
    const char *owner, const struct app_src *src, struct coffer_buf *out,
    const struct app_wait *w, uint32_t *reported, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void apphost_stop(struct apphost *h);
/* The body of the host's DONE answer (status <= 0, an error text of at
 * most 1024 bytes, the output), pointers into p; the output in the frame
 * (*data points at it) or, when half > 0 (the host shares a region with
 * halves of that size), in the region's output half (*data NULL, *ndata
 * <= half) or, when fd_ok (one descriptor came with the frame) and
 * half > 0, in that descriptor (*data NULL, *in_fd 1, *ndata > half:
 * doc/worker.md 9.5 HF1). COFFER_E_PROTO if it is out of that format. */
/* doc/worker.md 9.5, HF3 to HF5: the checks of an output passed in a
 * memfd (COFFER_E_PROTO, named, when it fails them); whether the next
 * PROCESS's output in a memfd is kept (on) for apphost_take_out_fd, which
 * gives it (-1: none; the caller closes it) and its length, else read
 * into the call's out; pread of exactly n bytes (COFFER_E_IO). */
int apphost_check_out_fd(int fd, size_t len, size_t max)
    __attribute__((warn_unused_result));
void apphost_keep_fd(struct apphost *h, int on);
int apphost_take_out_fd(struct apphost *h, size_t *len);
int apphost_pread(int fd, uint64_t off, void *p, size_t n)
    __attribute__((warn_unused_result));

int apphost_parse_done(const uint8_t *p, size_t n, size_t half, int fd_ok,
    int32_t *status, const uint8_t **msg, uint32_t *nmsg,
    const uint8_t **data, uint32_t *ndata, int *in_fd)
    __attribute__((warn_unused_result));

/*
 * A batch's items in one exchange (doc/worker.md 9.5, HB1 to HB6), with a
 * host that shares the region. apphost_batch_add copies an item's input
 * into the input half after the others (id and owner are borrowed until
 * apphost_batch_end): COFFER_E_LIMIT if it does not fit what is left
 * (apphost_batch_room: 0 when the host does not batch). apphost_batch_run
 * runs one exchange for the items not yet answered and says which got
 * their results (*count of them from *first; 0: none this time, call
 * again: after a failed exchange of several, each runs alone, HB5);
 * apphost_batch_result gives item i's as apphost_call would (its output
 * copied into out), valid until the next apphost_batch_run. Every item
 * has a result once *first + *count is apphost_batch_size.
 * apphost_batch_end wipes the region and forgets the batch.
 */
#define APPHOST_BATCH_MAX WORKER_BATCH_MAX
size_t apphost_batch_room(const struct apphost *h);
int apphost_batch_add(struct apphost *h, const char *id, uint32_t attempt,
    const char *owner, const uint8_t *in, size_t inlen)
	__attribute__((warn_unused_result));
size_t apphost_batch_size(const struct apphost *h);
int apphost_batch_run(struct apphost *h, const struct app_wait *w,
    size_t *first, size_t *count) __attribute__((warn_unused_result));
int apphost_batch_result(struct apphost *h, size_t i, struct coffer_buf *out,
    uint32_t *reported, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void apphost_batch_end(struct apphost *h);
/* One answer of a BATCH_DONE frame, pointers into it. */
struct apphost_answer {
	int32_t status;
	const uint8_t *msg;
	uint32_t nmsg;
	uint32_t len, off;        /* off 0xffffffff: the output in the frame */
	const uint8_t *data;      /* then its bytes; else NULL */
};
/* The body of BATCH_DONE to a BATCH of `asked` items (rules BD1 to BD6):
 * a[0..*count-1]; COFFER_E_PROTO naming the rule broken. */
int apphost_parse_batch_done(const uint8_t *p, size_t n, size_t asked,
    size_t half, size_t max_item, struct apphost_answer *a, size_t *count)
	__attribute__((warn_unused_result));
/* `coffer-worker --app-host MAX_ITEM_BYTES`: the host process itself,
 * with its socket on descriptor 3, the plugin file on 4 and the shared
 * region (doc/worker.md 9.5), if any, on 5. */
int apphost_main(int argc, char **argv);

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
