"""found.query_batches: the pairs of found.query, one list per batch, built in C."""

import gc

import pytest

import found
from driver_support import put
from found import _transaction

MODES = [
    found.STREAMING_MODE_WANT_ALL,
    found.STREAMING_MODE_ITERATOR,
    found.STREAMING_MODE_SMALL,
    found.STREAMING_MODE_SERIAL,
]


async def _batches(db, *args, **kw):
    async def scan(tx):
        return [batch async for batch in found.query_batches(tx, *args, **kw)]

    return await found.transactional(db, scan)


async def _pairs(db, *args, **kw):
    async def scan(tx):
        return await found.all(found.query(tx, *args, **kw))

    return await found.transactional(db, scan)


@pytest.mark.parametrize("mode", MODES)
async def test_batches_concatenate_to_query(db, mode):
    pairs = [(b"k%05d" % i, b"v" * (i % 70)) for i in range(4000)]
    for start in range(0, len(pairs), 1000):
        await put(db, *pairs[start : start + 1000])
    for args, kw in [
        ((b"k", b"l"), {}),
        ((b"l", b"k"), {}),
        ((b"k", b"l"), {"limit": 2345}),
        ((found.gt(b"k00010"), found.gte(b"k03000")), {}),
        ((b"l", b"k"), {"limit": 7}),
    ]:
        batches = await _batches(db, *args, mode=mode, **kw)
        assert all(type(b) is list and b for b in batches)
        assert [p for b in batches for p in b] == await _pairs(db, *args, mode=mode, **kw)
    if mode == found.STREAMING_MODE_ITERATOR:
        assert len(await _batches(db, b"k", b"l", mode=mode)) > 1  # really several batches


async def test_empty_range_has_no_batch(db):
    await put(db, (b"a", b"1"))
    assert await _batches(db, b"b", b"c") == []


async def test_batches_check_arguments(db):
    tx = found.make_transaction(db)
    with pytest.raises(TypeError, match="key must be bytes or a KeySelector, not str"):
        await found.query_batches(tx, "a", b"b").__anext__()
    with pytest.raises(ValueError, match="limit must be >= 0"):
        await found.query_batches(tx, b"a", b"b", limit=-1).__anext__()


async def test_pairs_are_bytes_and_untracked(db):
    """Tuples of two bytes can hold no cycle: the C builder leaves them out of the cyclic GC."""
    await put(db, *[(b"%03d" % i, b"x" * i) for i in range(100)])
    (batch,) = await _batches(db, b"", b"\xff", mode=found.STREAMING_MODE_WANT_ALL)
    assert all(type(k) is bytes and type(v) is bytes for k, v in batch)
    if _transaction._pairs_of is not _transaction._pairs_py:  # CPython's found._cpairs
        assert not any(gc.is_tracked(pair) for pair in batch)


def _block(pairs):
    """A batch block as ffi/driver/reads.c lays it out (native ints, then the blob)."""
    import array

    offsets, blob = array.array("i", [0]), b""
    for key, value in pairs:
        blob += key
        offsets.append(len(blob))
        blob += value
        offsets.append(len(blob))
    return offsets.tobytes() + blob


@pytest.mark.parametrize("pairs", [[], [(b"", b"")], [(b"a", b"")], [(b"key", b"value"), (b"k2", b"\x00" * 300)]])
def test_c_and_python_builders_agree(pairs):
    block = _block(pairs)
    assert _transaction._pairs_py(block, len(pairs)) == pairs
    assert _transaction._pairs_of(block, len(pairs)) == pairs


def test_c_builder_refuses_a_damaged_block():
    cpairs = pytest.importorskip("found._cpairs")
    good = _block([(b"ab", b"cd")])
    with pytest.raises(ValueError, match="damaged batch block"):
        cpairs.pairs(good, 2)  # more pairs than the block holds
    with pytest.raises(ValueError, match="damaged batch block"):
        cpairs.pairs(good, -1)
    with pytest.raises(ValueError, match="damaged batch block"):
        cpairs.pairs(good[:-1], 1)  # the last value runs past the end
    import array

    backwards = array.array("i", [0, 2, 1]).tobytes() + b"ab"
    with pytest.raises(ValueError, match="damaged batch block"):
        cpairs.pairs(backwards, 1)
    with pytest.raises(TypeError):
        cpairs.pairs("not a buffer", 1)
    with pytest.raises(TypeError, match="takes 2 arguments"):
        cpairs.pairs(good)
