"""Each atomic operation's documented result, committed through the store
(missing keys, unequal lengths), and the versionstamp operations."""

import struct

import fdb
import pytest

from engine_model import (
    ADD,
    APPEND_IF_FITS,
    BIT_AND,
    BIT_OR,
    BIT_XOR,
    BYTE_MAX,
    BYTE_MIN,
    COMPARE_AND_CLEAR,
    MAX,
    MIN,
    VALUE_SIZE_LIMIT,
    apply_atomic,
)

CASES = [
    # op, existing (None: missing), param, documented result (None: cleared)
    (ADD, None, b"\x01\x02", b"\x01\x02"),
    (ADD, b"\xff", b"\x01\x00", b"\x00\x01"),  # carry into the extended byte
    (ADD, b"\x01\x00\x00\x07", b"\x02\x00", b"\x03\x00"),  # existing truncated to param
    (ADD, b"\xff\xff", b"\x01\x00", b"\x00\x00"),  # overflow wraps
    (BIT_AND, None, b"\x0f", b"\x0f"),
    (BIT_AND, b"\xff\xf0", b"\x0f", b"\x0f"),
    (BIT_AND, b"\x0f", b"\xff\xff", b"\x0f\x00"),
    (BIT_OR, None, b"\x01", b"\x01"),
    (BIT_OR, b"\x01", b"\x02\x04", b"\x03\x04"),
    (BIT_XOR, b"\x03\x03", b"\x01", b"\x02"),
    (BIT_XOR, None, b"\x05", b"\x05"),
    (APPEND_IF_FITS, None, b"ab", b"ab"),
    (APPEND_IF_FITS, b"ab", b"cd", b"abcd"),
    (APPEND_IF_FITS, b"x" * (VALUE_SIZE_LIMIT - 1), b"yz", b"x" * (VALUE_SIZE_LIMIT - 1)),
    (MAX, None, b"\x05", b"\x05"),
    (MAX, b"\x00\x01", b"\xff\x00", b"\x00\x01"),  # little-endian: 256 > 255
    (MAX, b"\x05", b"\x03\x00", b"\x05\x00"),  # extended to param length
    (MIN, None, b"\x05", b"\x05"),
    (MIN, b"\x00\x01", b"\xff\x00", b"\xff\x00"),
    (MIN, b"\x01\x00\x09", b"\x02\x00", b"\x01\x00"),  # truncated to param length
    (BYTE_MIN, None, b"b", b"b"),
    (BYTE_MIN, b"abc", b"abd", b"abc"),
    (BYTE_MIN, b"ab", b"abc", b"ab"),
    (BYTE_MAX, b"abc", b"abd", b"abd"),
    (BYTE_MAX, None, b"z", b"z"),
    (COMPARE_AND_CLEAR, b"same", b"same", None),
    (COMPARE_AND_CLEAR, b"other", b"same", b"other"),
    (COMPARE_AND_CLEAR, None, b"same", None),
]


@pytest.mark.parametrize("op,existing,param,expected", CASES)
def test_documented_result(db, op, existing, param, expected):
    assert apply_atomic(op, existing, param) == expected  # the model agrees with the docs
    if existing is not None:
        db[b"k"] = existing
    tr = db.create_transaction()
    tr._atomic_operation(op, b"k", param)
    tr.commit().wait()
    assert db[b"k"] == expected


def test_invalid_mutation_type_reported_at_commit(db):
    tr = db.create_transaction()
    tr._atomic_operation(99, b"k", b"x")
    with pytest.raises(fdb.FDBError) as e:
        tr.commit().wait()
    assert e.value.code == 2018


def test_atomics_do_not_read_conflict(db):
    db[b"counter"] = struct.pack("<q", 0)
    a = db.create_transaction()
    b = db.create_transaction()
    a.add(b"counter", struct.pack("<q", 1))
    b.add(b"counter", struct.pack("<q", 2))
    a.get_read_version().wait()
    b.get_read_version().wait()
    a.commit().wait()
    b.commit().wait()  # no conflict: blind writes
    assert struct.unpack("<q", db[b"counter"])[0] == 3


def test_versionstamped_key_and_value(db):
    tr = db.create_transaction()
    stamp_future = tr.get_versionstamp()
    key = b"pre" + b"\x00" * 10 + b"post"
    tr.set_versionstamped_key(key + struct.pack("<I", 3), b"value")
    tr.set_versionstamped_value(b"vkey", b"v:" + b"\x00" * 10 + struct.pack("<I", 2))
    tr.commit().wait()
    stamp = stamp_future.wait()
    assert len(stamp) == 10
    assert struct.unpack(">q", stamp[:8])[0] == tr.get_committed_version()
    assert db[b"pre" + stamp + b"post"] == b"value"
    assert db[b"vkey"] == b"v:" + stamp


def test_versionstamp_offset_out_of_bounds(db):
    tr = db.create_transaction()
    tr.set_versionstamped_key(b"short" + struct.pack("<I", 3), b"v")
    with pytest.raises(fdb.FDBError) as e:
        tr.commit().wait()
    assert e.value.code == 2000


def test_versionstamps_of_one_batch_are_distinct(db):
    stamps = []
    for _ in range(3):
        tr = db.create_transaction()
        f = tr.get_versionstamp()
        tr[b"x"] = b"1"
        tr.commit().wait()
        stamps.append(f.wait())
    assert len(set(stamps)) == 3
    assert stamps == sorted(stamps)


def test_versionstamp_of_read_only_commit(db):
    tr = db.create_transaction()
    f = tr.get_versionstamp()
    tr[b"a"].wait()
    tr.commit().wait()
    with pytest.raises(fdb.FDBError) as e:
        f.wait()
    assert e.value.code == 2021  # no_commit_version
    assert tr.get_committed_version() == -1
