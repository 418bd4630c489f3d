"""Smoke test of an installed found: open, set, get, query a range, pack.

    python -I .ci/smoke.py                      # the wheel's embedded engine
    python .ci/smoke.py --cluster-file FILE     # a real FoundationDB cluster

With no argument it opens a database in a fresh directory on the embedded
engine and checks that the engine loaded is the one inside the installed
package (run it with ``python -I`` from outside the source tree, so that only
the installed package can be imported). With --cluster-file it talks to a
real cluster through the system libfdb_c (FOUND_LIBRARY) instead. Keys live
under a fresh random prefix, so runs never see each other's data.
"""

import argparse
import asyncio
import os
import sys
import sysconfig
import tempfile
import uuid

import found
from found import _library


def _installed_here(path):
    purelib = os.path.realpath(sysconfig.get_paths()["platlib"])
    return os.path.realpath(path).startswith(purelib + os.sep)


async def _exercise(where):
    db = await found.open(where)
    prefix = b"found-smoke/" + uuid.uuid4().hex.encode() + b"/"

    async def write(tx):
        await found.set(tx, prefix + b"hello", b"world")
        await found.set(tx, prefix + b"azul", b"sky")
        await found.set(tx, prefix + found.pack(("user", 42)), found.pack((3.5, None, True)))

    async def read(tx, key):
        return await found.get(tx, key)

    async def scan(tx, begin, end):
        return await found.all(found.query(tx, begin, end))

    await found.transactional(db, write)
    assert await found.transactional(db, read, prefix + b"hello") == b"world"
    assert await found.transactional(db, read, prefix + b"missing") is None
    pairs = await found.transactional(db, scan, prefix + b"a", prefix + b"i")
    assert pairs == [(prefix + b"azul", b"sky"), (prefix + b"hello", b"world")], pairs
    value = await found.transactional(db, read, prefix + found.pack(("user", 42)))
    assert found.unpack(value) == (3.5, None, True), found.unpack(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster-file", help="a real FoundationDB cluster file")
    args = parser.parse_args(argv)
    if args.cluster_file:
        asyncio.run(_exercise(args.cluster_file))
        kind, path = _library.library()
        assert kind == "system", (kind, path)
    else:
        assert _installed_here(found.__file__), f"found imported from {found.__file__}"
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(_exercise(os.path.join(tmp, "db")))
        kind, path = _library.library()
        assert kind == "embedded", (kind, path)
        assert _installed_here(path), f"engine loaded from {path}"
    print(f"smoke: ok ({sys.implementation.name} {sys.version.split()[0]}, {kind} library {path})")


if __name__ == "__main__":
    main()
