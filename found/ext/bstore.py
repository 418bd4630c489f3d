"""Content-addressed blob store.

A blob is named by its content: its uid is the first 16 bytes of its
32-byte blake2b digest, as a ``uuid.UUID``.  Storing the same bytes again
returns the same uid and writes nothing.  Who keeps a blob alive is told by
holder keys: ``get_or_create(..., holder=h)`` sets one, ``release(..., h)``
clears it and, with the last one, the blob.  Setting or clearing a key twice
has the effect of doing it once, so every operation may be retried after a
commit whose result is unknown (``found.transactional`` does so).  Reads
check the content against the full digest.

Key layout, under the store's tuple ``prefix``::

    prefix + ("blob", uid)            -> pack((sid, size, chunk_count, digest))
    prefix + ("chunk", sid, i)        -> bytes i*CHUNK_SIZE .. (i+1)*CHUNK_SIZE of the blob
    prefix + ("holder", uid, holder)  -> b""  one per holder of the blob
    prefix + ("upload", sid)          -> pack((started_at,))  while put_large stages

``sid`` is a random uuid naming one physical copy.  A blob is visible once its
``blob`` record exists; ``put_large`` writes the chunks of a blob too big for
one transaction under a fresh sid in many transactions, guarded by an
``upload`` marker, then publishes the record and drops the marker in one small
transaction.  Chunks are cleared only while their marker exists (an upload
that never published) or with the record that points to them, so a retried
step can never take a published blob's chunks away; ``gc`` removes uploads
whose marker is older than a grace period.
"""

import time
from hashlib import blake2b
from typing import Any, AsyncIterable, AsyncIterator, ClassVar, Iterable, List, Sequence, Tuple, Type, Union
from uuid import UUID, uuid4

import found
from found import Database, Transaction
from found.ext._aiterate import aiterate
from found.ext._store import VALUE_LIMIT, StoreHandle

#: Bytes per chunk key: FoundationDB's value size limit.
CHUNK_SIZE = VALUE_LIMIT
#: Largest blob ``get_or_create`` writes in the caller's transaction; the
#: limit of a transaction is 10,000,000 bytes, keys and all.
TRANSACTION_BLOB_LIMIT = 9_000_000
#: Chunk bytes ``put_large`` and ``get_large`` move per transaction.
BATCH_BYTES = 4_000_000

_DIGEST_SIZE = 32


#: What a blob may be given as.
BytesLike = Union[bytes, bytearray, memoryview]


class BStoreException(found.BaseFoundException):
    """Bad input to a bstore, an unknown uid, or content that does not match
    its digest."""


class BStore(StoreHandle):
    """Handle over a bstore: ``name`` and ``prefix`` (a tuple).  Build with
    ``make``."""

    __slots__ = ("_packed",)
    kind: ClassVar[str] = "bstore"
    exception: ClassVar[Type[found.BaseFoundException]] = BStoreException

    _packed: bytes

    def __init__(self, name: str, prefix: Tuple[Any, ...], packed: bytes) -> None:
        super().__init__(name, prefix)
        self._packed = packed

    def key(self, *parts: Any) -> bytes:
        """Packed key ``prefix + parts``."""
        return self._packed + found.pack(parts)

    def range(self, *parts: Any) -> Tuple[bytes, bytes]:
        """(begin, end) of the keys strictly under ``prefix + parts``."""
        packed = self.key(*parts)
        return packed + b"\x00", packed + b"\xff"


def make(name: str, prefix: Sequence[Any]) -> BStore:
    """Create a handle over a bstore called ``name`` (a str, for debugging)
    keeping its keys under ``prefix`` (a tuple; a list is taken as one)."""
    return BStore.make(name, prefix)


# --- content addressing -----------------------------------------------------


def _as_bytes(blob):
    if isinstance(blob, bytes):
        return blob
    if isinstance(blob, (bytearray, memoryview)):
        return bytes(blob)
    raise BStoreException("blob must be bytes, got {}".format(type(blob).__name__))


def _digest(blob):
    return blake2b(blob, digest_size=_DIGEST_SIZE).digest()


def uid_of(blob: BytesLike) -> UUID:
    """Return the uid ``blob`` has (or would have) in any bstore."""
    return UUID(bytes=_digest(_as_bytes(blob))[:16])


def _check_uid(uid):
    if not isinstance(uid, UUID):
        raise BStoreException("uid must be uuid.UUID, got {}".format(type(uid).__name__))


def _chunk_count(size):
    return -(-size // CHUNK_SIZE)


class _Record:
    """The ``blob`` record: where a blob's chunks are and how to check them."""

    __slots__ = ("sid", "size", "chunks", "digest")

    def __init__(self, sid, size, chunks, digest):
        self.sid = sid
        self.size = size
        self.chunks = chunks
        self.digest = digest

    def pack(self):
        return found.pack((self.sid, self.size, self.chunks, self.digest))


async def _record(tx, bstore, uid):
    value = await found.get(tx, bstore.key("blob", uid))
    if value is None:
        return None
    try:
        sid, size, chunks, digest = found.unpack(value)
    except Exception as exc:  # whatever the damage, report it as such
        raise BStoreException("{}: record of uid={} is damaged".format(bstore.name, uid)) from exc
    return _Record(sid, size, chunks, digest)


async def _must_record(tx, bstore, uid):
    _check_uid(uid)
    record = await _record(tx, bstore, uid)
    if record is None:
        raise BStoreException("{}: no blob with uid={}".format(bstore.name, uid))
    return record


def _check_holder(bstore, holder):
    """Raise BStoreException unless ``holder`` can be packed in a key."""
    if holder is None:
        raise BStoreException("holder must not be None")
    try:
        bstore.key("holder", UUID(int=0), holder)
    except Exception as exc:  # the tuple layer raises several types
        raise BStoreException(
            "holder must be packable in a tuple, got {}: {}".format(type(holder).__name__, exc)
        ) from exc


def _check_same_content(bstore, uid, record, digest):
    if record.digest != digest:
        raise BStoreException("{}: two contents share uid={} (digest prefix collision)".format(bstore.name, uid))


async def _hold(tx, bstore, uid, holder):
    if holder is not None:
        await found.set(tx, bstore.key("holder", uid, holder), b"")


async def _write_chunks(tx, bstore, sid, blob):
    for index, offset in enumerate(range(0, len(blob), CHUNK_SIZE)):
        await found.set(tx, bstore.key("chunk", sid, index), blob[offset : offset + CHUNK_SIZE])


def _verify(bstore, uid, record, pieces):
    """Join the chunks read for ``record`` and check them: count, indices,
    size and digest; raise BStoreException on any mismatch."""
    indices = [index for index, _ in pieces]
    if indices != list(range(record.chunks)):
        raise BStoreException(
            "{}: blob uid={} has chunks {} of {} (deleted or damaged)".format(
                bstore.name, uid, len(indices), record.chunks
            )
        )
    blob = b"".join(chunk for _, chunk in pieces)
    if len(blob) != record.size or _digest(blob) != record.digest or record.digest[:16] != uid.bytes:
        raise BStoreException("{}: blob uid={} does not match its digest".format(bstore.name, uid))
    return blob


async def _read_chunks(tx, bstore, sid, begin_index=0, limit=0):
    begin, end = bstore.range("chunk", sid)
    if begin_index:
        begin = bstore.key("chunk", sid, begin_index)
    skip = len(bstore.key("chunk", sid))
    pieces = []
    async for key, value in found.query(tx, begin, end, limit=limit):
        (index,) = found.unpack(key[skip:])
        pieces.append((index, value))
    return pieces


async def _holders(tx, bstore, uid, limit=0):
    skip = len(bstore.key("holder", uid))
    begin, end = bstore.range("holder", uid)
    return [found.unpack(key[skip:])[0] async for key, _ in found.query(tx, begin, end, limit=limit)]


async def _erase(tx, bstore, uid, record):
    """Clear the blob ``uid``: record, chunks and holders (range clears,
    whatever the size)."""
    await found.clear(tx, bstore.key("blob", uid))
    await found.clear(tx, *bstore.range("chunk", record.sid))
    await found.clear(tx, *bstore.range("holder", uid))


# --- within one transaction -------------------------------------------------


async def get_or_create(tx: Transaction, bstore: BStore, blob: BytesLike, *, holder: Any = None) -> UUID:
    """Store ``blob`` (bytes) and return its uid; if the same content is
    already stored, return its uid and write nothing.

    With a ``holder`` (any value ``found.pack`` takes in a tuple, naming who
    keeps the blob: a user, a document, a request id), also set the key
    telling that ``holder`` holds the blob, until ``release``.  Running this
    twice, as a retry after an unknown commit result does, has the effect of
    running it once.  Blobs above TRANSACTION_BLOB_LIMIT need ``put_large``."""
    blob = _as_bytes(blob)
    if holder is not None:
        _check_holder(bstore, holder)
    if len(blob) > TRANSACTION_BLOB_LIMIT:
        raise BStoreException(
            "{}: blob of {} bytes does not fit in one transaction (limit {}); "
            "use bstore.put_large(db, bstore, blob)".format(bstore.name, len(blob), TRANSACTION_BLOB_LIMIT)
        )
    digest = _digest(blob)
    uid = UUID(bytes=digest[:16])
    record = await _record(tx, bstore, uid)
    if record is not None:
        _check_same_content(bstore, uid, record, digest)
        await _hold(tx, bstore, uid, holder)
        return uid
    record = _Record(uuid4(), len(blob), _chunk_count(len(blob)), digest)
    await _write_chunks(tx, bstore, record.sid, blob)
    await found.set(tx, bstore.key("blob", uid), record.pack())
    await _hold(tx, bstore, uid, holder)
    return uid


async def get(tx: Transaction, bstore: BStore, uid: UUID) -> bytes:
    """Return the blob (bytes) stored under ``uid``; raise BStoreException
    when there is none or its content does not match its digest."""
    record = await _must_record(tx, bstore, uid)
    pieces = await _read_chunks(tx, bstore, record.sid)
    return _verify(bstore, uid, record, pieces)


async def release(tx: Transaction, bstore: BStore, uid: UUID, holder: Any) -> bool:
    """Clear ``holder``'s hold on the blob ``uid``; when it was the last
    holder, delete the blob (one range clear, whatever the size).  Return
    True while the blob stays stored, False once it is gone.

    Releasing what is not held (again, or never) changes nothing, so a
    retried release does not release twice and an unknown ``uid`` is not an
    error."""
    _check_uid(uid)
    _check_holder(bstore, holder)
    record = await _record(tx, bstore, uid)
    if record is None:
        return False
    key = bstore.key("holder", uid, holder)
    if await found.get(tx, key) is None:
        return True
    await found.clear(tx, key)
    if await _holders(tx, bstore, uid, limit=1):
        return True
    await _erase(tx, bstore, uid, record)
    return False


async def delete(tx: Transaction, bstore: BStore, uid: UUID) -> None:
    """Delete the blob ``uid`` now, with all its holders: for blobs stored
    without holders.  Whoever else stored or holds the same content loses
    it too; prefer ``release``.  Deleting an absent uid changes nothing (a
    retried delete is harmless)."""
    _check_uid(uid)
    record = await _record(tx, bstore, uid)
    if record is not None:
        await _erase(tx, bstore, uid, record)


async def holders(tx: Transaction, bstore: BStore, uid: UUID) -> List[Any]:
    """Return the list of holders of ``uid`` in key order (empty when it is
    not stored, or stored without holders)."""
    _check_uid(uid)
    return await _holders(tx, bstore, uid)


async def references(tx: Transaction, bstore: BStore, uid: UUID) -> int:
    """Return how many holders ``uid`` has (0 when it is not stored)."""
    return len(await holders(tx, bstore, uid))


# --- across transactions ----------------------------------------------------


async def _stage(tx, bstore, sid, first_index, chunks, started_at):
    marker = bstore.key("upload", sid)
    if first_index == 0:
        await found.set(tx, marker, found.pack((started_at,)))
    elif await found.get(tx, marker) is None:
        raise BStoreException("{}: upload {} was collected by gc before it finished".format(bstore.name, sid))
    for index, chunk in enumerate(chunks, first_index):
        await found.set(tx, bstore.key("chunk", sid, index), chunk)


async def _publish(tx, bstore, sid, uid, size, digest, holder):
    """Make the upload ``sid`` the blob ``uid``, or, if the content is
    stored already, hold that and drop the upload.  Idempotent: a retry
    that finds the record this very upload published is done."""
    record = await _record(tx, bstore, uid)
    if record is not None:
        _check_same_content(bstore, uid, record, digest)
        await _hold(tx, bstore, uid, holder)
        if record.sid != sid:  # the same content, stored by someone else
            await _discard_upload(tx, bstore, sid)
        return
    if await found.get(tx, bstore.key("upload", sid)) is None:
        raise BStoreException("{}: upload {} was collected by gc before it finished".format(bstore.name, sid))
    record = _Record(sid, size, _chunk_count(size), digest)
    await found.set(tx, bstore.key("blob", uid), record.pack())
    await found.clear(tx, bstore.key("upload", sid))
    await _hold(tx, bstore, uid, holder)


async def _discard_upload(tx, bstore, sid):
    """Clear the chunks of the upload ``sid`` if it is still unpublished
    (its marker exists): once published, or already discarded, the marker
    is gone and nothing is touched."""
    marker = bstore.key("upload", sid)
    if await found.get(tx, marker) is None:
        return False
    await found.clear(tx, *bstore.range("chunk", sid))
    await found.clear(tx, marker)
    return True


async def _hold_if_stored(tx, bstore, uid, digest, holder):
    record = await _record(tx, bstore, uid)
    if record is None:
        return False
    _check_same_content(bstore, uid, record, digest)
    await _hold(tx, bstore, uid, holder)
    return True


def _chunks_per_batch():
    return max(1, BATCH_BYTES // CHUNK_SIZE)


async def _batches_of_bytes(blob):
    """Lists of chunks of ``blob``, each list about BATCH_BYTES."""
    step = _chunks_per_batch() * CHUNK_SIZE
    for offset in range(0, len(blob), step):
        end = min(offset + step, len(blob))
        yield [blob[i : min(i + CHUNK_SIZE, end)] for i in range(offset, end, CHUNK_SIZE)]


async def _batches_of_stream(pieces, hasher, sizes):
    """Lists of chunks re-cut from ``pieces`` (bytes-like of any sizes),
    feeding ``hasher`` and appending each piece's size to ``sizes``."""
    per_batch = _chunks_per_batch()
    buffer = bytearray()
    batch = []
    async for piece in aiterate(pieces):
        if not isinstance(piece, (bytes, bytearray, memoryview)):
            raise BStoreException("pieces of a blob must be bytes, got {}".format(type(piece).__name__))
        hasher.update(piece)
        sizes.append(len(piece))
        buffer += piece
        while len(buffer) >= CHUNK_SIZE:
            batch.append(bytes(buffer[:CHUNK_SIZE]))
            del buffer[:CHUNK_SIZE]
            if len(batch) == per_batch:
                yield batch
                batch = []
    if buffer:
        batch.append(bytes(buffer))
    if batch:
        yield batch


async def _upload(db, bstore, batches):
    """Stage the chunks of ``batches`` under a fresh sid, one transaction
    per batch; return the sid.  The first transaction writes the marker."""
    sid = uuid4()
    started_at = time.time()
    index = 0
    try:
        async for chunks in batches:
            await found.transactional(db, _stage, bstore, sid, index, chunks, started_at)
            index += len(chunks)
        if index == 0:
            await found.transactional(db, _stage, bstore, sid, 0, [], started_at)
    except BaseException:
        await _abandon(db, bstore, sid)
        raise
    return sid


async def _abandon(db, bstore, sid):
    try:
        await found.transactional(db, _discard_upload, bstore, sid)
    except Exception:  # the original failure matters more; gc cleans up
        pass


async def _finish(db, bstore, sid, uid, size, digest, holder):
    try:
        await found.transactional(db, _publish, bstore, sid, uid, size, digest, holder)
    except BaseException:
        await _abandon(db, bstore, sid)
        raise
    return uid


async def put_large(
    db: Database,
    bstore: BStore,
    blob: Union[BytesLike, Iterable[BytesLike], AsyncIterable[BytesLike]],
    *,
    holder: Any = None,
) -> UUID:
    """Store ``blob`` and return its uid, like ``get_or_create`` (with its
    ``holder``) but of any size, over as many transactions of ``db`` as
    needed.

    ``blob`` is bytes-like, or an iterable or async iterable of bytes-like
    pieces (of any sizes) to store one after the other without holding the
    whole blob in memory.  The chunks are staged under a fresh sid, then
    one small transaction publishes the blob: readers never see part of it.
    Bytes already stored are only held (with a holder); a stream's
    duplicate is found at the end, and its staged copy dropped.  Every
    transaction is safe to retry.  On failure the staged chunks are cleared
    (if that fails too, ``gc`` removes them later).
    """
    if holder is not None:
        _check_holder(bstore, holder)
    if isinstance(blob, (bytes, bytearray, memoryview)):
        blob = _as_bytes(blob)
        digest = _digest(blob)
        uid = UUID(bytes=digest[:16])
        if await found.transactional(db, _hold_if_stored, bstore, uid, digest, holder):
            return uid
        sid = await _upload(db, bstore, _batches_of_bytes(blob))
        return await _finish(db, bstore, sid, uid, len(blob), digest, holder)
    if isinstance(blob, str) or not (hasattr(blob, "__aiter__") or hasattr(blob, "__iter__")):
        raise BStoreException("blob must be bytes or an iterable of bytes, got {}".format(type(blob).__name__))
    hasher = blake2b(digest_size=_DIGEST_SIZE)
    sizes = []
    sid = await _upload(db, bstore, _batches_of_stream(blob, hasher, sizes))
    digest = hasher.digest()
    return await _finish(db, bstore, sid, UUID(bytes=digest[:16]), sum(sizes), digest, holder)


async def stream(db: Database, bstore: BStore, uid: UUID) -> AsyncIterator[bytes]:
    """Yield the chunks (bytes) of the blob ``uid`` in order, reading about
    BATCH_BYTES per transaction of ``db``.  The content is checked as it
    goes and against the digest after the last chunk: a BStoreException
    then means the chunks already yielded must be discarded."""
    record = await found.transactional(db, _must_record, bstore, uid)
    hasher = blake2b(digest_size=_DIGEST_SIZE)
    index = size = 0
    while index < record.chunks:
        batch = await found.transactional(db, _read_chunks, bstore, record.sid, index, _chunks_per_batch())
        if [number for number, _ in batch] != list(range(index, index + len(batch))) or not batch:
            break  # a gap: deleted or damaged, reported below
        for _, chunk in batch:
            hasher.update(chunk)
            size += len(chunk)
            yield chunk
        index += len(batch)
    if index != record.chunks or size != record.size or hasher.digest() != record.digest:
        raise BStoreException("{}: blob uid={} does not match its digest (deleted or damaged)".format(bstore.name, uid))


async def get_large(db: Database, bstore: BStore, uid: UUID) -> bytes:
    """Return the blob stored under ``uid`` reading it over as many
    transactions of ``db`` as needed (chunks never change once published;
    a blob deleted meanwhile fails the check).  Raise BStoreException like
    ``get``."""
    return b"".join([chunk async for chunk in stream(db, bstore, uid)])


async def _stale_uploads(tx, bstore, deadline):
    begin, end = bstore.range("upload")
    skip = len(bstore.key("upload"))
    stale = []
    async for key, value in found.query(tx, begin, end):
        (started_at,) = found.unpack(value)
        if started_at <= deadline:
            (sid,) = found.unpack(key[skip:])
            stale.append(sid)
    return stale


async def _collect(tx, bstore, sid, deadline):
    value = await found.get(tx, bstore.key("upload", sid))
    if value is None or found.unpack(value)[0] > deadline:
        return False
    await _discard_upload(tx, bstore, sid)
    return True


async def gc(db: Database, bstore: BStore, *, older_than: float = 3600.0) -> int:
    """Remove the chunks of uploads started more than ``older_than`` seconds
    ago that never published (a crashed or failed ``put_large``); return how
    many uploads were removed (one whose removal committed but reported an
    unknown result is removed all the same, but not counted).  ``older_than=0`` also removes uploads still
    in progress, which then fail."""
    if isinstance(older_than, bool) or not isinstance(older_than, (int, float)) or older_than < 0:
        raise BStoreException("older_than must be a number >= 0, got {!r}".format(older_than))
    deadline = time.time() - older_than
    stale = await found.transactional(db, _stale_uploads, bstore, deadline)
    removed = 0
    for sid in stale:
        removed += await found.transactional(db, _collect, bstore, sid, deadline)
    return removed
