#!/bin/sh
# The SDK as a third-party plugin author gets it (SPEC §12): stage a
# `make install` of this build, check that the installed header compiles
# alone as strict C11, build examples/plugin-hello out of tree against the
# staged header and pkg-config file only, run its own test, install it with
# its own Makefile, have the staged modelfuse list it, and run it in a real
# `modelfuse run` whose catalog.json must hold its records.
# Exit 0: pass, 1: fail, 77: skip (no pkg-config), 99: not run by make check.

set -u

for v in MF_TEST_SRCDIR MF_TEST_BUILDDIR; do
	eval "val=\${$v:-}"
	if [ -z "$val" ]; then
		echo "test-sdk: $v is not set: run this test through make check" >&2
		exit 99
	fi
done

PKG_CONFIG=${PKG_CONFIG:-pkg-config}
if ! command -v "$PKG_CONFIG" >/dev/null 2>&1; then
	echo "test-sdk: SKIP: $PKG_CONFIG not found"
	exit 77
fi
CC=${CC:-cc}
MAKE=${MAKE:-make}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mf-sdk.XXXXXX") || exit 99
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
stage=$tmp/stage

fail() {
	echo "test-sdk: FAIL: $*"
	exit 1
}

# Show the end of a log when a step fails.
fail_log() {
	log=$1
	shift
	tail -n 40 "$log"
	fail "$@"
}

# A clean environment for the nested makes: the harness's MAKEFLAGS may carry
# jobserver descriptors and variable overrides meant for the outer make, and
# no include path may leak in from the caller.
quiet_env() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u DESTDIR -u CPATH -u C_INCLUDE_PATH \
		-u CPPFLAGS -u CFLAGS -u LDFLAGS "$@"
}

# ---- 1. stage the install
quiet_env "$MAKE" -C "$MF_TEST_BUILDDIR" install DESTDIR="$stage" >"$tmp/install.log" 2>&1 ||
	fail_log "$tmp/install.log" "make install DESTDIR=$stage failed"

pcfile=$(find "$stage" -name modelfuse-plugin.pc -type f | head -n 1)
[ -n "$pcfile" ] || fail "modelfuse-plugin.pc was not installed"
header=$(find "$stage" -path '*/include/modelfuse/plugin.h' -type f | head -n 1)
[ -n "$header" ] || fail "modelfuse/plugin.h was not installed"
prog=$(find "$stage" -path '*/bin/modelfuse' -type f | head -n 1)
[ -n "$prog" ] || fail "the modelfuse program was not installed"

# The staged program's built-in data folder is outside the stage: point it
# at the staged one, so that the run below uses the installed data files.
datadir=$(find "$stage" -path '*/share/modelfuse' -type d | head -n 1)
[ -n "$datadir" ] || fail "no share/modelfuse folder was installed"
MODELFUSE_DATADIR=$datadir
export MODELFUSE_DATADIR

# Only the staged .pc file is visible, with its paths moved under the stage.
PKG_CONFIG_PATH=$(dirname "$pcfile")
PKG_CONFIG_LIBDIR=$PKG_CONFIG_PATH
PKG_CONFIG_SYSROOT_DIR=$stage
# Keep -I even when the prefix's include folder is a system one (/usr).
PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_ALLOW_SYSTEM_CFLAGS

"$PKG_CONFIG" --exists modelfuse-plugin || fail "pkg-config does not find modelfuse-plugin"
sdk_cflags=$("$PKG_CONFIG" --cflags modelfuse-plugin) || fail "pkg-config --cflags failed"
case $sdk_cflags in
*"$stage"*) ;;
*) fail "pkg-config --cflags modelfuse-plugin ($sdk_cflags) does not point into the install" ;;
esac

# ---- 2. the header alone, strict C11, no JSON library type
strict="-std=c11 -Wall -Wextra -Werror -pedantic"
cat >"$tmp/alone.c" <<'EOF'
#include <modelfuse/plugin.h>

static int fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
		 const struct mf_page *prev, struct mf_request *req)
{
	(void)host; (void)ctx; (void)state; (void)prev; (void)req;
	return MF_DONE;
}

static int normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
		     const struct mf_page *page)
{
	(void)host; (void)ctx; (void)state; (void)page;
	return MF_OK;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR, .abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "alone", .version = "0", .fetch = fetch, .normalize = normalize,
};
EOF
# shellcheck disable=SC2086 # flag lists are meant to split
quiet_env "$CC" $strict $sdk_cflags -c "$tmp/alone.c" -o "$tmp/alone.o" >"$tmp/alone.log" 2>&1 ||
	fail_log "$tmp/alone.log" "the installed header does not compile alone as strict C11"
# shellcheck disable=SC2086
quiet_env "$CC" $strict $sdk_cflags -fsyntax-only -x c "$header" >"$tmp/header.log" 2>&1 ||
	fail_log "$tmp/header.log" "the installed header does not compile on its own"
if grep -Eq '#[[:space:]]*include[[:space:]]*<jansson|json_t([^a-z_]|$)' "$header"; then
	fail "the SDK header exposes jansson"
fi

# ---- 3. build the example out of tree (srcdir may be read-only: copy it)
cp -R "$MF_TEST_SRCDIR/examples/plugin-hello" "$tmp/hello-plugin" || fail "cannot copy the example"
chmod -R u+w "$tmp/hello-plugin"
rm -f "$tmp/hello-plugin/hello.so"
quiet_env "$MAKE" -C "$tmp/hello-plugin" CC="$CC" PKG_CONFIG="$PKG_CONFIG" \
	>"$tmp/build.log" 2>&1 || fail_log "$tmp/build.log" "the example plugin does not build"
[ -f "$tmp/hello-plugin/hello.so" ] || fail "the example's make produced no hello.so"

# The header it compiled against is the staged one, not the source tree's.
# shellcheck disable=SC2086
deps=$(quiet_env "$CC" -std=c11 $sdk_cflags -M "$tmp/hello-plugin/hello.c") ||
	fail "cannot list the example's dependencies"
case $deps in
*"$stage"*/modelfuse/plugin.h*) ;;
*) fail "the example did not use the installed header" ;;
esac
if command -v readelf >/dev/null 2>&1; then
	readelf -d "$tmp/hello-plugin/hello.so" | grep NEEDED | grep -q jansson &&
		fail "hello.so links jansson"
	readelf --dyn-syms -W "$tmp/hello-plugin/hello.so" | grep -q ' modelfuse_plugin$' ||
		fail "hello.so does not export modelfuse_plugin"
fi

# ---- 3b. the example's own test, through the staged program
quiet_env "$MAKE" -C "$tmp/hello-plugin" check MODELFUSE="$prog" PKG_CONFIG="$PKG_CONFIG" \
	>"$tmp/check.log" 2>&1 || fail_log "$tmp/check.log" "the example's own test (make check) fails"

# ---- 4. install it with its own Makefile into the staged plugin folder
plugindir=$("$PKG_CONFIG" --variable=plugindir modelfuse-plugin)
[ -n "$plugindir" ] || fail "pkg-config gives no plugindir variable"
# pkgconf puts the sysroot in front of variables, pkg-config does not.
case $plugindir in
"$stage"/*) destdir= ;;
*) destdir=$stage ;;
esac
quiet_env "$MAKE" -C "$tmp/hello-plugin" install DESTDIR="$destdir" PKG_CONFIG="$PKG_CONFIG" \
	>"$tmp/plugin-install.log" 2>&1 ||
	fail_log "$tmp/plugin-install.log" "make install of the example failed"
installed=$destdir$plugindir/hello.so
[ -f "$installed" ] || fail "hello.so was not installed into $destdir$plugindir"

# ---- 5. the staged program loads it (from the installed plugin folder)
: >"$tmp/empty.ini"
out=$(MODELFUSE_CONFIG="$tmp/empty.ini" MODELFUSE_PLUGIN_DIR="$destdir$plugindir" \
	"$prog" plugins 2>"$tmp/plugins.err")
rc=$?
if [ $rc -ne 0 ]; then
	cat "$tmp/plugins.err"
	fail "modelfuse plugins exited with status $rc"
fi
printf '%s\n' "$out" | grep -Eq '^hello([[:space:]]|$)' || {
	printf '%s\n' "$out"
	cat "$tmp/plugins.err"
	fail "modelfuse plugins does not list hello"
}

# ---- 6. a real run: the installed hello.so among the installed plugins,
# enabled in the config next to nothing else, its records in the catalog.
mkdir -p "$tmp/run" || fail "cannot make $tmp/run"
cp "$MF_TEST_SRCDIR/examples/plugin-hello/models.txt" "$tmp/run/models.txt" ||
	fail "cannot copy models.txt"
cat >"$tmp/run/modelfuse.ini" <<EOT
[core]
plugin_dir = $destdir$plugindir
cache_dir = cache
output_dir = out

[source hello]
url = file:models.txt
EOT
"$prog" -c "$tmp/run/modelfuse.ini" run >"$tmp/run.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail_log "$tmp/run.log" "modelfuse run with the hello plugin exited $rc"
catalog=$tmp/run/out/catalog.json
[ -f "$catalog" ] || fail "the run wrote no catalog.json"
if command -v python3 >/dev/null 2>&1; then
	python3 - "$catalog" <<'EOT' || fail "catalog.json lacks the hello plugin's records"
import json, sys
cat = json.load(open(sys.argv[1]))
src = [s for s in cat["sources"] if s["name"] == "hello"]
assert src and src[0]["plugin"] == "hello" and src[0]["status"] == "fresh", src
assert src[0]["records"] == 3, src
ids = {i for m in cat["models"] for i in m["source_ids"].get("hello", [])}
want = {"gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022", "mistral-large-2407"}
assert ids == want, ids
names = {o["name"] for m in cat["models"] for o in m["offerings"] if o["source"] == "hello"}
assert "Claude 3.5 Sonnet" in names, names
EOT
else
	for id in gpt-4o-2024-08-06 claude-3-5-sonnet-20241022 mistral-large-2407; do
		grep -q "\"$id\"" "$catalog" || fail "catalog.json lacks $id from the hello plugin"
	done
fi

# The listing goes to tests/test-sdk.log for whoever reads it.
printf '%s\n' "$out"
echo "test-sdk: PASS: header alone, out-of-tree build, own test, install, load and run of the example plugin"
exit 0
