"""Helpers of the directory-layer tests.

``fdb`` is the official binding (foundationdb 7.3.69, unchanged) loaded on
found's embedded engine: loading the engine first with RTLD_GLOBAL under its
SONAME ``libfdb_c.so`` makes the binding's own ``CDLL("libfdb_c.so")`` get
that library; found then shares the library and its network thread
(docs/driver.md, "Sharing a process with another binding"). The binding
needs CPython (``ctypes.pythonapi``): on PyPy ``fdb`` is None, and the
tests that compare with it are listed in docs/build.md's PyPy known failures.
"""

import ctypes
import importlib
import platform

import found
import found.engine


def _official_binding():
    ctypes.CDLL(found.engine.library_path(), mode=ctypes.RTLD_GLOBAL)
    official = importlib.import_module("fdb")
    official.api_version(730)
    for module in ("fdb.directory_impl", "fdb.tuple"):
        importlib.import_module(module)
    return official


fdb = _official_binding() if platform.python_implementation() == "CPython" else None


async def _dump(tx):
    return await found.all(found.query(tx, b"", b"\xff"))


async def dump(db):
    """Every (key, value) of the database, in key order (read through found)."""
    return await found.transactional(db, _dump)


def fdb_dump(db):
    """Every (key, value) of the database, in key order (read through fdb)."""
    return [(kv.key, kv.value) for kv in db.get_range(b"", b"\xff")]
