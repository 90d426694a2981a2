// SPDX-License-Identifier: Apache-2.0
// Unit tests for errors, clocks and RFC 3339 parsing, atomic file writes,
// their signal cleanup, bounded file reads, and random bytes
// (src/lib/{err,clock,file,random}.c).
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "lib/appdir.h"
#include "lib/clock.h"
#include "lib/file.h"
#include "lib/random.h"
#include "lib/signals.h"

static void
test_err__detail_and_context(void **state)
{
	(void)state;
	assert_int_equal(coffer_errf(COFFER_E_FORMAT, "chunk %d", 3), COFFER_E_FORMAT);
	assert_string_equal(coffer_errdetail(), "chunk 3");
	assert_int_equal(coffer_errctx(COFFER_E_FORMAT, "reading %s", "x"), COFFER_E_FORMAT);
	assert_string_equal(coffer_errdetail(), "reading x: chunk 3");
	coffer_errclear();
	assert_int_equal(coffer_errctx(COFFER_E_IO, "f"), COFFER_E_IO);
	assert_string_equal(coffer_errdetail(), "f: input/output error");
	/* The detail itself as an argument (a wrapping message). */
	(void)coffer_errf(COFFER_E_IO, "write x: No space left on device");
	assert_int_equal(coffer_errf(COFFER_E_IO, "commit %d is in the log but "
	    "y could not be updated (%s): restart", 11, coffer_errdetail()), COFFER_E_IO);
	assert_string_equal(coffer_errdetail(), "commit 11 is in the log but y could "
	    "not be updated (write x: No space left on device): restart");
	for (int e = 0; e >= COFFER_E_HTTP; e--)
		assert_string_not_equal(coffer_strerror(e), "unknown error");
	assert_string_equal(coffer_strerror(-999), "unknown error");
}

static void
test_time__parses_rfc3339(void **state)
{
	int64_t t = 0;
	char s[32];

	(void)state;
	assert_int_equal(coffer_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(coffer_time_parse("2025-07-19T10:01:17Z", &t), 0);
	assert_int_equal(t, 1752919277);
	assert_int_equal(coffer_time_parse("2025-07-19T12:01:17.999+02:00", &t), 0);
	assert_int_equal(t, 1752919277);
	assert_int_equal(coffer_time_parse("2024-02-29T00:00:00z", &t), 0);
	assert_int_equal(coffer_time_parse("@1752919277", &t), 0);
	assert_int_equal(t, 1752919277);
	assert_int_equal(coffer_time_parse("1969-12-31T23:59:59Z", &t), 0);
	assert_int_equal(t, -1);
	coffer_time_format(1752919277, s, sizeof(s));
	assert_string_equal(s, "2025-07-19T10:01:17Z");
}

static void
test_time__rejects_malformed(void **state)
{
	static const char *bad[] = { "", "2025-07-19", "2025-07-19T10:01:17",
		"2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2025-07-19T24:00:00Z",
		"2025-07-19T10:01:17Zx", "2025-07-19T10:01:17+0200", "@", "@12x",
		"2025-07-19T10:01:17.Z", "x025-07-19T10:01:17Z" };
	int64_t t = 5;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(coffer_time_parse(bad[i], &t), COFFER_E_FORMAT);
	assert_int_equal(t, 5);
}

static void
test_clock__monotonic_does_not_go_back(void **state)
{
	int64_t a = coffer_mono_ms(), b = coffer_mono_ms();

	(void)state;
	assert_true(b >= a);
	assert_true(coffer_wall_ms() > 1700000000000LL);
}

static char tmpdir[] = "/tmp/coffer-unit.XXXXXX";

static void
test_file__atomic_write_read_and_excl(void **state)
{
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	char path[256];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/f", tmpdir);
	assert_int_equal(coffer_file_write_atomic(path, "hello", 5, 0600, 1), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(coffer_file_write_atomic(path, "x", 1, 0600, 1), COFFER_E_EXISTS);
	assert_int_equal(coffer_file_read(path, 100, &b), 0);
	assert_string_equal(coffer_buf_str(&b), "hello");
	assert_int_equal(coffer_file_write_atomic(path, "bye", 3, 0644, 0), 0);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_file_read(path, 3, &b), 0);
	assert_string_equal(coffer_buf_str(&b), "bye");
	coffer_buf_reset(&b);
	assert_int_equal(coffer_file_read(path, 2, &b), COFFER_E_LIMIT);
	assert_int_equal(b.len, 0);
	/* A directory is a file that cannot be read (exit 6), said as one. */
	assert_int_equal(coffer_file_read(tmpdir, 100, &b), COFFER_E_IO);
	assert_non_null(strstr(coffer_errdetail(), "(it is a directory)"));
	snprintf(path, sizeof(path), "%s/none", tmpdir);
	assert_int_equal(coffer_file_read(path, 100, &b), COFFER_E_NOTFOUND);
	snprintf(path, sizeof(path), "%s/no/dir/f", tmpdir);
	assert_int_equal(coffer_file_write_atomic(path, "x", 1, 0600, 0), COFFER_E_NOTFOUND);
	coffer_buf_release(&b);
}

/* The apps of a directory: plugins and executables by name, not their
 * params.json or other files; the one meant for a typo. */
static void
test_appdir__lists_apps_and_suggests(void **state)
{
	struct coffer_buf list = COFFER_BUF_INIT(4096);
	char dir[600], path[700], meant[64];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/apps", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/fault.so", dir);
	assert_int_equal(coffer_file_write_atomic(path, "x", 1, 0644, 1), 0);
	snprintf(path, sizeof(path), "%s/fault", dir);
	assert_int_equal(coffer_file_write_atomic(path, "x", 1, 0755, 1), 0);
	snprintf(path, sizeof(path), "%s/fault.params.json", dir);
	assert_int_equal(coffer_file_write_atomic(path, "{}", 2, 0644, 1), 0);
	snprintf(path, sizeof(path), "%s/checksum.so", dir);
	assert_int_equal(coffer_file_write_atomic(path, "x", 1, 0644, 1), 0);
	snprintf(path, sizeof(path), "%s/README", dir);
	assert_int_equal(coffer_file_write_atomic(path, "x", 1, 0644, 1), 0);
	assert_int_equal(coffer_appdir_list(dir, "faul", &list, meant, sizeof(meant)), 0);
	assert_string_equal(coffer_buf_str(&list), "checksum, fault");
	assert_string_equal(meant, "fault");
	coffer_buf_reset(&list);
	assert_int_equal(coffer_appdir_list(dir, "zzzzzz", &list, meant, sizeof(meant)), 0);
	assert_string_equal(meant, "");
	coffer_buf_reset(&list);
	snprintf(path, sizeof(path), "%s/none", tmpdir);
	assert_int_equal(coffer_appdir_list(path, "x", &list, meant, sizeof(meant)), 0);
	assert_int_equal(list.len, 0);
	coffer_buf_release(&list);
}

static void
test_file__aborted_write_leaves_nothing(void **state)
{
	struct coffer_atomic a;
	char path[256], cmd[400];

	(void)state;
	snprintf(path, sizeof(path), "%s/g", tmpdir);
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | grep -c tmp-) -eq 0", tmpdir);
	assert_int_equal(coffer_atomic_open(&a, path, 0600), 0);
	assert_int_equal(coffer_write_all(a.fd, "partial", 7), 0);
	coffer_atomic_abort(&a);
	assert_int_equal(access(path, F_OK), -1);
	/* No temporary file is left in the directory either. */
	assert_int_equal(system(cmd), 0);
}

/* Number of directory entries of tmpdir whose name contains ".tmp-". */
static int
count_temp_files(void)
{
	char cmd[400];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A %s | grep -c '\\.tmp-'", tmpdir);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

/* Run fn(arg) in a child process; return its wait status. */
static int
in_child(void (*fn)(const char *), const char *arg)
{
	pid_t pid;
	int st = 0;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		fn(arg);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static int child_sig;

/* A write in progress (secret data in the temporary file) when the
 * signal arrives. */
static void
child_interrupted_write(const char *path)
{
	struct coffer_atomic a;

	if (coffer_atomic_install_signal_cleanup() != 0 ||
	    coffer_atomic_open(&a, path, 0600) != 0 ||
	    coffer_write_all(a.fd, "secret", 6) != 0)
		_exit(10);
	raise(child_sig);
	_exit(11); /* not reached: the signal kills the process */
}

static void
test_file__signal_removes_temporary_file(void **state)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/sig", tmpdir);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int st;

		child_sig = sigs[i];
		st = in_child(child_interrupted_write, path);
		/* It still dies of the signal (the shell sees 128 + n)... */
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), sigs[i]);
		/* ...and leaves neither the file nor its temporary file. */
		assert_int_equal(access(path, F_OK), -1);
		assert_int_equal(count_temp_files(), 0);
	}
}

/* Commit and abort unregister: slots are reused (far more writes than
 * slots), a signal after commit leaves the committed file alone, and one
 * during a later write still removes that write's temporary file. */
static void
child_many_writes_then_signal(const char *path)
{
	char p[300];
	struct coffer_atomic a;

	if (coffer_atomic_install_signal_cleanup() != 0)
		_exit(10);
	for (int i = 0; i < 3 * COFFER_ATOMIC_GUARD_SLOTS; i++) {
		if (coffer_atomic_open(&a, path, 0600) != 0)
			_exit(12);
		coffer_atomic_abort(&a);
	}
	snprintf(p, sizeof(p), "%s.kept", path);
	if (coffer_file_write_atomic(p, "kept", 4, 0600, 0) != 0 ||
	    coffer_atomic_unsynced() != 0)
		_exit(13);
	if (coffer_atomic_open(&a, path, 0600) != 0)
		_exit(14);
	raise(SIGTERM);
	_exit(11);
}

static void
test_file__commit_and_abort_unregister_the_temporary_file(void **state)
{
	char path[256], kept[300];
	int st;

	(void)state;
	snprintf(path, sizeof(path), "%s/many", tmpdir);
	snprintf(kept, sizeof(kept), "%s.kept", path);
	st = in_child(child_many_writes_then_signal, path);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGTERM);
	assert_int_equal(access(kept, F_OK), 0);
	assert_int_equal(count_temp_files(), 0);
	assert_int_equal(unlink(kept), 0);
}

/* nohup or `trap '' HUP`: an ignored signal stays ignored, and a handler
 * the program installed is not replaced. */
static void
on_usr_handler(int sig)
{
	(void)sig;
}

static void
child_ignored_hup(const char *path)
{
	struct sigaction sa;
	struct coffer_atomic a;

	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, on_usr_handler);
	if (coffer_atomic_install_signal_cleanup() != 0)
		_exit(10);
	if (sigaction(SIGHUP, NULL, &sa) != 0 || sa.sa_handler != SIG_IGN)
		_exit(20);
	if (sigaction(SIGINT, NULL, &sa) != 0 || sa.sa_handler != on_usr_handler)
		_exit(21);
	if (sigaction(SIGTERM, NULL, &sa) != 0 || sa.sa_handler == SIG_DFL ||
	    sa.sa_handler == SIG_IGN)
		_exit(22);
	/* Installing twice changes nothing. */
	if (coffer_atomic_install_signal_cleanup() != 0 ||
	    sigaction(SIGHUP, NULL, &sa) != 0 || sa.sa_handler != SIG_IGN)
		_exit(23);
	if (coffer_atomic_open(&a, path, 0600) != 0)
		_exit(24);
	raise(SIGHUP); /* ignored: the write goes on */
	if (coffer_write_all(a.fd, "x", 1) != 0 ||
	    coffer_atomic_commit(&a, 0) != 0)
		_exit(25);
	_exit(0);
}

static void
test_file__signal_cleanup_leaves_ignored_signals_ignored(void **state)
{
	char path[256];
	int st;

	(void)state;
	snprintf(path, sizeof(path), "%s/hup", tmpdir);
	st = in_child(child_ignored_hup, path);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(count_temp_files(), 0);
}

/* A child forked during a write inherits the table, but its death by
 * signal must not remove its parent's temporary file. */
static void
child_forks_during_write(const char *path)
{
	struct coffer_atomic a;
	pid_t pid;
	int st;

	if (coffer_atomic_install_signal_cleanup() != 0 ||
	    coffer_atomic_open(&a, path, 0600) != 0)
		_exit(10);
	if ((pid = fork()) == 0) {
		raise(SIGTERM);
		_exit(11);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st))
		_exit(12);
	/* Named (no O_TMPFILE here): the child must not have removed it.
	 * Unnamed: nothing could; the write must still commit. */
	if (a.tmp[0] != '\0' && access(a.tmp, F_OK) != 0)
		_exit(13); /* the child removed it */
	if (coffer_atomic_commit(&a, 1) != 0 || access(path, F_OK) != 0)
		_exit(14);
	unlink(path);
	_exit(0);
}

static void
test_file__forked_child_leaves_parents_temporary_file(void **state)
{
	char path[256];
	int st;

	(void)state;
	snprintf(path, sizeof(path), "%s/fork", tmpdir);
	st = in_child(child_forks_during_write, path);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(count_temp_files(), 0);
}

static void
test_random__fills_and_never_repeats(void **state)
{
	uint8_t zero[64] = { 0 }, a[64] = { 0 }, b[64] = { 0 };

	(void)state;
	assert_int_equal(coffer_random(a, 0), 0);
	assert_memory_equal(a, zero, sizeof(a));
	assert_int_equal(coffer_random(a, sizeof(a)), 0);
	assert_int_equal(coffer_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(b, zero, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	/* Odd lengths and offsets are filled to the last byte. */
	memset(b, 0, sizeof(b));
	assert_int_equal(coffer_random(b + 1, 47), 0);
	assert_int_equal(b[0], 0);
	assert_memory_equal(b + 48, zero, 16);
	assert_memory_not_equal(b + 1 + 31, zero, 16);
}

/* A forked child (the worker's runner, an actuator's replica) must not
 * repeat its parent's bytes: OpenSSL reseeds its DRBG after fork(). */
static void
test_random__forked_child_does_not_repeat_the_parent(void **state)
{
	uint8_t warm[16], parent[32], child[32];
	int fds[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(coffer_random(warm, sizeof(warm)), 0);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t c[32];

		close(fds[0]);
		_exit(coffer_random(c, sizeof(c)) == 0 &&
		    write(fds[1], c, sizeof(c)) == (ssize_t)sizeof(c) ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(coffer_random(parent, sizeof(parent)), 0);
	assert_int_equal(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_memory_not_equal(parent, child, sizeof(parent));
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A watched signal says who sent it: this process, by kill(2). A child
 * forked with coffer_fork has no handler; one forked plainly that gets the
 * signal dies of it and never writes to the parent's pipe. */
static void
test_signals__sender_recorded_and_children_kept_apart(void **state)
{
	static const int sigs[] = { SIGHUP };
	static volatile sig_atomic_t flag;
	struct coffer_signal s;
	char why[200], b;
	int fd, st;
	pid_t pid;

	(void)state;
	assert_true((fd = coffer_signal_watch(sigs, 1, &flag)) >= 0);
	assert_false(coffer_signal_pending());
	assert_int_equal(coffer_signal_take(&s), 0);
	assert_int_equal(kill(getpid(), SIGHUP), 0);
	assert_int_equal(flag, 1);
	assert_true(coffer_signal_pending());
	assert_int_equal(read(fd, &b, 1), 1);
	assert_int_equal(coffer_signal_take(&s), 1);
	assert_int_equal(s.sig, SIGHUP);
	assert_int_equal(s.pid, getpid());
	assert_int_equal(s.uid, getuid());
	assert_int_equal(s.code, SI_USER);
	assert_int_equal(s.ppid, getppid());
	assert_string_equal(s.comm, "test_lib_misc");
	coffer_signal_describe(&s, why, sizeof(why));
	assert_non_null(strstr(why, "SIGHUP from pid "));
	assert_non_null(strstr(why, "(test_lib_misc, parent "));
	assert_int_equal(coffer_signal_take(&s), 0);
	assert_false(coffer_signal_pending());
	assert_int_equal(read(fd, &b, 1), -1); /* drained */

	/* Plain fork(): the inherited handler sends the signal on. */
	flag = 0;
	if ((pid = fork()) == 0) {
		kill(getpid(), SIGHUP);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGHUP);
	/* coffer_fork(): no handler at all in the child. */
	if ((pid = coffer_fork()) == 0) {
		struct sigaction sa;

		_exit(sigaction(SIGHUP, NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_DFL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(flag, 0);
	assert_false(coffer_signal_pending());
	assert_int_equal(read(fd, &b, 1), -1);
	signal(SIGHUP, SIG_DFL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err__detail_and_context),
		cmocka_unit_test(test_time__parses_rfc3339),
		cmocka_unit_test(test_time__rejects_malformed),
		cmocka_unit_test(test_clock__monotonic_does_not_go_back),
		cmocka_unit_test(test_file__atomic_write_read_and_excl),
		cmocka_unit_test(test_file__aborted_write_leaves_nothing),
		cmocka_unit_test(test_appdir__lists_apps_and_suggests),
		cmocka_unit_test(test_file__signal_removes_temporary_file),
		cmocka_unit_test(test_file__commit_and_abort_unregister_the_temporary_file),
		cmocka_unit_test(test_file__signal_cleanup_leaves_ignored_signals_ignored),
		cmocka_unit_test(test_file__forked_child_leaves_parents_temporary_file),
		cmocka_unit_test(test_random__fills_and_never_repeats),
		cmocka_unit_test(test_random__forked_child_does_not_repeat_the_parent),
		cmocka_unit_test(test_signals__sender_recorded_and_children_kept_apart),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
