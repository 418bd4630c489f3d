"""The special key space (\\xff\\xff...) as a FoundationDB 7.3 cluster with
tenant mode off presents it: modules, errors, tenant map, conflict ranges,
status/json, connection string and cluster file path."""

import json
import os

import fdb
import pytest

from engine_lib import error_code

TENANT_MAP = b"\xff\xff/management/tenant/map/"
READ_RANGES = b"\xff\xff/transaction/read_conflict_range/"
WRITE_RANGES = b"\xff\xff/transaction/write_conflict_range/"


def _rows(tr, begin, end, **kw):
    return [(kv.key, kv.value) for kv in tr.get_range(begin, end, **kw)]


def test_tenant_map_clear_commits(db):
    """What the bindingtester does before every run."""
    tr = db.create_transaction()
    tr.options.set_special_key_space_enable_writes()
    del tr[TENANT_MAP:b"\xff\xff/management/tenant/map0"]
    tr.commit().wait()


def test_tenant_map_is_empty(db):
    tr = db.create_transaction()
    assert _rows(tr, TENANT_MAP, b"\xff\xff/management/tenant/map0") == []
    assert list(fdb.tenant_management.list_tenants(db, b"", b"\xff", 10)) == []
    assert not tr[TENANT_MAP + b"t"].present()


def test_creating_a_tenant_is_tenants_disabled(db):
    with pytest.raises(fdb.FDBError) as e:
        fdb.tenant_management.create_tenant(db, b"t")
    assert e.value.code == 2136
    tr = db.create_transaction()
    tr.options.set_special_key_space_enable_writes()
    tr[TENANT_MAP + b"t"] = b""
    assert error_code(lambda: tr.commit().wait()) == 2136


def test_deleting_a_missing_tenant_is_not_found(db):
    with pytest.raises(fdb.FDBError) as e:
        fdb.tenant_management.delete_tenant(db, b"t")
    assert e.value.code == 2131


def test_writes_need_the_option(db):
    tr = db.create_transaction()
    del tr[TENANT_MAP:b"\xff\xff/management/tenant/map0"]
    assert error_code(lambda: tr.commit().wait()) == 2114
    tr = db.create_transaction()
    tr[TENANT_MAP + b"t"] = b""
    assert error_code(lambda: tr[b"a"].wait()) == 2114  # reported by the next read too


@pytest.mark.parametrize(
    "begin, end, code",
    [
        (b"\xff\xff/status/json", b"\xff\xff/status/json\x00", 2115),  # read-only module
        (b"\xff\xff/nothing", b"\xff\xff/nothing0", 2115),  # no module
        (b"\xff\xff/management/tenant/map/", b"\xff\xff/management0", 2116),  # leaves the tenant range
        (b"\xff\xff/management/", b"\xff\xff/management/tenant/map/x", 2116),
    ],
)
def test_write_errors(db, begin, end, code):
    tr = db.create_transaction()
    tr.options.set_special_key_space_enable_writes()
    del tr[begin:end]
    assert error_code(lambda: tr.commit().wait()) == code


def test_set_outside_a_writable_module(db):
    tr = db.create_transaction()
    tr.options.set_special_key_space_enable_writes()
    tr[b"\xff\xff/status/json"] = b"x"
    assert error_code(lambda: tr.commit().wait()) == 2115


@pytest.mark.parametrize(
    "begin, end, code",
    [
        (b"\xff\xff/transaction/", b"\xff\xff/worker_interfaces/", 2112),  # crosses modules
        (b"\xff\xff/", b"\xff\xff/transaction/", 2112),
        (b"\xff\xff/nothing/", b"\xff\xff/nothing0", 2113),  # no module
        (b"\xff\xff", b"\xff\xff/", 2113),
    ],
)
def test_read_errors(db, begin, end, code):
    tr = db.create_transaction()
    assert error_code(lambda: tr.get_range(begin, end).to_list()) == code
    tr = db.create_transaction()
    tr.options.set_special_key_space_relaxed()
    tr.get_range(begin, end).to_list()  # relaxed: any range of the space


def test_get_outside_any_module(db):
    tr = db.create_transaction()
    assert error_code(lambda: tr[b"\xff\xff/nothing"].wait()) == 2113


def test_existing_modules_read_empty(db):
    tr = db.create_transaction()
    for module in (
        b"worker_interfaces/",
        b"metrics/",
        b"configuration/",
        b"global_config/",
        b"tracing/",
        b"actor_lineage/",
        b"actor_profiler_conf/",
    ):
        prefix = b"\xff\xff/" + module
        assert _rows(tr, prefix, prefix[:-1] + b"0") == []


def test_status_json(db):
    tr = db.create_transaction()
    status = json.loads(tr[b"\xff\xff/status/json"].wait())
    assert status["client"]["database_status"] == {"available": True, "healthy": True}
    assert status["cluster"]["database_available"] is True
    assert status["cluster"]["configuration"]["tenant_mode"] == "disabled"


def test_connection_string_and_cluster_file_path(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    cluster = tmp_path / "fdb.cluster"
    cluster.write_text("embedded:data\n")
    db = fdb.open(str(cluster))
    tr = db.create_transaction()
    assert tr[b"\xff\xff/connection_string"].wait() == b"embedded:" + os.fsencode(data)
    assert tr[b"\xff\xff/cluster_file_path"].wait() == os.fsencode(cluster)


def test_read_and_write_conflict_ranges(db):
    tr = db.create_transaction()
    tr.get_range(b"a", b"c").to_list()
    tr[b"b"].wait()  # inside [a, c): merged
    tr[b"x"].wait()
    tr[b"k"] = b"1"
    tr.add_write_conflict_range(b"k\x00", b"m")  # touches [k, k\0): merged
    assert _rows(tr, READ_RANGES, READ_RANGES[:-1] + b"0") == [
        (READ_RANGES + b"a", b"1"),
        (READ_RANGES + b"c", b"0"),
        (READ_RANGES + b"x", b"1"),
        (READ_RANGES + b"x\x00", b"0"),
    ]
    assert _rows(tr, WRITE_RANGES, WRITE_RANGES[:-1] + b"0") == [
        (WRITE_RANGES + b"k", b"1"),
        (WRITE_RANGES + b"m", b"0"),
    ]
    # selectors, limits and reverse work among the module's rows
    assert _rows(tr, READ_RANGES, READ_RANGES[:-1] + b"0", limit=1, reverse=True) == [(READ_RANGES + b"x\x00", b"0")]
    sel = fdb.KeySelector.first_greater_than(READ_RANGES + b"a")
    assert [k for k, _ in _rows(tr, sel, READ_RANGES + b"x")] == [READ_RANGES + b"c"]


def test_snapshot_reads_add_no_read_conflict_range(db):
    tr = db.create_transaction()
    tr.snapshot[b"a"].wait()
    assert _rows(tr, READ_RANGES, READ_RANGES[:-1] + b"0") == []


def test_special_keys_need_no_system_key_option(db):
    tr = db.create_transaction()
    assert tr[b"\xff\xff/status/json"].present()
    assert error_code(lambda: tr[b"\xff/x"].wait()) == 2004  # ordinary system keys still do


CONFLICTING = b"\xff\xff/transaction/conflicting_keys/"


def test_conflicting_keys_after_a_conflict(db):
    tr = db.create_transaction()
    tr.options.set_report_conflicting_keys()
    tr[b"a"].wait()
    tr.get_range(b"m", b"p").to_list()
    tr[b"z"].wait()
    tr[b"out"] = b"1"
    db[b"n"] = b"other"  # meets [m, p) only
    assert error_code(lambda: tr.commit().wait()) == 1020
    assert _rows(tr, CONFLICTING, CONFLICTING[:-1] + b"0") == [(CONFLICTING + b"m", b"1"), (CONFLICTING + b"p", b"0")]
    tr.on_error(fdb.FDBError(1020)).wait()  # the next attempt starts clean
    assert _rows(tr, CONFLICTING, CONFLICTING[:-1] + b"0") == []


def test_no_conflicting_keys_without_the_option(db):
    tr = db.create_transaction()
    tr[b"a"].wait()
    tr[b"out"] = b"1"
    db[b"a"] = b"other"
    assert error_code(lambda: tr.commit().wait()) == 1020
    assert _rows(tr, CONFLICTING, CONFLICTING[:-1] + b"0") == []
