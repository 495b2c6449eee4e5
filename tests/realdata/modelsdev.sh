#!/bin/bash
# Checks over the real upstream snapshots (make check-realdata). For every
# models.dev snapshot in $REALDATA/modelsdev, run the whole program on it
# and check that catalog.json holds exactly one modelsdev offering per model
# of the file and that every provider/model key appears once in source_ids.
#
# Environment and set-up: lib/common.sh.
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
rd_setup_snapshots modelsdev '*.json'

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

snapshot_config() {
	# Paths with spaces are fine in INI values; a file: URL would need them
	# percent-encoded, which the shared snapshot names never need.
	rd_write_ini "$dir" <<-EOF
		[source modelsdev]
		url = file://$1
	EOF
	echo "$2"
}

snapshot_check() {
	python3 -c "$checker" "$1" "$dir/out/catalog.json" "$dir/stderr" "$seconds"
}

rd_each_snapshot
