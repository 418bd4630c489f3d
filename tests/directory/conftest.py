"""Fixtures of the directory-layer tests: one engine data directory seen by
found and by the official binding (``fdb``, foundationdb 7.3.69), both in
this process on the same engine library (see directory_support)."""

import pytest

import found
from directory_support import fdb


@pytest.fixture
def data(tmp_path):
    """The engine data directory of the test."""
    return str(tmp_path / "data")


@pytest.fixture
async def db(data):
    """found on the test's data directory."""
    return await found.open(data)


@pytest.fixture
def fdb_db(data, db):
    """The official binding on the same data directory (after found opened it);
    None on PyPy, where the binding cannot load."""
    return fdb.open(cluster_file=data) if fdb is not None else None
