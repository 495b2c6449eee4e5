#!/bin/sh
# Check the installed systemd units with systemd's own tools, against a real
# installed prefix (the units name the installed program, and their
# Documentation= names the installed man pages, which must all exist).
#
#   sh tests/verify-units.sh PREFIX
#       verify the units `make install` put under PREFIX
#   sh tests/verify-units.sh --build [BUILDDIR]
#       make a fresh copy of the sources from BUILDDIR (default: the source
#       tree, configured in place as scripts/build does), configure it with
#       --prefix=<temporary folder>, `make install`, and verify that
#
# Checks: `systemd-analyze verify` of the service and the timer with no
# complaint at all (it exits 0 even on unknown keys, so any output fails);
# the hardening exposure of `systemd-analyze security` at most 2.0; the
# timer's calendar; ExecStart naming the installed program; the sysusers.d
# and tmpfiles.d files beside them.
# Exit 0: pass, 1: fail, 77: systemd-analyze is not installed.

set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(dirname "$here")

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "verify-units: SKIP: systemd-analyze not found (apt-get install systemd)"
	exit 77
fi

fail() {
	echo "verify-units: FAIL: $*"
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mf-units.XXXXXX") || exit 1
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

# ---- --build: a fresh tree installed under a temporary prefix
if [ "${1:-}" = --build ]; then
	build=${2:-$srcdir}
	[ -f "$build/Makefile" ] || fail "$build is not configured (run scripts/build first)"
	# distdir gives a clean source tree even when the sources were
	# configured in place (a VPATH build of those is refused).
	env -u MAKEFLAGS -u MAKELEVEL make -C "$build" distdir distdir="$tmp/src" \
		>"$tmp/distdir.log" 2>&1 || {
		tail -n 30 "$tmp/distdir.log"
		fail "make distdir failed"
	}
	mkdir "$tmp/build" || exit 1
	(cd "$tmp/build" && env -u MAKEFLAGS -u MAKELEVEL sh -c '
		"$1/configure" -q --prefix="$2" &&
		make -j"$(nproc 2>/dev/null || echo 2)" install' sh "$tmp/src" "$tmp/prefix") \
		>"$tmp/install.log" 2>&1 || {
		tail -n 40 "$tmp/install.log"
		fail "configure --prefix=$tmp/prefix && make install failed"
	}
	set -- "$tmp/prefix"
fi

prefix=${1:-}
[ -n "$prefix" ] && [ -d "$prefix" ] || {
	echo "usage: verify-units.sh PREFIX | --build [BUILDDIR]" >&2
	exit 1
}
prefix=$(cd "$prefix" && pwd)

service=$(find "$prefix" -name modelfuse.service -type f | head -n 1)
[ -n "$service" ] || fail "no modelfuse.service installed under $prefix"
unitdir=$(dirname "$service")
timer=$unitdir/modelfuse.timer
[ -f "$timer" ] || fail "no modelfuse.timer beside $service"
echo "verify-units: units in $unitdir"

# ExecStart names the installed program, not a build tree.
exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$service")
case $exec_path in
"$prefix"/*) ;;
*) fail "ExecStart=$exec_path is not under the prefix $prefix" ;;
esac
[ -x "$exec_path" ] || fail "ExecStart=$exec_path is not an installed program"
grep -q '@[a-zA-Z_]*@' "$service" "$timer" && fail "a unit still holds an @placeholder@"

# Documentation=man:... is checked with man(1): point it at the prefix.
MANPATH=${MF_MANDIR:-$prefix/share/man}
export MANPATH
if ! systemd-analyze verify "$service" "$timer" >"$tmp/verify.log" 2>&1; then
	cat "$tmp/verify.log"
	fail "systemd-analyze verify failed"
fi
if [ -s "$tmp/verify.log" ]; then
	cat "$tmp/verify.log"
	fail "systemd-analyze verify complained"
fi
echo "verify-units: systemd-analyze verify: clean"

systemd-analyze security --offline=true --threshold=20 --no-pager "$service" \
	>"$tmp/security.log" 2>&1 || {
	tail -n 50 "$tmp/security.log"
	fail "the service's exposure is above 2.0 (systemd-analyze security)"
}
grep 'Overall exposure' "$tmp/security.log" | sed 's/^/verify-units: /'

calendar=$(sed -n 's/^OnCalendar=//p' "$timer")
[ -n "$calendar" ] || fail "the timer has no OnCalendar="
systemd-analyze calendar "$calendar" >/dev/null 2>&1 || fail "OnCalendar=$calendar does not parse"

for f in sysusers.d tmpfiles.d; do
	conf=$(find "$prefix" -path "*/$f/modelfuse.conf" -type f | head -n 1)
	[ -n "$conf" ] || fail "no $f/modelfuse.conf installed under $prefix"
done
echo "verify-units: PASS"
exit 0
