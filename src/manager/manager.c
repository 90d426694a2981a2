// SPDX-License-Identifier: Apache-2.0
// The manager daemon's life (mgr.h): open the job store, listen, stop the
// replicas an earlier incarnation left behind, resume unfinished jobs, tick
// the monitor, and on SIGINT/SIGTERM/SIGHUP stop every replica and exit. Jobs that
// were running stay "running" in the store; the next start resumes them.
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include "coffer/error.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/random.h"
#include "lib/redact.h"
#include "lib/signals.h"
#include "manager/conf.h"
#include "manager/mgr.h"
#include "manager/tokens.h"

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct mgr *m = arg;

	(void)fd;
	(void)what;
	if (!m->stopping) {
		m->ticks++;
		mgr_jobs_tick(m);
		m->child_exited = 0;
		mgr_standby_tick(m);
	}
}

/* The periodic tick: the same, said so (a log line may name the read
 * that saw something: this one, or one asked for). */
static void
on_periodic(evutil_socket_t fd, short what, void *arg)
{
	struct mgr *m = arg;

	m->tick_periodic = 1;
	on_tick(fd, what, arg);
	m->tick_periodic = 0;
}

/* A child exited: a local replica (or a command an actuator ran). The
 * tick that reaps it runs now, so that a job whose end is a replica's
 * exit (its reduce stage, doc/manager.md 9.4) ends there and not at the
 * next tick. A wake-up only: the actuator's reap decides what exited. */
static void
on_child(evutil_socket_t fd, short what, void *arg)
{
	struct mgr *m = arg;

	(void)fd;
	(void)what;
	m->child_exited = 1;
	mgr_tick_soon(m);
}

int
mgr_ticks_start(struct mgr *m)
{
	struct timeval tv;

	m->tick_ev = event_new(m->base, -1, EV_PERSIST, on_periodic, m);
	m->tick_soon_ev = event_new(m->base, -1, 0, on_tick, m);
	m->child_ev = evsignal_new(m->base, SIGCHLD, on_child, m);
	if (m->tick_ev == NULL || m->tick_soon_ev == NULL || m->child_ev == NULL)
		return coffer_errf(COFFER_E_NOMEM, "event_new failed");
	tv.tv_sec = m->cfg.tick_ms / 1000;
	tv.tv_usec = (m->cfg.tick_ms % 1000) * 1000;
	if (event_add(m->tick_ev, &tv) != 0 || event_add(m->child_ev, NULL) != 0)
		return coffer_errf(COFFER_E_INTERNAL, "event_add failed");
	return 0;
}

void
mgr_tick_soon(struct mgr *m)
{
	/* Not the periodic event: activated by hand, libevent would
	 * schedule its next run a period after its old deadline, one period
	 * late. Activating an active event again is a no-op, so ticks asked
	 * for at once run once. */
	event_active(m->tick_soon_ev, EV_TIMEOUT, 0);
}

void
mgr_tick_after(struct mgr *m, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	/* The one-shot again, with a timeout: a tick asked for at once
	 * meanwhile runs it once and cancels the timeout (not persistent). */
	if (event_add(m->tick_soon_ev, &tv) != 0)
		mgr_tick_soon(m);
}

void
mgr_ticks_stop(struct mgr *m)
{
	if (m->tick_ev != NULL)
		event_free(m->tick_ev);
	if (m->tick_soon_ev != NULL)
		event_free(m->tick_soon_ev);
	if (m->child_ev != NULL)
		event_free(m->child_ev);
	m->tick_ev = m->tick_soon_ev = m->child_ev = NULL;
}

/* SIGINT, SIGTERM or SIGHUP (lib/signals.h): each one logged with its
 * sender, so that an unexpected stop says who asked for it. */
static void
on_signal(evutil_socket_t fd, short what, void *arg)
{
	struct mgr *m = arg;
	struct coffer_signal s;
	int any = 0;

	(void)fd;
	(void)what;
	while (coffer_signal_take(&s)) {
		coffer_signal_log(&s, "signal received, stopping");
		any = 1;
	}
	if (!any)
		return;
	m->stopping = 1;
	event_base_loopexit(m->base, NULL);
}

static int
auth_cb(void *ctx, const char *token, enum http_scope *scope)
{
	struct mgr *m = ctx;

	return mgr_token_check(m->db, token, scope);
}

/* The absolute path of the store file, which may not exist yet. */
static int
abs_db_path(const char *path, char *out, size_t outlen)
{
	char dir[PATH_MAX], real[PATH_MAX], *d = NULL, *b = NULL, *dcopy = NULL,
	    *bcopy = NULL;
	int r = 0;

	if ((dcopy = coffer_strdup(path)) == NULL ||
	    (bcopy = coffer_strdup(path)) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	d = dirname(dcopy);
	b = basename(bcopy);
	snprintf(dir, sizeof(dir), "%s", d);
	if (realpath(dir, real) == NULL) {
		r = coffer_errf(COFFER_E_IO, "job store directory %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	if ((size_t)snprintf(out, outlen, "%s/%s", real, b) >= outlen)
		r = coffer_errf(COFFER_E_LIMIT, "job store path too long");
out:
	free(dcopy);
	free(bcopy);
	return r;
}

/*
 * One manager per job store: a second one would stop the first one's
 * replicas as orphans and run replicas for the same jobs. An flock on
 * "<store>.lock", which holds the owner's pid; the kernel drops it when
 * the process dies, however it dies.
 */
static int
lock_store(struct mgr *m)
{
	char path[4200], pid[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s.lock", m->db_abs);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (e == EWOULDBLOCK)
			return coffer_errf(COFFER_E_BUSY, "job store %s is in use by "
			    "another coffer-manager (pid %s): one manager per store",
			    m->db_abs, pid[0] ? pid : "?");
		return coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(e));
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid))
		coffer_warn("%s: cannot record the pid: %s", path, strerror(errno));
	m->lock_fd = fd;
	return 0;
}

static int
write_ready(const struct mgr *m)
{
	char url[300], line[302];

	http_server_url(m->http, m->cfg.listen, url, sizeof(url));
	coffer_logkv(COFFER_LOG_INFO, "listening", "url", url, NULL);
	if (m->cfg.ready_file == NULL)
		return 0;
	/* Written once the socket listens: a script may poll for it. */
	snprintf(line, sizeof(line), "%s\n", url);
	return coffer_file_write_atomic(m->cfg.ready_file, line, strlen(line),
	    0644, 0);
}

int
mgr_run(const struct mgr_config *cfg)
{
	struct mgr *m = NULL;
	struct http_server_opts ho;
	uint8_t rnd[16];
	char logdir[PATH_MAX], redis[1100];
	int r;

	if ((m = coffer_calloc(1, sizeof(*m))) == NULL)
		return COFFER_E_NOMEM;
	m->cfg = *cfg;
	if (m->cfg.tick_ms <= 0)
		m->cfg.tick_ms = 500;
	if (m->cfg.grace_ms <= 0)
		m->cfg.grace_ms = 10000;
	if (m->cfg.coordinator_timeout_ms <= 0)
		m->cfg.coordinator_timeout_ms = 10000;
	if (m->cfg.actuator == NULL)
		m->cfg.actuator = "local";
	m->start_ms = coffer_wall_ms();
	signal(SIGPIPE, SIG_IGN);

	m->lock_fd = -1;
	if ((r = abs_db_path(cfg->db_path, m->db_abs, sizeof(m->db_abs))) != 0 ||
	    (r = lock_store(m)) != 0)
		goto out;
	if (m->cfg.log_dir == NULL) {
		snprintf(logdir, sizeof(logdir), "%s.logs", m->db_abs);
		m->cfg.log_dir = logdir;
	}
	if (mkdir(m->cfg.log_dir, 0700) != 0 && errno != EEXIST) {
		r = coffer_errf(COFFER_E_IO, "log directory %s: %s", m->cfg.log_dir,
		    strerror(errno));
		goto out;
	}
	if ((r = coffer_random(rnd, sizeof(rnd))) != 0)
		goto out;
	coffer_hex_encode(rnd, sizeof(rnd), m->incarnation);
	if ((r = mgr_db_open(m->db_abs, &m->db)) != 0 ||
	    (r = mgr_db_meta_set(m->db, "incarnation", m->incarnation)) != 0)
		goto out;
	if ((m->base = event_base_new()) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "event_base_new failed");
		goto out;
	}
	ho = m->cfg.http;
	ho.listen = m->cfg.listen;
	ho.tls_cert = m->cfg.tls_cert;
	ho.tls = &http_tls_openssl;
	ho.tls_key = m->cfg.tls_key;
	ho.routes = mgr_routes;
	ho.nroutes = mgr_nroutes;
	if (m->cfg.asperathos_open) {
		/* Asperathos's clients send no token: its routes, and only
		 * those, need none. main() allowed it on loopback only. */
		if ((m->routes = coffer_mallocarray(mgr_nroutes,
		    sizeof(*m->routes))) == NULL) {
			r = COFFER_E_NOMEM;
			goto out;
		}
		memcpy(m->routes, mgr_routes, mgr_nroutes * sizeof(*m->routes));
		for (size_t i = 0; i < mgr_nroutes; i++)
			if (strncmp(m->routes[i].pattern, "/submissions", 12) == 0)
				m->routes[i].scope = HTTP_SCOPE_NONE;
		ho.routes = m->routes;
		coffer_warn("--asperathos-open: the /submissions routes need no "
		    "token: anyone who can reach %s can submit and stop Asperathos "
		    "jobs", m->cfg.listen);
	}
	ho.auth = auth_cb;
	ho.ctx = m;
	if ((r = http_server_new(m->base, &ho, &m->http)) != 0)
		goto out;
	if ((r = mgr_orphans_find(m)) != 0)
		coffer_warn("looking for earlier replicas: %s", coffer_errdetail());
	if ((r = mgr_standby_start(m)) != 0)
		goto out;
	if ((r = mgr_jobs_load(m)) != 0)
		goto out;
	if ((r = mgr_ticks_start(m)) != 0)
		goto out;
	if ((r = coffer_signal_watch_stop(NULL)) < 0) {
		r = COFFER_E_INTERNAL;
		goto out;
	}
	if ((m->sig_ev[0] = event_new(m->base, r, EV_READ | EV_PERSIST,
	    on_signal, m)) == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "event_new failed");
		goto out;
	}
	if (event_add(m->sig_ev[0], NULL) != 0) {
		r = coffer_errf(COFFER_E_INTERNAL, "event_add failed");
		goto out;
	}
	/* Resume at once, not one tick later. */
	mgr_jobs_tick(m);
	if ((r = write_ready(m)) != 0)
		goto out;
	/* Never the queue's password (doc/manager.md section 1). */
	coffer_redact_url(m->cfg.redis_url, redis, sizeof(redis));
	coffer_logkv(COFFER_LOG_INFO, "manager started", "store", m->db_abs,
	    "incarnation", m->incarnation, "redis", redis, NULL);
	if (event_base_dispatch(m->base) < 0) {
		r = coffer_errf(COFFER_E_INTERNAL, "event loop failed");
		goto out;
	}
	r = 0;
out:
	m->stopping = 1;
	/* Submissions waiting for a coordinator end, stored nowhere (their
	 * answers go with their connections). */
	mgr_conf_shutdown(m);
	mgr_waiters_shutdown(m);
	/* Those answers (503, the manager is stopping) go out now, before the
	 * replicas' grace period, and at all: freed in their buffers they
	 * never would, and a held request would see the connection close
	 * with no answer (doc/manager.md 7.1). No tick and no signal runs
	 * meanwhile. */
	mgr_ticks_stop(m);
	for (int i = 0; i < 2; i++)
		if (m->sig_ev[i] != NULL) {
			event_free(m->sig_ev[i]);
			m->sig_ev[i] = NULL;
		}
	http_server_drain(m->http, MGR_DRAIN_MS);
	/* Idle standby workers go first: EOF on their stdin ends them at
	 * once, and none is then taken by a job being stopped. */
	mgr_standby_stop(m);
	mgr_jobs_shutdown(m);
	mgr_standby_free(m);
	free(m->orphans);
	http_server_free(m->http);
	free(m->routes);
	for (int i = 0; i < 2; i++)
		if (m->sig_ev[i] != NULL)
			event_free(m->sig_ev[i]);
	mgr_ticks_stop(m);
	if (m->base != NULL)
		event_base_free(m->base);
	mgr_db_close(m->db);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	free(m);
	if (r == 0)
		coffer_info("manager stopped");
	return r;
}
