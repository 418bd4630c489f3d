"""Tenants, blob granules and cluster administration: documented errors."""

import ctypes

import fdb
import pytest

from engine_lib import CAPI

vp = ctypes.c_void_p


def _future_error(f):
    CAPI.fdb_future_get_error.argtypes = [vp]
    err = CAPI.fdb_future_get_error(vp(f))
    CAPI.fdb_future_destroy.argtypes = [vp]
    CAPI.fdb_future_destroy(vp(f))
    return err


def test_open_tenant_is_disabled(db):
    with pytest.raises(fdb.FDBError) as e:
        db.open_tenant(b"t").create_transaction()
    assert e.value.code == 2136


@pytest.mark.parametrize(
    "name", ["fdb_database_blobbify_range", "fdb_database_unblobbify_range", "fdb_database_blobbify_range_blocking"]
)
def test_blob_range_functions(db, name):
    fn = getattr(CAPI, name)
    fn.restype = vp
    fn.argtypes = [vp, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    assert _future_error(fn(db.dpointer, b"a", 1, b"b", 1)) == 2108


def test_list_blobbified_ranges(db):
    fn = CAPI.fdb_database_list_blobbified_ranges
    fn.restype = vp
    fn.argtypes = [vp, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
    assert _future_error(fn(db.dpointer, b"a", 1, b"b", 1, 10)) == 2108


def test_transaction_blob_granule_ranges(db):
    tr = db.create_transaction()
    fn = CAPI.fdb_transaction_get_blob_granule_ranges
    fn.restype = vp
    fn.argtypes = [vp, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
    assert _future_error(fn(tr.tpointer, b"a", 1, b"b", 1, 10)) == 2108


def test_reboot_worker_and_snapshot(db):
    fn = CAPI.fdb_database_reboot_worker
    fn.restype = vp
    fn.argtypes = [vp, ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    assert _future_error(fn(db.dpointer, b"127.0.0.1:4500", 14, 0, 0)) == 2108


def test_mapped_range_is_unsupported(db):
    tr = db.create_transaction()
    fn = CAPI.fdb_transaction_get_mapped_range
    fn.restype = vp
    fn.argtypes = [
        vp,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
    ]
    f = fn(tr.tpointer, b"a", 1, 0, 1, b"b", 1, 0, 1, b"m", 1, 0, 0, -2, 0, 0, 0)
    assert _future_error(f) == 2108


def test_client_status_and_protocol(db):
    status = db.get_client_status().wait().value
    assert b"Healthy" in status
    fn = CAPI.fdb_database_get_server_protocol
    fn.restype = vp
    fn.argtypes = [vp, ctypes.c_uint64]
    f = fn(db.dpointer, 0)
    out = ctypes.c_uint64()
    CAPI.fdb_future_get_uint64.argtypes = [vp, ctypes.POINTER(ctypes.c_uint64)]
    assert CAPI.fdb_future_get_uint64(vp(f), ctypes.byref(out)) == 0
    assert out.value >> 32 == 0x0FDB00B0
    _future_error(f)


def test_legacy_cluster_objects(tmp_path):
    CAPI.fdb_create_cluster.restype = vp
    CAPI.fdb_create_cluster.argtypes = [ctypes.c_char_p]
    f = CAPI.fdb_create_cluster(str(tmp_path).encode())
    cluster = vp()
    CAPI.fdb_future_get_cluster.argtypes = [vp, ctypes.POINTER(vp)]
    assert CAPI.fdb_future_get_cluster(vp(f), ctypes.byref(cluster)) == 0
    _future_error(f)
    CAPI.fdb_cluster_create_database.restype = vp
    CAPI.fdb_cluster_create_database.argtypes = [vp, ctypes.c_char_p, ctypes.c_int]
    assert _future_error(CAPI.fdb_cluster_create_database(cluster, b"XX", 2)) == 2013
    f = CAPI.fdb_cluster_create_database(cluster, b"DB", 2)
    handle = vp()
    CAPI.fdb_future_get_database.argtypes = [vp, ctypes.POINTER(vp)]
    assert CAPI.fdb_future_get_database(vp(f), ctypes.byref(handle)) == 0
    _future_error(f)
    db = fdb.impl.Database(handle.value)
    db[b"legacy"] = b"ok"
    assert db[b"legacy"] == b"ok"
    CAPI.fdb_cluster_destroy.argtypes = [vp]
    CAPI.fdb_cluster_destroy(cluster)


def test_throttling_and_cost_figures(db):
    tr = db.create_transaction()
    tr[b"k"] = b"v" * 100
    fn = CAPI.fdb_transaction_get_tag_throttled_duration
    fn.restype = vp
    fn.argtypes = [vp]
    f = fn(tr.tpointer)
    out = ctypes.c_double(-1)
    CAPI.fdb_future_get_double.argtypes = [vp, ctypes.POINTER(ctypes.c_double)]
    assert CAPI.fdb_future_get_double(vp(f), ctypes.byref(out)) == 0 and out.value == 0.0
    _future_error(f)
    fn = CAPI.fdb_transaction_get_total_cost
    fn.restype = vp
    fn.argtypes = [vp]
    f = fn(tr.tpointer)
    cost = ctypes.c_int64()
    CAPI.fdb_future_get_int64.argtypes = [vp, ctypes.POINTER(ctypes.c_int64)]
    assert CAPI.fdb_future_get_int64(vp(f), ctypes.byref(cost)) == 0 and cost.value >= 100
    _future_error(f)
    CAPI.fdb_database_get_main_thread_busyness.restype = ctypes.c_double
    CAPI.fdb_database_get_main_thread_busyness.argtypes = [vp]
    assert CAPI.fdb_database_get_main_thread_busyness(db.dpointer) == 0.0
    assert CAPI.fdb_use_future_protocol_version() == 0
