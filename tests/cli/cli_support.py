"""Helpers of the `found` command's tests (a plain module: tests/ has no packages)."""

import hashlib
import os
import subprocess
import sys

import found

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def environment(**extra) -> dict:
    """The environment of a child process: the repository importable, no library or cluster file override."""
    env = {k: v for k, v in os.environ.items() if k not in ("FOUND_LIBRARY", "FDB_CLUSTER_FILE")}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_found(*args: str, input: bytes = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m found ARGS`` in a fresh interpreter; stdout as bytes, stderr as text."""
    done = subprocess.run(
        [sys.executable, "-m", "found", *args], input=input, env=environment(), capture_output=True, timeout=timeout
    )
    done.stderr = done.stderr.decode("utf-8", "replace")
    return done


def ok(*args: str, input: bytes = None) -> subprocess.CompletedProcess:
    """run_found that must succeed."""
    done = run_found(*args, input=input)
    assert done.returncode == 0, "found %s failed (%d):\n%s" % (" ".join(args), done.returncode, done.stderr)
    return done


async def put(db, pairs, per_transaction: int = 5000, system: bool = False):
    """Write (key, value) pairs, several transactions of at most ``per_transaction`` pairs."""
    pairs = list(pairs)
    for start in range(0, len(pairs), per_transaction):

        async def write(tx, chunk=pairs[start : start + per_transaction]):
            if system:
                found.set_option(tx, found.FDB_TR_OPTION_ACCESS_SYSTEM_KEYS)
            for key, value in chunk:
                await found.set(tx, key, value)

        await found.transactional(db, write)


async def pairs_of(db, begin=b"", end=b"\xff", system: bool = False):
    """Every pair of [begin, end), read with range reads (in one transaction: for small ranges)."""

    async def read(tx):
        if system:
            found.set_option(tx, found.FDB_TR_OPTION_READ_SYSTEM_KEYS)
        return await found.all(found.query(tx, begin, end))

    return await found.transactional(db, read, snapshot=True)


class Digest:
    """(pairs, bytes, sha256) of rows fed in key order; keys and values length-prefixed, so equal digests
    mean byte-identical ranges.  Shared with the official binding's script of test_transfer."""

    def __init__(self):
        self.hash = hashlib.sha256()
        self.pairs = self.bytes = 0

    def add(self, rows) -> None:
        for key, value in rows:
            self.hash.update(b"%d:%d:" % (len(key), len(value)))
            self.hash.update(key)
            self.hash.update(value)
            self.bytes += len(key) + len(value)
            self.pairs += 1

    def result(self):
        return self.pairs, self.bytes, self.hash.hexdigest()


async def digest(db, begin=b"", end=b"\xff", chunk: int = 50_000):
    """Digest of [begin, end) read with range reads, ``chunk`` pairs per transaction."""
    total = Digest()
    cursor = begin
    while True:

        async def read(tx, cursor=cursor):
            return await found.all(found.query(tx, cursor, end, limit=chunk))

        batch = await found.transactional(db, read, snapshot=True)
        total.add(batch)
        if len(batch) < chunk:
            return total.result()
        cursor = batch[-1][0] + b"\x00"
