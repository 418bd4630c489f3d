"""Fixtures for the stores of found.ext: a database on a fresh directory."""

import pytest

import found


@pytest.fixture
async def db(tmp_path):
    """found opened on an empty temporary directory."""
    return await found.open(str(tmp_path))
