"""Fixtures of the `found` command's tests: fresh engine directories (helpers: cli_support.py)."""
import pytest

import found


@pytest.fixture
def directories(tmp_path):
    """Two fresh engine directories (created by the engine on first open)."""
    return str(tmp_path / "src"), str(tmp_path / "dst")


@pytest.fixture
async def src(directories):
    return await found.open(directories[0])


@pytest.fixture
async def dst(directories):
    return await found.open(directories[1])
