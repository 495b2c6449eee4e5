#!/bin/bash
# Checks over the real upstream snapshots (make check-realdata). For every
# Hugging Face listing in $REALDATA/huggingface that has the shape of
# GET /api/models (a bare JSON array: the raw captures and the reshaped
# 531-model file), run the whole program on it and check that no entry is
# lost unexplained: entries in the file == records out + entries skipped
# with a reason, and every repo id appears once in the catalog's
# source_ids for the instance. The derived snapshot ({date, models: [...]})
# is not a listing page and is not fed; the plugin refuses that shape.
#
# Environment and set-up: lib/common.sh.
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
rd_setup_snapshots huggingface 'hf-api-models.*.json'

# Compares one listing with the catalog made from it; prints the counts
# and any problems, exits non-zero on a mismatch.
checker='
import json, sys
from collections import Counter

snapshot, catalog_path, stderr_path, seconds = sys.argv[1:5]
instance = "huggingface"

def usable(v):
    return isinstance(v, str) and v != "" and "\0" not in v

with open(snapshot, encoding="utf-8") as f:
    upstream = json.load(f)
if not isinstance(upstream, list):
    print("  FAIL: %s is not a bare array of models" % snapshot)
    sys.exit(1)

# What the plugin should make of each entry (the same rules as its
# normalize): an object with a usable id (or modelId) is one record.
expected = []
entries = {}
skipped = Counter()
for entry in upstream:
    if not isinstance(entry, dict):
        skipped["not an object"] += 1
        continue
    rid = entry.get("id") if usable(entry.get("id")) else entry.get("modelId")
    if not usable(rid):
        skipped["no usable id"] += 1
        continue
    expected.append(rid)
    entries[rid] = entry

with open(catalog_path, encoding="utf-8") as f:
    catalog = json.load(f)

records = None
status = None
for src in catalog.get("sources", []):
    if src.get("name") == instance:
        records = src.get("records")
        status = src.get("status")

seen = Counter()
models_with = 0
checked = Counter()
mismatched = []
for model in catalog.get("models", []):
    ids = (model.get("source_ids") or {}).get(instance) or []
    if ids:
        models_with += 1
    seen.update(ids)
    # Values are compared where the model came from one listing entry
    # alone; a field the catalog does not show is not compared.
    if len(ids) != 1 or ids[0] not in entries:
        continue
    entry = entries[ids[0]]
    lic = next((t[8:] for t in entry.get("tags") or []
                if isinstance(t, str) and t.startswith("license:") and len(t) > 8), None)
    want = {"hf_id": ids[0], "downloads": entry.get("downloads"),
            "likes": entry.get("likes"), "pipeline": entry.get("pipeline_tag"),
            "library": entry.get("library_name"), "license": lic,
            "created": entry.get("createdAt")}
    for key, value in want.items():
        if value is None or key not in model:
            continue
        checked[key] += 1
        if model[key] != value:
            mismatched.append("%s %s: %r, file has %r" % (ids[0], key, model[key], value))

with open(stderr_path, encoding="utf-8", errors="replace") as f:
    warnings = [l.rstrip("\n") for l in f if "warning" in l or "error" in l]

problems = []
twice_in_file = sorted(k for k, n in Counter(expected).items() if n > 1)
missing = [k for k in expected if k not in seen]
twice = sorted(k for k, n in seen.items() if n > 1 and k not in twice_in_file)
extra = sorted(k for k in seen if k not in entries)
if status not in ("fresh", "cached"):
    problems.append("source %s is %r, expected fresh" % (instance, status))
if records != len(expected):
    problems.append("%s records from %s, expected %d" % (records, instance, len(expected)))
if missing:
    problems.append("%d ids missing from source_ids, e.g. %s"
                    % (len(missing), ", ".join(missing[:5])))
if twice:
    problems.append("%d ids listed more than once, e.g. %s"
                    % (len(twice), ", ".join(twice[:5])))
if extra:
    problems.append("%d ids not in the file, e.g. %s" % (len(extra), ", ".join(extra[:5])))
if mismatched:
    problems.append("%d values differ from the file, e.g. %s"
                    % (len(mismatched), "; ".join(mismatched[:3])))

n_skipped = sum(skipped.values())
out = records if isinstance(records, int) else 0
print("  entries in file: %d, records out: %s, skipped: %d, in == out + skipped: %s"
      % (len(upstream), records, n_skipped,
         "yes" if len(upstream) == out + n_skipped else "NO"))
print("  models with %s ids: %d, ids in source_ids: %d, %s s"
      % (instance, models_with, sum(seen.values()), seconds))
print("  entries without pipeline_tag: %d, without library_name: %d, with a license tag: %d"
      % (sum(1 for e in entries.values() if e.get("pipeline_tag") is None),
         sum(1 for e in entries.values() if e.get("library_name") is None),
         sum(1 for e in entries.values()
             if any(isinstance(t, str) and t.startswith("license:")
                    for t in e.get("tags") or []))))
print("  values compared with the file: %s"
      % (", ".join("%s %d" % kv for kv in sorted(checked.items())) or "none"))
if twice_in_file:
    print("  ids listed twice in the file (one model each): %s" % ", ".join(twice_in_file[:5]))
if n_skipped or warnings:
    print("  skipped: %s; warned (%d log lines):"
          % (", ".join("%d %s" % (n, why) for why, n in skipped.items()) or "none",
             len(warnings)))
    for line in warnings[:10]:
        print("    " + line)
if len(upstream) != out + n_skipped:
    problems.append("%d entries in, %d out + %d skipped"
                    % (len(upstream), out, n_skipped))
for p in problems:
    print("  FAIL: " + p)
sys.exit(1 if problems else 0)
'

snapshot_config() {
	# The plugin's defaults: a file is one page (no query, no next link),
	# read whole whatever max_models says.
	rd_write_ini "$dir" <<-EOF
		[source huggingface]
		url = file://$1
	EOF
	echo "$2"
}

snapshot_check() {
	python3 -c "$checker" "$1" "$dir/out/catalog.json" "$dir/stderr" "$seconds"
}

rd_each_snapshot
