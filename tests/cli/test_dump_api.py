"""found.dump / found.load as a Python API: round trips, the format's checks, versions, prefix swap."""

import asyncio
import io
import os
import struct
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import found
from cli_support import pairs_of, put
from found import _dump

keys = st.binary(min_size=0, max_size=700).filter(lambda k: not k.startswith(b"\xff"))
# Large values from a short seed: hypothesis draws little entropy, the value is still up to 100,000 bytes.
values = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda seed, n: (seed * n)[:n], st.binary(min_size=1, max_size=8), st.integers(90_000, 100_000)),
)


async def _dump_bytes(db, **options) -> bytes:
    out = io.BytesIO()
    await found.dump(db, out, **options)
    return out.getvalue()


async def _clear(db, begin=b"", end=b"\xff"):
    await found.transactional(db, found.clear, begin, end)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.dictionaries(keys, values, max_size=60),
    block=st.sampled_from([1, 200, 1 << 20]),
    codec=st.sampled_from(["zlib", "zstd"]),
)
async def test_round_trip_is_byte_identical(src, dst, data, block, codec):
    """Any pairs (empty key, keys past the engine's 509-byte split, 100 kB values) come back identical."""
    await _clear(src)
    await _clear(dst)
    await put(src, data.items(), per_transaction=50)
    blob = await _dump_bytes(src, block_bytes=block, codec=codec)
    summary = await found.load(dst, io.BytesIO(blob))
    assert summary.pairs == len(data)
    assert await pairs_of(dst) == await pairs_of(src) == sorted(data.items())


async def test_range_prefix_swap_and_system_keys(src, dst):
    await put(src, [(b"a/1", b"x"), (b"b/1", b"y"), (b"b/2", b"z"), (b"c", b"w")])
    await put(src, [(b"\xff/mine", b"s")], system=True)
    blob = await _dump_bytes(src, begin=b"b/", end=b"b0")
    summary = await found.load(dst, io.BytesIO(blob), prefix_swap=(b"b/", b"new/"))
    assert (summary.pairs, summary.blocks) == (2, 1)
    assert await pairs_of(dst) == [(b"new/1", b"y"), (b"new/2", b"z")]
    with pytest.raises(ValueError, match="system"):
        await _dump_bytes(src, end=b"\xff\xff")
    blob = await _dump_bytes(src, begin=b"\xff", end=b"\xff\xff", system=True)
    with pytest.raises(found.DumpError, match=r"the dump reaches system keys"):
        await found.load(dst, io.BytesIO(blob))
    await found.load(dst, io.BytesIO(blob), system=True)
    assert await pairs_of(dst, b"\xff", b"\xff\xff", system=True) == [(b"\xff/mine", b"s")]


async def test_prefix_swap_refuses_keys_outside_the_prefix(src, dst):
    await put(src, [(b"p/1", b"1"), (b"q", b"2")])
    blob = await _dump_bytes(src)
    with pytest.raises(found.DumpError, match=r"block 0 holds key b'q', outside the prefix b'p/'"):
        await found.load(dst, io.BytesIO(blob), prefix_swap=(b"p/", b"r/"))
    assert await pairs_of(dst) == []


async def test_swapping_into_system_keys_needs_system(src, dst):
    await put(src, [(b"p/1", b"1")])
    with pytest.raises(found.DumpError, match=r"block 0 holds system keys"):
        await found.load(dst, io.BytesIO(await _dump_bytes(src)), prefix_swap=(b"p/", b"\xff/p/"))
    assert await pairs_of(dst, b"", b"\xff\xff", system=True) == []


async def test_empty_range(src, dst):
    blob = await _dump_bytes(src)
    summary = await found.load(dst, io.BytesIO(blob))
    assert (summary.pairs, summary.blocks) == (0, 0)


async def test_progress_callback_and_summary(src, dst):
    await put(src, [(b"k%05d" % i, b"v" * 100) for i in range(3000)])
    seen = []
    out = io.BytesIO()
    summary = await found.dump(src, out, block_bytes=50_000, progress=lambda p: seen.append((p.blocks, p.pairs)))
    assert summary.consistent and summary.pairs == 3000 and summary.bytes == 3000 * 106
    assert seen == sorted(seen) and seen[-1] == (summary.blocks, 3000) and len(seen) == summary.blocks > 1
    loaded = []
    out.seek(0)
    await found.load(dst, out, progress=lambda p: loaded.append(p.pairs))
    assert loaded[-1] == 3000 and len(loaded) == summary.blocks


def _blocks(blob: bytes):
    """Byte offsets of every block record of a dump."""
    offset = _dump._HEADER.size + struct.unpack_from("<I", blob, 12)[0] + 4
    found_at = []
    while blob[offset : offset + 4] == _dump.BLOCK_MAGIC:
        found_at.append(offset)
        packed_len = _dump._BLOCK.unpack_from(blob, offset)[6]
        offset += _dump._BLOCK.size + 4 + packed_len
    return found_at, offset


def _count(blob: bytes, start: int) -> int:
    return _dump._BLOCK.unpack_from(blob, start)[4]


@pytest.fixture
async def five_blocks(src):
    await put(src, [(b"k%05d" % i, bytes([i % 251]) * 100) for i in range(1000)])
    blob = await _dump_bytes(src, block_bytes=25_000)
    starts, trailer = _blocks(blob)
    assert len(starts) == 5
    return blob, starts, trailer


async def test_corrupt_block_is_named_and_not_written(dst, five_blocks):
    blob, starts, _ = five_blocks
    damaged = bytearray(blob)
    damaged[starts[2] + 60] ^= 0x01  # a byte of block 2's payload
    with pytest.raises(found.DumpError, match="block 2 at byte offset %d fails its checksum" % starts[2]) as caught:
        await found.load(dst, io.BytesIO(bytes(damaged)))
    assert caught.value.block == 2
    # blocks 0 and 1 were committed, nothing of block 2 on
    rows = await pairs_of(dst)
    assert len(rows) == _count(blob, starts[0]) + _count(blob, starts[1])


async def test_corrupt_block_header_is_named(dst, five_blocks):
    blob, starts, _ = five_blocks
    damaged = bytearray(blob)
    damaged[starts[3] : starts[3] + 4] = b"XXXX"
    with pytest.raises(found.DumpError, match="block 3 at byte offset %d does not start with" % starts[3]):
        await found.load(dst, io.BytesIO(bytes(damaged)))


@pytest.mark.parametrize("cut", ["inside_block", "before_trailer", "inside_trailer"])
async def test_truncated_dump_is_named(dst, five_blocks, cut):
    blob, starts, trailer = five_blocks
    at = {"inside_block": starts[4] + 100, "before_trailer": trailer, "inside_trailer": trailer + 10}[cut]
    expected = {"inside_block": "block 4", "before_trailer": "block 5", "inside_trailer": "the trailer"}[cut]
    with pytest.raises(found.DumpError, match="truncated dump: %s at byte offset" % expected):
        await found.load(dst, io.BytesIO(blob[:at]))


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b"NOTADUMP" + b[8:], "not a found dump file"),
        (lambda b: b[:8] + struct.pack("<H", 9) + b[10:], "dump format version 9 is not supported"),
        (lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:], "the header's checksum"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "the trailer's checksum"),
        (lambda b: b + b"x", "data after the trailer"),
        (lambda b: b"", "truncated dump: the header"),
    ],
)
async def test_damaged_header_or_trailer(dst, five_blocks, damage, message):
    with pytest.raises(found.DumpError, match=message):
        await found.load(dst, io.BytesIO(damage(five_blocks[0])))


async def test_resume_record_skips_committed_blocks(dst, five_blocks, tmp_path):
    blob, starts, _ = five_blocks
    record = str(tmp_path / "resume")
    damaged = bytearray(blob)
    damaged[starts[3] + 60] ^= 0x01
    with pytest.raises(found.DumpError):
        await found.load(dst, io.BytesIO(bytes(damaged)), resume=record)
    # pairs from block 0 are changed in the destination: a resumed load must not rewrite them
    await put(dst, [(b"k00000", b"changed")])
    states = []
    summary = await found.load(
        dst, io.BytesIO(blob), resume=record, progress=lambda p: states.append((p.bytes, p.total_bytes))
    )
    # the estimate (exact on the engine for 1,000 pairs) shrinks by the skipped blocks: the bar shows what is left
    assert states[-1] == (summary.bytes, summary.bytes)
    assert summary.resumed_at_block == 3 and summary.pairs == _count(blob, starts[3]) + _count(blob, starts[4])
    rows = dict(await pairs_of(dst))
    assert len(rows) == 1000 and rows[b"k00000"] == b"changed" and rows[b"k00999"] == bytes([999 % 251]) * 100
    assert not (tmp_path / "resume").exists()


async def test_resume_record_of_another_dump_is_refused(src, dst, tmp_path):
    await put(src, [(b"a", b"1")])
    record = tmp_path / "resume"
    record.write_text('{"dump": "someone-else", "swap": null, "next_block": 1}')
    with pytest.raises(found.DumpError, match="belongs to another dump"):
        await found.load(dst, io.BytesIO(await _dump_bytes(src)), resume=str(record))


async def test_dump_follows_newer_versions_or_fails_when_consistent(src, dst):
    """A dump outliving its read version (engine: 5 s of newer commits) says so, or fails with consistent=True."""
    await put(src, [(b"k%04d" % i, b"old") for i in range(400)])
    arrived = []
    released = asyncio.Event()

    async def hold_after_first_block(state):
        if state.blocks == 1:
            arrived.append(state)
            await released.wait()

    strict = asyncio.ensure_future(
        found.dump(src, io.BytesIO(), block_bytes=1000, consistent=True, progress=hold_after_first_block)
    )
    out = io.BytesIO()
    moving = asyncio.ensure_future(found.dump(src, out, block_bytes=1000, progress=hold_after_first_block))
    while len(arrived) < 2:  # both dumps have read their first block at the first version
        await asyncio.sleep(0.01)
    # Rewrite everything, let the first version age out of the engine's 5 s window, commit again.
    await put(src, [(b"k%04d" % i, b"new") for i in range(400)])
    await asyncio.sleep(5.2)
    await put(src, [(b"zz", b"later")])
    released.set()
    with pytest.raises(found.DumpError, match="is no longer available"):
        await strict
    summary = await moving
    assert not summary.consistent and summary.first_version < summary.last_version
    out.seek(0)
    await found.load(dst, out)
    values = [value for _, value in await pairs_of(dst)]
    # the first block at the first version, the rest at a newer one
    assert values[0] == b"old" and values[-1] == b"later" and values[-2] == b"new"


@pytest.mark.parametrize("codec", ["zlib", "zstd"])
async def test_incompressible_blocks_are_stored(src, dst, codec):
    noise = os.urandom(400_000)
    await put(src, [(b"noise/%d" % i, noise[i * 100_000 : (i + 1) * 100_000]) for i in range(4)])
    await put(src, [(b"text/%05d" % i, b"the same words again " * 4) for i in range(2000)])
    blob = await _dump_bytes(src, codec=codec, block_bytes=150_000)
    starts, _ = _blocks(blob)
    codecs = [_dump._BLOCK.unpack_from(blob, start)[3] for start in starts]
    assert codecs[0] == _dump.STORED and codecs[-1] == _dump.CODECS[codec]
    await found.load(dst, io.BytesIO(blob))
    assert await pairs_of(dst) == await pairs_of(src)


def test_default_codec_is_zstd_when_installed_else_zlib(monkeypatch):
    import zstandard  # noqa: F401  (a test dependency)

    assert _dump.default_codec() == "zstd"
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import fails as if not installed
    assert _dump.default_codec() == "zlib"
    with pytest.raises(found.DumpError, match=r"found.dump.s zstd codec needs the zstandard package.*found\[zstd\]"):
        _dump._decompressor(_dump.CODECS["zstd"])
