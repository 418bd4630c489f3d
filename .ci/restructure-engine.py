#!/usr/bin/env python3
"""One-off tool (issue 16): lay ffi/engine/ out in layer folders and apply the C naming rule.

Re-runnable: on a tree where it already ran it changes nothing, and after a
merge that brought back flat files or new underscore names (a branch that
still edited the old layout) it moves and renames those too.

1. Files move into their layer (git mv): util/ (shared utilities), storage/
   (the storage core behind storage/store.h), client/ (the C API surface and
   transactions). A file not listed in LAYERS stops the script: say where it
   belongs first.
2. Every `#include "x.h"` of an engine header becomes `#include "<layer>/x.h"`
   (compiled with -I ffi/engine), in the engine, tests/storage/*.c and bench/*.c.
3. The naming rule: no identifier begins with an underscore.
   - A name defined `static` at file scope (and used only in files where it is
     static) loses its underscore: `_lock` → `lock`; if that would clash with
     a name the file (or any engine header) already uses or a name of the C
     library, it becomes `<module>_<name>` (or `<file stem>_<name>`) instead.
   - Any other `_name` (external linkage, struct members, macros) loses its
     underscore and, unless it already starts with a module prefix, gets the
     prefix of the file that defines it (RENAME_OVERRIDES pins a few).
   The rename map is printed (--dry-run prints it and changes nothing).

Usage: python3 .ci/restructure-engine.py [--dry-run] [--root DIR]
       python3 .ci/restructure-engine.py --merge-from BRANCH   (see merge_from)
Then: make -C ffi/engine && .venv/bin/pip install -e . && the tests (see docs/build.md).
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if "--root" in sys.argv:  # another checkout (e.g. an exported commit, for a rename-aware merge)
    ROOT = os.path.abspath(sys.argv[sys.argv.index("--root") + 1])
ENGINE = os.path.join(ROOT, "ffi", "engine")

LAYERS = {
    "util": """arena.c arena.h atomic.c atomic.h base.h buggify.c buggify.h timer.c timer.h
               gen_errors.h gen_limits.h gen_options.h""",
    "storage": """store.h store_internal.h store.c store_base.c store_commit.c store_keys.c store_read.c
                  store_sample.c store_verify.c conflicts.c versions.c watches.c""",
    "client": """api.c api_unsupported.c commit.c database.c database.h errors.c future.c future.h
                 location.c location.h network.c options.c options.h reads.c retry.c ryw.c ryw.h
                 selectors.c selectors.h transaction.c transaction.h tx_watch.c tx_watch.h view.c view.h
                 kv_out.h special_keys.c special_keys.h""",
}
LAYER_OF = {name: layer for layer, names in LAYERS.items() for name in names.split()}
# Files renamed on the way (old flat name → new name in its layer).
FILE_RENAMES = {"client.h": "base.h"}
# Left at ffi/engine/: the build.
TOP_LEVEL = {"Makefile", "exports.map"}
# Other C: the tuple codec (same rule), C that includes engine headers.
EXTRA_C = ["ffi/tuple", "ffi/driver", "ffi/pairs", "tests/storage", "bench"]
# Names whose new spelling is chosen by hand (old → new).
RENAME_OVERRIDES = {"_verify": "verify_at_open"}
IDENT = re.compile(r"\b_[a-z][A-Za-z0-9_]*\b|\b_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
# Reserved names of the language and the C library that the engine uses as they are.
SYSTEM_UNDERSCORE = {
    "_Thread_local",
    "_Alignas",
    "_Alignof",
    "_Atomic",
    "_Bool",
    "_Generic",
    "_Noreturn",
    "_Static_assert",
    "_Complex",
    "_GNU_SOURCE",
    "_exit",
    "_POSIX_C_SOURCE",
    "_DEFAULT_SOURCE",
    "_IONBF",
    "_IOLBF",
    "_IOFBF",
    "_SC_PAGESIZE",
    "_SC_NPROCESSORS_ONLN",
    "_SC_CLK_TCK",
    # Python module names the tuple codec spells in strings
    "_ctuple",
    "_tuple_py",
    "_tuple_types",
}


STANDARD_HEADERS = [
    "assert.h",
    "ctype.h",
    "errno.h",
    "fcntl.h",
    "float.h",
    "inttypes.h",
    "limits.h",
    "math.h",
    "pthread.h",
    "sched.h",
    "signal.h",
    "stdarg.h",
    "stdatomic.h",
    "stddef.h",
    "stdint.h",
    "stdio.h",
    "stdlib.h",
    "string.h",
    "strings.h",
    "sys/mman.h",
    "sys/stat.h",
    "sys/time.h",
    "sys/types.h",
    "sys/wait.h",
    "time.h",
    "unistd.h",
    "dlfcn.h",
    "dirent.h",
    "poll.h",
]


def git(*args, check=True):
    return subprocess.run(["git", *args], cwd=ROOT, check=check, capture_output=True, text=True).stdout


def move_files(dry):
    moved = {}
    for name in sorted(os.listdir(ENGINE)):
        path = os.path.join(ENGINE, name)
        if os.path.isdir(path) or name in TOP_LEVEL or not name.endswith((".c", ".h")):
            continue
        new_name = FILE_RENAMES.get(name, name)
        if new_name not in LAYER_OF:
            sys.exit("restructure: ffi/engine/%s has no layer: add it to LAYERS" % name)
        target = os.path.join(ENGINE, LAYER_OF[new_name], new_name)
        moved[name] = os.path.relpath(target, ENGINE)
        if dry:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.exists(target):  # both the old and the new file: a merge re-added the old one
            sys.exit("restructure: both ffi/engine/%s and %s exist: merge them by hand" % (name, target))
        tracked = git("ls-files", "--error-unmatch", path, check=False)
        if tracked:
            git("mv", path, target)
        else:
            os.rename(path, target)
    return moved


def c_files():
    files = []
    for top in [ENGINE] + [os.path.join(ROOT, d) for d in EXTRA_C]:
        for folder, _, names in os.walk(top):
            if os.sep + "build" in folder[len(top) :]:
                continue
            files += [os.path.join(folder, n) for n in names if n.endswith((".c", ".h"))]
    return sorted(files)


def header_paths():
    """Engine header name (old or new spelling) → path under ffi/engine/."""
    paths = {}
    for name, layer in LAYER_OF.items():
        if name.endswith(".h"):
            paths[name] = "%s/%s" % (layer, name)
    for old, new in FILE_RENAMES.items():
        paths[old] = paths[new]
    return paths


def rewrite_includes(files, dry):
    paths = header_paths()
    include = re.compile(r'^(\s*#\s*include\s+")(?:(?:util|storage|client)/)?([A-Za-z0-9_]+\.h)(")', re.M)
    changed = 0
    for path in files:
        text = open(path).read()
        new = include.sub(
            lambda m: (
                m.group(1) + paths.get(m.group(2), m.group(2)) + m.group(3) if m.group(2) in paths else m.group(0)
            ),
            text,
        )
        if new != text:
            changed += 1
            if not dry:
                open(path, "w").write(new)
    return changed


def system_identifiers(files):
    """Every identifier the C library headers the engine includes declare (and the keywords)."""
    headers = set()
    for path in files:
        headers.update(re.findall(r"^\s*#\s*include\s+<([^>]+)>", open(path).read(), re.M))
    headers.discard("Python.h")
    headers.update(STANDARD_HEADERS)  # names of the C library a file could include later
    words = set()
    for header in sorted(headers):  # one at a time: a header missing here (e.g. Python's) is skipped
        source = "#define _GNU_SOURCE\n#include <%s>\n" % header
        done = subprocess.run(
            ["cc", "-E", "-dD", "-std=c11", "-x", "c", "-"], input=source, capture_output=True, text=True
        )
        words.update(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", done.stdout))
    return words | {
        "auto",
        "break",
        "case",
        "char",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extern",
        "float",
        "for",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "register",
        "restrict",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "typedef",
        "union",
        "unsigned",
        "void",
        "volatile",
        "while",
    }


def statics_of(text):
    """Names defined `static` at file scope in ``text`` (functions and variables)."""
    names = set()
    for m in re.finditer(
        r"^(?:__attribute__\(\(\w+\)\)\s*)?static\b([^;{=]*?)\b(_[A-Za-z][A-Za-z0-9_]*)\s*[(\[=;,]", text, re.M
    ):
        names.add(m.group(2))
    for m in re.finditer(r"^static\b[^;{(]*\(\s*\*\s*(_[A-Za-z][A-Za-z0-9_]*)\)", text, re.M):
        names.add(m.group(1))
    return names


def code_only(text):
    """``text`` without comments and string or character literals (names there are no clash)."""
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', " ", text, flags=re.S)


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def module_prefix(path):
    name = stem(path)
    return {
        "store_commit": "store",
        "store_keys": "store",
        "store_read": "store",
        "store_sample": "store",
        "store_verify": "store",
        "store_internal": "store",
        "api_unsupported": "api",
        "tx_watch": "tx",
        "store_test": "test",
        "engine_bench": "bench",
    }.get(name, name)


def plan_renames(files):
    texts = {p: open(p).read() for p in files}
    words = {p: set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", code_only(t))) for p, t in texts.items()}
    uses = {}
    for p, t in texts.items():
        for name in set(IDENT.findall(code_only(t))) - SYSTEM_UNDERSCORE:  # names in code, not prose
            if name.startswith("__"):
                continue
            uses.setdefault(name, set()).add(p)
    if not uses:
        return {}
    system = system_identifiers(files)
    statics = {p: statics_of(t) for p, t in texts.items()}
    everything = set().union(*words.values())
    headers = set().union(*(w for p, w in words.items() if p.endswith(".h")))
    members = set(re.findall(r"(?:->|\.)\s*(_[A-Za-z][A-Za-z0-9_]*)\b", "\n".join(texts.values())))
    macros = set(re.findall(r"^\s*#\s*define\s+(_[A-Za-z][A-Za-z0-9_]*)", "\n".join(texts.values()), re.M))
    per_file = {p: {} for p in files}  # path → {old: new}
    taken = {p: set(words[p]) | headers for p in files}
    global_new = set()

    def free_static(name, p):
        return name not in system and name not in taken[p] and name not in global_new

    def free_global(name):
        return name not in system and name not in everything and name not in global_new

    for name in sorted(uses, key=lambda n: (not all(n in statics[p] for p in uses[n]), n)):
        paths = uses[name]
        bare = name.lstrip("_")
        if name in RENAME_OVERRIDES:
            new = RENAME_OVERRIDES[name]
        elif all(name in statics[p] for p in paths):  # file-local everywhere it appears
            for p in sorted(paths):
                candidates = [bare, "%s_%s" % (module_prefix(p), bare), "%s_%s" % (stem(p), bare)]
                new = next((c for c in candidates if free_static(c, p)), None)
                if new is None:
                    sys.exit("restructure: no free name for static %s in %s: add a RENAME_OVERRIDES entry" % (name, p))
                per_file[p][name] = new
                taken[p].add(new)
            continue
        elif name in members or name in macros:
            new = bare if free_global(bare) else "%s_%s" % (module_prefix(_definer(name, paths, texts)), bare)
        else:  # a function or variable with external linkage: its module's prefix
            prefix = module_prefix(_definer(name, paths, texts)) + "_"
            new = bare if bare.startswith(prefix) else prefix + bare
        if not free_global(new):
            sys.exit("restructure: %s → %s clashes with an existing name: add a RENAME_OVERRIDES entry" % (name, new))
        global_new.add(new)
        for p in paths:
            per_file[p][name] = new
            taken[p].add(new)
    return per_file


def _definer(name, paths, texts):
    """The file defining ``name``: a .c file with it at the start of a line, else a header, else any."""
    for p in sorted(paths, key=lambda p: (not p.endswith(".c"), p)):
        if re.search(r"^[A-Za-z][^;(]*\b%s\s*\(" % re.escape(name), texts[p], re.M):
            return p
    for p in sorted(paths):
        if p.endswith(".h"):
            return p
    return sorted(paths)[0]


def apply_renames(per_file, dry):
    report = {}
    for p, mapping in per_file.items():
        if not mapping:
            continue
        for old, new in mapping.items():
            report.setdefault((old, new), []).append(os.path.relpath(p, ROOT))
        if dry:
            continue
        pattern = re.compile(r"\b(%s)\b" % "|".join(map(re.escape, sorted(mapping, key=len, reverse=True))))
        text = open(p).read()
        open(p, "w").write(pattern.sub(lambda m: mapping[m.group(1)], text))
    for (old, new), paths in sorted(report.items()):
        where = paths[0] if len(paths) == 1 else "%d files" % len(paths)
        print("rename %-40s %-44s %s" % (old, new, where))
    return len(report)


def merge_from(rev):
    """Merge branch ``rev`` (still in the flat layout) into this restructured tree, rename-aware.

    Run after `git merge --no-commit rev` stopped on conflicts (or instead of
    it): the merge base and ``rev`` are exported to a scratch directory and
    restructured by this same script, then every C file of the engine (and
    of EXTRA_C) is merged three ways — ours (HEAD), base', theirs' — so the
    renames no longer collide; what still conflicts is a real conflict,
    left with markers. The flat files the merge left are removed.
    """
    import tempfile

    base = git("merge-base", "HEAD", rev).strip()
    scratch = tempfile.mkdtemp(prefix="restructure-")
    trees = {}
    for label, commit in (("base", base), ("theirs", rev)):
        tree = os.path.join(scratch, label)
        os.makedirs(tree)
        archive = subprocess.run(
            ["git", "archive", commit, "ffi", *EXTRA_C], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        subprocess.run([sys.executable, os.path.abspath(__file__), "--root", tree], check=True, capture_output=True)
        trees[label] = tree
    paths = set()
    for tree in trees.values():
        for top in ["ffi/engine"] + EXTRA_C:
            for folder, _, names in os.walk(os.path.join(tree, top)):
                paths.update(
                    os.path.relpath(os.path.join(folder, n), tree)
                    for n in names
                    if n.endswith((".c", ".h", ".map")) or n == "Makefile"
                )
    conflicts = []
    for rel in sorted(paths):
        base_file, theirs_file = (os.path.join(trees[k], rel) for k in ("base", "theirs"))
        ours = subprocess.run(["git", "show", "HEAD:" + rel], cwd=ROOT, capture_output=True).stdout
        if not os.path.exists(theirs_file):
            continue  # deleted or never there on their side: keep ours
        theirs = open(theirs_file, "rb").read()
        base_text = open(base_file, "rb").read() if os.path.exists(base_file) else b""
        if not ours and not base_text:  # new on their side
            merged, rc = theirs, 0
        else:
            with tempfile.NamedTemporaryFile(delete=False) as o, tempfile.NamedTemporaryFile(delete=False) as b:
                o.write(ours)
                b.write(base_text)
            done = subprocess.run(
                ["git", "merge-file", "-p", "-L", "ours", "-L", "base", "-L", rev, o.name, b.name, theirs_file],
                capture_output=True,
            )
            merged, rc = done.stdout, done.returncode
            os.unlink(o.name)
            os.unlink(b.name)
        target = os.path.join(ROOT, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "wb").write(merged)
        if rc:
            conflicts.append(rel)
        else:
            git("add", rel)
    for name in os.listdir(ENGINE):  # flat files the merge brought back
        if name.endswith((".c", ".h")):
            git("rm", "-q", "--cached", "--ignore-unmatch", os.path.join(ENGINE, name))
            os.remove(os.path.join(ENGINE, name))
    print("merged %d files from %s; conflicts left in: %s" % (len(paths), rev, ", ".join(conflicts) or "none"))


def main(argv):
    if "--merge-from" in argv:
        merge_from(argv[argv.index("--merge-from") + 1])
        return 0
    dry = "--dry-run" in argv
    moved = move_files(dry)
    for old, new in sorted(moved.items()):
        print("move ffi/engine/%s → ffi/engine/%s" % (old, new))
    files = c_files()
    if dry:  # renames are planned on the files where they are now
        files = sorted(set(files))
    print("includes rewritten in %d files" % rewrite_includes(files, dry))
    count = apply_renames(plan_renames(files), dry)
    print("%d names renamed" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
