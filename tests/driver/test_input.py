"""Bad input is refused before anything reaches C, and nothing is written."""

import pytest

import found
from driver_support import everything


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda tx: found.get(tx, "text"), "key must be bytes, not str"),
        (lambda tx: found.set(tx, 1, b"v"), "key must be bytes, not int"),
        (lambda tx: found.set(tx, b"k", "v"), "value must be bytes, not str"),
        (lambda tx: found.set(tx, b"k", None), "value must be bytes, not NoneType"),
        (lambda tx: found.set(tx, b"k", bytearray(b"v")), "value must be bytes, not bytearray"),
        (lambda tx: found.clear(tx, "k"), "key must be bytes, not str"),
        (lambda tx: found.clear(tx, b"a", "z"), "other must be bytes, not str"),
        (lambda tx: found.add(tx, b"k", 1), "param must be bytes, not int"),
        (lambda tx: found.max(tx, [], b""), "key must be bytes, not list"),
        (lambda tx: found.estimated_size_bytes(tx, "a", b"b"), "begin must be bytes, not str"),
        (lambda tx: found.get_range_split_points(tx, b"a", 2, 10), "end must be bytes, not int"),
        (lambda tx: found.get_key(tx, b"k"), "key_selector must be a KeySelector"),
        (lambda tx: found.get_addresses_for_key(tx, 1.5), "key must be bytes, not float"),
    ],
)
async def test_wrong_types_name_argument_and_type(db, call, message):
    tx = found.make_transaction(db)
    with pytest.raises(TypeError, match=message):
        await call(tx)
    await found.commit(tx)
    assert await everything(db) == []


async def test_query_bounds_and_limit_types(db):
    tx = found.make_transaction(db)
    with pytest.raises(TypeError, match="key must be bytes or a KeySelector, not str"):
        await found.all(found.query(tx, "a", b"b"))
    with pytest.raises(TypeError, match="other must be bytes or a KeySelector, not int"):
        await found.all(found.query(tx, b"a", 3))
    with pytest.raises(TypeError, match="limit must be int, not str"):
        await found.all(found.query(tx, b"a", b"b", limit="3"))
    with pytest.raises(ValueError, match="limit must be >= 0"):
        await found.all(found.query(tx, b"a", b"b", limit=-1))


def test_watch_and_conflict_range_types_are_checked_synchronously(db):
    tx = found.make_transaction(db)
    with pytest.raises(TypeError, match="key must be bytes, not str"):
        found.watch(tx, "k")
    with pytest.raises(TypeError, match="begin must be bytes, not str"):
        found.add_conflict_range(tx, "a", b"b", found.CONFLICT_RANGE_TYPE_READ)
    with pytest.raises(TypeError, match="conflict_type must be int, not str"):
        found.add_conflict_range(tx, b"a", b"b", "read")
    with pytest.raises(TypeError, match="option must be int"):
        found.set_option(tx, "timeout")


@pytest.mark.parametrize(
    "call, code",
    [
        (lambda tx: found.set(tx, b"k" * 10_001, b"v"), 2102),
        (lambda tx: found.set(tx, b"k", b"v" * 100_001), 2103),
        (lambda tx: found.add(tx, b"k" * 10_001, b"\x01"), 2102),
        (lambda tx: found.append_if_fits(tx, b"k", b"v" * 100_001), 2103),
    ],
)
async def test_oversized_keys_and_values(db, call, code):
    async def write(tx):
        await found.set(tx, b"before", b"ok")
        await call(tx)

    with pytest.raises(found.FoundException) as info:
        await found.transactional(db, write)
    assert info.value.code == code
    assert str(info.value).endswith("(%d)" % code)
    assert await everything(db) == []


async def test_size_limits_are_inclusive(db):
    async def write(tx):
        await found.set(tx, b"k" * 10_000, b"v" * 100_000)

    await found.transactional(db, write)
    assert await found.transactional(db, found.get, b"k" * 10_000) == b"v" * 100_000


async def test_bad_open_arguments():
    with pytest.raises(TypeError, match="cluster_file must be a path"):
        await found.open(42)
    with pytest.raises(TypeError, match="library must be a path"):
        await found.open(None, library=3)


def test_make_transaction_needs_a_database():
    with pytest.raises(TypeError, match="db must be a found.Database"):
        found.make_transaction("db")
