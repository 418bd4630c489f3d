"""CFFI build of ``found._fdb``: one compiled module for every FoundationDB C library.

The module is built in API mode against our own declarations
(ffi/include/fdb_c_api.h) but links to no library: at run time
``found_load_library(path)`` dlopen()s either the real libfdb_c 7.3 or the
embedded engine and fills a table of function pointers; each ``fdb_*`` name
seen from Python is a small static wrapper calling through that table.  The
same binary therefore serves a real cluster and the local engine.

Besides the C API the module carries the driver's own C, in ffi/driver/ (its
header driver.h is also this module's cdef): the library loader and helpers
for the hot paths (``found_get``, ``found_take_range`` …) that turn a ready
future into plain data in one call, so the common case crosses into C once.
"""

import copy
import glob
import os
import re

import cffi
from pycparser import c_ast, c_generator, c_parser

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "include", "fdb_c_api.h")
DRIVER = os.path.join(HERE, "driver")
DRIVER_HEADER = os.path.join(DRIVER, "driver.h")

# Only for parsing the header with pycparser; the compiler uses <stdint.h>.
_PARSE_PRELUDE = """
typedef signed char int8_t; typedef unsigned char uint8_t;
typedef int int32_t; typedef unsigned int uint32_t;
typedef long long int64_t; typedef unsigned long long uint64_t;
"""


def _header_text():
    with open(HEADER) as f:
        return f.read()


def _strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _without_cplusplus_guards(text):
    """Drop the ``#ifdef __cplusplus`` blocks (``extern "C" {`` is not C)."""
    return re.sub(r"#ifdef __cplusplus.*?#endif", "", text, flags=re.S)


def _split_packed(text):
    """Return (declarations, packed struct declarations) with '#' lines dropped.

    The structs between ``#pragma pack(push, 4)`` and ``#pragma pack(pop)`` go
    to a separate cdef whose layout CFFI takes from the compiler.
    """
    text = _without_cplusplus_guards(_strip_comments(text))
    match = re.search(r"#pragma pack\(push, 4\)(.*?)#pragma pack\(pop\)", text, flags=re.S)
    packed = match.group(1) if match else ""
    rest = text.replace(match.group(0), "") if match else text

    def plain(block):
        return "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("#"))

    return plain(rest), plain(packed)


def _functions(declarations, packed):
    """Every function prototype of the header, as pycparser Decl nodes."""
    ast = c_parser.CParser().parse(_PARSE_PRELUDE + packed + declarations)
    return [node for node in ast.ext if isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl)]


def _rename(decl_type, name):
    """Set the innermost declarator name of a type (through pointers and functions)."""
    node = decl_type
    while not isinstance(node, c_ast.TypeDecl):
        node = node.type
    node.declname = name


def _param_names(func):
    params = func.type.args.params if func.type.args else []
    names = []
    for p in params:
        if isinstance(p, c_ast.Typename):  # (void)
            continue
        names.append(p.name)
    return names


def _returns_void(func):
    ret = func.type.type
    return isinstance(ret, c_ast.TypeDecl) and getattr(ret.type, "names", None) == ["void"]


def _returns_future(func):
    ret = func.type.type
    return (
        isinstance(ret, c_ast.PtrDecl)
        and isinstance(ret.type, c_ast.TypeDecl)
        and getattr(ret.type.type, "names", None) == ["FDBFuture"]
    )


def _pointer_member(func):
    """``RET (*name)(PARAMS);`` for the function table."""
    gen = c_generator.CGenerator()
    funcdecl = copy.deepcopy(func.type)
    pointer = c_ast.PtrDecl(quals=[], type=funcdecl)
    _rename(pointer, func.name)
    decl = c_ast.Decl(func.name, [], [], [], [], pointer, None, None)
    return "    " + gen.visit(decl) + ";"


def _wrapper(func):
    """A function with the API name that calls through the table (hidden: driver.h says so)."""
    gen = c_generator.CGenerator()
    signature = gen.visit(func)  # "RET name(PARAMS)"
    call = "found_api.%s(%s)" % (func.name, ", ".join(_param_names(func)))
    if func.name == "fdb_future_destroy":
        body = "__atomic_fetch_sub(&found_futures_alive, 1, __ATOMIC_RELAXED); %s;" % call
    elif _returns_future(func):
        body = (
            "FDBFuture *f = %s; if (f) __atomic_fetch_add(&found_futures_alive, 1, __ATOMIC_RELAXED); return f;" % call
        )
    elif _returns_void(func):
        body = call + ";"
    else:
        body = "return %s;" % call
    return "%s { %s }" % (signature, body)


# The callback found/_network.py defines in Python (futures complete in C: driver/completions.c).
CALLBACKS_CDEF = """
extern "Python" void _found_network_done(void *);
"""


def _driver_cdef():
    """driver.h as CFFI reads it: comments and '#' lines dropped, integer #defines kept."""
    with open(DRIVER_HEADER) as f:
        text = _strip_comments(f.read())
    keep = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") and not re.match(r"#define\s+\w+\s+-?\d+$", stripped):
            continue
        keep.append(line)
    return "\n".join(keep)


def _table_c(functions):
    """The function table, its names, found_api_install() and the wrappers (see driver/api_table.h)."""
    lines = [
        "struct found_api {",
        *(_pointer_member(f) for f in functions),
        "};",
        "static struct found_api found_api;",
        "const int found_api_count = %d;" % len(functions),
        "const char *const found_api_names[] = {",
        *('    "%s",' % f.name for f in functions),
        "};",
        "void found_api_install(void *const *symbols)",
        "{",
        "    if (!symbols) {",
        "        memset(&found_api, 0, sizeof found_api);",
        "        return;",
        "    }",
        *(
            "    memcpy(&found_api.%s, &symbols[%d], sizeof symbols[%d]);" % (f.name, i, i)
            for i, f in enumerate(functions)
        ),
        "}",
    ]
    return "\n".join(lines + [_wrapper(f) for f in functions])


def _source(functions):
    return "\n".join(
        [
            "#include <string.h>",
            '#include "api_table.h"',
            '#include "driver.h"',
            _table_c(functions),
        ]
    )


def _driver_sources():
    """ffi/driver/*.c, relative to where the build runs (setuptools wants relative paths)."""
    return [os.path.relpath(path) for path in sorted(glob.glob(os.path.join(DRIVER, "*.c")))]


def make_builder():
    declarations, packed = _split_packed(_header_text())
    functions = _functions(declarations, packed)
    # The cdef must keep the type declarations before the packed structs' users.
    builder = cffi.FFI()
    first, _, rest = declarations.partition("typedef void (*FDBCallback)")
    builder.cdef(first)
    # API mode takes the packed layout from the compiler ("...;"), which sees
    # the header's #pragma pack(4): FDBKeyValue is 24 bytes as in libfdb_c.
    builder.cdef(re.sub(r"}\s*(\w+)\s*;", r"...; } \1;", packed))
    builder.cdef("typedef void (*FDBCallback)" + rest)
    builder.cdef(CALLBACKS_CDEF)
    builder.cdef(_driver_cdef())
    flags = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-D_GNU_SOURCE"]
    link = []
    if os.environ.get("FOUND_SANITIZE") == "1":
        sanitize = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
        flags += sanitize
        link += sanitize
    builder.set_source(
        "found._fdb",
        _source(functions),
        sources=_driver_sources(),
        include_dirs=[os.path.join(HERE, "include"), DRIVER],
        libraries=["dl"],
        extra_compile_args=flags,
        extra_link_args=link,
    )
    return builder


ffibuilder = make_builder()

if __name__ == "__main__":
    ffibuilder.compile(tmpdir=os.path.join(HERE, "..", "build", "cffi"), verbose=True)
