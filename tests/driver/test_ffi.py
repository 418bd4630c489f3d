"""The CFFI module: its function table is exactly libfdb_c 7.3's exports, its layouts libfdb_c's."""

import os
import sys

from driver_support import ROOT
from found._fdb import ffi, lib


def _header_functions():
    sys.path.insert(0, os.path.join(ROOT, "ffi"))
    try:
        import build_ffi
    finally:
        sys.path.pop(0)
    declarations, packed = build_ffi._split_packed(build_ffi._header_text())
    return {f.name for f in build_ffi._functions(declarations, packed)}


def test_table_is_exactly_libfdb_c_7_3_exports():
    with open(os.path.join(ROOT, "ffi", "reference", "fdb_c-7.3.69-exports.txt")) as f:
        exports = set(f.read().split())
    assert _header_functions() == exports
    assert all(hasattr(lib, name) for name in exports)


def test_packed_layouts_match_libfdb_c():
    assert ffi.sizeof("FDBKeyValue") == 24 and ffi.offsetof("FDBKeyValue", "value") == 12
    assert ffi.sizeof("FDBKey") == 12
    assert ffi.sizeof("FDBKeyRange") == 24


def test_engine_extras_are_optional(db):
    assert lib.found_library_loaded()
    assert lib.found_optional_symbol(b"found_engine_last_error_detail") != ffi.NULL
    assert lib.found_optional_symbol(b"no_such_symbol_anywhere") == ffi.NULL
