"""Helpers of the binding testers' tests: write an instruction stream into a
database as FoundationDB's bindingtester does, run a tester on it as a
subprocess, read back what it logged.  (A module name of its own: every test
area has a conftest.py.)"""

import subprocess
import sys
from typing import Any, List, Sequence, Tuple

import found

TESTERS = ("found.tester_aio", "found.tester_pthread")
TIMEOUT = 300  # seconds: a hung tester fails the test instead of hanging the suite


async def load(db, prefix: bytes, instructions: Sequence[tuple]) -> None:
    """Store ``instructions`` as the stack machine of ``prefix`` reads them."""

    async def write(tx):
        for number, instruction in enumerate(instructions):
            await found.set(tx, found.pack((prefix, number)), found.pack(instruction))

    await found.transactional(db, write)


def run(module: str, prefix: bytes, directory: str) -> subprocess.CompletedProcess:
    """Run tester ``module`` on ``prefix`` as the bindingtester calls it."""
    return subprocess.run(
        [sys.executable, "-m", module, prefix.decode("ascii"), "730", directory],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def run_ok(module: str, prefix: bytes, directory: str) -> None:
    """Run the tester and require a clean exit."""
    done = run(module, prefix, directory)
    assert done.returncode == 0, done.stderr[-3000:]


async def logged(db, prefix: bytes) -> List[Tuple[int, Any]]:
    """What LOG_STACK wrote under ``prefix``: (instruction number, value), the oldest item first."""

    async def read(tx):
        return await found.all(found.query(tx, prefix, found.next_prefix(prefix)))

    out = []
    for key, value in await found.transactional(db, read):
        index, number = found.unpack(key[len(prefix) :])
        assert index == len(out)
        (item,) = found.unpack(value)
        out.append((number, item))
    return out


def error(code: int) -> bytes:
    """The stack value of FoundationDB error ``code``."""
    return found.pack((b"ERROR", str(code).encode("ascii")))
