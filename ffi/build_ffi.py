"""CFFI build of ``found._fdb``: one compiled module for every FoundationDB C library.

The module is built in API mode against our own declarations
(ffi/include/fdb_c_api.h) but links to no library: at run time
``found_load_library(path)`` dlopen()s either the real libfdb_c 7.3 or the
embedded engine and fills a table of function pointers; each ``fdb_*`` name
seen from Python is a small static wrapper calling through that table.  The
same binary therefore serves a real cluster and the local engine.

Besides the C API the module carries a few helpers for the driver's hot paths
(``found_get``, ``found_take_range`` …): they turn a ready future into plain
data in one call, so the common case crosses the C boundary once.
"""
import copy
import os
import re

import cffi
from pycparser import c_ast, c_generator, c_parser

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "include", "fdb_c_api.h")

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
    return (isinstance(ret, c_ast.PtrDecl) and isinstance(ret.type, c_ast.TypeDecl)
            and getattr(ret.type.type, "names", None) == ["FDBFuture"])


def _pointer_member(func):
    """``RET (*name)(PARAMS);`` for the function table."""
    gen = c_generator.CGenerator()
    funcdecl = copy.deepcopy(func.type)
    pointer = c_ast.PtrDecl(quals=[], type=funcdecl)
    _rename(pointer, func.name)
    decl = c_ast.Decl(func.name, [], [], [], [], pointer, None, None)
    return "    " + gen.visit(decl) + ";"


def _wrapper(func):
    """A static function with the API name that calls through the table."""
    gen = c_generator.CGenerator()
    signature = gen.visit(func)  # "RET name(PARAMS)"
    call = "found_api.%s(%s)" % (func.name, ", ".join(_param_names(func)))
    if func.name == "fdb_future_destroy":
        body = "__atomic_fetch_sub(&found_futures_alive, 1, __ATOMIC_RELAXED); %s;" % call
    elif _returns_future(func):
        body = ("FDBFuture *f = %s; if (f) __atomic_fetch_add(&found_futures_alive, 1, __ATOMIC_RELAXED); "
                "return f;" % call)
    elif _returns_void(func):
        body = call + ";"
    else:
        body = "return %s;" % call
    return "static %s { %s }" % (signature, body)


# The driver's helpers: their declarations (cdef) and their C code.
HELPERS_CDEF = """
extern "Python" void _found_future_ready(FDBFuture *, void *);
extern "Python" void _found_network_done(void *);

const char *found_load_library(const char *path);
void found_unload_library(void);
int found_library_loaded(void);
void *found_optional_symbol(const char *name);
long found_futures_alive_count(void);

typedef struct {
    int status;          /* FOUND_READY, FOUND_HELD, FOUND_PENDING or FOUND_FAILED */
    int error;
    FDBFuture *future;   /* set when HELD (caller destroys) or PENDING */
    const char *data;
    int length;          /* -1: no value */
} found_bytes;

typedef struct {
    int status;
    int error;
    FDBFuture *future;
    const char *blob;    /* keys and values back to back */
    const int *offsets;  /* 2 * count + 1 offsets into blob */
    int count;
    int more;
    void *block;         /* free with found_free() once copied */
} found_pairs;

typedef struct {
    int status;
    int error;
    FDBFuture *future;
    int64_t value;
} found_int;

#define FOUND_READY 0
#define FOUND_HELD 1
#define FOUND_PENDING 2
#define FOUND_FAILED 3

found_bytes found_get(FDBTransaction *tr, const char *key, int key_length, fdb_bool_t snapshot);
found_bytes found_take_value(FDBFuture *f);
found_bytes found_get_key(FDBTransaction *tr, const char *key, int key_length, fdb_bool_t or_equal,
                          int offset, fdb_bool_t snapshot);
found_bytes found_take_key(FDBFuture *f);
found_pairs found_get_range(FDBTransaction *tr,
                            const char *begin, int begin_length, fdb_bool_t begin_or_equal, int begin_offset,
                            const char *end, int end_length, fdb_bool_t end_or_equal, int end_offset,
                            int limit, int target_bytes, int mode, int iteration,
                            fdb_bool_t snapshot, fdb_bool_t reverse);
found_pairs found_take_range(FDBFuture *f);
found_int found_take_int64(FDBFuture *f);
found_int found_take_error(FDBFuture *f);
found_int found_commit(FDBTransaction *tr);
void found_free(void *block);

typedef struct {
    int error;
    FDBTransaction *transaction;
} found_new_transaction;
found_new_transaction found_create_transaction(FDBDatabase *db);
"""

HELPERS_C = r"""
#define FOUND_READY 0
#define FOUND_HELD 1
#define FOUND_PENDING 2
#define FOUND_FAILED 3
/* Small results are copied here so the future can be destroyed at once;
 * the caller copies them out before its next call on this thread. */
#define FOUND_SCRATCH 16384
static _Thread_local char found_scratch[FOUND_SCRATCH];

typedef struct { int status; int error; FDBFuture *future; const char *data; int length; } found_bytes;
typedef struct { int status; int error; FDBFuture *future; const char *blob; const int *offsets;
                 int count; int more; void *block; } found_pairs;
typedef struct { int status; int error; FDBFuture *future; int64_t value; } found_int;

static found_bytes found_bytes_of(FDBFuture *f, fdb_error_t err, int present,
                                  const uint8_t *data, int length)
{
    found_bytes out = {FOUND_READY, 0, NULL, NULL, -1};
    if (err) {
        fdb_future_destroy(f);
        out.status = FOUND_FAILED;
        out.error = err;
        return out;
    }
    if (!present) {
        fdb_future_destroy(f);
        return out;
    }
    out.length = length;
    if (length <= FOUND_SCRATCH) {
        if (length > 0) memcpy(found_scratch, data, (size_t)length);
        out.data = found_scratch;
        fdb_future_destroy(f);
    } else {
        out.status = FOUND_HELD;
        out.future = f;
        out.data = (const char *)data;
    }
    return out;
}

static found_bytes found_pending_bytes(FDBFuture *f)
{
    found_bytes out = {FOUND_PENDING, 0, f, NULL, -1};
    return out;
}

static found_bytes found_take_value(FDBFuture *f)
{
    fdb_bool_t present = 0;
    const uint8_t *data = NULL;
    int length = 0;
    fdb_error_t err = fdb_future_get_value(f, &present, &data, &length);
    return found_bytes_of(f, err, present, data, length);
}

static found_bytes found_get(FDBTransaction *tr, const char *key, int key_length, fdb_bool_t snapshot)
{
    FDBFuture *f = fdb_transaction_get(tr, (const uint8_t *)key, key_length, snapshot);
    if (!fdb_future_is_ready(f)) return found_pending_bytes(f);
    return found_take_value(f);
}

static found_bytes found_take_key(FDBFuture *f)
{
    const uint8_t *data = NULL;
    int length = 0;
    fdb_error_t err = fdb_future_get_key(f, &data, &length);
    return found_bytes_of(f, err, 1, data, length);
}

static found_bytes found_get_key(FDBTransaction *tr, const char *key, int key_length, fdb_bool_t or_equal,
                                 int offset, fdb_bool_t snapshot)
{
    FDBFuture *f = fdb_transaction_get_key(tr, (const uint8_t *)key, key_length, or_equal, offset, snapshot);
    if (!fdb_future_is_ready(f)) return found_pending_bytes(f);
    return found_take_key(f);
}

static found_pairs found_take_range(FDBFuture *f)
{
    found_pairs out = {FOUND_READY, 0, NULL, NULL, NULL, 0, 0, NULL};
    const FDBKeyValue *kv = NULL;
    int count = 0;
    fdb_bool_t more = 0;
    fdb_error_t err = fdb_future_get_keyvalue_array(f, &kv, &count, &more);
    if (err) {
        fdb_future_destroy(f);
        out.status = FOUND_FAILED;
        out.error = err;
        return out;
    }
    size_t total = 0;
    for (int i = 0; i < count; i++) total += (size_t)kv[i].key_length + (size_t)kv[i].value_length;
    size_t offsets_size = sizeof(int) * (2 * (size_t)count + 1);
    char *block = malloc(offsets_size + total + 1);
    if (!block) {
        fdb_future_destroy(f);
        out.status = FOUND_FAILED;
        out.error = 4100; /* internal_error */
        return out;
    }
    int *offsets = (int *)block;
    char *blob = block + offsets_size;
    int at = 0;
    for (int i = 0; i < count; i++) {
        offsets[2 * i] = at;
        if (kv[i].key_length) memcpy(blob + at, kv[i].key, (size_t)kv[i].key_length);
        at += kv[i].key_length;
        offsets[2 * i + 1] = at;
        if (kv[i].value_length) memcpy(blob + at, kv[i].value, (size_t)kv[i].value_length);
        at += kv[i].value_length;
    }
    offsets[2 * count] = at;
    fdb_future_destroy(f);
    out.blob = blob;
    out.offsets = offsets;
    out.count = count;
    out.more = more;
    out.block = block;
    return out;
}

static found_pairs found_get_range(FDBTransaction *tr,
                                   const char *begin, int begin_length, fdb_bool_t begin_or_equal, int begin_offset,
                                   const char *end, int end_length, fdb_bool_t end_or_equal, int end_offset,
                                   int limit, int target_bytes, int mode, int iteration,
                                   fdb_bool_t snapshot, fdb_bool_t reverse)
{
    FDBFuture *f = fdb_transaction_get_range(tr, (const uint8_t *)begin, begin_length, begin_or_equal, begin_offset,
                                             (const uint8_t *)end, end_length, end_or_equal, end_offset,
                                             limit, target_bytes, mode, iteration, snapshot, reverse);
    if (!fdb_future_is_ready(f)) {
        found_pairs out = {FOUND_PENDING, 0, f, NULL, NULL, 0, 0, NULL};
        return out;
    }
    return found_take_range(f);
}

static found_int found_take_int64(FDBFuture *f)
{
    found_int out = {FOUND_READY, 0, NULL, 0};
    int64_t value = 0;
    fdb_error_t err = fdb_future_get_int64(f, &value);
    fdb_future_destroy(f);
    if (err) {
        out.status = FOUND_FAILED;
        out.error = err;
    }
    out.value = value;
    return out;
}

static found_int found_take_error(FDBFuture *f)
{
    found_int out = {FOUND_READY, 0, NULL, 0};
    fdb_error_t err = fdb_future_get_error(f);
    fdb_future_destroy(f);
    if (err) {
        out.status = FOUND_FAILED;
        out.error = err;
    }
    return out;
}

static found_int found_commit(FDBTransaction *tr)
{
    FDBFuture *f = fdb_transaction_commit(tr);
    if (!fdb_future_is_ready(f)) {
        found_int out = {FOUND_PENDING, 0, f, 0};
        return out;
    }
    return found_take_error(f);
}

static void found_free(void *block)
{
    free(block);
}

typedef struct { int error; FDBTransaction *transaction; } found_new_transaction;

static found_new_transaction found_create_transaction(FDBDatabase *db)
{
    found_new_transaction out = {0, NULL};
    out.error = fdb_database_create_transaction(db, &out.transaction);
    return out;
}
"""


def _loader_c(functions):
    lines = [
        "static long found_futures_alive;",
        "static void *found_handle;",
        "static char found_message[1024];",
        "static long found_futures_alive_count(void) { return __atomic_load_n(&found_futures_alive, __ATOMIC_RELAXED); }",
        "static int found_library_loaded(void) { return found_handle != NULL; }",
        "/* Only before any API call: the library is then refused, not used. */",
        "static void found_unload_library(void)",
        "{",
        "    if (!found_handle) return;",
        "    dlclose(found_handle);",
        "    found_handle = NULL;",
        "    memset(&found_api, 0, sizeof found_api);",
        "}",
        "static void *found_optional_symbol(const char *name) { return found_handle ? dlsym(found_handle, name) : NULL; }",
        "",
        "/* Returns NULL on success, else a message naming what is wrong. */",
        "static const char *found_load_library(const char *path)",
        "{",
        "    if (found_handle) return \"a FoundationDB library is already loaded in this process\";",
        "    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);",
        "    if (!handle) {",
        "        snprintf(found_message, sizeof found_message, \"cannot load %s: %s\", path, dlerror());",
        "        return found_message;",
        "    }",
        "    struct found_api table;",
        "    void *symbol;",
    ]
    for func in functions:
        lines += [
            "    symbol = dlsym(handle, \"%s\");" % func.name,
            "    if (!symbol) goto missing_%s;" % func.name,
            "    memcpy(&table.%s, &symbol, sizeof symbol);" % func.name,
        ]
    lines += ["    found_api = table;", "    found_handle = handle;", "    return NULL;"]
    for func in functions:
        lines += [
            "missing_%s:" % func.name,
            "    snprintf(found_message, sizeof found_message, \"%%s does not export %s\", path);" % func.name,
            "    dlclose(handle);",
            "    return found_message;",
        ]
    lines.append("}")
    return "\n".join(lines)


def _source(functions):
    renames = "\n".join("#define %s found_prototype_%s" % (f.name, f.name) for f in functions)
    unrenames = "\n".join("#undef %s" % f.name for f in functions)
    table = "struct found_api {\n%s\n};\nstatic struct found_api found_api;" % "\n".join(
        _pointer_member(f) for f in functions)
    wrappers = "\n".join(_wrapper(f) for f in functions)
    return "\n".join([
        "#include <dlfcn.h>",
        "#include <stdint.h>",
        "#include <stdio.h>",
        "#include <stdlib.h>",
        "#include <string.h>",
        "/* The header declares the API under other names: our static wrappers take the real ones. */",
        renames,
        '#include "fdb_c_api.h"',
        unrenames,
        table,
        _loader_c(functions),
        wrappers,
        HELPERS_C,
    ])


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
    builder.cdef(HELPERS_CDEF)
    flags = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-D_GNU_SOURCE"]
    link = []
    if os.environ.get("FOUND_SANITIZE") == "1":
        sanitize = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
        flags += sanitize
        link += sanitize
    builder.set_source(
        "found._fdb",
        _source(functions),
        include_dirs=[os.path.join(HERE, "include")],
        libraries=["dl"],
        extra_compile_args=flags,
        extra_link_args=link,
    )
    return builder


ffibuilder = make_builder()

if __name__ == "__main__":
    ffibuilder.compile(tmpdir=os.path.join(HERE, "..", "build", "cffi"), verbose=True)
