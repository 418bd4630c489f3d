"""bstore against an in-memory model: content addressing, reference
counts, blobs beyond the value and transaction limits, staging and gc,
verification on read, bad input."""
import asyncio
import random
import uuid
from hashlib import blake2b

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

import found
from found.ext import bstore
from found.ext.bstore import CHUNK_SIZE, BStoreException

from ext_support import PREFIX, AsyncMachine, attempt, reset, run_machine, snapshot, store_keys


def noise(size, seed=0):
    return random.Random(seed).randbytes(size)


BLOBS = [
    b"",
    b"x",
    b"hello world",
    bytes(CHUNK_SIZE),
    noise(CHUNK_SIZE + 1, 1),
    noise(2 * CHUNK_SIZE + 17, 2),
    noise(5 * CHUNK_SIZE, 3),
]


def expected_uid(blob):
    return uuid.UUID(bytes=blake2b(blob, digest_size=32).digest()[:16])


def classify(pairs):
    """Count the store's keys by kind: blob records, chunks, uploads."""
    kinds = {"blob": 0, "chunk": 0, "upload": 0}
    for key, _ in pairs:
        kinds[found.unpack(key)[len(PREFIX)]] += 1
    return kinds


def chunks_of(blob):
    return -(-len(blob) // CHUNK_SIZE)


# --- the state machine ----------------------------------------------------------


class BStoreMachine(AsyncMachine):
    """Random stores (in one transaction or staged), deletes and reads,
    compared with a dict uid -> (blob, references)."""

    @initialize()
    def start(self):
        self.run(reset(self.db))
        self.store = bstore.make("machine", PREFIX)
        self.model = {}

    def known(self):
        return st.sampled_from(sorted(self.model))

    @rule(blob=st.sampled_from(BLOBS), how=st.sampled_from(["transaction", "large", "stream"]), data=st.data())
    def put(self, blob, how, data):
        if how == "large":
            uid = self.run(bstore.put_large(self.db, self.store, blob))
        elif how == "stream":
            cuts = sorted(data.draw(st.lists(st.integers(0, len(blob)), max_size=4)))
            bounds = [0] + cuts + [len(blob)]
            pieces = [blob[a:b] for a, b in zip(bounds, bounds[1:])]
            uid = self.run(bstore.put_large(self.db, self.store, pieces))
        else:
            uid = self.tx(bstore.get_or_create, self.store, blob)
        assert uid == expected_uid(blob)
        old = self.model.get(uid, (blob, 0))
        self.model[uid] = (blob, old[1] + 1)

    @rule(data=st.data())
    def delete(self, data):
        if not self.model:
            return
        uid = data.draw(self.known())
        blob, refs = self.model[uid]
        assert self.tx(bstore.delete, self.store, uid) == refs - 1
        if refs == 1:
            del self.model[uid]
        else:
            self.model[uid] = (blob, refs - 1)

    @rule(blob=st.sampled_from(BLOBS))
    def unknown_uid(self, blob):
        uid = expected_uid(blob)
        if uid in self.model:
            return
        before = self.run(snapshot(self.db))
        for call in (bstore.get, bstore.delete):
            error = self.run(attempt(self.db, call, self.store, uid, exception=BStoreException))
            assert isinstance(error, BStoreException) and "no blob" in str(error)
        assert self.run(snapshot(self.db)) == before
        assert self.tx(bstore.references, self.store, uid) == 0

    @rule(data=st.data(), large=st.booleans())
    def read(self, data, large):
        if not self.model:
            return
        uid = data.draw(self.known())
        if large:
            got = self.run(bstore.get_large(self.db, self.store, uid))
        else:
            got = self.tx(bstore.get, self.store, uid)
        assert got == self.model[uid][0]

    @invariant()
    def contents(self):
        for uid, (_, refs) in self.model.items():
            assert self.tx(bstore.references, self.store, uid) == refs
        kinds = classify(store_keys(self.run(snapshot(self.db))))
        assert kinds == {
            "blob": len(self.model),
            "chunk": sum(chunks_of(blob) for blob, _ in self.model.values()),
            "upload": 0,
        }


def test_bstore_machine(tmp_path, monkeypatch):
    # Two chunks per staging transaction, so put_large spans several.
    monkeypatch.setattr(bstore, "BATCH_BYTES", 2 * CHUNK_SIZE)
    run_machine(BStoreMachine, tmp_path, examples=40, steps=25)


# --- content addressing ---------------------------------------------------------


async def test_same_bytes_twice_same_uid_and_no_blob_data_written(db):
    store = bstore.make("dedup", PREFIX)
    await reset(db)
    blob = noise(3 * CHUNK_SIZE + 5)
    first = await found.transactional(db, bstore.get_or_create, store, blob)
    assert first == expected_uid(blob)
    before = store_keys(await snapshot(db))
    second = await found.transactional(db, bstore.get_or_create, store, bytearray(blob))
    after = store_keys(await snapshot(db))
    assert second == first
    assert [key for key, _ in after] == [key for key, _ in before]
    changed = [key for (key, old), (_, new) in zip(before, after) if old != new]
    assert changed == [found.pack(PREFIX + ("blob", first))]
    assert await found.transactional(db, bstore.references, store, first) == 2
    assert bstore.uid_of(blob) == first


async def test_delete_keeps_the_content_for_other_references(db):
    store = bstore.make("refs", PREFIX)
    await reset(db)
    blob = noise(CHUNK_SIZE * 2)
    uid = await found.transactional(db, bstore.get_or_create, store, blob)
    assert await bstore.put_large(db, store, blob) == uid
    other = await found.transactional(db, bstore.get_or_create, store, b"other")
    assert await found.transactional(db, bstore.delete, store, uid) == 1
    assert await found.transactional(db, bstore.get, store, uid) == blob
    assert await found.transactional(db, bstore.delete, store, uid) == 0
    error = await attempt(db, bstore.get, store, uid, exception=BStoreException)
    assert isinstance(error, BStoreException)
    assert await found.transactional(db, bstore.get, store, other) == b"other"
    assert classify(store_keys(await snapshot(db))) == {"blob": 1, "chunk": 1, "upload": 0}


# --- beyond the limits ----------------------------------------------------------


async def test_blob_far_beyond_the_transaction_limit(db, monkeypatch):
    store = bstore.make("large", PREFIX)
    await reset(db)
    blob = noise(25_000_000, 4)
    with pytest.raises(BStoreException, match="put_large"):
        await found.transactional(db, bstore.get_or_create, store, blob)

    sizes = []
    stage = bstore._stage

    async def measured_stage(tx, *args):
        await stage(tx, *args)
        sizes.append(await found.get_approximate_size(tx))

    monkeypatch.setattr(bstore, "_stage", measured_stage)
    uid = await bstore.put_large(db, store, blob)
    assert uid == expected_uid(blob)
    assert len(sizes) >= 7 and max(sizes) < 10_000_000
    assert await bstore.get_large(db, store, uid) == blob
    kinds = classify(store_keys(await snapshot(db)))
    assert kinds == {"blob": 1, "chunk": chunks_of(blob), "upload": 0}
    assert await found.transactional(db, bstore.delete, store, uid) == 0
    assert store_keys(await snapshot(db)) == []


async def test_staged_chunks_are_invisible_until_published(db, monkeypatch):
    store = bstore.make("staging", PREFIX)
    await reset(db)
    monkeypatch.setattr(bstore, "BATCH_BYTES", CHUNK_SIZE)
    blob = noise(3 * CHUNK_SIZE, 5)
    uid = expected_uid(blob)
    seen = []
    stage = bstore._stage

    async def observed_stage(tx, *args):
        await stage(tx, *args)
        seen.append(await attempt(db, bstore.get, store, uid, exception=BStoreException))

    monkeypatch.setattr(bstore, "_stage", observed_stage)
    assert await bstore.put_large(db, store, blob) == uid
    assert len(seen) == 3 and all(isinstance(e, BStoreException) for e in seen)
    assert await found.transactional(db, bstore.get, store, uid) == blob


async def test_publish_finds_the_same_content_stored_meanwhile(db, monkeypatch):
    store = bstore.make("race", PREFIX)
    await reset(db)
    blob = noise(2 * CHUNK_SIZE, 6)
    publish = bstore._publish

    async def late_publish(tx, *args):
        await found.transactional(db, bstore.get_or_create, store, blob)
        await publish(tx, *args)

    monkeypatch.setattr(bstore, "_publish", late_publish)
    uid = await bstore.put_large(db, store, blob)
    assert await found.transactional(db, bstore.references, store, uid) == 2
    assert classify(store_keys(await snapshot(db))) == {"blob": 1, "chunk": 2, "upload": 0}


class Boom(Exception):
    pass


def failing_on(calls):
    """A replacement for bstore._stage failing on the ``calls``-th call."""
    stage = bstore._stage
    count = []

    async def flaky(tx, *args):
        count.append(1)
        if len(count) == calls:
            raise Boom("injected failure")
        await stage(tx, *args)

    return flaky


async def test_failed_upload_rolls_back(db, monkeypatch):
    store = bstore.make("rollback", PREFIX)
    await reset(db)
    monkeypatch.setattr(bstore, "BATCH_BYTES", CHUNK_SIZE)
    monkeypatch.setattr(bstore, "_stage", failing_on(3))
    with pytest.raises(Boom):
        await bstore.put_large(db, store, noise(5 * CHUNK_SIZE, 7))
    assert store_keys(await snapshot(db)) == []


async def test_gc_removes_what_a_failed_rollback_left(db, monkeypatch):
    store = bstore.make("gc", PREFIX)
    await reset(db)
    monkeypatch.setattr(bstore, "BATCH_BYTES", CHUNK_SIZE)
    monkeypatch.setattr(bstore, "_stage", failing_on(3))

    async def no_discard(tx, *args):
        raise Boom("rollback failed too")

    monkeypatch.setattr(bstore, "_discard_upload", no_discard)
    blob = noise(5 * CHUNK_SIZE, 8)
    with pytest.raises(Boom):
        await bstore.put_large(db, store, blob)
    monkeypatch.undo()
    assert classify(store_keys(await snapshot(db))) == {"blob": 0, "chunk": 2, "upload": 1}
    error = await attempt(db, bstore.get, store, expected_uid(blob), exception=BStoreException)
    assert isinstance(error, BStoreException)
    assert await bstore.gc(db, store) == 0  # younger than the default grace period
    assert await bstore.gc(db, store, older_than=0) == 1
    assert store_keys(await snapshot(db)) == []


async def test_upload_collected_midway_fails(db, monkeypatch):
    store = bstore.make("collected", PREFIX)
    await reset(db)
    monkeypatch.setattr(bstore, "BATCH_BYTES", CHUNK_SIZE)
    stage = bstore._stage
    calls = []

    async def collected_after_first(tx, *args):
        calls.append(1)
        if len(calls) == 2:
            await bstore.gc(db, store, older_than=0)
        await stage(tx, *args)

    monkeypatch.setattr(bstore, "_stage", collected_after_first)
    with pytest.raises(BStoreException, match="collected by gc"):
        await bstore.put_large(db, store, noise(3 * CHUNK_SIZE, 9))
    assert store_keys(await snapshot(db)) == []


async def pieces_of(blob, sizes):
    offset = 0
    for size in sizes:
        yield memoryview(blob)[offset:offset + size]
        offset += size
    yield blob[offset:]


async def test_put_large_from_a_stream_of_uneven_pieces(db, monkeypatch):
    store = bstore.make("stream", PREFIX)
    await reset(db)
    monkeypatch.setattr(bstore, "BATCH_BYTES", 3 * CHUNK_SIZE)
    blob = noise(7 * CHUNK_SIZE + 3, 13)
    sizes = [1, CHUNK_SIZE - 1, CHUNK_SIZE + 5, 0, 3 * CHUNK_SIZE, 17]
    uid = await bstore.put_large(db, store, pieces_of(blob, sizes))
    assert uid == expected_uid(blob)
    assert await found.transactional(db, bstore.get, store, uid) == blob
    chunks = [chunk async for chunk in bstore.stream(db, store, uid)]
    assert b"".join(chunks) == blob and {len(c) for c in chunks[:-1]} == {CHUNK_SIZE}
    # The same content again, streamed: one more reference, no second copy.
    assert await bstore.put_large(db, store, [blob[:10], blob[10:]]) == uid
    assert await found.transactional(db, bstore.references, store, uid) == 2
    assert classify(store_keys(await snapshot(db))) == {"blob": 1, "chunk": 8, "upload": 0}
    assert await bstore.put_large(db, store, iter([])) == expected_uid(b"")
    assert await found.transactional(db, bstore.get, store, expected_uid(b"")) == b""


async def test_a_bad_piece_abandons_the_upload(db):
    store = bstore.make("bad-piece", PREFIX)
    await reset(db)

    async def pieces():
        yield noise(2 * CHUNK_SIZE, 14)
        yield noise(5 * CHUNK_SIZE, 15)
        yield "not bytes"

    with pytest.raises(BStoreException, match="pieces of a blob must be bytes, got str"):
        await bstore.put_large(db, store, pieces())
    assert store_keys(await snapshot(db)) == []


# --- verification on read -------------------------------------------------------


async def _record(tx, store, uid):
    return found.unpack(await found.get(tx, found.pack(PREFIX + ("blob", uid))))


@pytest.mark.parametrize("damage", ["flip", "drop", "extra", "size", "record"])
async def test_damaged_content_is_refused(db, damage):
    store = bstore.make("damage", PREFIX)
    await reset(db)
    blob = noise(3 * CHUNK_SIZE, 10)
    uid = await found.transactional(db, bstore.get_or_create, store, blob)
    sid, size, chunks, digest, refs = await found.transactional(db, _record, store, uid)

    async def spoil(tx):
        if damage == "flip":
            await found.set(tx, found.pack(PREFIX + ("chunk", sid, 1)), noise(CHUNK_SIZE, 11))
        elif damage == "drop":
            await found.clear(tx, found.pack(PREFIX + ("chunk", sid, 2)))
        elif damage == "extra":
            await found.set(tx, found.pack(PREFIX + ("chunk", sid, 3)), b"tail")
        elif damage == "size":
            record = found.pack((sid, size - 1, chunks, digest, refs))
            await found.set(tx, found.pack(PREFIX + ("blob", uid)), record)
        else:
            await found.set(tx, found.pack(PREFIX + ("blob", uid)), b"\x02garbage")

    await found.transactional(db, spoil)
    error = await attempt(db, bstore.get, store, uid, exception=BStoreException)
    assert isinstance(error, BStoreException) and str(uid) in str(error)
    with pytest.raises(BStoreException):
        await bstore.get_large(db, store, uid)
    with pytest.raises(BStoreException):
        async for _ in bstore.stream(db, store, uid):
            pass


# --- bad input ------------------------------------------------------------------


async def test_bad_input_raises_and_writes_nothing(db):
    store = bstore.make("bad", PREFIX)
    await reset(db)
    await found.transactional(db, bstore.get_or_create, store, b"kept")
    before = await snapshot(db)
    unknown = uuid.UUID(int=1)
    calls = [
        ("blob is str", lambda tx: bstore.get_or_create(tx, store, "text")),
        ("blob is None", lambda tx: bstore.get_or_create(tx, store, None)),
        ("uid is str", lambda tx: bstore.get(tx, store, str(unknown))),
        ("uid is bytes", lambda tx: bstore.get(tx, store, unknown.bytes)),
        ("unknown uid", lambda tx: bstore.get(tx, store, unknown)),
        ("delete unknown", lambda tx: bstore.delete(tx, store, unknown)),
        ("delete bad uid", lambda tx: bstore.delete(tx, store, 42)),
        ("references bad uid", lambda tx: bstore.references(tx, store, "x")),
    ]
    for description, call in calls:
        error = await attempt(db, call, exception=BStoreException)
        assert isinstance(error, BStoreException), description
        assert await snapshot(db) == before, description
    for bad in (-1, "1", None, True):
        with pytest.raises(BStoreException, match="older_than"):
            await bstore.gc(db, store, older_than=bad)
    with pytest.raises(BStoreException, match="pieces of a blob must be bytes"):
        await bstore.put_large(db, store, ["not", "bytes"])
    for bad in ("text", 42, None):
        with pytest.raises(BStoreException, match="blob must be bytes or an iterable"):
            await bstore.put_large(db, store, bad)
    with pytest.raises(BStoreException, match="no blob"):
        await bstore.get_large(db, store, unknown)
    assert await snapshot(db) == before


@pytest.mark.parametrize("name, prefix", [(1, PREFIX), ("n", ["s"]), ("n", (object(),))])
def test_bad_handle(name, prefix):
    with pytest.raises(BStoreException):
        bstore.make(name, prefix)


async def test_concurrent_stores_of_the_same_content_keep_one_copy(db):
    store = bstore.make("concurrent", PREFIX)
    await reset(db)
    blob = noise(3 * CHUNK_SIZE, 12)
    uids = await asyncio.gather(
        *(found.transactional(db, bstore.get_or_create, store, blob) for _ in range(4))
    )
    assert set(uids) == {expected_uid(blob)}
    assert await found.transactional(db, bstore.references, store, uids[0]) == 4
    assert classify(store_keys(await snapshot(db))) == {"blob": 1, "chunk": 3, "upload": 0}


async def test_contents_sharing_a_uid_are_refused(db, monkeypatch):
    store = bstore.make("collision", PREFIX)
    await reset(db)
    real = bstore._digest
    # A digest whose first 16 bytes (the uid) ignore the content.
    monkeypatch.setattr(bstore, "_digest", lambda blob: bytes(16) + real(blob)[16:])
    await found.transactional(db, bstore.get_or_create, store, b"one")
    before = await snapshot(db)
    error = await attempt(db, bstore.get_or_create, store, b"two", exception=BStoreException)
    assert isinstance(error, BStoreException) and "collision" in str(error)
    with pytest.raises(BStoreException, match="collision"):
        await bstore.put_large(db, store, b"two")
    assert await snapshot(db) == before
