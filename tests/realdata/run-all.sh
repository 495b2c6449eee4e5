#!/bin/bash
# make check-realdata: run every per-plugin check in this folder over the
# real snapshots in $REALDATA and sum their "N passed, N failed" lines.
# A missing REALDATA is a failure, never a skip: the check was asked for.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${REALDATA:-}" ] || [ ! -d "$REALDATA" ]; then
	echo "check-realdata: REALDATA folder '${REALDATA:-}' does not exist" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
passed=0
failed=0
for script in "$here"/*.sh; do
	[ "$(basename "$script")" = run-all.sh ] && continue
	echo "== $(basename "$script" .sh)"
	out=$(bash "$script" 2>&1)
	rc=$?
	echo "$out"
	line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -n "$line" ]; then
		passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
		failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
	fi
	# A script that failed without saying how many counts once.
	if [ "$rc" != 0 ] && { [ -z "$line" ] || [ "$(echo "$line" | cut -d' ' -f3)" = 0 ]; }; then
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
