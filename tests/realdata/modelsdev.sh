#!/bin/bash
# Checks over the real upstream snapshots (make check-realdata). For every
# models.dev snapshot in $REALDATA/modelsdev, run the whole program on it
# and check that catalog.json holds exactly one modelsdev offering per model
# of the file and that every provider/model key appears once in source_ids.
#
# Environment: REALDATA (the shared realdata folder), MF_TEST_PROGRAM (the
# built modelfuse), MF_TEST_PLUGIN_DIR (the built plugins). A missing
# REALDATA folder is a failure, never a skip: the check was asked for.
set -u

fail_setup() {
	echo "check-realdata: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

[ -n "${REALDATA:-}" ] ||
	fail_setup "REALDATA is not set (make check-realdata REALDATA=DIR)"
[ -d "$REALDATA" ] || fail_setup "REALDATA folder $REALDATA does not exist"
[ -d "$REALDATA/modelsdev" ] || fail_setup "$REALDATA/modelsdev does not exist"
[ -n "${MF_TEST_PROGRAM:-}" ] || fail_setup "MF_TEST_PROGRAM is not set"
[ -x "$MF_TEST_PROGRAM" ] ||
	fail_setup "program $MF_TEST_PROGRAM is missing or not executable"
[ -n "${MF_TEST_PLUGIN_DIR:-}" ] || fail_setup "MF_TEST_PLUGIN_DIR is not set"
[ -d "$MF_TEST_PLUGIN_DIR" ] ||
	fail_setup "plugin folder $MF_TEST_PLUGIN_DIR does not exist"
command -v python3 >/dev/null 2>&1 ||
	fail_setup "python3 is needed to read catalog.json and was not found"

# .ci/run passes REALDATA relative to the build folder; file: URLs and the
# program's -c need absolute paths.
REALDATA=$(cd "$REALDATA" && pwd) || fail_setup "cannot enter $REALDATA"
MF_TEST_PLUGIN_DIR=$(cd "$MF_TEST_PLUGIN_DIR" && pwd) ||
	fail_setup "cannot enter $MF_TEST_PLUGIN_DIR"
case $MF_TEST_PROGRAM in
/*) ;;
*) MF_TEST_PROGRAM=$PWD/$MF_TEST_PROGRAM ;;
esac

shopt -s nullglob
files=("$REALDATA"/modelsdev/*.json)
[ ${#files[@]} -gt 0 ] || fail_setup "no *.json files in $REALDATA/modelsdev"

work=$(mktemp -d "${TMPDIR:-/tmp}/mf-realdata.XXXXXX") ||
	fail_setup "cannot create a temporary folder"
trap 'rm -rf "$work"' EXIT
# The program's own environment must not leak into the runs.
unset MODELFUSE_CONFIG MODELFUSE_PLUGIN_DIR

# Compares one snapshot with the catalog made from it; prints one summary
# line and any problems, exits non-zero on a mismatch.
checker='
import json, sys

snapshot, catalog_path, stderr_path, seconds = sys.argv[1:5]
instance = "modelsdev"

with open(snapshot, encoding="utf-8") as f:
    upstream = json.load(f)
expected = []
for provider, entry in upstream.items():
    models = entry.get("models") if isinstance(entry, dict) else None
    if isinstance(models, dict):
        expected.extend(provider + "/" + key for key, m in models.items()
                        if key and isinstance(m, dict))

with open(catalog_path, encoding="utf-8") as f:
    catalog = json.load(f)

def has_instance(source):
    if isinstance(source, list):
        return instance in source
    if isinstance(source, str):
        return instance in source.split("+")
    return False

offerings = 0
seen = {}
for model in catalog.get("models", []):
    for off in model.get("offerings") or []:
        if has_instance(off.get("source")):
            offerings += 1
    for key in (model.get("source_ids") or {}).get(instance) or []:
        seen[key] = seen.get(key, 0) + 1

records = None
for src in catalog.get("sources", []):
    if src.get("name") == instance:
        records = src.get("records")

with open(stderr_path, encoding="utf-8", errors="replace") as f:
    warnings = [l.rstrip("\n") for l in f if "warning" in l or "error" in l]

problems = []
want = set(expected)
missing = [k for k in expected if k not in seen]
twice = sorted(k for k, n in seen.items() if n > 1)
extra = sorted(k for k in seen if k not in want)
if offerings != len(expected):
    problems.append("%d offerings from %s, expected %d" % (offerings, instance, len(expected)))
if missing:
    problems.append("%d keys missing from source_ids, e.g. %s"
                    % (len(missing), ", ".join(missing[:5])))
if twice:
    problems.append("%d keys listed more than once, e.g. %s"
                    % (len(twice), ", ".join(twice[:5])))
if extra:
    problems.append("%d keys not in the file, e.g. %s"
                    % (len(extra), ", ".join(extra[:5])))

skipped = len(expected) - (records if isinstance(records, int) else offerings)
print("  models in file: %d, offerings out: %d, records: %s, skipped: %d, %s s"
      % (len(expected), offerings, records, skipped, seconds))
if skipped or warnings:
    print("  skipped/warned (%d log lines):" % len(warnings))
    for line in warnings[:10]:
        print("    " + line)
for p in problems:
    print("  FAIL: " + p)
sys.exit(1 if problems else 0)
'

passed=0
failed=0
for file in "${files[@]}"; do
	name=$(basename "$file")
	dir="$work/${name%.json}"
	mkdir -p "$dir"
	# Paths with spaces are fine in INI values; a file: URL would need them
	# percent-encoded, which the shared snapshot names never need.
	cat >"$dir/modelfuse.ini" <<-EOF
		[core]
		plugin_dir = $MF_TEST_PLUGIN_DIR
		cache_dir = $dir/cache
		output_dir = $dir/out

		[source modelsdev]
		url = file://$file
	EOF

	echo "$name"
	start=$EPOCHREALTIME
	"$MF_TEST_PROGRAM" -c "$dir/modelfuse.ini" run >"$dir/stdout" 2>"$dir/stderr"
	status=$?
	end=$EPOCHREALTIME
	seconds=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" \
		"$start" "$end")

	if [ "$status" -ne 0 ]; then
		echo "  FAIL: modelfuse run exited with status $status after $seconds s; its stderr:"
		sed -e 's/^/    /' "$dir/stderr" | head -n 20
		failed=$((failed + 1))
		continue
	fi
	if [ ! -f "$dir/out/catalog.json" ]; then
		echo "  FAIL: no catalog.json in $dir/out"
		failed=$((failed + 1))
		continue
	fi
	if python3 -c "$checker" "$file" "$dir/out/catalog.json" "$dir/stderr" "$seconds"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
