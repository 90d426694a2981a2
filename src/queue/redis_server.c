// SPDX-License-Identifier: Apache-2.0
// A private redis-server child (queue/redis_server.h). The server gets its
// own process group, so a terminal's Ctrl-C reaches only the parent, which
// then stops workers before Redis; PR_SET_PDEATHSIG stops it if the parent
// dies without cleaning up.
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <hiredis/hiredis.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "lib/signals.h"
#include "queue/redis_server.h"

static int
free_port(int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return coffer_errf(COFFER_E_IO, "socket: %s", strerror(errno));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		int r = coffer_errf(COFFER_E_IO, "finding a free port: %s",
		    strerror(errno));

		close(fd);
		return r;
	}
	*port = ntohs(a.sin_port);
	close(fd);
	return 0;
}

static void
log_tail(const char *dir, char *out, size_t outlen)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	char path[4096];
	const char *s;
	size_t n;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/redis.log", dir);
	if (coffer_file_read(path, 1 << 20, &b) != 0) {
		coffer_buf_release(&b);
		return;
	}
	s = coffer_buf_str(&b);
	n = b.len;
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	{
		size_t start = n > outlen - 1 ? n - (outlen - 1) : 0;
		const char *nl;

		/* Start at a line boundary when possible. */
		if (start > 0 && (nl = memchr(s + start, '\n', n - start)) != NULL)
			start = (size_t)(nl - s) + 1;
		snprintf(out, outlen, "%.*s", (int)(n - start), s + start);
	}
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = '|';
	coffer_buf_release(&b);
}

/*
 * Redis's own words for an append-only file it cannot load ("Bad file
 * format reading the append only file appendonly.aof.1.incr.aof: make a
 * backup ..., then use ./redis-check-aof --fix <filename.manifest>", or
 * "Unexpected end of file reading ..."), found in redis.log, turned into
 * one line with the file's full path and what to do; else 0. Redis 7
 * keeps the files in DIR/appendonlydir (with a manifest), Redis 6 one
 * DIR/appendonly.aof.
 */
static int
aof_refused(const struct coffer_redis_server *s)
{
	static const char marker[] = " reading the append only file ";
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	char logf[4096], file[256], adir[4096], what[128], fix[4096];
	const char *text, *m, *line, *name;
	size_t n = 0;
	struct stat st;
	int r;

	snprintf(logf, sizeof(logf), "%s/redis.log", s->dir);
	if (coffer_file_read(logf, 1 << 20, &b) != 0) {
		coffer_buf_release(&b);
		return 0;
	}
	text = coffer_buf_str(&b);
	/* This run's lines only (the log is appended to): an earlier run's
	 * file may have been repaired since. */
	for (line = text; (m = strstr(line, "Redis is starting")) != NULL;
	    line = m + 1)
		text = m;
	for (m = NULL, line = text; (line = strstr(line, marker)) != NULL;
	    line += sizeof(marker) - 1)
		m = line;
	if (m == NULL) {
		coffer_buf_release(&b);
		return 0;
	}
	for (line = m; line > text && line[-1] != '\n'; line--)
		;
	/* "PID:M 07 Dec 2026 21:03:23.596 # Bad file format": after "# ". */
	if ((name = strstr(line, "# ")) != NULL && name < m)
		line = name + 2;
	snprintf(what, sizeof(what), "%.*s", (int)(m - line), line);
	name = m + sizeof(marker) - 1;
	while (name[n] != '\0' && name[n] != ':' && name[n] != ' ' &&
	    name[n] != '\n' && n < sizeof(file) - 1)
		n++;
	while (n > 0 && name[n - 1] == '.')
		n--;
	snprintf(file, sizeof(file), "%.*s", (int)n, name);
	coffer_buf_release(&b);
	if (file[0] == '\0' || strchr(file, '/') != NULL)
		return 0;
	snprintf(adir, sizeof(adir), "%s/appendonlydir", s->dir);
	if (stat(adir, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(fix, sizeof(fix), "%s/appendonly.aof.manifest", adir);
		r = coffer_errf(COFFER_E_IO, "redis-server cannot load its "
		    "append-only file %s/%s (%s): keep a copy of %s, then repair it "
		    "with 'redis-check-aof --fix %s' (it cuts the file at the damage: "
		    "what the queue recorded after it is lost) and start again; "
		    "details in %s", adir, file, what, adir, fix, logf);
	} else {
		r = coffer_errf(COFFER_E_IO, "redis-server cannot load its "
		    "append-only file %s/%s (%s): keep a copy of it, then repair it "
		    "with 'redis-check-aof --fix %s/%s' (it cuts the file at the "
		    "damage: what the queue recorded after it is lost) and start "
		    "again; details in %s", s->dir, file, what, s->dir, file, logf);
	}
	return r;
}

static int
spawn(struct coffer_redis_server *s)
{
	char port[16], logf[4096];
	const char *argv[20];
	int i = 0, devnull;
	pid_t pid;

	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(logf, sizeof(logf), "%s/redis.log", s->dir);
	argv[i++] = s->exe;
	argv[i++] = "--port";
	argv[i++] = port;
	argv[i++] = "--bind";
	argv[i++] = "127.0.0.1";
	argv[i++] = "--dir";
	argv[i++] = s->dir;
	argv[i++] = "--save";
	argv[i++] = "";
	argv[i++] = "--appendonly";
	argv[i++] = s->appendonly ? "yes" : "no";
	argv[i++] = "--daemonize";
	argv[i++] = "no";
	argv[i++] = "--logfile";
	argv[i++] = logf;
	argv[i] = NULL;
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return coffer_errf(COFFER_E_IO, "/dev/null: %s", strerror(errno));
	/* Not fork(): the caller's handlers would run in the child until it
	 * execs (lib/signals.h). */
	pid = coffer_fork();
	if (pid < 0) {
		close(devnull);
		return coffer_errf(COFFER_E_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		closefrom(3);
		execv(s->exe, (char *const *)argv);
		_exit(127);
	}
	close(devnull);
	s->pid = pid;
	return 0;
}

static int
ping(int port)
{
	struct timeval tv = { 0, 200000 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	redisReply *r;
	int ok = 0;

	if (c == NULL)
		return 0;
	if (c->err == 0 && (r = redisCommand(c, "PING")) != NULL) {
		ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
		freeReplyObject(r);
	}
	redisFree(c);
	return ok;
}

/* 1 when up, 0 when the child exited (its status in *st), -1 on timeout. */
static int
wait_up(struct coffer_redis_server *s, int *st)
{
	int64_t deadline = coffer_mono_ms() + s->start_timeout_ms;

	for (;;) {
		pid_t w = waitpid(s->pid, st, WNOHANG);

		if (w == s->pid) {
			s->pid = 0;
			return 0;
		}
		if (ping(s->port))
			return 1;
		if (coffer_mono_ms() > deadline)
			return -1;
		coffer_sleep_ms(20);
	}
}

static int
start_once(struct coffer_redis_server *s, int pick_port, int *retry)
{
	char tail[600];
	int st = 0, r, up;

	*retry = 0;
	if (pick_port && (r = free_port(&s->port)) != 0)
		return r;
	snprintf(s->url, sizeof(s->url), "redis://127.0.0.1:%d", s->port);
	if ((r = spawn(s)) != 0)
		return r;
	up = wait_up(s, &st);
	if (up == 1)
		return 0;
	log_tail(s->dir, tail, sizeof(tail));
	if (up < 0) {
		coffer_redis_server_stop(s);
		return coffer_errf(COFFER_E_TIMEOUT, "redis-server on port %d did not"
		    " answer within %d ms; redis.log: %s", s->port,
		    s->start_timeout_ms, tail);
	}
	if (strstr(tail, "Address already in use") != NULL && pick_port)
		*retry = 1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return coffer_errf(COFFER_E_IO, "could not execute %s", s->exe);
	if ((r = aof_refused(s)) != 0)
		return r;
	return coffer_errf(COFFER_E_IO, "redis-server exited at start (status %d);"
	    " redis.log: %s", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
	    tail);
}

int
coffer_redis_server_start(const struct coffer_redis_server_opts *o,
    struct coffer_redis_server **out)
{
	struct coffer_redis_server *s = NULL;
	int r = 0, retry = 0;

	if ((s = coffer_calloc(1, sizeof(*s))) == NULL)
		return coffer_errf(COFFER_E_NOMEM, "redis server");
	s->appendonly = o->appendonly;
	s->start_timeout_ms = o->start_timeout_ms > 0 ? o->start_timeout_ms : 10000;
	if ((s->exe = coffer_path_lookup(o->exe ? o->exe : "redis-server")) == NULL) {
		r = coffer_errf(COFFER_E_NOTFOUND, "%s is not installed or not"
		    " executable (on Debian: apt-get install redis-server), or give"
		    " the URL of a running Redis", o->exe ? o->exe : "redis-server");
		goto fail;
	}
	if (o->dir != NULL) {
		s->dir = coffer_strdup(o->dir);
	} else {
		const char *tmp = getenv("TMPDIR");
		char tmpl[4096];

		snprintf(tmpl, sizeof(tmpl), "%s/coffer-redis.XXXXXX",
		    tmp && tmp[0] ? tmp : "/tmp");
		if (mkdtemp(tmpl) == NULL) {
			r = coffer_errf(COFFER_E_IO, "mkdtemp %s: %s", tmpl,
			    strerror(errno));
			goto fail;
		}
		s->dir = coffer_strdup(tmpl);
		s->own_dir = 1;
	}
	if (s->dir == NULL) {
		r = coffer_errf(COFFER_E_NOMEM, "redis server");
		goto fail;
	}
	s->port = o->port;
	for (int tries = 0; tries < 5; tries++) {
		if ((r = start_once(s, o->port == 0, &retry)) == 0 || !retry)
			break;
	}
	if (r != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	coffer_redis_server_free(s);
	return r;
}

int
coffer_redis_server_stop(struct coffer_redis_server *s)
{
	int st;

	if (s == NULL || s->pid <= 0)
		return 0;
	kill(s->pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		pid_t w = waitpid(s->pid, &st, WNOHANG);

		if (w == s->pid || (w < 0 && errno == ECHILD)) {
			s->pid = 0;
			return 0;
		}
		coffer_sleep_ms(10);
	}
	kill(s->pid, SIGKILL);
	while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
		;
	s->pid = 0;
	return 0;
}

int
coffer_redis_server_restart(struct coffer_redis_server *s)
{
	int retry;

	if (s->pid > 0)
		return coffer_errf(COFFER_E_STATE, "redis-server is still running");
	return start_once(s, 0, &retry);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
coffer_redis_server_free(struct coffer_redis_server *s)
{
	if (s == NULL)
		return;
	coffer_redis_server_stop(s);
	if (s->own_dir && s->dir != NULL)
		nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(s->dir);
	free(s->exe);
	free(s);
}
