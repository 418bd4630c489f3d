"""Every limit's error code, reported the way FoundationDB reports it."""

import ctypes
import struct

import fdb
import pytest

from engine_lib import CAPI, ENGINE


def _code(fn):
    with pytest.raises(fdb.FDBError) as e:
        fn()
    return e.value.code


def _commit(tr):
    return tr.commit().wait()


def test_key_too_large_at_commit(db):
    tr = db.create_transaction()
    tr[b"k" * 10001] = b"v"
    assert _code(lambda: _commit(tr)) == 2102


def test_value_too_large_at_commit(db):
    tr = db.create_transaction()
    tr[b"k"] = b"v" * 100001
    assert _code(lambda: _commit(tr)) == 2103


def test_largest_key_is_accepted(db):
    db[b"k" * 10000] = b"v"
    assert db[b"k" * 10000] == b"v"


def test_largest_value_is_accepted(db):
    db[b"k"] = b"v" * 100000
    assert len(db[b"k"]) == 100000


def test_write_errors_are_deferred_to_later_reads(db):
    tr = db.create_transaction()
    tr[b"k"] = b"v" * 100001
    assert _code(lambda: tr[b"other"].wait()) == 2103


def test_transaction_too_large(db):
    tr = db.create_transaction()
    for i in range(110):
        tr[b"k%d" % i] = b"v" * 95000
    assert _code(lambda: _commit(tr)) == 2101


def test_size_limit_option(db):
    tr = db.create_transaction()
    tr.options.set_size_limit(1000)
    tr[b"k"] = b"v" * 2000
    assert _code(lambda: _commit(tr)) == 2101
    with pytest.raises(fdb.FDBError) as e:
        tr.options.set_size_limit(10)  # below the minimum of 32
    assert e.value.code == 2006


def test_approximate_size_grows(db):
    tr = db.create_transaction()
    before = tr.get_approximate_size().wait()
    tr[b"key"] = b"x" * 1000
    assert tr.get_approximate_size().wait() >= before + 1000


def test_system_keys_need_an_option(db):
    tr = db.create_transaction()
    assert _code(lambda: tr[b"\xff/x"].wait()) == 2004
    tr = db.create_transaction()
    tr[b"\xff/x"] = b"1"
    assert _code(lambda: _commit(tr)) == 2004
    tr = db.create_transaction()
    tr.options.set_access_system_keys()
    tr[b"\xff/x"] = b"1"
    tr.commit().wait()
    tr = db.create_transaction()
    tr.options.set_read_system_keys()
    assert tr[b"\xff/x"].value == b"1"


def test_metadata_version_key_is_readable(db):
    tr = db.create_transaction()
    assert tr[b"\xff/metadataVersion"].value is None


def test_inverted_clear_range(db):
    tr = db.create_transaction()
    tr.clear_range(b"b", b"a")
    assert _code(lambda: _commit(tr)) == 2005


def test_inverted_conflict_range(db):
    tr = db.create_transaction()
    assert _code(lambda: tr.add_read_conflict_range(b"b", b"a")) == 2005


def test_used_during_commit():
    # Deterministically in flight: buggify seed 10 holds the first commit back
    # ~49 ms (see test_timeout_ends_a_commit_in_flight).
    out = _run_with_seed_10("""
        tr = db.create_transaction()
        tr[b"k"] = b"v"
        f = tr.commit()
        for op in (lambda: tr[b"k"].wait(), lambda: tr.commit().wait(), lambda: tr.get_versionstamp().wait()):
            try:
                op()
                print(0)
            except fdb.FDBError as e:
                print(e.code)
        f.wait()
        fdb.options.set_client_buggify_disable()
        print(db[b"k"].decode())
    """)
    assert out == ["2017", "2017", "2017", "v"]


def test_timeout_option(db):
    tr = db.create_transaction()
    tr.options.set_timeout(1)
    import time

    time.sleep(0.01)
    assert _code(lambda: tr[b"a"].wait()) == 1031
    assert _code(lambda: tr.on_error(fdb.FDBError(1020)).wait()) == 1031


def test_transaction_too_old_after_five_seconds(db):
    import time

    tr = db.create_transaction()
    tr[b"a"].wait()
    time.sleep(5.1)
    assert _code(lambda: tr[b"a"].wait()) == 1007
    tr[b"b"] = b"1"
    assert _code(lambda: tr.commit().wait()) == 1007
    # Five quiet seconds later a new transaction's read version is the last
    # commit's, over 5 s old: it lost no history, so it must commit.
    fresh = db.create_transaction()
    fresh[b"a"].wait()
    fresh[b"b"] = b"2"
    fresh.commit().wait()
    assert db[b"b"] == b"2"


def test_unretained_read_version_is_too_old(db):
    db[b"a"] = b"1"
    tr = db.create_transaction()
    tr.set_read_version(1)
    assert _code(lambda: tr[b"a"].wait()) == 1007


def test_invalid_option_code(db):
    tr = db.create_transaction()
    assert CAPI.fdb_transaction_set_option(ctypes.c_void_p(tr.tpointer), 12345, None, 0) == 2007
    assert CAPI.fdb_transaction_set_option(ctypes.c_void_p(tr.tpointer), 500, b"\x01", 1) == 2006
    assert CAPI.fdb_network_set_option(9999, None, 0) == 2007


def test_max_watches(db):
    db.options.set_max_watches(0)
    tr = db.create_transaction()
    w = tr.watch(b"k")
    tr.commit().wait()
    assert _code(lambda: w.wait()) == 1032
    db.options.set_max_watches(10000)


def test_counter_le64(db):
    for _ in range(3):
        db.add(b"c", struct.pack("<q", 1))
    assert struct.unpack("<q", db[b"c"])[0] == 3


def _run_with_seed_10(body):
    """Run `body` in a fresh process with `db` open and buggify on (seed 10,
    activated 50%, fired 100%: of the commit sections only commit_latency is
    active, so the first commit stays in flight ~49 ms); returns its output
    words, followed by the six fault counts."""
    import os
    import subprocess
    import sys
    import textwrap

    code = (
        textwrap.dedent(
            """
        import ctypes, tempfile
        lib = ctypes.CDLL(%r, mode=ctypes.RTLD_GLOBAL)
        import fdb
        fdb.api_version(730)
        db = fdb.open(cluster_file=tempfile.mkdtemp())
        fdb.options.set_client_buggify_section_activated_probability(50)
        fdb.options.set_client_buggify_section_fired_probability(100)
        fdb.options.set_client_buggify_enable()
    """
            % ENGINE
        )
        + textwrap.dedent(body)
        + textwrap.dedent("""
        counts = (ctypes.c_int64 * 6)()
        lib.found_engine_fault_counts(counts, 6)
        print(*counts)
    """)
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, FOUND_BUGGIFY_SEED="10"),
    )
    assert out.returncode == 0, out.stderr
    words = out.stdout.split()
    assert words[-6:] == ["0", "0", "0", "0", "0", "1"], words  # only the commit was delayed
    return words[:-6]


def test_timeout_ends_a_commit_in_flight():
    out = _run_with_seed_10("""
        tr = db.create_transaction()
        tr.options.set_timeout(10)
        tr[b"k"] = b"v"
        try:
            tr.commit().wait()
            print(0)
        except fdb.FDBError as e:
            print(e.code)
    """)
    assert out == ["1031"]


@pytest.mark.parametrize("version", [0, -5])
def test_set_read_version_not_positive_is_version_invalid(db, version):
    tr = db.create_transaction()
    tr.set_read_version(version)
    assert _code(lambda: tr[b"k"].wait()) == 2011
    assert _code(lambda: _commit(tr)) == 2011


def test_set_read_version_twice_is_read_version_already_set(db):
    version = db.create_transaction().get_read_version().wait()
    tr = db.create_transaction()
    tr.set_read_version(version)
    tr.set_read_version(version)
    assert _code(lambda: tr.get_read_version().wait()) == 2010


def test_set_read_version_after_a_read_is_read_version_already_set(db):
    tr = db.create_transaction()
    version = tr.get_read_version().wait()
    tr.set_read_version(version)
    assert _code(lambda: tr[b"k"].wait()) == 2010


def test_clear_of_an_over_long_key_is_ignored(db):
    db[b"k"] = b"v"
    tr = db.create_transaction()
    tr.options.set_access_system_keys()
    tr.clear(b"k" * 10001)
    tr.clear(b"\xff" + b"k" * 30000)  # a system key past its own limit
    tr[b"k2"] = b"v"
    tr.commit().wait()
    assert db[b"k"] == b"v" and db[b"k2"] == b"v"
