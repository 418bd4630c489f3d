"""Fixtures of the engine tests: the official FoundationDB Python binding
running on found's embedded engine (loaded by engine_lib)."""

import ctypes

import pytest

from engine_lib import CAPI, fdb


@pytest.fixture
def capi():
    """The engine as a ctypes library (for calls the binding does not make)."""
    return CAPI


@pytest.fixture
def db(tmp_path):
    """A database in a fresh data directory, through the official binding."""
    (tmp_path / "data").mkdir()
    return fdb.open(cluster_file=str(tmp_path / "data"))


@pytest.fixture
def db2(tmp_path):
    """A second, independent handle on the same data as ``db``."""
    handle = ctypes.c_void_p()
    err = CAPI.fdb_create_database(str(tmp_path / "data").encode(), ctypes.byref(handle))
    assert err == 0
    return fdb.impl.Database(handle)
