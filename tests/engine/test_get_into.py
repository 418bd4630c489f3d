"""found_engine_get_into: fdb_transaction_get without a future when the value fits.

It must be the same read as fdb_transaction_get (read-your-writes, the
conflict range of a non-snapshot read, errors); only how the answer comes
back differs. Values longer than the buffer and the \\xff\\xff space still
come back as the future fdb_transaction_get would return.
"""

import ctypes
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_lib import CAPI, error_code


def _function(name, restype, argtypes):
    """A prototype of its own (CAPI[name] is a fresh object: the shared CAPI.<name> stays as other tests set it)."""
    f = CAPI[name]
    f.restype, f.argtypes = restype, argtypes
    return f


_int_p = ctypes.POINTER(ctypes.c_int)
_get_into = _function(
    "found_engine_get_into",
    ctypes.c_void_p,
    [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, _int_p, _int_p],
)
_get = _function("fdb_transaction_get", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int])
_get_value = _function(
    "fdb_future_get_value",
    ctypes.c_int,
    [ctypes.c_void_p, _int_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)), _int_p],
)
_block = _function("fdb_future_block_until_ready", ctypes.c_int, [ctypes.c_void_p])
_destroy = _function("fdb_future_destroy", None, [ctypes.c_void_p])

# what a read answers: ("value", bytes), ("absent",), ("error", code)


def _future_answer(f):
    assert f
    try:
        assert _block(f) == 0
        present, data, length = ctypes.c_int(), ctypes.POINTER(ctypes.c_uint8)(), ctypes.c_int()
        err = _get_value(f, ctypes.byref(present), ctypes.byref(data), ctypes.byref(length))
        if err:
            return ("error", err)
        if not present.value:
            return ("absent",)
        return ("value", ctypes.string_at(data, length.value))
    finally:
        _destroy(f)


def get_into(tr, key, snapshot=False, cap=1024):
    """(answer, whether a future came back) of found_engine_get_into."""
    buf = ctypes.create_string_buffer(max(cap, 1))
    length, err = ctypes.c_int(-7), ctypes.c_int(-7)
    f = _get_into(tr.tpointer, key, len(key), int(snapshot), buf, cap, ctypes.byref(length), ctypes.byref(err))
    if f:
        return _future_answer(f), True
    if err.value:
        return ("error", err.value), False
    if length.value < 0:
        return ("absent",), False
    return ("value", buf.raw[: length.value]), False


def get_future(tr, key, snapshot=False):
    return _future_answer(_get(tr.tpointer, key, len(key), int(snapshot)))


def test_stored_value_absent_key_and_own_writes(db):
    db[b"a"] = b"stored"
    tr = db.create_transaction()
    assert get_into(tr, b"a") == (("value", b"stored"), False)
    assert get_into(tr, b"b") == (("absent",), False)
    tr[b"b"] = b""
    assert get_into(tr, b"b") == (("value", b""), False)
    del tr[b"a"]
    assert get_into(tr, b"a") == (("absent",), False)
    tr.add(b"n", struct.pack("<q", 5))
    assert get_into(tr, b"n") == (("value", struct.pack("<q", 5)), False)


def test_a_value_longer_than_the_buffer_comes_back_as_a_future(db):
    db[b"big"] = b"v" * 5000
    tr = db.create_transaction()
    assert get_into(tr, b"big", cap=4999) == (("value", b"v" * 5000), True)
    assert get_into(tr, b"big", cap=5000) == (("value", b"v" * 5000), False)


def test_special_keys_come_back_as_a_future(db):
    tr = db.create_transaction()
    answer, future = get_into(tr, b"\xff\xff/status/json")
    assert future and answer == get_future(tr, b"\xff\xff/status/json")


def test_errors_come_back_without_a_future(db):
    tr = db.create_transaction()
    assert get_into(tr, b"\xff") == (("error", 2004), False)  # key_outside_legal_range
    tr[b"k"] = b"v" * 100001  # value_too_large, deferred to the next read
    assert get_into(tr, b"k") == (("error", 2103), False)


def test_a_non_snapshot_read_conflicts_and_a_snapshot_read_does_not(db):
    db[b"k"] = b"0"
    for snapshot, expected in ((False, 1020), (True, 0)):  # not_committed
        tr = db.create_transaction()
        assert get_into(tr, b"k", snapshot=snapshot)[0] == ("value", db[b"k"])
        db[b"k"] = b"changed by another transaction" + bytes([snapshot])
        tr[b"other"] = b"x"
        assert error_code(lambda tr=tr: tr.commit().wait()) == expected


# the db fixture is shared by the examples: each starts a fresh transaction and commits nothing
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["set", "clear", "add", "clear_range"]),
            st.sampled_from([b"a", b"b", b"c", b"d"]),
            st.binary(max_size=8),
        ),
        max_size=8,
    ),
    st.sampled_from([b"a", b"b", b"c", b"d"]),
    st.booleans(),
)
def test_answers_what_fdb_transaction_get_answers(db, ops, key, snapshot):
    db[b"a"] = b"stored a"
    db[b"c"] = struct.pack("<q", 3)
    tr = db.create_transaction()
    for op, k, v in ops:
        if op == "set":
            tr[k] = v
        elif op == "clear":
            del tr[k]
        elif op == "add":
            tr.add(k, v)
        else:
            del tr[k : k + b"\x00\x00"]
    assert get_into(tr, key, snapshot)[0] == get_future(tr, key, snapshot)
