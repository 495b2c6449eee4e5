#!/bin/bash
# Checks of the mapper over the real upstream snapshots (make check-realdata).
# Runs the whole program over one coherent set of snapshots (see
# tests/mapper-labels/README.md) with [mapper] overrides = none and scores
# the labeled pairs of tests/mapper-labels/pairs.tsv against mapping.json:
# precision must be at least 0.99 and recall at least 0.90. Also prints how
# many native ids each source has, how many aligned with another source and
# how many stayed alone, and the most popular unaligned ids.
#
# Environment and set-up: lib/common.sh.
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1

here=$(cd "$(dirname "$0")" && pwd) || fail_setup "cannot find the script's folder"
labels=$here/../mapper-labels/pairs.tsv
makers=$here/../../data/makers.json

rd_check_env
[ -f "$labels" ] || fail_setup "labeled pairs $labels are missing"
[ -f "$makers" ] || fail_setup "maker table $makers is missing"
rd_need_python "score mapping.json"
rd_absolute_paths
rd_workdir mf-mapper
# The maker table and nothing else: whatever reads the shipped overrides
# finds none, on top of [mapper] overrides = none below.
mkdir -p "$work/data"
cp "$makers" "$work/data/makers.json"
export MODELFUSE_DATADIR=$work/data

# instance | plugin | anyllm kind | anyllm provider | snapshot under $REALDATA
oc=openai_compat
sources="
modelsdev|modelsdev|||modelsdev/models-dev-api.2025-11-07.raw-minified.json
openrouter|openrouter|||openrouter/openrouter-models.2025-11-07.raw-minified.json
huggingface|huggingface|||huggingface/hf-api-models.reshaped-531.2026-08-07.json
arena|arena|||lmarena/leaderboard-text.2025-12-11.json
litellm|litellm|||litellm/model_prices_and_context_window.2025-12-18.json
openai|anyllm|openai|openai|$oc/openai-v1-models.2025-11-18.json
anthropic|anyllm|anthropic|anthropic|$oc/anthropic-v1-models.2025-11-18.json
xai|anyllm|openai-compatible|xai|$oc/xai-v1-models.2025-11-18.json
gemini|anyllm|gemini|google|$oc/google-gemini-v1beta-models.2025-11-18.json
mistral|anyllm|mistral|mistral|$oc/mistral-v1-models.2025-05-23.json
groq|anyllm|openai-compatible|groq|$oc/groq-openai-v1-models.2025-01-14.json
"

ini=$work/modelfuse.ini
rd_write_ini "$work" <<EOF
[mapper]
overrides = none
EOF
enabled=""
missing=""
while IFS='|' read -r name plugin kind provider file; do
	[ -n "$name" ] || continue
	if [ ! -f "$MF_TEST_PLUGIN_DIR/$plugin.so" ]; then
		missing="$missing $name(no $plugin.so)"
		continue
	fi
	[ -f "$REALDATA/$file" ] || fail_setup "snapshot $REALDATA/$file does not exist"
	{
		echo
		echo "[source $name]"
		[ "$plugin" = "$name" ] || echo "plugin = $plugin"
		echo "url = file://$REALDATA/$file"
		[ -z "$kind" ] || echo "kind = $kind"
		[ -z "$provider" ] || echo "provider = $provider"
	} >>"$ini"
	enabled="$enabled $name"
done <<<"$sources"
[ -n "$enabled" ] || fail_setup "no source plugin found in $MF_TEST_PLUGIN_DIR"

echo "sources:$enabled"
[ -z "$missing" ] || echo "not built, their pairs are skipped:$missing"
start=$EPOCHREALTIME
"$MF_TEST_PROGRAM" -c "$ini" run >"$work/stdout" 2>"$work/stderr"
status=$?
end=$EPOCHREALTIME
if [ "$status" -ne 0 ] || [ ! -f "$work/out/mapping.json" ]; then
	echo "  FAIL: modelfuse run exited with $status"
	sed 's/^/    /' "$work/stderr" | head -n 20
	echo "0 passed, 1 failed"
	exit 1
fi

scorer='
import json, sys, collections

labels_path, out_dir, seconds = sys.argv[1:4]
with open(out_dir + "/mapping.json", encoding="utf-8") as f:
    entries = json.load(f)["entries"]
with open(out_dir + "/catalog.json", encoding="utf-8") as f:
    catalog = json.load(f)

produced = {s["name"]: s["records"] for s in catalog.get("sources", [])}
live = {name for name, n in produced.items() if isinstance(n, int) and n > 0}
where = {}
for e in entries:
    where.setdefault((e["source"], e["id"]), e)

pairs = []
with open(labels_path, encoding="utf-8") as f:
    for n, line in enumerate(f, 1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 5 or cols[2] not in ("same", "different"):
            print("  FAIL: %s:%d: expected a, b, same|different, kind, evidence" % (labels_path, n))
            sys.exit(1)
        pairs.append(cols)

checks = []  # (name, ok, detail)
negatives = sum(1 for p in pairs if p[2] == "different")
checks.append(("label set: at least 200 pairs, at least 40% hard negatives",
               len(pairs) >= 200 and negatives * 10 >= 4 * len(pairs),
               "%d pairs, %d different (%.1f%%)" % (len(pairs), negatives,
                                                    100.0 * negatives / max(len(pairs), 1))))

tp = fp = fn = tn = 0
skipped = 0
unknown = []
wrong = []
for a, b, label, kind, evidence in pairs:
    ra, rb = tuple(a.split(":", 1)), tuple(b.split(":", 1))
    if ra[0] not in live or rb[0] not in live:
        skipped += 1
        continue
    ea, eb = where.get(ra), where.get(rb)
    if not ea or not eb:
        unknown.append(a if not ea else b)
        continue
    same = ea["model"] == eb["model"]
    if label == "same":
        if same:
            tp += 1
        else:
            fn += 1
            wrong.append("missed   %s -> %s | %s -> %s (%s)"
                         % (a, ea["model"], b, eb["model"], kind))
    else:
        if same:
            fp += 1
            wrong.append("merged   %s + %s -> %s (%s: %s)" % (a, b, ea["model"], kind, evidence))
        else:
            tn += 1

evaluated = tp + fp + fn + tn
precision = tp / (tp + fp) if tp + fp else 0.0
recall = tp / (tp + fn) if tp + fn else 0.0
print("  pairs: %d labeled, %d evaluated, %d skipped (source not built), %d unresolved"
      % (len(pairs), evaluated, skipped, len(unknown)))
print("  precision %.4f (%d of %d merged pairs right), recall %.4f (%d of %d same pairs found)"
      % (precision, tp, tp + fp, recall, tp, tp + fn))
print("  run took %s s" % seconds)
for w in wrong:
    print("    " + w)
checks.append(("every labeled id found in its source", not unknown,
               ", ".join(unknown[:8]) + (" ..." if len(unknown) > 8 else "")))
checks.append(("enough pairs evaluated (>= 100)", evaluated >= 100, "%d" % evaluated))
checks.append(("precision >= 0.99", evaluated > 0 and precision >= 0.99, "%.4f" % precision))
checks.append(("recall >= 0.90", evaluated > 0 and recall >= 0.90, "%.4f" % recall))

# Per source: native ids, and how many share their model with another
# (source, provider) or stayed alone.
by_model = collections.defaultdict(set)
for e in entries:
    by_model[e["model"]].add((e["source"], e.get("provider", "")))
print("  %-12s %8s %8s %8s" % ("source", "ids", "aligned", "alone"))
stats = collections.OrderedDict()
for e in entries:
    s = stats.setdefault(e["source"], [set(), set(), set()])
    key = (e["id"], e.get("provider", ""))
    s[0].add(key)
    (s[2] if e["rule"] == "unaligned" else s[1]).add(key)
for name, (ids, aligned, alone) in stats.items():
    print("  %-12s %8d %8d %8d" % (name, len(ids), len(aligned), len(alone)))

# The most popular ids nothing else lists, and the nearest keys of the
# same maker, which say why they stayed alone.
popularity = {m["id"]: m.get("popularity_score") or 0 for m in catalog.get("models", [])}
by_maker = collections.defaultdict(list)
for e in entries:
    by_maker[e["model"].split("/", 1)[0]].append(e)
alone = [e for e in entries if e["rule"] == "unaligned"]
alone.sort(key=lambda e: (-popularity.get(e["model"], 0), e["model"], e["source"], e["id"]))
print("  most popular unaligned ids:")
shown = set()
for e in alone:
    if e["model"] in shown:
        continue
    shown.add(e["model"])
    word = e["model"].split("/", 1)[1].split("-")[0]
    near = sorted({o["model"] for o in by_maker[e["model"].split("/", 1)[0]]
                   if o["model"] != e["model"] and o["source"] != e["source"]
                   and o["model"].split("/", 1)[1].startswith(word)})
    why = ("nearest: " + ", ".join(near[:3]) if near
           else "no other source lists this maker and family")
    print("    %6.2f %s:%s -> %s; %s" % (popularity.get(e["model"], 0), e["source"], e["id"],
                                        e["model"], why))
    if len(shown) == 10:
        break

failed = 0
for name, ok, detail in checks:
    print("  %s: %s%s" % ("ok" if ok else "FAIL", name, " (%s)" % detail if detail else ""))
    failed += not ok
print("%d passed, %d failed" % (len(checks) - failed, failed))
sys.exit(1 if failed else 0)
'

seconds=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" \
	"$start" "$end")
python3 -c "$scorer" "$labels" "$work/out" "$seconds"
