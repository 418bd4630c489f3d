"""Fixtures for the driver's tests: each test gets its own engine directory.

Everything runs against the embedded engine.  Tests that need process-wide
settings (network options such as client buggify, another library choice,
fork) run a script in a fresh interpreter (driver_support.run_python).
"""
import pytest

import found


@pytest.fixture
def directory(tmp_path):
    """A fresh engine directory (does not exist yet: the engine creates it)."""
    return str(tmp_path / "db")


@pytest.fixture
async def db(directory):
    """found opened on a fresh engine directory."""
    return await found.open(directory)
