"""ffi/engine/ keeps its layers (docs/architecture.md): util/ ← storage/ ← client/.

Read from the sources: every engine include names its folder; no file
includes a header of a higher layer; the client sees the storage core only
through storage/store.h, which names no LMDB type; headers include no cycle;
no C identifier begins with an underscore (the naming rule)."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE = os.path.join(ROOT, "ffi", "engine")
LAYERS = ["util", "storage", "client"]  # each may include its own and lower layers
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources():
    for layer in os.listdir(ENGINE):
        folder = os.path.join(ENGINE, layer)
        if os.path.isdir(folder) and layer != "build":
            for name in sorted(os.listdir(folder)):
                if name.endswith((".c", ".h")):
                    yield layer, name, open(os.path.join(folder, name)).read()


def code_only(text):
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', " ", text, flags=re.S)


def test_every_file_is_in_a_layer():
    top = [n for n in os.listdir(ENGINE) if n.endswith((".c", ".h"))]
    assert top == [], "C files at ffi/engine/ outside a layer folder: %s" % top
    assert {layer for layer, _, _ in sources()} == set(LAYERS)


def test_includes_point_down_only():
    upward = []
    for layer, name, text in sources():
        for target in INCLUDE.findall(text):
            if target == "fdb_c_api.h":  # the C API contract, ffi/include
                continue
            folder, _, header = target.partition("/")
            assert folder in LAYERS and os.path.exists(os.path.join(ENGINE, target)), (layer, name, target)
            if LAYERS.index(folder) > LAYERS.index(layer):
                upward.append("%s/%s → %s" % (layer, name, target))
            if layer != "storage" and folder == "storage" and header != "store.h":
                upward.append("%s/%s → %s (the storage core's seam is store.h)" % (layer, name, target))
    assert upward == []


def test_no_lmdb_outside_the_storage_core():
    seen = []
    for layer, name, text in sources():
        code = code_only(text)
        if (layer != "storage" or name == "store.h") and re.search(r"\bMDB_\w+|lmdb\.h", code):
            seen.append("%s/%s" % (layer, name))
    assert seen == []


def test_headers_include_no_cycle():
    graph = {
        "%s/%s" % (layer, name): [t for t in INCLUDE.findall(text) if "/" in t]
        for layer, name, text in sources()
        if name.endswith(".h")
    }

    def visit(node, path):
        assert node not in path, "include cycle: " + " → ".join(path + [node])
        for nxt in graph.get(node, []):
            visit(nxt, path + [node])

    for node in graph:
        visit(node, [])


def test_no_identifier_begins_with_an_underscore():
    allowed = {"_Thread_local", "_Alignas", "_Atomic", "_Static_assert", "_exit", "_GNU_SOURCE"}
    found = set()
    for layer, name, text in sources():
        for ident in re.findall(r"\b_[A-Za-z]\w*", code_only(text)):
            if ident not in allowed:
                found.add("%s/%s: %s" % (layer, name, ident))
    assert sorted(found) == []


def test_no_cycle_between_files_through_calls():
    """A file calling a function another file defines is an arrow; the arrows make no cycle
    (the storage core's leaf helpers live in store_base.c, watches read values through a callback)."""
    texts = {"%s/%s" % (layer, name): code_only(text) for layer, name, text in sources() if name.endswith(".c")}
    defined = {}
    for path, text in texts.items():
        for name in re.findall(
            r"^(?!static)(?:FDB_EXPORT\s+)?[A-Za-z_][\w\s*]*?\b([a-z]\w*)\s*\([^;{]*\)\s*\{", text, re.M
        ):
            defined.setdefault(name, path)
    arrows = {
        path: {defined[n] for n in set(re.findall(r"\b([a-z]\w*)\s*\(", text)) if defined.get(n, path) != path}
        for path, text in texts.items()
    }
    done = set()

    def visit(node, path):
        assert node not in path, "cycle: " + " → ".join(path[path.index(node) :] + [node])
        if node in done:
            return
        for nxt in sorted(arrows[node]):
            visit(nxt, path + [node])
        done.add(node)

    for node in sorted(arrows):
        visit(node, [])
