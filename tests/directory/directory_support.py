"""Helpers of the directory-layer tests.

``fdb`` is the official binding (foundationdb 7.3.69, unchanged) loaded on
found's embedded engine: loading the engine first with RTLD_GLOBAL under its
SONAME ``libfdb_c.so`` makes the binding's own ``CDLL("libfdb_c.so")`` get
that library; found then shares the library and its network thread
(docs/driver.md, "Sharing a process with another binding").
"""
import ctypes

import found
import found.engine

ctypes.CDLL(found.engine.library_path(), mode=ctypes.RTLD_GLOBAL)

import fdb  # noqa: E402  (after the engine is loaded)

fdb.api_version(730)
import fdb.directory_impl  # noqa: E402
import fdb.tuple  # noqa: E402


async def _dump(tx):
    return await found.all(found.query(tx, b"", b"\xff"))


async def dump(db):
    """Every (key, value) of the database, in key order (read through found)."""
    return await found.transactional(db, _dump)


def fdb_dump(db):
    """Every (key, value) of the database, in key order (read through fdb)."""
    return [(kv.key, kv.value) for kv in db.get_range(b"", b"\xff")]
