"""The directory rule of fdb_create_database / _from_connection_string."""

import ctypes
import os

import fdb
import pytest

from engine_lib import CAPI


def create(path):
    """(error, database handle) of fdb_create_database(path); the error a
    database was created with (FoundationDB defers it to the first operation
    of its transactions) is its first transaction's."""
    handle = ctypes.c_void_p()
    err = CAPI.fdb_create_database(None if path is None else os.fsencode(path), ctypes.byref(handle))
    assert err == 0
    return _first_operation(fdb.impl.Database(handle.value))


def _first_operation(db):
    """(error of db's first operation, db)."""
    try:
        db.create_transaction().get_read_version().wait()
    except fdb.FDBError as e:
        return e.code, db
    return 0, db


def create_from(conn):
    handle = ctypes.c_void_p()
    err = CAPI.fdb_create_database_from_connection_string(conn.encode(), ctypes.byref(handle))
    assert err == 0
    return _first_operation(fdb.impl.Database(handle.value))


def _roundtrip(db, key=b"k", value=b"v"):
    db[key] = value
    return db[key]


def _data_files(directory):
    return os.path.exists(os.path.join(directory, "data.mdb"))


def test_existing_directory_is_the_data_directory(tmp_path):
    err, h = create(tmp_path)
    assert err == 0
    assert _roundtrip(h) == b"v"
    assert _data_files(tmp_path)


@pytest.mark.parametrize("name", ["a/b/store", "nope.cluster"])
def test_missing_path_is_no_cluster_file_found(tmp_path, name):
    """As FoundationDB 7.3: 1515, not a new empty database."""
    handle = ctypes.c_void_p()
    assert CAPI.fdb_create_database(os.fsencode(tmp_path / name), ctypes.byref(handle)) == 0
    assert os.path.basename(name).encode() in CAPI.found_engine_last_error_detail()
    assert CAPI.found_engine_database_error(handle) == 1515
    db = fdb.impl.Database(handle.value)
    tr = db.create_transaction()
    for op in (lambda: tr[b"k"].wait(), lambda: tr.commit().wait(), lambda: tr.get_read_version().wait()):
        with pytest.raises(fdb.FDBError) as e:
            op()
        assert e.value.code == 1515
    tr.reset()  # the database's error stays
    with pytest.raises(fdb.FDBError) as e:
        tr[b"k"].wait()
    assert e.value.code == 1515
    assert not (tmp_path / name).exists()


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
    (tmp_path / "store").mkdir()
    _, h1 = create(tmp_path / "store")
    _, h2 = create(link)
    h1[b"k"] = b"shared"
    assert h2[b"k"] == b"shared"


def test_fdb_cluster_file_environment_variable(tmp_path, monkeypatch):
    (tmp_path / "from_env").mkdir()
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
    blocker.write_text("embedded:x")  # a file where a directory is needed
    err, _ = create(blocker / "below")
    assert err != 0
    assert str(blocker).encode() in CAPI.found_engine_last_error_detail()


def test_not_an_engine_store(tmp_path):
    (tmp_path / "data.mdb").write_bytes(b"garbage" * 4096)
    handle = ctypes.c_void_p()
    err = CAPI.fdb_create_database(os.fsencode(tmp_path), ctypes.byref(handle))
    assert err != 0  # the engine's own files: at once
    assert b"data.mdb" in CAPI.found_engine_last_error_detail()


@pytest.mark.parametrize("content", ["test:abcdef@127.0.0.1:4500\n", "", "garbage", "desc:id@"])
def test_binding_open_defers_refusal_to_the_first_operation(tmp_path, content):
    """FoundationDB's client returns a database for a bad cluster file and
    reports 2104 on the first operation."""
    real = tmp_path / "fdb.cluster"
    real.write_text(content)
    db = fdb.open(cluster_file=str(real))
    with pytest.raises(fdb.FDBError) as e:
        db[b"k"]
    assert e.value.code == 2104
