#!/bin/sh
# The documentation in step with the program: every man page renders
# without a warning (groff -ww and man -l); modelfuse(1) documents every
# command, option, variable and exit status of `modelfuse --help`;
# modelfuse.ini(5) and the README's configuration table list the same keys
# with the same defaults; every built plugin has its entry in
# modelfuse-sources(7); modelfuse-plugin(7) explains every host service and
# status of <modelfuse/plugin.h> (tests/check-docs.py does those). Then the
# files made at build time: the sample config passes check-config, and the
# systemd units and cron example hold the configured paths.
# Exit 0: pass, 1: fail, 77: skip (no groff or python3), 99: not run by make check.

set -u

for v in MF_TEST_SRCDIR MF_TEST_BUILDDIR MF_TEST_PROGRAM MF_TEST_PLUGIN_DIR; do
	eval "val=\${$v:-}"
	if [ -z "$val" ]; then
		echo "test-docs: $v is not set: run this test through make check" >&2
		exit 99
	fi
done
srcdir=$MF_TEST_SRCDIR
# The shipped data files, from the source tree unless the harness says else.
MODELFUSE_DATADIR=${MODELFUSE_DATADIR:-$srcdir/data}
export MODELFUSE_DATADIR
build=$MF_TEST_BUILDDIR
prog=$MF_TEST_PROGRAM
for tool in groff python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "test-docs: SKIP: $tool not found (scripts/install-deps installs it)"
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mf-docs.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
pass() {
	passed=$((passed + 1))
	echo "PASS: $*"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}

# ---- 1. every page renders without a warning
pages="modelfuse.1 modelfuse.ini.5 modelfuse-plugin.7 modelfuse-sources.7"
for page in $pages; do
	file=$srcdir/doc/$page
	if [ ! -f "$file" ]; then
		fail "doc/$page is missing"
		continue
	fi
	if LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$file" >"$tmp/groff.err" 2>&1 &&
		[ ! -s "$tmp/groff.err" ]; then
		pass "groff -man -ww renders $page without a warning"
	else
		cat "$tmp/groff.err"
		fail "groff -man -ww warns on $page"
	fi
	# man -l runs the page through man-db's own pipeline (preconv, tbl).
	if command -v man >/dev/null 2>&1; then
		if LC_ALL=C.UTF-8 MANWIDTH=80 MAN_DISABLE_SECCOMP=1 man --warnings -l "$file" \
			>"$tmp/man.out" 2>"$tmp/man.err" && [ ! -s "$tmp/man.err" ] &&
			[ -s "$tmp/man.out" ]; then
			pass "man -l renders $page without a warning"
		else
			cat "$tmp/man.err"
			fail "man -l fails or warns on $page"
		fi
	fi
done

# ---- 2. the pages against the program, the README and the SDK header
"$prog" --help >"$tmp/help.txt" 2>&1 || fail "modelfuse --help exits non-zero"
: >"$tmp/empty.ini"
MODELFUSE_PLUGIN_DIR=$MF_TEST_PLUGIN_DIR "$prog" -c "$tmp/empty.ini" plugins \
	>"$tmp/plugins.txt" 2>/dev/null
version=$("$prog" --version | sed -n 's/^modelfuse \([^ ]*\).*/\1/p')
[ -n "$version" ] || fail "modelfuse --version prints no version"
python3 "$srcdir/tests/check-docs.py" "$srcdir" "$tmp/help.txt" "$tmp/plugins.txt" \
	"$version" >"$tmp/check.out" 2>&1
cat "$tmp/check.out"
line=$(sed -n 's/^check-docs: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$tmp/check.out")
if [ -n "$line" ]; then
	passed=$((passed + ${line% *}))
	failed=$((failed + ${line#* }))
else
	fail "check-docs.py did not finish"
fi

# Every reference page of doc/sources/ is distributed and installed.
for md in "$srcdir"/doc/sources/*.md; do
	[ -f "$md" ] || continue
	rel=doc/sources/$(basename "$md")
	if awk -v f="$rel" '{ for (i = 1; i <= NF; i++) if ($i == f) found = 1 }
		END { exit !found }' "$srcdir/doc/doc.am"; then
		pass "$rel is installed (doc/doc.am)"
	else
		fail "$rel is not listed in doc/doc.am"
	fi
done

# ---- 3. files made at build time
sample=$build/etc/modelfuse.ini.sample
if [ -f "$sample" ]; then
	if grep -n '@[a-zA-Z_]*@' "$sample"; then
		fail "modelfuse.ini.sample holds an unreplaced @placeholder@"
	else
		pass "modelfuse.ini.sample has every placeholder replaced"
	fi
	if MODELFUSE_PLUGIN_DIR=$MF_TEST_PLUGIN_DIR "$prog" -c "$sample" check-config \
		>"$tmp/cc.out" 2>&1; then
		pass "the installed sample config passes check-config"
	else
		cat "$tmp/cc.out"
		fail "the installed sample config fails check-config"
	fi
else
	fail "etc/modelfuse.ini.sample was not built"
fi

# The configured folders, as make expands them.
bindir=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$build" --no-print-directory \
	print-mf-dirs 2>/dev/null | sed -n 's/^bindir=//p')
for unit in etc/systemd/modelfuse.service etc/systemd/modelfuse.timer \
	etc/sysusers.d/modelfuse.conf etc/tmpfiles.d/modelfuse.conf etc/cron.d/modelfuse; do
	file=$build/$unit
	if [ ! -f "$file" ]; then
		fail "$unit was not built"
		continue
	fi
	if grep -n '@[a-zA-Z_]*@' "$file"; then
		fail "$unit holds an unreplaced @placeholder@"
	else
		pass "$unit has every placeholder replaced"
	fi
done
service=$build/etc/systemd/modelfuse.service
if [ -f "$service" ] && [ -n "$bindir" ]; then
	if grep -q "^ExecStart=$bindir/modelfuse " "$service" &&
		grep -q "$bindir/modelfuse " "$build/etc/cron.d/modelfuse"; then
		pass "the service and the cron example run $bindir/modelfuse"
	else
		fail "the service or the cron example does not run $bindir/modelfuse"
	fi
	for key in Type=oneshot User=modelfuse ProtectSystem=strict NoNewPrivileges=yes \
		PrivateTmp=yes ProtectHome=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
		SystemCallFilter=@system-service ReadWritePaths=; do
		if grep -q "^$key" "$service"; then
			pass "modelfuse.service sets $key"
		else
			fail "modelfuse.service does not set $key"
		fi
	done
	for key in OnCalendar=daily RandomizedDelaySec= Persistent=true WantedBy=timers.target; do
		if grep -q "^$key" "$build/etc/systemd/modelfuse.timer"; then
			pass "modelfuse.timer sets $key"
		else
			fail "modelfuse.timer does not set $key"
		fi
	done
else
	fail "cannot tell the configured bindir (make print-mf-dirs)"
fi

echo "MF-TESTS: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
