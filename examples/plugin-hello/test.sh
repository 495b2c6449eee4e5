#!/bin/sh
# The hello plugin's own test, run by `make check`: load hello.so from this
# folder through the real modelfuse (its loader, option checks and a real
# run over models.txt), and check what reaches the catalog.
#   MODELFUSE=/path/to/modelfuse sh test.sh     (default: modelfuse on PATH)
# Exit 0 when every check passes, 1 otherwise.
set -u
MODELFUSE=${MODELFUSE:-modelfuse}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$here/hello.so" ] || { echo "test: build hello.so first (make)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hello-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
check() {
	# check DESCRIPTION COMMAND...: passes when the command succeeds
	what=$1
	shift
	if "$@"; then
		echo "PASS: $what"
	else
		echo "FAIL: $what"
		failed=$((failed + 1))
	fi
}

# Run a command with its output dropped (only its status counts).
quiet() {
	"$@" >/dev/null 2>&1
}

# A configuration of our own: the plugin folder is this one, the listing
# is read through a file: URL relative to the configuration file.
cp "$here/models.txt" "$tmp/models.txt"
write_config() {
	cat >"$tmp/modelfuse.ini" <<EOT
[core]
plugin_dir = $here
cache_dir = cache
output_dir = out

[source hello]
url = file:models.txt
$1
EOT
}

write_config ""
"$MODELFUSE" -c "$tmp/modelfuse.ini" plugins >"$tmp/plugins.out" 2>&1
check "modelfuse plugins lists hello" grep -q '^hello ' "$tmp/plugins.out"
check "check-config accepts the source" \
	quiet "$MODELFUSE" -c "$tmp/modelfuse.ini" check-config

"$MODELFUSE" -c "$tmp/modelfuse.ini" run >"$tmp/run.out" 2>&1
rc=$?
check "a run over models.txt exits 0" test "$rc" -eq 0
for id in gpt-4o-2024-08-06 claude-3-5-sonnet-20241022 mistral-large-2407; do
	check "$id reaches catalog.json" grep -q "\"$id\"" "$tmp/out/catalog.json"
done

# Options are checked by the core before the plugin runs.
write_config "max_models = many"
check "a bad option value is a configuration error (exit 2)" \
	sh -c '"$1" -c "$2" check-config >/dev/null 2>&1; test $? -eq 2' sh \
	"$MODELFUSE" "$tmp/modelfuse.ini"

# only_provider keeps one provider's offerings.
write_config "only_provider = mistral"
rm -rf "$tmp/cache" "$tmp/out"
"$MODELFUSE" -c "$tmp/modelfuse.ini" run >/dev/null 2>&1
check "only_provider = mistral keeps mistral" grep -q '"mistral-large-2407"' "$tmp/out/catalog.json"
check "only_provider = mistral drops openai" \
	sh -c '! grep -q "\"gpt-4o-2024-08-06\"" "$1"' sh "$tmp/out/catalog.json"

# A malformed line refuses the page: with no cache to fall back on, nothing
# is written and the run says so (exit 3).
rm -rf "$tmp/cache" "$tmp/out"
write_config ""
printf 'openai\tonly-two-fields\n' >"$tmp/models.txt"
"$MODELFUSE" -c "$tmp/modelfuse.ini" run >/dev/null 2>"$tmp/bad.err"
rc=$?
check "a malformed listing yields no catalog (exit 3)" test "$rc" -eq 3
check "the error names the line" grep -q 'line 1' "$tmp/bad.err"

if [ "$failed" -ne 0 ]; then
	echo "--- what the first run printed:"
	cat "$tmp/run.out"
	echo "$failed check(s) failed"
	exit 1
fi
echo "all checks passed"
