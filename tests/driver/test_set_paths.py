"""found.set's paths write alike.

A plain transaction with bytes key and value within the limits is written by
one CPython call (found._cpairs.set); anything else — a bytes subclass, a
snapshot transaction, a closed one, a key or value over the limit, a system
key past the user limit — takes the checked CFFI path. Both must write the
same, and only the checked path may refuse.
"""

import pytest

import found
from driver_support import put
from found import _transaction


class Bytes(bytes):
    pass


async def _read_back(db, keys):
    async def read(tx):
        return [await found.get(tx, k) for k in keys]

    return await found.transactional(db, read)


async def test_every_path_writes_the_same(db):
    async def write(tx):
        await found.set(tx, b"plain", b"1")
        await found.set(tx, Bytes(b"subclass-key"), b"2")
        await found.set(tx, b"subclass-value", Bytes(b"3"))
        await found.set(tx, b"empty", b"")
        await found.set(tx, b"k" * found.MAX_SIZE_KEY, b"4")  # at the limit: still the C call
        await found.set(tx, b"big", b"v" * found.MAX_SIZE_VALUE)
        await found.set(tx, b"plain", b"5")  # overwritten in the same transaction
        return await found.get(tx, b"plain")

    assert await found.transactional(db, write) == b"5"
    keys = [b"plain", b"subclass-key", b"subclass-value", b"empty", b"k" * found.MAX_SIZE_KEY, b"big"]
    assert await _read_back(db, keys) == [b"5", b"2", b"3", b"", b"4", b"v" * found.MAX_SIZE_VALUE]


async def test_a_system_key_past_the_user_limit_takes_the_checked_path(db):
    key = b"\xff/found-test/" + b"s" * found.MAX_SIZE_KEY

    async def write(tx):
        found.set_option(tx, found.FDB_TR_OPTION_ACCESS_SYSTEM_KEYS)
        await found.set(tx, key, b"system")

    await found.transactional(db, write)

    async def read(tx):
        found.set_option(tx, found.FDB_TR_OPTION_ACCESS_SYSTEM_KEYS)
        value = await found.get(tx, key)
        await found.clear(tx, key)
        return value

    assert await found.transactional(db, read) == b"system"


async def test_refusals_name_the_argument_and_write_nothing(db):
    await put(db, (b"kept", b"old"))
    tx = found.make_transaction(db)
    with pytest.raises(TypeError, match="key"):
        await found.set(tx, "kept", b"new")
    with pytest.raises(TypeError, match="value"):
        await found.set(tx, b"kept", "new")
    with pytest.raises(TypeError, match="key"):
        await found.set(tx, bytearray(b"kept"), b"new")
    with pytest.raises(found.FoundException) as too_long:
        await found.set(tx, b"k" * (found.MAX_SIZE_KEY + 1), b"new")
    assert too_long.value.code == found.FDB_ERR_KEY_TOO_LARGE
    with pytest.raises(found.FoundException) as too_big:
        await found.set(tx, b"kept", b"v" * (found.MAX_SIZE_VALUE + 1))
    assert too_big.value.code == found.FDB_ERR_VALUE_TOO_LARGE
    with pytest.raises(TypeError):
        await found.set(object(), b"kept", b"new")
    await found.commit(tx)  # nothing was written
    assert await _read_back(db, [b"kept"]) == [b"old"]

    snapshot = found.make_transaction(db, snapshot=True)
    with pytest.raises(found.FoundException) as read_only:
        await found.set(snapshot, b"kept", b"new")
    assert read_only.value.code == found.FDB_ERR_TRANSACTION_READ_ONLY

    closed = found.make_transaction(db)
    _transaction.close(closed)
    with pytest.raises(_transaction.InterfaceError):
        await found.set(closed, b"kept", b"new")
    assert await _read_back(db, [b"kept"]) == [b"old"]


async def test_the_c_call_writes_only_what_it_may(db):
    """found._cpairs.set itself: True once written, False (nothing done) for what the checked path must see."""
    cpairs = pytest.importorskip("found._cpairs", reason="found._cpairs is CPython's; PyPy runs the checked path")
    tx = found.make_transaction(db)
    assert cpairs.set(tx, b"c", b"1") is True
    assert await found.get(tx, b"c") == b"1"
    snapshot = found.make_transaction(db, snapshot=True)
    closed = found.make_transaction(db)
    _transaction.close(closed)
    for args in [
        (tx, Bytes(b"c"), b"2"),
        (tx, b"c", Bytes(b"2")),
        (tx, "c", b"2"),
        (tx, b"c", None),
        (tx, b"k" * (found.MAX_SIZE_KEY + 1), b"2"),
        (tx, b"c", b"v" * (found.MAX_SIZE_VALUE + 1)),
        (snapshot, b"c", b"2"),
        (closed, b"c", b"2"),
        (object(), b"c", b"2"),
    ]:
        assert cpairs.set(*args) is False
    assert await found.get(tx, b"c") == b"1"
    with pytest.raises(TypeError):
        cpairs.set(tx, b"c")
