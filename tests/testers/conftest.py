"""Fixtures of the binding testers' tests (helpers in tester_support.py).
No conformance kit needed: each test gets a fresh engine directory."""

import pytest

import found
from tester_support import TESTERS


@pytest.fixture(params=TESTERS)
def tester(request) -> str:
    """The module of each tester in turn."""
    return request.param


@pytest.fixture
def directory(tmp_path) -> str:
    """A fresh engine directory."""
    return str(tmp_path / "db")


@pytest.fixture
async def db(directory):
    """found on that directory (the tester opens the same one)."""
    return await found.open(directory)
