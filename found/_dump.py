"""Dump files: found's streaming, versioned format for moving a key range between databases.

``found.dump`` reads a range in many short transactions and writes blocks;
``found.load`` commits them, one block per transaction, and keeps a resume
record so an interrupted load continues where it stopped.  The format is
documented in docs/cli.md ("Dump format"); every layout constant is here.

File::

    header  MAGIC(8) version:u16 codec:u16 meta_len:u32 meta(JSON) crc:u32
    block*  b"BLCK" index:u32 read_version:i64 codec:u8 count:u32 raw_len:u32 packed_len:u32 crc:u32 packed
    trailer b"DONE" blocks:u32 pairs:u64 bytes:u64 first_version:i64 last_version:i64 crc:u32

All integers little-endian; each crc is zlib.crc32 of the record's bytes
before it (for a block: its fixed fields, then the packed payload).  A raw
payload is ``count`` key lengths (u32), ``count`` value lengths (u32), the
keys back to back, the values back to back.
"""

import array
import asyncio
import dataclasses
import inspect
import json
import os
import struct
import sys
import time
import zlib
from typing import Any, BinaryIO, Callable, Dict, List, Optional, Tuple

from found._codes import (
    FDB_ERR_TRANSACTION_TOO_OLD,
    FDB_STREAMING_MODE_ITERATOR,
    FDB_TR_OPTION_ACCESS_SYSTEM_KEYS,
    FDB_TR_OPTION_READ_SYSTEM_KEYS,
)
from found._errors import FoundException
from found._transaction import (
    commit,
    estimated_size_bytes,
    make_transaction,
    on_error,
    query,
    read_version,
    set_option,
    set_read_version,
)
from found._transaction import set as _set_key
from found.ext._extras import missing_extra

__all__ = ["dump", "load", "DumpError", "Progress", "DumpSummary", "LoadSummary", "FORMAT_VERSION"]

MAGIC = b"FOUNDDMP"
FORMAT_VERSION = 1
BLOCK_MAGIC = b"BLCK"
TRAILER_MAGIC = b"DONE"
_HEADER = struct.Struct("<8sHHI")
_BLOCK = struct.Struct("<4sIqBIII")
_TRAILER = struct.Struct("<4sIQQqq")
_CRC = struct.Struct("<I")
_LENGTHS = "I"  # array typecode of the payload's u32 lengths

CODECS = {"zlib": 1, "zstd": 2}  # codec numbers of the header and of each block
STORED = 0  # a block's codec when compressing did not pay: the raw payload as is
_SAMPLE = 65536  # a block is stored when its last 64 KiB do not shrink below _WORTH
_WORTH = 0.9

BLOCK_BYTES = 1 << 20  # raw keys+values per block (one more pair may overflow it)
_READ_SECONDS = 2.0  # a dump transaction stops reading well inside FoundationDB's 5 s
_TOO_OLD = FDB_ERR_TRANSACTION_TOO_OLD  # the pinned read version is gone
_SYSTEM = b"\xff"

assert array.array(_LENGTHS).itemsize == 4


class DumpError(Exception):
    """A dump file is damaged, truncated, of another format, or cannot be produced as asked.

    ``block`` is the index of the block at fault (None for the header or
    trailer), ``offset`` its byte offset in the file.
    """

    def __init__(self, message: str, block: Optional[int] = None, offset: Optional[int] = None):
        super().__init__(message)
        self.block = block
        self.offset = offset


@dataclasses.dataclass
class Progress:
    """What a dump or load has done so far (handed to the ``progress`` callback)."""

    phase: str  # "dump" or "load"
    pairs: int = 0
    bytes: int = 0  # keys + values moved
    blocks: int = 0
    total_bytes: Optional[int] = None  # estimate of the whole range, when known
    started: float = dataclasses.field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        """Seconds since the operation started."""
        return time.monotonic() - self.started


@dataclasses.dataclass
class DumpSummary:
    """The result of dump(): what was written and at which read versions."""

    dump_id: str
    pairs: int
    bytes: int
    blocks: int
    first_version: int
    last_version: int

    @property
    def consistent(self) -> bool:
        """True when every block was read at the same read version (one snapshot)."""
        return self.first_version == self.last_version


@dataclasses.dataclass
class LoadSummary:
    """The result of load(): what was committed, and where a resumed load started."""

    dump_id: str
    pairs: int
    bytes: int
    blocks: int
    resumed_at_block: int
    first_version: int
    last_version: int
    meta: Dict[str, Any]


# --- codecs


def default_codec() -> str:
    """zstd when the zstandard package is installed (several times faster than zlib), else zlib."""
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return "zlib"
    return "zstd"


class _Packer:
    """Compresses a block's payload with the dump's codec, or stores it when that would not pay."""

    def __init__(self, codec: str):
        self.number = CODECS.get(codec)
        self.compress = _compressor(codec)

    def __call__(self, raw: bytes) -> Tuple[int, bytes]:
        # The tail holds values (usually most of the bytes); the head is the length table, always compressible.
        if len(raw) > _SAMPLE and len(self.compress(raw[-_SAMPLE:])) > _WORTH * _SAMPLE:
            return STORED, raw
        packed = self.compress(raw)
        return (STORED, raw) if len(packed) >= len(raw) else (self.number, packed)


def _compressor(codec: str) -> Callable[[bytes], bytes]:
    if codec == "zlib":
        return lambda raw: zlib.compress(raw, 1)
    if codec == "zstd":
        return _zstd().ZstdCompressor(level=1).compress
    raise ValueError("codec must be one of %s, not %r" % (", ".join(CODECS), codec))


def _decompressor(number: int) -> Callable[[bytes, int], bytes]:
    if number == STORED:
        return lambda packed, raw_len: packed
    if number == CODECS["zlib"]:
        return lambda packed, raw_len: zlib.decompress(packed, bufsize=max(raw_len, 1))
    if number == CODECS["zstd"]:
        inflate = _zstd().ZstdDecompressor().decompress
        return lambda packed, raw_len: inflate(packed, max_output_size=raw_len)
    raise ValueError("unknown codec number %d" % number)


def _zstd():
    try:
        import zstandard
    except ModuleNotFoundError as _missing:
        raise DumpError(str(missing_extra(_missing, "zstd", "found.dump's zstd codec"))) from None
    return zstandard


# --- payload


def _pack_pairs(keys: List[bytes], values: List[bytes]) -> bytes:
    key_lengths = array.array(_LENGTHS, map(len, keys))
    value_lengths = array.array(_LENGTHS, map(len, values))
    if sys.byteorder == "big":
        key_lengths.byteswap()
        value_lengths.byteswap()
    return b"".join((key_lengths.tobytes(), value_lengths.tobytes(), b"".join(keys), b"".join(values)))


def _cut(data: bytes, start: int, lengths: array.array) -> List[bytes]:
    out = []
    append = out.append
    for n in lengths:
        end = start + n
        append(data[start:end])
        start = end
    return out


def _unpack_pairs(raw: bytes, count: int) -> Tuple[List[bytes], List[bytes]]:
    lengths = array.array(_LENGTHS)
    lengths.frombytes(raw[: 8 * count])
    if sys.byteorder == "big":
        lengths.byteswap()
    key_lengths = lengths[:count]
    value_lengths = lengths[count:]
    keys_end = 8 * count + sum(key_lengths)
    if keys_end + sum(value_lengths) != len(raw):
        raise ValueError("lengths do not add up to the payload size")
    return _cut(raw, 8 * count, key_lengths), _cut(raw, keys_end, value_lengths)


# --- writing


def _write_header(out: BinaryIO, codec: str, meta: Dict[str, Any]) -> None:
    text = json.dumps(meta, sort_keys=True).encode()
    head = _HEADER.pack(MAGIC, FORMAT_VERSION, CODECS[codec], len(text)) + text
    out.write(head + _CRC.pack(zlib.crc32(head)))


def _block_record(index: int, version: int, codec: int, count: int, raw_len: int, packed: bytes) -> bytes:
    fields = _BLOCK.pack(BLOCK_MAGIC, index, version, codec, count, raw_len, len(packed))
    return b"".join((fields, _CRC.pack(zlib.crc32(packed, zlib.crc32(fields))), packed))


def _trailer_record(blocks: int, pairs: int, total: int, first: int, last: int) -> bytes:
    fields = _TRAILER.pack(TRAILER_MAGIC, blocks, pairs, total, first, last)
    return fields + _CRC.pack(zlib.crc32(fields))


class _Reader:
    """Reads one range at one pinned read version while the source allows it."""

    def __init__(self, db, end: bytes, system: bool, consistent: bool):
        self.db = db
        self.end = end
        self.system = system
        self.consistent = consistent
        self.version: Optional[int] = None

    def _transaction(self):
        tx = make_transaction(self.db, snapshot=True)
        if self.system:
            set_option(tx, FDB_TR_OPTION_READ_SYSTEM_KEYS)
        return tx

    async def estimate(self, begin: bytes) -> Optional[int]:
        """The source's estimate of the range's size (None when it cannot tell)."""
        try:
            return await estimated_size_bytes(self._transaction(), begin, self.end)
        except FoundException:
            return None

    async def block(self, cursor: bytes, budget: int) -> Tuple[List[bytes], List[bytes], int, int]:
        """(keys, values, raw bytes, read version) of the next pairs from ``cursor``, retried as needed."""
        # Engine reads complete without ever yielding to the event loop: yield once a block, so a
        # cancellation (Ctrl-C in the command) is seen between blocks, not only after the last one.
        await asyncio.sleep(0)
        tx = self._transaction()
        while True:
            try:
                if self.version is None:
                    self.version = await read_version(tx)
                else:
                    await set_read_version(tx, self.version)
                keys, values, size = await self._read(tx, cursor, budget)
                return keys, values, size, self.version
            except FoundException as exc:
                if exc.code == _TOO_OLD and self.version is not None:
                    if self.consistent:
                        raise DumpError(
                            "read version %d is no longer available (transaction_too_old): the source changed "
                            "or the dump outlived its snapshot; dump without --consistent to continue at newer "
                            "versions" % self.version
                        ) from exc
                    self.version = None
                    tx = self._transaction()
                    continue
                await on_error(tx, exc.code)
                if self.system:
                    set_option(tx, FDB_TR_OPTION_READ_SYSTEM_KEYS)

    async def _read(self, tx, cursor: bytes, budget: int):
        keys: List[bytes] = []
        values: List[bytes] = []
        size = 0
        deadline = time.monotonic() + _READ_SECONDS
        async for key, value in query(tx, cursor, self.end, mode=FDB_STREAMING_MODE_ITERATOR):
            keys.append(key)
            values.append(value)
            size += len(key) + len(value)
            if size >= budget or (len(keys) & 1023 == 0 and time.monotonic() > deadline):
                break
        return keys, values, size


async def _report(progress, state: Progress) -> None:
    if progress is not None:
        result = progress(state)
        if inspect.isawaitable(result):
            await result


def _check_range(begin: bytes, end: bytes, system: bool) -> None:
    for name, key in (("begin", begin), ("end", end)):
        if type(key) is not bytes:
            raise TypeError("%s must be bytes, not %s" % (name, type(key).__name__))
    if begin >= end:
        raise ValueError("begin must sort before end (%r >= %r)" % (begin, end))
    if not system and end > _SYSTEM:
        raise ValueError("the range reaches system keys (\\xff…): pass system=True to dump them")


async def dump(
    db,
    out: BinaryIO,
    *,
    begin: bytes = b"",
    end: bytes = b"\xff",
    system: bool = False,
    consistent: bool = False,
    codec: Optional[str] = None,
    block_bytes: int = BLOCK_BYTES,
    progress: Optional[Callable[[Progress], None]] = None,
    meta: Optional[Dict[str, Any]] = None,
) -> DumpSummary:
    """Write every pair of [begin, end) of ``db`` to the binary stream ``out`` in found's dump format.

    Reads in many short transactions, all at the read version of the first
    one while the source still serves it (an idle engine always does; a
    cluster for about 5 s).  When it no longer does, the dump goes on at a
    newer version — or, with ``consistent=True``, raises DumpError.  The
    returned summary says which versions were read (``.consistent``).
    ``progress(Progress)`` is called after each block (awaited when it
    returns an awaitable).  ``meta`` adds JSON-able fields to the header.
    ``codec``: "zstd" or "zlib" (default: zstd when installed).
    """
    _check_range(begin, end, system)
    codec = codec or default_codec()
    pack = _Packer(codec)
    reader = _Reader(db, end, system, consistent)
    state = Progress("dump", total_bytes=await reader.estimate(begin))
    dump_id = os.urandom(16).hex()  # names the dump for resume records (uuid4's randomness, without importing uuid)
    header = dict(
        meta or {}, id=dump_id, begin=begin.hex(), end=end.hex(), created=time.time(), estimated_bytes=state.total_bytes
    )
    _write_header(out, codec, header)
    first = last = -1
    cursor = begin
    while True:
        keys, values, size, version = await reader.block(cursor, block_bytes)
        if not keys:
            break
        if first < 0:
            first = version
        last = version
        raw = _pack_pairs(keys, values)
        number, packed = pack(raw)
        out.write(_block_record(state.blocks, version, number, len(keys), len(raw), packed))
        state.blocks += 1
        state.pairs += len(keys)
        state.bytes += size
        await _report(progress, state)
        cursor = keys[-1] + b"\x00"
    out.write(_trailer_record(state.blocks, state.pairs, state.bytes, first, last))
    out.flush()
    return DumpSummary(dump_id, state.pairs, state.bytes, state.blocks, first, last)


# --- reading


class _Source:
    """A dump file read record by record, every check naming where it failed."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.offset = 0

    def take(self, n: int, what: str, block: Optional[int] = None) -> bytes:
        data = self.stream.read(n)
        while len(data) < n:
            more = self.stream.read(n - len(data))
            if not more:
                raise DumpError(
                    "truncated dump: %s at byte offset %d is cut short (%d of %d bytes)"
                    % (what, self.offset, len(data), n),
                    block,
                    self.offset,
                )
            data += more
        self.offset += n
        return data

    def header(self) -> Tuple[int, Dict[str, Any]]:
        fixed = self.take(_HEADER.size, "the header")
        magic, version, codec, meta_len = _HEADER.unpack(fixed)
        if magic != MAGIC:
            raise DumpError("not a found dump file (bad magic %r)" % magic, None, 0)
        if version != FORMAT_VERSION:
            raise DumpError(
                "dump format version %d is not supported (this found reads version %d)" % (version, FORMAT_VERSION),
                None,
                0,
            )
        text = self.take(meta_len, "the header")
        (crc,) = _CRC.unpack(self.take(_CRC.size, "the header"))
        if crc != zlib.crc32(fixed + text):
            raise DumpError("corrupt dump: the header's checksum does not match", None, 0)
        return codec, json.loads(text)

    def record(self, index: int):
        """('block', fields, packed) or ('trailer', fields, None) for the record at the current offset."""
        start = self.offset
        kind = self.take(4, "block %d" % index, index)
        if kind == TRAILER_MAGIC:
            rest = self.take(_TRAILER.size - 4, "the trailer")
            (crc,) = _CRC.unpack(self.take(_CRC.size, "the trailer"))
            if crc != zlib.crc32(kind + rest):
                raise DumpError("corrupt dump: the trailer's checksum does not match", None, start)
            return "trailer", _TRAILER.unpack(kind + rest), None
        if kind != BLOCK_MAGIC:
            raise DumpError(
                "corrupt dump: block %d at byte offset %d does not start with %r" % (index, start, BLOCK_MAGIC),
                index,
                start,
            )
        what = "block %d" % index
        fixed = kind + self.take(_BLOCK.size - 4, what, index)
        fields = _BLOCK.unpack(fixed)
        (crc,) = _CRC.unpack(self.take(_CRC.size, what, index))
        packed = self.take(fields[6], what, index)
        if crc != zlib.crc32(packed, zlib.crc32(fixed)) or fields[1] != index:
            raise DumpError(
                "corrupt dump: block %d at byte offset %d fails its checksum" % (index, start), index, start
            )
        return "block", fields, packed

    def end(self) -> None:
        if self.stream.read(1):
            raise DumpError("corrupt dump: data after the trailer at byte offset %d" % self.offset, None, self.offset)


class _Resume:
    """The resume record of a load: which blocks of which dump are committed (a small JSON file)."""

    def __init__(self, path: Optional[str]):
        self.path = path

    def read(self, dump_id: str, swap) -> int:
        """The first block still to load (0 when there is no record for this dump and prefix swap)."""
        if not self.path or not os.path.exists(self.path):
            return 0
        with open(self.path) as f:
            record = json.load(f)
        if record.get("dump") != dump_id or record.get("swap") != swap:
            raise DumpError(
                "resume record %s belongs to another dump or prefix swap (dump %s); remove it to "
                "load from the start" % (self.path, record.get("dump"))
            )
        return int(record["next_block"])

    def write(self, dump_id: str, swap, next_block: int) -> None:
        if not self.path:
            return
        temporary = self.path + ".tmp"
        with open(temporary, "w") as f:
            json.dump({"dump": dump_id, "swap": swap, "next_block": next_block}, f)
        os.replace(temporary, self.path)

    def done(self) -> None:
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)


def _swapper(prefix_swap: Optional[Tuple[bytes, bytes]]):
    if prefix_swap is None:
        return None
    old, new = prefix_swap
    if type(old) is not bytes or type(new) is not bytes:
        raise TypeError("prefix_swap must be a pair of bytes (old, new)")
    cut = len(old)

    def swap(keys: List[bytes], block: int) -> List[bytes]:
        for key in keys:
            if not key.startswith(old):
                raise DumpError("block %d holds key %r, outside the prefix %r being swapped" % (block, key, old), block)
        return [new + key[cut:] for key in keys]

    return swap


async def _commit_block(db, keys: List[bytes], values: List[bytes]) -> None:
    system = keys[-1] >= _SYSTEM
    tx = make_transaction(db)
    while True:
        try:
            if system:
                set_option(tx, FDB_TR_OPTION_ACCESS_SYSTEM_KEYS)
            for key, value in zip(keys, values):
                await _set_key(tx, key, value)
            await commit(tx)
            return
        except FoundException as exc:
            # Setting the same pairs again is harmless, so a commit_unknown_result retry is too.
            await on_error(tx, exc.code)


async def load(
    db,
    source: BinaryIO,
    *,
    prefix_swap: Optional[Tuple[bytes, bytes]] = None,
    system: bool = False,
    resume: Optional[str] = None,
    progress: Optional[Callable[[Progress], None]] = None,
) -> LoadSummary:
    """Commit every pair of the dump read from the binary stream ``source`` into ``db``.

    One transaction per block (a block is about 1 MB, far inside FoundationDB's
    10 MB and 5 s).  ``prefix_swap=(old, new)`` replaces the leading ``old`` of
    every key by ``new`` (a key without it is an error).  ``resume`` names a
    resume record file: blocks it lists as committed are checked and skipped,
    it is updated after each commit and removed when the load completes.
    Every block is verified against its checksum before it is written; a
    damaged or truncated file raises DumpError naming the block.  Pairs already
    in ``db`` and not in the dump are left alone.  A dump reaching system keys
    (``\\xff…``: on a cluster, its configuration) loads only with ``system=True``.
    """
    reader = _Source(source)
    codec, meta = reader.header()
    if codec not in CODECS.values():
        raise DumpError("unknown codec number %d in the header" % codec, None, 0)
    inflaters: Dict[int, Callable[[bytes, int], bytes]] = {}
    dump_id = meta["id"]
    swap_record = None if prefix_swap is None else [prefix_swap[0].hex(), prefix_swap[1].hex()]
    swap = _swapper(prefix_swap)
    if not system and bytes.fromhex(meta.get("end", "")) > _SYSTEM:
        raise DumpError("the dump reaches system keys (\\xff...); pass system=True (--system) to write them", None, 0)
    record = _Resume(resume)
    start = record.read(dump_id, swap_record)
    state = Progress("load", total_bytes=meta.get("estimated_bytes"))
    index = 0
    while True:
        kind, fields, packed = reader.record(index)
        if kind == "trailer":
            break
        _, _, _, block_codec, count, raw_len, _ = fields
        if index >= start:
            keys, values = _inflate(inflaters, block_codec, packed, count, raw_len, index, reader.offset - len(packed))
            if swap:
                keys = swap(keys, index)
            if keys and keys[-1] >= _SYSTEM and not system:
                raise DumpError(
                    "block %d holds system keys (\\xff...); pass system=True (--system) to write them" % index, index
                )
            await _commit_block(db, keys, values)
            record.write(dump_id, swap_record, index + 1)
            state.pairs += count
            state.bytes += raw_len - 8 * count
        elif state.total_bytes:
            state.total_bytes = max(state.total_bytes - (raw_len - 8 * count), 0)  # what is left to do
        state.blocks = index = index + 1
        await _report(progress, state)
    _, blocks, pairs, total, first, last = fields
    if blocks != index:
        raise DumpError("corrupt dump: the trailer counts %d blocks, the file holds %d" % (blocks, index))
    reader.end()
    record.done()
    return LoadSummary(dump_id, state.pairs, state.bytes, blocks, start, first, last, meta)


def _inflate(inflaters, codec: int, packed: bytes, count: int, raw_len: int, index: int, offset: int):
    try:
        if codec not in inflaters:
            inflaters[codec] = _decompressor(codec)
        raw = inflaters[codec](packed, raw_len)
        if len(raw) != raw_len:
            raise ValueError("%d bytes instead of %d" % (len(raw), raw_len))
        return _unpack_pairs(raw, count)
    except DumpError:
        raise
    except Exception as exc:
        raise DumpError(
            "corrupt dump: block %d at byte offset %d does not decode (%s)" % (index, offset, exc), index, offset
        ) from exc
