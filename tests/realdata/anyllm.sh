#!/bin/bash
# Checks over the real upstream snapshots (make check-realdata). For every
# provider listing in $REALDATA/openai_compat, run the whole program with an
# anyllm instance of the matching kind on a file:// URL and check that no
# entry is lost: every listed id is an offering of the instance (Gemini:
# with its full "models/..." name in source_ids), or, for Mistral, an alias
# of the offering its alias group was folded into. Prints per-file counts.
#
# Environment and set-up: lib/common.sh.
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
rd_setup_snapshots openai_compat '*.json'

# Compares one listing with the catalog made from it; prints one summary
# line and any problems, exits non-zero on a mismatch.
checker='
import json, sys

listing, kind, instance, catalog_path, stderr_path, seconds = sys.argv[1:7]

with open(listing, encoding="utf-8") as f:
    upstream = json.load(f)
entries = upstream.get("models" if kind == "gemini" else "data") or []
id_key = "name" if kind == "gemini" else "id"

def usable(e):
    return isinstance(e, dict) and isinstance(e.get(id_key), str) and e[id_key] != ""

listed = [e[id_key] for e in entries if usable(e)]
dropped = len(entries) - len(listed)

def native(name):
    if kind == "gemini" and name.startswith("models/") and len(name) > 7:
        return name[7:]
    return name

with open(catalog_path, encoding="utf-8") as f:
    catalog = json.load(f)

offerings = []
source_ids = set()
not_callable = []
for model in catalog.get("models", []):
    mine = [o for o in model.get("offerings") or [] if o.get("source") == instance]
    offerings.extend(mine)
    source_ids.update((model.get("source_ids") or {}).get(instance) or [])
    if mine and instance not in (model.get("callable_via") or []):
        not_callable.append(model.get("id"))

records = status = None
for src in catalog.get("sources", []):
    if src.get("name") == instance:
        records, status = src.get("records"), src.get("status")

offered = {o.get("id") for o in offerings}
aliases = set()
for o in offerings:
    aliases.update(o.get("aliases") or [])

problems = []
if status != "fresh":
    problems.append("source status %s, expected fresh" % status)
if records != len(offerings):
    problems.append("%s records reported, %d offerings in the catalog" % (records, len(offerings)))
if len(offered) != len(offerings):
    problems.append("%d offerings share an id" % (len(offerings) - len(offered)))

missing = []
folded = 0
for name in listed:
    if native(name) in offered:
        if name != native(name) and name not in source_ids:
            problems.append("%s: full name not in source_ids" % name)
    elif kind == "mistral" and name in aliases:
        folded += 1
    else:
        missing.append(name)
if missing:
    problems.append("%d ids lost, e.g. %s" % (len(missing), ", ".join(missing[:5])))
extra = sorted(offered - {native(n) for n in listed})
if extra:
    problems.append("%d offerings not in the listing, e.g. %s" % (len(extra), ", ".join(extra[:5])))
if kind != "mistral" and len(offerings) != len(set(listed)):
    problems.append("%d offerings for %d listed ids" % (len(offerings), len(set(listed))))
if not_callable:
    problems.append("%d models without %s in callable_via, e.g. %s"
                    % (len(not_callable), instance, ", ".join(not_callable[:3])))

# Spot checks of the unit conversions on the files that carry prices.
for e in entries:
    if not usable(e):
        continue
    o = next((o for o in offerings if o.get("id") == native(e[id_key])), None)
    price = (o or {}).get("price") or {}
    if isinstance(e.get("prompt_text_token_price"), int):
        want = round(e["prompt_text_token_price"] / 10000, 9)
        if price.get("input_per_million") != want:
            problems.append("%s: input price %s, expected %s"
                            % (e["id"], price.get("input_per_million"), want))
    if isinstance(e.get("context_length"), int) and e["context_length"] > 0 and o:
        if o.get("context_tokens") != e["context_length"]:
            problems.append("%s: context %s, expected %s"
                            % (e["id"], o.get("context_tokens"), e["context_length"]))

with open(stderr_path, encoding="utf-8", errors="replace") as f:
    warnings = [l.rstrip("\n") for l in f if "warning" in l or "error" in l]

print("  kind %s: entries in file: %d, offerings out: %d, folded into aliases: %d, "
      "dropped (no id): %d, %s s"
      % (kind, len(entries), len(offerings), folded, dropped, seconds))
if dropped or warnings:
    print("  dropped/warned (%d log lines):" % len(warnings))
    for line in warnings[:10]:
        print("    " + line)
for p in problems[:20]:
    print("  FAIL: " + p)
sys.exit(1 if problems else 0)
'

snapshot_config() {
	case $2 in
	openai-*) kind=openai provider=openai ;;
	groq-*) kind=openai-compatible provider=groq ;;
	xai-*) kind=openai-compatible provider=xai ;;
	zenmux-*) kind=openai-compatible provider=zenmux ;;
	anthropic-*) kind=anthropic provider=anthropic ;;
	google-gemini-*) kind=gemini provider=google ;;
	mistral-*) kind=mistral provider=mistral ;;
	*)
		echo "$2"
		echo "  FAIL: no kind known for this file name"
		return 1
		;;
	esac
	# No key variable is set: a file: URL needs none.
	rd_write_ini "$dir" <<-EOF
		[source $provider]
		plugin = anyllm
		kind = $kind
		url = file://$1
	EOF
	echo "$2"
}

snapshot_check() {
	python3 -c "$checker" "$1" "$kind" "$provider" "$dir/out/catalog.json" "$dir/stderr" \
		"$seconds"
}

rd_each_snapshot
