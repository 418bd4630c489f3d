"""The official binding really runs on our engine, and the C API identity."""

import ctypes

import fdb
import fdb.impl

from engine_lib import CAPI, ENGINE


def test_binding_loaded_our_engine():
    ours = ctypes.cast(CAPI.fdb_get_client_version, ctypes.c_void_p).value
    theirs = ctypes.cast(fdb.impl._capi.fdb_get_client_version, ctypes.c_void_p).value
    assert ours == theirs
    assert ENGINE.endswith("libfdb_c.so")


def test_client_and_api_versions(capi):
    assert capi.fdb_get_client_version() == b"7.3.69-found-engine"
    assert capi.fdb_get_max_api_version() == 730


def test_select_api_version_rules(capi):
    # already selected at 730 by conftest: the same version again is fine
    assert capi.fdb_select_api_version_impl(730, 730) == 0
    assert capi.fdb_select_api_version_impl(720, 730) == 2201  # api_version_already_set
    assert capi.fdb_select_api_version_impl(730, 720) == 2202  # runtime > header: invalid
    assert capi.fdb_select_api_version_impl(731, 731) == 2203  # not supported
    assert capi.fdb_select_api_version_impl(12, 730) == 2203


def test_exports_are_exactly_fdb_reference_plus_extensions():
    import os
    import subprocess

    ref = os.path.join(os.path.dirname(__file__), "..", "..", "ffi", "reference", "fdb_c-7.3.69-exports.txt")
    wanted = set(open(ref).read().split())
    out = subprocess.run(["nm", "-D", "--defined-only", ENGINE], capture_output=True, text=True, check=True).stdout
    exported = {line.split()[-1] for line in out.splitlines() if line.split()[1] in "TtWiD"}
    assert wanted <= exported
    assert exported - wanted == {
        "found_engine_last_error_detail",
        "found_engine_fault_counts",
        "found_engine_database_error",
        "found_engine_get_into",
    }


def test_network_cannot_be_set_up_twice(capi, db):
    # the binding's fdb.open() (the db fixture) set it up already
    assert capi.fdb_setup_network() == 2009


def test_open_set_get_commit_range(db):
    db[b"k1"] = b"v1"
    db[b"k2"] = b"v2"
    assert db[b"k1"] == b"v1"
    assert db[b"missing"] is None
    assert [(kv.key, kv.value) for kv in db[b"k":b"l"]] == [(b"k1", b"v1"), (b"k2", b"v2")]


def test_two_handles_share_data(db, db2):
    db[b"shared"] = b"yes"
    assert db2[b"shared"] == b"yes"
