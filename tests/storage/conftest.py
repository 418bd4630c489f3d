"""Fixtures for the storage-core tests: the freshly built engine."""

import os

import pytest

from storage_support import make


@pytest.fixture(scope="session")
def engine_lib():
    """Path of the freshly built engine library (libfdb_c.so)."""
    return os.path.join(make("all"), "libfdb_c.so")
