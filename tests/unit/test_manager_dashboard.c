// SPDX-License-Identifier: Apache-2.0
// Unit tests for the dashboard's files (src/manager/dashboard.c and the
// arrays scripts/embed-assets generates): every file of src/manager/ui/ is
// compiled in byte for byte, with a type; nothing else is.
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "manager/dashboard.h"

static const char *
ui_dir(void)
{
	static char p[4096];
	const char *src = getenv("COFFER_SRC");

	snprintf(p, sizeof(p), "%s/src/manager/ui", src != NULL ? src : ".");
	return p;
}

static void
test_dashboard__every_ui_file_is_embedded_byte_for_byte(void **state)
{
	DIR *d = opendir(ui_dir());
	struct dirent *e;
	unsigned n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[8192];
		const struct mgr_asset *a;
		FILE *f;
		unsigned char *buf;
		long len;

		if (e->d_name[0] == '.')
			continue;
		n++;
		a = mgr_asset_find(e->d_name);
		assert_non_null(a);
		assert_non_null(mgr_asset_type(e->d_name));
		snprintf(path, sizeof(path), "%s/%s", ui_dir(), e->d_name);
		assert_non_null(f = fopen(path, "rb"));
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		len = ftell(f);
		rewind(f);
		assert_int_equal((long)a->len, len);
		assert_non_null(buf = malloc((size_t)len + 1));
		assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
		assert_memory_equal(buf, a->data, (size_t)len);
		assert_int_equal(a->data[a->len], 0);
		free(buf);
		fclose(f);
	}
	closedir(d);
	assert_int_equal(n, mgr_nassets);
	assert_true(n >= 4);
}

static void
test_dashboard__types_by_extension(void **state)
{
	(void)state;
	assert_string_equal(mgr_asset_type("index.html"), "text/html; charset=utf-8");
	assert_string_equal(mgr_asset_type("app.js"), "text/javascript; charset=utf-8");
	assert_string_equal(mgr_asset_type("style.css"), "text/css; charset=utf-8");
	assert_string_equal(mgr_asset_type("favicon.svg"), "image/svg+xml");
	assert_null(mgr_asset_type("README"));
	assert_null(mgr_asset_type("x.json"));
	assert_null(mgr_asset_type("app.js.map"));
}

static void
test_dashboard__unknown_names_are_not_found(void **state)
{
	(void)state;
	assert_non_null(mgr_asset_find("index.html"));
	assert_null(mgr_asset_find(""));
	assert_null(mgr_asset_find("../index.html"));
	assert_null(mgr_asset_find("INDEX.HTML"));
	assert_null(mgr_asset_find("index.html/"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dashboard__every_ui_file_is_embedded_byte_for_byte),
		cmocka_unit_test(test_dashboard__types_by_extension),
		cmocka_unit_test(test_dashboard__unknown_names_are_not_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
