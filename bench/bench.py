#!/usr/bin/env python3
"""The measuring half of issue 10: floor, scale and profiles of `modelfuse run`.

Called by bench/run.sh, which builds what is needed and passes paths:

  bench.py floor   --program P --floor-bin F --realdata DIR --work DIR [--runs N]
  bench.py scale   --program P --work DIR [--sizes 10k,100k,1M] [--runs N]
  bench.py profile --program P --work DIR --realdata DIR [--size 1M]

Every section prints a plain-text table (also appended to WORK/results.md).
Timings are wall-clock seconds of whole processes (fork to exit), taken with
os.wait4, which also gives user/system CPU and the peak RSS of the largest
process of the run. A sampler thread reads /proc every 10 ms for the peak
RSS of the parent alone and of all of the run's processes together.

Every timed modelfuse run is checked: exit status, every source's status
and record count, the number of models and a few models that must be in
the catalog. A run that fails its check is reported and makes the section
fail; its time is still shown so that nothing is hidden.
"""

import argparse
import collections
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import gen  # noqa: E402  (the generator shares the size parser)

# The newest real snapshots (issue 10): instance, plugin, anyllm kind and
# provider, file under REALDATA, expected record count.
REAL_SOURCES = [
    ("modelsdev", "modelsdev", None, None, "modelsdev/models-dev-api.2026-06-13.json", 5258),
    ("openrouter", "openrouter", None, None,
     "openrouter/openrouter-models-output_modalities_all.2026-08-05.json", 457),
    ("arena", "arena", None, None, "lmarena/leaderboard-text.2025-12-11.json", 282),
    ("huggingface", "huggingface", None, None,
     "huggingface/hf-api-models.reshaped-531.2026-08-07.json", 531),
    ("openai", "anyllm", "openai", "openai", "openai_compat/openai-v1-models.2026-08-05.json",
     132),
    ("anthropic", "anyllm", "anthropic", "anthropic",
     "openai_compat/anthropic-v1-models.2026-07-25.json", 11),
    ("gemini", "anyllm", "gemini", "google",
     "openai_compat/google-gemini-v1beta-models.2026-07-31.json", 58),
]
# Models the real catalog must hold, with sources that must have fed them.
REAL_EXPECTED = {
    "anthropic/claude-opus-4-5-20251101": ["anthropic", "arena", "modelsdev"],
    "openai/gpt-4o-2024-05-13": ["openai", "modelsdev"],
    "google/gemini-2.5-pro": ["gemini", "arena", "modelsdev"],
    "meta/llama-3.1-70b-instruct": ["modelsdev"],
    "deepseek/deepseek-r1": ["arena", "modelsdev"],
}
# Synthetic catalogs must hold these (every size has the real families).
SYNTH_EXPECTED = ["meta/llama-3.1-70b-instruct", "qwen/qwen2.5-72b-instruct"]

# Phases of the parent, by the outermost engine function on the stack
# (engine/cli.c's cmd_run calls them in this order). A child's samples
# carry child_main / runner_source_main and count as fetch+normalize.
PHASES = [
    ("setup", ["load_config", "config_load", "load_plugins", "mapper_tables_load",
               "take_lock"]),
    ("fetch+normalize", ["runner_run"]),
    ("map", ["mapper_map_with", "mapper_map"]),
    ("merge", ["merge_build"]),
    ("derive", ["derive_run", "derive_all", "derive_catalog", "derive"]),
    ("changes", ["changes_compute"]),
    ("write", ["writer_write_all"]),
    ("free", ["catalog_free", "mapping_free", "changes_free", "source_result_free",
              "mapper_tables_free", "close_plugins", "config_free"]),
]
# Inside the write phase: one function per output file, and the fsync
# that makes each file durable before the renames.
WRITE_PARTS = [("catalog.json", ["writer_catalog"]),
               ("staging_candidates.json", ["writer_staging"]),
               ("mapping.json", ["writer_mapping"]),
               ("changes.json", ["write_changes"]),
               ("digest", ["write_digest", "changes_write_digest"]),
               ("fsync+rename", ["fsync", "__fsync", "atomic_commit", "rename"])]
CHILD_MARKS = {"child_main", "runner_source_main"}
CHILD_PARTS = [("fetch", ["fetch_pages", "run_refresh_command"]),
               ("normalize", ["normalize_pages"]),
               ("send", ["send_stream", "send_cached", "cache_send_records"])]

RESULTS = None  # file the tables are appended to


def out(line=""):
    print(line, flush=True)
    if RESULTS:
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def load_note(when):
    """The machine's load: other work on a 2-core host skews every figure."""
    one, five, _ = os.getloadavg()
    out("(load average %s: %.2f over 1 min, %.2f over 5 min, %d CPUs)"
        % (when, one, five, os.cpu_count() or 0))


def die(msg):
    print("bench: " + msg, file=sys.stderr)
    sys.exit(2)


# ------------------------------------------------------------------ running


def read_status(pid):
    """VmRSS and VmHWM of pid in KiB, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid, encoding="ascii", errors="replace") as f:
            rss = hwm = 0
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
            return rss, hwm
    except (OSError, ValueError, IndexError):
        return None


def descendants(pid):
    """Child pids of pid, recursively (from /proc/PID/task/*/children)."""
    found = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in tasks:
            try:
                with open("/proc/%d/task/%s/children" % (p, t), encoding="ascii") as f:
                    kids = [int(x) for x in f.read().split()]
            except (OSError, ValueError):
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


class Sampler(threading.Thread):
    """Every 10 ms: the parent's RSS and high-water mark, and the RSS of the
    whole process tree, with CLOCK_MONOTONIC times (perf uses the same clock
    with -k CLOCK_MONOTONIC, so samples line up with phases)."""

    def __init__(self, pid, find_child=False):
        super().__init__(daemon=True)
        self.root = pid
        self.find_child = find_child  # pid is perf: watch its workload
        self.pid = None if find_child else pid
        self.stop = threading.Event()
        self.samples = []  # (t, parent_rss, tree_rss)
        self.parent_hwm = 0
        self.tree_peak = 0

    def run(self):
        while not self.stop.is_set():
            if self.pid is None:
                kids = descendants(self.root)
                if kids:
                    self.pid = kids[0]
            if self.pid is not None:
                st = read_status(self.pid)
                if st is None:
                    break
                tree = st[0]
                for k in descendants(self.pid):
                    s = read_status(k)
                    if s:
                        tree += s[0]
                self.parent_hwm = max(self.parent_hwm, st[1])
                self.tree_peak = max(self.tree_peak, tree)
                self.samples.append((time.monotonic(), st[0], tree))
            self.stop.wait(0.01)


class Result:
    def __init__(self, argv, status, wall, user, sys_, maxrss, parent_hwm, tree_peak,
                 stdout, stderr, samples):
        self.argv, self.status, self.wall = argv, status, wall
        self.user, self.sys, self.cpu = user, sys_, user + sys_
        self.maxrss = maxrss  # KiB: largest single process (wait4)
        self.parent_hwm = parent_hwm  # KiB: the parent alone
        self.tree_peak = tree_peak  # KiB: all processes at one time
        self.stdout, self.stderr, self.samples = stdout, stderr, samples
        self.check = None  # None: not checked; "" ok; else what failed


def run(argv, env=None, perf_child=False, sample=True):
    """Run argv to completion; wall time, CPU and memory of the whole tree."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = None
    if sample:
        sampler = Sampler(p.pid, find_child=perf_child)
        sampler.start()
    # Drain both pipes without blocking the child.
    chunks = {"o": [], "e": []}

    def drain(stream, key):
        for block in iter(lambda: stream.read(65536), b""):
            chunks[key].append(block)

    readers = [threading.Thread(target=drain, args=(p.stdout, "o"), daemon=True),
               threading.Thread(target=drain, args=(p.stderr, "e"), daemon=True)]
    for r in readers:
        r.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    p.stdout.close()
    p.stderr.close()
    if sampler:
        sampler.stop.set()
        sampler.join()
    return Result(argv, p.returncode, wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss,
                  sampler.parent_hwm if sampler else 0, sampler.tree_peak if sampler else 0,
                  b"".join(chunks["o"]).decode("utf-8", "replace"),
                  b"".join(chunks["e"]).decode("utf-8", "replace"),
                  sampler.samples if sampler else [])


def program_env():
    env = dict(os.environ)
    env.pop("MODELFUSE_CONFIG", None)
    env.pop("MODELFUSE_PLUGIN_DIR", None)
    env.setdefault("MODELFUSE_DATADIR", os.path.join(REPO, "data"))
    return env


# ------------------------------------------------------------------ checks


def catalog_sources(path):
    """The sources array of catalog.json, read from the head of the file
    (the writer puts it before models, so a 2 GB catalog is not parsed)."""
    with open(path, encoding="utf-8") as f:
        head = f.read(1 << 20)
    at = head.find('"sources"')
    if at < 0:
        raise ValueError("no sources array in the first MiB")
    at = head.index("[", at)
    sources, _ = json.JSONDecoder().raw_decode(head, at)
    return sources


def catalog_models(path, wanted):
    """(number of models, {wanted id: [source names of its source_ids]}).
    Small catalogs are parsed; large ones are scanned line by line in the
    writer's layout (one model object opens with a 4-space "{")."""
    found = {}
    if os.path.getsize(path) < 300 * 1000 * 1000:
        with open(path, encoding="utf-8") as f:
            cat = json.load(f)
        for m in cat["models"]:
            if m.get("id") in wanted:
                found[m["id"]] = sorted((m.get("source_ids") or {}).keys())
        return len(cat["models"]), found
    n = 0
    in_models = False
    current = None
    in_ids = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not in_models:
                in_models = line.startswith('  "models": [')
                continue
            if line == "    {\n":
                n += 1
                current = None
                in_ids = False
                continue
            if current is None and line.startswith('      "id": "'):
                mid = line[len('      "id": "'):].rstrip().rstrip(",").rstrip('"')
                current = mid if mid in wanted else ""
                if current:
                    found[current] = []
                continue
            if current:
                if line.startswith('      "source_ids": {'):
                    in_ids = not line.rstrip().endswith("}") and not line.rstrip().endswith("},")
                elif in_ids and line.startswith('        "'):
                    found[current].append(line.split('"')[1])
                elif in_ids and line.startswith("      }"):
                    in_ids = False
    for k in found:
        found[k] = sorted(found[k])
    return n, found


def check_run(res, out_dir, expect_sources, status, expected_models, min_models=None,
              models_ref=None):
    """Fill res.check: "" when the run did what a good run does."""
    problems = []
    if res.status != 0:
        problems.append("exit %d: %s" % (res.status, res.stderr.strip()[-300:]))
    cat = os.path.join(out_dir, "catalog.json")
    try:
        sources = {s["name"]: s for s in catalog_sources(cat)}
        for name, records in expect_sources.items():
            s = sources.get(name)
            if not s:
                problems.append("source %s missing from catalog" % name)
            elif s.get("status") != status or s.get("records") != records:
                problems.append("source %s: %s with %s records, expected %s with %d"
                                % (name, s.get("status"), s.get("records"), status, records))
        n, found = catalog_models(cat, set(expected_models))
        for mid, need in expected_models.items():
            if mid not in found:
                problems.append("model %s missing" % mid)
            elif not set(need) <= set(found[mid]):
                problems.append("model %s fed by %s, expected at least %s"
                                % (mid, ",".join(found[mid]), ",".join(need)))
        if min_models is not None and n < min_models:
            problems.append("%d models, expected at least %d" % (n, min_models))
        if models_ref is not None and n != models_ref:
            problems.append("%d models, the first run had %d" % (n, models_ref))
        res.models = n
    except (OSError, ValueError, KeyError) as e:
        problems.append("catalog unreadable: %s" % e)
        res.models = None
    res.check = "; ".join(problems)
    return res.check == ""


# ------------------------------------------------------------------ tables


def fmt_s(x):
    return "%.3f" % x if x < 10 else "%.2f" % x if x < 100 else "%.1f" % x


def mib(kib):
    return "%.0f" % (kib / 1024.0)


def table(header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(header)]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |"
    out(line)
    out("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        out("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")


def summary(results):
    walls = [r.wall for r in results]
    return {
        "median": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
        "cpu": statistics.median(r.cpu for r in results),
        "maxrss": max(r.maxrss for r in results),
        "parent": max(r.parent_hwm for r in results),
        "tree": max(r.tree_peak for r in results),
    }


# ------------------------------------------------------------------ floor


def write_real_ini(path, work, program_dir, realdata, ttl_hours=None, jobs=None):
    lines = ["[core]", "plugin_dir = %s" % program_dir, "cache_dir = %s/cache" % work,
             "output_dir = %s/out" % work]
    if jobs:
        lines.append("jobs = %d" % jobs)
    for name, plugin, kind, provider, rel, _ in REAL_SOURCES:
        lines += ["", "[source %s]" % name]
        if plugin != name:
            lines.append("plugin = %s" % plugin)
        lines.append("url = file://%s" % os.path.join(realdata, rel))
        if kind:
            lines += ["kind = %s" % kind, "provider = %s" % provider]
        if plugin == "huggingface":
            lines.append("max_models = 0")
        if ttl_hours is not None:
            lines.append("ttl_hours = %g" % ttl_hours)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def cmd_floor(args):
    realdata = os.path.abspath(args.realdata)
    if not os.path.isdir(realdata):
        die("REALDATA folder %s does not exist (give --realdata DIR)" % realdata)
    files = [os.path.join(realdata, s[4]) for s in REAL_SOURCES]
    for f in files:
        if not os.path.isfile(f):
            die("snapshot %s is missing" % f)
    work = os.path.join(args.work, "floor")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    plugin_dir = args.plugin_dir
    env = program_env()
    expect = {s[0]: s[5] for s in REAL_SOURCES}
    total_bytes = sum(os.path.getsize(f) for f in files)

    floor_argv = [args.floor_bin] + files
    probe = run(floor_argv, sample=False)
    if probe.status != 0 or len(probe.stdout.splitlines()) != len(files):
        die("the jansson floor program failed: %s" % probe.stderr.strip())

    modes = [
        ("cold", None, "fresh",
         "empty cache and outputs before each run, no --offline: fetch file:, normalize"),
        ("warm, ttl_hours=0", 0, "fresh",
         "past TTL: file: fetched again, sha256 unchanged, records read back (no normalize)"),
        ("warm, within TTL", 24, "cached",
         "cache fresh: no fetch at all, records read back"),
    ]
    out()
    out("## Floor: `modelfuse run` over the real snapshots vs parsing them with jansson")
    out()
    out("%d files, %.1f MB (%s); %d alternating pairs per mode (modelfuse, floor, "
        "modelfuse, floor, ...); jobs = %s." % (len(files), total_bytes / 1e6,
                                                ", ".join(os.path.basename(f) for f in files),
                                                args.runs, args.jobs or "default (CPUs)"))
    load_note("at start")
    out()
    rows = []
    failed = []
    for label, ttl, status, what in modes:
        ini = os.path.join(work, "modelfuse.ini")
        write_real_ini(ini, work, plugin_dir, realdata, ttl_hours=ttl, jobs=args.jobs)
        argv = [args.program, "-c", ini, "run"]
        cache, outd = os.path.join(work, "cache"), os.path.join(work, "out")
        if ttl is not None:
            # One untimed run fills the cache the warm runs read back.
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(outd, ignore_errors=True)
            first = run(argv, env=env, sample=False)
            if first.status != 0:
                die("preparing the warm cache failed: %s" % first.stderr.strip())
        mf, fl = [], []
        ref = None
        for i in range(args.runs):
            if ttl is None:
                shutil.rmtree(cache, ignore_errors=True)
                shutil.rmtree(outd, ignore_errors=True)
            r = run(argv, env=env)
            ok = check_run(r, outd, expect, status, REAL_EXPECTED, min_models=1000,
                           models_ref=ref)
            if ref is None and ok:
                ref = r.models
            if not ok:
                failed.append("%s run %d: %s" % (label, i + 1, r.check))
            mf.append(r)
            f = run(floor_argv)
            if f.status != 0:
                failed.append("floor run %d: exit %d" % (i + 1, f.status))
            fl.append(f)
        a, b = summary(mf), summary(fl)
        rows.append([label, fmt_s(a["median"]), fmt_s(a["min"]), fmt_s(b["median"]),
                     fmt_s(b["min"]), "%.2fx" % (a["median"] / b["median"]),
                     "%.2fx" % (a["min"] / b["min"]), fmt_s(a["cpu"]), fmt_s(b["cpu"]),
                     "%.2fx" % (a["cpu"] / b["cpu"]), mib(a["parent"]), mib(a["tree"]),
                     "%d/%d" % (sum(1 for r in mf if r.check == ""), len(mf)),
                     ref if ref is not None else "-"])
        out("- %s: %s" % (label, what))
    out()
    table(["mode", "modelfuse median s", "min s", "floor median s", "floor min s",
           "ratio (median)", "ratio (min)", "modelfuse CPU s", "floor CPU s", "CPU ratio",
           "parent peak MiB", "all processes MiB", "checked ok", "models"], rows)
    out()
    load_note("at end")
    out("Targets: cold <= 1.3x the floor, warm <= 0.25x the floor (ratio of medians).")
    if failed:
        out()
        out("CHECK FAILURES:")
        for f in failed:
            out("- " + f)
        return 1
    return 0


# ------------------------------------------------------------------ scale


def write_scale_ini(path, work, plugin_dir, data_dir, jobs=None):
    lines = ["[core]", "plugin_dir = %s" % plugin_dir, "cache_dir = %s/cache" % work,
             "output_dir = %s/out" % work, "max_body_bytes = 268435456"]
    if jobs:
        lines.append("jobs = %d" % jobs)
    expect = {}
    with open(os.path.join(data_dir, "sources.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, plugin, fname, records = line.rstrip("\n").split("\t")
            lines += ["", "[source %s]" % name, "plugin = %s" % plugin,
                      "url = file://%s" % os.path.join(data_dir, fname)]
            if plugin == "huggingface":
                lines.append("max_models = 0")
            expect[name] = int(records)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return expect


def perf_ok():
    if not shutil.which("perf"):
        return False
    r = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-o", "/dev/null", "true"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def perf_record(argv, data, env, seconds_hint):
    """Run argv under perf (cpu-clock, DWARF call graphs, monotonic clock):
    at most about 20000 samples whatever the run's length."""
    freq = int(max(49, min(999, 20000 / max(0.1, seconds_hint * 2))))
    perf = ["perf", "record", "-q", "-e", "cpu-clock", "-F", str(freq), "--call-graph",
            "dwarf,8192", "-k", "CLOCK_MONOTONIC", "-o", data, "--"] + argv
    return run(perf, env=env, perf_child=True), freq


# A perf script sample: "comm pid/tid time: period" then frames.
SAMPLE_RE = re.compile(r"^(\S.*?)\s+(\d+)/(\d+)\s+([\d.]+):\s+(\d+)\s*$")
FRAME_RE = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")


def perf_samples(data):
    """[(pid, time, [(sym, dso), ...] leaf first)] from perf script."""
    p = subprocess.run(["perf", "script", "-i", data, "-F", "comm,pid,tid,time,period,ip,sym,dso"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       errors="replace")
    samples = []
    cur = None
    for line in p.stdout.splitlines():
        m = SAMPLE_RE.match(line)
        if m:
            cur = (int(m.group(2)), float(m.group(4)), [])
            samples.append(cur)
            continue
        f = FRAME_RE.match(line)
        if f and cur is not None:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", f.group(2))
            cur[2].append((sym, f.group(3)))
    # An inlined frame lives in the object of the function it was inlined
    # into: the next real frame towards the root.
    for _, _, chain in samples:
        dso = None
        for i in range(len(chain) - 1, -1, -1):
            if chain[i][1] == "inlined":
                chain[i] = (chain[i][0], dso or "?")
            else:
                dso = chain[i][1]
    return samples


def attribute(chain):
    """The phase of one sample (chain leaf first)."""
    names = [s for s, _ in chain]
    if CHILD_MARKS & set(names):
        for part, funcs in CHILD_PARTS:
            if set(funcs) & set(names):
                return "child:" + part
        return "child:other"
    # Outermost phase function: scan from the root.
    for sym in reversed(names):
        for phase, funcs in PHASES:
            if sym in funcs or (phase == "derive" and sym.startswith("derive_")):
                if phase == "write":
                    for part, pfuncs in WRITE_PARTS:
                        if set(pfuncs) & set(names):
                            return "write:" + part
                    return "write:other"
                return phase
    return "other"


def phase_of(label):
    """The phase a sample label counts in."""
    if label.startswith("child:"):
        return "fetch+normalize"
    if label.startswith("write:"):
        return "write"
    return label


def phase_table(data, run_res, title):
    """Per phase: wall span in the parent, CPU sampled in the parent and the
    children, RSS of the parent during and at the end of the phase."""
    samples = perf_samples(data)
    if not samples:
        out("(no perf samples in %s)" % data)
        return {}
    labels = [attribute(chain) for _, _, chain in samples]
    # The parent is the process whose samples never come from a child's
    # stack (a child's stack still holds the parent's frames below fork).
    own = collections.Counter(pid for (pid, _, _), lab in zip(samples, labels)
                              if not lab.startswith("child:"))
    parent = own.most_common(1)[0][0] if own else samples[0][0]
    cpu = collections.Counter()
    first = {}
    last_parent = max(t for (pid, t, _) in samples if pid == parent) if own else samples[-1][1]
    for (pid, t, _), lab in zip(samples, labels):
        cpu[lab] += 1
        ph = phase_of(lab)
        if pid == parent or ph == "fetch+normalize":
            if ph not in first or t < first[ph]:
                first[ph] = t
    n = len(samples)
    freq = run_res[1]
    order = sorted((p for p, _ in PHASES if p in first), key=lambda p: first[p])
    rows = []
    spans, rss_peak = {}, {}
    for i, ph in enumerate(order):
        start = first[ph]
        end = first[order[i + 1]] if i + 1 < len(order) else last_parent
        spans[ph] = end - start
        before = [s for s in run_res[0].samples if s[0] <= end]
        rss = before[-1][1] if before else 0
        peak = max((s[1] for s in run_res[0].samples if start <= s[0] <= end), default=rss)
        rss_peak[ph] = peak
        c = sum(v for k, v in cpu.items() if phase_of(k) == ph)
        rows.append([ph, fmt_s(spans[ph]), fmt_s(c / freq), "%.1f%%" % (100.0 * c / n),
                     mib(peak), mib(rss)])
    out()
    out("%s: phases (perf, %d samples at %d Hz; wall under perf %s s)"
        % (title, n, freq, fmt_s(run_res[0].wall)))
    out()
    table(["phase", "wall s", "CPU s", "share of CPU", "parent peak MiB in phase",
           "parent RSS at end MiB"], rows)
    for prefix, what in (("child:", "fetch+normalize inside the children"),
                         ("write:", "write, by output")):
        parts = [(k[len(prefix):], v) for k, v in cpu.items() if k.startswith(prefix)]
        if parts:
            out()
            out("%s (CPU s): %s" % (what, ", ".join(
                "%s %s" % (k, fmt_s(v / freq))
                for k, v in sorted(parts, key=lambda kv: -kv[1]))))
    return {"spans": spans, "peak": rss_peak,
            "cpu": {ph: sum(v for k, v in cpu.items() if phase_of(k) == ph) / freq
                    for ph in spans}}


def cmd_scale(args):
    sizes = [gen.parse_size(s) for s in args.sizes.split(",") if s.strip()]
    env = program_env()
    use_perf = not args.no_perf and perf_ok()
    out()
    out("## Scale: synthetic upstreams (bench/gen.py), cold and warm runs")
    out()
    out("Sources per size: Hugging Face pages (50%% of the records), models.dev maps (40%%), "
        "arena leaderboards (10%%), files <= 50 MB, one source each; jobs = %s."
        % (args.jobs or "default (CPUs)"))
    load_note("at start")
    rows = []
    failed = []
    per_size = {}
    for size in sizes:
        label = fmt_count(size)
        data = os.path.join(args.work, "gen", label)
        t0 = time.monotonic()
        g = subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), str(size), data])
        if g.returncode != 0:
            die("gen.py %s failed" % label)
        gen_s = time.monotonic() - t0
        work = os.path.join(args.work, "scale-" + label)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        ini = os.path.join(work, "modelfuse.ini")
        expect = write_scale_ini(ini, work, args.plugin_dir, data, jobs=args.jobs)
        files = len(expect)
        mbytes = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data)
                     if f.endswith(".json")) / 1e6
        argv = [args.program, "-c", ini, "run"]
        runs = args.runs if size < 1000000 else max(1, args.runs_1m)
        cold, warm = [], []
        ref = None
        for i in range(runs):
            shutil.rmtree(os.path.join(work, "cache"), ignore_errors=True)
            shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
            r = run(argv, env=env)
            ok = check_run(r, os.path.join(work, "out"), expect, "fresh",
                           {m: [] for m in SYNTH_EXPECTED}, min_models=size // 10,
                           models_ref=ref)
            ref = r.models if ref is None and ok else ref
            if not ok:
                failed.append("%s cold run %d: %s" % (label, i + 1, r.check))
            cold.append(r)
        for i in range(runs):
            r = run(argv, env=env)
            ok = check_run(r, os.path.join(work, "out"), expect, "cached",
                           {m: [] for m in SYNTH_EXPECTED}, models_ref=ref)
            if not ok:
                failed.append("%s warm run %d: %s" % (label, i + 1, r.check))
            warm.append(r)
        c, w = summary(cold), summary(warm)
        per_size[size] = {"cold": c, "warm": w, "models": ref, "label": label}
        outputs = sum(os.path.getsize(os.path.join(work, "out", f))
                      for f in os.listdir(os.path.join(work, "out")))
        rows.append([label, files, "%.0f" % mbytes, ref if ref is not None else "-", runs,
                     fmt_s(c["median"]), fmt_s(c["cpu"]), mib(c["parent"]), mib(c["tree"]),
                     fmt_s(w["median"]), fmt_s(w["cpu"]), mib(w["parent"]),
                     "%.0f" % (outputs / 1e6), "%.0f" % gen_s])
        if use_perf:
            shutil.rmtree(os.path.join(work, "cache"), ignore_errors=True)
            shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
            pdata = os.path.join(work, "perf-cold.data")
            pr = perf_record(argv, pdata, env, c["median"])
            if pr[0].status != 0:
                out("perf run failed: %s" % pr[0].stderr.strip()[-300:])
            else:
                per_size[size]["phases"] = phase_table(pdata, pr, "%s cold" % label)
                per_size[size]["perf"] = pdata
    out()
    table(["records", "sources", "input MB", "models", "runs", "cold median s", "cold CPU s",
           "cold parent peak MiB", "cold all processes MiB", "warm (cached) median s",
           "warm CPU s", "warm parent peak MiB", "outputs MB", "gen s"], rows)
    phased = [sz for sz in sizes if per_size[sz].get("phases")]
    if phased:
        out()
        out("Phases at each size (perf runs: wall s / parent peak MiB in the phase):")
        out()
        names = [p for p, _ in PHASES if any(p in per_size[sz]["phases"]["spans"]
                                             for sz in phased)]
        prow = []
        for ph in names:
            row = [ph]
            for sz in phased:
                ps = per_size[sz]["phases"]
                row.append("%s / %s" % (fmt_s(ps["spans"][ph]), mib(ps["peak"][ph]))
                           if ph in ps["spans"] else "-")
            prow.append(row)
        table(["phase"] + [per_size[sz]["label"] for sz in phased], prow)
    out()
    out("Growth factors (time and parent peak memory) between sizes:")
    out()
    grow = []
    for a, b in zip(sizes, sizes[1:]):
        pa, pb = per_size[a], per_size[b]
        grow.append(["%s -> %s" % (pa["label"], pb["label"]), "%.1fx" % (b / a),
                     "%.2fx" % (pb["cold"]["median"] / pa["cold"]["median"]),
                     "%.2fx" % (pb["cold"]["cpu"] / pa["cold"]["cpu"]),
                     "%.2fx" % (pb["warm"]["median"] / pa["warm"]["median"]),
                     "%.2fx" % (pb["warm"]["cpu"] / pa["warm"]["cpu"]),
                     "%.2fx" % (pb["cold"]["parent"] / max(1, pa["cold"]["parent"]))])
    table(["sizes", "records", "cold wall", "cold CPU", "warm wall", "warm CPU",
           "parent peak memory"], grow)
    out()
    load_note("at end")
    out("Targets: 1M records mapped, merged and written in <= 20 s with <= 1.5 GiB peak "
        "memory; time growth 100k -> 1M <= 11x.")
    if failed:
        out()
        out("CHECK FAILURES:")
        for f in failed:
            out("- " + f)
        return 1
    return 0


def fmt_count(n):
    if n % 1000000 == 0:
        return "%dM" % (n // 1000000)
    if n % 1000 == 0:
        return "%dk" % (n // 1000)
    return str(n)


# ------------------------------------------------------------------ profile


def source_index():
    """Function name -> repository files defining it, from engine/ and
    plugins/ (a name at column 0 followed by "(" on a line that does not
    end a declaration)."""
    index = collections.defaultdict(list)
    pat = re.compile(r"^(?:[A-Za-z_][\w \*]*?[\s\*])?([A-Za-z_]\w*)\s*\(")
    for top in ("engine", "plugins"):
        for root, _, files in os.walk(os.path.join(REPO, top)):
            for name in sorted(files):
                if not name.endswith(".c"):
                    continue
                path = os.path.join(root, name)
                rel = os.path.relpath(path, REPO)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for line in f:
                        if not line[:1].isalpha() or line.rstrip().endswith(";"):
                            continue
                        m = pat.match(line)
                        if m and m.group(1) not in ("if", "for", "while", "switch",
                                                    "return", "sizeof"):
                            if rel not in index[m.group(1)]:
                                index[m.group(1)].append(rel)
    return index


def own_file(sym, dso, index):
    """The repository file of an own function seen in dso, or None. A name
    defined in several files is narrowed by the object (a plugin's .so
    holds plugins/NAME/*.c, the program engine/*.c)."""
    files = index.get(sym)
    if not files:
        return None
    base = os.path.basename(dso or "")
    if base.endswith(".so"):
        narrowed = [f for f in files if f.startswith("plugins/%s/" % base[:-3])]
    else:
        narrowed = [f for f in files if f.startswith("engine/")]
    files = narrowed or files
    return files[0] if len(files) == 1 else "{%s}" % ",".join(files)


def where(sym, dso, index):
    f = own_file(sym, dso, index)
    if f:
        return "%s:%s" % (f, sym)
    base = os.path.basename(dso) if dso else "?"
    if base.startswith("[kernel"):
        base = "kernel"
    if sym == "[unknown]" or sym.startswith("0x") or not sym:
        return "%s:?" % base
    return "%s:%s" % (base, sym)


def hot_spots(samples, title, top, index):
    n = len(samples)
    leaf = collections.Counter()
    own = collections.Counter()
    incl = collections.Counter()
    for _, _, chain in samples:
        if not chain:
            continue
        leaf[where(chain[0][0], chain[0][1], index)] += 1
        mine = [where(s, d, index) for s, d in chain if own_file(s, d, index)]
        own[mine[0] if mine else where(chain[0][0], chain[0][1], index)] += 1
        for w in set(mine):
            incl[w] += 1
    out()
    out("### %s (%d samples)" % (title, n))
    out()
    rows = []
    lk, ok, ik = leaf.most_common(top), own.most_common(top), incl.most_common(top + 4)
    ik = [kv for kv in ik if not kv[0].endswith((":main", ":cli_main", ":cmd_run"))][:top]
    for i in range(top):
        row = []
        for lst in (lk, ok, ik):
            if i < len(lst):
                row += [lst[i][0], "%.1f%%" % (100.0 * lst[i][1] / n)]
            else:
                row += ["", ""]
        rows.append(row)
    table(["self (leaf function)", "share", "self + library callees, by own function", "share",
           "inclusive, own function", "share"], rows)


def cmd_profile(args):
    if not perf_ok():
        out()
        out("## Profiles: perf is not usable here (install linux-perf, or lower "
            "/proc/sys/kernel/perf_event_paranoid); see bench/README.md for callgrind")
        return 0
    env = program_env()
    index = source_index()
    realdata = os.path.abspath(args.realdata)
    work = os.path.join(args.work, "profile")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    ini = os.path.join(work, "modelfuse.ini")
    out()
    out("## Profiles (perf record -e cpu-clock --call-graph dwarf; all processes of the run)")
    jobs = []
    write_real_ini(ini, work, args.plugin_dir, realdata, jobs=args.jobs)
    argv = [args.program, "-c", ini, "run"]
    pdata = os.path.join(work, "perf-real-cold.data")
    pr = perf_record(argv, pdata, env, 1.0)
    jobs.append(("real snapshots, cold", pdata, pr))
    write_real_ini(ini, work, args.plugin_dir, realdata, ttl_hours=0, jobs=args.jobs)
    pdata = os.path.join(work, "perf-real-warm.data")
    pr = perf_record(argv, pdata, env, 0.5)
    jobs.append(("real snapshots, warm (ttl_hours=0: refetch, no normalize)", pdata, pr))
    if args.size:
        size = gen.parse_size(args.size)
        label = fmt_count(size)
        data = os.path.join(args.work, "gen", label)
        existing = os.path.join(args.work, "scale-" + label, "perf-cold.data")
        if os.path.exists(existing):
            jobs.append(("%s synthetic records, cold" % label, existing, None))
        else:
            if subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), str(size),
                               data]).returncode != 0:
                die("gen.py failed")
            sw = os.path.join(work, "scale-" + label)
            os.makedirs(sw, exist_ok=True)
            sini = os.path.join(sw, "modelfuse.ini")
            write_scale_ini(sini, sw, args.plugin_dir, data, jobs=args.jobs)
            pdata = os.path.join(sw, "perf-cold.data")
            pr = perf_record([args.program, "-c", sini, "run"], pdata, env,
                             size / 1e6 * 150)
            jobs.append(("%s synthetic records, cold" % label, pdata, pr))
    for title, pdata, pr in jobs:
        if pr is not None and pr[0].status != 0:
            out("perf run %s failed: %s" % (title, pr[0].stderr.strip()[-300:]))
            continue
        if pr is not None:
            phase_table(pdata, pr, title)
        hot_spots(perf_samples(pdata), title, args.top, index)
    return 0


# ------------------------------------------------------------------ main


def main():
    global RESULTS
    ap = argparse.ArgumentParser(description="modelfuse benchmarks (issue 10)")
    ap.add_argument("section", choices=["floor", "scale", "profile"])
    ap.add_argument("--program", required=True)
    ap.add_argument("--plugin-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--floor-bin")
    ap.add_argument("--realdata")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--runs-1m", type=int, default=1)
    ap.add_argument("--sizes", default="10k,100k,1M")
    ap.add_argument("--size", default="1M", help="profile: synthetic size (empty: none)")
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--no-perf", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    RESULTS = os.path.join(args.work, "results.md")
    args.program = os.path.abspath(args.program)
    args.plugin_dir = os.path.abspath(args.plugin_dir)
    if args.section == "floor":
        if not args.floor_bin or not args.realdata:
            die("floor needs --floor-bin and --realdata")
        return cmd_floor(args)
    if args.section == "scale":
        return cmd_scale(args)
    if not args.realdata:
        die("profile needs --realdata")
    return cmd_profile(args)


if __name__ == "__main__":
    sys.exit(main())
