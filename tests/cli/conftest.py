"""Fixtures of the `found` command's tests: fresh engine directories (helpers: cli_support.py)."""

import os

import pytest

import found


@pytest.fixture
def directories(tmp_path):
    """Two fresh, empty engine directories (made here: the engine, like
    FoundationDB, answers 1515 for a path that does not exist)."""
    paths = str(tmp_path / "src"), str(tmp_path / "dst")
    for path in paths:
        os.makedirs(path)
    return paths


@pytest.fixture
async def src(directories):
    return await found.open(directories[0])


@pytest.fixture
async def dst(directories):
    return await found.open(directories[1])
