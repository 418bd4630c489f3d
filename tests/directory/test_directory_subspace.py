"""found.Subspace is byte-identical to the official fdb.Subspace."""

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import found
from directory_support import fdb

ELEMENTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.binary(max_size=12),
    st.text(max_size=12),
    st.floats(allow_nan=False),
    st.uuids().map(lambda u: uuid.UUID(bytes=u.bytes)),
)
TUPLES = st.recursive(
    st.tuples(ELEMENTS), lambda inner: st.lists(st.one_of(ELEMENTS, inner), max_size=4).map(tuple), max_leaves=8
)
PREFIXES = st.binary(max_size=6)
SETTINGS = settings(max_examples=300, deadline=None)


def both(prefix_tuple, raw):
    return found.Subspace(prefix_tuple, raw), fdb.Subspace(prefix_tuple, raw)


@SETTINGS
@given(TUPLES, PREFIXES, TUPLES)
def test_keys_match_fdb(prefix_tuple, raw, t):
    ours, theirs = both(prefix_tuple, raw)
    assert ours.key() == theirs.key() == ours.rawPrefix == ours.as_foundationdb_key()
    assert ours.pack(t) == theirs.pack(t)
    assert ours.pack() == theirs.pack()
    assert (ours.range(t).start, ours.range(t).stop) == (theirs.range(t).start, theirs.range(t).stop)
    assert (ours.range().start, ours.range().stop) == (theirs.range().start, theirs.range().stop)
    assert ours.subspace(t).key() == theirs.subspace(t).key()
    assert repr(ours) == repr(theirs)


@SETTINGS
@given(TUPLES, PREFIXES, ELEMENTS)
def test_item_is_a_one_element_subspace(prefix_tuple, raw, element):
    ours, theirs = both(prefix_tuple, raw)
    assert ours[element].key() == theirs[element].key() == ours.subspace((element,)).key()


@SETTINGS
@given(TUPLES, PREFIXES, TUPLES)
def test_unpack_and_contains_match_fdb(prefix_tuple, raw, t):
    ours, theirs = both(prefix_tuple, raw)
    key = theirs.pack(t)
    assert ours.unpack(key) == theirs.unpack(key) == t
    assert ours.contains(key) and ours.contains(ours.key())
    outside = bytes([ours.key()[0] ^ 1]) + ours.key()[1:] if ours.key() else None
    if outside is not None:
        assert ours.contains(outside) is theirs.contains(outside) is False


@SETTINGS
@given(TUPLES, PREFIXES, TUPLES, TUPLES)
def test_pack_with_versionstamp_matches_fdb(prefix_tuple, raw, before, after):
    ours, theirs = both(prefix_tuple, raw)
    packed = ours.pack_with_versionstamp(before + (found.Versionstamp(user_version=7),) + after)
    assert packed == theirs.pack_with_versionstamp(before + (fdb.tuple.Versionstamp(user_version=7),) + after)


def test_range_bounds_every_extension_but_not_the_tuple_itself():
    sub = found.Subspace(("app",))
    span = sub.range(("users",))
    for inner in [(None,), (b"\xff" * 3,), (1,), ("z", 2), ((1, 2),), (True,)]:
        assert span.start <= sub.pack(("users",) + inner) < span.stop
    assert not span.start <= sub.pack(("users",)) < span.stop
    assert not span.start <= sub.pack(("usersx",)) < span.stop


def test_unpack_outside_the_subspace_is_a_value_error():
    with pytest.raises(ValueError, match="not in subspace"):
        found.Subspace(("a",)).unpack(found.pack(("b", 1)))


@pytest.mark.parametrize("raw", ["text", 3, bytearray(b"x")])
def test_raw_prefix_must_be_bytes(raw):
    with pytest.raises(TypeError, match="rawPrefix must be bytes"):
        found.Subspace(rawPrefix=raw)


async def test_keys_work_in_transactions(db):
    sub = found.Subspace(("s",))

    async def write_and_read(tx):
        await found.set(tx, sub.pack((1,)), b"one")
        await found.set(tx, sub.pack((2,)), b"two")
        await found.set(tx, found.pack(("t",)), b"outside")
        span = sub.range()
        return [(sub.unpack(k), v) async for k, v in found.query(tx, span.start, span.stop)]

    assert await found.transactional(db, write_and_read) == [((1,), b"one"), ((2,), b"two")]
