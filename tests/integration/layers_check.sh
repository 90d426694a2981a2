#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# scripts/check-layers passes on the tree, and fails, naming the file, the
# line and the forbidden edge, on each kind of violation planted in a copy:
# an #include, a symbol use, a trusted binary's link and its libraries, a
# folder missing from the table (doc/DEVELOPING.md "Layers"). And
# scripts/check-banned refuses random bytes from elsewhere than coffer_random().
# timeout: 300
. "$(dirname "$0")/lib.sh"
plan 40

# A copy of the sources, and of the built objects, maps and binaries.
R=$T/tree
B=$T/build
mkdir -p "$R" "$B/obj" || bail "mkdir"
cp -r "$COFFER_SRC/src" "$COFFER_SRC/include" "$COFFER_SRC/apps" "$COFFER_SRC/scripts" "$R/" ||
	bail "cannot copy the tree"
cp -r "$COFFER_BUILD/obj/src" "$B/obj/" && cp -r "$COFFER_BUILD/maps" "$COFFER_BUILD/bin" "$B/" ||
	bail "cannot copy the build (make first)"

layers() { "$R/scripts/check-layers" --root "$R" --build "$B" "$@" >"$T/out" 2>&1; }

# expect_violation "description" "text the message must contain" [check-layers options]
expect_violation() {
	layers "${@:3}"
	local rc=$?
	if [ $rc -eq 1 ] && grep -qF -- "$2" "$T/out"; then
		ok 0 "$1"
	else
		ok 1 "$1"
		diag "exit $rc, expected 1 and: $2"
		sed 's/^/#   /' "$T/out"
	fi
}

layers
ok $? "the tree passes"
grep -q '^check-layers: OK' "$T/out"
ok $? "and says so"
layers --includes-only
ok $? "the tree passes with --includes-only"

# --- 1. #include edges -------------------------------------------------------------
# plant_include FILE HEADER: add the line after FILE's last #include; sets LINE.
plant_include() {
	cp "$R/$1" "$T/saved"
	LINE=$(grep -n '^#include' "$R/$1" | tail -1 | cut -d: -f1)
	sed -i "${LINE}a #include \"$2\"" "$R/$1"
	LINE=$((LINE + 1))
}
unplant_include() { cp "$T/saved" "$R/$1"; }

# The first planted include through the whole check (as `make test` runs
# it), the others through --includes-only: the same pass over the sources,
# without the nm, map and ldd passes that cannot see an #include and cost
# half a second each time.
inc_opts=()
for edge in "src/crypto/box.c tee/tee_int.h src/tee" \
	"src/lib/buf.c crypto/aead.h src/crypto" \
	"src/worker/item.c manager/mgr.h src/manager" \
	"src/worker/item.c actuator/actuator.h src/actuator" \
	"src/http/router.c crypto/hash.h src/crypto" \
	"src/store/store.h controllers/registry.h src/controllers"; do
	read -r f h to <<<"$edge"
	from=$(dirname "$f")
	plant_include "$f" "$h"
	expect_violation "#include \"$h\" in $f fails" \
		"$f:$LINE: #include \"$h\": $from -> $to is forbidden" "${inc_opts[@]}"
	unplant_include "$f"
	inc_opts=(--includes-only)
done

# A relative include is resolved.
plant_include src/crypto/sealed.c ../tee/tee_int.h
expect_violation "a relative #include is resolved" \
	"src/crypto/sealed.c:$LINE: #include \"../tee/tee_int.h\": src/crypto -> src/tee is forbidden" \
	--includes-only
unplant_include src/crypto/sealed.c
# Apps build against the public headers alone.
app=$(cd "$R/apps" && ls -d */ | head -1)
app=${app%/}
f=apps/$app/$(cd "$R/apps/$app" && ls *.c | head -1)
plant_include "$f" lib/buf.h
expect_violation "an app including src/lib fails" \
	"$f:$LINE: #include \"lib/buf.h\": apps/$app -> src/lib is forbidden" --includes-only
unplant_include "$f"

layers
ok $? "the tree passes again once the includes are removed"

# --- 2. symbol edges ------------------------------------------------------------
# plant_use FROM TO: an object of folder FROM calling a function that an
# object of folder TO defines (no include needed: a local prototype).
plant_use() {
	local from=$1 to=$2 sym
	sym=$(nm -g --defined-only "$B/obj/$to"/*.o | awk '$2 == "T" && $3 != "main" { print $3; exit }')
	[ -n "$sym" ] || bail "no function defined in $to"
	SYM=$sym
	cat >"$R/$from/planted.c" <<-EOF
		// Planted by tests/integration/layers_check.sh.
		void $sym(void);
		void planted(void);

		void
		planted(void)
		{
			$sym();
		}
	EOF
	cc -g -c -o "$B/obj/$from/planted.o" "$R/$from/planted.c" || bail "cannot compile the planted use"
}
unplant_use() { rm -f "$R/$1/planted.c" "$B/obj/$1/planted.o"; }

for edge in "src/crypto src/tee" "src/lib src/crypto" "src/http src/crypto" "src/http src/queue" \
	"src/worker src/manager" "src/worker src/actuator" "src/worker src/controllers" \
	"src/queue src/actuator" "src/tee src/http"; do
	read -r from to <<<"$edge"
	plant_use "$from" "$to"
	expect_violation "$from using a symbol of $to fails" \
		"$from/planted.c:8: uses $SYM (defined in $to/"
	grep -qF -- "): $from -> $to is forbidden" "$T/out"
	ok $? "  and names the edge $from -> $to"
	unplant_use "$from"
done
# A stale object (its source removed) is not the tree's.
plant_use src/crypto src/tee
rm "$R/src/crypto/planted.c"
layers
ok $? "an object whose source is gone is ignored"
unplant_use src/crypto

# --- 3. a trusted binary's link and libraries -------------------------------------
# A coordinator (a folder that may not exist yet) whose link holds an
# actuator object and that loads hiredis.
mkdir -p "$R/src/coordinator" "$B/obj/src/coordinator"
printf 'int main(void);\nint\nmain(void)\n{\n\treturn 0;\n}\n' >"$R/src/coordinator/main.c"
cc -g -c -o "$B/obj/src/coordinator/main.o" "$R/src/coordinator/main.c" &&
	cc -o "$B/bin/coffer-coordinator" -Wl,-Map="$B/maps/coffer-coordinator.map" \
		"$B/obj/src/coordinator/main.o" "$B/obj/src/actuator/local.o" \
		-Wl,--unresolved-symbols=ignore-all -Wl,--no-as-needed -lhiredis ||
	bail "cannot link the planted coordinator"
expect_violation "a coordinator linking an actuator object fails" \
	"coffer-coordinator links src/actuator/local.o: src/coordinator -> src/actuator is forbidden"
expect_violation "a coordinator loading hiredis fails" \
	"coffer-coordinator loads libhiredis"
rm -rf "$R/src/coordinator" "$B/obj/src/coordinator" "$B/bin/coffer-coordinator"

# --- 4. a folder the table does not know -------------------------------------------
mkdir -p "$R/src/plugins"
echo '// Planted.' >"$R/src/plugins/x.c"
expect_violation "a folder missing from the table fails" "src/plugins: folder missing from the layer table"
rm -rf "$R/src/plugins"

layers
ok $? "the tree passes again at the end"

# --- 5. random bytes only from coffer_random() (scripts/check-banned) -----------
"$R/scripts/check-banned" >"$T/out" 2>&1
ok $? "check-banned passes on the tree"
for plant in "src/crypto/box.c RAND_bytes(w, 12);" "src/worker/item.c getrandom(buf, 4, 0);" \
	"src/lib/buf.c RAND_priv_bytes(k, 32);" "src/manager/tokens.c random();"; do
	read -r f call <<<"$plant"
	cp "$R/$f" "$T/saved"
	echo "/* planted */ static void planted(void) { $call }" >>"$R/$f"
	line=$(wc -l <"$R/$f")
	"$R/scripts/check-banned" >"$T/out" 2>&1
	rc=$?
	grep -qF "$f:$line:" "$T/out" && grep -q 'random bytes from elsewhere than coffer_random()' "$T/out"
	ok $((rc == 1 ? $? : 1)) "check-banned refuses ${call%%(*}() in $f"
	cp "$T/saved" "$R/$f"
done
