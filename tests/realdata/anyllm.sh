#!/bin/bash
# Checks over the real upstream snapshots (make check-realdata). For every
# provider listing in $REALDATA/openai_compat, run the whole program with an
# anyllm instance of the matching kind on a file:// URL and check that no
# entry is lost: every listed id is an offering of the instance (Gemini:
# with its full "models/..." name in source_ids), or, for Mistral, an alias
# of the offering its alias group was folded into. Prints per-file counts.
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
[ -d "$REALDATA/openai_compat" ] || fail_setup "$REALDATA/openai_compat does not exist"
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
files=("$REALDATA"/openai_compat/*.json)
[ ${#files[@]} -gt 0 ] || fail_setup "no *.json files in $REALDATA/openai_compat"

work=$(mktemp -d "${TMPDIR:-/tmp}/mf-realdata.XXXXXX") ||
	fail_setup "cannot create a temporary folder"
trap 'rm -rf "$work"' EXIT
# The program's own environment must not leak into the runs.
unset MODELFUSE_CONFIG MODELFUSE_PLUGIN_DIR

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

passed=0
failed=0
for file in "${files[@]}"; do
	name=$(basename "$file")
	case $name in
	openai-*) kind=openai provider=openai ;;
	groq-*) kind=openai-compatible provider=groq ;;
	xai-*) kind=openai-compatible provider=xai ;;
	zenmux-*) kind=openai-compatible provider=zenmux ;;
	anthropic-*) kind=anthropic provider=anthropic ;;
	google-gemini-*) kind=gemini provider=google ;;
	mistral-*) kind=mistral provider=mistral ;;
	*)
		echo "$name"
		echo "  FAIL: no kind known for this file name"
		failed=$((failed + 1))
		continue
		;;
	esac
	dir="$work/${name%.json}"
	mkdir -p "$dir"
	# No key variable is set: a file: URL needs none.
	cat >"$dir/modelfuse.ini" <<-EOF
		[core]
		plugin_dir = $MF_TEST_PLUGIN_DIR
		cache_dir = $dir/cache
		output_dir = $dir/out

		[source $provider]
		plugin = anyllm
		kind = $kind
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
	if python3 -c "$checker" "$file" "$kind" "$provider" "$dir/out/catalog.json" \
		"$dir/stderr" "$seconds"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
