#!/usr/bin/env python3
"""Keep the documentation in step with the program (run by test-docs.sh).

    check-docs.py SRCDIR HELP_FILE PLUGINS_FILE VERSION

HELP_FILE holds `modelfuse --help`, PLUGINS_FILE `modelfuse plugins`, and
VERSION the version `modelfuse --version` prints. Prints one PASS or FAIL
line per check and a final "check-docs: N passed, N failed" line; exits 1
when a check failed.
"""
import os
import re
import shlex
import sys

results = {"passed": 0, "failed": 0}


def check(ok, what, detail=""):
    if ok:
        results["passed"] += 1
        print("PASS: " + what)
    else:
        results["failed"] += 1
        print("FAIL: " + what + (": " + detail if detail else ""))


def plain(text):
    """Roff text without font escapes, quotes and special-character escapes."""
    text = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", text)
    text = text.replace("\\-", "-").replace("\\(>=", ">=").replace("\\e", "\\")
    text = text.replace("\\(dq", '"').replace("\\&", "").replace("\\ ", " ")
    return text


def macro_args(line):
    """The arguments of a roff macro line, unquoted and made plain."""
    body = line.split(None, 1)[1] if " " in line.strip() else ""
    try:
        words = shlex.split(body.replace("\\", "\\\\"), posix=True)
    except ValueError:
        words = body.split()
    return [plain(w.replace("\\\\", "\\")) for w in words]


class ManPage:
    """A man page as sections (.SH), subsections (.SS) and .TP tags."""

    def __init__(self, path):
        self.path = path
        with open(path, encoding="utf-8") as f:
            self.lines = f.read().split("\n")
        self.th = next((l for l in self.lines if l.startswith(".TH ")), "")

    def tags(self, section=None, top_level_only=True):
        """(subsection, tag words) of every .TP entry, in order; tags inside
        .RS/.RE blocks are skipped when top_level_only."""
        out = []
        sh = ss = None
        depth = 0
        for i, line in enumerate(self.lines):
            if line.startswith(".SH"):
                sh = " ".join(macro_args(line))
                ss = None
                depth = 0
            elif line.startswith(".SS"):
                ss = " ".join(macro_args(line))
            elif line.startswith(".RS"):
                depth += 1
            elif line.startswith(".RE"):
                depth -= 1
            elif line.startswith(".TP") and i + 1 < len(self.lines):
                if section is not None and sh != section:
                    continue
                if top_level_only and depth > 0:
                    continue
                tag = self.lines[i + 1]
                words = macro_args(tag) if tag.startswith(".") else plain(tag).split()
                words = " ".join(words).split()
                out.append((ss, words))
        return out

    def subsections(self, section):
        sh = None
        out = []
        for line in self.lines:
            if line.startswith(".SH"):
                sh = " ".join(macro_args(line))
            elif line.startswith(".SS") and sh == section:
                out.append(" ".join(macro_args(line)))
        return out

    def entry_text(self, section, key):
        """The plain text of the .TP entry whose tag starts with key."""
        sh = None
        for i, line in enumerate(self.lines):
            if line.startswith(".SH"):
                sh = " ".join(macro_args(line))
            if sh == section and line.startswith(".TP") and i + 1 < len(self.lines):
                words = " ".join(macro_args(self.lines[i + 1])).split()
                if words and words[0] == key:
                    body = []
                    for l in self.lines[i + 2:]:
                        if l.startswith((".TP", ".SS", ".SH")):
                            break
                        body.append(" ".join(macro_args(l)) if l.startswith(".") else plain(l))
                    return " ".join(body)
        return ""


def help_parts(help_text):
    """Commands, options, environment variables and exit statuses of --help."""
    commands, options, env, statuses = [], set(), set(), set()
    block = None
    for line in help_text.split("\n"):
        if re.match(r"^[a-z][a-z ]*:", line):
            block = line.split(":")[0]
        elif not line.strip():
            block = None if block != "exit status" else block
        if block == "commands" and re.match(r"^  [a-z]", line):
            commands.append(line.split()[0])
        if block == "exit status" or line.startswith("exit status"):
            statuses.update(re.findall(r"(?:^|[:;]\s*)(\d)\s", line))
    for opt in re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", help_text):
        options.add(opt)
    env.update(re.findall(r"\$([A-Z][A-Z0-9_]+)", help_text))
    return commands, options, env, statuses


def readme_keys(readme):
    """(section, key) -> default cell of the README configuration table."""
    keys = {}
    in_table = False
    section = None
    for line in readme.split("\n"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| section | key |"):
            in_table = True
            continue
        if not in_table:
            continue
        if not line.startswith("|"):
            if keys:
                break
            continue
        if set(line.replace("|", "").strip()) <= set("-: "):
            continue
        if cells[0]:
            section = re.sub(r"[`\[\]]", "", cells[0]).split()[0]
        key = cells[1]
        if not key.startswith("`"):
            continue  # a note row such as *plugin options*
        keys[(section, key.strip("`"))] = cells[3] if len(cells) > 3 else ""
    return keys


def check_renders_and_th(pages, version):
    for page in pages:
        name = os.path.basename(page.path)
        stem, sec = name.rsplit(".", 1)
        th = macro_args(page.th)
        check(len(th) >= 2 and th[0].lower() == stem.lower() and th[1] == sec,
              "%s: .TH names %s(%s)" % (name, stem, sec), page.th)
        check(("modelfuse " + version) in page.th,
              "%s: .TH carries the version %s" % (name, version), page.th)
        check(any(l.startswith(".SH NAME") for l in page.lines), "%s: has a NAME section" % name)


def check_cli(page, help_text, engine_env):
    commands, options, env, statuses = help_parts(help_text)
    check(len(commands) >= 3, "--help lists commands", " ".join(commands))
    documented = [w[0] for _, w in page.tags("COMMANDS") if w]
    for c in commands:
        check(c in documented, "modelfuse(1) documents the command %s" % c)
    for c in documented:
        check(c in commands, "modelfuse(1) command %s exists in --help" % c)
    tag_words = set()
    for _, words in page.tags(top_level_only=False):
        for w in words:
            tag_words.update(x for x in re.split(r"[\s,|\[\]]+", w) if x)
    for opt in sorted(options):
        check(opt in tag_words, "modelfuse(1) documents the option %s" % opt)
    env_tags = {w[0] for _, w in page.tags("ENVIRONMENT") if w}
    for var in sorted(env | engine_env):
        check(var in env_tags, "modelfuse(1) documents the variable %s" % var)
    exit_tags = {w[0] for _, w in page.tags("EXIT STATUS") if w}
    check(statuses and statuses == exit_tags,
          "modelfuse(1) EXIT STATUS matches --help",
          "help %s, page %s" % (sorted(statuses), sorted(exit_tags)))


def check_ini(page, readme):
    keys = readme_keys(readme)
    check(len(keys) >= 10, "the README configuration table has keys", str(len(keys)))
    documented = {}
    for ss, words in page.tags("SECTIONS AND KEYS"):
        if not ss or not words:
            continue
        section = re.sub(r"[\[\]]", "", ss).split()[0]
        documented[(section, words[0])] = True
    for (section, key), default in sorted(keys.items()):
        ok = (section, key) in documented
        check(ok, "modelfuse.ini(5) documents [%s] %s" % (section, key))
        if not ok:
            continue
        # Every number of the README's default appears in the page's entry.
        text = page.entry_text("SECTIONS AND KEYS", key)
        text = text[text.find("Default"):] if "Default" in text else ""
        for num in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])", default):
            check(re.search(r"(?<![\w.])%s(?![\w]|\.\d)" % re.escape(num), text) is not None,
                  "modelfuse.ini(5) [%s] %s gives the README default %s" % (section, key, num),
                  text[:200])
    for section, key in sorted(documented):
        check((section, key) in keys,
              "modelfuse.ini(5) [%s] %s is in the README table" % (section, key))
    sections = {re.sub(r"[\[\]]", "", s).split()[0] for s in page.subsections("SECTIONS AND KEYS")}
    for section in sorted({s for s, _ in keys}):
        check(section in sections, "modelfuse.ini(5) has a [%s] subsection" % section)


def check_sources(page, plugins_text):
    names = re.findall(r"^([a-z0-9_-]+)\s+\S+\s+ABI\s", plugins_text, re.M)
    check(len(names) >= 1, "modelfuse plugins lists the built plugins", plugins_text[:200])
    documented = set(page.subsections("PLUGINS"))
    for n in names:
        check(n in documented, "modelfuse-sources(7) documents the plugin %s" % n)


def check_sdk(page, header):
    """Every host service, status and descriptor callback of the SDK header
    is explained in modelfuse-plugin(7)."""
    text = plain("\n".join(page.lines))
    host = re.search(r"struct mf_host \{(.*?)\n\};", header, re.S)
    services = re.findall(r"\(\*([a-z_]+)\)\(", host.group(1)) if host else []
    check(len(services) >= 10, "plugin.h declares host services", str(services))
    for s in services:
        check(re.search(r"\b%s\b" % s, text) is not None,
              "modelfuse-plugin(7) explains host->%s" % s)
    statuses = re.findall(r"^\s*(MF_[A-Z]+) = -?\d+,", header.split("enum mf_status", 1)[1]
                          .split("};", 1)[0], re.M)
    for s in statuses:
        check(s in text, "modelfuse-plugin(7) explains %s" % s)
    for cb in ("init", "fetch", "normalize", "fini"):
        check(re.search(r"^\.B %s\(" % cb, "\n".join(page.lines), re.M) is not None,
              "modelfuse-plugin(7) has a LIFECYCLE entry for %s" % cb)


def main(argv):
    srcdir, help_file, plugins_file, version = argv
    doc = os.path.join(srcdir, "doc")
    names = ["modelfuse.1", "modelfuse.ini.5", "modelfuse-plugin.7", "modelfuse-sources.7"]
    pages = {n: ManPage(os.path.join(doc, n)) for n in names}
    read = lambda p: open(p, encoding="utf-8").read()
    check_renders_and_th(pages.values(), version)
    # Every variable the core reads (getenv in engine/*.c) is documented.
    engine = os.path.join(srcdir, "engine")
    engine_env = set()
    for f in sorted(os.listdir(engine)):
        if f.endswith(".c"):
            engine_env.update(re.findall(r'getenv\("([A-Z_][A-Z0-9_]*)"\)', read(os.path.join(engine, f))))
    check(len(engine_env) >= 2, "the core reads environment variables", str(sorted(engine_env)))
    check_cli(pages["modelfuse.1"], read(help_file), engine_env)
    check_ini(pages["modelfuse.ini.5"], read(os.path.join(srcdir, "README.md")))
    check_sources(pages["modelfuse-sources.7"], read(plugins_file))
    check_sdk(pages["modelfuse-plugin.7"],
              read(os.path.join(srcdir, "include", "modelfuse", "plugin.h")))
    # Every page another page or the units refer to exists.
    refs = set()
    for p in pages.values():
        refs.update(re.findall(r"^\.BR (modelfuse[a-z.\\-]*) \((\d)\)", "\n".join(p.lines), re.M))
    for unit in ("modelfuse.service.in", "modelfuse.timer.in"):
        text = read(os.path.join(srcdir, "etc", "systemd", unit))
        refs.update(re.findall(r"man:(modelfuse[a-z.-]*)\((\d)\)", text))
    for name, sec in sorted(refs):
        name = name.replace("\\-", "-")
        check(os.path.exists(os.path.join(doc, "%s.%s" % (name, sec))),
              "the referenced page %s(%s) exists" % (name, sec))
    print("check-docs: %d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
