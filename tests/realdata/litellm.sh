#!/bin/bash
# Checks over the real LiteLLM price maps (make check-realdata). For every
# model_prices_and_context_window snapshot in $REALDATA/litellm, run the
# whole program on it and check that no entry is lost unexplained: every
# top-level key is either a model whose key is listed once in source_ids, a
# non-model the plugin names with its reason (sample_spec, last_updated,
# fallback_generalizations...), or a record the core dropped with a warning
# (a key with no usable model id). Prices must have at most 9 decimals and
# every input/output price must be an exact conversion of a file's price.
#
# Environment and set-up: lib/common.sh.
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
rd_setup_snapshots litellm '*.json'

checker='
import json, re, sys
from collections import Counter
from decimal import Decimal

snapshot, catalog_path, stderr_path, seconds = sys.argv[1:5]
instance = "litellm"

with open(snapshot, encoding="utf-8") as f:
    upstream = json.load(f)
with open(stderr_path, encoding="utf-8", errors="replace") as f:
    log = [l.rstrip("\n") for l in f]

# What the file holds: models in order, and everything else with a reason.
models, non_models = [], {}
for key, v in upstream.items():
    if key == "sample_spec":
        non_models[key] = "the schema example"
    elif not isinstance(v, dict):
        non_models[key] = "%s, not an object" % type(v).__name__
    elif "litellm_provider" not in v:
        non_models[key] = "no litellm_provider"
    elif not isinstance(v["litellm_provider"], str) or not v["litellm_provider"]:
        non_models[key] = "unusable litellm_provider"
    else:
        models.append(key)

# Records the core dropped, by their position in the record stream.
dropped = {}
pattern = re.compile(r"\b%s: warning: record (\d+) has no (usable )?id" % instance)
for line in log:
    m = pattern.search(line)
    if m and int(m.group(1)) < len(models):
        dropped[models[int(m.group(1))]] = line.split("warning: ", 1)[1]

with open(catalog_path, encoding="utf-8") as f:
    catalog = json.load(f)

def has_instance(source):
    if isinstance(source, list):
        return instance in source
    return isinstance(source, str) and instance in source.split("+")

seen = Counter()
offerings = 0
unrounded = []
io_prices = []
for model in catalog.get("models", []):
    for off in model.get("offerings") or []:
        if not has_instance(off.get("source")):
            continue
        offerings += 1
        for key, v in (off.get("price") or {}).items():
            if isinstance(v, (int, float)) and v != round(v, 9):
                unrounded.append("%s %s=%r" % (off.get("id"), key, v))
            if key in ("input_per_million", "output_per_million") and v is not None:
                io_prices.append((off.get("id"), key, v))
    for key in (model.get("source_ids") or {}).get(instance) or []:
        seen[key] += 1

records = None
for src in catalog.get("sources", []):
    if src.get("name") == instance:
        records = src.get("records")

# The exact conversions a price may have: the shortest decimal of the
# file number, moved six places, rounded to 1e-9.
allowed = set()
for key in models:
    for field in ("input_cost_per_token", "output_cost_per_token"):
        v = upstream[key].get(field)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            allowed.add(float(round(Decimal(repr(v)).scaleb(6), 9)))
    for tier in upstream[key].get("tiered_pricing") or []:
        for field in ("input_cost_per_token", "output_cost_per_token"):
            v = tier.get(field) if isinstance(tier, dict) else None
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                allowed.add(float(round(Decimal(repr(v)).scaleb(6), 9)))
inexact = [p for p in io_prices if p[2] not in allowed]

problems = []
kept = [k for k in models if k not in dropped]
missing = [k for k in kept if k not in seen]
twice = sorted(k for k, n in seen.items() if n > 1)
extra = sorted(k for k in seen if k not in set(kept))
unnamed = [k for k in non_models if not any(("%s: " % k) in l and "not a model" in l
                                              or ("%s: litellm_provider" % k) in l for l in log)]
total = len(upstream)
if total != len(seen) + len(non_models) + len(dropped):
    problems.append("%d keys in, %d listed + %d not models + %d dropped"
                    % (total, len(seen), len(non_models), len(dropped)))
if records != len(models) - len([k for k in models if k == ""]):
    problems.append("sources[].records is %r, expected %d" % (records, len(models)))
if missing:
    problems.append("%d keys missing from source_ids, e.g. %s"
                    % (len(missing), ", ".join(missing[:5])))
if twice:
    problems.append("%d keys listed more than once, e.g. %s" % (len(twice), ", ".join(twice[:5])))
if extra:
    problems.append("%d keys not in the file, e.g. %s" % (len(extra), ", ".join(extra[:5])))
if unnamed:
    problems.append("%d non-model keys not reported by the plugin: %s"
                    % (len(unnamed), ", ".join(unnamed[:5])))
if unrounded:
    problems.append("%d prices with more than 9 decimals, e.g. %s"
                    % (len(unrounded), ", ".join(unrounded[:5])))
if inexact:
    problems.append("%d input/output prices are no exact conversion, e.g. %s"
                    % (len(inexact), ", ".join("%s %s=%r" % p for p in inexact[:5])))

providers = Counter(upstream[k]["litellm_provider"] for k in models)
print("  keys in file: %d = source ids out %d + not models %d + dropped by the core %d; "
      "records %s, offerings %d (same provider+id merge), %d providers, %s s"
      % (total, len(seen), len(non_models), len(dropped), records, offerings, len(providers),
         seconds))
print("  input/output prices checked: %d, over 9 decimals: %d"
      % (len(io_prices), len(unrounded)))
for key, why in non_models.items():
    print("    not a model: %s (%s)" % (key, why))
for key, why in dropped.items():
    print("    dropped: %s (%s)" % (key, why))
warnings = [l for l in log if "warning" in l and not pattern.search(l)]
if warnings:
    print("  other warnings (%d log lines):" % len(warnings))
    for line in warnings[:10]:
        print("    " + line)
for p in problems:
    print("  FAIL: " + p)
sys.exit(1 if problems else 0)
'

snapshot_config() {
	rd_write_ini "$dir" <<-EOF
		[source litellm]
		url = file://$1
	EOF
	echo "$2"
}

snapshot_check() {
	python3 -c "$checker" "$1" "$dir/out/catalog.json" "$dir/stderr" "$seconds"
}

# -v: the plugin names the keys it skips at info level.
program_args=(-v)
rd_each_snapshot
