#!/bin/bash
# Checks of the derive stage over the real upstream snapshots (make
# check-realdata). Runs the whole program over the newest snapshot of every
# source (models.dev, OpenRouter with every output modality, the LMArena
# text board, Hugging Face, LiteLLM and the provider listings) and checks
# that every model has its five tiers with a basis, that every model with
# data got the tier and the scores that data allows (a price: a cost tier
# by price quantile; an arena rating: a quality tier by arena quantile and
# category scores with their contributions), that no value a check refuses
# is left in the catalog (output above context, prices below 0 or not
# plausible, dates that do not parse), that every flag lists the values the
# sources gave, and that the query commands answer over the result. Prints
# the counts, and ends with "N passed, N failed".
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

here=$(cd "$(dirname "$0")" && pwd) || fail_setup "cannot find the script's folder"
[ -n "${REALDATA:-}" ] ||
	fail_setup "REALDATA is not set (make check-realdata REALDATA=DIR)"
[ -d "$REALDATA" ] || fail_setup "REALDATA folder $REALDATA does not exist"
[ -n "${MF_TEST_PROGRAM:-}" ] || fail_setup "MF_TEST_PROGRAM is not set"
[ -x "$MF_TEST_PROGRAM" ] ||
	fail_setup "program $MF_TEST_PROGRAM is missing or not executable"
[ -n "${MF_TEST_PLUGIN_DIR:-}" ] || fail_setup "MF_TEST_PLUGIN_DIR is not set"
[ -d "$MF_TEST_PLUGIN_DIR" ] ||
	fail_setup "plugin folder $MF_TEST_PLUGIN_DIR does not exist"
command -v python3 >/dev/null 2>&1 ||
	fail_setup "python3 is needed to read catalog.json and was not found"

REALDATA=$(cd "$REALDATA" && pwd) || fail_setup "cannot enter $REALDATA"
MF_TEST_PLUGIN_DIR=$(cd "$MF_TEST_PLUGIN_DIR" && pwd) ||
	fail_setup "cannot enter $MF_TEST_PLUGIN_DIR"
case $MF_TEST_PROGRAM in
/*) ;;
*) MF_TEST_PROGRAM=$PWD/$MF_TEST_PROGRAM ;;
esac
# The shipped tables (categories, reputation, makers, overrides).
MODELFUSE_DATADIR=${MODELFUSE_DATADIR:-$here/../../data}
[ -f "$MODELFUSE_DATADIR/categories.json" ] ||
	fail_setup "no categories.json in $MODELFUSE_DATADIR"
export MODELFUSE_DATADIR
unset MODELFUSE_CONFIG MODELFUSE_PLUGIN_DIR

work=$(mktemp -d "${TMPDIR:-/tmp}/mf-derive.XXXXXX") ||
	fail_setup "cannot create a temporary folder"
trap 'rm -rf "$work"' EXIT

# instance | plugin | extra key = value lines (;-separated) | snapshot under $REALDATA
oc=openai_compat
sources="
modelsdev|modelsdev||modelsdev/models-dev-api.2026-06-13.json
openrouter|openrouter|all_output_modalities = yes|openrouter/openrouter-models-output_modalities_all.2026-08-05.json
arena|arena||lmarena/leaderboard-text.2025-12-11.json
huggingface|huggingface||huggingface/hf-api-models.reshaped-531.2026-08-07.json
litellm|litellm||litellm/model_prices_and_context_window.2026-07-24.json
openai|anyllm|kind = openai;provider = openai|$oc/openai-v1-models.2026-08-05.json
anthropic|anyllm|kind = anthropic;provider = anthropic|$oc/anthropic-v1-models.2026-07-25.json
xai|anyllm|kind = openai-compatible;provider = xai|$oc/xai-v1-models.2026-07-19.json
gemini|anyllm|kind = gemini;provider = google|$oc/google-gemini-v1beta-models.2026-07-31.json
mistral|anyllm|kind = mistral;provider = mistral|$oc/mistral-v1-models.2025-05-23.json
groq|anyllm|kind = openai-compatible;provider = groq|$oc/groq-openai-v1-models.2025-01-14.json
zenmux|anyllm|kind = openai-compatible;provider = zenmux|$oc/zenmux-v1-models.2026-08-05.json
"

ini=$work/modelfuse.ini
{
	echo "[core]"
	echo "plugin_dir = $MF_TEST_PLUGIN_DIR"
	echo "cache_dir = $work/cache"
	echo "output_dir = $work/out"
} >"$ini"
while IFS='|' read -r name plugin extra file; do
	[ -n "$name" ] || continue
	[ -f "$MF_TEST_PLUGIN_DIR/$plugin.so" ] || fail_setup "plugin $plugin.so is not built"
	[ -f "$REALDATA/$file" ] || fail_setup "snapshot $REALDATA/$file does not exist"
	{
		echo
		echo "[source $name]"
		[ "$plugin" = "$name" ] || echo "plugin = $plugin"
		echo "url = file://$REALDATA/$file"
		[ -z "$extra" ] || echo "$extra" | tr ';' '\n'
	} >>"$ini"
done <<<"$sources"

start=$EPOCHREALTIME
"$MF_TEST_PROGRAM" -c "$ini" run >"$work/stdout" 2>"$work/stderr"
status=$?
end=$EPOCHREALTIME
if [ "$status" -ne 0 ] || [ ! -f "$work/out/catalog.json" ]; then
	echo "  FAIL: modelfuse run exited with $status"
	sed 's/^/    /' "$work/stderr" | head -n 20
	echo "0 passed, 1 failed"
	exit 1
fi
seconds=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" \
	"$start" "$end")

# The query commands over the result: their outputs go to the checker.
"$MF_TEST_PROGRAM" -c "$ini" rankings coding --json -n 0 >"$work/rankings.json" 2>"$work/q.err"
echo $? >"$work/rankings.rc"
"$MF_TEST_PROGRAM" -c "$ini" status --json >"$work/status.json" 2>>"$work/q.err"
echo $? >"$work/status.rc"
"$MF_TEST_PROGRAM" -c "$ini" status >"$work/status.txt" 2>>"$work/q.err"
"$MF_TEST_PROGRAM" -c "$ini" show --json anthropic/claude-opus-4-5-20251101 \
	>"$work/show.json" 2>>"$work/q.err"
echo $? >"$work/show.rc"

checker='
import collections, datetime, json, re, sys

work, datadir, seconds = sys.argv[1:4]
cat = json.load(open(work + "/out/catalog.json", encoding="utf-8"))
models = cat["models"]
reputation = json.load(open(datadir + "/reputation.json", encoding="utf-8"))["makers"]
checks = []

def check(name, ok, detail=""):
    checks.append((name, ok, detail))

def blended(m):
    p = m.get("price")
    if not p or p.get("input_per_million") is None or p.get("output_per_million") is None:
        return None
    return (p["input_per_million"] + p["output_per_million"]) / 2

def date_ok(s):
    m = re.match(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?(\d{2})?)?)?)?)?$", s)
    if not m:
        return False
    try:
        datetime.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return False
    return True

tier_names = ["cost", "quality", "reasoning", "creative", "speed"]
problems = collections.defaultdict(list)
by_basis = collections.Counter()
scored = 0
arena_models = 0
priced = 0
for m in models:
    tiers = m.get("tiers") or {}
    for t in tier_names:
        tier = tiers.get(t)
        if not isinstance(tier, dict) or not tier.get("basis"):
            problems["a tier without basis"].append("%s %s" % (m["id"], t))
            continue
        by_basis[(t, tier["basis"])] += 1
        if tier["basis"] != "none" and tier.get("tier") not in (1, 2, 3, 4, 5):
            problems["a tier out of 1..5"].append("%s %s" % (m["id"], t))
    b = blended(m)
    if b is not None:
        priced += 1
        if tiers.get("cost", {}).get("basis") != "price_quantile":
            problems["a priced model without a cost tier by price"].append(m["id"])
    elif tiers.get("cost", {}).get("basis") != "none":
        problems["an unpriced model with a cost tier"].append(m["id"])
    q = tiers.get("quality", {})
    if m.get("arena"):
        arena_models += 1
        if q.get("basis") != "arena_quantile":
            problems["a rated model without an arena quality tier"].append(m["id"])
        if not m.get("category_scores"):
            problems["a rated model without category scores"].append(m["id"])
    elif m["provider"] in reputation:
        if q.get("basis") != "provider_reputation" or q.get("tier") != reputation[m["provider"]]:
            problems["a maker in the reputation table not used"].append(m["id"])
    elif q.get("basis") != "default" or q.get("tier") != 3:
        problems["an unrated unknown maker not at the default tier"].append(m["id"])
    if m.get("reasoning") is True and q.get("tier", 0) > 1:
        if tiers["reasoning"]["tier"] != q["tier"] - 1:
            problems["a reasoning model not one tier better"].append(m["id"])
    if m.get("category_scores"):
        scored += 1
        for name, s in m["category_scores"].items():
            if not s.get("contributing_scores") or not 0 <= s["score"] <= 100 or not 0 < s["confidence"] <= 1:
                problems["a category score without contributions or out of range"].append(
                    "%s %s" % (m["id"], name))
        if m.get("overall_rank") is None or m.get("best_at") is None:
            problems["a scored model without overall_rank or best_at"].append(m["id"])
    # What the checks refuse is never left in the catalog.
    for rec in [m] + m.get("offerings", []):
        ctx, out = rec.get("context_tokens"), rec.get("max_output_tokens")
        if ctx and out and out > ctx:
            problems["an output limit above the context"].append(m["id"])
        for k, v in (rec.get("price") or {}).items():
            if v is not None and not 0 <= v < 10000:
                problems["a price below 0 or not plausible"].append("%s %s %s" % (m["id"], k, v))
        for f in ("release_date", "last_updated", "knowledge", "expiration_date",
                  "deprecation_date"):
            if rec.get(f) is not None and not date_ok(rec[f]):
                problems["a date that does not parse"].append("%s %s %s" % (m["id"], f, rec[f]))
    for fl in m["quality"]["flags"]:
        if not fl.get("values"):
            problems["a flag without the sources values"].append("%s %s" % (m["id"], fl["check"]))

flags = collections.Counter()
flagged = 0
for m in models:
    fl = m["quality"]["flags"]
    flagged += bool(fl)
    for f in fl:
        flags[(f["check"], f["action"])] += 1

print("  %d models in %s s; %d with both prices, %d arena-rated, %d with category scores"
      % (len(models), seconds, priced, arena_models, scored))
for t in tier_names:
    print("  tier %-9s " % t + ", ".join("%s %d" % (b, n) for (tt, b), n in sorted(by_basis.items())
                                          if tt == t))
print("  data checks: %d models flagged" % flagged)
for (c, a), n in sorted(flags.items()):
    print("    %-22s %-8s %d" % (c, a, n))

statements = [
    ("a tier without basis", "every model has its five tiers, each with a basis"),
    ("a tier out of 1..5", "every tier with a basis other than none is 1..5"),
    ("a priced model without a cost tier by price", "every priced model has a cost tier by price"),
    ("an unpriced model with a cost tier", "no unpriced model has a cost tier"),
    ("a rated model without an arena quality tier",
     "every arena-rated model has its quality tier by arena quantile"),
    ("a rated model without category scores", "every arena-rated model has category scores"),
    ("a maker in the reputation table not used",
     "unrated models of a known maker take the reputation tier"),
    ("an unrated unknown maker not at the default tier",
     "the other unrated models are at the default tier 3"),
    ("a reasoning model not one tier better", "reasoning models are one reasoning tier better"),
    ("a category score without contributions or out of range",
     "every category score is in range and lists its contributions"),
    ("a scored model without overall_rank or best_at",
     "every scored model has an overall rank and best_at"),
    ("an output limit above the context", "no output limit is above its context"),
    ("a price below 0 or not plausible", "no price is below 0 or at 10000 USD per 1M or above"),
    ("a date that does not parse", "every date parses"),
    ("a flag without the sources values", "every flag lists the values the sources gave"),
]
for key, text in statements:
    bad = problems.get(key, [])
    check(text, not bad, ", ".join(bad[:5]) + (" ..." if len(bad) > 5 else ""))
check("every arena-rated model is scored", arena_models > 200 and scored >= arena_models,
      "%d rated, %d scored" % (arena_models, scored))
check("most priced models have a cost tier", priced > 1000, "%d" % priced)
check("the checks fired on the real data", sum(flags.values()) > 0)

rc = int(open(work + "/rankings.rc").read())
ranked = json.load(open(work + "/rankings.json")) if rc == 0 else {}
rows = ranked.get("models", [])
order_ok = all((a["score"], a["confidence"]) >= (b["score"], b["confidence"])
               for a, b in zip(rows, rows[1:]))
check("rankings coding --json lists the scored models by score", rc == 0 and len(rows) > 100
      and order_ok and ranked.get("scored") == len(rows), "rc %d, %d rows" % (rc, len(rows)))
if rows:
    print("  coding: " + ", ".join("%s %.2f" % (r["id"], r["score"]) for r in rows[:5]))
rc = int(open(work + "/status.rc").read())
st = json.load(open(work + "/status.json")) if rc == 0 else {}
check("status --json reports every source fresh and the run exit 0",
      rc == 0 and len(st.get("sources", [])) == len(cat["sources"])
      and all(s["status"] == "fresh" for s in st["sources"])
      and st.get("last_run", {}).get("exit_status") == 0
      and st.get("quality", {}).get("flagged_models") == flagged, "rc %d" % rc)
rc = int(open(work + "/show.rc").read())
check("show --json finds a model by id", rc == 0 and
      json.load(open(work + "/show.json")).get("id") == "anthropic/claude-opus-4-5-20251101",
      "rc %d" % rc)

failed = 0
for name, ok, detail in checks:
    print("  %s: %s%s" % ("ok" if ok else "FAIL", name, " (%s)" % detail if detail and not ok else ""))
    failed += not ok
print("%d passed, %d failed" % (len(checks) - failed, failed))
sys.exit(1 if failed else 0)
'
python3 -c "$checker" "$work" "$MODELFUSE_DATADIR" "$seconds"
