// SPDX-License-Identifier: Apache-2.0
// `coffer up`: the whole control plane on this machine with no
// configuration: a private redis-server, coffer-manager with the local
// actuator, and an admin token. It prints the URL and the token, writes
// them to a state file (0600) for `coffer job`, and on SIGINT, SIGTERM or
// SIGHUP (said with its sender) stops the manager (which stops its workers), the coordinator and Redis,
// by PID. Its coordinator (sim backend, INSECURE) makes the confidential
// flow run on one machine with no configuration (doc/manager.md section 7).
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "coffer/error.h"
#include "coffer/tee.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/enc.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "lib/num.h"
#include "lib/signals.h"
#include "queue/queue.h"
#include "queue/redis_server.h"

extern char **environ;

static const char usage_text[] =
    "coffer up [--dir DIR] [--port PORT | --listen ADDR] [--grace-ms N]\n"
    "          [--redis URL] [--allow-cmd] [--allow-workload-url]\n"
    "          [--workload-dir DIR]... [--asperathos] [--asperathos-no-token]\n"
    "          [--coordinator-port PORT | --no-coordinator] [--standby N]";

static const char help_text[] =
    "Run the control plane on this machine (doc/manager.md section 7): a\n"
    "private redis-server, an admin token, coffer-manager with the local\n"
    "actuator and a coffer-coordinator on the sim backend (INSECURE\n"
    "SIMULATION) for confidential jobs. Prints the URLs and the token, writes\n"
    "them to a state file (0600) that 'coffer job' reads, and runs until\n"
    "Ctrl-C, SIGTERM or SIGHUP (it says which, and who sent it), then stops\n"
    "the manager (and its workers), the coordinator and Redis.\n"
    "\n"
    "  --dir DIR       data directory: Redis's data, the job store, the object\n"
    "                  store, the manager's log (default\n"
    "                  $XDG_DATA_HOME/coffer/up or ~/.local/share/coffer/up)\n"
    "  --port PORT     the manager's port on 127.0.0.1 (default 0: a free one)\n"
    "  --listen ADDR   the manager's address instead, HOST:PORT\n"
    "  --grace-ms N    SIGTERM-to-SIGKILL time for the workers (default 5000)\n"
    "  --redis URL     use this running Redis instead of a private one (give\n"
    "                  a URL with a password in COFFER_REDIS_URL instead)\n"
    "  --allow-cmd     run jobs' own commands (cmd; every Asperathos job)\n"
    "  --allow-workload-url  fetch http(s) workloads (Asperathos's usual one)\n"
    "  --workload-dir DIR    workload files may also be under DIR (repeatable)\n"
    "  --asperathos    for Asperathos users: port 1500 (unless --port or\n"
    "                  --listen), --allow-cmd and --allow-workload-url\n"
    "  --asperathos-no-token  the Asperathos routes need no token (its clients\n"
    "                  send none); loopback addresses only\n"
    "  --coordinator-port PORT  the coordinator's port on 127.0.0.1 at its\n"
    "                  first start (default: a free one); later starts keep\n"
    "                  the port it had, where owners pinned it\n"
    "  --no-coordinator  no coordinator: plaintext jobs only\n"
    "  --standby N     keep N idle standby workers of each kind (plaintext,\n"
    "                  and confidential for this coordinator) that a job's\n"
    "                  workers start from, ready and attested (default 0;\n"
    "                  doc/manager.md section 5.4 says what they cost)\n"
    "\n"
    "One coffer up per data directory (a second is refused, naming the\n"
    "first); its Redis data, jobs, admin token and the coordinator's state\n"
    "(its identity, policies, keys, ledger) are kept across runs. Killed\n"
    "(SIGKILL), it takes Redis, the manager and the coordinator with it. A\n"
    "coffer up of another --dir takes the state file over while it runs.\n";

#define READY_TIMEOUT_MS 20000

/* Set by SIGINT, SIGTERM or SIGHUP (lib/signals.h). */
static volatile sig_atomic_t stop_requested;

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

/* Run argv (standard input from in, a file, or /dev/null), its stdout
 * into out, its stderr to ours unless quiet; 0 if it exited 0. */
static int
run_capture(char *const argv[], const char *in, struct coffer_buf *out, int quiet)
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
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, in != NULL ? in :
	    "/dev/null", O_RDONLY, 0);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
		    O_WRONLY, 0);
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
	/* Its own message is on stderr, above: say how it ended, not the
	 * raw wait status ("status 256"). */
	if (r == 0 && WIFEXITED(st) && WEXITSTATUS(st) != 0)
		r = coffer_errf(COFFER_E_IO, "%s %s exited with status %d (its "
		    "message is above)", argv[0], argv[1] != NULL ? argv[1] : "",
		    WEXITSTATUS(st));
	else if (r == 0 && !WIFEXITED(st))
		r = coffer_errf(COFFER_E_IO, "%s %s was killed by signal %d",
		    argv[0], argv[1] != NULL ? argv[1] : "",
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return r;
}

static int
spawn(char *const argv[], const char *log, pid_t *pid)
{
	pid_t parent = getpid(), p;
	int logfd, nullfd, e;

	if ((logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) < 0)
		return coffer_errf(COFFER_E_IO, "%s: %s", log, strerror(errno));
	if ((nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		e = errno;
		close(logfd);
		return coffer_errf(COFFER_E_IO, "/dev/null: %s", strerror(e));
	}
	/* Not fork(): our handlers would run in the child until it execs
	 * (lib/signals.h). Only async-signal-safe calls in the child. */
	if ((p = coffer_fork()) < 0) {
		e = errno;
		close(logfd);
		close(nullfd);
		return coffer_errf(COFFER_E_IO, "fork: %s", strerror(e));
	}
	if (p == 0) {
		/* Its own process group: a Ctrl-C at the terminal reaches
		 * only `coffer up`, which stops everything in order. Default
		 * dispositions: a shell's background job ignores SIGINT. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		setpgid(0, 0);
		/* If `coffer up` dies without stopping it (kill -9, the OOM
		 * killer, a crash), SIGTERM: the manager then stops its
		 * workers, and nothing is left holding the ports and the
		 * data directory that the next `coffer up` needs. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127); /* it died before the line above */
		dup2(nullfd, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(logfd);
	close(nullfd);
	*pid = p;
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
		coffer_sleep_ms(20);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

/* The coordinator coffer up runs, if any (pid -1: none). */
struct up_coord {
	pid_t pid;
	char url[64];
	char log[PATH_MAX];
	char config[PATH_MAX];     /* the workers' measured configuration */
	char simkey[PATH_MAX];     /* the sim platform public key (PEM) */
	char coord_meas[97];       /* the coordinator's sim measurement */
	char worker_meas[97];      /* what a policy lists for this up's workers */
	char sim_fp[65];
};

static int
write_state(const char *path, const char *url, const char *token, pid_t mpid,
    const struct coffer_redis_server *rs, const char *redis_url, const char *dir,
    const struct up_coord *co, int standby)
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
	    rs != NULL ? (int)rs->pid : 0, "redis_url", rs != NULL ? rs->url :
	    "(given)", "dir", dir);
	(void)redis_url;
	if (j == NULL)
		return COFFER_E_NOMEM;
	/* The standby pool's size per kind (doc/manager.md 5.4). */
	if (json_object_set_new(j, "standby", json_integer(standby)) != 0) {
		json_decref(j);
		return COFFER_E_NOMEM;
	}
	/* What an owner or a script on this machine needs to trust the
	 * coordinator and to write a policy for these workers. */
	if (co->pid > 0 && json_object_set_new(j, "coordinator", json_pack(
	    "{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "url", co->url, "pid",
	    (int)co->pid, "backend", "sim", "measurement", co->coord_meas,
	    "sim_key", co->simkey, "sim_key_fingerprint", co->sim_fp,
	    "worker_measurement", co->worker_meas, "worker_config",
	    co->config)) != 0) {
		json_decref(j);
		return COFFER_E_NOMEM;
	}
	r = coffer_json_dump(j, &b);
	json_decref(j);
	if (r == 0 && (r = coffer_buf_puts(&b, "\n")) == 0)
		r = coffer_file_write_atomic(path, b.data, b.len, 0600, 0);
	coffer_buf_release_secret(&b);
	return r;
}

/* One `coffer up` per data directory: an flock on DIR/up.lock, which
 * holds "<pid> <url>" of the holder so that a second can name it. Two
 * would share Redis's files, the job store and the workers (the second
 * manager would stop the first one's as orphans). */
static int
lock_dir(const char *dir, int *fd_out)
{
	char path[PATH_MAX], who[512] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/up.lock", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return coffer_errf(COFFER_E_IO, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(fd, who, sizeof(who) - 1, 0);
		who[n > 0 ? n : 0] = '\0';
		who[strcspn(who, "\n")] = '\0';
		close(fd);
		return coffer_errf(COFFER_E_BUSY, "%s is in use by another coffer up "
		    "(%s): stop that one first, or give another --dir", dir,
		    who[0] ? who : "starting");
	}
	*fd_out = fd;
	return 0;
}

static void
lock_note(int fd, pid_t pid, const char *url)
{
	char who[600];
	int n = snprintf(who, sizeof(who), "pid %d, %s\n", (int)pid, url);

	if (ftruncate(fd, 0) != 0 || n < 0 || pwrite(fd, who, (size_t)n, 0) != n)
		fprintf(stderr, "coffer up: cannot write up.lock: %s\n", strerror(errno));
}

/* A port already taken is said as such, before anything starts. */
static int
check_port(const char *listen)
{
	const char *colon = strrchr(listen, ':');
	struct sockaddr_in sa;
	int port = 0, fd, one = 1, e = 0;

	if (colon == NULL || coffer_parse_int(colon + 1, 0, 65535, &port) != 0)
		return coffer_errf(COFFER_E_INVAL, "--listen: '%s' is not HOST:PORT",
		    listen);
	if (port == 0 || strncmp(listen, "127.0.0.1:", 10) != 0)
		return 0; /* the manager says so for other addresses */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		e = errno;
	close(fd);
	if (e == EADDRINUSE)
		return coffer_errf(COFFER_E_EXISTS, "port %d on 127.0.0.1 is in use "
		    "by another program: give another --port (0 picks a free one)",
		    port);
	return 0;
}

/* The last non-empty line of the manager's log: why it exited. */
static void
last_line(const char *path, char *out, size_t outlen)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	size_t end, start;

	out[0] = '\0';
	if (coffer_file_read(path, 1 << 20, &b) != 0) {
		coffer_errclear();
		coffer_buf_release(&b);
		return;
	}
	end = b.len;
	while (end > 0 && (b.data[end - 1] == '\n' || b.data[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && b.data[start - 1] != '\n')
		start--;
	snprintf(out, outlen, "%.*s", (int)(end - start), (const char *)b.data + start);
	coffer_buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* The coordinator (doc/manager.md section 7) */

/* Wait for a ready file written by pid; its first line into out. */
static int
wait_ready(pid_t *pid, const char *readyf, const char *what, const char *log,
    struct coffer_buf *out)
{
	int64_t deadline = coffer_mono_ms() + READY_TIMEOUT_MS;
	char why[512];
	int wst;

	while (coffer_file_read(readyf, 4096, out) != 0) {
		coffer_buf_reset(out);
		if (waitpid(*pid, &wst, WNOHANG) == *pid) {
			*pid = -1;
			last_line(log, why, sizeof(why));
			return coffer_errf(COFFER_E_IO, "%s exited at start-up: %s (%s)",
			    what, why[0] ? why : "no message", log);
		}
		/* What was started is stopped on the way out (fail:): say so,
		 * and that nothing of the data is lost. */
		if (stop_requested)
			return coffer_errf(COFFER_E_CANCELLED, "interrupted while %s "
			    "was starting: what had started is stopped, the data "
			    "directory is kept; start coffer up again when you like",
			    what);
		if (coffer_mono_ms() > deadline)
			return coffer_errf(COFFER_E_TIMEOUT, "%s did not start in %d s "
			    "(see %s)", what, READY_TIMEOUT_MS / 1000, log);
		coffer_sleep_ms(50);
	}
	while (out->len > 0 && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
	return 0;
}

/*
 * The measured configuration of this machine's workers (doc/worker.md
 * 9.2): it pins the coordinator coffer up runs, by its sim measurement
 * and this host's sim platform key. Written only when it changes: its
 * bytes are part of the workers' measurement, which policies list.
 */
static int
write_worker_config(const char *bindir, const char *dir, struct up_coord *c)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16), old = COFFER_BUF_INIT(1 << 16);
	char coord[PATH_MAX], worker[PATH_MAX], *pem = NULL;
	const char *files[2];
	uint8_t m[48], fp[32];
	json_t *j = NULL;
	int r;

	snprintf(coord, sizeof(coord), "%s/coffer-coordinator", bindir);
	snprintf(worker, sizeof(worker), "%s/coffer-worker", bindir);
	snprintf(c->config, sizeof(c->config), "%s/worker-config.json", dir);
	snprintf(c->simkey, sizeof(c->simkey), "%s/sim-key.pem", dir);
	files[0] = coord;
	if ((r = coffer_tee_sim_measure(files, 1, m)) != 0 ||
	    (r = coffer_tee_sim_public_key(NULL, &pem)) != 0 ||
	    (r = coffer_tee_sim_key_fingerprint(pem, strlen(pem), fp)) != 0)
		goto out;
	coffer_hex_encode(m, 48, c->coord_meas);
	coffer_hex_encode(fp, 32, c->sim_fp);
	if ((r = coffer_file_write_atomic(c->simkey, pem, strlen(pem), 0644, 0)) != 0)
		goto out;
	if ((j = json_pack("{s:s, s:i, s:{s:s, s:s, s:{s:i, s:[s]}}}", "type",
	    "coffer-worker-config", "version", 1, "coordinator", "tee", "sim",
	    "measurement", c->coord_meas, "verification", "version", 1,
	    "sim_platform_keys", c->sim_fp)) == NULL) {
		r = COFFER_E_NOMEM;
		goto out;
	}
	if ((r = coffer_json_dump(j, &b)) != 0 || (r = coffer_buf_puts(&b, "\n")) != 0)
		goto out;
	if (coffer_file_read(c->config, 1 << 16, &old) != 0 || old.len != b.len ||
	    memcmp(old.data, b.data, b.len) != 0) {
		coffer_errclear();
		if ((r = coffer_file_write_atomic(c->config, b.data, b.len, 0644, 0)) != 0)
			goto out;
	}
	files[0] = worker;
	files[1] = c->config;
	if ((r = coffer_tee_sim_measure(files, 2, m)) != 0)
		goto out;
	coffer_hex_encode(m, 48, c->worker_meas);
out:
	free(pem);
	json_decref(j);
	coffer_buf_release(&b);
	coffer_buf_release(&old);
	return r;
}

/* "exited with status N" or "was killed by SIGKILL (...)", for a child
 * that died while up. */
static const char *
how_exited(int wst, char *buf, size_t len)
{
	if (WIFSIGNALED(wst))
		snprintf(buf, len, "was killed by signal %d (%s)%s", WTERMSIG(wst),
		    strsignal(WTERMSIG(wst)), WTERMSIG(wst) == SIGKILL ?
		    ", by hand or the OOM killer" : "");
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(wst));
	return buf;
}

/*
 * A state sealed by another build of coffer-coordinator opens only under
 * that build (doc/format/sealed-state.md rule K4): after a rebuild or an
 * upgrade the coordinator refused to start, and coffer up with it, with
 * advice (k of n recovery owners) that coffer up's coordinator has none
 * of. The measurement of the last start is in DIR/worker-config.json;
 * said before the start, with what a user of coffer up can do.
 */
static int
check_coord_build(const char *prog, const char *dir, const char *data)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16);
	char path[PATH_MAX], now[97];
	const char *files[1] = { prog }, *was;
	struct stat st;
	uint8_t m[48];
	json_t *j = NULL;
	int r = 0;

	snprintf(path, sizeof(path), "%s/state.key", data);
	if (stat(path, &st) != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/worker-config.json", dir);
	if (coffer_file_read(path, 1 << 16, &b) != 0 ||
	    coffer_json_parse(coffer_buf_str(&b), b.len, 1 << 16, 8, &j) != 0 ||
	    (was = json_string_value(json_object_get(json_object_get(j,
	    "coordinator"), "measurement"))) == NULL ||
	    coffer_tee_sim_measure(files, 1, m) != 0)
		goto out;   /* the coordinator itself says what is wrong */
	coffer_hex_encode(m, 48, now);
	if (strcmp(was, now) != 0) {
		r = coffer_errf(COFFER_E_IO, "the coordinator's state in %s was sealed "
		    "by another build of coffer-coordinator (measurement %.16s...; "
		    "this one is %.16s...: rebuilt or upgraded?), and a TEE's state "
		    "opens only under the build that sealed it (rule K4). Run the "
		    "build that made it, or start this one with a new coordinator: "
		    "'mv %s %s.old' (its policies, approvals and keys stay there, "
		    "unused: owners pin the new one, approve and upload again); "
		    "--no-coordinator runs plaintext jobs meanwhile", data, was, now,
		    data, data);
		goto out;
	}
	/* The same for the sim host (rule K5): its platform key is found
	 * through COFFER_SIM_DIR, else HOME, which another user, sudo or a
	 * service manager changes. */
	{
		const char *fp0 = json_string_value(json_array_get(json_object_get(
		    json_object_get(json_object_get(j, "coordinator"), "verification"),
		    "sim_platform_keys"), 0));
		char *pem = NULL, fph[65];
		uint8_t fp[32];

		if (fp0 != NULL && coffer_tee_sim_public_key(NULL, &pem) == 0 &&
		    coffer_tee_sim_key_fingerprint(pem, strlen(pem), fp) == 0) {
			coffer_hex_encode(fp, 32, fph);
			if (strcmp(fp0, fph) != 0)
				r = coffer_errf(COFFER_E_IO, "the coordinator's state in %s "
				    "was sealed on another sim host: under the sim platform "
				    "key %.16s..., and this start finds %.16s... (rule K5). "
				    "The key is in $COFFER_SIM_DIR, else ~/.local/share/coffer: "
				    "start coffer up as the user, with the HOME (or "
				    "COFFER_SIM_DIR), of the start that made the state; or "
				    "'mv %s %s.old' for a new coordinator (owners pin it, "
				    "approve and upload again)", data, fp0, fph, data, data);
		}
		free(pem);
	}
out:
	if (r == 0)
		coffer_errclear();
	json_decref(j);
	coffer_buf_release(&b);
	return r;
}

/*
 * coffer-coordinator on the sim backend, its state in DIR/coordinator, on
 * the port of its first start (DIR/coordinator.port): owners pin a
 * coordinator by its URL, and jobs name it, so it must not move.
 */
static int
start_coordinator(const char *bindir, const char *dir, int port_opt,
    struct up_coord *c)
{
	struct coffer_buf b = COFFER_BUF_INIT(4096);
	char prog[PATH_MAX], data[PATH_MAX], portf[PATH_MAX], readyf[PATH_MAX],
	    listen[64];
	char *argv[16];
	int port = port_opt > 0 ? port_opt : 0, n = 0, kept = 0, r;
	const char *colon;

	snprintf(prog, sizeof(prog), "%s/coffer-coordinator", bindir);
	snprintf(data, sizeof(data), "%s/coordinator", dir);
	snprintf(portf, sizeof(portf), "%s/coordinator.port", dir);
	snprintf(readyf, sizeof(readyf), "%s/coordinator.url", dir);
	snprintf(c->log, sizeof(c->log), "%s/coordinator.log", dir);
	if (access(prog, X_OK) != 0)
		return coffer_errf(COFFER_E_NOTFOUND, "%s: %s", prog, strerror(errno));
	if ((r = check_coord_build(prog, dir, data)) != 0)
		return r;
	if (coffer_file_read(portf, 64, &b) == 0) {
		kept = 1;
		while (b.len > 0 && b.data[b.len - 1] == '\n')
			b.data[--b.len] = '\0';
		if (coffer_parse_int(coffer_buf_str(&b), 1, 65535, &port) != 0) {
			coffer_buf_release(&b);
			return coffer_errf(COFFER_E_FORMAT, "%s: not a port", portf);
		}
		if (port_opt > 0 && port_opt != port) {
			coffer_buf_release(&b);
			return coffer_errf(COFFER_E_INVAL, "--coordinator-port %d: the "
			    "coordinator of %s listens on port %d, where its owners "
			    "pinned it", port_opt, dir, port);
		}
	}
	coffer_errclear();
	coffer_buf_reset(&b);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	if ((r = check_port(listen)) != 0) {
		coffer_buf_release(&b);
		/* Kept from an earlier start, owners pinned it there; given for
		 * a first start, nobody has: another one does. */
		if (!kept)
			return coffer_errf(r, "--coordinator-port %d: port %d on "
			    "127.0.0.1 is in use by another program: give another "
			    "--coordinator-port (none: a free one)", port, port);
		return coffer_errf(r, "the coordinator's port %d on 127.0.0.1 (where "
		    "its owners pinned it) is in use by another program: stop it", port);
	}
	unlink(readyf);
	argv[n++] = prog;
	argv[n++] = "serve";
	argv[n++] = "--data";
	argv[n++] = data;
	argv[n++] = "--backend";
	argv[n++] = "sim";
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--ready-file";
	argv[n++] = readyf;
	argv[n] = NULL;
	if ((r = spawn(argv, c->log, &c->pid)) != 0 ||
	    (r = wait_ready(&c->pid, readyf, "coffer-coordinator", c->log, &b)) != 0)
		goto out;
	snprintf(c->url, sizeof(c->url), "%s", coffer_buf_str(&b));
	if ((colon = strrchr(c->url, ':')) == NULL ||
	    coffer_parse_int(colon + 1, 1, 65535, &port) != 0) {
		r = coffer_errf(COFFER_E_FORMAT, "%s: '%s' is not a URL", readyf, c->url);
		goto out;
	}
	coffer_buf_reset(&b);
	if ((r = coffer_buf_putf(&b, "%d\n", port)) != 0 ||
	    (r = coffer_file_write_atomic(portf, b.data, b.len, 0600, 0)) != 0)
		goto out;
	r = write_worker_config(bindir, dir, c);
out:
	coffer_buf_release(&b);
	return r;
}

/*
 * The admin token: the one kept in DIR/admin.token (0600) if the job store
 * still knows it, else a new one, kept there. Every start used to create
 * another, and the old ones stayed valid forever.
 */
static int
admin_token(const char *mgr, const char *db, const char *tokf,
    struct coffer_buf *tok)
{
	char *vargv[] = { (char *)mgr, "token", "verify", "--db", (char *)db, NULL };
	char *cargv[] = { (char *)mgr, "token", "create", "--db", (char *)db,
		"--name", "coffer-up", NULL };
	struct coffer_buf out = COFFER_BUF_INIT(4096);
	int r;

	/* A failed check is followed by a create, which says what is wrong
	 * with the job store if anything is: once, not twice. */
	if (access(tokf, R_OK) == 0 && run_capture(vargv, tokf, &out, 1) == 0 &&
	    coffer_file_read(tokf, 4096, tok) == 0) {
		coffer_buf_release(&out);
		while (tok->len > 0 && tok->data[tok->len - 1] == '\n')
			tok->data[--tok->len] = '\0';
		return 0;
	}
	coffer_errclear();
	coffer_buf_release(&out);
	coffer_buf_reset(tok);
	if ((r = run_capture(cargv, NULL, tok, 0)) != 0)
		return r;
	if ((r = coffer_file_write_atomic(tokf, tok->data, tok->len, 0600, 0)) != 0)
		return r;
	while (tok->len > 0 && tok->data[tok->len - 1] == '\n')
		tok->data[--tok->len] = '\0';
	return 0;
}

/*
 * The state file is one per user, whatever the data directory: a coffer
 * up of another --dir takes it over while it runs. What it replaced, if
 * that names a coffer up still running, is kept here and put back when
 * this one stops, so that `coffer job` finds the first one again rather
 * than no manager at all.
 */
struct up_prev {
	struct coffer_buf bytes;   /* the file as it was (it holds a token) */
	int pid;                   /* its coffer up; 0: none kept */
	char dir[PATH_MAX];
};

static void
keep_prev_state(const char *path, const char *dir, struct up_prev *pv)
{
	json_t *j = NULL;
	json_int_t pid;
	const char *d;

	if (coffer_file_read(path, 1 << 16, &pv->bytes) != 0 ||
	    coffer_json_parse(coffer_buf_str(&pv->bytes), pv->bytes.len, 1 << 16,
	    8, &j) != 0)
		goto none;
	pid = json_integer_value(json_object_get(j, "pid"));
	if (pid <= 0 || pid > INT_MAX || pid == (json_int_t)getpid() ||
	    !cli_up_running(pid))
		goto none;
	d = json_string_value(json_object_get(j, "dir"));
	/* One of this directory cannot run: this one holds its lock. */
	if (d != NULL && strcmp(d, dir) == 0)
		goto none;
	snprintf(pv->dir, sizeof(pv->dir), "%s", d != NULL ? d : "?");
	pv->pid = (int)pid;
	json_decref(j);
	return;
none:
	coffer_errclear();
	json_decref(j);
	coffer_buf_reset(&pv->bytes);
	pv->pid = 0;
}

/* Remove the state file only if it is still this run's (a coffer up of
 * another data directory may have written it since); put back the one
 * it replaced if that coffer up still runs. */
static void
remove_state(const char *path, const struct up_prev *pv)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 16);
	json_t *j = NULL;

	if (coffer_file_read(path, 1 << 16, &b) == 0 &&
	    coffer_json_parse(coffer_buf_str(&b), b.len, 1 << 16, 8, &j) == 0 &&
	    json_integer_value(json_object_get(j, "pid")) == (json_int_t)getpid()) {
		if (pv->pid > 0 && cli_up_running(pv->pid) &&
		    coffer_file_write_atomic(path, pv->bytes.data, pv->bytes.len,
		    0600, 0) == 0)
			fprintf(stderr, "coffer up: %s names coffer up pid %d (%s) "
			    "again\n", path, pv->pid, pv->dir);
		else
			unlink(path);
	}
	coffer_errclear();
	json_decref(j);
	coffer_buf_release_secret(&b);
}

enum {
	O_DIR = 'd', O_PORT = 'p', O_GRACE = 'g', O_HELP = 'h',
	O_LISTEN = 256, O_REDIS, O_ALLOW_CMD, O_ALLOW_URL, O_WDIR, O_ASP, O_ASP_OPEN,
	O_CPORT, O_NO_COORD, O_STANDBY,
};

const struct option cli_up_options[] = {
	{ "dir", required_argument, NULL, O_DIR },
	{ "port", required_argument, NULL, O_PORT },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "grace-ms", required_argument, NULL, O_GRACE },
	{ "redis", required_argument, NULL, O_REDIS },
	{ "allow-cmd", no_argument, NULL, O_ALLOW_CMD },
	{ "allow-workload-url", no_argument, NULL, O_ALLOW_URL },
	{ "workload-dir", required_argument, NULL, O_WDIR },
	{ "asperathos", no_argument, NULL, O_ASP },
	{ "asperathos-no-token", no_argument, NULL, O_ASP_OPEN },
	{ "coordinator-port", required_argument, NULL, O_CPORT },
	{ "no-coordinator", no_argument, NULL, O_NO_COORD },
	{ "standby", required_argument, NULL, O_STANDBY },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

#define MAX_WDIRS 16

int
cmd_up(int argc, char **argv)
{
	struct coffer_redis_server_opts ro;
	struct coffer_redis_server *rs = NULL;
	struct coffer_buf tokbuf = COFFER_BUF_INIT_SECRET(4096);
	struct coffer_buf urlbuf = COFFER_BUF_INIT(4096);
	char dir[PATH_MAX] = "", bindir[PATH_MAX], mgr[PATH_MAX], db[PATH_MAX],
	    rdir[PATH_MAX], store[PATH_MAX], readyf[PATH_MAX], mlog[PATH_MAX],
	    statef[PATH_MAX], listen[300], apps[PATH_MAX], grace[16] = "5000",
	    tokf[PATH_MAX], standby[16] = "0";
	char *margv[64];
	const char *dir_opt = NULL, *listen_opt = NULL, *redis_opt = NULL,
	    *wdirs[MAX_WDIRS], *redis_url;
	int port = -1, died = 0, allow_cmd = 0, allow_url = 0, asp = 0, asp_open = 0,
	    nwdirs = 0, lockfd = -1, cport = 0, no_coord = 0;
	struct up_coord co;
	struct up_prev prev = { .bytes = COFFER_BUF_INIT_SECRET(1 << 16) };
	pid_t mpid = -1;
	struct sigaction old_int, old_term, old_hup;
	int c, r, rc = CLI_FAIL, n = 0, have_apps, g;
	struct stat st;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", cli_up_options, NULL)) != -1) {
		switch (c) {
		case O_DIR: dir_opt = optarg; break;
		case O_LISTEN: listen_opt = optarg; break;
		case O_REDIS: redis_opt = optarg; break;
		case O_ALLOW_CMD: allow_cmd = 1; break;
		case O_ALLOW_URL: allow_url = 1; break;
		case O_ASP: asp = 1; break;
		case O_ASP_OPEN: asp_open = 1; break;
		case O_NO_COORD: no_coord = 1; break;
		case O_CPORT:
			if (coffer_parse_int(optarg, 1, 65535, &cport) != 0)
				return cli_usage("up", usage_text,
				    "--coordinator-port: '%s' is not a port", optarg);
			break;
		case O_WDIR:
			if (nwdirs == MAX_WDIRS)
				return cli_usage("up", usage_text, "at most %d "
				    "--workload-dir", MAX_WDIRS);
			wdirs[nwdirs++] = optarg;
			break;
		case O_PORT:
			if (coffer_parse_int(optarg, 0, 65535, &port) != 0)
				return cli_usage("up", usage_text,
				    "--port: '%s' is not a port", optarg);
			break;
		case O_STANDBY:
			if (coffer_parse_int(optarg, 0, 64, &g) != 0)
				return cli_usage("up", usage_text, "--standby: '%s' "
				    "is not in [0, 64]", optarg);
			snprintf(standby, sizeof(standby), "%d", g);
			break;
		case O_GRACE:
			if (coffer_parse_int(optarg, 10, 3600000, &g) != 0)
				return cli_usage("up", usage_text, "--grace-ms: '%s' "
				    "is not in [10, 3600000]", optarg);
			snprintf(grace, sizeof(grace), "%d", g);
			break;
		case O_HELP:
			printf("usage: %s\n\n%s", usage_text, help_text);
			return CLI_OK;
		default:
			return cli_opt_fail("up", usage_text, cli_up_options, c, argv);
		}
	}
	if (optind != argc)
		return cli_usage("up", usage_text, "unexpected argument '%s'",
		    argv[optind]);
	if (no_coord && cport > 0)
		return cli_usage("up", usage_text, "--coordinator-port and "
		    "--no-coordinator exclude each other");
	if (listen_opt != NULL && port >= 0)
		return cli_usage("up", usage_text, "--port and --listen exclude "
		    "each other");
	if (asp) {
		allow_cmd = allow_url = 1;
		if (port < 0 && listen_opt == NULL)
			port = 1500; /* Asperathos's manager's port */
	}
	if (listen_opt != NULL)
		snprintf(listen, sizeof(listen), "%s", listen_opt);
	else
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", port < 0 ? 0 : port);
	if (asp_open && strncmp(listen, "127.", 4) != 0 &&
	    strncmp(listen, "[::1]:", 6) != 0)
		return cli_usage("up", usage_text, "--asperathos-no-token needs a "
		    "loopback address: routes without a token are for this machine "
		    "only");

	memset(&co, 0, sizeof(co));
	co.pid = -1;
	/* A flag, not a blocked set: children must not inherit a mask, and
	 * a background job of a shell starts with SIGINT ignored. Each
	 * signal's sender is said when it stops us (lib/signals.h). */
	sigaction(SIGINT, NULL, &old_int);
	sigaction(SIGTERM, NULL, &old_term);
	sigaction(SIGHUP, NULL, &old_hup);
	if (coffer_signal_watch_stop(&stop_requested) < 0)
		return cli_fail(COFFER_E_INTERNAL, "up");

	if (dir_opt != NULL)
		snprintf(dir, sizeof(dir), "%s", dir_opt);
	else if ((r = default_dir(dir, sizeof(dir))) != 0)
		goto fail;
	if ((r = coffer_exe_dir(bindir, sizeof(bindir))) != 0 ||
	    (r = cli_up_state_path(statef, sizeof(statef))) != 0 ||
	    (r = mkdirs(dir, 0700)) != 0)
		goto fail;
	/* Absolute: Redis changes to its directory before it opens its log
	 * (a relative --dir made it fail with an empty log), and the state
	 * file and banner are read from other directories. */
	{
		char abs[PATH_MAX];

		if (realpath(dir, abs) == NULL) {
			r = coffer_errf(COFFER_E_IO, "%s: %s", dir, strerror(errno));
			goto fail;
		}
		snprintf(dir, sizeof(dir), "%s", abs);
		/* mkdir's EEXIST also covers a file of that name: said here,
		 * not as "DIR/up.lock: Not a directory". */
		if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
			r = coffer_errf(COFFER_E_IO, "--dir %s is not a directory: "
			    "give a directory (it is created if missing)", dir);
			goto fail;
		}
	}
	if ((r = lock_dir(dir, &lockfd)) != 0 || (r = check_port(listen)) != 0)
		goto fail;
	snprintf(mgr, sizeof(mgr), "%s/coffer-manager", bindir);
	snprintf(db, sizeof(db), "%s/manager.db", dir);
	snprintf(rdir, sizeof(rdir), "%s/redis", dir);
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(readyf, sizeof(readyf), "%s/manager.url", dir);
	snprintf(mlog, sizeof(mlog), "%s/manager.log", dir);
	snprintf(tokf, sizeof(tokf), "%s/admin.token", dir);
	snprintf(apps, sizeof(apps), "%s/../apps", bindir);
	have_apps = stat(apps, &st) == 0 && S_ISDIR(st.st_mode);
	if (access(mgr, X_OK) != 0) {
		r = coffer_errf(COFFER_E_NOTFOUND, "%s: %s", mgr, strerror(errno));
		goto fail;
	}
	if ((r = mkdirs(rdir, 0700)) != 0 || (r = mkdirs(store, 0700)) != 0)
		goto fail;
	unlink(readyf);

	/* 1. Redis: the given one, or a private one with its data kept in
	 * DIR across runs (the jobs follow it whatever its port). */
	if (redis_opt != NULL) {
		/* Said now, not by every job failing later: the URL is checked
		 * by connecting (and its AUTH and SELECT) without touching any
		 * key. */
		struct coffer_queue_opts qo;
		struct coffer_queue *q = NULL;

		memset(&qo, 0, sizeof(qo));
		qo.redis_url = redis_opt;
		qo.job = "coffer-up-check";
		qo.connect_timeout_ms = 3000;
		if ((r = coffer_queue_open(&qo, &q)) != 0) {
			coffer_errctx(r, "--redis");
			goto fail;
		}
		coffer_queue_close(q);
		redis_url = redis_opt;
	} else {
		memset(&ro, 0, sizeof(ro));
		ro.dir = rdir;
		ro.appendonly = 1;
		if ((r = coffer_redis_server_start(&ro, &rs)) != 0)
			goto fail;
		redis_url = rs->url;
	}

	/* 2. The coordinator, and the measured configuration that pins it
	 * for this machine's workers. */
	if (!no_coord && (r = start_coordinator(bindir, dir, cport, &co)) != 0)
		goto fail;

	/* 3. The admin token, the same across runs. */
	if ((r = admin_token(mgr, db, tokf, &tokbuf)) != 0)
		goto fail;

	/* 4. The manager. The Redis URL goes in its environment: it may hold
	 * a password, and arguments are readable by every local user. */
	if (setenv("COFFER_REDIS_URL", redis_url, 1) != 0) {
		r = coffer_errf(COFFER_E_NOMEM, "setenv");
		goto fail;
	}
	margv[n++] = mgr;
	margv[n++] = "serve";
	margv[n++] = "--db";
	margv[n++] = db;
	margv[n++] = "--listen";
	margv[n++] = listen;
	margv[n++] = "--store";
	margv[n++] = store;
	margv[n++] = "--ready-file";
	margv[n++] = readyf;
	margv[n++] = "--grace-ms";
	margv[n++] = grace;
	margv[n++] = allow_cmd ? "--allow-cmd=yes" : "--allow-cmd=no";
	margv[n++] = "--standby-replicas";
	margv[n++] = standby;
	if (allow_url)
		margv[n++] = "--allow-workload-url";
	if (asp_open)
		margv[n++] = "--asperathos-open";
	for (int i = 0; i < nwdirs; i++) {
		margv[n++] = "--workload-dir";
		margv[n++] = (char *)wdirs[i];
	}
	if (have_apps) {
		margv[n++] = "--apps";
		margv[n++] = apps;
	}
	if (co.pid > 0) {
		margv[n++] = "--coordinator";
		margv[n++] = co.url;
		margv[n++] = "--tee-backend";
		margv[n++] = "sim";
		margv[n++] = "--measured-config";
		margv[n++] = co.config;
	}
	margv[n] = NULL;
	r = spawn(margv, mlog, &mpid);
	unsetenv("COFFER_REDIS_URL");
	if (r != 0)
		goto fail;
	if ((r = wait_ready(&mpid, readyf, "coffer-manager", mlog, &urlbuf)) != 0)
		goto fail;
	keep_prev_state(statef, dir, &prev);
	if ((r = write_state(statef, coffer_buf_str(&urlbuf),
	    coffer_buf_str(&tokbuf), mpid, rs, redis_url, dir, &co,
	    (int)strtol(standby, NULL, 10))) != 0)
		goto fail;
	lock_note(lockfd, getpid(), coffer_buf_str(&urlbuf));
	printf("coffer is up\n"
	    "  url:     %s\n"
	    "  token:   %s (kept in %s)\n", coffer_buf_str(&urlbuf),
	    coffer_buf_str(&tokbuf), tokf);
	if (rs != NULL)
		printf("  redis:   %s (pid %d, data in %s)\n", rs->url, (int)rs->pid,
		    rdir);
	else
		printf("  redis:   given (--redis)\n");
	printf("  manager: pid %d, log %s\n", (int)mpid, mlog);
	if (strcmp(standby, "0") != 0)
		printf("  standby: %s idle workers per kind (GET /v1/standby)\n",
		    standby);
	if (co.pid > 0)
		printf("  coordinator: %s (pid %d, log %s)\n"
		    "    *** INSECURE SIMULATION: no TEE protects its keys or the "
		    "workers' data ***\n"
		    "    measurement  %s\n"
		    "    sim key      %s (fingerprint %s)\n"
		    "    pin it with: coffer coordinator verify %s --expect %s "
		    "--trust-sim-key %s\n"
		    "  workers: sim measurement %s\n"
		    "    (coffer-worker with %s, which pins this coordinator;\n"
		    "     a policy lists it for the apps these workers may run)\n",
		    co.url, (int)co.pid, co.log, co.coord_meas, co.simkey, co.sim_fp,
		    co.url, co.coord_meas, co.simkey, co.worker_meas, co.config);
	printf("  data:    %s\n"
	    "  state:   %s (read by 'coffer job')\n", dir, statef);
	if (prev.pid > 0)
		printf("           (it named coffer up pid %d of %s, which still "
		    "runs: it will again when this one stops)\n", prev.pid,
		    prev.dir);
	if (asp_open)
		printf("  WARNING: the Asperathos routes (/submissions) need no token:"
		    " anyone on this machine can submit jobs that run commands as "
		    "you\n");
	printf("Press Ctrl-C to stop.\n");
	fflush(stdout);

	/* 4. Wait for Ctrl-C, SIGTERM, or a child dying. */
	for (;;) {
		char how[128];
		int wst;

		if (stop_requested) {
			struct coffer_signal sig;
			char why[200];

			while (coffer_signal_take(&sig)) {
				coffer_signal_describe(&sig, why, sizeof(why));
				fprintf(stderr, "coffer up: %s\n", why);
			}
			fprintf(stderr, "coffer up: stopping\n");
			rc = CLI_OK;
			break;
		}
		if (waitpid(mpid, &wst, WNOHANG) == mpid) {
			mpid = -1;
			fprintf(stderr, "coffer up: coffer-manager %s (see %s)\n",
			    how_exited(wst, how, sizeof(how)), mlog);
			died = 1;
			break;
		}
		if (co.pid > 0 && waitpid(co.pid, &wst, WNOHANG) == co.pid) {
			co.pid = -1;
			fprintf(stderr, "coffer up: coffer-coordinator %s (see %s)\n",
			    how_exited(wst, how, sizeof(how)), co.log);
			died = 1;
			break;
		}
		if (rs != NULL && waitpid(rs->pid, &wst, WNOHANG) == rs->pid) {
			rs->pid = 0;
			fprintf(stderr, "coffer up: redis-server %s (see %s/redis.log)\n",
			    how_exited(wst, how, sizeof(how)), rdir);
			died = 1;
			break;
		}
		coffer_nap_ms(100);
	}
	/* The manager stops its workers within its grace period. */
	stop_pid(mpid, (int)strtol(grace, NULL, 10) + 10000);
	/* After the manager: a stopped job's close reaches the coordinator. */
	stop_pid(co.pid, 10000);
	coffer_redis_server_free(rs);
	remove_state(statef, &prev);
	coffer_buf_release_secret(&prev.bytes);
	coffer_buf_release_secret(&tokbuf);
	coffer_buf_release(&urlbuf);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	if (lockfd >= 0)
		close(lockfd);
	fprintf(stderr, "coffer up: stopped\n");
	/* One of its servers died under it (a crash, the OOM killer, a kill
	 * by hand): what is kept, and that a new start picks it up. */
	if (died)
		fprintf(stderr, "coffer up: the jobs, their items and the token are "
		    "kept in %s: start 'coffer up%s%s' again and interrupted jobs "
		    "resume\n", dir, dir_opt != NULL ? " --dir " : "",
		    dir_opt != NULL ? dir : "");
	return rc;
fail:
	stop_pid(mpid, 15000);
	stop_pid(co.pid, 10000);
	coffer_redis_server_free(rs);
	coffer_buf_release_secret(&prev.bytes);
	coffer_buf_release_secret(&tokbuf);
	coffer_buf_release(&urlbuf);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	if (lockfd >= 0)
		close(lockfd);
	return cli_fail(r, "up");
}
