#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The item's owner (doc/format/app-abi.md 2.1, doc/worker.md 2.1): the
# worker fills struct coffer_app_item.owner from its owner map (the
# longest matching prefix; NULL when none matches), executables get
# COFFER_ITEM_OWNER; `coffer run --owner` and COFFER_OWNERS set the map;
# bad maps are refused before anything runs. The plugin is built here from
# the public header, as an app author would.
# timeout: 120
. "$(dirname "$0")/lib.sh"
plan 13

CC=${CC:-cc}
export TMPDIR=$T
cat > "$T/owner.c" <<'EOF'
#include <stdio.h>
#include "coffer/app.h"
static int p(void *s, const struct coffer_app_item *i, const uint8_t *in, size_t n,
	struct coffer_app_writer *o, char *e, size_t el)
{
	char b[256];
	int k = snprintf(b, sizeof(b), "size=%u owner=%s\n", i->size,
	    COFFER_APP_ITEM_HAS(i, owner) && i->owner ? i->owner : "(none)");
	(void)s; (void)in; (void)n; (void)e; (void)el;
	return o->write(o, b, (size_t)k);
}
static const struct coffer_app a = { sizeof(struct coffer_app), 1, "owner", "1",
	NULL, p, NULL, NULL, NULL };
COFFER_APP_EXPORT(a)
EOF
"$CC" -shared -fPIC -I"$COFFER_SRC/include" -o "$T/owner.so" "$T/owner.c" ||
	bail "cannot build the test plugin"

mkdir -p "$T/in"
for f in hosp-a-1.csv hosp-a-2.csv hosp-ab-1.csv other.csv; do echo x > "$T/in/$f"; done
coffer run --app "$T/owner.so" --inputs "$T/in" --outputs "$T/out" --replicas 2 --quiet \
	--owner hosp-a-=A --owner hosp-ab-=AB > "$T/run.out" 2> "$T/run.err"
eq "coffer run with an owner map: exit 0" 0 $?
eq "the plugin gets the owner of the longest matching prefix" "owner=A owner=A owner=AB" \
	"$(cat "$T"/out/hosp-a-1.csv "$T"/out/hosp-a-2.csv "$T"/out/hosp-ab-1.csv | cut -d' ' -f2 | xargs)"
eq "an input no prefix names has no owner (NULL)" "owner=(none)" "$(cut -d' ' -f2 "$T/out/other.csv")"
eq "the item struct has the appended field (LP64: 32 bytes)" "size=32" "$(cut -d' ' -f1 "$T/out/other.csv")"
grep -q "input 'other.csv' has no owner (no --owner prefix matches it)" "$T/run.err"
ok $? "coffer run says which inputs have no owner"

out=$(coffer run --app "$T/owner.so" --inputs "$T/in" --outputs "$T/out2" --owner hosp-c-=C 2>&1)
rc=$?
[ $rc -eq 2 ] && [[ $out == *"--owner 'hosp-c-=C': no input name starts with 'hosp-c-'"* ]]
ok $? "a prefix that names no input is refused (a typo), exit $rc"
out=$(coffer run --app "$T/owner.so" --inputs "$T/in" --outputs "$T/out2" --owner hosp-a 2>&1)
[[ $out == *"--owner 'hosp-a': expected PREFIX=NAME"* ]]
ok $? "--owner without '=' is a usage error"
out=$(coffer run --app "$T/owner.so" --inputs "$T/in" --outputs "$T/out2" --owner 'hosp-a-=St Mary' 2>&1)
[ $? -ne 0 ] && [[ $out == *"the name must be 1-128 printable ASCII characters, no space"* ]]
ok $? "an owner name with a space is refused before the job starts"
[ ! -e "$T/out2/hosp-a-1.csv" ]
ok $? "... and nothing ran"

# Executables get COFFER_ITEM_OWNER when the item has an owner.
printf '#!/bin/sh\necho "owner=${COFFER_ITEM_OWNER-unset}"\n' > "$T/owner.sh"
chmod +x "$T/owner.sh"
coffer run --app "$T/owner.sh" --inputs "$T/in" --outputs "$T/out3" --replicas 2 --quiet \
	--owner hosp-a-=A > /dev/null 2>&1
eq "an executable gets COFFER_ITEM_OWNER, unset when unknown" "owner=A owner=unset" \
	"$(cat "$T/out3/hosp-a-1.csv" "$T/out3/other.csv" | xargs)"

# The worker's own configuration: COFFER_OWNERS with %XX escapes, flags.
start_redis
"$COFFER_BUILD/tests/tools/queuectl" load "$REDIS_URL" ownjob hosp-a-1.csv other.csv > /dev/null
COFFER_OWNERS='hosp%2Da-=A%40x&oth=O' coffer-worker --job ownjob --redis "$REDIS_URL" \
	--store "$T/in" --outputs "$T/out4" --app "$T/owner.so" --exit-when-done 2> "$T/w.log"
eq "COFFER_OWNERS (with %XX escapes) sets the map" "owner=A@x owner=O" \
	"$(cat "$T/out4/hosp-a-1.csv" "$T/out4/other.csv" | cut -d' ' -f2 | xargs)"
out=$(COFFER_OWNERS='a=A&a=B' coffer-worker --check-app --app "$T/owner.so" 2>&1)
[ $? -eq 2 ] && [[ $out == *"owner prefix 'a' is given twice"* ]]
ok $? "a prefix given twice is a bad configuration (exit 2)"
out=$(coffer-worker --check-app --app "$T/owner.so" --owner 'a=' 2>&1)
[ $? -eq 2 ] && [[ $out == *"--owner: owner of prefix 'a': the name must be 1-128"* ]]
ok $? "an empty owner name is a bad configuration (exit 2)"
