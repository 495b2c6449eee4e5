#!/bin/sh
# The JSON Schemas of data/schema/ against reality: each is a valid draft
# 2020-12 schema; the outputs of real runs (the e2e fixtures through the
# modelsdev plugin, twice, and the bundled offline sample) validate; broken
# copies of them do not (so the schemas are not vacuous); and the data
# files shipped in data/ validate against their input-format schemas.
# Needs python3 with python3-jsonschema (scripts/install-deps installs it).
# Exit 0: pass, 1: fail, 77: skip (no python3-jsonschema), 99: not run by make check.

set -u

for v in MF_TEST_SRCDIR MF_TEST_BUILDDIR MF_TEST_PROGRAM MF_TEST_PLUGIN_DIR; do
	eval "val=\${$v:-}"
	if [ -z "$val" ]; then
		echo "test-schemas: $v is not set: run this test through make check" >&2
		exit 99
	fi
done
srcdir=$MF_TEST_SRCDIR
# The shipped data files, from the source tree unless the harness says else.
MODELFUSE_DATADIR=${MODELFUSE_DATADIR:-$srcdir/data}
export MODELFUSE_DATADIR
schemas=$srcdir/data/schema
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import jsonschema' 2>/dev/null; then
	echo "test-schemas: SKIP: $PYTHON has no jsonschema module (apt-get install python3-jsonschema)"
	exit 77
fi
validate() {
	"$PYTHON" "$srcdir/tests/validate-json.py" "$@"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mf-schemas.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
pass() {
	passed=$((passed + 1))
	echo "PASS: $*"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}

# ---- 1. the schemas themselves
outputs="catalog staging_candidates mapping changes"
inputs="local community benchmarks"
for name in $outputs $inputs; do
	if [ -f "$schemas/$name.schema.json" ]; then
		if validate --check-schema "$schemas/$name.schema.json"; then
			pass "$name.schema.json is a valid 2020-12 schema"
		else
			fail "$name.schema.json is not a valid schema"
		fi
	else
		fail "data/schema/$name.schema.json is missing"
	fi
done

# Validate the outputs found in a folder: all four must be there, and the
# counts of changes.json must match its lists.
check_outputs() {
	dir=$1
	what=$2
	for name in catalog staging_candidates mapping changes; do
		file=$dir/$name.json
		if [ ! -f "$file" ]; then
			fail "$what: no $name.json written"
			continue
		fi
		if validate "$schemas/$name.schema.json" "$file"; then
			pass "$what: $name.json validates"
		else
			fail "$what: $name.json does not validate"
		fi
	done
	[ -f "$dir/changes.json" ] || return
	if "$PYTHON" - "$dir/changes.json" <<'EOT'; then
import json, sys
d = json.load(open(sys.argv[1]))
assert all(d["counts"][k] == len(d[k]) for k in ("added", "removed", "changed")), d["counts"]
EOT
		pass "$what: changes.json counts match its lists"
	else
		fail "$what: changes.json counts do not match its lists"
	fi
}

# ---- 2. real outputs: the e2e fixtures through the modelsdev plugin, a
# first run and a second one over a changed upstream (which has changes).
run=$tmp/run
mkdir -p "$run/data"
cat >"$run/modelfuse.ini" <<EOT
[core]
plugin_dir = $MF_TEST_PLUGIN_DIR
cache_dir = cache
output_dir = out
jobs = 2

[source modelsdev]
url = file:data/api.json
EOT
n=0
for fixture in modelsdev-a.json modelsdev-b.json; do
	n=$((n + 1))
	cp "$srcdir/tests/fixtures/e2e/$fixture" "$run/data/api.json" || exit 99
	"$MF_TEST_PROGRAM" -c "$run/modelfuse.ini" run --force-refresh >"$tmp/run.out" 2>"$tmp/run.err"
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "run $n over $fixture exits 0"
	else
		cat "$tmp/run.err"
		fail "run $n over $fixture exits $rc"
	fi
	check_outputs "$run/out" "run $n ($fixture)"
done

# ---- 3. broken copies are refused: each mutation must make validation fail.
# The mutations run on the last catalog and mapping, and on a staging list
# made here (the modelsdev run has no staging candidates).
cat >"$tmp/staging.json" <<'EOT'
[
  {"model_id": "meta/llama-3.1-8b-instruct", "provider": "meta", "license": "llama3.1",
   "source": "huggingface+openrouter", "popularity_score": 97.5,
   "tags": ["text-generation"], "hf_id": "meta-llama/Llama-3.1-8B-Instruct"},
  {"model_id": "openai/gpt-4o-2024-08-06", "provider": "openai", "license": null,
   "source": "openrouter", "popularity_score": 0, "tags": [], "hf_id": null}
]
EOT
if validate "$schemas/staging_candidates.schema.json" "$tmp/staging.json"; then
	pass "a well-formed staging list validates"
else
	fail "a well-formed staging list does not validate"
fi

mutate() {
	# mutate SCHEMA INPUT DESCRIPTION PYTHON-STATEMENT-ON-d
	schema=$1 input=$2 what=$3 code=$4
	if ! "$PYTHON" - "$input" "$tmp/mutated.json" "$code" <<'EOT'; then
import json, sys
src, dst, code = sys.argv[1:4]
d = json.load(open(src))
exec(code)
json.dump(d, open(dst, "w"))
EOT
		fail "cannot apply mutation: $what"
		return
	fi
	if validate "$schemas/$schema" "$tmp/mutated.json" >"$tmp/mutated.log"; then
		fail "$schema accepts $what"
	else
		pass "$schema refuses $what"
	fi
}
cat_json=$run/out/catalog.json
map_json=$run/out/mapping.json
if [ -f "$cat_json" ]; then
	mutate catalog.schema.json "$cat_json" "a model without id" 'del d["models"][0]["id"]'
	mutate catalog.schema.json "$cat_json" "an uppercase model id" \
		'd["models"][0]["id"] = "OpenAI/GPT-4o"'
	mutate catalog.schema.json "$cat_json" "an id without maker" \
		'd["models"][0]["id"] = "gpt-4o"'
	mutate catalog.schema.json "$cat_json" "an unknown source status" \
		'd["sources"][0]["status"] = "ok"'
	mutate catalog.schema.json "$cat_json" "another schema_version" 'd["schema_version"] = 2'
	mutate catalog.schema.json "$cat_json" "a negative price" \
		'd["models"][0]["price"] = {"input_per_million": -1, "output_per_million": 1}'
	mutate catalog.schema.json "$cat_json" "a price key without _per_million" \
		'd["models"][0]["price"] = {"input_per_million": 1, "output_per_million": 1, "input": 1}'
	mutate catalog.schema.json "$cat_json" "a context limit of 0 (unknown is null)" \
		'd["models"][0]["context_tokens"] = 0'
	mutate catalog.schema.json "$cat_json" "a popularity_score above 100" \
		'd["models"][0]["popularity_score"] = 101'
	mutate catalog.schema.json "$cat_json" "a model without offerings list" \
		'del d["models"][0]["offerings"]'
	mutate catalog.schema.json "$cat_json" "a badly written release_date" \
		'd["models"][0]["release_date"] = "22/10/2024"'
	mutate catalog.schema.json "$cat_json" "an empty source_ids list" \
		'd["models"][0]["source_ids"] = {"modelsdev": []}'
	mutate catalog.schema.json "$cat_json" "a tier out of 1..5" \
		'd["models"][0]["tiers"] = {"cost": {"tier": 6, "basis": "price_quantile"}}'
	mutate catalog.schema.json "$cat_json" "an unknown top-level key" 'd["extra"] = 1'
else
	fail "no catalog.json to mutate"
fi
if [ -f "$map_json" ]; then
	mutate mapping.schema.json "$map_json" "an entry without rule" \
		'del d["entries"][0]["rule"]'
	mutate mapping.schema.json "$map_json" "an entry mapped to no model" \
		'd["entries"][0]["model"] = None'
else
	fail "no mapping.json to mutate"
fi
mutate staging_candidates.schema.json "$tmp/staging.json" "an extra key" 'd[0]["x"] = 1'
mutate staging_candidates.schema.json "$tmp/staging.json" "a missing hf_id" 'del d[1]["hf_id"]'
mutate staging_candidates.schema.json "$tmp/staging.json" "an empty source part" \
	'd[0]["source"] = "huggingface+"'
mutate staging_candidates.schema.json "$tmp/staging.json" "a non-array document" \
	'd = {"models": d}'
cat >"$tmp/changes.json" <<'EOT'
{"generated_at": "2026-11-22T10:00:00Z", "previous_generated_at": "2026-11-21T10:00:00Z",
 "counts": {"added": 1, "removed": 0, "changed": 1, "unchanged": 7},
 "added": [{"id": "openai/gpt-4o-2024-08-06", "name": "GPT-4o"}], "removed": [],
 "changed": [{"id": "anthropic/claude-3-5-sonnet-20241022", "name": null,
              "fields": [{"path": "price.input_per_million", "before": 3.0, "after": 2.5},
                         {"path": "modalities.input", "before": ["text"], "after": null}]}]}
EOT
if validate "$schemas/changes.schema.json" "$tmp/changes.json"; then
	pass "a well-formed changes document validates"
else
	fail "a well-formed changes document does not validate"
fi
mutate changes.schema.json "$tmp/changes.json" "a change without path" \
	'del d["changed"][0]["fields"][0]["path"]'
mutate changes.schema.json "$tmp/changes.json" "a changed model with no field" \
	'd["changed"][0]["fields"] = []'
mutate changes.schema.json "$tmp/changes.json" "a path that is not watched" \
	'd["changed"][0]["fields"][0]["path"] = "popularity_score"'
mutate changes.schema.json "$tmp/changes.json" "no counts" 'del d["counts"]'
mutate changes.schema.json "$tmp/changes.json" "a bare id in added" \
	'd["added"][0] = "openai/gpt-4o-2024-08-06"'

# The input formats: a minimal valid file of each, then broken copies.
cat >"$tmp/local.json" <<'EOT'
{"format": "modelfuse-local/1",
 "models": [{"id": "openai/gpt-4o-2024-08-06", "set": {"name": "GPT-4o", "context_tokens": 128000,
             "price": {"input": 2.5, "output": 10}}, "pin": ["name"],
             "add": {"aliases": ["gpt-4o-aug"]}, "remove": {"tags": ["old"]}}],
 "offerings": [{"provider": "groq", "id": "llama-3.3-70b-versatile",
                "set": {"max_output_tokens": 32768}, "pin": ["max_output_tokens"]}]}
EOT
cat >"$tmp/community.json" <<'EOT'
{"format": "modelfuse-community/1", "reviewed": "2026-11-22",
 "models": [{"id": "deepseek/deepseek-r1", "maker": "deepseek", "rank": 1, "tags": ["reasoning"],
             "reason": "open reasoning", "hf_id": "deepseek-ai/DeepSeek-R1"},
            {"id": "openai/gpt-4o", "rank": 2, "reviewed": null}]}
EOT
cat >"$tmp/benchmarks.json" <<'EOT'
{"format": "modelfuse-benchmarks/1", "date": "2025-02-10", "scale": "0..100",
 "benchmarks": [{"benchmark": "mmlu", "scores": {"openai/gpt-4o": 88.7, "x/y": null}},
                {"benchmark": "gpqa", "scale": "0..1",
                 "scores": {"openai/gpt-4o": {"score": 0.536, "date": "2025-02-20"}}}]}
EOT
for name in $inputs; do
	[ -f "$schemas/$name.schema.json" ] || continue
	if validate "$schemas/$name.schema.json" "$tmp/$name.json"; then
		pass "a well-formed $name file validates"
	else
		fail "a well-formed $name file does not validate"
	fi
done
mutate local.schema.json "$tmp/local.json" "another format version" \
	'd["format"] = "modelfuse-local/2"'
mutate local.schema.json "$tmp/local.json" "an unknown field in set" \
	'd["models"][0]["set"]["colour"] = "red"'
mutate local.schema.json "$tmp/local.json" "a union list in set" \
	'd["models"][0]["set"]["aliases"] = ["x"]'
mutate local.schema.json "$tmp/local.json" "a string where a boolean belongs" \
	'd["models"][0]["set"]["reasoning"] = "yes"'
mutate local.schema.json "$tmp/local.json" "a model id without maker" \
	'd["models"][0]["id"] = "gpt-4o"'
mutate local.schema.json "$tmp/local.json" "an offering without provider" \
	'del d["offerings"][0]["provider"]'
mutate local.schema.json "$tmp/local.json" "a negative price" \
	'd["models"][0]["set"]["price"]["input"] = -1'
mutate community.schema.json "$tmp/community.json" "rank 0" 'd["models"][0]["rank"] = 0'
mutate community.schema.json "$tmp/community.json" "a fractional rank" \
	'd["models"][0]["rank"] = 2.5'
mutate community.schema.json "$tmp/community.json" "an entry without rank" \
	'del d["models"][1]["rank"]'
mutate community.schema.json "$tmp/community.json" "an id with blanks" \
	'd["models"][0]["id"] = "deepseek/deepseek r1"'
mutate community.schema.json "$tmp/community.json" "a misspelt key in format 1" \
	'd["models"][0]["ranks"] = 1'
mutate community.schema.json "$tmp/community.json" "an impossible review date" \
	'd["reviewed"] = "2026-13-01"'
mutate community.schema.json "$tmp/community.json" "an hf_id that is not org/repo" \
	'd["models"][0]["hf_id"] = "DeepSeek-R1"'
mutate benchmarks.schema.json "$tmp/benchmarks.json" "a score above its 0..1 scale" \
	'd["benchmarks"][1]["scores"]["openai/gpt-4o"] = 53.6'
mutate benchmarks.schema.json "$tmp/benchmarks.json" "a score above the file's 0..100 scale" \
	'd["benchmarks"][0]["scores"]["openai/gpt-4o"] = 887'
mutate benchmarks.schema.json "$tmp/benchmarks.json" "no scale at all" \
	'del d["scale"]'
mutate benchmarks.schema.json "$tmp/benchmarks.json" "both benchmark and benchmarks" \
	'd["benchmark"] = "mmlu"'
mutate benchmarks.schema.json "$tmp/benchmarks.json" "an unknown scale" \
	'd["scale"] = "percent"'
mutate benchmarks.schema.json "$tmp/benchmarks.json" "a benchmark name with a blank" \
	'd["benchmarks"][0]["benchmark"] = "mmlu pro"'

# The examples of doc/sources/*.md: every ```json block that names a format
# validates, so the reference pages and the schemas say the same thing.
for name in $inputs; do
	md=$srcdir/doc/sources/$name.md
	[ -f "$md" ] && [ -f "$schemas/$name.schema.json" ] || continue
	rm -f "$tmp/$name-example-"*.json
	"$PYTHON" - "$md" "$tmp/$name-example-" <<'EOT'
import json, re, sys
md, out = sys.argv[1:3]
blocks = re.findall(r"^```json\n(.*?)^```", open(md, encoding="utf-8").read(), re.S | re.M)
n = 0
for b in blocks:
    try:
        d = json.loads(b)
    except ValueError:
        continue
    if isinstance(d, dict) and "format" in d:
        n += 1
        open("%s%d.json" % (out, n), "w").write(b)
EOT
	for example in "$tmp/$name-example-"*.json; do
		[ -f "$example" ] || {
			fail "doc/sources/$name.md has no json example naming its format"
			continue
		}
		if validate "$schemas/$name.schema.json" "$example"; then
			pass "doc/sources/$name.md example $(basename "$example" .json) validates"
		else
			fail "doc/sources/$name.md example $(basename "$example" .json) does not validate"
		fi
	done
done

# ---- 4. the bundled offline sample (every sample source), run from a copy
# so that nothing is written into the source tree.
if [ -f "$srcdir/etc/modelfuse-sample.ini" ]; then
	mkdir -p "$tmp/sample/etc"
	cp "$srcdir/etc/modelfuse-sample.ini" "$tmp/sample/etc/" || exit 99
	ln -s "$srcdir/data" "$tmp/sample/data"
	MODELFUSE_PLUGIN_DIR=$MF_TEST_PLUGIN_DIR "$MF_TEST_PROGRAM" \
		-c "$tmp/sample/etc/modelfuse-sample.ini" run >"$tmp/sample.out" 2>"$tmp/sample.err"
	rc=$?
	# Where it writes: its output_dir, relative to its folder.
	out=$(sed -n 's/^[[:space:]]*output_dir[[:space:]]*=[[:space:]]*//p' \
		"$tmp/sample/etc/modelfuse-sample.ini" | sed 's/[[:space:]]*;.*$//' | tail -n 1)
	case $out in
	/*) ;;
	*) out=$tmp/sample/etc/$out ;;
	esac
	# 1 (a sample source stale or failed) still writes outputs worth checking.
	if [ $rc -le 1 ]; then
		pass "the offline sample runs (exit $rc)"
		check_outputs "$out" "offline sample"
	else
		cat "$tmp/sample.err"
		fail "the offline sample exits $rc"
	fi
fi

# ---- 5. the data files shipped for the input formats
for name in $inputs; do
	for file in "$srcdir/data/$name.json" "$srcdir/data/$name"/*.json \
		"$srcdir/data/samples/$name"*.json; do
		[ -f "$file" ] || continue
		rel=${file#"$srcdir"/}
		if [ ! -f "$schemas/$name.schema.json" ]; then
			fail "$rel has no schema to validate against"
		elif validate "$schemas/$name.schema.json" "$file"; then
			pass "$rel validates against $name.schema.json"
		else
			fail "$rel does not validate against $name.schema.json"
		fi
	done
done

echo "MF-TESTS: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
