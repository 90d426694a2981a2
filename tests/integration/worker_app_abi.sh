#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The app ABI (doc/format/app-abi.md): plugins that break it are refused
# with a clear error before any item is taken; a plugin built against a
# later header (a bigger struct, same version) still loads; executables
# must be executable. The broken plugins are compiled here, from the
# public header only, as a plugin author would.
# timeout: 120
. "$(dirname "$0")/lib.sh"
# Under AddressSanitizer (make SANITIZE=...), let deliberate SIGSEGVs of the
# test apps kill them as they would in production builds.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0
plan 17

APPS=$COFFER_BUILD/apps
CC=${CC:-cc}
mkplugin() { # name body
	printf '#include <stddef.h>\n#include "coffer/app.h"\n%s\n' "$2" > "$T/$1.c"
	"$CC" -shared -fPIC -I"$COFFER_SRC/include" -o "$T/$1.so" "$T/$1.c"
}
PROC='static int p(void *s, const struct coffer_app_item *i, const uint8_t *in, size_t n,
	struct coffer_app_writer *o, char *e, size_t el)
	{ (void)s; (void)i; (void)e; (void)el; return o->write(o, in, n); }'

check_app_fails() { # description plugin expected-substring
	local out
	out=$(coffer-worker --check-app --app "$2" 2>&1)
	if [ $? -ne 0 ] && [[ $out == *"$3"* ]]; then ok 0 "$1"; else
		ok 1 "$1"; diag "output: $out"; fi
}

out=$(coffer-worker --check-app --app "$APPS/checksum.so")
eq "a good plugin is described" "app checksum 1.0 (plugin, reduce)" "$out"
out=$(coffer-worker --check-app --app "$APPS/fault")
eq "an executable is accepted" "app fault - (executable)" "$out"

mkplugin noentry "int coffer_app_entry_v2(void); int coffer_app_entry_v2(void) { return 0; }"
check_app_fails "a plugin without the entry point" "$T/noentry.so" "does not export coffer_app_entry_v1"

mkplugin v2 "$PROC
static const struct coffer_app a = { sizeof(struct coffer_app), 2, \"v2\", \"1\", NULL, p, NULL, NULL, NULL };
COFFER_APP_EXPORT(a)"
check_app_fails "an unknown ABI version" "$T/v2.so" "plugin ABI version 2; this worker supports version 1"

mkplugin small "$PROC
static const struct coffer_app a = { 8, 1, \"small\", \"1\", NULL, p, NULL, NULL, NULL };
COFFER_APP_EXPORT(a)"
check_app_fails "a struct smaller than version 1's" "$T/small.so" "plugin struct is 8 bytes"

mkplugin noproc "static const struct coffer_app a = { sizeof(struct coffer_app), 1, \"np\", \"1\", NULL, NULL, NULL, NULL, NULL };
COFFER_APP_EXPORT(a)"
check_app_fails "a plugin without process()" "$T/noproc.so" "plugin has no process function"

mkplugin halfreduce "$PROC
static int ra(void *s, const char *id, const uint8_t *in, size_t n, char *e, size_t el)
	{ (void)s; (void)id; (void)in; (void)n; (void)e; (void)el; return 0; }
static const struct coffer_app a = { sizeof(struct coffer_app), 1, \"hr\", \"1\", NULL, p, ra, NULL, NULL };
COFFER_APP_EXPORT(a)"
check_app_fails "a plugin with half a reduce stage" "$T/halfreduce.so" "only one of reduce_add and reduce_finish"

mkplugin null "const struct coffer_app *coffer_app_entry_v1(void);
const struct coffer_app *coffer_app_entry_v1(void) { return NULL; }"
check_app_fails "an entry point returning NULL" "$T/null.so" "returned NULL"

mkplugin initcrash "$PROC
#include <signal.h>
static int in(const struct coffer_app_param *pa, size_t n, void **st, char *e, size_t el)
	{ (void)pa; (void)n; (void)st; (void)e; (void)el; raise(SIGSEGV); return 0; }
static const struct coffer_app a = { sizeof(struct coffer_app), 1, \"ic\", \"1\", in, p, NULL, NULL, NULL };
COFFER_APP_EXPORT(a)"
check_app_fails "a plugin crashing in init" "$T/initcrash.so" "killed by signal 11"

out=$(coffer-worker --check-app --app "$APPS/fault.so" --param init_fail=1 2>&1)
[[ $out == *"app init failed: init failed on purpose"* ]]; ok $? "init's own error message is shown"

printf 'not an ELF file\n' > "$T/text.so"
check_app_fails "a file that is not a shared object" "$T/text.so" "cannot load plugin"

# A plugin from a later header: version 1 with fields appended.
cat > "$T/newer.c" <<EOF
#include <stddef.h>
#include "coffer/app.h"
$PROC
struct newer { struct coffer_app v1; void (*later)(void); int more; };
static const struct newer a = { { sizeof(struct newer), 1, "newer", "2", NULL, p, NULL, NULL, NULL }, NULL, 7 };
const struct coffer_app *coffer_app_entry_v1(void);
const struct coffer_app *coffer_app_entry_v1(void) { return &a.v1; }
EOF
"$CC" -shared -fPIC -I"$COFFER_SRC/include" -o "$T/newer.so" "$T/newer.c"
out=$(coffer-worker --check-app --app "$T/newer.so" 2>&1)
eq "a plugin with appended fields still loads" "app newer 2 (plugin)" "$out"

printf '#!/bin/sh\ncat\n' > "$T/notexec"
check_app_fails "an executable app without the x bit" "$T/notexec" "Permission denied"
check_app_fails "a missing app" "$T/nope.so" "No such file"

# The plugin runs in the runner process, which holds its own Redis
# connection and nothing of the supervisor's (whose connection renews the
# lease): the plugin sees exactly one socket.
mkplugin fds '#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static int p(void *s, const struct coffer_app_item *i, const uint8_t *in, size_t n,
	struct coffer_app_writer *o, char *e, size_t el)
{
	DIR *d = opendir("/proc/self/fd"); struct dirent *x; int c = 0; char b[64], l[64];
	(void)s; (void)i; (void)in; (void)n; (void)e; (void)el;
	while ((x = readdir(d)) != NULL) {
		ssize_t k;
		snprintf(b, sizeof(b), "/proc/self/fd/%s", x->d_name);
		k = readlink(b, l, sizeof(l) - 1);
		if (k > 0) { l[k] = 0; if (strncmp(l, "socket:", 7) == 0) c++; }
	}
	closedir(d);
	return o->write(o, b, (size_t)snprintf(b, sizeof(b), "%d\n", c));
}
static const struct coffer_app a = { sizeof(struct coffer_app), 1, "fds", "1", NULL, p, NULL, NULL, NULL };
COFFER_APP_EXPORT(a)'
start_redis
mkdir -p "$T/fin"
echo x > "$T/fin/one"
"$COFFER_BUILD/tests/tools/queuectl" load "$REDIS_URL" fdjob one > /dev/null
coffer-worker --job fdjob --redis "$REDIS_URL" --store "$T/fin" --outputs "$T/fout" \
	--app "$T/fds.so" --exit-when-done 2> "$T/fds.log"
eq "the plugin's process holds one socket, not the supervisor's" 1 "$(cat "$T/fout/one" 2>/dev/null)"
out=$(timeout 60 coffer-worker --job fdjob2 --redis "$REDIS_URL" --store "$T/fin" \
	--outputs "$T/fout2" --app "$T/initcrash.so" 2>&1)
rc=$?
[ $rc -eq 1 ] && [[ $out == *"the app crashed (killed by signal 11"*"while loading it"* ]]
ok $? "a serving worker whose plugin crashes in init exits 1 and says why (exit $rc)"

# coffer run refuses a broken app before it starts anything.
mkdir -p "$T/in"
echo x > "$T/in/a"
out=$(TMPDIR=$T coffer run --app "$T/v2.so" --inputs "$T/in" --outputs "$T/out" --replicas 1 2>&1)
rc=$?
[ $rc -ne 0 ] && [[ $out == *"the app cannot be used"*"ABI version 2"* ]]
ok $? "coffer run refuses a plugin with the wrong ABI (exit $rc)"
