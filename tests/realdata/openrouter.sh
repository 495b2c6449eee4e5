#!/bin/bash
# Checks over the real OpenRouter snapshots (make check-realdata). For every
# GET /api/v1/models snapshot in $REALDATA/openrouter, run the whole program
# on it and check that catalog.json holds exactly one openrouter offering per
# entry, that every id appears once in source_ids, that prices are the
# decimal strings moved to USD per 1M exactly (no price with more than 9
# decimals: every one equals round(v, 9)), that "-1" prices stay unknown and
# that the context is context_length, not top_provider's.
#
# Environment and set-up: lib/common.sh.
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
rd_setup_snapshots openrouter '*.json'

# Compares one snapshot with the catalog made from it; prints a summary and
# any problems, exits non-zero on a mismatch.
checker='
import json, sys
from decimal import Decimal, InvalidOperation

snapshot, catalog_path, stderr_path, seconds = sys.argv[1:5]
instance = "openrouter"
# Our price keys for the upstream ones, and which stay per unit.
NAMES = {"prompt": "input", "completion": "output", "input_cache_read": "cache_read",
         "input_cache_write": "cache_write", "input_cache_write_1h": "cache_write_1h",
         "internal_reasoning": "reasoning", "audio": "input_audio"}
PER_UNIT = {"request", "image", "web_search"}

with open(snapshot, encoding="utf-8") as f:
    upstream = json.load(f)
entries = upstream["data"]
expected, skipped = [], []
for i, e in enumerate(entries):
    if isinstance(e, dict) and isinstance(e.get("id"), str) and e["id"]:
        expected.append(e)
    else:
        skipped.append("data[%d]: no usable id" % i)

with open(catalog_path, encoding="utf-8") as f:
    catalog = json.load(f)

def has_instance(source):
    if isinstance(source, list):
        return instance in source
    return isinstance(source, str) and instance in source.split("+")

offerings = {}
seen = {}
all_prices = 0
unrounded = []
for model in catalog.get("models", []):
    for off in model.get("offerings") or []:
        for key, v in (off.get("price") or {}).items():
            if isinstance(v, (int, float)):
                all_prices += 1
                if v != round(v, 9):
                    unrounded.append("%s %s=%r" % (off.get("id"), key, v))
        if has_instance(off.get("source")):
            offerings.setdefault(off.get("id"), []).append(off)
    for key in (model.get("source_ids") or {}).get(instance) or []:
        seen[key] = seen.get(key, 0) + 1

records = None
for src in catalog.get("sources", []):
    if src.get("name") == instance:
        records = src.get("records")

problems = []
ids = [e["id"] for e in expected]
missing = [i for i in ids if i not in seen]
twice = sorted(i for i, n in seen.items() if n > 1)
extra = sorted(i for i in seen if i not in set(ids))
n_off = sum(len(v) for v in offerings.values())
if n_off != len(expected):
    problems.append("%d offerings from %s, expected %d" % (n_off, instance, len(expected)))
if records != len(expected):
    problems.append("sources[].records is %r, expected %d" % (records, len(expected)))
if missing:
    problems.append("%d ids missing from source_ids, e.g. %s"
                    % (len(missing), ", ".join(missing[:5])))
if twice:
    problems.append("%d ids listed more than once, e.g. %s" % (len(twice), ", ".join(twice[:5])))
if extra:
    problems.append("%d ids not in the file, e.g. %s" % (len(extra), ", ".join(extra[:5])))
if unrounded:
    problems.append("%d prices with more than 9 decimals, e.g. %s"
                    % (len(unrounded), ", ".join(unrounded[:5])))

# Every plain price: the decimal string moved on its digits, rounded to
# 1e-9 as the writer does; "-1" absent; context_length, never top_provider.
checked = variable = 0
wrong = []
for e in expected:
    offs = offerings.get(e["id"]) or []
    if len(offs) != 1:
        continue
    off = offs[0]
    price = off.get("price") or {}
    for up, v in (e.get("pricing") or {}).items():
        if not isinstance(v, str):
            continue
        key = NAMES.get(up, up) + "_per_million"
        if v == "-1":
            variable += 1
            if key in price:
                wrong.append("%s %s: -1 gave %r" % (e["id"], up, price[key]))
            continue
        try:
            want = float(round(Decimal(v).scaleb(0 if up in PER_UNIT else 6), 9))
        except InvalidOperation:
            continue
        checked += 1
        if price.get(key) != want:
            wrong.append("%s %s=%s: got %r, want %r" % (e["id"], up, v, price.get(key), want))
    ctx = e.get("context_length")
    want_ctx = ctx if isinstance(ctx, int) and ctx > 0 else None
    if off.get("context_tokens") != want_ctx:
        wrong.append("%s: context_tokens %r, context_length %r"
                     % (e["id"], off.get("context_tokens"), ctx))
if wrong:
    problems.append("%d prices or contexts differ, e.g. %s" % (len(wrong), "; ".join(wrong[:5])))

with open(stderr_path, encoding="utf-8", errors="replace") as f:
    warnings = [l.rstrip("\n") for l in f if "warning" in l or "error" in l]

print("  entries in file: %d, offerings out: %d, records: %s, skipped: %d, %s s"
      % (len(entries), n_off, records, len(skipped), seconds))
print("  prices checked exactly: %d, \"-1\" left unknown: %d, prices in catalog: %d, "
      "over 9 decimals: %d" % (checked, variable, all_prices, len(unrounded)))
for s in skipped[:10]:
    print("    skipped " + s)
if warnings:
    print("  warned (%d log lines):" % len(warnings))
    for line in warnings[:10]:
        print("    " + line)
for p in problems:
    print("  FAIL: " + p)
sys.exit(1 if problems else 0)
'

snapshot_config() {
	# The snapshot fetched with ?output_modalities=all is read with the
	# option on, so the planned URL (file: with a query) is exercised too.
	local all=no
	case $2 in
	*output_modalities_all*) all=yes ;;
	esac
	# This checks the plugin's exact conversion of every price, so the
	# derive stage's plausibility check (which nulls the per-second audio
	# prices of a few entries) is widened out of the way.
	rd_write_ini "$dir" <<-EOF
		[source openrouter]
		url = file://$1
		all_output_modalities = $all

		[derive]
		max_price = 1000000000
	EOF
	echo "$2 (all_output_modalities = $all)"
}

snapshot_check() {
	python3 -c "$checker" "$1" "$dir/out/catalog.json" "$dir/stderr" "$seconds"
}

rd_each_snapshot
