"""Fixtures for the driver's tests: each test gets its own engine directory.

Everything runs against the embedded engine.  Tests that need process-wide
settings (network options such as client buggify, another library choice,
fork) run a script in a fresh interpreter (driver_support.run_python).

With FOUND_TEST_CLUSTER_FILE set (the flake's check against a throwaway
fdbserver, docs/build.md), the same tests run on that real cluster instead:
`directory` is the cluster file, the database is emptied before each test,
and tests marked ``engine_only`` (about choosing or inspecting the embedded
engine itself) are deselected, as they do not apply to a real cluster.
"""

import asyncio
import os

import pytest

import found

REAL_CLUSTER_FILE = os.environ.get("FOUND_TEST_CLUSTER_FILE")


def pytest_configure(config):
    config.addinivalue_line("markers", "engine_only: about the embedded engine itself; not run on a real cluster")


def pytest_collection_modifyitems(config, items):
    if not REAL_CLUSTER_FILE:
        return
    kept = [item for item in items if item.get_closest_marker("engine_only") is None]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


def _empty_real_cluster():
    async def clear():
        db = await found.open(REAL_CLUSTER_FILE)
        await found.transactional(db, found.clear, b"", b"\xff")

    asyncio.run(clear())


@pytest.fixture
def directory(tmp_path):
    """A fresh engine directory (does not exist yet: the engine creates it),
    or the emptied real cluster's file when FOUND_TEST_CLUSTER_FILE is set."""
    if REAL_CLUSTER_FILE:
        _empty_real_cluster()
        return REAL_CLUSTER_FILE
    return str(tmp_path / "db")


@pytest.fixture
async def db(directory):
    """found opened on a fresh engine directory (or the emptied real cluster)."""
    return await found.open(directory)
