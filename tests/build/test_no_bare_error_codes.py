"""No FoundationDB error number is written out in found/: the generated names say which error.

found/_codes.py (generated from ffi/reference/) names every error code once, as
FDB_ERR_*; the rest of found/ uses those names. This scan finds integer literals that
are error codes where code compares or binds error codes: compared with ``.code``,
``code`` or ``err``, listed in a tuple/set of such, given to ``FoundException`` or
``on_error``, or bound to a module constant.
"""

import ast
import os

import pytest

from found import _codes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# 1000 (operation_failed) and the few codes below it are left out: they are also
# ordinary round numbers and versions (SCAN_LIMIT = 1000, FORMAT_VERSION = 1).
ERROR_CODES = {v for k, v in vars(_codes).items() if k.startswith("FDB_ERR_") and isinstance(v, int) and v > 1000}
CODE_NAMES = {"code", "err", "error", "error_code"}
ERROR_CALLS = {"FoundException", "on_error", "error_predicate"}


def _python_files():
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "found")):
        for name in files:
            if name.endswith(".py") and name != "_codes.py":
                yield os.path.join(folder, name)


def _is_code_name(node):
    if isinstance(node, ast.Attribute):
        return node.attr in CODE_NAMES
    return isinstance(node, ast.Name) and node.id in CODE_NAMES


def _error_literals(node):
    """Integer constants in node (a literal or a tuple/list/set of them) that are error codes."""
    items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return [
        item.value
        for item in items
        if isinstance(item, ast.Constant) and type(item.value) is int and item.value in ERROR_CODES and item.value != 0
    ]


def bare_error_codes(source):
    """(line, code) for every error number written out where an error code is meant."""
    found_codes = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_code_name(side) for side in sides):
                for side in sides:
                    found_codes += [(node.lineno, c) for c in _error_literals(side)]
        elif isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if callee in ERROR_CALLS:
                for arg in node.args:
                    found_codes += [(node.lineno, c) for c in _error_literals(arg)]
    for node in tree.body:
        if isinstance(node, ast.Assign) and all(isinstance(t, (ast.Name, ast.Tuple)) for t in node.targets):
            names = [
                n.id
                for t in node.targets
                for n in ([t] if isinstance(t, ast.Name) else t.elts)
                if isinstance(n, ast.Name)
            ]
            if all(name.isupper() or name.lstrip("_").isupper() for name in names):
                found_codes += [(node.lineno, c) for c in _error_literals(node.value)]
    return found_codes


@pytest.mark.parametrize(
    "source",
    [
        "if exc.code == 1020: pass",
        "if err in (1007, 1020): pass",
        "raise FoundException(2101)",
        "found.on_error(tx, 1007)",
        "_TOO_OLD = 1007",
        "_A, _B = 1025, 1031",
    ],
)
def test_the_scan_finds_bare_codes(source):
    assert bare_error_codes(source)


@pytest.mark.parametrize(
    "source",
    [
        "if exc.code == found.FDB_ERR_NOT_COMMITTED: pass",
        "size = 1024",
        "LIMIT = 10_000_000",
        "if n > 1000: pass",
    ],
)
def test_the_scan_leaves_names_and_other_numbers(source):
    assert not bare_error_codes(source)


def test_found_writes_no_error_number():
    offenders = []
    for path in _python_files():
        with open(path, encoding="utf-8") as f:
            for line, code in bare_error_codes(f.read()):
                offenders.append("%s:%d: %d" % (os.path.relpath(path, ROOT), line, code))
    assert not offenders, "use found's FDB_ERR_* names:\n" + "\n".join(offenders)
