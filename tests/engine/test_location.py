"""The directory rule of fdb_create_database / _from_connection_string."""
import ctypes
import os

import fdb
import pytest

from engine_lib import CAPI


def create(path):
    """(error, database handle) of fdb_create_database(path)."""
    handle = ctypes.c_void_p()
    err = CAPI.fdb_create_database(None if path is None else os.fsencode(path), ctypes.byref(handle))
    return err, handle


def create_from(conn):
    handle = ctypes.c_void_p()
    err = CAPI.fdb_create_database_from_connection_string(conn.encode(), ctypes.byref(handle))
    return err, handle


def _roundtrip(handle, key=b"k", value=b"v"):
    db = fdb.impl.Database(handle.value)
    db[key] = value
    return db[key]


def _data_files(directory):
    return os.path.exists(os.path.join(directory, "data.mdb"))


def test_existing_directory_is_the_data_directory(tmp_path):
    err, h = create(tmp_path)
    assert err == 0
    assert _roundtrip(h) == b"v"
    assert _data_files(tmp_path)


def test_missing_path_is_created_as_directory(tmp_path):
    target = tmp_path / "a" / "b" / "store"
    err, h = create(target)
    assert err == 0 and target.is_dir()
    _roundtrip(h)


def test_missing_cluster_file_is_an_error(tmp_path):
    err, _ = create(tmp_path / "nope.cluster")
    assert err == 1515
    assert b"nope.cluster" in CAPI.found_engine_last_error_detail()


def test_embedded_file_points_relative_to_itself(tmp_path):
    (tmp_path / "sub").mkdir()
    link = tmp_path / "sub" / "my.cluster"
    link.write_text("embedded:../data\n")
    err, h = create(link)
    assert err == 0
    _roundtrip(h)
    assert _data_files(tmp_path / "data")


def test_embedded_file_with_absolute_path(tmp_path):
    link = tmp_path / "abs.cluster"
    link.write_text("embedded:%s" % (tmp_path / "elsewhere"))
    err, h = create(link)
    assert err == 0
    _roundtrip(h)
    assert _data_files(tmp_path / "elsewhere")


def test_real_cluster_file_is_refused(tmp_path):
    real = tmp_path / "fdb.cluster"
    real.write_text("test:abcdef@127.0.0.1:4500\n")
    err, _ = create(real)
    assert err == 2104
    detail = CAPI.found_engine_last_error_detail()
    assert str(real).encode() in detail and b"cluster" in detail


def test_connection_string(tmp_path):
    err, h = create_from("embedded:%s" % (tmp_path / "cs"))
    assert err == 0
    _roundtrip(h)
    assert _data_files(tmp_path / "cs")
    err, _ = create_from("test:abcdef@127.0.0.1:4500")
    assert err == 2104


def test_same_data_through_two_spellings(tmp_path):
    link = tmp_path / "x.cluster"
    link.write_text("embedded:store")
    _, h1 = create(tmp_path / "store")
    _, h2 = create(link)
    fdb.impl.Database(h1.value)[b"k"] = b"shared"
    assert fdb.impl.Database(h2.value)[b"k"] == b"shared"


def test_fdb_cluster_file_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("FDB_CLUSTER_FILE", str(tmp_path / "from_env"))
    err, h = create(None)
    assert err == 0
    _roundtrip(h)
    assert _data_files(tmp_path / "from_env")
    err, h = create("")
    assert err == 0


def test_default_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("FDB_CLUSTER_FILE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    err, h = create(None)
    assert err == 0
    _roundtrip(h)
    assert _data_files(tmp_path / "xdg" / "found" / "engine")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    err, h = create(None)
    assert err == 0
    _roundtrip(h)
    assert _data_files(tmp_path / "home" / ".local" / "share" / "found" / "engine")


def test_uncreatable_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("embedded:x")        # a file where a directory is needed
    err, _ = create(blocker / "below")
    assert err != 0
    assert str(blocker).encode() in CAPI.found_engine_last_error_detail()


def test_not_an_engine_store(tmp_path):
    (tmp_path / "data.mdb").write_bytes(b"garbage" * 4096)
    err, _ = create(tmp_path)
    assert err != 0
    assert b"data.mdb" in CAPI.found_engine_last_error_detail()


def test_binding_open_reports_refusal(tmp_path):
    real = tmp_path / "fdb.cluster"
    real.write_text("test:abcdef@127.0.0.1:4500\n")
    with pytest.raises(fdb.FDBError) as e:
        fdb.open(cluster_file=str(real))
    assert e.value.code == 2104
