"""Helpers shared by the driver's tests (imported as a plain module: tests/ has no packages)."""

import os
import subprocess
import sys
import textwrap

import found
from found import _fdb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def futures_alive() -> int:
    """C futures created through found._fdb and not yet destroyed."""
    return _fdb.lib.found_futures_alive_count()


def run_python(script: str, *args: str, env=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh interpreter (repository on sys.path); fail with its output if it fails."""
    full_env = dict(os.environ)
    full_env.pop("FOUND_LIBRARY", None)
    full_env["PYTHONPATH"] = ROOT + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, "script failed (%d):\n%s\n%s" % (done.returncode, done.stdout, done.stderr)
    return done


async def put(db, *pairs):
    """Write (key, value) pairs in one transaction."""

    async def write(tx):
        for key, value in pairs:
            await found.set(tx, key, value)

    await found.transactional(db, write)


async def everything(db, begin=b"", end=b"\xff"):
    """All pairs in [begin, end)."""

    async def read(tx):
        return await found.all(found.query(tx, begin, end))

    return await found.transactional(db, read)
