// SPDX-License-Identifier: Apache-2.0
// `coffer up`: the whole control plane on this machine with no
// configuration: a private redis-server, coffer-manager with the local
// actuator, and an admin token. It prints the URL and the token, writes
// them to a state file (0600) for `coffer job`, and on SIGINT or SIGTERM
// stops the manager (which stops its workers) and Redis, by PID.
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "queue/redis_server.h"

extern char **environ;

static const char usage_text[] =
    "coffer up [--dir DIR] [--port PORT] [--grace-ms N]";

static const char help_text[] =
    "Run the control plane on this machine (doc/manager.md section 7): a\n"
    "private redis-server, an admin token and coffer-manager with the local\n"
    "actuator. Prints the URL and the token, writes them to a state file\n"
    "(0600) that 'coffer job' reads, and runs until Ctrl-C or SIGTERM, then\n"
    "stops the manager (and its workers) and Redis.\n"
    "\n"
    "  --dir DIR       data directory: Redis's data, the job store, the object\n"
    "                  store, the manager's log (default\n"
    "                  $XDG_DATA_HOME/coffer/up or ~/.local/share/coffer/up)\n"
    "  --port PORT     the manager's port on 127.0.0.1 (default 0: a free one)\n"
    "  --grace-ms N    SIGTERM-to-SIGKILL time for the workers (default 5000)\n";

#define READY_TIMEOUT_MS 20000

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* The directory of this program (where coffer-manager and coffer-worker
 * are). */
static int
self_dir(char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return coffer_errf(COFFER_E_IO, "/proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return coffer_errf(COFFER_E_IO, "no directory in %s", self);
	*slash = '\0';
	if ((size_t)snprintf(out, outlen, "%s", self) >= outlen)
		return coffer_errf(COFFER_E_LIMIT, "path too long");
	return 0;
}

static int
mkdirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return coffer_errf(COFFER_E_LIMIT, "path too long: %s", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return coffer_errf(COFFER_E_IO, "mkdir %s: %s", tmp,
			    strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return coffer_errf(COFFER_E_IO, "mkdir %s: %s", tmp, strerror(errno));
	return 0;
}

static int
default_dir(char *out, size_t outlen)
{
	const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(out, outlen, "%s/coffer/up", x);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, outlen, "%s/.local/share/coffer/up", home);
	else
		return coffer_errf(COFFER_E_NOTFOUND,
		    "HOME is not set: give --dir");
	if (n < 0 || (size_t)n >= outlen)
		return coffer_errf(COFFER_E_LIMIT, "path too long");
	return 0;
}

/* Run argv, its stdout into out; 0 if it exited 0. */
static int
run_capture(char *const argv[], struct coffer_buf *out)
{
	posix_spawn_file_actions_t fa;
	int fds[2], st = 0, r = 0;
	pid_t pid;
	char buf[512];
	ssize_t n;

	if (pipe(fds) != 0)
		return coffer_errf(COFFER_E_IO, "pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	errno = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (errno != 0) {
		close(fds[0]);
		return coffer_errf(COFFER_E_IO, "%s: %s", argv[0], strerror(errno));
	}
	while ((n = read(fds[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && r == 0)
			r = coffer_buf_put(out, buf, (size_t)n);
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
		r = coffer_errf(COFFER_E_IO, "%s failed (status %d)", argv[0], st);
	return r;
}

static int
spawn(char *const argv[], const char *log, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def;
	int e;

	/* Its own process group (a Ctrl-C at the terminal reaches only
	 * `coffer up`, which stops everything in order) and default signal
	 * dispositions (a shell's background job ignores SIGINT). */
	posix_spawnattr_init(&at);
	sigemptyset(&def);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log,
	    O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	e = posix_spawn(pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (e != 0)
		return coffer_errf(COFFER_E_IO, "%s: %s", argv[0], strerror(e));
	return 0;
}

/* SIGTERM, wait up to ms, then SIGKILL; reap. */
static void
stop_pid(pid_t pid, int ms)
{
	int64_t deadline = coffer_mono_ms() + ms;
	int st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	while (coffer_mono_ms() < deadline) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid || (w < 0 && errno == ECHILD))
			return;
		usleep(20 * 1000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

static int
write_state(const char *path, const char *url, const char *token, pid_t mpid,
    const struct coffer_redis_server *rs, const char *dir)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16);
	json_t *j;
	char sdir[PATH_MAX], *slash;
	int r;

	snprintf(sdir, sizeof(sdir), "%s", path);
	if ((slash = strrchr(sdir, '/')) != NULL) {
		*slash = '\0';
		if ((r = mkdirs(sdir, 0700)) != 0)
			return r;
	}
	j = json_pack("{s:s, s:s, s:i, s:i, s:i, s:s, s:s}", "url", url, "token",
	    token, "pid", (int)getpid(), "manager_pid", (int)mpid, "redis_pid",
	    (int)rs->pid, "redis_url", rs->url, "dir", dir);
	if (j == NULL)
		return COFFER_E_NOMEM;
	r = coffer_json_dump(j, &b);
	json_decref(j);
	if (r == 0 && (r = coffer_buf_puts(&b, "\n")) == 0)
		r = coffer_file_write_atomic(path, b.data, b.len, 0600, 0);
	coffer_buf_release_secret(&b);
	return r;
}

const struct option cli_up_options[] = {
	{ "dir", required_argument, NULL, 'd' },
	{ "port", required_argument, NULL, 'p' },
	{ "grace-ms", required_argument, NULL, 'g' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
cmd_up(int argc, char **argv)
{
	struct coffer_redis_server_opts ro;
	struct coffer_redis_server *rs = NULL;
	struct coffer_buf tokbuf = COFFER_BUF_INIT_SECRET(4096);
	struct coffer_buf urlbuf = COFFER_BUF_INIT(4096);
	char dir[PATH_MAX] = "", bindir[PATH_MAX], mgr[PATH_MAX], db[PATH_MAX],
	    rdir[PATH_MAX], store[PATH_MAX], readyf[PATH_MAX], mlog[PATH_MAX],
	    statef[PATH_MAX], listen[64], apps[PATH_MAX], grace[16] = "5000";
	char *targv[10], *margv[24];
	const char *dir_opt = NULL;
	long port = 0;
	pid_t mpid = -1;
	struct sigaction sa, old_int, old_term;
	int c, r, rc = CLI_FAIL, n = 0, have_apps;
	char *end = NULL;
	struct stat st;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_up_options, NULL)) != -1) {
		switch (c) {
		case 'd': dir_opt = optarg; break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || port < 0 || port > 65535)
				return cli_usage("up", usage_text,
				    "--port: '%s' is not a port", optarg);
			break;
		case 'g': {
			long g = strtol(optarg, &end, 10);

			if (end == optarg || *end != '\0' || g < 10 || g > 3600000)
				return cli_usage("up", usage_text, "--grace-ms: '%s' "
				    "is not in [10, 3600000]", optarg);
			snprintf(grace, sizeof(grace), "%ld", g);
			break;
		}
		case 'h':
			printf("usage: %s\n\n%s", usage_text, help_text);
			return CLI_OK;
		default:
			return cli_opt_fail("up", usage_text, cli_up_options, c, argv);
		}
	}
	if (optind != argc)
		return cli_usage("up", usage_text, "unexpected argument '%s'",
		    argv[optind]);

	/* A flag, not a blocked set: children must not inherit a mask, and
	 * a background job of a shell starts with SIGINT ignored. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if (dir_opt != NULL)
		snprintf(dir, sizeof(dir), "%s", dir_opt);
	else if ((r = default_dir(dir, sizeof(dir))) != 0)
		goto fail;
	if ((r = self_dir(bindir, sizeof(bindir))) != 0 ||
	    (r = cli_up_state_path(statef, sizeof(statef))) != 0 ||
	    (r = mkdirs(dir, 0700)) != 0)
		goto fail;
	snprintf(mgr, sizeof(mgr), "%s/coffer-manager", bindir);
	snprintf(db, sizeof(db), "%s/manager.db", dir);
	snprintf(rdir, sizeof(rdir), "%s/redis", dir);
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(readyf, sizeof(readyf), "%s/manager.url", dir);
	snprintf(mlog, sizeof(mlog), "%s/manager.log", dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%ld", port);
	snprintf(apps, sizeof(apps), "%s/../apps", bindir);
	have_apps = stat(apps, &st) == 0 && S_ISDIR(st.st_mode);
	if (access(mgr, X_OK) != 0) {
		r = coffer_errf(COFFER_E_NOTFOUND, "%s: %s", mgr, strerror(errno));
		goto fail;
	}
	if ((r = mkdirs(rdir, 0700)) != 0 || (r = mkdirs(store, 0700)) != 0)
		goto fail;
	unlink(readyf);

	/* 1. Redis, private, with its data kept in DIR across runs. */
	memset(&ro, 0, sizeof(ro));
	ro.dir = rdir;
	ro.appendonly = 1;
	if ((r = coffer_redis_server_start(&ro, &rs)) != 0)
		goto fail;

	/* 2. An admin token for this run (shown once, kept in the state
	 * file). */
	targv[0] = mgr;
	targv[1] = "token";
	targv[2] = "create";
	targv[3] = "--db";
	targv[4] = db;
	targv[5] = "--name";
	targv[6] = "coffer-up";
	targv[7] = NULL;
	if ((r = run_capture(targv, &tokbuf)) != 0)
		goto fail;
	while (tokbuf.len > 0 && (tokbuf.data[tokbuf.len - 1] == '\n'))
		tokbuf.data[--tokbuf.len] = '\0';

	/* 3. The manager. */
	margv[n++] = mgr;
	margv[n++] = "serve";
	margv[n++] = "--db";
	margv[n++] = db;
	margv[n++] = "--listen";
	margv[n++] = listen;
	margv[n++] = "--redis";
	margv[n++] = rs->url;
	margv[n++] = "--store";
	margv[n++] = store;
	margv[n++] = "--ready-file";
	margv[n++] = readyf;
	margv[n++] = "--grace-ms";
	margv[n++] = grace;
	if (have_apps) {
		margv[n++] = "--apps";
		margv[n++] = apps;
	}
	margv[n] = NULL;
	if ((r = spawn(margv, mlog, &mpid)) != 0)
		goto fail;
	{
		int64_t deadline = coffer_mono_ms() + READY_TIMEOUT_MS;
		int wst;

		while (coffer_file_read(readyf, 4096, &urlbuf) != 0) {
			coffer_buf_reset(&urlbuf);
			if (waitpid(mpid, &wst, WNOHANG) == mpid) {
				mpid = -1;
				r = coffer_errf(COFFER_E_IO,
				    "coffer-manager exited at start-up (see %s)", mlog);
				goto fail;
			}
			if (stop_requested) {
				r = coffer_errf(COFFER_E_CANCELLED, "interrupted");
				goto fail;
			}
			if (coffer_mono_ms() > deadline) {
				r = coffer_errf(COFFER_E_TIMEOUT,
				    "coffer-manager did not start in %d s (see %s)",
				    READY_TIMEOUT_MS / 1000, mlog);
				goto fail;
			}
			usleep(50 * 1000);
		}
		while (urlbuf.len > 0 && urlbuf.data[urlbuf.len - 1] == '\n')
			urlbuf.data[--urlbuf.len] = '\0';
	}
	if ((r = write_state(statef, coffer_buf_str(&urlbuf),
	    coffer_buf_str(&tokbuf), mpid, rs, dir)) != 0)
		goto fail;
	printf("coffer is up\n"
	    "  url:     %s\n"
	    "  token:   %s\n"
	    "  redis:   %s (pid %d)\n"
	    "  manager: pid %d, log %s\n"
	    "  data:    %s\n"
	    "  state:   %s (read by 'coffer job')\n"
	    "Press Ctrl-C to stop.\n", coffer_buf_str(&urlbuf),
	    coffer_buf_str(&tokbuf), rs->url, (int)rs->pid, (int)mpid, mlog, dir,
	    statef);
	fflush(stdout);

	/* 4. Wait for Ctrl-C, SIGTERM, or a child dying. */
	for (;;) {
		int wst;

		if (stop_requested) {
			fprintf(stderr, "coffer up: stopping\n");
			rc = CLI_OK;
			break;
		}
		if (waitpid(mpid, &wst, WNOHANG) == mpid) {
			mpid = -1;
			fprintf(stderr, "coffer up: coffer-manager exited (see %s)\n",
			    mlog);
			break;
		}
		if (waitpid(rs->pid, &wst, WNOHANG) == rs->pid) {
			rs->pid = 0;
			fprintf(stderr, "coffer up: redis-server exited\n");
			break;
		}
		usleep(100 * 1000);
	}
	/* The manager stops its workers within its grace period. */
	stop_pid(mpid, (int)strtol(grace, NULL, 10) + 10000);
	coffer_redis_server_free(rs);
	unlink(statef);
	coffer_buf_release_secret(&tokbuf);
	coffer_buf_release(&urlbuf);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	fprintf(stderr, "coffer up: stopped\n");
	return rc;
fail:
	stop_pid(mpid, 15000);
	coffer_redis_server_free(rs);
	coffer_buf_release_secret(&tokbuf);
	coffer_buf_release(&urlbuf);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return cli_fail(r, "up");
}
