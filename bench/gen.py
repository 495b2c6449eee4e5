#!/usr/bin/env python3
"""Synthetic upstreams for the scale benchmark (issue 10).

Writes N records in the exact formats of three real upstreams, with id
shapes like theirs, into OUTDIR:

  hf-NNN.json     Hugging Face GET /api/models pages (bare arrays of repos)
  md-NNN.json     models.dev api.json maps (provider -> models), many hosts
                  per model, each host spelling the id its own way
  arena-NNN.json  LMArena leaderboards {category: {name: {rating, ...}}}
  sources.tsv     name, plugin, file and record count of every file

Each file stays under --max-mb (default 50 MB) and becomes one source of
its plugin: a file: page carries no Link header, so the Hugging Face
plugin cannot page over files, and several sources do the same job.

About half the records are Hugging Face repos (official ones and the
quantizations and fine-tunes around them), 40 % models.dev offerings and
10 % arena names. The ids derive from one universe of model releases, so
the mapper finds the same model under several spellings, as in real data.
Output is deterministic for a given size and seed.

Usage: gen.py [--seed S] [--max-mb M] SIZE OUTDIR    (SIZE like 10k, 1M)
"""

import argparse
import json
import os
import random
import sys

GENERATOR_VERSION = 1

# Real model families: maker (as the mapper spells it), Hugging Face
# organisation (None: closed weights), family word, versions, sizes in
# billions (None: the family has tiers instead), variants.
FAMILIES = [
    ("meta", "meta-llama", "Llama", ["2", "3", "3.1", "3.2", "3.3", "4"],
     [1, 3, 8, 11, 70, 90, 405], ["", "Instruct", "Vision-Instruct"]),
    ("qwen", "Qwen", "Qwen", ["1.5", "2", "2.5", "3"],
     [0.5, 1.5, 3, 7, 14, 32, 72, 235], ["", "Instruct", "Coder-Instruct", "Math-Instruct"]),
    ("mistral", "mistralai", "Mistral", ["v0.1", "v0.2", "v0.3"],
     [7, 22, 123], ["", "Instruct"]),
    ("google", "google", "gemma", ["1", "2", "3"], [1, 2, 4, 7, 9, 12, 27], ["", "it"]),
    ("deepseek", "deepseek-ai", "DeepSeek", ["V2", "V2.5", "V3", "R1"],
     [16, 236, 671], ["", "Lite", "Chat"]),
    ("microsoft", "microsoft", "Phi", ["2", "3", "3.5", "4"], [2.7, 3.8, 7, 14],
     ["", "instruct"]),
]
CLOSED = [
    ("openai", "gpt", ["3.5", "4", "4o", "4.1", "5", "5.1"], ["", "mini", "nano", "turbo"]),
    ("anthropic", "claude", ["3", "3-5", "3-7", "4", "4-5"], ["haiku", "sonnet", "opus"]),
    ("google", "gemini", ["1.5", "2.0", "2.5", "3"], ["flash", "flash-lite", "pro"]),
    ("xai", "grok", ["2", "3", "4", "4.1"], ["", "mini", "fast"]),
]
SYLLABLES = ["zen", "or", "ca", "lum", "ar", "vex", "ti", "no", "mir", "sol", "ka", "del",
             "fa", "ri", "qu", "on", "bel", "xi", "mo", "ra", "tek", "ul", "py", "sa"]
QUANTIZERS = ["bartowski", "unsloth", "TheBloke", "mlx-community", "lmstudio-community",
              "QuantFactory", "NousResearch", "mradermacher", "cognitivecomputations"]
DERIVED = ["GGUF", "AWQ", "GPTQ", "4bit", "8bit", "MLX", "abliterated", "DPO", "SFT",
           "i1-GGUF", "FP8", "exl2"]
LICENSES = ["apache-2.0", "mit", "llama3.1", "llama3.2", "gemma", "other", "cc-by-nc-4.0",
            "qwen", "openrail"]
# Host id styles (see render()); real providers first, then synthetic ones.
HOSTS = [("deepinfra", "hf"), ("togetherai", "hf"), ("fireworks-ai", "fireworks"),
         ("groq", "lower"), ("amazon-bedrock", "bedrock"), ("cloudflare-workers-ai", "cf"),
         ("openrouter", "maker"), ("nebius", "hf"), ("novita-ai", "maker"),
         ("google-vertex", "vertex"), ("azure", "lower"), ("ollama-cloud", "colon")]
STYLES = ["hf", "lower", "fireworks", "bedrock", "cf", "maker", "vertex", "colon"]
CATEGORIES = ["full", "coding", "math", "creative_writing"]


def parse_size(text):
    """10k, 100k, 1M or a plain number."""
    t = text.strip().lower()
    mult = 1
    if t.endswith("k"):
        mult, t = 1000, t[:-1]
    elif t.endswith("m"):
        mult, t = 1000000, t[:-1]
    try:
        n = int(float(t) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError("size %r is not a number like 10k or 1M" % text)
    if n < 100:
        raise argparse.ArgumentTypeError("size %r: at least 100 records" % text)
    return n


def fmt_size(b):
    return ("%g" % b).replace(".0", "")


class Universe:
    """Model releases (stems) that every source spells its own way."""

    def __init__(self, rng, count):
        self.rng = rng
        self.stems = []
        seen = set()

        def add(stem):
            key = (stem["maker"], stem["family"], stem["version"], stem["size"],
                   stem["variant"], stem["date"])
            if key not in seen:
                seen.add(key)
                self.stems.append(stem)

        for maker, org, family, versions, sizes, variants in FAMILIES:
            for v in versions:
                for s in sizes:
                    for var in variants:
                        add(dict(maker=maker, org=org, family=family, version=v, size=s,
                                 variant=var, date="", open=True))
        for maker, family, versions, tiers in CLOSED:
            for v in versions:
                for t in tiers:
                    for _ in range(3):
                        date = "20%02d-%02d-%02d" % (rng.randint(23, 26), rng.randint(1, 12),
                                                     rng.randint(1, 28))
                        add(dict(maker=maker, org=None, family=family, version=v, size=t,
                                 variant="", date=date, open=False))
        # Synthetic labs make up the rest: pronounceable names, each with a
        # few versions, sizes and variants, as real open-weight labs have.
        lab = 0
        while len(self.stems) < count:
            name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
            name = name.capitalize() + ("%d" % lab if lab >= 200 else "")
            org = name + rng.choice(["AI", "-Labs", "Research", ""])
            maker = org.lower()
            lab += 1
            for v in ["1", "1.5", "2", "2.5", "3"][: rng.randint(2, 5)]:
                for s in rng.sample([0.5, 1, 3, 7, 8, 13, 14, 32, 34, 70, 72], rng.randint(2, 5)):
                    for var in ["", "Instruct", "Chat", "Coder"][: rng.randint(1, 4)]:
                        add(dict(maker=maker, org=org, family=name, version=v, size=s,
                                 variant=var, date="", open=True))
        del self.stems[count:]
        # Popular releases first: hosts and arenas pick from the head.
        rng.shuffle(self.stems)
        self.open = [s for s in self.stems if s["open"]]


def lower_name(stem, sep="-"):
    """llama-3.1-70b-instruct, gpt-4o-mini-2024-07-18, claude-3-5-sonnet-20241022."""
    fam = stem["family"].lower()
    if not stem["open"]:
        parts = [fam, stem["version"]]
        if stem["size"]:
            parts.append(stem["size"])
        date = stem["date"]
        if stem["maker"] == "anthropic":
            date = date.replace("-", "")
        parts.append(date)
        return sep.join(p for p in parts if p)
    parts = [fam, stem["version"].lower(), fmt_size(stem["size"]) + "b"]
    if stem["variant"]:
        parts.append(stem["variant"].lower())
    return sep.join(parts)


def render(stem, style):
    """The id a host of the given style lists for a stem."""
    base = lower_name(stem)
    if style == "hf" and stem["open"]:
        return hf_name(stem)
    if style == "fireworks":
        return "accounts/fireworks/models/" + base.replace(".", "p")
    if style == "bedrock":
        return "%s.%s-v1:0" % (stem["maker"], base.replace(".", "-"))
    if style == "cf":
        return "@cf/%s/%s" % (stem["maker"], base)
    if style == "maker":
        return "%s/%s" % (stem["maker"], base)
    if style == "vertex" and stem["date"]:
        undated = dict(stem, date="")
        return "%s@%s" % (lower_name(undated), stem["date"].replace("-", ""))
    if style == "colon" and stem["open"]:
        tail = "-" + stem["variant"].lower() if stem["variant"] else ""
        return "%s%s:%sb%s" % (stem["family"].lower(), stem["version"].lower(),
                               fmt_size(stem["size"]), tail)
    return base


def hf_name(stem):
    """meta-llama/Llama-3.1-70B-Instruct, google/gemma-2-9b-it, Qwen/Qwen2.5-7B-Instruct."""
    fam, v, size = stem["family"], stem["version"], fmt_size(stem["size"])
    if fam == "gemma":
        name = "gemma-%s-%sb%s" % (v, size, "-" + stem["variant"] if stem["variant"] else "")
    elif fam == "Qwen":
        name = "Qwen%s-%sB%s" % (v, size, "-" + stem["variant"] if stem["variant"] else "")
    elif fam == "Mistral":
        name = "Mistral-%sB%s-%s" % (size, "-" + stem["variant"] if stem["variant"] else "", v)
    else:
        name = "%s-%s-%sB%s" % (fam, v, size, "-" + stem["variant"] if stem["variant"] else "")
    return "%s/%s" % (stem["org"], name)


def pick(rng, items, head=0.05):
    """Half of the picks from the popular head of items, half from all."""
    if rng.random() < 0.5:
        return items[rng.randrange(max(1, int(len(items) * head)))]
    return items[rng.randrange(len(items))]


class Splitter:
    """Files of one kind, each under a byte budget, each one source."""

    def __init__(self, outdir, prefix, plugin, limit, opener, closer):
        self.outdir, self.prefix, self.plugin, self.limit = outdir, prefix, plugin, limit
        self.opener, self.closer = opener, closer
        self.files = []  # (name, plugin, path, records)
        self.f = None

    def write(self, chunk, records):
        """Append one chunk (already JSON text, without separator)."""
        if self.f is not None and self.size + len(chunk) + 16 > self.limit:
            self.close()
        if self.f is None:
            n = len(self.files) + 1
            path = os.path.join(self.outdir, "%s-%03d.json" % (self.prefix, n))
            self.f = open(path, "w", encoding="utf-8")
            self.f.write(self.opener)
            self.size = len(self.opener)
            self.count = 0
            self.first = True
            self.files.append(["%s%03d" % (self.prefix, n), self.plugin, path, 0])
        if not self.first:
            self.f.write(",")
        self.f.write(chunk)
        self.first = False
        self.size += len(chunk) + 1
        self.files[-1][3] += records

    def close(self):
        if self.f is not None:
            self.f.write(self.closer)
            self.f.close()
            self.f = None


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def gen_hf(rng, uni, count, out):
    """Official repos of the open stems, then quantizations and fine-tunes."""
    seen = set()
    ids = []
    for stem in uni.open:
        if len(ids) >= count // 3:
            break
        hid = hf_name(stem)
        if hid not in seen:
            seen.add(hid)
            ids.append((hid, stem))
    n = 0
    while len(ids) < count:
        stem = pick(rng, uni.open)
        base = hf_name(stem).split("/", 1)[1]
        if rng.random() < 0.6:
            user = rng.choice(QUANTIZERS)
        else:
            user = "user%d" % rng.randrange(count)
        hid = "%s/%s-%s" % (user, base, rng.choice(DERIVED))
        if hid in seen:
            n += 1
            hid = "%s-v%d" % (hid, n)
        seen.add(hid)
        ids.append((hid, stem))
    for rank, (hid, stem) in enumerate(ids):
        lic = "llama3.1" if stem["family"] == "Llama" else rng.choice(LICENSES)
        created = "20%02d-%02d-%02dT%02d:%02d:%02d.000Z" % (
            rng.randint(22, 26), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
            rng.randint(0, 59), rng.randint(0, 59))
        entry = {
            "_id": "%024x" % rng.getrandbits(96),
            "id": hid,
            "likes": int(50000 / (rank + 1) ** 0.8),
            "trendingScore": rng.randint(0, 500),
            "private": False,
            "downloads": int(5e7 / (rank + 1) ** 1.1),
            "tags": ["transformers", "safetensors", stem["family"].lower(), "text-generation",
                     "conversational", "en", "base_model:" + hf_name(stem),
                     "license:" + lic, "region:us"],
            "pipeline_tag": "text-generation",
            "library_name": "transformers",
            "createdAt": created,
            "modelId": hid,
        }
        out.write(dumps(entry), 1)
    out.close()


def md_model(rng, mid, stem):
    price = round(rng.uniform(0.02, 15.0), 3)
    date = stem["date"] or "20%02d-%02d-%02d" % (rng.randint(23, 26), rng.randint(1, 12),
                                                  rng.randint(1, 28))
    return {
        "attachment": rng.random() < 0.3,
        "cost": {"input": price, "output": round(price * rng.choice([1, 2, 3, 4]), 3),
                 "cache_read": round(price / 10, 4)},
        "family": stem["family"].lower(),
        "id": mid,
        "knowledge": date[:7],
        "last_updated": date,
        "limit": {"context": rng.choice([8192, 32768, 131072, 200000, 1048576]),
                  "output": rng.choice([4096, 8192, 16384, 32768])},
        "modalities": {"input": ["text"] + (["image"] if rng.random() < 0.3 else []),
                       "output": ["text"]},
        "name": lower_name(stem, " ").title(),
        "open_weights": stem["open"],
        "reasoning": rng.random() < 0.3,
        "release_date": date,
        "temperature": True,
        "tool_call": rng.random() < 0.7,
    }


def gen_md(rng, uni, count, out):
    """Providers hosting stems, popular ones on many hosts."""
    per_host = max(50, min(3000, count // 40))
    hosts = list(HOSTS)
    k = 0
    while len(hosts) * per_host < count:
        hosts.append(("host-%s%d" % (rng.choice(SYLLABLES), k), rng.choice(STYLES)))
        k += 1
    left = count
    for i, (pid, style) in enumerate(hosts):
        n = min(left, per_host if i < len(hosts) - 1 else left)
        if n <= 0:
            break
        models = {}
        tries = 0
        while len(models) < n:
            tries += 1
            stem = pick(rng, uni.stems)
            mid = render(stem, style)
            if mid in models:
                if tries > n * 20:
                    mid = "%s-r%d" % (mid, tries)
                else:
                    continue
            models[mid] = md_model(rng, mid, stem)
        left -= len(models)
        provider = {"doc": "https://%s.example/models" % pid,
                    "env": [pid.upper().replace("-", "_") + "_API_KEY"],
                    "id": pid, "models": models, "name": pid.replace("-", " ").title(),
                    "npm": "@ai-sdk/openai-compatible"}
        out.write("%s:%s" % (dumps(pid), dumps(provider)), len(models))
    out.close()


def gen_arena(rng, uni, count, outdir, limit):
    """Leaderboard names: real spellings of stems first, then variants."""
    names = []
    seen = set()
    for stem in uni.stems:
        if len(names) >= count:
            break
        name = lower_name(stem)
        if name not in seen:
            seen.add(name)
            names.append(name)
    k = 0
    while len(names) < count:
        stem = pick(rng, uni.stems)
        name = lower_name(stem) + rng.choice(["-thinking", "-bf16", "-fp8", "-preview",
                                              "-exp-%d" % k, "-thinking-32k", "-high"])
        k += 1
        if name not in seen:
            seen.add(name)
            names.append(name)
    # Each name costs about 85 bytes per category it appears in.
    per_file = max(1, limit // (85 * len(CATEGORIES)))
    files = []
    for start in range(0, len(names), per_file):
        chunk = names[start:start + per_file]
        n = len(files) + 1
        path = os.path.join(outdir, "arena-%03d.json" % n)
        with open(path, "w", encoding="utf-8") as f:
            f.write("{")
            for ci, cat in enumerate(CATEGORIES):
                f.write("%s%s:{" % ("," if ci else "", dumps(cat)))
                first = True
                for rank, name in enumerate(chunk):
                    if cat != "full" and rng.random() < 0.3:
                        continue
                    r = 1500 - 900 * (start + rank) / max(1, count)
                    row = {"rating": r + rng.uniform(-5, 5)}
                    row["rating_q975"] = row["rating"] + rng.uniform(1, 9)
                    row["rating_q025"] = row["rating"] - rng.uniform(1, 9)
                    f.write("%s%s:%s" % ("" if first else ",", dumps(name), dumps(row)))
                    first = False
                f.write("}")
            f.write("}")
        files.append(["arena%03d" % n, "arena", path, len(chunk)])
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("size", type=parse_size)
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--max-mb", type=float, default=50.0)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    stamp = os.path.join(args.outdir, "sources.tsv")
    key = "# gen.py v%d size %d seed %d max_mb %g\n" % (GENERATOR_VERSION, args.size,
                                                         args.seed, args.max_mb)
    try:
        with open(stamp, encoding="utf-8") as f:
            if f.readline() == key:
                print("%s: already generated" % args.outdir, file=sys.stderr)
                return 0
    except OSError:
        pass
    for name in os.listdir(args.outdir):
        if name.endswith(".json") or name == "sources.tsv":
            os.unlink(os.path.join(args.outdir, name))

    rng = random.Random(args.seed)
    limit = int(args.max_mb * 1000 * 1000)
    n_hf = args.size // 2
    n_md = args.size * 4 // 10
    n_arena = args.size - n_hf - n_md
    uni = Universe(rng, max(200, args.size // 6))

    hf = Splitter(args.outdir, "hf", "huggingface", limit, "[", "]")
    gen_hf(rng, uni, n_hf, hf)
    md = Splitter(args.outdir, "md", "modelsdev", limit, "{", "}")
    gen_md(rng, uni, n_md, md)
    arena = gen_arena(rng, uni, n_arena, args.outdir, limit)

    with open(stamp + ".tmp", "w", encoding="utf-8") as f:
        f.write(key)
        for name, plugin, path, records in hf.files + md.files + arena:
            f.write("%s\t%s\t%s\t%d\n" % (name, plugin, os.path.basename(path), records))
    os.rename(stamp + ".tmp", stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
