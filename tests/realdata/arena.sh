#!/bin/bash
# Checks over the real upstream snapshots (make check-realdata). For every
# LMArena leaderboard snapshot in $REALDATA/lmarena (leaderboard-*.json; the
# catalog's scatterplot and visibility files are not leaderboards), run the
# whole program on it and check that catalog.json holds one arena id per
# distinct model name of the file, and every (category, name) rating with
# its two quantiles among that model's scores.
#
# Environment and set-up: lib/common.sh.
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
rd_setup_snapshots lmarena 'leaderboard-*.json'
# The data tables (the mapper's) come from this source tree unless the
# caller says otherwise: the program under test is built, not installed.
if [ -z "${MODELFUSE_DATADIR:-}" ]; then
	MODELFUSE_DATADIR=$(cd "$(dirname "$0")/../../data" && pwd) ||
		fail_setup "cannot find the data folder of the source tree"
fi
export MODELFUSE_DATADIR

# Compares one snapshot with the catalog made from it; prints one summary
# line and any problems, exits non-zero on a mismatch.
checker='
import json, math, sys

snapshot, catalog_path, stderr_path, seconds, prefix = sys.argv[1:6]
instance = "arena"
overall = "full"

with open(snapshot, encoding="utf-8") as f:
    board = json.load(f)
names = {}          # name -> {(category, field): value}, first-appearance order
rows = 0
for category, models in board.items():
    if not category or not isinstance(models, dict):
        continue
    for name, row in models.items():
        values = names.setdefault(name, {})
        rows += 1
        if not isinstance(row, dict):
            continue
        for field, suffix in (("rating", ""), ("rating_q025", ".q025"),
                              ("rating_q975", ".q975")):
            v = row.get(field)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                values[category + suffix] = float(v)
                if category == overall:
                    values["overall" + suffix] = float(v)
expected = [n for n in names if n]

with open(catalog_path, encoding="utf-8") as f:
    catalog = json.load(f)

records = None
for src in catalog.get("sources", []):
    if src.get("name") == instance:
        records = src.get("records")

# Where each arena name went; a model may hold several names when the
# mapper merged them (then its scores hold one of their values).
owner = {}
listed = {}
for model in catalog.get("models", []):
    for name in (model.get("source_ids") or {}).get(instance) or []:
        listed[name] = listed.get(name, 0) + 1
        owner[name] = model

def close(a, b):
    return isinstance(a, (int, float)) and abs(a - b) <= 1e-9 * max(1.0, abs(b))

problems = []
missing = [n for n in expected if n not in listed]
twice = sorted(n for n, k in listed.items() if k > 1)
extra = sorted(n for n in listed if n not in names)
if records != len(expected):
    problems.append("%s records from %s, expected %d" % (records, instance, len(expected)))
if missing:
    problems.append("%d names missing from source_ids, e.g. %s"
                    % (len(missing), ", ".join(missing[:5])))
if twice:
    problems.append("%d names listed more than once, e.g. %s"
                    % (len(twice), ", ".join(twice[:5])))
if extra:
    problems.append("%d names not in the file, e.g. %s" % (len(extra), ", ".join(extra[:5])))

checked = 0
merged_names = 0
merged_values = 0
groups = set()
bad = []
for name in expected:
    model = owner.get(name)
    if model is None:
        continue
    scores = model.get("scores") or {}
    together = [n for n in (model.get("source_ids") or {}).get(instance) or [] if n in names]
    if len(together) > 1:
        merged_names += 1
        groups.add(" + ".join(sorted(together)))
    for key, want in names[name].items():
        checked += 1
        got = scores.get(prefix + "." + key)
        if close(got, want):
            continue
        # Merged names share one scores map: one of them supplied the value.
        if len(together) > 1 and any(close(got, names[n].get(key, math.nan))
                                     for n in together if n != name):
            merged_values += 1
            continue
        bad.append("%s: %s.%s is %r, expected %r" % (name, prefix, key, got, want))
if bad:
    problems.append("%d ratings not in the catalog as given, e.g. %s"
                    % (len(bad), "; ".join(bad[:3])))

with open(stderr_path, encoding="utf-8", errors="replace") as f:
    warnings = [l.rstrip("\n") for l in f if "warning" in l or "error" in l]

print("  rows: %d, names in file: %d, records out: %s, values checked: %d, %s s"
      % (rows, len(expected), records, checked, seconds))
if merged_names:
    print("  %d names share a model with another arena name (%d values taken from "
          "the other name): %s" % (merged_names, merged_values,
                                   "; ".join(sorted(groups)[:3])))
if warnings:
    print("  warned (%d log lines):" % len(warnings))
    for line in warnings[:10]:
        print("    " + line)
for p in problems:
    print("  FAIL: " + p)
sys.exit(1 if problems else 0)
'

snapshot_config() {
	# The board is the file name's first word: text, vision, image. Text
	# ratings go under arena.*, the others under arena-BOARD.*.
	board=${2#leaderboard-}
	board=${board%%[-.]*}
	if [ "$board" = text ]; then prefix=arena; else prefix=arena-$board; fi
	rd_write_ini "$dir" <<-EOF
		[source arena]
		url = file://$1
		leaderboard = $board
	EOF
	echo "$2 (leaderboard = $board)"
}

snapshot_check() {
	python3 -c "$checker" "$1" "$dir/out/catalog.json" "$dir/stderr" "$seconds" "$prefix"
}

rd_each_snapshot
