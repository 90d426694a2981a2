// SPDX-License-Identifier: Apache-2.0
// Unit tests for the object store (src/store/): key rules and the local
// directory backend.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "coffer/error.h"
#include "lib/buf.h"
#include "store/local_int.h"
#include "store/store.h"

static char dir[256];

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/coffer-store-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	coffer_store_local_use_openat2(1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s-outside'", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct coffer_store *
open_store(void)
{
	struct coffer_store *s = NULL;
	int r = coffer_store_open(dir, 0, &s);

	if (r != 0)
		fail_msg("open %s: %s: %s", dir, coffer_strerror(r), coffer_errdetail());
	return s;
}

static void
test_store__key_rules(void **state)
{
	static const char *const good[] = { "a", "in/x.dcm", "a/b/c", ".hidden",
		"a..b", "x.tmp-0123456789ag", "x.tmp-123" };
	static const char *const bad[] = { "", "/a", "a/", "a//b", ".", "..",
		"a/../b", "./a", "a b", "a\tb", "caf\xc3\xa9", "x.tmp-0123456789ab",
		"d/y.tmp-aaaaaaaaaaaa/z" };
	char big[COFFER_STORE_KEY_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (coffer_store_check_key(good[i]) != 0)
			fail_msg("'%s' rejected: %s", good[i], coffer_errdetail());
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (coffer_store_check_key(bad[i]) != COFFER_E_FORMAT)
			fail_msg("'%s' accepted", bad[i]);
	memset(big, 'k', sizeof(big));
	big[COFFER_STORE_KEY_MAX] = '\0';
	assert_int_equal(coffer_store_check_key(big), 0);
	big[COFFER_STORE_KEY_MAX] = 'k';
	big[COFFER_STORE_KEY_MAX + 1] = '\0';
	assert_int_equal(coffer_store_check_key(big), COFFER_E_FORMAT);
}

static void
test_store__put_get_round_trip_and_replace(void **state)
{
	struct coffer_store *s = open_store();
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	char path[512];
	struct stat st;

	(void)state;
	assert_int_equal(coffer_store_put(s, "sub/dir/obj", "hello", 5), 0);
	assert_int_equal(coffer_store_get(s, "sub/dir/obj", 100, &b), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "hello", 5);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_store_put(s, "sub/dir/obj", "", 0), 0);
	assert_int_equal(coffer_store_get(s, "sub/dir/obj", 100, &b), 0);
	assert_int_equal(b.len, 0);
	/* Objects are private to the store's owner. */
	snprintf(path, sizeof(path), "%s/sub/dir/obj", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	coffer_buf_release(&b);
	coffer_store_free(s);
}

static void
test_store__get_reports_missing_and_oversized_objects(void **state)
{
	struct coffer_store *s = open_store();
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	char path[512];

	(void)state;
	assert_int_equal(coffer_store_get(s, "nope", 10, &b), COFFER_E_NOTFOUND);
	assert_non_null(strstr(coffer_errdetail(), "nope"));
	assert_int_equal(coffer_store_put(s, "big", "0123456789", 10), 0);
	assert_int_equal(coffer_buf_puts(&b, "keep"), 0);
	assert_int_equal(coffer_store_get(s, "big", 9, &b), COFFER_E_LIMIT);
	assert_string_equal(coffer_buf_str(&b), "keep");
	assert_int_equal(coffer_store_get(s, "big", 10, &b), 0);
	assert_string_equal(coffer_buf_str(&b), "keep0123456789");
	assert_int_equal(coffer_store_get(s, "../etc/passwd", 10, &b), COFFER_E_FORMAT);
	/* A directory where an object should be is not an object. */
	snprintf(path, sizeof(path), "%s/adir", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(coffer_store_get(s, "adir", 10, &b), COFFER_E_NOTFOUND);
	/* Symbolic links planted in the store are not followed. */
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(coffer_store_get(s, "link", 100, &b), COFFER_E_PERM);
	coffer_buf_release(&b);
	coffer_store_free(s);
}

static int
collect(const char *key, void *arg)
{
	struct coffer_buf *b = arg;

	return coffer_buf_putf(b, "%s;", key);
}

static int
stop_at_two(const char *key, void *arg)
{
	int *n = arg;

	(void)key;
	return ++*n == 2 ? 42 : 0;
}

static void
test_store__list_is_sorted_filtered_and_skips_temporaries(void **state)
{
	struct coffer_store *s = open_store();
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	char path[512];
	FILE *f;
	int n = 0;

	(void)state;
	assert_int_equal(coffer_store_put(s, "out/b", "1", 1), 0);
	assert_int_equal(coffer_store_put(s, "out/a", "1", 1), 0);
	assert_int_equal(coffer_store_put(s, "out/sub/c", "1", 1), 0);
	assert_int_equal(coffer_store_put(s, "outside", "1", 1), 0);
	assert_int_equal(coffer_store_put(s, "in/x", "1", 1), 0);
	/* A put in progress leaves a temporary file: not an object. */
	snprintf(path, sizeof(path), "%s/out/z.tmp-00112233aabb", dir);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	assert_int_equal(coffer_store_list(s, "out/", collect, &b), 0);
	assert_string_equal(coffer_buf_str(&b), "out/a;out/b;out/sub/c;");
	coffer_buf_reset(&b);
	assert_int_equal(coffer_store_list(s, "", collect, &b), 0);
	assert_string_equal(coffer_buf_str(&b), "in/x;out/a;out/b;out/sub/c;outside;");
	assert_int_equal(coffer_store_list(s, "", stop_at_two, &n), 42);
	assert_int_equal(n, 2);
	coffer_buf_release(&b);
	coffer_store_free(s);
}

static void
test_store__delete(void **state)
{
	struct coffer_store *s = open_store();
	struct coffer_buf b = COFFER_BUF_INIT(64);

	(void)state;
	assert_int_equal(coffer_store_put(s, "gone", "x", 1), 0);
	assert_int_equal(coffer_store_del(s, "gone"), 0);
	assert_int_equal(coffer_store_get(s, "gone", 10, &b), COFFER_E_NOTFOUND);
	assert_int_equal(coffer_store_del(s, "gone"), COFFER_E_NOTFOUND);
	coffer_buf_release(&b);
	coffer_store_free(s);
}

static void
test_store__open_checks_the_location(void **state)
{
	struct coffer_store *s = NULL;
	char sub[512];

	(void)state;
	snprintf(sub, sizeof(sub), "%s/new/deeper", dir);
	assert_int_equal(coffer_store_open(sub, 0, &s), COFFER_E_NOTFOUND);
	assert_int_equal(coffer_store_open(sub, 1, &s), 0);
	coffer_store_free(s);
	s = NULL;
	assert_int_equal(coffer_store_open("s3://bucket/x", 0, &s), COFFER_E_UNSUPPORTED);
	assert_int_equal(coffer_store_open("file://rel", 0, &s), COFFER_E_FORMAT);
	assert_int_equal(coffer_store_open("/etc/hostname", 0, &s), COFFER_E_INVAL);
	assert_null(s);
	snprintf(sub, sizeof(sub), "file://%s", dir);
	assert_int_equal(coffer_store_open(sub, 0, &s), 0);
	coffer_store_free(s);
	coffer_store_free(NULL);
}

static void
test_store__put_leaves_no_temporary_behind(void **state)
{
	struct coffer_store *s = open_store();
	DIR *d;
	struct dirent *e;
	int files = 0;

	(void)state;
	for (int i = 0; i < 20; i++)
		assert_int_equal(coffer_store_put(s, "same", "abc", 3), 0);
	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			files++;
	closedir(d);
	assert_int_equal(files, 1);
	coffer_store_free(s);
}

/* The keys a listing gives, joined by spaces. */
static int
add_key(const char *key, void *arg)
{
	struct coffer_buf *b = arg;

	return coffer_buf_putf(b, "%s ", key);
}

static void
test_store__a_put_in_pieces_is_visible_only_once_committed(void **state)
{
	struct coffer_store *s = open_store();
	struct coffer_store_put *p = NULL;
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20), keys = COFFER_BUF_INIT(4096);
	uint64_t size = 0;
	int fd = -1;

	(void)state;
	assert_int_equal(coffer_store_put(s, "d/obj", "old", 3), 0);
	assert_int_equal(coffer_store_put_open(s, "d/obj", &p), 0);
	assert_int_equal(coffer_store_put_write(p, "new ", 4), 0);
	assert_int_equal(coffer_store_put_write(p, "bytes", 5), 0);
	/* Mid-put: the old object, and no other key. */
	assert_int_equal(coffer_store_get(s, "d/obj", 100, &b), 0);
	assert_string_equal((char *)b.data, "old");
	assert_int_equal(coffer_store_list(s, "", add_key, &keys), 0);
	assert_string_equal((char *)keys.data, "d/obj ");
	assert_int_equal(coffer_store_put_commit(p), 0);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_store_get(s, "d/obj", 100, &b), 0);
	assert_string_equal((char *)b.data, "new bytes");
	/* Aborted: nothing changes, nothing is left. */
	assert_int_equal(coffer_store_put_open(s, "d/obj", &p), 0);
	assert_int_equal(coffer_store_put_write(p, "half", 4), 0);
	coffer_store_put_abort(p);
	coffer_store_put_abort(NULL);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_store_get(s, "d/obj", 100, &b), 0);
	assert_string_equal((char *)b.data, "new bytes");
	{
		char sub[300];
		DIR *d;
		struct dirent *e;
		int files = 0;

		snprintf(sub, sizeof(sub), "%s/d", dir);
		assert_non_null(d = opendir(sub));
		while ((e = readdir(d)) != NULL)
			files += e->d_name[0] != '.';
		closedir(d);
		assert_int_equal(files, 1);
	}
	/* The same object as a descriptor, and the limit and key checks. */
	assert_int_equal(coffer_store_open_read(s, "d/obj", 100, &fd, &size), 0);
	assert_int_equal(size, 9);
	assert_int_equal(pread(fd, b.data, 3, 4), 3);
	assert_memory_equal(b.data, "byt", 3);
	close(fd);
	assert_int_equal(coffer_store_open_read(s, "d/obj", 8, &fd, &size), COFFER_E_LIMIT);
	assert_int_equal(coffer_store_open_read(s, "d/none", 8, &fd, &size),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_store_put_open(s, "../x", &p), COFFER_E_FORMAT);
	coffer_buf_release(&b);
	coffer_buf_release(&keys);
	coffer_store_free(s);
}

static void
test_store__sweep_removes_only_stale_temporaries(void **state)
{
	struct coffer_store *s = open_store();
	char old_tmp[512], new_tmp[512], obj[512];
	struct timespec times[2] = { { 1000, 0 }, { 1000, 0 } };
	size_t removed = 99;
	FILE *f;

	(void)state;
	assert_int_equal(coffer_store_put(s, "d/keep.tmp-123", "x", 1), 0);
	snprintf(old_tmp, sizeof(old_tmp), "%s/d/a.tmp-0123456789ab", dir);
	snprintf(new_tmp, sizeof(new_tmp), "%s/d/b.tmp-ba9876543210", dir);
	snprintf(obj, sizeof(obj), "%s/d/keep.tmp-123", dir);
	assert_non_null(f = fopen(old_tmp, "w"));
	fclose(f);
	assert_non_null(f = fopen(new_tmp, "w"));
	fclose(f);
	assert_int_equal(utimensat(AT_FDCWD, old_tmp, times, 0), 0);
	assert_int_equal(coffer_store_sweep(s, 3600 * 1000, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(access(old_tmp, F_OK), -1);
	assert_int_equal(access(new_tmp, F_OK), 0);
	assert_int_equal(access(obj, F_OK), 0);
	assert_int_equal(coffer_store_sweep(s, 0, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(access(new_tmp, F_OK), -1);
	assert_int_equal(access(obj, F_OK), 0);
	coffer_store_free(s);
}

/* A directory next to the store holding "secret", and links to it inside
 * the store: in/d -> outside (an input prefix) and o -> outside (an output
 * prefix), as doc/worker.md section 8 says they must not be followed. */
static void
plant_links(char *outside, size_t outlen)
{
	char p[600];
	FILE *f;

	snprintf(outside, outlen, "%s-outside", dir);
	assert_int_equal(mkdir(outside, 0700), 0);
	snprintf(p, sizeof(p), "%s/secret", outside);
	assert_non_null(f = fopen(p, "w"));
	fputs("not the store's", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/in", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/in/d", dir);
	assert_int_equal(symlink(outside, p), 0);
	snprintf(p, sizeof(p), "%s/o", dir);
	assert_int_equal(symlink(outside, p), 0);
	snprintf(p, sizeof(p), "%s/secret-link", dir);
	snprintf(outside + strlen(outside), outlen - strlen(outside), "/secret");
	assert_int_equal(symlink(outside, p), 0);
	outside[strlen(outside) - strlen("/secret")] = '\0';
}

static size_t
count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
no_link_is_followed(int openat2)
{
	struct coffer_store *s;
	struct coffer_buf b = COFFER_BUF_INIT(1 << 20);
	char outside[600], p[700];
	int n = 0;

	coffer_store_local_use_openat2(openat2);
	plant_links(outside, sizeof(outside));
	s = open_store();
	/* A get through a linked directory, at any depth, reads nothing. */
	assert_int_equal(coffer_store_get(s, "in/d/secret", 1024, &b), COFFER_E_PERM);
	assert_string_equal(coffer_errdetail(), "object 'in/d/secret': 'd' is a symbolic link");
	assert_int_equal(coffer_store_get(s, "o/secret", 1024, &b), COFFER_E_PERM);
	assert_int_equal(coffer_store_get(s, "secret-link", 1024, &b), COFFER_E_PERM);
	assert_int_equal(b.len, 0);
	/* A put under a linked prefix writes nothing outside, not even a
	 * temporary file, and neither does a put that would create the
	 * directories below a link. */
	assert_int_equal(coffer_store_put(s, "o/x", "data", 4), COFFER_E_PERM);
	assert_int_equal(coffer_store_put(s, "o/new/deeper/x", "data", 4), COFFER_E_PERM);
	assert_int_equal(coffer_store_put(s, "in/d/secret", "over", 4), COFFER_E_PERM);
	assert_int_equal(count_entries(outside), 1);
	snprintf(p, sizeof(p), "%s/secret", outside);
	assert_int_equal(access(p, F_OK), 0);
	/* Nor does a delete. */
	assert_int_equal(coffer_store_del(s, "in/d/secret"), COFFER_E_PERM);
	assert_int_equal(access(p, F_OK), 0);
	/* The listing does not descend into them. */
	assert_int_equal(coffer_store_list(s, "", collect, &b), 0);
	assert_string_equal(coffer_buf_str(&b), "");
	/* Real directories still work, created on demand. */
	assert_int_equal(coffer_store_put(s, "in/real/x", "data", 4), 0);
	coffer_buf_reset(&b);
	assert_int_equal(coffer_store_get(s, "in/real/x", 1024, &b), 0);
	assert_string_equal(coffer_buf_str(&b), "data");
	coffer_buf_reset(&b);
	assert_int_equal(coffer_store_get(s, "in/real/missing", 1024, &b),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_store_get(s, "in/nodir/missing", 1024, &b),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_store_get(s, "in/real/x/below", 1024, &b),
	    COFFER_E_NOTFOUND);
	assert_int_equal(coffer_store_list(s, "", stop_at_two, &n), 0);
	assert_int_equal(n, 1);
	coffer_buf_release(&b);
	coffer_store_free(s);
}

static void
test_store__same_location_compares_directories_not_strings(void **state)
{
	char a[600], b[600], link[600], cwd[600];

	(void)state;
	snprintf(a, sizeof(a), "%s/d", dir);
	assert_int_equal(mkdir(a, 0700), 0);
	assert_true(coffer_store_same_location(a, a));
	snprintf(b, sizeof(b), "%s/d/", dir);
	assert_true(coffer_store_same_location(a, b));
	snprintf(b, sizeof(b), "file://%s/./d", dir);
	assert_true(coffer_store_same_location(a, b));
	snprintf(link, sizeof(link), "%s/l", dir);
	assert_int_equal(symlink(a, link), 0);
	assert_true(coffer_store_same_location(link, a));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_true(coffer_store_same_location("d", a));
	assert_int_equal(chdir(cwd), 0);
	snprintf(b, sizeof(b), "%s/other", dir);
	assert_int_equal(mkdir(b, 0700), 0);
	assert_false(coffer_store_same_location(a, b));
	snprintf(b, sizeof(b), "%s/not-yet", dir);
	assert_false(coffer_store_same_location(a, b));
	assert_false(coffer_store_same_location(a, NULL));
}

static void
test_store__symlinked_directories_are_not_followed_openat2(void **state)
{
	(void)state;
	no_link_is_followed(1);
}

static void
test_store__symlinked_directories_are_not_followed_walk(void **state)
{
	(void)state;
	no_link_is_followed(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store__key_rules),
		cmocka_unit_test_setup_teardown(test_store__put_get_round_trip_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store__get_reports_missing_and_oversized_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store__list_is_sorted_filtered_and_skips_temporaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store__delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store__open_checks_the_location, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store__put_leaves_no_temporary_behind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store__a_put_in_pieces_is_visible_only_once_committed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store__sweep_removes_only_stale_temporaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store__same_location_compares_directories_not_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store__symlinked_directories_are_not_followed_openat2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store__symlinked_directories_are_not_followed_walk, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
