"""Smoke test of an installed found wheel on the embedded engine.

Run from outside the source tree with ``python -I`` so that only the
installed package can be imported: open a database in a fresh directory,
set, get, query a range, pack and unpack a tuple, and check that the engine
loaded is the one inside the wheel.
"""
import asyncio
import os
import sys
import sysconfig
import tempfile

import found
from found import _library


def _installed_here(path):
    purelib = os.path.realpath(sysconfig.get_paths()["platlib"])
    return os.path.realpath(path).startswith(purelib + os.sep)


async def _exercise(directory):
    db = await found.open(directory)

    async def write(tx):
        await found.set(tx, b"hello", b"world")
        await found.set(tx, b"azul", b"sky")
        await found.set(tx, found.pack(("user", 42)), found.pack((3.5, None, True)))

    async def read(tx, key):
        return await found.get(tx, key)

    async def scan(tx, begin, end):
        return await found.all(found.query(tx, begin, end))

    await found.transactional(db, write)
    assert await found.transactional(db, read, b"hello") == b"world"
    assert await found.transactional(db, read, b"missing") is None
    pairs = await found.transactional(db, scan, b"a", b"i")
    assert pairs == [(b"azul", b"sky"), (b"hello", b"world")], pairs
    value = await found.transactional(db, read, found.pack(("user", 42)))
    assert found.unpack(value) == (3.5, None, True), found.unpack(value)


def main():
    assert _installed_here(found.__file__), f"found imported from {found.__file__}"
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_exercise(os.path.join(tmp, "db")))
    kind, path = _library.library()
    assert kind == "embedded", (kind, path)
    assert _installed_here(path), f"engine loaded from {path}"
    print(f"smoke: ok ({sys.implementation.name} {sys.version.split()[0]}, engine {path})")


if __name__ == "__main__":
    main()
